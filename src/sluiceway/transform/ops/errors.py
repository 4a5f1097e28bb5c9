"""The error an operation chain raises when it cannot be compiled."""

from __future__ import annotations

from sluiceway.core.errors import ConfigError


class OpsError(ConfigError):
    """An operation chain is invalid: a column it names does not exist, an option it needs is
    missing, or it asks for something the SQL cannot express portably. The message starts with
    the operation's place in the chain (``ops[2] (rename)``)."""
