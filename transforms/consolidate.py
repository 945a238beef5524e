"""Consolidate the raw layer into the canonical fact tables, one source kind at a time.

Each call rebuilds the partition of its source kind from the raw layer (delete and
insert in one transaction), so it is idempotent and a re-run after new batches gives
the same result as a single run over everything. Steps, in order:

1. keep the current version of every record: for register files the latest delivered
   version of each file (by file name); for databases and services the latest version
   of each record id;
2. map each payload to the canonical model; rows that cannot be understood are
   quarantined with a reason (dq_quarantine) and not counted;
3. keep official records only (drafts and deleted records are counted in the stats);
4. resolve the recorded unit code with the record's date against the versioned unit
   dimension; a code that was not a unit of the province on that date is quarantined;
5. collapse duplicate entries (same content within one source), keeping the first;
6. validate with the committed Great Expectations suite; a failed suite blocks the
   publication of that partition (the previous published state stays);
7. publish.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from connectors.raw import utcnow
from transforms import canonical, quality
from warehouse import units
from warehouse.schema import (dq_quarantine, dq_validation, fact_case, fact_petition,
                              fact_reception, raw_batch, raw_record, wh_partition_state)

log = logging.getLogger(__name__)

SOURCE_KINDS = ("commune_register", "district_db", "city_service")
FACTS = {"reception": (fact_reception, "reception_key", "received_date"),
         "petition": (fact_petition, "petition_key", "received_date"),
         "case": (fact_case, "case_key", "opened_date")}


class PublicationBlocked(RuntimeError):
    """The canonical partition failed validation and was not published."""


@dataclass
class PartitionResult:
    source_kind: str
    skipped: bool = False
    batches: int = 0
    stats: dict = field(default_factory=dict)


def _read_raw(conn: sa.Connection, source_kind: str) -> pd.DataFrame:
    q = (sa.select(raw_record.c.raw_id, raw_record.c.batch_id, raw_record.c.source_name,
                   raw_record.c.record_type, raw_record.c.source_file, raw_record.c.source_row,
                   raw_record.c.record_id, raw_record.c.record_version, raw_record.c.payload,
                   raw_batch.c.logical_key, raw_batch.c.started_at)
         .join(raw_batch, raw_batch.c.batch_id == raw_record.c.batch_id)
         .where(raw_record.c.source_kind == source_kind, raw_batch.c.status == "loaded"))
    return pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])


def current_versions(raw: pd.DataFrame, source_kind: str) -> pd.DataFrame:
    """Rows of the current version of each file (registers) or record (systems)."""
    if raw.empty:
        return raw
    if source_kind == "commune_register":
        latest = (raw.sort_values(["started_at", "batch_id"])
                  .drop_duplicates("logical_key", keep="last")["batch_id"])
        return raw[raw["batch_id"].isin(set(latest))]
    return (raw.sort_values(["record_version", "raw_id"])
            .drop_duplicates(["record_type", "source_name", "record_id"], keep="last"))


def _fingerprint(conn: sa.Connection, source_kind: str) -> tuple[str, int]:
    ids = sorted(r[0] for r in conn.execute(sa.select(raw_batch.c.batch_id).where(
        raw_batch.c.source_kind == source_kind, raw_batch.c.status == "loaded")))
    return hashlib.sha256("\n".join(ids).encode()).hexdigest(), len(ids)


def _quarantine_row(raw_row: dict, source_kind: str, code: str, reason: str, now) -> dict:
    """A dq_quarantine row: the lineage of the raw row and the reason, no values."""
    src_row = raw_row.get("source_row")
    return {"raw_id": int(raw_row["raw_id"]), "batch_id": raw_row["batch_id"],
            "source_kind": source_kind, "source_name": raw_row["source_name"],
            "record_type": raw_row["record_type"], "source_file": raw_row["source_file"],
            "source_row": None if src_row is None or pd.isna(src_row) else int(src_row),
            "record_id": raw_row["record_id"], "reason_code": code, "reason": reason,
            "detected_at": now}


def build_partition(raw: pd.DataFrame, source_kind: str) -> tuple[dict[str, pd.DataFrame], list[dict], dict]:
    """Pure part of consolidation: raw rows → canonical frames, quarantine rows, stats."""
    now = utcnow()
    cur = current_versions(raw, source_kind)
    quarantine: list[dict] = []
    frames: dict[str, pd.DataFrame] = {}
    stats: dict = {"raw_rows": int(len(raw)), "current_rows": int(len(cur))}
    for record_type in ("reception", "petition", "case"):
        mapper = canonical.MAPPERS.get((source_kind, record_type))
        part = cur[cur["record_type"] == record_type] if not cur.empty else cur
        if mapper is None or part.empty:
            continue
        table, key_col, date_col = FACTS[record_type]
        rows = []
        for r in part.itertuples(index=False):
            try:
                rec = mapper(json.loads(r.payload), r.source_name)
            except (ValueError, KeyError, TypeError) as exc:
                quarantine.append(_quarantine_row(r._asdict(), source_kind, "INVALID_VALUE", str(exc), now))
                continue
            if record_type != "case":
                rid = r.record_id if r.record_id is not None else f"{r.source_file}!{int(r.source_row)}"
                rec[key_col] = f"{source_kind}:{r.source_name}:{rid}"
            rec.update(source_kind=source_kind, source_name=r.source_name, record_id=r.record_id,
                       raw_id=int(r.raw_id), batch_id=r.batch_id)
            rows.append(rec)
        df = pd.DataFrame(rows)
        s = stats.setdefault(record_type, {})
        s["mapped"] = len(df)
        if df.empty:
            continue
        s["not_official"] = int((df["status"] != "official").sum())
        df = df[df["status"] == "official"].drop(columns="status")
        df["unit_key"] = units.resolve_unit_keys(df["unit_code"], df[date_col]).to_numpy()
        bad_unit = df["unit_key"].isna()
        raw_by_id = part.set_index("raw_id", drop=False)
        for row in df[bad_unit].itertuples(index=False):
            quarantine.append(_quarantine_row(
                raw_by_id.loc[row.raw_id].to_dict(), source_kind, "UNKNOWN_UNIT",
                f"mã đơn vị {row.unit_code} không phải đơn vị hành chính hợp lệ của thành phố "
                f"vào ngày {getattr(row, date_col):%d/%m/%Y}", now))
        df = df[~bad_unit].sort_values("raw_id")
        dup_keys = canonical.DEDUPE_KEYS[record_type]
        dup = df.duplicated(subset=dup_keys, keep="first")
        if dup.any():
            # Name the entry each duplicate repeats, so an auditor can see both.
            # (rows are sorted by raw_id, so the group minimum is the entry kept)
            first_raw = df.groupby(dup_keys, dropna=False, sort=False)["raw_id"].transform("min")
            for rid, orig in zip(df.loc[dup, "raw_id"], first_raw[dup]):
                quarantine.append(_quarantine_row(
                    raw_by_id.loc[rid].to_dict(), source_kind, "DUPLICATE",
                    f"bản ghi trùng nội dung với bản ghi raw_id {int(orig)}; chỉ tính một lần", now))
        df = df[~dup]
        s.update(duplicates=int(dup.sum()), unknown_unit=int(bad_unit.sum()), published=len(df))
        frames[record_type] = df[[c.name for c in table.columns]]
    stats["quarantined"] = len([q for q in quarantine if q["reason_code"] != "DUPLICATE"])
    return frames, quarantine, stats


def consolidate(engine: sa.Engine, source_kind: str, *, run_id: str | None = None,
                force: bool = False) -> PartitionResult:
    if source_kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {source_kind!r}")
    with engine.connect() as conn:
        fp, n_batches = _fingerprint(conn, source_kind)
        state = conn.execute(sa.select(wh_partition_state.c.batch_fingerprint).where(
            wh_partition_state.c.source_kind == source_kind)).scalar_one_or_none()
        if state == fp and not force:
            log.info("%s: published state is up to date with %d batches; nothing to do",
                     source_kind, n_batches)
            return PartitionResult(source_kind, skipped=True, batches=n_batches)
        raw = _read_raw(conn, source_kind)
    frames, quarantine, stats = build_partition(raw, source_kind)
    validations = [quality.validate(df, f"{rt}_canonical", f"{source_kind}.{rt}")
                   for rt, df in frames.items()]
    now = utcnow()
    if validations:            # a source kind with no data yet has nothing to validate
        with engine.begin() as conn:
            conn.execute(dq_validation.insert(), [{
                "run_id": run_id, "suite": v["suite"], "partition": v["partition"],
                "success": v["success"], "evaluated": v["evaluated"], "failed": v["failed"],
                "details": json.dumps({"rows": v["rows"], "failed": v["details"]}, ensure_ascii=False),
                "validated_at": now} for v in validations])
    failed = [v for v in validations if not v["success"]]
    if failed:
        raise PublicationBlocked(
            f"{source_kind}: validation failed ({', '.join(v['partition'] for v in failed)}); "
            "the previously published data stays in place. See dq_validation.")
    with engine.begin() as conn:
        for record_type, (table, _, _) in FACTS.items():
            conn.execute(table.delete().where(table.c.source_kind == source_kind))
            df = frames.get(record_type)
            if df is not None and not df.empty:
                recs = df.astype(object).where(df.notna(), None).to_dict("records")
                for i in range(0, len(recs), 5000):
                    conn.execute(table.insert(), recs[i:i + 5000])
        conn.execute(dq_quarantine.delete().where(dq_quarantine.c.source_kind == source_kind))
        for i in range(0, len(quarantine), 5000):
            conn.execute(dq_quarantine.insert(), quarantine[i:i + 5000])
        conn.execute(wh_partition_state.delete().where(wh_partition_state.c.source_kind == source_kind))
        conn.execute(wh_partition_state.insert().values(
            source_kind=source_kind, batch_fingerprint=fp, batches=n_batches,
            stats=json.dumps(stats), consolidated_at=now, run_id=run_id))
    log.info("%s: published %s", source_kind, json.dumps(stats))
    return PartitionResult(source_kind, batches=n_batches, stats=stats)
