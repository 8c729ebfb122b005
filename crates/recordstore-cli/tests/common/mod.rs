//! Helpers shared by the CLI's integration tests: run the built binary, and find the real
//! peer (event-pipeline 2.0.0) that the interop tests drive.
#![allow(dead_code)] // each test binary uses its own subset

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `recordstore --url URL ARGS…`, with no URL or config from the environment and no stdin.
pub fn rs(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recordstore"))
        .arg("--url")
        .arg(url)
        .args(args)
        .env_remove("RECORDSTORE_URL")
        .env_remove("RECORDSTORE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The stdout of a command that must succeed (its stderr when it did not).
pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// One JSON value per line (export's output, a peer script's).
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Runs `script` with [`peer_python`], `input` on its stdin and `dir` (if any) as its working
/// directory; its stdout. A script that fails fails the test with its stderr.
pub fn run_peer(script: &str, args: &[&str], input: &[u8], dir: Option<&Path>) -> String {
    let mut command = Command::new(peer_python());
    command.arg("-c").arg(script).args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the peer failed ({args:?}):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The python of a venv with event-pipeline 2.0.0, redis and hdfs: `RECORDSTORE_PEER_PYTHON`,
/// else the one scripts/test makes in `target/peer-venv`. A missing or broken peer fails the
/// test with the way to make one; it never skips.
pub fn peer_python() -> PathBuf {
    let python = std::env::var_os("RECORDSTORE_PEER_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/peer-venv/bin/python")
        });
    let how = "run scripts/test (it makes target/peer-venv), or set RECORDSTORE_PEER_PYTHON to \
               a python with `pip install event-pipeline==2.0.0 redis hdfs`";
    assert!(
        python.exists(),
        "the peer's python {} does not exist: {how}",
        python.display()
    );
    let imports = Command::new(&python)
        .args(["-c", "import event_pipeline, redis, hdfs"])
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {how}", python.display()));
    assert!(
        imports.success(),
        "{} cannot import event_pipeline, redis and hdfs: {how}",
        python.display()
    );
    python
}
