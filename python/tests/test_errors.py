"""Each error kind raised as its Python class: bad input, corrupt stored data, a server gone."""

from __future__ import annotations

import io
import pickle
import socket
import sqlite3
import subprocess
import time
import uuid
from typing import Any, Iterator

import pytest

import recordstore
from recordstore import backends
from recordstore.exceptions import (
    AlreadyExists,
    AuthFailed,
    ConnectionFailed,
    Corrupt,
    InvalidInput,
    NotFound,
    RecordStoreError,
)

from conftest import HDFS, REDIS, REDIS_AUTH, REDIS_PASSWORD, WEBHDFS, hostport, unique

HOSTILE_SCHEMAS = ["../x", "a/b", "", "a:b", ".hidden", "x" * 129, "sp ace", "ü"]
HOSTILE_KEYS = ["", "x" * 181, "a\nb", "nul\x00"]


def test_hostile_names_are_invalid_before_any_io(store: recordstore.Store) -> None:
    for name in HOSTILE_SCHEMAS:
        for call in (
            lambda: store.insert(name, "k", {}),
            lambda: store.get(name, "k"),
            lambda: store.count(name),
            lambda: store.filter(name),
            lambda: store.delete(name, "k"),
        ):
            with pytest.raises(InvalidInput) as exc:
                call()
            assert isinstance(exc.value, ValueError)
            assert exc.value.schema == name
            assert not exc.value.temporary
    for key in HOSTILE_KEYS:
        with pytest.raises(InvalidInput) as exc:
            store.insert("ok", key, {})
        assert exc.value.key == key
    # Keys that look hostile on a file system are valid keys, stored verbatim.
    for key in ["../x", "/", "a/b", "..", "über", "x" * 180]:
        store.insert("ok", key, {"k": key})
        assert store.get("ok", key) == {"k": key}
    assert store.count("ok") == 6


def test_non_json_values_and_unknown_lookups(store: recordstore.Store, schema: str) -> None:
    for bad in ({"a": {1, 2}}, {"a": b"bytes"}, {"a": object()}, {1: "int key"}, {"a": float("nan")}, {"a": 2**70}):
        with pytest.raises(InvalidInput):
            store.insert(schema, "k", bad)
    for bad_record in ([1], "s", None, 5):
        with pytest.raises(InvalidInput):
            store.insert(schema, "k", bad_record)
    deep: Any = {}
    node = deep
    for _ in range(300):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(RecursionError):
        store.insert(schema, "k", deep)
    assert store.count(schema) == 0
    store.insert(schema, "k", {"a": 1})
    with pytest.raises(InvalidInput) as exc:
        store.filter(schema, a__regex="x")
    assert "unknown lookup" in str(exc.value)
    with pytest.raises(InvalidInput):
        store.filter(schema, a__in=5)
    with pytest.raises(InvalidInput):
        store.filter(schema, a__isnull="yes")


def test_kinds_and_builtin_classes(store: recordstore.Store, schema: str) -> None:
    store.insert(schema, "k", {"a": 1})
    with pytest.raises(AlreadyExists) as e1:
        store.insert(schema, "k", {"a": 2})
    with pytest.raises(NotFound) as e2:
        store.get(schema, "missing")
    assert isinstance(e2.value, KeyError)
    assert str(e2.value) == f'record not found: schema "{schema}", key "missing"'
    for e in (e1.value, e2.value):
        assert isinstance(e, RecordStoreError) and not e.temporary
        assert e.schema == schema
    # The peer's names are ours, and (the peer being installed) its classes too.
    assert recordstore.ObjectDoesNotExist is NotFound
    assert recordstore.ObjectExistError is AlreadyExists
    from event_pipeline.exceptions import ObjectDoesNotExist, ObjectExistError

    assert isinstance(e1.value, ObjectExistError)
    assert isinstance(e2.value, ObjectDoesNotExist)
    # Exceptions survive pickling (the peer's process executors send them across).
    again = pickle.loads(pickle.dumps(e2.value))
    assert type(again) is NotFound and again.key == "missing"


def test_unknown_scheme_is_invalid() -> None:
    with pytest.raises(InvalidInput) as exc:
        recordstore.open("ftp://u:hunter2@host/x")
    assert "hunter2" not in str(exc.value) and "hunter2" not in repr(exc.value)
    assert "memory://" in str(exc.value)


# ---------------------------------------------------------------- corrupt stored data


def test_corrupt_redis_data(schema: str) -> None:
    import redis

    host, port = hostport(REDIS)
    prefix = unique("py")
    store = recordstore.open(f"redis://{host}:{port}/0?prefix={prefix}")
    store.insert(schema, "good", {"a": 1})
    r = redis.Redis(host=host, port=port, db=0)
    r.hset(f"{prefix}:{schema}", "bad", b"\x80not json")
    r.hset(f"{prefix}:{schema}", "list", b"[1, 2]")
    try:
        for key in ("bad", "list"):
            with pytest.raises(Corrupt) as exc:
                store.get(schema, key)
            assert (exc.value.schema, exc.value.key) == (schema, key)
            assert isinstance(exc.value, ValueError) and not exc.value.temporary
        with pytest.raises(Corrupt):
            store.filter(schema)
        # The peer's pickled records are not ours: Corrupt, never skipped.
        r.hset(f"{prefix}:{schema}", "bad", pickle.dumps({"a": 1}))
        r.hdel(f"{prefix}:{schema}", "list")
        with pytest.raises(Corrupt):
            backends.RedisStoreBackend(host=host, port=port, prefix=prefix).filter_record(schema, dict)
    finally:
        r.delete(f"{prefix}:{schema}")


def test_corrupt_sqlite_data(tmp_path: Any, schema: str) -> None:
    path = tmp_path / "c.db"
    store = recordstore.open(f"sqlite://{path}")
    store.insert(schema, "good", {"a": 1})
    db = sqlite3.connect(path)
    db.execute("INSERT INTO records (schema, key, doc) VALUES (?, 'bad', '{oops')", (schema,))
    db.commit()
    db.close()
    with pytest.raises(Corrupt) as exc:
        store.get(schema, "bad")
    assert exc.value.key == "bad"
    with pytest.raises(Corrupt):
        store.filter(schema)


def test_corrupt_hdfs_data(schema: str) -> None:
    import hdfs

    host, port = hostport(WEBHDFS)
    base = "/" + unique("py-test")
    store = recordstore.open(f"webhdfs://root@{host}:{port}{base}")
    store.insert(schema, "good", {"a": 1})
    client = hdfs.InsecureClient(f"http://{host}:{port}", user="root")
    client.write(f"{base}/{schema}/bad.json", io.BytesIO(b"garbage"))
    try:
        with pytest.raises(Corrupt) as exc:
            store.get(schema, "bad")
        assert exc.value.key == "bad"
        with pytest.raises(Corrupt):
            store.filter(schema)
        native = recordstore.open(f"hdfs://root@{HDFS}{base}")
        with pytest.raises(Corrupt):
            native.filter(schema)
    finally:
        client.delete(base, recursive=True)


# ---------------------------------------------------------------- the server gone


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def private_redis(tmp_path: Any) -> Iterator[Any]:
    """A Redis server of this test's own, which the test may kill."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port, proc
    proc.kill()
    proc.wait()


def test_server_gone_is_connection_error_never_not_found(private_redis: Any, schema: str) -> None:
    port, proc = private_redis
    store = recordstore.open(f"redis://127.0.0.1:{port}/0", connection_timeout=2)
    seed = backends.RedisStoreBackend(host="127.0.0.1", port=port, connection_timeout=2)
    store.insert(schema, "k", {"a": 1})
    assert seed.exists(schema, "k") and seed.is_connected()
    proc.kill()
    proc.wait()
    for call in (
        lambda: store.get(schema, "k"),
        lambda: store.exists(schema, "k"),
        lambda: store.count(schema),
        lambda: store.filter(schema),
        lambda: store.delete(schema, "k"),
        lambda: store.insert(schema, "k2", {}),
        lambda: seed.get_record(schema, dict, "k"),
        lambda: seed.filter_record(schema, dict),
        lambda: store.ping(),
    ):
        with pytest.raises(ConnectionError) as exc:
            call()
        assert isinstance(exc.value, ConnectionFailed), repr(exc.value)
        assert not isinstance(exc.value, KeyError)
        assert exc.value.temporary
    assert not seed.is_connected()
    assert not seed.connector.is_connected()


def test_hdfs_gone_is_connection_error(schema: str) -> None:
    port = free_port()
    for url in (f"webhdfs://root@127.0.0.1:{port}/x", f"hdfs://root@127.0.0.1:{port}/x"):
        # HDFS stores check the NameNode when they open: that is where it fails.
        with pytest.raises(ConnectionFailed) as exc:
            recordstore.open(url, connection_timeout=2)
        assert exc.value.temporary and exc.value.backend == "hdfs"
    seed = backends.HDFSStoreBackend(host="127.0.0.1", port=port, connection_timeout=2)
    for call in (lambda: seed.get_record(schema, dict, "k"), lambda: seed.count(schema), lambda: seed.filter_record(schema, dict)):
        with pytest.raises(ConnectionError):
            call()
    assert not seed.is_connected()


def test_wrong_password_is_auth_and_never_printed() -> None:
    host, port = hostport(REDIS_AUTH)
    secret = "wrong-" + uuid.uuid4().hex
    b = backends.RedisStoreBackend(host=host, port=port, password=secret)
    with pytest.raises(RecordStoreError) as exc:
        b.count("s")
    assert isinstance(exc.value, AuthFailed), repr(exc.value)
    assert secret not in str(exc.value) and secret not in repr(exc.value)
    assert secret not in repr(b) and secret not in repr(b.connector)
    url_store = recordstore.open(f"redis://default:{secret}@{host}:{port}/0")
    assert secret not in url_store.url and secret not in repr(url_store)
    with pytest.raises(AuthFailed) as exc2:
        url_store.count("s")
    assert secret not in str(exc2.value)
    ok = backends.RedisStoreBackend(host=host, port=port, password=REDIS_PASSWORD)
    assert ok.count(unique("s")) == 0


def test_wrong_settings_are_configuration_errors(tmp_path: Any) -> None:
    from recordstore.exceptions import ConfigurationError

    host, port = hostport(REDIS)
    with pytest.raises(ConfigurationError) as exc:
        recordstore.open(f"redis://{host}:{port}/99").count("s")
    assert isinstance(exc.value, ValueError) and not exc.value.temporary
    assert "99" in str(exc.value)
    secret = "pw-" + uuid.uuid4().hex
    with pytest.raises(ConfigurationError) as exc:
        recordstore.open(f"redis://:{secret}@{host}:{port}/0").count("s")
    assert secret not in str(exc.value) and "no password" in str(exc.value)
    with pytest.raises(ConfigurationError) as exc:
        recordstore.open(f"sqlite://{tmp_path}/no/such/dir/x.db").count("s")
    assert "does not exist" in str(exc.value)
    assert not (tmp_path / "no").exists()


def test_a_server_that_is_not_redis_is_a_protocol_mismatch() -> None:
    from recordstore.exceptions import ProtocolMismatch

    with pytest.raises(ProtocolMismatch) as exc:
        recordstore.open(f"redis://{WEBHDFS}/0").count("s")
    assert isinstance(exc.value, ConnectionError) and not exc.value.temporary
    assert "did not answer as a Redis server" in str(exc.value)
