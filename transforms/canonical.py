"""Map one raw payload (values as received, personal data already scrubbed) to a
canonical record. One mapper per (source kind, record type); each returns a dict of
canonical fields including ``status`` and raises ``RuleViolation`` (rule code + a
reason a person can act on) when the row cannot be read at all.

Mapping only *reads*: a value that can be read but breaks a rule (a people count out
of range, a periodic reception by staff, a date in the future, a unit not in force on
the date) is left to the canonical Great Expectations suite, whose rules carry the
severity that decides what happens to the row (expectations/gx, rules.yaml)."""
from __future__ import annotations

from typing import Callable

from transforms import normalise as n

GROUP_MIN_PEOPLE = 5
RuleViolation = n.RuleViolation


def _case_key(unit_code: str, ref) -> str | None:
    if ref is None or str(ref).strip() == "":
        return None
    ref = str(ref).strip()
    if ref.endswith(".0") and ref[:-2].isdigit():      # numeric ids read from spreadsheets
        ref = ref[:-2]
    return f"{unit_code}:{n.nfc(ref)}"


def _unit(code, field: str = "mã đơn vị") -> str:
    s = str(code or "").strip()
    if s.endswith(".0"):
        s = s[:-2]
    if not s.isdigit() or len(s) not in (2, 3, 5):
        if not s:
            raise RuleViolation("REQUIRED_MISSING", f"thiếu {field}")
        raise RuleViolation("UNIT_CODE_INVALID",
                            f"{field} '{s[:10]}' không phải mã đơn vị hành chính (2, 3 hoặc 5 chữ số)")
    return s


def _reception(unit_code, date, mode, receiver, sitting_key, people, kind, case_key, visit,
               pseudo, status) -> dict:
    return {"unit_code": unit_code, "received_date": date, "mode": mode, "receiver": receiver,
            "sitting_key": sitting_key if mode != "thuong_xuyen" else None, "people": people,
            "is_group": people >= GROUP_MIN_PEOPLE, "petition_kind": kind, "case_key": case_key,
            "visit": visit, "citizen_pseudonym": None if kind == "TC" else pseudo,
            "status": status}


def _petition(unit_code, date, channel, kind, signers: int, field, case_key, *, eligible,
              competent, handling, reply_received, resolution=None, resolved=None, pseudo,
              status) -> dict:
    """A canonical petition. Signers: 5 or more = đơn có nhiều người đứng tên; none =
    đơn khác (unsigned, anonymous)."""
    return {
        "unit_code": unit_code, "received_date": date, "channel": channel, "petition_kind": kind,
        "signers": "nhieu" if signers >= GROUP_MIN_PEOPLE else ("mot" if signers >= 1 else "khac"),
        "field": field, "case_key": case_key, "eligible": eligible, "competent": competent,
        "handling": handling, "reply_received": reply_received, "resolution_status": resolution,
        "resolved_date": resolved, "citizen_pseudonym": None if kind == "TC" else pseudo,
        "status": status,
    }


def _optional(mapping, value, field):
    return n.lookup(mapping, value, field) if value not in (None, "") else None


# ------------------------------------------------------------------ commune registers
def register_reception(p: dict, unit_code: str) -> dict:
    date = n.parse_date(p.get("ngay_tiep"))
    mode = n.lookup(n.MODE, p.get("hinh_thuc"), "Hình thức tiếp")
    receiver = n.lookup(n.RECEIVER, p.get("nguoi_tiep"), "Người tiếp")
    sitting = f"{unit_code}:{date.isoformat()}:{receiver}"
    case = _case_key(unit_code, p.get("ma_vu_viec"))
    if case is None:
        raise RuleViolation("REQUIRED_MISSING", "thiếu Mã vụ việc")
    return _reception(unit_code, date, mode, receiver, sitting,
                      n.parse_int(p.get("so_nguoi"), field="Số người"),
                      n.lookup(n.KIND, p.get("loai"), "Phân loại"), case,
                      n.lookup(n.VISIT, p.get("lan_tiep"), "Lần tiếp"),
                      p.get("citizen_pseudonym"), "official")


def register_petition(p: dict, unit_code: str) -> dict:
    return _petition(
        unit_code, n.parse_date(p.get("ngay_nhan")), n.lookup(n.CHANNEL, p.get("nguon_don"), "Nguồn đơn"),
        n.lookup(n.KIND, p.get("loai"), "Phân loại"),
        n.parse_int(p.get("so_nguoi_dung_ten"), minimum=0, field="Số người đứng tên"),
        _optional(n.FIELD, p.get("linh_vuc"), "Lĩnh vực"), _case_key(unit_code, p.get("ma_vu_viec")),
        eligible=n.yes_no(p.get("du_dieu_kien"), "Đủ điều kiện xử lý"),
        competent=n.yes_no(p.get("tham_quyen"), "Thẩm quyền"),
        handling=_optional(n.HANDLING, p.get("xu_ly"), "Hình thức xử lý"),
        reply_received=n.yes_no(p.get("van_ban_phuc_dap") or "", "Văn bản phúc đáp"),
        resolution=_optional(n.RESOLUTION, p.get("tinh_trang"), "Tình trạng giải quyết"),
        resolved=n.parse_date(p["ngay_giai_quyet"]) if p.get("ngay_giai_quyet") else None,
        pseudo=p.get("citizen_pseudonym"), status="official")


# ------------------------------------------------------------------ district databases
def district_reception(p: dict, _source_name: str) -> dict:
    unit = _unit(p.get("ma_don_vi"))
    receiver = n.lookup(n.RECEIVER, p.get("nguoi_tiep"), "nguoi_tiep")
    mode = n.lookup(n.MODE, p.get("hinh_thuc"), "hinh_thuc")
    sitting = f"{unit}:{p['ky_tiep_id']}" if p.get("ky_tiep_id") is not None else None
    if mode != "thuong_xuyen" and sitting is None:
        raise RuleViolation("REQUIRED_MISSING", "tiếp định kỳ/đột xuất thiếu ky_tiep_id")
    return _reception(unit, n.parse_date(p.get("ngay_tiep")), mode, receiver, sitting,
                      n.parse_int(p.get("so_nguoi"), field="so_nguoi"),
                      n.lookup(n.KIND, p.get("loai"), "loai"), _case_key(unit, p.get("vu_viec_id")),
                      n.lookup(n.VISIT, p.get("lan_tiep"), "lan_tiep"), p.get("citizen_pseudonym"),
                      n.lookup(n.STATUS, p.get("trang_thai"), "trang_thai"))


def district_petition(p: dict, _source_name: str) -> dict:
    unit = _unit(p.get("ma_don_vi"))
    return _petition(
        unit, n.parse_date(p.get("ngay_nhan")), n.lookup(n.CHANNEL, p.get("nguon"), "nguon"),
        n.lookup(n.KIND, p.get("loai"), "loai"),
        n.parse_int(p.get("so_nguoi_dung_ten"), minimum=0, field="so_nguoi_dung_ten"),
        _optional(n.FIELD, p.get("linh_vuc"), "linh_vuc"), _case_key(unit, p.get("vu_viec_id")),
        eligible=n.yes_no(p.get("du_dieu_kien"), "du_dieu_kien"),
        competent=n.yes_no(p.get("thuoc_tham_quyen"), "thuoc_tham_quyen"),
        handling=_optional(n.HANDLING, p.get("hinh_thuc_xu_ly"), "hinh_thuc_xu_ly"),
        reply_received=n.yes_no(p.get("co_van_ban_phuc_dap"), "co_van_ban_phuc_dap"),
        pseudo=p.get("citizen_pseudonym"), status=n.lookup(n.STATUS, p.get("trang_thai"), "trang_thai"))


def district_case(p: dict, _source_name: str) -> dict:
    unit = _unit(p.get("ma_don_vi"))
    return {
        "unit_code": unit, "case_key": _case_key(unit, p.get("id")),
        "opened_date": n.parse_date(p.get("ngay_thu_ly")),
        "petition_kind": n.lookup(n.KIND, p.get("loai"), "loai"),
        "field": _optional(n.FIELD, p.get("linh_vuc"), "linh_vuc"),
        "resolution_status": n.lookup(n.RESOLUTION, p.get("tinh_trang"), "tinh_trang"),
        "resolved_date": n.parse_date(p["ngay_giai_quyet"]) if p.get("ngay_giai_quyet") else None,
        "status": n.lookup(n.STATUS, p.get("trang_thai"), "trang_thai"),
    }


# ------------------------------------------------------------------ city service
def city_reception(p: dict, _source_name: str) -> dict:
    unit = _unit(p.get("unit_code"))
    mode = n.lookup(n.MODE, p.get("mode"), "mode")
    sitting = f"{unit}:{p['sitting_id']}" if p.get("sitting_id") else None
    if mode != "thuong_xuyen" and sitting is None:
        raise RuleViolation("REQUIRED_MISSING", "tiếp định kỳ/đột xuất thiếu sitting_id")
    return _reception(unit, n.parse_date(p.get("received_on")), mode,
                      n.lookup(n.RECEIVER, p.get("receiver"), "receiver"), sitting,
                      n.parse_int(p.get("people"), field="people"),
                      n.lookup(n.KIND, p.get("kind"), "kind"), _case_key(unit, p.get("case_id")),
                      n.lookup(n.VISIT, p.get("visit"), "visit"), p.get("citizen_pseudonym"),
                      n.lookup(n.STATUS, p.get("status"), "status"))


def city_petition(p: dict, _source_name: str) -> dict:
    unit = _unit(p.get("unit_code"))
    return _petition(
        unit, n.parse_date(p.get("received_on")), n.lookup(n.CHANNEL, p.get("channel"), "channel"),
        n.lookup(n.KIND, p.get("kind"), "kind"),
        n.parse_int(p.get("signers"), minimum=0, field="signers"),
        _optional(n.FIELD, p.get("field"), "field"), _case_key(unit, p.get("case_id")),
        eligible=p.get("eligible"), competent=p.get("competent"),
        handling=_optional(n.HANDLING, p.get("handling"), "handling"),
        reply_received=p.get("reply_received"),
        pseudo=p.get("citizen_pseudonym"), status=n.lookup(n.STATUS, p.get("status"), "status"))


def city_case(p: dict, _source_name: str) -> dict:
    unit = _unit(p.get("unit_code"))
    return {
        "unit_code": unit, "case_key": _case_key(unit, p.get("id")),
        "opened_date": n.parse_date(p.get("opened_on")),
        "petition_kind": n.lookup(n.KIND, p.get("kind"), "kind"),
        "field": _optional(n.FIELD, p.get("field"), "field"),
        "resolution_status": n.lookup(n.RESOLUTION, p.get("resolution"), "resolution"),
        "resolved_date": n.parse_date(p["resolved_on"]) if p.get("resolved_on") else None,
        "status": n.lookup(n.STATUS, p.get("status"), "status"),
    }


MAPPERS: dict[tuple[str, str], Callable[[dict, str], dict]] = {
    ("commune_register", "reception"): register_reception,
    ("commune_register", "petition"): register_petition,
    ("district_db", "reception"): district_reception,
    ("district_db", "petition"): district_petition,
    ("district_db", "case"): district_case,
    ("city_service", "reception"): city_reception,
    ("city_service", "petition"): city_petition,
    ("city_service", "case"): city_case,
}

# Content that identifies a duplicate entry within one source (same event entered twice).
DEDUPE_KEYS = {
    "reception": ["unit_code", "received_date", "citizen_pseudonym", "case_key", "petition_kind",
                  "mode", "receiver", "people"],
    "petition": ["unit_code", "received_date", "citizen_pseudonym", "case_key", "petition_kind",
                 "channel", "signers"],
    "case": ["case_key"],
}
