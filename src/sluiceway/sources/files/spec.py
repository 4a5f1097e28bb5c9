"""Config fields shared by every file source."""

from __future__ import annotations

from pydantic import Field, field_validator

from sluiceway.spec.models import SourceSpec


class FileSourceSpec(SourceSpec):
    """A source that reads files: a path, a glob (``data/orders_*.csv.gz``) or a list of them."""

    path: str | list[str] = Field(
        description="A file, a glob (`*`, `?`, `[...]`, `**` for any depth) or a list of them, "
        "relative to the pipeline file's folder. Files load in sorted order."
    )
    union_by_name: bool = Field(
        False,
        description="Files of one source may differ in columns: missing columns load as NULL. "
        "Off by default, so a file with a different header is an error naming it.",
    )

    @field_validator("path")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        items = [value] if isinstance(value, str) else value
        if not items or any(not item.strip() for item in items):
            raise ValueError("give at least one non-empty path or glob")
        return value
