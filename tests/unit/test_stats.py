"""The pure part of Stats (docs/procedure.md §9): date-range presets and the period before, changes
against
it, Pareto shares with the cumulative line and the 80% mark, and who may see the figures.
The figures themselves are aggregated in SQL: tests/integration/test_stats_db.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidInput, NotAllowed
from core.model import Role, User
from core.usecases.context import Context
from core import settings as settings_mod
from core.stats import (
    DIMENSIONS,
    Bar,
    Headline,
    classified,
    default_preset,
    owner_audience,
    same_moment_before,
    wrap_label,
    Period,
    StatsFilter,
    StatsQuery,
    change,
    custom,
    labelled,
    month_keys,
    pareto,
    preset,
    previous,
    rate,
    vital_few,
)
from tests.unit.conftest import MakeUser
from core import usecases as uc

TUESDAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("this_week", date(2026, 11, 23), date(2026, 11, 29)),
        ("last_week", date(2026, 11, 16), date(2026, 11, 22)),
        ("this_month", date(2026, 11, 1), date(2026, 11, 30)),
        ("last_month", date(2026, 10, 1), date(2026, 10, 31)),
        ("this_quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("this_year", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_presets_count_from_today(name: str, start: date, end: date) -> None:
    assert preset(name, TUESDAY) == Period(start, end)


def test_last_month_in_january_is_last_december() -> None:
    assert preset("last_month", date(2027, 1, 5)) == Period(date(2026, 12, 1), date(2026, 12, 31))


def test_this_week_starts_on_monday_even_on_a_sunday() -> None:
    assert preset("this_week", date(2026, 11, 29)).start == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("period", "before"),
    [
        (Period(date(2026, 3, 1), date(2026, 3, 31)), Period(date(2026, 2, 1), date(2026, 2, 28))),
        (
            Period(date(2026, 10, 1), date(2026, 12, 31)),
            Period(date(2026, 7, 1), date(2026, 9, 30)),
        ),
        (
            Period(date(2026, 1, 1), date(2026, 12, 31)),
            Period(date(2025, 1, 1), date(2025, 12, 31)),
        ),
        (
            Period(date(2026, 11, 23), date(2026, 11, 29)),
            Period(date(2026, 11, 16), date(2026, 11, 22)),
        ),
        (
            Period(date(2026, 11, 5), date(2026, 11, 14)),
            Period(date(2026, 10, 26), date(2026, 11, 4)),
        ),
    ],
)
def test_the_period_before_is_of_the_same_kind(period: Period, before: Period) -> None:
    assert previous(period) == before


def test_a_custom_range_must_end_after_it_starts_and_stay_within_ten_years() -> None:
    assert custom(date(2026, 1, 1), date(2026, 1, 1)).days == 1
    with pytest.raises(InvalidInput) as err:
        custom(date(2026, 2, 1), date(2026, 1, 1))
    assert err.value.key == "err.stats_range"
    with pytest.raises(InvalidInput):
        custom(None, date(2026, 1, 1))
    with pytest.raises(InvalidInput) as err:
        custom(date(2000, 1, 1), date(2026, 1, 1))
    assert err.value.key == "err.stats_range_long"


def test_twelve_months_up_to_the_period_end_cross_the_year() -> None:
    assert month_keys(date(2026, 2, 10), 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_a_period_in_local_days_is_midnight_to_midnight_in_the_zone() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
    q = StatsQuery.of(StatsFilter(Period(date(2026, 10, 1), date(2026, 10, 31))),
                      Period(date(2026, 10, 1), date(2026, 10, 31)), tz, now)
    assert q.since.astimezone(timezone.utc) == datetime(2026, 9, 30, 16, 0, tzinfo=timezone.utc)
    assert q.until.astimezone(timezone.utc) == datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)
    assert q.tz_minutes == 480 and q.until_or_now() == q.until


def test_changes_and_rates_in_percent_with_one_decimal() -> None:
    assert change(15, 10) == Decimal("50.0")
    assert change(Decimal("7.5"), Decimal("10")) == Decimal("-25.0")
    assert change(3, 0) is None and change(None, 4) is None
    assert rate(1, 3) == Decimal("33.3") and rate(0, 0) is None


def bars(*counts: int) -> list[Bar]:
    return [Bar(str(i), f"类{i}", f"K{i}", n) for i, n in enumerate(counts)]


def test_pareto_sorts_largest_first_and_accumulates_to_100() -> None:
    out = pareto(bars(2, 10, 5, 3))
    assert [b.count for b in out] == [10, 5, 3, 2]
    assert [b.cumulative for b in out] == [
        Decimal("50.0"),
        Decimal("75.0"),
        Decimal("90.0"),
        Decimal("100.0"),
    ]
    assert out[0].share == Decimal("50.0")
    assert [b.count for b in vital_few(out)] == [10, 5, 3]  # the bar that crosses 80%


def test_pareto_folds_the_long_tail_into_others() -> None:
    out = pareto(bars(*range(20, 0, -1)), top=5)
    assert len(out) == 5 and out[-1].key == "*others*"
    assert out[-1].count == sum(range(16, 0, -1)) and out[-1].label_en == "Others (16)"
    assert out[-1].cumulative == Decimal("100.0")


def test_bars_without_a_value_and_6m_categories_get_translated_names() -> None:
    out = labelled("six_m", [Bar("", "", "", 3), Bar("machine", "", "", 2)])
    assert [(b.label_zh, b.label_en) for b in out] == [("未填", "Not given"), ("机", "Machine")]


def test_stats_are_for_case_roles_not_for_a_bare_admin(kesu: Context, admin: User,
                                                       make_user: MakeUser) -> None:
    flt = StatsFilter(Period(date(2026, 11, 1), date(2026, 11, 30)))
    with pytest.raises(NotAllowed):
        uc.stats.stats(kesu, admin, flt)
    for role in (Role.SALES, Role.QA, Role.PRODUCTION, Role.FINANCE, Role.MANAGEMENT):
        user = make_user(f"u_{role.value}", role)
        report = uc.stats.stats(kesu, user, flt)
        assert report.before == Period(date(2026, 10, 1), date(2026, 10, 31))
        assert report.months[-1] == "2026-11"


def test_the_others_bar_has_no_single_list_of_cases(kesu: Context, make_user: MakeUser) -> None:
    boss = make_user("boss", Role.MANAGEMENT)
    flt = StatsFilter(Period(date(2026, 11, 1), date(2026, 11, 30)))
    with pytest.raises(InvalidInput) as err:
        uc.stats.stats_cases(kesu, boss, flt, "customer", "*others*")
    assert err.value.key == "err.stats_bar"
    with pytest.raises(InvalidInput):
        uc.stats.stats_cases(kesu, boss, flt, "colour", "red")


# ---------------------------------------------------------------- issue #13: Stats for the meeting


@pytest.mark.parametrize(("stored", "opens"), [
    ("last_week", "last_week"), ("this_month", "this_month"), ("this_year", "this_year"),
    ("", "last_week"), ("custom", "last_week"), ("fortnight", "last_week"),
])
def test_stats_opens_on_the_setting_else_last_week(stored: str, opens: str) -> None:
    assert default_preset(stored) == opens


def test_the_default_period_setting_is_last_week_and_only_a_named_range() -> None:
    assert settings_mod.build({}).stats_default_period == "last_week"
    assert settings_mod.validate("stats_default_period", "this_month") == "this_month"
    for bad in ("custom", "next_week", ""):
        with pytest.raises(ValueError):
            settings_mod.validate("stats_default_period", bad)


def test_overdue_is_compared_with_the_same_moment_of_the_period_before() -> None:
    now = datetime(2026, 12, 9, 3, 0, tzinfo=timezone.utc)  # a Wednesday
    week = preset("this_week", now.date())
    assert same_moment_before(now, week, previous(week)) == now - timedelta(days=7)
    last = preset("last_week", now.date())  # last week against the week before: a week ago
    assert same_moment_before(now, last, previous(last)) == now - timedelta(days=7)
    month = preset("this_month", now.date())  # December against November: 30 days ago
    assert same_moment_before(now, month, previous(month)) == now - timedelta(days=30)


def test_not_classified_is_counted_apart_from_the_pareto_bars() -> None:
    named = labelled("defect_type", [Bar("", "", "", 9), Bar("1", "划伤", "Scratch", 3),
                                     Bar("2", "尺寸", "Size", 1)])
    kept, missing = classified(named)
    assert missing == 9 and [b.key for b in kept] == ["1", "2"]
    out = pareto(kept)
    assert out[0].label_zh == "划伤" and out[0].share == Decimal("75.0")
    assert out[-1].cumulative == Decimal("100.0")  # of the classified cases only
    assert classified([Bar("1", "a", "a", 2)]) == ([Bar("1", "a", "a", 2)], 0)


def test_long_names_wrap_on_lines_instead_of_being_cut() -> None:
    lines = wrap_label("深圳市华星光电技术有限公司", width=8)
    assert "".join(lines) == "深圳市华星光电技术有限公司" and all(len(x) <= 8 for x in lines)
    # a Latin letter is half as wide: 16 of them a line, broken between words
    assert wrap_label("Nordlicht Haustechnik GmbH", width=8) == ["Nordlicht",
                                                                 "Haustechnik GmbH"]
    assert wrap_label("ACME", width=8) == ["ACME"]
    cut = wrap_label("一二三四五六七八九十" * 3, width=4, lines=2)
    assert len(cut) == 2 and cut[-1].endswith("…")


@pytest.mark.parametrize(("state", "due_step", "who"), [
    ("registered", "dispatch", "sales"),
    ("investigating", "investigation", "qa"),
    ("root_cause", "reply", "department"),
    ("disposition", "", "sales"),
    ("pending_approval", "", "step_title"),
    ("verifying", "", "qa"),
])
def test_the_meeting_list_says_who_a_case_waits_for(state: str, due_step: str, who: str) -> None:
    assert owner_audience(state, due_step) == who


def test_invalid_complaints_are_left_out_of_received() -> None:
    h = Headline(received=12, invalid=3)
    assert h.received_valid == 9


def test_the_report_keeps_unclassified_and_the_moment_overdue_was_compared_at(
        kesu: Context, make_user: MakeUser) -> None:
    boss = make_user("boss", Role.MANAGEMENT)
    flt = StatsFilter(preset("last_week", uc.stats.stats_today(kesu)))
    report = uc.stats.stats(kesu, boss, flt)
    assert report.overdue_before_at == report.now - timedelta(days=7)
    assert set(report.unclassified) >= set(DIMENSIONS) and report.meeting_cases == []
    assert uc.stats.stats_opening(kesu)[1] == "last_week"
