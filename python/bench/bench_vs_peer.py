#!/usr/bin/env python3
"""The peer's workload (../shared/peer/peer_bench.py) from Python: ours against the peer.

usage: bench_vs_peer.py [SECTION ...]     sections: runtime redis hdfs memory threads (default: all)
env:   N (redis/memory records, 10000), HDFS_N (300), ROUNDS (3),
       BENCH_REDIS (127.0.0.1:6392, a Redis without fsync), WEBHDFS (127.0.0.1:9870),
       HDFS (127.0.0.1:9000), HDFS_SETTLE (3: seconds of pause after each HDFS run)

Needs recordstore, event-pipeline==2.0.0, redis and hdfs in the running interpreter. In every
section the implementations run one after the other in each round, in one process, and each
figure is the median of ROUNDS rounds (ops/s; filter counts records scanned). Every
implementation runs the same workload on the same records: N objects with id, status ("done"
for every 10th), attempts and a 150-byte payload, built before the clock starts;
insert N, get N, update N, exists N, count x1000, filter status=done x5, delete N.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import threading
import time
import uuid
from typing import Any, Callable, Dict, List

# Importing event-pipeline sets the root logger to INFO, and the hdfs client then logs every
# request; that would time the peer's logging, not its storage.
logging.disable(logging.INFO)

OPS = ["insert", "get", "update", "exists", "count", "filter", "delete"]
N = int(os.environ.get("N", "10000"))
HDFS_N = int(os.environ.get("HDFS_N", "300"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
REDIS_HOST, REDIS_PORT = os.environ.get("BENCH_REDIS", "127.0.0.1:6392").rsplit(":", 1)
WEBHDFS_HOST, WEBHDFS_PORT = os.environ.get("WEBHDFS", "127.0.0.1:9870").rsplit(":", 1)
HDFS_HOST, HDFS_PORT = os.environ.get("HDFS", "127.0.0.1:9000").rsplit(":", 1)
HDFS_SETTLE = float(os.environ.get("HDFS_SETTLE", "3"))


class Rec:
    """The peer's benchmark record."""

    def __init__(self, i: int) -> None:
        self.id = f"r{i}"
        self.status = "done" if i % 10 == 0 else "running"
        self.attempts = i % 7
        self.payload = "x" * 150

    def __getstate__(self) -> Dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, s: Dict[str, Any]) -> None:
        self.__dict__.update(s)


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def seed_workload(store: Any, n: int, schema: str = "bench") -> Dict[str, float]:
    """peer_bench.py's loop, on any object with the seed's methods."""
    recs = [Rec(i) for i in range(n)]
    r: Dict[str, float] = {}
    r["insert"] = n / timed(lambda: [store.insert_record(schema, x.id, x) for x in recs])
    r["get"] = n / timed(lambda: [store.get_record(schema, Rec, x.id) for x in recs])
    r["update"] = n / timed(lambda: [store.update_record(schema, x.id, x) for x in recs])
    r["exists"] = n / timed(lambda: [store.exists(schema, x.id) for x in recs])
    r["count"] = 1000 / timed(lambda: [store.count(schema) for _ in range(1000)])
    r["filter"] = 5 * n / timed(lambda: [store.filter_record(schema, Rec, status="done") for _ in range(5)])
    r["delete"] = n / timed(lambda: [store.delete_record(schema, x.id) for x in recs])
    return r


def redis_py_workload(n: int) -> Dict[str, float]:
    """The same work as a plain redis-py loop: HSET/HGET of JSON text, HEXISTS, HLEN, HSCAN, HDEL."""
    import redis

    c = redis.Redis(host=REDIS_HOST, port=int(REDIS_PORT), db=0)
    key = "bench-redis-py"
    c.delete(key)
    recs = [Rec(i) for i in range(n)]
    r: Dict[str, float] = {}

    def load(raw: bytes) -> Rec:
        x = Rec.__new__(Rec)
        x.__setstate__(json.loads(raw))
        return x

    def scan() -> List[Rec]:
        out, cursor = [], 0
        while True:
            cursor, data = c.hscan(key, cursor=cursor, count=1000)
            for v in data.values():
                x = load(v)
                if x.status == "done":
                    out.append(x)
            if cursor == 0:
                return out

    r["insert"] = n / timed(lambda: [c.hsetnx(key, x.id, json.dumps(x.__getstate__())) for x in recs])
    r["get"] = n / timed(lambda: [load(c.hget(key, x.id)) for x in recs])  # type: ignore[arg-type]
    r["update"] = n / timed(lambda: [c.hset(key, x.id, json.dumps(x.__getstate__())) for x in recs])
    r["exists"] = n / timed(lambda: [c.hexists(key, x.id) for x in recs])
    r["count"] = 1000 / timed(lambda: [c.hlen(key) for _ in range(1000)])
    r["filter"] = 5 * n / timed(lambda: [scan() for _ in range(5)])
    r["delete"] = n / timed(lambda: [c.hdel(key, x.id) for x in recs])
    return r


def rounds(impls: Dict[str, Callable[[], Dict[str, float]]], settle: float = 0.0) -> Dict[str, Dict[str, float]]:
    """Runs each implementation once per round; `settle` seconds of pause after each, so that
    one's clean-up (HDFS deletes its blocks on the DataNodes after the call returns) does not
    run into the next one's clock."""
    runs: Dict[str, List[Dict[str, float]]] = {k: [] for k in impls}
    for i in range(ROUNDS):
        for label, fn in impls.items():
            runs[label].append(fn())
            time.sleep(settle)
            print(f"  round {i + 1} {label}: " + ", ".join(f"{k} {v:,.0f}" for k, v in runs[label][-1].items()), file=sys.stderr)
    return {k: {op: statistics.median(r[op] for r in v) for op in OPS} for k, v in runs.items()}


def table(title: str, res: Dict[str, Dict[str, float]], ours: str, others: List[str]) -> None:
    cols = list(res)
    print(f"\n### {title}\n")
    head = ["op"] + cols + [f"{ours} / {o}" for o in others]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for op in OPS:
        cells = [f"{res[c][op]:,.0f}" for c in cols] + [f"{res[ours][op] / res[o][op]:.2f}x" for o in others]
        print(f"| {op} | " + " | ".join(cells) + " |")


def hdfs_py_workload(base: str, n: int) -> Dict[str, float]:
    """The least any WebHDFS client must do for the same work, with the `hdfs` library the peer
    uses: one write per insert or update (no existence check, no temporary file), one read per
    get, one status per exists, one listing per count, listing + reads per filter."""
    import hdfs

    c = hdfs.InsecureClient(f"http://{WEBHDFS_HOST}:{WEBHDFS_PORT}", user="root")
    d = f"{base}/bench"
    c.makedirs(d)
    recs = [Rec(i) for i in range(n)]

    def load(path: str) -> Rec:
        with c.read(path) as f:
            x = Rec.__new__(Rec)
            x.__setstate__(json.load(f))
            return x

    def scan() -> List[Rec]:
        return [x for x in (load(f"{d}/{name}") for name in c.list(d)) if x.status == "done"]

    r: Dict[str, float] = {}
    r["insert"] = n / timed(lambda: [c.write(f"{d}/{x.id}.json", json.dumps(x.__getstate__())) for x in recs])
    r["get"] = n / timed(lambda: [load(f"{d}/{x.id}.json") for x in recs])
    r["update"] = n / timed(lambda: [c.write(f"{d}/{x.id}.json", json.dumps(x.__getstate__()), overwrite=True)
                                     for x in recs])
    r["exists"] = n / timed(lambda: [c.status(f"{d}/{x.id}.json", strict=False) for x in recs])
    r["count"] = 1000 / timed(lambda: [len(c.list(d)) for _ in range(1000)])
    r["filter"] = 5 * n / timed(lambda: [scan() for _ in range(5)])
    r["delete"] = n / timed(lambda: [c.delete(f"{d}/{x.id}.json") for x in recs])
    return r


def remove_hdfs_dir(path: str) -> None:
    """Deletes a benchmark's HDFS directory (our stores leave empty schema directories)."""
    import hdfs

    hdfs.InsecureClient(f"http://{WEBHDFS_HOST}:{WEBHDFS_PORT}", user="root").delete(path, recursive=True)


def section_redis() -> None:
    from event_pipeline.backends.stores.redis_store import RedisStoreBackend as PeerRedis

    import recordstore.backends as ours

    def ours_seed() -> Dict[str, float]:
        b = ours.RedisStoreBackend(host=REDIS_HOST, port=int(REDIS_PORT), db=0, prefix="bench-ours")
        b.store.delete_many("bench", [f"r{i}" for i in range(N)])
        return seed_workload(b, N)

    def peer() -> Dict[str, float]:
        b = PeerRedis(host=REDIS_HOST, port=int(REDIS_PORT), db=0)
        b.connector.cursor.delete("bench")
        return seed_workload(b, N)

    res = rounds({"recordstore RedisStoreBackend": ours_seed, "peer RedisStoreBackend": peer, "redis-py loop": lambda: redis_py_workload(N)})
    table(f"Redis (127.0.0.1:{REDIS_PORT}, no fsync), N = {N}, seed API with record objects", res,
          "recordstore RedisStoreBackend", ["peer RedisStoreBackend", "redis-py loop"])


def section_hdfs() -> None:
    from event_pipeline.backends.stores.hdfs_store import HDFSStoreBackend as PeerHDFS

    import recordstore.backends as ours

    def ours_hdfs(transport: str, host: str, port: str) -> Callable[[], Dict[str, float]]:
        def run() -> Dict[str, float]:
            base = f"/bench-py-{uuid.uuid4().hex[:8]}"
            b = ours.HDFSStoreBackend(host=host, port=int(port), username="root", transport=transport, base_path=base)
            try:
                return seed_workload(b, HDFS_N)
            finally:
                b.close()
                remove_hdfs_dir(base)
        return run

    def peer() -> Dict[str, float]:
        b = PeerHDFS(host=WEBHDFS_HOST, port=int(WEBHDFS_PORT), username="root")
        b.connector.connect()
        b.connector.cursor.delete(b._get_schema_path("bench"), recursive=True)
        return seed_workload(b, HDFS_N)

    def hdfs_py() -> Dict[str, float]:
        base = f"/bench-hdfs-py-{uuid.uuid4().hex[:8]}"
        try:
            return hdfs_py_workload(base, HDFS_N)
        finally:
            remove_hdfs_dir(base)

    res = rounds({
        "recordstore webhdfs": ours_hdfs("webhdfs", WEBHDFS_HOST, WEBHDFS_PORT),
        "recordstore hdfs (native RPC)": ours_hdfs("native", HDFS_HOST, HDFS_PORT),
        "peer HDFSStoreBackend (WebHDFS)": peer,
        "hdfs-py loop (WebHDFS)": hdfs_py,
    }, settle=HDFS_SETTLE)
    table(f"HDFS (MiniDFSCluster), N = {HDFS_N}", res, "recordstore webhdfs",
          ["peer HDFSStoreBackend (WebHDFS)", "hdfs-py loop (WebHDFS)"])
    for other in ["peer HDFSStoreBackend (WebHDFS)", "hdfs-py loop (WebHDFS)"]:
        print(f"\nnative RPC / {other}: " + ", ".join(
            f"{op} {res['recordstore hdfs (native RPC)'][op] / res[other][op]:.2f}x" for op in OPS))


def section_memory() -> None:
    from event_pipeline.backends.stores.inmemory_store import InMemoryKeyValueStoreBackend as PeerMem

    import recordstore.backends as ours

    def ours_mem() -> Dict[str, float]:
        return seed_workload(ours.InMemoryKeyValueStoreBackend(name=uuid.uuid4().hex), N)

    def peer() -> Dict[str, float]:
        b = PeerMem()
        b._cursor.clear()
        return seed_workload(b, N)

    res = rounds({"recordstore InMemoryKeyValueStoreBackend": ours_mem, "peer InMemoryKeyValueStoreBackend": peer})
    table(f"In-memory, N = {N}", res, "recordstore InMemoryKeyValueStoreBackend", ["peer InMemoryKeyValueStoreBackend"])


def section_threads() -> None:
    import recordstore

    per_thread = int(os.environ.get("THREAD_N", "4000"))

    def run(threads: int, runtime_threads: Any) -> float:
        store = recordstore.open(f"redis://{REDIS_HOST}:{REDIS_PORT}/0?prefix=bench-threads-{uuid.uuid4().hex[:6]}",
                                 threads=runtime_threads)
        rec = {"status": "running", "attempts": 1, "payload": "x" * 150}
        barrier = threading.Barrier(threads + 1)

        def work(t: int) -> None:
            barrier.wait()
            for i in range(per_thread):
                store.insert("bench", f"{t}-{i}", rec)
                store.get("bench", f"{t}-{i}")

        ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for t in ts:
            t.start()
        start = time.perf_counter()
        barrier.wait()
        for t in ts:
            t.join()
        dt = time.perf_counter() - start
        store.delete_many("bench", [f"{t}-{i}" for t in range(threads) for i in range(per_thread)])
        return 2 * threads * per_thread / dt

    def run_hdfs(threads: int) -> float:
        """get + exists on WebHDFS, where each call waits on the network, not the CPU."""
        base = f"/bench-threads-{uuid.uuid4().hex[:6]}"
        store = recordstore.open(f"webhdfs://root@{WEBHDFS_HOST}:{WEBHDFS_PORT}{base}")
        keys = [f"k{i}" for i in range(40)]
        store.insert_many("bench", {k: {"payload": "x" * 150} for k in keys})
        barrier = threading.Barrier(threads + 1)
        per = 160 // threads

        def work(t: int) -> None:
            barrier.wait()
            for i in range(per):
                store.get("bench", keys[(t * per + i) % len(keys)])
                store.exists("bench", keys[(t * per + i) % len(keys)])

        ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for t in ts:
            t.start()
        start = time.perf_counter()
        barrier.wait()
        for t in ts:
            t.join()
        dt = time.perf_counter() - start
        store.delete_many("bench", keys)
        remove_hdfs_dir(base)
        return 2 * threads * per / dt

    print(f"\n### 8 Python threads on one store\n")
    print("| store, work | runtime | 1 thread (ops/s) | 8 threads (ops/s) | speed-up |")
    print("|---|---|---|---|---|")
    for label, rt in (("current-thread (default)", None), ("multi-thread, 2 workers", 2)):
        one = statistics.median(run(1, rt) for _ in range(ROUNDS))
        eight = statistics.median(run(8, rt) for _ in range(ROUNDS))
        print(f"| Redis, insert + get ({per_thread} each per thread) | {label} | {one:,.0f} | {eight:,.0f} | {eight / one:.2f}x |")
    one = statistics.median(run_hdfs(1) for _ in range(ROUNDS))
    eight = statistics.median(run_hdfs(8) for _ in range(ROUNDS))
    print(f"| WebHDFS, get + exists (320 in all) | current-thread (default) | {one:,.0f} | {eight:,.0f} | {eight / one:.2f}x |")


def section_runtime() -> None:
    """One caller, the short API: a current-thread runtime driven by the caller against a
    multi-thread runtime (each round trip then wakes the caller from a worker thread)."""
    import recordstore

    n = N // 2
    rec = {"status": "running", "attempts": 1, "payload": "x" * 150}

    def run(threads: Any) -> Dict[str, float]:
        store = recordstore.open(f"redis://{REDIS_HOST}:{REDIS_PORT}/0?prefix=bench-rt-{uuid.uuid4().hex[:6]}", threads=threads)
        keys = [f"r{i}" for i in range(n)]
        out = {
            "insert": n / timed(lambda: [store.insert("bench", k, rec) for k in keys]),
            "get": n / timed(lambda: [store.get("bench", k) for k in keys]),
            "exists": n / timed(lambda: [store.exists("bench", k) for k in keys]),
        }
        store.delete_many("bench", keys)
        return out

    res: Dict[str, List[Dict[str, float]]] = {"current": [], "multi": []}
    for _ in range(ROUNDS):
        res["current"].append(run(None))
        res["multi"].append(run(2))
    print(f"\n### One caller, short API, Redis: the runtime (N = {n})\n")
    print("| op | current-thread (default) | multi-thread, 2 workers | ratio |")
    print("|---|---|---|---|")
    for op in ("insert", "get", "exists"):
        c = statistics.median(r[op] for r in res["current"])
        m = statistics.median(r[op] for r in res["multi"])
        print(f"| {op} | {c:,.0f} | {m:,.0f} | {c / m:.2f}x |")


SECTIONS = {"runtime": section_runtime, "redis": section_redis, "hdfs": section_hdfs, "memory": section_memory, "threads": section_threads}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(SECTIONS):
        SECTIONS[name]()
