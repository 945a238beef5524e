"""Two denouncers of one case on one day are two receptions and two petitions (issue 10).

For each kind of source — a commune register (.xlsx), a district database (SQLite), the
city service (HTTP on localhost) — the same small scenario goes through the production
path (pipeline.tasks ingestion and consolidation, pipeline.reporting.build_reports):

- window 2024-Q2, tố cáo case C1 at one unit, 10/04/2024: denouncer A and denouncer B
  are received (thường xuyên, by staff, one person each) and each lodges a petition;
  A's reception and petition are entered a second time (the same row delivered twice);
- window 2024-Q3: A again, in another tố cáo case (C2) and in a khiếu nại case (C9).

Expected: 2 receptions and 2 petitions of C1 in 01/TCD, 02/TCD and 01/XLD (A's double
entry collapses into one, quarantined as DUPLICATE); A's pseudonyms in C1, C2 and C9
all differ. Then the source corrects B's record (2 people instead of 1): the correction
replaces the earlier version — still 2 receptions, now 3 people. No name, ID number or
phone number of the scenario appears in any output.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from core import connections, settings
from tests.pii_scan import find_pii

pytestmark = pytest.mark.integration   # each source kind served as it is: the city service over HTTP

D1, D2 = dt.date(2024, 4, 10), dt.date(2024, 7, 10)
PERIOD = "2024-Q2"

CITIZENS = {
    "A": ("Nguyễn Văn Tố Cáo", "001085777001", "0912777001", "Số 9 ngõ 77 phố Quán Thánh"),
    "B": ("Trần Thị Đồng Cáo", "001190777002", "0987777002", "Số 21 ngõ 88 phố Phan Đình Phùng"),
}
# (row id, citizen, day, case, kind, people): the scenario, written into every kind of source.
SCENARIO = [
    ("r1", "A", D1, "C1", "TC", 1),
    ("r2", "B", D1, "C1", "TC", 1),
    ("r3", "A", D1, "C1", "TC", 1),       # A's row entered a second time
    ("r4", "A", D2, "C2", "TC", 1),
    ("r5", "A", D2, "C9", "KN", 1),
]
CORRECTED = {"r2": 2}                      # the source corrects B's people count


def _pii() -> dict:
    """The scenario's personal data in the form tests.pii_scan looks for."""
    from tests.pii_scan import _words

    out = {"numbers": set(), "phrases": set()}
    for name, id_number, phone, address in CITIZENS.values():
        out["numbers"] |= {id_number, phone}
        out["phrases"] |= {tuple(_words(name)), tuple(_words(address))}
    return out


# ------------------------------------------------------------------ the three sources
REGISTER_RECEPTION = ["STT", "Ngày tiếp", "Họ tên và địa chỉ", "Số CCCD/Hộ chiếu", "Số điện thoại",
                      "Phân loại", "Số người", "Hình thức tiếp", "Người tiếp", "Lần tiếp", "Mã vụ việc"]
REGISTER_PETITION = ["STT", "Ngày nhận đơn", "Họ tên và địa chỉ người viết đơn", "Số CCCD/Hộ chiếu",
                     "Nguồn đơn", "Loại đơn", "Số người đứng tên", "Lĩnh vực", "Mã vụ việc",
                     "Đủ điều kiện xử lý", "Thẩm quyền", "Hình thức xử lý", "Ngày xử lý"]
KIND_TEXT = {"TC": "Tố cáo", "KN": "Khiếu nại"}


def write_register(inbox: Path, people: dict) -> None:
    """Commune 00004 (Phường Trúc Bạch) writes its 2024 book."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tiếp công dân"
    ws.append(["SỔ TIẾP CÔNG DÂN NĂM 2024"])
    ws.append(REGISTER_RECEPTION)
    pet = wb.create_sheet("Đơn thư")
    pet.append(REGISTER_PETITION)
    for i, (rid, who, day, case, kind, _n) in enumerate(SCENARIO, 1):
        name, id_number, phone, address = CITIZENS[who]
        d = day.strftime("%d/%m/%Y")
        ws.append([i, d, f"{name}, {address}", id_number, phone, KIND_TEXT[kind], people.get(rid, 1),
                   "Thường xuyên", "Cán bộ tiếp công dân", "Lần đầu", case])
        pet.append([i, d, f"{name}, {address}", id_number, "Qua tiếp công dân", KIND_TEXT[kind], 1,
                    "Tham nhũng", case, "Có", "Thuộc", "Thụ lý", (day + dt.timedelta(days=2)).strftime("%d/%m/%Y")])
    inbox.mkdir(parents=True, exist_ok=True)
    wb.save(inbox / "00004_truc-bach_2024.xlsx")


def write_district(folder: Path, people: dict, stamp: str) -> None:
    """District 001 (Quận Ba Đình) records its own receptions; a correction updates the
    row in place with a later ngay_cap_nhat."""
    from simulators.district_db import SCHEMA

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "001.sqlite"
    new = not path.exists()
    con = sqlite3.connect(path)
    if new:
        con.executescript(SCHEMA)
    case_ids = {"C1": 101, "C2": 102, "C9": 109}
    for i, (rid, who, day, case, kind, _n) in enumerate(SCENARIO, 1):
        name, id_number, phone, address = CITIZENS[who]
        n = people.get(rid, 1)
        if new:
            con.execute("insert or ignore into vu_viec values (?,?,?,?,?,?,?,?,?,?)",
                        (case_ids[case], "001", day.isoformat(), kind, "THAM_NHUNG", "DANG_GIAI_QUYET", None,
                         "CHINH_THUC", stamp, stamp))
            con.execute("insert into tiep_cong_dan values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (i, "001", day.isoformat(), "THUONG_XUYEN", "CAN_BO", None, n, name, address, id_number,
                         phone, "…", kind, case_ids[case], "LAN_DAU", "CHINH_THUC", stamp, stamp))
            con.execute("insert into don_thu (id, ma_don_vi, ngay_nhan, nguon, loai, so_nguoi_dung_ten, ho_ten, "
                        "dia_chi, so_cccd, so_dien_thoai, linh_vuc, vu_viec_id, tiep_cong_dan_id, du_dieu_kien, "
                        "thuoc_tham_quyen, hinh_thuc_xu_ly, trang_thai, ngay_tao, ngay_cap_nhat, ngay_xu_ly, "
                        "ngay_thu_ly) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (i, "001", day.isoformat(), "TIEP_CONG_DAN", kind, 1, name, address, id_number, phone,
                         "THAM_NHUNG", case_ids[case], i, 1, 1, "THU_LY", "CHINH_THUC", stamp, stamp,
                         (day + dt.timedelta(days=2)).isoformat(), (day + dt.timedelta(days=3)).isoformat()))
        elif rid in people:
            con.execute("update tiep_cong_dan set so_nguoi=?, ngay_cap_nhat=? where id=?", (n, stamp, i))
    con.commit()
    con.close()


def write_city(path: Path, people: dict, version: int) -> None:
    """The city's own receptions (unit 01); a correction is a new version of the record."""
    from simulators.city_store import SCHEMA, stamp

    new = not path.exists()
    con = sqlite3.connect(path)
    if new:
        con.executescript(SCHEMA)
    at, ts = stamp(dt.datetime(2024, 9, 20, 9, 0) + dt.timedelta(days=version))
    for i, (rid, who, day, case, kind, _n) in enumerate(SCENARIO, 1):
        name, id_number, phone, address = CITIZENS[who]
        if not new and rid not in people:
            continue
        con.execute("insert into receptions values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (f"TCD-{i}", version, at, ts, "official", "01", day.isoformat(), "regular", "staff", None,
                     people.get(rid, 1), kind, f"VV-01-{case}", "first", name, id_number, address, phone, "…"))
        if new:
            con.execute("insert into petitions (id, version, updated_at, updated_ts, status, unit_code, received_on, "
                        "channel, kind, signers, field, case_id, reception_id, eligible, competent, handling, "
                        "citizen_full_name, citizen_id_number, citizen_address, citizen_phone, summary, "
                        "processed_on, accepted_on) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (f"DON-{i}", 1, at, ts, "official", "01", day.isoformat(), "reception", kind, 1,
                         "corruption", f"VV-01-{case}", f"TCD-{i}", 1, 1, "accept", name, id_number, address,
                         phone, "…", (day + dt.timedelta(days=2)).isoformat(),
                         (day + dt.timedelta(days=3)).isoformat()))
            con.execute("insert or ignore into cases values (?,?,?,?,?,?,?,?,?,?,?)",
                        (f"VV-01-{case}", 1, at, ts, "official", "01", day.isoformat(), kind, "corruption",
                         "in_progress", None))
    con.commit()
    con.close()


SOURCES = {
    # source kind: (level, unit code, the scenario's case of each case key)
    "commune_register": ("xa", "00004", {f"00004:{c}": c for c in ("C1", "C2", "C9")}),
    "district_db": ("huyen", "001", {"001:101": "C1", "001:102": "C2", "001:109": "C9"}),
    "city_service": ("tinh", "01", {f"01:VV-01-{c}": c for c in ("C1", "C2", "C9")}),
}


@pytest.fixture(params=list(SOURCES))
def scenario(request, tmp_path):
    """Sources of one kind holding the scenario, and a function that runs the production
    path once more (ingest → consolidate → the three reports) after a correction."""
    from pipeline import dq, reporting, tasks
    from simulators.city_server import serve_in_thread

    kind = request.param
    level, unit, _ = SOURCES[kind]
    env = {"TCD_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'wh.sqlite'}", "TCD_PATH_REPORTS": str(tmp_path / "reports"),
           "TCD_PATH_DATA_QUALITY": str(tmp_path / "dq"), "TCD_COMMUNE_INBOX": str(tmp_path / "inbox"),
           "TCD_DISTRICT_DB_DIR": str(tmp_path / "district"), "TCD_RECIPIENTS_FILE": str(tmp_path / "none.yaml")}
    (tmp_path / "inbox").mkdir()
    (tmp_path / "district").mkdir()
    (tmp_path / "none.yaml").write_text("recipients: []\n", encoding="utf-8")
    city_db = tmp_path / "city.sqlite"
    write = {"commune_register": lambda people, n: write_register(tmp_path / "inbox", people),
             "district_db": lambda people, n: write_district(tmp_path / "district", people,
                                                             f"2024-09-2{n} 10:00:00"),
             "city_service": lambda people, n: write_city(city_db, people, n)}[kind]
    token = os.environ["TCD_CITY_API_TOKEN"]
    write({}, 1)
    if kind != "city_service":
        from simulators.city_store import SCHEMA

        sqlite3.connect(city_db).executescript(SCHEMA)      # the city service answers, with nothing
    url, stop = serve_in_thread(city_db, token, port=0)
    env["TCD_CITY_API_URL"] = url

    def run() -> dict:
        tasks.ingest_commune_registers()
        for code in tasks.list_district_codes():
            tasks.ingest_district(code)
        tasks.ingest_city_service()
        for k in SOURCES:
            tasks.consolidate(k)
        period = reporting.resolve_periods(PERIOD)[0]
        dq.assess(period)
        reporting.build_reports(period, level, forms=["01/TCD", "02/TCD", "01/XLD"], units=[unit],
                                scope_kinds=("own",))
        return {form: read_form(tmp_path / "reports", form, level, unit) for form in ("01/TCD", "02/TCD", "01/XLD")}

    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        tasks.prepare_warehouse()
        try:
            yield {"kind": kind, "unit": unit, "run": run, "write": write, "home": tmp_path}
        finally:
            stop()


def read_form(reports: Path, form: str, level: str, unit: str) -> dict[int, object]:
    """{MS number: value} of the unit's row in the latest issued workbook of `form`."""
    folder = reports / PERIOD / level / unit
    paths = sorted(p for p in folder.glob(f"{form.replace('/', '-')}_*.xlsx"))
    assert paths, f"no {form} workbook in {folder}: {sorted(x.name for x in folder.glob('*'))}"
    latest = max(paths, key=lambda p: p.stat().st_mtime_ns)
    rows = list(openpyxl.load_workbook(latest, read_only=True).worksheets[0].iter_rows(values_only=True))
    ms = next(r for r in rows if r[0] == "MS")
    col = {int(str(v).split("=")[0]): j for j, v in enumerate(ms) if j and v not in (None, "")
           and str(v).split("=")[0].isdigit()}
    unit_row = rows[rows.index(ms) + 1]
    return {n: unit_row[j] for n, j in col.items()}


def _facts(eng, table: str, kind: str) -> list[dict]:
    with eng.connect() as c:
        return [dict(r._mapping) for r in c.execute(sa.text(
            f"select case_key, petition_kind, citizen_pseudonym from {table} where source_kind = :k"), {"k": kind})]


def test_two_denouncers_of_one_case_count_twice_and_a_double_entry_once(scenario):
    from warehouse import db
    from warehouse.schema import dq_quarantine

    kind = scenario["kind"]
    got = scenario["run"]()
    tcd01, tcd02, xld01 = got["01/TCD"], got["02/TCD"], got["01/XLD"]
    # 01/TCD: tiếp thường xuyên — 2 lượt, 2 người, 1 vụ việc tiếp lần đầu
    assert (tcd01[4], tcd01[5], tcd01[6]) == (2, 2, 1), tcd01
    # 02/TCD: 2 đơn qua tiếp công dân, 1 vụ việc; both tố cáo
    assert (tcd02[1], tcd02[2], tcd02[5], tcd02[6]) == (2, 1, 2, 1), tcd02
    # 01/XLD: 2 đơn, both received in the window
    assert (xld01[1], xld01[3]) == (2, 2), xld01

    eng = db.engine(connections.warehouse_url(settings.get()))
    with eng.connect() as c:
        dups = c.execute(sa.select(dq_quarantine.c.record_type, dq_quarantine.c.reason_code).where(
            dq_quarantine.c.source_kind == kind)).all()
    assert sorted(dups) == [("petition", "DUPLICATE"), ("reception", "DUPLICATE")]

    # Pseudonyms: two denouncers of C1 apart; A in C1, in C2 and as a KN citizen: three
    # values that link nothing.
    case_of = SOURCES[kind][2]
    for table in ("fact_reception", "fact_petition"):
        facts = _facts(eng, table, kind)
        by_case: dict = {}
        for f in facts:
            by_case.setdefault(case_of[f["case_key"]], []).append(f["citizen_pseudonym"])
        assert len(by_case["C1"]) == 2 and len(set(by_case["C1"])) == 2 and None not in by_case["C1"], by_case
        tc = {p for case in ("C1", "C2") for p in by_case[case]}
        assert len(tc) == 3                               # none repeats across the two cases
        assert not tc & set(by_case["C9"])                # none equals the KN pseudonym of the same ID

    # B's record corrected at the source: it replaces its earlier version.
    scenario["write"](CORRECTED, 2)
    got = scenario["run"]()
    assert (got["01/TCD"][4], got["01/TCD"][5], got["01/TCD"][6]) == (2, 3, 1), got["01/TCD"]
    assert (got["02/TCD"][1], got["02/TCD"][5], got["01/XLD"][1]) == (2, 2, 2)
    assert len([f for f in _facts(eng, "fact_reception", kind) if case_of[f["case_key"]] == "C1"]) == 2

    # No name, ID number, phone or address of the scenario in any output.
    home = scenario["home"]
    assert find_pii([home / "reports", home / "dq", home / "wh.sqlite"], _pii()) == []
