"""The headline indicators: reception figures (01/TCD semantics) and petition figures
(received, due, resolved, in progress, from the petitions' dates) of a window, the
indicator table by year window and level, and the change of each year against the
previous one.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import pandas as pd

from reports.summary.data import Window, as_bools, as_date, as_datetimes, as_timestamp, is_missing
from reports.summary.rules import INDICATOR_KEYS, INDICATORS, KINDS, LEADER_MODES, LEADER_RECEIVERS, REGULAR_MODES

_BY_KEY = {i.key: i for i in INDICATORS}


def reception_figures(rec: pd.DataFrame) -> dict[str, int]:
    """Headline reception figures of a set of fact_reception rows (01/TCD semantics)."""
    mode, receiver = rec["mode"].astype(str), rec["receiver"].astype(str)
    people = pd.to_numeric(rec["people"], errors="coerce").fillna(0).astype(int)
    group = as_bools(rec["is_group"])
    regular = mode.isin(REGULAR_MODES)
    leaders = mode.isin(LEADER_MODES) & receiver.isin(LEADER_RECEIVERS)
    sittings = rec.loc[leaders, "sitting_key"]
    # A head's sitting without an id still was a sitting: count it as one (01/TCD nulls: each).
    n_sittings = int(sittings.dropna().nunique() + sittings.isna().sum())
    out = {
        "tx_luot": int(regular.sum()), "tx_nguoi": int(people[regular].sum()),
        "tx_doan": int((regular & group).sum()), "tx_doan_nguoi": int(people[regular & group].sum()),
        "ld_ky": n_sittings, "ld_luot": int(leaders.sum()), "ld_nguoi": int(people[leaders].sum()),
        "ld_doan": int((leaders & group).sum()),
    }
    out["tong_luot"] = out["tx_luot"] + out["ld_luot"]
    out["tong_nguoi"] = out["tx_nguoi"] + out["ld_nguoi"]
    return out


def petition_figures(pet: pd.DataFrame, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Petition figures of a window from the dates (docs/report-set.md §1).

    Received = received_date in the window, by kind. Due (phải giải quyết) = competent
    petitions received by the end and not resolved before the start; of them: resolved
    in the window, in progress at the end (accepted_date on or before it), not resolved.
    `pet` carries ``resolved`` and ``accepted`` (datetime64) as prepared by
    :func:`prepare_petitions`.
    """
    s, e = as_timestamp(start), as_timestamp(end)
    received_on = pet["received"]
    in_window = (received_on >= s) & (received_on <= e)
    kind = pet["petition_kind"].astype(str)
    out: dict[str, Any] = {"don_tong": int(in_window.sum())}
    for code, key in KINDS:
        out[key] = int((in_window & (kind == code)).sum())
    resolved, accepted = pet["resolved"], pet["accepted"]
    due = pet["is_competent"] & (received_on <= e) & (resolved.isna() | (resolved >= s))
    done = due & resolved.notna() & (resolved <= e)
    ongoing = due & ~done & accepted.notna() & (accepted <= e)
    out.update(gq_phai=int(due.sum()), gq_da=int(done.sum()), gq_dang=int(ongoing.sum()),
               gq_chua=int((due & ~done & ~ongoing).sum()))
    out["gq_tyle"] = (out["gq_da"] / out["gq_phai"] * 100) if out["gq_phai"] else None
    return out


def prepare_receptions(rec: pd.DataFrame, level_of: Mapping[str, str]) -> pd.DataFrame:
    rec = rec.copy()
    rec["received"] = as_datetimes(rec["received_date"])
    rec["level"] = rec["unit_key"].map(level_of)
    return rec


def prepare_petitions(pet: pd.DataFrame, cases: pd.DataFrame, level_of: Mapping[str, str]) -> pd.DataFrame:
    """Petitions with their dates as datetime64 and the resolution date to use: the
    petition's own, else (competent petitions only) that of its case in fact_case,
    whose resolution is the petition's when the petition carries no date of its own."""
    pet = pet.copy()
    pet["received"] = as_datetimes(pet["received_date"])
    pet["level"] = pet["unit_key"].map(level_of)
    pet["is_competent"] = as_bools(pet["competent"]) if "competent" in pet else False
    resolved = as_datetimes(pet["resolved_date"]) if "resolved_date" in pet else pd.Series(pd.NaT, index=pet.index)
    if len(cases) and "case_key" in pet and "resolved_date" in cases:
        by_case = cases.dropna(subset=["case_key"]).drop_duplicates("case_key").set_index("case_key")
        case_resolved = as_datetimes(pet["case_key"].map(by_case["resolved_date"]))
        resolved = resolved.where(resolved.notna() | ~pet["is_competent"], case_resolved)
    pet["resolved"] = resolved
    pet["accepted"] = (as_datetimes(pet["accepted_date"]) if "accepted_date" in pet
                       else pd.Series(pd.NaT, index=pet.index))
    return pet


def figures(rec: pd.DataFrame, pet: pd.DataFrame, window: Window) -> dict[str, Any]:
    """Every indicator for one window (records already restricted to the scope)."""
    s, e = as_timestamp(window.start), as_timestamp(window.end)
    in_window = rec[(rec["received"] >= s) & (rec["received"] <= e)]
    return {**reception_figures(in_window), **petition_figures(pet, window.start, window.end)}


def indicator_table(rec: pd.DataFrame, pet: pd.DataFrame, windows: list[Window], total: Window,
                    active: tuple[dt.date, dt.date | None] | None = None) -> pd.DataFrame:
    """Indicators (rows, in INDICATORS order) × window keys (columns, total last).

    With `active` = (first day, last day or None) of a level's existence, a window that
    does not overlap it is structurally empty: None in every row, never 0."""
    cols = {}
    for w in [*windows, total]:
        if active is not None and (w.end < active[0] or (active[1] is not None and w.start > active[1])):
            cols[w.key] = {k: None for k in INDICATOR_KEYS}
        else:
            cols[w.key] = figures(rec, pet, w)
    # Column by column as objects: ints stay ints, empty cells stay None (not NaN).
    return pd.DataFrame({k: pd.Series(v, index=list(INDICATOR_KEYS), dtype=object) for k, v in cols.items()})


def change_table(table: pd.DataFrame, windows: list[Window]) -> pd.DataFrame:
    """Change of each year against the previous one: columns (year key, "abs"|"pct").
    For rates the absolute change is in percentage points and there is no %; a change
    involving an empty (None) cell, or a % over 0, is None."""
    cols: dict[tuple[str, str], dict[str, Any]] = {}
    for prev, cur in zip(windows, windows[1:]):
        a_col, p_col = {}, {}
        for key in table.index:
            a, b = table.at[key, cur.key], table.at[key, prev.key]
            if a is None or b is None:
                a_col[key] = p_col[key] = None
                continue
            a_col[key] = a - b
            p_col[key] = None if (_BY_KEY[key].is_rate or b == 0) else (a - b) / b * 100
        cols[(cur.key, "abs")], cols[(cur.key, "pct")] = a_col, p_col
    out = pd.DataFrame({k: pd.Series(v, index=table.index, dtype=object) for k, v in cols.items()},
                       index=table.index)
    if len(cols):
        out.columns = pd.MultiIndex.from_tuples(list(cols))
    return out


def level_spans(units: pd.DataFrame) -> dict[str, tuple[dt.date, dt.date | None]]:
    """First and last day (None = still in force) of each level, from the units' validity."""
    out = {}
    for level, grp in units.groupby("level"):
        starts = [as_date(v) for v in grp["valid_from"]]
        ends = [None if is_missing(v) else as_date(v) for v in grp["valid_to"]]
        out[str(level)] = (min(starts), None if any(e is None for e in ends) else max(ends))
    return out
