"""The simulated sources: determinism, subsets, the city service, register messiness,
the 2025 reform boundary, and the calibration to the published city table."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
import unicodedata
from pathlib import Path

import httpx
import openpyxl
import pytest

from simulators.city_server import serve_in_thread
from simulators.core import CAL_END, CAL_START, nth_weekday, next_working_day
from simulators.generate import generate, main

SMALL = dict(seed=42, start=dt.date(2021, 7, 1), end=dt.date(2022, 3, 1), districts=["001"], communes_per_district=2)


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _rows(db: Path, sql: str, args=()) -> list:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim_small")
    generate(out, workers=1, **SMALL)
    return out


# ------------------------------------------------------------------ determinism, subsets
def test_same_seed_and_end_give_byte_identical_files(small, tmp_path):
    # A second run with 2 worker processes: the output may not depend on scheduling.
    generate(tmp_path, workers=2, **SMALL)
    a, b = _digests(small), _digests(tmp_path)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    assert {"ground_truth.sqlite", "manifest.json", "city_service/city.sqlite", "district_db/001.sqlite"} <= a.keys()
    assert any(k.startswith("commune_inbox/2021/") for k in a)


def test_city_only_run_equals_the_city_part_of_a_full_run(small, tmp_path):
    generate(tmp_path, only="city", seed=42, start=SMALL["start"], end=SMALL["end"], workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city_service", "ground_truth.sqlite", "manifest.json"]
    assert _digests(tmp_path / "city_service") == _digests(small / "city_service")
    for table in ("gt_reception", "gt_petition", "gt_case"):
        sql = f"SELECT * FROM {table} WHERE source_kind = 'city_service' ORDER BY record_id"
        assert _rows(tmp_path / "ground_truth.sqlite", sql) == _rows(small / "ground_truth.sqlite", sql)
    pii_city = set(_rows(tmp_path / "ground_truth.sqlite", "SELECT kind, value FROM gt_pii"))
    assert pii_city and pii_city <= set(_rows(small / "ground_truth.sqlite", "SELECT kind, value FROM gt_pii"))


def test_commune_subset_writes_the_same_workbooks(small, tmp_path):
    generate(tmp_path, only="communes", seed=42, start=SMALL["start"], end=SMALL["end"], districts=["001"],
             communes_per_district=3, workers=1)
    mine, theirs = _digests(tmp_path / "commune_inbox"), _digests(small / "commune_inbox")
    assert theirs.keys() < mine.keys()
    assert all(mine[k] == v for k, v in theirs.items())


def test_cli_writes_a_manifest(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--only", "city", "--end", "2021-08-15", "--seed", "7"]) == 0
    assert "city_service" in capsys.readouterr().out
    assert (tmp_path / "manifest.json").is_file() and (tmp_path / "city_service" / "city.sqlite").is_file()
    assert main(["--out", str(tmp_path), "--districts", "999"]) == 2


# ------------------------------------------------------------------ the city service
@pytest.fixture(scope="module")
def server(small):
    token = "test-token-" + "x" * 16
    url, stop = serve_in_thread(small / "city_service" / "city.sqlite", token, port=0)
    yield url, {"Authorization": f"Bearer {token}"}, small / "city_service" / "city.sqlite"
    stop()


def test_server_requires_the_bearer_token(server):
    url, _, _ = server
    assert httpx.get(f"{url}/api/v1/health").json() == {"status": "ok"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        r = httpx.get(f"{url}/api/v1/receptions", headers=headers)
        assert r.status_code == 401
        assert r.json()["error"] == "unauthorized"


@pytest.mark.parametrize("resource", ["receptions", "petitions", "cases"])
def test_pagination_returns_every_version_once_in_feed_order(server, resource):
    url, auth, db = server
    seen, page, total_pages = [], 1, None
    while True:
        body = httpx.get(f"{url}/api/v1/{resource}", params={"page": page, "page_size": 997}, headers=auth).json()
        total_pages = body["total_pages"]
        seen.extend(body["items"])
        if page >= total_pages:
            break
        page += 1
    expected = _rows(db, f"SELECT id, version FROM {resource} ORDER BY updated_ts, id, version")
    assert [(i["id"], i["version"]) for i in seen] == expected
    assert len(set(expected)) == len(expected) == body["total_items"]
    stamps = [(dt.datetime.fromisoformat(i["updated_at"]), i["id"], i["version"]) for i in seen]
    assert stamps == sorted(stamps)
    # A page past the end is empty, not an error.
    past = httpx.get(f"{url}/api/v1/{resource}", params={"page": total_pages + 1, "page_size": 997},
                     headers=auth)
    assert past.status_code == 200 and past.json()["items"] == []


def test_changed_since_is_exclusive_and_timezone_aware(server):
    url, auth, db = server
    items = httpx.get(f"{url}/api/v1/receptions", params={"page_size": 1000}, headers=auth).json()["items"]
    pivot = items[len(items) // 2]["updated_at"]
    since = dt.datetime.fromisoformat(pivot)
    body = httpx.get(f"{url}/api/v1/receptions", params={"changed_since": pivot, "page_size": 1000},
                     headers=auth).json()
    expected = _rows(db, "SELECT COUNT(*) FROM receptions WHERE updated_ts > ?", (int(since.timestamp()),))[0][0]
    assert body["total_items"] == expected > 0
    assert all(dt.datetime.fromisoformat(i["updated_at"]) > since for i in body["items"])
    # The same instant written in UTC selects the same items.
    utc = since.astimezone(dt.timezone.utc).isoformat()
    same = httpx.get(f"{url}/api/v1/receptions", params={"changed_since": utc, "page_size": 1000}, headers=auth)
    assert same.json()["total_items"] == expected
    # Every version of a corrected record is in the feed.
    versions = [i for i in items if i["version"] > 1]
    assert versions, "the feed should hold corrected records"


@pytest.mark.parametrize("params", [
    {"page": "0"}, {"page": "x"}, {"page_size": "0"}, {"page_size": "1001"}, {"page_size": "abc"},
    {"changed_since": "yesterday"}, {"changed_since": "2021-13-45T00:00:00+07:00"},
    {"changed_since": "2021-07-06T09:12:00"}, {"since": "2021-07-06T09:12:00+07:00"},
])
def test_bad_parameters_are_400(server, params):
    url, auth, _ = server
    r = httpx.get(f"{url}/api/v1/receptions", params=params, headers=auth)
    assert r.status_code == 400
    assert r.json()["error"] == "bad_request"


def test_unknown_resource_is_404(server):
    url, auth, _ = server
    assert httpx.get(f"{url}/api/v1/visitors", headers=auth).status_code == 404


# ------------------------------------------------------------------ registers
def _cells(path: Path) -> dict[str, list[list]]:
    wb = openpyxl.load_workbook(path)
    try:
        return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}
    finally:
        wb.close()


@pytest.fixture(scope="module")
def registers(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim_registers")
    generate(out, only="communes", seed=42, start=dt.date(2021, 7, 1), end=dt.date(2022, 12, 31),
             districts=["001", "002", "003"], workers=1)
    return out


def test_registers_are_messy_like_real_ones(registers):
    books = sorted((registers / "commune_inbox").rglob("*.xlsx"))
    assert len(books) > 60
    nfd = text_dates = real_dates = dup_books = blank_rows = 0
    headers, totals = set(), set()
    for path in books:
        assert re.fullmatch(r"\d{5}_[a-z0-9-]+_\d{4}\.xlsx", path.name)
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames == ["Tiếp công dân", "Đơn thư"]
        ws = wb["Tiếp công dân"]
        assert ws.merged_cells.ranges, "title rows above the header are merged"
        assert wb.properties.modified.year == int(path.stem[-4:])
        rows = [[c.value for c in row] for row in ws.iter_rows()]
        wb.close()
        hdr = next(i for i, r in enumerate(rows[:15]) if r[0] in ("STT", "Số TT", "TT")
                   or unicodedata.normalize("NFC", str(r[0])) in ("STT", "Số TT", "TT"))
        headers.add(tuple(unicodedata.normalize("NFC", str(v)) for v in rows[hdr]))
        texts = [v for r in rows for v in r if isinstance(v, str)]
        nfd += any(unicodedata.normalize("NFC", v) != v for v in texts)
        body = rows[hdr + 1:]
        text_dates += any(isinstance(v, str) and re.fullmatch(r"\d{2}[/.-]\d{2}[/.-]\d{4}", v) for r in body for v in r)
        real_dates += any(isinstance(v, dt.datetime) for r in body for v in r)
        blank_rows += any(all(v is None for v in r) for r in body)
        totals.add(unicodedata.normalize("NFC", str(body[-1][0])))
        records = [tuple(v for j, v in enumerate(r) if j) for r in body[:-1] if r[0] is not None]
        dup_books += len(records) != len(set(records))
    assert nfd and text_dates and real_dates and dup_books and blank_rows
    assert len(headers) > 5, "header variants and column order differ between books"
    assert totals <= {"Tổng cộng", "Cộng", "Tổng"} and totals


def test_register_rows_match_the_ground_truth(registers):
    """Read each book the contract's way (header in the first 15 rows, skip blank and
    total rows, collapse rows entered twice): the row count per file is the truth's."""
    gt = dict(_rows(registers / "ground_truth.sqlite",
                    "SELECT substr(record_id, 1, instr(record_id, '#') - 1), COUNT(*) FROM gt_reception "
                    "GROUP BY 1"))
    date_headers = {"Ngày tiếp", "Ngày tiếp công dân", "Ngày, tháng, năm"}
    for path in sorted((registers / "commune_inbox").rglob("*.xlsx")):
        rows = _cells(path)["Tiếp công dân"]
        norm = [[unicodedata.normalize("NFC", v) if isinstance(v, str) else v for v in r] for r in rows]
        hdr = next(i for i, r in enumerate(norm[:15]) if date_headers & set(r))
        records = set()
        for r in norm[hdr + 1:]:
            if all(v is None for v in r) or r[0] in ("Tổng cộng", "Cộng", "Tổng"):
                continue
            records.add(tuple(r[1:]))            # everything but STT
        assert len(records) == gt.get(path.name, 0), path.name


# ------------------------------------------------------------------ the 2025 reform
def test_no_district_records_after_the_reform(tmp_path):
    generate(tmp_path, seed=42, start=dt.date(2025, 5, 1), end=dt.date(2025, 8, 31), districts=["001"],
             communes_per_district=2, workers=1)
    db = tmp_path / "district_db" / "001.sqlite"
    for table, col in (("tiep_cong_dan", "ngay_tiep"), ("don_thu", "ngay_nhan")):
        lo, hi, upd = _rows(db, f"SELECT MIN({col}), MAX({col}), MAX(ngay_cap_nhat) FROM {table}")[0]
        assert "2025-05-01" <= lo and hi <= "2025-06-30" and upd <= "2025-06-30 23:59:59"
    states = dict(_rows(db, "SELECT trang_thai, COUNT(*) FROM tiep_cong_dan GROUP BY 1"))
    assert set(states) <= {"CHINH_THUC", "NHAP", "DA_XOA"} and states["CHINH_THUC"]
    gt = tmp_path / "ground_truth.sqlite"
    assert _rows(gt, "SELECT MAX(received_date) FROM gt_reception WHERE source_kind = 'district_db'")[0][0] <= "2025-06-30"
    # Registers: legacy communes stop on 30/06, the 2025 communes start on 01/07.
    spans = _rows(gt, "SELECT substr(unit_key, 1, 6), MIN(received_date), MAX(received_date) FROM gt_reception "
                      "WHERE source_kind = 'commune_register' GROUP BY 1 ORDER BY 1")
    assert [s[0] for s in spans] == ["2025:0", "legacy"]
    assert spans[0][1] >= "2025-07-01" and spans[1][2] <= "2025-06-30"
    books = sorted(p.name for p in (tmp_path / "commune_inbox").rglob("*.xlsx"))
    assert "00004_truc-bach_2025.xlsx" in books and "00004_ba-dinh_2025.xlsx" in books


def test_personal_data_is_listed_and_denouncers_carry_names(small):
    gt = small / "ground_truth.sqlite"
    pii = set(_rows(gt, "SELECT kind, value FROM gt_pii"))
    city = small / "city_service" / "city.sqlite"
    for kind, col in (("name", "citizen_full_name"), ("id_number", "citizen_id_number"),
                      ("phone", "citizen_phone"), ("address", "citizen_address")):
        for table in ("receptions", "petitions"):
            values = {v for (v,) in _rows(city, f"SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL")}
            assert values and {(kind, v) for v in values} <= pii
    db = small / "district_db" / "001.sqlite"
    ids = {v for (v,) in _rows(db, "SELECT so_cccd FROM tiep_cong_dan UNION SELECT so_cccd FROM don_thu")} - {None}
    assert {("id_number", v) for v in ids} <= pii
    assert all(re.fullmatch(r"0\d{2}[0-3]\d{8}", v) for k, v in pii if k == "id_number")
    assert all(re.fullmatch(r"0[35789]\d{8}", v) for k, v in pii if k == "phone" and v.isdigit())
    assert _rows(city, "SELECT COUNT(*) FROM receptions WHERE kind = 'TC' AND citizen_full_name IS NOT NULL")[0][0]


def test_ground_truth_is_the_official_state_of_the_databases(small):
    """Independent of the model: official rows of the district database, and the city
    store reduced to latest official versions without double entries, are the truth."""
    gt = small / "ground_truth.sqlite"
    db = small / "district_db" / "001.sqlite"
    assert _rows(db, "SELECT COUNT(*), SUM(so_nguoi), COUNT(DISTINCT ky_tiep_id) FROM tiep_cong_dan "
                     "WHERE trang_thai = 'CHINH_THUC'") == \
        _rows(gt, "SELECT COUNT(*), SUM(people), COUNT(DISTINCT sitting_key) FROM gt_reception "
                  "WHERE source_kind = 'district_db'")
    assert _rows(db, "SELECT COUNT(*) FROM don_thu WHERE trang_thai = 'CHINH_THUC'") == \
        _rows(gt, "SELECT COUNT(*) FROM gt_petition WHERE source_kind = 'district_db'")
    assert {s for (s,) in _rows(db, "SELECT DISTINCT trang_thai FROM tiep_cong_dan")} == {"CHINH_THUC", "NHAP", "DA_XOA"}
    assert _rows(db, "SELECT COUNT(*) FROM tiep_cong_dan WHERE ngay_cap_nhat > ngay_tao")[0][0] > 0
    city = small / "city_service" / "city.sqlite"
    latest = _rows(city, "SELECT r.received_on, r.citizen_id_number, r.case_id, r.kind, r.mode, r.receiver, r.people "
                         "FROM receptions r JOIN (SELECT id, MAX(version) v FROM receptions GROUP BY id) l "
                         "ON r.id = l.id AND r.version = l.v WHERE r.status = 'official'")
    assert len(set(latest)) < len(latest), "staff double entries exist"
    assert (len(set(latest)), sum(r[6] for r in set(latest))) == \
        _rows(gt, "SELECT COUNT(*), SUM(people) FROM gt_reception WHERE source_kind = 'city_service'")[0]


# ------------------------------------------------------------------ calibration
@pytest.fixture(scope="module")
def city_full(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim_city")
    generate(out, only="city", seed=42, start=dt.date(2021, 7, 1), end=dt.date.today(), workers=1)
    return out


PUBLISHED = {"regular": (8656, 14015), "regular_group": (280, 1527), "leaders": (702, 1754), "leaders_group": 47}


def _gt_window(gt: Path) -> list:
    return _rows(gt, "SELECT mode, receiver, people, received_date FROM gt_reception WHERE source_kind = 'city_service' "
                     "AND unit_code = '01' AND received_date BETWEEN ? AND ?", (CAL_START.isoformat(), CAL_END.isoformat()))


def test_calibration_in_the_ground_truth(city_full):
    rows = _gt_window(city_full / "ground_truth.sqlite")
    regular = [p for m, _, p, _ in rows if m == "thuong_xuyen"]
    leaders = [(m, r, p, d) for m, r, p, d in rows if m != "thuong_xuyen"]
    assert (len(regular), sum(regular)) == PUBLISHED["regular"]
    assert (sum(p >= 5 for p in regular), sum(p for p in regular if p >= 5)) == PUBLISHED["regular_group"]
    assert (len(leaders), sum(p for *_, p, _ in leaders)) == PUBLISHED["leaders"]
    assert sum(p >= 5 for *_, p, _ in leaders) == PUBLISHED["leaders_group"]
    assert max(regular) <= 40 and {p for p in regular if p < 5} <= {1, 2, 3, 4}
    # All leader receptions are periodic sittings; the head's are on the third Tuesday.
    assert {(m, r) for m, r, _, _ in leaders} == {("dinh_ky", "thu_truong"), ("dinh_ky", "uy_quyen")}
    for m, r, _, d in leaders:
        day = dt.date.fromisoformat(d)
        if r == "thu_truong":
            assert day == next_working_day(nth_weekday(day.year, day.month, 1, 3))


def _city_counts(db: Path, *, latest=True, official=True, dedupe=True) -> tuple:
    """Recompute the published figures from the raw service store, independently of the
    generator's model: optionally latest version per id, official only, content dedupe."""
    rows = _rows(db, "SELECT id, version, status, received_on, citizen_id_number, case_id, kind, mode, receiver, "
                     "people FROM receptions WHERE unit_code = '01' AND received_on BETWEEN ? AND ?",
                 (CAL_START.isoformat(), CAL_END.isoformat()))
    if latest:
        last = {}
        for r in rows:
            if r[0] not in last or r[1] > last[r[0]][1]:
                last[r[0]] = r
        rows = list(last.values())
    if official:
        rows = [r for r in rows if r[2] == "official"]
    if dedupe:
        rows = list({r[3:]: r for r in rows}.values())
    reg = [r[9] for r in rows if r[7] == "regular"]
    lead = [r[9] for r in rows if r[7] != "regular" and r[8] in ("head", "deputy")]
    return (len(reg), sum(reg), sum(p >= 5 for p in reg), sum(p for p in reg if p >= 5),
            len(lead), sum(lead), sum(p >= 5 for p in lead))


def test_calibration_recomputed_from_the_city_store(city_full):
    db = city_full / "city_service" / "city.sqlite"
    expected = (*PUBLISHED["regular"], *PUBLISHED["regular_group"], *PUBLISHED["leaders"], PUBLISHED["leaders_group"])
    assert _city_counts(db) == expected
    # Every cleaning step matters: skipping any one of them gives other numbers.
    naive = _city_counts(db, latest=False, official=False, dedupe=False)
    assert naive[:2] != PUBLISHED["regular"] and naive[0] > 8656
    for skip in ("latest", "official", "dedupe"):
        assert _city_counts(db, **{skip: False})[:2] != PUBLISHED["regular"], skip


def test_calibration_holds_when_the_run_ends_with_the_window(tmp_path):
    # Every record of the window reaches its final state by 28/02/2025 23:59:59.
    generate(tmp_path, only="city", seed=42, start=CAL_START, end=CAL_END, workers=1)
    rows = _gt_window(tmp_path / "ground_truth.sqlite")
    regular = [p for m, _, p, _ in rows if m == "thuong_xuyen"]
    leaders = [p for m, _, p, _ in rows if m != "thuong_xuyen"]
    assert (len(regular), sum(regular), len(leaders), sum(leaders)) == (*PUBLISHED["regular"], *PUBLISHED["leaders"])
    assert _city_counts(tmp_path / "city_service" / "city.sqlite")[:2] == PUBLISHED["regular"]
