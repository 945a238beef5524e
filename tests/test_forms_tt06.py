"""The 2025 forms (Thông tư 06/2025/TT-TTCP) 01/TCD and 02/XLD: loaded straight from
their definitions, computed on a few hand-built records whose every cell is recounted
here by hand, checked, and written as xlsx in the circular's layout — the code alone at
the top right, the annex line, the merged header exactly as the circular's header
cells, the MS row as printed, no "Ghi chú" column but the numbered note line and the
guide under the table, with the notes of the rows (an unreported unit stays empty) and
the announced reception days (10, 16) counted from a second input, the published
reception calendar (``sources:``).
Pure pandas in, xlsx out: no Airflow, no database, no configuration."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from core.periods import custom
from reports.formdef import (
    FormDefinitionError,
    ReportRow,
    RowStatus,
    SourceInput,
    check_contributions,
    check_identities,
    compute,
    contributions,
    form_from_dict,
    lineage_kind,
    load_form,
    row_notes,
    source_contributions,
)
from reports.lineage import cell_sources, write_lineage
from reports.lineage import main as lineage_main
from reports.render import write_xlsx
from warehouse.schema import fact_petition, fact_reception, fact_reception_calendar

D = dt.date
ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "reports" / "forms"
# The two forms as the circular prints them, copied unchanged from
# shared/domain/tt06-2025-forms.json (heading lines, header cells with their spans, MS
# labels, the lines under the table, the printed checks).
SPEC = json.loads((Path(__file__).resolve().parent / "fixtures" / "forms" / "tt06_2025_tcd01_xld02.json")
                  .read_text(encoding="utf-8"))
RECEPTION_COLUMNS = [c.name for c in fact_reception.columns]
PETITION_COLUMNS = [c.name for c in fact_petition.columns]
UNIT_NAME = "UBND Thành phố Hà Nội"
META = {"run_id": "r-tt06", "generated_at": "2025-12-18T08:00:00"}
ANNEX = "(Kèm theo Báo cáo số:…......... ngày……tháng…….năm……của………..)"

# Quý IV 2025, the first window the circular governs.
WINDOW = custom(D(2025, 9, 15), D(2025, 12, 14))
A, B = "2025:00004", "2025:00008"
ROW_OF = {A: "A", B: "B"}
ROWS = [ReportRow("A", "Phường Ba Đình", "00004"),
        ReportRow("B", "Phường Ngọc Hà", "00008"),
        ReportRow("C", "Xã Sóc Sơn", "08980"),
        ReportRow("total", "Tổng cộng", "01", "total")]
# C sent nothing; B lacks one of its three units.
STATUS = {"C": RowStatus(reported=False, expected=1, missing=1),
          "B": RowStatus(reported=True, expected=3, missing=1)}


def tt06_spec(code: str) -> dict:
    return next(f for f in SPEC["forms"] if f["code"] == code)


def placed(form, records: pd.DataFrame) -> pd.DataFrame:
    sel = form.select(records, WINDOW)
    return sel.assign(row_id=sel["unit_key"].map(ROW_OF))


# ------------------------------------------------------------------ 01/TCD records

def rec(key, unit, day, mode, receiver, people, case, sitting=None):
    r = {c: None for c in RECEPTION_COLUMNS}
    r.update({"reception_key": key, "unit_code": unit.split(":")[1], "unit_key": unit, "received_date": day,
              "mode": mode, "receiver": receiver, "sitting_key": sitting, "people": people,
              "is_group": people >= 5, "petition_kind": "KN", "case_key": case, "visit": "lan_dau",
              "raw_id": int(key[1:]), "batch_id": "b1", "source_kind": "city_service", "source_name": "thử",
              "record_id": key})
    return r


TX, DK, DX = "thuong_xuyen", "dinh_ky", "dot_xuat"
RECEPTIONS = pd.DataFrame([
    # A, tiếp thường xuyên: case A1 twice (one vụ việc), a đoàn of 6, a record without case
    rec("r01", A, D(2025, 9, 20), TX, "can_bo", 1, "A1"),
    rec("r02", A, D(2025, 10, 5), TX, "can_bo", 2, "A1"),
    rec("r03", A, D(2025, 10, 6), TX, "can_bo", 6, "A2"),
    rec("r04", A, D(2025, 10, 7), TX, "can_bo", 1, None),
    # A, thủ trưởng tiếp: A1 again (counted in this channel too), a đoàn of 5, A3 twice
    rec("r05", A, D(2025, 10, 15), DK, "thu_truong", 1, "A1", "S1"),
    rec("r06", A, D(2025, 10, 15), DK, "thu_truong", 5, "A3", "S1"),
    rec("r07", A, D(2025, 11, 3), DX, "thu_truong", 2, "A3", "S2"),
    # A, ủy quyền tiếp: a đoàn of 7
    rec("r08", A, D(2025, 11, 15), DK, "uy_quyen", 7, "A4", "S3"),
    rec("r09", A, D(2025, 11, 15), DK, "uy_quyen", 1, "A5", "S3"),
    # B, tiếp thường xuyên: two đoàn of one case; the head at a regular reception (r16)
    # is counted by mode, as today (no mark says it was the head's reception)
    rec("r10", B, D(2025, 9, 15), TX, "can_bo", 3, "B1"),
    rec("r11", B, D(2025, 10, 1), TX, "can_bo", 8, "B2"),
    rec("r12", B, D(2025, 10, 2), TX, "can_bo", 5, "B2"),
    rec("r16", B, D(2025, 12, 14), TX, "thu_truong", 2, "B5"),
    rec("r13", B, D(2025, 11, 20), DX, "thu_truong", 1, "B1", "S4"),
    rec("r14", B, D(2025, 11, 21), DX, "uy_quyen", 2, "B3", "S5"),
    # B, định kỳ received by staff: in no column of the form (as in 2021)
    rec("r15", B, D(2025, 11, 22), DK, "can_bo", 1, "B4", "S6"),
    # outside the window
    rec("r17", A, D(2025, 12, 15), TX, "can_bo", 1, "A9"),
    rec("r18", B, D(2025, 9, 14), TX, "can_bo", 1, "B9"),
], columns=RECEPTION_COLUMNS)

# The heads' published reception calendars (cột 10, 16), already cut to the window.
CALENDAR_COLUMNS = [c.name for c in fact_reception_calendar.columns]


def day(key, unit, on, receiver):
    r = {c: None for c in CALENDAR_COLUMNS}
    r.update({"calendar_key": key, "unit_code": unit.split(":")[1], "unit_key": unit, "announced_date": on,
              "receiver": receiver, "raw_id": 1000 + int(key[1:]), "batch_id": "b1", "source_kind": "city_service",
              "source_name": "thử", "record_id": key})
    return r


CALENDAR = pd.DataFrame([
    # A: in person on 16/9, 15/10 (listed twice) and 3/11; delegated on 15/11
    day("d01", A, D(2025, 10, 15), "thu_truong"),
    day("d02", A, D(2025, 10, 15), "thu_truong"),      # listed twice: one day
    day("d03", A, D(2025, 11, 3), "thu_truong"),
    day("d04", A, D(2025, 9, 16), "thu_truong"),       # announced, nobody came: still a day
    day("d05", A, D(2025, 11, 15), "uy_quyen"),
    # B: two days in person, two delegated (one of them the same day as in person)
    day("d06", B, D(2025, 11, 20), "thu_truong"),
    day("d07", B, D(2025, 12, 4), "thu_truong"),
    day("d08", B, D(2025, 11, 21), "uy_quyen"),
    day("d09", B, D(2025, 12, 4), "uy_quyen"),
], columns=CALENDAR_COLUMNS)

# Recounted by hand from the records above.
TCD_EXPECTED = {
    "A": {1: 9, 2: 26, 3: 7, 4: 3, 5: 4, 6: 10, 7: 3, 8: 1, 9: 6, 10: 3, 11: 3, 12: 8, 13: 2, 14: 1,
          15: 5, 16: 1, 17: 2, 18: 8, 19: 2, 20: 1, 21: 7},
    "B": {1: 6, 2: 21, 3: 5, 4: 2, 5: 4, 6: 18, 7: 3, 8: 2, 9: 13, 10: 2, 11: 1, 12: 1, 13: 1, 14: 0,
          15: 0, 16: 2, 17: 1, 18: 2, 19: 1, 20: 0, 21: 0},
    "total": {1: 15, 2: 47, 3: 12, 4: 5, 5: 8, 6: 28, 7: 6, 8: 3, 9: 19, 10: 5, 11: 4, 12: 9, 13: 3,
              14: 1, 15: 5, 16: 3, 17: 3, 18: 10, 19: 3, 20: 1, 21: 7},
}


# ------------------------------------------------------------------ 02/XLD records

def pet(key, unit, kind, received, *, processed=None, eligible=None, competent=None, handling=None,
        rnd="lan_dau", field=None, case=None):
    r = {c: None for c in PETITION_COLUMNS}
    r.update({"petition_key": key, "unit_code": unit.split(":")[1], "unit_key": unit, "received_date": received,
              "channel": "buu_chinh", "petition_kind": kind, "signers": "mot", "field": field, "case_key": case,
              "eligible": eligible, "competent": competent, "handling": handling, "processed_date": processed,
              "resolution_round": rnd, "raw_id": int(key[1:]), "batch_id": "b1", "source_kind": "city_service",
              "source_name": "thử", "record_id": key})
    return r


def ok(processed, competent=True, handling="thu_ly"):
    """A petition processed on `processed`, eligible, competent (thụ lý) or not (with how
    it was handled)."""
    return {"processed": processed, "eligible": True, "competent": competent, "handling": handling}


PETITIONS = pd.DataFrame([
    # A: carried over (received before the window, processed inside it), KN lần đầu, đất đai
    pet("p01", A, "KN", D(2025, 8, 1), **ok(D(2025, 9, 20)), field="dat_dai", case="KA1"),
    # A: processed before the window: not in the form
    pet("p02", A, "KN", D(2025, 7, 1), **ok(D(2025, 8, 1)), field="dat_dai", case="KA0"),
    # A: KN lần 2 (same case as p01: one vụ việc) and ban_an (→ lần 2), tư pháp (→ Khác)
    pet("p03", A, "KN", D(2025, 10, 1), **ok(D(2025, 10, 5)), rnd="lan_2", field="che_do_chinh_sach", case="KA1"),
    pet("p04", A, "KN", D(2025, 10, 10), **ok(D(2025, 10, 12)), rnd="ban_an", field="tu_phap", case="KA2"),
    # A: TC lần đầu tham nhũng; tố cáo tiếp, Đảng đoàn thể (→ Khác), no case; công chức (→ Hành chính)
    pet("p05", A, "TC", D(2025, 10, 15), **ok(D(2025, 10, 20)), field="tham_nhung", case="KA3"),
    pet("p06", A, "TC", D(2025, 11, 1), **ok(D(2025, 11, 2)), rnd="tiep", field="dang_doan_the"),
    pet("p07", A, "TC", D(2025, 11, 5), **ok(D(2025, 11, 6)), field="cong_chuc", case="KA4"),
    # A: KNPA tư pháp (→ Khác), chế độ chính sách
    pet("p08", A, "KNPA", D(2025, 11, 10), **ok(D(2025, 11, 11)), field="tu_phap", case="KA5"),
    pet("p09", A, "KNPA", D(2025, 11, 12), **ok(D(2025, 11, 13)), field="che_do_chinh_sach", case="KA6"),
    # A: not competent — hướng dẫn, đôn đốc (→ Chuyển đơn), chuyển đơn
    pet("p10", A, "KN", D(2025, 11, 15), **ok(D(2025, 11, 16), False, "huong_dan"), field="dat_dai"),
    pet("p11", A, "TC", D(2025, 11, 20), **ok(D(2025, 11, 21), False, "don_doc")),
    pet("p12", A, "KNPA", D(2025, 11, 25), **ok(D(2025, 11, 26), False, "chuyen_don")),
    # A: processed, not eligible; not processed; processed after the window
    pet("p13", A, "KN", D(2025, 11, 28), processed=D(2025, 11, 29), eligible=False),
    pet("p14", A, "KNPA", D(2025, 12, 1)),
    pet("p15", A, "TC", D(2025, 12, 10), processed=D(2025, 12, 20), eligible=True, competent=True,
        handling="thu_ly"),
    # A: received after the window
    pet("p16", A, "KN", D(2025, 12, 20)),
    # B: KN without field (→ Khác) and đất đai, one case
    pet("q01", B, "KN", D(2025, 9, 15), **ok(D(2025, 9, 15)), case="KB1"),
    pet("q02", B, "KN", D(2025, 10, 1), **ok(D(2025, 10, 2)), field="dat_dai", case="KB1"),
    # B: tố cáo tiếp tư pháp; TC lần đầu đất đai (→ Hành chính)
    pet("q03", B, "TC", D(2025, 10, 3), **ok(D(2025, 10, 4)), rnd="tiep", field="tu_phap", case="KB2"),
    pet("q04", B, "TC", D(2025, 10, 5), **ok(D(2025, 10, 6)), field="dat_dai", case="KB3"),
    # B: KNPA đất đai; KNPA without field and without case
    pet("q05", B, "KNPA", D(2025, 10, 7), **ok(D(2025, 10, 8)), field="dat_dai", case="KB4"),
    pet("q06", B, "KNPA", D(2025, 10, 9), **ok(D(2025, 10, 10))),
    # B: not competent, chuyển đơn; carried over and still not processed; hướng dẫn on the last day
    pet("q07", B, "KN", D(2025, 10, 11), **ok(D(2025, 10, 12), False, "chuyen_don"), case="KB5"),
    pet("q08", B, "KN", D(2025, 8, 20)),
    pet("q09", B, "TC", D(2025, 12, 14), **ok(D(2025, 12, 14), False, "huong_dan")),
], columns=PETITION_COLUMNS)

XLD_EXPECTED = {
    "A": {1: 14, 2: 12, 3: 11, 4: 8, 5: 7, 6: 3, 7: 1, 8: 2, 9: 1, 10: 1, 11: 1, 12: 3, 13: 2, 14: 1, 15: 1,
          16: 1, 17: 0, 18: 1, 19: 2, 20: 1, 21: 0, 22: 1, 23: 3, 24: 1, 25: 2},
    "B": {1: 9, 2: 8, 3: 8, 4: 6, 5: 5, 6: 2, 7: 2, 8: 0, 9: 1, 10: 0, 11: 1, 12: 2, 13: 1, 14: 1, 15: 1,
          16: 0, 17: 1, 18: 0, 19: 2, 20: 0, 21: 1, 22: 1, 23: 2, 24: 1, 25: 1},
    "total": {1: 23, 2: 20, 3: 19, 4: 14, 5: 12, 6: 5, 7: 3, 8: 2, 9: 2, 10: 1, 11: 2, 12: 5, 13: 3, 14: 2,
              15: 2, 16: 1, 17: 1, 18: 1, 19: 4, 20: 1, 21: 1, 22: 2, 23: 5, 24: 2, 25: 3},
}

CASES = {
    "01/TCD": ("tcd01_tt06_2025.yaml", RECEPTIONS, TCD_EXPECTED, 21, "22. Ghi chú:"),
    "02/XLD": ("xld02_tt06_2025.yaml", PETITIONS, XLD_EXPECTED, 25, "26. Ghi chú:"),
}


def calendar_input() -> dict:
    return {"lich_tiep": SourceInput(CALENDAR.assign(row_id=CALENDAR["unit_key"].map(ROW_OF)), {})}


def computed(code):
    file, data, _, _, _ = CASES[code]
    form = load_form(FORMS / file)
    recs = placed(form, data)
    sources = calendar_input() if form.sources else None
    return form, recs, compute(form, recs, ROWS, STATUS, period=WINDOW, sources=sources)


def all_contributions(form, recs):
    """(records, contributions) of the main records and of the second inputs."""
    parts = [(recs.reset_index(drop=True), contributions(form, recs, ROWS, WINDOW).reset_index(drop=True))]
    if form.sources:
        parts += source_contributions(form, calendar_input(), ROWS, WINDOW)
    return (pd.concat([p[0] for p in parts], ignore_index=True),
            pd.concat([p[1] for p in parts], ignore_index=True))


# ------------------------------------------------------------------ definitions

def assert_header_as_printed(ws, spec: dict, h0: int) -> int:
    """Every printed header cell of the form `spec` (tt06-2025-forms.json) at its rows and
    columns — JSON row → sheet row h0 + row; JSON column j → sheet column j + 1, "Đơn vị"
    being column A — merged exactly over the cells the circular merges, then the MS row
    ("MS", every label exactly as printed). Returns the MS row."""
    merged = {(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges}
    header_merges = set()
    for cell in spec["header_cells"]:
        r1, c1 = h0 + cell["row"], cell["col_first"] + 1
        r2, c2 = r1 + cell["row_span"] - 1, cell["col_last"] + 1
        assert ws.cell(r1, c1).value == cell["text"], cell
        if (r1, c1) != (r2, c2):
            header_merges.add((r1, c1, r2, c2))
    band = {m for m in merged if h0 <= m[0] < h0 + spec["header_rows"]}
    assert band == header_merges
    ms_row = h0 + spec["header_rows"]
    assert [str(ws.cell(ms_row, j + 1).value) for j in range(len(spec["columns"]))] \
        == [c["ms_label"] for c in spec["columns"]]
    return ms_row


@pytest.mark.parametrize("code", sorted(CASES))
def test_definition_follows_the_circular(code):
    file, _, _, last_ms, note_line = CASES[code]
    form = load_form(FORMS / file)
    spec = tt06_spec(code)
    assert (form.code, form.version, form.circular) == (code, "TT06_2025", "Thông tư 06/2025/TT-TTCP")
    assert [form.code_label, form.title, form.annex_line] == [spec["heading_lines"][0], spec["heading_lines"][1],
                                                               spec["heading_lines"][3]]
    assert form.ms_numbers == list(range(1, last_ms + 1)) and not form.text_columns and not form.has_note_column
    assert form.header_depth == spec["header_rows"]
    # Header paths and MS labels as printed.
    for col, printed in zip(form.columns, spec["columns"][1:]):
        assert [*col.path, col.text] == printed["header_path"], col.ms
        assert col.ms_text == printed["ms_label"], col.ms
    # The note line and the guide, verbatim (the circular's no-break spaces read as spaces).
    notes = [" ".join(n.replace("\u00a0", " ").split()) for n in spec["notes_verbatim"]]
    assert form.note_line == note_line == notes[0]
    assert [" ".join(g.split()) for g in form.guide] == notes[1:]
    assert not any("\u00a0" in g for g in form.guide)
    # Every check the circular prints is among the form's checks.
    declared = {(chk.sides[i], op, chk.sides[i + 1]) for chk in form.checks for i, op in enumerate(chk.ops)}
    # A chain of "=" ("6 = 7 + 8 = 9 + 10 + 11") states every pair of its sides.
    declared |= {(chk.sides[i], "=", chk.sides[j]) for chk in form.checks if set(chk.ops) == {"="}
                 for i in range(len(chk.sides)) for j in range(i + 1, len(chk.sides))}
    for c in spec["checks"]:
        assert c.get("rhs_form") is None
        assert ((c["lhs"],), c["op"], tuple(c["rhs"])) in declared, c["source"]
    assert len(form.semantics) > 1500 and "Thông tư" in form.semantics


def test_tcd01_announced_days_come_from_the_calendar():
    form = load_form(FORMS / "tcd01_tt06_2025.yaml")
    assert form.unavailable_columns == [] and form.source_columns_ms == [10, 16]
    src = form.sources["lich_tiep"]
    assert (src.table, src.date_column, src.rows, src.coverage) == \
        ("fact_reception_calendar", "announced_date", "own_unit", "month")
    assert form.column(10).compute["filter"] == {"receiver": ["thu_truong"]}
    assert form.column(16).compute["filter"] == {"receiver": ["uy_quyen"]}
    assert form.unchecked_checks == [] and form.verified_checks == list(form.checks)
    assert lineage_kind(form, 10) == lineage_kind(form, 16) == "distinct"


def test_tcd01_without_calendar_data_leaves_10_16_empty():
    form = load_form(FORMS / "tcd01_tt06_2025.yaml")
    recs = placed(form, RECEPTIONS)
    table = compute(form, recs, ROWS, STATUS, period=WINDOW)      # no second input given
    assert all(pd.isna(table.loc[r, ms]) for r in ("A", "B", "total") for ms in (10, 16))
    assert table.loc["A", 11] == 3
    assert "Cột (10), (16): chưa có dữ liệu lịch tiếp công dân" in table.loc["total", "note"]
    assert check_identities(form, table, STATUS) == []


# ------------------------------------------------------------------ hand-computed cells

@pytest.mark.parametrize("code", sorted(CASES))
def test_hand_computed_cells(code):
    _, _, expected, _, _ = CASES[code]
    form, recs, table = computed(code)
    assert list(table.index) == ["A", "B", "C", "total"]
    for row, cells in expected.items():
        assert sorted(cells) == form.ms_numbers
        for ms, want in cells.items():
            got = table.loc[row, ms]
            if want is None:
                assert got is None, (code, row, ms)
            else:
                assert got == want, (code, row, ms, got)
    # The unit that did not report: empty cells, never 0; its note is kept.
    assert all(table.loc["C", ms] is None or pd.isna(table.loc["C", ms]) for ms in form.ms_numbers)
    assert row_notes(form, table) == [("Phường Ngọc Hà", "Thiếu số liệu của 1/3 đơn vị"),
                                      ("Xã Sóc Sơn", "Chưa báo cáo"),
                                      ("Tổng cộng", "Chưa gồm số liệu của 2 đơn vị chưa báo cáo")]
    assert check_identities(form, table, STATUS) == []
    # Lineage accounts for every number cell (the calendar's days too); the unavailable
    # columns have no contribution.
    _, contrib = all_contributions(form, recs)
    assert check_contributions(form, table, contrib) == []
    assert not any(f"c{ms}" in contrib.columns for ms in form.unavailable_columns)


def test_hand_populations():
    assert sorted(computed("01/TCD")[1]["reception_key"]) == [f"r{i:02d}" for i in range(1, 17)]
    # 02/XLD: received in the window, or before it and not processed before it (p01, q08).
    assert sorted(computed("02/XLD")[1]["petition_key"]) == [*(f"p{i:02d}" for i in (1, *range(3, 16))),
                                                              *(f"q{i:02d}" for i in range(1, 10))]


def test_identities_are_checked_on_the_new_forms():
    form, _, table = computed("02/XLD")
    broken = table.copy()
    broken.loc["A", 25] = 1             # 23 = 24 + 25 no longer holds
    found = check_identities(form, broken, STATUS)
    assert any("23 = 24 + 25" in v and "đôn đốc" in v for v in found)
    tcd, _, t = computed("01/TCD")
    emptied = t.copy()
    emptied.loc["A", 10] = pd.NA        # a row left empty: the total cannot be a sum any more
    assert any("cột 10" in v and "tổng không cộng được" in v for v in check_identities(tcd, emptied, STATUS))
    emptied.loc["total", 10] = pd.NA
    assert check_identities(tcd, emptied, STATUS) == []


def test_every_kind_of_cell_fault_is_worded():
    """Each rule of check_identities names the row, the column and the value."""
    tcd, _, t = computed("01/TCD")
    bad = t.astype({ms: object for ms in (1, 2, 3, 4, 10)})
    bad.loc["A", 2], bad.loc["B", 3], bad.loc["A", 4] = 2.5, -1, float("inf")
    found = check_identities(tcd, bad, STATUS)
    assert "dòng «Phường Ba Đình» (A): cột 2 = 2.5 không phải số nguyên không âm" in found
    assert any(v.startswith("dòng «") and "(B): cột 3 = -1 không phải số nguyên không âm" in v for v in found)
    assert any("(A): cột 4 = inf không phải số nguyên không âm" in v for v in found)
    # Cell faults are reported before any sum is tried (column by column).
    assert [v.split(": cột ")[1].split(" ")[0] for v in found] == ["2", "3", "4"]
    total = t.copy()
    total.loc["total", 1] = total.loc["total", 1] + 1
    assert any(v.startswith("dòng «Tổng cộng» (total): cột 1 = ") and "tổng các dòng đơn vị" in v
               for v in check_identities(tcd, total, STATUS))
    blank_total = t.copy()
    blank_total.loc["total", 10] = pd.NA
    assert any("cột 10 để trống nhưng mọi dòng đơn vị đều có số liệu" in v
               for v in check_identities(tcd, blank_total, STATUS))
    assert check_identities(tcd, t.assign(**{"kind": "data"}), STATUS)[-1].startswith("bảng phải có đúng một dòng")


# ------------------------------------------------------------------ the workbook

def _grid(ws) -> dict[tuple[int, int], object]:
    return {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}


@pytest.mark.parametrize("code", sorted(CASES))
def test_workbook_layout(code, tmp_path):
    _, _, expected, last_ms, note_line = CASES[code]
    form, recs, table = computed(code)
    spec = tt06_spec(code)
    out = tmp_path / f"{code.replace('/', '-')}.xlsx"
    write_xlsx(form, table, ROWS, WINDOW, UNIT_NAME, out, META, row_status=STATUS)
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    grid = _grid(ws)
    last_col = 1 + last_ms
    merged = {(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges}

    # Heading: the code alone, right-aligned at the top right; title, date line, annex line.
    code_cell = ws.cell(1, next(c for (r, c), v in grid.items() if r == 1 and v == spec["heading_lines"][0]))
    assert code_cell.alignment.horizontal == "right"
    assert any(m[0] == m[2] == 1 and m[1] == code_cell.column and m[3] == last_col for m in merged)
    row_of = {v: r for (r, c), v in grid.items() if c == 1}
    title_row = row_of[spec["heading_lines"][1]]
    date_row = row_of["Số liệu tính từ ngày 15/09/2025 đến ngày 14/12/2025"]
    annex_row = row_of[ANNEX]
    assert title_row < date_row == annex_row - 1
    for r in (title_row, date_row, annex_row):
        assert ws.cell(r, 1).alignment.horizontal == "center" and (r, 1, r, last_col) in merged
    assert ws.cell(title_row, 1).font.name == "Times New Roman"

    h0 = row_of["Đơn vị"]
    assert h0 > annex_row
    ms_row = assert_header_as_printed(ws, spec, h0)

    # Rows: units, then the total; numbers as computed, the unavailable cells and the
    # unreported unit empty. No note column: the table ends at the last MS column.
    labels = [ws.cell(ms_row + 1 + i, 1).value for i in range(4)]
    assert labels == ["Phường Ba Đình", "Phường Ngọc Hà", "Xã Sóc Sơn", "Tổng cộng"]
    for i, rid in enumerate(["A", "B", "total"]):
        got = [ws.cell(ms_row + 1 + [0, 1, 3][i], ms + 1).value for ms in form.ms_numbers]
        assert got == [expected[rid][ms] for ms in form.ms_numbers], rid
    assert all(ws.cell(ms_row + 3, j).value is None for j in range(2, last_col + 1))
    assert all(ws.cell(r, last_col + 1).value is None for r in range(1, ws.max_row + 1))
    total_row = ms_row + 4

    # Under the table: one empty row, the note line, the notes, then the guide.
    assert ws.cell(total_row + 1, 1).value is None
    below = [ws.cell(r, 1).value for r in range(total_row + 2, ws.max_row + 1)]
    notes = ["Phường Ngọc Hà: Thiếu số liệu của 1/3 đơn vị", "Xã Sóc Sơn: Chưa báo cáo",
             "Tổng cộng: Chưa gồm số liệu của 2 đơn vị chưa báo cáo"]
    assert below == [note_line, *notes, *form.guide]
    assert below[-1] == f"- Nội dung ghi chú viết vào dòng {last_ms + 1} (nếu có)"
    for r in range(total_row + 2, ws.max_row + 1):
        assert (r, 1, r, last_col) in merged

    # Numbers, never formulas, anywhere in the workbook.
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f" and not (isinstance(c.value, str) and c.value.startswith("="))
    wb.close()


def test_info_sheet_of_tcd01(tmp_path):
    form, recs, table = computed("01/TCD")
    out = tmp_path / "tcd.xlsx"
    write_xlsx(form, table, ROWS, WINDOW, UNIT_NAME, out, META, row_status=STATUS)
    info = dict(openpyxl.load_workbook(out)["Thông tin"].iter_rows(min_row=3, max_col=2, values_only=True))
    assert info["Biểu mẫu"] == "01/TCD – TỔNG HỢP KẾT QUẢ TIẾP CÔNG DÂN THƯỜNG XUYÊN, ĐỊNH KỲ VÀ ĐỘT XUẤT"
    assert info["Phiên bản định nghĩa biểu"] == "TT06_2025 (Thông tư 06/2025/TT-TTCP)"
    assert "Cột chưa có số liệu" not in info
    assert info["Kiểm tra đẳng thức"].startswith(f"Đạt: {len(form.checks)} đẳng thức")
    assert "Đẳng thức không kiểm tra" not in info
    # Lineage: a counted cell is traced, the announced days to their calendar rows.
    csv = write_lineage(out, *all_contributions(form, recs), form, rows=ROWS)
    assert cell_sources(csv, "A", 13, form=form).attrs["accounted"] == 2
    days = cell_sources(csv, "A", 10, form=form)
    assert days.attrs["accounted"] == 3 and sorted(days["record_id"]) == ["d01", "d02", "d03", "d04"]
    assert cell_sources(csv, "total", 16, form=form).attrs["accounted"] == 3
    assert lineage_main([str(out), "--row", "00004", "--col", "7"]) == 0
    assert lineage_main([str(out), "--row", "00004", "--col", "10"]) == 0


# ------------------------------------------------------------------ the generic machinery

UNAVAILABLE_FORM = {
    "form": "97/THU", "version": "v", "title": "THỬ", "code_label": "97/THU",
    "annex_line": "(Kèm\u00a0theo Báo cáo số:…)", "note_line": "5. Ghi chú:", "guide": ["- Cột\u00a0(1) …"],
    "header": [
        {"ms": 1, "text": "Tổng", "ms_text": "1=2+3", "compute": {"measure": "count_records"}},
        {"text": "Nhóm", "row_span": 2, "children": [
            {"ms": 2, "text": "Có", "compute": {"measure": "count_records", "filter": {"k": ["a"]}}},
            {"ms": 3, "text": "Chưa có", "compute": {"measure": "unavailable", "reason": "nguồn chưa ghi"}},
            {"ms": 4, "text": "Cũng chưa có", "compute": {"measure": "unavailable", "reason": "nguồn chưa ghi"}}]}],
    "checks": ["1 = 2 + 3", "2 <= 1"],
}


def test_unavailable_column_and_unchecked_identity(tmp_path):
    form = form_from_dict(UNAVAILABLE_FORM)
    assert form.annex_line == "(Kèm theo Báo cáo số:…)" and form.guide == ("- Cột (1) …",)
    assert form.header_depth == 3 and form.unavailable_columns == [3, 4] and form.number_columns == [1, 2]
    assert [(chk.text, cols) for chk, cols in form.unchecked_checks] == [("1 = 2 + 3", [3])]
    df = pd.DataFrame({"k": ["a", "b", "a"], "received_date": [D(2025, 10, 1)] * 3, "row_id": ["X", "X", "Y"]})
    rows = [ReportRow("X", "Xã X", "1"), ReportRow("Y", "Xã Y", "2")]
    table = compute(form, df, rows, period=WINDOW)
    assert table.loc["X", 1] == 2 and table.loc["X", 2] == 1 and table.loc["total", 1] == 3
    assert [table.loc[r, ms] for r in ("X", "Y", "total") for ms in (3, 4)] == [None] * 6
    # "1 = 2 + 3" would fail on row X with 3 empty: it is not checked; "2 <= 1" is.
    assert check_identities(form, table) == []
    # A table read back from a sheet may lack the empty columns (reports.verify).
    assert check_identities(form, table.drop(columns=[3, 4])) == []
    bad = table.copy()
    bad.loc["Y", 2] = 5
    assert [v for v in check_identities(form, bad) if "2 <= 1" in v]
    out = tmp_path / "thu.xlsx"
    write_xlsx(form, table, rows, WINDOW, UNIT_NAME, out, META)
    wb = openpyxl.load_workbook(out)
    ws, info = wb.worksheets[0], dict(wb["Thông tin"].iter_rows(min_row=3, max_col=2, values_only=True))
    assert info["Kiểm tra đẳng thức"].startswith("Đạt: 1 đẳng thức")
    assert info["Đẳng thức không kiểm tra"] == ("«1 = 2 + 3»: không kiểm tra vì cột 3 chưa có nguồn số liệu "
                                                 "(để trống) — nguồn chưa ghi")
    column_a = [c.value for c in ws["A"] if c.value is not None]
    assert column_a[-3:] == ["5. Ghi chú:", "Cột (3), (4): nguồn chưa ghi", "- Cột (1) …"]
    # "Nhóm" takes the two header rows above its leaves.
    h0 = next(c.row for c in ws["A"] if c.value == "Đơn vị")
    merged = {(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges}
    assert (h0, 3, h0 + 1, 5) in merged and ws.cell(h0 + 2, 3).value == "Có"
    # Lineage tolerates it: no contribution column, every number cell accounted for.
    contrib = contributions(form, df, rows, WINDOW)
    assert list(contrib.columns) == ["row_id", "c1", "c2"]
    assert check_contributions(form, table, contrib) == []


def test_unavailable_measure_is_validated():
    leaf = lambda compute, **kw: {**UNAVAILABLE_FORM, "checks": [],
                                  "header": [{"ms": 1, "text": "a", "compute": compute, **kw}]}
    bad = [
        leaf({"measure": "unavailable"}),                                          # no reason
        leaf({"measure": "unavailable", "reason": "  "}),
        leaf({"measure": "unavailable", "reason": "x", "filter": {"k": ["a"]}}),   # counts nothing
        leaf({"measure": "unavailable", "reason": "x"}, number_format="#,##0"),
        {**UNAVAILABLE_FORM, "checks": [], "header": [
            {"ms": 1, "text": "a", "compute": {"measure": "unavailable", "reason": "x"}},
            {"ms": 2, "text": "b", "compute": {"sum_of": [1]}}]},                 # adds an empty column
        {**UNAVAILABLE_FORM, "header": [{"ms": 1, "text": "a", "row_span": 2,      # row_span on a leaf
                                         "compute": {"measure": "count_records"}}], "checks": []},
        {**UNAVAILABLE_FORM, "header": [{"text": "g", "row_span": 0, "children": [
            {"ms": 1, "text": "a", "compute": {"measure": "count_records"}}]}], "checks": []},
        {**UNAVAILABLE_FORM, "guide": "một dòng"},                                 # a list of lines
    ]
    for raw in bad:
        with pytest.raises(FormDefinitionError):
            form_from_dict(raw)


def test_tcd01_one_day_at_two_units_of_a_row_is_two_days():
    """A row gathering several heads (the districts' row "Cấp huyện" of a long range): a
    day both announced counts twice. reports.levels.count_per_unit makes such days
    distinct per unit ("<unit>|<day>"); the window check still reads the day."""
    from reports.levels import count_per_unit

    form = load_form(FORMS / "tcd01_tt06_2025.yaml")
    both = pd.DataFrame([day("d91", A, D(2025, 10, 15), "thu_truong"),
                         day("d92", B, D(2025, 10, 15), "thu_truong")]).assign(row_id="A")
    counted = count_per_unit(form, both)
    assert counted["announced_date"].astype(str).str.contains(r"\|").all()
    table = compute(form, RECEPTIONS.iloc[0:0].assign(row_id=pd.Series(dtype=object)), ROWS, period=WINDOW,
                    sources={"lich_tiep": SourceInput(counted, {})})
    assert table.loc["A", 10] == 2 and table.loc["A", 16] == 0
    late = pd.DataFrame([day("d93", A, D(2025, 12, 20), "thu_truong"),
                         day("d94", B, D(2025, 12, 20), "thu_truong")]).assign(row_id="A")
    with pytest.raises(ValueError, match="outside"):
        compute(form, RECEPTIONS.iloc[0:0].assign(row_id=pd.Series(dtype=object)), ROWS, period=WINDOW,
                sources={"lich_tiep": SourceInput(count_per_unit(form, late), {})})
