"""A form's second inputs (``FormDef.sources``, e.g. the reception calendar) for a
scope's report: placed on its rows like the main records, with the rows a coverage gap
leaves unavailable (:func:`source_inputs`).
"""
from __future__ import annotations

import datetime as dt
from typing import Mapping

import pandas as pd

from core.periods import Period
from reports.formdef import FormDef, ReportRow, RowStatus, SourceInput
from reports.levels.counting import count_per_unit
from reports.levels.layout import Layout
from reports.levels.rows import RecordsByUnit, build_rows
from reports.levels.scopes import Scope
from reports.levels.units import Units
from reports.levels.vocabulary import DISTRICTS_ROW_ID


def _month_span(a: dt.date, b: dt.date) -> list[tuple[int, int]]:
    out, (y, m) = [], (a.year, a.month)
    while (y, m) <= (b.year, b.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def source_inputs(form: FormDef, scope: Scope, period: Period, rows: list[ReportRow],
                  frames: Mapping[str, pd.DataFrame | RecordsByUnit] | None, units_df: pd.DataFrame | Units, *,
                  crosswalk: pd.DataFrame | None = None,
                  row_status: Mapping[str, RowStatus] | None = None) -> dict[str, SourceInput]:
    """The second inputs of `form` (``FormDef.sources``) for `scope`'s report, placed on
    `rows` (from :func:`build_rows` for the main records).

    `frames` maps a source's table name to its records (any dates: the months around
    the window decide coverage); a table not in `frames` is not given (its columns are
    then empty, the total says why). Records are placed like the main records (the unit
    version valid on their date, its row); with ``rows: own_unit`` a row keeps only the
    records of the unit it names — a district row of the city report counts the
    district head's days, not its communes' — and the districts' row "Cấp huyện" those
    of each district. With ``coverage: month`` a row is unavailable when one of its
    units (those whose records it keeps, in force in the window) has no record in a
    month the window touches while the unit is in force; the reason names the unit and
    the months ("Phường X chưa gửi lịch tiếp công dân của tháng 11/2025"). A frame may
    be given as :class:`RecordsByUnit` (indexed once for many scopes).
    """
    out: dict[str, SourceInput] = {}
    if not form.sources or frames is None:
        return out
    units = Units.of(units_df)
    layout = Layout(scope, period, units, crosswalk)
    data_ids = [r.row_id for r in rows if r.kind != "total"]
    for name, sdef in form.sources.items():
        if sdef.table not in frames or frames[sdef.table] is None:
            continue
        frame = frames[sdef.table]
        _, placed = build_rows(scope, period, frame, units, date_column=sdef.date_column, strict=False,
                               crosswalk=crosswalk)
        placed = placed[placed["row_id"].isin(data_ids)]

        def keeps(key: str, rid: str | None) -> bool:
            if rid is None or rid not in data_ids:
                return False
            if sdef.rows == "all_units":
                return True
            return key == rid or (rid == DISTRICTS_ROW_ID and key in units and units.level(key) == "huyen")

        if len(placed):
            placed = placed[[keeps(str(k), r) for k, r in zip(placed["unit_key"], placed["row_id"])]]
        placed = count_per_unit(form, placed)
        unavailable: dict[str, str] = {}
        if sdef.coverage == "month":
            # Outside the remapped view a unit in force reaches a row only as recorded
            # (Layout.target): the layout's own units are the candidates.
            candidates = layout.window_keys if scope.kind == "remapped" else \
                [k for k in layout.row_of if k in layout.window_keys]
            kept = [key for key in sorted(candidates) if keeps(key, layout.target(key)[0])]
            # Only the kept units' months are looked up: their records are enough.
            mine = frame.of_units(kept) if isinstance(frame, RecordsByUnit) else frame
            days = pd.to_datetime(mine[sdef.date_column], errors="coerce") if len(mine) else pd.Series([], dtype="datetime64[ns]")
            have = set(zip(mine["unit_key"].astype(str), days.dt.year, days.dt.month)) if len(mine) else set()
            short: dict[str, list[str]] = {}
            for key in kept:
                rid = layout.target(key)[0]
                vf = units.by_key.at[key, "valid_from"] or period.start
                vt = units.by_key.at[key, "valid_to"] or period.end
                lo, hi = max(period.start, vf), min(period.end, vt)
                if lo > hi:
                    continue
                months = [f"{m:02d}/{y}" for y, m in _month_span(lo, hi) if (key, y, m) not in have]
                if months:
                    short.setdefault(rid, []).append(sdef.missing_note.format(unit=units.name(key),
                                                                              months=", ".join(months)))
            unavailable = {rid: "; ".join(notes) for rid, notes in short.items()}
        for rid, st in (row_status or {}).items():
            if not st.reported and rid in data_ids:
                unavailable[rid] = "chưa báo cáo"       # its cells are empty anyway
        out[name] = SourceInput(placed, unavailable)
    return out
