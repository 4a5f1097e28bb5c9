"""Endpoints: the services steps talk to, named without credentials.

Steps that talk to one endpoint share its circuit breaker and its concurrency limit, so a
connection string written with and without its password names the same endpoint.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_SCHEMES = {"postgresql": "postgres", "postgres": "postgres", "mysql": "mysql"}


def endpoint_of(config: Any) -> str | None:
    """The service a source or warehouse config talks to, without credentials:
    ``postgres://host:5432/db``, ``https://api.example.com``; ``None`` for local files.

    An explicit ``endpoint`` field wins; else ``connection``, ``url`` or ``base_url``.
    """
    explicit = getattr(config, "endpoint", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    kind = str(getattr(config, "type", ""))
    for attribute in ("connection", "url", "base_url"):
        value = getattr(config, attribute, None)
        if value is None:
            continue
        text = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
        return normalize_endpoint(text, scheme=_SCHEMES.get(kind.split("_", maxsplit=1)[0]))
    return None


_PAIR = re.compile(r"\s*(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")
_DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}


def normalize_endpoint(text: str, *, scheme: str | None = None) -> str:
    """A connection string (a URL, or libpq's ``host=… dbname=…`` form; with or without a
    password) as an endpoint id that names host, port and database and never a credential;
    other text (a name such as ``shop_db``) as it is.

    A Unix socket stays its folder (``postgres://[/run/pg]:6543/shop``): two servers on one
    machine are two endpoints.
    """
    if "://" in text:
        return _from_url(text)
    pairs = _keywords(text)
    if pairs is None:
        return text
    return _endpoint(
        scheme or "postgres",
        host=pairs.get("host") or pairs.get("hostaddr"),
        port=pairs.get("port"),
        path=f"/{pairs['dbname']}" if pairs.get("dbname") else "",
    )


def _from_url(text: str) -> str:
    parts = urlsplit(text)
    scheme = parts.scheme.split("+")[0]
    scheme = _SCHEMES.get(scheme, scheme)
    query = dict(parse_qsl(parts.query))
    try:
        port: str | None = str(parts.port) if parts.port else None
    except ValueError:
        port = None
    database = scheme in _DEFAULT_PORTS
    path = parts.path.rstrip("/") if database else ""
    if database and query.get("dbname"):
        path = f"/{query['dbname']}"
    host = parts.hostname or (query.get("host") if database else None)
    return _endpoint(
        scheme, host=host, port=(query.get("port") if database else None) or port, path=path
    )


def _endpoint(scheme: str, *, host: str | None, port: str | None, path: str) -> str:
    host = (host or "localhost").strip("'")
    shown = f"[{host}]" if host.startswith("/") else host.lower()
    port = port or (str(_DEFAULT_PORTS[scheme]) if scheme in _DEFAULT_PORTS else None)
    where = f"{shown}:{port}" if port else shown
    return f"{scheme}://{where}{path}"


def _keywords(text: str) -> dict[str, str] | None:
    """libpq's ``key=value`` pairs, or None when ``text`` is not in that form."""
    pairs: dict[str, str] = {}
    rest = text.strip()
    while rest:
        match = _PAIR.match(rest)
        if match is None:
            return None
        pairs[match.group(1).lower()] = match.group(2).strip("'")
        rest = rest[match.end() :].strip()
    return pairs or None
