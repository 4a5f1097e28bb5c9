"""A pipeline's ``schedule:``: when ``sluiceway serve`` runs it.

Three ways to write it::

    schedule: "@hourly"                 # a preset
    schedule: "0 3 * * *"               # a 5-field cron expression
    schedule: "every 15m"               # an interval

or as a mapping, with the options::

    schedule:
      cron: "0 3 * * MON-FRI"           # or `every: 15m`, exactly one of the two
      timezone: Europe/Paris            # cron only; DST-correct (see docs/scheduling.md)
      catchup: all                      # missed runs: `skip` (default) or `all`
      catchup_limit: 5                  # with `all`: at most the 5 most recent, oldest first
      max_active_runs: 1                # runs of this pipeline at once
      enabled: true

The presets are ``@hourly @daily @midnight @weekly @monthly @yearly @annually``. An interval
is a duration (``90s``, ``15m``, ``2h``, ``1d``) of at least one second, counted from the
first time the scheduler saw the pipeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from sluiceway.core.durations import parse_duration
from sluiceway.spec.models_base import StrictModel

PRESETS: Final[dict[str, str]] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
"""What each preset stands for, as a 5-field cron expression."""

MIN_INTERVAL: Final = timedelta(seconds=1)
"""The shortest ``every:``; the scheduler looks at the clock once a second."""

_CRON_FIELDS: Final = 5
_FORMS: Final = (
    "write a 5-field cron expression (minute hour day-of-month month day-of-week, e.g. "
    "`0 3 * * *`), a preset (" + ", ".join(PRESETS) + "), or an interval (`every 15m`)"
)
_EVERY_PREFIX: Final = "every "
# Any fixed date works: a valid expression that never matches (30 February) is found from it.
_PROBE: Final = datetime(2000, 1, 1)  # naive: cron arithmetic is on wall-clock times


def cron_expression(text: str) -> str:
    """The 5-field form of ``text``: a preset expanded, spaces normalised.

    Raises ``ValueError`` naming the bad value and the accepted forms.

    >>> cron_expression("@daily")
    '0 0 * * *'
    """
    written = " ".join(text.split())
    if written.startswith("@"):
        if written.lower() not in PRESETS:
            raise ValueError(f"{text!r} is not a cron preset; {_FORMS}")
        return PRESETS[written.lower()]
    fields = written.split(" ")
    if len(fields) != _CRON_FIELDS:
        raise ValueError(
            f"{text!r} has {len(fields)} field(s), a cron expression has {_CRON_FIELDS}; {_FORMS}"
        )
    # Imported here: every command loads pipeline files, few of them have a cron schedule.
    from croniter import CroniterBadDateError, CroniterError, croniter

    try:
        croniter(written, _PROBE).get_next(datetime)
    except CroniterBadDateError as exc:
        raise ValueError(f"{text!r} never matches a date (like 30 February); {_FORMS}") from exc
    except CroniterError as exc:
        raise ValueError(f"{text!r} is not a valid cron expression ({exc}); {_FORMS}") from exc
    return written


class ScheduleSpec(StrictModel):
    """When ``sluiceway serve`` runs a pipeline, and what it does about runs it missed."""

    cron: str | None = Field(
        None,
        description="A 5-field cron expression (`0 3 * * *`, `*/10 * * * MON-FRI`) or a "
        "preset: @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually.",
    )
    every: str | None = Field(
        None,
        description="An interval (`90s`, `15m`, `2h`, `1d`, at least 1s), counted from the "
        "first time the scheduler saw the pipeline.",
    )
    timezone: str = Field(
        "UTC",
        description="The IANA time zone a cron expression is read in (`Europe/Paris`); "
        "daylight-saving changes are handled. Only for `cron`.",
    )
    catchup: Literal["skip", "all"] = Field(
        "skip",
        description="Runs missed while the scheduler was down: `skip` runs only the latest "
        "missed one, once; `all` runs up to `catchup_limit` of the most recent, oldest first.",
    )
    catchup_limit: int = Field(
        10, ge=1, description="With `catchup: all`: at most this many missed runs are run."
    )
    max_active_runs: int = Field(
        1,
        ge=1,
        description="Runs of this pipeline at once; a run that falls due beyond it is skipped "
        "(and counted), not queued.",
    )
    enabled: bool = Field(True, description="`false` keeps the schedule but never runs it.")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.lower().startswith(_EVERY_PREFIX):
            return {"every": text[len(_EVERY_PREFIX) :].strip()}
        if not text:
            raise ValueError(f"an empty schedule; {_FORMS}")
        return {"cron": text}

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            cron_expression(value)
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is None:
            return None
        interval = parse_duration(value)
        if interval < MIN_INTERVAL:
            raise ValueError(
                f"{value!r} is shorter than {MIN_INTERVAL.total_seconds():g}s, the "
                "scheduler's resolution; write e.g. `every: 30s` or `every: 15m`"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"{value!r} is not a time zone; use an IANA name such as UTC, Europe/Paris "
                "or America/New_York"
            ) from exc
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleSpec:
        if (self.cron is None) == (self.every is None):
            given = "both `cron` and `every`" if self.cron is not None else "neither"
            raise ValueError(f"a schedule needs exactly one of `cron` and `every`, got {given}")
        if self.every is not None and self.timezone != "UTC":
            raise ValueError(
                "`timezone` only applies to `cron`; an `every` interval counts elapsed time"
            )
        return self

    def describe(self) -> str:
        """The schedule as written: ``@hourly``, ``0 3 * * *``, ``every 15m``."""
        if self.cron is not None:
            return " ".join(self.cron.split())
        return f"every {self.every}"

    def interval(self) -> timedelta | None:
        """The interval of an ``every`` schedule; ``None`` for cron."""
        return None if self.every is None else parse_duration(self.every)

    def zone(self) -> ZoneInfo:
        """The time zone the cron expression is read in."""
        return ZoneInfo(self.timezone)
