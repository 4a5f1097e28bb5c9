"""The metadata store's tables, as SQLAlchemy Core objects.

These definitions are what the store's queries are written against; the DDL that creates them
lives in the versioned migrations under ``migrations/versions/``. The two must agree, and a test
compares the migrated database with this module, so a change here needs a new migration.

Timestamps are stored with ``DateTime(timezone=True)`` (``timestamptz`` on PostgreSQL, text on
SQLite) through :class:`UTCDateTime`, which always hands back timezone-aware UTC datetimes, even
from SQLite, which forgets the zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# Deterministic constraint names, so that later migrations (and SQLite's batch mode, which
# rebuilds tables) can address constraints by name on every backend.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in and comes out as a timezone-aware UTC datetime.

    Naive datetimes are refused: a wall-clock time without a zone is ambiguous, and storing it
    would silently shift runs by the machine's UTC offset.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a timezone-aware datetime is required, got naive {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite keeps timestamps as text; storing them all in UTC without an offset keeps
            # the text sortable, so ORDER BY started_at works as a string comparison.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONDocument(TypeDecorator[Any]):
    """JSON: ``jsonb`` on PostgreSQL (compact, indexable), JSON text elsewhere.

    Chosen per dialect when a connection needs it, rather than with ``with_variant(JSONB())``,
    so that a SQLite-only process never imports SQLAlchemy's PostgreSQL dialect (~50 ms at
    every CLI start).
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(JSON(none_as_null=True))


runs = Table(
    "runs",
    metadata,
    Column("run_id", String(26), nullable=False, doc="ULID of the run"),
    Column("pipeline", Text, nullable=False),
    Column("status", String(16), nullable=False, doc="a RunStatus value"),
    Column("trigger", String(32), nullable=False, doc="what started it: cli, schedule, api…"),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("heartbeat_at", UTCDateTime(), nullable=True, doc="the last sign of life"),
    Column("rows_in", BigInteger, nullable=False, server_default="0"),
    Column("rows_out", BigInteger, nullable=False, server_default="0"),
    Column("rows_rejected", BigInteger, nullable=False, server_default="0"),
    Column("bytes_in", BigInteger, nullable=False, server_default="0"),
    Column("error_class", String(16), nullable=True, doc="an ErrorClass value"),
    Column("error_message", Text, nullable=True),
    Column("pid", Integer, nullable=True, doc="the process running it"),
    Column("hostname", Text, nullable=True, doc="the machine running it"),
    Column("config_hash", String(64), nullable=True),
    Column("details", JSONDocument(), nullable=True),
    PrimaryKeyConstraint("run_id"),
    # Ascending indexes serve ORDER BY ... DESC too: both SQLite and PostgreSQL walk a B-tree
    # backwards, and plain column indexes compare cleanly between migrations and this module.
    Index("ix_runs_started_at", "started_at", "run_id"),
    Index("ix_runs_pipeline_started_at", "pipeline", "started_at"),
    # Finds the few running runs (the reaper, `sluiceway runs --status running`) without a scan.
    Index("ix_runs_status", "status"),
)

step_runs = Table(
    "step_runs",
    metadata,
    Column(
        "run_id",
        String(26),
        ForeignKey("runs.run_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("step", Text, nullable=False),
    Column("kind", String(32), nullable=False, doc="extract, load, check, model, …"),
    Column("target", Text, nullable=True, doc="the table the step writes or checks"),
    Column("status", String(16), nullable=False, doc="a StepStatus value"),
    Column("attempt", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("rows_in", BigInteger, nullable=False, server_default="0"),
    Column("rows_out", BigInteger, nullable=False, server_default="0"),
    Column("rows_rejected", BigInteger, nullable=False, server_default="0"),
    Column("bytes_in", BigInteger, nullable=False, server_default="0"),
    Column("load_id", String(64), nullable=True, doc="the warehouse load it committed"),
    Column("error_class", String(16), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("details", JSONDocument(), nullable=True),
    PrimaryKeyConstraint("run_id", "step", "attempt"),
)

schema_versions = Table(
    "schema_versions",
    metadata,
    Column("warehouse", Text, nullable=False, doc="the warehouse's id, e.g. duckdb:/abs/wh.duckdb"),
    Column("table_name", Text, nullable=False, doc="lower-cased, e.g. bronze.customers"),
    Column("version", Integer, nullable=False, doc="1, 2, 3… per warehouse and table"),
    Column("fingerprint", Text, nullable=False, doc="a hash of the columns"),
    Column("columns", JSONDocument(), nullable=False, doc="[{name, type, nullable}, …]"),
    Column("diff", JSONDocument(), nullable=False, doc="the changes from the previous version"),
    Column("aliases", JSONDocument(), nullable=False, doc="{old name: current name} of renames"),
    Column("reason", String(16), nullable=False, doc="load, observed or declared"),
    Column("pipeline", Text, nullable=True),
    Column("run_id", Text, nullable=True, doc="the run that registered it"),
    Column("load_id", Text, nullable=True, doc="the warehouse load that registered it"),
    Column("created_at", UTCDateTime(), nullable=False),
    # Its index is what finds a table's latest version: equality on the first two columns, then
    # the highest version, read backwards from the end of the range. No second index is needed.
    PrimaryKeyConstraint("warehouse", "table_name", "version"),
)

quality_checks = Table(
    "quality_checks",
    metadata,
    Column("warehouse", Text, nullable=False, doc="the warehouse's id"),
    Column("table_name", Text, nullable=False, doc="lower-cased, e.g. bronze.customers"),
    Column("load_id", Text, nullable=False, doc="the load checked (or a profile run's id)"),
    Column("run_id", Text, nullable=True),
    Column("pipeline", Text, nullable=True),
    Column("step", Text, nullable=True),
    Column("checked_at", UTCDateTime(), nullable=False),
    Column("committed", Integer, nullable=False, doc="1 if the load committed, 0 if rolled back"),
    Column("rows", BigInteger, nullable=False, server_default="0", doc="rows checked"),
    Column("score", Float, nullable=True, doc="the quality score, 0-100"),
    Column("dimensions", JSONDocument(), nullable=True, doc="{dimension: 0-100}"),
    Column("results", JSONDocument(), nullable=False, doc="[RuleResult dict, …]"),
    Column("profile", JSONDocument(), nullable=True, doc="the TableProfile dict"),
    Column("cleaning", JSONDocument(), nullable=True, doc="[{column, operation, changed, …}]"),
    PrimaryKeyConstraint("warehouse", "table_name", "load_id"),
    Index("ix_quality_checks_table_time", "warehouse", "table_name", "checked_at"),
    Index("ix_quality_checks_run_id", "run_id"),
)

circuit_breakers = Table(
    "circuit_breakers",
    metadata,
    Column("endpoint", Text, nullable=False, doc="what fails together: postgres://host:5432/db"),
    Column("state", String(16), nullable=False, doc="closed, open or half_open"),
    Column("failures", Integer, nullable=False, server_default="0", doc="in a row, while closed"),
    Column("opened_at", UTCDateTime(), nullable=True, doc="when it last opened"),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("last_error", Text, nullable=True, doc="the failure that counted last (redacted)"),
    Column("run_id", String(26), nullable=True, doc="the run that changed it last"),
    PrimaryKeyConstraint("endpoint"),
)

run_controls = Table(
    "run_controls",
    metadata,
    Column("run_id", String(26), nullable=False, doc="the run the operator steers"),
    Column("command", String(16), nullable=False, doc="pause, resume or cancel: the latest"),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("requested_by", Text, nullable=True, doc="user@host that asked"),
    Column("applied_at", UTCDateTime(), nullable=True, doc="when the run acted on it"),
    PrimaryKeyConstraint("run_id"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("pipeline", Text, nullable=False),
    Column("schedule", Text, nullable=False, doc="the cron expression or interval, as written"),
    Column("last_fire_at", UTCDateTime(), nullable=True, doc="the last due time acted on"),
    Column("next_fire_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("details", JSONDocument(), nullable=True, doc="catch-up and skip counts, notes"),
    PrimaryKeyConstraint("pipeline"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("model", Text, nullable=False, doc="the model's name, e.g. silver.orders"),
    Column("version", Integer, nullable=False, doc="1, 2, 3… per model"),
    Column("sql_hash", String(64), nullable=False, doc="sha256 of the SQL, hex"),
    Column("sql", Text, nullable=False, doc="the model's SQL (or a transform's source)"),
    Column("materialization", String(16), nullable=False, doc="table, view, incremental…"),
    Column("config", JSONDocument(), nullable=False, doc="the model's settings"),
    Column("columns", JSONDocument(), nullable=False, doc="[{name, type}, …] of its output"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("run_id", String(26), nullable=True, doc="the run that registered it"),
    # Its index finds a model's latest version, as schema_versions' does for a table.
    PrimaryKeyConstraint("model", "version"),
)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column("model", Text, nullable=False, doc="the model, or load:<table> for a load"),
    Column("version", Integer, nullable=False, doc="the model version the edges belong to"),
    Column("position", Integer, nullable=False, doc="the edge's order within the version"),
    Column("source_table", Text, nullable=True, doc="NULL: a column computed from no column"),
    Column("source_column", Text, nullable=True, doc="NULL for a table-level edge"),
    Column("target_table", Text, nullable=False),
    Column("target_column", Text, nullable=True, doc="NULL for a table-level edge"),
    Column("kind", String(16), nullable=False, doc="a column's kind, or load, model, transform"),
    Column("expression", Text, nullable=True, doc="a column's SQL; a table edge's detail"),
    Column("recorded_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("model", "version", "position"),
    # What feeds a table or column (upstream), and what a table or column feeds (downstream).
    Index("ix_lineage_edges_source", "source_table", "source_column"),
    Index("ix_lineage_edges_target", "target_table", "target_column"),
)

step_plans = Table(
    "step_plans",
    metadata,
    Column("run_id", String(26), nullable=False),
    Column("step", Text, nullable=False, doc="the model step"),
    Column("attempt", Integer, nullable=False),
    Column("dialect", String(16), nullable=False, doc="the warehouse's: duckdb, postgres"),
    Column("analyzed", Integer, nullable=False, doc="1: EXPLAIN ANALYZE (measured), 0: estimated"),
    Column("sql", Text, nullable=False, doc="the query explained, as the warehouse ran it"),
    Column("plan", JSONDocument(), nullable=True, doc="the warehouse's JSON plan"),
    Column("error", Text, nullable=True, doc="why there is no plan"),
    Column("captured_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("run_id", "step", "attempt"),
)
