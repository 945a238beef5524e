"""The generator's internal model: what really happened at a unit, then how its
source system recorded it.

For each unit, month by month (one seeded stream per unit, month and purpose):

1. a *skeleton* of receptions (date, mode, receiver, sitting, people) and petitions
   (date, channel) is drawn from the unit's rates;
2. the skeleton is walked in date order: each reception gets a citizen and a case (a new
   case, or an earlier case of the same unit revisited by the same citizen), each
   petition likewise; a share of receptions produce a petition "qua tiếp công dân";
3. for database-backed sources (district, city) each record gets a *life cycle*:
   timestamped versions (draft → official, corrected values, deletion), and extra noise
   records are added (drafts never published, records deleted, staff double entries).

Then, from streams of their own (so the draws above do not move): each case gets a
round (lần giải quyết) and, if competent KN/TC, a decision; each petition a processing
date; each resolved decision that orders something its execution (``draw_execution``;
``UnitSim._annotate``). Vượt cấp (simulators.skip_level): planted commune cases
are walked in with the month's items, and at a district or the city a planted visit
takes over the identity of a reception that opened a new case.

The official truth is step 2. Versions never change it: a correction's earlier version
carries different (wrong) values and the last version the true ones. Sources and the
ground truth are then read "as of" the end of the run (``state_at``).

Uniqueness that keeps de-duplication by content unambiguous (contract §1, §3): at a
unit, a citizen is received at most once a day, and a case at most once a day — except
for *co-denouncers* (``_co_denouncer``): a share of tố cáo receptions that open a case
are followed the same day by a second citizen denouncing the same case, each lodging a
petition if the first did. Only the case-scoped pseudonym of a denouncer (ADR 0005)
tells the two records apart. The same holds for petitions. Co-denouncers come from a
stream of their own, and at the city only after the calibration window, so the
published figures stay reproduced.

Modules, one job each: :mod:`~simulators.model.records` (cases, receptions,
petitions, decisions, executions), :mod:`~simulators.model.profiles` (a unit's rates and
noise), :mod:`~simulators.model.skeletons` (a month's skeleton, the city's calibrated one)
and :mod:`~simulators.model.simulation` (:class:`UnitSim`, :func:`simulate`). The names
below are the public surface; import them from here.
"""
from simulators.model.profiles import (
    CITY_PETITION_NOISE,
    CITY_RECEPTION_NOISE,
    DISTRICT_PETITION_NOISE,
    DISTRICT_RECEPTION_NOISE,
    Noise,
    Profile,
    profile_for,
)
from simulators.model.records import (
    DECISION_AMOUNTS,
    DECISION_COUNTS,
    EXECUTION_AMOUNTS,
    EXECUTION_COUNTS,
    EXECUTION_FIELDS,
    EXECUTION_ORDERED,
    FULLY_EXECUTED,
    PROGRESS_FIELDS,
    TT06_FIELDS,
    Case,
    Decision,
    Event,
    Execution,
    Petition,
    Reception,
    draw_decision,
    draw_execution,
    encode_progress,
    orders_something,
    state_at,
)
from simulators.model.simulation import UnitSim, simulate
from simulators.model.skeletons import (
    CALIBRATED_PROVINCE,
    CALIBRATION,
    NON_GROUP_REGULAR,
    NON_GROUP_SITTING,
    NON_GROUP_SITTING_LOCAL,
    Skel,
    city_calibrated_skeleton,
    city_sitting_id,
    draw_people,
    group_size,
    month_skeleton,
    nudge,
    profile_for_city,
    sittings_of_month,
)

__all__ = [
    "Case",
    "Event",
    "Reception",
    "Petition",
    "DECISION_AMOUNTS",
    "DECISION_COUNTS",
    "EXECUTION_AMOUNTS",
    "EXECUTION_COUNTS",
    "EXECUTION_ORDERED",
    "EXECUTION_FIELDS",
    "TT06_FIELDS",
    "PROGRESS_FIELDS",
    "Decision",
    "orders_something",
    "Execution",
    "FULLY_EXECUTED",
    "draw_execution",
    "encode_progress",
    "draw_decision",
    "state_at",
    "Profile",
    "profile_for",
    "Noise",
    "CITY_RECEPTION_NOISE",
    "CITY_PETITION_NOISE",
    "DISTRICT_RECEPTION_NOISE",
    "DISTRICT_PETITION_NOISE",
    "NON_GROUP_REGULAR",
    "NON_GROUP_SITTING",
    "NON_GROUP_SITTING_LOCAL",
    "group_size",
    "draw_people",
    "nudge",
    "Skel",
    "sittings_of_month",
    "month_skeleton",
    "city_sitting_id",
    "CALIBRATED_PROVINCE",
    "CALIBRATION",
    "city_calibrated_skeleton",
    "profile_for_city",
    "UnitSim",
    "simulate",
]
