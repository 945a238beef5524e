"""Engine creation and small write helpers shared by every layer."""
from __future__ import annotations

import functools
import logging

import sqlalchemy as sa

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


def engine(url: str) -> sa.Engine:
    """The warehouse engine at `url` (schema created on first use, new optional columns and indexes
    added). The task functions pass ``core.connections.warehouse_url(settings)``."""
    eng = _engine(url)
    metadata.create_all(eng)
    _upgrade_schema(url)
    return eng


@functools.lru_cache(maxsize=8)
def _upgrade_schema(url: str) -> tuple[str, ...]:
    """Columns added to the schema after a warehouse was created — always nullable, for
    fields a source may not carry (e.g. the TT 06/2025 fields of fact_petition) — are
    added to its existing tables (ALTER TABLE … ADD COLUMN, SQLite and PostgreSQL), so an
    existing warehouse keeps working; their values come with the next consolidation.
    Anything else (a changed type, a new NOT NULL column) is a real migration and is
    refused with a message. Indexes added to the schema since are created too. Once per
    URL and process."""
    eng = _engine(url)
    inspector = sa.inspect(eng)
    added = []
    with eng.begin() as conn:
        for table in metadata.sorted_tables:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for col in table.columns:
                if col.name in have:
                    continue
                if not col.nullable or col.primary_key:
                    raise RuntimeError(f"warehouse table {table.name} lacks the required column {col.name}: "
                                       "rebuild the warehouse (make clean) or migrate it")
                ddl = col.type.compile(dialect=eng.dialect)
                conn.execute(sa.text(f'ALTER TABLE {table.name} ADD COLUMN "{col.name}" {ddl}'))
                added.append(f"{table.name}.{col.name}")
            # Indexes added since (create_all makes them only with a new table).
            have_ix = {ix["name"] for ix in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in have_ix:
                    index.create(conn, checkfirst=True)
                    added.append(f"index {index.name}")
    if added:
        log.warning("warehouse %s: added new optional columns and indexes %s", eng.url.render_as_string(hide_password=True),
                    ", ".join(added))
    return tuple(added)


def replace_period_rows(engine: sa.Engine, table: sa.Table, period_key: str, records: list[dict]) -> int:
    """Replace the rows of one period in a per-period dq_* table (idempotent)."""
    with engine.begin() as conn:
        conn.execute(table.delete().where(table.c.period_key == period_key))
        if records:
            conn.execute(table.insert(), records)
    return len(records)
