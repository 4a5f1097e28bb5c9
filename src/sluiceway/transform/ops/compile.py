"""Compile a chain of operations to one SELECT in DuckDB's dialect, and render it per engine.

Each operation reads the one before it as a CTE (``_op0_filter``, ``_op1_derive``, ...); the
last operation is the outer SELECT, so the chain is one query a model can wrap in a CREATE TABLE
AS or an INSERT. Operations that need helper CTEs (a time spine, RFM scores) add them before
their own.

>>> from sluiceway.transform.ops import ops
>>> query = compile_ops("orders", [ops.filter(ops.where("amount", "gt", 10))])
>>> to_sql(query)
'SELECT * FROM "orders" WHERE "amount" > 10'

For PostgreSQL, :func:`to_sql` applies the few rewrites operations need beyond the shared
compile step (struct fields and JSON paths as ``jsonb`` lookups), then
:func:`sluiceway.core.sql_compile.compile_sql`. Render op-built SQL through it (or
:func:`prepare` a tree before wrapping it in a statement), not through ``compile_sql`` alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from sluiceway.core.sql_compile import compile_sql
from sluiceway.transform.ops import columns, features, filters, joins, reshape, windows
from sluiceway.transform.ops.aggregates import compile_aggregate
from sluiceway.transform.ops.columns import OPS_NODE
from sluiceway.transform.ops.expressions import ident, table, tables_in
from sluiceway.transform.ops.spec import (
    DeriveOp,
    FilterOp,
    JoinOp,
    Operation,
    SqlCondition,
    json_path_parts,
)
from sluiceway.transform.ops.steps import Columns, Context, Names, Relation, Step
from sluiceway.transform.ops.timeseries import compile_resample

Compiler = Callable[[Any, Relation, Context], Step]

COMPILERS: dict[str, Compiler] = {
    "select": columns.compile_select,
    "rename": columns.compile_rename,
    "cast": columns.compile_cast,
    "derive": columns.compile_derive,
    "flatten": columns.compile_flatten,
    "filter": filters.compile_filter,
    "join": joins.compile_join,
    "aggregate": compile_aggregate,
    "window": windows.compile_window,
    "dedupe": windows.compile_dedupe,
    "pivot": reshape.compile_pivot,
    "unpivot": reshape.compile_unpivot,
    "resample": compile_resample,
    "age": features.compile_age,
    "days_since": features.compile_days_since,
    "rfm": features.compile_rfm,
    "bin": features.compile_bin,
}
"""Each operation's compiler, by its ``op`` name."""

SOURCE_CTE = "_source"


def compile_ops(
    source: str | exp.Expr,
    ops: Sequence[Operation],
    *,
    columns: Mapping[str, str] | None = None,
) -> exp.Select:
    """The chain ``ops`` applied to ``source`` as one SELECT in DuckDB's dialect.

    ``source`` is a table name (``orders``, ``raw.orders``; every part quoted), a sqlglot
    table, or a query (it becomes the first CTE). ``columns`` are the source's columns, name
    to DuckDB type, in order: operations that keep "the other columns" (rename, cast, select
    ``except``, flatten, unpivot by ``index``) need them, and with them every column an
    operation names is checked. A query's own column names are used when it has no ``*``.

    Raises :class:`~sluiceway.transform.ops.errors.OpsError` naming the operation
    (``ops[2] (rename): no column 'amout' in the input``).
    """
    names = _names(source, ops)
    relation, ctes = _source(source, columns, names)
    step: Step | None = None
    for index, op in enumerate(ops):
        ctx = Context(index, op.op, names)
        ctx.check(relation, op.columns_read())
        step = COMPILERS[op.op](op, relation, ctx)
        ctes.extend(step.helpers)
        if index < len(ops) - 1:
            name = names.fresh(f"_op{index}_{op.op}")
            ctes.append((name, step.select))
            relation = Relation(exp.Table(this=ident(name)), step.columns)
    final = step.select if step is not None else exp.select(exp.Star()).from_(relation.source)
    for name, query in ctes:
        final = final.with_(ident(name), as_=query, copy=False)
    return final


def output_columns(
    source: str | exp.Expr,
    ops: Sequence[Operation],
    *,
    columns: Mapping[str, str] | None = None,
) -> Columns | None:
    """The columns the chain outputs (name → DuckDB type, ``None`` where not evident), or
    ``None`` when they cannot be told without running it."""
    names = _names(source, ops)
    relation, _ = _source(source, columns, names)
    for index, op in enumerate(ops):
        step = COMPILERS[op.op](op, relation, Context(index, op.op, names))
        relation = Relation(relation.source, step.columns)
    return dict(relation.columns) if relation.columns is not None else None


def _source(
    source: str | exp.Expr, columns: Mapping[str, str] | None, names: Names
) -> tuple[Relation, list[tuple[str, exp.Query]]]:
    known: Columns | None = dict(columns) if columns is not None else None
    if isinstance(source, str):
        return Relation(table(source), known), []
    if isinstance(source, exp.Table):
        return Relation(source.copy(), known), []
    if isinstance(source, exp.Query):
        if known is None and not source.is_star:
            known = {s.alias_or_name: None for s in source.selects}
        name = names.fresh(SOURCE_CTE)
        return Relation(exp.Table(this=ident(name)), known), [(name, source.copy())]
    raise TypeError(f"a source is a table name, a sqlglot table or a query, not {source!r}")


def _names(source: str | exp.Expr, ops: Sequence[Operation]) -> Names:
    """Fresh CTE names for the chain: never the name of a table it reads."""
    return Names({name.split(".")[-1] for name in tables_read_by(source, ops)})


def tables_read_by(source: str | exp.Expr, ops: Sequence[Operation]) -> list[str]:
    """Every table the chain reads (lower-cased; ``schema.table`` when written so), in order:
    the source, joined tables, tables in SQL snippets' subqueries."""
    found: dict[str, None] = {}
    if isinstance(source, str):
        found[source.lower()] = None
    else:
        for t in source.find_all(exp.Table):
            if t.name:
                found[(f"{t.db}.{t.name}" if t.db else t.name).lower()] = None
    for name in sorted(_op_tables(ops)):
        found[name] = None
    return list(found)


def _op_tables(ops: Sequence[Operation]) -> set[str]:
    found: set[str] = set()
    for op in ops:
        if isinstance(op, JoinOp):
            found.add(op.table.lower())
        if isinstance(op, DeriveOp):
            for sql in op.columns.values():
                found |= tables_in(sql)
        if isinstance(op, FilterOp):
            found |= _condition_tables(op.where)
    return found


def _condition_tables(condition: object) -> set[str]:
    if isinstance(condition, SqlCondition):
        return tables_in(condition.sql)
    children: list[object] = []
    for key in ("and_", "or_"):
        children.extend(getattr(condition, key, None) or [])
    if (negated := getattr(condition, "not_", None)) is not None:
        children.append(negated)
    return {name for child in children for name in _condition_tables(child)}


# -- rendering ------------------------------------------------------------------------------

Pass = Callable[[exp.Expr], exp.Expr]


def _path_of(node: exp.Expr) -> tuple[exp.Expr, list[str]]:
    """A chain of marked ``struct_extract`` calls → (the struct column, the field names)."""
    path: list[str] = []
    while isinstance(node, exp.Anonymous) and node.meta.get(OPS_NODE) == "struct_field":
        parent, field = node.expressions
        path.insert(0, field.name)
        node = parent
    return node, path


def _is_marked(node: exp.Expr | None, kind: str) -> bool:
    return isinstance(node, exp.Anonymous) and node.meta.get(OPS_NODE) == kind


def struct_fields_to_jsonb(tree: exp.Expr) -> exp.Expr:
    """A struct field (``struct_extract(struct_extract(s, 'a'), 'b')``) → a lookup in the JSONB
    PostgreSQL stores a STRUCT as: ``jsonb_extract_path_text(s, 'a', 'b')`` when cast to a
    scalar type, else ``jsonb_extract_path(s, 'a', 'b')`` (a nested struct or list stays
    JSONB)."""
    for node in list(tree.find_all(exp.Anonymous)):
        if not _is_marked(node, "struct_field") or _is_marked(node.parent, "struct_field"):
            continue
        root, path = _path_of(node)
        scalar = isinstance(node.parent, exp.Cast)
        name = "JSONB_EXTRACT_PATH_TEXT" if scalar else "JSONB_EXTRACT_PATH"
        keys = [exp.Literal.string(part) for part in path]
        node.replace(exp.Anonymous(this=name, expressions=[root.copy(), *keys]))
    return tree


def json_paths_to_jsonb(tree: exp.Expr) -> exp.Expr:
    """``json_extract_string(CAST(x AS JSON), '$.a[0]')`` → ``jsonb_extract_path_text(CAST(x AS
    JSONB), 'a', '0')`` (the compile step makes JSON JSONB, and sqlglot's own translation calls
    the ``json`` function, which PostgreSQL does not define for ``jsonb``)."""
    for node in list(tree.find_all(exp.Anonymous)):
        if not _is_marked(node, "json_path"):
            continue
        document, path = node.expressions
        keys = [exp.Literal.string(str(part)) for part in json_path_parts(path.name)]
        node.replace(
            exp.Anonymous(this="JSONB_EXTRACT_PATH_TEXT", expressions=[document.copy(), *keys])
        )
    return tree


PASSES: dict[str, tuple[Pass, ...]] = {
    "postgres": (struct_fields_to_jsonb, json_paths_to_jsonb),
}
"""The rewrites op-built SQL needs for a dialect before the shared compile step."""


def prepare(expression: exp.Expr, dialect: str) -> exp.Expr:
    """A copy of ``expression`` with the operations' rewrites for ``dialect`` applied: give it
    (or a statement wrapped around it) to :func:`~sluiceway.core.sql_compile.compile_sql`."""
    tree = expression.copy()
    for rewrite in PASSES.get(dialect, ()):
        tree = rewrite(tree)
    return tree


def to_sql(expression: exp.Expr, dialect: str = "duckdb", *, pretty: bool = False) -> str:
    """The SQL text of op-built ``expression`` for ``dialect`` (``duckdb`` or ``postgres``).

    ``pretty`` lays the text out over lines, for reading (the golden files and the docs).
    """
    prepared = prepare(expression, dialect)
    text = compile_sql(prepared, dialect)
    if not pretty:
        return text
    if dialect == "duckdb":  # compile_sql renders the tree as is: lay out the same tree
        return prepared.sql(dialect="duckdb", pretty=True)
    return sqlglot.transpile(text, read=dialect, write=dialect, pretty=True)[0]
