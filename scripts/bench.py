#!/usr/bin/env python3
"""Runs recordstore's benchmarks next to their baselines in one run, and prints Markdown tables.

usage: scripts/bench.py [SECTION ...]   (default: every section whose servers answer)
sections: memory sqlite modes redis redis-modes codec hdfs
Needs: target/release/recordstore and examples (cargo build --release -p recordstore --examples), the peer
(../shared/peer/setup.sh into .peer-venv), redis-benchmark, and the servers of scripts/test
(scripts/start-redis.sh, scripts/start-hdfs.sh) for the redis and hdfs sections.
Each figure is the median of ROUNDS runs; ours and the baseline alternate so that both see
the same machine state.
"""
import os, statistics, subprocess, sys, json, shutil, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# CARGO_TARGET_DIR, if set, is where the release build is (as cargo itself reads it).
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
RS = os.path.join(TARGET, "release/recordstore")
EX = os.path.join(TARGET, "release/examples")
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
    """`recordstore bench` on one Redis with ?codec=json and ?codec=pickle, and the peer
    (which stores pickles) on the same server, in every round; json and pickle swap places
    each round, and each ratio is the median of the per-round ratios, as only neighbours
    compare on this machine."""
    ensure_bench_redis()
    commands = {
        "json": PIN + [RS, "--url", REDIS + "?codec=json", "bench", "--records", str(N)],
        "pickle": PIN + [RS, "--url", REDIS + "?codec=pickle", "bench", "--records", str(N)],
    }
    peer_cmd = PIN + [PEER, PEER_BENCH, "redis", str(N), "--port", REDIS_PORT]
    runs = {"json": [], "pickle": [], "peer": []}
    for r in range(ROUNDS):
        order = ["json", "pickle"] if r % 2 == 0 else ["pickle", "json"]
        for label in order:
            runs[label].append(parse_tsv(run(commands[label])))
        runs["peer"].append(parse_tsv(run(peer_cmd)))
    med = {label: medians(v) for label, v in runs.items()}
    print(f"\n### Redis ({REDIS}): codec=pickle against codec=json and the peer, N={N} "
          f"(ops/s, median of {ROUNDS})\n")
    print("| op | recordstore json | recordstore pickle | pickle / json (median of rounds) "
          "| in each round | peer (pickle) | pickle / peer | met? (>= 0.91x: at most 10 % more time) |")
    print("|" + "---|" * 8)
    for op in OPS:
        per_round = [p[op] / j[op] for p, j in zip(runs["pickle"], runs["json"])]
        ratio = statistics.median(per_round)
        target = op in ("insert", "get", "update", "filter")
        met = ("yes" if ratio >= 1 / 1.1 else "**no**") if target else "-"
        peer = med["peer"].get(op, 0)
        print(f"| {op} | {med['json'][op]:,.0f} | {med['pickle'][op]:,.0f} | {ratio:.2f}x | "
              + " ".join(f"{x:.2f}" for x in per_round)
              + f" | {peer:,.0f} | {med['pickle'][op] / peer if peer else 0:.1f}x | {met} |")


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


SECTIONS = {"memory": section_memory, "sqlite": section_sqlite, "modes": section_modes,
            "redis": section_redis, "redis-modes": section_redis_modes, "codec": section_codec,
            "hdfs": section_hdfs}

if __name__ == "__main__":
    wanted = sys.argv[1:] or list(SECTIONS)
    for s in wanted:
        SECTIONS[s]()
        sys.stdout.flush()
