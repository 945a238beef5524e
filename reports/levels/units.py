"""The unit table (dim_unit) indexed for walking the hierarchy: :class:`Units`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from core.dates import as_date


class Units:
    """dim_unit rows indexed for walking the hierarchy (dates as datetime.date)."""

    @classmethod
    def of(cls, units: "pd.DataFrame | Units") -> "Units":
        """`units` indexed, or as given when it already is (a report set indexes the unit
        table once for all its scopes)."""
        return units if isinstance(units, Units) else cls(units)

    def __init__(self, units_df: pd.DataFrame):
        u = units_df.copy()
        u["unit_key"] = u["unit_key"].astype(str)
        u["unit_code"] = u["unit_code"].astype(str)
        u["valid_from"] = [as_date(v) for v in u["valid_from"]]
        u["valid_to"] = [as_date(v) for v in u["valid_to"]]
        self.df = u
        self.by_key = u.set_index("unit_key", drop=False)
        self.parent = {k: (p if isinstance(p, str) else None) for k, p in zip(u["unit_key"], u["parent_key"])}

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key in self.by_key.index

    def row(self, key: str):
        return self.by_key.loc[key]

    def name(self, key: str) -> str:
        return str(self.by_key.at[key, "name"])

    def level(self, key: str) -> str:
        return str(self.by_key.at[key, "level"])

    def in_force(self, key: str, start: dt.date, end: dt.date) -> bool:
        vf, vt = self.by_key.at[key, "valid_from"], self.by_key.at[key, "valid_to"]
        return vf is not None and vf <= end and (vt is None or vt >= start)

    def in_force_mask(self, start: dt.date, end: dt.date) -> pd.Series:
        return pd.Series([vf is not None and vf <= end and (vt is None or vt >= start)
                          for vf, vt in zip(self.df["valid_from"], self.df["valid_to"])],
                         index=self.df.index, dtype=bool)

    def chain(self, key: str) -> list[str]:
        """`key` and its ancestors, nearest first."""
        out, k = [], key
        while isinstance(k, str) and k not in out:
            out.append(k)
            k = self.parent.get(k)
        return out

    def province(self, province_code: str | None) -> pd.Series:
        prov = self.df[self.df["level"] == "tinh"]
        if province_code is not None:
            prov = prov[prov["unit_code"] == str(province_code)]
        elif len(prov) > 1:
            raise ValueError(f"the unit table has {len(prov)} provinces: name the province code")
        if prov.empty:
            raise ValueError(f"province {province_code!r} not in the unit table")
        return prov.iloc[0]
