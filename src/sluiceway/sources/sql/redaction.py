"""Keep a connection's password out of every message a database source raises."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sluiceway.core.errors import SluicewayError, SourceError
from sluiceway.core.redaction import SecretRegistry


def mask(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***`` (the shared rules of
    :class:`~sluiceway.core.redaction.SecretRegistry`: longest first, short secrets only where
    they stand alone).

    >>> mask("user app (pw 'ab') at db", ["ab"])
    "user app (pw '***') at db"
    """
    registry = SecretRegistry()
    registry.add(secrets)
    return registry.redact(text)


@contextmanager
def redacted(secrets: list[str]) -> Iterator[None]:
    """Re-raise errors with the secrets masked out of their message and hint.

    A foreign exception whose text holds a secret (a driver error no translation caught) is
    replaced by a :class:`SourceError` without it, and without its cause.
    """
    try:
        yield
    except SluicewayError as exc:
        exc.message = mask(exc.message, secrets)
        exc.hint = mask(exc.hint, secrets) if exc.hint is not None else None
        exc.args = (exc.message,)
        raise
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        if mask(text, secrets) == text:
            raise
        raise SourceError(mask(text, secrets)) from None
