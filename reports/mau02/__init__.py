"""Mẫu số 02 (TT 06/2025/TT-TTCP): the narrative report on tiếp công dân, giải quyết khiếu
nại, tố cáo, as a Word document the officers edit, sign and send.

Điều 4.1 of TT 06/2025 makes the Quý I, 6 tháng, 9 tháng and năm reports a narrative
following the outline "Mẫu số 02" plus the six tables 01/TCD … 06/QLKNTC
(shared/domain/forms-2025.md §2.4, §5). :func:`build_mau02` writes that narrative:

- the heading block of a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP:
  issuer and number on the left, Quốc hiệu and Tiêu ngữ and "<place>, ngày … tháng …
  năm …" on the right), the title "BÁO CÁO", the subject line and the data window;
- every heading of the outline, in order and verbatim (:data:`OUTLINE`);
- under each heading, every figure the outline cites, taken from the total row of the
  given tables and written as a templated sentence, each followed by the comparison with
  the previous period and the same period of the previous year (the outline's closing
  "Lưu ý");
- placeholders — highlighted, bracketed "[Đơn vị soạn thảo: …]" paragraphs quoting the
  outline's own instruction — wherever only a person can write (causes, assessment,
  forecast, directions, recommendations, the "khái quát" prose) and for figures no table
  carries ("số đơn vị có vi phạm", the targets of III.1). Nothing is invented;
- II.5 "Bảo vệ người tố cáo": no form has these figures (forms-2025.md §4.6); they come
  from the optional protection block of the units' 06/QLKNTC input workbooks
  (fact_qlkntc ``protected_*``), passed as the table :data:`PROTECTION_CODE` built by
  :func:`protection_table` over the same rows (units) and records as the scope's
  06/QLKNTC table. The total adds up the units that reported the block; a note under
  the figures names the units that did not (an older workbook without the block, a
  block left empty, or no accepted 06/QLKNTC workbook at all), and a figure none of the
  units reported reads "chưa có số liệu (… chưa báo cáo số liệu bảo vệ người tố cáo)";
- the attached tables, "Nơi nhận" and the signature block.

Every figure written is also returned as a :class:`Figure` (form, MS column(s), value,
comparison values, the exact text) and saved beside the document as
``<stem>.so-lieu.json`` so that tests and auditors can check each one against the cell it
cites.

Readings taken where the text is open (forms-2025.md §6 point 9, §4.6):

- II.2.a "Tổng số đơn đã tiếp nhận trong kỳ" has no column of its own: 02/XLD column 1 is
  written, labelled as including the petitions carried over from the previous period.
- I.1.a / I.1.b "tỉ lệ đơn … của từng lĩnh vực": 02/XLD 9, 10, 11 as shares of 6 and
  15–18 as shares of 12 (the form splits fields only for competent petitions).
- III.1 "tỷ lệ thực hiện quyết định, kết luận": 05/KQTH 2 ÷ 1 and 17 ÷ 16.
  "tỷ lệ giải quyết … so với mục tiêu": formula and target not stated — placeholder.
- A ratio is a percentage with one decimal; its comparison is in percentage points.
- Comparisons: a table of the comparison period on the 2025 forms is read column for
  column. A period reported on the older forms (TT 02/2021, TT 01/2024) is compared only
  where forms-2025.md §3 says a 2025 column is the same count as an old column (or a sum
  of old columns, :data:`OLD_EQUIVALENTS`); every other figure says it has no
  equivalent. Counts whose unit changed (decisions by issue date instead of matters,
  petition breakdowns instead of case breakdowns, the new acceptance status) are not
  compared.

NA cells (a unit row that did not report does not reach the total, which is a sum; an
``unavailable`` column is NA on every row) are written "chưa có số liệu (<reason>)",
never 0. The reason comes from ``notes`` ("<form>:<ms>" or "<form>" → reason; build it
from the form definitions with :func:`na_reasons`), else from the known gaps of
forms-2025.md §4.7 (:data:`KNOWN_GAPS`), else a plain "biểu … để trống cột (…)". A
missing table gives "chưa có biểu <code>".

The output is deterministic: fixed core properties dated at the window's end and fixed
zip entry timestamps, so the same inputs give the same bytes.

Modules, one job each: :mod:`~reports.mau02.catalogue` (the forms, their columns,
old equivalents and known gaps), :mod:`~reports.mau02.records` (:class:`Figure`,
:class:`Placeholder`, :class:`Mau02Result`), :mod:`~reports.mau02.outline` (the outline and
the body's content), :mod:`~reports.mau02.figures` (reading, comparing and writing a
figure), :mod:`~reports.mau02.protection` (the II.5 table) and
:mod:`~reports.mau02.document` (the Word document, :func:`build_mau02`). The names in
``__all__`` are the public surface; import them from here.
"""
from reports.mau02.catalogue import (
    FORM_CODES,
    FORM_COLUMNS,
    KNOWN_GAPS,
    OLD_EQUIVALENTS,
    PLACEHOLDER_PREFIX,
    PROTECTION_CODE,
    PROTECTION_FIELDS,
)
from reports.mau02.document import build_mau02
from reports.mau02.figures import format_value
from reports.mau02.outline import HEADINGS, OUTLINE
from reports.mau02.protection import protection_table
from reports.mau02.records import Figure, Mau02Result, Placeholder, comparison_codes, figures_path, na_reasons

__all__ = [
    "Figure",
    "Placeholder",
    "Mau02Result",
    "build_mau02",
    "na_reasons",
    "OUTLINE",
    "PROTECTION_CODE",
    "PROTECTION_FIELDS",
    "protection_table",
    "HEADINGS",
    "FORM_CODES",
    "FORM_COLUMNS",
    "OLD_EQUIVALENTS",
    "KNOWN_GAPS",
    "PLACEHOLDER_PREFIX",
    "comparison_codes",
    "format_value",
    "figures_path",
]
