"""The error tree.

Every error Sluiceway raises derives from :class:`SluicewayError`. Each class carries an
:class:`ErrorClass` that the engine reads to decide what to do with a failure:

- ``transient``: retry with backoff (a server restarting, a file lock held by another process);
- ``data``: the offending rows go to the dead-letter queue and the run goes on;
- ``schema``: the table's contract decides (evolve, freeze, discard);
- ``terminal``: the step fails and its transaction rolls back.

Third-party exceptions are translated where they enter (a source module translates DuckDB's CSV
errors, the warehouse translates lock errors); the original stays attached as ``__cause__``.

Tree::

    SluicewayError
    ├── ConfigError                 terminal   the pipeline definition is invalid
    ├── SourceError                 terminal   a source cannot be read
    │   ├── SourceNotFoundError     terminal   no file matches, the path does not exist
    │   ├── MalformedInputError     data       a row or file cannot be parsed
    │   └── SourceUnavailableError  transient  a server or service is unreachable
    ├── SchemaError                 schema     batch and target disagree on columns or types
    ├── DataError                   data       values violate the load's expectations
    ├── WarehouseError              terminal   the warehouse refused the work
    │   ├── WarehouseUnavailableError  transient  connection lost, server restarting
    │   └── WarehouseLockedError    transient  another process holds the warehouse file
    ├── MetaStoreError              terminal   the metadata store cannot be read or written
    │   └── NotFoundError           terminal   a run, step or object does not exist
    ├── PipelineLockedError         transient  another run of the pipeline holds its lock
    ├── CancelledError              terminal   the run was cancelled by the operator
    ├── StepTimeoutError            transient  a step ran past its timeout
    ├── CircuitOpenError            transient  an endpoint's circuit breaker is open
    └── UserCodeError               terminal   user code (a transform, a custom rule) raised
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


class ErrorClass(StrEnum):
    """How the engine treats a failure; see the module docstring."""

    TRANSIENT = "transient"
    DATA = "data"
    SCHEMA = "schema"
    TERMINAL = "terminal"


@dataclass(frozen=True, slots=True)
class Location:
    """Where an error happened. Every field is optional; render only what is known."""

    file: str | None = None
    line: int | None = None
    column: int | str | None = None
    table: str | None = None
    field: str | None = None

    def render(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if isinstance(self.column, int):
                    where += f":{self.column}"
            parts.append(where)
        if isinstance(self.column, str):
            parts.append(f"column {self.column!r}")
        if self.table is not None:
            parts.append(f"table {self.table}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        return ", ".join(parts)


class SluicewayError(Exception):
    """Root of every error Sluiceway raises.

    ``message`` says what happened, ``location`` where, ``hint`` what to do next.
    """

    error_class: ClassVar[ErrorClass] = ErrorClass.TERMINAL

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        location: Location | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def render(self) -> str:
        """One paragraph for people: what, where, what next."""
        text = self.message
        if self.location is not None:
            where = self.location.render()
            if where:
                text = f"{where}: {text}"
        if self.hint:
            text = f"{text}\n{self.hint}"
        return text

    def __str__(self) -> str:
        return self.render()


class ConfigError(SluicewayError):
    """The pipeline definition or a setting is invalid."""

    def __init__(
        self,
        message: str,
        *,
        issues: list[ConfigIssue] | None = None,
        hint: str | None = None,
        location: Location | None = None,
    ) -> None:
        super().__init__(message, hint=hint, location=location)
        self.issues = issues or []

    def render(self) -> str:
        if not self.issues:
            return super().render()
        lines = [self.message]
        lines.extend(f"  {issue.render()}" for issue in self.issues)
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a pipeline file: where it is, which field, what is wrong, what is allowed."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class SourceError(SluicewayError):
    """A source cannot be read."""


class SourceNotFoundError(SourceError):
    """The file, glob or object the source names does not exist."""


class MalformedInputError(SourceError):
    """A row or a whole file cannot be parsed; rows like it can go to the DLQ."""

    error_class = ErrorClass.DATA


class SourceUnavailableError(SourceError):
    """A server or service the source needs is unreachable right now."""

    error_class = ErrorClass.TRANSIENT


class SchemaError(SluicewayError):
    """Batch and target disagree on columns or types."""

    error_class = ErrorClass.SCHEMA


class DataError(SluicewayError):
    """Values violate what the load requires (a null primary key, a cast that fails)."""

    error_class = ErrorClass.DATA


class WarehouseError(SluicewayError):
    """The warehouse refused the work."""


class WarehouseUnavailableError(WarehouseError):
    """The warehouse cannot be reached right now."""

    error_class = ErrorClass.TRANSIENT


class WarehouseLockedError(WarehouseError):
    """Another process holds the warehouse (a DuckDB file admits one writer)."""

    error_class = ErrorClass.TRANSIENT


class MetaStoreError(SluicewayError):
    """The metadata store cannot be read or written."""


class NotFoundError(MetaStoreError):
    """A run, step or other recorded object does not exist."""


class PipelineLockedError(SluicewayError):
    """Another process is running the pipeline (it holds the pipeline's run lock).

    Transient: the lock frees itself when the holding process ends, so trying again later
    succeeds; nothing was read or written. ``run_id`` and ``pid`` name the holder when its
    lock file said so.
    """

    error_class = ErrorClass.TRANSIENT

    def __init__(
        self,
        message: str,
        *,
        pipeline: str,
        run_id: str | None = None,
        pid: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.pipeline = pipeline
        self.run_id = run_id
        self.pid = pid


class CancelledError(SluicewayError):
    """The operator cancelled the run; committed work stays, the current load rolls back."""


class StepTimeoutError(SluicewayError):
    """A step ran longer than its ``timeout``; it stopped at a batch boundary and rolled back."""

    error_class = ErrorClass.TRANSIENT


class CircuitOpenError(SluicewayError):
    """An endpoint failed too often: its circuit breaker is open, so the step was not tried."""

    error_class = ErrorClass.TRANSIENT

    def __init__(self, message: str, *, endpoint: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.endpoint = endpoint


class UserCodeError(SluicewayError):
    """User code raised; the original exception is kept as ``__cause__`` with its traceback."""


def classify(exc: BaseException) -> ErrorClass:
    """The error class of any exception; foreign exceptions are terminal until translated."""
    if isinstance(exc, SluicewayError):
        return exc.error_class
    return ErrorClass.TERMINAL
