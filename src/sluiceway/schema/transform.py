"""Apply a contract's batch plan to every batch: renames, conversions, variants, drops.

Renames, drops and variant routing are pure Arrow operations. Conversions (declared types,
``discard_row`` checks) run as one DuckDB query per batch over the Arrow data, using the exact
casts of :mod:`sluiceway.schema.casting`; a row whose value does not convert is taken out of the
batch and handed to ``reject`` with its column, reason and the original row as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from sluiceway.core.rejects import Reject
from sluiceway.core.sql_quoting import quote_identifier
from sluiceway.core.sql_types import sql_type
from sluiceway.schema.casting import exact_cast_sql
from sluiceway.schema.contract import BatchPlan

FLAG = "__sluiceway_contract"
BATCH_VIEW = "__sluiceway_contract_batch"


class BatchTransform:
    """One load's transform; ``apply`` wraps the source's reader."""

    def __init__(self, plan: BatchPlan, *, source: str, reject: Callable[[Reject], None]) -> None:
        self.plan = plan
        self.source = source
        self.reject = reject
        self.rejected = 0
        self._sql: str | None = None
        self._params: dict[str, Any] = {}

    def apply(self, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        if self.plan.identity:
            return reader
        return pa.RecordBatchReader.from_batches(self.plan.output, self._batches(reader))

    def _batches(self, reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
        con = duckdb.connect(":memory:") if self.plan.rewrites_rows else None
        try:
            for batch in reader:
                renamed = self._rename(batch)
                out = self._convert(con, renamed) if con is not None else self._reshape(renamed)
                yield out if out.schema.equals(self.plan.output) else out.cast(self.plan.output)
        finally:
            if con is not None:
                con.close()

    def _rename(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if not self.plan.renames:
            return batch
        names = [self.plan.renames.get(name, name) for name in batch.schema.names]
        return batch.rename_columns(names)

    def _reshape(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Drops, variant routing and placeholders, without touching values."""
        arrays = []
        for field in self.plan.output:
            source = self._source_of(field.name)
            column = batch.column(source)
            if pa.types.is_null(column.type):
                column = pa.nulls(len(column), field.type)
            arrays.append(column)
        return pa.RecordBatch.from_arrays(arrays, schema=self.plan.output)

    def _source_of(self, output_name: str) -> str:
        for column, variant in self.plan.routes.items():
            if variant == output_name:
                return column
        return output_name

    # -- conversions through DuckDB --------------------------------------------------------

    def _query(self, schema: pa.Schema) -> str:
        if self._sql is not None:
            return self._sql
        casts = {c.column.lower(): (i, c) for i, c in enumerate(self.plan.casts)}
        inner = ["*"]
        for i, cast in enumerate(self.plan.casts):
            value = quote_identifier(cast.column)
            expression = exact_cast_sql(
                value,
                schema.field(cast.column).type,
                cast.type,
                options=cast.options,
                params=self._params,
                key=f"c{i}",
            )
            inner.append(f"{expression} AS {quote_identifier(f'__cast_{i}')}")
        outer = []
        for field in self.plan.output:
            source = self._source_of(field.name)
            entry = casts.get(source.lower())
            if entry is not None:
                outer.append(
                    f"{quote_identifier(f'__cast_{entry[0]}')} AS {quote_identifier(field.name)}"
                )
            else:
                outer.append(
                    f"CAST({quote_identifier(source)} AS {sql_type(field.type)}) "
                    f"AS {quote_identifier(field.name)}"
                )
        branches = []
        for i, cast in enumerate(self.plan.casts):
            value = quote_identifier(cast.column)
            self._params[f"r{i}"] = cast.reason
            self._params[f"n{i}"] = cast.column
            self._params[f"t{i}"] = sql_type(cast.type)
            branches.append(
                f"WHEN {value} IS NOT NULL AND {quote_identifier(f'__cast_{i}')} IS NULL "
                f"THEN {{'column': $n{i}, 'reason': $r{i}, 'value': CAST({value} AS VARCHAR), "
                f"'type': $t{i}}}"
            )
        for j, column in enumerate(self.plan.reject_if_set):
            value = quote_identifier(column)
            self._params[f"s{j}"] = column
            branches.append(
                f"WHEN {value} IS NOT NULL THEN {{'column': $s{j}, 'reason': 'schema', "
                f"'value': CAST({value} AS VARCHAR), 'type': NULL}}"
            )
        flag = f"CASE {' '.join(branches)} END AS {quote_identifier(FLAG)}"
        self._sql = (
            f"SELECT {', '.join([*outer, flag])} FROM "
            f"(SELECT {', '.join(inner)} FROM {quote_identifier(BATCH_VIEW)})"
        )
        return self._sql

    def _convert(self, con: duckdb.DuckDBPyConnection, batch: pa.RecordBatch) -> pa.RecordBatch:
        sql = self._query(batch.schema)
        con.register(BATCH_VIEW, batch)
        try:
            result = con.sql(sql, params=self._params).to_arrow_table()
        finally:
            con.unregister(BATCH_VIEW)
        flags = result.column(FLAG)
        good = result.drop_columns([FLAG])
        if flags.null_count == len(flags):
            return _one_batch(good, self.plan.output)
        keep = pc.is_null(flags)
        for position in pc.indices_nonzero(pc.invert(keep)).to_pylist():
            self._reject_row(batch, position, flags[position].as_py())
        return _one_batch(good.filter(keep), self.plan.output)

    def _reject_row(self, batch: pa.RecordBatch, position: int, flag: dict[str, Any]) -> None:
        row = batch.slice(position, 1).to_pylist()[0]
        column, reason, value, target = flag["column"], flag["reason"], flag["value"], flag["type"]
        if reason == "schema" and target is None:
            message = f"{column}: the table has no such column (policy discard_row)"
        elif reason == "schema":
            message = f"{column}: {value!r} does not fit the table's {target} (policy discard_row)"
        else:
            message = f"{column}: {value!r} cannot be converted to {target}"
        self.rejected += 1
        self.reject(
            Reject(
                source=self.source,
                reason=reason,
                message=message,
                column=column,
                raw=json.dumps(row, default=str),
            )
        )


def _one_batch(table: pa.Table, schema: pa.Schema) -> pa.RecordBatch:
    combined = table.combine_chunks()
    if combined.num_rows == 0:
        return pa.RecordBatch.from_pylist([], schema=schema)
    batches = combined.to_batches()
    batch = batches[0] if batches else pa.RecordBatch.from_pylist([], schema=schema)
    return batch if batch.schema.equals(schema) else batch.cast(schema)
