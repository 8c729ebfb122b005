"""The peer's ``event_pipeline.backends.stores.sqlite_store`` (ours is the embedded default)."""

from ..._backends import SQLiteStoreBackend, SqliteStoreBackend

__all__ = ["SQLiteStoreBackend", "SqliteStoreBackend"]
