"""Normalise values as people and systems write them: Unicode, dates, integers, codes.

The code lists (which spellings mean which canonical code) are data:
config/codes.yaml, validated when this module is loaded.

Every parser raises ``RuleViolation`` (a ValueError) carrying the code of the
data-quality rule it enforces (expectations/rules.yaml) and a message a person can act
on (in Vietnamese, since it is shown to the unit that must correct its data); callers
quarantine the row under that code.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata

from pydantic import BaseModel, ConfigDict, StrictStr, model_validator

from core import environment, yaml_files

_SPACES = re.compile(r"\s+")


class RuleViolation(ValueError):
    """A value breaks a data-quality rule; ``rule`` is its code in expectations/rules.yaml."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


def nfc(value: str) -> str:
    """Unicode NFC with collapsed whitespace (registers mix NFC and NFD text)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def unit_code_text(code: object) -> str:
    """A unit code as text, as spreadsheets and databases may hand it over ('00004',
    ' 00004 ', 4.0 read as '4.0' → the digits)."""
    s = str(code if code is not None else "").strip()
    return s[:-2] if s.endswith(".0") else s


def case_ref(ref: object) -> str | None:
    """A case reference (mã vụ việc, vu_viec_id, case_id) as text: None when blank;
    numeric ids read from spreadsheets lose their '.0'; NFC."""
    if ref is None or str(ref).strip() == "":
        return None
    s = str(ref).strip()
    if s.endswith(".0") and s[:-2].isdigit():
        s = s[:-2]
    return nfc(s)


def fold(value: object) -> str:
    """A matching key: no diacritics, lower case, đ→d, single spaces, no punctuation
    at the ends. "Số CCCD/Hộ chiếu" and "so cccd/ho chieu" fold to the same key."""
    return _fold(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _fold(text: str) -> str:
    # Coded columns repeat a few spellings a million times: fold each spelling once.
    s = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", s).strip(" .:;,-\t\n").lower()


_DATE_TEXT = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")


def parse_date(value: object) -> dt.date:
    """A date from a date/datetime cell, ISO text, or Vietnamese dd/mm/yyyy text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RuleViolation("REQUIRED_MISSING", "thiếu ngày")
    s = str(value)
    m = _ISO.match(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _DATE_TEXT.match(s)
        if not m:
            raise RuleViolation("DATE_INVALID", f"ngày không đúng định dạng dd/mm/yyyy: {s[:20]!r}")
        d, mo, y = (int(g) for g in m.groups())
    try:
        return dt.date(y, mo, d)
    except ValueError:
        raise RuleViolation("DATE_INVALID", f"ngày không tồn tại: {s[:20]!r}") from None


_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")


def parse_int(value: object, *, minimum: int | None = None, maximum: int | None = None,
              field: str = "số") -> int:
    """An integer from a number cell or text; "1.234" is Vietnamese for 1234."""
    if isinstance(value, bool):
        raise RuleViolation("NUMBER_INVALID", f"{field} không phải là số: {value!r}")
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if value != int(value):
            raise RuleViolation("NUMBER_INVALID", f"{field} không phải số nguyên: {value!r}")
        n = int(value)
    else:
        s = str(value or "").strip().replace(" ", "")
        if not s:
            # An empty cell, or a formula whose value was never calculated (files written
            # by programs rather than by Excel carry no cached result).
            raise RuleViolation("REQUIRED_MISSING",
                                f"thiếu {field} (ô trống, hoặc công thức chưa được tính giá trị)")
        if _THOUSANDS.match(s):
            s = s.replace(".", "")
        if not re.fullmatch(r"-?\d+", s):
            raise RuleViolation("NUMBER_INVALID", f"{field} không phải là số: {str(value)[:20]!r}")
        n = int(s)
    if minimum is not None and n < minimum:
        raise RuleViolation("NUMBER_INVALID", f"{field} phải ≥ {minimum}, nhận được {n}")
    if maximum is not None and n > maximum:
        raise RuleViolation("NUMBER_INVALID", f"{field} = {n} vượt quá mức hợp lý ({maximum}); kiểm tra lại số liệu")
    return n


_VN_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")       # 1.250 · 1.250,5
_VN_DECIMAL = re.compile(r"^-?\d+,\d+$")                           # 1250,5
_EN_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+\.\d+$")            # 1,250.5 (with decimals only)
_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")                             # 1250 · 1250.5


def parse_decimal(value: object, *, field: str = "số") -> float:
    """A decimal number from a number cell or text as Vietnamese write it: "." between
    thousands and "," before decimals ("1.250,5" = 1250.5, "1.250" = 1250, "12,5" =
    12.5). A plain "12.5" (a number a program wrote as text) reads as 12.5; "1,250.5"
    (English, with decimals) as 1250.5. A comma alone is always the decimal mark, as in
    Vietnamese: "1,250" is 1.25. Negative numbers are read (a rule decides on them)."""
    if isinstance(value, bool):
        raise RuleViolation("NUMBER_INVALID", f"{field} không phải là số: {value!r}")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise RuleViolation("NUMBER_INVALID", f"{field} không phải là số: {value!r}")
        return float(value)
    s = str(value or "").strip().replace(" ", "").replace("\u00a0", "")
    if not s:
        raise RuleViolation("REQUIRED_MISSING", f"thiếu {field} (ô trống, hoặc công thức chưa được tính giá trị)")
    if _VN_THOUSANDS.match(s):
        s = s.replace(".", "").replace(",", ".")
    elif _VN_DECIMAL.match(s):
        s = s.replace(",", ".")
    elif _EN_THOUSANDS.match(s):
        s = s.replace(",", "")
    elif not _PLAIN.match(s):
        raise RuleViolation("NUMBER_INVALID", f"{field} không phải là số: {str(value)[:20]!r}")
    return float(s)


def lookup(mapping: dict[str, str], value: object, field: str) -> str:
    """Map a coded or free-text value to a canonical code via folded keys."""
    key = fold(value) if value is not None else ""
    try:
        return mapping[key]
    except KeyError:
        if key == "":
            raise RuleViolation("REQUIRED_MISSING", f"thiếu giá trị ở cột {field}") from None
        allowed = ", ".join(sorted({k for k in mapping if k}))
        raise RuleViolation("CODE_NOT_IN_DOMAIN",
                            f"giá trị '{str(value)[:30]}' không hợp lệ ở cột {field} (hợp lệ: {allowed})") from None


def folded_map(pairs: dict[str, list[str]]) -> dict[str, str]:
    """{canonical: [spellings]} → {folded spelling: canonical}."""
    out: dict[str, str] = {}
    for canonical, spellings in pairs.items():
        for s in [canonical, *spellings]:
            out[fold(s)] = canonical
    return out


class CodeLists(BaseModel):
    """config/codes.yaml: per coded field, {canonical code: [accepted spellings]}."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: dict[StrictStr, list[StrictStr]]
    mode: dict[StrictStr, list[StrictStr]]
    receiver: dict[StrictStr, list[StrictStr]]
    calendar_receiver: dict[StrictStr, list[StrictStr]]
    visit: dict[StrictStr, list[StrictStr]]
    status: dict[StrictStr, list[StrictStr]]
    channel: dict[StrictStr, list[StrictStr]]
    field: dict[StrictStr, list[StrictStr]]
    handling: dict[StrictStr, list[StrictStr]]
    resolution: dict[StrictStr, list[StrictStr]]
    round: dict[StrictStr, list[StrictStr]]
    outcome: dict[StrictStr, list[StrictStr]]
    on_time: dict[StrictStr, list[StrictStr]]
    yes_no: dict[StrictStr, list[StrictStr]]

    @model_validator(mode="after")
    def _one_code_per_spelling(self) -> CodeLists:
        for name in type(self).model_fields:
            seen: dict[str, str] = {}
            for code, spellings in getattr(self, name).items():
                for s in (code, *spellings):
                    if seen.setdefault(fold(s), code) != code:
                        raise ValueError(f"{name}: {s!r} is a spelling of both {seen[fold(s)]} and {code}")
        return self


CODES_FILE = environment.PROJECT_ROOT / "config" / "codes.yaml"
CODES: CodeLists = yaml_files.validate_yaml(CodeLists, CODES_FILE)

KIND = folded_map(CODES.kind)
MODE = folded_map(CODES.mode)
RECEIVER = folded_map(CODES.receiver)
# Who receives on an announced day of the head's reception calendar: the head in
# person or a deputy by delegation (config/codes.yaml).
CALENDAR_RECEIVER = folded_map(CODES.calendar_receiver)
VISIT = folded_map(CODES.visit)
STATUS = folded_map(CODES.status)
CHANNEL = folded_map(CODES.channel)
FIELD = folded_map(CODES.field)
HANDLING = folded_map(CODES.handling)
RESOLUTION = folded_map(CODES.resolution)
ROUND = folded_map(CODES.round)
OUTCOME = folded_map(CODES.outcome)
ON_TIME = folded_map(CODES.on_time)
YES_NO = folded_map(CODES.yes_no)


def yes_no(value: object, field: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    return lookup(YES_NO, value, field) == "yes"
