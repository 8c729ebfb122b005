"""The exceptions of recordstore: one base class, one subclass per kind of core error.

Every exception carries ``schema`` and ``key`` (``None`` when the failure was not about one
record), ``temporary`` (``True`` when trying again may succeed: a refused connection, a
timeout) and ``backend`` (``"redis"``, ``"hdfs"``, ... or ``None``). Messages come from the
Rust core, which names the schema and key and never prints a password.

Each class is also the builtin exception a Python programmer would reach for:
``NotFound`` is a ``KeyError``, ``InvalidInput`` and ``Corrupt`` are ``ValueError``\\ s,
``ConnectionFailed`` is a ``ConnectionError`` and ``Timeout`` a ``TimeoutError``.

When event-pipeline (the peer) is installed, ``NotFound`` is also its
``event_pipeline.exceptions.ObjectDoesNotExist`` and ``AlreadyExists`` its
``ObjectExistError``, so the peer's own ``save()`` (insert, and update on
``ObjectExistError``) works unchanged on our backends. Both are exported under the peer's
names as well.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple, Type

__all__ = [
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
]


def _peer_classes() -> Tuple[Tuple[Type[BaseException], ...], Tuple[Type[BaseException], ...]]:
    """The peer's (ObjectDoesNotExist, ObjectExistError) as base tuples, if it is installed."""
    try:
        from event_pipeline import exceptions as peer  # type: ignore[import-not-found, unused-ignore]
    except Exception:  # not installed, or broken: our classes stand alone
        return (), ()
    return (peer.ObjectDoesNotExist,), (peer.ObjectExistError,)


_PEER_NOT_FOUND, _PEER_EXISTS = _peer_classes()


class RecordStoreError(Exception):
    """The base of every recordstore error."""

    schema: Optional[str]
    key: Optional[str]
    temporary: bool
    backend: Optional[str]

    def __init__(
        self,
        message: str,
        *,
        schema: Optional[str] = None,
        key: Optional[str] = None,
        temporary: bool = False,
        backend: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.schema = schema
        self.key = key
        self.temporary = temporary
        self.backend = backend

    def __str__(self) -> str:
        # KeyError's __str__ would quote the message; every class prints it as it is.
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, schema={self.schema!r}, "
            f"key={self.key!r}, temporary={self.temporary!r})"
        )

    def __reduce__(self) -> Any:
        return (
            _rebuild,
            (type(self), self.message, self.schema, self.key, self.temporary, self.backend),
        )


def _rebuild(
    cls: Type[RecordStoreError],
    message: str,
    schema: Optional[str],
    key: Optional[str],
    temporary: bool,
    backend: Optional[str],
) -> RecordStoreError:
    """Unpickles an exception (they cross process boundaries in the peer's executors)."""
    return cls(message, schema=schema, key=key, temporary=temporary, backend=backend)


class NotFound(RecordStoreError, KeyError, *_PEER_NOT_FOUND):  # type: ignore[misc]
    """The record does not exist (update, delete, get or reload of a missing key)."""


class AlreadyExists(RecordStoreError, *_PEER_EXISTS):  # type: ignore[misc]
    """An insert found the key taken."""


class InvalidInput(RecordStoreError, ValueError):
    """Input refused before any I/O: a bad name, a record that is not a dict of JSON values,
    an unknown filter lookup, a bad URL or setting."""


class Corrupt(RecordStoreError, ValueError):
    """Stored data could not be decoded; it is reported, never skipped."""


class ConnectionFailed(RecordStoreError, ConnectionError):
    """The backend could not be reached, or the connection broke mid-operation."""


class Timeout(ConnectionFailed, TimeoutError):
    """An operation, or getting a connection, ran out of time."""


class AuthFailed(RecordStoreError, PermissionError):
    """The backend refused the credentials."""


class BackendError(RecordStoreError):
    """Any other backend failure; ``temporary`` says whether retrying may help."""


class ConfigurationError(RecordStoreError, ValueError):
    """The settings cannot work: an SQLite path in a missing directory or not a database, a
    Redis database number the server lacks, a password for a server that has none. Fix the
    URL or config; retrying does not help."""


class ProtocolMismatch(ConnectionFailed):
    """Something answered at the address, but not in the backend's protocol (an HTTP server
    at a ``redis://`` URL): the URL names the wrong host or port. Never temporary."""


class StoreClosed(RecordStoreError):
    """The store, or its connection manager, has been closed."""


#: The peer's name for :class:`NotFound`.
ObjectDoesNotExist = NotFound
#: The peer's name for :class:`AlreadyExists`.
ObjectExistError = AlreadyExists
