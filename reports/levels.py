"""Report scopes at every level, their rows, and the two views across the 2025 reform.

A **scope** (:class:`Scope`) is one report to produce for a window:

- ``own`` report of a unit (commune, district, city): one row for the records the unit
  itself recorded, and the total row;
- ``consolidated`` report of a district: its communes as rows, the district's own row,
  the total; of the city: the districts (each including its communes) in force in the
  window and/or the 2025 communes, the city's own row, the total. Units are shown *as
  recorded*: a record counts under the unit it was recorded by (``unit_key``, the unit
  version valid on its date) and that unit's parent chain. A unit not in force at any
  time in the window is not a row (no district row after 30/06/2025); a unit in force
  for part of the window says so in its note;
- ``remapped`` city view (for multi-year ranges): today's communes as rows. Records of
  a legacy commune go to its successor through the crosswalk (dim_unit_crosswalk,
  warehouse.units.crosswalk_frame): exactly where the old commune went whole into one
  new commune, as an *estimate* where it was split — all its records go to the
  package's default successor, and the rows concerned are noted "Ước tính". The
  districts' own records go on one row "Cấp huyện (đến 30/06/2025)"; then the city's
  own row and the total.

Counting is per recording unit. The forms are additive: a consolidated row is the sum
of what its units report, so a distinct count (cases, sittings) counts a key once per
unit that recorded it (:func:`count_per_unit`), never once across units that happen to
share a row. Hence a district's row in the city report equals the total of the
district's consolidated report, and the remapped city view has the same total row as
the as-recorded one for any window (each unit's records move as a block).

Records dated before the window (a form's population may carry them over, see
``FormDef.select``) are placed like the others (``preselected=True``). When such a
record's unit is no longer in force in the window (a petition pending at a legacy
commune on 30/06/2025 and reported on after the reform), it goes to the unit's
successor (default successor where split, noted "Ước tính"), and a legacy district's
goes to the row "Cấp huyện (đến 30/06/2025)" of the city report; the rows say so.

Which rows did not report (:func:`row_status_for`) comes from dq_completeness for any
scope: a row's reporting units are the units whose records it shows.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from core import settings
from core.dates import vn_date
from core.levels import LEVEL_ORDER, LEVELS
from core.normalise import fold
from core.periods import Period
from reports.formdef import (
    TOTAL_ROW_ID,
    FormDef,
    ReportRow,
    RowStatus,
    SourceInput,
    check_contributions,
    compute,
    contributions,
    form_definition,
    source_contributions,
)
from reports.lineage import write_lineage
from reports.render import write_xlsx
from transforms.completeness import unit_reporting
from warehouse.units import crosswalk_frame

log = logging.getLogger(__name__)

KINDS = ("own", "consolidated", "remapped")

DISTRICTS_ROW_ID = "cap-huyen"
ESTIMATE_NOTE = "Ước tính"
CARRIED_NOTE = "Gồm số liệu chuyển sang của đơn vị trước sắp xếp"
REMAPPED_VIEW_TEXT = "Quy đổi theo đơn vị hành chính hiện nay (số liệu ước tính ở các dòng có ghi chú)"
AS_RECORDED_VIEW_TEXT = "Theo đơn vị hành chính tại thời điểm ghi nhận số liệu"
VIEW_META_KEY = "Cách thể hiện số liệu"
ESTIMATE_META_KEY = "Các dòng số liệu ước tính"
_MAX_NAMES = 3


class UnplacedRecordsError(ValueError):
    """Records in the window whose unit is not under the province (or not a unit in
    force in the window): they would silently vanish from the report."""


# ------------------------------------------------------------------ small helpers

def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, errors="coerce").dt.date


def _opt_date(v: Any) -> dt.date | None:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return pd.Timestamp(v).date()


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _slug_text(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def _names(keys: list[str], units: "_Units") -> str:
    """Unit names for a note: "Phường Cống Vị (Quận Ba Đình), … và 2 đơn vị khác"."""
    shown = []
    for k in sorted(keys)[:_MAX_NAMES]:
        name = units.name(k)
        parent = units.parent.get(k)
        if isinstance(parent, str) and units.level(parent) == "huyen":
            name = f"{name} ({units.name(parent)})"
        shown.append(name)
    more = len(keys) - len(shown)
    return ", ".join(shown) + (f" và {more} đơn vị khác" if more > 0 else "")


def _old_units(keys: list[str], units: "_Units") -> str:
    return ("đơn vị cũ " if len(keys) == 1 else "các đơn vị cũ ") + _names(keys, units)


def own_row_label(province_name: str, unit_type: str | None = None) -> str:
    """The city's own row: "UBND Thành phố Hà Nội (cấp thành phố)"."""
    level = "thành phố" if (unit_type or province_name).lower().startswith("thành phố") else "tỉnh"
    return f"UBND {province_name} (cấp {level})"


def unit_row_label(name: str, level: str, unit_type: str | None = None) -> str:
    """The row of a unit's own records: the city's as :func:`own_row_label`, a
    district's "UBND Quận Ba Đình (cấp huyện)", a commune's "UBND Phường Phúc Xá"."""
    if level == "tinh":
        return own_row_label(name, unit_type)
    if level == "huyen":
        return f"UBND {name} (cấp huyện)"
    return f"UBND {name}"


# ------------------------------------------------------------------ units

class _Units:
    """dim_unit rows indexed for walking the hierarchy (dates as datetime.date)."""

    def __init__(self, units_df: pd.DataFrame):
        u = units_df.copy()
        u["unit_key"] = u["unit_key"].astype(str)
        u["unit_code"] = u["unit_code"].astype(str)
        u["valid_from"] = [_opt_date(v) for v in u["valid_from"]]
        u["valid_to"] = [_opt_date(v) for v in u["valid_to"]]
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
            prov = prov[prov["unit_code"] == settings.get().province.code]
        if prov.empty:
            raise ValueError(f"province {province_code!r} not in the unit table")
        return prov.iloc[0]


# ------------------------------------------------------------------ scopes

@dataclass(frozen=True)
class Scope:
    """One report to produce: a unit, what its rows are (`kind`), and a file-name slug.

    ``kind``: own | consolidated | remapped; ``level``: tinh | huyen | xa (the unit's);
    ``slug``: stable and unique among the scopes of any window, ASCII
    (``<scheme>-<code>-<name>-<kind>``: legacy and 2025 units may share a code and even
    a name).
    """
    kind: str
    level: str
    unit_key: str
    unit_code: str
    unit_name: str
    slug: str
    province_code: str
    unit_type: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"scope kind must be one of {KINDS}, not {self.kind!r}")
        if self.level not in LEVELS:
            raise ValueError(f"scope level must be one of {LEVELS}, not {self.level!r}")
        if self.kind == "remapped" and self.level != "tinh":
            raise ValueError("only the city has a remapped view")
        if self.kind == "consolidated" and self.level == "xa":
            raise ValueError("a commune has no subordinate units to consolidate")

    @property
    def issuer(self) -> str:
        """The body issuing the report, as printed top left: "UBND Quận Ba Đình"."""
        return f"UBND {self.unit_name}"

    @property
    def view(self) -> str:
        """``remapped`` (today's units) or ``as_recorded``."""
        return "remapped" if self.kind == "remapped" else "as_recorded"


def _scope(unit: pd.Series, kind: str, province_code: str) -> Scope:
    scheme = str(unit.get("scheme") or str(unit["unit_key"]).split(":", 1)[0])
    slug = f"{_slug_text(scheme)}-{unit['unit_code']}-{_slug_text(str(unit['name']))}-{kind}"
    return Scope(kind, str(unit["level"]), str(unit["unit_key"]), str(unit["unit_code"]), str(unit["name"]),
                 slug, str(province_code), str(unit.get("unit_type") or ""))


def scope_for(units_df: pd.DataFrame, unit_key: str, kind: str, province_code: str | None = None) -> Scope:
    """The scope of `kind` for the unit `unit_key`."""
    units = _Units(units_df)
    if unit_key not in units:
        raise KeyError(f"unit {unit_key!r} not in the unit table")
    prov = units.province(province_code)
    if unit_key != prov["unit_key"] and prov["unit_key"] not in units.chain(unit_key):
        raise ValueError(f"unit {unit_key!r} is not under province {prov['unit_code']}")
    return _scope(units.row(unit_key), kind, str(prov["unit_code"]))


def report_scopes(period: Period, units_df: pd.DataFrame, province_code: str | None = None, *,
                  include_remapped: bool = False) -> list[Scope]:
    """Every report to produce for `period`: the city's own and consolidated reports
    (and its remapped view with `include_remapped`), each district's own and
    consolidated report, each commune's own report — for every unit in force at some
    time in the window. Ordered city, districts (by code), communes (by validity start,
    then code)."""
    units = _Units(units_df)
    prov = units.province(province_code)
    code, prov_key = str(prov["unit_code"]), str(prov["unit_key"])
    kinds = ("own", "consolidated") + (("remapped",) if include_remapped else ())
    out = [_scope(prov, k, code) for k in kinds]
    df = units.df[units.in_force_mask(period.start, period.end)]
    df = df[[prov_key in units.chain(k)[1:] for k in df["unit_key"]]] if len(df) else df
    df = df.assign(_lv=df["level"].map(LEVEL_ORDER).fillna(9),
                   _vf=[v or dt.date.min for v in df["valid_from"]])
    for u in df[df["level"] == "huyen"].sort_values(["unit_code", "_vf"], kind="mergesort").itertuples():
        row = units.row(u.unit_key)
        out += [_scope(row, "own", code), _scope(row, "consolidated", code)]
    for u in df[df["level"] == "xa"].sort_values(["_vf", "unit_code"], kind="mergesort").itertuples():
        out.append(_scope(units.row(u.unit_key), "own", code))
    slugs = [s.slug for s in out]
    if len(set(slugs)) != len(slugs):       # cannot happen with unique unit keys; files would clash
        raise ValueError("report scopes with the same slug")
    return out


# ------------------------------------------------------------------ layout of a scope

def _validity_notes(units: _Units, key: str, period: Period) -> list[str]:
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


class _Layout:
    """The static rows of a scope and where each unit's records go."""

    def __init__(self, scope: Scope, period: Period, units: _Units, crosswalk: pd.DataFrame | None):
        self.scope, self.period, self.units = scope, period, units
        if scope.unit_key not in units:
            raise ValueError(f"unit {scope.unit_key!r} of scope {scope.slug} not in the unit table")
        self.prov = units.province(scope.province_code)
        self.prov_key = str(self.prov["unit_key"])
        self._crosswalk = crosswalk
        self._maps: tuple[dict, dict] | None = None
        in_force = units.in_force_mask(period.start, period.end)
        self.window_keys = set(units.df.loc[in_force, "unit_key"])
        self.row_of: dict[str, str] = {}
        self.rows: list[ReportRow] = []
        unit = units.row(scope.unit_key)
        own = ReportRow(scope.unit_key, unit_row_label(str(unit["name"]), scope.level, str(unit["unit_type"])),
                        scope.unit_code, "own")
        if scope.kind == "own":
            self.rows = [dataclasses.replace(own, note=_cap(_join(*_validity_notes(units, scope.unit_key, period))))]
            self.row_of[scope.unit_key] = scope.unit_key
        elif scope.kind == "consolidated":
            self._consolidated(own)
        else:
            self._remapped(own)
        self.has_districts_row = any(r.row_id == DISTRICTS_ROW_ID for r in self.rows)

    # -- kinds
    def _consolidated(self, own: ReportRow) -> None:
        units, period, top = self.units, self.period, self.scope.unit_key
        df = units.df[units.df["unit_key"].isin(self.window_keys) & (units.df["parent_key"] == top)]
        df = df.assign(_lv=df["level"].map(LEVEL_ORDER).fillna(9),
                       _vf=[v or dt.date.min for v in df["valid_from"]])
        # Earlier-valid units first: legacy districts, then the 2025 communes.
        df = df.sort_values(["_vf", "_lv", "unit_code"], kind="mergesort")
        for u in df.itertuples():
            notes = (["gồm cả cấp xã trực thuộc"] if u.level == "huyen" else []) + \
                _validity_notes(units, u.unit_key, period)
            self.rows.append(ReportRow(u.unit_key, str(u.name), str(u.unit_code), "unit", _cap(_join(*notes))))
        own_notes = _validity_notes(units, top, period) if self.scope.level != "tinh" else []
        self.rows.append(dataclasses.replace(own, note=_cap(_join(*own_notes))))
        children = {r.row_id for r in self.rows}
        for key in self.window_keys:
            if key == top:
                self.row_of[key] = top
                continue
            chain = units.chain(key)
            if top in chain:
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
        if any(units.level(k) == "huyen" for k in self.window_keys):
            self.rows.append(self.districts_row())
        self.rows.append(own)
        self.row_of[prov_key] = prov_key

    def districts_row(self) -> ReportRow:
        ends = {v for v in self.units.df.loc[self.units.df["level"] == "huyen", "valid_to"]}
        label = f"Cấp huyện (đến {vn_date(max(ends))})" if ends and None not in ends else "Cấp huyện"
        return ReportRow(DISTRICTS_ROW_ID, label, None, "unit")

    # -- placement
    @property
    def maps(self) -> tuple[dict[str, tuple[str, str]], dict[str, list[str]]]:
        if self._maps is None:
            cw = self._crosswalk
            if cw is None:
                cw = crosswalk_frame(self.scope.province_code)
            self._maps = _crosswalk_maps(cw)
        return self._maps

    def _is_district(self, key: str) -> bool:
        return self.units.level(key) == "huyen" and self.prov_key in self.units.chain(key)

    def target(self, key: str) -> tuple[str | None, str | None, str | None]:
        """(row_id, old unit key, relation) for the records of unit `key`: relation None
        when placed as recorded, ``whole``/``split`` through the crosswalk, ``district``
        on the districts' row; (None, None, None) when not in this scope."""
        if key in self.row_of:
            return self.row_of[key], None, None
        if key not in self.units:
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
        """The city's consolidated and remapped reports: every record has a row."""
        return self.scope.level == "tinh" and self.scope.kind != "own"

    def in_subtree(self, key: str) -> bool:
        """Whether records of `key` belong to this scope's unit (so failing to place
        them is an error, not "another unit's report")."""
        if self.whole_province:
            return True
        if key not in self.units:
            return False
        chain = self.units.chain(key)
        return self.scope.unit_key in (chain if self.scope.kind != "own" else chain[:1])


# ------------------------------------------------------------------ rows

def build_rows(scope: Scope, period: Period, records: pd.DataFrame, units_df: pd.DataFrame, *,
               date_column: str = "received_date", strict: bool = True, preselected: bool = False,
               crosswalk: pd.DataFrame | None = None) -> tuple[list[ReportRow], pd.DataFrame]:
    """Rows of `scope`'s report for `period`, and its records with their ``row_id``.

    `records` are the form's source records: by default those dated (`date_column`,
    inclusive bounds) in the window are taken; with `preselected`, the caller has
    already selected the form's population for the window (``FormDef.select``), which
    may include records dated before it, and no date filter is applied. Records of
    units outside the scope are left out (they belong to other reports).

    Returns ``(rows, records)``: `rows` end with the total row; `records` get
    ``row_id`` and ``estimate`` (placed through a split unit's default successor)
    columns, and ``attrs``: ``unplaced`` (records dropped), ``estimate_rows`` (row ids
    whose figures are estimates) and ``view`` (as_recorded | remapped).

    A record that belongs to the scope but cannot be placed — unknown unit or outside
    the province (city scopes), unit not in force on the record's date, no row for its
    unit — raises UnplacedRecordsError when `strict`, else is dropped with a warning.
    `crosswalk` (dim_unit_crosswalk rows) defaults to
    ``warehouse.units.crosswalk_frame(scope.province_code)``; it is read only for the
    remapped view and for records carried over from units no longer in force.
    """
    units = _Units(units_df)
    layout = _Layout(scope, period, units, crosswalk)
    df = records
    day = _dates(df[date_column]) if date_column in df.columns else pd.Series(pd.NaT, index=df.index)
    if preselected:
        recs = df.copy()
    else:
        in_window = day.notna() & (day >= period.start) & (day <= period.end)
        recs = df[in_window.to_numpy()].copy()
        day = day[in_window.to_numpy()]
    if "unit_key" in recs.columns:
        keys = recs["unit_key"].astype("string").astype(object).where(recs["unit_key"].notna(), None)
    else:
        keys = pd.Series(None, index=recs.index, dtype=object)
    # Everything below is looked up once per distinct unit, then mapped (many records,
    # few units; the pipeline places the same records for hundreds of scopes).
    distinct = [k for k in pd.unique(keys.dropna())]
    targets = {k: layout.target(k) for k in distinct}
    row_id = keys.map({k: t[0] for k, t in targets.items()})
    old = keys.map({k: t[1] for k, t in targets.items()})
    relation = keys.map({k: t[2] for k, t in targets.items()})
    known = keys.map({k: k in units for k in distinct}).fillna(False).astype(bool)
    # The unit must be in force on the record's own date (unit_key is meant to be the
    # version valid then); otherwise a record would be counted under a district that no
    # longer existed on that day. A record without a date (preselected) is not checked.
    ts = lambda s: pd.to_datetime(s, errors="coerce")
    known_keys = [k for k in distinct if k in units]
    vf = ts(keys.map({k: units.by_key.at[k, "valid_from"] for k in known_keys}))
    vt = ts(keys.map({k: units.by_key.at[k, "valid_to"] for k in known_keys}))
    rday = ts(day)
    on_date = rday.isna() | (vf.notna() & (vf <= rday) & (vt.isna() | (vt >= rday)))
    placed = row_id.notna() & known & on_date.fillna(False).astype(bool)
    # Records that belong to the scope: all of the province's for the city's
    # consolidated and remapped reports (none may vanish); otherwise the scope unit's
    # own or subtree's, or those reaching it through a successor.
    mine = keys.map({k: layout.in_subtree(k) for k in distinct}).fillna(False).astype(bool) | row_id.notna()
    if layout.whole_province:
        mine = pd.Series(True, index=recs.index)
    bad = mine.astype(bool) & ~placed
    if bad.any():
        counts = keys[bad].astype(str).value_counts().head(10).to_dict()
        where = f"province {scope.province_code}" if layout.whole_province else f"scope {scope.slug}"
        msg = (f"{int(bad.sum())} record(s) in {period.key} cannot be placed in the report of {where}: "
               f"by unit_key {counts}")
        if strict:
            raise UnplacedRecordsError(msg)
        log.warning("%s; dropped", msg)
    keep = placed.to_numpy()
    out = recs[keep].copy()
    out["row_id"] = row_id[keep].astype(str).to_numpy()
    out["estimate"] = (relation[keep] == "split").to_numpy()
    rows = _dynamic_rows(layout, out, old[keep], relation[keep], keys)
    estimate_rows = [r.row_id for r in rows if ESTIMATE_NOTE in r.note]
    out.attrs.update(unplaced=int(bad.sum()), estimate_rows=estimate_rows, view=scope.view)
    return rows, out


def _dynamic_rows(layout: _Layout, placed_recs: pd.DataFrame, old: pd.Series, relation: pd.Series,
                  all_keys: pd.Series) -> list[ReportRow]:
    """The scope's rows with the notes that depend on the records: carried over from
    units no longer in force, estimates (split units), and the districts' row of a city
    report when carried-over district records need it; the total row last."""
    units, scope = layout.units, layout.scope
    remapped = scope.kind == "remapped"
    rows = list(layout.rows)
    notes: dict[str, list[str]] = {r.row_id: [] for r in rows}
    via = pd.DataFrame({"row": placed_recs["row_id"].to_numpy(), "old": old.to_numpy(),
                        "rel": relation.to_numpy()})
    via = via[via["old"].notna()]
    if (via["rel"] == "district").any() and not layout.has_districts_row:
        own_at = next(i for i, r in enumerate(rows) if r.kind == "own")
        rows.insert(own_at, layout.districts_row())
        notes[DISTRICTS_ROW_ID] = []
    for rid, grp in via.groupby("row", sort=True):
        carried = sorted({k for k in grp["old"] if k not in layout.window_keys})
        split = sorted(set(grp.loc[grp["rel"] == "split", "old"]))
        if carried:
            notes[rid].append(f"{CARRIED_NOTE}: {_names(carried, units)}")
        if split:
            notes[rid].append(f"{ESTIMATE_NOTE}: gồm toàn bộ số liệu của {_old_units(split, units)}, "
                              "nay được chia cho nhiều đơn vị")
    # A split unit's other successors get none of its records (they all go to the
    # default one): their figures are short. This also holds for a successor's own
    # report, where those records went to another report.
    mapped_keys = [k for k in sorted(set(all_keys.dropna()))
                   if k in units and k not in layout.row_of and (remapped or k not in layout.window_keys)]
    if mapped_keys:
        default, targets = layout.maps
        short: dict[str, set[str]] = {}
        for k in mapped_keys:
            if default.get(k, ("", ""))[1] != "split":
                continue
            default_row = layout.target(k)[0]
            for new in targets.get(k, []):
                rid = layout.row_of.get(new)
                if rid and rid != default_row:
                    short.setdefault(rid, set()).add(k)
        for rid, ks in sorted(short.items()):
            notes[rid].append(f"{ESTIMATE_NOTE}: chưa gồm số liệu của phần {_old_units(sorted(ks), units)} "
                              "nay thuộc đơn vị này")
    total_code = scope.province_code if scope.level == "tinh" else scope.unit_code
    out = [dataclasses.replace(r, note=_cap(_join(r.note, *notes[r.row_id]))) if notes.get(r.row_id) else r
           for r in rows]
    return out + [ReportRow(TOTAL_ROW_ID, "Tổng cộng", total_code, "total")]


# ------------------------------------------------------------------ row status

def row_status_for(scope: Scope, rows: list[ReportRow], completeness_frame: pd.DataFrame,
                   units_df: pd.DataFrame, period: Period, *, crosswalk: pd.DataFrame | None = None,
                   records: pd.DataFrame | None = None) -> dict[str, RowStatus]:
    """Which rows of `scope`'s report did not report, from dq_completeness rows of
    `period` (transforms.completeness).

    A row's reporting units are the units in force in the window whose records the row
    shows (a commune row: the commune; a district row of the city report: the district
    and its communes; the city's own row: the city; a remapped row: the 2025 commune
    and every legacy commune whose records go to it; the districts' row: the
    districts). A unit has reported when one of its expected sources has anything
    accepted (status not chua_bao_cao / bi_tu_choi). A row is not reported when none
    of its units reported — unless it shows records carried over from units no longer
    in force (those were delivered earlier), or `records` (the placed records) give it
    some. Rows with no reporting unit in the frame get no status (nothing to say).
    """
    per_unit = unit_reporting(completeness_frame, period)
    if per_unit.empty:
        raise ValueError(f"no completeness rows for {period.key}: compute transforms.completeness first")
    layout = _Layout(scope, period, _Units(units_df), crosswalk)
    data_ids = [r.row_id for r in rows if r.kind != "total"]
    members: dict[str, list[str]] = {rid: [] for rid in data_ids}
    for key in per_unit.index:
        if key not in layout.units or key not in layout.window_keys:
            continue
        rid = layout.target(key)[0]
        if rid in members:
            members[rid].append(key)
    with_records = set(records["row_id"].astype(str)) if records is not None and len(records) else set()
    carried = {r.row_id for r in rows if CARRIED_NOTE in (r.note or "")}
    out: dict[str, RowStatus] = {}
    for rid in data_ids:
        keys = members[rid]
        if not keys:
            continue
        ok = per_unit.loc[keys, "reported"].astype(bool)
        partial = int(per_unit.loc[keys, "partial"].astype(bool).sum())
        reported = bool(ok.any()) or rid in with_records or rid in carried
        note = f"{partial}/{len(keys)} đơn vị gửi thiếu sổ của một phần kỳ" if partial else ""
        out[rid] = RowStatus(reported, len(keys), int((~ok).sum()), note)
    return out


# ------------------------------------------------------------------ counting per unit

def _distinct_columns(form: FormDef) -> list[str]:
    """Columns whose values a number column counts distinctly (case and sitting keys)."""
    cols: list[str] = []
    for c in form.columns:
        measure = str(c.compute.get("measure") or "")
        if measure.startswith("count_cases") or (measure == "sum" and c.compute.get("per_case")):
            cols.append(str(form.cases.get("case_column", "case_key")))
        elif measure.startswith("count_distinct") and c.compute.get("column"):
            cols.append(str(c.compute["column"]))
    return sorted(set(cols))


def count_per_unit(form: FormDef, records: pd.DataFrame) -> pd.DataFrame:
    """`records` (with ``row_id``) such that distinct counts are per recording unit:
    a key (case, sitting) recorded by several units that share a row is made distinct
    per unit by prefixing it with the unit_key ("legacy:00007|K1"). Keys recorded by
    one unit of their row are left as they are. The forms are additive: a row of a
    consolidated report is the sum of what its units report."""
    cols = [c for c in _distinct_columns(form) if c in records.columns]
    if not cols or records.empty or "unit_key" not in records.columns:
        return records
    out = records.copy()
    unit = out["unit_key"].astype(str).to_numpy()
    row = out["row_id"].astype(str).to_numpy()
    for c in cols:
        values = out[c]
        present = values.notna().to_numpy()
        if not present.any():
            continue
        text = values.astype(str).to_numpy()
        frame = pd.DataFrame({"row": row[present], "v": text[present], "u": unit[present]})
        clash = (frame.groupby(["row", "v"])["u"].transform("nunique") > 1).to_numpy()
        if clash.any():
            pos = present.nonzero()[0][clash]
            new = values.astype(object).to_numpy(copy=True)
            new[pos] = [f"{u}|{v}" for u, v in zip(unit[pos], text[pos])]
            out[c] = new
    return out


# ------------------------------------------------------------------ second inputs

def _month_span(a: dt.date, b: dt.date) -> list[tuple[int, int]]:
    out, (y, m) = [], (a.year, a.month)
    while (y, m) <= (b.year, b.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def source_inputs(form: FormDef, scope: Scope, period: Period, rows: list[ReportRow],
                  frames: Mapping[str, pd.DataFrame] | None, units_df: pd.DataFrame, *,
                  crosswalk: pd.DataFrame | None = None,
                  row_status: Mapping[str, RowStatus] | None = None) -> dict[str, SourceInput]:
    """The second inputs of `form` (``FormDef.sources``) for `scope`'s report, placed on
    `rows` (from :func:`build_rows` for the main records).

    `frames` maps a source's table name to its records (any dates: the months around
    the window decide coverage); a table not in `frames` is not given (its columns are
    then empty, the total says why). Records are placed like the main records (the unit
    version valid on their date, its row); with ``rows: own_unit`` a row keeps only the
    records of the unit it names — a district row of the city report counts the
    district head's days, not its communes' — and the districts' row "Cấp huyện" those
    of each district. With ``coverage: month`` a row is unavailable when one of its
    units (those whose records it keeps, in force in the window) has no record in a
    month the window touches while the unit is in force; the reason names the unit and
    the months ("Phường X chưa gửi lịch tiếp công dân của tháng 11/2025").
    """
    out: dict[str, SourceInput] = {}
    if not form.sources or frames is None:
        return out
    units = _Units(units_df)
    layout = _Layout(scope, period, units, crosswalk)
    data_ids = [r.row_id for r in rows if r.kind != "total"]
    for name, sdef in form.sources.items():
        if sdef.table not in frames or frames[sdef.table] is None:
            continue
        frame = frames[sdef.table]
        _, placed = build_rows(scope, period, frame, units_df, date_column=sdef.date_column, strict=False,
                               crosswalk=crosswalk)
        placed = placed[placed["row_id"].isin(data_ids)]

        def keeps(key: str, rid: str | None) -> bool:
            if rid is None or rid not in data_ids:
                return False
            if sdef.rows == "all_units":
                return True
            return key == rid or (rid == DISTRICTS_ROW_ID and key in units and units.level(key) == "huyen")

        if len(placed):
            placed = placed[[keeps(str(k), r) for k, r in zip(placed["unit_key"], placed["row_id"])]]
        placed = count_per_unit(form, placed)
        unavailable: dict[str, str] = {}
        if sdef.coverage == "month":
            days = pd.to_datetime(frame[sdef.date_column], errors="coerce") if len(frame) else pd.Series([], dtype="datetime64[ns]")
            have = set(zip(frame["unit_key"].astype(str), days.dt.year, days.dt.month)) if len(frame) else set()
            short: dict[str, list[str]] = {}
            for key in sorted(layout.window_keys):
                rid = layout.target(key)[0]
                if not keeps(key, rid):
                    continue
                vf = units.by_key.at[key, "valid_from"] or period.start
                vt = units.by_key.at[key, "valid_to"] or period.end
                lo, hi = max(period.start, vf), min(period.end, vt)
                if lo > hi:
                    continue
                months = [f"{m:02d}/{y}" for y, m in _month_span(lo, hi) if (key, y, m) not in have]
                if months:
                    short.setdefault(rid, []).append(sdef.missing_note.format(unit=units.name(key),
                                                                              months=", ".join(months)))
            unavailable = {rid: "; ".join(notes) for rid, notes in short.items()}
        for rid, st in (row_status or {}).items():
            if not st.reported and rid in data_ids:
                unavailable[rid] = "chưa báo cáo"       # its cells are empty anyway
        out[name] = SourceInput(placed, unavailable)
    return out


# ------------------------------------------------------------------ writing a report

@dataclass(frozen=True)
class ReportResult:
    """A written report (the same fields as reports.levels.ReportResult, plus its scope)."""

    path: Path
    sha256: str
    table: pd.DataFrame
    rows: list[ReportRow]
    form: FormDef
    period: Period
    record_count: int
    lineage_path: Path | None = None
    scope: Scope | None = None
    estimate_rows: tuple[str, ...] = ()


def _call(fn, *args, period: Period, **kwargs):
    """Call `fn` with ``period=`` when it takes it (reports.formdef's period-aware API)."""
    try:
        takes = "period" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        takes = False
    return fn(*args, period=period, **kwargs) if takes else fn(*args, **kwargs)


def select_records(form: FormDef, records: pd.DataFrame, period: Period) -> tuple[pd.DataFrame, bool]:
    """The form's population for the window and whether it is already selected:
    ``form.select(records, period)`` when the form definition offers it (else the
    records as given, to be filtered by date in the window)."""
    select = getattr(form, "select", None)
    if callable(select):
        return select(records, period), True
    return records, False


def scope_report(form_code: str, scope: Scope, period: Period, records: pd.DataFrame,
                 units_df: pd.DataFrame, path: str | os.PathLike, meta: Mapping[str, Any] | None = None, *,
                 form: FormDef | None = None, row_status: Mapping[str, RowStatus] | None = None,
                 quality: Mapping[str, Any] | None = None, lineage: bool = False,
                 rows: list[ReportRow] | None = None, strict: bool = True, preselected: bool | None = None,
                 crosswalk: pd.DataFrame | None = None, unit_name: str | None = None,
                 source_frames: Mapping[str, pd.DataFrame] | None = None) -> ReportResult:
    """Compute, check and write the report of `form_code` for `scope` over `period`.

    `records` are the form's source records: any dates (the form selects its
    population, ``FormDef.select``, or the window by date), or already selected
    (`preselected=True`), or already placed — with `rows` from :func:`build_rows`, the
    records must be the ones it returned (with ``row_id``). `row_status` from
    :func:`row_status_for`; `quality` becomes the "Chất lượng dữ liệu" sheet; with
    `lineage` the companion ``<stem>.nguon.csv`` is written (reports.lineage).

    The workbook's issuing body is ``UBND <unit name>`` (or `unit_name`); the info
    sheet says which view it is, and a remapped view says so under its title:
    "Quy đổi theo đơn vị hành chính hiện nay (số liệu ước tính ở các dòng có ghi chú)".
    `source_frames` (table name → records) feed the form's second inputs
    (``FormDef.sources``, :func:`source_inputs`); without them those columns are empty.
    Raises IdentityError (nothing written) when a check identity fails.
    """
    form = form or form_definition(form_code, period)
    if rows is None:
        if preselected:
            selected, pre = records, True
        else:
            selected, pre = select_records(form, records, period)
        rows, recs = build_rows(scope, period, selected, units_df, date_column=form.date_column,
                                strict=strict, preselected=pre, crosswalk=crosswalk)
    else:
        if "row_id" not in records.columns:
            raise ValueError("records given with rows must carry row_id (see build_rows)")
        recs = records
    counted = count_per_unit(form, recs)
    extra = source_inputs(form, scope, period, rows, source_frames, units_df, crosswalk=crosswalk,
                          row_status=row_status) \
        if getattr(form, "sources", None) else {}
    table = _call(compute, form, counted, rows, row_status, period=period,
                  **({"sources": extra} if getattr(form, "sources", None) else {}))
    contrib = None
    lineage_records = counted
    if lineage:
        contrib = _call(contributions, form, counted, rows, period=period)
        if getattr(form, "sources", None):
            parts = [(counted, contrib), *source_contributions(form, extra, rows, period)]
            lineage_records = pd.concat([p[0] for p in parts], ignore_index=True)
            contrib = pd.concat([p[1] for p in parts], ignore_index=True)
        problems = check_contributions(form, table, contrib)
        if problems:  # cannot happen unless the calculator and its lineage disagree
            raise ValueError("lineage does not account for the table: " + "; ".join(problems[:10]))
    estimate_rows = tuple(r.row_id for r in rows if ESTIMATE_NOTE in (r.note or ""))
    meta = dict(meta or {})
    meta.setdefault("record_count", len(recs))
    if "batch_id" in recs.columns:
        meta.setdefault("source_batch_count", int(recs["batch_id"].nunique()))
    shown = form
    if scope.kind == "remapped":
        meta.setdefault(VIEW_META_KEY, REMAPPED_VIEW_TEXT)
        labels = [r.label for r in rows if r.row_id in estimate_rows]
        meta.setdefault(ESTIMATE_META_KEY, ", ".join(labels) if labels else "Không có")
        # The title block says it too: the date line is printed under the title.
        shown = dataclasses.replace(form, date_line=f"{form.date_line} – {REMAPPED_VIEW_TEXT}")
    else:
        meta.setdefault(VIEW_META_KEY, AS_RECORDED_VIEW_TEXT)
    sha = write_xlsx(shown, table, rows, period, unit_name or scope.issuer, path, meta,
                     row_status=row_status, quality=quality)
    lineage_file = None
    if contrib is not None:
        lineage_file = write_lineage(path, lineage_records, contrib, form, rows=rows)
    return ReportResult(Path(path), sha, table, rows, form, period, len(recs), lineage_file, scope, estimate_rows)


# ------------------------------------------------------------------ the city's (province's) consolidated report
# The province's consolidated scope, for callers that hold the frames themselves (the
# calibration against published figures, the lineage and quality-sheet checks): the
# same computing and writing path as every unit's report (scope_report).
def build_rows_for_city(province_code: str, period: Period, receptions_df: pd.DataFrame,
                        units_df: pd.DataFrame, *, date_column: str = "received_date",
                        strict: bool = True, preselected: bool = False) -> tuple[list[ReportRow], pd.DataFrame]:
    """Rows of the city report for `period` and the records with their ``row_id``.

    Returns ``(rows, records)``: `rows` ends with the total row; `records` are the
    records of `receptions_df` inside the window (inclusive bounds on `date_column`;
    all of them with `preselected`) with a ``row_id`` column. In-window records that
    cannot be placed (unit unknown, outside the province, or a unit not in force in
    the window) raise UnplacedRecordsError when `strict`, else are dropped with a
    warning and counted in ``records.attrs['unplaced']``. The city's consolidated
    scope of reports.levels.build_rows.
    """
    scope = scope_for(units_df, _province_key(units_df, province_code), "consolidated", str(province_code))
    return build_rows(scope, period, receptions_df, units_df, date_column=date_column, strict=strict,
                      preselected=preselected)


def _province_key(units_df: pd.DataFrame, province_code: str) -> str:
    prov = units_df[(units_df["unit_code"].astype(str) == str(province_code)) & (units_df["level"] == "tinh")]
    if prov.empty:
        raise ValueError(f"province {province_code!r} not in the unit table")
    return str(prov["unit_key"].iloc[0])


def city_report(form_code: str, period: Period, records: pd.DataFrame, units_df: pd.DataFrame,
                path: str | os.PathLike, meta: Mapping[str, Any] | None = None, *,
                province_code: str | None = None, unit_name: str | None = None,
                form: FormDef | None = None, strict: bool = True,
                row_status: Mapping[str, RowStatus] | None = None,
                quality: Mapping[str, Any] | None = None, lineage: bool = False,
                source_frames: Mapping[str, pd.DataFrame] | None = None) -> ReportResult:
    """Compute, check and write the city report of `form_code` for `period`.

    `records` is the form's source table (fact_reception for 01/TCD) for any dates;
    `units_df` is ``warehouse.units.unit_frame()``. `meta` goes to the info sheet;
    ``record_count`` and ``source_batch_count`` are added when absent.

    `row_status` (row_id → RowStatus; row_ids are the unit_key of a row's unit, or the
    province's key for the city's own row — see :func:`build_rows_for_city`): rows of
    units that did not report are left empty (reports.formdef.compute); a key that is
    not a row of this report raises ValueError. `quality` becomes the sheet "Chất
    lượng dữ liệu" (reports.render.quality_sheet). With `lineage`, the companion file
    ``<stem>.nguon.csv`` is written beside the workbook (reports.lineage): `records`
    should carry the lineage columns (source_kind, source_name, source_file,
    source_row, record_id, raw_id, batch_id; missing ones are written empty).

    The city's consolidated scope of reports.levels.scope_report: the form selects its
    population (``FormDef.select``) when it offers it, and distinct counts are per
    recording unit (reports.levels.count_per_unit), so a district's row equals the
    total of the district's own consolidated report. `source_frames` (table name →
    records) feed the form's second inputs (01/TCD of TT 06/2025: the reception
    calendar, fact_reception_calendar; reports.levels.source_inputs).
    """
    province_code = province_code or settings.get().province.code
    scope = scope_for(units_df, _province_key(units_df, province_code), "consolidated", str(province_code))
    return scope_report(form_code, scope, period, records, units_df, path, meta, form=form,
                        row_status=row_status, quality=quality, lineage=lineage, strict=strict,
                        unit_name=unit_name, source_frames=source_frames)
