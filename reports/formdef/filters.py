"""The filter language of the form definitions (see the package docstring): a filter
spec compiled into a tree of AllOf / AnyOf / Not / FilterRef / Condition, the report
window it may refer to, and :class:`FilterContext`, which evaluates filters on a frame of
records for one window.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any, Iterable, Mapping

import pandas as pd

from reports.formdef.errors import FormDefinitionError, PeriodRequiredError

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
    """A filter spec (see the package docstring) as a tree of AllOf / AnyOf / Not /
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


def check_refs(node: Filter, filters: Mapping[str, Filter], where: str) -> None:
    unknown = sorted(_refs(node) - set(filters))
    if unknown:
        raise FormDefinitionError(f"{where}: unknown filter {unknown[0]!r}")


def dependency_order(deps: Mapping[Any, Iterable[Any]], cycle_message: str) -> list:
    """The nodes of `deps` (node → the nodes it depends on) ordered so that each comes
    after its dependencies; a cycle is a FormDefinitionError naming it."""
    try:
        return list(TopologicalSorter({k: sorted(v) for k, v in deps.items()}).static_order())
    except CycleError as exc:
        raise FormDefinitionError(f"{cycle_message}: {' → '.join(map(str, exc.args[1]))}") from None


def check_filter_cycles(filters: Mapping[str, Filter]) -> None:
    dependency_order({name: _refs(node) for name, node in filters.items()},
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
        self._masks: dict[Filter, pd.Series] = {}
        # What measures derive from the whole frame, by name (e.g. each case's
        # representative record): the same for every column of the form.
        self.derived: dict[Any, Any] = {}

    def mask(self, node: Filter) -> pd.Series:
        """Boolean Series on the frame's index: the records `node` accepts (computed
        once per filter; not to be modified)."""
        if node not in self._masks:
            self._masks[node] = self._mask(node)
        return self._masks[node]

    def _mask(self, node: Filter) -> pd.Series:
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
