"""Simulated biểu 06/QLKNTC workbooks (docs/simulated-sources.md, "06/QLKNTC workbooks").

No source system holds the figures of 06/QLKNTC, so units fill in the input workbook of
connectors.qlkntc_template for each period whose window ends on or after 30/09/2025
(Quý IV 2025 and Năm 2025 on) and drop it into the commune inbox. Here every 2025
commune (and the city, when the city is generated) does so, from a small model of its
work — documents issued, training classes, responsibility inspections with their
conclusions and follow-up — so the figures of any window are consistent: a Năm
workbook is not the sum of its quarters where the form says so (columns 6, 7 and 13
count what was carried over from before the window).

Workbooks are made from the current template (version 2), whose optional sheet "Bảo vệ
người tố cáo" each unit fills from a small model of its own (people protected in the
window: denouncers and relatives, under which kinds of measure; mostly 0; its own random
stream, so the 17 figures are the same draws as before), except the units that kept the
first template (version 1, no such sheet: ``OLD_TEMPLATE_SHARE`` of the 2025 communes,
chosen by a seeded hash, never the city nor a commune with a planned defect) — their
17 figures count, their protection figures are not reported.

Everything is decided from the seed and the whole unit list (never from the selection
or ``--end``), like simulators.defects: which workbooks are missing (``MISSING_SHARE``),
late (``LATE_SHARE``), and where the one-of-each bad inputs sit (``DEFECTS``); a subset
run writes exactly the full run's workbooks for the units it includes. Workbooks are
byte-identical for the same seed and end (fixed zip times, properties from the
delivery time); their modification time is their delivery time.

:func:`deliver` is the generator's one call: it writes the workbooks under
``commune_inbox/qlkntc/<period key>/``, adds ``gt_qlkntc`` (what a correct pipeline
publishes in fact_qlkntc), ``gt_qlkntc_protection`` (its protection columns) and
``gt_qlkntc_submission`` to the ground truth, and its
defects to ``gt_defect``, ``defects.csv`` (through the generator's list) and the manifest.
"""
from __future__ import annotations

import collections
import datetime as dt
import functools
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from connectors import qlkntc_template as T
from core import periods, settings
from simulators import defects as D
from simulators.core import (
    TZ,
    Rng,
    Unit,
    all_units,
    new_commune_predecessors,
    per_province,
    province_key,
    stable_int,
    units_of,
)
from simulators.defects import defect

SOURCE_KIND = "qlkntc_workbook"
FOLDER = "qlkntc"
MODEL_FROM_YEAR = 2024          # a year of activity before the first window (carry-over of inspections)
MISSING_SHARE = 0.05            # workbooks never delivered
LATE_SHARE = 0.05               # delivered after the units' deadline
DEADLINE_DAY = 17               # TT 06/2025 Điều 7.2: units → province by the 17th (config regimes: deadlines)
KINDS = ("Q1", "Q2", "H1", "Q3", "M9", "Q4", "Y")
COUNTED, QUARANTINED, REJECTED, SKIPPED = "counted", "quarantined", "batch_rejected", "skipped"   # simulators.defects
SUPERSEDED = "superseded"       # a landed workbook replaced as a whole by a later version
# One of each bad input (placed on 2025 communes, Quý IV 2025 unless said): outcome, rule.
# Rejected workbooks are followed 1–3 days later by the unit's correct one (the unit read
# the rejection and sent again); quarantined ones are the unit's only delivery.
DEFECTS = {
    "unit_mismatch": (REJECTED, "QLKNTC_UNIT_MISMATCH"),        # its figures in a neighbour's template
    "unit_unknown": (REJECTED, "QLKNTC_UNIT_UNKNOWN"),          # a template made for its dissolved predecessor
    "period_mismatch": (REJECTED, "QLKNTC_WINDOW_MISMATCH"),    # Năm 2025 sent in the Quý IV template
    "dates_altered": (REJECTED, "QLKNTC_WINDOW_MISMATCH"),      # "Từ ngày" edited after unprotecting
    "sheet_missing": (REJECTED, "QLKNTC_SHEET_MISSING"),        # the data sheet renamed
    "template_altered": (REJECTED, "QLKNTC_TEMPLATE_ALTERED"),  # a "Ghi chú" column added to the header
    "value_text": (QUARANTINED, "QLKNTC_VALUE_NOT_NUMBER"),
    "value_negative": (QUARANTINED, "QLKNTC_VALUE_NEGATIVE"),
    "value_fractional": (QUARANTINED, "QLKNTC_VALUE_FRACTIONAL"),
    "value_missing": (QUARANTINED, "QLKNTC_VALUE_MISSING"),
    "check_8_gt_6": (QUARANTINED, "QLKNTC_FORM_CHECK"),
    "duplicate_delivery": (SKIPPED, ""),                         # the same bytes again, another folder
    "correction": (SUPERSEDED, ""),                              # a typo, then the corrected workbook
    "name_case": (COUNTED, ""),                                  # qlkntc_….XLSX: read all the same
    "protection_check": (QUARANTINED, "QLKNTC_PROTECTION_CHECK"),  # (1) ≠ (2) + (3) on the protection sheet
    "protection_partial": (QUARANTINED, "QLKNTC_PROTECTION_MISSING"),  # one protection cell left empty
}
DEFECT_PERIOD = {"period_mismatch": "2025-Y"}
DEFAULT_DEFECT_PERIOD = "2025-Q4"

# Per quarter (15th to 14th): Poisson rates and ranges, by level. Communes issue a few
# plans and directives and hold the odd legal-education session; responsibility
# inspections are rare at commune level (no inspection body since the 2025 reform) and
# the city's inspectorate carries most of them.
RATES = {
    "xa": dict(docs=0.5, amended=0.1, repealed=0.05, classes=0.7, people=(15, 80), inspections=0.06,
               units=(1, 2)),
    "tinh": dict(docs=5.0, amended=1.5, repealed=0.6, classes=4.0, people=(40, 250), inspections=3.0,
                 units=(2, 8)),
}
OLD_TEMPLATE_SHARE = 0.10      # 2025 communes that kept the first template (no protection sheet)
# Protection of denouncers, per quarter: Poisson rate of denouncers newly protected, by
# level; each brings Poisson(RELATIVES) relatives under protection too; protection lasts
# PROTECTION_DAYS; each person gets the job measure (denouncers / relatives) and the
# life-health measure with these chances — both, one, or neither (secrecy only).
PROTECTION_RATES = {"xa": 0.04, "tinh": 0.6}
RELATIVES = 0.4
PROTECTION_DAYS = (30, 240)
JOB_CHANCE = (0.5, 0.2)
LIFE_CHANCE = 0.5
PROTECTION_NAMES = ("protected_persons", "protected_denouncers", "protected_relatives", "protected_job",
                    "protected_life")
VALUE_NAMES = ("docs_issued", "docs_amended", "docs_repealed", "training_classes", "training_participants",
               "inspections", "inspected_units", "inspections_concluded", "rec_admin_orgs", "rec_admin_persons",
               "rec_referred_orgs", "rec_referred_persons", "conclusions_to_implement", "handled_admin_orgs",
               "handled_admin_persons", "prosecuted_cases", "prosecuted_persons")

TRUTH_SCHEMA = f"""
CREATE TABLE gt_qlkntc (         -- biểu 06/QLKNTC: the rows a correct pipeline publishes in fact_qlkntc
  unit_code TEXT NOT NULL, unit_key TEXT NOT NULL, period_key TEXT NOT NULL,
  window_start TEXT NOT NULL, window_end TEXT NOT NULL,
  {", ".join(f"{n} INTEGER NOT NULL" for n in VALUE_NAMES)},
  file_name TEXT NOT NULL        -- the workbook in force (the latest accepted delivery)
);
CREATE TABLE gt_qlkntc_protection (  -- fact_qlkntc's protection columns of each gt_qlkntc row
  unit_code TEXT NOT NULL, unit_key TEXT NOT NULL, period_key TEXT NOT NULL,
  template_version TEXT NOT NULL,  -- QLKNTC-TT06-2025-v1 (no protection sheet) or -v2
  {", ".join(f"{n} INTEGER" for n in PROTECTION_NAMES)}   -- NULL: not reported (old template)
);
CREATE TABLE gt_qlkntc_submission (  -- one row per workbook a unit owed by the end of the run
  unit_code TEXT NOT NULL, unit_key TEXT NOT NULL, period_key TEXT NOT NULL, file_name TEXT NOT NULL,
  delivered_at TEXT,             -- ISO 8601 +07:00 of the workbook in force; NULL when none
  late INTEGER,                  -- 1/0 (after the 17th of the period's last month); NULL when missing
  missing INTEGER NOT NULL,      -- 1: nothing delivered
  published INTEGER NOT NULL     -- 1: a gt_qlkntc row (0: missing, or its figures quarantined)
);
"""


# --------------------------------------------------------------------------- the model
@dataclass
class Inspection:
    start: dt.date
    units: int
    concluded: dt.date
    recs: tuple[int, int, int, int]          # admin orgs, admin persons, referred orgs, referred persons
    implement: bool
    done: dt.date | None
    results: tuple[int, int, int, int]       # handled orgs, handled persons, prosecuted cases, persons


@dataclass
class Activity:
    docs: list = field(default_factory=list)           # (date, 0 issued | 1 amended | 2 repealed)
    classes: list = field(default_factory=list)        # (date, participants)
    inspections: list = field(default_factory=list)


def _quarters(last: dt.date):
    for year in range(MODEL_FROM_YEAR, last.year + 2):
        for q in ("Q1", "Q2", "Q3", "Q4"):
            p = periods.period(q, year)
            if p.start <= last:
                yield p


def _day(r: Rng, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=r.randint(0, (hi - lo).days))


@functools.lru_cache(maxsize=None)
def activity(seed: int, unit_key: str, last: dt.date) -> Activity:
    """The unit's activity over the quarters up to the one holding `last`; one stream per
    unit and quarter, so a later `last` adds quarters without changing earlier ones (and
    the figures of a window, which look at nothing after its end, do not depend on it)."""
    unit = all_units()[unit_key]
    k = RATES[unit.level]
    act = Activity()
    for p in _quarters(last):
        r = Rng(seed, unit_key, "qlkntc", p.key)
        for kind, lam in enumerate((k["docs"], k["amended"], k["repealed"])):
            act.docs.extend((_day(r, p.start, p.end), kind) for _ in range(r.poisson(lam)))
        for _ in range(r.poisson(k["classes"])):
            act.classes.append((_day(r, p.start, p.end), r.randint(*k["people"])))
        for _ in range(r.poisson(k["inspections"])):
            start = _day(r, p.start, p.end)
            concluded = start + dt.timedelta(days=r.randint(30, 150))
            recs = (r.poisson(0.6), r.poisson(1.5), int(r.chance(0.05)), r.poisson(0.15))
            implement = any(recs) or r.chance(0.6)
            done = concluded + dt.timedelta(days=r.randint(45, 300)) if implement else None
            prosecuted = (int(recs[3] > 0 and r.chance(0.5)), 0)
            prosecuted = (prosecuted[0], r.randint(1, recs[3]) if prosecuted[0] else 0)
            act.inspections.append(Inspection(start, r.randint(*k["units"]), concluded, recs, implement, done,
                                              (recs[0], recs[1], *prosecuted)))
    return act


def figures(act: Activity, start: dt.date, end: dt.date) -> tuple[int, ...]:
    """MS 1–17 of a window, as the guide of the form defines them."""
    inside = lambda d: d is not None and start <= d <= end
    docs = [sum(1 for d, k in act.docs if k == kind and inside(d)) for kind in (0, 1, 2)]
    classes = [n for d, n in act.classes if inside(d)]
    # (6) carried over unconcluded + started in the window; (8) concluded in the window.
    running = [i for i in act.inspections if i.start <= end and i.concluded >= start]
    concluded = [i for i in act.inspections if inside(i.concluded)]
    # (13) conclusions to implement: issued by the end, not fully implemented before the start.
    to_implement = [i for i in act.inspections if i.implement and i.concluded <= end
                    and (i.done is None or i.done >= start)]
    done = [i for i in to_implement if inside(i.done)]
    return (*docs, len(classes), sum(classes), len(running), sum(i.units for i in running), len(concluded),
            *(sum(i.recs[j] for i in concluded) for j in range(4)), len(to_implement),
            *(sum(i.results[j] for i in done) for j in range(4)))


@dataclass(frozen=True)
class Protected:
    """One person under protection (counts only: no names, never any personal data)."""
    start: dt.date
    end: dt.date
    denouncer: bool
    job: bool
    life: bool


@functools.lru_cache(maxsize=None)
def protection_activity(seed: int, unit_key: str, last: dt.date) -> tuple[Protected, ...]:
    """The people the unit protects, quarter by quarter up to the one holding `last`;
    a stream of its own per unit and quarter ("qlkntc-protection"), apart from
    :func:`activity`'s, so adding it changed none of the 17 figures."""
    unit = all_units()[unit_key]
    out = []
    for p in _quarters(last):
        r = Rng(seed, unit_key, "qlkntc-protection", p.key)
        for _ in range(r.poisson(PROTECTION_RATES[unit.level])):
            start = _day(r, p.start, p.end)
            end = start + dt.timedelta(days=r.randint(*PROTECTION_DAYS))
            for i in range(1 + r.poisson(RELATIVES)):
                out.append(Protected(start, end, i == 0, r.chance(JOB_CHANCE[i > 0]), r.chance(LIFE_CHANCE)))
    return tuple(out)


def protection_figures(people, start: dt.date, end: dt.date) -> tuple[int, int, int, int, int]:
    """Items (1)–(5) of the protection sheet for a window: the people under protection
    at some time in it (each counted once, so a year is not the sum of its quarters)."""
    inside = [x for x in people if x.start <= end and x.end >= start]
    denouncers = sum(x.denouncer for x in inside)
    return (len(inside), denouncers, len(inside) - denouncers, sum(x.job for x in inside),
            sum(x.life for x in inside))


# --------------------------------------------------------------------------- plans
def reporting_units() -> list[Unit]:
    """Every unit that fills in the form after the reform: the city and the 2025 communes."""
    return [all_units()[province_key()], *units_of("xa", "2025")]


@per_province
def defect_plan(seed: int) -> dict[tuple[str, str], str]:
    """{(unit key, period key): defect kind}: each kind on a different 2025 commune,
    ranked by a seeded hash; ``unit_unknown`` on a commune with a dissolved predecessor
    (a legacy commune whose code no 2025 commune reuses)."""
    communes = units_of("xa", "2025")
    reused = {u.code for u in communes}
    preds = new_commune_predecessors()
    ranked = sorted(communes, key=lambda u: stable_int(seed, "qlkntc-defects", u.key))
    plan: dict[tuple[str, str], str] = {}
    used: set[str] = set()
    with_dissolved = [u for u in ranked if any(c not in reused for c in preds.get(u.code, ()))]
    if with_dissolved:
        plan[(with_dissolved[0].key, DEFAULT_DEFECT_PERIOD)] = "unit_unknown"
        used.add(with_dissolved[0].key)
    rest = iter(u for u in ranked if u.key not in used)
    for kind in DEFECTS:
        if kind == "unit_unknown":
            continue
        u = next(rest)
        plan[(u.key, DEFECT_PERIOD.get(kind, DEFAULT_DEFECT_PERIOD))] = kind
    return plan


def old_template(seed: int, unit_key: str) -> bool:
    """Whether the unit kept the first template (version 1, no protection sheet): a
    seeded hash over ``OLD_TEMPLATE_SHARE`` of the 2025 communes; never the city, never
    a commune with a planned defect (whatever the period)."""
    if unit_key == province_key() or unit_key in {k for k, _ in defect_plan(seed)}:
        return False
    return stable_int(seed, "qlkntc-old-template", unit_key) % 10_000 < OLD_TEMPLATE_SHARE * 10_000


def missing(seed: int, unit_key: str, period_key: str) -> bool:
    if (unit_key, period_key) in defect_plan(seed):
        return False
    return stable_int(seed, "qlkntc-missing", unit_key, period_key) % 10_000 < MISSING_SHARE * 10_000


def delivery(seed: int, unit_key: str, period, late_share: float) -> tuple[dt.datetime, bool]:
    """When the unit delivers its workbook (aware, UTC+7): 1–3 days after the window
    (by the 17th), or 4–25 days after it when late."""
    r = Rng(seed, unit_key, "qlkntc-delivery", period.key)
    late = r.chance(late_share)
    days = r.randint(4, 25) if late else r.randint(1, 3)
    t = dt.datetime.combine(period.end + dt.timedelta(days=days), dt.time(7, 30)) + \
        dt.timedelta(seconds=r.randint(0, 34200))
    return t.replace(tzinfo=TZ), late


def applies_from() -> dt.date:
    """The first window end of biểu 06/QLKNTC (``sources.qlkntc_workbooks.applies_from_window_end``)."""
    return settings.get().sources.qlkntc_workbooks.applies_from_window_end


def periods_due(start: dt.date, end: dt.date) -> list:
    """The periodic windows with the form that ended within [start, end), in order."""
    out = []
    for year in range(applies_from().year, end.year + 1):
        for kind in KINDS:
            p = periods.period(kind, year)
            if p.end >= applies_from() and start <= p.end < end:
                out.append(p)
    return sorted(out, key=lambda p: (p.end, KINDS.index(p.kind)))


# --------------------------------------------------------------------------- writing
@dataclass
class Version:
    """One file written for a unit and period, as the pipeline will see it."""
    path: Path
    at: dt.datetime
    lands: bool                # False: rejected at landing, or a byte copy (adds nothing)
    valid: bool                # its figures pass every rule
    values: tuple | None
    protection: tuple | None = None   # items (1)–(5) as published; None: not reported


class _Writer:
    def __init__(self, out: Path, seed: int, end: dt.date, with_defects: bool):
        self.T, self.out, self.seed, self.end, self.with_defects = T, out, seed, end, with_defects
        self._bases: dict[str, object] = {}
        self.defects: list[tuple] = []
        self.truth: list[tuple] = []
        self.protection_truth: list[tuple] = []
        self.submissions: list[tuple] = []
        self.files = 0

    def base(self, period, protection: bool = True):
        key = (period.key, protection)
        if key not in self._bases:
            self._bases[key] = self.T.build_base(period, applies_from(), protection=protection)
        return self._bases[key]

    def workbook(self, unit: Unit, period, values, template_unit: Unit | None = None, template_period=None,
                 protection=None):
        """`protection`: items (1)–(5) typed on the protection sheet; None: the unit
        kept the first template (no such sheet)."""
        T = self.T
        tu = template_unit or unit
        tp = template_period or period
        wb = T.set_unit(self.base(tp, protection is not None), T.TemplateUnit(tu.code, tu.name, tu.level), tp)
        ws = wb[T.DATA_SHEET]
        for ms, v in enumerate(values, start=1):
            ws[T.data_cell(ms)] = v
        for item, v in enumerate(protection or (), start=1):
            wb[T.PROTECTION_SHEET][T.protection_cell(item)] = v
        return wb

    def save(self, wb, rel: str, at: dt.datetime) -> Path:
        path = self.out / rel
        self.T.save(wb, path, at.replace(tzinfo=None))
        os.utime(path, (at.timestamp(), at.timestamp()))
        self.files += 1
        return path

    def restore(self, period) -> None:
        """Undo a defect's edits of the shared base workbooks of `period`."""
        for protection in (True, False):
            self._bases.pop((period.key, protection), None)

    def rel(self, period, name: str, sub: str = "") -> str:
        return "/".join(x for x in ("commune_inbox", FOLDER, period.key, sub, name) if x)

    def log(self, kind: str, rel: str, unit: Unit, period, detail: str, *, row: bool = False) -> None:
        outcome, rule = DEFECTS[kind]
        self.defects.append(defect(kind, SOURCE_KIND, rel.rsplit("/", 1)[-1], rel, outcome, rule,
                                   sheet=self.T.DATA_SHEET if row else "", row=self.T.DATA_ROW if row else None,
                                   record_id=f"{unit.code}:{period.key}", detail=detail))

    # -- one unit and period
    def unit_period(self, unit: Unit, period, act: Activity) -> None:
        T = self.T
        name = T.file_name(unit.code, period.key)
        true = figures(act, period.start, period.end)
        kind = defect_plan(self.seed).get((unit.key, period.key)) if self.with_defects else None
        at, _ = delivery(self.seed, unit.key, period, LATE_SHARE if self.with_defects else 0.0)
        after = at + dt.timedelta(days=Rng(self.seed, unit.key, "qlkntc-again", period.key).randint(1, 3))
        limit = dt.datetime.combine(self.end, dt.time(23, 59, 59), tzinfo=TZ)
        if at > limit:
            return None                       # not delivered yet at the end of the run: not owed
        if self.with_defects and missing(self.seed, unit.key, period.key):
            return self.record(unit, period, name, [])
        if kind is not None and after > limit:
            kind = None                       # the defect needs its second delivery: deliver plainly
        versions: list[Version] = []
        prot = None if old_template(self.seed, unit.key) else \
            protection_figures(protection_activity(self.seed, unit.key, self.end), period.start, period.end)
        good = lambda: self.workbook(unit, period, true, protection=prot)
        if kind in ("unit_mismatch", "unit_unknown", "period_mismatch", "dates_altered", "sheet_missing",
                    "template_altered"):
            wb, detail, rel = None, "", self.rel(period, name)
            if kind == "unit_mismatch":
                other = _neighbour(unit)
                wb = self.workbook(unit, period, true, template_unit=other, protection=prot)
                detail = f"figures of {unit.code} in the template of {other.code}"
            elif kind == "unit_unknown":
                pred = _dissolved_predecessor(unit)
                wb = self.workbook(unit, period, true, template_unit=pred, protection=prot)
                rel = self.rel(period, T.file_name(pred.code, period.key))
                detail = f"template of {pred.code} ({pred.name}, dissolved 30/06/2025) used by {unit.code}"
            elif kind == "period_mismatch":
                q4 = periods.period("Q4", period.year)
                wb = self.workbook(unit, period, true, template_period=q4, protection=prot)
                detail = f"file named {period.key}, template of {q4.key}"
            elif kind == "dates_altered":
                wb = good()
                ws = wb[T.DATA_SHEET]
                moved = period.start + dt.timedelta(days=16)
                ws[T.WINDOW_START_CELL] = moved
                ws.cell(T.DATE_ROW, 1, T.date_line(moved, period.end))
                ws.protection.sheet = False
                detail = f"Từ ngày changed to {moved:%d/%m/%Y}"
            elif kind == "sheet_missing":
                wb = good()
                wb[T.DATA_SHEET].title = "Biểu 06"
                detail = "data sheet renamed 'Biểu 06'"
            else:
                wb = good()
                wb[T.DATA_SHEET].cell(T.HEADER_TOP, T.LAST_COL + 1, "Ghi chú")
                detail = "a 'Ghi chú' column added after column 17"
            self.save(wb, rel, at)
            self.restore(period)
            self.log(kind, rel, unit, period, detail)
            versions.append(Version(self.out / rel, at, False, False, None))
            rel2 = self.rel(period, name, "" if kind == "unit_unknown" else "gui-lai")
            self.save(good(), rel2, after)
            versions.append(Version(self.out / rel2, after, True, True, true, prot))
        elif kind in ("value_text", "value_negative", "value_fractional", "value_missing", "check_8_gt_6"):
            values = list(true)
            if kind == "value_text":
                values[4], detail = "khoảng 40", "Cột (5): text instead of a number"
            elif kind == "value_negative":
                values[2], detail = -1, "Cột (3) = -1"
            elif kind == "value_fractional":
                values[3], detail = 1.5, "Cột (4) = 1,5"
            elif kind == "value_missing":
                values[12], detail = None, "Cột (13) left empty"
            else:
                values[5], values[6], values[7] = 1, max(values[6], 1), 2
                detail = "Cột (8) = 2 > Cột (6) = 1"
            rel = self.rel(period, name)
            self.save(self.workbook(unit, period, values, protection=prot), rel, at)
            self.log(kind, rel, unit, period, detail, row=True)
            versions.append(Version(self.out / rel, at, True, False, None))
        elif kind in ("protection_check", "protection_partial"):
            bad = list(prot)
            if kind == "protection_check":
                bad[0] = bad[1] + bad[2] + 1
                detail = f"protection (1) = {bad[0]}, (2) + (3) = {bad[1]} + {bad[2]}"
            else:
                bad[2] = None
                detail = "protection (3) left empty, the other four filled"
            rel = self.rel(period, name)
            self.save(self.workbook(unit, period, true, protection=tuple(bad)), rel, at)
            self.log(kind, rel, unit, period, detail)
            versions.append(Version(self.out / rel, at, True, False, None))
        elif kind == "duplicate_delivery":
            rel = self.rel(period, name)
            path = self.save(good(), rel, at)
            rel2 = self.rel(period, name, "ban-sao")
            (self.out / rel2).parent.mkdir(parents=True, exist_ok=True)
            (self.out / rel2).write_bytes(path.read_bytes())
            os.utime(self.out / rel2, (after.timestamp(), after.timestamp()))
            self.files += 1
            self.log(kind, rel2, unit, period, f"byte copy of {rel}, delivered again")
            versions += [Version(path, at, True, True, true, prot), Version(self.out / rel2, after, False, False, None)]
        elif kind == "correction":
            wrong = list(true)
            wrong[4] = true[4] * 10 + 5
            rel = self.rel(period, name)
            self.save(self.workbook(unit, period, wrong, protection=prot), rel, at)
            self.log(kind, rel, unit, period, f"Cột (5) = {wrong[4]}, corrected to {true[4]} 1–3 days later")
            rel2 = self.rel(period, name, "ban-sua")
            self.save(good(), rel2, after)
            versions += [Version(self.out / rel, at, True, True, tuple(wrong), prot),
                         Version(self.out / rel2, after, True, True, true, prot)]
        elif kind == "name_case":
            rel = self.rel(period, f"qlkntc_{unit.code}_{period.key}.XLSX")
            self.save(good(), rel, at)
            self.log(kind, rel, unit, period, "file name in lower case, extension .XLSX")
            versions.append(Version(self.out / rel, at, True, True, true, prot))
        else:
            rel = self.rel(period, name)
            self.save(good(), rel, at)
            versions.append(Version(self.out / rel, at, True, True, true, prot))
        self.record(unit, period, name, versions)
        return None

    def record(self, unit: Unit, period, name: str, versions: list[Version]) -> None:
        """The truth of one unit and period, from what was written: the latest landed
        version is in force; it is published when its figures pass every rule."""
        landed = [v for v in versions if v.lands]
        current = max(landed, key=lambda v: v.at) if landed else None
        published = current is not None and current.valid
        if published:
            self.truth.append((unit.code, unit.key, period.key, period.start.isoformat(), period.end.isoformat(),
                               *current.values, current.path.name))
            version = self.T.TEMPLATE_VERSION if current.protection is not None else self.T.TEMPLATE_VERSION_V1
            self.protection_truth.append((unit.code, unit.key, period.key, version,
                                          *(current.protection or (None,) * len(PROTECTION_NAMES))))
        deadline = dt.date(period.end.year, period.end.month, DEADLINE_DAY)
        self.submissions.append((unit.code, unit.key, period.key, name,
                                 current.at.isoformat() if current else None,
                                 None if current is None else int(current.at.date() > deadline),
                                 int(not versions), int(published)))


def _neighbour(unit: Unit) -> Unit:
    communes = units_of("xa", "2025")
    i = next(i for i, u in enumerate(communes) if u.key == unit.key)
    return communes[(i + 1) % len(communes)]


def _dissolved_predecessor(unit: Unit) -> Unit:
    reused = {u.code for u in units_of("xa", "2025")}
    code = next(c for c in new_commune_predecessors()[unit.code] if c not in reused)
    return all_units()[f"legacy:{code}"]


def write(out: Path, seed: int, units: list[Unit], start: dt.date, end: dt.date, with_defects: bool = True):
    """Write the workbooks of `units` (the city and 2025 communes among them) for every
    period due by `end`; returns the writer (defects, truth, submissions, files)."""
    w = _Writer(Path(out), seed, end, with_defects)
    wanted = {u.key for u in units}
    chosen = [u for u in reporting_units() if u.key in wanted]
    for period in periods_due(start, end):
        for unit in chosen:
            if unit.valid_from <= period.end and (unit.valid_to is None or unit.valid_to >= period.end):
                w.unit_period(unit, period, activity(seed, unit.key, end))
    return w


def deliver(out: Path, seed: int, sel, start: dt.date, end: dt.date, with_defects: bool, *,
            found: list, manifest: dict) -> None:
    """The generator's one call (after the ground truth is written, before defects.csv
    and the manifest): write the workbooks of the selected city and 2025 communes, add
    their truth and defects to ground_truth.sqlite, `found` (defects.csv) and `manifest`."""
    units = ([all_units()[province_key()]] if sel.city else []) + [u for u in sel.communes if u.scheme == "2025"]
    w = write(out, seed, units, start, end, with_defects)
    con = sqlite3.connect(Path(out) / "ground_truth.sqlite")
    try:
        con.executescript(TRUTH_SCHEMA)
        con.executemany(f"INSERT INTO gt_qlkntc VALUES ({','.join('?' * (6 + len(VALUE_NAMES)))})", w.truth)
        con.executemany(f"INSERT INTO gt_qlkntc_protection VALUES ({','.join('?' * (4 + len(PROTECTION_NAMES)))})",
                        w.protection_truth)
        con.executemany("INSERT INTO gt_qlkntc_submission VALUES (?, ?, ?, ?, ?, ?, ?, ?)", w.submissions)
        con.executemany(f"INSERT INTO gt_defect VALUES ({','.join('?' * 10)})", w.defects)
        con.commit()
    finally:
        con.close()
    found.extend(w.defects)
    found.sort(key=D.sort_key)
    subs = w.submissions
    manifest["sources"]["qlkntc_workbooks"] = {
        "files": w.files, "units": len({s[1] for s in subs}), "workbooks_owed": len(subs),
        "missing": sum(s[6] for s in subs), "late": sum(1 for s in subs if s[5]),
        "published": sum(s[7] for s in subs)}
    manifest["ground_truth"]["gt_qlkntc"] = len(w.truth)
    manifest["ground_truth"]["gt_qlkntc_protection"] = len(w.protection_truth)
    manifest["sources"]["qlkntc_workbooks"]["old_template"] = sum(1 for t in w.protection_truth if t[4] is None)
    d = manifest.get("defects")
    if d is not None and w.defects:
        by_kind = collections.Counter(f"{x[1]}/{x[0]}" for x in w.defects)
        by_outcome = collections.Counter(x[7] for x in w.defects)
        d["by_source_and_kind"] = dict(sorted({**d["by_source_and_kind"], **by_kind}.items()))
        d["by_outcome"] = dict(sorted((collections.Counter(d["by_outcome"]) + by_outcome).items()))
