"""Cleaning: a source's ``clean:`` operations, compiled to SQL and applied to a load's rows.

Each operation compiles to one sqlglot expression over its column, in DuckDB's dialect
(:func:`compile_op`). All of them transpile to PostgreSQL except the parsing of dates and
timestamps (:data:`DUCKDB_ONLY`): PostgreSQL has no ``try_strptime`` and its ``to_date`` raises on
text it cannot read instead of answering NULL.

:class:`Cleaner` runs the operations on Arrow batches as they stream from a source, before the
schema contract sees them, in a private in-memory DuckDB: one SQL projection per batch returns
the cleaned columns and, for every (column, operation) step, whether the step changed the value.
:class:`CleaningReport` sums those flags and keeps a few examples of each change.

>>> from sluiceway.spec.cleaning import CaseOp
>>> compile_op(CaseOp(op="case", case="upper"), exp.column("name", quoted=True)).sql("duckdb")
'UPPER("name")'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from sluiceway.core.errors import ConfigError, DataError
from sluiceway.core.us_states import KEY_DROPPED_CHARS, SPELLINGS
from sluiceway.spec.cleaning import (
    BooleanOp,
    CaseOp,
    CleaningOp,
    CleaningSpec,
    CollapseWhitespaceOp,
    DateOp,
    DedupeSpec,
    EmailOp,
    NullTokensOp,
    PhoneOp,
    ReplaceOp,
    TimestampOp,
    TrimOp,
    UsStateOp,
)

__all__ = [
    "DUCKDB_ONLY",
    "WHITESPACE",
    "Cleaner",
    "CleaningReport",
    "OperationReport",
    "changed_flag",
    "compile_op",
    "compile_ops",
    "dedupe_query",
    "unparsed_flag",
]

WHITESPACE = " \t\n\r\f\v\u00a0"
"""What ``trim`` removes and ``collapse_whitespace`` collapses (no-break space included)."""

DUCKDB_ONLY = frozenset({"date", "timestamp"})
"""Operations whose SQL only DuckDB runs (the :class:`Cleaner` always uses DuckDB)."""

EXAMPLES = 5
"""Examples kept per (column, operation): the first distinct values changed."""

# Operations that may fail to read a value; the report counts those values as "unparsed".
PARSING = frozenset({"boolean", "date", "timestamp", "phone"})

_TRUE_WORDS = ("Y", "YES", "TRUE", "T", "1")
_FALSE_WORDS = ("N", "NO", "FALSE", "F", "0")
# None of the whitespace characters is special inside a regex bracket class, in RE2 or in
# PostgreSQL's regex dialect; the class is written with the characters themselves because the
# two dialects spell escapes such as \x{a0} differently.
_WS_CLASS = "[" + WHITESPACE + "]"
_PADDED = "^" + _WS_CLASS + "|" + _WS_CLASS + "$"
_NOT_BLANK = "[^" + WHITESPACE + "]"
# Whitespace other than spaces at an end (after any spaces): plain TRIM would leave it.
_OTHER_WS = WHITESPACE.replace(" ", "")
_ODD_PADDING = f"^ *[{_OTHER_WS}]|[{_OTHER_WS}] *$"
_COLLAPSIBLE = f"{_WS_CLASS}{_WS_CLASS}|[{_OTHER_WS}]"
_E164_NANP = r"^\+1[2-9][0-9]{2}[2-9][0-9]{6}$"
# A North American number as people write it: an optional +1 or 1, the area code (maybe in
# parentheses), then 3 + 4 digits, with spaces, dots, dashes or slashes between the groups.
# Letters ("ext 12", "call me") or another country code ("+44 …") do not match.
_SEP = "[" + WHITESPACE + "./-]*"
_PHONE = (
    f"^{_WS_CLASS}*(?:\\+?1{_SEP})?(?:\\(([2-9][0-9]{{2}})\\)|([2-9][0-9]{{2}}))"
    f"{_SEP}([2-9][0-9]{{2}}){_SEP}([0-9]{{4}}){_WS_CLASS}*$"
)
_ONE_WORD = "^[A-Za-z]+$"
_REGEX_SPECIAL = frozenset("\\^$.|?*+()[]{}")
# Word characters of DuckDB's title case: digits and the letters of the Latin, Greek and
# Cyrillic blocks. Named ranges, not \p{L}: RE2 compiles \p{L} in milliseconds, once per batch.
_WORD = "0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff\u1e00-\u1eff"
_WORDS_AND_GAPS = f"[{_WORD}]+|[^{_WORD}]+"


def _text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _matches(column: exp.Expr, pattern: str) -> exp.Expr:
    # DuckDB's REGEXP_MATCHES / PostgreSQL's ~ : a match anywhere, so patterns carry ^ and $.
    return exp.RegexpLike(this=column.copy(), expression=_text(pattern))


def _trimmed(column: exp.Expr) -> exp.Expr:
    """``column`` without whitespace at either end.

    DuckDB's TRIM with a list of characters costs three times its plain TRIM (spaces only),
    and most values have no padding at all: a regex test sends each value the cheapest way.
    """
    padded = _matches(column, _PADDED)
    odd_padding = _matches(column, _ODD_PADDING)
    every_kind = exp.Trim(this=column.copy(), expression=_text(WHITESPACE))
    return (
        exp.Case()
        .when(exp.not_(padded), column.copy())
        .when(odd_padding, every_kind)
        .else_(exp.Trim(this=column.copy()))
    )


def _regex_literal(text: str) -> str:
    """``text`` as a regex matching itself, in RE2 and PostgreSQL alike (punctuation escaped)."""
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


def _whole_word(words: Iterable[str], *, ignore_case: bool = False) -> str:
    """A regex matching exactly one of ``words``, padded with whitespace or not."""
    choices = "|".join(_regex_literal(w) for w in sorted(words, key=lambda w: (-len(w), w)))
    flags = "(?i)" if ignore_case else ""
    return f"{flags}^{_WS_CLASS}*({choices}){_WS_CLASS}*$"


def _replace_all(column: exp.Expr, pattern: str, replacement: str) -> exp.Expr:
    # No modifiers and no `single_replace`: sqlglot's "replace every match" form, rendered with
    # 'g' in both DuckDB and PostgreSQL (an explicit 'g' modifier comes out as 'gg' in Postgres).
    return exp.RegexpReplace(this=column, expression=_text(pattern), replacement=_text(replacement))


def _key(column: exp.Expr) -> exp.Expr:
    """:func:`~sluiceway.core.us_states.spelling_key` in SQL: upper case, no dots or whitespace.

    REPLACE of the usual two (dot, space) costs DuckDB a third of a REGEXP_REPLACE; the regex
    runs only where rarer whitespace is present.
    """
    rare = KEY_DROPPED_CHARS.replace(".", "").replace(" ", "")
    usual = exp.Replace(
        this=exp.Replace(this=column.copy(), expression=_text("."), replacement=_text("")),
        expression=_text(" "),
        replacement=_text(""),
    )
    every = _replace_all(column.copy(), "[" + KEY_DROPPED_CHARS + "]", "")
    dropped = exp.Case().when(_matches(column, f"[{rare}]"), every).else_(usual)
    return exp.Upper(this=dropped)


def _collapsed(column: exp.Expr) -> exp.Expr:
    # Most values have no run to collapse; a regex test skips the costlier replace for them.
    needs = _matches(column, _COLLAPSIBLE)
    collapse = _replace_all(column.copy(), _WS_CLASS + "+", " ")
    return exp.Case().when(needs, collapse).else_(column.copy())


def _capitalized(word: exp.Expr) -> exp.Expr:
    first = exp.Upper(this=exp.Left(this=word.copy(), expression=exp.Literal.number(1)))
    rest = exp.Lower(this=exp.Substring(this=word.copy(), start=exp.Literal.number(2)))
    return exp.DPipe(this=first, expression=rest)


def _title(column: exp.Expr, dialect: str) -> exp.Expr:
    """Upper-case the first letter of each word, lower-case the rest (PostgreSQL's initcap).

    Elsewhere this is ``INITCAP``. DuckDB has none: the text is split into runs of word
    characters and runs of others, each run capitalized (a no-op on the others) and joined.
    Single ASCII words, the usual case for names, skip the split. Word characters are digits
    and Latin, Greek and Cyrillic letters; PostgreSQL also counts letters of other scripts.
    """
    if dialect != "duckdb":
        return exp.Initcap(this=column)
    runs = exp.func("REGEXP_EXTRACT_ALL", column.copy(), _text(_WORDS_AND_GAPS))
    run = exp.column("run")
    each = exp.Lambda(this=_capitalized(run), expressions=[exp.to_identifier("run")])
    joined = exp.func("ARRAY_TO_STRING", exp.func("LIST_TRANSFORM", runs, each), _text(""))
    return exp.Case().when(_matches(column, _ONE_WORD), _capitalized(column)).else_(joined)


# Splits the spelling lists of `us_state`; no spelling may contain it ("Washington, D.C." has a
# comma), which the module checks at import.
_LIST_SEP = "|"
if any(_LIST_SEP in key for key in SPELLINGS):  # pragma: no cover - a data error in us_states
    raise ValueError(f"a US state spelling contains {_LIST_SEP!r}")


def _us_state(column: exp.Expr, dialect: str) -> exp.Expr:
    """The two-letter code of any spelling in :data:`SPELLINGS`; other text is kept as it is.

    Elsewhere a CASE over the spellings. DuckDB plans a CASE of ~140 branches in tens of
    milliseconds, per batch, so there the spellings are two lists, each one literal split at
    ``|``, and the code is found by position.
    """
    key = _key(column)
    if dialect != "duckdb":
        ifs = [exp.If(this=_text(k), true=_text(code)) for k, code in SPELLINGS.items()]
        return exp.Case(this=key, ifs=ifs, default=column.copy())
    keys = exp.func("STRING_SPLIT", _text(_LIST_SEP.join(SPELLINGS)), _text(_LIST_SEP))
    codes = exp.func("STRING_SPLIT", _text(_LIST_SEP.join(SPELLINGS.values())), _text(_LIST_SEP))
    found = exp.Bracket(this=codes, expressions=[exp.func("LIST_POSITION", keys, key)])
    return exp.Coalesce(this=found, expressions=[column.copy()])


def _phone(column: exp.Expr) -> exp.Expr:
    """A North American number in E.164 (``+15551234567``); anything else is kept as it is.

    One anchored regex both recognises the number and rewrites it from its groups; text it
    does not match comes back unchanged.
    """
    return _replace_all(column, _PHONE, "+1\\1\\2\\3\\4")


def _boolean(column: exp.Expr) -> exp.Expr:
    # Regex tests, not UPPER(TRIM(x)) IN (...): DuckDB turns an IN list into a join.
    true = _matches(column, _whole_word(_TRUE_WORDS, ignore_case=True))
    false = _matches(column, _whole_word(_FALSE_WORDS, ignore_case=True))
    nothing = exp.cast(exp.null(), exp.DataType.Type.BOOLEAN)
    return exp.Case().when(true, exp.true()).when(false, exp.false()).else_(nothing)


def _strptime(column: exp.Expr, formats: tuple[str, ...], to_type: str) -> exp.Expr:
    parsed = exp.Anonymous(
        this="TRY_STRPTIME",
        expressions=[_trimmed(column), exp.Array(expressions=[_text(f) for f in formats])],
    )
    return exp.cast(parsed, to_type, dialect="duckdb")


def _null_tokens(op: NullTokensOp, column: exp.Expr) -> exp.Expr:
    # Compared trimmed: " N/A " is as empty as "N/A". One regex test per value.
    is_token = _matches(column, _whole_word({t.strip(WHITESPACE) for t in op.tokens}))
    nothing = exp.cast(exp.null(), exp.DataType.Type.VARCHAR)
    return exp.Case().when(is_token, nothing).else_(column.copy())


def _case(op: CaseOp, column: exp.Expr, dialect: str) -> exp.Expr:
    if op.case == "lower":
        return exp.Lower(this=column)
    return exp.Upper(this=column) if op.case == "upper" else _title(column, dialect)


Builder = Callable[[Any, exp.Expr, str], exp.Expr]
_BUILDERS: dict[type[Any], Builder] = {
    TrimOp: lambda _, c, __: _trimmed(c),
    CollapseWhitespaceOp: lambda _, c, __: _collapsed(c),
    CaseOp: _case,
    NullTokensOp: lambda op, c, _: _null_tokens(op, c),
    UsStateOp: lambda _, c, dialect: _us_state(c, dialect),
    EmailOp: lambda _, c, __: exp.Lower(this=_trimmed(c)),
    PhoneOp: lambda _, c, __: _phone(c),
    BooleanOp: lambda _, c, __: _boolean(c),
    DateOp: lambda op, c, _: _strptime(c, op.formats, "DATE"),
    TimestampOp: lambda op, c, _: _strptime(c, op.formats, op.output_type),
    ReplaceOp: lambda op, c, _: _replace_all(c, op.pattern, op.replacement),
}


def compile_op(op: CleaningOp, column: exp.Expr, *, dialect: str = "duckdb") -> exp.Expr:
    """The SQL expression of ``op`` applied to the text ``column``, built in DuckDB's dialect.

    ``dialect`` is where the expression will run: render the result with ``.sql(dialect)``.
    Title case and ``us_state`` are built differently for DuckDB (see :func:`_title`); both
    forms give the same values. An operation in :data:`DUCKDB_ONLY` raises
    :class:`ConfigError` for any dialect but DuckDB.
    """
    if op.name in DUCKDB_ONLY and dialect != "duckdb":
        raise ConfigError(
            f"the `{op.name}` cleaning operation runs in DuckDB only, not in {dialect}",
            hint="Clean the rows before they reach the warehouse (the loader does), or declare "
            "the column's type and format in the schema contract.",
        )
    return _BUILDERS[type(op)](op, column.copy(), dialect)


def compile_ops(
    ops: Sequence[CleaningOp], column: exp.Expr, *, dialect: str = "duckdb"
) -> exp.Expr:
    """The operations applied in order, as one nested expression (for SQL run elsewhere)."""
    result = column
    for op in ops:
        result = compile_op(op, result, dialect=dialect)
    return result


def changed_flag(op: CleaningOp, before: exp.Expr, after: exp.Expr) -> exp.Expr:
    """True where the step changed the value; parsed values compare as their text."""
    if op.output_type is not None:
        after = exp.cast(after, exp.DataType.Type.VARCHAR)
    return exp.NullSafeNEQ(this=before, expression=after)


def unparsed_flag(op: CleaningOp, before: exp.Expr, after: exp.Expr) -> exp.Expr | None:
    """True where a parsing step could not read a non-blank value; ``None`` for other steps."""
    if op.name not in PARSING:
        return None
    if isinstance(op, PhoneOp):
        failed: exp.Expr = exp.not_(_matches(after, _E164_NANP))
    else:
        failed = exp.Is(this=after, expression=exp.null())
    # A NULL before makes the match NULL, and COALESCE makes that "not unparsed".
    unread = exp.and_(_matches(before, _NOT_BLANK), failed)
    return exp.Coalesce(this=unread, expressions=[exp.false()])


def dedupe_query(source: exp.Table, spec: DedupeSpec, seq_column: str | None) -> exp.Select:
    """One row per ``spec.key`` from ``source``: the latest (or earliest) by ``order_by``.

    Ties, and rows when there is no ``order_by``, go by ``seq_column`` (the order rows arrived
    in): descending for ``keep: last``, ascending for ``keep: first``. NULL ordering values lose.
    ``DISTINCT ON`` runs in DuckDB and PostgreSQL alike and keeps every column of ``source``.
    """
    if spec.order_by is None and seq_column is None:
        raise ConfigError(
            "dedupe has no `order_by` and the table no arrival order, so it cannot tell which "
            "row to keep",
            hint="Add `order_by: <column>` (e.g. updated_at) under `dedupe`.",
        )
    keys = [exp.column(k, quoted=True) for k in spec.key]
    latest = spec.keep == "last"
    order = [exp.Ordered(this=k.copy(), desc=False, nulls_first=False) for k in keys]
    for name in (spec.order_by, seq_column):
        if name is not None:
            column = exp.column(name, quoted=True)
            order.append(exp.Ordered(this=column, desc=latest, nulls_first=False))
    return exp.select(exp.Star()).from_(source.copy()).distinct(*keys).order_by(*order)


# --- the report --------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


@dataclass(slots=True)
class OperationReport:
    """What one (column, operation) step did to the rows seen so far."""

    column: str
    operation: str
    from_star: bool = False
    parses: bool = False
    changed: int = 0
    unparsed: int = 0
    examples: list[tuple[Any, Any]] = field(default_factory=list)
    _seen: set[Any] = field(default_factory=set, repr=False)

    @property
    def wants_examples(self) -> bool:
        """Whether fewer than :data:`EXAMPLES` examples are kept yet."""
        return len(self.examples) < EXAMPLES

    def add_example(self, before: Any, after: Any) -> None:
        """Keep ``before → after`` unless that ``before`` is kept already or enough are kept."""
        if self.wants_examples and before not in self._seen:
            self._seen.add(before)
            self.examples.append((before, after))

    def to_dict(self) -> dict[str, Any]:
        """The step as an entry of the run report's ``cleaning`` list."""
        entry: dict[str, Any] = {
            "column": self.column,
            "operation": self.operation,
            "changed": self.changed,
            "examples": [
                {"before": _json_value(b), "after": _json_value(a)} for b, a in self.examples
            ],
        }
        if self.parses:
            entry["unparsed"] = self.unparsed
        return entry


@dataclass(slots=True)
class CleaningReport:
    """Per (column, operation) step, in the order the steps run: counts and examples."""

    operations: list[OperationReport] = field(default_factory=list)
    rows: int = 0

    def to_dicts(self) -> list[dict[str, Any]]:
        """The run report's ``cleaning`` list.

        Operations named for a column are always listed; those of ``"*"`` only where they
        changed something, so a wide table does not list every text column.
        """
        return [
            op.to_dict() for op in self.operations if not op.from_star or op.changed or op.unparsed
        ]

    def find(self, column: str, operation: str) -> OperationReport:
        """The first step of ``operation`` on ``column``; ``KeyError`` when there is none."""
        for op in self.operations:
            if op.column == column and op.operation == operation:
                return op
        raise KeyError((column, operation))


# --- planning: which steps run on which column -------------------------------------------------


def _is_text(data_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(data_type):
        return _is_text(data_type.value_type)
    return bool(
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_string_view(data_type)
    )


def _already_parsed(op: CleaningOp, data_type: pa.DataType) -> bool:
    """Whether a parsing op meets a column of the type it produces (nothing left to do)."""
    if isinstance(op, BooleanOp):
        return bool(pa.types.is_boolean(data_type))
    if isinstance(op, DateOp):
        return bool(pa.types.is_date(data_type))
    if isinstance(op, TimestampOp):
        return bool(pa.types.is_timestamp(data_type))
    return False


@dataclass(frozen=True, slots=True)
class _Step:
    index: int  # position in the report and in the flag column names
    op: CleaningOp


@dataclass(frozen=True, slots=True)
class _Chain:
    """The steps of one column; ``slot`` is its position among the cleaned columns."""

    column: str
    position: int  # in the input schema
    slot: int
    steps: tuple[_Step, ...]

    @property
    def keeps_text(self) -> bool:
        return all(s.op.output_type is None for s in self.steps)


def _missing_column(column: str, schema: pa.Schema) -> ConfigError:
    names = schema.names
    same = [n for n in names if n.lower() == column.lower()]
    hint = f"Did you mean {same[0]!r}? " if same else ""
    return ConfigError(
        f"clean: column {column!r} is not in the rows",
        hint=f"{hint}The rows have: {', '.join(names) or 'no columns'}.",
    )


def _check_types(column: str, ops: tuple[CleaningOp, ...], data_type: pa.DataType) -> bool:
    """Raise when the column cannot take its first op; whether that op has nothing to do."""
    first = ops[0]
    if _already_parsed(first, data_type) and len(ops) == 1:
        return True
    if not (_is_text(data_type) or pa.types.is_null(data_type)):
        raise ConfigError(
            f"clean: `{first.name}` needs text, but column {column!r} is {data_type}",
            hint="Remove the operation, or read the column as text in the source.",
        )
    return False


def _plan(spec: CleaningSpec, schema: pa.Schema) -> tuple[list[_Chain], CleaningReport]:
    """The chains of the columns with operations, in schema order, and an empty report."""
    for column in spec.column_ops:
        if schema.get_field_index(column) < 0:
            if column in schema.names:
                raise ConfigError(f"clean: column {column!r} appears twice in the rows")
            raise _missing_column(column, schema)
    report = CleaningReport()
    chains: list[_Chain] = []
    for position, schema_field in enumerate(schema):
        name = schema_field.name
        star = spec.star_ops if _is_text(schema_field.type) else ()
        own = spec.column_ops.get(name, ())
        if not star + own:
            continue
        # A parsing op on a column that already has its type has nothing to do: the column
        # passes untouched (not even through DuckDB, which could change its Arrow type).
        identity = _check_types(name, own, schema_field.type) if own and not star else False
        steps: list[_Step] = []
        for i, op in enumerate(star + own):
            steps.append(_Step(len(report.operations), op))
            report.operations.append(
                OperationReport(name, op.name, from_star=i < len(star), parses=op.name in PARSING)
            )
        if not identity:
            chains.append(_Chain(name, position, len(chains), tuple(steps)))
    return chains, report


# --- the projection ----------------------------------------------------------------------------


def _name(kind: str, *numbers: int) -> str:
    """An internal column name; the batch's own names never reach the SQL."""
    return kind + "_".join(str(n) for n in numbers)


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _flags(step: _Step, before: str, after: str, examples: bool) -> list[exp.Expr]:
    """The flag columns of one finished step, computed one level after the step."""
    out: list[exp.Expr] = [
        exp.alias_(
            changed_flag(step.op, _col(before), _col(after)), _name("f", step.index), quoted=True
        )
    ]
    unparsed = unparsed_flag(step.op, _col(before), _col(after))
    if unparsed is not None:
        out.append(exp.alias_(unparsed, _name("u", step.index), quoted=True))
    if examples:
        # NULL where nothing changed: a step that rarely changes (and so keeps asking for
        # examples) costs almost nothing to hand back.
        for kind, value in (("xb", before), ("xa", after)):
            changed = changed_flag(step.op, _col(before), _col(after))
            kept = exp.Case().when(changed, _col(value)).else_(exp.null())
            out.append(exp.alias_(kept, _name(kind, step.index), quoted=True))
    return out


def _projection(chains: list[_Chain], source: str, examples: frozenset[int]) -> exp.Select:
    """The query that cleans a batch registered as ``source`` with columns ``i0``, ``i1``…

    Level ``k`` applies every column's ``k``-th step and computes the flags of its ``k-1``-th
    from that step's before and after columns, so no expression is evaluated twice. It returns
    ``o<slot>`` per cleaned column, ``f<step>`` (changed), ``u<step>`` (unparsed) and, for the
    steps in ``examples``, ``xb<step>``/``xa<step>`` (the values before and after).
    """
    depth = max(len(chain.steps) for chain in chains)
    query: exp.Select | None = None
    carried: list[str] = []
    for level in range(depth + 1):
        items: list[exp.Expr] = []
        fresh: list[str] = []
        for chain in chains:
            value = _name("i", chain.slot) if level == 0 else _name("v", chain.slot, level)
            if 0 < level <= len(chain.steps):
                done = chain.steps[level - 1]
                flags = _flags(done, _name("b", chain.slot, level), value, done.index in examples)
                items.extend(flags)
                fresh.extend(str(flag.alias) for flag in flags)
            out = _name("o", chain.slot) if level == depth else _name("v", chain.slot, level + 1)
            if level < len(chain.steps):
                step_sql = compile_op(chain.steps[level].op, _col(value))
                items.append(exp.alias_(step_sql, out, quoted=True))
            else:
                items.append(exp.alias_(_col(value), out, quoted=True))
            if level < len(chain.steps):
                items.append(
                    exp.alias_(_col(value), _name("b", chain.slot, level + 1), quoted=True)
                )
        items.extend(_col(name) for name in carried)
        carried.extend(fresh)
        base = exp.Table(this=exp.to_identifier(source, quoted=True))
        relation = base if query is None else query.subquery(copy=False)
        query = exp.select(*items, copy=False).from_(relation, copy=False)
    assert query is not None
    return query


# --- the cleaner -------------------------------------------------------------------------------

_SOURCE = "batch"
_CHUNK_ROWS = 8192


class Cleaner:
    """Applies a :class:`CleaningSpec` to streams of Arrow batches.

    >>> cleaner = Cleaner(CleaningSpec.model_validate({"name": ["trim"]}))
    >>> rows = pa.table({"name": pa.array([" Ann ", "Bo"])})
    >>> cleaner.apply(pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches())).read_all()[
    ...     "name"
    ... ].to_pylist()
    ['Ann', 'Bo']
    >>> cleaner.report.to_dicts()[0]["changed"]
    1
    """

    def __init__(self, spec: CleaningSpec) -> None:
        self._spec = spec
        self._con: duckdb.DuckDBPyConnection | None = None
        self._report = CleaningReport()
        self._queries: dict[frozenset[int], duckdb.DuckDBPyRelation] = {}

    @property
    def report(self) -> CleaningReport:
        """Counts and examples of the stream passed to the last :meth:`apply`, so far."""
        return self._report

    def close(self) -> None:
        """Close the private DuckDB connection (the next :meth:`apply` opens a new one)."""
        self._queries = {}
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Cleaner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            # Cleaning needs no extension; never let a batch trigger a download. Rows must come
            # back in the order they went in: untouched columns are zipped back by position.
            self._con = duckdb.connect(
                config={
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                    "preserve_insertion_order": True,
                }
            )
            # Timestamps read with %z come out in UTC, whatever the machine's zone.
            self._con.execute("SET TimeZone = 'UTC'")
        return self._con

    def output_schema(self, schema: pa.Schema) -> pa.Schema:
        """The schema of the cleaned rows; :class:`ConfigError` when the spec does not fit.

        Like :meth:`apply`, it starts :attr:`report` afresh (for a stream of this schema).
        """
        chains, self._report = _plan(self._spec, schema)
        self._queries = {}
        return self._output_schema(chains, schema)

    def apply(self, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        """The batches of ``reader`` cleaned, one batch in, one (or more) out, read lazily.

        The returned reader's schema is known at once; :attr:`report` starts afresh and grows
        as batches are read. Raises :class:`ConfigError` when a column is missing or has a type
        an operation cannot take.
        """
        chains, self._report = _plan(self._spec, reader.schema)
        self._queries = {}
        schema = self._output_schema(chains, reader.schema)
        return pa.RecordBatchReader.from_batches(schema, self._batches(reader, chains, schema))

    def _output_schema(self, chains: list[_Chain], schema: pa.Schema) -> pa.Schema:
        """Run the projection over no rows: DuckDB's answer is the type of each cleaned column."""
        if not chains:
            return schema
        result = self._run(chains, None, schema)
        fields = list(schema)
        for chain in chains:
            original = schema.field(chain.position)
            cleaned = result.schema.field(_name("o", chain.slot)).type
            # Text stays in the batch's own text type (large_string, string_view); DuckDB
            # hands back plain strings, and a dictionary comes back decoded.
            keep = (
                chain.keeps_text
                and _is_text(original.type)
                and not pa.types.is_dictionary(original.type)
            )
            new_type = original.type if keep else cleaned
            fields[chain.position] = original.with_type(new_type).with_nullable(True)
        return pa.schema(fields, metadata=schema.metadata)

    def _query(self, chains: list[_Chain], examples: frozenset[int]) -> duckdb.DuckDBPyRelation:
        """The projection as a relation over the registered batch, built once per example set.

        A relation runs its SQL afresh on each fetch, over whatever batch is registered then;
        reusing it skips parsing and binding the SQL again (half the cost of a small batch).
        There is one per set of steps still collecting examples: a handful over a stream.
        """
        query = self._queries.get(examples)
        if query is None:
            sql = _projection(chains, _SOURCE, examples).sql(dialect="duckdb")
            query = self._connection().sql(sql)
            self._queries[examples] = query
        return query

    def _run(
        self, chains: list[_Chain], batch: pa.RecordBatch | None, schema: pa.Schema
    ) -> pa.Table:
        """The projection over the cleaned columns of ``batch`` (or over no rows of ``schema``)."""
        wanted = frozenset(
            step.index
            for chain in chains
            for step in chain.steps
            if self._report.operations[step.index].wants_examples
        )
        rows = batch if batch is not None else schema.empty_table()
        inputs = pa.Table.from_arrays(
            [rows.column(c.position) for c in chains], names=[_name("i", c.slot) for c in chains]
        )
        # DuckDB's threads take Arrow chunks from a queue: a batch in one chunk is one thread's
        # work. Zero-copy slices let every thread help; the result keeps the rows' order.
        inputs = pa.Table.from_batches(inputs.to_batches(max_chunksize=_CHUNK_ROWS), inputs.schema)
        con = self._connection()
        con.register(_SOURCE, inputs)
        try:
            result: pa.Table = self._query(chains, wanted).to_arrow_table()
        except duckdb.Error as exc:
            columns = ", ".join(repr(c.column) for c in chains)
            if batch is None:
                raise ConfigError(
                    f"clean: the operations on {columns} cannot run: {exc}",
                    hint="Check `replace` patterns (RE2 syntax) and date formats.",
                ) from exc
            raise DataError(f"clean: a batch of {batch.num_rows} rows failed: {exc}") from exc
        finally:
            con.unregister(_SOURCE)
        return result

    def _batches(
        self, reader: pa.RecordBatchReader, chains: list[_Chain], schema: pa.Schema
    ) -> Iterator[pa.RecordBatch]:
        for batch in reader:
            self._report.rows += batch.num_rows
            if not chains:
                yield batch
                continue
            result = self._run(chains, batch, schema)
            self._tally(result)
            yield from _assemble(batch, chains, schema, result)

    def _tally(self, result: pa.Table) -> None:
        names = set(result.column_names)
        for entry_index, entry in enumerate(self._report.operations):
            flag = _name("f", entry_index)
            if flag not in names:
                continue  # a parsing op on a column of its type: the column was not cleaned
            entry.changed += _count(result.column(flag))
            unparsed = _name("u", entry_index)
            if unparsed in names:
                entry.unparsed += _count(result.column(unparsed))
            before, after = _name("xb", entry_index), _name("xa", entry_index)
            if before in names and entry.wants_examples:
                _collect_examples(entry, result.select([flag, before, after]))


def _count(flags: pa.ChunkedArray) -> int:
    total = pc.sum(flags).as_py()
    return int(total or 0)


# How many flagged rows of a batch are looked at for examples: enough to find a few distinct
# values, few enough that a batch where everything changed costs nothing.
_EXAMPLE_SCAN = 64


def _collect_examples(entry: OperationReport, flagged: pa.Table) -> None:
    """Add the first changed values of a batch (columns: flag, before, after) as examples."""
    for rows in flagged.to_batches():
        hits = pc.indices_nonzero(rows.column(0))[:_EXAMPLE_SCAN]
        if len(hits) == 0:
            continue
        befores = rows.column(1).take(hits).to_pylist()
        afters = rows.column(2).take(hits).to_pylist()
        for before, after in zip(befores, afters, strict=True):
            entry.add_example(before, after)
        if not entry.wants_examples:
            return


def _assemble(
    batch: pa.RecordBatch, chains: list[_Chain], schema: pa.Schema, result: pa.Table
) -> Iterator[pa.RecordBatch]:
    """Output batches: cleaned columns from ``result``, the others sliced from ``batch``."""
    by_position = {chain.position: chain for chain in chains}
    offset = 0
    for chunk in result.to_batches():
        length = chunk.num_rows
        arrays: list[pa.Array] = []
        for position, out_field in enumerate(schema):
            chain = by_position.get(position)
            if chain is None:
                arrays.append(batch.column(position).slice(offset, length))
                continue
            cleaned = chunk.column(_name("o", chain.slot))
            if cleaned.type != out_field.type:
                cleaned = cleaned.cast(out_field.type)
            arrays.append(cleaned)
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        offset += length
    if offset != batch.num_rows:  # pragma: no cover - DuckDB returns every row of a projection
        raise DataError(f"clean: {batch.num_rows} rows went in, {offset} came out")
