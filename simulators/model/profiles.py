"""A unit's rates and its source's habits (:class:`Profile`, drawn once per unit from
its profile stream by :func:`profile_for`), and the noise of the database-backed sources
(:class:`Noise`: drafts, corrections, deletions, double entries).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from simulators.core import Rng, Unit
from simulators.population import volume_factor


@dataclass(frozen=True)
class Profile:
    """Rates of one unit (per month of ~21 working days) and its source's habits."""
    level: str                    # commune | commune2025 | district | city
    regular: float                # regular receptions per month
    sitting_mean: float           # records per scheduled sitting
    unscheduled: float            # unscheduled reception events per month
    petitions: float              # petitions per month not arising from a reception
    p_pet_from_rec: float         # share of receptions that also lodge a petition
    p_repeat: float               # share of receptions on an earlier case of the unit
    p_repeat_petition: float
    p_group_regular: float        # đoàn share, regular reception
    p_group_sitting: float        # đoàn share, head's sittings
    p_competent: float            # share of cases the unit itself must resolve
    p_deputy: float               # share of sittings held by a deputy (ủy quyền)
    weekday: int                  # the unit's sitting weekday (0 = Monday)
    noisy: bool                   # database-backed: versions and noise records


def profile_for(unit: Unit, seed: int) -> Profile:
    """Each unit's own rates, drawn once from its profile stream (documented ranges in
    docs/simulated-sources.md), times the people it serves relative to a Hà Nội unit of
    its level (simulators.population; exactly 1 in Hà Nội, whose draws stay as they were)."""
    profile = _drawn_profile(unit, seed)
    factor = volume_factor(unit)
    if factor == 1.0:
        return profile
    return replace(profile, regular=profile.regular * factor, sitting_mean=profile.sitting_mean * factor,
                   unscheduled=profile.unscheduled * factor, petitions=profile.petitions * factor)


def _drawn_profile(unit: Unit, seed: int) -> Profile:
    r = Rng(seed, unit.key, "profile")
    if unit.level == "xa" and unit.scheme == "legacy":
        return Profile("commune", regular=r.uniform(1.2, 2.6), sitting_mean=r.uniform(0.15, 0.35),
                       unscheduled=0.05, petitions=r.uniform(0.8, 2.0), p_pet_from_rec=0.25,
                       p_repeat=0.15, p_repeat_petition=0.1, p_group_regular=0.02, p_group_sitting=0.04,
                       p_competent=0.55, p_deputy=0.25, weekday=r.randint(0, 4), noisy=False)
    if unit.level == "xa":
        return Profile("commune2025", regular=r.uniform(7.0, 12.0), sitting_mean=r.uniform(0.8, 1.5),
                       unscheduled=0.2, petitions=r.uniform(5.0, 9.0), p_pet_from_rec=0.25,
                       p_repeat=0.2, p_repeat_petition=0.12, p_group_regular=0.025, p_group_sitting=0.05,
                       p_competent=0.6, p_deputy=0.3, weekday=r.randint(0, 4), noisy=False)
    if unit.level == "huyen":
        return Profile("district", regular=r.uniform(25.0, 45.0), sitting_mean=r.uniform(5.0, 9.0),
                       unscheduled=0.3, petitions=r.uniform(25.0, 45.0), p_pet_from_rec=0.25,
                       p_repeat=0.25, p_repeat_petition=0.15, p_group_regular=0.03, p_group_sitting=0.06,
                       p_competent=0.5, p_deputy=0.4, weekday=r.randint(0, 4), noisy=True)
    return Profile("city", regular=197.0, sitting_mean=13.0, unscheduled=0.15, petitions=280.0,
                   p_pet_from_rec=0.2, p_repeat=0.3, p_repeat_petition=0.15, p_group_regular=0.032,
                   p_group_sitting=0.067, p_competent=0.35, p_deputy=0.35, weekday=1, noisy=True)


# Noise of database-backed sources, per truth record (docs/simulated-sources.md).
@dataclass(frozen=True)
class Noise:
    draft_first: float       # truth record entered as a draft, published later
    correction: float        # truth record published with wrong values, corrected later
    draft_only: float        # extra records left as drafts
    deleted: float           # extra records published then deleted
    duplicate: float         # staff double entries (receptions only)


CITY_RECEPTION_NOISE = Noise(draft_first=0.02, correction=0.05, draft_only=0.03, deleted=0.01, duplicate=0.005)
CITY_PETITION_NOISE = Noise(draft_first=0.02, correction=0.03, draft_only=0.02, deleted=0.01, duplicate=0.0)
DISTRICT_RECEPTION_NOISE = Noise(draft_first=0.30, correction=0.04, draft_only=0.02, deleted=0.01, duplicate=0.0)
DISTRICT_PETITION_NOISE = Noise(draft_first=0.30, correction=0.03, draft_only=0.02, deleted=0.01, duplicate=0.0)
