"""The published reception calendars (lịch tiếp công dân) of the simulated units.

Every unit publishes the days its head (Thủ trưởng: Chủ tịch UBND) receives citizens,
định kỳ, for Biểu 01/TCD columns 10 and 16 of TT 06/2025 (shared/domain/forms-2025.md
§3.1, §4.7 item 1): one row per announced day, with who receives that day, the head in
person (``thu_truong``) or a deputy by delegation (``uy_quyen``).

- From :data:`CALENDAR_START` (1/12/2024: the data is needed back to 15/12/2024) or the
  unit's first day, to the end of the year of the run's end (a calendar is announced in
  advance: a unit's calendar of the year is published with it), never past the unit's
  last day.
- At least the legal minimum of the Luật Tiếp công dân (domain README §2): a commune
  head one fixed weekday every week; a district head two days a month (the 1st and 3rd
  of a fixed weekday); the province head one fixed day a month, plus a second day in
  some months. A day falling on a holiday or a weekend moves to the next working day.
- Each day is delegated (ủy quyền) with a unit-level share (:data:`DELEGATED_SHARE`).
- Defects (deterministic, documented in docs/simulated-sources.md): a commune with
  ``stable_int(seed, "calendar-missing", key) % 8 == 1`` never sends a calendar
  (:func:`calendar_missing`); a unit with ``stable_int(seed, "calendar-gap", key) % 10
  == 0`` leaves one month out of it (:func:`gap_month`). Their cells 10 and 16 are
  empty with a note in the reports that need those months.

The calendar is drawn from its own random streams (``Rng(seed, "calendar", key, …)``)
and is independent of the reception records, so nothing else the generator writes
changes; an announced day on which nobody came and a sitting held on a day not
announced both occur, as the form's guide allows (10 and 16 count announced days).
"""
from __future__ import annotations

import datetime as dt

from simulators.core import HOLIDAYS, Rng, Unit, stable_int

CALENDAR_START = dt.date(2024, 12, 1)
THU_TRUONG, UY_QUYEN = "thu_truong", "uy_quyen"
DELEGATED_SHARE = {"xa": 0.25, "huyen": 0.2, "tinh": 0.15}
MISSING_MODULUS, MISSING_REMAINDER = 8, 1        # communes without any calendar
GAP_MODULUS = 10                                   # units whose calendar lacks one month


def calendar_missing(unit: Unit, seed: int) -> bool:
    """Whether the commune never sends its calendar (the other levels always do)."""
    return unit.level == "xa" and stable_int(seed, "calendar-missing", unit.key) % MISSING_MODULUS == MISSING_REMAINDER


def _working(d: dt.date, last: dt.date) -> dt.date | None:
    while d.weekday() >= 5 or d in HOLIDAYS:
        d += dt.timedelta(days=1)
    return d if d <= last else None


def _months(first: dt.date, last: dt.date):
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def span(unit: Unit, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """[first, last] day of the unit's published calendar for a run ending on `end`."""
    first = max(CALENDAR_START, unit.valid_from)
    last = dt.date(end.year, 12, 31)
    if unit.valid_to is not None:
        last = min(last, unit.valid_to)
    return (first, last) if first <= last else None


def gap_month(unit: Unit, seed: int, end: dt.date) -> tuple[int, int] | None:
    """(year, month) the unit's calendar leaves out, or None."""
    s = span(unit, end)
    if s is None or stable_int(seed, "calendar-gap", unit.key) % GAP_MODULUS != 0:
        return None
    months = list(_months(*s))
    return months[Rng(seed, "calendar", unit.key, "gap").randint(0, len(months) - 1)]


def announced_days(unit: Unit, seed: int, end: dt.date) -> list[tuple[dt.date, str]]:
    """The unit's published calendar: [(day, receiver)] sorted by day, as delivered
    (a missing calendar is empty, a gap month has no day)."""
    s = span(unit, end)
    if s is None or calendar_missing(unit, seed):
        return []
    first, last = s
    rng = Rng(seed, "calendar", unit.key)
    weekday = rng.randint(0, 4)
    share = DELEGATED_SHARE[unit.level]
    gap = gap_month(unit, seed, end)
    days: dict[dt.date, str] = {}
    for y, m in _months(first, last):
        month_rng = Rng(seed, "calendar", unit.key, f"{y:04d}-{m:02d}")
        first_of = dt.date(y, m, 1)
        offset = (weekday - first_of.weekday()) % 7
        firsts = [first_of + dt.timedelta(days=offset + 7 * k) for k in range(5)]
        firsts = [d for d in firsts if d.month == m]
        if unit.level == "xa":
            wanted = firsts
        elif unit.level == "huyen":
            wanted = [firsts[0], firsts[2]]
        else:
            wanted = [firsts[1]] + ([firsts[3]] if len(firsts) > 3 and month_rng.chance(0.3) else [])
        for d in wanted:
            day = _working(d, last)
            if day is None or day < first or (day.year, day.month) == gap or day in days:
                continue
            days[day] = UY_QUYEN if month_rng.chance(share) else THU_TRUONG
    if gap is not None:
        days = {d: r for d, r in days.items() if (d.year, d.month) != gap}
    return sorted(days.items())
