"""Sluiceway: move data from sources into a warehouse, checked and shaped on the way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sluiceway.transform.python import model

__all__ = ["model"]


def __getattr__(name: str) -> Any:
    """``sluiceway.model`` (the Python transform decorator), imported when first asked for."""
    if name == "model":
        from sluiceway.transform.python import model

        return model
    raise AttributeError(f"module 'sluiceway' has no attribute {name!r}")
