"""How many people a unit serves, relative to a Hà Nội unit of the same level: the
factor its rates are multiplied by (:func:`volume_factor`).

`vietnamadminunits` carries no population, so the proxy is the one it does carry: the
number of 2025 communes. The 2025 arrangement sized the new communes by population
(Nghị quyết 76/2025/UBTVQH15 sets a floor per kind of commune), so a province's
population is taken as proportional to its number of 2025 communes, and spread evenly
over its units of each level:

- a 2025 commune serves as many people as a Hà Nội one;
- the province serves its 2025 communes' people: n2025 / n2025(Hà Nội);
- a legacy commune, its province's people over its legacy communes:
  (n2025 / n_legacy) / (n2025 / n_legacy)(Hà Nội); a district likewise over the
  districts (the legacy units of every province the 2025 one was formed from).

Counted this way the country would be 26 Hà Nội (3,321 / 126 communes), but Hà Nội's
communes are the most populous: the country has about 101 million people, Hà Nội about
8.7 million (≈ 11.6 ×). Every unit outside Hà Nội is therefore also multiplied by
:data:`OTHER_PROVINCES_DENSITY` = 11.6 / 26.4 ≈ 0.44. Hà Nội's factor is exactly 1, so
its sources are those the generator wrote before it knew other provinces.
"""
from __future__ import annotations

import functools

from simulators.core import Unit, province_code, province_units

REFERENCE_PROVINCE = "01"            # Hà Nội: the rates of simulators.model.profiles are its units'
OTHER_PROVINCES_DENSITY = 0.44       # people per 2025 commune elsewhere / in Hà Nội (see above)


@functools.lru_cache(maxsize=64)
def _units_per_level(code: str) -> tuple[int, int, int]:
    """(2025 communes, legacy communes, legacy districts) of province `code`."""
    units = province_units(code).values()
    return (sum(u.level == "xa" and u.scheme == "2025" for u in units),
            sum(u.level == "xa" and u.scheme == "legacy" for u in units),
            sum(u.level == "huyen" for u in units))


def volume_factor(unit: Unit, province: str | None = None) -> float:
    """What `unit`'s rates are multiplied by (1.0 for every Hà Nội unit): its level's
    share of the province's population proxy over that of a Hà Nội unit."""
    code = province or province_code()
    if code == REFERENCE_PROVINCE:
        return 1.0
    n_new, n_legacy, n_districts = _units_per_level(code)
    ref_new, ref_legacy, ref_districts = _units_per_level(REFERENCE_PROVINCE)
    if unit.level == "tinh":
        share = n_new / ref_new
    elif unit.level == "huyen":
        share = (n_new / n_districts) / (ref_new / ref_districts)
    elif unit.scheme == "legacy":
        share = (n_new / n_legacy) / (ref_new / ref_legacy)
    else:
        share = 1.0
    return OTHER_PROVINCES_DENSITY * share
