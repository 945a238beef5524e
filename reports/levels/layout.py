"""The layout of a scope (:class:`Layout`): its static rows, with the notes of units in
force for part of the window, and the row each unit's records go to — as recorded, or
through the crosswalk for the remapped view and for records carried over from units no
longer in force. The national report's rows are the provinces, and every unit of a
province's territory, whatever its dates, goes to the province's row (no crosswalk).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from core import memo
from core.dates import vn_date
from core.levels import LEVEL_ORDER
from core.periods import Period
from reports.formdef import ReportRow
from reports.levels.scopes import Scope
from reports.levels.units import Units
from reports.levels.vocabulary import DISTRICTS_ROW_ID, capitalise, join_notes, unit_row_label
from warehouse.units import crosswalk_frame


def _validity_notes(units: Units, key: str, period: Period) -> list[str]:
    """Say on the report why a unit's figures cover only part of the window (it was
    created or abolished inside it)."""
    vf, vt = units.by_key.at[key, "valid_from"], units.by_key.at[key, "valid_to"]
    notes = []
    if vf is not None and vf > period.start:
        notes.append(f"số liệu từ ngày {vn_date(vf)}")
    if vt is not None and vt < period.end:
        notes.append(f"số liệu đến ngày {vn_date(vt)}")
    return notes


def _crosswalk_maps(crosswalk: pd.DataFrame) -> tuple[dict[str, tuple[str, str]], dict[str, list[str]]]:
    """{old key: (default new key, relation)}, {old key: every new key}."""
    default: dict[str, tuple[str, str]] = {}
    targets: dict[str, list[str]] = {}
    for r in crosswalk.itertuples(index=False):
        targets.setdefault(str(r.old_unit_key), []).append(str(r.new_unit_key))
        if bool(r.is_default):
            if str(r.old_unit_key) in default:
                raise ValueError(f"crosswalk gives {r.old_unit_key} several default successors")
            default[str(r.old_unit_key)] = (str(r.new_unit_key), str(r.relation))
    return default, targets


class Layout:
    """The static rows of a scope and where each unit's records go."""

    def __init__(self, scope: Scope, period: Period, units: Units, crosswalk: pd.DataFrame | None):
        self.scope, self.period, self.units = scope, period, units
        if scope.unit_key not in units:
            raise ValueError(f"unit {scope.unit_key!r} of scope {scope.slug} not in the unit table")
        self.national = scope.national
        if self.national and scope.unit_key != units.national_key:
            raise ValueError(f"scope {scope.slug} is national, but {scope.unit_key!r} is not the national unit")
        # The national report's "province" is the country: the top of everything it shows.
        self.prov = units.row(scope.unit_key) if self.national else units.province(scope.province_code)
        self.prov_key = str(self.prov["unit_key"])
        self._crosswalk = crosswalk
        self._maps: tuple[dict, dict] | None = None
        self.window_keys = units.window_keys(period.start, period.end)
        self.row_of: dict[str, str] = {}
        self.rows: list[ReportRow] = []
        unit = units.row(scope.unit_key)
        own = ReportRow(scope.unit_key, unit_row_label(str(unit["name"]), scope.level, str(unit["unit_type"])),
                        scope.unit_code, "own")
        if scope.kind == "own":
            self.rows = [dataclasses.replace(own, note=capitalise(join_notes(*_validity_notes(units, scope.unit_key, period))))]
            self.row_of[scope.unit_key] = scope.unit_key
        elif scope.kind == "consolidated":
            self._consolidated(own)
        else:
            self._remapped(own)
        self.has_districts_row = any(r.row_id == DISTRICTS_ROW_ID for r in self.rows)

    # -- kinds
    def _consolidated(self, own: ReportRow) -> None:
        units, period, top = self.units, self.period, self.scope.unit_key
        # The national report: the provinces under the country (level tinh), in force in
        # the window, ordered by code like every unit row (they all start with the data).
        df = units.df[units.df["unit_key"].isin(self.window_keys) & (units.df["parent_key"] == top)]
        df = df.assign(_lv=df["level"].map(LEVEL_ORDER).fillna(9),
                       _vf=[v or dt.date.min for v in df["valid_from"]])
        # Earlier-valid units first: legacy districts, then the 2025 communes.
        df = df.sort_values(["_vf", "_lv", "unit_code"], kind="mergesort")
        for u in df.itertuples():
            notes = (["gồm cả cấp xã trực thuộc"] if u.level == "huyen" else []) + \
                _validity_notes(units, u.unit_key, period)
            self.rows.append(ReportRow(u.unit_key, str(u.name), str(u.unit_code), "unit", capitalise(join_notes(*notes))))
        if not self.national:       # the country records nothing itself: no own row
            own_notes = _validity_notes(units, top, period) if self.scope.level != "tinh" else []
            self.rows.append(dataclasses.replace(own, note=capitalise(join_notes(*own_notes))))
        children = {r.row_id for r in self.rows}
        subtree = units.subtree(top)
        # A province holds its territory's whole history: its units' records go to its row
        # whatever their dates (a petition pending at a legacy commune on 30/06/2025 and
        # carried into a later window too). Elsewhere only the units in force in the
        # window have a row here; the others are placed through the crosswalk (target).
        for key in subtree if self.national else (k for k in subtree if k in self.window_keys):
            if key == top:
                if not self.national:
                    self.row_of[key] = top
                continue
            chain = units.chain(key)
            child = chain[chain.index(top) - 1]
            if child in children:
                self.row_of[key] = child

    def _remapped(self, own: ReportRow) -> None:
        units, prov_key = self.units, self.prov_key
        df = units.df
        today = df[(df["level"] == "xa") & (df["parent_key"] == prov_key) & df["valid_to"].isna()]
        for u in today.sort_values("unit_code", kind="mergesort").itertuples():
            self.rows.append(ReportRow(u.unit_key, str(u.name), str(u.unit_code), "unit"))
            self.row_of[u.unit_key] = u.unit_key
        if any(self._is_district(k) for k in self.window_keys):      # the province's own districts
            self.rows.append(self.districts_row())
        self.rows.append(own)
        self.row_of[prov_key] = prov_key

    def districts_row(self) -> ReportRow:
        ends = {v for v in self.units.df.loc[self.units.df["level"] == "huyen", "valid_to"]}
        label = f"Cấp huyện (đến {vn_date(max(ends))})" if ends and None not in ends else "Cấp huyện"
        return ReportRow(DISTRICTS_ROW_ID, label, None, "unit")

    # -- placement
    @property
    def crosswalk(self) -> pd.DataFrame | None:
        """The crosswalk this scope places carried-over records through (None for the
        national report: every unit already has its province's row)."""
        if self.national:
            return None
        if self._crosswalk is None:
            self._crosswalk = crosswalk_frame(self.scope.province_code)
        return self._crosswalk

    @property
    def maps(self) -> tuple[dict[str, tuple[str, str]], dict[str, list[str]]]:
        if self._maps is None:
            cw = self.crosswalk
            # Made once per frame: every scope of a province reads the same one.
            self._maps = ({}, {}) if cw is None else memo.by_identity(cw, _crosswalk_maps)
        return self._maps

    def _is_district(self, key: str) -> bool:
        return self.units.level(key) == "huyen" and self.prov_key in self.units.chain(key)

    def target(self, key: str) -> tuple[str | None, str | None, str | None]:
        """(row_id, old unit key, relation) for the records of unit `key`: relation None
        when placed as recorded, ``whole``/``split`` through the crosswalk, ``district``
        on the districts' row; (None, None, None) when not in this scope."""
        if key in self.row_of:
            return self.row_of[key], None, None
        if key not in self.units or self.national:
            return None, None, None
        remapped = self.scope.kind == "remapped"
        carried = key not in self.window_keys     # only records carried over from before the window
        if not (remapped or carried):
            return None, None, None
        default, _ = self.maps
        if key in default:
            new, relation = default[key]
            row = self.row_of.get(new)
            if row is None and carried and new not in self.window_keys:
                row = self.target(new)[0]       # a successor itself superseded: follow on
            return (row, key, relation) if row else (None, None, None)
        if self.whole_province and self._is_district(key):
            return DISTRICTS_ROW_ID, key, "district"
        return None, None, None

    @property
    def whole_province(self) -> bool:
        """The city's consolidated and remapped reports, and the national report: every
        record of the territory has a row."""
        return self.national or (self.scope.level == "tinh" and self.scope.kind != "own")

    @property
    def claims_unknown(self) -> bool:
        """Whether records of no known unit (or none at all) belong to this scope, so
        that they are an error here: the province's whole reports in a province
        deployment, the national report in a national one (the province's reports there
        cannot tell such a record is theirs)."""
        return self.national or (self.whole_province and not self.units.shared)

    def may_reach(self, key: str) -> bool:
        """Whether records of `key` can belong to this scope at all: in a national table,
        a province's scopes take nothing from another province's territory (nor does
        the crosswalk lead there), so those units need no closer look."""
        if self.national or not self.units.shared:
            return True
        return key in self.units.territory(self.prov_key)

    def in_subtree(self, key: str) -> bool:
        """Whether records of `key` belong to this scope's unit (so failing to place
        them is an error, not "another unit's report")."""
        if key not in self.units:
            return self.claims_unknown
        if self.whole_province:
            # In a national table the province's reports claim only its own territory.
            return not self.units.shared or self.national or self.prov_key in self.units.chain(key)
        chain = self.units.chain(key)
        return self.scope.unit_key in (chain if self.scope.kind != "own" else chain[:1])
