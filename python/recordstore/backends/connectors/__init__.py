"""The peer's ``event_pipeline.backends.connectors``: one module per connector."""
