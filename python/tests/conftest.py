"""Fixtures: every backend on the real servers scripts/test starts (no mocks).

Servers (override with environment variables):
  RECORDSTORE_TEST_REDIS    host:port of the plain Redis      (127.0.0.1:6390)
  RECORDSTORE_TEST_REDIS_AUTH  host:port of the Redis with a password (127.0.0.1:6391), whose
                            password is REDIS_PASSWORD (recordstore-secret), as scripts/start-redis.sh
  RECORDSTORE_TEST_HDFS     host:port of the NameNode's RPC   (127.0.0.1:9000)
  RECORDSTORE_TEST_WEBHDFS  host:port of WebHDFS              (127.0.0.1:9870)
Every test uses its own schema or base path (a uuid), since other suites share the servers.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Callable, Dict, Iterator, Tuple

import pytest

import recordstore
from recordstore import backends

REDIS = os.environ.get("RECORDSTORE_TEST_REDIS", "127.0.0.1:6390")
REDIS_AUTH = os.environ.get("RECORDSTORE_TEST_REDIS_AUTH", "127.0.0.1:6391")
REDIS_PASSWORD = os.environ.get("REDIS_PASSWORD", "recordstore-secret")
HDFS = os.environ.get("RECORDSTORE_TEST_HDFS", "127.0.0.1:9000")
WEBHDFS = os.environ.get("RECORDSTORE_TEST_WEBHDFS", "127.0.0.1:9870")

BACKENDS = ["memory", "sqlite", "redis", "hdfs", "webhdfs"]


def hostport(s: str) -> Tuple[str, int]:
    host, port = s.rsplit(":", 1)
    return host, int(port)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def cleanup(kind: str, config: Dict[str, Any]) -> None:
    """Removes what a test wrote to the shared servers: its Redis prefix, its HDFS base path."""
    if kind == "redis" and config.get("prefix"):
        import redis

        host, port = hostport(REDIS)
        c = redis.Redis(host=host, port=port, db=0)
        keys = list(c.scan_iter(match=f"{config['prefix']}:*", count=1000))
        if keys:
            c.delete(*keys)
    elif kind in ("hdfs", "webhdfs") and config.get("base_path"):
        import hdfs

        host, port = hostport(WEBHDFS)
        hdfs.InsecureClient(f"http://{host}:{port}", user="root").delete(config["base_path"], recursive=True)


def seed_config(kind: str, tmp_path: Any) -> Tuple[type, Dict[str, Any]]:
    """The seed backend class and its connector config for one backend, isolated per test."""
    if kind == "memory":
        return backends.InMemoryKeyValueStoreBackend, {"name": unique("mem")}
    if kind == "sqlite":
        return backends.SQLiteStoreBackend, {"db": str(tmp_path / "store.db")}
    if kind == "redis":
        host, port = hostport(REDIS)
        return backends.RedisStoreBackend, {"host": host, "port": port, "db": 0, "prefix": unique("py")}
    host, port = hostport(HDFS if kind == "hdfs" else WEBHDFS)
    return backends.HDFSStoreBackend, {
        "host": host,
        "port": port,
        "username": "root",
        "base_path": "/" + unique("py-test"),
        "transport": "native" if kind == "hdfs" else "webhdfs",
    }


def url_and_config(kind: str, tmp_path: Any) -> Tuple[str, Dict[str, Any]]:
    """A store URL for one backend, isolated per test, and what `cleanup` needs."""
    if kind == "memory":
        return "memory://", {}
    if kind == "sqlite":
        return f"sqlite://{tmp_path / 'store.db'}", {}
    if kind == "redis":
        prefix = unique("py")
        return f"redis://{REDIS}/0?prefix={prefix}", {"prefix": prefix}
    base = "/" + unique("py-test")
    host = HDFS if kind == "hdfs" else WEBHDFS
    return f"{'hdfs' if kind == 'hdfs' else 'webhdfs'}://root@{host}{base}", {"base_path": base}


def url_for(kind: str, tmp_path: Any, request: Any) -> str:
    """A store URL for one backend, removed from the server when the test ends."""
    url, config = url_and_config(kind, tmp_path)
    request.addfinalizer(lambda: cleanup(kind, config))
    return url


@pytest.fixture(params=BACKENDS)
def kind(request: Any) -> str:
    return str(request.param)


@pytest.fixture
def seed_backend(kind: str, tmp_path: Any) -> Iterator[backends.KeyValueStoreBackendBase]:
    cls, config = seed_config(kind, tmp_path)
    b = cls(**config)
    yield b
    b.close()
    cleanup(kind, config)


@pytest.fixture
def store(kind: str, tmp_path: Any, request: Any) -> Iterator[recordstore.Store]:
    s = recordstore.open(url_for(kind, tmp_path, request))
    yield s
    s.close()


@pytest.fixture
def schema() -> str:
    return unique("schema")


class Rec:
    """A record object of the peer's kind: fields in __dict__, __getstate__/__setstate__."""

    def __init__(self, id: str, status: str = "running", attempts: int = 0, **extra: Any) -> None:
        self.id = id
        self.status = status
        self.attempts = attempts
        self.__dict__.update(extra)

    def __getstate__(self) -> Dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rec) and self.__dict__ == other.__dict__


class Plain:
    """A record object with no __getstate__/__setstate__ of its own."""

    def __init__(self, id: str, n: int) -> None:
        self.id = id
        self.n = n


MakeRecord = Callable[[str, str, int], Any]
