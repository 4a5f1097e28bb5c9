"""The join operation: the input (``l``) joined with a table (``r``) on equal columns."""

from __future__ import annotations

from sqlglot import exp

from sluiceway.transform.ops.expressions import alias, col, ident, table
from sluiceway.transform.ops.spec import JoinOp
from sluiceway.transform.ops.steps import Columns, Context, Relation, Step

LEFT, RIGHT = "l", "r"
_SIDES = {"inner": None, "left": "LEFT", "right": "RIGHT", "full": "FULL"}


def _added(op: JoinOp) -> dict[str, str]:
    """The joined table's columns to add → their output names."""
    if isinstance(op.select, dict):
        return dict(op.select)
    prefix = op.prefix if op.prefix is not None else f"{op.table.split('.')[-1]}_"
    return {name: f"{prefix}{name}" for name in op.select}


def _left_columns(op: JoinOp, relation: Relation, ctx: Context) -> tuple[list[exp.Expr], Columns]:
    """The input's columns; a ``using`` key of a right or full join coalesced from both sides
    (the input's key is NULL on rows only the table has)."""
    coalesced = set(op.using or ()) if op.how in {"right", "full"} else set()
    if relation.columns is None:
        if coalesced:
            raise ctx.error(
                f"a {op.how} join with `using` fills its keys from both sides",
                hint="pass columns={name: type} to compile_ops, or join `on` the columns",
            )
        return [exp.Column(this=exp.Star(), table=ident(LEFT))], {}
    selects: list[exp.Expr] = []
    for name in relation.columns:
        if name in coalesced:
            both = exp.Coalesce(this=col(name, LEFT), expressions=[col(name, RIGHT)])
            selects.append(alias(both, name))
        else:
            selects.append(col(name, LEFT))
    return selects, dict(relation.columns)


def compile_join(op: JoinOp, relation: Relation, ctx: Context) -> Step:
    pairs = list(op.on.items()) if op.on is not None else [(c, c) for c in op.using or ()]
    condition = exp.and_(
        *(exp.EQ(this=col(a, LEFT), expression=col(b, RIGHT)) for a, b in pairs), copy=False
    )
    selects, out = _left_columns(op, relation, ctx)
    for name, output in _added(op).items():
        if output in out:
            raise ctx.error(
                f"the joined column {name!r} would be named {output!r}, like an input column",
                hint="set `prefix`, or map the column to another name in `select`",
            )
        selects.append(alias(col(name, RIGHT), output))
        out[output] = None
    joined = table(op.table)
    joined.set("alias", exp.TableAlias(this=ident(RIGHT)))
    source = relation.source.copy()
    source.set("alias", exp.TableAlias(this=ident(LEFT)))
    select = exp.select(*selects).from_(source, copy=False)
    side = _SIDES[op.how]
    select.set(
        "joins",
        [exp.Join(this=joined, on=condition, side=side, kind=None if side else "INNER")],
    )
    return Step(select, out if relation.columns is not None else None)
