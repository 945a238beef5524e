"""The administrative-unit dimension (dim_unit), from the `vietnamadminunits` package.

Two schemes, each valid for a span of dates:

- ``legacy``: the three-tier units (tỉnh → huyện → xã) with national codes, valid until
  30/06/2025. The package carries the list in force just before the reform (after the
  2023–2024 commune rearrangements: 30 districts and 526 communes for Hà Nội); we take it
  as valid from 01/01/2020, a documented simplification (docs/adr/0003-units.md). A
  province formed in 2025 by merging several (Đà Nẵng = Đà Nẵng + Quảng Nam) holds the
  legacy districts and communes of every predecessor province (:func:`predecessor_codes`):
  its warehouse covers its territory's history, the districts as rows of its reports
  before 01/07/2025. A legacy district with no commune in the package's table (Huyện
  Hoàng Sa, Bạch Long Vĩ, Cồn Cỏ, Lý Sơn, Côn Đảo) is a district without communes.
- ``2025``: the two-tier units (tỉnh → xã) valid from 01/07/2025 (126 for Hà Nội).

Commune codes are reused across the schemes (00004 was Phường Trúc Bạch and is now
Phường Ba Đình), so a unit is identified by scheme and code (``unit_key``) and a
record's unit code is resolved with its date.

The crosswalk (dim_unit_crosswalk, :func:`crosswalk_frame`) says where each legacy
commune went on 01/07/2025, from the package's converter data: ``whole`` when the old
commune went entirely into one new commune, ``split`` when it was divided among several
(one row per new commune, ``is_default`` marking the one the package assigns when
nothing finer is known). Records are never recoded with it; remapped reports use it
(reports/levels/).

A national deployment holds several provinces (every province, or a configured list) in
one warehouse, under one national row (``country:VN``, level ``quoc_gia``, scheme
``country``): :func:`national_unit_frame` and :func:`national_crosswalk_frame`, loaded by
``load_dim_unit(..., province_codes=...)``. Each province keeps its whole territory's
history (its legacy units and its 2025 communes), so the provinces' unit sets are
disjoint and the national report needs no crosswalk.
"""
from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import json
from importlib.metadata import PackageNotFoundError, version

import pandas as pd
from vietnamadminunits.database import query

from core.levels import NATIONAL_LEVEL
from core.settings import Settings
from warehouse.schema import dim_unit, dim_unit_crosswalk

NATIONAL_UNIT_KEY = "country:VN"
NATIONAL_UNIT_CODE = "VN"
NATIONAL_UNIT_NAME = "Toàn quốc"
NATIONAL_SCHEME = "country"
# Small frames (a few thousand rows each): room for every province (34) and a few sets
# of dates, so a national deployment builds each province's frame once per process.
_PROVINCE_CACHE = 128


def predecessor_codes(province_code: str) -> tuple[str, ...]:
    """The legacy provinces (codes, ascending) whose territory forms the 2025 province
    `province_code`, from the package's converter (``DICT_PROVINCE``: new province key →
    old province keys): ('48', '49') for Đà Nẵng, ('01',) for Hà Nội, which was not
    merged."""
    return _predecessor_codes(province_code)


@functools.lru_cache(maxsize=64)
def _predecessor_codes(province_code: str) -> tuple[str, ...]:
    if not province_code.isdigit():
        raise ValueError(f"invalid province code {province_code!r}")
    keys = query(f"SELECT DISTINCT provinceKey FROM admin_units WHERE provinceCode = '{province_code}'")
    if not keys:
        raise ValueError(f"no units for province {province_code} in vietnamadminunits")
    old_keys = _converter_data()["DICT_PROVINCE"].get(keys[0]["provinceKey"], [])
    legacy = {r["provinceKey"]: r["provinceCode"] for r in query(
        "SELECT DISTINCT provinceKey, provinceCode FROM admin_units_legacy")}
    codes = {legacy[k] for k in old_keys if k in legacy}
    if province_code in legacy.values():     # the province kept its own code: itself a predecessor
        codes.add(province_code)
    return tuple(sorted(codes))


def province_codes() -> tuple[str, ...]:
    """Every province after 01/07/2025 (34), ascending."""
    return tuple(r["provinceCode"] for r in query("SELECT DISTINCT provinceCode FROM admin_units ORDER BY provinceCode"))


def unit_frame(cfg: Settings, province_code: str | None = None) -> pd.DataFrame:
    """Every unit of the province (``province.code`` of `cfg`, or `province_code`), both
    schemes, as rows of dim_unit: the legacy units from ``series.data_from`` (the units
    cover the data's whole span) to ``reform.last_day_three_tier``, the 2025 units from
    ``reform.first_day_two_tier``."""
    r = cfg.reform
    return _unit_frame(province_code or cfg.province.code, r.last_day_three_tier, r.first_day_two_tier,
                       cfg.series.data_from)


@functools.lru_cache(maxsize=_PROVINCE_CACHE)
def _unit_frame(province_code: str, last_legacy: dt.date, first_2025: dt.date, legacy_from: dt.date) -> pd.DataFrame:
    if not province_code.isdigit():
        raise ValueError(f"invalid province code {province_code!r}")
    olds = ", ".join(f"'{c}'" for c in _predecessor_codes(province_code))
    legacy = pd.DataFrame(query(
        "SELECT DISTINCT province, provinceCode, district, districtType, districtCode, "
        "ward, wardType, wardCode FROM admin_units_legacy "
        f"WHERE provinceCode IN ({olds}) ORDER BY provinceCode"))
    new = pd.DataFrame(query(
        "SELECT DISTINCT province, provinceCode, ward, wardType, wardCode FROM admin_units "
        f"WHERE provinceCode = '{province_code}'"))
    if legacy.empty or new.empty:
        raise ValueError(f"no units for province {province_code} in vietnamadminunits")
    source_legacy = "vietnamadminunits admin_units_legacy"
    source_new = "vietnamadminunits admin_units"
    prov_name = new["province"].iloc[0]
    rows = [{
        "unit_key": f"province:{province_code}", "unit_code": province_code,
        "name": prov_name, "unit_type": prov_name.split(" ")[0] if prov_name.startswith("Tỉnh") else "Thành phố",
        "level": "tinh", "parent_code": None, "parent_key": None, "scheme": "province",
        "valid_from": legacy_from, "valid_to": None, "source": source_new,
    }]
    districts = legacy.drop_duplicates("districtCode")
    for r in districts.itertuples():
        rows.append({
            "unit_key": f"legacy:{r.districtCode}", "unit_code": r.districtCode, "name": r.district,
            "unit_type": r.districtType, "level": "huyen", "parent_code": province_code,
            "parent_key": f"province:{province_code}", "scheme": "legacy",
            "valid_from": legacy_from, "valid_to": last_legacy, "source": source_legacy})
    for r in legacy[legacy["wardCode"].notna()].itertuples():     # a district without communes: no row
        rows.append({
            "unit_key": f"legacy:{r.wardCode}", "unit_code": r.wardCode, "name": r.ward,
            "unit_type": r.wardType, "level": "xa", "parent_code": r.districtCode,
            "parent_key": f"legacy:{r.districtCode}", "scheme": "legacy",
            "valid_from": legacy_from, "valid_to": last_legacy, "source": source_legacy})
    for r in new.itertuples():
        rows.append({
            "unit_key": f"2025:{r.wardCode}", "unit_code": r.wardCode, "name": r.ward,
            "unit_type": r.wardType, "level": "xa", "parent_code": province_code,
            "parent_key": f"province:{province_code}", "scheme": "2025",
            "valid_from": first_2025, "valid_to": None, "source": source_new})
    df = pd.DataFrame(rows)
    if df["unit_key"].duplicated().any():
        raise ValueError("duplicate unit keys in reference data")
    return df


def national_unit_frame(province_codes: tuple[str, ...] | list[str], last_legacy: dt.date, first_2025: dt.date,
                        data_from: dt.date) -> pd.DataFrame:
    """The unit table of a national deployment, as rows of dim_unit: one national row
    (``country:VN``, code ``VN``, "Toàn quốc", level ``quoc_gia``, scheme ``country``,
    valid from `data_from`), then every unit of each province of `province_codes`
    (ascending), as :func:`unit_frame` gives them with the same dates (legacy units until
    `last_legacy`, 2025 communes from `first_2025`), each province's row under the
    national row. The national level records nothing itself: it is there for the
    national report to hang the provinces on. Raises ValueError when a unit key
    repeats (a province listed twice, or two provinces claiming a legacy unit)."""
    return _national_unit_frame(tuple(sorted(province_codes)), last_legacy, first_2025, data_from)


@functools.lru_cache(maxsize=2)
def _national_unit_frame(province_codes: tuple[str, ...], last_legacy: dt.date, first_2025: dt.date,
                         data_from: dt.date) -> pd.DataFrame:
    if not province_codes:
        raise ValueError("a national unit table needs at least one province")
    national = pd.DataFrame([{
        "unit_key": NATIONAL_UNIT_KEY, "unit_code": NATIONAL_UNIT_CODE, "name": NATIONAL_UNIT_NAME,
        "unit_type": "", "level": NATIONAL_LEVEL, "parent_code": None, "parent_key": None,
        "scheme": NATIONAL_SCHEME, "valid_from": data_from, "valid_to": None, "source": "national level",
    }])
    parts = [national]
    for code in province_codes:
        # A copy: the province's frame is cached and shared with its own deployment.
        part = _unit_frame(code, last_legacy, first_2025, data_from).copy()
        top = part["level"] == "tinh"
        part.loc[top, "parent_code"] = NATIONAL_UNIT_CODE
        part.loc[top, "parent_key"] = NATIONAL_UNIT_KEY
        parts.append(part)
    # The national row's empty parent would make those columns object: keep the dtypes
    # of a province's frame, so that both tables read the same.
    df = pd.concat(parts, ignore_index=True).astype(parts[1].dtypes.to_dict())
    twice = df.loc[df["unit_key"].duplicated(keep=False), "unit_key"]
    if not twice.empty:
        raise ValueError(f"duplicate unit keys in the national unit table: {sorted(set(twice))[:10]}")
    return df


def units_valid_on(units: pd.DataFrame, day: dt.date, level: str | None = None) -> pd.DataFrame:
    """The rows of `units` (:func:`unit_frame`) in force on `day` (of `level`)."""
    df = units
    mask = (df["valid_from"] <= day) & (df["valid_to"].isna() | (df["valid_to"] >= day))
    if level:
        mask &= df["level"] == level
    return df[mask]


def resolve_unit_keys(units: pd.DataFrame, codes: pd.Series, dates: pd.Series) -> pd.Series:
    """The unit_key valid for each (code, date) among `units` (:func:`unit_frame`); NA
    where the code was not a unit then."""
    units = units[["unit_key", "unit_code", "valid_from", "valid_to"]]
    frame = pd.DataFrame({"unit_code": codes.astype("string").values,
                          "d": pd.to_datetime(dates).dt.date.values,
                          "_pos": range(len(codes))})
    m = frame.merge(units, on="unit_code", how="left")
    ok = m["unit_key"].notna() & (m["valid_from"] <= m["d"]) & (
        m["valid_to"].isna() | (m["valid_to"] >= m["d"]))
    m = m[ok].drop_duplicates("_pos")
    out = pd.Series(pd.NA, index=range(len(codes)), dtype="string")
    out.loc[m["_pos"].to_numpy()] = m["unit_key"].to_numpy()
    out.index = codes.index
    return out


CROSSWALK_COLUMNS = ["old_unit_key", "new_unit_key", "relation", "is_default", "source"]
CONVERTER_FILE = "data/converter_2025.json"


class CrosswalkError(ValueError):
    """The reference data does not give every legacy commune a successor (or gives one
    that is not a unit), so a remapped report would lose or misplace records."""


@functools.lru_cache(maxsize=1)
def _converter_data() -> dict:
    """The package's old → new converter tables (read once; reference data, not copied)."""
    text = importlib.resources.files("vietnamadminunits").joinpath(CONVERTER_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def _package_version() -> str:
    try:
        return version("vietnamadminunits")
    except PackageNotFoundError:  # pragma: no cover - installed without metadata
        return ""


@functools.lru_cache(maxsize=_PROVINCE_CACHE)
def crosswalk_frame(province_code: str) -> pd.DataFrame:
    """Old (legacy commune) → new (2025 commune) units of the province, as rows of
    dim_unit_crosswalk: ``old_unit_key, new_unit_key, relation (whole|split),
    is_default, source``.

    From the package's ``converter_2025.json``: ``DICT_PROVINCE_WARD_NO_DIVIDED`` (new
    commune key → the old "province_district_ward" keys it took whole) gives one
    ``whole`` row per old commune (``is_default`` true); ``DICT_PROVINCE_WARD_DIVIDED``
    (old key → the new communes that share it, one flagged ``isDefaultNewWard``) one
    ``split`` row per new commune. Keys are matched to unit codes through the package's
    tables (admin_units_legacy: provinceKey, districtKey, wardKey → wardCode;
    admin_units: wardKey → wardCode).

    The legacy communes are those of every predecessor province (:func:`predecessor_codes`);
    a legacy district without communes (the converter's key with an empty commune part)
    has no row. Raises CrosswalkError when a legacy commune of the
    province has no successor, when a key names no unit, or when a split commune has
    not exactly one default.
    """
    if not province_code.isdigit():
        raise ValueError(f"invalid province code {province_code!r}")
    olds = ", ".join(f"'{c}'" for c in _predecessor_codes(province_code))
    legacy = pd.DataFrame(query(
        "SELECT DISTINCT provinceKey, districtKey, wardKey, wardCode, ward, district "
        f"FROM admin_units_legacy WHERE provinceCode IN ({olds}) AND wardCode IS NOT NULL"))
    new = pd.DataFrame(query(
        "SELECT DISTINCT provinceKey, wardKey, wardCode FROM admin_units "
        f"WHERE provinceCode = '{province_code}'"))
    if legacy.empty or new.empty:
        raise CrosswalkError(f"no units for province {province_code} in vietnamadminunits")
    legacy["key"] = legacy["provinceKey"] + "_" + legacy["districtKey"] + "_" + legacy["wardKey"]
    ambiguous = legacy[legacy["key"].duplicated(keep=False)]
    if not ambiguous.empty:
        raise CrosswalkError(f"legacy commune keys of province {province_code} name several units: "
                             f"{sorted(set(ambiguous['key']))[:10]}")
    old_code = dict(zip(legacy["key"], legacy["wardCode"]))
    new_code = dict(zip(new["wardKey"], new["wardCode"]))
    prov_key = str(new["provinceKey"].iloc[0])
    data = _converter_data()
    whole = data["DICT_PROVINCE_WARD_NO_DIVIDED"].get(prov_key, {})
    divided = data["DICT_PROVINCE_WARD_DIVIDED"].get(prov_key, {})
    source = f"vietnamadminunits {_package_version()} {CONVERTER_FILE.rsplit('/', 1)[-1]}".replace("  ", " ")

    def new_key(ward_key: str) -> str:
        if ward_key not in new_code:
            raise CrosswalkError(f"converter names new commune {ward_key!r}, not a 2025 unit of "
                                 f"province {province_code}")
        return f"2025:{new_code[ward_key]}"

    rows = []
    for ward_key, olds in whole.items():
        target = new_key(ward_key)
        for old in olds:
            if old in old_code:          # else: a legacy district without communes (Hoàng Sa)
                rows.append((f"legacy:{old_code[old]}", target, "whole", True))
    for old, targets in divided.items():
        if old not in old_code:
            continue
        defaults = [t for t in targets if t.get("isDefaultNewWard")]
        if len(defaults) != 1:
            raise CrosswalkError(f"split commune {old!r} has {len(defaults)} default successors, not 1")
        for t in targets:
            rows.append((f"legacy:{old_code[old]}", new_key(t["newWardKey"]), "split",
                         bool(t.get("isDefaultNewWard"))))
    df = pd.DataFrame(rows, columns=CROSSWALK_COLUMNS[:-1])
    df["source"] = source
    twice = df[df.duplicated(["old_unit_key", "new_unit_key"], keep=False)]
    if not twice.empty:
        raise CrosswalkError(f"converter lists old → new pairs twice: {twice.head(10).to_dict('records')}")
    both = set(df.loc[df["relation"] == "whole", "old_unit_key"]) & set(df.loc[df["relation"] == "split", "old_unit_key"])
    if both:
        raise CrosswalkError(f"communes both whole and split in the converter: {sorted(both)[:10]}")
    many_whole = df[(df["relation"] == "whole") & df["old_unit_key"].duplicated(keep=False)]
    if not many_whole.empty:
        raise CrosswalkError(f"communes that went whole into several new communes: "
                             f"{sorted(set(many_whole['old_unit_key']))[:10]}")
    mapped = set(df["old_unit_key"])
    unmapped = legacy[~legacy["wardCode"].map(lambda c: f"legacy:{c}").isin(mapped)]
    if not unmapped.empty:
        names = [f"{r.ward} ({r.district}, {r.wardCode})" for r in unmapped.head(10).itertuples()]
        raise CrosswalkError(f"{len(unmapped)} legacy commune(s) of province {province_code} have no "
                             f"2025 successor in {CONVERTER_FILE}: {', '.join(names)}")
    return df.sort_values(["old_unit_key", "new_unit_key"], kind="mergesort").reset_index(drop=True)


def national_crosswalk_frame(province_codes: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """The crosswalks of every province of `province_codes` (ascending), one after the
    other (:func:`crosswalk_frame`): a legacy commune belongs to one province, so the
    rows do not overlap."""
    if not province_codes:
        raise ValueError("a national crosswalk needs at least one province")
    return pd.concat([crosswalk_frame(code) for code in sorted(province_codes)], ignore_index=True)


def _db_records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict("records")


def load_dim_unit(engine, cfg: Settings, province_codes: tuple[str, ...] | None = None) -> int:
    """Replace dim_unit and dim_unit_crosswalk with the reference data of the configured
    province (idempotent); returns the number of units. With `province_codes` (a
    national deployment), the national table of those provinces and their crosswalks
    instead (:func:`national_unit_frame`, :func:`national_crosswalk_frame`), with the
    dates of `cfg`."""
    if province_codes is None:
        df = unit_frame(cfg)
        crosswalk = crosswalk_frame(cfg.province.code)
    else:
        r = cfg.reform
        df = national_unit_frame(tuple(province_codes), r.last_day_three_tier, r.first_day_two_tier,
                                 cfg.series.data_from)
        crosswalk = national_crosswalk_frame(tuple(province_codes))
    with engine.begin() as conn:
        conn.execute(dim_unit_crosswalk.delete())
        conn.execute(dim_unit.delete())
        conn.execute(dim_unit.insert(), _db_records(df))
        conn.execute(dim_unit_crosswalk.insert(), _db_records(crosswalk[CROSSWALK_COLUMNS]))
    return len(df)
