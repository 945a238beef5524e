"""The simulated sources: determinism, subsets, the city service, register messiness,
the 2025 reform boundary, and the calibration to the published city table."""
from __future__ import annotations

import collections
import csv
import datetime as dt
import hashlib
import json
import re
import sqlite3
import unicodedata
from pathlib import Path

import httpx
import openpyxl
import pytest

from simulators.city_server import serve_in_thread
from simulators.core import CAL_END, CAL_START, all_units, next_working_day, nth_weekday
from simulators.generate import generate, main
from simulators.legacy_encoding import decode as legacy_decode
from simulators.legacy_encoding import encode as legacy_encode

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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city_service", "defects.csv", "ground_truth.sqlite",
                                                          "manifest.json"]
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
    assert main(["--out", str(tmp_path), "--only", "city", "--end", "2025-09-30", "--quiet", "--no-defects"]) == 0
    kinds = {line.split(",")[0] for line in (tmp_path / "defects.csv").read_text(encoding="utf-8").splitlines()[1:]}
    assert kinds == {"duplicate_record"}


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


def _defects(root: Path) -> list[dict]:
    with open(root / "defects.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _row_defects(root: Path) -> dict[tuple[str, str], dict[int, dict]]:
    """{(file name, NFC sheet name): {worksheet row: defect}} of the register rows that
    a correct reader does not count (quarantined or skipped)."""
    out: dict = {}
    for d in _defects(root):
        if d["source_kind"] == "commune_register" and d["row"] and d["expected_outcome"] != "counted":
            out.setdefault((d["resource"], d["sheet"]), {})[int(d["row"])] = d
    return out


def _readable_books(root: Path) -> list[tuple[Path, str | None]]:
    """Register books a correct pipeline reads (not the rejected extra deliveries), with
    their legacy encoding if any."""
    found = _defects(root)
    rejected = {d["resource"] for d in found if d["expected_outcome"] == "batch_rejected"}
    legacy = {d["resource"]: d["detail"] for d in found if d["defect_kind"] == "legacy_encoding"}
    return [(p, legacy.get(p.name)) for p in sorted((root / "commune_inbox").rglob("*.xlsx")) if p.name not in rejected]


def _text(v, encoding):
    if isinstance(v, str):
        v = unicodedata.normalize("NFC", legacy_decode(v, encoding) if encoding else v)
    return v


def test_registers_are_messy_like_real_ones(registers):
    books = _readable_books(registers)
    assert len(books) > 60
    nfd = text_dates = real_dates = dup_books = blank_rows = 0
    headers, totals = set(), set()
    for path, encoding in books:
        assert re.fullmatch(r"\d{5}_[a-z0-9-]+_\d{4}\.xlsx", path.name)
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames == (["Tiep cong dan", "Don thu"] if encoding else ["Tiếp công dân", "Đơn thư"])
        ws = wb.worksheets[0]
        assert ws.merged_cells.ranges, "title rows above the header are merged"
        assert wb.properties.modified.year == int(path.stem[-4:])
        rows = [[c.value for c in row] for row in ws.iter_rows()]
        wb.close()
        texts = [v for r in rows for v in r if isinstance(v, str)]
        nfd += any(unicodedata.normalize("NFC", v) != v for v in texts)
        rows = [[_text(v, encoding) for v in r] for r in rows]
        hdr = next(i for i, r in enumerate(rows[:15]) if r[0] in ("STT", "Số TT", "TT"))
        headers.add(tuple(rows[hdr]))
        body = rows[hdr + 1:]
        text_dates += any(isinstance(v, str) and re.fullmatch(r"\d{2}[/.-]\d{2}[/.-]\d{4}", v) for r in body for v in r)
        real_dates += any(isinstance(v, dt.datetime) for r in body for v in r)
        blank_rows += any(all(v is None for v in r) for r in body)
        totals.add(str(body[-1][0]))
        records = [tuple(v for j, v in enumerate(r) if j) for r in body[:-1] if r[0] is not None]
        dup_books += len(records) != len(set(records))
    assert nfd and text_dates and real_dates and dup_books and blank_rows
    assert len(headers) > 5, "header variants and column order differ between books"
    assert totals <= {"Tổng cộng", "Cộng", "Tổng"} and totals


@pytest.mark.parametrize("fixture", ["registers", "file_defects"])
def test_register_rows_match_the_ground_truth(fixture, request):
    """Read each book the contract's way (header in the first 15 rows, skip blank and
    total rows; legacy-encoded books decoded): the rows left once the rows listed in
    defects.csv as quarantined or skipped are set aside are exactly the truth's rows."""
    registers = request.getfixturevalue(fixture)
    gt: dict[str, set] = {}
    for (rid,) in _rows(registers / "ground_truth.sqlite", "SELECT record_id FROM gt_reception"):
        file, row = rid.rsplit(":", 1)
        gt.setdefault(file.split("#")[0], set()).add(int(row))
    not_counted = _row_defects(registers)
    date_headers = {"Ngày tiếp", "Ngày tiếp công dân", "Ngày, tháng, năm"}
    for path, encoding in _readable_books(registers):
        wb = openpyxl.load_workbook(path)
        ws = wb.worksheets[0]
        rows = [[_text(c.value, encoding) for c in row] for row in ws.iter_rows()]
        skip = not_counted.get((path.name, ws.title), {})
        wb.close()
        hdr = next(i for i, r in enumerate(rows[:15]) if date_headers & set(r))
        counted = set()
        for i, r in enumerate(rows[hdr + 1:], hdr + 2):
            if all(v is None for v in r) or r[0] in ("Tổng cộng", "Cộng", "Tổng") or i in skip:
                continue
            counted.add(i)
        assert counted == gt.get(path.name, set()), path.name


# ------------------------------------------------------------------ the 2025 reform
def test_no_district_records_after_the_reform(tmp_path):
    generate(tmp_path, seed=42, start=dt.date(2025, 5, 1), end=dt.date(2025, 8, 31), districts=["001"],
             communes_per_district=2, workers=1)
    db = tmp_path / "district_db" / "001.sqlite"
    for table, col in (("tiep_cong_dan", "ngay_tiep"), ("don_thu", "ngay_nhan")):
        broken = ",".join(d["record_id"] for d in _defects(tmp_path) if d["resource"] == f"001.sqlite#{table}") or "0"
        lo, hi, upd = _rows(db, f"SELECT MIN({col}), MAX({col}), MAX(ngay_cap_nhat) FROM {table} "
                                f"WHERE id NOT IN ({broken})")[0]
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
    # Extra defective rows (defects.csv) are official but never counted.
    extra = {t: ",".join(d["record_id"] for d in _defects(small) if d["resource"] == f"001.sqlite#{t}") or "0"
             for t in ("tiep_cong_dan", "don_thu", "vu_viec")}
    assert _rows(db, "SELECT COUNT(*), SUM(so_nguoi), COUNT(DISTINCT ky_tiep_id) FROM tiep_cong_dan "
                     f"WHERE trang_thai = 'CHINH_THUC' AND id NOT IN ({extra['tiep_cong_dan']})") == \
        _rows(gt, "SELECT COUNT(*), SUM(people), COUNT(DISTINCT sitting_key) FROM gt_reception "
                  "WHERE source_kind = 'district_db'")
    assert _rows(db, f"SELECT COUNT(*) FROM don_thu WHERE trang_thai = 'CHINH_THUC' AND id NOT IN ({extra['don_thu']})") \
        == _rows(gt, "SELECT COUNT(*) FROM gt_petition WHERE source_kind = 'district_db'")
    assert _rows(db, f"SELECT COUNT(*) FROM vu_viec WHERE id NOT IN ({extra['vu_viec']})") == \
        _rows(gt, "SELECT COUNT(*) FROM gt_case WHERE source_kind = 'district_db'")
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


# ------------------------------------------------------------------ defects (docs/simulated-sources.md, "Defects")
@pytest.fixture(scope="module")
def small_clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim_small_clean")
    generate(out, workers=1, defects=False, **SMALL)
    return out


@pytest.mark.parametrize("text, tcvn3, vni", [
    ("Tiếp công dân", "TiÕp c«ng d©n", "Tieáp coâng daân"),
    ("Thường xuyên", "Th\xadêng xuyªn", "Thöôøng xuyeân"),
    ("Lần đầu", "LÇn ®Çu", "Laàn ñaàu"),
    ("Đơn thư", "§¬n th\xad", "Ñôn thö"),
    ("Định kỳ", "§Þnh kú", "Ñònh kyø"),
    ("Kiến nghị, phản ánh", "KiÕn nghÞ, ph¶n ¸nh", "Kieán nghò, phaûn aùnh"),
])
def test_legacy_encoder_round_trips_known_strings(text, tcvn3, vni):
    assert legacy_encode(text, "tcvn3") == tcvn3 and legacy_encode(text, "vni") == vni
    assert legacy_decode(tcvn3, "tcvn3") == text and legacy_decode(vni, "vni") == text
    # What an old workbook holds: the legacy bytes read as Windows-1252.
    assert tcvn3.encode("cp1252").decode("cp1252") == tcvn3 and vni.encode("cp1252").decode("latin-1") == vni
    assert legacy_encode(unicodedata.normalize("NFD", text), "tcvn3") == tcvn3      # NFD input is composed first


def test_legacy_encoder_covers_every_vietnamese_letter():
    from simulators.legacy_encoding import _VOWELS

    lower = "".join(_VOWELS.values()) + "đ"
    both = lower + lower.upper()
    assert len(set(lower)) == 73 and len(set(both)) == 146          # 67 vowels + đ, and their capitals
    assert legacy_decode(legacy_encode(both, "vni"), "vni") == both
    assert legacy_decode(legacy_encode(lower, "tcvn3"), "tcvn3") == lower
    codes = [legacy_encode(c, "tcvn3") for c in lower]
    assert len(set(codes)) == len(codes) and all(len(c) == 1 for c in codes)
    # TCVN3 has no toned capitals: they come back lowercase; toneless capitals have codes.
    assert legacy_decode(legacy_encode("ỦY BAN", "tcvn3"), "tcvn3") == "ủY BAN"
    assert legacy_encode("ĂÂÊÔƠƯĐ", "tcvn3") == "\xa1\xa2\xa3\xa4\xa5\xa6\xa7"
    assert legacy_encode("SỔ TIẾP", "tcvn3", caps_font=True) == "sæ tiÕp"       # typed in .VnTimeH


def _truth(root: Path, table: str, drop: set, missing: set) -> collections.Counter:
    """A truth table as a multiset, without the units in `drop` and the books in
    `missing`, register record ids (worksheet rows move when extra rows are inserted) left out."""
    con = sqlite3.connect(root / "ground_truth.sqlite")
    con.row_factory = sqlite3.Row
    out: collections.Counter = collections.Counter()
    for r in con.execute(f"SELECT * FROM {table}"):
        d = dict(r)
        if d["unit_key"] in drop or d["record_id"].split("#")[0] in missing:
            continue
        if d["source_kind"] == "commune_register":
            d["record_id"] = d["record_id"].split("#")[0]
        out[tuple(d.values())] += 1
    con.close()
    return out


def test_defects_do_not_change_what_is_counted(small, small_clean):
    """The same run without defects has the same truth, but for books never delivered
    (gt_submission.missing) and the outlier units (gt_outlier), which change it on purpose."""
    gt = small / "ground_truth.sqlite"
    missing = {f for (f,) in _rows(gt, "SELECT file_name FROM gt_submission WHERE missing = 1")}
    spikes = {k for (k,) in _rows(gt, "SELECT unit_key FROM gt_outlier")}
    for table in ("gt_reception", "gt_petition", "gt_case"):
        with_defects = _truth(small, table, spikes, missing)
        clean = _truth(small_clean, table, spikes, missing)
        assert with_defects == clean and sum(clean.values()) > 1000, table
    kinds = collections.Counter(d["defect_kind"] for d in _defects(small))
    assert {"date_impossible", "duplicate_record", "periodic_receiver", "resolved_before_opened"} <= set(kinds)
    assert set(collections.Counter(d["defect_kind"] for d in _defects(small_clean))) <= {"duplicate_row",
                                                                                           "duplicate_record"}
    # The clean run: every book delivered on time; no outlier.
    assert _rows(small_clean / "ground_truth.sqlite", "SELECT SUM(late), SUM(missing), COUNT(*) FROM gt_submission") \
        == [(0, 0, 4)]
    assert _rows(small_clean / "ground_truth.sqlite", "SELECT COUNT(*) FROM gt_outlier") == [(0,)]
    manifest = json.loads((small / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["defects"]["enabled"] and sum(manifest["defects"]["by_outcome"].values()) == len(_defects(small))
    assert _rows(gt, "SELECT COUNT(*) FROM gt_defect") == [(len(_defects(small)),)]


def test_defects_csv_holds_no_personal_data(small, registers):
    for root in (small, registers):
        text = unicodedata.normalize("NFC", (root / "defects.csv").read_text(encoding="utf-8"))
        pii = [v for (v,) in _rows(root / "ground_truth.sqlite", "SELECT value FROM gt_pii") if len(v) >= 6]
        assert pii and not [v for v in pii if v in text]


def test_register_row_defects_have_the_documented_shares(registers):
    from simulators.defects import REGISTER_ROW_DEFECTS

    gt = registers / "ground_truth.sqlite"
    base = {"reception": _rows(gt, "SELECT COUNT(*) FROM gt_reception")[0][0],
            "petition": _rows(gt, "SELECT COUNT(*) FROM gt_petition")[0][0]}
    found = [d for d in _defects(registers) if d["source_kind"] == "commune_register"]
    by_kind = collections.Counter(d["defect_kind"] for d in found)
    manifest = json.loads((registers / "manifest.json").read_text(encoding="utf-8"))
    for kind, (share, sheets, outcome, rule) in REGISTER_ROW_DEFECTS.items():
        rows = sum(base[s] for s in sheets)
        assert by_kind[kind] >= 1, kind
        assert 0.2 * share <= by_kind[kind] / rows <= 3 * share, (kind, by_kind[kind], rows)
        assert manifest["defects"]["register_row_shares"][kind]["count"] == by_kind[kind]
        expected = {(outcome, rule)}
        if kind == "number_negative":       # on Tiếp công dân a negative count breaks the people range
            expected = {(outcome, rule), (outcome, "PEOPLE_OUT_OF_RANGE")}
        assert {(d["expected_outcome"], d["rule_code"]) for d in found if d["defect_kind"] == kind} == expected
    assert by_kind["duplicate_row"] >= 1


def _cell_rows(path: Path) -> dict[str, list[list]]:
    wb = openpyxl.load_workbook(path)          # formulas read as written ("=H12")
    try:
        return {unicodedata.normalize("NFC", ws.title): [[c.value for c in row] for row in ws.iter_rows()]
                for ws in wb.worksheets}
    finally:
        wb.close()


@pytest.mark.parametrize("fixture", ["small", "registers", "file_defects"])
def test_defects_csv_points_to_real_rows(fixture, request):
    root = request.getfixturevalue(fixture)
    found = _defects(root)
    assert found
    legacy = {d["resource"]: d["detail"] for d in found if d["defect_kind"] == "legacy_encoding"}
    gt_rows = {r for (r,) in _rows(root / "ground_truth.sqlite", "SELECT record_id FROM gt_reception UNION ALL "
                                                                 "SELECT record_id FROM gt_petition")}
    books: dict[str, dict] = {}
    for d in found:
        assert (root / d["path"]).is_file(), d
        assert d["expected_outcome"] in ("counted", "quarantined", "batch_rejected", "skipped")
        assert bool(d["rule_code"]) == (d["expected_outcome"] in ("quarantined", "batch_rejected")), d
        if d["source_kind"] != "commune_register" or not d["row"]:
            continue
        if d["path"] not in books:
            books[d["path"]] = _cell_rows(root / d["path"])
        rows = books[d["path"]][unicodedata.normalize("NFC", d["sheet"])]
        n = int(d["row"])
        raw = rows[n - 1]
        enc = legacy.get(d["resource"])
        row = [_text(v, enc) for v in raw]
        values = {str(v) for v in row if v is not None}
        kind, detail = d["defect_kind"], d["detail"]
        assert d["record_id"] == f"{d['resource']}#{d['sheet']}:{n}"
        assert (d["record_id"] in gt_rows) == (kind in ("date_other_format", "text_nfd_row")), d
        if kind == "repeated_header":
            assert row[0] in ("STT", "Số TT", "TT")
        elif kind == "duplicate_row":
            assert row[1:] == [_text(v, enc) for v in rows[n - 2]][1:]
        elif kind == "text_nfd_row":
            assert any(isinstance(v, str) and unicodedata.normalize("NFC", v) != v for v in raw)
        else:                                          # the defective value is in the row
            assert detail in values, (d, row)
        if kind == "date_impossible":
            with pytest.raises(ValueError):
                dt.datetime.strptime(re.sub(r"[-.]", "/", detail), "%d/%m/%Y")
    # District and city rows: the id exists with the defect; it is not in the truth.
    for d in found:
        if d["source_kind"] == "district_db":
            table = d["resource"].split("#")[1]
            con = sqlite3.connect(root / d["path"])
            con.row_factory = sqlite3.Row
            r = dict(con.execute(f"SELECT * FROM {table} WHERE id = ?", (int(d["record_id"]),)).fetchone())
            con.close()
            assert r["trang_thai"] == "CHINH_THUC"
            if d["defect_kind"] == "date_impossible":
                assert d["detail"] in (r.get("ngay_tiep"), r.get("ngay_nhan"))
            elif d["defect_kind"] == "code_not_in_domain":
                col, val = d["detail"].split("=")
                assert r[col] == val
            elif d["defect_kind"] == "periodic_receiver":
                assert (r["hinh_thuc"], r["nguoi_tiep"]) == ("DINH_KY", "CAN_BO")
            elif d["defect_kind"] == "amount_negative":
                col, val = d["detail"].split("=")
                assert r[col] == float(val) < 0 and r["ket_qua"] is not None
            else:
                assert d["defect_kind"] == "resolved_before_opened" and table == "vu_viec"
                assert r["ngay_giai_quyet"] < r["ngay_thu_ly"]
            table_gt = {"tiep_cong_dan": "gt_reception", "don_thu": "gt_petition", "vu_viec": "gt_case"}[table]
            assert not _rows(root / "ground_truth.sqlite", f"SELECT 1 FROM {table_gt} WHERE source_kind = 'district_db' "
                                                           "AND record_id = ?", (d["record_id"],))
        elif d["source_kind"] == "city_service":
            assert _rows(root / d["path"], "SELECT COUNT(*) FROM receptions WHERE id = ?", (d["record_id"],))[0][0] >= 1
            assert not _rows(root / "ground_truth.sqlite", "SELECT 1 FROM gt_reception WHERE record_id = ?",
                             (d["record_id"],))


@pytest.fixture(scope="module")
def file_defects(tmp_path_factory) -> Path:
    """The districts holding the seed's broken extra deliveries, a missing book and a
    book of each legacy encoding (their first three communes), to the end of 2024."""
    from simulators.core import all_units
    from simulators.defects import file_plan

    plan = file_plan(42)
    names = list(plan.broken) + [n for n in plan.missing if not n.endswith("_2026.xlsx")][:1] + \
        [next(n for n, e in plan.legacy.items() if e == enc) for enc in ("tcvn3", "vni")]
    districts = sorted({all_units()[f"legacy:{n[:5]}"].parent_code for n in names})
    out = tmp_path_factory.mktemp("sim_file_defects")
    generate(out, only="communes", seed=42, end=dt.date(2024, 12, 31), districts=districts, communes_per_district=3,
             workers=2)
    return out


def test_broken_extra_deliveries_beside_the_real_book(file_defects):
    from python_calamine import CalamineWorkbook

    from simulators.defects import RENAMED_COLUMN, file_plan

    found = {d["resource"]: d for d in _defects(file_defects)}
    plan = file_plan(42)
    for real, kind in plan.broken.items():
        year = real[-9:-5]
        extra = next(d for d in found.values() if d["defect_kind"] == kind)
        assert (extra["expected_outcome"], extra["rule_code"]) == {
            "file_not_spreadsheet": ("batch_rejected", "FILE_NOT_READABLE"),
            "file_truncated": ("batch_rejected", "FILE_NOT_READABLE"),
            "file_name_invalid": ("batch_rejected", "FILE_NAME_INVALID"),
            "columns_missing": ("batch_rejected", "COLUMNS_MISSING")}[kind]
        path = file_defects / extra["path"]
        assert path.parent.name == year and extra["resource"] != real and extra["resource"].startswith(real[:5])
        assert openpyxl.load_workbook(file_defects / "commune_inbox" / year / real).sheetnames  # the real book reads
        assert _rows(file_defects / "ground_truth.sqlite", "SELECT COUNT(*) FROM gt_reception WHERE record_id LIKE ?",
                     (real + "#%",))[0][0] > 0
        name_ok = re.fullmatch(r"\d{5}_[a-z0-9-]+_\d{4}", path.stem) is not None
        assert name_ok == (kind != "file_name_invalid")
        if kind in ("file_not_spreadsheet", "file_truncated"):
            with pytest.raises(Exception):
                CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Tiếp công dân").to_python()
        elif kind == "file_name_invalid":
            assert path.read_bytes() == (file_defects / "commune_inbox" / year / real).read_bytes()
        else:
            headers = {unicodedata.normalize("NFC", str(v)) for r in _cell_rows(path)["Tiếp công dân"][:15] for v in r}
            assert RENAMED_COLUMN[1] in headers and "Người tiếp" not in headers
        assert path.stat().st_mtime >= (file_defects / "commune_inbox" / year / real).stat().st_mtime


def test_legacy_encoded_books_hold_true_rows(file_defects):
    from simulators.registers import MODE_TEXT, RECEIVER_TEXT

    found = [d for d in _defects(file_defects) if d["defect_kind"] == "legacy_encoding"]
    assert {d["detail"] for d in found} == {"tcvn3", "vni"}
    for d in found:
        assert d["expected_outcome"] == "counted" and not d["rule_code"]
        rows = _cell_rows(file_defects / d["path"])["Tiep cong dan"]
        raw = [v for r in rows for v in r if isinstance(v, str)]
        assert not any("Tiếp" in v or "Thường" in v for v in raw), "no Unicode Vietnamese left"
        decoded = [[_text(v, d["detail"]) for v in r] for r in rows]
        hdr = next(i for i, r in enumerate(decoded) if r[0] in ("STT", "Số TT", "TT"))
        # (the header may come again further down: the repeated_header defect)
        body = [r for r in decoded[hdr + 1:] if r[0] not in ("STT", "Số TT", "TT")]
        col = decoded[hdr].index("Hình thức tiếp")
        modes = {r[col] for r in body if r[col] is not None}
        assert modes and modes <= set(MODE_TEXT.values())
        col = decoded[hdr].index("Người tiếp")
        assert {r[col] for r in body if r[col] is not None} <= {v.lower() if d["detail"] == "tcvn3"
                                                                and v.startswith("Ủ") else v
                                                                for v in RECEIVER_TEXT.values()}
        n = _rows(file_defects / "ground_truth.sqlite", "SELECT COUNT(*) FROM gt_reception WHERE record_id LIKE ?",
                  (d["resource"] + "#%",))[0][0]
        assert n > 0


def test_missing_books_are_in_no_source_and_not_in_the_truth(file_defects, tmp_path):
    from simulators.core import all_units, new_commune_predecessors
    from simulators.defects import file_plan

    gt = file_defects / "ground_truth.sqlite"
    missing = _rows(gt, "SELECT unit_code, year, file_name, delivered_at, late FROM gt_submission WHERE missing = 1")
    assert missing and all(m[2] in file_plan(42).missing and m[3] is None and m[4] is None for m in missing)
    books = {p.name for p in (file_defects / "commune_inbox").rglob("*.xlsx")}
    for code, year, name, _, _ in missing:
        assert name not in books
        assert _rows(gt, "SELECT COUNT(*) FROM gt_reception WHERE unit_code = ? AND substr(received_date, 1, 4) = ? "
                         "AND source_kind = 'commune_register' AND unit_key LIKE 'legacy:%'", (code, str(year))) \
            == [(0,)]
        # The unit's other years are there.
        assert _rows(gt, "SELECT COUNT(*) FROM gt_reception WHERE unit_code = ?", (code,))[0][0] > 0
    # One 2025 commune never delivers its 2026 book.
    name, key = next((n, k) for n, k in file_plan(42).missing.items() if n.endswith("_2026.xlsx"))
    pred = next(c for c in new_commune_predecessors()[key.split(":")[1]])
    generate(tmp_path, only="communes", seed=42, start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31),
             districts=[all_units()[f"legacy:{pred}"].parent_code], communes_per_district=3, workers=1)
    sub = _rows(tmp_path / "ground_truth.sqlite", "SELECT file_name, missing FROM gt_submission WHERE year = 2026")
    assert (name, 1) in sub and sum(m for _, m in sub) == 1 and len(sub) > 1
    assert not (tmp_path / "commune_inbox" / "2026" / name).exists()
    assert not _rows(tmp_path / "ground_truth.sqlite", "SELECT 1 FROM gt_reception WHERE unit_key = ?", (key,))


def test_books_carry_their_delivery_time(registers, small):
    for root, end in ((registers, dt.date(2022, 12, 31)), (small, SMALL["end"])):
        subs = _rows(root / "ground_truth.sqlite", "SELECT year, file_name, delivered_at, late FROM gt_submission "
                                                   "WHERE missing = 0")
        assert len(subs) == len(list((root / "commune_inbox").rglob("*_[0-9][0-9][0-9][0-9].xlsx"))) - sum(
            1 for d in _defects(root) if d["expected_outcome"] == "batch_rejected" and d["resource"][-9:-5].isdigit())
        for year, name, delivered, late in subs:
            t = dt.datetime.fromisoformat(delivered)
            assert (root / "commune_inbox" / str(year) / name).stat().st_mtime == t.timestamp()
            assert t.utcoffset() == dt.timedelta(hours=7) and t.date() <= end
            if dt.date(year, 12, 31) <= end:          # a completed year
                lo, hi = ((dt.date(year + 1, 1, 5), dt.date(year + 1, 2, 20)) if late else
                          (dt.date(year, 12, 15), dt.date(year, 12, 19)))
                assert lo <= t.date() <= hi, (name, t)
            else:                                     # open at the end, no cut-off inside it: delivered on the end day
                assert t.date() == end and not late


def test_delivery_windows_and_late_share():
    from simulators.defects import delivery

    def draw(first, closes, end, n=600):
        out = [delivery(42, f"{i:05d}_x_{first.year}.xlsx", first, closes, end) for i in range(n)]
        return [(t.date(), late) for t, late in out]

    d = dt.date
    end = d(2026, 11, 24)
    for first, closes, on, lt in [
        (d(2023, 1, 1), d(2023, 12, 31), (d(2023, 12, 15), d(2023, 12, 19)), (d(2024, 1, 5), d(2024, 2, 20))),
        (d(2025, 1, 1), d(2025, 6, 30), (d(2025, 7, 1), d(2025, 7, 4)), (d(2025, 8, 1), d(2025, 8, 31))),
        (d(2026, 1, 1), d(2026, 12, 31), (d(2026, 9, 15), d(2026, 9, 18)), (d(2026, 9, 24), d(2026, 10, 24))),
    ]:
        got = draw(first, closes, end)
        assert all((lt if late else on)[0] <= day <= (lt if late else on)[1] for day, late in got)
        assert 0.02 <= sum(late for _, late in got) / len(got) <= 0.09
        days = {on[0] + dt.timedelta(days=k) for k in range((on[1] - on[0]).days + 1)}
        assert {day for day, late in got if not late} == days
    # Never after the end: two days after a cut-off nobody is late yet.
    got = draw(d(2026, 1, 1), d(2026, 12, 31), d(2026, 9, 16))
    assert not any(late for _, late in got) and {day for day, _ in got} == {d(2026, 9, 15), d(2026, 9, 16)}


def test_outlier_quarter_is_a_spike_of_true_records():
    from simulators.core import LAST_LEGACY, MODEL_START, all_units
    from simulators.defects import outlier_plan
    from simulators.model import simulate

    plan = outlier_plan(42)
    assert sorted(all_units()[k].level for k in plan) == ["huyen", "xa"]
    for key, spike in plan.items():
        assert 4.0 <= spike.factor <= 6.0 and spike.first.day == 15 and spike.last.day == 14
        unit = all_units()[key]
        plain = simulate(unit, 42, MODEL_START, LAST_LEGACY)
        spiked = simulate(unit, 42, MODEL_START, LAST_LEGACY, spike=spike)

        def by_month(sim):
            # The drawn receptions; co-denouncers come on top of a tố cáo reception that
            # opened its case, which depends on the unit's history of cases (issue 10).
            return collections.Counter((r.date.year, r.date.month) for r in sim.receptions
                                       if r.role == "truth" and not r.co_denouncer)

        a, b = by_month(plain), by_month(spiked)
        touched = {(y, m) for y, m in a | b if spike.overlaps(y, m)}
        assert {k: v for k, v in a.items() if k not in touched} == {k: v for k, v in b.items() if k not in touched}
        inside = [r for r in spiked.receptions if r.role == "truth" and spike.first <= r.date <= spike.last]
        usual = [r for r in plain.receptions if r.role == "truth" and spike.first <= r.date <= spike.last]
        assert 2.5 <= len(inside) / max(1, len(usual)) <= 10, (key, len(inside), len(usual))


def test_city_defects_stay_outside_the_calibration(city_full):
    found = [d for d in _defects(city_full) if d["source_kind"] == "city_service"]
    kinds = collections.Counter(d["defect_kind"] for d in found)
    assert kinds["required_missing"] == kinds["unit_not_valid_on_date"] == kinds["people_out_of_range"] == 3
    assert kinds["duplicate_record"] > 10
    db = city_full / "city_service" / "city.sqlite"
    for d in found:
        unit, day, people = _rows(db, "SELECT unit_code, received_on, people FROM receptions WHERE id = ?",
                                  (d["record_id"],))[0]
        if d["defect_kind"] == "required_missing":
            assert unit is None and day > CAL_END.isoformat()
        elif d["defect_kind"] == "unit_not_valid_on_date":
            assert len(unit) == 5 and day >= "2025-07-01"
        elif d["defect_kind"] == "people_out_of_range":
            assert unit == "01" and people == 0 and day > CAL_END.isoformat()


# ------------------------------------------------------------------ processing and decisions
KN_FIRST = {"dung", "sai", "dung_mot_phan", "rut_don"}
OUTCOMES_OF = {("KN", "lan_dau"): KN_FIRST, ("KN", "ban_an"): KN_FIRST,
               ("KN", "lan_2"): {"cong_nhan", "huy_sua", "rut_don"},
               ("TC", "lan_dau"): KN_FIRST | {"dinh_chi"}, ("TC", "tiep"): KN_FIRST | {"dinh_chi"}}
AMOUNTS = ("recover_money", "recover_land", "return_org_money", "return_org_land", "return_person_money",
           "return_person_land")
COUNTS = ("orgs_restored", "persons_restored", "sanction_people", "sanction_officials", "prosecuted_cases",
          "prosecuted_people", "prosecuted_officials")
# Execution of a decision: done field → the ordered field that bounds it.
EXECUTED = {"collected_money": "recover_money", "collected_land": "recover_land",
            "returned_org_money": "return_org_money", "returned_org_land": "return_org_land",
            "returned_person_money": "return_person_money", "returned_person_land": "return_person_land",
            "sanctioned_people": "sanction_people", "sanctioned_officials": "sanction_officials",
            "prosecuted_done_cases": "prosecuted_cases", "prosecuted_done_people": "prosecuted_people",
            "prosecuted_done_officials": "prosecuted_officials"}


def _petitions(root: Path) -> list[dict]:
    con = sqlite3.connect(root / "ground_truth.sqlite")
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM gt_petition")]
    finally:
        con.close()


@pytest.mark.parametrize("fixture", ["small", "city_full"])
def test_decisions_and_processing_dates_are_consistent(fixture, request):
    root = request.getfixturevalue(fixture)
    end = dt.date.fromisoformat(_rows(root / "ground_truth.sqlite", "SELECT value FROM gt_meta WHERE key = 'end'")[0][0])
    pets = _petitions(root)
    decided = [p for p in pets if p["outcome"] is not None]
    assert len(decided) > 50
    for p in pets:
        received = dt.date.fromisoformat(p["received_date"])
        # round: for every eligible petition, by kind; none otherwise
        assert (p["resolution_round"] is None) == (not p["eligible"]), p
        if p["eligible"]:
            assert p["resolution_round"] in {"KN": {"lan_dau", "lan_2", "ban_an"}, "TC": {"lan_dau", "tiep"},
                                             "KNPA": {"lan_dau"}}[p["kind"]], p
        # processed a few days to ~3 weeks after receipt; unprocessed only near the end
        if p["processed_date"] is None:
            assert (end - received).days <= 31, p
        else:
            lag = (dt.date.fromisoformat(p["processed_date"]) - received).days
            assert 0 <= lag <= 31 and dt.date.fromisoformat(p["processed_date"]) <= end, p
        # acceptance: accepted (thụ lý) petitions only, and it is what makes them "đang giải quyết"
        if p["handling"] != "thu_ly":
            assert p["accepted_date"] is None and p["resolved_date"] is None and p["outcome"] is None, p
        else:
            assert (p["accepted_date"] is not None) == (p["resolution"] != "chua_giai_quyet"), p
            assert (p["resolved_date"] is not None) == (p["resolution"] == "da_giai_quyet"), p
            if p["resolved_date"]:
                assert p["accepted_date"] < p["resolved_date"], p
            if p["accepted_date"] and p["accepted_date"] >= p["received_date"] and p["processed_date"]:
                assert p["processed_date"] <= p["accepted_date"], p     # processed by the day it is accepted
        # a decision exactly for resolved, accepted KN/TC petitions, fitting the round
        has_decision = p["handling"] == "thu_ly" and p["resolved_date"] is not None and p["kind"] != "KNPA"
        assert (p["outcome"] is not None) == has_decision, p
        values = [p[f] for f in ("on_time", *AMOUNTS, *COUNTS)]
        if not has_decision:
            assert values == [None] * len(values), p
            assert all(p[f] is None for f in ("executed_date", *EXECUTED)), p
            continue
        # execution: exactly for decisions that order something; done <= ordered;
        # carried out two weeks or more after the resolution, by the end of the run
        orders = any(p[o] for o in EXECUTED.values())
        assert all((p[f] is not None) == orders for f in EXECUTED), p
        if orders:
            assert all(0 <= p[f] <= p[o] for f, o in EXECUTED.items()), p
            assert p["sanctioned_officials"] <= p["sanctioned_people"], p
            assert p["prosecuted_done_officials"] <= p["prosecuted_done_people"], p
            if p["executed_date"] is not None:
                lag = (dt.date.fromisoformat(p["executed_date"]) - dt.date.fromisoformat(p["resolved_date"])).days
                assert 14 <= lag <= 330 and p["executed_date"] <= end.isoformat(), p
                assert all(p[f] == p[o] for f, o in EXECUTED.items()), p      # fully carried out
        else:
            assert p["executed_date"] is None, p
        assert p["competent"] == 1 and p["outcome"] in OUTCOMES_OF[(p["kind"], p["resolution_round"])], p
        assert p["on_time"] in (0, 1) and all(v is not None and v >= 0 for v in values[1:]), p
        assert p["sanction_officials"] <= p["sanction_people"] and p["prosecuted_officials"] <= p["prosecuted_people"]
        assert all(isinstance(p[f], int) for f in COUNTS) and all(round(p[f], 1) == p[f] for f in AMOUNTS)
        if p["outcome"] not in ("dung", "dung_mot_phan", "huy_sua"):
            assert not any(values[1:]), p                   # nothing ordered by a dismissal or a withdrawal
    # amounts usually 0, a small share plausible (triệu đồng, m², a few people)
    some = [p for p in decided if any(p[f] for f in AMOUNTS + COUNTS)]
    assert 0.03 <= len(some) / len(decided) <= 0.4
    money = [p[f] for p in decided for f in AMOUNTS if p[f]]
    assert money and all(1 <= v <= 10_000 for v in money)
    assert all(p[f] <= 10 for p in decided for f in COUNTS)
    assert sum(p["on_time"] for p in decided) / len(decided) > 0.75
    # most decisions that order something are carried out; some in part, some not yet
    executes = [p for p in decided if p["collected_money"] is not None]
    assert len(executes) > 20
    # (decisions of the last months are mostly not carried out yet: judged on older ones)
    older = [p for p in executes if (end - dt.date.fromisoformat(p["resolved_date"])).days > 120]
    assert len(older) > 5
    assert 0.55 <= sum(p["executed_date"] is not None for p in older) / len(older) <= 0.97
    assert any(p["executed_date"] is None and any(p[f] for f in EXECUTED) for p in executes)   # in part
    assert any(p["executed_date"] is None and not any(p[f] for f in EXECUTED) for p in executes)  # not yet
    if fixture == "city_full":
        assert {p["outcome"] for p in decided} == {"dung", "sai", "dung_mot_phan", "cong_nhan", "huy_sua", "rut_don",
                                                   "dinh_chi"}
        assert {p["resolution_round"] for p in pets if p["kind"] == "KN" and p["eligible"]} == {"lan_dau", "lan_2",
                                                                                                "ban_an"}
        assert {p["resolution_round"] for p in pets if p["kind"] == "TC" and p["eligible"]} == {"lan_dau", "tiep"}
        rounds = collections.Counter(p["resolution_round"] for p in pets if p["kind"] == "KN" and p["eligible"])
        assert rounds["lan_dau"] > rounds["lan_2"] > rounds["ban_an"] > 0
        assert any(p["processed_date"] is None for p in pets)


def test_petitions_and_their_cases_agree(small):
    """Acceptance, resolution and the decision belong to the case: every accepted
    petition of a case shows the case's resolution date and the same decision."""
    gt = small / "ground_truth.sqlite"
    cases = dict(_rows(gt, "SELECT case_key, resolved_date FROM gt_case"))
    by_case: dict[str, set] = collections.defaultdict(set)
    checked = 0
    for p in _petitions(small):
        if p["handling"] != "thu_ly":
            continue
        if p["source_kind"] != "commune_register":
            assert p["resolved_date"] == cases[p["case_key"]], p
            checked += 1
        by_case[p["case_key"]].add(tuple(p[f] for f in ("accepted_date", "resolved_date", "resolution_round", "outcome",
                                                        "on_time", *AMOUNTS, *COUNTS, "executed_date", *EXECUTED)))
    assert checked > 100
    assert all(len(v) == 1 for v in by_case.values())
    assert sum(len(v) for v in by_case.values()) < sum(1 for p in _petitions(small) if p["handling"] == "thu_ly")


def test_sources_hold_the_processing_and_decisions_of_the_truth(small):
    """Independent of the model: the district rows and the latest city versions carry
    the truth's processing and decision fields, in their own codes; earlier city
    versions never show a state the record only reached later."""
    gt = small / "ground_truth.sqlite"
    truth = {(p["source_kind"], p["record_id"]): p for p in _petitions(small)}
    db = small / "district_db" / "001.sqlite"
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = {str(r["id"]): dict(r) for r in con.execute("SELECT * FROM don_thu WHERE trang_thai = 'CHINH_THUC'")}
    con.close()
    executed = 0
    rounds = {"LAN_DAU": "lan_dau", "LAN_2": "lan_2", "BAN_AN": "ban_an", "TIEP": "tiep"}
    n = 0
    for (kind, rid), p in truth.items():
        if kind != "district_db":
            continue
        r = rows[rid]
        assert (r["ngay_xu_ly"], r["ngay_thu_ly"], r["ngay_giai_quyet"]) == \
            (p["processed_date"], p["accepted_date"], p["resolved_date"])
        assert rounds.get(r["lan_giai_quyet"]) == p["resolution_round"]
        assert (r["ket_qua"] or "").lower() == (p["outcome"] or "") and r["dung_han"] == p["on_time"]
        assert (r["thu_hoi_tien"], r["tra_ca_nhan_dat"], r["xu_ly_hc_cbccvc"], r["chuyen_dieu_tra_so_nguoi"]) == \
            (p["recover_money"], p["return_person_land"], p["sanction_officials"], p["prosecuted_people"])
        assert (r["ngay_thi_hanh_xong"], r["da_thu_tien"], r["da_tra_ca_nhan_dat"], r["da_xu_ly_hc_cbccvc"],
                r["da_khoi_to_so_nguoi"]) == (p["executed_date"], p["collected_money"], p["returned_person_land"],
                                              p["sanctioned_officials"], p["prosecuted_done_people"])
        executed += r["ngay_thi_hanh_xong"] is not None
        # the row's last change is no earlier than the last processing step it shows
        shown = [d for d in (r["ngay_xu_ly"], r["ngay_thu_ly"], r["ngay_giai_quyet"]) if d]
        assert not shown or r["ngay_cap_nhat"][:10] >= max(shown) or r["ngay_thu_ly"] < r["ngay_nhan"]
        n += 1
    assert n > 300 and executed > 5
    city = small / "city_service" / "city.sqlite"
    con = sqlite3.connect(city)
    con.row_factory = sqlite3.Row
    versions: dict[str, list] = collections.defaultdict(list)
    for r in con.execute("SELECT * FROM petitions ORDER BY id, version"):
        versions[r["id"]].append(dict(r))
    con.close()
    outcomes = {"founded": "dung", "unfounded": "sai", "partly_founded": "dung_mot_phan", "upheld": "cong_nhan",
                "overturned": "huy_sua", "withdrawn": "rut_don", "discontinued": "dinh_chi"}
    grew = executed_versions = 0
    for (kind, rid), p in truth.items():
        if kind != "city_service":
            continue
        vs = versions[rid]
        last = vs[-1]
        assert (last["processed_on"], last["accepted_on"], last["resolved_on"], outcomes.get(last["outcome"])) == \
            (p["processed_date"], p["accepted_date"], p["resolved_date"], p["outcome"])
        assert (last["recover_money"], last["sanction_people"]) == (p["recover_money"], p["sanction_people"])
        assert (last["executed_on"], last["collected_money"], last["returned_org_money"],
                last["prosecuted_done_cases"]) == (p["executed_date"], p["collected_money"], p["returned_org_money"],
                                                   p["prosecuted_done_cases"])
        for a, b in zip(vs, vs[1:]):                      # states only move forward
            assert a["updated_ts"] <= b["updated_ts"]
            for col in ("processed_on", "accepted_on", "resolved_on", "outcome", "executed_on"):
                assert a[col] is None or a[col] == b[col]
            for col in EXECUTED:                          # done so far never shrinks
                assert a[col] is None or b[col] >= a[col]
            if a["resolved_on"] is None and b["resolved_on"] is not None:
                assert b["updated_at"][:10] >= b["resolved_on"]
                grew += 1
            if a["executed_on"] is None and b["executed_on"] is not None:
                assert b["updated_at"][:10] >= b["executed_on"]
                executed_versions += 1
    assert grew > 50, "resolutions arrive as new versions of the petition"
    assert executed_versions > 5, "executions arrive as new versions of the petition"
    assert _rows(gt, "SELECT COUNT(*) FROM gt_petition WHERE source_kind = 'city_service' AND outcome IS NOT NULL")[0][0]


def test_register_petition_sheets_write_decisions_as_officers_do(registers):
    """Vietnamese words for rounds and outcomes, Có/Không, amounts as numbers or as
    Vietnamese-formatted text ("1.250,5"), zeros written or left blank."""
    from simulators.registers import OUTCOME_TEXT, ROUND_TEXT, habits_for, vn_number

    assert (vn_number(1250.5), vn_number(45.0), vn_number(1234567.8)) == ("1.250,5", "45", "1.234.567,8")
    seen = collections.Counter()
    for path, encoding in _readable_books(registers):
        if encoding:
            continue
        h = habits_for(path.name, 42)
        rows = _cell_rows(path)["Đơn thư"]
        hdr = next(i for i, r in enumerate(rows) if r[0] == "STT")
        head = [unicodedata.normalize("NFC", str(v)) if v else v for v in rows[hdr]]
        col = {f: head.index(hd) for f, hd in h.petition_columns}
        for r in rows[hdr + 1:]:
            r = [unicodedata.normalize("NFC", v) if isinstance(v, str) else v for v in r]
            outcome = r[col["ket_qua"]]
            if outcome is None or r[0] in (None, "STT") or outcome not in OUTCOME_TEXT.values():
                continue
            seen["decisions"] += 1
            assert r[col["lan_giai_quyet"]] in ROUND_TEXT.values() and r[col["dung_han"]] in ("Có", "Không")
            assert r[col["tinh_trang"]] == "Đã giải quyết" and r[col["ngay_giai_quyet"]] is not None
            for f in ("thu_hoi_tien", "tra_ca_nhan_tien", "tra_ca_nhan_dat", "xu_ly_hc_so_nguoi"):
                v = r[col[f]]
                if v is None:
                    assert h.zero_blank
                    seen["blank"] += 1
                elif isinstance(v, str):
                    assert h.numbers_as_text and re.fullmatch(r"\d{1,3}(\.\d{3})*(,\d)?", v), v
                    seen["text"] += 1
                else:
                    assert not h.numbers_as_text
                    seen["number"] += 1
    assert seen["decisions"] > 20 and seen["blank"] and seen["text"] and seen["number"]


# ------------------------------------------------------------------ vượt cấp
@pytest.fixture(scope="module")
def skip_levels(tmp_path_factory) -> Path:
    """District 001 with all 13 of its communes and the city, 18 months: every vượt
    cấp planted at a Ba Đình commune has both sides in the sources."""
    out = tmp_path_factory.mktemp("sim_skip")
    generate(out, seed=42, start=dt.date(2021, 7, 1), end=dt.date(2022, 12, 31), districts=["001"], workers=1)
    return out


def test_planted_skipped_levels_have_an_open_commune_case(skip_levels):
    con = sqlite3.connect(skip_levels / "ground_truth.sqlite")
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM gt_skipped_level")]
    recs = {(r["source_kind"], r["record_id"]): dict(r) for r in con.execute("SELECT * FROM gt_reception")}
    pets = {(r["source_kind"], r["record_id"]): dict(r) for r in con.execute("SELECT * FROM gt_petition")}
    con.close()
    kinds = collections.Counter((r["source_kind"], r["record_type"]) for r in rows)
    assert kinds[("district_db", "reception")] >= 5 and kinds[("city_service", "reception")] >= 1
    assert kinds[("district_db", "petition")] >= 1
    for r in rows:
        higher = (recs if r["record_type"] == "reception" else pets)[(r["source_kind"], r["record_id"])]
        assert (higher["received_date"], higher["kind"], higher["case_key"], higher["unit_key"]) == \
            (r["received_date"], r["kind"], r["case_key"], r["unit_key"])
        assert r["kind"] in ("KN", "KNPA") and r["lower_source_kind"] == "commune_register"
        lower = recs[("commune_register", r["lower_record_id"])]
        assert (lower["unit_code"], lower["unit_key"], lower["case_key"], lower["received_date"], lower["kind"],
                lower["visit"]) == (r["lower_unit_code"], r["lower_unit_key"], r["lower_case_key"],
                                    r["lower_opened_date"], r["kind"], "lan_dau")
        assert all_units()[r["lower_unit_key"]].parent_code == "001"      # a commune of Ba Đình
        # open at the commune on the day: opened before, accepted, not yet resolved
        assert r["lower_opened_date"] < r["received_date"]
        assert r["lower_resolved_date"] is None or r["received_date"] < r["lower_resolved_date"]
        commune_pets = [p for p in pets.values() if p["case_key"] == r["lower_case_key"]
                        and p["source_kind"] == "commune_register"]
        assert commune_pets and all(p["handling"] == "thu_ly" and p["field"] == r["field"]
                                    and p["resolved_date"] == r["lower_resolved_date"] for p in commune_pets)
        assert min(p["accepted_date"] for p in commune_pets) < r["received_date"]
        # the higher level is not competent for it
        if r["record_type"] == "petition":
            assert higher["competent"] in (0, None) and higher["handling"] != "thu_ly"


def test_skipped_levels_are_exactly_what_the_sources_show(skip_levels):
    """Recomputed from the sources alone — the same person's ID number at a commune and
    at a higher level, same kind, the higher visit while the commune case is open — the
    planted receptions are all there is."""
    from connectors.commune_registers import read_workbook
    from core import normalise

    def day(v):
        try:
            return normalise.parse_date(v)
        except ValueError:
            return None

    def kind(v):
        try:
            return normalise.lookup(normalise.KIND, v, "loai")
        except ValueError:
            return None

    lower: dict[tuple, dict] = {}                # (commune, case ref) -> citizen, kind, opened, resolved
    for path, _ in _readable_books(skip_levels):
        content = read_workbook(path)
        for record_type, rows in content.records.items():
            for _, v in rows:
                d = day(v.get("ngay_tiep" if record_type == "reception" else "ngay_nhan"))
                if d is None or not v.get("so_giay_to") or kind(v.get("loai")) is None:
                    continue                   # the defective rows of defects.csv
                c = lower.setdefault((path.name[:5], v["ma_vu_viec"]), {
                    "citizen": str(v["so_giay_to"]), "kind": kind(v["loai"]), "opened": d, "resolved": None})
                c["opened"] = min(c["opened"], d)
                if record_type == "petition" and v.get("ngay_giai_quyet"):
                    c["resolved"] = day(v["ngay_giai_quyet"])
    by_citizen = collections.defaultdict(list)
    for c in lower.values():
        by_citizen[c["citizen"]].append(c)
    counted = set(_rows(skip_levels / "ground_truth.sqlite", "SELECT source_kind, record_id FROM gt_reception"))
    higher = [("district_db", str(i), d, k, cccd) for i, d, k, cccd in _rows(
        skip_levels / "district_db" / "001.sqlite", "SELECT id, ngay_tiep, loai, so_cccd FROM tiep_cong_dan")]
    higher += [("city_service", i, d, k, cccd) for i, d, k, cccd in _rows(
        skip_levels / "city_service" / "city.sqlite",
        "SELECT id, received_on, kind, citizen_id_number FROM receptions r WHERE version = "
        "(SELECT MAX(version) FROM receptions WHERE id = r.id)")]
    found = set()
    for source, rid, d, kind, cccd in higher:
        if (source, rid) not in counted or kind == "TC":
            continue
        d = dt.date.fromisoformat(d)
        if any(c["kind"] == kind and c["opened"] <= d and (c["resolved"] is None or d < c["resolved"])
               for c in by_citizen.get(cccd, ())):
            found.add((source, rid))
    planted = set(_rows(skip_levels / "ground_truth.sqlite",
                        "SELECT source_kind, record_id FROM gt_skipped_level WHERE record_type = 'reception'"))
    assert found == planted and len(planted) >= 6


def test_skipped_level_plan_does_not_depend_on_the_selection(small, skip_levels):
    """The small run (2 communes of Ba Đình) holds the plants of those communes only,
    the same rows as the run with every commune."""
    sql = "SELECT * FROM gt_skipped_level WHERE lower_unit_code IN ({}) AND received_date <= '2022-03-01' " \
          "ORDER BY source_kind, record_type, record_id"
    codes = ",".join(f"'{c}'" for (c,) in _rows(small / "ground_truth.sqlite",
                                                "SELECT DISTINCT unit_code FROM gt_reception "
                                                "WHERE source_kind = 'commune_register'"))
    mine = _rows(small / "ground_truth.sqlite", sql.format(codes))
    theirs = _rows(skip_levels / "ground_truth.sqlite", sql.format(codes))
    assert mine == theirs
    everything = _rows(small / "ground_truth.sqlite", "SELECT COUNT(*) FROM gt_skipped_level")[0][0]
    assert everything == len(mine)
