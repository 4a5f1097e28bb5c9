"""Customers: ``customers.csv`` (drop 1), and the clean person behind every customer id.

A person's attributes are a pure function of (seed, id) (see :mod:`sluiceway.demo.draws`), so
orders can look up their customer's state, drop 2 can restate a customer, and a near-duplicate
can copy one, all without keeping customers in memory. Emails embed the id of the person's first
registration, which makes every clean address unique.

File order: first registrations by id, each exact duplicate right after its original, then the
near-duplicates (new ids after the last first registration) at the end.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluiceway.demo import layout, vocab
from sluiceway.demo.arrow_columns import (
    dates,
    ints_as_text,
    join,
    pick,
    repeat_rows,
    replace_rows,
    timestamps,
    zero_padded,
)
from sluiceway.demo.context import Context
from sluiceway.demo.defects import (
    invalid_emails,
    invalid_phones,
    messy_case,
    messy_email,
    state_variants,
)
from sluiceway.demo.draws import BoolArray, Draws, I64Array
from sluiceway.demo.plan import Picks
from sluiceway.demo.sinks import CsvSink
from sluiceway.demo.timeline import DAY, Timeline, Window

CUSTOMER_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("email", pa.string()),
        ("phone", pa.string()),
        ("birth_date", pa.date32()),
        ("signup_date", pa.date32()),
        ("state", pa.string()),
        ("city", pa.string()),
        ("zip", pa.string()),
        ("is_active", pa.bool_()),
        ("credit_limit", pa.int64()),
        ("updated_at", pa.timestamp("s")),
    ]
)

CREDIT_TIERS = (500, 1000, 1500, 2000, 2500, 3000, 5000, 7500, 10000, 15000, 20000, 25000)
_CREDIT_WEIGHTS = (5, 15, 10, 15, 10, 10, 15, 8, 6, 3, 2, 1)
_STATE_WEIGHTS = [s.weight for s in vocab.STATES]
_CITY_FIRST = np.cumsum([0] + [len(s.cities) for s in vocab.STATES[:-1]])
_CITY_COUNT = np.array([len(s.cities) for s in vocab.STATES])
_AREA_COUNT = np.array([len(s.area_codes) for s in vocab.STATES])
_AREA_CODES = np.array([[*s.area_codes, *([0] * (8 - len(s.area_codes)))] for s in vocab.STATES])
_CITY_NAMES = [city.name for _, city in vocab.CITIES]
_CITY_ZIP_LO = np.array([city.zip_lo for _, city in vocab.CITIES])
_CITY_ZIP_SPAN = np.array([city.zip_hi - city.zip_lo + 1 for _, city in vocab.CITIES])
_FIRST_LOWER = [name.lower() for name in vocab.FIRST_NAMES]
_LAST_LOWER = [name.lower() for name in vocab.LAST_NAMES]
# Common surnames first: a Zipf-like head, as in any real customer list.
_LAST_NAME_WEIGHTS = [1 / (rank + 8) for rank in range(len(vocab.LAST_NAMES))]
_DOMAINS = [domain for domain, _ in vocab.EMAIL_DOMAINS]
_DOMAIN_WEIGHTS = [weight for _, weight in vocab.EMAIL_DOMAINS]
_DAY_1900 = -25_567  # 1900-01-01, the classic "unknown" placeholder
_DAY_1850 = -43_830  # 1850-01-01


@dataclass(frozen=True)
class People:
    """Clean attributes of a batch of customers (numpy arrays, one entry per id)."""

    ids: I64Array
    email_number: I64Array  # id of the person's first registration
    first: I64Array
    last: I64Array
    email_style: I64Array
    domain: I64Array
    state: I64Array
    city: I64Array
    zip: I64Array
    area: I64Array
    exchange: I64Array
    line: I64Array
    phone_style: I64Array
    birth_day: I64Array
    signup_s: I64Array
    is_active: BoolArray
    credit_limit: I64Array
    updated_s: I64Array


def customer_states(draws: Draws, ids: I64Array) -> I64Array:
    """Index into ``vocab.STATES`` of each customer's home state."""
    return draws.weighted("customer.state", ids, _STATE_WEIGHTS)


def signup_window(timeline: Timeline, customers: int) -> Window:
    """Drop-1 customers 1..n sign up over three years, up to the drop-1 cutoff."""
    return Window(timeline.signups_start_s, timeline.drop1_cutoff_s, 1, customers)


def home_in_state(
    draws: Draws, stream: str, ids: I64Array, state: I64Array
) -> tuple[I64Array, I64Array]:
    """A city (index into ``vocab.CITIES``) in each state, and a zip code in that city."""
    city = _CITY_FIRST[state] + draws.below(f"{stream}.city", ids, _CITY_COUNT[state])
    zip_code = _CITY_ZIP_LO[city] + draws.below(f"{stream}.zip", ids, _CITY_ZIP_SPAN[city])
    return np.asarray(city, dtype=np.int64), np.asarray(zip_code, dtype=np.int64)


def people(draws: Draws, timeline: Timeline, ids: I64Array, window: Window) -> People:
    """The clean person behind each customer id signing up in ``window``."""
    state = customer_states(draws, ids)
    city, zip_code = home_in_state(draws, "customer", ids, state)
    area = _AREA_CODES[state, draws.below("customer.area", ids, _AREA_COUNT[state])]
    signup_s = window.times(draws, "customer.signup", ids)
    span_to_end = np.maximum(window.end - 1 - signup_s, 0)
    never_edited = draws.chance("customer.never_edited", ids, 0.55)
    edited_after = (draws.uniform("customer.edited", ids) * span_to_end).astype(np.int64)
    minutes_after = np.minimum(draws.between("customer.minutes", ids, 0, 3600), span_to_end)
    age_days = draws.between("customer.age", ids, 21 * 365, 85 * 365)
    return People(
        ids=ids,
        email_number=ids,
        first=draws.below("customer.first", ids, len(vocab.FIRST_NAMES)),
        last=draws.weighted("customer.last", ids, _LAST_NAME_WEIGHTS),
        email_style=draws.weighted("customer.email_style", ids, [5, 2, 3]),
        domain=draws.weighted("customer.domain", ids, _DOMAIN_WEIGHTS),
        state=state,
        city=city,
        zip=zip_code,
        area=area,
        exchange=draws.between("customer.exchange", ids, 201, 999),
        line=draws.between("customer.line", ids, 0, 9999),
        phone_style=draws.weighted("customer.phone_style", ids, [6, 3, 1, 1]),
        birth_day=timeline.as_of_day - age_days,
        signup_s=signup_s,
        is_active=draws.chance("customer.active", ids, 0.9),
        credit_limit=np.array(CREDIT_TIERS)[
            draws.weighted("customer.credit", ids, _CREDIT_WEIGHTS)
        ],
        updated_s=signup_s + np.where(never_edited, minutes_after, edited_after),
    )


def email_column(p: People) -> pa.Array:
    first, last = pick(_FIRST_LOWER, p.first), pick(_LAST_LOWER, p.last)
    number = ints_as_text(p.email_number)
    initial = pc.utf8_slice_codeunits(first, 0, 1)
    local = pc.choose(
        pa.array(p.email_style.astype(np.int8)),
        join(first, ".", last, number),
        join(first, "_", last, number),
        join(initial, last, number),
    )
    return join(local, "@", pick(_DOMAINS, p.domain))


def phone_column(p: People) -> pa.Array:
    area, exchange = ints_as_text(p.area), ints_as_text(p.exchange)
    line = zero_padded(p.line, 4)
    return pc.choose(
        pa.array(p.phone_style.astype(np.int8)),
        join(area, "-", exchange, "-", line),
        join("(", area, ") ", exchange, "-", line),
        join("+1 ", area, "-", exchange, "-", line),
        join(area, ".", exchange, ".", line),
    )


def customer_columns(p: People) -> dict[str, pa.Array]:
    """Clean drop-1 columns, in file order."""
    return {
        "customer_id": pa.array(p.ids),
        "first_name": pick(vocab.FIRST_NAMES, p.first),
        "last_name": pick(vocab.LAST_NAMES, p.last),
        "email": email_column(p),
        "phone": phone_column(p),
        "birth_date": dates(p.birth_day),
        "signup_date": dates(p.signup_s // DAY),
        "state": pick(vocab.STATE_CODES, p.state),
        "city": pick(_CITY_NAMES, p.city),
        "zip": zero_padded(p.zip, 5),
        "is_active": pa.array(p.is_active),
        "credit_limit": pa.array(p.credit_limit),
        "updated_at": timestamps(p.updated_s),
    }


def _damage(
    ctx: Context, picks: Picks, p: People, cols: dict[str, pa.Array], *, span: tuple[int, int]
) -> None:
    """Apply every customer defect that falls in rows ``span`` to ``cols`` in place."""
    draws, ledger = ctx.draws, ctx.ledger
    lo, hi = span

    def rows(defect: str) -> I64Array:
        offsets = picks.offsets(lo, hi, defect)
        ledger.add_keys(defect, p.ids[offsets])
        return offsets

    def text(column: str, offsets: I64Array) -> list[str]:
        return [str(v) for v in cols[column].take(pa.array(offsets)).to_pylist()]

    at = rows("customers.null_email")
    blanks: list[object] = [
        (None, "", " ")[i] for i in draws.below("defect.null_email", p.ids[at], 3)
    ]
    cols["email"] = replace_rows(cols["email"], at, blanks)

    at = rows("customers.invalid_email")
    bad = invalid_emails(
        draws, p.ids[at], text("first_name", at), text("last_name", at), text("email", at)
    )
    cols["email"] = replace_rows(cols["email"], at, bad)

    at = rows("customers.invalid_phone")
    cols["phone"] = replace_rows(
        cols["phone"], at, invalid_phones(draws, p.ids[at], p.area[at].tolist())
    )

    at = rows("customers.noncanonical_state")
    variants = state_variants(draws, "defect.customer_state", p.ids[at], p.state[at])
    ledger.add_variants("customers.noncanonical_state", variants)
    cols["state"] = replace_rows(cols["state"], at, variants)

    at = rows("customers.stray_whitespace_case")
    which = draws.below("defect.case_column", p.ids[at], 3)
    for index, column in enumerate(("first_name", "last_name", "city")):
        sub = at[which == index]
        messy = messy_case(draws, f"defect.case.{column}", p.ids[sub], text(column, sub))
        cols[column] = replace_rows(cols[column], sub, messy)

    at = rows("customers.future_birth_date")
    future = ctx.timeline.as_of_day + draws.between("defect.future_birth", p.ids[at], 1, 4000)
    cols["birth_date"] = replace_rows(cols["birth_date"], at, dates(future))

    at = rows("customers.absurd_birth_date")
    ancient = _DAY_1850 + draws.below("defect.ancient_birth", p.ids[at], _DAY_1900 - _DAY_1850)
    placeholder = draws.chance("defect.placeholder_birth", p.ids[at], 0.5)
    cols["birth_date"] = replace_rows(
        cols["birth_date"], at, dates(np.where(placeholder, _DAY_1900, ancient))
    )


def near_duplicates(ctx: Context, originals: I64Array, new_ids: I64Array) -> pa.Table:
    """The people ``originals`` signing up again as ``new_ids``, typed a little differently."""
    draws, timeline = ctx.draws, ctx.timeline
    base = people(draws, timeline, originals, signup_window(timeline, ctx.sizes.customers))
    room = np.maximum(timeline.drop1_cutoff_s - 1 - base.signup_s, 0)
    signup_s = base.signup_s + (draws.uniform("near.signup", new_ids) * room).astype(np.int64)
    minutes = draws.between("near.minutes", new_ids, 0, 3600)
    again = dataclasses.replace(
        base,
        ids=new_ids,
        phone_style=(base.phone_style + 1) % 4,  # same number, typed differently
        signup_s=signup_s,
        is_active=np.ones(len(new_ids), dtype=np.bool_),
        credit_limit=np.full(len(new_ids), 1000, dtype=np.int64),
        updated_s=np.minimum(signup_s + minutes, timeline.drop1_cutoff_s - 1),
    )
    cols = customer_columns(again)
    which = draws.below("near.name_fields", new_ids, 3)  # first, last, or both
    everything = np.arange(len(new_ids))
    for column, touched in (("first_name", which != 1), ("last_name", which != 0)):
        at = everything[touched]
        clean = [str(v) for v in cols[column].take(pa.array(at)).to_pylist()]
        cols[column] = replace_rows(
            cols[column], at, messy_case(draws, f"near.{column}", new_ids[at], clean)
        )
    emails = [str(v) for v in cols["email"].to_pylist()]
    cols["email"] = pa.array(messy_email(draws, "near.email", new_ids, emails), pa.string())
    return pa.table(cols, schema=CUSTOMER_SCHEMA)


def write_customers(ctx: Context, picks: Picks) -> None:
    """Write ``customers.csv``: first registrations in chunks, then the near-duplicates."""
    total = ctx.sizes.customers
    window = signup_window(ctx.timeline, total)
    near = picks.ordinals_of("customers.near_duplicates") + 1
    rows_total = total + len(near)
    with CsvSink(ctx.out_dir, layout.CUSTOMERS, CUSTOMER_SCHEMA) as sink:
        ctx.report("customers", 0, rows_total)
        for lo, hi in ctx.spans(total):
            ids = np.arange(lo + 1, hi + 1, dtype=np.int64)
            p = people(ctx.draws, ctx.timeline, ids, window)
            cols = customer_columns(p)
            _damage(ctx, picks, p, cols, span=(lo, hi))
            duplicated = picks.offsets(lo, hi, "customers.exact_duplicate_rows")
            ctx.ledger.add_keys("customers.exact_duplicate_rows", ids[duplicated])
            sink.write(repeat_rows(pa.table(cols, schema=CUSTOMER_SCHEMA), duplicated))
            ctx.report("customers", hi, rows_total)
        for lo, hi in ctx.spans(len(near)):
            new_ids = np.arange(total + lo + 1, total + hi + 1, dtype=np.int64)
            sink.write(near_duplicates(ctx, near[lo:hi], new_ids))
            ctx.ledger.add_pairs("customers.near_duplicates", near[lo:hi], new_ids)
            ctx.report("customers", total + hi, rows_total)
        ctx.ledger.add_file(sink.close())
