"""The drop-in test: event-pipeline 2.0.0, configured as its users do, persisting through ours.

Each case writes a settings.py naming one of our classes as ENGINE, then runs, in a fresh
interpreter (the peer reads its settings once per process), the peer's own code paths that
use a backend: EventResult's __init__ (which saves through the peer's ConnectorManagerFactory),
save() again (insert -> our AlreadyExists -> the peer's `except ObjectExistError` -> update),
reload(), update(), delete(); and checks with our own Store that the data landed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any, Dict

import pytest

from conftest import REDIS, WEBHDFS, cleanup, hostport, unique

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import recordstore
    from recordstore import backends
    from event_pipeline.result import EventResult
    from event_pipeline.exceptions import ObjectDoesNotExist

    check_url = sys.argv[1]
    r = EventResult(error=False, event_name="ev", content={"a": 1, "tags": ["x"]},
                    task_id="t1", init_params=None, call_params=None)
    manager = type(r)._connector_manager
    conn = manager.get_connection()
    assert isinstance(conn, backends.KeyValueStoreBackendBase), type(conn)
    store = conn.store if check_url == "-" else recordstore.open(check_url)
    stored = store.get("EventResult", r.id)
    assert stored["content"] == {"a": 1, "tags": ["x"]}, stored
    assert stored["event_name"] == "ev" and stored["_id"] == r.id

    r.content = {"a": 2}
    r.save()                       # insert fails with ObjectExistError (ours), the peer updates
    assert store.get("EventResult", r.id)["content"] == {"a": 2}
    r.content = None
    r.reload()
    assert r.content == {"a": 2}
    r.event_name = "renamed"
    r.update()
    got = conn.get_record("EventResult", EventResult, r.id)
    assert isinstance(got, EventResult) and got.event_name == "renamed" and got.content == {"a": 2}
    found = conn.filter_record("EventResult", EventResult, event_name="renamed")
    assert [x.id for x in found] == [r.id]
    r.delete()
    assert not store.exists("EventResult", r.id)
    try:
        r.delete()
    except ObjectDoesNotExist:
        pass
    else:
        raise AssertionError("a second delete must raise the peer's ObjectDoesNotExist")
    print(json.dumps({"manager": type(manager).__name__, "backend": type(conn).__name__}))
    """
)


def cases(tmp_path: Any) -> Dict[str, Any]:
    host, port = hostport(REDIS)
    whost, wport = hostport(WEBHDFS)
    prefix = unique("dropin")
    base = "/" + unique("dropin")
    db = tmp_path / "peer.db"
    return {
        "redis": (
            {"ENGINE": "recordstore.backends.RedisStoreBackend",
             "CONNECTOR_CONFIG": {"host": host, "port": port, "db": 0, "prefix": prefix}},
            f"redis://{host}:{port}/0?prefix={prefix}",
        ),
        "redis-single": (
            {"ENGINE": "recordstore.backends.RedisStoreBackend",
             "CONNECTOR_CONFIG": {"host": host, "port": port, "db": 0, "prefix": prefix},
             "CONNECTION_MODE": "single"},
            f"redis://{host}:{port}/0?prefix={prefix}",
        ),
        # The peer's own dotted path with its first word changed.
        "redis-peer-path": (
            {"ENGINE": "recordstore.backends.stores.redis_store.RedisStoreBackend",
             "CONNECTOR_CONFIG": {"host": host, "port": port, "db": 0, "prefix": prefix}},
            f"redis://{host}:{port}/0?prefix={prefix}",
        ),
        "sqlite": (
            {"ENGINE": "recordstore.backends.SQLiteStoreBackend", "CONNECTOR_CONFIG": {"db": str(db)}},
            f"sqlite://{db}",
        ),
        "memory": (
            {"ENGINE": "recordstore.backends.InMemoryKeyValueStoreBackend"},
            "-",
        ),
        "webhdfs": (
            {"ENGINE": "recordstore.backends.HDFSStoreBackend",
             "CONNECTOR_CONFIG": {"host": whost, "port": wport, "username": "root", "base_path": base}},
            f"webhdfs://root@{whost}:{wport}{base}",
        ),
    }


@pytest.mark.parametrize("case", ["redis", "redis-single", "redis-peer-path", "sqlite", "memory", "webhdfs"])
def test_peer_persists_through_our_backend(case: str, tmp_path: Any, request: Any) -> None:
    config, check_url = cases(tmp_path)[case]
    request.addfinalizer(lambda: cleanup(case.split("-")[0], config.get("CONNECTOR_CONFIG", {})))
    settings = tmp_path / "settings.py"
    settings.write_text(f"RESULT_BACKEND_CONFIG = {config!r}\n")
    env = dict(os.environ, EVENT_PIPELINE_CONFIG=str(settings), EVENT_PIPELINE_CONFIG_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, check_url], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["backend"] == config["ENGINE"].rsplit(".", 1)[1]
    expected = "SingleConnectorManager" if case in ("redis-single", "memory", "webhdfs") else "PooledConnectorManager"
    assert result["manager"] == expected


PIPELINE = textwrap.dedent(
    """
    import json, sys
    import recordstore
    from event_pipeline import EventBase, Pipeline
    from event_pipeline.fields import InputDataField

    class Fetch(EventBase):
        def process(self, *args, **kwargs):
            return True, {"fetched": 41}

    class Compute(EventBase):
        def process(self, *args, **kwargs):
            return True, {"answer": 42}

    class Probe(Pipeline):
        name = InputDataField(data_type=str, required=True)

        class Meta:
            pointy = "Fetch->Compute"

    Probe(name="x").start(force_rerun=True)
    store = recordstore.open(sys.argv[1])
    rows = store.filter("EventResult")
    print(json.dumps({r["event_name"]: r["content"] for _, r in rows}))
    store.delete_many("EventResult", [k for k, _ in rows])
    """
)


@pytest.mark.parametrize("case", ["redis", "sqlite"])
def test_a_peer_pipeline_run_persists_its_results_through_ours(case: str, tmp_path: Any, request: Any) -> None:
    config, check_url = cases(tmp_path)[case]
    request.addfinalizer(lambda: cleanup(case, config.get("CONNECTOR_CONFIG", {})))
    settings = tmp_path / "settings.py"
    settings.write_text(f"RESULT_BACKEND_CONFIG = {config!r}\n")
    env = dict(os.environ, EVENT_PIPELINE_CONFIG=str(settings), EVENT_PIPELINE_CONFIG_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", PIPELINE, check_url], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    assert results == {"Fetch": {"fetched": 41}, "Compute": {"answer": 42}}
