"""The ground truth: what a correct pipeline must count, from the generator's model.

One row per official, de-duplicated record in its latest state as of the end of the run
(`--end`), with canonical values (warehouse/schema.py). Personal values written into any
source are listed in ``gt_pii`` (NFC, as written; phone numbers also in the formatted
spellings registers use, and as legacy-encoded books write them) so tests can prove
none reaches an output. ``gt_defect`` (= defects.csv), ``gt_submission`` and
``gt_outlier`` describe the defects, deliveries and outliers of simulators.defects;
``gt_skipped_level`` the planted vượt cấp records of simulators.skip_level;
``gt_calendar`` the published reception calendars of simulators.calendar.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

RECEPTION_COLUMNS = ("source_kind", "unit_code", "received_date", "mode", "receiver", "sitting_key", "people",
                     "kind", "case_key", "visit", "unit_key", "record_id")
PROGRESS_COLUMNS = ("processed_date", "accepted_date", "resolution_round", "outcome", "on_time",
                    "recover_money", "recover_land", "return_org_money", "return_org_land", "return_person_money",
                    "return_person_land", "orgs_restored", "persons_restored", "sanction_people",
                    "sanction_officials", "prosecuted_cases", "prosecuted_people", "prosecuted_officials",
                    "executed_date", "collected_money", "collected_land", "returned_org_money", "returned_org_land",
                    "returned_person_money", "returned_person_land", "sanctioned_people", "sanctioned_officials",
                    "prosecuted_done_cases", "prosecuted_done_people", "prosecuted_done_officials",
                    "not_accepted_date", "acceptance_recorded", "sanction_orgs", "sanctioned_orgs")
PETITION_COLUMNS = ("source_kind", "unit_code", "received_date", "channel", "kind", "signers", "case_key",
                    "field", "eligible", "competent", "handling", "reply_received", "resolution",
                    "resolved_date", "unit_key", "record_id", *PROGRESS_COLUMNS)
SKIPPED_LEVEL_COLUMNS = ("source_kind", "unit_code", "unit_key", "record_type", "record_id", "received_date", "kind",
                         "field", "case_key", "lower_source_kind", "lower_unit_code", "lower_unit_key",
                         "lower_case_key", "lower_opened_date", "lower_resolved_date", "lower_record_id")
CASE_COLUMNS = ("source_kind", "unit_code", "case_key", "opened_date", "kind", "field", "resolution",
                "resolved_date", "unit_key", "record_id")

SCHEMA = """
CREATE TABLE gt_reception (
  source_kind TEXT NOT NULL,     -- commune_register | district_db | city_service
  unit_code TEXT NOT NULL,       -- as recorded ('01', '001', '00004')
  received_date TEXT NOT NULL,   -- YYYY-MM-DD
  mode TEXT NOT NULL,            -- thuong_xuyen | dinh_ky | dot_xuat
  receiver TEXT NOT NULL,        -- can_bo | thu_truong | uy_quyen
  sitting_key TEXT,              -- dinh_ky/dot_xuat only: '<code>:<yyyy-mm-dd>:<receiver>' (register),
                                 -- '<district code>:<ky_tiep_id>', '01:<sitting_id>'
  people INTEGER NOT NULL,
  kind TEXT NOT NULL,            -- KN | TC | KNPA
  case_key TEXT NOT NULL,        -- '<unit code>:<case ref as written>'
  visit TEXT NOT NULL,           -- lan_dau | nhieu_lan
  unit_key TEXT NOT NULL,        -- dim_unit key valid on received_date ('legacy:00004', '2025:00004')
  record_id TEXT NOT NULL        -- source id; register: '<file>#<sheet>:<row>' (first copy of a duplicate)
);
CREATE TABLE gt_petition (
  source_kind TEXT NOT NULL, unit_code TEXT NOT NULL, received_date TEXT NOT NULL,
  channel TEXT NOT NULL,         -- tiep_cong_dan | buu_chinh | co_quan_khac | truc_tuyen
  kind TEXT NOT NULL,
  signers INTEGER NOT NULL,      -- people who signed (0 = unsigned/anonymous; >= 5 = nhiều người đứng tên)
  case_key TEXT NOT NULL,
  field TEXT NOT NULL,           -- che_do_chinh_sach | dat_dai | cong_chuc | tham_nhung | tu_phap | dang_doan_the | khac
  eligible INTEGER NOT NULL,     -- 1/0 đủ điều kiện xử lý
  competent INTEGER,             -- 1/0 thuộc thẩm quyền; NULL when not eligible
  handling TEXT,                 -- thu_ly | huong_dan | chuyen_don | don_doc; NULL when not eligible
  reply_received INTEGER,        -- 1/0 for chuyen_don/don_doc; NULL otherwise
  resolution TEXT,               -- for thu_ly: chua_giai_quyet | dang_giai_quyet | da_giai_quyet (from the
                                 -- dates below: accepted → đang, resolved → đã); else NULL
  resolved_date TEXT,            -- the case's resolution (thu_ly petitions), YYYY-MM-DD
  unit_key TEXT NOT NULL, record_id TEXT NOT NULL,
  processed_date TEXT,           -- ngày xử lý đơn; NULL: not processed by the end of the run
  accepted_date TEXT,            -- thu_ly: the case's acceptance (thụ lý giải quyết)
  resolution_round TEXT,         -- eligible petitions: lan_dau | lan_2 | ban_an (KN), lan_dau | tiep (TC), lan_dau (KNPA)
  outcome TEXT,                  -- resolved thu_ly KN/TC petitions: dung | sai | dung_mot_phan | cong_nhan |
                                 -- huy_sua | rut_don | dinh_chi; NULL otherwise, and then so is every field below
  on_time INTEGER,               -- 1/0 chấp hành thời hạn
  recover_money REAL, recover_land REAL,            -- triệu đồng, m² (0 when nothing)
  return_org_money REAL, return_org_land REAL, return_person_money REAL, return_person_land REAL,
  orgs_restored INTEGER, persons_restored INTEGER, sanction_people INTEGER, sanction_officials INTEGER,
  prosecuted_cases INTEGER, prosecuted_people INTEGER, prosecuted_officials INTEGER,
  -- execution (thi hành) of a decision that orders something; NULL otherwise. Done so far
  -- (0 when nothing yet), never more than ordered; executed_date: fully carried out.
  executed_date TEXT,
  collected_money REAL, collected_land REAL,        -- đã thu cho Nhà nước
  returned_org_money REAL, returned_org_land REAL, returned_person_money REAL, returned_person_land REAL,
  sanctioned_people INTEGER, sanctioned_officials INTEGER,            -- đã xử lý hành chính
  prosecuted_done_cases INTEGER, prosecuted_done_people INTEGER, prosecuted_done_officials INTEGER,  -- đã khởi tố
  -- TT 06/2025 fields; all NULL when the record's source does not carry them (register
  -- books before simulators.registers.TT06_COLUMNS_FROM); acceptance_recorded 1/NULL.
  not_accepted_date TEXT,        -- không thụ lý (the case's); then accepted_date and the decision are NULL
  acceptance_recorded INTEGER,
  sanction_orgs INTEGER,         -- decisions: organisations recommended for administrative handling (0 when none)
  sanctioned_orgs INTEGER        -- decisions: organisations handled so far (0 when none or nothing to execute)
);
CREATE TABLE gt_skipped_level (  -- vượt cấp: a higher-level record of a citizen whose commune case was open
  source_kind TEXT NOT NULL,     -- district_db | city_service (the higher level)
  unit_code TEXT NOT NULL, unit_key TEXT NOT NULL,
  record_type TEXT NOT NULL,     -- reception | petition
  record_id TEXT NOT NULL,       -- as in gt_reception / gt_petition
  received_date TEXT NOT NULL,
  kind TEXT NOT NULL,            -- KN | KNPA (the commune case's kind)
  field TEXT NOT NULL,
  case_key TEXT NOT NULL,        -- the higher level's case
  lower_source_kind TEXT NOT NULL,   -- commune_register
  lower_unit_code TEXT NOT NULL, lower_unit_key TEXT NOT NULL,
  lower_case_key TEXT NOT NULL,  -- '<commune code>:<case ref>' as in gt_reception
  lower_opened_date TEXT NOT NULL,   -- the commune case's first reception
  lower_resolved_date TEXT,      -- as of the end of the run; NULL: still open
  lower_record_id TEXT NOT NULL  -- that first reception's register row
);
CREATE TABLE gt_case (           -- sources with a case table: district_db, city_service
  source_kind TEXT NOT NULL, unit_code TEXT NOT NULL, case_key TEXT NOT NULL, opened_date TEXT NOT NULL,
  kind TEXT NOT NULL, field TEXT NOT NULL,
  resolution TEXT NOT NULL,      -- as of the end of the run
  resolved_date TEXT, unit_key TEXT NOT NULL, record_id TEXT NOT NULL
);
CREATE TABLE gt_pii (
  kind TEXT NOT NULL,            -- name | id_number | phone | address
  value TEXT NOT NULL,           -- NFC
  PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE TABLE gt_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE gt_defect (         -- every defect in the sources (= defects.csv; simulators/defects.py)
  defect_kind TEXT NOT NULL, source_kind TEXT NOT NULL,
  resource TEXT NOT NULL,        -- register file name | '<code>.sqlite#<table>' | API resource
  path TEXT NOT NULL,            -- relative to the output folder
  sheet TEXT,                    -- registers: the worksheet
  row INTEGER,                   -- registers: worksheet row (1-based); NULL for a whole file
  record_id TEXT,                -- '<file>#<sheet>:<row>' | database id | API id
  expected_outcome TEXT NOT NULL,  -- counted | quarantined | batch_rejected | skipped
  rule_code TEXT,                -- expectations/rules.yaml; empty when counted or skipped
  detail TEXT                    -- the defective value or what is wrong; never personal data
);
CREATE TABLE gt_submission (     -- register books: one row per book a unit owed
  unit_code TEXT NOT NULL, source_kind TEXT NOT NULL, year INTEGER NOT NULL, file_name TEXT NOT NULL,
  delivered_at TEXT,             -- ISO 8601 +07:00 (= the file's mtime); NULL when missing
  late INTEGER,                  -- 1/0; NULL when missing
  missing INTEGER NOT NULL       -- 1: never delivered (its records are in no source and not in the truth)
);
CREATE TABLE gt_outlier (        -- units with a spike quarter (true records, counted)
  source_kind TEXT NOT NULL, unit_code TEXT NOT NULL, unit_key TEXT NOT NULL, name TEXT NOT NULL,
  quarter TEXT NOT NULL, window_from TEXT NOT NULL, window_to TEXT NOT NULL, factor REAL NOT NULL
);
"""


def truth_progress(prog: dict, tt06: bool = True) -> tuple:
    """The PROGRESS_COLUMNS values of a petition's progress (model.Petition.progress);
    ``tt06``: whether the record's source carries the TT 06/2025 fields."""
    prog = dict(prog)
    if tt06:
        prog["acceptance_recorded"] = 1
        if prog["outcome"] is not None:       # a blank on a decision is 0 (data contract)
            prog["sanction_orgs"] = prog["sanction_orgs"] or 0
            prog["sanctioned_orgs"] = prog["sanctioned_orgs"] or 0
    else:
        prog.update(dict.fromkeys(("not_accepted_date", "acceptance_recorded", "sanction_orgs", "sanctioned_orgs")))
    out = []
    for col in PROGRESS_COLUMNS:
        v = prog[col]
        if col.endswith("_date") and v is not None:
            v = v.isoformat()
        elif col == "on_time" and v is not None:
            v = int(v)
        out.append(v)
    return tuple(out)


# The head's published reception calendar as delivered (simulators.calendar): one row
# per announced day and unit; a commune that sends none, or a month left out, has no
# rows (so a unit's month is covered exactly when it has a row in it).
CALENDAR_SCHEMA = """
CREATE TABLE gt_calendar (
  source_kind TEXT NOT NULL,     -- commune_register | district_db | city_service
  unit_code TEXT NOT NULL, unit_key TEXT NOT NULL,
  announced_date TEXT NOT NULL,  -- YYYY-MM-DD
  receiver TEXT NOT NULL,        -- thu_truong (in person) | uy_quyen (delegated)
  record_id TEXT NOT NULL        -- register: '<file>#<sheet>:<row>'; database id; API id
);
"""


def write_truth(path: Path, receptions: list, petitions: list, cases: list, pii: list, meta: dict, *,
                defects: list = (), submissions: list = (), outliers: list = (), skipped_level: list = (),
                calendar: list = ()) -> None:
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        con.executemany(f"INSERT INTO gt_reception VALUES ({','.join('?' * len(RECEPTION_COLUMNS))})", receptions)
        con.executemany(f"INSERT INTO gt_petition VALUES ({','.join('?' * len(PETITION_COLUMNS))})", petitions)
        con.executemany(f"INSERT INTO gt_case VALUES ({','.join('?' * len(CASE_COLUMNS))})", cases)
        con.executemany("INSERT INTO gt_pii VALUES (?, ?)", pii)
        con.executemany("INSERT INTO gt_meta VALUES (?, ?)", sorted((k, str(v)) for k, v in meta.items()))
        con.executemany(f"INSERT INTO gt_defect VALUES ({','.join('?' * 10)})", defects)
        con.executemany(f"INSERT INTO gt_submission VALUES ({','.join('?' * 7)})", submissions)
        con.executemany(f"INSERT INTO gt_outlier VALUES ({','.join('?' * 8)})", outliers)
        con.executemany(f"INSERT INTO gt_skipped_level VALUES ({','.join('?' * len(SKIPPED_LEVEL_COLUMNS))})",
                        skipped_level)
        con.executescript(CALENDAR_SCHEMA)
        con.executemany("INSERT INTO gt_calendar VALUES (?, ?, ?, ?, ?, ?)", calendar)
        con.execute("CREATE INDEX ix_gt_reception_unit ON gt_reception (source_kind, unit_code, received_date)")
        con.execute("CREATE INDEX ix_gt_petition_unit ON gt_petition (source_kind, unit_code, received_date)")
        con.commit()
    finally:
        con.close()
