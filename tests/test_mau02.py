"""Mẫu số 02 (TT 06/2025): the narrative report as a Word document (reports/mau02/).

Small tables are built by hand for the current period, the previous period and the same
period of the previous year; the tests check the document against them: headings verbatim
and in order, every figure equal to the cell it cites and written the Vietnamese way,
comparisons on hand-computed numbers, empty cells never written as 0, placeholders
marked and alone where only a person can write, LibreOffice opens the file, and the
output is byte-for-byte reproducible.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import docx
import pandas as pd
import pytest
from docx.enum.text import WD_COLOR_INDEX

from core import settings
from core.periods import Period
from reports import mau02
from reports.formdef import TOTAL_ROW_ID

DOMAIN_JSON = Path(os.environ.get("TCD_DOMAIN_DIR", "/work/shared/domain")) / "tt06-2025-forms.json"

Q1_2026 = Period("Q1", 2026, dt.date(2025, 12, 15), dt.date(2026, 3, 14), "Quý I năm 2026")
ISSUER = "Ủy ban nhân dân\nThành phố Hà Nội"


# ----------------------------------------------------------------- hand-made tables

def _table(n_columns: int, totals: dict[int, object], *, unavailable: tuple[int, ...] = (),
           default=lambda ms: ms, total_note: str = "", not_reported: bool = False) -> pd.DataFrame:
    """A table as reports.formdef.compute returns it: two unit rows and the total row,
    columns label, kind, MS 1..n, note. `totals` fixes the total of some columns (the rest
    get `default(ms)`); each total is split over the two units (u1 takes the larger part),
    an unavailable column is None on every row. With `not_reported`, a third unit row
    did not report: its cells are NA (Int64 / Float64 columns) and the total leaves it out.
    """
    rows = ["u1", "u2"] + (["u3"] if not_reported else []) + [TOTAL_ROW_ID]
    data: dict[object, list] = {"label": ["Đơn vị 1", "Đơn vị 2"] + (["Đơn vị 3"] if not_reported else [])
                                + ["Tổng cộng"],
                                "kind": ["unit", "unit"] + (["unit"] if not_reported else []) + ["total"]}
    for ms in range(1, n_columns + 1):
        if ms in unavailable:
            data[ms] = [None] * len(rows)
            continue
        total = totals.get(ms, default(ms))
        if isinstance(total, float):
            part = round(total / 3, 2)
            values = [round(total - part, 6), part]
        else:
            values = [total - total // 3, total // 3]
        data[ms] = values + ([pd.NA] if not_reported else []) + [total]
    table = pd.DataFrame(data, index=pd.Index(rows, name="row_id"))
    for ms in range(1, n_columns + 1):
        if ms in unavailable:
            table[ms] = table[ms].astype(object)
        elif isinstance(totals.get(ms, default(ms)), float):
            table[ms] = table[ms].astype("Float64" if not_reported else "float64")
        else:
            table[ms] = table[ms].astype("Int64" if not_reported else "int64")
    table["note"] = [""] * (len(rows) - 1) + [total_note]
    return table


# Columns the sources do not carry (unavailable in the form definitions).
UNAVAILABLE = {"01/TCD": (10, 16), "03/GQKN": (3, 4, 5, 6), "04/GQTC": (3, 4, 5, 6, 20), "05/KQTH": (26,)}
MONEY_LAND = {"03/GQKN": (13, 14, 15, 16), "04/GQTC": (14, 15, 16, 17), "05/KQTH": tuple(range(3, 11)) + tuple(range(18, 26))}


# II.5 (protection of denouncers, the 06/QLKNTC workbooks' block): (1) = (2) + (3); the two
# kinds of measure overlap ((4) + (5) > (1) now). No such table a year earlier.
PROTECTION = {"cur": {1: 7, 2: 5, 3: 2, 4: 3, 5: 6}, "prev": {1: 4, 2: 4, 3: 0, 4: 0, 5: 4}}
PROTECTION_NOTE = ("tổng hợp từ tệp nhập số liệu biểu 06/QLKNTC (trang «Bảo vệ người tố cáo») của 2/3 đơn vị; "
                   "1 đơn vị chưa báo cáo số liệu bảo vệ người tố cáo: 1 đơn vị đã gửi biểu 06/QLKNTC nhưng "
                   "không kèm số liệu này (Đơn vị 3)")


def _tables(kind: str) -> dict[str, pd.DataFrame]:
    """The five computed tables (no 06/QLKNTC: its data comes from manual input) and the
    II.5 protection table (now and the previous period) of the current period ("cur"),
    the previous period ("prev") or the same period last year ("last"). The cells the tests look at are set explicitly; the rest follow a
    per-period rule so every comparison has numbers behind it."""
    shift = {"cur": 0, "prev": -5, "last": 3}[kind]
    tcd = {"cur": {1: 1234, 2: 1567, 3: 890, 4: 12, 9: 100, 15: 40, 21: 16},
           "prev": {1: 1222, 2: 1567, 3: 880, 4: 10, 9: 90, 15: 30, 21: 10},
           "last": {1: 1237, 2: 1500, 3: 890, 4: 0, 9: 0, 15: 0, 21: 0}}[kind]
    xld = {"cur": {1: 300, 2: 280, 3: 250, 4: 200, 5: 180, 6: 80, 7: 60, 8: 20, 9: 50, 10: 20, 11: 10,
                   12: 40, 13: 30, 14: 10, 15: 10, 16: 10, 17: 10, 18: 10, 19: 80, 20: 40, 21: 30, 22: 10,
                   23: 50, 24: 30, 25: 20},
           "prev": {6: 64, 9: 40, 10: 16, 11: 8, 12: 40, 15: 20, 16: 10, 17: 5, 18: 5},
           "last": {6: 100, 9: 50, 10: 30, 11: 20, 12: 0, 15: 0, 16: 0, 17: 0, 18: 0}}[kind]
    gqkn = {"cur": {1: 80, 2: 70, 13: 1234.5, 14: 250.0, 15: 12.0, 16: 0.0},
            "prev": {13: 1000.25, 14: 250.0, 15: 10.0, 16: 0.0},
            "last": {13: 2000.0, 14: 100.5, 15: 12.0, 16: 0.0}}[kind]
    gqtc = {"cur": {23: 2}, "prev": {23: 0}, "last": {23: 1}}[kind]
    kqth = {"cur": {1: 40, 2: 30, 16: 0, 17: 0}, "prev": {1: 50, 2: 30, 16: 4, 17: 2},
            "last": {1: 40, 2: 20, 16: 5, 17: 5}}[kind]

    def money(code, totals):
        return {**{ms: float(ms * 10 + shift) for ms in MONEY_LAND.get(code, ())}, **totals}

    def default(ms):
        return ms + 20 + shift

    protection = {}
    if kind in PROTECTION:
        protection[mau02.PROTECTION_CODE] = _table(5, PROTECTION[kind], not_reported=(kind == "cur"),
                                                   total_note=PROTECTION_NOTE if kind == "cur" else "")
    return {
        **protection,
        "01/TCD": _table(21, tcd, unavailable=UNAVAILABLE["01/TCD"], default=default),
        "02/XLD": _table(25, xld, default=default, not_reported=(kind == "cur"),
                         total_note="Chưa gồm số liệu của 1 đơn vị chưa báo cáo" if kind == "cur" else ""),
        "03/GQKN": _table(23, money("03/GQKN", gqkn), unavailable=UNAVAILABLE["03/GQKN"], default=default),
        "04/GQTC": _table(25, money("04/GQTC", gqtc), unavailable=UNAVAILABLE["04/GQTC"], default=default),
        "05/KQTH": _table(31, money("05/KQTH", kqth), unavailable=UNAVAILABLE["05/KQTH"], default=default),
    }


def _build(path: Path, **kw) -> mau02.Mau02Result:
    args = dict(issuer_name=ISSUER, place="Hà Nội", period=Q1_2026, tables=_tables("cur"),
                previous=_tables("prev"), last_year=_tables("last"), notes=None)
    args.update(kw)
    return mau02.build_mau02(path, **args)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("mau02") / "bao-cao-quy-1-2026.docx"
    result = _build(out)
    return result, docx.Document(str(out))


def _texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def _section(document, heading: str) -> list[str]:
    """The paragraphs between the heading `heading` and the next heading (any level)."""
    paras = document.paragraphs
    start = next(i for i, p in enumerate(paras) if p.style.name.startswith("Heading") and p.text == heading)
    out = []
    for p in paras[start + 1:]:
        if p.style.name.startswith("Heading"):
            break
        out.append(p.text)
    return out


def _by(result, form, ms, heading=None, group=None) -> mau02.Figure:
    hits = [f for f in result.figures if f.form == form and f.ms == ms
            and (heading is None or f.heading == heading) and (group is None or f.group == group)]
    assert len(hits) == 1, (form, ms, heading, hits)
    return hits[0]


def _vn_int(n: int) -> str:
    # Written independently of reports.narrative.format_vn: thousands with ".".
    return f"{n:,}".replace(",", ".")


# ----------------------------------------------------------------- the outline

def test_outline_is_the_json_verbatim():
    if not DOMAIN_JSON.exists():
        pytest.skip(f"{DOMAIN_JSON} not available (set TCD_DOMAIN_DIR)")
    paras = json.loads(DOMAIN_JSON.read_text(encoding="utf-8"))["mau_so_02_verbatim"]
    assert len(paras) == 68
    assert mau02.OUTLINE == tuple(paras)


def _expected_headings() -> list[str]:
    if DOMAIN_JSON.exists():
        paras = json.loads(DOMAIN_JSON.read_text(encoding="utf-8"))["mau_so_02_verbatim"]
    else:
        paras = list(mau02.OUTLINE)
    heads = [p for p in paras if re.match(r"^(?:[IVX]+\.|\d+\.|[a-z]\))\s", p)]
    # Two headings run on with an instruction after a colon ("a) Về khiếu nại: Khái
    # quát …"): the heading is the part before it, the rest goes into the placeholder.
    return [h.split(": ", 1)[0] for h in heads]


def test_headings_in_order_and_verbatim(built):
    result, document = built
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    expected = _expected_headings()
    assert len(expected) == 27
    assert headings == expected
    assert headings[0] == "I. TÌNH HÌNH KHIẾU NẠI, TỐ CÁO"
    assert "a) Về khiếu nại" in headings and headings[-1] == "VI. KIẾN NGHỊ, ĐỀ XUẤT"
    # Levels: I. → 1, 1. → 2, a) → 3.
    levels = {p.text: p.style.name for p in document.paragraphs if p.style.name.startswith("Heading")}
    assert levels["II. KẾT QUẢ CÔNG TÁC TIẾP CÔNG DÂN, XỬ LÝ ĐƠN, GIẢI QUYẾT KHIẾU NẠI, TỐ CÁO"] == "Heading 1"
    assert levels["1. Công tác tiếp công dân (Biểu 01/TCD)"] == "Heading 2"
    assert levels["b) Phân loại, xử lý đơn thuộc thẩm quyền"] == "Heading 3"
    # The rest of the run-on paragraph is quoted in the placeholder under its heading.
    assert _section(document, "a) Về khiếu nại")[-2:] == [
        "[Đơn vị soạn thảo: Khái quát tình hình khiếu nại, so sánh cùng kỳ năm trước (tăng, giảm) "
        "tỉ lệ đơn khiếu nại của từng lĩnh vực]",
        "(Số liệu Biểu 02/XLD: Chưa gồm số liệu của 1 đơn vị chưa báo cáo.)"]


def test_heading_block_title_and_page_setup(built):
    result, document = built
    left, right = document.tables[0].rows[0].cells
    assert [p.text for p in left.paragraphs if p.text] == ["ỦY BAN NHÂN DÂN", "THÀNH PHỐ HÀ NỘI", "Số: …/BC-UBND"]
    assert [p.text for p in right.paragraphs if p.text] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Hà Nội, ngày … tháng … năm …"]
    texts = _texts(document)
    i = texts.index("BÁO CÁO")
    assert texts[i + 1] == "Công tác tiếp công dân, giải quyết khiếu nại, tố cáo Quý I năm 2026"
    assert texts[i + 2] == "(Số liệu tính từ ngày 15/12/2025 đến ngày 14/03/2026)"
    section = document.sections[0]
    mm = lambda length: round(length / 36000)  # EMU → mm
    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert 20 <= mm(section.top_margin) <= 25 and 20 <= mm(section.bottom_margin) <= 25
    assert 30 <= mm(section.left_margin) <= 35 and 15 <= mm(section.right_margin) <= 20
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size.pt in (13, 14)
    for level in (1, 2, 3):
        assert document.styles[f"Heading {level}"].font.name == "Times New Roman"


def test_subject_line_of_the_annual_report(tmp_path):
    year = Period("Y", 2025, dt.date(2024, 12, 15), dt.date(2025, 12, 14), "Năm 2025")
    result = _build(tmp_path / "nam.docx", period=year, previous=None, last_year=None)
    texts = _texts(docx.Document(str(result.path)))
    assert "Công tác tiếp công dân, giải quyết khiếu nại, tố cáo năm 2025" in texts
    assert "(Số liệu tính từ ngày 15/12/2024 đến ngày 14/12/2025)" in texts


# ----------------------------------------------------------------- figures

def _cell(tables, form, ms):
    value = tables[form].at[TOTAL_ROW_ID, ms]
    return None if value is None or pd.isna(value) else value


def _expected_value(tables, fig: mau02.Figure):
    if fig.form not in tables:
        return None
    terms = fig.ms if isinstance(fig.ms, tuple) else (fig.ms,)
    cells = [_cell(tables, fig.form, ms) for ms in terms]
    if any(c is None for c in cells):
        return None
    if fig.kind == "share":
        num, den = cells
        return None if den == 0 else 100 * num / den
    return sum(cells)


def test_every_figure_is_the_cell_it_cites(built):
    result, document = built
    cur, prev, last = _tables("cur"), _tables("prev"), _tables("last")
    assert len(result.figures) > 150
    assert [f.ms for f in result.figures if f.form == mau02.PROTECTION_CODE] == [1, 2, 3, 4, 5]
    for fig in result.figures:
        for tables, got in ((cur, fig.value), (prev, fig.previous), (last, fig.same_period_last_year)):
            want = _expected_value(tables, fig)
            if want is None:
                assert got is None, fig
            else:
                assert got == pytest.approx(want, abs=1e-6), fig


def test_every_figure_is_written_the_vietnamese_way(built):
    result, document = built
    texts = _texts(document)
    for fig in result.figures:
        assert fig.text in texts, fig.text
        assert fig.text[2:].startswith(f"{fig.text_label}: ")
        if fig.value is None:
            continue
        if fig.kind == "share":
            whole, frac = divmod(round(fig.value * 10), 10)
            assert f": {_vn_int(whole)},{frac}%" in fig.text, fig.text
        elif isinstance(fig.value, int):
            assert f": {_vn_int(fig.value)} {fig.unit}" in fig.text, fig.text
        else:
            assert f": {mau02.format_value(fig.value)} {fig.unit}" in fig.text, fig.text
    # Thousands with a dot, decimals with a comma, literally.
    assert "- Tổng số lượt tiếp: 1.234 lượt; tăng 12 lượt (+1,0%) so với kỳ trước; " \
           "giảm 3 lượt (−0,2%) so với cùng kỳ năm trước." in texts
    money = _by(result, "03/GQKN", 13)
    assert money.value == 1234.5
    assert money.text == ("- Kiến nghị thu hồi cho Nhà nước, tiền: 1.234,5 triệu đồng; tăng 234,25 triệu đồng "
                          "(+23,4%) so với kỳ trước; giảm 765,5 triệu đồng (−38,3%) so với cùng kỳ năm trước.")


def test_comparisons_on_hand_computed_numbers(built):
    result, document = built
    texts = _texts(document)
    # 1567 both periods; 1567 − 1500 = 67, 67 / 1500 = 4,47 %.
    assert _by(result, "01/TCD", 2).text == ("- Tổng số người được tiếp: 1.567 người; không thay đổi so với kỳ trước; "
                                             "tăng 67 người (+4,5%) so với cùng kỳ năm trước.")
    # Đoàn đông người: 12 against 10 and against 0 (no percentage on a base of 0).
    assert _by(result, "01/TCD", 4).text == ("- Tổng số đoàn đông người được tiếp: 12 đoàn; tăng 2 đoàn (+20,0%) "
                                             "so với kỳ trước; tăng 12 đoàn so với cùng kỳ năm trước "
                                             "(cùng kỳ năm trước bằng 0).")
    # People in đoàn đông người, all channels: 9 + 15 + 21 = 100 + 40 + 16 = 156 (prev 130).
    people = _by(result, "01/TCD", (9, 15, 21))
    assert (people.kind, people.value, people.previous, people.same_period_last_year) == ("sum", 156, 130, 0)
    assert people.text.startswith("+ Số người trong các đoàn đông người được tiếp: 156 người; "
                                  "tăng 26 người (+20,0%) so với kỳ trước; tăng 156 người")
    # Shares of the complaint fields (02/XLD 9 ÷ 6): 50/80 = 62,5 % now, 40/64 = 62,5 %
    # before, 50/100 = 50,0 % a year ago.
    land = _by(result, "02/XLD", (9, 6))
    assert land.heading == "a) Về khiếu nại" and land.kind == "share"
    assert land.text == ("+ Tỷ lệ đơn khiếu nại lĩnh vực đất đai (trên tổng số đơn khiếu nại thuộc thẩm quyền): "
                         "62,5%; không thay đổi so với kỳ trước; tăng 12,5 điểm phần trăm so với cùng kỳ năm trước.")
    other = _by(result, "02/XLD", (11, 6))   # 10/80 = 12,5 %; 8/64 = 12,5 %; 20/100 = 20,0 %
    assert other.text.endswith("12,5%; không thay đổi so với kỳ trước; giảm 7,5 điểm phần trăm so với cùng kỳ năm trước.")
    # A year ago no competent denunciation: its shares cannot be computed.
    admin = _by(result, "02/XLD", (15, 12))
    assert admin.same_period_last_year is None and admin.last_year_note == "mẫu số của tỷ lệ bằng 0"
    assert admin.text.endswith("chưa so sánh được với cùng kỳ năm trước (mẫu số của tỷ lệ bằng 0).")
    # III.1: implementation rate 05/KQTH 2 ÷ 1 = 30/40 = 75,0 % (prev 30/50 = 60,0 %,
    # last year 20/40 = 50,0 %); 17 ÷ 16 has a zero denominator now.
    rate = _by(result, "05/KQTH", (2, 1))
    assert rate.heading == "1. Ưu điểm, kết quả"
    assert rate.text == ("- Tỷ lệ Quyết định giải quyết khiếu nại đã thi hành xong (cột 2 ÷ cột 1 Biểu 05/KQTH): "
                         "75,0%; tăng 15,0 điểm phần trăm so với kỳ trước; tăng 25,0 điểm phần trăm so với "
                         "cùng kỳ năm trước.")
    conclusions = _by(result, "05/KQTH", (17, 16))
    assert conclusions.value is None
    assert conclusions.text == ("- Tỷ lệ Kết luận nội dung tố cáo đã thực hiện xong (cột 17 ÷ cột 16 Biểu 05/KQTH): "
                                "không tính được (cột 16 Biểu 05/KQTH bằng 0).")
    # Previous period 0.
    assert _by(result, "04/GQTC", 23).text.startswith(
        "- Chuyển cơ quan điều tra: 2 vụ; tăng 2 vụ so với kỳ trước (kỳ trước bằng 0); "
        "tăng 1 vụ (+100,0%) so với cùng kỳ năm trước")
    assert all(t in texts for t in (rate.text, conclusions.text))


def test_empty_cells_read_chua_co_so_lieu_never_zero(built):
    result, document = built
    na = [f for f in result.figures if f.value is None and f.kind != "share"]
    cited = {(f.form, f.ms) for f in na}
    assert {("01/TCD", 10), ("01/TCD", 16), ("03/GQKN", 3), ("04/GQTC", 20), ("05/KQTH", 26)} <= cited
    assert {("06/QLKNTC", ms) for ms in range(1, 18)} <= cited
    for fig in na:
        assert f"{fig.text_label}: chưa có số liệu (" in fig.text, fig.text
        assert not re.search(r": 0\b", fig.text) and "so với" not in fig.text
    days = _by(result, "01/TCD", 10)
    assert days.text == ("+ Số ngày tiếp: chưa có số liệu (nguồn dữ liệu chưa có số ngày tiếp công dân của "
                         "Thủ trưởng được thông báo công khai).")
    assert _by(result, "06/QLKNTC", 1).text == "- Số văn bản ban hành mới: chưa có số liệu (chưa có biểu 06/QLKNTC)."
    # Section II.6.b holds nothing but those lines (the table is missing).
    assert all("chưa có số liệu (chưa có biểu 06/QLKNTC)" in t for t in _section(
        document, "b) Kết quả xây dựng, hoàn thiện thể chế, ban hành văn bản chỉ đạo điều hành và tuyên truyền, "
                  "phổ biến, giáo dục pháp luật."))
    # A comparison period with an empty cell: stated, not compared.
    ly = _tables("last")
    ly["01/TCD"][11] = pd.array([None] * 3, dtype=object)
    result2 = _build(result.path.with_name("na.docx"), last_year=ly)
    head = _by(result2, "01/TCD", 11)
    assert head.same_period_last_year is None
    assert head.text.endswith("chưa so sánh được với cùng kỳ năm trước (chưa có số liệu).")


def test_reasons_of_empty_cells_come_from_notes(tmp_path):
    from reports.formdef import form_from_dict

    form = form_from_dict({"form": "01/TCD", "version": "TT06_2025", "title": "T", "source": "fact_reception",
                           "header": [{"ms": 1, "text": "A", "compute": {"measure": "count_records"}},
                                      {"ms": 10, "text": "B", "compute": {"measure": "unavailable",
                                                                         "reason": "Nguồn dữ liệu chưa có lịch tiếp công dân đã công bố."}}]})
    notes = mau02.na_reasons([form])
    assert notes == {"01/TCD:10": "Nguồn dữ liệu chưa có lịch tiếp công dân đã công bố."}
    result = _build(tmp_path / "notes.docx", notes={**notes, "01/TCD:16": "Chưa nhập lịch ủy quyền"})
    assert _by(result, "01/TCD", 10).text == ("+ Số ngày tiếp: chưa có số liệu (nguồn dữ liệu chưa có lịch tiếp công "
                                              "dân đã công bố).")
    assert _by(result, "01/TCD", 16).na_reason == "chưa nhập lịch ủy quyền"


def test_comparison_with_a_period_on_the_older_forms(tmp_path):
    """Same period last year reported on the TT 01/2024 set: 01/TCD of TT 02/2021 (29
    columns + Ghi chú) and 01/XLD of TT 01/2024; only columns with the same meaning are
    compared."""
    old_tcd = _table(30, {1: 1000, 2: 1300, 8: 4, 17: 3, 26: 1, 9: 50, 18: 30, 27: 10, 4: 600, 6: 200, 7: 90},
                     default=lambda ms: ms)
    old_tcd[30] = pd.Series(["", "", ""], index=old_tcd.index, dtype=object)   # Ghi chú
    old_xld = _table(22, {1: 250, 5: 99}, default=lambda ms: 10 * ms)
    result = _build(tmp_path / "old.docx", last_year={"01/TCD": old_tcd, "01/XLD": old_xld})
    total = _by(result, "01/TCD", 1)
    assert total.same_period_last_year == 1000
    assert total.last_year_source == "01/TCD cột 1 (biểu trước Thông tư số 06/2025/TT-TTCP)"
    assert total.text.endswith("tăng 234 lượt (+23,4%) so với cùng kỳ năm trước.")
    groups = _by(result, "01/TCD", 4)                     # 2025 col 4 = 2021 8 + 17 + 26
    assert groups.same_period_last_year == 8
    assert groups.last_year_source == "01/TCD cột 8+17+26 (biểu trước Thông tư số 06/2025/TT-TTCP)"
    assert groups.text.endswith("tăng 4 đoàn (+50,0%) so với cùng kỳ năm trước.")
    assert _by(result, "01/TCD", (9, 15, 21)).same_period_last_year == 90    # 9 + 18 + 27
    assert _by(result, "01/TCD", 7, group="- Tiếp thường xuyên:").same_period_last_year == 200 + 90
    head = _by(result, "01/TCD", 11)                      # = 2021 col 13
    assert head.same_period_last_year == 13 and head.last_year_source.startswith("01/TCD cột 13 ")
    # Announced days (10) replace sittings held: no equivalent (and no figure now either).
    assert _by(result, "01/TCD", 10).last_year_note.endswith("không có chỉ tiêu tương đương")
    # 02/XLD 5 (vụ việc of competent petitions) is new: stated plainly.
    fig = _by(result, "02/XLD", 5)
    assert fig.same_period_last_year is None
    assert fig.text.endswith("chưa so sánh được với cùng kỳ năm trước (kỳ đó báo cáo theo biểu trước "
                             "Thông tư số 06/2025/TT-TTCP, không có chỉ tiêu tương đương).")
    assert _by(result, "02/XLD", 1, heading="a) Tổng số đơn đã tiếp nhận trong kỳ").same_period_last_year == 250
    assert _by(result, "02/XLD", 2).same_period_last_year == 40    # 2024 01/XLD col 4
    # A form whose old counterpart was not given.
    assert _by(result, "03/GQKN", 1).last_year_note == "chưa có biểu 01/KQGQ (mẫu cũ)"
    # The previous period (on the 2025 forms) is compared column for column.
    assert _by(result, "01/TCD", 1).previous == 1222
    texts = _texts(docx.Document(str(result.path)))
    assert any(t.startswith("Ghi chú: số liệu của kỳ so sánh báo cáo theo các biểu trước") for t in texts)


def test_no_comparison_tables(tmp_path):
    result = _build(tmp_path / "none.docx", previous=None, last_year=None)
    fig = _by(result, "01/TCD", 1)
    # No comparison period given: no comparison clause at all (the caller's note under the
    # title says why), never "chưa có số liệu" on every line.
    assert fig.text == "- Tổng số lượt tiếp: 1.234 lượt."
    partial = _build(tmp_path / "partial.docx", previous={"01/TCD": _tables("prev")["01/TCD"]})
    assert _by(partial, "02/XLD", 4).previous_note == "chưa có biểu 02/XLD"


# ----------------------------------------------------------------- II.5: protection of denouncers

def test_protection_of_denouncers_section(built, tmp_path):
    result, document = built
    section = _section(document, "5. Bảo vệ người tố cáo (nếu có)")
    # 7 people now, 4 the previous period; none a year earlier (no such data then).
    assert section == [
        "- Tổng số người được bảo vệ (người tố cáo, thân nhân của người tố cáo): 7 người; tăng 3 người (+75,0%) "
        "so với kỳ trước; chưa so sánh được với cùng kỳ năm trước (không có số liệu bảo vệ người tố cáo từ tệp "
        "nhập số liệu biểu 06/QLKNTC (trang «Bảo vệ người tố cáo»)).",
        "+ Người tố cáo: 5 người; tăng 1 người (+25,0%) so với kỳ trước; chưa so sánh được với cùng kỳ năm trước "
        "(không có số liệu bảo vệ người tố cáo từ tệp nhập số liệu biểu 06/QLKNTC (trang «Bảo vệ người tố cáo»)).",
        "+ Thân nhân của người tố cáo: 2 người; tăng 2 người so với kỳ trước (kỳ trước bằng 0); chưa so sánh được "
        "với cùng kỳ năm trước (không có số liệu bảo vệ người tố cáo từ tệp nhập số liệu biểu 06/QLKNTC (trang "
        "«Bảo vệ người tố cáo»)).",
        "+ Trong đó, số người được áp dụng biện pháp bảo vệ vị trí công tác, việc làm: 3 người; tăng 3 người so "
        "với kỳ trước (kỳ trước bằng 0); chưa so sánh được với cùng kỳ năm trước (không có số liệu bảo vệ người "
        "tố cáo từ tệp nhập số liệu biểu 06/QLKNTC (trang «Bảo vệ người tố cáo»)).",
        "+ Trong đó, số người được áp dụng biện pháp bảo vệ tính mạng, sức khỏe, tài sản, danh dự, nhân phẩm: "
        "6 người; tăng 2 người (+50,0%) so với kỳ trước; chưa so sánh được với cùng kỳ năm trước (không có số "
        "liệu bảo vệ người tố cáo từ tệp nhập số liệu biểu 06/QLKNTC (trang «Bảo vệ người tố cáo»)).",
        f"(Số liệu bảo vệ người tố cáo: {PROTECTION_NOTE}.)"]
    # No protection table at all: every figure says so, none is 0.
    tables = _tables("cur")
    del tables[mau02.PROTECTION_CODE]
    bare = _build(tmp_path / "bare.docx", tables=tables, previous=None, last_year=None)
    figs = [f for f in bare.figures if f.form == mau02.PROTECTION_CODE]
    assert len(figs) == 5 and all(f.value is None for f in figs)
    assert figs[0].text == ("- Tổng số người được bảo vệ (người tố cáo, thân nhân của người tố cáo): chưa có số liệu "
                            "(không có số liệu bảo vệ người tố cáo từ tệp nhập số liệu biểu 06/QLKNTC (trang «Bảo vệ "
                            "người tố cáo»)).")


def _protection_records(rows: dict[str, tuple | None]) -> pd.DataFrame:
    """fact_qlkntc-like records: row id → the five values (None: block not reported)."""
    out = []
    for rid, values in rows.items():
        values = values or (None,) * 5
        out.append({"row_id": rid, **dict(zip(mau02.PROTECTION_FIELDS.values(), values))})
    return pd.DataFrame(out)


def test_protection_table_adds_up_the_units_that_reported():
    from reports.formdef import ReportRow

    rows = [ReportRow("province:01", "Thành phố Hà Nội", "01", kind="own"),
            ReportRow("2025:00004", "Phường Ba Đình", "00004"), ReportRow("2025:00008", "Phường Ngọc Hà", "00008"),
            ReportRow("2025:00025", "Phường Giảng Võ", "00025"), ReportRow("2025:00070", "Phường Hoàn Kiếm", "00070"),
            ReportRow(TOTAL_ROW_ID, "Tổng cộng", None, kind="total")]
    # the city 3 = 2 + 1 (both kinds on one person: 2 + 2 > 3); 00004 all 0; 00008 an old
    # workbook (NULL); 00025 nothing published; 00070 1 = 1 + 0
    recs = _protection_records({"province:01": (3, 2, 1, 2, 2), "2025:00004": (0, 0, 0, 0, 0),
                                "2025:00008": None, "2025:00070": (1, 1, 0, 0, 1)})
    table = mau02.protection_table(rows, recs)
    assert list(table.index) == ["province:01", "2025:00004", "2025:00008", "2025:00025", "2025:00070", TOTAL_ROW_ID]
    assert table.loc[TOTAL_ROW_ID, [1, 2, 3, 4, 5]].tolist() == [4, 3, 1, 2, 3]
    assert table["status"].tolist() == ["reported", "reported", "not_reported", "no_workbook", "reported", ""]
    assert table.loc["2025:00004", 1] == 0                                   # reported 0 stays 0
    assert all(pd.isna(table.loc[r, ms]) for r in ("2025:00008", "2025:00025") for ms in range(1, 6))
    assert table.loc[TOTAL_ROW_ID, "note"] == (
        "tổng hợp từ tệp nhập số liệu biểu 06/QLKNTC (trang «Bảo vệ người tố cáo») của 3/5 đơn vị; 2 đơn vị chưa "
        "báo cáo số liệu bảo vệ người tố cáo: 1 đơn vị đã gửi biểu 06/QLKNTC nhưng không kèm số liệu này "
        "(Phường Ngọc Hà); 1 đơn vị chưa có biểu 06/QLKNTC được chấp nhận (Phường Giảng Võ)")
    # a commune whose one workbook is on the old template: NA total, said so
    own = mau02.protection_table([rows[2], rows[-1]], _protection_records({"2025:00008": None}))
    assert pd.isna(own.loc[TOTAL_ROW_ID, 1]) and own.attrs["na_reason"] == "đơn vị chưa báo cáo số liệu bảo vệ người tố cáo"
    assert own.loc[TOTAL_ROW_ID, "note"] == ("đơn vị chưa báo cáo số liệu bảo vệ người tố cáo (đã gửi biểu 06/QLKNTC "
                                             "nhưng không kèm số liệu này)")


def test_protection_section_when_no_unit_reported(tmp_path):
    from reports.formdef import ReportRow

    rows = [ReportRow("2025:00008", "Phường Ngọc Hà", "00008"), ReportRow(TOTAL_ROW_ID, "Tổng cộng", None, kind="total")]
    tables = {**_tables("cur"),
              mau02.PROTECTION_CODE: mau02.protection_table(rows, _protection_records({"2025:00008": None}))}
    result = _build(tmp_path / "old.docx", tables=tables, previous=None, last_year=None)
    section = _section(docx.Document(str(result.path)), "5. Bảo vệ người tố cáo (nếu có)")
    assert section[0] == ("- Tổng số người được bảo vệ (người tố cáo, thân nhân của người tố cáo): chưa có số liệu "
                          "(đơn vị chưa báo cáo số liệu bảo vệ người tố cáo).")
    assert section[-1] == ("(Số liệu bảo vệ người tố cáo: đơn vị chưa báo cáo số liệu bảo vệ người tố cáo (đã gửi "
                           "biểu 06/QLKNTC nhưng không kèm số liệu này).)")
    assert all("chưa có số liệu" in t and not re.search(r": 0\b", t) for t in section[:5])


# ----------------------------------------------------------------- placeholders, no invented prose

def _is_highlighted(paragraph) -> bool:
    runs = [r for r in paragraph.runs if r.text]
    return bool(runs) and all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in runs)


def test_placeholders_are_marked(built):
    result, document = built
    marked = [p for p in document.paragraphs if p.text.startswith(mau02.PLACEHOLDER_PREFIX)]
    assert len(marked) >= 15
    for p in marked:
        assert p.text.endswith("]") and _is_highlighted(p), p.text
    in_body = [h.text for h in result.placeholders if h.text.startswith(mau02.PLACEHOLDER_PREFIX)]
    assert in_body == [p.text for p in marked]
    # Sections only a person can write hold exactly one placeholder and nothing else.
    for heading, instruction in (
            ("2. Nguyên nhân của tình hình khiếu nại, tố cáo", "Phân tích theo 02 nhóm nguyên nhân chủ quan và khách quan."),
            ("2. Tồn tại, hạn chế", "Đánh giá tồn tại, hạn chế về các nội dung đã nêu ở phần ưu điểm."),
            ("3. Nguyên nhân", "Nguyên nhân khách quan, chủ quan của những ưu điểm, tồn tại, hạn chế."),
            ("IV. DỰ BÁO TÌNH HÌNH", mau02.OUTLINE[58]),
            ("V. PHƯƠNG HƯỚNG, NHIỆM VỤ, GIẢI PHÁP CHỦ YẾU TRONG KỲ TIẾP THEO", mau02.OUTLINE[60]),
    ):
        assert _section(document, heading) == [f"[Đơn vị soạn thảo: {instruction}]"], heading
    kien_nghi = _section(document, "VI. KIẾN NGHỊ, ĐỀ XUẤT")
    assert kien_nghi[:4] == [f"[Đơn vị soạn thảo: {mau02.OUTLINE[62][2:]} {mau02.OUTLINE[63]}]",
                             f"[Đơn vị soạn thảo: {mau02.OUTLINE[64][2:]}]",
                             f"[Đơn vị soạn thảo: {mau02.OUTLINE[65][2:]}]",
                             f"[Đơn vị soạn thảo: {mau02.OUTLINE[66][2:]}]"]
    # Khái quát chung (trend prose) is a placeholder, the targets of III.1 too; II.5 has
    # figures now (the protection block of the 06/QLKNTC workbooks), no placeholder.
    assert _section(document, "1. Tình hình khiếu nại, tố cáo") == [f"[Đơn vị soạn thảo: {mau02.OUTLINE[6]}]"]
    assert not any(t.startswith(mau02.PLACEHOLDER_PREFIX) for t in _section(document, "5. Bảo vệ người tố cáo (nếu có)"))
    uu_diem = _section(document, "1. Ưu điểm, kết quả")
    assert any(t.startswith("[Đơn vị soạn thảo: tỷ lệ giải quyết khiếu nại, tố cáo thuộc thẩm quyền so với mục tiêu: …%")
               for t in uu_diem)
    assert any("số đơn vị có vi phạm: … đơn vị" in t for t in _section(document, mau02.HEADINGS[19]))


def test_no_invented_prose(built):
    """Every paragraph of the body is a heading, a figure line, a placeholder, a lead-in
    label, the outline's own scope line or a data note — nothing else."""
    result, document = built
    paras = document.paragraphs
    start = next(i for i, p in enumerate(paras) if p.text == mau02.HEADINGS[0])
    end = next(i for i, p in enumerate(paras) if p.text.startswith("Kèm theo báo cáo này:"))
    figure_texts = {f.text for f in result.figures}
    leads = {"- Tiếp thường xuyên:", "- Thủ trưởng trực tiếp tiếp công dân (định kỳ và đột xuất):",
             "- Thủ trưởng ủy quyền tiếp công dân:", "- Thi hành Quyết định giải quyết khiếu nại:",
             "- Thực hiện Kết luận nội dung tố cáo:", mau02.OUTLINE[17]}
    for p in paras[start:end]:
        t = p.text
        ok = (p.style.name.startswith("Heading") or t in figure_texts or t in leads
              or (t.startswith(mau02.PLACEHOLDER_PREFIX) and _is_highlighted(p))
              or re.fullmatch(r"\(Số liệu Biểu \d\d/[A-Z]+: .+\.\)", t)
              or re.fullmatch(r"\(Số liệu bảo vệ người tố cáo: .+\.\)", t))
        assert ok, t


def test_closing_blocks(built):
    result, document = built
    texts = _texts(document)
    assert "Kèm theo báo cáo này: Biểu số 01/TCD, 02/XLD, 03/GQKN, 04/GQTC, 05/KQTH, 06/QLKNTC." in texts
    left, right = document.tables[-1].rows[0].cells
    left_texts = [p.text for p in left.paragraphs if p.text]
    assert left_texts[0] == "Nơi nhận:" and left_texts[-1].startswith("- Lưu: VT")
    right_texts = [p.text for p in right.paragraphs if p.text]
    assert right_texts == ["[QUYỀN HẠN, CHỨC VỤ CỦA NGƯỜI KÝ]", "[Chữ ký của người có thẩm quyền, dấu của cơ quan]",
                           "[Họ và tên]"]
    for p in right.paragraphs:
        if p.text:
            assert all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in p.runs if r.text)


# ----------------------------------------------------------------- record, LibreOffice, determinism

def test_figure_record_beside_the_document(built):
    result, document = built
    assert result.figures_path == result.path.with_name("bao-cao-quy-1-2026.so-lieu.json")
    record = json.loads(result.figures_path.read_text(encoding="utf-8"))
    assert record["period"] == {"key": "2026-Q1", "label": "Quý I năm 2026", "start": "2025-12-15",
                                "end": "2026-03-14"}
    assert len(record["figures"]) == len(result.figures)
    first = record["figures"][0]
    assert set(first) >= {"heading", "text_label", "form", "ms", "value", "previous", "same_period_last_year"}
    cur = _tables("cur")
    for entry in record["figures"]:
        if entry["kind"] == "cell" and entry["form"] in cur:
            cell = _cell(cur, entry["form"], entry["ms"])
            assert entry["value"] == (None if cell is None else pytest.approx(float(cell))), entry


@pytest.mark.integration   # LibreOffice
def test_opens_in_libreoffice_and_converts_to_pdf(built, tmp_path):
    from reports import libreoffice

    result, _ = built
    out = libreoffice.convert([result.path], "pdf", tmp_path / "pdf", settings.get().env.soffice)
    pdf = out[result.path.resolve()]
    assert pdf.exists() and pdf.stat().st_size > 0
    assert pdf.read_bytes().startswith(b"%PDF")


def test_same_inputs_same_bytes(built, tmp_path):
    result, _ = built
    again = _build(tmp_path / result.path.name)
    assert again.path.read_bytes() == result.path.read_bytes()
    assert again.figures_path.read_bytes() == result.figures_path.read_bytes()
    core = docx.Document(str(again.path)).core_properties
    assert core.created == core.modified == dt.datetime(2026, 3, 14, tzinfo=core.created.tzinfo)


def test_rejects_bad_tables(tmp_path):
    tables = _tables("cur")
    with pytest.raises(ValueError, match="unknown form"):
        _build(tmp_path / "x.docx", tables={**tables, "01/XLD": tables["02/XLD"]})
    with pytest.raises(ValueError, match="not on the 2025 form"):
        _build(tmp_path / "x.docx", tables={**tables, "02/XLD": tables["02/XLD"].drop(columns=[25])})
    old_tcd = _table(30, {})    # the TT 02/2021 01/TCD under the same code
    with pytest.raises(ValueError, match="not on the 2025 form"):
        _build(tmp_path / "x.docx", tables={**tables, "01/TCD": old_tcd})
    with pytest.raises(ValueError, match="no 'total' row"):
        _build(tmp_path / "x.docx", tables={**tables, "01/TCD": tables["01/TCD"].drop(index=TOTAL_ROW_ID)})
