"""The severity model end to end on a real warehouse: critical rules reject a batch
whole, errors quarantine a row, warnings flag it; the warehouse gate blocks
publication; quarantined rows are re-processed once the source is corrected; the
suites and the rule catalogue agree; Data Docs land under the outputs."""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.raw import Batch
from core import rules as rules_catalogue
from core import settings
from transforms import canonical, quality
from transforms.consolidate import PublicationBlocked, consolidate
from warehouse.schema import dq_batch_audit, dq_flag, dq_quarantine, dq_validation, fact_reception, raw_batch

KEY = b"k" * 32


def reception(day="05/03/2024", people=1, mode="Thường xuyên", receiver="Cán bộ tiếp công dân", case="VV-1",
              **extra):
    return {"ngay_tiep": day, "hinh_thuc": mode, "nguoi_tiep": receiver, "so_nguoi": people,
            "loai": "KN", "lan_tiep": "Lần đầu", "ma_vu_viec": case, **extra}


def land_book(engine, rows, *, stem="00004_truc-bach_2024", when=None):
    """Land one register book version (as the connector does) and return its batch id."""
    b = Batch("commune_register", stem.split("_")[0], stem, f"/inbox/{stem}.xlsx",
              checksum=f"sha-{stem}-{len(rows)}-{when}")
    if when:
        b.started_at = when
    for i, r in enumerate(rows, start=6):
        b.add("reception", f"{stem}.xlsx#Tiếp công dân", r, key=KEY, source_row=i, kind=r.get("loai"))
    with engine.begin() as conn:
        b.write(conn)
    return b.batch_id


def _q(engine, table, *cols):
    with engine.connect() as c:
        return pd.read_sql(sa.select(*[table.c[x] for x in cols]) if cols else sa.select(table), c)


# ------------------------------------------------------------------ catalogue and suites
def test_every_expectation_names_a_known_rule_and_every_suite_rule_is_used():
    rules = rules_catalogue.rules()
    used = set()
    for path in sorted((quality.GX_DIR / "expectations").glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        assert suite["expectations"], path.name
        for e in suite["expectations"]:
            code = e["meta"]["rule"]
            assert code in rules, (path.name, code)
            # GX's own severity field mirrors ours (GX knows critical / warning only).
            assert e["severity"] == ("warning" if rules[code]["severity"] == "warning" else "critical")
            used.add(code)
        # each suite has its validation definition and checkpoint committed
        assert (quality.GX_DIR / "checkpoints" / path.name).exists()
        assert (quality.GX_DIR / "validation_definitions" / path.name).exists()
    staged = {c for c, r in rules.items() if r["stage"] in ("batch", "canonical", "warehouse")}
    # DUPLICATE is decided by the consolidation (keep the first, name it), not by a suite.
    assert staged - used == {"DUPLICATE"}
    for code, r in rules.items():
        assert r["title"] and r["instruction"] and r["importance"] in ("cao", "trung_binh", "thap"), code


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_results_and_data_docs_go_to_the_outputs_not_the_repository(warehouse, tmp_path, monkeypatch):
    # Outputs of its own: the site holds this test's validations, not the session's.
    monkeypatch.setenv("TCD_PATH_DATA_QUALITY", str(tmp_path / "data_quality"))
    land_book(warehouse, [reception()])
    consolidate(warehouse, "commune_register", settings.get())
    index = quality.build_data_docs(settings.path_setting("data_quality"))
    assert index.exists() and index.is_relative_to(settings.path_setting("data_quality"))
    html = "".join(p.read_text(encoding="utf-8", errors="replace")
                   for p in index.parent.rglob("*.html"))
    assert "reception_canonical" in html and "commune_register_batch" in html
    assert any((settings.path_setting("data_quality") / "gx_validations").rglob("*.json"))
    assert not (quality.GX_DIR / "uncommitted" / "validations").exists()


# ------------------------------------------------------------------ critical: batch rejected
@pytest.mark.integration   # the committed GX suites (consolidation)
def test_a_book_with_most_dates_unreadable_is_rejected_whole_and_the_previous_version_stays(warehouse):
    good = land_book(warehouse, [reception(case="VV-1"), reception(day="06/03/2024", case="VV-2")],
                     when=dt.datetime(2025, 1, 1))
    consolidate(warehouse, "commune_register", settings.get())
    # a re-delivery of the same book whose date column holds something else entirely
    bad = land_book(warehouse, [reception(day="Trực tiếp", case="VV-1"), reception(day="x", case="VV-2"),
                                reception(day="07/03/2024", case="VV-3")], when=dt.datetime(2025, 2, 1))
    consolidate(warehouse, "commune_register", settings.get())
    audit = _q(warehouse, dq_batch_audit).set_index("batch_id")
    assert bool(audit.at[good, "passed"]) and not bool(audit.at[bad, "passed"])
    failed = json.loads(audit.at[bad, "failed_rules"])
    assert [f["rule"] for f in failed] == ["BATCH_DATES_UNREADABLE"] and failed[0]["failed_rows"] == 2
    assert "dd/mm/yyyy" in audit.at[bad, "reason"]
    facts = _q(warehouse, fact_reception, "batch_id", "received_date")
    # nothing from the rejected version; the previous accepted version is still counted
    assert set(facts["batch_id"]) == {good} and len(facts) == 2
    # its rows are not quarantined one by one either: the batch verdict says it all
    assert bad not in set(_q(warehouse, dq_quarantine, "batch_id")["batch_id"])


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_a_book_of_another_year_is_rejected(warehouse):
    bid = land_book(warehouse, [reception(day="05/03/2023"), reception(day="06/03/2023", case="VV-2")])
    consolidate(warehouse, "commune_register", settings.get())
    audit = _q(warehouse, dq_batch_audit).set_index("batch_id")
    assert [f["rule"] for f in json.loads(audit.at[bid, "failed_rules"])] == ["BATCH_WRONG_YEAR"]
    assert _q(warehouse, fact_reception).empty


# ------------------------------------------------------------------ error: row quarantined
@pytest.mark.integration   # the committed GX suites (consolidation)
def test_error_rules_quarantine_rows_and_keep_the_rest(warehouse):
    future = (dt.date.today() + dt.timedelta(days=400)).strftime("%d/%m/%Y")
    rows = [reception(case="OK-1"),
            reception(day="31/02/2024", case="BAD-DATE"),                      # parser: DATE_INVALID
            reception(people=0, case="BAD-PEOPLE"),                            # GX: PEOPLE_OUT_OF_RANGE
            reception(mode="Định kỳ", receiver="Cán bộ", case="BAD-RECV"),     # GX: PERIODIC_RECEIVER
            reception(day="05/03/2023", case="BAD-YEAR"),                      # GX: DATE_OUTSIDE_FILE_YEAR
            reception(people=60, case="WARN-60"),                              # GX warning: PEOPLE_UNUSUAL
            reception(case="OK-2", day="07/03/2024")]
    if future.endswith("2024"):
        rows.append(reception(day=future, case="BAD-FUTURE"))
    land_book(warehouse, rows)
    consolidate(warehouse, "commune_register", settings.get())
    q = _q(warehouse, dq_quarantine).set_index("source_row")
    by_row = q["reason_code"].to_dict()
    assert by_row == {7: "DATE_INVALID", 8: "PEOPLE_OUT_OF_RANGE", 9: "PERIODIC_RECEIVER",
                      10: "DATE_OUTSIDE_FILE_YEAR"}
    assert set(q["severity"]) == {"error"}
    assert q.at[8, "reason"].endswith("số người = 0") and "05/03/2023" in q.at[10, "reason"]
    assert (q["source_file"] == "00004_truc-bach_2024.xlsx#Tiếp công dân").all()
    assert q["raw_id"].notna().all() and q["batch_id"].notna().all()
    published = _q(warehouse, fact_reception, "case_key", "people")
    assert sorted(published["case_key"]) == ["00004:OK-1", "00004:OK-2", "00004:WARN-60"]
    flags = _q(warehouse, dq_flag)
    assert list(flags["rule"]) == ["PEOPLE_UNUSUAL"] and list(flags["source_row"]) == [11]
    # every validation is in the history, with rule codes and counts, never row values —
    # one per partition (the year of the record's date: BAD-YEAR is in 2023's)
    hist = _q(warehouse, dq_validation)
    canon = hist[hist["suite"] == "reception_canonical"]
    assert sorted(canon["partition"]) == ["commune_register.reception.2023", "commune_register.reception.2024"]
    failed = {f["rule"] for d in canon["details"] for f in json.loads(d)["failed"]}
    assert failed >= {"PEOPLE_OUT_OF_RANGE", "PERIODIC_RECEIVER", "DATE_OUTSIDE_FILE_YEAR", "PEOPLE_UNUSUAL"}


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_a_corrected_delivery_reprocesses_the_quarantined_row(warehouse):
    land_book(warehouse, [reception(case="VV-1"), reception(people=-2, case="VV-2")],
              when=dt.datetime(2025, 1, 1))
    consolidate(warehouse, "commune_register", settings.get())
    assert list(_q(warehouse, dq_quarantine)["reason_code"]) == ["PEOPLE_OUT_OF_RANGE"]
    land_book(warehouse, [reception(case="VV-1"), reception(people=2, case="VV-2")],
              when=dt.datetime(2025, 2, 1))
    consolidate(warehouse, "commune_register", settings.get())
    assert _q(warehouse, dq_quarantine).empty
    assert sorted(_q(warehouse, fact_reception)["people"]) == [1, 2]


# ------------------------------------------------------------------ the warehouse gate
@pytest.mark.integration   # the committed GX suites (consolidation)
def test_the_warehouse_suite_blocks_publication_and_the_previous_state_stays(warehouse, monkeypatch):
    land_book(warehouse, [reception(case="VV-1")], when=dt.datetime(2025, 1, 1))
    consolidate(warehouse, "commune_register", settings.get())
    before = _q(warehouse, fact_reception)
    # a pipeline fault: de-duplication broken, so an entry typed twice would be published twice
    land_book(warehouse, [reception(case="VV-1"), reception(case="VV-1")], when=dt.datetime(2025, 2, 1))
    monkeypatch.setitem(canonical.DEDUPE_KEYS, "reception", ["raw_id"])
    with pytest.raises(PublicationBlocked, match="reception_warehouse"):
        consolidate(warehouse, "commune_register", settings.get())
    pd.testing.assert_frame_equal(_q(warehouse, fact_reception), before)
    hist = _q(warehouse, dq_validation)
    failed = hist[(hist["suite"] == "reception_warehouse") & ~hist["success"].astype(bool)]
    assert len(failed) == 1 and "WAREHOUSE_INTEGRITY" in failed.iloc[0]["details"]


@pytest.mark.integration   # the committed GX suites
def test_the_warehouse_suite_checks_unit_and_batch_references(warehouse):
    """The references (unit in dim_unit, batch accepted) are columns the suite checks,
    not value sets handed to GX: a unit key unknown to dim_unit or a row of a batch that
    was not accepted fails WAREHOUSE_INTEGRITY on exactly those rows."""
    land_book(warehouse, [reception(case="VV-1"), reception(case="VV-2"), reception(case="VV-3")])
    consolidate(warehouse, "commune_register", settings.get())
    frame = _q(warehouse, fact_reception).sort_values("raw_id").reset_index(drop=True)
    frame["people_ge_group_min"] = frame["people"] >= 5
    units = pd.read_sql("SELECT unit_key FROM dim_unit", warehouse)["unit_key"]
    frame.loc[1, "unit_key"] = "99999@2099-01-01"
    # the three rows are one book's batch; audit them as if another batch had been accepted
    out = quality.run("reception_warehouse", quality.with_references(frame, units, {"another-batch"}),
                      "test", settings.get())
    failed = {f.column: sorted(f.raw_ids) for f in out.failures}
    assert not out.success and {f.rule for f in out.failures} == {"WAREHOUSE_INTEGRITY"}
    assert failed["unit_key_in_dim"] == [int(frame.loc[1, "raw_id"])]
    assert failed["batch_accepted"] == sorted(int(r) for r in frame["raw_id"])


def test_landing_rejections_keep_their_rule_code(warehouse):
    b = Batch("commune_register", "00004", "00004_truc-bach_2024", "/inbox/x.xlsx")
    with warehouse.begin() as conn:
        b.write(conn, status="rejected", message="tệp không đọc được", reason_code="FILE_NOT_READABLE")
    row = _q(warehouse, raw_batch).iloc[0]
    assert row["reason_code"] == "FILE_NOT_READABLE" and row["reason_code"] in rules_catalogue.rules()


# ------------------------------------------------------------------ processing and decisions
def petition(case, **extra):
    """A resolved, accepted complaint with a decision, as a register row."""
    return {"ngay_nhan": "05/03/2024", "nguon_don": "Bưu chính", "loai": "KN", "so_nguoi_dung_ten": 1,
            "ma_vu_viec": case, "du_dieu_kien": "Đủ", "tham_quyen": "Thuộc", "xu_ly": "Thụ lý",
            "tinh_trang": "Đã giải quyết", "ngay_giai_quyet": "20/05/2024", "ngay_xu_ly": "08/03/2024",
            "ngay_thu_ly": "11/03/2024", "lan_giai_quyet": "Lần đầu", "ket_qua": "Đúng một phần", "dung_han": "Có",
            "tra_ca_nhan_tien": "150,5", "xu_ly_hc_so_nguoi": 2, "xu_ly_hc_cbccvc": 1, **extra}


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_decision_rules_quarantine_or_flag_petitions(warehouse):
    from warehouse.schema import fact_petition

    rows = [petition("OK-1"),
            petition("NO-DATE", tinh_trang="Đang giải quyết", ngay_giai_quyet=None),  # DECISION_WITHOUT_RESOLUTION
            petition("NOT-OURS", tham_quyen="Không thuộc", xu_ly="Chuyển đơn"),      # DECISION_WITHOUT_RESOLUTION
            petition("NEG-MONEY", thu_hoi_tien="-1.250,5"),                          # AMOUNT_NEGATIVE
            petition("NEG-PEOPLE", xu_ly_hc_so_nguoi=-1, xu_ly_hc_cbccvc=None),     # AMOUNT_NEGATIVE
            petition("EARLY", ngay_xu_ly="01/03/2024"),                              # warning: PROCESSED_BEFORE_RECEIVED
            petition("OFFICIALS", xu_ly_hc_so_nguoi=1, xu_ly_hc_cbccvc=3),          # warning: OFFICIALS_EXCEED_PEOPLE
            petition("OK-2", ket_qua=None, dung_han=None, tra_ca_nhan_tien=None, xu_ly_hc_so_nguoi=None,
                     xu_ly_hc_cbccvc=None, tinh_trang="Đang giải quyết", ngay_giai_quyet=None),
            # warning: EXECUTION_EXCEEDS_ORDER (returned more than the decision orders)
            petition("OVER-DONE", ngay_thi_hanh_xong="10/07/2024", da_tra_ca_nhan_tien="200", da_xu_ly_hc_so_nguoi=2,
                     da_xu_ly_hc_cbccvc=1),
            petition("NEG-DONE", da_thu_tien="-5", da_xu_ly_hc_so_nguoi=1)]          # AMOUNT_NEGATIVE
    stem = "00004_truc-bach_2024"
    b = Batch("commune_register", "00004", stem, f"/inbox/{stem}.xlsx", checksum="sha-decisions")
    for i, r in enumerate(rows, start=6):
        b.add("petition", f"{stem}.xlsx#Đơn thư", r, key=KEY, source_row=i, kind=r["loai"])
    with warehouse.begin() as conn:
        b.write(conn)
    consolidate(warehouse, "commune_register", settings.get())
    q = _q(warehouse, dq_quarantine)
    assert sorted(zip(q["source_row"], q["reason_code"])) == [
        (7, "DECISION_WITHOUT_RESOLUTION"), (8, "DECISION_WITHOUT_RESOLUTION"), (9, "AMOUNT_NEGATIVE"),
        (10, "AMOUNT_NEGATIVE"), (15, "AMOUNT_NEGATIVE")]
    assert set(q["severity"]) == {"error"} and q["reason"].str.len().gt(10).all()
    flags = _q(warehouse, dq_flag)
    assert sorted(zip(flags["source_row"], flags["rule"])) == [(11, "PROCESSED_BEFORE_RECEIVED"),
                                                               (12, "OFFICIALS_EXCEED_PEOPLE"),
                                                               (14, "EXECUTION_EXCEEDS_ORDER")]
    published = _q(warehouse, fact_petition).set_index("case_key")
    assert sorted(published.index) == ["00004:EARLY", "00004:OFFICIALS", "00004:OK-1", "00004:OK-2",
                                       "00004:OVER-DONE"]
    over = published.loc["00004:OVER-DONE"]
    assert (over["returned_person_money"], over["collected_money"], over["sanctioned_people"]) == (200.0, 0.0, 2)
    assert pd.isna(published.loc["00004:OK-1", "collected_money"])        # a register without the columns
    ok = published.loc["00004:OK-1"]
    assert (ok["outcome"], ok["return_person_money"], ok["recover_money"], ok["sanction_people"]) == \
        ("dung_mot_phan", 150.5, 0.0, 2)
    assert pd.isna(published.loc["00004:OK-2", "recover_money"])           # no decision: no amounts


def test_rule_counts_do_not_depend_on_the_order_rows_are_stored():
    """Consolidation stores quarantined rows partition by partition: the counts a report
    and the data-quality workbook show are ordered by count, then by the catalogue."""
    from pipeline.dq import _counts_by_rule

    codes = ["DATE_INVALID", "CODE_NOT_IN_DOMAIN", "DUPLICATE", "DUPLICATE", "PEOPLE_OUT_OF_RANGE"]
    order = list(rules_catalogue.rules())
    texts = {_counts_by_rule(pd.DataFrame({"reason_code": rows}), "reason_code")
             for rows in (codes, codes[::-1], sorted(codes), codes[2:] + codes[:2])}
    assert len(texts) == 1
    text = texts.pop()
    assert text.startswith("DUPLICATE × 2, ")
    singles = [part.split(" × ")[0] for part in text.split(", ")[1:]]
    assert singles == sorted(singles, key=order.index)
