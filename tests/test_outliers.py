"""Outliers against a unit's own history (transforms/outliers.py), on synthetic facts."""
from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics

import pandas as pd
import pytest
import sqlalchemy as sa

from core import settings
from core.periods import custom, period
from transforms import outliers as O
from warehouse.schema import dq_outlier, fact_petition, fact_reception

D = dt.date
_ids = itertools.count(1)


def add_receptions(conn, unit_key, window, n, *, people=1):
    """`n` receptions spread over the days of `window` (a Period)."""
    span = (window.end - window.start).days + 1
    code = unit_key.split(":")[1]
    rows = []
    for k in range(n):
        i = next(_ids)
        rows.append({"reception_key": f"t:{i}", "unit_code": code, "unit_key": unit_key,
                     "received_date": window.start + dt.timedelta(days=(k * 7) % span),
                     "mode": "thuong_xuyen", "receiver": "can_bo", "people": people,
                     "is_group": people >= 5, "source_kind": "commune_register",
                     "source_name": code, "record_id": str(i), "raw_id": i, "batch_id": "b"})
    if rows:
        conn.execute(fact_reception.insert(), rows)


def add_petitions(conn, unit_key, window, n):
    span = (window.end - window.start).days + 1
    code = unit_key.split(":")[1]
    rows = []
    for k in range(n):
        i = next(_ids)
        rows.append({"petition_key": f"p:{i}", "unit_code": code, "unit_key": unit_key,
                     "received_date": window.start + dt.timedelta(days=(k * 5) % span),
                     "channel": "buu_chinh", "petition_kind": "KN", "signers": "mot",
                     "source_kind": "commune_register", "source_name": code, "record_id": str(i),
                     "raw_id": i, "batch_id": "b"})
    if rows:
        conn.execute(fact_petition.insert(), rows)


def history(p, counts):
    """Insert counts for the windows before `p`, most recent first."""
    return list(zip(O.previous_windows(p, len(counts)), counts))


SPIKE_HISTORY = [30, 32, 28, 31, 29, 33, 30, 27]     # most recent first
STEADY_HISTORY = [20, 22, 19, 21, 20, 23, 18, 21]


@pytest.fixture()
def q4_2024(warehouse):
    p = period("Q4", 2024)
    with warehouse.begin() as c:
        for w, n in history(p, SPIKE_HISTORY):
            add_receptions(c, "legacy:00004", w, n)
            add_petitions(c, "legacy:00004", w, 12)
        add_receptions(c, "legacy:00004", p, 152)
        add_petitions(c, "legacy:00004", p, 13)
        for w, n in history(p, STEADY_HISTORY):
            add_receptions(c, "legacy:00007", w, n, people=2)
        add_receptions(c, "legacy:00007", p, 22, people=2)
        for w, n in history(p, [25, 24, 26, 25, 27, 23, 25, 26]):   # nothing this quarter
            add_receptions(c, "legacy:00008", w, n)
        for w, n in history(p, [1, 0, 2, 1, 0, 1, 1, 0]):            # small numbers
            add_receptions(c, "legacy:00013", w, n)
        add_receptions(c, "legacy:00013", p, 6)
    return warehouse, p


def test_spike_is_flagged_with_the_figures(q4_2024):
    eng, p = q4_2024
    df = O.compute(eng, p, settings.get().outliers, settings.get().series.start, history_periods=8, min_history=4, z_threshold=3.0, min_value=10)
    assert list(df.columns) == [c.name for c in dq_outlier.columns]
    r = df.set_index(["unit_key", "metric"]).loc[("legacy:00004", "receptions")]
    mean, sd = statistics.mean(SPIKE_HISTORY), statistics.stdev(SPIKE_HISTORY)
    z = (152 - mean) / sd
    assert bool(r.flagged) and r.value == 152 and r.history_periods == 8
    assert (r.history_mean, r.history_sd, r.history_min, r.history_max) == (
        math.floor(mean + 0.5), math.floor(sd + 0.5), 27, 33)
    assert r.z_score == math.floor(z * 100 + 0.5)
    ratio = f"{152 / mean:.1f}".replace(".", ",")
    zt = f"{z:.1f}".replace(".", ",")
    mt = f"{mean:.1f}".replace(".", ",")
    assert r.reason == (f"Số lượt tiếp kỳ này 152, gấp {ratio} lần trung bình 8 kỳ trước "
                        f"({mt}; thấp nhất 27, cao nhất 33); z = {zt}")
    people = df.set_index(["unit_key", "metric"]).loc[("legacy:00004", "people")]
    assert bool(people.flagged) and people.value == 152
    pet = df.set_index(["unit_key", "metric"]).loc[("legacy:00004", "petitions")]
    assert not bool(pet.flagged) and pet.value == 13        # petitions did not move
    assert pet.history_sd == 0 and pd.isna(pet.z_score)


def test_steady_small_and_vanished_units(q4_2024):
    eng, p = q4_2024
    df = O.compute(eng, p, settings.get().outliers, settings.get().series.start).set_index(["unit_key", "metric"])   # defaults from config
    steady = df.loc[("legacy:00007", "receptions")]
    assert not bool(steady.flagged) and steady.value == 22
    assert "trong ngưỡng bình thường" in steady.reason
    assert df.loc[("legacy:00007", "people"), "value"] == 44

    small = df.loc[("legacy:00013", "receptions")]         # 6 vs ≤ 2, but below min_value
    assert small.value == 6 and not bool(small.flagged) and "số nhỏ" in small.reason

    gone = df.loc[("legacy:00008", "receptions")]          # zero this quarter, history ~25
    assert gone.value == 0 and bool(gone.flagged)
    assert gone.reason.startswith("Số lượt tiếp kỳ này 0, chỉ bằng 0% trung bình 8 kỳ trước (25,1;")
    assert ("legacy:00008", "petitions") in df.index          # all metrics of the unit
    assert not bool(df.loc[("legacy:00008", "petitions"), "flagged"])
    # units without any record are not listed
    assert set(df.index.get_level_values(0)) == {"legacy:00004", "legacy:00007", "legacy:00008",
                                                 "legacy:00013"}


def test_short_history_is_not_flagged(warehouse):
    # Q3 2022: the previous quarters back to Q4 2021 are whole; Q3 2021 (from 15/06/2021)
    # starts before the series (01/07/2021) and is skipped: 3 windows < min_history 4.
    p = period("Q3", 2022)
    with warehouse.begin() as c:
        for w, n in history(p, [20, 21, 19, 5, 4]):
            add_receptions(c, "legacy:00004", w, n)
        add_receptions(c, "legacy:00004", p, 200)
    df = O.compute(warehouse, p, settings.get().outliers, settings.get().series.start).set_index(["unit_key", "metric"])
    r = df.loc[("legacy:00004", "receptions")]
    assert r.history_periods == 3 and not bool(r.flagged)
    assert "chỉ có 3 kỳ trước để so sánh (cần ít nhất 4)" in r.reason
    # with a lower requirement the same figures are flagged
    df2 = O.compute(warehouse, p, settings.get().outliers, settings.get().series.start, min_history=3).set_index(["unit_key", "metric"])
    assert bool(df2.loc[("legacy:00004", "receptions"), "flagged"])


def test_store_is_idempotent(q4_2024):
    eng, p = q4_2024
    df = O.compute(eng, p, settings.get().outliers, settings.get().series.start)
    assert O.store(eng, p, df) == len(df)
    assert O.store(eng, p, df) == len(df)
    with eng.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(dq_outlier)).scalar_one()
        flagged = conn.execute(sa.select(dq_outlier.c.unit_key, dq_outlier.c.metric).where(
            dq_outlier.c.flagged.is_(True))).all()
    assert n == len(df) == 4 * 3
    assert set(flagged) == {("legacy:00004", "receptions"), ("legacy:00004", "people"),
                            ("legacy:00008", "receptions"), ("legacy:00008", "people")}
    back = O.load(eng, p).set_index(["unit_key", "metric"])
    assert back.loc[("legacy:00004", "receptions"), "reason"] == \
        df.set_index(["unit_key", "metric"]).loc[("legacy:00004", "receptions"), "reason"]


def test_reform_window(warehouse):
    # Q3 2025 (15/06–14/09/2025) spans the reform: the 2025 communes have no history and
    # are not flagged; a legacy commune in force only to 30/06 is not compared.
    p = period("Q3", 2025)
    legacy_part = custom("2025-06-15", "2025-06-30")
    new_part = custom("2025-07-01", "2025-09-14")
    with warehouse.begin() as c:
        for w, n in history(p, [30, 31, 29, 30, 32, 28, 30, 31]):
            add_receptions(c, "legacy:00004", w, n)
            add_receptions(c, "province:01", w, 600)
        add_receptions(c, "legacy:00004", legacy_part, 5)
        add_receptions(c, "2025:00004", new_part, 150)
        add_receptions(c, "province:01", p, 3000)
    df = O.compute(warehouse, p, settings.get().outliers, settings.get().series.start).set_index(["unit_key", "metric"])
    new = df.loc[("2025:00004", "receptions")]
    assert new.value == 150 and new.history_periods == 0 and not bool(new.flagged)
    assert pd.isna(new.history_mean) and pd.isna(new.z_score)
    old = df.loc[("legacy:00004", "receptions")]
    assert old.value == 5 and old.history_periods == 8 and not bool(old.flagged)
    assert "một phần kỳ (đến 30/06/2025)" in old.reason
    city = df.loc[("province:01", "receptions")]           # the city is compared as usual
    assert bool(city.flagged) and city.value == 3000 and "gấp 5,0 lần" in city.reason
    # Q4 2025: the legacy commune is no longer in force and has no row
    q4 = O.compute(warehouse, period("Q4", 2025), settings.get().outliers, settings.get().series.start)
    assert "legacy:00004" not in set(q4["unit_key"])


def test_previous_windows_and_number_format():
    assert [w.key for w in O.previous_windows(period("Q2", 2025), 3)] == ["2025-Q1", "2024-Q4", "2024-Q3"]
    assert [w.key for w in O.previous_windows(period("Y", 2025), 2)] == ["2024-Y", "2023-Y"]
    c = O.previous_windows(custom("2024-01-11", "2024-01-20"), 2)
    assert [(w.start, w.end) for w in c] == [(D(2024, 1, 1), D(2024, 1, 10)), (D(2023, 12, 22), D(2023, 12, 31))]
    assert O.fmt_vn(1234.56, 1) == "1.234,6" and O.fmt_vn(31.6, 1) == "31,6" and O.fmt_vn(152) == "152"
    ev = O.evaluate(152, [22, 40, 31, 30, 35, 28, 33, 34], min_history=4, z_threshold=3.0, min_value=10)
    assert ev["flagged"] and ev["direction"] == "high"
    ev = O.evaluate(9, [1, 2, 1, 2], min_history=4, z_threshold=3.0, min_value=10)
    assert not ev["flagged"]                              # max(value, mean) < min_value
    ev = O.evaluate(10, [0, 0, 0, 0], min_history=4, z_threshold=3.0, min_value=10)
    assert ev["flagged"] and ev["z"] is None              # sd 0, value > 2 × max
