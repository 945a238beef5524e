"""The report set on generated data, opened by a real spreadsheet program.

The small generated data set (district 001 with two communes, their 2025 successors,
the city service) goes through ingestion and consolidation; then every form of the
reporting regime in force is produced for every scope of every level for 2025-Q2 and
2025-Q3 (the quarter that spans the reform; both on the TT 01/2024 set) and 2025-Q4
(the first on Thông tư 06/2025), plus the multi-year summary. Every workbook is opened by LibreOffice
headless and converted to PDF; the values LibreOffice reads back equal the tables
recomputed from the warehouse; the check identities hold on those values; a second
run issues nothing new; "kỳ trước chuyển sang" of Q3 equals Q2's unprocessed petitions;
the city totals of the as-recorded and remapped views agree.
"""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from core import connections, settings
from warehouse import units as wh_units
from warehouse.schema import rpt_report

pytestmark = pytest.mark.integration   # LibreOffice, the city service over HTTP

PERIODS = ("2025-Q2", "2025-Q3", "2025-Q4")
SUMMARY_RANGE = ("2021-07-01", "2025-10-14")
NO_DATA_DISTRICT = "002"      # in force, sends nothing in the small set: "Chưa báo cáo"


@pytest.fixture(scope="module")
def report_set(small_sources, city_server, tmp_path_factory):
    from connectors import city_service
    from pipeline import dq, reporting, tasks
    from warehouse import db

    home = tmp_path_factory.mktemp("report_set")
    url, token = city_server
    env = {"TCD_WAREHOUSE_URL": f"sqlite:///{home / 'wh.sqlite'}",
           "TCD_PATH_REPORTS": str(home / "reports"), "TCD_PATH_DATA_QUALITY": str(home / "dq"),
           "TCD_COMMUNE_INBOX": str(small_sources / "commune_inbox"),
           "TCD_DISTRICT_DB_DIR": str(small_sources / "district_db"),
           "TCD_RECIPIENTS_FILE": str(home / "no-recipients.yaml")}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        (home / "no-recipients.yaml").write_text("recipients: []\n", encoding="utf-8")
        tasks.prepare_warehouse()
        eng = db.engine(connections.warehouse_url(settings.get()))
        tasks.ingest_commune_registers()
        for code in tasks.list_district_codes():
            tasks.ingest_district(code)
        city_service.ingest(eng, settings.get(), base_url=url, token=token)
        for kind in ("commune_register", "district_db", "city_service"):
            tasks.consolidate(kind)
        with eng.connect() as conn:
            codes = {r[0] for r in conn.exec_driver_sql(
                "SELECT DISTINCT unit_code FROM fact_reception UNION SELECT DISTINCT unit_code FROM fact_petition")}
        units = sorted(codes | {NO_DATA_DISTRICT})
        results = {}
        for key in PERIODS:
            period = reporting.resolve_periods(key)[0]
            dq.assess(period, run_id="run-1")
            results[key] = [reporting.build_reports(period, level, run_id="run-1", units=units)
                            for level in reporting.LEVELS]
        summary = reporting.build_summary(reporting.summary_range(*SUMMARY_RANGE), run_id="run-1")
        yield {"home": home, "eng": eng, "units": units, "results": results, "summary": summary,
               "reports": home / "reports"}


def _manifest(ctx, key):
    from reports import publish

    return publish.load_manifest(key, ctx["reports"])


def _read_table(path: Path, values_by_sheet: dict | None = None):
    """(labels, {MS: values}) of the form sheet (the first sheet) of a workbook, from
    `values_by_sheet` (as LibreOffice saved it) or from the file itself."""
    if values_by_sheet is None:
        wb = openpyxl.load_workbook(path, data_only=True)
        rows = [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    else:
        rows = next(iter(values_by_sheet.values()))
    ms_at = next(i for i, r in enumerate(rows) if r and r[0] == "MS")
    cols = {j: int(str(v).split("=")[0]) for j, v in enumerate(rows[ms_at]) if j and v not in (None, "")
            and str(v).split("=")[0].strip().isdigit()}
    body = []
    for r in rows[ms_at + 1:]:
        if r and r[0] not in (None, ""):
            body.append(r)
            if r[0] == "Tổng cộng":          # under it: the Ghi chú line and the guide (TT 06/2025)
                break
    labels = [r[0] for r in body]
    return labels, {ms: [r[j] if j < len(r) else None for r in body] for j, ms in cols.items()}


def test_every_form_for_every_scope_is_issued(report_set):
    from core import periods
    from pipeline import reporting
    from reports import levels
    from warehouse import units as wu

    for key in PERIODS:
        p = periods.parse(key)
        forms = reporting.configured_forms(p)
        expected = {(s.level, s.unit_key, s.kind) for s in levels.report_scopes(p, wu.unit_frame(settings.get()))
                    if s.unit_code in report_set["units"] and s.kind in ("own", "consolidated")}
        issued = sum(r["issued"] for r in report_set["results"][key])
        assert issued == len(expected) * len(forms)
        assert all(not r["withheld"] for r in report_set["results"][key])
        m = _manifest(report_set, key)
        latest = m.latest()
        assert len(latest) == len(expected) * len(forms)
        versions = {(e.form, e.form_version) for e in latest}
        if key == "2025-Q4":
            # The first window on Thông tư 06/2025: its six forms, tagged in names and manifest.
            assert forms == ["01/TCD", "02/XLD", "03/GQKN", "04/GQTC", "05/KQTH", "06/QLKNTC"]
            assert versions == {(f, "TT06_2025") for f in forms}
            assert all(e.regime == "TT06_2025" and e.circular == "Thông tư 06/2025/TT-TTCP"
                       and Path(e.path).name.startswith("TT06-2025_") for e in latest)
        else:
            # The XLD forms of 2025-Q2/Q3 are the TT 01/2024 versions; 01/TCD stays TT 02/2021.
            assert ("01/XLD", "TT01_2024") in versions and ("01/TCD", "TT02_2021") in versions
            assert not any(e.form == "01/XLD" and e.form_version == "TT02_2021" for e in latest)
            assert all(e.regime == "TT01_2024" and not Path(e.path).name.startswith("TT") for e in latest)
        assert all(e.issue_kind == "official" for e in latest)     # long past the units' deadline
        for e in latest:
            path = e.absolute_path(report_set["reports"])
            assert path.exists() and path.with_name(path.stem + ".nguon.csv").exists()
    # 2025-Q3 spans the reform: district 001 reports until 30/06/2025, its old communes
    # and their 2025 successors each have their own folder.
    # 00004 was Phường Trúc Bạch until 30/06/2025 and is Phường Ba Đình from 01/07/2025.
    folders = {p.name for p in (report_set["reports"] / "2025-Q3" / "xa").iterdir()}
    assert {"00004", "00004" + reporting.PRE_REFORM_SUFFIX} <= folders


def test_a_unit_that_sent_nothing_is_shown_as_not_reported(report_set):
    m = _manifest(report_set, "2025-Q3")
    entry = next(e for e in m.latest() if e.form == "01/TCD" and e.unit_code == NO_DATA_DISTRICT
                 and e.view == "own")
    labels, cols = _read_table(entry.absolute_path(report_set["reports"]))
    wb = openpyxl.load_workbook(entry.absolute_path(report_set["reports"]))
    text = " ".join(str(v) for r in wb.worksheets[0].iter_rows(values_only=True) for v in r if v)
    assert "Chưa báo cáo" in text
    assert all(cols[ms][0] is None for ms in cols if ms != max(cols))   # empty, never 0


def test_every_workbook_opens_in_libreoffice_and_reads_back_the_warehouse_figures(report_set, tmp_path):
    from core import periods
    from pipeline import reporting
    from reports import levels, libreoffice
    from reports.formdef import check_identities
    from warehouse import units as wu

    books = sorted(p for p in report_set["reports"].rglob("*.xlsx") if ".staging" not in p.parts)
    assert len(books) > 100
    dq_books = sorted((report_set["home"] / "dq").rglob("*.xlsx"))      # the auditors' workbooks
    assert len(dq_books) >= len(PERIODS)
    pdfs = libreoffice.convert(books + dq_books, "pdf", tmp_path / "pdf", settings.get().env.soffice)
    assert len(pdfs) == len(books) + len(dq_books)
    assert all(p.read_bytes()[:5] == b"%PDF-" for p in pdfs.values())
    resaved = libreoffice.convert(books, "xlsx", tmp_path / "lo", settings.get().env.soffice)

    eng = report_set["eng"]
    checked = 0
    for key in PERIODS:
        p = periods.parse(key)
        inputs = reporting.report_inputs(eng, p)
        scopes = {(s.level, s.unit_key, s.kind): s for s in levels.report_scopes(p, wu.unit_frame(settings.get()))}
        reused = reporting._reused_codes(scopes.values())
        for e in _manifest(report_set, key).latest():
            scope = next(s for s in scopes.values() if s.level == e.level
                         and reporting._unit_folder(s, reused) == e.unit_code and reporting._view(s) == e.view)
            prep = reporting.prepare(eng, inputs, e.form, scope)
            fresh = levels.scope_report(e.form, scope, p, prep.records, inputs.units, tmp_path / "fresh.xlsx",
                                        form=prep.form, row_status=prep.status, rows=prep.rows,
                                        source_frames=prep.sources)
            lo = openpyxl.load_workbook(resaved[e.absolute_path(report_set["reports"]).resolve()], data_only=True)
            labels, cols = _read_table(None, {"s": [tuple(r) for r in lo.worksheets[0].iter_rows(values_only=True)]})
            table = fresh.table
            assert len(labels) == len(table), (e.path, labels)
            read = {ms: cols[ms] for ms in prep.form.number_columns}
            for ms in prep.form.number_columns:
                want = [None if pd.isna(v) else float(v) for v in table[ms]]
                got = [None if v is None else float(v) for v in read[ms]]
                assert got == pytest.approx(want), (e.path, ms)
            as_read = table.copy()
            for ms in prep.form.number_columns:
                as_read[ms] = pd.array([pd.NA if v is None else v for v in read[ms]],
                                       dtype="Float64" if ms in prep.form.decimal_columns else "Int64")
            assert check_identities(prep.form, as_read, prep.status) == [], e.path
            checked += 1
    assert checked == sum(len(_manifest(report_set, k).latest()) for k in PERIODS)


def test_a_second_run_issues_nothing_new(report_set):
    from pipeline import reporting

    before = {e.path: e.sha256 for e in _manifest(report_set, "2025-Q3").files}
    eng = sa.create_engine(f"sqlite:///{report_set['home'] / 'wh.sqlite'}")
    recorded = sa.select(rpt_report.c.path, rpt_report.c.run_id, rpt_report.c.sha256)
    with eng.connect() as conn:
        rows_before = conn.execute(recorded).all()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TCD_PATH_REPORTS", str(report_set["reports"]))
        mp.setenv("TCD_WAREHOUSE_URL", f"sqlite:///{report_set['home'] / 'wh.sqlite'}")
        period = reporting.resolve_periods("2025-Q3")[0]
        out = reporting.build_reports(period, "tinh", run_id="run-2", units=report_set["units"])
    assert out["issued"] > 0 and out["new_versions"] == 0
    after = {e.path: e.sha256 for e in _manifest(report_set, "2025-Q3").files}
    assert after == before
    # The warehouse's record of each report updated in place (the run that last
    # issued it), not added again.
    with eng.connect() as conn:
        rows_after = conn.execute(recorded).all()
    eng.dispose()
    assert len(rows_after) == len(rows_before)
    again = {r.path for r in rows_after if r.run_id == "run-2"}
    assert len(again) == out["issued"]
    assert {(r.path, r.sha256) for r in rows_after} == {(r.path, r.sha256) for r in rows_before}


def test_carried_over_equals_the_previous_periods_unprocessed(report_set):
    """01/XLD (TT 01/2024): col 2 "kỳ trước chuyển sang" of Q3 = col 5 "chưa xử lý
    (chuyển kỳ sau)" of Q2, on every row of the city's consolidated report."""
    def city_xld(key):
        e = next(e for e in _manifest(report_set, key).latest()
                 if e.form == "01/XLD" and e.level == "tinh" and e.view == "as_recorded")
        return _read_table(e.absolute_path(report_set["reports"]))

    q2_labels, q2 = city_xld("2025-Q2")
    q3_labels, q3 = city_xld("2025-Q3")
    total_q2, total_q3 = q2[5][-1], q3[2][-1]
    assert total_q2 and total_q2 > 0          # the data holds petitions pending at the cut-off
    assert total_q3 == total_q2
    # Row by row where the unit exists in both windows (Q3 adds the 2025 communes).
    q2_rows = dict(zip(q2_labels, q2[5]))
    for label, carried in zip(q3_labels, q3[2]):
        if label in q2_rows and "Tổng" not in str(label):
            assert (carried or 0) == (q2_rows[label] or 0), label


def test_as_recorded_and_remapped_views_have_the_same_city_totals(report_set):
    files = [Path(f) for f in report_set["summary"]["files"]]
    # The range ends on 14/10/2025: the city's 01/TCD over it is on the TT 06/2025 form
    # (a custom range goes by its end date), its file name tagged.
    recorded = next(f for f in files if f.name.startswith("TT06-2025_01-TCD") and "remapped" not in f.name)
    remapped = next(f for f in files if f.name.startswith("TT06-2025_01-TCD") and "remapped" in f.name)
    _, a = _read_table(recorded)
    labels_b, b = _read_table(remapped)
    assert {ms: a[ms][-1] for ms in a if ms < 30} == {ms: b[ms][-1] for ms in b if ms < 30}
    assert a[1][-1] > 0
    assert any("Cấp huyện" in str(label) for label in labels_b)
    summary = next(f for f in files if "01-TCD" not in f.name)
    wb = openpyxl.load_workbook(summary)
    assert "Nhận định" in wb.sheetnames
    assert sum(len(ws._charts) for ws in wb.worksheets) >= 2


def test_vuot_cap_detector_finds_exactly_the_planted_receptions(report_set, small_sources):
    """The generator planted citizens who went to the district or the city while their
    case was still open at their commune (gt_skipped_level); the summary's detector,
    reading only the warehouse, finds exactly those receptions."""
    import datetime as dt
    import sqlite3

    from reports import summary

    gt = sqlite3.connect(small_sources / "ground_truth.sqlite")
    planted = {r[0] for r in gt.execute(
        "SELECT record_id FROM gt_skipped_level WHERE record_type = 'reception'")}
    gt.close()
    assert planted, "the small set holds planted vượt cấp receptions"
    data = summary.summary_frames(report_set["eng"], dt.date(2021, 7, 1), dt.date(2025, 10, 31), wh_units.unit_frame(settings.get()))
    found = summary.skipped_levels(data.receptions, summary.lower_cases(data.cases, data.petitions,
                                                                        data.receptions), data.units)
    with report_set["eng"].connect() as conn:
        ids = dict(conn.exec_driver_sql("SELECT reception_key, record_id FROM fact_reception").all())
    assert {ids[k] for k in found["reception_key"]} == planted


def test_preliminary_then_official_issue(report_set, tmp_path):
    """Năm 2025 (TT 06/2025): a preliminary issue (before the units' deadline) says so on
    the form and reaches only recipients who check preliminary issues; the official
    issue after the deadline is a new version without the mark, for the province's
    recipients (issue 11 §6)."""
    from core import regimes
    from delivery import mail as delivery
    from pipeline import dq, reporting

    recipients = {"recipients": [
        {"name": "Chuyên viên thống kê, Thanh tra", "email": "thongke@example.gov.vn", "units": ["01"],
         "levels": ["tinh"]},
        {"name": "Cán bộ kiểm tra số liệu sơ bộ", "email": "kiemtra@example.gov.vn", "units": ["01"],
         "levels": ["tinh"], "preliminary": True}]}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TCD_PATH_REPORTS", str(report_set["reports"]))
        mp.setenv("TCD_PATH_DATA_QUALITY", str(report_set["home"] / "dq"))
        mp.setenv("TCD_WAREHOUSE_URL", f"sqlite:///{report_set['home'] / 'wh.sqlite'}")
        period = reporting.resolve_periods("2025-Y")[0]
        p = dq.period_from_dict(period)
        assert regimes.regime_for(p, settings.get().regimes).id == "TT06_2025" and regimes.regime_for(p, settings.get().regimes).has_narrative(p)
        dq.assess(period, run_id="run-y")
        pre = reporting.build_reports(period, "tinh", run_id="run-pre", units=["01"], issue_kind="preliminary")
        assert pre["issue_kind"] == "preliminary" and pre["issued"] == 6 * 2 and not pre["withheld"]
        m = _manifest(report_set, "2025-Y")
        assert {e.issue_kind for e in m.latest()} == {"preliminary"}
        book = next(e for e in m.latest() if e.form == "01/TCD" and e.view == "as_recorded")
        path = book.absolute_path(report_set["reports"])
        assert path.name == "TT06-2025_01-TCD_01_20241215-20251214.xlsx"
        text = [str(c) for r in openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True)
                for c in r if c]
        assert any(t.startswith("BẢN SƠ BỘ") and "17/12/2025" in t for t in text)
        sent = {r["email"]: r for r in delivery.deliver("2025-Y", settings.get(), recipients=recipients,
                                                       root=report_set["reports"], dry_run=True)}
        assert sent["thongke@example.gov.vn"]["status"] == "no_reports"
        assert len(sent["kiemtra@example.gov.vn"]["files"]) == 12

        off = reporting.build_reports(period, "tinh", run_id="run-off", units=["01"], issue_kind="official")
        assert off["issue_kind"] == "official" and off["new_versions"] == 12
        m = _manifest(report_set, "2025-Y")
        latest = m.latest()
        assert {(e.issue_kind, e.version) for e in latest} == {("official", 2)}
        book = next(e for e in latest if e.form == "01/TCD" and e.view == "as_recorded")
        path = book.absolute_path(report_set["reports"])
        assert path.name == "TT06-2025_01-TCD_01_20241215-20251214_v2.xlsx"
        text = [str(c) for r in openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True)
                for c in r if c]
        assert not any("SƠ BỘ" in t for t in text)
        sent = {r["email"]: r for r in delivery.deliver("2025-Y", settings.get(), recipients=recipients,
                                                       root=report_set["reports"], dry_run=True)}
        assert sorted(f["version"] for f in sent["thongke@example.gov.vn"]["files"]) == [2] * 12
        subject = delivery.subject_for(m, latest, "[Báo cáo]")
        assert "theo Thông tư 06/2025/TT-TTCP" in subject
        csv_text = (report_set["reports"] / "2025-Y" / "manifest.csv").read_text(encoding="utf-8-sig")
        assert csv_text.splitlines()[0].startswith("period,regime,form,form_version,issue_kind,")


def test_narrative_report_cites_the_issued_tables(report_set, tmp_path):
    """Năm 2025 carries the Mẫu số 02 narrative (TT 06/2025 Điều 4.1): a Word document
    issued beside the forms, every figure it writes equal to the total cell of the issued
    workbook it cites, compared with Năm 2024 (on the TT 01/2024 forms); LibreOffice opens
    it and writes a PDF. A quarter other than Quý I has none."""
    from pipeline import dq, reporting
    from reports import libreoffice

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TCD_PATH_REPORTS", str(report_set["reports"]))
        mp.setenv("TCD_PATH_DATA_QUALITY", str(report_set["home"] / "dq"))
        mp.setenv("TCD_WAREHOUSE_URL", f"sqlite:///{report_set['home'] / 'wh.sqlite'}")
        period = reporting.resolve_periods("2025-Y")[0]
        dq.assess(period, run_id="run-n")
        reporting.build_reports(period, "tinh", run_id="run-n", units=["01"], issue_kind="official")
        out = reporting.build_narratives(period, "tinh", run_id="run-n", units=["01"], issue_kind="official")
        assert out["issued"] == 1 and not out["withheld"]
        q4 = reporting.build_narratives(reporting.resolve_periods("2025-Q4")[0], "tinh", units=["01"])
        assert q4["issued"] == 0 and "no narrative" in q4["skipped"]
    path, figures, totals = _narrative_and_totals(report_set, "2025-Y")
    assert path.name.startswith("TT06-2025_BC-MAU02_01_20241215-20251214") and path.suffix == ".docx"
    checked = 0
    # II.5 cites no printed form but the protection columns of fact_qlkntc: the city's
    # figures are the sums over the units that reported them (NULL: not reported).
    import sqlalchemy as sa

    from reports import mau02
    from warehouse.schema import fact_qlkntc

    with sa.create_engine(f"sqlite:///{report_set['home'] / 'wh.sqlite'}").connect() as conn:
        sums = conn.execute(sa.select(*(sa.func.sum(fact_qlkntc.c[c]) for c in mau02.PROTECTION_FIELDS.values()))
                            .where(fact_qlkntc.c.period_key == "2025-Y")).one()
    protection = {f["ms"]: f["value"] for f in figures if f["form"] == mau02.PROTECTION_CODE}
    assert protection == {ms: (None if v is None else int(v)) for ms, v in zip(mau02.PROTECTION_FIELDS, sums)}
    for f in figures:
        ms = f["ms"]
        if f["value"] is None or not isinstance(ms, int) or f["form"] == mau02.PROTECTION_CODE:
            continue                                    # sums and ratios: checked in tests/test_mau02.py
        assert f["value"] == pytest.approx(totals[f["form"]][ms]), f
        checked += 1
    assert checked >= 40
    compared = [f for f in figures if f.get("same_period_last_year") is not None]
    assert compared, "Năm 2024 (TT 01/2024) gives comparisons where a column has an equivalent"
    pdf = libreoffice.convert([path], "pdf", tmp_path, settings.get().env.soffice)
    assert next(iter(pdf.values())).read_bytes()[:5] == b"%PDF-"


def test_chuyen_de_narrative_over_a_custom_range_on_request(report_set):
    """The annual chuyên đề (TT 06/2025 Điều 5.1: Mẫu số 02 with the six tables, window
    set by the request): a custom range carries the narrative only when asked for
    (`narrative: true` in report_periodic); it is compared with the same range one year
    earlier, and its figures equal the issued tables of that range."""
    from pipeline import dq, reporting

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TCD_PATH_REPORTS", str(report_set["reports"]))
        mp.setenv("TCD_PATH_DATA_QUALITY", str(report_set["home"] / "dq"))
        mp.setenv("TCD_WAREHOUSE_URL", f"sqlite:///{report_set['home'] / 'wh.sqlite'}")
        period = reporting.resolve_periods(None, "2025-01-01", "2025-10-31")[0]
        dq.assess(period, run_id="run-cd")
        reporting.build_reports(period, "tinh", run_id="run-cd", units=["01"], issue_kind="official")
        plain = reporting.build_narratives(period, "tinh", run_id="run-cd", units=["01"], issue_kind="official")
        assert plain["issued"] == 0 and "no narrative" in plain["skipped"]
        out = reporting.build_narratives(period, "tinh", run_id="run-cd", units=["01"], issue_kind="official",
                                         on_request=True)
        assert out["issued"] == 1 and not out["withheld"]
    assert reporting.comparison_periods(dq.period_from_dict(period))["last_year"].key == \
        "2024-01-01..2024-10-31"
    path, figures, totals = _narrative_and_totals(report_set, period["key"])
    assert path.name.startswith("TT06-2025_BC-MAU02_01_20250101-20251031") and path.suffix == ".docx"
    assert "06/QLKNTC" not in totals, "a custom range carries no 06/QLKNTC (filled in per reporting window)"
    cited = [f for f in figures if f["value"] is not None and isinstance(f["ms"], int)]
    assert len(cited) >= 40
    for f in cited:
        assert f["value"] == pytest.approx(totals[f["form"]][f["ms"]]), f
    assert any(f.get("same_period_last_year") is not None for f in figures)


def _narrative_and_totals(report_set, period_key: str):
    """(the issued Mẫu số 02 document, its figure record, {form: {MS: total cell}} of the
    issued as-recorded workbooks of the period)."""
    import json

    from pipeline import reporting

    latest = _manifest(report_set, period_key).latest()
    doc = next(e for e in latest if e.form == reporting.NARRATIVE_FORM)
    path = doc.absolute_path(report_set["reports"])
    figures = json.loads(path.with_name(path.stem + ".so-lieu.json").read_text(encoding="utf-8"))
    figures = figures["figures"] if isinstance(figures, dict) else figures
    totals = {}
    for e in latest:
        if e.form != reporting.NARRATIVE_FORM and e.view == "as_recorded":
            labels, cols = _read_table(e.absolute_path(report_set["reports"]))
            assert labels[-1] == "Tổng cộng"
            totals[e.form] = {ms: values[-1] for ms, values in cols.items()}
    return path, figures, totals
