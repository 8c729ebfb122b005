"""The peer's ``event_pipeline.backends.stores.inmemory_store``."""

from ..._backends import InMemoryKeyValueStoreBackend

__all__ = ["InMemoryKeyValueStoreBackend"]
