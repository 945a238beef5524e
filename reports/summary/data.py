"""What the summary reads and over which columns: the default range and the year
windows (:func:`default_range`, :func:`year_windows`), the published facts and units
loaded from the warehouse (:func:`summary_frames` → :class:`SummaryData`), and the
conversions of their values (dates, timestamps, nullable booleans, missing values, cell
numbers) every part of the summary uses.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from core import periods
from core.dates import today_local
from warehouse import schema


def default_range(series_start: dt.date, today: dt.date | str | None = None):
    """The default range: `series_start` (``series.start``, 01/07/2021) to the last
    cut-off, i.e. the end of the latest complete quarter window (15th–14th) before
    `today`. A core.periods.Period."""
    today = today or today_local()
    return periods.custom(series_start, periods.latest_complete(today, "Q").end)


@dataclass(frozen=True)
class Window:
    """A column of the summary: a calendar year clipped to the range, or the total."""

    key: str              # "2021" … or "total"
    label: str            # "01/07–31/12/2021", "Năm 2022", "Tổng cộng"
    start: dt.date
    end: dt.date
    year: int | None = None

    @property
    def partial(self) -> bool:
        return self.year is not None and (self.start != dt.date(self.year, 1, 1)
                                          or self.end != dt.date(self.year, 12, 31))


def year_windows(date_from: dt.date, date_to: dt.date) -> list[Window]:
    """Calendar years within [date_from, date_to]; a partial year is labelled with its
    actual dates ("01/07–31/12/2021"), a full one "Năm 2022"."""
    if date_from > date_to:
        raise ValueError(f"range starts {date_from} after it ends {date_to}")
    out = []
    for year in range(date_from.year, date_to.year + 1):
        s, e = max(date_from, dt.date(year, 1, 1)), min(date_to, dt.date(year, 12, 31))
        full = s == dt.date(year, 1, 1) and e == dt.date(year, 12, 31)
        label = f"Năm {year}" if full else f"{s:%d/%m}–{e:%d/%m/%Y}"
        out.append(Window(str(year), label, s, e, year))
    return out


def total_window(date_from: dt.date, date_to: dt.date) -> Window:
    return Window("total", "Tổng cộng", date_from, date_to)


@dataclass
class SummaryData:
    """What the summary reads: published facts dated up to `date_to` (earlier records
    are needed for petitions carried over and for cases opened before the range), the
    province's units (warehouse.units.unit_frame) and, for the info sheet, how many rows
    each source table had (``{table: {"warehouse": n, "read": m}}``)."""

    date_from: dt.date
    date_to: dt.date
    units: pd.DataFrame
    receptions: pd.DataFrame
    petitions: pd.DataFrame
    cases: pd.DataFrame = field(default_factory=pd.DataFrame)
    source_counts: dict[str, dict[str, int]] = field(default_factory=dict)


_RECEPTION_COLUMNS = ("reception_key", "unit_code", "unit_key", "received_date", "mode", "receiver",
                      "sitting_key", "people", "is_group", "petition_kind", "case_key", "citizen_pseudonym")
_PETITION_COLUMNS = ("petition_key", "unit_code", "unit_key", "received_date", "petition_kind", "case_key",
                     "eligible", "competent", "resolution_status", "resolved_date", "accepted_date",
                     "citizen_pseudonym")
_CASE_COLUMNS = ("case_key", "unit_code", "unit_key", "opened_date", "petition_kind", "resolution_status",
                 "resolved_date")


def summary_frames(engine, date_from: dt.date | str, date_to: dt.date | str, unit_df: pd.DataFrame) -> SummaryData:
    """Load what the summary needs from the warehouse's published facts (fact_*) of the
    units `unit_df` (warehouse.units.unit_frame: the province's units)."""
    date_from, date_to = as_date(date_from), as_date(date_to)
    if date_from > date_to:
        raise ValueError(f"range starts {date_from} after it ends {date_to}")
    keys = set(unit_df["unit_key"])
    frames, counts = {}, {}
    plan = (("fact_reception", _RECEPTION_COLUMNS, "received_date"),
            ("fact_petition", _PETITION_COLUMNS, "received_date"),
            ("fact_case", _CASE_COLUMNS, "opened_date"))
    with engine.connect() as conn:
        for name, columns, date_col in plan:
            table = getattr(schema, name)
            q = sa.select(*[table.c[c] for c in columns]).where(table.c[date_col] <= date_to)
            df = pd.read_sql(q, conn)
            total = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            df = df[df["unit_key"].isin(keys)].reset_index(drop=True)
            if "citizen_pseudonym" in df:
                # A denouncer's pseudonym is scoped to one case (ADR 0005): it serves
                # de-duplication only and must never be used to follow a person.
                df.loc[df["petition_kind"] == "TC", "citizen_pseudonym"] = None
            frames[name] = df
            counts[name] = {"warehouse": int(total), "read": len(df)}
    counts["dim_unit"] = {"warehouse": len(unit_df), "read": len(unit_df)}
    return SummaryData(date_from, date_to, unit_df, frames["fact_reception"], frames["fact_petition"],
                       frames["fact_case"], counts)


def as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def as_datetimes(series: pd.Series) -> pd.Series:
    """Dates as datetime64 (missing → NaT), whatever they came as (date, str, Timestamp)."""
    return pd.to_datetime(series, errors="coerce")


def as_timestamp(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


def as_bools(series: pd.Series) -> pd.Series:
    """True/False from a nullable boolean column (missing → False)."""
    return series.map(lambda v: False if is_missing(v) else bool(v)).astype(bool)


def is_missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):     # list-likes are values, not missing
        return False


def cell_number(value: Any) -> Any:
    """A figure as a cell value: a whole number as int, else float; missing → None
    (an empty cell, never 0)."""
    if is_missing(value):
        return None
    value = float(value)
    return int(value) if value.is_integer() else value
