"""Dates and times, one way each: the clock (naive UTC, as stored), the local day of
Hà Nội, Vietnamese dd/mm/yyyy text, and the lenient coercion of stored values."""
from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

# Việt Nam keeps UTC+7 all year (no daylight saving); stored times are naive UTC.
TIMEZONE = "Asia/Ho_Chi_Minh"
LOCAL_OFFSET = dt.timedelta(hours=7)


def utcnow() -> dt.datetime:
    """Now, as the warehouse stores times: naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def utc_now_iso() -> str:
    """Now as ISO 8601 with its offset (manifests, delivery records, alerts)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def today_local() -> dt.date:
    """Today in Hà Nội (not the machine's time zone): what "the latest period" and
    "a date in the future" are measured against."""
    return local_date(dt.datetime.now(dt.UTC))


def to_local(ts: dt.datetime) -> dt.datetime:
    """A stored (naive UTC) time in Hà Nội time."""
    return ts + LOCAL_OFFSET


def local_date(when, timezone: str = TIMEZONE) -> dt.date:
    """The calendar day in `timezone` of an aware datetime (a naive one is taken as UTC)."""
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.astimezone(ZoneInfo(timezone)).date()
    return when


def vn_date(day: dt.date) -> str:
    """dd/mm/yyyy, as Vietnamese forms print a date."""
    return day.strftime("%d/%m/%Y")


def vn_local_time(ts: dt.datetime) -> str:
    """A stored (naive UTC) time as Hà Nội "dd/mm/yyyy HH:MM"."""
    return to_local(ts).strftime("%d/%m/%Y %H:%M")


def as_date(value) -> dt.date | None:
    """A stored or parsed value as a date: datetimes (and pandas Timestamps) lose their
    time, ISO text is read from its first ten characters; None, NaN/NaT and anything
    unreadable give None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):           # pandas.Timestamp included
        return None if value != value else value.date()   # NaT != NaT
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None
