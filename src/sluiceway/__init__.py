"""Sluiceway: move data from sources into a warehouse, checked and shaped on the way."""
