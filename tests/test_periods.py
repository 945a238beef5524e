"""Reporting periods: 15th-to-14th windows, labels, latest complete period, parsing."""
import datetime as dt

import pytest

from core import periods
from core.periods import Period, custom, latest_complete, parse, period, periods_ending_on

D = dt.date


@pytest.mark.parametrize("kind, year, start, end, label", [
    ("Q1", 2026, D(2025, 12, 15), D(2026, 3, 14), "Quý I năm 2026"),
    ("Q2", 2026, D(2026, 3, 15), D(2026, 6, 14), "Quý II năm 2026"),
    ("Q3", 2026, D(2026, 6, 15), D(2026, 9, 14), "Quý III năm 2026"),
    ("Q4", 2026, D(2026, 9, 15), D(2026, 12, 14), "Quý IV năm 2026"),
    ("H1", 2026, D(2025, 12, 15), D(2026, 6, 14), "6 tháng đầu năm 2026"),
    ("M9", 2026, D(2025, 12, 15), D(2026, 9, 14), "9 tháng đầu năm 2026"),
    ("Y", 2026, D(2025, 12, 15), D(2026, 12, 14), "Năm 2026"),
    ("Q1", 2025, D(2024, 12, 15), D(2025, 3, 14), "Quý I năm 2025"),   # across the year boundary
    ("q3", 2025, D(2025, 6, 15), D(2025, 9, 14), "Quý III năm 2025"),  # case-insensitive
])
def test_periodic_windows(kind, year, start, end, label):
    p = period(kind, year)
    assert (p.kind, p.year, p.start, p.end, p.label) == (kind.upper(), year, start, end, label)
    assert p.contains(start) and p.contains(end)
    assert not p.contains(start - dt.timedelta(days=1)) and not p.contains(end + dt.timedelta(days=1))
    assert p.date_line == f"Số liệu tính từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"


def test_quarters_tile_the_year_without_gaps():
    qs = [period(k, 2026) for k in ("Q1", "Q2", "Q3", "Q4")]
    assert qs[0].start == period("Y", 2026).start and qs[-1].end == period("Y", 2026).end
    for a, b in zip(qs, qs[1:]):
        assert b.start - a.end == dt.timedelta(days=1)
    # Q4 of one year is followed by Q1 of the next.
    assert period("Q1", 2027).start - period("Q4", 2026).end == dt.timedelta(days=1)


def test_unknown_kind():
    with pytest.raises(ValueError):
        period("Q5", 2026)


def test_custom_range():
    p = custom(D(2021, 7, 1), D(2025, 2, 28))
    assert (p.kind, p.start, p.end, p.year) == ("custom", D(2021, 7, 1), D(2025, 2, 28), 2025)
    assert p.label == "Từ 01/07/2021 đến 28/02/2025"
    assert custom("2026-01-01", "2026-01-01").start == D(2026, 1, 1)  # one day is fine
    with pytest.raises(ValueError):
        custom(D(2025, 3, 1), D(2025, 2, 28))


@pytest.mark.parametrize("today, expected", [
    (D(2026, 11, 24), ("Q3", 2026, D(2026, 6, 15), D(2026, 9, 14))),
    (D(2026, 12, 15), ("Q4", 2026, D(2026, 9, 15), D(2026, 12, 14))),
    (D(2026, 12, 14), ("Q3", 2026, D(2026, 6, 15), D(2026, 9, 14))),  # window's last day not over
    (D(2026, 3, 15), ("Q1", 2026, D(2025, 12, 15), D(2026, 3, 14))),
    (D(2026, 1, 10), ("Q4", 2025, D(2025, 9, 15), D(2025, 12, 14))),
])
def test_latest_complete_quarter(today, expected):
    p = latest_complete(today)
    assert (p.kind, p.year, p.start, p.end) == expected


def test_latest_complete_other_kinds():
    assert latest_complete(D(2026, 11, 24), "Y") == period("Y", 2025)
    assert latest_complete(D(2026, 11, 24), "H1") == period("H1", 2026)
    assert latest_complete(D(2026, 9, 15), "M9") == period("M9", 2026)


def test_parse():
    today = D(2026, 11, 24)
    assert parse("latest", today) == period("Q3", 2026)
    assert parse("latest-Y", today) == period("Y", 2025)
    assert parse("2026-Q3") == period("Q3", 2026)
    assert parse("2026-q1") == period("Q1", 2026)
    assert parse("2026-H1") == period("H1", 2026)
    assert parse("2026-M9") == period("M9", 2026)
    assert parse("2026-Y") == period("Y", 2026)
    assert parse("2021-07-01..2025-02-28") == custom(D(2021, 7, 1), D(2025, 2, 28))
    for p in (period("Q2", 2026), custom(D(2021, 7, 1), D(2025, 2, 28))):
        assert parse(p.key) == p  # keys round-trip
    for bad in ("2026-Q5", "Q3", "2026", "", "2025-03-01..2025-02-01"):
        with pytest.raises(ValueError):
            parse(bad, today)
    with pytest.raises(ValueError):
        parse("latest")  # needs today


def test_periods_ending_on_run_day():
    assert periods_ending_on(D(2026, 9, 15)) == [period("Q3", 2026), period("M9", 2026)]
    assert periods_ending_on(D(2026, 12, 15)) == [period("Q4", 2026), period("Y", 2026)]
    assert periods_ending_on(D(2026, 3, 15)) == [period("Q1", 2026)]
    assert periods_ending_on(D(2026, 6, 15)) == [period("Q2", 2026), period("H1", 2026)]
    assert periods_ending_on(D(2026, 6, 14)) == []
    assert periods_ending_on(D(2026, 7, 15)) == []  # no monthly period


def test_rules_come_from_config(monkeypatch):
    from core.config_schema import PeriodKind

    rules = {"Q1": PeriodKind(start=(-1, 12, 1), end=(0, 2, 28), label="Quý I")}
    monkeypatch.setattr(periods, "_rules", lambda: rules)
    p = period("Q1", 2026)
    assert (p.start, p.end, p.label) == (D(2025, 12, 1), D(2026, 2, 28), "Quý I năm 2026")
    assert isinstance(p, Period)
