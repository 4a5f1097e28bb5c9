"""A database source's ``connection``: a URL, checked without ever echoing it.

``postgresql://user:password@host:5432/shop?sslmode=require`` or
``mysql://loader:password@db:3306/shop?charset=utf8mb4``. The password is percent-encoded
(``@`` as ``%40``, ``%`` as ``%25``). Every message here names the part that is wrong and never
the text itself: the URL carries the password, and the text a user wrote by mistake may be
the password too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True, slots=True)
class ServerUrl:
    """The parts of a connection URL. ``password`` is a secret: never put it in a message."""

    scheme: str
    host: str
    port: int
    database: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``host:port/database`` for messages and lineage (never the user or password)."""
        return f"{self.host}:{self.port}/{self.database}"


def parse_url(text: str, *, schemes: tuple[str, ...], default_port: int) -> ServerUrl:
    """``text`` as a URL of one of ``schemes``; a ``ValueError`` that quotes nothing of it.

    >>> parse_url("mysql://root@127.0.0.1/shop", schemes=("mysql",), default_port=3306).label
    '127.0.0.1:3306/shop'
    """
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    example = f"{schemes[0]}://user:password@host:{default_port}/database"
    scheme, sep, _ = text.partition("://")
    if not sep:
        raise ValueError(f"is not a URL: write it as {example}")
    if scheme.lower() not in schemes:
        # The scheme is safe to show only when it is one word (a user may have pasted a DSN).
        shown = f" {scheme!r}" if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]{0,20}", scheme) else ""
        raise ValueError(f"has the scheme{shown}; this source reads {wanted} URLs ({example})")
    parts = urlsplit(text)
    netloc = parts.netloc
    if _BAD_ESCAPE.search(netloc) or _BAD_ESCAPE.search(parts.path):
        raise ValueError(
            "has a '%' that is not followed by two hex digits; percent-encode special "
            "characters of the user and password ('%' as %25, '@' as %40, '/' as %2F)"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"has a port that is not a number from 1 to 65535 ({example})") from None
    host = parts.hostname or ""
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if not host and "host" not in params and "unix_socket" not in params:
        raise ValueError(f"names no host ({example})")
    database = unquote(parts.path.lstrip("/"))
    if "/" in database:
        raise ValueError("has a path of more than one part; the path is the database name")
    return ServerUrl(
        scheme=scheme.lower(),
        host=host or params.get("host", "localhost"),
        port=port or default_port,
        database=database,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        params=params,
    )


def secrets_of(text: str) -> list[str]:
    """What must never appear in a message: the connection text and its password (as written
    and decoded), longest first."""
    found = {text}
    _, sep, rest = text.partition("://")
    if sep:
        userinfo = rest.split("/", 1)[0].rpartition("@")[0]
        password = userinfo.partition(":")[2]
        if password:
            found.update({password, unquote(password)})
    else:  # libpq keywords: password=... or password='...'
        for match in re.finditer(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", text):
            value = match.group(1)
            found.update({value, value.strip("'")})
    return sorted((secret for secret in found if secret), key=len, reverse=True)
