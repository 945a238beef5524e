"""Commune registers (sổ tiếp công dân, sổ theo dõi đơn): .xlsx workbooks in an inbox.

Incremental by a manifest of (file name, sha256): a file already landed with the same
content is skipped; a changed file is landed as a new batch that supersedes the earlier
version of that file as a whole (consolidation keeps the latest batch per file name).
A file that cannot be read is recorded as a rejected batch with the reason, and the
other files go on.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from connectors.raw import Batch, utcnow
from pipeline import settings
from transforms import normalise
from warehouse.schema import raw_file_manifest

log = logging.getLogger(__name__)
SOURCE_KIND = "commune_register"


class RegisterError(ValueError):
    """The workbook cannot be read as a register; the message says what to fix."""


def inbox_path() -> Path:
    cfg = settings.config()["sources"]["commune_registers"]
    c = settings.connection(cfg["conn_id"])
    if c and c.extra and c.extra.get("path"):
        return Path(c.extra["path"])
    return settings.resolve(os.environ.get("TCD_COMMUNE_INBOX") or cfg["default_path"])


def _columns_config() -> dict:
    import yaml  # noqa: PLC0415

    cfg = settings.config()["sources"]["commune_registers"]
    with open(settings.PROJECT_ROOT / cfg["columns"], encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class RegisterFile:
    path: Path
    logical_key: str      # file name without extension, as delivered
    unit_code: str
    year: int


def parse_file_name(path: Path) -> RegisterFile:
    pattern = settings.config()["sources"]["commune_registers"]["file_name_pattern"]
    m = re.match(pattern, path.stem)
    if not m:
        raise RegisterError(
            f"Tên tệp '{path.name}' không đúng quy ước <mã đơn vị 5 số>_<tên>_<năm>.xlsx "
            "(ví dụ 00004_truc-bach_2024.xlsx); đổi tên tệp rồi gửi lại.")
    return RegisterFile(path, path.stem, m["unit_code"], int(m["year"]))


def _find_sheet(names: list[str], wanted: list[str]) -> str | None:
    folded = {normalise.fold(n): n for n in names}
    for w in wanted:
        if normalise.fold(w) in folded:
            return folded[normalise.fold(w)]
    return None


def _header_map(row: list, columns: dict[str, list[str]]) -> dict[int, str]:
    alias = {normalise.fold(a): field for field, aliases in columns.items() for a in aliases}
    out: dict[int, str] = {}
    for i, cell in enumerate(row):
        if isinstance(cell, str) and cell.strip():
            field = alias.get(normalise.fold(cell))
            if field and field not in out.values():
                out[i] = field
    return out


def read_sheet(rows: list[list], spec: dict, totals: set[str], sheet_label: str) -> list[tuple[int, dict]]:
    """(worksheet row number, {field: value}) for each record row of a register sheet."""
    header_idx, mapping = None, {}
    for i, row in enumerate(rows[:15]):
        m = _header_map(row, spec["columns"])
        if "stt" in m.values() and spec["date_field"] in m.values():
            header_idx, mapping = i, m
            break
    if header_idx is None:
        raise RegisterError(
            f"Không tìm thấy dòng tiêu đề ở trang '{sheet_label}' (cần cột 'STT' và cột ngày trong 15 dòng đầu).")
    missing = [f for f in spec["required"] if f not in mapping.values()]
    if missing:
        names = ", ".join(spec["columns"][f][0] for f in missing)
        raise RegisterError(f"Trang '{sheet_label}' thiếu cột bắt buộc: {names}.")
    out = []
    for i in range(header_idx + 1, len(rows)):
        row = rows[i]
        values = {field: row[col] if col < len(row) else None for col, field in mapping.items()}
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
        filled = [v for v in values.values() if v not in (None, "")]
        if not filled:
            continue                                   # blank row
        if len(_header_map(row, spec["columns"])) >= max(2, len(mapping) // 2):
            continue                                   # the header repeated (e.g. on each printed page)
        first_text = next((normalise.fold(c) for c in row if isinstance(c, str) and c.strip()), "")
        if first_text in totals and values.get(spec["date_field"]) in (None, ""):
            continue                                   # total row
        # Sub-header rows that number the columns "(1) (2) …" are not records either.
        if all(isinstance(v, str) and re.fullmatch(r"\(?\d{1,2}\)?", v) for v in filled) and \
                values.get(spec["date_field"]) not in (None, "") and \
                not re.search(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}", str(values.get(spec["date_field"]))):
            continue
        out.append((i + 1, values))
    return out


def read_workbook(path: Path) -> dict[str, list[tuple[int, dict]]]:
    """Read both sheets of a register workbook with python-calamine (fast, read-only)."""
    from python_calamine import CalamineWorkbook  # noqa: PLC0415

    cfg = settings.config()["sources"]["commune_registers"]
    cols = _columns_config()
    totals = {normalise.fold(t) for t in cols["total_row_labels"]}
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise RegisterError(f"Tệp '{path.name}' không mở được như một tệp Excel .xlsx ({type(exc).__name__}); "
                            "lưu lại bằng Excel dưới dạng .xlsx rồi gửi lại.") from None
    result = {}
    for record_type, sheet_cfg in (("reception", "reception_sheet"), ("petition", "petition_sheet")):
        sheet = _find_sheet(wb.sheet_names, cfg[sheet_cfg])
        if sheet is None:
            raise RegisterError(
                f"Tệp '{path.name}' không có trang '{cfg[sheet_cfg][0]}' (các trang hiện có: "
                f"{', '.join(wb.sheet_names)}).")
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        result[record_type] = [(n, {"_sheet": sheet, **v}) for n, v in
                               read_sheet(rows, cols[record_type], totals, sheet)]
    return result


def ingest(engine: sa.Engine, *, inbox: Path | None = None, run_id: str | None = None) -> list[dict]:
    """Land every new or changed workbook in the inbox; returns one summary per batch."""
    from transforms.pii import pseudonym_key  # noqa: PLC0415

    key = pseudonym_key()
    inbox = inbox or inbox_path()
    if not inbox.is_dir():
        raise FileNotFoundError(f"commune inbox {inbox} does not exist")
    files = sorted(inbox.glob(settings.config()["sources"]["commune_registers"]["file_glob"]))
    with engine.connect() as conn:
        seen = {(r[0], r[1]) for r in conn.execute(
            sa.select(raw_file_manifest.c.logical_key, raw_file_manifest.c.checksum))}
    summaries = []
    for path in files:
        checksum = sha256_file(path)
        if (path.stem, checksum) in seen:
            continue
        batch = Batch(SOURCE_KIND, "unknown", path.stem, str(path.relative_to(inbox)), run_id=run_id,
                      checksum=checksum)
        status, message = "loaded", None
        try:
            reg = parse_file_name(path)
            batch.source_name = reg.unit_code
            for record_type, rows in read_workbook(path).items():
                for row_no, values in rows:
                    sheet = values.pop("_sheet")
                    batch.add(record_type, f"{path.name}#{sheet}", values, key=key,
                              source_row=row_no, kind=values.get("loai"))
        except RegisterError as exc:
            status, message, batch.rows = "rejected", str(exc), []
            log.warning("rejected %s: %s", path.name, message)
        with engine.begin() as conn:
            summaries.append(batch.write(conn, status=status, message=message))
            conn.execute(raw_file_manifest.insert().values(
                logical_key=path.stem, checksum=checksum, path=str(path.relative_to(inbox)),
                size_bytes=path.stat().st_size, batch_id=batch.batch_id, ingested_at=utcnow()))
        seen.add((path.stem, checksum))
    log.info("commune registers: %d files in inbox, %d new batches, %d rows", len(files),
             len(summaries), sum(s["rows"] for s in summaries))
    return summaries
