"""Mẫu số 02 (TT 06/2025/TT-TTCP): the narrative report on tiếp công dân, giải quyết khiếu
nại, tố cáo, as a Word document the officers edit, sign and send.

Điều 4.1 of TT 06/2025 makes the Quý I, 6 tháng, 9 tháng and năm reports a narrative
following the outline "Mẫu số 02" plus the six tables 01/TCD … 06/QLKNTC
(shared/domain/forms-2025.md §2.4, §5). :func:`build_mau02` writes that narrative:

- the heading block of a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP:
  issuer and number on the left, Quốc hiệu and Tiêu ngữ and "<place>, ngày … tháng …
  năm …" on the right), the title "BÁO CÁO", the subject line and the data window;
- every heading of the outline, in order and verbatim (:data:`OUTLINE`);
- under each heading, every figure the outline cites, taken from the total row of the
  given tables and written as a templated sentence, each followed by the comparison with
  the previous period and the same period of the previous year (the outline's closing
  "Lưu ý");
- placeholders — highlighted, bracketed "[Đơn vị soạn thảo: …]" paragraphs quoting the
  outline's own instruction — wherever only a person can write (causes, assessment,
  forecast, directions, recommendations, the "khái quát" prose) and for figures no table
  carries ("số đơn vị có vi phạm", the targets of III.1). Nothing is invented;
- II.5 "Bảo vệ người tố cáo": no form has these figures (forms-2025.md §4.6); they come
  from the optional protection block of the units' 06/QLKNTC input workbooks
  (fact_qlkntc ``protected_*``), passed as the table :data:`PROTECTION_CODE` built by
  :func:`protection_table` over the same rows (units) and records as the scope's
  06/QLKNTC table. The total adds up the units that reported the block; a note under
  the figures names the units that did not (an older workbook without the block, a
  block left empty, or no accepted 06/QLKNTC workbook at all), and a figure none of the
  units reported reads "chưa có số liệu (… chưa báo cáo số liệu bảo vệ người tố cáo)";
- the attached tables, "Nơi nhận" and the signature block.

Every figure written is also returned as a :class:`Figure` (form, MS column(s), value,
comparison values, the exact text) and saved beside the document as
``<stem>.so-lieu.json`` so that tests and auditors can check each one against the cell it
cites.

Readings taken where the text is open (forms-2025.md §6 point 9, §4.6):

- II.2.a "Tổng số đơn đã tiếp nhận trong kỳ" has no column of its own: 02/XLD column 1 is
  written, labelled as including the petitions carried over from the previous period.
- I.1.a / I.1.b "tỉ lệ đơn … của từng lĩnh vực": 02/XLD 9, 10, 11 as shares of 6 and
  15–18 as shares of 12 (the form splits fields only for competent petitions).
- III.1 "tỷ lệ thực hiện quyết định, kết luận": 05/KQTH 2 ÷ 1 and 17 ÷ 16.
  "tỷ lệ giải quyết … so với mục tiêu": formula and target not stated — placeholder.
- A ratio is a percentage with one decimal; its comparison is in percentage points.
- Comparisons: a table of the comparison period on the 2025 forms is read column for
  column. A period reported on the older forms (TT 02/2021, TT 01/2024) is compared only
  where forms-2025.md §3 says a 2025 column is the same count as an old column (or a sum
  of old columns, :data:`OLD_EQUIVALENTS`); every other figure says it has no
  equivalent. Counts whose unit changed (decisions by issue date instead of matters,
  petition breakdowns instead of case breakdowns, the new acceptance status) are not
  compared.

NA cells (a unit row that did not report does not reach the total, which is a sum; an
``unavailable`` column is NA on every row) are written "chưa có số liệu (<reason>)",
never 0. The reason comes from ``notes`` ("<form>:<ms>" or "<form>" → reason; build it
from the form definitions with :func:`na_reasons`), else from the known gaps of
forms-2025.md §4.7 (:data:`KNOWN_GAPS`), else a plain "biểu … để trống cột (…)". A
missing table gives "chưa có biểu <code>".

The output is deterministic: fixed core properties dated at the window's end and fixed
zip entry timestamps, so the same inputs give the same bytes.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

from core.dates import vn_date
from reports.formdef import TOTAL_ROW_ID
from reports.narrative import format_vn

__all__ = ["Figure", "Placeholder", "Mau02Result", "build_mau02", "na_reasons", "OUTLINE", "PROTECTION_CODE",
           "PROTECTION_FIELDS", "protection_table",
           "HEADINGS", "FORM_CODES", "FORM_COLUMNS", "OLD_EQUIVALENTS", "KNOWN_GAPS",
           "PLACEHOLDER_PREFIX", "comparison_codes", "format_value", "figures_path"]

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


def _heading_parts(text: str) -> tuple[str, str]:
    """(printed heading, the outline's instruction that follows it). Two headings run an
    instruction on after a colon ("a) Về khiếu nại: Khái quát …"): the heading is printed
    up to the colon and the rest goes into the placeholder under it, verbatim."""
    head, sep, rest = text.partition(": ")
    return (head, rest) if sep else (text, "")


def _level(text: str) -> int:
    m = _HEADING_RE.match(text)
    if not m:
        raise ValueError(f"not a heading: {text!r}")
    return 1 if m.group("roman") else 2 if m.group("digit") else 3


# Indices into OUTLINE of the 27 headings, and their printed text, in order.
_HEADING_INDICES: tuple[int, ...] = tuple(i for i, p in enumerate(OUTLINE) if _HEADING_RE.match(p))
HEADINGS: tuple[str, ...] = tuple(_heading_parts(OUTLINE[i])[0] for i in _HEADING_INDICES)

FORM_CODES = ("01/TCD", "02/XLD", "03/GQKN", "04/GQTC", "05/KQTH", "06/QLKNTC")
# Data columns of each 2025 form (forms-2025.md §3): a table with exactly MS 1..n is
# read as a table on the 2025 form.
FORM_COLUMNS = {"01/TCD": 21, "02/XLD": 25, "03/GQKN": 23, "04/GQTC": 25, "05/KQTH": 31,
                "06/QLKNTC": 17}
TT06_VERSION = "TT06_2025"
# II.5 "Bảo vệ người tố cáo": not a printed form but the protection block of the 06/QLKNTC
# input workbooks; its table (protection_table) has "columns" 1–5, the block's items, each
# the fact_qlkntc column below (connectors/qlkntc_template.py PROTECTION_ITEMS).
PROTECTION_CODE = "BVNTC"
PROTECTION_FIELDS = {1: "protected_persons", 2: "protected_denouncers", 3: "protected_relatives",
                     4: "protected_job", 5: "protected_life"}
PROTECTION_SOURCE = "tệp nhập số liệu biểu 06/QLKNTC (trang «Bảo vệ người tố cáo»)"
_NOT_REPORTED = "chưa báo cáo số liệu bảo vệ người tố cáo"
_NO_PROTECTION_TABLE = "không có số liệu bảo vệ người tố cáo từ " + PROTECTION_SOURCE
_TABLE_COLUMNS = {**FORM_COLUMNS, PROTECTION_CODE: len(PROTECTION_FIELDS)}

PLACEHOLDER_PREFIX = "[Đơn vị soạn thảo: "
NA_TEXT = "chưa có số liệu"
MINUS = "\u2212"   # the minus sign, not a hyphen, in "(−0,2%)"

# 2025 column → (old form code, old MS numbers added up), only where forms-2025.md §3
# states the same count ("= 2021 n", "= 2021 a+b", "= 2024 01/XLD n"). The older forms a
# comparison period can be on are those of TT 01/2024 (its XLD forms, and the TT 02/2021
# TCD and KQGQ forms it kept): every window ending from 20/01/2024 to 29/09/2025.
# Left out on purpose: 01/TCD 10, 16 (announced days, not sittings held); 02/XLD 5, 23
# (new scope) and the per-type breakdowns 7–11, 13–18, 20–22 (petitions now, cases then);
# 03/GQKN and 04/GQTC 3–6 (acceptance status, new) and 7–13 (decisions / conclusions by
# issue date, matters then); 04/GQTC 20 and 05/KQTH 26–27 (organisations, not split then);
# 06/QLKNTC (new form).
OLD_EQUIVALENTS: dict[str, dict[int, tuple[str, tuple[int, ...]]]] = {
    "01/TCD": {1: ("01/TCD", (1,)), 2: ("01/TCD", (2,)), 3: ("01/TCD", (3,)),
               4: ("01/TCD", (8, 17, 26)), 5: ("01/TCD", (4,)), 6: ("01/TCD", (5,)),
               7: ("01/TCD", (6, 7)), 8: ("01/TCD", (8,)), 9: ("01/TCD", (9,)),
               11: ("01/TCD", (13,)), 12: ("01/TCD", (14,)), 13: ("01/TCD", (15, 16)),
               14: ("01/TCD", (17,)), 15: ("01/TCD", (18,)), 17: ("01/TCD", (22,)),
               18: ("01/TCD", (23,)), 19: ("01/TCD", (24, 25)), 20: ("01/TCD", (26,)),
               21: ("01/TCD", (27,))},
    "02/XLD": {1: ("01/XLD", (1,)), 2: ("01/XLD", (4,)), 3: ("01/XLD", (6,)), 4: ("01/XLD", (14,)),
               6: ("01/XLD", (15,)), 12: ("01/XLD", (16,)), 19: ("01/XLD", (17,)),
               24: ("01/XLD", (19,)), 25: ("01/XLD", (20,))},
    "03/GQKN": {1: ("01/KQGQ", (1,)), 2: ("01/KQGQ", (4,)), 13: ("01/KQGQ", (7,)),
                14: ("01/KQGQ", (8,)), 15: ("01/KQGQ", (9, 11)), 16: ("01/KQGQ", (10, 12)),
                17: ("01/KQGQ", (13,)), 18: ("01/KQGQ", (14,)), 19: ("01/KQGQ", (15,)),
                20: ("01/KQGQ", (16,)), 21: ("01/KQGQ", (17,)), 22: ("01/KQGQ", (18,)),
                23: ("01/KQGQ", (19,))},
    "04/GQTC": {1: ("03/KQGQ", (1,)), 2: ("03/KQGQ", (4,)), 14: ("03/KQGQ", (11,)),
                15: ("03/KQGQ", (12,)), 16: ("03/KQGQ", (13, 15)), 17: ("03/KQGQ", (14, 16)),
                18: ("03/KQGQ", (17,)), 19: ("03/KQGQ", (18,)), 21: ("03/KQGQ", (19,)),
                22: ("03/KQGQ", (20,)), 23: ("03/KQGQ", (21,)), 24: ("03/KQGQ", (22,)),
                25: ("03/KQGQ", (23,))},
    "05/KQTH": {**{ms: ("02/KQGQ", (ms,)) for ms in (1, 2, 3, 4, 5, 6)},
                7: ("02/KQGQ", (7, 9)), 8: ("02/KQGQ", (8, 10)), 9: ("02/KQGQ", (11, 13)),
                10: ("02/KQGQ", (12, 14)),
                **{ms: ("02/KQGQ", (ms + 4,)) for ms in (11, 12, 13, 14, 15)},
                **{ms: ("04/KQGQ", (ms - 15,)) for ms in (16, 17, 18, 19, 20, 21)},
                22: ("04/KQGQ", (7, 9)), 23: ("04/KQGQ", (8, 10)), 24: ("04/KQGQ", (11, 13)),
                25: ("04/KQGQ", (12, 14)),
                **{ms: ("04/KQGQ", (ms - 12,)) for ms in (28, 29, 30, 31)}},
}
# Old form codes a comparison dict may hold (keys of the TT 01/2024 set).
_OLD_ONLY_CODES = {"02/TCD", "01/XLD", "03/XLD", "04/XLD", "01/KQGQ", "02/KQGQ", "03/KQGQ", "04/KQGQ"}

# Why a cell is empty, when the caller gives no reason: the data the sources do not
# carry (forms-2025.md §4.7). The form definitions say the same at length (na_reasons).
_NO_ACCEPTANCE = "có đơn vị mà nguồn dữ liệu chưa ghi việc thụ lý, không thụ lý từng vụ việc"
KNOWN_GAPS: dict[str, str] = {
    "01/TCD:10": "nguồn dữ liệu chưa có số ngày tiếp công dân của Thủ trưởng được thông báo công khai",
    "01/TCD:16": "nguồn dữ liệu chưa có số ngày tiếp công dân của Thủ trưởng được thông báo công khai",
    **{f"{code}:{ms}": _NO_ACCEPTANCE for code in ("03/GQKN", "04/GQTC") for ms in (3, 4, 5, 6)},
    "04/GQTC:20": "có đơn vị mà nguồn dữ liệu chưa ghi số tổ chức bị kiến nghị xử lý hành chính",
    "05/KQTH:26": "có đơn vị mà nguồn dữ liệu chưa ghi số tổ chức đã bị xử lý hành chính",
    "06/QLKNTC": "nguồn dữ liệu tiếp công dân, xử lý đơn chưa có số liệu quản lý nhà nước (nhập thủ công)",
    PROTECTION_CODE: "đơn vị " + _NOT_REPORTED,
}


def _no_table(code: str) -> str:
    return _NO_PROTECTION_TABLE if code == PROTECTION_CODE else f"chưa có biểu {code}"


# --------------------------------------------------------------------- public records

@dataclass(frozen=True)
class Figure:
    """One figure written into the document.

    ``ms`` is the MS number of the cell (``kind`` "cell"), the MS numbers added up
    ("sum", e.g. 01/TCD 9+15+21) or (numerator, denominator) of a percentage ("share",
    value = 100 × num ÷ den). ``value`` / ``previous`` / ``same_period_last_year`` are
    None when not available; ``na_reason`` / ``previous_note`` / ``last_year_note`` say
    why. ``previous_source`` names the cells a comparison value was read from (an old
    form's columns when the comparison period was on the older forms). ``text`` is the
    paragraph exactly as written; ``group`` the lead-in line it is listed under, if any
    ("- Tiếp thường xuyên:").
    """

    heading: str
    text_label: str
    form: str
    ms: int | tuple[int, ...]
    value: int | float | None
    previous: int | float | None
    same_period_last_year: int | float | None
    kind: str = "cell"
    unit: str = ""
    group: str = ""
    text: str = ""
    na_reason: str | None = None
    previous_note: str | None = None
    last_year_note: str | None = None
    previous_source: str | None = None
    last_year_source: str | None = None


@dataclass(frozen=True)
class Placeholder:
    """A part only a person can write, or a figure no table carries."""

    heading: str
    text: str


@dataclass(frozen=True)
class Mau02Result:
    path: Path                  # the .docx
    figures_path: Path          # <stem>.so-lieu.json
    figures: list[Figure]
    placeholders: list[Placeholder]


def comparison_codes(regime_id: str) -> tuple[str, ...]:
    """The forms whose tables a comparison period under `regime_id` should supply: the
    2025 set, or the old forms :data:`OLD_EQUIVALENTS` reads (TT 01/2024 numbering)."""
    if regime_id == "TT06_2025":
        return FORM_CODES
    return tuple(sorted({code for cols in OLD_EQUIVALENTS.values() for code, _ in cols.values()}))


def figures_path(docx_path: str | Path) -> Path:
    """Where the figure record of a document goes: ``<stem>.so-lieu.json`` beside it."""
    p = Path(docx_path)
    return p.with_name(f"{p.stem}.so-lieu.json")


def na_reasons(forms: Iterable[Any]) -> dict[str, str]:
    """``notes`` entries ("<form>:<ms>" → reason) for the ``unavailable`` columns of
    the given form definitions (reports.formdef.FormDef), with their own reasons, and for
    the columns that need a field some sources lack (``requires``: their total is empty
    when a row's source lacks it)."""
    out: dict[str, str] = {}
    for form in forms:
        for col in form.columns:
            if col.kind == "unavailable":
                out[f"{form.code}:{col.ms}"] = " ".join(str(col.compute.get("reason", "")).split())
            elif col.requires:
                out[f"{form.code}:{col.ms}"] = ("có đơn vị chưa đủ số liệu — "
                                                + " ".join(str(col.reason).split()).rstrip("."))
    return out


# --------------------------------------------------------------------- the outline's content

@dataclass(frozen=True)
class _Head:
    index: int                  # into OUTLINE


@dataclass(frozen=True)
class _Fig:
    form: str
    ms: int | tuple[int, ...]
    label: str
    unit: str
    bullet: str = "-"
    kind: str = "cell"          # cell | sum | share


@dataclass(frozen=True)
class _Text:
    text: str                   # a lead-in label or a verbatim line of the outline


@dataclass(frozen=True)
class _Hold:
    text: str                   # the instruction quoted in the placeholder


def _rest(i: int) -> str:
    return _heading_parts(OUTLINE[i])[1]


def _strip_dash(text: str) -> str:
    return text[2:] if text.startswith("- ") else text


def _f(form: str, ms, label: str, unit: str, bullet: str = "-", kind: str = "cell") -> _Fig:
    return _Fig(form, ms, label, unit, bullet, kind)


def _plus(form: str, ms, label: str, unit: str, kind: str = "cell") -> _Fig:
    return _Fig(form, ms, label, unit, "+", kind)


def _share(form: str, num: int, den: int, label: str, bullet: str = "+") -> _Fig:
    return _Fig(form, (num, den), label, "%", bullet, "share")


_MONEY, _LAND = "triệu đồng", "m²"

# The document body, in order. Headings are OUTLINE indices (checked below to be all 27
# headings, in order); figure labels name the cell in the words of the form's header.
_CONTENT: tuple[Any, ...] = (
    _Head(4),
    _Head(5),
    _Hold(OUTLINE[6]),
    _Head(7),
    _f("02/XLD", 6, "Số đơn khiếu nại thuộc thẩm quyền", "đơn"),
    _share("02/XLD", 9, 6, "Tỷ lệ đơn khiếu nại lĩnh vực đất đai (trên tổng số đơn khiếu nại thuộc thẩm quyền)"),
    _share("02/XLD", 10, 6, "Tỷ lệ đơn khiếu nại lĩnh vực chế độ, chính sách (trên tổng số đơn khiếu nại thuộc thẩm quyền)"),
    _share("02/XLD", 11, 6, "Tỷ lệ đơn khiếu nại lĩnh vực khác (trên tổng số đơn khiếu nại thuộc thẩm quyền)"),
    _Hold(_rest(7)),
    _Head(8),
    _f("02/XLD", 12, "Số đơn tố cáo thuộc thẩm quyền", "đơn"),
    _share("02/XLD", 15, 12, "Tỷ lệ đơn tố cáo lĩnh vực hành chính (trên tổng số đơn tố cáo thuộc thẩm quyền)"),
    _share("02/XLD", 16, 12, "Tỷ lệ đơn tố cáo lĩnh vực tham nhũng (trên tổng số đơn tố cáo thuộc thẩm quyền)"),
    _share("02/XLD", 17, 12, "Tỷ lệ đơn tố cáo lĩnh vực tư pháp (trên tổng số đơn tố cáo thuộc thẩm quyền)"),
    _share("02/XLD", 18, 12, "Tỷ lệ đơn tố cáo lĩnh vực khác (trên tổng số đơn tố cáo thuộc thẩm quyền)"),
    _Hold(_rest(8) + ". " + OUTLINE[9]),
    _Head(10),
    _Hold(OUTLINE[11]),

    _Head(12),
    _Head(13),
    _f("01/TCD", 1, "Tổng số lượt tiếp", "lượt"),
    _f("01/TCD", 2, "Tổng số người được tiếp", "người"),
    _f("01/TCD", 3, "Tổng số vụ việc tiếp", "vụ việc"),
    _f("01/TCD", 4, "Tổng số đoàn đông người được tiếp", "đoàn"),
    _plus("01/TCD", (9, 15, 21), "Số người trong các đoàn đông người được tiếp", "người", kind="sum"),
    _Text("- Tiếp thường xuyên:"),
    _plus("01/TCD", 5, "Số lượt tiếp", "lượt"),
    _plus("01/TCD", 6, "Số người được tiếp", "người"),
    _plus("01/TCD", 7, "Số vụ việc", "vụ việc"),
    _plus("01/TCD", 8, "Số đoàn đông người được tiếp", "đoàn"),
    _plus("01/TCD", 9, "Số người trong đoàn đông người", "người"),
    _Text("- Thủ trưởng trực tiếp tiếp công dân (định kỳ và đột xuất):"),
    _plus("01/TCD", 10, "Số ngày tiếp", "ngày"),
    _plus("01/TCD", 11, "Số lượt tiếp", "lượt"),
    _plus("01/TCD", 12, "Số người được tiếp", "người"),
    _plus("01/TCD", 13, "Số vụ việc", "vụ việc"),
    _plus("01/TCD", 14, "Số đoàn đông người được tiếp", "đoàn"),
    _plus("01/TCD", 15, "Số người trong đoàn đông người", "người"),
    _Text("- Thủ trưởng ủy quyền tiếp công dân:"),
    _plus("01/TCD", 16, "Số ngày tiếp", "ngày"),
    _plus("01/TCD", 17, "Số lượt tiếp", "lượt"),
    _plus("01/TCD", 18, "Số người được tiếp", "người"),
    _plus("01/TCD", 19, "Số vụ việc", "vụ việc"),
    _plus("01/TCD", 20, "Số đoàn đông người được tiếp", "đoàn"),
    _plus("01/TCD", 21, "Số người trong đoàn đông người", "người"),
    # Biểu 01/TCD puts định kỳ and đột xuất together: the định kỳ part the outline asks
    # about is not in the table (forms-2025.md §4.6).
    _Hold(_strip_dash(OUTLINE[15]) + " Biểu 01/TCD gộp tiếp định kỳ và đột xuất nên không tách được số liệu tiếp định kỳ."),
    _Head(16),
    _Text(OUTLINE[17]),
    _Head(18),
    _f("02/XLD", 1, "Tổng số đơn (gồm đơn tiếp nhận trong kỳ và đơn chưa xử lý kỳ trước chuyển sang)", "đơn"),
    _f("02/XLD", 2, "Số đơn đã xử lý", "đơn"),
    _f("02/XLD", 3, "Số đơn đủ điều kiện xử lý", "đơn"),
    _f("02/XLD", 4, "Số đơn thuộc thẩm quyền", "đơn"),
    _f("02/XLD", 5, "Số vụ việc thuộc thẩm quyền", "vụ việc"),
    _Head(23),
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
    _Head(27),
    _f("02/XLD", 23, "Tổng số đơn không thuộc thẩm quyền", "đơn"),
    _plus("02/XLD", 24, "Số đơn đã hướng dẫn công dân gửi đơn", "đơn"),
    _plus("02/XLD", 25, "Số đơn đã chuyển đơn đến cơ quan có thẩm quyền giải quyết", "đơn"),
    _Head(30),
    _Head(31),
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
    _Head(35),
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
    _Head(39),
    _Text("- Thi hành Quyết định giải quyết khiếu nại:"),
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
    _Text("- Thực hiện Kết luận nội dung tố cáo:"),
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
    _Head(42),
    # No form has these (forms-2025.md §4.6): the protection block of the 06/QLKNTC input
    # workbooks, in the outline's order and words.
    _f(PROTECTION_CODE, 1, "Tổng số người được bảo vệ (người tố cáo, thân nhân của người tố cáo)", "người"),
    _plus(PROTECTION_CODE, 2, "Người tố cáo", "người"),
    _plus(PROTECTION_CODE, 3, "Thân nhân của người tố cáo", "người"),
    _plus(PROTECTION_CODE, 4, "Trong đó, số người được áp dụng biện pháp bảo vệ vị trí công tác, việc làm", "người"),
    _plus(PROTECTION_CODE, 5, "Trong đó, số người được áp dụng biện pháp bảo vệ tính mạng, sức khỏe, tài sản, "
                              "danh dự, nhân phẩm", "người"),
    _Head(44),
    _Head(45),
    _Hold("viết nội dung mục này."),
    _Head(46),
    _f("06/QLKNTC", 1, "Số văn bản ban hành mới", "văn bản"),
    _f("06/QLKNTC", 2, "Số văn bản được sửa đổi, bổ sung", "văn bản"),
    _f("06/QLKNTC", 3, "Số văn bản hủy bỏ", "văn bản"),
    _f("06/QLKNTC", 4, "Tập huấn, tuyên truyền, giáo dục pháp luật về tiếp công dân, khiếu nại, tố cáo, số lớp", "lớp"),
    _plus("06/QLKNTC", 5, "Số người", "người"),
    _Head(49),
    _f("06/QLKNTC", 6, "Tổng số cuộc thanh tra trách nhiệm", "cuộc"),
    _f("06/QLKNTC", 7, "Tổng số đơn vị được thanh tra", "đơn vị"),
    _Hold("bổ sung số đơn vị có vi phạm: … đơn vị (biểu 06/QLKNTC không có chỉ tiêu này)."),
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

    _Head(50),
    _Head(51),
    _share("05/KQTH", 2, 1, "Tỷ lệ Quyết định giải quyết khiếu nại đã thi hành xong (cột 2 ÷ cột 1 Biểu 05/KQTH)", "-"),
    _share("05/KQTH", 17, 16, "Tỷ lệ Kết luận nội dung tố cáo đã thực hiện xong (cột 17 ÷ cột 16 Biểu 05/KQTH)", "-"),
    _Hold("tỷ lệ giải quyết khiếu nại, tố cáo thuộc thẩm quyền so với mục tiêu: …% (mục tiêu: …%); "
          "Thông tư không quy định công thức tính, mục tiêu do đơn vị xác định."),
    _Hold(OUTLINE[52]),
    _Head(53),
    _Hold(OUTLINE[54]),
    _Head(55),
    _Hold(OUTLINE[56]),
    _Head(57),
    _Hold(OUTLINE[58]),
    _Head(59),
    _Hold(OUTLINE[60]),
    _Head(61),
    _Hold(_strip_dash(OUTLINE[62]) + " " + OUTLINE[63]),
    _Hold(_strip_dash(OUTLINE[64])),
    _Hold(_strip_dash(OUTLINE[65])),
    _Hold(_strip_dash(OUTLINE[66])),
)

if tuple(c.index for c in _CONTENT if isinstance(c, _Head)) != _HEADING_INDICES:
    raise AssertionError("mau02: the content does not follow the outline's headings")


# --------------------------------------------------------------------- numbers and words

def _plain(value: Any) -> int | float | None:
    """A table cell as a Python number; None for an empty cell (NA, None, NaN)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else round(float(value), 6)
    raise TypeError(f"not a number cell: {value!r}")


def _decimals(value: float, most: int = 3) -> int:
    for d in range(most + 1):
        if abs(round(value, d) - value) < 1e-9:
            return d
    return most


def format_value(value: int | float) -> str:
    """A figure the Vietnamese way: 1234 → "1.234", 12.5 → "12,5"; decimal amounts (tiền,
    đất) keep up to three decimals, without trailing zeros."""
    if isinstance(value, int):
        return format_vn(value)
    v = round(float(value), 3)
    return format_vn(v, _decimals(v))


def _format_share(value: float) -> str:
    return f"{format_vn(value, 1)}%"


def _change(cur: int | float, old: int | float, unit: str, share: bool, which: str) -> str:
    """"tăng 12 lượt (+1,0%) so với kỳ trước" / "giảm 2,5 điểm phần trăm so với …"."""
    where = f"so với {which}"
    if share:
        diff = round(cur - old, 6)
        if format_vn(abs(diff), 1) in ("0,0", "0"):
            return f"không thay đổi {where}"
        word = "tăng" if diff > 0 else "giảm"
        return f"{word} {format_vn(abs(diff), 1)} điểm phần trăm {where}"
    diff = cur - old
    diff = round(diff, 6) if isinstance(diff, float) else diff
    if diff == 0:
        return f"không thay đổi {where}"
    word = "tăng" if diff > 0 else "giảm"
    amount = f"{format_value(abs(diff))} {unit}"
    if old == 0:
        return f"{word} {amount} {where} ({which} bằng 0)"
    pct = diff / old * 100
    sign = "+" if diff > 0 else MINUS
    return f"{word} {amount} ({sign}{format_vn(abs(pct), 1)}%) {where}"


def _lower_first(text: str) -> str:
    text = " ".join(str(text).split()).rstrip(".")
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


# --------------------------------------------------------------------- reading the tables

def _ms_columns(table: pd.DataFrame) -> set[int]:
    """The MS-number columns of a table (the others are label, kind, note)."""
    return {int(c) for c in table.columns if isinstance(c, (int, np.integer)) and not isinstance(c, bool)}


def _is_tt06(code: str, table: pd.DataFrame) -> bool:
    """Whether a table is on the 2025 form `code`: its ``attrs`` say so (version /
    regime), else it has exactly the form's MS columns 1..n."""
    tag = table.attrs.get("version") or table.attrs.get("regime")
    if tag:
        return str(tag) == TT06_VERSION
    n = _TABLE_COLUMNS.get(code)
    return n is not None and _ms_columns(table) == set(range(1, n + 1))


def _total(table: pd.DataFrame, ms: int) -> int | float | None:
    """The total row's cell of column `ms`; None when empty or when the table lacks the
    column or the total row (a comparison table of an old form may be partial)."""
    if ms not in table.columns or TOTAL_ROW_ID not in table.index:
        return None
    return _plain(table.at[TOTAL_ROW_ID, ms])


def _terms(spec: _Fig) -> tuple[int, ...]:
    return spec.ms if isinstance(spec.ms, tuple) else (spec.ms,)


def _combine(spec: _Fig, values: list[int | float]) -> int | float | None:
    """The figure from its cells: the cell, their sum, or a percentage (None when the
    denominator is 0)."""
    if spec.kind == "share":
        num, den = values
        return None if den == 0 else round(num / den * 100, 6)
    total = sum(values)
    return round(total, 6) if isinstance(total, float) else total


@dataclass
class _Side:
    """One comparison period's tables."""

    name: str                                   # "kỳ trước" | "cùng kỳ năm trước"
    tables: Mapping[str, pd.DataFrame] | None

    def has_old_forms(self) -> bool:
        if not self.tables:
            return False
        return any(code in _OLD_ONLY_CODES or (code in FORM_COLUMNS and not _is_tt06(code, t))
                   for code, t in self.tables.items())

    def value(self, spec: _Fig) -> tuple[int | float | None, str | None, str | None]:
        """(value, why not, source)."""
        if self.tables is None:
            return None, "chưa có số liệu", None
        table = self.tables.get(spec.form)
        terms = _terms(spec)
        if table is not None and _is_tt06(spec.form, table):
            cells = [_total(table, ms) for ms in terms]
            source = f"{spec.form} cột {_terms_text(spec)}"
            if any(c is None for c in cells):
                return None, "chưa có số liệu", source
            value = _combine(spec, cells)
            if value is None:
                return None, "mẫu số của tỷ lệ bằng 0", source
            return value, None, source
        if not self.has_old_forms():
            return None, _no_table(spec.form), None
        # The comparison period is on the older forms: only columns with the same meaning.
        mapping = OLD_EQUIVALENTS.get(spec.form, {})
        if not all(ms in mapping for ms in terms):
            return None, _NO_EQUIVALENT, None
        old_codes = {mapping[ms][0] for ms in terms}
        if len(old_codes) != 1:
            return None, _NO_EQUIVALENT, None
        old_code = old_codes.pop()
        old = self.tables.get(old_code)
        if old is None or _is_tt06(old_code, old):
            return None, f"chưa có biểu {old_code} (mẫu cũ)", None
        cells = []
        parts = []
        for ms in terms:
            olds = mapping[ms][1]
            vals = [_total(old, m) for m in olds]
            if any(v is None for v in vals):
                return None, "chưa có số liệu", None
            cells.append(sum(vals))
            parts.append("+".join(str(m) for m in olds))
        joiner = "/" if spec.kind == "share" else "+"
        source = f"{old_code} cột {joiner.join(parts)} (biểu trước Thông tư số 06/2025/TT-TTCP)"
        value = _combine(spec, cells)
        if value is None:
            return None, "mẫu số của tỷ lệ bằng 0", source
        return value, None, source


_NO_EQUIVALENT = "kỳ đó báo cáo theo biểu trước Thông tư số 06/2025/TT-TTCP, không có chỉ tiêu tương đương"


def _terms_text(spec: _Fig) -> str:
    terms = _terms(spec)
    return "/".join(map(str, terms)) if spec.kind == "share" else "+".join(map(str, terms))


class _Reasons:
    def __init__(self, notes: Mapping[str, str] | None):
        self.notes = dict(notes or {})

    def __call__(self, form: str, ms: int) -> str:
        for key in (f"{form}:{ms}", form):
            if self.notes.get(key):
                return _lower_first(self.notes[key])
        for key in (f"{form}:{ms}", form):
            if key in KNOWN_GAPS:
                return KNOWN_GAPS[key]
        return f"biểu {form} để trống cột ({ms})"


def _figure(spec: _Fig, heading: str, group: str, tables: Mapping[str, pd.DataFrame], prev: _Side,
            last: _Side, reasons: _Reasons) -> Figure:
    table = tables.get(spec.form)
    terms = _terms(spec)
    value: int | float | None = None
    na: str | None = None
    zero_den: str | None = None
    if table is None:
        na = _no_table(spec.form)
    else:
        cells = [_total(table, ms) for ms in terms]
        missing = [ms for ms, c in zip(terms, cells) if c is None]
        if missing:
            na = reasons(spec.form, missing[0])
        else:
            value = _combine(spec, cells)
            if value is None:
                zero_den = f"cột {terms[1]} Biểu {spec.form} bằng 0"
    pv, pnote, psrc = prev.value(spec)
    lv, lnote, lsrc = last.value(spec)
    share = spec.kind == "share"
    if zero_den:
        # Not an empty cell: the ratio has no value, and saying "chưa có số liệu" would
        # suggest data is missing.
        text = f"{spec.label}: không tính được ({zero_den})."
        na = zero_den
    elif value is None:
        text = f"{spec.label}: {NA_TEXT} ({na})."
    else:
        shown = _format_share(value) if share else f"{format_value(value)} {spec.unit}"
        parts = [f"{spec.label}: {shown}"]
        for side, v, note in ((prev, pv, pnote), (last, lv, lnote)):
            if side.tables is None:
                continue            # no such comparison for this report (said once, under the title)
            if v is None:
                parts.append(f"chưa so sánh được với {side.name} ({note})")
            else:
                parts.append(_change(value, v, spec.unit, share, side.name))
        text = "; ".join(parts) + "."
    return Figure(heading=heading, text_label=spec.label, form=spec.form,
                  ms=spec.ms, value=value, previous=pv, same_period_last_year=lv,
                  kind=spec.kind, unit=spec.unit, group=group, text=f"{spec.bullet} {text}", na_reason=na,
                  previous_note=pnote, last_year_note=lnote, previous_source=psrc,
                  last_year_source=lsrc)


# --------------------------------------------------------------------- II.5: protection table

def _names(labels: list[str], most: int = 10) -> str:
    shown = ", ".join(labels[:most])
    return shown + (f" và {len(labels) - most} đơn vị khác" if len(labels) > most else "")


def protection_table(rows: Iterable[Any], records: pd.DataFrame | None) -> pd.DataFrame:
    """The II.5 table of a scope: one row per data row of its 06/QLKNTC report (`rows`,
    reports.formdef.ReportRow, the total row last) and the total, columns label, kind,
    1–5 (:data:`PROTECTION_FIELDS`, nullable integers), ``status`` and note.

    `records` are the fact_qlkntc rows placed on those rows (``row_id``), as for the
    06/QLKNTC table. A row is ``reported`` when it has records and every one of them
    carries the block (its values: their sums); ``not_reported`` when a record lacks it
    (NULL: a version-1 workbook or an empty block — the row's cells are NA, never 0);
    ``no_workbook`` when no 06/QLKNTC figures of the row were published (not sent, or
    quarantined). The total adds up the reported rows (NA when none); its note says from
    how many units the figures come and names those that did not report them;
    ``attrs["na_reason"]`` is the reason an NA total is written with."""
    rows = list(rows)
    data_rows = [r for r in rows if r.kind != "total"]
    total_row = next((r for r in rows if r.kind == "total"), None)
    recs = records if records is not None and len(records) else pd.DataFrame(
        columns=["row_id", *PROTECTION_FIELDS.values()])
    row_of = recs["row_id"].astype(str) if len(recs) else pd.Series(dtype=object)
    out: dict[str, dict] = {}
    for r in data_rows:
        mine = recs[(row_of == str(r.row_id)).to_numpy()] if len(recs) else recs
        entry = {"label": r.label, "kind": r.kind}
        if mine.empty:
            status, values = "no_workbook", [pd.NA] * len(PROTECTION_FIELDS)
        elif mine[PROTECTION_FIELDS[1]].isna().any():
            status, values = "not_reported", [pd.NA] * len(PROTECTION_FIELDS)
        else:
            status = "reported"
            values = [int(pd.to_numeric(mine[col]).sum()) for col in PROTECTION_FIELDS.values()]
        entry.update({ms: v for ms, v in zip(PROTECTION_FIELDS, values)})
        entry["status"] = status
        entry["note"] = "" if status == "reported" else ("Chưa báo cáo" if status == "no_workbook"
                                                           else "Không báo cáo số liệu bảo vệ người tố cáo")
        out[r.row_id] = entry
    reported = [e for e in out.values() if e["status"] == "reported"]
    no_block = [e["label"] for e in out.values() if e["status"] == "not_reported"]
    no_book = [e["label"] for e in out.values() if e["status"] == "no_workbook"]
    n, k = len(out), len(reported)
    total = {"label": total_row.label if total_row else "Tổng cộng", "kind": "total", "status": ""}
    for ms in PROTECTION_FIELDS:
        total[ms] = sum(e[ms] for e in reported) if reported else pd.NA
    single = n == 1
    if single:
        note = (f"từ {PROTECTION_SOURCE} của đơn vị" if k else
                f"đơn vị {_NOT_REPORTED} ("
                + ("đã gửi biểu 06/QLKNTC nhưng không kèm số liệu này" if no_block
                   else "chưa có biểu 06/QLKNTC được chấp nhận") + ")")
    else:
        note = f"tổng hợp từ {PROTECTION_SOURCE} của {k}/{n} đơn vị"
        if n - k:
            parts = []
            if no_block:
                parts.append(f"{len(no_block)} đơn vị đã gửi biểu 06/QLKNTC nhưng không kèm số liệu này "
                             f"({_names(no_block)})")
            if no_book:
                parts.append(f"{len(no_book)} đơn vị chưa có biểu 06/QLKNTC được chấp nhận ({_names(no_book)})")
            note += f"; {n - k} đơn vị {_NOT_REPORTED}: " + "; ".join(parts)
    total["note"] = note
    index = [*out, total_row.row_id if total_row else TOTAL_ROW_ID]
    table = pd.DataFrame([*out.values(), total], index=pd.Index(index, name="row_id"))
    table = table[["label", "kind", *PROTECTION_FIELDS, "status", "note"]]
    for ms in PROTECTION_FIELDS:
        table[ms] = table[ms].astype("Int64")
    if not n:
        reason = "không có đơn vị báo cáo"
    elif single:
        reason = f"đơn vị {_NOT_REPORTED}"
    else:
        reason = f"các đơn vị {_NOT_REPORTED}"
    table.attrs["na_reason"] = reason
    return table


# --------------------------------------------------------------------- the Word document

FONT = "Times New Roman"
BODY_PT = 14
HEADER_PT = 13


def _set_fonts(rpr, name: str = FONT) -> None:
    """Every script slot of the rPr's rFonts to `name`, theme fonts removed (a theme
    attribute wins over the explicit name)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(attr)) is not None:
            del fonts.attrib[qn(attr)]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def _setup_styles(doc) -> None:
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is not None:
            rpr = rpr_default.find(qn("w:rPr"))
            if rpr is None:
                rpr = OxmlElement("w:rPr")
                rpr_default.append(rpr)
            _set_fonts(rpr)
    normal = doc.styles["Normal"]
    _set_fonts(normal.element.get_or_add_rPr())
    normal.font.size = Pt(BODY_PT)
    normal.font.color.rgb = RGBColor(0, 0, 0)
    pf = normal.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(6)
    pf.line_spacing = 1.15
    for level in (1, 2, 3):
        style = doc.styles[f"Heading {level}"]
        _set_fonts(style.element.get_or_add_rPr())
        style.font.size = Pt(BODY_PT)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(6)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.first_line_indent = Cm(1)
        style.paragraph_format.keep_with_next = True
        style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY


def _para(container, text: str = "", *, bold=False, italic=False, underline=False, size=None,
          align=None, indent: float | None = 1.0, space_after: float | None = None, style=None):
    p = container.add_paragraph(style=style)
    if text:
        run = p.add_run(text)
        run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
        if size:
            run.font.size = Pt(size)
    pf = p.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY if align is None else align
    if indent is not None:
        pf.first_line_indent = Cm(indent)
    if space_after is not None:
        pf.space_after = Pt(space_after)
    return p


def _placeholder_para(container, text: str, *, indent: float | None = 1.0, align=None, bold=False,
                      size=None):
    """A bracketed, highlighted, italic paragraph: visibly not part of the final text."""
    p = _para(container, indent=indent, align=align)
    run = p.add_run(text)
    run.italic = True
    run.bold = bold or None
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    if size:
        run.font.size = Pt(size)
    return p


_PPR_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                   "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
                   "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                   "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                   "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                   "w:pPrChange")


def _bottom_rule(paragraph, left_cm: float, right_cm: float) -> None:
    """A short horizontal line under a centred line (the rule under the issuer's name)."""
    p = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    p.append(bottom)
    ppr = paragraph._p.get_or_add_pPr()
    # Word rejects pPr children out of schema order: pBdr goes before spacing, ind, jc.
    ppr.insert_element_before(p, *_PPR_AFTER_PBDR)
    paragraph.paragraph_format.left_indent = Cm(left_cm)
    paragraph.paragraph_format.right_indent = Cm(right_cm)


def _no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                 "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def _two_columns(doc, left_mm: float, right_mm: float):
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _no_borders(table)
    for cell, width in zip(table.rows[0].cells, (left_mm, right_mm)):
        cell.width = Mm(width)
    for col, width in zip(table.columns, (left_mm, right_mm)):
        col.width = Mm(width)
    return table.rows[0].cells


def _cell_line(cell, text: str, *, first=False, bold=False, italic=False, underline=False,
               size=HEADER_PT, align=WD_ALIGN_PARAGRAPH.CENTER):
    p = cell.paragraphs[0] if first else cell.add_paragraph()
    run = p.add_run(text)
    run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
    run.font.size = Pt(size)
    pf = p.paragraph_format
    pf.alignment = align
    pf.space_after = Pt(0)
    pf.first_line_indent = Cm(0)
    pf.line_spacing = 1.0
    return p


def _page_number_header(section) -> None:
    """Page number centred at the top, from page 2 (Nghị định 30/2020)."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # A simple field: Word and LibreOffice compute the number when they lay the page out.
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), str(HEADER_PT * 2))
    rpr.append(size)
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(rpr)
    run.append(text)
    field.append(run)
    p._p.append(field)


def _subject_label(period) -> str:
    """"Quý I năm 2026", "6 tháng đầu năm 2026", "năm 2025": the period label as it runs
    on after "… tố cáo"; a label opening with a common word ("Năm", "Từ") is lowercased."""
    label = str(period.label)
    first = label.split(" ", 1)[0]
    return label[0].lower() + label[1:] if first in ("Năm", "Từ") else label


def _issuer_lines(issuer_name: str) -> list[str]:
    return [ln.strip().upper() for ln in str(issuer_name).splitlines() if ln.strip()]


def _write_heading_block(doc, issuer_name: str, place: str, period) -> None:
    left, right = _two_columns(doc, 62, 103)
    lines = _issuer_lines(issuer_name) or ["ỦY BAN NHÂN DÂN"]
    # A superior body's line (if given) is regular, the issuer's own name bold (NĐ 30/2020).
    for i, line in enumerate(lines):
        _cell_line(left, line, first=(i == 0), bold=(i == len(lines) - 1))
    _bottom_rule(_cell_line(left, ""), 1.8, 1.8)
    _cell_line(left, "Số: …/BC-UBND", size=BODY_PT)
    _cell_line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", first=True, bold=True)
    _cell_line(right, "Độc lập - Tự do - Hạnh phúc", bold=True, underline=True, size=BODY_PT)
    _cell_line(right, "")
    _cell_line(right, f"{place}, ngày … tháng … năm …", italic=True, size=BODY_PT)
    _para(doc, "", indent=0, space_after=6)
    _para(doc, "BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=0, space_after=0)
    _para(doc, f"Công tác tiếp công dân, giải quyết khiếu nại, tố cáo {_subject_label(period)}",
          bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=0, space_after=0)
    _para(doc, f"(Số liệu tính từ ngày {vn_date(period.start)} đến ngày {vn_date(period.end)})",
          italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=0, space_after=12)


ATTACHED_LINE = "Kèm theo báo cáo này: Biểu số " + ", ".join(FORM_CODES)


def _write_closing(doc) -> list[Placeholder]:
    _para(doc, ATTACHED_LINE + ".", italic=True)
    _para(doc, "", indent=0, space_after=0)
    left, right = _two_columns(doc, 80, 85)
    _cell_line(left, "Nơi nhận:", first=True, bold=True, italic=True, size=12, align=WD_ALIGN_PARAGRAPH.LEFT)
    held = []
    for text in ("- [Cơ quan nhận báo cáo];", "- [Cơ quan, đơn vị khác (nếu có)];", "- Lưu: VT, [đơn vị soạn thảo]."):
        p = _cell_line(left, "", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
        run = p.add_run(text)
        run.font.size = Pt(11)
        if "[" in text:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            held.append(Placeholder("Nơi nhận", text))
    for i, (text, bold) in enumerate((("[QUYỀN HẠN, CHỨC VỤ CỦA NGƯỜI KÝ]", True),
                                       ("[Chữ ký của người có thẩm quyền, dấu của cơ quan]", False),
                                       ("[Họ và tên]", True))):
        if i == 2:
            for _ in range(3):
                _cell_line(right, "")
        p = _cell_line(right, "", first=(i == 0), size=BODY_PT)
        run = p.add_run(text)
        run.bold = bold or None
        run.italic = (not bold) or None
        run.font.size = Pt(BODY_PT)
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        held.append(Placeholder("Chữ ký", text))
    return held


def _total_note(table: pd.DataFrame | None) -> str:
    """The total row's note (units that did not report), when the table has one."""
    if table is None or "note" not in table.columns or TOTAL_ROW_ID not in table.index:
        return ""
    note = table.at[TOTAL_ROW_ID, "note"]
    return "" if note is None or (pd.api.types.is_scalar(note) and pd.isna(note)) else str(note).strip()


def _deterministic_zip(data: bytes, when: dt.date) -> bytes:
    """The package with every entry stamped `when` (zip entries otherwise carry the
    time of writing, so two runs would differ)."""
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def _set_core_properties(doc, period, issuer_name: str) -> None:
    stamp = dt.datetime(period.end.year, period.end.month, period.end.day)
    cp = doc.core_properties
    cp.title = f"Báo cáo công tác tiếp công dân, giải quyết khiếu nại, tố cáo {_subject_label(period)}"
    cp.subject = "Mẫu số 02 - Thông tư số 06/2025/TT-TTCP"
    cp.author = " ".join(_issuer_lines(issuer_name))
    cp.last_modified_by = ""
    cp.keywords = f"tiếp công dân; khiếu nại; tố cáo; {period.key}"
    cp.comments = ""
    cp.category = "Báo cáo"
    cp.revision = 1
    cp.created = stamp
    cp.modified = stamp
    cp.last_printed = stamp


# --------------------------------------------------------------------- entry point

def build_mau02(path: str | Path, *, issuer_name: str, place: str, period,
                tables: Mapping[str, pd.DataFrame],
                previous: Mapping[str, pd.DataFrame] | None,
                last_year: Mapping[str, pd.DataFrame] | None,
                notes: Mapping[str, str] | None = None, comparison_note: str | None = None) -> Mau02Result:
    """Write the Mẫu số 02 narrative of `period` to `path` (.docx) and its figure record
    to ``<stem>.so-lieu.json``.

    `tables` maps form codes ("01/TCD" … "06/QLKNTC") to computed tables (index with the
    "total" row, MS-number columns), and :data:`PROTECTION_CODE` to the table of
    :func:`protection_table` (II.5; absent: its figures say there is no such data); `previous` / `last_year` are the same for the
    previous period and the same period of the previous year (None: not available; the
    tables of a period on the older forms are keyed by their old codes — "01/TCD",
    "01/XLD", "01/KQGQ" … — and compared where a column has an equivalent). `notes`
    gives the reason of empty cells: "<form>:<ms>" or "<form>" → reason
    (:func:`na_reasons`). A comparison given as None is left out of every figure (no
    such comparison for this report); `comparison_note`, printed under the title, says
    which comparisons the document makes and why one is missing.
    """
    path = Path(path)
    tables = dict(tables or {})
    unknown = sorted(set(tables) - set(FORM_CODES) - {PROTECTION_CODE})
    if unknown:
        raise ValueError(f"mau02: unknown form code(s) {unknown}; expected some of {FORM_CODES}")
    for code, table in tables.items():
        if TOTAL_ROW_ID not in table.index:
            raise ValueError(f"mau02: table {code} has no {TOTAL_ROW_ID!r} row")
        if not _is_tt06(code, table):
            # An old form's table under a 2025 code (01/TCD, 02/XLD exist in both sets)
            # would put figures under the wrong headings.
            raise ValueError(f"mau02: table {code} is not on the 2025 form: MS columns "
                             f"{sorted(_ms_columns(table))}, expected 1..{FORM_COLUMNS[code]}")
    prev = _Side("kỳ trước", previous)
    last = _Side("cùng kỳ năm trước", last_year)
    reasons = _Reasons(notes)
    if PROTECTION_CODE in tables and tables[PROTECTION_CODE].attrs.get("na_reason"):
        reasons.notes.setdefault(PROTECTION_CODE, tables[PROTECTION_CODE].attrs["na_reason"])

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    _setup_styles(doc)
    _page_number_header(section)
    _set_core_properties(doc, period, issuer_name)
    _write_heading_block(doc, issuer_name, place, period)

    if comparison_note:
        # Which periods the figures are compared with, and why one is missing (e.g. a
        # cumulative report has no previous period of its own kind): said once here
        # rather than on every line.
        _para(doc, comparison_note, italic=True)
    if prev.has_old_forms() or last.has_old_forms():
        _para(doc, "Ghi chú: số liệu của kỳ so sánh báo cáo theo các biểu trước Thông tư số "
                   "06/2025/TT-TTCP chỉ được so sánh với những chỉ tiêu có cùng nội dung; chỉ tiêu "
                   "không có nội dung tương đương được ghi rõ là chưa so sánh được.", italic=True)

    figures: list[Figure] = []
    placeholders: list[Placeholder] = []
    heading = ""
    group = ""
    block_forms: list[str] = []
    noted: set[str] = set()

    def flush_notes():
        # Units that did not report: the total leaves them out, so say so under the
        # figures that use it (once per table).
        for code in block_forms:
            note = _total_note(tables.get(code))
            if note and code not in noted:
                noted.add(code)
                what = "bảo vệ người tố cáo" if code == PROTECTION_CODE else f"Biểu {code}"
                _para(doc, f"(Số liệu {what}: {note}.)", italic=True)
        block_forms.clear()

    for item in _CONTENT:
        if isinstance(item, _Head):
            flush_notes()
            text = OUTLINE[item.index]
            heading = _heading_parts(text)[0]
            group = ""
            doc.add_paragraph(heading, style=f"Heading {_level(text)}")
        elif isinstance(item, _Fig):
            fig = _figure(item, heading, group, tables, prev, last, reasons)
            figures.append(fig)
            if item.form not in block_forms:
                block_forms.append(item.form)
            p = _para(doc, fig.text, indent=1.0)
            if item.bullet == "+":
                p.paragraph_format.left_indent = Cm(0.5)
        elif isinstance(item, _Text):
            _para(doc, item.text)
            if item.text.endswith(":"):
                group = item.text
        elif isinstance(item, _Hold):
            text = f"{PLACEHOLDER_PREFIX}{item.text}]"
            _placeholder_para(doc, text)
            placeholders.append(Placeholder(heading, text))
    flush_notes()
    placeholders.extend(_write_closing(doc))

    buffer = io.BytesIO()
    doc.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_deterministic_zip(buffer.getvalue(), period.end))

    record = {
        "mau": "Mẫu số 02",
        "circular": "Thông tư số 06/2025/TT-TTCP",
        "issuer": issuer_name,
        "period": {"key": period.key, "label": period.label, "start": period.start.isoformat(),
                   "end": period.end.isoformat()},
        "document": path.name,
        "comparison": {"previous": "given" if previous is not None else "none",
                       "same_period_last_year": "given" if last_year is not None else "none"},
        "figures": [_jsonable(asdict(f)) for f in figures],
        "placeholders": [asdict(p) for p in placeholders],
    }
    out_json = figures_path(path)
    out_json.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return Mau02Result(path=path, figures_path=out_json, figures=figures, placeholders=placeholders)


def _jsonable(d: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
