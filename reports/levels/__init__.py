"""Report scopes at every level, their rows, and the two views across the 2025 reform.

A **scope** (:class:`Scope`) is one report to produce for a window:

- ``own`` report of a unit (commune, district, city): one row for the records the unit
  itself recorded, and the total row;
- ``consolidated`` report of a district: its communes as rows, the district's own row,
  the total; of the city: the districts (each including its communes) in force in the
  window and/or the 2025 communes, the city's own row, the total. Units are shown *as
  recorded*: a record counts under the unit it was recorded by (``unit_key``, the unit
  version valid on its date) and that unit's parent chain. A unit not in force at any
  time in the window is not a row (no district row after 30/06/2025); a unit in force
  for part of the window says so in its note;
- ``consolidated`` report of the country (level ``quoc_gia``; a national deployment,
  whose unit table holds several provinces under the national row,
  warehouse.units.national_unit_frame): the provinces in force in the window as rows,
  by code, each labelled with its name; no own row (the national level records
  nothing); the total. Issued by "Thanh tra Chính phủ" (:data:`NATIONAL_ISSUER`). Every
  unit of a province's territory — legacy district or commune, 2025 commune, the
  province itself, in force in the window or not — goes to the province's row: a
  province holds its territory's whole history, so no crosswalk is needed, and each
  province row equals the total of the province's consolidated report. Every record
  must be placed (a unit not in the table is an error here);
- ``remapped`` city view (for multi-year ranges): today's communes as rows. Records of
  a legacy commune go to its successor through the crosswalk (dim_unit_crosswalk,
  warehouse.units.crosswalk_frame): exactly where the old commune went whole into one
  new commune, as an *estimate* where it was split — all its records go to the
  package's default successor, and the rows concerned are noted "Ước tính". The
  districts' own records go on one row "Cấp huyện (đến 30/06/2025)"; then the city's
  own row and the total.

Counting is per recording unit. The forms are additive: a consolidated row is the sum
of what its units report, so a distinct count (cases, sittings) counts a key once per
unit that recorded it (:func:`count_per_unit`), never once across units that happen to
share a row. Hence a district's row in the city report equals the total of the
district's consolidated report, and the remapped city view has the same total row as
the as-recorded one for any window (each unit's records move as a block).

Records dated before the window (a form's population may carry them over, see
``FormDef.select``) are placed like the others (``preselected=True``). When such a
record's unit is no longer in force in the window (a petition pending at a legacy
commune on 30/06/2025 and reported on after the reform), it goes to the unit's
successor (default successor where split, noted "Ước tính"), and a legacy district's
goes to the row "Cấp huyện (đến 30/06/2025)" of the city report; the rows say so.

Which rows did not report (:func:`row_status_for`) comes from dq_completeness for any
scope: a row's reporting units are the units whose records it shows (a province row of
the national report: every unit of the province in force in the window).

In a national table, :func:`report_scopes` lists the national report first, then each
province's scopes (as for a province deployment), provinces by code; a province's
consolidated and remapped reports there claim only the records of its own territory.

Modules, one job each: :mod:`~reports.levels.vocabulary` (scope kinds and levels, the
districts' row, the notes and view texts, row labels), :mod:`~reports.levels.units` (the
unit table for walking the hierarchy), :mod:`~reports.levels.scopes` (:class:`Scope`,
:func:`report_scopes`), :mod:`~reports.levels.layout` (a scope's static rows and where
each unit's records go), :mod:`~reports.levels.rows` (:func:`build_rows`),
:mod:`~reports.levels.status` (:func:`row_status_for`), :mod:`~reports.levels.counting`
(:func:`count_per_unit`), :mod:`~reports.levels.sources` (:func:`source_inputs`) and
:mod:`~reports.levels.report` (:func:`scope_report`, :func:`city_report`). The names in
``__all__`` are the public surface; import them from here.
"""
from core.levels import LEVELS, NATIONAL_LEVEL, REPORT_LEVELS
from reports.levels.counting import count_per_unit
from reports.levels.report import (
    ReportResult,
    ScopeItem,
    build_rows_for_city,
    city_report,
    scope_report,
    scope_reports,
    select_records,
)
from reports.levels.rows import RecordsByUnit, UnplacedRecordsError, build_rows
from reports.levels.scopes import Scope, report_scopes, scope_for
from reports.levels.sources import source_inputs
from reports.levels.status import row_status_for
from reports.levels.units import Units
from reports.levels.vocabulary import (
    AS_RECORDED_VIEW_TEXT,
    CARRIED_NOTE,
    DISTRICTS_ROW_ID,
    ESTIMATE_META_KEY,
    ESTIMATE_NOTE,
    KINDS,
    NATIONAL_ISSUER,
    REMAPPED_VIEW_TEXT,
    VIEW_META_KEY,
    own_row_label,
    unit_row_label,
)

__all__ = [
    "KINDS",
    "LEVELS",
    "REPORT_LEVELS",
    "NATIONAL_LEVEL",
    "NATIONAL_ISSUER",
    "DISTRICTS_ROW_ID",
    "ESTIMATE_NOTE",
    "CARRIED_NOTE",
    "REMAPPED_VIEW_TEXT",
    "AS_RECORDED_VIEW_TEXT",
    "VIEW_META_KEY",
    "ESTIMATE_META_KEY",
    "UnplacedRecordsError",
    "own_row_label",
    "unit_row_label",
    "Scope",
    "scope_for",
    "report_scopes",
    "build_rows",
    "RecordsByUnit",
    "Units",
    "row_status_for",
    "count_per_unit",
    "source_inputs",
    "ReportResult",
    "select_records",
    "scope_report",
    "scope_reports",
    "ScopeItem",
    "build_rows_for_city",
    "city_report",
]
