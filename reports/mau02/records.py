"""What :func:`~reports.mau02.document.build_mau02` returns and records: each figure
written (:class:`Figure`), each placeholder left for a person (:class:`Placeholder`), the
result with the path of the figure record (:func:`figures_path`); which tables a
comparison period should supply (:func:`comparison_codes`) and the reasons of empty
cells from the form definitions (:func:`na_reasons`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from reports.mau02.catalogue import FORM_CODES, OLD_EQUIVALENTS


@dataclass(frozen=True)
class Figure:
    """One figure written into the document.

    ``ms`` is the MS number of the cell (``kind`` "cell"), the MS numbers added up
    ("sum", e.g. 01/TCD 9+15+21) or (numerator, denominator) of a percentage ("share",
    value = 100 × num ÷ den). ``value`` / ``previous`` / ``same_period_last_year`` are
    None when not available; ``na_reason`` / ``previous_note`` / ``last_year_note`` say
    why. ``previous_source`` names the cells a comparison value was read from (an old
    form's columns when the comparison period was on the older forms). ``text`` is the
    paragraph exactly as written; ``group`` the lead-in line it is listed under, if any
    ("- Tiếp thường xuyên:").
    """

    heading: str
    text_label: str
    form: str
    ms: int | tuple[int, ...]
    value: int | float | None
    previous: int | float | None
    same_period_last_year: int | float | None
    kind: str = "cell"
    unit: str = ""
    group: str = ""
    text: str = ""
    na_reason: str | None = None
    previous_note: str | None = None
    last_year_note: str | None = None
    previous_source: str | None = None
    last_year_source: str | None = None


@dataclass(frozen=True)
class Placeholder:
    """A part only a person can write, or a figure no table carries."""

    heading: str
    text: str


@dataclass(frozen=True)
class Mau02Result:
    path: Path                  # the .docx
    figures_path: Path          # <stem>.so-lieu.json
    figures: list[Figure]
    placeholders: list[Placeholder]


def comparison_codes(regime_id: str) -> tuple[str, ...]:
    """The forms whose tables a comparison period under `regime_id` should supply: the
    2025 set, or the old forms :data:`OLD_EQUIVALENTS` reads (TT 01/2024 numbering)."""
    if regime_id == "TT06_2025":
        return FORM_CODES
    return tuple(sorted({code for cols in OLD_EQUIVALENTS.values() for code, _ in cols.values()}))


def figures_path(docx_path: str | Path) -> Path:
    """Where the figure record of a document goes: ``<stem>.so-lieu.json`` beside it."""
    p = Path(docx_path)
    return p.with_name(f"{p.stem}.so-lieu.json")


def na_reasons(forms: Iterable[Any]) -> dict[str, str]:
    """``notes`` entries ("<form>:<ms>" → reason) for the ``unavailable`` columns of
    the given form definitions (reports.formdef.FormDef), with their own reasons, and for
    the columns that need a field some sources lack (``requires``: their total is empty
    when a row's source lacks it)."""
    out: dict[str, str] = {}
    for form in forms:
        for col in form.columns:
            if col.kind == "unavailable":
                out[f"{form.code}:{col.ms}"] = " ".join(str(col.compute.get("reason", "")).split())
            elif col.requires:
                out[f"{form.code}:{col.ms}"] = ("có đơn vị chưa đủ số liệu — "
                                                + " ".join(str(col.reason).split()).rstrip("."))
    return out
