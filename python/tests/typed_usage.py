"""A small typed program using the package; `mypy --strict` checks it against the stubs."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Tuple

import recordstore
import recordstore.aio
from recordstore.backends import ConnectionMode, ConnectorManagerFactory, RedisStoreBackend


def short_api() -> Tuple[int, List[Tuple[str, Dict[str, Any]]]]:
    store: recordstore.Store = recordstore.open("memory://")
    store.insert("tasks", "t1", {"status": "done"})
    got: Dict[str, Any] = store.get("tasks", "t1")
    flags: List[bool] = store.insert_many("tasks", {"t2": {"status": "running"}})
    many: List[Optional[Dict[str, Any]]] = store.get_many("tasks", ["t1", "t2"])
    assert got and flags and many
    try:
        store.insert("tasks", "t1", {})
    except recordstore.AlreadyExists as e:
        schema: Optional[str] = e.schema
        temporary: bool = e.temporary
        assert schema and not temporary
    return store.count("tasks"), store.filter("tasks", status="done")


def seed_api() -> None:
    backend = RedisStoreBackend(host="127.0.0.1", port=6390, db=0)
    exists: bool = backend.exists("tasks", "t1")
    n: int = backend.count("tasks")
    assert exists or n >= 0
    class Task:
        id: str
        status: str

    task: Task = backend.get_record("tasks", Task, "t1")
    tasks: List[Task] = backend.filter_record("tasks", Task, status="done")
    raw: Dict[str, Any] = backend.get_record("tasks", None, "t1")
    assert task and tasks and raw
    manager = ConnectorManagerFactory.create_manager(
        RedisStoreBackend, {"host": "127.0.0.1"}, connection_mode=ConnectionMode.POOLED, max_connections=4
    )
    manager.shutdown()


async def async_api() -> int:
    store: recordstore.aio.AsyncStore = await recordstore.aio.open("memory://")
    await store.insert("tasks", "t1", {"n": 1})
    rows: List[Tuple[str, Dict[str, Any]]] = await store.filter("tasks", n__gte=1)
    return len(rows) + await store.count("tasks")


if __name__ == "__main__":
    print(short_api(), asyncio.run(async_api()))


def migrate(source: str, destination: str) -> bool:
    report: recordstore.CopyReport = recordstore.copy(
        source, destination, ["tasks"], on_conflict="skip", verify=True
    )
    first: recordstore.SchemaReport = report.schemas[0]
    keys: List[str] = [p.key for p in first.failed + first.conflicting]
    return report.complete and not keys and str(report) != ""
