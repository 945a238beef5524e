"""End to end through Airflow itself: the DAGs run with `airflow dags test` on a small
generated data set, then every cell of the city's 01/TCD workbooks, and of its TT 06/2025
forms 02/XLD–06/QLKNTC for Quý IV 2025, is checked against an independent count from the
generator's ground truth; a second run changes nothing; and no personal data from the
sources appears in any output file."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from core import settings
from tests.pii_scan import find_pii, load_pii
from tests.tt06_truth import city_row

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e   # the DAGs with `airflow dags test`, the city service over HTTP

REPORTS = {
    "2025-Q3": {"period": "2025-Q3"},                                   # spans the reform
    "2025-Q4": {"period": "2025-Q4"},                                   # the first on TT 06/2025
    "custom": {"date_from": "2021-07-01", "date_to": "2025-02-28"},
}
# The window's regime decides the layout of 01/TCD (core.regimes): 29 number columns
# under TT 02/2021, 21 under TT 06/2025 (10 and 16: the announced days of the published
# reception calendars, gt_calendar).
TT06 = {"2025-Q4"}
# The city's report of each window is what the ground truth is compared with: 01/TCD for
# every window, and the five other TT 06/2025 forms for Quý IV 2025; the other levels and
# e-mail delivery are covered by test_report_set.py and test_delivery.py.
TT06_FORMS = ("02/XLD", "03/GQKN", "04/GQTC", "05/KQTH", "06/QLKNTC")
FORMS = {key: ["01/TCD", *(TT06_FORMS if key in TT06 else ())] for key in REPORTS}
CITY_ONLY = {"levels": ["tinh"], "deliver": False}
DAGS = ["ingest_commune_registers", "ingest_district_databases", "ingest_city_service", "ingest_qlkntc_workbooks",
        "consolidate_warehouse"] + [f"report_periodic={json.dumps({**c, **CITY_ONLY, 'forms': FORMS[k]})}"
                                    for k, c in REPORTS.items()] + \
    ['report_summary={"date_from": "2021-07-01", "date_to": "2025-02-28", "deliver": false}']
# Reports each run writes (and identity-checks): per window and form the city's
# consolidated and own report; the summary run adds the city's 01/TCD as recorded and
# remapped.
REPORTS_PER_RUN = 2 * sum(len(f) for f in FORMS.values()) + 2
# The small set ends on 31/10/2025, before any 06/QLKNTC workbook is due (the first
# window with the form, Quý IV 2025, ends on 14/12/2025). The module has the units of the
# set deliver their Quý IV and Năm 2025 workbooks as the generator would with a later
# end (simulators.qlkntc.write, up to QLKNTC_DELIVERED_BY, after the latest delivery day
# of a Quý IV workbook) into a copy of the inbox; the generator's truth of those
# workbooks is the expected 06/QLKNTC.
QLKNTC_DELIVERED_BY = dt.date(2026, 1, 15)


def run_dags(env, home):
    proc = subprocess.run([sys.executable, "-m", "pipeline.run_dags", *DAGS], env=env, cwd=home,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def qlkntc_inbox(small_sources, tmp_path_factory):
    """The small set's commune inbox (hard links) with the units' 06/QLKNTC workbooks;
    returns (inbox, the generator's truth rows of those workbooks)."""
    from simulators import qlkntc
    from simulators.core import select_units
    from tests.conftest import SMALL_COMMUNES, SMALL_DISTRICTS, SMALL_SEED

    home = tmp_path_factory.mktemp("qlkntc")
    shutil.copytree(small_sources / "commune_inbox", home / "commune_inbox", copy_function=os.link)
    sel = select_units(SMALL_DISTRICTS, SMALL_COMMUNES)
    chosen = {u.key for u in sel.communes}
    units = [u for u in qlkntc.reporting_units() if u.level == "tinh" or u.key in chosen]
    w = qlkntc.write(home, SMALL_SEED, units, dt.date(2021, 7, 1), QLKNTC_DELIVERED_BY)
    assert w.files > 0
    return home / "commune_inbox", w.truth


@pytest.fixture(scope="module")
def pipeline_run(small_sources, city_server, qlkntc_inbox, tmp_path_factory):
    home = tmp_path_factory.mktemp("e2e")
    url, token = city_server
    host, port = url.removeprefix("http://").split(":")
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "TCD_HOME": str(home), "TCD_TASK_RETRIES": "0",
        "TCD_WAREHOUSE_URL": f"sqlite:///{home / 'output' / 'warehouse' / 'warehouse.sqlite'}",
        "TCD_COMMUNE_INBOX": str(qlkntc_inbox[0]),
        "TCD_DISTRICT_DB_DIR": str(small_sources / "district_db"),
        "AIRFLOW_CONN_TCD_CITY_API": json.dumps({"conn_type": "http", "host": host, "port": int(port),
                                                 "schema": "http", "password": token}),
        "PYTHONPATH": str(ROOT), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    })
    (home / "output" / "warehouse").mkdir(parents=True)
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    run_dags(env, home)
    return home, env


def read_report(path: Path) -> dict[str, dict[int, object]]:
    """{row label: {MS column number: value, "text": the row's text cells}} from a
    01/TCD workbook."""
    ws = openpyxl.load_workbook(path).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    ms_idx = next(i for i, r in enumerate(rows) if r[0] == "MS")
    cols = {j: int(str(v).split("=")[0]) for j, v in enumerate(rows[ms_idx]) if j and v is not None}
    out = {}
    body = iter(rows[ms_idx + 1:])
    for r in body:
        if r[0]:
            out[r[0]] = {ms: r[j] for j, ms in cols.items()}
            out[r[0]]["text"] = " ".join(str(v) for v in r if isinstance(v, str))
            if r[0] == "Tổng cộng":
                break
    # TT 06/2025 has no Ghi chú column: a row's note is a line "<label>: <note>" under
    # the table (the numbered Ghi chú line).
    for r in body:
        label, _, note = str(r[0] or "").partition(": ")
        if label in out and note:
            out[label]["text"] += " " + note
    return out


def reporting_rows(sources: Path, start: dt.date, end: dt.date) -> set[str]:
    """Labels of the report rows behind which some unit delivered data for the window,
    derived from what the source folders hold (not from the pipeline): a district
    database, a register book of a year overlapping the window (minus deliveries the
    generator made defective on purpose), the city service."""
    import csv
    import re

    from warehouse.units import unit_frame

    units = unit_frame(settings.get())
    units["valid_from"] = units["valid_from"].map(lambda d: d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)))
    units["valid_to"] = units["valid_to"].map(
        lambda d: None if d is None or str(d) in ("NaT", "None", "nan") else
        (d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10])))
    by_key = units.set_index("unit_key")
    defective = set()
    if (sources / "defects.csv").exists():
        with open(sources / "defects.csv", encoding="utf-8") as fh:
            defective = {r.get("file") or r.get("file_name") or "" for r in csv.DictReader(fh)
                         if r.get("expected_outcome") == "batch_rejected"}
    delivered: set[str] = set()          # unit keys that delivered something for the window

    def slug(u) -> str:
        from core.normalise import fold

        name = u.name[len(u.unit_type):] if u.name.startswith(u.unit_type) else u.name
        return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")

    def in_force(u, a: dt.date, b: dt.date) -> bool:
        return u.valid_from <= b and (u.valid_to is None or u.valid_to >= a)

    for book in (sources / "commune_inbox").rglob("*.xlsx"):
        m = re.fullmatch(r"(\d{5})_[a-z0-9-]+_(\d{4})", book.stem)
        if not m or book.name in defective:
            continue
        year = int(m.group(2))
        a, b = max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
        if a > b:
            continue
        same_code = [u for u in units[(units["unit_code"] == m.group(1)) & (units["level"] == "xa")].itertuples()
                     if in_force(u, dt.date(year, 1, 1), dt.date(year, 12, 31))]
        # The reform reused codes: when two units share one in the book's year, the
        # file name's slug says whose book it is (a continuing book names both).
        named = [u for u in same_code if slug(u) == book.stem.split("_", 1)[1].rsplit("_", 1)[0]]
        for u in (named if len(same_code) > 1 and named else same_code):
            if in_force(u, a, b):
                delivered.add(u.unit_key)
    for db in (sources / "district_db").glob("*.sqlite"):
        for u in units[(units["unit_code"] == db.stem) & (units["level"] == "huyen")].itertuples():
            if in_force(u, start, end):
                delivered.add(u.unit_key)
    delivered.add(f"province:{settings.get().province.code}")

    def row_label(key):
        u = by_key.loc[key]
        if u["level"] == "tinh":
            return city_row()
        if u["scheme"] == "legacy" and u["level"] == "xa":
            return by_key.loc[u["parent_key"], "name"]
        return u["name"]

    return {row_label(k) for k in delivered}


def expected_table(ground_truth: Path, start: dt.date, end: dt.date, tt06: bool = False) -> dict[str, dict[int, int]]:
    """An independent count of Biểu 01/TCD from the generator's ground truth."""
    from warehouse.units import unit_frame

    units = unit_frame(settings.get()).set_index("unit_key")
    con = sqlite3.connect(ground_truth)
    con.row_factory = sqlite3.Row
    recs = [r for r in con.execute("select * from gt_reception")
            if start <= dt.date.fromisoformat(r["received_date"]) <= end]

    def row_label(r):
        u = units.loc[r["unit_key"]]
        if u["level"] == "tinh":
            return city_row()
        if u["scheme"] == "legacy" and u["level"] == "xa":
            return units.loc[u["parent_key"], "name"]
        return u["name"]

    by_row = defaultdict(list)
    for r in recs:
        by_row[row_label(r)].append(r)

    def cases(rs):
        first = {}
        for r in sorted(rs, key=lambda r: r["received_date"]):
            first.setdefault(r["case_key"], r["visit"])
        return sum(v == "lan_dau" for v in first.values()), sum(v != "lan_dau" for v in first.values())

    if tt06:
        # 01/TCD of TT 06/2025: per channel lượt, người, vụ việc (distinct cases), đoàn,
        # người of the đoàn; 4 = all đoàn; 10 and 16 (announced days): expected_days.
        table = {}
        for label, rs in by_row.items():
            v = {1: len(rs), 2: sum(r["people"] for r in rs)}
            blocks = {5: [r for r in rs if r["mode"] == "thuong_xuyen"],
                      11: [r for r in rs if r["mode"] != "thuong_xuyen" and r["receiver"] == "thu_truong"],
                      17: [r for r in rs if r["mode"] != "thuong_xuyen" and r["receiver"] == "uy_quyen"]}
            for c, g in blocks.items():
                groups = [r for r in g if r["people"] >= 5]
                v[c], v[c + 1], v[c + 2] = len(g), sum(r["people"] for r in g), len({r["case_key"] for r in g})
                v[c + 3], v[c + 4] = len(groups), sum(r["people"] for r in groups)
            v[3] = v[7] + v[13] + v[19]
            v[4] = v[8] + v[14] + v[20]
            table[label] = v
        return table

    table = {}
    for label, rs in by_row.items():
        v = {1: len(rs), 2: sum(r["people"] for r in rs)}
        blocks = {4: [r for r in rs if r["mode"] == "thuong_xuyen"],
                  12: [r for r in rs if r["mode"] != "thuong_xuyen" and r["receiver"] == "thu_truong"],
                  21: [r for r in rs if r["mode"] != "thuong_xuyen" and r["receiver"] == "uy_quyen"]}
        n_cases = 0
        for base, g in blocks.items():
            c = base + 1 if base != 4 else base       # blocks 12 and 21 start with "số kỳ tiếp"
            if base != 4:
                v[base] = len({r["sitting_key"] for r in g})
            groups = [r for r in g if r["people"] >= 5]
            v[c], v[c + 1] = len(g), sum(r["people"] for r in g)
            v[c + 2], v[c + 3] = cases(g)
            v[c + 4], v[c + 5] = len(groups), sum(r["people"] for r in groups)
            v[c + 6], v[c + 7] = cases(groups)
            n_cases += v[c + 2] + v[c + 3]
        v[3] = n_cases
        table[label] = v
    return table


def expected_days(ground_truth: Path, start: dt.date, end: dt.date) -> dict[str, tuple[int, int] | None]:
    """01/TCD of TT 06/2025, columns 10 and 16, from the generator's ground truth
    (gt_calendar, the calendars as delivered): {row label: (days in person, days
    delegated)} for the units of the city report's rows — the 2025 communes and the
    city itself (a district row would count the district head's days only) — or None
    when the unit's calendar lacks a month the window touches while the unit exists.
    Units with no calendar row at all are absent (their cells must be empty)."""
    from warehouse.units import unit_frame

    units = unit_frame(settings.get()).set_index("unit_key")
    con = sqlite3.connect(ground_truth)
    rows = con.execute("select unit_key, announced_date, receiver from gt_calendar").fetchall()
    out = {}
    for key in sorted({r[0] for r in rows}):
        u = units.loc[key]
        if u["scheme"] == "legacy" and u["level"] == "xa":
            continue                 # a legacy commune is no row of the city report
        vf = pd.Timestamp(u["valid_from"]).date()
        vt = end if u["valid_to"] is None or pd.isna(u["valid_to"]) else pd.Timestamp(u["valid_to"]).date()
        lo, hi = max(start, vf), min(end, vt)
        if lo > hi:
            continue
        days = [(dt.date.fromisoformat(d), who) for k, d, who in rows if k == key]
        have = {(d.year, d.month) for d, _ in days}
        months = {(y, m) for y in range(lo.year, hi.year + 1) for m in range(1, 13)
                  if (lo.year, lo.month) <= (y, m) <= (hi.year, hi.month)}
        label = city_row() if u["level"] == "tinh" else u["name"]
        out[label] = None if months - have else tuple(
            len({d for d, w in days if w == who and start <= d <= end}) for who in ("thu_truong", "uy_quyen"))
    return out


@pytest.mark.parametrize("key", list(REPORTS))
def test_every_cell_matches_ground_truth(pipeline_run, small_sources, key):
    from core import periods

    home, _ = pipeline_run
    spec = REPORTS[key]
    p = (periods.custom(spec["date_from"], spec["date_to"]) if "date_from" in spec
         else periods.parse(spec["period"]))
    tag = "TT06-2025_" if key in TT06 else ""
    code = settings.get().province.code
    path = home / "output" / "reports" / p.key.replace("..", "_") / "tinh" / code / \
        f"{tag}01-TCD_{code}_{p.start:%Y%m%d}-{p.end:%Y%m%d}.xlsx"
    got = read_report(path)
    want = expected_table(small_sources / "ground_truth.sqlite", p.start, p.end, tt06=key in TT06)
    # (TT 06/2025 columns 10 and 16, the announced days, are compared below)
    columns = [ms for ms in range(1, 22) if ms not in (10, 16)] if key in TT06 else list(range(1, 30))
    reported = reporting_rows(small_sources, p.start, p.end)
    assert want, "the window holds records"
    assert set(want) <= reported, "records of a unit that delivered nothing?"
    total = defaultdict(int)
    not_reported = 0
    days = expected_days(small_sources / "ground_truth.sqlite", p.start, p.end) if key in TT06 else {}
    days_total: list | None = [0, 0]
    for label, cells in got.items():
        if label == "Tổng cộng":
            continue
        expected = want.pop(label, {})
        if key in TT06 and label in reported:
            # 10, 16: the announced days of the row's head, from the published calendar;
            # empty (never 0) with a note where the calendar misses a month.
            d = days.get(label)
            assert (cells[10], cells[16]) == (d if d is not None else (None, None)), label
            if d is None:
                assert "chưa gửi lịch tiếp công dân của tháng" in cells["text"], label
                days_total = None
            elif days_total is not None:
                days_total = [days_total[0] + d[0], days_total[1] + d[1]]
        if label not in reported:
            # did not report: empty cells and a note, never zeros
            assert all(cells[ms] is None for ms in columns), label
            assert "Chưa báo cáo" in cells["text"], label
            not_reported += 1
            continue
        for ms in columns:
            assert cells[ms] == expected.get(ms, 0), f"{label}, cột {ms}"
            total[ms] += cells[ms]
    assert want == {}, f"rows missing from the report: {list(want)}"
    assert not_reported > 0, "the small set leaves most units without data"
    assert all(got["Tổng cộng"][ms] == total[ms] for ms in columns)
    assert "Chưa gồm số liệu" in got["Tổng cộng"]["text"]
    if key in TT06:
        without = [label for label in reported if days.get(label) is None]
        assert without and any(d for d in days.values()), "the small set has calendars and a unit without one"
        if days_total is None:          # a reporting row without its calendar: the total is empty too
            assert got["Tổng cộng"][10] is None and got["Tổng cộng"][16] is None
            assert "Cột (10), (16): không cộng được vì có dòng để trống" in got["Tổng cộng"]["text"]
        else:
            assert [got["Tổng cộng"][10], got["Tổng cộng"][16]] == days_total
    # lineage: the companion file lists source rows that account for every total cell
    from reports.lineage import cell_sources, form_of_workbook

    companion = path.with_name(path.stem + ".nguon.csv")
    form = form_of_workbook(path, settings.get().home)          # once: finding it per cell costs a second each
    for ms in columns:
        rows = cell_sources(companion, "total", ms, form=form)
        assert rows.attrs["accounted"] == got["Tổng cộng"][ms], f"lineage of cột {ms}"
        if ms in (1, 5 if key in TT06 else 4):      # count columns: one listed source row per counted record
            assert len(rows) == got["Tổng cộng"][ms] and rows["source_file"].notna().all()
    if key in TT06:
        # each counted day traced to its calendar row (source file / table and row)
        for label, d in days.items():
            if d is not None and label in reported:
                for ms, n in zip((10, 16), d):
                    rows = cell_sources(companion, label, ms, form=form)
                    assert rows.attrs["accounted"] == n, (label, ms)
                    assert (rows["source_file"] != "").all()
    if key == "custom":
        city = got[city_row()]
        assert (city[4], city[5], city[8], city[9]) == (8656, 14015, 280, 1527)
        assert (city[13] + city[22], city[14] + city[23], city[17] + city[26]) == (702, 1754, 47)


def city_report(home: Path, p, form: str) -> Path:
    """The city's consolidated workbook of `form` for period `p` (TT 06/2025 tagged)."""
    code = settings.get().province.code
    return home / "output" / "reports" / p.key.replace("..", "_") / "tinh" / code / \
        f"TT06-2025_{form.replace('/', '-')}_{code}_{p.start:%Y%m%d}-{p.end:%Y%m%d}.xlsx"


def tt06_form(code: str):
    from reports.formdef import load_form

    found = [f for f in map(load_form, sorted((ROOT / "reports" / "forms").glob("*_tt06_2025.yaml")))
             if f.code == code]
    assert len(found) == 1, code
    return found[0]


def tt06_expected(small_sources: Path, qlkntc_truth, form: str, per: str) -> tuple[dict, set[str]]:
    """(the independent count of `form` for Quý IV 2025, the labels of the rows that
    reported). A row reported when one of its units delivered data for the window
    (reporting_rows), or when it shows records (carried over from units no longer in
    force); for 06/QLKNTC, when its unit's workbook was published."""
    from core import periods
    from simulators.qlkntc import VALUE_NAMES
    from tests import tt06_truth as T

    p = periods.parse("2025-Q4")
    rows = T.CityRows(p.start, p.end)
    if form == "06/QLKNTC":
        want = T.qlkntc06(qlkntc_truth, rows, VALUE_NAMES)
        return want, set(want)
    want = T.FORMS[form](T.petitions(small_sources / "ground_truth.sqlite"), rows, per)
    return want, reporting_rows(small_sources, p.start, p.end) | set(want)


def holds(check, cells: dict) -> bool:
    """A printed check (reports.formdef.Check) on one row's cells, within the tolerance
    of decimal cells."""
    sums = [sum(cells[ms] for ms in side) for side in check.sides]
    ok = {"=": lambda a, b: abs(a - b) <= 1e-6, "<=": lambda a, b: a <= b + 1e-6, ">=": lambda a, b: a + 1e-6 >= b}
    return all(ok[op](a, b) for op, a, b in zip(check.ops, sums, sums[1:]))


def compare_tt06(home: Path, small_sources: Path, qlkntc_truth, form: str, per: str) -> list[str]:
    """Every cell of the city's `form` for Quý IV 2025 against the independent count:
    the mismatches, as "<row>, cột <MS>: <got> ≠ <expected>"."""
    from core import periods

    p = periods.parse("2025-Q4")
    got = read_report(city_report(home, p, form))
    want, reported = tt06_expected(small_sources, qlkntc_truth, form, per)
    fdef = tt06_form(form)
    unavailable = set(fdef.unavailable_columns)
    zero = {ms: None if ms in unavailable else 0 for ms in fdef.ms_numbers}
    bad = []
    for label, cells in got.items():
        if label == "Tổng cộng" or label not in reported:
            continue
        expected = want.get(label, zero)
        for ms in fdef.ms_numbers:
            e, g = expected[ms], cells[ms]
            if (e is None) != (g is None) or (e is not None and abs(g - e) > 1e-6):
                bad.append(f"{label}, cột {ms}: {g} ≠ {e}")
    bad += [f"{label}: không có dòng trong báo cáo" for label in set(want) - set(got)]
    return bad


@pytest.mark.parametrize("form", TT06_FORMS)
def test_every_cell_of_the_tt06_forms_matches_ground_truth(pipeline_run, small_sources, qlkntc_inbox, form):
    """Quý IV 2025, the city's consolidated 02/XLD–06/QLKNTC: every cell as the
    independent count (tests/tt06_truth.py), the columns without source data empty,
    the rows that did not report empty with "Chưa báo cáo", the total the sum of the
    rows that reported, and every printed check true on every row."""
    from core import periods
    from tests.tt06_truth import PER_DECISION

    home, _ = pipeline_run
    p = periods.parse("2025-Q4")
    path = city_report(home, p, form)
    got = read_report(path)
    want, reported = tt06_expected(small_sources, qlkntc_inbox[1], form, PER_DECISION)
    fdef = tt06_form(form)
    numbers = [ms for ms in fdef.ms_numbers if ms not in fdef.unavailable_columns]
    assert want and any(v for cells in want.values() for v in cells.values()), "the window holds figures"
    # Cells the independent count leaves empty: the form's columns without data, or a
    # column that needs a field (requires) on a row with a record whose source lacks it.
    assert {ms for cells in want.values() for ms, v in cells.items() if v is None} <= \
        set(fdef.unavailable_columns) | set(fdef.partial_columns)
    if form in ("03/GQKN", "04/GQTC"):
        filled = {ms for cells in want.values() for ms, v in cells.items() if v}
        assert {3, 4, 5, 6} <= filled | {6}, "the window has matters in every acceptance status"
    assert compare_tt06(home, small_sources, qlkntc_inbox[1], form, PER_DECISION) == []
    total = defaultdict(int)
    gaps = set()
    not_reported = 0
    for label, cells in got.items():
        if label == "Tổng cộng":
            continue
        assert all(cells[ms] is None for ms in fdef.unavailable_columns), label
        if label not in reported:
            # did not report: empty cells and a note, never zeros
            assert all(cells[ms] is None for ms in fdef.ms_numbers), label
            assert "Chưa báo cáo" in cells["text"], label
            not_reported += 1
            continue
        for chk in fdef.verified_checks:
            involved = {ms for side in chk.sides for ms in side}
            if all(cells[ms] is not None for ms in involved):
                assert holds(chk, cells), f"{label}: {chk.text}"
        for ms in numbers:
            if cells[ms] is None:
                assert ms in fdef.partial_columns, f"{label}, cột {ms}"
                gaps.add(ms)
            else:
                total[ms] += cells[ms]
    assert not_reported > 0, "most units of the city have no data in the small set"
    got_total = got["Tổng cộng"]
    assert all(got_total[ms] is None for ms in fdef.unavailable_columns)
    assert all(got_total[ms] is None for ms in gaps), "a total over rows with empty cells"
    assert all(abs(got_total[ms] - total[ms]) <= 1e-6 for ms in numbers if ms not in gaps), \
        "total ≠ sum of the rows"
    assert all(holds(chk, got_total) for chk in fdef.verified_checks
               if all(got_total[ms] is not None for side in chk.sides for ms in side))
    assert "Chưa gồm số liệu" in got_total["text"]
    # lineage: the companion file accounts for every total cell
    from reports.lineage import cell_sources

    companion = path.with_name(path.stem + ".nguon.csv")
    for ms in numbers:
        if ms in gaps:
            continue
        rows = cell_sources(companion, "total", ms, form=fdef)
        assert abs(rows.attrs["accounted"] - got_total[ms]) <= 1e-6, f"lineage of cột {ms}"


def test_the_tt06_forms_agree_with_each_other(pipeline_run):
    """The checks printed across forms, on every row that reported: 03/GQKN 1 = 02/XLD 6,
    04/GQTC 1 = 02/XLD 12, 05/KQTH 1 >= 03/GQKN 7 and 16 >= 04/GQTC 7."""
    from core import periods

    home, _ = pipeline_run
    p = periods.parse("2025-Q4")
    t = {f: read_report(city_report(home, p, f)) for f in ("02/XLD", "03/GQKN", "04/GQTC", "05/KQTH")}
    pairs = [("03/GQKN", 1, "=", "02/XLD", 6), ("04/GQTC", 1, "=", "02/XLD", 12),
             ("05/KQTH", 1, ">=", "03/GQKN", 7), ("05/KQTH", 16, ">=", "04/GQTC", 7)]
    compared = 0
    for a, ms_a, op, b, ms_b in pairs:
        for label in set(t[a]) & set(t[b]):
            x, y = t[a][label][ms_a], t[b][label][ms_b]
            if x is None or y is None:         # a row that did not report (or only in one form)
                continue
            assert (x == y) if op == "=" else (x >= y), f"{label}: {a} cột {ms_a} {op} {b} cột {ms_b}"
            compared += 1
    assert compared > 8


def test_decision_figures_count_once_per_decision(pipeline_run, small_sources, qlkntc_inbox):
    """The figures of a decision or conclusion (03/GQKN 13–23, 04/GQTC 14–25, 05/KQTH
    3–15, 18–31) count once per decision although every petition of its case carries
    it (`per_case` in the forms): the window holds such cases, so the count per petition
    — the 2021 forms' way — differs from what is issued."""
    from tests.tt06_truth import PER_PETITION

    home, _ = pipeline_run
    per_petition = [m for form in ("03/GQKN", "04/GQTC", "05/KQTH")
                    for m in compare_tt06(home, small_sources, qlkntc_inbox[1], form, PER_PETITION)]
    assert per_petition, "no case with several petitions carries a decision's figures in the window"


def test_the_compared_windows_hold_co_denouncers_of_every_source_kind(small_sources):
    """Issue 10: two citizens denouncing one case at one unit on one day are two
    receptions. The windows compared cell by cell above hold such pairs from every kind
    of source, so a pipeline that merged them would fail that comparison."""
    from core import periods

    con = sqlite3.connect(small_sources / "ground_truth.sqlite")
    pairs = con.execute("select source_kind, received_date from gt_reception where kind = 'TC' "
                        "group by source_kind, case_key, received_date having count(*) > 1").fetchall()
    covered = set()
    for spec in REPORTS.values():
        p = (periods.custom(spec["date_from"], spec["date_to"]) if "date_from" in spec
             else periods.parse(spec["period"]))
        covered |= {kind for kind, day in pairs if p.start <= dt.date.fromisoformat(day) <= p.end}
    assert covered == {"commune_register", "district_db", "city_service"}, pairs


def _snapshot(home: Path):
    eng = sa.create_engine(f"sqlite:///{home / 'output' / 'warehouse' / 'warehouse.sqlite'}")
    with eng.connect() as c:
        tables = [t for t in sa.inspect(c).get_table_names()]
        counts = {t: c.execute(sa.text(f'select count(*) from "{t}"')).scalar_one() for t in tables}
    eng.dispose()
    reports = {p.name: read_report(p) for code in ("01-TCD", *(f.replace("/", "-") for f in TT06_FORMS))
               for p in (home / "output" / "reports").rglob(f"*{code}_*.xlsx")}
    return counts, reports


def test_second_run_adds_nothing_and_gives_the_same_numbers(pipeline_run):
    home, env = pipeline_run
    counts, reports = _snapshot(home)
    assert counts["fact_reception"] > 0 and counts["raw_record"] > 0
    run_dags(env, home)
    counts2, reports2 = _snapshot(home)
    # dq_validation is a history: the second run validated nothing new in the warehouse
    # (partitions unchanged) but re-checked the identities of the reports it wrote.
    assert counts2.pop("dq_validation") == counts.pop("dq_validation") + REPORTS_PER_RUN
    assert counts2 == counts
    assert reports2 == reports


def test_no_personal_data_in_any_output(pipeline_run, small_sources):
    home, _ = pipeline_run
    pii = load_pii(small_sources / "ground_truth.sqlite")
    assert len(pii["numbers"]) > 1000 and len(pii["phrases"]) > 1000
    hits = find_pii([home / "output", home / "airflow" / "logs"], pii)
    assert hits == []


def test_the_pii_scan_can_fire(small_sources, tmp_path):
    pii = load_pii(small_sources / "ground_truth.sqlite")
    number = next(iter(pii["numbers"]))
    phrase = " ".join(next(iter(pii["phrases"]))).title()
    (tmp_path / "leak.log").write_text(f"citizen {phrase} id {number[:4]}.{number[4:]}", encoding="utf-8")
    kinds = {k for _, k in find_pii([tmp_path], pii)}
    assert kinds == {"number", "name/address"}


def test_every_injected_defect_has_its_expected_outcome(pipeline_run, small_sources):
    """defects.csv (written by the generator) says what each injected defect must
    become; the warehouse must show exactly that, naming the same file row or record."""
    import csv

    home, _ = pipeline_run
    eng = sa.create_engine(f"sqlite:///{home / 'output' / 'warehouse' / 'warehouse.sqlite'}")
    with eng.connect() as c:
        quarantined = {(r.source_kind, r.source_file, r.source_row, r.record_id, r.reason_code)
                       for r in c.execute(sa.text("select * from dq_quarantine"))}
        rejected = {(r.logical_key, r.reason_code) for r in c.execute(sa.text(
            "select logical_key, reason_code from raw_batch where status != 'loaded'"))}
    eng.dispose()
    by_row = {(k, f, r, code) for k, f, r, _, code in quarantined if r is not None}
    by_id = {(k, i, code) for k, _, _, i, code in quarantined if i is not None}
    with open(small_sources / "defects.csv", encoding="utf-8") as fh:
        defects = list(csv.DictReader(fh))
    checked = 0
    for d in defects:
        if d["expected_outcome"] == "quarantined":
            if d["source_kind"] == "commune_register":
                key = (d["source_kind"], f"{d['resource']}#{d['sheet']}", int(d["row"]), d["rule_code"])
                assert key in by_row, d
            else:
                assert (d["source_kind"], d["record_id"], d["rule_code"]) in by_id, d
            checked += 1
        elif d["expected_outcome"] == "batch_rejected":
            assert (Path(d["resource"]).stem, d["rule_code"]) in rejected, d
            checked += 1
    assert checked >= 10
