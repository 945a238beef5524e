"""The measures a column is computed with (``compute.measure``): each turns the records
of a column's set into one number per report row. :data:`MEASURES` names them; the case
helpers (representatives, first visits, counted cases) are shared with the lineage.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import pandas as pd

from reports.formdef.filters import FilterContext
from reports.formdef.model import FormColumn, FormDef


def _per_row(values: pd.Series, rows: pd.Series, agg: str) -> pd.Series:
    return values.groupby(rows, sort=False, observed=True).agg(agg)


def _m_count_records(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.Series:
    return df.groupby("row_id", sort=False, observed=True).size()


def _numeric(df: pd.DataFrame, name: str) -> pd.Series:
    if name not in df.columns:
        raise KeyError(f"records lack column {name!r}")
    return pd.to_numeric(df[name]).astype("float64").fillna(0.0)


def sum_columns(compute: Mapping[str, Any]) -> list[str]:
    """The record columns a `sum` adds: ``column: c`` or ``columns: [a, b]`` (a record's
    addend is then a + b, NULL counting as 0 — e.g. money returned to organisations and
    to individuals, which TT 06/2025 no longer splits)."""
    return list(compute["columns"]) if compute.get("columns") else [compute["column"]]


def sum_addend(df: pd.DataFrame, compute: Mapping[str, Any], form: FormDef | None = None,
               ctx: FilterContext | None = None, mask: pd.Series | None = None) -> pd.Series:
    """Each record's addend (0 outside `mask`). ``per_case: true``: only the case's
    representative record adds its value — its latest record among all the report's
    records of its row (``ctx.df``, by ``cases.order_by``), the same for every column, so
    a decision that every petition of its case carries is added once, and the columns of
    one decision (ordered, done) read the same record."""
    total = None
    for name in sum_columns(compute):
        v = _numeric(df, name)
        total = v if total is None else total + v
    if mask is not None:
        total = total.where(mask, 0.0)
    if compute.get("per_case"):
        if ctx is not None:
            if "last_records_of_cases" not in ctx.derived:     # the same for every column
                ctx.derived["last_records_of_cases"] = _last_records(ctx.df, form)
            reps = ctx.derived["last_records_of_cases"]
        else:
            reps = _last_records(df, form)
        total = total.where(df.index.isin(reps), 0.0)
    return total


def _last_records(everything: pd.DataFrame, form: FormDef):
    """Index labels of each (row, case)'s latest record in `everything`."""
    return _representatives(everything, form, "last")["_rep"] if len(everything) else []


def _m_sum(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.Series:
    return _per_row(sum_addend(df, col.compute, form, ctx), df["row_id"], "sum")


_NULL_TOKEN = "\x00record:"
# How a NULL counted as its own value is shown in lineage (readable, and checked not to
# collide with a real value).
NULL_KEY_PREFIX = "(không mã) "


def null_as_own(values: pd.Series, df: pd.DataFrame, key_col: str | None,
                prefix: str = _NULL_TOKEN) -> pd.Series:
    """Values with every NULL replaced by a token unique to its record."""
    vals = values.astype(object)
    missing = vals.isna()
    if missing.any():
        if key_col and key_col in df.columns and df.loc[missing, key_col].notna().all():
            ids = df.loc[missing, key_col].astype(str)
        else:
            ids = pd.Series([("#" if prefix != _NULL_TOKEN else "") + str(i) for i in df.index[missing]],
                            index=df.index[missing])
        vals = vals.where(~missing, prefix + ids)
    return vals


def _m_count_distinct(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.Series:
    spec = col.compute
    values = df[spec["column"]]
    if spec.get("nulls", "ignore") == "each":
        values = null_as_own(values, df, form.cases.get("record_key"))
    return _per_row(values, df["row_id"], "nunique")


def _ordered(df: pd.DataFrame, form: FormDef, work: pd.DataFrame) -> pd.DataFrame:
    """`work` (same index as `df`) sorted by the form's case order, stably."""
    c = form.cases
    order = [o for o in c["order_by"] if o in df.columns]
    if len(order) != len(c["order_by"]):
        missing = sorted(set(c["order_by"]) - set(order))
        raise KeyError(f"records lack ordering column(s) {missing}")
    for i, o in enumerate(order):
        work[f"_o{i}"] = df[o]
    # Stable sort: equal keys keep input order, so the result never depends on chance.
    return work.sort_values([f"_o{i}" for i in range(len(order))], kind="mergesort")


def first_visit_flags(df: pd.DataFrame, form: FormDef) -> pd.DataFrame:
    """One line per (row, case) of `df`: its earliest record, and whether that record is
    a first visit."""
    c = form.cases
    work = pd.DataFrame({
        "row_id": df["row_id"],
        "_case": null_as_own(df[c["case_column"]], df, c.get("record_key")),
        "_first": df[c["visit_column"]].astype(object).eq(c["first_value"]).fillna(False).astype(bool),
    }, index=df.index)
    return _ordered(df, form, work).drop_duplicates(["row_id", "_case"], keep="first")


def _representatives(df: pd.DataFrame, form: FormDef, pick: str) -> pd.DataFrame:
    """One line per (row, case) of `df`: ``row_id``, ``_case`` and ``_rep``, the index
    label of the case's representative record (its earliest or latest in `df`)."""
    c = form.cases
    if c["case_column"] not in df.columns:
        raise KeyError(f"records lack the case column {c['case_column']!r}")
    work = pd.DataFrame({
        "row_id": df["row_id"],
        "_case": null_as_own(df[c["case_column"]], df, c.get("record_key")),
        "_rep": df.index,
    }, index=df.index)
    return _ordered(df, form, work).drop_duplicates(["row_id", "_case"], keep="first" if pick == "first" else "last")


def counted_cases(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.DataFrame:
    """The representatives of `df` (a column's set) with ``_counted``: whether the
    case is counted in column `col` (its representative satisfies `where`)."""
    reps = _representatives(df, form, col.compute.get("pick", "last"))
    if col.where is None:
        reps["_counted"] = True
    else:
        ok = ctx.mask(col.where)
        reps["_counted"] = ok.reindex(reps["_rep"]).to_numpy().astype(bool)
    return reps


def _m_count_cases(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.Series:
    reps = counted_cases(df, col, form, ctx)
    return _per_row(reps["_counted"].astype("int64"), reps["row_id"], "sum")


def _m_count_cases_first(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.Series:
    w = first_visit_flags(df, form)
    return _per_row(w["_first"].astype(int), w["row_id"], "sum")


def _m_count_cases_repeat(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.Series:
    w = first_visit_flags(df, form)
    return _per_row((~w["_first"]).astype(int), w["row_id"], "sum")


# name -> function(filtered records, column, form, filter context) -> Series indexed by
# row_id. The filter context evaluates filters (e.g. a column's `where`) on the whole
# frame of the report's records, for the report's window. Later forms add measures
# here (generic ones), never form-specific branches, with a lineage rule in
# CONTRIBUTIONS.
MEASURES: dict[str, Callable[[pd.DataFrame, FormColumn, FormDef, FilterContext], pd.Series]] = {
    "count_records": _m_count_records,
    "sum": _m_sum,
    "count_distinct": _m_count_distinct,
    "count_cases": _m_count_cases,
    "count_cases_first": _m_count_cases_first,
    "count_cases_repeat": _m_count_cases_repeat,
}
