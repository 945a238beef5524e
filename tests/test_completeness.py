"""Completeness and timeliness of submissions (transforms/completeness.py), on a fresh
SQLite warehouse with rows inserted directly into the raw layer, the audit and the facts."""
from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest
import sqlalchemy as sa

from core import settings
from core.periods import period
from transforms import completeness as C
from warehouse.schema import dim_unit, dq_batch_audit, dq_completeness, fact_case, fact_reception, raw_batch, raw_record

DT = dt.datetime
D = dt.date
_ids = itertools.count(1)


def local(*args) -> dt.datetime:
    """A Hà Nội wall-clock time as the naive UTC the warehouse stores."""
    return DT(*args) - dt.timedelta(hours=7)


def add_batch(conn, kind, name, key, *, status="loaded", delivered=None, started=None,
              audit=None) -> str:
    bid = f"b{next(_ids):05d}"
    started = started or delivered or DT(2020, 1, 1)
    conn.execute(raw_batch.insert().values(
        batch_id=bid, source_kind=kind, source_name=name, logical_key=key, source_ref=key,
        row_count=0, status=status, delivered_at=delivered, started_at=started, finished_at=started))
    if audit is not None:
        conn.execute(dq_batch_audit.insert().values(
            batch_id=bid, suite="batch", suite_sha="x", passed=audit, rows=0,
            reason=None if audit else "Thiếu cột bắt buộc", audited_at=started))
    return bid


def add_version(conn, kind, name, record_type, record_id, *, batch_id, version) -> None:
    conn.execute(raw_record.insert().values(
        batch_id=batch_id, source_kind=kind, source_name=name, record_type=record_type,
        source_file="t", record_id=str(record_id), record_version=version, payload="{}",
        ingested_at=DT(2026, 1, 1)))


def add_reception(conn, kind, name, unit_code, unit_key, day, *, batch_id, version) -> int:
    n = next(_ids)
    res = conn.execute(raw_record.insert().values(
        batch_id=batch_id, source_kind=kind, source_name=name, record_type="reception",
        source_file="t", record_id=str(n), record_version=version, payload="{}",
        ingested_at=DT(2026, 1, 1)))
    raw_id = res.inserted_primary_key[0]
    conn.execute(fact_reception.insert().values(
        reception_key=f"{kind}:{name}:{n}", unit_code=unit_code, unit_key=unit_key,
        received_date=day, mode="thuong_xuyen", receiver="can_bo", people=1, is_group=False,
        source_kind=kind, source_name=name, record_id=str(n), raw_id=raw_id, batch_id=batch_id))
    return n


def units_df(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(sa.select(dim_unit)).mappings().all())


def by_unit(df, kind):
    return df[df["source_kind"] == kind].set_index("unit_key")


# ------------------------------------------------------------------ Q1 2025: two books per commune
@pytest.fixture()
def q1_2025(warehouse):
    reg = "commune_register"
    with warehouse.begin() as c:
        # 00001 Phúc Xá: both books, each delivered after the part of the window it covers.
        add_batch(c, reg, "00001", "00001_phuc-xa_2024", delivered=local(2025, 1, 5, 9))
        add_batch(c, reg, "00001", "00001_phuc-xa_2025", delivered=local(2025, 3, 16, 10))
        # 00004 Trúc Bạch: only the 2024 book.
        add_batch(c, reg, "00004", "00004_truc-bach_2024", delivered=local(2025, 1, 3, 8))
        # 00006 Vĩnh Phúc: the 2025 book arrives two days after the deadline (19/03).
        add_batch(c, reg, "00006", "00006_vinh-phuc_2024", delivered=local(2025, 1, 3, 8))
        add_batch(c, reg, "00006", "00006_vinh-phuc_2025", delivered=local(2025, 3, 21, 8))
        # 00007 Cống Vị: the only delivery could not be read.
        add_batch(c, reg, "00007", "00007_cong-vi_2025", status="rejected", delivered=local(2025, 3, 15, 8))
        # 00008 Liễu Giai: 2025 book landed but rejected by the batch audit.
        add_batch(c, reg, "00008", "00008_lieu-giai_2024", delivered=local(2025, 1, 3, 8), audit=True)
        add_batch(c, reg, "00008", "00008_lieu-giai_2025", delivered=local(2025, 3, 15, 8), audit=False)
        # 00013 Quán Thánh: 2025 book only delivered mid-window (an early version).
        add_batch(c, reg, "00013", "00013_quan-thanh_2024", delivered=local(2025, 1, 2, 8))
        add_batch(c, reg, "00013", "00013_quan-thanh_2025", delivered=local(2025, 2, 1, 8))
        # 00016 Ngọc Hà: an early and a final version of 2025; the final one counts.
        add_batch(c, reg, "00016", "00016_ngoc-ha_2024", delivered=local(2025, 1, 2, 8))
        add_batch(c, reg, "00016", "00016_ngoc-ha_2025", delivered=local(2025, 2, 1, 8))
        add_batch(c, reg, "00016", "00016_ngoc-ha_2025", delivered=local(2025, 3, 17, 8))
        add_batch(c, reg, "00016", "00016_ngoc-ha_2025", delivered=local(2025, 3, 25, 8))
        # A book of another year is not one of this window's.
        add_batch(c, reg, "00019", "00019_dien-bien_2023", delivered=local(2024, 1, 2, 8))

        # District 001: three tables loaded; its records of the window were last
        # modified on 17/03/2025 14:30 local time (ngay_cap_nhat).
        b = add_batch(c, "district_db", "001", "tiep_cong_dan", delivered=local(2025, 3, 18, 1))
        add_batch(c, "district_db", "001", "don_thu", delivered=local(2025, 3, 18, 1))
        add_batch(c, "district_db", "001", "vu_viec", delivered=local(2025, 3, 18, 1))
        add_reception(c, "district_db", "001", "001", "legacy:001", D(2025, 1, 10), batch_id=b,
                      version="2025-01-10 09:00:00")
        rid = add_reception(c, "district_db", "001", "001", "legacy:001", D(2025, 3, 14), batch_id=b,
                            version="2025-03-17 14:30:00")
        # corrected in April: the period's data had arrived with the first version
        b2 = add_batch(c, "district_db", "001", "tiep_cong_dan", delivered=local(2025, 4, 21, 1))
        add_version(c, "district_db", "001", "reception", rid, batch_id=b2, version="2025-04-20 08:00:00")
        # a case opened in the window and resolved later is progress, not late data
        add_version(c, "district_db", "001", "case", 999, batch_id=b2, version="2025-04-20 09:00:00")
        c.execute(fact_case.insert().values(
            case_key="001:999", unit_code="001", unit_key="legacy:001", opened_date=D(2025, 2, 1),
            source_kind="district_db", source_name="001", record_id="999", raw_id=1, batch_id=b2))
        add_reception(c, "district_db", "001", "001", "legacy:001", D(2025, 3, 20), batch_id=b,
                      version="2025-03-25 14:30:00")     # after the window: not this period's
        # District 002: loaded once, then the latest read of a table failed.
        add_batch(c, "district_db", "002", "tiep_cong_dan", delivered=local(2025, 1, 2), started=DT(2025, 1, 2))
        add_batch(c, "district_db", "002", "tiep_cong_dan", status="failed", delivered=local(2025, 3, 16),
                  started=DT(2025, 3, 16))
        # District 003: no record in the window, read again after the window closed, late.
        add_batch(c, "district_db", "003", "tiep_cong_dan", delivered=local(2024, 11, 1), started=DT(2024, 11, 1))
        add_batch(c, "district_db", "003", "don_thu", delivered=local(2025, 3, 22, 6), started=DT(2025, 3, 22))

        # The city service: versions stamped in UTC.
        b = add_batch(c, "city_service", "city", "receptions", delivered=DT(2025, 3, 19, 3))
        add_reception(c, "city_service", "city", "01", "province:01", D(2025, 3, 1), batch_id=b,
                      version="2025-03-15T02:00:00Z#000002")
    return warehouse


def test_deadline_is_end_of_due_day_in_hanoi(q1_2025):
    p = period("Q1", 2025)
    assert C.deadline_for(p, settings.get().regimes) == local(2025, 3, 19, 23, 59, 59) == DT(2025, 3, 19, 16, 59, 59)
    # Under Thông tư 06/2025 (windows ending from 30/09/2025), Điều 7.2: communes → the
    # province by the 17th of the period's last month.
    assert C.deadline_for(period("Q4", 2025), settings.get().regimes) == local(2025, 12, 17, 23, 59, 59)
    assert C.deadline_for(period("H1", 2026), settings.get().regimes) == local(2026, 6, 17, 23, 59, 59)
    assert C.deadline_for(period("Q3", 2025), settings.get().regimes) == local(2025, 9, 19, 23, 59, 59)      # still TT 01/2024


def test_registers_expected_received_status(q1_2025):
    p = period("Q1", 2025)
    df = C.compute(q1_2025, p, settings.get(), now=DT(2025, 4, 1))
    assert set(df["status"]) <= set(C.STATUSES)
    assert list(df.columns) == [c.name for c in dq_completeness.columns]
    reg = by_unit(df, "commune_register")
    # every legacy commune is expected, two books each (the window spans New Year)
    assert len(reg) == 526 and (reg["expected"] == 2).all()
    assert not any(k.startswith("2025:") for k in df["unit_key"])

    r = reg.loc["legacy:00001"]
    assert (r.received, r.rejected, r.status) == (2, 0, "dung_han")
    assert r.first_arrival == local(2025, 3, 16, 10)          # latest of the per-year arrivals
    assert "Nhận 2/2 sổ (năm 2024, 2025)" in r.note and "đúng hạn" in r.note

    r = reg.loc["legacy:00004"]
    assert (r.received, r.status) == (1, "thieu")
    assert "Nhận 1/2 sổ (năm 2024); sổ đã nhận gửi ngày 03/01/2025; thiếu sổ năm 2025" in r.note

    r = reg.loc["legacy:00006"]
    assert (r.received, r.status) == (2, "muon")
    assert "gửi ngày 21/03/2025, quá hạn 2 ngày (hạn 19/03/2025)" in r.note

    r = reg.loc["legacy:00007"]
    assert (r.received, r.rejected, r.status) == (0, 1, "bi_tu_choi")
    assert "bị từ chối" in r.note

    r = reg.loc["legacy:00008"]                              # audit-rejected = rejected
    assert (r.received, r.rejected, r.status) == (1, 1, "thieu")
    assert "sổ năm 2025 bị từ chối (1 lần gửi)" in r.note and "đã quá 13 ngày" in r.note

    r = reg.loc["legacy:00013"]                              # only an early version
    assert (r.received, r.status) == (2, "dung_han")
    assert r.first_arrival == local(2025, 2, 1, 8)
    assert "sổ năm 2025 gửi trước khi hết kỳ" in r.note

    r = reg.loc["legacy:00016"]                              # earliest version after the end
    assert r.first_arrival == local(2025, 3, 17, 8) and r.status == "dung_han"

    r = reg.loc["legacy:00019"]
    assert (r.received, r.rejected, r.status) == (0, 0, "chua_bao_cao")
    assert "Chưa nhận sổ năm 2024, 2025" in r.note and "đã quá 13 ngày" in r.note
    assert (reg["first_arrival"].isna() == (reg["received"] == 0)).all()


def test_systems(q1_2025):
    p = period("Q1", 2025)
    df = C.compute(q1_2025, p, settings.get(), now=DT(2025, 4, 1))
    dis = by_unit(df, "district_db")
    assert len(dis) == 30 and (dis["expected"] == 1).all()

    r = dis.loc["legacy:001"]      # max ngay_cap_nhat of the window's records, local → UTC
    assert (r.received, r.status) == (1, "dung_han")
    assert r.first_arrival == local(2025, 3, 17, 14, 30)
    assert "2 bản ghi trong kỳ" in r.note and "17/03/2025 14:30" in r.note

    r = dis.loc["legacy:002"]      # latest attempt of a table failed
    assert (r.received, r.rejected, r.status) == (0, 1, "bi_tu_choi")

    r = dis.loc["legacy:003"]      # no record: the first read after the window, late
    assert (r.received, r.status) == (1, "muon")
    assert r.first_arrival == local(2025, 3, 22, 6)
    assert "quá hạn 3 ngày" in r.note

    assert dis.loc["legacy:004"].status == "chua_bao_cao"

    city = by_unit(df, "city_service")
    assert list(city.index) == ["province:01"]
    r = city.loc["province:01"]
    assert (r.received, r.status) == (1, "dung_han")
    assert r.first_arrival == DT(2025, 3, 15, 2)             # "…Z#000002" is UTC already


def test_store_is_idempotent(q1_2025):
    p = period("Q1", 2025)
    df = C.compute(q1_2025, p, settings.get(), now=DT(2025, 4, 1))
    assert C.store(q1_2025, p, df) == len(df)
    assert C.store(q1_2025, p, df) == len(df)
    other = period("Q4", 2024)
    C.store(q1_2025, other, C.compute(q1_2025, other, settings.get(), now=DT(2025, 4, 1)))
    with q1_2025.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(dq_completeness).where(
            dq_completeness.c.period_key == p.key)).scalar_one()
        total = conn.execute(sa.select(sa.func.count()).select_from(dq_completeness)).scalar_one()
    assert n == len(df) and total == len(df) + 526 + 30 + 1   # and Q4 2024's rows
    back = C.load(q1_2025, p).set_index(["unit_key", "source_kind"])
    assert back.loc[("legacy:00006", "commune_register"), "status"] == "muon"
    assert back.loc[("legacy:00001", "commune_register"), "first_arrival"] == local(2025, 3, 16, 10)


# ------------------------------------------------------------------ across the reform
@pytest.fixture()
def q3_2025(warehouse):
    reg = "commune_register"
    with warehouse.begin() as c:
        # Code 00004 was reused: Trúc Bạch's (legacy) book is not Ba Đình's (2025).
        add_batch(c, reg, "00004", "00004_truc-bach_2025", delivered=local(2025, 7, 3, 8))
        # 00190 Ô Chợ Dừa kept code and name: one continuing book serves both units.
        add_batch(c, reg, "00190", "00190_o-cho-dua_2025", delivered=local(2025, 9, 15, 8))
        add_batch(c, reg, "00001", "00001_phuc-xa_2025", delivered=local(2025, 7, 2, 8))
        b = add_batch(c, "district_db", "001", "tiep_cong_dan", delivered=local(2025, 7, 1, 2))
        add_reception(c, "district_db", "001", "001", "legacy:001", D(2025, 6, 20), batch_id=b,
                      version="2025-06-20 10:00:00")
    return warehouse


def test_reform_window_units_and_code_reuse(q3_2025):
    p = period("Q3", 2025)        # 15/06–14/09/2025 spans the reform
    df = C.compute(q3_2025, p, settings.get(), now=DT(2025, 10, 1))
    reg = by_unit(df, "commune_register")
    assert len(reg) == 526 + 126 and (reg["expected"] == 1).all()
    assert reg.loc["legacy:00004"].received == 1
    assert reg.loc["2025:00004"].received == 0                # Ba Đình's book not delivered
    assert reg.loc["2025:00004"].status == "chua_bao_cao"
    assert reg.loc["legacy:00190"].received == 1 and reg.loc["2025:00190"].received == 1
    dis = by_unit(df, "district_db")
    assert len(dis) == 30                                     # in force until 30/06/2025
    assert dis.loc["legacy:001"].status == "dung_han"

    q4 = C.compute(q3_2025, period("Q4", 2025), settings.get(), now=DT(2026, 1, 1))
    assert set(q4["source_kind"]) == {"commune_register", "city_service"}   # no district after 30/06
    assert not any(k.startswith("legacy:") for k in q4["unit_key"])
    assert len(q4) == 126 + 1


def test_row_status_for_city_report(q3_2025):
    from reports import levels

    p = period("Q3", 2025)
    df = C.compute(q3_2025, p, settings.get(), now=DT(2025, 10, 1))
    u = units_df(q3_2025)
    # The status the reports use (reports.levels.row_status_for), for the city's report.
    scope = levels.scope_for(u, "province:01", "consolidated", "01")
    rows, _ = levels.build_rows(scope, p, pd.DataFrame({"unit_key": [], "received_date": []}), u)
    rs = {k: {f: getattr(v, f) for f in ("reported", "expected", "missing")}
          for k, v in levels.row_status_for(scope, rows, df, u, p).items()}
    # rows of the city report: 30 legacy districts, 126 new communes, the city's own row
    assert len(rs) == 30 + 126 + 1
    n_communes_001 = int(((u["parent_key"] == "legacy:001") & (u["level"] == "xa")).sum())
    r = rs["legacy:001"]            # the district itself + its communes
    assert r == {"reported": True, "expected": 1 + n_communes_001, "missing": n_communes_001 - 2}
    assert rs["2025:00004"] == {"reported": False, "expected": 1, "missing": 1}
    assert rs["2025:00190"] == {"reported": True, "expected": 1, "missing": 0}
    assert rs["province:01"] == {"reported": False, "expected": 1, "missing": 1}
    n_006 = int(((u["parent_key"] == "legacy:006") & (u["level"] == "xa")).sum())
    assert rs["legacy:006"] == {"reported": True, "expected": 1 + n_006, "missing": n_006}

    summ = C.summary_by_unit(df, u)
    assert {"unit_code", "name", "expected", "received", "missing", "late", "status"} <= set(summ.columns)
    assert summ.iloc[0]["level"] == "tinh"
    counts = C.status_counts(df).set_index("source_kind")
    assert int(counts.loc["district_db"].sum()) == 30


def test_no_personal_data_or_paths_in_notes(q1_2025):
    df = C.compute(q1_2025, period("Q1", 2025), settings.get(), now=DT(2025, 4, 1))
    assert df["note"].notna().all()
    assert not df["note"].str.contains(r"\d{9,}|/srv|\.xlsx", regex=True).any()
