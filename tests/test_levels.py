"""Report scopes and rows at every level (reports.levels), the as-recorded and remapped
views across the 2025 reform, and row status from completeness — on the real Hà Nội
units (vietnamadminunits) and synthetic records. Pure pandas in, xlsx out."""
from __future__ import annotations

import collections
import datetime as dt
import random

import openpyxl
import pandas as pd
import pytest
from test_tcd01 import FORM_PATH, frame, rec

from core import settings
from core.periods import custom, period
from reports import levels as L
from reports.formdef import RowStatus, check_identities, compute, load_form
from warehouse.units import crosswalk_frame, unit_frame

D = dt.date
ACROSS = custom(D(2025, 6, 1), D(2025, 7, 31))          # spans 01/07/2025
LONG = custom(D(2021, 7, 1), D(2025, 2, 28))             # the published multi-year range
PROVINCE = "province:01"


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return unit_frame(settings.get(), "01")


@pytest.fixture(scope="module")
def form():
    return load_form(FORM_PATH)


def by_kind(scopes):
    return collections.Counter((s.level, s.kind) for s in scopes)


def completeness(rows: dict[str, str], p) -> pd.DataFrame:
    """dq_completeness-like rows: {unit_key: status} (source kind from the level)."""
    kind = lambda k: ("city_service" if k.startswith("province") else
                      "district_db" if k.count(":") and len(k.split(":")[1]) == 3 else "commune_register")
    return pd.DataFrame([{"period_key": p.key, "unit_key": k, "source_kind": kind(k), "status": s}
                         for k, s in rows.items()])


def all_reported(units: pd.DataFrame, p, **overrides: str) -> pd.DataFrame:
    """Every unit in force in the window reported on time, except `overrides`."""
    vf = pd.to_datetime(units["valid_from"]).dt.date
    vt = pd.to_datetime(units["valid_to"]).dt.date
    live = units[(vf <= p.end) & (vt.isna() | (vt >= p.start))]
    statuses = {k: "dung_han" for k in live["unit_key"]}
    statuses.update({k.replace("_", ":"): v for k, v in overrides.items()})
    return completeness(statuses, p)


# ------------------------------------------------------------------ scopes

def test_scopes_before_the_reform(units):
    scopes = L.report_scopes(period("Q3", 2024), units)
    assert by_kind(scopes) == {("tinh", "own"): 1, ("tinh", "consolidated"): 1, ("huyen", "own"): 30,
                               ("huyen", "consolidated"): 30, ("xa", "own"): 526}
    assert [(s.kind, s.unit_key) for s in scopes[:4]] == [("own", PROVINCE), ("consolidated", PROVINCE),
                                                          ("own", "legacy:001"), ("consolidated", "legacy:001")]
    assert scopes[2].unit_name == "Quận Ba Đình" and scopes[2].issuer == "UBND Quận Ba Đình"
    assert all(s.unit_key.startswith("legacy:") for s in scopes if s.level == "xa")


def test_scopes_after_the_reform(units):
    scopes = L.report_scopes(period("Q3", 2026), units)
    assert by_kind(scopes) == {("tinh", "own"): 1, ("tinh", "consolidated"): 1, ("xa", "own"): 126}
    assert not any(s.level == "huyen" for s in scopes)
    with_view = L.report_scopes(period("Q3", 2026), units, include_remapped=True)
    assert [s.kind for s in with_view if s.level == "tinh"] == ["own", "consolidated", "remapped"]


def test_scopes_across_the_reform(units):
    scopes = L.report_scopes(period("Q3", 2025), units)     # 15/06–14/09/2025
    counts = by_kind(scopes)
    assert counts[("huyen", "own")] == counts[("huyen", "consolidated")] == 30
    assert counts[("xa", "own")] == 526 + 126
    slugs = [s.slug for s in scopes]
    assert len(set(slugs)) == len(slugs) and all(s.isascii() and " " not in s for s in slugs)
    # Code 00004 was Trúc Bạch and is now Ba Đình: two reports, two file names.
    own_00004 = [s for s in scopes if s.unit_code == "00004"]
    assert [s.unit_key for s in own_00004] == ["legacy:00004", "2025:00004"]
    assert own_00004[0].slug == "legacy-00004-phuong-truc-bach-own"
    assert own_00004[1].slug == "2025-00004-phuong-ba-dinh-own"
    # Slugs are stable: a unit's reports have the same file names in every window.
    later = {s.slug for s in L.report_scopes(period("Q3", 2026), units)}
    assert len(later) == 2 + 126 and later <= set(slugs)


def test_scope_rules(units):
    with pytest.raises(ValueError, match="remapped"):
        L.Scope("remapped", "huyen", "legacy:001", "001", "Quận Ba Đình", "x", "01")
    with pytest.raises(ValueError, match="consolidate"):
        L.scope_for(units, "legacy:00001", "consolidated")
    with pytest.raises(KeyError):
        L.scope_for(units, "legacy:99999", "own")


# ------------------------------------------------------------------ rows as recorded

BA_DINH = "legacy:001"


def test_district_consolidated_rows(units, form):
    p = period("Q3", 2024)
    scope = L.scope_for(units, BA_DINH, "consolidated")
    recs = frame([
        rec("c1", "legacy:00001", D(2024, 7, 1), "thuong_xuyen", "can_bo", 1, "K1", "lan_dau"),
        rec("c2", "legacy:00004", D(2024, 7, 2), "thuong_xuyen", "can_bo", 2, "K1", "nhieu_lan"),
        rec("c3", BA_DINH, D(2024, 8, 1), "dinh_ky", "thu_truong", 3, "K2", "lan_dau", "S1"),
        rec("c4", "legacy:00037", D(2024, 8, 1), "thuong_xuyen", "can_bo", 1, "K3", "lan_dau"),  # Hoàn Kiếm
        rec("c5", "legacy:00001", D(2024, 9, 15), "thuong_xuyen", "can_bo", 1, "K4", "lan_dau"),  # after
    ])
    rows, placed = L.build_rows(scope, p, recs, units)
    communes = units[(units["parent_key"] == BA_DINH)].sort_values("unit_code")
    assert [r.row_id for r in rows] == [*communes["unit_key"], BA_DINH, "total"]
    assert [r.kind for r in rows][-2:] == ["own", "total"]
    assert rows[-2].label == "UBND Quận Ba Đình (cấp huyện)" and rows[0].label == "Phường Phúc Xá"
    assert all(r.note == "" for r in rows)                  # everything in force all window
    assert dict(zip(placed["reception_key"], placed["row_id"])) == {
        "c1": "legacy:00001", "c2": "legacy:00004", "c3": BA_DINH}
    t = compute(form, L.count_per_unit(form, placed), rows)
    assert (t.loc["legacy:00001", 1], t.loc["legacy:00004", 1], t.loc[BA_DINH, 1], t.loc["total", 1]) == (1, 1, 1, 3)
    assert check_identities(form, t) == []

    # The city's row for Ba Đình is the district report's total (counted per unit: K1
    # was received at two communes, each reports it).
    city = L.scope_for(units, PROVINCE, "consolidated")
    crow, cplaced = L.build_rows(city, p, recs[recs["reception_key"] != "c4"], units)
    ct = compute(form, L.count_per_unit(form, cplaced), crow)
    for ms in form.number_columns:
        assert ct.loc[BA_DINH, ms] == t.loc["total", ms], ms
    assert ct.loc[BA_DINH, 6] == 1 and ct.loc[BA_DINH, 7] == 1   # K1 first at Phúc Xá, repeat at Trúc Bạch
    assert compute(form, cplaced, crow).loc[BA_DINH, 7] == 0    # a shared key would otherwise vanish


def test_district_across_the_reform_notes(units):
    rows, _ = L.build_rows(L.scope_for(units, BA_DINH, "consolidated"), ACROSS, frame([]), units)
    assert all(r.note == "Số liệu đến ngày 30/06/2025" for r in rows[:-1])
    # After the reform the district is not a row of the city report, nor a scope.
    city_rows, _ = L.build_rows(L.scope_for(units, PROVINCE, "consolidated"), period("Q4", 2025),
                                frame([]), units)
    assert not any(r.row_id.startswith("legacy:") for r in city_rows)


def test_own_reports(units):
    p = ACROSS
    recs = frame([
        rec("o1", "legacy:00001", D(2025, 6, 3), "thuong_xuyen", "can_bo", 1, "K1", "lan_dau"),
        rec("o2", "legacy:00004", D(2025, 6, 4), "thuong_xuyen", "can_bo", 1, "K1", "lan_dau"),
        rec("o3", BA_DINH, D(2025, 6, 5), "dinh_ky", "thu_truong", 1, "K2", "lan_dau", "S"),
        rec("o4", PROVINCE, D(2025, 7, 5), "dinh_ky", "thu_truong", 1, "K3", "lan_dau", "SC"),
    ])
    rows, placed = L.build_rows(L.scope_for(units, "legacy:00001", "own"), p, recs, units)
    assert [(r.row_id, r.kind, r.label) for r in rows] == [("legacy:00001", "own", "UBND Phường Phúc Xá"),
                                                          ("total", "total", "Tổng cộng")]
    assert rows[0].note == "Số liệu đến ngày 30/06/2025" and list(placed["reception_key"]) == ["o1"]
    rows, placed = L.build_rows(L.scope_for(units, BA_DINH, "own"), p, recs, units)
    assert rows[0].label == "UBND Quận Ba Đình (cấp huyện)" and list(placed["reception_key"]) == ["o3"]
    rows, placed = L.build_rows(L.scope_for(units, PROVINCE, "own"), p, recs, units)
    assert rows[0].label == "UBND Thành phố Hà Nội (cấp thành phố)" and list(placed["reception_key"]) == ["o4"]
    rows, _ = L.build_rows(L.scope_for(units, "2025:00004", "own"), p, recs, units)
    assert rows[0].note == "Số liệu từ ngày 01/07/2025"


def test_unplaceable_records_in_a_scope(units):
    # A Phúc Xá record dated after Phúc Xá was abolished: an error for its own report
    # and the city's, not for another commune's report.
    stray = frame([rec("s1", "legacy:00001", D(2025, 7, 2), "thuong_xuyen", "can_bo", 1, None, "lan_dau")])
    with pytest.raises(L.UnplacedRecordsError, match="1 record"):
        L.build_rows(L.scope_for(units, "legacy:00001", "own"), ACROSS, stray, units)
    with pytest.raises(L.UnplacedRecordsError, match="province 01"):
        L.build_rows(L.scope_for(units, PROVINCE, "consolidated"), ACROSS, stray, units)
    rows, placed = L.build_rows(L.scope_for(units, "legacy:00004", "own"), ACROSS, stray, units)
    assert placed.empty and placed.attrs["unplaced"] == 0
    _, placed = L.build_rows(L.scope_for(units, PROVINCE, "consolidated"), ACROSS, stray, units, strict=False)
    assert placed.empty and placed.attrs["unplaced"] == 1


def test_preselected_records_before_the_window(units):
    p = period("Q3", 2024)
    recs = frame([rec("p1", "legacy:00001", D(2024, 3, 1), "thuong_xuyen", "can_bo", 1, None, "lan_dau"),
                  rec("p2", "legacy:00001", D(2024, 7, 1), "thuong_xuyen", "can_bo", 1, None, "lan_dau")])
    scope = L.scope_for(units, "legacy:00001", "own")
    _, by_date = L.build_rows(scope, p, recs, units)
    _, given = L.build_rows(scope, p, recs, units, preselected=True)
    assert list(by_date["reception_key"]) == ["p2"] and list(given["reception_key"]) == ["p1", "p2"]


def test_records_carried_over_the_reform(units):
    """A petition pending at a legacy unit on 30/06/2025, in a later window's population:
    it goes to the successor's row (default successor where split), a district's to the
    row "Cấp huyện (đến 30/06/2025)", and the rows say so."""
    p = period("Q4", 2025)
    recs = frame([rec("k1", "legacy:00001", D(2025, 5, 1), "thuong_xuyen", "can_bo", 1, None, "lan_dau"),
                  rec("k2", "legacy:00007", D(2025, 5, 2), "thuong_xuyen", "can_bo", 1, None, "lan_dau"),
                  rec("k3", BA_DINH, D(2025, 5, 3), "thuong_xuyen", "can_bo", 1, None, "lan_dau")])
    city = L.scope_for(units, PROVINCE, "consolidated")
    rows, placed = L.build_rows(city, p, recs, units, preselected=True)
    assert dict(zip(placed["reception_key"], placed["row_id"])) == {
        "k1": "2025:00097", "k2": "2025:00008", "k3": L.DISTRICTS_ROW_ID}
    by_id = {r.row_id: r for r in rows}
    assert [r.row_id for r in rows][-3:] == [L.DISTRICTS_ROW_ID, PROVINCE, "total"]
    assert by_id[L.DISTRICTS_ROW_ID].label == "Cấp huyện (đến 30/06/2025)"
    assert L.CARRIED_NOTE in by_id["2025:00097"].note and "Phường Phúc Xá" in by_id["2025:00097"].note
    assert "Ước tính" not in by_id["2025:00097"].note            # Phúc Xá went whole into Hồng Hà
    assert "Ước tính" in by_id["2025:00008"].note and "Ước tính" in by_id["2025:00025"].note
    assert placed.attrs["estimate_rows"] == ["2025:00008", "2025:00025"]
    # The successor's own report shows it too; the other successor says it lacks it.
    rows, placed = L.build_rows(L.scope_for(units, "2025:00008", "own"), p, recs, units, preselected=True)
    assert list(placed["reception_key"]) == ["k2"] and bool(placed["estimate"].iloc[0])
    rows, placed = L.build_rows(L.scope_for(units, "2025:00025", "own"), p, recs, units, preselected=True)
    assert placed.empty and rows[0].note.startswith("Ước tính: chưa gồm số liệu của phần đơn vị cũ Phường Cống Vị")


# ------------------------------------------------------------------ the remapped view

def test_remapped_rows_and_estimates(units):
    xw = crosswalk_frame("01")
    split = xw[(xw["old_unit_key"] == "legacy:00007")]          # Phường Cống Vị, split
    assert set(split["relation"]) == {"split"}
    default = split.loc[split["is_default"], "new_unit_key"].item()
    others = sorted(set(split["new_unit_key"]) - {default})
    whole = xw[xw["old_unit_key"] == "legacy:00001"]              # Phường Phúc Xá, whole
    assert list(whole["relation"]) == ["whole"]
    recs = frame([rec("m1", "legacy:00007", D(2024, 1, 5), "thuong_xuyen", "can_bo", 1, None, "lan_dau"),
                  rec("m2", "legacy:00001", D(2024, 1, 6), "thuong_xuyen", "can_bo", 1, None, "lan_dau"),
                  rec("m3", BA_DINH, D(2024, 1, 7), "thuong_xuyen", "can_bo", 1, None, "lan_dau")])
    scope = L.scope_for(units, PROVINCE, "remapped")
    assert scope.view == "remapped"
    rows, placed = L.build_rows(scope, LONG, recs, units)
    ids = [r.row_id for r in rows]
    today = units[(units["scheme"] == "2025")].sort_values("unit_code")["unit_key"].tolist()
    assert ids == [*today, L.DISTRICTS_ROW_ID, PROVINCE, "total"] and len(today) == 126
    assert dict(zip(placed["reception_key"], placed["row_id"])) == {
        "m1": default, "m2": whole["new_unit_key"].item(), "m3": L.DISTRICTS_ROW_ID}
    assert dict(zip(placed["reception_key"], placed["estimate"])) == {"m1": True, "m2": False, "m3": False}
    notes = {r.row_id: r.note for r in rows}
    assert notes[default].startswith("Ước tính: gồm toàn bộ số liệu của đơn vị cũ Phường Cống Vị (Quận Ba Đình)")
    assert all(notes[o].startswith("Ước tính: chưa gồm") for o in others)
    assert notes[whole["new_unit_key"].item()] == ""              # exact: no estimate
    assert placed.attrs["estimate_rows"] == sorted([default, *others])
    assert [r.label for r in rows if r.row_id == L.DISTRICTS_ROW_ID] == ["Cấp huyện (đến 30/06/2025)"]
    # After the reform there is no district row in the remapped view either.
    after, _ = L.build_rows(scope, period("Q3", 2026), frame([]), units)
    assert L.DISTRICTS_ROW_ID not in [r.row_id for r in after] and len(after) == 126 + 2


def synthetic(seed: int = 11, n: int = 400) -> pd.DataFrame:
    """Records over legacy communes (whole and split), districts' own records, 2025
    communes and the city, with case and sitting keys shared across units."""
    rng = random.Random(seed)
    legacy = ["legacy:00001", "legacy:00004", "legacy:00007", "legacy:00016", "legacy:00019",
              "legacy:00037", "legacy:00040", BA_DINH, "legacy:002", "legacy:271"]
    new = ["2025:00004", "2025:00008", "2025:00097", "2025:00025"]
    out = []
    first, last, reform = D(2021, 7, 1), D(2025, 9, 30), D(2025, 7, 1)
    for i in range(n):
        pick = rng.random()
        if pick < 0.6:
            unit, day = rng.choice(legacy), first + dt.timedelta(days=rng.randrange((reform - first).days))
        elif pick < 0.85:
            unit, day = rng.choice(new), reform + dt.timedelta(days=rng.randrange((last - reform).days + 1))
        else:
            unit, day = PROVINCE, first + dt.timedelta(days=rng.randrange((last - first).days + 1))
        mode = rng.choice(["thuong_xuyen", "thuong_xuyen", "dinh_ky", "dot_xuat"])
        receiver = "can_bo" if mode == "thuong_xuyen" else rng.choice(["thu_truong", "uy_quyen"])
        out.append(rec(f"r{i:04d}", unit, day, mode, receiver, rng.choice([1, 1, 2, 5, 7]),
                       rng.choice(["K1", "K2", "K3", "K4", None]), rng.choice(["lan_dau", "nhieu_lan"]),
                       None if mode == "thuong_xuyen" else rng.choice(["S1", "S2", None])))
    return frame(out)


@pytest.mark.parametrize("window", [ACROSS, LONG], ids=["across-reform", "2021-07-01..2025-02-28"])
def test_city_total_is_the_same_in_both_views(units, form, window, tmp_path):
    recs = synthetic()
    tables, naive = {}, {}
    for kind in ("consolidated", "remapped"):
        scope = L.scope_for(units, PROVINCE, kind)
        res = L.scope_report("01/TCD", scope, window, recs, units, tmp_path / f"{kind}.xlsx",
                             {"generated_at": "2026-01-01T00:00:00"}, form=form)
        tables[kind] = res.table
        rows, placed = L.build_rows(scope, window, recs, units)
        naive[kind] = compute(form, placed, rows)
        assert res.record_count == len(placed) > 30
    as_recorded, remapped = tables["consolidated"], tables["remapped"]
    for ms in form.number_columns:
        assert int(as_recorded.loc["total", ms]) == int(remapped.loc["total", ms]), f"cột {ms}"
    assert as_recorded.loc["total", 1] > 0 and as_recorded.loc["total", 6] + as_recorded.loc["total", 7] > 0
    if window is LONG:
        # The data do share keys across units: counting per row would break the equality.
        assert any(int(naive["consolidated"].loc["total", ms]) != int(naive["remapped"].loc["total", ms])
                   for ms in form.number_columns)
        assert "Ước tính" in remapped.loc["2025:00008", 30]
        assert remapped.loc[L.DISTRICTS_ROW_ID, 1] > 0


def test_remapped_workbook_says_what_it_is(units, form, tmp_path):
    out = tmp_path / "remapped.xlsx"
    scope = L.scope_for(units, PROVINCE, "remapped")
    res = L.scope_report("01/TCD", scope, LONG, synthetic(), units, out, {"run_id": "r1"}, form=form)
    assert res.estimate_rows and res.scope == scope
    wb = openpyxl.load_workbook(out)
    texts = [c.value for row in wb.active.iter_rows(max_row=8) for c in row if isinstance(c.value, str)]
    assert "UBND THÀNH PHỐ HÀ NỘI" in texts
    assert any(L.REMAPPED_VIEW_TEXT in t and "01/07/2021" in t for t in texts)
    info = {r[0].value: r[1].value for r in wb["Thông tin"].iter_rows() if r[0].value}
    assert info[L.VIEW_META_KEY] == L.REMAPPED_VIEW_TEXT
    assert "Phường Ngọc Hà" in info[L.ESTIMATE_META_KEY]
    assert info["Đơn vị báo cáo"] == "UBND Thành phố Hà Nội"
    assert res.form.date_line == form.date_line                   # the definition itself is unchanged


def test_district_workbook_names_the_district(units, form, tmp_path):
    out = tmp_path / "district.xlsx"
    recs = frame([rec("d1", "legacy:00001", D(2024, 7, 1), "thuong_xuyen", "can_bo", 1, "K1", "lan_dau")])
    res = L.scope_report("01/TCD", L.scope_for(units, BA_DINH, "consolidated"), period("Q3", 2024), recs,
                         units, out, form=form, lineage=True)
    wb = openpyxl.load_workbook(out)
    texts = [c.value for row in wb.active.iter_rows(max_row=4) for c in row if isinstance(c.value, str)]
    assert "UBND QUẬN BA ĐÌNH" in texts
    info = {r[0].value: r[1].value for r in wb["Thông tin"].iter_rows() if r[0].value}
    assert info["Đơn vị báo cáo"] == "UBND Quận Ba Đình" and info[L.VIEW_META_KEY] == L.AS_RECORDED_VIEW_TEXT
    assert res.table.loc["total", 1] == 1 and res.lineage_path and res.lineage_path.exists()


# ------------------------------------------------------------------ row status

def test_not_reported_commune_is_empty_not_zero(units, form, tmp_path):
    p = period("Q3", 2026)
    comp = all_reported(units, p, **{"2025_00008": "chua_bao_cao"})
    scope = L.scope_for(units, "2025:00008", "own")
    rows, placed = L.build_rows(scope, p, frame([]), units)
    status = L.row_status_for(scope, rows, comp, units, p)
    assert status == {"2025:00008": RowStatus(False, 1, 1)}
    out = tmp_path / "own.xlsx"
    res = L.scope_report("01/TCD", scope, p, placed, units, out, form=form, row_status=status, rows=rows)
    assert all(pd.isna(res.table.loc["2025:00008", ms]) for ms in form.number_columns)
    assert res.table.loc["2025:00008", 30].startswith("Chưa báo cáo")
    ws = openpyxl.load_workbook(out).active
    line = next(r for r in ws.iter_rows() if r[0].value == "UBND Phường Ngọc Hà")
    assert all(c.value is None for c in line[1:30]) and line[30].value.startswith("Chưa báo cáo")
    # A commune that reported and had nothing to report shows zeros.
    ok = L.row_status_for(scope, rows, all_reported(units, p), units, p)
    assert ok == {"2025:00008": RowStatus(True, 1, 0)}


def test_row_status_of_city_views(units):
    p = ACROSS
    communes_001 = units[units["parent_key"] == BA_DINH]["unit_key"].tolist()
    overrides = {k.replace(":", "_"): "chua_bao_cao" for k in communes_001[:3]}
    overrides.update({"2025_00097": "bi_tu_choi", "legacy_00001": "chua_bao_cao", "2025_00226": "thieu"})
    comp = all_reported(units, p, **overrides)
    # As recorded: Ba Đình's row is partial (3 of its communes missing).
    city = L.scope_for(units, PROVINCE, "consolidated")
    rows, _ = L.build_rows(city, p, frame([]), units)
    st = L.row_status_for(city, rows, comp, units, p)
    assert st[BA_DINH] == RowStatus(True, 1 + len(communes_001), 3)
    assert st["2025:00097"] == RowStatus(False, 1, 1) and st[PROVINCE] == RowStatus(True, 1, 0)
    assert "thiếu sổ" in st["2025:00226"].note and st["2025:00226"].reported
    # Remapped: Hồng Hà (00097) took Phúc Xá (00001) and others whole; it is not
    # reported only when none of them reported.
    remap = L.scope_for(units, PROVINCE, "remapped")
    rrows, _ = L.build_rows(remap, p, frame([]), units)
    rst = L.row_status_for(remap, rrows, comp, units, p)
    xw = crosswalk_frame("01")
    behind = set(xw[(xw["new_unit_key"] == "2025:00097") & xw["is_default"]]["old_unit_key"])
    assert "legacy:00001" in behind and len(behind) > 1
    assert rst["2025:00097"] == RowStatus(True, 1 + len(behind), 2)    # Phúc Xá and Hồng Hà missing
    silent = {k.replace(":", "_"): "chua_bao_cao" for k in behind | {"2025:00097"}}
    rst2 = L.row_status_for(remap, rrows, all_reported(units, p, **silent), units, p)
    assert rst2["2025:00097"] == RowStatus(False, 1 + len(behind), 1 + len(behind))
    assert rst[L.DISTRICTS_ROW_ID] == RowStatus(True, 30, 0)
    with pytest.raises(ValueError, match="no completeness rows"):
        L.row_status_for(remap, rrows, comp.iloc[0:0], units, p)


def test_carried_over_row_is_not_blanked(units):
    """A successor that did not report but shows records carried over from a legacy
    unit: those records were delivered, so the row is partial, not "not reported"."""
    p = period("Q4", 2025)
    recs = frame([rec("k1", "legacy:00001", D(2025, 5, 1), "thuong_xuyen", "can_bo", 1, None, "lan_dau")])
    city = L.scope_for(units, PROVINCE, "consolidated")
    rows, placed = L.build_rows(city, p, recs, units, preselected=True)
    comp = all_reported(units, p, **{"2025_00097": "chua_bao_cao", "2025_00004": "chua_bao_cao"})
    st = L.row_status_for(city, rows, comp, units, p)
    assert st["2025:00097"] == RowStatus(True, 1, 1) and st["2025:00004"] == RowStatus(False, 1, 1)


def petition(key: str, unit: str, received: dt.date, processed: dt.date | None) -> dict:
    return {"petition_key": key, "unit_code": unit.split(":")[1], "unit_key": unit, "received_date": received,
            "channel": "buu_chinh", "petition_kind": "KN", "signers": "mot", "field": "dat_dai",
            "case_key": f"{unit}:{key}", "eligible": True, "competent": True, "handling": "thu_ly",
            "reply_received": False, "resolution_status": None, "resolved_date": None,
            "processed_date": processed, "accepted_date": None, "resolution_round": "lan_dau",
            "outcome": None, "batch_id": "b1", "raw_id": 1, "record_id": key,
            "source_kind": "commune_register", "source_name": "test"}


def test_form_population_with_carried_over_petitions(units, tmp_path):
    """01/XLD reads petitions received before the window and not yet processed: the
    form selects them (FormDef.select) and the rows place them, after the reform too."""
    from reports.formdef import form_definition

    p = period("Q4", 2025)                                       # 15/09–14/12/2025
    form = form_definition("01/XLD", p.start, settings.get())
    recs = pd.DataFrame([petition("p1", "legacy:00007", D(2025, 6, 1), None),         # pending at Cống Vị
                         petition("p2", "legacy:00001", D(2025, 6, 2), D(2025, 10, 1)),
                         petition("p3", BA_DINH, D(2025, 6, 3), None),
                         petition("p4", "2025:00008", D(2025, 10, 2), D(2025, 10, 3)),
                         petition("p5", "legacy:00004", D(2025, 5, 1), D(2025, 6, 1))])  # done before
    totals = {}
    for kind in ("consolidated", "remapped"):
        res = L.scope_report("01/XLD", L.scope_for(units, PROVINCE, kind), p, recs, units,
                             tmp_path / f"xld-{kind}.xlsx", form=form)
        assert res.record_count == 4
        assert res.table.loc["2025:00008", 1] == 2 and res.table.loc[L.DISTRICTS_ROW_ID, 1] == 1
        totals[kind] = res.table.loc["total", form.number_columns].tolist()
    assert totals["consolidated"] == totals["remapped"]
    own = L.scope_report("01/XLD", L.scope_for(units, "2025:00008", "own"), p, recs, units,
                         tmp_path / "xld-own.xlsx", form=form)
    assert own.record_count == 2 and own.estimate_rows == ("2025:00008",)
