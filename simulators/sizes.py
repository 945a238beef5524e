"""Named size classes of the generated sources (``python -m simulators.generate --size``)
and the provinces a run covers.

| size | what |
|---|---|
| ``sample`` | per province: its first legacy district (by code) with its first two communes, the 2025 communes that succeed them, the province's own service |
| ``province`` | every unit of each province asked for (the default) |
| ``national`` | ``province`` for all 34 provinces (``--provinces all``) |

Their records, time and memory as measured: docs/simulated-sources.md.

A size sets the selection; the provinces come from ``--province CODE`` (default: the
configured one, Hà Nội) or ``--provinces 01,48`` / ``all`` — ``national`` means all.
"""
from __future__ import annotations

from dataclasses import dataclass

from simulators.core import province_units
from warehouse.units import province_codes

SIZES = ("sample", "province", "national")
SAMPLE_COMMUNES = 2


@dataclass(frozen=True)
class Plan:
    provinces: tuple[str, ...]          # province codes, ascending
    per_province_folders: bool          # several provinces: DIR/<code>/ each
    districts: dict[str, list[str] | None]   # per province: the districts selected (None: all)
    communes_per_district: int | None


def plan(size: str | None, province: str | None, provinces: str | None, default_province: str | None,
         districts: list[str] | None = None, communes_per_district: int | None = None) -> Plan:
    """What a run covers. `provinces` is "all" or a comma-separated list; with `province`
    (one code) the sources go to the output folder itself, as they always have. Raises
    ValueError on an unknown code or conflicting options."""
    size = size or "province"
    if size not in SIZES:
        raise ValueError(f"unknown --size {size!r} (use {', '.join(SIZES)})")
    known = province_codes()
    if province and provinces:
        raise ValueError("give --province or --provinces, not both")
    if size == "national":
        if province or (provinces and provinces != "all"):
            raise ValueError("--size national covers all 34 provinces: leave out --province/--provinces")
        provinces = "all"
    if provinces:
        codes = known if provinces == "all" else tuple(sorted({c.strip().zfill(2) for c in provinces.split(",")
                                                                if c.strip()}))
        several = True
    else:
        if not (province or default_province):
            raise ValueError("the configuration names no province (a national deployment): give --province, "
                             "--provinces or --size national")
        codes, several = ((province or default_province).zfill(2),), False
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValueError(f"unknown province code(s) {', '.join(unknown)}: after 01/07/2025 the provinces are "
                         f"{', '.join(known)}")
    if size == "sample":
        if districts or communes_per_district:
            raise ValueError("--size sample chooses the districts and communes itself")
        chosen = {c: [_first_district(c)] for c in codes}
        return Plan(codes, several, chosen, SAMPLE_COMMUNES)
    if districts and several:
        raise ValueError("--districts selects districts of one province: use --province")
    return Plan(codes, several, {c: districts for c in codes}, communes_per_district)


def _first_district(code: str) -> str:
    return min(u.code for u in province_units(code).values() if u.level == "huyen")
