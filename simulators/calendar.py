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
import sqlite3

from simulators.city_store import stamp
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
    if unit.valid_from > end:
        return None                 # the unit does not exist yet at the end of the run
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


# --------------------------------------------------------------------------- sources
CALENDAR_SHEET = "Lịch tiếp công dân"
LEGACY_CALENDAR_SHEET = "Lich tiep cong dan"     # books typed in a legacy encoding name sheets in ASCII
CALENDAR_FIRST_ROW = 3                           # title, header, then one row per day
REGISTER_RECEIVER = {THU_TRUONG: "Trực tiếp", UY_QUYEN: "Ủy quyền"}
DISTRICT_RECEIVER = {THU_TRUONG: "THU_TRUONG", UY_QUYEN: "UY_QUYEN"}
CITY_RECEIVER = {THU_TRUONG: "head", UY_QUYEN: "deputy"}
TRUTH_COLUMNS = ("source_kind", "unit_code", "unit_key", "announced_date", "receiver", "record_id")


def published_at(unit: Unit, day: dt.date) -> dt.datetime:
    """When the calendar holding `day` was published: the year's calendar on 20/12 of
    the year before (the first, December 2024, on 25/11/2024); a unit created later
    publishes on its first day."""
    t = dt.datetime(2024, 11, 25, 9) if day < dt.date(2025, 1, 1) else dt.datetime(day.year - 1, 12, 20, 9)
    return max(t, dt.datetime.combine(unit.valid_from, dt.time(9)))


def book_rows(units: list[Unit], year: int, seed: int, end: dt.date) -> list[tuple[Unit, dt.date, str]]:
    """The calendar rows of a register book of `year` holding `units` (oldest first)."""
    return [(u, d, r) for u in units for d, r in announced_days(u, seed, end) if d.year == year]


def write_sheet(wb, rows: list[tuple[Unit, dt.date, str]], year: int, text, date_cell, legacy: bool) -> None:
    """Add the sheet "Lịch tiếp công dân" to a register workbook (openpyxl): title,
    header (STT, Ngày, Người tiếp, Ghi chú), one row per announced day from row
    :data:`CALENDAR_FIRST_ROW`. `text` encodes a text cell as the book writes text,
    `date_cell` a date."""
    ws = wb.create_sheet(LEGACY_CALENDAR_SHEET if legacy else CALENDAR_SHEET)
    ws.append([text(f"LỊCH TIẾP CÔNG DÂN CỦA CHỦ TỊCH UBND NĂM {year}")])
    ws.append([text(h) for h in ("STT", "Ngày", "Người tiếp", "Ghi chú")])
    for i, (_, day, receiver) in enumerate(rows, start=1):
        ws.append([i, date_cell(day), text(REGISTER_RECEIVER[receiver]), None])


def register_truth(file_name: str, rows: list[tuple[Unit, dt.date, str]], legacy: bool) -> list[tuple]:
    sheet = LEGACY_CALENDAR_SHEET if legacy else CALENDAR_SHEET
    return [("commune_register", u.code, u.key, d.isoformat(), r, f"{file_name}#{sheet}:{CALENDAR_FIRST_ROW + i}")
            for i, (u, d, r) in enumerate(rows)]


def write_district_calendar(path, unit: Unit, seed: int, end: dt.date) -> list[tuple]:
    """Add the table lich_tiep_cong_dan to a district database; its ground-truth rows."""
    days = announced_days(unit, seed, end)
    rows = [(i, unit.code, d.isoformat(), DISTRICT_RECEIVER[r], "CHINH_THUC",
             published_at(unit, d).strftime("%Y-%m-%d %H:%M:%S")) for i, (d, r) in enumerate(days, start=1)]
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE lich_tiep_cong_dan (id INTEGER PRIMARY KEY, ma_don_vi TEXT NOT NULL, "
                    "ngay TEXT NOT NULL, hinh_thuc TEXT NOT NULL, trang_thai TEXT NOT NULL, "
                    "ngay_cap_nhat TIMESTAMP NOT NULL)")
        con.executemany("INSERT INTO lich_tiep_cong_dan VALUES (?,?,?,?,?,?)", rows)
    return [("district_db", unit.code, unit.key, d.isoformat(), r, str(i)) for i, (d, r) in enumerate(days, start=1)]


def write_city_calendar(path, unit: Unit, seed: int, end: dt.date) -> list[tuple]:
    """Add the table behind the resource reception-calendar to the city store."""
    days = announced_days(unit, seed, end)
    rows = [(f"L{d:%Y%m%d}", 1, *stamp(published_at(unit, d)), "official", unit.code, d.isoformat(),
             CITY_RECEIVER[r]) for d, r in days]
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE reception_calendar (id TEXT NOT NULL, version INTEGER NOT NULL, "
                    "updated_at TEXT NOT NULL, updated_ts INTEGER NOT NULL, status TEXT NOT NULL, unit_code TEXT, "
                    "announced_on TEXT NOT NULL, receiver TEXT NOT NULL, PRIMARY KEY (id, version))")
        con.executemany("INSERT INTO reception_calendar VALUES (?,?,?,?,?,?,?,?)",
                        sorted(rows, key=lambda r: (r[3], r[0])))
    return [("city_service", unit.code, unit.key, d.isoformat(), r, f"L{d:%Y%m%d}") for d, r in days]
