"""The manifest: what the demo generator wrote and exactly which rows it damaged.

Tests and demo pipelines compare what a load found against it. It is written as
``manifest.json`` (sorted keys, two-space indent, no timestamps, so equal inputs give equal
bytes) and read back with :meth:`Manifest.load`.

Row arithmetic an entity record guarantees::

    rows - duplicate_rows == unique_keys          # exact copies repeat a key
    unique_keys - near_duplicate_rows == people    # near-duplicates carry a new key
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sluiceway.core.errors import ConfigError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileRecord(_Frozen):
    """One file written: its format, physical rows (duplicates included) and content hash."""

    path: str = Field(description="Path relative to the output folder, '/'-separated.")
    format: str = Field(description="csv, csv.gz, xlsx, parquet, ndjson or ndjson.zst.")
    rows: int = Field(description="Data rows written, duplicates included, header excluded.")
    bytes: int = Field(description="Size of the file in bytes.")
    sha256: str = Field(description="Hex SHA-256 of the file's bytes.")


class EntityRecord(_Frozen):
    """One logical table spread over one or more files."""

    files: list[str] = Field(description="Paths of the files holding it (drop 1 only).")
    key: list[str] = Field(description="Primary-key columns.")
    rows: int = Field(description="Physical rows over all its files.")
    duplicate_rows: int = Field(description="Rows that exactly repeat an earlier row.")
    near_duplicate_rows: int = Field(description="Rows restating another row under a new key.")
    unique_keys: int = Field(description="Distinct key values: rows - duplicate_rows.")


class VariantRecord(_Frozen):
    """A non-canonical spelling used in the data and the canonical value it stands for."""

    canonical: str
    count: int


class DefectRecord(_Frozen):
    """One injected defect (or drop-2 change) and every row that carries it."""

    id: str = Field(description="Stable identifier, '<entity>.<defect>'.")
    file: str = Field(description="File holding the damaged rows.")
    columns: list[str] = Field(description="Columns that carry the damage.")
    description: str
    count: int = Field(description="Exact number of damaged rows (or pairs).")
    keys: list[int] | list[tuple[int, int]] = Field(
        description="Primary keys of the damaged rows, sorted; pairs for duplicates-with-new-key."
    )
    variants: dict[str, VariantRecord] | None = Field(
        default=None, description="For spelling defects: each variant used, its canonical value."
    )

    def ids(self) -> list[int]:
        """The keys as plain ids (raises for a pair-keyed defect)."""
        out: list[int] = []
        for key in self.keys:
            if not isinstance(key, int):
                raise TypeError(f"{self.id} is keyed by pairs; use pairs()")
            out.append(key)
        return out

    def pairs(self) -> list[tuple[int, int]]:
        """The keys as (original, duplicate) pairs (raises for an id-keyed defect)."""
        out: list[tuple[int, int]] = []
        for key in self.keys:
            if isinstance(key, int):
                raise TypeError(f"{self.id} is keyed by ids; use ids()")
            out.append((key[0], key[1]))
        return out


class SchemaChange(_Frozen):
    """How drop 2's customers file differs from drop 1's, as data."""

    added: list[str]
    renamed: dict[str, str]
    widened: dict[str, tuple[str, str]] = Field(
        description="Column -> (type in drop 1, type in drop 2), in DuckDB's names."
    )


class Drop2Record(_Frozen):
    """The second file drop: its schema change and the rows it adds or amends."""

    schema_change: SchemaChange
    changes: dict[str, DefectRecord]


class Manifest(_Frozen):
    """Everything :func:`sluiceway.demo.generate.generate` wrote, for checking loads against."""

    generator: str
    version: str
    seed: int
    scale: float
    as_of: date
    drop1_cutoff: date = Field(description="Drop 1 holds nothing at or after this midnight.")
    chunk_rows: int
    files: dict[str, FileRecord]
    entities: dict[str, EntityRecord]
    defects: dict[str, DefectRecord]
    drop2: Drop2Record

    def to_json(self) -> str:
        """Canonical JSON text: sorted keys, indent 2, trailing newline."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=2) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read a manifest written by :meth:`write`."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the demo manifest {path}: {exc.strerror or exc}",
                hint="Generate the demo data first (sluiceway demo).",
            ) from exc
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise ConfigError(
                f"{path} is not a demo manifest this version understands: "
                f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']}",
                hint="Regenerate the demo data (sluiceway demo).",
            ) from exc
