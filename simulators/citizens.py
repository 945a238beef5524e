"""Fake citizens: Vietnamese names, addresses in the province, CCCD numbers, mobile numbers.

The word lists start from Faker's ``vi_VN`` providers and are extended with common
Vietnamese names and Hà Nội streets. Names are composed here in Vietnamese order
(họ – đệm – tên) with our own seeded streams rather than by calling Faker: Faker's
vi_VN formats put the given name first, and one Faker call per citizen would make the
full run several times slower and tie the output to Faker's internal RNG.

CCCD numbers (12 digits): province-of-birth code (001 = Hà Nội; elsewhere the codes of
the provinces the 2025 province was formed from, :func:`birth_provinces`), a sex/century digit
(0/1 = man/woman born 1900–1999, 2/3 = born 2000–2099), the 2-digit birth year and 6
digits. The 6 digits are a scrambled (unit slot, serial) pair, so two simulated people
never share an ID number even though every unit draws its citizens independently:
de-duplication and pseudonym matching stay unambiguous.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from faker.providers.address import vi_VN as faker_address
from faker.providers.person import vi_VN as faker_person
from vietnamadminunits.database import query

from simulators.core import (
    FIRST_2025,
    Rng,
    Unit,
    Weighted,
    all_units,
    per_province,
    province_code,
    province_key,
    short_name,
    stable_int,
    unit_slots,
)
from simulators.population import REFERENCE_PROVINCE


@dataclass(frozen=True, slots=True)
class Citizen:
    full_name: str
    id_number: str      # CCCD, 12 digits
    address: str
    phone: str          # 10 digits, no separators (registers may format it)


def _merge(*lists) -> list[str]:
    seen, out = set(), []
    for lst in lists:
        for x in lst:
            if x not in seen:
                seen.add(x)
                out.append(x)
    return out


_P = faker_person.Provider
# Approximate national shares of family names (Nguyễn ~38 %, Trần ~11 %, ...).
_SURNAME_WEIGHTS = {
    "Nguyễn": 38, "Trần": 11, "Lê": 9.5, "Phạm": 7, "Hoàng": 4, "Phan": 4.5, "Vũ": 3.9, "Đặng": 2.1,
    "Bùi": 2, "Đỗ": 1.4, "Hồ": 1.3, "Ngô": 1.3, "Dương": 1, "Lý": 0.5, "Đinh": 1, "Trịnh": 0.9,
    "Đào": 0.8, "Lương": 0.5, "Mai": 0.5, "Tạ": 0.3, "Khuất": 0.2, "Kiều": 0.2, "Chu": 0.3,
    "Nghiêm": 0.2, "Lại": 0.2, "Cao": 0.4, "Hà": 0.4, "Võ": 0.6, "Đoàn": 0.4, "Tô": 0.2,
}
SURNAMES = Weighted([(s, _SURNAME_WEIGHTS.get(s, 0.3)) for s in _merge(_P.last_names, _SURNAME_WEIGHTS)])
MIDDLE_MALE = Weighted([("Văn", 30), ("Đức", 8), ("Minh", 8), ("Quang", 6), ("Hữu", 5), ("Xuân", 4),
                        ("Thanh", 4), ("Ngọc", 3), ("Tiến", 3), ("Mạnh", 3), ("Công", 3), ("Duy", 2),
                        ("Trọng", 2), ("Đình", 3), ("Bá", 2), ("Hoàng", 2), ("Hải", 2), ("Trí", 1),
                        ("Anh", 2), ("Tuấn", 1)])
MIDDLE_FEMALE = Weighted([("Thị", 45), ("Thu", 6), ("Ngọc", 5), ("Thanh", 5), ("Minh", 4), ("Phương", 3),
                          ("Hồng", 3), ("Kim", 3), ("Thúy", 2), ("Bích", 2), ("Lan", 1), ("Diệu", 1),
                          ("Hải", 1), ("Mai", 1), ("Quỳnh", 1)])
FIRST_MALE = _merge(_P.first_names_male, _P.first_names_unisex, [
    "Hùng", "Dũng", "Tuấn", "Cường", "Hải", "Long", "Sơn", "Thắng", "Toàn", "Khánh", "Đạt", "Huy",
    "Kiên", "Bình", "Thịnh", "Lợi", "Chiến", "Tùng", "Vinh", "Hiếu", "Đông", "Tâm", "Thuận", "Phong",
    "Hòa", "Thanh", "Quý", "Trường", "Việt", "Hoan", "Lâm", "Tiến", "Định", "Công", "Nghĩa", "Hưởng"])
FIRST_FEMALE = _merge(_P.first_names_female, _P.first_names_unisex, [
    "Hằng", "Nga", "Huyền", "Trang", "Dung", "Yến", "Nhung", "Loan", "Thủy", "Vân", "Oanh", "Liên",
    "Tuyết", "Xuân", "Thơm", "Hoa", "Quyên", "Thúy", "Hiền", "Phượng", "Hà", "Tâm", "Nhàn", "Lụa",
    "Thoa", "Duyên", "Gấm", "Ánh"])
# Hà Nội streets in addition to Faker's national list of famous street names.
STREETS = _merge(faker_address.Provider.streets, [
    "Hàng Bông", "Hàng Bạc", "Hàng Gai", "Kim Mã", "Đội Cấn", "Láng Hạ", "Giải Phóng", "Tây Sơn",
    "Xã Đàn", "Cầu Giấy", "Hoàng Quốc Việt", "Phạm Văn Đồng", "Trường Chinh", "Minh Khai", "Bạch Mai",
    "Kim Ngưu", "Tam Trinh", "Lĩnh Nam", "Nguyễn Văn Linh", "Ngọc Lâm", "Nguyễn Sơn", "Âu Cơ",
    "Lạc Long Quân", "Thụy Khuê", "Văn Cao", "Hồ Tùng Mậu", "Xuân Thủy", "Quang Trung", "Tô Hiệu",
    "Phùng Hưng", "Thanh Bình", "Vạn Phúc", "Nguyễn Khang", "Khương Đình", "Vũ Tông Phan", "Định Công",
    "Kim Giang", "Ngọc Hồi", "Phúc Diễn", "Cầu Diễn", "Mỹ Đình", "Đình Thôn", "Phú Đô", "Hữu Hưng"])
HAMLETS = ["Thôn Đông", "Thôn Đoài", "Thôn Thượng", "Thôn Hạ", "Thôn Trung", "Thôn Nam", "Thôn Bắc",
           "Xóm Mới", "Xóm Chùa", "Xóm Đình", "Xóm Giữa", "Thôn Tiền", "Thôn Hậu", "Thôn Cầu"]
# CCCD province-of-birth codes: Hà Nội and the provinces most people move from.
BIRTH_PROVINCE = Weighted([("001", 72), ("034", 3), ("036", 3), ("035", 2.5), ("033", 2.5), ("030", 2),
                           ("037", 2), ("038", 2.5), ("040", 2), ("042", 1), ("027", 1.5), ("026", 1.5),
                           ("025", 1.5), ("024", 1), ("019", 1), ("017", 1), ("022", 0.5), ("031", 0.5)])
PHONE_PREFIX = Weighted([(p, 1) for p in (
    "086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039",   # Viettel
    "088", "091", "094", "081", "082", "083", "084", "085",                              # VinaPhone
    "089", "090", "093", "070", "076", "077", "078", "079",                              # MobiFone
    "092", "056", "058", "099", "059")])                                                 # others
# Birth years of adults who come to reception offices: mostly middle-aged and older.
_BIRTH_YEARS = list(range(1940, 2007))
BIRTH_YEAR = Weighted([(y, 1.0 if y < 1950 else 2.5 if y < 1975 else 2.0 if y < 1990 else 0.8)
                       for y in _BIRTH_YEARS])



@functools.lru_cache(maxsize=4)
def birth_provinces(code: str) -> tuple[Weighted, tuple]:
    """(the CCCD province-of-birth codes of province `code`'s citizens, what seeds the
    scramble of their serials). Hà Nội: BIRTH_PROVINCE. Elsewhere: the province's
    predecessors (their legacy code, weighted by their number of legacy communes), and
    the scramble seeded by the province too, so that a number of another province's
    citizen born in the same province (Hà Nội's 28 % born elsewhere) is another number."""
    if code == REFERENCE_PROVINCE:
        return BIRTH_PROVINCE, ()
    counts: dict[str, int] = {}
    for u in all_units().values():
        if u.level == "xa" and u.scheme == "legacy":
            prov = legacy_province_of(u)
            counts[prov] = counts.get(prov, 0) + 1
    return Weighted([(f"0{p}", n) for p, n in sorted(counts.items())]), (code,)


def legacy_province_of(unit: Unit) -> str:
    """The legacy province of a legacy commune or district, from the package's table (in
    the unit dimension a legacy district's parent is the 2025 province)."""
    return _legacy_province_by_district()[unit.parent_code if unit.level == "xa" else unit.code]


@functools.lru_cache(maxsize=1)
def _legacy_province_by_district() -> dict[str, str]:
    return {r["districtCode"]: r["provinceCode"] for r in query(
        "SELECT DISTINCT districtCode, provinceCode FROM admin_units_legacy")}


SERIAL_SLICE = 1400       # serials per unit per (province, sex/century, year) bucket
_SCRAMBLE_MUL = 738161   # x -> x*MUL + offset mod 10^6 is a bijection (MUL is coprime with 10)


@dataclass(frozen=True)
class Area:
    """Where the people of a unit live: (commune name, district name or None)."""
    places: tuple[tuple[str, str | None], ...]


def area_for(unit: Unit, day: dt.date) -> Area:
    """The communes a unit's citizens come from: its own commune; the communes of a
    district; for the city, every commune valid on that day."""
    units = all_units()
    if unit.level == "xa":
        return Area(((unit.name, unit.parent_name),))
    if unit.level == "huyen":
        return Area(tuple((u.name, u.parent_name) for u in sorted(units.values(), key=lambda u: u.code)
                          if u.level == "xa" and u.parent_code == unit.code))
    scheme = "2025" if day >= FIRST_2025 else "legacy"
    return Area(tuple((u.name, u.parent_name) for u in sorted(units.values(), key=lambda u: u.code)
                      if u.level == "xa" and u.scheme == scheme))


@per_province
def _forbidden_haystack() -> str:
    """Unit and street names: a generated personal name must not occur inside any of
    them, so a leak test that searches outputs for names never trips on a unit name."""
    names = [short_name(u.name) for u in all_units().values()] + [u.name for u in all_units().values()]
    return "\n".join(names + STREETS)


@per_province
def plant_slot() -> int:
    """The serial slot of the planted vượt cấp citizens (simulators.skip_level): the one
    after the units' slots, so their ID numbers never coincide with a unit's citizens."""
    slot = len(unit_slots())
    if (slot + 1) * serial_slice() > 1_000_000:
        raise ValueError("no CCCD serial slot left for planted citizens")
    return slot


@per_province
def serial_slice() -> int:
    """Serials per unit and bucket: SERIAL_SLICE, or fewer where the province has more
    than 713 units (Thanh Hóa: 740), so that every unit's slice, and the planted
    citizens', fit in the 6 digits. Hà Nội (683 units) keeps SERIAL_SLICE; a full bucket
    only sends the draw to another one."""
    return min(SERIAL_SLICE, 1_000_000 // (len(unit_slots()) + 1))


class CitizenFactory:
    """New citizens for one unit; serial counters carry over months (prefix-stable).
    ``slot``/``serials``: another serial slot and a shared counter (planted citizens,
    whose addresses are in `unit` but whose numbers come from ``plant_slot()``)."""

    def __init__(self, unit: Unit, *, slot: int | None = None, serials: dict | None = None):
        self.unit = unit
        self.slot = unit_slots()[unit.key] if slot is None else slot
        self.serials: dict[tuple[str, str, int], int] = {} if serials is None else serials
        self._areas: dict[bool, Area] = {}
        self._hay = _forbidden_haystack()
        self._births, self._scramble = birth_provinces(province_code())
        self._province = all_units()[province_key()].name
        self._ok_names: dict[str, bool] = {}
        self._slice = serial_slice()

    def _area(self, day: dt.date) -> Area:
        post = day >= FIRST_2025
        if post not in self._areas:
            self._areas[post] = area_for(self.unit, day)
        return self._areas[post]

    def _name(self, rng: Rng, female: bool) -> str:
        while True:
            sur = SURNAMES.draw(rng)
            if female:
                mid = MIDDLE_FEMALE.draw(rng)
                if rng.chance(0.1):
                    mid += " " + MIDDLE_FEMALE.draw(rng).replace("Thị", "Thu")
                name = f"{sur} {mid} {rng.pick(FIRST_FEMALE)}"
            else:
                mid = MIDDLE_MALE.draw(rng)
                name = f"{sur} {mid} {rng.pick(FIRST_MALE)}"
            ok = self._ok_names.get(name)
            if ok is None:
                parts = name.split(" ")
                ok = name not in self._hay and len(set(parts)) == len(parts)
                self._ok_names[name] = ok
            if ok:
                return name

    def _id_number(self, rng: Rng, female: bool) -> str:
        while True:
            prov = self._births.draw(rng)
            year = BIRTH_YEAR.draw(rng)
            sexcent = (0 if year < 2000 else 2) + (1 if female else 0)
            bucket = (prov, str(sexcent), year)
            n = self.serials.get(bucket, 0)
            if n < self._slice:
                self.serials[bucket] = n + 1
                six = (self.slot * self._slice + n) * _SCRAMBLE_MUL + stable_int("cccd", *self._scramble, *bucket)
                return f"{prov}{sexcent}{year % 100:02d}{six % 1_000_000:06d}"

    def _address(self, rng: Rng, day: dt.date) -> str:
        commune, district = rng.pick(self._area(day).places)
        tail = f"{commune}, {district}, {self._province}" if district else f"{commune}, {self._province}"
        if commune.startswith("Phường") or commune.startswith("Thị trấn"):
            street = rng.pick(STREETS)
            r = rng.u()
            if r < 0.45:
                head = f"Số {rng.randint(1, 300)} ngõ {rng.randint(1, 400)} phố {street}"
            elif r < 0.75:
                head = f"Số {rng.randint(1, 250)} phố {street}"
            elif r < 0.9:
                head = f"Số {rng.randint(1, 60)} ngách {rng.randint(1, 90)}/{rng.randint(1, 400)} phố {street}"
            else:
                head = f"Tổ dân phố {rng.randint(1, 30)}"
        else:
            head = rng.pick(HAMLETS) if rng.chance(0.6) else f"Thôn {rng.randint(1, 12)}"
        return f"{head}, {tail}"

    def _phone(self, rng: Rng) -> str:
        return PHONE_PREFIX.draw(rng) + f"{int(rng.u() * 10_000_000):07d}"

    def new(self, rng: Rng, day: dt.date) -> Citizen:
        female = rng.chance(0.46)
        return Citizen(self._name(rng, female), self._id_number(rng, female), self._address(rng, day),
                       self._phone(rng))


def format_phone(phone: str, style: int) -> str:
    """How registers write a phone number: 0912345678, 0912 345 678, 0912.345.678."""
    if style == 1:
        return f"{phone[:4]} {phone[4:7]} {phone[7:]}"
    if style == 2:
        return f"{phone[:4]}.{phone[4:7]}.{phone[7:]}"
    return phone



def record_pii(pii: set, c: Citizen | None) -> Citizen | None:
    """Add a citizen's personal values to the ground truth's PII list (what tests look
    for in outputs) and hand the citizen back; None for an anonymous petition."""
    if c is not None:
        pii.update((("name", c.full_name), ("address", c.address), ("id_number", c.id_number),
                    ("phone", c.phone)))
    return c
