"""Commune registers as people keep them: one .xlsx per commune per year (contract §1).

Every workbook draws its own "habits" from a stream seeded by its file name: header
variants from the contract's accepted list, a slightly different column order, some
optional columns left out, dates typed as text (dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy)
or entered as real dates, decomposed (NFD) Unicode, merged title rows above the header,
blank rows, a total row, and a few rows entered twice (same content, next STT).

With defects on (simulators.defects) a book also gets broken extra rows, dates in
other valid forms, NFD rows and repeated header rows at documented shares, and a few
books are written in a legacy 8-bit code (TCVN3, VNI; simulators.legacy_encoding).

The xlsx bytes are deterministic: workbook properties are set from the data and the
zip entries carry a fixed timestamp (openpyxl's own save stamps the wall clock).
"""
from __future__ import annotations

import datetime as dt
import io
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from simulators.calendar import write_sheet
from simulators.citizens import format_phone
from simulators.core import Rng, Unit, end_of_day, month_end
from simulators.defects import COUNTED, DUPLICATE_ROW, REGISTER_ROW_DEFECTS, defect
from simulators.legacy_encoding import FONTS, encode
from simulators.model import (
    DECISION_AMOUNTS,
    DECISION_COUNTS,
    EXECUTION_AMOUNTS,
    EXECUTION_COUNTS,
    Petition,
    Reception,
    UnitSim,
)
from simulators.vocabulary import GROUP_MIN

RECEPTION_SHEET = "Tiếp công dân"
PETITION_SHEET = "Đơn thư"
# Books typed in a legacy 8-bit code name their sheets without diacritics (tab names
# are shown in the system font, where legacy bytes would be garbage); the contract's
# sheet matching ignores diacritics.
LEGACY_SHEETS = ("Tiep cong dan", "Don thu")

# field -> (accepted headers, weights of use); the first header is the usual one.
RECEPTION_COLUMNS = [
    ("stt", ["STT", "Số TT", "TT"], [8, 1, 1]),
    ("ngay_tiep", ["Ngày tiếp", "Ngày tiếp công dân", "Ngày, tháng, năm"], [5, 3, 2]),
    ("ho_ten_dia_chi", ["Họ tên và địa chỉ", "Họ và tên, địa chỉ"], [3, 1]),
    ("so_giay_to", ["CCCD/Hộ chiếu", "Số CCCD/Hộ chiếu", "Số CCCD/CMND"], [3, 3, 2]),
    ("dien_thoai", ["Số điện thoại", "Điện thoại"], [3, 1]),
    ("noi_dung", ["Tóm tắt nội dung", "Nội dung vụ việc"], [3, 1]),
    ("loai", ["Phân loại", "Loại đơn", "Loại (KN/TC/KNPA)"], [3, 1, 2]),
    ("so_nguoi", ["Số người", "Số người cùng nội dung"], [2, 1]),
    ("hinh_thuc", ["Hình thức tiếp"], [1]),
    ("nguoi_tiep", ["Người tiếp"], [1]),
    ("lan_tiep", ["Lần tiếp"], [1]),
    ("ma_vu_viec", ["Mã vụ việc", "Số hồ sơ vụ việc"], [3, 1]),
    ("co_quan_da_giai_quyet", ["Cơ quan đã giải quyết"], [1]),
    ("thuoc_tham_quyen", ["Thuộc thẩm quyền"], [1]),
    ("huong_dan", ["Hướng dẫn"], [1]),
    ("chuyen_don", ["Chuyển đơn (cơ quan thụ lý, số văn bản)"], [1]),
    ("theo_doi_ket_qua", ["Theo dõi kết quả"], [1]),
    ("ghi_chu", ["Ghi chú"], [1]),
]
PETITION_COLUMNS = [
    ("stt", ["STT"], [1]),
    ("ngay_nhan", ["Ngày nhận đơn", "Ngày nhận"], [3, 1]),
    ("ho_ten_dia_chi", ["Họ tên và địa chỉ người viết đơn", "Họ tên và địa chỉ"], [2, 1]),
    ("so_giay_to", ["CCCD/Hộ chiếu", "Số CCCD/Hộ chiếu"], [1, 1]),
    ("dien_thoai", ["Số điện thoại"], [1]),
    ("noi_dung", ["Tóm tắt nội dung"], [1]),
    ("nguon_don", ["Nguồn đơn"], [1]),
    ("loai", ["Phân loại", "Loại đơn"], [2, 1]),
    ("so_nguoi_dung_ten", ["Số người đứng tên"], [1]),
    ("linh_vuc", ["Lĩnh vực"], [1]),
    ("ma_vu_viec", ["Mã vụ việc"], [1]),
    ("du_dieu_kien", ["Đủ điều kiện xử lý"], [1]),
    ("tham_quyen", ["Thẩm quyền"], [1]),
    ("xu_ly", ["Hình thức xử lý"], [1]),
    ("van_ban_phuc_dap", ["Văn bản phúc đáp"], [1]),
    ("tinh_trang", ["Tình trạng giải quyết"], [1]),
    ("ngay_xu_ly", ["Ngày xử lý", "Ngày xử lý đơn"], [3, 1]),
    ("ngay_thu_ly", ["Ngày thụ lý", "Ngày thụ lý giải quyết"], [2, 1]),
    ("ngay_giai_quyet", ["Ngày giải quyết"], [1]),
    ("lan_giai_quyet", ["Lần giải quyết", "Giải quyết lần"], [3, 1]),
    ("ket_qua", ["Kết quả giải quyết", "Kết quả"], [3, 1]),
    ("dung_han", ["Đúng hạn", "Chấp hành thời hạn"], [2, 1]),
    ("thu_hoi_tien", ["Thu hồi tiền (triệu đồng)", "Kiến nghị thu hồi tiền (tr.đ)"], [2, 1]),
    ("thu_hoi_dat", ["Thu hồi đất (m2)", "Kiến nghị thu hồi đất (m²)"], [2, 1]),
    ("tra_to_chuc_tien", ["Trả tổ chức: tiền (triệu đồng)"], [1]),
    ("tra_to_chuc_dat", ["Trả tổ chức: đất (m2)"], [1]),
    ("tra_ca_nhan_tien", ["Trả cá nhân: tiền (triệu đồng)"], [1]),
    ("tra_ca_nhan_dat", ["Trả cá nhân: đất (m2)"], [1]),
    ("so_to_chuc_duoc_tra", ["Số tổ chức được trả quyền lợi"], [1]),
    ("so_ca_nhan_duoc_tra", ["Số cá nhân được trả quyền lợi"], [1]),
    ("xu_ly_hc_so_nguoi", ["Xử lý hành chính: số người", "Kiến nghị xử lý hành chính (người)"], [2, 1]),
    ("xu_ly_hc_cbccvc", ["Xử lý hành chính: CBCCVC", "Trong đó CBCCVC bị xử lý hành chính"], [2, 1]),
    ("chuyen_dieu_tra_so_vu", ["Chuyển điều tra: số vụ", "Chuyển cơ quan điều tra (vụ)"], [2, 1]),
    ("chuyen_dieu_tra_so_nguoi", ["Chuyển điều tra: số người", "Chuyển cơ quan điều tra (người)"], [2, 1]),
    ("chuyen_dieu_tra_cbccvc", ["Chuyển điều tra: CBCCVC", "Chuyển cơ quan điều tra (CBCCVC)"], [2, 1]),
    ("ghi_chu", ["Ghi chú"], [1]),
]
# Execution of decisions (thi hành quyết định / thực hiện kết luận), added after the
# decision's columns. Their header variants come from a stream of their own
# (``habits_for``), so the layout drawn for the older columns is unchanged.
EXECUTION_COLUMNS = [
    ("ngay_thi_hanh_xong", ["Ngày thi hành xong", "Ngày thực hiện xong"], [3, 1]),
    ("da_thu_tien", ["Đã thu tiền (triệu đồng)", "Đã thu hồi tiền (tr.đ)"], [3, 1]),
    ("da_thu_dat", ["Đã thu đất (m2)", "Đã thu hồi đất (m²)"], [3, 1]),
    ("da_tra_to_chuc_tien", ["Đã trả tổ chức: tiền (triệu đồng)"], [1]),
    ("da_tra_to_chuc_dat", ["Đã trả tổ chức: đất (m2)"], [1]),
    ("da_tra_ca_nhan_tien", ["Đã trả cá nhân: tiền (triệu đồng)"], [1]),
    ("da_tra_ca_nhan_dat", ["Đã trả cá nhân: đất (m2)"], [1]),
    ("da_xu_ly_hc_so_nguoi", ["Đã xử lý hành chính: số người"], [1]),
    ("da_xu_ly_hc_cbccvc", ["Đã xử lý hành chính: CBCCVC"], [1]),
    ("da_khoi_to_so_vu", ["Đã khởi tố: số vụ"], [1]),
    ("da_khoi_to_so_nguoi", ["Đã khởi tố: số người"], [1]),
    ("da_khoi_to_cbccvc", ["Đã khởi tố: CBCCVC"], [1]),
]
# TT 06/2025 columns (không thụ lý; organisations recommended for / subjected to
# administrative handling), in the books from TT06_COLUMNS_FROM on: the template units
# were given for the Năm 2025 report (its window opens 15/12/2024). Older books lack
# them; their units' cells of 03/GQKN, 04/GQTC 3–6 and 20 and 05/KQTH 26 stay empty.
TT06_COLUMNS = [
    ("ngay_khong_thu_ly", ["Ngày không thụ lý", "Ngày thông báo không thụ lý"], [2, 1]),
    ("xu_ly_hc_so_to_chuc", ["Xử lý hành chính: số tổ chức", "Kiến nghị xử lý hành chính (tổ chức)"], [2, 1]),
    ("da_xu_ly_hc_so_to_chuc", ["Đã xử lý hành chính: số tổ chức"], [1]),
]
TT06_COLUMNS_FROM = 2024


def carries_tt06(file_name: str) -> bool:
    """Whether the book of that name has the TT 06/2025 columns (by its year)."""
    return int(file_name.rsplit("_", 1)[1][:4]) >= TT06_COLUMNS_FROM


# Optional columns some registers leave out, with the chance they do.
RECEPTION_OPTIONAL = {"dien_thoai": 0.25, "co_quan_da_giai_quyet": 0.2, "theo_doi_ket_qua": 0.2,
                      "ghi_chu": 0.1, "chuyen_don": 0.1}
PETITION_OPTIONAL = {"dien_thoai": 0.3, "ghi_chu": 0.15, "van_ban_phuc_dap": 0.1}

KIND_WORDS = {"KN": "Khiếu nại", "TC": "Tố cáo", "KNPA": "Kiến nghị, phản ánh"}
MODE_TEXT = {"thuong_xuyen": "Thường xuyên", "dinh_ky": "Định kỳ", "dot_xuat": "Đột xuất"}
RECEIVER_TEXT = {"can_bo": "Cán bộ tiếp công dân", "thu_truong": "Thủ trưởng", "uy_quyen": "Ủy quyền"}
VISIT_TEXT = {"lan_dau": "Lần đầu", "nhieu_lan": "Nhiều lần"}
CHANNEL_TEXT = {"tiep_cong_dan": "Qua tiếp công dân", "buu_chinh": "Bưu chính",
                "co_quan_khac": "Cơ quan khác chuyển đến", "truc_tuyen": "Trực tuyến"}
FIELD_TEXT = {"che_do_chinh_sach": "Chế độ chính sách", "dat_dai": "Đất đai, nhà cửa",
              "cong_chuc": "Công chức, công vụ", "tham_nhung": "Tham nhũng", "tu_phap": "Tư pháp",
              "dang_doan_the": "Đảng, đoàn thể", "khac": "Khác"}
HANDLING_TEXT = {"thu_ly": "Thụ lý", "huong_dan": "Hướng dẫn", "chuyen_don": "Chuyển đơn", "don_doc": "Đôn đốc"}
RESOLUTION_TEXT = {"da_giai_quyet": "Đã giải quyết", "dang_giai_quyet": "Đang giải quyết",
                   "chua_giai_quyet": "Chưa giải quyết"}
ROUND_TEXT = {"lan_dau": "Lần đầu", "lan_2": "Lần 2", "ban_an": "Đã có bản án", "tiep": "Tố cáo tiếp"}
OUTCOME_TEXT = {"dung": "Đúng", "sai": "Sai", "dung_mot_phan": "Đúng một phần", "cong_nhan": "Công nhận",
                "huy_sua": "Hủy, sửa", "rut_don": "Rút đơn", "dinh_chi": "Đình chỉ"}
# Petition columns of the decision's amounts (model.DECISION_AMOUNTS / DECISION_COUNTS order).
AMOUNT_COLUMNS = ("thu_hoi_tien", "thu_hoi_dat", "tra_to_chuc_tien", "tra_to_chuc_dat", "tra_ca_nhan_tien",
                  "tra_ca_nhan_dat")
COUNT_COLUMNS = ("so_to_chuc_duoc_tra", "so_ca_nhan_duoc_tra", "xu_ly_hc_so_nguoi", "xu_ly_hc_cbccvc",
                 "chuyen_dieu_tra_so_vu", "chuyen_dieu_tra_so_nguoi", "chuyen_dieu_tra_cbccvc")
# Petition columns of the execution (model.EXECUTION_AMOUNTS / EXECUTION_COUNTS order).
EXECUTED_AMOUNT_COLUMNS = ("da_thu_tien", "da_thu_dat", "da_tra_to_chuc_tien", "da_tra_to_chuc_dat",
                           "da_tra_ca_nhan_tien", "da_tra_ca_nhan_dat")
EXECUTED_COUNT_COLUMNS = ("da_xu_ly_hc_so_nguoi", "da_xu_ly_hc_cbccvc", "da_khoi_to_so_vu", "da_khoi_to_so_nguoi",
                          "da_khoi_to_cbccvc")


def vn_number(x: float) -> str:
    """A number as Vietnamese write it: "." between thousands, "," before decimals
    (1250.5 → "1.250,5", 45.0 → "45")."""
    whole, _, frac = f"{x:,.1f}".partition(".")
    whole = whole.replace(",", ".")
    return whole if frac == "0" else f"{whole},{frac}"

DATE_FIELDS = ("ngay_tiep", "ngay_nhan", "ngay_giai_quyet", "ngay_xu_ly", "ngay_thu_ly", "ngay_thi_hanh_xong",
               "ngay_khong_thu_ly")

ZIP_TIME = (2020, 1, 1, 0, 0, 0)


class _FixedTimeZip(zipfile.ZipFile):
    """A ZipFile whose entries all carry the same timestamp (byte-identical output)."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, str):
            zi = zipfile.ZipInfo(zinfo_or_arcname, date_time=ZIP_TIME)
            zi.compress_type = self.compression
            zi.external_attr = 0o644 << 16
            zinfo_or_arcname = zi
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # openpyxl streams worksheets through temp files: keep their mtime out too.
        with open(filename, "rb") as fh:
            self.writestr(arcname or str(filename), fh.read())


@dataclass
class Habits:
    """How one workbook is kept."""
    nfd: bool
    text_dates: bool
    date_sep: str
    kind_words: bool
    people_as_text: bool
    phone_style: int
    name_sep: str
    total_label: str
    reception_columns: list        # [(field, header)]
    petition_columns: list
    period_line: bool
    blank_after_title: bool
    zero_blank: bool            # decision amounts of 0 left blank rather than written 0
    numbers_as_text: bool       # decision amounts typed as text, Vietnamese style ("1.250,5")


def _choose_columns(rng: Rng, spec: list, optional: dict) -> list[tuple[str, str]]:
    cols = []
    for fld, headers, weights in spec:
        if fld in optional and rng.chance(optional[fld]):
            continue
        r, acc = rng.u() * sum(weights), 0.0
        header = headers[-1]
        for h, w in zip(headers, weights):
            acc += w
            if r < acc:
                header = h
                break
        cols.append((fld, header))
    # A few neighbouring columns swapped (never STT, which stays first).
    for _ in range(rng.randint(0, 3)):
        i = rng.randint(1, len(cols) - 2)
        cols[i], cols[i + 1] = cols[i + 1], cols[i]
    return cols


def _with_execution(cols: list[tuple[str, str]], rng: Rng) -> list[tuple[str, str]]:
    """The drawn petition layout with the execution columns (header variants drawn,
    kept in their order) inserted before "Ghi chú" (at the end without one)."""
    order = [f for f, _, _ in EXECUTION_COLUMNS]
    extra = sorted(_choose_columns(rng, EXECUTION_COLUMNS, {}), key=lambda c: order.index(c[0]))
    at = next((i for i, (f, _) in enumerate(cols) if f == "ghi_chu"), len(cols))
    return cols[:at] + extra + cols[at:]


def _with_tt06(cols: list[tuple[str, str]], rng: Rng) -> list[tuple[str, str]]:
    """The layout with the TT 06/2025 columns (header variants from a stream of their
    own) inserted before "Ghi chú", so the older columns' layout is unchanged."""
    extra = _choose_columns(rng, TT06_COLUMNS, {})
    order = [f for f, _, _ in TT06_COLUMNS]
    extra = sorted(extra, key=lambda c: order.index(c[0]))
    at = next((i for i, (f, _) in enumerate(cols) if f == "ghi_chu"), len(cols))
    return cols[:at] + extra + cols[at:]


def habits_for(file_name: str, seed: int) -> Habits:
    r = Rng(seed, "book", file_name)
    r_exec = Rng(seed, "book-execution", file_name)
    petition_columns = _with_execution(_choose_columns(r, PETITION_COLUMNS, PETITION_OPTIONAL), r_exec)
    if carries_tt06(file_name):
        petition_columns = _with_tt06(petition_columns, Rng(seed, "book-tt06", file_name))
    return Habits(
        nfd=r.chance(0.2), text_dates=r.chance(0.4), date_sep=r.pick(["/", "/", "/", "-", "."]),
        kind_words=r.chance(0.3), people_as_text=r.chance(0.15), phone_style=r.randint(0, 2),
        name_sep=r.pick([", ", ", ", " - ", "; "]), total_label=r.pick(["Tổng cộng", "Tổng cộng", "Cộng", "Tổng"]),
        reception_columns=_choose_columns(r, RECEPTION_COLUMNS, RECEPTION_OPTIONAL),
        petition_columns=petition_columns,
        period_line=r.chance(0.5), blank_after_title=r.chance(0.5), zero_blank=r.chance(0.6),
        numbers_as_text=r.chance(0.4))


@dataclass
class BookPart:
    """The records of one unit that go into one workbook."""
    unit: Unit
    sim: UnitSim
    receptions: list
    petitions: list
    first: dt.date      # period the part covers (for the title line)
    last: dt.date


def book_parts(sim: UnitSim, start: dt.date, end: dt.date) -> dict[str, BookPart]:
    """{file name: part} for every calendar year the unit is active in [start, end]."""
    unit = sim.unit
    lo, hi = max(start, sim.first), min(end, sim.last)
    out = {}
    for year in range(lo.year, hi.year + 1):
        first, last = max(lo, dt.date(year, 1, 1)), min(hi, dt.date(year, 12, 31))
        name = f"{unit.code}_{unit.slug}_{year}.xlsx"
        out[name] = BookPart(unit, sim, [r for r in sim.receptions if first <= r.date <= last],
                             [p for p in sim.petitions if first <= p.date <= last], first, last)
    return out


def write_book(path: Path, parts: list[BookPart], seed: int, end: dt.date, pii: set, *,
               defects: list | None = None, inject: bool = False, encoding: str | None = None,
               rename: tuple[str, str] | None = None, calendar: list | None = None) -> tuple[list, list]:
    """Write one workbook (parts of units sharing the file name, oldest first); returns
    [(unit, record, 'file#sheet:row')] for receptions and petitions (first copy of a
    row entered twice).

    ``defects`` collects the book's defect lines (simulators.defects; the second copy
    of a row entered twice is always listed); ``inject`` adds the row defects of the
    documented shares (extra broken rows, other date formats, NFD rows, repeated
    headers); ``encoding`` ("tcvn3" | "vni") writes every text cell in that legacy
    8-bit code; ``rename`` = (field, header) writes a reception header no reader can
    recognise (a broken extra delivery). ``calendar``: rows (unit, day, receiver) of the
    optional sheet "Lịch tiếp công dân" (simulators.calendar.book_rows); none, no sheet."""
    file_name = path.name
    rel_path = f"commune_inbox/{path.parent.name}/{file_name}"
    h = habits_for(file_name, seed)
    rows_rng = Rng(seed, "book-rows", file_name)
    defect_rng = Rng(seed, "book-defects", file_name)
    cutoff = end_of_day(end)
    unit = parts[-1].unit
    year = parts[0].first.year
    first, last = parts[0].first, parts[-1].last

    if encoding:
        def t(v):
            return encode(v, encoding) if isinstance(v, str) else v

        def caps(v):
            return encode(v, encoding, caps_font=True)
    else:
        def t(v):
            if isinstance(v, str) and h.nfd:
                return unicodedata.normalize("NFD", v)
            return v
        caps = t

    def date_cell(d: dt.date | None):
        if d is None:
            return None
        if h.text_dates:
            return f"{d:%d}{h.date_sep}{d:%m}{h.date_sep}{d:%Y}"
        return d

    def person(c, people=1) -> tuple:
        if c is None:
            return "Đơn không ký tên", None, None
        pii.update((("name", c.full_name), ("address", c.address), ("id_number", c.id_number),
                    ("phone", c.phone), ("phone", format_phone(c.phone, h.phone_style))))
        if encoding:
            pii.update((("name", t(c.full_name)), ("address", t(c.address))))
        label = f"{c.full_name} (đại diện đoàn {people} người)" if people >= GROUP_MIN else c.full_name
        return f"{label}{h.name_sep}{c.address}", c.id_number, format_phone(c.phone, h.phone_style)

    wb = Workbook()
    prop = (lambda v: v) if encoding else t
    wb.properties.creator = wb.properties.lastModifiedBy = prop(f"UBND {unit.name}")
    wb.properties.title = prop(f"Sổ tiếp công dân năm {year}")
    stamp_dates = [r.date for p in parts for r in p.receptions] + [x.date for p in parts for x in p.petitions]
    wb.properties.created = dt.datetime.combine(first, dt.time(8, 0))
    wb.properties.modified = dt.datetime.combine(max(stamp_dates, default=last), dt.time(17, 0))

    unit_line = f"ỦY BAN NHÂN DÂN {unit.name.upper()}"
    period = f"(Từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y})"

    def other_date_format(d: dt.date) -> str:
        usual = f"{d:%d}{h.date_sep}{d:%m}{h.date_sep}{d:%Y}" if h.text_dates else None
        forms = [f"{d:%Y-%m-%d}", f"{d.day}/{d.month}/{d.year}", f"{d:%d.%m.%Y}", f"{d:%d-%m-%Y}"]
        forms = [f for f in forms if f != usual and f != f"{d:%d/%m/%Y}"]
        return defect_rng.pick(forms)

    def impossible_date(d: dt.date) -> str:
        """A typo that makes no date: the day after the month's last (31/06, 29/02 of a
        common year, 32/01), day 00, or month 13."""
        r = defect_rng.u()
        if r < 0.7:
            dd, mm = (month_end(d.year, d.month).day + 1), d.month
        elif r < 0.85:
            dd, mm = 0, d.month
        else:
            dd, mm = d.day, 13
        sep = h.date_sep if h.text_dates else "/"
        return f"{dd:02d}{sep}{mm:02d}{sep}{d.year}"

    def plan_row(sheet_kind: str, n: int) -> list[str]:
        """The defects of one record row (a fixed number of draws per row)."""
        draws = [defect_rng.u() for _ in REGISTER_ROW_DEFECTS]
        hits = []
        for (kind, (share, sheets, _, _)), u in zip(REGISTER_ROW_DEFECTS.items(), draws):
            if u >= share or sheet_kind not in sheets:
                continue
            if kind == "date_impossible" and n < 4:
                continue        # never most of a tiny sheet (a batch of unreadable dates)
            if kind == "text_nfd_row" and (h.nfd or encoding):
                continue
            hits.append(kind)
        return hits

    def sheet(ws, sheet_kind: str, title: str, columns: list, records: list, build, dup_share: float,
              total_field: str):
        ncol = len(columns)
        fields = [f for f, _ in columns]
        header = [t(hd) for _, hd in columns]
        if rename and sheet_kind == "reception" and rename[0] in fields:
            header[fields.index(rename[0])] = t(rename[1])
        date_field = "ngay_tiep" if sheet_kind == "reception" else "ngay_nhan"
        letter = get_column_letter(fields.index(total_field) + 1)

        def log(kind, outcome, rule, row, detail=""):
            if defects is not None:
                defects.append(defect(kind, "commune_register", file_name, rel_path, outcome, rule, sheet=ws.title,
                                      row=row, record_id=f"{file_name}#{ws.title}:{row}", detail=detail))

        ws.append([caps(unit_line)])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=min(6, ncol))
        ws.append([caps(title)])
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncol)
        row = 2
        if h.period_line:
            ws.append([t(period)])
            row += 1
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncol)
        if h.blank_after_title:
            ws.append([])
            row += 1
        ws.append(header)
        row += 1
        header_row = row
        date_cols = [i + 1 for i, (f, _) in enumerate(columns) if f in DATE_FIELDS]
        # Which records get entered twice, and where blank rows fall.
        n = len(records)
        dups = set()
        if n and rows_rng.chance(dup_share):
            for _ in range(rows_rng.randint(1, 2)):
                dups.add(rows_rng.randint(0, n - 1))
        blanks = {rows_rng.randint(0, max(0, n - 1)) for _ in range(rows_rng.randint(0, 3))} if n else set()
        stt, total = 0, 0
        gt_rows = []
        for i, (owner, rec) in enumerate(records):
            hits = plan_row(sheet_kind, n) if inject else []
            copies = 2 if i in dups else 1
            reformat = other_date_format(rec.date) if "date_other_format" in hits else None
            for k in range(copies):
                stt += 1
                values = build(rec, stt)
                if reformat:
                    values[date_field] = reformat
                cells = [t(values.get(f)) for f in fields]
                if "text_nfd_row" in hits:
                    cells = [unicodedata.normalize("NFD", v) if isinstance(v, str) else v for v in cells]
                ws.append(cells)
                row += 1
                total += int(values.get(total_field) or 0)     # the column sum, as typed
                if k == 0:
                    gt_rows.append((owner, rec, f"{file_name}#{ws.title}:{row}"))
                    if reformat:
                        log("date_other_format", COUNTED, "", row, reformat)
                    if "text_nfd_row" in hits:
                        log("text_nfd_row", COUNTED, "", row, "NFD")
                else:
                    log(DUPLICATE_ROW[0], DUPLICATE_ROW[1], DUPLICATE_ROW[2], row, f"copy of row {row - 1}")
            for kind in hits:
                if kind in ("date_other_format", "text_nfd_row", "repeated_header"):
                    continue
                stt += 1
                values = build(rec, stt)
                if kind == "date_impossible":
                    values[date_field] = bad = impossible_date(rec.date)
                elif kind == "number_negative":
                    bad = -defect_rng.randint(1, 3)
                    values[total_field] = str(bad) if isinstance(values[total_field], str) else bad
                elif kind == "people_absurd":
                    n_abs = defect_rng.pick([1200, 1500, 2000, 3500])
                    bad = f"{n_abs // 1000}.{n_abs % 1000:03d}" if defect_rng.chance(0.5) else n_abs
                    values[total_field] = bad
                elif kind == "kind_not_in_domain":
                    values["loai"] = bad = defect_rng.pick(["KHAC", "Khác", "KN/TC", "Đề nghị", "KNTC"])
                elif kind == "outcome_not_in_domain":
                    # an outcome no form knows, typed where the decision goes
                    values["ket_qua"] = bad = defect_rng.pick(["Chưa rõ", "Hòa giải thành", "Đã trả lời",
                                                               "Chuyển hồ sơ", "Xong"])
                else:                                          # formula_no_value
                    values[total_field] = bad = f"={letter}{row}"
                ws.append([t(values.get(f)) for f in fields])
                row += 1
                _, _, outcome, rule = REGISTER_ROW_DEFECTS[kind]
                if kind == "number_negative" and sheet_kind == "reception":
                    # -2 people reads as a number; the reception range rule quarantines it
                    rule = "PEOPLE_OUT_OF_RANGE"
                log(kind, outcome, rule, row, str(bad))
            if i in blanks:
                ws.append([])
                row += 1
            if "repeated_header" in hits:
                ws.append(header)
                row += 1
                _, _, outcome, rule = REGISTER_ROW_DEFECTS["repeated_header"]
                log("repeated_header", outcome, rule, row)
        ws.append([t(h.total_label)] + [None] * (ncol - 1))
        row += 1
        if total_field in fields:
            ws.cell(row=row, column=fields.index(total_field) + 1, value=total)
        if not h.text_dates:
            for r in range(header_row + 1, row):
                for c in date_cols:
                    cell = ws.cell(row=r, column=c)
                    if cell.value is not None:
                        cell.number_format = "dd/mm/yyyy"
        if encoding:
            body, title_font = (Font(name=f) for f in FONTS[encoding])
            for r, cells in enumerate(ws.iter_rows(), 1):
                for cell in cells:
                    if cell.value is not None:
                        cell.font = title_font if r <= 2 else body
        return gt_rows

    def build_reception(rec: Reception, stt: int) -> dict:
        reg = rec.register or {}
        name_addr, idn, phone = person(rec.citizen, rec.people)
        return {
            "stt": stt, "ngay_tiep": date_cell(rec.date), "ho_ten_dia_chi": name_addr, "so_giay_to": idn,
            "dien_thoai": phone, "noi_dung": rec.case.summary,
            "loai": KIND_WORDS[rec.kind] if h.kind_words else rec.kind,
            "so_nguoi": str(rec.people) if h.people_as_text else rec.people,
            "hinh_thuc": MODE_TEXT[rec.mode], "nguoi_tiep": RECEIVER_TEXT[rec.receiver],
            "lan_tiep": VISIT_TEXT[rec.visit], "ma_vu_viec": rec.case.ref, **reg}

    def number_cell(x, as_int: bool):
        if x == 0 and h.zero_blank:
            return None
        if h.numbers_as_text:
            return str(x) if as_int else vn_number(x)
        return x

    def decision_cells(prog: dict) -> dict:
        if prog["outcome"] is None:
            return {}
        out = {"ket_qua": OUTCOME_TEXT[prog["outcome"]], "dung_han": "Có" if prog["on_time"] else "Không"}
        for col, f in zip(AMOUNT_COLUMNS, DECISION_AMOUNTS):
            out[col] = number_cell(prog[f], False)
        for col, f in zip(COUNT_COLUMNS, DECISION_COUNTS):
            out[col] = number_cell(prog[f], True)
        out["xu_ly_hc_so_to_chuc"] = number_cell(prog["sanction_orgs"], True)
        if prog["collected_money"] is not None:        # a decision that orders something
            out["ngay_thi_hanh_xong"] = date_cell(prog["executed_date"])
            for col, f in zip(EXECUTED_AMOUNT_COLUMNS, EXECUTION_AMOUNTS):
                out[col] = number_cell(prog[f], False)
            for col, f in zip(EXECUTED_COUNT_COLUMNS, EXECUTION_COUNTS):
                out[col] = number_cell(prog[f], True)
            out["da_xu_ly_hc_so_to_chuc"] = number_cell(prog["sanctioned_orgs"], True)
        return out

    def build_petition(pet: Petition, stt: int) -> dict:
        name_addr, idn, phone = person(pet.citizen)
        prog = pet.progress(cutoff)
        status, resolved = prog["resolution"], prog["resolved_date"]
        reply = pet.reply_received_at(end)
        return {
            "stt": stt, "ngay_nhan": date_cell(pet.date), "ho_ten_dia_chi": name_addr, "so_giay_to": idn,
            "dien_thoai": phone, "noi_dung": pet.case.summary, "nguon_don": CHANNEL_TEXT[pet.channel],
            "loai": KIND_WORDS[pet.kind] if h.kind_words else pet.kind,
            "so_nguoi_dung_ten": pet.signers, "linh_vuc": FIELD_TEXT[pet.field], "ma_vu_viec": pet.case.ref,
            "du_dieu_kien": "Đủ" if pet.eligible else "Không đủ",
            "tham_quyen": None if pet.competent is None else ("Thuộc" if pet.competent else "Không thuộc"),
            "xu_ly": HANDLING_TEXT.get(pet.handling), "van_ban_phuc_dap": "Có" if reply else None,
            "tinh_trang": RESOLUTION_TEXT.get(status), "ngay_giai_quyet": date_cell(resolved),
            "ngay_xu_ly": date_cell(prog["processed_date"]), "ngay_thu_ly": date_cell(prog["accepted_date"]),
            "ngay_khong_thu_ly": date_cell(prog["not_accepted_date"]),
            "lan_giai_quyet": ROUND_TEXT.get(prog["resolution_round"]), **decision_cells(prog),
            "ghi_chu": None if pet.eligible else "Lưu đơn"}

    ws = wb.active
    ws.title = LEGACY_SHEETS[0] if encoding else RECEPTION_SHEET
    recs = [(p.unit, r) for p in parts for r in p.receptions]
    pets = [(p.unit, x) for p in parts for x in p.petitions]
    gt_rec = sheet(ws, "reception", f"SỔ TIẾP CÔNG DÂN NĂM {year}", h.reception_columns, recs, build_reception,
                   0.3, "so_nguoi")
    ws2 = wb.create_sheet(LEGACY_SHEETS[1] if encoding else PETITION_SHEET)
    gt_pet = sheet(ws2, "petition", f"SỔ THEO DÕI ĐƠN THƯ NĂM {year}", h.petition_columns, pets, build_petition,
                   0.0, "so_nguoi_dung_ten")

    if calendar:
        write_sheet(wb, calendar, year, t, date_cell, legacy=bool(encoding))

    buf = io.BytesIO()
    with _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    path.write_bytes(buf.getvalue())
    return gt_rec, gt_pet
