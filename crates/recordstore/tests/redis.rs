//! The conformance suite on Redis (single, pooled, server-side filter, prefix, TLS, cluster, and
//! `codec=pickle` on single, pooled, TLS and cluster), plus
//! Redis's own cases: layout, corrupt values, Lua filter edge cases, auth, unreachable server.
//! Servers: scripts/start-redis.sh (see tests/redis_common for the env variables).

mod conformance;
mod redis_common;

use conformance::{schema, Store};
use recordstore::backends::redis::RedisStore;
use recordstore::connection::ConnectionMode;
use recordstore::{
    Document, ErrorKind, Filter, KeyValueStore, KeyValueStoreExt, OpenOptions, RecordKey,
    SchemaName,
};
use redis::AsyncCommands;
use redis_common::*;
use serde_json::{json, Value};

/// A conformance run in a module of its own: the store at `$url`, in connection mode `$mode`.
macro_rules! suite {
    ($name:ident, $url:expr, $mode:expr) => {
        mod $name {
            use super::*;
            async fn open() -> Store {
                open_checked(&$url, $mode).await
            }
            conformance_tests!(open);
        }
    };
}

suite!(single, redis_url(), Some(ConnectionMode::Single));
suite!(pooled, redis_url(), Some(ConnectionMode::Pooled));
suite!(
    server_filter,
    with_query(&redis_url(), "filter=server"),
    None
);
suite!(
    prefixed,
    with_query(&redis_url(), "prefix=conformance"),
    None
);
suite!(tls, tls_url(), None);
suite!(cluster, cluster_url(), None);
// `codec=pickle` (event-pipeline's values) on every kind of server: the same semantics.
suite!(
    pickle_single,
    with_query(&redis_url(), "codec=pickle"),
    Some(ConnectionMode::Single)
);
suite!(
    pickle_pooled,
    with_query(&redis_url(), "codec=pickle"),
    Some(ConnectionMode::Pooled)
);
suite!(pickle_tls, with_query(&tls_url(), "codec=pickle"), None);
suite!(
    pickle_cluster,
    with_query(&cluster_url(), "codec=pickle&prefix=pk"),
    None
);

fn s(name: &str) -> SchemaName<'_> {
    SchemaName::new(name).unwrap()
}

#[tokio::test]
async fn with_codec_pickle_values_are_pickles_and_the_codecs_do_not_mix() {
    let url = redis_url();
    let mut raw = raw(&url).await;
    let pickled = open_checked(&with_query(&url, "codec=pickle"), None).await;
    let json_store = open_checked(&url, None).await;
    let sc = schema("codec");
    let rec = json!({"status": "done", "n": [1, 2.5, null], "\u{fc}": {"deep": true}});
    pickled.insert(&sc, "p1", &rec).await.unwrap();
    json_store.insert(&sc, "j1", &rec).await.unwrap();
    // A pickle in protocol 3 (PROTO 3 ... STOP), which Python's pickle.loads reads.
    let bytes: Vec<u8> = raw.hget(&sc, "p1").await.unwrap();
    assert_eq!(&bytes[..2], b"\x80\x03");
    assert_eq!(bytes.last(), Some(&b'.'));
    let back: Value = pickled.get(&sc, "p1").await.unwrap();
    assert_eq!(back, rec);
    // Each codec names the other's record as corrupt, never misreads it.
    let e = json_store.get::<Value>(&sc, "p1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(e.to_string().contains("\"p1\""), "{e}");
    let e = pickled.get::<Value>(&sc, "j1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(
        e.to_string().contains("\"j1\"") && e.to_string().contains("codec=pickle"),
        "{e}"
    );
    for filter in [vec![], vec!["status=done"], vec!["status=nothing"]] {
        let f = Filter::parse_args(&filter).unwrap();
        let e = pickled.filter_record(s(&sc), &f).await.unwrap_err();
        assert!(e.to_string().contains("\"j1\""), "{filter:?}: {e}");
    }
    let _: () = raw.hdel(&sc, "j1").await.unwrap();
    let f = Filter::parse_args(&["status=done"]).unwrap();
    assert_eq!(pickled.filter_record(s(&sc), &f).await.unwrap().len(), 1);
    // A number pickle could not carry back is refused on the way in, alone in a batch.
    let big = Document::from_value(json!({"n": u64::MAX})).unwrap();
    let ok = Document::from_value(json!({"n": 1})).unwrap();
    let e = pickled
        .insert_record(s(&sc), RecordKey::new("big").unwrap(), &big)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let batch = [
        (RecordKey::new("b1").unwrap(), big),
        (RecordKey::new("b2").unwrap(), ok),
    ];
    let results = pickled.insert_many(s(&sc), &batch).await.unwrap();
    assert_eq!(
        results[0].as_ref().unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(results[1].is_ok());
    assert!(!pickled.contains(&sc, "b1").await.unwrap());
    let _: () = raw.del(&sc).await.unwrap();
}

#[tokio::test]
async fn layout_is_one_hash_per_schema_with_json_values() {
    let url = redis_url();
    let mut raw = raw(&url).await;
    for prefix in [None, Some("app1")] {
        let store = match prefix {
            None => open_checked(&url, None).await,
            Some(p) => open_checked(&with_query(&url, &format!("prefix={p}")), None).await,
        };
        let sc = schema("layout");
        let rec = json!({"status": "done", "n": 1.5, "tags": ["a"], "ü": null});
        store.insert(&sc, "k/1", &rec).await.unwrap();
        let hash = match prefix {
            None => sc.clone(),
            Some(p) => format!("{p}:{sc}"),
        };
        let text: Option<String> = raw.hget(&hash, "k/1").await.unwrap();
        let expected = Document::from_value(rec.clone()).unwrap().to_json();
        assert_eq!(text.as_deref(), Some(expected.as_str()), "hash {hash}");
        let len: u64 = raw.hlen(&hash).await.unwrap();
        assert_eq!(len, 1);
        if prefix.is_some() {
            // Nothing under the bare schema name.
            let bare: bool = raw.exists(&sc).await.unwrap();
            assert!(!bare);
        }
        // And a record written by another client in the same layout is read back.
        let _: () = raw.hset(&hash, "from-cli", r#"{"v":2}"#).await.unwrap();
        let v: Value = store.get(&sc, "from-cli").await.unwrap();
        assert_eq!(v, json!({"v": 2}));
    }
}

/// Values serde_json rejects, including ones Redis's cjson accepts.
fn corrupt_values() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!("{{\"v\":{}1{}}}", "[".repeat(200), "]".repeat(200));
    vec![
        ("not_json", b"{not json".to_vec()),
        ("empty", b"".to_vec()),
        ("array", b"[1,2]".to_vec()),
        ("number", b"5".to_vec()),
        ("string", b"\"s\"".to_vec()),
        ("hex", br#"{"v":0x10}"#.to_vec()),
        ("nan", br#"{"v":NaN}"#.to_vec()),
        ("inf", br#"{"v":Infinity}"#.to_vec()),
        ("trailing_dot", br#"{"v":1.}"#.to_vec()),
        ("leading_zero", br#"{"v":01}"#.to_vec()),
        ("overflow", br#"{"v":1e400}"#.to_vec()),
        ("bad_utf8", b"{\"v\":\"\xff\xfe\"}".to_vec()),
        ("raw_tab", b"{\"v\":\"a\tb\"}".to_vec()),
        ("lone_surrogate", br#"{"v":"\ud800"}"#.to_vec()),
        ("trailing_comma", br#"{"v":1,}"#.to_vec()),
        ("deep", deep.into_bytes()),
    ]
}

#[tokio::test]
async fn corrupt_values_fail_get_and_filter_naming_the_key() {
    let url = redis_url();
    let mut raw = raw(&url).await;
    for mode in ["server", "client"] {
        let store = open_checked(&with_query(&url, &format!("filter={mode}")), None).await;
        for (name, bytes) in corrupt_values() {
            let sc = schema("corrupt");
            store
                .insert(&sc, "good", &json!({"status": "done"}))
                .await
                .unwrap();
            let key = format!("bad_{name}");
            let _: () = raw.hset(&sc, &key, bytes).await.unwrap();
            let e = store.get::<Value>(&sc, &key).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{mode} {name}: {e}");
            assert!(e.to_string().contains(&key), "{e}");
            for f in [
                Filter::all(),
                Filter::parse_args(&["status=done"]).unwrap(),
                Filter::parse_args(&["v__gt=100"]).unwrap(),
            ] {
                let e = store.filter_record(s(&sc), &f).await.unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Corrupt, "{mode} {name} {f}: {e}");
                assert!(e.to_string().contains(&key), "{mode} {name}: {e}");
            }
            let v: Value = store.get(&sc, "good").await.unwrap();
            assert_eq!(v["status"], "done");
            let got = store
                .get_many(
                    s(&sc),
                    &[
                        RecordKey::new("good").unwrap(),
                        RecordKey::new(&key).unwrap(),
                    ],
                )
                .await
                .unwrap();
            assert!(got[0].is_ok());
            assert_eq!(got[1].as_ref().unwrap_err().kind(), ErrorKind::Corrupt);
        }
    }
}

/// Values where cjson's doubles, Lua's string order or array/object ambiguity could mislead a
/// server-side filter; both filter modes must agree with `Filter::matches`.
#[tokio::test]
async fn server_and_client_filters_agree_on_edge_cases() {
    let url = redis_url();
    let server = open_checked(&with_query(&url, "filter=server"), None).await;
    let client = open_checked(&with_query(&url, "filter=client"), None).await;
    let values = [
        json!(9007199254740993u64),
        json!(9007199254740992u64),
        json!(18446744073709551615u64),
        json!(-9223372036854775808i64),
        json!(0.1),
        json!(0.30000000000000004),
        json!(1e300),
        json!(-0.0),
        json!(0),
        json!("a"),
        json!("B"),
        json!("é"),
        json!("z"),
        json!("ä"),
        json!(""),
        json!([]),
        json!({}),
        json!([[]]),
        json!([{}]),
        json!([1, [2]]),
        json!({"1": "x"}),
        json!(["x"]),
        json!([null]),
        json!([0.1, "é"]),
        json!(null),
        json!(true),
    ];
    let sc = schema("edges");
    let mut data = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let rec = json!({"v": v, "o": {"v": v}, "i": i});
        data.push((format!("r{i}"), rec.clone()));
        server.insert(&sc, &format!("r{i}"), &rec).await.unwrap();
    }
    let cases: Vec<Vec<String>> = vec![
        vec!["v=9007199254740993".into()],
        vec!["v=9007199254740992".into()],
        vec!["v__ne=9007199254740992".into()],
        vec!["v__gt=9007199254740992".into()],
        vec!["v__gte=18446744073709551615".into()],
        vec!["v__lt=-9223372036854775807".into()],
        vec!["v=0.1".into()],
        vec!["v__gt=0.1".into()],
        vec!["v__gte=0.30000000000000004".into()],
        vec!["v__lt=0.30000000000000004".into()],
        vec!["v=0".into()],
        vec!["v__ne=0".into()],
        vec!["v__gt=B".into()],
        vec!["v__lt=é".into()],
        vec!["v__gte=a".into()],
        vec!["v__lte=z".into()],
        vec!["v=[]".into()],
        vec!["v={}".into()],
        vec!["v__ne=[]".into()],
        vec!["v=[[]]".into()],
        vec!["v__in=[[],{}]".into()],
        vec!["v__contains=[]".into()],
        vec!["v__contains={}".into()],
        vec!["v__contains=x".into()],
        vec!["v__contains=2".into()],
        vec!["v__contains=null".into()],
        vec!["v__contains=0.1".into()],
        vec!["v.1=x".into()],
        vec!["o.v.1=x".into()],
        vec!["v__isnull=true".into()],
        vec!["v__isnull=false".into()],
        vec!["v__startswith=é".into()],
        vec!["v__endswith=".into()],
        vec!["o.v__gte=0".into(), "o.v__lt=1".into()],
        vec!["v__in=[0.1,\"a\",true]".into()],
    ];
    for case in cases {
        let f = Filter::parse_args(&case).unwrap();
        let mut expected: Vec<String> = data
            .iter()
            .filter(|(_, v)| f.matches(&Document::from_value(v.clone()).unwrap()))
            .map(|(k, _)| k.clone())
            .collect();
        expected.sort();
        for (mode, store) in [("server", &server), ("client", &client)] {
            let got = conformance::filtered_keys(&**store, &sc, &f).await;
            assert_eq!(got, expected, "{mode} filter {case:?}");
        }
    }
}

#[tokio::test]
async fn filters_walk_big_hashes_in_batches() {
    // A scan_count far below the record count makes both modes loop over many cursors.
    let url = redis_url();
    let sc = schema("batches");
    let writer = open_checked(&url, None).await;
    let items: Vec<(String, Document)> = (0..2500)
        .map(|i| {
            let status = if i % 7 == 0 { "done" } else { "running" };
            (
                format!("k{i}"),
                Document::from_value(json!({"status": status, "i": i})).unwrap(),
            )
        })
        .collect();
    let keyed: Vec<(RecordKey<'_>, Document)> = items
        .iter()
        .map(|(k, d)| (RecordKey::new(k).unwrap(), d.clone()))
        .collect();
    let out = writer.insert_many(s(&sc), &keyed).await.unwrap();
    assert!(out.iter().all(|r| r.is_ok()));
    for mode in ["server", "client"] {
        let store = open_checked(
            &with_query(&url, &format!("filter={mode}&scan_count=50")),
            None,
        )
        .await;
        let f = Filter::parse_args(&["status=done"]).unwrap();
        let found = store.filter_record(s(&sc), &f).await.unwrap();
        assert_eq!(
            found.len(),
            (0..2500).filter(|i| i % 7 == 0).count(),
            "{mode}"
        );
        let all = store.filter_record(s(&sc), &Filter::all()).await.unwrap();
        assert_eq!(all.len(), 2500, "{mode}");
    }
    assert_eq!(writer.count_in(&sc).await.unwrap(), 2500);
}

#[tokio::test]
async fn ping_stats_and_close() {
    for mode in [ConnectionMode::Single, ConnectionMode::Pooled] {
        let store = open_checked(&redis_url(), Some(mode)).await;
        store.ping().await.unwrap();
        let stats = store.stats().expect("redis has a connection manager");
        assert_eq!(stats.mode, mode.to_string());
        assert!(stats.created >= 1);
        store.close().await;
        let e = store.count_in("s").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
    }
    let store = open_checked(&cluster_url(), None).await;
    store.ping().await.unwrap();
    assert!(store.stats().is_some());
}

#[tokio::test]
async fn an_unreachable_server_is_a_connection_error() {
    let store = recordstore::open("redis://127.0.0.1:1/0").await.unwrap();
    let e = store.get::<Value>("s", "k").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert_eq!(e.exit_code(), 5);
    let msg = e.to_string();
    assert!(
        msg.contains("127.0.0.1:1") && msg.contains("connection refused"),
        "{msg}"
    );
    for e in [
        store.insert("s", "k", &json!({})).await.unwrap_err(),
        store.contains("s", "k").await.unwrap_err(),
        store
            .filter_record(s("s"), &Filter::all())
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    }
    let pooled = OpenOptions {
        mode: Some(ConnectionMode::Pooled),
        ..OpenOptions::default()
    };
    let store = recordstore::open_with("redis://127.0.0.1:1/0", &pooled)
        .await
        .unwrap();
    let e = store.count_in("s").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    let store = recordstore::open("redis+cluster://127.0.0.1:1,127.0.0.1:2")
        .await
        .unwrap();
    let e = store.count_in("s").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
}

#[tokio::test]
async fn bad_urls_are_invalid_input() {
    for url in [
        "redis://h:notaport",
        "redis://h/x",
        "redis://h?nope=1",
        "redis://a:1,b:2",
    ] {
        let e = recordstore::open(url).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{url}: {e}");
    }
}

#[tokio::test]
async fn passwords_and_acl_users_authenticate() {
    let addr = auth_addr();
    let (pw, app) = (auth_password(), app_password());
    let store = open_checked(&format!("redis://:{pw}@{addr}/0"), None).await;
    store
        .insert(&schema("auth"), "k", &json!({}))
        .await
        .unwrap();
    let store = open_checked(
        &format!("redis://app:{app}@{addr}/0"),
        Some(ConnectionMode::Pooled),
    )
    .await;
    store
        .insert(&schema("auth"), "k", &json!({}))
        .await
        .unwrap();
    // From the config's extras instead of the URL.
    let mut options = OpenOptions::default();
    options.extras.insert("username".into(), "app".into());
    options.extras.insert("password".into(), app.clone());
    let store = RedisStore::open_with(&format!("redis://{addr}/0"), &options).unwrap();
    store.ping().await.unwrap();
}

#[tokio::test]
async fn wrong_credentials_are_auth_errors_that_hide_the_password() {
    let addr = auth_addr();
    let secret = "not-the-password-4711";
    for (url, mode) in [
        (
            format!("redis://:{secret}@{addr}/0"),
            ConnectionMode::Single,
        ),
        (
            format!("redis://app:{secret}@{addr}/0"),
            ConnectionMode::Pooled,
        ),
        (
            format!("redis://nobody:{secret}@{addr}/0"),
            ConnectionMode::Single,
        ),
    ] {
        let options = OpenOptions {
            mode: Some(mode),
            ..OpenOptions::default()
        };
        let store = recordstore::open_with(&url, &options).await.unwrap();
        assert!(!format!("{store:?}").contains(secret));
        let e = store.get::<Value>("s", "k").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
        let (text, debug) = (e.to_string(), format!("{e:?}"));
        assert!(
            text.contains("rejected the user name or password"),
            "{text}"
        );
        assert!(text.contains(&addr), "{text}");
        assert!(!text.contains(secret) && !debug.contains(secret), "{debug}");
        assert!(!e.is_temporary());
    }
    // No password at all on a server that wants one.
    let store = recordstore::open(&format!("redis://{addr}/0"))
        .await
        .unwrap();
    let e = store.count_in("s").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(e.to_string().contains("requires a password"), "{e}");
}

/// A store on the auth server as the ACL user `app`, in database `db`, and an admin connection
/// (the default user) for `CLIENT LIST` and `CLIENT KILL`.
async fn app_store(db: u8, mode: ConnectionMode) -> (Store, redis::aio::MultiplexedConnection) {
    let addr = auth_addr();
    let (pw, app) = (auth_password(), app_password());
    let admin = raw(&format!("redis://:{pw}@{addr}/0")).await;
    let url = format!("redis://app:{app}@{addr}/{db}");
    (open_checked(&url, Some(mode)).await, admin)
}

/// Single mode over plain TCP opens a second socket that a lone caller uses without the
/// multiplexer (the direct lane): it logs in as the URL's user, selects the URL's database,
/// serves a lone caller's commands, and is replaced when the server drops it, while the
/// caller gets its answer.
#[tokio::test]
async fn single_mode_serves_a_lone_caller_on_a_direct_lane() {
    let (store, mut admin) = app_store(3, ConnectionMode::Single).await;
    let (addr, app) = (auth_addr(), app_password());
    let sc = schema("lane");
    let (id, line) = await_lane(&store, &mut admin, None).await;
    assert!(
        line.contains(" user=app ") && line.contains(" db=3 "),
        "{line}"
    );

    store.insert(&sc, "k", &json!({"n": 1})).await.unwrap();
    let record: Value = store.get(&sc, "k").await.unwrap();
    assert_eq!(record, json!({"n": 1}));
    // The lane served the get (it was free: nothing else runs), in database 3.
    let (_, line) = lanes(&mut admin)
        .await
        .into_iter()
        .find(|(i, _)| *i == id)
        .expect("the lane is still open");
    assert!(line.contains(" cmd=hget "), "{line}");
    let mut db3 = raw(&format!("redis://app:{app}@{addr}/3")).await;
    let stored: Option<String> = db3.hget(sc.as_str(), "k").await.unwrap();
    assert_eq!(stored.as_deref(), Some(r#"{"n":1}"#));

    // The server drops the lane: the next get still answers (a retry), and a new lane opens.
    let _: () = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&id)
        .query_async(&mut admin)
        .await
        .unwrap();
    let record: Value = store.get(&sc, "k").await.unwrap();
    assert_eq!(record, json!({"n": 1}));
    let (new_id, _) = await_lane(&store, &mut admin, Some(&id)).await;
    assert_ne!(new_id, id);
    store.delete(&sc, "k").await.unwrap();
}

/// A lone caller's call cancelled on the direct lane, its reply still on the way, never lets
/// that reply answer a later call. Two guards stand in the way, and either alone passes this
/// test (each was removed in turn; without both, it fails): the lane closes itself when a
/// call is dropped midway, and the single-mode manager replaces the whole connection.
#[tokio::test]
async fn a_cancelled_call_on_the_lane_never_answers_the_next() {
    let url = redis_url();
    let mut admin = raw(&url).await;
    let store = open_checked(&url, Some(ConnectionMode::Single)).await;
    let sc = schema("lane-cancel");
    for i in 0..8 {
        store
            .insert(&sc, &format!("k{i}"), &json!({ "k": i }))
            .await
            .unwrap();
    }
    let (mut in_flight, mut on_lane) = (0, 0);
    for round in 0..100u32 {
        // The lane is open before each cancelled call, so that the call can take it.
        let (lane, _) = await_lane(&store, &mut admin, None).await;
        // Polled once, the get has sent its command and waits for the reply; then it is
        // dropped.
        let key = format!("k{}", round % 8);
        if conformance::poll_once_then_drop(store.get::<Value>(&sc, &key))
            .await
            .is_none()
        {
            in_flight += 1;
        }
        // The lane's last command was await_lane's HEXISTS; if it took the get, it shows
        // HGET, or is gone already (closed by the drop).
        let now = lanes(&mut admin).await;
        match now.iter().find(|(id, _)| *id == lane) {
            Some((_, line)) if !line.contains(" cmd=hget ") => {}
            _ => on_lane += 1,
        }
        let j = (round + 3) % 8;
        let record: Value = store.get(&sc, &format!("k{j}")).await.unwrap();
        assert_eq!(record, json!({ "k": j }), "round {round}");
    }
    assert!(
        in_flight > 50 && on_lane > 50,
        "only {in_flight} calls were dropped in flight, {on_lane} on the lane"
    );
    for i in 0..8 {
        store.delete(&sc, &format!("k{i}")).await.unwrap();
    }
}

/// A pool of multiplexed connections has no lane: concurrent callers are what it is for.
#[tokio::test]
async fn pooled_mode_has_no_direct_lane() {
    let (store, mut admin) = app_store(4, ConnectionMode::Pooled).await;
    for _ in 0..20 {
        store.contains(&schema("lane"), "probe").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let lanes_now: Vec<String> = lanes(&mut admin)
        .await
        .into_iter()
        .map(|(_, l)| l)
        .filter(|l| l.contains(" db=4 "))
        .collect();
    assert!(lanes_now.is_empty(), "{lanes_now:?}");
}

/// Settings that point at the wrong thing fail at once, permanently, saying what to change:
/// a database number the server lacks, a password for a server without one (which would
/// otherwise be accepted silently), and a port that is not a Redis server's.
#[tokio::test]
async fn wrong_settings_are_config_and_protocol_errors() {
    let url = redis_url();
    let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    let addr = base.split_once("://").unwrap().1.to_string();
    let store = recordstore::open(&format!("{base}/99")).await.unwrap();
    let e = store.ping().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("has no database 99"), "{e}");
    assert!(!e.to_string().contains("ResponseError"), "{e}");

    let with_password = format!("redis://:nobody-4711@{addr}/0");
    for mode in [ConnectionMode::Single, ConnectionMode::Pooled] {
        let options = OpenOptions {
            mode: Some(mode),
            ..OpenOptions::default()
        };
        let store = recordstore::open_with(&with_password, &options)
            .await
            .unwrap();
        let e = store.contains(&schema("pw"), "k").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{mode:?}: {e}");
        assert!(e.to_string().contains("has no password"), "{e}");
        assert!(!e.to_string().contains("nobody-4711"), "{e}");
        assert!(!e.is_temporary());
    }

    // WebHDFS's HTTP port stands in for "some other server".
    let http = std::env::var("RECORDSTORE_WEBHDFS_URL")
        .ok()
        .and_then(|u| Some(u.split_once("://")?.1.split('/').next()?.to_string()))
        .unwrap_or_else(|| "127.0.0.1:9870".to_string());
    let store = recordstore::open(&format!("redis://{http}/0"))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let e = store.ping().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert_eq!(e.exit_code(), 5);
    assert!(
        e.to_string()
            .starts_with(&format!("{http} did not answer as a Redis server")),
        "{e}"
    );
    assert_eq!(e.to_string().lines().count(), 1, "{e}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "retried: {e}"
    );
}

#[tokio::test]
async fn databases_are_separate() {
    let url = redis_url();
    let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    let (db0, db1) = (
        open_checked(&format!("{base}/0"), None).await,
        open_checked(&format!("{base}/1"), None).await,
    );
    let sc = schema("dbs");
    db1.insert(&sc, "k", &json!({"db": 1})).await.unwrap();
    assert!(!db0.contains(&sc, "k").await.unwrap());
    assert!(db1.contains(&sc, "k").await.unwrap());
}

#[tokio::test]
async fn a_key_of_another_type_is_a_configuration_error_naming_it() {
    let url = redis_url();
    let mut raw = raw(&url).await;
    let sc = schema("wrongtype");
    let _: () = raw.set(&sc, "a string").await.unwrap();
    let store = open_checked(&url, None).await;
    for e in [
        store.get::<Value>(&sc, "k").await.unwrap_err(),
        store.insert(&sc, "k", &json!({})).await.unwrap_err(),
        store.update(&sc, "k", &json!({})).await.unwrap_err(),
        store.count_in(&sc).await.unwrap_err(),
        store
            .filter_record(s(&sc), &Filter::parse_args(&["a=1"]).unwrap())
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        assert!(!e.is_temporary(), "{e}");
        let text = e.to_string();
        assert!(
            text.contains(&format!("{sc:?}")) && text.contains("another type"),
            "{e}"
        );
        assert!(!text.contains("\"WRONGTYPE\""), "{e}");
    }
}

mod lua_model {
    //! Random documents and filters: the server-side filter returns exactly what
    //! `Filter::matches` selects (the Lua side must never drop a match).
    use super::*;
    use proptest::prelude::*;
    use recordstore::Lookup;

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-3i64..4).prop_map(Value::from),
            prop::sample::select(vec![
                json!(0.5),
                json!(1.0),
                json!(-0.0),
                json!(0.1),
                json!(0.30000000000000004),
                json!(9007199254740993u64),
                json!(9007199254740992u64),
                json!(1e300),
            ]),
            prop::sample::select(vec!["", "a", "b", "ab", "é", "z", "A", "1"])
                .prop_map(Value::from),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => scalar(),
            1 => prop::collection::vec(scalar(), 0..3).prop_map(Value::from),
            1 => scalar().prop_map(|v| json!({"a": v})),
            1 => Just(json!({})),
        ]
    }

    fn document() -> impl Strategy<Value = Value> {
        (prop::option::of(value()), prop::option::of(value())).prop_map(|(v, x)| {
            let mut m = serde_json::Map::new();
            if let Some(v) = v {
                m.insert("v".into(), v);
            }
            if let Some(x) = x {
                m.insert("w".into(), json!({"x": x}));
            }
            Value::Object(m)
        })
    }

    fn condition() -> impl Strategy<Value = (String, Lookup, Value)> {
        let field = prop::sample::select(vec!["v", "w.x", "v.a", "w", "missing"]);
        let lookup = prop::sample::select(Lookup::ALL.to_vec());
        (
            field,
            lookup,
            value(),
            prop::collection::vec(scalar(), 0..3),
        )
            .prop_map(|(f, l, v, list)| {
                let v = match l {
                    Lookup::In => Value::from(list),
                    Lookup::IsNull => Value::Bool(v.is_null()),
                    Lookup::StartsWith | Lookup::EndsWith => match v {
                        Value::String(s) => Value::String(s),
                        _ => Value::String("a".into()),
                    },
                    Lookup::Gt | Lookup::Gte | Lookup::Lt | Lookup::Lte => match v {
                        v @ (Value::Number(_) | Value::String(_)) => v,
                        _ => json!(0),
                    },
                    _ => v,
                };
                (f.to_string(), l, v)
            })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn server_filter_equals_the_model() {
        let store = open_checked(&with_query(&redis_url(), "filter=server"), None).await;
        let handle = tokio::runtime::Handle::current();
        let cases: u32 = std::env::var("RECORDSTORE_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(24);
        tokio::task::spawn_blocking(move || {
            let config = ProptestConfig {
                cases,
                failure_persistence: None,
                ..ProptestConfig::default()
            };
            let strategy = (
                prop::collection::vec(document(), 1..25),
                prop::collection::vec(prop::collection::vec(condition(), 1..3), 1..12),
            );
            proptest!(config, |((docs, filters) in strategy)| {
                handle.block_on(async {
                    let sc = schema("lua_model");
                    for (i, d) in docs.iter().enumerate() {
                        store.insert(&sc, &format!("d{i}"), d).await.unwrap();
                    }
                    for conds in &filters {
                        let mut f = Filter::all();
                        for (field, lookup, v) in conds {
                            f = f.with(field, *lookup, v.clone()).unwrap();
                        }
                        let mut expected: Vec<String> = docs
                            .iter()
                            .enumerate()
                            .filter(|(_, d)| f.matches(&Document::from_value((*d).clone()).unwrap()))
                            .map(|(i, _)| format!("d{i}"))
                            .collect();
                        expected.sort();
                        let got = conformance::filtered_keys(&*store, &sc, &f).await;
                        assert_eq!(got, expected, "filter {f} over {docs:?}");
                    }
                });
            });
        })
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn list_schemas_sees_the_prefix_only() {
    let prefix = conformance::schema("ls");
    let store = open_checked(&with_query(&redis_url(), &format!("prefix={prefix}")), None).await;
    let other = open_checked(&redis_url(), None).await;
    let outside = conformance::schema("outside");
    other.insert(&outside, "k", &json!({})).await.unwrap();
    store.insert("alpha", "k", &json!({})).await.unwrap();
    store.insert("beta", "k", &json!({})).await.unwrap();
    assert_eq!(store.list_schemas().await.unwrap(), vec!["alpha", "beta"]);
    let all = other.list_schemas().await.unwrap();
    assert!(all.contains(&outside), "{all:?}");
}

#[tokio::test]
async fn list_schemas_covers_every_cluster_master() {
    let store = open_checked(&cluster_url(), None).await;
    // 30 schemas: the chance that none lands on one of the three masters is 3·(2/3)^30 < 1e-4.
    let names: Vec<String> = (0..30)
        .map(|i| conformance::schema(&format!("ls{i}")))
        .collect();
    for name in &names {
        store.insert(name, "k", &json!({})).await.unwrap();
    }
    let listed = store.list_schemas().await.unwrap();
    for name in &names {
        assert!(listed.contains(name), "{name} missing from {listed:?}");
    }
    let mut sorted = listed.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(listed, sorted, "sorted, each once");
}

#[tokio::test]
async fn tls_needs_a_trusted_certificate_and_says_so() {
    let url = tls_url();
    // Without the test CA, the public roots do not vouch for the server's certificate.
    let untrusted = url.split('?').next().unwrap().to_string();
    let mut options = OpenOptions::default();
    options.pool.connection_timeout = std::time::Duration::from_secs(2);
    let e = match recordstore::open_with(&untrusted, &options).await {
        Ok(store) => store.ping().await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.to_string().contains("certificate"), "{e}");
    // Plain text to a TLS port is a connection error too, never an answer.
    let plain = untrusted.replacen("rediss://", "redis://", 1);
    let e = match recordstore::open_with(&plain, &options).await {
        Ok(store) => store.get::<Value>("s", "k").await.unwrap_err(),
        Err(e) => e,
    };
    assert!(
        matches!(e.kind(), ErrorKind::Connection | ErrorKind::Timeout),
        "{e}"
    );
    // A CA file that cannot be read is named, before any connection.
    let bad_ca = with_query(&untrusted, "tls_ca=/nonexistent/ca.pem");
    let Err(e) = recordstore::open_with(&bad_ca, &options).await else {
        panic!("an unreadable CA file was accepted");
    };
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
}
