"""File sources: CSV, JSON/NDJSON, Parquet and Excel, read through DuckDB where it fits."""
