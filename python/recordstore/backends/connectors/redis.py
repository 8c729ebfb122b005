"""The peer's ``event_pipeline.backends.connectors.redis``."""

from ..._backends import RedisConnector

__all__ = ["RedisConnector"]
