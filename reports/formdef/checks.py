"""Checking a report table before it is delivered: the form's check identities, the
cells' types, the total as the sum of the rows that reported (:func:`check_identities`,
:func:`assert_identities`), and every cell against its lineage
(:func:`check_contributions`).
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from reports.formdef.errors import IdentityError
from reports.formdef.lineage import accounted_values
from reports.formdef.model import ROUND_DIGITS, TOLERANCE, FormDef, RowStatus


def _row_name(table: pd.DataFrame, row_id: Any) -> str:
    label = table.at[row_id, "label"] if "label" in table.columns else row_id
    return f"dòng «{label}» ({row_id})"


def _num_text(value: Any) -> str:
    """A number as a violation message shows it: integers without decimals."""
    v = float(value)
    if not np.isfinite(v):
        return str(v)
    return str(int(round(v))) if abs(v - round(v)) <= TOLERANCE else f"{v:.{ROUND_DIGITS}g}"


def not_reported_rows(form: FormDef, table: pd.DataFrame) -> list[str]:
    """Rows of `table` that did not report: data rows whose every number cell is empty
    (that is how :func:`compute` shows them)."""
    if not form.number_columns:
        return []
    return _empty_rows(table, table[list(form.number_columns)].isna().to_numpy())


def _empty_rows(table: pd.DataFrame, isna: np.ndarray) -> list[str]:
    """The data rows (not the total) whose every number cell is empty, by `isna`
    (rows × number columns)."""
    empty = isna.all(axis=1)
    if "kind" in table.columns:
        empty &= table["kind"].to_numpy() != "total"
    return [str(i) for i in table.index[empty]]


def _numbers(table: pd.DataFrame, columns: list) -> tuple[np.ndarray, bool]:
    """(the number columns as one float array, NaN for empty or unreadable cells;
    whether every cell was a number or empty): one conversion for the table, not one
    per column (every report of a set is checked)."""
    try:
        return table[columns].to_numpy(dtype="float64", na_value=np.nan), True
    except (TypeError, ValueError):     # text in a number column (a table read back from a sheet)
        if not columns:
            return np.empty((len(table), 0)), True
        return np.column_stack([pd.to_numeric(table[c], errors="coerce").astype("float64").to_numpy()
                                for c in columns]), False


def check_identities(form: FormDef, table: pd.DataFrame,
                     row_status: Mapping[str, RowStatus] | None = None) -> list[str]:
    """Every violation of the form's checks in `table` (as made by :func:`compute`),
    as readable sentences; an empty list means the table may be delivered.

    Integer columns must hold non-negative integers, decimal columns non-negative
    numbers; sides of a check are compared within :data:`TOLERANCE`. Rows that did not
    report (every number cell empty) are not checked, and the total must be the sum of
    the rows that reported. With `row_status`, the empty rows must be exactly those it
    marks ``reported=False``. Unavailable columns must be empty on every row; the
    checks that involve them are not verified (:attr:`FormDef.unchecked_checks`).
    """
    # An unavailable column holds nothing to check: a table read back from a sheet may
    # leave it out (reports.verify reads the number and text columns).
    missing = [ms for ms in form.ms_numbers if ms not in table.columns and ms not in form.unavailable_columns]
    if missing:
        return [f"bảng thiếu cột {missing}"]
    out: list[str] = []
    index = table.index
    columns = list(form.number_columns)
    matrix, only_numbers = _numbers(table, columns)
    # not_reported_rows, on the matrix already made when it holds every cell as read.
    empty = set(_empty_rows(table, np.isnan(matrix)) if only_numbers and columns
                else not_reported_rows(form, table))
    if row_status is not None:
        declared = {str(k) for k, v in row_status.items() if not v.reported}
        for rid in index:
            if str(rid) in declared and str(rid) not in empty:
                out.append(f"{_row_name(table, rid)}: đơn vị chưa báo cáo nhưng dòng có số liệu")
            elif str(rid) in empty and str(rid) not in declared:
                out.append(f"{_row_name(table, rid)}: dòng để trống nhưng đơn vị không được ghi là chưa báo cáo")
    reported = np.array([str(i) not in empty for i in index], dtype=bool)
    # The whole table as one matrix (rows × number columns), each rule applied to all
    # of it at once: a report set checks thousands of small tables, where a loop over
    # some forty columns cost more than computing the table.
    partial = set(form.partial_columns)
    is_partial = np.array([ms in partial for ms in columns], dtype=bool)
    is_decimal = np.array([form.column(ms).decimal for ms in columns], dtype=bool)
    isna = np.isnan(matrix)
    on_reported = reported[:, None]
    missing = isna & ~is_partial
    gaps = isna & on_reported & is_partial      # partial columns: the reported rows whose cell is empty on purpose
    with np.errstate(invalid="ignore"):
        filled = np.where(isna, 0.0, matrix)
        bad_decimal = missing | ~np.isfinite(filled) | (matrix < -TOLERANCE)
        bad_integer = missing | ~np.isfinite(filled) | (matrix < 0) | ((matrix != np.round(matrix)) & ~isna)
    bad = np.where(is_decimal, bad_decimal, bad_integer) & on_reported
    for j, pos in zip(*np.nonzero(bad.T)):          # column by column, as the form lists them
        ms, rid = columns[j], index[pos]
        what = "không phải số không âm" if is_decimal[j] else "không phải số nguyên không âm"
        out.append(f"{_row_name(table, rid)}: cột {ms} = {table.at[rid, ms]!r} {what}")
    for ms in (m for m in form.unavailable_columns if m in table.columns):
        # A figure here came from somewhere the form definition does not know of.
        filled_cells = [rid for rid, v in table[ms].items()
                        if v is not None and not (pd.api.types.is_scalar(v) and pd.isna(v))]
        for rid in filled_cells:
            out.append(f"{_row_name(table, rid)}: cột {ms} chưa có nguồn số liệu nhưng có giá trị "
                       f"{table.at[rid, ms]!r}")
    if out:
        return out
    at_column = {ms: j for j, ms in enumerate(columns)}
    for chk in form.verified_checks:
        sides = [[at_column[m] for m in side] for side in chk.sides]
        sums = [filled[:, side].sum(axis=1) for side in sides]
        # A row with an empty cell in the check cannot be checked (it would fail or hold by accident).
        checkable = reported & ~gaps[:, [j for side in sides for j in side]].any(axis=1)
        for i, op in enumerate(chk.ops):
            left, right = sums[i], sums[i + 1]
            diff = left - right
            ok = (np.abs(diff) <= TOLERANCE) if op == "=" else (diff <= TOLERANCE if op == "<=" else diff >= -TOLERANCE)
            for pos in np.flatnonzero(~ok & checkable):
                rid = index[pos]
                lt = "+".join(map(str, chk.sides[i]))
                rt = "+".join(map(str, chk.sides[i + 1]))
                out.append(f"{_row_name(table, rid)}: vi phạm «{chk.text}» — cột {lt} = "
                           f"{_num_text(left[pos])}, cột {rt} = {_num_text(right[pos])}"
                           + (f" ({chk.instruction})" if chk.instruction else ""))
    if form.total_is_sum_of_rows:
        if "kind" not in table.columns:
            return out + ["bảng không có cột `kind` để xác định dòng tổng cộng"]
        is_total = table["kind"].to_numpy() == "total"
        if int(is_total.sum()) != 1:
            return out + [f"bảng phải có đúng một dòng tổng cộng (có {int(is_total.sum())})"]
        at = int(np.flatnonzero(is_total)[0])
        rid = index[at]
        gaps_in_rows = gaps[~is_total].any(axis=0)
        gaps_at_total = gaps[at]
        any_row_reported = bool((~is_total & reported).any())
        expected = filled[~is_total & reported].sum(axis=0)
        mismatch = np.abs(filled[at] - expected) > TOLERANCE
        for j in np.flatnonzero(gaps_in_rows | gaps_at_total | mismatch):
            ms = columns[j]
            if gaps_in_rows[j] or gaps_at_total[j]:
                # Rows with empty cells: the total cannot be their sum and must be empty too.
                if not gaps_at_total[j]:
                    out.append(f"{_row_name(table, rid)}: cột {ms} = {_num_text(filled[at, j])} nhưng có dòng "
                               "để trống cột này (tổng không cộng được)")
                elif not gaps_in_rows[j] and any_row_reported:
                    out.append(f"{_row_name(table, rid)}: cột {ms} để trống nhưng mọi dòng đơn vị đều có số liệu")
                continue
            out.append(f"{_row_name(table, rid)}: cột {ms} = {_num_text(filled[at, j])} nhưng tổng "
                       f"các dòng đơn vị = {_num_text(expected[j])}")
    return out


def assert_identities(form: FormDef, table: pd.DataFrame,
                      row_status: Mapping[str, RowStatus] | None = None) -> None:
    violations = check_identities(form, table, row_status)
    if violations:
        raise IdentityError(violations)


def check_contributions(form: FormDef, table: pd.DataFrame, contrib: pd.DataFrame) -> list[str]:
    """Cells of `table` (from :func:`compute`) that `contrib` (from
    :func:`contributions` on the same records) does not account for exactly (decimal
    cells: within :data:`TOLERANCE`), as sentences; the total row is checked against
    all rows. Empty list = consistent."""
    is_total = table["kind"].eq("total").to_numpy()
    data_ids = [str(i) for i in table.index[~is_total]]
    acc = accounted_values(form, contrib, data_ids)
    columns = list(form.number_columns)
    # On plain arrays (a batch's union table has every row of its reports); the cells
    # are looked up again only to word a problem.
    cells, _ = _numbers(table, columns)
    got = acc[columns].to_numpy(dtype="float64") if columns else np.empty((len(data_ids), 0))
    data = cells[~is_total]
    with np.errstate(invalid="ignore"):
        wrong = np.where(np.isnan(data), got != 0, ~(np.abs(data - got) <= TOLERANCE))
    totals = [(pos, table.index[pos]) for pos in np.flatnonzero(is_total)]
    sums = got.sum(axis=0)
    out = []
    for j, ms in enumerate(columns):
        for i in np.flatnonzero(wrong[:, j]):
            rid = data_ids[i]
            out.append(f"{_row_name(table, rid)}: cột {ms} = {table.at[rid, ms]!r}, nguồn cho {_num_text(got[i, j])}")
        for pos, rid in totals:
            cell = cells[pos, j]
            if ms in form.partial_columns and np.isnan(cell):
                continue          # not added up (rows with empty cells): nothing to account for
            if not abs(cell - sums[j]) <= TOLERANCE:
                out.append(f"{_row_name(table, rid)}: cột {ms} = {table.at[rid, ms]!r}, nguồn cho {_num_text(sums[j])}")
    return out
