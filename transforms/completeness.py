"""Completeness and timeliness of the units' submissions (DHIS2-style), per period.

For a reporting window (core.periods.Period) and every unit in force at some time in
it, one row per kind of source the unit is expected to deliver (config
``completeness.expected``: commune registers for level ``xa``, the district database for
``huyen``, the city service for ``tinh``), with the columns of ``dq_completeness``:

``expected``
    commune registers: one book per calendar year, so the number of calendar years
    overlapping the window ∩ the unit's validity; a system: 1.
``received``
    commune registers: the years of those for which an *accepted* version of the
    unit's book exists (``raw_batch.status = 'loaded'`` under the unit code with a file
    stem ending ``_<year>``, not rejected by the batch audit: ``dq_batch_audit.passed``
    false = rejected, no audit row = accepted).
    A system: 1 when an accepted batch of it exists, the most recent attempt of none of
    its tables (``logical_key``) was failed or rejected, and the window's data can have
    been read: it has records dated in the window, or an accepted batch delivered on or
    after the window's first day.
``rejected``
    deliveries rejected or failed (``raw_batch.status`` ``rejected``/``failed``, or an
    audit verdict ``passed = false``): for registers those of the books of the years
    concerned, for systems the attempts delivered on or after the window's first day.
``first_arrival``
    the source-side time the window's data was complete. Registers: per year the
    earliest accepted version delivered on or after the end of the part of the window
    that book covers (an earlier version cannot hold the whole of it); when only
    earlier versions exist, the latest of them, and the note says "sổ … gửi trước khi
    hết kỳ"; for a window spanning two years the latest of the per-year times.
    Systems: the latest arrival among the receptions and petitions dated in the
    window, a record's arrival being its earliest landed version
    (``raw_record.record_version``: district ``ngay_cap_nhat``, local time; city
    ``<UTC timestamp>Z#<version>``; the batch's ``delivered_at`` when the version is
    not a time). Later versions (a correction, a reply to a forwarded petition) and
    cases (their versions follow the resolution) do not make a period late. With no
    record in the window: the first accepted batch delivered on or after the window's
    last day, else the latest accepted batch (noted as before the end).
``deadline``
    the end of the units' deadline day of the reporting regime that governs the window
    (core.regimes, config ``regimes:`` ``deadlines.units``: TT 06/2025 Điều 7.2, the
    17th of the period's last month; the older regimes, 5 days after the window's last
    day), in Hà Nội time.
``status`` (vocabulary)
    ``dung_han``      all expected submissions received, complete by the deadline;
    ``muon``          all received, complete after the deadline;
    ``thieu``         some but not all expected submissions received (partial; e.g.
                      one of the two yearly books of a window spanning New Year);
    ``chua_bao_cao``  nothing received and nothing rejected;
    ``bi_tu_choi``    nothing accepted, but deliveries were rejected or failed.
``note``
    one Vietnamese sentence with the figures; no personal data.

Times: ``first_arrival`` and ``deadline`` are stored as naive **UTC** like every other
timestamp of the warehouse (``raw_batch.delivered_at`` is UTC); the deadline "end of day"
is the end of the day in Hà Nội (UTC+7), i.e. 16:59:59 UTC. Notes show Hà Nội dates.

Commune codes were reused by the 2025 reform (legacy ``00004`` Trúc Bạch, 2025
``00004`` Ba Đình). A book is counted for a unit when its code matches and its year
overlaps the unit's validity; when several units share the code in that year, the
file-name slug decides (``00004_truc-bach_2025`` is Trúc Bạch's), and a slug that names
none of them (or all of them: the 30 units that kept code *and* name keep one continuing
book) counts for each.

A unit not in force at any time in the window gets no row (no district after 30/06/2025).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import pandas as pd
import sqlalchemy as sa

from connectors.city_service import source_name as city_source_name
from core import regimes
from core.dates import LOCAL_OFFSET, as_date, to_local, utcnow, vn_date, vn_local_time
from core.levels import LEVEL_ORDER
from core.normalise import fold
from core.periods import Period
from core.settings import Settings
from warehouse.db import replace_period_rows
from warehouse.schema import (
    dim_unit,
    dq_batch_audit,
    dq_completeness,
    fact_petition,
    fact_reception,
    raw_batch,
    raw_file_manifest,
    raw_record,
)

log = logging.getLogger(__name__)

STATUSES = ("dung_han", "muon", "thieu", "chua_bao_cao", "bi_tu_choi")
MISSING_STATUSES = ("chua_bao_cao", "bi_tu_choi")
REGISTER_KIND = "commune_register"
SYSTEM_KINDS = ("district_db", "city_service")
COLUMNS = [c.name for c in dq_completeness.columns]

_STEM = re.compile(r"^(?P<code>\d{5})_(?P<slug>.*)_(?P<year>\d{4})$")
_STEM_LOOSE = re.compile(r"^(?P<code>\d{5})\D.*?(?P<year>\d{4})$")
_TZ_SUFFIX = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


# ------------------------------------------------------------------ small helpers
def _mask(series: pd.Series, test) -> pd.Series:
    """A boolean Series (also when empty: an empty object Series would select columns)."""
    return pd.Series([bool(test(v)) for v in series], index=series.index, dtype=bool)


def _as_ts(v) -> dt.datetime | None:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    ts = pd.Timestamp(v)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def deadline_for(period: Period, entries: regimes.Entries) -> dt.datetime:
    """End of the units' due day (Hà Nội time) as naive UTC: the deadline of the regime
    of `entries` (the configured regimes) that governs the window (core.regimes)."""
    due = regimes.regime_for(period, entries).deadline(period, "units")
    if due is None:
        raise ValueError(f"the reporting regime of {period} sets no deadline for units (config regimes: deadlines)")
    local_end = dt.datetime.combine(due, dt.time(23, 59, 59))
    return local_end - LOCAL_OFFSET


def _expected_levels(cfg: Settings) -> dict[str, str]:
    return {kind: v.level for kind, v in cfg.completeness.expected.items()}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", fold(text))


def _unit_slugs(name: str, unit_type: str | None) -> set[str]:
    out = {_slug(name)}
    if unit_type and name.lower().startswith(unit_type.lower()):
        out.add(_slug(name[len(unit_type):]))
    return {s for s in out if s}


def _read_units(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(dim_unit)).mappings().all()
    df = pd.DataFrame(rows, columns=[c.name for c in dim_unit.columns])
    for col in ("valid_from", "valid_to"):
        df[col] = pd.Series([as_date(v) for v in df[col]], index=df.index, dtype=object)
    return df


def _in_force(units: pd.DataFrame, start: dt.date, end: dt.date) -> pd.Series:
    return _mask(units["valid_from"], lambda d: d <= end) & _mask(
        units["valid_to"], lambda d: d is None or d >= start)


def _read_batches(engine: sa.Engine, kinds: list[str]) -> pd.DataFrame:
    """Every delivery attempt of the kinds, with its audit verdict and delivery time."""
    cols = ["batch_id", "source_kind", "source_name", "logical_key", "status",
            "delivered_at", "started_at", "finished_at", "passed", "manifest_delivered_at"]
    q = (sa.select(raw_batch.c.batch_id, raw_batch.c.source_kind, raw_batch.c.source_name,
                   raw_batch.c.logical_key, raw_batch.c.status, raw_batch.c.delivered_at,
                   raw_batch.c.started_at, raw_batch.c.finished_at, dq_batch_audit.c.passed)
         .select_from(raw_batch.outerjoin(dq_batch_audit, dq_batch_audit.c.batch_id == raw_batch.c.batch_id))
         .where(raw_batch.c.source_kind.in_(kinds)))
    mq = sa.select(raw_file_manifest.c.batch_id, sa.func.max(raw_file_manifest.c.delivered_at)
                   ).group_by(raw_file_manifest.c.batch_id)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
        manifest = {r[0]: r[1] for r in conn.execute(mq)}
    df = pd.DataFrame([tuple(r) for r in rows], columns=cols[:-1])
    df["manifest_delivered_at"] = df["batch_id"].map(manifest)
    when = []
    for r in df.itertuples(index=False):
        when.append(_as_ts(r.delivered_at) or _as_ts(r.manifest_delivered_at)
                    or _as_ts(r.finished_at) or _as_ts(r.started_at))
    df["when"] = pd.Series(when, index=df.index, dtype=object)
    df["order"] = pd.Series([_as_ts(s) or w for s, w in zip(df["started_at"], df["when"])],
                            index=df.index, dtype=object)
    passed = df["passed"].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else bool(v))
    df["accepted"] = (df["status"] == "loaded") & _mask(passed, lambda v: v is not False)
    df["rejected"] = df["status"].isin(["rejected", "failed"]) | (
        (df["status"] == "loaded") & _mask(passed, lambda v: v is False))
    return df


def _parse_version(version: str | None, source_kind: str) -> dt.datetime | None:
    """A record_version as naive UTC, or None when it is not a timestamp.
    District versions (ngay_cap_nhat) are naive local time; the city's carry 'Z'."""
    if version is None or (not isinstance(version, str)):
        return None
    text = version.split("#", 1)[0].strip()
    if not text:
        return None
    try:
        ts = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if ts.tzinfo is not None:
        return ts.astimezone(dt.UTC).replace(tzinfo=None)
    return ts - LOCAL_OFFSET        # naive: the source's local time (Hà Nội)


def _system_records(engine: sa.Engine, period: Period, kinds: list[str]) -> dict[tuple[str, str], dict]:
    """{(source_kind, source_name): {n, times}} over the receptions and petitions dated
    in the window: for each record the time it first arrived (its earliest landed
    version; versions of one source sort as text in time order), the batch's delivery
    time when the version is not a timestamp. One aggregate query per fact table.

    Cases are left out and a record's later versions do not count: a case's versions
    follow its resolution, and a petition answered or a record corrected months later
    does not mean the period's data arrived late."""
    out: dict[tuple[str, str], dict] = {}
    when = sa.func.coalesce(raw_batch.c.delivered_at, raw_batch.c.finished_at, raw_batch.c.started_at)
    for table, record_type in ((fact_reception, "reception"), (fact_petition, "petition")):
        first = (sa.select(raw_record.c.source_kind, raw_record.c.source_name, raw_record.c.record_id,
                           sa.func.min(raw_record.c.record_version).label("v0"))
                 .where(raw_record.c.source_kind.in_(kinds), raw_record.c.record_type == record_type)
                 .group_by(raw_record.c.source_kind, raw_record.c.source_name, raw_record.c.record_id)
                 .subquery())
        on = sa.and_(first.c.source_kind == table.c.source_kind, first.c.source_name == table.c.source_name,
                     first.c.record_id == table.c.record_id)
        q = (sa.select(table.c.source_kind, table.c.source_name, sa.func.count(),
                       sa.func.max(first.c.v0), sa.func.max(when))
             .select_from(table.outerjoin(first, on)
                          .outerjoin(raw_batch, raw_batch.c.batch_id == table.c.batch_id))
             .where(table.c.source_kind.in_(kinds), table.c.received_date >= period.start,
                    table.c.received_date <= period.end)
             .group_by(table.c.source_kind, table.c.source_name))
        with engine.connect() as conn:
            for kind, name, n, max_version, max_when in conn.execute(q):
                agg = out.setdefault((kind, str(name)), {"n": 0, "times": []})
                agg["n"] += int(n)
                t = _parse_version(max_version, kind) or _as_ts(max_when)
                if t is not None:
                    agg["times"].append(t)
    return out


# ------------------------------------------------------------------ commune registers
def _register_books(batches: pd.DataFrame) -> pd.DataFrame:
    """Register batches with the unit code, year and slug read from the file stem."""
    reg = batches[batches["source_kind"] == REGISTER_KIND].copy()
    codes, years, slugs = [], [], []
    for name, key in zip(reg["source_name"], reg["logical_key"]):
        m = _STEM.match(str(key)) or _STEM_LOOSE.match(str(key))
        code = str(name) if str(name).isdigit() else (m["code"] if m else None)
        codes.append(code)
        years.append(int(m["year"]) if m else None)
        slugs.append(_slug(m["slug"]) if m and "slug" in m.groupdict() else "")
    reg["code"], reg["year"], reg["slug"] = codes, years, slugs
    return reg[reg["code"].notna() & reg["year"].notna()]


def _books_of_unit(books: pd.DataFrame, unit: Any, year: int, all_units: pd.DataFrame) -> pd.DataFrame:
    """The batches of the book(s) of `unit` for `year` (see the module note on codes)."""
    mine = books[(books["code"] == unit.unit_code) & (books["year"] == year)]
    if mine.empty:
        return mine
    y0, y1 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    same_code = all_units[(all_units["unit_code"] == unit.unit_code) & _in_force(all_units, y0, y1)
                          & (all_units["level"] == unit.level)]
    if len(same_code) <= 1:
        return mine
    slugs_by_unit = {u.unit_key: _unit_slugs(str(u.name), u.unit_type) for u in same_code.itertuples()}

    def belongs(slug: str) -> bool:
        matching = [k for k, s in slugs_by_unit.items() if slug in s]
        return not slug or not matching or unit.unit_key in matching

    return mine[mine["slug"].map(belongs)]


def _register_row(unit: Any, period: Period, books: pd.DataFrame, units: pd.DataFrame,
                  deadline: dt.datetime, now: dt.datetime) -> dict:
    eff_start = max(period.start, unit.valid_from)
    eff_end = min(period.end, unit.valid_to) if unit.valid_to else period.end
    years = list(range(eff_start.year, eff_end.year + 1))
    received_years, missing_years, rejected = [], [], 0
    arrivals: list[dt.datetime] = []
    early_years: list[int] = []
    rejected_years: list[int] = []
    for y in years:
        part_end = min(eff_end, dt.date(y, 12, 31))
        b = _books_of_unit(books, unit, y, units)
        n_rej = int(b["rejected"].sum()) if not b.empty else 0
        rejected += n_rej
        ok = b[b["accepted"]] if not b.empty else b
        if ok.empty:
            missing_years.append(y)
            if n_rej:
                rejected_years.append(y)
            continue
        received_years.append(y)
        times = [t for t in ok["when"] if t is not None]
        if not times:
            continue
        after = [t for t in times if to_local(t).date() >= part_end]
        if after:
            arrivals.append(min(after))
        else:
            arrivals.append(max(times))
            early_years.append(y)
    expected, received = len(years), len(received_years)
    first_arrival = max(arrivals) if arrivals else None
    status = _status(expected, received, rejected, first_arrival, deadline)

    yrs = lambda ys: ", ".join(str(y) for y in ys)
    parts = []
    if received:
        parts.append(f"Nhận {received}/{expected} sổ (năm {yrs(received_years)})")
    if status == "thieu":
        if first_arrival is not None:
            parts.append(f"sổ đã nhận gửi ngày {vn_date(to_local(first_arrival).date())}")
        parts.append(f"thiếu sổ năm {yrs(missing_years)}")
        if rejected_years:
            parts.append(f"sổ năm {yrs(rejected_years)} bị từ chối ({rejected} lần gửi)")
        elif rejected:
            parts.append(f"{rejected} lần gửi bị từ chối")
        parts.append(_deadline_phrase(deadline, now))
    elif status in MISSING_STATUSES:
        parts.append(f"Chưa nhận sổ năm {yrs(missing_years)}")
        if rejected_years:
            parts.append(f"sổ năm {yrs(rejected_years)} bị từ chối ({rejected} lần gửi)")
        parts.append(_deadline_phrase(deadline, now))
    else:
        if first_arrival is not None:
            parts.append(_arrival_phrase("gửi ngày", first_arrival, deadline))
        if early_years:
            parts.append(f"sổ năm {yrs(early_years)} gửi trước khi hết kỳ")
        if rejected:
            parts.append(f"{rejected} lần gửi bị từ chối")
    return _row(period, unit.unit_key, REGISTER_KIND, expected, received, rejected,
                first_arrival, deadline, status, "; ".join(parts))


# ------------------------------------------------------------------ systems
def _system_row(unit: Any, kind: str, source_name: str, period: Period, batches: pd.DataFrame,
                records: dict, deadline: dt.datetime, now: dt.datetime) -> dict:
    mine = batches[(batches["source_kind"] == kind) & (batches["source_name"] == source_name)]
    window_start = dt.datetime.combine(period.start, dt.time()) - LOCAL_OFFSET
    window_end_day = period.end
    relevant = mine[_mask(mine["when"], lambda t: t is not None and t >= window_start)]
    rejected = int(relevant["rejected"].sum())
    accepted = mine[mine["accepted"]]
    latest = (mine.assign(_o=mine["order"].map(lambda t: t or dt.datetime.min))
              .sort_values(["_o", "batch_id"]).drop_duplicates("logical_key", keep="last"))
    broken = latest[latest["rejected"]]
    rec = records.get((kind, source_name), {"n": 0, "times": []})
    read_since_start = bool(_mask(accepted["when"], lambda t: t is not None and t >= window_start).any())
    received = int(not accepted.empty and broken.empty and (rec["n"] > 0 or read_since_start))

    first_arrival, how = None, ""
    if received:
        if rec["n"] and rec["times"]:
            first_arrival, how = max(rec["times"]), "record"
        else:
            times = [t for t in accepted["when"] if t is not None]
            after = [t for t in times if to_local(t).date() >= window_end_day]
            if after:
                first_arrival, how = min(after), "after"
            elif times:
                first_arrival, how = max(times), "early"
    status = _status(1, received, rejected, first_arrival, deadline)

    parts = []
    if received:
        if how == "record":
            parts.append(f"{rec['n']} bản ghi trong kỳ, bản ghi cuối cùng đến lúc {vn_local_time(first_arrival)}")
        elif how == "after":
            parts.append(f"Không có bản ghi trong kỳ; lần trích xuất đầu tiên sau kỳ lúc {vn_local_time(first_arrival)}")
        elif how == "early":
            parts.append(f"Không có bản ghi trong kỳ; lần trích xuất gần nhất lúc {vn_local_time(first_arrival)}, "
                         "trước khi hết kỳ")
        if first_arrival is not None:
            parts.append(_arrival_phrase(None, first_arrival, deadline))
        if rejected:
            parts.append(f"{rejected} lần trích xuất lỗi hoặc bị từ chối")
    else:
        if not broken.empty:
            tables = ", ".join(sorted(str(k) for k in broken["logical_key"]))
            parts.append(f"Lần trích xuất gần nhất lỗi hoặc bị từ chối (bảng {tables}); "
                         f"{rejected} lần lỗi/từ chối từ đầu kỳ")
        elif accepted.empty:
            parts.append("Chưa nhận được dữ liệu hợp lệ nào từ hệ thống"
                         + (f"; {rejected} lần lỗi/từ chối" if rejected else ""))
        else:
            parts.append("Không có bản ghi trong kỳ và chưa trích xuất lại từ đầu kỳ")
        parts.append(_deadline_phrase(deadline, now))
    return _row(period, unit.unit_key, kind, 1, received, rejected, first_arrival, deadline,
                status, "; ".join(parts))


# ------------------------------------------------------------------ shared
def _status(expected: int, received: int, rejected: int, first_arrival, deadline) -> str:
    if received == 0:
        return "bi_tu_choi" if rejected > 0 else "chua_bao_cao"
    if received < expected:
        return "thieu"
    if first_arrival is None or first_arrival <= deadline:
        return "dung_han"
    return "muon"


def _deadline_day(deadline: dt.datetime) -> dt.date:
    return to_local(deadline).date()


def _arrival_phrase(prefix: str | None, arrival: dt.datetime, deadline: dt.datetime) -> str:
    day = to_local(arrival).date()
    due = _deadline_day(deadline)
    head = f"{prefix} {vn_date(day)}, " if prefix else ""
    if arrival <= deadline:
        return f"{head}đúng hạn (hạn {vn_date(due)})"
    late = max((day - due).days, 1)
    return f"{head}quá hạn {late} ngày (hạn {vn_date(due)})"


def _deadline_phrase(deadline: dt.datetime, now: dt.datetime) -> str:
    due = _deadline_day(deadline)
    if now > deadline:
        return f"hạn {vn_date(due)}, đã quá {max((to_local(now).date() - due).days, 1)} ngày"
    return f"còn hạn đến {vn_date(due)}"


def _row(period, unit_key, kind, expected, received, rejected, first_arrival, deadline, status, note):
    note = note[:1].upper() + note[1:] if note else note
    return {"period_key": period.key, "unit_key": unit_key, "source_kind": kind,
            "date_from": period.start, "date_to": period.end, "expected": int(expected),
            "received": int(received), "rejected": int(rejected), "first_arrival": first_arrival,
            "deadline": deadline, "status": status, "note": note}


# ------------------------------------------------------------------ public API
def compute(engine: sa.Engine, period: Period, cfg: Settings, *, now: dt.datetime | None = None) -> pd.DataFrame:
    """Expected versus received submissions for `period` (columns of dq_completeness):
    the sources of ``cfg.completeness.expected``, against the deadline of the regime of
    ``cfg.regimes`` that governs the window.

    `now` (naive UTC; default the current time) is the ``computed_at`` stamp and the
    moment against which notes say whether the deadline has passed.
    """
    now = _as_ts(now) or utcnow()
    units = _read_units(engine)
    levels = _expected_levels(cfg)
    deadline = deadline_for(period, cfg.regimes)
    in_force = units[_in_force(units, period.start, period.end)]
    batches = _read_batches(engine, list(levels))
    system_kinds = [k for k in levels if k != REGISTER_KIND]
    records = _system_records(engine, period, system_kinds) if system_kinds else {}
    books = _register_books(batches) if REGISTER_KIND in levels else None

    rows = []
    for kind, level in levels.items():
        for u in in_force[in_force["level"] == level].sort_values("unit_key").itertuples(index=False):
            if kind == REGISTER_KIND:
                rows.append(_register_row(u, period, books, units, deadline, now))
            else:
                # a province's own service (``city``; ``city-<code>`` in a national deployment)
                source_name = city_source_name(cfg, str(u.unit_code)) if kind == "city_service" else str(u.unit_code)
                rows.append(_system_row(u, kind, source_name, period, batches, records, deadline, now))
    df = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "computed_at"])
    df["computed_at"] = now
    df = df[COLUMNS]
    log.info("completeness %s: %d rows; %s", period.key, len(df),
             df["status"].value_counts().to_dict() if not df.empty else {})
    return df


def store(engine: sa.Engine, period: Period, df: pd.DataFrame) -> int:
    """Replace the stored rows of `period` by `df` (idempotent)."""
    records = _records(df[df["period_key"] == period.key] if "period_key" in df else df)

    return replace_period_rows(engine, dq_completeness, period.key, records)


def load(engine: sa.Engine, period: Period) -> pd.DataFrame:
    """The stored rows of `period`."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(dq_completeness).where(
            dq_completeness.c.period_key == period.key)).mappings().all()
    return pd.DataFrame(rows, columns=COLUMNS)


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    for rec in df.to_dict("records"):
        clean = {}
        for k, v in rec.items():
            if k not in COLUMNS:
                continue
            if v is None or (not isinstance(v, (str, dt.date)) and pd.isna(v)):
                v = None
            elif k in ("first_arrival", "deadline", "computed_at"):
                v = _as_ts(v)
            elif k in ("date_from", "date_to"):
                v = as_date(v)
            elif k in ("expected", "received", "rejected"):
                v = int(v)
            clean[k] = v
        out.append(clean)
    return out


def unit_reporting(completeness_df: pd.DataFrame, period: Period | None = None) -> pd.DataFrame:
    """Per unit (index ``unit_key``) of the rows of `period` (all rows when None):
    ``reported`` — one of its expected sources has something accepted (status not
    chua_bao_cao / bi_tu_choi); ``partial`` — something is missing though (thieu);
    ``kinds`` — how many sources it is expected to deliver. The building block of
    every report's row status (reports.levels.row_status_for)."""
    comp = completeness_df
    if period is not None and "period_key" in comp.columns:
        comp = comp[comp["period_key"] == period.key]
    if comp.empty:
        return pd.DataFrame({"reported": pd.Series(dtype=bool), "partial": pd.Series(dtype=bool),
                             "kinds": pd.Series(dtype="int64")}, index=pd.Index([], name="unit_key"))
    status = comp["status"].astype(str)
    g = pd.DataFrame({"unit_key": comp["unit_key"].astype(str).to_numpy(),
                      "ok": (~status.isin(MISSING_STATUSES)).to_numpy(),
                      "partial": (status == "thieu").to_numpy()}).groupby("unit_key")
    return pd.DataFrame({"reported": g["ok"].any(), "partial": g["partial"].any(), "kinds": g.size()})


def summary_by_unit(completeness_df: pd.DataFrame, units_df: pd.DataFrame) -> pd.DataFrame:
    """Per unit and kind, for the data-quality workbook: unit code, name, level, parent,
    expected, received, missing (expected − received), rejected, late (1 when received
    after the deadline), status, note; ordered by level then code."""
    cols = ["period_key", "unit_key", "unit_code", "name", "level", "parent_key", "source_kind",
            "expected", "received", "missing", "rejected", "late", "status", "first_arrival",
            "deadline", "note"]
    if completeness_df.empty:
        return pd.DataFrame(columns=cols)
    u = units_df[["unit_key", "unit_code", "name", "level", "parent_key"]]
    df = completeness_df.merge(u, on="unit_key", how="left")
    df["missing"] = (df["expected"] - df["received"]).clip(lower=0).astype(int)
    df["late"] = (df["status"] == "muon").astype(int)
    df["_lv"] = df["level"].map(LEVEL_ORDER).fillna(9)
    df = df.sort_values(["period_key", "_lv", "unit_code", "unit_key", "source_kind"], kind="mergesort")
    return df[cols].reset_index(drop=True)


def status_counts(completeness_df: pd.DataFrame) -> pd.DataFrame:
    """Number of units per source kind and status (every status of the vocabulary)."""
    if completeness_df.empty:
        return pd.DataFrame(columns=["source_kind", *STATUSES])
    t = pd.crosstab(completeness_df["source_kind"], completeness_df["status"])
    for s in STATUSES:
        if s not in t.columns:
            t[s] = 0
    return t[list(STATUSES)].reset_index()
