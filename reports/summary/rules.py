"""The rules and fixed texts of the multi-year summary: levels, the reception modes
and receivers counted as the leaders' (01/TCD semantics), the heads' minimum reception
duty (:data:`HEAD_DUTY`, the one place to change if the law changes), the indicators and
their definitions (:data:`INDICATORS`), the sheet names, number formats and the vượt cấp
rule as printed.
"""
from __future__ import annotations

from dataclasses import dataclass

REGULAR_MODES = ("thuong_xuyen",)
# The leaders' periodic and unscheduled reception: 01/TCD "Thủ trưởng tiếp" + "Ủy quyền tiếp".
LEADER_MODES = ("dinh_ky", "dot_xuat")
LEADER_RECEIVERS = ("thu_truong", "uy_quyen")
KINDS = (("KN", "don_kn"), ("TC", "don_tc"), ("KNPA", "don_knpa"))


@dataclass(frozen=True)
class DutyRule:
    """The minimum number of days the head of a unit must receive citizens in person."""

    level: str
    per: str            # "week" (Monday–Sunday) | "month" (calendar month)
    min_days: int
    legal_basis: str

    @property
    def wording(self) -> str:
        return f"ít nhất {self.min_days:02d} ngày trong 01 {'tuần' if self.per == 'week' else 'tháng'}"

    @property
    def short(self) -> str:
        return f"≥ {self.min_days:02d} ngày/{'tuần' if self.per == 'week' else 'tháng'}"


DUTY_LAW = "Luật Tiếp công dân năm 2013"
# The heads' minimum reception duty (Luật Tiếp công dân 2013, Điều 12–15): the one place
# to change if the law changes.
HEAD_DUTY: dict[str, DutyRule] = {
    "tinh": DutyRule("tinh", "month", 1, f"{DUTY_LAW}, Điều 12 khoản 5 (Chủ tịch UBND cấp tỉnh)"),
    "huyen": DutyRule("huyen", "month", 2, f"{DUTY_LAW}, Điều 13 khoản 5 (Chủ tịch UBND cấp huyện)"),
    "xa": DutyRule("xa", "week", 1, f"{DUTY_LAW}, Điều 15 khoản 2 điểm d (Chủ tịch UBND cấp xã)"),
}
# The law says the chairman receives "trực tiếp" (in person): sittings held by an
# authorised deputy (uy_quyen) do not count towards the duty; they are shown apart.
HEAD_DUTY_RECEIVERS = ("thu_truong",)
HEAD_DUTY_MODES = ("dinh_ky", "dot_xuat")

STATUS_SHORT, STATUS_OK = "Không đạt", "Đạt"
STATUS_NO_DATA, STATUS_NOT_ASSESSED = "Chưa có số liệu", "Không đánh giá"


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    group: str
    definition: str

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"


_G_REC, _G_PET, _G_RES = "Tiếp công dân", "Tiếp nhận đơn", "Giải quyết đơn thuộc thẩm quyền"
INDICATORS: tuple[Indicator, ...] = (
    Indicator("tong_luot", "Tổng số lượt tiếp công dân", "lượt", _G_REC,
              "tiếp thường xuyên + tiếp định kỳ, đột xuất của lãnh đạo (01/TCD cột 1 = 4 + 13 + 22)"),
    Indicator("tong_nguoi", "Tổng số người được tiếp", "người", _G_REC, "01/TCD cột 2 = 5 + 14 + 23"),
    Indicator("tx_luot", "Tiếp thường xuyên: số lượt tiếp", "lượt", _G_REC,
              "số bản ghi tiếp có hình thức tiếp thường xuyên (01/TCD cột 4)"),
    Indicator("tx_nguoi", "Tiếp thường xuyên: số người được tiếp", "người", _G_REC,
              "tổng số người trên các bản ghi tiếp thường xuyên (01/TCD cột 5)"),
    Indicator("tx_doan", "Trong đó đoàn đông người: số đoàn", "đoàn", _G_REC,
              "bản ghi tiếp thường xuyên có từ 5 người trở lên (01/TCD cột 8)"),
    Indicator("tx_doan_nguoi", "Trong đó đoàn đông người: số người trong đoàn", "người", _G_REC,
              "01/TCD cột 9"),
    Indicator("ld_ky", "Lãnh đạo tiếp định kỳ, đột xuất: số kỳ tiếp", "kỳ", _G_REC,
              "số kỳ tiếp khác nhau của thủ trưởng và người được ủy quyền (01/TCD cột 12 + 21)"),
    Indicator("ld_luot", "Lãnh đạo tiếp định kỳ, đột xuất: số lượt tiếp", "lượt", _G_REC,
              "tiếp định kỳ hoặc đột xuất do thủ trưởng trực tiếp tiếp hoặc ủy quyền tiếp (01/TCD cột 13 + 22)"),
    Indicator("ld_nguoi", "Lãnh đạo tiếp định kỳ, đột xuất: số người được tiếp", "người", _G_REC,
              "01/TCD cột 14 + 23"),
    Indicator("ld_doan", "Lãnh đạo tiếp định kỳ, đột xuất: số đoàn đông người", "đoàn", _G_REC,
              "01/TCD cột 17 + 26"),
    Indicator("don_tong", "Tổng số đơn tiếp nhận", "đơn", _G_PET, "số đơn có ngày nhận trong kỳ (mọi nguồn)"),
    Indicator("don_kn", "Đơn khiếu nại", "đơn", _G_PET, "đơn tiếp nhận trong kỳ, loại khiếu nại"),
    Indicator("don_tc", "Đơn tố cáo", "đơn", _G_PET, "đơn tiếp nhận trong kỳ, loại tố cáo"),
    Indicator("don_knpa", "Đơn kiến nghị, phản ánh", "đơn", _G_PET, "đơn tiếp nhận trong kỳ, loại kiến nghị, phản ánh"),
    Indicator("gq_phai", "Đơn thuộc thẩm quyền phải giải quyết", "đơn", _G_RES,
              "đơn thuộc thẩm quyền nhận đến hết kỳ và chưa giải quyết xong trước ngày đầu kỳ "
              "(kỳ trước chuyển sang + tiếp nhận trong kỳ)"),
    Indicator("gq_da", "Đã giải quyết trong kỳ", "đơn", _G_RES,
              "đơn phải giải quyết có ngày giải quyết trong kỳ"),
    Indicator("gq_dang", "Đang giải quyết (tại ngày cuối kỳ)", "đơn", _G_RES,
              "đơn phải giải quyết chưa giải quyết xong, đã có ngày thụ lý đến ngày cuối kỳ"),
    Indicator("gq_chua", "Chưa giải quyết (tại ngày cuối kỳ)", "đơn", _G_RES,
              "đơn phải giải quyết chưa giải quyết xong và chưa thụ lý tại ngày cuối kỳ"),
    Indicator("gq_tyle", "Tỷ lệ giải quyết", "%", _G_RES, "đã giải quyết ÷ phải giải quyết × 100"),
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)

SHEET_TOTALS, SHEET_LEVELS, SHEET_CHARTS = "Tổng hợp", "Theo cấp", "Biểu đồ"
SHEET_DUTY, SHEET_SKIPPED, SHEET_TEXT, SHEET_INFO = ("Trách nhiệm tiếp công dân", "Vượt cấp", "Nhận định",
                                                     "Thông tin")
TITLE = "BÁO CÁO TỔNG HỢP KẾT QUẢ CÔNG TÁC TIẾP CÔNG DÂN, TIẾP NHẬN VÀ GIẢI QUYẾT ĐƠN"
RATE_FORMAT = "#,##0.0"
CHANGE_FORMAT = "+#,##0;-#,##0;0"
CHANGE_RATE_FORMAT = "+#,##0.0;-#,##0.0;0.0"
DATE_FORMAT = "dd/mm/yyyy"

SKIPPED_RULE = ("Một lượt tiếp ở cấp trên (cấp huyện hoặc cấp tỉnh) của công dân mà tại ngày tiếp công dân đó "
                "đang có vụ việc cùng loại (khiếu nại, tố cáo, kiến nghị phản ánh) chưa được giải quyết xong ở "
                "cấp dưới: với cấp huyện là một xã, phường, thị trấn thuộc huyện; với cấp tỉnh là bất kỳ đơn vị "
                "cấp huyện hoặc cấp xã nào. Vụ việc đang mở = đã phát sinh (ngày mở hồ sơ vụ việc, hoặc ngày "
                "nhận đơn nếu không có hồ sơ vụ việc) đến ngày tiếp và chưa giải quyết xong trước ngày tiếp. Đối chiếu "
                "công dân bằng mã giả danh; mã không được in ra. Người tố cáo không được lưu danh tính (Luật Tố "
                "cáo 2018), nên vượt cấp về tố cáo không được phát hiện.")
