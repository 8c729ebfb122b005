"""The peer's ``event_pipeline.backends.store``: the store base class."""

from .._backends import KeyValueStoreBackendBase

__all__ = ["KeyValueStoreBackendBase"]
