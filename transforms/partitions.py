"""The bounded partitions consolidation works in: a source kind's raw rows by the year of
their record's date (``"2024"``; ``"none"`` when the date cannot be read) — in a national
deployment by province and year (``"48-2024"``; the province of the batch's source: a
commune's register, a district's database, a province's service; ``"none-…"`` when the
source names no unit of the warehouse; a hyphen, as the key names files of the
data-quality results).

A year of one province is the largest piece any consolidation step holds in memory, so
memory does not grow with history, and a day of new data rebuilds only the years it
touches (docs/architecture.md, "Consolidation in partitions"). Everything here is
set-based SQL over the raw layer, the same on SQLite and PostgreSQL:

- :func:`assign` gives every new raw row its partition, once (raw rows never change);
- :func:`refresh_current` chooses the current version of every record (registers: of
  every file) among the accepted batches — the choice spans partitions, so a record whose
  corrected version moved to another year leaves the old year;
- :func:`fingerprints` hashes each partition's current raw ids (and the suites), which
  decides what must be rebuilt;
- :func:`read_rows` reads one partition's current rows, the only payloads read.
"""
from __future__ import annotations

import hashlib
import json
from typing import Iterable

import pandas as pd
import sqlalchemy as sa

from core import normalise
from warehouse.schema import dim_unit, dq_batch_audit, raw_batch, raw_record, wh_current_raw, wh_raw_partition

NO_DATE = "none"
# The payload field holding each record's date, per source kind and record type.
DATE_FIELDS = {
    ("commune_register", "reception"): "ngay_tiep", ("commune_register", "petition"): "ngay_nhan",
    ("district_db", "reception"): "ngay_tiep", ("district_db", "petition"): "ngay_nhan",
    ("district_db", "case"): "ngay_thu_ly",
    ("city_service", "reception"): "received_on", ("city_service", "petition"): "received_on",
    ("city_service", "case"): "opened_on",
    ("commune_register", "calendar"): "ngay", ("district_db", "calendar"): "ngay",
    ("city_service", "calendar"): "announced_on",
}
# Rows per statement / per chunk: bounded memory whatever the history.
CHUNK_ROWS = 20_000


def safe_date(value):
    try:
        return normalise.parse_date(value)
    except (ValueError, TypeError):
        return None


def record_date(source_kind: str, record_type: str, payload: dict):
    return safe_date(payload.get(DATE_FIELDS.get((source_kind, record_type), "")))


def partition_key(source_kind: str, record_type: str, payload: dict) -> str:
    """The partition of a payload (what :func:`assign` decides in the database)."""
    return _year_key(record_date(source_kind, record_type, payload))


def _date_value(engine: sa.Engine, source_kind: str):
    """The payload's date field, extracted by the database (no payload is parsed here)."""
    def field(name: str):
        if engine.dialect.name == "postgresql":
            return sa.cast(raw_record.c.payload, sa.JSON)[name].as_string()
        return sa.func.json_extract(raw_record.c.payload, f'$."{name}"')
    whens = [(raw_record.c.record_type == rt, field(name)) for (kind, rt), name in DATE_FIELDS.items()
             if kind == source_kind]
    # (a kind whose records carry no date field, the 06/QLKNTC workbooks: no date)
    return sa.case(*whens, else_=sa.null()) if whens else sa.null()


def source_provinces(engine: sa.Engine) -> dict[str, str]:
    """Every unit code of dim_unit → the code of the province above it (a code names one
    unit's versions, all in one province: checked against the reference data)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(dim_unit.c.unit_key, dim_unit.c.unit_code, dim_unit.c.level,
                                      dim_unit.c.parent_key)).all()
    parent = {r.unit_key: r.parent_key for r in rows}
    province = {r.unit_key: r.unit_code for r in rows if r.level == "tinh"}
    out: dict[str, str] = {}
    for r in rows:
        k, seen = r.unit_key, 0
        while k is not None and k not in province and seen < 10:
            k, seen = parent.get(k), seen + 1
        if k in province:
            out[str(r.unit_code)] = province[k]
    return out


def _source_province(source_name: str, provinces: dict[str, str]) -> str:
    """The province of a raw row's source: ``city-48`` (a province's service), else the
    unit code the source is named after (commune register, district database)."""
    if source_name.startswith("city-"):
        return source_name[len("city-"):]
    return provinces.get(source_name, NO_DATE)


def assign(engine: sa.Engine, source_kind: str, *, by_province: bool = False) -> int:
    """Give the raw rows of `source_kind` that have none their partition; returns how many.
    `by_province` (a national deployment): the key is ``<province>-<year>``."""
    done, after = 0, 0
    provinces = source_provinces(engine) if by_province else {}
    while True:
        with engine.begin() as conn:
            rows = conn.execute(unassigned_chunk(engine, source_kind, after)).all()
            if not rows:
                return done
            after = rows[-1].raw_id
            conn.execute(wh_raw_partition.insert(), [
                {"raw_id": r.raw_id, "source_kind": source_kind,
                 "partition_key": (f"{_source_province(r.source_name, provinces)}-" if by_province else "")
                 + _year_key(safe_date(r.date_value))}
                for r in rows])
            done += len(rows)


def unassigned_chunk(engine: sa.Engine, source_kind: str, after: int) -> sa.Select:
    """The next raw rows of `source_kind` without a partition, after raw id `after`. Each
    chunk starts after the last one (every unassigned row before it was in a chunk), on
    the index of (source_kind, raw_id): from the first raw row each time, the search went
    through every row assigned so far, and the whole assignment grew with its square."""
    return (sa.select(raw_record.c.raw_id, raw_record.c.source_name,
                      _date_value(engine, source_kind).label("date_value"))
            .outerjoin(wh_raw_partition, wh_raw_partition.c.raw_id == raw_record.c.raw_id)
            .where(raw_record.c.source_kind == source_kind, raw_record.c.raw_id > after,
                   wh_raw_partition.c.raw_id.is_(None))
            .order_by(raw_record.c.raw_id).limit(CHUNK_ROWS))


def _year_key(day) -> str:
    return f"{day.year:04d}" if day is not None else NO_DATE


def _binary(engine: sa.Engine, column):
    """Order text by code point, as Python does, whatever the database's locale."""
    return sa.collate(column, "C") if engine.dialect.name == "postgresql" else column


def _accepted_batch(source_kind: str):
    """Loaded batches of the kind that the batch audit did not reject."""
    rejected = sa.exists().where(dq_batch_audit.c.batch_id == raw_batch.c.batch_id,
                                 dq_batch_audit.c.suite == f"{source_kind}_batch",
                                 dq_batch_audit.c.passed.is_(False))
    return sa.and_(raw_batch.c.source_kind == source_kind, raw_batch.c.status == "loaded", ~rejected)


def _current_select(engine: sa.Engine, source_kind: str) -> sa.Select:
    if source_kind == "commune_register":
        # A register file is delivered whole: the latest accepted version of each file
        # (that has rows) is in force, all its rows.
        has_rows = sa.exists().where(raw_record.c.batch_id == raw_batch.c.batch_id)
        rank = sa.func.row_number().over(
            partition_by=raw_batch.c.logical_key,
            order_by=[raw_batch.c.started_at.desc(), _binary(engine, raw_batch.c.batch_id).desc()])
        ranked = (sa.select(raw_batch.c.batch_id, rank.label("rn"))
                  .where(_accepted_batch(source_kind), has_rows).subquery())
        latest = sa.select(ranked.c.batch_id).where(ranked.c.rn == 1).subquery()
        return (sa.select(raw_record.c.raw_id, sa.literal(source_kind), wh_raw_partition.c.partition_key)
                .join(latest, latest.c.batch_id == raw_record.c.batch_id)
                .join(wh_raw_partition, wh_raw_partition.c.raw_id == raw_record.c.raw_id))
    # Databases and services: the latest version of each record id (a version that
    # cannot be ordered — none given — is taken as the newest).
    rank = sa.func.row_number().over(
        partition_by=[raw_record.c.record_type, raw_record.c.source_name, raw_record.c.record_id],
        order_by=[sa.case((raw_record.c.record_version.is_(None), 1), else_=0).desc(),
                  _binary(engine, raw_record.c.record_version).desc(), raw_record.c.raw_id.desc()])
    ranked = (sa.select(raw_record.c.raw_id, wh_raw_partition.c.partition_key, rank.label("rn"))
              .join(raw_batch, raw_batch.c.batch_id == raw_record.c.batch_id)
              .join(wh_raw_partition, wh_raw_partition.c.raw_id == raw_record.c.raw_id)
              .where(raw_record.c.source_kind == source_kind, _accepted_batch(source_kind)).subquery())
    return sa.select(ranked.c.raw_id, sa.literal(source_kind), ranked.c.partition_key).where(ranked.c.rn == 1)


def refresh_current(engine: sa.Engine, source_kind: str) -> None:
    """Choose the current rows of `source_kind` again (after :func:`assign` and the batch
    audit)."""
    with engine.begin() as conn:
        conn.execute(wh_current_raw.delete().where(wh_current_raw.c.source_kind == source_kind))
        conn.execute(wh_current_raw.insert().from_select(
            ["raw_id", "source_kind", "partition_key"], _current_select(engine, source_kind)))


def fingerprints(engine: sa.Engine, source_kind: str, salt: str) -> dict[str, tuple[str, int]]:
    """partition key → (sha256 of `salt` and its current raw ids, number of rows)."""
    hashes: dict[str, hashlib._Hash] = {}
    counts: dict[str, int] = {}
    q = (sa.select(wh_current_raw.c.partition_key, wh_current_raw.c.raw_id)
         .where(wh_current_raw.c.source_kind == source_kind)
         .order_by(wh_current_raw.c.partition_key, wh_current_raw.c.raw_id))
    with engine.connect() as conn:
        for rows in conn.execution_options(yield_per=CHUNK_ROWS).execute(q).partitions():
            for key, raw_id in rows:
                if key not in hashes:
                    hashes[key] = hashlib.sha256(salt.encode())
                    counts[key] = 0
                hashes[key].update(b"%d\n" % raw_id)
                counts[key] += 1
    return {k: (h.hexdigest(), counts[k]) for k, h in hashes.items()}


RAW_COLUMNS = (raw_record.c.raw_id, raw_record.c.batch_id, raw_record.c.source_name, raw_record.c.record_type,
               raw_record.c.source_file, raw_record.c.source_row, raw_record.c.record_id,
               raw_record.c.record_version, raw_record.c.payload, raw_batch.c.logical_key, raw_batch.c.started_at)


def _frame(conn: sa.Connection, q: sa.Select) -> pd.DataFrame:
    df = pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])
    df["payload"] = [json.loads(p) for p in df["payload"]]
    return df


def read_rows(conn: sa.Connection, source_kind: str, key: str) -> pd.DataFrame:
    """The current raw rows of one partition, payloads parsed, in raw_id order."""
    q = (sa.select(*RAW_COLUMNS)
         .join(raw_batch, raw_batch.c.batch_id == raw_record.c.batch_id)
         .join(wh_current_raw, wh_current_raw.c.raw_id == raw_record.c.raw_id)
         .where(wh_current_raw.c.source_kind == source_kind, wh_current_raw.c.partition_key == key)
         .order_by(raw_record.c.raw_id))
    return _frame(conn, q)


def read_batches(conn: sa.Connection, source_kind: str, batch_ids: Iterable[str]) -> pd.DataFrame:
    """All raw rows of the given batches of `source_kind`, payloads parsed."""
    q = (sa.select(*RAW_COLUMNS)
         .join(raw_batch, raw_batch.c.batch_id == raw_record.c.batch_id)
         .where(*_of_batches(source_kind, batch_ids))
         .order_by(raw_record.c.raw_id))
    return _frame(conn, q)


def _of_batches(source_kind: str, batch_ids: Iterable[str]) -> tuple:
    """Raw rows of the given batches of `source_kind`. The kind is tested on the batch, not
    on the raw row: on the raw row, the database read every row of the kind through its
    index for each group of batches (SQLite does once a group holds a few batches)."""
    return raw_batch.c.source_kind == source_kind, raw_record.c.batch_id.in_(list(batch_ids))


def read_batch_dates(conn: sa.Connection, source_kind: str, batch_ids: Iterable[str]) -> pd.DataFrame:
    """What the batch audit checks of the given batches' raw rows: their keys, versions,
    file and the record's date as :func:`assign` reads it (``date_value``, extracted by
    the database: no payload is read or parsed)."""
    q = batch_dates_query(conn.engine, source_kind, batch_ids)
    return pd.DataFrame(conn.execute(q).all(), columns=[c.name for c in q.selected_columns])


def batch_dates_query(engine: sa.Engine, source_kind: str, batch_ids: Iterable[str]) -> sa.Select:
    return (sa.select(raw_record.c.raw_id, raw_record.c.batch_id, raw_record.c.record_type, raw_record.c.record_id,
                      raw_record.c.record_version, raw_batch.c.logical_key,
                      _date_value(engine, source_kind).label("date_value"))
            .join(raw_batch, raw_batch.c.batch_id == raw_record.c.batch_id)
            .where(*_of_batches(source_kind, batch_ids))
            .order_by(raw_record.c.raw_id))


def batch_chunks(conn: sa.Connection, source_kind: str, batch_ids: list[str], max_rows: int = 50_000,
                 max_batches: int = 500) -> list[list[str]]:
    """`batch_ids` in groups of at most `max_rows` landed rows (a bigger batch alone) and
    `max_batches` batches (the length of an IN list)."""
    sizes = dict(conn.execute(sa.select(raw_batch.c.batch_id, raw_batch.c.row_count)
                              .where(raw_batch.c.source_kind == source_kind)).all())
    chunks: list[list[str]] = []
    rows = 0
    for b in batch_ids:
        n = int(sizes.get(b) or 0)
        if not chunks or rows + n > max_rows or len(chunks[-1]) >= max_batches:
            chunks.append([])
            rows = 0
        chunks[-1].append(b)
        rows += n
    return chunks


def raw_ids_in(source_kind: str, key: str):
    """The raw ids of one partition (all versions), as a subquery for deletes."""
    return sa.select(wh_raw_partition.c.raw_id).where(wh_raw_partition.c.source_kind == source_kind,
                                                      wh_raw_partition.c.partition_key == key)
