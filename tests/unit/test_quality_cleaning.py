"""Cleaning operations on DuckDB: values, counts per step, examples, streaming, dedupe, errors.

Expected values are written out by hand (table-driven) or computed in plain Python (the
hypothesis tests); the US state spellings are checked against every variant the demo generator
writes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from sluiceway.core.errors import ConfigError
from sluiceway.core.us_states import BY_CODE, SPELLINGS, US_STATES, spelling_key, state_code
from sluiceway.demo import vocab
from sluiceway.quality.cleaning import (
    EXAMPLES,
    WHITESPACE,
    Cleaner,
    CleaningReport,
    compile_op,
    compile_ops,
    dedupe_query,
)
from sluiceway.quality.sql import DuckDBRunner
from sluiceway.spec.cleaning import CleaningSpec, DedupeSpec

pytestmark = pytest.mark.unit

# --- helpers -----------------------------------------------------------------------------------


def reader_of(table: pa.Table, batch_rows: int | None = None) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(batch_rows))


def clean(
    spec: dict[str, Any], table: pa.Table, batch_rows: int | None = None
) -> tuple[pa.Table, CleaningReport]:
    """``table`` cleaned by ``spec``, and the report."""
    with Cleaner(CleaningSpec.model_validate(spec)) as cleaner:
        out = cleaner.apply(reader_of(table, batch_rows)).read_all()
        return out, cleaner.report


def text_table(**columns: Sequence[str | None]) -> pa.Table:
    return pa.table({name: pa.array(list(values), pa.string()) for name, values in columns.items()})


def clean_values(ops: list[Any], values: Sequence[str | None]) -> list[Any]:
    out, _ = clean({"v": ops}, text_table(v=values))
    return list(out["v"].to_pylist())


def op_of(written: Any) -> Any:
    return CleaningSpec.model_validate({"c": [written]}).root["c"][0]


# --- every operation, value by value -----------------------------------------------------------

NBSP = "\u00a0"

CASES: list[tuple[Any, list[tuple[str | None, Any]]]] = [
    (
        "trim",
        [
            (" a ", "a"),
            ("\ta\n", "a"),
            (f"{NBSP}a{NBSP}", "a"),
            ("\r\n a b \x0b\x0c", "a b"),
            ("a", "a"),
            ("", ""),
            ("   ", ""),
            (None, None),
        ],
    ),
    (
        "collapse_whitespace",
        [
            ("a  b", "a b"),
            ("a\tb", "a b"),
            (f"a \n{NBSP} b", "a b"),
            (" a ", " a "),
            ("  a", " a"),
            ("ab", "ab"),
            (None, None),
        ],
    ),
    ("lower", [("AbC É", "abc é"), ("", ""), (None, None)]),
    ("upper", [("AbC é", "ABC É"), (None, None)]),
    (
        "title",
        [
            ("john smith", "John Smith"),
            ("JOHN", "John"),
            ("o'neil", "O'Neil"),
            ("mary-jane  ANN", "Mary-Jane  Ann"),
            ("3rd street", "3rd Street"),
            ("élise", "Élise"),
            ("ÉCOLE normale", "École Normale"),
            ("ΑΘΗΝΑ", "Αθηνα"),
            ("мОСКВА", "Москва"),
            ("  x", "  X"),
            ("a.b,c", "A.B,C"),
            ("", ""),
            (None, None),
        ],
    ),
    (
        "null_tokens",
        [
            ("", None),
            ("N/A", None),
            (" NA ", None),
            ("n/a", None),
            ("null", None),
            ("NULL", None),
            ("None", None),
            ("-", None),
            ("   ", None),
            ("none", "none"),
            ("N/A x", "N/A x"),
            ("--", "--"),
            ("x", "x"),
            (None, None),
        ],
    ),
    (
        {"null_tokens": ["?", "unknown", "a.b"]},
        [("?", None), (" unknown", None), ("a.b", None), ("axb", "axb"), ("N/A", "N/A"), ("", "")],
    ),
    (
        "us_state",
        [
            ("calif.", "CA"),
            ("California", "CA"),
            ("N.Y.", "NY"),
            ("ny", "NY"),
            ("W. Va.", "WV"),
            ("w.va.", "WV"),
            ("west\tvirginia", "WV"),
            ("washington", "WA"),
            ("Washington, D.C.", "DC"),
            ("d.c.", "DC"),
            ("Puerto Rico", "PR"),
            ("u.s. virgin islands", "VI"),
            ("guam", "GU"),
            ("CA", "CA"),
            ("Atlantis", "Atlantis"),
            ("CA|NY", "CA|NY"),
            ("XX", "XX"),
            ("", ""),
            (None, None),
        ],
    ),
    ("email", [(" Ann@X.COM ", "ann@x.com"), ("bo@y.org", "bo@y.org"), ("", ""), (None, None)]),
    (
        "phone",
        [
            ("(555) 234-5678", "+15552345678"),
            ("555.234.5678", "+15552345678"),
            ("+1 555 234 5678", "+15552345678"),
            ("1-555-234-5678", "+15552345678"),
            ("+1 (555) 234-5678", "+15552345678"),
            ("5552345678", "+15552345678"),
            ("15552345678", "+15552345678"),
            ("+15552345678", "+15552345678"),
            (" 555/234/5678 ", "+15552345678"),
            ("555-234-5678 ext 4", "555-234-5678 ext 4"),
            ("12345", "12345"),
            ("+44 20 7946 0958", "+44 20 7946 0958"),
            ("055-234-5678", "055-234-5678"),
            ("555-034-5678", "555-034-5678"),
            ("call me", "call me"),
            ("", ""),
            (None, None),
        ],
    ),
    (
        "boolean",
        [
            ("Y", True),
            ("n", False),
            (" yes ", True),
            ("No", False),
            ("TRUE", True),
            ("false", False),
            ("t", True),
            ("F", False),
            ("1", True),
            ("0", False),
            ("maybe", None),
            ("yes please", None),
            ("", None),
            (None, None),
        ],
    ),
    (
        {"date": {"formats": ["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y"]}},
        [
            ("2024-01-02", dt.date(2024, 1, 2)),
            ("01/03/2024", dt.date(2024, 1, 3)),
            ("04.01.2024", dt.date(2024, 1, 4)),
            (" 2024-02-29 ", dt.date(2024, 2, 29)),
            ("2023-02-29", None),
            ("2024-01-02 10:00", None),
            ("junk", None),
            (None, None),
        ],
    ),
    (
        "timestamp",
        [
            ("2024-01-02 03:04:05", dt.datetime(2024, 1, 2, 3, 4, 5)),
            ("2024-01-02T03:04:05.25", dt.datetime(2024, 1, 2, 3, 4, 5, 250000)),
            ("2024-01-02", None),
            (None, None),
        ],
    ),
    (
        {"replace": {"pattern": "[0-9]+", "with": "#"}},
        [("a1b22", "a#b#"), ("abc", "abc"), (None, None)],
    ),
    (
        {"replace": {"pattern": "^(\\w+)@(\\w+)$", "with": "\\2 at \\1"}},
        [("ann@host", "host at ann"), ("no at sign", "no at sign")],
    ),
]


@pytest.mark.parametrize(("written", "pairs"), CASES, ids=[json.dumps(w) for w, _ in CASES])
def test_each_operation_on_duckdb(written: Any, pairs: list[tuple[str | None, Any]]) -> None:
    values = [before for before, _ in pairs]
    assert clean_values([written], values) == [after for _, after in pairs]


def test_timestamps_read_with_a_zone_are_utc() -> None:
    out, _ = clean(
        {"at": [{"timestamp": ["%Y-%m-%d %H:%M:%S %z"]}]},
        text_table(at=["2024-01-02 03:04:05 +0200", "nope"]),
    )
    assert out.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert out["at"].to_pylist() == [dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=dt.UTC), None]


# --- US states ---------------------------------------------------------------------------------


def test_every_demo_variant_maps_back_to_its_code() -> None:
    variants = [(v, s.code) for s in vocab.STATES for v in vocab.state_variants(s)]
    assert len(variants) > 300
    cleaned = clean_values(["us_state"], [v for v, _ in variants])
    wrong = [
        (v, code, got) for (v, code), got in zip(variants, cleaned, strict=True) if got != code
    ]
    assert wrong == []


def test_every_spelling_in_any_case_and_padding_maps_to_its_code() -> None:
    typed: list[tuple[str, str]] = []
    for place in US_STATES:
        for spelling in place.spellings():
            for text in (spelling, spelling.lower(), spelling.upper(), f"  {spelling}\t"):
                typed.append((text, place.code))
            typed.append((spelling.replace(".", ""), place.code))
    cleaned = clean_values(["us_state"], [t for t, _ in typed])
    assert cleaned == [code for _, code in typed]


def test_state_reference_data() -> None:
    assert len([s for s in US_STATES if s.kind == "state"]) == 50
    assert {s.code for s in US_STATES if s.kind != "state"} == {"DC", "AS", "GU", "MP", "PR", "VI"}
    assert len({s.code for s in US_STATES}) == len(US_STATES) == 56
    assert BY_CODE["CA"].ap_abbr == "Calif."
    assert BY_CODE["TX"].ap_abbr is None
    assert state_code(" n.y. ") == "NY"
    assert state_code("W. Va.") == "WV"
    assert state_code("Atlantis") is None
    assert spelling_key(" new\u00a0york. ") == "NEWYORK"
    # Every key maps to one code: the spellings of the places, and nothing else.
    expected = {spelling_key(sp): s.code for s in US_STATES for sp in s.spellings()}
    assert dict(SPELLINGS) == expected
    # The demo's reference data comes from here, unchanged.
    for state in vocab.STATES:
        assert (state.name, state.ap_abbr) == (
            BY_CODE[state.code].name,
            BY_CODE[state.code].ap_abbr,
        )


# --- the two forms of title case and us_state agree -------------------------------------------


def run_duckdb(select: exp.Select) -> list[Any]:
    con = duckdb.connect()
    try:
        return list(DuckDBRunner(con).fetch(select).column(0).to_pylist())
    finally:
        con.close()


def values_source(values: Sequence[str | None]) -> exp.Expr:
    rows = [
        exp.Tuple(
            expressions=[
                exp.Literal.number(i),
                exp.Literal.string(v) if v is not None else exp.cast(exp.null(), "VARCHAR"),
            ]
        )
        for i, v in enumerate(values)
    ]
    return exp.values(rows, alias="t", columns=["id", "x"])


def both_forms(written: Any, values: Sequence[str | None]) -> tuple[list[Any], list[Any]]:
    """The DuckDB form and the portable form of one op, both run on DuckDB."""
    op = op_of(written)
    x = exp.column("x", quoted=True)
    results = []
    for dialect in ("duckdb", "postgres"):
        select = (
            exp.select(compile_op(op, x, dialect=dialect).as_("y", quoted=True))
            .from_(values_source(values))
            .order_by(exp.column("id", quoted=True))
        )
        results.append(run_duckdb(select))
    return results[0], results[1]


def test_the_portable_us_state_form_gives_the_duckdb_answers() -> None:
    values = [*SPELLINGS, *(k.lower() for k in SPELLINGS), "W. Va.", " n.y.", "Atlantis", "", None]
    duckdb_form, portable = both_forms("us_state", values)
    assert duckdb_form == portable
    assert duckdb_form[: len(SPELLINGS)] == list(SPELLINGS.values())


def test_the_portable_title_form_gives_the_duckdb_answers_on_ascii() -> None:
    values = ["john smith", "o'NEIL", "mary-jane", "3rd st.", "x_y z", "  lead", "A1B2", "", None]
    duckdb_form, portable = both_forms("title", values)
    assert (
        duckdb_form
        == portable
        == [
            "John Smith",
            "O'Neil",
            "Mary-Jane",
            "3rd St.",
            "X_Y Z",
            "  Lead",
            "A1b2",
            "",
            None,
        ]
    )


def test_title_and_us_state_render_natively_elsewhere() -> None:
    x = exp.column("x", quoted=True)
    assert compile_op(op_of("title"), x, dialect="postgres").sql("postgres") == 'INITCAP("x")'
    assert "INITCAP" not in compile_op(op_of("title"), x).sql("duckdb")
    portable = compile_op(op_of("us_state"), x, dialect="postgres").sql("postgres")
    assert portable.startswith("CASE UPPER(")
    assert "WHEN 'CALIF' THEN 'CA'" in portable


def test_date_parsing_is_duckdb_only() -> None:
    x = exp.column("x", quoted=True)
    for written in ("date", "timestamp"):
        with pytest.raises(ConfigError, match=f"the `{written}` cleaning operation runs in DuckDB"):
            compile_op(op_of(written), x, dialect="postgres")
        compile_op(op_of(written), x)  # fine in DuckDB


def test_compile_ops_nests_in_order() -> None:
    x = exp.column("x", quoted=True)
    ops = [op_of("trim"), op_of("upper")]
    select = exp.select(compile_ops(ops, x).as_("y")).from_(values_source(["  ab "]))
    assert run_duckdb(select) == ["AB"]


# --- counts and examples -----------------------------------------------------------------------


def test_each_step_of_a_chain_counts_its_own_changes() -> None:
    values = [" A ", "b", " c", "D", None, "e"]
    out, report = clean({"v": ["trim", "lower"]}, text_table(v=values))
    assert out["v"].to_pylist() == ["a", "b", "c", "d", None, "e"]
    trim, lower = report.to_dicts()
    assert (trim["operation"], trim["changed"]) == ("trim", 2)  # " A ", " c"
    assert (lower["operation"], lower["changed"]) == ("lower", 2)  # "A", "D"
    # The examples show each step's own before and after, not the column's original value.
    assert trim["examples"] == [{"before": " A ", "after": "A"}, {"before": " c", "after": "c"}]
    assert lower["examples"] == [{"before": "A", "after": "a"}, {"before": "D", "after": "d"}]


def test_counts_match_a_python_reference() -> None:
    values = [f"{' ' * (i % 3)}Name{i % 7}{' ' * (i % 2)}" if i % 11 else None for i in range(500)]
    _, report = clean({"v": ["trim", "upper"]}, text_table(v=values), batch_rows=37)
    trimmed = [v.strip(WHITESPACE) if v is not None else None for v in values]
    expected_trim = sum(1 for v, t in zip(values, trimmed, strict=True) if v != t)
    expected_upper = sum(1 for t in trimmed if t is not None and t != t.upper())
    assert report.find("v", "trim").changed == expected_trim
    assert report.find("v", "upper").changed == expected_upper
    assert report.rows == 500


def test_examples_are_the_first_distinct_changes_and_at_most_five() -> None:
    values = ["N/A", "x", "N/A", "-", "", "null", "NA", "None", "NULL", "n/a"]
    _, report = clean({"v": ["null_tokens"]}, text_table(v=values), batch_rows=3)
    (entry,) = report.to_dicts()
    assert entry["changed"] == 9
    assert len(entry["examples"]) == EXAMPLES == 5
    assert [e["before"] for e in entry["examples"]] == ["N/A", "-", "", "null", "NA"]
    assert all(e["after"] is None for e in entry["examples"])


def test_examples_found_in_a_late_batch() -> None:
    values = ["ok"] * 50 + [" late "]
    _, report = clean({"v": ["trim"]}, text_table(v=values), batch_rows=10)
    assert report.find("v", "trim").examples == [(" late ", "late")]


def test_report_shape_and_unparsed_counts() -> None:
    table = text_table(
        flag=["Y", "maybe", "", None, "no"],
        day=["2024-01-02", "soon", "  ", "2024/01/02", None],
        phone=["555 234 5678", "12345", "", None, "+15552345678"],
        name=[" a", "b", None, "c", "d"],
    )
    spec = {"flag": ["boolean"], "day": ["date"], "phone": ["phone"], "name": ["trim"]}
    out, report = clean(spec, table)
    entries = {e["column"]: e for e in report.to_dicts()}
    assert set(entries["name"]) == {"column", "operation", "changed", "examples"}
    for column in ("flag", "day", "phone"):
        assert set(entries[column]) == {"column", "operation", "changed", "examples", "unparsed"}
    # Blank text reads as NULL and is not "unparsed"; it did change ("" -> NULL).
    # "Y" reads as true, whose text is "true": a change; "maybe" and "" became NULL.
    assert (entries["flag"]["changed"], entries["flag"]["unparsed"]) == (4, 1)
    assert (entries["day"]["changed"], entries["day"]["unparsed"]) == (3, 2)
    assert entries["day"]["examples"][0] == {"before": "soon", "after": None}
    assert (entries["phone"]["changed"], entries["phone"]["unparsed"]) == (1, 1)
    assert entries["phone"]["examples"] == [{"before": "555 234 5678", "after": "+15552345678"}]
    assert out["day"].to_pylist() == [dt.date(2024, 1, 2), None, None, None, None]
    json.dumps(report.to_dicts())  # JSON-serialisable, dates included

    _, dated = clean({"day": ["date"]}, text_table(day=["2024-01-02"]))
    assert dated.to_dicts()[0]["examples"] == []  # "2024-01-02" reads back as itself
    _, dated = clean({"day": [{"date": ["%d/%m/%Y"]}]}, text_table(day=["02/01/2024"]))
    assert dated.to_dicts()[0]["examples"] == [{"before": "02/01/2024", "after": "2024-01-02"}]


# --- star operations ---------------------------------------------------------------------------


def test_star_applies_to_text_columns_before_their_own_operations() -> None:
    table = pa.table(
        {
            "n": pa.array([1, 2, 3]),
            "a": pa.array(["N/A", "x", ""]),
            "b": pa.array(["", "y", "z"]),
            "clean": pa.array(["p", "q", "r"]),
        }
    )
    # If the star ran after `b`'s replace, "" would become "EMPTY" instead of NULL.
    spec = {"*": ["null_tokens"], "b": [{"replace": {"pattern": "^$", "with": "EMPTY"}}]}
    out, report = clean(spec, table)
    assert out.to_pydict() == {
        "n": [1, 2, 3],
        "a": [None, "x", None],
        "b": [None, "y", "z"],
        "clean": ["p", "q", "r"],
    }
    listed = [(e["column"], e["operation"], e["changed"]) for e in report.to_dicts()]
    # A star step that changed nothing ("clean") is left out; a column's own step never is.
    assert listed == [("a", "null_tokens", 2), ("b", "null_tokens", 1), ("b", "replace", 0)]
    assert report.find("clean", "null_tokens").changed == 0
    with pytest.raises(KeyError):
        report.find("n", "null_tokens")


# --- streaming and types -----------------------------------------------------------------------


def test_streams_batch_by_batch_with_the_schema_known_upfront() -> None:
    table = text_table(v=[f" v{i} " if i % 2 else f"V{i}" for i in range(100)])
    pulled: list[int] = []

    def batches() -> Iterator[pa.RecordBatch]:
        for index, batch in enumerate(table.to_batches(max_chunksize=30)):
            pulled.append(index)
            yield batch

    cleaner = Cleaner(CleaningSpec.model_validate({"v": ["trim", "lower"]}))
    reader = cleaner.apply(pa.RecordBatchReader.from_batches(table.schema, batches()))
    assert reader.schema == pa.schema([pa.field("v", pa.string())])
    assert pulled == []  # nothing read yet
    first = reader.read_next_batch()
    assert first.num_rows == 30
    assert pulled == [0]
    assert cleaner.report.rows == 30
    rest = list(reader)
    assert [b.num_rows for b in rest] == [30, 30, 10]
    assert pulled == [0, 1, 2, 3]
    cleaned = pa.Table.from_batches([first, *rest])["v"].to_pylist()
    assert cleaned == [f"v{i}" for i in range(100)]
    assert cleaner.report.find("v", "trim").changed == 50
    assert cleaner.report.find("v", "lower").changed == 50
    cleaner.close()


def test_a_new_apply_starts_a_new_report() -> None:
    with Cleaner(CleaningSpec.model_validate({"v": ["trim"]})) as cleaner:
        cleaner.apply(reader_of(text_table(v=[" a"]))).read_all()
        assert cleaner.report.find("v", "trim").changed == 1
        cleaner.apply(reader_of(text_table(v=["b", " c", " d"]))).read_all()
        assert cleaner.report.find("v", "trim").changed == 2
        assert cleaner.report.rows == 3


def test_types_and_untouched_columns_are_kept() -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "big": pa.array([" a", "b ", None], pa.large_string()),
            "view": pa.array([" a", "b", "c"], pa.string_view()),
            "dict": pa.array([" x", "y", " x"]).dictionary_encode(),
            "flag": pa.array(["y", "n", None]),
            "when": pa.array(["2024-01-01", None, "x"]),
            "nums": pa.array([[1], [2, 3], None], pa.list_(pa.int64())),
            "empty": pa.nulls(3),
        }
    )
    spec = {
        "big": ["trim"],
        "view": ["trim"],
        "dict": ["trim"],
        "flag": ["boolean"],
        "when": ["date"],
        "empty": ["trim"],
    }
    out, _ = clean(spec, table)
    assert out.schema.names == table.schema.names
    assert [str(f.type) for f in out.schema] == [
        "int32",
        "large_string",
        "string_view",
        "string",
        "bool",
        "date32[day]",
        "list<item: int64>",
        "string",
    ]
    assert out["id"].equals(table["id"])
    assert out["nums"].equals(table["nums"])
    assert out["big"].to_pylist() == ["a", "b", None]
    assert out["dict"].to_pylist() == ["x", "y", "x"]
    assert out["empty"].to_pylist() == [None, None, None]


def test_a_parsing_op_on_a_column_of_its_type_passes_it_through() -> None:
    table = pa.table(
        {
            "flag": pa.array([True, None]),
            "day": pa.array([dt.date(2024, 1, 1), None]),
            "at": pa.array([1, 2], pa.timestamp("ns", tz="Europe/Paris")),
        }
    )
    out, report = clean({"flag": ["boolean"], "day": ["date"], "at": ["timestamp"]}, table)
    assert out.equals(table)
    assert [(e["changed"], e["unparsed"]) for e in report.to_dicts()] == [(0, 0)] * 3


def test_a_table_without_text_passes_through() -> None:
    table = pa.table({"n": pa.array([1, 2])})
    out, report = clean({"*": ["trim"]}, table, batch_rows=1)
    assert out.equals(table)
    assert report.to_dicts() == []
    assert report.rows == 2


def test_empty_batches_and_streams() -> None:
    table = text_table(v=[" a"])
    empty = table.schema.empty_table()
    with Cleaner(CleaningSpec.model_validate({"v": ["trim"]})) as cleaner:
        assert cleaner.apply(reader_of(empty)).read_all().num_rows == 0
        batches = [
            *empty.to_batches(),
            *table.to_batches(),
            pa.RecordBatch.from_pylist([], table.schema),
        ]
        out = cleaner.apply(pa.RecordBatchReader.from_batches(table.schema, batches)).read_all()
        assert out["v"].to_pylist() == ["a"]
        assert cleaner.output_schema(table.schema) == table.schema


# --- errors ------------------------------------------------------------------------------------


def test_a_missing_column_is_named_with_the_columns_there_are() -> None:
    table = text_table(Email=["a"], name=["b"])
    cleaner = Cleaner(CleaningSpec.model_validate({"email": ["email"]}))
    with pytest.raises(ConfigError) as caught:
        cleaner.apply(reader_of(table))
    assert caught.value.message == "clean: column 'email' is not in the rows"
    assert caught.value.hint == "Did you mean 'Email'? The rows have: Email, name."


def test_a_text_operation_on_a_number_column_is_refused() -> None:
    table = pa.table({"id": pa.array([1])})
    with pytest.raises(ConfigError, match="`trim` needs text, but column 'id' is int64"):
        Cleaner(CleaningSpec.model_validate({"id": ["trim"]})).apply(reader_of(table))
    flags = pa.table({"flag": pa.array([True])})
    with pytest.raises(ConfigError, match="`trim` needs text, but column 'flag' is bool"):
        Cleaner(CleaningSpec.model_validate({"flag": ["trim", "boolean"]})).apply(reader_of(flags))


def test_a_bad_regex_is_a_config_error_before_any_row_is_read() -> None:
    spec = CleaningSpec.model_validate({"v": [{"replace": {"pattern": "(", "with": ""}}]})
    with pytest.raises(ConfigError, match="clean: the operations on 'v' cannot run"):
        Cleaner(spec).apply(reader_of(text_table(v=["a"])))


# --- dedupe ------------------------------------------------------------------------------------

ROW = tuple[int, int | None, int]  # key, updated_at, seq


def reference_dedupe(rows: list[ROW], keep: str, by_order: bool) -> set[ROW]:
    """One row per key, picked in plain Python."""
    best: dict[int, ROW] = {}
    for row in rows:
        key, updated, seq = row
        current = best.get(key)
        if current is None:
            best[key] = row
            continue
        if keep == "last":
            rank = ((updated is not None, updated or 0) if by_order else ()) + (seq,)
            old = ((current[1] is not None, current[1] or 0) if by_order else ()) + (current[2],)
            better = rank > old
        else:
            rank = ((updated is None, updated or 0) if by_order else ()) + (seq,)
            old = ((current[1] is None, current[1] or 0) if by_order else ()) + (current[2],)
            better = rank < old
        if better:
            best[key] = row
    return set(best.values())


def table_named(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def run_dedupe(rows: list[ROW], spec: DedupeSpec, seq: str | None) -> set[ROW]:
    con = duckdb.connect()
    try:
        con.execute('CREATE TABLE "staged" ("k" INTEGER, "updated_at" INTEGER, "seq" INTEGER)')
        con.executemany('INSERT INTO "staged" VALUES (?, ?, ?)', rows)
        query = dedupe_query(table_named("staged"), spec, seq)
        table = DuckDBRunner(con).fetch(query)
    finally:
        con.close()
    keys = table["k"].to_pylist()
    assert len(keys) == len(set(keys))  # one row per key
    return set(zip(keys, table["updated_at"].to_pylist(), table["seq"].to_pylist(), strict=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    updated=st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=1, max_size=25),
    keys=st.lists(st.integers(0, 3), min_size=25, max_size=25),
    keep=st.sampled_from(["last", "first"]),
    by_order=st.booleans(),
)
def test_dedupe_matches_a_python_reference(
    updated: list[int | None], keys: list[int], keep: str, by_order: bool
) -> None:
    rows: list[ROW] = [(keys[i], u, i) for i, u in enumerate(updated)]
    spec = DedupeSpec.model_validate(
        {"key": ["k"], "keep": keep, **({"order_by": "updated_at"} if by_order else {})}
    )
    assert run_dedupe(rows, spec, "seq") == reference_dedupe(rows, keep, by_order)


def test_dedupe_without_arrival_order_uses_order_by_alone() -> None:
    rows: list[ROW] = [(1, 5, 0), (1, 9, 1), (1, None, 2), (2, None, 3)]
    spec = DedupeSpec.model_validate({"key": ["k"], "order_by": "updated_at"})
    assert run_dedupe(rows, spec, None) == {(1, 9, 1), (2, None, 3)}


def test_dedupe_sql_and_its_error() -> None:
    spec = DedupeSpec.model_validate({"key": ["k", "r"], "order_by": "u"})
    sql = dedupe_query(table_named("t"), spec, "seq").sql("postgres")
    assert sql == (
        'SELECT DISTINCT ON ("k", "r") * FROM "t" ORDER BY "k" ASC, "r" ASC, '
        '"u" DESC NULLS LAST, "seq" DESC NULLS LAST'
    )
    with pytest.raises(ConfigError, match="dedupe has no `order_by`"):
        dedupe_query(table_named("t"), DedupeSpec.model_validate({"key": ["k"]}), None)


# --- properties --------------------------------------------------------------------------------

_CHARS = st.sampled_from(
    [*"abcxyzABCXYZ019.,'-/()@ \t\n", NBSP, "é", "É", "ß", "ø", "Ø", "ñ", "\u03b1", "Ж"]
)
_TEXT = st.one_of(
    st.none(),
    st.text(_CHARS, max_size=12),
    st.sampled_from([*SPELLINGS, "calif.", " n.y. ", "W. Va.", "New  York"]),
)
IDEMPOTENT = ["trim", "collapse_whitespace", "lower", "upper", "title", "email", "us_state"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TEXT, min_size=1, max_size=30))
def test_cleaning_clean_data_changes_nothing(values: list[str | None]) -> None:
    table = text_table(**{op: values for op in IDEMPOTENT})
    spec = {op: [op] for op in IDEMPOTENT}
    once, _ = clean(spec, table)
    twice, report = clean(spec, once)
    assert twice.equals(once)
    assert all(entry["changed"] == 0 for entry in report.to_dicts())


_ASCII = st.text(st.sampled_from([*"abXY.-/ \t\n", NBSP, "N", "A"]), max_size=10)


def py_trim(value: str | None) -> str | None:
    return None if value is None else value.strip(WHITESPACE)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.none(), _ASCII, st.sampled_from(["N/A", " NA ", "-", ""])), max_size=30)
)
def test_text_operations_match_python(values: list[str | None]) -> None:
    names = ["trim", "collapse_whitespace", "email", "null_tokens", "us_state"]
    out, report = clean({n: [n] for n in names}, text_table(**{n: values for n in names}))
    whitespace_run = re.compile(f"[{WHITESPACE}]+")
    expected: dict[str, list[str | None]] = {
        "trim": [py_trim(v) for v in values],
        "collapse_whitespace": [None if v is None else whitespace_run.sub(" ", v) for v in values],
        "email": [None if v is None else v.strip(WHITESPACE).lower() for v in values],
        "null_tokens": [
            None if py_trim(v) in {"", "N/A", "NA", "n/a", "null", "NULL", "None", "-"} else v
            for v in values
        ],
        "us_state": [None if v is None else state_code(v) or v for v in values],
    }
    for name in names:
        assert out[name].to_pylist() == expected[name], name
        changed = sum(1 for v, e in zip(values, expected[name], strict=True) if v != e)
        assert report.find(name, name).changed == changed, name


_DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), st.sampled_from(_DATE_FORMATS)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_dates_read_back_what_python_wrote(written: list[tuple[dt.date, str]]) -> None:
    texts = [day.strftime(fmt) for day, fmt in written]
    cleaned = clean_values([{"date": {"formats": _DATE_FORMATS}}], texts)
    assert cleaned == [day for day, _ in written]
