"""Named text formats a `format` rule checks, as regular expressions both engines understand.

The patterns use the common subset of RE2 (DuckDB) and PostgreSQL's ARE: bracket classes and
counted repeats, no look-around, no ``\\d`` (spelled ``[0-9]``).
"""

from __future__ import annotations

FORMATS: dict[str, str] = {
    # local part, one @, a dotted domain ending in a 2+ letter top-level domain
    "email": r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$",
    "url": r"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?([/?#][^ ]*)?$",
    # a North American number: optional +1, area code (optionally in parentheses), 3 + 4 digits
    "phone": r"^(\+?1[ .-]?)?(\([0-9]{3}\)|[0-9]{3})[ .-]?[0-9]{3}[ .-]?[0-9]{4}$",
    "zip_us": r"^[0-9]{5}(-[0-9]{4})?$",
    "iso_date": r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
    "uuid": r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
}

DESCRIPTIONS: dict[str, str] = {
    "email": "a valid email address",
    "url": "an http(s) URL",
    "phone": "a 10-digit North American phone number",
    "zip_us": "a US ZIP code (12345 or 12345-6789)",
    "iso_date": "an ISO date (YYYY-MM-DD)",
    "uuid": "a UUID",
}
