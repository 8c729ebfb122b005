#!/usr/bin/env python3
"""Runs recordstore's benchmarks next to their baselines in one run, and prints Markdown tables.

usage: scripts/bench.py [SECTION ...]   (default: every section whose servers answer)
sections: memory sqlite modes redis redis-modes hdfs copy codec
Needs: target/release/recordstore and examples (cargo build --release -p recordstore --examples), the peer
(../shared/peer/setup.sh into .peer-venv), redis-benchmark, and the servers of scripts/test
(scripts/start-redis.sh, scripts/start-hdfs.sh) for the redis and hdfs sections.
Each figure is the median of ROUNDS runs; ours and the baseline alternate so that both see
the same machine state.
"""
import os, statistics, subprocess, sys, json, shutil, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RS = os.path.join(ROOT, "target/release/recordstore")
EX = os.path.join(ROOT, "target/release/examples")
PEER = os.environ.get("PEER_PYTHON", os.path.join(ROOT, ".peer-venv/bin/python"))
PEER_BENCH = os.path.join(ROOT, "../shared/peer/peer_bench.py")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
N = int(os.environ.get("N", "20000"))
# A server of its own with Redis's default persistence (no AOF), started if it does not answer:
# the test servers fsync every write, which would measure the disk, not the client.
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6392/0")
REDIS_PORT = REDIS.rsplit(":", 1)[1].split("/")[0]
OPS = ["insert", "get", "update", "exists", "count", "filter", "delete"]
# BENCH_PIN=1: the Redis sections pin the bench server to CPU 0 and every client (ours,
# redis-benchmark, the peer) to CPU 1, so that the scheduler's placement does not vary
# between runs.
PIN = ["taskset", "-c", "1"] if os.environ.get("BENCH_PIN") else []


def run(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out.stderr}")
    return out.stdout


def parse_tsv(text):
    rates = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] in OPS:
            rates[parts[0]] = float(parts[3])
    return rates


def medians(runs):
    keys = runs[0].keys()
    return {k: statistics.median(r[k] for r in runs if k in r) for k in keys}


def alternate(commands):
    """commands: {label: argv}; runs each ROUNDS times, interleaved; returns medians."""
    results = {label: [] for label in commands}
    for _ in range(ROUNDS):
        for label, argv in commands.items():
            results[label].append(parse_tsv(run(argv)))
    return {label: medians(r) for label, r in results.items()}


def table(title, cols, rows_by_label, ratio=None):
    print(f"\n### {title}\n")
    head = ["op"] + cols + ([f"ratio {ratio[0]} / {ratio[1]}"] if ratio else [])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for op in OPS:
        if not all(op in rows_by_label[c] for c in cols):
            continue
        cells = [f"{rows_by_label[c][op]:,.0f}" for c in cols]
        if ratio:
            cells.append(f"{rows_by_label[ratio[0]][op] / rows_by_label[ratio[1]][op]:.2f}x")
        print("| " + " | ".join([op] + cells) + " |")


def section_memory():
    r = alternate({
        "recordstore memory://": [RS, "--url", "memory://", "bench", "--records", str(N)],
        "peer InMemoryKeyValueStoreBackend": [PEER, PEER_BENCH, "memory", str(N)],
    })
    cols = list(r)
    table(f"memory, one client, N={N} (ops/s, median of {ROUNDS})", cols, r, (cols[0], cols[1]))


def section_sqlite():
    tmp = tempfile.mkdtemp()
    db, plain = os.path.join(tmp, "bench.db"), os.path.join(tmp, "plain.db")
    r = alternate({
        "recordstore sqlite://": [RS, "--url", f"sqlite://{db}", "bench", "--records", str(N)],
        "plain rusqlite loop": [os.path.join(EX, "sqlite_plain_loop"), plain, str(N)],
    })
    cols = list(r)
    table(f"SQLite, one client, N={N} (ops/s, median of {ROUNDS})", cols, r, (cols[0], cols[1]))
    shutil.rmtree(tmp)


def section_redis_modes():
    ensure_bench_redis()
    for c in (1, 16, 64):
        r = alternate({
            f"single c={c}": PIN + [RS, "--url", REDIS, "--threads", "1", "--mode", "single", "bench", "--records", str(N), "--concurrency", str(c)],
            f"pooled(4) c={c}": PIN + [RS, "--url", REDIS, "--threads", "1", "--mode", "pooled", "--max-connections", "4", "bench", "--records", str(N), "--concurrency", str(c)],
        })
        cols = list(r)
        table(f"Redis single vs pooled, concurrency {c} (ops/s)", cols, r, (cols[1], cols[0]))


def section_modes():
    tmp = tempfile.mkdtemp()
    url = f"sqlite://{os.path.join(tmp, 'modes.db')}"
    for c in (1, 16, 64):
        r = alternate({
            f"single c={c}": [RS, "--url", url, "--threads", "2", "--mode", "single", "bench", "--records", str(N), "--concurrency", str(c)],
            f"pooled(4) c={c}": [RS, "--url", url, "--threads", "2", "--mode", "pooled", "--max-connections", "4", "bench", "--records", str(N), "--concurrency", str(c)],
        })
        cols = list(r)
        table(f"SQLite single vs pooled, concurrency {c} (ops/s)", cols, r, (cols[1], cols[0]))
    shutil.rmtree(tmp)


def redis_benchmark(extra):
    # -d 200: values the size of the workload's records (the default is 3 bytes). SET runs
    # first so that GET reads a 200-byte value: with `-t hset,get` alone every GET misses
    # (its key is never set) and measures a 5-byte nil reply instead.
    out = run(PIN + ["redis-benchmark", "-p", REDIS_PORT, "-n", str(N * 2), "-t", "set,hset,get", "-d", "200", "-q", "--csv"] + extra)
    rates = {}
    for line in out.splitlines():
        parts = [p.strip('"') for p in line.split(",")]
        if parts and parts[0].startswith(("HSET", "GET")):
            rates[parts[0].split()[0].lower()] = float(parts[1])
    return rates


def ensure_bench_redis():
    if subprocess.run(["redis-cli", "-p", REDIS_PORT, "ping"], capture_output=True).returncode != 0:
        run(["redis-server", "--port", REDIS_PORT, "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "yes", "--dir", tempfile.mkdtemp()])
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", REDIS_PORT, "ping"], capture_output=True).returncode == 0:
                break
            __import__("time").sleep(0.1)
    pid = run(["redis-cli", "-p", REDIS_PORT, "info", "server"]).split("process_id:")[1].split()[0]
    cpus = "0" if PIN else f"0-{os.cpu_count() - 1}"
    run(["taskset", "-a", "-p", "-c", cpus, pid])


def section_redis():
    """Ours and redis-benchmark alternate within every round, and each target's ratio is the
    median of the per-round ratios: the machine's speed drifts, so only neighbours compare."""
    ensure_bench_redis()
    variants = [("c=1", ["--concurrency", "1"], "c=1", ["-c", "1"]),
                ("c=16", ["--concurrency", "16"], "c=16", ["-c", "16"]),
                ("c=16 batch 16", ["--concurrency", "16", "--batch", "16"], "c=16 -P 16", ["-c", "16", "-P", "16"])]
    ours = {v[0]: [] for v in variants}
    rb = {v[2]: [] for v in variants}
    for _ in range(ROUNDS):
        for label, extra, rb_label, rb_extra in variants:
            rb[rb_label].append(redis_benchmark(rb_extra))
            ours[label].append(parse_tsv(run(PIN + [RS, "--url", REDIS, "bench", "--records", str(N)] + extra)))
    res = {k: medians(v) for k, v in ours.items()}
    rbm = {k: medians(v) for k, v in rb.items()}
    # The Lua filter path, for the README's comparison of the two filter modes.
    label = "c=1 ?filter=server"
    res[label] = alternate({label: PIN + [RS, "--url", REDIS + "?filter=server", "bench", "--records", str(N), "--ops", "filter"]})[label]
    peer = alternate({"peer": PIN + [PEER, PEER_BENCH, "redis", str(N), "--port", REDIS_PORT]})["peer"]
    print(f"\n### Redis ({REDIS}), N={N} (ops/s, median of {ROUNDS})\n")
    print("| op | " + " | ".join(f"recordstore {k}" for k in res) + " | peer |")
    print("|" + "---|" * (len(res) + 2))
    for op in OPS:
        cells = ["-" if op not in res[k] else f"{res[k][op]:,.0f}" for k in res]
        print(f"| {op} | " + " | ".join(cells) + f" | {peer.get(op, 0):,.0f} |")
    print("\n| redis-benchmark -d 200 | HSET | GET |\n|---|---|---|")
    for k, v in rbm.items():
        print(f"| {k} | {v.get('hset', 0):,.0f} | {v.get('get', 0):,.0f} |")
    print("\n| target | ours | redis-benchmark | median ratio | ratio in each round |\n|---|---|---|---|---|")
    for label, _, rb_label, _ in variants:
        for op, rop in [("insert", "hset"), ("get", "get")]:
            per_round = [o.get(op, 0) / r.get(rop, 1) for o, r in zip(ours[label], rb[rb_label])]
            print(f"| {op} {label} vs {rop.upper()} {rb_label} | {res[label].get(op, 0):,.0f} | "
                  f"{rbm[rb_label].get(rop, 0):,.0f} | {statistics.median(per_round):.2f}x | "
                  + " ".join(f"{x:.2f}" for x in per_round) + " |")
    f_ours, f_peer = res["c=1"].get("filter", 0), peer.get("filter", 1)
    print(f"| filter scan vs peer | {f_ours:,.0f} | peer {f_peer:,.0f} | {f_ours / f_peer:.1f}x | |")


def section_codec():
    """`recordstore bench` on Redis with codec=json and codec=pickle, and the peer, interleaved
    in every round; the pickle/json ratio is the median of the per-round ratios."""
    ensure_bench_redis()
    sep = "&" if "?" in REDIS else "?"
    commands = {"json": PIN + [RS, "--url", REDIS, "bench", "--records", str(N)],
                "pickle": PIN + [RS, "--url", f"{REDIS}{sep}codec=pickle", "bench", "--records", str(N)],
                "peer": PIN + [PEER, PEER_BENCH, "redis", str(N), "--port", REDIS_PORT]}
    runs = {label: [] for label in commands}
    for _ in range(ROUNDS):
        for label, argv in commands.items():
            runs[label].append(parse_tsv(run(argv)))
    res = {label: medians(r) for label, r in runs.items()}
    print(f"\n### Redis codec ({REDIS}), N={N} (ops/s, median of {ROUNDS})\n")
    print("| op | json | pickle | peer | pickle / json (median of rounds) | per round | pickle / peer |")
    print("|---|---|---|---|---|---|---|")
    for op in OPS:
        if op not in res["json"] or op not in res["pickle"]:
            continue
        per_round = [p[op] / j[op] for p, j in zip(runs["pickle"], runs["json"])]
        peer = res["peer"].get(op)
        pickle_rate = res["pickle"][op]
        peer_cell = f"{peer:,.0f}" if peer else "-"
        vs_peer = f"{pickle_rate / peer:.1f}x" if peer else "-"
        print(f"| {op} | {res['json'][op]:,.0f} | {pickle_rate:,.0f} | {peer_cell} | "
              f"{statistics.median(per_round):.2f}x | " + " ".join(f"{x:.2f}" for x in per_round)
              + f" | {vs_peer} |")


def section_hdfs():
    n = int(os.environ.get("HDFS_N", "2000"))
    # Every command runs once per round, all interleaved, so each sees the same JVM warmth.
    commands = {label: [RS, "--url", url, "bench", "--records", str(n)] + extra
                for label, url, extra in [("hdfs:// c=1", "hdfs://127.0.0.1:9000/bench", []),
                                          ("hdfs:// c=16", "hdfs://127.0.0.1:9000/bench", ["--concurrency", "16"]),
                                          ("webhdfs:// c=1", "webhdfs://127.0.0.1:9870/bench", [])]}
    commands["plain"] = [os.path.join(EX, "hdfs_plain_loop"), "hdfs://127.0.0.1:9000/plain", str(n)]
    commands["peer"] = [PEER, PEER_BENCH, "hdfs", str(n), "--port", "9870"]
    res = alternate(commands)
    plain, peer = res.pop("plain"), res.pop("peer")
    print(f"\n### HDFS (MiniDFSCluster), N={n} (ops/s, median of {ROUNDS})\n")
    cols = list(res) + ["plain hdfs-native loop", "peer (WebHDFS)"]
    print("| op | " + " | ".join(cols) + " |")
    print("|" + "---|" * (len(cols) + 1))
    for op in OPS:
        vals = [res[k].get(op) for k in res] + [plain.get(op), peer.get(op)]
        print(f"| {op} | " + " | ".join("-" if v is None else f"{v:,.0f}" for v in vals) + " |")
    for op in ("insert", "get"):
        a = res["hdfs:// c=1"][op]
        print(f"\n{op}: {a / peer[op]:.1f}x the peer, {a / plain[op]:.2f}x the plain loop, "
              f"concurrency 16 scales {res['hdfs:// c=16'][op] / a:.1f}x over one client")


def timed(shell_cmd):
    """Seconds a shell command takes (it must succeed)."""
    import time
    t = time.perf_counter()
    out = subprocess.run(shell_cmd, shell=True, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"failed: {shell_cmd}\n{out.stderr}")
    return time.perf_counter() - t


def section_copy():
    """`recordstore copy` against `export | import`, records/s, on the same records."""
    import shlex
    n = int(os.environ.get("COPY_N", "100000"))
    hdfs_n = int(os.environ.get("COPY_HDFS_N", str(n)))
    ensure_bench_redis()
    tmp = tempfile.mkdtemp(prefix="recordstore-copy-bench-")
    q = shlex.quote
    try:
        # One source of each kind, filled once: the peer's record shape, 100k keys.
        lines = os.path.join(tmp, "records.jsonl")
        with open(lines, "w") as f:
            for i in range(max(n, hdfs_n)):
                f.write(json.dumps({"id": f"r{i:07}", "event_name": f"ev{i % 50}", "error": i % 7 == 0,
                                    "content": {"n": i, "text": "x" * 40}, "task_id": f"t{i}",
                                    "process_id": 4242, "creation_time": 1.7e9 + i}) + "\n")
        redis_src = f"{REDIS}?prefix=copybench{os.getpid()}"
        sqlite_src = f"sqlite://{tmp}/src.db"
        head = os.path.join(tmp, "head.jsonl")
        with open(lines) as f, open(head, "w") as g:
            for i, line in zip(range(hdfs_n), f):
                g.write(line)
        with open(lines) as f, open(os.path.join(tmp, "n.jsonl"), "w") as g:
            for i, line in zip(range(n), f):
                g.write(line)
        run([RS, "--url", redis_src, "import", "copyb", os.path.join(tmp, "n.jsonl"), "--key-field", "id"])
        run([RS, "--url", sqlite_src, "import", "copyb", head, "--key-field", "id"])
        pairs = [("Redis -> SQLite", redis_src, lambda r, k: f"sqlite://{tmp}/dst-{k}-{r}.db", n),
                 ("SQLite -> HDFS", sqlite_src,
                  lambda r, k: f"hdfs://127.0.0.1:9000/copybench{os.getpid()}-{k}-{r}", hdfs_n)]
        print(f"\n### Copy, records/s (median of {ROUNDS})\n")
        print("| route | records | copy | export \\| import | ratio |")
        print("|---|---|---|---|---|")
        for title, src, dst, count in pairs:
            copy_s, pipe_s = [], []
            for r in range(ROUNDS):
                copy_s.append(timed(f"{q(RS)} --url {q(src)} copy --to {q(dst(r, 'copy'))} copyb"))
                pipe_s.append(timed(f"{q(RS)} --url {q(src)} export copyb | "
                                    f"{q(RS)} --url {q(dst(r, 'pipe'))} import copyb -"))
            c, p = count / statistics.median(copy_s), count / statistics.median(pipe_s)
            print(f"| {title} | {count:,} | {c:,.0f} | {p:,.0f} | {c / p:.2f}x |")
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        import urllib.request
        for k in ("copy", "pipe"):
            for r in range(ROUNDS):
                url = (f"http://127.0.0.1:9870/webhdfs/v1/copybench{os.getpid()}-{k}-{r}"
                       "?op=DELETE&recursive=true&user.name=root")
                try:
                    urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=60)
                except OSError:
                    pass
        subprocess.run(f"redis-cli -p {REDIS_PORT} --scan --pattern 'copybench{os.getpid()}:*' | "
                       f"xargs -r redis-cli -p {REDIS_PORT} del", shell=True, capture_output=True)


SECTIONS = {"memory": section_memory, "sqlite": section_sqlite, "modes": section_modes,
            "redis": section_redis, "redis-modes": section_redis_modes, "hdfs": section_hdfs,
            "copy": section_copy, "codec": section_codec}

if __name__ == "__main__":
    wanted = sys.argv[1:] or list(SECTIONS)
    for s in wanted:
        SECTIONS[s]()
        sys.stdout.flush()
