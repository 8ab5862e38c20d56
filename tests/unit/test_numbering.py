"""Case numbers: KS + YYMM + '-' + monthly serial, by the local date of receipt (docs/procedure.md
§3)."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from core.model import User
from core.rules.numbering import format_number, parse_number, period_of
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.unit.conftest import with_
from tests.unit.fakes import FakeClock
from core import usecases as uc

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_number_is_prefix_period_and_three_digit_serial() -> None:
    assert format_number("2611", 7) == "KS2611-007"


def test_serial_grows_past_three_digits_instead_of_wrapping() -> None:
    assert format_number("2611", 1234) == "KS2611-1234"


def test_serial_zero_is_refused() -> None:
    with pytest.raises(ValueError):
        format_number("2611", 0)


def test_period_follows_the_local_date_not_utc() -> None:
    late_evening_utc = datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc)
    assert period_of(late_evening_utc, SHANGHAI) == "2612"
    assert period_of(late_evening_utc, ZoneInfo("UTC")) == "2611"


def test_parse_number_reads_back_period_and_serial_case_insensitively() -> None:
    assert parse_number(" ks2611-007 ") == ("2611", 7)
    assert parse_number("KS2611-7") is None
    assert parse_number("XX2611-007") is None


def test_case_received_late_on_the_last_utc_day_of_november_is_numbered_in_december(
    kesu: Context, sales: User, draft: ComplaintDraft, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc))
    c = uc.complaints.register_complaint(
        kesu, sales, with_(draft, received_at=datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc))
    )
    assert c.number == "KS2612-001"


def test_serials_count_up_within_a_month_and_restart_in_the_next(kesu: Context, sales: User,
                                                                 draft: ComplaintDraft,
                                                                 clock: FakeClock) -> None:
    clock.set(datetime(2026, 12, 15, 2, 0, tzinfo=timezone.utc))
    nov = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
    numbers = [
        uc.complaints.register_complaint(kesu, sales,
                                         with_(draft, received_at=nov, order_no=f"N{i}")).number
        for i in range(3)
    ]
    dec = uc.complaints.register_complaint(kesu, sales, with_(draft, order_no="D1")).number
    assert numbers == ["KS2611-001", "KS2611-002", "KS2611-003"]
    assert dec == "KS2612-001"


def test_number_uses_the_timezone_setting(kesu: Context, admin: User, sales: User,
                                          draft: ComplaintDraft, clock: FakeClock) -> None:
    uc.reference.set_settings(kesu, admin, {"timezone": "UTC"})
    clock.set(datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc))
    c = uc.complaints.register_complaint(
        kesu, sales, with_(draft, received_at=datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc))
    )
    assert c.number == "KS2611-001"


def test_a_case_can_be_found_by_its_number_typed_in_lower_case(kesu: Context, sales: User,
                                                               draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft)
    assert uc.search.complaint_id_by_number(kesu, sales, " " + c.number.lower()) == c.id
    assert uc.search.complaint_id_by_number(kesu, sales, "KS0001-001") is None
