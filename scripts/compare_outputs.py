#!/usr/bin/env python3
"""Compare two demo output trees: are the reports the same, cell for cell, run ids and
timestamps aside?

    python scripts/compare_outputs.py BEFORE_DIR AFTER_DIR [--json out.json] [--max N] [--jobs J]

BEFORE_DIR and AFTER_DIR are ``output/`` trees written by ``make demo``, e.g. one from
before a refactoring and one from after it. Exit status 0 when they are identical, 1 when
they differ, 2 when a tree holds no report artefacts at all (a wrong path, most likely).

Scope: the report artefacts under ``reports/`` and ``data_quality/``:

* ``.xlsx`` — per workbook the sheet names and their order; per sheet the merged ranges
  and, for every cell holding a value, the value (formulas as written: the workbook is
  loaded with ``data_only=False``), the number format, bold and the fill.
* ``.docx`` (Mẫu 02) — the text of every body paragraph and of every table cell, headers
  and footers included.
* ``.csv`` (``*.nguon.csv`` lineage, ``manifest.csv``) — the header and the data lines,
  field by field; the order of the lines is not compared (rule 5 below).
* ``.json`` (``manifest.json``, ``deliveries.json``, ``*.so-lieu.json``) — parsed and
  compared structurally.

A file of one of these kinds present on one side only is a difference.

Not compared, because they are records of a run rather than reports: ``logs/``, ``pdf/``
(rendered from the workbooks that are compared), ``warehouse/*.sqlite``, ``mailbox/`` (the
e-mails; ``deliveries.json`` says what was sent), ``data_quality/data_docs/`` (the Great
Expectations HTML site), ``data_quality/gx_validations/`` (GX validation results, named by
run id), and files of other kinds (``.*.lock``). Inside a workbook, column widths, borders,
fonts other than bold, conditional formats, data validations, charts and images are not
compared, and neither is the workbook's or document's metadata (docProps).

What is ignored inside the compared files is listed, all in one place, in the numbered
rule tables below (VALUE_PATTERNS, ROW_LABELS, COLUMN_HEADERS, KEYS, the order of CSV
lines, UNORDERED_LISTS). A value an ignore rule catches is replaced by a placeholder on
both sides, so it still has to be present on both sides. Plain dates (dd/mm/yyyy without
a time of day) are never ignored, and numbers only where a label or key names them
(raw_id, a file's size in bytes). The summary counts, per rule, the differing values it
made equal, so a run shows what it hid.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import filecmp
import json
import os
import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import docx
import openpyxl

# ---------------------------------------------------------------------------------------
# WHAT IS IGNORED — the complete list. Each rule replaces the value (or the part of a
# string) it catches by a placeholder before the two sides are compared.
# ---------------------------------------------------------------------------------------

# 1. Substrings masked in every string compared: workbook cell text, CSV fields, JSON
#    strings, document text. Applied in this order (a run id contains an ISO datetime, so
#    it goes first). Every pattern needs a time of day or a random token: a plain date such
#    as 15/12/2025 or 2025-12-15 and any number stay as they are.
VALUE_PATTERNS: list[tuple[str, re.Pattern[str], str]] = [
    # Airflow run ids: manual__2026-12-07T02:31:03.319712+00:00, scheduled__…, and the
    # random suffix Airflow 3 adds to a run without a logical date (…+00:00_Ab3dE5fG).
    ("Airflow run id",
     re.compile(r"\b(?:manual|scheduled|backfill|dataset_triggered|asset_triggered)__"
                r"\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?(?:_[A-Za-z0-9]+)?"), "<RUN_ID>"),
    # ISO datetimes with seconds: issued_at, updated_at, "Thời điểm lập báo cáo", …
    ("ISO datetime",
     re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"),
     "<DATETIME>"),
    # Vietnamese-style datetimes with seconds: the data cut-off "07/12/2026 02:13:49 UTC".
    ("dd/mm/yyyy HH:MM:SS", re.compile(r"\b\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}(?: UTC)?"),
     "<DATETIME>"),
    # Compact timestamps as GX and the DAG logs put them in names: 20261207T021911.589455Z.
    ("compact timestamp", re.compile(r"\b\d{8}T\d{6}(?:\.\d+)?Z?"), "<DATETIME>"),
    # UUIDs (Airflow and GX ids).
    ("UUID", re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
     "<UUID>"),
    # Source batch ids: a random uuid4 in lower-case base32, 26 characters
    # (connectors.raw.new_batch_id). Column "Mã lô", CSV column batch_id.
    ("batch id", re.compile(r"\b[a-z2-7]{26}\b"), "<BATCH_ID>"),
    # The absolute location of an output tree, up to one of its top-level folders: the DQ
    # workbook links its Data Docs site as /work/main/output/data_quality/data_docs/…, and
    # a tree copied elsewhere (cp -r output /tmp/before) still says where it was written.
    ("output tree location",
     re.compile(r"(?<![\w./-])(?:/[^/\s\"'<>|]+)+?(?=/(?:reports|data_quality|pdf|logs|mailbox|warehouse)/)"),
     "<OUTPUT_DIR>"),
    # SHA-256 digests: of source files (their bytes carry write times) and of workbooks
    # (their bytes carry the run id); the content is compared cell by cell instead. The
    # lookahead wants a letter, so that no 64-digit number could ever be taken for one.
    ("SHA-256 digest", re.compile(r"\b(?=[0-9]*[a-f])[0-9a-f]{64}\b"), "<SHA256>"),
]

# The warehouse's surrogate key of a source row: assigned in ingestion order, and the
# district databases are ingested in parallel, so the same record gets another raw_id in
# the next run. The record itself stays identified by source, file, row and record_id.
RAW_ID = "warehouse row id (raw_id), assigned in ingestion order"

# 2. Workbook cells masked whole because of the label in the cell to their LEFT (the
#    "Thông tin" and "Chất lượng dữ liệu" sheets are label | value lists).
ROW_LABELS: dict[str, str] = {
    "Mã lần chạy (run id)": "the Airflow run that wrote the report",
    "Thời điểm chốt số liệu": "data cut-off: when the last source batch was ingested",
    "Thời điểm lập báo cáo": "wall-clock time the workbook was written",
}

# 3. Workbook cells masked whole because a cell ABOVE them in the same column is one of
#    these headers (tables of source batches). Needed for cells typed as datetimes, which
#    the patterns above do not touch: a typed datetime is data (a deadline, a record
#    date) unless its column says it is a reading of the run's clock.
COLUMN_HEADERS: dict[str, str] = {
    "Thời điểm gửi": "raw_batch.delivered_at: a file's mtime, or the time a DB/API pull ran",
    "Thời điểm đọc": "raw_batch.started_at: when the pipeline read the batch",
    "raw_id": RAW_ID,
}

# 4. JSON keys (at any depth) and CSV columns (by header name) whose value is masked
#    whatever its type: the manifest's and the delivery log's run bookkeeping.
KEYS: dict[str, str] = {
    "run_id": "the Airflow run that issued the file",
    "created_at": "wall-clock time", "generated_at": "wall-clock time",
    "updated_at": "wall-clock time", "issued_at": "wall-clock time",
    "confirmed_at": "wall-clock time", "at": "wall-clock time a delivery was sent",
    "data_cutoff": "when the last source batch was ingested",
    "sha256": "digest of the file's bytes, which carry the run id and write times",
    # Equal between reruns in practice (reports.publish hashes the values outside the
    # info sheets), but a digest all the same; those values are compared cell by cell.
    "content_sha256": "digest of the workbook's values (publish.content_hash)",
    "checksum": "digest of a source file's bytes",
    "size": "byte size of a written workbook: its zip compresses the run id and times",
    "raw_id": RAW_ID,
}

# 5. The order of CSV data lines. The lineage files (*.nguon.csv) are sorted by report row,
#    then raw_id (above), so their order within a report row changes with it; manifest.csv
#    lists files in the order they were issued (6). The lines are compared as a multiset:
#    every line must be on both sides, as often.

# 6. The order of these JSON lists of objects, which are matched by "path" (and "version")
#    instead of by position.
UNORDERED_LISTS: dict[str, str] = {
    "files": "manifest.json lists files in the order they were issued, which is the order "
             "the report tasks happened to finish in (reports.publish appends)",
}

# ---------------------------------------------------------------------------------------

KINDS = ("xlsx", "docx", "csv", "json")
SCOPE_DIRS = ("reports", "data_quality")
SKIPPED_DIRS = {("data_quality", "data_docs"), ("data_quality", "gx_validations")}
MAX_DETAILS_PER_FILE = 500   # differences kept per file; the count stays exact
IGNORED = "<IGNORED>"


def scope_description() -> str:
    return ("compared: *.xlsx, *.docx, *.csv, *.json under reports/ and data_quality/; "
            "skipped: logs/, pdf/, warehouse/, mailbox/, data_quality/data_docs/, "
            "data_quality/gx_validations/, other file kinds")


def rules_description() -> dict:
    return {
        "value_patterns": {name: [pat.pattern, repl] for name, pat, repl in VALUE_PATTERNS},
        "row_labels": ROW_LABELS, "column_headers": COLUMN_HEADERS, "keys": KEYS,
        "csv_line_order": "not compared: data lines compared as a multiset",
        "unordered_json_lists": UNORDERED_LISTS,
    }


# --- normalisation ---------------------------------------------------------------------

class Normaliser:
    """Applies VALUE_PATTERNS to strings, with a cache (one per file and side)."""

    # One search for "any pattern" first: most strings (numbers, names) match none.
    _any = re.compile("|".join(f"(?:{pat.pattern})" for _, pat, _ in VALUE_PATTERNS))

    def __init__(self):
        # Lineage files repeat the same batch ids and labels on thousands of lines.
        self._cache: dict[str, tuple[str, tuple[str, ...]]] = {}

    def _normalise(self, s: str) -> tuple[str, tuple[str, ...]]:
        """(masked string, names of the rules that changed it)."""
        hit = self._cache.get(s)
        if hit is None:
            out, fired = s, []
            if self._any.search(out):
                for name, pat, repl in VALUE_PATTERNS:
                    out, n = pat.subn(repl, out)
                    if n:
                        fired.append(name)
            hit = (out, tuple(dict.fromkeys(fired)))
            if len(self._cache) < 1_000_000:
                self._cache[s] = hit
        return hit

    def text(self, s: str) -> str:
        return self._normalise(s)[0]

    def value(self, v):
        return self._normalise(v)[0] if isinstance(v, str) else v

    def rules(self, v) -> tuple[str, ...]:
        return self._normalise(v)[1] if isinstance(v, str) else ()


def _why(x, y, na: Normaliser, nb: Normaliser) -> set[str]:
    """The rules that made differing x and y equal."""
    return set(na.rules(x)) | set(nb.rules(y))


def _show(v) -> str | int | float | bool | None:
    """A value as JSON can hold it, for the report."""
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return repr(v)


class Diffs:
    """Differences of one file: the first MAX_DETAILS_PER_FILE in detail, all counted."""

    def __init__(self, path: str):
        self.path, self.items, self.total = path, [], 0
        # Raw values that differed but were made equal, by rule: what the rules hid.
        self.ignored: Counter[str] = Counter()

    def reconciled(self, rules) -> None:
        for rule in rules or ("?",):
            self.ignored[rule] += 1

    def add(self, what: str, before, after, sheet: str | None = None, cell: str | None = None):
        self.total += 1
        if len(self.items) < MAX_DETAILS_PER_FILE:
            self.items.append({"path": self.path, "sheet": sheet, "cell": cell, "what": what,
                               "before": _show(before), "after": _show(after)})


def _same(x, y) -> bool:
    # bool is an int subclass: True == 1 must still count as a difference.
    return x == y and isinstance(x, bool) == isinstance(y, bool)


# Every comparer below compares the raw values first and normalises only what differs
# (a CSV file as a whole, once its lines differ): equal raw values are equal, and the
# normalisation (regexes over ~200,000-line lineage files) is the expensive part.

# --- xlsx ------------------------------------------------------------------------------

def _sheet_cells(ws) -> dict[str, tuple]:
    """coordinate -> (value, number format, bold, fill, masked) of every cell with a value;
    `masked` names the ROW_LABELS / COLUMN_HEADERS rule that masks the value, if any.
    Rows are walked in order so that a header seen above masks its column below."""
    out: dict[str, tuple] = {}
    masked_cols: dict[int, str] = {}
    for row in ws.iter_rows():
        left = None
        for c in row:
            v = c.value
            if v is not None:
                masked = masked_cols.get(c.column)
                if masked is None and isinstance(left, str) and left.strip() in ROW_LABELS:
                    masked = left.strip()
                fill = c.fill
                fill_sig = (fill.fill_type, getattr(fill.fgColor, "type", None),
                            getattr(fill.fgColor, "value", None)) if fill.fill_type else None
                out[c.coordinate] = (v, c.number_format, bool(c.font.b), fill_sig, masked)
                if isinstance(v, str) and v.strip() in COLUMN_HEADERS:
                    masked_cols[c.column] = v.strip()
            left = v
    return out


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([^"]+)"')


def _merged_ranges(ws) -> list[str]:
    """The merged ranges of a read-only worksheet, from its XML (read-only mode does not
    parse them; the normal mode does, but formats every merged cell while at it, which
    took most of the time of a comparison)."""
    with ws._get_source() as src:
        return sorted(m.decode() for m in _MERGE.findall(src.read()))


def compare_xlsx(a: Path, b: Path, na: Normaliser, nb: Normaliser, d: Diffs) -> None:
    # Imported here, in the worker, so that --help and the JSON/CSV paths stay light.

    wa = openpyxl.load_workbook(a, read_only=True, data_only=False)
    wb = openpyxl.load_workbook(b, read_only=True, data_only=False)
    try:
        _compare_workbooks(wa, wb, na, nb, d)
    finally:
        wa.close()
        wb.close()


def _compare_workbooks(wa, wb, na: Normaliser, nb: Normaliser, d: Diffs) -> None:
    if wa.sheetnames != wb.sheetnames:
        d.add("sheet names/order", wa.sheetnames, wb.sheetnames)
    empty = (None, None, None, None, None)
    for name in [s for s in wa.sheetnames if s in wb.sheetnames]:
        sa, sb = wa[name], wb[name]
        ma, mb = _merged_ranges(sa), _merged_ranges(sb)
        if ma != mb:
            d.add("merged ranges", sorted(set(ma) - set(mb)), sorted(set(mb) - set(ma)), sheet=name)
        ca, cb = _sheet_cells(sa), _sheet_cells(sb)
        changed = [k for k in ca.keys() | cb.keys()
                   if not all(map(_same, ca.get(k, empty)[:4], cb.get(k, empty)[:4]))]
        for coord in sorted(changed, key=_coord_key):
            va, vb = ca.get(coord, empty), cb.get(coord, empty)
            xa = IGNORED if va[4] else na.value(va[0])
            xb = IGNORED if vb[4] else nb.value(vb[0])
            if not _same(xa, xb):
                d.add("value", va[0], vb[0], sheet=name, cell=coord)
                continue
            if not _same(va[0], vb[0]):
                masked = va[4] or vb[4]
                d.reconciled([f"label: {masked}"] if masked else _why(va[0], vb[0], na, nb))
            if coord in ca and coord in cb:
                # Formats only matter where both sides hold the same value.
                for i, what in ((1, "number format"), (2, "bold"), (3, "fill")):
                    if va[i] != vb[i]:
                        d.add(what, va[i], vb[i], sheet=name, cell=coord)


_COORD = re.compile(r"([A-Z]+)(\d+)")


def _coord_key(coord: str) -> tuple[int, int]:
    col, row = _COORD.fullmatch(coord).groups()
    n = 0
    for ch in col:
        n = n * 26 + ord(ch) - 64
    return int(row), n


# --- docx ------------------------------------------------------------------------------

def _docx_texts(path: Path) -> dict[str, str]:
    """location -> text of every body paragraph, table cell and header/footer paragraph."""
    doc = docx.Document(str(path))
    out = {f"paragraph {i}": p.text for i, p in enumerate(doc.paragraphs, 1)}
    for t, table in enumerate(doc.tables, 1):
        for r, row in enumerate(table.rows, 1):
            for c, cell in enumerate(row.cells, 1):
                out[f"table {t} row {r} col {c}"] = cell.text
    for s, section in enumerate(doc.sections, 1):
        for part, hf in (("header", section.header), ("footer", section.footer)):
            for i, p in enumerate(hf.paragraphs, 1):
                out[f"section {s} {part} paragraph {i}"] = p.text
    return out


def compare_docx(a: Path, b: Path, na: Normaliser, nb: Normaliser, d: Diffs) -> None:
    ta, tb = _docx_texts(a), _docx_texts(b)
    if len(ta) != len(tb):
        d.add("text blocks", len(ta), len(tb))
    for loc in dict.fromkeys([*ta, *tb]):
        xa, xb = ta.get(loc), tb.get(loc)
        if xa == xb:
            continue
        if xa is None or xb is None or na.text(xa) != nb.text(xb):
            d.add("text", xa, xb, cell=loc)
        else:
            d.reconciled(_why(xa, xb, na, nb))


# --- csv -------------------------------------------------------------------------------

def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def _leftover(rows: list[tuple], other: list[tuple]) -> list[tuple[int, tuple]]:
    """(line number, line) of the lines of `rows` that `other` lacks, counting repeats."""
    extra = Counter(rows)
    extra.subtract(other)
    out = []
    for n, r in enumerate(rows, 2):   # line 1 is the header
        if extra[r] > 0:
            extra[r] -= 1
            out.append((n, r))
    return out


def compare_csv(a: Path, b: Path, na: Normaliser, nb: Normaliser, d: Diffs) -> None:
    ra, rb = _csv_rows(a), _csv_rows(b)
    if ra == rb:
        return
    if not ra or not rb or ra[0] != rb[0]:
        d.add("header", ra[0] if ra else None, rb[0] if rb else None, cell="line 1")
        return
    header = ra[0]
    # KEYS columns by header name; an empty field stays empty (present vs absent counts).
    masked = {i for i, h in enumerate(header) if h in KEYS}

    def norm(rows: list[list[str]], nz: Normaliser) -> list[tuple[str, ...]]:
        return [tuple(IGNORED if i in masked and v else nz.text(v) for i, v in enumerate(r)) for r in rows[1:]]

    xa, xb = norm(ra, na), norm(rb, nb)
    # What the rules hid, counted line by line in file order.
    for raw_a, raw_b, la, lb in zip(ra[1:], rb[1:], xa, xb, strict=False):
        if raw_a != raw_b and len(raw_a) == len(raw_b):
            for i in [i for i, (p, q) in enumerate(zip(raw_a, raw_b, strict=True)) if p != q]:
                if la[i] == lb[i]:
                    d.reconciled([f"key: {header[i]}"] if i in masked else _why(raw_a[i], raw_b[i], na, nb))
    if xa == xb:
        return
    # Lines are compared as a multiset (rule 5): what is left over on either side differs.
    gone, new = _leftover(xa, xb), _leftover(xb, xa)
    if not gone and not new:
        d.reconciled(["CSV line order"])
        return
    if len(xa) != len(xb):
        d.add("line count", len(xa) + 1, len(xb) + 1)
    if len(gone) == len(new):
        # As many lines gone as new: pair them in file order and show the fields that
        # changed, which for one changed number is one field.
        for (line_a, la), (line_b, lb) in zip(gone, new, strict=True):
            where = f"line {line_a}" if line_a == line_b else f"line {line_a} (after: line {line_b})"
            raw_a, raw_b = ra[line_a - 1], rb[line_b - 1]
            for i, (fa, fb) in enumerate(zip(la, lb, strict=False)):
                if fa != fb:   # shown as written, like a workbook cell
                    d.add("field", raw_a[i], raw_b[i], cell=f"{where}, {header[i] if i < len(header) else i + 1}")
            if len(la) != len(lb):
                d.add("field count", len(la), len(lb), cell=where)
        return
    for n, r in gone:
        d.add("line only in BEFORE", ",".join(r), None, cell=f"line {n}")
    for n, r in new:
        d.add("line only in AFTER", None, ",".join(r), cell=f"line {n}")


# --- json ------------------------------------------------------------------------------

def _json_walk(x, y, na: Normaliser, nb: Normaliser, where: str, d: Diffs) -> None:
    if isinstance(x, dict) and isinstance(y, dict):
        for k in dict.fromkeys([*x, *y]):
            at = f"{where}.{k}" if where else k
            if k not in x or k not in y:
                d.add("key only on one side", x.get(k, "<absent>"), y.get(k, "<absent>"), cell=at)
            elif k in UNORDERED_LISTS and _all_dicts(x[k]) and _all_dicts(y[k]):
                _json_unordered(x[k], y[k], na, nb, at, d)
            elif k not in KEYS:
                _json_walk(x[k], y[k], na, nb, at, d)
            elif x[k] != y[k]:   # a KEYS value is ignored; the key itself must be on both sides
                d.reconciled([f"key: {k}"])
    elif isinstance(x, list) and isinstance(y, list):
        if len(x) != len(y):
            d.add("list length", len(x), len(y), cell=where or "$")
        for i, (u, v) in enumerate(zip(x, y, strict=False)):
            _json_walk(u, v, na, nb, f"{where}[{i}]", d)
    elif not _same(x, y):
        if _same(na.value(x), nb.value(y)):
            d.reconciled(_why(x, y, na, nb))
        else:
            d.add("value", x, y, cell=where or "$")


def _all_dicts(v) -> bool:
    return isinstance(v, list) and all(isinstance(e, dict) for e in v)


def _json_unordered(x: list[dict], y: list[dict], na: Normaliser, nb: Normaliser, where: str, d: Diffs) -> None:
    """Rule 6: match the objects of two lists by path and version, whatever their order."""
    def ident(e: dict) -> str:
        return f"{e.get('path')} v{e.get('version')}" if "version" in e else str(e.get("path"))

    def index(lst: list[dict]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for e in lst:
            out.setdefault(ident(e), []).append(e)
        return out

    ia, ib = index(x), index(y)
    if [ident(e) for e in x] != [ident(e) for e in y] and sorted(ia) == sorted(ib):
        d.reconciled(["JSON list order: " + where.rsplit(".", 1)[-1]])
    for key in dict.fromkeys([*ia, *ib]):
        la, lb = ia.get(key, []), ib.get(key, [])
        if len(la) != len(lb):
            d.add("entries", len(la), len(lb), cell=f"{where}[{key}]")
        for u, v in zip(la, lb, strict=False):
            _json_walk(u, v, na, nb, f"{where}[{key}]", d)


def compare_json(a: Path, b: Path, na: Normaliser, nb: Normaliser, d: Diffs) -> None:
    _json_walk(json.loads(a.read_text(encoding="utf-8")), json.loads(b.read_text(encoding="utf-8")),
               na, nb, "", d)


COMPARERS = {"xlsx": compare_xlsx, "docx": compare_docx, "csv": compare_csv, "json": compare_json}


# --- trees -----------------------------------------------------------------------------

def artefacts(tree: Path) -> dict[str, str]:
    """relative path -> kind of every in-scope file of `tree`."""
    found: dict[str, str] = {}
    for top in SCOPE_DIRS:
        base = tree / top
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            rel_dir = Path(dirpath).relative_to(tree)
            # Prune the run records (data docs, GX results) instead of walking them.
            dirnames[:] = sorted(n for n in dirnames if tuple((rel_dir / n).parts) not in SKIPPED_DIRS)
            for name in filenames:
                kind = name.rsplit(".", 1)[-1].lower() if "." in name else ""
                if kind in KINDS and not name.startswith("."):
                    found[(rel_dir / name).as_posix()] = kind
    return found


def compare_file(rel: str, kind: str, before: str, after: str, parse_all: bool = False) -> dict:
    """Compare one artefact present in both trees. Runs in a worker process."""
    a, b = Path(before) / rel, Path(after) / rel
    d = Diffs(rel)
    # Byte-identical files are identical whatever the rules; skips the parsing.
    if parse_all or not filecmp.cmp(a, b, shallow=False):
        try:
            COMPARERS[kind](a, b, Normaliser(), Normaliser(), d)
        except Exception as exc:  # noqa: BLE001 — an unreadable file is a difference, not a crash
            d.add("could not compare", f"{type(exc).__name__}: {exc}", None)
    return {"path": rel, "kind": kind, "identical": d.total == 0,
            "differences_total": d.total, "differences": d.items, "ignored": dict(d.ignored)}


def compare_trees(before: Path, after: Path, jobs: int = 2, parse_all: bool = False) -> dict:
    """Compare the report artefacts of two output trees; the result is JSON-ready."""
    started = time.monotonic()
    before, after = Path(before).resolve(), Path(after).resolve()
    fa, fb = artefacts(before), artefacts(after)
    common = sorted(fa.keys() & fb.keys())
    # Largest first, so that the pool does not end up waiting on one big file.
    common.sort(key=lambda r: -(before / r).stat().st_size)
    n = len(common)
    args = (common, [fa[r] for r in common], [str(before)] * n, [str(after)] * n, [parse_all] * n)
    if jobs > 1 and len(common) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            files = list(pool.map(compare_file, *args, chunksize=4))
    else:
        files = [compare_file(*t) for t in zip(*args, strict=True)]
    files.sort(key=lambda f: f["path"])
    ignored: Counter[str] = Counter()
    for f in files:
        ignored.update(f.pop("ignored"))
    only_before = sorted(fa.keys() - fb.keys())
    only_after = sorted(fb.keys() - fa.keys())
    summary = {}
    for kind in KINDS:
        mine = [f for f in files if f["kind"] == kind]
        summary[kind] = {
            "compared": len(mine), "identical": sum(f["identical"] for f in mine),
            "different": sum(not f["identical"] for f in mine),
            "only_in_before": sum(fa[r] == kind for r in only_before),
            "only_in_after": sum(fb[r] == kind for r in only_after)}
    return {
        "before": str(before), "after": str(after),
        "scope": scope_description(), "ignored": rules_description(),
        # Two empty trees (a wrong path) prove nothing: not "identical".
        "identical": bool(fa and fb) and not only_before and not only_after
                     and all(f["identical"] for f in files),
        "empty": not fa or not fb,
        "summary": summary, "only_in_before": only_before, "only_in_after": only_after,
        # How many differing raw values each rule made equal (CSV line order: files).
        "ignored_differences": dict(ignored.most_common()),
        "files": [f for f in files if not f["identical"]],
        "seconds": round(time.monotonic() - started, 1),
    }


# --- command line ----------------------------------------------------------------------

def _clip(v, width: int = 60) -> str:
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return s if len(s) <= width else s[: width - 1] + "…"


def print_report(result: dict, max_diffs: int, out=sys.stdout) -> None:
    def p(*a) -> None:
        print(*a, file=out)

    p(f"BEFORE {result['before']}")
    p(f"AFTER  {result['after']}")
    p(f"scope: {result['scope']}")
    p("ignored: run ids, uuids, batch ids, sha256 digests, datetimes with a time of day "
      "(ISO, dd/mm/yyyy HH:MM:SS, compact); cells labelled "
      + ", ".join(f'"{k}"' for k in ROW_LABELS) + "; columns under "
      + ", ".join(f'"{k}"' for k in COLUMN_HEADERS) + "; JSON keys / CSV columns "
      + ", ".join(KEYS) + "; the order of CSV lines and of the JSON lists "
      + ", ".join(UNORDERED_LISTS) + "; absolute paths of output trees "
      "(rule tables at the top of this script)")
    p("")
    for kind, s in result["summary"].items():
        p(f"{kind:5}: {s['compared']:4} compared, {s['identical']:4} identical, {s['different']:4} different, "
          f"{s['only_in_before']} only in BEFORE, {s['only_in_after']} only in AFTER")
    if result["ignored_differences"]:
        p("\nignored differences (raw values that differed, made equal by a rule):")
        for rule, n in result["ignored_differences"].items():
            p(f"  {n:8}  {rule}")
    for side, key in (("BEFORE", "only_in_before"), ("AFTER", "only_in_after")):
        if result[key]:
            p(f"\nonly in {side} ({len(result[key])}):")
            for rel in result[key][:max_diffs]:
                p(f"  {rel}")
            if len(result[key]) > max_diffs:
                p(f"  … {len(result[key]) - max_diffs} more")
    diffs = [d for f in result["files"] for d in f["differences"]]
    total = sum(f["differences_total"] for f in result["files"])
    if total:
        p(f"\n{total} difference(s) in {len(result['files'])} file(s); the first {min(max_diffs, len(diffs))}:")
        for d in diffs[:max_diffs]:
            where = " / ".join(x for x in (d["sheet"], d["cell"]) if x)
            p(f"  {d['path']} | {where or '-'} | {d['what']}: {_clip(d['before'])} -> {_clip(d['after'])}")
    verdict = "NO REPORT ARTEFACTS" if result["empty"] else "IDENTICAL" if result["identical"] else "DIFFERENT"
    p(f"\n{verdict} ({result['seconds']} s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path, help="output/ tree before the change")
    ap.add_argument("after", type=Path, help="output/ tree after the change")
    ap.add_argument("--json", type=Path, metavar="PATH", help="write the full result as JSON")
    ap.add_argument("--max", type=int, default=50, metavar="N", help="differences to print (default 50)")
    ap.add_argument("--jobs", type=int, default=2, metavar="J", help="worker processes (default 2)")
    ap.add_argument("--parse-all", action="store_true",
                    help="parse byte-identical files too (to time or check this tool)")
    args = ap.parse_args(argv)
    for tree in (args.before, args.after):
        if not tree.is_dir():
            ap.error(f"not a directory: {tree}")
    result = compare_trees(args.before, args.after, jobs=args.jobs, parse_all=args.parse_all)
    print_report(result, args.max)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if result["empty"]:
        print("error: no report artefacts under reports/ or data_quality/ on at least one side",
              file=sys.stderr)
        return 2
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
