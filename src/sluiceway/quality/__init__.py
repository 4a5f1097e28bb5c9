"""Data quality: rules compiled to SQL and pushed down, profiling, drift, scores, cleaning."""
