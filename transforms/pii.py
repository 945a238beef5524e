"""Personal data never passes ingestion (domain reference §5).

Names, addresses, phone numbers and free-text summaries are dropped; an ID number is
replaced by a keyed pseudonym (HMAC-SHA256 over the digits) so the same citizen can be
recognised without being identified. For a denunciation (tố cáo) even the pseudonym is
dropped: Luật Tố cáo 2018 Điều 8 protects the denouncer's identity, and a pseudonym is
re-identifiable by whoever holds the key.
"""
from __future__ import annotations

import hashlib
import hmac
import re

from pipeline import settings

# Source field names that carry personal data or free text that may contain it.
DROP_FIELDS = frozenset({
    "ho_ten_dia_chi", "ho_ten", "dia_chi", "dien_thoai", "so_dien_thoai", "noi_dung",
    "summary", "full_name", "address", "phone",
})
ID_FIELDS = frozenset({"so_giay_to", "so_cccd", "id_number"})
PSEUDONYM_FIELD = "citizen_pseudonym"


def pseudonym_key() -> bytes:
    cfg = settings.config()["pseudonymisation"]
    key = settings.secret(cfg["conn_id"], cfg["key_env"])
    if len(key) < 16:
        raise RuntimeError("the pseudonym key must be at least 16 characters long")
    return key.encode("utf-8")


def pseudonymise(id_number: object, key: bytes) -> str | None:
    digits = re.sub(r"\D", "", str(id_number or ""))
    if not digits:
        return None
    return hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def scrub(record: dict, key: bytes, *, is_denunciation: bool) -> dict:
    """A copy of a source record without personal data (nested `citizen` dicts too)."""
    out: dict = {}
    pseudo = None
    for name, value in record.items():
        if name == "citizen" and isinstance(value, dict):
            if not is_denunciation:
                pseudo = pseudonymise(value.get("id_number"), key)
            continue
        if name in ID_FIELDS:
            if not is_denunciation:
                pseudo = pseudonymise(value, key)
            continue
        if name in DROP_FIELDS:
            continue
        out[name] = value
    out[PSEUDONYM_FIELD] = pseudo
    return out
