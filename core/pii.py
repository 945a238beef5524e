"""Personal data never passes ingestion (domain reference §5).

Names, addresses, phone numbers and free-text summaries are dropped; an ID number is
replaced by a keyed pseudonym (HMAC-SHA256 over the digits) so the same citizen can be
recognised without being identified.

A denouncer (tố cáo) gets no such pseudonym: Luật Tố cáo 2018 Điều 8 protects the
denouncer's identity, and a person-wide pseudonym would link their petitions across
cases and to their other records. They get a *case-scoped* one instead (ADR 0005):
HMAC-SHA256 under a key derived for this purpose only, over the case (unit and case
reference) and the ID number. Within one case it tells two denouncers apart, so that
de-duplication does not merge them; across cases, and against the citizen-wide
pseudonym of the same ID number, it matches nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import re

from core import connections, normalise
from core.settings import Settings

# Source field names that carry personal data or free text that may contain it.
DROP_FIELDS = frozenset({
    "ho_ten_dia_chi", "ho_ten", "dia_chi", "dien_thoai", "so_dien_thoai", "noi_dung",
    "summary", "full_name", "address", "phone",
})
ID_FIELDS = frozenset({"so_giay_to", "so_cccd", "id_number"})
PSEUDONYM_FIELD = "citizen_pseudonym"


def pseudonym_key(cfg: Settings) -> bytes:
    """The pseudonymisation key: the secret of connection ``pseudonymisation.conn_id``
    (else TCD_PSEUDONYM_KEY)."""
    key = connections.secret(cfg.pseudonymisation.conn_id, "pseudonym_key", cfg.env)
    if len(key) < 16:
        raise RuntimeError("the pseudonym key must be at least 16 characters long")
    return key.encode("utf-8")


def pseudonymise(id_number: object, key: bytes) -> str | None:
    digits = re.sub(r"\D", "", str(id_number or ""))
    if not digits:
        return None
    return hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()[:32]


# Domain separation: the denouncer key is derived from the pseudonym key and never used
# for anything else, so no denouncer pseudonym can equal a citizen-wide one.
_DENOUNCER_KEY_LABEL = b"tcd/to-cao/case-scoped-pseudonym/v1"
DENOUNCER_PREFIX = "tc-"


def case_scope(unit_code: object, case_ref: object, day: object = None) -> str:
    """The scope of a denouncer's pseudonym: the case, named by its unit and the unit's
    case reference (mã vụ việc). A record with no case reference is scoped to its unit
    and day — still useless for linking a person across days or cases."""
    unit = normalise.unit_code_text(unit_code)
    ref = normalise.case_ref(case_ref)
    if ref is not None:
        return f"case\x1f{unit}\x1f{ref}"
    return f"day\x1f{unit}\x1f{str(day if day is not None else '').strip()[:10]}"


def denouncer_pseudonym(id_number: object, key: bytes, scope: str) -> str | None:
    """The case-scoped pseudonym of a denouncer (see the module docstring)."""
    digits = re.sub(r"\D", "", str(id_number or ""))
    if not digits:
        return None
    case_key = hmac.new(key, _DENOUNCER_KEY_LABEL, hashlib.sha256).digest()
    message = scope.encode("utf-8") + b"\x1f" + digits.encode("ascii")
    # The "tc-" prefix lets the canonical suite check that no denunciation carries a
    # citizen-wide pseudonym (rule DENOUNCER_IDENTITY).
    return DENOUNCER_PREFIX + hmac.new(case_key, message, hashlib.sha256).hexdigest()[:32]


def scrub(record: dict, key: bytes, *, is_denunciation: bool, case_scope: str | None = None) -> dict:
    """A copy of a source record without personal data (nested `citizen` dicts too).

    The ID number becomes ``citizen_pseudonym``: citizen-wide for KN and KNPA records;
    for a denunciation, scoped to ``case_scope`` (:func:`case_scope`), or none at all
    when no scope is given."""
    out: dict = {}
    pseudo = None

    def pseudonym(id_number):
        if not is_denunciation:
            return pseudonymise(id_number, key)
        return denouncer_pseudonym(id_number, key, case_scope) if case_scope is not None else None

    for name, value in record.items():
        if name == "citizen" and isinstance(value, dict):
            pseudo = pseudonym(value.get("id_number"))
            continue
        if name in ID_FIELDS:
            pseudo = pseudonym(value)
            continue
        if name in DROP_FIELDS:
            continue
        out[name] = value
    out[PSEUDONYM_FIELD] = pseudo
    return out
