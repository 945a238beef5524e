"""Computing a report table: records placed in report rows → one line per row and one
column per MS number, with the rows that did not report left empty, the columns whose
source data is missing left empty and noted, and the total as the sum of the rows
(:func:`compute`); the notes printed under the table (:func:`row_notes`,
:func:`unavailable_notes`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
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


def _as_column_values(result: pd.Series, col: FormColumn, data_ids: list[str]) -> np.ndarray:
    # On the plain array: a report has a few rows, and each pandas step costs more
    # than the arithmetic.
    v = result.reindex(data_ids, fill_value=0).fillna(0).to_numpy(dtype="float64")
    if col.decimal:
        return np.round(v, ROUND_DIGITS)
    rounded = np.round(v)
    fractional = np.abs(v - rounded) > TOLERANCE
    if fractional.any():
        at = int(np.flatnonzero(fractional)[0])
        raise ValueError(f"column {col.ms} ({col.text}) is an integer column but its value for row {data_ids[at]} "
                         f"is {v[at]!r}; give the column a decimal number_format (e.g. \"#,##0.0\")")
    return rounded.astype("int64")


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
    return compute_many(form, [ReportInput(records, rows, row_status, sources)], period)[0]


@dataclass
class ReportInput:
    """One report's inputs to :func:`compute_many`: as the arguments of :func:`compute`."""

    records: pd.DataFrame
    rows: list[ReportRow]
    row_status: Mapping[str, RowStatus] | None = None
    sources: Mapping[str, SourceInput] | None = None


# Joins a report's position to its row ids in the union of a batch (compute_many): a
# control character no unit code or row id contains.
BATCH_SEP = "\x1f"


def batch_row_id(i: int, row_id: str) -> str:
    """The id of row `row_id` of the `i`-th report in a batch's union."""
    return f"{i}{BATCH_SEP}{row_id}"


@dataclass
class Batch:
    """Several reports of one form as one report whose data rows are all theirs
    (:func:`batch_of`): every per-row step (placing, measures, lineage) runs once over
    the union; each report's table is then assembled from its own rows. With one
    report, its rows keep their ids."""

    rows: list[list[ReportRow]]          # each report's rows, completed (total last)
    statuses: list[dict]                 # each report's checked row status
    data_rows: list[ReportRow]           # the union's data rows, report after report
    bounds: list[tuple[int, int]]        # each report's data rows in data_rows [a, b)
    records: pd.DataFrame                # the union's records (row_id of data_rows)
    status: dict                         # the union's row status
    sources: dict | None                 # the union's second inputs


def batch_of(form: FormDef, reports: list[ReportInput]) -> Batch:
    """The union of `reports` (see :class:`Batch`); each report's rows and status are
    checked as :func:`compute` checks them."""
    if not reports:
        raise ValueError("no report to compute")
    names = {frozenset(r.sources or {}) for r in reports}
    if len(names) > 1:
        raise ValueError("the reports of a batch must give the same second inputs")
    rows = [complete_rows(form, r.rows) for r in reports]
    statuses = [_checked_status(rs, r.row_status) for rs, r in zip(rows, reports)]
    if len(reports) == 1:
        rs = rows[0]
        data = [r for r in rs if r.kind != "total"]
        return Batch(rows, statuses, data, [(0, len(data))], reports[0].records, statuses[0],
                     dict(reports[0].sources) if reports[0].sources is not None else None)
    data_rows, bounds, status = [], [], {}
    for i, (rs, r, st) in enumerate(zip(rows, reports, statuses)):
        a = len(data_rows)
        data_rows += [dataclasses.replace(x, row_id=batch_row_id(i, x.row_id)) for x in rs if x.kind != "total"]
        bounds.append((a, len(data_rows)))
        status.update({batch_row_id(i, k): v for k, v in st.items()})
    sources = None
    if reports[0].sources is not None:
        sources = {}
        for name in reports[0].sources:
            parts = [r.sources[name] for r in reports]
            sources[name] = SourceInput(_union([p.records for p in parts]),
                                        {batch_row_id(i, k): v for i, p in enumerate(parts)
                                         for k, v in p.unavailable.items()})
    return Batch(rows, statuses, data_rows, bounds, _union([r.records for r in reports]), status, sources)


def _union(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one after the other, each one's ``row_id`` prefixed with its position
    (:func:`batch_row_id`): one concatenation, one string operation."""
    for f in frames:
        if "row_id" not in f.columns:
            raise KeyError("records need a `row_id` column (see build_rows_for_city)")
    out = pd.concat(frames, ignore_index=True)
    if not len(out):
        return out
    prefix = np.repeat(np.array([f"{i}{BATCH_SEP}" for i in range(len(frames))], dtype=object),
                       [len(f) for f in frames])
    rid = out["row_id"]
    out["row_id"] = (pd.Series(prefix, index=out.index) + rid.astype(str)).where(rid.notna(), None).astype(object)
    return out


@dataclass
class _RowValues:
    """The data rows' cells of a batch: per MS number an array over the union's data
    rows; the rows whose cells stay empty; each row's note."""

    values: dict[int, np.ndarray]
    lacking: dict[int, set]              # ms → union row ids left empty for want of data
    absent: set[int]                     # columns of second inputs not given
    notes: list[str]                     # each data row's note
    not_reported: set[str]
    absent_sources: list[str]            # names of the second inputs not given


def compute_many(form: FormDef, reports: list[ReportInput], period: Any = None) -> list[pd.DataFrame]:
    """:func:`compute` of each report of `reports` (the same form and `period`): the
    measures run once over the union of their rows (each row's cells depend on its own
    records only), then each report's table is assembled from its rows — the same
    tables as computing each alone, at a fraction of the cost for many small reports.
    Reports must give the same second inputs (by name)."""
    return compute_batch(form, batch_of(form, reports), period)[0]


def compute_batch(form: FormDef, batch: Batch, period: Any = None,
                  union_table: bool = False) -> tuple[list[pd.DataFrame], pd.DataFrame | None]:
    """(each report's table, the union's table or None) of a :func:`batch_of`: the
    union's table has every data row of the batch (union row ids) and their total —
    what the batch's lineage (reports.formdef.contributions over ``batch.records``)
    accounts for."""
    rv = _row_values(form, batch, period)
    tables = [_assemble(form, rows, rv, bounds, batch.data_rows, status)
              for rows, bounds, status in zip(batch.rows, batch.bounds, batch.statuses)]
    union = None
    if union_table:
        union = tables[0] if len(tables) == 1 else _assemble(
            form, complete_rows(form, batch.data_rows), rv, (0, len(batch.data_rows)), batch.data_rows, batch.status)
    return tables, union


def _row_values(form: FormDef, batch: Batch, period: Any) -> _RowValues:
    data_rows = batch.data_rows
    data_ids = [r.row_id for r in data_rows]
    status = batch.status
    df = placed(batch.records, data_ids)
    ctx = records_context(form, df, period, "compute")
    not_reported = [rid for rid in data_ids if rid in status and not status[rid].reported]
    if not_reported:
        clash = df["row_id"].isin(not_reported)
        if clash.any():
            counts = df.loc[clash, "row_id"].value_counts().sort_index().to_dict()
            raise ValueError(f"rows marked as not reported have records (row_id: count) {counts}: "
                             "a unit that sent data has reported")
    not_reported_set = set(not_reported)

    # Rows whose cell stays empty (ms → row ids): a record of the column's set lacks the
    # field it `requires`, or the row's second-input data does not cover the window; and
    # so the sum_of columns over them. Second inputs not given at all: `absent`.
    lacking: dict[int, set] = {}
    absent: set[int] = set()
    src = source_frames(form, batch.sources, data_ids, period)

    values: dict[int, np.ndarray] = {}
    subsets: dict = {}
    note_columns = []
    n = len(data_ids)
    for col in topo_order(form.columns):
        spec = col.compute
        if "sum_of" in spec:
            s = np.zeros(n, dtype="float64")
            for dep in spec["sum_of"]:
                s = s + values[int(dep)]
            values[col.ms] = np.round(s, ROUND_DIGITS) if col.decimal else s.astype("int64")
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
            values[col.ms] = np.full(n, None, dtype=object)
            continue
        if col.source is not None:
            if col.source not in src:
                values[col.ms] = np.zeros(n, dtype="int64")
                absent.add(col.ms)        # empty on every row (below), the total's note says why
                continue
            sdf, sctx, inp = src[col.source]
            sub = sdf[sctx.mask(col.filter)]
            result = MEASURES[measure](sub, col, form, sctx) if len(sub) else pd.Series(dtype="float64")
            values[col.ms] = _as_column_values(result, col, data_ids)
            gaps = {rid for rid in data_ids if rid in inp.unavailable} - not_reported_set
            if gaps:
                lacking[col.ms] = gaps    # the row's data does not cover the window: empty, noted
            continue
        if col.filter not in subsets:        # columns often share their filter
            subsets[col.filter] = df[ctx.mask(col.filter)]
        sub = subsets[col.filter]
        result = MEASURES[measure](sub, col, form, ctx) if len(sub) else pd.Series(dtype="float64")
        values[col.ms] = _as_column_values(result, col, data_ids)
        if col.requires:
            gaps = lacking_rows(sub, col.requires) - not_reported_set
            if gaps:
                lacking[col.ms] = gaps

    def source_notes_of(rid: str) -> list[str]:
        if rid in not_reported_set:
            return []                   # "Chưa báo cáo" says it all
        return [source_note(form, name, inp.unavailable[rid]) for name, (_, _, inp) in src.items()
                if rid in inp.unavailable and form.columns_of_source(name)]

    def note_of(r: ReportRow) -> str:
        st = status.get(r.row_id)
        gaps = lacking_note(form, [ms for ms, rids in lacking.items() if r.row_id in rids]) if lacking else ""
        base = _join_notes(st.headline, r.note or "", st.note) if st else (r.note or "")
        return _join_notes(base, gaps, *source_notes_of(r.row_id))

    notes = [note_of(r) for r in data_rows]
    for ms in note_columns:
        values[ms] = np.array(notes, dtype=object) if n else np.empty(0, dtype=object)
    return _RowValues(values, lacking, absent, notes, not_reported_set,
                      [name for name in form.sources if name not in src])


def _assemble(form: FormDef, rows: list[ReportRow], rv: _RowValues, bounds: tuple[int, int],
              union_rows: list[ReportRow], status: dict) -> pd.DataFrame:
    """One report's table from the batch's cells of its data rows (union positions
    `bounds`): its empty cells, its total (the sum of its rows that reported), its
    notes."""
    a, b = bounds
    data_rows = rows[:-1]
    total_row = rows[-1]
    n = b - a
    union_ids = [r.row_id for r in union_rows[a:b]]
    not_reported = np.array([rid in rv.not_reported for rid in union_ids], dtype=bool)
    lacking: dict[int, np.ndarray] = {}
    for ms, rids in rv.lacking.items():
        mine = np.array([rid in rids for rid in union_ids], dtype=bool)
        if mine.any():
            lacking[ms] = mine
    absent = rv.absent
    any_not_reported = bool(not_reported.any())
    units_missing = sum(st.units_missing for st in status.values() if st.units_missing)
    total_note = _join_notes(total_row.note or "", total_missing_note(units_missing),
                             "" if not lacking else
                             f"Cột {', '.join(f'({m})' for m in sorted(lacking))}: không cộng được vì có dòng "
                             "để trống (xem ghi chú của dòng)",
                             *(source_note(form, name, form.sources[name].absent_reason)
                               for name in rv.absent_sources if form.columns_of_source(name)))
    columns: dict[Any, Any] = {"label": [r.label for r in rows], "kind": [r.kind for r in rows]}
    for c in form.columns:
        v = rv.values[c.ms][a:b]
        if c.kind == "number":
            empty = not_reported.copy()
            if c.ms in lacking:
                empty |= lacking[c.ms]
            if c.ms in absent:
                empty[:] = True
            nullable = any_not_reported or c.ms in lacking or c.ms in absent
            # The forms are additive: the total row is the sum of the rows, never a
            # recount over the union of records (which would hide cross-unit duplicates).
            # Rows that did not report add nothing (their cells are empty, not zero).
            if c.ms in lacking or c.ms in absent:
                total = None       # a sum over rows with empty cells would undercount
            elif c.decimal:
                total = round(float(v[~empty].sum()), ROUND_DIGITS)
            else:
                total = int(v[~empty].sum())
            if c.decimal:
                data = np.append(v.astype("float64"), np.nan if total is None else total)
            else:
                data = np.append(v.astype("int64"), 0 if total is None else total)
            if nullable:
                mask = np.append(empty, total is None)
                columns[c.ms] = pd.arrays.FloatingArray(data, mask) if c.decimal else \
                    pd.arrays.IntegerArray(data, mask)
            else:
                columns[c.ms] = data
            continue
        if c.kind == UNAVAILABLE:
            columns[c.ms] = np.full(n + 1, None, dtype=object)
            continue
        text = np.empty(n + 1, dtype=object)
        text[:n] = v
        text[n] = total_note
        columns[c.ms] = text
    if not form.has_note_column:
        # The form has no column for them, yet a unit that did not report, a row short
        # of units or a total that leaves some out must still say so (under the table).
        columns[NOTE_COLUMN] = np.array(rv.notes[a:b] + [total_note], dtype=object)
    index = pd.Index([r.row_id for r in data_rows] + [total_row.row_id], name="row_id")
    table = pd.DataFrame(columns, index=index)
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
