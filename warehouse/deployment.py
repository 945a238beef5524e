"""What a deployment serves: one province (``province:`` in the configuration) or the
country (``national:``: the listed provinces, or all 34, in one warehouse with the
national level above them).

Everything that differs between the two asks here, so the rest of the code reads a
tuple of province codes and never the configuration's shape.
"""
from __future__ import annotations

import pandas as pd

from core.settings import Settings
from warehouse import units


def is_national(cfg: Settings) -> bool:
    return cfg.national is not None


def provinces(cfg: Settings) -> tuple[str, ...]:
    """The provinces served, ascending: ``(province.code,)``, or the national list
    (``all``: every province since 01/07/2025). Raises ValueError on a code that is not a
    province."""
    if cfg.national is None:
        return (cfg.province.code,)
    known = units.province_codes()
    if cfg.national.provinces == "all":
        return known
    codes = tuple(sorted(cfg.national.provinces))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValueError(f"national.provinces: {', '.join(unknown)} not a province since 01/07/2025 "
                         f"(the provinces are {', '.join(known)})")
    return codes


def title(cfg: Settings) -> str:
    """What the deployment covers, as printed: "Thành phố Hà Nội", or "Toàn quốc"."""
    return cfg.province.name if cfg.national is None else "Toàn quốc"



def unit_frame(cfg: Settings) -> pd.DataFrame:
    """The unit dimension served (rows of dim_unit): the province's
    (:func:`warehouse.units.unit_frame`), or the national level and every province's."""
    if cfg.national is None:
        return units.unit_frame(cfg)
    r = cfg.reform
    return units.national_unit_frame(provinces(cfg), r.last_day_three_tier, r.first_day_two_tier,
                                     cfg.series.data_from)


def crosswalk_frame(cfg: Settings) -> pd.DataFrame:
    """Old → new communes of every province served (dim_unit_crosswalk rows)."""
    if cfg.national is None:
        return units.crosswalk_frame(cfg.province.code)
    return units.national_crosswalk_frame(provinces(cfg))
