"""The ``postgres_cdc`` source's configuration::

sources:
  orders:
    type: postgres_cdc
    connection: ${SHOP_DB}            # postgresql://cdc:secret@db:5432/shop
    source_table: sales.orders
    write: merge
    primary_key: [order_id]
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from sluiceway.core.names import is_valid_slot_name
from sluiceway.spec.models import SourceSpec

DEFAULT_MAX_CHANGES = 100_000
_SLOT_PREFIX = "sluiceway_"
_SLOT_MAX = 63


class PostgresCdcSpec(SourceSpec):
    """Changes to one PostgreSQL table, read from the server's write-ahead log."""

    type: Literal["postgres_cdc"]
    connection: SecretStr = Field(
        description="The source database, as a libpq URL (`postgresql://user:pw@host:5432/db`) "
        "or keyword string (`host=db dbname=shop user=cdc`). Write the password through "
        "`${VAR}`; it is never printed. The role needs REPLICATION (or superuser) and SELECT "
        "on the table.",
    )
    source_table: str = Field(
        min_length=1,
        description="The table whose changes to follow, written as in SQL: `orders`, "
        '`sales.orders`, `"Mixed Case"`. (`table` names the target table.)',
    )
    slot: str | None = Field(
        None,
        description="The logical replication slot that keeps this source's position on the "
        "server (1-63 lower-case letters, digits and _). Default: `sluiceway_<pipeline>_"
        "<source>`. One slot per source: two consumers of one slot would take each other's "
        "changes.",
    )
    max_changes: int = Field(
        DEFAULT_MAX_CHANGES,
        ge=1,
        description="At most about this many log entries per run, held in memory (whole "
        "transactions only: one larger transaction still loads whole). What is left waits for "
        "the next run.",
    )
    create_slot: bool = Field(
        True,
        description="Create the slot when it does not exist. Off: a missing slot is an error "
        "(for a slot a DBA creates with `wal2json`).",
    )

    @field_validator("slot")
    @classmethod
    def _slot_name(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_slot_name(value):
            raise ValueError(
                f"{value!r} is not a replication slot name; use 1 to 63 lower-case letters, "
                "digits and _"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_row_options(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for option, why in (
                ("incremental", "the replication slot is its cursor"),
                ("cdc", "`cdc: snapshot` is for sources that read the whole table every time"),
            ):
                if data.get(option) is not None:
                    raise ValueError(f"a postgres_cdc source takes no `{option}`: {why}")
        return data

    def slot_name(self, pipeline: str, source: str) -> str:
        """The configured slot, else one named after the pipeline and the source.

        >>> PostgresCdcSpec(type="postgres_cdc", connection="", source_table="t").slot_name(
        ...     "Shop-Prod", "orders")
        'sluiceway_shop_prod_orders'
        """
        if self.slot is not None:
            return self.slot
        name = re.sub(r"[^a-z0-9_]", "_", f"{_SLOT_PREFIX}{pipeline}_{source}".lower())
        if len(name) <= _SLOT_MAX:
            return name
        # Too long: keep a readable start and tell names apart by a hash of the whole.
        digest = hashlib.sha256(f"{pipeline}\0{source}".encode()).hexdigest()[:8]
        return f"{name[: _SLOT_MAX - 9]}_{digest}"
