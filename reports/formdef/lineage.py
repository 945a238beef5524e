"""The lineage of a report table: what each input record contributes to each number
column (:func:`contributions`, :func:`source_contributions`), how each column is traced
(:func:`lineage_kind`, :func:`source_columns`) and the table those contributions account
for (:func:`accounted_values`).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from reports.formdef.filters import FilterContext
from reports.formdef.measures import NULL_KEY_PREFIX, counted_cases, first_visit_flags, null_as_own, sum_addend
from reports.formdef.model import ROUND_DIGITS, UNAVAILABLE, FormColumn, FormDef, ReportRow, SourceInput
from reports.formdef.table import complete_rows, lacking_rows, placed, records_context, source_frames

ADDITIVE_MEASURES = ("count_records", "sum")
KEY_MEASURES = ("count_distinct", "count_cases", "count_cases_first", "count_cases_repeat")


def contribution_column(ms: int) -> str:
    """Name of the contribution column of MS `ms` (``c4``)."""
    return f"c{ms}"


def lineage_kind(form: FormDef, ms: int) -> str:
    """How column `ms` is traced to records: ``additive`` (its cell is the sum of the
    records' contributions), ``distinct`` (the number of distinct keys the records
    contribute), ``sum_of`` (the sum of other columns), ``text``, or ``unavailable``
    (an empty cell: no record is behind it)."""
    col = form.column(ms)
    if col.kind == "text":
        return "text"
    if col.kind == UNAVAILABLE:
        return UNAVAILABLE
    if "sum_of" in col.compute:
        return "sum_of"
    measure = col.compute["measure"]
    if measure in ADDITIVE_MEASURES:
        return "additive"
    if measure in KEY_MEASURES:
        return "distinct"
    raise NotImplementedError(f"column {ms}: measure {measure!r} has no lineage rule")


def source_columns(form: FormDef, ms: int) -> list[int]:
    """The columns computed from records that make up column `ms`: `[ms]` itself, or
    for a ``sum_of`` column the columns it adds up, expanded recursively (with
    repetitions, so that the cell is the sum of their values)."""
    col = form.column(ms)
    if "sum_of" not in col.compute:
        return [ms]
    return [leaf for dep in col.compute["sum_of"] for leaf in source_columns(form, int(dep))]


def _check_prefix(values: pd.Series, where: str) -> None:
    clash = values.dropna().astype(str).str.startswith(NULL_KEY_PREFIX)
    if clash.any():
        raise ValueError(f"{where}: values starting with {NULL_KEY_PREFIX!r} would be confused "
                         "with the marker of a record without a key")


def _c_count_records(df: pd.DataFrame, mask: pd.Series, col: FormColumn, form: FormDef,
                     ctx: FilterContext) -> pd.Series:
    return mask.astype("int64")


def _c_sum(df: pd.DataFrame, mask: pd.Series, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.Series:
    v = sum_addend(df, col.compute, form, ctx, mask)
    if not col.decimal and (v == v.round()).all():
        return v.astype("int64")
    return v


def _c_count_distinct(df: pd.DataFrame, mask: pd.Series, col: FormColumn, form: FormDef,
                      ctx: FilterContext) -> pd.Series:
    spec = col.compute
    sub = df[mask]
    values = sub[spec["column"]]
    _check_prefix(values, f"column {spec['column']}")
    if spec.get("nulls", "ignore") == "each":
        values = null_as_own(values, sub, form.cases.get("record_key"), NULL_KEY_PREFIX)
    return values.astype(object).reindex(df.index)


def _case_keys_shown(sub: pd.DataFrame, form: FormDef) -> tuple[pd.Series, pd.Series]:
    """(token, shown) case keys of `sub`: the token as the measures group by, and the
    key as the lineage file shows it."""
    c = form.cases
    _check_prefix(sub[c["case_column"]], f"column {c['case_column']}")
    token = null_as_own(sub[c["case_column"]], sub, c.get("record_key"))
    shown = null_as_own(sub[c["case_column"]], sub, c.get("record_key"), NULL_KEY_PREFIX)
    return token, shown


def _c_cases(first: bool):
    def contrib(df: pd.DataFrame, mask: pd.Series, col: FormColumn, form: FormDef,
                ctx: FilterContext) -> pd.Series:
        out = pd.Series(None, index=df.index, dtype=object)
        sub = df[mask]
        if not len(sub):
            return out
        token, shown = _case_keys_shown(sub, form)
        flags = first_visit_flags(sub, form)            # one line per (row, case)
        key = pd.MultiIndex.from_arrays([sub["row_id"], token])
        is_first = pd.Series(flags["_first"].to_numpy(),
                             index=pd.MultiIndex.from_arrays([flags["row_id"], flags["_case"]]))
        counted = is_first.reindex(key).to_numpy().astype(bool)
        counted = counted if first else ~counted
        out.loc[sub.index[counted]] = shown[counted].to_numpy()
        return out
    return contrib


def _c_count_cases(df: pd.DataFrame, mask: pd.Series, col: FormColumn, form: FormDef,
                   ctx: FilterContext) -> pd.Series:
    out = pd.Series(None, index=df.index, dtype=object)
    sub = df[mask]
    if not len(sub):
        return out
    token, shown = _case_keys_shown(sub, form)
    reps = counted_cases(sub, col, form, ctx)
    by_case = pd.Series(reps["_counted"].to_numpy(),
                        index=pd.MultiIndex.from_arrays([reps["row_id"], reps["_case"]]))
    counted = by_case.reindex(pd.MultiIndex.from_arrays([sub["row_id"], token])).to_numpy().astype(bool)
    out.loc[sub.index[counted]] = shown[counted].to_numpy()
    return out


# name -> function(records, filter mask, column, form, filter context) -> Series on the
# records' index: the addend (additive measures) or the key (distinct measures) of
# each record.
CONTRIBUTIONS: dict[str, Callable[[pd.DataFrame, pd.Series, FormColumn, FormDef, FilterContext], pd.Series]] = {
    "count_records": _c_count_records,
    "sum": _c_sum,
    "count_distinct": _c_count_distinct,
    "count_cases": _c_count_cases,
    "count_cases_first": _c_cases(True),
    "count_cases_repeat": _c_cases(False),
}


def contributions(form: FormDef, records: pd.DataFrame, rows: list[ReportRow],
                  period: Any = None) -> pd.DataFrame:
    """What each record contributes to each number column computed from records.

    One line per record of `records` (same index, same order; `records` and `period`
    as given to :func:`compute`, with ``row_id``), a ``row_id`` column and one column
    ``c<ms>`` (:func:`contribution_column`) per number column that is not a
    ``sum_of`` (see the package docstring for what each holds and
    :func:`source_columns` for ``sum_of`` columns). For every data row and column:
    ``groupby("row_id")[c].sum()`` (additive) or ``.nunique()`` (distinct) equals the
    cell of :func:`compute`; the total row's cell is the sum of those over the rows.
    """
    rows = complete_rows(form, rows)
    data_ids = [r.row_id for r in rows if r.kind != "total"]
    df = placed(records, data_ids)
    ctx = records_context(form, df, period, "contributions")
    out = pd.DataFrame({"row_id": df["row_id"]}, index=df.index)
    for col in form.columns:
        if col.kind != "number" or "sum_of" in col.compute:
            continue
        measure = col.compute["measure"]
        if measure not in CONTRIBUTIONS:
            raise NotImplementedError(f"column {col.ms}: measure {measure!r} has no lineage rule")
        if col.source is not None:
            # counted from a second input: see source_contributions
            out[contribution_column(col.ms)] = pd.Series(None, index=df.index, dtype=object)
            continue
        mask = ctx.mask(col.filter)
        contrib = CONTRIBUTIONS[measure](df, mask, col, form, ctx)
        if col.requires:
            # The cell is empty (compute), so no record is behind it.
            gaps = df["row_id"].isin(lacking_rows(df[mask], col.requires))
            if gaps.any():
                contrib = contrib.astype(object) if measure not in ADDITIVE_MEASURES else contrib
                contrib[gaps] = 0 if measure in ADDITIVE_MEASURES else None
        out[contribution_column(col.ms)] = contrib
    out.index = records.index
    return out


def source_contributions(form: FormDef, sources: Mapping[str, SourceInput] | None, rows: list[ReportRow],
                         period: Any = None) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """[(records, contributions)] of each second input given (as to :func:`compute`):
    the same contribution columns as :func:`contributions`, filled only for the
    columns counted from that input; a record of a row whose cells are empty
    (``SourceInput.unavailable``) contributes nothing, since no record is behind an
    empty cell. Concatenated with the main records' contributions, the per-row sums
    and distinct counts equal the cells of :func:`compute`."""
    rows = complete_rows(form, rows)
    data_ids = [r.row_id for r in rows if r.kind != "total"]
    out = []
    for name, (df, ctx, inp) in source_frames(form, sources, data_ids, period).items():
        contrib = pd.DataFrame({"row_id": df["row_id"]}, index=df.index)
        available = ~df["row_id"].isin(list(inp.unavailable))
        for col in form.columns:
            if col.kind != "number" or "sum_of" in col.compute:
                continue
            c = contribution_column(col.ms)
            if col.source != name:
                contrib[c] = pd.Series(None, index=df.index, dtype=object)
                continue
            mask = ctx.mask(col.filter) & available
            contrib[c] = CONTRIBUTIONS[col.compute["measure"]](df, mask, col, form, ctx)
        out.append((df, contrib))
    return out


def accounted_values(form: FormDef, contrib: pd.DataFrame, row_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The table the contributions account for: one line per row_id (those given, or
    those in `contrib`), one column per number MS; the value each cell must have
    (int64, or float64 for decimal columns)."""
    ids = list(row_ids) if row_ids is not None else sorted(contrib["row_id"].unique())
    g = contrib.groupby("row_id", sort=False)
    # Every column of a kind in one groupby: a report has a few rows, and each pandas
    # step costs more than the arithmetic.
    kinds = {ms: lineage_kind(form, ms) for ms in form.number_columns}
    additive = [contribution_column(ms) for ms, k in kinds.items() if k == "additive"]
    distinct = [contribution_column(ms) for ms, k in kinds.items() if k == "distinct"]
    sums = g[additive].sum() if additive else None
    counts = g[distinct].nunique() if distinct else None
    leaf: dict[int, pd.Series] = {}
    for ms, kind in kinds.items():
        if kind == "additive":
            leaf[ms] = sums[contribution_column(ms)].reindex(ids, fill_value=0).astype("float64")
        elif kind == "distinct":
            leaf[ms] = counts[contribution_column(ms)].reindex(ids, fill_value=0).astype("float64")
    out = {}
    for ms in form.number_columns:
        s = sum((leaf[m] for m in source_columns(form, ms)), pd.Series(0.0, index=ids))
        out[ms] = s.round(ROUND_DIGITS) if form.column(ms).decimal else s.round().astype("int64")
    return pd.DataFrame(out, index=ids)
