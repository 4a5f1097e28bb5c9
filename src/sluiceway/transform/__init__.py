"""Transformations: SQL models, Python transforms, and the lineage between their columns."""
