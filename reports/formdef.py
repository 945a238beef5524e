"""Report forms as data: load a form definition (YAML) and compute its table.

A form definition (``reports/forms/*.yaml``) describes one official summary form: its
code and title, which records it reads for a window, the header tree, how every column
is computed from the records of the canonical model, and the check identities.
Nothing here is specific to one form; a new form or a new circular's version is a new
YAML file.

YAML schema (``schema: 1``)::

    form: "01/TCD"                 # form code
    version: TT02_2021             # definition version (config `forms:` points here)
    circular: "Thông tư 02/2021/TT-TTCP"
    code_label: "Biểu số 01/TCD"   # printed at the top right
    title: "TỔNG HỢP ..."          # title row
    date_line: "Số liệu tính từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"
    annex_line: "(Kèm theo Báo cáo số:…)"   # optional, printed under the date line
    note_line: "22. Ghi chú:"      # optional: the numbered note line under the table
    guide: ["Hướng dẫn cách ghi biểu:", "- …"]   # optional: lines printed under it
    source: fact_reception         # table the records come from
    date_column: received_date     # the record's date (default population, case order)
    population: <filter>           # records the form reads for a window (see below)
    unit_header: "Đơn vị"          # first column header; unit_width: its width
    ms_label: "MS"                 # first cell of the column-number row
    total_label: "Tổng cộng"
    semantics: |                   # counting rules in words (shown on the info sheet)
    filters: {name: <filter>}      # named filters, used by name anywhere a filter goes
    header:                        # tree; groups have `children`, leaves have `ms`
      - {ms: 1, text: ..., ms_text: "1=4+13+22", width: 8, number_format: "#,##0",
         compute: {...}}
      - {text: ..., children: [...], row_span: 1}   # header rows the group text takes
    cases: {case_column, visit_column, first_value, order_by, record_key}
    checks: ["1 = 4 + 13 + 22", "10 + 11 <= 6 + 7", "9 = 11..13 = 14..17",
             {rule: "8 <= 4", instruction: "..."}]
    total_is_sum_of_rows: true

Filters (``filters:``, a column's ``filter`` / ``where``, ``population``). A filter is

- a filter name (``thuong_xuyen``);
- a list of filters, all of which must hold;
- a mapping, all of whose entries must hold. An entry is either a logical key —
  ``any_of: [filter, …]`` (at least one holds), ``all_of: [filter, …]``, ``not: filter``
  — or a column condition:

  - ``column: value`` or ``column: [values]`` — the value is one of them;
  - ``column: {op: argument, …}`` — every condition holds; ``op`` is
    ``in: [values]``, ``not_in: [values]``, ``is_null: true|false``,
    ``not_null: true|false``, or a date comparison ``before``, ``on_or_before``,
    ``after``, ``on_or_after`` (argument: a bound) or ``within`` (argument:
    ``window``, or ``[bound, bound]``, both inclusive). A bound is ``start`` or ``end``
    of the report window, or a fixed ISO date (``"2024-01-20"``).

  NULL never equals a value and never compares as a date, so ``in`` and every date
  comparison are false on NULL (a value list cannot hold null: use ``is_null``), and
  ``not_in`` is true on it; ``not`` is the exact complement (a record not matching the
  inner filter, for whatever reason, matches).
  A filter that uses ``start``, ``end`` or ``window`` is window-relative: it needs the
  report's period. Examples (docs/report-set.md §1: a petition's state on a day)::

    carried_over:   {received_date: {before: start}}          # kỳ trước chuyển sang
    processed:      {processed_date: {on_or_before: end}}      # đã xử lý at the end
    resolved:       {resolved_date: {on_or_before: end}}
    in_progress:    [{not: resolved}, {accepted_date: {on_or_before: end}}]
    xld_population:
      any_of:
        - {received_date: {within: window}}
        - {received_date: {before: start}, not: {processed_date: {before: start}}}

``population`` — the records a form reads for a window (default: ``date_column``
within the window). :meth:`FormDef.select` applies it; :func:`compute` with a
``period`` refuses records outside it (a caller that forgot to select would otherwise
print wrong numbers). :func:`compute` needs the period when the form has
window-relative columns or a window-relative ``population``
(:class:`PeriodRequiredError` otherwise); a form with neither (01/TCD) also works
without it, on records the caller already cut to the window.

Column computations (``compute``), each with an optional ``filter``:

- ``{measure: count_records}`` — number of records;
- ``{measure: sum, column: c, per_case: true}`` — as below, each case once: only the
  case's representative record (its latest among all the report's records of the row, by
  ``cases.order_by`` — the same record for every column; a record without a case is its
  own case) adds its value, if it passes the column's filter. For the
  figures of a decision or conclusion that every petition of its case carries (TT 06/2025
  03/GQKN 13–23 …): summing over petitions would count one decision several times;
- ``{measure: sum, column: c}`` — sum of a numeric column (NULL adds 0). An integer
  column (the default ``number_format`` "#,##0") refuses a non-integral sum; give a
  column of money or land a decimal format (``number_format: "#,##0.0"``): its values
  are floats, rounded to :data:`ROUND_DIGITS` decimals, printed with that format, and
  compared in the checks with a small tolerance (:data:`TOLERANCE`);
- ``{measure: count_distinct, column: c, nulls: ignore|each}`` — distinct values;
  ``nulls: each`` counts every record with a NULL value as its own value;
- ``{measure: count_cases, where: <filter>, pick: last|first}`` — distinct cases
  (``cases.case_column``; a record without a case is its own case) among the row's
  records passing ``filter``; with ``where``, only the cases whose representative
  record — their latest (``pick: last``, the default) or earliest record in that set,
  by ``cases.order_by`` — satisfies ``where``. Each case has exactly one
  representative, so columns over the same ``filter`` whose ``where`` are mutually
  exclusive and exhaustive add up exactly to the cases of the set ("Số vụ việc =
  phân loại theo nội dung = … theo tình trạng");
- ``{measure: count_cases_first}`` / ``{measure: count_cases_repeat}`` — distinct
  cases among the filtered records of the row: each case once, "first" when its
  earliest record in that set (by ``cases.order_by``) has ``visit == first_value``,
  otherwise "repeat"; so first + repeat = distinct cases of the set, and a subset's
  cases never exceed its superset's;
- ``{measure: note}`` — the row's note (a text column);
- ``{measure: unavailable, reason: "…"}`` — a column the form prints but whose data
  the sources do not carry yet: every cell (unit rows and total) is None, never 0; the
  reason (Vietnamese) is printed under the table and on the info sheet. Such a column is
  neither a number nor a text column (:attr:`FormDef.unavailable_columns`); a check that
  involves it is not verified (:attr:`FormDef.unchecked_checks`, the info sheet says
  which and why) and a ``sum_of`` cannot add it up;
- ``{sum_of: [a, b, …]}`` — the sum of other columns of the same row.

Second inputs (``sources:``; 01/TCD of TT 06/2025 columns 10, 16). A form may declare
other tables, by name, and a column may count one of them (``compute.source``, with
``count_records``, ``sum`` or ``count_distinct`` and a ``filter`` over that table)::

    sources:
      lich_tiep: {table: fact_reception_calendar, date_column: announced_date,
                  record_key: calendar_key, rows: own_unit, coverage: month,
                  missing_note: "{unit} chưa gửi lịch tiếp công dân của tháng {months}",
                  absent_reason: "chưa có dữ liệu lịch tiếp công dân …"}
    header: [{ms: 10, text: "Số ngày tiếp", compute: {measure: count_distinct,
              source: lich_tiep, column: announced_date, filter: {receiver: [thu_truong]}}}]

:func:`compute` takes them as ``sources={name: SourceInput(records, unavailable)}``:
records in the window with ``row_id``; ``unavailable`` maps the rows whose cells from
that input are empty (None, never 0) to the reason, added to the row's note as "Cột
(10), (16): <reason>". The total of such a column is the sum of the rows that reported,
or empty (noted) when one of them is empty; a source not given leaves its columns empty
everywhere (the total's note gives ``absent_reason``). ``rows`` (``own_unit`` |
``all_units``) and ``coverage`` (``month``) say how reports.levels.source_inputs places
the records and decides ``unavailable``: with ``own_unit`` a row counts only the unit
it names; with ``coverage: month`` a row is unavailable when one of its units has no
record in a month the window touches. Such columns are nullable (``Int64``);
:func:`check_identities` skips a check on a row where one is empty and requires an
empty total when a reported row is empty. Lineage: :func:`contributions` gives them
empty contributions on the main records and :func:`source_contributions` the
second input's records with their contributions (the same columns), so that the
concatenation accounts for every cell.

A number column computed from records may add ``requires: <field>`` and ``reason:
"…"``: the field the column needs, which sources may or may not carry (a NULL means
the record's source does not record it — e.g. ``acceptance_recorded``,
``sanction_orgs``). A row with a record in the column's set (its ``filter``) that
lacks the field gets an empty cell (``pd.NA``), never a count of the records that
happen to carry it, and the note "Cột (n) để trống: <reason>"; the total is then empty
too (it cannot be the sum of the rows), a ``sum_of`` over such a cell is empty, the
checks that involve it are skipped on that row (:attr:`FormDef.partial_columns`), and
no record is listed behind it in the lineage.

Layout keys of the 2025 forms (TT 06/2025/TT-TTCP; all optional, absent on the older
forms, which render as before): ``annex_line`` (printed verbatim under the date line),
``note_line`` ("22. Ghi chú:", the numbered note line the form prints under the table
instead of a "Ghi chú" column) and ``guide`` (the lines printed under it, verbatim;
U+00A0 is read as a space). A group's ``row_span`` says how many header rows its text
takes (default 1; its children start below it). On a form without a note column the
row notes are kept in the table's ``note`` column and printed on the Ghi chú line as
"<row label>: <note>" (:func:`row_notes`), with the reasons of the unavailable columns
("Cột (10), (16): <reason>", :func:`unavailable_notes`).

Counting semantics of each form are written out in its YAML (``semantics``). The total
row is the sum of the unit rows (the forms are additive; a case received at two units
is a data-quality finding, not a silent subtraction).

Units that did not report (:class:`RowStatus`): a row whose units sent nothing is not a
row of zeros. :func:`compute` takes ``row_status`` (row_id → RowStatus); a row with
``reported=False`` gets empty number cells (``pd.NA``; the number columns are then of
the nullable ``Int64`` / ``Float64`` dtypes) and the note "Chưa báo cáo"; a row that
reported with ``missing > 0`` keeps its numbers and gets "Thiếu số liệu của m/n đơn
vị"; the total is the sum of the rows that reported and its note says how many units
it leaves out. :func:`check_identities` checks the identities on the rows that
reported only.

Lineage (:func:`contributions`): what each input record contributes to each number
column computed from records, so that any cell can be traced to its source rows:

- ``count_records`` / ``sum``: the record's addend (1 / its value, 0 when the record
  is outside the column's filter); the per-row sum equals the cell;
- ``count_distinct``: the value the record contributes (e.g. its sitting key; a NULL
  counted as its own value under ``nulls: each`` appears as
  ``"(không mã) <record key>"``), empty when outside the filter; the per-row number
  of distinct values equals the cell;
- ``count_cases``, ``count_cases_first`` / ``count_cases_repeat``: the case key of
  every record of a case counted in that column (all the records of the case in the
  column's set, not only its representative, since all of them are behind the
  count), else empty; the per-row number of distinct keys equals the cell;
- ``sum_of`` columns have no contribution column of their own: their lineage is the
  union of the columns they add up (:func:`source_columns`), and their value the sum
  of those columns' accounted values;
- ``unavailable`` columns have no contribution (no record is behind an empty cell).

The total row is additive, so its lineage is every record, and a distinct column of
the total accounts for distinct (row, key) pairs, not distinct keys.

Public API used by other modules: :func:`load_form`, :func:`form_from_dict`,
:meth:`FormDef.select`, :func:`compute`, :func:`check_identities`,
:func:`assert_identities`, :func:`contributions`, :func:`source_contributions`,
:func:`check_contributions`.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import yaml

from core import regimes

ROW_KINDS = ("unit", "own", "total")
TOTAL_ROW_ID = "total"
DEFAULT_NUMBER_FORMAT = "#,##0"
# Decimal cells (money, land) are rounded to this many decimals, so that a figure does
# not depend on the order its addends were summed in.
ROUND_DIGITS = 6
# Two sides of a check are equal when they differ by at most this (absolute); integer
# cells never differ by less than 1, so the tolerance matters for decimal cells only.
TOLERANCE = 1e-6


class FormDefinitionError(ValueError):
    """The YAML form definition is malformed."""


class PeriodRequiredError(ValueError):
    """The form (or its population) is defined relative to the report window and was
    used without a period."""


class IdentityError(ValueError):
    """A report table breaks its form's check identities; it must not be delivered."""

    def __init__(self, violations: list[str]):
        self.violations = list(violations)
        shown = "\n".join(f"  - {v}" for v in self.violations[:50])
        more = f"\n  … và {len(self.violations) - 50} vi phạm khác" if len(self.violations) > 50 else ""
        super().__init__(f"{len(self.violations)} vi phạm đẳng thức kiểm tra:\n{shown}{more}")


@dataclass(frozen=True)
class ReportRow:
    """One row of a report: a reporting unit, a unit's own records, or the total."""

    row_id: str
    label: str
    unit_code: str | None
    kind: str = "unit"          # unit | own | total
    note: str = ""

    def __post_init__(self):
        if self.kind not in ROW_KINDS:
            raise ValueError(f"row kind must be one of {ROW_KINDS}, not {self.kind!r}")


@dataclass(frozen=True)
class RowStatus:
    """Whether the reporting units behind a row sent their data.

    ``expected``: reporting units behind the row (a district row: the district and its
    communes); ``missing``: of those, how many did not report. ``reported=False``
    means nothing of the row was received: its cells are left empty, never zero.
    ``note`` is added to the row's note.
    """

    reported: bool
    expected: int
    missing: int
    note: str = ""

    def __post_init__(self):
        if self.expected < 0 or self.missing < 0 or self.missing > self.expected:
            raise ValueError(f"RowStatus needs 0 <= missing <= expected (missing={self.missing}, "
                             f"expected={self.expected})")

    @property
    def units_missing(self) -> int:
        """Units whose data the row (and so the total) lacks."""
        return self.missing if self.reported else max(self.missing, self.expected, 1)

    @property
    def headline(self) -> str:
        """What the status says on the row's note: "Chưa báo cáo", "Thiếu số liệu của
        m/n đơn vị", or "" when the row is complete."""
        if not self.reported:
            return NOT_REPORTED_NOTE
        if self.missing > 0:
            return f"Thiếu số liệu của {self.missing}/{self.expected} đơn vị"
        return ""


NOT_REPORTED_NOTE = "Chưa báo cáo"


def total_missing_note(n_units: int) -> str:
    return f"Chưa gồm số liệu của {n_units} đơn vị chưa báo cáo" if n_units > 0 else ""


def _join_notes(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


# ------------------------------------------------------------------ filters

WINDOW_BOUNDS = ("start", "end")
DATE_OPS = ("before", "on_or_before", "after", "on_or_after")
VALUE_OPS = ("in", "not_in")
NULL_OPS = ("is_null", "not_null")
CONDITION_OPS = (*VALUE_OPS, *NULL_OPS, *DATE_OPS, "within")
LOGIC_KEYS = ("any_of", "all_of", "not")


@dataclass(frozen=True)
class AllOf:
    """Every part holds (an empty AllOf holds for every record)."""
    parts: tuple = ()


@dataclass(frozen=True)
class AnyOf:
    """At least one part holds."""
    parts: tuple = ()


@dataclass(frozen=True)
class Not:
    """The exact complement of `part`."""
    part: Any


@dataclass(frozen=True)
class FilterRef:
    """A named filter of the form."""
    name: str


@dataclass(frozen=True)
class Condition:
    """One condition on one column. `arg`: a tuple of values (in, not_in), a bool
    (is_null, not_null), a bound (date comparisons: "start", "end" or a date) or a pair
    of bounds (within)."""
    column: str
    op: str
    arg: Any


Filter = AllOf | AnyOf | Not | FilterRef | Condition
MATCH_ALL = AllOf(())


@dataclass(frozen=True)
class Window:
    """The report window: both bounds inclusive."""
    start: dt.date
    end: dt.date


def _as_date(value: Any, where: str) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise FormDefinitionError(f"{where}: {value!r} is not `start`, `end` or an ISO date") from None


def as_window(period: Any) -> Window | None:
    """A report window from a Period (anything with ``start`` and ``end``) or a
    ``(start, end)`` pair; None stays None."""
    if period is None:
        return None
    if isinstance(period, Window):
        return period
    if hasattr(period, "start") and hasattr(period, "end"):
        start, end = period.start, period.end
    elif isinstance(period, (tuple, list)) and len(period) == 2:
        start, end = period
    else:
        raise TypeError(f"a period has `start` and `end` (core.periods.Period), not {period!r}")
    w = Window(_as_date(start, "period start"), _as_date(end, "period end"))
    if w.end < w.start:
        raise ValueError(f"period ends ({w.end}) before it starts ({w.start})")
    return w


def _bound(value: Any, where: str) -> Any:
    if isinstance(value, str) and value in WINDOW_BOUNDS:
        return value
    return _as_date(value, where)


def _values(value: Any, where: str = "filter") -> tuple:
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if any(v is None for v in values):
        # NULL never equals a value; a list holding null would read as if it could.
        raise FormDefinitionError(f"{where}: a value list cannot hold null; use {{is_null: true}}")
    return values


def _compile_condition(column: str, op: str, arg: Any, where: str) -> Condition:
    if op in VALUE_OPS:
        if isinstance(arg, Mapping):
            raise FormDefinitionError(f"{where}: `{column}: {{{op}: …}}` takes a value or a list")
        return Condition(column, op, _values(arg, f"{where}: {column}"))
    if op in NULL_OPS:
        if not isinstance(arg, bool):
            raise FormDefinitionError(f"{where}: `{column}: {{{op}: …}}` takes true or false")
        return Condition(column, op, arg)
    if op in DATE_OPS:
        return Condition(column, op, _bound(arg, f"{where}: {column} {op}"))
    if op == "within":
        if arg == "window":
            return Condition(column, op, WINDOW_BOUNDS)
        if isinstance(arg, (list, tuple)) and len(arg) == 2:
            return Condition(column, op, (_bound(arg[0], f"{where}: {column} within"),
                                          _bound(arg[1], f"{where}: {column} within")))
        raise FormDefinitionError(f"{where}: `within` takes `window` or [bound, bound], not {arg!r}")
    raise FormDefinitionError(f"{where}: unknown condition {op!r} on column {column!r} "
                              f"(known: {', '.join(CONDITION_OPS)})")


def compile_filter(spec: Any, where: str = "filter") -> Filter:
    """A filter spec (see the module docstring) as a tree of AllOf / AnyOf / Not /
    FilterRef / Condition. Names are not resolved here (see :func:`form_from_dict`)."""
    if spec is None:
        return MATCH_ALL
    if isinstance(spec, str):
        return FilterRef(spec)
    if isinstance(spec, (list, tuple)):
        return AllOf(tuple(compile_filter(s, where) for s in spec))
    if not isinstance(spec, Mapping):
        raise FormDefinitionError(f"{where}: a filter is a name, a list or a mapping, not {spec!r}")
    parts: list[Filter] = []
    for key, value in spec.items():
        key = str(key)
        if key in ("any_of", "all_of"):
            if not isinstance(value, (list, tuple)) or not value:
                raise FormDefinitionError(f"{where}: `{key}` takes a non-empty list of filters")
            kids = tuple(compile_filter(v, f"{where} > {key}") for v in value)
            parts.append(AnyOf(kids) if key == "any_of" else AllOf(kids))
        elif key == "not":
            parts.append(Not(compile_filter(value, f"{where} > not")))
        elif isinstance(value, Mapping):
            if not value:
                raise FormDefinitionError(f"{where}: column {key!r} has an empty condition")
            parts.extend(_compile_condition(key, str(op), arg, where) for op, arg in value.items())
        else:
            parts.append(Condition(key, "in", _values(value, f"{where}: {key}")))
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _refs(node: Filter) -> set[str]:
    if isinstance(node, FilterRef):
        return {node.name}
    if isinstance(node, (AllOf, AnyOf)):
        return set().union(*(_refs(p) for p in node.parts)) if node.parts else set()
    if isinstance(node, Not):
        return _refs(node.part)
    return set()


def _check_refs(node: Filter, filters: Mapping[str, Filter], where: str) -> None:
    unknown = sorted(_refs(node) - set(filters))
    if unknown:
        raise FormDefinitionError(f"{where}: unknown filter {unknown[0]!r}")


def _dependency_order(deps: Mapping[Any, Iterable[Any]], cycle_message: str) -> list:
    """The nodes of `deps` (node → the nodes it depends on) ordered so that each comes
    after its dependencies; a cycle is a FormDefinitionError naming it."""
    try:
        return list(TopologicalSorter({k: sorted(v) for k, v in deps.items()}).static_order())
    except CycleError as exc:
        raise FormDefinitionError(f"{cycle_message}: {' → '.join(map(str, exc.args[1]))}") from None


def _check_filter_cycles(filters: Mapping[str, Filter]) -> None:
    _dependency_order({name: _refs(node) for name, node in filters.items()},
                      "named filters refer to each other in a cycle")


def window_relative(node: Filter, filters: Mapping[str, Filter]) -> bool:
    """Whether `node` (with the named filters it uses) refers to the report window."""
    if isinstance(node, Condition):
        if node.op in DATE_OPS:
            return node.arg in WINDOW_BOUNDS
        if node.op == "within":
            return any(b in WINDOW_BOUNDS for b in node.arg)
        return False
    if isinstance(node, FilterRef):
        return window_relative(filters[node.name], filters)
    if isinstance(node, Not):
        return window_relative(node.part, filters)
    return any(window_relative(p, filters) for p in node.parts)


class FilterContext:
    """Evaluates filters on one frame of records for one window. Named filters and
    parsed date columns are computed once per frame (a form uses them many times)."""

    def __init__(self, df: pd.DataFrame, filters: Mapping[str, Filter], window: Window | None,
                 form_name: str = "form"):
        self.df = df
        self.filters = filters
        self.window = window
        self.form_name = form_name
        self._named: dict[str, pd.Series] = {}
        self._dates: dict[str, pd.Series] = {}

    def mask(self, node: Filter) -> pd.Series:
        """Boolean Series on the frame's index: the records `node` accepts."""
        if isinstance(node, AllOf):
            m = pd.Series(True, index=self.df.index)
            for p in node.parts:
                m &= self.mask(p)
            return m
        if isinstance(node, AnyOf):
            m = pd.Series(False, index=self.df.index)
            for p in node.parts:
                m |= self.mask(p)
            return m
        if isinstance(node, Not):
            return ~self.mask(node.part)
        if isinstance(node, FilterRef):
            if node.name not in self._named:
                self._named[node.name] = self.mask(self.filters[node.name])
            return self._named[node.name]
        return self._condition(node)

    def _column(self, name: str) -> pd.Series:
        if name not in self.df.columns:
            raise KeyError(f"records lack column {name!r} needed by a filter of {self.form_name}")
        return self.df[name]

    def _date_column(self, name: str) -> pd.Series:
        if name not in self._dates:
            raw = self._column(name)
            # Canonical dates are date objects or ISO text; anything else is an error below.
            days = pd.to_datetime(raw, errors="coerce", format="ISO8601")
            bad = days.isna() & raw.notna()
            if bad.any():
                sample = sorted({str(v) for v in raw[bad].head(5)})
                raise ValueError(f"column {name!r} has {int(bad.sum())} value(s) that are not dates, e.g. {sample}")
            if getattr(days.dt, "tz", None) is not None:
                days = days.dt.tz_localize(None)
            self._dates[name] = days.dt.normalize()
        return self._dates[name]

    def _bound(self, bound: Any) -> pd.Timestamp:
        if isinstance(bound, str):
            if self.window is None:
                raise PeriodRequiredError(f"{self.form_name}: a filter refers to the report window "
                                          f"(`{bound}`); give the period")
            bound = getattr(self.window, bound)
        return pd.Timestamp(bound)

    def _condition(self, c: Condition) -> pd.Series:
        if c.op in VALUE_OPS:
            # NULLs never match a value: a record of unknown mode is in no group.
            hit = self._column(c.column).isin(list(c.arg)).fillna(False).astype(bool)
            return hit if c.op == "in" else ~hit
        if c.op in NULL_OPS:
            null = self._column(c.column).isna().astype(bool)
            return null == c.arg if c.op == "is_null" else null != c.arg
        days = self._date_column(c.column)
        if c.op == "within":
            lo, hi = self._bound(c.arg[0]), self._bound(c.arg[1])
            out = (days >= lo) & (days <= hi)
        else:
            b = self._bound(c.arg)
            out = {"before": days < b, "on_or_before": days <= b,
                   "after": days > b, "on_or_after": days >= b}[c.op]
        return out.fillna(False).astype(bool)      # NaT compares as false


# ------------------------------------------------------------------ definitions

@dataclass(frozen=True)
class HeaderNode:
    text: str
    ms: int | None = None                  # None for a group
    children: tuple["HeaderNode", ...] = ()
    # Header rows a group's text takes (its children start below); 02/XLD of TT 06/2025
    # prints "Số đơn không thuộc thẩm quyền" over two rows. A leaf spans down to the MS row.
    row_span: int = 1

    @property
    def is_leaf(self) -> bool:
        return self.ms is not None

    def depth(self) -> int:
        return self.row_span + max((c.depth() for c in self.children), default=0)

    def leaves(self) -> list["HeaderNode"]:
        return [self] if self.is_leaf else [x for c in self.children for x in c.leaves()]


def format_decimals(number_format: str) -> int:
    """Decimal places an Excel number format shows ("#,##0.0" → 1, "#,##0" → 0)."""
    m = re.search(r"\.([0#?]+)", number_format.split(";")[0])
    return len(m.group(1)) if m else 0


@dataclass(frozen=True)
class FormColumn:
    ms: int
    text: str
    ms_text: str
    compute: dict[str, Any]
    kind: str                              # number | text
    width: float | None = None
    path: tuple[str, ...] = ()             # group texts above the leaf
    number_format: str = DEFAULT_NUMBER_FORMAT
    filter: Filter = MATCH_ALL             # compiled compute.filter
    where: Filter | None = None            # compiled compute.where (count_cases)
    source: str | None = None              # compute.source: a second input (FormDef.sources)

    @property
    def requires(self) -> str | None:
        """The record field a column needs (``compute.requires``): a row with a record
        in the column's set that lacks it gets an empty cell, not a partial count."""
        return self.compute.get("requires") if self.kind == "number" else None

    @property
    def decimal(self) -> bool:
        """A column of decimal values (money, land): floats, printed with decimals."""
        return self.kind == "number" and format_decimals(self.number_format) > 0

    @property
    def reason(self) -> str:
        """Why an ``unavailable`` column has no figures, or why a ``requires`` column's
        cell can be empty (empty for other columns)."""
        return str(self.compute.get("reason") or "") if self.kind == UNAVAILABLE or self.requires else ""


@dataclass(frozen=True)
class SourceDef:
    """A second input of a form (``sources:``): records of another table, counted by the
    columns that name it (``compute.source``). ``rows``: which of a row's units count
    (``own_unit``: only the unit the row names — for a group row such as "Cấp huyện",
    each unit of that level; ``all_units``: every unit the row gathers, like the main
    records); ``coverage``: ``month`` — a unit's data covers a month when it has at
    least one record in it, and a row's cells are available only when each of its units
    covers every month the window touches while it is in force; ``missing_note``: the
    Vietnamese note of a unit that does not (``{unit}``, ``{months}``);
    ``absent_reason``: why every cell is empty when the caller gives no data at all."""
    name: str
    table: str
    date_column: str
    record_key: str = ""
    rows: str = "all_units"
    coverage: str | None = None
    missing_note: str = "{unit} chưa gửi số liệu của tháng {months}"
    absent_reason: str = "chưa có số liệu nguồn"


SOURCE_ROWS = ("own_unit", "all_units")
SOURCE_COVERAGE = (None, "month")


@dataclass(frozen=True)
class SourceInput:
    """The data of a second input for one report (see :func:`compute`): its records in
    the window, placed in rows (``row_id``), and the rows whose cells from it are empty
    because the data does not cover the window, each with the reason (Vietnamese)."""
    records: pd.DataFrame
    unavailable: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    text: str
    sides: tuple[tuple[int, ...], ...]     # each side: MS numbers summed
    ops: tuple[str, ...]                   # between consecutive sides: = <= >=
    instruction: str = ""                  # what the person fixing the data should look at


@dataclass(frozen=True)
class FormDef:
    code: str
    version: str
    title: str
    code_label: str
    date_line: str
    header: tuple[HeaderNode, ...]
    columns: tuple[FormColumn, ...]
    checks: tuple[Check, ...]
    circular: str = ""
    source: str = ""
    date_column: str = "received_date"
    unit_header: str = "Đơn vị"
    unit_width: float = 36
    ms_label: str = "MS"
    total_label: str = "Tổng cộng"
    semantics: str = ""
    filters: dict[str, Filter] = field(default_factory=dict)
    cases: dict[str, Any] = field(default_factory=dict)
    total_is_sum_of_rows: bool = True
    path: str | None = None
    population: Filter | None = None       # None: `date_column` within the window
    annex_line: str = ""                   # "(Kèm theo Báo cáo số:…)" (TT 06/2025)
    note_line: str = ""                    # "22. Ghi chú:" under the table (TT 06/2025)
    guide: tuple[str, ...] = ()            # "Hướng dẫn cách ghi biểu" lines under it
    periodic_only: bool = False            # filled in per reporting window (06/QLKNTC): no custom range
    sources: dict[str, SourceDef] = field(default_factory=dict)   # second inputs (`sources:`)

    @property
    def header_depth(self) -> int:
        return max(n.depth() for n in self.header)

    @property
    def unavailable_columns(self) -> list[int]:
        """Columns the form prints but the sources cannot fill yet (always empty)."""
        return [c.ms for c in self.columns if c.kind == UNAVAILABLE]

    @property
    def partial_columns(self) -> list[int]:
        """Number columns whose cell can be empty on a row that reported: the columns
        with ``requires``, those counted from a second input (``compute.source``), and
        the ``sum_of`` columns that add one of them up."""
        out = {c.ms for c in self.columns if c.requires or c.source}
        for c in _topo_order(self.columns):
            if "sum_of" in c.compute and any(int(d) in out for d in c.compute["sum_of"]):
                out.add(c.ms)
        return sorted(out)

    @property
    def source_columns_ms(self) -> list[int]:
        """Number columns counted from a second input (``compute.source``): their cells
        may be empty on a row whose data does not cover the window."""
        return [c.ms for c in self.columns if c.source]

    def columns_of_source(self, name: str) -> list[int]:
        return [c.ms for c in self.columns if c.source == name]

    @property
    def has_note_column(self) -> bool:
        """Whether a column carries the row notes (the older forms' "Ghi chú")."""
        return any(c.compute.get("measure") == "note" for c in self.columns)

    @property
    def unchecked_checks(self) -> list[tuple[Check, list[int]]]:
        """Checks that cannot be verified, each with the unavailable columns it involves:
        an identity over an empty column would hold or fail by accident."""
        missing = set(self.unavailable_columns)
        out = []
        for chk in self.checks:
            cols = sorted({m for side in chk.sides for m in side} & missing)
            if cols:
                out.append((chk, cols))
        return out

    @property
    def verified_checks(self) -> list[Check]:
        """The checks :func:`check_identities` verifies."""
        skipped = {id(chk) for chk, _ in self.unchecked_checks}
        return [chk for chk in self.checks if id(chk) not in skipped]

    @property
    def ms_numbers(self) -> list[int]:
        return [c.ms for c in self.columns]

    @property
    def number_columns(self) -> list[int]:
        return [c.ms for c in self.columns if c.kind == "number"]

    @property
    def text_columns(self) -> list[int]:
        return [c.ms for c in self.columns if c.kind == "text"]

    @property
    def decimal_columns(self) -> list[int]:
        return [c.ms for c in self.columns if c.decimal]

    def column(self, ms: int) -> FormColumn:
        for c in self.columns:
            if c.ms == ms:
                return c
        raise KeyError(ms)

    def format_date_line(self, start, end) -> str:
        return self.date_line.format(start=start, end=end)

    @property
    def population_filter(self) -> Filter:
        """The population as a filter (the default: `date_column` within the window)."""
        return self.population if self.population is not None else Condition(self.date_column, "within",
                                                                             WINDOW_BOUNDS)

    @property
    def window_columns(self) -> list[int]:
        """Columns whose filter or `where` refers to the report window: computing them
        needs the period."""
        return [c.ms for c in self.columns if c.kind == "number" and "sum_of" not in c.compute
                and (window_relative(c.filter, self.filters)
                     or (c.where is not None and window_relative(c.where, self.filters)))]

    @property
    def needs_period(self) -> bool:
        """Whether :func:`compute` needs the period: the form has window-relative
        columns, or declares a window-relative `population` (then only the period lets
        compute verify that the records given are that population — e.g. 02/TCD counts
        the petitions received at reception, and a caller that only cut the window would
        otherwise get every channel counted)."""
        return bool(self.window_columns) or (self.population is not None
                                             and window_relative(self.population, self.filters))

    def population_mask(self, records: pd.DataFrame, period: Any) -> pd.Series:
        """Boolean Series on `records`' index: the records of the population."""
        window = as_window(period)
        if window is None and window_relative(self.population_filter, self.filters):
            raise PeriodRequiredError(f"form {self.code} ({self.version}): its population depends on the "
                                      "report window; give the period")
        ctx = FilterContext(records.reset_index(drop=True), self.filters, window, f"form {self.code}")
        return pd.Series(ctx.mask(self.population_filter).to_numpy(), index=records.index)

    def select(self, records: pd.DataFrame, period: Any) -> pd.DataFrame:
        """The records this form reads for `period` (a core.periods.Period, or
        anything with ``start``/``end``): those satisfying `population` (default:
        `date_column` within the window). Same columns and index labels as `records`,
        in the same order."""
        if period is None:
            raise PeriodRequiredError(f"form {self.code}: select() needs the period")
        return records.loc[self.population_mask(records, period).to_numpy()]


# ------------------------------------------------------------------ loading

_CASE_DEFAULTS = {
    "case_column": "case_key",
    "visit_column": "visit",
    "first_value": "lan_dau",
    "order_by": ["received_date", "reception_key"],
    "record_key": "reception_key",
}
_TEXT_MEASURES = {"note"}
# Kind (and measure name) of a column whose data the sources do not carry yet.
UNAVAILABLE = "unavailable"
_COUNT_MEASURES = {"count_records", "count_distinct", "count_cases", "count_cases_first", "count_cases_repeat"}
_CHECK_OPS = ("<=", ">=", "=")
_SOURCE_MEASURES = {"count_records", "sum", "count_distinct"}
_PICKS = ("last", "first")


def _parse_terms(expr: str, where: str) -> tuple[int, ...]:
    terms: list[int] = []
    for raw in expr.split("+"):
        t = raw.strip().replace("…", "..")
        if m := re.fullmatch(r"(\d+)\s*\.\.\s*(\d+)", t):
            a, b = int(m.group(1)), int(m.group(2))
            if a > b:
                raise FormDefinitionError(f"{where}: empty range {t!r}")
            terms.extend(range(a, b + 1))
        elif t.isdigit():
            terms.append(int(t))
        else:
            raise FormDefinitionError(f"{where}: cannot read term {t!r}")
    return tuple(terms)


def parse_check(text: str | dict[str, Any]) -> Check:
    """``"1 = 4 + 13 + 22"``, ``"10 + 11 <= 6 + 7"``, chained ``"9 = 11..13 = 14..17"``;
    or a mapping ``{rule: "...", instruction: "..."}`` (the instruction is added to
    the violation message, for whoever has to fix the data)."""
    instruction = ""
    if isinstance(text, dict):
        if "rule" not in text:
            raise FormDefinitionError(f"check {text!r} has no `rule`")
        instruction = str(text.get("instruction") or "")
        text = str(text["rule"])
    parts = re.split(r"(<=|>=|=)", text)
    sides = tuple(_parse_terms(p, f"check {text!r}") for p in parts[0::2])
    ops = tuple(parts[1::2])
    if len(sides) < 2:
        raise FormDefinitionError(f"check {text!r} has no comparison")
    return Check(text.strip(), sides, ops, instruction)


def _build_node(raw: dict[str, Any], path: tuple[str, ...], out: list[FormColumn],
                filters: dict[str, Filter]) -> HeaderNode:
    if not isinstance(raw, dict) or "text" not in raw:
        raise FormDefinitionError(f"header node without text under {' > '.join(path)!r}: {raw!r}")
    text = str(raw["text"])
    if "children" in raw:
        if "ms" in raw:
            raise FormDefinitionError(f"header group {text!r} cannot also have ms")
        kids = raw["children"] or []
        if not kids:
            raise FormDefinitionError(f"header group {text!r} has no children")
        row_span = raw.get("row_span", 1)
        if not isinstance(row_span, int) or isinstance(row_span, bool) or row_span < 1:
            raise FormDefinitionError(f"header group {text!r}: row_span is a whole number ≥ 1, not {row_span!r}")
        children = tuple(_build_node(k, path + (text,), out, filters) for k in kids)
        return HeaderNode(text, None, children, row_span)
    if "ms" not in raw:
        raise FormDefinitionError(f"header leaf {text!r} has no ms number")
    if "row_span" in raw:
        raise FormDefinitionError(f"header leaf {text!r}: a column spans down to the MS row; row_span "
                                  "belongs to groups")
    ms = int(raw["ms"])
    compute = dict(raw.get("compute") or {})
    if not compute:
        raise FormDefinitionError(f"column {ms} ({text!r}) has no compute spec")
    where_node: Filter | None = None
    flt: Filter = MATCH_ALL
    if "sum_of" in compute:
        kind = "number"
    elif compute.get("measure") == UNAVAILABLE:
        kind = UNAVAILABLE
        # Nothing is counted, so anything that would say how to count is a mistake.
        extra = sorted(set(compute) - {"measure", "reason"})
        if extra:
            raise FormDefinitionError(f"column {ms}: measure unavailable takes only `reason`, not {extra}")
        if not str(compute.get("reason") or "").strip():
            raise FormDefinitionError(f"column {ms}: measure unavailable needs a `reason` (why the sources "
                                      "cannot fill it), printed under the table")
        if raw.get("number_format") is not None:
            raise FormDefinitionError(f"column {ms}: an unavailable column has no number_format")
    else:
        measure = compute.get("measure")
        if measure not in MEASURES and measure not in _TEXT_MEASURES:
            raise FormDefinitionError(f"column {ms}: unknown measure {measure!r}")
        kind = "text" if measure in _TEXT_MEASURES else "number"
        if measure == "sum":
            cols = compute.get("columns")
            if bool(compute.get("column")) == bool(cols):
                raise FormDefinitionError(f"column {ms}: measure sum needs `column` or `columns` (one of them)")
            if cols is not None and (not isinstance(cols, list) or not cols
                                     or not all(isinstance(c, str) and c for c in cols)):
                raise FormDefinitionError(f"column {ms}: `columns` is a list of column names")
        if "per_case" in compute and (measure != "sum" or not isinstance(compute["per_case"], bool)):
            raise FormDefinitionError(f"column {ms}: `per_case: true|false` belongs to measure sum")
        elif measure == "count_distinct" and not compute.get("column"):
            raise FormDefinitionError(f"column {ms}: measure {measure} needs `column`")
        if compute.get("source") is not None and measure not in _SOURCE_MEASURES:
            raise FormDefinitionError(f"column {ms}: a column of a second input (`source`) is counted with "
                                      f"{sorted(_SOURCE_MEASURES)}, not {measure!r}")
        flt = compile_filter(compute.get("filter"), f"column {ms} filter")
        _check_refs(flt, filters, f"column {ms}")
        if "where" in compute:
            if measure != "count_cases":
                raise FormDefinitionError(f"column {ms}: `where` belongs to measure count_cases, not {measure}")
            where_node = compile_filter(compute["where"], f"column {ms} where")
            _check_refs(where_node, filters, f"column {ms}")
        if compute.get("pick", "last") not in _PICKS:
            raise FormDefinitionError(f"column {ms}: `pick` is one of {_PICKS}")
        if "requires" in compute or "reason" in compute:
            if kind != "number":
                raise FormDefinitionError(f"column {ms}: `requires` belongs to number columns")
            if not (isinstance(compute.get("requires"), str) and compute["requires"].strip()):
                raise FormDefinitionError(f"column {ms}: `requires` names the record field the column needs")
            if not str(compute.get("reason") or "").strip():
                raise FormDefinitionError(f"column {ms}: a column with `requires` needs a `reason` (why a "
                                          "cell can be empty), printed under the table")
    fmt = raw.get("number_format")
    if fmt is not None and kind != "number":
        raise FormDefinitionError(f"column {ms}: a text column has no number_format")
    if fmt is not None and format_decimals(str(fmt)) > 0 and compute.get("measure") in _COUNT_MEASURES:
        raise FormDefinitionError(f"column {ms}: a count is an integer; {fmt!r} shows decimals")
    width = raw.get("width")
    out.append(FormColumn(ms, text, str(raw.get("ms_text", ms)), compute, kind,
                          float(width) if width is not None else None, path,
                          str(fmt) if fmt is not None else DEFAULT_NUMBER_FORMAT, flt, where_node,
                          str(compute["source"]) if compute.get("source") is not None else None))
    # A sum_of column without a format of its own takes its parts' (_settle_sum_of_formats).
    return HeaderNode(text, ms, ())


def _with_format(col: FormColumn, fmt: str | None) -> FormColumn:
    return FormColumn(col.ms, col.text, col.ms_text, col.compute, col.kind, col.width, col.path,
                      fmt or DEFAULT_NUMBER_FORMAT, col.filter, col.where, col.source)


def _settle_sum_of_formats(columns: list[FormColumn], explicit: set[int]) -> list[FormColumn]:
    """A sum_of column is decimal when one of its parts is: without a format of its own
    it takes the first decimal part's format; an integer format over decimal parts
    would print a rounded figure, so it is refused."""
    by_ms = {c.ms: c for c in columns}
    for c in _topo_order(columns):
        if "sum_of" not in c.compute:
            continue
        parts = [by_ms[int(d)] for d in c.compute["sum_of"]]
        decimal_parts = [p for p in parts if p.decimal]
        if not decimal_parts:
            continue
        if c.ms in explicit:
            if not c.decimal:
                raise FormDefinitionError(f"column {c.ms}: adds decimal columns "
                                          f"{[p.ms for p in decimal_parts]} but its number_format "
                                          f"{c.number_format!r} shows no decimals")
            continue
        by_ms[c.ms] = _with_format(c, decimal_parts[0].number_format)
    return [by_ms[c.ms] for c in columns]


def _topo_order(columns: Iterable[FormColumn]) -> list[FormColumn]:
    """Columns ordered so that every `sum_of` comes after the columns it adds up."""
    by_ms = {c.ms: c for c in columns}
    order = _dependency_order({ms: [int(d) for d in c.compute.get("sum_of", [])] for ms, c in by_ms.items()},
                              "sum_of cycle through columns")
    return [by_ms[ms] for ms in order]


def load_form(path: str | Path) -> FormDef:
    """Read and validate a form definition file.

    Parsed once per version of the file (path, modification time, size): a report set
    or a lineage query asks for the same few forms hundreds of times, and parsing one
    costs ~0.1 s. A FormDef is frozen; an edited file is read again."""
    path = Path(path)
    st = path.stat()
    return _load_form(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _load_form(path: str, mtime_ns: int, size: int) -> FormDef:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return form_from_dict(raw, path)


def form_from_dict(raw: dict[str, Any], path: str | None = None) -> FormDef:
    if not isinstance(raw, dict):
        raise FormDefinitionError("a form definition is a mapping")
    if int(raw.get("schema", 1)) != 1:
        raise FormDefinitionError(f"unsupported form schema {raw.get('schema')!r}")
    for key in ("form", "version", "title", "header"):
        if key not in raw:
            raise FormDefinitionError(f"form definition lacks `{key}`")
    raw_filters = raw.get("filters") or {}
    if not isinstance(raw_filters, Mapping):
        raise FormDefinitionError("`filters` maps names to filters")
    filters = {str(k): compile_filter(v, f"filter {k}") for k, v in raw_filters.items()}
    for name, node in filters.items():
        _check_refs(node, filters, f"filter {name}")
    _check_filter_cycles(filters)
    population = None
    if raw.get("population") is not None:
        population = compile_filter(raw["population"], "population")
        _check_refs(population, filters, "population")
    sources = _parse_sources(raw.get("sources"))
    columns: list[FormColumn] = []
    header = tuple(_build_node(n, (), columns, filters) for n in raw["header"])
    for c in columns:
        if c.source is not None and c.source not in sources:
            raise FormDefinitionError(f"column {c.ms}: unknown source {c.source!r} (declare it under `sources:`)")
    ms = [c.ms for c in columns]
    if len(set(ms)) != len(ms):
        dup = sorted({m for m in ms if ms.count(m) > 1})
        raise FormDefinitionError(f"duplicate MS numbers {dup}")
    known = set(ms)
    numeric = {c.ms for c in columns if c.kind == "number"}
    unavailable = {c.ms for c in columns if c.kind == UNAVAILABLE}
    for c in columns:
        for dep in c.compute.get("sum_of", []):
            if int(dep) in unavailable:
                raise FormDefinitionError(f"column {c.ms}: sum_of refers to {dep}, a column without data "
                                          "(measure unavailable); make this column unavailable too")
            if int(dep) not in numeric:
                raise FormDefinitionError(f"column {c.ms}: sum_of refers to {dep}, not a numeric column")
    _topo_order(columns)  # raises on cycles
    explicit_formats = {int(n["ms"]) for n in _leaves_raw(raw["header"]) if "number_format" in n}
    columns = _settle_sum_of_formats(columns, explicit_formats)
    checks = tuple(parse_check(t if isinstance(t, dict) else str(t)) for t in raw.get("checks") or [])
    for chk in checks:
        for side in chk.sides:
            # A check over an unavailable column is kept (the form prints it) and skipped
            # when checking (FormDef.unchecked_checks).
            bad = [m for m in side if m not in known or m not in numeric | unavailable]
            if bad:
                raise FormDefinitionError(f"check {chk.text!r} refers to unknown or text columns {bad}")
    cases = {**_CASE_DEFAULTS, **(raw.get("cases") or {})}
    code = str(raw["form"])
    guide = raw.get("guide") or []
    if not isinstance(guide, list) or not all(isinstance(g, str) for g in guide):
        raise FormDefinitionError("`guide` is a list of lines (text)")
    return FormDef(
        code=code, version=str(raw["version"]), title=str(raw["title"]),
        code_label=str(raw.get("code_label") or f"Biểu số {code}"),
        date_line=str(raw.get("date_line") or "Số liệu tính từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"),
        header=header, columns=tuple(columns), checks=checks,
        circular=str(raw.get("circular") or ""), source=str(raw.get("source") or ""),
        date_column=str(raw.get("date_column") or "received_date"),
        unit_header=str(raw.get("unit_header") or "Đơn vị"),
        unit_width=float(raw.get("unit_width") or 36),
        ms_label=str(raw.get("ms_label") or "MS"),
        total_label=str(raw.get("total_label") or "Tổng cộng"),
        semantics=str(raw.get("semantics") or "").strip(),
        filters=filters, cases=cases,
        total_is_sum_of_rows=bool(raw.get("total_is_sum_of_rows", True)),
        periodic_only=bool(raw.get("periodic_only", False)),
        path=path, population=population,
        annex_line=_printed(raw.get("annex_line")), note_line=_printed(raw.get("note_line")),
        guide=tuple(_printed(g) for g in guide), sources=sources,
    )


def _parse_sources(raw: Any) -> dict[str, SourceDef]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise FormDefinitionError("`sources` maps names to {table, date_column, …}")
    out = {}
    for name, spec in raw.items():
        if not isinstance(spec, Mapping) or not spec.get("table") or not spec.get("date_column"):
            raise FormDefinitionError(f"source {name!r} needs `table` and `date_column`")
        unknown = sorted(set(spec) - {"table", "date_column", "record_key", "rows", "coverage", "missing_note",
                                      "absent_reason"})
        if unknown:
            raise FormDefinitionError(f"source {name!r}: unknown keys {unknown}")
        rows = str(spec.get("rows", "all_units"))
        coverage = spec.get("coverage")
        if rows not in SOURCE_ROWS:
            raise FormDefinitionError(f"source {name!r}: `rows` is one of {SOURCE_ROWS}")
        if coverage not in SOURCE_COVERAGE:
            raise FormDefinitionError(f"source {name!r}: `coverage` is `month` or absent")
        kw = {k: str(spec[k]).strip() for k in ("record_key", "missing_note", "absent_reason") if spec.get(k)}
        out[str(name)] = SourceDef(str(name), str(spec["table"]), str(spec["date_column"]), rows=rows,
                                   coverage=coverage, **kw)
    return out


def _printed(text: Any) -> str:
    """A line printed verbatim from the circular, with its no-break spaces (U+00A0, as
    typed in the circular) read as spaces, so that it wraps and compares as text."""
    return str(text or "").replace("\u00a0", " ").strip()


def _leaves_raw(nodes: list) -> Iterable[dict]:
    for n in nodes or []:
        if isinstance(n, dict) and "children" in n:
            yield from _leaves_raw(n["children"])
        elif isinstance(n, dict) and "ms" in n:
            yield n


# ------------------------------------------------------------------ computing

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


def _sum_addend(df: pd.DataFrame, compute: Mapping[str, Any], form: FormDef | None = None,
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
        everything = ctx.df if ctx is not None else df
        reps = _representatives(everything, form, "last")["_rep"] if len(everything) else []
        total = total.where(df.index.isin(reps), 0.0)
    return total


def _m_sum(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.Series:
    return _per_row(_sum_addend(df, col.compute, form, ctx), df["row_id"], "sum")


_NULL_TOKEN = "\x00record:"
# How a NULL counted as its own value is shown in lineage (readable, and checked not to
# collide with a real value).
NULL_KEY_PREFIX = "(không mã) "


def _null_as_own(values: pd.Series, df: pd.DataFrame, key_col: str | None,
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
        values = _null_as_own(values, df, form.cases.get("record_key"))
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


def _first_visit_flags(df: pd.DataFrame, form: FormDef) -> pd.DataFrame:
    """One line per (row, case) of `df`: its earliest record, and whether that record is
    a first visit."""
    c = form.cases
    work = pd.DataFrame({
        "row_id": df["row_id"],
        "_case": _null_as_own(df[c["case_column"]], df, c.get("record_key")),
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
        "_case": _null_as_own(df[c["case_column"]], df, c.get("record_key")),
        "_rep": df.index,
    }, index=df.index)
    return _ordered(df, form, work).drop_duplicates(["row_id", "_case"], keep="first" if pick == "first" else "last")


def _counted_cases(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.DataFrame:
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
    reps = _counted_cases(df, col, form, ctx)
    return _per_row(reps["_counted"].astype("int64"), reps["row_id"], "sum")


def _m_count_cases_first(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.Series:
    w = _first_visit_flags(df, form)
    return _per_row(w["_first"].astype(int), w["row_id"], "sum")


def _m_count_cases_repeat(df: pd.DataFrame, col: FormColumn, form: FormDef, ctx: FilterContext) -> pd.Series:
    w = _first_visit_flags(df, form)
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


def _complete_rows(form: FormDef, rows: list[ReportRow]) -> list[ReportRow]:
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


def _placed(records: pd.DataFrame, data_ids: list[str]) -> pd.DataFrame:
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


def _context(form: FormDef, df: pd.DataFrame, period: Any, what: str) -> FilterContext:
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


def _lacking_rows(sub: pd.DataFrame, field: str) -> set:
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
    v = result.reindex(data_ids, fill_value=0).fillna(0).astype("float64")
    if col.decimal:
        return v.round(ROUND_DIGITS)
    fractional = (v - v.round()).abs() > TOLERANCE
    if fractional.any():
        rid = list(v.index[fractional])[0]
        raise ValueError(f"column {col.ms} ({col.text}) is an integer column but its value for row {rid} "
                         f"is {v[rid]!r}; give the column a decimal number_format (e.g. \"#,##0.0\")")
    return v.round().astype("int64")


def _source_frames(form: FormDef, sources: Mapping[str, SourceInput] | None, data_ids: list[str],
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
        df = _placed(inp.records, data_ids)
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
    rows = _complete_rows(form, rows)
    data_rows = [r for r in rows if r.kind != "total"]
    data_ids = [r.row_id for r in data_rows]
    status = _checked_status(rows, row_status)
    df = _placed(records, data_ids)
    ctx = _context(form, df, period, "compute")
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
    src = _source_frames(form, sources, data_ids, period)

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
    note_columns = []
    for col in _topo_order(form.columns):
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
        sub = df[ctx.mask(col.filter)]
        result = MEASURES[measure](sub, col, form, ctx) if len(sub) else pd.Series(dtype="float64")
        values[col.ms] = _as_column_values(result, col, data_ids)
        if col.requires:
            gaps = _lacking_rows(sub, col.requires) - set(not_reported)
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


# ------------------------------------------------------------------ lineage

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
    v = _sum_addend(df, col.compute, form, ctx, mask)
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
        values = _null_as_own(values, sub, form.cases.get("record_key"), NULL_KEY_PREFIX)
    return values.astype(object).reindex(df.index)


def _case_keys_shown(sub: pd.DataFrame, form: FormDef) -> tuple[pd.Series, pd.Series]:
    """(token, shown) case keys of `sub`: the token as the measures group by, and the
    key as the lineage file shows it."""
    c = form.cases
    _check_prefix(sub[c["case_column"]], f"column {c['case_column']}")
    token = _null_as_own(sub[c["case_column"]], sub, c.get("record_key"))
    shown = _null_as_own(sub[c["case_column"]], sub, c.get("record_key"), NULL_KEY_PREFIX)
    return token, shown


def _c_cases(first: bool):
    def contrib(df: pd.DataFrame, mask: pd.Series, col: FormColumn, form: FormDef,
                ctx: FilterContext) -> pd.Series:
        out = pd.Series(None, index=df.index, dtype=object)
        sub = df[mask]
        if not len(sub):
            return out
        token, shown = _case_keys_shown(sub, form)
        flags = _first_visit_flags(sub, form)            # one line per (row, case)
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
    reps = _counted_cases(sub, col, form, ctx)
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
    ``sum_of`` (see the module docstring for what each holds and
    :func:`source_columns` for ``sum_of`` columns). For every data row and column:
    ``groupby("row_id")[c].sum()`` (additive) or ``.nunique()`` (distinct) equals the
    cell of :func:`compute`; the total row's cell is the sum of those over the rows.
    """
    rows = _complete_rows(form, rows)
    data_ids = [r.row_id for r in rows if r.kind != "total"]
    df = _placed(records, data_ids)
    ctx = _context(form, df, period, "contributions")
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
            gaps = df["row_id"].isin(_lacking_rows(df[mask], col.requires))
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
    rows = _complete_rows(form, rows)
    data_ids = [r.row_id for r in rows if r.kind != "total"]
    out = []
    for name, (df, ctx, inp) in _source_frames(form, sources, data_ids, period).items():
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
    leaf: dict[int, pd.Series] = {}
    for ms in form.number_columns:
        kind = lineage_kind(form, ms)
        if kind == "additive":
            leaf[ms] = g[contribution_column(ms)].sum().reindex(ids, fill_value=0).astype("float64")
        elif kind == "distinct":
            leaf[ms] = g[contribution_column(ms)].nunique().reindex(ids, fill_value=0).astype("float64")
    out = {}
    for ms in form.number_columns:
        s = sum((leaf[m] for m in source_columns(form, ms)), pd.Series(0.0, index=ids))
        out[ms] = s.round(ROUND_DIGITS) if form.column(ms).decimal else s.round().astype("int64")
    return pd.DataFrame(out, index=ids)


def _num_text(value: Any) -> str:
    """A number as a violation message shows it: integers without decimals."""
    v = float(value)
    return str(int(round(v))) if abs(v - round(v)) <= TOLERANCE else f"{v:.{ROUND_DIGITS}g}"


def _close(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) <= TOLERANCE


def check_contributions(form: FormDef, table: pd.DataFrame, contrib: pd.DataFrame) -> list[str]:
    """Cells of `table` (from :func:`compute`) that `contrib` (from
    :func:`contributions` on the same records) does not account for exactly (decimal
    cells: within :data:`TOLERANCE`), as sentences; the total row is checked against
    all rows. Empty list = consistent."""
    is_total = table["kind"].eq("total")
    data_ids = [str(i) for i in table.index[~is_total]]
    acc = accounted_values(form, contrib, data_ids)
    out = []
    for ms in form.number_columns:
        for rid in data_ids:
            cell = table.at[rid, ms]
            got = acc.at[rid, ms]
            if (pd.isna(cell) and got != 0) or (not pd.isna(cell) and not _close(cell, got)):
                out.append(f"{_row_name(table, rid)}: cột {ms} = {cell!r}, nguồn cho {_num_text(got)}")
        for rid in table.index[is_total]:
            if ms in form.partial_columns and pd.isna(table.at[rid, ms]):
                continue          # not added up (rows with empty cells): nothing to account for
            got = acc[ms].sum()
            if not _close(table.at[rid, ms], got):
                out.append(f"{_row_name(table, rid)}: cột {ms} = {table.at[rid, ms]!r}, nguồn cho {_num_text(got)}")
    return out


# ------------------------------------------------------------------ checking

def _row_name(table: pd.DataFrame, row_id: Any) -> str:
    label = table.at[row_id, "label"] if "label" in table.columns else row_id
    return f"dòng «{label}» ({row_id})"


def not_reported_rows(form: FormDef, table: pd.DataFrame) -> list[str]:
    """Rows of `table` that did not report: data rows whose every number cell is empty
    (that is how :func:`compute` shows them)."""
    if not form.number_columns:
        return []
    empty = pd.concat([table[ms].isna() for ms in form.number_columns], axis=1).all(axis=1)
    if "kind" in table.columns:
        empty &= table["kind"].ne("total")
    return [str(i) for i in table.index[empty]]


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
    empty = set(not_reported_rows(form, table))
    if row_status is not None:
        declared = {str(k) for k, v in row_status.items() if not v.reported}
        for rid in table.index:
            if str(rid) in declared and str(rid) not in empty:
                out.append(f"{_row_name(table, rid)}: đơn vị chưa báo cáo nhưng dòng có số liệu")
            elif str(rid) in empty and str(rid) not in declared:
                out.append(f"{_row_name(table, rid)}: dòng để trống nhưng đơn vị không được ghi là chưa báo cáo")
    reported = pd.Series([str(i) not in empty for i in table.index], index=table.index)
    partial = set(form.partial_columns)
    nums = {}
    gaps = {}             # partial columns: the reported rows whose cell is empty on purpose
    for ms in form.number_columns:
        col = pd.to_numeric(table[ms], errors="coerce").astype("float64")
        missing = col.isna() & (ms not in partial)
        gaps[ms] = col.isna() & reported if ms in partial else pd.Series(False, index=table.index)
        if form.column(ms).decimal:
            bad = (missing | ~np.isfinite(col.fillna(0)) | (col < -TOLERANCE)) & reported
            what = "không phải số không âm"
        else:
            bad = (missing | (col < 0) | ((col != col.round()) & col.notna())) & reported
            what = "không phải số nguyên không âm"
        for rid in table.index[bad]:
            out.append(f"{_row_name(table, rid)}: cột {ms} = {table.at[rid, ms]!r} {what}")
        nums[ms] = col.fillna(0)
    for ms in (m for m in form.unavailable_columns if m in table.columns):
        # A figure here came from somewhere the form definition does not know of.
        filled = [rid for rid, v in table[ms].items()
                  if v is not None and not (pd.api.types.is_scalar(v) and pd.isna(v))]
        for rid in filled:
            out.append(f"{_row_name(table, rid)}: cột {ms} chưa có nguồn số liệu nhưng có giá trị "
                       f"{table.at[rid, ms]!r}")
    if out:
        return out
    for chk in form.verified_checks:
        sums = [sum((nums[m] for m in side), pd.Series(0.0, index=table.index)) for side in chk.sides]
        # A row with an empty cell in the check cannot be checked (it would fail or hold by accident).
        checkable = reported & ~pd.concat([gaps[m] for side in chk.sides for m in side], axis=1).any(axis=1)
        for i, op in enumerate(chk.ops):
            left, right = sums[i], sums[i + 1]
            diff = left - right
            ok = (diff.abs() <= TOLERANCE) if op == "=" else (diff <= TOLERANCE if op == "<=" else diff >= -TOLERANCE)
            for rid in table.index[~ok & checkable]:
                lt = "+".join(map(str, chk.sides[i]))
                rt = "+".join(map(str, chk.sides[i + 1]))
                out.append(f"{_row_name(table, rid)}: vi phạm «{chk.text}» — cột {lt} = "
                           f"{_num_text(left[rid])}, cột {rt} = {_num_text(right[rid])}"
                           + (f" ({chk.instruction})" if chk.instruction else ""))
    if form.total_is_sum_of_rows:
        if "kind" not in table.columns:
            return out + ["bảng không có cột `kind` để xác định dòng tổng cộng"]
        is_total = table["kind"].eq("total")
        if int(is_total.sum()) != 1:
            return out + [f"bảng phải có đúng một dòng tổng cộng (có {int(is_total.sum())})"]
        rid = table.index[is_total][0]
        for ms in form.number_columns:
            if gaps[ms][~is_total].any() or gaps[ms][rid]:
                # Rows with empty cells: the total cannot be their sum and must be empty too.
                if not gaps[ms][rid]:
                    out.append(f"{_row_name(table, rid)}: cột {ms} = {_num_text(nums[ms][rid])} nhưng có dòng "
                               "để trống cột này (tổng không cộng được)")
                elif not gaps[ms][~is_total].any() and (~is_total & reported).any():
                    out.append(f"{_row_name(table, rid)}: cột {ms} để trống nhưng mọi dòng đơn vị đều có số liệu")
                continue
            expected = float(nums[ms][~is_total & reported].sum())
            if not _close(nums[ms][rid], expected):
                out.append(f"{_row_name(table, rid)}: cột {ms} = {_num_text(nums[ms][rid])} nhưng tổng "
                           f"các dòng đơn vị = {_num_text(expected)}")
    return out


def assert_identities(form: FormDef, table: pd.DataFrame,
                      row_status: Mapping[str, RowStatus] | None = None) -> None:
    violations = check_identities(form, table, row_status)
    if violations:
        raise IdentityError(violations)


def form_definition(form_code: str, period_or_end) -> FormDef:
    """The definition of `form_code` in the reporting regime that governs a report over
    `period_or_end` — a Period or its window's last day (core.regimes: the regime in
    force on the window's end)."""
    regime = regimes.regime_for(period_or_end)
    return load_form(regimes.definition_path(regime, form_code))
