"""The Vietnamese text of the multi-year summary ("Nhận định"), generated from its numbers.

Everything here is wording: reports.summary computes the figures and hands them over as
plain mappings (see :func:`paragraphs`); this module turns them into sentences in the
register of official reports. Numbers in text are always written the Vietnamese way
(:func:`format_vn`: thousands ".", decimals ","), dates dd/mm/yyyy.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Mapping, Sequence

from core.dates import vn_date


def format_vn(number: float | int | None, decimals: int = 0) -> str:
    """A number as Vietnamese text: ``1527`` → "1.527", ``12.5, 1`` → "12,5",
    ``-1234.56, 2`` → "-1.234,56". Rounds half away from zero to `decimals` places.
    None/NaN → "" (the caller decides how to word a missing figure)."""
    if number is None or (isinstance(number, float) and math.isnan(number)):
        return ""
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    value = float(number)
    # Half away from zero (12,25 → 12,3), not Python's banker's rounding on floats.
    scale = 10 ** decimals
    rounded = math.floor(abs(value) * scale + 0.5 + 1e-9) / scale
    text = f"{rounded:,.{decimals}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return ("-" + text) if value < 0 and rounded != 0 else text


def format_percent(value: float | None, decimals: int = 1) -> str:
    """A percentage as text: 12.5 → "12,5%"."""
    return "" if value is None else f"{format_vn(value, decimals)}%"


def _n(value: Any) -> str:
    return format_vn(0 if value is None else value)


def _change_words(label: str, current: float | None, previous: float | None) -> str | None:
    """"số lượt tiếp thường xuyên tăng 5,2%" / "giảm 3,1%" / "không thay đổi"."""
    if current is None or previous is None or previous == 0:
        return None
    if current == previous:
        return f"{label} không thay đổi"
    pct = (current - previous) / previous * 100
    direction = "tăng" if pct > 0 else "giảm"
    if abs(pct) < 0.05:     # would print as "0,0%"
        return f"{label} {direction} không đáng kể"
    return f"{label} {direction} {format_percent(abs(pct))}"


def reception_sentences(start: dt.date, end: dt.date, subject: str, leaders: str,
                        own: Mapping[str, Any], whole: Mapping[str, Any] | None,
                        unscheduled: bool) -> list[str]:
    """The reception paragraph.

    `own` holds the province's own-level figures (keys tx_luot, tx_nguoi, tx_doan,
    tx_doan_nguoi, ld_luot, ld_nguoi, ld_doan, ld_ky); `whole` the same for all levels
    together, or None when the lower levels have no records (the sentence would repeat
    the first). `subject` is "Thành phố" / "Tỉnh", `leaders` "lãnh đạo UBND Thành phố".
    """
    how = "tiếp định kỳ và đột xuất" if unscheduled else "tiếp định kỳ"
    first = (f"Từ ngày {vn_date(start)} đến ngày {vn_date(end)}, {subject} đã tiếp thường xuyên "
             f"{_n(own['tx_luot'])} lượt với {_n(own['tx_nguoi'])} công dân, trong đó có "
             f"{_n(own['tx_doan'])} đoàn đông người với {_n(own['tx_doan_nguoi'])} công dân; "
             f"{leaders} {how} {_n(own['ld_luot'])} lượt với {_n(own['ld_nguoi'])} công dân, "
             f"{_n(own['ld_doan'])} đoàn đông người, qua {_n(own['ld_ky'])} kỳ tiếp.")
    out = [first]
    if whole is not None:
        out.append(f"Tính chung cả ba cấp (cấp {subject.lower()}, cấp huyện, cấp xã), toàn {subject.lower()} "
                   f"đã tiếp thường xuyên {_n(whole['tx_luot'])} lượt với {_n(whole['tx_nguoi'])} công dân, "
                   f"trong đó có {_n(whole['tx_doan'])} đoàn đông người với {_n(whole['tx_doan_nguoi'])} "
                   f"công dân; lãnh đạo các cấp tiếp định kỳ, đột xuất {_n(whole['ld_luot'])} lượt với "
                   f"{_n(whole['ld_nguoi'])} công dân, {_n(whole['ld_doan'])} đoàn đông người.")
    return out


def petition_sentences(end: dt.date, subject: str, whole: Mapping[str, Any]) -> list[str]:
    """The petition paragraph from whole-province figures over the range (keys don_tong,
    don_kn, don_tc, don_knpa, gq_phai, gq_da, gq_dang, gq_chua, gq_tyle)."""
    out = [f"Trong cùng thời gian, toàn {subject.lower()} tiếp nhận {_n(whole['don_tong'])} đơn, gồm "
           f"{_n(whole['don_kn'])} đơn khiếu nại, {_n(whole['don_tc'])} đơn tố cáo và "
           f"{_n(whole['don_knpa'])} đơn kiến nghị, phản ánh."]
    if whole.get("gq_phai"):
        remaining = [f"{_n(whole[k])} đơn {label}" for k, label in
                     (("gq_dang", "đang giải quyết"), ("gq_chua", "chưa giải quyết")) if whole.get(k)]
        tail = (f"đến ngày {vn_date(end)} còn " + " và ".join(remaining) if remaining
                else "đã giải quyết xong toàn bộ số đơn phải giải quyết")
        out.append(f"Số đơn thuộc thẩm quyền phải giải quyết là {_n(whole['gq_phai'])} đơn; đã giải quyết "
                   f"{_n(whole['gq_da'])} đơn, đạt tỷ lệ {format_percent(whole['gq_tyle'])}; {tail}.")
    else:
        out.append("Trong kỳ không có đơn thuộc thẩm quyền phải giải quyết.")
    return out


def comparison_sentence(year: int, previous_year: int, current: Mapping[str, Any],
                        previous: Mapping[str, Any]) -> str | None:
    """Change of the last full calendar year against the one before (whole province)."""
    parts = [p for p in (
        _change_words("số lượt tiếp thường xuyên", current.get("tx_luot"), previous.get("tx_luot")),
        _change_words("số lượt lãnh đạo tiếp định kỳ, đột xuất", current.get("ld_luot"), previous.get("ld_luot")),
        _change_words("số đơn tiếp nhận", current.get("don_tong"), previous.get("don_tong")),
    ) if p]
    if not parts:
        return None
    return f"So với năm {previous_year}, năm {year} " + ", ".join(parts) + "."


def duty_sentence(by_level: Sequence[Mapping[str, Any]], legal_basis: str) -> str:
    """Heads' reception duty: `by_level` rows with keys level_name (e.g. "cấp xã"),
    assessed, short, no_data."""
    assessed = [r for r in by_level if r["assessed"]]
    no_data = sum(int(r["no_data"]) for r in by_level)
    tail = (f" ({_n(no_data)} đơn vị chưa có số liệu tiếp công dân nên chưa đánh giá)." if no_data else ".")
    if not assessed:
        return ("Chưa có đủ số liệu để đánh giá việc người đứng đầu trực tiếp tiếp công dân định kỳ "
                f"theo quy định của {legal_basis}" + tail)
    if not any(r["short"] for r in assessed):
        return ("Người đứng đầu tất cả các đơn vị có số liệu đều bảo đảm số ngày trực tiếp tiếp công dân "
                f"tối thiểu theo quy định của {legal_basis}" + tail)
    parts = [f"{_n(r['short'])}/{_n(r['assessed'])} đơn vị {r['level_name']}" for r in assessed]
    return ("Về trách nhiệm tiếp công dân của người đứng đầu, có " + ", ".join(parts)
            + f" chưa bảo đảm số ngày trực tiếp tiếp công dân tối thiểu theo quy định của {legal_basis}"
            + tail)


def skipped_sentence(total: int, by_level: Sequence[tuple[str, int]]) -> str:
    """Vượt cấp: `by_level` = [(level name, receptions), …] for the receiving levels."""
    if not total:
        return ("Không phát hiện trường hợp công dân đến cấp trên trong khi vụ việc cùng loại đang được "
                "cấp dưới giải quyết (vượt cấp).")
    parts = [f"{name} {_n(n)} lượt" for name, n in by_level if n]
    return (f"Đã phát hiện {_n(total)} lượt tiếp công dân có dấu hiệu vượt cấp (công dân đến cấp trên trong "
            "khi vụ việc cùng loại đang được cấp dưới giải quyết), trong đó " + ", ".join(parts)
            + "; đề nghị các đơn vị tập trung giải quyết dứt điểm vụ việc ngay từ cơ sở.")


def paragraphs(facts: Mapping[str, Any]) -> list[str]:
    """The "Nhận định" paragraphs, in order: receptions, petitions (with the comparison
    of the last two full years), heads' duty, vượt cấp.

    `facts` keys: start, end (dates), subject ("Thành phố"), leaders ("lãnh đạo UBND
    Thành phố"), own, whole (mappings, see the sentence functions), lower_levels_have_data
    (bool), unscheduled (bool), comparison (None or (year, previous_year, current,
    previous)), duty (list for :func:`duty_sentence`), legal_basis, skipped_total,
    skipped_by_level.
    """
    first = reception_sentences(facts["start"], facts["end"], facts["subject"], facts["leaders"],
                                facts["own"], facts["whole"] if facts["lower_levels_have_data"] else None,
                                facts["unscheduled"])
    second = petition_sentences(facts["end"], facts["subject"], facts["whole"])
    if facts.get("comparison"):
        sentence = comparison_sentence(*facts["comparison"])
        if sentence:
            second.append(sentence)
    return [" ".join(first), " ".join(second),
            duty_sentence(facts["duty"], facts["legal_basis"]),
            skipped_sentence(facts["skipped_total"], facts["skipped_by_level"])]
