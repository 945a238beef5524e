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
package: no output frame carries them.

Modules, one job each: :mod:`~reports.summary.rules` (levels, duty, indicators,
sheet names), :mod:`~reports.summary.data` (range, windows, the facts read),
:mod:`~reports.summary.indicators` (figures by window and level),
:mod:`~reports.summary.duty` (the heads' reception duty), :mod:`~reports.summary.skip_level`
(vượt cấp), :mod:`~reports.summary.tables` (:func:`compute_summary`) and
:mod:`~reports.summary.workbook` (:func:`build_summary`). The names below are the public
surface; import them from here.
"""
from core.levels import LEVEL_NAMES, LEVELS
from reports.summary.data import SummaryData, Window, default_range, summary_frames, total_window, year_windows
from reports.summary.duty import duty_by_level, duty_table
from reports.summary.indicators import (
    change_table,
    figures,
    indicator_table,
    level_spans,
    petition_figures,
    reception_figures,
)
from reports.summary.rules import (
    CHANGE_FORMAT,
    CHANGE_RATE_FORMAT,
    DATE_FORMAT,
    DUTY_LAW,
    HEAD_DUTY,
    HEAD_DUTY_MODES,
    HEAD_DUTY_RECEIVERS,
    INDICATOR_KEYS,
    INDICATORS,
    KINDS,
    LEADER_MODES,
    LEADER_RECEIVERS,
    RATE_FORMAT,
    REGULAR_MODES,
    SHEET_CHARTS,
    SHEET_DUTY,
    SHEET_INFO,
    SHEET_LEVELS,
    SHEET_SKIPPED,
    SHEET_TEXT,
    SHEET_TOTALS,
    SKIPPED_RULE,
    STATUS_NO_DATA,
    STATUS_NOT_ASSESSED,
    STATUS_OK,
    STATUS_SHORT,
    TITLE,
    DutyRule,
    Indicator,
)
from reports.summary.skip_level import lower_cases, skipped_by_unit, skipped_by_year_level, skipped_levels
from reports.summary.tables import SummaryTables, compute_summary, narrative_facts
from reports.summary.workbook import SummaryResult, build_summary, regime_switch_text

__all__ = [
    "LEVELS",
    "LEVEL_NAMES",
    "REGULAR_MODES",
    "LEADER_MODES",
    "LEADER_RECEIVERS",
    "KINDS",
    "DutyRule",
    "DUTY_LAW",
    "HEAD_DUTY",
    "HEAD_DUTY_RECEIVERS",
    "HEAD_DUTY_MODES",
    "STATUS_SHORT",
    "STATUS_OK",
    "STATUS_NO_DATA",
    "STATUS_NOT_ASSESSED",
    "Indicator",
    "INDICATORS",
    "INDICATOR_KEYS",
    "SHEET_TOTALS",
    "SHEET_LEVELS",
    "SHEET_CHARTS",
    "SHEET_DUTY",
    "SHEET_SKIPPED",
    "SHEET_TEXT",
    "SHEET_INFO",
    "TITLE",
    "RATE_FORMAT",
    "CHANGE_FORMAT",
    "CHANGE_RATE_FORMAT",
    "DATE_FORMAT",
    "SKIPPED_RULE",
    "default_range",
    "Window",
    "year_windows",
    "total_window",
    "SummaryData",
    "summary_frames",
    "reception_figures",
    "petition_figures",
    "figures",
    "indicator_table",
    "change_table",
    "level_spans",
    "duty_table",
    "duty_by_level",
    "lower_cases",
    "skipped_levels",
    "skipped_by_year_level",
    "skipped_by_unit",
    "SummaryTables",
    "compute_summary",
    "narrative_facts",
    "SummaryResult",
    "regime_switch_text",
    "build_summary",
]
