"""Outliers: a unit's figure for a period compared with its own history (dq_outlier).

For every unit with records (``unit_key`` of fact_reception / fact_petition, each unit
on its own, not rolled up) in force at some time in the window, and each metric

- ``receptions``  the number of reception records (lượt tiếp),
- ``people``      the sum of their people (số người được tiếp),
- ``petitions``   the number of petition records (đơn),

the value in the window is compared with the same metric in the previous
``history_periods`` windows of the same kind (a quarter with the previous quarters, a
6-month/9-month/year window with the same window of earlier years, a custom range with
the contiguous ranges of the same length before it). A history window counts only when
it starts on or after the series start (``series.start``, 01/07/2021, so the partial
first quarter is skipped) and the unit was in force for the whole of it.
A unit with no record in the window but records in its history gets value 0.

A figure is flagged when the history has at least ``min_history`` windows, the larger
of value and history mean is at least ``min_value`` (smaller swings are noise), and

- |z| ≥ ``z_threshold`` with z = (value − mean) / sd (sample standard deviation, sd > 0), or
- value > 2 × history maximum, or
- value < history minimum / 2, when the history minimum itself is ≥ ``min_value``.

A unit in force for only part of the window (created or abolished inside it, e.g. at
the 2025 reform) is not compared: its partial figure is not comparable with whole
windows. Stored figures are integers (mean and sd rounded half up, z × 100) so they are
exact on every database; ``reason`` gives the figures in Vietnamese number format.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Iterable

import pandas as pd
import sqlalchemy as sa

from core import config_schema
from core import periods as P
from core.dates import as_date, utcnow, vn_date
from core.periods import Period
from warehouse.db import replace_period_rows
from warehouse.schema import dim_unit, dq_outlier, fact_petition, fact_reception

log = logging.getLogger(__name__)

COLUMNS = [c.name for c in dq_outlier.columns]
METRICS = ("receptions", "people", "petitions")
LABELS = {"receptions": "Số lượt tiếp", "people": "Số người được tiếp", "petitions": "Số đơn tiếp nhận"}


# ------------------------------------------------------------------ formatting
def fmt_vn(x: float, decimals: int = 0) -> str:
    """Vietnamese number format: '.' groups thousands, ',' marks decimals (1.234,5)."""
    s = f"{x:,.{decimals}f}"
    return s.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


# ------------------------------------------------------------------ windows
def previous_windows(period: Period, n: int) -> list[Period]:
    """The `n` windows of the same kind before `period`, most recent first."""
    out: list[Period] = []
    if period.kind in P.QUARTERS:
        i, year = P.QUARTERS.index(period.kind), period.year
        for _ in range(n):
            i -= 1
            if i < 0:
                i, year = len(P.QUARTERS) - 1, year - 1
            out.append(P.period(P.QUARTERS[i], year))
    elif period.kind == "custom":
        length = period.end - period.start
        end = period.start - dt.timedelta(days=1)
        for _ in range(n):
            out.append(P.custom(end - length, end))
            end = end - length - dt.timedelta(days=1)
    else:
        out = [P.period(period.kind, period.year - k) for k in range(1, n + 1)]
    return out


# ------------------------------------------------------------------ data
def _daily(engine: sa.Engine, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per unit and day: receptions, people, petitions (portable GROUP BY queries)."""
    qr = (sa.select(fact_reception.c.unit_key, fact_reception.c.received_date, sa.func.count(),
                    sa.func.sum(fact_reception.c.people))
          .where(fact_reception.c.received_date >= start, fact_reception.c.received_date <= end)
          .group_by(fact_reception.c.unit_key, fact_reception.c.received_date))
    qp = (sa.select(fact_petition.c.unit_key, fact_petition.c.received_date, sa.func.count())
          .where(fact_petition.c.received_date >= start, fact_petition.c.received_date <= end)
          .group_by(fact_petition.c.unit_key, fact_petition.c.received_date))
    with engine.connect() as conn:
        rec = pd.DataFrame([tuple(r) for r in conn.execute(qr)],
                           columns=["unit_key", "day", "receptions", "people"])
        pet = pd.DataFrame([tuple(r) for r in conn.execute(qp)], columns=["unit_key", "day", "petitions"])
    df = rec.merge(pet, on=["unit_key", "day"], how="outer")
    for m in METRICS:
        df[m] = pd.to_numeric(df[m], errors="coerce").fillna(0).astype("int64")
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return df


def _validity(engine: sa.Engine) -> dict[str, tuple[dt.date, dt.date | None]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(dim_unit.c.unit_key, dim_unit.c.valid_from, dim_unit.c.valid_to)).all()
    return {r[0]: (as_date(r[1]), as_date(r[2])) for r in rows}


def _covers(validity: tuple[dt.date | None, dt.date | None] | None, start: dt.date, end: dt.date) -> bool:
    """In force for the whole of [start, end]."""
    if validity is None:
        return True
    vf, vt = validity
    return (vf is None or vf <= start) and (vt is None or vt >= end)


def _touches(validity, start: dt.date, end: dt.date) -> bool:
    """In force at some time in [start, end]."""
    if validity is None:
        return True
    vf, vt = validity
    return (vf is None or vf <= end) and (vt is None or vt >= start)


# ------------------------------------------------------------------ evaluation
def evaluate(value: int, history: list[int], *, min_history: int, z_threshold: float,
             min_value: int) -> dict:
    """Statistics and the flag for one figure against its history (pure)."""
    n = len(history)
    out = {"value": int(value), "history_periods": n, "mean": None, "sd": None, "min": None,
           "max": None, "z": None, "flagged": False, "direction": None}
    if n == 0:
        return out
    mean = sum(history) / n
    sd = math.sqrt(sum((h - mean) ** 2 for h in history) / (n - 1)) if n > 1 else 0.0
    lo, hi = min(history), max(history)
    z = (value - mean) / sd if sd > 0 else None
    out.update(mean=mean, sd=sd, min=lo, max=hi, z=z)
    if n < min_history or max(value, mean) < min_value:
        return out
    high = (z is not None and z >= z_threshold) or value > 2 * hi
    low = (z is not None and z <= -z_threshold) or (lo >= min_value and value < lo / 2)
    if high or low:
        out["flagged"] = True
        out["direction"] = "high" if value > mean else "low"
    return out


def _reason(metric: str, ev: dict, *, min_history: int, min_value: int,
            partial: str | None) -> str:
    label, v, n = LABELS.get(metric, metric), ev["value"], ev["history_periods"]
    head = f"{label} kỳ này {fmt_vn(v)}"
    if partial:
        return f"{head}; đơn vị chỉ hoạt động một phần kỳ ({partial}): không so sánh với các kỳ trước"
    if n == 0:
        return f"{head}; chưa có kỳ trước để so sánh: không đánh giá"
    mean, lo, hi, z = ev["mean"], ev["min"], ev["max"], ev["z"]
    hist = f"trung bình {n} kỳ trước ({fmt_vn(mean, 1)}; thấp nhất {fmt_vn(lo)}, cao nhất {fmt_vn(hi)})"
    ztxt = f"; z = {fmt_vn(z, 1)}" if z is not None else ""
    if n < min_history:
        return f"{head}; chỉ có {n} kỳ trước để so sánh (cần ít nhất {min_history}): không đánh giá"
    if ev["flagged"] and ev["direction"] == "high":
        if mean > 0:
            return f"{head}, gấp {fmt_vn(v / mean, 1)} lần {hist}{ztxt}"
        return f"{head}, trong khi {n} kỳ trước đều bằng 0"
    if ev["flagged"]:
        share = fmt_vn(100 * v / mean, 0) if mean > 0 else "0"
        return f"{head}, chỉ bằng {share}% {hist}{ztxt}"
    if max(v, mean) < min_value:
        return f"{head}; {hist}: số nhỏ (dưới {fmt_vn(min_value)}), không đánh giá"
    return f"{head}; {hist}{ztxt}: trong ngưỡng bình thường"


def compute(engine: sa.Engine, period: Period, outliers: config_schema.Outliers, series_start: dt.date, *,
            history_periods: int | None = None, min_history: int | None = None, z_threshold: float | None = None,
            min_value: int | None = None, metrics: Iterable[str] | None = None,
            now: dt.datetime | None = None) -> pd.DataFrame:
    """Rows of dq_outlier for `period`. Parameters left None come from `outliers`
    (config ``outliers``; as shipped: 8, 4, 3.0, 10, receptions/people/petitions); no
    history window starts before `series_start` (config ``series.start``)."""
    cfg = outliers
    history_periods = int(cfg.history_periods if history_periods is None else history_periods)
    min_history = int(cfg.min_history if min_history is None else min_history)
    z_threshold = float(cfg.z_threshold if z_threshold is None else z_threshold)
    min_value = int(cfg.min_value if min_value is None else min_value)
    metrics = tuple(cfg.metrics if metrics is None else metrics)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown outlier metrics {unknown}; expected some of {list(METRICS)}")
    now = now or utcnow()

    windows = [period, *previous_windows(period, history_periods)]
    daily = _daily(engine, min(w.start for w in windows), period.end)
    validity = _validity(engine)
    first = series_start

    # value[unit_key][metric] per window index (0 = the period itself)
    per_window: dict[int, pd.DataFrame] = {}
    for i, w in enumerate(windows):
        part = daily[(daily["day"] >= w.start) & (daily["day"] <= w.end)]
        per_window[i] = part.groupby("unit_key")[list(METRICS)].sum()
    units = sorted({k for t in per_window.values() for k in t.index
                    if _touches(validity.get(k), period.start, period.end)})

    rows = []
    for unit_key in units:
        v = validity.get(unit_key)
        partial = None
        if not _covers(v, period.start, period.end) and v is not None:
            bits = []
            if v[0] and v[0] > period.start:
                bits.append(f"từ {vn_date(v[0])}")
            if v[1] and v[1] < period.end:
                bits.append(f"đến {vn_date(v[1])}")
            partial = ", ".join(bits)
        hist_idx = [i for i, w in enumerate(windows) if i > 0 and w.start >= first
                    and _covers(v, w.start, w.end)]
        for metric in metrics:
            def val(i: int) -> int:
                t = per_window[i]
                return int(t.at[unit_key, metric]) if unit_key in t.index else 0
            ev = evaluate(val(0), [val(i) for i in hist_idx], min_history=min_history,
                          z_threshold=z_threshold, min_value=min_value)
            if partial:
                ev["flagged"] = False
            rows.append({
                "period_key": period.key, "unit_key": unit_key, "metric": metric,
                "value": ev["value"], "history_periods": ev["history_periods"],
                "history_mean": None if ev["mean"] is None else _round_half_up(ev["mean"]),
                "history_sd": None if ev["sd"] is None else _round_half_up(ev["sd"]),
                "history_min": ev["min"], "history_max": ev["max"],
                "z_score": None if ev["z"] is None else _round_half_up(ev["z"] * 100),
                "flagged": bool(ev["flagged"]),
                "reason": _reason(metric, ev, min_history=min_history, min_value=min_value,
                                  partial=partial),
                "computed_at": now})
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("value", "history_periods", "history_mean", "history_sd", "history_min",
                "history_max", "z_score"):
        df[col] = df[col].astype("Int64")       # integers, NA where there is no history
    df["flagged"] = df["flagged"].astype(bool)
    log.info("outliers %s: %d unit figures, %d flagged", period.key, len(df),
             int(df["flagged"].sum()) if not df.empty else 0)
    return df


def store(engine: sa.Engine, period: Period, df: pd.DataFrame) -> int:
    """Replace the stored rows of `period` by `df` (idempotent)."""
    if "period_key" in df.columns:
        df = df[df["period_key"] == period.key]
    records = []
    for rec in df.to_dict("records"):
        clean = {}
        for k in COLUMNS:
            x = rec.get(k)
            if x is None or (not isinstance(x, (str, dt.date)) and pd.isna(x)):
                x = None
            elif k in ("value", "history_periods", "history_mean", "history_sd", "history_min",
                       "history_max", "z_score"):
                x = int(x)
            elif k == "flagged":
                x = bool(x)
            elif k == "computed_at" and isinstance(x, pd.Timestamp):
                x = x.to_pydatetime()
            clean[k] = x
        records.append(clean)

    return replace_period_rows(engine, dq_outlier, period.key, records)


def load(engine: sa.Engine, period: Period) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(dq_outlier).where(dq_outlier.c.period_key == period.key)).mappings().all()
    return pd.DataFrame(rows, columns=COLUMNS)
