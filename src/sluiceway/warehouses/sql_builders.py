"""SQL for loads, built as sqlglot expressions and rendered for the warehouse's dialect.

Every identifier is quoted; values are bound parameters, never text. Each builder is a small
pure function so the SQL a load emits can be read in one place and tested against golden text.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from sluiceway.core.names import TableRef


def table(ref: TableRef, default_schema: str, alias: str | None = None) -> exp.Table:
    node = exp.table_(ref.name, db=ref.schema or default_schema, quoted=True)
    if alias is not None:
        node.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return node


def column(name: str, table_alias: str | None = None) -> exp.Column:
    return exp.column(name, table=table_alias, quoted=True)


def insert_columns(target: exp.Table, source: exp.Table, columns: Sequence[str]) -> exp.Insert:
    """``INSERT INTO target (cols) SELECT cols FROM source``: columns matched by name."""
    select = exp.select(*[column(c) for c in columns]).from_(source)
    return exp.insert(select, target, columns=[exp.to_identifier(c, quoted=True) for c in columns])


def key_match(keys: Sequence[str], left: str, right: str) -> exp.Condition:
    return exp.and_(*[column(k, left).eq(column(k, right)) for k in keys])


def delete_matching(target: exp.Table, source: exp.Table, keys: Sequence[str]) -> exp.Delete:
    """Delete target rows whose key appears in ``source`` (the first half of a merge)."""
    aliased_target = target.copy()
    aliased_target.set("alias", exp.TableAlias(this=exp.to_identifier("t")))
    aliased_source = source.copy()
    aliased_source.set("alias", exp.TableAlias(this=exp.to_identifier("s")))
    exists = exp.Exists(
        this=exp.select(exp.Literal.number(1))
        .from_(aliased_source)
        .where(key_match(keys, "s", "t"))
    )
    return exp.delete(aliased_target, where=exists)


def any_null(keys: Sequence[str]) -> exp.Condition:
    return exp.or_(*[column(k).is_(exp.null()) for k in keys])


def last_row_per_key(source: exp.Table, keys: Sequence[str], order: exp.Expr) -> exp.Select:
    """One row per key: the one latest in ``order`` (the last row wins)."""
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=[column(k) for k in keys],
        order=exp.Order(expressions=[exp.Ordered(this=order, desc=True)]),
    )
    return exp.select(exp.Star()).from_(source).qualify(window.eq(exp.Literal.number(1)))


def create_table_as(target: exp.Table, query: exp.Query, *, empty: bool = False) -> exp.Create:
    body = query.limit(0) if empty and isinstance(query, exp.Select) else query
    return exp.Create(this=target, kind="TABLE", expression=body)


def drop_table(target: exp.Table) -> exp.Drop:
    return exp.Drop(tables=[target], kind="TABLE", exists=True)


def select_columns(source: exp.Table, columns: Sequence[str]) -> exp.Select:
    return exp.select(*[column(c) for c in columns]).from_(source)


def _alter(target: exp.Table, action: exp.Expr) -> exp.Alter:
    return exp.Alter(this=target.copy(), kind="TABLE", actions=[action])


def add_column(target: exp.Table, name: str, sql_type: str) -> exp.Alter:
    definition = exp.ColumnDef(
        this=exp.to_identifier(name, quoted=True),
        kind=exp.DataType.build(sql_type, dialect="duckdb"),
    )
    return _alter(target, definition)


def set_column_type(target: exp.Table, name: str, sql_type: str) -> exp.Alter:
    change = exp.AlterColumn(
        this=exp.to_identifier(name, quoted=True),
        dtype=exp.DataType.build(sql_type, dialect="duckdb"),
    )
    return _alter(target, change)


def rename_column(target: exp.Table, old: str, new: str) -> exp.Alter:
    return _alter(target, exp.RenameColumn(this=column(old), to=column(new)))


def drop_not_null(target: exp.Table, name: str) -> exp.Alter:
    change = exp.AlterColumn(this=exp.to_identifier(name, quoted=True), drop=True, allow_null=True)
    return _alter(target, change)


def delete_all(target: exp.Table) -> exp.Delete:
    return exp.delete(target.copy())
