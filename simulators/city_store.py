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
from simulators.core import TZ, end_of_day
from simulators.model import OFFICIAL, UnitSim, state_at

SCHEMA = """
CREATE TABLE receptions (
  id TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_ts INTEGER NOT NULL,
  status TEXT NOT NULL, unit_code TEXT NOT NULL, received_on TEXT NOT NULL,
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


def stamp(t: dt.datetime) -> tuple[str, int]:
    aware = t.replace(tzinfo=TZ)
    return aware.isoformat(), int(aware.timestamp())


def _b(v):
    return None if v is None else int(v)


def write_city(path: Path, sim: UnitSim, start: dt.date, end: dt.date, pii: set) -> tuple[list, list, list]:
    """Write city.sqlite; returns ground-truth rows (receptions, petitions, cases)."""
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
        # Counted: official as of the cutoff (a record deleted later still counts
        # today); a staff double entry collapses into its original.
        if status == OFFICIAL and rec.role != "duplicate":
            v = rec.values(overrides)
            gt_rec.append(("city_service", code, rec.date.isoformat(), v["mode"], v["receiver"],
                           f"{code}:{v['sitting']}" if v["mode"] != "thuong_xuyen" else None, v["people"],
                           v["kind"], f"{code}:{rec.case.ref}", v["visit"], sim.unit.key, rec.rid))
    for pet in sim.petitions:
        if pet.date < start or state_at(pet.events, cutoff) is None:
            continue
        used_cases.add(pet.case.seq)
        cit = citizen_cols(pet.citizen)
        reception_id = pet.reception.rid if pet.reception is not None else None
        for n, (t, status, overrides) in enumerate(pet.events, 1):
            if t > cutoff:
                break
            v = pet.values(overrides)
            pet_rows.append((pet.rid, n, *stamp(t), status, code, pet.date.isoformat(), CHANNEL[v["channel"]],
                             v["kind"], v["signers"], FIELD[v["field"]], pet.case.ref, reception_id,
                             int(pet.eligible), _b(pet.competent), HANDLING.get(pet.handling),
                             _b(v["reply_received"]), *cit, pet.case.summary))
        _, _, status, overrides = state_at(pet.events, cutoff)
        if status == OFFICIAL:
            v = pet.values(overrides)
            gt_pet.append(("city_service", code, pet.date.isoformat(), v["channel"], v["kind"], v["signers"],
                           f"{code}:{pet.case.ref}", v["field"], int(pet.eligible), _b(pet.competent),
                           pet.handling, _b(v["reply_received"]), None, None, sim.unit.key, pet.rid))
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
