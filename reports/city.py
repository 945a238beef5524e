"""The city's consolidated report: rows per subordinate unit, across the 2025 reform.

Rows of a city (province) report, for a window:

1. each legacy district valid at some time in the window (windows starting on or
   before 30/06/2025) — counting the district's own records and those of its communes;
2. each 2025 commune valid at some time in the window (windows ending on or after
   01/07/2025) — counting its own records;
3. the city's own records ("UBND Thành phố Hà Nội (cấp thành phố)");
4. the total row ("Tổng cộng").

Which units exist when comes from the validity dates of dim_unit (warehouse/units.py),
not from dates hard-coded here. A record belongs to a row through its ``unit_key`` (the
unit version valid on its date) and the ``parent_key`` chain. Records stay as
recorded: a district's series ends on 30/06/2025 and is not remapped to new communes.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from pipeline import settings
from reports.formdef import (FormDef, ReportRow, RowStatus, TOTAL_ROW_ID, check_contributions, compute,
                             contributions, load_form)
from reports.periods import Period
from reports.render import write_xlsx

log = logging.getLogger(__name__)

_LEVEL_ORDER = {"tinh": 0, "huyen": 1, "xa": 2}


class UnplacedRecordsError(ValueError):
    """Records in the window whose unit is not under the province (or not a unit in
    force in the window): they would silently vanish from the report."""


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, errors="coerce").dt.date


def _fmt(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def own_row_label(province_name: str, unit_type: str | None = None) -> str:
    level = "thành phố" if (unit_type or province_name).lower().startswith("thành phố") else "tỉnh"
    return f"UBND {province_name} (cấp {level})"


def build_rows_for_city(province_code: str, period: Period, receptions_df: pd.DataFrame,
                        units_df: pd.DataFrame, *, date_column: str = "received_date",
                        strict: bool = True) -> tuple[list[ReportRow], pd.DataFrame]:
    """Rows of the city report for `period` and the records with their ``row_id``.

    Returns ``(rows, records)``: `rows` ends with the total row; `records` are the
    records of `receptions_df` inside the window (inclusive bounds on `date_column`)
    with a ``row_id`` column. In-window records that cannot be placed (unit unknown,
    outside the province, or a unit not in force in the window) raise
    UnplacedRecordsError when `strict`, else are dropped with a warning and counted in
    ``records.attrs['unplaced']``.
    """
    units = units_df.copy()
    units["valid_from"] = _dates(units["valid_from"])
    units["valid_to"] = _dates(units["valid_to"])
    prov = units[(units["unit_code"].astype(str) == str(province_code)) & (units["level"] == "tinh")]
    if prov.empty:
        raise ValueError(f"province {province_code!r} not in the unit table")
    prov = prov.iloc[0]
    prov_key = prov["unit_key"]

    valid = (units["valid_from"] <= period.end) & (units["valid_to"].isna() | (units["valid_to"] >= period.start))
    children = units[valid & (units["parent_key"] == prov_key)].copy()
    children["_lv"] = children["level"].map(_LEVEL_ORDER).fillna(9)
    # Earlier-valid units first: legacy districts, then the 2025 communes.
    children = children.sort_values(["valid_from", "_lv", "unit_code"], kind="mergesort")

    rows: list[ReportRow] = []
    for u in children.itertuples():
        # Say on the report why a unit's figures cover only part of the window (it was
        # created or abolished inside it) and that a district row includes its communes.
        notes = []
        if u.level == "huyen":
            notes.append("gồm cả cấp xã trực thuộc")
        if u.valid_from > period.start:
            notes.append(f"số liệu từ ngày {_fmt(u.valid_from)}")
        if pd.notna(u.valid_to) and u.valid_to < period.end:
            notes.append(f"số liệu đến ngày {_fmt(u.valid_to)}")
        note = "; ".join(notes)
        rows.append(ReportRow(str(u.unit_key), str(u.name), str(u.unit_code), "unit", note[:1].upper() + note[1:]))
    rows.append(ReportRow(str(prov_key), own_row_label(str(prov["name"]), str(prov["unit_type"])),
                          str(province_code), "own"))
    rows.append(ReportRow(TOTAL_ROW_ID, "Tổng cộng", str(province_code), "total"))

    # unit_key -> row_id: walk up parent_key to the province's direct child; that
    # child must be a row (in force in the window), or the record has no row.
    parent = dict(zip(units["unit_key"], units["parent_key"]))
    row_units = set(children["unit_key"])
    row_of: dict[str, str] = {prov_key: prov_key}
    for key in units["unit_key"]:
        k, seen = key, set()
        while isinstance(k, str) and k not in seen:
            seen.add(k)
            up = parent.get(k)
            if up == prov_key:
                if k in row_units:
                    row_of[key] = k
                break
            k = up

    df = receptions_df
    day = _dates(df[date_column])
    in_window = day.notna() & (day >= period.start) & (day <= period.end)
    recs = df[in_window.to_numpy()].copy()
    recs["row_id"] = recs["unit_key"].map(row_of)
    # The unit must also be in force on the record's own date (unit_key is meant to be
    # the version valid then); otherwise a record would be counted under a district
    # that no longer existed on that day.
    ts = lambda s: pd.to_datetime(s, errors="coerce")  # noqa: E731 - NaT-safe comparisons
    vf = ts(recs["unit_key"].map(dict(zip(units["unit_key"], units["valid_from"]))))
    vt = ts(recs["unit_key"].map(dict(zip(units["unit_key"], units["valid_to"]))))
    rday = ts(day[in_window.to_numpy()])
    in_force = vf.notna() & (vf <= rday) & (vt.isna() | (vt >= rday))
    placed = recs["row_id"].notna() & in_force.fillna(False).astype(bool)
    if not placed.all():
        counts = recs.loc[~placed, "unit_key"].astype(str).value_counts().head(10).to_dict()
        msg = (f"{int((~placed).sum())} record(s) in {period.key} cannot be placed in the report "
               f"of province {province_code}: by unit_key {counts}")
        if strict:
            raise UnplacedRecordsError(msg)
        log.warning("%s; dropped", msg)
    unplaced = int((~placed).sum())
    recs = recs[placed]
    recs.attrs["unplaced"] = unplaced
    return rows, recs


def form_definition(form_code: str, on: dt.date) -> FormDef:
    """The definition of `form_code` in force on `on` (config `forms:`): the entry with
    the latest `from` not after `on`. A period is reported with the version in force at
    its start."""
    entries = settings.config()["forms"].get(form_code)
    if not entries:
        raise KeyError(f"form {form_code!r} is not configured")
    usable = [e for e in entries if dt.date.fromisoformat(str(e["from"])) <= on]
    if not usable:
        raise ValueError(f"no version of form {form_code} in force on {on}")
    entry = max(usable, key=lambda e: dt.date.fromisoformat(str(e["from"])))
    rel = Path(entry["definition"])
    # A definition under TCD_HOME overrides the one shipped with the code.
    for candidate in (settings.resolve(rel), settings.PROJECT_ROOT / rel):
        if candidate.exists():
            return load_form(candidate)
    raise FileNotFoundError(f"definition {rel} of form {form_code} not found")


@dataclass(frozen=True)
class CityReport:
    path: Path
    sha256: str
    table: pd.DataFrame
    rows: list[ReportRow]
    form: FormDef
    period: Period
    record_count: int
    lineage_path: Path | None = None     # the companion <stem>.nguon.csv, when written


def city_report(form_code: str, period: Period, records: pd.DataFrame, units_df: pd.DataFrame,
                path: str | os.PathLike, meta: Mapping[str, Any] | None = None, *,
                province_code: str | None = None, unit_name: str | None = None,
                form: FormDef | None = None, strict: bool = True,
                row_status: Mapping[str, RowStatus] | None = None,
                quality: Mapping[str, Any] | None = None, lineage: bool = False) -> CityReport:
    """Compute, check and write the city report of `form_code` for `period`.

    `records` is the form's source table (fact_reception for 01/TCD) for any dates;
    `units_df` is ``warehouse.units.unit_frame()``. `meta` goes to the info sheet;
    ``record_count`` and ``source_batch_count`` are added when absent.

    `row_status` (row_id → RowStatus; row_ids are the unit_key of a row's unit, or the
    province's key for the city's own row — see :func:`build_rows_for_city`): rows of
    units that did not report are left empty (reports.formdef.compute); a key that is
    not a row of this report raises ValueError. `quality` becomes the sheet "Chất
    lượng dữ liệu" (reports.render.quality_sheet). With `lineage`, the companion file
    ``<stem>.nguon.csv`` is written beside the workbook (reports.lineage): `records`
    should carry the lineage columns (source_kind, source_name, source_file,
    source_row, record_id, raw_id, batch_id; missing ones are written empty).
    """
    cfg = settings.config()["province"]
    province_code = province_code or cfg["code"]
    form = form or form_definition(form_code, period.start)
    rows, recs = build_rows_for_city(province_code, period, records, units_df,
                                     date_column=form.date_column, strict=strict)
    table = compute(form, recs, rows, row_status)
    contrib = None
    if lineage:
        contrib = contributions(form, recs, rows)
        problems = check_contributions(form, table, contrib)
        if problems:  # cannot happen unless the calculator and its lineage disagree
            raise ValueError("lineage does not account for the table: " + "; ".join(problems[:10]))
    meta = dict(meta or {})
    meta.setdefault("record_count", len(recs))
    if "batch_id" in recs.columns:
        meta.setdefault("source_batch_count", int(recs["batch_id"].nunique()))
    if unit_name is None:
        prov = units_df[(units_df["unit_code"].astype(str) == str(province_code)) & (units_df["level"] == "tinh")]
        unit_name = f"UBND {prov['name'].iloc[0] if len(prov) else cfg['name']}"
    sha = write_xlsx(form, table, rows, period, unit_name, path, meta, row_status=row_status, quality=quality)
    lineage_file = None
    if contrib is not None:
        from reports.lineage import write_lineage  # noqa: PLC0415

        lineage_file = write_lineage(path, recs, contrib, form, rows=rows)
    return CityReport(Path(path), sha, table, rows, form, period, len(recs), lineage_file)
