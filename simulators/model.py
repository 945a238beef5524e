"""The generator's internal model: what really happened at a unit, then how its
source system recorded it.

For each unit, month by month (one seeded stream per unit, month and purpose):

1. a *skeleton* of receptions (date, mode, receiver, sitting, people) and petitions
   (date, channel) is drawn from the unit's rates;
2. the skeleton is walked in date order: each reception gets a citizen and a case (a new
   case, or an earlier case of the same unit revisited by the same citizen), each
   petition likewise; a share of receptions produce a petition "qua tiếp công dân";
3. for database-backed sources (district, city) each record gets a *life cycle*:
   timestamped versions (draft → official, corrected values, deletion), and extra noise
   records are added (drafts never published, records deleted, staff double entries).

Then, from streams of their own (so the draws above do not move): each case gets a
round (lần giải quyết) and, if competent KN/TC, a decision; each petition a processing
date; each resolved decision that orders something its execution (``draw_execution``;
``UnitSim._annotate``). Vượt cấp (simulators.skip_level): planted commune cases
are walked in with the month's items, and at a district or the city a planted visit
takes over the identity of a reception that opened a new case.

The official truth is step 2. Versions never change it: a correction's earlier version
carries different (wrong) values and the last version the true ones. Sources and the
ground truth are then read "as of" the end of the run (``state_at``).

Uniqueness that keeps de-duplication by content unambiguous (contract §1, §3): at a
unit, a citizen is received at most once a day, and a case at most once a day — except
for *co-denouncers* (``_co_denouncer``): a share of tố cáo receptions that open a case
are followed the same day by a second citizen denouncing the same case, each lodging a
petition if the first did. Only the case-scoped pseudonym of a denouncer (ADR 0005)
tells the two records apart. The same holds for petitions. Co-denouncers come from a
stream of their own, and at the city only after the calibration window, so the
published figures stay reproduced.
"""
from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass, field, replace

import numpy as np

from simulators.citizens import Citizen, CitizenFactory
from simulators.core import (
    CAL_END,
    CAL_START,
    DISTANCING_FACTOR,
    Rng,
    Unit,
    Weighted,
    at_office_hours,
    end_of_day,
    in_distancing,
    months,
    next_working_day,
    nth_weekday,
    working_days,
)
from simulators.skip_level import skip_plan
from simulators.vocabulary import (
    CHANNELS,
    DELETED,
    DEPUTY,
    DRAFT,
    FIRST,
    GROUP_MIN,
    HEAD,
    KIND_SHARE,
    NOT_COMPETENT_HANDLING,
    OFFICIAL,
    ON_TIME,
    OUTCOMES,
    OUTCOMES_KINDS,
    P_CO_DENOUNCER,
    P_NOT_ACCEPTED,
    P_SANCTION_ORGS,
    PERIODIC,
    REGULAR,
    REPEAT,
    ROUNDS,
    STAFF,
    TEMPLATE_BY_KIND,
    UNSCHEDULED,
)


# --------------------------------------------------------------------------- records
@dataclass(slots=True, eq=False)
class Case:
    seq: int
    ref: str | None              # as written in the source; district ids are set at the end
    opened: dt.date
    kind: str
    field: str
    summary: str
    citizen: Citizen | None
    competent: bool
    accepted: dt.datetime | None     # in progress from (thụ lý)
    resolved: dt.datetime | None     # resolved at
    created: dt.datetime | None = None   # first time a record on it was entered
    receptions: int = 0              # official receptions so far (lần đầu / nhiều lần)
    db_id: int | None = None
    round: str | None = None         # lần giải quyết: lan_dau | lan_2 | ban_an (KN), lan_dau | tiep (TC)
    decision: "Decision | None" = None   # competent KN/TC cases: the decision, visible once resolved
    execution: "Execution | None" = None  # resolved cases whose decision orders something: its execution
    planted: object = None           # simulators.skip_level.Plant: a case of a vượt cấp citizen
    not_accepted: dt.datetime | None = None   # không thụ lý (then never accepted nor resolved)

    def status_at(self, cutoff: dt.datetime) -> tuple[str, dt.date | None]:
        if self.resolved is not None and self.resolved <= cutoff:
            return "da_giai_quyet", self.resolved.date()
        if self.accepted is not None and self.accepted <= cutoff:
            return "dang_giai_quyet", None
        return "chua_giai_quyet", None


Event = tuple  # (timestamp, status, overrides: dict of values differing from the truth)


@dataclass(slots=True, eq=False)
class Reception:
    seq: int
    date: dt.date
    mode: str
    receiver: str
    sitting: object              # district: sitting number; city: sitting id; commune: None
    people: int
    kind: str
    case: Case
    visit: str
    citizen: Citizen
    role: str = "truth"          # truth | draft | deleted | duplicate
    events: list = field(default_factory=list)
    rid: object = None           # id in the source system (set at the end)
    register: dict | None = None  # register-only columns (commune)
    dup_of: "Reception | None" = None
    co_denouncer: bool = False   # a second denouncer of the case, received the same day (_co_denouncer)

    def values(self, overrides: dict) -> dict:
        v = {"mode": self.mode, "receiver": self.receiver, "sitting": self.sitting,
             "people": self.people, "visit": self.visit, "kind": self.kind}
        v.update(overrides)
        return v


@dataclass(slots=True, eq=False)
class Petition:
    seq: int
    date: dt.date
    channel: str
    kind: str
    signers: int
    field: str
    case: Case
    citizen: Citizen | None
    reception: Reception | None
    eligible: bool
    competent: bool | None
    handling: str | None
    reply: dt.date | None
    role: str = "truth"
    events: list = field(default_factory=list)
    rid: object = None
    processed: dt.datetime | None = None   # ngày xử lý đơn (set by UnitSim._annotate)

    def moments(self) -> list[dt.datetime]:
        """When the petition's processing state changed: processed, and for an accepted
        petition its case's acceptance and resolution (database versions follow them)."""
        out = [self.processed] if self.processed is not None else []
        if self.handling == "thu_ly":
            out += [t for t in (self.case.accepted, self.case.resolved, self.case.not_accepted) if t is not None]
            if self.case.execution is not None:
                out += self.case.execution.moments()
        return sorted(out)

    def progress(self, cutoff: dt.datetime, kind: str | None = None) -> dict:
        """The petition's processing and resolution as known at `cutoff`, canonical
        values (docs/report-set.md §1): PROGRESS_FIELDS plus ``resolution``.

        Acceptance, resolution and the decision are the case's (so petitions and cases
        agree): a petition about a case accepted or resolved before it arrived carries
        those earlier dates. The decision (KN/TC only) shows once the case is resolved.
        ``kind``: the kind the record shows, when a version not yet corrected shows
        another (KN ↔ KNPA, never for an accepted petition): its round is then lần đầu."""
        out: dict = dict.fromkeys(PROGRESS_FIELDS)
        out["resolution"] = None
        if self.processed is not None and self.processed <= cutoff:
            out["processed_date"] = self.processed.date()
        if self.eligible:
            out["resolution_round"] = self.case.round if kind in (None, self.case.kind) else "lan_dau"
        if self.handling != "thu_ly":
            return out
        case = self.case
        out["resolution"] = "chua_giai_quyet"
        if case.not_accepted is not None and case.not_accepted <= cutoff:
            out["not_accepted_date"] = case.not_accepted.date()
        if case.accepted is not None and case.accepted <= cutoff:
            out["accepted_date"] = case.accepted.date()
            out["resolution"] = "dang_giai_quyet"
        if case.resolved is not None and case.resolved <= cutoff:
            out["resolved_date"] = case.resolved.date()
            out["resolution"] = "da_giai_quyet"
            if case.decision is not None:
                out.update(case.decision.values())
                if case.execution is not None:
                    out.update(case.execution.values(case.decision, cutoff))
        return out

    def reply_received_at(self, cutoff: dt.date) -> bool | None:
        """Văn bản phúc đáp: only meaningful for forwarded / urged petitions."""
        if self.handling not in ("chuyen_don", "don_doc"):
            return None
        return self.reply is not None and self.reply <= cutoff

    def values(self, overrides: dict) -> dict:
        v = {"channel": self.channel, "kind": self.kind, "signers": self.signers, "field": self.field,
             "reply_received": self.reply_received_at(dt.date.max)}
        v.update(overrides)
        return v


# Processing and decision fields of a petition (docs/report-set.md §1), in the order
# the ground truth stores them (simulators.truth).
DECISION_AMOUNTS = ("recover_money", "recover_land", "return_org_money", "return_org_land",
                    "return_person_money", "return_person_land")
DECISION_COUNTS = ("orgs_restored", "persons_restored", "sanction_people", "sanction_officials",
                   "prosecuted_cases", "prosecuted_people", "prosecuted_officials")
# Execution of the decision (02/KQGQ, 04/KQGQ): what was done of what it ordered, and
# when it was fully carried out. Each done field against the ordered field it is bounded by.
EXECUTION_AMOUNTS = ("collected_money", "collected_land", "returned_org_money", "returned_org_land",
                     "returned_person_money", "returned_person_land")
EXECUTION_COUNTS = ("sanctioned_people", "sanctioned_officials", "prosecuted_done_cases", "prosecuted_done_people",
                    "prosecuted_done_officials")
EXECUTION_ORDERED = dict(zip(EXECUTION_AMOUNTS + EXECUTION_COUNTS, DECISION_AMOUNTS + (
    "sanction_people", "sanction_officials", "prosecuted_cases", "prosecuted_people", "prosecuted_officials")))
EXECUTION_FIELDS = ("executed_date", *EXECUTION_AMOUNTS, *EXECUTION_COUNTS)
# TT 06/2025: không thụ lý, organisations recommended for / subjected to handling.
TT06_FIELDS = ("not_accepted_date", "sanction_orgs", "sanctioned_orgs")
PROGRESS_FIELDS = ("processed_date", "accepted_date", "resolved_date", "resolution_round", "outcome", "on_time",
                   *DECISION_AMOUNTS, *DECISION_COUNTS, *EXECUTION_FIELDS, *TT06_FIELDS)


@dataclass(frozen=True, slots=True)
class Decision:
    """The decision on a competent KN/TC case: the outcome, whether the legal time limit
    was kept, and what it ordered. Money in triệu đồng (one decimal), land in m² (one
    decimal), people and organisations as counts; 0 when nothing was ordered."""
    outcome: str
    on_time: bool
    recover_money: float = 0.0
    recover_land: float = 0.0
    return_org_money: float = 0.0
    return_org_land: float = 0.0
    return_person_money: float = 0.0
    return_person_land: float = 0.0
    orgs_restored: int = 0
    persons_restored: int = 0
    sanction_people: int = 0
    sanction_officials: int = 0
    prosecuted_cases: int = 0
    prosecuted_people: int = 0
    prosecuted_officials: int = 0
    sanction_orgs: int = 0           # TT 06/2025: organisations recommended for administrative handling

    def values(self) -> dict:
        return {f: getattr(self, f) for f in ("outcome", "on_time", *DECISION_AMOUNTS, *DECISION_COUNTS,
                                              "sanction_orgs")}


def orders_something(decision: "Decision") -> bool:
    """Whether a decision orders anything to carry out (money or land to recover or
    return, people to sanction or prosecute): only those have an execution."""
    return any(getattr(decision, f) for f in EXECUTION_ORDERED.values())


@dataclass(frozen=True, slots=True)
class Execution:
    """How a decision was carried out. ``done_at``: fully executed (everything ordered
    done); ``partial_at``: the moment the amounts in ``partial`` (done fields → value)
    were recorded, before full execution or without it. Before either, nothing is done."""
    done_at: dt.datetime | None = None
    partial_at: dt.datetime | None = None
    partial: tuple = ()            # ((done field, value), …)

    def moments(self) -> list[dt.datetime]:
        return [t for t in (self.partial_at, self.done_at) if t is not None]

    def values(self, decision: "Decision", cutoff: dt.datetime) -> dict:
        """EXECUTION_FIELDS as known at ``cutoff`` (0 for what is not done yet)."""
        if self.done_at is not None and self.done_at <= cutoff:
            return {"executed_date": self.done_at.date(), "sanctioned_orgs": decision.sanction_orgs,
                    **{f: getattr(decision, o) for f, o in EXECUTION_ORDERED.items()}}
        # Organisations are handled with the last of the people (no draw: earlier draws unchanged).
        out = {"executed_date": None, "sanctioned_orgs": 0, **dict.fromkeys(EXECUTION_AMOUNTS, 0.0),
               **dict.fromkeys(EXECUTION_COUNTS, 0)}
        if self.partial_at is not None and self.partial_at <= cutoff:
            out.update(self.partial)
        return out


FULLY_EXECUTED = 0.8    # share of decisions carried out in full (the rest: part done, or nothing yet)


def draw_execution(rng: Rng, decision: "Decision", resolved: dt.datetime) -> Execution:
    """The execution of a decision that orders something, resolved at ``resolved``: most
    are carried out in full two weeks to a few months later; some are carried out in
    part (money paid in instalments, fewer people sanctioned so far), half of those
    completed later; a few show nothing done yet. Done never exceeds ordered."""
    def after(t: dt.datetime, mean_days: float) -> dt.datetime:
        lag = 14 + min(300, int(rng.np.exponential(mean_days)))
        return at_office_hours(next_working_day(t.date() + dt.timedelta(days=lag)), rng)

    u = rng.u()
    if u < FULLY_EXECUTED:
        return Execution(done_at=after(resolved, 50))
    if u < FULLY_EXECUTED + 0.12:
        partial_at = after(resolved, 40)
        part = {}
        for f, o in EXECUTION_ORDERED.items():
            ordered = getattr(decision, o)
            if f in EXECUTION_AMOUNTS:
                part[f] = round(ordered * rng.uniform(0.2, 0.9), 1) if ordered else 0.0
            else:
                part[f] = rng.randint(0, ordered) if ordered else 0
        # A done official is a done person: officials never exceed people.
        part["sanctioned_officials"] = min(part["sanctioned_officials"], part["sanctioned_people"])
        part["prosecuted_done_officials"] = min(part["prosecuted_done_officials"], part["prosecuted_done_people"])
        done_at = after(partial_at, 80) if rng.chance(0.5) else None
        return Execution(done_at=done_at, partial_at=partial_at, partial=tuple(part.items()))
    return Execution()


def encode_progress(prog: dict, codes: dict[str, str]) -> tuple:
    """The PROGRESS_FIELDS values of ``Petition.progress`` as a source stores them: dates
    ISO, on_time 1/0, round and outcome through ``codes`` (canonical value → the
    source's code; the two vocabularies do not overlap), numbers as they are."""
    out = []
    for f in PROGRESS_FIELDS:
        v = prog[f]
        if v is None:
            out.append(None)
        elif f.endswith("_date"):
            out.append(v.isoformat())
        elif f in ("resolution_round", "outcome"):
            out.append(codes[v])
        elif f == "on_time":
            out.append(int(v))
        else:
            out.append(v)
    return tuple(out)


def _log_uniform(rng: Rng, lo: float, hi: float) -> float:
    """A plausible amount: log-uniform in [lo, hi], one decimal (small sums far likelier
    than large ones)."""
    return round(math.exp(rng.uniform(math.log(lo), math.log(hi))), 1)


def draw_decision(rng: Rng, kind: str, round_: str, field: str) -> Decision:
    """The decision on a competent KN/TC case. Only a decision that finds the petition at
    least partly right (đúng, đúng một phần, hủy/sửa) orders anything, and most of those
    order nothing measurable: about four decisions in five order nothing at all."""
    outcome = OUTCOMES[(kind, round_)].draw(rng)
    on_time = rng.chance(ON_TIME)
    v: dict = {}
    if outcome in ("dung", "dung_mot_phan", "huy_sua"):
        land = field == "dat_dai"
        if kind == "KN":
            if rng.chance(0.35):                      # returned to the complainant
                if land:
                    v["return_person_land"] = _log_uniform(rng, 15, 600)
                if not land or rng.chance(0.4):
                    v["return_person_money"] = _log_uniform(rng, 5, 900)
                v["persons_restored"] = rng.randint(1, 3)
            if rng.chance(0.06):
                v["return_org_money"] = _log_uniform(rng, 10, 1500)
                v["orgs_restored"] = 1
            if rng.chance(0.15):
                v["sanction_people"] = n = rng.randint(1, 2)
                v["sanction_officials"] = n if rng.chance(0.7) else rng.randint(0, n)
        else:
            if rng.chance(0.3):                       # recovered for the State
                v["recover_money"] = _log_uniform(rng, 10, 3000)
                if land and rng.chance(0.5):
                    v["recover_land"] = _log_uniform(rng, 30, 5000)
            if rng.chance(0.12):
                v["return_person_money"] = _log_uniform(rng, 5, 500)
                v["persons_restored"] = rng.randint(1, 4)
            if rng.chance(0.04):
                v["return_org_land" if land else "return_org_money"] = _log_uniform(rng, 20, 2000)
                v["orgs_restored"] = 1
            if rng.chance(0.5):
                v["sanction_people"] = n = rng.randint(1, 4)
                v["sanction_officials"] = n if rng.chance(0.7) else rng.randint(0, n)
            if rng.chance(0.12 if field == "tham_nhung" else 0.02):
                v["prosecuted_cases"] = 1
                v["prosecuted_people"] = n = rng.randint(1, 3)
                v["prosecuted_officials"] = n if rng.chance(0.6) else rng.randint(0, n)
    return Decision(outcome, on_time, **v)


def state_at(events: list, cutoff: dt.datetime):
    """(first ts, last visible ts, status, overrides) of a record as of cutoff, or None
    if it had not been entered yet."""
    if not events or events[0][0] > cutoff:
        return None
    last = events[0]
    for ev in events:
        if ev[0] <= cutoff:
            last = ev
        else:
            break
    return events[0][0], last[0], last[1], last[2]


# --------------------------------------------------------------------------- profiles
@dataclass(frozen=True)
class Profile:
    """Rates of one unit (per month of ~21 working days) and its source's habits."""
    level: str                    # commune | commune2025 | district | city
    regular: float                # regular receptions per month
    sitting_mean: float           # records per scheduled sitting
    unscheduled: float            # unscheduled reception events per month
    petitions: float              # petitions per month not arising from a reception
    p_pet_from_rec: float         # share of receptions that also lodge a petition
    p_repeat: float               # share of receptions on an earlier case of the unit
    p_repeat_petition: float
    p_group_regular: float        # đoàn share, regular reception
    p_group_sitting: float        # đoàn share, head's sittings
    p_competent: float            # share of cases the unit itself must resolve
    p_deputy: float               # share of sittings held by a deputy (ủy quyền)
    weekday: int                  # the unit's sitting weekday (0 = Monday)
    noisy: bool                   # database-backed: versions and noise records


def profile_for(unit: Unit, seed: int) -> Profile:
    """Each unit's own rates, drawn once from its profile stream (documented ranges in
    docs/simulated-sources.md)."""
    r = Rng(seed, unit.key, "profile")
    if unit.level == "xa" and unit.scheme == "legacy":
        return Profile("commune", regular=r.uniform(1.2, 2.6), sitting_mean=r.uniform(0.15, 0.35),
                       unscheduled=0.05, petitions=r.uniform(0.8, 2.0), p_pet_from_rec=0.25,
                       p_repeat=0.15, p_repeat_petition=0.1, p_group_regular=0.02, p_group_sitting=0.04,
                       p_competent=0.55, p_deputy=0.25, weekday=r.randint(0, 4), noisy=False)
    if unit.level == "xa":
        return Profile("commune2025", regular=r.uniform(7.0, 12.0), sitting_mean=r.uniform(0.8, 1.5),
                       unscheduled=0.2, petitions=r.uniform(5.0, 9.0), p_pet_from_rec=0.25,
                       p_repeat=0.2, p_repeat_petition=0.12, p_group_regular=0.025, p_group_sitting=0.05,
                       p_competent=0.6, p_deputy=0.3, weekday=r.randint(0, 4), noisy=False)
    if unit.level == "huyen":
        return Profile("district", regular=r.uniform(25.0, 45.0), sitting_mean=r.uniform(5.0, 9.0),
                       unscheduled=0.3, petitions=r.uniform(25.0, 45.0), p_pet_from_rec=0.25,
                       p_repeat=0.25, p_repeat_petition=0.15, p_group_regular=0.03, p_group_sitting=0.06,
                       p_competent=0.5, p_deputy=0.4, weekday=r.randint(0, 4), noisy=True)
    return Profile("city", regular=197.0, sitting_mean=13.0, unscheduled=0.15, petitions=280.0,
                   p_pet_from_rec=0.2, p_repeat=0.3, p_repeat_petition=0.15, p_group_regular=0.032,
                   p_group_sitting=0.067, p_competent=0.35, p_deputy=0.35, weekday=1, noisy=True)


# Noise of database-backed sources, per truth record (docs/simulated-sources.md).
@dataclass(frozen=True)
class Noise:
    draft_first: float       # truth record entered as a draft, published later
    correction: float        # truth record published with wrong values, corrected later
    draft_only: float        # extra records left as drafts
    deleted: float           # extra records published then deleted
    duplicate: float         # staff double entries (receptions only)


CITY_RECEPTION_NOISE = Noise(draft_first=0.02, correction=0.05, draft_only=0.03, deleted=0.01, duplicate=0.005)
CITY_PETITION_NOISE = Noise(draft_first=0.02, correction=0.03, draft_only=0.02, deleted=0.01, duplicate=0.0)
DISTRICT_RECEPTION_NOISE = Noise(draft_first=0.30, correction=0.04, draft_only=0.02, deleted=0.01, duplicate=0.0)
DISTRICT_PETITION_NOISE = Noise(draft_first=0.30, correction=0.03, draft_only=0.02, deleted=0.01, duplicate=0.0)


# --------------------------------------------------------------------------- people
NON_GROUP_REGULAR = Weighted([(1, 0.66), (2, 0.24), (3, 0.07), (4, 0.03)])
# At the city leaders' sittings families and neighbours come together more often (the
# published table has 1,754 people on 702 records); local sittings are closer to regular.
NON_GROUP_SITTING = Weighted([(1, 0.40), (2, 0.30), (3, 0.18), (4, 0.12)])
NON_GROUP_SITTING_LOCAL = Weighted([(1, 0.55), (2, 0.28), (3, 0.11), (4, 0.06)])


def group_size(rng: Rng, mean_extra: float) -> int:
    """5 or more; most groups are small, a few large (capped at 40)."""
    return min(40, GROUP_MIN + int(rng.np.exponential(mean_extra)))


def draw_people(rng: Rng, p_group: float, sitting: bool, city: bool = False) -> int:
    if rng.chance(p_group):
        return group_size(rng, (4.0 if city else 2.5) if sitting else 1.2)
    if not sitting:
        return NON_GROUP_REGULAR.draw(rng)
    return (NON_GROUP_SITTING if city else NON_GROUP_SITTING_LOCAL).draw(rng)


def nudge(values: np.ndarray, target: int, lo: int, hi: int, rng: Rng) -> np.ndarray:
    """Move values by ±1 (within [lo, hi]) until they sum to target exactly."""
    values = values.copy()
    if not lo * len(values) <= target <= hi * len(values):
        raise ValueError(f"cannot reach {target} with {len(values)} values in [{lo}, {hi}]")
    diff = int(target - values.sum())
    while diff:
        step = 1 if diff > 0 else -1
        cand = np.flatnonzero(values < hi) if step > 0 else np.flatnonzero(values > lo)
        k = min(abs(diff), len(cand))
        values[rng.np.choice(cand, k, replace=False)] += step
        diff -= step * k
    return values


# --------------------------------------------------------------------------- skeletons
@dataclass(slots=True)
class Skel:
    date: dt.date
    mode: str
    receiver: str
    sitting: object          # sitting key within the unit (date + receiver, or city id)
    people: int


def sittings_of_month(profile: Profile, rng: Rng, y: int, m: int) -> list[tuple[dt.date, str, float]]:
    """(date, receiver, weight) of the scheduled sittings of a month: commune weekly,
    district twice a month, city monthly on the third Tuesday (plus, some months, an
    extra sitting held by a deputy). None while reception was suspended (2021)."""
    out = []
    if profile.level in ("commune", "commune2025"):
        d = nth_weekday(y, m, profile.weekday, 1)
        while d.month == m:
            out.append((next_working_day(d), DEPUTY if rng.chance(profile.p_deputy) else HEAD, 1.0))
            d += dt.timedelta(days=7)
    elif profile.level == "district":
        for n in (2, 4):
            out.append((next_working_day(nth_weekday(y, m, profile.weekday, n)),
                        DEPUTY if rng.chance(profile.p_deputy) else HEAD, 1.0))
    else:
        out.append((next_working_day(nth_weekday(y, m, 1, 3)), DEPUTY if rng.chance(profile.p_deputy) else HEAD, 1.0))
        if rng.chance(0.3):
            out.append((next_working_day(nth_weekday(y, m, 3, 4)), DEPUTY, 0.6))
    return [s for s in out if s[0].month == m and not in_distancing(s[0])]


def _day_weights(days) -> np.ndarray:
    return np.array([DISTANCING_FACTOR if in_distancing(d) else 1.0 for d in days])


def month_skeleton(profile: Profile, rng: Rng, y: int, m: int, boost=None) -> list[Skel]:
    """Receptions of one month from the unit's rates (all days of the month: records
    after --end are cut later, so the draws do not depend on --end). ``boost(day)``
    multiplies the rates of a day (the outlier quarter of simulators.defects)."""
    days = working_days(y, m)
    if not days:
        return []
    w = _day_weights(days)
    if boost is not None:
        w = w * np.array([boost(d) for d in days])
    out: list[Skel] = []
    city = profile.level == "city"
    n = rng.poisson(profile.regular * w.sum() / 21.0)
    for i in sorted(rng.np.choice(len(days), n, p=w / w.sum()).tolist()):
        out.append(Skel(days[i], REGULAR, STAFF, None, draw_people(rng, profile.p_group_regular, False)))
    sittings = sittings_of_month(profile, rng, y, m)
    sitting_days = {s[0] for s in sittings}
    for d, receiver, weight in sittings:
        if boost is not None:
            weight *= boost(d)
        key = city_sitting_id(d, PERIODIC) if city else (d, receiver)
        for _ in range(rng.poisson(profile.sitting_mean * weight)):
            out.append(Skel(d, PERIODIC, receiver, key, draw_people(rng, profile.p_group_sitting, True, city)))
    free = [d for d in days if d not in sitting_days and not in_distancing(d)]
    for _ in range(rng.poisson(profile.unscheduled)):
        if not free:
            break
        d = rng.pick(free)
        free.remove(d)    # one unscheduled event a day: its sitting key stays unique
        key = city_sitting_id(d, UNSCHEDULED) if city else (d, HEAD)
        for _ in range(1 + rng.poisson(0.8)):
            out.append(Skel(d, UNSCHEDULED, HEAD, key, draw_people(rng, profile.p_group_sitting, True, city)))
    out.sort(key=lambda s: s.date)
    return out


def city_sitting_id(d: dt.date, mode: str) -> str:
    return f"{'KT' if mode == PERIODIC else 'DX'}-01-{d:%Y%m%d}"


# The published figures the city's own receptions must reproduce (domain README §7).
CALIBRATION = {
    "regular_records": 8656, "regular_people": 14015,
    "regular_group_records": 280, "regular_group_people": 1527,
    "periodic_records": 702, "periodic_people": 1754, "periodic_group_records": 47,
}


def city_calibrated_skeleton(seed: int) -> dict[tuple[int, int], list[Skel]]:
    """The city's official receptions of 01/07/2021–28/02/2025, drawn as a whole so the
    published totals hold exactly: dates spread over working days, đoàn chosen at
    random, people drawn then nudged by ±1 to the exact sums (regular non-đoàn 1–4,
    đoàn 5–40). All 702 leader receptions are periodic, at the monthly sitting on the
    third Tuesday (head or deputy) or at a deputy's extra sitting."""
    c = CALIBRATION
    rng = Rng(seed, "province:01", "calibration")
    profile = profile_for_city()
    days = [d for y, m in months(CAL_START, CAL_END) for d in working_days(y, m) if CAL_START <= d <= CAL_END]
    w = _day_weights(days)
    per_day = rng.np.multinomial(c["regular_records"], w / w.sum())
    reg_dates = [d for d, k in zip(days, per_day.tolist()) for _ in range(k)]
    n = len(reg_dates)
    is_group = np.zeros(n, bool)
    is_group[rng.np.choice(n, c["regular_group_records"], replace=False)] = True
    people = np.zeros(n, np.int64)
    for i in range(n):
        people[i] = group_size(rng, 0.6) if is_group[i] else NON_GROUP_REGULAR.draw(rng)
    people[is_group] = nudge(people[is_group], c["regular_group_people"], GROUP_MIN, 40, rng)
    people[~is_group] = nudge(people[~is_group], c["regular_people"] - c["regular_group_people"], 1, 4, rng)

    sittings = []
    for y, m in months(CAL_START, CAL_END):
        sittings.extend(sittings_of_month(profile, rng, y, m))
    sw = np.array([s[2] for s in sittings])
    per_sitting = rng.np.multinomial(c["periodic_records"], sw / sw.sum())
    per = [(s[0], s[1]) for s, k in zip(sittings, per_sitting.tolist()) for _ in range(k)]
    np_ = len(per)
    p_group = np.zeros(np_, bool)
    p_group[rng.np.choice(np_, c["periodic_group_records"], replace=False)] = True
    p_people = np.zeros(np_, np.int64)
    for i in range(np_):
        p_people[i] = group_size(rng, 3.0) if p_group[i] else NON_GROUP_SITTING.draw(rng)
    group_sum = int(p_people[p_group].sum())
    p_people[~p_group] = nudge(p_people[~p_group], c["periodic_people"] - group_sum, 1, 4, rng)

    out: dict[tuple[int, int], list[Skel]] = {}
    for d, k in zip(reg_dates, people.tolist()):
        out.setdefault((d.year, d.month), []).append(Skel(d, REGULAR, STAFF, None, k))
    for (d, receiver), k in zip(per, p_people.tolist()):
        out.setdefault((d.year, d.month), []).append(Skel(d, PERIODIC, receiver, city_sitting_id(d, PERIODIC), k))
    for v in out.values():
        v.sort(key=lambda s: s.date)      # stable: regular before periodic on a day
    return out


def profile_for_city() -> Profile:
    return profile_for(Unit("province:01", "01", "Thành phố Hà Nội", "Thành phố", "tinh", "province",
                            None, None, dt.date(2020, 1, 1), None), 0)


# --------------------------------------------------------------------------- simulation
class UnitSim:
    """Everything recorded at one unit between its first and last modelled day."""

    def __init__(self, unit: Unit, seed: int, first: dt.date, last: dt.date, spike=None):
        self.unit, self.seed, self.first, self.last = unit, seed, first, last
        self.spike = spike              # simulators.defects.Spike: an outlier quarter, or None
        self.profile = profile_for(unit, seed)
        self.citizens = CitizenFactory(unit)
        self.cases: list[Case] = []
        self._case_dates: list[dt.date] = []          # opened dates, ascending (bisect)
        self.receptions: list[Reception] = []
        self.petitions: list[Petition] = []
        self._seq = 0
        self._case_serial: dict[int, int] = {}
        self._day_citizen: dict[tuple, set] = {}        # (kind, date) -> id numbers seen
        self._day_case: dict[tuple, set] = {}           # (kind, date) -> case seqs seen
        self._sitting_numbers: dict[object, int] = {}   # district: sitting key -> ky_tiep_id
        self._calibrated = city_calibrated_skeleton(seed) if unit.level == "tinh" else None
        # Vượt cấp (simulators.skip_level): at a commune, the planted cases opened here;
        # at a district or the city, the planted visits of citizens with such a case.

        plan = skip_plan(seed)
        self._plants: dict[tuple[int, int], list] = {}
        if unit.level == "xa":
            for pl in plan.by_commune.get(unit.key, ()):
                self._plants.setdefault((pl.opened.year, pl.opened.month), []).append(pl)
        else:
            for pl in plan.by_higher.get(unit.key, ()):
                self._plants.setdefault((pl.visit.year, pl.visit.month), []).append(pl)

    # ---------------------------------------------------------------- helpers
    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _taken(self, what: str, d: dt.date, citizen: Citizen | None, case: Case | None) -> bool:
        if citizen is not None and citizen.id_number in self._day_citizen.get((what, d), ()):
            return True
        return case is not None and case.seq in self._day_case.get((what, d), ())

    def _take(self, what: str, d: dt.date, citizen: Citizen | None, case: Case) -> None:
        if citizen is not None:
            self._day_citizen.setdefault((what, d), set()).add(citizen.id_number)
        self._day_case.setdefault((what, d), set()).add(case.seq)

    def _case_ref(self, opened: dt.date) -> str | None:
        n = self._case_serial.get(opened.year, 0) + 1
        self._case_serial[opened.year] = n
        level = self.profile.level
        if level == "commune":
            return f"VV-{opened.year}-{n:03d}"
        if level == "commune2025":
            # 2025 communes reuse legacy commune codes: their own prefix keeps
            # '<unit code>:<case ref>' unique across the reform.
            return f"HS-{opened.year}-{n:04d}"
        if level == "city":
            return f"VV-01-{opened.year}-{n:04d}"
        return None          # district: the database id, assigned at the end

    def _new_case(self, rng: Rng, d: dt.date, citizen: Citizen | None, kind: str | None = None) -> Case:
        kind = kind or KIND_SHARE.draw(rng)
        tmpl = TEMPLATE_BY_KIND[kind].draw(rng)
        competent = rng.chance(self.profile.p_competent)
        accepted = resolved = None
        if competent:
            accepted = at_office_hours(d + dt.timedelta(days=rng.randint(1, 10)), rng)
            if rng.chance(0.9):
                resolved = at_office_hours(accepted.date() + dt.timedelta(days=rng.randint(15, 120)), rng)
        case = Case(len(self.cases) + 1, self._case_ref(d), d, kind, tmpl[1], tmpl[2], citizen,
                    competent, accepted, resolved)
        self.cases.append(case)
        self._case_dates.append(d)
        return case

    def _earlier_case(self, rng: Rng, d: dt.date, what: str) -> Case | None:
        """A case opened before day d (within ~a year, recent ones likelier) whose
        citizen is known and not yet seen that day."""
        hi = bisect.bisect_left(self._case_dates, d)
        lo = bisect.bisect_left(self._case_dates, d - dt.timedelta(days=400))
        if hi <= lo:
            return None
        for _ in range(3):
            i = hi - 1 - min(hi - lo - 1, int(rng.np.exponential((hi - lo) / 3)))
            case = self.cases[i]
            if case.citizen is not None and not self._taken(what, d, case.citizen, case):
                return case
        return None

    # ---------------------------------------------------------------- the model
    def run(self) -> "UnitSim":
        for y, m in months(self.first, self.last):
            self._month(y, m)
        if self.profile.noisy:
            self._assign_ids()
        self._annotate()
        return self

    def _annotate(self) -> None:
        """Rounds, decisions and processing dates, from streams of their own (per unit
        and month: a case by the month it was opened, a petition by the month it was
        received), so they change none of the draws above: receptions, petitions and
        cases are exactly those of a model without them."""
        key = (self.seed, self.unit.key)
        by_month: dict[tuple[int, int], list] = {}
        for case in self.cases:
            by_month.setdefault((case.opened.year, case.opened.month), []).append(case)
        for (y, m), cases in by_month.items():
            rng = Rng(*key, "decisions", y, m)
            for case in cases:
                case.round = ROUNDS[case.kind].draw(rng) if case.kind in ROUNDS else "lan_dau"
                if case.competent and case.kind in OUTCOMES_KINDS:
                    case.decision = draw_decision(rng, case.kind, case.round, case.field)
        by_month = {}
        for pet in self.petitions:
            by_month.setdefault((pet.date.year, pet.date.month), []).append(pet)
        for (y, m), pets in by_month.items():
            rng = Rng(*key, "processing", y, m)
            for pet in pets:
                pet.processed = self._processed_at(rng, pet)
        # Execution of the decisions: a stream of its own (per case by the month it was
        # opened), drawn after everything above, so no earlier draw changes.
        by_month = {}
        for case in self.cases:
            if case.decision is not None and case.resolved is not None and orders_something(case.decision):
                by_month.setdefault((case.opened.year, case.opened.month), []).append(case)
        for (y, m), cases in by_month.items():
            rng = Rng(*key, "execution", y, m)
            for case in cases:
                case.execution = draw_execution(rng, case.decision, case.resolved)
        self._annotate_tt06(key)

    def _annotate_tt06(self, key: tuple) -> None:
        """TT 06/2025 data, from a stream of its own (per case by the month it was opened)
        drawn after everything else, for matters opened after the calibration window: a
        competent KN/TC matter is not accepted (không thụ lý) on the day it would have
        been accepted — it then has no acceptance, resolution or decision; a conclusion on
        a tố cáo that sanctions people recommends one or two organisations as well."""
        by_month: dict[tuple[int, int], list] = {}
        for case in self.cases:
            if case.opened > CAL_END and case.competent and case.kind in OUTCOMES_KINDS and case.planted is None:
                by_month.setdefault((case.opened.year, case.opened.month), []).append(case)
        for (y, m), cases in sorted(by_month.items()):
            rng = Rng(*key, "tt06", y, m)
            for case in cases:
                if case.accepted is not None and rng.chance(P_NOT_ACCEPTED):
                    case.not_accepted, case.accepted, case.resolved = case.accepted, None, None
                    case.decision = case.execution = None
                elif case.decision is not None and case.kind == "TC" and case.decision.sanction_people \
                        and rng.chance(P_SANCTION_ORGS):
                    case.decision = replace(case.decision, sanction_orgs=rng.randint(1, 2))

    @staticmethod
    def _processed_at(rng: Rng, pet: Petition) -> dt.datetime:
        """Ngày xử lý đơn: a few days to about three weeks after receipt (the law allows
        10 working days; busy offices take longer), a working day — but an accepted
        petition is processed by the moment its case is accepted, and a forwarded one at
        least 5 days before the reply to it arrives."""
        lag = 1 + min(20, int(-5.0 * math.log(1.0 - rng.u())))
        at = at_office_hours(next_working_day(pet.date + dt.timedelta(days=lag)), rng)
        accepted = pet.case.accepted
        if pet.handling == "thu_ly" and accepted is not None and accepted.date() >= pet.date:
            at = min(at, accepted)
        if pet.reply is not None:
            at = min(at, at_office_hours(pet.reply - dt.timedelta(days=5), rng))
        return at

    def _month(self, y: int, m: int) -> None:
        key = (self.seed, self.unit.key)
        rec_rng = Rng(*key, "receptions", y, m)
        pet_rng = Rng(*key, "petitions", y, m)
        item_rng = Rng(*key, "items", y, m)
        boost = self.spike.boost if self.spike is not None and self.spike.overlaps(y, m) else None
        if self._calibrated is not None and (y, m) <= (CAL_END.year, CAL_END.month) \
                and (y, m) >= (CAL_START.year, CAL_START.month):
            skel = self._calibrated.get((y, m), [])
        else:
            skel = month_skeleton(self.profile, rec_rng, y, m, boost)
        days = working_days(y, m)
        if boost is None:
            n_pet = pet_rng.poisson(self.profile.petitions * len(days) / 21.0) if days else 0
            pet_days = sorted(pet_rng.pick(days) for _ in range(n_pet))
        else:
            factors = [boost(d) for d in days]
            n_pet = pet_rng.poisson(self.profile.petitions * sum(factors) / 21.0) if days else 0
            pick = Weighted(list(zip(days, factors))) if days else None
            pet_days = sorted(pick.draw(pet_rng) for _ in range(n_pet))
        items = [(s.date, 0, i, s) for i, s in enumerate(skel)] + \
                [(d, 1, i, CHANNELS.draw(pet_rng)) for i, d in enumerate(pet_days)]
        plants = self._plants.get((y, m), [])
        if self.unit.level == "xa":
            items += [(pl.opened, 2, i, pl) for i, pl in enumerate(plants)]
            visits = []
        else:
            visits = list(plants)            # sorted by visit day
        items.sort(key=lambda t: (t[0], t[1], t[2]))
        month_recs, month_pets = [], []
        co_rng = Rng(*key, "co_denouncers", y, m)
        for d, typ, _, payload in items:
            if d < self.first or d > self.last:
                continue
            if typ == 0:
                rec = self._reception(item_rng, payload)
                month_recs.append(rec)
                if visits:
                    self._skip_level(rec, visits)
                if item_rng.chance(self.profile.p_pet_from_rec):
                    month_pets.append(self._petition_from_reception(item_rng, rec))
                co = self._co_denouncer(co_rng, rec, bool(month_pets) and month_pets[-1].reception is rec)
                if co is not None:
                    month_recs.append(co[0])
                    if co[1] is not None:
                        month_pets.append(co[1])
            elif typ == 2:
                rec, pet = self._planted_case(payload)
                month_recs.append(rec)
                month_pets.append(pet)
            else:
                pet = self._petition(item_rng, d, payload)
                if pet is not None:
                    month_pets.append(pet)
        self.receptions.extend(month_recs)
        self.petitions.extend(month_pets)
        if self.unit.level == "xa":
            reg_rng = Rng(*key, "register", y, m)
            for rec in month_recs:
                rec.register = self._register_columns(reg_rng, rec)
        if self.profile.noisy:
            self._noise(Rng(*key, "noise", y, m), y, m, month_recs, month_pets)

    def _reception(self, rng: Rng, s: Skel) -> Reception:
        case = None
        if rng.chance(self.profile.p_repeat):
            case = self._earlier_case(rng, s.date, "rec")
        if case is None:
            citizen = self.citizens.new(rng, s.date)
            case = self._new_case(rng, s.date, citizen)
        citizen = case.citizen
        self._take("rec", s.date, citizen, case)
        visit = REPEAT if case.receptions else FIRST
        case.receptions += 1
        sitting = s.sitting
        if self.profile.level == "district" and sitting is not None:
            sitting = self._sitting_numbers.setdefault(sitting, len(self._sitting_numbers) + 1)
        elif self.profile.level in ("commune", "commune2025"):
            sitting = None        # registers carry no sitting id (key = unit, date, receiver)
        return Reception(self._next_seq(), s.date, s.mode, s.receiver, sitting, s.people, case.kind,
                         case, visit, citizen)

    def _co_denouncer(self, rng: Rng, rec: Reception, lodged: bool) -> tuple[Reception, Petition | None] | None:
        """Sometimes, a second citizen denounces the same case on the same day: after a
        tố cáo reception that opened its case, a new citizen is received alone
        in the same way about that case (lần đầu), and lodges a petition too if the
        first denouncer did (`lodged`). Draws come from `rng` only (a stream of its
        own); at the city, only after the calibration window."""
        case = rec.case
        if rec.kind != "TC" or case.planted is not None or case.opened != rec.date \
                or case.receptions != 1 or rec.citizen is None:
            return None
        if self.profile.level == "city" and rec.date <= CAL_END:
            return None
        if not rng.chance(P_CO_DENOUNCER):
            return None
        citizen = self.citizens.new(rng, rec.date)
        self._take("rec", rec.date, citizen, case)
        case.receptions += 1
        co = Reception(self._next_seq(), rec.date, rec.mode, rec.receiver, rec.sitting, 1, "TC", case, FIRST,
                       citizen, co_denouncer=True)
        return co, (self._petition_from_reception(rng, co) if lodged else None)

    def _planted_case(self, plant) -> tuple[Reception, Petition]:
        """A commune case of a vượt cấp citizen (simulators.skip_level): the citizen comes
        to the commune on `plant.opened` and lodges a petition there, which the commune
        accepts; the case is still open when the citizen goes to a higher level."""
        d = plant.opened
        case = Case(len(self.cases) + 1, self._case_ref(d), d, plant.kind, plant.field, plant.summary,
                    plant.citizen, True, plant.accepted, plant.resolved, planted=plant)
        self.cases.append(case)
        self._case_dates.append(d)
        self._take("rec", d, plant.citizen, case)
        self._take("pet", d, plant.citizen, case)
        case.receptions = 1
        rec = Reception(self._next_seq(), d, REGULAR, STAFF, None, 1, plant.kind, case, FIRST, plant.citizen)
        pet = Petition(self._next_seq(), d, "tiep_cong_dan", plant.kind, 1, plant.field, case, plant.citizen,
                       rec, True, True, "thu_ly", None)
        return rec, pet

    def _skip_level(self, rec: Reception, visits: list) -> None:
        """At a district or the city: the first reception on or after a planted visit
        day that opened a new case becomes the vượt cấp citizen's — same citizen, kind
        and field as the open commune case; the higher level is not competent for it.
        Only the reception's identity changes (no draw is made), so dates, modes,
        receivers and people — and the calibrated figures — stay as drawn."""
        while visits and visits[0].resolved is not None and visits[0].resolved.date() <= rec.date:
            visits.pop(0)                    # the commune case was resolved meanwhile: no visit
        if not visits or rec.date < visits[0].visit:
            return
        case = rec.case
        if case.planted is not None or case.opened != rec.date or case.receptions != 1 or case.citizen is None:
            return
        plant = visits.pop(0)
        case.kind, case.field, case.summary, case.citizen = plant.kind, plant.field, plant.summary, plant.citizen
        case.competent, case.accepted, case.resolved, case.planted = False, None, None, plant
        rec.kind, rec.citizen = plant.kind, plant.citizen
        self._take("rec", rec.date, plant.citizen, case)

    def _handling(self, rng: Rng, case: Case, eligible: bool, d: dt.date):
        if not eligible:
            return None, None, None
        if case.competent:
            return True, "thu_ly", None
        handling = NOT_COMPETENT_HANDLING.draw(rng)
        reply = None
        if handling in ("chuyen_don", "don_doc") and rng.chance(0.6):
            reply = d + dt.timedelta(days=rng.randint(15, 60))     # văn bản phúc đáp arrives
        return False, handling, reply

    def _petition_from_reception(self, rng: Rng, rec: Reception) -> Petition:
        self._take("pet", rec.date, rec.citizen, rec.case)
        signers = rec.people if rec.people >= GROUP_MIN and rec.kind != "TC" else 1
        eligible = rng.chance(0.95)
        competent, handling, reply = self._handling(rng, rec.case, eligible, rec.date)
        return Petition(self._next_seq(), rec.date, "tiep_cong_dan", rec.kind, signers, rec.case.field,
                        rec.case, rec.citizen, rec, eligible, competent, handling, reply)

    def _petition(self, rng: Rng, d: dt.date, channel: str) -> Petition | None:
        case = None
        repeat = rng.chance(self.profile.p_repeat_petition)
        if repeat:
            case = self._earlier_case(rng, d, "pet")
        if case is not None:
            kind, citizen = case.kind, case.citizen
            signers = 1
        else:
            kind = KIND_SHARE.draw(rng)
            r = rng.u()
            if kind == "TC" and r < 0.35 or kind != "TC" and r < 0.01:
                signers = 0             # unsigned / anonymous (đơn khác)
            elif r > 0.96:
                signers = GROUP_MIN + int(rng.np.exponential(6.0))
            else:
                signers = 1
            citizen = self.citizens.new(rng, d) if signers else None
            case = self._new_case(rng, d, citizen, kind)
        if self._taken("pet", d, citizen, case):
            return None
        self._take("pet", d, citizen, case)
        already_answered = case.resolved is not None and case.resolved.date() < d
        eligible = not already_answered and (rng.chance(0.3) if signers == 0 else rng.chance(0.92))
        competent, handling, reply = self._handling(rng, case, eligible, d)
        return Petition(self._next_seq(), d, channel, kind, signers, case.field, case, citizen, None,
                        eligible, competent, handling, reply)

    def _register_columns(self, rng: Rng, rec: Reception) -> dict:
        """What a commune register adds to a reception row (not counted anywhere)."""
        unit = self.unit
        case = rec.case
        out = {"co_quan_da_giai_quyet": None, "thuoc_tham_quyen": None, "huong_dan": None,
               "chuyen_don": None, "theo_doi_ket_qua": None, "ghi_chu": None}
        if rec.visit == REPEAT and case.resolved is not None and case.resolved.date() < rec.date:
            out["co_quan_da_giai_quyet"] = f"UBND {unit.name}"
        if case.competent:
            out["thuoc_tham_quyen"] = "x"
            out["theo_doi_ket_qua"] = rng.pick(["Đã trả lời công dân", "Đang xác minh", "Đã tổ chức đối thoại", None])
        elif rng.chance(0.6):
            out["huong_dan"] = "x"
            out["theo_doi_ket_qua"] = "Đã hướng dẫn công dân"
        else:
            target = f"UBND {unit.parent_name}" if unit.parent_name else "UBND Thành phố Hà Nội"
            out["chuyen_don"] = f"Chuyển {target}, CV số {rng.randint(5, 480)}/UBND"
        if rec.people >= GROUP_MIN:
            out["ghi_chu"] = "Đoàn đông người"
        return out

    # ---------------------------------------------------------------- noise
    def _noise(self, rng: Rng, y: int, m: int, recs: list[Reception], pets: list[Petition]) -> None:
        city = self.profile.level == "city"
        rn = CITY_RECEPTION_NOISE if city else DISTRICT_RECEPTION_NOISE
        pn = CITY_PETITION_NOISE if city else DISTRICT_PETITION_NOISE
        for rec in recs:
            rec.events = self._life(rng, rec.date, rn, self._wrong_reception(rng, rec))
        for pet in pets:
            pet.events = self._life(rng, pet.date, pn, self._wrong_petition(rng, pet))
            if pet.reply is not None:
                # The reply from the competent body is recorded as a new version; the
                # versions before it say "no reply yet".
                t = max(at_office_hours(pet.reply, rng), pet.events[-1][0] + dt.timedelta(hours=1))
                pet.events = [(ts, st, {**ov, "reply_received": False}) for ts, st, ov in pet.events]
                pet.events.append((t, OFFICIAL, {}))
        days = [d for d in working_days(y, m) if self.first <= d <= self.last]
        if not days or not self.cases:
            return
        for role, rate in (("draft", rn.draft_only), ("deleted", rn.deleted)):
            for _ in range(rng.poisson(rate * len(recs))):
                d = rng.pick(days)
                case = self._earlier_case(rng, d, "rec")
                if case is None:
                    continue
                self._take("rec", d, case.citizen, case)
                mode, receiver = (REGULAR, STAFF)
                rec = Reception(self._next_seq(), d, mode, receiver, None,
                                NON_GROUP_REGULAR.draw(rng), case.kind, case,
                                REPEAT if case.receptions else FIRST, case.citizen, role=role)
                rec.events = self._noise_life(rng, d, role)
                self.receptions.append(rec)
        # Staff double entries: the same reception entered again under a new id.
        singles = [r for r in recs if len(r.events) == 1 and r.events[0][1] == OFFICIAL]
        for _ in range(rng.poisson(rn.duplicate * len(recs))):
            if not singles:
                break
            orig = rng.pick(singles)
            singles.remove(orig)
            dup = Reception(self._next_seq(), orig.date, orig.mode, orig.receiver, orig.sitting, orig.people,
                            orig.kind, orig.case, orig.visit, orig.citizen, role="duplicate", dup_of=orig)
            dup.events = [(orig.events[0][0] + dt.timedelta(minutes=rng.randint(10, 2880)), OFFICIAL, {})]
            if orig.date <= CAL_END and city:
                dup.events = _clamp(dup.events, end_of_day(CAL_END))
            self.receptions.append(dup)
        for role, rate in (("draft", pn.draft_only), ("deleted", pn.deleted)):
            for _ in range(rng.poisson(rate * len(pets))):
                d = rng.pick(days)
                case = self._earlier_case(rng, d, "pet")
                if case is None:
                    continue
                self._take("pet", d, case.citizen, case)
                pet = Petition(self._next_seq(), d, CHANNELS.draw(rng), case.kind, 1, case.field, case,
                               case.citizen, None, True, case.competent,
                               "thu_ly" if case.competent else "huong_dan", None, role=role)
                pet.events = self._noise_life(rng, d, role)
                self.petitions.append(pet)

    def _entry_time(self, rng: Rng, d: dt.date) -> dt.datetime:
        """When staff typed the record in: same day mostly, else 1–3 days later."""
        t = at_office_hours(d, rng)
        if rng.chance(0.3):
            t += dt.timedelta(days=rng.randint(1, 3))
        else:
            t += dt.timedelta(minutes=rng.randint(5, 180))
        return t.replace(microsecond=0)

    def _life(self, rng: Rng, d: dt.date, noise: Noise, wrong: dict) -> list:
        t0 = self._entry_time(rng, d)
        r = rng.u()
        if r < noise.draft_first:
            events = [(t0, DRAFT, {}), (t0 + _lag(rng, 2 * 60, 3 * 24 * 60), OFFICIAL, {})]
        elif r < noise.draft_first + noise.correction:
            events = [(t0, OFFICIAL, wrong), (t0 + _lag(rng, 24 * 60, 20 * 24 * 60), OFFICIAL, {})]
        else:
            events = [(t0, OFFICIAL, {})]
        if self.profile.level == "city" and CAL_START <= d <= CAL_END:
            # The published figures were compiled from a closed data set: every record
            # of the calibrated window reached its final state by 28/02/2025.
            events = _clamp(events, end_of_day(CAL_END))
        return events

    def _noise_life(self, rng: Rng, d: dt.date, role: str) -> list:
        t0 = self._entry_time(rng, d)
        if role == "draft":
            events = [(t0, DRAFT, {})]
        else:
            events = [(t0, OFFICIAL, {}), (t0 + _lag(rng, 60, 30 * 24 * 60), DELETED, {})]
        if self.profile.level == "city" and CAL_START <= d <= CAL_END:
            events = _clamp(events, end_of_day(CAL_END))    # deleted before the window closed
        return events

    def _wrong_reception(self, rng: Rng, rec: Reception) -> dict:
        """Values of a version later corrected: always different from the truth."""
        r = rng.u()
        if r < 0.25 and rec.mode != REGULAR:
            return {"mode": REGULAR, "receiver": STAFF, "sitting": None}
        if r < 0.5:
            return {"visit": FIRST if rec.visit == REPEAT else REPEAT}
        if rec.people <= 1 or rng.chance(0.5):
            return {"people": rec.people + rng.randint(1, 3)}
        return {"people": max(1, rec.people - rng.randint(1, 3))}

    def _wrong_petition(self, rng: Rng, pet: Petition) -> dict:
        r = rng.u()
        if r < 0.4 and pet.kind != "TC" and pet.handling != "thu_ly":
            # KN <-> KNPA only: a denunciation is never first published as something
            # else (its denouncer would have passed ingestion unprotected); nor an
            # accepted petition, whose decision belongs to its kind.
            return {"kind": "KNPA" if pet.kind == "KN" else "KN"}
        if r < 0.7 and pet.channel != "tiep_cong_dan":
            return {"channel": "truc_tuyen" if pet.channel == "buu_chinh" else "buu_chinh"}
        return {"signers": pet.signers + 1}

    def _assign_ids(self) -> None:
        """Source ids in order of entry (autoincrement in a district database; per-year
        serials in the city service), and case creation times."""
        for rec in self.receptions:
            if rec.events:
                t = rec.events[0][0]
                if rec.case.created is None or t < rec.case.created:
                    rec.case.created = t
        for pet in self.petitions:
            if pet.events:
                t = pet.events[0][0]
                if pet.case.created is None or t < pet.case.created:
                    pet.case.created = t
        recs = sorted(self.receptions, key=lambda r: (r.events[0][0], r.seq))
        pets = sorted(self.petitions, key=lambda p: (p.events[0][0], p.seq))
        cases = sorted((c for c in self.cases if c.created is not None), key=lambda c: (c.created, c.seq))
        if self.profile.level == "district":
            for i, r in enumerate(recs, 1):
                r.rid = i
            for i, p in enumerate(pets, 1):
                p.rid = i
            for i, c in enumerate(cases, 1):
                c.db_id = i
                c.ref = str(i)
        else:
            serial: dict[tuple, int] = {}
            for r in recs:
                k = ("TCD", r.date.year)
                serial[k] = serial.get(k, 0) + 1
                r.rid = f"TCD-01-{r.date.year}-{serial[k]:06d}"
            for p in pets:
                k = ("DT", p.date.year)
                serial[k] = serial.get(k, 0) + 1
                p.rid = f"DT-01-{p.date.year}-{serial[k]:06d}"


def _lag(rng: Rng, lo_min: int, hi_min: int) -> dt.timedelta:
    return dt.timedelta(minutes=rng.randint(lo_min, hi_min))


def _clamp(events: list, limit: dt.datetime) -> list:
    """Squeeze a record's versions before `limit`, keeping their order."""
    if events[-1][0] <= limit:
        return events
    t0 = min(events[0][0], limit - dt.timedelta(minutes=10 * len(events)))
    step = (limit - t0) / len(events)
    return [((t0 + step * i).replace(microsecond=0), s, o) for i, (_, s, o) in enumerate(events)]


def simulate(unit: Unit, seed: int, start: dt.date, end: dt.date, spike=None) -> UnitSim | None:
    span = unit.model_range(start, end)
    if span is None:
        return None
    return UnitSim(unit, seed, *span, spike=spike).run()
