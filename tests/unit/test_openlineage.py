"""OpenLineage events from a run's events: the spec, the events and facets built, their
validity, and that a broken transport never breaks the run.

Validity: openlineage-python ships no JSON schema of the spec (its classes are generated from
it), and no package on PyPI or npm ships one. :func:`assert_valid` validates with jsonschema
against a schema built from the client's own generated classes (each facet class by its
``_schemaURL``, each facet under the key the spec names it by), plus the rules of the spec's
``OpenLineage.json`` that the classes leave to defaults: the required ``producer`` and facet
``_producer``/``_schemaURL``, and the formats (``uuid`` run ids, ``date-time``, ``uri``).
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from typing import Any, Union
from urllib.parse import urlsplit
from uuid import UUID

import attr
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openlineage.client import facet_v2
from openlineage.client.client import Event as OLEvent
from openlineage.client.client import OpenLineageClient
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    environment_variables_run,
    error_message_run,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
    source_code_job,
    source_code_location_job,
    sql_job,
    tags_job,
    tags_run,
)
from openlineage.client.generated import base
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport

from sluiceway.core.events import Event, EventKind
from sluiceway.core.ids import new_id
from sluiceway.core.redaction import register_secret
from sluiceway.engine.registry import Registry
from sluiceway.observe.openlineage import OpenLineageEmitter, WarehouseNames
from sluiceway.spec.loader import LoadedPipeline
from sluiceway.spec.openlineage import OpenLineageSpec
from sluiceway.warehouses.base import WarehouseContext
from tests.conftest import WritePipeline
from tests.spec_helpers import problems

pytestmark = pytest.mark.unit

JSON = dict[str, Any]

# --- validation against the spec --------------------------------------------------------------

# The facets' names in the spec (its RunFacets/JobFacets/DatasetFacets… registries): a facet
# must sit under its name.
FACET_KEYS: dict[type[base.BaseFacet], dict[str, type[base.BaseFacet]]] = {
    base.RunFacet: {
        "parent": parent_run.ParentRunFacet,
        "errorMessage": error_message_run.ErrorMessageRunFacet,
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet,
        "tags": tags_run.TagsRunFacet,
        "nominalTime": nominal_time_run.NominalTimeRunFacet,
        "environmentVariables": environment_variables_run.EnvironmentVariablesRunFacet,
    },
    base.JobFacet: {
        "jobType": job_type_job.JobTypeJobFacet,
        "sql": sql_job.SQLJobFacet,
        "sourceCode": source_code_job.SourceCodeJobFacet,
        "sourceCodeLocation": source_code_location_job.SourceCodeLocationJobFacet,
        "tags": tags_job.TagsJobFacet,
    },
    base.DatasetFacet: {
        "schema": schema_dataset.SchemaDatasetFacet,
        "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet,
    },
    base.InputDatasetFacet: {},
    base.OutputDatasetFacet: {
        "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
    },
}
# Rules of the spec the generated classes leave to defaults (OpenLineage.json).
FORMATS = {
    "eventTime": "date-time",
    "runId": "uuid",
    "producer": "uri",
    "schemaURL": "uri",
    "_producer": "uri",
    "_schemaURL": "uri",
}
REQUIRED = {base.RunEvent: ["run", "job", "eventTime", "producer"]}
FACET_REQUIRED = ["_producer", "_schemaURL"]


def _facet_classes() -> list[type[base.BaseFacet]]:
    """Every facet class the client generated from the spec."""
    modules = [m for m in vars(facet_v2).values() if isinstance(m, types.ModuleType)]
    return [
        c
        for m in modules
        for c in vars(m).values()
        if isinstance(c, type)
        and attr.has(c)
        and issubclass(c, base.BaseFacet)
        and c.__module__ == m.__name__
    ]


class _SchemaFromClient:
    """A JSON schema of OpenLineage events, from the client's generated attrs classes."""

    def __init__(self) -> None:
        self.defs: dict[str, JSON] = {}
        self.facets = _facet_classes()

    def ref(self, cls: type) -> JSON:
        name = f"{cls.__module__}.{cls.__qualname__}"
        if name not in self.defs:
            self.defs[name] = {}  # recursive classes (nested schema fields) refer to it
            self.defs[name] = self._object(cls)
        return {"$ref": f"#/$defs/{name}"}

    def _object(self, cls: type) -> JSON:
        hints = typing.get_type_hints(cls)
        properties: JSON = {}
        required: list[str] = []
        for field in attr.fields(cls):
            schema = self.of(hints[field.name])
            if field.name in FORMATS:
                schema = {**schema, "format": FORMATS[field.name]}
            properties[field.name] = schema
            if field.default is attr.NOTHING:
                required.append(field.name)
        for parent, names in REQUIRED.items():
            if issubclass(cls, parent):
                required = sorted({*required, *names})
        return {"type": "object", "properties": properties, "required": required}

    def of(self, hint: Any) -> JSON:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (Union, types.UnionType):
            options = [a for a in args if a is not type(None)]
            return self.of(options[0]) if len(options) == 1 else {}
        if origin is list:
            return {"type": "array", "items": self.of(args[0])}
        if origin is dict and args[1] in FACET_KEYS:
            return self.facets_of(args[1])
        if origin is dict:
            return {"type": "object", "additionalProperties": self.of(args[1])}
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return {"enum": [member.value for member in hint]}
        if isinstance(hint, type) and attr.has(hint):
            return self.ref(hint)
        simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
        return {"type": simple[hint]} if hint in simple else {}

    def facets_of(self, kind: type[base.BaseFacet]) -> JSON:
        """A facets object: each value a facet of ``kind`` the spec defines (dispatched on its
        ``_schemaURL``), each name the spec gives holding the facet it names so."""
        members = {c._get_schema(): c for c in self.facets if issubclass(c, kind)}
        facet: JSON = {
            "type": "object",
            "required": FACET_REQUIRED,
            "properties": {"_schemaURL": {"enum": sorted(members)}},
            "allOf": [
                {"if": {"properties": {"_schemaURL": {"const": url}}}, "then": self.ref(cls)}
                for url, cls in members.items()
            ],
        }
        name = f"facet:{kind.__qualname__}"
        self.defs[name] = facet
        any_facet = {"$ref": f"#/$defs/{name}"}
        named = {
            key: {
                "allOf": [any_facet, {"properties": {"_schemaURL": {"const": cls._get_schema()}}}]
            }
            for key, cls in FACET_KEYS[kind].items()
        }
        return {"type": "object", "additionalProperties": any_facet, "properties": named}


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value)
    return "T" in value and parsed.tzinfo is not None


def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


@cache
def spec_validator() -> Draft202012Validator:
    built = _SchemaFromClient()
    root = built.ref(base.RunEvent)
    checker = FormatChecker()
    checker.checks("date-time", raises=ValueError)(_date_time)
    checker.checks("uri")(_uri)
    return Draft202012Validator({**root, "$defs": built.defs}, format_checker=checker)


def spec_errors(event: JSON) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(event)'}: {e.message}"
        for e in spec_validator().iter_errors(event)
    ]


def assert_valid(event: JSON) -> JSON:
    """``event`` (parsed from the client's JSON) is a valid OpenLineage run event."""
    errors = spec_errors(event)
    assert not errors, "\n".join(errors)
    return event


# --- emitting -----------------------------------------------------------------------------------


class Collect(Transport):
    """Keeps each event as the client's serializer writes it."""

    kind = "collect"

    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, event: OLEvent) -> None:
        self.lines.append(Serde.to_json(event))

    def events(self) -> list[JSON]:
        return [assert_valid(json.loads(line)) for line in self.lines]


class Refuse(Transport):
    """An endpoint that is down."""

    kind = "refuse"

    def __init__(self) -> None:
        self.tries = 0

    def emit(self, event: OLEvent) -> None:
        self.tries += 1
        raise ConnectionError("connection refused")


PIPELINE = """\
pipeline: shop
sources:
  orders: {type: csv, path: data/orders_*.csv, table: bronze.orders}
"""


class Run:
    """Publishes a run's events, as the runner does, to an emitter."""

    def __init__(self, emitter: OpenLineageEmitter) -> None:
        self.emitter = emitter
        self.run_id = new_id()

    def __call__(self, what: EventKind, step: str | None = None, /, **data: Any) -> None:
        self.emitter(Event(what, self.run_id, "shop", step, data))

    def load(self, name: str, table: str, *, status: str = "succeeded", **data: Any) -> None:
        self(EventKind.STEP_STARTED, name, kind="load", target=table, attempt=1, write="append")
        if status == "succeeded":
            self(EventKind.LOAD_COMMITTED, name, table=table, origin=f"csv:{name}")
        self(EventKind.STEP_FINISHED, name, status=status, target=table, rows_out=3, **data)

    def model(self, name: str, *, write: str = "replace", **built: Any) -> None:
        self(EventKind.STEP_STARTED, name, kind="model", target=name, attempt=1, write=write)
        self(EventKind.STEP_FINISHED, name, status="succeeded", target=name, rows_out=2)
        self(EventKind.MODEL_BUILT, name, table=name, **built)


@pytest.fixture
def pipeline(registry: Registry, write_pipeline: WritePipeline) -> LoadedPipeline:
    return registry.load(write_pipeline(PIPELINE))


def emitter_for(
    registry: Registry, pipeline: LoadedPipeline, transport: Transport
) -> OpenLineageEmitter:
    warehouse = registry.warehouses.create(
        pipeline.spec.warehouse, WarehouseContext(pipeline.state_dir, pipeline.resolve)
    )
    return OpenLineageEmitter(
        pipeline,
        OpenLineageClient(transport=transport),
        warehouse=WarehouseNames.of(warehouse),
        namespace="analytics",
        destination="the test",
    )


@pytest.fixture
def collect() -> Collect:
    return Collect()


@pytest.fixture
def run(registry: Registry, pipeline: LoadedPipeline, collect: Collect) -> Run:
    return Run(emitter_for(registry, pipeline, collect))


def by_job(events: list[JSON]) -> dict[str, list[JSON]]:
    jobs: dict[str, list[JSON]] = {}
    for event in events:
        jobs.setdefault(event["job"]["name"], []).append(event)
    return jobs


def facet_fields(facet: JSON) -> dict[str, list[tuple[str, str, str]]]:
    """A columnLineage facet as ``{column: [(dataset name, field, subtype)]}``."""
    return {
        column: [
            (i["name"], i["field"], i["transformations"][0]["subtype"]) for i in f["inputFields"]
        ]
        for column, f in facet["fields"].items()
    }


SQL = "SELECT order_id, customer_id, amount * 100 AS cents FROM bronze.orders WHERE amount > 0"
BRONZE = {"bronze.orders": {"order_id": "BIGINT", "customer_id": "BIGINT", "amount": "DOUBLE"}}
COLUMNS = [
    {"name": "order_id", "type": "BIGINT"},
    {"name": "customer_id", "type": "BIGINT"},
    {"name": "cents", "type": "DOUBLE"},
]


def test_a_run_emits_start_and_complete_for_the_pipeline_and_each_step(
    run: Run, collect: Collect, pipeline: LoadedPipeline
) -> None:
    run(EventKind.RUN_STARTED, steps=["orders", "silver.orders"])
    run.load("orders", "bronze.orders")
    run.model("silver.orders", kind="sql", code=SQL, sql=SQL, schema=BRONZE, columns=COLUMNS)
    run(EventKind.RUN_FINISHED, status="succeeded")
    run.emitter.close()

    events = collect.events()
    jobs = by_job(events)
    assert list(jobs) == ["shop", "shop.orders", "shop.silver.orders"]
    for job in jobs.values():
        assert [e["eventType"] for e in job] == ["START", "COMPLETE"]
        assert {e["job"]["namespace"] for e in job} == {"analytics"}
        assert len({e["run"]["runId"] for e in job}) == 1
    (pipeline_run,) = {e["run"]["runId"] for e in jobs["shop"]}
    assert UUID(pipeline_run).version == 7  # the client's UUIDv7
    for step in ("shop.orders", "shop.silver.orders"):
        parent = jobs[step][0]["run"]["facets"]["parent"]
        assert parent["run"]["runId"] == pipeline_run
        assert parent["job"] == {"namespace": "analytics", "name": "shop", "facets": {}}
        assert parent["root"]["run"]["runId"] == pipeline_run
    assert [e["eventType"] for e in events] == ["START", *["START", "COMPLETE"] * 2, "COMPLETE"]
    tags = jobs["shop"][0]["run"]["facets"]["tags"]["tags"]
    assert {"key": "sluiceway.run_id", "value": run.run_id, "source": "SLUICEWAY"} in tags
    assert jobs["shop"][1]["job"]["facets"]["jobType"]["jobType"] == "PIPELINE"
    assert run.emitter.sent == 6
    assert run.emitter.notes == []

    load_start, load_end = jobs["shop.orders"]
    assert load_start["job"]["facets"]["jobType"]["jobType"] == "LOAD"
    warehouse = f"duckdb://{pipeline.state_dir / 'warehouse.duckdb'}"
    glob = str(pipeline.base_dir / "data" / "orders_*.csv")
    for event in (load_start, load_end):
        assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [("file", glob)]
        assert [(d["namespace"], d["name"]) for d in event["outputs"]] == [
            (warehouse, "bronze.orders")
        ]
    assert load_end["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 3


def test_a_sql_model_has_schema_column_lineage_and_sql_facets(
    run: Run, collect: Collect, pipeline: LoadedPipeline
) -> None:
    run(EventKind.RUN_STARTED)
    run.model("silver.orders", kind="sql", code=SQL, sql=SQL, schema=BRONZE, columns=COLUMNS)
    run(EventKind.RUN_FINISHED, status="succeeded")

    start, end = by_job(collect.events())["shop.silver.orders"]
    warehouse = f"duckdb://{pipeline.state_dir / 'warehouse.duckdb'}"
    assert start["inputs"] == []  # what a model reads comes with its lineage, at the end
    (read,) = end["inputs"]
    assert (read["namespace"], read["name"]) == (warehouse, "bronze.orders")
    assert [(f["name"], f["type"]) for f in read["facets"]["schema"]["fields"]] == [
        ("order_id", "BIGINT"),
        ("customer_id", "BIGINT"),
        ("amount", "DOUBLE"),
    ]
    (output,) = end["outputs"]
    assert (output["namespace"], output["name"]) == (warehouse, "silver.orders")
    schema = output["facets"]["schema"]["fields"]
    assert [(f["name"], f["type"], f["ordinal_position"]) for f in schema] == [
        ("order_id", "BIGINT", 1),
        ("customer_id", "BIGINT", 2),
        ("cents", "DOUBLE", 3),
    ]
    lineage = output["facets"]["columnLineage"]
    assert facet_fields(lineage) == {
        "order_id": [("bronze.orders", "order_id", "IDENTITY")],
        "customer_id": [("bronze.orders", "customer_id", "IDENTITY")],
        "cents": [("bronze.orders", "amount", "TRANSFORMATION")],
    }
    cents = lineage["fields"]["cents"]["inputFields"][0]
    assert cents["namespace"] == warehouse
    assert cents["transformations"] == [
        {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "bronze.orders.amount * 100"}
    ]
    assert end["job"]["facets"]["sql"]["query"] == SQL
    assert end["job"]["facets"]["sql"]["dialect"] == "duckdb"
    assert end["job"]["facets"]["jobType"]["jobType"] == "MODEL"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2


def test_a_model_event_without_kind_or_code_still_gets_its_sql_facet(
    run: Run, collect: Collect
) -> None:
    """The shape ``model_built`` had before models had kinds: ``sql`` only."""
    run(EventKind.RUN_STARTED)
    run.model("silver.orders", sql=SQL, schema=BRONZE, columns=COLUMNS)
    run(EventKind.RUN_FINISHED, status="succeeded")
    end = by_job(collect.events())["shop.silver.orders"][1]
    assert end["job"]["facets"]["sql"]["query"] == SQL
    assert "columnLineage" in end["outputs"][0]["facets"]


def test_an_operations_model_gets_the_sql_its_chain_compiled_to(run: Run, collect: Collect) -> None:
    chain = "from: bronze.orders\nops:\n  - {op: filter, where: {column: amount, op: gt, value: 0}}"
    run(EventKind.RUN_STARTED)
    run.model("silver.paid", kind="ops", code=chain, sql=SQL, schema=BRONZE, columns=COLUMNS)
    run(EventKind.RUN_FINISHED, status="succeeded")
    end = by_job(collect.events())["shop.silver.paid"][1]
    assert end["job"]["facets"]["sql"]["query"] == SQL
    assert "sourceCode" not in end["job"]["facets"]
    assert sorted(end["outputs"][0]["facets"]["columnLineage"]["fields"]) == [
        "cents",
        "customer_id",
        "order_id",
    ]


def test_published_column_lineage_wins_over_the_sql(run: Run, collect: Collect) -> None:
    published = [
        {
            "column": "revenue",
            "sources": ["silver.orders.cents", "silver.orders.refunds"],
            "expression": "sum(cents - refunds)",
            "kind": "aggregate",
        },
        {"column": "customer_id", "sources": ["silver.orders.customer_id"], "kind": "identity"},
        {"column": "currency", "sources": [], "expression": "'EUR'", "kind": "constant"},
    ]
    run(EventKind.RUN_STARTED)
    run.model(
        "gold.revenue",
        kind="python",
        code="def revenue(orders): ...",
        reads=["silver.orders"],
        column_lineage=published,
        schema={"silver.orders": {"customer_id": "BIGINT", "cents": "DOUBLE"}},
        columns=[{"name": "customer_id", "type": "BIGINT"}, {"name": "revenue", "type": "DOUBLE"}],
    )
    run(EventKind.RUN_FINISHED, status="succeeded")

    end = by_job(collect.events())["shop.gold.revenue"][1]
    assert facet_fields(end["outputs"][0]["facets"]["columnLineage"]) == {
        "revenue": [
            ("silver.orders", "cents", "AGGREGATION"),
            ("silver.orders", "refunds", "AGGREGATION"),
        ],
        "customer_id": [("silver.orders", "customer_id", "IDENTITY")],
    }  # a constant has no input column: it is left out
    assert [d["name"] for d in end["inputs"]] == ["silver.orders"]
    assert "sql" not in end["job"]["facets"]
    assert end["job"]["facets"]["sourceCode"] == {
        "_producer": end["producer"],
        "_schemaURL": source_code_job.SourceCodeJobFacet._get_schema(),
        "language": "PYTHON",
        "sourceCode": "def revenue(orders): ...",
    }


def test_sql_whose_columns_cannot_be_traced_has_no_column_lineage_facet(
    run: Run, collect: Collect
) -> None:
    untraced = "SELECT order_id, amount * 2 FROM bronze.orders"  # an unnamed column
    run(EventKind.RUN_STARTED)
    run.model("silver.doubled", kind="sql", code=untraced, sql=untraced, schema=BRONZE)
    run(EventKind.RUN_FINISHED, status="succeeded")

    end = by_job(collect.events())["shop.silver.doubled"][1]
    assert end["eventType"] == "COMPLETE"
    assert "columnLineage" not in end["outputs"][0]["facets"]
    assert [d["name"] for d in end["inputs"]] == ["bronze.orders"]  # table lineage still


def test_a_view_model_has_no_row_count(run: Run, collect: Collect) -> None:
    run(EventKind.RUN_STARTED)
    run.model("gold.v", write="view", kind="sql", code=SQL, sql=SQL, schema=BRONZE)
    run(EventKind.RUN_FINISHED, status="succeeded")
    end = by_job(collect.events())["shop.gold.v"][1]
    assert end["outputs"][0]["outputFacets"] == {}


def test_failures_are_fail_events_with_the_error_and_no_secret(run: Run, collect: Collect) -> None:
    register_secret("hunter2-ol-secret")
    message = "source 'orders' failed: password hunter2-ol-secret rejected"
    run(EventKind.RUN_STARTED)
    run.load("orders", "bronze.orders", status="failed", error_message=message)
    run(EventKind.STEP_FINISHED, "silver.orders", status="skipped", started=False)
    run(EventKind.RUN_FINISHED, status="failed", error_message=message)

    events = collect.events()
    assert "hunter2-ol-secret" not in json.dumps(events)
    jobs = by_job(events)
    assert list(jobs) == ["shop", "shop.orders"]  # a skipped step never ran: no run of it
    for job in ("shop", "shop.orders"):
        start, end = jobs[job]
        assert (start["eventType"], end["eventType"]) == ("START", "FAIL")
        error = end["run"]["facets"]["errorMessage"]
        assert error["message"] == "source 'orders' failed: password *** rejected"
        assert error["programmingLanguage"] == "PYTHON"
        assert "errorMessage" not in start["run"]["facets"]
    assert "outputStatistics" not in jobs["shop.orders"][1]["outputs"][0]["outputFacets"]


def test_a_cancelled_run_and_step_abort(run: Run, collect: Collect) -> None:
    run(EventKind.RUN_STARTED)
    run.load("orders", "bronze.orders", status="cancelled")
    run(EventKind.RUN_FINISHED, status="cancelled")
    jobs = by_job(collect.events())
    assert [e["eventType"] for e in jobs["shop"]] == ["START", "ABORT"]
    assert [e["eventType"] for e in jobs["shop.orders"]] == ["START", "ABORT"]


def test_each_try_of_a_step_is_its_own_run(run: Run, collect: Collect) -> None:
    run(EventKind.RUN_STARTED)
    run.load("orders", "bronze.orders", status="failed", error_message="timeout")
    run(EventKind.STEP_RETRYING, "orders", attempt=1, next_attempt=2)
    run(EventKind.STEP_STARTED, "orders", kind="load", target="bronze.orders", attempt=2)
    run(EventKind.STEP_FINISHED, "orders", status="succeeded", target="bronze.orders")
    run(EventKind.RUN_FINISHED, status="succeeded")
    tries = by_job(collect.events())["shop.orders"]
    assert [e["eventType"] for e in tries] == ["START", "FAIL", "START", "COMPLETE"]
    assert tries[0]["run"]["runId"] == tries[1]["run"]["runId"]
    assert tries[2]["run"]["runId"] == tries[3]["run"]["runId"] != tries[0]["run"]["runId"]


def test_a_model_whose_lineage_never_came_still_ends(run: Run, collect: Collect) -> None:
    run(EventKind.RUN_STARTED)
    run(EventKind.STEP_STARTED, "silver.orders", kind="model", target="silver.orders")
    run(EventKind.STEP_FINISHED, "silver.orders", status="succeeded", rows_out=1)
    run(EventKind.RUN_FINISHED, status="succeeded")
    assert [e["eventType"] for e in by_job(collect.events())["shop.silver.orders"]] == [
        "START",
        "COMPLETE",
    ]


def test_a_run_that_never_finished_is_aborted_on_close(run: Run, collect: Collect) -> None:
    run(EventKind.RUN_STARTED)
    run(EventKind.STEP_STARTED, "orders", kind="load", target="bronze.orders")
    run.emitter.close()  # the runner raised before run_finished
    assert [(e["job"]["name"], e["eventType"]) for e in collect.events()] == [
        ("shop", "START"),
        ("shop.orders", "START"),
        ("shop.orders", "ABORT"),
        ("shop", "ABORT"),
    ]
    run(EventKind.STEP_FINISHED, "orders", status="succeeded")  # too late: ignored
    assert len(collect.lines) == 4


def test_a_model_whose_columns_could_not_be_read_ends_without_facets(
    run: Run, collect: Collect
) -> None:
    run(EventKind.RUN_STARTED)
    run(EventKind.STEP_STARTED, "silver.orders", kind="model", target="silver.orders")
    run(EventKind.STEP_FINISHED, "silver.orders", status="succeeded", rows_out=1)
    run(EventKind.MODEL_BUILT, "silver.orders", error="the warehouse went away")
    run(EventKind.RUN_FINISHED, status="succeeded")
    end = by_job(collect.events())["shop.silver.orders"][1]
    assert end["eventType"] == "COMPLETE"
    assert end["outputs"][0]["facets"] == {}
    assert run.emitter.notes == ["silver.orders: no lineage facets (the warehouse went away)"]


def test_a_dead_transport_is_noted_once_and_never_raises(
    registry: Registry, pipeline: LoadedPipeline
) -> None:
    refuse = Refuse()
    run = Run(emitter_for(registry, pipeline, refuse))
    run(EventKind.RUN_STARTED)
    run.load("orders", "bronze.orders")
    run(EventKind.RUN_FINISHED, status="succeeded")
    run.emitter.close()
    assert refuse.tries == 1  # the first failure stops the sending
    assert run.emitter.sent == 0
    assert run.emitter.notes == [
        "could not send the START event of shop to the test: ConnectionError: connection refused",
        "3 later event(s) of the run were not sent",
    ]


def test_a_broken_event_is_noted_and_the_others_still_go(run: Run, collect: Collect) -> None:
    run(EventKind.RUN_STARTED)
    run(EventKind.STEP_STARTED, "silver.orders", kind="model", target="silver.orders")
    run(EventKind.STEP_FINISHED, "silver.orders", status="succeeded")
    run(EventKind.MODEL_BUILT, "silver.orders", table="silver.orders", columns=[{"nom": "x"}])
    run(EventKind.RUN_FINISHED, status="succeeded")
    assert run.emitter.notes == [
        "the model_built event of silver.orders was not turned into an OpenLineage event "
        "(KeyError: 'name')"
    ]
    assert [e["eventType"] for e in collect.events()] == ["START", "START", "COMPLETE"]


# --- naming ---------------------------------------------------------------------------------


def test_namespaces_name_servers_without_credentials(
    registry: Registry, write_pipeline: WritePipeline, collect: Collect
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        warehouse: {type: postgres, connection: "${WH_URL}", default_schema: analytics}
        sources:
          orders:
            type: postgres
            connection: ${PG_URL}
            source_table: sales."Orders"
            table: raw.orders
          refunds:
            type: mysql
            connection: ${MY_URL}
            query: SELECT r.id, r.amount FROM refunds r JOIN shop2.orders o ON o.id = r.order_id
          customers:
            type: postgres
            connection: ${CRM}
            source_table: customers
        """
    )
    pipeline = registry.load(
        path,
        env={
            "WH_URL": "postgresql://loader:hunter2-wh@wh.internal:5433/dw",
            "PG_URL": "postgresql://reader:hunter2-pg@pg.internal/shop",
            "MY_URL": "mysql://app:hunter2-my@my.internal:3307/shop",
            "CRM": "host=pg.internal dbname=crm user=reader password=hunter2-libpq",
        },
    )
    run = Run(emitter_for(registry, pipeline, collect))
    run(EventKind.RUN_STARTED)
    run.load("orders", "raw.orders")
    run.load("refunds", "refunds")
    run.load("customers", "customers")
    run(EventKind.RUN_FINISHED, status="succeeded")

    events = collect.events()
    text = json.dumps(events)
    for secret in ("hunter2", "loader", "reader", "app@"):
        assert secret not in text
    ends = {e["job"]["name"]: e for e in events if e["eventType"] == "COMPLETE"}

    def datasets(job: str, side: str) -> list[tuple[str, str]]:
        return [(d["namespace"], d["name"]) for d in ends[job][side]]

    assert datasets("shop.orders", "inputs") == [
        ("postgres://pg.internal:5432", "shop.sales.Orders")
    ]
    assert datasets("shop.orders", "outputs") == [("postgres://wh.internal:5433", "dw.raw.orders")]
    assert datasets("shop.refunds", "inputs") == [
        ("mysql://my.internal:3307", "shop.refunds"),
        ("mysql://my.internal:3307", "shop2.orders"),
    ]
    assert datasets("shop.refunds", "outputs") == [
        ("postgres://wh.internal:5433", "dw.analytics.refunds")
    ]
    assert datasets("shop.customers", "inputs") == [
        ("postgres://pg.internal:5432", "crm.public.customers")
    ]


# --- the spec -------------------------------------------------------------------------------


def test_the_spec_defaults_and_durations() -> None:
    spec = OpenLineageSpec.model_validate(
        {"transport": "http", "url": "http://marquez:5000/", "timeout": "750ms"}
    )
    assert (spec.endpoint, spec.namespace, spec.retries) == ("api/v1/lineage", "sluiceway", 3)
    assert spec.timeout.total_seconds() == 0.75


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{transport: file}", "the `file` transport needs `path`"),
        ("{transport: http}", "the `http` transport needs `url`"),
        ("{transport: console, path: x.jsonl}", "`path` is for the `file` transport"),
        ("{transport: file, path: x, url: 'http://m:5000'}", "`url` is for the `http`"),
        ("{transport: http, url: 'ftp://m'}", "is not an http(s) URL with a host"),
        ("{transport: http, url: 'http://u:pw@m:5000'}", "holds credentials"),
        ("{transport: http, url: 'http://m', timeout: 0s}", "must be longer than zero"),
        ("{transport: kafka}", "'file', 'http' or 'console'"),
        ("{transport: file, path: x, extra: 1}", "extra"),
    ],
)
def test_the_spec_refuses_what_cannot_work(
    registry: Registry, write_pipeline: WritePipeline, block: str, message: str
) -> None:
    path = write_pipeline(PIPELINE + f"openlineage: {block}\n")
    rendered = "\n".join(issue.render() for issue in problems(registry, path))
    assert message in rendered
    assert "pw@" not in rendered


def test_the_api_key_comes_from_the_environment(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    plain = write_pipeline(
        PIPELINE + "openlineage: {transport: http, url: 'http://m:5000', api_key: k3y-plain}\n"
    )
    rendered = "\n".join(issue.render() for issue in problems(registry, plain))
    assert "this field is secret" in rendered
    assert "k3y-plain" not in rendered

    from_env = write_pipeline(
        PIPELINE + "openlineage: {transport: http, url: 'http://m:5000', api_key: '${OL_KEY}'}\n"
    )
    spec = registry.load(from_env, env={"OL_KEY": "k3y-env"}).spec.openlineage
    assert spec is not None
    assert spec.api_key is not None
    assert spec.api_key.get_secret_value() == "k3y-env"
    assert "k3y-env" not in repr(spec)


# --- the validator has teeth ----------------------------------------------------------------


def _valid_event(run: Run, collect: Collect) -> JSON:
    run(EventKind.RUN_STARTED)
    run.model("silver.orders", kind="sql", code=SQL, sql=SQL, schema=BRONZE, columns=COLUMNS)
    return collect.events()[-1]


def _broken(event: JSON, change: Any) -> Iterator[str]:
    copy = json.loads(json.dumps(event))
    change(copy)
    yield from spec_errors(copy)


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda e: e["run"].update(runId="01M8605FDXV6SATZVEX0Z13NCX"), "is not a 'uuid'"),
        (lambda e: e.update(eventTime="2026-11-24"), "is not a 'date-time'"),
        (lambda e: e.pop("producer"), "'producer' is a required property"),
        (lambda e: e.update(eventType="DONE"), "'DONE' is not one of"),
        (lambda e: e["job"].pop("namespace"), "'namespace' is a required property"),
        (
            lambda e: e["job"]["facets"]["sql"].pop("_producer"),
            "'_producer' is a required property",
        ),
        (lambda e: e["job"]["facets"]["sql"].pop("query"), "'query' is a required property"),
        (
            lambda e: e["outputs"][0]["facets"]["schema"]["fields"][0].pop("name"),
            "'name' is a required property",
        ),
        (
            lambda e: e["outputs"][0]["facets"].update(
                columnLineage=e["outputs"][0]["facets"]["schema"]
            ),
            "was expected",
        ),
        (
            lambda e: e["run"]["facets"]["parent"]["run"].update(runId="x"),
            "is not a 'uuid'",
        ),
        (
            lambda e: e["job"]["facets"].update(sql=e["run"]["facets"]["parent"]),
            "is not one of",  # a run facet where a job facet must be
        ),
    ],
)
def test_the_validator_catches_what_the_spec_forbids(
    run: Run, collect: Collect, change: Any, found: str
) -> None:
    errors = list(_broken(_valid_event(run, collect), change))
    assert any(found in error for error in errors), errors


def test_the_schema_requires_what_the_facets_the_emitter_uses_require() -> None:
    schema = spec_validator().schema
    assert isinstance(schema, dict)
    defs = schema["$defs"]
    required = {
        parent_run.ParentRunFacet: ["job", "run"],
        error_message_run.ErrorMessageRunFacet: ["message", "programmingLanguage"],
        column_lineage_dataset.ColumnLineageDatasetFacet: ["fields"],
        column_lineage_dataset.InputField: ["field", "name", "namespace"],
        schema_dataset.SchemaDatasetFacetFields: ["name"],
        sql_job.SQLJobFacet: ["query"],
        job_type_job.JobTypeJobFacet: ["integration", "processingType"],
        base.Run: ["runId"],
        base.RunEvent: ["eventTime", "job", "producer", "run"],
    }
    for cls, names in required.items():
        assert sorted(defs[f"{cls.__module__}.{cls.__qualname__}"]["required"]) == names, cls
