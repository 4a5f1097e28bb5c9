"""The schema contract of a table, as written under a source's (or the defaults') ``schema:``.

schema:
  policy: evolve              # evolve | freeze | discard_row | discard_column
  compatibility: BACKWARD     # NONE, BACKWARD, FORWARD, FULL, and their _TRANSITIVE forms
  renames: {phone: phone_number}
  naive_timestamps: reject    # reject | utc
  columns:
    zip: {type: VARCHAR}
    signup_date: {type: DATE, format: "%d/%m/%Y"}
    amount: {type: DECIMAL(12,2), decimal_comma: true}
    is_active: {type: BOOLEAN, true_values: [Y], false_values: [N]}
    credit_limit: {policy: freeze}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sluiceway.spec.models_base import StrictModel

SchemaPolicy = Literal["evolve", "freeze", "discard_row", "discard_column"]
CompatibilityMode = Literal[
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
]
NaiveTimestamps = Literal["reject", "utc"]

_TEXT_OPTIONS = ("format", "decimal_comma", "true_values", "false_values")


class ColumnContract(StrictModel):
    """Manual overrides for one column."""

    type: str | None = Field(
        None,
        description="Force the column's type (DuckDB SQL). Values are converted from whatever "
        "the source delivers; a value that cannot be converted goes to the dead-letter queue "
        "with reason `type_mismatch`, and the rest of the batch loads.",
    )
    policy: SchemaPolicy | None = Field(
        None, description="Overrides the table's policy for changes to this column."
    )
    format: str | None = Field(
        None, description="strptime format for text into DATE/TIMESTAMP, e.g. `%d/%m/%Y`."
    )
    decimal_comma: bool = Field(
        False, description='Numbers written "1.234,56": `.` groups thousands, `,` is the point.'
    )
    true_values: list[str] = Field(
        default_factory=list, description="Text meaning true for a BOOLEAN, e.g. [Y, yes]."
    )
    false_values: list[str] = Field(
        default_factory=list, description="Text meaning false for a BOOLEAN, e.g. [N, no]."
    )

    @field_validator("type")
    @classmethod
    def _sql_type(cls, value: str | None) -> str | None:
        if value is not None:
            from sluiceway.core.sql_types import arrow_type, parse_sql_type

            arrow_type(parse_sql_type(value))  # unknown types are reported at validation
        return value

    @model_validator(mode="after")
    def _options_need_a_type(self) -> ColumnContract:
        used = [name for name in _TEXT_OPTIONS if getattr(self, name) not in (None, False, [])]
        if used and self.type is None:
            verb = "needs" if len(used) == 1 else "need"
            raise ValueError(f"{', '.join(used)} {verb} `type:` (the type to convert to)")
        return self


class SchemaContract(StrictModel):
    """How a table meets data whose shape changed."""

    policy: SchemaPolicy = Field(
        "evolve",
        description="`evolve`: add new columns, widen types in place, put values of an "
        "incompatible type in a variant column `col__v_<type>`; `freeze`: a batch whose schema "
        "differs fails the load with the difference; `discard_row`: rows whose values do not "
        "fit go to the dead-letter queue with reason `schema`; `discard_column`: columns that "
        "do not fit are dropped and recorded.",
    )
    compatibility: CompatibilityMode = Field(
        "BACKWARD",
        description="Checked before a new schema version is registered, against the latest "
        "version (or all of them, `_TRANSITIVE`). A violation fails the load before anything "
        "is written.",
    )
    renames: dict[str, str] = Field(
        default_factory=dict,
        description="Column renames `old_name: new_name`, applied before the contract. A table "
        "column with the old name is renamed, and the old name stays an alias: older files "
        "still load.",
    )
    naive_timestamps: NaiveTimestamps = Field(
        "reject",
        description="Timestamps without a zone meeting a column with one (or the reverse): "
        "`reject` treats it as incompatible; `utc` reads naive values as UTC.",
    )
    columns: dict[str, ColumnContract] = Field(
        default_factory=dict, description="Overrides per column."
    )

    @field_validator("renames")
    @classmethod
    def _renames_are_a_mapping(cls, value: dict[str, str]) -> dict[str, str]:
        targets = [new.lower() for new in value.values()]
        clashes = {t for t in targets if targets.count(t) > 1}
        if clashes:
            raise ValueError(f"several columns are renamed to {', '.join(sorted(clashes))}")
        loops = [old for old in value if old.lower() in targets]
        if loops:
            raise ValueError(f"{', '.join(loops)} is both renamed and a rename target")
        return value


def merge_contracts(base: SchemaContract, override: SchemaContract | None) -> SchemaContract:
    """``override``'s explicitly written fields over ``base``; renames and columns combine."""
    if override is None:
        return base
    written = override.model_fields_set
    return SchemaContract(
        policy=override.policy if "policy" in written else base.policy,
        compatibility=(
            override.compatibility if "compatibility" in written else base.compatibility
        ),
        renames={**base.renames, **override.renames},
        naive_timestamps=(
            override.naive_timestamps if "naive_timestamps" in written else base.naive_timestamps
        ),
        columns={**base.columns, **override.columns},
    )
