"""`incremental:` as written in a pipeline file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from sluiceway.spec.incremental import IncrementalSpec

pytestmark = pytest.mark.unit


def test_a_cursor_a_file_tracker_or_both() -> None:
    assert IncrementalSpec.model_validate({"files": True}).cursor is None
    both = IncrementalSpec.model_validate({"cursor": "ts", "files": True, "lookback": "2h"})
    assert both.lookback_delta() == timedelta(hours=2)
    assert IncrementalSpec.model_validate({"cursor": "id", "lookback": 5}).lookback_delta() == 5


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ({}, "needs a `cursor` column, `files: true`, or both"),
        ({"files": True, "lookback": "1h"}, "need a `cursor`"),
        ({"cursor": "ts", "lookback": "soon"}, "'soon' is not a duration"),
        ({"cursor": "id", "lookback": -1}, "must not be negative"),
        ({"files": True, "changed": "ignore"}, "'reload', 'skip' or 'fail'"),
    ],
)
def test_mistakes_are_refused(written: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        IncrementalSpec.model_validate(written)
