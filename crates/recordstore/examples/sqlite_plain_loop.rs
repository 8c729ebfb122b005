//! The baseline for `recordstore bench` on SQLite: a plain rusqlite loop that runs the same
//! statements on the same kind of file, with the same pragmas, one connection, and the same
//! JSON work (serialize on write, parse on read), but none of recordstore's layers.
//!
//! usage: cargo run --release --example sqlite_plain_loop -- PATH [N]

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use std::time::Instant;

// The same allocator as the recordstore CLI, so that the comparison is of the layers alone.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn report(op: &str, n: usize, secs: f64) {
    println!("{op}\t{n}\t{secs:.3}\t{:.0}", n as f64 / secs);
}

fn main() -> rusqlite::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "plain.db".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let _ = std::fs::remove_file(&path);
    let conn = Connection::open(&path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS records (schema TEXT NOT NULL, key TEXT NOT NULL,
         doc TEXT NOT NULL, PRIMARY KEY (schema, key)) WITHOUT ROWID;",
    )?;
    let records: Vec<(String, Value)> = (0..n)
        .map(|i| {
            let id = format!("r{i}");
            let v = json!({"id": id, "status": if i % 10 == 0 { "done" } else { "running" },
                           "attempts": i % 7, "payload": "x".repeat(150)});
            (id, v)
        })
        .collect();

    let t = Instant::now();
    for (k, v) in &records {
        let mut st = conn.prepare_cached(
            "INSERT OR IGNORE INTO records (schema, key, doc) VALUES (?1, ?2, ?3)",
        )?;
        assert_eq!(st.execute(params!["bench", k, v.to_string()])?, 1);
    }
    report("insert", n, t.elapsed().as_secs_f64());

    let t = Instant::now();
    for (k, _) in &records {
        let mut st =
            conn.prepare_cached("SELECT doc FROM records WHERE schema = ?1 AND key = ?2")?;
        let text: Option<String> = st.query_row(params!["bench", k], |r| r.get(0)).optional()?;
        let v: Value = serde_json::from_str(&text.expect("present")).expect("json");
        assert!(v.is_object());
    }
    report("get", n, t.elapsed().as_secs_f64());

    let t = Instant::now();
    for (k, v) in &records {
        let mut st =
            conn.prepare_cached("UPDATE records SET doc = ?3 WHERE schema = ?1 AND key = ?2")?;
        assert_eq!(st.execute(params!["bench", k, v.to_string()])?, 1);
    }
    report("update", n, t.elapsed().as_secs_f64());

    let t = Instant::now();
    for (k, _) in &records {
        let mut st = conn.prepare_cached("SELECT 1 FROM records WHERE schema = ?1 AND key = ?2")?;
        assert!(st.exists(params!["bench", k])?);
    }
    report("exists", n, t.elapsed().as_secs_f64());

    let t = Instant::now();
    for _ in 0..1000 {
        let mut st = conn.prepare_cached("SELECT COUNT(*) FROM records WHERE schema = ?1")?;
        let c: i64 = st.query_row(params!["bench"], |r| r.get(0))?;
        assert_eq!(c as usize, n);
    }
    report("count", 1000, t.elapsed().as_secs_f64());

    let t = Instant::now();
    for _ in 0..5 {
        let mut st = conn.prepare_cached(
            "SELECT key, doc FROM records WHERE schema = ?1
             AND json_type(doc, '$.\"status\"') = 'text' AND json_extract(doc, '$.\"status\"') = ?2",
        )?;
        let rows = st.query_map(params!["bench", "done"], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut found = 0;
        for row in rows {
            let (_, text) = row?;
            let _: Value = serde_json::from_str(&text).expect("json");
            found += 1;
        }
        assert_eq!(found, n.div_ceil(10));
    }
    report("filter", 5 * n, t.elapsed().as_secs_f64());

    let t = Instant::now();
    for (k, _) in &records {
        let mut st = conn.prepare_cached("DELETE FROM records WHERE schema = ?1 AND key = ?2")?;
        assert_eq!(st.execute(params!["bench", k])?, 1);
    }
    report("delete", n, t.elapsed().as_secs_f64());
    Ok(())
}
