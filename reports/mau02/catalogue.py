"""What the narrative knows of the forms it reads: the 2025 form codes and their
columns, the II.5 protection block of the 06/QLKNTC workbooks, the columns of the older
forms that count the same thing (:data:`OLD_EQUIVALENTS`), the reasons of the cells the
sources cannot fill (:data:`KNOWN_GAPS`), and the fixed texts of the document.
"""
from __future__ import annotations

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
NOT_REPORTED = "chưa báo cáo số liệu bảo vệ người tố cáo"

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
    PROTECTION_CODE: "đơn vị " + NOT_REPORTED,
}
