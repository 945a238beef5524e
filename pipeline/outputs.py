"""Print where the pipeline's outputs are (the end of `make demo`)."""
from __future__ import annotations

import sqlalchemy as sa

from pipeline import settings
from warehouse import db
from warehouse.schema import dq_quarantine, fact_case, fact_petition, fact_reception, raw_batch, raw_record, rpt_report


def main() -> None:
    eng = db.engine()
    with eng.connect() as conn:
        count = lambda t: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()  # noqa: E731
        rejected = conn.execute(sa.select(sa.func.count()).select_from(raw_batch).where(
            raw_batch.c.status == "rejected")).scalar_one()
        print(f"warehouse   {eng.url.render_as_string(hide_password=True)}")
        print(f"  raw       {count(raw_batch)} batches ({rejected} rejected), {count(raw_record)} rows")
        print(f"  canonical {count(fact_reception)} receptions, {count(fact_petition)} petitions, "
              f"{count(fact_case)} cases; {count(dq_quarantine)} rows in dq_quarantine")
        reports = conn.execute(sa.select(rpt_report.c.form, rpt_report.c.period_label, rpt_report.c.path)
                               .order_by(rpt_report.c.report_id)).all()
    seen = set()
    print(f"reports     {settings.path_setting('reports')}")
    for form, label, path in reports:
        if path in seen:
            continue
        seen.add(path)
        print(f"  {form:8} {label:40} {path}")


if __name__ == "__main__":
    main()
