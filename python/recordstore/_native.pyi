"""Type stubs of the native module (Rust, PyO3)."""

from typing import Any, Awaitable, Dict, Iterable, List, Optional, Tuple, Type, TypeVar, Union

T = TypeVar("T")

#: The URL schemes this build supports.
SUPPORTED_SCHEMES: List[str]

Record = Dict[str, Any]

class Store:
    """A record store: one backend, opened from a URL, safe to share across threads."""

    @property
    def backend(self) -> str:
        """The backend's short name: memory, sqlite, redis or hdfs."""
    @property
    def url(self) -> str:
        """The store's URL, with any password replaced by ***."""
    def exists(self, schema: str, key: str) -> bool:
        """Whether a record exists."""
    def count(self, schema: str) -> int:
        """The number of records in a schema; 0 for a schema that does not exist."""
    def insert(self, schema: str, key: str, record: Dict[str, Any]) -> None:
        """Inserts a new record; AlreadyExists if the key is taken."""
    def update(self, schema: str, key: str, record: Dict[str, Any]) -> None:
        """Replaces an existing record; NotFound if there is none."""
    def save(self, schema: str, key: str, record: Dict[str, Any]) -> None:
        """Inserts a record, or replaces it if the key exists."""
    def delete(self, schema: str, key: str) -> None:
        """Deletes a record; NotFound if there is none."""
    def get(self, schema: str, key: str) -> Record:
        """Reads a record as a new dict; NotFound if there is none."""
    def filter(self, schema: str, /, **conditions: Any) -> List[Tuple[str, Record]]:
        """The records matching every field__lookup=value condition, as (key, dict) pairs sorted by key."""
    def filter_objects(
        self, schema: str, klass: Type[T], conditions: Optional[Dict[str, Any]] = None
    ) -> List[T]:
        """The matching records built as klass: klass.__new__(klass), then __setstate__(dict)."""
    def insert_many(
        self, schema: str, records: Union[Dict[str, Dict[str, Any]], Iterable[Tuple[str, Dict[str, Any]]]]
    ) -> List[bool]:
        """Inserts many records; for each, True if inserted, False if its key was taken."""
    def get_many(self, schema: str, keys: Iterable[str]) -> List[Optional[Record]]:
        """Reads many records; None for a key with no record."""
    def delete_many(self, schema: str, keys: Iterable[str]) -> List[bool]:
        """Deletes many records; for each key, True if deleted, False if there was none."""
    def list_schemas(self) -> List[str]:
        """The names of the schemas the store holds, sorted."""
    def ping(self) -> None:
        """Checks that the backend answers; ConnectionFailed if not."""
    def close(self) -> None:
        """Closes the store's connections."""
    # Awaitables of the methods above, for stores opened with open_async.
    def aexists(self, schema: str, key: str) -> Awaitable[bool]: ...
    def acount(self, schema: str) -> Awaitable[int]: ...
    def ainsert(self, schema: str, key: str, record: Dict[str, Any]) -> Awaitable[None]: ...
    def aupdate(self, schema: str, key: str, record: Dict[str, Any]) -> Awaitable[None]: ...
    def asave(self, schema: str, key: str, record: Dict[str, Any]) -> Awaitable[None]: ...
    def adelete(self, schema: str, key: str) -> Awaitable[None]: ...
    def aget(self, schema: str, key: str) -> Awaitable[Record]: ...
    def afilter(self, schema: str, /, **conditions: Any) -> Awaitable[List[Tuple[str, Record]]]: ...
    def ainsert_many(
        self, schema: str, records: Union[Dict[str, Dict[str, Any]], Iterable[Tuple[str, Dict[str, Any]]]]
    ) -> Awaitable[List[bool]]: ...
    def aget_many(self, schema: str, keys: Iterable[str]) -> Awaitable[List[Optional[Record]]]: ...
    def adelete_many(self, schema: str, keys: Iterable[str]) -> Awaitable[List[bool]]: ...
    def alist_schemas(self) -> Awaitable[List[str]]: ...
    def aping(self) -> Awaitable[None]: ...
    def aclose(self) -> Awaitable[None]: ...

def open(
    url: Optional[str] = None,
    *,
    config: Optional[str] = None,
    load_settings: bool = True,
    mode: Optional[str] = None,
    max_connections: Optional[int] = None,
    connection_timeout: Optional[float] = None,
    idle_timeout: Optional[float] = None,
    extras: Optional[Dict[str, str]] = None,
    runtime: str = "current",
    threads: Optional[int] = None,
) -> Store:
    """Opens a store (see recordstore.open); runtime is current, multi or asyncio."""
def open_async(
    url: Optional[str] = None,
    *,
    config: Optional[str] = None,
    load_settings: bool = True,
    mode: Optional[str] = None,
    max_connections: Optional[int] = None,
    connection_timeout: Optional[float] = None,
    idle_timeout: Optional[float] = None,
    extras: Optional[Dict[str, str]] = None,
) -> Awaitable[Store]:
    """Opens a store on the asyncio runtime (see recordstore.aio.open)."""
def copy(
    source: str,
    destination: str,
    schemas: List[str],
    on_conflict: str,
    on_error: str,
    verify: bool,
) -> Tuple[List[Dict[str, Any]], str, Optional[BaseException]]:
    """Copies schemas (see recordstore.copy): per-schema dicts, the summary, the stopping error."""
