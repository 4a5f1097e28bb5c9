"""Shared types at the bottom of the package: errors, ids, the clock and events."""
