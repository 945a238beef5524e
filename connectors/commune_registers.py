"""Commune registers (sổ tiếp công dân, sổ theo dõi đơn): .xlsx workbooks in an inbox.

Incremental by a manifest of (file name, sha256): a file already landed with the same
content is skipped; a changed file is landed as a new batch that supersedes the earlier
version of that file as a whole (consolidation keeps the latest batch per file name).
A file that cannot be read is recorded as a rejected batch with a rule code and the
reason, and the other files go on. Merged cells, legacy font encodings (TCVN3, VNI)
and uncalculated formulas are handled as docs/data-contracts.md §1 says.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path

import sqlalchemy as sa
from python_calamine import CalamineWorkbook

from connectors.inbox import inbox_path, uncomputed_formulas
from connectors.qlkntc_workbooks import is_qlkntc_file
from connectors.raw import Batch
from core import config_schema, legacy_encoding, normalise, pii
from core.dates import utcnow
from core.files import sha256_file
from core.pii import pseudonym_key
from core.settings import Settings
from warehouse.schema import raw_file_manifest

log = logging.getLogger(__name__)
SOURCE_KIND = "commune_register"


class RegisterError(ValueError):
    """The workbook cannot be read as a register; the message says what to fix and
    `code` is the rule (expectations/rules.yaml) recorded on the rejected batch."""

    def __init__(self, message: str, code: str = "FILE_NOT_READABLE"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class RegisterFile:
    path: Path
    logical_key: str      # file name without extension, as delivered
    unit_code: str
    year: int


def parse_file_name(path: Path, pattern: str) -> RegisterFile:
    """The unit and year of a register from its file name (`pattern`:
    ``sources.commune_registers.file_name_pattern``)."""
    m = re.match(pattern, path.stem)
    if not m:
        raise RegisterError(
            f"Tên tệp '{path.name}' không đúng quy ước <mã đơn vị 5 số>_<tên>_<năm>.xlsx "
            "(ví dụ 00004_truc-bach_2024.xlsx); đổi tên tệp rồi gửi lại.", "FILE_NAME_INVALID")
    return RegisterFile(path, path.stem, m["unit_code"], int(m["year"]))


def delivered_at(path: Path) -> dt.datetime:
    """The file's modification time, UTC without tzinfo (when the unit delivered it)."""
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)


def _find_sheet(names: list[str], wanted: list[str]) -> str | None:
    """The sheet named like one of `wanted` (case, diacritics and spacing folded); a
    name typed in a legacy font (``TiÕp c«ng d©n``) is recognised too."""
    folded: dict[str, str] = {}
    for n in names:
        folded.setdefault(normalise.fold(n), n)
    for n in names:
        if not n.isascii():
            for enc in (legacy_encoding.TCVN3, legacy_encoding.VNI):
                folded.setdefault(normalise.fold(legacy_encoding.to_unicode(n, enc)), n)
    for w in wanted:
        if normalise.fold(w) in folded:
            return folded[normalise.fold(w)]
    return None


def _aliases(columns: dict[str, list[str]]) -> dict[str, str]:
    return {normalise.fold(a): field for field, aliases in columns.items() for a in aliases}


def _header_map(row: list, alias: dict[str, str]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i, cell in enumerate(row):
        if isinstance(cell, str) and cell.strip():
            field = alias.get(normalise.fold(cell))
            if field and field not in out.values():
                out[i] = field
    return out


@dataclass
class SheetResult:
    records: list[tuple[int, dict]]          # (worksheet row number, {field: value})
    notes: list[str] = dc_field(default_factory=list)


def _merges_in_data(merges, header_idx: int, n_rows: int):
    """Merged ranges lying in the data area (below the header), clipped to the sheet."""
    for (r0, c0), (r1, c1) in merges or ():
        if r0 > header_idx and r0 < n_rows:
            yield r0, c0, min(r1, n_rows - 1), c1


def read_sheet(rows: list[list], spec: dict, totals: set[str], sheet_label: str,
               merges=None) -> SheetResult:
    """The record rows of a register sheet, with notes on what was done to the layout.

    Merged cells in the data area (calamine reads a merged range's value in its first
    cell only): a range merged *down* several rows gives its value to every row it
    spans — one date, mode or receiver written once for several receptions — except in
    the count columns (``merged_not_filled``): a count merged over rows belongs to the
    first row only, the rows below land without it and are quarantined by the mapping
    (REQUIRED_MISSING), so nothing is counted twice. A range merged *across* columns
    keeps its value in its first column; a row whose only content is such a range is a
    section heading ("Tháng 3/2024") and is skipped.
    """
    alias = _aliases(spec["columns"])
    header_idx, mapping = None, {}
    for i, row in enumerate(rows[:15]):
        m = _header_map(row, alias)
        if "stt" in m.values() and spec["date_field"] in m.values():
            header_idx, mapping = i, m
            break
    if header_idx is None:
        raise RegisterError(
            f"Không tìm thấy dòng tiêu đề ở trang '{sheet_label}' (cần cột 'STT' và cột ngày "
            f"'{spec['columns'][spec['date_field']][0]}' trong 15 dòng đầu); khôi phục tiêu đề cột theo mẫu.",
            "COLUMNS_MISSING")
    missing = [f for f in spec["required"] if f not in mapping.values()]
    if missing:
        names = ", ".join(spec["columns"][f][0] for f in missing)
        raise RegisterError(f"Trang '{sheet_label}' thiếu cột bắt buộc: {names}.", "COLUMNS_MISSING")

    notes: list[str] = []
    not_filled = {c for c, f in mapping.items() if f in set(spec.get("merged_not_filled", []))}
    headings: set[int] = set()
    filled = continuation = 0
    for r0, c0, r1, c1 in _merges_in_data(merges, header_idx, len(rows)):
        if r1 > r0 and c0 not in not_filled:
            value = rows[r0][c0] if c0 < len(rows[r0]) else ""
            for r in range(r0 + 1, r1 + 1):
                row = rows[r]
                if c0 >= len(row):
                    row.extend([""] * (c0 + 1 - len(row)))
                if row[c0] in (None, ""):
                    row[c0] = value
            filled += 1
        elif r1 > r0:
            continuation += r1 - r0
        if c1 - c0 >= 2:
            row = rows[r0]
            if all(v in (None, "") for j, v in enumerate(row) if j != c0) and \
                    not re.search(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}", str(row[c0] if c0 < len(row) else "")):
                headings.update(range(r0, r1 + 1))
    if filled:
        notes.append(f"Trang '{sheet_label}' có {filled} vùng ô gộp theo chiều dọc trong phần số liệu: "
                     "giá trị của ô gộp được ghi cho mọi dòng của vùng.")
    if continuation:
        counts = ", ".join(spec["columns"][f][0] for f in spec.get("merged_not_filled", []))
        notes.append(f"Trang '{sheet_label}': {continuation} dòng nằm trong ô gộp của cột {counts}: số chỉ "
                     "tính ở dòng đầu của vùng gộp, các dòng còn lại thiếu số và sẽ bị cách ly; "
                     "ghi mỗi lượt tiếp/đơn trên một dòng, không gộp ô số.")

    date_col = next(c for c, f in mapping.items() if f == spec["date_field"])
    out, skipped_headings = [], 0
    for i in range(header_idx + 1, len(rows)):
        row = rows[i]
        values = {f: row[col] if col < len(row) else None for col, f in mapping.items()}
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
        filled_values = [v for v in values.values() if v not in (None, "")]
        if not filled_values:
            continue                                   # blank row
        if i in headings:
            skipped_headings += 1
            continue                                   # section heading merged across the row
        date_value = values.get(spec["date_field"])
        if isinstance(row[date_col] if date_col < len(row) else None, str) and \
                not str(date_value)[:1].isdigit() and \
                len(_header_map(row, alias)) >= max(2, len(mapping) // 2):
            continue                                   # the header repeated (e.g. on each printed page)
        if date_value in (None, ""):
            first_text = next((normalise.fold(c) for c in row if isinstance(c, str) and c.strip()), "")
            if first_text in totals:
                continue                               # total row
        # Sub-header rows that number the columns "(1) (2) …" are not records either.
        if all(isinstance(v, str) and re.fullmatch(r"\(?\d{1,2}\)?", v) for v in filled_values) and \
                date_value not in (None, "") and \
                not re.search(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}", str(date_value)):
            continue
        out.append((i + 1, values))
    if skipped_headings:
        notes.append(f"Trang '{sheet_label}': bỏ qua {skipped_headings} dòng tiêu đề nhóm (một ô gộp cả dòng, "
                     "không phải bản ghi).")
    return SheetResult(out, notes)


@dataclass
class RegisterContent:
    records: dict[str, list[tuple[int, dict]]]     # record type → (row number, values incl. _sheet)
    notes: list[str]
    encoding: str | None = None                    # legacy encoding converted from, if any


def read_workbook(path: Path, cfg: config_schema.CommuneRegisters, columns: config_schema.RegisterColumns
                  ) -> RegisterContent:
    """Read both sheets of a register workbook with python-calamine (fast, read-only):
    the sheets named in `cfg` (``sources.commune_registers``), the columns recognised by
    their headers in `columns` (config/commune_register_columns.yaml, validated).

    Text typed in a legacy font encoding (TCVN3, VNI) is detected on the whole workbook
    (sheet names, headers and text cells) and converted to Unicode before the headers
    are matched; the notes say so.
    """
    cols = columns.model_dump()
    totals = {normalise.fold(t) for t in cols["total_row_labels"]}
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - calamine raises its own error types for corrupt files
        raise RegisterError(f"Tệp '{path.name}' không mở được như một tệp Excel .xlsx ({type(exc).__name__}); "
                            "lưu lại bằng Excel dưới dạng .xlsx rồi gửi lại.", "FILE_NOT_READABLE") from None
    sheets = {}
    for record_type, sheet_cfg in (("reception", "reception_sheet"), ("petition", "petition_sheet")):
        sheet = _find_sheet(wb.sheet_names, getattr(cfg, sheet_cfg))
        if sheet is None:
            raise RegisterError(
                f"Tệp '{path.name}' không có trang '{getattr(cfg, sheet_cfg)[0]}' (các trang hiện có: "
                f"{', '.join(wb.sheet_names) or 'không có'}); sổ phải có trang '{cfg.reception_sheet[0]}' "
                f"và trang '{cfg.petition_sheet[0]}' theo mẫu, bổ sung rồi gửi lại.", "SHEET_MISSING")
        ws = wb.get_sheet_by_name(sheet)
        rows = ws.to_python(skip_empty_area=False)
        for (r, c), formula in uncomputed_formulas(path, sheet).items():
            if r < len(rows) and c < len(rows[r]) and rows[r][c] in ("", None):
                rows[r][c] = formula
        try:
            merges = ws.merged_cell_ranges
        except Exception:  # noqa: BLE001 - formats without merge information
            merges = None
        sheets[record_type] = (sheet, rows, merges)
    # Optional: the head's published reception calendar (lịch tiếp công dân, 01/TCD cột
    # 10, 16). A book without the sheet loads as before; its unit's calendar is absent.
    calendar_sheet = _find_sheet(wb.sheet_names, cfg.calendar_sheet)
    if calendar_sheet is not None:
        ws = wb.get_sheet_by_name(calendar_sheet)
        try:
            merges = ws.merged_cell_ranges
        except Exception:  # noqa: BLE001 - formats without merge information
            merges = None
        sheets["calendar"] = (calendar_sheet, ws.to_python(skip_empty_area=False), merges)

    notes: list[str] = []
    sample = list(wb.sheet_names)
    for _, rows, _ in sheets.values():
        for row in rows[:LEGACY_SAMPLE_ROWS]:
            sample.extend(c for c in row if isinstance(c, str) and not c.isascii())
    converter = legacy_encoding.workbook_converter(sample)
    if converter is not None:
        for record_type, (sheet, rows, merges) in sheets.items():
            # (the sheet keeps its own name in the lineage: it is what the file says)
            sheets[record_type] = (sheet, [[converter(c) if isinstance(c, str) else c for c in row]
                                           for row in rows], merges)
        notes.append(f"Tệp '{path.name}' được gõ bằng bảng mã {legacy_encoding.NAMES[converter.encoding]}: "
                     f"đã chuyển {converter.converted} ô sang Unicode và nạp bình thường; đề nghị đơn vị "
                     "dùng phông Unicode (Times New Roman) cho các sổ sau.")

    records = {}
    for record_type, (sheet, rows, merges) in sheets.items():
        result = read_sheet(rows, cols[record_type], totals, sheet, merges)
        notes.extend(result.notes)
        records[record_type] = [(n, {"_sheet": sheet, **v}) for n, v in result.records]
    return RegisterContent(records, notes, converter.encoding if converter else None)


LEGACY_SAMPLE_ROWS = 3000     # rows per sheet looked at to detect a legacy encoding


def ingest(engine: sa.Engine, cfg: Settings, *, inbox: Path | None = None, run_id: str | None = None) -> list[dict]:
    """Land every new or changed workbook in the inbox (`inbox`, else the configured one);
    returns one summary per batch.

    A workbook that cannot be read is a ``rejected`` batch with a rule code
    (FILE_NOT_READABLE, FILE_NAME_INVALID, SHEET_MISSING, COLUMNS_MISSING) and a
    message naming the file; the other files go on.
    """
    key = pseudonym_key(cfg)
    inbox = inbox or inbox_path(cfg)
    if not inbox.is_dir():
        raise FileNotFoundError(f"commune inbox {inbox} does not exist")
    rcfg = cfg.sources.commune_registers
    columns = cfg.register_columns()
    files = sorted(inbox.glob(rcfg.file_glob))
    # Biểu 06/QLKNTC workbooks share the inbox; they are another source's (connectors.qlkntc_workbooks).
    files = [p for p in files if not is_qlkntc_file(p, cfg.sources.qlkntc_workbooks.file_prefix)]
    with engine.connect() as conn:
        seen = {(r[0], r[1]) for r in conn.execute(
            sa.select(raw_file_manifest.c.logical_key, raw_file_manifest.c.checksum))}
    summaries = []
    for path in files:
        try:
            checksum, delivered = sha256_file(path), delivered_at(path)
        except OSError as exc:       # vanished or unreadable: record it, go on
            checksum, delivered = None, None
            read_error = exc
        else:
            read_error = None
        if checksum is not None and (path.stem, checksum) in seen:
            continue
        batch = Batch(SOURCE_KIND, "unknown", path.stem, str(path.relative_to(inbox)), run_id=run_id,
                      checksum=checksum, delivered_at=delivered)
        status, message, code = "loaded", None, None
        try:
            if read_error is not None:
                raise RegisterError(f"Tệp '{path.name}' không đọc được từ thư mục nhận sổ "
                                    f"({type(read_error).__name__}); gửi lại tệp.", "FILE_NOT_READABLE")
            reg = parse_file_name(path, rcfg.file_name_pattern)
            batch.source_name = reg.unit_code
            content = read_workbook(path, rcfg, columns)
            for record_type, rows in content.records.items():
                for row_no, values in rows:
                    sheet = values.pop("_sheet")
                    batch.add(record_type, f"{path.name}#{sheet}", values, key=key,
                              source_row=row_no, kind=values.get("loai"),
                              case_scope=pii.case_scope(reg.unit_code, values.get("ma_vu_viec"),
                                                        values.get("ngay_tiep", values.get("ngay_nhan"))))
            message = " ".join(content.notes) or None
        except RegisterError as exc:
            status, code, batch.rows = "rejected", exc.code, []
            message = str(exc) if path.name in str(exc) else f"Tệp '{path.name}': {exc}"
            log.warning("rejected %s: %s", path.name, message)
        except Exception as exc:
            status, code, batch.rows = "rejected", "FILE_NOT_READABLE", []
            message = (f"Tệp '{path.name}' không đọc được như một sổ tiếp công dân ({type(exc).__name__}); "
                       "lưu lại bằng Excel dưới dạng .xlsx theo mẫu rồi gửi lại.")
            log.exception("rejected %s", path.name)
        with engine.begin() as conn:
            summaries.append(batch.write(conn, status=status, message=message, reason_code=code))
            if checksum is not None:
                conn.execute(raw_file_manifest.insert().values(
                    logical_key=path.stem, checksum=checksum, path=str(path.relative_to(inbox)),
                    size_bytes=path.stat().st_size, delivered_at=delivered, batch_id=batch.batch_id,
                    ingested_at=utcnow()))
        if checksum is not None:
            seen.add((path.stem, checksum))
    log.info("commune registers: %d files in inbox, %d new batches, %d rows", len(files),
             len(summaries), sum(s["rows"] for s in summaries))
    return summaries
