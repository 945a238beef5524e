"""Biểu 06/QLKNTC input workbooks: one .xlsx per unit and period, filled in by the unit
from the template of connectors.qlkntc_template and dropped into the commune inbox.

Found by name anywhere under the inbox of the commune registers (same connection and
folder, any sub-folder): ``QLKNTC_<unit code>_<period key>.xlsx``, case ignored,
extension too (``config/pipeline.yaml`` ``sources.qlkntc_workbooks``). Each workbook
becomes one raw batch of source kind ``qlkntc_workbook``:

- **landed** (``loaded``): one raw row, record type ``qlkntc``, with the
  identification and the 17 cells as typed (and, from template version 2, the five
  cells of the optional sheet "Bảo vệ người tố cáo" as typed, ``bv_01`` … ``bv_05``; a
  version-1 workbook has no such keys and its 17 figures count all the same), and its lineage (file and sheet, worksheet
  row, the file's sha256 on the batch, its delivery time). Whether the figures are
  usable is decided by the consolidation (transforms.qlkntc), which quarantines a
  workbook with an empty, non-numeric, fractional or negative cell or one breaking the
  printed check 8 ≤ 6, or a protection block filled in part, with a bad cell or
  breaking its identities; the connector already names such problems in the batch message
  and the summary (``findings``), so the unit hears of them at once;
- **rejected**: nothing lands; ``raw_batch`` carries the rule code and a Vietnamese
  message naming the file and what to do — a name that is not the convention
  (QLKNTC_FILE_NAME), a file that is not a readable .xlsx (QLKNTC_FILE_NOT_READABLE),
  the data sheet gone, or the protection sheet of a version-2 template
  (QLKNTC_SHEET_MISSING), the template altered (the protection sheet's labels too) — identification
  area, header or MS row (QLKNTC_TEMPLATE_ALTERED), a unit code in the name other than
  the template's (QLKNTC_UNIT_MISMATCH), a unit not in force on the window's last day
  (QLKNTC_UNIT_UNKNOWN), a period or window dates other than the template's, or a
  period without the form (QLKNTC_WINDOW_MISMATCH).

Incremental like the registers, by ``raw_file_manifest`` (logical key, sha256): the
same workbook delivered again — same bytes, whatever its folder or the case of its
name — adds nothing; a changed workbook for the same unit and period is a new batch
that replaces the earlier one as a whole (the consolidation keeps the latest delivered
accepted version; a rejected re-delivery leaves the earlier one in force).

No exception escapes :func:`ingest`: an unreadable workbook is a rejected batch and the
others go on; a failure to record a batch is logged and reported as ``failed`` in the
summary. Messages name cells and columns and quote numbers, never the text typed in a
cell.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from python_calamine import CalamineWorkbook

from connectors import qlkntc_template as T
from connectors.inbox import inbox_path as register_inbox
from connectors.inbox import uncomputed_formulas
from connectors.qlkntc_values import PROTECTION_FIELDS, VALUE_FIELDS, problems
from connectors.raw import Batch
from core import config_schema, periods
from core.dates import as_date, utcnow, vn_local_time
from core.files import sha256_file
from core.settings import Settings
from warehouse import deployment, units
from warehouse.schema import raw_batch, raw_file_manifest

log = logging.getLogger(__name__)

SOURCE_KIND = "qlkntc_workbook"
RECORD_TYPE = "qlkntc"
KNOWN_VERSIONS = frozenset({T.TEMPLATE_VERSION_V1, T.TEMPLATE_VERSION})


class WorkbookError(ValueError):
    """The workbook cannot be accepted; the message says what to do, `code` is the rule
    (expectations/rules.yaml) recorded on the rejected batch."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def inbox_path(cfg: Settings) -> Path:
    """The commune inbox: the workbooks arrive beside the registers."""
    return register_inbox(cfg)


def is_qlkntc_file(path: Path, file_prefix: str) -> bool:
    """A file this connector owns: <file_prefix>….xlsx (``sources.qlkntc_workbooks.file_prefix``,
    QLKNTC_), case ignored. (The register connector leaves these alone.)"""
    name = path.name
    return (name.casefold().startswith(file_prefix.casefold())
            and name.casefold().endswith(".xlsx"))


def find_workbooks(inbox: Path, file_prefix: str) -> list[Path]:
    """Every QLKNTC workbook under the inbox, oldest delivery first (so that within one
    run a correction lands after the version it corrects)."""
    found = []
    for p in inbox.rglob("*"):
        try:
            if p.is_file() and is_qlkntc_file(p, file_prefix):
                found.append((p.stat().st_mtime, str(p), p))
        except OSError:       # vanished meanwhile: nothing to do with it
            continue
    return [p for _, _, p in sorted(found)]


@dataclass(frozen=True)
class WorkbookName:
    unit_code: str
    period_key: str

    @property
    def logical_key(self) -> str:
        """The canonical stem: one per unit and period, whatever the case typed."""
        return f"QLKNTC_{self.unit_code}_{self.period_key}"


def parse_file_name(path: Path, pattern: str) -> WorkbookName:
    """The unit and period of a workbook from its file name (`pattern`:
    ``sources.qlkntc_workbooks.file_name_pattern``)."""
    m = re.match(pattern, path.stem, re.IGNORECASE)
    if not m:
        raise WorkbookError(
            f"Tên tệp '{path.name}' không đúng quy ước QLKNTC_<mã đơn vị>_<kỳ báo cáo>.xlsx (ví dụ "
            "QLKNTC_00004_2025-Q4.xlsx); giữ nguyên tên tệp mẫu đã nhận rồi gửi lại.", "QLKNTC_FILE_NAME")
    return WorkbookName(m["unit_code"], m["period_key"].upper())


def delivered_at(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)


@dataclass
class WorkbookContent:
    identification: dict[str, str]
    values: dict[str, object]                    # cot_01 … cot_17, as typed
    unit_name: str
    period_label: str
    protection: dict[str, object] | None = None  # bv_01 … bv_05 as typed; None: no block (version 1)


def _text(v) -> str:
    return "" if v is None else str(v).strip()


class _Sheet:
    """A worksheet's cells read by calamine (every row from A1): fast, and the same
    reader as the registers'. A formula without a calculated value (a file written by a
    program) reads as its formula text, so it is named instead of passing for empty."""

    def __init__(self, wb, path: Path, name: str):
        self.rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for (r, c), formula in uncomputed_formulas(path, name).items():
            if r < len(self.rows) and c < len(self.rows[r]) and self.rows[r][c] in ("", None):
                self.rows[r][c] = formula

    def cell(self, row: int, col: int):
        """The value at 1-based (row, col); None outside the used area or when empty."""
        if row - 1 < len(self.rows) and col - 1 < len(self.rows[row - 1]):
            v = self.rows[row - 1][col - 1]
            return None if v == "" else v
        return None

    def __getitem__(self, address: str):
        col, row = coordinate_from_string(address)
        return self.cell(row, column_index_from_string(col))


def _read_identification(wb, path: Path, name: str) -> dict[str, str]:
    if T.ID_SHEET not in wb.sheet_names:
        raise WorkbookError(
            f"Tệp '{name}' không còn vùng định danh của mẫu biểu 06/QLKNTC (tệp được tạo lại hoặc chép sang "
            "tệp khác); lấy lại tệp mẫu của đơn vị cho kỳ này, nhập số liệu rồi gửi lại.", "QLKNTC_TEMPLATE_ALTERED")
    ws = _Sheet(wb, path, T.ID_SHEET)
    ident = {}
    for i, key in enumerate(T.ID_KEYS, start=1):
        if _text(ws.cell(i, 1)) != key:
            raise WorkbookError(f"Tệp '{name}': vùng định danh của mẫu đã bị sửa (dòng {i}); lấy lại tệp mẫu "
                                "của đơn vị cho kỳ này rồi gửi lại.", "QLKNTC_TEMPLATE_ALTERED")
        ident[key] = _text(ws.cell(i, 2))
    if ident["mau"] != T.FORM_CODE or ident["phien_ban_mau"] not in KNOWN_VERSIONS:
        raise WorkbookError(f"Tệp '{name}' không phải mẫu biểu 06/QLKNTC đang dùng (phiên bản mẫu không nhận "
                            "được); lấy tệp mẫu mới cho kỳ này rồi gửi lại.", "QLKNTC_TEMPLATE_ALTERED")
    if T.id_checksum(ident) != ident["ma_kiem_tra"]:
        raise WorkbookError(f"Tệp '{name}': thông tin định danh của mẫu (đơn vị, kỳ báo cáo) đã bị sửa; lấy lại "
                            "tệp mẫu của đơn vị cho kỳ này rồi gửi lại.", "QLKNTC_TEMPLATE_ALTERED")
    if ident["trang_so_lieu"] != T.DATA_SHEET or ident["dong_so_lieu"] != str(T.DATA_ROW):
        raise WorkbookError(f"Tệp '{name}' được tạo theo bố cục mẫu khác; lấy tệp mẫu mới cho kỳ này rồi gửi lại.",
                            "QLKNTC_TEMPLATE_ALTERED")
    return ident


def _check_layout(ws: _Sheet, name: str) -> None:
    """Header band, MS row and the columns beyond the form: an inserted or deleted row
    or column, or an edited heading, moves or changes one of them."""
    expected = {(T.HEADER_TOP + row, 1 + c0): text for text, row, _, c0, _ in T.HEADER_CELLS}
    expected[(T.MS_ROW, 1)] = T.MS_LABEL
    for i, (label, _) in enumerate(T.COLUMNS):
        expected[(T.MS_ROW, T.FIRST_DATA_COL + i)] = label
    changed = [f"{get_column_letter(c)}{r}" for (r, c), text in sorted(expected.items())
               if _text(ws.cell(r, c)) != text]
    extra = [f"{get_column_letter(T.LAST_COL + 1)}{r}" for r in range(T.HEADER_TOP, T.DATA_ROW + 1)
             if _text(ws.cell(r, T.LAST_COL + 1))]
    if changed or extra:
        where = ", ".join((changed + extra)[:6]) + (" …" if len(changed + extra) > 6 else "")
        raise WorkbookError(
            f"Tệp '{name}': tiêu đề cột hoặc dòng mã số (MS) của biểu đã bị sửa, hoặc có cột, dòng chèn thêm "
            f"(ô {where}); lấy lại tệp mẫu của đơn vị cho kỳ này, chỉ nhập số vào 17 ô màu vàng rồi gửi lại.",
            "QLKNTC_TEMPLATE_ALTERED")


def _check_protection_layout(ws: _Sheet, name: str) -> None:
    """The protection sheet's header, item numbers and labels where the template put
    them: the unit typed its numbers against these texts."""
    expected = {(T.PROTECTION_HEADER_ROW, col): text for col, text in enumerate(T.PROTECTION_HEADER, start=1)}
    for item, (label, _) in enumerate(T.PROTECTION_ITEMS, start=1):
        expected[(T.PROTECTION_FIRST_ROW + item - 1, 1)] = f"({item})"
        expected[(T.PROTECTION_FIRST_ROW + item - 1, 2)] = label
    changed = [f"{get_column_letter(c)}{r}" for (r, c), text in sorted(expected.items())
               if _text(ws.cell(r, c)) != text]
    if changed:
        raise WorkbookError(
            f"Tệp '{name}': trang '{T.PROTECTION_SHEET}' đã bị sửa tiêu đề, số thứ tự hoặc tên chỉ tiêu, hoặc có "
            f"dòng chèn thêm (ô {', '.join(changed[:6])}{' …' if len(changed) > 6 else ''}); lấy lại tệp mẫu của "
            "đơn vị cho kỳ này, chỉ nhập số vào các ô màu vàng rồi gửi lại.", "QLKNTC_TEMPLATE_ALTERED")


def _check_unit_and_window(ws: _Sheet, ident: dict[str, str], wn: WorkbookName, name: str, applies_from: dt.date):
    """The identification against the file name and the visible cells; returns the Period."""
    if wn.unit_code != ident["ma_don_vi"]:
        raise WorkbookError(
            f"Tên tệp '{name}' ghi mã đơn vị {wn.unit_code} nhưng tệp là mẫu của đơn vị {ident['ma_don_vi']} "
            f"({ident['ten_don_vi']}); dùng đúng tệp mẫu cấp cho đơn vị mình, giữ nguyên tên tệp, rồi gửi lại.",
            "QLKNTC_UNIT_MISMATCH")
    if _text(ws[T.UNIT_CODE_CELL]) != ident["ma_don_vi"]:
        raise WorkbookError(
            f"Tệp '{name}': ô mã đơn vị ({T.UNIT_CODE_CELL}) đã bị sửa, không còn là {ident['ma_don_vi']} của "
            "mẫu; lấy lại tệp mẫu của đơn vị rồi gửi lại.", "QLKNTC_UNIT_MISMATCH")
    if wn.period_key != ident["ky_bao_cao"]:
        raise WorkbookError(
            f"Tên tệp '{name}' ghi kỳ {wn.period_key} nhưng tệp là mẫu của kỳ {ident['ky_bao_cao']} "
            f"(từ {_vn(ident['tu_ngay'])} đến {_vn(ident['den_ngay'])}); dùng đúng tệp mẫu của kỳ cần báo cáo "
            "rồi gửi lại.", "QLKNTC_WINDOW_MISMATCH")
    try:
        period = periods.parse(ident["ky_bao_cao"])
    except ValueError:
        raise WorkbookError(f"Tệp '{name}': kỳ báo cáo của mẫu không đọc được; lấy tệp mẫu mới rồi gửi lại.",
                            "QLKNTC_WINDOW_MISMATCH") from None
    if period.end < applies_from:
        raise WorkbookError(
            f"Tệp '{name}' là số liệu kỳ {period.label} (đến {period.end:%d/%m/%Y}): biểu 06/QLKNTC chỉ áp dụng "
            f"cho kỳ kết thúc từ {applies_from:%d/%m/%Y}; không gửi biểu này cho kỳ đó.",
            "QLKNTC_WINDOW_MISMATCH")
    if (ident["tu_ngay"], ident["den_ngay"]) != (period.start.isoformat(), period.end.isoformat()):
        raise WorkbookError(
            f"Tệp '{name}': ngày của kỳ trong mẫu không khớp kỳ {period.label} ({period.start:%d/%m/%Y} – "
            f"{period.end:%d/%m/%Y}); lấy tệp mẫu mới cho kỳ này rồi gửi lại.", "QLKNTC_WINDOW_MISMATCH")
    shown = (_text(ws[T.PERIOD_KEY_CELL]), as_date(ws[T.WINDOW_START_CELL]), as_date(ws[T.WINDOW_END_CELL]),
             _text(ws.cell(T.DATE_ROW, 1)))
    if shown != (period.key, period.start, period.end, T.date_line(period.start, period.end)):
        raise WorkbookError(
            f"Tệp '{name}': kỳ báo cáo hoặc các ngày \"Số liệu tính từ ngày … đến ngày …\" trên trang số liệu đã "
            f"bị sửa (mẫu là kỳ {period.label}, từ {period.start:%d/%m/%Y} đến {period.end:%d/%m/%Y}); không "
            "sửa các ô này — lấy lại tệp mẫu của kỳ cần báo cáo rồi gửi lại.", "QLKNTC_WINDOW_MISMATCH")
    return period


def _check_unit_known(ident: dict[str, str], period, name: str, levels: set[str], unit_df) -> None:
    df = units.units_valid_on(unit_df, period.end)
    if not ((df["unit_code"] == ident["ma_don_vi"]) & df["level"].isin(levels)).any():
        raise WorkbookError(
            f"Tệp '{name}': mã đơn vị {ident['ma_don_vi']} không phải đơn vị báo cáo của thành phố vào ngày "
            f"{period.end:%d/%m/%Y} (ngày cuối kỳ {period.label}); dùng tệp mẫu mới cấp cho đơn vị hiện nay rồi "
            "gửi lại.", "QLKNTC_UNIT_UNKNOWN")


def _vn(iso: str) -> str:
    d = as_date(iso)
    return d.strftime("%d/%m/%Y") if d else "?"


def _as_typed(v):
    """A cell value for the raw payload: calamine reads every number as a float (Excel
    stores doubles); a whole one is kept as an int, anything else as read."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def read_workbook(path: Path, wn: WorkbookName, wcfg: config_schema.QlkntcWorkbooks, unit_df) -> WorkbookContent:
    """Read and check one workbook against `wcfg` (``sources.qlkntc_workbooks``) and the
    units `unit_df` (warehouse.units.unit_frame); raises WorkbookError (with its rule)
    when it cannot be accepted."""
    name = path.name
    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheets = list(wb.sheet_names)
    except Exception as exc:  # noqa: BLE001 - calamine raises its own error types for corrupt files
        raise WorkbookError(f"Tệp '{name}' không mở được như một tệp Excel .xlsx ({type(exc).__name__}); mở tệp "
                            "mẫu bằng Excel, nhập số liệu, lưu dưới dạng .xlsx rồi gửi lại.",
                            "QLKNTC_FILE_NOT_READABLE") from None
    if T.DATA_SHEET not in sheets:
        present = ", ".join([f"'{s[:31]}'" for s in sheets if s != T.ID_SHEET][:5]) or "không có"
        raise WorkbookError(f"Tệp '{name}' không có trang '{T.DATA_SHEET}' của mẫu (các trang hiện có: {present}); "
                            "nhập số liệu vào đúng tệp mẫu đã nhận, không đổi tên hay xóa trang, rồi gửi lại.",
                            "QLKNTC_SHEET_MISSING")
    ident = _read_identification(wb, path, name)
    ws = _Sheet(wb, path, T.DATA_SHEET)
    _check_layout(ws, name)
    period = _check_unit_and_window(ws, ident, wn, name, wcfg.applies_from_window_end)
    _check_unit_known(ident, period, name, set(wcfg.levels), unit_df)
    values = {f: _as_typed(ws[T.data_cell(ms)]) for ms, f in enumerate(VALUE_FIELDS, start=1)}
    protection = None
    if ident["phien_ban_mau"] != T.TEMPLATE_VERSION_V1:
        # From version 2 the template has the protection sheet (filling it is optional;
        # the workbook's structure is locked, so a missing sheet is a tampered file).
        if T.PROTECTION_SHEET not in sheets:
            raise WorkbookError(
                f"Tệp '{name}' không còn trang '{T.PROTECTION_SHEET}' của mẫu; nhập số liệu vào đúng tệp mẫu đã "
                "nhận, không đổi tên hay xóa trang (trang này không bắt buộc nhập, có thể để trống), rồi gửi lại.",
                "QLKNTC_SHEET_MISSING")
        bv = _Sheet(wb, path, T.PROTECTION_SHEET)
        _check_protection_layout(bv, name)
        protection = {f: _as_typed(bv[T.protection_cell(i)]) for i, f in enumerate(PROTECTION_FIELDS, start=1)}
    return WorkbookContent(ident, values, ident["ten_don_vi"], period.label, protection)


def _payload(content: WorkbookContent) -> dict:
    ident = content.identification
    return {"ma_don_vi": ident["ma_don_vi"], "ten_don_vi": ident["ten_don_vi"], "cap": ident["cap"],
            "ky_bao_cao": ident["ky_bao_cao"], "tu_ngay": ident["tu_ngay"], "den_ngay": ident["den_ngay"],
            "phien_ban_mau": ident["phien_ban_mau"], **content.values, **(content.protection or {})}


def _earlier_versions(conn: sa.Connection, logical_key: str) -> list[dt.datetime]:
    return [r[0] for r in conn.execute(
        sa.select(sa.func.coalesce(raw_batch.c.delivered_at, raw_batch.c.started_at)).where(
            raw_batch.c.source_kind == SOURCE_KIND, raw_batch.c.logical_key == logical_key,
            raw_batch.c.status == "loaded"))]


def ingest(engine: sa.Engine, cfg: Settings, *, inbox: Path | None = None, run_id: str | None = None) -> list[dict]:
    """Land every new or changed QLKNTC workbook in the inbox (`inbox`, else the
    configured one); one summary per batch (``findings``: the problems the consolidation
    will quarantine the figures for)."""
    summaries: list[dict] = []
    wcfg = cfg.sources.qlkntc_workbooks
    try:
        inbox = inbox or inbox_path(cfg)
        if not inbox.is_dir():
            raise FileNotFoundError(f"inbox {inbox} does not exist")
        files = find_workbooks(inbox, wcfg.file_prefix)
        unit_df = deployment.unit_frame(cfg)
        with engine.connect() as conn:
            seen = {(r[0], r[1]) for r in conn.execute(
                sa.select(raw_file_manifest.c.logical_key, raw_file_manifest.c.checksum))}
    except Exception as exc:
        log.exception("QLKNTC workbooks: inbox not readable")
        return [{"batch_id": None, "source_kind": SOURCE_KIND, "logical_key": "QLKNTC inbox", "rows": 0,
                 "status": "failed", "reason_code": "SOURCE_UNREACHABLE",
                 "message": f"Không đọc được thư mục nhận tệp biểu 06/QLKNTC ({type(exc).__name__}); bộ phận "
                            "quản trị kiểm tra cấu hình thư mục nhận (sources.commune_registers).",
                 "findings": []}]
    skipped = 0
    for path in files:
        try:
            summary = _ingest_one(engine, inbox, path, seen, run_id, wcfg, unit_df)
        except Exception as exc:
            log.exception("QLKNTC workbook %s not processed", path.name)
            summary = {"batch_id": None, "source_kind": SOURCE_KIND, "logical_key": path.stem, "rows": 0,
                       "status": "failed", "reason_code": "SOURCE_UNREACHABLE", "file": path.name, "findings": [],
                       "message": f"Tệp '{path.name}' chưa xử lý được ({type(exc).__name__}); lần chạy sau sẽ thử lại."}
        if summary is None:
            skipped += 1
        else:
            summaries.append(summary)
    log.info("QLKNTC workbooks: %d in inbox, %d already landed, %d new batches (%d rejected)", len(files), skipped,
             len(summaries), sum(s["status"] != "loaded" for s in summaries))
    return summaries


def _ingest_one(engine, inbox: Path, path: Path, seen: set, run_id, wcfg: config_schema.QlkntcWorkbooks,
                unit_df) -> dict | None:
    try:
        checksum, delivered = sha256_file(path), delivered_at(path)
        size = path.stat().st_size
    except OSError as exc:     # vanished or unreadable: record it, go on
        checksum, delivered, size, read_error = None, None, 0, exc
    else:
        read_error = None
    try:
        wn: WorkbookName | None = parse_file_name(path, wcfg.file_name_pattern)
    except WorkbookError:
        wn = None
    logical_key = wn.logical_key if wn else path.stem
    if checksum is not None and (logical_key, checksum) in seen:
        return None          # the same workbook again: nothing to add
    rel = str(path.relative_to(inbox))
    batch = Batch(SOURCE_KIND, wn.unit_code if wn else "unknown", logical_key, rel, run_id=run_id,
                  checksum=checksum, delivered_at=delivered)
    status, code, findings = "loaded", None, []
    try:
        if read_error is not None:
            raise WorkbookError(f"Tệp '{path.name}' không đọc được từ thư mục nhận ({type(read_error).__name__}); "
                                "gửi lại tệp.", "QLKNTC_FILE_NOT_READABLE")
        if wn is None:
            parse_file_name(path, wcfg.file_name_pattern)            # raises with the message
        content = read_workbook(path, wn, wcfg, unit_df)
        payload = _payload(content)
        # No personal data in this form; the key is never used (no identity field).
        batch.add(RECORD_TYPE, f"{path.name}#{T.DATA_SHEET}", payload, key=b"", source_row=T.DATA_ROW,
                  record_id=f"{wn.unit_code}:{wn.period_key}",
                  record_version=delivered.isoformat(timespec="seconds") if delivered else None)
        findings = [{"rule": rule, "reason": reason} for rule, reason in problems(payload)]
        message = f"Đã nhận số liệu biểu 06/QLKNTC của {content.unit_name}, {content.period_label}."
        with engine.connect() as conn:
            earlier = _earlier_versions(conn, logical_key)
        if earlier:
            message += (f" Bản gửi lại: thay thế toàn bộ bản đã nhận lúc {vn_local_time(max(earlier))}.")
        if findings:
            message += (" Số liệu chưa được dùng (sẽ bị cách ly khi hợp nhất): "
                        + "; ".join(f["reason"] for f in findings)
                        + ". Sửa trong tệp rồi gửi lại với cùng tên tệp.")
    except WorkbookError as exc:
        status, code, batch.rows = "rejected", exc.code, []
        message = str(exc)
        log.warning("rejected %s: %s", path.name, message)
    except Exception as exc:
        status, code, batch.rows = "rejected", "QLKNTC_FILE_NOT_READABLE", []
        message = (f"Tệp '{path.name}' không đọc được như biểu 06/QLKNTC ({type(exc).__name__}); lấy lại tệp mẫu, "
                   "nhập số liệu, lưu dưới dạng .xlsx rồi gửi lại.")
        log.exception("rejected %s", path.name)
    try:
        with engine.begin() as conn:
            summary = batch.write(conn, status=status, message=message, reason_code=code)
            if checksum is not None:
                conn.execute(raw_file_manifest.insert().values(
                    logical_key=logical_key, checksum=checksum, path=rel, size_bytes=size,
                    delivered_at=delivered, batch_id=batch.batch_id, ingested_at=utcnow()))
    except Exception as exc:
        log.exception("QLKNTC workbook %s could not be recorded", path.name)
        return {"batch_id": None, "source_kind": SOURCE_KIND, "logical_key": logical_key, "rows": 0,
                "status": "failed", "reason_code": "SOURCE_UNREACHABLE",
                "message": f"Tệp '{path.name}' chưa ghi được vào kho ({type(exc).__name__}); lần chạy sau sẽ thử lại.",
                "findings": [], "file": rel}
    if checksum is not None:
        seen.add((logical_key, checksum))
    summary["findings"] = findings
    summary["file"] = rel
    return summary
