"""II.5 "Bảo vệ người tố cáo": the table of a scope built from the protection block of
its units' 06/QLKNTC workbooks (:func:`protection_table`), with the units that did not
report it named in the total's note.
"""
from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from reports.formdef import TOTAL_ROW_ID
from reports.mau02.catalogue import NOT_REPORTED, PROTECTION_FIELDS, PROTECTION_SOURCE


def _names(labels: list[str], most: int = 10) -> str:
    shown = ", ".join(labels[:most])
    return shown + (f" và {len(labels) - most} đơn vị khác" if len(labels) > most else "")


def protection_table(rows: Iterable[Any], records: pd.DataFrame | None) -> pd.DataFrame:
    """The II.5 table of a scope: one row per data row of its 06/QLKNTC report (`rows`,
    reports.formdef.ReportRow, the total row last) and the total, columns label, kind,
    1–5 (:data:`PROTECTION_FIELDS`, nullable integers), ``status`` and note.

    `records` are the fact_qlkntc rows placed on those rows (``row_id``), as for the
    06/QLKNTC table. A row is ``reported`` when it has records and every one of them
    carries the block (its values: their sums); ``not_reported`` when a record lacks it
    (NULL: a version-1 workbook or an empty block — the row's cells are NA, never 0);
    ``no_workbook`` when no 06/QLKNTC figures of the row were published (not sent, or
    quarantined). The total adds up the reported rows (NA when none); its note says from
    how many units the figures come and names those that did not report them;
    ``attrs["na_reason"]`` is the reason an NA total is written with."""
    rows = list(rows)
    data_rows = [r for r in rows if r.kind != "total"]
    total_row = next((r for r in rows if r.kind == "total"), None)
    recs = records if records is not None and len(records) else pd.DataFrame(
        columns=["row_id", *PROTECTION_FIELDS.values()])
    row_of = recs["row_id"].astype(str) if len(recs) else pd.Series(dtype=object)
    out: dict[str, dict] = {}
    for r in data_rows:
        mine = recs[(row_of == str(r.row_id)).to_numpy()] if len(recs) else recs
        entry = {"label": r.label, "kind": r.kind}
        if mine.empty:
            status, values = "no_workbook", [pd.NA] * len(PROTECTION_FIELDS)
        elif mine[PROTECTION_FIELDS[1]].isna().any():
            status, values = "not_reported", [pd.NA] * len(PROTECTION_FIELDS)
        else:
            status = "reported"
            values = [int(pd.to_numeric(mine[col]).sum()) for col in PROTECTION_FIELDS.values()]
        entry.update({ms: v for ms, v in zip(PROTECTION_FIELDS, values)})
        entry["status"] = status
        entry["note"] = "" if status == "reported" else ("Chưa báo cáo" if status == "no_workbook"
                                                           else "Không báo cáo số liệu bảo vệ người tố cáo")
        out[r.row_id] = entry
    reported = [e for e in out.values() if e["status"] == "reported"]
    no_block = [e["label"] for e in out.values() if e["status"] == "not_reported"]
    no_book = [e["label"] for e in out.values() if e["status"] == "no_workbook"]
    n, k = len(out), len(reported)
    total = {"label": total_row.label if total_row else "Tổng cộng", "kind": "total", "status": ""}
    for ms in PROTECTION_FIELDS:
        total[ms] = sum(e[ms] for e in reported) if reported else pd.NA
    single = n == 1
    if single:
        note = (f"từ {PROTECTION_SOURCE} của đơn vị" if k else
                f"đơn vị {NOT_REPORTED} ("
                + ("đã gửi biểu 06/QLKNTC nhưng không kèm số liệu này" if no_block
                   else "chưa có biểu 06/QLKNTC được chấp nhận") + ")")
    else:
        note = f"tổng hợp từ {PROTECTION_SOURCE} của {k}/{n} đơn vị"
        if n - k:
            parts = []
            if no_block:
                parts.append(f"{len(no_block)} đơn vị đã gửi biểu 06/QLKNTC nhưng không kèm số liệu này "
                             f"({_names(no_block)})")
            if no_book:
                parts.append(f"{len(no_book)} đơn vị chưa có biểu 06/QLKNTC được chấp nhận ({_names(no_book)})")
            note += f"; {n - k} đơn vị {NOT_REPORTED}: " + "; ".join(parts)
    total["note"] = note
    index = [*out, total_row.row_id if total_row else TOTAL_ROW_ID]
    table = pd.DataFrame([*out.values(), total], index=pd.Index(index, name="row_id"))
    table = table[["label", "kind", *PROTECTION_FIELDS, "status", "note"]]
    for ms in PROTECTION_FIELDS:
        table[ms] = table[ms].astype("Int64")
    if not n:
        reason = "không có đơn vị báo cáo"
    elif single:
        reason = f"đơn vị {NOT_REPORTED}"
    else:
        reason = f"các đơn vị {NOT_REPORTED}"
    table.attrs["na_reason"] = reason
    return table
