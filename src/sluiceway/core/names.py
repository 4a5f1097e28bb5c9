"""Table references: an optional schema and a table name, always quoted when rendered to SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class TableRef:
    """A table, optionally schema-qualified; ``schema=None`` means the warehouse's default."""

    name: str
    schema: str | None = None

    @classmethod
    def parse(cls, text: str) -> TableRef:
        """``"orders"`` or ``"bronze.orders"``."""
        schema, _, name = text.rpartition(".")
        return cls(name=name, schema=schema or None)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


# Lineage columns Sluiceway adds to loaded rows (``lineage: true``).
LOAD_ID_COLUMN = "_sluiceway_load_id"
SOURCE_COLUMN = "_sluiceway_source"
# Columns named ``_sluiceway_*`` are bookkeeping (lineage, a change's position): never part of
# what makes two versions of a row different.
RESERVED_PREFIX = "_sluiceway_"
# A change-data row's columns the source log did not carry (PostgreSQL's unchanged TOAST
# values): a merge keeps the table's value for them instead of writing the NULL.
UNCHANGED_COLUMN = "_sluiceway_unchanged"
# What a change-data row is: insert, update, delete or truncate.
OP_COLUMN = "_sluiceway_op"
# When a change-data row's source transaction committed: scd2 orders versions by it.
COMMIT_TS_COLUMN = "_sluiceway_commit_ts"


_SLOT_NAME = re.compile(r"^[a-z0-9_]{1,63}$")


def is_valid_slot_name(slot: str) -> bool:
    """Whether PostgreSQL accepts ``slot`` as a replication slot name (and Sluiceway quotes it
    nowhere): 1 to 63 lower-case letters, digits and underscores."""
    return _SLOT_NAME.match(slot) is not None
