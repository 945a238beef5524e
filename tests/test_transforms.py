"""Unit tests of the pure transforms: normalisation, personal data, canonical mapping."""
from __future__ import annotations

import datetime as dt
import json
import unicodedata

import pandas as pd
import pytest

from core import normalise, pii, settings
from transforms import canonical

# What the mappers read from the configuration (built once, as consolidation does).
RULES = canonical.Rules.of(settings.get())


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
    assert clean_tc["citizen_pseudonym"] is None                 # no case scope given: no identity
    scoped = pii.scrub({**record, "loai": "TC"}, b"k" * 32, is_denunciation=True,
                       case_scope=pii.case_scope("00004", "VV-1"))
    assert scoped["citizen_pseudonym"] and scoped["citizen_pseudonym"] != clean["citizen_pseudonym"]
    assert "001085012345" not in json.dumps(clean) + json.dumps(clean_tc) + json.dumps(scoped)


def test_denouncer_pseudonym_tells_two_denouncers_of_one_case_apart_and_links_nothing():
    key = b"k" * 32
    case_a, case_b = pii.case_scope("00004", "VV-2024-001"), pii.case_scope("00004", "VV-2024-002")
    a_in_a = pii.denouncer_pseudonym("001085012345", key, case_a)
    # the same denouncer's row delivered twice, or written differently, is recognised
    assert a_in_a == pii.denouncer_pseudonym("0010 8501 2345", key, pii.case_scope(" 00004 ", "VV-2024-001 "))
    assert a_in_a == pii.denouncer_pseudonym("001085012345", key, pii.case_scope("00004.0", "VV-2024-001"))
    # two denouncers of one case are told apart
    assert a_in_a != pii.denouncer_pseudonym("001190000002", key, case_a)
    # the same person in another case, at another unit, or as a KN/KNPA citizen: no link
    assert a_in_a != pii.denouncer_pseudonym("001085012345", key, case_b)
    assert a_in_a != pii.denouncer_pseudonym("001085012345", key, pii.case_scope("00007", "VV-2024-001"))
    assert a_in_a != pii.pseudonymise("001085012345", key)
    assert a_in_a != pii.denouncer_pseudonym("001085012345", b"j" * 32, case_a)      # keyed
    assert pii.denouncer_pseudonym("", key, case_a) is None
    # a record without a case reference is scoped to its unit and day
    assert pii.case_scope("00004", None, "2024-03-05") != pii.case_scope("00004", None, "2024-03-06")
    assert pii.case_scope("00004", "", "2024-03-05") == pii.case_scope("00004", None, "2024-03-05 00:00:00")


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
        "citizen_pseudonym": "abc"}, "00004", RULES)
    assert rec == {"unit_code": "00004", "received_date": dt.date(2024, 3, 5), "mode": "dinh_ky",
                   "receiver": "thu_truong", "sitting_key": "00004:2024-03-05:thu_truong", "people": 6,
                   "is_group": True, "petition_kind": "KN", "case_key": "00004:VV-2024-031",
                   "visit": "nhieu_lan", "citizen_pseudonym": "abc", "status": "official"}


def test_parsers_name_the_rule_they_enforce():
    from core.normalise import RuleViolation

    cases = [({"ngay_tiep": "31/02/2024"}, "DATE_INVALID"), ({"ngay_tiep": ""}, "REQUIRED_MISSING"),
             ({"so_nguoi": "hai"}, "NUMBER_INVALID"), ({"loai": "KHAC"}, "CODE_NOT_IN_DOMAIN"),
             ({"ma_vu_viec": ""}, "REQUIRED_MISSING")]
    for change, code in cases:
        p = {"ngay_tiep": "05/03/2024", "hinh_thuc": "Thường xuyên", "nguoi_tiep": "Cán bộ",
             "so_nguoi": 1, "loai": "KN", "lan_tiep": "Lần đầu", "ma_vu_viec": "1", **change}
        with pytest.raises(RuleViolation) as exc:
            canonical.register_reception(p, "00004", RULES)
        assert exc.value.rule == code, change


def test_city_reception_statuses_and_denouncer():
    base = {"unit_code": "01", "received_on": "2022-01-04", "mode": "periodic", "receiver": "deputy",
            "sitting_id": "KT-2022-01", "people": 2, "kind": "TC", "case_id": "VV-1", "visit": "first",
            "status": "draft", "citizen_pseudonym": "case-scoped-at-ingestion"}
    rec = canonical.city_reception(base, "city", RULES)
    # a denouncer's pseudonym was scoped to the case at ingestion (pii.case_scope): kept
    # for de-duplication within the case
    assert rec["status"] == "draft" and rec["citizen_pseudonym"] == "case-scoped-at-ingestion"
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


@pytest.mark.integration   # the committed GX suites (consolidation)
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
    frames, quarantine, flags, stats, outcomes = build_partition(raw, "city_service", settings.get())
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


@pytest.mark.integration   # the committed GX suites (consolidation)
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
    frames, *_ = build_partition(raw, "commune_register", settings.get())
    assert list(frames["reception"]["received_date"]) == [dt.date(2024, 3, 2)]


def test_consolidating_a_source_kind_with_no_data_yet(warehouse):
    """Before any batch of a kind has landed, consolidation publishes an empty partition."""
    import sqlalchemy as sa

    from transforms.consolidate import consolidate
    from warehouse.schema import dq_validation, wh_partition_state

    result = consolidate(warehouse, "district_db", settings.get())
    assert not result.skipped and result.batches == 0
    assert consolidate(warehouse, "district_db", settings.get()).skipped        # and then nothing to do
    with warehouse.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(dq_validation)).scalar_one() == 0
        assert c.execute(sa.select(wh_partition_state.c.batches)).scalar_one() == 0


# ------------------------------------------------------------------ processing and decisions
@pytest.mark.parametrize("value, expected", [
    ("1.250,5", 1250.5), ("1.250", 1250.0), ("12,5", 12.5), ("12.5", 12.5), ("1,250.5", 1250.5), ("0", 0.0),
    (" 45 ", 45.0), ("1.234.567,8", 1234567.8), (3, 3.0), (2.5, 2.5), ("-25", -25.0), ("-1.250,5", -1250.5),
])
def test_parse_decimal_reads_numbers_as_vietnamese_write_them(value, expected):
    assert normalise.parse_decimal(value) == expected


@pytest.mark.parametrize("value, code", [("ba triệu", "NUMBER_INVALID"), ("1.2.3", "NUMBER_INVALID"),
                                         ("=H12", "NUMBER_INVALID"), (True, "NUMBER_INVALID"),
                                         ("", "REQUIRED_MISSING")])
def test_parse_decimal_rejects_with_the_rule(value, code):
    with pytest.raises(normalise.RuleViolation) as exc:
        normalise.parse_decimal(value, field="Thu hồi tiền")
    assert exc.value.rule == code


def _register_petition(**kw):
    p = {"ngay_nhan": "05/03/2024", "nguon_don": "Bưu chính", "loai": "Khiếu nại", "so_nguoi_dung_ten": 1,
         "linh_vuc": "Đất đai, nhà cửa", "ma_vu_viec": "VV-2024-031", "du_dieu_kien": "Đủ", "tham_quyen": "Thuộc",
         "xu_ly": "Thụ lý", "tinh_trang": "Đã giải quyết", "ngay_giai_quyet": "20/05/2024",
         "ngay_xu_ly": "12/03/2024", "ngay_thu_ly": dt.datetime(2024, 3, 14), "lan_giai_quyet": "Lần 2",
         "ket_qua": "Hủy, sửa", "dung_han": "Không", "thu_hoi_tien": "", "thu_hoi_dat": None,
         "tra_ca_nhan_tien": "1.250,5", "tra_ca_nhan_dat": 85.5, "so_ca_nhan_duoc_tra": "2",
         "xu_ly_hc_so_nguoi": 1, "xu_ly_hc_cbccvc": "1", "citizen_pseudonym": "abc",
         # execution: returned in part of the money, the person sanctioned (blank: 0)
         "ngay_thi_hanh_xong": "15/07/2024", "da_tra_ca_nhan_tien": "1.000,5", "da_tra_ca_nhan_dat": 85.5,
         "da_xu_ly_hc_so_nguoi": 1, "da_xu_ly_hc_cbccvc": ""}
    p.update(kw)
    return p


def test_register_petition_maps_processing_and_the_decision():
    rec = canonical.register_petition(_register_petition(), "00004", RULES)
    assert {k: rec[k] for k in canonical.PROGRESS_FIELDS} == {
        "processed_date": dt.date(2024, 3, 12), "accepted_date": dt.date(2024, 3, 14), "resolution_round": "lan_2",
        "outcome": "huy_sua", "on_time": False, "recover_money": 0.0, "recover_land": 0.0,
        "return_org_money": 0.0, "return_org_land": 0.0, "return_person_money": 1250.5, "return_person_land": 85.5,
        "orgs_restored": 0, "persons_restored": 2, "sanction_people": 1, "sanction_officials": 1,
        "prosecuted_cases": 0, "prosecuted_people": 0, "prosecuted_officials": 0,
        "executed_date": dt.date(2024, 7, 15), "collected_money": 0.0, "collected_land": 0.0,
        "returned_org_money": 0.0, "returned_org_land": 0.0, "returned_person_money": 1000.5,
        "returned_person_land": 85.5, "sanctioned_people": 1, "sanctioned_officials": 0, "prosecuted_done_cases": 0,
        "prosecuted_done_people": 0, "prosecuted_done_officials": 0,
        # a register without the TT 06/2025 columns: NULL, never 0 (the forms leave the cells empty)
        "not_accepted_date": None, "acceptance_recorded": None, "sanction_orgs": None, "sanctioned_orgs": None}
    assert (rec["resolution_status"], rec["resolved_date"]) == ("da_giai_quyet", dt.date(2024, 5, 20))
    # a decision that orders nothing has no execution: its blank execution cells stay NULL
    dismissed = canonical.register_petition(_register_petition(
        ket_qua="Sai", tra_ca_nhan_tien="", tra_ca_nhan_dat=None, so_ca_nhan_duoc_tra=None, xu_ly_hc_so_nguoi=None,
        xu_ly_hc_cbccvc=None, ngay_thi_hanh_xong=None, da_tra_ca_nhan_tien=None, da_tra_ca_nhan_dat=None,
        da_xu_ly_hc_so_nguoi=None), "00004", RULES)
    assert dismissed["outcome"] == "sai" and dismissed["recover_money"] == 0.0
    assert all(dismissed[k] is None for k in canonical.EXECUTION_FIELDS)
    # NFD text and other spellings of the same codes
    nfd = canonical.register_petition(_register_petition(
        lan_giai_quyet=unicodedata.normalize("NFD", "Đã có bản án"), ket_qua="Đúng một phần",
        dung_han="Đúng hạn"), "00004", RULES)
    assert (nfd["resolution_round"], nfd["outcome"], nfd["on_time"]) == ("ban_an", "dung_mot_phan", True)
    # no decision: blank amounts stay NULL; a register without the columns reads as NULL
    pending = canonical.register_petition(_register_petition(
        tinh_trang="Đang giải quyết", ngay_giai_quyet=None, ket_qua=None, dung_han="", tra_ca_nhan_tien="",
        tra_ca_nhan_dat=None, so_ca_nhan_duoc_tra=None, xu_ly_hc_so_nguoi=None, xu_ly_hc_cbccvc=""), "00004", RULES)
    assert pending["outcome"] is None and pending["on_time"] is None and pending["recover_money"] is None
    assert pending["accepted_date"] == dt.date(2024, 3, 14)
    old = canonical.register_petition({k: v for k, v in _register_petition().items()
                                       if k in ("ngay_nhan", "nguon_don", "loai", "so_nguoi_dung_ten",
                                                "ma_vu_viec")}, "00004", RULES)
    assert all(old[k] is None for k in canonical.PROGRESS_FIELDS)


def test_tt06_fields_are_read_when_the_source_has_them():
    """TT 06/2025 fields (không thụ lý, organisations): read from a register with the
    columns — a blank on a decision is 0, as for people — and NULL without them; the same
    from a district row and a city record (acceptance_recorded True: the source records
    (không) thụ lý, so a matter with neither date is under review)."""
    rec = canonical.register_petition(_register_petition(
        ngay_khong_thu_ly=None, xu_ly_hc_so_to_chuc="2", da_xu_ly_hc_so_to_chuc=""), "00004", RULES)
    assert (rec["acceptance_recorded"], rec["not_accepted_date"], rec["sanction_orgs"], rec["sanctioned_orgs"]) == \
        (True, None, 2, 0)
    refused = canonical.register_petition(_register_petition(
        tinh_trang="Chưa giải quyết", ngay_giai_quyet=None, ngay_thu_ly=None, ket_qua=None, dung_han=None,
        tra_ca_nhan_tien=None, tra_ca_nhan_dat=None, so_ca_nhan_duoc_tra=None, xu_ly_hc_so_nguoi=None,
        xu_ly_hc_cbccvc=None, ngay_thi_hanh_xong=None, da_tra_ca_nhan_tien=None, da_tra_ca_nhan_dat=None,
        da_xu_ly_hc_so_nguoi=None, ngay_khong_thu_ly="20/03/2024", xu_ly_hc_so_to_chuc=None,
        da_xu_ly_hc_so_to_chuc=None), "00004", RULES)
    assert (refused["acceptance_recorded"], refused["not_accepted_date"], refused["accepted_date"],
            refused["sanction_orgs"]) == (True, dt.date(2024, 3, 20), None, None)
    with pytest.raises(normalise.RuleViolation) as exc:
        canonical.register_petition(_register_petition(xu_ly_hc_so_to_chuc="hai"), "00004", RULES)
    assert exc.value.rule == "NUMBER_INVALID" and "số tổ chức" in str(exc.value)
    with pytest.raises(normalise.RuleViolation) as exc:
        canonical.register_petition(_register_petition(ngay_khong_thu_ly="31/02/2024"), "00004", RULES)
    assert exc.value.rule == "DATE_INVALID"
    city = canonical.city_petition({
        "unit_code": "01", "received_on": "2025-10-01", "channel": "post", "kind": "TC", "signers": 1,
        "field": "khac", "case_id": "VV-1", "eligible": True, "competent": True, "handling": "accept",
        "status": "official", "accepted_on": None, "not_accepted_on": "2025-10-09", "sanction_orgs": None,
        "sanctioned_orgs": None}, "city", RULES)
    assert (city["acceptance_recorded"], city["not_accepted_date"], city["sanction_orgs"]) == \
        (True, dt.date(2025, 10, 9), None)
    older_city = canonical.city_petition({
        "unit_code": "01", "received_on": "2025-10-01", "channel": "post", "kind": "TC", "signers": 1,
        "field": "khac", "case_id": "VV-1", "eligible": True, "competent": True, "handling": "accept",
        "status": "official"}, "city", RULES)
    assert all(older_city[k] is None for k in canonical.TT06_FIELDS)


@pytest.mark.parametrize("change, code", [
    ({"ket_qua": "Chưa rõ"}, "CODE_NOT_IN_DOMAIN"), ({"lan_giai_quyet": "Lần ba"}, "CODE_NOT_IN_DOMAIN"),
    ({"dung_han": "Có lẽ"}, "CODE_NOT_IN_DOMAIN"), ({"ngay_xu_ly": "31/02/2024"}, "DATE_INVALID"),
    ({"ngay_thu_ly": "hôm qua"}, "DATE_INVALID"), ({"thu_hoi_tien": "năm triệu"}, "NUMBER_INVALID"),
    ({"xu_ly_hc_so_nguoi": "1,5"}, "NUMBER_INVALID"), ({"ngay_thi_hanh_xong": "31/02/2024"}, "DATE_INVALID"),
    ({"da_tra_ca_nhan_tien": "một nửa"}, "NUMBER_INVALID"), ({"da_xu_ly_hc_so_nguoi": "1,5"}, "NUMBER_INVALID"),
])
def test_register_petition_unreadable_values_name_their_rule(change, code):
    with pytest.raises(normalise.RuleViolation) as exc:
        canonical.register_petition(_register_petition(**change), "00004", RULES)
    assert exc.value.rule == code


def test_district_and_city_petitions_map_processing_and_the_decision():
    district = canonical.district_petition({
        "ma_don_vi": "001", "ngay_nhan": "2023-05-02", "nguon": "BUU_CHINH", "loai": "TC", "so_nguoi_dung_ten": 1,
        "linh_vuc": "THAM_NHUNG", "vu_viec_id": 7, "du_dieu_kien": 1, "thuoc_tham_quyen": 1,
        "hinh_thuc_xu_ly": "THU_LY", "co_van_ban_phuc_dap": None, "trang_thai": "CHINH_THUC",
        "ngay_xu_ly": "2023-05-09", "ngay_thu_ly": "2023-05-10", "ngay_giai_quyet": "2023-07-01",
        "lan_giai_quyet": "TIEP", "ket_qua": "DINH_CHI", "dung_han": 1, "thu_hoi_tien": 120.5, "thu_hoi_dat": 0.0,
        "xu_ly_hc_so_nguoi": 3, "xu_ly_hc_cbccvc": 2, "chuyen_dieu_tra_so_vu": 1, "chuyen_dieu_tra_so_nguoi": 2,
        "chuyen_dieu_tra_cbccvc": 2, "citizen_pseudonym": "x", "ngay_thi_hanh_xong": None, "da_thu_tien": 60.0,
        "da_thu_dat": None, "da_xu_ly_hc_so_nguoi": 3, "da_xu_ly_hc_cbccvc": 2, "da_khoi_to_so_vu": 1,
        "da_khoi_to_so_nguoi": 1, "da_khoi_to_cbccvc": 1}, "001", RULES)
    assert (district["processed_date"], district["accepted_date"], district["resolved_date"]) == \
        (dt.date(2023, 5, 9), dt.date(2023, 5, 10), dt.date(2023, 7, 1))
    assert (district["resolution_round"], district["outcome"], district["on_time"]) == ("tiep", "dinh_chi", True)
    assert (district["recover_money"], district["sanction_officials"], district["prosecuted_people"]) == (120.5, 2, 2)
    assert district["return_person_money"] == 0.0 and district["resolution_status"] == "da_giai_quyet"
    assert district["citizen_pseudonym"] == "x"      # a denunciation: case-scoped at ingestion, kept
    # partly carried out: not finished, what was done so far, 0 where blank
    assert (district["executed_date"], district["collected_money"], district["collected_land"],
            district["sanctioned_officials"], district["prosecuted_done_people"], district["returned_org_money"]) == \
        (None, 60.0, 0.0, 2, 1, 0.0)
    city = canonical.city_petition({
        "unit_code": "01", "received_on": "2023-05-02", "channel": "online", "kind": "KN", "signers": 1,
        "field": "land", "case_id": "VV-01-2023-0001", "eligible": True, "competent": True, "handling": "accept",
        "reply_received": None, "status": "official", "processed_on": "2023-05-04", "accepted_on": "2023-05-08",
        "resolved_on": None, "round": "second", "outcome": None, "on_time": None, "recover_money": None,
        "citizen_pseudonym": "p"}, "city", RULES)
    assert (city["processed_date"], city["accepted_date"], city["resolution_round"]) == \
        (dt.date(2023, 5, 4), dt.date(2023, 5, 8), "lan_2")
    assert city["resolution_status"] == "dang_giai_quyet" and city["outcome"] is None
    assert city["recover_money"] is None and city["resolved_date"] is None
    with pytest.raises(normalise.RuleViolation) as exc:
        canonical.city_petition({**{"unit_code": "01", "received_on": "2023-05-02", "channel": "online",
                                    "kind": "KN", "signers": 1, "status": "official"}, "outcome": "maybe"}, "city", RULES)
    assert exc.value.rule == "CODE_NOT_IN_DOMAIN"
    executed = canonical.city_petition({
        "unit_code": "01", "received_on": "2023-05-02", "channel": "online", "kind": "KN", "signers": 1,
        "field": "land", "case_id": "VV-01-2023-0002", "eligible": True, "competent": True, "handling": "accept",
        "status": "official", "accepted_on": "2023-05-08", "resolved_on": "2023-06-01", "outcome": "founded",
        "on_time": True, "recover_money": 15.5, "executed_on": "2023-08-01", "collected_money": 15.5,
        "sanctioned_people": 0}, "city", RULES)
    assert (executed["executed_date"], executed["collected_money"], executed["sanctioned_people"]) == \
        (dt.date(2023, 8, 1), 15.5, 0)
    assert city["executed_date"] is None and city["collected_money"] is None


def test_partition_assigned_in_the_database_is_the_payloads_year(warehouse):
    """transforms.partitions.assign reads the date field in SQL; it must give the
    partition the payload itself gives, whatever the date's form."""
    import sqlalchemy as sa

    from connectors.raw import Batch
    from transforms import partitions
    from warehouse.schema import raw_record, wh_raw_partition

    dates = ["2024-03-05", "05/03/2023", "5.3.2022", "2026-01-02T08:00:00+07:00", 45000, "", None, "31/02/2024",
             {"nested": 1}, True]
    batch = Batch("district_db", "001", "tiep_cong_dan", "test://db")
    for i, d in enumerate(dates):
        batch.add("reception", "tiep_cong_dan", {"ngay_tiep": d, "loai": "KN"}, key=b"k" * 32,
                  record_id=str(i), record_version="v1", kind="KN")
    with warehouse.begin() as conn:
        batch.write(conn)
    assert partitions.assign(warehouse, "district_db") == len(dates)
    with warehouse.connect() as conn:
        got = dict(conn.execute(sa.select(raw_record.c.record_id, wh_raw_partition.c.partition_key)
                                .join(wh_raw_partition, wh_raw_partition.c.raw_id == raw_record.c.raw_id)).all())
        payloads = dict(conn.execute(sa.select(raw_record.c.record_id, raw_record.c.payload)).all())
    expected = {rid: partitions.partition_key("district_db", "reception", json.loads(p)) for rid, p in payloads.items()}
    assert got == expected
    assert [got[str(i)] for i in range(4)] == ["2024", "2023", "2022", "2026"] and got["6"] == "none"
    assert partitions.assign(warehouse, "district_db") == 0          # once per raw row
