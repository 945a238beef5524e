"""Consolidation in yearly partitions (transforms.partitions, transforms.cases): what is
published after each day of new data equals a rebuild of the whole source kind from the
same raw layer, and equals the whole source kind built in one piece (the unpartitioned
build); only the partitions a change touches are rebuilt."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors import city_service
from connectors.raw import Batch
from core import settings
from transforms import partitions
from transforms.consolidate import build_partition, consolidate
from warehouse import db, units
from warehouse.schema import (
    dq_flag,
    dq_quarantine,
    dq_validation,
    fact_case,
    fact_petition,
    fact_reception,
    raw_batch,
    raw_record,
    wh_partition,
)

pytestmark = pytest.mark.integration      # the committed GX suites run on every partition

KEY = b"k" * 32


def reception(day: str, case: str, people: int = 2, **kw) -> dict:
    return {"unit_code": "01", "received_on": day, "mode": "regular", "receiver": "staff", "sitting_id": None,
            "people": people, "kind": "KN", "case_id": case, "visit": "first", "status": "official",
            "citizen_pseudonym": f"p-{case}", **kw}


def case(day: str, ref: str, status: str = "official") -> dict:
    return {"unit_code": "01", "id": ref, "opened_on": day, "kind": "KN", "field": "land",
            "resolution": "in_progress", "resolved_on": None, "status": status}


def land(eng, rows: list[tuple[str, str, str, dict]]) -> None:
    """One city-service extract: (record type, record id, version, payload) per row."""
    batch = Batch(city_service.SOURCE_KIND, city_service.SOURCE_NAME, "mixed", "test://city")
    for record_type, rid, version, payload in rows:
        batch.add(record_type, record_type, payload, key=KEY, record_id=rid, record_version=version,
                  kind=payload.get("kind"))
    with eng.begin() as conn:
        batch.write(conn)


# Three days of deliveries: a record corrected into another year (2022 → 2024, so 2022
# empties), a duplicate entry, a quarantined row, and one case key used by two records
# opened in different years (both quarantined; when one is withdrawn, the other is
# published, though nothing new arrived in its year).
DAYS = [
    [("reception", "A", "2022-01-04T01:00:00Z#1", reception("2022-01-04", "VV-A")),
     ("reception", "B", "2023-03-01T01:00:00Z#1", reception("2023-03-01", "VV-B")),
     ("reception", "Z", "2023-03-02T01:00:00Z#1", reception("2023-03-02", "VV-Z", people=0)),
     ("case", "C1", "2023-05-01T01:00:00Z#1", case("2023-05-01", "VV-1"))],
    [("reception", "A", "2024-02-02T01:00:00Z#2", reception("2024-02-02", "VV-A", people=3)),
     ("reception", "D", "2023-03-05T01:00:00Z#1", reception("2023-03-01", "VV-B")),
     ("case", "C2", "2024-01-10T01:00:00Z#1", case("2024-01-10", "VV-1"))],
    [("case", "C1", "2023-06-01T01:00:00Z#2", case("2023-05-01", "VV-1", status="deleted"))],
]


def _published(eng) -> dict[str, list[tuple]]:
    """Every published and quarantined row, without ids that differ between builds."""
    out = {}
    with eng.connect() as conn:
        for t in (fact_reception, fact_petition, fact_case, dq_quarantine, dq_flag):
            cols = [c for c in t.columns if c.name not in ("quarantine_id", "flag_id", "detected_at")]
            out[t.name] = sorted(tuple(str(v) for v in r) for r in conn.execute(sa.select(*cols)))
    return out


def _rebuilt_from_scratch(eng, tmp_path, name: str):
    """A fresh warehouse holding the same raw layer, consolidated once."""
    fresh = db.engine(f"sqlite:///{tmp_path / name}")
    units.load_dim_unit(fresh, settings.get())
    with eng.connect() as src, fresh.begin() as dst:
        for t in (raw_batch, raw_record):
            rows = [dict(r) for r in src.execute(sa.select(t)).mappings()]
            if rows:
                dst.execute(t.insert(), rows)
    consolidate(fresh, "city_service", settings.get())
    return fresh


def _in_one_piece(eng) -> dict[str, list[tuple]]:
    """The whole source kind built at once (no partitions), as consolidation did before."""
    with eng.connect() as conn:
        batch_ids = [r[0] for r in conn.execute(sa.select(raw_batch.c.batch_id))]
        raw = partitions.read_batches(conn, "city_service", batch_ids)
    frames, quarantine, *_ = build_partition(raw, "city_service", settings.get())
    return {"published": sorted((rt, int(r)) for rt, df in frames.items() for r in df["raw_id"]),
            "quarantined": sorted((int(q["raw_id"]), q["reason_code"], q["reason"]) for q in quarantine)}


def _as_in_one_piece(eng) -> dict[str, list[tuple]]:
    with eng.connect() as conn:
        published = [(rt, int(r)) for rt, t in (("reception", fact_reception), ("petition", fact_petition),
                                                ("case", fact_case))
                     for (r,) in conn.execute(sa.select(t.c.raw_id))]
        quarantined = [(int(r.raw_id), r.reason_code, r.reason) for r in conn.execute(
            sa.select(dq_quarantine.c.raw_id, dq_quarantine.c.reason_code, dq_quarantine.c.reason))]
    return {"published": sorted(published), "quarantined": sorted(quarantined)}


def test_each_day_incremental_equals_a_full_rebuild_and_the_unpartitioned_build(warehouse, tmp_path):
    rebuilt = []
    for day, rows in enumerate(DAYS):
        land(warehouse, rows)
        result = consolidate(warehouse, "city_service", settings.get())
        rebuilt.append(result.stats["partitions_rebuilt"])
        assert _published(warehouse) == _published(_rebuilt_from_scratch(warehouse, tmp_path, f"full{day}.sqlite"))
        assert _as_in_one_piece(warehouse) == _in_one_piece(warehouse)
    # Only what a day touched was rebuilt: day 2 emptied 2022 (withdrawn, not rebuilt);
    # day 3 changed 2023 only, and 2024 was rebuilt because its case now wins.
    assert rebuilt == [["2022", "2023"], ["2023", "2024"], ["2023", "2024"]]
    with warehouse.connect() as conn:
        assert sorted(conn.execute(sa.select(wh_partition.c.partition_key)).scalars()) == ["2023", "2024"]
        cases = conn.execute(sa.select(fact_case.c.case_key, fact_case.c.record_id)).all()
        receptions = dict(conn.execute(sa.select(fact_reception.c.record_id, fact_reception.c.people)).all())
        reasons = dict(conn.execute(sa.select(dq_quarantine.c.record_id, dq_quarantine.c.reason_code)).all())
    assert cases == [("01:VV-1", "C2")]
    assert receptions == {"A": 3, "B": 2}
    assert reasons == {"D": "DUPLICATE", "Z": "PEOPLE_OUT_OF_RANGE"}


def test_a_case_key_in_two_years_is_quarantined_in_both_as_in_one_piece(warehouse, tmp_path):
    # The canonical suite quarantines every record of a shared case key (SOURCE_ID_DUPLICATE);
    # across years the same holds: the day the second year's record arrives, the first
    # year's published case is taken down, though nothing new arrived in its year.
    land(warehouse, [("case", "C2", "2024-01-10T01:00:00Z#1", case("2024-01-10", "VV-7"))])
    consolidate(warehouse, "city_service", settings.get())
    land(warehouse, [("case", "C1", "2023-05-01T01:00:00Z#1", case("2023-05-01", "VV-7"))])
    result = consolidate(warehouse, "city_service", settings.get())
    assert result.stats["partitions_rebuilt"] == ["2023", "2024"]
    with warehouse.connect() as conn:
        assert conn.execute(sa.select(fact_case.c.record_id)).scalars().all() == []
        quarantined = sorted(conn.execute(sa.select(dq_quarantine.c.record_id, dq_quarantine.c.reason_code,
                                                    dq_quarantine.c.reason)).all())
    assert quarantined == [("C1", "SOURCE_ID_DUPLICATE", "Trùng mã bản ghi"),
                           ("C2", "SOURCE_ID_DUPLICATE", "Trùng mã bản ghi")]
    assert _published(warehouse) == _published(_rebuilt_from_scratch(warehouse, tmp_path, "full.sqlite"))
    assert _as_in_one_piece(warehouse) == _in_one_piece(warehouse)


def test_nothing_changed_nothing_rebuilt_and_a_forced_run_gives_the_same(warehouse):
    for rows in DAYS[:2]:
        land(warehouse, rows)
    consolidate(warehouse, "city_service", settings.get())
    before = _published(warehouse)
    assert consolidate(warehouse, "city_service", settings.get()).skipped
    forced = consolidate(warehouse, "city_service", settings.get(), force=True)
    assert forced.stats["partitions_rebuilt"] == ["2023", "2024"] and _published(warehouse) == before
    stats = json.loads(pd.read_sql(sa.select(wh_partition.c.stats), warehouse)["stats"].iloc[0])
    assert stats["reception"]["published"] >= 1


def _validations(eng) -> list[tuple]:
    with eng.connect() as conn:
        return sorted((r.suite, r.partition, bool(r.success), r.evaluated, r.failed, r.details)
                      for r in conn.execute(sa.select(dq_validation)) if r.suite.split("_")[-1] != "batch")


def test_partitions_built_together_equal_each_built_alone(warehouse, tmp_path, monkeypatch):
    # Consolidation builds partitions in groups (each suite run once for the group, its
    # outcome split by partition): published rows, quarantine, flags and the validation
    # history equal those of building each partition alone — also for a case key held in
    # two years (unique within each, repeated across the group).
    from transforms import consolidate as consolidation

    for rows in DAYS[:2] + [[("case", "C9", "2022-03-03T01:00:00Z#1", case("2022-03-03", "VV-1"))]]:
        land(warehouse, rows)
    together = _rebuilt_from_scratch(warehouse, tmp_path, "together.sqlite")
    monkeypatch.setattr(consolidation, "GROUP_ROWS", 1)
    alone = _rebuilt_from_scratch(warehouse, tmp_path, "alone.sqlite")
    assert _published(together) == _published(alone)
    assert _validations(together) == _validations(alone)
    with together.connect() as conn:
        reasons = sorted(conn.execute(sa.select(dq_quarantine.c.record_id, dq_quarantine.c.reason_code)).all())
    assert ("C2", "SOURCE_ID_DUPLICATE") in reasons and ("C9", "SOURCE_ID_DUPLICATE") in reasons
