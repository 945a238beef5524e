"""Landing rows in the raw layer: batches, lineage, manifest and watermarks."""
from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from core import normalise, pii
from core.dates import utcnow
from warehouse.schema import raw_batch, raw_record, raw_watermark

log = logging.getLogger(__name__)


def new_batch_id() -> str:
    """A random id in lower-case base32: no long runs of digits, so that a search of the
    outputs for ID or phone numbers is not tripped by lineage ids."""
    return base64.b32encode(uuid.uuid4().bytes).decode("ascii").rstrip("=").lower()


def is_denunciation(kind: object) -> bool:
    """True unless the kind is recognisably KN or KNPA: when in doubt, protect."""
    return normalise.KIND.get(normalise.fold(kind) if kind is not None else "") not in ("KN", "KNPA")


def _jsonable(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


@dataclass
class Batch:
    """One unit of ingestion: a file version, a database table delta, an API delta."""

    source_kind: str
    source_name: str
    logical_key: str
    source_ref: str
    run_id: str | None = None
    checksum: str | None = None
    watermark_from: str | None = None
    watermark_to: str | None = None
    delivered_at: dt.datetime | None = None     # source-side delivery time (file mtime)
    batch_id: str = field(default_factory=new_batch_id)
    started_at: dt.datetime = field(default_factory=utcnow)
    rows: list[dict] = field(default_factory=list)

    def add(self, record_type: str, source_file: str, payload: dict, *, key: bytes,
            source_row: int | None = None, record_id: str | None = None,
            record_version: str | None = None, kind: object = None,
            case_scope: str | None = None) -> None:
        """Scrub and add one source row. `kind` decides whether it is a denunciation
        (when in doubt, it is); `case_scope` (pii.case_scope: unit, case reference, day)
        scopes a denouncer's pseudonym to the case."""
        clean = pii.scrub(payload, key, is_denunciation=is_denunciation(kind), case_scope=case_scope)
        self.rows.append({
            "batch_id": self.batch_id, "source_kind": self.source_kind,
            "source_name": self.source_name, "record_type": record_type,
            "source_file": source_file, "source_row": source_row,
            "record_id": None if record_id is None else str(record_id),
            "record_version": record_version,
            "payload": json.dumps({k: _jsonable(v) for k, v in clean.items()},
                                  ensure_ascii=False, sort_keys=True),
        })

    def write(self, conn: sa.Connection, *, status: str = "loaded", message: str | None = None,
              reason_code: str | None = None) -> dict:
        """Insert the batch row and its raw rows in the caller's transaction."""
        now = utcnow()
        for r in self.rows:
            r["ingested_at"] = now
        conn.execute(raw_batch.insert().values(
            batch_id=self.batch_id, source_kind=self.source_kind, source_name=self.source_name,
            logical_key=self.logical_key, source_ref=self.source_ref, checksum=self.checksum,
            watermark_from=self.watermark_from, watermark_to=self.watermark_to,
            row_count=len(self.rows), status=status, message=message, reason_code=reason_code,
            run_id=self.run_id,
            started_at=self.started_at, finished_at=now, delivered_at=self.delivered_at or now))
        for i in range(0, len(self.rows), 5000):
            conn.execute(raw_record.insert(), self.rows[i:i + 5000])
        return {"batch_id": self.batch_id, "source_kind": self.source_kind,
                "logical_key": self.logical_key, "rows": len(self.rows), "status": status,
                "reason_code": reason_code, "message": message}


def get_watermark(conn: sa.Connection, source_kind: str, source_name: str, stream: str) -> str | None:
    return conn.execute(sa.select(raw_watermark.c.watermark).where(
        raw_watermark.c.source_kind == source_kind, raw_watermark.c.source_name == source_name,
        raw_watermark.c.stream == stream)).scalar_one_or_none()


def set_watermark(conn: sa.Connection, source_kind: str, source_name: str, stream: str, value: str) -> None:
    conn.execute(raw_watermark.delete().where(
        raw_watermark.c.source_kind == source_kind, raw_watermark.c.source_name == source_name,
        raw_watermark.c.stream == stream))
    conn.execute(raw_watermark.insert().values(
        source_kind=source_kind, source_name=source_name, stream=stream, watermark=value,
        updated_at=utcnow()))


def known_versions(conn: sa.Connection, source_kind: str, source_name: str,
                   record_type: str, since_version: str | None) -> set[tuple[str, str]]:
    """(record_id, record_version) pairs already landed at or after a watermark, so a
    re-read of the watermark boundary adds nothing."""
    q = sa.select(raw_record.c.record_id, raw_record.c.record_version).where(
        raw_record.c.source_kind == source_kind, raw_record.c.source_name == source_name,
        raw_record.c.record_type == record_type)
    if since_version is not None:
        q = q.where(raw_record.c.record_version >= since_version)
    return {(r[0], r[1]) for r in conn.execute(q)}
