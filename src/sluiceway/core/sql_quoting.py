"""Identifier quoting for the few SQL strings not built as sqlglot trees (table functions)."""

from __future__ import annotations

from sqlglot import exp


def quote_identifier(name: str, dialect: str = "duckdb") -> str:
    """``name`` as an always-quoted identifier in ``dialect`` (embedded quotes doubled)."""
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)
