"""The seed's classes, name for name and parameter for parameter, on the Rust core.

A drop-in for event-pipeline 2.0.0's backends: point its settings at one of these classes::

    RESULT_BACKEND_CONFIG = {
        "ENGINE": "recordstore.backends.RedisStoreBackend",
        "CONNECTOR_CONFIG": {"host": "127.0.0.1", "port": 6379, "db": 0},
    }

and the peer's own code (``EventResult.save()``, its connector managers) runs on ours.

Records are plain ``dict``\\ s, or objects of the peer's kind: stored as
``record.__getstate__()`` (which must return a ``dict`` of JSON values; the peer's
``BackendIntegrationMixin`` turns its ``_backend`` class into an import string there), and
built back as the peer does, with ``klass.__new__(klass)`` then ``__setstate__(state)`` (or
``__dict__.update(state)`` for classes without ``__setstate__``).

Where the peer behaves wrongly, these behave as the Rust core does, on every backend:

* ``insert_record`` is atomic: of N concurrent inserts of one key exactly one wins (the
  peer checks, then writes; its in-memory store does not check at all and overwrites);
  ``update_record`` never creates a record (the peer's in-memory store does).
* Errors are never swallowed: an unreachable server is ``ConnectionFailed`` (a
  ``ConnectionError``), never "does not exist", ``False``, 0 or an empty list (the peer's
  HDFS store returns those); corrupt stored data is ``Corrupt``, naming the record.
* ``count`` and ``filter_record`` of a schema that does not exist are 0 and ``[]`` (the
  peer's in-memory store raises).
* The in-memory store keeps copies: changing a record after inserting it, or an object
  returned by ``get_record``, never changes what is stored (the peer keeps live references).
* Filters take Django's lookups (``attempts__gte=3``, ``status__in=[...]``, ...), evaluated
  on the stored fields; an unknown lookup is ``InvalidInput``, never an empty result.
* Values that JSON cannot hold (sets, bytes, arbitrary objects) are ``InvalidInput`` on every
  backend; the peer's Redis store pickles them and its HDFS store fails in ``json.dumps``.
"""

from __future__ import annotations

import abc
import enum
import os
import threading
import time
import weakref
from typing import Any, Callable, ClassVar, Dict, List, Optional, Type, TypeVar, Union, overload

from . import _native
from ._native import Store
from .exceptions import InvalidInput, RecordStoreError

__all__ = [
    "BackendConnectorBase",
    "InMemoryConnector",
    "DummyConnector",
    "SqliteConnector",
    "SqliteStoreBackend",
    "SQLiteConnector",
    "RedisConnector",
    "HDFSConnector",
    "KeyValueStoreBackendBase",
    "InMemoryKeyValueStoreBackend",
    "SQLiteStoreBackend",
    "RedisStoreBackend",
    "HDFSStoreBackend",
    "ConnectionMode",
    "ConnectorManagerFactory",
    "BaseConnectorManager",
    "SingleConnectorManager",
    "PooledConnectorManager",
]

T = TypeVar("T")


# --------------------------------------------------------------------------- connectors


class BackendConnectorBase(abc.ABC):
    """The connection to one backend (seed: ``BackendConnectorBase``).

    Args:
        host: the server's host.
        port: the server's port.
        username: the user to authenticate as.
        password: the password; kept out of every message and repr.
        db: the database: a number for Redis, a file path for SQLite.
        connection_mode: ``"single"``, ``"pooled"`` (or a :class:`ConnectionMode`), or
            ``None`` for the backend's own choice.
        max_connections, connection_timeout, idle_timeout: the pool's settings.
        options: backend extras (``prefix`` for Redis, ``base_path`` for HDFS, ...).

    The connection is made on first use (or by :meth:`connect`); the core's connection
    manager reconnects by itself after a failure.
    """

    def __init__(
        self,
        host: Optional[str] = None,
        port: Optional[int] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        db: Any = None,
        *,
        connection_mode: Union[str, "ConnectionMode", None] = None,
        max_connections: Optional[int] = None,
        connection_timeout: Optional[float] = None,
        idle_timeout: Optional[float] = None,
        **options: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.db = db
        self.connection_mode = (
            connection_mode.value if isinstance(connection_mode, ConnectionMode) else connection_mode
        )
        self.max_connections = max_connections
        self.connection_timeout = connection_timeout
        self.idle_timeout = idle_timeout
        self.options = {k: v for k, v in options.items() if v is not None}
        self._store: Optional[Store] = None
        self._lock = threading.Lock()
        _connectors.add(self)

    @property
    def database(self) -> Any:
        """The peer's name for :attr:`db`."""
        return self.db

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(host={self.host!r}, port={self.port!r}, "
            f"username={self.username!r}, password={'***' if self.password else None}, "
            f"db={self.db!r})"
        )

    @abc.abstractmethod
    def url(self) -> str:
        """The store URL this connector opens (never with a password in it)."""

    def extras(self) -> Dict[str, str]:
        """Backend extras for the core: credentials and :attr:`options`, as text."""
        out = {k: _text(v) for k, v in self.options.items()}
        if self.username is not None:
            out["username"] = str(self.username)
        if self.password is not None:
            out["password"] = str(self.password)
        return out

    def _open(self) -> Store:
        return _native.open(
            self.url(),
            load_settings=False,
            mode=self.connection_mode,
            max_connections=self.max_connections,
            connection_timeout=self.connection_timeout,
            idle_timeout=self.idle_timeout,
            extras=self.extras(),
        )

    @property
    def store(self) -> Store:
        """The open :class:`~recordstore.Store`, opened on first use (no I/O for Redis)."""
        store = self._store
        if store is None:
            with self._lock:
                store = self._store
                if store is None:
                    store = self._store = self._open()
        return store

    @property
    def cursor(self) -> Store:
        """The peer's name for :attr:`store`."""
        return self.store

    def connect(self) -> Store:
        """Opens the store if needed and checks that the backend answers.

        Raises:
            ConnectionFailed: the backend cannot be reached.
        """
        store = self.store
        store.ping()
        return store

    def disconnect(self) -> None:
        """Closes the connection. A later call reconnects."""
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()

    def is_connected(self) -> bool:
        """Whether the store is open and the backend answers a ping (a round trip)."""
        store = self._store
        if store is None:
            return False
        try:
            store.ping()
        except RecordStoreError:
            return False
        return True

    def __enter__(self) -> "BackendConnectorBase":
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()


#: Every connector, so that a forked child can drop its parent's connections.
_connectors: "weakref.WeakSet[BackendConnectorBase]" = weakref.WeakSet()
#: Stores inherited from the parent process: never used or dropped in the child.
_inherited: List[Store] = []


def _after_fork_in_child() -> None:
    """A forked child must not talk on its parent's sockets (the peer forks for its process
    executors): each connector opens a store of its own on next use. The parent's stores are
    kept, unused, rather than dropped, since dropping would close what the parent still uses.
    In-memory stores are process-local copies, so the child keeps its copy of them."""
    for c in list(_connectors):
        c._lock = threading.Lock()
        if c._store is not None and not isinstance(c, InMemoryConnector):
            _inherited.append(c._store)
            c._store = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_memory_lock = threading.Lock()
_memory_stores: Dict[str, Store] = {}


class InMemoryConnector(BackendConnectorBase):
    """The in-memory store. Stores of one ``name`` (default ``"default"``) are shared by the
    whole process, as the peer's module-level dict is, but hold copies, never the caller's
    objects. :meth:`disconnect` keeps the data."""

    def __init__(self, *args: Any, name: str = "default", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name = name

    def url(self) -> str:
        return "memory://"

    def _open(self) -> Store:
        with _memory_lock:
            store = _memory_stores.get(self.name)
            if store is None:
                store = _memory_stores[self.name] = super()._open()
            return store

    def disconnect(self) -> None:
        with self._lock:
            self._store = None


#: The peer's name for the in-memory backend's connector.
DummyConnector = InMemoryConnector


class SQLiteConnector(BackendConnectorBase):
    """An SQLite file (ours: the embedded default). ``db`` is the file's path
    (default ``recordstore.db``); ``host`` and ``port`` are ignored."""

    def __init__(self, host: Optional[str] = None, port: Optional[int] = None, db: Any = None, **kwargs: Any) -> None:
        super().__init__(host=host, port=port, db=db, **kwargs)

    def url(self) -> str:
        return f"sqlite://{self.db or 'recordstore.db'}"


#: The peer's spelling.
SqliteConnector = SQLiteConnector


class RedisConnector(BackendConnectorBase):
    """A Redis server: ``host`` (default ``localhost``), ``port`` (6379), ``db`` (0), and
    optionally ``username``, ``password``, ``prefix`` (key namespace), ``ssl=True`` for TLS,
    ``cluster=True`` for Redis Cluster, or a whole ``url``."""

    def __init__(
        self,
        host: Optional[str] = "localhost",
        port: Optional[int] = 6379,
        db: Any = 0,
        username: Optional[str] = None,
        password: Optional[str] = None,
        *,
        url: Optional[str] = None,
        ssl: bool = False,
        cluster: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(host=host, port=port, username=username, password=password, db=db, **kwargs)
        self._url = url
        self.ssl = ssl
        self.cluster = cluster

    def url(self) -> str:
        if self._url:
            return self._url
        scheme = ("rediss" if self.ssl else "redis") + ("+cluster" if self.cluster else "")
        return f"{scheme}://{_host(self.host)}:{self.port or 6379}"

    def extras(self) -> Dict[str, str]:
        out = super().extras()
        if self.db is not None and not self.cluster:
            out["db"] = str(self.db)
        return out


class HDFSConnector(BackendConnectorBase):
    """An HDFS cluster: the NameNode's ``host`` and ``port``, over WebHDFS (the peer's
    transport; default port 9870) or, with ``transport="native"``, the native RPC protocol
    (default port 8020). ``username`` defaults to ``$HADOOP_USER_NAME``, else ``root``;
    ``base_path`` (default ``/event_pipeline``) is where schemas live."""

    def __init__(
        self,
        host: Optional[str] = "localhost",
        port: Optional[int] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        db: Any = None,
        *,
        base_path: str = "/event_pipeline",
        transport: str = "webhdfs",
        **kwargs: Any,
    ) -> None:
        super().__init__(host=host, port=port, username=username, password=password, db=db, **kwargs)
        if transport not in ("webhdfs", "native"):
            raise InvalidInput(f"HDFS transport {transport!r} is not one of webhdfs, native")
        self.base_path = base_path
        self.transport = transport

    def url(self) -> str:
        scheme, default_port = ("webhdfs", 9870) if self.transport == "webhdfs" else ("hdfs", 8020)
        return f"{scheme}://{_host(self.host)}:{self.port or default_port}"

    def extras(self) -> Dict[str, str]:
        out = super().extras()
        out.pop("password", None)  # HDFS (simple auth) takes none
        out["base_path"] = self.base_path
        return out


def _host(host: Optional[str]) -> str:
    h = host or "localhost"
    return f"[{h}]" if ":" in h and not h.startswith("[") else h


# --------------------------------------------------------------------------- stores


def _record_state(record: Any) -> Dict[str, Any]:
    """What is stored for a record: a dict as it is, else ``record.__getstate__()``."""
    if isinstance(record, dict):
        return record
    getstate = getattr(record, "__getstate__", None)
    state = getstate() if getstate is not None else getattr(record, "__dict__", None)
    if isinstance(state, dict):
        return state
    raise InvalidInput(
        f"a record must be a dict or an object whose __getstate__ returns a dict; "
        f"{type(record).__name__} gave {type(state).__name__}"
    )


def _key(record_key: Union[str, int]) -> str:
    if isinstance(record_key, str):
        return record_key
    if isinstance(record_key, int) and not isinstance(record_key, bool):
        return str(record_key)
    raise InvalidInput(f"a record key must be a str or an int, not {type(record_key).__name__}")


def _record_key(record: Any) -> str:
    """The key of a record object (``record.id``, as the peer uses) or dict (``record["id"]``)."""
    key = record.get("id") if isinstance(record, dict) else getattr(record, "id", None)
    if key is None:
        raise InvalidInput(f"cannot tell the key of a {type(record).__name__} record: it has no id")
    return _key(key)


def _has_setstate(klass: type) -> bool:
    return getattr(klass, "__setstate__", None) is not None


class KeyValueStoreBackendBase(abc.ABC):
    """The record-store API (seed: ``KeyValueStoreBackendBase``), on a Rust store.

    Subclasses name their :attr:`connector_klass`; ``__init__(**connector_config)`` builds
    ``connector_klass(**connector_config)``, as the peer does. Every method releases the GIL
    for its I/O, and one instance is safe to share across threads.
    """

    connector_klass: ClassVar[Type[BackendConnectorBase]]

    def __init__(self, **connector_config: Any) -> None:
        self.connector = self.connector_klass(**connector_config)
        self._connector_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.connector!r}>"

    @property
    def store(self) -> Store:
        """The :class:`~recordstore.Store` underneath, for the short API and batch calls."""
        return self.connector.store

    def is_connected(self) -> bool:
        """Whether the backend answers (the peer's connector managers call this)."""
        return self.connector.is_connected()

    def close(self) -> None:
        """Closes the connection (the peer's managers call this on shutdown)."""
        if self.connector:
            self.connector.disconnect()

    def exists(self, schema_name: str, record_key: Union[str, int]) -> bool:
        """Whether a record exists."""
        return self.store.exists(schema_name, _key(record_key))

    def count(self, schema_name: str) -> int:
        """The number of records in a schema; 0 for a schema that does not exist."""
        return self.store.count(schema_name)

    def insert_record(self, schema_name: str, record_key: Union[str, int], record: Any) -> None:
        """Inserts a new record, atomically.

        Raises:
            AlreadyExists: the key is taken (also the peer's ``ObjectExistError``).
        """
        self.store.insert(schema_name, _key(record_key), _record_state(record))

    def update_record(self, schema_name: str, record_key: Union[str, int], record: Any) -> None:
        """Replaces an existing record; never creates one.

        Raises:
            NotFound: there is no such record (also the peer's ``ObjectDoesNotExist``).
        """
        self.store.update(schema_name, _key(record_key), _record_state(record))

    def save_record(self, schema_name: str, record_key: Union[str, int], record: Any) -> None:
        """Inserts a record, or replaces it if the key exists (not in the seed)."""
        self.store.save(schema_name, _key(record_key), _record_state(record))

    def delete_record(self, schema_name: str, record_key: Union[str, int]) -> None:
        """Deletes a record.

        Raises:
            NotFound: there is no such record.
        """
        self.store.delete(schema_name, _key(record_key))

    @overload
    def get_record(self, schema_name: str, klass: Type[T], record_key: Union[str, int]) -> T: ...
    @overload
    def get_record(self, schema_name: str, klass: None, record_key: Union[str, int]) -> Dict[str, Any]: ...

    def get_record(self, schema_name: str, klass: Optional[Type[T]], record_key: Union[str, int]) -> Any:
        """Reads a record, built as ``klass`` (see :meth:`load_record`); a ``dict`` when
        ``klass`` is ``None`` or ``dict``.

        Raises:
            NotFound: there is no such record.
        """
        return self.load_record(self.store.get(schema_name, _key(record_key)), klass)

    def reload_record(self, schema_name: str, record: Any) -> None:
        """Replaces a record object's state (or a dict's items) with what is stored under its
        key (``record.id``, or ``record["id"]`` for a dict).

        Raises:
            NotFound: there is no such record.
        """
        state = self.store.get(schema_name, _record_key(record))
        if isinstance(record, dict):
            record.clear()
            record.update(state)
        elif _has_setstate(type(record)):
            record.__setstate__(state)
        else:
            record.__dict__.update(state)

    @overload
    def filter_record(self, schema_name: str, record_klass: Type[T], **filter_kwargs: Any) -> List[T]: ...
    @overload
    def filter_record(self, schema_name: str, record_klass: None, **filter_kwargs: Any) -> List[Dict[str, Any]]: ...

    def filter_record(self, schema_name: str, record_klass: Optional[Type[T]], **filter_kwargs: Any) -> List[Any]:
        """The records matching every ``field__lookup=value`` condition (Django's lookups:
        ``exact`` by default, ``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``in``,
        ``contains``, ``startswith``, ``endswith``, ``isnull``), built as ``record_klass``,
        in key order.

        Raises:
            InvalidInput: an unknown lookup or a value of the wrong type for it.
        """
        store = self.store
        if record_klass is None or record_klass is dict:
            return [doc for _, doc in store.filter(schema_name, **filter_kwargs)]
        if _has_setstate(record_klass):
            return store.filter_objects(schema_name, record_klass, filter_kwargs)
        return [self.load_record(doc, record_klass) for _, doc in store.filter(schema_name, **filter_kwargs)]

    @overload
    @staticmethod
    def load_record(record_state: Dict[str, Any], record_klass: Type[T]) -> T: ...
    @overload
    @staticmethod
    def load_record(record_state: Dict[str, Any], record_klass: None) -> Dict[str, Any]: ...

    @staticmethod
    def load_record(record_state: Dict[str, Any], record_klass: Optional[Type[T]]) -> Any:
        """Builds a record from its stored state as the peer does:
        ``record_klass.__new__(record_klass)`` then ``__setstate__(record_state)`` (or
        ``__dict__.update`` for a class without ``__setstate__``). ``None`` or ``dict``
        gives the state itself."""
        if record_klass is None or record_klass is dict:
            return record_state
        record = record_klass.__new__(record_klass)
        if _has_setstate(record_klass):
            record.__setstate__(record_state)  # type: ignore[attr-defined]
        else:
            record.__dict__.update(record_state)
        return record


class InMemoryKeyValueStoreBackend(KeyValueStoreBackendBase):
    """The in-memory store (``memory://``), shared by the process like the peer's, but
    holding copies: see :class:`InMemoryConnector`."""

    connector_klass = InMemoryConnector


class SQLiteStoreBackend(KeyValueStoreBackendBase):
    """An embedded SQLite file (ours; the peer has no SQLite store): ``db`` is its path."""

    connector_klass = SQLiteConnector


#: The peer's spelling.
SqliteStoreBackend = SQLiteStoreBackend


class RedisStoreBackend(KeyValueStoreBackendBase):
    """Redis: one hash per schema (as the peer's), a record's JSON text per field; every
    operation is one atomic round trip. See :class:`RedisConnector` for the parameters.

    Records are JSON, not the peer's pickles, so data written by the peer's Redis store
    reads as ``Corrupt`` here (and is never silently skipped)."""

    connector_klass = RedisConnector


class HDFSStoreBackend(KeyValueStoreBackendBase):
    """HDFS: one JSON file per record, ``{base_path}/{schema}/{key}.json``, written to a
    temporary file and renamed into place, so inserts are atomic. See :class:`HDFSConnector`
    for the parameters (``base_path`` defaults to ``/event_pipeline``)."""

    connector_klass = HDFSConnector

    def __init__(self, **connector_config: Any) -> None:
        super().__init__(**connector_config)
        self.base_path: str = self.connector.base_path  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- managers


class ConnectionMode(enum.Enum):
    """How connections are managed (seed: ``ConnectionMode``)."""

    #: One shared connection.
    SINGLE = "single"
    #: A pool of connections.
    POOLED = "pooled"


def _is_ours(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, KeyValueStoreBackendBase)


class BaseConnectorManager:
    """Hands out backend instances (seed: the connector managers).

    For this package's backends the Rust core does the connection management (one
    multiplexed connection, or a pool with checkout timeouts, idle reaping and retries), so
    a manager owns *one* thread-safe backend instance, opened in its mode, and
    :meth:`get_connection` returns it to every caller; :meth:`release_connection` is a
    no-op. Other classes are built once, the same way.
    """

    _mode: Optional[str] = None

    def __init__(self, connector_class: Any, connector_config: Dict[str, Any], **pool: Any) -> None:
        self.connector_class = connector_class
        self.connector_config = dict(connector_config or {})
        self._pool = {k: v for k, v in pool.items() if v is not None}
        self._connection: Any = None
        self._lock = threading.RLock()

    def _create_connection(self) -> Any:
        config = dict(self.connector_config)
        if _is_ours(self.connector_class):
            config.setdefault("connection_mode", self._mode)
            for k, v in self._pool.items():
                config.setdefault(k, v)
        return self.connector_class(**config)

    def get_connection(self) -> Any:
        """The shared backend instance, created on first use."""
        with self._lock:
            if self._connection is None:
                self._connection = self._create_connection()
            return self._connection

    def release_connection(self, connection: Any) -> None:
        """Nothing to do: the instance is shared and stays open."""

    def shutdown(self) -> None:
        """Closes the backend's connections."""
        with self._lock:
            conn, self._connection = self._connection, None
        if conn is not None:
            close = getattr(conn, "close", None) or getattr(conn, "disconnect", None)
            if close is not None:
                close()


class SingleConnectorManager(BaseConnectorManager):
    """One shared connection to a backend (seed: ``SingleConnectorManager``)."""

    _mode: Optional[str] = "single"

    def __init__(self, connector_class: Any, connector_config: Dict[str, Any]) -> None:
        super().__init__(connector_class, connector_config)


class _AutoConnectorManager(SingleConnectorManager):
    """``connection_mode=None`` on one of our backends: the core's own choice per backend."""

    _mode = None


class PooledConnectorManager(BaseConnectorManager):
    """A pool of connections (seed: ``PooledConnectorManager``), kept by the Rust core.

    Args:
        max_connections: the pool's size.
        connection_timeout: seconds to wait for a connection, connecting included.
        idle_timeout: seconds before an idle connection closes.
        retry_attempts, retry_delay: for :meth:`execute_with_retry`, which retries only
            errors that are ``temporary`` (never ``NotFound`` or ``AlreadyExists``).
    """

    _mode = "pooled"

    def __init__(
        self,
        connector_class: Any,
        connector_config: Dict[str, Any],
        max_connections: int = 10,
        connection_timeout: float = 30,
        idle_timeout: float = 300,
        retry_attempts: int = 3,
        retry_delay: float = 1,
    ) -> None:
        super().__init__(
            connector_class,
            connector_config,
            max_connections=max_connections,
            connection_timeout=connection_timeout,
            idle_timeout=idle_timeout,
        )
        self.max_connections = max_connections
        self.connection_timeout = connection_timeout
        self.idle_timeout = idle_timeout
        self.retry_attempts = retry_attempts
        self.retry_delay = retry_delay

    def execute_with_retry(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Calls ``method(*args, connector=backend, **kwargs)``, retrying temporary failures."""
        for attempt in range(1, max(1, self.retry_attempts) + 1):
            try:
                return method(*args, connector=self.get_connection(), **kwargs)
            except RecordStoreError as e:
                if not e.temporary or attempt >= self.retry_attempts:
                    raise
            time.sleep(self.retry_delay)
        raise AssertionError("unreachable")  # pragma: no cover


class ConnectorManagerFactory:
    """Builds the connector manager for a backend (seed: ``ConnectorManagerFactory``)."""

    @staticmethod
    def create_manager(
        connector_class: Any,
        connector_config: Dict[str, Any],
        connection_mode: Optional[ConnectionMode] = None,
        **kwargs: Any,
    ) -> BaseConnectorManager:
        """A manager for ``connector_class(**connector_config)``.

        ``connection_mode=None`` lets the core choose for this package's backends, and
        applies the peer's rule (pooled for class names mentioning redis, sql, ...) to others.
        ``kwargs`` are the pool's settings (``max_connections``, ``connection_timeout``,
        ``idle_timeout``, ``retry_attempts``, ``retry_delay``).
        """
        if isinstance(connection_mode, str):
            connection_mode = ConnectionMode(connection_mode.lower())
        if connection_mode is None:
            if _is_ours(connector_class):
                return _AutoConnectorManager(connector_class, connector_config)
            name = getattr(connector_class, "__name__", "").lower()
            pooled = any(n in name for n in ("redis", "mysql", "postgres", "sql", "mongo", "elasticsearch"))
            connection_mode = ConnectionMode.POOLED if pooled else ConnectionMode.SINGLE
        if connection_mode is ConnectionMode.POOLED:
            return PooledConnectorManager(connector_class, connector_config, **kwargs)
        # Pool settings mean nothing to one shared connection; the peer passes them anyway.
        return SingleConnectorManager(connector_class, connector_config)
