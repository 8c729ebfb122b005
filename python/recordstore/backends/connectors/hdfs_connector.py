"""The peer's ``event_pipeline.backends.connectors.hdfs_connector``."""

from ..._backends import HDFSConnector

__all__ = ["HDFSConnector"]
