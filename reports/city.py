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

The rows are built by reports.levels (which does the same for every unit and level,
and the remapped view); this module keeps the city's entry points.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from pipeline import settings
from reports.formdef import FormDef, ReportRow, RowStatus, load_form
from reports.levels import ReportResult, UnplacedRecordsError, build_rows, own_row_label, scope_for, scope_report
from reports.periods import Period

log = logging.getLogger(__name__)

__all__ = ["CityReport", "UnplacedRecordsError", "build_rows_for_city", "city_report", "form_definition",
           "own_row_label"]

# The result of city_report (reports.levels.ReportResult: path, sha256, table, rows,
# form, period, record_count, lineage_path, scope, estimate_rows).
CityReport = ReportResult


def build_rows_for_city(province_code: str, period: Period, receptions_df: pd.DataFrame,
                        units_df: pd.DataFrame, *, date_column: str = "received_date",
                        strict: bool = True, preselected: bool = False) -> tuple[list[ReportRow], pd.DataFrame]:
    """Rows of the city report for `period` and the records with their ``row_id``.

    Returns ``(rows, records)``: `rows` ends with the total row; `records` are the
    records of `receptions_df` inside the window (inclusive bounds on `date_column`;
    all of them with `preselected`) with a ``row_id`` column. In-window records that
    cannot be placed (unit unknown, outside the province, or a unit not in force in
    the window) raise UnplacedRecordsError when `strict`, else are dropped with a
    warning and counted in ``records.attrs['unplaced']``. The city's consolidated
    scope of reports.levels.build_rows.
    """
    scope = scope_for(units_df, _province_key(units_df, province_code), "consolidated", str(province_code))
    return build_rows(scope, period, receptions_df, units_df, date_column=date_column, strict=strict,
                      preselected=preselected)


def _province_key(units_df: pd.DataFrame, province_code: str) -> str:
    prov = units_df[(units_df["unit_code"].astype(str) == str(province_code)) & (units_df["level"] == "tinh")]
    if prov.empty:
        raise ValueError(f"province {province_code!r} not in the unit table")
    return str(prov["unit_key"].iloc[0])


def form_definition(form_code: str, period_or_end) -> FormDef:
    """The definition of `form_code` in the reporting regime that governs a report over
    `period_or_end` — a Period or its window's last day (reports.regimes: the regime in
    force on the window's end)."""
    from reports import regimes  # noqa: PLC0415

    regime = regimes.regime_for(period_or_end)
    return load_form(regimes.definition_path(regime, form_code))


def city_report(form_code: str, period: Period, records: pd.DataFrame, units_df: pd.DataFrame,
                path: str | os.PathLike, meta: Mapping[str, Any] | None = None, *,
                province_code: str | None = None, unit_name: str | None = None,
                form: FormDef | None = None, strict: bool = True,
                row_status: Mapping[str, RowStatus] | None = None,
                quality: Mapping[str, Any] | None = None, lineage: bool = False,
                source_frames: Mapping[str, pd.DataFrame] | None = None) -> CityReport:
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

    The city's consolidated scope of reports.levels.scope_report: the form selects its
    population (``FormDef.select``) when it offers it, and distinct counts are per
    recording unit (reports.levels.count_per_unit), so a district's row equals the
    total of the district's own consolidated report. `source_frames` (table name →
    records) feed the form's second inputs (01/TCD of TT 06/2025: the reception
    calendar, fact_reception_calendar; reports.levels.source_inputs).
    """
    cfg = settings.config()["province"]
    province_code = province_code or cfg["code"]
    scope = scope_for(units_df, _province_key(units_df, province_code), "consolidated", str(province_code))
    return scope_report(form_code, scope, period, records, units_df, path, meta, form=form,
                        row_status=row_status, quality=quality, lineage=lineage, strict=strict,
                        unit_name=unit_name, source_frames=source_frames)
