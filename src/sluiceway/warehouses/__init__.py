"""Load: the Warehouse interface, staging, merge strategies, bookkeeping tables."""
