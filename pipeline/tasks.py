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
    return _summary(batches, "ingest_commune_registers", run_id)


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
                                                run_id=run_id), f"ingest_district {district_code}", run_id)


def ingest_city_service(run_id: str | None = None) -> dict:
    from connectors import city_service  # noqa: PLC0415
    from warehouse import db  # noqa: PLC0415

    return _summary(city_service.ingest(db.engine(), run_id=run_id), "ingest_city_service", run_id)


def consolidate(source_kind: str, run_id: str | None = None) -> dict:
    from transforms import consolidate as c  # noqa: PLC0415
    from warehouse import db  # noqa: PLC0415

    r = c.consolidate(db.engine(), source_kind, run_id=run_id)
    return {"source_kind": r.source_kind, "skipped": r.skipped, "batches": r.batches, "stats": r.stats}


def _summary(batches: list[dict], task: str = "", run_id: str | None = None) -> dict:
    from pipeline import alerts  # noqa: PLC0415

    alerts.source_problems(task, batches, run_id)
    rejected = [{"file": b["logical_key"], "status": b["status"], "reason_code": b.get("reason_code"),
                 "reason": b["message"]} for b in batches if b["status"] in ("rejected", "failed")]
    # Batch ids stay in raw_batch (lineage); XCom gets counts and the reasons to act on.
    return {"batches": len(batches), "rows": sum(b["rows"] for b in batches), "rejected": rejected}


def resolve_period(period: str | None = None, date_from: str | None = None,
                   date_to: str | None = None, today: str | None = None) -> dict:
    """The reporting window from DAG params: a custom range, or a period spec ("latest",
    "2026-Q3", "2026-H1", …) taken relative to `today` (the run's date)."""
    import datetime as dt  # noqa: PLC0415

    from reports import periods  # noqa: PLC0415

    if date_from or date_to:
        if not (date_from and date_to):
            raise ValueError("a custom range needs both date_from and date_to")
        p = periods.custom(date_from, date_to)
    else:
        p = periods.parse(period or "latest", today or dt.date.today())
    return {"key": p.key, "kind": p.kind, "year": p.year, "start": p.start.isoformat(),
            "end": p.end.isoformat(), "label": p.label}


def build_report_01_tcd(period: dict, run_id: str | None = None) -> dict:
    """Write the city's 01/TCD workbook for a window from the published warehouse."""
    return build_city_report("01/TCD", period, run_id=run_id)


def build_city_report(form_code: str, period: dict, run_id: str | None = None) -> dict:
    """Write the city's workbook of `form_code` for a window from the published warehouse,
    with the "Chất lượng dữ liệu" sheet, units that did not report shown as such, the
    lineage companion file, and the identity check recorded in dq_validation."""
    import datetime as dt  # noqa: PLC0415
    import json  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415
    import sqlalchemy as sa  # noqa: PLC0415

    from pipeline import dq, settings  # noqa: PLC0415
    from reports import city  # noqa: PLC0415
    from reports.formdef import IdentityError, RowStatus  # noqa: PLC0415
    from transforms import completeness  # noqa: PLC0415
    from warehouse import db, units  # noqa: PLC0415
    from warehouse.schema import (dq_completeness, dq_validation, fact_reception,  # noqa: PLC0415
                                  fact_reception_calendar, raw_batch, raw_record, rpt_report)

    p = dq.period_from_dict(period)
    eng = db.engine()
    province = settings.config()["province"]["code"]
    unit_df = units.unit_frame()
    with eng.connect() as conn:
        # Published facts only (write–audit–publish), with the raw lineage of each.
        q = (sa.select(fact_reception, raw_record.c.source_file, raw_record.c.source_row)
             .join(raw_record, raw_record.c.raw_id == fact_reception.c.raw_id)
             .where(fact_reception.c.received_date.between(p.start, p.end)))
        records = pd.read_sql(q, conn)
        # the head's published reception calendar (01/TCD cột 10, 16 of TT 06/2025)
        calendar = pd.read_sql(
            sa.select(fact_reception_calendar, raw_record.c.source_file, raw_record.c.source_row)
            .join(raw_record, raw_record.c.raw_id == fact_reception_calendar.c.raw_id), conn)
        batch_ids = sorted(records["batch_id"].unique().tolist())
        cutoff = conn.execute(sa.select(sa.func.max(raw_batch.c.finished_at)).where(
            raw_batch.c.status == "loaded")).scalar_one_or_none()
        comp = pd.read_sql(sa.select(dq_completeness).where(dq_completeness.c.period_key == p.key), conn)
    if comp.empty:       # a run without the assessment step: compute, do not store
        comp = completeness.compute(eng, p)
    status = completeness.row_status(comp, unit_df, p, province)
    row_status = {k: RowStatus(bool(v["reported"]), int(v["expected"]), int(v["missing"]))
                  for k, v in status.items()}
    code = form_code.replace("/", "-")
    out_dir = settings.path_setting("reports") / code / p.key.replace("..", "_")
    path = out_dir / f"{code}_{province}_{p.start:%Y%m%d}-{p.end:%Y%m%d}.xlsx"
    cutoff_text = f"{cutoff:%d/%m/%Y %H:%M:%S} UTC" if cutoff else ""
    meta = {"run_id": run_id or "", "data_cutoff": cutoff_text, "source_batch_count": len(batch_ids)}
    with eng.connect() as conn:
        quality_sheet = dq.report_quality(conn, p, records, status, run_id, cutoff_text)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    check = {"run_id": run_id, "suite": "report_identities", "partition": f"{form_code} {p.key}",
             "evaluated": 1, "validated_at": now}
    try:
        rep = city.city_report(form_code, p, records, unit_df, path, meta, row_status=row_status,
                               quality=quality_sheet, lineage=True,
                               source_frames={"fact_reception_calendar": calendar})
    except IdentityError as exc:
        with eng.begin() as conn:
            conn.execute(dq_validation.insert().values(**check, success=False, failed=len(exc.violations),
                                                       details=json.dumps({"violations": exc.violations[:200]},
                                                                          ensure_ascii=False)))
        raise
    with eng.begin() as conn:
        conn.execute(dq_validation.insert().values(**check, success=True, failed=0, details=json.dumps(
            {"rows": len(rep.table), "checks": len(rep.form.checks), "rule": "REPORT_IDENTITY"})))
    # One row per report and input: re-running over the same batches refreshes the row
    # (new run id and checksum) instead of adding one; new data makes a new row.
    batches_json = json.dumps(batch_ids)
    values = dict(form=form_code, form_version=rep.form.version, unit_code=province,
                  date_from=p.start, date_to=p.end, period_label=p.label, path=str(path),
                  sha256=rep.sha256, run_id=run_id, batches_read=batches_json, created_at=now)
    with eng.begin() as conn:
        same = sa.and_(rpt_report.c.form == form_code, rpt_report.c.unit_code == province,
                       rpt_report.c.date_from == p.start, rpt_report.c.date_to == p.end,
                       rpt_report.c.batches_read == batches_json)
        if conn.execute(sa.select(rpt_report.c.report_id).where(same)).first():
            conn.execute(rpt_report.update().where(same).values(**values))
        else:
            conn.execute(rpt_report.insert().values(**values))
    not_reported = sum(1 for v in status.values() if not v["reported"])
    log.info("wrote %s (%s, %d records, %d rows not reported)", path, p, rep.record_count, not_reported)
    return {"path": str(path), "sha256": rep.sha256, "period": p.label, "records": rep.record_count,
            "lineage": str(rep.lineage_path) if rep.lineage_path else None, "rows_not_reported": not_reported}


def ingest_qlkntc_workbooks(run_id: str | None = None) -> dict:
    """Land the biểu 06/QLKNTC workbooks of the commune inbox (connectors.qlkntc_workbooks);
    then ``consolidate("qlkntc_workbook")`` publishes fact_qlkntc. Besides the rejected
    workbooks, the summary lists the landed ones whose figures the consolidation will
    quarantine (``findings``: file, rule code, reason), for the units to correct."""
    from connectors import qlkntc_workbooks  # noqa: PLC0415
    from warehouse import db  # noqa: PLC0415

    batches = qlkntc_workbooks.ingest(db.engine(), run_id=run_id)
    out = _summary(batches, "ingest_qlkntc_workbooks", run_id)
    out["findings"] = [{"file": b["logical_key"], "reason_code": f["rule"], "reason": f["reason"]}
                       for b in batches for f in b.get("findings") or []]
    return out
