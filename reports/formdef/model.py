"""What a form definition and a report are made of, as data: the report's rows
(:class:`ReportRow`) and whether their units reported (:class:`RowStatus`); the form's
header tree, columns, second inputs, checks and the :class:`FormDef` that holds them,
with the questions asked of it (which columns are window-relative, partial, unchecked …).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import pandas as pd

from reports.formdef.errors import PeriodRequiredError
from reports.formdef.filters import (
    MATCH_ALL,
    WINDOW_BOUNDS,
    Condition,
    Filter,
    FilterContext,
    as_window,
    dependency_order,
    window_relative,
)

ROW_KINDS = ("unit", "own", "total")
TOTAL_ROW_ID = "total"
DEFAULT_NUMBER_FORMAT = "#,##0"
# Decimal cells (money, land) are rounded to this many decimals, so that a figure does
# not depend on the order its addends were summed in.
ROUND_DIGITS = 6
# Two sides of a check are equal when they differ by at most this (absolute); integer
# cells never differ by less than 1, so the tolerance matters for decimal cells only.
TOLERANCE = 1e-6
# Kind (and measure name) of a column whose data the sources do not carry yet.
UNAVAILABLE = "unavailable"


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

    # The derived lists below are cached on the instance (a frozen dataclass: the fields
    # never change; dataclasses.replace makes a new instance): every report of a set
    # reads them many times per table. Callers must not modify them.

    @functools.cached_property
    def header_depth(self) -> int:
        return max(n.depth() for n in self.header)

    @functools.cached_property
    def unavailable_columns(self) -> list[int]:
        """Columns the form prints but the sources cannot fill yet (always empty)."""
        return [c.ms for c in self.columns if c.kind == UNAVAILABLE]

    @functools.cached_property
    def partial_columns(self) -> list[int]:
        """Number columns whose cell can be empty on a row that reported: the columns
        with ``requires``, those counted from a second input (``compute.source``), and
        the ``sum_of`` columns that add one of them up."""
        out = {c.ms for c in self.columns if c.requires or c.source}
        for c in topo_order(self.columns):
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

    @functools.cached_property
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

    @functools.cached_property
    def verified_checks(self) -> list[Check]:
        """The checks :func:`check_identities` verifies."""
        skipped = {id(chk) for chk, _ in self.unchecked_checks}
        return [chk for chk in self.checks if id(chk) not in skipped]

    @functools.cached_property
    def ms_numbers(self) -> list[int]:
        return [c.ms for c in self.columns]

    @functools.cached_property
    def number_columns(self) -> list[int]:
        return [c.ms for c in self.columns if c.kind == "number"]

    @functools.cached_property
    def text_columns(self) -> list[int]:
        return [c.ms for c in self.columns if c.kind == "text"]

    @functools.cached_property
    def decimal_columns(self) -> list[int]:
        return [c.ms for c in self.columns if c.decimal]

    def column(self, ms: int) -> FormColumn:
        return self._columns_by_ms[ms]

    @functools.cached_property
    def _columns_by_ms(self) -> dict[int, FormColumn]:
        return {c.ms: c for c in self.columns}

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


def topo_order(columns: Iterable[FormColumn]) -> list[FormColumn]:
    """Columns ordered so that every `sum_of` comes after the columns it adds up."""
    by_ms = {c.ms: c for c in columns}
    order = dependency_order({ms: [int(d) for d in c.compute.get("sum_of", [])] for ms, c in by_ms.items()},
                             "sum_of cycle through columns")
    return [by_ms[ms] for ms in order]
