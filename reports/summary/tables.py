"""Every table of the summary as data (:class:`SummaryTables`, from
:func:`compute_summary`; the tests check the numbers there) and the facts the narrative
is written from (:func:`narrative_facts`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.levels import LEVEL_NAMES, LEVELS
from reports import narrative
from reports.summary.data import SummaryData, Window, as_timestamp, cell_number, total_window, year_windows
from reports.summary.duty import duty_by_level, duty_table
from reports.summary.indicators import change_table, indicator_table, level_spans, prepare_petitions, prepare_receptions
from reports.summary.rules import DUTY_LAW, INDICATOR_KEYS, LEADER_RECEIVERS
from reports.summary.skip_level import lower_cases, skipped_by_unit, skipped_by_year_level, skipped_levels


@dataclass
class SummaryTables:
    """Everything the workbook shows, as data."""

    date_from: dt.date
    date_to: dt.date
    province: dict[str, str]            # unit_key, unit_code, name, unit_type
    windows: list[Window]
    total: Window
    whole: pd.DataFrame                 # indicators × window keys, all levels
    own: pd.DataFrame                   # the province's own level
    levels: dict[str, pd.DataFrame]     # level → indicators × window keys (None = level not in force)
    changes: dict[str, pd.DataFrame]    # "whole" | "own" | level → change_table
    spans: dict[str, tuple[dt.date, dt.date | None]]
    duty: pd.DataFrame
    duty_levels: pd.DataFrame
    skipped: pd.DataFrame
    skipped_years: pd.DataFrame
    skipped_units: pd.DataFrame
    paragraphs: list[str]
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return "Thành phố" if self.province["unit_type"].lower().startswith("thành phố") else "Tỉnh"


def compute_summary(data: SummaryData) -> SummaryTables:
    """Every table of the summary from the loaded frames."""
    units = data.units
    prov_rows = units[units["level"] == "tinh"]
    if prov_rows.empty:
        raise ValueError("the units frame has no province (level tinh)")
    prov = prov_rows.iloc[0]
    level_of = units.set_index("unit_key")["level"].to_dict()
    rec = prepare_receptions(data.receptions, level_of)
    pet = prepare_petitions(data.petitions, data.cases, level_of)
    windows, total = year_windows(data.date_from, data.date_to), total_window(data.date_from, data.date_to)
    spans = level_spans(units)
    whole = indicator_table(rec, pet, windows, total)
    levels = {lv: indicator_table(rec[rec["level"] == lv], pet[pet["level"] == lv], windows, total,
                                  active=spans.get(lv)) for lv in LEVELS}
    own = levels["tinh"]
    changes = {"whole": change_table(whole, windows), "own": change_table(own, windows)}
    changes.update({lv: change_table(t, windows) for lv, t in levels.items()})

    duty = duty_table(data.receptions, units, data.date_from, data.date_to)
    duty_levels = duty_by_level(duty)

    in_range = rec[(rec["received"] >= as_timestamp(data.date_from)) & (rec["received"] <= as_timestamp(data.date_to))]
    cases_low = lower_cases(data.cases, data.petitions, data.receptions)
    skipped = skipped_levels(in_range.drop(columns=["received", "level"]), cases_low, units)
    skipped_years = skipped_by_year_level(skipped, windows, total, spans)
    skipped_units = skipped_by_unit(skipped, in_range, units)

    province = {"unit_key": str(prov["unit_key"]), "unit_code": str(prov["unit_code"]),
                "name": str(prov["name"]), "unit_type": str(prov["unit_type"])}
    notes = {
        "petitions_without_accepted_date": int((pet["is_competent"] & pet["accepted"].isna()
                                                & pet["resolved"].isna()).sum()),
        "unscheduled_own": bool(((in_range["level"] == "tinh") & (in_range["mode"].astype(str) == "dot_xuat")
                                 & in_range["receiver"].astype(str).isin(LEADER_RECEIVERS)).any()),
    }
    tables = SummaryTables(data.date_from, data.date_to, province, windows, total, whole, own, levels,
                           changes, spans, duty, duty_levels, skipped, skipped_years, skipped_units, [], notes)
    tables.paragraphs = narrative.paragraphs(narrative_facts(tables))
    return tables


def narrative_facts(t: SummaryTables) -> dict[str, Any]:
    """The numbers the narrative needs, as plain values."""
    own = {k: t.own.at[k, "total"] for k in INDICATOR_KEYS}
    whole = {k: t.whole.at[k, "total"] for k in INDICATOR_KEYS}
    full = [w for w in t.windows if not w.partial]
    comparison = None
    if len(full) >= 2 and full[-1].year == full[-2].year + 1:
        cur, prev = full[-1], full[-2]
        comparison = (cur.year, prev.year, {k: t.whole.at[k, cur.key] for k in INDICATOR_KEYS},
                      {k: t.whole.at[k, prev.key] for k in INDICATOR_KEYS})
    duty = [{"level_name": LEVEL_NAMES[r.level], "assessed": r.assessed, "short": r.short, "no_data": r.no_data}
            for r in t.duty_levels.itertuples()]
    total_row = t.skipped_years[t.skipped_years["window"] == "total"].iloc[0]
    skipped_levels_named = [(LEVEL_NAMES[lv], cell_number(total_row[lv]) or 0) for lv in ("huyen", "tinh")]
    compared = [k for k in INDICATOR_KEYS if k != "gq_tyle"]
    return {
        "start": t.date_from, "end": t.date_to, "subject": t.subject,
        "leaders": f"lãnh đạo UBND {t.subject}", "own": own, "whole": whole,
        "lower_levels_have_data": any(own[k] != whole[k] for k in compared),
        "unscheduled": t.notes.get("unscheduled_own", False), "comparison": comparison,
        "duty": duty, "legal_basis": DUTY_LAW,
        "skipped_total": int(total_row["total"]), "skipped_by_level": skipped_levels_named,
    }
