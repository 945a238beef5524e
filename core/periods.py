"""Reporting periods: the 15th-to-14th data windows of the periodic reports.

Periodic reports (quarter, 6 months, 9 months, year) do not follow the calendar: their
data windows run from the 15th to the 14th (domain reference §3), e.g. Quý I năm 2026
covers 15/12/2025 – 14/03/2026. The window rules live in ``config/pipeline.yaml``
(``periods.kinds``): each kind gives its start and end as ``[year offset, month, day]``
relative to the report year, so a change of rule is a configuration change.

Ad hoc (thematic) reports use any calendar range (``custom``).

All bounds are inclusive dates. Labels are the Vietnamese wording used on reports.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pendulum

from core import config_schema, settings
from core.dates import TIMEZONE, vn_date

PERIODIC_KINDS = ("Q1", "Q2", "Q3", "Q4", "H1", "M9", "Y")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")

# How a periodic label is worded around the configured short label ("Quý III", "6
# tháng", "Năm"). A config entry may override it with its own `title` template; these
# defaults exist because the config carries only the short label.
_DEFAULT_TITLES = {
    "H1": "{label} đầu năm {year}",
    "M9": "{label} đầu năm {year}",
    "Y": "{label} {year}",
}
_DEFAULT_TITLE = "{label} năm {year}"


@dataclass(frozen=True)
class Period:
    """A reporting window. ``start`` and ``end`` are both inclusive."""

    kind: str          # Q1|Q2|Q3|Q4|H1|M9|Y|custom
    year: int          # report year (for custom: the year of `end`)
    start: dt.date
    end: dt.date
    label: str         # e.g. "Quý III năm 2026", "Từ 01/07/2021 đến 28/02/2025"

    @property
    def key(self) -> str:
        """Stable identifier, accepted back by :func:`parse` ("2026-Q3",
        "2021-07-01..2025-02-28")."""
        if self.kind == "custom":
            return f"{self.start.isoformat()}..{self.end.isoformat()}"
        return f"{self.year}-{self.kind}"

    @property
    def date_line(self) -> str:
        """The line printed under a form's title."""
        return f"Số liệu tính từ ngày {vn_date(self.start)} đến ngày {vn_date(self.end)}"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:  # logs and file names read better with the window
        return f"{self.label} ({vn_date(self.start)}–{vn_date(self.end)})"


def _rules() -> dict[str, config_schema.PeriodKind]:
    return settings.get().periods.kinds


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _rule_date(spec: tuple[int, int, int], year: int) -> dt.date:
    offset, month, day = spec
    return dt.date(year + int(offset), int(month), int(day))


def period(kind: str, year: int) -> Period:
    """The periodic window `kind` (Q1..Q4, H1, M9, Y) of report year `year`."""
    kind = kind.upper()
    rules = _rules()
    if kind not in rules:
        raise ValueError(f"unknown period kind {kind!r}; expected one of {sorted(rules)}")
    rule = rules[kind]
    start, end = _rule_date(rule.start, year), _rule_date(rule.end, year)
    if start > end:
        raise ValueError(f"period rule {kind} gives an empty window for {year}")
    title = rule.title or _DEFAULT_TITLES.get(kind, _DEFAULT_TITLE)
    return Period(kind, int(year), start, end, title.format(label=rule.label, year=year))


def custom(date_from: dt.date | str, date_to: dt.date | str) -> Period:
    """An ad hoc calendar range, both ends inclusive."""
    start, end = _as_date(date_from), _as_date(date_to)
    if start > end:
        raise ValueError(f"custom period: start {start} is after end {end}")
    return Period("custom", end.year, start, end, f"Từ {vn_date(start)} đến {vn_date(end)}")


def _kinds_for(kind: str) -> tuple[str, ...]:
    kind = kind.upper()
    if kind == "Q":
        return QUARTERS
    if kind not in _rules():
        raise ValueError(f"unknown period kind {kind!r}")
    return (kind,)


def _candidates(kinds: tuple[str, ...], around_year: int) -> list[Period]:
    # Windows may start in the previous calendar year (Q1, H1, M9, Y), so look one
    # year either side; that covers every rule with offsets in {-1, 0}.
    return [period(k, y) for y in range(around_year - 1, around_year + 2) for k in kinds]


def latest_complete(today: dt.date | str, kind: str = "Q") -> Period:
    """The latest period of `kind` whose window ended before `today`.

    ``kind`` is "Q" (any quarter) or a specific kind (H1, M9, Y, Q1..Q4). The window
    must be over (end < today): data of the end day itself may still be arriving.
    """
    today = _as_date(today)
    done = [p for p in _candidates(_kinds_for(kind), today.year) if p.end < today]
    if not done:  # only possible with exotic rules; search further back
        done = [p for p in _candidates(_kinds_for(kind), today.year - 2) if p.end < today]
    if not done:
        raise ValueError(f"no complete {kind} period before {today}")
    return max(done, key=lambda p: (p.end, p.start))


_SPEC_PERIODIC = re.compile(r"^(\d{4})-(Q[1-4]|H1|M9|Y)$", re.IGNORECASE)
_SPEC_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/|:)\s*(\d{4}-\d{2}-\d{2})$")
_SPEC_LATEST = re.compile(r"^latest(?:[-:]([A-Za-z0-9]+))?$", re.IGNORECASE)


def parse(spec: str, today: dt.date | str | None = None) -> Period:
    """A period from a textual spec.

    Accepted: ``latest`` (latest complete quarter), ``latest-H1`` / ``latest-Y`` / …,
    ``2026-Q3``, ``2026-H1``, ``2026-M9``, ``2026-Y``, and a custom range
    ``2021-07-01..2025-02-28``. ``today`` is needed only for ``latest``.
    """
    s = (spec or "").strip()
    if m := _SPEC_LATEST.match(s):
        if today is None:
            raise ValueError("parse('latest') needs today")
        return latest_complete(today, m.group(1) or "Q")
    if m := _SPEC_PERIODIC.match(s):
        return period(m.group(2).upper(), int(m.group(1)))
    if m := _SPEC_CUSTOM.match(s):
        return custom(m.group(1), m.group(2))
    raise ValueError(
        f"unrecognised period {spec!r}; use 'latest', 'YYYY-Q1..Q4', 'YYYY-H1', "
        "'YYYY-M9', 'YYYY-Y' or 'YYYY-MM-DD..YYYY-MM-DD'")


def periods_ending_on(day: dt.date | str) -> list[Period]:
    """The periodic windows whose cut-off is the day before `day`.

    Meant for scheduling: `day` is the run (report) day. The report produced on the
    15th covers the windows that ended on the 14th, e.g. 15/09/2026 → Quý III and
    9 tháng 2026; 15/12/2026 → Quý IV and Năm 2026. Shortest window first.
    """
    cutoff = _as_date(day) - dt.timedelta(days=1)
    kinds = tuple(_rules())  # every configured kind, not a fixed list
    hits = [p for p in _candidates(kinds, cutoff.year) if p.end == cutoff]
    return sorted(set(hits), key=lambda p: (p.end - p.start, kinds.index(p.kind)))


def from_window(start: dt.date | str, end: dt.date | str) -> Period:
    """The period whose window is exactly [start, end] (both inclusive): a periodic kind
    when the rules give that window (quarter first, then 6/9 months, year), else a custom
    range. Used to turn a scheduler's data interval into the reporting period."""
    start, end = _as_date(start), _as_date(end)
    kinds = tuple(_rules())
    for p in _candidates(kinds, end.year):
        if p.start == start and p.end == end:
            return p
    return custom(start, end)


def from_data_interval(interval_start, interval_end, timezone: str = TIMEZONE) -> Period:
    """The reporting period of a scheduler data interval [start, end): local dates,
    the end exclusive (the report runs on the 15th for the window ending on the 14th)."""
    s = pendulum.instance(interval_start).in_timezone(timezone).date()
    e = pendulum.instance(interval_end).in_timezone(timezone).date() - dt.timedelta(days=1)
    return from_window(s, e)
