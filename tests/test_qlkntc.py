"""Biểu 06/QLKNTC as a source: the input workbook (connectors.qlkntc_template), the
connector (connectors.qlkntc_workbooks), the consolidation into fact_qlkntc
(transforms.qlkntc), the form definition (reports/forms/qlkntc06_tt06_2025.yaml) and
the simulated workbooks (simulators.qlkntc) — on real .xlsx files filled with openpyxl
as a unit would fill them."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from connectors import commune_registers, qlkntc_values
from connectors import qlkntc_template as T
from connectors import qlkntc_workbooks as W
from core import periods, settings
from reports import formdef
from transforms import qlkntc
from transforms.consolidate import consolidate
from warehouse import units
from warehouse.schema import dq_flag, dq_quarantine, fact_qlkntc, raw_batch, raw_file_manifest, raw_record

ROOT = Path(__file__).resolve().parent.parent
FORM = ROOT / "reports" / "forms" / "qlkntc06_tt06_2025.yaml"
Q4 = periods.period("Q4", 2025)
Y = periods.period("Y", 2025)
APPLIES_FROM = settings.get().sources.qlkntc_workbooks.applies_from_window_end
HN = dt.timezone(dt.timedelta(hours=7))
# MS 1–17 of three units for Quý IV 2025 (8 <= 6 and 7 >= 6 hold).
A = (2, 1, 0, 3, 85, 2, 5, 1, 1, 2, 0, 0, 3, 1, 1, 0, 0)
B = (1, 0, 1, 1, 40, 1, 1, 1, 0, 1, 0, 1, 2, 0, 2, 1, 1)
CITY = (12, 4, 2, 9, 1250, 11, 37, 6, 3, 9, 1, 2, 14, 2, 7, 1, 2)


@pytest.fixture(scope="module")
def communes() -> list[str]:
    """Codes of 2025 communes in force at the end of Quý IV 2025."""
    return sorted(units.units_valid_on(units.unit_frame(settings.get()), Q4.end, "xa")["unit_code"])[:24]


def template(folder: Path, code: str, period=Q4) -> Path:
    (path,) = T.generate(period, folder, settings.get(), codes=[code])
    return path


def fill(path: Path, values, *, dest: Path | None = None, delivered: dt.datetime | None = None, edit=None,
         protection=None) -> Path:
    """Type `values` (MS 1–17) into the yellow cells and save, as a unit does;
    `protection` (items 1–5) into the protection sheet's cells; `edit` changes the
    workbook further (the bad inputs); `delivered` becomes the mtime."""
    wb = openpyxl.load_workbook(path)
    ws = wb[T.DATA_SHEET]
    for ms, v in enumerate(values, start=1):
        ws[T.data_cell(ms)] = v
    for item, v in enumerate(protection or (), start=1):
        wb[T.PROTECTION_SHEET][T.protection_cell(item)] = v
    if edit:
        edit(wb)
    dest = dest or path
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    if delivered:
        os.utime(dest, (delivered.timestamp(), delivered.timestamp()))
    return dest


def at(day: int, month: int = 12, hour: int = 9) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, 0, tzinfo=HN)


def utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def rows(engine, table, *where):
    with engine.connect() as c:
        return pd.read_sql(sa.select(table).where(*where), c)


def fact(engine) -> dict[str, dict]:
    df = rows(engine, fact_qlkntc)
    return {r["qlkntc_key"]: r for r in df.to_dict("records")}


def values_of(row: dict) -> tuple:
    return tuple(int(row[c]) for c in qlkntc.COLUMNS)


# ------------------------------------------------------------------ the template
def test_the_template_locks_everything_but_the_17_input_cells(tmp_path):
    path = template(tmp_path, "00004")
    assert path.name == "QLKNTC_00004_2025-Q4.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [T.DATA_SHEET, T.PROTECTION_SHEET, T.ID_SHEET]
    assert wb.security.lockStructure
    ws = wb[T.DATA_SHEET]
    assert ws.protection.sheet
    inputs = {T.data_cell(ms) for ms in range(1, 18)}
    assert inputs == {f"{c}15" for c in "BCDEFGHIJKLMNOPQR"}
    unlocked = {c.coordinate for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column + 2)
                for c in row if not c.protection.locked}
    assert unlocked == inputs
    assert all(ws[a].value is None for a in inputs)
    # identification, filled in and locked
    assert (ws[T.UNIT_CODE_CELL].value, ws[T.UNIT_NAME_CELL].value) == ("00004", "Phường Ba Đình")
    assert ws[T.PERIOD_KEY_CELL].value == "2025-Q4" and ws[T.PERIOD_LABEL_CELL].value == "Quý IV năm 2025"
    assert ws[T.WINDOW_START_CELL].value.date() == dt.date(2025, 9, 15)
    assert ws[T.WINDOW_END_CELL].value.date() == dt.date(2025, 12, 14)
    # official heading
    assert ws.cell(T.UNIT_LINE_ROW, T.LAST_COL - 2).value == "06/QLKNTC"
    assert ws.cell(T.TITLE_ROW, 1).value == T.TITLE
    assert ws.cell(T.DATE_ROW, 1).value == "Số liệu tính từ ngày 15/09/2025 đến ngày 14/12/2025"
    assert ws.cell(T.ANNEX_ROW, 1).value == "(Kèm theo Báo cáo số:…......... ngày……tháng…….năm……của………..)"
    assert ws.cell(T.DATA_ROW, 1).value == "Phường Ba Đình"
    assert [ws.cell(T.MS_ROW, c).value for c in range(1, 19)] == ["MS", *map(str, range(1, 18))]
    assert ws.cell(T.NOTE_ROW, 1).value == "18. Ghi chú:"
    # merged header band exactly as printed (tt06-2025-forms.json header_cells)
    merged = {str(r) for r in ws.merged_cells.ranges}
    for text, row, span, c0, c1 in T.HEADER_CELLS:
        top = ws.cell(T.HEADER_TOP + row, 1 + c0)
        assert top.value == text
        if span > 1 or c1 > c0:
            bottom = ws.cell(T.HEADER_TOP + row + span - 1, 1 + c1)
            assert f"{top.coordinate}:{bottom.coordinate}" in merged
    # data validation on every input cell: whole numbers >= 0, messages in Vietnamese
    covered = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in ws[rng.coord] if ":" in rng.coord else ((ws[rng.coord],),):
                for cell in row:
                    covered[cell.coordinate] = dv
    assert set(covered) == inputs
    for dv in covered.values():
        assert (dv.type, dv.formula1, dv.showErrorMessage, dv.errorStyle) == ("whole", "0", True, "stop")
        assert dv.errorTitle == "Số liệu không hợp lệ" and "số nguyên từ 0 trở lên" in dv.error
    col8 = covered[T.data_cell(8)]
    assert (col8.operator, col8.formula2) == ("between", "$G$15")
    assert covered[T.data_cell(1)].operator == "greaterThanOrEqual"
    # the optional protection block: five unlocked cells, whole numbers >= 0, the parts <= (1)
    bv = wb[T.PROTECTION_SHEET]
    assert bv.protection.sheet
    cells = {T.protection_cell(i) for i in range(1, 6)}
    assert cells == {f"C{r}" for r in range(7, 12)}
    assert {c.coordinate for row in bv.iter_rows(min_row=1, max_row=bv.max_row, max_col=bv.max_column + 2)
            for c in row if not c.protection.locked} == cells
    assert [bv.cell(r, 2).value for r in range(7, 12)] == [label for label, _ in T.PROTECTION_ITEMS]
    assert bv.cell(3, 1).value == "Đơn vị báo cáo: Phường Ba Đình (mã 00004)"
    rules = {}
    for dv in bv.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in bv[rng.coord] if ":" in rng.coord else ((bv[rng.coord],),):
                for cell in row:
                    rules[cell.coordinate] = dv
    assert set(rules) == cells
    assert (rules["C7"].type, rules["C7"].operator, rules["C7"].formula1) == ("whole", "greaterThanOrEqual", "0")
    for a in ("C8", "C9", "C10", "C11"):
        assert (rules[a].type, rules[a].operator, rules[a].formula1, rules[a].formula2) == ("whole", "between", "0",
                                                                                             "$C$7")
    assert all(dv.errorStyle == "stop" and "số nguyên từ 0 trở lên" in dv.error for dv in rules.values())
    # the first template (version 1) had no such sheet; it can still be made, for tests
    old = T.build_workbook(T.TemplateUnit("00004", "Phường Ba Đình", "xa"), Q4, APPLIES_FROM, protection=False)
    assert old.sheetnames == [T.DATA_SHEET, T.ID_SHEET]
    assert old[T.ID_SHEET].cell(2, 2).value == T.TEMPLATE_VERSION_V1
    # the hidden identification area the connector reads back
    ids = wb[T.ID_SHEET]
    assert ids.sheet_state == "veryHidden" and ids.protection.sheet
    ident = {ids.cell(i, 1).value: ids.cell(i, 2).value for i in range(1, len(T.ID_KEYS) + 1)}
    assert ident == {"mau": "06/QLKNTC", "phien_ban_mau": T.TEMPLATE_VERSION, "ma_don_vi": "00004",
                     "ten_don_vi": "Phường Ba Đình", "cap": "xa", "ky_bao_cao": "2025-Q4", "tu_ngay": "2025-09-15",
                     "den_ngay": "2025-12-14", "trang_so_lieu": T.DATA_SHEET, "dong_so_lieu": "15",
                     "ma_kiem_tra": T.id_checksum(ident)}


def test_the_template_is_the_printed_form(tmp_path):
    """The template's heading, header paths, MS labels and guide are the form
    definition's (both copied from the circular's table)."""
    form = formdef.load_form(FORM)
    assert [c.ms for c in form.columns] == list(range(1, 18))
    assert [(c.ms_text, (*c.path, c.text)) for c in form.columns] == [(ms, path) for ms, path in T.COLUMNS]
    assert (form.code_label, form.title, form.annex_line, form.note_line) == (
        T.FORM_CODE, T.TITLE, T.ANNEX_LINE, T.NOTE_LINE)
    assert form.guide == T.GUIDE
    assert [c.compute for c in form.columns] == [{"measure": "sum", "column": c} for c in qlkntc.COLUMNS]
    assert qlkntc.COLUMNS == tuple(c.name for c in fact_qlkntc.columns)[6:23]
    assert qlkntc.PROTECTION_COLUMNS == tuple(c.name for c in fact_qlkntc.columns)[23:28]
    assert all(fact_qlkntc.c[c].nullable for c in qlkntc.PROTECTION_COLUMNS)


def test_templates_for_a_level_and_the_periods_without_the_form(tmp_path):
    assert T.main(["--period", "2025-Q4", "--level", "tinh", "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["QLKNTC_01_2025-Q4.xlsx"]
    paths = T.generate("2026-H1", tmp_path / "h1", settings.get(), level="xa")
    assert len(paths) == 126 and all(p.name.endswith("_2026-H1.xlsx") for p in paths)
    # the same unit and period give the same bytes (one base per period, or one each)
    again = T.write_template(tmp_path / "again", T.TemplateUnit("00004", "Phường Ba Đình", "xa"),
                             periods.parse("2026-H1"), APPLIES_FROM)
    assert again.read_bytes() == (tmp_path / "h1" / "QLKNTC_00004_2026-H1.xlsx").read_bytes()
    for spec in ("2025-Q3", "2025-M9"):        # windows ending before 30/09/2025: no 06/QLKNTC
        with pytest.raises(ValueError, match="chưa áp dụng biểu 06/QLKNTC"):
            T.generate(spec, tmp_path / "old", settings.get())
    with pytest.raises(ValueError, match="định kỳ"):
        T.generate(periods.custom("2025-10-01", "2025-10-31"), tmp_path / "custom", settings.get())
    assert T.main(["--period", "2025-Q3", "--out", str(tmp_path / "old")]) == 2


# ------------------------------------------------------------------ round trip
@pytest.mark.integration   # the committed GX suites (consolidation)
def test_round_trip_generate_fill_land_consolidate(warehouse, tmp_path):
    inbox = tmp_path / "inbox"
    blank = tmp_path / "blank"
    a = fill(template(blank, "00004"), A, dest=inbox / "2025-12" / "QLKNTC_00004_2025-Q4.xlsx", delivered=at(16))
    b = fill(template(blank, "00008"), B, dest=inbox / "2025-12" / "xa" / "QLKNTC_00008_2025-Q4.xlsx",
             delivered=at(20))                                   # after the 17th: late
    c = fill(template(blank, "01"), CITY, dest=inbox / "QLKNTC_01_2025-Q4.xlsx", delivered=at(15))
    cy = fill(template(blank, "01", Y), [2 * v for v in CITY], dest=inbox / "QLKNTC_01_2025-Y.xlsx", delivered=at(17))
    summaries = W.ingest(warehouse, settings.get(), inbox=inbox)
    assert [(s["status"], s["logical_key"], s["findings"]) for s in summaries] == [
        ("loaded", "QLKNTC_01_2025-Q4", []), ("loaded", "QLKNTC_00004_2025-Q4", []),
        ("loaded", "QLKNTC_01_2025-Y", []), ("loaded", "QLKNTC_00008_2025-Q4", [])]      # oldest delivery first
    assert summaries[1]["message"] == "Đã nhận số liệu biểu 06/QLKNTC của Phường Ba Đình, Quý IV năm 2025."
    r = consolidate(warehouse, "qlkntc_workbook", settings.get())
    assert r.stats["published"] == 4 and r.stats["quarantined"] == 0
    got = fact(warehouse)
    assert set(got) == {"00004:2025-Q4", "00008:2025-Q4", "01:2025-Q4", "01:2025-Y"}
    assert values_of(got["00004:2025-Q4"]) == A
    assert values_of(got["00008:2025-Q4"]) == B
    assert values_of(got["01:2025-Q4"]) == CITY
    assert values_of(got["01:2025-Y"]) == tuple(2 * v for v in CITY)
    row = got["00004:2025-Q4"]
    assert (row["unit_key"], row["unit_code"], row["period_key"]) == ("2025:00004", "00004", "2025-Q4")
    assert (row["window_start"], row["window_end"]) == (Q4.start, Q4.end)
    assert got["01:2025-Y"]["window_start"] == dt.date(2024, 12, 15) and got["01:2025-Y"]["unit_key"] == "province:01"
    # lineage: file and sheet, worksheet row, checksum, delivery time, raw row and batch
    assert (row["source_file"], row["source_row"]) == ("QLKNTC_00004_2025-Q4.xlsx#06-QLKNTC", 15)
    assert row["file_checksum"] == hashlib.sha256(a.read_bytes()).hexdigest()
    assert pd.Timestamp(row["delivered_at"]).to_pydatetime() == utc(at(16))
    assert row["template_version"] == T.TEMPLATE_VERSION and row["source_kind"] == "qlkntc_workbook"
    raw = rows(warehouse, raw_record, raw_record.c.raw_id == int(row["raw_id"])).iloc[0]
    assert (raw["batch_id"], raw["source_row"], raw["record_id"]) == (row["batch_id"], 15, "00004:2025-Q4")
    payload = json.loads(raw["payload"])
    assert [payload[f] for f in W.VALUE_FIELDS] == list(A) and payload["ky_bao_cao"] == "2025-Q4"
    batch = rows(warehouse, raw_batch, raw_batch.c.batch_id == row["batch_id"]).iloc[0]
    assert (batch["status"], batch["checksum"], batch["source_ref"]) == (
        "loaded", row["file_checksum"], "2025-12/QLKNTC_00004_2025-Q4.xlsx")
    # a unit that sent nothing has no row (not a row of zeros)
    assert not any(k.startswith("00025:") for k in got)
    comp = qlkntc.completeness(warehouse, Q4, settings.get(), now=utc(at(31, hour=12))).set_index("unit_key")
    assert len(comp) == 127                      # the city and the 126 communes
    assert comp.loc["2025:00004", ["status", "received"]].tolist() == ["dung_han", 1]
    assert comp.loc["2025:00008", ["status", "received"]].tolist() == ["muon", 1]
    assert comp.loc["province:01", "status"] == "dung_han"
    assert comp.loc["2025:00025", ["status", "received", "rejected"]].tolist() == ["chua_bao_cao", 0, 0]
    assert comp.loc["2025:00025", "note"] == "Chưa nhận biểu 06/QLKNTC; hạn 17/12/2025"
    assert comp.loc["2025:00008", "note"].startswith("Nhận biểu 06/QLKNTC ngày 20/12/2025, quá hạn (hạn 17/12/2025)")
    assert qlkntc.completeness(warehouse, periods.period("Q3", 2025), settings.get()).empty      # no 06/QLKNTC then
    assert b.exists() and c.exists() and cy.exists()


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_the_form_computes_on_the_consolidated_table(warehouse, tmp_path):
    inbox = tmp_path / "inbox"
    for code, values in (("00004", A), ("00008", B), ("01", CITY)):
        fill(template(tmp_path / "blank", code), values, dest=inbox / f"QLKNTC_{code}_2025-Q4.xlsx", delivered=at(16))
    fill(template(tmp_path / "blank", "00004", Y), [9] * 17, dest=inbox / "QLKNTC_00004_2025-Y.xlsx", delivered=at(16))
    W.ingest(warehouse, settings.get(), inbox=inbox)
    consolidate(warehouse, "qlkntc_workbook", settings.get())
    form = formdef.load_form(FORM)
    records = qlkntc.published(warehouse)
    assert len(records) == 4
    sel = form.select(records, Q4)                 # the Năm workbook is not in the Quý IV report
    assert sorted(sel["unit_key"]) == ["2025:00004", "2025:00008", "province:01"]
    sel = sel.assign(row_id=sel["unit_key"])
    report_rows = [formdef.ReportRow("province:01", "Thành phố Hà Nội", "01", kind="own"),
                   formdef.ReportRow("2025:00004", "Phường Ba Đình", "00004"),
                   formdef.ReportRow("2025:00008", "Phường Ngọc Hà", "00008"),
                   formdef.ReportRow("2025:00025", "Phường Giảng Võ", "00025")]
    status = {"2025:00025": formdef.RowStatus(False, 1, 1)}
    table = formdef.compute(form, sel, report_rows, row_status=status, period=Q4)
    total = table.loc["total"]
    # by hand: A + B + CITY, column by column
    assert [int(total[ms]) for ms in range(1, 18)] == [
        15, 5, 3, 13, 1375, 14, 43, 8, 4, 12, 1, 3, 19, 3, 10, 2, 3]
    assert [int(table.loc["2025:00004", ms]) for ms in range(1, 18)] == list(A)
    assert table.loc["2025:00025", "note"] == "Chưa báo cáo" and pd.isna(table.loc["2025:00025", 6])
    assert total["note"] == "Chưa gồm số liệu của 1 đơn vị chưa báo cáo"
    assert formdef.check_identities(form, table, status) == []
    year = formdef.compute(form, form.select(records, Y).assign(row_id=lambda d: d["unit_key"]),
                           [formdef.ReportRow("2025:00004", "Phường Ba Đình", "00004")], period=Y)
    assert [int(year.loc["total", ms]) for ms in range(1, 18)] == [9] * 17


# ------------------------------------------------------------------ protection of denouncers (Mẫu số 02 II.5)
def protection_of(row: dict):
    v = [row[c] for c in qlkntc.PROTECTION_COLUMNS]
    return None if all(x is None or pd.isna(x) for x in v) else tuple(int(x) for x in v)


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_protection_block_round_trip_to_mau02(warehouse, tmp_path):
    """Template → filled (with the block, an empty block, the old template without it) →
    landed → fact_qlkntc → the city's Mẫu số 02 II.5, through the narrative's own code
    (pipeline.reporting._totals_of_forms, reports.mau02)."""
    from pipeline import reporting
    from reports import levels, mau02

    inbox, blank = tmp_path / "inbox", tmp_path / "blank"
    # the city: 3 = 2 + 1, both kinds on the same person (2 + 2 > 3); 00004: 1 = 1 + 0;
    # 00008: the old template; 00025: the block left empty; 00070: all 0.
    fill(template(blank, "01"), CITY, protection=(3, 2, 1, 2, 2), dest=inbox / "QLKNTC_01_2025-Q4.xlsx",
         delivered=at(15))
    fill(template(blank, "00004"), A, protection=(1, 1, 0, 0, 1), dest=inbox / "QLKNTC_00004_2025-Q4.xlsx",
         delivered=at(15))
    old = T.write_template(blank / "old", T.TemplateUnit("00008", "Phường Ngọc Hà", "xa"), Q4, APPLIES_FROM, protection=False)
    fill(old, B, dest=inbox / "QLKNTC_00008_2025-Q4.xlsx", delivered=at(15))
    fill(template(blank, "00025"), B, dest=inbox / "QLKNTC_00025_2025-Q4.xlsx", delivered=at(15))
    fill(template(blank, "00070"), A, protection=(0, 0, 0, 0, 0), dest=inbox / "QLKNTC_00070_2025-Q4.xlsx",
         delivered=at(15))
    summaries = W.ingest(warehouse, settings.get(), inbox=inbox)
    assert [(s["status"], s["findings"]) for s in summaries] == [("loaded", [])] * 5
    payloads = {json.loads(p)["ma_don_vi"]: json.loads(p) for p in rows(warehouse, raw_record)["payload"]}
    assert [payloads["01"][f] for f in W.PROTECTION_FIELDS] == [3, 2, 1, 2, 2]
    assert not any(f in payloads["00008"] for f in W.PROTECTION_FIELDS)            # version 1: no keys
    assert [payloads["00025"][f] for f in W.PROTECTION_FIELDS] == [None] * 5
    r = consolidate(warehouse, "qlkntc_workbook", settings.get())
    assert (r.stats["published"], r.stats["protection_reported"]) == (5, 3)
    got = fact(warehouse)
    assert {k: protection_of(v) for k, v in got.items()} == {
        "01:2025-Q4": (3, 2, 1, 2, 2), "00004:2025-Q4": (1, 1, 0, 0, 1), "00008:2025-Q4": None,
        "00025:2025-Q4": None, "00070:2025-Q4": (0, 0, 0, 0, 0)}
    # the old workbook's 17 figures count all the same
    assert values_of(got["00008:2025-Q4"]) == B and got["00008:2025-Q4"]["template_version"] == T.TEMPLATE_VERSION_V1
    with warehouse.connect() as c:                  # NULL, not 0, for "not reported"
        nulls = c.execute(sa.select(sa.func.count()).where(fact_qlkntc.c.protected_persons.is_(None))).scalar_one()
    assert nulls == 2

    # Mẫu số 02 of the city, Quý IV 2025 (the narrative's code path, on this warehouse)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TCD_WAREHOUSE_URL", str(warehouse.url))
        inputs = reporting.report_inputs(warehouse, Q4)
        scope = next(s for s in levels.report_scopes(Q4, inputs.units) if s.level == "tinh" and s.kind == "consolidated")
        tables = reporting._totals_of_forms(warehouse, inputs, ["06/QLKNTC"], scope)
    prot = tables[mau02.PROTECTION_CODE]
    # recomputed from fact_qlkntc: the units that reported the block, column by column
    reported = [v for v in map(protection_of, got.values()) if v is not None]
    want = [sum(v[i] for v in reported) for i in range(5)]
    assert want == [4, 3, 1, 2, 3]
    assert prot.loc["total", [1, 2, 3, 4, 5]].tolist() == want
    status = prot["status"].value_counts().to_dict()
    assert status["reported"] == 3 and status["not_reported"] == 2
    assert status["no_workbook"] == len(prot) - 1 - 5                  # every other commune sent nothing
    result = mau02.build_mau02(tmp_path / "mau02.docx", issuer_name="Ủy ban nhân dân\nThành phố Hà Nội",
                               place="Hà Nội", period=Q4, tables=tables, previous=None, last_year=None)
    figs = {f.ms: f for f in result.figures if f.form == mau02.PROTECTION_CODE}
    assert [figs[ms].value for ms in range(1, 6)] == want
    assert figs[1].text == "- Tổng số người được bảo vệ (người tố cáo, thân nhân của người tố cáo): 4 người."
    import docx

    texts = [p.text for p in docx.Document(str(result.path)).paragraphs]
    note = next(t for t in texts if t.startswith("(Số liệu bảo vệ người tố cáo: "))
    assert "của 3/127 đơn vị; 124 đơn vị chưa báo cáo số liệu bảo vệ người tố cáo: 2 đơn vị đã gửi biểu " \
           "06/QLKNTC nhưng không kèm số liệu này (Phường Ngọc Hà, Phường Giảng Võ); 122 đơn vị chưa có biểu " \
           "06/QLKNTC được chấp nhận (" in note
    # a commune's own report on the old template: II.5 says it did not report
    own_scope = next(s for s in levels.report_scopes(Q4, inputs.units) if s.unit_code == "00008")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TCD_WAREHOUSE_URL", str(warehouse.url))
        own = reporting._totals_of_forms(warehouse, inputs, ["06/QLKNTC"], own_scope)
    res = mau02.build_mau02(tmp_path / "own.docx", issuer_name="Ủy ban nhân dân\nPhường Ngọc Hà", place="Hà Nội",
                            period=Q4, tables=own, previous=None, last_year=None)
    first = next(f for f in res.figures if f.form == mau02.PROTECTION_CODE)
    assert first.value is None
    assert first.text.endswith("chưa có số liệu (đơn vị chưa báo cáo số liệu bảo vệ người tố cáo).")


def _drop_protection_sheet(wb):
    wb.security.lockStructure = False
    del wb[T.PROTECTION_SHEET]


def _protection_label(wb):
    wb[T.PROTECTION_SHEET]["B10"] = "Số người được bảo vệ việc làm"


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_each_bad_protection_value_is_quarantined(warehouse, tmp_path, communes):
    inbox, blank = tmp_path / "inbox", tmp_path / "blank"
    c = iter(communes)
    label = qlkntc_values.protection_label
    cases = (
        (("khoảng 3", 2, 1, 0, 1), "QLKNTC_VALUE_NOT_NUMBER",
         f"Ô số liệu của biểu 06/QLKNTC không phải là số: {label(1)}"),
        ((3, 2, 1, -1, 0), "QLKNTC_VALUE_NEGATIVE", f"Ô số liệu của biểu 06/QLKNTC bị âm: {label(4)} = -1"),
        ((3, 2, 1, 0, 1.5), "QLKNTC_VALUE_FRACTIONAL",
         f"Ô số liệu của biểu 06/QLKNTC có số lẻ thập phân: {label(5)} = 1,5"),
        ((3, 2, None, 0, None), "QLKNTC_PROTECTION_MISSING",
         f"Phần bảo vệ người tố cáo của tệp biểu 06/QLKNTC nhập thiếu: {label(3)}, {label(5)}"),
        ((3, 1, 1, 0, 0), "QLKNTC_PROTECTION_CHECK",
         "Số liệu bảo vệ người tố cáo không khớp: dòng (1) = 3 khác dòng (2) + dòng (3) = 1 + 1 "
         "(phải có dòng (1) = dòng (2) + dòng (3))"),
        ((2, 1, 1, 3, 0), "QLKNTC_PROTECTION_CHECK",
         "Số liệu bảo vệ người tố cáo không khớp: dòng (4) = 3 lớn hơn dòng (1) = 2 (phải có dòng (4) <= dòng (1))"),
        ((2, 1, 1, 0, 4), "QLKNTC_PROTECTION_CHECK",
         "Số liệu bảo vệ người tố cáo không khớp: dòng (5) = 4 lớn hơn dòng (1) = 2 (phải có dòng (5) <= dòng (1))"),
    )
    quarantined = {}
    for values, rule, reason in cases:
        code = next(c)
        fill(template(blank / code, code), A, protection=values, dest=inbox / T.file_name(code, "2025-Q4"),
             delivered=at(16))
        quarantined[code] = (rule, reason)
    overlap = next(c)            # both kinds on every person: (4) + (5) = 4 > (1) = 2, accepted
    fill(template(blank / overlap, overlap), A, protection=(2, 2, 0, 2, 2), dest=inbox / T.file_name(overlap, "2025-Q4"),
         delivered=at(16))
    rejected = {}
    for edit, rule, words in ((_drop_protection_sheet, "QLKNTC_SHEET_MISSING", "không còn trang 'Bảo vệ người tố cáo'"),
                              (_protection_label, "QLKNTC_TEMPLATE_ALTERED", "ô B10")):
        code = next(c)
        fill(template(blank / code, code), A, edit=edit, dest=inbox / T.file_name(code, "2025-Q4"), delivered=at(16))
        rejected[T.file_name(code, "2025-Q4")] = (rule, words)

    summaries = {Path(s["file"]).name: s for s in W.ingest(warehouse, settings.get(), inbox=inbox)}
    for code, (rule, reason) in quarantined.items():
        s = summaries[T.file_name(code, "2025-Q4")]
        assert (s["status"], s["findings"]) == ("loaded", [{"rule": rule, "reason": reason}]), code
        assert "khoảng" not in s["message"]
    for name, (rule, words) in rejected.items():
        s = summaries[name]
        assert (s["status"], s["reason_code"], s["rows"]) == ("rejected", rule, 0) and words in s["message"], s
    r = consolidate(warehouse, "qlkntc_workbook", settings.get())
    assert (r.stats["published"], r.stats["quarantined"]) == (1, len(quarantined))
    assert {k: protection_of(v) for k, v in fact(warehouse).items()} == {f"{overlap}:2025-Q4": (2, 2, 0, 2, 2)}
    q = rows(warehouse, dq_quarantine, dq_quarantine.c.source_kind == "qlkntc_workbook")
    got = {rid.split(":")[0]: (rc, reason) for rid, rc, reason in q[["record_id", "reason_code", "reason"]].values}
    assert got == quarantined and len(q) == len(quarantined)            # one line per workbook and rule
    assert set(q["severity"]) == {"error"}
    comp = qlkntc.completeness(warehouse, Q4, settings.get()).set_index("unit_key")
    assert all(comp.loc[f"2025:{code}", "status"] == "bi_tu_choi" for code in quarantined)


# ------------------------------------------------------------------ bad inputs
def _ms_label(wb):
    wb[T.DATA_SHEET].cell(T.MS_ROW, T.FIRST_DATA_COL + 4, "5=4")


def _hidden_unit(wb):
    wb[T.ID_SHEET].cell(T.ID_KEYS.index("ma_don_vi") + 1, 2, "00008")


def _dates(wb):
    wb[T.DATA_SHEET][T.WINDOW_START_CELL] = dt.date(2025, 10, 1)


def _rename(wb):
    wb[T.DATA_SHEET].title = "Sheet1"


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_each_bad_input_has_its_rule_reason_and_outcome(warehouse, tmp_path, communes):
    inbox, blank = tmp_path / "inbox", tmp_path / "blank"
    c = iter(communes)
    good = next(c)
    fill(template(blank, good), A, dest=inbox / f"QLKNTC_{good}_2025-Q4.xlsx", delivered=at(15))
    # (file name in the inbox, how it is made) → (status, rule, words of the message)
    rejected = {}

    def bad(code, values, expect, *, period=Q4, name=None, edit=None, template_code=None, template_period=None):
        src = template(blank / code, template_code or code, template_period or period)
        dest = inbox / "bad" / (name or T.file_name(code, period.key))
        fill(src, values, dest=dest, edit=edit, delivered=at(16))
        rejected[dest.name] = expect

    u1, u2, u3, u4, u5, u6, u7 = (next(c) for _ in range(7))
    bad(u1, A, ("QLKNTC_UNIT_MISMATCH", f"ghi mã đơn vị {u1} nhưng tệp là mẫu của đơn vị {u2}"), template_code=u2)
    bad(u3, A, ("QLKNTC_WINDOW_MISMATCH", "ghi kỳ 2025-Y nhưng tệp là mẫu của kỳ 2025-Q4"), period=Y,
        template_period=Q4)
    bad(u4, A, ("QLKNTC_WINDOW_MISMATCH", "các ngày \"Số liệu tính từ ngày … đến ngày …\""), edit=_dates)
    bad(u5, A, ("QLKNTC_SHEET_MISSING",
                "không có trang '06-QLKNTC' của mẫu (các trang hiện có: 'Sheet1', 'Bảo vệ người tố cáo')"),
        edit=_rename)
    bad(u6, A, ("QLKNTC_TEMPLATE_ALTERED", "dòng mã số (MS)"), edit=_ms_label)
    bad(u7, A, ("QLKNTC_TEMPLATE_ALTERED", "thông tin định danh của mẫu (đơn vị, kỳ báo cáo) đã bị sửa"),
        edit=_hidden_unit)
    # a template made for a commune dissolved on 30/06/2025 (legacy 00001, Phúc Xá)
    old = T.write_template(blank / "old", T.TemplateUnit("00001", "Phường Phúc Xá", "xa"), Q4, APPLIES_FROM)
    fill(old, A, dest=inbox / "bad" / old.name, delivered=at(16))
    rejected[old.name] = ("QLKNTC_UNIT_UNKNOWN", "mã đơn vị 00001 không phải đơn vị báo cáo của thành phố "
                                                 "vào ngày 14/12/2025")
    (inbox / "bad" / "QLKNTC_00004_2025-Q4 (1).xlsx").write_bytes((inbox / f"QLKNTC_{good}_2025-Q4.xlsx").read_bytes())
    rejected["QLKNTC_00004_2025-Q4 (1).xlsx"] = ("QLKNTC_FILE_NAME",
                                                 "không đúng quy ước QLKNTC_<mã đơn vị>_<kỳ báo cáo>")
    (inbox / "bad" / "QLKNTC_00004_2026-Q1.xlsx").write_bytes(b"<html>not a workbook</html>")
    rejected["QLKNTC_00004_2026-Q1.xlsx"] = ("QLKNTC_FILE_NOT_READABLE", "không mở được như một tệp Excel .xlsx")

    # landed, then quarantined by the consolidation: (values, rule, reason)
    quarantined = {}
    for values, rule, reason in (
            ([*A[:4], "khoảng 40 người", *A[5:]], "QLKNTC_VALUE_NOT_NUMBER",
             "Ô số liệu của biểu 06/QLKNTC không phải là số: Cột (5) «Số người»"),
            ([*A[:2], -2, *A[3:]], "QLKNTC_VALUE_NEGATIVE",
             "Ô số liệu của biểu 06/QLKNTC bị âm: Cột (3) «Số văn bản hủy bỏ» = -2"),
            ([*A[:3], 1.5, *A[4:]], "QLKNTC_VALUE_FRACTIONAL",
             "Ô số liệu của biểu 06/QLKNTC có số lẻ thập phân: Cột (4) «Số lớp» = 1,5"),
            ([*A[:12], None, *A[13:]], "QLKNTC_VALUE_MISSING",
             "Ô số liệu của biểu 06/QLKNTC bị bỏ trống: Cột (13) «Tổng số KLTT thực hiện»"),
            ([*A[:5], 1, 1, 3, *A[8:]], "QLKNTC_FORM_CHECK",
             "Số liệu vi phạm kiểm tra in trên biểu 06/QLKNTC: Cột (8) = 3 lớn hơn Cột (6) = 1 "
             "(phải có Cột (8) <= Cột (6))")):
        code = next(c)
        fill(template(blank / code, code), values, dest=inbox / "bad" / T.file_name(code, "2025-Q4"), delivered=at(16))
        quarantined[code] = (rule, reason)
    flagged = next(c)                             # 7 < 6: published and flagged
    fill(template(blank / flagged, flagged), [*A[:5], 3, 2, 1, *A[8:]],
         dest=inbox / T.file_name(flagged, "2025-Q4"), delivered=at(16))

    summaries = {Path(s["file"]).name: s for s in W.ingest(warehouse, settings.get(), inbox=inbox)}
    for name, (rule, words) in rejected.items():
        s = summaries[name]
        assert (s["status"], s["reason_code"], s["rows"]) == ("rejected", rule, 0), name
        assert name in s["message"] and words in s["message"] and "gửi lại" in s["message"], s["message"]
    for code, (rule, reason) in quarantined.items():
        s = summaries[T.file_name(code, "2025-Q4")]
        assert (s["status"], s["rows"]) == ("loaded", 1)
        assert s["findings"] == [{"rule": rule, "reason": reason}]
        assert reason in s["message"] and "khoảng 40" not in s["message"]
    assert summaries[T.file_name(good, "2025-Q4")]["status"] == "loaded"
    # rejected batches are on record with their rule and reason, nothing of them landed
    stored = rows(warehouse, raw_batch, raw_batch.c.status == "rejected")
    assert sorted(stored["reason_code"]) == sorted(r for r, _ in rejected.values())
    assert (stored["row_count"] == 0).all()

    result = consolidate(warehouse, "qlkntc_workbook", settings.get())
    assert result.stats["published"] == 2 and result.stats["quarantined"] == len(quarantined)
    assert set(fact(warehouse)) == {f"{good}:2025-Q4", f"{flagged}:2025-Q4"}
    q = rows(warehouse, dq_quarantine, dq_quarantine.c.source_kind == "qlkntc_workbook")
    got = {r["record_id"].split(":")[0]: (r["reason_code"], r["reason"]) for r in q.to_dict("records")}
    assert got == quarantined
    assert set(q["severity"]) == {"error"} and set(q["source_row"]) == {15}
    assert set(q["source_file"]) == {f"{T.file_name(code, '2025-Q4')}#06-QLKNTC" for code in quarantined}
    assert not q["reason"].str.contains("khoảng").any()
    f = rows(warehouse, dq_flag, dq_flag.c.source_kind == "qlkntc_workbook")
    assert f[["rule", "reason", "unit_key"]].values.tolist() == [[
        "QLKNTC_UNITS_BELOW_INSPECTIONS",
        "Số đơn vị được thanh tra ít hơn số cuộc thanh tra trách nhiệm: Cột (7) = 2, Cột (6) = 3", f"2025:{flagged}"]]
    comp = qlkntc.completeness(warehouse, Q4, settings.get()).set_index("unit_key")
    for code in quarantined:
        assert comp.loc[f"2025:{code}", ["status", "received", "rejected"]].tolist() == ["bi_tu_choi", 0, 1]
    assert comp.loc[f"2025:{u1}", "status"] == "bi_tu_choi"       # its only delivery was rejected
    assert comp.loc[f"2025:{u2}", "status"] == "chua_bao_cao"     # the template's unit sent nothing


def test_no_exception_escapes_the_connector(warehouse, tmp_path, monkeypatch):
    out = W.ingest(warehouse, settings.get(), inbox=tmp_path / "no-such-folder")
    assert [(s["status"], s["reason_code"]) for s in out] == [("failed", "SOURCE_UNREACHABLE")]
    inbox = tmp_path / "inbox"
    fill(template(tmp_path / "blank", "00004"), A, dest=inbox / "QLKNTC_00004_2025-Q4.xlsx", delivered=at(15))
    fill(template(tmp_path / "blank", "00008"), B, dest=inbox / "QLKNTC_00008_2025-Q4.xlsx", delivered=at(16))

    real = W.read_workbook

    def explode(path, wn, *args):
        if wn.unit_code == "00004":
            raise RuntimeError("bug")
        return real(path, wn, *args)

    monkeypatch.setattr(W, "read_workbook", explode)
    out = {s["logical_key"]: s for s in W.ingest(warehouse, settings.get(), inbox=inbox)}
    assert (out["QLKNTC_00004_2025-Q4"]["status"], out["QLKNTC_00004_2025-Q4"]["reason_code"]) == (
        "rejected", "QLKNTC_FILE_NOT_READABLE")
    assert out["QLKNTC_00008_2025-Q4"]["status"] == "loaded"


# ------------------------------------------------------------------ deliveries again, corrections
@pytest.mark.integration   # the committed GX suites (consolidation)
def test_the_same_workbook_twice_adds_nothing(warehouse, tmp_path):
    inbox = tmp_path / "inbox"
    first = fill(template(tmp_path / "blank", "00004"), A, dest=inbox / "QLKNTC_00004_2025-Q4.xlsx", delivered=at(15))
    assert [s["status"] for s in W.ingest(warehouse, settings.get(), inbox=inbox)] == ["loaded"]
    consolidate(warehouse, "qlkntc_workbook", settings.get())
    # delivered again: the same bytes, in another folder, the name in another case
    for dest in (inbox / "gui-lai" / first.name, inbox / "lan-3" / "qlkntc_00004_2025-q4.XLSX"):
        dest.parent.mkdir(parents=True)
        shutil.copyfile(first, dest)
        os.utime(dest, (at(18).timestamp(), at(18).timestamp()))
    counts = lambda: [len(rows(warehouse, t)) for t in (raw_batch, raw_record, raw_file_manifest)]
    before = counts()
    assert W.ingest(warehouse, settings.get(), inbox=inbox) == []
    assert counts() == before == [1, 1, 1]
    assert consolidate(warehouse, "qlkntc_workbook", settings.get()).skipped
    assert values_of(fact(warehouse)["00004:2025-Q4"]) == A


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_a_corrected_workbook_replaces_the_earlier_one_as_a_whole(warehouse, tmp_path):
    inbox, blank = tmp_path / "inbox", tmp_path / "blank"
    fill(template(blank, "00004"), A, dest=inbox / "QLKNTC_00004_2025-Q4.xlsx", delivered=at(15))
    W.ingest(warehouse, settings.get(), inbox=inbox)
    consolidate(warehouse, "qlkntc_workbook", settings.get())
    corrected = tuple(v + 1 for v in B)
    fill(template(blank, "00004"), corrected, dest=inbox / "ban-sua" / "QLKNTC_00004_2025-Q4.xlsx",
         delivered=at(19))
    (s,) = W.ingest(warehouse, settings.get(), inbox=inbox)
    assert s["status"] == "loaded"
    assert s["message"].endswith("Bản gửi lại: thay thế toàn bộ bản đã nhận lúc 15/12/2025 09:00.")
    r = consolidate(warehouse, "qlkntc_workbook", settings.get())
    assert r.stats["superseded_versions"] == 1
    got = fact(warehouse)
    assert list(got) == ["00004:2025-Q4"] and values_of(got["00004:2025-Q4"]) == corrected
    assert got["00004:2025-Q4"]["source_file"] == "QLKNTC_00004_2025-Q4.xlsx#06-QLKNTC"
    assert len(rows(warehouse, raw_record)) == 2          # raw keeps both versions
    comp = qlkntc.completeness(warehouse, Q4, settings.get()).set_index("unit_key").loc["2025:00004"]
    assert (comp["status"], comp["note"]) == ("muon", "Nhận biểu 06/QLKNTC ngày 19/12/2025, quá hạn (hạn 17/12/2025); "
                                                      "1 bản gửi trước đã được thay thế")
    # a re-delivery that is rejected never landed: the corrected version stays in force
    fill(template(blank, "00004"), A, dest=inbox / "lan-3" / "QLKNTC_00004_2025-Q4.xlsx", delivered=at(20),
         edit=_ms_label)
    assert [s["reason_code"] for s in W.ingest(warehouse, settings.get(), inbox=inbox)] == ["QLKNTC_TEMPLATE_ALTERED"]
    consolidate(warehouse, "qlkntc_workbook", settings.get())
    assert values_of(fact(warehouse)["00004:2025-Q4"]) == corrected
    # a landed re-delivery whose figures break a rule replaces it too: the unit withdrew them
    fill(template(blank, "00004"), [*A[:5], 1, 1, 2, *A[8:]], dest=inbox / "lan-4" / "QLKNTC_00004_2025-Q4.xlsx",
         delivered=at(21))
    W.ingest(warehouse, settings.get(), inbox=inbox)
    consolidate(warehouse, "qlkntc_workbook", settings.get())
    assert fact(warehouse) == {}
    comp = qlkntc.completeness(warehouse, Q4, settings.get()).set_index("unit_key").loc["2025:00004"]
    assert (comp["status"], comp["received"]) == ("bi_tu_choi", 0)


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_registers_and_workbooks_share_the_inbox_without_mixing(warehouse, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    fill(template(tmp_path / "blank", "00004"), A, dest=inbox / "2025" / "QLKNTC_00004_2025-Q4.xlsx", delivered=at(15))
    assert commune_registers.ingest(warehouse, settings.get(), inbox=inbox) == []        # not a register
    monkeypatch.setenv("TCD_COMMUNE_INBOX", str(inbox))
    monkeypatch.setenv("TCD_WAREHOUSE_URL", str(warehouse.url))
    from pipeline import tasks

    out = tasks.ingest_qlkntc_workbooks(run_id="test")
    assert (out["batches"], out["rows"], out["rejected"], out["findings"]) == (1, 1, [], [])
    c = tasks.consolidate("qlkntc_workbook", run_id="test")
    assert (c["source_kind"], c["stats"]["published"]) == ("qlkntc_workbook", 1)


# ------------------------------------------------------------------ simulated workbooks
@pytest.mark.integration   # the committed GX suites (consolidation)
def test_simulated_workbooks_reach_their_documented_outcomes(warehouse, tmp_path):
    from simulators import qlkntc as S
    from simulators.core import all_units

    plan = S.defect_plan(42)
    assert sorted(plan.values()) == sorted(S.DEFECTS)
    chosen = [all_units()["province:01"], *(all_units()[k] for k, _ in plan),
              *(u for u in S.reporting_units()[1:6]),
              next(u for u in S.reporting_units() if S.old_template(42, u.key))]      # no protection sheet
    end = dt.date(2026, 1, 20)
    w = S.write(tmp_path / "sim", 42, chosen, dt.date(2021, 7, 1), end)
    again = S.write(tmp_path / "sim2", 42, chosen, dt.date(2021, 7, 1), end)
    digest = lambda root: {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                           for p in root.rglob("*") if p.is_file()}
    assert digest(tmp_path / "sim") == digest(tmp_path / "sim2")           # deterministic
    assert {d[0] for d in w.defects} == set(S.DEFECTS) and again.truth == w.truth
    inbox = tmp_path / "sim" / "commune_inbox"
    summaries = W.ingest(warehouse, settings.get(), inbox=inbox)
    consolidate(warehouse, "qlkntc_workbook", settings.get())
    # the published rows are the ground truth's, value for value
    got = {k: (r["unit_key"], str(r["window_start"]), str(r["window_end"]), *values_of(r))
           for k, r in fact(warehouse).items()}
    want = {f"{t[0]}:{t[2]}": (t[1], t[3], t[4], *t[5:22]) for t in w.truth}
    assert got == want and len(want) > 20
    # the protection columns too: the sibling truth, NULL where the unit kept the old template
    prot = {f"{t[0]}:{t[2]}": (t[3], None if t[4] is None else tuple(t[4:])) for t in w.protection_truth}
    assert set(prot) == set(want)
    assert {k: (r["template_version"], protection_of(r)) for k, r in fact(warehouse).items()} == prot
    assert any(v is None for _, v in prot.values()) and any(v and v[0] > 0 for _, v in prot.values())
    assert all(S.old_template(42, t[1]) == (t[4] is None) for t in w.protection_truth)
    rejected = {(r["logical_key"], r["reason_code"]) for r in rows(warehouse, raw_batch).to_dict("records")
                if r["status"] == "rejected"}
    q = {(r["record_id"], r["reason_code"]) for r in rows(warehouse, dq_quarantine).to_dict("records")}
    landed_paths = {s["file"] for s in summaries}
    for d in w.defects:
        kind, _, resource, path, _, _, record_id, outcome, rule, _ = d
        rel = str(Path(path).relative_to("commune_inbox"))
        assert (tmp_path / "sim" / path).is_file(), d
        if outcome == S.REJECTED:
            assert (Path(resource).stem, rule) in rejected, d
        elif outcome == S.QUARANTINED:
            assert (record_id, rule) in q, d
        elif outcome == S.SKIPPED:
            assert rel not in landed_paths, d
        elif outcome == S.SUPERSEDED:
            first = hashlib.sha256((tmp_path / "sim" / path).read_bytes()).hexdigest()
            assert rel in landed_paths and fact(warehouse)[record_id]["file_checksum"] != first, d
        else:
            assert rel in landed_paths and record_id in got, d
    # submissions: missing workbooks are in no folder and have no row
    subs = w.submissions
    assert sum(s[7] for s in subs) == len(w.truth)
    for code, key, pk, name, delivered, late, missing, published in subs:
        assert missing == (not any(p.name.lower() == name.lower() for p in inbox.rglob("*")))
        assert published == (f"{code}:{pk}" in got)


def test_the_generator_delivers_the_workbooks(tmp_path):
    from simulators.generate import generate

    # district 001's first legacy commune and the 2025 communes that succeed it
    manifest = generate(tmp_path, seed=42, only="communes", districts=["001"], communes_per_district=1,
                        start=dt.date(2025, 6, 1), end=dt.date(2026, 1, 20), workers=1)
    files = sorted(p.relative_to(tmp_path) for p in (tmp_path / "commune_inbox" / "qlkntc").rglob("*.xlsx"))
    assert files and all(str(p).startswith("commune_inbox/qlkntc/2025-") for p in files)
    con = sqlite3.connect(tmp_path / "ground_truth.sqlite")
    try:
        truth = con.execute("SELECT unit_code, period_key FROM gt_qlkntc").fetchall()
        subs = con.execute("SELECT COUNT(*), SUM(missing), SUM(published) FROM gt_qlkntc_submission").fetchone()
        n_defects = con.execute("SELECT COUNT(*) FROM gt_defect WHERE source_kind = 'qlkntc_workbook'").fetchone()[0]
    finally:
        con.close()
    with sqlite3.connect(tmp_path / "ground_truth.sqlite") as con:
        prot = con.execute("SELECT unit_code, period_key, protected_persons, protected_denouncers, "
                           "protected_relatives FROM gt_qlkntc_protection").fetchall()
    con.close()
    assert sorted((u, p) for u, p, *_ in prot) == sorted(truth)
    assert all(t is None or t == d + r for _, _, t, d, r in prot)          # (1) = (2) + (3)
    assert truth and {pk for _, pk in truth} <= {"2025-Q4", "2025-Y"} and subs[2] == len(truth)
    info = manifest["sources"]["qlkntc_workbooks"]
    assert (info["files"], info["workbooks_owed"], info["published"]) == (len(files), subs[0], len(truth))
    lines = (tmp_path / "defects.csv").read_text(encoding="utf-8").splitlines()
    assert sum(",qlkntc_workbook," in line for line in lines) == n_defects
