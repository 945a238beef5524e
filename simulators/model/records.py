"""What really happened, as records: a case, a reception, a petition with its
timestamped versions, a decision and its execution; drawing a decision and an execution
from their streams, encoding a petition's progress, and a record's state as of a day
(:func:`state_at`).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from simulators.citizens import Citizen
from simulators.core import Rng, at_office_hours, next_working_day
from simulators.vocabulary import ON_TIME, OUTCOMES


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
