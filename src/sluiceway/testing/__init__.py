"""Fakes that fail on command, for testing how pipelines (and the engine) handle failures.

See docs/testing.md. A ``faulty`` source and a ``faulty_duckdb`` warehouse follow named
:class:`FaultScript` s kept in :data:`faults`; :func:`fault_registry` knows both kinds.
"""

from sluiceway.testing.faults import (
    ErrorKind,
    Faults,
    FaultScript,
    LoadStage,
    ReadRecord,
    WarehouseErrorKind,
    fault_registry,
    faults,
)
from sluiceway.testing.source import FaultySource, FaultySourceSpec, faulty_rows
from sluiceway.testing.warehouse import FaultyLoad, FaultyWarehouse, FaultyWarehouseSpec

__all__ = [
    "ErrorKind",
    "FaultScript",
    "Faults",
    "FaultyLoad",
    "FaultySource",
    "FaultySourceSpec",
    "FaultyWarehouse",
    "FaultyWarehouseSpec",
    "LoadStage",
    "ReadRecord",
    "WarehouseErrorKind",
    "fault_registry",
    "faults",
    "faulty_rows",
]
