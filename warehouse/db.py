"""Engine creation and small write helpers shared by every layer."""
from __future__ import annotations

import functools
import logging

import sqlalchemy as sa

from pipeline import settings
from warehouse.schema import metadata

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def _engine(url: str) -> sa.Engine:
    kwargs: dict = {"future": True}
    if url.startswith("sqlite"):
        # Several Airflow task processes may open the same SQLite file: wait for locks.
        kwargs["connect_args"] = {"timeout": 60}
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @sa.event.listens_for(engine, "connect")
        def _pragma(dbapi_conn, _):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    return engine


def engine(url: str | None = None) -> sa.Engine:
    """The warehouse engine (schema created on first use)."""
    url = url or settings.warehouse_url()
    eng = _engine(url)
    metadata.create_all(eng)
    return eng


def replace_period_rows(engine: sa.Engine, table: sa.Table, period_key: str, records: list[dict]) -> int:
    """Replace the rows of one period in a per-period dq_* table (idempotent)."""
    with engine.begin() as conn:
        conn.execute(table.delete().where(table.c.period_key == period_key))
        if records:
            conn.execute(table.insert(), records)
    return len(records)
