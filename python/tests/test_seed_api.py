"""The seed's API, method by method, on every backend, with dict records and record objects."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import recordstore
from recordstore import backends
from recordstore.exceptions import AlreadyExists, InvalidInput, NotFound

from conftest import Plain, Rec


def test_seed_signatures_are_the_seeds() -> None:
    base = backends.KeyValueStoreBackendBase
    expected = {
        "exists": ["schema_name", "record_key"],
        "count": ["schema_name"],
        "insert_record": ["schema_name", "record_key", "record"],
        "update_record": ["schema_name", "record_key", "record"],
        "delete_record": ["schema_name", "record_key"],
        "get_record": ["schema_name", "klass", "record_key"],
        "reload_record": ["schema_name", "record"],
        "filter_record": ["schema_name", "record_klass", "filter_kwargs"],
        "load_record": ["record_state", "record_klass"],
        "close": [],
    }
    for name, params in expected.items():
        sig = inspect.signature(getattr(base, name))
        got = [p for p in sig.parameters if p != "self"]
        assert got == params, (name, got)
    conn = inspect.signature(backends.BackendConnectorBase.__init__).parameters
    assert list(conn)[1:6] == ["host", "port", "username", "password", "db"]
    pooled = inspect.signature(backends.PooledConnectorManager.__init__).parameters
    assert {"max_connections", "connection_timeout", "idle_timeout"} <= set(pooled)
    factory = inspect.signature(backends.ConnectorManagerFactory.create_manager).parameters
    assert list(factory) == ["connector_class", "connector_config", "connection_mode", "kwargs"]
    assert backends.ConnectionMode.SINGLE.value == "single"
    assert backends.ConnectionMode.POOLED.value == "pooled"
    for name in recordstore.__all__:
        assert hasattr(recordstore, name), name
    hdfs = backends.HDFSStoreBackend(host="127.0.0.1", port=9870)
    assert hdfs.base_path == "/event_pipeline"


def test_dict_records(seed_backend: backends.KeyValueStoreBackendBase, schema: str) -> None:
    b = seed_backend
    assert not b.exists(schema, "k1")
    assert b.count(schema) == 0
    assert b.filter_record(schema, dict) == []
    rec = {"id": "k1", "status": "running", "attempts": 1, "meta": {"tag": "a"}, "tags": ["x", "y"]}
    b.insert_record(schema, "k1", rec)
    assert b.exists(schema, "k1")
    assert b.count(schema) == 1
    with pytest.raises(AlreadyExists) as exc:
        b.insert_record(schema, "k1", rec)
    assert (exc.value.schema, exc.value.key) == (schema, "k1")
    assert b.get_record(schema, dict, "k1") == rec
    rec2 = dict(rec, status="done", attempts=2)
    b.update_record(schema_name=schema, record_key="k1", record=rec2)  # the peer passes keywords
    got = b.get_record(schema, None, "k1")
    assert got == rec2
    mine = {"id": "k1", "status": "stale"}
    b.reload_record(schema, mine)
    assert mine == rec2
    b.insert_record(schema, "k2", {"id": "k2", "status": "running", "attempts": 5})
    assert [r["id"] for r in b.filter_record(schema, dict, status="done")] == ["k1"]
    assert [r["id"] for r in b.filter_record(schema, dict, attempts__gte=2)] == ["k1", "k2"]
    assert [r["id"] for r in b.filter_record(schema, dict, meta__contains="a")] == []
    assert [r["id"] for r in b.filter_record(schema, dict, tags__contains="x")] == ["k1"]
    b.delete_record(schema, "k1")
    assert not b.exists(schema, "k1")
    with pytest.raises(NotFound):
        b.delete_record(schema, "k1")
    with pytest.raises(NotFound):
        b.update_record(schema, "k1", rec)
    with pytest.raises(NotFound):
        b.get_record(schema, dict, "k1")
    with pytest.raises(NotFound):
        b.reload_record(schema, {"id": "k1"})
    assert b.count(schema) == 1


def test_object_records(seed_backend: backends.KeyValueStoreBackendBase, schema: str) -> None:
    b = seed_backend
    r = Rec("r1", status="running", attempts=3, payload="p" * 20)
    b.insert_record(schema, r.id, r)
    got = b.get_record(schema, Rec, "r1")
    assert isinstance(got, Rec) and got == r
    r.status = "done"
    b.update_record(schema, r.id, r)
    stale = Rec("r1", status="old")
    b.reload_record(schema, stale)
    assert stale.status == "done" and stale.attempts == 3
    b.insert_record(schema, "r2", Rec("r2", attempts=9))
    done = b.filter_record(schema, Rec, status="done")
    assert [x.id for x in done] == ["r1"] and all(isinstance(x, Rec) for x in done)
    assert [x.id for x in b.filter_record(schema, Rec, attempts__in=[3, 9])] == ["r1", "r2"]
    # A class without __getstate__/__setstate__ of its own goes through __dict__.
    b.insert_record(schema, "p1", Plain("p1", 7))
    p = b.get_record(schema, Plain, "p1")
    assert isinstance(p, Plain) and (p.id, p.n) == ("p1", 7)
    assert [x.n for x in b.filter_record(schema, Plain, n=7)] == [7]
    # load_record is the peer's: klass.__new__ then __setstate__.
    built = b.load_record({"id": "z", "status": "s", "attempts": 0}, Rec)
    assert isinstance(built, Rec) and built.id == "z"


def test_integer_keys_as_in_the_seed(seed_backend: backends.KeyValueStoreBackendBase, schema: str) -> None:
    seed_backend.insert_record(schema, 42, {"n": 42})
    assert seed_backend.exists(schema, 42)
    assert seed_backend.get_record(schema, dict, 42) == {"n": 42}
    assert seed_backend.exists(schema, "42")


def test_stored_records_are_copies(seed_backend: backends.KeyValueStoreBackendBase, schema: str) -> None:
    rec = {"tags": ["a"]}
    seed_backend.insert_record(schema, "k", rec)
    rec["tags"].append("changed after insert")
    got = seed_backend.get_record(schema, dict, "k")
    assert got == {"tags": ["a"]}
    got["tags"].append("changed after get")
    assert seed_backend.get_record(schema, dict, "k") == {"tags": ["a"]}


def test_connector(seed_backend: backends.KeyValueStoreBackendBase) -> None:
    c = seed_backend.connector
    assert isinstance(c, backends.BackendConnectorBase)
    assert c.connect() is c.store
    assert c.is_connected()
    assert seed_backend.is_connected()
    c.disconnect()
    # The next operation reconnects.
    assert seed_backend.count("anything") == 0


def test_managers(kind: str, tmp_path: Any, schema: str, request: Any) -> None:
    from conftest import cleanup, seed_config

    cls, config = seed_config(kind, tmp_path)
    request.addfinalizer(lambda: cleanup(kind, config))
    for mode in (None, backends.ConnectionMode.SINGLE, backends.ConnectionMode.POOLED):
        m = backends.ConnectorManagerFactory.create_manager(
            cls, config, connection_mode=mode, max_connections=4, connection_timeout=5, idle_timeout=60
        )
        expected = backends.PooledConnectorManager if mode is backends.ConnectionMode.POOLED else backends.SingleConnectorManager
        assert isinstance(m, expected)
        conn = m.get_connection()
        assert isinstance(conn, cls)
        conn.save_record(schema, "k", {"mode": str(mode)})
        m.release_connection(conn)
        assert m.get_connection().get_record(schema, dict, "k") == {"mode": str(mode)}
        m.shutdown()
    pooled = backends.PooledConnectorManager(cls, config, max_connections=2, connection_timeout=5, idle_timeout=10)
    assert (pooled.max_connections, pooled.connection_timeout, pooled.idle_timeout) == (2, 5, 10)
    assert pooled.execute_with_retry(lambda connector: connector.count(schema)) == 1
    pooled.shutdown()


def test_non_dict_records_are_invalid(seed_backend: backends.KeyValueStoreBackendBase, schema: str) -> None:
    class Slotted:
        __slots__ = ("x",)

        def __getstate__(self) -> Any:
            return ["not", "a", "dict"]

    for bad in (Slotted(), [1, 2], "text", 3):
        with pytest.raises(InvalidInput):
            seed_backend.insert_record(schema, "k", bad)
    assert seed_backend.count(schema) == 0


def test_a_forked_child_opens_its_own_connection(kind: str, tmp_path: Any, schema: str, request: Any) -> None:
    """The peer runs events in forked processes; a child must not share its parent's sockets."""
    import multiprocessing

    from conftest import cleanup, seed_config

    if kind == "memory":
        pytest.skip("an in-memory store is per process: the child has its own copy")
    cls, config = seed_config(kind, tmp_path)
    request.addfinalizer(lambda: cleanup(kind, config))
    b = cls(**config)
    b.insert_record(schema, "parent", {"by": "parent"})
    # A read just before the fork: native HDFS then holds an idle DataNode connection in its
    # process-wide cache, which the child must not take over.
    assert b.get_record(schema, dict, "parent") == {"by": "parent"}

    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(b, schema, q))
    p.start()
    for i in range(50):  # the parent keeps using its connection meanwhile
        assert b.exists(schema, "parent")
    p.join(60)
    assert p.exitcode == 0 and q.get(timeout=5) == "ok"
    assert b.get_record(schema, dict, "child") == {"by": "child"}
    assert b.count(schema) == 2


def _child(b: backends.KeyValueStoreBackendBase, schema: str, q: Any) -> None:
    b.insert_record(schema, "child", {"by": "child"})
    assert b.get_record(schema, dict, "parent") == {"by": "parent"}
    q.put("ok")


def test_execute_with_retry_retries_only_what_can_change(tmp_path: Any, schema: str) -> None:
    """The peer retries every failure, NotFound included, sleeping between tries; ours retries
    only temporary errors."""
    import time

    from recordstore.exceptions import ConnectionFailed

    m = backends.PooledConnectorManager(backends.SQLiteStoreBackend, {"db": str(tmp_path / "r.db")}, retry_attempts=3, retry_delay=0.2)
    started = time.perf_counter()
    with pytest.raises(NotFound):
        m.execute_with_retry(lambda connector: connector.get_record(schema, dict, "missing"))
    assert time.perf_counter() - started < 0.2  # no sleep, no second try

    calls: list = []

    def flaky(connector: Any) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionFailed("refused", temporary=True)
        return "ok"

    assert m.execute_with_retry(flaky) == "ok" and len(calls) == 3
    calls.clear()

    def down(connector: Any) -> str:
        calls.append(1)
        raise ConnectionFailed("refused", temporary=True)

    with pytest.raises(ConnectionFailed):
        m.execute_with_retry(down)
    assert len(calls) == 3
    m.shutdown()


PEER_PATHS = [
    "event_pipeline.backends.store.KeyValueStoreBackendBase",
    "event_pipeline.backends.connection.BackendConnectorBase",
    "event_pipeline.backends.stores.redis_store.RedisStoreBackend",
    "event_pipeline.backends.stores.hdfs_store.HDFSStoreBackend",
    "event_pipeline.backends.stores.inmemory_store.InMemoryKeyValueStoreBackend",
    "event_pipeline.backends.stores.sqlite_store.SqliteStoreBackend",
    "event_pipeline.backends.connectors.redis.RedisConnector",
    "event_pipeline.backends.connectors.hdfs_connector.HDFSConnector",
    "event_pipeline.backends.connectors.sqlite.SqliteConnector",
    "event_pipeline.backends.connectors.dummy.DummyConnector",
]


@pytest.mark.parametrize("path", PEER_PATHS)
def test_the_peers_dotted_paths_become_ours_by_their_first_word(path: str) -> None:
    from event_pipeline.import_utils import import_string

    peer = import_string(path)
    ours = import_string("recordstore" + path[len("event_pipeline"):])
    assert ours.__name__.lower() == peer.__name__.lower() or ours.__name__ == "InMemoryConnector"
    assert ours.__module__ == "recordstore.backends"
    assert issubclass(ours, (backends.KeyValueStoreBackendBase, backends.BackendConnectorBase))
