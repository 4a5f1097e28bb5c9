"""Property: for any sequence of compatible batch schemas, evolution loses no column and no
value, and the final table equals a reference computed in plain Python.

Each example writes a sequence of Parquet files whose columns come and go and whose types only
widen (INTEGER → BIGINT → DOUBLE), loads them one run at a time through the real engine with
the default contract (evolve), and compares the DuckDB table with the reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner
from sluiceway.schema.registry import InMemorySchemaRegistry

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LADDER = (pa.int32(), pa.int64(), pa.float64())  # each rung holds every value of the one below
COLUMNS = ("a", "b", "c", "d")


@st.composite
def batch_sequences(draw: st.DrawFn) -> list[tuple[dict[str, int], list[dict[str, Any]]]]:
    """Batches as (column → rung on the ladder, rows); rungs never go down over time."""
    rungs: dict[str, int] = {}
    batches = []
    next_id = 0
    for _ in range(draw(st.integers(1, 4))):
        present = draw(st.lists(st.sampled_from(COLUMNS), unique=True, max_size=len(COLUMNS)))
        for column in present:
            rungs[column] = draw(st.integers(rungs.get(column, 0), len(LADDER) - 1))
        schema = {column: rungs[column] for column in present}
        rows = []
        for _ in range(draw(st.integers(0, 4))):
            row: dict[str, Any] = {"id": next_id}
            next_id += 1
            for column, rung in schema.items():
                value = draw(st.none() | st.integers(-(2**31), 2**31 - 1))
                row[column] = float(value) if value is not None and rung == 2 else value
            rows.append(row)
        batches.append((schema, rows))
    return batches


def _write(path: Path, schema: dict[str, int], rows: list[dict[str, Any]]) -> None:
    fields = [pa.field("id", pa.int64())] + [pa.field(c, LADDER[r]) for c, r in schema.items()]
    columns = {f.name: pa.array([row.get(f.name) for row in rows], type=f.type) for f in fields}
    pq.write_table(pa.table(columns, schema=pa.schema(fields)), path)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=batch_sequences())
def test_evolution_never_loses_a_column_or_a_value(
    tmp_path_factory: pytest.TempPathFactory,
    batches: list[tuple[dict[str, int], list[dict[str, Any]]]],
) -> None:
    root = tmp_path_factory.mktemp("evolve")
    (root / "sluiceway.yaml").write_text(
        "pipeline: property\nsources:\n  t: {type: parquet, path: batch.parquet, lineage: false}\n"
    )
    registry, schemas = Registry(), InMemorySchemaRegistry()
    final_rung: dict[str, int] = {}
    for schema, rows in batches:
        _write(root / "batch.parquet", schema, rows)
        pipeline = registry.load(root / "sluiceway.yaml")
        result = PipelineRunner(pipeline, registry=registry, bus=EventBus(), schemas=schemas).run()
        assert result.status is RunStatus.SUCCEEDED, result.steps[0].error
        for column, rung in schema.items():
            final_rung[column] = max(final_rung.get(column, 0), rung)

    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        columns = [r[0] for r in con.execute("DESCRIBE t").fetchall()]
        table = con.execute("SELECT * FROM t ORDER BY id").fetchall()

    # No column is ever lost: every column any batch had is in the table.
    assert set(columns) == {"id", *final_rung}
    # No value is lost: every row, every value, in the widest type its column reached.
    expected = []
    for _, rows in batches:
        for row in rows:
            values = {"id": row["id"]}
            for column in columns[1:]:
                value = row.get(column)
                if value is not None and final_rung[column] == 2:
                    value = float(value)
                values[column] = value
            expected.append(tuple(values[c] for c in columns))
    assert table == expected
