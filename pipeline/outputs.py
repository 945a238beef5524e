"""Print where the pipeline's outputs are (the end of `make demo`)."""
from __future__ import annotations

import json

import sqlalchemy as sa

from core import connections, settings
from warehouse import db
from warehouse.schema import (
    dq_batch_audit,
    dq_completeness,
    dq_flag,
    dq_outlier,
    dq_quarantine,
    fact_case,
    fact_petition,
    fact_reception,
    raw_batch,
    raw_record,
    rpt_report,
)


def main() -> None:
    cfg = settings.get()
    eng = db.engine(connections.warehouse_url(cfg))
    with eng.connect() as conn:
        count = lambda t: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        refused = dict(conn.execute(sa.select(raw_batch.c.status, sa.func.count()).where(
            raw_batch.c.status != "loaded").group_by(raw_batch.c.status)).all())
        audit_rejected = conn.execute(sa.select(sa.func.count()).select_from(dq_batch_audit).where(
            dq_batch_audit.c.passed.is_(False))).scalar_one()
        by_reason = conn.execute(sa.select(dq_quarantine.c.reason_code, sa.func.count())
                                 .group_by(dq_quarantine.c.reason_code).order_by(sa.func.count().desc())).all()
        completeness = conn.execute(sa.select(dq_completeness.c.period_key, dq_completeness.c.status,
                                              sa.func.count()).group_by(dq_completeness.c.period_key,
                                                                        dq_completeness.c.status)).all()
        outliers = conn.execute(sa.select(sa.func.count()).select_from(dq_outlier).where(
            dq_outlier.c.flagged.is_(True))).scalar_one()
        print(f"warehouse   {eng.url.render_as_string(hide_password=True)}")
        print(f"  raw       {count(raw_batch)} batches (refused at landing: {refused or 'none'}; "
              f"rejected by the batch audit: {audit_rejected}), {count(raw_record)} rows")
        print(f"  canonical {count(fact_reception)} receptions, {count(fact_petition)} petitions, "
              f"{count(fact_case)} cases")
        print(f"  quality   {count(dq_quarantine)} rows quarantined "
              f"({', '.join(f'{c} {n}' for c, n in by_reason) or 'none'}); {count(dq_flag)} rows flagged; "
              f"{outliers} outliers flagged")
        periods: dict[str, dict] = {}
        for key, status, n in completeness:
            periods.setdefault(key, {})[status] = n
        for key, st in periods.items():
            print(f"  completeness {key}: " + ", ".join(f"{s} {n}" for s, n in sorted(st.items())))
        reports = conn.execute(sa.select(rpt_report.c.date_from, rpt_report.c.date_to, sa.func.count())
                               .group_by(rpt_report.c.date_from, rpt_report.c.date_to)).all()
    dq_dir = cfg.path("data_quality")
    print(f"data quality {dq_dir}")
    print(f"  Data Docs  {dq_dir / 'data_docs' / 'index.html'}")
    for wb in sorted(dq_dir.glob("*/*.xlsx")):
        print(f"  workbook   {wb}")
    root = cfg.path("reports")
    print(f"reports     {root}  ({sum(n for *_, n in reports)} issued reports in rpt_report)")
    for manifest in sorted(root.glob("*/manifest.json")):
        entries = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
        by_level: dict[str, int] = {}
        for e in entries:
            by_level[e["level"]] = by_level.get(e["level"], 0) + 1
        documents = sum(1 for e in entries if str(e.get("path", "")).endswith(".docx"))
        print(f"  {manifest.parent.name:24} {len(entries) - documents:5} workbooks"
              + (f" + {documents} narrative document(s)" if documents else "") + " ("
              + ", ".join(f"{lv} {n}" for lv, n in sorted(by_level.items())) + f")  {manifest}")
    for summary in sorted(root.glob("*/tinh/*/TONG-HOP_*.xlsx")):
        print(f"  summary    {summary}")
    mailbox = root.parent / "mailbox" / "new"
    if mailbox.is_dir():
        print(f"e-mails     {len(list(mailbox.iterdir()))} received by the local mail sink in {mailbox.parent}")


if __name__ == "__main__":
    main()
