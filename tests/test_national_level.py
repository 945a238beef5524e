"""The national level (toàn quốc): a unit table holding several provinces under the
national row (warehouse.units.national_unit_frame), its report — the provinces as rows,
issued by Thanh tra Chính phủ — and each province's reports beside it (reports.levels).

On the real units of Hà Nội (01) and Đà Nẵng (48 = Đà Nẵng + Quảng Nam before the
reform) and synthetic records at legacy communes and districts, 2025 communes and the
provinces, for a TT 02/2021 window (Quý IV 2023), a legacy TT 01/2024 window (Quý II
2025) and the first TT 06/2025 window (Quý IV 2025, with petitions carried over from
legacy units): every form of the window's regime, through scope_report. The key
property: the forms are additive per recording unit, so a province's row of the national
report equals the total of the province's own consolidated report, cell for cell.
Pure pandas in, xlsx out: no Airflow, no Great Expectations.
"""
from __future__ import annotations

import datetime as dt
import random

import openpyxl
import pandas as pd
import pytest
from test_forms import synthetic_petitions, synthetic_receptions
from test_levels import completeness, petition
from test_tcd01 import frame, rec

from core import levels as core_levels
from core import regimes, settings
from core.periods import Period, period
from reports import levels as L
from reports import publish
from reports.formdef import RowStatus, form_definition
from reports.levels.layout import Layout
from warehouse import db
from warehouse import units as U
from warehouse.schema import dim_unit, dim_unit_crosswalk, fact_qlkntc, fact_reception_calendar

D = dt.date
REFORM = D(2025, 7, 1)
NATIONAL = U.NATIONAL_UNIT_KEY
HN, DN = "province:01", "province:48"
Q4_2023, Q2_2025, Q4_2025 = period("Q4", 2023), period("Q2", 2025), period("Q4", 2025)

# Recording units of the synthetic records: legacy communes of two districts (whole and
# split into 2025 communes), legacy districts' own records, 2025 communes, the provinces'
# own records; Đà Nẵng's include a commune and a district of Quảng Nam (49).
LEGACY = {"01": ["legacy:00001", "legacy:00004", "legacy:00007", "legacy:00037", "legacy:001", "legacy:002", HN],
          "48": ["legacy:20194", "legacy:20197", "legacy:20335", "legacy:490", "legacy:502", DN]}
NEW = {"01": ["2025:00004", "2025:00008", "2025:00097", HN],
       "48": ["2025:20194", "2025:20197", "2025:20305", DN]}


def cfg_dates() -> tuple[dt.date, dt.date, dt.date]:
    cfg = settings.get()
    return cfg.reform.last_day_three_tier, cfg.reform.first_day_two_tier, cfg.series.data_from


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return U.national_unit_frame(("01", "48"), *cfg_dates())


@pytest.fixture(scope="module")
def index(units) -> L.Units:
    return L.Units(units)


def reassign(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """`df` (test_forms' synthetic records, on four made-up rows) with each record moved
    to a unit of Hà Nội or Đà Nẵng in force on its date: legacy units before the
    reform, 2025 units after. Case and sitting keys stay as generated, so some are
    shared by several units (each unit counts them: count_per_unit)."""
    rnd = random.Random(seed)
    out = df.copy()
    keys = []
    for day in pd.to_datetime(out["received_date"]).dt.date:
        pool = LEGACY if day < REFORM else NEW
        keys.append(rnd.choice(pool[rnd.choice(["01", "48"])]))
    out["unit_key"] = keys
    out["unit_code"] = [k.split(":")[1] for k in keys]
    return out


PETITIONS = reassign(synthetic_petitions(21, 1600, D(2023, 6, 1), D(2025, 12, 14)), 1)
RECEPTIONS = reassign(synthetic_receptions(22, 900, D(2023, 6, 1), D(2025, 12, 14)), 2)
QLKNTC_COLUMNS = [c.name for c in fact_qlkntc.columns]
CALENDAR_COLUMNS = [c.name for c in fact_reception_calendar.columns]


def qlkntc(p: Period) -> pd.DataFrame:
    """fact_qlkntc rows of window `p` for the 2025 units and the provinces (the units
    in force on the window's last day)."""
    rnd = random.Random(p.key)
    rows = []
    for key in [*NEW["01"], *NEW["48"]]:
        r = {c: None for c in QLKNTC_COLUMNS}
        r.update({c: rnd.randrange(0, 9) for c in QLKNTC_COLUMNS[6:23]})
        r["inspections_concluded"] = min(r["inspections_concluded"], r["inspections"])
        r.update({"qlkntc_key": f"{key.split(':')[1]}:{p.key}", "unit_code": key.split(":")[1], "unit_key": key,
                  "period_key": p.key, "window_start": p.start, "window_end": p.end,
                  "raw_id": 1, "batch_id": "b1", "source_kind": "qlkntc_workbook", "source_name": "thử",
                  "record_id": key})
        rows.append(r)
    return pd.DataFrame(rows, columns=QLKNTC_COLUMNS)


def records_for(form, p: Period) -> pd.DataFrame:
    """The records `form` reads (its source table), for window `p`."""
    if form.source == "fact_qlkntc":
        return qlkntc(p)
    return {"fact_petition": PETITIONS, "fact_reception": RECEPTIONS}[form.source]


def forms_of(p: Period) -> list:
    cfg = settings.get()
    return [form_definition(code, p, cfg) for code in regimes.regime_for(p, cfg.regimes).form_codes]


def same(a, b) -> bool:
    if pd.isna(a) or pd.isna(b):
        return pd.isna(a) and pd.isna(b)
    return float(a) == pytest.approx(float(b), abs=1e-6)


# ------------------------------------------------------------------ levels and units

def test_levels_record_and_report():
    assert core_levels.LEVELS == ("tinh", "huyen", "xa")        # the recording levels, unchanged
    assert core_levels.REPORT_LEVELS == ("quoc_gia", *core_levels.LEVELS)
    assert core_levels.NATIONAL_LEVEL == "quoc_gia" and core_levels.LEVEL_NAMES["quoc_gia"] == "toàn quốc"
    order = core_levels.LEVEL_ORDER
    assert sorted(order, key=order.get) == list(core_levels.REPORT_LEVELS)
    assert publish.ALL_LEVELS == ("quoc_gia", "tinh", "huyen", "xa", publish.SUMMARY_LEVEL)


def test_national_unit_frame(units):
    top = units.iloc[0]
    assert (top["unit_key"], top["unit_code"], top["name"], top["unit_type"], top["level"], top["scheme"]) == \
        (NATIONAL, "VN", "Toàn quốc", "", "quoc_gia", "country")
    assert pd.isna(top["parent_key"]) and top["valid_to"] is None and top["valid_from"] == cfg_dates()[2]
    assert units.dtypes.to_dict() == U.unit_frame(settings.get(), "01").dtypes.to_dict()
    provinces = units[units["level"] == "tinh"]
    assert list(provinces["unit_key"]) == [HN, DN]
    assert set(provinces["parent_key"]) == {NATIONAL} and set(provinces["parent_code"]) == {"VN"}
    # The rest is each province's own frame, unchanged (and the cached frame untouched).
    for code in ("01", "48"):
        own = U.unit_frame(settings.get(), code)
        assert own.loc[own["level"] == "tinh", "parent_key"].isna().all()
        mine = units[units["unit_key"].isin(own["unit_key"])]
        assert len(mine) == len(own)
        below = own[own["level"] != "tinh"].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine[mine["level"] != "tinh"].reset_index(drop=True), below)
    assert len(units) == 1 + len(U.unit_frame(settings.get(), "01")) + len(U.unit_frame(settings.get(), "48"))
    assert units["unit_key"].is_unique
    with pytest.raises(ValueError, match="duplicate unit keys"):
        U.national_unit_frame(("01", "01"), *cfg_dates())
    xw = U.national_crosswalk_frame(("48", "01"))
    assert len(xw) == len(U.crosswalk_frame("01")) + len(U.crosswalk_frame("48"))
    assert set(xw["old_unit_key"]) == set(U.crosswalk_frame("01")["old_unit_key"]) | \
        set(U.crosswalk_frame("48")["old_unit_key"])


def test_load_dim_unit_national_and_back(tmp_path, units):
    eng = db.engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    n = U.load_dim_unit(eng, settings.get(), ("01", "48"))
    with eng.connect() as conn:
        count = lambda t: conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t.name}").scalar()
        assert n == count(dim_unit) == len(units)
        assert count(dim_unit_crosswalk) == len(U.national_crosswalk_frame(("01", "48")))
        level = conn.exec_driver_sql("SELECT level, scheme FROM dim_unit WHERE unit_key = 'country:VN'").one()
        assert tuple(level) == ("quoc_gia", "country")
    # A province deployment: exactly today's table.
    assert U.load_dim_unit(eng, settings.get()) == len(U.unit_frame(settings.get()))


# ------------------------------------------------------------------ scopes

@pytest.mark.parametrize("p", [Q2_2025, Q4_2025], ids=["2025-Q2", "2025-Q4"])
def test_report_scopes_national_first_then_each_province(units, p):
    scopes = L.report_scopes(p, units)
    nat = scopes[0]
    assert (nat.kind, nat.level, nat.unit_key, nat.unit_code, nat.province_code) == \
        ("consolidated", "quoc_gia", NATIONAL, "VN", "VN")
    assert nat.issuer == L.NATIONAL_ISSUER == "Thanh tra Chính phủ" and nat.slug.isascii()
    each = {code: L.report_scopes(p, U.unit_frame(settings.get(), code)) for code in ("01", "48")}
    assert scopes[1:] == each["01"] + each["48"]
    assert L.report_scopes(p, units, "48") == each["48"]
    assert not any(s.level == "quoc_gia" for s in L.report_scopes(p, units, "01"))
    # One province's table: as before, with or without its code.
    hn = U.unit_frame(settings.get(), "01")
    assert L.report_scopes(p, hn) == L.report_scopes(p, hn, "01") == each["01"]
    assert each["01"][0].unit_key == HN and each["01"][0].issuer == "UBND Thành phố Hà Nội"


def test_scope_rules(units):
    with pytest.raises(ValueError, match="only a consolidated"):
        L.Scope("own", "quoc_gia", NATIONAL, "VN", "Toàn quốc", "x", "VN")
    with pytest.raises(ValueError, match="scope level"):
        L.Scope("own", "vung", "x", "x", "x", "x", "x")
    assert L.scope_for(units, NATIONAL, "consolidated").national
    # In a national table a unit's scope finds its province.
    assert L.scope_for(units, "legacy:20335", "own").province_code == "48"
    assert L.scope_for(units, "legacy:490", "consolidated", "48").province_code == "48"
    with pytest.raises(ValueError, match="not under province"):
        L.scope_for(units, "legacy:490", "own", "01")


# ------------------------------------------------------------------ rows

def test_national_rows_are_the_provinces(units, index):
    nat = L.scope_for(units, NATIONAL, "consolidated")
    for p in (Q4_2023, Q4_2025):
        rows, _ = L.build_rows(nat, p, frame([]), index)
        assert [(r.row_id, r.label, r.unit_code, r.kind) for r in rows] == [
            (HN, "Thành phố Hà Nội", "01", "unit"), (DN, "Thành phố Đà Nẵng", "48", "unit"),
            ("total", "Tổng cộng", "VN", "total")]
    # Every unit of a province's territory, whatever its dates, goes to the province's row.
    layout = Layout(nat, Q4_2025, index, None)
    for code, key in (("01", HN), ("48", DN)):
        territory = units[units["unit_key"].isin(U.unit_frame(settings.get(), code)["unit_key"])]
        assert {layout.target(k)[0] for k in territory["unit_key"]} == {key}
    assert layout.target(NATIONAL) == (None, None, None)


def test_records_land_on_their_province(units, index):
    p = Q2_2025
    recs = frame([rec("a", "legacy:00001", D(2025, 4, 1), "thuong_xuyen", "can_bo", 1, "K1", "lan_dau"),
                  rec("b", "legacy:001", D(2025, 4, 2), "dinh_ky", "thu_truong", 2, "K2", "lan_dau", "S1"),
                  rec("c", HN, D(2025, 4, 3), "thuong_xuyen", "can_bo", 1, "K1", "lan_dau"),
                  rec("d", "legacy:20335", D(2025, 4, 4), "thuong_xuyen", "can_bo", 1, "K1", "lan_dau"),
                  rec("e", "legacy:502", D(2025, 4, 5), "thuong_xuyen", "can_bo", 1, None, "lan_dau"),
                  rec("f", DN, D(2025, 4, 6), "thuong_xuyen", "can_bo", 1, None, "lan_dau")])
    nat = L.scope_for(units, NATIONAL, "consolidated")
    _, placed = L.build_rows(nat, p, recs, index)
    assert dict(zip(placed["reception_key"], placed["row_id"])) == {
        "a": HN, "b": HN, "c": HN, "d": DN, "e": DN, "f": DN}
    # The same through the index a report set builds once.
    _, again = L.build_rows(nat, p, L.RecordsByUnit(recs), index)
    assert list(again["row_id"]) == list(placed["row_id"])
    # A province's reports in the national table take only its own territory's records.
    for key, mine in ((HN, {"a", "b", "c"}), (DN, {"d", "e", "f"})):
        for kind in ("consolidated", "remapped"):
            for given in (recs, L.RecordsByUnit(recs)):
                _, prov = L.build_rows(L.scope_for(units, key, kind), p, given, index)
                assert set(prov["reception_key"]) == mine


def test_unplaced_records_in_the_national_report(units, index):
    nat = L.scope_for(units, NATIONAL, "consolidated")
    stray = frame([rec("s1", "legacy:99999", D(2025, 4, 1), "thuong_xuyen", "can_bo", 1, None, "lan_dau")])
    with pytest.raises(L.UnplacedRecordsError, match=r"the country \(VN\).*legacy:99999"):
        L.build_rows(nat, Q2_2025, stray, index)
    with pytest.raises(L.UnplacedRecordsError):
        L.build_rows(nat, Q2_2025, L.RecordsByUnit(stray), index)
    # A record of a unit abolished before its date, and one at the national level itself.
    late = frame([rec("s2", "legacy:20335", D(2025, 10, 1), "thuong_xuyen", "can_bo", 1, None, "lan_dau")])
    with pytest.raises(L.UnplacedRecordsError):
        L.build_rows(nat, Q4_2025, late, index)
    at_top = frame([rec("s3", NATIONAL, D(2025, 10, 1), "thuong_xuyen", "can_bo", 1, None, "lan_dau")])
    with pytest.raises(L.UnplacedRecordsError):
        L.build_rows(nat, Q4_2025, at_top, index)
    _, dropped = L.build_rows(nat, Q2_2025, stray, index, strict=False)
    assert dropped.empty and dropped.attrs["unplaced"] == 1
    # The national report answers for them; a province's report there does not.
    _, none = L.build_rows(L.scope_for(units, DN, "consolidated"), Q2_2025, stray, index)
    assert none.empty and none.attrs["unplaced"] == 0
    # A province deployment: the province's report answers for them, as before.
    with pytest.raises(L.UnplacedRecordsError, match="province 01"):
        hn = U.unit_frame(settings.get(), "01")
        L.build_rows(L.scope_for(hn, HN, "consolidated"), Q2_2025, stray, hn)


def test_carried_over_legacy_petitions_land_on_their_province(units, index, tmp_path):
    """Petitions pending at legacy units on 30/06/2025, in Quý IV 2025 (02/XLD of TT
    06/2025 reads them): on their province's row of the national report, on their
    successors (or the districts' row) in the province's own report."""
    p = Q4_2025
    form = form_definition("02/XLD", p, settings.get())
    recs = pd.DataFrame([petition("k1", "legacy:20335", D(2025, 6, 1), None),       # Quảng Nam commune
                         petition("k2", "legacy:490", D(2025, 6, 2), None),         # Đà Nẵng district
                         petition("k3", "legacy:00007", D(2025, 6, 3), None),       # Hà Nội, split
                         petition("k4", "2025:20194", D(2025, 10, 2), D(2025, 10, 3)),
                         petition("k5", "legacy:20194", D(2025, 5, 1), D(2025, 6, 1))])  # done before
    nat = L.scope_for(units, NATIONAL, "consolidated")
    res = L.scope_report("02/XLD", nat, p, recs, units, tmp_path / "nat.xlsx", form=form)
    assert res.record_count == 4
    assert (res.table.loc[DN, 1], res.table.loc[HN, 1], res.table.loc["total", 1]) == (3, 1, 4)
    selected = form.select(recs, p)
    _, placed = L.build_rows(nat, p, selected, index, preselected=True)
    assert dict(zip(placed["petition_key"], placed["row_id"])) == {"k1": DN, "k2": DN, "k3": HN, "k4": DN}
    _, dn = L.build_rows(L.scope_for(units, DN, "consolidated"), p, selected, index, preselected=True)
    rows_of = dict(zip(dn["petition_key"], dn["row_id"]))
    assert rows_of["k2"] == L.DISTRICTS_ROW_ID and rows_of["k1"].startswith("2025:")
    dn_res = L.scope_report("02/XLD", L.scope_for(units, DN, "consolidated"), p, recs, units,
                            tmp_path / "dn.xlsx", form=form)
    assert dn_res.table.loc["total", 1] == res.table.loc[DN, 1]


# ------------------------------------------------------------------ every form: additive

@pytest.mark.parametrize("p", [Q4_2023, Q2_2025, Q4_2025], ids=["2023-Q4-TT02", "2025-Q2-TT01", "2025-Q4-TT06"])
def test_each_province_row_is_the_province_report_total(units, p, tmp_path):
    nat = L.scope_for(units, NATIONAL, "consolidated")
    provinces = {key: L.scope_for(units, key, "consolidated") for key in (HN, DN)}
    forms = forms_of(p)
    assert len(forms) >= 6
    if p is Q4_2025:
        assert [f.code for f in forms] == ["01/TCD", "02/XLD", "03/GQKN", "04/GQTC", "05/KQTH", "06/QLKNTC"]
    for form in forms:
        recs = records_for(form, p)
        stem = form.code.replace("/", "-")
        res = L.scope_report(form.code, nat, p, recs, units, tmp_path / f"{stem}-VN.xlsx", form=form)
        table = res.table
        assert list(table.index) == [HN, DN, "total"], form.code
        selected = form.select(recs, p)
        assert res.record_count == len(selected) > 0, form.code       # every record placed
        counts = 0
        for key, scope in provinces.items():
            pres = L.scope_report(form.code, scope, p, recs, units, tmp_path / f"{stem}-{scope.unit_code}.xlsx",
                                  form=form)
            counts += pres.record_count
            for ms in form.number_columns:
                assert same(table.loc[key, ms], pres.table.loc["total", ms]), \
                    f"{form.code} {form.version} {key} MS {ms}: {table.loc[key, ms]} != {pres.table.loc['total', ms]}"
        assert counts == res.record_count, form.code
        for ms in form.number_columns:
            rows = [table.loc[k, ms] for k in (HN, DN)]
            if any(pd.isna(v) for v in rows):
                assert pd.isna(table.loc["total", ms]), (form.code, ms)
            else:
                assert same(table.loc["total", ms], sum(float(v) for v in rows)), (form.code, ms)
        counted = [ms for ms in form.number_columns if ms not in form.source_columns_ms]
        assert table.loc["total", counted].astype(float).sum() > 0, f"{form.code}: the data exercise the form"
        if form.code in ("01/TCD", "02/XLD", "01/XLD"):
            # Their first column counts records: the national total is the number of records.
            assert table.loc["total", 1] == len(selected), form.code
    # The province's report in the national table is the one of its own deployment.
    hn = U.unit_frame(settings.get(), "01")
    form = forms[0]
    alone = L.scope_report(form.code, L.scope_for(hn, HN, "consolidated"), p,
                           records_for(form, p).query("unit_key in @hn.unit_key"), hn, tmp_path / "alone.xlsx",
                           form=form)
    shared = L.scope_report(form.code, provinces[HN], p, records_for(form, p), units, tmp_path / "shared.xlsx",
                            form=form)
    pd.testing.assert_frame_equal(alone.table, shared.table)


def test_carried_records_are_in_the_synthetic_data():
    """Quý IV 2025 of 02/XLD reads petitions of legacy units (received before the reform,
    not yet processed): the additive property above covers carried-over records."""
    form = form_definition("02/XLD", Q4_2025, settings.get())
    selected = form.select(PETITIONS, Q4_2025)
    carried = selected[selected["unit_key"].str.startswith("legacy:")]
    assert len(carried) > 5 and {k.split(":")[1][:1] for k in carried["unit_key"]} >= {"0", "2"}


# ------------------------------------------------------------------ row status

def test_row_status_of_the_national_report(units, index):
    p = Q4_2025
    nat = L.scope_for(units, NATIONAL, "consolidated")
    rows, _ = L.build_rows(nat, p, frame([]), index)
    live = index.df[index.in_force_mask(p.start, p.end)]
    hn_units = [k for k in live["unit_key"] if HN in index.chain(k)]
    dn_units = [k for k in live["unit_key"] if DN in index.chain(k)]
    # Hà Nội: one commune reported; Đà Nẵng: nobody.
    statuses = {k: "chua_bao_cao" for k in hn_units + dn_units}
    statuses["2025:00004"] = "dung_han"
    st = L.row_status_for(nat, rows, completeness(statuses, p), index, p)
    assert st[HN] == RowStatus(True, len(hn_units), len(hn_units) - 1)
    assert st[DN] == RowStatus(False, len(dn_units), len(dn_units))
    assert len(hn_units) == 1 + 126 and "total" not in st
    # The units of the window only: legacy units (abolished on 30/06/2025) are not expected.
    assert not any(k.startswith("legacy:") for k in hn_units + dn_units)


# ------------------------------------------------------------------ the workbook

def test_national_workbook(units, tmp_path):
    p = Q4_2025
    form = form_definition("01/TCD", p, settings.get())
    out = tmp_path / "national.xlsx"
    res = L.scope_report("01/TCD", L.scope_for(units, NATIONAL, "consolidated"), p, RECEPTIONS, units, out,
                         {"run_id": "r-national"}, form=form)
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    top = [c.value for row in ws.iter_rows(max_row=4) for c in row if isinstance(c.value, str)]
    assert "THANH TRA CHÍNH PHỦ" in top and not any("UBND" in t for t in top)
    labels = [r[0].value for r in ws.iter_rows() if r[0].value]
    at = labels.index("Thành phố Hà Nội")
    assert labels[at:at + 3] == ["Thành phố Hà Nội", "Thành phố Đà Nẵng", "Tổng cộng"]
    info = {r[0].value: r[1].value for r in wb["Thông tin"].iter_rows() if r[0].value}
    assert info["Đơn vị báo cáo"] == "Thanh tra Chính phủ" and info["Số dòng đơn vị"] == 2
    assert res.scope.national and res.table.loc["total", 1] == len(form.select(RECEPTIONS, p))
    # Where it is published: the national level's folder, the national code.
    path = publish.target_path(p, "quoc_gia", "VN", "01/TCD", tmp_path, file_tag="TT06-2025")
    assert path.relative_to(tmp_path.resolve()).parts[:3] == ("2025-Q4", "quoc_gia", "VN")
    assert path.name == "TT06-2025_01-TCD_VN_20250915-20251214.xlsx"


def test_announced_days_of_the_national_report_are_the_province_heads(units, index, tmp_path):
    """01/TCD of TT 06/2025, columns 10 and 16: a row counts the days of the head of the
    unit it names (``rows: own_unit``), so a province's row of the national report
    counts the provincial chairman's announced days, as the province's own row does in
    its report — not its communes' heads (as a district row of the city report counts
    the district chairman's)."""
    p = Q4_2025
    form = form_definition("01/TCD", p, settings.get())
    days = []
    for key in (HN, DN, "2025:00004"):
        for month in (9, 10, 11, 12):
            for d, who in ((1 if month != 9 else 16, "thu_truong"), (10, "uy_quyen"), (12, "thu_truong")):
                r = {c: None for c in CALENDAR_COLUMNS}
                r.update({"calendar_key": f"{key}:{month}:{d}", "unit_code": key.split(":")[1], "unit_key": key,
                          "announced_date": D(2025, month, d), "receiver": who, "raw_id": 1, "batch_id": "b1",
                          "source_kind": "city_service", "source_name": "thử", "record_id": f"{key}:{month}:{d}"})
                days.append(r)
    cal = pd.DataFrame(days, columns=CALENDAR_COLUMNS)
    res = L.scope_report("01/TCD", L.scope_for(units, NATIONAL, "consolidated"), p, RECEPTIONS, units,
                         tmp_path / "n.xlsx", form=form, source_frames={"fact_reception_calendar": cal})
    # The window starts on 15/09: of September's days only the 16th is in it.
    in_person = {D(2025, 9, 16)} | {D(2025, m, d) for m in (10, 11, 12) for d in (1, 12)}
    assert res.table.loc[HN, 10] == res.table.loc[DN, 10] == len(in_person)
    assert res.table.loc[HN, 16] == 3            # 10/10, 10/11, 10/12 (10/09 is before the window)
    assert res.table.loc["total", 10] == 2 * len(in_person)
