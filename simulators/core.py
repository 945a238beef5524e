"""Shared pieces of the simulators: stable randomness, the calendar, the units.

Determinism rules (docs/simulated-sources.md, "Determinism"):

- every random stream is seeded from ``(seed, unit key, stream name, period)`` through
  SHA-256, never from Python's ``hash()`` (salted per process) nor from the clock;
- streams are per unit and per month, so a subset run (``--districts``, ``--only``)
  produces exactly the records of the full run for the units it includes, and a later
  ``--end`` only appends records;
- nothing iterates over a ``set`` or an unordered mapping where order reaches output.
"""
from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import functools
import hashlib
import random
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from core import settings
from warehouse.units import CrosswalkError, crosswalk_frame, unit_frame

# --------------------------------------------------------------------------- dates
MODEL_START = dt.date(2021, 7, 1)       # the simulated systems hold data from here on
LAST_LEGACY = dt.date(2025, 6, 30)      # last day of the three-tier units
FIRST_2025 = dt.date(2025, 7, 1)        # first day of the two-tier units
CAL_START = dt.date(2021, 7, 1)         # the published city table (domain README §7)
CAL_END = dt.date(2025, 2, 28)
# The one fixed end of the data sets the tests and the benchmark generate (tests/,
# bench/run.py) where the demo ends on today: ending on the clock, they would grow, and
# the suite slow down, every day. Past every window they report on (2026-Q3, ending
# 14/09/2026, and the 9 tháng of 2026) and past CAL_END, so the calibration holds.
FIXED_END = dt.date(2026, 11, 30)
TZ = dt.timezone(dt.timedelta(hours=7))  # Asia/Ho_Chi_Minh, no DST

# Hà Nội's social-distancing months of 2021 (Chỉ thị 16): direct reception was mostly
# suspended, so activity drops and scheduled sittings are not held. Applied to every
# province (their own dates differed; a simplification, docs/simulated-sources.md).
DISTANCING = (dt.date(2021, 7, 24), dt.date(2021, 9, 20))
DISTANCING_FACTOR = 0.15


def _days(*spans: tuple[str, str]) -> list[dt.date]:
    out = []
    for a, b in spans:
        d, e = dt.date.fromisoformat(a), dt.date.fromisoformat(b)
        while d <= e:
            out.append(d)
            d += dt.timedelta(days=1)
    return out


# Official days off (approximate; Tết and Giỗ Tổ follow the lunar calendar, swaps
# follow the yearly government notices). Reception offices are closed on these days.
HOLIDAYS = frozenset(_days(
    ("2021-01-01", "2021-01-01"), ("2021-02-10", "2021-02-16"), ("2021-04-21", "2021-04-21"),
    ("2021-04-30", "2021-05-03"), ("2021-09-02", "2021-09-03"),
    ("2022-01-03", "2022-01-03"), ("2022-01-31", "2022-02-04"), ("2022-04-11", "2022-04-11"),
    ("2022-05-02", "2022-05-03"), ("2022-09-01", "2022-09-02"),
    ("2023-01-02", "2023-01-02"), ("2023-01-20", "2023-01-26"), ("2023-05-01", "2023-05-03"),
    ("2023-09-01", "2023-09-04"),
    ("2024-01-01", "2024-01-01"), ("2024-02-08", "2024-02-14"), ("2024-04-18", "2024-04-18"),
    ("2024-04-29", "2024-05-01"), ("2024-09-02", "2024-09-03"),
    ("2025-01-01", "2025-01-01"), ("2025-01-27", "2025-01-31"), ("2025-04-07", "2025-04-07"),
    ("2025-04-30", "2025-05-02"), ("2025-09-01", "2025-09-02"),
    ("2026-01-01", "2026-01-02"), ("2026-02-16", "2026-02-20"), ("2026-04-27", "2026-04-27"),
    ("2026-04-30", "2026-05-01"), ("2026-09-01", "2026-09-02"),
    ("2027-01-01", "2027-01-01"), ("2027-02-04", "2027-02-10"), ("2027-04-16", "2027-04-16"),
    ("2027-04-30", "2027-05-03"), ("2027-09-02", "2027-09-03"),
))


def is_working_day(d: dt.date) -> bool:
    return d.weekday() < 5 and d not in HOLIDAYS


@functools.lru_cache(maxsize=None)
def working_days(year: int, month: int) -> tuple[dt.date, ...]:
    d = dt.date(year, month, 1)
    out = []
    while d.month == month:
        if is_working_day(d):
            out.append(d)
        d += dt.timedelta(days=1)
    return tuple(out)


def next_working_day(d: dt.date) -> dt.date:
    while not is_working_day(d):
        d += dt.timedelta(days=1)
    return d


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th given weekday (0 = Monday) of a month: "the Tuesday of the third week"
    is read as the third Tuesday, the usual reading of Vietnamese schedules."""
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def in_distancing(d: dt.date) -> bool:
    return DISTANCING[0] <= d <= DISTANCING[1]


def months(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return nxt - dt.timedelta(days=1)


def end_of_day(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time(23, 59, 59))


# --------------------------------------------------------------------------- randomness
def stable_int(*parts: object) -> int:
    """A 63-bit integer from the parts, identical on every machine and process."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class Rng:
    """One random stream. Python's Mersenne Twister for per-record draws (fast scalar
    calls, stable across versions for seeded ints), numpy for Poisson/multinomial."""

    __slots__ = ("seed", "r", "_np")

    def __init__(self, *parts: object):
        self.seed = stable_int(*parts)
        self.r = random.Random(self.seed)
        self._np = None

    @property
    def np(self) -> np.random.Generator:
        if self._np is None:
            self._np = np.random.default_rng(self.seed)
        return self._np

    def u(self) -> float:
        return self.r.random()

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def randint(self, a: int, b: int) -> int:
        """Uniform integer in [a, b]."""
        return a + int(self.r.random() * (b - a + 1))

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.r.random()

    def pick(self, seq):
        return seq[int(self.r.random() * len(seq))]

    def poisson(self, lam: float) -> int:
        return int(self.np.poisson(lam)) if lam > 0 else 0


class Weighted:
    """A fixed weighted choice (cumulative weights + bisect: far faster than
    numpy.choice with p= for one draw at a time)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs):
        self.items = [p[0] for p in pairs]
        acc, self.cum = 0.0, []
        for _, w in pairs:
            acc += w
            self.cum.append(acc)
        self.total = acc

    def draw(self, rng: Rng):
        i = bisect.bisect_right(self.cum, rng.u() * self.total)
        return self.items[min(i, len(self.items) - 1)]


# --------------------------------------------------------------------------- text
def strip_accents(text: str) -> str:
    s = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in s if unicodedata.category(ch) != "Mn")


_TYPE_PREFIX = re.compile(r"^(Phường|Xã|Thị trấn|Đặc khu|Quận|Huyện|Thị xã|Thành phố)\s+")


def short_name(name: str) -> str:
    """"Phường Trúc Bạch" → "Trúc Bạch"."""
    return _TYPE_PREFIX.sub("", name)


def slugify(name: str) -> str:
    """"Phường Trúc Bạch" → "truc-bach" (the file-name slug of the contract's example)."""
    return re.sub(r"[^a-z0-9]+", "-", strip_accents(short_name(name)).lower()).strip("-")


# --------------------------------------------------------------------------- units
@dataclass(frozen=True)
class Unit:
    key: str                   # unit_key of dim_unit: "province:01", "legacy:00004", "2025:00004"
    code: str
    name: str
    unit_type: str
    level: str                 # tinh | huyen | xa
    scheme: str                # province | legacy | 2025
    parent_code: str | None
    parent_name: str | None    # the district of a legacy commune
    valid_from: dt.date
    valid_to: dt.date | None

    @property
    def slug(self) -> str:
        return slugify(self.name)

    def model_range(self, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
        """[first, last] day the generator simulates for this unit. The model always
        begins at MODEL_START (or earlier if --start is earlier) and --start only
        filters the output, so a later --start yields a subset of the same records."""
        lo = max(min(start, MODEL_START), self.valid_from)
        hi = min(end, self.valid_to or end)
        return (lo, hi) if lo <= hi else None


# The province the generator is simulating (use_province); None: the configured one
# (province.code of config/pipeline.yaml, Hà Nội). Module state rather than an argument
# threaded through every function of the model: one process simulates one province at a
# time (simulators.generate sets it before forking its workers, and each task again).
_province: str | None = None
_per_province_caches: list = []


def per_province(fn):
    """Cache `fn` (a plan or list drawn from the whole unit list of the province) for
    the province being simulated: :func:`use_province` empties the cache when the
    province changes."""
    cached = functools.lru_cache(maxsize=None)(fn)
    _per_province_caches.append(cached)
    return cached


def use_province(code: str | None) -> str:
    """Simulate province `code` from now on (None: the configured province); returns it."""
    _set_province(code)
    return province_code()


def _set_province(code: str | None) -> None:
    global _province
    if code != _province:
        for cached in _per_province_caches:
            cached.cache_clear()
    _province = code


@contextlib.contextmanager
def simulating(code: str | None):
    """Simulate province `code` inside the block (yields its code), then the province
    simulated before it again."""
    previous = _province
    try:
        yield use_province(code)
    finally:
        # Restored without resolving it: under a national configuration, which names no
        # province, "none" is a valid state between provinces.
        _set_province(previous)


def configured_province() -> str | None:
    """The configuration's province (None in a national deployment, which names none)."""
    province = settings.get().province
    return province.code if province is not None else None


def province_code() -> str:
    """The national code of the province being simulated ("01", "48", …)."""
    code = _province or configured_province()
    if code is None:
        raise RuntimeError("no province is being simulated and the configuration names none (a national "
                           "deployment): simulate one inside simulating(code)")
    return code


def province_key() -> str:
    """The dim_unit key of the province being simulated ("province:01")."""
    return f"province:{province_code()}"


def all_units() -> dict[str, Unit]:
    """Every unit of the simulated province (:func:`province_code`) by key, from the
    project's reference data (warehouse.units): the province, the legacy districts and
    communes of every province it was formed from, its 2025 communes."""
    return province_units(province_code())


@functools.lru_cache(maxsize=4)
def province_units(code: str) -> dict[str, Unit]:
    """Every unit of province `code` by key (see :func:`all_units`)."""
    df = unit_frame(settings.get(), province_code=code)
    names = dict(zip(df["unit_key"], df["name"]))
    out = {}
    for r in df.sort_values("unit_key").itertuples():
        parent_key = r.parent_key if isinstance(r.parent_key, str) else None
        out[r.unit_key] = Unit(
            key=r.unit_key, code=r.unit_code, name=r.name, unit_type=r.unit_type, level=r.level,
            scheme=r.scheme, parent_code=r.parent_code if isinstance(r.parent_code, str) else None,
            parent_name=names.get(parent_key) if parent_key and r.level == "xa" and r.scheme == "legacy" else None,
            valid_from=r.valid_from, valid_to=r.valid_to if isinstance(r.valid_to, dt.date) else None)
    return out


def unit_slots() -> dict[str, int]:
    """A stable small integer per unit (sorted unit keys), used to give every unit its
    own slice of the CCCD serial space so generated ID numbers never collide."""
    return _unit_slots(province_code())


@functools.lru_cache(maxsize=4)
def _unit_slots(code: str) -> dict[str, int]:
    return {k: i for i, k in enumerate(sorted(province_units(code)))}


def units_of(level: str, scheme: str | None = None) -> list[Unit]:
    return sorted((u for u in all_units().values() if u.level == level and (scheme is None or u.scheme == scheme)),
                  key=lambda u: u.code)


def new_commune_predecessors() -> dict[str, tuple[str, ...]]:
    """{2025 commune code: legacy commune codes that went (wholly or partly) into it},
    from the old→new crosswalk of the project's reference data (warehouse.units, from
    `vietnamadminunits`). Used only to decide which 2025 communes a `--districts` subset
    includes."""
    return _new_commune_predecessors(province_code())


@functools.lru_cache(maxsize=4)
def _new_commune_predecessors(code: str) -> dict[str, tuple[str, ...]]:
    units = province_units(code)
    preds: dict[str, set[str]] = {u.code: set() for u in units.values() if u.scheme == "2025"}
    try:
        for old, new in crosswalk_frame(code)[["old_unit_key", "new_unit_key"]].itertuples(index=False):
            preds[units[new].code].add(units[old].code)
    except CrosswalkError:                  # converter table incomplete: fall back to code reuse
        pass
    legacy_codes = {u.code for u in units.values() if u.scheme == "legacy" and u.level == "xa"}
    for c, s in preds.items():
        if not s and c in legacy_codes:
            s.add(c)
    return {c: tuple(sorted(s)) for c, s in sorted(preds.items())}


def populated_districts() -> list[Unit]:
    """The legacy districts with communes. A district without any in the package's table
    (Hoàng Sa, Bạch Long Vĩ, Cồn Cỏ, Lý Sơn, Côn Đảo) is not simulated: no commune for its
    citizens to live in, no database written."""
    with_communes = {u.parent_code for u in units_of("xa", "legacy")}
    return [u for u in units_of("huyen", "legacy") if u.code in with_communes]


@dataclass(frozen=True)
class Selection:
    city: bool
    districts: tuple[Unit, ...]          # district databases to write
    communes: tuple[Unit, ...]           # commune registers to write (legacy and 2025)


def select_units(districts: list[str] | None = None, communes_per_district: int | None = None,
                 only: list[str] | None = None) -> Selection:
    """The units a run writes. `districts` limits the district databases and the legacy
    communes (first N per district with `communes_per_district`); a 2025 commune is
    included when one of its legacy predecessors is. `only` ∈ city, districts, communes."""
    aliases = {"district": "districts", "commune": "communes"}
    kinds = {aliases.get(k, k) for k in (only or ["city", "districts", "communes"])}
    bad = kinds - {"city", "districts", "communes"}
    if bad:
        raise ValueError(f"unknown --only value(s): {', '.join(sorted(bad))} (use city, districts, communes)")
    all_d = populated_districts()
    known = {u.code for u in all_d}
    if districts:
        missing = [c for c in districts if c not in known]
        if missing:
            raise ValueError(f"unknown district code(s): {', '.join(missing)}")
        sel_d = [u for u in all_d if u.code in set(districts)]
    else:
        sel_d = all_d
    legacy = []
    for d in sel_d:
        cs = [u for u in units_of("xa", "legacy") if u.parent_code == d.code]
        legacy.extend(cs[:communes_per_district] if communes_per_district else cs)
    if districts is None and communes_per_district is None:
        new = units_of("xa", "2025")
    else:
        legacy_codes = {u.code for u in legacy}
        preds = new_commune_predecessors()
        new = [u for u in units_of("xa", "2025") if legacy_codes & set(preds.get(u.code, ()))]
    return Selection(
        city="city" in kinds,
        districts=tuple(sel_d) if "districts" in kinds else (),
        communes=tuple(sorted(legacy, key=lambda u: u.code) + new) if "communes" in kinds else ())


def at_office_hours(d: dt.date, rng: Rng) -> dt.datetime:
    """A moment within office hours (07:30–17:00) of day d."""
    return dt.datetime.combine(d, dt.time(7, 30)) + dt.timedelta(seconds=rng.randint(0, 34200))
