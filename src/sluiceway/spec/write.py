"""How a source's rows change its table, beyond append / replace / merge::

    write: merge
    primary_key: [customer_id]
    delete: {column: is_deleted, mode: soft}   # rows flagged deleted: remove, or keep marked

    write: scd2                                # keep every version of every key
    primary_key: [customer_id]
    scd2: {changed_at: updated_at}             # when each version began, at the source

    write: insert_overwrite                    # swap whole partitions (time-partitioned facts)
    partition: {column: sold_on}

    cdc: snapshot                              # each read is the whole table: keys missing
                                               # from it were deleted

The four options are validated together in ``spec.loader`` (each needs its write
disposition); the load does the work in one transaction (``warehouses``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sluiceway.spec.models_base import StrictModel

DeleteMode = Literal["hard", "soft"]
Granularity = Literal["value", "day", "month", "year"]


class DeleteSpec(StrictModel):
    """Which rows are deletions, and what a deletion does to the table."""

    column: str | None = Field(
        None,
        min_length=1,
        description="The source column that marks a deleted row: a boolean (true = deleted), "
        "or any type with `values`. Not needed with `cdc: snapshot` or a change-data source "
        "(its `_sluiceway_op` column says `delete`).",
    )
    values: list[str | int | bool] | None = Field(
        None,
        min_length=1,
        description="The values of `column` that mean deleted (default: true).",
    )
    mode: DeleteMode = Field(
        "hard",
        description="`hard` removes the key's row (with `scd2`: closes its current version); "
        "`soft` keeps the row and sets `deleted_at` (and the marker column).",
    )
    deleted_at: str = Field(
        "_sluiceway_deleted_at",
        min_length=1,
        description="`soft`: the timestamp column set when a row is deleted, NULL while it "
        "lives; a row that comes back clears it.",
    )
    at: str | None = Field(
        None,
        min_length=1,
        description="`soft`: a source column saying when the row was deleted (a change's "
        "commit time); default: the load's start time.",
    )


class Scd2Spec(StrictModel):
    """Slowly Changing Dimension type 2: a new version per change, old ones closed."""

    changed_at: str | None = Field(
        None,
        min_length=1,
        description="The source column saying when the change happened. Versions are ordered "
        "by it, so a late-arriving older change lands in history where it belongs instead of "
        "becoming current. Default: the load's start time (arrival order).",
    )
    valid_from: str = Field("valid_from", min_length=1, description="When a version began.")
    valid_to: str = Field(
        "valid_to", min_length=1, description="When it ended; NULL for the current version."
    )
    is_current: str = Field(
        "is_current", min_length=1, description="True on the key's current version."
    )
    row_hash: str = Field(
        "row_hash",
        min_length=1,
        description="MD5 of the version's data columns (lineage and `changed_at` excluded): "
        "a row equal to the current version is not a new version.",
    )

    def columns(self) -> tuple[str, str, str, str]:
        return (self.valid_from, self.valid_to, self.is_current, self.row_hash)


class RangePartitionSpec(StrictModel):
    """How the warehouse partitions the table it creates (PostgreSQL: declarative ``RANGE``
    partitions, one per period, created as rows for them arrive)."""

    column: str = Field(min_length=1, description="A date or timestamp column.")
    granularity: Literal["day", "month", "year"] = Field(
        "month", description="One partition per `day`, `month` or `year`."
    )


class PartitionSpec(StrictModel):
    """The partitions an ``insert_overwrite`` load replaces."""

    column: str = Field(min_length=1, description="A date, timestamp or other column.")
    granularity: Granularity | None = Field(
        None,
        description="`day`, `month`, `year` (of a date or timestamp) or `value` (the value "
        "itself). Default: `day` for timestamps, `value` otherwise.",
    )
