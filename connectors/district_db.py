"""District petition-management databases, read through SQLAlchemy (any URL).

Incremental by a watermark per database and table on the last-modified column
(``ngay_cap_nhat``): rows modified at or after the watermark are read, and versions
already landed (same id, same last-modified) are skipped, so re-reading the boundary
adds nothing. Every version read is kept in the raw layer; consolidation keeps the
latest. One database that cannot be read fails its own task and no other.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import sqlalchemy as sa

from connectors.raw import Batch, get_watermark, known_versions, set_watermark
from pipeline import settings

log = logging.getLogger(__name__)
SOURCE_KIND = "district_db"

# table → (record type, columns read). Only what the canonical model needs, plus the
# personal-data columns that scrubbing must see to pseudonymise (they are not stored).
TABLES = {
    "tiep_cong_dan": ("reception", ["id", "ma_don_vi", "ngay_tiep", "hinh_thuc", "nguoi_tiep",
                                    "ky_tiep_id", "so_nguoi", "so_cccd", "loai", "vu_viec_id",
                                    "lan_tiep", "trang_thai", "ngay_cap_nhat"]),
    "don_thu": ("petition", ["id", "ma_don_vi", "ngay_nhan", "nguon", "loai", "so_nguoi_dung_ten",
                             "so_cccd", "linh_vuc", "vu_viec_id", "tiep_cong_dan_id", "du_dieu_kien",
                             "thuoc_tham_quyen", "hinh_thuc_xu_ly", "co_van_ban_phuc_dap",
                             "trang_thai", "ngay_cap_nhat"]),
    "vu_viec": ("case", ["id", "ma_don_vi", "ngay_thu_ly", "loai", "linh_vuc", "tinh_trang",
                         "ngay_giai_quyet", "trang_thai", "ngay_cap_nhat"]),
}
MODIFIED = "ngay_cap_nhat"
OVERLAP = dt.timedelta(minutes=10)


def district_sources() -> dict[str, str]:
    """{district code: SQLAlchemy URL}: Airflow connections tcd_district_<code> (extra
    url) listed in env TCD_DISTRICT_CODES, else every <code>.sqlite in the folder."""
    cfg = settings.config()["sources"]["district_databases"]
    out: dict[str, str] = {}
    codes = [c for c in os.environ.get("TCD_DISTRICT_CODES", "").split(",") if c.strip()]
    for code in codes:
        c = settings.connection(f"{cfg['conn_prefix']}{code.strip()}")
        if c and c.extra and c.extra.get("url"):
            out[code.strip()] = c.extra["url"]
    folder = settings.resolve(os.environ.get("TCD_DISTRICT_DB_DIR") or cfg["default_dir"])
    if folder.is_dir():
        for p in sorted(Path(folder).glob("*.sqlite")):
            out.setdefault(p.stem, f"sqlite:///{p}")
    return dict(sorted(out.items()))


def _as_text(v) -> str | None:
    return None if v is None else (v.isoformat(sep=" ") if hasattr(v, "isoformat") else str(v))


def ingest_district(engine: sa.Engine, district_code: str, url: str, *,
                    run_id: str | None = None) -> list[dict]:
    """Land the new and changed rows of one district database."""
    from transforms.pii import pseudonym_key  # noqa: PLC0415

    key = pseudonym_key()
    src = sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    if url.startswith("sqlite:///"):
        # SQLAlchemy would silently create an empty database: a missing file is an error.
        if not Path(url.removeprefix("sqlite:///")).is_file():
            raise FileNotFoundError(f"district database for {district_code} not found: {url}")
    summaries = []
    try:
        src_meta = sa.MetaData()
        with src.connect() as sconn:
            for table_name, (record_type, cols) in TABLES.items():
                table = sa.Table(table_name, src_meta, autoload_with=sconn)
                with engine.connect() as wconn:
                    wm = get_watermark(wconn, SOURCE_KIND, district_code, table_name)
                    # Re-read a margin below the watermark: a row committed late with an
                    # older stamp, or one stamped at exactly the watermark (SQLite compares
                    # '…:00' and '…:00.000000' as text), is not missed. Versions already
                    # landed are skipped, so the margin adds nothing.
                    since = None if wm is None else _as_text(dt.datetime.fromisoformat(wm) - OVERLAP)
                    known = known_versions(wconn, SOURCE_KIND, district_code, record_type, since)
                q = sa.select(*[table.c[c] for c in cols]).order_by(table.c[MODIFIED], table.c.id)
                if since is not None:
                    bound = since
                    if isinstance(table.c[MODIFIED].type, (sa.DateTime, sa.Date)):
                        bound = dt.datetime.fromisoformat(since)
                    q = q.where(table.c[MODIFIED] >= bound)
                batch = Batch(SOURCE_KIND, district_code, table_name,
                              f"{settings.redact_url(url)}#{table_name}", run_id=run_id,
                              watermark_from=wm)
                max_seen = wm
                for row in sconn.execute(q).mappings():
                    version = _as_text(row[MODIFIED])
                    max_seen = version if max_seen is None or version > max_seen else max_seen
                    if (str(row["id"]), version) in known:
                        continue
                    known.add((str(row["id"]), version))
                    batch.add(record_type, table_name, dict(row), key=key, record_id=str(row["id"]),
                              record_version=version, kind=row.get("loai"))
                if not batch.rows:
                    continue       # nothing new: no empty batch, so re-runs add no rows
                batch.watermark_to = max_seen
                with engine.begin() as wconn:
                    summaries.append(batch.write(wconn))
                    set_watermark(wconn, SOURCE_KIND, district_code, table_name, max_seen)
    finally:
        src.dispose()
    log.info("district %s: %d new batches, %d rows", district_code, len(summaries),
             sum(s["rows"] for s in summaries))
    return summaries
