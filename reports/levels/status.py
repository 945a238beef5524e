"""Which rows of a scope's report did not report (:func:`row_status_for`), from
dq_completeness: a row's reporting units are the units whose records it shows.
"""
from __future__ import annotations

import pandas as pd

from core import memo
from core.periods import Period
from reports.formdef import ReportRow, RowStatus
from reports.levels.layout import Layout
from reports.levels.scopes import Scope
from reports.levels.units import Units
from reports.levels.vocabulary import CARRIED_NOTE
from transforms.completeness import unit_reporting


def row_status_for(scope: Scope, rows: list[ReportRow], completeness_frame: pd.DataFrame,
                   units_df: pd.DataFrame | Units, period: Period, *, crosswalk: pd.DataFrame | None = None,
                   records: pd.DataFrame | None = None, per_unit: pd.DataFrame | None = None) -> dict[str, RowStatus]:
    """Which rows of `scope`'s report did not report, from dq_completeness rows of
    `period` (transforms.completeness).

    A row's reporting units are the units in force in the window whose records the row
    shows (a commune row: the commune; a district row of the city report: the district
    and its communes; the city's own row: the city; a remapped row: the 2025 commune
    and every legacy commune whose records go to it; the districts' row: the
    districts). A unit has reported when one of its expected sources has anything
    accepted (status not chua_bao_cao / bi_tu_choi). A row is not reported when none
    of its units reported — unless it shows records carried over from units no longer
    in force (those were delivered earlier), or `records` (the placed records) give it
    some. Rows with no reporting unit in the frame get no status (nothing to say).
    `per_unit`: ``transforms.completeness.unit_reporting(completeness_frame, period)``
    when the caller has it (a report set asks for it once per form's source).
    """
    if per_unit is None:
        per_unit = unit_reporting(completeness_frame, period)
    if per_unit.empty:
        raise ValueError(f"no completeness rows for {period.key}: compute transforms.completeness first")
    layout = Layout(scope, period, Units.of(units_df), crosswalk)
    data_ids = [r.row_id for r in rows if r.kind != "total"]
    members: dict[str, list[str]] = {rid: [] for rid in data_ids}
    # Outside the remapped view, a unit in force in the window reaches a row only as
    # recorded (Layout.target): only the layout's own units need a look.
    candidates = per_unit.index if scope.kind == "remapped" else \
        [k for k in layout.row_of if k in per_unit.index]
    for key in candidates:
        if key not in layout.units or key not in layout.window_keys:
            continue
        rid = layout.target(key)[0]
        if rid in members:
            members[rid].append(key)
    with_records = set(records["row_id"].astype(str)) if records is not None and len(records) else set()
    carried = {r.row_id for r in rows if CARRIED_NOTE in (r.note or "")}
    out: dict[str, RowStatus] = {}
    reported_of, partial_of = memo.by_identity(per_unit, _lookups)
    for rid in data_ids:
        keys = members[rid]
        if not keys:
            continue
        ok = [reported_of[k] for k in keys]
        partial = sum(partial_of[k] for k in keys)
        reported = any(ok) or rid in with_records or rid in carried
        note = f"{partial}/{len(keys)} đơn vị gửi thiếu sổ của một phần kỳ" if partial else ""
        out[rid] = RowStatus(reported, len(keys), ok.count(False), note)
    return out


def _lookups(per_unit: pd.DataFrame) -> tuple[dict[str, bool], dict[str, bool]]:
    """{unit key: reported}, {unit key: partial} of a unit_reporting frame."""
    return (dict(zip(per_unit.index, per_unit["reported"].astype(bool).tolist())),
            dict(zip(per_unit.index, per_unit["partial"].astype(bool).tolist())))
