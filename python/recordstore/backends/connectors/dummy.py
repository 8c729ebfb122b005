"""The peer's ``event_pipeline.backends.connectors.dummy``: the in-memory connector."""

from ..._backends import DummyConnector, InMemoryConnector

__all__ = ["DummyConnector", "InMemoryConnector"]
