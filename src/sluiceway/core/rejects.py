"""A rejected row on its way to the dead-letter queue.

Sources reject rows they cannot parse, the contract rejects rows that do not fit, rules reject
rows that fail them; the warehouse stores all of them in ``_sluiceway.dlq`` in the same
transaction as the good rows, with enough context (file, line, column, raw text) to fix and
replay them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Reject:
    source: str
    reason: str  # the error class: malformed, type_mismatch, schema, null_primary_key, rule
    message: str
    file: str | None = None
    line: int | None = None
    column: str | None = None
    raw: str | None = None  # JSON: the row as an object, or the unparseable line as a string
    rule: str | None = None  # the quality rule that rejected it


@dataclass(frozen=True, slots=True)
class RowRejection:
    """Staged rows a load sends to the dead-letter queue, named by a SQL condition: the rows a
    quality rule quarantines (error class ``rule``), or rows a merge cannot take.

    ``condition`` is a sqlglot expression (DuckDB dialect) over the staged rows, true for a row
    to reject; it may use window functions, so warehouses evaluate it in a projection.
    """

    rule: str | None
    message: str
    column: str | None
    condition: Any  # sqlglot.exp.Expr; Any keeps core free of a hard sqlglot import here
    error_class: str = "rule"
