"""The contract between a batch stream and the table it lands in.

Before anything is staged, the stream's schema is compared with the table's. Until schema
evolution policies exist for a table, the contract is strict: the same columns (names compare
case-insensitively, as in SQL), and each incoming type must widen losslessly into the table's
type (INTEGER into BIGINT, BIGINT into DOUBLE, DATE into TIMESTAMP). Anything else fails the load
before a row is written, with the full difference.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from sluiceway.core.errors import SchemaError
from sluiceway.core.names import TableRef
from sluiceway.core.sql_types import sql_type
from sluiceway.schema.promotion import is_widening


def check_load(
    incoming: pa.Schema,
    existing: pa.Schema | None,
    table: TableRef,
    *,
    write: str,
    primary_key: Sequence[str] = (),
) -> None:
    """Raise :class:`SchemaError` if ``incoming`` cannot be written into ``existing``."""
    names = {name.lower() for name in incoming.names}
    missing_keys = [k for k in primary_key if k.lower() not in names]
    if missing_keys:
        raise SchemaError(
            f"primary key column(s) {', '.join(missing_keys)} are not in the data loaded into "
            f"{table} (columns: {', '.join(incoming.names)})",
            hint="Fix `primary_key` for this source.",
        )
    if existing is None or write == "replace":
        return
    theirs = {f.name.lower(): f for f in existing}
    ours = {f.name.lower(): f for f in incoming}
    problems = []
    new = [ours[n].name for n in ours if n not in theirs]
    gone = [theirs[n].name for n in theirs if n not in ours]
    if new:
        problems.append(f"new column(s): {', '.join(new)}")
    if gone:
        problems.append(f"column(s) missing from the data: {', '.join(gone)}")
    for name, field in ours.items():
        if name in theirs and not is_widening(field.type, theirs[name].type):
            problems.append(
                f"{field.name}: {sql_type(field.type)} does not fit the table's "
                f"{sql_type(theirs[name].type)}"
            )
    if problems:
        raise SchemaError(
            f"the data does not match table {table}: " + "; ".join(problems),
            hint="Load into a new table, use `write: replace` to recreate it, or fix the input.",
        )
