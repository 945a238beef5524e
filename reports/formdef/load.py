"""Reading a form definition: a YAML file (or a mapping) validated and turned into a
:class:`~reports.formdef.model.FormDef` — header tree, columns, named filters, second
inputs, check identities — and the definition of a form in the regime that governs a
report window (:func:`form_definition`).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from core import regimes, yaml_files
from core.settings import Settings
from reports.formdef.errors import FormDefinitionError
from reports.formdef.filters import MATCH_ALL, Filter, check_filter_cycles, check_refs, compile_filter
from reports.formdef.measures import MEASURES
from reports.formdef.model import (
    DEFAULT_NUMBER_FORMAT,
    SOURCE_COVERAGE,
    SOURCE_ROWS,
    UNAVAILABLE,
    Check,
    FormColumn,
    FormDef,
    HeaderNode,
    SourceDef,
    format_decimals,
    topo_order,
)

_CASE_DEFAULTS = {
    "case_column": "case_key",
    "visit_column": "visit",
    "first_value": "lan_dau",
    "order_by": ["received_date", "reception_key"],
    "record_key": "reception_key",
}
_TEXT_MEASURES = {"note"}
_COUNT_MEASURES = {"count_records", "count_distinct", "count_cases", "count_cases_first", "count_cases_repeat"}
_CHECK_OPS = ("<=", ">=", "=")
_SOURCE_MEASURES = {"count_records", "sum", "count_distinct"}
_PICKS = ("last", "first")


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
                filters: dict[str, Filter]) -> HeaderNode:
    if not isinstance(raw, dict) or "text" not in raw:
        raise FormDefinitionError(f"header node without text under {' > '.join(path)!r}: {raw!r}")
    text = str(raw["text"])
    if "children" in raw:
        if "ms" in raw:
            raise FormDefinitionError(f"header group {text!r} cannot also have ms")
        kids = raw["children"] or []
        if not kids:
            raise FormDefinitionError(f"header group {text!r} has no children")
        row_span = raw.get("row_span", 1)
        if not isinstance(row_span, int) or isinstance(row_span, bool) or row_span < 1:
            raise FormDefinitionError(f"header group {text!r}: row_span is a whole number ≥ 1, not {row_span!r}")
        children = tuple(_build_node(k, path + (text,), out, filters) for k in kids)
        return HeaderNode(text, None, children, row_span)
    if "ms" not in raw:
        raise FormDefinitionError(f"header leaf {text!r} has no ms number")
    if "row_span" in raw:
        raise FormDefinitionError(f"header leaf {text!r}: a column spans down to the MS row; row_span "
                                  "belongs to groups")
    ms = int(raw["ms"])
    compute = dict(raw.get("compute") or {})
    if not compute:
        raise FormDefinitionError(f"column {ms} ({text!r}) has no compute spec")
    where_node: Filter | None = None
    flt: Filter = MATCH_ALL
    if "sum_of" in compute:
        kind = "number"
    elif compute.get("measure") == UNAVAILABLE:
        kind = UNAVAILABLE
        # Nothing is counted, so anything that would say how to count is a mistake.
        extra = sorted(set(compute) - {"measure", "reason"})
        if extra:
            raise FormDefinitionError(f"column {ms}: measure unavailable takes only `reason`, not {extra}")
        if not str(compute.get("reason") or "").strip():
            raise FormDefinitionError(f"column {ms}: measure unavailable needs a `reason` (why the sources "
                                      "cannot fill it), printed under the table")
        if raw.get("number_format") is not None:
            raise FormDefinitionError(f"column {ms}: an unavailable column has no number_format")
    else:
        measure = compute.get("measure")
        if measure not in MEASURES and measure not in _TEXT_MEASURES:
            raise FormDefinitionError(f"column {ms}: unknown measure {measure!r}")
        kind = "text" if measure in _TEXT_MEASURES else "number"
        if measure == "sum":
            cols = compute.get("columns")
            if bool(compute.get("column")) == bool(cols):
                raise FormDefinitionError(f"column {ms}: measure sum needs `column` or `columns` (one of them)")
            if cols is not None and (not isinstance(cols, list) or not cols
                                     or not all(isinstance(c, str) and c for c in cols)):
                raise FormDefinitionError(f"column {ms}: `columns` is a list of column names")
        if "per_case" in compute and (measure != "sum" or not isinstance(compute["per_case"], bool)):
            raise FormDefinitionError(f"column {ms}: `per_case: true|false` belongs to measure sum")
        elif measure == "count_distinct" and not compute.get("column"):
            raise FormDefinitionError(f"column {ms}: measure {measure} needs `column`")
        if compute.get("source") is not None and measure not in _SOURCE_MEASURES:
            raise FormDefinitionError(f"column {ms}: a column of a second input (`source`) is counted with "
                                      f"{sorted(_SOURCE_MEASURES)}, not {measure!r}")
        flt = compile_filter(compute.get("filter"), f"column {ms} filter")
        check_refs(flt, filters, f"column {ms}")
        if "where" in compute:
            if measure != "count_cases":
                raise FormDefinitionError(f"column {ms}: `where` belongs to measure count_cases, not {measure}")
            where_node = compile_filter(compute["where"], f"column {ms} where")
            check_refs(where_node, filters, f"column {ms}")
        if compute.get("pick", "last") not in _PICKS:
            raise FormDefinitionError(f"column {ms}: `pick` is one of {_PICKS}")
        if "requires" in compute or "reason" in compute:
            if kind != "number":
                raise FormDefinitionError(f"column {ms}: `requires` belongs to number columns")
            if not (isinstance(compute.get("requires"), str) and compute["requires"].strip()):
                raise FormDefinitionError(f"column {ms}: `requires` names the record field the column needs")
            if not str(compute.get("reason") or "").strip():
                raise FormDefinitionError(f"column {ms}: a column with `requires` needs a `reason` (why a "
                                          "cell can be empty), printed under the table")
    fmt = raw.get("number_format")
    if fmt is not None and kind != "number":
        raise FormDefinitionError(f"column {ms}: a text column has no number_format")
    if fmt is not None and format_decimals(str(fmt)) > 0 and compute.get("measure") in _COUNT_MEASURES:
        raise FormDefinitionError(f"column {ms}: a count is an integer; {fmt!r} shows decimals")
    width = raw.get("width")
    out.append(FormColumn(ms, text, str(raw.get("ms_text", ms)), compute, kind,
                          float(width) if width is not None else None, path,
                          str(fmt) if fmt is not None else DEFAULT_NUMBER_FORMAT, flt, where_node,
                          str(compute["source"]) if compute.get("source") is not None else None))
    # A sum_of column without a format of its own takes its parts' (_settle_sum_of_formats).
    return HeaderNode(text, ms, ())


def _with_format(col: FormColumn, fmt: str | None) -> FormColumn:
    return FormColumn(col.ms, col.text, col.ms_text, col.compute, col.kind, col.width, col.path,
                      fmt or DEFAULT_NUMBER_FORMAT, col.filter, col.where, col.source)


def _settle_sum_of_formats(columns: list[FormColumn], explicit: set[int]) -> list[FormColumn]:
    """A sum_of column is decimal when one of its parts is: without a format of its own
    it takes the first decimal part's format; an integer format over decimal parts
    would print a rounded figure, so it is refused."""
    by_ms = {c.ms: c for c in columns}
    for c in topo_order(columns):
        if "sum_of" not in c.compute:
            continue
        parts = [by_ms[int(d)] for d in c.compute["sum_of"]]
        decimal_parts = [p for p in parts if p.decimal]
        if not decimal_parts:
            continue
        if c.ms in explicit:
            if not c.decimal:
                raise FormDefinitionError(f"column {c.ms}: adds decimal columns "
                                          f"{[p.ms for p in decimal_parts]} but its number_format "
                                          f"{c.number_format!r} shows no decimals")
            continue
        by_ms[c.ms] = _with_format(c, decimal_parts[0].number_format)
    return [by_ms[c.ms] for c in columns]


def load_form(path: str | Path) -> FormDef:
    """Read and validate a form definition file.

    Parsed once per version of the file (path, modification time, size): a report set
    or a lineage query asks for the same few forms hundreds of times, and parsing one
    costs ~0.1 s. A FormDef is frozen; an edited file is read again."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:          # let the loader say what is wrong, in its words
        return form_from_dict(yaml_files.load_yaml(path), str(path))
    return _load_form(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _load_form(path: str, mtime_ns: int, size: int) -> FormDef:
    return form_from_dict(yaml_files.load_yaml(Path(path)), path)


def form_from_dict(raw: dict[str, Any], path: str | None = None) -> FormDef:
    if not isinstance(raw, dict):
        raise FormDefinitionError("a form definition is a mapping")
    if int(raw.get("schema", 1)) != 1:
        raise FormDefinitionError(f"unsupported form schema {raw.get('schema')!r}")
    for key in ("form", "version", "title", "header"):
        if key not in raw:
            raise FormDefinitionError(f"form definition lacks `{key}`")
    raw_filters = raw.get("filters") or {}
    if not isinstance(raw_filters, Mapping):
        raise FormDefinitionError("`filters` maps names to filters")
    filters = {str(k): compile_filter(v, f"filter {k}") for k, v in raw_filters.items()}
    for name, node in filters.items():
        check_refs(node, filters, f"filter {name}")
    check_filter_cycles(filters)
    population = None
    if raw.get("population") is not None:
        population = compile_filter(raw["population"], "population")
        check_refs(population, filters, "population")
    sources = _parse_sources(raw.get("sources"))
    columns: list[FormColumn] = []
    header = tuple(_build_node(n, (), columns, filters) for n in raw["header"])
    for c in columns:
        if c.source is not None and c.source not in sources:
            raise FormDefinitionError(f"column {c.ms}: unknown source {c.source!r} (declare it under `sources:`)")
    ms = [c.ms for c in columns]
    if len(set(ms)) != len(ms):
        dup = sorted({m for m in ms if ms.count(m) > 1})
        raise FormDefinitionError(f"duplicate MS numbers {dup}")
    known = set(ms)
    numeric = {c.ms for c in columns if c.kind == "number"}
    unavailable = {c.ms for c in columns if c.kind == UNAVAILABLE}
    for c in columns:
        for dep in c.compute.get("sum_of", []):
            if int(dep) in unavailable:
                raise FormDefinitionError(f"column {c.ms}: sum_of refers to {dep}, a column without data "
                                          "(measure unavailable); make this column unavailable too")
            if int(dep) not in numeric:
                raise FormDefinitionError(f"column {c.ms}: sum_of refers to {dep}, not a numeric column")
    topo_order(columns)  # raises on cycles
    explicit_formats = {int(n["ms"]) for n in _leaves_raw(raw["header"]) if "number_format" in n}
    columns = _settle_sum_of_formats(columns, explicit_formats)
    checks = tuple(parse_check(t if isinstance(t, dict) else str(t)) for t in raw.get("checks") or [])
    for chk in checks:
        for side in chk.sides:
            # A check over an unavailable column is kept (the form prints it) and skipped
            # when checking (FormDef.unchecked_checks).
            bad = [m for m in side if m not in known or m not in numeric | unavailable]
            if bad:
                raise FormDefinitionError(f"check {chk.text!r} refers to unknown or text columns {bad}")
    cases = {**_CASE_DEFAULTS, **(raw.get("cases") or {})}
    code = str(raw["form"])
    guide = raw.get("guide") or []
    if not isinstance(guide, list) or not all(isinstance(g, str) for g in guide):
        raise FormDefinitionError("`guide` is a list of lines (text)")
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
        periodic_only=bool(raw.get("periodic_only", False)),
        path=path, population=population,
        annex_line=_printed(raw.get("annex_line")), note_line=_printed(raw.get("note_line")),
        guide=tuple(_printed(g) for g in guide), sources=sources,
    )


def _parse_sources(raw: Any) -> dict[str, SourceDef]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise FormDefinitionError("`sources` maps names to {table, date_column, …}")
    out = {}
    for name, spec in raw.items():
        if not isinstance(spec, Mapping) or not spec.get("table") or not spec.get("date_column"):
            raise FormDefinitionError(f"source {name!r} needs `table` and `date_column`")
        unknown = sorted(set(spec) - {"table", "date_column", "record_key", "rows", "coverage", "missing_note",
                                      "absent_reason"})
        if unknown:
            raise FormDefinitionError(f"source {name!r}: unknown keys {unknown}")
        rows = str(spec.get("rows", "all_units"))
        coverage = spec.get("coverage")
        if rows not in SOURCE_ROWS:
            raise FormDefinitionError(f"source {name!r}: `rows` is one of {SOURCE_ROWS}")
        if coverage not in SOURCE_COVERAGE:
            raise FormDefinitionError(f"source {name!r}: `coverage` is `month` or absent")
        kw = {k: str(spec[k]).strip() for k in ("record_key", "missing_note", "absent_reason") if spec.get(k)}
        out[str(name)] = SourceDef(str(name), str(spec["table"]), str(spec["date_column"]), rows=rows,
                                   coverage=coverage, **kw)
    return out


def _printed(text: Any) -> str:
    """A line printed verbatim from the circular, with its no-break spaces (U+00A0, as
    typed in the circular) read as spaces, so that it wraps and compares as text."""
    return str(text or "").replace("\u00a0", " ").strip()


def _leaves_raw(nodes: list) -> Iterable[dict]:
    for n in nodes or []:
        if isinstance(n, dict) and "children" in n:
            yield from _leaves_raw(n["children"])
        elif isinstance(n, dict) and "ms" in n:
            yield n


def form_definition(form_code: str, period_or_end, cfg: Settings) -> FormDef:
    """The definition of `form_code` in the reporting regime that governs a report over
    `period_or_end` — a Period or its window's last day (core.regimes: the regime of
    ``cfg.regimes`` in force on the window's end); a definition under ``cfg.home``
    first."""
    regime = regimes.regime_for(period_or_end, cfg.regimes)
    return load_form(regimes.definition_path(regime, form_code, cfg.home))
