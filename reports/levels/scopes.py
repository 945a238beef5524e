"""The reports to produce: a :class:`Scope` (a unit, what its rows are, a file-name slug),
one unit's (:func:`scope_for`) and every unit's for a window (:func:`report_scopes`) —
of one province, or of a national table: the national report, then each province's.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from core.levels import LEVEL_ORDER, NATIONAL_LEVEL, REPORT_LEVELS
from core.normalise import fold
from core.periods import Period
from reports.levels.units import Units
from reports.levels.vocabulary import KINDS, NATIONAL_ISSUER


def _slug_text(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


@dataclass(frozen=True)
class Scope:
    """One report to produce: a unit, what its rows are (`kind`), and a file-name slug.

    ``kind``: own | consolidated | remapped; ``level``: quoc_gia | tinh | huyen | xa
    (the unit's; the country has only a consolidated report: it records nothing
    itself); ``slug``: stable and unique among the scopes of any window, ASCII
    (``<scheme>-<code>-<name>-<kind>``: legacy and 2025 units may share a code and even
    a name); ``province_code``: the province the unit belongs to, the national code
    (``VN``) for the national report.
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
        if self.level not in REPORT_LEVELS:
            raise ValueError(f"scope level must be one of {REPORT_LEVELS}, not {self.level!r}")
        if self.level == NATIONAL_LEVEL and self.kind != "consolidated":
            raise ValueError("the national level records nothing itself: it has only a consolidated report")
        if self.kind == "remapped" and self.level != "tinh":
            raise ValueError("only the city has a remapped view")
        if self.kind == "consolidated" and self.level == "xa":
            raise ValueError("a commune has no subordinate units to consolidate")

    @property
    def national(self) -> bool:
        return self.level == NATIONAL_LEVEL

    @property
    def issuer(self) -> str:
        """The body issuing the report, as printed top left: "UBND Quận Ba Đình";
        "Thanh tra Chính phủ" for the national report."""
        return NATIONAL_ISSUER if self.national else f"UBND {self.unit_name}"

    @property
    def view(self) -> str:
        """``remapped`` (today's units) or ``as_recorded``."""
        return "remapped" if self.kind == "remapped" else "as_recorded"


def _scope(unit: pd.Series, kind: str, province_code: str) -> Scope:
    scheme = str(unit.get("scheme") or str(unit["unit_key"]).split(":", 1)[0])
    slug = f"{_slug_text(scheme)}-{unit['unit_code']}-{_slug_text(str(unit['name']))}-{kind}"
    return Scope(kind, str(unit["level"]), str(unit["unit_key"]), str(unit["unit_code"]), str(unit["name"]),
                 slug, str(province_code), str(unit.get("unit_type") or ""))


def scope_for(units_df: pd.DataFrame | Units, unit_key: str, kind: str, province_code: str | None = None) -> Scope:
    """The scope of `kind` for the unit `unit_key` (under province `province_code`; in
    a national table the unit's own province when None). The national unit's scope is
    the national report (``province_code`` None or the national code)."""
    units = Units.of(units_df)
    if unit_key not in units:
        raise KeyError(f"unit {unit_key!r} not in the unit table")
    if unit_key == units.national_key:
        code = str(units.row(unit_key)["unit_code"])
        if province_code is not None and str(province_code) != code:
            raise ValueError(f"the national unit is not under province {province_code}")
        return _scope(units.row(unit_key), kind, code)
    if province_code is None and units.shared:
        prov = units.province_of(unit_key)
        if prov is None:
            raise ValueError(f"unit {unit_key!r} is under no province")
    else:
        prov = units.province(province_code)
    if unit_key != prov["unit_key"] and prov["unit_key"] not in units.chain(unit_key):
        raise ValueError(f"unit {unit_key!r} is not under province {prov['unit_code']}")
    return _scope(units.row(unit_key), kind, str(prov["unit_code"]))


def report_scopes(period: Period, units_df: pd.DataFrame | Units, province_code: str | None = None, *,
                  include_remapped: bool = False) -> list[Scope]:
    """Every report to produce for `period`: the city's own and consolidated reports
    (and its remapped view with `include_remapped`), each district's own and
    consolidated report, each commune's own report — for every unit in force at some
    time in the window. Ordered city, districts (by code), communes (by validity start,
    then code).

    A national table (with the national row) and no `province_code`: the national
    report first, then every province's scopes as above, provinces by code. With
    `province_code`, that province's scopes only."""
    units = Units.of(units_df)
    if province_code is None and units.national_key is not None:
        out = [scope_for(units, units.national_key, "consolidated")]
        for code in units.provinces()["unit_code"]:
            out += _province_scopes(period, units, str(code), include_remapped)
    else:
        out = _province_scopes(period, units, province_code, include_remapped)
    slugs = [s.slug for s in out]
    if len(set(slugs)) != len(slugs):       # cannot happen with unique unit keys; files would clash
        raise ValueError("report scopes with the same slug")
    return out


def _province_scopes(period: Period, units: Units, province_code: str | None, include_remapped: bool) -> list[Scope]:
    prov = units.province(province_code)
    code, prov_key = str(prov["unit_code"]), str(prov["unit_key"])
    kinds = ("own", "consolidated") + (("remapped",) if include_remapped else ())
    out = [_scope(prov, k, code) for k in kinds]
    df = units.df[units.in_force_mask(period.start, period.end)]
    below = set(units.subtree(prov_key)) - {prov_key}
    df = df[df["unit_key"].isin(below)]
    df = df.assign(_lv=df["level"].map(LEVEL_ORDER).fillna(9),
                   _vf=[v or dt.date.min for v in df["valid_from"]])
    for u in df[df["level"] == "huyen"].sort_values(["unit_code", "_vf"], kind="mergesort").itertuples():
        row = units.row(u.unit_key)
        out += [_scope(row, "own", code), _scope(row, "consolidated", code)]
    for u in df[df["level"] == "xa"].sort_values(["_vf", "unit_code"], kind="mergesort").itertuples():
        out.append(_scope(units.row(u.unit_key), "own", code))
    return out
