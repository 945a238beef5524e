"""Vượt cấp (skipping levels): citizens who take a matter still open at their commune to
the district or the city (docs/simulated-sources.md, "Vượt cấp").

The plan is decided here, once per seed, from the *whole* unit list (never from the
units a run selects, nor from ``--end``), so the commune and the higher level, simulated
in different worker processes, agree on it without seeing each other:

- every district (to 30/06/2025) and the city draw, per month, a few planted visits
  (Poisson: 0.6 a month for a district, 2.5 for the city — about 1 % of their
  receptions); each names a commune of that district (of the city: a legacy commune
  before 01/07/2025, a 2025 commune after), a citizen, a kind (KN or KNPA: a tố cáo
  record carries no pseudonym, so a denouncer cannot be recognised anyway) and field;
- at the commune (``UnitSim._planted_case``) the citizen comes on ``opened`` (20–120
  days before the visit), lodges a petition the commune accepts 1–10 days later; the
  case is resolved 5–150 days after the visit, or not at all (35 %);
- at the higher level (``UnitSim._skip_level``) the first reception on or after the
  visit day that opens a new case becomes this citizen's, with the same kind and
  field; the higher level is not competent for it. A visit whose month holds no such
  reception, or whose commune case was resolved first, does not happen.

Commune choice: 60 % among the first three communes (by code) of a district — for the
city after the reform, among the 2025 communes succeeding such a commune — so a
``--communes-per-district 3`` subset shows planted cases; otherwise any commune.
Planted citizens get CCCD numbers from a slot of their own (citizens.PLANT_SLOT), so
they never coincide with a citizen drawn by a unit.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from simulators import truth
from simulators.citizens import Citizen, CitizenFactory, plant_slot
from simulators.core import (
    FIRST_2025,
    LAST_LEGACY,
    MODEL_START,
    Rng,
    Unit,
    Weighted,
    all_units,
    at_office_hours,
    is_working_day,
    months,
    new_commune_predecessors,
    per_province,
    populated_districts,
    province_key,
    units_of,
    working_days,
)
from simulators.vocabulary import TEMPLATE_BY_KIND

PLAN_END = dt.date(2027, 12, 31)        # the calendar of core.HOLIDAYS ends in 2027
RATE = {"huyen": 0.6, "tinh": 2.5}      # planted visits per month
FIRST_COMMUNES = 3
P_FIRST = 0.6
KINDS = Weighted([("KN", 0.6), ("KNPA", 0.4)])
P_STILL_OPEN = 0.35                     # commune case not resolved at all


@dataclass(frozen=True)
class Plant:
    pid: str                 # 'skip:<higher unit key>:<n>'
    higher_key: str          # the district or the city the citizen goes to
    commune_key: str         # the commune holding the open case
    kind: str
    field: str
    summary: str
    citizen: Citizen
    opened: dt.date          # first reception (and petition) at the commune
    accepted: dt.datetime    # the commune accepts the petition (thụ lý)
    resolved: dt.datetime | None   # the commune resolves the case (None: never)
    visit: dt.date           # earliest day of the visit to the higher level


@dataclass(frozen=True)
class SkipPlan:
    by_higher: dict          # higher unit key -> (Plant, ...) by visit day
    by_commune: dict         # commune key -> (Plant, ...) by opening day
    by_pid: dict             # pid -> Plant


def _legacy_communes(district_code: str) -> list[Unit]:
    return [u for u in units_of("xa", "legacy") if u.parent_code == district_code]


@per_province
def _communes_2025() -> tuple[list[Unit], list[Unit]]:
    """(2025 communes succeeding one of the first three legacy communes of a district,
    all 2025 communes)."""
    first = {u.code for d in units_of("huyen", "legacy") for u in _legacy_communes(d.code)[:FIRST_COMMUNES]}
    preds = new_commune_predecessors()
    every = units_of("xa", "2025")
    return [u for u in every if first & set(preds.get(u.code, ()))], every


def _commune(rng: Rng, higher: Unit, visit: dt.date) -> Unit:
    if higher.level == "tinh" and visit >= FIRST_2025:
        first, every = _communes_2025()
    else:
        district = higher if higher.level == "huyen" else rng.pick(populated_districts())
        every = _legacy_communes(district.code)
        first = every[:FIRST_COMMUNES]
    return rng.pick(first) if first and rng.chance(P_FIRST) else rng.pick(every)


@per_province
def skip_plan(seed: int) -> SkipPlan:
    """Every planted vượt cấp visit of the seed (module docstring)."""
    units = all_units()
    serials: dict = {}                     # one CCCD serial space for all planted citizens
    by_higher: dict[str, list[Plant]] = {}
    for higher in populated_districts() + [units[province_key()]]:
        last = min(PLAN_END, LAST_LEGACY if higher.level == "huyen" else PLAN_END)
        plants = by_higher.setdefault(higher.key, [])
        for y, m in months(MODEL_START, last):
            rng = Rng(seed, higher.key, "skip-level", y, m)
            days = working_days(y, m)
            for _ in range(rng.poisson(RATE[higher.level]) if days else 0):
                visit = rng.pick(days)
                commune = _commune(rng, higher, visit)
                kind = KINDS.draw(rng)
                tmpl = TEMPLATE_BY_KIND[kind].draw(rng)
                lag, accept_lag, open_for = rng.randint(20, 120), rng.randint(1, 10), rng.randint(5, 150)
                still_open = rng.chance(P_STILL_OPEN)
                opened = visit - dt.timedelta(days=lag)
                while not is_working_day(opened):
                    opened -= dt.timedelta(days=1)
                if opened < max(MODEL_START, commune.valid_from):
                    continue                   # the commune did not exist (or was not modelled) yet
                citizen = CitizenFactory(commune, slot=plant_slot(), serials=serials).new(rng, opened)
                accepted = at_office_hours(opened + dt.timedelta(days=accept_lag), rng)
                resolved = None if still_open else at_office_hours(visit + dt.timedelta(days=open_for), rng)
                plants.append(Plant(f"skip:{higher.key}:{len(plants) + 1}", higher.key, commune.key, kind,
                                    tmpl[1], tmpl[2], citizen, opened, accepted, resolved, visit))
    by_commune: dict[str, list[Plant]] = {}
    for plants in by_higher.values():
        plants.sort(key=lambda p: (p.visit, p.pid))
        for p in plants:
            by_commune.setdefault(p.commune_key, []).append(p)
    for plants in by_commune.values():
        plants.sort(key=lambda p: (p.opened, p.pid))
    return SkipPlan({k: tuple(v) for k, v in by_higher.items()}, {k: tuple(v) for k, v in by_commune.items()},
                    {p.pid: p for v in by_higher.values() for p in v})



def higher_row(plant: Plant, record_type: str, gt_row: tuple, field: str) -> tuple:
    """A counted record of a planted citizen at the higher level, from its ground-truth
    row (truth.RECEPTION_COLUMNS or PETITION_COLUMNS): (pid, source_kind, unit_code,
    unit_key, record_type, record_id, received_date, kind, field, case_key)."""
    cols = truth.RECEPTION_COLUMNS if record_type == "reception" else truth.PETITION_COLUMNS
    r = dict(zip(cols, gt_row))
    return (plant.pid, r["source_kind"], r["unit_code"], r["unit_key"], record_type, r["record_id"],
            r["received_date"], r["kind"], field, r["case_key"])


def lower_row(plant: Plant, unit: Unit, case_key: str, resolved: dt.date | None, record_id: str) -> tuple:
    """The commune side of a planted case as written: (pid, unit_code, unit_key,
    case_key, opened_date, resolved_date as of the end of the run, reception record id)."""
    return (plant.pid, unit.code, unit.key, case_key, plant.opened.isoformat(),
            resolved.isoformat() if resolved else None, record_id)


def skipped_level_rows(higher: list[tuple], lower: list[tuple]) -> list[tuple]:
    """gt_skipped_level rows: every counted higher-level record of a planted citizen
    dated while the citizen's commune case was open — opened on or before the day,
    and not resolved (as of the end of the run) on or before it — and whose commune
    case is in the sources (the commune was written and its book delivered)."""
    low = {r[0]: r for r in lower}
    out = []
    for h in higher:
        lo = low.get(h[0])
        if lo is None:
            continue
        day = h[6]
        if lo[4] <= day and (lo[5] is None or day < lo[5]):
            out.append((*h[1:], "commune_register", *lo[1:]))
    return sorted(out, key=lambda r: (r[0], r[1], r[5], r[3], r[4]))
