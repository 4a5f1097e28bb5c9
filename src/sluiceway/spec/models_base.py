"""The base of every config model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=False,
        # Build validators when first used: the pipeline model builds them all in one schema,
        # so building each source model on its own at import would be paid twice.
        defer_build=True,
    )
