"""The heads' reception duty: each unit in force in the range against its head's legal
minimum of reception days per complete week or month (:func:`duty_table`), and the
result by level (:func:`duty_by_level`).
"""
from __future__ import annotations

import datetime as dt
from typing import Mapping

import pandas as pd

from core.levels import LEVEL_ORDER, LEVELS
from reports.summary.data import as_datetimes, as_timestamp
from reports.summary.rules import (
    HEAD_DUTY,
    HEAD_DUTY_MODES,
    HEAD_DUTY_RECEIVERS,
    STATUS_NO_DATA,
    STATUS_NOT_ASSESSED,
    STATUS_OK,
    STATUS_SHORT,
    DutyRule,
)


def _unit_spans(units: pd.DataFrame, date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    u = units.copy()
    u["vf"] = as_datetimes(u["valid_from"])
    u["vt"] = as_datetimes(u["valid_to"])
    u["span_from"] = u["vf"].where(u["vf"] > as_timestamp(date_from), as_timestamp(date_from))
    u["span_to"] = u["vt"].where(u["vt"].notna() & (u["vt"] < as_timestamp(date_to)), as_timestamp(date_to))
    return u[u["span_from"] <= u["span_to"]].copy()


def _complete_periods(s: pd.Timestamp, e: pd.Timestamp, per: str) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """(first period start, last period start, number) of the weeks (Mon–Sun) or
    calendar months lying wholly within [s, e]."""
    if per == "week":
        first = s + pd.Timedelta(days=(7 - s.weekday()) % 7)
        last_end = e - pd.Timedelta(days=(e.weekday() + 1) % 7)
        n = ((last_end - first).days + 1) // 7 if last_end >= first else 0
        return first, last_end - pd.Timedelta(days=6), max(n, 0)
    first = s if s.day == 1 else (s + pd.offsets.MonthBegin(1))
    last_end = e if e.is_month_end else (e - pd.offsets.MonthEnd(1))
    n = (last_end.year - first.year) * 12 + last_end.month - first.month + 1 if last_end >= first else 0
    return first, last_end.replace(day=1), max(n, 0)


def duty_table(receptions: pd.DataFrame, units: pd.DataFrame, date_from: dt.date, date_to: dt.date,
               rules: Mapping[str, DutyRule] = HEAD_DUTY) -> pd.DataFrame:
    """Each unit in force in the range against its head's minimum reception duty.

    Head days = distinct dates of receptions in dinh_ky/dot_xuat mode by the head in
    person (HEAD_DUTY_RECEIVERS). Assessed per complete week (Mon–Sun) or calendar month
    within the unit's time in force in the range: a period counts min(days, minimum), so
    extra days in one week do not make up for a missed week; shortfall = periods ×
    minimum − Σ min(days, minimum). Units without any reception record in their span
    are "Chưa có số liệu" (not reported, not judged); units with no complete period
    "Không đánh giá". Sorted: units that fell short first (largest shortfall first).
    """
    u = _unit_spans(units, date_from, date_to)
    u = u[u["level"].isin(list(rules))]
    rec = receptions.copy()
    rec["received"] = as_datetimes(rec["received_date"])
    rec = rec[(rec["received"] >= as_timestamp(date_from)) & (rec["received"] <= as_timestamp(date_to))]
    sitting = rec["mode"].astype(str).isin(HEAD_DUTY_MODES)
    head = rec[sitting & rec["receiver"].astype(str).isin(HEAD_DUTY_RECEIVERS)]
    deputy = rec[sitting & rec["receiver"].astype(str).isin(["uy_quyen"])]
    # Any reception record of the unit in its span says the unit reported.
    rec_days = {k: g.drop_duplicates() for k, g in rec.groupby("unit_key")["received"]}
    empty = pd.Series([], dtype="datetime64[ns]")
    head_days = {k: g.drop_duplicates() for k, g in head.groupby("unit_key")["received"]}
    deputy_days = {k: g.drop_duplicates() for k, g in deputy.groupby("unit_key")["received"]}
    names = units.set_index("unit_key")["name"].to_dict()
    rows = []
    for r in u.itertuples(index=False):
        rule = rules[r.level]
        s, e = r.span_from, r.span_to
        mine = head_days.get(r.unit_key, empty)
        mine = mine[(mine >= s) & (mine <= e)]
        dep = deputy_days.get(r.unit_key, empty)
        dep = dep[(dep >= s) & (dep <= e)]
        days = rec_days.get(r.unit_key, empty)
        reported = bool(((days >= s) & (days <= e)).any())
        first, last, n = _complete_periods(s, e, rule.per)
        if rule.per == "week":
            period_of = mine - pd.to_timedelta(mine.dt.weekday, unit="D")
        else:
            period_of = mine.dt.to_period("M").dt.start_time
        period_of = period_of[(period_of >= first) & (period_of <= last)]
        per_period = period_of.value_counts()
        capped = int(per_period.clip(upper=rule.min_days).sum())
        short_periods = n - int((per_period >= rule.min_days).sum())
        shortfall = n * rule.min_days - capped
        if not reported:
            status = STATUS_NO_DATA
        elif n == 0:
            status = STATUS_NOT_ASSESSED
        else:
            status = STATUS_OK if shortfall == 0 else STATUS_SHORT
        rows.append({
            "unit_key": r.unit_key, "unit_code": r.unit_code, "name": r.name, "level": r.level,
            "parent_name": names.get(r.parent_key) if isinstance(r.parent_key, str) else None,
            "span_from": s.date(), "span_to": e.date(), "per": rule.per, "periods": n,
            "min_days": rule.min_days, "required_days": n * rule.min_days, "head_days": int(len(mine)),
            "shortfall": shortfall if reported else None,
            "periods_short": short_periods if reported else None,
            "deputy_days": int(len(dep)),
            # Share of the required days held, period by period (the national reports' "tỷ lệ so với quy định").
            "compliance": ((n * rule.min_days - shortfall) / (n * rule.min_days) * 100
                           if reported and n else None),
            "status": status,
        })
    out = pd.DataFrame(rows, columns=["unit_key", "unit_code", "name", "level", "parent_name", "span_from",
                                      "span_to", "per", "periods", "min_days", "required_days", "head_days",
                                      "shortfall", "periods_short", "deputy_days", "compliance", "status"])
    order = {STATUS_SHORT: 0, STATUS_OK: 1, STATUS_NOT_ASSESSED: 2, STATUS_NO_DATA: 3}
    out["_o"] = out["status"].map(order)
    out["_s"] = -pd.to_numeric(out["shortfall"], errors="coerce").fillna(0)
    out["_l"] = out["level"].map(LEVEL_ORDER)
    out = out.sort_values(["_o", "_s", "_l", "unit_code", "span_from"], kind="stable")
    return out.drop(columns=["_o", "_s", "_l"]).reset_index(drop=True)


def duty_by_level(duty: pd.DataFrame) -> pd.DataFrame:
    """Per level: units, assessed, fell short (Không đạt), met (Đạt), without data."""
    rows = []
    for level in LEVELS:
        d = duty[duty["level"] == level]
        if d.empty:
            continue
        short, ok = int((d["status"] == STATUS_SHORT).sum()), int((d["status"] == STATUS_OK).sum())
        rows.append({"level": level, "units": len(d), "assessed": short + ok, "short": short, "ok": ok,
                     "no_data": int((d["status"] == STATUS_NO_DATA).sum()),
                     "not_assessed": int((d["status"] == STATUS_NOT_ASSESSED).sum())})
    return pd.DataFrame(rows, columns=["level", "units", "assessed", "short", "ok", "no_data", "not_assessed"])
