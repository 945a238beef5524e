"""District petition-management databases (contract §2): one SQLite file per district.

A database row holds a record's *current* state: drafts later published, corrections
and deletions overwrite the row in place and move ``ngay_cap_nhat``. The file is the
state of the system as of the end of the run, or of 30/06/2025 when the district level
was abolished and the software stopped (no record is dated after it).
Timestamps are local time (UTC+7) written as 'YYYY-MM-DD HH:MM:SS'; dates 'YYYY-MM-DD'.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from simulators.citizens import record_pii
from simulators.core import LAST_LEGACY, Rng, end_of_day, month_end
from simulators.defects import QUARANTINED, defect
from simulators.model import UnitSim, encode_progress, state_at
from simulators.skip_level import higher_row
from simulators.truth import truth_progress
from simulators.vocabulary import OFFICIAL

SCHEMA = """
CREATE TABLE tiep_cong_dan (           -- one row per reception (lượt tiếp)
  id INTEGER PRIMARY KEY,
  ma_don_vi TEXT NOT NULL,             -- '001' (the district's own reception)
  ngay_tiep DATE NOT NULL,
  hinh_thuc TEXT NOT NULL,             -- THUONG_XUYEN | DINH_KY | DOT_XUAT
  nguoi_tiep TEXT NOT NULL,            -- CAN_BO | THU_TRUONG | UY_QUYEN
  ky_tiep_id INTEGER,                  -- the sitting (kỳ tiếp), for DINH_KY / DOT_XUAT
  so_nguoi INTEGER NOT NULL,
  ho_ten TEXT, dia_chi TEXT, so_cccd TEXT, so_dien_thoai TEXT,   -- personal data
  noi_dung TEXT,
  loai TEXT NOT NULL,                  -- KN | TC | KNPA
  vu_viec_id INTEGER NOT NULL,         -- references vu_viec.id
  lan_tiep TEXT NOT NULL,              -- LAN_DAU | NHIEU_LAN
  trang_thai TEXT NOT NULL,            -- NHAP | CHINH_THUC | DA_XOA
  ngay_tao TIMESTAMP NOT NULL,
  ngay_cap_nhat TIMESTAMP NOT NULL
);
CREATE TABLE don_thu (                 -- one row per petition (đơn)
  id INTEGER PRIMARY KEY, ma_don_vi TEXT NOT NULL, ngay_nhan DATE NOT NULL,
  nguon TEXT NOT NULL,                 -- TIEP_CONG_DAN | BUU_CHINH | CO_QUAN_KHAC | TRUC_TUYEN
  loai TEXT NOT NULL, so_nguoi_dung_ten INTEGER NOT NULL,
  ho_ten TEXT, dia_chi TEXT, so_cccd TEXT, so_dien_thoai TEXT, noi_dung TEXT,
  linh_vuc TEXT,                       -- CHE_DO_CHINH_SACH | DAT_DAI | CONG_CHUC | THAM_NHUNG | TU_PHAP | DANG_DOAN_THE | KHAC
  vu_viec_id INTEGER, tiep_cong_dan_id INTEGER,
  du_dieu_kien INTEGER, thuoc_tham_quyen INTEGER,
  hinh_thuc_xu_ly TEXT,                -- THU_LY | HUONG_DAN | CHUYEN_DON | DON_DOC
  co_van_ban_phuc_dap INTEGER,
  trang_thai TEXT NOT NULL, ngay_tao TIMESTAMP NOT NULL, ngay_cap_nhat TIMESTAMP NOT NULL,
  -- processing and resolution (added for the XLD and KQGQ forms; NULL until known)
  ngay_xu_ly DATE,                     -- the petition was processed (classified and handled)
  ngay_thu_ly DATE,                    -- accepted for resolution (THU_LY petitions)
  ngay_giai_quyet DATE,                -- resolved (the case's resolution)
  lan_giai_quyet TEXT,                 -- LAN_DAU | LAN_2 | BAN_AN (KN) | TIEP (TC, tố cáo tiếp)
  ket_qua TEXT,                        -- DUNG | SAI | DUNG_MOT_PHAN | CONG_NHAN | HUY_SUA | RUT_DON | DINH_CHI
  dung_han INTEGER,                    -- 1/0: resolved within the legal time limit
  thu_hoi_tien REAL, thu_hoi_dat REAL, -- kiến nghị thu hồi cho Nhà nước: triệu đồng, m²
  tra_to_chuc_tien REAL, tra_to_chuc_dat REAL, tra_ca_nhan_tien REAL, tra_ca_nhan_dat REAL,
  so_to_chuc_duoc_tra INTEGER, so_ca_nhan_duoc_tra INTEGER,      -- trả lại quyền lợi
  xu_ly_hc_so_nguoi INTEGER, xu_ly_hc_cbccvc INTEGER,            -- kiến nghị xử lý hành chính
  chuyen_dieu_tra_so_vu INTEGER, chuyen_dieu_tra_so_nguoi INTEGER, chuyen_dieu_tra_cbccvc INTEGER,
  -- thi hành quyết định / thực hiện kết luận (decisions that order something; NULL otherwise)
  ngay_thi_hanh_xong DATE,             -- fully carried out
  da_thu_tien REAL, da_thu_dat REAL,   -- đã thu cho Nhà nước
  da_tra_to_chuc_tien REAL, da_tra_to_chuc_dat REAL, da_tra_ca_nhan_tien REAL, da_tra_ca_nhan_dat REAL,
  da_xu_ly_hc_so_nguoi INTEGER, da_xu_ly_hc_cbccvc INTEGER,       -- đã xử lý hành chính
  da_khoi_to_so_vu INTEGER, da_khoi_to_so_nguoi INTEGER, da_khoi_to_cbccvc INTEGER,  -- đã khởi tố
  -- TT 06/2025 (added for 03/GQKN, 04/GQTC, 05/KQTH)
  ngay_khong_thu_ly DATE,              -- không thụ lý (notice of non-acceptance)
  xu_ly_hc_so_to_chuc INTEGER,         -- kiến nghị xử lý hành chính: số tổ chức
  da_xu_ly_hc_so_to_chuc INTEGER       -- đã xử lý hành chính: số tổ chức
);
CREATE TABLE vu_viec (                 -- one row per case (vụ việc)
  id INTEGER PRIMARY KEY, ma_don_vi TEXT NOT NULL, ngay_thu_ly DATE NOT NULL,
  loai TEXT NOT NULL, linh_vuc TEXT,
  tinh_trang TEXT NOT NULL,            -- CHUA_GIAI_QUYET | DANG_GIAI_QUYET | DA_GIAI_QUYET
  ngay_giai_quyet DATE,
  trang_thai TEXT NOT NULL, ngay_tao TIMESTAMP NOT NULL, ngay_cap_nhat TIMESTAMP NOT NULL
);
"""
STATUS = {"official": "CHINH_THUC", "draft": "NHAP", "deleted": "DA_XOA"}
# don_thu columns of the processing and decision fields (model.PROGRESS_FIELDS order).
PROGRESS_COLUMNS = ("ngay_xu_ly", "ngay_thu_ly", "ngay_giai_quyet", "lan_giai_quyet", "ket_qua", "dung_han",
                    "thu_hoi_tien", "thu_hoi_dat", "tra_to_chuc_tien", "tra_to_chuc_dat", "tra_ca_nhan_tien",
                    "tra_ca_nhan_dat", "so_to_chuc_duoc_tra", "so_ca_nhan_duoc_tra", "xu_ly_hc_so_nguoi",
                    "xu_ly_hc_cbccvc", "chuyen_dieu_tra_so_vu", "chuyen_dieu_tra_so_nguoi", "chuyen_dieu_tra_cbccvc",
                    "ngay_thi_hanh_xong", "da_thu_tien", "da_thu_dat", "da_tra_to_chuc_tien", "da_tra_to_chuc_dat",
                    "da_tra_ca_nhan_tien", "da_tra_ca_nhan_dat", "da_xu_ly_hc_so_nguoi", "da_xu_ly_hc_cbccvc",
                    "da_khoi_to_so_vu", "da_khoi_to_so_nguoi", "da_khoi_to_cbccvc",
                    "ngay_khong_thu_ly", "xu_ly_hc_so_to_chuc", "da_xu_ly_hc_so_to_chuc")
# Canonical round and outcome → the database's codes (upper-case canonical names).
CODES = {c: c.upper() for c in ("lan_dau", "lan_2", "ban_an", "tiep",
                                 "dung", "sai", "dung_mot_phan", "cong_nhan", "huy_sua", "rut_don", "dinh_chi")}
PETITION_WIDTH = 21 + len(PROGRESS_COLUMNS)


def _ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _b(v: bool | None) -> int | None:
    return None if v is None else int(v)


def _iso(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def write_district(path: Path, sim: UnitSim, start: dt.date, end: dt.date, pii: set, *,
                   defects: list | None = None, inject: bool = False, seed: int = 0,
                   skips: list | None = None) -> tuple[list, list, list]:
    """Write one district database; returns ground-truth rows (receptions, petitions, cases).
    ``inject``: add the extra defective rows of simulators.defects (never counted),
    listed in ``defects``. ``skips`` collects the counted records of vượt cấp citizens
    (simulators.skip_level.higher_row)."""
    unit = sim.unit
    code = unit.code
    cutoff = end_of_day(min(end, LAST_LEGACY))
    rec_rows, pet_rows, case_rows = [], [], []
    gt_rec, gt_pet, gt_case = [], [], []
    used_cases = set()

    def citizen_cols(c):
        if record_pii(pii, c) is None:
            return None, None, None, None
        return c.full_name, c.address, c.id_number, c.phone

    for rec in sorted(sim.receptions, key=lambda r: r.rid):
        st = state_at(rec.events, cutoff)
        if st is None or rec.date < start:
            continue
        first, last, status, overrides = st
        v = rec.values(overrides)
        used_cases.add(rec.case.seq)
        rec_rows.append((rec.rid, code, rec.date.isoformat(), v["mode"].upper(), v["receiver"].upper(),
                         v["sitting"] if v["mode"] != "thuong_xuyen" else None, v["people"],
                         *citizen_cols(rec.citizen), rec.case.summary, v["kind"], rec.case.db_id,
                         v["visit"].upper(), STATUS[status], _ts(first), _ts(last)))
        # Counted: official as of the cutoff (a record deleted later still counts
        # today); a staff double entry collapses into its original.
        if status == OFFICIAL and rec.role != "duplicate":
            gt_rec.append(("district_db", code, rec.date.isoformat(), v["mode"], v["receiver"],
                           f"{code}:{v['sitting']}" if v["mode"] != "thuong_xuyen" else None, v["people"],
                           v["kind"], f"{code}:{rec.case.db_id}", v["visit"], unit.key, str(rec.rid)))
            if rec.case.planted is not None and skips is not None:
                skips.append(higher_row(rec.case.planted, "reception", gt_rec[-1], rec.case.field))
    for pet in sorted(sim.petitions, key=lambda p: p.rid):
        st = state_at(pet.events, cutoff)
        if st is None or pet.date < start:
            continue
        first, last, status, overrides = st
        v = pet.values(overrides)
        used_cases.add(pet.case.seq)
        reception_id = pet.reception.rid if pet.reception is not None else None
        prog = pet.progress(cutoff, v["kind"])
        # Processing, acceptance and resolution update the row (and its ngay_cap_nhat).
        last = max([last] + [t for t in pet.moments() if t <= cutoff])
        pet_rows.append((pet.rid, code, pet.date.isoformat(), v["channel"].upper(), v["kind"], v["signers"],
                         *citizen_cols(pet.citizen), pet.case.summary, v["field"].upper(), pet.case.db_id,
                         reception_id, int(pet.eligible), _b(pet.competent),
                         pet.handling.upper() if pet.handling else None, _b(v["reply_received"]),
                         STATUS[status], _ts(first), _ts(last), *encode_progress(prog, CODES)))
        if status == OFFICIAL:
            gt_pet.append(("district_db", code, pet.date.isoformat(), v["channel"], v["kind"], v["signers"],
                           f"{code}:{pet.case.db_id}", v["field"], int(pet.eligible), _b(pet.competent),
                           pet.handling, _b(v["reply_received"]), prog["resolution"],
                           _iso(prog["resolved_date"]), unit.key, str(pet.rid), *truth_progress(prog)))
            if pet.case.planted is not None and skips is not None:
                skips.append(higher_row(pet.case.planted, "petition", gt_pet[-1], v["field"]))
    for case in sorted((c for c in sim.cases if c.db_id is not None), key=lambda c: c.db_id):
        if case.created > cutoff or (case.opened < start and case.seq not in used_cases):
            continue
        status, resolved = case.status_at(cutoff)
        updated = max([case.created] + [t for t in (case.accepted, case.resolved) if t is not None and t <= cutoff])
        case_rows.append((case.db_id, code, case.opened.isoformat(), case.kind, case.field.upper(), status.upper(),
                          resolved.isoformat() if resolved else None, "CHINH_THUC", _ts(case.created), _ts(updated)))
        gt_case.append(("district_db", code, f"{code}:{case.db_id}", case.opened.isoformat(), case.kind, case.field,
                        status, resolved.isoformat() if resolved else None, unit.key, str(case.db_id)))

    if inject:
        extra = _defective_rows(Rng(seed, unit.key, "db-defects"), code, rec_rows, pet_rows, case_rows,
                                end_of_day(min(end, LAST_LEGACY)))
        for table, row, kind, rule, detail in extra:
            {"tiep_cong_dan": rec_rows, "don_thu": pet_rows, "vu_viec": case_rows}[table].append(row)
            if defects is not None:
                defects.append(defect(kind, "district_db", f"{code}.sqlite#{table}", f"district_db/{code}.sqlite",
                                      QUARANTINED, rule, record_id=str(row[0]), detail=detail))
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        for table, rows, width in (("tiep_cong_dan", rec_rows, 18), ("don_thu", pet_rows, PETITION_WIDTH),
                                   ("vu_viec", case_rows, 10)):
            con.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * width)})", rows)
        con.execute("CREATE INDEX ix_tiep_cong_dan_cap_nhat ON tiep_cong_dan (ngay_cap_nhat)")
        con.execute("CREATE INDEX ix_don_thu_cap_nhat ON don_thu (ngay_cap_nhat)")
        con.execute("CREATE INDEX ix_vu_viec_cap_nhat ON vu_viec (ngay_cap_nhat)")
        con.commit()
    finally:
        con.close()
    return gt_rec, gt_pet, gt_case


def _defective_rows(rng: Rng, code: str, recs: list, pets: list, cases: list, cutoff: dt.datetime) -> list:
    """Extra rows with defects a correct pipeline must quarantine (simulators.defects):
    official rows re-entered with one field broken (impossible date, code outside the
    domain, a staff member receiving at a head's sitting), cases resolved before
    they were accepted, and resolved petitions with an unknown outcome or a negative
    amount. New ids after the last one; entered a few minutes after the row
    they copy. [(table, row, defect kind, rule code, detail)]"""
    out = []
    official = [r for r in recs if r[15] == "CHINH_THUC"]
    periodic = [r for r in official if r[3] == "DINH_KY"]
    pets_ok = [p for p in pets if p[18] == "CHINH_THUC"]
    resolved = [c for c in cases if c[6] is not None]
    next_id = {"tiep_cong_dan": max((r[0] for r in recs), default=0),
               "don_thu": max((p[0] for p in pets), default=0), "vu_viec": max((c[0] for c in cases), default=0)}

    def stamp(text: str) -> str:
        t = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S") + dt.timedelta(minutes=rng.randint(3, 90))
        return _ts(min(t, cutoff))

    def copy(table: str, template: tuple, changes: dict[int, object], ts: tuple[int, int]) -> tuple:
        next_id[table] += 1
        row = list(template)
        row[0] = next_id[table]
        for i, v in changes.items():
            row[i] = v
        row[ts[0]] = row[ts[1]] = stamp(template[ts[0]])
        return tuple(row)

    def bad_date(iso: str) -> str:
        """The day after the month's last (2023-06-31, 2023-02-29), or day 00."""
        d = dt.date.fromisoformat(iso)
        day = 0 if rng.chance(0.2) else month_end(d.year, d.month).day + 1
        return f"{d.year}-{d.month:02d}-{day:02d}"

    rec_ts, pet_ts, case_ts = (16, 17), (19, 20), (8, 9)
    if official:
        for _ in range(2):
            r = rng.pick(official)
            d = bad_date(r[2])
            out.append(("tiep_cong_dan", copy("tiep_cong_dan", r, {2: d}, rec_ts), "date_impossible",
                        "DATE_INVALID", d))
        r = rng.pick(official)
        out.append(("tiep_cong_dan", copy("tiep_cong_dan", r, {12: "KHAC"}, rec_ts), "code_not_in_domain",
                    "CODE_NOT_IN_DOMAIN", "loai=KHAC"))
        r = rng.pick(official)
        out.append(("tiep_cong_dan", copy("tiep_cong_dan", r, {3: "TRUC_TUYEN"}, rec_ts), "code_not_in_domain",
                    "CODE_NOT_IN_DOMAIN", "hinh_thuc=TRUC_TUYEN"))
    for r in [rng.pick(periodic) for _ in range(3)] if periodic else []:
        out.append(("tiep_cong_dan", copy("tiep_cong_dan", r, {4: "CAN_BO"}, rec_ts), "periodic_receiver",
                    "PERIODIC_RECEIVER", "hinh_thuc=DINH_KY, nguoi_tiep=CAN_BO"))
    if pets_ok:
        p = rng.pick(pets_ok)
        d = bad_date(p[2])
        out.append(("don_thu", copy("don_thu", p, {2: d, 13: None}, pet_ts), "date_impossible", "DATE_INVALID", d))
        p = rng.pick(pets_ok)
        out.append(("don_thu", copy("don_thu", p, {3: "EMAIL", 13: None}, pet_ts), "code_not_in_domain",
                    "CODE_NOT_IN_DOMAIN", "nguon=EMAIL"))
    for c in [rng.pick(resolved) for _ in range(2)] if resolved else []:
        opened = dt.date.fromisoformat(c[2])
        before = (opened - dt.timedelta(days=rng.randint(3, 40))).isoformat()
        out.append(("vu_viec", copy("vu_viec", c, {5: "DA_GIAI_QUYET", 6: before}, case_ts),
                    "resolved_before_opened", "RESOLVED_BEFORE_OPENED", f"{c[2]} > {before}"))
    # Resolved petitions whose decision is broken: an outcome outside the code list, a
    # negative amount recovered.
    outcome, money = 21 + PROGRESS_COLUMNS.index("ket_qua"), 21 + PROGRESS_COLUMNS.index("thu_hoi_tien")
    decided = [p for p in pets_ok if p[outcome] is not None]
    if decided:
        p = rng.pick(decided)
        out.append(("don_thu", copy("don_thu", p, {outcome: "KHONG_RO", 13: None}, pet_ts), "code_not_in_domain",
                    "CODE_NOT_IN_DOMAIN", "ket_qua=KHONG_RO"))
        p = rng.pick(decided)
        bad = -round(rng.uniform(5, 200), 1)
        out.append(("don_thu", copy("don_thu", p, {money: bad, 13: None}, pet_ts), "amount_negative",
                    "AMOUNT_NEGATIVE", f"thu_hoi_tien={bad}"))
    return out
