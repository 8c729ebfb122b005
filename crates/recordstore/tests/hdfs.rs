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
async fn corrupt_and_misnamed_files_are_errors_naming_them() {
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
        for f in [Filter::all(), Filter::parse_args(&["status=done"]).unwrap()] {
            let e = store.filter_record(s(&sc), &f).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{url}: {e}");
            assert!(e.to_string().contains("\"bad\""), "{e}");
        }
        let v: Value = store.get(&sc, "good").await.unwrap();
        assert_eq!(v["status"], "done");

        // A name this store would never write is reported too, not skipped.
        let sc2 = schema("misnamed");
        store.insert(&sc2, "good", &json!({})).await.unwrap();
        raw.write(&format!("{base}/{sc2}/~!!.json"), b"{}").await;
        let e = store
            .filter_record(s(&sc2), &Filter::all())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{url}: {e}");
        assert!(e.to_string().contains("~!!.json"), "{e}");

        // count reads no file: as HLEN or COUNT(*), corrupt records count, hidden
        // (temporary) files and other names do not.
        raw.write(&format!("{base}/{sc2}/.good.json.tmp"), b"{}")
            .await;
        raw.write(&format!("{base}/{sc2}/notes.txt"), b"x").await;
        assert_eq!(store.count(s(&sc)).await.unwrap(), 2, "{url}");
        assert_eq!(store.count(s(&sc2)).await.unwrap(), 2, "{url}");
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
