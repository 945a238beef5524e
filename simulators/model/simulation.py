"""The simulation of one unit (:class:`UnitSim`): its skeletons walked month by month
into citizens, cases, receptions and petitions, then annotated (rounds, decisions,
processing dates, executions), given their source's life cycle and noise, and their
source ids; :func:`simulate` runs it.
"""
from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import replace

from simulators.citizens import Citizen, CitizenFactory
from simulators.core import (
    CAL_END,
    CAL_START,
    Rng,
    Unit,
    Weighted,
    at_office_hours,
    end_of_day,
    months,
    next_working_day,
    working_days,
)
from simulators.model.profiles import (
    CITY_PETITION_NOISE,
    CITY_RECEPTION_NOISE,
    DISTRICT_PETITION_NOISE,
    DISTRICT_RECEPTION_NOISE,
    Noise,
    profile_for,
)
from simulators.model.records import Case, Petition, Reception, draw_decision, draw_execution, orders_something
from simulators.model.skeletons import (
    CALIBRATED_PROVINCE,
    NON_GROUP_REGULAR,
    Skel,
    city_calibrated_skeleton,
    month_skeleton,
)
from simulators.skip_level import skip_plan
from simulators.vocabulary import (
    CHANNELS,
    DELETED,
    DRAFT,
    FIRST,
    GROUP_MIN,
    KIND_SHARE,
    NOT_COMPETENT_HANDLING,
    OFFICIAL,
    OUTCOMES_KINDS,
    P_CO_DENOUNCER,
    P_NOT_ACCEPTED,
    P_SANCTION_ORGS,
    REGULAR,
    REPEAT,
    ROUNDS,
    STAFF,
    TEMPLATE_BY_KIND,
)


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
        # Only Hà Nội has a published table to reproduce (domain README §7): another
        # province's own receptions follow its rates from the first month.
        self._calibrated = city_calibrated_skeleton(seed) if unit.key == CALIBRATED_PROVINCE else None
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
            return f"VV-{self.unit.code}-{opened.year}-{n:04d}"
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
            skel = month_skeleton(self.profile, rec_rng, y, m, boost, province=self.unit.code)
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
                r.rid = f"TCD-{self.unit.code}-{r.date.year}-{serial[k]:06d}"
            for p in pets:
                k = ("DT", p.date.year)
                serial[k] = serial.get(k, 0) + 1
                p.rid = f"DT-{self.unit.code}-{p.date.year}-{serial[k]:06d}"


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
