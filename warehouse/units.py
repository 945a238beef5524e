"""The administrative-unit dimension (dim_unit), from the `vietnamadminunits` package.

Two schemes, each valid for a span of dates:

- ``legacy``: the three-tier units (tỉnh → huyện → xã) with national codes, valid until
  30/06/2025. The package carries the list in force just before the reform (after the
  2023–2024 commune rearrangements: 30 districts and 526 communes for Hà Nội); we take it
  as valid from 01/01/2020, a documented simplification (docs/adr/0003-units.md).
- ``2025``: the two-tier units (tỉnh → xã) valid from 01/07/2025 (126 for Hà Nội).

Commune codes are reused across the schemes (00004 was Phường Trúc Bạch and is now
Phường Ba Đình), so a unit is identified by scheme and code (``unit_key``) and a
record's unit code is resolved with its date.
"""
from __future__ import annotations

import datetime as dt
import functools

import pandas as pd

from pipeline import settings

LEGACY_FROM = dt.date(2020, 1, 1)


def _reform_dates() -> tuple[dt.date, dt.date]:
    r = settings.config()["reform"]
    return dt.date.fromisoformat(r["last_day_three_tier"]), dt.date.fromisoformat(r["first_day_two_tier"])


@functools.lru_cache(maxsize=4)
def unit_frame(province_code: str | None = None) -> pd.DataFrame:
    """Every unit of the province, both schemes, as rows of dim_unit."""
    from vietnamadminunits.database import query  # noqa: PLC0415 - reference data, lazy

    province_code = province_code or settings.config()["province"]["code"]
    if not province_code.isdigit():
        raise ValueError(f"invalid province code {province_code!r}")
    last_legacy, first_2025 = _reform_dates()
    legacy = pd.DataFrame(query(
        "SELECT DISTINCT province, provinceCode, district, districtType, districtCode, "
        "ward, wardType, wardCode FROM admin_units_legacy "
        f"WHERE provinceCode = '{province_code}'"))
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
        "valid_from": LEGACY_FROM, "valid_to": None, "source": source_new,
    }]
    districts = legacy.drop_duplicates("districtCode")
    for r in districts.itertuples():
        rows.append({
            "unit_key": f"legacy:{r.districtCode}", "unit_code": r.districtCode, "name": r.district,
            "unit_type": r.districtType, "level": "huyen", "parent_code": province_code,
            "parent_key": f"province:{province_code}", "scheme": "legacy",
            "valid_from": LEGACY_FROM, "valid_to": last_legacy, "source": source_legacy})
    for r in legacy.itertuples():
        rows.append({
            "unit_key": f"legacy:{r.wardCode}", "unit_code": r.wardCode, "name": r.ward,
            "unit_type": r.wardType, "level": "xa", "parent_code": r.districtCode,
            "parent_key": f"legacy:{r.districtCode}", "scheme": "legacy",
            "valid_from": LEGACY_FROM, "valid_to": last_legacy, "source": source_legacy})
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


def units_valid_on(day: dt.date, level: str | None = None) -> pd.DataFrame:
    df = unit_frame()
    mask = (df["valid_from"] <= day) & (df["valid_to"].isna() | (df["valid_to"] >= day))
    if level:
        mask &= df["level"] == level
    return df[mask]


def resolve_unit_keys(codes: pd.Series, dates: pd.Series) -> pd.Series:
    """The unit_key valid for each (code, date); NA where the code was not a unit then."""
    units = unit_frame()[["unit_key", "unit_code", "valid_from", "valid_to"]]
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


def load_dim_unit(engine) -> int:
    """Replace dim_unit with the reference data (idempotent)."""
    from warehouse.schema import dim_unit  # noqa: PLC0415

    df = unit_frame()
    with engine.begin() as conn:
        conn.execute(dim_unit.delete())
        conn.execute(dim_unit.insert(), df.astype(object).where(df.notna(), None).to_dict("records"))
    return len(df)
