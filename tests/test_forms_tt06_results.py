"""The 2025 result forms (Thông tư 06/2025/TT-TTCP) 03/GQKN, 04/GQTC and 05/KQTH: loaded
straight from their definitions, computed on a few hand-built fact_petition records
whose every cell is recounted here by hand, checked (the identities of each form, and
the guide's comparisons with another form: 03/GQKN 1 = 02/XLD 6, 04/GQTC 1 = 02/XLD 12,
05/KQTH 1 >= 03/GQKN 7, 16 >= 04/GQTC 7), and written as xlsx in the circular's layout
(merged header exactly as the circular's header cells, MS row as printed, the columns no
source can fill yet left empty and explained under the table).
Pure pandas in, xlsx out: no Airflow, no database, no configuration."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from core.periods import custom
from reports.formdef import (
    ReportRow,
    check_contributions,
    check_identities,
    compute,
    contributions,
    load_form,
    unavailable_notes,
)
from reports.render import write_xlsx
from tests.test_forms_tt06 import assert_header_as_printed
from warehouse.schema import fact_petition

D = dt.date
ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "reports" / "forms"
SPEC_PATH = Path("/work/shared/domain/tt06-2025-forms.json")
SPEC = json.loads(SPEC_PATH.read_text(encoding="utf-8")) if SPEC_PATH.exists() else None
PETITION_COLUMNS = [c.name for c in fact_petition.columns]
UNIT_NAME = "UBND Thành phố Hà Nội"
META = {"run_id": "r-tt06-results", "generated_at": "2025-12-18T08:00:00"}

# Quý IV 2025, the first window the circular governs, and the quarter after it.
WINDOW = custom(D(2025, 9, 15), D(2025, 12, 14))
NEXT_WINDOW = custom(D(2025, 12, 15), D(2026, 3, 14))
A, B = "2025:00004", "2025:00008"
ROW_OF = {A: "A", B: "B"}
ROWS = [ReportRow("A", "Phường Ba Đình", "00004"),
        ReportRow("B", "Phường Ngọc Hà", "00008"),
        ReportRow("total", "Tổng cộng", "01", "total")]

FILES = {"03/GQKN": "gqkn03_tt06_2025.yaml", "04/GQTC": "gqtc04_tt06_2025.yaml",
         "05/KQTH": "kqth05_tt06_2025.yaml"}
LAST_MS = {"03/GQKN": 23, "04/GQTC": 25, "05/KQTH": 31}
# Columns that need a field older sources do not carry (`requires`): acceptance status
# (3–6) and organisations (04/GQTC 20, 05/KQTH 26). Empty on a row whose source lacks it.
PARTIAL = {"03/GQKN": [3, 4, 5, 6], "04/GQTC": [3, 4, 5, 6, 20], "05/KQTH": [26]}
# Columns that add the tổ chức and cá nhân fields (sum over `columns:`).
SUMMED_PAIRS = {"03/GQKN": [15, 16], "04/GQTC": [16, 17], "05/KQTH": [7, 8, 9, 10, 22, 23, 24, 25]}

# What a decision / conclusion carries (0 when nothing) and what its execution carries.
DECISION_FIELDS = {"recover_money": 0.0, "recover_land": 0.0, "return_org_money": 0.0, "return_org_land": 0.0,
                   "return_person_money": 0.0, "return_person_land": 0.0, "orgs_restored": 0,
                   "persons_restored": 0, "sanction_people": 0, "sanction_officials": 0, "prosecuted_cases": 0,
                   "prosecuted_people": 0, "prosecuted_officials": 0, "sanction_orgs": 0, "sanctioned_orgs": 0}
EXECUTION_FIELDS = {"collected_money": 0.0, "collected_land": 0.0, "returned_org_money": 0.0,
                    "returned_org_land": 0.0, "returned_person_money": 0.0, "returned_person_land": 0.0,
                    "sanctioned_people": 0, "sanctioned_officials": 0, "prosecuted_done_cases": 0,
                    "prosecuted_done_people": 0, "prosecuted_done_officials": 0}


RAW_IDS: dict[str, int] = {}


def tt06_spec(code: str) -> dict:
    if SPEC is None:
        pytest.skip(f"{SPEC_PATH} is not available")
    return next(f for f in SPEC["forms"] if f["code"] == code)


def pet(key, unit, kind, received, *, processed=None, eligible=None, competent=None, case=None, accepted=None,
        resolved=None, rnd=None, outcome=None, execution=None, not_accepted=None, **ordered):
    """One fact_petition record (docs/report-set.md §1). A decided petition (`outcome`)
    carries the decision's figures, 0 unless given in `ordered`; `execution` (a dict with
    executed_date and the done figures, 0 unless given) only for a decision that orders
    something and whose source carries the execution; else those fields stay NULL."""
    r = {c: None for c in PETITION_COLUMNS}
    r.update({"petition_key": key, "unit_code": unit.split(":")[1], "unit_key": unit, "received_date": received,
              "channel": "buu_chinh", "petition_kind": kind, "signers": "mot", "field": "khac", "case_key": case,
              "processed_date": processed, "eligible": eligible, "competent": competent,
              "accepted_date": accepted, "resolved_date": resolved, "resolution_round": rnd, "outcome": outcome,
              "not_accepted_date": not_accepted, "acceptance_recorded": True,
              "raw_id": RAW_IDS.setdefault(key, len(RAW_IDS) + 1), "batch_id": "b1", "source_kind": "city_service", "source_name": "thử", "record_id": key})
    if competent is True:
        r["handling"] = "thu_ly"
        r["resolution_status"] = ("da_giai_quyet" if resolved else "dang_giai_quyet" if accepted
                                  else "chua_giai_quyet")
    elif competent is False:
        r["handling"] = "huong_dan"
    if outcome is not None:
        r.update({**DECISION_FIELDS, "on_time": True, **ordered})
    else:
        assert not ordered, key
    if execution is not None:
        r.update({**EXECUTION_FIELDS, **execution})
    return r


KN, TC = "KN", "TC"
OK = {"eligible": True, "competent": True}      # eligible and competent: accepted for resolution
PETITIONS = pd.DataFrame([
    # ---- complaints (KN), unit A
    # k-a1: received and processed in the window; decision "đúng" on 20/11 ordering money and
    # land returned (tổ chức 30.0 + cá nhân 120.5; cá nhân 50.0 m²), 1 tổ chức and 2 cá nhân
    # restored, 2 people (1 official) for administrative handling; executed in full on 10/12.
    pet("k-a1", A, KN, D(2025, 9, 20), processed=D(2025, 9, 25), **OK, case="A:K1", accepted=D(2025, 9, 26),
        resolved=D(2025, 11, 20), rnd="lan_dau", outcome="dung", return_org_money=30.0,
        return_person_money=120.5, return_person_land=50.0, orgs_restored=1, persons_restored=2,
        sanction_people=2, sanction_officials=1,
        execution={"executed_date": D(2025, 12, 10), "returned_org_money": 30.0, "returned_person_money": 120.5,
                   "returned_person_land": 50.0, "sanctioned_people": 2, "sanctioned_officials": 1}),
    # k-a12: a second petition on case A:K1, carrying the same decision: in col 1, and the
    # decision's figures still count once (per case, not per petition).
    pet("k-a12", A, KN, D(2025, 10, 10), processed=D(2025, 10, 11), **OK, case="A:K1", accepted=D(2025, 9, 26),
        resolved=D(2025, 11, 20), rnd="lan_dau", outcome="dung", return_org_money=30.0,
        return_person_money=120.5, return_person_land=50.0, orgs_restored=1, persons_restored=2,
        sanction_people=2, sanction_officials=1,
        execution={"executed_date": D(2025, 12, 10), "returned_org_money": 30.0, "returned_person_money": 120.5,
                   "returned_person_land": 50.0, "sanctioned_people": 2, "sanctioned_officials": 1}),
    # k-a2, k-a3: two petitions on case A:K2, decided "sai" on 01/12 (one decision), ordering nothing.
    pet("k-a2", A, KN, D(2025, 10, 2), processed=D(2025, 10, 3), **OK, case="A:K2", accepted=D(2025, 10, 4),
        resolved=D(2025, 12, 1), rnd="lan_dau", outcome="sai"),
    pet("k-a3", A, KN, D(2025, 10, 20), processed=D(2025, 10, 22), **OK, case="A:K2", accepted=D(2025, 10, 4),
        resolved=D(2025, 12, 1), rnd="lan_dau", outcome="sai"),
    # k-a4: processed before the window (not in 03/GQKN col 1), second-round decision "hủy,
    # sửa" on 10/10 ordering 200.0 m² returned to an organisation and a transfer to the
    # investigation agency (1 vụ, 2 people, 1 official); executed in full on 05/12.
    pet("k-a4", A, KN, D(2025, 8, 10), processed=D(2025, 8, 15), **OK, case="A:K3", accepted=D(2025, 8, 16),
        resolved=D(2025, 10, 10), rnd="lan_2", outcome="huy_sua", return_org_land=200.0, prosecuted_cases=1,
        prosecuted_people=2, prosecuted_officials=1,
        execution={"executed_date": D(2025, 12, 5), "returned_org_land": 200.0, "prosecuted_done_cases": 1,
                   "prosecuted_done_people": 2, "prosecuted_done_officials": 1}),
    # k-a5: received before the window, processed in it (carried over), no case key, in progress.
    pet("k-a5", A, KN, D(2025, 9, 1), processed=D(2025, 9, 20), **OK, accepted=D(2025, 9, 21)),
    # k-a10: not accepted (không thụ lý) on 20/11: col 5. k-a11: processed on 02/12, its
    # acceptance still under review at the window end: col 3.
    pet("k-a10", A, KN, D(2025, 11, 15), processed=D(2025, 11, 16), **OK, case="A:K5", not_accepted=D(2025, 11, 20)),
    pet("k-a11", A, KN, D(2025, 12, 1), processed=D(2025, 12, 2), **OK, case="A:K6"),
    # k-a6 not competent, k-a7 not eligible, k-a8 not processed: in no column.
    pet("k-a6", A, KN, D(2025, 11, 1), processed=D(2025, 11, 5), eligible=True, competent=False),
    pet("k-a7", A, KN, D(2025, 11, 10), processed=D(2025, 11, 12), eligible=False),
    pet("k-a8", A, KN, D(2025, 12, 10)),
    # k-a9: withdrawn (rút đơn) on 30/11: in col 1 and 2, not a decision.
    pet("k-a9", A, KN, D(2025, 10, 5), processed=D(2025, 10, 6), **OK, case="A:K4", accepted=D(2025, 10, 7),
        resolved=D(2025, 11, 30), rnd="lan_dau", outcome="rut_don"),
    # k-a20: decision of 10/06/2025 (before the window) ordering 12.5 Trđ and 40.0 m²
    # recovered and 70.0 Trđ returned to a person; executed on 15/10 (in the window).
    pet("k-a20", A, KN, D(2025, 3, 1), processed=D(2025, 3, 2), **OK, case="A:K9", accepted=D(2025, 3, 3),
        resolved=D(2025, 6, 10), rnd="lan_dau", outcome="dung", recover_money=12.5, recover_land=40.0,
        return_person_money=70.0, persons_restored=1,
        execution={"executed_date": D(2025, 10, 15), "collected_money": 12.5, "collected_land": 40.0,
                   "returned_person_money": 70.0}),
    # k-a21: decision of 05/05/2025 executed on 01/08/2025, before the window: not in 05/KQTH.
    pet("k-a21", A, KN, D(2025, 2, 1), processed=D(2025, 2, 2), **OK, case="A:K8", accepted=D(2025, 2, 3),
        resolved=D(2025, 5, 5), rnd="lan_dau", outcome="dung_mot_phan", sanction_people=1, sanction_officials=1,
        execution={"executed_date": D(2025, 8, 1), "sanctioned_people": 1, "sanctioned_officials": 1}),
    # ---- complaints (KN), unit B
    # k-b1: decision "đúng một phần" on 15/09 (the window's first day) ordering 45.5 Trđ and
    # 300.0 m² recovered, 10.0 Trđ returned to a person; executed on 10/01/2026 (after it).
    pet("k-b1", B, KN, D(2025, 6, 1), processed=D(2025, 6, 5), **OK, case="B:K1", accepted=D(2025, 6, 6),
        resolved=D(2025, 9, 15), rnd="lan_dau", outcome="dung_mot_phan", recover_money=45.5,
        recover_land=300.0, return_person_money=10.0, persons_restored=1,
        execution={"executed_date": D(2026, 1, 10), "collected_money": 45.5, "collected_land": 300.0,
                   "returned_person_money": 10.0}),
    # k-b2: received and processed on 14/12 (the window's last day), in progress.
    pet("k-b2", B, KN, D(2025, 12, 14), processed=D(2025, 12, 14), **OK, case="B:K2", accepted=D(2025, 12, 14)),
    # k-b3: second-round decision "công nhận" on 14/12 (last day), ordering nothing.
    pet("k-b3", B, KN, D(2025, 11, 1), processed=D(2025, 11, 2), **OK, case="B:K3", accepted=D(2025, 11, 3),
        resolved=D(2025, 12, 14), rnd="lan_2", outcome="cong_nhan"),
    # k-b4: decision of 14/09 (the day before the window), ordering nothing: in no form.
    pet("k-b4", B, KN, D(2025, 5, 1), processed=D(2025, 5, 2), **OK, case="B:K4", accepted=D(2025, 5, 3),
        resolved=D(2025, 9, 14), rnd="lan_dau", outcome="dung"),
    # k-b5: decision of 15/12 (the day after the window): col 1 of 03/GQKN only.
    pet("k-b5", B, KN, D(2025, 10, 1), processed=D(2025, 10, 2), **OK, case="B:K5", accepted=D(2025, 10, 3),
        resolved=D(2025, 12, 15), rnd="lan_dau", outcome="sai"),
    # k-b6: carried over unprocessed; case with a court judgment (ban_an) decided "đúng".
    pet("k-b6", B, KN, D(2025, 9, 10), processed=D(2025, 9, 30), **OK, case="B:K6", accepted=D(2025, 10, 1),
        resolved=D(2025, 11, 11), rnd="ban_an", outcome="dung"),
    # k-b20: decision of 03/03/2025 ordering 500.0 Trđ and 120.0 m² returned to an
    # organisation; 200.0 Trđ paid so far, not finished: open at the window's start and end.
    pet("k-b20", B, KN, D(2024, 12, 20), processed=D(2024, 12, 22), **OK, case="B:K9", accepted=D(2024, 12, 23),
        resolved=D(2025, 3, 3), rnd="lan_2", outcome="huy_sua", return_org_money=500.0, return_org_land=120.0,
        orgs_restored=1, execution={"executed_date": None, "returned_org_money": 200.0}),
    # k-b21: decision ordering 25.0 Trđ returned, from a source without execution data: not
    # followed by 05/KQTH.
    pet("k-b21", B, KN, D(2025, 1, 5), processed=D(2025, 1, 6), **OK, case="B:K8", accepted=D(2025, 1, 7),
        resolved=D(2025, 4, 4), rnd="lan_dau", outcome="dung", return_person_money=25.0, persons_restored=1),
    # ---- denunciations (TC), unit A
    # t-a10: conclusion "đúng" (first denunciation) on 15/11 ordering 500.0 Trđ and 1000.0 m²
    # recovered, 3 people (2 officials) and 1 organisation handled, 1 vụ / 2 people / 2
    # officials transferred; carried out in full on 12/12.
    pet("t-a10", A, TC, D(2025, 10, 1), processed=D(2025, 10, 3), **OK, case="A:T1", accepted=D(2025, 10, 4),
        resolved=D(2025, 11, 15), rnd="lan_dau", outcome="dung", recover_money=500.0, recover_land=1000.0,
        sanction_people=3, sanction_officials=2, prosecuted_cases=1, prosecuted_people=2, prosecuted_officials=2,
        sanction_orgs=1,
        execution={"executed_date": D(2025, 12, 12), "collected_money": 500.0, "collected_land": 1000.0,
                   "sanctioned_people": 3, "sanctioned_officials": 2, "sanctioned_orgs": 1, "prosecuted_done_cases": 1,
                   "prosecuted_done_people": 2, "prosecuted_done_officials": 2}),
    # t-a11, t-a14: two petitions on case A:T2, a re-denunciation (tố cáo tiếp) concluded "sai"
    # on 01/12, ordering nothing.
    pet("t-a11", A, TC, D(2025, 10, 5), processed=D(2025, 10, 6), **OK, case="A:T2", accepted=D(2025, 10, 7),
        resolved=D(2025, 12, 1), rnd="tiep", outcome="sai"),
    pet("t-a14", A, TC, D(2025, 11, 20), processed=D(2025, 11, 21), **OK, case="A:T2", accepted=D(2025, 10, 7),
        resolved=D(2025, 12, 1), rnd="tiep", outcome="sai"),
    # t-a12: processed before the window; re-denunciation concluded "có đúng có sai" on 20/10,
    # ordering 15.0 Trđ returned to a person and 80.0 m² to an organisation (1 + 1 restored);
    # 15.0 Trđ paid, not finished.
    pet("t-a12", A, TC, D(2025, 7, 1), processed=D(2025, 7, 2), **OK, case="A:T3", accepted=D(2025, 7, 3),
        resolved=D(2025, 10, 20), rnd="tiep", outcome="dung_mot_phan", return_person_money=15.0,
        return_org_land=80.0, persons_restored=1, orgs_restored=1,
        execution={"executed_date": None, "returned_person_money": 15.0}),
    # t-a13: suspended not by withdrawal (đình chỉ): in col 1 and 2, not a conclusion.
    pet("t-a13", A, TC, D(2025, 10, 10), processed=D(2025, 10, 11), **OK, case="A:T4", accepted=D(2025, 10, 12),
        resolved=D(2025, 11, 1), rnd="lan_dau", outcome="dinh_chi"),
    # t-a15: not eligible.
    pet("t-a15", A, TC, D(2025, 10, 1), processed=D(2025, 10, 2), eligible=False),
    # t-a16: no round recorded (NULL = lần đầu), concluded "sai" on 05/12.
    pet("t-a16", A, TC, D(2025, 11, 1), processed=D(2025, 11, 2), **OK, case="A:T5", accepted=D(2025, 11, 3),
        resolved=D(2025, 12, 5), outcome="sai"),
    # t-a22: conclusion of 01/04/2025 ordering 80.0 Trđ recovered and 1 person handled;
    # carried out on 30/11 (in the window).
    pet("t-a22", A, TC, D(2025, 1, 10), processed=D(2025, 1, 11), **OK, case="A:T9", accepted=D(2025, 1, 12),
        resolved=D(2025, 4, 1), rnd="lan_dau", outcome="dung", recover_money=80.0, sanction_people=1,
        execution={"executed_date": D(2025, 11, 30), "collected_money": 80.0, "sanctioned_people": 1}),
    # ---- denunciations (TC), unit B
    # t-b10: no case key; first denunciation concluded "có đúng có sai" on 30/10, ordering
    # 60.0 + 40.0 Trđ and 25.5 m² returned (1 tổ chức, 2 cá nhân restored), 1 person (no
    # official) handled; carried out on 25/11.
    pet("t-b10", B, TC, D(2025, 9, 16), processed=D(2025, 9, 18), **OK, accepted=D(2025, 9, 19),
        resolved=D(2025, 10, 30), rnd="lan_dau", outcome="dung_mot_phan", return_org_money=60.0,
        return_person_money=40.0, return_person_land=25.5, orgs_restored=1, persons_restored=2,
        sanction_people=1,
        execution={"executed_date": D(2025, 11, 25), "returned_org_money": 60.0, "returned_person_money": 40.0,
                   "returned_person_land": 25.5, "sanctioned_people": 1}),
    # t-b11: re-denunciation concluded "đúng" on 11/11, 2 people (2 officials) to handle;
    # 1 handled so far, not finished.
    pet("t-b11", B, TC, D(2025, 10, 1), processed=D(2025, 10, 2), **OK, case="B:T2", accepted=D(2025, 10, 3),
        resolved=D(2025, 11, 11), rnd="tiep", outcome="dung", sanction_people=2, sanction_officials=2,
        execution={"executed_date": None, "sanctioned_people": 1, "sanctioned_officials": 1}),
    # t-b12: withdrawn in full (rút toàn bộ nội dung).
    pet("t-b12", B, TC, D(2025, 10, 15), processed=D(2025, 10, 16), **OK, case="B:T3", accepted=D(2025, 10, 17),
        resolved=D(2025, 11, 20), rnd="lan_dau", outcome="rut_don"),
    # t-b13: not processed yet.
    pet("t-b13", B, TC, D(2025, 12, 1)),
    # t-b23: conclusion "sai" of 02/02/2025 ordering nothing: done when issued, not carried.
    pet("t-b23", B, TC, D(2024, 11, 1), processed=D(2024, 11, 2), **OK, case="B:T9", accepted=D(2024, 11, 3),
        resolved=D(2025, 2, 2), rnd="lan_dau", outcome="sai"),
    # ---- a competent kiến nghị, phản ánh: in none of the three forms.
    pet("p-a30", A, "KNPA", D(2025, 10, 1), processed=D(2025, 10, 2), **OK, case="A:P1", accepted=D(2025, 10, 3)),
], columns=PETITION_COLUMNS)

_ = None   # an empty cell, never 0
EXPECTED = {
    "03/GQKN": {
        #          1  2  3  4  5  6  7  8  9 10 11 12  13    14     15     16   17 18 19 20 21 22 23
        "A":     [8, 6, 1, 3, 1, 1, 3, 1, 1, 0, 0, 1, 0.0, 0.0, 150.5, 250.0, 1, 2, 2, 1, 1, 2, 1],
        "B":     [4, 4, 0, 4, 0, 0, 3, 1, 0, 1, 1, 0, 45.5, 300.0, 10.0, 0.0, 0, 1, 0, 0, 0, 0, 0],
        "total": [12, 10, 1, 7, 1, 1, 6, 2, 1, 1, 1, 1, 45.5, 300.0, 160.5, 250.0, 1, 3, 2, 1, 1, 2, 1],
    },
    "04/GQTC": {
        #          1  2  3  4  5  6  7  8  9 10 11 12 13   14      15     16     17  18 19 20 21 22 23 24 25
        # A:T4 is suspended not by withdrawal (đình chỉ): đã thụ lý (col 4), the YAML's reading.
        "A":     [5, 4, 0, 4, 0, 0, 4, 1, 1, 0, 0, 1, 1, 500.0, 1000.0, 15.0, 80.0, 1, 1, 1, 3, 2, 1, 2, 2],
        "B":     [3, 3, 0, 2, 0, 1, 2, 0, 0, 1, 1, 0, 0, 0.0, 0.0, 100.0, 25.5, 1, 2, 0, 3, 2, 0, 0, 0],
        "total": [8, 7, 0, 6, 0, 1, 6, 1, 1, 1, 1, 1, 1, 500.0, 1000.0, 115.0, 105.5, 2, 3, 1, 6, 4, 1, 2, 2],
    },
    "05/KQTH": {
        #          1  2    3      4     5     6      7      8      9     10   11 12 13 14 15
        "A":     [4, 4, 12.5, 40.0, 12.5, 40.0, 220.5, 250.0, 220.5, 250.0, 2, 1, 1, 2, 1,
                  # 16 17   18      19      20      21     22    23    24   25  26 27 28 29 30 31
                  5, 4, 580.0, 1000.0, 580.0, 1000.0, 15.0, 80.0, 0.0, 0.0, 1, 4, 2, 1, 2, 2],
        "B":     [4, 2, 45.5, 300.0, 0.0, 0.0, 510.0, 120.0, 0.0, 0.0, 0, 0, 0, 0, 0,
                  2, 1, 0.0, 0.0, 0.0, 0.0, 100.0, 25.5, 100.0, 25.5, 0, 1, 0, 0, 0, 0],
        "total": [8, 6, 58.0, 340.0, 12.5, 40.0, 730.5, 370.0, 220.5, 250.0, 2, 1, 1, 2, 1,
                  7, 5, 580.0, 1000.0, 580.0, 1000.0, 115.0, 105.5, 100.0, 25.5, 1, 5, 2, 1, 2, 2],
    },
}
# The records each form reads for the window (its population).
POPULATION = {
    "03/GQKN": ["k-a1", "k-a10", "k-a11", "k-a12", "k-a2", "k-a3", "k-a4", "k-a5", "k-a9", "k-b1", "k-b2", "k-b3", "k-b5",
                "k-b6"],
    "04/GQTC": ["t-a10", "t-a11", "t-a12", "t-a13", "t-a14", "t-a16", "t-b10", "t-b11", "t-b12"],
    "05/KQTH": ["k-a1", "k-a12", "k-a2", "k-a20", "k-a3", "k-a4", "k-b1", "k-b20", "k-b3", "k-b6",
                "t-a10", "t-a11", "t-a12", "t-a14", "t-a16", "t-a22", "t-b10", "t-b11"],
}


def definition(code: str):
    return load_form(FORMS / FILES[code])


def expected(form, code: str, row: str) -> list:
    """EXPECTED[code][row] as a list in MS order."""
    return list(EXPECTED[code][row])


def placed(form, records: pd.DataFrame, window=WINDOW) -> pd.DataFrame:
    sel = form.select(records, window)
    return sel.assign(row_id=sel["unit_key"].map(ROW_OF))


def computed(code: str, window=WINDOW):
    form = definition(code)
    recs = placed(form, PETITIONS, window)
    return form, recs, compute(form, recs, ROWS, period=window)


# ------------------------------------------------------------------ definitions

@pytest.mark.parametrize("code", sorted(FILES))
def test_definition_follows_the_circular(code):
    form = definition(code)
    spec = tt06_spec(code)
    assert (form.code, form.version, form.circular) == (code, "TT06_2025", "Thông tư 06/2025/TT-TTCP")
    assert [form.code_label, form.title, form.annex_line] == [spec["heading_lines"][0], spec["heading_lines"][1],
                                                               spec["heading_lines"][3]]
    assert form.ms_numbers == list(range(1, LAST_MS[code] + 1))
    assert not form.text_columns and not form.has_note_column
    assert form.header_depth == spec["header_rows"]
    assert len(spec["columns"]) == LAST_MS[code] + 1
    for col, printed in zip(form.columns, spec["columns"][1:]):
        assert [*col.path, col.text] == printed["header_path"], col.ms
        assert col.ms_text == printed["ms_label"], col.ms
    notes = [" ".join(n.replace("\u00a0", " ").split()) for n in spec["notes_verbatim"]]
    assert form.note_line == notes[0] == f"{LAST_MS[code] + 1}. Ghi chú:"
    assert [" ".join(g.split()) for g in form.guide] == notes[1:]
    # Every check printed on the form itself is declared (as printed, even where it
    # involves a column without data); the comparisons with another form are tested below.
    declared = {(chk.sides[i], op, chk.sides[i + 1]) for chk in form.checks for i, op in enumerate(chk.ops)}
    for c in spec["checks"]:
        if c.get("rhs_form") is None:
            assert ((c["lhs"],), c["op"], tuple(c["rhs"])) in declared, c["source"]
    assert len(form.semantics) > 2000 and "cách đọc" in form.semantics.lower()
    # Money and land: decimals; everything else an integer count.
    money_land = [c.ms for c in form.columns if c.text in ("Tiền (Trđ)", "Đất (m2)")]
    assert form.decimal_columns == money_land
    assert set(SUMMED_PAIRS[code]) <= set(money_land)
    for ms in SUMMED_PAIRS[code]:
        assert len(form.column(ms).compute["columns"]) == 2, ms


@pytest.mark.parametrize("code", sorted(FILES))
def test_columns_that_need_newer_source_fields(code):
    """Every column is computed; those that need a field older sources lack say so
    (`requires`, with the reason printed when a row is left empty), and every printed
    check — 2 = 3 + 4 + 5 + 6 included — is verified."""
    form = definition(code)
    assert form.unavailable_columns == []
    assert form.partial_columns == PARTIAL[code]
    assert all(form.column(ms).reason and form.column(ms).requires for ms in PARTIAL[code])
    assert form.unchecked_checks == [] and len(form.verified_checks) == len(form.checks)


# ------------------------------------------------------------------ hand-computed cells

def test_hand_populations():
    for code, keys in POPULATION.items():
        assert sorted(computed(code)[1]["petition_key"]) == sorted(keys), code


@pytest.mark.parametrize("code", sorted(FILES))
def test_hand_computed_cells(code):
    form, recs, table = computed(code)
    assert list(table.index) == ["A", "B", "total"]
    for row, values in EXPECTED[code].items():
        assert len(values) == LAST_MS[code], (code, row)
        for ms, want in zip(form.ms_numbers, expected(form, code, row)):
            got = table.loc[row, ms]
            if want is None:
                assert got is None, (code, row, ms, got)
            else:
                assert got == want, (code, row, ms, got)
    assert check_identities(form, table) == []
    # Lineage accounts for every number cell.
    assert check_contributions(form, table, contributions(form, recs, ROWS, WINDOW)) == []


def test_checks_catch_broken_tables():
    form, _, table = computed("03/GQKN")
    broken = table.copy()
    broken.loc["A", 12] = 0                 # 7 = 8 + … + 12 no longer holds
    assert any("7 = 8 + 9 + 10 + 11 + 12" in v for v in check_identities(form, broken))
    moved = table.copy()
    moved.loc["A", 3] = 0                   # a matter lost from the acceptance split
    assert any("2 = 3 + 4 + 5 + 6" in v for v in check_identities(form, moved))
    kqth, _, t = computed("05/KQTH")
    over = t.copy()
    over.loc["A", 5] = 13.0                 # collected more than ordered (3 = 12.5)
    assert any("5 <= 3" in v and "không được vượt" in v for v in check_identities(kqth, over))


def test_comparisons_with_other_forms():
    """The guides compare with another form: 03/GQKN 1 = 02/XLD 6 and 04/GQTC 1 = 02/XLD
    12 (both = TT 01/2024 01/XLD 15 and 16); 05/KQTH 1 >= 03/GQKN 7, 16 >= 04/GQTC 7."""
    gqkn, gqtc, kqth = (computed(code)[2] for code in ("03/GQKN", "04/GQTC", "05/KQTH"))
    rows = ["A", "B", "total"]
    xld_2024 = load_form(FORMS / "xld01_tt01_2024.yaml")
    x = compute(xld_2024, placed(xld_2024, PETITIONS), ROWS, period=WINDOW)
    assert list(gqkn.loc[rows, 1]) == list(x.loc[rows, 15]) == [8, 4, 12]
    assert list(gqtc.loc[rows, 1]) == list(x.loc[rows, 16]) == [5, 3, 8]
    xld_2025 = FORMS / "xld02_tt06_2025.yaml"
    if xld_2025.exists():
        x6 = load_form(xld_2025)
        y = compute(x6, placed(x6, PETITIONS), ROWS, period=WINDOW)
        assert list(gqkn.loc[rows, 1]) == list(y.loc[rows, 6])
        assert list(gqtc.loc[rows, 1]) == list(y.loc[rows, 12])
    assert (kqth.loc[rows, 1] >= gqkn.loc[rows, 7]).all() and list(kqth.loc[rows, 1]) == [4, 4, 8]
    assert (kqth.loc[rows, 16] >= gqtc.loc[rows, 7]).all() and list(kqth.loc[rows, 16]) == [5, 2, 7]


def test_unfinished_decisions_are_carried_into_the_next_window():
    """05/KQTH col 1 (16) of a window = the previous window's col 1 − col 2 (16 − 17) +
    what is issued in it: B carries k-b1 (done on 10/01/2026) and k-b20, and k-b5 ("sai",
    ordering nothing) is issued on 15/12; A carries the conclusion t-a12, B t-b11."""
    _, recs, table = computed("05/KQTH", NEXT_WINDOW)
    assert sorted(recs["petition_key"]) == ["k-b1", "k-b20", "k-b5", "t-a12", "t-b11"]
    _, _, before = computed("05/KQTH")
    assert list(table.loc[["A", "B"], 1]) == [0, 3] and list(table.loc[["A", "B"], 2]) == [0, 2]
    assert list(table.loc[["A", "B"], 16]) == [1, 1] and list(table.loc[["A", "B"], 17]) == [0, 0]
    for rid, issued in (("A", 0), ("B", 1)):
        assert table.loc[rid, 1] == before.loc[rid, 1] - before.loc[rid, 2] + issued
        assert table.loc[rid, 16] == before.loc[rid, 16] - before.loc[rid, 17]
    # What k-b1 collected and returned counts in the window it was finished in.
    form = definition("05/KQTH")
    assert (table.loc["B", 5], table.loc["B", 6]) == (45.5, 300.0)
    assert table.loc["B", 9] == 10.0
    assert check_identities(form, table) == []


# ------------------------------------------------------------------ the workbook

@pytest.mark.parametrize("code", sorted(FILES))
def test_workbook_layout(code, tmp_path):
    form, _, table = computed(code)
    spec = tt06_spec(code)
    out = tmp_path / f"{code.replace('/', '-')}.xlsx"
    write_xlsx(form, table, ROWS, WINDOW, UNIT_NAME, out, META)
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    grid = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
    assert spec["heading_lines"][0] in grid.values() and spec["heading_lines"][3] in grid.values()

    h0 = next(r for (r, c), v in grid.items() if c == 1 and v == "Đơn vị")
    ms_row = assert_header_as_printed(ws, spec, h0)

    # Rows as computed; the unavailable cells empty; no column after the last MS.
    last_col = 1 + LAST_MS[code]
    for i, rid in enumerate(["A", "B", "total"]):
        assert ws.cell(ms_row + 1 + i, 1).value == ROWS[i].label
        got = [ws.cell(ms_row + 1 + i, ms + 1).value for ms in form.ms_numbers]
        assert got == expected(form, code, rid), rid
    assert all(ws.cell(r, last_col + 1).value is None for r in range(1, ws.max_row + 1))

    # Under the table: the note line, why the empty columns are empty, then the guide.
    below = [ws.cell(r, 1).value for r in range(ms_row + 4, ws.max_row + 1) if ws.cell(r, 1).value is not None]
    assert below == [form.note_line, *unavailable_notes(form), *form.guide]
    assert below[-1] == f"- Nội dung ghi chú viết vào dòng {LAST_MS[code] + 1} (nếu có)"
    wb.close()


# ------------------------------------------------------------------ a source without the TT 06/2025 fields

def test_rows_whose_source_lacks_a_field_are_empty_and_say_why(tmp_path):
    """Unit B's records come from a source that does not record (không) thụ lý or
    organisations (older register template): its cells 3–6 (and 04/GQTC 20, 05/KQTH 26)
    are empty with the reason on the Ghi chú line, never a count of what happens to be
    there; A's stay computed; the totals of those columns are empty (not A's alone); the
    other columns and every check on the rows that can be checked hold; no record is
    listed behind an empty cell."""
    older = PETITIONS.astype({"acceptance_recorded": object, "sanction_orgs": object, "sanctioned_orgs": object})
    b = older["unit_key"] == B
    older.loc[b, ["acceptance_recorded", "not_accepted_date", "sanction_orgs", "sanctioned_orgs"]] = None
    for code in FILES:
        form = definition(code)
        recs = placed(form, older)
        table = compute(form, recs, ROWS, period=WINDOW)
        for ms in form.ms_numbers:
            a_want, b_want, t_want = (EXPECTED[code][r][ms - 1] for r in ("A", "B", "total"))
            assert table.loc["A", ms] == a_want, (code, ms)
            if ms in PARTIAL[code] and (code != "05/KQTH" or b_want is not None):
                assert pd.isna(table.loc["B", ms]) and pd.isna(table.loc["total", ms]), (code, ms)
            else:
                assert table.loc["B", ms] == b_want and table.loc["total", ms] == t_want, (code, ms)
        assert check_identities(form, table) == [], code
        assert check_contributions(form, table, contributions(form, recs, ROWS, WINDOW)) == [], code
        note_b = table.loc["B", "note"]
        assert note_b.startswith("Cột (") and all(f"({m})" in note_b for m in PARTIAL[code]), note_b
        assert "để trống: Nguồn dữ liệu của đơn vị" in note_b, note_b
        assert "không cộng được" in table.loc["total", "note"] and not table.loc["A", "note"]
        out = tmp_path / f"{code.replace('/', '-')}.xlsx"
        write_xlsx(form, table, ROWS, WINDOW, UNIT_NAME, out, META)
        ws = openpyxl.load_workbook(out).worksheets[0]
        b_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Phường Ngọc Hà")
        assert all(ws.cell(b_row, ms + 1).value is None for ms in PARTIAL[code])
        assert ws.cell(b_row, 2).value == EXPECTED[code]["B"][0]
        lines = [str(ws.cell(r, 1).value) for r in range(b_row, ws.max_row + 1) if ws.cell(r, 1).value]
        assert any(line.startswith("Phường Ngọc Hà: Cột") and "để trống" in line for line in lines), lines
    # The check that cannot fire on B still fires on A.
    form = definition("03/GQKN")
    table = compute(form, placed(form, older), ROWS, period=WINDOW)
    table.loc["A", 4] = 0
    assert any("Phường Ba Đình" in v and "2 = 3 + 4 + 5 + 6" in v for v in check_identities(form, table))
    # A total filled in although a row is empty is refused.
    table = compute(form, placed(form, older), ROWS, period=WINDOW)
    table.loc["total", 3] = 1
    assert any("có dòng để trống" in v for v in check_identities(form, table))
