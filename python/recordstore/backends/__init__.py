"""The seed's classes, name for name, on the Rust core (the full text is assembled below)."""

from .. import _backends
from .._backends import (
    BackendConnectorBase,
    BaseConnectorManager,
    ConnectionMode,
    ConnectorManagerFactory,
    DummyConnector,
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
    SqliteConnector,
    SQLiteStoreBackend,
    SqliteStoreBackend,
)

__doc__ = (_backends.__doc__ or "") + """
The submodules repeat the peer's module shape, so that a dotted path of event-pipeline 2.0.0
becomes ours by its first word: ``event_pipeline.backends.stores.redis_store.RedisStoreBackend``
is also ``recordstore.backends.stores.redis_store.RedisStoreBackend``.
"""

__all__ = [
    "BackendConnectorBase",
    "InMemoryConnector",
    "DummyConnector",
    "SQLiteConnector",
    "SqliteConnector",
    "RedisConnector",
    "HDFSConnector",
    "KeyValueStoreBackendBase",
    "InMemoryKeyValueStoreBackend",
    "SQLiteStoreBackend",
    "SqliteStoreBackend",
    "RedisStoreBackend",
    "HDFSStoreBackend",
    "ConnectionMode",
    "ConnectorManagerFactory",
    "BaseConnectorManager",
    "SingleConnectorManager",
    "PooledConnectorManager",
]

# The public home of these classes (reprs, docs, and the import strings the peer stores).
for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", None) == _backends.__name__:
        _obj.__module__ = __name__
