"""Unit tests of the pure transforms: normalisation, personal data, canonical mapping."""
from __future__ import annotations

import datetime as dt
import json
import unicodedata

import pandas as pd
import pytest

from transforms import canonical, normalise, pii


@pytest.mark.parametrize("value, expected", [
    ("05/03/2024", dt.date(2024, 3, 5)), ("5/3/2024", dt.date(2024, 3, 5)),
    ("05-03-2024", dt.date(2024, 3, 5)), ("05.03.2024", dt.date(2024, 3, 5)),
    ("2024-03-05", dt.date(2024, 3, 5)), (dt.datetime(2024, 3, 5, 9, 30), dt.date(2024, 3, 5)),
    (dt.date(2024, 3, 5), dt.date(2024, 3, 5)),
])
def test_parse_date_accepts_what_registers_contain(value, expected):
    assert normalise.parse_date(value) == expected


@pytest.mark.parametrize("value", ["31/02/2024", "2024/03", "", None, "hôm qua"])
def test_parse_date_rejects_with_reason(value):
    with pytest.raises(ValueError, match="ngày"):
        normalise.parse_date(value)


@pytest.mark.parametrize("value, expected", [(3, 3), (3.0, 3), ("3", 3), ("1.234", 1234), (" 12 ", 12)])
def test_parse_int(value, expected):
    assert normalise.parse_int(value) == expected


@pytest.mark.parametrize("value", ["3,5", 2.5, "ba", True])
def test_parse_int_rejects(value):
    with pytest.raises(ValueError):
        normalise.parse_int(value)


def test_parse_int_minimum():
    with pytest.raises(ValueError, match="≥ 1"):
        normalise.parse_int("0", minimum=1, field="Số người")


def test_nfd_and_nfc_fold_and_map_the_same():
    nfd = unicodedata.normalize("NFD", "Thường xuyên")
    assert nfd != "Thường xuyên"
    assert normalise.nfc(nfd) == "Thường xuyên"
    assert normalise.lookup(normalise.MODE, nfd, "x") == "thuong_xuyen"
    assert normalise.fold("  Số CCCD/Hộ chiếu ") == normalise.fold("so cccd/ho chieu")


def test_lookup_unknown_value_names_the_allowed_ones():
    with pytest.raises(ValueError, match="Hình thức tiếp"):
        normalise.lookup(normalise.MODE, "Hàng tuần", "Hình thức tiếp")


def test_pseudonym_is_keyed_and_stable():
    a = pii.pseudonymise("001085012345", b"k" * 32)
    assert a == pii.pseudonymise("0010 8501 2345", b"k" * 32)   # formatting does not matter
    assert a != pii.pseudonymise("001085012345", b"j" * 32)    # the key does
    assert "001085012345" not in a and len(a) == 32


def test_scrub_drops_personal_fields_and_denouncer_identity():
    record = {"ho_ten_dia_chi": "Nguyễn Văn A, Hà Đông", "so_giay_to": "001085012345",
              "dien_thoai": "0912345678", "noi_dung": "tố cáo ông B", "loai": "KN", "so_nguoi": 1}
    clean = pii.scrub(record, b"k" * 32, is_denunciation=False)
    assert set(clean) == {"loai", "so_nguoi", "citizen_pseudonym"}
    assert clean["citizen_pseudonym"]
    clean_tc = pii.scrub({**record, "loai": "TC"}, b"k" * 32, is_denunciation=True)
    assert clean_tc["citizen_pseudonym"] is None
    assert "001085012345" not in json.dumps(clean) + json.dumps(clean_tc)


def test_scrub_handles_nested_citizen():
    item = {"id": "X", "kind": "KNPA", "citizen": {"full_name": "Trần Thị B", "id_number": "001190000001",
                                                    "address": "Số 1 Phố Huế", "phone": "0987654321"},
            "summary": "…"}
    clean = pii.scrub(item, b"k" * 32, is_denunciation=False)
    assert set(clean) == {"id", "kind", "citizen_pseudonym"}


def test_register_reception_mapping():
    rec = canonical.register_reception({
        "ngay_tiep": "05/03/2024", "hinh_thuc": "Định kỳ", "nguoi_tiep": "Thủ trưởng",
        "so_nguoi": "6", "loai": "Khiếu nại", "lan_tiep": "Nhiều lần", "ma_vu_viec": "VV-2024-031",
        "citizen_pseudonym": "abc"}, "00004")
    assert rec == {"unit_code": "00004", "received_date": dt.date(2024, 3, 5), "mode": "dinh_ky",
                   "receiver": "thu_truong", "sitting_key": "00004:2024-03-05:thu_truong", "people": 6,
                   "is_group": True, "petition_kind": "KN", "case_key": "00004:VV-2024-031",
                   "visit": "nhieu_lan", "citizen_pseudonym": "abc", "status": "official"}


def test_parsers_name_the_rule_they_enforce():
    from transforms.normalise import RuleViolation

    cases = [({"ngay_tiep": "31/02/2024"}, "DATE_INVALID"), ({"ngay_tiep": ""}, "REQUIRED_MISSING"),
             ({"so_nguoi": "hai"}, "NUMBER_INVALID"), ({"loai": "KHAC"}, "CODE_NOT_IN_DOMAIN"),
             ({"ma_vu_viec": ""}, "REQUIRED_MISSING")]
    for change, code in cases:
        p = {"ngay_tiep": "05/03/2024", "hinh_thuc": "Thường xuyên", "nguoi_tiep": "Cán bộ",
             "so_nguoi": 1, "loai": "KN", "lan_tiep": "Lần đầu", "ma_vu_viec": "1", **change}
        with pytest.raises(RuleViolation) as exc:
            canonical.register_reception(p, "00004")
        assert exc.value.rule == code, change


def test_city_reception_statuses_and_denouncer():
    base = {"unit_code": "01", "received_on": "2022-01-04", "mode": "periodic", "receiver": "deputy",
            "sitting_id": "KT-2022-01", "people": 2, "kind": "TC", "case_id": "VV-1", "visit": "first",
            "status": "draft", "citizen_pseudonym": "should-not-survive"}
    rec = canonical.city_reception(base, "city")
    assert rec["status"] == "draft" and rec["citizen_pseudonym"] is None
    assert rec["sitting_key"] == "01:KT-2022-01" and rec["receiver"] == "uy_quyen"


def _raw(rows):
    defaults = {"batch_id": "b1", "source_name": "01", "record_type": "reception", "source_file": "receptions",
                "source_row": None, "logical_key": "receptions", "started_at": dt.datetime(2025, 1, 1)}
    return pd.DataFrame([{**defaults, **r, "payload": json.loads(r["payload"])} for r in rows])


def _city_payload(**kw):
    p = {"unit_code": "01", "received_on": "2022-01-04", "mode": "regular", "receiver": "staff",
         "sitting_id": None, "people": 2, "kind": "KN", "case_id": "VV-1", "visit": "first",
         "status": "official", "citizen_pseudonym": "p1"}
    p.update(kw)
    return json.dumps(p)


def test_consolidation_latest_version_wins_drafts_dropped_duplicates_collapsed():
    from transforms.consolidate import build_partition

    raw = _raw([
        # a record corrected after publication: version 2 wins (3 people, not 2)
        {"raw_id": 1, "record_id": "A", "record_version": "2022-01-04T01:00:00Z#000001", "payload": _city_payload()},
        {"raw_id": 2, "record_id": "A", "record_version": "2022-01-05T01:00:00Z#000002", "payload": _city_payload(people=3)},
        # a draft never counts
        {"raw_id": 3, "record_id": "B", "record_version": "2022-01-04T02:00:00Z#000001",
         "payload": _city_payload(status="draft", citizen_pseudonym="p2", case_id="VV-2")},
        # published then deleted: not counted
        {"raw_id": 4, "record_id": "C", "record_version": "2022-01-04T03:00:00Z#000001",
         "payload": _city_payload(citizen_pseudonym="p3", case_id="VV-3")},
        {"raw_id": 5, "record_id": "C", "record_version": "2022-01-09T03:00:00Z#000002",
         "payload": _city_payload(citizen_pseudonym="p3", case_id="VV-3", status="deleted")},
        # entered twice by staff (new id, same content as A's final version)
        {"raw_id": 6, "record_id": "D", "record_version": "2022-01-06T01:00:00Z#000001", "payload": _city_payload(people=3)},
        # out of range (GX canonical suite, error): quarantined with a reason
        {"raw_id": 7, "record_id": "E", "record_version": "2022-01-06T01:00:00Z#000001", "payload": _city_payload(people=0)},
        # a commune code that was not a unit on that date
        {"raw_id": 8, "record_id": "F", "record_version": "2022-01-06T01:00:00Z#000001",
         "payload": _city_payload(unit_code="99999", citizen_pseudonym="p9")},
        # a regular reception by the head: breaks PERIODIC_RECEIVER (error)
        {"raw_id": 9, "record_id": "G", "record_version": "2022-01-06T01:00:00Z#000001",
         "payload": _city_payload(receiver="head", citizen_pseudonym="p10")},
        # 60 people: kept and counted, flagged PEOPLE_UNUSUAL (warning)
        {"raw_id": 10, "record_id": "H", "record_version": "2022-01-06T01:00:00Z#000001",
         "payload": _city_payload(people=60, citizen_pseudonym="p11")},
    ])
    frames, quarantine, flags, stats, outcomes = build_partition(raw, "city_service")
    rec = frames["reception"]
    assert list(rec["record_id"]) == ["A", "H"]
    assert int(rec["people"].iloc[0]) == 3
    reasons = {q["record_id"]: q["reason_code"] for q in quarantine}
    assert reasons == {"D": "DUPLICATE", "E": "PEOPLE_OUT_OF_RANGE", "F": "UNIT_NOT_VALID_ON_DATE",
                       "G": "PERIODIC_RECEIVER"}
    assert {q["record_id"]: q["severity"] for q in quarantine}["E"] == "error"
    assert [(f["record_id"], f["rule"]) for f in flags] == [("H", "PEOPLE_UNUSUAL")]
    assert all(o.success for o in outcomes if o.suite.endswith("_warehouse"))
    assert stats["reception"]["not_official"] == 2
    assert all("p1" not in q["reason"] for q in quarantine)


def test_consolidation_newer_register_file_replaces_older():
    from transforms.consolidate import build_partition

    def reg(day):
        return json.dumps({"ngay_tiep": day, "hinh_thuc": "Thường xuyên", "nguoi_tiep": "Cán bộ tiếp công dân",
                           "so_nguoi": 1, "loai": "KN", "lan_tiep": "Lần đầu", "ma_vu_viec": "1",
                           "citizen_pseudonym": "p"})
    common = {"source_name": "00004", "logical_key": "00004_truc-bach_2024", "source_file": "f.xlsx#TCD"}
    raw = _raw([
        {**common, "raw_id": 1, "batch_id": "old", "source_row": 6, "record_id": None, "record_version": None,
         "started_at": dt.datetime(2025, 1, 1), "payload": reg("01/03/2024")},
        {**common, "raw_id": 2, "batch_id": "new", "source_row": 6, "record_id": None, "record_version": None,
         "started_at": dt.datetime(2025, 2, 1), "payload": reg("02/03/2024")},
    ])
    frames, *_ = build_partition(raw, "commune_register")
    assert list(frames["reception"]["received_date"]) == [dt.date(2024, 3, 2)]


def test_consolidating_a_source_kind_with_no_data_yet(warehouse):
    """Before any batch of a kind has landed, consolidation publishes an empty partition."""
    import sqlalchemy as sa

    from transforms.consolidate import consolidate
    from warehouse.schema import dq_validation, wh_partition_state

    result = consolidate(warehouse, "district_db")
    assert not result.skipped and result.batches == 0
    assert consolidate(warehouse, "district_db").skipped        # and then nothing to do
    with warehouse.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(dq_validation)).scalar_one() == 0
        assert c.execute(sa.select(wh_partition_state.c.batches)).scalar_one() == 0
