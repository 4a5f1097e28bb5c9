"""check_table: every rule kind against a small table whose answers are counted by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from sluiceway.quality.check import check_table
from sluiceway.quality.sql import DuckDBRunner

pytestmark = pytest.mark.unit

ROWS = [
    # id, cid, email, amount, status, zip, ts
    (1, 10, "a@b.com", 5.0, "paid", "12345", datetime(2026, 11, 22, 10, tzinfo=UTC)),
    (2, None, "bad", -1.0, "zzz", "1234", datetime(2026, 11, 20, 10, tzinfo=UTC)),
    (2, 11, None, 200000.0, "paid", "12345-6789", None),
    (3, 99, "x@y.org", 7.0, None, None, datetime(2026, 11, 21, 10, tzinfo=UTC)),
    (4, 10, "c@d.net", 6.0, "shipped", "54321", datetime(2026, 11, 21, 11, tzinfo=UTC)),
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE orders (id INT, cid INT, email VARCHAR, amount DOUBLE, status VARCHAR, "
        "zip VARCHAR, ts TIMESTAMPTZ)"
    )
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)", ROWS)
    con.execute("CREATE TABLE customers AS SELECT * FROM (VALUES (10), (11)) t(cid)")
    return con


def test_every_rule_counts_what_a_person_counts(con: duckdb.DuckDBPyConnection) -> None:
    rules = [
        {"rule": "not_null", "column": "cid"},
        {"rule": "unique", "columns": ["id"]},
        {"rule": "range", "column": "amount", "min": 0, "max": 100000},
        {
            "rule": "range",
            "id": "amount_open",
            "column": "amount",
            "min": 5,
            "min_inclusive": False,
        },
        {"rule": "accepted_values", "column": "status", "values": ["paid", "shipped"]},
        {"rule": "format", "column": "email", "format": "email"},
        {"rule": "format", "column": "zip", "format": "zip_us"},
        {"rule": "length", "column": "zip", "min": 5, "max": 5},
        {"rule": "regex", "column": "status", "pattern": "^[a-z]+$"},
        {"rule": "foreign_key", "column": "cid", "references": "customers.cid"},
        {"rule": "expression", "id": "small", "expression": "amount < 100"},
        {
            "rule": "expression",
            "id": "known_customer_id_small",
            "expression": "c.cid < 11",
            "join": {"table": "customers", "alias": "c", "on": "c.cid = orders.cid"},
        },
        {"rule": "completeness", "column": "email", "max_null_share": 0.1},
        {"rule": "row_count", "min": 6},
        {"rule": "outliers", "column": "amount", "method": "iqr"},
        {
            "rule": "consistency",
            "id": "sum_matches",
            "left": {"key": ["cid"], "value": "sum(amount)"},
            "right": {"table": "customers", "key": ["cid"], "value": "cid * 1.0"},
            "tolerance": 1,
        },
    ]
    out = check_table(DuckDBRunner(con), "orders", rules)
    failing = {r.rule_id: r.failing for r in out.results}
    assert failing == {
        "cid_not_null": 1,
        "id_unique": 1,
        "amount_range": 2,  # -1 and 200000
        "amount_open": 2,  # -1 and 5.0 (exclusive)
        "status_accepted_values": 1,  # zzz; NULL passes
        "email_format": 1,
        "zip_format": 1,
        "zip_length": 2,
        "status_regex": 0,
        "cid_foreign_key": 1,  # 99; NULL passes
        "small": 1,
        "known_customer_id_small": 1,  # cid 11 joins and is not < 11
        "email_completeness": 1,
        "row_count": 1,
        "amount_outliers": 2,  # q1 = 5, q3 = 7: the band [2, 10] excludes -1 and 200000
        # cid 10: 5 + 6 = 11 against 10, within the tolerance; cid 11: 200000 against 11;
        # cid 99 has no right side and `missing: ignore` (the default) skips it
        "sum_matches": 1,
    }
    assert out.result("email_completeness").observed == pytest.approx(0.2)
    assert not out.result("email_completeness").passed
    assert out.result("status_regex").passed
    assert out.result("id_unique").sample == [{"id": 2, "rows": 2}]
    assert out.result("sum_matches").sample == [
        {"cid": 11, "left_value": 200000.0, "right_value": 11.0}
    ]
    assert out.result("cid_foreign_key").sample[0]["cid"] == 99


def test_freshness_compares_the_newest_value_with_now(con: duckdb.DuckDBPyConnection) -> None:
    fresh = check_table(
        DuckDBRunner(con), "orders", [{"rule": "freshness", "column": "ts", "max_age": "1000d"}]
    )
    stale = check_table(
        DuckDBRunner(con), "orders", [{"rule": "freshness", "column": "ts", "max_age": "1h"}]
    )
    assert fresh.results[0].passed
    assert not stale.results[0].passed
    assert "2026-11-22T10:00:00+00:00" in stale.results[0].observed_text


def test_bad_rules_are_refused_with_a_reason() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="range needs `min`, `max` or both"):
        check_table(DuckDBRunner(duckdb.connect()), "t", [{"rule": "range", "column": "a"}])
    with pytest.raises(ValueError, match="cannot quarantine rows"):
        check_table(
            DuckDBRunner(duckdb.connect()),
            "t",
            [{"rule": "row_count", "min": 1, "on_fail": "quarantine"}],
        )


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("email", ["ann.lee+x@mail.example.co"], ["ann@", "ann@@x.com", "ann@x.", "a b@x.com"]),
        ("url", ["https://x.org/a?b=1", "http://a-b.c:8080"], ["ftp://x.org", "http//x", "x.org"]),
        (
            "phone",
            ["555-123-4567", "(555) 123-4567", "+1 555-123-4567", "555.123.4567"],
            ["12345", "call me", "555-CALL-NOW", "555-123"],
        ),
        ("zip_us", ["02134", "12345-6789"], ["2134", "12345-678", "ABCDE"]),
        ("iso_date", ["2026-11-23", "2024-02-29"], ["2026-13-01", "23/11/2026", "2026-1-1"]),
        (
            "uuid",
            ["123e4567-e89b-12d3-a456-426614174000"],
            ["123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400g"],
        ),
    ],
)
def test_named_formats_accept_and_refuse(name: str, good: list[str], bad: list[str]) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in [*good, *bad, None]])
    rule = {"rule": "format", "column": "v", "format": name}
    out = check_table(DuckDBRunner(con), "t", [rule], table="t")
    (result,) = out.results
    assert result.failing == len(bad)
    assert sorted(row["v"] for row in result.sample) == sorted(bad)[:5]


def test_options_change_what_fails(con: duckdb.DuckDBPyConnection) -> None:
    rules = [
        {"rule": "accepted_values", "id": "loose", "column": "status", "values": ["PAID"],
         "case_sensitive": False},
        {"rule": "outliers", "id": "z", "column": "amount", "method": "zscore", "threshold": 1.5},
        {
            "rule": "consistency",
            "id": "strict",
            "left": {"key": ["cid"], "value": "sum(amount)"},
            "right": {"table": "customers", "key": ["cid"], "value": "cid * 1.0"},
            "tolerance": 1,
            "missing": "fail",
        },
    ]  # fmt: skip
    out = check_table(DuckDBRunner(con), "orders", rules)
    # paid, paid are accepted ignoring case; zzz and shipped are not; NULL passes
    assert out.result("loose").failing == 2
    # mean 40002.4, sd ~89442: only 200000 is more than 1.5 sd away
    assert out.result("z").failing == 1
    assert out.result("z").sample[0]["amount"] == 200000.0
    # cid 11 disagrees, cid 99 has no customer row; NULL cid is no key on either side
    assert out.result("strict").failing == 2


def test_the_score_weights_its_dimensions() -> None:
    from sluiceway.quality.results import RuleResult
    from sluiceway.quality.score import score

    def result(dimension: str, failing: int, rule: str = "not_null") -> RuleResult:
        return RuleResult(
            rule_id=f"{dimension}_{rule}", rule=rule, columns=("c",), dimension=dimension,
            severity="error", on_fail="warn", scope="load", passed=failing == 0,
            failing=failing, checked=100, observed=None, observed_text="", threshold="",
            message="",
        )  # fmt: skip

    results = [result("completeness", 10), result("validity", 40, "range")]
    even = score(results, {"completeness": 1, "validity": 1})
    assert even.dimensions == {"completeness": 90.0, "validity": 60.0}
    assert even.score == 75.0
    tilted = score(results, {"completeness": 3, "validity": 1})
    assert tilted.score == 82.5
    # a dimension without rules falls back to the profile's non-NULL share, or is left out
    profile = {"rows": 10, "columns": [{"null_share": 0.5}, {"null_share": 0.0}]}
    from_profile = score([result("validity", 0, "range")], {"completeness": 1, "validity": 1},
                         profile)  # fmt: skip
    assert from_profile.dimensions == {"completeness": 75.0, "validity": 100.0}
    assert score([], {"completeness": 1}).score is None
