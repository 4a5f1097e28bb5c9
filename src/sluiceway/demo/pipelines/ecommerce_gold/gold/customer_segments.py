"""Customer segments from their RFM scores: a Python transform over an Arrow table.

The rules are the usual marketing ones; the lineage is declared, since Arrow compute leaves no
SQL to trace.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from sluiceway import model

SEGMENTS = ["champions", "loyal", "new", "at_risk", "lost", "needs_attention"]
SCORES = ["gold.customer_rfm.r_score", "gold.customer_rfm.f_score", "gold.customer_rfm.m_score"]


@model(
    "gold.customer_segments",
    inputs={"rfm": "gold.customer_rfm"},
    format="arrow",
    description="Each paying customer's marketing segment, from the RFM scores.",
    checks=[
        {"rule": "unique", "columns": ["customer_id"], "on_fail": "fail"},
        {"rule": "accepted_values", "column": "segment", "values": SEGMENTS, "on_fail": "fail"},
    ],
    lineage={
        "customer_id": ["gold.customer_rfm.customer_id"],
        "rfm_segment": ["gold.customer_rfm.rfm_segment"],
        "segment": {"sources": SCORES, "expression": "rules over r_score, f_score, m_score"},
        "value_score": {"sources": SCORES, "expression": "r_score + f_score + m_score"},
    },
)
def customer_segments(rfm: pa.Table) -> pa.Table:
    r, f, m = rfm["r_score"], rfm["f_score"], rfm["m_score"]
    rules = pc.make_struct(
        pc.and_(pc.greater_equal(r, 4), pc.greater_equal(f, 4)),  # champions
        pc.greater_equal(f, 4),  # loyal
        pc.and_(pc.greater_equal(r, 4), pc.less_equal(f, 2)),  # new
        pc.and_(pc.less_equal(r, 2), pc.greater_equal(f, 3)),  # at_risk
        pc.and_(pc.less_equal(r, 2), pc.less_equal(f, 2)),  # lost
        field_names=SEGMENTS[:5],
    )
    segment = pc.case_when(rules, *SEGMENTS)
    return pa.table(
        {
            "customer_id": rfm["customer_id"],
            "rfm_segment": rfm["rfm_segment"],
            "segment": segment,
            "value_score": pc.add(pc.add(r, f), m),
        }
    )
