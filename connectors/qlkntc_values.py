"""The figures of a landed biểu 06/QLKNTC workbook, read and checked on their own.

The 17 cells of the data row (MS 1–17) and the five cells of the optional protection
block (sheet "Bảo vệ người tố cáo", template version 2) as whole numbers, and every
reason the consolidation (transforms.qlkntc) would quarantine them: empty, not a
number, fractional, negative, the printed check Cột (8) <= Cột (6), the protection
block's identities. Pure functions of the payload the connector lands, so the
connector can tell the unit at once (the batch's ``findings``) and the consolidation
decides with the same code.
"""
from __future__ import annotations

import pandas as pd

from connectors import qlkntc_template as T
from core import normalise
from core import rules as rules_catalogue

VALUE_FIELDS = tuple(f"cot_{ms:02d}" for ms in range(1, T.N_COLUMNS + 1))   # payload keys of MS 1–17
# payload keys of the protection block's items (1)–(5); absent from a version-1 workbook
PROTECTION_FIELDS = tuple(f"bv_{i:02d}" for i in range(1, T.N_PROTECTION + 1))

# fact_qlkntc's value columns, MS 1–17 in order (warehouse/schema.py).
COLUMNS = ("docs_issued", "docs_amended", "docs_repealed", "training_classes", "training_participants",
           "inspections", "inspected_units", "inspections_concluded", "rec_admin_orgs", "rec_admin_persons",
           "rec_referred_orgs", "rec_referred_persons", "conclusions_to_implement", "handled_admin_orgs",
           "handled_admin_persons", "prosecuted_cases", "prosecuted_persons")
MS_OF = {c: ms for ms, c in enumerate(COLUMNS, start=1)}
# fact_qlkntc's nullable protection columns, items (1)–(5) of the protection block
# (NULL: the unit did not report them — a version-1 workbook or an empty block).
PROTECTION_COLUMNS = tuple(col for _, col in T.PROTECTION_ITEMS)
ITEM_OF = {c: i for i, c in enumerate(PROTECTION_COLUMNS, start=1)}
MAPPING_RULES = ("QLKNTC_VALUE_MISSING", "QLKNTC_VALUE_NOT_NUMBER", "QLKNTC_VALUE_FRACTIONAL",
                 "QLKNTC_PROTECTION_MISSING")


def column_label(ms: int) -> str:
    """"Cột (9) «Kiến nghị xử lý › Hành chính › Tổ chức»": the column as a person finds it."""
    path = T.COLUMNS[ms - 1][1]
    return f"Cột ({ms}) «{' › '.join(path[1:])}»"


def protection_label(item: int) -> str:
    """"Bảo vệ người tố cáo, dòng (4) «Số người được áp dụng …»": the cell as a person finds it."""
    return f"Trang «{T.PROTECTION_SHEET}», dòng {T.protection_label(item)}"


def value_label(col: str) -> str:
    return column_label(MS_OF[col]) if col in MS_OF else protection_label(ITEM_OF[col])


def _vn_number(x: float) -> str:
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


# ------------------------------------------------------------------ reading the cells
def parse_cell(value) -> tuple[int | None, str | None, str]:
    """(value, rule, detail) of one input cell as landed: a whole number, or the rule
    it breaks. Text that reads as a number (Vietnamese "1.250", a pasted "3") counts;
    the detail never repeats the text typed, only numbers."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "QLKNTC_VALUE_MISSING", ""
    if isinstance(value, str) and value.strip().startswith("="):
        return None, "QLKNTC_VALUE_NOT_NUMBER", "công thức chưa được tính giá trị"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None, "QLKNTC_VALUE_NOT_NUMBER", ""
    try:
        x = normalise.parse_decimal(value)
    except (normalise.RuleViolation, ValueError):
        return None, "QLKNTC_VALUE_NOT_NUMBER", ""
    if x != int(x):
        return None, "QLKNTC_VALUE_FRACTIONAL", _vn_number(x)
    return int(x), None, ""


def _with_detail(label: str, rule: str, detail: str) -> str:
    return label + (f" = {detail}" if rule == "QLKNTC_VALUE_FRACTIONAL" else f" ({detail})" if detail else "")


def has_protection_block(payload: dict) -> bool:
    """Whether the workbook had the protection sheet (template version 2 on)."""
    return any(f in payload for f in PROTECTION_FIELDS)


def read_values(payload: dict) -> tuple[dict[str, int | None], list[tuple[str, str]]]:
    """The 17 values and the five protection values (None: not reported) by canonical
    column, and the mapping problems as (rule, reason): one per rule, naming every cell
    concerned."""
    values: dict[str, int | None] = {}
    bad: dict[str, list[str]] = {}
    for ms, (fld, col) in enumerate(zip(VALUE_FIELDS, COLUMNS), start=1):
        v, rule, detail = parse_cell(payload.get(fld))
        if rule is None:
            values[col] = v
        else:
            bad.setdefault(rule, []).append(_with_detail(column_label(ms), rule, detail))
    parsed = [parse_cell(payload.get(f)) for f in PROTECTION_FIELDS]
    empty = [rule == "QLKNTC_VALUE_MISSING" for _, rule, _ in parsed]
    for col in PROTECTION_COLUMNS:
        values[col] = None
    if has_protection_block(payload) and not all(empty):
        # The block is filled: every cell must be a whole number (an empty one is a
        # block filled in part, not "not reported").
        for item, (col, (v, rule, detail)) in enumerate(zip(PROTECTION_COLUMNS, parsed), start=1):
            if rule is None:
                values[col] = v
            elif rule == "QLKNTC_VALUE_MISSING":
                bad.setdefault("QLKNTC_PROTECTION_MISSING", []).append(protection_label(item))
            else:
                bad.setdefault(rule, []).append(_with_detail(protection_label(item), rule, detail))
    problems = [(code, f"{rules_catalogue.rule(code)['title']}: {', '.join(bad[code])}") for code in MAPPING_RULES
                if code in bad]
    return values, problems


def opt_int(v) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def protection_breaks(values) -> list[str]:
    """The protection identities a set of values breaks, as Vietnamese clauses (none
    when the block was not reported): (1) = (2) + (3); (4) <= (1); (5) <= (1)."""
    total, denouncers, relatives, job, life = (opt_int(values[c]) for c in PROTECTION_COLUMNS)
    out = []
    if total is not None and denouncers is not None and relatives is not None and total != denouncers + relatives:
        out.append(f"dòng (1) = {total} khác dòng (2) + dòng (3) = {denouncers} + {relatives} "
                   f"(phải có dòng (1) = dòng (2) + dòng (3))")
    for item, v in ((4, job), (5, life)):
        if total is not None and v is not None and v > total:
            out.append(f"dòng ({item}) = {v} lớn hơn dòng (1) = {total} (phải có dòng ({item}) <= dòng (1))")
    return out


def protection_reason(values) -> str:
    return f"{rules_catalogue.rule('QLKNTC_PROTECTION_CHECK')['title']}: {'; '.join(protection_breaks(values))}"


def _check_details(values: dict[str, int]) -> list[tuple[str, str]]:
    """The canonical-suite rules a set of values breaks, with their reasons (the same
    tests as qlkntc_canonical, so the connector can warn at once)."""
    out = []
    negative = [f"{value_label(c)} = {v}" for c, v in values.items() if v is not None and v < 0]
    if negative:
        title = rules_catalogue.rule("QLKNTC_VALUE_NEGATIVE")["title"]
        out.append(("QLKNTC_VALUE_NEGATIVE", f"{title}: {', '.join(negative)}"))
    lhs, rhs = COLUMNS[T.CHECK_LHS - 1], COLUMNS[T.CHECK_RHS - 1]
    if lhs in values and rhs in values and values[lhs] > values[rhs]:
        out.append(("QLKNTC_FORM_CHECK", form_check_reason(values[lhs], values[rhs])))
    if protection_breaks(values):
        out.append(("QLKNTC_PROTECTION_CHECK", protection_reason(values)))
    return out


def form_check_reason(lhs: int, rhs: int) -> str:
    return (f"{rules_catalogue.rule('QLKNTC_FORM_CHECK')['title']}: Cột ({T.CHECK_LHS}) = {lhs} lớn hơn Cột "
            f"({T.CHECK_RHS}) = {rhs} (phải có Cột ({T.CHECK_LHS}) <= Cột ({T.CHECK_RHS}))")


def problems(payload: dict) -> list[tuple[str, str]]:
    """Every reason the figures of a landed workbook would be quarantined (rule, reason)."""
    values, found = read_values(payload)
    return found + (_check_details(values) if not found else [])
