"""Column lineage of SQL models, read with sqlglot.

:func:`column_lineage` qualifies a model's query against the tables' schemas (so ``SELECT *``
expands and unqualified columns find their table), then walks every output column down through
CTEs, subqueries and set operations to the physical columns it is computed from, inlining what
each level computes, so that ``expression`` reads in terms of those physical columns::

    >>> [str(s) for s in column_lineage(
    ...     "WITH o AS (SELECT amount * 2 AS doubled FROM bronze.orders) "
    ...     "SELECT SUM(doubled) AS total FROM o", target="silver.totals")[0].sources]
    ['bronze.orders.amount']

:func:`table_lineage` lists the physical tables a model reads, without needing a schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope, find_all_in_scope

from sluiceway.core.errors import ConfigError
from sluiceway.transform.lineage_types import ColumnKind, ColumnLineage, ColumnRef, TableEdge

_SCHEMA_HINT: Final = (
    "pass the schema of the tables the model reads (table → {column: type}), "
    "or qualify every column with its table"
)


def column_lineage(
    sql: str,
    *,
    target: str,
    schema: Mapping[str, Mapping[str, str]] | None = None,
    dialect: str = "duckdb",
) -> list[ColumnLineage]:
    """The lineage of every output column of ``sql``, in output order.

    ``schema`` maps tables (``schema.table``) to ``{column: type}``; it is needed to expand
    ``SELECT *`` over a physical table and to resolve unqualified columns when the query reads
    more than one table. ``target`` (the model's table) only names the model in errors, which
    are :class:`ConfigError`: SQL that does not parse, a star or a column that cannot be
    resolved.

    >>> for c in column_lineage(
    ...     "SELECT id AS order_id, UPPER(status) AS status FROM bronze.orders",
    ...     target="silver.orders",
    ... ):
    ...     print(c.column, c.kind, c.expression)
    order_id rename bronze.orders.id
    status derived UPPER(bronze.orders.status)
    """
    known = _normalised_schema(schema or {}, target)
    root = _qualified_scope(sql, target=target, schema=known, dialect=dialect)
    resolver = _Resolver(target=target, dialect=dialect, known_tables=frozenset(known))
    return resolver.outputs(root)


def table_lineage(
    sql: str, *, target: str, dialect: str = "duckdb", detail: str = ""
) -> list[TableEdge]:
    """One ``model`` edge from each physical table ``sql`` reads (CTE names excluded) to
    ``target``, in order of first appearance; the target itself is left out (an incremental
    model reads its own table). Needs no schema, so it works when column lineage cannot."""
    parsed = _parse(sql, target=target, dialect=dialect)
    root = build_scope(parsed)
    if root is None:
        raise ConfigError(f"the SQL of model {target} is not a query (SELECT …)")
    key = target.strip().lower()
    seen: dict[str, None] = {}
    for scope in root.traverse():
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                name = _table_name(source)
                if name and name != key:  # a table function (read_csv(…)) has no name
                    seen.setdefault(name, None)
    return [TableEdge(name, key, "model", detail) for name in seen]


def _parse(sql: str, *, target: str, dialect: str) -> exp.Query:
    try:
        parsed = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"cannot parse the SQL of model {target}: {first}",
            hint=f"check that the model is one query in {dialect}'s SQL dialect",
        ) from exc
    if not isinstance(parsed, exp.Query):
        raise ConfigError(
            f"the SQL of model {target} is not a query: it is a {parsed.key.upper()} statement",
            hint="a model is one SELECT (WITH … SELECT, or a UNION of SELECTs)",
        )
    return parsed


def _normalised_schema(
    schema: Mapping[str, Mapping[str, str]], target: str
) -> dict[str, dict[str, str]]:
    tables = {name.strip().lower(): dict(columns) for name, columns in schema.items()}
    depths = {name.count(".") for name in tables}
    if len(depths) > 1:
        raise ConfigError(
            f"the schema given for the lineage of model {target} mixes table names with and "
            f"without a schema: {', '.join(sorted(tables))}",
            hint="name every table as schema.table",
        )
    return tables


def _nested(tables: Mapping[str, Mapping[str, str]], dialect: str) -> dict[str, object]:
    """``{"bronze.orders": cols}`` → ``{"bronze": {"orders": cols}}``, as sqlglot wants it."""
    nested: dict[str, object] = {}
    for name, columns in tables.items():
        *parents, table = name.split(".")
        level = nested
        for part in parents:
            child = level.setdefault(part, {})
            assert isinstance(child, dict)
            level = child
        level[table] = {column.lower(): _type(kind, dialect) for column, kind in columns.items()}
    return nested


def _type(kind: str, dialect: str) -> str:
    """The type as given, or UNKNOWN if sqlglot cannot read it: lineage needs the names (and
    struct types, to tell ``column.field`` from ``table.column``), not the exact types."""
    try:
        exp.DataType.build(kind, dialect=dialect)
    except SqlglotError:
        return "UNKNOWN"
    return kind


def _require_names(query: exp.Query, target: str) -> None:
    """Every output column has a name the warehouse will use too. sqlglot would invent
    ``_col_1`` for ``amount * 2``, which is not what DuckDB or PostgreSQL call it."""
    while isinstance(query, exp.SetOperation):
        query = query.this  # a union's columns are named by its first branch
    if not isinstance(query, exp.Select):
        return
    for item in query.expressions:
        unnamed = not isinstance(item, exp.Alias | exp.Column | exp.Star)
        if unnamed and item.find(exp.Columns) is None:  # COLUMNS(…) is refused on its own
            raise ConfigError(
                f"model {target}: the output column {item.sql(dialect='duckdb')} has no name",
                hint="Name it (`… AS name`) to trace its lineage; the model's table-level "
                "lineage is kept meanwhile.",
            )


def _qualified_scope(
    sql: str, *, target: str, schema: Mapping[str, Mapping[str, str]], dialect: str
) -> Scope:
    parsed = _parse(sql, target=target, dialect=dialect)
    _require_names(parsed, target)
    try:
        qualified = qualify(
            parsed,
            dialect=dialect,
            schema=_nested(schema, dialect),
            validate_qualify_columns=False,
            identify=False,
        )
        root = build_scope(qualified)
    except SqlglotError as exc:
        raise ConfigError(
            f"cannot resolve the columns of model {target}: {exc}", hint=_SCHEMA_HINT
        ) from exc
    if root is None:
        raise ConfigError(f"the SQL of model {target} is not a query (SELECT …)")
    return root


def _table_name(table: exp.Table) -> str:
    parts = (table.catalog, table.db, table.name)
    return ".".join(part for part in parts if part).lower()


def _is_star(projection: exp.Expr) -> bool:
    return isinstance(projection, exp.Star) or (
        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
    )


def _physical(ref: ColumnRef) -> exp.Column:
    parts = ref.table.split(".")
    db = parts[-2] if len(parts) > 1 else None
    catalog = ".".join(parts[:-2]) or None
    return exp.column(ref.column, table=parts[-1], db=db, catalog=catalog)


def _wrapped(expression: exp.Expr, parent: exp.Expr | None) -> exp.Expr:
    """Parenthesise an expression inlined as an operand: ``(a + b) * 2``, not ``a + b * 2``
    (sqlglot's generator prints the tree as it is). Function arguments need no parentheses."""
    operand = isinstance(parent, (exp.Binary, exp.Unary)) and not isinstance(parent, exp.Paren)
    if operand and isinstance(expression, (exp.Binary, exp.Unary, exp.Case, exp.Window)):
        return exp.Paren(this=expression)
    return expression


@dataclass(frozen=True, slots=True)
class _Resolved:
    """What one column of one scope resolves to."""

    expression: exp.Expr  # in terms of physical columns; inlined into outer scopes
    text: str
    sources: tuple[ColumnRef, ...]
    window: bool = False
    aggregate: bool = False
    passthrough: bool = False  # a bare column reference at every level
    inline: bool = True  # False: outer scopes keep their reference (set operations, UDTFs)


def _merged_sources(parts: Iterable[_Resolved]) -> tuple[ColumnRef, ...]:
    return tuple(dict.fromkeys(ref for part in parts for ref in part.sources))


class _Resolver:
    """Resolves the columns of one qualified query, memoised per scope and column."""

    def __init__(self, *, target: str, dialect: str, known_tables: frozenset[str]) -> None:
        self._target = target
        self._dialect = dialect
        self._known = known_tables
        self._memo: dict[tuple[int, int | str], _Resolved] = {}
        self._resolving: set[tuple[int, int | str]] = set()

    def outputs(self, root: Scope) -> list[ColumnLineage]:
        query = root.expression
        if isinstance(query, exp.Select):
            self._check_projections(root)
        assert isinstance(query, exp.Query)
        result: list[ColumnLineage] = []
        for position, name in enumerate(query.named_selects):
            resolved = self.resolve(root, position)
            result.append(
                ColumnLineage(
                    column=name.lower(),
                    sources=resolved.sources,
                    expression=resolved.text,
                    kind=_kind(name.lower(), resolved),
                )
            )
        return result

    def resolve(self, scope: Scope, key: int | str) -> _Resolved:
        """Column ``key`` (a position or a name) of the query of ``scope``."""
        memo_key = (id(scope), key)
        resolved = self._memo.get(memo_key)
        if resolved is None:
            if memo_key in self._resolving:
                raise ConfigError(
                    f"cannot follow the lineage of column {key!r} in model {self._target}: "
                    "it refers to itself",
                    hint="write the model without a self-referencing subquery or table function",
                )
            self._resolving.add(memo_key)
            try:
                resolved = self._resolve(scope, key)
            finally:
                self._resolving.discard(memo_key)
            self._memo[memo_key] = resolved
        return resolved

    def _resolve(self, scope: Scope, key: int | str) -> _Resolved:
        query = scope.expression
        if isinstance(query, (exp.Subquery, exp.Lateral)) and scope.subquery_scopes:
            return self.resolve(scope.subquery_scopes[0], key)
        if isinstance(query, exp.SetOperation):
            return self._set_operation(scope, query, key)
        if isinstance(query, exp.Select):
            self._check_projections(scope)
            return self._projection(scope, self._select(scope, query, key))
        return self._opaque(scope)

    def _select(self, scope: Scope, query: exp.Select, key: int | str) -> exp.Expr:
        if isinstance(key, int):
            return query.selects[key]
        for projection in query.selects:
            if projection.alias_or_name == key:
                return projection
        raise ConfigError(
            f"model {self._target} reads column {key!r} of a subquery that does not select it "
            f"({query.sql(dialect=self._dialect)[:200]})",
            hint=_SCHEMA_HINT,
        )

    def _set_operation(self, scope: Scope, query: exp.SetOperation, key: int | str) -> _Resolved:
        position = key if isinstance(key, int) else query.named_selects.index(key)
        branches = [self.resolve(branch, position) for branch in scope.set_operation_scopes]
        operator = type(query).__name__.upper()
        if isinstance(query, exp.Union) and not query.args.get("distinct"):
            operator += " ALL"
        return _Resolved(
            expression=exp.column(query.named_selects[position]),
            text=f" {operator} ".join(branch.text for branch in branches),
            sources=_merged_sources(branches),
            window=any(branch.window for branch in branches),
            aggregate=any(branch.aggregate for branch in branches),
            passthrough=all(branch.passthrough for branch in branches),
            inline=False,
        )

    def _projection(self, scope: Scope, projection: exp.Expr) -> _Resolved:
        body = projection.this if isinstance(projection, exp.Alias) else projection
        rewritten = body.copy()
        # The copy has the same shape, so walking both in step pairs each node with its copy.
        twin = {id(node): copy for node, copy in zip(body.walk(), rewritten.walk(), strict=True)}
        parts: list[_Resolved] = []
        for column in list(find_all_in_scope(body, exp.Column)):
            part = self._column(scope, column)
            parts.append(part)
            if part.inline:
                placeholder = twin[id(column)]
                inlined = _wrapped(part.expression.copy(), placeholder.parent)
                if placeholder is rewritten:
                    rewritten = inlined
                else:
                    placeholder.replace(inlined)
        by_id = {id(child.expression): child for child in scope.subquery_scopes}
        for subquery in find_all_in_scope(body, *exp.UNWRAPPED_QUERIES):
            child = by_id.get(id(subquery))
            if child is not None and subquery is not body:
                parts.extend(self.resolve(child, i) for i in range(len(subquery.named_selects)))
        return _Resolved(
            expression=rewritten,
            text=rewritten.sql(dialect=self._dialect),
            sources=_merged_sources(parts),
            window=any(p.window for p in parts) or _has(body, exp.Window),
            aggregate=any(p.aggregate for p in parts) or _has(body, exp.AggFunc),
            passthrough=isinstance(body, exp.Column) and all(p.passthrough for p in parts),
        )

    def _column(self, scope: Scope, column: exp.Column) -> _Resolved:
        source = self._source_of(scope, column)
        if isinstance(source, exp.Table):
            ref = ColumnRef(_table_name(source), column.name)
            physical = _physical(ref)
            return _Resolved(
                expression=physical,
                text=physical.sql(dialect=self._dialect),
                sources=(ref,),
                passthrough=True,
            )
        inner = self.resolve(source, column.name)
        if inner.inline:
            return inner
        kept = exp.column(column.name, table=column.table)
        return _Resolved(
            expression=kept,
            text=kept.sql(dialect=self._dialect),
            sources=inner.sources,
            window=inner.window,
            aggregate=inner.aggregate,
            passthrough=inner.passthrough,
            inline=False,
        )

    def _source_of(self, scope: Scope, column: exp.Column) -> exp.Table | Scope:
        name = column.table
        if not name:
            selected = list(scope.selected_sources)
            if len(selected) != 1:
                tables = ", ".join(selected) if selected else "no table"
                raise ConfigError(
                    f"cannot tell which table column {column.name!r} of model {self._target} "
                    f"comes from (the query reads {tables})",
                    hint=_SCHEMA_HINT,
                )
            name = selected[0]
        outer: Scope | None = scope
        while outer is not None:  # a correlated subquery reads its enclosing query's tables
            if name in outer.sources:
                return outer.sources[name]
            outer = outer.parent
        raise ConfigError(
            f"column {column.sql(dialect=self._dialect)} of model {self._target} refers to "
            f"{name!r}, which the query does not read"
        )

    def _opaque(self, scope: Scope) -> _Resolved:
        """A table function (``UNNEST(t.list)``) or ``VALUES``: every column it mentions, from
        the tables beside it."""
        parent = scope.parent or scope
        own = scope.expression.alias_or_name
        mentioned = [c for c in scope.expression.find_all(exp.Column) if c.table != own]
        parts = [self._column(parent, column) for column in mentioned]
        placeholder = exp.column("value")
        return _Resolved(
            expression=placeholder,
            text=scope.expression.sql(dialect=self._dialect),
            sources=_merged_sources(parts),
            window=any(p.window for p in parts),
            aggregate=any(p.aggregate for p in parts),
            inline=False,
        )

    def _check_projections(self, scope: Scope) -> None:
        """Refuse what qualification left unexpanded: a star over a table of unknown columns,
        DuckDB's ``COLUMNS(…)``."""
        query = scope.expression
        assert isinstance(query, exp.Select)
        for projection in query.selects:
            if projection.find(exp.Columns) is not None:
                written = projection.unalias().sql(dialect=self._dialect)
                raise ConfigError(
                    f"cannot follow the lineage of {written} in model {self._target}: "
                    "COLUMNS(…) expressions are not expanded",
                    hint="list the columns instead",
                )
            if _is_star(projection):
                raise self._unexpanded_star(scope, projection)

    def _unexpanded_star(self, scope: Scope, star: exp.Expr) -> ConfigError:
        selected = scope.selected_sources
        star_of = star.table if isinstance(star, exp.Column) else ""
        names = [star_of] if star_of else list(selected)
        tables = [
            _table_name(source)
            for name in names
            if name in selected and isinstance(source := selected[name][1], exp.Table)
        ]
        unknown = [table for table in tables if table not in self._known] or tables
        listed = ", ".join(unknown) or "its tables"
        return ConfigError(
            f"cannot expand {star.sql(dialect=self._dialect)} in model {self._target}: "
            f"the columns of {listed} are unknown",
            hint=f"pass the schema of {listed} (table → {{column: type}}) so that the star "
            "can be expanded, or list the columns",
        )


def _has(expression: exp.Expr, kind: type[exp.Expr]) -> bool:
    return next(find_all_in_scope(expression, kind), None) is not None


def _kind(name: str, resolved: _Resolved) -> ColumnKind:
    if resolved.window:
        return "window"
    if resolved.aggregate:
        return "aggregate"
    if not resolved.sources:
        return "constant"
    if not resolved.passthrough:
        return "derived"
    if all(source.column == name for source in resolved.sources):
        return "identity"
    return "rename"
