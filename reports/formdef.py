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
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

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


def _null_as_own(values: pd.Series, df: pd.DataFrame, key_col: str | None) -> pd.Series:
    """Values with every NULL replaced by a token unique to its record."""
    vals = values.astype(object)
    missing = vals.isna()
    if missing.any():
        if key_col and key_col in df.columns and df.loc[missing, key_col].notna().all():
            ids = df.loc[missing, key_col].astype(str)
        else:
            ids = pd.Series([str(i) for i in df.index[missing]], index=df.index[missing])
        vals = vals.where(~missing, "\x00record:" + ids)
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


def compute(form: FormDef, receptions: pd.DataFrame, rows: list[ReportRow]) -> pd.DataFrame:
    """The report table: one line per row (in `rows` order, total last), indexed by
    row_id, with columns ``label``, ``kind`` and then one column per MS number (int
    values for number columns, str for text columns).

    `receptions` are the records of the report (already restricted to the window) with
    a ``row_id`` column naming the row each belongs to. A record whose row_id is not a
    data row is an error: silently dropping records would falsify the report.
    """
    rows = _complete_rows(form, rows)
    data_rows = [r for r in rows if r.kind != "total"]
    data_ids = [r.row_id for r in data_rows]
    if "row_id" not in receptions.columns:
        raise KeyError("receptions need a `row_id` column (see build_rows_for_city)")
    df = receptions.reset_index(drop=True)
    stray = df["row_id"].isna() | ~df["row_id"].isin(data_ids)
    if stray.any():
        sample = sorted({str(x) for x in df.loc[stray, "row_id"].head(20)})
        raise ValueError(f"{int(stray.sum())} record(s) belong to no report row (row_id {sample})")
    df["row_id"] = df["row_id"].astype(str)

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
            values[col.ms] = pd.Series([r.note or "" for r in data_rows], index=data_ids, dtype=object)
            continue
        sub = df[_mask(df, _resolve_filter(spec.get("filter"), form.filters, f"column {col.ms}"))]
        result = MEASURES[measure](sub, spec, form) if len(sub) else pd.Series(dtype="int64")
        values[col.ms] = result.reindex(data_ids, fill_value=0).fillna(0).astype("int64")

    table = pd.DataFrame({ms: values[ms] for ms in form.ms_numbers}, index=data_ids)
    total_row = rows[-1]
    total = {}
    for c in form.columns:
        # The forms are additive: the total row is the sum of the rows, never a
        # recount over the union of records (which would hide cross-unit duplicates).
        total[c.ms] = int(table[c.ms].sum()) if c.kind == "number" else (total_row.note or "")
    table.loc[total_row.row_id] = pd.Series(total)
    for c in form.columns:
        table[c.ms] = table[c.ms].astype("int64") if c.kind == "number" else table[c.ms].astype(object)
    table.insert(0, "kind", [r.kind for r in rows])
    table.insert(0, "label", [r.label for r in rows])
    table.index.name = "row_id"
    return table


# ------------------------------------------------------------------ checking

def _row_name(table: pd.DataFrame, row_id: Any) -> str:
    label = table.at[row_id, "label"] if "label" in table.columns else row_id
    return f"dòng «{label}» ({row_id})"


def check_identities(form: FormDef, table: pd.DataFrame) -> list[str]:
    """Every violation of the form's checks in `table` (as made by :func:`compute`),
    as readable sentences; an empty list means the table may be delivered."""
    missing = [ms for ms in form.ms_numbers if ms not in table.columns]
    if missing:
        return [f"bảng thiếu cột {missing}"]
    out: list[str] = []
    nums = {}
    for ms in form.number_columns:
        col = pd.to_numeric(table[ms], errors="coerce")
        bad = col.isna() | (col < 0) | (col != col.round())
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
            for rid in table.index[~ok]:
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
            expected = int(nums[ms][~is_total].sum())
            if int(nums[ms][rid]) != expected:
                out.append(f"{_row_name(table, rid)}: cột {ms} = {int(nums[ms][rid])} nhưng tổng "
                           f"các dòng đơn vị = {expected}")
    return out


def assert_identities(form: FormDef, table: pd.DataFrame) -> None:
    violations = check_identities(form, table)
    if violations:
        raise IdentityError(violations)
