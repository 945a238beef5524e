"""Lineage of a report: which source rows are behind each cell.

Next to every report workbook ``<stem>.xlsx`` the companion file ``<stem>.nguon.csv``
(UTF-8 with BOM, so Excel opens it with its diacritics) lists every record the report
counted, one line each, with where it came from and what it contributes to each
column:

- lineage columns: ``row_id`` (the report row), ``row_unit_code`` and ``row_label``
  (the row's unit code and label as printed), ``unit_code`` (the unit the record was
  recorded under), ``source_kind``, ``source_name``, ``source_file``, ``source_row``,
  ``record_id``, ``raw_id``, ``batch_id`` — empty where the records lack them;
- contribution columns ``c<MS>``, one per number column computed from records
  (reports.formdef.contributions): an addend for count and sum columns (empty = 0),
  the key the record contributes for distinct and case columns (empty = none).
  A ``sum_of`` column (e.g. 01/TCD column 1 = 4 + 13 + 22) has no column here: its
  sources are the union of the columns it adds up.

No personal data: ``citizen_pseudonym`` and every other column of the records are
left out. Lines are ordered by row_id, then raw_id, so the file is deterministic.

To find the source rows behind one cell::

    python -m reports.lineage output/reports/01-TCD/2026-Q3/01-TCD_01_….xlsx --row 001 --col 4

prints the source rows (kind, source, file, row, record id, contribution) and a last
line "Ô cột 4, dòng «Quận Ba Đình»: 37 = 37 bản ghi nguồn"; the exit code is 1 when the
rows listed do not account for the value in the workbook, 2 on a usage error.
``--row`` takes a unit code, a row_id, a row label, or ``total`` / "Tổng cộng";
``--csv`` prints the rows as CSV (the summary line then goes to stderr).
"""
from __future__ import annotations

import argparse
import io
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import openpyxl
import pandas as pd

from core import settings
from core.files import atomic_write_bytes
from reports.formdef import (
    BATCH_SEP,
    ROUND_DIGITS,
    TOLERANCE,
    FormDef,
    ReportRow,
    contribution_column,
    lineage_kind,
    load_form,
    source_columns,
    sum_columns,
)
from reports.render import INFO_SHEET

LINEAGE_SUFFIX = ".nguon.csv"
LINEAGE_COLUMNS = ["row_id", "unit_code", "source_kind", "source_name", "source_file", "source_row",
                   "record_id", "raw_id", "batch_id"]
ROW_COLUMNS = ["row_unit_code", "row_label"]          # written when the rows are given
TOTAL_WORDS = ("total", "tổng cộng", "tong cong")

# Labels of the printed table.
DISPLAY = {"row_label": "Dòng báo cáo", "source_kind": "Loại nguồn", "source_name": "Nguồn",
           "source_file": "Tệp / bảng", "source_row": "Dòng", "record_id": "Mã bản ghi",
           "contributes": "Đóng góp"}


def lineage_path(workbook: str | Path) -> Path:
    """``<dir>/<stem>.nguon.csv`` for ``<dir>/<stem>.xlsx``."""
    p = Path(workbook)
    return p.with_name(p.stem + LINEAGE_SUFFIX)


def _nfc(text: Any) -> str:
    return unicodedata.normalize("NFC", str(text)).strip()


def _as_text(values: pd.Series) -> pd.Series:
    """Values as text for the CSV: empty for missing, integers without ``.0``."""
    def one(v: Any) -> str:
        if v is None:
            return ""
        try:
            if pd.isna(v):
                return ""
        except (TypeError, ValueError):
            pass
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)
    return values.astype(object).map(one)


def lineage_frame(records: pd.DataFrame, contributions: pd.DataFrame, form: FormDef,
                  rows: Sequence[ReportRow] | None = None) -> pd.DataFrame:
    """The companion file's content as text columns, in file order (see module doc)."""
    if len(records) != len(contributions) or not records.index.equals(contributions.index):
        raise ValueError("contributions must have the records' index (reports.formdef.contributions)")
    rec = records.reset_index(drop=True)
    con = contributions.reset_index(drop=True)
    if "row_id" in rec.columns and not rec["row_id"].astype(str).equals(con["row_id"].astype(str)):
        raise ValueError("contributions were computed for other rows than the records' row_id")
    out = pd.DataFrame(index=rec.index)
    out["row_id"] = con["row_id"].astype(str)
    if rows is not None:
        by_id = {r.row_id: r for r in rows}
        out["row_unit_code"] = out["row_id"].map(lambda rid: (by_id[rid].unit_code or "") if rid in by_id else "")
        out["row_label"] = out["row_id"].map(lambda rid: by_id[rid].label if rid in by_id else "")
    for col in LINEAGE_COLUMNS[1:]:
        out[col] = _as_text(rec[col]) if col in rec.columns else ""
    contrib_cols = [c for c in con.columns if c != "row_id"]
    expected = [contribution_column(ms) for ms in form.number_columns if lineage_kind(form, ms) != "sum_of"]
    if contrib_cols != expected:
        raise ValueError(f"contribution columns {contrib_cols} do not match form {form.code} ({expected})")
    for c in contrib_cols:
        ms = int(c[1:])
        if lineage_kind(form, ms) == "additive":
            v = con[c]
            out[c] = _as_text(v.where(v != 0))      # 0 is left empty: the record adds nothing
        else:
            out[c] = _as_text(con[c])
    # Deterministic order: row, raw record (then source row, then every column as text).
    num = lambda c: pd.to_numeric(out[c].where(out[c] != ""), errors="coerce")
    keys = out.assign(_raw=num("raw_id"), _src=num("source_row"))
    order = ["row_id", "_raw", "_src", *[c for c in out.columns if c != "row_id"]]
    keys = keys.sort_values(order, kind="mergesort", na_position="last")
    return out.loc[keys.index].reset_index(drop=True)


def write_lineage(path: str | Path, records: pd.DataFrame, contributions: pd.DataFrame, form: FormDef,
                  *, rows: Sequence[ReportRow] | None = None) -> Path:
    """Write the companion lineage file of the workbook at `path` (or to `path` itself
    when it ends in ``.csv``), atomically; return its path.

    `records` are the records the report counted (with ``row_id`` and the lineage
    columns they have; source_file/source_row may be absent: written empty);
    `contributions` is ``reports.formdef.contributions(form, records, rows, period)``; with
    `rows`, each line also carries its row's unit code and label (what ``--row`` and
    the workbook lookup use).
    """
    return write_lineage_frame(path, lineage_frame(records, contributions, form, rows))


def split_lineage(frame: pd.DataFrame, reports: int) -> list[pd.DataFrame]:
    """Each report's part of the lineage frame of a batch of `reports` reports (rows
    with union ids, reports.formdef.batch_row_id), its row ids as the report prints
    them; a batch of one is its own frame."""
    if reports == 1:
        return [frame]
    if not len(frame):
        return [frame.copy() for _ in range(reports)]
    which, frame = _report_positions(frame)
    order, bounds = _grouped(which, reports)
    return [frame.iloc[order[bounds[i]:bounds[i + 1]]].reset_index(drop=True) for i in range(reports)]


def _report_positions(frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """(each row's report position, the frame with the row ids as the reports print them)."""
    parts = frame["row_id"].str.split(BATCH_SEP, n=1, expand=True)
    return parts[0].astype(int).to_numpy(), frame.assign(row_id=parts[1])


def _grouped(which: np.ndarray, reports: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows ordered by report (stable: each report's rows in the frame's order), and
    where each report's rows start in that order."""
    order = np.argsort(which, kind="stable")
    return order, np.searchsorted(which[order], np.arange(reports + 1))


def lineage_csv_parts(frame: pd.DataFrame, reports: int) -> list[bytes]:
    """Each report's companion file (what :func:`write_lineage_frame` writes of its
    :func:`split_lineage` part), the batch's CSV made once and cut by report: a report
    set writes thousands of small lineage files. A value holding a line break (the CSV
    row then spans lines) makes each part the slow way."""
    if reports == 1 or not len(frame):
        return [_csv_bytes(part) for part in split_lineage(frame, reports)]
    which, body = _report_positions(frame)
    header, *lines = body.to_csv(index=False, lineterminator="\n").split("\n")
    if len(lines) != len(body) + 1:          # the last element is what follows the final newline
        return [_csv_bytes(part) for part in split_lineage(frame, reports)]
    order, bounds = _grouped(which, reports)
    head = header + "\n"
    return [(head + "".join(lines[j] + "\n" for j in order[bounds[i]:bounds[i + 1]])).encode("utf-8-sig")
            for i in range(reports)]


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8-sig")


def write_lineage_frame(path: str | Path, frame: pd.DataFrame | bytes) -> Path:
    """Write a :func:`lineage_frame` (or its file's bytes, from :func:`lineage_csv_parts`)
    as the companion file of the workbook at `path` (or to `path` itself when it ends
    in ``.csv``), atomically; return its path."""
    p = Path(path)
    target = p if p.suffix.lower() == ".csv" else lineage_path(p)
    atomic_write_bytes(target, frame if isinstance(frame, bytes) else _csv_bytes(frame))
    return target


def read_lineage(path: str | Path) -> pd.DataFrame:
    """A companion file as text columns ("" for empty)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


# ------------------------------------------------------------------ forms and workbooks

def _info_pairs(workbook: str | Path) -> dict[str, Any]:
    wb = openpyxl.load_workbook(workbook, read_only=True)
    try:
        if INFO_SHEET not in wb.sheetnames:
            raise LookupError(f"{workbook}: no sheet {INFO_SHEET!r}")
        ws = wb[INFO_SHEET]
        return {str(a): b for a, b, *_ in ws.iter_rows(min_col=1, max_col=2, values_only=True) if a}
    finally:
        wb.close()


def _form_dirs(home: Path) -> list[Path]:
    return [Path(home) / "reports/forms", Path(__file__).resolve().parent / "forms"]


def form_of_workbook(workbook: str | Path, home: Path) -> FormDef:
    """The form definition a report workbook was written with, found from its
    "Thông tin" sheet (form and definition version) among ``reports/forms/*.yaml``
    (a definition under `home`, TCD_HOME, first)."""
    info = _info_pairs(workbook)
    label = _nfc(info.get("Biểu mẫu", ""))
    version = _nfc(info.get("Phiên bản định nghĩa biểu", "")).split(" ")[0]
    seen = set()
    for d in _form_dirs(home):
        for f in sorted(d.glob("*.yaml")) if d.is_dir() else []:
            if f.name in seen:
                continue
            seen.add(f.name)
            try:
                form = load_form(f)
            except Exception:  # noqa: BLE001 - a broken unrelated file is not this form
                continue
            if _nfc(f"{form.code_label} – {form.title}") == label and form.version == version:
                return form
    raise LookupError(f"{workbook}: no form definition for «{label}» version {version!r}")


def _ms_of(value: Any) -> int | None:
    head = str(value).split("=")[0].strip() if value is not None else ""
    return int(head) if head.isdigit() else None


def workbook_cell(workbook: str | Path, form: FormDef, label: str, ms: int) -> Any:
    """The value of column `ms` (by the header's MS row) in the row labelled `label`
    of the report sheet (None for an empty cell)."""
    wb = openpyxl.load_workbook(workbook, read_only=True)
    try:
        name = form.code.replace("/", "-")[:31]
        ws = wb[name] if name in wb.sheetnames else wb.worksheets[0]
        grid = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    ms_row = next((i for i, r in enumerate(grid) if r and r[0] is not None and _nfc(r[0]) == form.ms_label), None)
    if ms_row is None:
        raise LookupError(f"{workbook}: no {form.ms_label!r} row in the report sheet")
    cols = [j for j, v in enumerate(grid[ms_row]) if j > 0 and _ms_of(v) == ms]
    if len(cols) != 1:
        raise LookupError(f"{workbook}: no column {ms} in the {form.ms_label} row")
    want = _nfc(label)
    hits = [i for i in range(ms_row + 1, len(grid))
            if grid[i] and grid[i][0] is not None and _nfc(grid[i][0]) == want]
    if not hits:
        raise LookupError(f"{workbook}: no row «{label}»")
    if len(hits) > 1:
        raise LookupError(f"{workbook}: {len(hits)} rows are labelled «{label}»; give the row_id")
    row = grid[hits[0]]
    return row[cols[0]] if cols[0] < len(row) else None


# ------------------------------------------------------------------ cells

def _is_total(row: str, form: FormDef) -> bool:
    return _nfc(row).casefold() in {*TOTAL_WORDS, _nfc(form.total_label).casefold()}


def select_rows(lineage: pd.DataFrame, row: str, form: FormDef) -> tuple[pd.DataFrame, str]:
    """The lines of report row `row` (a row_id, a row's unit code or label, or
    total/"Tổng cộng" for all lines) and the row's label. LookupError when no line
    belongs to such a row (the row may still exist, with no records)."""
    key = _nfc(row)
    if _is_total(key, form):
        return lineage, form.total_label
    for col in ("row_id", "row_unit_code", "row_label"):
        if col not in lineage.columns:
            continue
        values = lineage[col].map(_nfc)
        hit = values.eq(key) if col != "row_label" else values.str.casefold().eq(key.casefold())
        if hit.any():
            ids = sorted(set(lineage.loc[hit, "row_id"]))
            if len(ids) > 1:
                raise LookupError(f"«{row}» names {len(ids)} report rows {ids}; give the row_id")
            sel = lineage[lineage["row_id"] == ids[0]]
            label = sel["row_label"].iloc[0] if "row_label" in sel.columns and sel["row_label"].iloc[0] else key
            return sel, label
    raise LookupError(f"no line of the lineage file belongs to row «{row}»")


def _sources(sel: pd.DataFrame, form: FormDef, ms: int, label: str) -> pd.DataFrame:
    kind = lineage_kind(form, ms)
    if kind == "text":
        raise ValueError(f"column {ms} is a text column; it has no source records")
    if kind == "unavailable":
        # The cell is empty on purpose: say why rather than list no records.
        raise ValueError(f"cột {ms} chưa có nguồn số liệu, ô để trống: {form.column(ms).reason}")
    leaves = source_columns(form, ms)
    unique = list(dict.fromkeys(leaves))
    accounted = 0
    listed = pd.Series(False, index=sel.index)
    parts: dict[int, pd.Series] = {}
    additive = {m: lineage_kind(form, m) == "additive" for m in unique}
    for m in unique:
        c = contribution_column(m)
        if c not in sel.columns:
            raise LookupError(f"the lineage file has no column {c} (column {m} of {form.code})")
        if additive[m]:
            v = pd.to_numeric(sel[c].where(sel[c] != "", "0"))
            accounted += leaves.count(m) * v.sum()
            listed |= v != 0
            parts[m] = v
        else:
            has = sel[c] != ""
            accounted += leaves.count(m) * len(set(zip(sel.loc[has, "row_id"], sel.loc[has, c])))
            listed |= has
            parts[m] = sel[c]
    cols = [c for c in ["row_id", *ROW_COLUMNS, *LINEAGE_COLUMNS[1:]] if c in sel.columns]
    out = sel.loc[listed, cols].copy()
    if len(unique) == 1:
        out["contributes"] = parts[unique[0]][listed]
    elif all(additive.values()):
        out["contributes"] = sum(leaves.count(m) * parts[m][listed] for m in unique)
    else:
        def describe(i) -> str:
            bits = []
            for m in unique:
                v = parts[m].at[i]
                if (additive[m] and v != 0) or (not additive[m] and v != ""):
                    bits.append(f"cột {m}: {v}")
            return "; ".join(bits)
        out["contributes"] = [describe(i) for i in out.index]
    # Decimal columns (money, land) are summed from the file's text: round as the
    # calculator does, so the figure reads like the cell.
    accounted = round(float(accounted), ROUND_DIGITS)
    if accounted.is_integer():
        accounted = int(accounted)
    out = out.reset_index(drop=True)
    out.attrs.update({"accounted": accounted,
                      "records": len(out), "ms": ms, "label": label, "kind": kind,
                      "columns": unique, "total": _is_total(label, form)})
    return out


def cell_sources(lineage_csv_path: str | Path, row: str, ms: int, *, form: FormDef) -> pd.DataFrame:
    """The source rows behind one cell of a report.

    `row`: a row_id, a row's unit code or label, or ``total`` / "Tổng cộng". `ms`: the
    column's MS number. `form`: the definition of the workbook beside the file
    (``<stem>.xlsx``; :func:`form_of_workbook`). Returns the lineage columns plus ``contributes``: for
    count/sum columns the lines with a non-zero addend (and the addend), for distinct
    and case columns the lines with a key (and the key), for ``sum_of`` columns the
    union over the columns added up. ``.attrs["accounted"]`` is the value these lines
    account for (sum of addends; number of distinct (row, key) pairs; for ``sum_of``
    the sum over its columns), ``.attrs["records"]`` the number of lines.
    LookupError when no line belongs to `row`.
    """
    path = Path(lineage_csv_path)
    sel, label = select_rows(read_lineage(path), row, form)
    return _sources(sel, form, int(ms), label)


def summary_line(value: Any, sources: pd.DataFrame, form: FormDef) -> tuple[str, bool]:
    """The CLI's last line and whether the sources account for `value`."""
    a = sources.attrs
    ms, n, acc = a["ms"], a["records"], a["accounted"]
    col = form.column(ms)
    per_row = " (tính riêng từng dòng)" if a.get("total") else ""
    if a["kind"] == "sum_of":
        what = f"{acc} (cột {' + '.join(map(str, source_columns(form, ms)))}, từ {n} bản ghi nguồn)"
    elif col.compute["measure"] == "count_records":
        what = f"{acc} bản ghi nguồn"
    elif col.compute["measure"] == "sum":
        what = f"{acc} (tổng «{' + '.join(sum_columns(col.compute))}» của {n} bản ghi nguồn)"
    elif col.compute["measure"] == "count_distinct":
        what = f"{acc} giá trị «{col.compute['column']}» khác nhau{per_row} từ {n} bản ghi nguồn"
    else:
        what = f"{acc} vụ việc{per_row} từ {n} bản ghi nguồn"
    if value is None:
        ok = acc == 0 and n == 0
        shown = "trống (chưa báo cáo)"
    else:
        ok = isinstance(value, (int, float)) and abs(value - acc) <= TOLERANCE
        shown = str(value)
    return f"Ô cột {ms}, dòng «{a['label']}»: {shown} {'=' if ok else '≠'} {what}", ok


def format_table(sources: pd.DataFrame) -> str:
    """The sources as an aligned text table: text left, numbers right."""
    cols = [c for c in (["row_label"] if sources.attrs.get("total") else [])
            + ["source_kind", "source_name", "source_file", "source_row", "record_id", "contributes"]
            if c in sources.columns]
    if sources.empty:
        return "(không có bản ghi nguồn)"
    header = [DISPLAY.get(c, c) for c in cols]
    body = [["" if pd.isna(v) else str(v) for v in row] for row in sources[cols].itertuples(index=False)]
    numeric = [all(x == "" or re.fullmatch(r"-?\d+(\.\d+)?", x) for x in (r[j] for r in body))
               for j in range(len(cols))]
    widths = [max(len(header[j]), *(len(r[j]) for r in body)) for j in range(len(cols))]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in body)])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m reports.lineage",
        description="Các bản ghi nguồn đứng sau một ô của báo cáo (tệp <tên>.nguon.csv bên cạnh tệp xlsx).")
    ap.add_argument("workbook", help="tệp báo cáo .xlsx")
    ap.add_argument("--row", required=True, help="mã đơn vị, row_id, tên dòng, hoặc total / «Tổng cộng»")
    ap.add_argument("--col", required=True, type=int, help="số cột (MS)")
    ap.add_argument("--csv", action="store_true", help="in các bản ghi dạng CSV (dòng tóm tắt ra stderr)")
    ap.add_argument("--lineage", help="tệp nguồn, nếu không nằm cạnh tệp báo cáo")
    args = ap.parse_args(argv)
    workbook = Path(args.workbook)
    csv_path = Path(args.lineage) if args.lineage else lineage_path(workbook)
    try:
        if not workbook.exists():
            raise LookupError(f"không có tệp {workbook}")
        if not csv_path.exists():
            raise LookupError(f"không có tệp nguồn {csv_path}")
        form = form_of_workbook(workbook, settings.get().home)
        if args.col not in form.ms_numbers:
            raise LookupError(f"biểu {form.code} không có cột {args.col}")
        lin = read_lineage(csv_path)
        try:
            sel, label = select_rows(lin, args.row, form)
        except LookupError:
            # A row with no records has no line in the file: find it by its label.
            sel, label = lin.iloc[0:0], _nfc(args.row)
        value = workbook_cell(workbook, form, label, args.col)
        sources = _sources(sel, form, args.col, label)
    except (LookupError, ValueError) as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 2
    line, ok = summary_line(value, sources, form)
    if args.csv:
        sources.to_csv(sys.stdout, index=False, lineterminator="\n")
        print(line, file=sys.stderr)
    else:
        print(format_table(sources))
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
