"""Extract: the Source interface, the registry by type, one module per kind."""
