"""Publish report workbooks into the output tree, with a manifest and versions.

Layout (docs/report-set.md §4, docs/delivery.md)::

    <root>/<period folder>/<level>/<unit code>/<form>_<unit>_<YYYYmmdd>-<YYYYmmdd>[_<view>][_vN].xlsx
    <root>/<period folder>/manifest.json     every file issued for the period (and manifest.csv)

- ``<root>`` is ``paths.reports`` of config/pipeline.yaml (``output/reports``; env
  ``TCD_PATH_REPORTS`` / ``TCD_HOME``): the task functions pass it as ``root``;
- the period folder is the period key with ``..`` replaced by ``_`` (``2025-Q3``,
  ``2021-07-01_2025-02-28``);
- ``<level>`` is ``tinh``, ``huyen`` or ``xa`` for the report of one unit,
  ``quoc_gia`` for the national report of a national deployment (unit code ``VN``:
  the national 01/TCD under ``<period folder>/quoc_gia/VN/``), and ``tong-hop`` for summary
  workbooks (several forms or units gathered in one file):
  a summary is not the report of one administrative level, so it gets a folder of
  its own instead of being mistaken for the unit's official report;
- the form code's ``/`` becomes ``-`` (``01/TCD`` → ``01-TCD``);
- ``_<view>`` is added for any view other than ``as_recorded`` (the official series),
  so that e.g. the remapped city view and the as-recorded report of the same unit do
  not share a file name;
- the first issue has no version suffix; later issues with different numbers are
  ``_v2``, ``_v3`` … beside it, and earlier files are never touched.

:func:`issue` is idempotent by (period, level, unit, form, view): re-issuing a workbook
whose values are the same as the latest issue's adds no file — the latest entry records
the run that re-confirmed it. Values are compared cell by cell on every sheet except the
run-specific metadata sheets ("Thông tin", "Chất lượng dữ liệu": run id, cut-off,
batches read), so a re-run that only changes the run id is not a new version, while
late data that changes one number is, and its entry lists the changed cells as (row
label, MS column, old, new).

The manifest holds no personal data: forms, unit codes, levels, paths, checksums, run
ids, and for changed cells the row label (a unit's name) and numbers.

Concurrent issues for one period (mapped Airflow tasks) are serialised by an exclusive
lock on ``<period folder>/.manifest.lock`` (POSIX ``flock``); the manifest is written
atomically (temporary file, then rename). :func:`issue_many` issues the files of one
task together: one lock, one manifest write.
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from core.dates import utc_now_iso
from core.files import atomic_write_bytes, sha256_file
from core.levels import REPORT_LEVELS

log = logging.getLogger(__name__)

SUMMARY_LEVEL = "tong-hop"
SUMMARY_VIEW = "summary"        # also marks a summary workbook, whatever its level
ALL_LEVELS = (*REPORT_LEVELS, SUMMARY_LEVEL)
DEFAULT_VIEW = "as_recorded"
MANIFEST_NAME = "manifest.json"
MANIFEST_CSV_NAME = "manifest.csv"
MANIFEST_SCHEMA = 1
# Sheets whose content is specific to a run (run id, cut-off, batches read, generation
# time); the names are those of reports.render.INFO_SHEET / QUALITY_SHEET. Kept here
# as data so that comparing files needs no import of the renderer.
METADATA_SHEETS = ("Thông tin", "Chất lượng dữ liệu")
MS_LABEL = "MS"              # first cell of the column-number row (formdef ms_label)
MAX_CHANGES = 50             # changed cells kept in the manifest per issue
_LOCK_NAME = ".manifest.lock"

_SAFE_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")
_SAFE_FORM = re.compile(r"^[0-9A-Za-z][0-9A-Za-z/._-]{0,31}$")
VIEW_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


# ------------------------------------------------------------------ paths
def reports_root(root: str | os.PathLike) -> Path:
    """The root of the output tree, `root` (``paths.reports``, TCD_PATH_REPORTS), resolved."""
    return Path(root).resolve()


def period_folder_name(period_key: str) -> str:
    """``2025-Q3`` → ``2025-Q3``; ``2021-07-01..2025-02-28`` → ``2021-07-01_2025-02-28``.
    A folder name is accepted as well and returned unchanged."""
    key = str(period_key).strip()
    if not key or "/" in key or "\\" in key or key.startswith("."):
        raise ValueError(f"not a period key: {period_key!r}")
    return key.replace("..", "_")


def period_dir(period_key: str, root: str | os.PathLike) -> Path:
    return reports_root(root) / period_folder_name(period_key)


def form_slug(form_code: str) -> str:
    """A form code as it appears in file names: ``01/TCD`` → ``01-TCD``."""
    if not _SAFE_FORM.match(str(form_code)):
        raise ValueError(f"form code {form_code!r}: letters, digits and / . _ - only")
    return str(form_code).replace("/", "-")


def _check_parts(level: str, unit_code: str, view: str) -> None:
    if level not in ALL_LEVELS:
        raise ValueError(f"level {level!r}: expected one of {', '.join(ALL_LEVELS)}")
    if not _SAFE_CODE.match(str(unit_code)):
        raise ValueError(f"unit code {unit_code!r}: letters, digits and . _ - only")
    if not VIEW_PATTERN.match(str(view)):
        raise ValueError(f"view {view!r}: lower-case letters, digits and _ only")


ISSUE_KINDS = ("preliminary", "official")
# Workbooks (the forms), and the Word document of the narrative report (Mẫu số 02).
ISSUED_SUFFIXES = (".xlsx", ".docx")


def target_path(period, level: str, unit_code: str, form_code: str, root: str | os.PathLike,
                *, view: str = DEFAULT_VIEW, file_tag: str = "", suffix: str = ".xlsx") -> Path:
    """Where the first issue of a report goes (later issues add ``_vN`` to the stem).

    `period` is a :class:`core.periods.Period`. `view` other than ``as_recorded`` is
    added to the file name (``…_20250914_remapped.xlsx``). `file_tag` is the reporting
    regime's tag (core.regimes), put first so that two forms with the same code in
    two regimes never share a name (``TT06-2025_02-XLD_01_…``).
    """
    _check_parts(level, unit_code, view)
    if file_tag and not _SAFE_CODE.match(file_tag):
        raise ValueError(f"file tag {file_tag!r}: letters, digits and . _ - only")
    name = f"{form_slug(form_code)}_{unit_code}_{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    if file_tag:
        name = f"{file_tag}_{name}"
    if view != DEFAULT_VIEW:
        name += f"_{view}"
    if suffix not in ISSUED_SUFFIXES:
        raise ValueError(f"suffix {suffix!r}: issued files are {', '.join(ISSUED_SUFFIXES)}")
    return period_dir(period.key, root) / level / str(unit_code) / f"{name}{suffix}"


def versioned_path(first: Path, version: int) -> Path:
    """The file of issue `version` of the report whose first issue is `first`."""
    return first if version == 1 else first.with_name(f"{first.stem}_v{version}{first.suffix}")


def staging_dir(root: str | os.PathLike) -> Path:
    """A folder on the same file system as the tree, for workbooks about to be issued
    (so that :func:`issue` moves them with an atomic rename)."""
    path = reports_root(root) / ".staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ------------------------------------------------------------------ manifest model
@dataclass
class ManifestEntry:
    """One issued file. `path` is relative to the period folder (POSIX separators)."""

    period: str
    form: str
    form_version: str
    level: str
    unit_code: str
    view: str
    path: str
    sha256: str
    size: int
    content_sha256: str            # hash of the compared cell values (see module doc)
    run_id: str | None
    data_cutoff: str | None
    version: int
    issued_at: str
    supersedes: str | None = None          # path of the previous issue
    superseded_by: str | None = None       # path of the next issue, once there is one
    changes: list[dict[str, Any]] = field(default_factory=list)
    changes_total: int = 0
    confirmations: list[dict[str, Any]] = field(default_factory=list)
    # The reporting regime the form belongs to (core.regimes): form codes are unique
    # only within a regime. None in manifests written before regimes existed.
    regime: str | None = None
    circular: str | None = None
    # "preliminary" (bản sơ bộ: issued before the units' deadline, for units to check;
    # never delivered to the province's recipients) or "official" (bản chính thức).
    issue_kind: str = "official"
    # What the call to issue() did: "issued" (a new file) or "reconfirmed" (same values
    # as the latest issue; no file added). Not stored in the manifest.
    outcome: str = field(default="issued", compare=False)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.period, self.level, self.unit_code, self.form, self.view)

    @property
    def new_version(self) -> bool:
        """Whether the issue() call that returned this entry wrote a new file."""
        return self.outcome == "issued"

    @property
    def is_summary(self) -> bool:
        """A summary workbook: level ``tong-hop``, or a view named ``summary``."""
        return self.level == SUMMARY_LEVEL or self.view == SUMMARY_VIEW

    def absolute_path(self, root: str | os.PathLike) -> Path:
        return period_dir(self.period, root) / self.path

    def to_dict(self) -> dict[str, Any]:
        # Field by field, not dataclasses.asdict: a quarter's manifest lists ~20,000 files
        # and is written after every task (asdict's deep copies were half the write).
        return {f.name: _plain(getattr(self, f.name)) for f in _ENTRY_FIELDS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ManifestEntry:
        names = {f.name for f in dataclasses.fields(cls)} - {"outcome"}
        return cls(**{k: v for k, v in d.items() if k in names})


def _plain(value: Any) -> Any:
    """A field's value as JSON takes it: lists and dicts copied one level down (the
    entries' confirmations and changes are lists of flat dicts)."""
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    if isinstance(value, dict):
        return dict(value)
    return value


_ENTRY_FIELDS = tuple(f for f in dataclasses.fields(ManifestEntry) if f.name != "outcome")


@dataclass
class Manifest:
    """The files issued for one period (``manifest.json``)."""

    period: str
    period_kind: str | None = None
    period_label: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    updated_at: str | None = None
    files: list[ManifestEntry] = field(default_factory=list)

    def history(self, key: tuple[str, str, str, str, str]) -> list[ManifestEntry]:
        """Every issue of one report, oldest first."""
        return sorted((e for e in self.files if e.key == key), key=lambda e: e.version)

    def by_key(self) -> dict[tuple, list[ManifestEntry]]:
        """Every report's issues (:meth:`history` of each key), found in one pass."""
        out: dict[tuple, list[ManifestEntry]] = {}
        for e in self.files:
            out.setdefault(e.key, []).append(e)
        for entries in out.values():
            entries.sort(key=lambda e: e.version)
        return out

    def latest(self) -> list[ManifestEntry]:
        """The latest issue of every report, in manifest order."""
        best: dict[tuple, ManifestEntry] = {}
        for e in self.files:
            if e.key not in best or e.version > best[e.key].version:
                best[e.key] = e
        return [e for e in self.files if best[e.key] is e]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": MANIFEST_SCHEMA, "period": self.period, "period_kind": self.period_kind,
                "period_label": self.period_label, "date_from": self.date_from, "date_to": self.date_to,
                "updated_at": self.updated_at, "files": [e.to_dict() for e in self.files]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Manifest:
        return cls(period=d["period"], period_kind=d.get("period_kind"), period_label=d.get("period_label"),
                   date_from=d.get("date_from"), date_to=d.get("date_to"), updated_at=d.get("updated_at"),
                   files=[ManifestEntry.from_dict(x) for x in d.get("files") or []])


def _read_manifest(folder: Path, period_key: str) -> Manifest:
    path = folder / MANIFEST_NAME
    if not path.exists():
        return Manifest(period=period_key)
    with open(path, encoding="utf-8") as fh:
        return Manifest.from_dict(json.load(fh))


def load_manifest(period_key: str, root: str | os.PathLike) -> Manifest:
    """The manifest of a period (key ``2025-Q3``, ``2021-07-01..2025-02-28`` or its
    folder name). Raises FileNotFoundError when nothing was issued for the period."""
    folder = period_dir(period_key, root)
    if not (folder / MANIFEST_NAME).exists():
        raise FileNotFoundError(f"no reports issued for period {period_key!r}: "
                                f"{folder / MANIFEST_NAME} does not exist")
    return _read_manifest(folder, period_key)


def issued_path(period_key: str, form_code: str, level: str, unit_code: str, view: str = "as_recorded", *,
                root: str | os.PathLike) -> Path:
    """The file of the latest issue of one report (what an officer would take from the
    tree). Raises FileNotFoundError when the report was never issued for the period."""
    manifest = load_manifest(period_key, root)
    for e in manifest.latest():
        if (e.form, e.level, e.unit_code, e.view) == (form_code, level, str(unit_code), view):
            return e.absolute_path(root)
    raise FileNotFoundError(f"{form_code} {level} {unit_code} ({view}) was not issued for {period_key}")


# ------------------------------------------------------------------ file helpers
@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """An exclusive inter-process lock held for the block (POSIX flock)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _move_into_place(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dest)
    except OSError:
        # Another file system (EXDEV): copy beside the destination, then rename there.
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        src.unlink()


def _intact(path: Path, sha256: str) -> bool:
    """Whether an issued file is still there as issued. When it is not (deleted, edited
    by hand), a re-issue with the same values writes a new version instead of vouching
    for a file that no longer exists as recorded."""
    if not path.is_file():
        log.warning("issued file %s is missing: issuing a new version", path)
        return False
    if sha256_file(path) != sha256:
        log.warning("issued file %s was changed after issue (sha256 differs): issuing a new version", path)
        return False
    return True


def _iso(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


# ------------------------------------------------------------------ comparing workbooks
def _normal(value: Any) -> Any:
    """A cell value in a form that compares equal when it reads the same (1 == 1.0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def workbook_values(path: str | os.PathLike, *, skip_sheets=METADATA_SHEETS) -> dict[str, dict[tuple[int, int], Any]]:
    """{sheet: {(row, column): value}} of the non-empty cells of every compared sheet."""
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return sheet_values(wb, skip_sheets=skip_sheets)
    finally:
        wb.close()


def sheet_values(wb, *, skip_sheets=METADATA_SHEETS) -> dict[str, dict[tuple[int, int], Any]]:
    """:func:`workbook_values` of an openpyxl workbook, loaded or still in memory (the
    renderer hands them over with the file, so issuing it need not read it back)."""
    out: dict[str, dict[tuple[int, int], Any]] = {}
    for ws in wb.worksheets:
        if ws.title in skip_sheets:
            continue
        cells: dict[tuple[int, int], Any] = {}
        for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
            for c, v in enumerate(row, start=1):
                if v is not None and v != "":
                    cells[(r, c)] = _normal(v)
        out[ws.title] = cells
    return out


def recorded_values(sheets: Mapping[str, Mapping[tuple[int, int], Any]], *,
                    skip_sheets=METADATA_SHEETS) -> dict[str, dict[tuple[int, int], Any]]:
    """:func:`sheet_values` of a workbook from what its writer recorded while writing it
    (``{sheet: {(row, column): value}}``, each value as a reader reads it back from the
    file; reports.xlsx.XlsxWriterBook.values): the same sheets left out, the same empty
    cells left out, the same normalised values, without reading the file."""
    out: dict[str, dict[tuple[int, int], Any]] = {}
    for title, written in sheets.items():
        if title in skip_sheets:
            continue
        out[title] = {rc: _normal(v) for rc, v in sorted(written.items()) if v is not None and v != ""}
    return out


def content_hash(values: Mapping[str, Mapping[tuple[int, int], Any]]) -> str:
    """sha256 of the compared cell values (sheet order, then row, column)."""
    canon = [[sheet, [[r, c, v] for (r, c), v in sorted(cells.items())]] for sheet, cells in values.items()]
    return hashlib.sha256(json.dumps(canon, ensure_ascii=False, separators=(",", ":"),
                                     default=str).encode("utf-8")).hexdigest()


def _labelled_cells(cells: Mapping[tuple[int, int], Any]) -> dict[tuple, tuple[int, int, str, str]]:
    """Cells keyed so that two issues line up even when rows moved: below the MS row by
    (row label, MS number); above it (titles, headers) by position.
    Value: (row, column, row label, column label)."""
    by_row: dict[int, list[int]] = {}
    for r, c in sorted(cells):
        by_row.setdefault(r, []).append(c)
    ms_row = next((r for r in by_row if str(cells.get((r, 1), "")).strip() == MS_LABEL), None)
    ms = {c: str(cells[(ms_row, c)]) for c in by_row.get(ms_row, [])}
    out: dict[tuple, tuple[int, int, str, str]] = {}
    seen: dict[str, int] = {}
    for r, columns in by_row.items():
        if ms_row is not None and r > ms_row:
            label = str(cells.get((r, 1), f"dòng {r}"))
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label = f"{label} (#{seen[label]})"
            for c in columns:
                if c > 1:
                    col = ms.get(c) or get_column_letter(c)
                    out[("data", label, col)] = (r, c, label, col)
        else:
            for c in columns:
                out[("cell", r, c)] = (r, c, f"dòng {r}", get_column_letter(c))
    return out


def changed_cells(old: Mapping[str, Mapping[tuple[int, int], Any]],
                  new: Mapping[str, Mapping[tuple[int, int], Any]]) -> list[dict[str, Any]]:
    """Every cell whose value differs between two issues, in the new file's order:
    ``{"sheet", "cell", "row", "column", "old", "new"}`` (`row`: the row label, e.g. the
    unit's name or "Tổng cộng"; `column`: the MS number; `cell`: the cell reference in
    the new file, or in the old one for a cell that disappeared)."""
    changes: list[tuple[tuple, dict[str, Any]]] = []
    sheets = list(new) + [s for s in old if s not in new]
    for si, sheet in enumerate(sheets):
        a, b = old.get(sheet, {}), new.get(sheet, {})
        la, lb = _labelled_cells(a), _labelled_cells(b)
        for key in list(lb) + [k for k in la if k not in lb]:
            va = a.get(la[key][:2]) if key in la else None
            vb = b.get(lb[key][:2]) if key in lb else None
            if va == vb:
                continue
            r, c, row_label, col_label = lb.get(key) or la[key]
            order = (si, 0 if key in lb else 1, r, c)
            changes.append((order, {"sheet": sheet, "cell": f"{get_column_letter(c)}{r}", "row": row_label,
                                    "column": col_label, "old": va, "new": vb}))
    return [d for _, d in sorted(changes, key=lambda x: x[0])]


# ------------------------------------------------------------------ issuing
def _write_manifest(folder: Path, manifest: Manifest) -> None:
    manifest.updated_at = utc_now_iso()
    data = json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n"
    atomic_write_bytes(folder / MANIFEST_NAME, data.encode("utf-8"))
    atomic_write_bytes(folder / MANIFEST_CSV_NAME, manifest_csv(manifest).encode("utf-8-sig"))


CSV_COLUMNS = ["period", "regime", "form", "form_version", "issue_kind", "level", "unit_code", "view", "version", "latest", "path",
               "sha256", "size", "run_id", "data_cutoff", "issued_at", "supersedes", "superseded_by",
               "changes_total", "changes", "reconfirmed_by_runs"]


def change_text(ch: Mapping[str, Any]) -> str:
    def show(v):
        return "(trống)" if v is None else str(v)
    return f"{ch.get('row')} / {MS_LABEL} {ch.get('column')}: {show(ch.get('old'))} → {show(ch.get('new'))}"


def manifest_csv(manifest: Manifest, *, changes_shown: int = 10) -> str:
    """The manifest as CSV text (one line per file) for officers who open it in Excel;
    written UTF-8 with BOM so that Excel shows the Vietnamese text."""
    latest = {id(e) for e in manifest.latest()}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for e in manifest.files:
        shown = "; ".join(change_text(ch) for ch in e.changes[:changes_shown])
        if e.changes_total > min(changes_shown, len(e.changes)):
            shown += f"; … ({e.changes_total} ô thay đổi)"
        w.writerow([e.period, e.regime or "", e.form, e.form_version, e.issue_kind, e.level, e.unit_code, e.view, e.version,
                    "có" if id(e) in latest else "không", e.path, e.sha256, e.size, e.run_id or "",
                    e.data_cutoff or "", e.issued_at, e.supersedes or "", e.superseded_by or "", e.changes_total,
                    shown, ", ".join(str(c.get("run_id")) for c in e.confirmations)])
    return buf.getvalue()


@dataclass
class Staged:
    """A freshly written file to issue (the arguments of :func:`issue`, see there)."""

    path: str | os.PathLike
    period: Any
    level: str
    unit_code: str
    form_code: str
    form_version: str
    view: str = DEFAULT_VIEW
    run_id: str | None = None
    data_cutoff: Any = None
    regime: Any = None
    issue_kind: str = "official"
    values: Mapping[str, Mapping[tuple[int, int], Any]] | None = None


def issue(staged_path: str | os.PathLike, *, period, level: str, unit_code: str, form_code: str,
          form_version: str, view: str = DEFAULT_VIEW, run_id: str | None, data_cutoff: Any,
          root: str | os.PathLike, regime=None, issue_kind: str = "official",
          values: Mapping[str, Mapping[tuple[int, int], Any]] | None = None) -> ManifestEntry:
    """Move a freshly written workbook into the tree and record it in the manifest.

    - no earlier issue of (period, level, unit, form, view) → version 1 at
      :func:`target_path`;
    - the latest issue has the same cell values (metadata sheets excluded) and form
      version → no new file: the staged file is removed, the latest entry gets a
      confirmation ``{run_id, data_cutoff, confirmed_at}`` and is returned with
      ``outcome == "reconfirmed"``;
    - otherwise → a new file ``<stem>_vN.xlsx``; earlier files stay as they are; the
      entry lists the changed cells (first :data:`MAX_CHANGES`, and ``changes_total``).

    `period` is a :class:`core.periods.Period`; `data_cutoff` a date, datetime or
    ISO text. `regime` (a core.regimes.Regime) tags the file name and the entry.
    `issue_kind` is "preliminary" or "official"; an official issue after a preliminary
    one is a new version even when no number changed (the workbook no longer says
    "bản sơ bộ"), so the file an officer sends on is never marked preliminary.
    `values`: the workbook's compared cell values (:func:`sheet_values`) when the
    writer has them; else they are read from the file.
    Returns the manifest entry of the file that now stands for the report.
    """
    return issue_many([Staged(staged_path, period, level, unit_code, form_code, form_version, view, run_id,
                              data_cutoff, regime, issue_kind, values)], root=root)[0]  # type: ignore[return-value]


def issue_many(staged: list[Staged], *, root: str | os.PathLike,
               errors: str = "raise") -> list[ManifestEntry | Exception]:
    """:func:`issue` for many files of one period, in order: one lock and one manifest
    write for all of them (a report set issues hundreds of files, and rewriting the
    whole manifest after each one grows with the square of their number).

    `errors="return"`: a file that cannot be issued gets its exception in its place of
    the result, and the others are issued; with "raise" the first error stops the
    rest (the files issued before it stay recorded)."""
    if errors not in ("raise", "return"):
        raise ValueError(f"errors={errors!r}: 'raise' or 'return'")
    if not staged:
        return []
    period = staged[0].period
    if any(s.period.key != period.key for s in staged):
        raise ValueError("issue_many issues the files of one period")
    results: list[Any] = []
    for s in staged:
        try:
            results.append(_prepared(s))
        except Exception as exc:  # reported in its place, or raised (errors)
            if errors == "raise":
                raise
            results.append(exc)
    folder = period_dir(period.key, root)
    with locked(folder / _LOCK_NAME):
        manifest = _read_manifest(folder, period.key)
        manifest.period_kind, manifest.period_label = period.kind, period.label
        manifest.date_from, manifest.date_to = period.start.isoformat(), period.end.isoformat()
        issued_paths = {e.path for e in manifest.files}
        # Each report's history looked up in an index, not by a scan of the manifest
        # per file (a national quarter's lists ~20,000 files).
        histories = manifest.by_key()
        changed = False
        try:
            for i, prep in enumerate(results):
                if isinstance(prep, Exception):
                    continue
                try:
                    results[i], wrote = _issue_locked(manifest, folder, issued_paths, histories, *prep, root)
                except Exception as exc:  # as above
                    if errors == "raise":
                        raise
                    results[i], wrote = exc, False
                changed = changed or wrote
        finally:
            if changed:
                _write_manifest(folder, manifest)
    return results


def _prepared(s: Staged) -> tuple[Staged, Path, Any, str]:
    """(staged, its resolved path, its compared values, their hash), before the lock."""
    path = Path(s.path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"staged workbook {path} does not exist")
    if s.issue_kind not in ISSUE_KINDS:
        raise ValueError(f"issue kind {s.issue_kind!r}: expected one of {', '.join(ISSUE_KINDS)}")
    if path.suffix.lower() == ".xlsx":
        new_values = s.values if s.values is not None else workbook_values(path)
        return s, path, new_values, content_hash(new_values)
    # A document written deterministically (reports.mau02): same content, same bytes.
    return s, path, None, sha256_file(path)


def _issue_locked(manifest: Manifest, folder: Path, issued_paths: set[str], histories: dict, s: Staged,
                  staged: Path, new_values, new_hash: str, root) -> tuple[ManifestEntry, bool]:
    """One file of :func:`issue_many`, the manifest held under its lock: the entry, and
    whether the manifest changed."""
    period, level, unit_code, form_code, view = s.period, s.level, s.unit_code, s.form_code, s.view
    run_id, form_version, issue_kind = s.run_id, s.form_version, s.issue_kind
    first = target_path(period, level, unit_code, form_code, root, view=view,
                        file_tag=s.regime.file_tag if s.regime is not None else "", suffix=staged.suffix.lower())
    cutoff = _iso(s.data_cutoff)
    resolved_folder = folder.resolve()
    if staged.is_relative_to(resolved_folder) and staged.relative_to(resolved_folder).as_posix() in issued_paths:
        raise ValueError(f"{staged} is an issued file; write new workbooks to a staging path "
                         "(reports.publish.staging_dir()), never over an issued one")
    key = (period.key, level, str(unit_code), form_code, view)
    history = histories.get(key, [])
    previous = history[-1] if history else None

    if (previous and previous.content_sha256 == new_hash and previous.form_version == form_version
            and previous.issue_kind == issue_kind and _intact(folder / previous.path, previous.sha256)):
        seen = [(previous.run_id, previous.data_cutoff),
                *((c.get("run_id"), c.get("data_cutoff")) for c in previous.confirmations)]
        wrote = False
        if (run_id, cutoff) not in seen:  # a retried task is not recorded twice
            previous.confirmations.append({"run_id": run_id, "data_cutoff": cutoff,
                                           "confirmed_at": utc_now_iso()})
            wrote = True
        staged.unlink()
        log.info("report %s unchanged since issue %d (%s): re-confirmed by run %s",
                 "/".join(key), previous.version, previous.path, run_id)
        previous.outcome = "reconfirmed"
        return previous, wrote

    version = previous.version + 1 if previous else 1
    dest = versioned_path(first, version)
    if dest.exists() and dest.resolve() != staged:
        # Left by an issue that crashed before its manifest was written: not an
        # issued file (issued ones are never overwritten, see the check above).
        log.warning("replacing %s, which no manifest entry lists", dest)
    changes: list[dict[str, Any]] = []
    if previous is not None and new_values is not None:
        old_file = folder / previous.path
        if old_file.exists():
            changes = changed_cells(workbook_values(old_file), new_values)
        else:
            log.warning("previous issue %s is missing; its changes cannot be listed", old_file)
    if dest.resolve() != staged:
        _move_into_place(staged, dest)
    entry = ManifestEntry(
        period=period.key, form=form_code, form_version=form_version, level=level, unit_code=str(unit_code),
        view=view, path=dest.relative_to(folder).as_posix(), sha256=sha256_file(dest),
        size=dest.stat().st_size, content_sha256=new_hash, run_id=run_id, data_cutoff=cutoff,
        version=version, issued_at=utc_now_iso(), supersedes=previous.path if previous else None,
        changes=changes[:MAX_CHANGES], changes_total=len(changes),
        regime=s.regime.id if s.regime is not None else None,
        circular=s.regime.circular if s.regime is not None else None, issue_kind=issue_kind)
    if previous is not None:
        previous.superseded_by = entry.path
    manifest.files.append(entry)
    histories.setdefault(key, []).append(entry)
    issued_paths.add(entry.path)
    log.info("issued %s (version %d, %d changed cells)", dest, version, len(changes))
    return entry, True
