"""Lineage: the records behind every cell. contributions() reproduces compute() on
every row and column (hand-built and random record sets); the companion CSV and
cell_sources / the CLI account exactly for every cell of a written workbook."""
from __future__ import annotations

import datetime as dt
import io
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_tcd01 import FACT_COLUMNS, FORM_PATH, Q3, RECORDS, ROWS, SPANNING, frame, receptions, units

from core import settings
from core.periods import custom
from reports.formdef import (
    ReportRow,
    RowStatus,
    accounted_values,
    check_contributions,
    compute,
    contribution_column,
    contributions,
    form_from_dict,
    lineage_kind,
    load_form,
    source_columns,
)
from reports.levels import build_rows_for_city, city_report
from reports.lineage import (
    LINEAGE_COLUMNS,
    cell_sources,
    form_of_workbook,
    lineage_path,
    main,
    read_lineage,
    write_lineage,
)
from reports.render import write_xlsx

ROOT = Path(__file__).resolve().parent.parent
UNIT = "UBND Thành phố Hà Nội"
META = {"run_id": "r-lineage", "generated_at": "2026-09-15T01:02:03"}


@pytest.fixture(scope="module")
def form():
    return load_form(FORM_PATH)


def random_records(seed: int, n: int, row_ids: list[str], start: dt.date, days: int) -> pd.DataFrame:
    """Random receptions over `row_ids`: every mode/receiver, groups, shared and missing
    case and sitting keys, ties on dates, lineage columns (and a pseudonym that must
    never reach the lineage file)."""
    rnd = random.Random(seed)
    combos = [("thuong_xuyen", "can_bo")] * 3 + [("dinh_ky", "thu_truong"), ("dot_xuat", "thu_truong"),
                                                ("dinh_ky", "uy_quyen"), ("dot_xuat", "uy_quyen")]
    out = []
    for i in range(n):
        mode, receiver = rnd.choice(combos)
        people = rnd.choice([1, 1, 1, 2, 3, 5, 6, 9])
        row = rnd.choice(row_ids)
        out.append({
            "reception_key": f"r{seed}-{i:04d}", "unit_code": row.split(":")[-1], "unit_key": row,
            "received_date": start + dt.timedelta(days=rnd.randrange(days)),
            "mode": mode, "receiver": receiver,
            "sitting_key": None if mode == "thuong_xuyen" or rnd.random() < 0.2 else f"S{rnd.randrange(6)}",
            "people": people, "is_group": people >= 5, "petition_kind": rnd.choice(["KN", "TC", "KNPA"]),
            "case_key": None if rnd.random() < 0.15 else f"K{rnd.randrange(25)}",
            "visit": rnd.choice(["lan_dau", "nhieu_lan", None]),
            "citizen_pseudonym": f"PSEUDO{seed}x{i}", "source_kind": rnd.choice(["commune_register", "city_service"]),
            "source_name": f"nguồn {row}", "record_id": f"id-{i}", "raw_id": 1000 * seed + i,
            "batch_id": f"B{rnd.randrange(3)}", "source_file": f"sổ_{row.replace(':', '_')}.xlsx",
            "source_row": 2 + i,
        })
    return pd.DataFrame(out, columns=FACT_COLUMNS + ["source_file", "source_row"])


def assert_accounts(form, records, rows):
    """contributions reproduce compute exactly, on every row and column, total included."""
    table = compute(form, records, rows)
    contrib = contributions(form, records, rows)
    assert contrib.index.equals(records.index)
    assert list(contrib["row_id"]) == list(records["row_id"].astype(str))
    expected_cols = ["row_id"] + [contribution_column(ms) for ms in form.number_columns
                                  if "sum_of" not in form.column(ms).compute]
    assert list(contrib.columns) == expected_cols
    data_ids = [r.row_id for r in rows if r.kind != "total"]
    g = contrib.groupby("row_id")
    for ms in form.number_columns:
        kind = lineage_kind(form, ms)
        if kind == "sum_of":   # checked through accounted_values below
            assert all(lineage_kind(form, p) != "sum_of" for p in source_columns(form, ms))
            continue
        c = contribution_column(ms)
        per_row = (g[c].sum() if kind == "additive" else g[c].nunique()).reindex(data_ids, fill_value=0)
        for rid in data_ids:
            assert per_row[rid] == table.loc[rid, ms], (rid, ms)
        assert per_row.sum() == table.loc["total", ms], ("total", ms)
    acc = accounted_values(form, contrib, data_ids)
    for ms in form.number_columns:                      # sum_of columns too
        for rid in data_ids:
            assert acc.at[rid, ms] == table.loc[rid, ms], (rid, ms)
        assert acc[ms].sum() == table.loc["total", ms]
    assert check_contributions(form, table, contrib) == []
    return table, contrib


# ------------------------------------------------------------------ contributions

def test_contributions_of_the_hand_built_records(form):
    table, contrib = assert_accounts(form, receptions(), ROWS)
    # What a record contributes, by hand: a04 is a đoàn, its case C2 counted as a repeat
    # (the earliest đoàn record a03 is nhieu_lan); a12 has no sitting: its own sitting.
    a04 = contrib[receptions()["reception_key"].eq("a04")].iloc[0]
    assert (a04["c4"], a04["c5"], a04["c8"], a04["c9"], a04["c11"]) == (1, 5, 1, 5, "C2")
    assert pd.isna(a04["c6"]) and a04["c7"] == "C2" and pd.isna(a04["c10"])
    a12 = contrib[receptions()["reception_key"].eq("a12")].iloc[0]
    assert a12["c12"] == "(không mã) a12" and a12["c13"] == 1 and a12["c15"] == "C5" and a12["c4"] == 0


def test_contributions_across_the_reform(form):
    rows, recs = build_rows_for_city("01", custom(dt.date(2025, 6, 1), dt.date(2025, 7, 31)),
                                     frame(SPANNING), units())
    assert_accounts(form, recs, rows)


@pytest.mark.parametrize("seed", range(12))
def test_contributions_of_random_records(form, seed):
    rows = [ReportRow(f"U{i}", f"Đơn vị {i}", f"{i:05d}") for i in range(5)]
    rows += [ReportRow("CITY", "UBND Thành phố", "01", "own"), ReportRow("total", "Tổng cộng", "01", "total")]
    recs = random_records(seed, 40 + 15 * seed, [r.row_id for r in rows[:-1]], dt.date(2026, 7, 1), 20)
    recs["row_id"] = recs["unit_key"]
    # An index that is neither positional nor unique-looking in order: it is preserved.
    recs.index = [f"i{(7 * k) % len(recs)}-{k}" for k in range(len(recs))]
    assert_accounts(form, recs.sample(frac=1, random_state=seed), rows)


def test_contributions_of_generic_measures():
    """A form using `nulls: ignore`, an unfiltered sum and a nested sum_of."""
    f = form_from_dict({"form": "X", "version": "v", "title": "T", "header": [
        {"ms": 1, "text": "a", "compute": {"measure": "count_distinct", "column": "sitting_key"}},
        {"ms": 2, "text": "b", "compute": {"measure": "sum", "column": "people"}},
        {"ms": 3, "text": "c", "compute": {"sum_of": [1, 2]}},
        {"ms": 4, "text": "d", "compute": {"sum_of": [3, 2]}},
        {"ms": 5, "text": "n", "compute": {"measure": "note"}}]})
    assert source_columns(f, 4) == [1, 2, 2]
    rows = [ReportRow("A", "A", "1"), ReportRow("B", "B", "2")]
    recs = random_records(99, 60, ["A", "B"], dt.date(2026, 7, 1), 5).assign(row_id=lambda d: d["unit_key"])
    table, contrib = assert_accounts(f, recs, rows)
    assert list(contrib.columns) == ["row_id", "c1", "c2"]
    assert not contrib["c1"].astype(str).str.startswith("(không mã)").any()   # nulls ignored


def test_contributions_refuse_unplaced_records(form):
    df = receptions()
    df.loc[0, "row_id"] = "elsewhere"
    with pytest.raises(ValueError, match="belong to no report row"):
        contributions(form, df, ROWS)


# ------------------------------------------------------------------ the companion file

@pytest.fixture(scope="module")
def written(form, tmp_path_factory):
    """A workbook of random records (rows A, B, CITY as in the 01/TCD tests) with its
    lineage file."""
    recs = random_records(3, 160, ["A", "B", "CITY"], Q3.start, 60)
    recs["row_id"] = recs["unit_key"]
    out = tmp_path_factory.mktemp("lineage") / "01-TCD_01_test.xlsx"
    table = compute(form, recs, ROWS)
    write_xlsx(form, table, ROWS, Q3, UNIT, out, META)
    contrib = contributions(form, recs, ROWS)
    csv = write_lineage(out, recs, contrib, form, rows=ROWS)
    return out, csv, table, recs, contrib


def test_lineage_file(written, form):
    out, csv, table, recs, contrib = written
    assert csv == lineage_path(out) == out.with_name("01-TCD_01_test.nguon.csv")
    raw = csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                               # UTF-8 BOM for Excel
    text = raw.decode("utf-8-sig")
    assert "citizen_pseudonym" not in text and "PSEUDO" not in text      # no personal data
    lin = read_lineage(csv)
    contrib_cols = [contribution_column(ms) for ms in form.number_columns if lineage_kind(form, ms) != "sum_of"]
    assert list(lin.columns) == ["row_id", "row_unit_code", "row_label", *LINEAGE_COLUMNS[1:], *contrib_cols]
    assert len(lin) == len(recs)
    # Ordered by row, then raw id.
    key = list(zip(lin["row_id"], lin["raw_id"].astype(int)))
    assert key == sorted(key)
    assert set(lin["row_label"]) == {"Phường Ba Đình", "Phường Ngọc Hà", "UBND Thành phố Hà Nội (cấp thành phố)"}
    first = lin.iloc[0]
    assert first["source_file"].startswith("sổ_") and first["source_row"].isdigit()
    # Input order does not change a byte.
    again = write_lineage(out.with_name("again.xlsx"), recs.sample(frac=1, random_state=1),
                          contrib.sample(frac=1, random_state=1), form, rows=ROWS)
    assert again.read_bytes() == raw


def test_every_cell_is_accounted_for(written, form):
    out, csv, table, recs, contrib = written
    for rid in table.index:
        row = "total" if rid == "total" else rid
        for ms in form.number_columns:
            # The form is found from the workbook beside the file (once per row here).
            src = cell_sources(csv, row, ms, form=form_of_workbook(out, settings.get().home) if ms == 1 else form)
            assert src.attrs["accounted"] == table.loc[rid, ms], (rid, ms)
            assert "contributes" in src.columns and "citizen_pseudonym" not in src.columns
            if lineage_kind(form, ms) == "additive":
                assert (pd.to_numeric(src["contributes"]) != 0).all()
                assert pd.to_numeric(src["contributes"]).sum() == table.loc[rid, ms]
    # Other ways to name a row: unit code, label, "Tổng cộng".
    assert cell_sources(csv, "00004", 4, form=form).attrs["accounted"] == table.loc["A", 4]
    assert cell_sources(csv, "Phường Ngọc Hà", 5, form=form).attrs["accounted"] == table.loc["B", 5]
    assert cell_sources(csv, "Tổng cộng", 3, form=form).attrs["accounted"] == table.loc["total", 3]
    with pytest.raises(LookupError):
        cell_sources(csv, "99999", 4, form=form)


def test_sum_of_cells_list_the_union(written, form):
    out, csv, table, recs, contrib = written
    src1 = cell_sources(csv, "A", 1, form=form)       # 1 = 4 + 13 + 22: every record of A
    assert src1.attrs["records"] == int((recs["row_id"] == "A").sum())
    assert src1.attrs["accounted"] == table.loc["A", 1]
    assert set(pd.to_numeric(src1["contributes"])) == {1}
    src3 = cell_sources(csv, "A", 3, form=form)       # case columns: keys, per column
    assert src3["contributes"].str.match(r"^cột (6|7|15|16|24|25): ").all()


def test_cli(written, form, capsys):
    out, csv, table, recs, contrib = written
    assert main([str(out), "--row", "00004", "--col", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    n = int(table.loc["A", 4])
    assert lines[-1] == f"Ô cột 4, dòng «Phường Ba Đình»: {n} = {n} bản ghi nguồn"
    assert "Loại nguồn" in lines[0] and "Đóng góp" in lines[0]
    assert set(lines[1]) <= {"-", " "}
    assert len(lines) == n + 3                           # header, rule, one line per record, summary

    assert main([str(out), "--row", "total", "--col", "12"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"Ô cột 12, dòng «Tổng cộng»: {table.loc['total', 12]} = ")
    assert "khác nhau (tính riêng từng dòng)" in last

    assert main([str(out), "--row", "Phường Ngọc Hà", "--col", "2", "--csv"]) == 0
    captured = capsys.readouterr()
    got = pd.read_csv(io.StringIO(captured.out))
    assert got["contributes"].sum() == table.loc["B", 2]
    assert captured.err.strip().endswith("bản ghi nguồn)")

    assert main([str(out), "--row", "nowhere", "--col", "4"]) == 2
    assert main([str(out), "--row", "A", "--col", "99"]) == 2
    capsys.readouterr()


def test_cli_exit_code_when_the_sources_do_not_account(written, form, tmp_path, capsys):
    out, csv, table, recs, contrib = written
    broken = tmp_path / out.name
    broken.write_bytes(out.read_bytes())
    lin = read_lineage(csv)
    drop = lin.index[(lin["row_id"] == "A") & (lin["c4"] == "1")][0]
    lin.drop(index=drop).to_csv(lineage_path(broken), index=False, encoding="utf-8-sig")
    assert main([str(broken), "--row", "A", "--col", "4"]) == 1
    assert "≠" in capsys.readouterr().out.strip().splitlines()[-1]
    assert main([str(broken), "--row", "A", "--col", "1"]) == 1       # a sum_of column too
    assert main([str(broken), "--row", "B", "--col", "4"]) == 0       # other rows are untouched


@pytest.mark.integration   # the CLI run as a program
def test_cli_as_a_module(written):
    out, *_ = written
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "reports.lineage", str(out), "--row", "CITY", "--col", "13"],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1].startswith("Ô cột 13, dòng «UBND Thành phố Hà Nội (cấp thành phố)»")


# ------------------------------------------------------------------ city_report(lineage=True)

def test_city_report_writes_lineage(form, tmp_path, capsys):
    # Q3 2026 rows: 2025:00004, 2025:00008 (sends nothing), province:01. No source_file /
    # source_row in the records: written empty.
    recs = frame([r for r in RECORDS if r["unit_key"] != "2025:00008"])
    out = tmp_path / "01-TCD_01_20260615-20260914.xlsx"
    res = city_report("01/TCD", Q3, recs, units(), out, META, province_code=settings.get().province.code, form=form, lineage=True,
                      row_status={"2025:00008": RowStatus(False, 1, 1)})
    assert res.lineage_path == lineage_path(out) and res.lineage_path.exists()
    lin = read_lineage(res.lineage_path)
    assert len(lin) == len(recs) and (lin["source_file"] == "").all() and (lin["source_row"] == "").all()
    assert "citizen_pseudonym" not in lin.columns
    assert set(lin["row_unit_code"]) == {"00004", "01"}
    for row, rid in [("00004", "2025:00004"), ("01", "province:01"), ("total", "total")]:
        for ms in form.number_columns:
            assert main([str(out), "--row", row, "--col", str(ms)]) == 0, (row, ms)
    capsys.readouterr()
    # The row that did not report: no sources, an empty cell.
    assert main([str(out), "--row", "Phường Ngọc Hà", "--col", "4"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == \
        "Ô cột 4, dòng «Phường Ngọc Hà»: trống (chưa báo cáo) = 0 bản ghi nguồn"
    # Without lineage=True nothing is written beside the workbook.
    other = tmp_path / "other" / "r.xlsx"
    assert city_report("01/TCD", Q3, recs, units(), other, META, province_code=settings.get().province.code, form=form).lineage_path is None
    assert sorted(p.name for p in other.parent.iterdir()) == ["r.xlsx"]
