"""District petition-management databases, read through SQLAlchemy (any URL).

Incremental by a watermark per database and table on the last-modified column
(``ngay_cap_nhat``): rows modified at or after the watermark are read, and versions
already landed (same id, same last-modified) are skipped, so re-reading the boundary
adds nothing. Every version read is kept in the raw layer; consolidation keeps the
latest.

A database or table that cannot be read never stops the others, and never fails the
task: it is recorded as a batch row for that table, with the rule code and a message
naming the database and table, and its watermark does not move (the next run reads
the same rows again, nothing is lost):

- ``failed`` / SOURCE_UNREACHABLE — the database cannot be opened or read: file
  missing or not a database, server down, or locked by another connection for longer
  than the lock timeout (retried a few times with back-off first). The tables after it
  are recorded failed with the same reason without waiting again.
- ``rejected`` / SOURCE_STRUCTURE — a table or one of the contract's columns is
  missing (docs/data-contracts.md §2); the other tables go on. The optional tables
  (``OPTIONAL_TABLES``: the reception calendar ``lich_tiep_cong_dan``) may be absent:
  nothing is landed for them and no batch is written; present, they must have their
  columns like any other.

The processing and decision columns of ``don_thu`` (``OPTIONAL``) are read when the
table has them; a database without them loads, its petitions without those fields.

Values are landed as stored (an impossible date is quarantined later by the mapping,
it does not stop the table). Rows without an ``id`` or a readable ``ngay_cap_nhat``
cannot be versioned: they are counted in the batch message, not landed.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, model_validator
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from connectors.raw import Batch, get_watermark, known_versions, set_watermark
from core import config_schema, connections, environment, pii, yaml_files
from core.pii import pseudonym_key
from core.settings import Settings

log = logging.getLogger(__name__)
SOURCE_KIND = "district_db"

MODIFIED = "ngay_cap_nhat"


class TableContract(BaseModel):
    """One table of config/district_db_columns.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: Literal["reception", "petition", "case", "calendar"]
    columns: list[str]
    optional_columns: list[str] = []
    optional: bool = False

    @model_validator(mode="after")
    def _versioned(self) -> TableContract:
        missing = [c for c in ("id", MODIFIED) if c not in self.columns]
        if missing:
            raise ValueError(f"columns must include {missing}: rows are versioned by id and {MODIFIED}")
        return self


class DistrictContract(BaseModel):
    """config/district_db_columns.yaml: the tables read and their columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tables: dict[str, TableContract]


# The contract is data (docs/data-contracts.md §2): table → (record type, columns read);
# the columns read when the table has them; the tables read when the database has them.
CONTRACT_FILE = environment.PROJECT_ROOT / "config" / "district_db_columns.yaml"
_CONTRACT = yaml_files.validate_yaml(DistrictContract, CONTRACT_FILE).tables
TABLES = {t: (c.record_type, list(c.columns)) for t, c in _CONTRACT.items() if not c.optional}
OPTIONAL = {t: list(c.optional_columns) for t, c in _CONTRACT.items() if c.optional_columns}
OPTIONAL_TABLES = {t: (c.record_type, list(c.columns)) for t, c in _CONTRACT.items() if c.optional}
OVERLAP = dt.timedelta(minutes=10)


_DEFAULTS = config_schema.DistrictDatabases.model_fields


@dataclass(frozen=True)
class AccessPolicy:
    """How long to wait for a busy source: the driver's lock/connect timeout for one
    attempt, and how many attempts with exponential back-off. Defaults keep a locked
    database to well under a minute; `sources.district_databases` in
    config/pipeline.yaml may set ``lock_timeout_seconds``, ``retry_attempts`` and
    ``retry_max_wait_seconds``; tests pass their own."""

    lock_timeout_seconds: float = _DEFAULTS["lock_timeout_seconds"].default
    retry_attempts: int = _DEFAULTS["retry_attempts"].default
    retry_max_wait_seconds: float = _DEFAULTS["retry_max_wait_seconds"].default

    @classmethod
    def from_config(cls, cfg: config_schema.DistrictDatabases) -> AccessPolicy:
        """The policy of ``sources.district_databases``."""
        return cls(cfg.lock_timeout_seconds, cfg.retry_attempts, cfg.retry_max_wait_seconds)


class SourceProblem(Exception):
    """A table could not be read; `status`/`code` say how it is recorded."""

    def __init__(self, status: str, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


def district_sources(s: Settings) -> dict[str, str]:
    """{district code: SQLAlchemy URL}: Airflow connections tcd_district_<code> (extra
    url) listed in env TCD_DISTRICT_CODES, else every <code>.sqlite of the folder that
    ``file_glob`` matches (district codes are national: a national deployment's folder
    holds every province's)."""
    cfg = s.sources.district_databases
    out: dict[str, str] = {}
    for code in s.env.district_code_list:
        c = connections.connection(f"{cfg.conn_prefix}{code}", s.env)
        if c and c.extra and c.extra.get("url"):
            out[code] = c.extra["url"]
    folder = s.resolve(cfg.default_dir)      # env TCD_DISTRICT_DB_DIR when set
    if folder.is_dir():
        for p in sorted(Path(folder).glob(cfg.file_glob)):
            out.setdefault(p.stem, f"sqlite:///{p}")
    return dict(sorted(out.items()))


def _as_text(v) -> str | None:
    return None if v is None else (v.isoformat(sep=" ") if hasattr(v, "isoformat") else str(v))


def _engine(url: str, policy: AccessPolicy) -> sa.Engine:
    if url.startswith("sqlite"):
        args = {"timeout": policy.lock_timeout_seconds}
    elif url.startswith("postgresql"):
        ms = int(policy.lock_timeout_seconds * 1000)
        args = {"connect_timeout": max(1, int(policy.lock_timeout_seconds)),
                "options": f"-c lock_timeout={ms} -c default_transaction_read_only=on"}
    else:
        args = {}
    return sa.create_engine(url, connect_args=args, poolclass=sa.pool.NullPool)


def _is_transient(exc: BaseException) -> bool:
    """Worth another attempt: locks, busy files, dropped connections."""
    return isinstance(exc, sa.exc.OperationalError)


def _unreachable_reason(exc: BaseException, db_label: str) -> str:
    text = str(getattr(exc, "orig", exc) or exc).lower()
    if "locked" in text or "busy" in text or "lock timeout" in text:
        return (f"cơ sở dữ liệu {db_label} đang bị khóa bởi một kết nối khác (đang ghi hoặc sao lưu) "
                "quá thời gian chờ")
    if "not a database" in text or "malformed" in text or "file is encrypted" in text:
        return f"tệp cơ sở dữ liệu {db_label} bị hỏng hoặc không phải cơ sở dữ liệu SQLite"
    if "unable to open" in text:
        return f"không mở được tệp cơ sở dữ liệu {db_label}"
    return f"không kết nối hoặc không đọc được cơ sở dữ liệu {db_label} ({type(exc).__name__})"


def _read_table(sconn: sa.Connection, table_name: str, cols: list[str], since: str | None,
                db_label: str):
    """Rows of one table modified since `since` (all rows if None), as mappings."""
    try:
        table = sa.Table(table_name, sa.MetaData(), autoload_with=sconn)
    except sa.exc.NoSuchTableError:
        if table_name in OPTIONAL_TABLES:
            return None                 # an optional table the database does not have
        raise SourceProblem("rejected", "SOURCE_STRUCTURE",
                            f"Cơ sở dữ liệu {db_label} không có bảng '{table_name}' theo hợp đồng dữ liệu "
                            "(docs/data-contracts.md §2); bảng này chưa được nạp, mốc đồng bộ giữ nguyên. "
                            "Đơn vị quản lý phần mềm khôi phục bảng rồi lần chạy sau sẽ tự lấy lại.") from None
    missing = [c for c in cols if c not in table.c]
    if missing:
        raise SourceProblem("rejected", "SOURCE_STRUCTURE",
                            f"Bảng '{table_name}' của cơ sở dữ liệu {db_label} thiếu cột: {', '.join(missing)} "
                            "(docs/data-contracts.md §2); bảng này chưa được nạp, mốc đồng bộ giữ nguyên. "
                            "Đơn vị quản lý phần mềm khôi phục cột rồi lần chạy sau sẽ tự lấy lại.")
    cols = cols + [c for c in OPTIONAL.get(table_name, []) if c in table.c]
    # Values are read as the driver gives them, without SQLAlchemy's type processing: an
    # impossible date stored in a DATE column ('2023-02-31', possible in SQLite) must land
    # as it is and be quarantined by the mapping, not stop the whole table.
    q = sa.select(*[sa.type_coerce(table.c[c], sa.types.NullType()).label(c) for c in cols]) \
        .order_by(table.c[MODIFIED], table.c.id)
    dated = isinstance(table.c[MODIFIED].type, (sa.DateTime, sa.Date))
    if since is not None:
        q = q.where(table.c[MODIFIED] >= (dt.datetime.fromisoformat(since) if dated else since))
    rows = [dict(r) for r in sconn.execute(q).mappings()]
    for r in rows:
        r[MODIFIED] = _version_text(r[MODIFIED], dated)
    return rows


def _version_text(value, dated: bool) -> str | None:
    """The row version: the last-modified stamp as text, as SQLAlchemy would have read a
    DATE/TIMESTAMP column ('2024-01-05 10:00:00'); None if it is missing or no date."""
    if dated and isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return _as_text(value)


def ingest_district(engine: sa.Engine, district_code: str, url: str, cfg: Settings, *,
                    run_id: str | None = None, policy: AccessPolicy | None = None) -> list[dict]:
    """Land the new and changed rows of one district database; one summary per batch
    written (loaded, rejected or failed). Never raises for a bad source."""
    key = pseudonym_key(cfg)
    policy = policy or AccessPolicy.from_config(cfg.sources.district_databases)
    redacted = connections.redact_url(url)
    where = Path(url.removeprefix("sqlite:///")).name if url.startswith("sqlite:///") else redacted
    db_label = f"huyện {district_code} ({where})"
    summaries: list[dict] = []
    unreachable: str | None = None    # once the database cannot be read, the next tables are not tried

    src = None
    try:
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
            # SQLAlchemy would silently create an empty database: a missing file is an error.
            unreachable = f"không tìm thấy tệp cơ sở dữ liệu {db_label}"
        else:
            src = _engine(url, policy)
    except sa.exc.ArgumentError as exc:
        unreachable = f"địa chỉ kết nối cơ sở dữ liệu {db_label} không hợp lệ ({type(exc).__name__})"

    retrying = Retrying(retry=retry_if_exception(_is_transient), stop=stop_after_attempt(policy.retry_attempts),
                        wait=wait_exponential(multiplier=0.5, max=policy.retry_max_wait_seconds), reraise=True)
    try:
        for table_name, (record_type, cols) in {**TABLES, **OPTIONAL_TABLES}.items():
            with engine.connect() as wconn:
                wm = get_watermark(wconn, SOURCE_KIND, district_code, table_name)
                # Re-read a margin below the watermark: a row committed late with an
                # older stamp, or one stamped at exactly the watermark (SQLite compares
                # '…:00' and '…:00.000000' as text), is not missed. Versions already
                # landed are skipped, so the margin adds nothing.
                since = None if wm is None else _as_text(dt.datetime.fromisoformat(wm) - OVERLAP)
                known = known_versions(wconn, SOURCE_KIND, district_code, record_type, since)
            batch = Batch(SOURCE_KIND, district_code, table_name, f"{redacted}#{table_name}",
                          run_id=run_id, watermark_from=wm)
            status = "loaded"
            if unreachable and table_name in OPTIONAL_TABLES:
                continue       # whether the database has an optional table is unknown: nothing to record
            try:
                if unreachable:
                    raise SourceProblem("failed", "SOURCE_UNREACHABLE", unreachable)

                def read(table_name=table_name, cols=cols, since=since):
                    with src.connect() as sconn:
                        return _read_table(sconn, table_name, cols, since, db_label)

                rows = retrying(read)
            except SourceProblem as exc:
                status, code, message = exc.status, exc.code, str(exc)
                if exc.code == "SOURCE_UNREACHABLE":
                    message = _failed_message(exc, table_name)
            except sa.exc.DBAPIError as exc:
                unreachable = _unreachable_reason(exc, db_label)
                status, code, message = "failed", "SOURCE_UNREACHABLE", _failed_message(unreachable, table_name)
            except (ValueError, TypeError) as exc:      # a value the driver cannot read
                status, code = "rejected", "SOURCE_STRUCTURE"
                message = (f"Bảng '{table_name}' của cơ sở dữ liệu {db_label} có giá trị không đọc được "
                           f"({type(exc).__name__}); bảng này chưa được nạp, mốc đồng bộ giữ nguyên. Đơn vị quản lý "
                           "phần mềm kiểm tra kiểu dữ liệu các cột theo docs/data-contracts.md §2.")
            except sa.exc.SQLAlchemyError as exc:
                unreachable = f"không đọc được cơ sở dữ liệu {db_label} ({type(exc).__name__})"
                status, code, message = "failed", "SOURCE_UNREACHABLE", _failed_message(unreachable, table_name)
            if status == "loaded" and rows is None:
                continue       # optional table absent: the database loads as before
            if status != "loaded":
                log.warning("district %s table %s %s: %s", district_code, table_name, status, message)
                with engine.begin() as wconn:
                    summaries.append(batch.write(wconn, status=status, message=message, reason_code=code))
                continue

            max_seen, unversioned = wm, 0
            for row in rows:
                version = row[MODIFIED]
                if row["id"] is None or version is None:
                    unversioned += 1
                    continue
                max_seen = version if max_seen is None or version > max_seen else max_seen
                if (str(row["id"]), version) in known:
                    continue
                known.add((str(row["id"]), version))
                batch.add(record_type, table_name, row, key=key, record_id=str(row["id"]),
                          record_version=version, kind=row.get("loai"),
                          case_scope=pii.case_scope(row.get("ma_don_vi"), row.get("vu_viec_id"),
                                                    row.get("ngay_tiep", row.get("ngay_nhan"))))
            message = None
            if unversioned:
                message = (f"Bảng '{table_name}' của cơ sở dữ liệu {db_label}: {unversioned} dòng thiếu "
                           f"id hoặc {MODIFIED} (hoặc {MODIFIED} không phải ngày giờ) nên không xác định "
                           "được phiên bản, chưa được nạp; đơn vị quản lý phần mềm sửa các dòng này.")
            if not batch.rows and not message:
                continue       # nothing new: no empty batch, so re-runs add no rows
            batch.watermark_to = max_seen
            with engine.begin() as wconn:
                summaries.append(batch.write(wconn, message=message))
                if max_seen is not None and max_seen != wm:
                    set_watermark(wconn, SOURCE_KIND, district_code, table_name, max_seen)
    finally:
        if src is not None:
            src.dispose()
    log.info("district %s: %d batches (%d not loaded), %d rows", district_code, len(summaries),
             sum(s["status"] != "loaded" for s in summaries), sum(s["rows"] for s in summaries))
    return summaries


def _failed_message(reason, table_name: str) -> str:
    return (f"Không đọc được bảng '{table_name}': {reason}. Chưa nạp gì từ bảng này, mốc đồng bộ giữ nguyên; "
            "bộ phận quản trị kiểm tra hệ thống nguồn, lần chạy sau sẽ tự lấy lại.")
