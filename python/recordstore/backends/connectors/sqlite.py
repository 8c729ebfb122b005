"""The peer's ``event_pipeline.backends.connectors.sqlite``."""

from ..._backends import SQLiteConnector, SqliteConnector

__all__ = ["SQLiteConnector", "SqliteConnector"]
