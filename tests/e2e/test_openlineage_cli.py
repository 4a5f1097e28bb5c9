"""OpenLineage events of real runs of `sluiceway run`: a CSV load and a SQL model, the events
written to a JSON-lines file, posted to a real HTTP server, printed on the console; a dead
endpoint and a failing model. Every event is validated against the spec (see
tests/unit/test_openlineage.py)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write
from tests.e2e.cli_process import sluiceway
from tests.unit.test_openlineage import assert_valid

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "data" / "orders.csv", "order_id,customer_id,amount\n1,10,5.5\n2,11,3.0\n")
    write(
        tmp_path / "models" / "silver" / "orders.sql",
        """
        /* {materialized: table} */
        SELECT order_id, customer_id, amount * 100 AS cents FROM bronze.orders
        """,
    )
    return tmp_path


def pipeline(project: Path, openlineage: str) -> None:
    write(
        project / "sluiceway.yaml",
        f"""
        pipeline: shop
        sources:
          orders: {{type: csv, path: data/orders.csv, table: bronze.orders}}
        openlineage: {openlineage}
        """,
    )


def by_job(events: list[JSON]) -> dict[str, list[JSON]]:
    jobs: dict[str, list[JSON]] = {}
    for event in events:
        jobs.setdefault(event["job"]["name"], []).append(event)
    return jobs


def read_events(file: Path) -> list[JSON]:
    return [assert_valid(json.loads(line)) for line in file.read_text().splitlines()]


def test_a_run_appends_its_events_to_a_json_lines_file(project: Path) -> None:
    pipeline(project, "{transport: file, path: lineage/events.jsonl, namespace: analytics}")
    done = sluiceway("run", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "openlineage" not in done.stderr

    file = project / ".sluiceway" / "lineage" / "events.jsonl"
    events = read_events(file)
    jobs = by_job(events)
    assert list(jobs) == ["shop", "shop.orders", "shop.silver.orders"]
    for job in jobs.values():
        assert [e["eventType"] for e in job] == ["START", "COMPLETE"]
        assert {e["job"]["namespace"] for e in job} == {"analytics"}
    pipeline_run = jobs["shop"][0]["run"]["runId"]
    for step in ("shop.orders", "shop.silver.orders"):
        assert jobs[step][1]["run"]["facets"]["parent"]["run"]["runId"] == pipeline_run

    warehouse = f"duckdb://{(project / '.sluiceway' / 'warehouse.duckdb').resolve()}"
    load = jobs["shop.orders"][1]
    assert [(d["namespace"], d["name"]) for d in load["inputs"]] == [
        ("file", str((project / "data" / "orders.csv").resolve()))
    ]
    assert [(d["namespace"], d["name"]) for d in load["outputs"]] == [(warehouse, "bronze.orders")]
    assert load["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 2
    loaded = [f["name"] for f in load["outputs"][0]["facets"]["schema"]["fields"]]
    assert loaded[:3] == ["order_id", "customer_id", "amount"]
    assert "_sluiceway_load_id" in loaded  # the table as loaded, bookkeeping included

    model = jobs["shop.silver.orders"][1]
    assert model["job"]["facets"]["sql"]["query"].strip() == (
        "SELECT order_id, customer_id, amount * 100 AS cents FROM bronze.orders"
    )
    (read,) = model["inputs"]
    assert (read["namespace"], read["name"]) == (warehouse, "bronze.orders")
    assert [f["name"] for f in read["facets"]["schema"]["fields"]][:3] == [
        "order_id",
        "customer_id",
        "amount",
    ]
    (output,) = model["outputs"]
    assert (output["namespace"], output["name"]) == (warehouse, "silver.orders")
    columns = {f["name"]: f["type"] for f in output["facets"]["schema"]["fields"]}
    assert columns["order_id"] == "BIGINT"
    assert columns["cents"] == "DOUBLE"
    lineage = output["facets"]["columnLineage"]["fields"]
    assert sorted(lineage) == ["cents", "customer_id", "order_id"]
    (cents,) = lineage["cents"]["inputFields"]
    assert (cents["namespace"], cents["name"], cents["field"]) == (
        warehouse,
        "bronze.orders",
        "amount",
    )
    assert cents["transformations"] == [
        {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "bronze.orders.amount * 100"}
    ]
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2

    again = sluiceway("run", cwd=project)
    assert again.returncode == 0, again.stderr
    runs = {e["run"]["runId"] for e in read_events(file) if e["job"]["name"] == "shop"}
    assert len(runs) == 2  # appended: one line per event, every run


def test_a_failing_model_fails_its_run_and_the_pipeline_run(project: Path) -> None:
    write(
        project / "models" / "silver" / "broken.sql",
        "/* {materialized: table} */\nSELECT nope FROM bronze.orders\n",
    )
    pipeline(project, "{transport: file, path: events.jsonl}")
    done = sluiceway("run", cwd=project)
    assert done.returncode == 1

    jobs = by_job(read_events(project / ".sluiceway" / "events.jsonl"))
    assert [e["eventType"] for e in jobs["shop.silver.broken"]] == ["START", "FAIL"]
    error = jobs["shop.silver.broken"][1]["run"]["facets"]["errorMessage"]
    assert "nope" in error["message"]
    assert [e["eventType"] for e in jobs["shop.silver.orders"]] == ["START", "COMPLETE"]
    assert [e["eventType"] for e in jobs["shop"]] == ["START", "FAIL"]
    assert "errorMessage" in jobs["shop"][1]["run"]["facets"]


@dataclass
class Received:
    """What an OpenLineage server got: each request's path, Authorization header and body."""

    requests: list[tuple[str, str | None, JSON]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def server() -> Iterator[tuple[str, Received]]:
    """A real HTTP server, in a thread, that accepts every event."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with received.lock:
                received.requests.append(
                    (self.path, self.headers.get("Authorization"), json.loads(body))
                )
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_the_http_transport_posts_every_event_with_the_key(
    project: Path, server: tuple[str, Received]
) -> None:
    url, received = server
    pipeline(project, f"{{transport: http, url: '{url}', api_key: '${{OL_KEY}}'}}")
    done = sluiceway("run", cwd=project, env={"OL_KEY": "k3y-from-env"})
    assert done.returncode == 0, done.stderr
    assert "openlineage" not in done.stderr

    assert {(path, auth) for path, auth, _ in received.requests} == {
        ("/api/v1/lineage", "Bearer k3y-from-env")
    }
    events = [assert_valid(body) for _, _, body in received.requests]
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        ("shop", "START"),
        ("shop.orders", "START"),
        ("shop.orders", "COMPLETE"),
        ("shop.silver.orders", "START"),
        ("shop.silver.orders", "COMPLETE"),
        ("shop", "COMPLETE"),
    ]
    assert "k3y-from-env" not in json.dumps(events)


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_dead_endpoint_does_not_fail_the_run_but_is_reported(project: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    pipeline(project, f"{{transport: http, url: '{url}', retries: 0, timeout: 2s}}")
    done = sluiceway("run", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "succeeded" in done.stdout
    stderr = " ".join(done.stderr.split())
    assert f"openlineage: could not send the START event of shop to {url}/api/v1/lineage" in (
        stderr
    )
    assert "Connection refused" in stderr or "ConnectionError" in stderr
    assert "openlineage: 5 later event(s) of the run were not sent" in stderr


def test_the_console_transport_prints_events_on_stderr(project: Path) -> None:
    pipeline(project, "{transport: console}")
    done = sluiceway("run", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "succeeded"  # stdout stays the summary
    lines = [line for line in done.stderr.splitlines() if line.startswith('{"eventTime"')]
    events = [assert_valid(json.loads(line)) for line in lines]
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        ("shop", "START"),
        ("shop.orders", "START"),
        ("shop.orders", "COMPLETE"),
        ("shop.silver.orders", "START"),
        ("shop.silver.orders", "COMPLETE"),
        ("shop", "COMPLETE"),
    ]


def test_a_bad_openlineage_block_is_a_config_error(project: Path) -> None:
    pipeline(project, "{transport: http}")
    done = sluiceway("run", cwd=project)
    assert done.returncode == 1
    assert "the `http` transport needs `url`" in done.stderr
    assert "Traceback" not in done.stderr
