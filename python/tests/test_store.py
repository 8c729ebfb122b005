"""The short API, batches, threads, asyncio and isnull, on every backend."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any, List

import pytest

import recordstore
import recordstore.aio
from recordstore.exceptions import AlreadyExists, NotFound

from conftest import url_for


def test_short_api(store: recordstore.Store, schema: str) -> None:
    assert store.backend in ("memory", "sqlite", "redis", "hdfs")
    store.insert(schema, "a", {"n": 1, "s": "x"})
    store.save(schema, "a", {"n": 2})
    store.save(schema, "b", {"n": 3})
    with pytest.raises(NotFound):
        store.update(schema, "zz", {})
    store.update(schema, "b", {"n": 4})
    assert store.get(schema, "a") == {"n": 2}
    assert store.exists(schema, "b") and not store.exists(schema, "c")
    assert store.count(schema) == 2
    assert store.filter(schema) == [("a", {"n": 2}), ("b", {"n": 4})]
    assert store.filter(schema, n__gt=2) == [("b", {"n": 4})]
    store.delete(schema, "a")
    assert store.count(schema) == 1


def test_batches(store: recordstore.Store, schema: str) -> None:
    assert store.insert_many(schema, {"a": {"i": 1}, "b": {"i": 2}}) == [True, True]
    assert store.insert_many(schema, [("b", {"i": 9}), ("c", {"i": 3})]) == [False, True]
    assert store.get_many(schema, ["a", "b", "nope", "c"]) == [{"i": 1}, {"i": 2}, None, {"i": 3}]
    assert store.delete_many(schema, ["a", "nope"]) == [True, False]
    assert store.count(schema) == 2


def test_isnull_follows_django(store: recordstore.Store, schema: str) -> None:
    store.insert(schema, "null", {"f": None})
    store.insert(schema, "missing", {"g": 1})
    store.insert(schema, "set", {"f": 0})
    assert [k for k, _ in store.filter(schema, f__isnull=True)] == ["missing", "null"]
    assert [k for k, _ in store.filter(schema, f__isnull=False)] == ["set"]


def test_sixteen_threads_one_key_exactly_one_wins(store: recordstore.Store, schema: str) -> None:
    barrier = threading.Barrier(16)
    wins: List[int] = []
    losses: List[int] = []
    errors: List[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            store.insert(schema, "contended", {"winner": i})
            wins.append(i)
        except AlreadyExists:
            losses.append(i)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(wins) == 1 and len(losses) == 15
    assert store.get(schema, "contended") == {"winner": wins[0]}


def test_threads_share_one_store(store: recordstore.Store, schema: str) -> None:
    def worker(t: int) -> None:
        for i in range(25):
            store.insert(schema, f"{t}-{i}", {"t": t, "i": i})
            assert store.get(schema, f"{t}-{i}") == {"t": t, "i": i}

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count(schema) == 200


def test_gil_is_released_during_io() -> None:
    """While one thread waits on a server that never answers, other Python threads run.

    The listener accepts connections (the kernel does) and never replies, so the call blocks
    for its whole connection_timeout; a spinning thread counts how often it ran meanwhile.
    Had the call kept the GIL, the spinner could not run at all during that second.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    try:
        store = recordstore.open(f"redis://127.0.0.1:{port}/0", connection_timeout=1)
        stop = threading.Event()
        ticks = [0]

        def spin() -> None:
            while not stop.is_set():
                ticks[0] += 1

        t = threading.Thread(target=spin)
        t.start()
        time.sleep(0.05)
        before = ticks[0]
        started = time.perf_counter()
        with pytest.raises(recordstore.Timeout) as exc:
            store.count("s")
        elapsed = time.perf_counter() - started
        during = ticks[0] - before
        stop.set()
        t.join()
        # A hung server is a Timeout: a ConnectionError, temporary, never NotFound.
        assert isinstance(exc.value, ConnectionError) and exc.value.temporary
        assert elapsed >= 0.9
        assert during > 10_000, during
    finally:
        listener.close()


def test_asyncio_under_gather(kind: str, tmp_path: Any, schema: str, request: Any) -> None:
    async def main() -> None:
        store = await recordstore.aio.open(url_for(kind, tmp_path, request))
        async with store:
            await asyncio.gather(*(store.insert(schema, f"k{i}", {"i": i}) for i in range(40)))
            assert await store.count(schema) == 40
            got = await asyncio.gather(*(store.get(schema, f"k{i}") for i in range(40)))
            assert got == [{"i": i} for i in range(40)]
            outcomes = await asyncio.gather(
                *(store.insert(schema, "one", {"n": n}) for n in range(16)), return_exceptions=True
            )
            assert sum(o is None for o in outcomes) == 1
            assert all(isinstance(o, AlreadyExists) for o in outcomes if o is not None)
            await asyncio.gather(*(store.update(schema, f"k{i}", {"i": -i}) for i in range(10)))
            assert [k for k, _ in await store.filter(schema, i__lt=0)] == sorted(f"k{i}" for i in range(1, 10))
            assert await store.exists(schema, "k0")
            await store.save(schema, "k0", {"i": 100})
            await store.delete(schema, "k0")
            with pytest.raises(NotFound):
                await store.get(schema, "k0")
            await store.ping()
            flags = await store.insert_many(schema, {"b1": {"n": 1}, "k1": {"n": 0}})
            assert flags == [True, False]
            assert await store.get_many(schema, ["b1", "nope"]) == [{"n": 1}, None]
            assert await store.delete_many(schema, ["b1", "nope"]) == [True, False]
            if kind != "memory":
                assert schema in await store.list_schemas()

    asyncio.run(main())


def test_thread_store_refuses_async_calls(schema: str) -> None:
    store = recordstore.open("memory://")
    with pytest.raises(ValueError):
        store.aget(schema, "k")


def test_config_file_like_the_cli(tmp_path: Any, schema: str, monkeypatch: Any) -> None:
    path = tmp_path / "recordstore.toml"
    db = tmp_path / "from-config.db"
    path.write_text(f'URL = "sqlite://{db}"\nMAX_CONNECTIONS = 3\n')
    store = recordstore.open(config=path)
    assert store.backend == "sqlite"
    store.insert(schema, "k", {"a": 1})
    assert db.exists()
    monkeypatch.setenv("RECORDSTORE_URL", "memory://")
    assert recordstore.open(config=path).backend == "memory"
    monkeypatch.setenv("RECORDSTORE_CONFIG", str(path))
    monkeypatch.delenv("RECORDSTORE_URL")
    assert recordstore.open().get(schema, "k") == {"a": 1}
    path.write_text("NOT_A_KEY = 1\n")
    with pytest.raises(recordstore.InvalidInput):
        recordstore.open(config=path)
