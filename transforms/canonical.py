"""Map one raw payload (values as received, personal data already scrubbed) to a
canonical record. One mapper per (source kind, record type); each returns a dict of
canonical fields including ``status`` and raises ``RuleViolation`` (rule code + a
reason a person can act on) when the row cannot be read at all.

Mapping only *reads*: a value that can be read but breaks a rule (a people count out
of range, a periodic reception by staff, a date in the future, a unit not in force on
the date) is left to the canonical Great Expectations suite, whose rules carry the
severity that decides what happens to the row (expectations/gx, rules.yaml).

What is data is in config/: the code lists (config/codes.yaml, core.normalise) and each
source's names of the petition's processing and decision fields
(config/progress_fields.yaml); a register's field is named in a message by its usual
header (config/commune_register_columns.yaml). What the mapping reads from the
configuration (:class:`Rules`) is built once by the caller from the settings it was
given and passed to every mapper."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel, ConfigDict, model_validator

from core import environment, yaml_files
from core import normalise as n
from core.config_schema import RegisterColumns
from core.settings import Settings

RuleViolation = n.RuleViolation


def _case_key(unit_code: str, ref) -> str | None:
    ref = n.case_ref(ref)
    return None if ref is None else f"{unit_code}:{ref}"


def _unit(code, field: str = "mã đơn vị") -> str:
    s = n.unit_code_text(code)
    if not s.isdigit() or len(s) not in (2, 3, 5):
        if not s:
            raise RuleViolation("REQUIRED_MISSING", f"thiếu {field}")
        raise RuleViolation("UNIT_CODE_INVALID",
                            f"{field} '{s[:10]}' không phải mã đơn vị hành chính (2, 3 hoặc 5 chữ số)")
    return s


def _reception(unit_code, date, mode, receiver, sitting_key, people, kind, case_key, visit,
               pseudo, status, group_min: int) -> dict:
    return {"unit_code": unit_code, "received_date": date, "mode": mode, "receiver": receiver,
            "sitting_key": sitting_key if mode != "thuong_xuyen" else None, "people": people,
            "is_group": people >= group_min, "petition_kind": kind, "case_key": case_key,
            "visit": visit, "citizen_pseudonym": pseudo,
            "status": status}


def _petition(unit_code, date, channel, kind, signers: int, field, case_key, *, eligible,
              competent, handling, reply_received, resolution=None, resolved=None, pseudo,
              status, progress: dict | None = None, group_min: int) -> dict:
    """A canonical petition. Signers: 5 or more = đơn có nhiều người đứng tên; none =
    đơn khác (unsigned, anonymous). ``progress``: the processing and decision fields
    (``_progress``); absent, they are all NULL."""
    return {
        "unit_code": unit_code, "received_date": date, "channel": channel, "petition_kind": kind,
        "signers": "nhieu" if signers >= group_min else ("mot" if signers >= 1 else "khac"),
        "field": field, "case_key": case_key, "eligible": eligible, "competent": competent,
        "handling": handling, "reply_received": reply_received, "resolution_status": resolution,
        "resolved_date": resolved, "citizen_pseudonym": pseudo,
        "status": status, **(progress or dict.fromkeys(PROGRESS_FIELDS)),
    }


def _optional(mapping, value, field):
    return n.lookup(mapping, value, field) if value not in (None, "") else None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# The processing and decision fields of fact_petition (docs/report-set.md §1).
AMOUNT_FIELDS = ("recover_money", "recover_land", "return_org_money", "return_org_land", "return_person_money",
                 "return_person_land")
COUNT_FIELDS = ("orgs_restored", "persons_restored", "sanction_people", "sanction_officials", "prosecuted_cases",
                "prosecuted_people", "prosecuted_officials")
# Execution of the decision (02/KQGQ, 04/KQGQ): done so far, each against the ordered
# field that bounds it, and the day it was fully carried out.
EXECUTED_AMOUNT_FIELDS = ("collected_money", "collected_land", "returned_org_money", "returned_org_land",
                          "returned_person_money", "returned_person_land")
EXECUTED_COUNT_FIELDS = ("sanctioned_people", "sanctioned_officials", "prosecuted_done_cases",
                         "prosecuted_done_people", "prosecuted_done_officials")
EXECUTION_ORDERED = dict(zip(EXECUTED_AMOUNT_FIELDS + EXECUTED_COUNT_FIELDS, AMOUNT_FIELDS + (
    "sanction_people", "sanction_officials", "prosecuted_cases", "prosecuted_people", "prosecuted_officials")))
EXECUTION_FIELDS = ("executed_date", *EXECUTED_AMOUNT_FIELDS, *EXECUTED_COUNT_FIELDS)
# Fields TT 06/2025 needs that older sources do not carry: each is read only when the
# source has it (a column, a key), and is NULL otherwise — never a 0 that would read as
# "none" (docs/data-contracts.md).
TT06_FIELDS = ("not_accepted_date", "acceptance_recorded", "sanction_orgs", "sanctioned_orgs")
PROGRESS_FIELDS = ("processed_date", "accepted_date", "resolution_round", "outcome", "on_time", *AMOUNT_FIELDS,
                   *COUNT_FIELDS, *EXECUTION_FIELDS, *TT06_FIELDS)
def _progress(p: dict, names: dict[str, str]) -> dict:
    """The processing and decision fields of a petition payload; ``names`` maps each
    canonical field to the source's name (and ``<field>:label`` to the name a person
    reads in a message). Blank values are NULL, except the amounts of a decision: an
    outcome without them means nothing was recovered (0). A value that cannot be read
    raises RuleViolation (DATE_INVALID, CODE_NOT_IN_DOMAIN, NUMBER_INVALID)."""
    def label(f):
        return names.get(f"{f}:label", names[f])

    def date(f):
        v = p.get(names[f])
        return None if _blank(v) else n.parse_date(v)

    out = {"processed_date": date("processed_date"), "accepted_date": date("accepted_date"),
           "resolution_round": _optional(n.ROUND, p.get(names["resolution_round"]), label("resolution_round")),
           "outcome": _optional(n.OUTCOME, p.get(names["outcome"]), label("outcome"))}
    on_time = p.get(names["on_time"])
    if _blank(on_time):
        out["on_time"] = None
    elif isinstance(on_time, (bool, int, float)):
        out["on_time"] = bool(on_time)
    else:
        out["on_time"] = n.lookup(n.ON_TIME, on_time, label("on_time")) == "yes"
    decided = out["outcome"] is not None
    for f in AMOUNT_FIELDS:
        v = p.get(names[f])
        out[f] = (0.0 if decided else None) if _blank(v) else n.parse_decimal(v, field=label(f))
    for f in COUNT_FIELDS:
        v = p.get(names[f])
        out[f] = (0 if decided else None) if _blank(v) else n.parse_int(v, field=label(f))
    # Execution: only a decision that orders something has one; then a blank done
    # figure is 0 (nothing done yet), as with the decision's amounts. A source without
    # the execution columns leaves them all NULL.
    executes = decided and any(out[o] for o in EXECUTION_ORDERED.values())
    has_columns = any(names.get(f) in p for f in EXECUTION_FIELDS)
    out["executed_date"] = date("executed_date") if names.get("executed_date") in p else None
    for f in EXECUTED_AMOUNT_FIELDS + EXECUTED_COUNT_FIELDS:
        v = p.get(names[f])
        if not _blank(v):
            parse = n.parse_decimal if f in EXECUTED_AMOUNT_FIELDS else n.parse_int
            out[f] = parse(v, field=label(f))
        else:
            out[f] = (0.0 if f in EXECUTED_AMOUNT_FIELDS else 0) if executes and has_columns else None
    # Acceptance (thụ lý / không thụ lý): a source that has the not-accepted field records
    # both decisions, so a matter with neither date is still under review (đang xem xét).
    recorded = names.get("not_accepted_date") in p
    out["not_accepted_date"] = date("not_accepted_date") if recorded else None
    out["acceptance_recorded"] = True if recorded else None
    # Organisations recommended for / subjected to administrative handling: like the
    # people counts, a blank on a decision is 0 — when the source has the field at all.
    for f in ("sanction_orgs", "sanctioned_orgs"):
        v = p.get(names[f])
        if names[f] not in p:
            out[f] = None
        else:
            out[f] = (0 if decided else None) if _blank(v) else n.parse_int(v, field=label(f))
    return out


def _resolution_from_dates(handling, accepted, resolved) -> str | None:
    """The resolution state at extraction of a petition whose source gives dates only
    (district databases, the city service): as registers write it, for accepted
    (thụ lý) petitions only."""
    if resolved is not None:
        return "da_giai_quyet"
    if accepted is not None:
        return "dang_giai_quyet"
    return "chua_giai_quyet" if handling == "thu_ly" else None


class ProgressFields(BaseModel):
    """config/progress_fields.yaml: per source, the name of each processing and decision
    field of a petition (every field of PROGRESS_FIELDS but the derived
    acceptance_recorded)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    commune_register: dict[str, str]
    district_db: dict[str, str]
    city_service: dict[str, str]

    @model_validator(mode="after")
    def _every_field(self) -> ProgressFields:
        wanted = [f for f in PROGRESS_FIELDS if f != "acceptance_recorded"]
        for source in type(self).model_fields:
            names = getattr(self, source)
            missing, unknown = [f for f in wanted if f not in names], [f for f in names if f not in wanted]
            if missing or unknown:
                raise ValueError(f"{source}: missing fields {missing}, unknown fields {unknown}")
        return self


PROGRESS_FILE = environment.PROJECT_ROOT / "config" / "progress_fields.yaml"
_PROGRESS = yaml_files.validate_yaml(ProgressFields, PROGRESS_FILE)
DISTRICT_PROGRESS = dict(_PROGRESS.district_db)
CITY_PROGRESS = dict(_PROGRESS.city_service)


def register_progress(columns: RegisterColumns) -> dict[str, str]:
    """The register's names of the progress fields, and (``<field>:label``) what the unit
    reads in a quarantine message: the register's usual header of the field, the first
    of `columns` (config/commune_register_columns.yaml)."""
    headers = columns.petition.columns
    return {**_PROGRESS.commune_register,
            **{f"{f}:label": headers[name][0] for f, name in _PROGRESS.commune_register.items()}}


@dataclass(frozen=True)
class Rules:
    """What the mapping reads from the configuration, built once by the caller and
    passed to every mapper: ``group_min_people`` (đoàn đông người / đơn nhiều người
    đứng tên: this many people or more; config ``counting.group_min_people``) and the
    register's progress field names (:func:`register_progress`)."""

    group_min_people: int
    register_progress: dict[str, str]

    @classmethod
    def of(cls, cfg: Settings) -> Rules:
        return cls(cfg.counting.group_min_people, register_progress(cfg.register_columns()))


# ------------------------------------------------------------------ commune registers
def register_reception(p: dict, unit_code: str, rules: Rules) -> dict:
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
                      p.get("citizen_pseudonym"), "official", rules.group_min_people)


def register_petition(p: dict, unit_code: str, rules: Rules) -> dict:
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
        pseudo=p.get("citizen_pseudonym"), status="official", progress=_progress(p, rules.register_progress), group_min=rules.group_min_people)


# ------------------------------------------------------------------ district databases
def district_reception(p: dict, _source_name: str, rules: Rules) -> dict:
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
                      n.lookup(n.STATUS, p.get("trang_thai"), "trang_thai"), rules.group_min_people)


def district_petition(p: dict, _source_name: str, rules: Rules) -> dict:
    unit = _unit(p.get("ma_don_vi"))
    handling = _optional(n.HANDLING, p.get("hinh_thuc_xu_ly"), "hinh_thuc_xu_ly")
    progress = _progress(p, DISTRICT_PROGRESS)
    resolved = None if _blank(p.get("ngay_giai_quyet")) else n.parse_date(p["ngay_giai_quyet"])
    return _petition(
        unit, n.parse_date(p.get("ngay_nhan")), n.lookup(n.CHANNEL, p.get("nguon"), "nguon"),
        n.lookup(n.KIND, p.get("loai"), "loai"),
        n.parse_int(p.get("so_nguoi_dung_ten"), minimum=0, field="so_nguoi_dung_ten"),
        _optional(n.FIELD, p.get("linh_vuc"), "linh_vuc"), _case_key(unit, p.get("vu_viec_id")),
        eligible=n.yes_no(p.get("du_dieu_kien"), "du_dieu_kien"),
        competent=n.yes_no(p.get("thuoc_tham_quyen"), "thuoc_tham_quyen"),
        handling=handling,
        reply_received=n.yes_no(p.get("co_van_ban_phuc_dap"), "co_van_ban_phuc_dap"),
        resolution=_resolution_from_dates(handling, progress["accepted_date"], resolved), resolved=resolved,
        pseudo=p.get("citizen_pseudonym"), status=n.lookup(n.STATUS, p.get("trang_thai"), "trang_thai"),
        progress=progress, group_min=rules.group_min_people)


def district_case(p: dict, _source_name: str, rules: Rules) -> dict:
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
def city_reception(p: dict, _source_name: str, rules: Rules) -> dict:
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
                      n.lookup(n.STATUS, p.get("status"), "status"), rules.group_min_people)


def city_petition(p: dict, _source_name: str, rules: Rules) -> dict:
    unit = _unit(p.get("unit_code"))
    handling = _optional(n.HANDLING, p.get("handling"), "handling")
    progress = _progress(p, CITY_PROGRESS)
    resolved = None if _blank(p.get("resolved_on")) else n.parse_date(p["resolved_on"])
    return _petition(
        unit, n.parse_date(p.get("received_on")), n.lookup(n.CHANNEL, p.get("channel"), "channel"),
        n.lookup(n.KIND, p.get("kind"), "kind"),
        n.parse_int(p.get("signers"), minimum=0, field="signers"),
        _optional(n.FIELD, p.get("field"), "field"), _case_key(unit, p.get("case_id")),
        eligible=p.get("eligible"), competent=p.get("competent"), handling=handling,
        reply_received=p.get("reply_received"),
        resolution=_resolution_from_dates(handling, progress["accepted_date"], resolved), resolved=resolved,
        pseudo=p.get("citizen_pseudonym"), status=n.lookup(n.STATUS, p.get("status"), "status"),
        progress=progress, group_min=rules.group_min_people)


def city_case(p: dict, _source_name: str, rules: Rules) -> dict:
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


# ------------------------------------------------------------------ reception calendars
def _calendar(unit_code: str, date, receiver, status: str) -> dict:
    return {"unit_code": unit_code, "announced_date": date, "receiver": receiver, "status": status}


def register_calendar(p: dict, unit_code: str, rules: Rules) -> dict:
    """A row of the register's optional sheet "Lịch tiếp công dân" (Ngày, Người tiếp)."""
    return _calendar(unit_code, n.parse_date(p.get("ngay")),
                     n.lookup(n.CALENDAR_RECEIVER, p.get("nguoi_tiep"), "Người tiếp (Trực tiếp / Ủy quyền)"),
                     "official")


def district_calendar(p: dict, _source_name: str, rules: Rules) -> dict:
    """A row of the optional table lich_tiep_cong_dan (trang_thai optional: official)."""
    status = p.get("trang_thai")
    return _calendar(_unit(p.get("ma_don_vi")), n.parse_date(p.get("ngay")),
                     n.lookup(n.CALENDAR_RECEIVER, p.get("hinh_thuc"), "hinh_thuc (THU_TRUONG / UY_QUYEN)"),
                     "official" if _blank(status) else n.lookup(n.STATUS, status, "trang_thai"))


def city_calendar(p: dict, _source_name: str, rules: Rules) -> dict:
    """An item of the optional resource reception-calendar."""
    return _calendar(_unit(p.get("unit_code")), n.parse_date(p.get("announced_on")),
                     n.lookup(n.CALENDAR_RECEIVER, p.get("receiver"), "receiver (head / deputy)"),
                     n.lookup(n.STATUS, p.get("status"), "status"))


# Each mapper: (payload, source name — the unit code of a register —, Rules) → canonical record.
MAPPERS: dict[tuple[str, str], Callable[[dict, str, Rules], dict]] = {
    ("commune_register", "reception"): register_reception,
    ("commune_register", "petition"): register_petition,
    ("district_db", "reception"): district_reception,
    ("district_db", "petition"): district_petition,
    ("district_db", "case"): district_case,
    ("city_service", "reception"): city_reception,
    ("city_service", "petition"): city_petition,
    ("city_service", "case"): city_case,
    ("commune_register", "calendar"): register_calendar,
    ("district_db", "calendar"): district_calendar,
    ("city_service", "calendar"): city_calendar,
}

# Content that identifies a duplicate entry within one source (same event entered twice).
DEDUPE_KEYS = {
    "reception": ["unit_code", "received_date", "citizen_pseudonym", "case_key", "petition_kind",
                  "mode", "receiver", "people"],
    "petition": ["unit_code", "received_date", "citizen_pseudonym", "case_key", "petition_kind",
                 "channel", "signers"],
    "case": ["case_key"],
    # An announced day listed twice (same unit, day and receiver) is one day.
    "calendar": ["unit_code", "announced_date", "receiver"],
}
