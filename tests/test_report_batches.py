"""Reports computed in batches (reports.formdef.compute_many, reports.levels.scope_reports):
the same tables, workbooks and lineage files as each report alone, and one report's
fault withholds only that report. The report sets of the pipeline use this path."""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from test_forms_tt06 import CALENDAR, CASES, FORMS, ROW_OF, ROWS, STATUS, WINDOW, placed
from test_levels import ACROSS, BA_DINH, PROVINCE, all_reported, synthetic
from test_tcd01 import FORM_PATH

from core import settings
from reports import levels as L
from reports.formdef import (
    ReportInput,
    ReportRow,
    RowStatus,
    SourceInput,
    batch_of,
    compute,
    compute_batch,
    compute_many,
    contributions,
    load_form,
    source_contributions,
)
from reports.lineage import lineage_csv_parts, lineage_frame, split_lineage, write_lineage_frame
from warehouse.units import unit_frame


def _subset(form, recs, row_ids, status, unavailable=None):
    """The report of rows `row_ids` of the fixtures (their records, status, calendar)."""
    rows = [r for r in ROWS if r.row_id in row_ids] + [ReportRow("total", "Tổng cộng", "01", "total")]
    mine = recs[recs["row_id"].isin(row_ids)]
    st = {k: v for k, v in status.items() if k in row_ids}
    sources = None
    if form.sources:
        cal = CALENDAR.assign(row_id=CALENDAR["unit_key"].map(ROW_OF))
        sources = {"lich_tiep": SourceInput(cal[cal["row_id"].isin(row_ids)],
                                            {k: v for k, v in (unavailable or {}).items() if k in row_ids})}
    return ReportInput(mine, rows, st, sources)


# Reports of different shapes in one batch: several rows with a row that did not report
# and one short of units, a row alone, the not-reported row alone, a row whose
# calendar does not cover the window (01/TCD columns 10, 16 empty and noted).
SUBSETS = [(["A", "B", "C"], None), (["A"], None), (["C"], None), (["B"], {"B": "chưa gửi lịch tháng 11/2025"}),
           (["A", "B"], {"A": "chưa gửi lịch tháng 10/2025"})]


def _batch_inputs(code):
    """The form `code` of the fixtures and the reports of SUBSETS over its records."""
    file, data, _, _, _ = CASES[code]
    form = load_form(FORMS / file)
    recs = placed(form, data)
    return form, [_subset(form, recs, ids, STATUS, gaps) for ids, gaps in SUBSETS]


@pytest.mark.parametrize("code", sorted(CASES))
def test_batch_tables_equal_each_alone(code):
    form, reports = _batch_inputs(code)
    together = compute_many(form, reports, WINDOW)
    assert len(together) == len(reports)
    for inp, table in zip(reports, together):
        alone = compute(form, inp.records, inp.rows, inp.row_status, period=WINDOW, sources=inp.sources)
        pd.testing.assert_frame_equal(table, alone)
    # The batch did compute something: the first report's total holds records of two rows.
    assert int(together[0].loc["total", 1]) == int(together[1].loc["total", 1]) + int(together[3].loc["total", 1]) \
        if code == "02/XLD" else together[0].loc["total", 1] > together[1].loc["total", 1] > 0


@pytest.mark.parametrize("code", sorted(CASES))
def test_batch_lineage_equals_each_alone(code):
    form, reports = _batch_inputs(code)
    batch = batch_of(form, reports)
    _, union = compute_batch(form, batch, WINDOW, union_table=True)
    contrib = contributions(form, batch.records, batch.data_rows, WINDOW)
    records = batch.records
    if form.sources:
        parts = [(records, contrib), *source_contributions(form, batch.sources, batch.data_rows, WINDOW)]
        records = pd.concat([p[0] for p in parts], ignore_index=True)
        contrib = pd.concat([p[1] for p in parts], ignore_index=True)
    parts = split_lineage(lineage_frame(records, contrib, form, rows=batch.data_rows), len(reports))
    assert len(union) == sum(len(r.rows) - 1 for r in reports) + 1
    for inp, part in zip(reports, parts):
        r = inp.records
        c = contributions(form, r, inp.rows, WINDOW)
        if form.sources:
            alone = [(r, c), *source_contributions(form, inp.sources, inp.rows, WINDOW)]
            r = pd.concat([p[0] for p in alone], ignore_index=True)
            c = pd.concat([p[1] for p in alone], ignore_index=True)
        # What the companion file holds (reports.lineage.write_lineage_frame writes it so).
        assert part.to_csv(index=False) == lineage_frame(r, c, form, rows=inp.rows).to_csv(index=False)
    assert sum(len(p) for p in parts) == len(records) > 0


@pytest.mark.parametrize("broken_line", [False, True])
def test_batch_lineage_files_cut_from_one_csv(tmp_path, broken_line):
    """lineage_csv_parts (one CSV for the batch, cut by report) writes the same bytes as
    each report's part written alone — also when a value spans lines (then each part is
    written alone)."""
    form, reports = _batch_inputs("02/XLD")
    batch = batch_of(form, reports)
    frame = lineage_frame(batch.records, contributions(form, batch.records, batch.data_rows, WINDOW), form,
                          rows=batch.data_rows)
    if broken_line:
        frame.loc[frame.index[0], "source_file"] = "sổ\nhai dòng, có dấu phẩy"
    cut = lineage_csv_parts(frame, len(reports))
    assert len(cut) == len(reports)
    for i, part in enumerate(split_lineage(frame, len(reports))):
        alone = write_lineage_frame(tmp_path / f"alone{i}.csv", part).read_bytes()
        assert write_lineage_frame(tmp_path / f"cut{i}.csv", cut[i]).read_bytes() == alone
    assert b"\n" in cut[0] and cut[0].startswith("\ufeff".encode("utf-8"))


# ------------------------------------------------------------------ scope_reports

@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return unit_frame(settings.get(), "01")


def _items(units, form, p, recs, comp, tmp, name):
    scopes = [L.scope_for(units, PROVINCE, "consolidated"), L.scope_for(units, BA_DINH, "consolidated"),
              L.scope_for(units, "2025:00004", "own"), L.scope_for(units, "2025:00008", "own"),
              L.scope_for(units, "legacy:00004", "own")]
    items = []
    for i, scope in enumerate(scopes):
        rows, placed_recs = L.build_rows(scope, p, recs, units)
        status = L.row_status_for(scope, rows, comp, units, p, records=placed_recs)
        items.append(L.ScopeItem(scope, rows, placed_recs, tmp / f"{name}-{i}.xlsx",
                                 {"generated_at": "2026-01-01T00:00:00"}, status, {"summary": [("Mục", i)]}))
    return items


def test_scope_reports_write_what_each_alone_writes(units, tmp_path):
    form = load_form(FORM_PATH)
    p, recs = ACROSS, synthetic()
    comp = all_reported(units, p, **{"2025_00097": "chua_bao_cao", "legacy_00007": "chua_bao_cao"})
    items = _items(units, form, p, recs, comp, tmp_path, "batch")
    out = L.scope_reports("01/TCD", items, p, units, form=form, lineage=True)
    assert not [o for o in out if isinstance(o, Exception)]
    assert any(o.record_count > 0 for o in out)
    for item, res in zip(items, out):
        alone_path = tmp_path / ("alone-" + item.path.name)
        alone = L.scope_report("01/TCD", item.scope, p, item.records, units, alone_path, item.meta, form=form,
                               row_status=item.row_status, quality=item.quality, lineage=True, rows=item.rows)
        pd.testing.assert_frame_equal(res.table, alone.table)
        assert res.sha256 == alone.sha256
        assert res.lineage_path.read_bytes() == alone.lineage_path.read_bytes()
        assert res.cell_values == alone.cell_values


def test_one_faulty_report_is_withheld_alone(units, tmp_path):
    form = load_form(FORM_PATH)
    p, recs = ACROSS, synthetic()
    comp = all_reported(units, p)
    items = _items(units, form, p, recs, comp, tmp_path, "fault")
    # The district's status says a row that has records did not report: its data and its
    # completeness contradict each other, so that report (only) cannot be computed.
    district = items[1]
    row = next(rid for rid in district.records["row_id"].unique())
    items[1] = dataclasses.replace(district, row_status={**district.row_status, row: RowStatus(False, 1, 1)})
    out = L.scope_reports("01/TCD", items, p, units, form=form, lineage=True)
    assert isinstance(out[1], ValueError) and "not reported have records" in str(out[1])
    assert not [o for i, o in enumerate(out) if i != 1 and isinstance(o, Exception)]
    assert not items[1].path.exists() and all(items[i].path.exists() for i in (0, 2, 3, 4))


def test_lineage_check_names_every_cell_it_cannot_account_for():
    """The check every batch passes before its reports are written (check_contributions
    on the union's table) fires on a changed cell, an emptied cell and a changed total."""
    from reports.formdef import check_contributions

    file, data, _, _, _ = CASES["02/XLD"]
    form = load_form(FORMS / file)
    recs = placed(form, data)
    table = compute(form, recs, ROWS, STATUS, period=WINDOW)
    contrib = contributions(form, recs, ROWS, WINDOW)
    assert check_contributions(form, table, contrib) == []
    bad = table.copy()
    bad[1] = bad[1].astype("Float64")
    bad.loc["A", 1] = bad.loc["A", 1] + 1            # one more than its records
    bad.loc["B", 2] = None                            # emptied though records are behind it
    bad.loc["total", 3] = bad.loc["total", 3] - 1     # a total that is not the rows' sum
    problems = check_contributions(form, bad, contrib)
    assert len(problems) == 3, problems       # A/1, B/2, total/3 (the totals are checked against the records)
    assert "Phường Ba Đình" in problems[0] and "cột 1" in problems[0] and "nguồn cho 14" in problems[0]
    assert "Phường Ngọc Hà" in problems[1] and "cột 2" in problems[1]
    assert "Tổng cộng" in problems[2] and "cột 3" in problems[2] and "nguồn cho 19" in problems[2]
