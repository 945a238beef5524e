"""The administrative levels a unit reports at, written once.

``tinh`` the province (Hà Nội: the city), ``huyen`` a district (until 30/06/2025, the
end of the three-tier local government), ``xa`` a commune (phường, xã): the levels that
*record* data (:data:`LEVELS`). Above them, ``quoc_gia`` the whole country
(:data:`NATIONAL_LEVEL`), a level that records nothing itself: a national deployment
compiles the provinces' figures into a national report (:data:`REPORT_LEVELS`, the
levels a report can be for). Every list of levels, every ordering "country first, then
city" and every level name comes from here.
"""
from __future__ import annotations

from typing import Literal, get_args

Level = Literal["tinh", "huyen", "xa"]
LEVELS: tuple[str, ...] = get_args(Level)          # the recording levels, top down
ReportLevel = Literal["quoc_gia", "tinh", "huyen", "xa"]
REPORT_LEVELS: tuple[str, ...] = get_args(ReportLevel)     # the levels of a report, top down
NATIONAL_LEVEL = REPORT_LEVELS[0]
# The national level sits above the recording levels; everything else is the same list.
assert REPORT_LEVELS == (NATIONAL_LEVEL, *LEVELS)
LEVEL_ORDER: dict[str, int] = {level: i for i, level in enumerate(REPORT_LEVELS)}
LEVEL_NAMES: dict[str, str] = {NATIONAL_LEVEL: "toàn quốc", "tinh": "cấp tỉnh", "huyen": "cấp huyện",
                               "xa": "cấp xã"}
