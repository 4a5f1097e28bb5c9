"""Change data capture: database logs read as batches of inserts, updates and deletes."""

from sluiceway.cdc.change_batch import (
    COMMIT_TS,
    DELETE,
    INSERT,
    LSN,
    OP,
    SEQ,
    TRUNCATE,
    UNCHANGED,
    UPDATE,
    ChangeBatch,
)
from sluiceway.cdc.pg_log import (
    SlotPosition,
    check_server,
    confirm,
    connect,
    drop_slot,
    ensure_slot,
    read_changes,
    slot_position,
)
from sluiceway.cdc.pg_lsn import format_lsn, parse_lsn
from sluiceway.cdc.pg_snapshot import read_snapshot
from sluiceway.core.names import is_valid_slot_name

__all__ = [
    "COMMIT_TS",
    "DELETE",
    "INSERT",
    "LSN",
    "OP",
    "SEQ",
    "TRUNCATE",
    "UNCHANGED",
    "UPDATE",
    "ChangeBatch",
    "SlotPosition",
    "check_server",
    "confirm",
    "connect",
    "drop_slot",
    "ensure_slot",
    "format_lsn",
    "is_valid_slot_name",
    "parse_lsn",
    "read_changes",
    "read_snapshot",
    "slot_position",
]
