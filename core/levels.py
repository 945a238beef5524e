"""The administrative levels a unit reports at, written once.

``tinh`` the province (Hà Nội: the city), ``huyen`` a district (until 30/06/2025, the
end of the three-tier local government), ``xa`` a commune (phường, xã). Every list of
levels, every ordering "city first" and every level name comes from here.
"""
from __future__ import annotations

from typing import Literal, get_args

Level = Literal["tinh", "huyen", "xa"]
LEVELS: tuple[str, ...] = get_args(Level)          # top down
LEVEL_ORDER: dict[str, int] = {level: i for i, level in enumerate(LEVELS)}
LEVEL_NAMES: dict[str, str] = {"tinh": "cấp tỉnh", "huyen": "cấp huyện", "xa": "cấp xã"}
