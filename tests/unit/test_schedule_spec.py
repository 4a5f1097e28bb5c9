"""`schedule:` as written in a pipeline file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from sluiceway.engine.registry import Registry
from sluiceway.spec.schedule import PRESETS, ScheduleSpec, cron_expression
from tests.conftest import WritePipeline
from tests.spec_helpers import single

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("written", "cron", "every"),
    [
        ("@hourly", "@hourly", None),
        ("*/5 * * * *", "*/5 * * * *", None),
        ("  0   3 * * MON-FRI ", "0   3 * * MON-FRI", None),
        ("every 15m", None, "15m"),
        ("Every 1d12h", None, "1d12h"),
        ({"cron": "@daily", "timezone": "Europe/Paris"}, "@daily", None),
        ({"every": "90s"}, None, "90s"),
    ],
)
def test_a_string_or_a_mapping(written: object, cron: str | None, every: str | None) -> None:
    spec = ScheduleSpec.model_validate(written)
    assert (spec.cron, spec.every) == (cron, every)


def test_defaults_and_helpers() -> None:
    spec = ScheduleSpec.model_validate("every 15m")
    assert (spec.timezone, spec.catchup, spec.catchup_limit) == ("UTC", "skip", 10)
    assert (spec.max_active_runs, spec.enabled) == (1, True)
    assert spec.interval() == timedelta(minutes=15)
    assert spec.describe() == "every 15m"
    cron = ScheduleSpec.model_validate({"cron": "0  3 * * *", "timezone": "America/New_York"})
    assert cron.interval() is None
    assert cron.describe() == "0 3 * * *"
    assert cron.zone().key == "America/New_York"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_is_a_five_field_expression(preset: str) -> None:
    assert ScheduleSpec.model_validate(preset).cron == preset
    assert len(cron_expression(preset).split()) == 5
    assert cron_expression(preset.upper()) == PRESETS[preset]


def test_presets_mean_what_cron_means() -> None:
    assert cron_expression("@hourly") == "0 * * * *"
    assert cron_expression("@daily") == cron_expression("@midnight") == "0 0 * * *"
    assert cron_expression("@weekly") == "0 0 * * 0"
    assert cron_expression("@monthly") == "0 0 1 * *"
    assert cron_expression("@yearly") == cron_expression("@annually") == "0 0 1 1 *"


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("hourly", r"'hourly' has 1 field\(s\), a cron expression has 5; write a 5-field"),
        ("0 0 * * * *", "has 6 field"),
        ("@reboot", "'@reboot' is not a cron preset; .*@hourly, @daily"),
        ("61 * * * *", r"'61 \* \* \* \*' is not a valid cron expression"),
        ("0 0 30 2 *", "never matches a date"),
        ("", "an empty schedule; write a 5-field cron expression"),
        ("every soon", "'soon' is not a duration; write a number and a unit"),
        ("every 500ms", "'500ms' is shorter than 1s"),
        ({"every": "0s"}, "'0s' is shorter than 1s"),
        ({"cron": "@daily", "every": "1h"}, "exactly one of `cron` and `every`, got both"),
        ({"catchup": "all"}, "exactly one of `cron` and `every`, got neither"),
        ({"cron": "@daily", "timezone": "Mars/Olympus"}, "'Mars/Olympus' is not a time zone"),
        ({"every": "1h", "timezone": "Europe/Paris"}, "`timezone` only applies to `cron`"),
        ({"every": "1h", "catchup": "some"}, "'skip' or 'all'"),
        ({"every": "1h", "catchup_limit": 0}, "greater than or equal to 1"),
        ({"every": "1h", "max_active_runs": 0}, "greater than or equal to 1"),
        ({"every": "1h", "jitter": "5s"}, "Extra inputs are not permitted"),
    ],
)
def test_mistakes_are_refused_with_the_accepted_forms(written: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ScheduleSpec.model_validate(written)


def test_a_pipeline_file_schedule_error_says_where(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        "pipeline: shop\n"
        "sources:\n"
        "  orders: {type: csv, path: orders.csv}\n"
        "schedule:\n"
        "  cron: '0 25 * * *'\n"
    )
    issue = single(registry, path)
    assert (issue.line, issue.path) == (5, "schedule.cron")
    assert "'0 25 * * *' is not a valid cron expression" in issue.message
    assert "@hourly" in issue.message


def test_a_schedule_string_error_points_at_it(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        "pipeline: shop\nsources:\n  orders: {type: csv, path: orders.csv}\n"
        "schedule: every 2 hours\n"
    )
    issue = single(registry, path)
    assert (issue.line, issue.column, issue.path) == (4, 11, "schedule")
    assert issue.message.startswith("'2 hours' is not a duration")


def test_a_pipeline_file_with_a_schedule_loads(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        "pipeline: shop\n"
        "sources:\n"
        "  orders: {type: csv, path: orders.csv}\n"
        "schedule: {every: 1m, catchup: all, catchup_limit: 3}\n"
    )
    schedule = registry.load(path, env={}).spec.schedule
    assert schedule == ScheduleSpec.model_validate(
        {"every": "1m", "catchup": "all", "catchup_limit": 3}
    )
    unscheduled = path.with_name("other.yaml")
    unscheduled.write_text("pipeline: other\nsources:\n  orders: {type: csv, path: orders.csv}\n")
    assert registry.load(unscheduled, env={}).spec.schedule is None
