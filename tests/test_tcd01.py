"""Biểu 01/TCD: computed from hand-built receptions with hand-computed answers, checked
against its identities, written as the official xlsx layout, and the city's rows
across the 2025 reform. Pure pandas in, xlsx out: no Airflow, no database."""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from core import settings
from core.periods import custom, period
from reports.formdef import (
    FormDefinitionError,
    IdentityError,
    ReportRow,
    check_identities,
    compute,
    form_definition,
    form_from_dict,
    load_form,
    parse_check,
)
from reports.levels import UnplacedRecordsError, build_rows_for_city, city_report
from reports.render import write_xlsx

D = dt.date
FORM_PATH = Path(__file__).resolve().parent.parent / "reports" / "forms" / "tcd01_tt02_2021.yaml"
FACT_COLUMNS = ["reception_key", "unit_code", "unit_key", "received_date", "mode", "receiver",
                "sitting_key", "people", "is_group", "petition_kind", "case_key", "visit",
                "citizen_pseudonym", "source_kind", "source_name", "record_id", "raw_id", "batch_id"]


@pytest.fixture(scope="module")
def form():
    return load_form(FORM_PATH)


def rec(key, unit_key, day, mode, receiver, people, case, visit, sitting=None, batch="b1"):
    """One fact_reception row (is_group derived as the transforms do: people >= 5)."""
    return {"reception_key": key, "unit_code": unit_key.split(":")[1], "unit_key": unit_key,
            "received_date": day, "mode": mode, "receiver": receiver, "sitting_key": sitting,
            "people": people, "is_group": people >= 5, "petition_kind": "KN", "case_key": case,
            "visit": visit, "citizen_pseudonym": None, "source_kind": "city_service",
            "source_name": "test", "record_id": key, "raw_id": 1, "batch_id": batch}


def frame(records) -> pd.DataFrame:
    return pd.DataFrame(records, columns=FACT_COLUMNS)


# Row A: every column group exercised. Row B: a case (C1) also received at A.
# Row CITY: the city's own record.
Q3 = period("Q3", 2026)
d = lambda m, day: D(2026, m, day)
RECORDS = [
    # tiếp thường xuyên at A
    rec("a01", "2025:00004", d(7, 1), "thuong_xuyen", "can_bo", 1, "C1", "lan_dau"),
    rec("a02", "2025:00004", d(7, 5), "thuong_xuyen", "can_bo", 2, "C1", "nhieu_lan"),  # same case again
    rec("a03", "2025:00004", d(7, 2), "thuong_xuyen", "can_bo", 6, "C2", "nhieu_lan"),  # đoàn
    rec("a04", "2025:00004", d(7, 10), "thuong_xuyen", "can_bo", 5, "C2", "lan_dau"),  # đoàn, later
    rec("a05", "2025:00004", d(7, 3), "thuong_xuyen", "can_bo", 1, None, "lan_dau"),   # no case: own case
    rec("a06", "2025:00004", d(7, 3), "thuong_xuyen", "can_bo", 1, None, "nhieu_lan"),
    # same day, same case: the tie is broken by reception_key (a07 first) whatever the order
    rec("a08", "2025:00004", d(7, 20), "thuong_xuyen", "can_bo", 1, "C3", "lan_dau"),
    rec("a07", "2025:00004", d(7, 20), "thuong_xuyen", "can_bo", 1, "C3", "nhieu_lan"),
    # thủ trưởng tiếp at A
    rec("a09", "2025:00004", d(7, 15), "dinh_ky", "thu_truong", 1, "C1", "nhieu_lan", "S1"),
    rec("a10", "2025:00004", d(7, 15), "dinh_ky", "thu_truong", 7, "C4", "lan_dau", "S1"),
    rec("a11", "2025:00004", d(8, 1), "dot_xuat", "thu_truong", 1, "C5", "lan_dau", "S2"),
    rec("a12", "2025:00004", d(8, 9), "dot_xuat", "thu_truong", 1, "C5", "nhieu_lan", None),
    # ủy quyền tiếp at A
    rec("a13", "2025:00004", d(8, 20), "dinh_ky", "uy_quyen", 5, "C6", "lan_dau", "S3"),
    # B
    rec("b01", "2025:00008", d(7, 7), "thuong_xuyen", "can_bo", 3, "C1", "nhieu_lan", batch="b2"),
    # the city itself
    rec("c01", "province:01", d(8, 18), "dinh_ky", "thu_truong", 2, "C7", "lan_dau", "SC1", batch="b3"),
]
ROWS = [ReportRow("A", "Phường Ba Đình", "00004", "unit"),
        ReportRow("B", "Phường Ngọc Hà", "00008", "unit", note="Ghi chú thử"),
        ReportRow("CITY", "UBND Thành phố Hà Nội (cấp thành phố)", "01", "own"),
        ReportRow("total", "Tổng cộng", "01", "total")]
ROW_OF = {"2025:00004": "A", "2025:00008": "B", "province:01": "CITY"}


def receptions() -> pd.DataFrame:
    df = frame(RECORDS)
    df["row_id"] = df["unit_key"].map(ROW_OF)
    return df


@pytest.fixture(scope="module")
def table(form):
    return compute(form, receptions(), ROWS)


EXPECTED_A = {
    4: 8, 5: 18,        # a01..a08; 1+2+6+5+1+1+1+1
    6: 2, 7: 3,         # first: C1, a05 | repeat: C2 (earliest a03 nhieu_lan), a06, C3 (a07 first)
    8: 2, 9: 11,        # đoàn a03, a04
    10: 0, 11: 1,       # đoàn's only case C2: earliest đoàn record a03 is nhieu_lan
    12: 3,              # sittings S1, S2 and a12's missing sitting counted as its own
    13: 4, 14: 10,
    15: 2, 16: 1,       # C4, C5 first; C1 repeat (its earliest *thủ trưởng* record a09 is nhieu_lan)
    17: 1, 18: 7, 19: 1, 20: 0,
    21: 1, 22: 1, 23: 5, 24: 1, 25: 0, 26: 1, 27: 5, 28: 1, 29: 0,
    1: 13, 2: 33, 3: 9,
}


def test_form_definition_shape(form):
    assert form.code == "01/TCD" and form.version == "TT02_2021"
    assert form.title == "TỔNG HỢP KẾT QUẢ TIẾP CÔNG DÂN THƯỜNG XUYÊN, ĐỊNH KỲ VÀ ĐỘT XUẤT"
    assert form.ms_numbers == list(range(1, 31))
    assert form.text_columns == [30] and form.column(30).text == "Ghi chú"
    assert form.header_depth == 4
    assert form.column(10).path == ("Tiếp thường xuyên", "Trong đó đoàn đông người")
    assert form.column(16).path == ("Tiếp định kỳ và đột xuất của Thủ trưởng", "Thủ trưởng tiếp", "Số vụ việc")
    assert form.column(21).path[-1] == "Ủy quyền tiếp" and form.column(21).text == "Số kỳ tiếp"
    assert form.column(1).ms_text == "1=4+13+22"
    assert len(form.checks) == 12 and form.total_is_sum_of_rows
    assert "lần đầu" in form.semantics


def test_config_points_at_the_definition():
    f = form_definition("01/TCD", D(2025, 6, 15), settings.get())
    assert f.version == "TT02_2021" and Path(f.path).name == FORM_PATH.name
    assert form_definition("01/TCD", D(2026, 6, 14), settings.get()).version == "TT06_2025"    # Thông tư 06/2025
    with pytest.raises(ValueError):
        form_definition("01/TCD", D(2020, 1, 1), settings.get())  # before TT 02/2021 was in force


def test_hand_computed_cells(table):
    row = table.loc["A"]
    assert {ms: int(row[ms]) for ms in EXPECTED_A} == EXPECTED_A
    b = table.loc["B"]
    assert (b[4], b[5], b[6], b[7], b[1], b[2], b[3]) == (1, 3, 0, 1, 1, 3, 1)
    assert b[30] == "Ghi chú thử"
    city = table.loc["CITY"]
    assert (city[12], city[13], city[14], city[15], city[16], city[1], city[3]) == (1, 1, 2, 1, 0, 1, 1)


def test_total_row_is_the_sum_of_rows(table, form):
    assert list(table.index) == ["A", "B", "CITY", "total"]
    assert table.loc["total", "label"] == "Tổng cộng" and table.loc["total", "kind"] == "total"
    for ms in form.number_columns:
        assert table.loc["total", ms] == table.loc[["A", "B", "CITY"], ms].sum()
    # Additive, not deduplicated: C1 is a repeat case at A and at B, so it counts twice.
    assert table.loc["total", 7] == 4
    assert (table.loc["total", 1], table.loc["total", 2], table.loc["total", 3]) == (15, 38, 11)


def test_identities_hold(table, form):
    assert check_identities(form, table) == []


def test_input_order_does_not_matter(form, table):
    shuffled = receptions().sample(frac=1, random_state=7)
    pd.testing.assert_frame_equal(compute(form, shuffled, ROWS), table)


def test_empty_input_gives_zeros(form):
    t = compute(form, frame([]).assign(row_id=pd.Series(dtype=str)), ROWS[:3])
    assert list(t.index) == ["A", "B", "CITY", "total"]  # total row added when missing
    assert (t[form.number_columns] == 0).all().all()
    assert check_identities(form, t) == []


def test_records_without_a_row_are_refused(form):
    df = receptions()
    df.loc[0, "row_id"] = "elsewhere"
    with pytest.raises(ValueError, match="belong to no report row"):
        compute(form, df, ROWS)


def test_broken_identities_are_reported(form, table):
    t = table.copy()
    t.loc["A", 1] += 1                       # 1 = 4 + 13 + 22 broken (and the total with it)
    t.loc["B", 8] = 5                        # 8 <= 4 broken
    t.loc["B", 9] = 5                        # 9 <= 5 broken? 5 > 3 yes
    v = check_identities(form, t)
    text = "\n".join(v)
    assert any("Phường Ba Đình" in x and "1 = 4 + 13 + 22" in x for x in v)
    assert any("Phường Ngọc Hà" in x and "8 <= 4" in x for x in v)
    assert any("Phường Ngọc Hà" in x and "9 <= 5" in x for x in v)
    assert "Tổng cộng" in text and "cột 1" in text  # the total no longer adds up
    t2 = table.copy()
    t2.loc["total", 13] += 1
    v2 = check_identities(form, t2)
    assert any("cột 13" in x and "tổng các dòng" in x for x in v2)
    t3 = table.copy()
    t3.loc["A", 10], t3.loc["A", 11] = 2, 2  # 10 + 11 <= 6 + 7 with 6 + 7 = 5: holds
    t3.loc["A", 19], t3.loc["A", 20] = 3, 1  # 19 + 20 <= 15 + 16 = 3: broken
    t3.loc["total", [10, 11, 19, 20]] = t3.loc[["A", "B", "CITY"], [10, 11, 19, 20]].sum()
    assert [x for x in check_identities(form, t3)] == [
        "dòng «Phường Ba Đình» (A): vi phạm «19 + 20 <= 15 + 16» — cột 19+20 = 4, cột 15+16 = 3"]


def test_refused_table_is_not_written(form, table, tmp_path):
    t = table.copy()
    t.loc["A", 4] += 1
    out = tmp_path / "bao_cao.xlsx"
    with pytest.raises(IdentityError) as err:
        write_xlsx(form, t, ROWS, Q3, "UBND Thành phố Hà Nội", out, {"run_id": "r1"})
    assert err.value.violations and "cột 4" in str(err.value)
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no temp file left either


def test_check_parser():
    c = parse_check("9 = 11..13 = 14 + 15+16+17")
    assert c.sides == ((9,), (11, 12, 13), (14, 15, 16, 17)) and c.ops == ("=", "=")
    assert parse_check({"rule": "8 <= 4", "instruction": "xem lại"}).instruction == "xem lại"
    with pytest.raises(FormDefinitionError):
        parse_check("4 + x = 5")


def test_definition_is_validated():
    base = {"form": "X", "version": "v", "title": "T", "header": [
        {"ms": 1, "text": "a", "compute": {"measure": "count_records"}},
        {"ms": 2, "text": "b", "compute": {"sum_of": [1]}}]}
    assert form_from_dict(base).ms_numbers == [1, 2]
    bad_measure = {**base, "header": [{"ms": 1, "text": "a", "compute": {"measure": "guess"}}]}
    bad_ref = {**base, "header": [{"ms": 1, "text": "a", "compute": {"sum_of": [7]}}]}
    bad_filter = {**base, "header": [{"ms": 1, "text": "a",
                                      "compute": {"measure": "count_records", "filter": "nope"}}]}
    bad_check = {**base, "checks": ["1 = 9"]}
    dup = {**base, "header": base["header"] + [{"ms": 1, "text": "c", "compute": {"measure": "count_records"}}]}
    for raw in (bad_measure, bad_ref, bad_filter, bad_check, dup):
        with pytest.raises(FormDefinitionError):
            form_from_dict(raw)


# ------------------------------------------------------------------ xlsx

META = {"run_id": "manual__2026-09-15", "data_cutoff": "2026-09-15T00:00:00",
        "generated_at": "2026-09-15T01:02:03", "source_batch_count": 3, "form_version": "TT02_2021"}


@pytest.fixture(scope="module")
def written(form, table, tmp_path_factory):
    out = tmp_path_factory.mktemp("xlsx") / "01TCD_2026-Q3.xlsx"
    sha = write_xlsx(form, table, ROWS, Q3, "UBND Thành phố Hà Nội", out, META)
    return out, sha


def _find_row(ws, value, column=1):
    for row in ws.iter_rows(min_col=column, max_col=column):
        if row[0].value == value:
            return row[0].row
    raise AssertionError(f"{value!r} not found")


def test_xlsx_layout(written, form, table):
    path, sha = written
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["01-TCD", "Thông tin"]
    assert all(s.sheet_state == "visible" for s in wb.worksheets)
    ws = wb["01-TCD"]
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "Biểu số 01/TCD" in values
    assert "UBND THÀNH PHỐ HÀ NỘI" in values and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in values
    assert "Độc lập - Tự do - Hạnh phúc" in values
    assert form.title in values
    assert "Số liệu tính từ ngày 15/06/2026 đến ngày 14/09/2026" in values

    # Times New Roman on every written cell, of both sheets.
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                if c.value is not None:
                    assert c.font.name == "Times New Roman", (sheet.title, c.coordinate)

    title_row = _find_row(ws, form.title)
    assert ws.cell(title_row, 1).font.b
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert f"A{title_row}:AE{title_row}" in merged

    # Header: "Đơn vị" spans the 4 header rows; groups merge across their leaves.
    ms_row = _find_row(ws, "MS")
    h0 = ms_row - 4
    assert ws.cell(h0, 1).value == "Đơn vị" and f"A{h0}:A{ms_row - 1}" in merged
    assert ws.cell(h0, 2).value == "Tổng số lượt tiếp" and f"B{h0}:B{ms_row - 1}" in merged
    assert ws.cell(h0, 5).value == "Tiếp thường xuyên" and f"E{h0}:L{h0}" in merged   # cols 4..11
    assert ws.cell(h0, 13).value == "Tiếp định kỳ và đột xuất của Thủ trưởng" and f"M{h0}:AD{h0}" in merged
    assert ws.cell(h0 + 1, 13).value == "Thủ trưởng tiếp" and f"M{h0 + 1}:U{h0 + 1}" in merged
    assert ws.cell(h0 + 1, 22).value == "Ủy quyền tiếp" and f"V{h0 + 1}:AD{h0 + 1}" in merged
    assert ws.cell(h0 + 2, 16).value == "Số vụ việc" and f"P{h0 + 2}:Q{h0 + 2}" in merged
    assert ws.cell(h0 + 3, 16).value == "Tiếp lần đầu"
    assert ws.cell(h0 + 1, 9).value == "Trong đó đoàn đông người" and f"I{h0 + 1}:L{h0 + 1}" in merged
    assert ws.cell(h0, 31).value == "Ghi chú" and f"AE{h0}:AE{ms_row - 1}" in merged
    assert ws.cell(h0, 5).alignment.wrap_text and ws.cell(h0, 5).alignment.horizontal == "center"
    assert ws.cell(h0, 5).border.top.style == "thin"

    # MS row: 1..30, with the identities the form prints.
    ms = [ws.cell(ms_row, c).value for c in range(2, 32)]
    assert [int(str(v).split("=")[0]) for v in ms] == list(range(1, 31))
    assert ms[0] == "1=4+13+22" and ms[2] == "3=6+7+15+16+24+25" and ms[3] == 4

    # Data rows: labels in order, numbers as numbers (no formulas), zeros as 0.
    labels = [ws.cell(r, 1).value for r in range(ms_row + 1, ms_row + 5)]
    assert labels == ["Phường Ba Đình", "Phường Ngọc Hà", "UBND Thành phố Hà Nội (cấp thành phố)", "Tổng cộng"]
    assert ws.cell(ms_row + 5, 1).value is None
    for r, row_id in enumerate(table.index, start=ms_row + 1):
        for i, col in enumerate(form.number_columns, start=2):
            v = ws.cell(r, i).value
            assert isinstance(v, int) and not isinstance(v, bool), (r, i, v)
            assert v == table.loc[row_id, col]
    assert ws.cell(ms_row + 1, 2 + 19).value == 0            # col 20 of A is a written zero
    assert ws.cell(ms_row + 2, 31).value == "Ghi chú thử"
    total_r = ms_row + 4
    assert ws.cell(total_r, 1).font.b and ws.cell(total_r, 2).font.b and not ws.cell(ms_row + 1, 2).font.b
    for i in range(2, 31):
        assert ws.cell(total_r, i).value == sum(ws.cell(r, i).value for r in range(ms_row + 1, total_r))
    assert ws.cell(total_r, 2).value == 15

    info = wb["Thông tin"]
    pairs = {info.cell(r, 1).value: info.cell(r, 2).value for r in range(1, info.max_row + 1)}
    assert pairs["Mã lần chạy (run id)"] == "manual__2026-09-15"
    assert pairs["Số lô dữ liệu nguồn"] == 3
    assert pairs["Kỳ báo cáo"] == "Quý III năm 2026"
    assert pairs["Phiên bản biểu mẫu"] == "TT02_2021"


def test_same_inputs_same_file(written, form, table, tmp_path):
    path, sha = written
    again = tmp_path / "again.xlsx"
    assert write_xlsx(form, table, ROWS, Q3, "UBND Thành phố Hà Nội", again, META) == sha
    assert again.read_bytes() == path.read_bytes()
    # Rewriting in place replaces the file atomically and leaves no temporary file.
    assert write_xlsx(form, table, ROWS, Q3, "UBND Thành phố Hà Nội", again, META) == sha
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.xlsx"]


def test_optional_header_block(form, table, tmp_path):
    out = tmp_path / "x.xlsx"
    write_xlsx(form, table, ROWS, Q3, "UBND Thành phố Hà Nội", out, {}, header_block=False)
    ws = openpyxl.load_workbook(out).active
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" not in values and "Biểu số 01/TCD" in values


# ------------------------------------------------------------------ city rows across the reform

def units() -> pd.DataFrame:
    """A miniature dim_unit: two legacy districts with communes, two 2025 communes."""
    last, first = D(2025, 6, 30), D(2025, 7, 1)
    rows = [("province:01", "01", "Thành phố Hà Nội", "Thành phố", "tinh", None, None, "province", D(2020, 1, 1), None)]
    rows += [("legacy:001", "001", "Quận Ba Đình", "Quận", "huyen", "01", "province:01", "legacy", D(2020, 1, 1), last),
             ("legacy:002", "002", "Quận Hoàn Kiếm", "Quận", "huyen", "01", "province:01", "legacy", D(2020, 1, 1), last),
             ("legacy:00001", "00001", "Phường Phúc Xá", "Phường", "xa", "001", "legacy:001", "legacy", D(2020, 1, 1), last),
             ("legacy:00004", "00004", "Phường Trúc Bạch", "Phường", "xa", "001", "legacy:001", "legacy", D(2020, 1, 1), last),
             ("legacy:00037", "00037", "Phường Phúc Tân", "Phường", "xa", "002", "legacy:002", "legacy", D(2020, 1, 1), last)]
    # listed out of code order on purpose: rows are sorted by code
    rows += [("2025:00008", "00008", "Phường Ngọc Hà", "Phường", "xa", "01", "province:01", "2025", first, None),
             ("2025:00004", "00004", "Phường Ba Đình", "Phường", "xa", "01", "province:01", "2025", first, None)]
    cols = ["unit_key", "unit_code", "name", "unit_type", "level", "parent_code", "parent_key", "scheme",
            "valid_from", "valid_to"]
    return pd.DataFrame(rows, columns=cols).assign(source="test")


SPANNING = [
    rec("x1", "legacy:00001", D(2025, 6, 1), "thuong_xuyen", "can_bo", 1, "K1", "lan_dau"),   # first day
    rec("x2", "legacy:001", D(2025, 6, 20), "dinh_ky", "thu_truong", 2, "K2", "lan_dau", "S"),  # district itself
    rec("x3", "legacy:00037", D(2025, 6, 30), "thuong_xuyen", "can_bo", 6, "K3", "lan_dau"),
    rec("x4", "2025:00004", D(2025, 7, 1), "thuong_xuyen", "can_bo", 1, "K1", "nhieu_lan"),
    rec("x5", "province:01", D(2025, 7, 31), "dinh_ky", "thu_truong", 3, "K4", "lan_dau", "SC"),  # last day
    rec("x6", "2025:00008", D(2025, 8, 1), "thuong_xuyen", "can_bo", 1, "K5", "lan_dau"),  # after the window
    rec("x7", "legacy:00004", D(2025, 5, 31), "thuong_xuyen", "can_bo", 1, "K6", "lan_dau"),  # before it
]


def test_city_rows_across_the_reform(form):
    p = custom(D(2025, 6, 1), D(2025, 7, 31))
    rows, recs = build_rows_for_city("01", p, frame(SPANNING), units())
    assert [r.row_id for r in rows] == ["legacy:001", "legacy:002", "2025:00004", "2025:00008",
                                        "province:01", "total"]
    assert [r.kind for r in rows] == ["unit"] * 4 + ["own", "total"]
    assert rows[0].label == "Quận Ba Đình" and rows[2].label == "Phường Ba Đình"
    assert rows[4].label == "UBND Thành phố Hà Nội (cấp thành phố)" and rows[5].label == "Tổng cộng"
    assert "30/06/2025" in rows[0].note and "01/07/2025" in rows[2].note
    assert dict(zip(recs["reception_key"], recs["row_id"])) == {
        "x1": "legacy:001", "x2": "legacy:001", "x3": "legacy:002", "x4": "2025:00004", "x5": "province:01"}
    t = compute(form, recs, rows)
    assert (t.loc["legacy:001", 1], t.loc["legacy:001", 4], t.loc["legacy:001", 13]) == (2, 1, 1)
    assert (t.loc["legacy:002", 8], t.loc["legacy:002", 9]) == (1, 6)
    assert t.loc["2025:00008", 1] == 0 and t.loc["total", 1] == 5
    assert check_identities(form, t) == []


def test_city_rows_after_the_reform():
    rows, recs = build_rows_for_city("01", Q3, frame(RECORDS), units())
    assert [r.row_id for r in rows] == ["2025:00004", "2025:00008", "province:01", "total"]
    assert all(r.note == "" for r in rows)  # both communes exist for the whole window
    assert len(recs) == len(RECORDS)


def test_city_rows_before_the_reform():
    rows, _ = build_rows_for_city("01", period("Q1", 2025), frame([]), units())
    assert [r.row_id for r in rows] == ["legacy:001", "legacy:002", "province:01", "total"]
    assert rows[0].note == "Gồm cả cấp xã trực thuộc"


def test_unplaceable_records(form):
    stray = frame([rec("s1", "legacy:00001", D(2026, 7, 1), "thuong_xuyen", "can_bo", 1, None, "lan_dau"),
                   rec("s2", "79:26734", D(2026, 7, 1), "thuong_xuyen", "can_bo", 1, None, "lan_dau")])
    with pytest.raises(UnplacedRecordsError, match="2 record"):
        build_rows_for_city("01", Q3, stray, units())
    rows, recs = build_rows_for_city("01", Q3, stray, units(), strict=False)
    assert recs.empty and recs.attrs["unplaced"] == 2


def test_city_report_end_to_end(tmp_path):
    out = tmp_path / "report.xlsx"
    res = city_report("01/TCD", Q3, frame(RECORDS), units(), out, {"run_id": "r1"}, province_code=settings.get().province.code,
                      form=load_form(FORM_PATH))
    assert out.exists() and res.record_count == len(RECORDS)
    assert res.table.loc["total", 1] == 15
    ws = openpyxl.load_workbook(out)["Thông tin"]
    pairs = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert pairs["Số lô dữ liệu nguồn"] == 3 and pairs["Số bản ghi được tính"] == len(RECORDS)
    assert pairs["Đơn vị báo cáo"] == "UBND Thành phố Hà Nội"


def test_real_hanoi_units_across_the_reform(form):
    """With the real reference data: 30 districts, then 126 communes, then the city."""
    pytest.importorskip("vietnamadminunits")
    from warehouse.units import unit_frame

    p = period("Q3", 2025)  # 15/06/2025 – 14/09/2025
    rows, _ = build_rows_for_city("01", p, frame([]), unit_frame(settings.get(), "01"))
    kinds = [r.row_id.split(":")[0] for r in rows]
    assert kinds == ["legacy"] * 30 + ["2025"] * 126 + ["province", "total"]
    assert rows[0].label == "Quận Ba Đình" and rows[-2].label == "UBND Thành phố Hà Nội (cấp thành phố)"
    rows_after, _ = build_rows_for_city("01", period("Q3", 2026), frame([]), unit_frame(settings.get(), "01"))
    assert len(rows_after) == 126 + 2
