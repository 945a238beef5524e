"""A month's skeleton at a unit: its receptions (date, mode, receiver, sitting, people)
and petitions drawn from the unit's rates (:func:`month_skeleton`), the city's skeleton
calibrated to its published figures (:func:`city_calibrated_skeleton`), and the number of
people a reception brings (:func:`draw_people`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from simulators.core import (
    CAL_END,
    CAL_START,
    DISTANCING_FACTOR,
    Rng,
    Unit,
    Weighted,
    in_distancing,
    months,
    next_working_day,
    nth_weekday,
    working_days,
)
from simulators.model.profiles import Profile, profile_for
from simulators.vocabulary import DEPUTY, GROUP_MIN, HEAD, PERIODIC, REGULAR, STAFF, UNSCHEDULED

NON_GROUP_REGULAR = Weighted([(1, 0.66), (2, 0.24), (3, 0.07), (4, 0.03)])
# At the city leaders' sittings families and neighbours come together more often (the
# published table has 1,754 people on 702 records); local sittings are closer to regular.
NON_GROUP_SITTING = Weighted([(1, 0.40), (2, 0.30), (3, 0.18), (4, 0.12)])
NON_GROUP_SITTING_LOCAL = Weighted([(1, 0.55), (2, 0.28), (3, 0.11), (4, 0.06)])


def group_size(rng: Rng, mean_extra: float) -> int:
    """5 or more; most groups are small, a few large (capped at 40)."""
    return min(40, GROUP_MIN + int(rng.np.exponential(mean_extra)))


def draw_people(rng: Rng, p_group: float, sitting: bool, city: bool = False) -> int:
    if rng.chance(p_group):
        return group_size(rng, (4.0 if city else 2.5) if sitting else 1.2)
    if not sitting:
        return NON_GROUP_REGULAR.draw(rng)
    return (NON_GROUP_SITTING if city else NON_GROUP_SITTING_LOCAL).draw(rng)


def nudge(values: np.ndarray, target: int, lo: int, hi: int, rng: Rng) -> np.ndarray:
    """Move values by ±1 (within [lo, hi]) until they sum to target exactly."""
    values = values.copy()
    if not lo * len(values) <= target <= hi * len(values):
        raise ValueError(f"cannot reach {target} with {len(values)} values in [{lo}, {hi}]")
    diff = int(target - values.sum())
    while diff:
        step = 1 if diff > 0 else -1
        cand = np.flatnonzero(values < hi) if step > 0 else np.flatnonzero(values > lo)
        k = min(abs(diff), len(cand))
        values[rng.np.choice(cand, k, replace=False)] += step
        diff -= step * k
    return values


@dataclass(slots=True)
class Skel:
    date: dt.date
    mode: str
    receiver: str
    sitting: object          # sitting key within the unit (date + receiver, or city id)
    people: int


def sittings_of_month(profile: Profile, rng: Rng, y: int, m: int) -> list[tuple[dt.date, str, float]]:
    """(date, receiver, weight) of the scheduled sittings of a month: commune weekly,
    district twice a month, city monthly on the third Tuesday (plus, some months, an
    extra sitting held by a deputy). None while reception was suspended (2021)."""
    out = []
    if profile.level in ("commune", "commune2025"):
        d = nth_weekday(y, m, profile.weekday, 1)
        while d.month == m:
            out.append((next_working_day(d), DEPUTY if rng.chance(profile.p_deputy) else HEAD, 1.0))
            d += dt.timedelta(days=7)
    elif profile.level == "district":
        for n in (2, 4):
            out.append((next_working_day(nth_weekday(y, m, profile.weekday, n)),
                        DEPUTY if rng.chance(profile.p_deputy) else HEAD, 1.0))
    else:
        out.append((next_working_day(nth_weekday(y, m, 1, 3)), DEPUTY if rng.chance(profile.p_deputy) else HEAD, 1.0))
        if rng.chance(0.3):
            out.append((next_working_day(nth_weekday(y, m, 3, 4)), DEPUTY, 0.6))
    return [s for s in out if s[0].month == m and not in_distancing(s[0])]


def _day_weights(days) -> np.ndarray:
    return np.array([DISTANCING_FACTOR if in_distancing(d) else 1.0 for d in days])


def month_skeleton(profile: Profile, rng: Rng, y: int, m: int, boost=None, province: str = "01") -> list[Skel]:
    """Receptions of one month from the unit's rates (all days of the month: records
    after --end are cut later, so the draws do not depend on --end). ``boost(day)``
    multiplies the rates of a day (the outlier quarter of simulators.defects);
    `province` names the province's sittings (its code)."""
    days = working_days(y, m)
    if not days:
        return []
    w = _day_weights(days)
    if boost is not None:
        w = w * np.array([boost(d) for d in days])
    out: list[Skel] = []
    city = profile.level == "city"
    n = rng.poisson(profile.regular * w.sum() / 21.0)
    for i in sorted(rng.np.choice(len(days), n, p=w / w.sum()).tolist()):
        out.append(Skel(days[i], REGULAR, STAFF, None, draw_people(rng, profile.p_group_regular, False)))
    sittings = sittings_of_month(profile, rng, y, m)
    sitting_days = {s[0] for s in sittings}
    for d, receiver, weight in sittings:
        if boost is not None:
            weight *= boost(d)
        key = city_sitting_id(d, PERIODIC, province) if city else (d, receiver)
        for _ in range(rng.poisson(profile.sitting_mean * weight)):
            out.append(Skel(d, PERIODIC, receiver, key, draw_people(rng, profile.p_group_sitting, True, city)))
    free = [d for d in days if d not in sitting_days and not in_distancing(d)]
    for _ in range(rng.poisson(profile.unscheduled)):
        if not free:
            break
        d = rng.pick(free)
        free.remove(d)    # one unscheduled event a day: its sitting key stays unique
        key = city_sitting_id(d, UNSCHEDULED, province) if city else (d, HEAD)
        for _ in range(1 + rng.poisson(0.8)):
            out.append(Skel(d, UNSCHEDULED, HEAD, key, draw_people(rng, profile.p_group_sitting, True, city)))
    out.sort(key=lambda s: s.date)
    return out


def city_sitting_id(d: dt.date, mode: str, province: str = "01") -> str:
    return f"{'KT' if mode == PERIODIC else 'DX'}-{province}-{d:%Y%m%d}"


# The published figures the city's own receptions must reproduce (domain README §7),
# and the province they are Hà Nội's.
CALIBRATED_PROVINCE = "province:01"
CALIBRATION = {
    "regular_records": 8656, "regular_people": 14015,
    "regular_group_records": 280, "regular_group_people": 1527,
    "periodic_records": 702, "periodic_people": 1754, "periodic_group_records": 47,
}


def city_calibrated_skeleton(seed: int) -> dict[tuple[int, int], list[Skel]]:
    """The city's official receptions of 01/07/2021–28/02/2025, drawn as a whole so the
    published totals hold exactly: dates spread over working days, đoàn chosen at
    random, people drawn then nudged by ±1 to the exact sums (regular non-đoàn 1–4,
    đoàn 5–40). All 702 leader receptions are periodic, at the monthly sitting on the
    third Tuesday (head or deputy) or at a deputy's extra sitting."""
    c = CALIBRATION
    rng = Rng(seed, "province:01", "calibration")
    profile = profile_for_city()
    days = [d for y, m in months(CAL_START, CAL_END) for d in working_days(y, m) if CAL_START <= d <= CAL_END]
    w = _day_weights(days)
    per_day = rng.np.multinomial(c["regular_records"], w / w.sum())
    reg_dates = [d for d, k in zip(days, per_day.tolist()) for _ in range(k)]
    n = len(reg_dates)
    is_group = np.zeros(n, bool)
    is_group[rng.np.choice(n, c["regular_group_records"], replace=False)] = True
    people = np.zeros(n, np.int64)
    for i in range(n):
        people[i] = group_size(rng, 0.6) if is_group[i] else NON_GROUP_REGULAR.draw(rng)
    people[is_group] = nudge(people[is_group], c["regular_group_people"], GROUP_MIN, 40, rng)
    people[~is_group] = nudge(people[~is_group], c["regular_people"] - c["regular_group_people"], 1, 4, rng)

    sittings = []
    for y, m in months(CAL_START, CAL_END):
        sittings.extend(sittings_of_month(profile, rng, y, m))
    sw = np.array([s[2] for s in sittings])
    per_sitting = rng.np.multinomial(c["periodic_records"], sw / sw.sum())
    per = [(s[0], s[1]) for s, k in zip(sittings, per_sitting.tolist()) for _ in range(k)]
    np_ = len(per)
    p_group = np.zeros(np_, bool)
    p_group[rng.np.choice(np_, c["periodic_group_records"], replace=False)] = True
    p_people = np.zeros(np_, np.int64)
    for i in range(np_):
        p_people[i] = group_size(rng, 3.0) if p_group[i] else NON_GROUP_SITTING.draw(rng)
    group_sum = int(p_people[p_group].sum())
    p_people[~p_group] = nudge(p_people[~p_group], c["periodic_people"] - group_sum, 1, 4, rng)

    out: dict[tuple[int, int], list[Skel]] = {}
    for d, k in zip(reg_dates, people.tolist()):
        out.setdefault((d.year, d.month), []).append(Skel(d, REGULAR, STAFF, None, k))
    for (d, receiver), k in zip(per, p_people.tolist()):
        out.setdefault((d.year, d.month), []).append(Skel(d, PERIODIC, receiver, city_sitting_id(d, PERIODIC), k))
    for v in out.values():
        v.sort(key=lambda s: s.date)      # stable: regular before periodic on a day
    return out


def profile_for_city() -> Profile:
    return profile_for(Unit("province:01", "01", "Thành phố Hà Nội", "Thành phố", "tinh", "province",
                            None, None, dt.date(2020, 1, 1), None), 0)
