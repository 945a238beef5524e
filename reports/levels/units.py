"""The unit table (dim_unit) indexed for walking the hierarchy: :class:`Units`.

The table holds one province (a province deployment) or, under a national row (level
``quoc_gia``), several (a national deployment: warehouse.units.national_unit_frame).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from core.dates import as_date
from core.levels import NATIONAL_LEVEL


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
        national = u.loc[u["level"] == NATIONAL_LEVEL, "unit_key"]
        if len(national) > 1:
            raise ValueError(f"the unit table has {len(national)} national rows")
        self.national_key: str | None = str(national.iloc[0]) if len(national) else None
        # Whether the table holds more than one province's units (a national deployment):
        # then a province's report claims only its own territory's records.
        self.shared = self.national_key is not None or int((u["level"] == "tinh").sum()) > 1
        self._children: dict[str, list[str]] | None = None
        self._in_force: dict[tuple[dt.date, dt.date], pd.Series] = {}
        self._territory: dict[str, frozenset[str]] = {}
        self._lookups: dict[tuple, Any] = {}      # lookups computed once (window keys, provinces)

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
        """Which rows are in force at some time in [start, end] (computed once per window:
        a report set asks for every scope of the window; do not modify the result)."""
        key = (start, end)
        if key not in self._in_force:
            self._in_force[key] = pd.Series([vf is not None and vf <= end and (vt is None or vt >= start)
                                             for vf, vt in zip(self.df["valid_from"], self.df["valid_to"])],
                                            index=self.df.index, dtype=bool)
        return self._in_force[key]

    def window_keys(self, start: dt.date, end: dt.date) -> frozenset[str]:
        """The keys of the units in force at some time in [start, end], computed once per
        window (every scope's layout asks)."""
        key = ("keys", start, end)
        if key not in self._lookups:
            self._lookups[key] = frozenset(self.df.loc[self.in_force_mask(start, end), "unit_key"])
        return self._lookups[key]

    def subtree(self, key: str) -> list[str]:
        """`key` and every unit below it, whatever their dates (top down)."""
        if self._children is None:
            children: dict[str, list[str]] = {}
            for k, p in self.parent.items():
                if p is not None:
                    children.setdefault(p, []).append(k)
            self._children = children
        out, todo, seen = [], [key], set()
        while todo:
            k = todo.pop()
            if k in seen:
                continue
            seen.add(k)
            out.append(k)
            todo.extend(reversed(self._children.get(k, [])))
        return out

    def chain(self, key: str) -> list[str]:
        """`key` and its ancestors, nearest first."""
        out, k = [], key
        while isinstance(k, str) and k not in out:
            out.append(k)
            k = self.parent.get(k)
        return out

    def territory(self, key: str) -> frozenset[str]:
        """:meth:`subtree` of `key` as a set, computed once (a province's territory,
        asked for by each of its scopes)."""
        if key not in self._territory:
            self._territory[key] = frozenset(self.subtree(key))
        return self._territory[key]

    def provinces(self) -> pd.DataFrame:
        """The province rows, by code."""
        return self.df[self.df["level"] == "tinh"].sort_values("unit_code", kind="mergesort")

    def province_of(self, key: str) -> pd.Series | None:
        """The province row above (or at) unit `key`; None when it has none (the
        national row)."""
        for k in self.chain(key):
            if k in self.by_key.index and self.level(k) == "tinh":
                return self.row(k)
        return None

    def province(self, province_code: str | None) -> pd.Series:
        """The province row of `province_code` (the only one when None), looked up once
        per code (every scope's layout asks)."""
        key = ("province", province_code)
        if key not in self._lookups:
            self._lookups[key] = self._province(province_code)
        return self._lookups[key]

    def _province(self, province_code: str | None) -> pd.Series:
        prov = self.df[self.df["level"] == "tinh"]
        if province_code is not None:
            prov = prov[prov["unit_code"] == str(province_code)]
        elif len(prov) > 1:
            raise ValueError(f"the unit table has {len(prov)} provinces: name the province code")
        if prov.empty:
            raise ValueError(f"province {province_code!r} not in the unit table")
        return prov.iloc[0]
