"""Publishing reports: the folder tree, the manifest (JSON and CSV), versions.

The workbooks are built here with openpyxl in the layout of reports/render.py (form
sheet with an MS row, then "Thông tin" and "Chất lượng dữ liệu"), small on purpose.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import threading
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from core import settings
from core.periods import custom, period
from reports import publish

Q3 = period("Q3", 2025)          # 15/06/2025 – 14/09/2025
CUTOFF = dt.datetime(2025, 9, 14, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=7)))
ROWS = [("Phường Phúc Xá", [5, 3, 2]), ("Phường Trúc Bạch", [4, 1, 3]), ("Quận Ba Đình", [2, 2, 0])]


def write_report_workbook(path: Path, rows=ROWS, *, run_id="run-1", info_extra=()) -> Path:
    """A report workbook: title lines, a header, the MS row, unit rows and the total."""
    wb = Workbook()
    ws = wb.active
    ws.title = "01-TCD"
    ws["D1"] = "Biểu số 01/TCD"
    ws["A3"] = "TỔNG HỢP KẾT QUẢ TIẾP CÔNG DÂN"
    ws["A4"] = Q3.date_line
    ws.append([])
    ws.append(["Đơn vị", "Tổng số lượt", "Trong đó: lần đầu", "Tái diễn"])
    ws.append(["MS", 1, 2, 3])
    for label, values in rows:
        ws.append([label, *values])
    ws.append(["Tổng cộng", *[sum(v[i] for _, v in rows) for i in range(3)]])
    info = wb.create_sheet("Thông tin")
    info.append(["Mã lần chạy (run id)", run_id])
    info.append(["Thời điểm lập báo cáo", dt.datetime.now().isoformat()])
    for item in info_extra:
        info.append(list(item))
    quality = wb.create_sheet("Chất lượng dữ liệu")
    quality.append(["Các lô dữ liệu nguồn", f"batch-{run_id}"])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _issue(root: Path, staged: Path, *, run_id="run-1", unit="001", level="huyen", form="01/TCD",
           view="as_recorded", p=Q3, cutoff=CUTOFF):
    return publish.issue(staged, period=p, level=level, unit_code=unit, form_code=form,
                         form_version="TT02_2021", view=view, run_id=run_id, data_cutoff=cutoff, root=root)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_target_path_layout(tmp_path):
    assert publish.target_path(Q3, "huyen", "001", "01/TCD", tmp_path) == (
        tmp_path / "2025-Q3" / "huyen" / "001" / "01-TCD_001_20250615-20250914.xlsx")
    ad_hoc = custom("2021-07-01", "2025-02-28")
    assert publish.target_path(ad_hoc, "xa", "00004", "01/XLD", tmp_path) == (
        tmp_path / "2021-07-01_2025-02-28" / "xa" / "00004" / "01-XLD_00004_20210701-20250228.xlsx")
    # Another view of the same unit and form must not share the file.
    assert publish.target_path(Q3, "tinh", "01", "01/TCD", tmp_path, view="remapped").name == (
        "01-TCD_01_20250615-20250914_remapped.xlsx")
    assert publish.target_path(Q3, "tong-hop", "01", "TONG-HOP", tmp_path).parent == tmp_path / "2025-Q3" / "tong-hop" / "01"
    assert publish.versioned_path(Path("/x/a_1.xlsx"), 3) == Path("/x/a_1_v3.xlsx")


def test_target_path_under_the_configured_reports_folder(tmp_path, monkeypatch):
    # The task functions pass the configured folder (paths.reports, TCD_PATH_REPORTS) down.
    monkeypatch.setenv("TCD_PATH_REPORTS", str(tmp_path / "published"))
    root = settings.get().path("reports")
    assert publish.target_path(Q3, "tinh", "01", "01/TCD", root).parent == tmp_path / "published" / "2025-Q3" / "tinh" / "01"


@pytest.mark.parametrize("level, unit, form, view", [
    ("quan", "001", "01/TCD", "as_recorded"),      # not a level
    ("huyen", "../001", "01/TCD", "as_recorded"),   # would leave the tree
    ("huyen", "001", "01 TCD", "as_recorded"),
    ("huyen", "001", "01/TCD", "Remapped view"),
])
def test_target_path_refuses_unsafe_parts(tmp_path, level, unit, form, view):
    with pytest.raises(ValueError):
        publish.target_path(Q3, level, unit, form, tmp_path, view=view)


def test_first_issue_moves_file_and_writes_manifest(tmp_path):
    root = tmp_path / "reports"
    staged = write_report_workbook(tmp_path / "staging" / "a.xlsx")
    staged_sha = _sha(staged)
    entry = _issue(root, staged)

    dest = publish.target_path(Q3, "huyen", "001", "01/TCD", root)
    assert dest.is_file() and not staged.exists()
    assert entry.outcome == "issued" and entry.version == 1 and entry.supersedes is None
    assert entry.path == "huyen/001/01-TCD_001_20250615-20250914.xlsx"
    assert entry.sha256 == staged_sha == _sha(dest) and entry.size == dest.stat().st_size

    raw = json.loads((root / "2025-Q3" / "manifest.json").read_text(encoding="utf-8"))
    assert (raw["period"], raw["period_kind"], raw["period_label"]) == ("2025-Q3", "Q3", "Quý III năm 2025")
    assert (raw["date_from"], raw["date_to"]) == ("2025-06-15", "2025-09-14")
    [f] = raw["files"]
    assert {k: f[k] for k in ("form", "form_version", "level", "unit_code", "view", "path", "sha256", "size",
                              "run_id", "data_cutoff", "version", "supersedes", "changes", "changes_total")} == {
        "form": "01/TCD", "form_version": "TT02_2021", "level": "huyen", "unit_code": "001",
        "view": "as_recorded", "path": entry.path, "sha256": staged_sha, "size": dest.stat().st_size,
        "run_id": "run-1", "data_cutoff": "2025-09-14T23:59:00+07:00", "version": 1, "supersedes": None,
        "changes": [], "changes_total": 0}
    assert dt.datetime.fromisoformat(f["issued_at"]).tzinfo is not None
    assert "outcome" not in f

    loaded = publish.load_manifest("2025-Q3", root)
    assert loaded.files == [entry]

    csv_bytes = (root / "2025-Q3" / "manifest.csv").read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbf")       # BOM: Excel reads it as UTF-8
    rows = list(csv.DictReader(csv_bytes.decode("utf-8-sig").splitlines()))
    assert len(rows) == 1
    assert (rows[0]["path"], rows[0]["sha256"], rows[0]["version"], rows[0]["latest"]) == (
        entry.path, staged_sha, "1", "có")


def test_reissue_with_same_values_adds_no_file(tmp_path):
    root = tmp_path / "reports"
    first = _issue(root, write_report_workbook(tmp_path / "s1.xlsx", run_id="run-1"))
    dest = root / "2025-Q3" / first.path
    before = dest.read_bytes()
    # Another run: its metadata sheets differ (run id, generation time, batches), values do not.
    staged = write_report_workbook(tmp_path / "s2.xlsx", run_id="run-2")
    assert _sha(staged) != first.sha256
    again = _issue(root, staged, run_id="run-2", cutoff="2025-09-20")

    assert again.outcome == "reconfirmed" and again.version == 1 and again.path == first.path
    assert not staged.exists()
    assert dest.read_bytes() == before
    assert sorted(p.name for p in (root / "2025-Q3").rglob("*.xlsx")) == [dest.name]
    m = publish.load_manifest("2025-Q3", root)
    assert len(m.files) == 1
    assert [(c["run_id"], c["data_cutoff"]) for c in m.files[0].confirmations] == [("run-2", "2025-09-20")]
    # The same run again (a retried task) is not recorded twice.
    _issue(root, write_report_workbook(tmp_path / "s3.xlsx", run_id="run-2"), run_id="run-2", cutoff="2025-09-20")
    assert len(publish.load_manifest("2025-Q3", root).files[0].confirmations) == 1


def test_late_data_creates_v2_and_keeps_v1(tmp_path):
    root = tmp_path / "reports"
    v1 = _issue(root, write_report_workbook(tmp_path / "s1.xlsx"))
    v1_file = root / "2025-Q3" / v1.path
    v1_bytes = v1_file.read_bytes()

    late = [("Phường Phúc Xá", [5, 3, 2]), ("Phường Trúc Bạch", [6, 3, 3]), ("Quận Ba Đình", [2, 2, 0])]
    v2 = _issue(root, write_report_workbook(tmp_path / "s2.xlsx", late, run_id="run-2"), run_id="run-2",
                cutoff="2025-09-25")

    assert v2.outcome == "issued" and v2.version == 2
    assert v2.path == "huyen/001/01-TCD_001_20250615-20250914_v2.xlsx"
    assert (root / "2025-Q3" / v2.path).is_file()
    assert v1_file.read_bytes() == v1_bytes and _sha(v1_file) == v1.sha256   # v1 untouched, byte for byte
    assert v2.supersedes == v1.path
    changes = {(c["row"], c["column"]): (c["old"], c["new"]) for c in v2.changes}
    assert changes == {("Phường Trúc Bạch", "1"): (4, 6), ("Phường Trúc Bạch", "2"): (1, 3),
                       ("Tổng cộng", "1"): (11, 13), ("Tổng cộng", "2"): (6, 8)}
    assert v2.changes_total == 4
    assert {c["cell"] for c in v2.changes} == {"B9", "C9", "B11", "C11"}

    m = publish.load_manifest("2025-Q3", root)
    assert [(e.version, e.path, e.sha256) for e in m.files] == [(1, v1.path, v1.sha256), (2, v2.path, v2.sha256)]
    assert m.files[0].superseded_by == v2.path
    assert m.latest() == [m.files[1]]
    rows = list(csv.DictReader((root / "2025-Q3" / "manifest.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["version"], r["latest"]) for r in rows] == [("1", "không"), ("2", "có")]
    assert "Phường Trúc Bạch / MS 1: 4 → 6" in rows[1]["changes"]

    # The late data confirmed again: no v3. Back to the v1 numbers: v3 (a new issue).
    assert _issue(root, write_report_workbook(tmp_path / "s3.xlsx", late, run_id="run-3"),
                  run_id="run-3").outcome == "reconfirmed"
    v3 = _issue(root, write_report_workbook(tmp_path / "s4.xlsx", run_id="run-4"), run_id="run-4")
    assert v3.version == 3 and v3.path.endswith("_v3.xlsx") and v3.supersedes == v2.path
    assert len(publish.load_manifest("2025-Q3", root).files) == 3


def test_changes_follow_row_labels_when_a_row_is_added(tmp_path):
    root = tmp_path / "reports"
    _issue(root, write_report_workbook(tmp_path / "s1.xlsx"))
    # A unit row inserted at the top moves every other row down one line.
    more = [("Phường Cống Vị", [1, 1, 0]), *ROWS]
    v2 = _issue(root, write_report_workbook(tmp_path / "s2.xlsx", more, run_id="run-2"), run_id="run-2")
    changes = {(c["row"], c["column"]): (c["old"], c["new"]) for c in v2.changes}
    # Only the new row and the total: the rows that moved down are not "changed"; an
    # empty cell becoming 0 is a change (empty means "not reported", never zero).
    assert changes == {("Phường Cống Vị", "1"): (None, 1), ("Phường Cống Vị", "2"): (None, 1),
                       ("Phường Cống Vị", "3"): (None, 0),
                       ("Tổng cộng", "1"): (11, 12), ("Tổng cộng", "2"): (6, 7)}


def test_changed_cells_are_capped(tmp_path):
    root = tmp_path / "reports"
    many = [(f"Xã {i:03d}", [i, i, 0]) for i in range(40)]
    _issue(root, write_report_workbook(tmp_path / "s1.xlsx", many))
    changed = [(label, [a + 1, b + 1, c + 1]) for label, (a, b, c) in many]
    v2 = _issue(root, write_report_workbook(tmp_path / "s2.xlsx", changed, run_id="run-2"), run_id="run-2")
    assert v2.changes_total == 40 * 3 + 3
    assert len(v2.changes) == publish.MAX_CHANGES
    assert v2.changes[0] == {"sheet": "01-TCD", "cell": "B8", "row": "Xã 000", "column": "1", "old": 0, "new": 1}


def test_metadata_sheets_are_neither_compared_nor_copied_into_the_manifest(tmp_path):
    root = tmp_path / "reports"
    officer = ("Người lập biểu", "Nguyễn Văn Thống Kê")
    _issue(root, write_report_workbook(tmp_path / "s1.xlsx", info_extra=[officer]))
    late = [("Phường Phúc Xá", [9, 3, 6]), *ROWS[1:]]
    _issue(root, write_report_workbook(tmp_path / "s2.xlsx", late, run_id="run-2",
                                       info_extra=[(officer[0], "Trần Thị Khác")]), run_id="run-2")
    text = (root / "2025-Q3" / "manifest.json").read_text(encoding="utf-8")
    text += (root / "2025-Q3" / "manifest.csv").read_text(encoding="utf-8-sig")
    assert "Phường Phúc Xá" in text           # the changed row is named …
    for name in ("Nguyễn Văn Thống Kê", "Trần Thị Khác", "batch-run-2"):
        assert name not in text               # … but nothing from the metadata sheets


def test_views_and_units_are_separate_reports(tmp_path):
    root = tmp_path / "reports"
    a = _issue(root, write_report_workbook(tmp_path / "a.xlsx"), unit="01", level="tinh")
    b = _issue(root, write_report_workbook(tmp_path / "b.xlsx"), unit="01", level="tinh", view="remapped")
    c = _issue(root, write_report_workbook(tmp_path / "c.xlsx"), unit="00004", level="xa")
    assert {a.version, b.version, c.version} == {1}
    assert len({a.path, b.path, c.path}) == 3
    assert len(publish.load_manifest("2025-Q3", root).latest()) == 3


def test_concurrent_issues_all_reach_the_manifest(tmp_path):
    root = tmp_path / "reports"
    staged = [write_report_workbook(tmp_path / f"s{i}.xlsx") for i in range(8)]
    errors: list[BaseException] = []

    def run(i):
        try:
            _issue(root, staged[i], unit=f"{i + 1:05d}", level="xa")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    m = publish.load_manifest("2025-Q3", root)
    assert sorted(e.unit_code for e in m.files) == [f"{i + 1:05d}" for i in range(8)]
    for e in m.files:
        assert _sha(root / "2025-Q3" / e.path) == e.sha256


def test_an_issued_file_cannot_be_issued_over(tmp_path):
    root = tmp_path / "reports"
    e = _issue(root, write_report_workbook(tmp_path / "s1.xlsx"))
    issued = root / "2025-Q3" / e.path
    wb = load_workbook(issued)
    wb["01-TCD"]["B8"] = 99
    wb.save(issued)  # someone wrote the new run straight over the issued file
    with pytest.raises(ValueError, match="staging"):
        _issue(root, issued, run_id="run-2")


def test_custom_period_manifest_and_missing_period(tmp_path):
    root = tmp_path / "reports"
    ad_hoc = custom("2021-07-01", "2025-02-28")
    _issue(root, write_report_workbook(tmp_path / "s.xlsx"), p=ad_hoc, unit="01", level="tinh")
    m = publish.load_manifest("2021-07-01..2025-02-28", root)
    assert (m.period, m.period_kind, m.period_label) == ("2021-07-01..2025-02-28", "custom",
                                                         "Từ 01/07/2021 đến 28/02/2025")
    assert (root / "2021-07-01_2025-02-28" / "manifest.json").is_file()
    with pytest.raises(FileNotFoundError, match="2024-Q1"):
        publish.load_manifest("2024-Q1", root)


def test_same_values_over_a_lost_issued_file_give_a_new_version(tmp_path):
    root = tmp_path / "reports"
    v1 = _issue(root, write_report_workbook(tmp_path / "s1.xlsx"))
    (root / "2025-Q3" / v1.path).unlink()   # the issued file was deleted by mistake
    again = _issue(root, write_report_workbook(tmp_path / "s2.xlsx", run_id="run-2"), run_id="run-2")
    assert again.outcome == "issued" and again.version == 2
    assert (root / "2025-Q3" / again.path).is_file() and again.changes_total == 0


def _staged(path: Path, unit: str, *, values=None) -> publish.Staged:
    return publish.Staged(path, Q3, "xa", unit, "01/TCD", "TT02_2021", run_id="run-1", data_cutoff=CUTOFF,
                          values=values)


def test_issue_many_records_what_issuing_one_by_one_records(tmp_path):
    one, many = tmp_path / "one", tmp_path / "many"
    for i in range(4):
        _issue(one, write_report_workbook(tmp_path / f"a{i}.xlsx"), unit=f"{i + 1:05d}", level="xa")
    staged = [_staged(write_report_workbook(tmp_path / f"b{i}.xlsx"), f"{i + 1:05d}") for i in range(4)]
    entries = publish.issue_many(staged, root=many)
    drop = {"issued_at", "sha256", "size"}     # the workbooks were written at other times
    by_one = [{k: v for k, v in e.to_dict().items() if k not in drop}
              for e in publish.load_manifest("2025-Q3", one).files]
    by_many = [{k: v for k, v in e.to_dict().items() if k not in drop}
               for e in publish.load_manifest("2025-Q3", many).files]
    assert by_many == by_one
    assert [e.outcome for e in entries] == ["issued"] * 4
    # Issued again with the same values, in one batch: re-confirmed, no file added.
    again = [_staged(write_report_workbook(tmp_path / f"c{i}.xlsx", run_id="run-2"), f"{i + 1:05d}")
             for i in range(4)]
    assert [e.outcome for e in publish.issue_many(again, root=many)] == ["reconfirmed"] * 4
    assert len(publish.load_manifest("2025-Q3", many).files) == 4


def test_one_batch_issuing_a_report_twice_makes_two_versions(tmp_path):
    # issue_many looks a report's history up in an index (Manifest.by_key), which must
    # follow the files issued earlier in the same batch.
    first = _staged(write_report_workbook(tmp_path / "a.xlsx"), "00001")
    changed = [("Phường Phúc Xá", [6, 4, 2]), *ROWS[1:]]
    second = _staged(write_report_workbook(tmp_path / "b.xlsx", rows=changed, run_id="run-2"), "00001")
    other = _staged(write_report_workbook(tmp_path / "c.xlsx"), "00002")
    entries = publish.issue_many([first, other, second], root=tmp_path / "r")
    assert [e.version for e in entries] == [1, 1, 2] and entries[2].supersedes == entries[0].path
    m = publish.load_manifest("2025-Q3", tmp_path / "r")
    index = m.by_key()
    assert sorted(index) == sorted({e.key for e in m.files})
    assert all([e.path for e in index[k]] == [e.path for e in m.history(k)] for k in index)
    assert [e.version for e in index[entries[0].key]] == [1, 2]


def test_issue_many_returns_a_files_error_in_its_place(tmp_path):
    root = tmp_path / "reports"
    good = _staged(write_report_workbook(tmp_path / "a.xlsx"), "00001")
    missing = _staged(tmp_path / "never-written.xlsx", "00002")
    entries = publish.issue_many([good, missing], root=root, errors="return")
    assert entries[0].outcome == "issued" and isinstance(entries[1], FileNotFoundError)
    assert [e.unit_code for e in publish.load_manifest("2025-Q3", root).files] == ["00001"]
    with pytest.raises(FileNotFoundError):
        publish.issue_many([missing], root=root)


def test_values_given_by_the_writer_are_those_read_from_the_file(tmp_path):
    path = write_report_workbook(tmp_path / "a.xlsx")
    assert publish.sheet_values(load_workbook(path)) == publish.workbook_values(path)
    root = tmp_path / "reports"
    given = publish.issue_many([_staged(path, "00001", values=publish.workbook_values(path))], root=root)[0]
    read = _issue(tmp_path / "other", write_report_workbook(tmp_path / "b.xlsx"), unit="00001", level="xa")
    assert given.content_sha256 == read.content_sha256
