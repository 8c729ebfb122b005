//! The conformance suite on a real HDFS (MiniDFSCluster from `scripts/start-hdfs.sh`) over
//! both transports, plus the HDFS layout: where files land, cross-transport reads, path
//! traversal, corrupt files.
//!
//! URLs: `RECORDSTORE_HDFS_URL` (default `hdfs://127.0.0.1:9000/recordstore-test`) and
//! `RECORDSTORE_WEBHDFS_URL` (default `webhdfs://127.0.0.1:9870/recordstore-test`). These
//! tests fail, not skip, when HDFS is unreachable.
#![cfg(feature = "hdfs")]

mod conformance;

use conformance::{schema, Store};
use recordstore::backends::hdfs::{layout, HdfsStore};
use recordstore::connection::ConnectionMode;
use recordstore::{ErrorKind, Filter, KeyValueStore, KeyValueStoreExt, OpenOptions, SchemaName};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

fn native_url() -> String {
    std::env::var("RECORDSTORE_HDFS_URL")
        .unwrap_or_else(|_| "hdfs://127.0.0.1:9000/recordstore-test".into())
}

fn web_url() -> String {
    std::env::var("RECORDSTORE_WEBHDFS_URL")
        .unwrap_or_else(|_| "webhdfs://127.0.0.1:9870/recordstore-test".into())
}

async fn open_url(url: &str, mode: Option<ConnectionMode>) -> Store {
    let options = OpenOptions {
        mode,
        ..OpenOptions::default()
    };
    match recordstore::open_with(url, &options).await {
        Ok(store) => store,
        Err(e) => panic!("HDFS at {url} is unreachable ({e}); start it with scripts/start-hdfs.sh"),
    }
}

mod native {
    use super::*;
    async fn open() -> Store {
        open_url(&native_url(), None).await
    }
    conformance_tests!(open);
}

mod webhdfs {
    use super::*;
    async fn open() -> Store {
        open_url(&web_url(), None).await
    }
    conformance_tests!(open);
}

/// The native transport through a pool rather than one shared client.
mod native_pooled {
    use super::*;
    async fn open() -> Store {
        open_url(&native_url(), Some(ConnectionMode::Pooled)).await
    }
    conformance_tests!(open);
}

/// Raw WebHDFS calls, bypassing recordstore, to see what is really on HDFS.
struct Raw {
    http: reqwest::Client,
    origin: String,
}

impl Raw {
    fn new() -> Self {
        let u = url::Url::parse(&web_url()).unwrap();
        Raw {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            origin: format!(
                "http://{}:{}",
                u.host_str().unwrap(),
                u.port().unwrap_or(9870)
            ),
        }
    }

    fn url(&self, path: &str, op: &str) -> String {
        const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'/')
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let path = percent_encoding::utf8_percent_encode(path, PATH);
        format!("{}/webhdfs/v1{path}?op={op}&user.name=root", self.origin)
    }

    /// Names in a directory; `None` if it does not exist.
    async fn list(&self, dir: &str) -> Option<BTreeSet<String>> {
        let resp = self
            .http
            .get(self.url(dir, "LISTSTATUS"))
            .send()
            .await
            .unwrap();
        if resp.status() == 404 {
            return None;
        }
        let v: Value = resp.json().await.unwrap();
        Some(
            v["FileStatuses"]["FileStatus"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["pathSuffix"].as_str().unwrap().to_string())
                .collect(),
        )
    }

    async fn read(&self, path: &str) -> Vec<u8> {
        let resp = self.http.get(self.url(path, "OPEN")).send().await.unwrap();
        assert_eq!(resp.status(), 307, "OPEN {path}");
        let loc = resp.headers()["location"].to_str().unwrap().to_string();
        self.http
            .get(loc)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    }

    async fn write(&self, path: &str, data: &[u8]) {
        let resp = self
            .http
            .put(self.url(path, "CREATE") + "&overwrite=true")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 307, "CREATE {path}");
        let loc = resp.headers()["location"].to_str().unwrap().to_string();
        let resp = self.http.put(loc).body(data.to_vec()).send().await.unwrap();
        assert_eq!(resp.status(), 201, "CREATE {path} at the DataNode");
    }
}

fn base_path(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .path()
        .trim_end_matches('/')
        .to_string()
}

fn s(name: &str) -> SchemaName<'_> {
    SchemaName::new(name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_sit_at_base_schema_key_json_and_both_transports_share_them() {
    let (native, web) = (
        open_url(&native_url(), None).await,
        open_url(&web_url(), None).await,
    );
    assert_eq!(
        base_path(&native_url()),
        base_path(&web_url()),
        "tests need one base path"
    );
    let base = base_path(&native_url());
    let sc = schema("layout");
    native
        .insert(&sc, "plain-key_1.x", &json!({"by": "native"}))
        .await
        .unwrap();
    native
        .insert(&sc, "a/b", &json!({"by": "native", "unsafe": true}))
        .await
        .unwrap();
    web.insert(&sc, "from-web", &json!({"by": "web"}))
        .await
        .unwrap();
    web.insert(&sc, "..", &json!({"by": "web", "dots": true}))
        .await
        .unwrap();

    // Each transport reads what the other wrote.
    let v: Value = web.get(&sc, "plain-key_1.x").await.unwrap();
    assert_eq!(v, json!({"by": "native"}));
    let v: Value = web.get(&sc, "a/b").await.unwrap();
    assert_eq!(v["unsafe"], json!(true));
    let v: Value = native.get(&sc, "from-web").await.unwrap();
    assert_eq!(v, json!({"by": "web"}));
    let v: Value = native.get(&sc, "..").await.unwrap();
    assert_eq!(v["dots"], json!(true));
    assert_eq!(native.count_in(&sc).await.unwrap(), 4);
    assert_eq!(web.count_in(&sc).await.unwrap(), 4);

    // Exactly these files, at exactly these names, no temporary files left behind.
    let raw = Raw::new();
    let dir = format!("{base}/{sc}");
    let names = raw.list(&dir).await.unwrap();
    let expected: BTreeSet<String> = [
        "plain-key_1.x.json".to_string(),
        format!("~{}.json", "YS9i"),
        "from-web.json".to_string(),
        "~Li4.json".to_string(),
    ]
    .into_iter()
    .collect();
    assert_eq!(names, expected);
    assert_eq!(layout::file_name("a/b"), "~YS9i.json");
    // The file is the record's JSON text.
    let text = raw.read(&format!("{dir}/plain-key_1.x.json")).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&text).unwrap(),
        json!({"by": "native"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_written_by_other_programs_are_read() {
    // The seed wrote `{key}.json` files; a safe key's file is exactly that name.
    let store = open_url(&web_url(), None).await;
    let base = base_path(&web_url());
    let sc = schema("legacy");
    let raw = Raw::new();
    raw.write(
        &format!("{base}/{sc}/legacy-1.json"),
        br#"{"status":"done"}"#,
    )
    .await;
    raw.write(&format!("{base}/{sc}/notes.txt"), b"not a record")
        .await;
    raw.write(&format!("{base}/{sc}/.legacy-2.json.tmp-1"), b"{\"half")
        .await;
    let native = open_url(&native_url(), None).await;
    for st in [&store, &native] {
        let v: Value = st.get(&sc, "legacy-1").await.unwrap();
        assert_eq!(v, json!({"status": "done"}));
        assert_eq!(
            st.count_in(&sc).await.unwrap(),
            1,
            "temporary and non-JSON files are not records"
        );
        let all = st.filter_record(s(&sc), &Filter::all()).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].0, "legacy-1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_keys_stay_inside_the_schema_directory() {
    let store = open_url(&native_url(), None).await;
    let base = base_path(&native_url());
    let parent = match base.rsplit_once('/') {
        Some(("", _)) | None => "/".to_string(),
        Some((p, _)) => p.to_string(),
    };
    let raw = Raw::new();
    let before = raw.list(&parent).await.unwrap();
    let sc = schema("traversal");
    let keys = [
        "../../x",
        "..",
        ".",
        "../escape",
        "/abs",
        "../../../../../../tmp/x",
        "a/../../b",
    ];
    for key in keys {
        store.insert(&sc, key, &json!({"key": key})).await.unwrap();
    }
    // Nothing new next to the base path, nothing new in the base path but the schema.
    let after = raw.list(&parent).await.unwrap();
    let base_name = base.rsplit('/').next().unwrap().to_string();
    let new: Vec<_> = after
        .difference(&before)
        .filter(|n| **n != base_name)
        .collect();
    assert!(new.is_empty(), "entries appeared next to {base}: {new:?}");
    assert!(raw.list(&format!("{base}/x")).await.is_none());
    assert!(raw.list(&format!("{base}/escape")).await.is_none());
    // Every key is one encoded file in the schema directory.
    let names = raw.list(&format!("{base}/{sc}")).await.unwrap();
    assert_eq!(names.len(), keys.len());
    for key in keys {
        let name = layout::file_name(key);
        assert!(
            name.starts_with('~') && names.contains(&name),
            "{key} -> {name}: {names:?}"
        );
        let v: Value = store.get(&sc, key).await.unwrap();
        assert_eq!(v["key"], json!(key));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_records_are_errors_naming_them_and_foreign_files_are_skipped() {
    let base = base_path(&web_url());
    let raw = Raw::new();
    for url in [native_url(), web_url()] {
        let store = open_url(&url, None).await;
        let sc = schema("corrupt");
        store
            .insert(&sc, "good", &json!({"status": "done"}))
            .await
            .unwrap();
        raw.write(&format!("{base}/{sc}/bad.json"), b"{not json")
            .await;
        let e = store.get::<Value>(&sc, "bad").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{url}: {e}");
        assert!(e.to_string().contains("\"bad\""), "{e}");
        assert!(e.to_string().contains(&format!("{sc}/bad.json")), "{e}");
        for f in [Filter::all(), Filter::parse_args(&["status=done"]).unwrap()] {
            let e = store.filter_record(s(&sc), &f).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{url}: {e}");
            assert!(e.to_string().contains("\"bad\""), "{e}");
        }
        let v: Value = store.get(&sc, "good").await.unwrap();
        assert_eq!(v["status"], "done");

        // Names no record explains are skipped, not errors; a `~` name that encodes nothing
        // is a key the peer wrote verbatim.
        let sc2 = schema("foreign");
        store.insert(&sc2, "good", &json!({})).await.unwrap();
        for name in ["~!!.json", "..json", ".json", "x/...json"] {
            raw.write(&format!("{base}/{sc2}/{name}"), b"{}").await;
        }
        raw.write(&format!("{base}/{sc2}/.good.json.tmp"), b"{}")
            .await;
        raw.write(&format!("{base}/{sc2}/notes.txt"), b"x").await;
        assert_eq!(
            conformance::filtered_keys(&*store, &sc2, &Filter::all()).await,
            vec!["good", "~!!"],
            "{url}"
        );
        // count reads no file: as HLEN or COUNT(*), corrupt records count; temporary and
        // foreign files do not, as filter does not list them.
        assert_eq!(store.count(s(&sc)).await.unwrap(), 2, "{url}");
        assert_eq!(store.count(s(&sc2)).await.unwrap(), 2, "{url}");
    }
}

/// Collects the events of a scope: the store's warnings about foreign files.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<String>>>);

impl tracing::Subscriber for Captured {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        *m.level() <= tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={v:?} ", f.name()));
            }
            fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
                self.0.push_str(&format!("{}={v} ", f.name()));
            }
        }
        let mut text = Text(format!("{} ", event.metadata().level()));
        event.record(&mut text);
        self.0.lock().unwrap().push(text.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_files_are_warned_about_with_their_path() {
    use tracing::instrument::WithSubscriber;
    let raw = Raw::new();
    for url in [native_url(), web_url()] {
        let (store, base) = fresh(&url, "warn").await;
        store.insert("s", "good", &json!({})).await.unwrap();
        raw.write(&format!("{base}/s/notes.txt"), b"x").await;
        raw.write(&format!("{base}/s/x/..json"), b"{}").await;
        let captured = Captured::default();
        let all = store
            .filter_record(s("s"), &Filter::all())
            .with_subscriber(captured.clone())
            .await
            .unwrap();
        assert_eq!(all.len(), 1, "{url}");
        let events = captured.0.lock().unwrap().clone();
        for path in [format!("{base}/s/notes.txt"), format!("{base}/s/x/..json")] {
            assert!(
                events
                    .iter()
                    .any(|e| e.starts_with("WARN") && e.contains(&format!("path={path} "))),
                "{url}: no warning naming {path}: {events:?}"
            );
        }
        // Once per path: count, listing the same files, does not warn again.
        let again = Captured::default();
        let n = store
            .count(s("s"))
            .with_subscriber(again.clone())
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert!(again.0.lock().unwrap().is_empty(), "{:?}", again.0);
    }
}

/// A store whose base path no other test (or process) uses, on the transport of `url`, and
/// that base path.
async fn fresh(url: &str, name: &str) -> (Store, String) {
    let sub = schema(name);
    let store = open_url(&format!("{url}/{sub}"), None).await;
    (store, format!("{}/{sub}", base_path(url)))
}

async fn names(raw: &Raw, dir: &str) -> Vec<String> {
    raw.list(dir)
        .await
        .unwrap_or_default()
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_are_valid_file_names_are_stored_verbatim() {
    let raw = Raw::new();
    let keys = [
        "p0", "über", "a b", ".hidden", "q?a=1#f", "per%cent", "🙂", " ", "a.json", "x/y", "a:b",
        "~cDA", "..",
    ];
    let sub = schema("verbatim");
    let native = open_url(&format!("{}/{sub}", native_url()), None).await;
    let web = open_url(&format!("{}/{sub}", web_url()), None).await;
    let base = format!("{}/{sub}", base_path(&web_url()));
    // Half the keys through each transport; each reads what the other wrote.
    for (i, key) in keys.iter().enumerate() {
        let st = if i % 2 == 0 { &native } else { &web };
        st.insert("s", key, &json!({"key": key})).await.unwrap();
    }
    let mut expected: Vec<String> = [
        "p0.json",
        "über.json",
        "a b.json",
        ".hidden.json",
        "q?a=1#f.json",
        "per%cent.json",
        "🙂.json",
        " .json",
        "a.json.json",
        "~eC95.json",
        "~YTpi.json",
        "~fmNEQQ.json",
        "~Li4.json",
    ]
    .iter()
    .map(|n| n.to_string())
    .collect();
    expected.sort();
    assert_eq!(names(&raw, &format!("{base}/s")).await, expected);
    for st in [&native, &web] {
        for key in keys {
            let v: Value = st.get("s", key).await.unwrap();
            assert_eq!(v["key"], json!(key));
            assert!(st.contains("s", key).await.unwrap(), "{key}");
        }
        assert_eq!(st.count_in("s").await.unwrap(), keys.len() as u64);
        let mut sorted: Vec<&str> = keys.to_vec();
        sorted.sort();
        assert_eq!(
            conformance::filtered_keys(&**st, "s", &Filter::all()).await,
            sorted
        );
    }
    // The file holds the record's JSON text, as the peer's does.
    let text = raw.read(&format!("{base}/s/über.json")).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&text).unwrap(),
        json!({"key": "über"})
    );
    for key in keys {
        web.update("s", key, &json!({"v": 2})).await.unwrap();
        native.delete("s", key).await.unwrap();
        assert!(!web.contains("s", key).await.unwrap(), "{key}");
    }
    assert!(names(&raw, &format!("{base}/s")).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_written_by_the_previous_version_still_works() {
    let raw = Raw::new();
    for url in [native_url(), web_url()] {
        let (store, base) = fresh(&url, "legacy").await;
        let dir = format!("{base}/s");
        // What the previous version wrote for these keys.
        raw.write(
            &format!("{dir}/~w7xiZXI.json"),
            r#"{"k":"über"}"#.as_bytes(),
        )
        .await;
        raw.write(&format!("{dir}/~YSBi.json"), br#"{"k":"a b"}"#)
            .await;
        raw.write(&format!("{dir}/~YS9i.json"), br#"{"k":"a/b"}"#)
            .await;
        raw.write(&format!("{dir}/p0.json"), br#"{"k":"p0"}"#).await;
        for key in ["über", "a b", "a/b", "p0"] {
            let v: Value = store.get("s", key).await.unwrap();
            assert_eq!(v["k"], json!(key), "{url}");
            assert!(store.contains("s", key).await.unwrap());
        }
        assert_eq!(store.count_in("s").await.unwrap(), 4, "{url}");
        assert_eq!(
            conformance::filtered_keys(&*store, "s", &Filter::all()).await,
            vec!["a b", "a/b", "p0", "über"]
        );
        // Insert sees the old name; update rewrites it in place; nothing moves.
        let e = store.insert("s", "über", &json!({})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{url}: {e}");
        store
            .update("s", "über", &json!({"k": "über", "v": 2}))
            .await
            .unwrap();
        let v: Value = store.get("s", "über").await.unwrap();
        assert_eq!(v["v"], json!(2));
        assert_eq!(
            names(&raw, &dir).await,
            vec!["p0.json", "~YS9i.json", "~YSBi.json", "~w7xiZXI.json"],
            "{url}"
        );
        // Delete removes the old name; a new insert then writes the verbatim one.
        store.delete("s", "über").await.unwrap();
        assert!(!store.contains("s", "über").await.unwrap());
        store
            .insert("s", "über", &json!({"new": true}))
            .await
            .unwrap();
        assert!(names(&raw, &dir).await.contains(&"über.json".to_string()));
        assert!(!names(&raw, &dir)
            .await
            .contains(&"~w7xiZXI.json".to_string()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_names_of_one_key_are_one_record() {
    let raw = Raw::new();
    for url in [native_url(), web_url()] {
        let (store, base) = fresh(&url, "twice").await;
        let dir = format!("{base}/s");
        // The previous version wrote `über`, then the peer (which never looks at `~…`) did.
        raw.write(&format!("{dir}/~w7xiZXI.json"), br#"{"by":"old"}"#)
            .await;
        raw.write(&format!("{dir}/über.json"), br#"{"by":"peer"}"#)
            .await;
        // The same for `x/y`: our encoded name, and the peer's subdirectory.
        raw.write(&format!("{dir}/~eC95.json"), br#"{"by":"old"}"#)
            .await;
        raw.write(&format!("{dir}/x/y.json"), br#"{"by":"peer"}"#)
            .await;
        // The first candidate is the record: the verbatim name, then the encoded one.
        let v: Value = store.get("s", "über").await.unwrap();
        assert_eq!(v["by"], "peer", "{url}");
        let v: Value = store.get("s", "x/y").await.unwrap();
        assert_eq!(v["by"], "old", "{url}");
        assert_eq!(store.count_in("s").await.unwrap(), 2, "{url}");
        let all = store.filter_record(s("s"), &Filter::all()).await.unwrap();
        let mut got: Vec<(String, Value)> =
            all.into_iter().map(|(k, d)| (k, d.into_value())).collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            vec![
                ("x/y".to_string(), json!({"by": "old"})),
                ("über".to_string(), json!({"by": "peer"})),
            ],
            "{url}"
        );
        // update rewrites the record that get returns.
        store
            .update("s", "über", &json!({"by": "us"}))
            .await
            .unwrap();
        let v: Value = store.get("s", "über").await.unwrap();
        assert_eq!(v["by"], "us");
        let old = raw.read(&format!("{dir}/~w7xiZXI.json")).await;
        assert_eq!(old, br#"{"by":"old"}"#);
        // delete removes every name: the shadowed record does not come back.
        for key in ["über", "x/y"] {
            store.delete("s", key).await.unwrap();
            assert!(!store.contains("s", key).await.unwrap(), "{url}: {key}");
            let e = store.delete("s", key).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotFound);
        }
        assert_eq!(store.count_in("s").await.unwrap(), 0);
        assert!(names(&raw, &dir).await.iter().all(|n| n == "x"), "{url}");
        assert!(names(&raw, &format!("{dir}/x")).await.is_empty(), "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_the_peer_stored_in_subdirectories_are_read_back() {
    let raw = Raw::new();
    for url in [native_url(), web_url()] {
        let (store, base) = fresh(&url, "subdirs").await;
        let dir = format!("{base}/s");
        raw.write(&format!("{dir}/top.json"), br#"{"n":0}"#).await;
        raw.write(&format!("{dir}/x/y.json"), br#"{"n":1}"#).await;
        raw.write(&format!("{dir}/x/z/w.json"), br#"{"n":2}"#).await;
        raw.write(&format!("{dir}/ü b/c.json"), br#"{"n":3}"#).await;
        raw.write(&format!("{dir}/x/notes.txt"), b"stray").await;
        let keys = ["top", "x/y", "x/z/w", "ü b/c"];
        for (n, key) in keys.iter().enumerate() {
            let v: Value = store.get("s", key).await.unwrap();
            assert_eq!(v["n"], json!(n), "{url}: {key}");
            assert!(store.contains("s", key).await.unwrap());
        }
        assert!(
            !store.contains("s", "x").await.unwrap(),
            "a directory is no record"
        );
        assert!(!store.contains("s", "x/z").await.unwrap());
        assert_eq!(store.count_in("s").await.unwrap(), 4, "{url}");
        assert_eq!(
            conformance::filtered_keys(&*store, "s", &Filter::parse_args(&["n__gte=1"]).unwrap())
                .await,
            vec!["x/y", "x/z/w", "ü b/c"]
        );
        // Insert sees the peer's file; update rewrites it where it is.
        let e = store.insert("s", "x/y", &json!({})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{url}: {e}");
        store.update("s", "x/y", &json!({"n": 10})).await.unwrap();
        let text = raw.read(&format!("{dir}/x/y.json")).await;
        assert_eq!(
            serde_json::from_slice::<Value>(&text).unwrap(),
            json!({"n": 10})
        );
        assert!(!names(&raw, &dir).await.contains(&"~eC95.json".to_string()));
        assert!(names(&raw, &dir).await.iter().all(|n| !n.contains(".tmp-")));
        store.delete("s", "x/z/w").await.unwrap();
        assert!(names(&raw, &format!("{dir}/x/z")).await.is_empty(), "{url}");
        assert_eq!(store.count_in("s").await.unwrap(), 3);
        // A key with `/` that we write is encoded: the peer's filter still finds it.
        store
            .insert("s", "new/key", &json!({"n": 4}))
            .await
            .unwrap();
        assert!(names(&raw, &dir)
            .await
            .contains(&layout::file_name("new/key")));
        assert_eq!(store.count_in("s").await.unwrap(), 4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_path_comes_from_url_then_options_then_default() {
    let u = url::Url::parse(&native_url()).unwrap();
    let bare = format!("hdfs://{}:{}", u.host_str().unwrap(), u.port().unwrap());
    let store = HdfsStore::from_url(&bare, &OpenOptions::default()).unwrap();
    assert_eq!(store.base_path(), "/event_pipeline");
    let mut options = OpenOptions::default();
    options
        .extras
        .insert("base_path".into(), "/recordstore-test/from-extras".into());
    options.extras.insert("username".into(), "alice".into());
    let store = HdfsStore::open(&bare, &options).await.unwrap();
    assert_eq!(store.base_path(), "/recordstore-test/from-extras");
    assert_eq!(store.manager().connector().user(), "alice");
    let sc = schema("extras");
    store.insert(&sc, "k", &json!({"v": 1})).await.unwrap();
    let names = Raw::new()
        .list(&format!("/recordstore-test/from-extras/{sc}"))
        .await
        .unwrap();
    assert!(names.contains("k.json"), "{names:?}");
    // The URL's path wins over the extras.
    let store = HdfsStore::from_url(&native_url(), &options).unwrap();
    assert_eq!(store.base_path(), base_path(&native_url()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_stats_and_close() {
    for url in [native_url(), web_url()] {
        let store = open_url(&url, None).await;
        store.ping().await.unwrap();
        let sc = schema("close");
        store.insert(&sc, "k", &json!({})).await.unwrap();
        let stats = store.stats().expect("hdfs has a manager");
        assert_eq!(stats.mode, "single");
        assert!(stats.created >= 1, "{stats:?}");
        store.close().await;
        let e = store.contains(&sc, "k").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Closed, "{url}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_insert_and_update_across_transports() {
    // Two clients (one per transport) race on the same keys: one insert wins per key, and
    // every read sees a whole record.
    let (a, b) = (
        open_url(&native_url(), None).await,
        open_url(&web_url(), None).await,
    );
    let sc = schema("cross_race");
    let mut tasks = Vec::new();
    for (i, store) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        let sc = sc.clone();
        tasks.push(tokio::spawn(async move {
            let mut won = 0;
            for k in 0..10 {
                match store
                    .insert(
                        &sc,
                        &format!("k{k}"),
                        &json!({"writer": i, "pad": "x".repeat(5000)}),
                    )
                    .await
                {
                    Ok(()) => won += 1,
                    Err(e) => assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}"),
                }
            }
            won
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 10);
    let readers: Vec<Arc<dyn KeyValueStore>> = vec![a.clone(), b.clone()];
    let updates = {
        let (a, sc) = (a.clone(), sc.clone());
        tokio::spawn(async move {
            for round in 0..5 {
                for k in 0..10 {
                    a.update(
                        &sc,
                        &format!("k{k}"),
                        &json!({"round": round, "pad": "y".repeat(5000)}),
                    )
                    .await
                    .unwrap();
                }
            }
        })
    };
    while !updates.is_finished() {
        for r in &readers {
            let all = r.filter_record(s(&sc), &Filter::all()).await.unwrap();
            assert_eq!(
                all.len(),
                10,
                "a reader saw a record missing during updates"
            );
        }
    }
    updates.await.unwrap();
    assert_eq!(b.count_in(&sc).await.unwrap(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_writes_leave_no_files_behind() {
    let base = base_path(&web_url());
    let raw = Raw::new();
    for url in [native_url(), web_url()] {
        let store = open_url(&url, None).await;
        // Update in a schema that does not exist: NotFound, and no directory appears.
        let sc = schema("no_trace");
        let e = store.update(&sc, "k", &json!({})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{url}: {e}");
        assert!(raw.list(&format!("{base}/{sc}")).await.is_none(), "{url}");
        // Update of a missing key and a losing insert: only the real record remains.
        store.insert(&sc, "a", &json!({"v": 1})).await.unwrap();
        let e = store.update(&sc, "b", &json!({})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{url}: {e}");
        let e = store.insert(&sc, "a", &json!({"v": 2})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{url}: {e}");
        let names = raw.list(&format!("{base}/{sc}")).await.unwrap();
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            vec!["a.json".to_string()],
            "{url}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_name_reaches_hdfs() {
    let base = base_path(&web_url());
    let raw = Raw::new();
    for (url, user) in [(native_url(), "alice"), (web_url(), "bob")] {
        let with_user = url.replacen("://", &format!("://{user}@"), 1);
        let store = open_url(&with_user, None).await;
        let sc = schema("owner");
        store.insert(&sc, "k", &json!({})).await.unwrap();
        let status: Value = raw
            .http
            .get(raw.url(&format!("{base}/{sc}/k.json"), "GETFILESTATUS"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            status["FileStatus"]["owner"],
            json!(user),
            "{url}: {status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_schemas_lists_the_schema_directories() {
    let base = conformance::schema("ls");
    for (i, url) in [native_url(), web_url()].into_iter().enumerate() {
        let url = format!("{url}/{base}_{i}");
        let store = open_url(&url, None).await;
        assert!(store.list_schemas().await.unwrap().is_empty());
        store.insert("alpha", "k", &json!({})).await.unwrap();
        store.insert("beta", "k/../x", &json!({})).await.unwrap();
        assert_eq!(store.list_schemas().await.unwrap(), vec!["alpha", "beta"]);
        store.delete("alpha", "k").await.unwrap();
        store.delete("beta", "k/../x").await.unwrap();
    }
}

/// `host:port` of a store URL.
fn address_of(url: &str) -> String {
    url.split_once("://")
        .unwrap()
        .1
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_url_at_the_wrong_port_is_a_protocol_error_never_an_empty_store_or_a_timeout() {
    // The other transport's port and a Redis server stand in for "the wrong port in the URL".
    // A NameNode's RPC port answers an HTTP request with a bare 404, which must not read as
    // "no such file" (an empty schema).
    let (http, rpc) = (address_of(&web_url()), address_of(&native_url()));
    let redis = address_of(
        &std::env::var("RECORDSTORE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6390".into()),
    );
    let cases = [
        (
            format!("hdfs://{http}/base"),
            &http,
            "Hadoop RPC",
            format!("webhdfs://{http}"),
        ),
        (
            format!("hdfs://{redis}/base"),
            &redis,
            "Hadoop RPC",
            "like a Redis server".into(),
        ),
        (
            format!("webhdfs://{rpc}/base"),
            &rpc,
            "WebHDFS",
            format!("use hdfs://{rpc}"),
        ),
        (
            format!("webhdfs://{redis}/base"),
            &redis,
            "WebHDFS",
            "like a Redis server".into(),
        ),
    ];
    for (url, address, protocol, says) in cases {
        let started = std::time::Instant::now();
        let e = match recordstore::open(&url).await {
            Ok(store) => match store.count_in("jobs").await {
                Ok(n) => panic!("{url} counted {n} records"),
                Err(e) => e,
            },
            Err(e) => e,
        };
        assert_eq!(e.kind(), ErrorKind::Protocol, "{url}: {e}");
        assert!(!e.is_temporary(), "{e}");
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("{address} did not answer as a {protocol} server")),
            "{text}"
        );
        assert!(text.contains(&says), "{url}: {text}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "took {:?}: {text}",
            started.elapsed()
        );
    }
}
