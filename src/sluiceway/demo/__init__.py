"""Demo data: deterministic generators of messy sample data, and the bundled demo pipelines."""
