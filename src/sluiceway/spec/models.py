"""The pipeline definition as typed models.

A pipeline file describes one pipeline::

    pipeline: shop
    warehouse: {type: duckdb, path: .sluiceway/warehouse.duckdb}
    defaults: {write: append, batch_size: 65536}
    sources:
      orders:
        type: csv
        path: data/orders_*.csv.gz
        write: merge
        primary_key: [order_id]

The models here are generic over the source and warehouse configuration types: each source and
warehouse kind defines its own config model (a subclass of :class:`SourceSpec` or
:class:`WarehouseSpec` with a ``type`` literal) next to its implementation, and the registry
assembles the discriminated union that validates a file. Unknown keys are errors everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import AfterValidator, Field, field_validator

from sluiceway.core.errors import ConfigError
from sluiceway.core.names import TableRef
from sluiceway.spec.cleaning import CleaningSpec, DedupeSpec
from sluiceway.spec.contract import SchemaContract, merge_contracts
from sluiceway.spec.execution import ExecutionSpec, ReferenceSpec, RetrySpec, to_timedelta
from sluiceway.spec.incremental import IncrementalSpec
from sluiceway.spec.model import ModelsSpec
from sluiceway.spec.models_base import StrictModel
from sluiceway.spec.openlineage import OpenLineageSpec
from sluiceway.spec.quality import QualitySettings, RuleSpec, check_rules
from sluiceway.spec.schedule import ScheduleSpec
from sluiceway.spec.write import DeleteSpec, PartitionSpec, RangePartitionSpec, Scd2Spec

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")

WriteDisposition = Literal["append", "replace", "merge", "scd2", "insert_overwrite"]
BadRowPolicy = Literal["fail", "dlq"]


def _sql_type(value: str) -> str:
    """A declared column type must be one the engine can load.

    ``parse_sql_type`` raises ``ConfigError``, which pydantic would let escape (it only collects
    ``ValueError``): the problem would lose its position and hide every other one.
    """
    from sluiceway.core.sql_types import arrow_type

    try:
        arrow_type(value)
    except ConfigError as exc:
        raise ValueError(f"{exc.message}. {exc.hint}" if exc.hint else exc.message) from None
    return value


SqlTypeText = Annotated[str, AfterValidator(_sql_type)]


def _source_name(name: str) -> str:
    # validated per key (not on the whole dict) so the problem points at the bad name's line
    if not _IDENTIFIER.match(name):
        raise ValueError(
            f"source name {name!r} is not valid; use letters, digits and _ "
            "(it names the table unless `table` is set)"
        )
    return name


SourceName = Annotated[str, AfterValidator(_source_name)]


class SourceDefaults(StrictModel):
    """Settings every source inherits unless it sets its own."""

    write: WriteDisposition = Field(
        "append",
        description="How rows reach the table: `append` adds them; `replace` swaps the whole "
        "table in one transaction; `merge` upserts on `primary_key` (the last row wins); "
        "`scd2` keeps every version of each key (see `scd2`); `insert_overwrite` replaces the "
        "partitions the rows fall in (see `partition`).",
    )
    batch_size: int = Field(
        65_536,
        ge=1,
        le=10_000_000,
        description="Rows per Arrow batch. Memory is bounded by a few batches whatever the "
        "input size.",
    )
    lineage: bool = Field(
        True,
        description="Add `_sluiceway_load_id` and `_sluiceway_source` (the file or object a "
        "row came from) to every loaded row.",
    )
    on_bad_rows: BadRowPolicy = Field(
        "fail",
        description="A row that cannot be parsed: `fail` stops the load (nothing is written); "
        "`dlq` sends it to the dead-letter queue with file, line and reason, and loads the rest.",
    )
    contract: SchemaContract = Field(
        default_factory=SchemaContract,
        alias="schema",
        description="The schema contract every table gets unless its source sets its own.",
    )


class SourceSpec(StrictModel):
    """Fields every source kind has. Each kind subclasses this with a ``type`` literal."""

    type: str = Field(description="The source kind, e.g. `csv`, `parquet`, `postgres`.")
    table: str | None = Field(
        None,
        description="Target table, optionally schema-qualified (`bronze.orders`). "
        "Defaults to the source's name.",
    )
    write: WriteDisposition | None = Field(None, description="Overrides `defaults.write`.")
    primary_key: list[str] = Field(
        default_factory=list,
        description="Key columns; required by `write: merge` and `write: scd2`.",
    )
    columns: dict[str, SqlTypeText] = Field(
        default_factory=dict,
        description="Declared column types in SQL (DuckDB dialect), e.g. `{price: DECIMAL(10,2)}`. "
        "Declared types win over inferred ones; a value that does not fit is a bad row.",
    )
    batch_size: int | None = Field(None, ge=1, le=10_000_000, description="Overrides defaults.")
    lineage: bool | None = Field(None, description="Overrides `defaults.lineage`.")
    on_bad_rows: BadRowPolicy | None = Field(None, description="Overrides `defaults.on_bad_rows`.")
    contract: SchemaContract | None = Field(
        None,
        alias="schema",
        description="The table's schema contract; what it sets overrides `defaults.schema`.",
    )
    checks: list[RuleSpec] = Field(
        default_factory=list,
        description="Quality rules run on every load of this table (see docs/quality.md): "
        "row rules such as `not_null`, `range`, `format`, `foreign_key`, and table rules such "
        "as `unique`, `freshness`, `distribution_drift`.",
    )

    clean: CleaningSpec | None = Field(
        None,
        description="Cleaning operations per column (`*` for every text column), applied to "
        "the rows as they are read, before the schema contract (see docs/quality.md).",
    )
    incremental: IncrementalSpec | None = Field(
        None,
        description="Read only rows past the last loaded cursor value (a timestamp or growing "
        "number column); the cursor commits with the rows (see docs/incremental.md).",
    )
    dedupe: DedupeSpec | None = Field(
        None,
        description="Keep one row per key in each load: the latest (or earliest) by `order_by`, "
        "else by arrival. The rows dropped are counted in the run report.",
    )
    delete: DeleteSpec | None = Field(
        None,
        description="`merge`/`scd2`: rows that are deletions (a flag column, a CDC `delete`, "
        "or keys missing from a `cdc: snapshot`), removed (`hard`) or marked (`soft`).",
    )
    scd2: Scd2Spec | None = Field(
        None, description="`write: scd2`: the change-time column and the history columns."
    )
    partition: PartitionSpec | None = Field(
        None, description="`write: insert_overwrite`: the column whose partitions are replaced."
    )
    partition_by: RangePartitionSpec | None = Field(
        None,
        description="Create the table partitioned by ranges of a date or timestamp column "
        "(warehouses that partition tables: PostgreSQL), e.g. `{column: order_ts, granularity: "
        "month}`; partitions are created as rows for them arrive.",
    )
    cdc: Literal["snapshot"] | None = Field(
        None,
        description="`snapshot`: every read is the whole source table; compared with the "
        "table, it gives inserts, updates and deletes (keys gone from the snapshot). Needs "
        "`merge` or `scd2` and a `primary_key`.",
    )
    depends_on: list[str] = Field(
        default_factory=list, description="Steps (source names) this one runs after."
    )
    references: list[ReferenceSpec] = Field(
        default_factory=list,
        description="Foreign keys to other tables (`bronze.customers` or `{table, columns, "
        "ref_columns}`): the source loading a referenced table runs first.",
    )
    resources: list[str] = Field(
        default_factory=list,
        description="Named resources the step holds while it runs, for `execution.limits`.",
    )
    retry: RetrySpec | None = Field(
        None, description="Retries of transient failures; overrides `execution.retry`."
    )
    timeout: timedelta | None = Field(
        None, description="Overrides `execution.step_timeout`, e.g. `10m`."
    )

    _timeout = field_validator("timeout", mode="before")(staticmethod(to_timedelta))

    @field_validator("checks")
    @classmethod
    def _checks(cls, value: list[Any]) -> list[Any]:
        return check_rules(value)

    @field_validator("primary_key", mode="before")
    @classmethod
    def _one_key(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("table")
    @classmethod
    def _table_name(cls, value: str | None) -> str | None:
        if value is not None and not _TABLE.match(value):
            raise ValueError(
                f"{value!r} is not a table name; use letters, digits and _, optionally "
                "`schema.table`"
            )
        return value


class WarehouseSpec(StrictModel):
    """Fields every warehouse kind has. Each kind subclasses this with a ``type`` literal."""

    type: str = Field(description="The warehouse kind, e.g. `duckdb`, `postgres`.")


S = TypeVar("S", bound=SourceSpec)
W = TypeVar("W", bound=WarehouseSpec)


class PipelineSpec(StrictModel, Generic[S, W]):
    """One pipeline: where data comes from, where it goes, how."""

    pipeline: Annotated[str, Field(description="The pipeline's name (letters, digits, _ and -).")]
    description: str | None = Field(None, description="What this pipeline is for.")
    state_dir: str | None = Field(
        None,
        description="Where run history and the default warehouse live; defaults to "
        "`.sluiceway` in the project root.",
    )
    warehouse: W = Field(description="Where the data is loaded.")
    defaults: SourceDefaults = Field(
        default_factory=SourceDefaults,
        description="Settings every source inherits.",
    )
    sources: dict[SourceName, S] = Field(
        default_factory=dict,
        description="Sources by name; each loads one table. A pipeline of models only (built "
        "from tables other pipelines load) has none.",
    )
    quality: QualitySettings = Field(
        default_factory=QualitySettings,
        description="Profiling of every load and the weights of the quality score.",
    )
    schedule: ScheduleSpec | None = Field(
        None,
        description="When `sluiceway serve` runs this pipeline: cron (`@hourly`, `0 3 * * *`) "
        "or an interval (`every: 15m`), with a catch-up policy (see docs/scheduling.md).",
    )
    models: ModelsSpec = Field(
        default_factory=ModelsSpec,
        description="The SQL models built after the loads (the `.sql` files under `models/`; "
        "see docs/models.md).",
    )
    execution: ExecutionSpec = Field(
        default_factory=ExecutionSpec,
        description="Parallelism, concurrency limits, retries, circuit breakers and timeouts "
        "of the run's steps (see docs/orchestration.md).",
    )
    openlineage: OpenLineageSpec | None = Field(
        None,
        description="OpenLineage events of every run (START, then COMPLETE, FAIL or ABORT, for "
        "the pipeline and each step, with schema and column-lineage facets) to a JSON-lines "
        "file, an HTTP endpoint or the console (see docs/openlineage.md).",
    )

    @field_validator("pipeline")
    @classmethod
    def _pipeline_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} is not a valid name; use letters, digits, _ and -")
        return value

    def settings(self, name: str) -> SourceSettings:
        """The effective settings of source ``name``: its own values, else the defaults."""
        source = self.sources[name]
        defaults = self.defaults
        return SourceSettings(
            name=name,
            table=TableRef.parse(source.table or name),
            write=source.write or defaults.write,
            primary_key=tuple(source.primary_key),
            batch_size=source.batch_size or defaults.batch_size,
            lineage=defaults.lineage if source.lineage is None else source.lineage,
            on_bad_rows=source.on_bad_rows or defaults.on_bad_rows,
            contract=merge_contracts(defaults.contract, source.contract),
            checks=tuple(source.checks),
            clean=source.clean,
            dedupe=source.dedupe,
            incremental=source.incremental,
            delete=source.delete,
            scd2=source.scd2,
            partition=source.partition,
            partition_by=source.partition_by,
            snapshot=source.cdc == "snapshot",
        )


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """What the engine needs to load one source, with pipeline defaults applied."""

    name: str
    table: TableRef
    write: WriteDisposition
    primary_key: tuple[str, ...]
    batch_size: int
    lineage: bool
    on_bad_rows: BadRowPolicy
    contract: SchemaContract = field(default_factory=SchemaContract)
    checks: tuple[Any, ...] = ()  # quality rule specs (sluiceway.spec.quality)
    clean: CleaningSpec | None = None
    dedupe: DedupeSpec | None = None
    incremental: IncrementalSpec | None = None
    delete: DeleteSpec | None = None
    scd2: Scd2Spec | None = None
    partition: PartitionSpec | None = None
    partition_by: RangePartitionSpec | None = None
    snapshot: bool = False  # cdc: snapshot
    profile: bool | None = None  # overrides quality.profile (a model's `profile`)

    @property
    def keyed(self) -> bool:
        """The write folds rows into others by key (merge, scd2)."""
        return self.write in ("merge", "scd2")


def type_names(spec: type[StrictModel]) -> tuple[str, ...]:
    """The ``type`` literal values a config model accepts (``csv``; ``json``, ``ndjson``)."""
    annotation = spec.model_fields["type"].annotation
    if get_origin(annotation) is not Literal:
        raise TypeError(f"{spec.__name__}.type must be a Literal of type names")
    return tuple(str(v) for v in get_args(annotation))
