"""recordstore: one record-store API over memory, SQLite, Redis and HDFS, on a Rust core.

Two front doors:

* ``recordstore.open(url)`` returns a :class:`Store` with short methods (``get``, ``insert``,
  ``update``, ``save``, ``delete``, ``exists``, ``count``, ``filter`` and the batch calls
  ``insert_many``, ``get_many``, ``delete_many``); :mod:`recordstore.aio` has the same as
  ``async def``\\ s.
* ``recordstore.copy(source_url, destination_url)`` copies schemas between stores, for a
  migration (from event-pipeline's stores too), with a report of what arrived.
* The seed's classes, name for name (``KeyValueStoreBackendBase``, ``RedisStoreBackend``,
  ``HDFSStoreBackend``, ``InMemoryKeyValueStoreBackend``, ``SQLiteStoreBackend``, the
  connectors and connector managers), a drop-in for event-pipeline 2.0.0's backends: see
  :mod:`recordstore.backends`.

Every call that does I/O releases the GIL; one store is safe to share across threads.

Example::

    import recordstore
    store = recordstore.open("redis://127.0.0.1:6379/0")   # or sqlite://tasks.db, memory://
    store.insert("tasks", "t1", {"status": "done", "attempts": 2})
    store.filter("tasks", status="done")          # [("t1", {"status": "done", ...})]
"""

from __future__ import annotations

import os
from typing import Optional, Union

from . import _native
from ._copy import CopyReport, Problem, SchemaReport, VerifyReport, copy
from ._native import Store
from .exceptions import (
    AlreadyExists,
    AuthFailed,
    BackendError,
    ConnectionFailed,
    Corrupt,
    InvalidInput,
    NotFound,
    ObjectDoesNotExist,
    ObjectExistError,
    RecordStoreError,
    StoreClosed,
    ConfigurationError,
    ProtocolMismatch,
    Timeout,
)

__all__ = [
    "open",
    "Store",
    "copy",
    "CopyReport",
    "SchemaReport",
    "VerifyReport",
    "Problem",
    "SUPPORTED_SCHEMES",
    "RecordStoreError",
    "NotFound",
    "AlreadyExists",
    "InvalidInput",
    "Corrupt",
    "ConnectionFailed",
    "Timeout",
    "AuthFailed",
    "BackendError",
    "StoreClosed",
    "ConfigurationError",
    "ProtocolMismatch",
    "ObjectDoesNotExist",
    "ObjectExistError",
    # the seed's classes, from recordstore.backends
    "KeyValueStoreBackendBase",
    "InMemoryKeyValueStoreBackend",
    "SQLiteStoreBackend",
    "RedisStoreBackend",
    "HDFSStoreBackend",
    "BackendConnectorBase",
    "InMemoryConnector",
    "SQLiteConnector",
    "RedisConnector",
    "HDFSConnector",
    "ConnectionMode",
    "ConnectorManagerFactory",
    "BaseConnectorManager",
    "SingleConnectorManager",
    "PooledConnectorManager",
]

#: The URL schemes this build supports (``memory://``, ``sqlite://``, ``redis://``, ...).
SUPPORTED_SCHEMES = list(_native.SUPPORTED_SCHEMES)


def open(
    url: Optional[str] = None,
    *,
    config: Union[str, "os.PathLike[str]", None] = None,
    mode: Optional[str] = None,
    max_connections: Optional[int] = None,
    connection_timeout: Optional[float] = None,
    idle_timeout: Optional[float] = None,
    threads: Optional[int] = None,
    **extras: object,
) -> Store:
    """Opens the store a URL names, as the CLI does.

    The URL and options come from the arguments, else the environment
    (``RECORDSTORE_URL``, ``RECORDSTORE_MAX_CONNECTIONS``, ...), else the TOML config file
    (``config``, else ``$RECORDSTORE_CONFIG``), else ``sqlite://recordstore.db``: the same
    layering and the same file format as the ``recordstore`` command.

    Args:
        url: ``memory://``, ``sqlite://PATH``, ``redis://[user:password@]host[:port][/db]``,
            ``rediss://...``, ``redis+cluster://host:port,...``, ``hdfs://[user@]host[:port][/base]``
            or ``webhdfs://...``.
        config: a TOML config file (see the README).
        mode: ``"auto"`` (the backend's choice), ``"single"`` or ``"pooled"``.
        max_connections: the pool size.
        connection_timeout: seconds to wait for a connection, connecting included.
        idle_timeout: seconds before an idle pooled connection closes; 0 means never.
        threads: ``None`` (the default) drives the store from the calling threads, which
            is fastest per call; ``N`` gives it a runtime of its own with N worker threads.
        extras: backend extras, as in the config file's ``CONNECTOR_CONFIG``
            (``prefix``, ``base_path``, ``username``, ``password``, ``db``, ...).

    Raises:
        InvalidInput: an unknown scheme, a malformed URL or setting.
    """
    return _native.open(
        url,
        config=os.fspath(config) if config is not None else None,
        load_settings=True,
        mode=mode,
        max_connections=max_connections,
        connection_timeout=connection_timeout,
        idle_timeout=idle_timeout,
        extras={k: _extra(v) for k, v in extras.items()},
        runtime="multi" if threads else "current",
        threads=threads,
    )


def _extra(value: object) -> str:
    """A backend extra as the core takes it: text (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


from .backends import (  # noqa: E402  (the backends import this module's names)
    BackendConnectorBase,
    BaseConnectorManager,
    ConnectionMode,
    ConnectorManagerFactory,
    HDFSConnector,
    HDFSStoreBackend,
    InMemoryConnector,
    InMemoryKeyValueStoreBackend,
    KeyValueStoreBackendBase,
    PooledConnectorManager,
    RedisConnector,
    RedisStoreBackend,
    SingleConnectorManager,
    SQLiteConnector,
    SQLiteStoreBackend,
)
