"""Computing a report table: records placed in report rows → one line per row and one
column per MS number, with the rows that did not report left empty, the columns whose
source data is missing left empty and noted, and the total as the sum of the rows
(:func:`compute`); the notes printed under the table (:func:`row_notes`,
:func:`unavailable_notes`).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from reports.formdef.errors import PeriodRequiredError
from reports.formdef.filters import FilterContext, as_window
from reports.formdef.measures import MEASURES
from reports.formdef.model import (
    ROUND_DIGITS,
    TOLERANCE,
    TOTAL_ROW_ID,
    UNAVAILABLE,
    FormColumn,
    FormDef,
    ReportRow,
    RowStatus,
    SourceInput,
    topo_order,
    total_missing_note,
)


def _join_notes(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def complete_rows(form: FormDef, rows: list[ReportRow]) -> list[ReportRow]:
    ids = [r.row_id for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate row ids in report rows")
    totals = [r for r in rows if r.kind == "total"]
    if len(totals) > 1:
        raise ValueError("more than one total row")
    if totals and rows[-1].kind != "total":
        raise ValueError("the total row must be the last row")
    if not totals:
        rows = list(rows) + [ReportRow(TOTAL_ROW_ID, form.total_label, None, "total")]
    return list(rows)


def placed(records: pd.DataFrame, data_ids: list[str]) -> pd.DataFrame:
    """`records` with a positional index and a str ``row_id`` naming a data row;
    records of no data row are an error (dropping them would falsify the report)."""
    if "row_id" not in records.columns:
        raise KeyError("records need a `row_id` column (see build_rows_for_city)")
    df = records.reset_index(drop=True)
    stray = df["row_id"].isna() | ~df["row_id"].isin(data_ids)
    if stray.any():
        sample = sorted({str(x) for x in df.loc[stray, "row_id"].head(20)})
        raise ValueError(f"{int(stray.sum())} record(s) belong to no report row (row_id {sample})")
    df["row_id"] = df["row_id"].astype(str)
    return df


def _checked_status(rows: list[ReportRow], row_status: Mapping[str, RowStatus] | None) -> dict[str, RowStatus]:
    status = dict(row_status or {})
    data_ids = {r.row_id for r in rows if r.kind != "total"}
    unknown = sorted(str(k) for k in status if k not in data_ids)
    if unknown:
        raise ValueError(f"row_status names rows that are not data rows of the report: {unknown[:20]}")
    bad = sorted(str(k) for k, v in status.items() if not isinstance(v, RowStatus))
    if bad:
        raise TypeError(f"row_status values must be RowStatus (rows {bad[:20]})")
    return status


def records_context(form: FormDef, df: pd.DataFrame, period: Any, what: str) -> FilterContext:
    """The filter context of a report's records; checks the period is there when the
    form needs it and that every record is in the form's population for it."""
    window = as_window(period)
    name = f"form {form.code} ({form.version})"
    if window is None and form.needs_period:
        cols = form.window_columns
        why = (f"columns {cols} are counted relative to the report window (e.g. kỳ trước chuyển sang, "
               "state at the end)" if cols else "its population is defined for a window "
               "(FormDef.select(records, period))")
        raise PeriodRequiredError(f"{name}: {why}; call {what}(..., period=...) with the report's period")
    ctx = FilterContext(df, form.filters, window, name)
    if window is not None and len(df):
        inside = ctx.mask(form.population_filter)
        if not inside.all():
            raise ValueError(f"{int((~inside).sum())} record(s) are not in the population of {name} for "
                             f"{window.start}..{window.end}; select the records with FormDef.select(records, "
                             "period) before placing them in rows")
    return ctx


def lacking_rows(sub: pd.DataFrame, field: str) -> set:
    """Rows of `sub` (a column's records) with a record whose `field` is NULL: the
    source of that record does not carry what the column needs."""
    if field not in sub.columns:
        return set(sub["row_id"])
    return set(sub.loc[sub[field].isna(), "row_id"])


def lacking_note(form: FormDef, columns: Iterable[int]) -> str:
    """"Cột (3), (4): <reason>" for the given ``requires`` columns (one clause per
    reason), the note of a row whose cells are empty for want of source data."""
    by_reason: dict[str, list[int]] = {}
    for ms in sorted(columns):
        col = form.column(ms)
        if col.requires:
            by_reason.setdefault(" ".join(col.reason.split()).rstrip("."), []).append(ms)
    return "; ".join(f"Cột {', '.join(f'({m})' for m in cols)} để trống: {reason}"
                     for reason, cols in by_reason.items())


def _as_column_values(result: pd.Series, col: FormColumn, data_ids: list[str]) -> pd.Series:
    # On the plain array: a report has a few rows, and each pandas step costs more
    # than the arithmetic.
    v = result.reindex(data_ids, fill_value=0).fillna(0).to_numpy(dtype="float64")
    if col.decimal:
        return pd.Series(np.round(v, ROUND_DIGITS), index=data_ids)
    rounded = np.round(v)
    fractional = np.abs(v - rounded) > TOLERANCE
    if fractional.any():
        at = int(np.flatnonzero(fractional)[0])
        raise ValueError(f"column {col.ms} ({col.text}) is an integer column but its value for row {data_ids[at]} "
                         f"is {v[at]!r}; give the column a decimal number_format (e.g. \"#,##0.0\")")
    return pd.Series(rounded.astype("int64"), index=data_ids)


def source_frames(form: FormDef, sources: Mapping[str, SourceInput] | None, data_ids: list[str],
                  period: Any) -> dict[str, tuple[pd.DataFrame, FilterContext, SourceInput]]:
    """{source name: (placed records, filter context, input)} of the second inputs given;
    every record must be in a data row and (with a period) dated in the window."""
    out = {}
    unknown = sorted(set(sources or {}) - set(form.sources))
    if unknown:
        raise ValueError(f"form {form.code} has no source {unknown[0]!r}")
    window = as_window(period)
    for name, inp in (sources or {}).items():
        if not isinstance(inp, SourceInput):
            raise TypeError(f"source {name!r}: give a SourceInput")
        sdef = form.sources[name]
        bad = sorted(str(k) for k in inp.unavailable if k not in data_ids)
        if bad:
            raise ValueError(f"source {name!r}: unavailable rows {bad[:10]} are not data rows of the report")
        df = placed(inp.records, data_ids)
        ctx = FilterContext(df, form.filters, window, f"form {form.code} source {name}")
        if window is not None and len(df):
            # A distinct date may carry its unit ("legacy:275|2024-12-02",
            # reports.levels.count_per_unit: one day at two units of a row is two days).
            raw = df[sdef.date_column].map(lambda v: str(v).rsplit("|", 1)[-1] if isinstance(v, str) else v)
            days = pd.to_datetime(raw, errors="coerce")
            if days.isna().any():
                raise ValueError(f"source {name!r}: {int(days.isna().sum())} record(s) without a readable "
                                 f"{sdef.date_column}")
            day = days.dt.date
            inside = (day >= window.start) & (day <= window.end)
            if not inside.all():
                raise ValueError(f"{int((~inside).sum())} record(s) of source {name!r} are dated outside "
                                 f"{window.start}..{window.end}")
        out[name] = (df, ctx, inp)
    return out


def source_note(form: FormDef, name: str, reason: str) -> str:
    """"Cột (10), (16): <reason>" for the columns of source `name`."""
    cols = form.columns_of_source(name)
    return f"Cột {', '.join(f'({m})' for m in cols)}: {reason}"


def compute(form: FormDef, records: pd.DataFrame, rows: list[ReportRow],
            row_status: Mapping[str, RowStatus] | None = None, period: Any = None,
            sources: Mapping[str, SourceInput] | None = None) -> pd.DataFrame:
    """The report table: one line per row (in `rows` order, total last), indexed by
    row_id, with columns ``label``, ``kind`` and then one column per MS number (int
    values for integer columns, float for decimal columns, str for text columns).

    `records` are the form's population for the window — ``form.select(records,
    period)`` — with a ``row_id`` column naming the row each belongs to. A record whose
    row_id is not a data row is an error: silently dropping records would falsify the
    report.

    `period` (a core.periods.Period, anything with ``start``/``end``, or a pair of
    dates): required by forms with window-relative columns (PeriodRequiredError
    otherwise); when given, every record must be in the form's population for it
    (ValueError otherwise). Forms without window-relative columns (01/TCD) work
    without it, on records the caller restricted to the window.

    `row_status` (row_id → :class:`RowStatus`, rows absent are complete): a row that
    did not report must have no records (ValueError otherwise: the caller's
    completeness and its data contradict each other); its number cells are ``pd.NA``
    (number columns become ``Int64`` / ``Float64``) and its note starts with "Chưa báo
    cáo". The total is the sum of the rows that reported.

    Columns of measure ``unavailable`` are None on every row, total included. A form
    without a note column (TT 06/2025: the notes go on the "Ghi chú" line under the
    table) gets a last column ``note`` with each row's note instead (:func:`row_notes`).

    `sources` (source name → :class:`SourceInput`): the second inputs of the columns
    with ``compute.source``, their records placed in rows and dated in the window. A
    row listed in the input's ``unavailable`` gets empty cells in those columns (never
    0) and its reason in its note ("Cột (10), (16): …"); the total of such a column is
    the sum of the rows that reported, or empty (with a note) when one of those rows
    is empty. A source not given leaves its columns empty on every row, the total's
    note saying why (the source's ``absent_reason``). These columns are nullable
    (``Int64`` / ``Float64``).
    """
    rows = complete_rows(form, rows)
    data_rows = [r for r in rows if r.kind != "total"]
    data_ids = [r.row_id for r in data_rows]
    status = _checked_status(rows, row_status)
    df = placed(records, data_ids)
    ctx = records_context(form, df, period, "compute")
    not_reported = [rid for rid in data_ids if rid in status and not status[rid].reported]
    if not_reported:
        clash = df["row_id"].isin(not_reported)
        if clash.any():
            counts = df.loc[clash, "row_id"].value_counts().sort_index().to_dict()
            raise ValueError(f"rows marked as not reported have records (row_id: count) {counts}: "
                             "a unit that sent data has reported")

    # Rows whose cell stays empty (ms → row ids): a record of the column's set lacks the
    # field it `requires`, or the row's second-input data does not cover the window; and
    # so the sum_of columns over them. Second inputs not given at all: `absent`.
    lacking: dict[int, set] = {}
    absent: set[int] = set()
    src = source_frames(form, sources, data_ids, period)

    def source_notes_of(rid: str) -> list[str]:
        if rid in not_reported:
            return []                   # "Chưa báo cáo" says it all
        return [source_note(form, name, inp.unavailable[rid]) for name, (_, _, inp) in src.items()
                if rid in inp.unavailable and form.columns_of_source(name)]

    def note_of(r: ReportRow) -> str:
        st = status.get(r.row_id)
        gaps = lacking_note(form, [ms for ms, rids in lacking.items() if r.row_id in rids])
        base = _join_notes(st.headline, r.note or "", st.note) if st else (r.note or "")
        return _join_notes(base, gaps, *source_notes_of(r.row_id))

    values: dict[int, pd.Series] = {}
    subsets: dict = {}
    note_columns = []
    for col in topo_order(form.columns):
        spec = col.compute
        if "sum_of" in spec:
            s = pd.Series(0.0, index=data_ids)
            for dep in spec["sum_of"]:
                s = s + values[int(dep)]
            values[col.ms] = s.round(ROUND_DIGITS) if col.decimal else s.astype("int64")
            gaps = set().union(*(lacking.get(int(dep), set()) for dep in spec["sum_of"]))
            if gaps:
                lacking[col.ms] = gaps
            if any(int(dep) in absent for dep in spec["sum_of"]):
                absent.add(col.ms)
            continue
        measure = spec["measure"]
        if measure == "note":
            note_columns.append(col.ms)      # filled once every column's gaps are known
            continue
        if measure == UNAVAILABLE:
            # No source carries it: an empty cell, never a 0 that would read as "none".
            values[col.ms] = pd.Series([None] * len(data_ids), index=data_ids, dtype=object)
            continue
        if col.source is not None:
            if col.source not in src:
                values[col.ms] = pd.Series(0, index=data_ids, dtype="int64")
                absent.add(col.ms)        # empty on every row (below), the total's note says why
                continue
            sdf, sctx, inp = src[col.source]
            sub = sdf[sctx.mask(col.filter)]
            result = MEASURES[measure](sub, col, form, sctx) if len(sub) else pd.Series(dtype="float64")
            values[col.ms] = _as_column_values(result, col, data_ids)
            gaps = {rid for rid in data_ids if rid in inp.unavailable} - set(not_reported)
            if gaps:
                lacking[col.ms] = gaps    # the row's data does not cover the window: empty, noted
            continue
        if col.filter not in subsets:        # columns often share their filter
            subsets[col.filter] = df[ctx.mask(col.filter)]
        sub = subsets[col.filter]
        result = MEASURES[measure](sub, col, form, ctx) if len(sub) else pd.Series(dtype="float64")
        values[col.ms] = _as_column_values(result, col, data_ids)
        if col.requires:
            gaps = lacking_rows(sub, col.requires) - set(not_reported)
            if gaps:
                lacking[col.ms] = gaps
    for ms in note_columns:
        values[ms] = pd.Series([note_of(r) for r in data_rows], index=data_ids, dtype=object)

    table = pd.DataFrame({ms: values[ms] for ms in form.ms_numbers}, index=data_ids)
    dtypes = {c.ms: ("float64" if c.decimal else "int64") for c in form.columns if c.kind == "number"}
    for ms in (set(dtypes) if not_reported else set(lacking) | absent):
        dtypes[ms] = "Float64" if dtypes[ms] == "float64" else "Int64"
        table[ms] = table[ms].astype(dtypes[ms])
    if not_reported:
        for ms in dtypes:
            table.loc[not_reported, ms] = pd.NA
    for ms, rids in lacking.items():
        # An empty cell, not a count of the records that happen to carry the field.
        table.loc[sorted(rids), ms] = pd.NA
    for ms in absent:
        table[ms] = pd.NA
    total_row = rows[-1]
    units_missing = sum(st.units_missing for rid, st in status.items() if st.units_missing)
    total_note = _join_notes(total_row.note or "", total_missing_note(units_missing),
                             "" if not lacking else
                             f"Cột {', '.join(f'({m})' for m in sorted(lacking))}: không cộng được vì có dòng "
                             "để trống (xem ghi chú của dòng)",
                             *(source_note(form, name, sdef.absent_reason) for name, sdef in form.sources.items()
                               if name not in src and form.columns_of_source(name)))
    total = {}
    for c in form.columns:
        # The forms are additive: the total row is the sum of the rows, never a
        # recount over the union of records (which would hide cross-unit duplicates).
        # Rows that did not report add nothing (their cells are empty, not zero).
        if c.kind == UNAVAILABLE or c.ms in lacking or c.ms in absent:
            total[c.ms] = None       # a sum over rows with empty cells would undercount
        elif c.kind != "number":
            total[c.ms] = total_note
        elif c.decimal:
            total[c.ms] = round(float(table[c.ms].sum()), ROUND_DIGITS)
        else:
            total[c.ms] = int(table[c.ms].sum())
    table.loc[total_row.row_id] = pd.Series(total, dtype=object)
    for c in form.columns:
        table[c.ms] = table[c.ms].astype(dtypes[c.ms]) if c.kind == "number" else table[c.ms].astype(object)
    table.insert(0, "kind", [r.kind for r in rows])
    table.insert(0, "label", [r.label for r in rows])
    if not form.has_note_column:
        # The form has no column for them, yet a unit that did not report, a row short
        # of units or a total that leaves some out must still say so (under the table).
        table[NOTE_COLUMN] = pd.Series([note_of(r) for r in data_rows] + [total_note],
                                       index=table.index, dtype=object)
    table.index.name = "row_id"
    return table


NOTE_COLUMN = "note"


def row_notes(form: FormDef, table: pd.DataFrame) -> list[tuple[str, str]]:
    """(row label, note) of every row of `table` (from :func:`compute`) that has a
    note, in row order: from the form's note column, or from the table's ``note``
    column on a form without one."""
    if form.has_note_column:
        ms = next(c.ms for c in form.columns if c.compute.get("measure") == "note")
        notes = table[ms]
    elif NOTE_COLUMN in table.columns:
        notes = table[NOTE_COLUMN]
    else:
        return []
    out = []
    for rid, note in notes.items():
        if note is not None and not (pd.api.types.is_scalar(note) and pd.isna(note)) and str(note).strip():
            out.append((str(table.at[rid, "label"]) if "label" in table.columns else str(rid), str(note)))
    return out


def unavailable_notes(form: FormDef) -> list[str]:
    """One line per reason of the unavailable columns, naming the columns it applies to
    as the guides of the forms do: "Cột (10), (16): <reason>"."""
    by_reason: dict[str, list[int]] = {}
    for c in form.columns:
        if c.kind == UNAVAILABLE:
            by_reason.setdefault(" ".join(c.reason.split()), []).append(c.ms)
    return [f"Cột {', '.join(f'({m})' for m in cols)}: {reason}" for reason, cols in by_reason.items()]
