"""The catalogue of deliberate damage, and how a clean value is damaged.

Each :class:`~sluiceway.demo.plan.DefectSpec` names a defect the manifest reports with its exact
count and keys. The functions below turn the clean values of the few chosen rows into their
damaged form; they run in Python over those rows only (a few percent of a chunk), draw from
:class:`~sluiceway.demo.draws.Draws` keyed by the row's id, and always return a value that
differs from the clean one, so every reported row really is damaged.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sluiceway.demo import layout, vocab
from sluiceway.demo.draws import Draws
from sluiceway.demo.plan import DefectSpec

CUSTOMER_DEFECTS: tuple[DefectSpec, ...] = (
    DefectSpec(
        "customers.exact_duplicate_rows",
        layout.CUSTOMERS,
        layout.CUSTOMER_COLUMNS,
        "the whole row is written twice, identically, one after the other",
        0.005,
    ),
    DefectSpec(
        "customers.near_duplicates",
        layout.CUSTOMERS,
        ("customer_id", "first_name", "last_name", "email"),
        "the same person registered again under a new customer_id, name and email in a "
        "different case or with stray whitespace; keys are [original_id, duplicate_id]",
        0.005,
    ),
    DefectSpec(
        "customers.null_email",
        layout.CUSTOMERS,
        ("email",),
        "email, a required field, is null or blank",
        0.003,
    ),
    DefectSpec(
        "customers.invalid_email",
        layout.CUSTOMERS,
        ("email",),
        "email is malformed: missing @ or domain, doubled @, spaces, no top-level domain",
        0.005,
    ),
    DefectSpec(
        "customers.invalid_phone",
        layout.CUSTOMERS,
        ("phone",),
        "phone is not a 10-digit US number (free text, too few digits, letters)",
        0.005,
    ),
    DefectSpec(
        "customers.noncanonical_state",
        layout.CUSTOMERS,
        ("state",),
        "state is spelled out, abbreviated AP-style, lower-cased or padded instead of the "
        "two-letter code; `variants` maps each spelling to its code",
        0.02,
    ),
    DefectSpec(
        "customers.stray_whitespace_case",
        layout.CUSTOMERS,
        ("first_name", "last_name", "city"),
        "one of first_name, last_name or city has leading/trailing spaces or odd case",
        0.02,
    ),
    DefectSpec(
        "customers.future_birth_date",
        layout.CUSTOMERS,
        ("birth_date",),
        "birth_date is after as_of",
        0.001,
    ),
    DefectSpec(
        "customers.absurd_birth_date",
        layout.CUSTOMERS,
        ("birth_date",),
        "birth_date is before 1900 (placeholder 1900-01-01 or a 19th-century date)",
        0.001,
    ),
)

PRODUCT_DEFECTS: tuple[DefectSpec, ...] = (
    DefectSpec(
        "products.negative_price",
        layout.PRODUCTS,
        ("price",),
        "price is negative (the sign was flipped)",
        0.005,
    ),
    DefectSpec(
        "products.absurd_price",
        layout.PRODUCTS,
        ("price",),
        "price is above 100000 (a misplaced decimal point)",
        0.005,
    ),
    DefectSpec(
        "products.null_category",
        layout.PRODUCTS,
        ("category",),
        "category is empty",
        0.005,
    ),
)

ORDER_DEFECTS: tuple[DefectSpec, ...] = (
    DefectSpec(
        "orders.orphan_customer",
        layout.ORDERS,
        ("customer_id",),
        "customer_id refers to no customer in either drop",
        0.005,
    ),
    DefectSpec(
        "orders.null_customer_id",
        layout.ORDERS,
        ("customer_id",),
        "customer_id is null",
        0.002,
    ),
    DefectSpec(
        "orders.exact_duplicate_rows",
        layout.ORDERS,
        layout.ORDER_COLUMNS,
        "the whole row is written twice, identically, one after the other",
        0.003,
    ),
    DefectSpec(
        "orders.noncanonical_state",
        layout.ORDERS,
        ("shipping_state",),
        "shipping_state is spelled out, abbreviated or padded instead of the two-letter code; "
        "`variants` maps each spelling to its code",
        0.01,
    ),
)

ORDER_ITEM_DEFECTS: tuple[DefectSpec, ...] = (
    DefectSpec(
        "order_items.negative_quantity",
        layout.ORDER_ITEMS,
        ("quantity",),
        "quantity is negative; the order's total_amount was computed from the positive quantity",
        0.002,
    ),
    DefectSpec(
        "order_items.orphan_product",
        layout.ORDER_ITEMS,
        ("product_id",),
        "product_id refers to no product; unit_price is still the real product's price",
        0.003,
    ),
)

PAYMENT_DEFECTS: tuple[DefectSpec, ...] = (
    DefectSpec(
        "payments.amount_mismatch",
        layout.PAYMENTS,
        ("amount",),
        "a captured payment's amount differs from its order's total_amount; keys are order_ids",
        0.005,
    ),
    DefectSpec(
        "payments.duplicate_payment",
        layout.PAYMENTS,
        ("payment_id",),
        "a captured payment is recorded twice under two payment_ids; keys are "
        "[original_payment_id, duplicate_payment_id]",
        0.002,
    ),
)

DROP2_CHANGES: tuple[DefectSpec, ...] = (
    DefectSpec(
        "drop2.customers.updates",
        layout.DROP2_CUSTOMERS,
        ("updated_at",),
        "existing customers sent again with a later updated_at and at least one changed field",
        0.0,
    ),
    DefectSpec(
        "drop2.customers.new",
        layout.DROP2_CUSTOMERS,
        ("customer_id",),
        "customers that signed up after drop 1 was extracted",
        0.0,
    ),
    DefectSpec(
        "drop2.orders.late_updates",
        layout.DROP2_ORDERS,
        ("status", "updated_at"),
        "drop-1 orders placed 30+ days before as_of, sent again with a later updated_at and a "
        "changed status (delivered -> refunded)",
        0.0,
    ),
    DefectSpec(
        "drop2.orders.new",
        layout.DROP2_ORDERS,
        ("order_id",),
        "orders placed after drop 1 was extracted",
        0.0,
    ),
)

ALL_DEFECTS: tuple[DefectSpec, ...] = (
    CUSTOMER_DEFECTS + PRODUCT_DEFECTS + ORDER_DEFECTS + ORDER_ITEM_DEFECTS + PAYMENT_DEFECTS
)

SCHEMA_CHANGE: dict[str, object] = {
    "added": ["loyalty_tier"],
    "renamed": {"phone": "phone_number"},
    "widened": {"credit_limit": ["BIGINT", "DOUBLE"]},
}


def _choices(draws: Draws, stream: str, keys: npt.ArrayLike, options: int) -> list[int]:
    return [int(i) for i in draws.below(stream, keys, options)]


def messy_case(draws: Draws, stream: str, keys: npt.ArrayLike, values: list[str]) -> list[str]:
    """Stray whitespace or odd case, always different from the clean value."""
    styles = (
        lambda v: f" {v}",
        lambda v: f"{v} ",
        lambda v: f"  {v} ",
        str.upper,
        str.lower,
        str.swapcase,
    )
    out: list[str] = []
    for value, style in zip(values, _choices(draws, stream, keys, len(styles)), strict=True):
        damaged = styles[style](value)
        out.append(damaged if damaged != value else f" {value}")
    return out


def messy_email(draws: Draws, stream: str, keys: npt.ArrayLike, emails: list[str]) -> list[str]:
    """The same address in another case or padded: what a second sign-up form may store."""
    out: list[str] = []
    for email, style in zip(emails, _choices(draws, stream, keys, 5), strict=True):
        local, _, domain = email.partition("@")
        if style == 0:
            damaged = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain
        elif style == 1:
            damaged = email.upper()
        elif style == 2:
            damaged = f"{local}@{domain.capitalize()}"
        elif style == 3:
            damaged = f"{email} "
        else:
            damaged = f" {email.capitalize()}"
        out.append(damaged if damaged != email else email.upper())
    return out


def invalid_emails(
    draws: Draws, keys: npt.ArrayLike, first: list[str], last: list[str], emails: list[str]
) -> list[str]:
    """Malformed addresses of the kinds forms let through; none passes a basic email regex."""
    out: list[str] = []
    styles = _choices(draws, "defect.invalid_email", keys, 7)
    for f, lname, email, style in zip(first, last, emails, styles, strict=True):
        local, _, domain = email.partition("@")
        host = domain.split(".")[0]
        given, family = f.lower(), lname.lower()
        out.append(
            (
                f"{given}.{family}@",
                f"{given}.{family} at {domain}",
                f"{given[0]}@{host}",
                f"{local}@@{domain}",
                f"{local}.{domain}",
                f"{local}@{host}.",
                f"{local}@ {domain}",
            )[style]
        )
    return out


_BAD_PHONES = ("12345", "call me", "555-CALL-NOW", "n/a", "000-000", "TBD", "+1", "ask at desk")


def invalid_phones(draws: Draws, keys: npt.ArrayLike, area_codes: list[int]) -> list[str]:
    """Free text or numbers with too few digits."""
    out: list[str] = []
    styles = _choices(draws, "defect.invalid_phone", keys, len(_BAD_PHONES) + 1)
    for area, style in zip(area_codes, styles, strict=True):
        out.append(f"{area}-555" if style == len(_BAD_PHONES) else _BAD_PHONES[style])
    return out


def state_variants(
    draws: Draws, stream: str, keys: npt.ArrayLike, state_indexes: npt.ArrayLike
) -> list[str]:
    """A non-canonical spelling of each state (see :func:`vocab.state_variants`)."""
    out: list[str] = []
    indexes = np.asarray(state_indexes, dtype=np.int64)
    picks = draws.uniform(stream, keys)
    for state_index, u in zip(indexes, picks, strict=True):
        variants = vocab.state_variants(vocab.STATES[int(state_index)])
        out.append(variants[min(int(u * len(variants)), len(variants) - 1)])
    return out


def state_code_of_variant(variant: str) -> str:
    """The two-letter code a generated variant stands for."""
    return _VARIANT_TO_CODE[variant]


_VARIANT_TO_CODE: dict[str, str] = {
    variant: state.code for state in vocab.STATES for variant in vocab.state_variants(state)
}
