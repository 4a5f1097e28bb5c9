"""Secrets never printed: a process-wide set of secret strings, and ``redact(text)``.

The loader registers every secret it resolves (each ``SecretStr`` value, the password inside a
connection string, each value from the secrets file and from a secret-looking environment
variable). Wherever text leaves the process (the CLI's error output, the structured logs, the
error messages stored in the metadata store), ``redact`` replaces each registered secret with
``***``::

    >>> register_secret("postgresql://app:hunter2@db:5432/shop")
    >>> redact("connection to postgresql://app:hunter2@db:5432/shop failed (hunter2)")
    'connection to *** failed (***)'
    >>> forget_secrets()

A connection string (a URL, or libpq's ``key=value`` words) whose password is absent carries
no secret, and is not registered. Secrets shorter than four characters are replaced only where
they stand alone (not inside a longer word), so that a short password does not shred every
message it happens to be part of.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote

MASK = "***"
SHORT = 4  # secrets shorter than this are only replaced as whole words

# keys of a connection string (URL query or libpq keyword) whose value is a secret
SECRET_KEYS = frozenset({"password", "sslpassword"})
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.:\-]*://)([^/?#]*)")
_KEYWORD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|(?:[^\s'\\]|\\.)*)")
_SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL"
    r"|(^|_)(PASS|PWD|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY)(_|$)",
    re.IGNORECASE,
)


class SecretRegistry:
    """A set of secret strings and a compiled pattern that finds any of them."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            fresh = {v for v in values if v.strip()} - self._secrets
            if fresh:
                self._secrets |= fresh
                self._pattern = None

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._pattern = None

    def __len__(self) -> int:
        return len(self._secrets)

    def redact(self, text: str) -> str:
        pattern = self._compiled()
        return text if pattern is None else pattern.sub(MASK, text)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._secrets:
                # longest first: a password inside its connection string goes with the whole
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(_alternative(s) for s in ordered))
            return self._pattern


def _alternative(secret: str) -> str:
    escaped = re.escape(secret)
    if len(secret) >= SHORT:
        return escaped
    return rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])"


_registry = SecretRegistry()


def register_secret(value: str) -> None:
    """Remember ``value`` as secret: the whole of it, and the password inside it if any.

    A connection string without a password is not secret and is not registered.
    """
    password = connection_password(value)
    if password is None:  # not a connection string: the whole value is the secret
        _registry.add([value])
    elif password:
        _registry.add([value, password, unquote(password), quote(unquote(password), safe="")])


def register_secrets(values: Iterable[str]) -> None:
    for value in values:
        register_secret(value)


def forget_secrets() -> None:
    """Forget every registered secret (tests start from a clean slate)."""
    _registry.clear()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    return _registry.redact(text)


def redact_deep(value: Any) -> Any:
    """``redact`` applied to every string inside dicts, lists and tuples (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_deep(k): redact_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_deep(v) for v in value)
    return value


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret (``DB_PASSWORD``)."""
    return _SECRET_NAME.search(name) is not None


# --- connection strings -------------------------------------------------------------------------


def connection_password(text: str) -> str | None:
    """The password written in a connection string, as written (URLs: still percent-encoded).

    ``""`` for a connection string without one, ``None`` for text that is not a connection
    string (a URL with a scheme, or libpq ``key=value`` words).

    >>> connection_password("postgresql://app:s3cret@db/shop")
    's3cret'
    >>> connection_password("host=db dbname=shop password='a b'")
    'a b'
    >>> connection_password("postgresql://app@db/shop"), connection_password("hunter2")
    ('', None)
    """
    spans = _secret_spans(text)
    if spans is None:
        return None
    if not spans:
        return ""
    start, end = spans[0]
    return text[start:end] if _URL.match(text) else _unquoted(text[start:end])


def mask_connection(text: str) -> str:
    """A connection string with its password masked; any other text masked whole.

    >>> mask_connection("postgresql://app:s3cret@db:5432/shop?sslmode=require")
    'postgresql://app:***@db:5432/shop?sslmode=require'
    >>> mask_connection("host=db password=s3cret"), mask_connection("hunter2")
    ('host=db password=***', '***')
    """
    spans = _secret_spans(text)
    if spans is None:
        return MASK if text else text
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + MASK + text[end:]
    return text


def _secret_spans(text: str) -> list[tuple[int, int]] | None:
    """Where the secret values of a connection string are; None if it is not one."""
    url = _URL.match(text)
    if url is not None:
        spans = []
        scheme, netloc = url.group(1), url.group(2)
        userinfo, at, _ = netloc.rpartition("@")
        if at and ":" in userinfo:
            start = len(scheme) + userinfo.index(":") + 1
            spans.append((start, len(scheme) + len(userinfo)))
        query = text.find("?", url.end())
        if query >= 0:
            spans.extend(_query_spans(text, query + 1))
        return spans
    words = _keywords(text)
    if words is None:
        return None
    return [(start, end) for key, start, end in words if key.lower() in SECRET_KEYS]


def _query_spans(text: str, start: int) -> list[tuple[int, int]]:
    end = text.find("#", start)
    end = len(text) if end < 0 else end
    spans = []
    position = start
    for pair in text[start:end].split("&"):
        key, equals, _ = pair.partition("=")
        if equals and unquote(key).lower() in SECRET_KEYS:
            spans.append((position + len(key) + 1, position + len(pair)))
        position += len(pair) + 1
    return spans


def _keywords(text: str) -> list[tuple[str, int, int]] | None:
    """libpq's ``key=value`` words: (key, value start, value end); None if ``text`` is not."""
    words = []
    position = 0
    while text[position:].strip():
        match = _KEYWORD.match(text, position)
        if match is None or match.end() == position:
            return None
        words.append((match.group(1), match.start(2), match.end(2)))
        position = match.end()
        if position < len(text) and not text[position].isspace():
            return None  # ``a=b'c'``: not something libpq reads
    return words or None


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        value = value[1:-1]
    return re.sub(r"\\(.)", r"\1", value)
