"""The words of the reports at every level: the scope kinds and levels, the id of the
districts' row, the notes and view texts the reports print, the issuer of the national
report, and the labels of a unit's own row.
"""
from __future__ import annotations

from core.levels import NATIONAL_LEVEL

KINDS = ("own", "consolidated", "remapped")
# The national figures are compiled by the Government Inspectorate (the provinces report
# to it): the issuing body printed top left of the national report.
NATIONAL_ISSUER = "Thanh tra Chính phủ"

DISTRICTS_ROW_ID = "cap-huyen"
ESTIMATE_NOTE = "Ước tính"
CARRIED_NOTE = "Gồm số liệu chuyển sang của đơn vị trước sắp xếp"
REMAPPED_VIEW_TEXT = "Quy đổi theo đơn vị hành chính hiện nay (số liệu ước tính ở các dòng có ghi chú)"
AS_RECORDED_VIEW_TEXT = "Theo đơn vị hành chính tại thời điểm ghi nhận số liệu"
VIEW_META_KEY = "Cách thể hiện số liệu"
ESTIMATE_META_KEY = "Các dòng số liệu ước tính"


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def join_notes(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def own_row_label(province_name: str, unit_type: str | None = None) -> str:
    """The city's own row: "UBND Thành phố Hà Nội (cấp thành phố)"."""
    level = "thành phố" if (unit_type or province_name).lower().startswith("thành phố") else "tỉnh"
    return f"UBND {province_name} (cấp {level})"


def unit_row_label(name: str, level: str, unit_type: str | None = None) -> str:
    """The row of a unit's own records: the city's as :func:`own_row_label`, a
    district's "UBND Quận Ba Đình (cấp huyện)", a commune's "UBND Phường Phúc Xá"; the
    country's is its name (the national level records nothing: no report has that row)."""
    if level == NATIONAL_LEVEL:
        return name
    if level == "tinh":
        return own_row_label(name, unit_type)
    if level == "huyen":
        return f"UBND {name} (cấp huyện)"
    return f"UBND {name}"
