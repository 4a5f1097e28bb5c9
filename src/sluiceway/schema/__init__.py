"""Table schemas and their contract: model, diff, promotion, casting, registry, export."""
