"""The peer's ``event_pipeline.backends.stores.redis_store``."""

from ..._backends import RedisStoreBackend

__all__ = ["RedisStoreBackend"]
