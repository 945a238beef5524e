"""The work behind each Airflow task, as plain functions (tested without Airflow).

Each reads the settings once (``core.settings.get()``) and passes down what the layers
below need. Each returns a small JSON-serialisable summary (ids, counts, paths) for XCom; data moves
through the warehouse, never through XCom.
"""
from __future__ import annotations

import logging

from connectors import city_service, commune_registers, district_db, qlkntc_workbooks
from core import connections, settings
from core.settings import Settings
from pipeline import alerts
from transforms import consolidate as c
from transforms import quality
from warehouse import db, deployment, units

log = logging.getLogger(__name__)


def _engine(cfg: Settings):
    return db.engine(connections.warehouse_url(cfg))


def prepare_warehouse() -> dict:
    """Create the schema if needed and (re)load the unit dimension (every province of a
    national deployment, with the national level). Idempotent."""
    cfg = settings.get()
    eng = _engine(cfg)
    n = units.load_dim_unit(eng, cfg, deployment.provinces(cfg) if deployment.is_national(cfg) else None)
    return {"warehouse": eng.url.render_as_string(hide_password=True),
            "units": n}


def ingest_commune_registers(run_id: str | None = None) -> dict:
    cfg = settings.get()
    batches = commune_registers.ingest(_engine(cfg), cfg, run_id=run_id)
    return _summary(batches, "ingest_commune_registers", run_id)


def list_district_codes() -> list[str]:
    codes = list(district_db.district_sources(settings.get()))
    log.info("district databases configured: %d", len(codes))
    return codes


def ingest_district(district_code: str, run_id: str | None = None) -> dict:
    cfg = settings.get()
    sources = district_db.district_sources(cfg)
    if district_code not in sources:
        raise KeyError(f"no database configured for district {district_code}")
    return _summary(district_db.ingest_district(_engine(cfg), district_code, sources[district_code], cfg,
                                                run_id=run_id), f"ingest_district {district_code}", run_id)


def list_city_services() -> list[str]:
    """The provinces whose service is read: the one served, or every one of a national
    deployment."""
    return list(deployment.provinces(settings.get()))


def ingest_city_service(province_code: str | None = None, run_id: str | None = None) -> dict:
    """Land the change feed of the province's service (default: the province served)."""
    cfg = settings.get()
    code = province_code or deployment.provinces(cfg)[0]
    return _summary(city_service.ingest(_engine(cfg), cfg, run_id=run_id, province_code=code),
                    f"ingest_city_service {code}", run_id)


def consolidate(source_kind: str, run_id: str | None = None) -> dict:
    cfg = settings.get()
    r = c.consolidate(_engine(cfg), source_kind, cfg, run_id=run_id)
    if not r.skipped:
        quality.update_data_docs(cfg.path("data_quality"))
    return {"source_kind": r.source_kind, "skipped": r.skipped, "batches": r.batches, "stats": r.stats}


def _summary(batches: list[dict], task: str = "", run_id: str | None = None) -> dict:
    alerts.source_problems(task, batches, run_id)
    rejected = [{"file": b["logical_key"], "status": b["status"], "reason_code": b.get("reason_code"),
                 "reason": b["message"]} for b in batches if b["status"] in ("rejected", "failed")]
    # Batch ids stay in raw_batch (lineage); XCom gets counts and the reasons to act on.
    return {"batches": len(batches), "rows": sum(b["rows"] for b in batches), "rejected": rejected}


def ingest_qlkntc_workbooks(run_id: str | None = None) -> dict:
    """Land the biểu 06/QLKNTC workbooks of the commune inbox (connectors.qlkntc_workbooks);
    then ``consolidate("qlkntc_workbook")`` publishes fact_qlkntc. Besides the rejected
    workbooks, the summary lists the landed ones whose figures the consolidation will
    quarantine (``findings``: file, rule code, reason), for the units to correct."""
    cfg = settings.get()
    batches = qlkntc_workbooks.ingest(_engine(cfg), cfg, run_id=run_id)
    out = _summary(batches, "ingest_qlkntc_workbooks", run_id)
    out["findings"] = [{"file": b["logical_key"], "reason_code": f["rule"], "reason": f["reason"]}
                       for b in batches for f in b.get("findings") or []]
    return out
