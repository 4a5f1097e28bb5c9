"""Registered secrets never leave the process: redaction in messages, logs, stored errors."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluiceway.cli.render import print_error
from sluiceway.core.errors import SourceError
from sluiceway.core.events import Event, EventKind
from sluiceway.core.redaction import (
    MASK,
    SecretRegistry,
    connection_password,
    forget_secrets,
    looks_secret,
    mask_connection,
    redact,
    redact_deep,
    register_secret,
)
from sluiceway.meta.store import MetaStore
from sluiceway.observe.logs import EventLogger
from sluiceway.observe.meta_recorder import MetaRecorder

pytestmark = pytest.mark.unit

PASSWORD = "Tr0ub4dor-3xq"
URL = f"postgresql://loader:{PASSWORD}@db.internal:5432/warehouse"


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


# --- connection strings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "password"),
    [
        ("postgresql://app:s3cret@db:5432/shop", "s3cret"),
        ("postgresql+psycopg://app:p%40ss@db/shop", "p%40ss"),  # as written: percent-encoded
        ("mysql://app:s3cret@db/shop?charset=utf8", "s3cret"),
        ("postgresql://app@db/shop?password=s3cret&sslmode=require", "s3cret"),
        ("host=db dbname=shop password=s3cret", "s3cret"),
        ("host=db password = 'two words' dbname=shop", "two words"),
        (r"host=db password='it\'s'", "it's"),
        ("postgresql://app@db:5432/shop", ""),
        ("postgresql://db/shop", ""),
        ("host=db dbname=shop user=app", ""),
        ("hunter2", None),
        ("host=db s3cret", None),  # a password pasted without its keyword: not libpq's syntax
        ("", None),
    ],
)
def test_the_password_of_a_connection_string(text: str, password: str | None) -> None:
    assert connection_password(text) == password


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (URL, "postgresql://loader:***@db.internal:5432/warehouse"),
        (
            "postgresql://app@db/shop?password=x&sslmode=require",
            "postgresql://app@db/shop?password=***&sslmode=require",
        ),
        ("host=db password='a b' dbname=shop", "host=db password=*** dbname=shop"),
        ("postgresql://app@db/shop", "postgresql://app@db/shop"),
        ("hunter2", MASK),
        ("", ""),
    ],
)
def test_a_connection_string_is_masked_down_to_its_password(text: str, masked: str) -> None:
    assert mask_connection(text) == masked


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DB_PASSWORD", True),
        ("PGPASSWORD", True),
        ("PG_PASS", True),
        ("API_TOKEN", True),
        ("stripe_api_key", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("GCP_CREDENTIALS", True),
        ("DATA_DIR", False),
        ("PRIMARY_KEY", False),
        ("PASSAGE", False),
    ],
)
def test_secret_looking_variable_names(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


# --- the registry --------------------------------------------------------------------------------


def test_a_connection_string_and_its_password_are_redacted() -> None:
    register_secret(URL)

    text = redact(f"connecting to {URL} failed; password {PASSWORD!r} was refused")

    assert text == "connecting to *** failed; password '***' was refused"


def test_every_spelling_of_a_percent_encoded_password_is_redacted() -> None:
    register_secret("postgresql://app:p%40ss%2Fword@db/shop")

    assert redact("p%40ss%2Fword / p@ss/word") == "*** / ***"


def test_a_connection_string_without_a_password_holds_no_secret() -> None:
    register_secret("postgresql://app@db:5432/shop")

    assert redact("connecting to postgresql://app@db:5432/shop") == (
        "connecting to postgresql://app@db:5432/shop"
    )


def test_a_short_secret_is_only_redacted_where_it_stands_alone() -> None:
    register_secret("abc")

    assert redact("abc abcdef (abc) xabc") == "*** abcdef (***) xabc"


def test_blank_values_are_not_secrets() -> None:
    registry = SecretRegistry()
    registry.add(["", "   "])

    assert len(registry) == 0
    assert registry.redact("a b") == "a b"


def test_redact_deep_reaches_every_string() -> None:
    register_secret(PASSWORD)

    shown = redact_deep({"a": [PASSWORD, 1, None, (f"x{PASSWORD}",)], PASSWORD: {"b": PASSWORD}})

    assert shown == {"a": [MASK, 1, None, ("x***",)], MASK: {"b": MASK}}


@settings(max_examples=100)
@given(
    secret=st.text(st.characters(blacklist_characters="*"), min_size=4, max_size=30),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_a_registered_secret_never_survives_redaction(secret: str, before: str, after: str) -> None:
    # "*" is left out: a secret like "***x" could be rebuilt from the mask itself
    registry = SecretRegistry()
    registry.add([secret])

    shown = registry.redact(f"{before}{secret}{after}")

    assert secret.strip() == "" or secret not in shown


# --- where text leaves the process ---------------------------------------------------------------


def test_the_cli_prints_errors_and_tracebacks_without_secrets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    register_secret(URL)
    try:
        raise RuntimeError(f"driver said: bad password {PASSWORD}")
    except RuntimeError as cause:
        error = SourceError(f"cannot read {URL}", hint=f"check {PASSWORD}")
        error.__cause__ = cause

    print_error(error, debug=True)
    print_error(RuntimeError(PASSWORD), debug=False)

    err = capsys.readouterr().err
    assert PASSWORD not in err
    assert "driver said: bad password ***" in err  # the traceback's chained message
    assert "cannot read ***" in err


def test_log_lines_carry_no_secret() -> None:
    register_secret(URL)
    stream = io.StringIO()
    logger = EventLogger("json", stream=stream)

    logger(
        Event(
            EventKind.STEP_FINISHED,
            run_id="r1",
            pipeline="shop",
            step="orders",
            data={"status": "failed", "error_message": f"cannot connect to {URL}"},
        )
    )

    line = json.loads(stream.getvalue())
    assert PASSWORD not in stream.getvalue()
    assert line["error_message"] == "cannot connect to ***"
    assert line["level"] == "error"


class _StoreSpy:
    """Records what the recorder hands the metadata store (the store's SQL is tested apart)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, kwargs))

        return record


def test_stored_error_messages_carry_no_secret() -> None:
    register_secret(URL)
    spy = _StoreSpy()
    recorder = MetaRecorder(cast(MetaStore, spy))
    failure = {"status": "failed", "error_class": "transient", "error_message": f"x {PASSWORD}"}

    recorder(Event(EventKind.RUN_STARTED, "r1", "shop", data={"warehouse": f"postgres {URL}"}))
    recorder(Event(EventKind.STEP_FINISHED, "r1", "shop", step="orders", data=failure))
    recorder(Event(EventKind.RUN_FINISHED, "r1", "shop", data=failure))

    stored = {name: kwargs for name, kwargs in spy.calls}
    assert stored["start_run"]["details"]["warehouse"] == "postgres ***"
    assert stored["finish_step"]["error_message"] == "x ***"
    assert stored["finish_run"]["error_message"] == "x ***"
    assert PASSWORD not in repr(spy.calls)
