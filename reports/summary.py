"""The multi-year summary workbook for the Party Committee (báo cáo tổng hợp nhiều năm).

One workbook over any multi-year range (default: 01/07/2021 to the last cut-off, see
:func:`default_range`), read from the published warehouse facts only:

1. "Tổng hợp" — headline figures by calendar year (partial first/last years labelled
   with their dates) and in total, for the whole province (all levels) and for the
   province's own level, with the change against the previous year;
2. "Theo cấp" — the same figures by level (cấp tỉnh, cấp huyện until the reform — later
   cells empty, not 0 —, cấp xã);
3. "Biểu đồ" — native Excel charts referencing the cells of "Tổng hợp";
4. "Trách nhiệm tiếp công dân" — each head's reception days against the legal minimum
   (:data:`HEAD_DUTY`, Luật Tiếp công dân 2013);
5. "Vượt cấp" — receptions at a higher level while the same citizen's case of the same
   kind was open at a lower unit (:func:`skipped_levels`);
6. "Nhận định" — the narrative (reports.narrative), numbers written the Vietnamese way;
7. "Thông tin" — range, run, cut-off, sources and definitions.

Counting follows Biểu 01/TCD (reports/forms/tcd01_tt02_2021.yaml, ``semantics``):
"tiếp thường xuyên" = mode thuong_xuyen; the leaders' "tiếp định kỳ, đột xuất" = mode
dinh_ky/dot_xuat received by the head in person or by an authorised deputy (01/TCD
columns 13 + 22: that is what reproduces the published 702 lượt / 1.754 công dân / 47
đoàn of Hà Nội, half of which the deputies received). Petitions' states on a day come
from their dates (docs/report-set.md §1).

Pure pandas from :class:`SummaryData` on: :func:`compute_summary` gives every table as
data (tests check the numbers there), :func:`build_summary` writes the workbook.
Citizen pseudonyms are used in memory to match cases (vượt cấp) and never leave this
module: no output frame carries them.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter, quote_sheetname

from core import periods, regimes, settings
from core.dates import today_local, vn_date
from core.levels import LEVEL_NAMES, LEVEL_ORDER, LEVELS
from reports import narrative
from reports.narrative import format_vn
from reports.render import META_LABELS, NUMBER_FORMAT, as_datetime, cell_font, info_sheet, put_cell, save_workbook
from warehouse import schema
from warehouse import units as wh_units

# ----------------------------------------------------------------------------- rules

REGULAR_MODES = ("thuong_xuyen",)
# The leaders' periodic and unscheduled reception: 01/TCD "Thủ trưởng tiếp" + "Ủy quyền tiếp".
LEADER_MODES = ("dinh_ky", "dot_xuat")
LEADER_RECEIVERS = ("thu_truong", "uy_quyen")
KINDS = (("KN", "don_kn"), ("TC", "don_tc"), ("KNPA", "don_knpa"))


@dataclass(frozen=True)
class DutyRule:
    """The minimum number of days the head of a unit must receive citizens in person."""

    level: str
    per: str            # "week" (Monday–Sunday) | "month" (calendar month)
    min_days: int
    legal_basis: str

    @property
    def wording(self) -> str:
        return f"ít nhất {self.min_days:02d} ngày trong 01 {'tuần' if self.per == 'week' else 'tháng'}"

    @property
    def short(self) -> str:
        return f"≥ {self.min_days:02d} ngày/{'tuần' if self.per == 'week' else 'tháng'}"


DUTY_LAW = "Luật Tiếp công dân năm 2013"
# The heads' minimum reception duty (Luật Tiếp công dân 2013, Điều 12–15): the one place
# to change if the law changes.
HEAD_DUTY: dict[str, DutyRule] = {
    "tinh": DutyRule("tinh", "month", 1, f"{DUTY_LAW}, Điều 12 khoản 5 (Chủ tịch UBND cấp tỉnh)"),
    "huyen": DutyRule("huyen", "month", 2, f"{DUTY_LAW}, Điều 13 khoản 5 (Chủ tịch UBND cấp huyện)"),
    "xa": DutyRule("xa", "week", 1, f"{DUTY_LAW}, Điều 15 khoản 2 điểm d (Chủ tịch UBND cấp xã)"),
}
# The law says the chairman receives "trực tiếp" (in person): sittings held by an
# authorised deputy (uy_quyen) do not count towards the duty; they are shown apart.
HEAD_DUTY_RECEIVERS = ("thu_truong",)
HEAD_DUTY_MODES = ("dinh_ky", "dot_xuat")

STATUS_SHORT, STATUS_OK = "Không đạt", "Đạt"
STATUS_NO_DATA, STATUS_NOT_ASSESSED = "Chưa có số liệu", "Không đánh giá"


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    group: str
    definition: str

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"


_G_REC, _G_PET, _G_RES = "Tiếp công dân", "Tiếp nhận đơn", "Giải quyết đơn thuộc thẩm quyền"
INDICATORS: tuple[Indicator, ...] = (
    Indicator("tong_luot", "Tổng số lượt tiếp công dân", "lượt", _G_REC,
              "tiếp thường xuyên + tiếp định kỳ, đột xuất của lãnh đạo (01/TCD cột 1 = 4 + 13 + 22)"),
    Indicator("tong_nguoi", "Tổng số người được tiếp", "người", _G_REC, "01/TCD cột 2 = 5 + 14 + 23"),
    Indicator("tx_luot", "Tiếp thường xuyên: số lượt tiếp", "lượt", _G_REC,
              "số bản ghi tiếp có hình thức tiếp thường xuyên (01/TCD cột 4)"),
    Indicator("tx_nguoi", "Tiếp thường xuyên: số người được tiếp", "người", _G_REC,
              "tổng số người trên các bản ghi tiếp thường xuyên (01/TCD cột 5)"),
    Indicator("tx_doan", "Trong đó đoàn đông người: số đoàn", "đoàn", _G_REC,
              "bản ghi tiếp thường xuyên có từ 5 người trở lên (01/TCD cột 8)"),
    Indicator("tx_doan_nguoi", "Trong đó đoàn đông người: số người trong đoàn", "người", _G_REC,
              "01/TCD cột 9"),
    Indicator("ld_ky", "Lãnh đạo tiếp định kỳ, đột xuất: số kỳ tiếp", "kỳ", _G_REC,
              "số kỳ tiếp khác nhau của thủ trưởng và người được ủy quyền (01/TCD cột 12 + 21)"),
    Indicator("ld_luot", "Lãnh đạo tiếp định kỳ, đột xuất: số lượt tiếp", "lượt", _G_REC,
              "tiếp định kỳ hoặc đột xuất do thủ trưởng trực tiếp tiếp hoặc ủy quyền tiếp (01/TCD cột 13 + 22)"),
    Indicator("ld_nguoi", "Lãnh đạo tiếp định kỳ, đột xuất: số người được tiếp", "người", _G_REC,
              "01/TCD cột 14 + 23"),
    Indicator("ld_doan", "Lãnh đạo tiếp định kỳ, đột xuất: số đoàn đông người", "đoàn", _G_REC,
              "01/TCD cột 17 + 26"),
    Indicator("don_tong", "Tổng số đơn tiếp nhận", "đơn", _G_PET, "số đơn có ngày nhận trong kỳ (mọi nguồn)"),
    Indicator("don_kn", "Đơn khiếu nại", "đơn", _G_PET, "đơn tiếp nhận trong kỳ, loại khiếu nại"),
    Indicator("don_tc", "Đơn tố cáo", "đơn", _G_PET, "đơn tiếp nhận trong kỳ, loại tố cáo"),
    Indicator("don_knpa", "Đơn kiến nghị, phản ánh", "đơn", _G_PET, "đơn tiếp nhận trong kỳ, loại kiến nghị, phản ánh"),
    Indicator("gq_phai", "Đơn thuộc thẩm quyền phải giải quyết", "đơn", _G_RES,
              "đơn thuộc thẩm quyền nhận đến hết kỳ và chưa giải quyết xong trước ngày đầu kỳ "
              "(kỳ trước chuyển sang + tiếp nhận trong kỳ)"),
    Indicator("gq_da", "Đã giải quyết trong kỳ", "đơn", _G_RES,
              "đơn phải giải quyết có ngày giải quyết trong kỳ"),
    Indicator("gq_dang", "Đang giải quyết (tại ngày cuối kỳ)", "đơn", _G_RES,
              "đơn phải giải quyết chưa giải quyết xong, đã có ngày thụ lý đến ngày cuối kỳ"),
    Indicator("gq_chua", "Chưa giải quyết (tại ngày cuối kỳ)", "đơn", _G_RES,
              "đơn phải giải quyết chưa giải quyết xong và chưa thụ lý tại ngày cuối kỳ"),
    Indicator("gq_tyle", "Tỷ lệ giải quyết", "%", _G_RES, "đã giải quyết ÷ phải giải quyết × 100"),
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)
_BY_KEY = {i.key: i for i in INDICATORS}

SHEET_TOTALS, SHEET_LEVELS, SHEET_CHARTS = "Tổng hợp", "Theo cấp", "Biểu đồ"
SHEET_DUTY, SHEET_SKIPPED, SHEET_TEXT, SHEET_INFO = ("Trách nhiệm tiếp công dân", "Vượt cấp", "Nhận định",
                                                     "Thông tin")
TITLE = "BÁO CÁO TỔNG HỢP KẾT QUẢ CÔNG TÁC TIẾP CÔNG DÂN, TIẾP NHẬN VÀ GIẢI QUYẾT ĐƠN"
RATE_FORMAT = "#,##0.0"
CHANGE_FORMAT = "+#,##0;-#,##0;0"
CHANGE_RATE_FORMAT = "+#,##0.0;-#,##0.0;0.0"
DATE_FORMAT = "dd/mm/yyyy"

SKIPPED_RULE = ("Một lượt tiếp ở cấp trên (cấp huyện hoặc cấp tỉnh) của công dân mà tại ngày tiếp công dân đó "
                "đang có vụ việc cùng loại (khiếu nại, tố cáo, kiến nghị phản ánh) chưa được giải quyết xong ở "
                "cấp dưới: với cấp huyện là một xã, phường, thị trấn thuộc huyện; với cấp tỉnh là bất kỳ đơn vị "
                "cấp huyện hoặc cấp xã nào. Vụ việc đang mở = đã phát sinh (ngày mở hồ sơ vụ việc, hoặc ngày "
                "nhận đơn nếu không có hồ sơ vụ việc) đến ngày tiếp và chưa giải quyết xong trước ngày tiếp. Đối chiếu "
                "công dân bằng mã giả danh; mã không được in ra. Người tố cáo không được lưu danh tính (Luật Tố "
                "cáo 2018), nên vượt cấp về tố cáo không được phát hiện.")


# ----------------------------------------------------------------------------- range
def default_range(today: dt.date | str | None = None):
    """The default range: the series start (``series.start``, 01/07/2021) to the last
    cut-off, i.e. the end of the latest complete quarter window (15th–14th) before
    `today`. A core.periods.Period."""
    today = today or today_local()
    return periods.custom(settings.get().series.start, periods.latest_complete(today, "Q").end)


@dataclass(frozen=True)
class Window:
    """A column of the summary: a calendar year clipped to the range, or the total."""

    key: str              # "2021" … or "total"
    label: str            # "01/07–31/12/2021", "Năm 2022", "Tổng cộng"
    start: dt.date
    end: dt.date
    year: int | None = None

    @property
    def partial(self) -> bool:
        return self.year is not None and (self.start != dt.date(self.year, 1, 1)
                                          or self.end != dt.date(self.year, 12, 31))


def year_windows(date_from: dt.date, date_to: dt.date) -> list[Window]:
    """Calendar years within [date_from, date_to]; a partial year is labelled with its
    actual dates ("01/07–31/12/2021"), a full one "Năm 2022"."""
    if date_from > date_to:
        raise ValueError(f"range starts {date_from} after it ends {date_to}")
    out = []
    for year in range(date_from.year, date_to.year + 1):
        s, e = max(date_from, dt.date(year, 1, 1)), min(date_to, dt.date(year, 12, 31))
        full = s == dt.date(year, 1, 1) and e == dt.date(year, 12, 31)
        label = f"Năm {year}" if full else f"{s:%d/%m}–{e:%d/%m/%Y}"
        out.append(Window(str(year), label, s, e, year))
    return out


def total_window(date_from: dt.date, date_to: dt.date) -> Window:
    return Window("total", "Tổng cộng", date_from, date_to)


# ----------------------------------------------------------------------------- data
@dataclass
class SummaryData:
    """What the summary reads: published facts dated up to `date_to` (earlier records
    are needed for petitions carried over and for cases opened before the range), the
    province's units (warehouse.units.unit_frame) and, for the info sheet, how many rows
    each source table had (``{table: {"warehouse": n, "read": m}}``)."""

    date_from: dt.date
    date_to: dt.date
    units: pd.DataFrame
    receptions: pd.DataFrame
    petitions: pd.DataFrame
    cases: pd.DataFrame = field(default_factory=pd.DataFrame)
    source_counts: dict[str, dict[str, int]] = field(default_factory=dict)


_RECEPTION_COLUMNS = ("reception_key", "unit_code", "unit_key", "received_date", "mode", "receiver",
                      "sitting_key", "people", "is_group", "petition_kind", "case_key", "citizen_pseudonym")
_PETITION_COLUMNS = ("petition_key", "unit_code", "unit_key", "received_date", "petition_kind", "case_key",
                     "eligible", "competent", "resolution_status", "resolved_date", "accepted_date",
                     "citizen_pseudonym")
_CASE_COLUMNS = ("case_key", "unit_code", "unit_key", "opened_date", "petition_kind", "resolution_status",
                 "resolved_date")


def summary_frames(engine, date_from: dt.date | str, date_to: dt.date | str,
                   province_code: str | None = None) -> SummaryData:
    """Load what the summary needs from the warehouse's published facts (fact_*)."""
    date_from, date_to = _as_date(date_from), _as_date(date_to)
    if date_from > date_to:
        raise ValueError(f"range starts {date_from} after it ends {date_to}")
    unit_df = wh_units.unit_frame(province_code)
    keys = set(unit_df["unit_key"])
    frames, counts = {}, {}
    plan = (("fact_reception", _RECEPTION_COLUMNS, "received_date"),
            ("fact_petition", _PETITION_COLUMNS, "received_date"),
            ("fact_case", _CASE_COLUMNS, "opened_date"))
    with engine.connect() as conn:
        for name, columns, date_col in plan:
            table = getattr(schema, name)
            q = sa.select(*[table.c[c] for c in columns]).where(table.c[date_col] <= date_to)
            df = pd.read_sql(q, conn)
            total = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            df = df[df["unit_key"].isin(keys)].reset_index(drop=True)
            if "citizen_pseudonym" in df:
                # A denouncer's pseudonym is scoped to one case (ADR 0005): it serves
                # de-duplication only and must never be used to follow a person.
                df.loc[df["petition_kind"] == "TC", "citizen_pseudonym"] = None
            frames[name] = df
            counts[name] = {"warehouse": int(total), "read": len(df)}
    counts["dim_unit"] = {"warehouse": len(unit_df), "read": len(unit_df)}
    return SummaryData(date_from, date_to, unit_df, frames["fact_reception"], frames["fact_petition"],
                       frames["fact_case"], counts)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _ts(series: pd.Series) -> pd.Series:
    """Dates as datetime64 (missing → NaT), whatever they came as (date, str, Timestamp)."""
    return pd.to_datetime(series, errors="coerce")


def _T(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


def _bool(series: pd.Series) -> pd.Series:
    """True/False from a nullable boolean column (missing → False)."""
    return series.map(lambda v: False if _missing(v) else bool(v)).astype(bool)


# ----------------------------------------------------------------------------- figures
def reception_figures(rec: pd.DataFrame) -> dict[str, int]:
    """Headline reception figures of a set of fact_reception rows (01/TCD semantics)."""
    mode, receiver = rec["mode"].astype(str), rec["receiver"].astype(str)
    people = pd.to_numeric(rec["people"], errors="coerce").fillna(0).astype(int)
    group = _bool(rec["is_group"])
    regular = mode.isin(REGULAR_MODES)
    leaders = mode.isin(LEADER_MODES) & receiver.isin(LEADER_RECEIVERS)
    sittings = rec.loc[leaders, "sitting_key"]
    # A head's sitting without an id still was a sitting: count it as one (01/TCD nulls: each).
    n_sittings = int(sittings.dropna().nunique() + sittings.isna().sum())
    out = {
        "tx_luot": int(regular.sum()), "tx_nguoi": int(people[regular].sum()),
        "tx_doan": int((regular & group).sum()), "tx_doan_nguoi": int(people[regular & group].sum()),
        "ld_ky": n_sittings, "ld_luot": int(leaders.sum()), "ld_nguoi": int(people[leaders].sum()),
        "ld_doan": int((leaders & group).sum()),
    }
    out["tong_luot"] = out["tx_luot"] + out["ld_luot"]
    out["tong_nguoi"] = out["tx_nguoi"] + out["ld_nguoi"]
    return out


def petition_figures(pet: pd.DataFrame, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Petition figures of a window from the dates (docs/report-set.md §1).

    Received = received_date in the window, by kind. Due (phải giải quyết) = competent
    petitions received by the end and not resolved before the start; of them: resolved
    in the window, in progress at the end (accepted_date on or before it), not resolved.
    `pet` carries ``resolved`` and ``accepted`` (datetime64) as prepared by
    :func:`_prepare_petitions`.
    """
    s, e = _T(start), _T(end)
    received_on = pet["received"]
    in_window = (received_on >= s) & (received_on <= e)
    kind = pet["petition_kind"].astype(str)
    out: dict[str, Any] = {"don_tong": int(in_window.sum())}
    for code, key in KINDS:
        out[key] = int((in_window & (kind == code)).sum())
    resolved, accepted = pet["resolved"], pet["accepted"]
    due = pet["is_competent"] & (received_on <= e) & (resolved.isna() | (resolved >= s))
    done = due & resolved.notna() & (resolved <= e)
    ongoing = due & ~done & accepted.notna() & (accepted <= e)
    out.update(gq_phai=int(due.sum()), gq_da=int(done.sum()), gq_dang=int(ongoing.sum()),
               gq_chua=int((due & ~done & ~ongoing).sum()))
    out["gq_tyle"] = (out["gq_da"] / out["gq_phai"] * 100) if out["gq_phai"] else None
    return out


def _prepare_receptions(rec: pd.DataFrame, level_of: Mapping[str, str]) -> pd.DataFrame:
    rec = rec.copy()
    rec["received"] = _ts(rec["received_date"])
    rec["level"] = rec["unit_key"].map(level_of)
    return rec


def _prepare_petitions(pet: pd.DataFrame, cases: pd.DataFrame, level_of: Mapping[str, str]) -> pd.DataFrame:
    """Petitions with their dates as datetime64 and the resolution date to use: the
    petition's own, else (competent petitions only) that of its case in fact_case,
    whose resolution is the petition's when the petition carries no date of its own."""
    pet = pet.copy()
    pet["received"] = _ts(pet["received_date"])
    pet["level"] = pet["unit_key"].map(level_of)
    pet["is_competent"] = _bool(pet["competent"]) if "competent" in pet else False
    resolved = _ts(pet["resolved_date"]) if "resolved_date" in pet else pd.Series(pd.NaT, index=pet.index)
    if len(cases) and "case_key" in pet and "resolved_date" in cases:
        by_case = cases.dropna(subset=["case_key"]).drop_duplicates("case_key").set_index("case_key")
        case_resolved = _ts(pet["case_key"].map(by_case["resolved_date"]))
        resolved = resolved.where(resolved.notna() | ~pet["is_competent"], case_resolved)
    pet["resolved"] = resolved
    pet["accepted"] = _ts(pet["accepted_date"]) if "accepted_date" in pet else pd.Series(pd.NaT, index=pet.index)
    return pet


def figures(rec: pd.DataFrame, pet: pd.DataFrame, window: Window) -> dict[str, Any]:
    """Every indicator for one window (records already restricted to the scope)."""
    s, e = _T(window.start), _T(window.end)
    in_window = rec[(rec["received"] >= s) & (rec["received"] <= e)]
    return {**reception_figures(in_window), **petition_figures(pet, window.start, window.end)}


def indicator_table(rec: pd.DataFrame, pet: pd.DataFrame, windows: list[Window], total: Window,
                    active: tuple[dt.date, dt.date | None] | None = None) -> pd.DataFrame:
    """Indicators (rows, in INDICATORS order) × window keys (columns, total last).

    With `active` = (first day, last day or None) of a level's existence, a window that
    does not overlap it is structurally empty: None in every row, never 0."""
    cols = {}
    for w in [*windows, total]:
        if active is not None and (w.end < active[0] or (active[1] is not None and w.start > active[1])):
            cols[w.key] = {k: None for k in INDICATOR_KEYS}
        else:
            cols[w.key] = figures(rec, pet, w)
    # Column by column as objects: ints stay ints, empty cells stay None (not NaN).
    return pd.DataFrame({k: pd.Series(v, index=list(INDICATOR_KEYS), dtype=object) for k, v in cols.items()})


def change_table(table: pd.DataFrame, windows: list[Window]) -> pd.DataFrame:
    """Change of each year against the previous one: columns (year key, "abs"|"pct").
    For rates the absolute change is in percentage points and there is no %; a change
    involving an empty (None) cell, or a % over 0, is None."""
    cols: dict[tuple[str, str], dict[str, Any]] = {}
    for prev, cur in zip(windows, windows[1:]):
        a_col, p_col = {}, {}
        for key in table.index:
            a, b = table.at[key, cur.key], table.at[key, prev.key]
            if a is None or b is None:
                a_col[key] = p_col[key] = None
                continue
            a_col[key] = a - b
            p_col[key] = None if (_BY_KEY[key].is_rate or b == 0) else (a - b) / b * 100
        cols[(cur.key, "abs")], cols[(cur.key, "pct")] = a_col, p_col
    out = pd.DataFrame({k: pd.Series(v, index=table.index, dtype=object) for k, v in cols.items()},
                       index=table.index)
    if len(cols):
        out.columns = pd.MultiIndex.from_tuples(list(cols))
    return out


def level_spans(units: pd.DataFrame) -> dict[str, tuple[dt.date, dt.date | None]]:
    """First and last day (None = still in force) of each level, from the units' validity."""
    out = {}
    for level, grp in units.groupby("level"):
        starts = [_as_date(v) for v in grp["valid_from"]]
        ends = [None if _missing(v) else _as_date(v) for v in grp["valid_to"]]
        out[str(level)] = (min(starts), None if any(e is None for e in ends) else max(ends))
    return out


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):     # list-likes are values, not missing
        return False


# ----------------------------------------------------------------------------- duty
def _unit_spans(units: pd.DataFrame, date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    u = units.copy()
    u["vf"] = _ts(u["valid_from"])
    u["vt"] = _ts(u["valid_to"])
    u["span_from"] = u["vf"].where(u["vf"] > _T(date_from), _T(date_from))
    u["span_to"] = u["vt"].where(u["vt"].notna() & (u["vt"] < _T(date_to)), _T(date_to))
    return u[u["span_from"] <= u["span_to"]].copy()


def _complete_periods(s: pd.Timestamp, e: pd.Timestamp, per: str) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """(first period start, last period start, number) of the weeks (Mon–Sun) or
    calendar months lying wholly within [s, e]."""
    if per == "week":
        first = s + pd.Timedelta(days=(7 - s.weekday()) % 7)
        last_end = e - pd.Timedelta(days=(e.weekday() + 1) % 7)
        n = ((last_end - first).days + 1) // 7 if last_end >= first else 0
        return first, last_end - pd.Timedelta(days=6), max(n, 0)
    first = s if s.day == 1 else (s + pd.offsets.MonthBegin(1))
    last_end = e if e.is_month_end else (e - pd.offsets.MonthEnd(1))
    n = (last_end.year - first.year) * 12 + last_end.month - first.month + 1 if last_end >= first else 0
    return first, last_end.replace(day=1), max(n, 0)


def duty_table(receptions: pd.DataFrame, units: pd.DataFrame, date_from: dt.date, date_to: dt.date,
               rules: Mapping[str, DutyRule] = HEAD_DUTY) -> pd.DataFrame:
    """Each unit in force in the range against its head's minimum reception duty.

    Head days = distinct dates of receptions in dinh_ky/dot_xuat mode by the head in
    person (HEAD_DUTY_RECEIVERS). Assessed per complete week (Mon–Sun) or calendar month
    within the unit's time in force in the range: a period counts min(days, minimum), so
    extra days in one week do not make up for a missed week; shortfall = periods ×
    minimum − Σ min(days, minimum). Units without any reception record in their span
    are "Chưa có số liệu" (not reported, not judged); units with no complete period
    "Không đánh giá". Sorted: units that fell short first (largest shortfall first).
    """
    u = _unit_spans(units, date_from, date_to)
    u = u[u["level"].isin(list(rules))]
    rec = receptions.copy()
    rec["received"] = _ts(rec["received_date"])
    rec = rec[(rec["received"] >= _T(date_from)) & (rec["received"] <= _T(date_to))]
    sitting = rec["mode"].astype(str).isin(HEAD_DUTY_MODES)
    head = rec[sitting & rec["receiver"].astype(str).isin(HEAD_DUTY_RECEIVERS)]
    deputy = rec[sitting & rec["receiver"].astype(str).isin(["uy_quyen"])]
    # Any reception record of the unit in its span says the unit reported.
    rec_days = {k: g.drop_duplicates() for k, g in rec.groupby("unit_key")["received"]}
    empty = pd.Series([], dtype="datetime64[ns]")
    head_days = {k: g.drop_duplicates() for k, g in head.groupby("unit_key")["received"]}
    deputy_days = {k: g.drop_duplicates() for k, g in deputy.groupby("unit_key")["received"]}
    names = units.set_index("unit_key")["name"].to_dict()
    rows = []
    for r in u.itertuples(index=False):
        rule = rules[r.level]
        s, e = r.span_from, r.span_to
        mine = head_days.get(r.unit_key, empty)
        mine = mine[(mine >= s) & (mine <= e)]
        dep = deputy_days.get(r.unit_key, empty)
        dep = dep[(dep >= s) & (dep <= e)]
        days = rec_days.get(r.unit_key, empty)
        reported = bool(((days >= s) & (days <= e)).any())
        first, last, n = _complete_periods(s, e, rule.per)
        if rule.per == "week":
            period_of = mine - pd.to_timedelta(mine.dt.weekday, unit="D")
        else:
            period_of = mine.dt.to_period("M").dt.start_time
        period_of = period_of[(period_of >= first) & (period_of <= last)]
        per_period = period_of.value_counts()
        capped = int(per_period.clip(upper=rule.min_days).sum())
        short_periods = n - int((per_period >= rule.min_days).sum())
        shortfall = n * rule.min_days - capped
        if not reported:
            status = STATUS_NO_DATA
        elif n == 0:
            status = STATUS_NOT_ASSESSED
        else:
            status = STATUS_OK if shortfall == 0 else STATUS_SHORT
        rows.append({
            "unit_key": r.unit_key, "unit_code": r.unit_code, "name": r.name, "level": r.level,
            "parent_name": names.get(r.parent_key) if isinstance(r.parent_key, str) else None,
            "span_from": s.date(), "span_to": e.date(), "per": rule.per, "periods": n,
            "min_days": rule.min_days, "required_days": n * rule.min_days, "head_days": int(len(mine)),
            "shortfall": shortfall if reported else None,
            "periods_short": short_periods if reported else None,
            "deputy_days": int(len(dep)),
            # Share of the required days held, period by period (the national reports' "tỷ lệ so với quy định").
            "compliance": ((n * rule.min_days - shortfall) / (n * rule.min_days) * 100
                           if reported and n else None),
            "status": status,
        })
    out = pd.DataFrame(rows, columns=["unit_key", "unit_code", "name", "level", "parent_name", "span_from",
                                      "span_to", "per", "periods", "min_days", "required_days", "head_days",
                                      "shortfall", "periods_short", "deputy_days", "compliance", "status"])
    order = {STATUS_SHORT: 0, STATUS_OK: 1, STATUS_NOT_ASSESSED: 2, STATUS_NO_DATA: 3}
    out["_o"] = out["status"].map(order)
    out["_s"] = -pd.to_numeric(out["shortfall"], errors="coerce").fillna(0)
    out["_l"] = out["level"].map(LEVEL_ORDER)
    out = out.sort_values(["_o", "_s", "_l", "unit_code", "span_from"], kind="stable")
    return out.drop(columns=["_o", "_s", "_l"]).reset_index(drop=True)


def duty_by_level(duty: pd.DataFrame) -> pd.DataFrame:
    """Per level: units, assessed, fell short (Không đạt), met (Đạt), without data."""
    rows = []
    for level in LEVELS:
        d = duty[duty["level"] == level]
        if d.empty:
            continue
        short, ok = int((d["status"] == STATUS_SHORT).sum()), int((d["status"] == STATUS_OK).sum())
        rows.append({"level": level, "units": len(d), "assessed": short + ok, "short": short, "ok": ok,
                     "no_data": int((d["status"] == STATUS_NO_DATA).sum()),
                     "not_assessed": int((d["status"] == STATUS_NOT_ASSESSED).sum())})
    return pd.DataFrame(rows, columns=["level", "units", "assessed", "short", "ok", "no_data", "not_assessed"])


# ----------------------------------------------------------------------------- vượt cấp
def lower_cases(cases: pd.DataFrame, petitions: pd.DataFrame,
                receptions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cases known at each unit with the citizen who raised them, for :func:`skipped_levels`.

    A case in fact_case gives its unit, kind and dates (opened_date, resolved_date); its
    citizen comes from the petitions or receptions on the same case_key. A petition whose
    case is not in fact_case (commune registers keep no case table) stands for its case:
    opened on its received_date, resolved on its resolved_date. Rows without a citizen
    pseudonym (denouncers) cannot be matched and are left out.
    Columns: citizen_pseudonym, unit_key, petition_kind, opened_date, resolved_date.
    """
    cols = ["citizen_pseudonym", "unit_key", "petition_kind", "opened_date", "resolved_date"]
    parts = []
    links = [petitions[["case_key", "citizen_pseudonym"]]] if len(petitions) else []
    if receptions is not None and len(receptions):
        links.append(receptions[["case_key", "citizen_pseudonym"]])
    case_keys: set = set()
    if len(cases) and links:
        link = pd.concat(links).dropna().drop_duplicates()
        c = cases[["case_key", "unit_key", "petition_kind", "opened_date", "resolved_date"]].merge(
            link, on="case_key", how="inner")
        parts.append(c[cols])
        case_keys = set(cases["case_key"].dropna())
    # Cases with no case table (commune registers): a case is the records sharing its
    # case_key — opened on its first reception or petition, resolved on the resolution
    # date its petitions carry (open while none does).
    own = []
    if len(petitions):
        own.append(petitions[["case_key", "unit_key", "petition_kind", "received_date", "resolved_date",
                              "citizen_pseudonym"]])
    if receptions is not None and len(receptions):
        own.append(receptions[["case_key", "unit_key", "petition_kind", "received_date",
                               "citizen_pseudonym"]].assign(resolved_date=None))
    if own:
        recs = pd.concat(own, ignore_index=True)
        recs = recs[recs["case_key"].notna() & ~recs["case_key"].isin(case_keys)]
        recs = recs.assign(received_date=_ts(recs["received_date"]), resolved_date=_ts(recs["resolved_date"]))
        g = recs.groupby("case_key", sort=False)
        per_case = pd.DataFrame({
            "unit_key": g["unit_key"].first(), "petition_kind": g["petition_kind"].first(),
            "opened_date": g["received_date"].min(), "resolved_date": g["resolved_date"].min()})
        people = recs.dropna(subset=["citizen_pseudonym"])[["case_key", "citizen_pseudonym"]].drop_duplicates()
        per_case = per_case.reset_index().merge(people, on="case_key", how="inner")
        parts.append(per_case[cols])
        # a petition without a case key stands for its own case
        if len(petitions):
            lone = petitions[petitions["case_key"].isna()].dropna(subset=["citizen_pseudonym"])
            parts.append(lone.assign(opened_date=lone["received_date"])[cols])
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def skipped_levels(receptions: pd.DataFrame, cases_or_petitions: pd.DataFrame,
                   units: pd.DataFrame) -> pd.DataFrame:
    """Receptions that skipped levels (vượt cấp).

    A reception at a higher level — a district (huyen) or the province (tinh) — of a
    citizen (citizen_pseudonym) who on that date had an open case at a lower unit with
    the same petition_kind: for a district, a commune whose parent is that district;
    for the province, any district or commune. Open = opened on or before the date and
    not resolved on or before it (resolved_date missing or after the date).

    `receptions`: unit_key, received_date, citizen_pseudonym, petition_kind (reception_key
    if any); `cases_or_petitions`: citizen_pseudonym, unit_key, petition_kind,
    opened_date (or received_date), resolved_date (optional); `units`: unit_key, level,
    parent_key. One row per reception that skipped levels: reception_key (or the input
    index), unit_key, level, received_date, petition_kind, lower_unit_key (the lower
    unit of the earliest open case), lower_level, open_cases. No pseudonyms.
    """
    out_cols = ["reception_key", "unit_key", "level", "received_date", "petition_kind", "lower_unit_key",
                "lower_level", "open_cases"]
    level = units.set_index("unit_key")["level"]
    parent = units.set_index("unit_key")["parent_key"]
    rec = receptions.copy()
    rec["reception_key"] = rec["reception_key"] if "reception_key" in rec else rec.index
    rec["level"] = rec["unit_key"].map(level)
    rec = rec[rec["level"].isin(["huyen", "tinh"]) & rec["citizen_pseudonym"].notna()
              & rec["petition_kind"].notna()]
    low = cases_or_petitions.copy()
    if "opened_date" not in low:
        low["opened_date"] = low["received_date"]
    if "resolved_date" not in low:
        low["resolved_date"] = None
    low = low.dropna(subset=["citizen_pseudonym", "petition_kind"])
    low = low.assign(lower_unit_key=low["unit_key"], lower_level=low["unit_key"].map(level),
                     lower_parent=low["unit_key"].map(parent), opened=_ts(low["opened_date"]),
                     resolved=_ts(low["resolved_date"]))
    low = low[low["lower_level"].isin(["huyen", "xa"])]
    if rec.empty or low.empty:
        return pd.DataFrame(columns=out_cols)
    m = rec[["reception_key", "unit_key", "level", "received_date", "citizen_pseudonym", "petition_kind"]].merge(
        low[["citizen_pseudonym", "petition_kind", "lower_unit_key", "lower_level", "lower_parent", "opened",
             "resolved"]], on=["citizen_pseudonym", "petition_kind"], how="inner")
    day = _ts(m["received_date"])
    below = ((m["level"] == "tinh") & m["lower_level"].isin(["huyen", "xa"])) | (
        (m["level"] == "huyen") & (m["lower_level"] == "xa") & (m["lower_parent"] == m["unit_key"]))
    # open from the day it was opened until the day before it was resolved
    is_open = (m["opened"] <= day) & (m["resolved"].isna() | (m["resolved"] > day))
    m = m[below & is_open].sort_values(["reception_key", "opened", "lower_unit_key"], kind="stable")
    if m.empty:
        return pd.DataFrame(columns=out_cols)
    counts = m.groupby("reception_key", sort=False).size()
    first = m.drop_duplicates("reception_key").copy()
    first["open_cases"] = first["reception_key"].map(counts).astype(int)
    first = first.sort_values(["received_date", "unit_key", "reception_key"], kind="stable")
    return first[out_cols].reset_index(drop=True)


def skipped_by_year_level(skipped: pd.DataFrame, windows: list[Window], total: Window,
                          spans: Mapping[str, tuple[dt.date, dt.date | None]]) -> pd.DataFrame:
    """Vượt cấp receptions per window: by receiving level (None where the level did not
    exist) and by kind."""
    day = _ts(skipped["received_date"]) if len(skipped) else pd.Series(dtype="datetime64[ns]")
    rows = []
    for w in [*windows, total]:
        inside = skipped[(day >= _T(w.start)) & (day <= _T(w.end))] if len(skipped) else skipped
        row: dict[str, Any] = {"window": w.key, "label": w.label}
        for lv in ("huyen", "tinh"):
            first, last = spans.get(lv, (w.start, None))
            alive = not (w.end < first or (last is not None and w.start > last))
            row[lv] = int((inside["level"] == lv).sum()) if alive else None
        row["total"] = len(inside)
        for code, _ in KINDS:
            row[code] = int((inside["petition_kind"] == code).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=["window", "label", "huyen", "tinh", "total", "KN", "TC", "KNPA"])


def skipped_by_unit(skipped: pd.DataFrame, receptions: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Vượt cấp receptions per receiving unit, with the unit's receptions in the range."""
    cols = ["unit_key", "unit_code", "name", "level", "skipped", "receptions", "share"]
    if skipped.empty:
        return pd.DataFrame(columns=cols)
    u = units.set_index("unit_key")
    n = skipped.groupby("unit_key").size().rename("skipped").reset_index()
    n["unit_code"] = n["unit_key"].map(u["unit_code"])
    n["name"] = n["unit_key"].map(u["name"])
    n["level"] = n["unit_key"].map(u["level"])
    n["receptions"] = n["unit_key"].map(receptions.groupby("unit_key").size()).fillna(0).astype(int)
    n["share"] = [s / r * 100 if r else None for s, r in zip(n["skipped"], n["receptions"])]
    return n.sort_values(["skipped", "unit_code"], ascending=[False, True], kind="stable")[cols].reset_index(drop=True)


# ----------------------------------------------------------------------------- all tables
@dataclass
class SummaryTables:
    """Everything the workbook shows, as data."""

    date_from: dt.date
    date_to: dt.date
    province: dict[str, str]            # unit_key, unit_code, name, unit_type
    windows: list[Window]
    total: Window
    whole: pd.DataFrame                 # indicators × window keys, all levels
    own: pd.DataFrame                   # the province's own level
    levels: dict[str, pd.DataFrame]     # level → indicators × window keys (None = level not in force)
    changes: dict[str, pd.DataFrame]    # "whole" | "own" | level → change_table
    spans: dict[str, tuple[dt.date, dt.date | None]]
    duty: pd.DataFrame
    duty_levels: pd.DataFrame
    skipped: pd.DataFrame
    skipped_years: pd.DataFrame
    skipped_units: pd.DataFrame
    paragraphs: list[str]
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return "Thành phố" if self.province["unit_type"].lower().startswith("thành phố") else "Tỉnh"


def compute_summary(data: SummaryData) -> SummaryTables:
    """Every table of the summary from the loaded frames."""
    units = data.units
    prov_rows = units[units["level"] == "tinh"]
    if prov_rows.empty:
        raise ValueError("the units frame has no province (level tinh)")
    prov = prov_rows.iloc[0]
    level_of = units.set_index("unit_key")["level"].to_dict()
    rec = _prepare_receptions(data.receptions, level_of)
    pet = _prepare_petitions(data.petitions, data.cases, level_of)
    windows, total = year_windows(data.date_from, data.date_to), total_window(data.date_from, data.date_to)
    spans = level_spans(units)
    whole = indicator_table(rec, pet, windows, total)
    levels = {lv: indicator_table(rec[rec["level"] == lv], pet[pet["level"] == lv], windows, total,
                                  active=spans.get(lv)) for lv in LEVELS}
    own = levels["tinh"]
    changes = {"whole": change_table(whole, windows), "own": change_table(own, windows)}
    changes.update({lv: change_table(t, windows) for lv, t in levels.items()})

    duty = duty_table(data.receptions, units, data.date_from, data.date_to)
    duty_levels = duty_by_level(duty)

    in_range = rec[(rec["received"] >= _T(data.date_from)) & (rec["received"] <= _T(data.date_to))]
    cases_low = lower_cases(data.cases, data.petitions, data.receptions)
    skipped = skipped_levels(in_range.drop(columns=["received", "level"]), cases_low, units)
    skipped_years = skipped_by_year_level(skipped, windows, total, spans)
    skipped_units = skipped_by_unit(skipped, in_range, units)

    province = {"unit_key": str(prov["unit_key"]), "unit_code": str(prov["unit_code"]),
                "name": str(prov["name"]), "unit_type": str(prov["unit_type"])}
    notes = {
        "petitions_without_accepted_date": int((pet["is_competent"] & pet["accepted"].isna()
                                                & pet["resolved"].isna()).sum()),
        "unscheduled_own": bool(((in_range["level"] == "tinh") & (in_range["mode"].astype(str) == "dot_xuat")
                                 & in_range["receiver"].astype(str).isin(LEADER_RECEIVERS)).any()),
    }
    tables = SummaryTables(data.date_from, data.date_to, province, windows, total, whole, own, levels,
                           changes, spans, duty, duty_levels, skipped, skipped_years, skipped_units, [], notes)
    tables.paragraphs = narrative.paragraphs(narrative_facts(tables))
    return tables


def narrative_facts(t: SummaryTables) -> dict[str, Any]:
    """The numbers the narrative needs, as plain values."""
    own = {k: t.own.at[k, "total"] for k in INDICATOR_KEYS}
    whole = {k: t.whole.at[k, "total"] for k in INDICATOR_KEYS}
    full = [w for w in t.windows if not w.partial]
    comparison = None
    if len(full) >= 2 and full[-1].year == full[-2].year + 1:
        cur, prev = full[-1], full[-2]
        comparison = (cur.year, prev.year, {k: t.whole.at[k, cur.key] for k in INDICATOR_KEYS},
                      {k: t.whole.at[k, prev.key] for k in INDICATOR_KEYS})
    duty = [{"level_name": LEVEL_NAMES[r.level], "assessed": r.assessed, "short": r.short, "no_data": r.no_data}
            for r in t.duty_levels.itertuples()]
    total_row = t.skipped_years[t.skipped_years["window"] == "total"].iloc[0]
    skipped_levels_named = [(LEVEL_NAMES[lv], _number(total_row[lv]) or 0) for lv in ("huyen", "tinh")]
    compared = [k for k in INDICATOR_KEYS if k != "gq_tyle"]
    return {
        "start": t.date_from, "end": t.date_to, "subject": t.subject,
        "leaders": f"lãnh đạo UBND {t.subject}", "own": own, "whole": whole,
        "lower_levels_have_data": any(own[k] != whole[k] for k in compared),
        "unscheduled": t.notes.get("unscheduled_own", False), "comparison": comparison,
        "duty": duty, "legal_basis": DUTY_LAW,
        "skipped_total": int(total_row["total"]), "skipped_by_level": skipped_levels_named,
    }


# ----------------------------------------------------------------------------- workbook
@dataclass
class SummaryResult:
    path: Path
    sha256: str
    tables: SummaryTables


_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_RIGHT = Alignment(horizontal="right", vertical="center")


def _put(ws, row: int, col: int, value: Any, *, size: float = 12, bold: bool = False, italic: bool = False,
         align: Alignment | None = None, border: bool = False, fmt: str | None = None,
         merge_to: tuple[int, int] | None = None, underline: str | None = None):
    """reports.render.put_cell with the font given by its parts."""
    return put_cell(ws, row, col, value, font=cell_font(size, bold, italic, underline), align=align,
                    border=border, number_format=fmt, merge_to=merge_to)


def _number(value: Any) -> Any:
    """A figure as a cell value: a whole number as int, else float; missing → None
    (an empty cell, never 0)."""
    if _missing(value):
        return None
    value = float(value)
    return int(value) if value.is_integer() else value


def _page(ws, orientation: str = "landscape") -> None:
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _heading(ws, t: SummaryTables, last_col: int, title: str) -> int:
    """The official header block and title; returns the next free row."""
    left_to = min(3, last_col)
    right_from = max(left_to + 1, last_col - 5)
    _put(ws, 1, 1, f"UBND {t.province['name'].upper()}", bold=True, align=_CENTER, merge_to=(1, left_to))
    _put(ws, 1, right_from, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, align=_CENTER,
         merge_to=(1, last_col))
    _put(ws, 2, right_from, "Độc lập - Tự do - Hạnh phúc", bold=True, underline="single", align=_CENTER,
         merge_to=(2, last_col))
    _put(ws, 4, 1, title, size=14, bold=True, align=_CENTER, merge_to=(4, last_col))
    ws.row_dimensions[4].height = 36
    _put(ws, 5, 1, f"Số liệu tính từ ngày {vn_date(t.date_from)} đến ngày {vn_date(t.date_to)}",
         italic=True, align=_CENTER, merge_to=(5, last_col))
    return 7


def _indicator_block(ws, top: int, t: SummaryTables, sections: list[tuple[str, pd.DataFrame, pd.DataFrame]],
                     with_change: bool = True) -> tuple[int, dict[tuple[int, str], int], tuple[int, int], int]:
    """Header (3 rows) and, per section, its title row and indicator rows.

    Returns (next row, {(section index, indicator key): row}, (first, last) column of
    the year windows, header row holding the window labels)."""
    n = len(t.windows)
    c_year0 = 4
    c_total = c_year0 + n
    c_change0 = c_total + 1
    pairs = t.windows[1:] if with_change else []
    last = c_total + 2 * len(pairs)
    h = top
    hb = dict(size=11, bold=True, align=_CENTER, border=True)
    _put(ws, h, 1, "STT", merge_to=(h + 2, 1), **hb)
    _put(ws, h, 2, "Chỉ tiêu", merge_to=(h + 2, 2), **hb)
    _put(ws, h, 3, "Đơn vị tính", merge_to=(h + 2, 3), **hb)
    for j, w in enumerate(t.windows):
        _put(ws, h, c_year0 + j, w.label, merge_to=(h + 2, c_year0 + j), **hb)
    _put(ws, h, c_total, f"Tổng cộng ({t.date_from:%d/%m/%Y}–{t.date_to:%d/%m/%Y})", merge_to=(h + 2, c_total), **hb)
    if pairs:
        _put(ws, h, c_change0, "Tăng (+), giảm (-) so với năm trước", merge_to=(h, last), **hb)
        for j, (prev, cur) in enumerate(zip(t.windows, t.windows[1:])):
            c = c_change0 + 2 * j
            _put(ws, h + 1, c, f"{cur.year} so với {prev.year}", merge_to=(h + 1, c + 1), **hb)
            _put(ws, h + 2, c, "Số lượng", **hb)
            _put(ws, h + 2, c + 1, "Tỷ lệ (%)", **hb)
    ws.row_dimensions[h].height = 32
    ws.row_dimensions[h + 1].height = 30
    r = h + 3
    rows: dict[tuple[int, str], int] = {}
    for si, (title, table, change) in enumerate(sections):
        _put(ws, r, 1, title, bold=True, align=_LEFT, border=True, merge_to=(r, last))
        r += 1
        group, gi, ii = None, 0, 0
        for ind in INDICATORS:
            if ind.group != group:
                group, gi, ii = ind.group, gi + 1, 0
                _put(ws, r, 1, str(gi), bold=True, align=_CENTER, border=True)
                _put(ws, r, 2, group, bold=True, align=_LEFT, border=True, merge_to=(r, last))
                r += 1
            ii += 1
            fmt = RATE_FORMAT if ind.is_rate else NUMBER_FORMAT
            _put(ws, r, 1, f"{gi}.{ii}", align=_CENTER, border=True)
            _put(ws, r, 2, ind.label, align=_LEFT, border=True)
            _put(ws, r, 3, ind.unit, align=_CENTER, border=True)
            for j, w in enumerate([*t.windows, t.total]):
                _put(ws, r, c_year0 + j, _number(table.at[ind.key, w.key]), align=_RIGHT, border=True, fmt=fmt,
                     bold=w.key == "total")
            for j, (_, cur) in enumerate(zip(t.windows, t.windows[1:])):
                if not pairs:
                    break
                c = c_change0 + 2 * j
                a, p = change.at[ind.key, (cur.key, "abs")], change.at[ind.key, (cur.key, "pct")]
                _put(ws, r, c, _number(a), align=_RIGHT, border=True,
                     fmt=CHANGE_RATE_FORMAT if ind.is_rate else CHANGE_FORMAT)
                _put(ws, r, c + 1, _number(p), align=_RIGHT, border=True, fmt=CHANGE_RATE_FORMAT)
            rows[(si, ind.key)] = r
            r += 1
    widths = {1: 6, 2: 46, 3: 9}
    for c in range(c_year0, last + 1):
        widths[c] = 13 if c <= c_total else 10
    widths[c_total] = 15
    for c, wdt in widths.items():
        ws.column_dimensions[get_column_letter(c)].width = wdt
    return r, rows, (c_year0, c_year0 + n - 1), h


def _note(ws, row: int, last_col: int, text: str) -> int:
    _put(ws, row, 1, text, size=11, italic=True, align=Alignment(wrap_text=True, vertical="top"),
         merge_to=(row, last_col))
    ws.row_dimensions[row].height = 15 * max(1, math.ceil(len(text) / (last_col * 11))) + 4
    return row + 1


def _last_col(t: SummaryTables) -> int:
    return 3 + len(t.windows) + 1 + 2 * (len(t.windows) - 1)


def _totals_sheet(wb: Workbook, t: SummaryTables):
    ws = wb.active
    ws.title = SHEET_TOTALS
    last = _last_col(t)
    r = _heading(ws, t, last, TITLE)
    name = t.province["name"]
    sections = [(f"I. TOÀN {t.subject.upper()} (CẤP TỈNH, CẤP HUYỆN, CẤP XÃ)", t.whole, t.changes["whole"]),
                (f"II. CẤP TỈNH (UBND {name.upper()})", t.own, t.changes["own"])]
    r, rows, year_cols, label_row = _indicator_block(ws, r, t, sections)
    r += 1
    r = _note(ws, r, last, _window_note(t))
    ws.freeze_panes = f"D{label_row + 3}"
    ws.print_title_rows = f"{label_row}:{label_row + 2}"
    _page(ws)
    return ws, rows, year_cols, label_row


def _window_note(t: SummaryTables) -> str:
    partial = [w.label for w in t.windows if w.partial]
    text = ("Ghi chú: số liệu theo năm dương lịch, tính theo ngày tiếp, ngày nhận đơn và ngày giải quyết "
            "ghi trong hồ sơ.")
    if partial:
        text += (" Năm không đủ 12 tháng ghi rõ khoảng thời gian (" + "; ".join(partial)
                 + "), nên mức tăng, giảm so với năm trước của các năm này không so sánh được trọn năm.")
    text += (" Tình trạng giải quyết xác định tại ngày cuối của từng cột; tỷ lệ giải quyết = đã giải quyết ÷ "
             "phải giải quyết × 100; mức tăng, giảm của tỷ lệ tính bằng điểm phần trăm.")
    crossed = regime_switch_text(t.date_from, t.date_to)
    if crossed:
        text += " " + crossed
    return text


def regime_switch_text(date_from: dt.date, date_to: dt.date) -> str:
    """Where the range crosses a change of reporting regime (chế độ báo cáo), in words;
    "" when it does not. The summary's indicators are recomputed from the records with
    one definition, so the series stays comparable across the switch — the official
    forms on either side are not added together."""
    switches = regimes.switches_within(date_from, date_to)
    if not switches:
        return ""
    return ("Dãy số liệu đi qua ngày thay đổi chế độ báo cáo: "
            + "; ".join(f"{r.circular} có hiệu lực từ {vn_date(r.in_force_from)}" for r in switches)
            + ". Các chỉ tiêu ở đây được tính lại từ hồ sơ theo cùng một định nghĩa cho cả khoảng thời gian, "
              "không cộng các cột của các biểu mẫu khác nhau, nên so sánh được qua các năm; biểu mẫu chính thức "
              "của mỗi kỳ theo chế độ báo cáo áp dụng cho kỳ đó (ngày cuối của kỳ).")


def _levels_sheet(wb: Workbook, t: SummaryTables) -> None:
    ws = wb.create_sheet(SHEET_LEVELS)
    last = _last_col(t)
    r = _heading(ws, t, last, TITLE + " THEO CẤP")
    numerals = ("I", "II", "III")
    sections = []
    for i, lv in enumerate(LEVELS):
        first, end = t.spans.get(lv, (t.date_from, None))
        title = f"{numerals[i]}. {LEVEL_NAMES[lv].upper()}"
        if lv == "tinh":
            title += f" (UBND {t.province['name'].upper()})"
        if end is not None:
            title += f" (ĐẾN NGÀY {vn_date(end)})"
        sections.append((title, t.levels[lv], t.changes[lv]))
    r, _, _, label_row = _indicator_block(ws, r, t, sections)
    r += 1
    ended = [(lv, e) for lv, (_, e) in t.spans.items() if e is not None and e < t.date_to]
    text = _window_note(t)
    for lv, e in ended:
        text += (f" {LEVEL_NAMES[lv].capitalize()} chấm dứt hoạt động sau ngày {vn_date(e)}: các cột sau "
                 "thời điểm này để trống (không phải bằng 0); đơn cấp này còn tồn đọng sau ngày đó chỉ được tính "
                 "trong số liệu toàn " + t.subject.lower() + ".")
    _note(ws, r, last, text)
    ws.freeze_panes = f"D{label_row + 3}"
    ws.print_title_rows = f"{label_row}:{label_row + 2}"
    _page(ws)


def _series(ws, row: int, cols: tuple[int, int]) -> Series:
    values = Reference(ws, min_col=cols[0], max_col=cols[1], min_row=row, max_row=row)
    s = Series(values)
    s.tx = SeriesLabel(strRef=StrRef(f"{quote_sheetname(ws.title)}!$B${row}"))
    return s


def _charts_sheet(wb: Workbook, t: SummaryTables, data_ws, rows: dict, year_cols: tuple[int, int],
                  label_row: int) -> None:
    ws = wb.create_sheet(SHEET_CHARTS)
    _put(ws, 1, 1, f"BIỂU ĐỒ KẾT QUẢ CÔNG TÁC TIẾP CÔNG DÂN, TIẾP NHẬN VÀ GIẢI QUYẾT ĐƠN TOÀN {t.subject.upper()}",
         size=13, bold=True)
    _put(ws, 2, 1, f"Số liệu lấy từ trang \"{SHEET_TOTALS}\" (mục I), từ ngày {vn_date(t.date_from)} đến ngày "
                   f"{vn_date(t.date_to)}; năm không đủ 12 tháng ghi rõ khoảng thời gian.", size=11, italic=True)
    cats = Reference(data_ws, min_col=year_cols[0], max_col=year_cols[1], min_row=label_row, max_row=label_row)

    def bar(title: str, y_title: str, keys: list[str], stacked: bool = False) -> BarChart:
        ch = BarChart()
        ch.type = "col"
        ch.title = title
        ch.y_axis.title = y_title
        ch.x_axis.title = "Năm"
        if stacked:
            ch.grouping = "stacked"
            ch.overlap = 100
        for k in keys:
            ch.series.append(_series(data_ws, rows[(0, k)], year_cols))
        ch.set_categories(cats)
        ch.height, ch.width = 8.5, 17
        # openpyxl hides axes by default (delete=True); a chart for print needs them.
        ch.x_axis.delete = False
        ch.y_axis.delete = False
        return ch

    ws.add_chart(bar("Số lượt tiếp và số người được tiếp theo năm", "lượt / người",
                     ["tong_luot", "tong_nguoi"]), "A4")
    ws.add_chart(bar("Đơn tiếp nhận theo loại và theo năm", "đơn", ["don_kn", "don_tc", "don_knpa"],
                     stacked=True), "A23")
    line = LineChart()
    line.title = "Tỷ lệ giải quyết đơn thuộc thẩm quyền theo năm (%)"
    line.y_axis.title = "%"
    line.x_axis.title = "Năm"
    line.series.append(_series(data_ws, rows[(0, "gq_tyle")], year_cols))
    line.set_categories(cats)
    line.height, line.width = 8.5, 17
    line.x_axis.delete = False
    line.y_axis.delete = False
    ws.add_chart(line, "A42")
    _page(ws, "portrait")


def _duty_sheet(wb: Workbook, t: SummaryTables) -> None:
    ws = wb.create_sheet(SHEET_DUTY)
    headers = ["STT", "Mã đơn vị", "Đơn vị", "Cấp", "Trực thuộc", "Từ ngày", "Đến ngày", "Mức tối thiểu",
               "Số tuần/tháng đánh giá", "Số ngày tối thiểu", "Số ngày Chủ tịch trực tiếp tiếp",
               "Số ngày còn thiếu", "Số tuần/tháng không đạt", "Tỷ lệ thực hiện so với quy định (%)",
               "Số ngày ủy quyền tiếp (không tính)", "Kết quả"]
    last = len(headers)
    r = _heading(ws, t, last, "KẾT QUẢ THỰC HIỆN TRÁCH NHIỆM TIẾP CÔNG DÂN CỦA NGƯỜI ĐỨNG ĐẦU")
    rules = "; ".join(f"{LEVEL_NAMES[lv]}: {rule.wording} ({rule.legal_basis})" for lv, rule in HEAD_DUTY.items())
    r = _note(ws, r, last, f"Mức tối thiểu theo quy định: {rules}.")
    r = _note(ws, r, last, (
        "Cách tính: số ngày Chủ tịch UBND trực tiếp tiếp công dân = số ngày khác nhau có lượt tiếp định kỳ hoặc "
        "đột xuất do thủ trưởng trực tiếp tiếp. Ngày do người được ủy quyền tiếp KHÔNG được tính, vì luật quy định "
        "Chủ tịch UBND trực tiếp tiếp công dân; số ngày này chỉ ghi để tham khảo. Đánh giá theo từng tuần (thứ Hai "
        "đến Chủ nhật) đối với cấp xã, từng tháng dương lịch đối với cấp huyện, cấp tỉnh, nằm trọn trong thời gian "
        "đơn vị hoạt động trong kỳ báo cáo; số ngày tiếp vượt mức của tuần (tháng) này không bù cho tuần (tháng) "
        "khác. Đơn vị không có bản ghi tiếp công dân nào trong kỳ ghi \"Chưa có số liệu\" và không đánh giá."))
    r += 1
    _put(ws, r, 1, "1. Tổng hợp theo cấp", bold=True)
    r += 1
    # The level label spans the narrow first columns (STT, Mã đơn vị, Đơn vị).
    sub = ["Số đơn vị", "Số đơn vị được đánh giá", "Không đạt", "Đạt", "Chưa có số liệu", "Không đánh giá"]
    _put(ws, r, 1, "Cấp", size=11, bold=True, align=_CENTER, border=True, merge_to=(r, 3))
    for j, h in enumerate(sub, start=4):
        _put(ws, r, j, h, size=11, bold=True, align=_CENTER, border=True)
    ws.row_dimensions[r].height = 32
    r += 1
    for row in t.duty_levels.itertuples():
        _put(ws, r, 1, LEVEL_NAMES[row.level].capitalize(), align=_LEFT, border=True, merge_to=(r, 3))
        vals = [row.units, row.assessed, row.short, row.ok, row.no_data, row.not_assessed]
        for j, v in enumerate(vals, start=4):
            _put(ws, r, j, v, align=_RIGHT, border=True, fmt=NUMBER_FORMAT, bold=j == 6)
        r += 1
    r += 1
    _put(ws, r, 1, "2. Chi tiết theo đơn vị (đơn vị không đạt xếp trước)", bold=True)
    r += 1
    h0 = r
    for j, h in enumerate(headers, start=1):
        _put(ws, r, j, h, size=11, bold=True, align=_CENTER, border=True)
    ws.row_dimensions[r].height = 48
    r += 1
    for i, row in enumerate(t.duty.itertuples(), start=1):
        rule = HEAD_DUTY[row.level]
        vals = [i, row.unit_code, row.name, LEVEL_NAMES[row.level].capitalize(), row.parent_name, row.span_from,
                row.span_to, rule.short, row.periods, row.required_days, row.head_days, _number(row.shortfall),
                _number(row.periods_short), _number(row.compliance), row.deputy_days, row.status]
        for j, v in enumerate(vals, start=1):
            if isinstance(v, dt.date):
                _put(ws, r, j, v, align=_CENTER, border=True, fmt=DATE_FORMAT, size=11)
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and j != 2:
                _put(ws, r, j, v, align=_RIGHT, border=True, fmt=RATE_FORMAT if j == 14 else NUMBER_FORMAT,
                     size=11)
            else:
                _put(ws, r, j, v, align=_LEFT if j in (3, 5) else _CENTER, border=True, size=11,
                     bold=(j == last and v == STATUS_SHORT))
        r += 1
    for c, wdt in zip(range(1, last + 1), (6, 9, 30, 10, 24, 11, 11, 14, 11, 10, 12, 10, 11, 11, 12, 14)):
        ws.column_dimensions[get_column_letter(c)].width = wdt
    ws.freeze_panes = f"D{h0 + 1}"
    ws.auto_filter.ref = f"A{h0}:{get_column_letter(last)}{max(r - 1, h0)}"
    _page(ws)


def _skipped_sheet(wb: Workbook, t: SummaryTables) -> None:
    ws = wb.create_sheet(SHEET_SKIPPED)
    last = 8
    r = _heading(ws, t, last, "TÌNH HÌNH CÔNG DÂN KHIẾU NẠI, TỐ CÁO, KIẾN NGHỊ, PHẢN ÁNH VƯỢT CẤP")
    r = _note(ws, r, last, "Tiêu chí xác định: " + SKIPPED_RULE)
    r += 1
    _put(ws, r, 1, "1. Số lượt tiếp có dấu hiệu vượt cấp theo năm và theo cấp tiếp", bold=True)
    r += 1
    heads = ["Năm", "Cấp huyện tiếp (lượt)", "Cấp tỉnh tiếp (lượt)", "Tổng số (lượt)", "Khiếu nại",
             "Tố cáo", "Kiến nghị, phản ánh"]
    for j, h in enumerate(heads, start=1):
        _put(ws, r, j, h, size=11, bold=True, align=_CENTER, border=True)
    ws.row_dimensions[r].height = 32
    r += 1
    for row in t.skipped_years.itertuples():
        bold = row.window == "total"
        vals = [row.label, row.huyen, row.tinh, row.total, row.KN, row.TC, row.KNPA]
        for j, v in enumerate(vals, start=1):
            _put(ws, r, j, _number(v) if j > 1 else v, align=_RIGHT if j > 1 else _LEFT, border=True,
                 fmt=NUMBER_FORMAT if j > 1 else None, bold=bold)
        r += 1
    r = _note(ws, r, last, "Ô để trống: cấp huyện không còn hoạt động trong khoảng thời gian đó (không phải bằng 0).")
    r += 1
    _put(ws, r, 1, "2. Theo đơn vị tiếp công dân", bold=True)
    r += 1
    heads = ["STT", "Mã đơn vị", "Đơn vị tiếp", "Cấp", "Số lượt vượt cấp", "Tổng số lượt tiếp của đơn vị",
             "Tỷ lệ (%)"]
    for j, h in enumerate(heads, start=1):
        _put(ws, r, j, h, size=11, bold=True, align=_CENTER, border=True)
    ws.row_dimensions[r].height = 32
    r += 1
    if t.skipped_units.empty:
        _put(ws, r, 1, "Không có", italic=True, align=_CENTER, border=True, merge_to=(r, len(heads)))
        r += 1
    for i, row in enumerate(t.skipped_units.itertuples(), start=1):
        vals = [i, row.unit_code, row.name, LEVEL_NAMES.get(row.level, row.level).capitalize(), row.skipped,
                row.receptions, _number(row.share)]
        for j, v in enumerate(vals, start=1):
            fmt = RATE_FORMAT if j == 7 else (NUMBER_FORMAT if j in (1, 5, 6) else None)
            _put(ws, r, j, v, align=_RIGHT if fmt else _LEFT, border=True, fmt=fmt)
        r += 1
    for c, wdt in zip(range(1, last + 1), (22, 14, 34, 12, 14, 14, 12, 10)):
        ws.column_dimensions[get_column_letter(c)].width = wdt
    _page(ws)


def _text_sheet(wb: Workbook, t: SummaryTables) -> None:
    ws = wb.create_sheet(SHEET_TEXT)
    ws.column_dimensions["A"].width = 62       # one A4 portrait page wide in Times 13 (checked in LibreOffice)
    _put(ws, 1, 1, "NHẬN ĐỊNH, ĐÁNH GIÁ", size=14, bold=True, align=_CENTER)
    _put(ws, 2, 1, f"(Số liệu từ ngày {vn_date(t.date_from)} đến ngày {vn_date(t.date_to)})", italic=True,
         align=_CENTER)
    for i, text in enumerate(t.paragraphs, start=4):
        _put(ws, i, 1, text, size=13, align=Alignment(wrap_text=True, vertical="top", horizontal="justify"))
        ws.row_dimensions[i].height = 18 * math.ceil(len(text) / 58) + 6
    _page(ws, "portrait")


def _info_items(t: SummaryTables, data: SummaryData, meta: Mapping[str, Any]) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = [
        ("Báo cáo", TITLE.capitalize()),
        ("Đơn vị", f"UBND {t.province['name']} (mã {t.province['unit_code']})"),
        ("Từ ngày", vn_date(t.date_from)),
        ("Đến ngày", vn_date(t.date_to)),
        ("Các cột năm", "; ".join(f"{w.label} ({vn_date(w.start)}–{vn_date(w.end)})" for w in t.windows)),
    ]
    for k, v in (meta or {}).items():
        items.append((META_LABELS.get(str(k), str(k)), "" if v is None else str(v)))
    for name, c in sorted((data.source_counts or {}).items()):
        items.append((f"Nguồn: {name}", f"{format_vn(c.get('read', 0))} bản ghi được đọc "
                                        f"(trong kho: {format_vn(c.get('warehouse', 0))})"))
    items.append(("Phạm vi dữ liệu", "Chỉ các bản ghi đã công bố trong kho (bảng fact_*: bản ghi chính thức, đã "
                                     "chuẩn hóa, khử trùng lặp) thuộc các đơn vị của tỉnh/thành phố, có ngày đến hết "
                                     "ngày cuối kỳ; bản ghi trước kỳ chỉ dùng cho đơn kỳ trước chuyển sang và vụ việc "
                                     "mở trước kỳ."))
    for ind in INDICATORS:
        items.append((f"{ind.label} ({ind.unit})", ind.definition))
    items.append(("Lãnh đạo tiếp định kỳ, đột xuất",
                  "Hình thức tiếp định kỳ hoặc đột xuất, người tiếp là thủ trưởng hoặc người được ủy quyền "
                  "(01/TCD cột 13 + 22), như số liệu lãnh đạo tiếp định kỳ được công bố."))
    items.append(("Đơn đang giải quyết",
                  "Xác định theo ngày thụ lý (accepted_date). Số đơn phải giải quyết chưa có ngày thụ lý và chưa "
                  f"giải quyết: {format_vn(t.notes.get('petitions_without_accepted_date', 0))} (tính là chưa giải "
                  "quyết). Ngày giải quyết: của đơn; nếu đơn không ghi thì lấy ngày giải quyết của vụ việc "
                  "(fact_case) cùng mã vụ việc."))
    items.append(("Theo cấp", "Cấp của đơn vị ghi nhận bản ghi (theo dim_unit, hiệu lực tại ngày của bản ghi). "
                              + "; ".join(f"{LEVEL_NAMES[lv].capitalize()}: từ {vn_date(s)}"
                                          + (f" đến {vn_date(e)}" if e else "")
                                          for lv, (s, e) in sorted(t.spans.items(), key=lambda x: LEVELS.index(x[0])))
                              + "."))
    items.append(("Trách nhiệm tiếp công dân", "; ".join(
        f"{LEVEL_NAMES[lv]}: {rule.wording} ({rule.legal_basis})" for lv, rule in HEAD_DUTY.items())
        + ". Chỉ tính ngày Chủ tịch UBND trực tiếp tiếp (không tính ủy quyền)."))
    items.append(("Vượt cấp", SKIPPED_RULE))
    switch_text = regime_switch_text(t.date_from, t.date_to)
    items.append(("Chế độ báo cáo", "; ".join(
        f"{r.circular}: kỳ có ngày cuối từ {vn_date(r.in_force_from)}"
        for r in regimes.overlapping(t.date_from, t.date_to)) + (f". {switch_text}" if switch_text else "")))
    items.append(("Dữ liệu cá nhân", "Báo cáo không chứa họ tên, số định danh, địa chỉ, số điện thoại hay mã giả "
                                     "danh của công dân."))
    return items


def build_summary(data: SummaryData, path: str | Path, meta: Mapping[str, Any] | None = None) -> SummaryResult:
    """Compute and write the summary workbook (atomically, deterministic bytes: the
    package timestamps come from ``meta['generated_at']`` or the range end)."""
    meta = dict(meta or {})
    t = compute_summary(data)
    wb = Workbook()
    data_ws, rows, year_cols, label_row = _totals_sheet(wb, t)
    _levels_sheet(wb, t)
    _charts_sheet(wb, t, data_ws, rows, year_cols, label_row)
    _duty_sheet(wb, t)
    _skipped_sheet(wb, t)
    _text_sheet(wb, t)
    info_sheet(wb, _info_items(t, data, meta), title="THÔNG TIN BÁO CÁO TỔNG HỢP", name=SHEET_INFO)
    wb.properties.creator = "tcd-reporting"
    wb.properties.title = f"{TITLE.capitalize()} – từ {vn_date(t.date_from)} đến {vn_date(t.date_to)}"
    stamp = as_datetime(meta.get("generated_at")) or dt.datetime.combine(t.date_to, dt.time())
    path = Path(path)
    digest = save_workbook(wb, path, stamp)
    return SummaryResult(path, digest, t)
