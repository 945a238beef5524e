"""Backing store of the city JSON service (contract §3): every published version.

One row per (id, version) in three tables; ``city_server`` serves them as a change feed.
``updated_at`` is kept as the ISO text the API returns (UTC+7) and ``updated_ts`` as epoch
seconds for filtering and ordering. The store is the system's state as of the end of the
run: versions stamped later do not exist yet.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from simulators.citizens import record_pii
from simulators.core import CAL_END, FIRST_2025, TZ, Rng, end_of_day
from simulators.defects import QUARANTINED, defect, legacy_code_not_reused
from simulators.model import UnitSim, encode_progress, state_at
from simulators.skip_level import higher_row
from simulators.truth import truth_progress
from simulators.vocabulary import DELETED, OFFICIAL

SCHEMA = """
CREATE TABLE receptions (
  id TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_ts INTEGER NOT NULL,
  status TEXT NOT NULL, unit_code TEXT, received_on TEXT NOT NULL,   -- unit_code NULL: a defective record
  mode TEXT NOT NULL, receiver TEXT NOT NULL, sitting_id TEXT, people INTEGER NOT NULL,
  kind TEXT NOT NULL, case_id TEXT NOT NULL, visit TEXT NOT NULL,
  citizen_full_name TEXT, citizen_id_number TEXT, citizen_address TEXT, citizen_phone TEXT, summary TEXT,
  PRIMARY KEY (id, version)
);
CREATE TABLE petitions (
  id TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_ts INTEGER NOT NULL,
  status TEXT NOT NULL, unit_code TEXT NOT NULL, received_on TEXT NOT NULL,
  channel TEXT NOT NULL, kind TEXT NOT NULL, signers INTEGER NOT NULL, field TEXT NOT NULL,
  case_id TEXT NOT NULL, reception_id TEXT, eligible INTEGER NOT NULL, competent INTEGER,
  handling TEXT, reply_received INTEGER,
  citizen_full_name TEXT, citizen_id_number TEXT, citizen_address TEXT, citizen_phone TEXT, summary TEXT,
  processed_on TEXT, accepted_on TEXT, resolved_on TEXT, round TEXT, outcome TEXT, on_time INTEGER,
  recover_money REAL, recover_land REAL, return_org_money REAL, return_org_land REAL,
  return_person_money REAL, return_person_land REAL, orgs_restored INTEGER, persons_restored INTEGER,
  sanction_people INTEGER, sanction_officials INTEGER, prosecuted_cases INTEGER, prosecuted_people INTEGER,
  prosecuted_officials INTEGER,
  executed_on TEXT, collected_money REAL, collected_land REAL, returned_org_money REAL, returned_org_land REAL,
  returned_person_money REAL, returned_person_land REAL, sanctioned_people INTEGER, sanctioned_officials INTEGER,
  prosecuted_done_cases INTEGER, prosecuted_done_people INTEGER, prosecuted_done_officials INTEGER,
  not_accepted_on TEXT, sanction_orgs INTEGER, sanctioned_orgs INTEGER,
  PRIMARY KEY (id, version)
);
CREATE TABLE cases (
  id TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_ts INTEGER NOT NULL,
  status TEXT NOT NULL, unit_code TEXT NOT NULL, opened_on TEXT NOT NULL, kind TEXT NOT NULL,
  field TEXT NOT NULL, resolution TEXT NOT NULL, resolved_on TEXT,
  PRIMARY KEY (id, version)
);
CREATE INDEX ix_receptions_feed ON receptions (updated_ts, id, version);
CREATE INDEX ix_petitions_feed ON petitions (updated_ts, id, version);
CREATE INDEX ix_cases_feed ON cases (updated_ts, id, version);
"""
# Canonical model value -> API value (contract §3).
MODE = {"thuong_xuyen": "regular", "dinh_ky": "periodic", "dot_xuat": "unscheduled"}
RECEIVER = {"can_bo": "staff", "thu_truong": "head", "uy_quyen": "deputy"}
VISIT = {"lan_dau": "first", "nhieu_lan": "repeat"}
CHANNEL = {"tiep_cong_dan": "reception", "buu_chinh": "post", "co_quan_khac": "agency", "truc_tuyen": "online"}
FIELD = {"che_do_chinh_sach": "policy", "dat_dai": "land", "cong_chuc": "civil_service", "tham_nhung": "corruption",
         "tu_phap": "judicial", "dang_doan_the": "party", "khac": "other"}
HANDLING = {"thu_ly": "accept", "huong_dan": "guide", "chuyen_don": "forward", "don_doc": "urge"}
RESOLUTION = {"chua_giai_quyet": "unresolved", "dang_giai_quyet": "in_progress", "da_giai_quyet": "resolved"}
ROUND = {"lan_dau": "first", "lan_2": "second", "ban_an": "court_judgment", "tiep": "continued"}
OUTCOME = {"dung": "founded", "sai": "unfounded", "dung_mot_phan": "partly_founded", "cong_nhan": "upheld",
           "huy_sua": "overturned", "rut_don": "withdrawn", "dinh_chi": "discontinued"}
API_CODES = {**ROUND, **OUTCOME}


def _petition_versions(pet, cutoff: dt.datetime) -> list:
    """[(timestamp, status, overrides)] of a petition's published versions up to cutoff:
    its own (entry, publication, correction, reply, deletion) and one more each time its
    processing state changes afterwards (processed, accepted, resolved), carrying the
    values of the version before it."""
    events = [e for e in pet.events if e[0] <= cutoff]
    if not events or pet.role != "truth":
        return events
    out = list(events)
    for t in pet.moments():
        if events[0][0] < t <= cutoff and t not in {e[0] for e in out}:
            before = max((e for e in out if e[0] < t), key=lambda e: e[0])
            if before[1] != DELETED:
                out.append((t, before[1], before[2]))
    return sorted(out, key=lambda e: e[0])


def stamp(t: dt.datetime) -> tuple[str, int]:
    aware = t.replace(tzinfo=TZ)
    return aware.isoformat(), int(aware.timestamp())


def _b(v):
    return None if v is None else int(v)


def write_city(path: Path, sim: UnitSim, start: dt.date, end: dt.date, pii: set, *,
               defects: list | None = None, inject: bool = False, seed: int = 0,
               skips: list | None = None) -> tuple[list, list, list]:
    """Write city.sqlite; returns ground-truth rows (receptions, petitions, cases).
    ``defects`` collects the defect lines (staff double entries always; with ``inject``
    also the extra defective records of simulators.defects, never counted); ``skips``
    the counted records of vượt cấp citizens (simulators.skip_level.higher_row)."""
    cutoff = end_of_day(end)
    code = sim.unit.code
    rec_rows, pet_rows, case_rows = [], [], []
    gt_rec, gt_pet, gt_case = [], [], []
    used_cases = set()

    def citizen_cols(c):
        if record_pii(pii, c) is None:
            return None, None, None, None
        return c.full_name, c.id_number, c.address, c.phone

    for rec in sim.receptions:
        if rec.date < start or state_at(rec.events, cutoff) is None:
            continue
        used_cases.add(rec.case.seq)
        cit = citizen_cols(rec.citizen)
        for n, (t, status, overrides) in enumerate(rec.events, 1):
            if t > cutoff:
                break
            v = rec.values(overrides)
            sitting = v["sitting"] if v["mode"] != "thuong_xuyen" else None
            rec_rows.append((rec.rid, n, *stamp(t), status, code, rec.date.isoformat(), MODE[v["mode"]],
                             RECEIVER[v["receiver"]], sitting, v["people"], v["kind"], rec.case.ref,
                             VISIT[v["visit"]], *cit, rec.case.summary))
        _, _, status, overrides = state_at(rec.events, cutoff)
        if rec.role == "duplicate" and defects is not None:
            defects.append(defect("duplicate_record", "city_service", "receptions", "city_service/city.sqlite",
                                  QUARANTINED, "DUPLICATE", record_id=rec.rid,
                                  detail=f"same content as {rec.dup_of.rid}"))
        # Counted: official as of the cutoff (a record deleted later still counts
        # today); a staff double entry collapses into its original.
        if status == OFFICIAL and rec.role != "duplicate":
            v = rec.values(overrides)
            gt_rec.append(("city_service", code, rec.date.isoformat(), v["mode"], v["receiver"],
                           f"{code}:{v['sitting']}" if v["mode"] != "thuong_xuyen" else None, v["people"],
                           v["kind"], f"{code}:{rec.case.ref}", v["visit"], sim.unit.key, rec.rid))
            if rec.case.planted is not None and skips is not None:
                skips.append(higher_row(rec.case.planted, "reception", gt_rec[-1], rec.case.field))
    for pet in sim.petitions:
        if pet.date < start or state_at(pet.events, cutoff) is None:
            continue
        used_cases.add(pet.case.seq)
        cit = citizen_cols(pet.citizen)
        reception_id = pet.reception.rid if pet.reception is not None else None
        versions = _petition_versions(pet, cutoff)
        for n, (t, status, overrides) in enumerate(versions, 1):
            v = pet.values(overrides)
            pet_rows.append((pet.rid, n, *stamp(t), status, code, pet.date.isoformat(), CHANNEL[v["channel"]],
                             v["kind"], v["signers"], FIELD[v["field"]], pet.case.ref, reception_id,
                             int(pet.eligible), _b(pet.competent), HANDLING.get(pet.handling),
                             _b(v["reply_received"]), *cit, pet.case.summary,
                             *encode_progress(pet.progress(t, v["kind"]), API_CODES)))
        _, _, status, overrides = state_at(versions, cutoff)
        if status == OFFICIAL:
            v = pet.values(overrides)
            prog = pet.progress(versions[-1][0], v["kind"])
            gt_pet.append(("city_service", code, pet.date.isoformat(), v["channel"], v["kind"], v["signers"],
                           f"{code}:{pet.case.ref}", v["field"], int(pet.eligible), _b(pet.competent),
                           pet.handling, _b(v["reply_received"]), prog["resolution"],
                           prog["resolved_date"].isoformat() if prog["resolved_date"] else None, sim.unit.key,
                           pet.rid, *truth_progress(prog)))
            if pet.case.planted is not None and skips is not None:
                skips.append(higher_row(pet.case.planted, "petition", gt_pet[-1], v["field"]))
    for case in sim.cases:
        if case.created is None or case.created > cutoff or (case.opened < start and case.seq not in used_cases):
            continue
        # Versions: opened (unresolved), accepted (in progress), resolved.
        versions = [(case.created, "chua_giai_quyet", None)]
        if case.accepted is not None:
            versions.append((max(case.accepted, versions[-1][0] + dt.timedelta(minutes=30)), "dang_giai_quyet", None))
        if case.resolved is not None:
            versions.append((max(case.resolved, versions[-1][0] + dt.timedelta(minutes=30)), "da_giai_quyet",
                              case.resolved.date()))
        final = versions[0]
        for n, (t, resolution, resolved_on) in enumerate(versions, 1):
            if t > cutoff:
                break
            final = (t, resolution, resolved_on)
            case_rows.append((case.ref, n, *stamp(t), OFFICIAL, code, case.opened.isoformat(), case.kind,
                              FIELD[case.field], RESOLUTION[resolution],
                              resolved_on.isoformat() if resolved_on else None))
        gt_case.append(("city_service", code, f"{code}:{case.ref}", case.opened.isoformat(), case.kind, case.field,
                        final[1], final[2].isoformat() if final[2] else None, sim.unit.key, case.ref))

    if inject:
        for row, kind, rule, detail in _defective_records(Rng(seed, sim.unit.key, "api-defects"), sim, start, end):
            rec_rows.append(row)
            if defects is not None:
                defects.append(defect(kind, "city_service", "receptions", "city_service/city.sqlite", QUARANTINED,
                                      rule, record_id=row[0], detail=detail))
    # Insert in feed order, so the file reads like the service's history.
    rec_rows.sort(key=lambda r: (r[3], r[0], r[1]))
    pet_rows.sort(key=lambda r: (r[3], r[0], r[1]))
    case_rows.sort(key=lambda r: (r[3], r[0], r[1]))
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        for table, rows in (("receptions", rec_rows), ("petitions", pet_rows), ("cases", case_rows)):
            if rows:
                con.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)
        con.commit()
    finally:
        con.close()
    return gt_rec, gt_pet, gt_case


def _defective_records(rng: Rng, sim: UnitSim, start: dt.date, end: dt.date) -> list:
    """Extra official receptions with defects a correct pipeline must quarantine
    (simulators.defects): no unit code, a legacy commune's code dated after the 2025
    reform, nobody received (people 0). Copies of official records dated after the
    calibration window (so the published figures never see them), under ids of their
    own series (serials from 900001); published minutes after the record they copy.
    [(row, defect kind, rule code, detail)]"""
    cutoff = end_of_day(end)
    lo = max(start, CAL_END + dt.timedelta(days=1))
    pool = []
    for rec in sim.receptions:
        if rec.role == "truth" and lo <= rec.date <= end:
            st = state_at(rec.events, cutoff)
            if st is not None and st[2] == OFFICIAL:
                pool.append((rec, st))
    if not pool:
        return []
    legacy = legacy_code_not_reused()
    serial: dict[int, int] = {}
    out = []
    plan = [("required_missing", "REQUIRED_MISSING", None, "unit_code=null", lo)] * 3 + \
           [("unit_not_valid_on_date", "UNIT_NOT_VALID_ON_DATE", legacy, f"unit_code={legacy}", FIRST_2025)] * 3 + \
           [("people_out_of_range", "PEOPLE_OUT_OF_RANGE", sim.unit.code, "people=0", lo)] * 3
    for kind, rule, unit_code, detail, since in plan:
        cands = [p for p in pool if p[0].date >= since]
        if not cands:
            continue
        rec, (first, _, _, overrides) = rng.pick(cands)
        v = rec.values(overrides)
        year = rec.date.year
        serial[year] = serial.get(year, 900000) + 1
        t = min(first + dt.timedelta(minutes=rng.randint(5, 120)), cutoff)
        c = rec.citizen
        out.append(((f"TCD-01-{year}-{serial[year]:06d}", 1, *stamp(t), OFFICIAL, unit_code, rec.date.isoformat(),
                     MODE[v["mode"]], RECEIVER[v["receiver"]], v["sitting"] if v["mode"] != "thuong_xuyen" else None,
                     0 if kind == "people_out_of_range" else v["people"], v["kind"], rec.case.ref, VISIT[v["visit"]],
                     c.full_name, c.id_number, c.address, c.phone, rec.case.summary), kind, rule, detail))
    return out
