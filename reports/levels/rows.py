"""The rows of a scope's report and its records placed on them (:func:`build_rows`), with
the notes that depend on the records (carried over, estimates); records that belong to
the scope but cannot be placed raise :class:`UnplacedRecordsError`.
"""
from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from core.periods import Period
from reports.formdef import TOTAL_ROW_ID, ReportRow
from reports.levels.layout import Layout
from reports.levels.scopes import Scope
from reports.levels.units import Units
from reports.levels.vocabulary import CARRIED_NOTE, DISTRICTS_ROW_ID, ESTIMATE_NOTE, capitalise, join_notes

log = logging.getLogger(__name__)

_MAX_NAMES = 3


class UnplacedRecordsError(ValueError):
    """Records in the window whose unit is not under the province (the country, for the
    national report), or not a unit in force in the window: they would silently vanish
    from the report."""


class RecordsByUnit:
    """A frame of records with the positions of each unit's records, found once: a
    scope then looks only at the records of the units that can belong to it, instead
    of the whole frame (a report set places the same records for hundreds of scopes)."""

    def __init__(self, records: pd.DataFrame):
        self.records = records
        self.key_values = _key_values(records)
        codes, uniques = pd.factorize(self.key_values)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        self.positions = {str(k): order[bounds[i]:bounds[i + 1]] for i, k in enumerate(uniques)}
        self.keys = pd.Series(list(self.positions), dtype=object)
        self._anchors: dict[tuple, tuple] = {}
        self._stamps: dict[str, np.ndarray] = {}

    def stamps(self, date_column: str) -> np.ndarray:
        """:func:`_stamps` of the whole frame, made once per column."""
        if date_column not in self._stamps:
            self._stamps[date_column] = _stamps(self.records, date_column)
        return self._stamps[date_column]

    def reaching(self, layout: Layout) -> list[str]:
        """The keys whose records may belong to `layout`'s scope, a superset of those
        that do (build_rows looks closer at each). A scope below the province takes
        only records of its subtree, and records carried or remapped into it through
        the crosswalk, whose chain of default successors ends in its subtree: each key
        is filed once under every unit above it or above one of its successors, so a
        scope finds its keys without looking at every unit of the province."""
        if layout.whole_province or layout.claims_unknown:
            return list(self.positions)
        units, frame = layout.units, layout.crosswalk
        # By the unit table and crosswalk used (kept alive with the index, so that their
        # ids stay theirs).
        cache_key = (id(units), id(frame))
        cached = self._anchors.get(cache_key)
        if cached is None:
            default, _ = layout.maps
            anchors: dict[str, list[str]] = {}
            self._anchors[cache_key] = (units, frame, anchors)
            for k in self.positions:
                if k not in units:
                    continue
                seen, j = set(), k
                while j is not None and j not in seen:
                    seen.add(j)
                    j = default[j][0] if j in default else None
                for a in {a for j in seen for a in units.chain(j)}:
                    anchors.setdefault(a, []).append(k)
        else:
            anchors = cached[2]
        return anchors.get(layout.scope.unit_key, [])

    def of_units(self, keys: list[str]) -> pd.DataFrame:
        """The records of the units `keys`, in the frame's order."""
        return self.records.iloc[self.positions_of(keys)]

    def positions_of(self, keys: list[str]) -> np.ndarray:
        """The positions of the records of the units `keys`, in the frame's order."""
        parts = [self.positions[k] for k in keys if k in self.positions]
        return np.sort(np.concatenate(parts)) if parts else np.array([], dtype=np.int64)


def _key_values(records: pd.DataFrame) -> np.ndarray:
    """Each record's unit_key as text (None when missing), as an object array."""
    if "unit_key" not in records.columns:
        return np.full(len(records), None, dtype=object)
    keys = records["unit_key"]
    return keys.astype("string").astype(object).where(keys.notna(), None).to_numpy(dtype=object)


def _stamps(records: pd.DataFrame, date_column: str) -> np.ndarray:
    """Each record's `date_column` at midnight (NaT when missing or unreadable)."""
    if date_column not in records.columns:
        return np.full(len(records), np.datetime64("NaT"), dtype="datetime64[ns]")
    return pd.to_datetime(records[date_column], errors="coerce").dt.normalize().to_numpy(dtype="datetime64[ns]")


def _names(keys: list[str], units: "Units") -> str:
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


def _old_units(keys: list[str], units: "Units") -> str:
    return ("đơn vị cũ " if len(keys) == 1 else "các đơn vị cũ ") + _names(keys, units)


def build_rows(scope: Scope, period: Period, records: pd.DataFrame | RecordsByUnit,
               units_df: pd.DataFrame | Units, *,
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
    the province (city scopes; outside the provinces of the table for the national
    report), unit not in force on the record's date, no row for its unit — raises
    UnplacedRecordsError when `strict`, else is dropped with a warning.
    `crosswalk` (dim_unit_crosswalk rows) defaults to
    ``warehouse.units.crosswalk_frame(scope.province_code)``; it is read only for the
    remapped view and for records carried over from units no longer in force.
    `records` may be given as :class:`RecordsByUnit` (and `units_df` as
    :class:`Units`), indexed once for many scopes: the result is the same.
    """
    units = Units.of(units_df)
    layout = Layout(scope, period, units, crosswalk)
    # Plain arrays, one value per record: a report set places records for thousands of
    # scopes, most of them a commune with a handful of records.
    if isinstance(records, RecordsByUnit):
        # Only the records of units that reach this scope can be placed in it or be
        # missing from it; every unit still counts for the notes on split units.
        all_keys = records.keys
        df, stamp, key_values = records.records, records.stamps(date_column), records.key_values
        if not layout.claims_unknown:
            at = records.positions_of([k for k in records.reaching(layout) if layout.may_reach(k)
                                       and (layout.in_subtree(k) or layout.target(k)[0] is not None)])
            df, stamp, key_values = df.iloc[at], stamp[at], key_values[at]
    else:
        df, stamp, key_values = records, _stamps(records, date_column), _key_values(records)
        all_keys = None
    if not preselected:
        with np.errstate(invalid="ignore"):
            in_window = (stamp >= np.datetime64(period.start, "ns")) & (stamp <= np.datetime64(period.end, "ns"))
        df, stamp, key_values = df[in_window], stamp[in_window], key_values[in_window]
    # Everything below is looked up once per distinct unit, then taken by position (many
    # records, few units; the pipeline places the same records for hundreds of scopes).
    codes, distinct = pd.factorize(key_values, use_na_sentinel=True)
    distinct = [str(k) for k in distinct]
    targets = [layout.target(k) for k in distinct]

    def per_record(values: list, dtype=object) -> np.ndarray:
        # Position -1 (no unit key) takes the last element: None / False / NaT.
        if dtype == "datetime64[ns]":
            return pd.DatetimeIndex(values).as_unit("ns").to_numpy()[codes]
        return np.asarray(values, dtype=dtype)[codes]

    row_id = per_record([t[0] for t in targets] + [None])
    old = per_record([t[1] for t in targets] + [None])
    relation = per_record([t[2] for t in targets] + [None])
    has_row = per_record([t[0] is not None for t in targets] + [False], bool)
    is_known = [k in units for k in distinct]
    known = per_record(is_known + [False], bool)
    # The unit must be in force on the record's own date (unit_key is meant to be the
    # version valid then); otherwise a record would be counted under a district that no
    # longer existed on that day. A record without a date (preselected) is not checked.
    bound = lambda col: [units.by_key.at[k, col] if ok else None for k, ok in zip(distinct, is_known)] + [None]
    vf = per_record(bound("valid_from"), "datetime64[ns]")
    vt = per_record(bound("valid_to"), "datetime64[ns]")
    with np.errstate(invalid="ignore"):
        on_date = np.isnat(stamp) | (~np.isnat(vf) & (vf <= stamp) & (np.isnat(vt) | (vt >= stamp)))
    placed = has_row & known & on_date
    # Records that belong to the scope: all of the province's for the city's
    # consolidated and remapped reports (none may vanish), all of the country's for the
    # national report; otherwise the scope unit's own or subtree's, or those reaching it
    # through a successor. Records of no known unit are the province's in a province
    # deployment, the national report's in a national one.
    mine = per_record([layout.in_subtree(k) for k in distinct] + [False], bool) | has_row
    if layout.claims_unknown:
        mine = mine | ~known
    bad = mine & ~placed
    if bad.any():
        counts = pd.Series(key_values[bad], dtype=object).astype(str).value_counts().head(10).to_dict()
        where = (f"the country ({scope.unit_code})" if scope.national else
                 f"province {scope.province_code}" if layout.whole_province else f"scope {scope.slug}")
        msg = (f"{int(bad.sum())} record(s) in {period.key} cannot be placed in the report of {where}: "
               f"by unit_key {counts}")
        if strict:
            raise UnplacedRecordsError(msg)
        log.warning("%s; dropped", msg)
    out = df[placed].copy()
    out["row_id"] = np.array([str(x) for x in row_id[placed]], dtype=object)
    out["estimate"] = relation[placed] == "split"
    if all_keys is None:
        all_keys = pd.Series(key_values, dtype=object)
    rows = _dynamic_rows(layout, out, old[placed], relation[placed], all_keys)
    estimate_rows = [r.row_id for r in rows if ESTIMATE_NOTE in r.note]
    out.attrs.update(unplaced=int(bad.sum()), estimate_rows=estimate_rows, view=scope.view)
    return rows, out


def _dynamic_rows(layout: Layout, placed_recs: pd.DataFrame, old: np.ndarray, relation: np.ndarray,
                  all_keys: pd.Series) -> list[ReportRow]:
    """The scope's rows with the notes that depend on the records: carried over from
    units no longer in force, estimates (split units), and the districts' row of a city
    report when carried-over district records need it; the total row last."""
    units, scope = layout.units, layout.scope
    remapped = scope.kind == "remapped"
    rows = list(layout.rows)
    notes: dict[str, list[str]] = {r.row_id: [] for r in rows}
    # The distinct (row, old unit, relation) of the records placed through an old unit
    # (plain arrays: most scopes have none, and a report set has thousands of scopes).
    through = pd.notna(old)
    via = set(zip(placed_recs["row_id"].to_numpy()[through], old[through], relation[through])) \
        if through.any() else set()
    if any(rel == "district" for _, _, rel in via) and not layout.has_districts_row:
        own_at = next(i for i, r in enumerate(rows) if r.kind == "own")
        rows.insert(own_at, layout.districts_row())
        notes[DISTRICTS_ROW_ID] = []
    for rid in sorted({row for row, _, _ in via}):
        carried = sorted({k for row, k, _ in via if row == rid and k not in layout.window_keys})
        split = sorted({k for row, k, rel in via if row == rid and rel == "split"})
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
    out = [dataclasses.replace(r, note=capitalise(join_notes(r.note, *notes[r.row_id]))) if notes.get(r.row_id) else r
           for r in rows]
    return out + [ReportRow(TOTAL_ROW_ID, "Tổng cộng", total_code, "total")]
