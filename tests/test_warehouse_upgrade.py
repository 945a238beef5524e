"""An existing warehouse opened by a newer version (warehouse.db.engine): the optional
columns and the indexes added to the schema since are created, the data kept."""
from __future__ import annotations

import sqlalchemy as sa

from warehouse import db
from warehouse.schema import metadata, rpt_report


def test_new_optional_columns_and_indexes_are_added(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = sa.create_engine(url)
    metadata.create_all(old)
    with old.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_rpt_report_path"))
        conn.execute(sa.text("ALTER TABLE rpt_report DROP COLUMN batches_read"))
        conn.execute(sa.text("INSERT INTO rpt_report (form, form_version, unit_code, date_from, date_to, "
                             "period_label, path, sha256, created_at) VALUES ('01/TCD', 'v', '01', '2025-01-01', "
                             "'2025-03-31', 'Quý I', 'a.xlsx', 'x', '2025-04-01 00:00:00')"))
    old.dispose()

    eng = db.engine(url)
    inspector = sa.inspect(eng)
    assert "batches_read" in {c["name"] for c in inspector.get_columns("rpt_report")}
    assert "ix_rpt_report_path" in {ix["name"] for ix in inspector.get_indexes("rpt_report")}
    with eng.connect() as conn:
        assert conn.execute(sa.select(rpt_report.c.path, rpt_report.c.batches_read)).all() == [("a.xlsx", None)]
