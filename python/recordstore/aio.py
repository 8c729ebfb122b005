"""recordstore for asyncio: the short API as ``async def``\\ s.

The Rust futures run on a shared tokio runtime and complete the asyncio future directly
(no thread-pool executor), so any number of tasks can share one store::

    import asyncio, recordstore.aio

    async def main() -> None:
        store = await recordstore.aio.open("redis://127.0.0.1:6379/0")
        await asyncio.gather(*(store.insert("tasks", f"t{i}", {"n": i}) for i in range(100)))
        print(await store.count("tasks"))
        await store.close()

    asyncio.run(main())
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from . import _extra, _native
from ._native import Store

__all__ = ["open", "AsyncStore"]


class AsyncStore:
    """A store for asyncio; the same methods as :class:`recordstore.Store`, awaitable.

    :attr:`sync` gives the blocking store underneath (same connections).
    """

    __slots__ = ("_s",)

    def __init__(self, store: Store) -> None:
        self._s = store

    def __repr__(self) -> str:
        return f"<recordstore.aio.AsyncStore {self._s.backend} {self._s.url!r}>"

    @property
    def sync(self) -> Store:
        """The blocking store underneath (its calls block the event loop)."""
        return self._s

    @property
    def backend(self) -> str:
        """The backend's short name: memory, sqlite, redis or hdfs."""
        return self._s.backend

    async def exists(self, schema: str, key: str) -> bool:
        """Whether a record exists."""
        return await self._s.aexists(schema, key)

    async def count(self, schema: str) -> int:
        """The number of records in a schema; 0 for a schema that does not exist."""
        return await self._s.acount(schema)

    async def insert(self, schema: str, key: str, record: Dict[str, Any]) -> None:
        """Inserts a new record; ``AlreadyExists`` if the key is taken."""
        await self._s.ainsert(schema, key, record)

    async def update(self, schema: str, key: str, record: Dict[str, Any]) -> None:
        """Replaces an existing record; ``NotFound`` if there is none."""
        await self._s.aupdate(schema, key, record)

    async def save(self, schema: str, key: str, record: Dict[str, Any]) -> None:
        """Inserts a record, or replaces it if the key exists."""
        await self._s.asave(schema, key, record)

    async def delete(self, schema: str, key: str) -> None:
        """Deletes a record; ``NotFound`` if there is none."""
        await self._s.adelete(schema, key)

    async def get(self, schema: str, key: str) -> Dict[str, Any]:
        """Reads a record; ``NotFound`` if there is none."""
        return await self._s.aget(schema, key)

    async def filter(self, schema: str, /, **conditions: Any) -> List[Tuple[str, Dict[str, Any]]]:
        """The records matching every ``field__lookup=value`` condition, as ``(key, dict)``
        pairs sorted by key."""
        return await self._s.afilter(schema, **conditions)

    async def insert_many(
        self,
        schema: str,
        records: Union[Dict[str, Dict[str, Any]], Iterable[Tuple[str, Dict[str, Any]]]],
    ) -> List[bool]:
        """Inserts many records; for each, ``True`` if inserted, ``False`` if its key was taken."""
        return await self._s.ainsert_many(schema, records)

    async def get_many(self, schema: str, keys: Iterable[str]) -> List[Optional[Dict[str, Any]]]:
        """Reads many records; ``None`` for a key with no record."""
        return await self._s.aget_many(schema, list(keys))

    async def delete_many(self, schema: str, keys: Iterable[str]) -> List[bool]:
        """Deletes many records; for each key, ``True`` if deleted, ``False`` if there was none."""
        return await self._s.adelete_many(schema, list(keys))

    async def list_schemas(self) -> List[str]:
        """The names of the schemas the store holds, sorted."""
        return await self._s.alist_schemas()

    async def ping(self) -> None:
        """Checks that the backend answers; ``ConnectionFailed`` if not."""
        await self._s.aping()

    async def close(self) -> None:
        """Closes the store's connections."""
        await self._s.aclose()

    async def __aenter__(self) -> "AsyncStore":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def open(
    url: Optional[str] = None,
    *,
    config: Union[str, "os.PathLike[str]", None] = None,
    mode: Optional[str] = None,
    max_connections: Optional[int] = None,
    connection_timeout: Optional[float] = None,
    idle_timeout: Optional[float] = None,
    **extras: object,
) -> AsyncStore:
    """Opens a store for asyncio; the same URLs, settings and layering as
    :func:`recordstore.open`."""
    store = await _native.open_async(
        url,
        config=os.fspath(config) if config is not None else None,
        load_settings=True,
        mode=mode,
        max_connections=max_connections,
        connection_timeout=connection_timeout,
        idle_timeout=idle_timeout,
        extras={k: _extra(v) for k, v in extras.items()},
    )
    return AsyncStore(store)
