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


def test_a_partition_is_replaced_through_indexes_not_by_scanning_history(tmp_path):
    """Publishing a partition deletes its previous rows (transforms.consolidate) and reads
    its case candidates (transforms.cases) by index: a full scan per partition made a
    national consolidation's cost grow with the square of its history."""
    from transforms.cases import partition_candidates
    from transforms.consolidate import partition_deletes
    from warehouse.schema import wh_case_candidate

    eng = db.engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    statements = [*partition_deletes("city_service", "48-2024"),
                  sa.select(wh_case_candidate.c.case_key).where(*partition_candidates("city_service", "48-2024")),
                  wh_case_candidate.delete().where(*partition_candidates("city_service", "48-2024"))]
    assert len(statements) == 8
    with eng.connect() as conn:
        for statement in statements:
            compiled = statement.compile(eng, compile_kwargs={"literal_binds": True})
            plan = [r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
            table = statement.table.name if isinstance(statement, sa.Delete) else "wh_case_candidate"
            assert not any(step.startswith(f"SCAN {table}") for step in plan), (str(compiled), plan)
            assert any(step.startswith(f"SEARCH {table} USING") for step in plan), (str(compiled), plan)


def test_raw_rows_are_walked_and_read_by_batch_through_indexes(tmp_path):
    """Partition assignment takes the next chunk after the last on the (kind, raw id)
    index, and the batch audit reads a group of batches through the batch index — not
    every raw row of the kind for each chunk or group, which grew with history."""
    from transforms import partitions

    eng = db.engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    batches = [f"b{i}" for i in range(20)]
    with eng.connect() as conn:
        def plan(statement) -> list[str]:
            compiled = statement.compile(eng, compile_kwargs={"literal_binds": True})
            return [r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]

        chunk = plan(partitions.unassigned_chunk(eng, "city_service", 1000))
        assert "SEARCH raw_record USING INDEX ix_raw_record_kind_id (source_kind=? AND raw_id>?)" in chunk, chunk
        assert not any("TEMP B-TREE" in step for step in chunk), chunk
        for kind in ("city_service", "commune_register"):
            group = plan(partitions.batch_dates_query(eng, kind, batches))
            assert "SEARCH raw_record USING INDEX ix_raw_record_batch (batch_id=?)" in group, group
