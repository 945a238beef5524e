"""The official form set as data: every configured form and version is loaded, computed
on petitions built to the canonical contract (docs/report-set.md §1), checked against
its identities, traced by lineage and written as xlsx; hand-computed cells; the
carried-over figures of a period equal the previous period's open ones; the version
switch; a form that exists only as a test fixture goes through the same generic code.
Pure pandas in, xlsx out: no Airflow, no database."""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from core import periods, regimes, settings
from core.periods import custom, period
from reports import publish, verify
from reports.formdef import (
    FormDefinitionError,
    IdentityError,
    PeriodRequiredError,
    ReportRow,
    RowStatus,
    check_contributions,
    check_identities,
    compute,
    contributions,
    form_definition,
    form_from_dict,
    load_form,
)
from reports.lineage import cell_sources, write_lineage
from reports.lineage import main as lineage_main
from reports.render import render_xlsx, write_xlsx
from warehouse.schema import fact_petition, fact_reception

D = dt.date
ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "reports" / "forms"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "forms"
PETITION_COLUMNS = [c.name for c in fact_petition.columns]
RECEPTION_COLUMNS = [c.name for c in fact_reception.columns]
UNIT_NAME = "UBND Thành phố Hà Nội"
META = {"run_id": "r-forms", "generated_at": "2024-06-20T08:00:00"}

ROWS = [ReportRow("A", "Phường Ba Đình", "00004"),
        ReportRow("B", "Phường Ngọc Hà", "00008"),
        ReportRow("C", "Xã Sóc Sơn", "08980", note="Ghi chú thử"),
        ReportRow("CITY", "UBND Thành phố Hà Nội (cấp thành phố)", "01", "own"),
        ReportRow("total", "Tổng cộng", "01", "total")]
ROW_OF = {"2025:00004": "A", "2025:00008": "B", "2025:08980": "C", "province:01": "CITY"}


def configured() -> list[tuple[str, str, str]]:
    """(form code, version, first regime) of every form definition a configured
    reporting regime uses (config `regimes:`), each once."""
    out: dict[tuple[str, str], str] = {}
    for regime in regimes.all_regimes(settings.get().regimes):
        for code in regime.forms:
            version = load_form(regimes.definition_path(regime, code, settings.get().home)).version
            out.setdefault((code, str(version)), regime.id)
    return [(code, version, regime_id) for (code, version), regime_id in out.items()]


def definition(code: str, version: str):
    return verify.form_by_version(code, version, settings.get())


# ------------------------------------------------------------------ synthetic petitions

FIELDS = {"KN": ["dat_dai", "che_do_chinh_sach", "cong_chuc", "khac", "tu_phap", None],
          "TC": ["tham_nhung", "cong_chuc", "dat_dai", "tu_phap", "dang_doan_the", "khac", None],
          "KNPA": ["dat_dai", "che_do_chinh_sach", "khac", "tu_phap", "cong_chuc", "dang_doan_the", None]}
ROUNDS = {"KN": ["lan_dau", "lan_dau", "lan_2", "ban_an"], "TC": ["lan_dau", "lan_dau", "tiep"], "KNPA": ["lan_dau"]}
CHANNELS = ["tiep_cong_dan", "buu_chinh", "co_quan_khac", "truc_tuyen"]
MONEY = ["recover_money", "return_org_money", "return_person_money"]
LAND = ["recover_land", "return_org_land", "return_person_land"]
COUNTS = ["orgs_restored", "persons_restored", "sanction_people", "sanction_officials", "prosecuted_cases",
          "prosecuted_people", "prosecuted_officials"]
# Execution of a decision: done field → the ordered field that bounds it (docs/report-set.md §1).
EXECUTED = {"collected_money": "recover_money", "collected_land": "recover_land",
            "returned_org_money": "return_org_money", "returned_org_land": "return_org_land",
            "returned_person_money": "return_person_money", "returned_person_land": "return_person_land",
            "sanctioned_people": "sanction_people", "sanctioned_officials": "sanction_officials",
            "prosecuted_done_cases": "prosecuted_cases", "prosecuted_done_people": "prosecuted_people",
            "prosecuted_done_officials": "prosecuted_officials"}
EXECUTED_AMOUNTS = list(EXECUTED)[:6]


def _execution(rec: dict, rnd: random.Random) -> None:
    """Execution of a decision that orders something: most carried out (executed_date
    10–150 days after the resolution; usually everything, sometimes less), the rest
    partly done or nothing yet. Done never exceeds ordered; officials never people."""
    if not any(rec[o] for o in EXECUTED.values()):
        return
    done = rnd.random() < 0.7
    rec["executed_date"] = rec["resolved_date"] + dt.timedelta(days=rnd.randrange(10, 150)) if done else None
    share = 1.0 if done and rnd.random() < 0.8 else rnd.uniform(0.0, 0.9)
    for f, o in EXECUTED.items():
        rec[f] = round(rec[o] * share, 2) if f in EXECUTED_AMOUNTS else int(rec[o] * share)
    rec["sanctioned_officials"] = min(rec["sanctioned_officials"], rec["sanctioned_people"])
    rec["prosecuted_done_officials"] = min(rec["prosecuted_done_officials"], rec["prosecuted_done_people"])


def _outcome(rnd: random.Random, kind: str, rnd_round: str) -> str | None:
    if kind == "KN":
        first = ["dung", "sai", "dung_mot_phan"] if rnd_round == "lan_dau" else ["cong_nhan", "huy_sua"]
        return rnd.choice(first + ["rut_don"])
    if kind == "TC":
        return rnd.choice(["dung", "sai", "dung_mot_phan", "rut_don", "dinh_chi"])
    return None     # the contract defines no outcome for kiến nghị, phản ánh


def synthetic_petitions(seed: int, n: int, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Petitions consistent with the canonical model: every column of fact_petition;
    several units; received before, inside and after any window between `first` and
    `last`; processed or not; eligible or not; competent → thụ lý, accepted, resolved
    or in progress, with a decision; not competent → hướng dẫn / chuyển đơn / đôn đốc
    with or without a reply; cases shared by several petitions of a unit (same kind
    and field), petitions without a case."""
    rnd = random.Random(seed)
    units = list(ROW_OF)
    cases: dict[str, list[dict]] = {u: [] for u in units}
    out = []
    span = (last - first).days
    for i in range(n):
        unit = rnd.choice(units)
        if cases[unit] and rnd.random() < 0.35:
            case = rnd.choice(cases[unit])
        else:
            kind = rnd.choice(["KN", "KN", "TC", "KNPA", "KNPA"])
            case = {"key": None if rnd.random() < 0.1 else f"{unit}:K{i}", "kind": kind,
                    "field": rnd.choice(FIELDS[kind])}
            if case["key"]:
                cases[unit].append(case)
        kind = case["kind"]
        received = first + dt.timedelta(days=rnd.randrange(span + 1))
        signers = ("khac" if kind == "TC" and rnd.random() < 0.3 or rnd.random() < 0.05
                   else ("nhieu" if rnd.random() < 0.15 else "mot"))
        processed = None if rnd.random() < 0.2 else received + dt.timedelta(days=rnd.randrange(0, 45))
        rec = {c: None for c in PETITION_COLUMNS}
        rec.update({
            "petition_key": f"p{seed}-{i:04d}", "unit_code": unit.split(":")[1], "unit_key": unit,
            "received_date": received, "channel": rnd.choice(CHANNELS), "petition_kind": kind,
            "signers": signers, "field": case["field"], "case_key": case["key"],
            "resolution_round": rnd.choice(ROUNDS[kind]), "processed_date": processed,
            "citizen_pseudonym": None if kind == "TC" else f"PSEUDO-{seed}-{i}",
            "raw_id": 10_000 * seed + i, "batch_id": f"B{rnd.randrange(3)}", "source_kind": "city_service",
            "source_name": f"nguồn {unit}", "record_id": f"rec-{seed}-{i}",
        })
        if processed is not None:
            rec["eligible"] = rnd.random() < 0.85
        if rec["eligible"]:
            rec["competent"] = rnd.random() < 0.5
            if rec["competent"]:
                rec["handling"] = "thu_ly"
                rec["accepted_date"] = processed + dt.timedelta(days=rnd.randrange(0, 6))
                rec["resolution_status"] = "dang_giai_quyet"
                if rnd.random() < 0.7:
                    resolved = rec["accepted_date"] + dt.timedelta(days=rnd.randrange(3, 80))
                    rec.update({"resolved_date": resolved, "resolution_status": "da_giai_quyet",
                                "outcome": _outcome(rnd, kind, rec["resolution_round"]),
                                "on_time": rnd.random() < 0.8})
                    for c in MONEY + LAND:
                        rec[c] = round(rnd.uniform(0, 900), 2) if rnd.random() < 0.3 else 0.0
                    for c in COUNTS:
                        rec[c] = rnd.randrange(0, 4) if rnd.random() < 0.3 else 0
                    rec["sanction_officials"] = min(rec["sanction_officials"], rec["sanction_people"])
                    rec["prosecuted_officials"] = min(rec["prosecuted_officials"], rec["prosecuted_people"])
                    if rec["outcome"] in ("dung", "dung_mot_phan", "huy_sua", "sai", "cong_nhan"):
                        # a stream of its own, so the records above are those of a model without it
                        _execution(rec, random.Random(f"{seed}-{i}-execution"))
            else:
                rec["handling"] = rnd.choice(["huong_dan", "chuyen_don", "don_doc"])
                rec["resolution_status"] = "chua_giai_quyet"
                if rec["handling"] != "huong_dan":
                    rec["reply_received"] = rnd.random() < 0.5
        # TT 06/2025 fields (a stream of their own): the source records acceptance; some
        # competent matters not yet decided were not accepted (không thụ lý) instead;
        # decisions recommend (and executions handle) organisations too.
        tt06 = random.Random(f"{seed}-{i}-tt06")
        rec["acceptance_recorded"] = True
        if rec["competent"] and rec["outcome"] is None and tt06.random() < 0.3:
            rec["not_accepted_date"], rec["accepted_date"] = rec["accepted_date"], None
            rec["resolution_status"] = "chua_giai_quyet"
        if rec["outcome"] is not None:
            rec["sanction_orgs"] = tt06.randrange(1, 3) if tt06.random() < 0.3 else 0
            rec["sanctioned_orgs"] = rec["sanction_orgs"] if rec["executed_date"] is not None else 0
        out.append(rec)
    return pd.DataFrame(out, columns=PETITION_COLUMNS)


def synthetic_receptions(seed: int, n: int, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Receptions (fact_reception) for 01/TCD: every mode and receiver, đoàn đông
    người, sittings, shared cases, first and repeat visits."""
    rnd = random.Random(seed)
    combos = [("thuong_xuyen", "can_bo")] * 3 + [("dinh_ky", "thu_truong"), ("dot_xuat", "thu_truong"),
                                                ("dinh_ky", "uy_quyen"), ("dot_xuat", "uy_quyen")]
    out = []
    for i in range(n):
        unit = rnd.choice(list(ROW_OF))
        mode, receiver = rnd.choice(combos)
        people = rnd.choice([1, 1, 2, 3, 5, 7])
        rec = {c: None for c in RECEPTION_COLUMNS}
        rec.update({"reception_key": f"r{seed}-{i:04d}", "unit_code": unit.split(":")[1], "unit_key": unit,
                    "received_date": first + dt.timedelta(days=rnd.randrange((last - first).days + 1)),
                    "mode": mode, "receiver": receiver,
                    "sitting_key": None if mode == "thuong_xuyen" else f"{unit}:S{rnd.randrange(8)}",
                    "people": people, "is_group": people >= 5, "petition_kind": rnd.choice(["KN", "TC", "KNPA"]),
                    "case_key": f"{unit}:C{rnd.randrange(40)}", "visit": rnd.choice(["lan_dau", "nhieu_lan"]),
                    "raw_id": i, "batch_id": "b1", "source_kind": "city_service", "source_name": "thử"})
        out.append(rec)
    return pd.DataFrame(out, columns=RECEPTION_COLUMNS)


WINDOW = custom(D(2024, 3, 1), D(2024, 7, 31))       # a custom (ad hoc) period
DATA = synthetic_petitions(5, 900, D(2023, 10, 1), D(2024, 9, 30))
RECEPTIONS = synthetic_receptions(5, 500, D(2023, 10, 1), D(2024, 9, 30))
SOURCES = {"fact_petition": DATA, "fact_reception": RECEPTIONS}


def placed(form, records: pd.DataFrame, p) -> pd.DataFrame:
    """The form's records for `p`, each with the row it belongs to."""
    sel = form.select(records, p)
    return sel.assign(row_id=sel["unit_key"].map(ROW_OF))


def test_synthetic_data_is_what_the_tests_need():
    d = DATA
    before = d["received_date"] < WINDOW.start
    after = d["received_date"] > WINDOW.end
    assert before.sum() > 100 and after.sum() > 50 and (~before & ~after).sum() > 200
    assert d["processed_date"].isna().sum() > 50 and d["resolved_date"].notna().sum() > 50
    in_progress = d["accepted_date"].notna() & d["resolved_date"].isna()
    assert in_progress.sum() > 20
    assert d["case_key"].isna().any() and d["case_key"].dropna().duplicated().sum() > 50
    assert set(d["unit_key"]) == set(ROW_OF) and set(d["signers"]) == {"nhieu", "mot", "khac"}
    assert {"lan_2", "ban_an", "tiep"} <= set(d["resolution_round"])
    executes = d["collected_money"].notna()
    assert executes.sum() > 50 and d.loc[executes, "executed_date"].isna().sum() > 10
    for done, ordered in EXECUTED.items():
        assert (d.loc[executes, done] <= d.loc[executes, ordered]).all()


# ------------------------------------------------------------------ configuration

def test_every_form_and_version_is_configured():
    got = {(code, version, regime) for code, version, regime in configured()}
    expected = {("01/TCD", "TT02_2021", "TT02_2021"), ("02/TCD", "TT02_2021", "TT02_2021"),
                ("01/KQGQ", "TT02_2021", "TT02_2021"), ("02/KQGQ", "TT02_2021", "TT02_2021"),
                ("03/KQGQ", "TT02_2021", "TT02_2021"), ("04/KQGQ", "TT02_2021", "TT02_2021")}
    for n in range(1, 5):
        expected |= {(f"0{n}/XLD", "TT02_2021", "TT02_2021"), (f"0{n}/XLD", "TT01_2024", "TT01_2024")}
    expected |= {(code, "TT06_2025", "TT06_2025") for code in TT06_FORMS}
    assert got == expected
    assert [(r.id, r.circular, r.in_force_from) for r in regimes.all_regimes(settings.get().regimes)] == [
        ("TT02_2021", "Thông tư 02/2021/TT-TTCP", D(2021, 5, 10)),
        ("TT01_2024", "Thông tư 01/2024/TT-TTCP", D(2024, 1, 20)),
        ("TT06_2025", "Thông tư 06/2025/TT-TTCP", D(2025, 9, 30))]


TITLES = {
    "02/TCD": "TỔNG HỢP KẾT QUẢ PHÂN LOẠI, XỬ LÝ ĐƠN QUA TIẾP CÔNG DÂN",
    "01/XLD": "TỔNG HỢP KẾT QUẢ XỬ LÝ ĐƠN",
    "02/XLD": "TỔNG HỢP KẾT QUẢ XỬ LÝ ĐƠN KHIẾU NẠI",
    "03/XLD": "TỔNG HỢP KẾT QUẢ XỬ LÝ ĐƠN TỐ CÁO",
    "04/XLD": "TỔNG HỢP KẾT QUẢ XỬ LÝ ĐƠN KIẾN NGHỊ, PHẢN ÁNH",
    "01/KQGQ": "TỔNG HỢP KẾT QUẢ GIẢI QUYẾT KHIẾU NẠI THUỘC THẨM QUYỀN",
    "02/KQGQ": "TỔNG HỢP KẾT QUẢ THI HÀNH QUYẾT ĐỊNH GIẢI QUYẾT KHIẾU NẠI",
    "03/KQGQ": "TỔNG HỢP KẾT QUẢ GIẢI QUYẾT TỐ CÁO THUỘC THẨM QUYỀN",
    "04/KQGQ": "TỔNG HỢP KẾT QUẢ THỰC HIỆN KẾT LUẬN NỘI DUNG TỐ CÁO",
}
# MS numbers of each new definition (shared/domain/forms.md; Ghi chú last).
LAST_MS = {("02/TCD", "TT02_2021"): 17, ("01/XLD", "TT02_2021"): 27, ("01/XLD", "TT01_2024"): 23,
           ("02/XLD", "TT02_2021"): 31, ("02/XLD", "TT01_2024"): 28, ("03/XLD", "TT02_2021"): 34,
           ("03/XLD", "TT01_2024"): 28, ("04/XLD", "TT02_2021"): 25, ("04/XLD", "TT01_2024"): 21,
           ("01/KQGQ", "TT02_2021"): 27, ("03/KQGQ", "TT02_2021"): 32, ("02/KQGQ", "TT02_2021"): 20,
           ("04/KQGQ", "TT02_2021"): 20}


@pytest.mark.parametrize("code,version", sorted(LAST_MS))
def test_definition_shape(code, version):
    f = definition(code, version)
    assert (f.code, f.version) == (code, version)
    assert f.title == TITLES[code] and f.code_label == f"Biểu số {code}"
    assert f.circular == ("Thông tư 01/2024/TT-TTCP" if version == "TT01_2024" else "Thông tư 02/2021/TT-TTCP")
    assert f.ms_numbers == list(range(1, LAST_MS[(code, version)] + 1))
    assert f.text_columns == [LAST_MS[(code, version)]] and f.column(f.text_columns[0]).text == "Ghi chú"
    assert f.source == "fact_petition" and len(f.semantics) > 400 and f.checks
    assert f.header_depth >= 2


def test_header_trees_follow_the_forms():
    x1 = definition("01/XLD", "TT02_2021")
    assert x1.column(4).path == ("Kỳ trước chuyển sang",) and x1.column(4).text == "Đơn khác"
    assert x1.column(15).path == ("Phân loại đơn theo tình trạng giải quyết", "Đã giải quyết")
    assert x1.column(25).path == ("Kết quả xử lý đơn", "Đơn không thuộc thẩm quyền")
    assert x1.column(9).ms_text == "9=11+12+13=14+15+16+17=18+22"
    x1b = definition("01/XLD", "TT01_2024")
    assert x1b.column(5).text == "Số đơn chưa xử lý (chuyển kỳ sau)" and x1b.column(5).path == ()
    assert x1b.column(1).ms_text == "1=2+3=4+5"
    assert x1b.column(19).path == ("Đơn không thuộc thẩm quyền",)     # forms.md: no parent group in 2024
    x2 = definition("02/XLD", "TT02_2021")
    assert x2.column(14).path == ("Phân loại vụ việc theo nội dung", "Lĩnh vực hành chính")
    assert x2.column(20).text == "Đã có bản án của tòa"
    x3 = definition("03/XLD", "TT02_2021")
    assert x3.column(24).path == ("Phân loại vụ việc theo tình trạng giải quyết", "Tố cáo tiếp")
    assert x3.column(12).ms_text == "12=13+18+…+21=22+…+25=26+29"
    x4b = definition("04/XLD", "TT01_2024")
    assert x4b.column(19).path == ("Kết quả giải quyết vụ việc thuộc thẩm quyền",)
    t2 = definition("02/TCD", "TT02_2021")
    assert t2.column(13).path == ("Phân loại theo thẩm quyền", "Không thuộc thẩm quyền", "Số vụ việc")
    k1 = definition("01/KQGQ", "TT02_2021")
    assert k1.column(10).path == ("Kết quả giải quyết", "Trả lại cho tổ chức, cá nhân", "Tổ chức")
    assert k1.column(10).text == "Đất (m²)" and k1.column(10).number_format == "#,##0.0"
    assert k1.decimal_columns == [7, 8, 9, 10, 11, 12] and not k1.column(13).decimal
    k3 = definition("03/KQGQ", "TT02_2021")
    assert k3.column(6).ms_text == "6=7+..+10=24+26+28=30+31" and k3.column(8).ms_text == "8=25+27+29"
    assert k3.column(16).path == ("Trả lại cho tổ chức, cá nhân", "Cá nhân") and k3.column(17).path == ()
    assert k3.column(31).path == ("Phân tích kết quả giải quyết (vụ việc)", "Chấp hành thời hạn giải quyết")
    for code in ("02/KQGQ", "04/KQGQ"):
        k = definition(code, "TT02_2021")
        assert k.column(5).path == ("Thu hồi cho Nhà nước", "Đã thu") and k.column(5).text == "Tiền (triệu đồng)"
        assert k.column(10).path == ("Trả lại cho tổ chức, cá nhân", "Phải trả", "Cá nhân")
        assert k.column(12).path == ("Trả lại cho tổ chức, cá nhân", "Đã trả", "Tổ chức")
        assert k.column(16).path == ("Đã xử lý hành chính",) and k.column(19).path == ("Đã khởi tố",)
        assert k.decimal_columns == list(range(3, 15)) and not k.column(15).decimal
    assert definition("04/KQGQ", "TT02_2021").column(18).text == "Số đối tượng"


@pytest.mark.parametrize("code", ["01/XLD", "02/XLD", "03/XLD", "04/XLD"])
def test_version_switch_of_the_xld_forms(code):
    """The regime in force on the window's LAST day governs (forms-2025.md §1.4)."""
    assert form_definition(code, D(2024, 1, 19), settings.get()).version == "TT02_2021"
    assert form_definition(code, D(2024, 1, 20), settings.get()).version == "TT01_2024"
    assert form_definition(code, period("Q2", 2024), settings.get()).version == "TT01_2024"
    # Q1 2024 (15/12/2023 – 14/03/2024) ends after TT 01/2024 came into force.
    assert form_definition(code, period("Q1", 2024), settings.get()).version == "TT01_2024"
    assert form_definition(code, period("Q4", 2023), settings.get()).version == "TT02_2021"
    assert form_definition(code, D(2021, 5, 10), settings.get()).version == "TT02_2021"
    with pytest.raises(ValueError, match="no reporting regime in force on 09/05/2021"):
        form_definition(code, D(2021, 5, 9), settings.get())


@pytest.mark.parametrize("code", ["01/TCD", "02/TCD", "01/KQGQ", "02/KQGQ", "03/KQGQ", "04/KQGQ"])
def test_forms_unchanged_by_tt01_2024_keep_their_version(code):
    assert form_definition(code, D(2025, 3, 15), settings.get()).version == "TT02_2021"
    assert form_definition(code, D(2021, 6, 1), settings.get()).version == "TT02_2021"


TT06_FORMS = ["01/TCD", "02/XLD", "03/GQKN", "04/GQTC", "05/KQTH", "06/QLKNTC"]


def test_regime_switch_on_the_window_end():
    """Quý III 2025 and 9 tháng 2025 stay on the TT 01/2024 set; Quý IV 2025, Năm 2025
    and every 2026 period are on TT 06/2025; a custom range goes by its end date; a
    form code of one regime is refused in another."""
    old_set = ["01/TCD", "02/TCD", "01/XLD", "02/XLD", "03/XLD", "04/XLD",
               "01/KQGQ", "02/KQGQ", "03/KQGQ", "04/KQGQ"]
    for kind, year in (("Q3", 2025), ("M9", 2025)):
        r = regimes.regime_for(period(kind, year), settings.get().regimes)
        assert (r.id, r.form_codes, r.file_tag) == ("TT01_2024", old_set, ""), (kind, year)
    for kind, year in (("Q4", 2025), ("Y", 2025), ("Q1", 2026), ("H1", 2026), ("Q3", 2026)):
        r = regimes.regime_for(period(kind, year), settings.get().regimes)
        assert (r.id, r.form_codes, r.file_tag) == ("TT06_2025", TT06_FORMS, "TT06-2025"), (kind, year)
    assert regimes.regime_for(periods.custom("2021-07-01", "2025-09-29"), settings.get().regimes).id == "TT01_2024"
    assert regimes.regime_for(periods.custom("2025-09-01", "2025-09-30"), settings.get().regimes).id == "TT06_2025"
    assert form_definition("02/XLD", period("Q3", 2025), settings.get()).version == "TT01_2024"
    assert form_definition("02/XLD", period("Q4", 2025), settings.get()).version == "TT06_2025"
    assert form_definition("02/XLD", period("Q4", 2025), settings.get()).title == "TỔNG HỢP KẾT QUẢ XỬ LÝ ĐƠN"
    with pytest.raises(ValueError, match="02/TCD is not part of Thông tư 06/2025/TT-TTCP"):
        form_definition("02/TCD", period("Q4", 2025), settings.get())
    with pytest.raises(ValueError, match="03/GQKN is not part of Thông tư 01/2024/TT-TTCP"):
        form_definition("03/GQKN", period("Q3", 2025), settings.get())


def test_regime_deadlines_and_narrative():
    new = regimes.regime_by_id("TT06_2025", settings.get().regimes)
    q1, q2, y = period("Q1", 2026), period("Q2", 2026), period("Y", 2025)
    # Điều 7.2: units by the 17th, the province by the 20th of the period's last month.
    assert (new.deadline(q1), new.deadline(q1, "province")) == (D(2026, 3, 17), D(2026, 3, 20))
    assert (new.deadline(y), new.deadline(y, "province")) == (D(2025, 12, 17), D(2025, 12, 20))
    # Điều 4: Quý I, 6 tháng, 9 tháng and năm carry Mẫu số 02; Quý II–IV tables only.
    assert [new.has_narrative(period(k, 2026)) for k in ("Q1", "Q2", "Q3", "Q4", "H1", "M9", "Y")] == \
        [True, False, False, False, True, True, True]
    old = regimes.regime_by_id("TT01_2024", settings.get().regimes)
    assert old.deadline(q2) == D(2026, 6, 19) and old.deadline(q2, "province") is None
    assert not old.has_narrative(period("Y", 2024))


def test_a_regime_defined_only_in_configuration_needs_no_code(tmp_path, monkeypatch):
    """A fourth regime and its form, written only as data (a config file and the
    fixture form), govern the windows ending from its date with no code change."""
    import yaml

    cfg = yaml.safe_load((ROOT / "config" / "pipeline.yaml").read_text(encoding="utf-8"))
    cfg["regimes"].append({"id": "TT99_2027", "circular": "Thông tư 99/2027/TT-TTCP",
                           "in_force_from": "2027-01-01", "file_tag": "TT99-2027",
                           "deadlines": {"units": {"day": 16}},
                           "forms": {"99/THU": str(FIXTURES / "thu99_fixture.yaml")}})
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("TCD_CONFIG", str(path))
    p = period("Q1", 2027)
    r = regimes.regime_for(p, settings.get().regimes)
    assert (r.id, r.form_codes, r.deadline(p)) == ("TT99_2027", ["99/THU"], D(2027, 3, 16))
    assert form_definition("99/THU", p, settings.get()).code == "99/THU"
    assert regimes.regime_for(period("Q4", 2026), settings.get().regimes).id == "TT06_2025"
    recs = placed(form_definition("99/THU", p, settings.get()), DATA, WINDOW)
    assert len(recs) > 0


# ------------------------------------------------------------------ every form renders

def _sheet_values(path: Path) -> list[list]:
    wb = openpyxl.load_workbook(path)
    try:
        return [[c.value for c in row] for ws in wb.worksheets for row in ws.iter_rows()]
    finally:
        wb.close()


def _expected_merges(form) -> list[tuple[str, int, int]]:
    """(group text, first, last sheet column) of every header group, from the tree."""
    out, col = [], [2]

    def walk(node):
        if node.is_leaf:
            col[0] += 1
            return col[0] - 1, col[0] - 1
        spans = [walk(ch) for ch in node.children]
        out.append((node.text, spans[0][0], spans[-1][1]))
        return spans[0][0], spans[-1][1]

    for n in form.header:
        walk(n)
    return out


@pytest.mark.parametrize("code,version,_from", configured())
def test_every_configured_form_computes_checks_and_renders(code, version, _from, tmp_path):
    form = definition(code, version)
    if form.source not in SOURCES:
        pytest.skip(f"{code} reads {form.source}, the units' input workbooks: tests/test_qlkntc.py")
    data = SOURCES[form.source]
    recs = placed(form, data, WINDOW)
    assert 0 < len(recs) < len(data)
    table = compute(form, recs, ROWS, period=WINDOW)
    assert check_identities(form, table) == []
    assert list(table.index) == [r.row_id for r in ROWS]
    # Columns of a second input (01/TCD 10, 16: the reception calendar) are not given
    # here: empty, never 0 (tests/test_forms_tt06.py and tests/test_reception_calendar.py
    # compute them).
    assert table[form.source_columns_ms].isna().all().all()
    counted = [ms for ms in form.number_columns if ms not in form.source_columns_ms]
    numbers = table.loc[["A", "B", "C", "CITY"], counted]
    assert (numbers.to_numpy() > 0).sum() >= len(counted), "the data exercise the form"
    # Lineage accounts for every cell.
    assert check_contributions(form, table, contributions(form, recs, ROWS, WINDOW)) == []
    # Rendered twice: identical files and identical cell values.
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    sha_a = write_xlsx(form, table, ROWS, WINDOW, UNIT_NAME, a, META)
    sha_b = write_xlsx(form, compute(form, recs.sample(frac=1, random_state=3), ROWS, period=WINDOW),
                       ROWS, WINDOW, UNIT_NAME, b, META)
    assert sha_a == sha_b and _sheet_values(a) == _sheet_values(b)
    # The values the writer hands to publishing are those a reader finds in the file.
    c = tmp_path / "c.xlsx"
    rendered = render_xlsx(form, table, ROWS, WINDOW, UNIT_NAME, c, META)
    assert rendered.sha256 == sha_a and rendered.values == publish.workbook_values(c)
    wb = openpyxl.load_workbook(a)
    ws = wb.worksheets[0]
    grid = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row}
    assert form.title in grid.values()
    merges = {(grid.get((m.min_row, m.min_col)), m.min_col, m.max_col) for m in ws.merged_cells.ranges}
    for group in _expected_merges(form):
        assert group in merges, f"{code} {version}: header group {group} not merged over its columns"
    ms_row = next(r for (r, c), v in grid.items() if c == 1 and v == form.ms_label)
    for i, col in enumerate(form.columns, start=2):
        assert str(grid[(ms_row, i)]) == (str(col.ms) if col.ms_text == str(col.ms) else col.ms_text)
    total_row = next(r for (r, c), v in grid.items() if c == 1 and v == "Tổng cộng" and r > ms_row)
    for i, col in enumerate(form.columns, start=2):
        cell = ws.cell(total_row, i)
        if col.kind == "number" and pd.isna(table.loc["total", col.ms]):
            assert cell.value is None                   # empty, never 0
        elif col.kind == "number":
            assert cell.number_format == col.number_format
            assert cell.value == pytest.approx(float(table.loc["total", col.ms]))
    wb.close()


def test_decimal_columns_keep_their_decimals(tmp_path):
    form = definition("01/KQGQ", "TT02_2021")
    recs = placed(form, DATA, WINDOW)
    table = compute(form, recs, ROWS, period=WINDOW)
    assert str(table[7].dtype) == "float64" and str(table[13].dtype) == "int64"
    resolved = recs[pd.to_datetime(recs["resolved_date"]).between(pd.Timestamp(WINDOW.start),
                                                                  pd.Timestamp(WINDOW.end))]
    by_row = resolved.groupby("row_id")["recover_money"].sum()
    for rid, value in by_row.items():
        assert table.loc[rid, 7] == pytest.approx(value, abs=1e-6)
    assert (table[7] % 1 != 0).any(), "money with decimals is not rounded to integers"
    out = tmp_path / "kqgq.xlsx"
    write_xlsx(form, table, ROWS, WINDOW, UNIT_NAME, out, META)
    contrib = contributions(form, recs, ROWS, WINDOW)
    csv = write_lineage(out, recs, contrib, form, rows=ROWS)
    src = cell_sources(csv, "A", 7, form=form)
    assert src.attrs["accounted"] == pytest.approx(float(table.loc["A", 7]), abs=1e-6)
    # The CLI finds the definition from the workbook and accounts for a decimal cell.
    assert lineage_main([str(out), "--row", "00004", "--col", "7"]) == 0
    assert lineage_main([str(out), "--row", "total", "--col", "5"]) == 0


# ------------------------------------------------------------------ hand-computed cells

S, E = D(2024, 3, 15), D(2024, 6, 14)
HAND_WINDOW = custom(S, E)


def pet(key, unit, kind, signers, received, *, processed=None, eligible=None, competent=None, handling=None,
        accepted=None, resolved=None, rnd="lan_dau", outcome=None, on_time=None, case=None, field=None,
        channel="buu_chinh", reply=None, **amounts):
    rec = {c: None for c in PETITION_COLUMNS}
    rec.update({"petition_key": key, "unit_code": unit.split(":")[1], "unit_key": unit, "received_date": received,
                "channel": channel, "petition_kind": kind, "signers": signers, "field": field, "case_key": case,
                "eligible": eligible, "competent": competent, "handling": handling, "reply_received": reply,
                "processed_date": processed, "accepted_date": accepted, "resolved_date": resolved,
                "resolution_round": rnd, "outcome": outcome, "on_time": on_time,
                "raw_id": int(key[1:]), "batch_id": "b1", "source_kind": "city_service", "source_name": "thử",
                "record_id": key})
    if resolved is not None:
        for c in MONEY + LAND:
            rec[c] = 0.0
        for c in COUNTS:
            rec[c] = 0
    rec.update(amounts)
    return rec


def ex(executed=None, **done) -> dict:
    """The execution fields of a decision that orders something: 0 unless given."""
    return {"executed_date": executed, **{f: (0.0 if f in EXECUTED_AMOUNTS else 0) for f in EXECUTED}, **done}


A, B, CITY = "2025:00004", "2025:00008", "province:01"
HAND = [
    # A: carried over (received before S, processed inside), competent, resolved in the window
    pet("p01", A, "KN", "mot", D(2024, 2, 1), processed=D(2024, 3, 20), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2024, 3, 20), resolved=D(2024, 5, 1), outcome="dung", on_time=True,
        case="K1", field="dat_dai", recover_money=12.5, recover_land=100.25,
        # carried out inside the window: counted as done
        **ex(D(2024, 6, 10), collected_money=12.5, collected_land=100.25)),
    # A: processed before S: not in the XLD forms; accepted before S and open: KQGQ carried over
    pet("p02", A, "KN", "nhieu", D(2024, 1, 10), processed=D(2024, 1, 15), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2024, 1, 15), rnd="lan_2", case="K2", field="che_do_chinh_sach"),
    # A: carried over and still not processed at the end
    pet("p03", A, "TC", "khac", D(2024, 3, 1)),
    # A: received inside, forwarded, reply received; p05 same case, processed after E
    pet("p04", A, "KNPA", "mot", D(2024, 4, 2), processed=D(2024, 4, 5), eligible=True, competent=False,
        handling="chuyen_don", reply=True, case="K3", field="khac", channel="tiep_cong_dan"),
    pet("p05", A, "KNPA", "mot", D(2024, 4, 10), processed=D(2024, 6, 20), eligible=True, competent=False,
        handling="huong_dan", case="K3", field="khac"),
    # A: not eligible
    pet("p06", A, "KN", "mot", D(2024, 5, 5), processed=D(2024, 5, 6), eligible=False, case="K4", field="dat_dai"),
    # A: tố cáo tiếp, accepted, in progress at the end
    pet("p07", A, "TC", "mot", D(2024, 5, 10), processed=D(2024, 5, 12), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2024, 5, 12), rnd="tiep", case="K5", field="tham_nhung",
        channel="tiep_cong_dan"),
    # A: received after E
    pet("p08", A, "KN", "mot", D(2024, 6, 20)),
    # B: received on S, resolved on E (lần 2); p10 same case, received later, withdrawn
    pet("p09", B, "KN", "mot", D(2024, 3, 15), processed=D(2024, 3, 16), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2024, 3, 18), resolved=D(2024, 6, 14), rnd="lan_2", outcome="cong_nhan",
        on_time=False, case="K6", field="dat_dai", channel="tiep_cong_dan", return_person_money=3.25,
        **ex()),                                             # not carried out yet
    pet("p10", B, "KN", "mot", D(2024, 4, 1), processed=D(2024, 4, 1), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2024, 4, 2), resolved=D(2024, 4, 30), outcome="rut_don", on_time=True,
        case="K6", field="dat_dai"),
    # B: received the day before S and processed on it: not carried over
    pet("p11", B, "TC", "khac", D(2024, 3, 14), processed=D(2024, 3, 14), eligible=False),
    # B: received the day before S, processed on S: carried over, urged, no reply yet
    pet("p12", B, "TC", "nhieu", D(2024, 3, 14), processed=D(2024, 3, 15), eligible=True, competent=False,
        handling="don_doc", reply=False, case="K7", field="cong_chuc"),
    # B: tố cáo tiếp resolved (sai) with sanctions and land
    pet("p13", B, "TC", "mot", D(2024, 4, 20), processed=D(2024, 4, 21), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2024, 4, 21), resolved=D(2024, 5, 30), rnd="tiep", outcome="sai",
        on_time=True, case="K8", field="tham_nhung", sanction_people=2, sanction_officials=1, recover_land=50.5,
        # carried out after E: to carry out in the window, done not counted (1 person so far)
        **ex(D(2024, 6, 30), sanctioned_people=1, sanctioned_officials=1)),
    # B: resolved before S: in no form of the window
    pet("p14", B, "TC", "mot", D(2024, 2, 20), processed=D(2024, 2, 25), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2024, 2, 25), resolved=D(2024, 3, 10), outcome="dung", on_time=True,
        case="K9", field="cong_chuc"),
    # the city: received at reception, not competent, no case, no field
    pet("p15", CITY, "KN", "mot", D(2024, 6, 1), processed=D(2024, 6, 1), eligible=True, competent=False,
        handling="huong_dan", channel="tiep_cong_dan"),
    # Decisions resolved before S, processed before S (in no XLD or 01/03 KQGQ form):
    # A: executed inside the window → carried over into 02/KQGQ and done
    pet("p16", A, "KN", "mot", D(2023, 11, 1), processed=D(2023, 11, 2), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2023, 11, 2), resolved=D(2024, 1, 10), outcome="dung", on_time=True,
        case="K10", field="dat_dai", return_org_money=40.0, sanction_people=3, sanction_officials=2,
        **ex(D(2024, 4, 20), returned_org_money=40.0, sanctioned_people=3, sanctioned_officials=2)),
    # A: executed before S → in no 02/KQGQ of the window
    pet("p17", A, "KN", "mot", D(2023, 10, 1), processed=D(2023, 10, 2), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2023, 10, 2), resolved=D(2023, 12, 1), outcome="dung", on_time=True,
        case="K11", field="dat_dai", recover_money=7.0, **ex(D(2024, 2, 1), collected_money=7.0)),
    # B: a conclusion partly carried out, not finished: to carry out, nothing counted as done
    pet("p18", B, "TC", "mot", D(2023, 12, 1), processed=D(2023, 12, 2), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2023, 12, 2), resolved=D(2024, 2, 10), outcome="dung", on_time=True,
        case="K12", field="tham_nhung", recover_money=100.0, prosecuted_cases=1, prosecuted_people=2,
        prosecuted_officials=1,
        **ex(collected_money=30.0, prosecuted_done_cases=1, prosecuted_done_people=1)),
    # A: a conclusion of 01/03/2024 carried out inside the window
    pet("p19", A, "TC", "mot", D(2024, 1, 5), processed=D(2024, 1, 6), eligible=True, competent=True,
        handling="thu_ly", accepted=D(2024, 1, 6), resolved=D(2024, 3, 1), outcome="dung_mot_phan",
        on_time=False, case="K13", field="tham_nhung", return_person_land=20.0, prosecuted_cases=1,
        prosecuted_people=1, prosecuted_officials=1,
        **ex(D(2024, 5, 15), returned_person_land=20.0, prosecuted_done_cases=1, prosecuted_done_people=1,
             prosecuted_done_officials=1)),
]
HAND_ROWS = [ReportRow("A", "Phường Ba Đình", "00004"), ReportRow("B", "Phường Ngọc Hà", "00008"),
             ReportRow("CITY", "UBND Thành phố Hà Nội (cấp thành phố)", "01", "own"),
             ReportRow("total", "Tổng cộng", "01", "total")]
HAND_ROW_OF = {A: "A", B: "B", CITY: "CITY"}

# (form, version) -> {row: {MS: value}}, worked out from the comments on HAND above.
HAND_EXPECTED = {
    ("01/XLD", "TT01_2024"): {
        "A": {1: 6, 2: 2, 3: 4, 4: 4, 5: 2, 6: 3, 7: 3, 8: 1, 9: 1, 10: 1, 11: 1, 12: 0, 13: 2,
              14: 2, 15: 1, 16: 1, 17: 0, 18: 1, 19: 0, 20: 1, 21: 0, 22: 1},
        "B": {1: 4, 2: 1, 3: 3, 4: 4, 5: 0, 6: 4, 7: 3, 8: 2, 9: 2, 10: 0, 11: 1, 12: 2, 13: 1,
              14: 3, 15: 2, 16: 1, 18: 1, 21: 1, 22: 0},
        "CITY": {1: 1, 3: 1, 4: 1, 6: 1, 7: 1, 8: 1, 13: 1, 18: 1, 19: 1},
        "total": {1: 11, 2: 3, 5: 2, 6: 8, 7: 7},
    },
    ("01/XLD", "TT02_2021"): {
        "A": {1: 6, 2: 0, 3: 1, 4: 1, 5: 0, 6: 4, 7: 0, 8: 4, 9: 3, 10: 3, 14: 1, 15: 0, 16: 1, 17: 1,
              24: 1, 26: 1},
        "B": {1: 4, 2: 1, 3: 0, 4: 0, 6: 3, 8: 4, 14: 1, 15: 2, 16: 0, 17: 1, 25: 1, 26: 0},
    },
    ("02/XLD", "TT02_2021"): {
        "A": {1: 2, 3: 1, 5: 1, 6: 2, 7: 1, 8: 1, 9: 1, 10: 1, 13: 1, 18: 1, 23: 1, 24: 1},
        # K6: represented by its latest petition p10 (lần đầu, withdrawn on 30/04)
        "B": {1: 2, 5: 2, 9: 2, 10: 1, 13: 1, 18: 1, 19: 0, 23: 1, 24: 1, 25: 0},
        "CITY": {10: 1, 17: 1, 22: 1, 26: 1, 27: 1},
    },
    ("02/XLD", "TT01_2024"): {
        "A": {1: 2, 2: 1, 3: 1, 4: 2, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 11: 1, 16: 1, 21: 1, 22: 1},
        "B": {1: 2, 2: 0, 3: 2, 7: 2, 8: 1, 16: 1, 17: 0, 21: 1, 22: 1},
        # the city's petition: no field (→ Khác), hướng dẫn, not resolved
        "CITY": {1: 1, 7: 1, 8: 1, 15: 1, 20: 1, 24: 1, 25: 1, 26: 0},
    },
    ("03/XLD", "TT02_2021"): {
        "A": {1: 2, 4: 1, 6: 1, 8: 1, 10: 1, 11: 1, 12: 1, 18: 1, 24: 1, 26: 1, 28: 1},
        "B": {1: 2, 2: 1, 6: 1, 8: 2, 9: 1, 10: 1, 11: 2, 12: 2, 13: 1, 16: 1, 18: 1, 22: 1, 25: 1,
              26: 1, 28: 1, 29: 1, 32: 1, 33: 0},
    },
    ("03/XLD", "TT01_2024"): {
        "A": {1: 2, 2: 1, 3: 1, 4: 1, 18: 1, 19: 0, 20: 0},
        "B": {1: 2, 2: 1, 3: 1, 4: 2, 5: 1, 6: 1, 8: 2, 18: 0, 19: 1, 20: 1, 24: 1, 25: 0, 26: 1},
    },
    ("04/XLD", "TT02_2021"): {"A": {1: 2, 6: 2, 8: 1, 10: 1, 11: 1, 12: 1, 16: 1, 19: 1, 21: 1, 22: 1, 24: 1}},
    ("04/XLD", "TT01_2024"): {"A": {1: 2, 2: 0, 3: 2, 4: 1, 5: 0, 6: 1, 7: 1, 8: 1, 14: 1, 16: 1, 17: 1}},
    ("02/TCD", "TT02_2021"): {
        "A": {1: 2, 2: 2, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1, 11: 1, 12: 1, 14: 1, 16: 1},
        "B": {1: 1, 2: 1, 3: 1, 4: 1, 9: 1, 10: 1},
        "CITY": {1: 1, 2: 1, 3: 1, 4: 1, 11: 1, 12: 1, 13: 1},
    },
    ("01/KQGQ", "TT02_2021"): {
        "A": {1: 2, 2: 1, 3: 1, 4: 2, 5: 1, 6: 0, 7: 12.5, 8: 100.25, 20: 1, 25: 1},
        # K6 represented by p10 (withdrawn, on time); the amounts add up both petitions
        "B": {1: 2, 2: 0, 3: 2, 4: 1, 5: 0, 6: 1, 11: 3.25, 23: 0, 25: 1, 26: 0},
        "total": {1: 4, 7: 12.5, 8: 100.25, 11: 3.25},
    },
    # p01, p16 executed in the window, p09 not yet; p17 executed before S
    ("02/KQGQ", "TT02_2021"): {
        "A": {1: 2, 2: 2, 3: 12.5, 4: 100.25, 5: 12.5, 6: 100.25, 7: 40.0, 9: 0, 11: 40.0, 15: 3, 16: 2, 17: 0},
        "B": {1: 1, 2: 0, 3: 0, 9: 3.25, 13: 0},
        "CITY": {1: 0, 2: 0},
        "total": {1: 3, 2: 2, 3: 12.5, 7: 40.0, 9: 3.25, 11: 40.0, 13: 0, 15: 3},
    },
    # p19 executed in the window; p13 after E and p18 unfinished: to carry out, not done
    ("04/KQGQ", "TT02_2021"): {
        "A": {1: 1, 2: 1, 10: 20.0, 14: 20.0, 17: 1, 18: 1, 19: 1},
        "B": {1: 2, 2: 0, 3: 100.0, 4: 50.5, 5: 0, 6: 0, 15: 0, 16: 0, 17: 0, 18: 0},
        "total": {1: 3, 2: 1, 3: 100.0, 4: 50.5, 5: 0, 10: 20.0, 14: 20.0, 17: 1},
    },
    ("03/KQGQ", "TT02_2021"): {
        "A": {1: 1, 3: 1, 4: 1, 5: 1, 6: 0},
        "B": {1: 1, 2: 0, 3: 1, 4: 1, 5: 1, 6: 1, 7: 0, 8: 1, 12: 50.5, 19: 2, 20: 1, 26: 1, 27: 1, 30: 1},
    },
}


def _hand_table(code, version):
    form = definition(code, version)
    sel = form.select(pd.DataFrame(HAND, columns=PETITION_COLUMNS), HAND_WINDOW)
    recs = sel.assign(row_id=sel["unit_key"].map(HAND_ROW_OF))
    return form, recs, compute(form, recs, HAND_ROWS, period=HAND_WINDOW)


@pytest.mark.parametrize("code,version", sorted(HAND_EXPECTED))
def test_hand_computed_cells(code, version):
    form, recs, table = _hand_table(code, version)
    assert check_identities(form, table) == []
    assert check_contributions(form, table, contributions(form, recs, HAND_ROWS, HAND_WINDOW)) == []
    for row, cells in HAND_EXPECTED[(code, version)].items():
        for ms, want in cells.items():
            assert table.loc[row, ms] == pytest.approx(want), (code, version, row, ms)


def test_hand_populations():
    keys = lambda code, version: sorted(_hand_table(code, version)[1]["petition_key"])
    assert keys("01/XLD", "TT01_2024") == ["p01", "p03", "p04", "p05", "p06", "p07", "p09", "p10", "p12",
                                           "p13", "p15"]
    assert keys("01/KQGQ", "TT02_2021") == ["p01", "p02", "p09", "p10"]
    assert keys("03/KQGQ", "TT02_2021") == ["p07", "p13"]
    assert keys("02/KQGQ", "TT02_2021") == ["p01", "p09", "p16"]
    assert keys("04/KQGQ", "TT02_2021") == ["p13", "p18", "p19"]
    assert keys("02/TCD", "TT02_2021") == ["p04", "p07", "p09", "p15"]


# ------------------------------------------------------------------ carried over

def _open_at_end(form, records, p, still_open) -> pd.Series:
    """Per row, how many of the form's records for `p` are still open at its end,
    counted here with pandas (independently of the form's columns)."""
    recs = placed(form, records, p)
    end = pd.Timestamp(p.end)
    return recs[still_open(recs, end)].groupby("row_id").size()


def _not_processed(recs, end):
    return ~(pd.to_datetime(recs["processed_date"]) <= end)


def _not_resolved(recs, end):
    return ~(pd.to_datetime(recs["resolved_date"]) <= end)


@pytest.mark.parametrize("seed", [11, 12])
def test_carried_over_equals_previous_period_open(seed):
    data = synthetic_petitions(seed, 700, D(2023, 9, 1), D(2024, 10, 31))
    q1, q2, q3 = period("Q1", 2024), period("Q2", 2024), period("Q3", 2024)
    # 01/XLD TT01/2024: col 2 of a quarter = col 5 of the quarter before.
    x = definition("01/XLD", "TT01_2024")
    for prev, nxt in ((q1, q2), (q2, q3)):
        assert nxt.start == prev.end + dt.timedelta(days=1)
        t_prev = compute(x, placed(x, data, prev), ROWS, period=prev)
        t_next = compute(x, placed(x, data, nxt), ROWS, period=nxt)
        assert t_next[2].sum() > 0
        assert list(t_next[2]) == list(t_prev[5])
        assert list(t_prev[5]) == list(_open_at_end(x, data, prev, _not_processed)
                                       .reindex(t_prev.index[:-1], fill_value=0)) + [t_prev[5].iloc[-1]]
    # 01/XLD TT02/2021: carried over (2 + 3 + 4) = the previous quarter's 1 − 8.
    x0 = definition("01/XLD", "TT02_2021")
    t_prev = compute(x0, placed(x0, data, q1), ROWS, period=q1)
    t_next = compute(x0, placed(x0, data, q2), ROWS, period=q2)
    assert list(t_next[2] + t_next[3] + t_next[4]) == list(t_prev[1] - t_prev[8])
    # 02..04/XLD: same, per kind (TT01/2024: col 2 = col 1 − col 4 before).
    for code in ("02/XLD", "03/XLD", "04/XLD"):
        f = definition(code, "TT01_2024")
        t_prev = compute(f, placed(f, data, q2), ROWS, period=q2)
        t_next = compute(f, placed(f, data, q3), ROWS, period=q3)
        assert t_next[2].sum() > 0 and list(t_next[2]) == list(t_prev[1] - t_prev[4]), code
    # 01/KQGQ and 03/KQGQ: col 2 = thụ lý and not resolved at the end of the quarter before.
    for code in ("01/KQGQ", "03/KQGQ"):
        k = definition(code, "TT02_2021")
        open_q1 = _open_at_end(k, data, q1, _not_resolved)
        t_q2 = compute(k, placed(k, data, q2), ROWS, period=q2)
        assert open_q1.sum() > 0
        assert list(t_q2[2].iloc[:-1]) == list(open_q1.reindex(t_q2.index[:-1], fill_value=0)), code


# ------------------------------------------------------------------ the generic machinery

@pytest.mark.parametrize("code", ["02/KQGQ", "04/KQGQ"])
def test_decisions_to_carry_out_are_the_previous_period_unfinished_plus_new(code):
    """Column 1 of a quarter: the previous quarter's decisions not finished by its end
    (its column-1 records outside column 2) plus the decisions of the quarter; column 2
    adds up over contiguous quarters to the decisions finished in the whole span."""
    data = synthetic_petitions(13, 900, D(2023, 9, 1), D(2024, 10, 31))
    form = definition(code, "TT02_2021")
    q1, q2 = period("Q1", 2024), period("Q2", 2024)
    prev, nxt = placed(form, data, q1), placed(form, data, q2)
    prev_end = pd.Timestamp(q1.end)
    unfinished = prev[~(pd.to_datetime(prev["executed_date"]) <= prev_end)]
    new = nxt[pd.to_datetime(nxt["resolved_date"]) > prev_end]
    assert len(unfinished) > 5 and len(new) > 5
    assert sorted(nxt["petition_key"]) == sorted(list(unfinished["petition_key"]) + list(new["petition_key"]))
    done = lambda p: compute(form, placed(form, data, p), ROWS, period=p).loc["total", 2]
    both = custom(q1.start, q2.end)
    whole = placed(form, data, both)
    assert done(q1) + done(q2) > 0
    # per petition (each case once per window): the finished ones of the span are those of Q1 and Q2
    finished = whole[pd.to_datetime(whole["executed_date"]).between(pd.Timestamp(both.start), pd.Timestamp(both.end))]
    in_q = lambda recs, p: recs[pd.to_datetime(recs["executed_date"]).between(
        pd.Timestamp(p.start), pd.Timestamp(p.end))]
    assert sorted(finished["petition_key"]) == sorted(list(in_q(prev, q1)["petition_key"])
                                                       + list(in_q(nxt, q2)["petition_key"]))


def test_window_relative_forms_need_the_period():
    form = definition("01/XLD", "TT01_2024")
    recs = placed(form, DATA, WINDOW)
    with pytest.raises(PeriodRequiredError, match="period"):
        compute(form, recs, ROWS)
    with pytest.raises(PeriodRequiredError):
        contributions(form, recs, ROWS)
    with pytest.raises(PeriodRequiredError):
        form.select(DATA, None)
    # 02/TCD has no window-relative column but a population (reception channel, window):
    # without the period compute could not tell a caller that only cut the window.
    t2 = definition("02/TCD", "TT02_2021")
    assert t2.window_columns == [] and t2.needs_period
    in_window = DATA[pd.to_datetime(DATA["received_date"]).between(pd.Timestamp(WINDOW.start),
                                                                   pd.Timestamp(WINDOW.end))]
    with pytest.raises(PeriodRequiredError, match="population"):
        compute(t2, in_window.assign(row_id=in_window["unit_key"].map(ROW_OF)), ROWS)
    with pytest.raises(ValueError, match="not in the population"):
        compute(t2, in_window.assign(row_id=in_window["unit_key"].map(ROW_OF)), ROWS, period=WINDOW)
    # 01/TCD (default population, no window-relative column) keeps working without it.
    tcd = definition("01/TCD", "TT02_2021")
    assert not tcd.needs_period
    r1 = placed(tcd, RECEPTIONS, WINDOW)
    pd.testing.assert_frame_equal(compute(tcd, r1, ROWS), compute(tcd, r1, ROWS, period=WINDOW))


def test_records_outside_the_population_are_refused():
    form = definition("01/XLD", "TT01_2024")
    everything = DATA.assign(row_id=DATA["unit_key"].map(ROW_OF))
    with pytest.raises(ValueError, match="not in the population"):
        compute(form, everything, ROWS, period=WINDOW)


def test_default_population_is_the_date_column_within_the_window():
    tcd = load_form(FORMS / "tcd01_tt02_2021.yaml")
    frame = pd.DataFrame({"received_date": [D(2024, 2, 29), D(2024, 3, 1), D(2024, 7, 31), D(2024, 8, 1), None]})
    assert list(tcd.select(frame, WINDOW).index) == [1, 2]
    assert list(tcd.select(frame, (D(2024, 2, 29), D(2024, 2, 29))).index) == [0]


def test_filter_language_is_validated():
    base = {"form": "X", "version": "v", "title": "T",
            "header": [{"ms": 1, "text": "a", "compute": {"measure": "count_records", "filter": "f"}}],
            "filters": {"f": {"received_date": {"before": "start"}}}}
    assert form_from_dict(base).needs_period
    bad = [
        {**base, "filters": {"f": {"received_date": {"sooner": "start"}}}},          # unknown condition
        {**base, "filters": {"f": {"received_date": {"before": "yesterday"}}}},      # not a bound
        {**base, "filters": {"f": {"received_date": {"within": "quarter"}}}},
        {**base, "filters": {"f": "g", "g": {"not": "f"}}},                           # cycle
        {**base, "filters": {"f": {"any_of": []}}},
        {**base, "filters": {"f": {"field": ["khac", None]}}},                        # null in a value list
        {**base, "population": "nope"},                                                # unknown name
        {**base, "header": [{"ms": 1, "text": "a", "compute": {"measure": "count_records", "where": "f"}}]},
        {**base, "header": [{"ms": 1, "text": "a", "number_format": "#,##0.0",
                             "compute": {"measure": "count_records"}}]},              # a count with decimals
        {**base, "header": [{"ms": 1, "text": "a", "number_format": "#,##0.0",
                             "compute": {"measure": "sum", "column": "x"}},
                            {"ms": 2, "text": "b", "number_format": "#,##0",
                             "compute": {"sum_of": [1]}}]},                          # rounds decimals away
        {**base, "header": [{"ms": 1, "text": "a", "compute": {"measure": "count_cases", "pick": "middle"}}]},
    ]
    for raw in bad:
        with pytest.raises(FormDefinitionError):
            form_from_dict(raw)


def test_null_semantics_of_conditions():
    f = form_from_dict({"form": "X", "version": "v", "title": "T", "header": [
        {"ms": 1, "text": "in", "compute": {"measure": "count_records", "filter": {"k": ["a"]}}},
        {"ms": 2, "text": "not_in", "compute": {"measure": "count_records", "filter": {"k": {"not_in": ["a"]}}}},
        {"ms": 3, "text": "null", "compute": {"measure": "count_records", "filter": {"k": {"is_null": True}}}},
        {"ms": 4, "text": "before", "compute": {"measure": "count_records",
                                                 "filter": {"d": {"before": "2024-03-10"}}}},
        {"ms": 5, "text": "not before", "compute": {"measure": "count_records",
                                                     "filter": {"not": {"d": {"before": "2024-03-10"}}}}},
        {"ms": 6, "text": "any", "compute": {"measure": "count_records",
                                              "filter": {"any_of": [{"k": ["a"]}, {"d": {"after": "end"}}]}}}],
        "population": {"d": {"within": ["2000-01-01", "2099-12-31"]}}})
    df = pd.DataFrame({"k": ["a", "b", None, None], "d": [D(2024, 3, 1), None, D(2024, 3, 20), D(2024, 9, 1)],
                       "row_id": "R"})
    rows = [ReportRow("R", "R", "1")]
    t = compute(f, df.iloc[[0, 2, 3]], rows, period=WINDOW)     # row 1 has no date: outside the population
    assert [t.loc["R", ms] for ms in range(1, 7)] == [1, 2, 2, 1, 2, 2]
    with pytest.raises(ValueError, match="not in the population"):
        compute(f, df, rows, period=WINDOW)
    with pytest.raises(ValueError, match="not dates"):
        compute(f, df.assign(d=["x", "2024-01-01", None, None]), rows, period=WINDOW)


def test_integer_columns_refuse_fractional_sums():
    f = form_from_dict({"form": "X", "version": "v", "title": "T", "header": [
        {"ms": 1, "text": "a", "compute": {"measure": "sum", "column": "x"}}]})
    df = pd.DataFrame({"x": [1.5, 2.0], "row_id": "R"})
    with pytest.raises(ValueError, match="decimal number_format"):
        compute(f, df, [ReportRow("R", "R", "1")])


def test_rows_not_reported_stay_empty_in_decimal_columns(tmp_path):
    form = definition("01/KQGQ", "TT02_2021")
    recs = placed(form, DATA, WINDOW)
    recs = recs[recs["row_id"] != "C"]
    status = {"C": RowStatus(reported=False, expected=1, missing=1)}
    table = compute(form, recs, ROWS, status, period=WINDOW)
    assert pd.isna(table.loc["C", 7]) and pd.isna(table.loc["C", 1]) and str(table[7].dtype) == "Float64"
    assert table.loc["total", 7] == pytest.approx(table.loc[["A", "B", "CITY"], 7].sum())
    assert check_identities(form, table, status) == []
    out = tmp_path / "kqgq.xlsx"
    write_xlsx(form, table, ROWS, WINDOW, UNIT_NAME, out, META, row_status=status)
    ws = openpyxl.load_workbook(out).worksheets[0]
    row = next(c.row for c in ws["A"] if c.value == "Xã Sóc Sơn")
    assert ws.cell(row, 2).value is None and ws.cell(row, 8).value is None


# ------------------------------------------------------------------ a form defined only as a fixture

def test_fixture_form_renders_through_the_generic_code(tmp_path):
    form = load_form(FIXTURES / "thu99_fixture.yaml")
    assert form.code == "99/THU" and not any(form.code in r.forms for r in regimes.all_regimes(settings.get().regimes))
    assert not any(p.name == "thu99_fixture.yaml" for p in FORMS.glob("*.yaml"))
    assert form.decimal_columns == [7, 8, 9] and form.column(9).number_format == "#,##0.00"
    recs = placed(form, DATA, WINDOW)
    expected = DATA[(pd.to_datetime(DATA["received_date"]) <= pd.Timestamp(WINDOW.end))
                    & ~(pd.to_datetime(DATA["resolved_date"]) < pd.Timestamp(WINDOW.start))]
    assert sorted(recs["petition_key"]) == sorted(expected["petition_key"])
    table = compute(form, recs, ROWS, period=WINDOW)
    assert check_identities(form, table) == []
    assert check_contributions(form, table, contributions(form, recs, ROWS, WINDOW)) == []
    assert table.loc["total", 2] > 0 and table.loc["total", 3] > 0
    assert table.loc["A", 9] == pytest.approx(table.loc["A", 7] + table.loc["A", 8])
    out = tmp_path / "thu.xlsx"
    write_xlsx(form, table, ROWS, WINDOW, UNIT_NAME, out, META)
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws.title == "99-THU"
    total = next(c.row for c in ws["A"] if c.value == "Tổng cộng")
    assert ws.cell(total, 8).number_format == "#,##0.00"
    assert ws.cell(total, 8).value == pytest.approx(float(table.loc["total", 7]))


def test_broken_fixture_identity_is_refused(tmp_path):
    form = load_form(FIXTURES / "hong98_broken.yaml")
    recs = placed(form, DATA, WINDOW)
    table = compute(form, recs, ROWS, period=WINDOW)
    violations = check_identities(form, table)
    assert violations and all("1 = 2" in v for v in violations)
    out = tmp_path / "hong.xlsx"
    with pytest.raises(IdentityError):
        write_xlsx(form, table, ROWS, WINDOW, UNIT_NAME, out, META)
    assert not out.exists()
