"""The data TT 06/2025 needs that older sources lack (forms-2025.md §4.7 items 3 and 4):
each matter's không thụ lý date — with it, its acceptance status at any window end — and
the organisations a conclusion recommends for (and its execution subjects to)
administrative handling.

The small generated data set (tests/conftest.py: district 001, two communes, the city,
to 31/10/2025) goes through the three production connectors (the city over HTTP) and
consolidation; every published petition's TT 06/2025 fields must equal the generator's
ground truth, for every kind of source. The register books written before the TT 06/2025
template (before 2024) lack the columns: their petitions carry NULL, never 0, and the
forms leave their rows empty (tests/test_forms_tt06_results.py). The forms computed on
this warehouse for 2025-Q4 split every matter of 03/GQKN and 04/GQTC column 2 into
columns 3–6 (2 = 3 + 4 + 5 + 6 checked)."""
from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from core import settings

pytestmark = pytest.mark.integration   # the city service over HTTP

FIELDS = ("not_accepted_date", "acceptance_recorded", "sanction_orgs", "sanctioned_orgs")


@pytest.fixture(scope="module")
def landed(small_sources, city_server, tmp_path_factory):
    from connectors import city_service, commune_registers, district_db
    from transforms.consolidate import consolidate
    from warehouse import db, units

    root = tmp_path_factory.mktemp("tt06_fields")
    eng = db.engine(f"sqlite:///{root / 'warehouse.sqlite'}")
    units.load_dim_unit(eng, settings.get())
    commune_registers.ingest(eng, settings.get(), inbox=small_sources / "commune_inbox")
    district_db.ingest_district(eng, "001", f"sqlite:///{small_sources / 'district_db' / '001.sqlite'}", settings.get())
    url, token = city_server
    city_service.ingest(eng, settings.get(), base_url=url, token=token)
    for kind in ("commune_register", "district_db", "city_service"):
        consolidate(eng, kind, settings.get())
    return eng


def test_tt06_fields_land_as_the_truth_holds(landed, small_sources):
    gt = sqlite3.connect(small_sources / "ground_truth.sqlite")
    gt.row_factory = sqlite3.Row
    truth = {(r["source_kind"], r["record_id"]): dict(r) for r in gt.execute("SELECT * FROM gt_petition")}
    gt.close()
    with landed.connect() as c:
        facts = c.execute(sa.text(
            "SELECT f.*, r.source_file, r.source_row FROM fact_petition f JOIN raw_record r ON r.raw_id = f.raw_id")
        ).mappings().all()
    seen = {}
    for f in facts:
        rid = f"{f['source_file']}:{f['source_row']}" if f["source_kind"] == "commune_register" else f["record_id"]
        t = truth.pop((f["source_kind"], rid))
        got = [str(f["not_accepted_date"])[:10] if f["not_accepted_date"] else None,
               None if f["acceptance_recorded"] is None else int(f["acceptance_recorded"]),
               f["sanction_orgs"], f["sanctioned_orgs"]]
        assert got == [t[c] for c in FIELDS], (f["source_kind"], rid)
        s = seen.setdefault(f["source_kind"], {"rows": 0, "recorded": 0, "not_accepted": 0, "orgs": 0,
                                                "accepted_and_not": 0})
        s["rows"] += 1
        s["recorded"] += bool(f["acceptance_recorded"])
        s["not_accepted"] += f["not_accepted_date"] is not None
        s["orgs"] += bool(f["sanction_orgs"])
        s["accepted_and_not"] += f["not_accepted_date"] is not None and f["accepted_date"] is not None
        if f["not_accepted_date"] is not None:
            assert f["outcome"] is None and str(f["not_accepted_date"]) >= "2025", rid
    assert truth == {}, "every petition of the truth is published"
    # Every kind of source carries the fields (registers: from the 2024 books on) and
    # has matters not accepted; none is both accepted and not.
    for kind in ("commune_register", "district_db", "city_service"):
        s = seen[kind]
        assert s["recorded"] and s["not_accepted"] and not s["accepted_and_not"], (kind, s)
    assert seen["district_db"]["recorded"] == seen["district_db"]["rows"]
    assert seen["city_service"]["recorded"] == seen["city_service"]["rows"]
    assert 0 < seen["commune_register"]["recorded"] < seen["commune_register"]["rows"], "older books lack them"
    assert sum(s["orgs"] for s in seen.values()) > 0
    with landed.connect() as c:
        older = c.execute(sa.text(
            "SELECT COUNT(*), COUNT(f.acceptance_recorded), COUNT(f.sanction_orgs) FROM fact_petition f "
            "JOIN raw_record r ON r.raw_id = f.raw_id WHERE f.source_kind = 'commune_register' "
            "AND r.source_file LIKE '%\\_2023.xlsx%' ESCAPE '\\'")).one()
    assert older[0] > 0 and tuple(older[1:]) == (0, 0), "a 2023 book has no TT 06/2025 columns: NULL, not 0"


def test_acceptance_split_of_the_2025_q4_forms(landed):
    """On the landed data, 03/GQKN and 04/GQTC of 2025-Q4 for the city (its own scope,
    through the production report inputs) split column 2 into 3–6, the split adds up,
    and there are matters not accepted or still under review."""
    from core import periods
    from pipeline import reporting
    from reports import levels
    from reports.formdef import check_identities, compute

    p = periods.parse("2025-Q4")
    inputs = reporting.report_inputs(landed, p)
    scope = next(s for s in levels.report_scopes(p, inputs.units) if s.level == "tinh" and s.kind == "own")
    for code in ("03/GQKN", "04/GQTC"):
        prep = reporting.prepare(landed, inputs, code, scope)
        table = compute(prep.form, prep.records, prep.rows, row_status=prep.status, period=p)
        assert check_identities(prep.form, table) == [], code
        row = table[table["kind"].ne("total")].iloc[0]
        assert row[2] > 0 and row[2] == row[3] + row[4] + row[5] + row[6], (code, row.to_dict())
        assert row[3] + row[5] > 0, (code, row.to_dict())


def test_an_existing_warehouse_gets_the_new_optional_columns(tmp_path):
    """A warehouse created before the TT 06/2025 fields existed keeps working: opening
    it adds the new nullable columns (its rows read NULL until re-consolidated)."""
    from warehouse import db
    from warehouse.schema import fact_petition

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = sa.MetaData()
    sa.Table("fact_petition", old, *[c.copy() for c in fact_petition.columns if c.name not in FIELDS])
    raw = sa.create_engine(url)
    old.create_all(raw)
    with raw.begin() as c:
        c.execute(sa.text("INSERT INTO fact_petition (petition_key, unit_code, unit_key, received_date, channel, "
                          "petition_kind, signers, raw_id, batch_id, source_kind, source_name) VALUES "
                          "('p1', '00004', 'legacy:00004', '2024-01-02', 'buu_chinh', 'KN', 'mot', 1, 'b', "
                          "'commune_register', 'x')"))
    raw.dispose()
    eng = db.engine(url)
    cols = {c["name"] for c in sa.inspect(eng).get_columns("fact_petition")}
    assert set(FIELDS) <= cols
    with eng.connect() as c:
        row = c.execute(sa.text("SELECT petition_key, not_accepted_date, acceptance_recorded, sanction_orgs "
                                "FROM fact_petition")).one()
    assert tuple(row) == ("p1", None, None, None)
