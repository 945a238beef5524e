"""Distinct counts per recording unit (:func:`count_per_unit`): the forms are additive,
so a key (case, sitting) counts once per unit that recorded it, never once across units
that share a row.
"""
from __future__ import annotations

import pandas as pd

from reports.formdef import FormDef


def _distinct_columns(form: FormDef) -> list[str]:
    """Columns whose values a number column counts distinctly (case and sitting keys)."""
    cols: list[str] = []
    for c in form.columns:
        measure = str(c.compute.get("measure") or "")
        if measure.startswith("count_cases") or (measure == "sum" and c.compute.get("per_case")):
            cols.append(str(form.cases.get("case_column", "case_key")))
        elif measure.startswith("count_distinct") and c.compute.get("column"):
            cols.append(str(c.compute["column"]))
    return sorted(set(cols))


def count_per_unit(form: FormDef, records: pd.DataFrame) -> pd.DataFrame:
    """`records` (with ``row_id``) such that distinct counts are per recording unit:
    a key (case, sitting) recorded by several units that share a row is made distinct
    per unit by prefixing it with the unit_key ("legacy:00007|K1"). Keys recorded by
    one unit of their row are left as they are. The forms are additive: a row of a
    consolidated report is the sum of what its units report."""
    cols = [c for c in _distinct_columns(form) if c in records.columns]
    if not cols or records.empty or "unit_key" not in records.columns:
        return records
    out = records.copy()
    unit = out["unit_key"].astype(str).to_numpy()
    row = out["row_id"].astype(str).to_numpy()
    for c in cols:
        values = out[c]
        present = values.notna().to_numpy()
        if not present.any():
            continue
        text = values.astype(str).to_numpy()
        frame = pd.DataFrame({"row": row[present], "v": text[present], "u": unit[present]})
        clash = (frame.groupby(["row", "v"])["u"].transform("nunique") > 1).to_numpy()
        if clash.any():
            pos = present.nonzero()[0][clash]
            new = values.astype(object).to_numpy(copy=True)
            new[pos] = [f"{u}|{v}" for u, v in zip(unit[pos], text[pos])]
            out[c] = new
    return out
