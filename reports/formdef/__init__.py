"""Report forms as data: load a form definition (YAML) and compute its table.

A form definition (``reports/forms/*.yaml``) describes one official summary form: its
code and title, which records it reads for a window, the header tree, how every column
is computed from the records of the canonical model, and the check identities.
Nothing here is specific to one form; a new form or a new circular's version is a new
YAML file.

YAML schema (``schema: 1``)::

    form: "01/TCD"                 # form code
    version: TT02_2021             # definition version (config `forms:` points here)
    circular: "Thông tư 02/2021/TT-TTCP"
    code_label: "Biểu số 01/TCD"   # printed at the top right
    title: "TỔNG HỢP ..."          # title row
    date_line: "Số liệu tính từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"
    annex_line: "(Kèm theo Báo cáo số:…)"   # optional, printed under the date line
    note_line: "22. Ghi chú:"      # optional: the numbered note line under the table
    guide: ["Hướng dẫn cách ghi biểu:", "- …"]   # optional: lines printed under it
    source: fact_reception         # table the records come from
    date_column: received_date     # the record's date (default population, case order)
    population: <filter>           # records the form reads for a window (see below)
    unit_header: "Đơn vị"          # first column header; unit_width: its width
    ms_label: "MS"                 # first cell of the column-number row
    total_label: "Tổng cộng"
    semantics: |                   # counting rules in words (shown on the info sheet)
    filters: {name: <filter>}      # named filters, used by name anywhere a filter goes
    header:                        # tree; groups have `children`, leaves have `ms`
      - {ms: 1, text: ..., ms_text: "1=4+13+22", width: 8, number_format: "#,##0",
         compute: {...}}
      - {text: ..., children: [...], row_span: 1}   # header rows the group text takes
    cases: {case_column, visit_column, first_value, order_by, record_key}
    checks: ["1 = 4 + 13 + 22", "10 + 11 <= 6 + 7", "9 = 11..13 = 14..17",
             {rule: "8 <= 4", instruction: "..."}]
    total_is_sum_of_rows: true

Filters (``filters:``, a column's ``filter`` / ``where``, ``population``). A filter is

- a filter name (``thuong_xuyen``);
- a list of filters, all of which must hold;
- a mapping, all of whose entries must hold. An entry is either a logical key —
  ``any_of: [filter, …]`` (at least one holds), ``all_of: [filter, …]``, ``not: filter``
  — or a column condition:

  - ``column: value`` or ``column: [values]`` — the value is one of them;
  - ``column: {op: argument, …}`` — every condition holds; ``op`` is
    ``in: [values]``, ``not_in: [values]``, ``is_null: true|false``,
    ``not_null: true|false``, or a date comparison ``before``, ``on_or_before``,
    ``after``, ``on_or_after`` (argument: a bound) or ``within`` (argument:
    ``window``, or ``[bound, bound]``, both inclusive). A bound is ``start`` or ``end``
    of the report window, or a fixed ISO date (``"2024-01-20"``).

  NULL never equals a value and never compares as a date, so ``in`` and every date
  comparison are false on NULL (a value list cannot hold null: use ``is_null``), and
  ``not_in`` is true on it; ``not`` is the exact complement (a record not matching the
  inner filter, for whatever reason, matches).
  A filter that uses ``start``, ``end`` or ``window`` is window-relative: it needs the
  report's period. Examples (docs/report-set.md §1: a petition's state on a day)::

    carried_over:   {received_date: {before: start}}          # kỳ trước chuyển sang
    processed:      {processed_date: {on_or_before: end}}      # đã xử lý at the end
    resolved:       {resolved_date: {on_or_before: end}}
    in_progress:    [{not: resolved}, {accepted_date: {on_or_before: end}}]
    xld_population:
      any_of:
        - {received_date: {within: window}}
        - {received_date: {before: start}, not: {processed_date: {before: start}}}

``population`` — the records a form reads for a window (default: ``date_column``
within the window). :meth:`FormDef.select` applies it; :func:`compute` with a
``period`` refuses records outside it (a caller that forgot to select would otherwise
print wrong numbers). :func:`compute` needs the period when the form has
window-relative columns or a window-relative ``population``
(:class:`PeriodRequiredError` otherwise); a form with neither (01/TCD) also works
without it, on records the caller already cut to the window.

Column computations (``compute``), each with an optional ``filter``:

- ``{measure: count_records}`` — number of records;
- ``{measure: sum, column: c, per_case: true}`` — as below, each case once: only the
  case's representative record (its latest among all the report's records of the row, by
  ``cases.order_by`` — the same record for every column; a record without a case is its
  own case) adds its value, if it passes the column's filter. For the
  figures of a decision or conclusion that every petition of its case carries (TT 06/2025
  03/GQKN 13–23 …): summing over petitions would count one decision several times;
- ``{measure: sum, column: c}`` — sum of a numeric column (NULL adds 0). An integer
  column (the default ``number_format`` "#,##0") refuses a non-integral sum; give a
  column of money or land a decimal format (``number_format: "#,##0.0"``): its values
  are floats, rounded to :data:`ROUND_DIGITS` decimals, printed with that format, and
  compared in the checks with a small tolerance (:data:`TOLERANCE`);
- ``{measure: count_distinct, column: c, nulls: ignore|each}`` — distinct values;
  ``nulls: each`` counts every record with a NULL value as its own value;
- ``{measure: count_cases, where: <filter>, pick: last|first}`` — distinct cases
  (``cases.case_column``; a record without a case is its own case) among the row's
  records passing ``filter``; with ``where``, only the cases whose representative
  record — their latest (``pick: last``, the default) or earliest record in that set,
  by ``cases.order_by`` — satisfies ``where``. Each case has exactly one
  representative, so columns over the same ``filter`` whose ``where`` are mutually
  exclusive and exhaustive add up exactly to the cases of the set ("Số vụ việc =
  phân loại theo nội dung = … theo tình trạng");
- ``{measure: count_cases_first}`` / ``{measure: count_cases_repeat}`` — distinct
  cases among the filtered records of the row: each case once, "first" when its
  earliest record in that set (by ``cases.order_by``) has ``visit == first_value``,
  otherwise "repeat"; so first + repeat = distinct cases of the set, and a subset's
  cases never exceed its superset's;
- ``{measure: note}`` — the row's note (a text column);
- ``{measure: unavailable, reason: "…"}`` — a column the form prints but whose data
  the sources do not carry yet: every cell (unit rows and total) is None, never 0; the
  reason (Vietnamese) is printed under the table and on the info sheet. Such a column is
  neither a number nor a text column (:attr:`FormDef.unavailable_columns`); a check that
  involves it is not verified (:attr:`FormDef.unchecked_checks`, the info sheet says
  which and why) and a ``sum_of`` cannot add it up;
- ``{sum_of: [a, b, …]}`` — the sum of other columns of the same row.

Second inputs (``sources:``; 01/TCD of TT 06/2025 columns 10, 16). A form may declare
other tables, by name, and a column may count one of them (``compute.source``, with
``count_records``, ``sum`` or ``count_distinct`` and a ``filter`` over that table)::

    sources:
      lich_tiep: {table: fact_reception_calendar, date_column: announced_date,
                  record_key: calendar_key, rows: own_unit, coverage: month,
                  missing_note: "{unit} chưa gửi lịch tiếp công dân của tháng {months}",
                  absent_reason: "chưa có dữ liệu lịch tiếp công dân …"}
    header: [{ms: 10, text: "Số ngày tiếp", compute: {measure: count_distinct,
              source: lich_tiep, column: announced_date, filter: {receiver: [thu_truong]}}}]

:func:`compute` takes them as ``sources={name: SourceInput(records, unavailable)}``:
records in the window with ``row_id``; ``unavailable`` maps the rows whose cells from
that input are empty (None, never 0) to the reason, added to the row's note as "Cột
(10), (16): <reason>". The total of such a column is the sum of the rows that reported,
or empty (noted) when one of them is empty; a source not given leaves its columns empty
everywhere (the total's note gives ``absent_reason``). ``rows`` (``own_unit`` |
``all_units``) and ``coverage`` (``month``) say how reports.levels.source_inputs places
the records and decides ``unavailable``: with ``own_unit`` a row counts only the unit
it names; with ``coverage: month`` a row is unavailable when one of its units has no
record in a month the window touches. Such columns are nullable (``Int64``);
:func:`check_identities` skips a check on a row where one is empty and requires an
empty total when a reported row is empty. Lineage: :func:`contributions` gives them
empty contributions on the main records and :func:`source_contributions` the
second input's records with their contributions (the same columns), so that the
concatenation accounts for every cell.

A number column computed from records may add ``requires: <field>`` and ``reason:
"…"``: the field the column needs, which sources may or may not carry (a NULL means
the record's source does not record it — e.g. ``acceptance_recorded``,
``sanction_orgs``). A row with a record in the column's set (its ``filter``) that
lacks the field gets an empty cell (``pd.NA``), never a count of the records that
happen to carry it, and the note "Cột (n) để trống: <reason>"; the total is then empty
too (it cannot be the sum of the rows), a ``sum_of`` over such a cell is empty, the
checks that involve it are skipped on that row (:attr:`FormDef.partial_columns`), and
no record is listed behind it in the lineage.

Layout keys of the 2025 forms (TT 06/2025/TT-TTCP; all optional, absent on the older
forms, which render as before): ``annex_line`` (printed verbatim under the date line),
``note_line`` ("22. Ghi chú:", the numbered note line the form prints under the table
instead of a "Ghi chú" column) and ``guide`` (the lines printed under it, verbatim;
U+00A0 is read as a space). A group's ``row_span`` says how many header rows its text
takes (default 1; its children start below it). On a form without a note column the
row notes are kept in the table's ``note`` column and printed on the Ghi chú line as
"<row label>: <note>" (:func:`row_notes`), with the reasons of the unavailable columns
("Cột (10), (16): <reason>", :func:`unavailable_notes`).

Counting semantics of each form are written out in its YAML (``semantics``). The total
row is the sum of the unit rows (the forms are additive; a case received at two units
is a data-quality finding, not a silent subtraction).

Units that did not report (:class:`RowStatus`): a row whose units sent nothing is not a
row of zeros. :func:`compute` takes ``row_status`` (row_id → RowStatus); a row with
``reported=False`` gets empty number cells (``pd.NA``; the number columns are then of
the nullable ``Int64`` / ``Float64`` dtypes) and the note "Chưa báo cáo"; a row that
reported with ``missing > 0`` keeps its numbers and gets "Thiếu số liệu của m/n đơn
vị"; the total is the sum of the rows that reported and its note says how many units
it leaves out. :func:`check_identities` checks the identities on the rows that
reported only.

Lineage (:func:`contributions`): what each input record contributes to each number
column computed from records, so that any cell can be traced to its source rows:

- ``count_records`` / ``sum``: the record's addend (1 / its value, 0 when the record
  is outside the column's filter); the per-row sum equals the cell;
- ``count_distinct``: the value the record contributes (e.g. its sitting key; a NULL
  counted as its own value under ``nulls: each`` appears as
  ``"(không mã) <record key>"``), empty when outside the filter; the per-row number
  of distinct values equals the cell;
- ``count_cases``, ``count_cases_first`` / ``count_cases_repeat``: the case key of
  every record of a case counted in that column (all the records of the case in the
  column's set, not only its representative, since all of them are behind the
  count), else empty; the per-row number of distinct keys equals the cell;
- ``sum_of`` columns have no contribution column of their own: their lineage is the
  union of the columns they add up (:func:`source_columns`), and their value the sum
  of those columns' accounted values;
- ``unavailable`` columns have no contribution (no record is behind an empty cell).

The total row is additive, so its lineage is every record, and a distinct column of
the total accounts for distinct (row, key) pairs, not distinct keys.

Public API used by other modules: :func:`load_form`, :func:`form_from_dict`,
:meth:`FormDef.select`, :func:`compute`, :func:`check_identities`,
:func:`assert_identities`, :func:`contributions`, :func:`source_contributions`,
:func:`check_contributions`.

Modules, one job each: :mod:`~reports.formdef.errors`, :mod:`~reports.formdef.filters`
(the filter language), :mod:`~reports.formdef.model` (rows, columns, :class:`FormDef`),
:mod:`~reports.formdef.load` (YAML → FormDef, validation), :mod:`~reports.formdef.measures`
(how a column counts records), :mod:`~reports.formdef.table` (:func:`compute`),
:mod:`~reports.formdef.lineage` (contributions) and :mod:`~reports.formdef.checks`
(identities, lineage checks). The names below are the public surface; import them from
here.
"""
from reports.formdef.checks import assert_identities, check_contributions, check_identities, not_reported_rows
from reports.formdef.errors import FormDefinitionError, IdentityError, PeriodRequiredError
from reports.formdef.filters import (
    CONDITION_OPS,
    DATE_OPS,
    LOGIC_KEYS,
    MATCH_ALL,
    NULL_OPS,
    VALUE_OPS,
    WINDOW_BOUNDS,
    AllOf,
    AnyOf,
    Condition,
    Filter,
    FilterContext,
    FilterRef,
    Not,
    Window,
    as_window,
    compile_filter,
    window_relative,
)
from reports.formdef.lineage import (
    ADDITIVE_MEASURES,
    CONTRIBUTIONS,
    KEY_MEASURES,
    accounted_values,
    contribution_column,
    contributions,
    lineage_kind,
    source_columns,
    source_contributions,
)
from reports.formdef.load import form_definition, form_from_dict, load_form, parse_check
from reports.formdef.measures import MEASURES, NULL_KEY_PREFIX, sum_columns
from reports.formdef.model import (
    DEFAULT_NUMBER_FORMAT,
    NOT_REPORTED_NOTE,
    ROUND_DIGITS,
    ROW_KINDS,
    SOURCE_COVERAGE,
    SOURCE_ROWS,
    TOLERANCE,
    TOTAL_ROW_ID,
    UNAVAILABLE,
    Check,
    FormColumn,
    FormDef,
    HeaderNode,
    ReportRow,
    RowStatus,
    SourceDef,
    SourceInput,
    format_decimals,
    total_missing_note,
)
from reports.formdef.table import (
    BATCH_SEP,
    NOTE_COLUMN,
    Batch,
    ReportInput,
    batch_of,
    batch_row_id,
    compute,
    compute_batch,
    compute_many,
    lacking_note,
    row_notes,
    source_note,
    unavailable_notes,
)

__all__ = [
    "ROW_KINDS",
    "TOTAL_ROW_ID",
    "DEFAULT_NUMBER_FORMAT",
    "ROUND_DIGITS",
    "TOLERANCE",
    "FormDefinitionError",
    "PeriodRequiredError",
    "IdentityError",
    "ReportRow",
    "RowStatus",
    "NOT_REPORTED_NOTE",
    "total_missing_note",
    "WINDOW_BOUNDS",
    "DATE_OPS",
    "VALUE_OPS",
    "NULL_OPS",
    "CONDITION_OPS",
    "LOGIC_KEYS",
    "AllOf",
    "AnyOf",
    "Not",
    "FilterRef",
    "Condition",
    "Filter",
    "MATCH_ALL",
    "Window",
    "as_window",
    "compile_filter",
    "window_relative",
    "FilterContext",
    "HeaderNode",
    "format_decimals",
    "FormColumn",
    "SourceDef",
    "SOURCE_ROWS",
    "SOURCE_COVERAGE",
    "SourceInput",
    "Check",
    "FormDef",
    "UNAVAILABLE",
    "parse_check",
    "load_form",
    "form_from_dict",
    "sum_columns",
    "NULL_KEY_PREFIX",
    "MEASURES",
    "lacking_note",
    "source_note",
    "compute",
    "compute_many",
    "compute_batch",
    "batch_of",
    "Batch",
    "ReportInput",
    "BATCH_SEP",
    "batch_row_id",
    "NOTE_COLUMN",
    "row_notes",
    "unavailable_notes",
    "ADDITIVE_MEASURES",
    "KEY_MEASURES",
    "contribution_column",
    "lineage_kind",
    "source_columns",
    "CONTRIBUTIONS",
    "contributions",
    "source_contributions",
    "accounted_values",
    "check_contributions",
    "not_reported_rows",
    "check_identities",
    "assert_identities",
    "form_definition",
]
