"""The quality benchmark's rule set and profile, computed by hand-written SQL and by peers.

Every implementation turns the same eleven rules and the same column profile into one flat
dict of numbers (:data:`Figures`) keyed by rule id (``"amount_range"``: failing rows;
``"email_completeness"``: the observed null share) and by ``profile.<column>.<stat>``, so the
benchmark's cross-check is a dict comparison.

Each ``prepare_*`` function does the untimed part (imports, loading the data, building the
schema or suite where that is declarative set-up) and returns the timed part as a callable.

Semantics every implementation follows:

- ``unique``: failing = non-null values - distinct non-null values (the rows past the first
  of each key);
- value rules (range, accepted values, format, length) let nulls pass;
- profile ``count`` is the number of non-null values (SQL ``count(col)``), ``distinct``
  leaves nulls out, ``stddev`` is the sample one, quantiles interpolate linearly
  (``quantile_cont``); timestamps are compared as epoch microseconds; string min/max are
  computed by everyone but not compared (they are not numbers).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from sluiceway.quality.formats import FORMATS

Figures = dict[str, int | float]
Runner = Callable[[], Figures]

TABLE = "orders"
# Sluiceway's own `format` patterns, so every contender checks the same regular expression.
EMAIL_RE = FORMATS["email"]
ZIP_US_RE = FORMATS["zip_us"]
ACCEPTED_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled")
AMOUNT_MIN, AMOUNT_MAX, QUANTITY_MIN = 0, 100_000, 1
MAX_EMAIL_NULL_SHARE = 0.01

COLUMNS = (
    "order_id",
    "customer_id",
    "email",
    "amount",
    "quantity",
    "status",
    "state",
    "zip",
    "created_at",
)
NUMERIC = ("order_id", "customer_id", "amount", "quantity")
TIMESTAMPS = ("created_at",)
QUANTILES = {"p25": 0.25, "p50": 0.5, "p75": 0.75}
# The per-column statistics every implementation computes (plus the QUANTILES).
PROFILE_STATS = ("count", "nulls", "distinct", "min", "max", "mean", "stddev")
RULE_IDS = (
    "order_id_not_null",
    "customer_id_not_null",
    "email_not_null",
    "order_id_unique",
    "amount_range",
    "quantity_range",
    "status_values",
    "email_format",
    "zip_format",
    "state_length",
    "email_completeness",
)
EPOCH = dt.datetime(1970, 1, 1)  # the data's timestamps are naive


def profile_key(column: str, stat: str) -> str:
    """The :data:`Figures` key of one profile number."""
    return f"profile.{column}.{stat}"


def as_number(value: object) -> int | float | None:
    """A profile value as a comparable number; None for what is not one (strings, nulls).

    Engines hand back numpy scalars, pandas Timestamps or datetimes; timestamps become epoch
    microseconds so that every engine's minimum and maximum compare equal.
    """
    if value is None or isinstance(value, str | bytes | bool):
        return None
    if isinstance(value, dt.datetime):
        stamp = value.replace(tzinfo=None) if value.tzinfo is None else value
        return (stamp - EPOCH) // dt.timedelta(microseconds=1)
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp subclasses datetime; belt and braces
        return as_number(value.to_pydatetime())
    if hasattr(value, "item"):  # numpy scalars
        return as_number(value.item())
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return None


def put_profile(figures: Figures, column: str, stats: Mapping[str, object]) -> None:
    """Add one column's profile numbers to ``figures``, skipping what is not a number."""
    for stat, value in stats.items():
        # A profile serialised to JSON-like values carries timestamps as ISO text.
        is_iso = column in TIMESTAMPS and isinstance(value, str)
        number = as_number(dt.datetime.fromisoformat(str(value)) if is_iso else value)
        if number is not None:
            figures[profile_key(column, stat)] = number


# --- limit: one hand-written DuckDB query -------------------------------------------------

_PROFILE_SQL = ",\n".join(
    [
        f'count({c}) AS "{c}.count", count(*) - count({c}) AS "{c}.nulls", '
        f'count(DISTINCT {c}) AS "{c}.distinct", min({c}) AS "{c}.min", max({c}) AS "{c}.max"'
        for c in COLUMNS
    ]
    + [
        f'avg({c}) AS "{c}.mean", stddev_samp({c}) AS "{c}.stddev", '
        f'quantile_cont({c}, [0.25, 0.5, 0.75]) AS "{c}.quantiles"'
        for c in NUMERIC
    ]
)

# Written out by hand, as someone who knows DuckDB would: the fastest this can be.
LIMIT_SQL = f"""
SELECT
  count_if(order_id IS NULL) AS order_id_not_null,
  count_if(customer_id IS NULL) AS customer_id_not_null,
  count_if(email IS NULL) AS email_not_null,
  count(order_id) - count(DISTINCT order_id) AS order_id_unique,
  count_if(amount < 0 OR amount > 100000) AS amount_range,
  count_if(quantity < 1) AS quantity_range,
  count_if(status NOT IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled'))
    AS status_values,
  count_if(NOT regexp_full_match(email, '{EMAIL_RE}')) AS email_format,
  count_if(NOT regexp_full_match(zip, '{ZIP_US_RE}')) AS zip_format,
  count_if(length(state) <> 2) AS state_length,
  (count(*) - count(email))::DOUBLE / count(*) AS email_completeness,
{_PROFILE_SQL}
FROM {TABLE}
"""


def prepare_limit(con: duckdb.DuckDBPyConnection) -> Runner:
    """The limit: every rule and profile number in one SELECT over the loaded table."""

    def run() -> Figures:
        cursor = con.execute(LIMIT_SQL)
        names = [d[0] for d in cursor.description]
        # fetchall, not fetchone: DuckDB 2 refuses other work on a connection whose result
        # has not been read to the end (Sluiceway runs on this connection next).
        (row,) = cursor.fetchall()
        figures: Figures = {}
        profile: dict[str, dict[str, object]] = {c: {} for c in COLUMNS}
        for name, value in zip(names, row, strict=True):
            if name in RULE_IDS:
                figures[name] = value
                continue
            column, stat = name.split(".")
            if stat == "quantiles":
                profile[column].update(zip(QUANTILES, value, strict=True))
            else:
                profile[column][stat] = value
        for column, stats in profile.items():
            put_profile(figures, column, stats)
        return figures

    return run


# --- Polars ---------------------------------------------------------------------------------


def prepare_polars(parquet: Path) -> Runner:
    """Polars: the DataFrame read once; one lazy query with every rule and profile number."""
    import polars as pl  # type: ignore[import-not-found, unused-ignore]

    frame = pl.read_parquet(parquet)

    def col(name: str) -> Any:
        return pl.col(name)

    rules = [
        col("order_id").null_count().alias("order_id_not_null"),
        col("customer_id").null_count().alias("customer_id_not_null"),
        col("email").null_count().alias("email_not_null"),
        (col("order_id").count() - col("order_id").drop_nulls().n_unique()).alias(
            "order_id_unique"
        ),
        ((col("amount") < AMOUNT_MIN) | (col("amount") > AMOUNT_MAX)).sum().alias("amount_range"),
        (col("quantity") < QUANTITY_MIN).sum().alias("quantity_range"),
        (~col("status").is_in(ACCEPTED_STATUSES)).sum().alias("status_values"),
        (~col("email").str.contains(EMAIL_RE)).sum().alias("email_format"),
        (~col("zip").str.contains(ZIP_US_RE)).sum().alias("zip_format"),
        (col("state").str.len_chars() != 2).sum().alias("state_length"),
        (col("email").null_count() / pl.len()).alias("email_completeness"),
    ]
    profile = []
    for c in COLUMNS:
        profile += [
            col(c).count().alias(f"{c}.count"),
            col(c).null_count().alias(f"{c}.nulls"),
            col(c).drop_nulls().n_unique().alias(f"{c}.distinct"),
            col(c).min().alias(f"{c}.min"),
            col(c).max().alias(f"{c}.max"),
        ]
    for c in NUMERIC:
        profile += [
            col(c).mean().alias(f"{c}.mean"),
            col(c).std().alias(f"{c}.stddev"),
        ]
        profile += [
            col(c).quantile(q, interpolation="linear").alias(f"{c}.{name}")
            for name, q in QUANTILES.items()
        ]

    def run() -> Figures:
        row: dict[str, Any] = frame.lazy().select(rules + profile).collect().row(0, named=True)
        figures: Figures = {rule: row[rule] for rule in RULE_IDS}
        stats: dict[str, dict[str, object]] = {c: {} for c in COLUMNS}
        for name, value in row.items():
            if name not in RULE_IDS:
                column, stat = name.split(".")
                stats[column][stat] = value
        for column, column_stats in stats.items():
            put_profile(figures, column, column_stats)
        return figures

    return run


# --- pandas (shared by Great Expectations and pandera) ---------------------------------------


def load_pandas(parquet: Path) -> Any:
    """The pandas DataFrame both pandas-based peers validate (pandas' default dtypes)."""
    import pandas as pd

    return pd.read_parquet(parquet)


def pandas_profile(frame: Any) -> Figures:
    """The profile computed with pandas, as GE 1.x and pandera users have to."""
    figures: Figures = {}
    for c in COLUMNS:
        series = frame[c]
        nulls = int(series.isna().sum())
        stats: dict[str, object] = {
            "count": len(series) - nulls,
            "nulls": nulls,
            "distinct": series.nunique(),
            "min": series.min(),
            "max": series.max(),
        }
        if c in NUMERIC:
            stats["mean"] = series.mean()
            stats["stddev"] = series.std()
            quantiles = series.quantile(list(QUANTILES.values()))
            stats.update(zip(QUANTILES, quantiles.tolist(), strict=True))
        put_profile(figures, c, stats)
    return figures


# --- Great Expectations ---------------------------------------------------------------------


def prepare_great_expectations(frame: Any) -> Runner:
    """Great Expectations 1.x: an ephemeral context, a pandas source, one expectation per rule.

    GE 1.x no longer profiles, so the profile numbers come from pandas (timed as well). Its
    ``ExpectColumnValuesToBeUnique`` counts every row of a duplicated key, not the rows past
    the first, so ``unique`` uses ``ExpectColumnUniqueValueCountToBeBetween`` (a distinct count)
    and subtracts it from the non-null count, which is what the rule defines.
    """
    import great_expectations as gx  # type: ignore[import-not-found, unused-ignore]

    def run() -> Figures:
        # Context, source and suite are built inside the timing: a GE run always pays for them.
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = _ge_no_progress_bars()
        batch_definition = (
            context.data_sources.add_pandas("bench")
            .add_dataframe_asset(TABLE)
            .add_batch_definition_whole_dataframe("all")
        )
        suite = context.suites.add(gx.ExpectationSuite(name=TABLE))
        for expectation in _ge_expectations(gx.expectations):
            suite.add_expectation(expectation)
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(suite, result_format="BASIC")
        by_rule = {_ge_rule_id(r): r.result for r in validation.results}
        figures: Figures = {
            rule: int(by_rule[rule]["unexpected_count"])
            for rule in RULE_IDS
            if rule not in {"order_id_unique", "email_completeness"}
        }
        non_null_ids = by_rule["order_id_not_null"]["element_count"] - figures["order_id_not_null"]
        figures["order_id_unique"] = int(
            non_null_ids - by_rule["order_id_unique"]["observed_value"]
        )
        share = 1.0 - float(by_rule["email_completeness"]["observed_value"])
        figures["email_completeness"] = share
        figures.update(pandas_profile(frame))
        return figures

    return run


def _ge_rule_id(result: Any) -> str:
    """The rule id an expectation result carries in its configuration's ``meta``."""
    return str(result.expectation_config.meta["rule_id"])


def _ge_no_progress_bars() -> Any:
    from great_expectations.data_context.types.base import (  # type: ignore[import-not-found, unused-ignore]
        ProgressBarsConfig,
    )

    return ProgressBarsConfig(globally=False)


def _ge_expectations(gxe: Any) -> Iterable[Any]:
    """One expectation per rule, its rule id in ``meta``."""

    def tag(rule: str, expectation: Any) -> Any:
        expectation.meta = {"rule_id": rule}
        return expectation

    yield tag("order_id_not_null", gxe.ExpectColumnValuesToNotBeNull(column="order_id"))
    yield tag("customer_id_not_null", gxe.ExpectColumnValuesToNotBeNull(column="customer_id"))
    yield tag("email_not_null", gxe.ExpectColumnValuesToNotBeNull(column="email"))
    yield tag(
        "order_id_unique",
        gxe.ExpectColumnUniqueValueCountToBeBetween(column="order_id", min_value=0),
    )
    yield tag(
        "amount_range",
        gxe.ExpectColumnValuesToBeBetween(
            column="amount", min_value=AMOUNT_MIN, max_value=AMOUNT_MAX
        ),
    )
    yield tag(
        "quantity_range",
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=QUANTITY_MIN),
    )
    yield tag(
        "status_values",
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(ACCEPTED_STATUSES)),
    )
    yield tag("email_format", gxe.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL_RE))
    yield tag("zip_format", gxe.ExpectColumnValuesToMatchRegex(column="zip", regex=ZIP_US_RE))
    yield tag(
        "state_length",
        gxe.ExpectColumnValueLengthsToBeBetween(column="state", min_value=2, max_value=2),
    )
    yield tag(
        "email_completeness",
        gxe.ExpectColumnProportionOfNonNullValuesToBeBetween(
            column="email", min_value=1 - MAX_EMAIL_NULL_SHARE
        ),
    )


# --- pandera --------------------------------------------------------------------------------


def prepare_pandera(frame: Any) -> Runner:
    """pandera (pandas backend): one DataFrameSchema, ``validate(lazy=True)``, failures counted.

    Failure cases are counted per (column, check); a failure case no rule claims is an error,
    so nothing is dropped silently. pandera reports a pass/fail for completeness, not the null
    share, so the share is read off the pandas profile (nulls / rows), timed with the rest.
    """
    import pandera.pandas as pa  # type: ignore[import-not-found, unused-ignore]

    checks: dict[str, list[tuple[str, Any]]] = {
        "email": [
            ("email_format", pa.Check.str_matches(EMAIL_RE)),
            (
                "email_completeness",
                pa.Check(
                    lambda s: s.isna().mean() <= MAX_EMAIL_NULL_SHARE,
                    element_wise=False,
                    ignore_na=False,
                ),
            ),
        ],
        "amount": [("amount_range", pa.Check.in_range(AMOUNT_MIN, AMOUNT_MAX))],
        "quantity": [("quantity_range", pa.Check.greater_than_or_equal_to(QUANTITY_MIN))],
        "status": [("status_values", pa.Check.isin(list(ACCEPTED_STATUSES)))],
        "zip": [("zip_format", pa.Check.str_matches(ZIP_US_RE))],
        "state": [("state_length", pa.Check.str_length(2, 2))],
    }
    not_null = {"order_id", "customer_id", "email"}
    schema = pa.DataFrameSchema(
        {
            c: pa.Column(
                nullable=c not in not_null,
                unique=c == "order_id",
                report_duplicates="exclude_first",
                checks=[check for _, check in checks.get(c, [])],
            )
            for c in COLUMNS
        }
    )
    owner: dict[tuple[str, object], str] = {
        (column, number): rule
        for column, column_checks in checks.items()
        for number, (rule, _) in enumerate(column_checks)
    }
    owner |= {(c, "not_nullable"): f"{c}_not_null" for c in not_null}
    owner[("order_id", "field_uniqueness")] = "order_id_unique"

    def run() -> Figures:
        figures: Figures = dict.fromkeys(RULE_IDS, 0)
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            cases = errors.failure_cases
            numbers = cases["check_number"].where(cases["check_number"].notna(), cases["check"])
            sizes = cases.groupby([cases["column"], numbers], sort=False).size()
            for (column, key), size in sizes.items():
                rule = owner.get((column, key))
                if rule is None:
                    raise RuntimeError(f"pandera failure no rule claims: {column} {key}") from None
                figures[rule] = int(size)
        profile = pandas_profile(frame)
        figures.update(profile)
        figures["email_completeness"] = profile[profile_key("email", "nulls")] / len(frame)
        return figures

    return run
