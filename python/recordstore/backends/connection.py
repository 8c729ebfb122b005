"""The peer's ``event_pipeline.backends.connection``: the connector base class."""

from .._backends import BackendConnectorBase

__all__ = ["BackendConnectorBase"]
