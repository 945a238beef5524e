"""Report forms as data: load a form definition (YAML) and compute its table.

A form definition (``reports/forms/*.yaml``) describes one official summary form: its
code and title, the header tree, how every column is computed from the records of the
canonical model, and the check identities. Nothing here is specific to one form; a new
form or a new circular's version is a new YAML file.

YAML schema (``schema: 1``)::

    form: "01/TCD"                 # form code
    version: TT02_2021             # definition version (config `forms:` points here)
    circular: "Thông tư 02/2021/TT-TTCP"
    code_label: "Biểu số 01/TCD"   # printed at the top right
    title: "TỔNG HỢP ..."          # title row
    date_line: "Số liệu tính từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"
    source: fact_reception         # table the records come from (informative)
    date_column: received_date     # which date puts a record in a period
    unit_header: "Đơn vị"          # first column header; unit_width: its width
    ms_label: "MS"                 # first cell of the column-number row
    total_label: "Tổng cộng"
    semantics: |                   # counting rules in words (shown on the info sheet)
    filters: {name: {column: [accepted values]}}
    header:                        # tree; groups have `children`, leaves have `ms`
      - {ms: 1, text: ..., ms_text: "1=4+13+22", width: 8, compute: {...}}
      - {text: ..., children: [...]}
    cases: {case_column, visit_column, first_value, order_by, record_key}
    checks: ["1 = 4 + 13 + 22", "10 + 11 <= 6 + 7", "9 = 11..13 = 14..17",
             {rule: "8 <= 4", instruction: "..."}]
    total_is_sum_of_rows: true

Column computations (``compute``), each with an optional ``filter`` (a filter name, an
inline ``{column: values}`` mapping, or a list of those that must all hold):

- ``{measure: count_records}`` — number of records;
- ``{measure: sum, column: c}`` — sum of a numeric column;
- ``{measure: count_distinct, column: c, nulls: ignore|each}`` — distinct values;
  ``nulls: each`` counts every record with a NULL value as its own value;
- ``{measure: count_cases_first}`` / ``{measure: count_cases_repeat}`` — distinct
  cases among the filtered records of the row: each case once, "first" when its
  earliest record in that set (by ``cases.order_by``) has ``visit == first_value``,
  otherwise "repeat"; a record without a case is its own case. So first + repeat =
  distinct cases of the set, and a subset's cases never exceed its superset's;
- ``{measure: note}`` — the row's note (a text column);
- ``{sum_of: [a, b, …]}`` — the sum of other columns of the same row.

Counting semantics of 01/TCD are written out in its YAML (``semantics``). The total
row is the sum of the unit rows (the forms are additive; a case received at two units
is a data-quality finding, not a silent subtraction).

Units that did not report (:class:`RowStatus`): a row whose units sent nothing is not a
row of zeros. :func:`compute` takes ``row_status`` (row_id → RowStatus); a row with
``reported=False`` gets empty number cells (``pd.NA``; the number columns are then of
the nullable ``Int64`` dtype) and the note "Chưa báo cáo"; a row that reported with
``missing > 0`` keeps its numbers and gets "Thiếu số liệu của m/n đơn vị"; the total is
the sum of the rows that reported and its note says how many units it leaves out.
:func:`check_identities` checks the identities on the rows that reported only.

Lineage (:func:`contributions`): what each input record contributes to each number
column computed from records, so that any cell can be traced to its source rows:

- ``count_records`` / ``sum``: the record's addend (1 / its value, 0 when the record
  is outside the column's filter); the per-row sum equals the cell;
- ``count_distinct``: the value the record contributes (e.g. its sitting key; a NULL
  counted as its own value under ``nulls: each`` appears as
  ``"(không mã) <record key>"``), empty when outside the filter; the per-row number
  of distinct values equals the cell;
- ``count_cases_first`` / ``count_cases_repeat``: the case key of every record of a
  case counted in that column (all the records of the case in the column's set, not
  only the earliest one, since all of them are behind the count), else empty; the
  per-row number of distinct keys equals the cell;
- ``sum_of`` columns have no contribution column of their own: their lineage is the
  union of the columns they add up (:func:`source_columns`), and their value the sum
  of those columns' accounted values.

The total row is additive, so its lineage is every record, and a distinct column of
the total accounts for distinct (row, key) pairs, not distinct keys.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd
import yaml

ROW_KINDS = ("unit", "own", "total")
TOTAL_ROW_ID = "total"


class FormDefinitionError(ValueError):
    """The YAML form definition is malformed."""


class IdentityError(ValueError):
    """A report table breaks its form's check identities; it must not be delivered."""

    def __init__(self, violations: list[str]):
        self.violations = list(violations)
        shown = "\n".join(f"  - {v}" for v in self.violations[:50])
        more = f"\n  … và {len(self.violations) - 50} vi phạm khác" if len(self.violations) > 50 else ""
        super().__init__(f"{len(self.violations)} vi phạm đẳng thức kiểm tra:\n{shown}{more}")


@dataclass(frozen=True)
class ReportRow:
    """One row of a report: a reporting unit, a unit's own records, or the total."""

    row_id: str
    label: str
    unit_code: str | None
    kind: str = "unit"          # unit | own | total
    note: str = ""

    def __post_init__(self):
        if self.kind not in ROW_KINDS:
            raise ValueError(f"row kind must be one of {ROW_KINDS}, not {self.kind!r}")


@dataclass(frozen=True)
class RowStatus:
    """Whether the reporting units behind a row sent their data.

    ``expected``: reporting units behind the row (a district row: the district and its
    communes); ``missing``: of those, how many did not report. ``reported=False``
    means nothing of the row was received: its cells are left empty, never zero.
    ``note`` is added to the row's note.
    """

    reported: bool
    expected: int
    missing: int
    note: str = ""

    def __post_init__(self):
        if self.expected < 0 or self.missing < 0 or self.missing > self.expected:
            raise ValueError(f"RowStatus needs 0 <= missing <= expected (missing={self.missing}, "
                             f"expected={self.expected})")

    @property
    def units_missing(self) -> int:
        """Units whose data the row (and so the total) lacks."""
        return self.missing if self.reported else max(self.missing, self.expected, 1)

    @property
    def headline(self) -> str:
        """What the status says on the row's note: "Chưa báo cáo", "Thiếu số liệu của
        m/n đơn vị", or "" when the row is complete."""
        if not self.reported:
            return NOT_REPORTED_NOTE
        if self.missing > 0:
            return f"Thiếu số liệu của {self.missing}/{self.expected} đơn vị"
        return ""


NOT_REPORTED_NOTE = "Chưa báo cáo"


def total_missing_note(n_units: int) -> str:
    return f"Chưa gồm số liệu của {n_units} đơn vị chưa báo cáo" if n_units > 0 else ""


def _join_notes(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


@dataclass(frozen=True)
class HeaderNode:
    text: str
    ms: int | None = None                  # None for a group
    children: tuple["HeaderNode", ...] = ()

    @property
    def is_leaf(self) -> bool:
        return self.ms is not None

    def depth(self) -> int:
        return 1 + max((c.depth() for c in self.children), default=0)

    def leaves(self) -> list["HeaderNode"]:
        return [self] if self.is_leaf else [x for c in self.children for x in c.leaves()]


@dataclass(frozen=True)
class FormColumn:
    ms: int
    text: str
    ms_text: str
    compute: dict[str, Any]
    kind: str                              # number | text
    width: float | None = None
    path: tuple[str, ...] = ()             # group texts above the leaf


@dataclass(frozen=True)
class Check:
    text: str
    sides: tuple[tuple[int, ...], ...]     # each side: MS numbers summed
    ops: tuple[str, ...]                   # between consecutive sides: = <= >=
    instruction: str = ""                  # what the person fixing the data should look at


@dataclass(frozen=True)
class FormDef:
    code: str
    version: str
    title: str
    code_label: str
    date_line: str
    header: tuple[HeaderNode, ...]
    columns: tuple[FormColumn, ...]
    checks: tuple[Check, ...]
    circular: str = ""
    source: str = ""
    date_column: str = "received_date"
    unit_header: str = "Đơn vị"
    unit_width: float = 36
    ms_label: str = "MS"
    total_label: str = "Tổng cộng"
    semantics: str = ""
    filters: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    cases: dict[str, Any] = field(default_factory=dict)
    total_is_sum_of_rows: bool = True
    path: str | None = None

    @property
    def header_depth(self) -> int:
        return max(n.depth() for n in self.header)

    @property
    def ms_numbers(self) -> list[int]:
        return [c.ms for c in self.columns]

    @property
    def number_columns(self) -> list[int]:
        return [c.ms for c in self.columns if c.kind == "number"]

    @property
    def text_columns(self) -> list[int]:
        return [c.ms for c in self.columns if c.kind == "text"]

    def column(self, ms: int) -> FormColumn:
        for c in self.columns:
            if c.ms == ms:
                return c
        raise KeyError(ms)

    def format_date_line(self, start, end) -> str:
        return self.date_line.format(start=start, end=end)


# ------------------------------------------------------------------ loading

_CASE_DEFAULTS = {
    "case_column": "case_key",
    "visit_column": "visit",
    "first_value": "lan_dau",
    "order_by": ["received_date", "reception_key"],
    "record_key": "reception_key",
}
_TEXT_MEASURES = {"note"}
_CHECK_OPS = ("<=", ">=", "=")


def _parse_terms(expr: str, where: str) -> tuple[int, ...]:
    terms: list[int] = []
    for raw in expr.split("+"):
        t = raw.strip().replace("…", "..")
        if m := re.fullmatch(r"(\d+)\s*\.\.\s*(\d+)", t):
            a, b = int(m.group(1)), int(m.group(2))
            if a > b:
                raise FormDefinitionError(f"{where}: empty range {t!r}")
            terms.extend(range(a, b + 1))
        elif t.isdigit():
            terms.append(int(t))
        else:
            raise FormDefinitionError(f"{where}: cannot read term {t!r}")
    return tuple(terms)


def parse_check(text: str | dict[str, Any]) -> Check:
    """``"1 = 4 + 13 + 22"``, ``"10 + 11 <= 6 + 7"``, chained ``"9 = 11..13 = 14..17"``;
    or a mapping ``{rule: "...", instruction: "..."}`` (the instruction is added to
    the violation message, for whoever has to fix the data)."""
    instruction = ""
    if isinstance(text, dict):
        if "rule" not in text:
            raise FormDefinitionError(f"check {text!r} has no `rule`")
        instruction = str(text.get("instruction") or "")
        text = str(text["rule"])
    parts = re.split(r"(<=|>=|=)", text)
    sides = tuple(_parse_terms(p, f"check {text!r}") for p in parts[0::2])
    ops = tuple(parts[1::2])
    if len(sides) < 2:
        raise FormDefinitionError(f"check {text!r} has no comparison")
    return Check(text.strip(), sides, ops, instruction)


def _build_node(raw: dict[str, Any], path: tuple[str, ...], out: list[FormColumn],
                filters: dict[str, Any]) -> HeaderNode:
    if not isinstance(raw, dict) or "text" not in raw:
        raise FormDefinitionError(f"header node without text under {' > '.join(path)!r}: {raw!r}")
    text = str(raw["text"])
    if "children" in raw:
        if "ms" in raw:
            raise FormDefinitionError(f"header group {text!r} cannot also have ms")
        kids = raw["children"] or []
        if not kids:
            raise FormDefinitionError(f"header group {text!r} has no children")
        children = tuple(_build_node(k, path + (text,), out, filters) for k in kids)
        return HeaderNode(text, None, children)
    if "ms" not in raw:
        raise FormDefinitionError(f"header leaf {text!r} has no ms number")
    ms = int(raw["ms"])
    compute = dict(raw.get("compute") or {})
    if not compute:
        raise FormDefinitionError(f"column {ms} ({text!r}) has no compute spec")
    if "sum_of" in compute:
        kind = "number"
    else:
        measure = compute.get("measure")
        if measure not in MEASURES and measure not in _TEXT_MEASURES:
            raise FormDefinitionError(f"column {ms}: unknown measure {measure!r}")
        kind = "text" if measure in _TEXT_MEASURES else "number"
        if measure in ("sum", "count_distinct") and not compute.get("column"):
            raise FormDefinitionError(f"column {ms}: measure {measure} needs `column`")
        _resolve_filter(compute.get("filter"), filters, f"column {ms}")  # validates names
    width = raw.get("width")
    out.append(FormColumn(ms, text, str(raw.get("ms_text", ms)), compute, kind,
                          float(width) if width is not None else None, path))
    return HeaderNode(text, ms, ())


def _topo_order(columns: Iterable[FormColumn]) -> list[FormColumn]:
    """Columns ordered so that every `sum_of` comes after the columns it adds up."""
    by_ms = {c.ms: c for c in columns}
    order: list[FormColumn] = []
    state: dict[int, int] = {}

    def visit(ms: int, chain: tuple[int, ...]):
        if state.get(ms) == 2:
            return
        if state.get(ms) == 1:
            raise FormDefinitionError(f"sum_of cycle through columns {chain + (ms,)}")
        state[ms] = 1
        for dep in by_ms[ms].compute.get("sum_of", []):
            visit(int(dep), chain + (ms,))
        state[ms] = 2
        order.append(by_ms[ms])

    for ms in by_ms:
        visit(ms, ())
    return order


def load_form(path: str | Path) -> FormDef:
    """Read and validate a form definition file."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return form_from_dict(raw, str(path))


def form_from_dict(raw: dict[str, Any], path: str | None = None) -> FormDef:
    if not isinstance(raw, dict):
        raise FormDefinitionError("a form definition is a mapping")
    if int(raw.get("schema", 1)) != 1:
        raise FormDefinitionError(f"unsupported form schema {raw.get('schema')!r}")
    for key in ("form", "version", "title", "header"):
        if key not in raw:
            raise FormDefinitionError(f"form definition lacks `{key}`")
    filters = {str(k): _normalise_filter_map(v, f"filter {k}") for k, v in (raw.get("filters") or {}).items()}
    columns: list[FormColumn] = []
    header = tuple(_build_node(n, (), columns, filters) for n in raw["header"])
    ms = [c.ms for c in columns]
    if len(set(ms)) != len(ms):
        dup = sorted({m for m in ms if ms.count(m) > 1})
        raise FormDefinitionError(f"duplicate MS numbers {dup}")
    known = set(ms)
    numeric = {c.ms for c in columns if c.kind == "number"}
    for c in columns:
        for dep in c.compute.get("sum_of", []):
            if int(dep) not in numeric:
                raise FormDefinitionError(f"column {c.ms}: sum_of refers to {dep}, not a numeric column")
    _topo_order(columns)  # raises on cycles
    checks = tuple(parse_check(t if isinstance(t, dict) else str(t)) for t in raw.get("checks") or [])
    for chk in checks:
        for side in chk.sides:
            bad = [m for m in side if m not in known or m not in numeric]
            if bad:
                raise FormDefinitionError(f"check {chk.text!r} refers to unknown or text columns {bad}")
    cases = {**_CASE_DEFAULTS, **(raw.get("cases") or {})}
    code = str(raw["form"])
    return FormDef(
        code=code, version=str(raw["version"]), title=str(raw["title"]),
        code_label=str(raw.get("code_label") or f"Biểu số {code}"),
        date_line=str(raw.get("date_line") or "Số liệu tính từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"),
        header=header, columns=tuple(columns), checks=checks,
        circular=str(raw.get("circular") or ""), source=str(raw.get("source") or ""),
        date_column=str(raw.get("date_column") or "received_date"),
        unit_header=str(raw.get("unit_header") or "Đơn vị"),
        unit_width=float(raw.get("unit_width") or 36),
        ms_label=str(raw.get("ms_label") or "MS"),
        total_label=str(raw.get("total_label") or "Tổng cộng"),
        semantics=str(raw.get("semantics") or "").strip(),
        filters=filters, cases=cases,
        total_is_sum_of_rows=bool(raw.get("total_is_sum_of_rows", True)),
        path=path,
    )


# ------------------------------------------------------------------ computing

def _normalise_filter_map(value: Any, where: str) -> dict[str, list[Any]]:
    if not isinstance(value, dict):
        raise FormDefinitionError(f"{where}: a filter maps columns to values, got {value!r}")
    return {str(k): (list(v) if isinstance(v, (list, tuple)) else [v]) for k, v in value.items()}


def _resolve_filter(spec: Any, filters: dict[str, dict[str, list[Any]]], where: str) -> list[dict[str, list[Any]]]:
    """A filter spec as a list of column→values mappings that must all hold."""
    if spec is None:
        return []
    items = spec if isinstance(spec, list) else [spec]
    out = []
    for item in items:
        if isinstance(item, str):
            if item not in filters:
                raise FormDefinitionError(f"{where}: unknown filter {item!r}")
            out.append(filters[item])
        else:
            out.append(_normalise_filter_map(item, where))
    return out


def _mask(df: pd.DataFrame, conditions: list[dict[str, list[Any]]]) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for cond in conditions:
        for col, values in cond.items():
            if col not in df.columns:
                raise KeyError(f"records lack column {col!r} needed by a filter")
            # NULLs never match: a record of unknown mode is not put in any group.
            mask &= df[col].isin(values).fillna(False).astype(bool)
    return mask


def _per_row(values: pd.Series, rows: pd.Series, agg: str) -> pd.Series:
    return values.groupby(rows, sort=False, observed=True).agg(agg)


def _m_count_records(df: pd.DataFrame, spec: dict, form: FormDef) -> pd.Series:
    return df.groupby("row_id", sort=False, observed=True).size()


def _m_sum(df: pd.DataFrame, spec: dict, form: FormDef) -> pd.Series:
    col = spec["column"]
    return _per_row(pd.to_numeric(df[col]).fillna(0), df["row_id"], "sum")


_NULL_TOKEN = "\x00record:"
# How a NULL counted as its own value is shown in lineage (readable, and checked not to
# collide with a real value).
NULL_KEY_PREFIX = "(không mã) "


def _null_as_own(values: pd.Series, df: pd.DataFrame, key_col: str | None,
                 prefix: str = _NULL_TOKEN) -> pd.Series:
    """Values with every NULL replaced by a token unique to its record."""
    vals = values.astype(object)
    missing = vals.isna()
    if missing.any():
        if key_col and key_col in df.columns and df.loc[missing, key_col].notna().all():
            ids = df.loc[missing, key_col].astype(str)
        else:
            ids = pd.Series([("#" if prefix != _NULL_TOKEN else "") + str(i) for i in df.index[missing]],
                            index=df.index[missing])
        vals = vals.where(~missing, prefix + ids)
    return vals


def _m_count_distinct(df: pd.DataFrame, spec: dict, form: FormDef) -> pd.Series:
    col = spec["column"]
    values = df[col]
    if spec.get("nulls", "ignore") == "each":
        values = _null_as_own(values, df, form.cases.get("record_key"))
    return _per_row(values, df["row_id"], "nunique")


def _first_visit_flags(df: pd.DataFrame, form: FormDef) -> pd.DataFrame:
    """One line per (row, case) of `df`: its earliest record, and whether that record is
    a first visit."""
    c = form.cases
    order = [o for o in c["order_by"] if o in df.columns]
    if len(order) != len(c["order_by"]):
        missing = sorted(set(c["order_by"]) - set(order))
        raise KeyError(f"records lack ordering column(s) {missing}")
    work = pd.DataFrame({
        "row_id": df["row_id"],
        "_case": _null_as_own(df[c["case_column"]], df, c.get("record_key")),
        "_first": df[c["visit_column"]].astype(object).eq(c["first_value"]).fillna(False).astype(bool),
    }, index=df.index)
    for i, o in enumerate(order):
        work[f"_o{i}"] = df[o]
    # Stable sort: equal keys keep input order, so the result never depends on chance.
    work = work.sort_values([f"_o{i}" for i in range(len(order))], kind="mergesort")
    return work.drop_duplicates(["row_id", "_case"], keep="first")


def _m_count_cases_first(df: pd.DataFrame, spec: dict, form: FormDef) -> pd.Series:
    w = _first_visit_flags(df, form)
    return _per_row(w["_first"].astype(int), w["row_id"], "sum")


def _m_count_cases_repeat(df: pd.DataFrame, spec: dict, form: FormDef) -> pd.Series:
    w = _first_visit_flags(df, form)
    return _per_row((~w["_first"]).astype(int), w["row_id"], "sum")


# name -> function(filtered records, compute spec, form) -> Series indexed by row_id.
# Later forms add measures here (generic ones), never form-specific branches.
MEASURES: dict[str, Callable[[pd.DataFrame, dict, FormDef], pd.Series]] = {
    "count_records": _m_count_records,
    "sum": _m_sum,
    "count_distinct": _m_count_distinct,
    "count_cases_first": _m_count_cases_first,
    "count_cases_repeat": _m_count_cases_repeat,
}


def _complete_rows(form: FormDef, rows: list[ReportRow]) -> list[ReportRow]:
    ids = [r.row_id for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate row ids in report rows")
    totals = [r for r in rows if r.kind == "total"]
    if len(totals) > 1:
        raise ValueError("more than one total row")
    if totals and rows[-1].kind != "total":
        raise ValueError("the total row must be the last row")
    if not totals:
        rows = list(rows) + [ReportRow(TOTAL_ROW_ID, form.total_label, None, "total")]
    return list(rows)


def _placed(receptions: pd.DataFrame, data_ids: list[str]) -> pd.DataFrame:
    """`receptions` with a positional index and a str ``row_id`` naming a data row;
    records of no data row are an error (dropping them would falsify the report)."""
    if "row_id" not in receptions.columns:
        raise KeyError("receptions need a `row_id` column (see build_rows_for_city)")
    df = receptions.reset_index(drop=True)
    stray = df["row_id"].isna() | ~df["row_id"].isin(data_ids)
    if stray.any():
        sample = sorted({str(x) for x in df.loc[stray, "row_id"].head(20)})
        raise ValueError(f"{int(stray.sum())} record(s) belong to no report row (row_id {sample})")
    df["row_id"] = df["row_id"].astype(str)
    return df


def _checked_status(rows: list[ReportRow], row_status: Mapping[str, RowStatus] | None) -> dict[str, RowStatus]:
    status = dict(row_status or {})
    data_ids = {r.row_id for r in rows if r.kind != "total"}
    unknown = sorted(str(k) for k in status if k not in data_ids)
    if unknown:
        raise ValueError(f"row_status names rows that are not data rows of the report: {unknown[:20]}")
    bad = sorted(str(k) for k, v in status.items() if not isinstance(v, RowStatus))
    if bad:
        raise TypeError(f"row_status values must be RowStatus (rows {bad[:20]})")
    return status


def compute(form: FormDef, receptions: pd.DataFrame, rows: list[ReportRow],
            row_status: Mapping[str, RowStatus] | None = None) -> pd.DataFrame:
    """The report table: one line per row (in `rows` order, total last), indexed by
    row_id, with columns ``label``, ``kind`` and then one column per MS number (int
    values for number columns, str for text columns).

    `receptions` are the records of the report (already restricted to the window) with
    a ``row_id`` column naming the row each belongs to. A record whose row_id is not a
    data row is an error: silently dropping records would falsify the report.

    `row_status` (row_id → :class:`RowStatus`, rows absent are complete): a row that
    did not report must have no records (ValueError otherwise: the caller's
    completeness and its data contradict each other); its number cells are ``pd.NA``
    (number columns become ``Int64``) and its note starts with "Chưa báo cáo". The
    total is the sum of the rows that reported.
    """
    rows = _complete_rows(form, rows)
    data_rows = [r for r in rows if r.kind != "total"]
    data_ids = [r.row_id for r in data_rows]
    status = _checked_status(rows, row_status)
    df = _placed(receptions, data_ids)
    not_reported = [rid for rid in data_ids if rid in status and not status[rid].reported]
    if not_reported:
        clash = df["row_id"].isin(not_reported)
        if clash.any():
            counts = df.loc[clash, "row_id"].value_counts().sort_index().to_dict()
            raise ValueError(f"rows marked as not reported have records (row_id: count) {counts}: "
                             "a unit that sent data has reported")

    def note_of(r: ReportRow) -> str:
        st = status.get(r.row_id)
        return _join_notes(st.headline, r.note or "", st.note) if st else (r.note or "")

    values: dict[int, pd.Series] = {}
    for col in _topo_order(form.columns):
        spec = col.compute
        if "sum_of" in spec:
            s = pd.Series(0, index=data_ids, dtype="int64")
            for dep in spec["sum_of"]:
                s = s + values[int(dep)]
            values[col.ms] = s
            continue
        measure = spec["measure"]
        if measure == "note":
            values[col.ms] = pd.Series([note_of(r) for r in data_rows], index=data_ids, dtype=object)
            continue
        sub = df[_mask(df, _resolve_filter(spec.get("filter"), form.filters, f"column {col.ms}"))]
        result = MEASURES[measure](sub, spec, form) if len(sub) else pd.Series(dtype="int64")
        values[col.ms] = result.reindex(data_ids, fill_value=0).fillna(0).astype("int64")

    table = pd.DataFrame({ms: values[ms] for ms in form.ms_numbers}, index=data_ids)
    number_dtype = "int64"
    if not_reported:
        number_dtype = "Int64"
        for ms in form.number_columns:
            table[ms] = table[ms].astype("Int64")
            table.loc[not_reported, ms] = pd.NA
    total_row = rows[-1]
    units_missing = sum(st.units_missing for rid, st in status.items() if st.units_missing)
    total_note = _join_notes(total_row.note or "", total_missing_note(units_missing))
    total = {}
    for c in form.columns:
        # The forms are additive: the total row is the sum of the rows, never a
        # recount over the union of records (which would hide cross-unit duplicates).
        # Rows that did not report add nothing (their cells are empty, not zero).
        total[c.ms] = int(table[c.ms].sum()) if c.kind == "number" else total_note
    table.loc[total_row.row_id] = pd.Series(total, dtype=object)
    for c in form.columns:
        table[c.ms] = table[c.ms].astype(number_dtype) if c.kind == "number" else table[c.ms].astype(object)
    table.insert(0, "kind", [r.kind for r in rows])
    table.insert(0, "label", [r.label for r in rows])
    table.index.name = "row_id"
    return table


# ------------------------------------------------------------------ lineage

ADDITIVE_MEASURES = ("count_records", "sum")
KEY_MEASURES = ("count_distinct", "count_cases_first", "count_cases_repeat")


def contribution_column(ms: int) -> str:
    """Name of the contribution column of MS `ms` (``c4``)."""
    return f"c{ms}"


def lineage_kind(form: FormDef, ms: int) -> str:
    """How column `ms` is traced to records: ``additive`` (its cell is the sum of the
    records' contributions), ``distinct`` (the number of distinct keys the records
    contribute), ``sum_of`` (the sum of other columns) or ``text``."""
    col = form.column(ms)
    if col.kind == "text":
        return "text"
    if "sum_of" in col.compute:
        return "sum_of"
    measure = col.compute["measure"]
    if measure in ADDITIVE_MEASURES:
        return "additive"
    if measure in KEY_MEASURES:
        return "distinct"
    raise NotImplementedError(f"column {ms}: measure {measure!r} has no lineage rule")


def source_columns(form: FormDef, ms: int) -> list[int]:
    """The columns computed from records that make up column `ms`: `[ms]` itself, or
    for a ``sum_of`` column the columns it adds up, expanded recursively (with
    repetitions, so that the cell is the sum of their values)."""
    col = form.column(ms)
    if "sum_of" not in col.compute:
        return [ms]
    return [leaf for dep in col.compute["sum_of"] for leaf in source_columns(form, int(dep))]


def _check_prefix(values: pd.Series, where: str) -> None:
    clash = values.dropna().astype(str).str.startswith(NULL_KEY_PREFIX)
    if clash.any():
        raise ValueError(f"{where}: values starting with {NULL_KEY_PREFIX!r} would be confused "
                         "with the marker of a record without a key")


def _c_count_records(df: pd.DataFrame, mask: pd.Series, spec: dict, form: FormDef) -> pd.Series:
    return mask.astype("int64")


def _c_sum(df: pd.DataFrame, mask: pd.Series, spec: dict, form: FormDef) -> pd.Series:
    v = pd.to_numeric(df[spec["column"]]).fillna(0).where(mask, 0)
    if v.dtype.kind == "f" and (v == v.round()).all():
        v = v.astype("int64")
    return v.astype("int64") if v.dtype.kind in "iub" else v


def _c_count_distinct(df: pd.DataFrame, mask: pd.Series, spec: dict, form: FormDef) -> pd.Series:
    sub = df[mask]
    values = sub[spec["column"]]
    _check_prefix(values, f"column {spec['column']}")
    if spec.get("nulls", "ignore") == "each":
        values = _null_as_own(values, sub, form.cases.get("record_key"), NULL_KEY_PREFIX)
    return values.astype(object).reindex(df.index)


def _c_cases(first: bool):
    def contrib(df: pd.DataFrame, mask: pd.Series, spec: dict, form: FormDef) -> pd.Series:
        out = pd.Series(None, index=df.index, dtype=object)
        sub = df[mask]
        if not len(sub):
            return out
        c = form.cases
        _check_prefix(sub[c["case_column"]], f"column {c['case_column']}")
        flags = _first_visit_flags(sub, form)            # one line per (row, case)
        token = _null_as_own(sub[c["case_column"]], sub, c.get("record_key"))
        shown = _null_as_own(sub[c["case_column"]], sub, c.get("record_key"), NULL_KEY_PREFIX)
        key = pd.MultiIndex.from_arrays([sub["row_id"], token])
        is_first = pd.Series(flags["_first"].to_numpy(),
                             index=pd.MultiIndex.from_arrays([flags["row_id"], flags["_case"]]))
        counted = is_first.reindex(key).to_numpy().astype(bool)
        counted = counted if first else ~counted
        out.loc[sub.index[counted]] = shown[counted].to_numpy()
        return out
    return contrib


# name -> function(records, filter mask, compute spec, form) -> Series on the records'
# index: the addend (additive measures) or the key (distinct measures) of each record.
CONTRIBUTIONS: dict[str, Callable[[pd.DataFrame, pd.Series, dict, FormDef], pd.Series]] = {
    "count_records": _c_count_records,
    "sum": _c_sum,
    "count_distinct": _c_count_distinct,
    "count_cases_first": _c_cases(True),
    "count_cases_repeat": _c_cases(False),
}


def contributions(form: FormDef, records: pd.DataFrame, rows: list[ReportRow]) -> pd.DataFrame:
    """What each record contributes to each number column computed from records.

    One line per record of `records` (same index, same order; `records` as given to
    :func:`compute`, with ``row_id``), a ``row_id`` column and one column
    ``c<ms>`` (:func:`contribution_column`) per number column that is not a
    ``sum_of`` (see the module docstring for what each holds and
    :func:`source_columns` for ``sum_of`` columns). For every data row and column:
    ``groupby("row_id")[c].sum()`` (additive) or ``.nunique()`` (distinct) equals the
    cell of :func:`compute`; the total row's cell is the sum of those over the rows.
    """
    rows = _complete_rows(form, rows)
    data_ids = [r.row_id for r in rows if r.kind != "total"]
    df = _placed(records, data_ids)
    out = pd.DataFrame({"row_id": df["row_id"]}, index=df.index)
    for col in form.columns:
        if col.kind != "number" or "sum_of" in col.compute:
            continue
        spec = col.compute
        measure = spec["measure"]
        if measure not in CONTRIBUTIONS:
            raise NotImplementedError(f"column {col.ms}: measure {measure!r} has no lineage rule")
        mask = _mask(df, _resolve_filter(spec.get("filter"), form.filters, f"column {col.ms}"))
        out[contribution_column(col.ms)] = CONTRIBUTIONS[measure](df, mask, spec, form)
    out.index = records.index
    return out


def accounted_values(form: FormDef, contrib: pd.DataFrame, row_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The table the contributions account for: one line per row_id (those given, or
    those in `contrib`), one column per number MS; the value each cell must have."""
    ids = list(row_ids) if row_ids is not None else sorted(contrib["row_id"].unique())
    g = contrib.groupby("row_id", sort=False)
    leaf: dict[int, pd.Series] = {}
    for ms in form.number_columns:
        kind = lineage_kind(form, ms)
        if kind == "additive":
            leaf[ms] = g[contribution_column(ms)].sum().reindex(ids, fill_value=0)
        elif kind == "distinct":
            leaf[ms] = g[contribution_column(ms)].nunique().reindex(ids, fill_value=0)
    out = {ms: sum((leaf[m] for m in source_columns(form, ms)), pd.Series(0, index=ids))
           for ms in form.number_columns}
    return pd.DataFrame(out, index=ids).astype("int64")


def check_contributions(form: FormDef, table: pd.DataFrame, contrib: pd.DataFrame) -> list[str]:
    """Cells of `table` (from :func:`compute`) that `contrib` (from
    :func:`contributions` on the same records) does not account for exactly, as
    sentences; the total row is checked against all rows. Empty list = consistent."""
    is_total = table["kind"].eq("total")
    data_ids = [str(i) for i in table.index[~is_total]]
    acc = accounted_values(form, contrib, data_ids)
    out = []
    for ms in form.number_columns:
        for rid in data_ids:
            cell = table.at[rid, ms]
            want = None if pd.isna(cell) else int(cell)
            got = int(acc.at[rid, ms])
            if (want is None and got != 0) or (want is not None and want != got):
                out.append(f"{_row_name(table, rid)}: cột {ms} = {cell!r}, nguồn cho {got}")
        for rid in table.index[is_total]:
            got = int(acc[ms].sum())
            if int(table.at[rid, ms]) != got:
                out.append(f"{_row_name(table, rid)}: cột {ms} = {table.at[rid, ms]!r}, nguồn cho {got}")
    return out


# ------------------------------------------------------------------ checking

def _row_name(table: pd.DataFrame, row_id: Any) -> str:
    label = table.at[row_id, "label"] if "label" in table.columns else row_id
    return f"dòng «{label}» ({row_id})"


def not_reported_rows(form: FormDef, table: pd.DataFrame) -> list[str]:
    """Rows of `table` that did not report: data rows whose every number cell is empty
    (that is how :func:`compute` shows them)."""
    if not form.number_columns:
        return []
    empty = pd.concat([table[ms].isna() for ms in form.number_columns], axis=1).all(axis=1)
    if "kind" in table.columns:
        empty &= table["kind"].ne("total")
    return [str(i) for i in table.index[empty]]


def check_identities(form: FormDef, table: pd.DataFrame,
                     row_status: Mapping[str, RowStatus] | None = None) -> list[str]:
    """Every violation of the form's checks in `table` (as made by :func:`compute`),
    as readable sentences; an empty list means the table may be delivered.

    Rows that did not report (every number cell empty) are not checked, and the total
    must be the sum of the rows that reported. With `row_status`, the empty rows must
    be exactly those it marks ``reported=False``.
    """
    missing = [ms for ms in form.ms_numbers if ms not in table.columns]
    if missing:
        return [f"bảng thiếu cột {missing}"]
    out: list[str] = []
    empty = set(not_reported_rows(form, table))
    if row_status is not None:
        declared = {str(k) for k, v in row_status.items() if not v.reported}
        for rid in table.index:
            if str(rid) in declared and str(rid) not in empty:
                out.append(f"{_row_name(table, rid)}: đơn vị chưa báo cáo nhưng dòng có số liệu")
            elif str(rid) in empty and str(rid) not in declared:
                out.append(f"{_row_name(table, rid)}: dòng để trống nhưng đơn vị không được ghi là chưa báo cáo")
    reported = pd.Series([str(i) not in empty for i in table.index], index=table.index)
    nums = {}
    for ms in form.number_columns:
        col = pd.to_numeric(table[ms], errors="coerce").astype("float64")
        bad = (col.isna() | (col < 0) | (col != col.round())) & reported
        for rid in table.index[bad]:
            out.append(f"{_row_name(table, rid)}: cột {ms} = {table.at[rid, ms]!r} không phải số nguyên không âm")
        nums[ms] = col.fillna(0)
    if out:
        return out
    for chk in form.checks:
        sums = [sum((nums[m] for m in side), pd.Series(0, index=table.index)) for side in chk.sides]
        for i, op in enumerate(chk.ops):
            left, right = sums[i], sums[i + 1]
            ok = left.eq(right) if op == "=" else (left.le(right) if op == "<=" else left.ge(right))
            for rid in table.index[~ok & reported]:
                lt = "+".join(map(str, chk.sides[i]))
                rt = "+".join(map(str, chk.sides[i + 1]))
                out.append(f"{_row_name(table, rid)}: vi phạm «{chk.text}» — cột {lt} = "
                           f"{int(left[rid])}, cột {rt} = {int(right[rid])}"
                           + (f" ({chk.instruction})" if chk.instruction else ""))
    if form.total_is_sum_of_rows:
        if "kind" not in table.columns:
            return out + ["bảng không có cột `kind` để xác định dòng tổng cộng"]
        is_total = table["kind"].eq("total")
        if int(is_total.sum()) != 1:
            return out + [f"bảng phải có đúng một dòng tổng cộng (có {int(is_total.sum())})"]
        rid = table.index[is_total][0]
        for ms in form.number_columns:
            expected = int(nums[ms][~is_total & reported].sum())
            if int(nums[ms][rid]) != expected:
                out.append(f"{_row_name(table, rid)}: cột {ms} = {int(nums[ms][rid])} nhưng tổng "
                           f"các dòng đơn vị = {expected}")
    return out


def assert_identities(form: FormDef, table: pd.DataFrame,
                      row_status: Mapping[str, RowStatus] | None = None) -> None:
    violations = check_identities(form, table, row_status)
    if violations:
        raise IdentityError(violations)
