"""Column operations: select, rename, cast, derive, flatten."""

from __future__ import annotations

import re

from sqlglot import exp

from sluiceway.transform.ops.expressions import (
    alias,
    cast,
    col,
    datatype,
    function,
    parse_expression,
)
from sluiceway.transform.ops.spec import (
    CastOp,
    DeriveOp,
    FlattenOp,
    JsonField,
    RenameOp,
    SelectOp,
    json_path_parts,
)
from sluiceway.transform.ops.steps import (
    Columns,
    Context,
    Relation,
    Step,
    select_from,
    with_columns,
)

T = exp.DataType.Type

OPS_NODE = "sluiceway_ops"
"""The ``meta`` key marking the nodes the PostgreSQL passes rewrite (struct and JSON access)."""

_TEXT = (T.VARCHAR, T.TEXT, T.CHAR, T.NCHAR, T.NVARCHAR, T.BPCHAR, T.JSON)
_NESTED = (T.STRUCT, T.ARRAY, T.LIST, T.MAP, T.UNION)


def compile_select(op: SelectOp, relation: Relation, ctx: Context) -> Step:
    if op.columns is not None:
        kept = op.columns
    else:
        known = ctx.known(relation, "`except` keeps every other column")
        dropped = set(op.except_ or ())
        kept = [name for name in known if name not in dropped]
        if not kept:
            raise ctx.error("`except` drops every column")
    types = relation.columns or {}
    return Step(
        select_from(relation, (col(name) for name in kept)),
        {name: types.get(name) for name in kept},
    )


def compile_rename(op: RenameOp, relation: Relation, ctx: Context) -> Step:
    known = ctx.known(relation, "rename keeps the other columns")
    out: Columns = {}
    selects: list[exp.Expr] = []
    for name, kind in known.items():
        new = op.columns.get(name, name)
        if new in out:
            raise ctx.error(f"renaming gives two columns named {new!r}")
        out[new] = kind
        selects.append(alias(col(name), new) if new != name else col(name))
    return Step(select_from(relation, selects), out)


# What a text value must look like to be cast safely: the same test on both engines, since
# PostgreSQL has no TRY_CAST (it would fail where DuckDB gives NULL).
_INTEGER = r"^[+-]?[0-9]+$"
_NUMBER = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$"
_TIMESTAMPTZ = _TIMESTAMP.removesuffix("$") + r"([ ]?([+-][0-9]{2}(:?[0-9]{2})?|Z|UTC))?$"
_BOOLEANS = ("true", "false", "t", "f", "yes", "no", "y", "n", "1", "0")
_PATTERNS = {
    frozenset(exp.DataType.INTEGER_TYPES): _INTEGER,
    frozenset(exp.DataType.REAL_TYPES): _NUMBER,
    frozenset({T.DATE}): _DATE,
    frozenset({T.TIMESTAMP, T.DATETIME, T.TIMESTAMPNTZ}): _TIMESTAMP,
    frozenset({T.TIMESTAMPTZ, T.TIMESTAMPLTZ}): _TIMESTAMPTZ,
}


def safe_cast(expression: exp.Expr, target: exp.DataType, source: exp.DataType | None) -> exp.Expr:
    """``TRY_CAST`` that means the same on PostgreSQL (where it becomes ``CAST``): text is
    trimmed and cast only when it looks like the target type (an integer, a number, an ISO
    date or timestamp, a boolean word), else NULL. Text that looks right but is out of range
    (``99999999999`` as INTEGER, ``2024-02-30``) is NULL on DuckDB and an error on PostgreSQL.
    Non-text sources are cast with ``TRY_CAST`` (on PostgreSQL: ``CAST``)."""
    if target.is_type(*_TEXT):
        return cast(expression, target)
    if source is None or not source.is_type(*_TEXT):
        return exp.TryCast(this=expression, to=target)
    trimmed = exp.Trim(this=expression)
    if target.is_type(T.BOOLEAN):
        words = [exp.Literal.string(word) for word in _BOOLEANS]
        looks_right: exp.Expr = exp.In(this=exp.Lower(this=trimmed.copy()), expressions=words)
    else:
        pattern = next((p for kinds, p in _PATTERNS.items() if target.this in kinds), None)
        if pattern is None:
            return exp.TryCast(this=expression, to=target)
        looks_right = exp.RegexpLike(this=trimmed.copy(), expression=exp.Literal.string(pattern))
    return exp.Case(ifs=[exp.If(this=looks_right, true=exp.TryCast(this=trimmed, to=target))])


def compile_cast(op: CastOp, relation: Relation, ctx: Context) -> Step:
    ctx.known(relation, "cast keeps the other columns")
    new: dict[str, exp.Expr] = {}
    for name, type_name in op.columns.items():
        target = datatype(type_name)
        if op.safe:
            new[name] = safe_cast(col(name), target, relation.type_of(name))
        else:
            new[name] = cast(col(name), target)
    selects, out = with_columns(relation, new, dict(op.columns))
    return Step(select_from(relation, selects), out)


def compile_derive(op: DeriveOp, relation: Relation, ctx: Context) -> Step:
    del ctx  # a derive reads whatever the expressions read; the warehouse checks those names
    new = {name: parse_expression(sql) for name, sql in op.columns.items()}
    selects, out = with_columns(relation, new, {})
    return Step(select_from(relation, selects), out)


# -- flatten --------------------------------------------------------------------------------


def _marked(node: exp.Expr, kind: str) -> exp.Expr:
    node.meta[OPS_NODE] = kind
    return node


def struct_field(parent: exp.Expr, name: str) -> exp.Expr:
    """``struct_extract(parent, 'name')``: unambiguous in DuckDB (``s.a`` could name a table);
    on PostgreSQL, where a struct is JSONB, a pass makes it a JSON path lookup."""
    return _marked(function("STRUCT_EXTRACT", parent, exp.Literal.string(name)), "struct_field")


def _struct_columns(
    parent: exp.Expr, struct: exp.DataType, prefix: str, op: FlattenOp
) -> list[tuple[str, exp.Expr, str]]:
    """(output name, expression, DuckDB type) per field, nested structs spread when asked."""
    found: list[tuple[str, exp.Expr, str]] = []
    for field in struct.expressions:
        name, kind = field.name, field.args.get("kind")
        if not isinstance(kind, exp.DataType):
            continue
        access = struct_field(parent, name)
        if op.recursive and kind.is_type(T.STRUCT) and kind.expressions:
            found.extend(_struct_columns(access, kind, f"{prefix}{name}{op.separator}", op))
            continue
        value = access if kind.is_type(*_NESTED) else cast(access, kind)
        found.append((f"{prefix}{name}", value, kind.sql("duckdb")))
    return found


def json_value(document: exp.Expr, field: JsonField) -> exp.Expr:
    """The value at ``field.path`` as text, cast to ``field.type``. DuckDB's
    ``json_extract_string``; on PostgreSQL a pass makes it ``jsonb_extract_path_text``."""
    parts = json_path_parts(field.path)
    path = "$" + "".join(
        f"[{part}]" if isinstance(part, int) else _json_key(part) for part in parts
    )
    text = _marked(
        function("JSON_EXTRACT_STRING", cast(document, "JSON"), exp.Literal.string(path)),
        "json_path",
    )
    target = datatype(field.type)
    return text if target.is_type(*_TEXT) and not target.is_type(T.JSON) else cast(text, target)


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _json_key(key: str) -> str:
    return f".{key}" if _PLAIN_KEY.match(key) else '."{}"'.format(key.replace('"', '""'))


def compile_flatten(op: FlattenOp, relation: Relation, ctx: Context) -> Step:
    known = ctx.known(relation, "flatten replaces the column by its fields")
    source_type = relation.type_of(op.column)
    if op.paths is not None:
        if source_type is not None and not source_type.is_type(*_TEXT):
            shown = (relation.columns or {}).get(op.column)
            raise ctx.error(f"{op.column!r} is {shown}, not JSON or text")
        fields = [(n, json_value(col(op.column), f), f.type) for n, f in op.paths.items()]
    else:
        if source_type is None or not source_type.is_type(T.STRUCT) or not source_type.expressions:
            shown = (relation.columns or {}).get(op.column) or "of unknown type"
            raise ctx.error(
                f"{op.column!r} is {shown}, not a STRUCT with known fields",
                hint="give `paths` to flatten a JSON column",
            )
        prefix = op.prefix if op.prefix is not None else f"{op.column}{op.separator}"
        fields = _struct_columns(col(op.column), source_type, prefix, op)
    selects: list[exp.Expr] = []
    out: Columns = {}
    for name, kind in known.items():
        if name != op.column or op.keep:
            selects.append(col(name))
            out[name] = kind
        if name == op.column:
            for field_name, value, field_type in fields:
                if field_name in known and field_name != op.column:
                    raise ctx.error(f"the field column {field_name!r} is already a column")
                selects.append(alias(value, field_name))
                out[field_name] = field_type
    return Step(select_from(relation, selects), out)
