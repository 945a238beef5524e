"""The documented share of defects in the simulated sources (docs/simulated-sources.md,
"Defects"), and the submissions calendar of the commune registers.

Everything here is decided from the seed and the *whole* unit list (never from the
units a run selects, nor from ``--end``), so a subset run writes exactly the defects of
the full run for the units it includes, whatever the number of workers.

Three families:

1. defects that do not change what is counted: extra rows and files a correct pipeline
   rejects or quarantines, and representation problems it must read correctly (the
   ground truth is unchanged by them). Each is listed in ``defects.csv`` and the
   ``gt_defect`` table with its expected outcome and rule code (expectations/rules.yaml);
2. missing and late submissions of register books (these change the truth: a book never
   delivered holds nothing to count), in ``gt_submission``;
3. an outlier: one legacy commune and one district receive 4–6× their usual volume in
   one reporting quarter (true records, counted), in the manifest and ``gt_outlier``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from simulators.core import TZ, Rng, Unit, new_commune_predecessors, per_province, stable_int, units_of

# --------------------------------------------------------------------------- catalogue
COLUMNS = ("defect_kind", "source_kind", "resource", "path", "sheet", "row", "record_id", "expected_outcome",
           "rule_code", "detail")
COUNTED, QUARANTINED, REJECTED, SKIPPED = "counted", "quarantined", "batch_rejected", "skipped"


def defect(kind: str, source_kind: str, resource: str, path: str, outcome: str, rule: str = "", *,
           sheet: str = "", row: int | None = None, record_id: str = "", detail: str = "") -> tuple:
    """One line of defects.csv. No personal data: ids, rows and the defective value only."""
    return (kind, source_kind, resource, path, sheet, row, record_id, outcome, rule, detail)


def sort_key(d: tuple) -> tuple:
    return (d[1], d[3], d[2], d[4], d[5] or 0, d[6], d[0])


def to_csv(defects: list[tuple]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for d in defects:
        w.writerow(["" if v is None else v for v in d])
    return buf.getvalue()


# Register rows: chance per record row of each sheet (documented shares).
# kind: (share, sheets, outcome, rule)
REGISTER_ROW_DEFECTS = {
    # extra rows (a real row typed again with one field broken): never counted
    "date_impossible": (0.003, ("reception", "petition"), QUARANTINED, "DATE_INVALID"),
    "number_negative": (0.002, ("reception", "petition"), QUARANTINED, "NUMBER_INVALID"),
    "people_absurd": (0.002, ("reception",), QUARANTINED, "PEOPLE_OUT_OF_RANGE"),
    "kind_not_in_domain": (0.003, ("reception", "petition"), QUARANTINED, "CODE_NOT_IN_DOMAIN"),
    "outcome_not_in_domain": (0.003, ("petition",), QUARANTINED, "CODE_NOT_IN_DOMAIN"),
    "formula_no_value": (0.002, ("reception", "petition"), QUARANTINED, "NUMBER_INVALID"),
    "repeated_header": (0.002, ("reception", "petition"), SKIPPED, ""),
    # real rows written differently: counted
    "date_other_format": (0.004, ("reception", "petition"), COUNTED, ""),
    "text_nfd_row": (0.003, ("reception", "petition"), COUNTED, ""),
}
# Rows of books entered twice (a register habit since the first version; the second
# copy is the defect).
DUPLICATE_ROW = ("duplicate_row", QUARANTINED, "DUPLICATE")

# Whole register files.
LEGACY_BOOKS = 14               # ~0.5 % of the 2,852 books: 7 TCVN3, 7 VNI
MISSING_LEGACY_BOOKS = 3        # legacy communes without a book for one year (< 2025)
BROKEN_FILES = {                # extra deliveries beside the real, valid book
    "file_not_spreadsheet": ("-tong-hop", REJECTED, "FILE_NOT_READABLE"),
    "file_truncated": ("-gui-lai", REJECTED, "FILE_NOT_READABLE"),
    "file_name_invalid": ("", REJECTED, "FILE_NAME_INVALID"),
    "columns_missing": ("-ban-sua", REJECTED, "COLUMNS_MISSING"),
}
RENAMED_COLUMN = ("nguoi_tiep", "Người chủ trì")   # not an accepted header of "Người tiếp"
PLACEMENT_COMMUNES = 3          # file-level defects sit on the first 3 communes of a district
PLACEMENT_YEARS = (2021, 2022, 2023, 2024)

LATE_SHARE = 0.05


# --------------------------------------------------------------------------- placements
def book_name(unit: Unit, year: int) -> str:
    return f"{unit.code}_{unit.slug}_{year}.xlsx"


@per_province
def _first_communes() -> tuple[Unit, ...]:
    legacy = units_of("xa", "legacy")
    out = []
    for d in units_of("huyen", "legacy"):
        out.extend([u for u in legacy if u.parent_code == d.code][:PLACEMENT_COMMUNES])
    return tuple(out)


@dataclass(frozen=True)
class FilePlan:
    missing: dict          # file name -> unit key (books never delivered)
    broken: dict           # real book's file name -> broken-file kind (an extra delivery)
    legacy: dict           # file name -> "tcvn3" | "vni"


@per_province
def file_plan(seed: int) -> FilePlan:
    """Which books carry a file-level defect: books (2021–2024) of the first three legacy
    communes of each district, by rank of a seeded hash, each on a different commune
    (so a ``--communes-per-district 3`` subset of their districts shows them); and the
    2026 book of one 2025 commune that succeeds one of those communes."""
    cands = sorted((stable_int(seed, "file-defects", u.key, y), u.key, y, u)
                   for u in _first_communes() for y in PLACEMENT_YEARS)
    used: set[str] = set()
    picks = []
    for _, key, y, u in cands:
        if key not in used:
            used.add(key)
            picks.append((u, y))
    missing = {book_name(u, y): u.key for u, y in picks[:MISSING_LEGACY_BOOKS]}
    kinds = list(BROKEN_FILES)
    broken = {book_name(u, y): kinds[i] for i, (u, y) in
              enumerate(picks[MISSING_LEGACY_BOOKS:MISSING_LEGACY_BOOKS + len(kinds)])}
    legacy = {book_name(u, y): ("tcvn3", "vni")[i % 2] for i, (u, y) in
              enumerate(picks[MISSING_LEGACY_BOOKS + len(kinds):MISSING_LEGACY_BOOKS + len(kinds) + LEGACY_BOOKS])}
    # One 2025 commune never delivers its 2026 book.
    first = {u.code for u in _first_communes()}
    preds = new_commune_predecessors()
    new = sorted((stable_int(seed, "missing-2026", u.key), u.key, u) for u in units_of("xa", "2025")
                 if first & set(preds.get(u.code, ())))
    if new:
        missing[book_name(new[0][2], 2026)] = new[0][2].key
    return FilePlan(missing, broken, legacy)


@dataclass(frozen=True)
class Spike:
    unit_key: str
    quarter: str            # "2023-Q2"
    first: dt.date          # the reporting window, 15th to 14th
    last: dt.date
    factor: float

    def boost(self, d: dt.date) -> float:
        return self.factor if self.first <= d <= self.last else 1.0

    def overlaps(self, y: int, m: int) -> bool:
        return (self.first.year, self.first.month) <= (y, m) <= (self.last.year, self.last.month)


def quarter_window(year: int, q: int) -> tuple[dt.date, dt.date]:
    """Reporting quarter (domain reference §3): Q1 15/12 of the previous year – 14/3, …"""
    end = dt.date(year, 3 * q, 14)
    start = dt.date(year - 1, 12, 15) if q == 1 else dt.date(year, 3 * q - 3, 15)
    return start, end


# Quarters with at least four whole quarters of history before them (the series starts
# on 01/07/2021) and inside the legacy period.
SPIKE_QUARTERS = [(y, q) for y in (2022, 2023, 2024) for q in (1, 2, 3, 4) if (y, q) >= (2022, 4)]


@per_province
def outlier_plan(seed: int) -> dict[str, Spike]:
    """One legacy commune and one district with a 4–6× spike in one reporting quarter."""
    taken = set(file_plan(seed).missing.values())
    out = {}
    for level in ("xa", "huyen"):
        units = sorted((stable_int(seed, "outlier", u.key), u.key, u) for u in units_of(level, "legacy")
                       if u.key not in taken)
        u = units[0][2]
        r = Rng(seed, u.key, "outlier")
        y, q = r.pick(SPIKE_QUARTERS)
        first, last = quarter_window(y, q)
        out[u.key] = Spike(u.key, f"{y}-Q{q}", first, last, round(r.uniform(4.0, 6.0), 1))
    return out


@per_province
def defect_districts(seed: int) -> tuple[str, ...]:
    """The two district databases that hold extra defective rows."""
    ranked = sorted((stable_int(seed, "db-defects", u.key), u.code) for u in units_of("huyen", "legacy"))
    return tuple(sorted(code for _, code in ranked[:2]))


def legacy_code_not_reused() -> str:
    """A legacy commune code that no 2025 commune took over (valid only to 30/06/2025)."""
    new = {u.code for u in units_of("xa", "2025")}
    return next(u.code for u in units_of("xa", "legacy") if u.code not in new)


# --------------------------------------------------------------------------- deliveries
def _cutoffs(year: int) -> list[dt.date]:
    return [dt.date(year, m, 14) for m in (3, 6, 9, 12)]


def delivery(seed: int, file_name: str, first: dt.date, closes: dt.date, end: dt.date,
             late_share: float = LATE_SHARE) -> tuple[dt.datetime, bool]:
    """When a register book was delivered (aware, UTC+7) and whether it was late.

    ``first`` is the first day the book covers, ``closes`` the day it is complete (31/12,
    or the unit's last day, 30/06/2025 for a legacy commune). Completed books of a whole
    year: 15–19 December of the year (late: 5 January – 20 February); legacy 2025 books:
    1–4 July 2025 (late: August); books still open at ``end``: 1–4 days after the latest
    quarterly cut-off (14 Mar/Jun/Sep/Dec) ≤ end (late: 10–40 days after), or on ``end``
    when no cut-off fell inside the book. Never after ``end``; late only when the late
    window has begun by ``end``. (A book is delivered whole: rows dated after its
    delivery time are a simplification of the simulator, see docs.)"""
    r = Rng(seed, "delivery", file_name)
    late = r.chance(late_share)
    u_on, u_late, secs = r.u(), r.u(), r.randint(0, 34200)
    one = dt.timedelta(days=1)
    if closes <= end:
        if closes.month == 12 and closes.day == 31:
            on = (dt.date(closes.year, 12, 15), dt.date(closes.year, 12, 19))
            lt = (dt.date(closes.year + 1, 1, 5), dt.date(closes.year + 1, 2, 20))
        else:
            nxt = dt.date(closes.year + (closes.month == 12), closes.month % 12 + 1, 1)
            after = dt.date(nxt.year + (nxt.month == 12), nxt.month % 12 + 1, 1)
            on = (closes + one, closes + 4 * one)
            lt = (after, dt.date(after.year + (after.month == 12), after.month % 12 + 1, 1) - one)
    else:
        cuts = [c for y in (end.year - 1, end.year) for c in _cutoffs(y) if first <= c <= end]
        if not cuts:
            on = lt = (end, end)
            late = False
        else:
            c = max(cuts)
            on, lt = (c + one, c + 4 * one), (c + 10 * one, c + 40 * one)
    if late and lt[0] > end:
        late = False
    lo, hi = lt if late else on
    lo, hi = min(lo, end), min(hi, end)
    day = lo + dt.timedelta(days=int((u_late if late else u_on) * ((hi - lo).days + 1)))
    t = dt.datetime.combine(day, dt.time(7, 30)) + dt.timedelta(seconds=secs)
    return t.replace(tzinfo=TZ), late


def closes_on(units: list[Unit], year: int) -> dt.date:
    """The day a book of these units (oldest first) for `year` is complete."""
    last = units[-1].valid_to
    dec31 = dt.date(year, 12, 31)
    return min(dec31, last) if last is not None else dec31


