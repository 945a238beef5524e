"""Reporting regimes (chế độ báo cáo): which circular governs a report.

A regime names its circular, its form set (form code → definition file), its deadlines
and which periodic reports carry the narrative report; they are data in
``config/pipeline.yaml`` (``regimes:``). A report is governed by the regime in force on
the last day of its window (shared/domain/forms-2025.md §1.4), so Quý III 2025 and 9
tháng 2025 stay on TT 01/2024 while Quý IV 2025 and Năm 2025 go to TT 06/2025, a custom
range follows its end date, and a re-issue of an old period keeps its forms.

Form codes are unique only within a regime: code the pair (regime, form) wherever a
form is named outside its period — :meth:`Regime.file_stem_prefix` for file names, the
manifest's ``regime`` and ``circular``.

The functions take the configured regimes (``settings.regimes``, a sequence of
:class:`core.config_schema.RegimeEntry`) as a parameter: the task function reads the
settings and passes them down.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core import config_schema, environment

__all__ = ["Regime", "RegimeError", "all_regimes", "definition_path", "overlapping", "regime_by_id",
           "regime_for", "switches_within"]


class RegimeError(ValueError):
    """A report that no regime governs, or a form its regime does not have."""


@dataclass(frozen=True)
class Regime:
    id: str                          # "TT06_2025"
    circular: str                    # "Thông tư 06/2025/TT-TTCP"
    in_force_from: dt.date
    forms: dict[str, str]            # form code → definition file (relative to TCD_HOME or the project)
    file_tag: str = ""               # prefix of issued file names ("TT06-2025"); "" = none
    deadlines: dict = field(default_factory=dict)
    narrative: dict | None = None    # {"template": "Mẫu số 02", "periods": ["Q1", "H1", "M9", "Y"]}

    @property
    def form_codes(self) -> list[str]:
        return list(self.forms)

    def has_narrative(self, period) -> bool:
        """Whether a report of `period` carries the narrative (Điều 4.1 of TT 06/2025:
        Quý I, 6 tháng, 9 tháng, năm). Custom ranges (chuyên đề) carry it on request only."""
        return bool(self.narrative) and period.kind in self.narrative.get("periods", ())

    def file_stem_prefix(self) -> str:
        """What goes before the form code in an issued file's name ("TT06-2025_")."""
        return f"{self.file_tag}_" if self.file_tag else ""

    def deadline(self, period, who: str = "units") -> dt.date | None:
        """The legal deadline of `period` for `who` ("units": a unit's data to the
        province; "province": the province's report to Thanh tra Chính phủ): a day of
        the period's last month, or a number of days after the window's end; None when
        the regime sets none."""
        rule = (self.deadlines or {}).get(who)
        if not rule:
            return None
        if "day" in rule:
            return period.end.replace(day=int(rule["day"]))
        return period.end + dt.timedelta(days=int(rule["days_after_cutoff"]))


def _regime(entry: config_schema.RegimeEntry) -> Regime:
    """A regime of the configuration (validated on load: core.config_schema.RegimeEntry)."""
    return Regime(id=entry.id, circular=entry.circular, in_force_from=entry.in_force_from, forms=dict(entry.forms),
                  file_tag=entry.file_tag,
                  deadlines={who: d.model_dump(exclude_none=True) for who, d in entry.deadlines.items()},
                  narrative=entry.narrative.model_dump(exclude_none=True) if entry.narrative else None)


_built: tuple[object, tuple[Regime, ...]] | None = None     # (the settings' regime list, its regimes)

Entries = Sequence[config_schema.RegimeEntry]


def all_regimes(entries: Entries) -> tuple[Regime, ...]:
    """Every regime of `entries` (the configuration's ``regimes``), oldest first."""
    global _built
    if _built is None or _built[0] is not entries:
        _built = (entries, tuple(sorted(map(_regime, entries), key=lambda r: r.in_force_from)))
    return _built[1]


def regime_by_id(regime_id: str, entries: Entries) -> Regime:
    for r in all_regimes(entries):
        if r.id == regime_id:
            return r
    raise RegimeError(f"no regime {regime_id!r} in config regimes: {[r.id for r in all_regimes(entries)]}")


def regime_for(period_or_end, entries: Entries) -> Regime:
    """The regime of `entries` governing a report: in force on the window's last day.
    Accepts a :class:`core.periods.Period` or the end date itself."""
    end = getattr(period_or_end, "end", period_or_end)
    if isinstance(end, dt.datetime):
        end = end.date()
    rs = all_regimes(entries)
    usable = [r for r in rs if r.in_force_from <= end]
    if not usable:
        first = rs[0].in_force_from if rs else None
        raise RegimeError(f"no reporting regime in force on {end:%d/%m/%Y}"
                          + (f" (the first comes into force on {first:%d/%m/%Y})" if first else ""))
    return usable[-1]


def overlapping(date_from: dt.date, date_to: dt.date, entries: Entries) -> list[Regime]:
    """The regimes under which some window ending within [date_from, date_to] falls."""
    rs = all_regimes(entries)
    return [r for i, r in enumerate(rs) if r.in_force_from <= date_to
            and (i + 1 == len(rs) or rs[i + 1].in_force_from > date_from)]


def switches_within(date_from: dt.date, date_to: dt.date, entries: Entries) -> list[Regime]:
    """The regimes that come into force after `date_from` and on or before `date_to`:
    where a multi-year series crosses a change of forms."""
    return [r for r in all_regimes(entries) if date_from < r.in_force_from <= date_to]


def definition_path(regime: Regime, form_code: str, home: Path) -> Path:
    """The definition file of `form_code` in `regime`. A definition under `home`
    (TCD_HOME, ``settings.home``) overrides the one shipped with the code."""
    rel = regime.forms.get(form_code)
    if rel is None:
        raise RegimeError(f"form {form_code} is not part of {regime.circular} ({regime.id}); "
                          f"its forms are {', '.join(regime.forms)}")
    for candidate in (Path(home) / rel, environment.PROJECT_ROOT / rel):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"definition {rel} of form {form_code} ({regime.id}) not found")
