//! The behaviour suite every backend runs, one function per behaviour.
//!
//! A backend's test file opens its store and calls `conformance_tests!(open_fn)`, which makes
//! one `#[tokio::test]` per behaviour. Every behaviour works in schemas of its own (a unique
//! suffix), so backends with a shared server can run them concurrently.
#![allow(dead_code)]

use futures::future::join_all;
use proptest::prelude::*;
use recordstore::{
    Document, ErrorKind, Filter, KeyValueStore, KeyValueStoreExt, Record, RecordKey, SchemaName,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub type Store = Arc<dyn KeyValueStore>;

/// A schema name no other test uses, even across processes sharing a server.
pub fn schema(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{name}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn doc(v: Value) -> Document {
    Document::from_value(v).unwrap()
}

/// The keys `filter` selects in `schema`, sorted.
pub async fn filtered_keys(
    store: &dyn KeyValueStore,
    schema: &str,
    filter: &Filter,
) -> Vec<String> {
    let mut keys: Vec<String> = store
        .filter_record(SchemaName::new(schema).unwrap(), filter)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    keys
}

/// Polls `call` once and drops it there if it has not finished (`None`): a network call has
/// then sent its request and is waiting for the reply. Taking `call` by value makes sure it
/// is dropped before the caller goes on, not at the end of the caller's scope.
pub async fn poll_once_then_drop<F: std::future::Future>(call: F) -> Option<F::Output> {
    let mut call = std::pin::pin!(call);
    tokio::select! {
        biased;
        out = &mut call => Some(out),
        () = std::future::ready(()) => None,
    }
}

fn s(name: &str) -> SchemaName<'_> {
    SchemaName::new(name).unwrap()
}

fn k(key: &str) -> RecordKey<'_> {
    RecordKey::new(key).unwrap()
}

/// Generates one test per behaviour for a store opener `async fn() -> Store`.
#[macro_export]
macro_rules! conformance_tests {
    ($open:path) => {
        $crate::conformance_tests!(@each $open;
            insert_then_get, insert_existing_is_already_exists, update_semantics,
            delete_semantics, get_missing_is_not_found, count_semantics, exists_semantics,
            filter_missing_schema_is_empty, filter_lookups_match_the_model, isnull_follows_django,
            records_must_be_objects, bad_names_are_rejected_and_change_nothing,
            unusual_keys_round_trip, schemas_are_isolated, concurrent_inserts_one_winner,
            cancelled_calls_never_mix_answers, batches, save_reload_and_typed_records,
            returned_records_are_copies, large_and_unicode_records, model_equivalence);
    };
    (@each $open:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store = $open().await;
                $crate::conformance::$name(store).await;
            }
        )*
    };
}

pub async fn insert_then_get(store: Store) {
    let sc = schema("insert_get");
    let rec = json!({"id": "a", "n": 1, "nested": {"x": [1, 2, {"y": null}]}});
    store.insert(&sc, "a", &rec).await.unwrap();
    let back: Value = store.get(&sc, "a").await.unwrap();
    assert_eq!(back, rec);
    let raw = store.get_record(s(&sc), k("a")).await.unwrap();
    assert_eq!(raw.into_value(), rec);
}

pub async fn insert_existing_is_already_exists(store: Store) {
    let sc = schema("insert_dup");
    store.insert(&sc, "a", &json!({"v": 1})).await.unwrap();
    let e = store.insert(&sc, "a", &json!({"v": 2})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    let msg = e.to_string();
    assert!(msg.contains(&sc) && msg.contains("\"a\""), "{msg}");
    let back: Value = store.get(&sc, "a").await.unwrap();
    assert_eq!(back, json!({"v": 1}), "a failed insert must not overwrite");
}

pub async fn update_semantics(store: Store) {
    let sc = schema("update");
    let e = store.update(&sc, "a", &json!({"v": 1})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(
        !store.contains(&sc, "a").await.unwrap(),
        "update must not create"
    );
    store.insert(&sc, "a", &json!({"v": 1})).await.unwrap();
    store.update(&sc, "a", &json!({"v": 2})).await.unwrap();
    let back: Value = store.get(&sc, "a").await.unwrap();
    assert_eq!(back, json!({"v": 2}));
    assert_eq!(store.count_in(&sc).await.unwrap(), 1);
}

pub async fn delete_semantics(store: Store) {
    let sc = schema("delete");
    let e = store.delete(&sc, "a").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    store.insert(&sc, "a", &json!({})).await.unwrap();
    store.delete(&sc, "a").await.unwrap();
    assert!(!store.contains(&sc, "a").await.unwrap());
    let e = store.delete(&sc, "a").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    // A deleted key can be inserted again.
    store
        .insert(&sc, "a", &json!({"again": true}))
        .await
        .unwrap();
}

pub async fn get_missing_is_not_found(store: Store) {
    let sc = schema("get_missing");
    let e = store.get::<Value>(&sc, "nope").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let msg = e.to_string();
    assert!(msg.contains(&sc) && msg.contains("nope"), "{msg}");
    let mut v = json!({});
    let e = store.reload(&sc, "nope", &mut v).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

pub async fn count_semantics(store: Store) {
    let sc = schema("count");
    assert_eq!(store.count_in(&sc).await.unwrap(), 0);
    for i in 0..5 {
        store
            .insert(&sc, &format!("k{i}"), &json!({"i": i}))
            .await
            .unwrap();
    }
    assert_eq!(store.count_in(&sc).await.unwrap(), 5);
    store.delete(&sc, "k0").await.unwrap();
    assert_eq!(store.count_in(&sc).await.unwrap(), 4);
}

pub async fn exists_semantics(store: Store) {
    let sc = schema("exists");
    assert!(!store.contains(&sc, "a").await.unwrap());
    store.insert(&sc, "a", &json!({})).await.unwrap();
    assert!(store.contains(&sc, "a").await.unwrap());
    assert!(!store.contains(&sc, "b").await.unwrap());
}

pub async fn filter_missing_schema_is_empty(store: Store) {
    let sc = schema("filter_missing");
    let all = store.filter_record(s(&sc), &Filter::all()).await.unwrap();
    assert!(all.is_empty());
    let f = Filter::parse_args(&["status=done"]).unwrap();
    assert!(store.filter_record(s(&sc), &f).await.unwrap().is_empty());
}

/// A dataset that exercises every lookup and type pairing.
fn dataset() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let values = [
        json!(1),
        json!(1.0),
        json!(2.5),
        json!(-3),
        json!("done"),
        json!("doing"),
        json!(""),
        json!("1"),
        json!(true),
        json!(false),
        json!(null),
        json!([1, "a", null]),
        json!({"a": 1}),
    ];
    for (i, v) in values.iter().enumerate() {
        out.push((
            format!("r{i}"),
            json!({"v": v, "meta": {"tag": if i % 2 == 0 { "even" } else { "odd" }, "i": i}, "i": i}),
        ));
    }
    out.push(("no_v".into(), json!({"other": 1})));
    out.push(("meta_not_obj".into(), json!({"meta": "flat", "v": 7})));
    out
}

/// Filters whose expected results come from `Filter::matches`, the reference semantics.
fn filter_cases() -> Vec<Vec<&'static str>> {
    vec![
        vec![],
        vec!["v=1"],
        vec!["v=1.0"],
        vec!["v=\"1\""],
        vec!["v=done"],
        vec!["v=true"],
        vec!["v=null"],
        vec!["v=[1,\"a\",null]"],
        vec!["v={\"a\":1}"],
        vec!["v__ne=1"],
        vec!["v__ne=done"],
        vec!["v__ne=true"],
        vec!["v__gt=1"],
        vec!["v__gte=1"],
        vec!["v__lt=2"],
        vec!["v__lte=-3"],
        vec!["v__gt=do"],
        vec!["v__lt=done"],
        vec!["v__in=[1,\"done\",null]"],
        vec!["v__in=[]"],
        vec!["v__in=[{\"a\":1}]"],
        vec!["v__contains=o"],
        vec!["v__contains=a"],
        vec!["v__contains=1"],
        vec!["v__startswith=do"],
        vec!["v__startswith="],
        vec!["v__endswith=ne"],
        vec!["v__endswith=\"\""],
        vec!["v__isnull=true"],
        vec!["v__isnull=false"],
        vec!["meta.tag=even"],
        vec!["meta.tag=even", "v__gte=0"],
        vec!["meta.i__in=[0,4,8]"],
        vec!["nope=1"],
        vec!["nope__ne=1"],
        vec!["nope__isnull=true"],
        vec!["nope__isnull=false"],
        vec!["meta.tag__isnull=true"],
        vec!["meta.tag.deeper__isnull=true"],
        vec!["v.a__isnull=true"],
        vec!["meta.tag.deeper=x"],
        vec!["i__gte=3", "i__lt=6"],
    ]
}

pub async fn filter_lookups_match_the_model(store: Store) {
    let sc = schema("filter");
    let data = dataset();
    for (key, v) in &data {
        store.insert(&sc, key, v).await.unwrap();
    }
    for case in filter_cases() {
        let f = Filter::parse_args(&case).unwrap();
        let mut expected: Vec<&str> = data
            .iter()
            .filter(|(_, v)| f.matches(&doc(v.clone())))
            .map(|(k, _)| k.as_str())
            .collect();
        expected.sort();
        let found = store.filter_record(s(&sc), &f).await.unwrap();
        let mut got: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        got.sort();
        assert_eq!(got, expected, "filter {case:?}");
        for (key, d) in &found {
            let original = &data.iter().find(|(k, _)| k == key).unwrap().1;
            assert_eq!(
                &d.clone().into_value(),
                original,
                "record {key} of filter {case:?}"
            );
        }
    }
}

/// Django's `isnull` on JSON keys, stated outright (the model above could be wrong too):
/// `true` matches null and missing fields, `false` only present, non-null ones.
pub async fn isnull_follows_django(store: Store) {
    let sc = schema("isnull");
    let rows = [
        ("null", json!({"v": null})),
        ("one", json!({"v": 1})),
        ("missing", json!({"w": 1})),
        ("nested_null", json!({"v": {"t": null}})),
        ("nested_one", json!({"v": {"t": 1}})),
    ];
    for (key, v) in &rows {
        store.insert(&sc, key, v).await.unwrap();
    }
    let keys = |args: &[&str]| Filter::parse_args(args).unwrap();
    let got = filtered_keys(&*store, &sc, &keys(&["v__isnull=true"])).await;
    assert_eq!(got, ["missing", "null"], "v__isnull=true");
    let got = filtered_keys(&*store, &sc, &keys(&["v__isnull=false"])).await;
    assert_eq!(got, ["nested_null", "nested_one", "one"], "v__isnull=false");
    let got = filtered_keys(&*store, &sc, &keys(&["v.t__isnull=true"])).await;
    assert_eq!(
        got,
        ["missing", "nested_null", "null", "one"],
        "v.t__isnull=true"
    );
    let got = filtered_keys(&*store, &sc, &keys(&["v.t__isnull=false"])).await;
    assert_eq!(got, ["nested_one"], "v.t__isnull=false");
}

pub async fn records_must_be_objects(store: Store) {
    let sc = schema("objects");
    for bad in [json!(1), json!("x"), json!([1]), json!(null), json!(true)] {
        let e = store.insert(&sc, "a", &bad).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        let e = store.save(&sc, "a", &bad).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
    }
    assert_eq!(store.count_in(&sc).await.unwrap(), 0);
    assert!(Document::from_json("{\"a\": 1,").is_err());
}

pub async fn bad_names_are_rejected_and_change_nothing(store: Store) {
    let sc = schema("names");
    store.insert(&sc, "keep", &json!({"v": 1})).await.unwrap();
    let huge_schema = "s".repeat(10_000);
    let bad_schemas = ["", ".", "..", "../x", "a/b", "/", "a:b", "-x", &huge_schema];
    for bad in bad_schemas {
        let e = store.insert(bad, "k", &json!({})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "schema {bad:?}");
        let e = store.count_in(bad).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "schema {bad:?}");
        let e = store.contains(bad, "k").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "schema {bad:?}");
    }
    let huge_key = "k".repeat(100_000);
    for bad in ["", "a\nb", "nul\u{0}", "\u{1b}[31m", &huge_key] {
        for e in [
            store.insert(&sc, bad, &json!({})).await.unwrap_err(),
            store.update(&sc, bad, &json!({})).await.unwrap_err(),
            store.delete(&sc, bad).await.unwrap_err(),
            store.get::<Value>(&sc, bad).await.unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "key {bad:?}: {e}");
            assert!(e.to_string().len() < 300, "error messages stay short");
        }
    }
    assert_eq!(store.count_in(&sc).await.unwrap(), 1);
    let all = store.filter_record(s(&sc), &Filter::all()).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, "keep");
}

/// Keys a file system or URL would mangle; each must come back exactly.
pub fn unusual_keys() -> Vec<String> {
    vec![
        "a/b".into(),
        "../../etc/passwd".into(),
        ".".into(),
        "..".into(),
        ".hidden".into(),
        "~tilde".into(),
        "%2F".into(),
        "per%cent".into(),
        "with space".into(),
        "über-ключ-鍵".into(),
        "emoji🙂".into(),
        "a.json".into(),
        "x.json.tmp".into(),
        "q?a=1&b#frag".into(),
        "back\\slash".into(),
        "colon:key".into(),
        "*".into(),
        "k".repeat(180),
        "é".repeat(90),
    ]
}

pub async fn unusual_keys_round_trip(store: Store) {
    let sc = schema("keys");
    let keys = unusual_keys();
    for (i, key) in keys.iter().enumerate() {
        store.insert(&sc, key, &json!({"i": i})).await.unwrap();
    }
    assert_eq!(store.count_in(&sc).await.unwrap(), keys.len() as u64);
    for (i, key) in keys.iter().enumerate() {
        assert!(store.contains(&sc, key).await.unwrap(), "{key}");
        let v: Value = store.get(&sc, key).await.unwrap();
        assert_eq!(v, json!({"i": i}), "{key}");
    }
    let listed = filtered_keys(&*store, &sc, &Filter::all()).await;
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(listed, expected);
    for key in &keys {
        store.delete(&sc, key).await.unwrap();
    }
    assert_eq!(store.count_in(&sc).await.unwrap(), 0);
}

pub async fn schemas_are_isolated(store: Store) {
    let (a, b) = (schema("iso_a"), schema("iso_b"));
    store.insert(&a, "k", &json!({"in": "a"})).await.unwrap();
    store.insert(&b, "k", &json!({"in": "b"})).await.unwrap();
    let va: Value = store.get(&a, "k").await.unwrap();
    let vb: Value = store.get(&b, "k").await.unwrap();
    assert_eq!(
        (va["in"].clone(), vb["in"].clone()),
        (json!("a"), json!("b"))
    );
    store.delete(&a, "k").await.unwrap();
    assert!(store.contains(&b, "k").await.unwrap());
    assert_eq!(store.count_in(&a).await.unwrap(), 0);
    assert_eq!(store.count_in(&b).await.unwrap(), 1);
}

pub async fn concurrent_inserts_one_winner(store: Store) {
    for round in 0..3 {
        let sc = schema("race");
        let tasks = (0..16).map(|i| {
            let store = store.clone();
            let sc = sc.clone();
            tokio::spawn(async move { store.insert(&sc, "contended", &json!({"writer": i})).await })
        });
        let results: Vec<_> = join_all(tasks)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.kind(), ErrorKind::AlreadyExists, "{r}");
        }
        assert_eq!(store.count_in(&sc).await.unwrap(), 1);
    }
}

/// Calls dropped midway (polled once, or their caller's timeout ran out) must not leave
/// behind a connection whose late reply another caller then reads: every answer that arrives
/// is the caller's own, and the store works normally afterwards.
pub async fn cancelled_calls_never_mix_answers(store: Store) {
    let sc = schema("cancel");
    let keys: Vec<String> = (0..8).map(|i| format!("k{i}")).collect();
    for key in &keys {
        store
            .insert(&sc, key, &json!({ "key": key }))
            .await
            .unwrap();
    }
    let tasks = keys.iter().enumerate().map(|(i, key)| {
        let (store, sc, key) = (store.clone(), sc.clone(), key.clone());
        tokio::spawn(async move {
            let own = json!({ "key": key });
            for round in 0..30u64 {
                // A call dropped in flight, whatever the backend's latency.
                let first = poll_once_then_drop(store.get::<Value>(&sc, &key)).await;
                // Then one under a budget of 1 to 16 ms (tokio's timers count whole
                // milliseconds), dropped wherever the backend is slower than that.
                let budget = Duration::from_millis(1 << ((round + i as u64) % 5));
                let timed = tokio::time::timeout(budget, store.get::<Value>(&sc, &key)).await;
                for outcome in [first, timed.ok()].into_iter().flatten() {
                    match outcome {
                        Ok(v) => assert_eq!(v, own, "round {round}: another call's answer"),
                        // A connection given up by a cancelled call may fail a call sharing
                        // it, but only as a temporary error, never as a wrong answer.
                        Err(e) => assert!(e.is_temporary(), "round {round}, {key}: {e}"),
                    }
                }
                // Right after, while other tasks' calls are being dropped, a call given
                // all the time it needs gets its own record.
                let v: Value = store.get(&sc, &key).await.unwrap();
                assert_eq!(v, own, "round {round}: another call's answer");
            }
        })
    });
    for task in join_all(tasks).await {
        task.unwrap();
    }
    assert_eq!(store.count_in(&sc).await.unwrap(), keys.len() as u64);
}

pub async fn batches(store: Store) {
    let sc = schema("batch");
    store
        .insert(&sc, "k1", &json!({"pre": true}))
        .await
        .unwrap();
    let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
    let items: Vec<(RecordKey<'_>, Document)> = keys
        .iter()
        .map(|key| (k(key), doc(json!({"key": key}))))
        .collect();
    let out = store.insert_many(s(&sc), &items).await.unwrap();
    assert_eq!(out.len(), 50);
    for (i, r) in out.iter().enumerate() {
        if i == 1 {
            assert_eq!(r.as_ref().unwrap_err().kind(), ErrorKind::AlreadyExists);
        } else {
            assert!(r.is_ok(), "{i}: {r:?}");
        }
    }
    assert_eq!(store.count_in(&sc).await.unwrap(), 50);
    let mut ask: Vec<RecordKey<'_>> = keys.iter().map(|key| k(key)).collect();
    ask.push(k("missing"));
    let got = store.get_many(s(&sc), &ask).await.unwrap();
    assert_eq!(got.len(), 51);
    assert_eq!(got[1].as_ref().unwrap()["pre"], json!(true));
    assert_eq!(got[7].as_ref().unwrap()["key"], json!("k7"));
    assert_eq!(got[50].as_ref().unwrap_err().kind(), ErrorKind::NotFound);
    let gone = store.delete_many(s(&sc), &ask).await.unwrap();
    assert!(gone[..50].iter().all(|r| r.is_ok()));
    assert_eq!(gone[50].as_ref().unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(store.count_in(&sc).await.unwrap(), 0);
    assert!(store.insert_many(s(&sc), &[]).await.unwrap().is_empty());
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub status: String,
    pub attempts: u32,
}

impl Record for Task {
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
}

pub async fn save_reload_and_typed_records(store: Store) {
    assert_eq!(Task::schema_name(), "Task");
    let sc = schema("save");
    store.save(&sc, "a", &json!({"v": 1})).await.unwrap();
    store.save(&sc, "a", &json!({"v": 2})).await.unwrap();
    let v: Value = store.get(&sc, "a").await.unwrap();
    assert_eq!(v, json!({"v": 2}));

    // The Record trait, on its own schema ("Task"); keys unique to this run.
    let id = schema("task");
    let mut t = Task {
        id: id.clone(),
        status: "running".into(),
        attempts: 0,
    };
    t.insert(&*store).await.unwrap();
    assert_eq!(
        t.insert(&*store).await.unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert!(Task::exists(&*store, &id).await.unwrap());
    let mut stale = t.clone();
    t.status = "done".into();
    t.attempts = 3;
    t.update(&*store).await.unwrap();
    stale.reload(&*store).await.unwrap();
    assert_eq!(stale, t);
    let done = Task::filter(&*store, &Filter::all().eq("id", id.clone()).unwrap())
        .await
        .unwrap();
    assert_eq!(done, vec![t.clone()]);
    t.delete(&*store).await.unwrap();
    assert_eq!(
        stale.reload(&*store).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    t.save(&*store).await.unwrap();
    assert_eq!(Task::get(&*store, &id).await.unwrap(), t);
    t.delete(&*store).await.unwrap();
}

pub async fn returned_records_are_copies(store: Store) {
    let sc = schema("copies");
    store.insert(&sc, "a", &json!({"v": 1})).await.unwrap();
    let mut got = store.get_record(s(&sc), k("a")).await.unwrap();
    got.make_mut().insert("v".into(), json!(99));
    let mut listed = store.filter_record(s(&sc), &Filter::all()).await.unwrap();
    listed[0].1.make_mut().insert("v".into(), json!(98));
    let again: Value = store.get(&sc, "a").await.unwrap();
    assert_eq!(again, json!({"v": 1}));
    // And what the caller inserted is not aliased either.
    let mut mine = doc(json!({"v": 5}));
    store.insert_record(s(&sc), k("b"), &mine).await.unwrap();
    mine.make_mut().insert("v".into(), json!(6));
    let b: Value = store.get(&sc, "b").await.unwrap();
    assert_eq!(b, json!({"v": 5}));
}

pub async fn large_and_unicode_records(store: Store) {
    let sc = schema("large");
    let big = json!({"text": "ß∂🙂\"\\\n\t".repeat(10_000), "n": 1e300, "neg": -0.5, "arr": (0..1000).collect::<Vec<_>>()});
    store.insert(&sc, "big", &big).await.unwrap();
    let back: Value = store.get(&sc, "big").await.unwrap();
    assert_eq!(back, big);
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, u8),
    Update(u8, u8),
    Delete(u8),
    Get(u8),
    Exists(u8),
    Count,
    FilterGe(u8),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6, 0u8..4).prop_map(|(k, v)| Op::Insert(k, v)),
        (0u8..6, 0u8..4).prop_map(|(k, v)| Op::Update(k, v)),
        (0u8..6).prop_map(Op::Delete),
        (0u8..6).prop_map(Op::Get),
        (0u8..6).prop_map(Op::Exists),
        Just(Op::Count),
        (0u8..4).prop_map(Op::FilterGe),
    ]
}

/// Random operation sequences give the same answers as a BTreeMap model.
pub async fn model_equivalence(store: Store) {
    let cases: u32 = std::env::var("RECORDSTORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let config = ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(config, |(ops in proptest::collection::vec(op_strategy(), 1..30))| {
            handle.block_on(check_model(&store, &ops));
        });
    })
    .await
    .unwrap();
}

async fn check_model(store: &Store, ops: &[Op]) {
    let sc = schema("model");
    let mut model: BTreeMap<String, u8> = BTreeMap::new();
    for op in ops {
        match op {
            Op::Insert(key, v) => {
                let key = format!("k{key}");
                let r = store.insert(&sc, &key, &json!({"v": v})).await;
                match model.contains_key(&key) {
                    true => assert_eq!(r.unwrap_err().kind(), ErrorKind::AlreadyExists),
                    false => {
                        r.unwrap();
                        model.insert(key, *v);
                    }
                }
            }
            Op::Update(key, v) => {
                let key = format!("k{key}");
                let r = store.update(&sc, &key, &json!({"v": v})).await;
                match model.get_mut(&key) {
                    Some(slot) => {
                        r.unwrap();
                        *slot = *v;
                    }
                    None => assert_eq!(r.unwrap_err().kind(), ErrorKind::NotFound),
                }
            }
            Op::Delete(key) => {
                let key = format!("k{key}");
                let r = store.delete(&sc, &key).await;
                match model.remove(&key) {
                    Some(_) => r.unwrap(),
                    None => assert_eq!(r.unwrap_err().kind(), ErrorKind::NotFound),
                }
            }
            Op::Get(key) => {
                let key = format!("k{key}");
                let r = store.get::<Value>(&sc, &key).await;
                match model.get(&key) {
                    Some(v) => assert_eq!(r.unwrap(), json!({"v": v})),
                    None => assert_eq!(r.unwrap_err().kind(), ErrorKind::NotFound),
                }
            }
            Op::Exists(key) => {
                let key = format!("k{key}");
                assert_eq!(
                    store.contains(&sc, &key).await.unwrap(),
                    model.contains_key(&key)
                );
            }
            Op::Count => assert_eq!(store.count_in(&sc).await.unwrap(), model.len() as u64),
            Op::FilterGe(min) => {
                let f = Filter::parse_args(&[format!("v__gte={min}")]).unwrap();
                let got = filtered_keys(store, &sc, &f).await;
                let want: Vec<String> = model
                    .iter()
                    .filter(|(_, v)| **v >= *min)
                    .map(|(k, _)| k.clone())
                    .collect();
                assert_eq!(got, want);
            }
        }
    }
}
