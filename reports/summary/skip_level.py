"""Vượt cấp: receptions at a higher level while the same citizen's case of the same
kind was open at a lower unit (:func:`skipped_levels`, over the lower units' open cases
of :func:`lower_cases`), by year and level and by unit. Citizen pseudonyms are used here
to match cases and never leave: no output frame carries them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import pandas as pd

from reports.summary.data import Window, as_datetimes, as_timestamp
from reports.summary.rules import KINDS


def lower_cases(cases: pd.DataFrame, petitions: pd.DataFrame,
                receptions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cases known at each unit with the citizen who raised them, for :func:`skipped_levels`.

    A case in fact_case gives its unit, kind and dates (opened_date, resolved_date); its
    citizen comes from the petitions or receptions on the same case_key. A petition whose
    case is not in fact_case (commune registers keep no case table) stands for its case:
    opened on its received_date, resolved on its resolved_date. Rows without a citizen
    pseudonym (denouncers) cannot be matched and are left out.
    Columns: citizen_pseudonym, unit_key, petition_kind, opened_date, resolved_date.
    """
    cols = ["citizen_pseudonym", "unit_key", "petition_kind", "opened_date", "resolved_date"]
    parts = []
    links = [petitions[["case_key", "citizen_pseudonym"]]] if len(petitions) else []
    if receptions is not None and len(receptions):
        links.append(receptions[["case_key", "citizen_pseudonym"]])
    case_keys: set = set()
    if len(cases) and links:
        link = pd.concat(links).dropna().drop_duplicates()
        c = cases[["case_key", "unit_key", "petition_kind", "opened_date", "resolved_date"]].merge(
            link, on="case_key", how="inner")
        parts.append(c[cols])
        case_keys = set(cases["case_key"].dropna())
    # Cases with no case table (commune registers): a case is the records sharing its
    # case_key — opened on its first reception or petition, resolved on the resolution
    # date its petitions carry (open while none does).
    own = []
    if len(petitions):
        own.append(petitions[["case_key", "unit_key", "petition_kind", "received_date", "resolved_date",
                              "citizen_pseudonym"]])
    if receptions is not None and len(receptions):
        own.append(receptions[["case_key", "unit_key", "petition_kind", "received_date",
                               "citizen_pseudonym"]].assign(resolved_date=None))
    if own:
        recs = pd.concat(own, ignore_index=True)
        recs = recs[recs["case_key"].notna() & ~recs["case_key"].isin(case_keys)]
        recs = recs.assign(received_date=as_datetimes(recs["received_date"]),
                           resolved_date=as_datetimes(recs["resolved_date"]))
        g = recs.groupby("case_key", sort=False)
        per_case = pd.DataFrame({
            "unit_key": g["unit_key"].first(), "petition_kind": g["petition_kind"].first(),
            "opened_date": g["received_date"].min(), "resolved_date": g["resolved_date"].min()})
        people = recs.dropna(subset=["citizen_pseudonym"])[["case_key", "citizen_pseudonym"]].drop_duplicates()
        per_case = per_case.reset_index().merge(people, on="case_key", how="inner")
        parts.append(per_case[cols])
        # a petition without a case key stands for its own case
        if len(petitions):
            lone = petitions[petitions["case_key"].isna()].dropna(subset=["citizen_pseudonym"])
            parts.append(lone.assign(opened_date=lone["received_date"])[cols])
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def skipped_levels(receptions: pd.DataFrame, cases_or_petitions: pd.DataFrame,
                   units: pd.DataFrame) -> pd.DataFrame:
    """Receptions that skipped levels (vượt cấp).

    A reception at a higher level — a district (huyen) or the province (tinh) — of a
    citizen (citizen_pseudonym) who on that date had an open case at a lower unit with
    the same petition_kind: for a district, a commune whose parent is that district;
    for the province, any district or commune. Open = opened on or before the date and
    not resolved on or before it (resolved_date missing or after the date).

    `receptions`: unit_key, received_date, citizen_pseudonym, petition_kind (reception_key
    if any); `cases_or_petitions`: citizen_pseudonym, unit_key, petition_kind,
    opened_date (or received_date), resolved_date (optional); `units`: unit_key, level,
    parent_key. One row per reception that skipped levels: reception_key (or the input
    index), unit_key, level, received_date, petition_kind, lower_unit_key (the lower
    unit of the earliest open case), lower_level, open_cases. No pseudonyms.
    """
    out_cols = ["reception_key", "unit_key", "level", "received_date", "petition_kind", "lower_unit_key",
                "lower_level", "open_cases"]
    level = units.set_index("unit_key")["level"]
    parent = units.set_index("unit_key")["parent_key"]
    rec = receptions.copy()
    rec["reception_key"] = rec["reception_key"] if "reception_key" in rec else rec.index
    rec["level"] = rec["unit_key"].map(level)
    rec = rec[rec["level"].isin(["huyen", "tinh"]) & rec["citizen_pseudonym"].notna()
              & rec["petition_kind"].notna()]
    low = cases_or_petitions.copy()
    if "opened_date" not in low:
        low["opened_date"] = low["received_date"]
    if "resolved_date" not in low:
        low["resolved_date"] = None
    low = low.dropna(subset=["citizen_pseudonym", "petition_kind"])
    low = low.assign(lower_unit_key=low["unit_key"], lower_level=low["unit_key"].map(level),
                     lower_parent=low["unit_key"].map(parent), opened=as_datetimes(low["opened_date"]),
                     resolved=as_datetimes(low["resolved_date"]))
    low = low[low["lower_level"].isin(["huyen", "xa"])]
    if rec.empty or low.empty:
        return pd.DataFrame(columns=out_cols)
    m = rec[["reception_key", "unit_key", "level", "received_date", "citizen_pseudonym", "petition_kind"]].merge(
        low[["citizen_pseudonym", "petition_kind", "lower_unit_key", "lower_level", "lower_parent", "opened",
             "resolved"]], on=["citizen_pseudonym", "petition_kind"], how="inner")
    day = as_datetimes(m["received_date"])
    below = ((m["level"] == "tinh") & m["lower_level"].isin(["huyen", "xa"])) | (
        (m["level"] == "huyen") & (m["lower_level"] == "xa") & (m["lower_parent"] == m["unit_key"]))
    # open from the day it was opened until the day before it was resolved
    is_open = (m["opened"] <= day) & (m["resolved"].isna() | (m["resolved"] > day))
    m = m[below & is_open].sort_values(["reception_key", "opened", "lower_unit_key"], kind="stable")
    if m.empty:
        return pd.DataFrame(columns=out_cols)
    counts = m.groupby("reception_key", sort=False).size()
    first = m.drop_duplicates("reception_key").copy()
    first["open_cases"] = first["reception_key"].map(counts).astype(int)
    first = first.sort_values(["received_date", "unit_key", "reception_key"], kind="stable")
    return first[out_cols].reset_index(drop=True)


def skipped_by_year_level(skipped: pd.DataFrame, windows: list[Window], total: Window,
                          spans: Mapping[str, tuple[dt.date, dt.date | None]]) -> pd.DataFrame:
    """Vượt cấp receptions per window: by receiving level (None where the level did not
    exist) and by kind."""
    day = as_datetimes(skipped["received_date"]) if len(skipped) else pd.Series(dtype="datetime64[ns]")
    rows = []
    for w in [*windows, total]:
        inside = skipped[(day >= as_timestamp(w.start)) & (day <= as_timestamp(w.end))] if len(skipped) else skipped
        row: dict[str, Any] = {"window": w.key, "label": w.label}
        for lv in ("huyen", "tinh"):
            first, last = spans.get(lv, (w.start, None))
            alive = not (w.end < first or (last is not None and w.start > last))
            row[lv] = int((inside["level"] == lv).sum()) if alive else None
        row["total"] = len(inside)
        for code, _ in KINDS:
            row[code] = int((inside["petition_kind"] == code).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=["window", "label", "huyen", "tinh", "total", "KN", "TC", "KNPA"])


def skipped_by_unit(skipped: pd.DataFrame, receptions: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Vượt cấp receptions per receiving unit, with the unit's receptions in the range."""
    cols = ["unit_key", "unit_code", "name", "level", "skipped", "receptions", "share"]
    if skipped.empty:
        return pd.DataFrame(columns=cols)
    u = units.set_index("unit_key")
    n = skipped.groupby("unit_key").size().rename("skipped").reset_index()
    n["unit_code"] = n["unit_key"].map(u["unit_code"])
    n["name"] = n["unit_key"].map(u["name"])
    n["level"] = n["unit_key"].map(u["level"])
    n["receptions"] = n["unit_key"].map(receptions.groupby("unit_key").size()).fillna(0).astype(int)
    n["share"] = [s / r * 100 if r else None for s, r in zip(n["skipped"], n["receptions"])]
    return n.sort_values(["skipped", "unit_code"], ascending=[False, True], kind="stable")[cols].reset_index(drop=True)
