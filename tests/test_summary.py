"""The multi-year summary (reports/summary/, reports/narrative.py) on small hand-built
frames: every expected number below is worked out by hand in the comments. Pure pandas
in, xlsx out: no Airflow, no database (the warehouse loader is tested on a SQLite
warehouse at the end)."""
from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from core import settings
from reports import narrative, summary
from reports.narrative import format_vn
from reports.summary import (
    STATUS_NO_DATA,
    STATUS_OK,
    STATUS_SHORT,
    SummaryData,
    compute_summary,
    default_range,
    duty_table,
    lower_cases,
    skipped_levels,
    year_windows,
)
from warehouse import units as wh_units

D = dt.date
UNIT_COLUMNS = ["unit_key", "unit_code", "name", "unit_type", "level", "parent_code", "parent_key", "scheme",
                "valid_from", "valid_to", "source"]
LAST_3T, FIRST_2T = D(2025, 6, 30), D(2025, 7, 1)


def _unit(key, name, unit_type, level, parent, valid_from=D(2020, 1, 1), valid_to=LAST_3T):
    return {"unit_key": key, "unit_code": key.split(":")[1], "name": name, "unit_type": unit_type,
            "level": level, "parent_code": parent.split(":")[1] if parent else None, "parent_key": parent,
            "scheme": key.split(":")[0], "valid_from": valid_from, "valid_to": valid_to, "source": "test"}


UNITS = pd.DataFrame([
    _unit("province:01", "Thành phố Hà Nội", "Thành phố", "tinh", None, valid_to=None),
    _unit("legacy:001", "Quận Ba Đình", "Quận", "huyen", "province:01"),
    _unit("legacy:002", "Quận Hoàn Kiếm", "Quận", "huyen", "province:01"),
    _unit("legacy:00001", "Phường Phúc Xá", "Phường", "xa", "legacy:001"),
    _unit("legacy:00037", "Phường Hàng Bạc", "Phường", "xa", "legacy:002"),
    _unit("2025:00004", "Phường Ba Đình", "Phường", "xa", "province:01", valid_from=FIRST_2T, valid_to=None),
], columns=UNIT_COLUMNS)

CITY, D1, D2, X1, X2, X25 = "province:01", "legacy:001", "legacy:002", "legacy:00001", "legacy:00037", "2025:00004"
CITIZEN_A = "PSEUDO-A-9c1e77d0"          # has an open case at X1, then goes to D1 and to the city
OTHER_PSEUDONYMS = ["PSEUDO-r1-5b2f", "PSEUDO-p1-0aa3", "PSEUDO-c2-77e1"]


def rec(key, unit, day, mode="thuong_xuyen", receiver="can_bo", people=1, kind="KNPA", sitting=None,
        case=None, citizen=None):
    return {"reception_key": key, "unit_code": unit.split(":")[1], "unit_key": unit, "received_date": day,
            "mode": mode, "receiver": receiver, "sitting_key": sitting, "people": people,
            "is_group": people >= 5, "petition_kind": kind, "case_key": case, "citizen_pseudonym": citizen}


def pet(key, unit, day, kind, competent, accepted=None, resolved=None, case=None, citizen=None):
    return {"petition_key": key, "unit_code": unit.split(":")[1], "unit_key": unit, "received_date": day,
            "petition_kind": kind, "case_key": case, "eligible": True, "competent": competent,
            "resolution_status": None, "resolved_date": resolved, "accepted_date": accepted,
            "citizen_pseudonym": citizen}


START, END = D(2024, 7, 1), D(2026, 3, 31)     # columns: 01/07–31/12/2024, Năm 2025, 01/01–31/03/2026
RECEPTIONS = pd.DataFrame([
    rec("r0", CITY, D(2024, 6, 20)),                                               # before the range
    rec("r1", CITY, D(2024, 8, 5), citizen=OTHER_PSEUDONYMS[0]),
    rec("r2", CITY, D(2024, 9, 10), people=6),                                     # đoàn
    rec("r3", CITY, D(2024, 10, 15), "dinh_ky", "thu_truong", 2, "KN", "01:S1"),
    rec("r4", CITY, D(2024, 10, 15), "dinh_ky", "uy_quyen", 5, "KNPA", "01:S2"),   # đoàn, deputy
    rec("r5", CITY, D(2025, 3, 18), people=3, kind="KN", citizen=CITIZEN_A),       # vượt cấp (tỉnh)
    rec("r6", CITY, D(2025, 3, 18), "dinh_ky", "thu_truong", 1, "KNPA", "01:S3"),
    rec("r7", CITY, D(2025, 4, 15), "dot_xuat", "thu_truong", 7, "KN", None),      # đoàn, no sitting id
    rec("r8", CITY, D(2026, 2, 10), people=2),
    rec("r9", CITY, D(2026, 4, 2)),                                                # after the range
    rec("d1", D1, D(2025, 1, 10), kind="KN", citizen=CITIZEN_A),                   # vượt cấp (huyện)
    rec("d2", D1, D(2025, 2, 11), "dinh_ky", "thu_truong", 1, "KNPA", "001:S10"),
    rec("c1", X1, D(2024, 12, 2), people=2, kind="KN", case="00001:V2", citizen=CITIZEN_A),
    rec("c2", X25, D(2025, 8, 4), citizen=OTHER_PSEUDONYMS[2]),
    rec("c3", X25, D(2025, 9, 1), people=4),
])
PETITIONS = pd.DataFrame([
    pet("p1", CITY, D(2024, 8, 1), "KN", True, D(2024, 8, 10), D(2024, 11, 1), citizen=OTHER_PSEUDONYMS[1]),
    pet("p2", CITY, D(2024, 9, 1), "KNPA", True, D(2024, 9, 5), D(2025, 2, 1)),
    pet("p3", CITY, D(2024, 12, 1), "TC", False),
    pet("p4", CITY, D(2025, 5, 1), "KN", True),
    pet("p5", CITY, D(2024, 6, 1), "KN", True, D(2024, 6, 10), D(2024, 7, 15)),   # carried over into 2024
    pet("p6", CITY, D(2023, 1, 1), "KNPA", True, None, D(2023, 5, 1)),             # done before the range
    pet("p7", CITY, D(2025, 11, 1), "KNPA", True, D(2025, 11, 10)),
    pet("p8", X1, D(2024, 10, 1), "KNPA", True, case="00001:V1"),                 # resolved via fact_case
    pet("p9", D1, D(2025, 3, 1), "TC", False),
])
CASES = pd.DataFrame([
    {"case_key": "00001:V1", "unit_code": "00001", "unit_key": X1, "opened_date": D(2024, 10, 1),
     "petition_kind": "KNPA", "resolution_status": "da_giai_quyet", "resolved_date": D(2024, 12, 20)},
    {"case_key": "00001:V2", "unit_code": "00001", "unit_key": X1, "opened_date": D(2024, 12, 2),
     "petition_kind": "KN", "resolution_status": "chua_giai_quyet", "resolved_date": None},
])


@pytest.fixture(scope="module")
def data():
    return SummaryData(START, END, UNITS, RECEPTIONS, PETITIONS, CASES,
                       {"fact_reception": {"warehouse": 15, "read": 15}})


@pytest.fixture(scope="module")
def tables(data):
    return compute_summary(data)


@pytest.fixture(scope="module")
def workbook(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("summary") / "tong-hop.xlsx"
    result = summary.build_summary(data, path, settings.get().regimes, {"run_id": "run-test-1", "data_cutoff": "01/04/2026 08:00:00 UTC"})
    return path, result


# ----------------------------------------------------------------------------- numbers
def test_format_vn():
    assert format_vn(1527) == "1.527"
    assert format_vn(14015) == "14.015"
    assert format_vn(702) == "702"
    assert format_vn(12.5, 1) == "12,5"
    assert format_vn(12.25, 1) == "12,3"            # half away from zero
    assert format_vn(1234567.891, 2) == "1.234.567,89"
    assert format_vn(-1234) == "-1.234"
    assert format_vn(-0.04, 1) == "0,0"             # no "-0,0"
    assert format_vn(0) == "0"
    assert format_vn(None) == ""
    assert narrative.format_percent(66.666) == "66,7%"


def test_year_windows_and_default_range():
    labels = [w.label for w in year_windows(D(2021, 7, 1), D(2025, 2, 28))]
    assert labels == ["01/07–31/12/2021", "Năm 2022", "Năm 2023", "Năm 2024", "01/01–28/02/2025"]
    # 25/11/2026: the latest complete quarter window is Q3 (15/06–14/09/2026).
    p = default_range(settings.get().series.start, D(2026, 11, 25))
    assert (p.start, p.end) == (D(2021, 7, 1), D(2026, 9, 14))
    assert default_range(settings.get().series.start, D(2026, 12, 14)).end == D(2026, 9, 14)     # Q4 ends that day: not complete
    assert default_range(settings.get().series.start, D(2026, 12, 15)).end == D(2026, 12, 14)


def test_headline_by_year_for_the_city_level(tables):
    own = tables.own
    assert [w.key for w in tables.windows] == ["2024", "2025", "2026"]
    assert [w.label for w in tables.windows] == ["01/07–31/12/2024", "Năm 2025", "01/01–31/03/2026"]
    # 2024: r1 (1 người), r2 (6, đoàn) regular; r3 (head, S1, 2) and r4 (deputy, S2, 5, đoàn).
    assert {k: own.at[k, "2024"] for k in ("tx_luot", "tx_nguoi", "tx_doan", "tx_doan_nguoi",
                                           "ld_ky", "ld_luot", "ld_nguoi", "ld_doan",
                                           "tong_luot", "tong_nguoi")} == {
        "tx_luot": 2, "tx_nguoi": 7, "tx_doan": 1, "tx_doan_nguoi": 6, "ld_ky": 2, "ld_luot": 2,
        "ld_nguoi": 7, "ld_doan": 1, "tong_luot": 4, "tong_nguoi": 14}
    # 2025: r5 regular (3); r6 (S3, 1) and r7 (no sitting id: its own sitting, 7, đoàn).
    assert (own.at["tx_luot", "2025"], own.at["tx_nguoi", "2025"], own.at["ld_ky", "2025"],
            own.at["ld_luot", "2025"], own.at["ld_nguoi", "2025"], own.at["ld_doan", "2025"]) == (1, 3, 2, 2, 8, 1)
    # r0 (before) and r9 (after the range) are not counted anywhere.
    assert (own.at["tx_luot", "2026"], own.at["tx_nguoi", "2026"]) == (1, 2)
    assert (own.at["tx_luot", "total"], own.at["tx_nguoi", "total"], own.at["ld_luot", "total"],
            own.at["ld_nguoi", "total"], own.at["ld_doan", "total"], own.at["ld_ky", "total"]) == (4, 12, 4, 15, 2, 4)


def test_petitions_by_kind_and_result_from_the_dates(tables):
    own = tables.own
    # 2024 window: received p1 KN, p2 KNPA, p3 TC. Due: p5 (carried over, resolved 15/07),
    # p1, p2 (p3 not competent, p6 resolved before the start); resolved p5, p1; p2 accepted
    # 05/09 and resolved only in 2025 → in progress at 31/12/2024.
    got = {k: own.at[k, "2024"] for k in ("don_tong", "don_kn", "don_tc", "don_knpa", "gq_phai", "gq_da",
                                          "gq_dang", "gq_chua")}
    assert got == {"don_tong": 3, "don_kn": 1, "don_tc": 1, "don_knpa": 1, "gq_phai": 3, "gq_da": 2,
                   "gq_dang": 1, "gq_chua": 0}
    assert own.at["gq_tyle", "2024"] == pytest.approx(200 / 3)
    # 2025: due p2, p4, p7; resolved p2; p7 accepted 10/11 → in progress; p4 never accepted.
    assert [own.at[k, "2025"] for k in ("don_tong", "gq_phai", "gq_da", "gq_dang", "gq_chua")] == [2, 3, 1, 1, 1]
    assert own.at["gq_tyle", "2025"] == pytest.approx(100 / 3)
    # Whole range: due p5, p1, p2, p4, p7; resolved p5, p1, p2.
    assert [own.at[k, "total"] for k in ("don_tong", "gq_phai", "gq_da", "gq_dang", "gq_chua")] == [5, 5, 3, 1, 1]
    assert own.at["gq_tyle", "total"] == pytest.approx(60.0)
    # p8 (commune) has no resolved_date of its own: its case 00001:V1 was resolved 20/12/2024.
    xa = tables.levels["xa"]
    assert (xa.at["gq_phai", "2024"], xa.at["gq_da", "2024"], xa.at["gq_tyle", "2024"]) == (1, 1, 100.0)
    assert xa.at["gq_tyle", "2025"] is None                          # nothing due: no rate, not 0


def test_levels_add_up_and_district_cells_are_empty_after_the_reform(tables):
    huyen, xa, whole = tables.levels["huyen"], tables.levels["xa"], tables.whole
    # d1 regular (1), d2 head's sitting (1) in 2025; the district existed in 2024 but has no records.
    assert (huyen.at["tx_luot", "2025"], huyen.at["ld_luot", "2025"], huyen.at["don_tc", "2025"]) == (1, 1, 1)
    assert huyen.at["tx_luot", "2024"] == 0
    assert all(huyen.at[k, "2026"] is None for k in summary.INDICATOR_KEYS)      # 2026: no district level
    assert huyen.at["tx_luot", "total"] == 1
    assert (xa.at["tx_luot", "2024"], xa.at["tx_nguoi", "2024"], xa.at["tx_luot", "2025"],
            xa.at["tx_nguoi", "2025"]) == (1, 2, 2, 5)
    additive = [k for k in summary.INDICATOR_KEYS if k != "gq_tyle"]
    for key in additive:
        for w in ("2024", "2025", "total"):
            parts = [tables.levels[lv].at[key, w] or 0 for lv in summary.LEVELS]
            assert whole.at[key, w] == sum(parts), (key, w)
    # Whole province 2024: 4 petitions (p1, p2, p3, p8); due 4, resolved 3 → 75 %.
    assert (whole.at["don_tong", "2024"], whole.at["don_knpa", "2024"], whole.at["gq_tyle", "2024"]) == (4, 2, 75.0)


def test_change_against_the_previous_year(tables):
    ch = tables.changes["whole"]
    # Whole-province regular receptions: 2024 = r1, r2, c1 = 3; 2025 = r5, d1, c2, c3 = 4; 2026 = r8 = 1.
    assert (tables.whole.at["tx_luot", "2024"], tables.whole.at["tx_luot", "2025"]) == (3, 4)
    assert ch.at["tx_luot", ("2025", "abs")] == 1
    assert ch.at["tx_luot", ("2025", "pct")] == pytest.approx(100 / 3)
    assert (ch.at["tx_luot", ("2026", "abs")], ch.at["tx_luot", ("2026", "pct")]) == (-3, -75.0)
    # Rates change in percentage points, without a % of a %: 33,3 − 75,0.
    assert ch.at["gq_tyle", ("2025", "abs")] == pytest.approx(100 / 3 - 75)
    assert ch.at["gq_tyle", ("2025", "pct")] is None
    # A change from 0 has no percentage; a change into an empty district cell is empty.
    assert tables.changes["huyen"].at["tx_luot", ("2025", "abs")] == 1
    assert tables.changes["huyen"].at["tx_luot", ("2025", "pct")] is None
    assert tables.changes["huyen"].at["tx_luot", ("2026", "abs")] is None


# ----------------------------------------------------------------------------- duty
def _head(key, unit, day, receiver="thu_truong"):
    return rec(key, unit, day, "dinh_ky", receiver, 1, "KNPA", f"{unit}:{day}:{receiver}")


def test_duty_shortfall_and_status():
    # 01/09/2025 (Mon) – 31/10/2025 (Fri): 8 complete weeks (01/09 – 26/10), 2 complete months.
    a, b, c, d = ("2025:00004", "2025:00007", "2025:00008", "2025:00009")
    units = pd.concat([UNITS, pd.DataFrame([
        _unit(b, "Phường B", "Phường", "xa", CITY, FIRST_2T, None),
        _unit(c, "Phường C", "Phường", "xa", CITY, FIRST_2T, None),
        _unit(d, "Phường D", "Phường", "xa", CITY, FIRST_2T, None)], columns=UNIT_COLUMNS)], ignore_index=True)
    mondays = [D(2025, 9, 1) + dt.timedelta(weeks=i) for i in range(8)]
    recs = pd.DataFrame(
        # A: two days in week 1, one in week 3, one in the incomplete last week → 2 of 8 weeks met.
        [_head("a1", a, D(2025, 9, 2)), _head("a2", a, D(2025, 9, 3)), _head("a3", a, D(2025, 9, 16)),
         _head("a4", a, D(2025, 10, 28))]
        # B: the head every week, plus a second day in week 2 → met.
        + [_head(f"b{i}", b, day) for i, day in enumerate(mondays)] + [_head("b9", b, D(2025, 9, 10))]
        # C: only the deputy, every week: the law asks the head in person → all 8 weeks short.
        + [_head(f"c{i}", c, day, "uy_quyen") for i, day in enumerate(mondays)]
        # The city: its head sat in September only → October short.
        + [_head("t1", CITY, D(2025, 9, 16))])
    duty = duty_table(recs, units, D(2025, 9, 1), D(2025, 10, 31)).set_index("unit_key")
    assert set(duty.index) == {CITY, a, b, c, d}                      # districts and legacy communes: gone
    assert (duty.at[a, "periods"], duty.at[a, "required_days"], duty.at[a, "head_days"],
            duty.at[a, "shortfall"], duty.at[a, "periods_short"], duty.at[a, "status"]) == (8, 8, 4, 6, 6, STATUS_SHORT)
    assert duty.at[a, "compliance"] == 25.0                          # 2 of the 8 required days
    assert (duty.at[b, "head_days"], duty.at[b, "shortfall"], duty.at[b, "status"]) == (9, 0, STATUS_OK)
    assert (duty.at[c, "head_days"], duty.at[c, "deputy_days"], duty.at[c, "shortfall"],
            duty.at[c, "status"]) == (0, 8, 8, STATUS_SHORT)
    assert (duty.at[CITY, "periods"], duty.at[CITY, "shortfall"], duty.at[CITY, "status"]) == (2, 1, STATUS_SHORT)
    assert duty.at[d, "status"] == STATUS_NO_DATA and pd.isna(duty.at[d, "shortfall"])
    # Units that fell short first, the largest shortfall first; no-data units last.
    order = duty_table(recs, units, D(2025, 9, 1), D(2025, 10, 31))["unit_key"].tolist()
    assert order == [c, a, CITY, b, d]
    by_level = summary.duty_by_level(duty.reset_index()).set_index("level")
    assert (by_level.at["xa", "short"], by_level.at["xa", "ok"], by_level.at["xa", "no_data"]) == (2, 1, 1)
    assert by_level.at["tinh", "short"] == 1


def test_duty_over_the_units_time_in_force(tables):
    duty = tables.duty.set_index("unit_key")
    # The district: 01/07/2024 – 30/06/2025 = 12 months × 2 days; its head sat once (11/02/2025).
    assert (duty.at[D1, "span_to"], duty.at[D1, "periods"], duty.at[D1, "required_days"],
            duty.at[D1, "head_days"], duty.at[D1, "shortfall"]) == (LAST_3T, 12, 24, 1, 23)
    # The legacy commune: weeks 01/07/2024 (Mon) – 29/06/2025 (Sun) = 52, no head day.
    assert (duty.at[X1, "periods"], duty.at[X1, "shortfall"]) == (52, 52)
    # The 2025 commune: weeks 07/07/2025 – 29/03/2026 = 266 days = 38 weeks.
    assert (duty.at[X25, "span_from"], duty.at[X25, "periods"], duty.at[X25, "shortfall"]) == (FIRST_2T, 38, 38)
    # The city: 21 months (07/2024 – 03/2026), head days 15/10/2024, 18/03/2025, 15/04/2025.
    assert (duty.at[CITY, "periods"], duty.at[CITY, "head_days"], duty.at[CITY, "deputy_days"],
            duty.at[CITY, "shortfall"]) == (21, 3, 1, 18)
    assert duty.at[D2, "status"] == STATUS_NO_DATA and duty.at[X2, "status"] == STATUS_NO_DATA
    assert tables.duty["unit_key"].tolist()[:4] == [X1, X25, D1, CITY]


# ----------------------------------------------------------------------------- vượt cấp
def test_skipped_levels_rule():
    day = D(2024, 3, 1)

    def case(citizen, unit, kind="KN", opened=D(2024, 1, 10), resolved=None):
        return {"citizen_pseudonym": citizen, "unit_key": unit, "petition_kind": kind,
                "opened_date": opened, "resolved_date": resolved}

    cases = pd.DataFrame([
        case("A", X1),                                        # open at a commune of D1
        case("B", X1, resolved=D(2024, 2, 1)),                # resolved before the reception
        case("C", X1, kind="KNPA"),                           # another kind
        case("E", X2),                                        # a commune of the other district
        case("F", X1, opened=D(2024, 3, 5)),                  # opened after the reception
        case("G", X1, resolved=day),                          # resolved that very day: no longer open
        case("H", D1),                                        # open at a district
    ])
    receptions = pd.DataFrame([
        rec("rA", D1, day, kind="KN", citizen="A"), rec("rB", D1, day, kind="KN", citizen="B"),
        rec("rC", D1, day, kind="KN", citizen="C"), rec("rD", D1, day, kind="KN", citizen="D"),
        rec("rE", D1, day, kind="KN", citizen="E"), rec("rE2", CITY, day, kind="KN", citizen="E"),
        rec("rF", D1, day, kind="KN", citizen="F"), rec("rG", D1, day, kind="KN", citizen="G"),
        rec("rH", CITY, day, kind="KN", citizen="H"), rec("rH2", D2, day, kind="KN", citizen="H"),
        rec("rX", X1, day, kind="KN", citizen="A"),           # a commune has no lower level
        rec("rN", CITY, day, kind="KN", citizen=None),        # no pseudonym (denouncers): no match
    ])
    out = skipped_levels(receptions, cases, UNITS).set_index("reception_key")
    assert set(out.index) == {"rA", "rE2", "rH"}
    assert out.loc["rA", "level"] == "huyen" and out.loc["rA", "lower_unit_key"] == X1
    assert out.loc["rE2", "level"] == "tinh" and out.loc["rE2", "lower_unit_key"] == X2
    assert out.loc["rH", "lower_unit_key"] == D1 and out.loc["rH", "lower_level"] == "huyen"
    assert "citizen_pseudonym" not in out.columns and "citizen_pseudonym" not in out.reset_index().columns
    # The same rule from petitions (received_date = opened, no resolved_date column = open).
    petitions = pd.DataFrame([{"citizen_pseudonym": "A", "unit_key": X1, "petition_kind": "KN",
                               "received_date": D(2024, 2, 1)}])
    assert skipped_levels(receptions, petitions, UNITS)["reception_key"].tolist() == ["rA"]


def test_lower_cases_take_case_dates_and_the_citizen_from_linked_records():
    low = lower_cases(CASES, PETITIONS, RECEPTIONS)
    # 00001:V2 is in fact_case; its citizen comes from reception c1. p8's case V1 has no
    # citizen on any record; p1 (no case key) stands for its own case.
    v2 = low[low["citizen_pseudonym"] == CITIZEN_A]
    assert len(v2) == 1 and v2.iloc[0]["unit_key"] == X1 and v2.iloc[0]["opened_date"] == D(2024, 12, 2)
    p1 = low[low["citizen_pseudonym"] == OTHER_PSEUDONYMS[1]]
    assert p1.iloc[0]["opened_date"] == D(2024, 8, 1) and p1.iloc[0]["resolved_date"] == D(2024, 11, 1)


def test_skipped_levels_by_year_and_unit(tables):
    # Citizen A's case at X1 (opened 02/12/2024, open) → d1 at D1 (10/01/2025) and r5 at the city.
    assert sorted(tables.skipped["reception_key"]) == ["d1", "r5"]
    years = tables.skipped_years.set_index("window")
    assert (years.at["2025", "huyen"], years.at["2025", "tinh"], years.at["2025", "total"],
            years.at["2025", "KN"]) == (1, 1, 2, 2)
    assert years.at["2024", "huyen"] == 0 and pd.isna(years.at["2026", "huyen"])   # no district level in 2026
    units = tables.skipped_units.set_index("unit_key")
    # The city received 8 times in the range (r1–r8), once vượt cấp: 12,5 %.
    assert (units.at[CITY, "skipped"], units.at[CITY, "receptions"], units.at[CITY, "share"]) == (1, 8, 12.5)


# ----------------------------------------------------------------------------- narrative
def test_narrative_has_the_exact_figures(tables):
    first, petitions, duty, skipped = tables.paragraphs
    assert first.startswith(
        "Từ ngày 01/07/2024 đến ngày 31/03/2026, Thành phố đã tiếp thường xuyên 4 lượt với 12 công dân, "
        "trong đó có 1 đoàn đông người với 6 công dân; lãnh đạo UBND Thành phố tiếp định kỳ và đột xuất "
        "4 lượt với 15 công dân, 2 đoàn đông người, qua 4 kỳ tiếp.")
    # All levels: regular 4 + 1 + 3 = 8 lượt, 12 + 1 + 7 = 20 công dân; leaders 4 + 1 = 5 lượt.
    assert "toàn thành phố đã tiếp thường xuyên 8 lượt với 20 công dân" in first
    assert "lãnh đạo các cấp tiếp định kỳ, đột xuất 5 lượt với 16 công dân, 2 đoàn đông người" in first
    assert petitions.startswith("Trong cùng thời gian, toàn thành phố tiếp nhận 7 đơn, gồm 2 đơn khiếu nại, "
                                "2 đơn tố cáo và 3 đơn kiến nghị, phản ánh.")
    # Due: city 5 + commune 1 = 6; resolved 3 + 1 = 4 → 66,7 %.
    assert ("phải giải quyết là 6 đơn; đã giải quyết 4 đơn, đạt tỷ lệ 66,7%; đến ngày 31/03/2026 còn "
            "1 đơn đang giải quyết và 1 đơn chưa giải quyết.") in petitions
    assert "1/1 đơn vị cấp tỉnh, 1/1 đơn vị cấp huyện, 2/2 đơn vị cấp xã chưa bảo đảm" in duty
    assert "(2 đơn vị chưa có số liệu" in duty
    assert "2 lượt tiếp công dân có dấu hiệu vượt cấp" in skipped and "cấp huyện 1 lượt, cấp tỉnh 1 lượt" in skipped


def test_narrative_formats_large_figures_the_vietnamese_way():
    own = {"tx_luot": 8656, "tx_nguoi": 14015, "tx_doan": 280, "tx_doan_nguoi": 1527, "ld_luot": 702,
           "ld_nguoi": 1754, "ld_doan": 47, "ld_ky": 56}
    whole = {**own, "don_tong": 14036, "don_kn": 5040, "don_tc": 1316, "don_knpa": 7680, "gq_phai": 4210,
             "gq_da": 3587, "gq_dang": 0, "gq_chua": 623, "gq_tyle": 3587 / 4210 * 100}
    text = narrative.paragraphs({
        "start": D(2021, 7, 1), "end": D(2025, 2, 28), "subject": "Thành phố", "leaders": "lãnh đạo UBND Thành phố",
        "own": own, "whole": whole, "lower_levels_have_data": False, "unscheduled": False,
        "comparison": (2024, 2023, {"tx_luot": 2438, "ld_luot": 182, "don_tong": 3823},
                       {"tx_luot": 2000, "ld_luot": 208, "don_tong": 3823}),
        "duty": [{"level_name": "cấp tỉnh", "assessed": 1, "short": 0, "no_data": 0}],
        "legal_basis": "Luật Tiếp công dân năm 2013", "skipped_total": 0, "skipped_by_level": []})
    assert text[0] == ("Từ ngày 01/07/2021 đến ngày 28/02/2025, Thành phố đã tiếp thường xuyên 8.656 lượt với "
                       "14.015 công dân, trong đó có 280 đoàn đông người với 1.527 công dân; lãnh đạo UBND Thành "
                       "phố tiếp định kỳ 702 lượt với 1.754 công dân, 47 đoàn đông người, qua 56 kỳ tiếp.")
    assert "tiếp nhận 14.036 đơn, gồm 5.040 đơn khiếu nại, 1.316 đơn tố cáo và 7.680 đơn" in text[1]
    assert "đạt tỷ lệ 85,2%; đến ngày 28/02/2025 còn 623 đơn chưa giải quyết." in text[1]   # no "0 đơn đang"
    # 2.438 vs 2.000 = +21,9 %; 182 vs 208 = −12,5 %; equal petitions.
    assert ("So với năm 2023, năm 2024 số lượt tiếp thường xuyên tăng 21,9%, số lượt lãnh đạo tiếp định kỳ, "
            "đột xuất giảm 12,5%, số đơn tiếp nhận không thay đổi.") in text[1]
    assert text[2].startswith("Người đứng đầu tất cả các đơn vị có số liệu đều bảo đảm")
    assert text[3].startswith("Không phát hiện")


# ----------------------------------------------------------------------------- workbook
def _indicator_rows(ws) -> dict[tuple[str, str], dict[str, object]]:
    """{(section title prefix "I"/"II"/…, indicator label): {column header: value}}."""
    rows = list(ws.iter_rows(values_only=True))
    h = next(i for i, r in enumerate(rows) if r[0] == "STT" and r[1] == "Chỉ tiêu")
    headers = rows[h]
    out, section = {}, None
    for r in rows[h + 3:]:
        if isinstance(r[0], str) and re.match(r"^[IVX]+\. ", r[0]):
            section = r[0].split(".")[0]
        elif r[1] and r[2]:                       # an indicator row has a unit
            out[(section, r[1])] = {headers[j]: r[j] for j in range(3, len(r)) if headers[j]}
    return out


def test_workbook_sheets_and_cells(workbook):
    path, result = workbook
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Tổng hợp", "Theo cấp", "Biểu đồ", "Trách nhiệm tiếp công dân", "Vượt cấp",
                             "Nhận định", "Thông tin"]
    totals = _indicator_rows(wb["Tổng hợp"])
    city = totals[("II", "Tiếp thường xuyên: số lượt tiếp")]
    assert (city["01/07–31/12/2024"], city["Năm 2025"], city["01/01–31/03/2026"]) == (2, 1, 1)
    assert city["Tổng cộng (01/07/2024–31/03/2026)"] == 4
    whole = totals[("I", "Tiếp thường xuyên: số lượt tiếp")]
    assert (whole["01/07–31/12/2024"], whole["Năm 2025"]) == (3, 4)
    assert isinstance(whole["Năm 2025"], int)                        # numbers, not text
    assert totals[("I", "Tỷ lệ giải quyết")]["01/07–31/12/2024"] == 75.0
    levels = _indicator_rows(wb["Theo cấp"])
    district = levels[("II", "Tiếp thường xuyên: số lượt tiếp")]
    assert (district["01/07–31/12/2024"], district["Năm 2025"], district["01/01–31/03/2026"]) == (0, 1, None)
    assert levels[("II", "Tổng số đơn tiếp nhận")]["01/01–31/03/2026"] is None
    assert levels[("III", "Tiếp thường xuyên: số người được tiếp")]["Năm 2025"] == 5
    # Number formats: thousands separators, one decimal for rates.
    ws = wb["Tổng hợp"]
    fmt = {c.number_format for row in ws.iter_rows() for c in row if isinstance(c.value, (int, float))}
    assert "#,##0" in fmt and "#,##0.0" in fmt
    # The heads' duty sheet: units that fell short first, the count per level.
    duty_rows = [r for r in wb["Trách nhiệm tiếp công dân"].iter_rows(values_only=True)]
    statuses = [r[15] for r in duty_rows if r[15] in (STATUS_SHORT, STATUS_OK, STATUS_NO_DATA)]
    assert statuses == [STATUS_SHORT] * 4 + [STATUS_NO_DATA] * 2
    assert any("Luật Tiếp công dân năm 2013, Điều 15 khoản 2 điểm d" in str(r[0]) for r in duty_rows if r[0])
    xa_line = next(r for r in duty_rows if r[0] == "Cấp xã" and isinstance(r[3], int))
    assert (xa_line[3], xa_line[4], xa_line[5], xa_line[7]) == (3, 2, 2, 1)     # units, assessed, short, no data
    texts = [r[0] for r in wb["Nhận định"].iter_rows(values_only=True) if r[0]]
    assert result.tables.paragraphs[0] in texts
    info = {r[0]: r[1] for r in wb["Thông tin"].iter_rows(values_only=True) if r[0]}
    assert info["Mã lần chạy (run id)"] == "run-test-1"
    assert "15 bản ghi" in info["Nguồn: fact_reception"]
    # 01/07/2024 – 31/03/2026 crosses Thông tư 06/2025 (30/09/2025): said, with both regimes.
    assert info["Chế độ báo cáo"].startswith("Thông tư 01/2024/TT-TTCP: kỳ có ngày cuối từ 20/01/2024; "
                                             "Thông tư 06/2025/TT-TTCP: kỳ có ngày cuối từ 30/09/2025.")
    assert "Thông tư 06/2025/TT-TTCP có hiệu lực từ 30/09/2025" in info["Chế độ báo cáo"]
    note = [r[0] for r in wb["Tổng hợp"].iter_rows(values_only=True) if str(r[0]).startswith("Ghi chú")]
    assert len(note) == 1 and "đi qua ngày thay đổi chế độ báo cáo: Thông tư 06/2025" in note[0]
    assert summary.regime_switch_text(dt.date(2024, 7, 1), dt.date(2025, 9, 29), settings.get().regimes) == ""


def test_workbook_has_native_charts_on_the_data(workbook):
    path, _ = workbook
    wb = openpyxl.load_workbook(path)
    charts = wb["Biểu đồ"]._charts
    assert len(charts) >= 2
    refs = [s.val.numRef.f for ch in charts for s in ch.series]
    assert refs and all(r.startswith("'Tổng hợp'!$") for r in refs)
    # The first chart's series are the receptions and people rows of the whole province.
    ws = wb["Tổng hợp"]
    first = charts[0].series[0].val.numRef.f.split("!")[1].replace("$", "")
    cells = [c.value for row in ws[first] for c in row]
    # Tổng số lượt tiếp by year: 2024 = r1–r4 + c1 = 5; 2025 = r5–r7 + d1, d2 + c2, c3 = 7; 2026 = r8.
    assert cells == [5, 7, 1]


def test_no_pseudonym_anywhere_in_the_workbook(workbook):
    path, _ = workbook
    with zipfile.ZipFile(path) as z:
        blob = b"".join(z.read(n) for n in z.namelist())
    for p in [CITIZEN_A, *OTHER_PSEUDONYMS]:
        assert p.encode() not in blob
    assert b"PSEUDO" not in blob


def test_same_inputs_same_bytes(data, tmp_path):
    a = summary.build_summary(data, tmp_path / "a.xlsx", settings.get().regimes, {"run_id": "r"})
    b = summary.build_summary(data, tmp_path / "b.xlsx", settings.get().regimes, {"run_id": "r"})
    assert a.sha256 == b.sha256


# ----------------------------------------------------------------------------- warehouse
def test_summary_frames_reads_published_facts(warehouse):
    from warehouse.schema import fact_case, fact_petition, fact_reception

    lineage = {"source_kind": "city_service", "source_name": "test", "record_id": None, "raw_id": 1,
               "batch_id": "b1"}
    with warehouse.begin() as conn:
        conn.execute(fact_reception.insert(), [
            {**rec("w1", CITY, D(2024, 8, 5), people=3), **lineage, "visit": "lan_dau"},
            {**rec("w2", CITY, D(2026, 5, 1)), **lineage, "visit": "lan_dau"},          # after the range
        ])
        conn.execute(fact_petition.insert(), [
            {**pet("q1", CITY, D(2023, 5, 1), "KN", True), **lineage, "channel": "buu_chinh", "signers": "mot"},
        ])
        conn.execute(fact_case.insert(), [{**CASES.iloc[0].to_dict(), **lineage}])
    data = summary.summary_frames(warehouse, "2024-07-01", "2026-03-31", wh_units.unit_frame(settings.get()))
    assert list(data.receptions["reception_key"]) == ["w1"]
    assert list(data.petitions["petition_key"]) == ["q1"]          # before the range: may be carried over
    assert data.source_counts["fact_reception"] == {"warehouse": 2, "read": 1}
    t = compute_summary(data)
    assert (t.own.at["tx_luot", "2024"], t.own.at["tx_nguoi", "2024"]) == (1, 3)
    assert t.own.at["gq_phai", "2024"] == 1 and t.own.at["gq_chua", "2024"] == 1
