"""The work behind each Airflow task, as plain functions (tested without Airflow).

Each returns a small JSON-serialisable summary (ids, counts, paths) for XCom; data moves
through the warehouse, never through XCom.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def prepare_warehouse() -> dict:
    """Create the schema if needed and (re)load the unit dimension. Idempotent."""
    from warehouse import db, units  # noqa: PLC0415

    eng = db.engine()
    n = units.load_dim_unit(eng)
    return {"warehouse": eng.url.render_as_string(hide_password=True),
            "units": n}


def ingest_commune_registers(run_id: str | None = None) -> dict:
    from connectors import commune_registers  # noqa: PLC0415
    from warehouse import db  # noqa: PLC0415

    batches = commune_registers.ingest(db.engine(), run_id=run_id)
    return _summary(batches)


def list_district_codes() -> list[str]:
    from connectors import district_db  # noqa: PLC0415

    codes = list(district_db.district_sources())
    log.info("district databases configured: %d", len(codes))
    return codes


def ingest_district(district_code: str, run_id: str | None = None) -> dict:
    from connectors import district_db  # noqa: PLC0415
    from warehouse import db  # noqa: PLC0415

    sources = district_db.district_sources()
    if district_code not in sources:
        raise KeyError(f"no database configured for district {district_code}")
    return _summary(district_db.ingest_district(db.engine(), district_code, sources[district_code],
                                                run_id=run_id))


def ingest_city_service(run_id: str | None = None) -> dict:
    from connectors import city_service  # noqa: PLC0415
    from warehouse import db  # noqa: PLC0415

    return _summary(city_service.ingest(db.engine(), run_id=run_id))


def consolidate(source_kind: str, run_id: str | None = None) -> dict:
    from transforms import consolidate as c  # noqa: PLC0415
    from warehouse import db  # noqa: PLC0415

    r = c.consolidate(db.engine(), source_kind, run_id=run_id)
    return {"source_kind": r.source_kind, "skipped": r.skipped, "batches": r.batches, "stats": r.stats}


def _summary(batches: list[dict]) -> dict:
    rejected = [{"file": b["logical_key"], "reason": b["message"]} for b in batches if b["status"] == "rejected"]
    return {"batches": len(batches), "rows": sum(b["rows"] for b in batches),
            "rejected": rejected, "batch_ids": [b["batch_id"] for b in batches]}
