"""The peer's ``event_pipeline.backends.stores.hdfs_store``."""

from ..._backends import HDFSStoreBackend

__all__ = ["HDFSStoreBackend"]
