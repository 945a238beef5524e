"""scripts/compare_outputs.py: two tiny output trees that differ only in what a rerun
changes (run ids, timestamps, batch ids, digests) compare identical; a changed number, a
changed plain date or a missing file does not."""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "compare_outputs.py"
_spec = importlib.util.spec_from_file_location("compare_outputs", SCRIPT)
compare_outputs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_outputs)

REPORT = "reports/2026-Q3/tinh/01/TT06-2025_01-TCD_01_20260615-20260914.xlsx"

# What differs from one run to the next: run id, clock readings, batch ids, digests.
RUNS = {
    1: {"run_id": "manual__2026-12-07T02:31:03.319712+00:00", "made": "2026-12-07T02:31:20",
        "cutoff": "07/12/2026 02:13:49 UTC", "batch": "ulm4fyvfrnbnpkly2giglmhjoq", "sha": "ab" * 32,
        "fetched": dt.datetime(2026, 12, 7, 2, 12, 34), "size": 12164},
    2: {"run_id": "scheduled__2026-12-08T04:00:00+00:00", "made": "2026-12-08T04:01:07",
        "cutoff": "08/12/2026 03:58:02 UTC", "batch": "v4jo4vxw4naz3j73pbrf3rhtj4", "sha": "cd" * 32,
        "fetched": dt.datetime(2026, 12, 8, 3, 57, 1), "size": 12171},
}


def make_tree(root: Path, run: int, *, number: int = 82, date_from: str = "15/06/2026") -> Path:
    r = RUNS[run]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "01-TCD"
    ws.append(["Đơn vị", "Tổng số lượt tiếp"])
    ws.append(["Phường Ba Đình", number])
    ws["B2"].number_format = "#,##0"
    ws["A4"] = "Ghi chú"
    ws.merge_cells("A4:B4")
    info = wb.create_sheet("Thông tin")
    for row in (["Mã lần chạy (run id)", r["run_id"]], ["Thời điểm lập báo cáo", r["made"]],
                ["Thời điểm chốt số liệu", r["cutoff"]], ["Từ ngày", date_from],
                # Where the tree was written: the two trees sit in different folders.
                ["data_docs", str(root / "data_quality" / "data_docs" / "index.html")]):
        info.append(row)
    dq = wb.create_sheet("Chất lượng dữ liệu")
    dq.append(["Mã lô", "Nguồn", "SHA-256", "Thời điểm gửi", "Hạn gửi"])
    dq.append([r["batch"], "city", r["sha"], r["fetched"], dt.datetime(2026, 9, 17, 16, 59, 59)])
    path = root / REPORT
    path.parent.mkdir(parents=True)
    wb.save(path)
    period = path.parent.parent.parent
    (period / "manifest.json").write_text(json.dumps({
        "period": "2026-Q3", "updated_at": r["made"] + "+00:00",
        "files": [{"path": "tinh/01/x.xlsx", "sha256": r["sha"], "size": r["size"], "run_id": r["run_id"],
                   "data_cutoff": r["cutoff"], "version": 1}]}), encoding="utf-8")
    path.with_name(path.stem + ".nguon.csv").write_text(
        f"row_id,batch_id,c1\n00004,{r['batch']},{number}\n", encoding="utf-8-sig")
    return root


def test_a_rerun_is_identical(tmp_path):
    before, after = make_tree(tmp_path / "a", 1), make_tree(tmp_path / "b", 2)
    result = compare_outputs.compare_trees(before, after, jobs=1)
    assert result["identical"], result["files"]
    assert result["summary"]["xlsx"] == {"compared": 1, "identical": 1, "different": 0,
                                         "only_in_before": 0, "only_in_after": 0}
    assert result["summary"]["json"]["compared"] == result["summary"]["csv"]["compared"] == 1
    # Every run-dependent value was seen to differ and was ignored by the rule meant for it.
    assert set(result["ignored_differences"]) == {
        "label: Mã lần chạy (run id)", "label: Thời điểm lập báo cáo", "label: Thời điểm chốt số liệu",
        "label: Thời điểm gửi", "batch id", "SHA-256 digest", "output tree location",
        "key: run_id", "key: updated_at", "key: sha256", "key: size", "key: data_cutoff"}


def test_a_changed_number_is_reported(tmp_path):
    before, after = make_tree(tmp_path / "a", 1), make_tree(tmp_path / "b", 2, number=83)
    result = compare_outputs.compare_trees(before, after, jobs=1)
    assert not result["identical"]
    diffs = [d for f in result["files"] for d in f["differences"]]
    assert [(d["path"], d["sheet"], d["cell"], d["before"], d["after"]) for d in diffs] == [
        (REPORT.removesuffix(".xlsx") + ".nguon.csv", None, "line 2, c1", "82", "83"),
        (REPORT, "01-TCD", "B2", 82, 83)]


def test_plain_dates_and_missing_files_are_differences(tmp_path):
    before = make_tree(tmp_path / "a", 1)
    after = make_tree(tmp_path / "b", 2, date_from="16/06/2026")
    (after / "reports/2026-Q3/manifest.json").unlink()
    result = compare_outputs.compare_trees(before, after, jobs=1)
    diffs = [d for f in result["files"] for d in f["differences"]]
    assert [(d["sheet"], d["cell"], d["before"], d["after"]) for d in diffs] == [
        ("Thông tin", "B4", "15/06/2026", "16/06/2026")]
    assert result["only_in_before"] == ["reports/2026-Q3/manifest.json"]


@pytest.mark.integration          # the script run as a program (a subprocess)
@pytest.mark.parametrize(("number", "exit_code"), [(82, 0), (83, 1)])
def test_exit_code(tmp_path, number, exit_code):
    before, after = make_tree(tmp_path / "a", 1), make_tree(tmp_path / "b", 2, number=number)
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), str(before), str(after), "--jobs", "1",
                           "--json", str(out)], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == exit_code, proc.stdout + proc.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["identical"] is (exit_code == 0)
    assert ("IDENTICAL" if exit_code == 0 else "01-TCD / B2") in proc.stdout
