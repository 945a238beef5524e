"""The outline of Mẫu số 02, verbatim (:data:`OUTLINE`), its headings, and the
document body in order (:data:`CONTENT`): under each heading, the figures it cites (the
form and MS columns, in the words of the form's header), the lines it prints and the
placeholders quoting its instructions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from reports.mau02.catalogue import PROTECTION_CODE

# The 68 printed paragraphs of Mẫu số 02, verbatim. Generated (not typed) from
# shared/domain/tt06-2025-forms.json, key `mau_so_02_verbatim` (sha256 of the paragraphs
# joined by "\n": 8c67a472bc6afd3d…). Kept in the code rather than read at run time
# because the shared domain folder is a reference beside the project, not part of what
# is deployed (the form definitions copy their printed text the same way);
# tests/test_mau02.py compares this tuple with the JSON, so a drift cannot go unnoticed.
OUTLINE: tuple[str, ...] = (
    "Mẫu số 02. Đề cương báo cáo nội dung về công tác tiếp công dân, giải quyết khiếu nại, tố cáo",
    "(Ban hành kèm theo Thông tư số 06/2025/TT-TTCP ngày 29 tháng 9 năm 2025 của Thanh tra Chính phủ)",
    "ĐỀ CƯƠNG BÁO CÁO",
    "Nội dung về công tác tiếp công dân, giải quyết khiếu nại, tố cáo",
    "I. TÌNH HÌNH KHIẾU NẠI, TỐ CÁO",
    "1. Tình hình khiếu nại, tố cáo",
    "Khái quát chung về tình hình khiếu nại, tố cáo trên địa bàn, lĩnh vực (tăng, giảm); những yếu tố ảnh hưởng (tình hình kinh tế, chính trị, xã hội).",
    "a) Về khiếu nại: Khái quát tình hình khiếu nại, so sánh cùng kỳ năm trước (tăng, giảm) tỉ lệ đơn khiếu nại của từng lĩnh vực",
    "b) Về tố cáo: Khái quát tình hình tố cáo so sánh cùng kỳ năm trước (tăng, giảm), tỉ lệ đơn tố cáo của từng lĩnh vực",
    "Lưu ý: Cần nêu rõ những vấn đề, lĩnh vực, nội dung mới là nguyên nhân làm phát sinh nhiều khiếu nại, tố cáo trong kỳ.",
    "2. Nguyên nhân của tình hình khiếu nại, tố cáo",
    "Phân tích theo 02 nhóm nguyên nhân chủ quan và khách quan.",
    "II. KẾT QUẢ CÔNG TÁC TIẾP CÔNG DÂN, XỬ LÝ ĐƠN, GIẢI QUYẾT KHIẾU NẠI, TỐ CÁO",
    "1. Công tác tiếp công dân (Biểu 01/TCD)",
    "- Tổng số lượt tiếp, số người được tiếp; số vụ việc; số đoàn đông người được tiếp (số đoàn, số người), ...",
    "- Kết quả tiếp công dân của Thủ trưởng (trực tiếp và ủy quyền); trong đó làm rõ kết quả tiếp công dân định kỳ của Bộ trưởng, Thủ trưởng cơ quan ngang bộ, Chủ tịch UBND các cấp (so với quy định của Luật Tiếp công dân).",
    "2. Tiếp nhận, phân loại và xử lý đơn (Biểu 02/XLD)",
    "Gồm đơn nhận được qua tiếp công dân và đơn nhận từ các nguồn khác (người viết đơn gửi qua dịch vụ bưu chính, cơ quan, tổ chức, cá nhân chuyển đến theo quy định, ...)",
    "a) Tổng số đơn đã tiếp nhận trong kỳ",
    "- Số đơn đã xử lý.",
    "- Số đơn đủ điều kiện xử lý.",
    "- Số đơn thuộc thẩm quyền.",
    "- Số vụ việc thuộc thẩm quyền",
    "b) Phân loại, xử lý đơn thuộc thẩm quyền",
    "- Số đơn khiếu nại: Phân loại theo thẩm quyền giải quyết (khiếu nại lần đầu/khiếu nại lần 2); phân loại theo lĩnh vực (đất đai, chế độ, chính sách, khác).",
    "- Số đơn tố cáo: Phân loại theo thẩm quyền giải quyết (tố cáo lần đầu/tố cáo tiếp); phân loại theo lĩnh vực (hành chính, tham nhũng, tư pháp, khác).",
    "- Số đơn kiến nghị, phản ánh: Phân loại theo lĩnh vực (chế độ, chính sách, đất đai, khác).",
    "c) Phân loại, xử lý đơn không thuộc thẩm quyền",
    "- Số đơn đã hướng dẫn công dân gửi đơn.",
    "- Số đơn đã chuyển đơn đến cơ quan có thẩm quyền giải quyết.",
    "3. Kết quả giải quyết khiếu nại, tố cáo (Biểu 03/GQKN, 04/GQTC)",
    "a) Giải quyết khiếu nại",
    "- Kết quả giải quyết các vụ việc khiếu nại thuộc thẩm quyền đủ điều kiện xử lý: Số đơn khiếu nại thuộc thẩm quyền, số vụ việc đã thụ lý, không thụ lý, rút đơn, đình chỉ giải quyết.",
    "- Tổng số quyết định giải quyết khiếu nại đã ban hành trong kỳ. Phân tích kết quả giải quyết đối với các vụ việc khiếu nại lần đầu, lần 2.",
    "- Thống kê kết quả giải quyết khiếu nại: Kiến nghị thu hồi cho Nhà nước, trả lại cho tổ chức, cá nhân, kiến nghị xử lý hành chính, chuyển cơ quan điều tra....",
    "b) Giải quyết tố cáo",
    "- Kết quả giải quyết các vụ việc tố cáo thuộc thẩm quyền đủ điều kiện xử lý: Số đơn tố cáo thuộc thẩm quyền, số vụ việc đã thụ lý, không thụ lý, rút đơn, đình chỉ giải quyết.",
    "- Tổng số kết luận nội dung tố cáo đã ban hành trong kỳ. Phân tích kết quả giải quyết đối với các vụ việc tố cáo lần đầu, tố cáo tiếp.",
    "- Thống kê kết quả giải quyết tố cáo: Kiến nghị thu hồi cho Nhà nước, trả lại cho tổ chức, cá nhân, kiến nghị xử lý hành chính, chuyển cơ quan điều tra....",
    "4. Kết quả thi hành Quyết định giải quyết khiếu nại, thực hiện kết luận nội dung tố cáo (Biểu 05/KQTH)",
    "- Thi hành Quyết định giải quyết khiếu nại: số Quyết định phải thi hành trong kỳ (bao gồm số Quyết định chưa thực hiện xong của kỳ báo cáo trước chuyển sang và số Quyết định ban hành trong kỳ báo cáo phải thực hiện); số Quyết định đã thi hành xong; đã thu hồi cho Nhà nước (tiền, đất); trả lại cho tổ chức, cá nhân (tiền, đất); số người đã bị xử lý trách nhiệm; đã khởi tố...",
    "- Thực hiện Kết luận nội dung tố cáo: Số Kết luận nội dung tố cáo phải thực hiện trong kỳ (bao gồm số kết luận chưa thực hiện xong của kỳ báo cáo trước chuyển sang và số kết luận ban hành trong kỳ báo cáo phải thực hiện); số Kết luận đã thực hiện xong; đã thu hồi cho Nhà nước (tiền, đất); trả lại cho tổ chức, cá nhân (tiền, đất); số tổ chức, cá nhân đã bị xử lý trách nhiệm; đã khởi tố...",
    "5. Bảo vệ người tố cáo (nếu có)",
    "Tổng số người được bảo vệ (người tố cáo, thân nhân của người tố cáo); trong đó: số người được áp dụng biện pháp bảo vệ vị trí công tác, việc làm; số người được áp dụng biện pháp bảo vệ tính mạng, sức khỏe, tài sản, danh dự, nhân phẩm.",
    "6. Công tác quản lý nhà nước về tiếp công dân, giải quyết khiếu nại, tố cáo (06/QLKNTC)",
    "a) Sự lãnh đạo, chỉ đạo, điều hành của cấp ủy, chính quyền về công tác tiếp công dân, xử lý đơn, giải quyết khiếu nại, tố cáo.",
    "b) Kết quả xây dựng, hoàn thiện thể chế, ban hành văn bản chỉ đạo điều hành và tuyên truyền, phổ biến, giáo dục pháp luật.",
    "- Số văn bản ban hành mới, sửa đổi, bổ sung, hủy bỏ;",
    "- Tập huấn tuyên truyền, phổ biến, giáo dục pháp luật về tiếp công dân, khiếu nại, tố cáo (số lớp, số người).",
    "c) Thanh tra trách nhiệm việc thực hiện pháp luật về tiếp công dân, giải quyết khiếu nại, tố cáo (tổng số cuộc, tổng số đơn vị được thanh tra, số đơn vị có vi phạm), kiến nghị xử lý trách nhiệm (hành chính, chuyển cơ quan điều tra); số kết luận thực hiện, kết quả thực hiện (số tổ chức, cá nhân đã xử lý hành chính, khởi tố).",
    "III. NHẬN XÉT, ĐÁNH GIÁ",
    "1. Ưu điểm, kết quả",
    "Đánh giá kết quả đạt được trong công tác chỉ đạo, điều hành, thực hiện chức năng quản lý nhà nước về tiếp công dân, giải quyết khiếu nại, tố cáo; việc thực hiện quy định về tiếp công dân của người đứng đầu, nhất là Bộ trưởng, Thủ trưởng cơ quan ngang bộ, Chủ tịch UBND cấp tỉnh; tỷ lệ giải quyết khiếu nại, tố cáo thuộc thẩm quyền so với mục tiêu; tỷ lệ thực hiện quyết định, kết luận giải quyết khiếu nại, tố cáo; công tác tuyên truyền, phổ biến, giáo dục pháp luật, hướng dẫn, tập huấn cho cán bộ, công chức và Nhân dân; thanh tra, kiểm tra trách nhiệm; công tác xây dựng lực lượng; việc ứng dụng công nghệ thông tin và phối hợp giữa các cơ quan có liên quan trong công tác tiếp công dân, giải quyết khiếu nại, tố cáo ...",
    "2. Tồn tại, hạn chế",
    "Đánh giá tồn tại, hạn chế về các nội dung đã nêu ở phần ưu điểm.",
    "3. Nguyên nhân",
    "Nguyên nhân khách quan, chủ quan của những ưu điểm, tồn tại, hạn chế.",
    "IV. DỰ BÁO TÌNH HÌNH",
    "Nêu dự báo tình hình khiếu nại, tố cáo; những lĩnh vực, vấn đề, nội dung cụ thể có thể là nguyên nhân phát sinh khiếu nại, tố cáo trong thời gian tiếp theo.",
    "V. PHƯƠNG HƯỚNG, NHIỆM VỤ, GIẢI PHÁP CHỦ YẾU TRONG KỲ TIẾP THEO",
    "Nêu phương hướng, nhiệm vụ, giải pháp cụ thể trong công tác tiếp công dân, xử lý đơn và giải quyết khiếu nại, tố cáo sẽ được thực hiện trong kỳ báo cáo tiếp theo.",
    "VI. KIẾN NGHỊ, ĐỀ XUẤT",
    "- Kiến nghị cơ quan có thẩm quyền nghiên cứu bổ sung, điều chỉnh chính sách, pháp luật là nguyên nhân phát sinh khiếu nại, tố cáo và hoàn thiện pháp luật về tiếp công dân, khiếu nại, tố cáo (nếu phát hiện có sơ hở, bất cập).",
    "Lưu ý: cần nêu rõ, cụ thể văn bản và nội dung kiến nghị.",
    "- Kiến nghị cơ quan có thẩm quyền hướng dẫn thực hiện các quy định của pháp luật về công tác tiếp công dân, xử lý đơn và giải quyết khiếu nại, tố cáo (nếu có vướng mắc).",
    "- Đề xuất các giải pháp nâng cao hiệu quả công tác tiếp công dân, xử lý đơn và giải quyết khiếu nại, tố cáo.",
    "- Các nội dung kiến nghị, đề xuất khác.",
    "Lưu ý: cần có sự so sánh số liệu với kỳ trước (hoặc cùng kỳ của năm trước) làm cơ sở cho việc nhận xét, đánh giá.",
)

# A heading of the outline: "I. …" (level 1), "1. …" (level 2), "a) …" (level 3).
_HEADING_RE = re.compile(r"^(?:(?P<roman>[IVX]+)\.|(?P<digit>\d+)\.|(?P<letter>[a-z])\))\s")


def heading_parts(text: str) -> tuple[str, str]:
    """(printed heading, the outline's instruction that follows it). Two headings run an
    instruction on after a colon ("a) Về khiếu nại: Khái quát …"): the heading is printed
    up to the colon and the rest goes into the placeholder under it, verbatim."""
    head, sep, rest = text.partition(": ")
    return (head, rest) if sep else (text, "")


def heading_level(text: str) -> int:
    m = _HEADING_RE.match(text)
    if not m:
        raise ValueError(f"not a heading: {text!r}")
    return 1 if m.group("roman") else 2 if m.group("digit") else 3


# Indices into OUTLINE of the 27 headings, and their printed text, in order.
_HEADING_INDICES: tuple[int, ...] = tuple(i for i, p in enumerate(OUTLINE) if _HEADING_RE.match(p))
HEADINGS: tuple[str, ...] = tuple(heading_parts(OUTLINE[i])[0] for i in _HEADING_INDICES)


@dataclass(frozen=True)
class Head:
    index: int                  # into OUTLINE


@dataclass(frozen=True)
class Fig:
    form: str
    ms: int | tuple[int, ...]
    label: str
    unit: str
    bullet: str = "-"
    kind: str = "cell"          # cell | sum | share


@dataclass(frozen=True)
class Text:
    text: str                   # a lead-in label or a verbatim line of the outline


@dataclass(frozen=True)
class Hold:
    text: str                   # the instruction quoted in the placeholder


def _rest(i: int) -> str:
    return heading_parts(OUTLINE[i])[1]


def _strip_dash(text: str) -> str:
    return text[2:] if text.startswith("- ") else text


def _f(form: str, ms, label: str, unit: str, bullet: str = "-", kind: str = "cell") -> Fig:
    return Fig(form, ms, label, unit, bullet, kind)


def _plus(form: str, ms, label: str, unit: str, kind: str = "cell") -> Fig:
    return Fig(form, ms, label, unit, "+", kind)


def _share(form: str, num: int, den: int, label: str, bullet: str = "+") -> Fig:
    return Fig(form, (num, den), label, "%", bullet, "share")


_MONEY, _LAND = "triệu đồng", "m²"

# The document body, in order. Headings are OUTLINE indices (checked below to be all 27
# headings, in order); figure labels name the cell in the words of the form's header.
CONTENT: tuple[Any, ...] = (
    Head(4),
    Head(5),
    Hold(OUTLINE[6]),
    Head(7),
    _f("02/XLD", 6, "Số đơn khiếu nại thuộc thẩm quyền", "đơn"),
    _share("02/XLD", 9, 6, "Tỷ lệ đơn khiếu nại lĩnh vực đất đai (trên tổng số đơn khiếu nại thuộc thẩm quyền)"),
    _share("02/XLD", 10, 6, "Tỷ lệ đơn khiếu nại lĩnh vực chế độ, chính sách (trên tổng số đơn khiếu nại thuộc thẩm quyền)"),
    _share("02/XLD", 11, 6, "Tỷ lệ đơn khiếu nại lĩnh vực khác (trên tổng số đơn khiếu nại thuộc thẩm quyền)"),
    Hold(_rest(7)),
    Head(8),
    _f("02/XLD", 12, "Số đơn tố cáo thuộc thẩm quyền", "đơn"),
    _share("02/XLD", 15, 12, "Tỷ lệ đơn tố cáo lĩnh vực hành chính (trên tổng số đơn tố cáo thuộc thẩm quyền)"),
    _share("02/XLD", 16, 12, "Tỷ lệ đơn tố cáo lĩnh vực tham nhũng (trên tổng số đơn tố cáo thuộc thẩm quyền)"),
    _share("02/XLD", 17, 12, "Tỷ lệ đơn tố cáo lĩnh vực tư pháp (trên tổng số đơn tố cáo thuộc thẩm quyền)"),
    _share("02/XLD", 18, 12, "Tỷ lệ đơn tố cáo lĩnh vực khác (trên tổng số đơn tố cáo thuộc thẩm quyền)"),
    Hold(_rest(8) + ". " + OUTLINE[9]),
    Head(10),
    Hold(OUTLINE[11]),

    Head(12),
    Head(13),
    _f("01/TCD", 1, "Tổng số lượt tiếp", "lượt"),
    _f("01/TCD", 2, "Tổng số người được tiếp", "người"),
    _f("01/TCD", 3, "Tổng số vụ việc tiếp", "vụ việc"),
    _f("01/TCD", 4, "Tổng số đoàn đông người được tiếp", "đoàn"),
    _plus("01/TCD", (9, 15, 21), "Số người trong các đoàn đông người được tiếp", "người", kind="sum"),
    Text("- Tiếp thường xuyên:"),
    _plus("01/TCD", 5, "Số lượt tiếp", "lượt"),
    _plus("01/TCD", 6, "Số người được tiếp", "người"),
    _plus("01/TCD", 7, "Số vụ việc", "vụ việc"),
    _plus("01/TCD", 8, "Số đoàn đông người được tiếp", "đoàn"),
    _plus("01/TCD", 9, "Số người trong đoàn đông người", "người"),
    Text("- Thủ trưởng trực tiếp tiếp công dân (định kỳ và đột xuất):"),
    _plus("01/TCD", 10, "Số ngày tiếp", "ngày"),
    _plus("01/TCD", 11, "Số lượt tiếp", "lượt"),
    _plus("01/TCD", 12, "Số người được tiếp", "người"),
    _plus("01/TCD", 13, "Số vụ việc", "vụ việc"),
    _plus("01/TCD", 14, "Số đoàn đông người được tiếp", "đoàn"),
    _plus("01/TCD", 15, "Số người trong đoàn đông người", "người"),
    Text("- Thủ trưởng ủy quyền tiếp công dân:"),
    _plus("01/TCD", 16, "Số ngày tiếp", "ngày"),
    _plus("01/TCD", 17, "Số lượt tiếp", "lượt"),
    _plus("01/TCD", 18, "Số người được tiếp", "người"),
    _plus("01/TCD", 19, "Số vụ việc", "vụ việc"),
    _plus("01/TCD", 20, "Số đoàn đông người được tiếp", "đoàn"),
    _plus("01/TCD", 21, "Số người trong đoàn đông người", "người"),
    # Biểu 01/TCD puts định kỳ and đột xuất together: the định kỳ part the outline asks
    # about is not in the table (forms-2025.md §4.6).
    Hold(_strip_dash(OUTLINE[15]) + " Biểu 01/TCD gộp tiếp định kỳ và đột xuất nên không tách được số liệu tiếp định kỳ."),
    Head(16),
    Text(OUTLINE[17]),
    Head(18),
    _f("02/XLD", 1, "Tổng số đơn (gồm đơn tiếp nhận trong kỳ và đơn chưa xử lý kỳ trước chuyển sang)", "đơn"),
    _f("02/XLD", 2, "Số đơn đã xử lý", "đơn"),
    _f("02/XLD", 3, "Số đơn đủ điều kiện xử lý", "đơn"),
    _f("02/XLD", 4, "Số đơn thuộc thẩm quyền", "đơn"),
    _f("02/XLD", 5, "Số vụ việc thuộc thẩm quyền", "vụ việc"),
    Head(23),
    _f("02/XLD", 6, "Số đơn khiếu nại", "đơn"),
    _plus("02/XLD", 7, "Khiếu nại lần đầu", "đơn"),
    _plus("02/XLD", 8, "Khiếu nại lần 2", "đơn"),
    _plus("02/XLD", 9, "Lĩnh vực đất đai", "đơn"),
    _plus("02/XLD", 10, "Lĩnh vực chế độ, chính sách", "đơn"),
    _plus("02/XLD", 11, "Lĩnh vực khác", "đơn"),
    _f("02/XLD", 12, "Số đơn tố cáo", "đơn"),
    _plus("02/XLD", 13, "Tố cáo lần đầu", "đơn"),
    _plus("02/XLD", 14, "Tố cáo tiếp", "đơn"),
    _plus("02/XLD", 15, "Lĩnh vực hành chính", "đơn"),
    _plus("02/XLD", 16, "Lĩnh vực tham nhũng", "đơn"),
    _plus("02/XLD", 17, "Lĩnh vực tư pháp", "đơn"),
    _plus("02/XLD", 18, "Lĩnh vực khác", "đơn"),
    _f("02/XLD", 19, "Số đơn kiến nghị, phản ánh", "đơn"),
    _plus("02/XLD", 20, "Lĩnh vực chế độ, chính sách", "đơn"),
    _plus("02/XLD", 21, "Lĩnh vực đất đai", "đơn"),
    _plus("02/XLD", 22, "Lĩnh vực khác", "đơn"),
    Head(27),
    _f("02/XLD", 23, "Tổng số đơn không thuộc thẩm quyền", "đơn"),
    _plus("02/XLD", 24, "Số đơn đã hướng dẫn công dân gửi đơn", "đơn"),
    _plus("02/XLD", 25, "Số đơn đã chuyển đơn đến cơ quan có thẩm quyền giải quyết", "đơn"),
    Head(30),
    Head(31),
    _f("03/GQKN", 1, "Số đơn khiếu nại thuộc thẩm quyền", "đơn"),
    _f("03/GQKN", 2, "Tổng số vụ việc", "vụ việc"),
    _plus("03/GQKN", 3, "Đang xem xét điều kiện thụ lý", "vụ việc"),
    _plus("03/GQKN", 4, "Đã thụ lý giải quyết", "vụ việc"),
    _plus("03/GQKN", 5, "Không thụ lý", "vụ việc"),
    _plus("03/GQKN", 6, "Rút đơn, đình chỉ giải quyết", "vụ việc"),
    _f("03/GQKN", 7, "Tổng số quyết định giải quyết khiếu nại đã ban hành trong kỳ", "quyết định"),
    _plus("03/GQKN", 8, "Giải quyết lần đầu, khiếu nại đúng", "quyết định"),
    _plus("03/GQKN", 9, "Giải quyết lần đầu, khiếu nại sai", "quyết định"),
    _plus("03/GQKN", 10, "Giải quyết lần đầu, khiếu nại đúng 1 phần", "quyết định"),
    _plus("03/GQKN", 11, "Giải quyết lần 2, công nhận kết quả lần đầu", "quyết định"),
    _plus("03/GQKN", 12, "Giải quyết lần 2, hủy, sửa kết quả lần đầu", "quyết định"),
    _f("03/GQKN", 13, "Kiến nghị thu hồi cho Nhà nước, tiền", _MONEY),
    _f("03/GQKN", 14, "Kiến nghị thu hồi cho Nhà nước, đất", _LAND),
    _f("03/GQKN", 15, "Trả lại cho tổ chức, cá nhân, tiền", _MONEY),
    _f("03/GQKN", 16, "Trả lại cho tổ chức, cá nhân, đất", _LAND),
    _plus("03/GQKN", 17, "Số tổ chức được trả lại quyền lợi", "tổ chức"),
    _plus("03/GQKN", 18, "Số cá nhân được trả lại quyền lợi", "cá nhân"),
    _f("03/GQKN", 19, "Kiến nghị xử lý hành chính", "người"),
    _plus("03/GQKN", 20, "Trong đó số cán bộ, công chức, viên chức", "người"),
    _f("03/GQKN", 21, "Chuyển cơ quan điều tra", "vụ"),
    _plus("03/GQKN", 22, "Tổng số người", "người"),
    _plus("03/GQKN", 23, "Trong đó số cán bộ, công chức, viên chức", "người"),
    Head(35),
    _f("04/GQTC", 1, "Số đơn tố cáo thuộc thẩm quyền", "đơn"),
    _f("04/GQTC", 2, "Tổng số vụ việc", "vụ việc"),
    _plus("04/GQTC", 3, "Đang xem xét điều kiện thụ lý", "vụ việc"),
    _plus("04/GQTC", 4, "Đã thụ lý giải quyết", "vụ việc"),
    _plus("04/GQTC", 5, "Không thụ lý", "vụ việc"),
    _plus("04/GQTC", 6, "Rút đơn, đình chỉ giải quyết", "vụ việc"),
    _f("04/GQTC", 7, "Tổng số kết luận nội dung tố cáo đã ban hành trong kỳ", "kết luận"),
    _plus("04/GQTC", 8, "Tố cáo lần đầu, tố cáo đúng", "kết luận"),
    _plus("04/GQTC", 9, "Tố cáo lần đầu, tố cáo sai", "kết luận"),
    _plus("04/GQTC", 10, "Tố cáo lần đầu, tố cáo có đúng có sai", "kết luận"),
    _plus("04/GQTC", 11, "Tố cáo tiếp đúng", "kết luận"),
    _plus("04/GQTC", 12, "Tố cáo tiếp sai", "kết luận"),
    _plus("04/GQTC", 13, "Tố cáo tiếp có đúng có sai", "kết luận"),
    _f("04/GQTC", 14, "Kiến nghị thu hồi cho Nhà nước, tiền", _MONEY),
    _f("04/GQTC", 15, "Kiến nghị thu hồi cho Nhà nước, đất", _LAND),
    _f("04/GQTC", 16, "Trả lại cho tổ chức, cá nhân, tiền", _MONEY),
    _f("04/GQTC", 17, "Trả lại cho tổ chức, cá nhân, đất", _LAND),
    _plus("04/GQTC", 18, "Số tổ chức được trả lại quyền lợi", "tổ chức"),
    _plus("04/GQTC", 19, "Số cá nhân được trả lại quyền lợi", "cá nhân"),
    _f("04/GQTC", 20, "Kiến nghị xử lý hành chính, tổ chức", "tổ chức"),
    _f("04/GQTC", 21, "Kiến nghị xử lý hành chính, cá nhân", "cá nhân"),
    _plus("04/GQTC", 22, "Trong đó cán bộ, công chức", "người"),
    _f("04/GQTC", 23, "Chuyển cơ quan điều tra", "vụ"),
    _plus("04/GQTC", 24, "Số đối tượng", "đối tượng"),
    _plus("04/GQTC", 25, "Trong đó số cán bộ, công chức, viên chức", "người"),
    Head(39),
    Text("- Thi hành Quyết định giải quyết khiếu nại:"),
    _plus("05/KQTH", 1, "Số Quyết định phải thi hành trong kỳ (gồm số Quyết định kỳ trước chuyển sang)", "quyết định"),
    _plus("05/KQTH", 2, "Số Quyết định đã thi hành xong", "quyết định"),
    _plus("05/KQTH", 3, "Thu hồi cho Nhà nước, phải thu tiền", _MONEY),
    _plus("05/KQTH", 4, "Thu hồi cho Nhà nước, phải thu đất", _LAND),
    _plus("05/KQTH", 5, "Đã thu hồi cho Nhà nước, tiền", _MONEY),
    _plus("05/KQTH", 6, "Đã thu hồi cho Nhà nước, đất", _LAND),
    _plus("05/KQTH", 7, "Trả lại cho tổ chức, cá nhân, phải trả tiền", _MONEY),
    _plus("05/KQTH", 8, "Trả lại cho tổ chức, cá nhân, phải trả đất", _LAND),
    _plus("05/KQTH", 9, "Đã trả lại cho tổ chức, cá nhân, tiền", _MONEY),
    _plus("05/KQTH", 10, "Đã trả lại cho tổ chức, cá nhân, đất", _LAND),
    _plus("05/KQTH", 11, "Số người đã bị xử lý hành chính", "người"),
    _plus("05/KQTH", 12, "Trong đó số cán bộ, công chức, viên chức", "người"),
    _plus("05/KQTH", 13, "Đã khởi tố, số vụ", "vụ"),
    _plus("05/KQTH", 14, "Đã khởi tố, số người", "người"),
    _plus("05/KQTH", 15, "Đã khởi tố, trong đó số cán bộ, công chức, viên chức", "người"),
    Text("- Thực hiện Kết luận nội dung tố cáo:"),
    _plus("05/KQTH", 16, "Số Kết luận phải thực hiện trong kỳ (gồm số Kết luận kỳ trước chuyển sang)", "kết luận"),
    _plus("05/KQTH", 17, "Số Kết luận đã thực hiện xong", "kết luận"),
    _plus("05/KQTH", 18, "Thu hồi cho Nhà nước, phải thu tiền", _MONEY),
    _plus("05/KQTH", 19, "Thu hồi cho Nhà nước, phải thu đất", _LAND),
    _plus("05/KQTH", 20, "Đã thu hồi cho Nhà nước, tiền", _MONEY),
    _plus("05/KQTH", 21, "Đã thu hồi cho Nhà nước, đất", _LAND),
    _plus("05/KQTH", 22, "Trả lại cho tổ chức, cá nhân, phải trả tiền", _MONEY),
    _plus("05/KQTH", 23, "Trả lại cho tổ chức, cá nhân, phải trả đất", _LAND),
    _plus("05/KQTH", 24, "Đã trả lại cho tổ chức, cá nhân, tiền", _MONEY),
    _plus("05/KQTH", 25, "Đã trả lại cho tổ chức, cá nhân, đất", _LAND),
    _plus("05/KQTH", 26, "Số tổ chức đã bị xử lý hành chính", "tổ chức"),
    _plus("05/KQTH", 27, "Số cá nhân đã bị xử lý hành chính", "cá nhân"),
    _plus("05/KQTH", 28, "Trong đó số cán bộ, công chức, viên chức", "người"),
    _plus("05/KQTH", 29, "Đã khởi tố, số vụ", "vụ"),
    _plus("05/KQTH", 30, "Đã khởi tố, số đối tượng", "đối tượng"),
    _plus("05/KQTH", 31, "Đã khởi tố, trong đó số cán bộ, công chức, viên chức", "người"),
    Head(42),
    # No form has these (forms-2025.md §4.6): the protection block of the 06/QLKNTC input
    # workbooks, in the outline's order and words.
    _f(PROTECTION_CODE, 1, "Tổng số người được bảo vệ (người tố cáo, thân nhân của người tố cáo)", "người"),
    _plus(PROTECTION_CODE, 2, "Người tố cáo", "người"),
    _plus(PROTECTION_CODE, 3, "Thân nhân của người tố cáo", "người"),
    _plus(PROTECTION_CODE, 4, "Trong đó, số người được áp dụng biện pháp bảo vệ vị trí công tác, việc làm", "người"),
    _plus(PROTECTION_CODE, 5, "Trong đó, số người được áp dụng biện pháp bảo vệ tính mạng, sức khỏe, tài sản, "
                              "danh dự, nhân phẩm", "người"),
    Head(44),
    Head(45),
    Hold("viết nội dung mục này."),
    Head(46),
    _f("06/QLKNTC", 1, "Số văn bản ban hành mới", "văn bản"),
    _f("06/QLKNTC", 2, "Số văn bản được sửa đổi, bổ sung", "văn bản"),
    _f("06/QLKNTC", 3, "Số văn bản hủy bỏ", "văn bản"),
    _f("06/QLKNTC", 4, "Tập huấn, tuyên truyền, giáo dục pháp luật về tiếp công dân, khiếu nại, tố cáo, số lớp", "lớp"),
    _plus("06/QLKNTC", 5, "Số người", "người"),
    Head(49),
    _f("06/QLKNTC", 6, "Tổng số cuộc thanh tra trách nhiệm", "cuộc"),
    _f("06/QLKNTC", 7, "Tổng số đơn vị được thanh tra", "đơn vị"),
    Hold("bổ sung số đơn vị có vi phạm: … đơn vị (biểu 06/QLKNTC không có chỉ tiêu này)."),
    _f("06/QLKNTC", 8, "Số cuộc đã ban hành kết luận", "cuộc"),
    _f("06/QLKNTC", 9, "Kiến nghị xử lý hành chính, tổ chức", "tổ chức"),
    _f("06/QLKNTC", 10, "Kiến nghị xử lý hành chính, cá nhân", "cá nhân"),
    _f("06/QLKNTC", 11, "Kiến nghị chuyển cơ quan điều tra, tổ chức", "tổ chức"),
    _f("06/QLKNTC", 12, "Kiến nghị chuyển cơ quan điều tra, cá nhân", "cá nhân"),
    _f("06/QLKNTC", 13, "Số kết luận thanh tra trách nhiệm phải thực hiện", "kết luận"),
    _plus("06/QLKNTC", 14, "Đã xử lý hành chính, tổ chức", "tổ chức"),
    _plus("06/QLKNTC", 15, "Đã xử lý hành chính, cá nhân", "cá nhân"),
    _plus("06/QLKNTC", 16, "Đã khởi tố, số vụ", "vụ"),
    _plus("06/QLKNTC", 17, "Đã khởi tố, số đối tượng", "đối tượng"),

    Head(50),
    Head(51),
    _share("05/KQTH", 2, 1, "Tỷ lệ Quyết định giải quyết khiếu nại đã thi hành xong (cột 2 ÷ cột 1 Biểu 05/KQTH)", "-"),
    _share("05/KQTH", 17, 16, "Tỷ lệ Kết luận nội dung tố cáo đã thực hiện xong (cột 17 ÷ cột 16 Biểu 05/KQTH)", "-"),
    Hold("tỷ lệ giải quyết khiếu nại, tố cáo thuộc thẩm quyền so với mục tiêu: …% (mục tiêu: …%); "
         "Thông tư không quy định công thức tính, mục tiêu do đơn vị xác định."),
    Hold(OUTLINE[52]),
    Head(53),
    Hold(OUTLINE[54]),
    Head(55),
    Hold(OUTLINE[56]),
    Head(57),
    Hold(OUTLINE[58]),
    Head(59),
    Hold(OUTLINE[60]),
    Head(61),
    Hold(_strip_dash(OUTLINE[62]) + " " + OUTLINE[63]),
    Hold(_strip_dash(OUTLINE[64])),
    Hold(_strip_dash(OUTLINE[65])),
    Hold(_strip_dash(OUTLINE[66])),
)

if tuple(c.index for c in CONTENT if isinstance(c, Head)) != _HEADING_INDICES:
    raise AssertionError("mau02: the content does not follow the outline's headings")
