"""The schema contract: how a batch stream meets the table it lands in.

Before anything is staged, the stream's schema is compared with the table's current schema
(read from the warehouse, which is the truth) under the table's contract, and the outcome is
a :class:`ContractPlan`:

- **renames** first: declared ``renames`` and the aliases the registry remembers from earlier
  renames map incoming names to table names; a table column with a declared old name is
  renamed in place;
- **overrides**: columns with a declared ``type`` are converted to it (with their format,
  decimal comma or boolean words); a value that does not convert goes to the DLQ as
  ``type_mismatch`` and the rest of the batch loads;
- then, per column, the **policy** (the table's, or the column's own):

  ====================  ===============  ================  ===================  ================
  change                evolve           freeze            discard_row          discard_column
  ====================  ===============  ================  ===================  ================
  new column            added            load fails        rows with a value    column dropped
                                                           go to the DLQ
  wider type            widened          load fails        rows that do not     column dropped
                        in place                           fit go to the DLQ
  incompatible type     variant column   load fails        rows that do not     column dropped
                        ``col__v_<type>``                  fit go to the DLQ
  column missing        kept, NULL       load fails        kept, NULL           kept, NULL
  ====================  ===============  ================  ===================  ================

  Types that widen *into* the table's (INTEGER data for a BIGINT column) are not changes.
  A column that has only ever held NULLs is unresolved: the first real type resolves it.
- the resulting table schema is checked against the registered versions under the
  **compatibility** mode; a violation fails the load before anything is written.

Nothing here touches data: the plan says which DDL the warehouse applies inside the load's
transaction and what the batch transform does to each batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from sluiceway.core.errors import SchemaError
from sluiceway.core.names import LOAD_ID_COLUMN, SOURCE_COLUMN, TableRef
from sluiceway.core.sql_types import arrow_type, parse_sql_type, sql_type
from sluiceway.schema.casting import TextOptions
from sluiceway.schema.compatibility import Compatibility, check_compatibility, render_violations
from sluiceway.schema.diff import SchemaDiff, diff
from sluiceway.schema.model import ColumnSchema, TableSchema
from sluiceway.schema.promotion import is_widening, promote
from sluiceway.spec.contract import ColumnContract, SchemaContract, SchemaPolicy

SYSTEM_COLUMNS = frozenset({LOAD_ID_COLUMN.lower(), SOURCE_COLUMN.lower()})


# -- DDL the warehouse applies inside the load's transaction ----------------------------------


@dataclass(frozen=True, slots=True)
class AddColumn:
    column: ColumnSchema


@dataclass(frozen=True, slots=True)
class SetColumnType:
    name: str
    type: pa.DataType


@dataclass(frozen=True, slots=True)
class RenameColumn:
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class DropNotNull:
    name: str


SchemaChange = AddColumn | SetColumnType | RenameColumn | DropNotNull


# -- what happens to each batch -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cast:
    """Convert ``column`` to ``type``; a value that does not convert is a rejected row."""

    column: str
    source: pa.DataType
    type: pa.DataType
    options: TextOptions
    reason: str  # the DLQ error class of a failure: type_mismatch (override) or schema


@dataclass(frozen=True, slots=True)
class BatchPlan:
    renames: dict[str, str] = field(default_factory=dict)  # incoming name → table name
    casts: tuple[Cast, ...] = ()
    drops: tuple[str, ...] = ()  # columns removed from every batch
    reject_if_set: tuple[str, ...] = ()  # discard_row: a value here sends the row to the DLQ
    routes: dict[str, str] = field(default_factory=dict)  # column → its variant column
    placeholders: tuple[str, ...] = ()  # unresolved (all-NULL) columns, carried as text
    output: pa.Schema = field(default_factory=lambda: pa.schema([]))

    @property
    def rewrites_rows(self) -> bool:
        return bool(self.casts or self.reject_if_set)

    @property
    def identity(self) -> bool:
        return not (
            self.renames
            or self.casts
            or self.drops
            or self.reject_if_set
            or self.routes
            or self.placeholders
        )


@dataclass(frozen=True, slots=True)
class ContractPlan:
    table: TableRef
    before: TableSchema | None  # the table as it is, None if it does not exist
    after: TableSchema  # the table as it will be
    changes: tuple[SchemaChange, ...]
    batch: BatchPlan
    diff: SchemaDiff
    aliases: dict[str, str]  # old name → current name, for the registry
    notes: tuple[str, ...]  # what the contract did, for people

    @property
    def changed(self) -> bool:
        return self.before is None or not self.diff.empty


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """What the registry knows of a table: its versions (oldest first) and aliases."""

    versions: tuple[tuple[int, TableSchema], ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)

    @property
    def latest(self) -> TableSchema | None:
        return self.versions[-1][1] if self.versions else None


def variant_name(column: str, type_: pa.DataType) -> str:
    """``amount`` holding VARCHAR values in a DOUBLE column: ``amount__v_varchar``."""
    spelled = sql_type(type_).lower()
    safe = "".join(ch if ch.isalnum() else "_" for ch in spelled).strip("_")
    return f"{column}__v_{safe}"


def _text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _zone_mismatch(a: pa.DataType, b: pa.DataType) -> bool:
    return bool(
        pa.types.is_timestamp(a) and pa.types.is_timestamp(b) and (a.tz is None) != (b.tz is None)
    )


def evolved_type(table: pa.DataType, incoming: pa.DataType) -> pa.DataType | None:
    """The type a column widens to, to also hold ``incoming``; None if that is not a widening.

    Text holds any value's rendering, but turning a numeric or temporal column into text is
    not a widening a reader expects: that case is incompatible (a variant column).
    """
    common = promote(table, incoming)
    if common is None or (_text(common) and not _text(table)):
        return None
    return common


class _Planner:
    def __init__(
        self,
        *,
        incoming: pa.Schema,
        table: TableSchema | None,
        registered: RegisteredSchema,
        contract: SchemaContract,
        ref: TableRef,
        primary_key: Sequence[str],
        managed: Sequence[str] = (),
    ) -> None:
        self.incoming = incoming
        # Columns the load writes itself (scd2 history, soft-delete time): never in the data.
        self.managed = frozenset(m.lower() for m in managed)
        self.table = None if table is None else resolve_placeholders(table, registered.latest)
        self.registered = registered
        self.contract = contract
        self.ref = ref
        self.primary_key = primary_key
        self.changes: list[SchemaChange] = []
        self.notes: list[str] = []
        self.problems: list[str] = []
        self.casts: list[Cast] = []
        self.drops: list[str] = []
        self.reject_if_set: list[str] = []
        self.routes: dict[str, str] = {}
        self.placeholders: list[str] = []
        self.aliases = {k.lower(): v for k, v in registered.aliases.items()}

    def policy(self, column: str) -> SchemaPolicy:
        own = self._column_contract(column)
        return own.policy if own is not None and own.policy else self.contract.policy

    def _column_contract(self, column: str) -> ColumnContract | None:
        for name, spec in self.contract.columns.items():
            if name.lower() == column.lower():
                return spec
        return None

    # -- 1. renames --------------------------------------------------------------------------

    def renames(self) -> tuple[dict[str, str], TableSchema | None]:
        """Incoming renames, and the table after declared renames of its own columns."""
        declared = {old.lower(): new for old, new in self.contract.renames.items()}
        mapping = {**self.aliases, **declared}
        # Every declared rename is an alias from now on: files with the old name keep loading
        # even after the declaration is removed from the pipeline.
        self.aliases.update(declared)
        names = {f.name.lower() for f in self.incoming}
        incoming_renames: dict[str, str] = {}
        for f in self.incoming:
            new = mapping.get(f.name.lower())
            if new is None or new.lower() == f.name.lower():
                continue
            if new.lower() in names:
                raise SchemaError(
                    f"the data has both {f.name!r} and {new!r}, and {f.name!r} is renamed "
                    f"to {new!r}",
                    hint="Remove the rename, or drop one of the two columns at the source.",
                )
            incoming_renames[f.name] = new
        table = self.table
        if table is not None:
            for old, new in self.contract.renames.items():
                if old in table and new not in table:
                    self.changes.append(RenameColumn(table.get(old).name, new))  # type: ignore[union-attr]
                    table = table.rename(old, new)
                    self.aliases[old.lower()] = new
                    self.notes.append(f"{old}: renamed to {new}; {old} stays an alias")
        return incoming_renames, table

    # -- 2. overrides ------------------------------------------------------------------------

    def overridden(self, name: str, source: pa.DataType) -> pa.DataType:
        spec = self._column_contract(name)
        if spec is None or spec.type is None:
            return source
        target = arrow_type(parse_sql_type(spec.type))
        if source.equals(target):
            return target
        options = TextOptions(
            format=spec.format,
            decimal_comma=spec.decimal_comma,
            true_values=tuple(spec.true_values),
            false_values=tuple(spec.false_values),
        )
        self.casts.append(Cast(name, source, target, options, "type_mismatch"))
        return target

    # -- 3. column by column -----------------------------------------------------------------

    def compare(self, name: str, incoming: pa.DataType, table: TableSchema) -> ColumnSchema | None:
        """The column as the table will have it, or None when its values are not loaded."""
        existing = table.get(name)
        unresolved_in = pa.types.is_null(incoming)
        if existing is None:
            return self._new_column(name, None if unresolved_in else incoming)
        if unresolved_in or (existing.type is not None and existing.type.equals(incoming)):
            return existing
        if existing.type is None:  # only NULLs so far: the first real type resolves it
            self.changes.append(SetColumnType(existing.name, incoming))
            self.notes.append(f"{existing.name}: resolved as {sql_type(incoming)}")
            return ColumnSchema(existing.name, incoming, existing.nullable)
        if _zone_mismatch(incoming, existing.type) and self.contract.naive_timestamps == "utc":
            self.casts.append(Cast(name, incoming, existing.type, TextOptions(), "schema"))
            return existing
        if is_widening(incoming, existing.type) and not _zone_mismatch(incoming, existing.type):
            return existing  # fits as it is: the insert converts
        return self._type_change(existing, incoming)

    def _new_column(self, name: str, type_: pa.DataType | None) -> ColumnSchema | None:
        column = ColumnSchema(name, type_, nullable=True)
        if name.lower() in SYSTEM_COLUMNS:
            self.changes.append(AddColumn(column))
            return column
        policy = self.policy(name)
        if policy == "evolve":
            self.changes.append(AddColumn(column))
            self.notes.append(f"{name}: new column, added as {column.sql_type}")
            return column
        if policy == "freeze":
            self.problems.append(f"new column {column.describe()}")
        elif policy == "discard_row":
            self.reject_if_set.append(name)
            self.drops.append(name)
            self.notes.append(f"{name}: not in the table; rows with a value in it go to the DLQ")
        else:
            self.drops.append(name)
            self.notes.append(f"{name}: not in the table; dropped (discard_column)")
        return None

    def _type_change(self, existing: ColumnSchema, incoming: pa.DataType) -> ColumnSchema | None:
        assert existing.type is not None
        old, new = sql_type(existing.type), sql_type(incoming)
        policy = self.policy(existing.name)
        wider = (
            None
            if _zone_mismatch(incoming, existing.type)
            else evolved_type(existing.type, incoming)
        )
        if policy == "freeze":
            what = "would widen" if wider is not None else "does not fit"
            self.problems.append(f"{existing.name}: {new} {what} the table's {old}")
            return existing
        if policy == "discard_row":
            self.casts.append(Cast(existing.name, incoming, existing.type, TextOptions(), "schema"))
            self.notes.append(f"{existing.name}: {new} values that do not fit {old} go to the DLQ")
            return existing
        if policy == "discard_column":
            self.drops.append(existing.name)
            self.notes.append(f"{existing.name}: {new} does not fit {old}; column dropped")
            return existing
        if wider is not None:
            self.changes.append(SetColumnType(existing.name, wider))
            self.notes.append(f"{existing.name}: widened from {old} to {sql_type(wider)}")
            return ColumnSchema(existing.name, wider, existing.nullable)
        variant = variant_name(existing.name, incoming)
        self.routes[existing.name] = variant
        self.notes.append(
            f"{existing.name}: {new} does not fit the table's {old}; this load's values go to "
            f"the variant column {variant}"
        )
        return existing

    # -- 4. the whole table -------------------------------------------------------------------

    def plan(self) -> ContractPlan:
        incoming_renames, table = self.renames()
        effective: list[tuple[str, pa.DataType]] = []
        for f in self.incoming:
            name = incoming_renames.get(f.name, f.name)
            effective.append((name, self.overridden(name, f.type)))
        self.placeholders = [name for name, type_ in effective if pa.types.is_null(type_)]
        if table is None:
            after = TableSchema(
                tuple(ColumnSchema(n, None if pa.types.is_null(t) else t) for n, t in effective)
            )
            return self._finish(None, after, incoming_renames, effective)
        result = self._merge(table, effective)
        self._add_variants(table, dict(effective), result)
        self._keep_missing(table, {name.lower() for name, _ in effective}, result)
        if self.problems:
            raise SchemaError(
                f"the data does not match table {self.ref} (policy: freeze):\n  "
                + "\n  ".join(self.problems),
                hint="Use `schema: {policy: evolve}` to let the table change, fix the input, "
                "or declare a rename or a column type under `schema:`.",
            )
        return self._finish(self.table, TableSchema(tuple(result)), incoming_renames, effective)

    def _merge(
        self, table: TableSchema, effective: list[tuple[str, pa.DataType]]
    ) -> list[ColumnSchema]:
        """The table's columns, each as it will be, then the new ones in arrival order."""
        result = list(table.columns)
        for name, type_ in effective:
            column = self.compare(name, type_, table)
            if column is None:
                continue
            position = _position(result, column.name)
            if position is None:
                result.append(column)
            else:
                result[position] = column
        return result

    def _add_variants(
        self, table: TableSchema, types: dict[str, pa.DataType], result: list[ColumnSchema]
    ) -> None:
        for variant_of, variant in self.routes.items():
            if variant in table or _position(result, variant) is not None:
                continue  # an earlier load created it
            column = ColumnSchema(variant, types[variant_of])
            self.changes.append(AddColumn(column))
            result.append(column)

    def _keep_missing(
        self, table: TableSchema, arrived: set[str], result: list[ColumnSchema]
    ) -> None:
        """Columns the data no longer has stay in the table, nullable; freeze refuses."""
        variants = {v.lower() for v in self.routes.values()}
        for column in table:
            key = column.name.lower()
            if key in arrived or key in SYSTEM_COLUMNS or key in variants or key in self.managed:
                continue
            if self.policy(column.name) == "freeze":
                self.problems.append(f"column missing from the data: {column.describe()}")
            elif not column.nullable:
                self.changes.append(DropNotNull(column.name))
                position = _position(result, column.name)
                assert position is not None
                result[position] = ColumnSchema(column.name, column.type, nullable=True)
                self.notes.append(f"{column.name}: missing from the data; now nullable")

    def _finish(
        self,
        before: TableSchema | None,
        after: TableSchema,
        incoming_renames: dict[str, str],
        effective: list[tuple[str, pa.DataType]],
    ) -> ContractPlan:
        missing_keys = [k for k in self.primary_key if k not in after]
        if missing_keys:
            raise SchemaError(
                f"primary key column(s) {', '.join(missing_keys)} are not in the data loaded "
                f"into {self.ref}",
                hint="Fix `primary_key` for this source, or declare a rename.",
            )
        renames_done = {c.old: c.new for c in self.changes if isinstance(c, RenameColumn)}
        schema_diff = (
            diff(before, after, renames_done) if before is not None else diff(TableSchema(), after)
        )
        self._check_compatibility(after, before)
        output = self._output_schema(effective, after)
        batch = BatchPlan(
            renames=incoming_renames,
            casts=tuple(self.casts),
            drops=tuple(self.drops),
            reject_if_set=tuple(self.reject_if_set),
            routes=dict(self.routes),
            placeholders=tuple(self.placeholders),
            output=output,
        )
        return ContractPlan(
            table=self.ref,
            before=before,
            after=after,
            changes=tuple(self.changes),
            batch=batch,
            diff=schema_diff,
            aliases=dict(self.aliases),
            notes=tuple(self.notes),
        )

    def _check_compatibility(self, after: TableSchema, before: TableSchema | None) -> None:
        mode = Compatibility(self.contract.compatibility)
        history = list(self.registered.versions)
        if before is not None and (not history or history[-1][1].fingerprint != before.fingerprint):
            history.append((history[-1][0] + 1 if history else 1, before))
        if not history or mode is Compatibility.NONE:
            return
        violations = check_compatibility(after, history, mode, self.aliases)
        if violations:
            raise SchemaError(
                f"the new schema of {self.ref} is not {mode.value}-compatible:\n"
                + render_violations(violations, mode),
                hint="Set `schema: {compatibility: NONE}` (or another mode) if this change is "
                "intended, or change the data.",
            )

    def _output_schema(
        self, effective: list[tuple[str, pa.DataType]], after: TableSchema
    ) -> pa.Schema:
        """The batches' schema after the transform: names and types the table will take."""
        fields = []
        dropped = {d.lower() for d in self.drops}
        cast_to = {c.column.lower(): c.type for c in self.casts}
        for name, type_ in effective:
            if name.lower() in dropped or name.lower() == LOAD_ID_COLUMN.lower():
                continue
            out_name = self.routes.get(name, name)
            out_type = cast_to.get(name.lower(), type_)
            if pa.types.is_null(out_type):
                out_type = pa.string()  # the placeholder of an unresolved column
            fields.append(pa.field(out_name, out_type))
        del after
        return pa.schema(fields)


def _position(columns: list[ColumnSchema], name: str) -> int | None:
    key = name.lower()
    return next((i for i, c in enumerate(columns) if c.name.lower() == key), None)


def resolve_placeholders(table: TableSchema, latest: TableSchema | None) -> TableSchema:
    """Warehouses store an unresolved column as text; the registry knows it has no type yet."""
    if latest is None:
        return table
    columns = []
    for column in table:
        registered = latest.get(column.name)
        placeholder = column.type is not None and _text(column.type)
        unresolved = registered is not None and registered.type is None and placeholder
        columns.append(ColumnSchema(column.name, None, column.nullable) if unresolved else column)
    return TableSchema(tuple(columns))


def plan_contract(
    incoming: pa.Schema,
    table: TableSchema | None,
    registered: RegisteredSchema,
    contract: SchemaContract,
    *,
    ref: TableRef,
    primary_key: Sequence[str] = (),
    managed: Sequence[str] = (),
) -> ContractPlan:
    """Decide how ``incoming`` meets ``table``; raise :class:`SchemaError` if it cannot.

    ``managed`` names table columns the load writes itself (scd2 history columns, a soft
    delete's time): they are never expected in the data.
    """
    return _Planner(
        incoming=incoming,
        table=table,
        registered=registered,
        contract=contract,
        ref=ref,
        primary_key=primary_key,
        managed=managed,
    ).plan()
