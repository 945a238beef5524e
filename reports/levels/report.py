"""Writing a report: compute, check and write the workbook of a form for a scope
(:func:`scope_report` → :class:`ReportResult`), and the city's (province's) consolidated
report for callers that hold the frames themselves (:func:`city_report`,
:func:`build_rows_for_city`).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from core.periods import Period
from reports.formdef import (
    FormDef,
    ReportInput,
    ReportRow,
    RowStatus,
    batch_of,
    check_contributions,
    compute_batch,
    contributions,
    source_contributions,
)
from reports.levels.counting import count_per_unit
from reports.levels.rows import build_rows
from reports.levels.scopes import Scope, scope_for
from reports.levels.sources import source_inputs
from reports.levels.vocabulary import (
    AS_RECORDED_VIEW_TEXT,
    ESTIMATE_META_KEY,
    ESTIMATE_NOTE,
    REMAPPED_VIEW_TEXT,
    VIEW_META_KEY,
)
from reports.lineage import lineage_csv_parts, lineage_frame, write_lineage_frame
from reports.render import render_xlsx


@dataclass(frozen=True)
class ReportResult:
    """A written report (the same fields as reports.levels.ReportResult, plus its scope)."""

    path: Path
    sha256: str
    table: pd.DataFrame
    rows: list[ReportRow]
    form: FormDef
    period: Period
    record_count: int
    lineage_path: Path | None = None
    scope: Scope | None = None
    estimate_rows: tuple[str, ...] = ()
    cell_values: dict | None = None     # the workbook's compared values (reports.publish.sheet_values)


def select_records(form: FormDef, records: pd.DataFrame, period: Period) -> tuple[pd.DataFrame, bool]:
    """The form's population for the window and whether it is already selected:
    ``form.select(records, period)`` when the form definition offers it (else the
    records as given, to be filtered by date in the window)."""
    select = getattr(form, "select", None)
    if callable(select):
        return select(records, period), True
    return records, False


def scope_report(form_code: str, scope: Scope, period: Period, records: pd.DataFrame,
                 units_df: pd.DataFrame, path: str | os.PathLike, meta: Mapping[str, Any] | None = None, *,
                 form: FormDef, row_status: Mapping[str, RowStatus] | None = None,
                 quality: Mapping[str, Any] | None = None, lineage: bool = False,
                 rows: list[ReportRow] | None = None, strict: bool = True, preselected: bool | None = None,
                 crosswalk: pd.DataFrame | None = None, unit_name: str | None = None,
                 source_frames: Mapping[str, pd.DataFrame] | None = None) -> ReportResult:
    """Compute, check and write the report of `form_code` for `scope` over `period`.

    `records` are the form's source records: any dates (the form selects its
    population, ``FormDef.select``, or the window by date), or already selected
    (`preselected=True`), or already placed — with `rows` from :func:`build_rows`, the
    records must be the ones it returned (with ``row_id``). `row_status` from
    :func:`row_status_for`; `quality` becomes the "Chất lượng dữ liệu" sheet; with
    `lineage` the companion ``<stem>.nguon.csv`` is written (reports.lineage).

    The workbook's issuing body is ``UBND <unit name>`` (or `unit_name`); the info
    sheet says which view it is, and a remapped view says so under its title:
    "Quy đổi theo đơn vị hành chính hiện nay (số liệu ước tính ở các dòng có ghi chú)".
    `source_frames` (table name → records) feed the form's second inputs
    (``FormDef.sources``, :func:`source_inputs`); without them those columns are empty.
    Raises IdentityError (nothing written) when a check identity fails.
    """
    if rows is None:
        if preselected:
            selected, pre = records, True
        else:
            selected, pre = select_records(form, records, period)
        rows, records = build_rows(scope, period, selected, units_df, date_column=form.date_column,
                                   strict=strict, preselected=pre, crosswalk=crosswalk)
    item = ScopeItem(scope, rows, records, path, meta, row_status, quality, unit_name)
    out = scope_reports(form_code, [item], period, units_df, form=form, lineage=lineage, crosswalk=crosswalk,
                        source_frames=source_frames)[0]
    if isinstance(out, Exception):
        raise out
    return out


@dataclass
class ScopeItem:
    """One report of a batch (:func:`scope_reports`): its scope, its rows and the
    records placed on them (from :func:`build_rows`, with ``row_id``), where it goes,
    what its sheets say."""

    scope: Scope
    rows: list[ReportRow]
    records: pd.DataFrame
    path: str | os.PathLike
    meta: Mapping[str, Any] | None = None
    row_status: Mapping[str, RowStatus] | None = None
    quality: Mapping[str, Any] | None = None
    unit_name: str | None = None


def scope_reports(form_code: str, items: list[ScopeItem], period: Period, units_df: pd.DataFrame, *,
                  form: FormDef, lineage: bool = False, crosswalk: pd.DataFrame | None = None,
                  source_frames: Mapping[str, pd.DataFrame] | None = None) -> list[ReportResult | Exception]:
    """:func:`scope_report` of every item (rows already built), one outcome per item: its
    ReportResult, or the exception that withheld it (IdentityError: a check identity
    failed, nothing written). The table and lineage steps run once over the batch
    (reports.formdef.compute_many: each row's cells depend on its own records only);
    each report is then assembled, checked and written on its own. When the batch as a
    whole fails (a report whose data contradict its rows), each report is tried alone,
    so that one report's fault withholds only that report."""
    if not items:
        return []
    try:
        return _batch(form_code, items, period, units_df, form, lineage, crosswalk, source_frames)
    except Exception as exc:  # noqa: BLE001 - find the report at fault: each alone
        if len(items) == 1:
            return [exc]
    out: list[ReportResult | Exception] = []
    for item in items:
        try:
            out += _batch(form_code, [item], period, units_df, form, lineage, crosswalk, source_frames)
        except Exception as exc:  # noqa: BLE001 - recorded as this report's outcome
            out.append(exc)
    return out


def _batch(form_code: str, items: list[ScopeItem], period: Period, units_df: pd.DataFrame, form: FormDef,
           lineage: bool, crosswalk: pd.DataFrame | None,
           source_frames: Mapping[str, pd.DataFrame] | None) -> list[ReportResult | Exception]:
    has_sources = bool(getattr(form, "sources", None))
    extras = [source_inputs(form, it.scope, period, it.rows, source_frames, units_df, crosswalk=crosswalk,
                            row_status=it.row_status) if has_sources else None for it in items]
    batch = batch_of(form, [ReportInput(it.records, it.rows, it.row_status, e) for it, e in zip(items, extras)])
    # Distinct keys made per recording unit over the union: its rows are each report's
    # own (their ids carry the report's position), so each report counts as alone.
    batch.records = count_per_unit(form, batch.records)
    tables, union_table = compute_batch(form, batch, period, union_table=lineage)
    lineage_parts = None
    if lineage:
        contrib = contributions(form, batch.records, batch.data_rows, period=period)
        records = batch.records
        if has_sources:
            parts = [(records, contrib), *source_contributions(form, batch.sources, batch.data_rows, period)]
            records = pd.concat([p[0] for p in parts], ignore_index=True)
            contrib = pd.concat([p[1] for p in parts], ignore_index=True)
        problems = check_contributions(form, union_table, contrib)
        if problems:  # cannot happen unless the calculator and its lineage disagree
            raise ValueError("lineage does not account for the table: " + "; ".join(problems[:10]))
        lineage_parts = lineage_csv_parts(lineage_frame(records, contrib, form, rows=batch.data_rows), len(items))
    out: list[ReportResult | Exception] = []
    for i, (item, table) in enumerate(zip(items, tables)):
        try:
            out.append(_write(form, item, table, period, item.records,
                              lineage_parts[i] if lineage_parts is not None else None))
        except Exception as exc:  # noqa: BLE001 - this report's outcome (IdentityError, a failed write)
            out.append(exc)
    return out


def _write(form: FormDef, item: ScopeItem, table: pd.DataFrame, period: Period, recs: pd.DataFrame,
           lineage_part: bytes | None) -> ReportResult:
    scope, rows, path = item.scope, item.rows, item.path
    estimate_rows = tuple(r.row_id for r in rows if ESTIMATE_NOTE in (r.note or ""))
    meta = dict(item.meta or {})
    meta.setdefault("record_count", len(recs))
    if "batch_id" in recs.columns:
        meta.setdefault("source_batch_count", int(recs["batch_id"].nunique()))
    shown = form
    if scope.kind == "remapped":
        meta.setdefault(VIEW_META_KEY, REMAPPED_VIEW_TEXT)
        labels = [r.label for r in rows if r.row_id in estimate_rows]
        meta.setdefault(ESTIMATE_META_KEY, ", ".join(labels) if labels else "Không có")
        # The title block says it too: the date line is printed under the title.
        shown = dataclasses.replace(form, date_line=f"{form.date_line} – {REMAPPED_VIEW_TEXT}")
    else:
        meta.setdefault(VIEW_META_KEY, AS_RECORDED_VIEW_TEXT)
    written = render_xlsx(shown, table, rows, period, item.unit_name or scope.issuer, path, meta,
                          row_status=item.row_status, quality=item.quality)
    lineage_file = write_lineage_frame(path, lineage_part) if lineage_part is not None else None
    return ReportResult(Path(path), written.sha256, table, rows, form, period, len(recs), lineage_file, scope,
                        estimate_rows, written.values)


# The province's consolidated scope, for callers that hold the frames themselves (the
# calibration against published figures, the lineage and quality-sheet checks): the
# same computing and writing path as every unit's report (scope_report).
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


def city_report(form_code: str, period: Period, records: pd.DataFrame, units_df: pd.DataFrame,
                path: str | os.PathLike, meta: Mapping[str, Any] | None = None, *,
                province_code: str, unit_name: str | None = None,
                form: FormDef, strict: bool = True,
                row_status: Mapping[str, RowStatus] | None = None,
                quality: Mapping[str, Any] | None = None, lineage: bool = False,
                source_frames: Mapping[str, pd.DataFrame] | None = None) -> ReportResult:
    """Compute, check and write the city report of `form_code` for `period`.

    `records` is the form's source table (fact_reception for 01/TCD) for any dates;
    `units_df` is ``warehouse.units.unit_frame(settings)``; `province_code` the
    configured ``province.code``. `meta` goes to the info sheet; ``record_count`` and
    ``source_batch_count`` are added when absent.

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
    scope = scope_for(units_df, _province_key(units_df, province_code), "consolidated", str(province_code))
    return scope_report(form_code, scope, period, records, units_df, path, meta, form=form,
                        row_status=row_status, quality=quality, lineage=lineage, strict=strict,
                        unit_name=unit_name, source_frames=source_frames)
