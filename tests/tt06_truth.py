"""Independent expected figures of the TT 06/2025 forms 02/XLD, 03/GQKN, 04/GQTC, 05/KQTH
and 06/QLKNTC for the city's consolidated report of a window, counted in plain Python
from the generator's ground truth (gt_petition; the 06/QLKNTC truth rows) — never
through reports/formdef/ or reports/levels/.

Column meanings: /work/shared/domain/forms-2025.md §3.2–§3.6 and the readings written in
the forms' YAML `semantics` (reports/forms/*_tt06_2025.yaml) where the circular leaves a
point open. Each form is a table {MS: how to compute it}; a column the sources cannot
fill is ``UNAVAILABLE`` (its cells must be empty); a column that needs a field some
sources lack (the forms' ``requires``) is ``requires(field, pred, f)``: None on a row with
a record of its set that lacks the field, else ``f``.

Rows (the city's consolidated report, reports/levels/ package docstring, re-derived
here from the unit table and the crosswalk): a record counts under the unit that
recorded it when that unit is in force in the window (the city on its own row, a 2025
commune on its row, a legacy commune under its district while districts exist);
a record carried over from a unit no longer in force goes to the default successor of
a legacy commune, and a legacy district's to the row "Cấp huyện (đến 30/06/2025)".
Distinct counts (cases) are per recording unit: the forms are additive.
"""
from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable

from core import settings


def city_row() -> str:
    """The configured province's own row: "UBND Thành phố Hà Nội (cấp thành phố)",
    "UBND Tỉnh Cao Bằng (cấp tỉnh)"."""
    name = settings.get().province.name
    return f"UBND {name} (cấp {'thành phố' if name.startswith('Thành phố') else 'tỉnh'})"


TOTAL_ROW = "Tổng cộng"
UNAVAILABLE = object()          # a column printed but not computable from the sources yet

KN_DECISIONS = ("dung", "sai", "dung_mot_phan", "cong_nhan", "huy_sua")     # quyết định giải quyết khiếu nại
TC_CONCLUSIONS = ("dung", "sai", "dung_mot_phan")                           # kết luận nội dung tố cáo
ORDERED = ("recover_money", "recover_land", "return_org_money", "return_org_land", "return_person_money",
           "return_person_land", "sanction_people", "sanction_officials", "prosecuted_cases", "prosecuted_people",
           "prosecuted_officials")
# How the amounts and people of decisions / conclusions are added up (03/GQKN 13–23,
# 04/GQTC 14–25, 05/KQTH 3–15 and 18–31): once per decision (per case: every petition of
# a case carries the case's one decision, docs/simulated-sources.md), the reading of
# forms-2025.md §3.3 col 13 ("natural reading: those in 7", and 7 counts decisions), as
# the forms do (`per_case: true`); "petition" = once per petition that carries it (the
# 2021 forms' way), kept to show the two differ on the data.
PER_PETITION, PER_DECISION = "petition", "decision"


def _day(v) -> dt.date | None:
    return dt.date.fromisoformat(v) if v else None


@functools.lru_cache(maxsize=4)
def petitions(ground_truth: Path) -> list[dict]:
    """gt_petition, dates parsed (read once per file: do not modify the rows)."""
    con = sqlite3.connect(ground_truth)
    con.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in con.execute("select * from gt_petition")]
    finally:
        con.close()
    for r in rows:
        for c in ("received_date", "processed_date", "resolved_date", "executed_date", "accepted_date",
                  "not_accepted_date"):
            r[c] = _day(r[c])
    return rows


# ------------------------------------------------------------------ rows
class CityRows:
    """Row labels of the city's consolidated report of [start, end]."""

    def __init__(self, start: dt.date, end: dt.date):
        from warehouse.units import crosswalk_frame, unit_frame

        units = unit_frame(settings.get())
        self.start, self.end = start, end
        self.by_key = {r.unit_key: r for r in units.itertuples()}
        self.province = settings.get().province.code
        self.default = {r.old_unit_key: r.new_unit_key for r in crosswalk_frame(self.province).itertuples()
                        if r.is_default}
        ends = [self._d(r.valid_to) for r in units.itertuples() if r.level == "huyen"]
        self.districts_row = f"Cấp huyện (đến {max(ends):%d/%m/%Y})"

    @staticmethod
    def _d(v) -> dt.date | None:
        if v is None or str(v) in ("NaT", "None", "nan"):
            return None
        return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])

    def in_force(self, key: str) -> bool:
        u = self.by_key[key]
        vt = self._d(u.valid_to)
        return self._d(u.valid_from) <= self.end and (vt is None or vt >= self.start)

    def label(self, key: str) -> str:
        u = self.by_key[key]
        if not self.in_force(key):               # carried over from a unit no longer in force
            if key in self.default:
                return self.label(self.default[key])
            assert u.level == "huyen", f"no row for records of {key}"
            return self.districts_row
        if u.level == "tinh":
            return city_row()
        if u.scheme == "legacy" and u.level == "xa":
            return self.by_key[u.parent_key].name
        return u.name

    def qlkntc_units(self) -> dict[str, str]:
        """{label: unit key} of the rows of 06/QLKNTC: the city and the 2025 communes in
        force at the window's end (a unit's workbook is the one in force then)."""
        out = {city_row(): f"province:{self.province}"}
        for k, u in self.by_key.items():
            vt = self._d(u.valid_to)
            if u.level == "xa" and u.scheme == "2025" and self._d(u.valid_from) <= self.end and \
                    (vt is None or vt >= self.end):
                out[u.name] = k
        return out


# ------------------------------------------------------------------ measures
Pred = Callable[[dict], bool]


def count(pred: Pred):
    return lambda rs: sum(1 for r in rs if pred(r))


def cases(pred: Pred):
    """Distinct cases per recording unit (a decision or conclusion is one per case)."""
    return lambda rs: len({(r["unit_key"], r["case_key"]) for r in rs if pred(r)})


def requires(field: str, pred: Pred, f):
    """``f``, or None on a row with a record passing `pred` whose source lacks `field`
    (NULL: a register book older than the TT 06/2025 template)."""
    return lambda rs: None if any(pred(r) and r[field] is None for r in rs) else f(rs)


def acceptance(pred: Pred, end: dt.date, withdrawn: tuple[str, ...]):
    """{status: measure}: the matters of `pred` by acceptance status at `end` (03/GQKN,
    04/GQTC 3–6, forms-2025.md §3.3): withdrawn in full and suspended, else not accepted,
    else accepted, else under review; each (unit, case) once."""
    def status(r) -> str:
        if r["outcome"] in withdrawn and r["resolved_date"] is not None and r["resolved_date"] <= end:
            return "rut"
        if r["not_accepted_date"] is not None and r["not_accepted_date"] <= end:
            return "khong"
        if r["accepted_date"] is not None and r["accepted_date"] <= end:
            return "da"
        return "dang"

    def of(s: str):
        return requires("acceptance_recorded", pred, cases(lambda r: pred(r) and status(r) == s))
    return {3: of("dang"), 4: of("da"), 5: of("khong"), 6: of("rut")}


def total(columns: Iterable[str], pred: Pred, per: str = PER_DECISION):
    """The sum of `columns` (NULL = 0) over the records passing `pred`; per decision:
    each decision (unit, case) once."""
    columns = tuple(columns)
    assert per in (PER_PETITION, PER_DECISION), per

    def f(rs):
        chosen = [r for r in rs if pred(r)]
        if per == PER_DECISION:
            chosen = list({(r["unit_key"], r["case_key"]): r for r in chosen}.values())
        return round(sum((r[c] or 0) for r in chosen for c in columns), 6)
    return f


def table(records: list[dict], rows: CityRows, population: Pred, columns: dict) -> dict[str, dict]:
    """{row label: {MS: value}} over the population, UNAVAILABLE columns as None."""
    by_row = defaultdict(list)
    for r in records:
        if population(r):
            by_row[rows.label(r["unit_key"])].append(r)
    return {label: {ms: None if f is UNAVAILABLE else f(rs) for ms, f in columns.items()}
            for label, rs in by_row.items()}


# ------------------------------------------------------------------ 02/XLD
def xld02(records: list[dict], rows: CityRows, per: str = PER_DECISION) -> dict[str, dict]:
    s, e = rows.start, rows.end
    # Petitions of the window: received in it, or received before it and not processed
    # before its start (forms-2025.md §3.2 col 1: "tiếp nhận trong kỳ và đơn chưa xử lý
    # từ kỳ trước chuyển sang").
    population = lambda r: (s <= r["received_date"] <= e) or (
        r["received_date"] < s and not (r["processed_date"] and r["processed_date"] < s))
    processed = lambda r: r["processed_date"] is not None and r["processed_date"] <= e
    eligible = lambda r: processed(r) and r["eligible"] == 1
    competent = lambda r: eligible(r) and r["competent"] == 1
    of = lambda kind: lambda r: competent(r) and r["kind"] == kind
    kn, tc, knpa = of("KN"), of("TC"), of("KNPA")
    field = lambda pred, *fs: lambda r: pred(r) and r["field"] in fs
    other = lambda pred, *fs: lambda r: pred(r) and r["field"] not in fs
    not_competent = lambda r: eligible(r) and r["competent"] != 1
    columns = {
        1: count(lambda r: True), 2: count(processed), 3: count(eligible), 4: count(competent),
        5: cases(competent),
        6: count(kn),
        7: count(lambda r: kn(r) and r["resolution_round"] not in ("lan_2", "ban_an")),
        8: count(lambda r: kn(r) and r["resolution_round"] in ("lan_2", "ban_an")),
        9: count(field(kn, "dat_dai")), 10: count(field(kn, "che_do_chinh_sach")),
        11: count(other(kn, "dat_dai", "che_do_chinh_sach")),
        12: count(tc),
        13: count(lambda r: tc(r) and r["resolution_round"] != "tiep"),
        14: count(lambda r: tc(r) and r["resolution_round"] == "tiep"),
        15: count(field(tc, "che_do_chinh_sach", "dat_dai", "cong_chuc")),     # hành chính (guide)
        16: count(field(tc, "tham_nhung")), 17: count(field(tc, "tu_phap")),
        18: count(other(tc, "che_do_chinh_sach", "dat_dai", "cong_chuc", "tham_nhung", "tu_phap")),
        19: count(knpa),
        20: count(field(knpa, "che_do_chinh_sach")), 21: count(field(knpa, "dat_dai")),
        22: count(other(knpa, "che_do_chinh_sach", "dat_dai")),
        23: count(not_competent),
        24: count(lambda r: not_competent(r) and r["handling"] == "huong_dan"),
        25: count(lambda r: not_competent(r) and r["handling"] in ("chuyen_don", "don_doc")),
    }
    return table(records, rows, population, columns)


# ------------------------------------------------------------------ 03/GQKN and 04/GQTC
def _resolution(records: list[dict], rows: CityRows, kind: str, outcomes: tuple[str, ...]):
    """Population and the shared predicates of 03/GQKN (KN) and 04/GQTC (TC): column 1
    is 02/XLD column 6 / 12 (competent eligible petitions of the window), column 7 the
    decisions / conclusions issued (resolved_date) in the window."""
    s, e = rows.start, rows.end
    in_xld = lambda r: (s <= r["received_date"] <= e) or (
        r["received_date"] < s and not (r["processed_date"] and r["processed_date"] < s))
    petition = lambda r: (r["kind"] == kind and in_xld(r) and r["processed_date"] is not None
                          and r["processed_date"] <= e and r["eligible"] == 1 and r["competent"] == 1)
    decided = lambda r: (r["kind"] == kind and r["competent"] == 1 and r["outcome"] in outcomes
                         and r["resolved_date"] is not None and s <= r["resolved_date"] <= e)
    return (lambda r: petition(r) or decided(r)), petition, decided


def gqkn03(records: list[dict], rows: CityRows, per: str = PER_DECISION) -> dict[str, dict]:
    amount = lambda cols, pred: total(cols, pred, per)
    population, petition, decision = _resolution(records, rows, "KN", KN_DECISIONS)
    outcome = lambda o: lambda r: decision(r) and r["outcome"] == o
    columns = {
        1: count(petition), 2: cases(petition),
        **acceptance(petition, rows.end, ("rut_don", "dinh_chi")),
        7: cases(decision),
        8: cases(outcome("dung")), 9: cases(outcome("sai")), 10: cases(outcome("dung_mot_phan")),
        11: cases(outcome("cong_nhan")), 12: cases(outcome("huy_sua")),
        13: amount(["recover_money"], decision), 14: amount(["recover_land"], decision),
        15: amount(["return_org_money", "return_person_money"], decision),
        16: amount(["return_org_land", "return_person_land"], decision),
        17: amount(["orgs_restored"], decision), 18: amount(["persons_restored"], decision),
        19: amount(["sanction_people"], decision), 20: amount(["sanction_officials"], decision),
        21: amount(["prosecuted_cases"], decision), 22: amount(["prosecuted_people"], decision),
        23: amount(["prosecuted_officials"], decision),
    }
    return table(records, rows, population, columns)


def gqtc04(records: list[dict], rows: CityRows, per: str = PER_DECISION) -> dict[str, dict]:
    amount = lambda cols, pred: total(cols, pred, per)
    population, petition, conclusion = _resolution(records, rows, "TC", TC_CONCLUSIONS)
    first = lambda o: lambda r: conclusion(r) and r["resolution_round"] != "tiep" and r["outcome"] == o
    again = lambda o: lambda r: conclusion(r) and r["resolution_round"] == "tiep" and r["outcome"] == o
    columns = {
        1: count(petition), 2: cases(petition),
        # a suspension not by withdrawal (đình chỉ) was accepted: column 4 (the YAML's reading)
        **acceptance(petition, rows.end, ("rut_don",)),
        7: cases(conclusion),
        8: cases(first("dung")), 9: cases(first("sai")), 10: cases(first("dung_mot_phan")),
        11: cases(again("dung")), 12: cases(again("sai")), 13: cases(again("dung_mot_phan")),
        14: amount(["recover_money"], conclusion), 15: amount(["recover_land"], conclusion),
        16: amount(["return_org_money", "return_person_money"], conclusion),
        17: amount(["return_org_land", "return_person_land"], conclusion),
        18: amount(["orgs_restored"], conclusion), 19: amount(["persons_restored"], conclusion),
        20: requires("sanction_orgs", conclusion, amount(["sanction_orgs"], conclusion)),
        21: amount(["sanction_people"], conclusion), 22: amount(["sanction_officials"], conclusion),
        23: amount(["prosecuted_cases"], conclusion), 24: amount(["prosecuted_people"], conclusion),
        25: amount(["prosecuted_officials"], conclusion),
    }
    return table(records, rows, population, columns)


# ------------------------------------------------------------------ 05/KQTH
def kqth05(records: list[dict], rows: CityRows, per: str = PER_DECISION) -> dict[str, dict]:
    """Decisions (KN) and conclusions (TC) to carry out in the window: issued by its end
    and not carried out before its start (forms-2025.md §3.5 col 1, 16: carried over +
    issued in the window); done in the window (2, 17). One that orders nothing is
    carried out on its issue day; one that orders something on executed_date, and only
    when its source carries the execution (collected_money not NULL)."""
    amount = lambda cols, pred: total(cols, pred, per)
    s, e = rows.start, rows.end

    def done_on(r) -> dt.date | None | bool:
        if not any(r[c] for c in ORDERED):
            return r["resolved_date"]
        return r["executed_date"] if r["collected_money"] is not None else False     # False: not followed

    def to_do(kind: str, outcomes: tuple[str, ...]) -> Pred:
        def p(r):
            if not (r["kind"] == kind and r["competent"] == 1 and r["outcome"] in outcomes
                    and r["resolved_date"] is not None and r["resolved_date"] <= e):
                return False
            d = done_on(r)
            return d is not False and (d is None or d >= s)
        return p

    def done(pred: Pred) -> Pred:
        return lambda r: pred(r) and done_on(r) is not None and s <= done_on(r) <= e

    dec, con = to_do("KN", KN_DECISIONS), to_do("TC", TC_CONCLUSIONS)
    dec_done, con_done = done(dec), done(con)

    def block(base: Pred, finished: Pred, organisations) -> list:
        return [
            cases(base), cases(finished),
            amount(["recover_money"], base), amount(["recover_land"], base),                  # phải thu
            amount(["collected_money"], finished), amount(["collected_land"], finished),      # đã thu
            amount(["return_org_money", "return_person_money"], base),                       # phải trả
            amount(["return_org_land", "return_person_land"], base),
            amount(["returned_org_money", "returned_person_money"], finished),               # đã trả
            amount(["returned_org_land", "returned_person_land"], finished),
            *([organisations] if organisations is not None else []),
            amount(["sanctioned_people"], finished), amount(["sanctioned_officials"], finished),
            amount(["prosecuted_done_cases"], finished), amount(["prosecuted_done_people"], finished),
            amount(["prosecuted_done_officials"], finished),
        ]

    organisations = requires("sanctioned_orgs", con_done, amount(["sanctioned_orgs"], con_done))     # 26
    fs = block(dec, dec_done, None) + block(con, con_done, organisations)
    columns = dict(enumerate(fs, start=1))
    assert len(columns) == 31
    return table(records, rows, lambda r: dec(r) or con(r), columns)


# ------------------------------------------------------------------ 06/QLKNTC
def qlkntc06(truth: list[tuple], rows: CityRows, value_names: tuple[str, ...]) -> dict[str, dict]:
    """The published workbook figures of exactly the window (truth rows of
    simulators.qlkntc: unit_code, unit_key, period_key, window_start, window_end,
    17 values, file name)."""
    out: dict[str, dict] = {}
    for t in truth:
        if (t[3], t[4]) != (rows.start.isoformat(), rows.end.isoformat()):
            continue
        label = rows.label(t[1])
        values = t[5:5 + len(value_names)]
        cells = out.setdefault(label, {ms: 0 for ms in range(1, 18)})
        for ms, v in enumerate(values, start=1):
            cells[ms] += v
    return out


FORMS = {"02/XLD": xld02, "03/GQKN": gqkn03, "04/GQTC": gqtc04, "05/KQTH": kqth05}
