"""OpenLineage events of a run, from the run's events, sent with the OpenLineage client.

One job per pipeline (named after it) and one per step (``<pipeline>.<step>``), in the
configured namespace. The pipeline's run gets a ``START`` when the run starts and a
``COMPLETE``, ``FAIL`` or ``ABORT`` (cancelled) when it ends; each step that starts (each try
of it) gets its own run, a child of the pipeline's (the ``parent`` facet), with its own
``START`` and end. A step that never started (skipped, blocked) has no run.

Datasets are named as OpenLineage names them, never with credentials: a warehouse table
``postgres://db:5432`` + ``shop.public.orders`` (``duckdb:///abs/warehouse.duckdb`` +
``main.orders`` for DuckDB), a loaded file ``file`` + its absolute path (or glob), a source
table as its database names it. Facets:

- a model's output: ``schema`` (its columns and types), ``columnLineage`` (the column lineage
  a Python transform published, else the one traced from the model's SQL) and
  ``outputStatistics``; its inputs: ``schema`` where the warehouse reported the columns;
- a load's output: ``outputStatistics`` (the run's events carry no column list for loads);
- jobs: ``jobType`` (``PIPELINE``, ``LOAD``, ``MODEL``), ``sql`` for a SQL model;
- runs: ``processing_engine``, ``tags`` (the Sluiceway run id), ``parent`` for steps and
  ``errorMessage`` (secrets redacted) on ``FAIL``.

The emitter is a record of the work, never part of it: a problem (an event that could not be
built or sent) is kept in ``notes``, and after the first event that could not be sent the run
sends no more (a dead endpoint costs one timeout, not one per event).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final, NamedTuple, Self
from urllib.parse import urljoin

from openlineage.client.client import OpenLineageClient
from openlineage.client.constants import __version__ as client_version
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    JobFacet,
    OutputDatasetFacet,
    RunFacet,
    column_lineage_dataset,
    error_message_run,
    job_type_job,
    output_statistics_output_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
    source_code_job,
    sql_job,
    tags_run,
)
from openlineage.client.naming.dataset import LocalFileSystem, MySQL, Postgres
from openlineage.client.transport import Transport
from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport
from openlineage.client.uuid import generate_static_uuid
from sqlglot import exp
from sqlglot.errors import SqlglotError

from sluiceway.core.endpoints import endpoint_of
from sluiceway.core.errors import ConfigError
from sluiceway.core.events import Event, EventKind
from sluiceway.core.names import TableRef
from sluiceway.core.redaction import redact
from sluiceway.spec.loader import LoadedPipeline
from sluiceway.spec.openlineage import OpenLineageSpec
from sluiceway.transform.lineage import ColumnLineage, ColumnRef, column_lineage, table_lineage
from sluiceway.warehouses.base import Warehouse

INTEGRATION: Final = "SLUICEWAY"
CONSOLE_LOGGER: Final = "openlineage.client.transport.console"  # the client's console transport


def _sluiceway_version() -> str:
    try:
        return version("sluiceway")
    except PackageNotFoundError:  # a source tree that was not installed
        return "0+unknown"


SLUICEWAY_VERSION: Final = _sluiceway_version()
PRODUCER: Final = f"urn:sluiceway:{SLUICEWAY_VERSION}"
"""The ``producer`` of every event and facet: a URI naming Sluiceway and its version."""

_END_STATES: Final = {
    "succeeded": RunState.COMPLETE,
    "failed": RunState.FAIL,
    "cancelled": RunState.ABORT,
}
# How each kind of column lineage (sluiceway.transform.lineage_types) maps to OpenLineage's
# transformation subtypes; every one of ours is a DIRECT dependency.
_SUBTYPES: Final = {
    "identity": "IDENTITY",
    "rename": "IDENTITY",
    "derived": "TRANSFORMATION",
    "window": "TRANSFORMATION",
    "aggregate": "AGGREGATION",
}
_SQL_DIALECTS: Final = {"postgres": "postgres", "postgres_cdc": "postgres", "mysql": "mysql"}


class DatasetRef(NamedTuple):
    """A dataset as OpenLineage names it."""

    namespace: str
    name: str


# --- naming --------------------------------------------------------------------------------


def _server_dataset(endpoint: str, schema: str | None, table: str) -> DatasetRef:
    """A table of a database server, from its endpoint id (``postgres://db:5432/shop``, which
    never holds a credential), named by the OpenLineage client's naming helpers."""
    scheme, _, rest = endpoint.partition("://")
    where, _, database = rest.partition("/")
    host, _, port = where.rpartition(":")
    try:
        if scheme == "postgres" and schema:
            naming: Postgres | MySQL = Postgres(
                host=host, port=port, database=database, schema=schema, table=table
            )
            return DatasetRef(naming.get_namespace(), naming.get_name())
        if scheme == "mysql":
            naming = MySQL(host=host, port=port, database=schema or database, table=table)
            return DatasetRef(naming.get_namespace(), naming.get_name())
    except ValueError:  # a part is missing (no database in the URL): keep what there is
        pass
    parts = [p for p in (database, schema, table) if p]
    return DatasetRef(f"{scheme}://{where}" if scheme else endpoint, ".".join(parts))


@dataclass(frozen=True, slots=True)
class WarehouseNames:
    """How the warehouse's tables are named as datasets."""

    kind: str  # the warehouse type: duckdb, postgres …
    where: str  # an endpoint id (postgres://db:5432/shop) or a local file's path
    default_schema: str
    server: bool  # ``where`` is an endpoint id, not a file

    @classmethod
    def of(cls, warehouse: Warehouse[Any]) -> WarehouseNames:
        """From a warehouse (created, not opened): its endpoint if it is a server, else the
        file its ``describe()`` names (``duckdb:/abs/warehouse.duckdb``)."""
        endpoint = endpoint_of(warehouse.config)
        kind = str(warehouse.config.type)
        if endpoint is not None:
            return cls(kind, endpoint, warehouse.default_schema, server=True)
        described = warehouse.describe().split(" (", 1)[0]  # "faulty_duckdb:/x (fault …)"
        where = described.partition(":")[2] or described
        return cls(kind, where, warehouse.default_schema, server=False)

    def table(self, table: str) -> DatasetRef:
        ref = TableRef.parse(table)
        schema = ref.schema or self.default_schema
        if self.server:
            return _server_dataset(self.where, schema, ref.name)
        return DatasetRef(f"{self.kind}://{self.where}", f"{schema}.{ref.name}")


def source_datasets(pipeline: LoadedPipeline, source: str) -> list[DatasetRef]:
    """Where a source's rows come from: its files, its table, or the tables its query reads."""
    config = pipeline.spec.sources.get(source)
    if config is None:
        return []
    kind = str(config.type)
    paths = getattr(config, "path", None)
    if paths:
        items = [paths] if isinstance(paths, str) else list(paths)
        return [
            DatasetRef(naming.get_namespace(), naming.get_name())
            for naming in (LocalFileSystem(path=str(pipeline.resolve(p))) for p in items)
        ]
    endpoint = endpoint_of(config)
    dialect = _SQL_DIALECTS.get(kind)
    if endpoint is None or dialect is None:
        return [DatasetRef(endpoint or kind, source)]
    tables = _source_tables(config, dialect)
    default = "public" if dialect == "postgres" else None
    return [_server_dataset(endpoint, schema or default, name) for schema, name in tables]


def _source_tables(config: Any, dialect: str) -> list[tuple[str | None, str]]:
    """``(schema, table)`` of a SQL source's ``source_table``, or of each table its ``query``
    reads; none when the query cannot be parsed."""
    written = getattr(config, "source_table", None)
    if written:
        try:
            table = exp.to_table(written, dialect=dialect)
        except SqlglotError:
            return [(None, written)]
        return [(table.db or None, table.name)]
    query = getattr(config, "query", None)
    if not query:
        return []
    try:
        edges = table_lineage(query, target="source", dialect=dialect)
    except ConfigError:
        return []
    return [(ref.schema, ref.name) for ref in (TableRef.parse(e.source) for e in edges)]


# --- facets --------------------------------------------------------------------------------


def schema_facet(columns: Iterable[tuple[str, str]]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(name=name, type=kind, ordinal_position=i)
            for i, (name, kind) in enumerate(columns, start=1)
        ],
        producer=PRODUCER,
    )


def column_lineage_facet(
    lineage: Sequence[ColumnLineage], names: WarehouseNames
) -> column_lineage_dataset.ColumnLineageDatasetFacet | None:
    """OpenLineage's ``columnLineage``: each output column's input columns, with how each is
    used; None when no column has a source (constants only)."""
    fields: dict[str, column_lineage_dataset.Fields] = {}
    for column in lineage:
        subtype = _SUBTYPES.get(column.kind)
        if not column.sources or subtype is None:
            continue
        transformation = column_lineage_dataset.Transformation(
            type="DIRECT", subtype=subtype, description=column.expression
        )
        inputs = []
        for source in column.sources:
            dataset = names.table(source.table)
            inputs.append(
                column_lineage_dataset.InputField(
                    namespace=dataset.namespace,
                    name=dataset.name,
                    field=source.column,
                    transformations=[transformation],
                )
            )
        fields[column.column] = column_lineage_dataset.Fields(inputFields=inputs)
    if not fields:
        return None
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields, producer=PRODUCER)


def published_lineage(records: Iterable[Mapping[str, Any]]) -> list[ColumnLineage]:
    """The ``column_lineage`` a Python transform publishes (``{"column", "sources":
    ["schema.table.column", …], "expression", "kind"}``) as lineage records."""
    return [
        ColumnLineage(
            column=str(record["column"]),
            sources=tuple(ColumnRef.parse(str(s)) for s in record.get("sources") or ()),
            expression=str(record.get("expression") or ""),
            kind=record.get("kind") or "derived",
        )
        for record in records
    ]


def model_job_facets(data: Mapping[str, Any]) -> dict[str, JobFacet]:
    """A model's code as job facets: ``sql`` for a SQL model (as written, DuckDB's dialect) and
    for an operations model (the SELECT its chain compiled to), ``sourceCode`` for a Python
    transform. ``data`` is a ``model_built`` event's."""
    kind = str(data.get("kind") or "sql")
    sql = data.get("code") if kind == "sql" else None
    if kind in ("sql", "ops"):
        sql = sql or data.get("sql")
    if sql:
        return {"sql": sql_job.SQLJobFacet(query=str(sql), dialect="duckdb", producer=PRODUCER)}
    if kind == "python" and data.get("code"):
        return {
            "sourceCode": source_code_job.SourceCodeJobFacet(
                language="PYTHON", sourceCode=str(data["code"]), producer=PRODUCER
            )
        }
    return {}


def _error_facet(message: str) -> error_message_run.ErrorMessageRunFacet:
    return error_message_run.ErrorMessageRunFacet(
        message=redact(message), programmingLanguage="PYTHON", producer=PRODUCER
    )


def _job_type(kind: str) -> job_type_job.JobTypeJobFacet:
    return job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration=INTEGRATION, jobType=kind, producer=PRODUCER
    )


# --- the client ----------------------------------------------------------------------------


def event_file(spec: OpenLineageSpec, state_dir: Path) -> Path:
    """The file transport's JSON-lines file: ``path`` against the state folder."""
    assert spec.path is not None
    path = Path(spec.path).expanduser()
    return path if path.is_absolute() else state_dir / path


def transport_for(spec: OpenLineageSpec, state_dir: Path) -> Transport:
    """The OpenLineage client's transport the spec asks for."""
    if spec.transport == "file":
        file = event_file(spec, state_dir)
        file.parent.mkdir(parents=True, exist_ok=True)
        return FileTransport(FileConfig(log_file_path=str(file), append=True))
    if spec.transport == "http":
        assert spec.url is not None
        tries = {"total": spec.retries, "connect": spec.retries, "read": spec.retries}
        config: dict[str, Any] = {
            "url": spec.url,
            "endpoint": spec.endpoint,
            "timeout": spec.timeout.total_seconds(),
            "retry": tries,
        }
        if spec.api_key is not None:
            config["auth"] = {"type": "api_key", "apiKey": spec.api_key.get_secret_value()}
        return HttpTransport(HttpConfig.from_dict(config))
    return ConsoleTransport(ConsoleConfig())


def destination(spec: OpenLineageSpec, state_dir: Path) -> str:
    """Where the events go, for messages (never the key)."""
    if spec.transport == "file":
        return str(event_file(spec, state_dir))
    if spec.transport == "http":
        return urljoin(spec.url or "", spec.endpoint)  # as the client's HttpTransport does
    return "the console"


# --- the emitter ---------------------------------------------------------------------------


@dataclass
class _StepRun:
    name: str
    run_id: str  # the OpenLineage run's UUID
    kind: str  # load or model
    target: str
    view: bool
    inputs: list[InputDataset] = field(default_factory=list)
    finished: Mapping[str, Any] | None = None  # a model's step_finished, until model_built
    columns: list[tuple[str, str]] = field(default_factory=list)  # a committed load's table


class OpenLineageEmitter:
    """An :class:`~sluiceway.core.events.EventBus` subscriber that turns a run's events into
    OpenLineage events and sends them through ``client``."""

    def __init__(
        self,
        pipeline: LoadedPipeline,
        client: OpenLineageClient,
        *,
        warehouse: WarehouseNames,
        namespace: str,
        destination: str = "",
    ) -> None:
        self._pipeline = pipeline
        self._client = client
        self._warehouse = warehouse
        self._namespace = namespace
        self._destination = destination
        self._lock = threading.RLock()
        self._run_id: str | None = None  # the pipeline run's UUID, while it runs
        self._sluiceway_run = ""  # its Sluiceway run id
        self._steps: dict[str, _StepRun] = {}
        self._broken = False  # an event could not be sent: send no more
        self._dropped = 0
        self._console: logging.Handler | None = None
        self.sent = 0
        self.notes: list[str] = []  # problems building or sending events

    @classmethod
    def for_pipeline(cls, pipeline: LoadedPipeline, warehouse: Warehouse[Any]) -> Self:
        """An emitter for ``pipeline.spec.openlineage`` (which must be set); ``warehouse`` is
        the pipeline's warehouse, created but not opened (only its names are needed)."""
        spec = pipeline.spec.openlineage
        assert spec is not None
        client = OpenLineageClient(transport=transport_for(spec, pipeline.state_dir))
        emitter = cls(
            pipeline,
            client,
            warehouse=WarehouseNames.of(warehouse),
            namespace=spec.namespace,
            destination=destination(spec, pipeline.state_dir),
        )
        if spec.transport == "console":
            emitter.print_console_events()
        return emitter

    def print_console_events(self) -> None:
        """The client's console transport logs each event at INFO: print those on stderr until
        :meth:`close`."""
        logger = logging.getLogger(CONSOLE_LOGGER)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        self._console = handler

    def close(self) -> None:
        """End a run that never said it finished (the process is leaving on an error) with
        ``ABORT``; flush and close the transport; say how many events were not sent."""
        with self._lock:
            if self._run_id is not None:
                self(Event(EventKind.RUN_FINISHED, self._sluiceway_run, self._pipeline.name))
            try:
                self._client.close(timeout=5.0)
            except Exception as exc:  # closing a transport must not fail the run either
                self._note(f"closing the transport failed: {exc}")
            if self._console is not None:
                logging.getLogger(CONSOLE_LOGGER).removeHandler(self._console)
                self._console = None
            if self._dropped:
                self._note(f"{self._dropped} later event(s) of the run were not sent")
                self._dropped = 0

    def __call__(self, event: Event) -> None:
        with self._lock:
            try:
                self._handle(event)
            except Exception as exc:  # a bug here must not break the run, only its lineage
                self._note(
                    f"the {event.kind.value} event of {event.step or event.pipeline} was not "
                    f"turned into an OpenLineage event ({type(exc).__name__}: {exc})"
                )

    # --- events -------------------------------------------------------------------------

    def _handle(self, event: Event) -> None:
        kind, data = event.kind, event.data
        if kind is EventKind.RUN_STARTED:
            self._run_id = str(generate_static_uuid(event.at, event.run_id.encode()))
            self._sluiceway_run = event.run_id
            self._emit(self._pipeline_event(event, RunState.START))
        elif self._run_id is None:
            return  # subscribed mid-run: there is no pipeline run to attach to
        elif kind is EventKind.STEP_STARTED and event.step is not None:
            self._step_started(event)
        elif kind is EventKind.STEP_FINISHED and event.step is not None:
            if data.get("started") is not False:
                self._step_finished(event)
        elif kind is EventKind.LOAD_COMMITTED and event.step in self._steps:
            step = self._steps[event.step]
            step.columns = [(str(c["name"]), str(c["type"])) for c in data.get("columns") or ()]
        elif kind is EventKind.MODEL_BUILT and event.step is not None:
            self._model_built(event)
        elif kind is EventKind.RUN_FINISHED:
            self._run_finished(event)

    def _step_started(self, event: Event) -> None:
        assert event.step is not None
        data = event.data
        kind = str(data.get("kind", "load"))
        seed = f"{event.run_id}/{event.step}/{data.get('attempt', 1)}"
        step = _StepRun(
            name=event.step,
            run_id=str(generate_static_uuid(event.at, seed.encode())),
            kind=kind,
            target=str(data.get("target") or event.step),
            view=data.get("write") == "view",
        )
        if kind == "load":
            step.inputs = [
                InputDataset(namespace=d.namespace, name=d.name)
                for d in source_datasets(self._pipeline, event.step)
            ]
        self._steps[event.step] = step
        self._emit(self._step_event(event, step, RunState.START, outputs=[self._output(step)]))

    def _step_finished(self, event: Event) -> None:
        assert event.step is not None
        step = self._steps.get(event.step)
        if step is None:
            return
        data = event.data
        if step.kind == "model" and data.get("status") == "succeeded":
            step.finished = data  # its lineage comes with model_built, right after
            return
        self._steps.pop(event.step)
        facets: dict[str, DatasetFacet] = {}
        if step.columns and data.get("status") == "succeeded":
            facets["schema"] = schema_facet(step.columns)
        self._end_step(event, step, data, dataset_facets=facets)

    def _model_built(self, event: Event) -> None:
        assert event.step is not None
        step = self._steps.get(event.step)
        if step is None or step.finished is None:
            return
        self._steps.pop(event.step)
        data = event.data
        if data.get("error") or not data.get("table"):
            self._note(f"{event.step}: no lineage facets ({data.get('error', 'no table')})")
            self._end_step(event, step, step.finished)
            return
        schema: Mapping[str, Mapping[str, str]] = data.get("schema") or {}
        lineage = self._model_lineage(data)
        step.inputs = [
            self._input(table, schema.get(table))
            for table in self._model_reads(data, schema, lineage)
        ]
        columns = [(str(c["name"]), str(c["type"])) for c in data.get("columns") or ()]
        facets: dict[str, DatasetFacet] = {}
        if columns:
            facets["schema"] = schema_facet(columns)
        traced = column_lineage_facet(lineage, self._warehouse)
        if traced is not None:
            facets["columnLineage"] = traced
        job = model_job_facets(data)
        self._end_step(event, step, step.finished, dataset_facets=facets, job_facets=job)

    def _run_finished(self, event: Event) -> None:
        for name, step in list(self._steps.items()):  # a model whose lineage never came
            self._steps.pop(name)
            ended = step.finished or {"status": "cancelled"}
            self._end_step(event, step, ended)
        status = str(event.data.get("status"))
        self._emit(self._pipeline_event(event, _END_STATES.get(status, RunState.ABORT)))
        self._run_id = None  # ended: later events belong to no run

    # --- building ---------------------------------------------------------------------------

    def _model_lineage(self, data: Mapping[str, Any]) -> list[ColumnLineage]:
        """The lineage a Python transform published, else the one traced from the SQL."""
        if data.get("column_lineage") is not None:
            return published_lineage(data["column_lineage"])
        if not data.get("sql"):
            return []
        try:
            return column_lineage(
                str(data["sql"]), target=str(data["table"]), schema=data.get("schema") or {}
            )
        except ConfigError:  # LineageRecorder already says why; the facet is left out
            return []

    @staticmethod
    def _model_reads(
        data: Mapping[str, Any],
        schema: Mapping[str, Mapping[str, str]],
        lineage: Sequence[ColumnLineage],
    ) -> list[str]:
        """Every table the model reads (its own table left out: an incremental model reads
        it): those it declares, those of its SQL, its inputs' schemas and its lineage."""
        target = str(data["table"])
        found = [str(t) for t in data.get("reads") or ()]
        if data.get("sql"):
            with contextlib.suppress(ConfigError):  # the SQL was checked when it ran
                found += [e.source for e in table_lineage(str(data["sql"]), target=target)]
        found += [*schema, *(s.table for c in lineage for s in c.sources)]
        reads: dict[str, str] = {target.lower(): target}
        for table in found:
            reads.setdefault(table.lower(), table)
        return list(reads.values())[1:]

    def _input(self, table: str, columns: Mapping[str, str] | None) -> InputDataset:
        dataset = self._warehouse.table(table)
        facets: dict[str, DatasetFacet] = {}
        if columns:
            facets["schema"] = schema_facet(columns.items())
        return InputDataset(namespace=dataset.namespace, name=dataset.name, facets=facets)

    def _output(
        self,
        step: _StepRun,
        facets: Mapping[str, DatasetFacet] | None = None,
        rows: int | None = None,
    ) -> OutputDataset:
        dataset = self._warehouse.table(step.target)
        output_facets: dict[str, OutputDatasetFacet] = {}
        if rows is not None and not step.view:
            output_facets["outputStatistics"] = (
                output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                    rowCount=rows, producer=PRODUCER
                )
            )
        return OutputDataset(
            namespace=dataset.namespace,
            name=dataset.name,
            facets=dict(facets or {}),
            outputFacets=output_facets,
        )

    def _end_step(
        self,
        event: Event,
        step: _StepRun,
        finished: Mapping[str, Any],
        *,
        dataset_facets: Mapping[str, DatasetFacet] | None = None,
        job_facets: Mapping[str, JobFacet] | None = None,
    ) -> None:
        state = _END_STATES.get(str(finished.get("status")), RunState.ABORT)
        rows = int(finished.get("rows_out") or 0) if state is RunState.COMPLETE else None
        error = finished.get("error_message") if state is RunState.FAIL else None
        self._emit(
            self._step_event(
                event,
                step,
                state,
                outputs=[self._output(step, dataset_facets, rows)],
                job_facets=job_facets,
                error=str(error) if error else None,
            )
        )

    def _step_event(
        self,
        event: Event,
        step: _StepRun,
        state: RunState,
        *,
        outputs: list[OutputDataset],
        job_facets: Mapping[str, JobFacet] | None = None,
        error: str | None = None,
    ) -> RunEvent:
        assert self._run_id is not None
        pipeline = self._pipeline.name
        parent = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=self._run_id),
            job=parent_run.Job(namespace=self._namespace, name=pipeline),
            root=parent_run.Root(
                run=parent_run.RootRun(runId=self._run_id),
                job=parent_run.RootJob(namespace=self._namespace, name=pipeline),
            ),
            producer=PRODUCER,
        )
        facets: dict[str, RunFacet] = {**self._run_facets(event, error), "parent": parent}
        jobs: dict[str, JobFacet] = {"jobType": _job_type(step.kind.upper()), **(job_facets or {})}
        return RunEvent(
            eventType=state,
            eventTime=_time(event.at),
            run=Run(runId=step.run_id, facets=facets),
            job=Job(namespace=self._namespace, name=f"{pipeline}.{step.name}", facets=jobs),
            inputs=list(step.inputs),
            outputs=outputs,
            producer=PRODUCER,
        )

    def _pipeline_event(self, event: Event, state: RunState) -> RunEvent:
        assert self._run_id is not None
        error = event.data.get("error_message") if state is RunState.FAIL else None
        return RunEvent(
            eventType=state,
            eventTime=_time(event.at),
            run=Run(runId=self._run_id, facets=self._run_facets(event, error)),
            job=Job(
                namespace=self._namespace,
                name=self._pipeline.name,
                facets={"jobType": _job_type("PIPELINE")},
            ),
            producer=PRODUCER,
        )

    @staticmethod
    def _run_facets(event: Event, error: object) -> dict[str, RunFacet]:
        facets: dict[str, RunFacet] = {
            "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
                version=SLUICEWAY_VERSION,
                name="sluiceway",
                openlineageAdapterVersion=client_version,
                producer=PRODUCER,
            ),
            "tags": tags_run.TagsRunFacet(
                tags=[
                    tags_run.TagsRunFacetFields(
                        key="sluiceway.run_id", value=event.run_id, source=INTEGRATION
                    )
                ],
                producer=PRODUCER,
            ),
        }
        if error:
            facets["errorMessage"] = _error_facet(str(error))
        return facets

    # --- sending ----------------------------------------------------------------------------

    def _emit(self, event: RunEvent) -> None:
        if self._broken:
            self._dropped += 1
            return
        try:
            self._client.emit(event)
        except Exception as exc:  # the endpoint is down, the file not writable …
            self._broken = True
            what = f"{event.eventType.value if event.eventType else 'an'} event of {event.job.name}"
            where = f" to {self._destination}" if self._destination else ""
            self._note(f"could not send the {what}{where}: {type(exc).__name__}: {exc}")
            return
        self.sent += 1

    def _note(self, text: str) -> None:
        self.notes.append(redact(text))


def _time(at: datetime) -> str:
    return at.isoformat()
