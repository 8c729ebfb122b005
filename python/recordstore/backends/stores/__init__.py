"""The peer's ``event_pipeline.backends.stores``: one module per store."""
