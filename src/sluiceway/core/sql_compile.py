"""Compile SQL written once in DuckDB's dialect for the warehouse that runs it.

sqlglot's transpiler does most of the work; what it gets wrong for PostgreSQL is fixed here by
small pure passes over the sqlglot tree, applied in order before the text is generated
(see :data:`PASSES`). Each pass takes a tree (which it may change in place) and returns the tree;
a construct that cannot be compiled faithfully raises :class:`SqlCompileError` rather than
producing SQL that runs and means something else.

>>> compile_sql("SELECT a, count(*) FROM t GROUP BY ALL", "postgres")
'SELECT a, COUNT(*) FROM t GROUP BY 1'
>>> compile_sql("SELECT a FROM t WHERE b LIKE 'x%' AND c = $c", "postgres", params=True)
"SELECT a FROM t WHERE b LIKE 'x%%' AND c = %(c)s"

For DuckDB itself the SQL is returned as it came (text) or as sqlglot renders it (a tree).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.parsers.duckdb import DuckDBParser

from sluiceway.core.errors import ConfigError

Pass = Callable[[exp.Expr], exp.Expr]

T = exp.DataType.Type

# PostgreSQL caps a function at 100 arguments: json_build_object takes 50 key/value pairs.
JSON_PAIRS_PER_CALL = 50

# DuckDB aggregates sqlglot parses as anonymous functions (GROUP BY ALL must not group on them).
DUCKDB_ANONYMOUS_AGGREGATES = frozenset(
    [
        "arbitrary",
        "bitstring_agg",
        "entropy",
        "favg",
        "fsum",
        "geomean",
        "geometric_mean",
        "histogram",
        "json_group_array",
        "json_group_object",
        "kahan_sum",
        "kurtosis_pop",
        "mad",
        "product",
        "reservoir_quantile",
        "sum_no_overflow",
        "sumkahan",
        "weighted_avg",
    ]
)


class SqlCompileError(ConfigError, ValueError):
    """The SQL uses a construct that has no faithful translation for the target dialect (or
    does not parse): a problem of the SQL as written, so a :class:`ConfigError` (still a
    ``ValueError`` for callers that catch that)."""


# -- the entry point --------------------------------------------------------------------------


def compile_sql(
    sql: str | exp.Expr, dialect: str, *, read: str = "duckdb", params: bool = False
) -> str:
    """``sql`` (text in ``read``'s dialect, or a sqlglot tree built in it) as SQL for ``dialect``.

    ``params=True`` says the text will be run with bound parameters through a driver that takes
    ``pyformat`` placeholders (psycopg, for PostgreSQL): ``$name`` becomes ``%(name)s``, ``?``
    becomes ``%s``, and every other ``%`` (``LIKE 'x%'``, the modulo operator) is doubled so the
    driver reads it as a literal ``%``. Without it, SQL holding placeholders is refused for such a
    dialect: the driver would not substitute them. DuckDB binds ``$name`` itself.

    Text is parsed once per distinct (text, dialect, read, params): loads call this per statement.

    >>> compile_sql("SELECT CAST(x AS HUGEINT)", "postgres")
    'SELECT CAST(x AS DECIMAL(39, 0))'
    >>> compile_sql("SELECT len(l) FROM t", "duckdb")
    'SELECT len(l) FROM t'
    """
    if isinstance(sql, str):
        return _compile_text(sql, dialect, read, params)
    if dialect == read:
        return sql.sql(dialect=dialect)
    return _generate(_apply_passes(sql.copy(), dialect), dialect, params=params)


@functools.lru_cache(maxsize=2048)
def _compile_text(sql: str, dialect: str, read: str, params: bool) -> str:
    if dialect == read:
        return sql
    return _generate(_apply_passes(parse_sql(sql, read), dialect), dialect, params=params)


def parse_sql(sql: str, read: str = "duckdb") -> exp.Expr:
    """One statement of ``read``'s dialect as a sqlglot tree.

    DuckDB's ``len(x)`` is parsed as a list length (``array_length``), not a string length: in
    DuckDB both are spelled ``len``, and PostgreSQL needs to know which (write ``length(x)`` for
    text). A ``len`` of an obvious string (a literal, a cast to text) stays a string length.
    """
    try:
        if read == "duckdb":
            dialect = Dialect.get_or_raise(read)
            statements = _DuckDBReader(dialect=dialect).parse(dialect.tokenize(sql), sql)
        else:
            statements = Dialect.get_or_raise(read).parse(sql)
    except SqlglotError as exc:
        raise SqlCompileError(f"cannot parse the SQL as {read}: {exc}") from exc
    found = [s for s in statements if s is not None]
    if len(found) != 1:
        raise SqlCompileError(f"expected one SQL statement, got {len(found)}: {sql[:200]!r}")
    return found[0]


def _build_len(args: list[exp.Expr]) -> exp.Expr:
    if len(args) != 1:
        return exp.Anonymous(this="LEN", expressions=args)
    (this,) = args
    return exp.Length(this=this) if _is_text(this) else exp.ArraySize(this=this)


def _is_text(node: exp.Expr) -> bool:
    if isinstance(node, exp.Literal):
        return bool(node.is_string)
    if isinstance(node, exp.Cast | exp.TryCast):
        return node.to.is_type(T.TEXT, T.VARCHAR, T.CHAR, T.NVARCHAR, T.NCHAR, T.BPCHAR)
    return isinstance(node, exp.DPipe | exp.Concat | exp.Lower | exp.Upper | exp.Trim)


class _DuckDBReader(DuckDBParser):
    FUNCTIONS: ClassVar[dict[str, Callable[..., exp.Expr]]] = {
        **DuckDBParser.FUNCTIONS,
        "LEN": _build_len,
    }


def _apply_passes(tree: exp.Expr, dialect: str) -> exp.Expr:
    for compile_pass in PASSES.get(dialect, ()):
        tree = compile_pass(tree)
    return tree


# -- helpers ------------------------------------------------------------------------------


def _rewrite(
    tree: exp.Expr, kinds: tuple[type[exp.Expr], ...], rewrite: Callable[[exp.Expr], exp.Expr]
) -> exp.Expr:
    """Apply ``rewrite`` to every node of ``kinds``, innermost first (a node sees its children
    already rewritten); returns the tree (a new root if the root was replaced)."""
    for node in reversed(list(tree.find_all(*kinds, bfs=False))):
        # Where the node sits, taken first: a rewrite may move the node into its replacement.
        parent, key, index = node.parent, node.arg_key, node.index
        new = rewrite(node)
        if new is node:
            continue
        if parent is None or key is None or node is tree:
            tree = new
        else:
            parent.set(key, new, index)
    return tree


def _function(name: str, args: Iterable[exp.Expr]) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _constant(node: exp.Expr) -> bool:
    """A value the same for every row (a literal or a bound parameter, maybe cast)."""
    if isinstance(node, exp.Cast | exp.Paren):
        return _constant(node.this)
    return isinstance(node, exp.Literal | exp.Boolean | exp.Null | exp.Placeholder)


def _identifier_key(identifier: exp.Expr) -> str:
    """An identifier as PostgreSQL compares it (unquoted names fold to lower case)."""
    quoted = isinstance(identifier, exp.Identifier) and identifier.quoted
    return identifier.name if quoted else identifier.name.lower()


# -- BY NAME ----------------------------------------------------------------------------------


def reject_by_name(tree: exp.Expr) -> exp.Expr:
    """``UNION [ALL] BY NAME`` and ``INSERT INTO t BY NAME`` match columns by name, which
    PostgreSQL cannot do; sqlglot would keep the words and PostgreSQL refuse them (or, worse, a
    rewrite would match by position). List the columns explicitly instead."""
    for union in tree.find_all(exp.SetOperation):
        if union.args.get("by_name"):
            raise SqlCompileError(
                f"{type(union).__name__.upper()} BY NAME has no PostgreSQL equivalent: select "
                "the same columns in the same order in every branch and drop BY NAME"
            )
    for insert in tree.find_all(exp.Insert):
        if insert.args.get("by_name"):
            raise SqlCompileError(
                "INSERT ... BY NAME has no PostgreSQL equivalent: name the target columns, "
                "INSERT INTO t (a, b) SELECT a, b ..."
            )
    return tree


def reject_columns_expression(tree: exp.Expr) -> exp.Expr:
    """DuckDB's ``COLUMNS(...)`` (every column matching a pattern or list) expands at bind
    time, over columns PostgreSQL has no way to enumerate inside one expression; sqlglot would
    pass ``COLUMNS('…')`` through and the server fail on an unknown function."""
    for node in tree.find_all(exp.Columns):
        raise SqlCompileError(
            f"{node.sql(dialect='duckdb')} (DuckDB's star expression) has no PostgreSQL "
            "equivalent: name the columns it should match"
        )
    return tree


# -- GROUP BY ALL / ORDER BY ALL ------------------------------------------------------------


def _is_window_function(node: exp.Expr) -> bool:
    """``node`` is the function a window applies (``sum(x)`` in ``sum(x) OVER ()``)."""
    child, parent = node, node.parent
    while isinstance(parent, exp.Filter | exp.IgnoreNulls | exp.RespectNulls):
        child, parent = parent, parent.parent
    return isinstance(parent, exp.Window) and parent.this is child


def _contains_aggregate(node: exp.Expr) -> bool:
    """An aggregate of this query level in ``node`` (not in a subquery, not a window's own
    function: ``sum(sum(x)) OVER ()`` contains one, ``sum(x) OVER ()`` does not)."""
    for sub in _at_this_level(node):
        if isinstance(sub, exp.Query) and sub is not node:
            continue
        anonymous = isinstance(sub, exp.Anonymous) and sub.name.lower() in (
            DUCKDB_ANONYMOUS_AGGREGATES
        )
        if (isinstance(sub, exp.AggFunc) or anonymous) and not _is_window_function(sub):
            return True
    return False


def _at_this_level(node: exp.Expr) -> Iterator[exp.Expr]:
    """``node`` and its descendants, subqueries left out."""
    return node.walk(prune=lambda n: n is not node and isinstance(n, exp.Query))


def _contains_window(node: exp.Expr) -> bool:
    return any(isinstance(sub, exp.Window) for sub in _at_this_level(node))


def _reads_a_column(node: exp.Expr) -> bool:
    return any(isinstance(sub, exp.Column) for sub in _at_this_level(node))


def _expand_group_by_all(select: exp.Expr) -> exp.Expr:
    group = select.args.get("group")
    if not isinstance(select, exp.Select) or group is None or not group.args.get("all"):
        return select
    if select.is_star:
        raise SqlCompileError(
            "GROUP BY ALL cannot be expanded for a SELECT with *: list the selected columns"
        )
    positions = []
    for position, projection in enumerate(select.selects, start=1):
        if _contains_aggregate(projection):
            continue
        if _contains_window(projection):
            raise SqlCompileError(
                f"GROUP BY ALL would group on the window function {projection.sql('duckdb')} "
                "(DuckDB refuses it too): group explicitly"
            )
        if _reads_a_column(projection):
            positions.append(exp.Literal.number(position))
    if positions:
        select.set("group", exp.Group(expressions=positions))
    else:
        select.set("group", None)
    return select


def expand_group_by_all(tree: exp.Expr) -> exp.Expr:
    """``GROUP BY ALL`` → ``GROUP BY`` the positions of the select expressions that read a
    column and hold no aggregate, as DuckDB chooses them: a window over an aggregate counts as
    an aggregate, a subquery's columns and aggregates are its own, and an expression without
    columns (a literal, a parameter, ``current_date``) is not grouped on. None left: no GROUP
    BY (one row over no rows, as DuckDB gives). ``SELECT *`` cannot be expanded without the
    table's columns and is refused."""
    return _rewrite(tree, (exp.Select,), _expand_group_by_all)


def _expand_order_by_all(query: exp.Expr) -> exp.Expr:
    order = query.args.get("order")
    if order is None or len(order.expressions) != 1:
        return query
    (ordered,) = order.expressions
    if not (isinstance(ordered.this, exp.Var) and ordered.this.name.upper() == "ALL"):
        return query
    if not isinstance(query, exp.Select) or query.is_star:
        raise SqlCompileError(
            "ORDER BY ALL cannot be expanded here (a SELECT * or a set operation): "
            "order by the columns explicitly"
        )
    order.set(
        "expressions",
        [
            exp.Ordered(
                this=exp.Literal.number(i),
                desc=ordered.args.get("desc"),
                nulls_first=ordered.args.get("nulls_first"),
            )
            for i in range(1, len(query.selects) + 1)
        ],
    )
    return query


def expand_order_by_all(tree: exp.Expr) -> exp.Expr:
    """``ORDER BY ALL [DESC]`` → ``ORDER BY 1, 2, ...`` over every select expression (sqlglot
    keeps the word ``ALL``, which PostgreSQL reads as nothing it knows)."""
    return _rewrite(tree, (exp.Query,), _expand_order_by_all)


# -- QUALIFY -------------------------------------------------------------------------------


def _first_row_window(condition: exp.Expr) -> exp.Window | None:
    """The window of ``row_number() OVER (...) = 1`` (or ``<= 1``, ``< 2``), else None."""
    left, right = condition.this, condition.expression
    if isinstance(condition, exp.EQ) and isinstance(right, exp.Window):
        left, right = right, left
    bounds: dict[type[exp.Expr], str] = {exp.EQ: "1", exp.LTE: "1", exp.LT: "2"}
    bound = bounds.get(type(condition))
    matches = (
        bound is not None
        and isinstance(left, exp.Window)
        and isinstance(left.this, exp.RowNumber)
        and not left.args.get("alias")
        and isinstance(right, exp.Literal)
        and right.is_int
        and right.name == bound
    )
    return left if matches and isinstance(left, exp.Window) else None


def _output_names(select: exp.Select) -> dict[str, exp.Expr]:
    """The select's output names as PostgreSQL compares them, and what each one selects."""
    names: dict[str, exp.Expr] = {}
    for projection in select.selects:
        if isinstance(projection, exp.Alias):
            names[_identifier_key(projection.args["alias"])] = projection.this
        elif isinstance(projection, exp.Column) and not isinstance(projection.this, exp.Star):
            names[_identifier_key(projection.this)] = projection
    return names


def _aliases(select: exp.Select) -> dict[str, exp.Expr]:
    """Select aliases naming something else than the column of the same name."""
    return {
        key: selected
        for key, selected in _output_names(select).items()
        if not (isinstance(selected, exp.Column) and _identifier_key(selected.this) == key)
    }


def _input_names(select: exp.Select) -> set[str]:
    """The names the select evidently reads as input columns: in its select list and joins
    (DuckDB also takes aliases in WHERE, GROUP BY, HAVING and ORDER BY)."""
    places = [*select.expressions, *(j.args.get("on") for j in select.args.get("joins") or [])]
    return {
        _identifier_key(column.this)
        for place in places
        if place is not None
        for column in place.find_all(exp.Column)
        if not isinstance(column.this, exp.Star)
    }


def _parenthesized(node: exp.Expr) -> exp.Expr:
    simple = exp.Column | exp.Literal | exp.Func | exp.Paren | exp.Window | exp.Case | exp.Cast
    return node if isinstance(node, simple) else exp.paren(node, copy=False)


def _resolve_aliases(select: exp.Select, node: exp.Expr) -> exp.Expr:
    """DuckDB reads a bare name in QUALIFY as an input column, else as a select alias;
    PostgreSQL needs the alias's expression written out. A name the select also reads as an
    input column is ambiguous to us (we do not know the tables' columns) and refused."""
    aliases = _aliases(select)
    if not aliases:
        return node
    inputs = _input_names(select)

    def substitute(column: exp.Expr) -> exp.Expr:
        if not isinstance(column, exp.Column) or column.table:
            return column
        key = _identifier_key(column.this)
        if key not in aliases:
            return column
        if key in inputs:
            raise SqlCompileError(
                f"QUALIFY reads {column.sql('duckdb')}, both a select alias and an input "
                "column: qualify the column (t.name) or rename the alias"
            )
        selected = aliases[key].copy()
        return _parenthesized(selected) if isinstance(column.parent, exp.Binary) else selected

    return _rewrite(node, (exp.Column,), substitute)


def _reads_an_output_name(select: exp.Select, items: Sequence[exp.Expr]) -> bool:
    """PostgreSQL reads a bare name in DISTINCT ON / ORDER BY as an output column first; DuckDB's
    window read it as an input column. True when that changes what an item means."""
    aliases = _aliases(select)
    return any(
        isinstance(item, exp.Column) and not item.table and _identifier_key(item.this) in aliases
        for item in items
    )


def _distinct_on_plan(
    select: exp.Select,
) -> tuple[list[exp.Expr], list[exp.Expr]] | None:
    """(partition, ordering) of a QUALIFY that DISTINCT ON can replace, else None."""
    if select.args.get("distinct") or select.args.get("order"):
        return None
    window = _first_row_window(_resolve_aliases(select, select.args["qualify"].this.copy()))
    if window is None:
        return None
    if any(window == shown for p in select.selects for shown in p.find_all(exp.Window)):
        return None  # the row number is selected: it must read 1 on every row, as in DuckDB
    partition = [p for p in window.args.get("partition_by") or [] if not _constant(p)]
    window_order = window.args.get("order")
    ordering = [
        o for o in (window_order.expressions if window_order else []) if not _constant(o.this)
    ]
    items = [*partition, *(o.this for o in ordering)]
    if any(_contains_window(i) for i in items) or _reads_an_output_name(select, items):
        return None
    if not partition and (select.args.get("limit") or select.args.get("offset")):
        return None
    return partition, ordering


def _qualify_to_distinct_on(select: exp.Expr) -> exp.Expr:
    if not isinstance(select, exp.Select) or select.args.get("qualify") is None:
        return select
    plan = _distinct_on_plan(select)
    if plan is None:
        return select
    partition, ordering = plan
    if partition:
        select.set("distinct", exp.Distinct(on=exp.Tuple(expressions=partition)))
    else:
        select.set("limit", exp.Limit(expression=exp.Literal.number(1)))
    leading = [exp.Ordered(this=p.copy(), nulls_first=False) for p in partition]
    if leading or ordering:
        select.set("order", exp.Order(expressions=[*leading, *ordering]))
    select.set("qualify", None)
    return _as_branch(select, in_union=isinstance(select.parent, exp.SetOperation))


def _as_branch(select: exp.Select, *, in_union: bool) -> exp.Expr:
    """A branch of a UNION with its own ORDER BY or LIMIT is written in parentheses (else
    PostgreSQL applies them to the whole union)."""
    ordered = any(select.args.get(key) for key in ("order", "limit", "offset"))
    return exp.Subquery(this=select) if in_union and ordered else select


def qualify_to_distinct_on(tree: exp.Expr) -> exp.Expr:
    """The first row per key: ``QUALIFY row_number() OVER (PARTITION BY k ORDER BY o) = 1``
    → ``SELECT DISTINCT ON (k) ... ORDER BY k, o``. The ordering keeps DuckDB's NULL placement
    (NULLS LAST both ways; sqlglot writes it out where PostgreSQL's default differs); constant
    partition and order terms are dropped (PostgreSQL would read an integer as a position).
    With no partition: ``ORDER BY o LIMIT 1``. Left to :func:`eliminate_qualify` when the
    select has its own DISTINCT or ORDER BY, selects the row number itself, or when PostgreSQL
    would read a bare name as a different output column."""
    return _rewrite(tree, (exp.Select,), _qualify_to_distinct_on)


def _outer_order(select: exp.Select, order: exp.Order) -> exp.Order:
    """The select's ORDER BY moved to the query wrapped around it: positions and output names
    only (anything else reads columns the wrapper cannot see)."""
    names = _output_names(select)
    for ordered in order.expressions:
        item = ordered.this
        positional = isinstance(item, exp.Literal) and item.is_int
        named = (
            isinstance(item, exp.Column) and not item.table and _identifier_key(item.this) in names
        )
        if not (positional or named):
            raise SqlCompileError(
                f"QUALIFY with ORDER BY {item.sql('duckdb')}: order by selected columns (or "
                "their positions) so the order can follow the filter on PostgreSQL"
            )
    return order


def _eliminate_qualify(select: exp.Expr) -> exp.Expr:
    if not isinstance(select, exp.Select) or select.args.get("qualify") is None:
        return select
    if select.is_star:
        raise SqlCompileError(
            "QUALIFY with a SELECT * needs a helper column PostgreSQL cannot hide "
            f"({select.args['qualify'].this.sql('duckdb')}): list the selected columns, or "
            "filter on row_number() OVER (...) = 1"
        )
    in_union = isinstance(select.parent, exp.SetOperation)
    condition = _resolve_aliases(select, select.args["qualify"].this)
    order = select.args.get("order")
    outer_order = _outer_order(select, order) if order is not None else None
    select.set("qualify", None)
    moved = {key: select.args.get(key) for key in ("limit", "offset")}
    for key in ("order", *moved):
        select.set(key, None)
    taken = set(_output_names(select))
    outer_columns = []
    for position, projection in enumerate(select.selects):
        name = projection.args.get("alias") if isinstance(projection, exp.Alias) else None
        if name is None and isinstance(projection, exp.Column):
            name = projection.this
        if name is None:
            name = exp.to_identifier(_fresh_name(taken, f"_c{position}"))
            projection.replace(exp.alias_(projection.copy(), name))
        outer_columns.append(exp.column(name.copy()))
    flag = _fresh_name(taken, "_q")
    select.select(exp.alias_(condition, flag), copy=False)
    outer = exp.select(*outer_columns).from_(select.subquery("_t", copy=False), copy=False)
    outer = outer.where(exp.column(flag), copy=False)
    outer.set("order", outer_order)
    for key, value in moved.items():
        outer.set(key, value)
    return _as_branch(outer, in_union=in_union)


def _fresh_name(taken: set[str], base: str) -> str:
    name, number = base, 0
    while name in taken:
        number += 1
        name = f"{base}_{number}"
    taken.add(name)
    return name


def eliminate_qualify(tree: exp.Expr) -> exp.Expr:
    """Any other QUALIFY: the select computes its condition as one more column (window functions
    are allowed there) and a wrapper keeps the rows where it holds, listing the original
    columns only; ORDER BY, LIMIT and OFFSET move to the wrapper. (sqlglot's own rewrite selects
    ``*`` from the wrapper, which leaks its helper column into a CREATE TABLE AS or INSERT, and
    reads names as aliases where DuckDB reads input columns.) A ``SELECT *`` cannot be listed
    and is refused."""
    return _rewrite(tree, (exp.Select,), _eliminate_qualify)


# -- structs and JSON ---------------------------------------------------------------------


def _struct_pairs(struct: exp.Expr) -> list[tuple[exp.Expr, exp.Expr]]:
    pairs: list[tuple[exp.Expr, exp.Expr]] = []
    for field in struct.expressions:
        if isinstance(field, exp.PropertyEQ | exp.Slice):
            key, value = field.this, field.expression
        elif isinstance(field, exp.Alias):
            key, value = field.args["alias"], field.this
        elif isinstance(field, exp.Column):
            key, value = field.this, field
        else:
            raise SqlCompileError(
                f"a struct field needs a name on PostgreSQL: {field.sql('duckdb')} "
                "(write struct_pack(name := value))"
            )
        pairs.append((exp.Literal.string(key.name), value))
    return pairs


def _json_build(pairs: Sequence[tuple[exp.Expr, exp.Expr]], *, jsonb: bool) -> exp.Expr:
    """``json[b]_build_object(k1, v1, ...)``; past 50 pairs, jsonb objects joined with ``||``
    (then cast back to json when json was asked: key order is jsonb's then)."""
    name = "JSONB_BUILD_OBJECT" if jsonb else "JSON_BUILD_OBJECT"
    if len(pairs) <= JSON_PAIRS_PER_CALL:
        return _function(name, [part for pair in pairs for part in pair])
    chunks = [
        _function(
            "JSONB_BUILD_OBJECT",
            [part for pair in pairs[i : i + JSON_PAIRS_PER_CALL] for part in pair],
        )
        for i in range(0, len(pairs), JSON_PAIRS_PER_CALL)
    ]
    joined = chunks[0]
    for chunk in chunks[1:]:
        joined = exp.DPipe(this=joined, expression=chunk)
    if jsonb:
        return exp.paren(joined, copy=False)
    return exp.Cast(this=exp.paren(joined, copy=False), to=exp.DataType.build("JSON"))


def _is_to_json_of_struct(node: exp.Expr) -> bool:
    return (
        isinstance(node, exp.Anonymous)
        and node.name.upper() == "TO_JSON"
        and len(node.expressions) == 1
        and isinstance(node.expressions[0], exp.Struct)
    )


def _unwrap_to_json(node: exp.Expr) -> exp.Expr:
    if not _is_to_json_of_struct(node):
        return node
    struct: exp.Expr = node.expressions[0]
    struct.meta["to_json"] = True
    return struct


def _struct_to_json(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Struct):
        return _json_build(_struct_pairs(node), jsonb=not node.meta.get("to_json"))
    if isinstance(node, exp.JSONObject):
        pairs = [(kv.this, kv.expression) for kv in node.expressions]
        return _json_build(pairs, jsonb=False)
    return node


def structs_to_json(tree: exp.Expr) -> exp.Expr:
    """PostgreSQL has no STRUCT: ``to_json(struct_pack(a := x, ...))`` and ``json_object('a',
    x, ...)`` → ``json_build_object('a', x, ...)`` (json, keys in order, like DuckDB's); a bare
    ``struct_pack`` / ``{'a': x}`` → ``jsonb_build_object`` (a STRUCT column is JSONB there).
    ``CAST(... AS VARCHAR)`` of them is PostgreSQL's json text (``{"a" : 1}``: spaced unlike
    DuckDB's, so a hash of it differs between the engines but is stable within each)."""
    tree = _rewrite(tree, (exp.Anonymous,), _unwrap_to_json)
    return _rewrite(tree, (exp.Struct, exp.JSONObject), _struct_to_json)


# -- lists ----------------------------------------------------------------------------------


def _is_list(node: exp.Expr) -> bool:
    if isinstance(node, exp.Cast | exp.TryCast):
        return node.to.is_type(T.ARRAY, T.LIST)
    return isinstance(node, exp.Array | exp.ArrayAgg | exp.ArrayConcat | exp.Split)


def _list_length(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.ArraySize) and node.args.get("expression") is None:
        return _function("CARDINALITY", [node.this])
    if isinstance(node, exp.Length) and _is_list(node.this):
        return _function("CARDINALITY", [node.this])
    return node


def list_length_to_cardinality(tree: exp.Expr) -> exp.Expr:
    """``len(list)`` / ``array_length(list)`` → ``cardinality(list)``: PostgreSQL's
    ``array_length(l, 1)`` is NULL for an empty list where DuckDB says 0, and ``length`` takes
    no array. (:func:`parse_sql` reads ``len`` as a list length; ``length(x)`` stays text.)"""
    return _rewrite(tree, (exp.ArraySize, exp.Length), _list_length)


def _list_contains(node: exp.Expr) -> exp.Expr:
    if not isinstance(node, exp.ArrayContains):
        return node
    values, value = node.this, node.expression
    unknown: exp.Expr = exp.Is(this=values.copy(), expression=exp.null())
    if not isinstance(value, exp.Literal):  # a literal is never NULL (NULL is exp.Null)
        unknown = exp.or_(unknown, exp.Is(this=value.copy(), expression=exp.null()))
    found = exp.EQ(this=value, expression=exp.Any(this=exp.paren(values, copy=False)))
    return exp.Case(
        ifs=[exp.If(this=unknown, true=exp.null())],
        default=exp.Coalesce(this=found, expressions=[exp.false()]),
    )


def list_contains_to_any(tree: exp.Expr) -> exp.Expr:
    """``list_contains(l, x)`` → ``CASE WHEN l IS NULL OR x IS NULL THEN NULL ELSE
    COALESCE(x = ANY(l), FALSE) END``: DuckDB's answer is NULL only for a NULL list or value, and
    false (not NULL) when the list merely holds a NULL; sqlglot's own rewrite answers false for a
    NULL list."""
    return _rewrite(tree, (exp.ArrayContains,), _list_contains)


def _count_if(node: exp.Expr) -> exp.Expr:
    if not isinstance(node, exp.CountIf):
        return node
    return exp.Sum(this=exp.Cast(this=node.this, to=exp.DataType.build("INT")))


def count_if_to_sum(tree: exp.Expr) -> exp.Expr:
    """``count_if(p)`` → ``SUM(CAST(p AS INT))``: DuckDB's count_if is a sum, NULL over no rows
    or only NULL predicates (sqlglot's ``SUM(CASE WHEN p THEN 1 ELSE 0 END)`` says 0 for the
    latter)."""
    return _rewrite(tree, (exp.CountIf,), _count_if)


# -- types ---------------------------------------------------------------------------------

_DECIMAL_FOR = {T.INT128: 39, T.UINT128: 39, T.UBIGINT: 20}
_SAME_AS = {
    T.UTINYINT: T.SMALLINT,
    T.TINYINT: T.SMALLINT,
    T.USMALLINT: T.INT,
    T.UINT: T.BIGINT,
    T.TIMESTAMP_S: T.TIMESTAMP,
    T.TIMESTAMP_MS: T.TIMESTAMP,
    T.TIMESTAMP_NS: T.TIMESTAMP,
    T.TIMESTAMPNTZ: T.TIMESTAMP,
    T.TIMESTAMPLTZ: T.TIMESTAMPTZ,
    T.TIME_NS: T.TIME,
    T.JSON: T.JSONB,
    T.STRUCT: T.JSONB,
    T.MAP: T.JSONB,
    T.UNION: T.JSONB,
    T.VARIANT: T.JSONB,
    T.ENUM: T.TEXT,
    T.BIGNUM: T.DECIMAL,
}


def _postgres_type(datatype: exp.DataType) -> exp.DataType:
    kind = datatype.this
    if kind in _DECIMAL_FOR:
        digits = _DECIMAL_FOR[kind]
        return exp.DataType.build(f"DECIMAL({digits}, 0)")
    if kind in _SAME_AS:
        return exp.DataType(this=_SAME_AS[kind])
    if kind == T.USERDEFINED and str(datatype.args.get("kind", "")).lower() == "varint":
        return exp.DataType(this=T.DECIMAL)
    if kind in (T.ARRAY, T.LIST) and datatype.expressions:
        (element,) = datatype.expressions
        return exp.DataType(
            this=T.ARRAY,
            expressions=[_postgres_type(element)],
            values=datatype.args.get("values"),
            nested=True,
        )
    return datatype


def postgres_types(tree: exp.Expr) -> exp.Expr:
    """DuckDB types in DDL and casts → PostgreSQL's: HUGEINT, UHUGEINT → NUMERIC(39,0) (their 39
    digits), UBIGINT → NUMERIC(20,0), UINTEGER → BIGINT, USMALLINT → INTEGER, UTINYINT and
    TINYINT → SMALLINT, TIMESTAMP_S/_MS/_NS → TIMESTAMP (microseconds), JSON → JSONB, STRUCT,
    MAP and UNION → JSONB (a list of them: JSONB[]), ENUM → TEXT, VARINT → NUMERIC, LIST(T) →
    T[]. sqlglot does the rest (DOUBLE, BLOB, VARCHAR, DECIMAL's default (18,3))."""
    for datatype in list(tree.find_all(exp.DataType)):
        if isinstance(datatype.parent, exp.DataType):
            continue  # rewritten with its outer type
        new = _postgres_type(datatype)
        if new is not datatype:
            if datatype is tree:
                return new
            datatype.replace(new)
    return tree


# -- generation and parameters --------------------------------------------------------------

# Drivers that read ``%`` in the query text when parameters are bound (psycopg: pyformat).
PYFORMAT_DIALECTS = frozenset({"postgres"})
_SENTINEL = "\x00"  # PostgreSQL refuses NUL in query text, so it never occurs in valid SQL


def _check_placeholders(placeholders: Sequence[exp.Placeholder], dialect: str) -> None:
    named = [p for p in placeholders if p.this is not None]
    numbered = [p.name for p in named if str(p.name).isdigit()]
    if numbered:
        raise SqlCompileError(
            f"positional parameters ${numbered[0]} cannot be bound on {dialect}: name them "
            "($name) or use ?"
        )
    if named and len(named) != len(placeholders):
        raise SqlCompileError(f"SQL for {dialect} cannot mix named ($name) and ? parameters")


def _generate(tree: exp.Expr, dialect: str, *, params: bool) -> str:
    if dialect not in PYFORMAT_DIALECTS:
        return _sql(tree, dialect)
    placeholders = list(tree.find_all(exp.Placeholder))
    if not params:
        if placeholders:
            raise SqlCompileError(
                f"the SQL has parameters ({placeholders[0].sql(dialect)}): compile it with "
                "params=True so literal % signs are escaped for the driver"
            )
        return _sql(tree, dialect)
    _check_placeholders(placeholders, dialect)
    rendered = {}
    for number, placeholder in enumerate(placeholders):
        sentinel = f"{_SENTINEL}{number}{_SENTINEL}"
        bare = placeholder.copy()
        bare.comments = None  # comments stay in the text, where their % signs are escaped
        rendered[sentinel] = bare.sql(dialect)
        stand_in = exp.Var(this=sentinel)
        stand_in.comments = placeholder.comments
        placeholder.replace(stand_in)
    text = _sql(tree, dialect).replace("%", "%%")
    for sentinel, placeholder_text in rendered.items():
        if text.count(sentinel) != 1:
            raise SqlCompileError("a parameter was lost or duplicated while compiling the SQL")
        text = text.replace(sentinel, placeholder_text)
    return text


def _sql(tree: exp.Expr, dialect: str) -> str:
    try:
        return tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise SqlCompileError(f"cannot compile the SQL for {dialect}: {exc}") from exc


PASSES: dict[str, tuple[Pass, ...]] = {
    "postgres": (
        reject_by_name,
        reject_columns_expression,
        postgres_types,
        expand_group_by_all,
        expand_order_by_all,
        qualify_to_distinct_on,
        eliminate_qualify,
        structs_to_json,
        list_length_to_cardinality,
        list_contains_to_any,
        count_if_to_sum,
    ),
}
"""The passes each dialect's SQL goes through, in order, before sqlglot generates it."""
