"""The `clean:` and `dedupe:` config models: every way an operation is written, and the errors."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from sluiceway.spec.cleaning import (
    DEFAULT_NULL_TOKENS,
    OPERATIONS,
    BooleanOp,
    CaseOp,
    CleaningSpec,
    CollapseWhitespaceOp,
    DateOp,
    DedupeSpec,
    EmailOp,
    NullTokensOp,
    PhoneOp,
    ReplaceOp,
    TimestampOp,
    TrimOp,
    UsStateOp,
)

pytestmark = pytest.mark.unit


def one_op(written: Any) -> Any:
    """The model one written operation validates into."""
    return CleaningSpec.model_validate({"c": [written]}).root["c"][0]


def error_of(value: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        CleaningSpec.model_validate(value)
    return caught.value


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("trim", TrimOp(op="trim")),
        ({"trim": None}, TrimOp(op="trim")),
        ("collapse_whitespace", CollapseWhitespaceOp(op="collapse_whitespace")),
        ("lower", CaseOp(op="case", case="lower")),
        ("upper", CaseOp(op="case", case="upper")),
        ("title", CaseOp(op="case", case="title")),
        ({"case": "title"}, CaseOp(op="case", case="title")),
        ({"lower": {}}, CaseOp(op="case", case="lower")),
        ("null_tokens", NullTokensOp(op="null_tokens")),
        (
            {"null_tokens": ["?", "unknown"]},
            NullTokensOp(op="null_tokens", tokens=("?", "unknown")),
        ),
        ("us_state", UsStateOp(op="us_state")),
        ("email", EmailOp(op="email")),
        ("phone", PhoneOp(op="phone", country="US")),
        ({"phone": {"country": "CA"}}, PhoneOp(op="phone", country="CA")),
        ("boolean", BooleanOp(op="boolean")),
        ("date", DateOp(op="date", formats=("%Y-%m-%d",))),
        (
            {"date": {"formats": ["%m/%d/%Y", "%d.%m.%Y"]}},
            DateOp(op="date", formats=("%m/%d/%Y", "%d.%m.%Y")),
        ),
        ({"date": ["%m/%d/%Y"]}, DateOp(op="date", formats=("%m/%d/%Y",))),
        (
            {"timestamp": {"formats": ["%Y-%m-%d %H:%M"]}},
            TimestampOp(op="timestamp", formats=("%Y-%m-%d %H:%M",)),
        ),
        (
            {"replace": {"pattern": "\\s+", "with": " "}},
            ReplaceOp.model_validate({"op": "replace", "pattern": "\\s+", "with": " "}),
        ),
    ],
)
def test_every_written_form_validates_to_its_model(written: Any, expected: Any) -> None:
    assert one_op(written) == expected


def test_the_example_of_the_brief_validates_in_order() -> None:
    spec = CleaningSpec.model_validate(
        {
            "*": ["null_tokens"],
            "email": ["email"],
            "first_name": ["trim", "collapse_whitespace", {"case": "title"}],
            "state": ["trim", "us_state"],
            "phone": [{"phone": {"country": "US"}}],
            "is_active": ["boolean"],
            "signup": [{"date": {"formats": ["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y"]}}],
            "name": [
                {"null_tokens": ["?", "unknown"]},
                {"replace": {"pattern": "\\s+", "with": " "}},
            ],
        }
    )
    assert [op.name for op in spec.star_ops] == ["null_tokens"]
    assert list(spec.column_ops) == [
        "email",
        "first_name",
        "state",
        "phone",
        "is_active",
        "signup",
        "name",
    ]
    assert [op.name for op in spec.column_ops["first_name"]] == [
        "trim",
        "collapse_whitespace",
        "title",
    ]
    assert [op.name for op in spec.column_ops["name"]] == ["null_tokens", "replace"]


def test_defaults() -> None:
    assert one_op("null_tokens").tokens == DEFAULT_NULL_TOKENS
    assert DEFAULT_NULL_TOKENS == ("", "N/A", "NA", "n/a", "null", "NULL", "None", "-")
    assert one_op("phone").country == "US"
    replace = one_op({"replace": {"pattern": "x"}})
    assert replace.replacement == ""


def test_output_types() -> None:
    assert one_op("trim").output_type is None
    assert one_op("boolean").output_type == "BOOLEAN"
    assert one_op("date").output_type == "DATE"
    assert one_op("timestamp").output_type == "TIMESTAMP"
    assert one_op({"timestamp": ["%Y-%m-%d %H:%M:%S %z"]}).output_type == "TIMESTAMPTZ"
    # %%z is a literal percent sign followed by z, not a zone.
    assert one_op({"timestamp": ["%Y-%m-%d %%z %H"]}).output_type == "TIMESTAMP"


def test_a_dump_loads_back_to_the_same_spec() -> None:
    spec = CleaningSpec.model_validate(
        {
            "*": ["null_tokens"],
            "a": ["trim", "title", {"phone": {"country": "CA"}}],
            "b": [{"replace": {"pattern": "-", "with": "_"}}, {"date": ["%d/%m/%Y"]}],
        }
    )
    dumped = spec.model_dump()
    assert dumped["b"][0] == {"op": "replace", "pattern": "-", "with": "_"}
    assert CleaningSpec.model_validate(dumped) == spec
    assert CleaningSpec.model_validate_json(spec.model_dump_json()) == spec


def test_unknown_operation_lists_the_valid_ones_and_suggests_the_closest() -> None:
    error = error_of({"email": ["trimm"]})
    (issue,) = error.errors()
    assert issue["loc"] == ("email", 0)
    assert "unknown cleaning operation 'trimm'" in issue["msg"]
    assert "did you mean 'trim'?" in issue["msg"]
    assert "valid operations: " + ", ".join(OPERATIONS) in issue["msg"]
    assert {"trim", "us_state", "phone", "replace", "boolean", "timestamp"} <= set(OPERATIONS)
    mapping = error_of({"email": [{"lowercase": None}]})
    assert "unknown cleaning operation 'lowercase'" in str(mapping)
    assert "did you mean 'lower'?" in str(mapping)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("case", "`case` needs arguments"),
        ("replace", "`replace` needs arguments"),
        ({"trim": 1}, "`trim` takes no arguments"),
        ({"email": {"x": 1}}, "`email` takes no arguments"),
        ({"phone": "US"}, "`phone` takes a mapping of arguments"),
        ({"trim": None, "lower": None}, "this mapping has keys 'trim', 'lower'"),
        (42, "an operation is a name or a one-key mapping"),
        ({"case": "camel"}, "Input should be 'lower', 'upper' or 'title'"),
        ({"phone": {"country": "FR"}}, "Input should be 'US' or 'CA'"),
        ({"replace": {"with": "x"}}, "Field required"),
        ({"replace": {"pattern": "x", "replacement": "y"}}, "Extra inputs are not permitted"),
        ({"null_tokens": []}, "at least 1 item"),
        ({"date": {"formats": []}}, "at least 1 item"),
        ({"date": {"formats": ["%Y-%Q"]}}, "'%Y-%Q' uses %Q, which strptime does not know"),
        ({"date": {"formats": ["yyyy-mm-dd"]}}, "has no % directive"),
        ({"timestamp": {"formats": ["%Y %"]}}, "a trailing %"),
        ({"date": {"zone": "UTC"}}, "Extra inputs are not permitted"),
    ],
)
def test_bad_operations_say_what_is_wrong(written: Any, message: str) -> None:
    error = error_of({"col": [written]})
    assert message in str(error)
    assert all(issue["loc"][:2] == ("col", 0) for issue in error.errors())


def test_a_column_needs_at_least_one_operation() -> None:
    assert "at least 1 item" in str(error_of({"col": []}))


def test_a_parsing_operation_must_come_last() -> None:
    error = error_of({"flag": ["trim", "boolean", "lower"]})
    assert (
        "`boolean` makes BOOLEAN values, so it must be the last operation (`lower` comes after it)"
        in str(error)
    )
    assert error.errors()[0]["loc"] == ("flag",)
    CleaningSpec.model_validate({"flag": ["trim", "null_tokens", "boolean"]})  # last: fine


def test_parsing_operations_are_not_allowed_for_every_column() -> None:
    error = error_of({"*": ["trim", {"date": ["%Y"]}]})
    assert '`date` under "*" would turn every text column into DATE' in str(error)


def test_a_blank_column_name_is_refused() -> None:
    assert "a column name in `clean` is empty" in str(error_of({" ": ["trim"]}))


def test_the_spec_is_immutable() -> None:
    op = one_op("trim")
    with pytest.raises(ValidationError):
        op.op = "lower"


# --- dedupe ------------------------------------------------------------------------------------


def test_dedupe_defaults_and_fields() -> None:
    spec = DedupeSpec.model_validate({"key": ["customer_id"], "order_by": "updated_at"})
    assert (spec.key, spec.order_by, spec.keep) == (["customer_id"], "updated_at", "last")
    assert DedupeSpec.model_validate({"key": ["a", "b"], "keep": "first"}).order_by is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"key": []}, "at least 1 item"),
        ({"order_by": "x"}, "Field required"),
        ({"key": ["a", "a"]}, "`key` names a column twice"),
        ({"key": ["a"], "order_by": "a"}, "`order_by` 'a' is part of the key"),
        ({"key": ["a"], "keep": "latest"}, "Input should be 'last' or 'first'"),
        ({"key": ["a"], "by": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_dedupe_says_what_is_wrong(value: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DedupeSpec.model_validate(value)
