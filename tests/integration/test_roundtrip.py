"""Every value written through the services comes back unchanged from the real database."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from core.errors import InvalidInput
from core.model import (
    Category, Channel, Complaint, Customer, DefectType, Department, Kind, Lang, Market, Product,
    Request, Role, Severity, State, Title, WhereFound,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from tests.integration.conftest import NOW, PASSWORD, World, engine_of
from core import usecases as uc

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_every_complaint_field_survives_a_round_trip(
        app: Context, world: World, make_app: Callable[..., Context]) -> None:
    received = datetime(2026, 3, 14, 22, 5, 7, 123456, tzinfo=SHANGHAI)
    d = ComplaintDraft(
        customer_id=world.customer.id, kind=Kind.COMPLAINT, channel=Channel.EXTERNAL,
        category=Category.NON_QUALITY, received_at=received,
        description="客户投诉：螺丝表面划伤，要求赔偿。\n第二行 — “引号” & <b>not html</b> 😀",
        customer_ref="客户编号-0042", product_code="P-100", product_name="螺丝 M3×8 不锈钢",
        order_no="PO-2026/03-7", lot="批次 L2603A", delivered_qty=10_000,
        delivery_date=date(2026, 3, 1), defective_qty=321, defect_type_id=world.defect.id,
        where_found=WhereFound.END_USER, request=Request.COMPENSATION,
        claimed_amount=Decimal("12345.67"), severity_proposed=Severity.B,
        sample_received=True, sample_date=date(2026, 3, 10), safety_risk=True,
        severity_note="消协已确认：外观问题，无安全隐患 — “B” & <b>ok</b>")
    made = uc.complaints.register_complaint(app, world.sales, d)
    assert made.id is not None

    # read back through a second application instance: nothing may come from a cache
    other = make_app()
    view = uc.complaints.complaint(other, world.qa, made.id)
    got = view.complaint
    assert got == made  # every dataclass field, compared by value
    expected = Complaint(
        id=made.id,
        number="KS2603-001",
        received_at=received,
        channel=Channel.EXTERNAL,
        received_by_id=world.sales.id,
        kind=Kind.COMPLAINT,
        customer_id=world.customer.id,
        description=d.description,
        state=State.REGISTERED,
        version=1,
        category=Category.NON_QUALITY,
        customer_ref="客户编号-0042",
        product_code="P-100",
        product_name="螺丝 M3×8 不锈钢",
        order_no="PO-2026/03-7",
        lot="批次 L2603A",
        delivered_qty=10_000,
        delivery_date=date(2026, 3, 1),
        defective_qty=321,
        defect_type_id=world.defect.id,
        where_found=WhereFound.END_USER,
        request=Request.COMPENSATION,
        claimed_amount=Decimal("12345.67"),
        severity_proposed=Severity.B,
        sample_received=True,
        sample_date=date(2026, 3, 10),
        safety_risk=True,
        severity_note=d.severity_note,
        cancel_reason="",
        created_at=NOW,
        updated_at=NOW,
        updated_by_id=world.sales.id,
        # received on a Sunday: dispatch is due 1 working hour after Monday 08:30
        # (docs/procedure.md §7)
        due_at=datetime(2026, 3, 16, 1, 30, tzinfo=timezone.utc),
        due_step="dispatch",
    )
    assert got == expected
    # types, not just equality
    for name in ("received_at", "created_at", "updated_at"):
        value = getattr(got, name)
        assert isinstance(value, datetime) and value.utcoffset() == timedelta(0), name
    assert got.received_at == received and got.received_at.microsecond == 123456
    assert isinstance(got.claimed_amount, Decimal) and str(got.claimed_amount) == "12345.67"
    assert type(got.delivery_date) is date and type(got.sample_date) is date
    for name in (
        "channel",
        "kind",
        "category",
        "where_found",
        "request",
        "severity_proposed",
        "state",
    ):
        assert type(getattr(got, name)) is type(getattr(expected, name)), name
    assert view.customer == world.customer and view.defect_type == world.defect
    assert view.received_by == "张三"


def test_optional_fields_stay_empty_and_big_amounts_stay_exact(
    app: Context, world: World, draft: Callable[..., ComplaintDraft]
) -> None:
    bare = uc.complaints.register_complaint(
        app,
        world.sales,
        draft(kind=Kind.INQUIRY, category=Category.NON_QUALITY, product_code="",
              defect_type_id=None, description="只是询问"),
    )
    got = uc.complaints.complaint(app, world.sales, bare.id or 0).complaint
    assert got == bare
    for name in (
        "delivered_qty",
        "delivery_date",
        "defective_qty",
        "defect_type_id",
        "where_found",
        "request",
        "claimed_amount",
        "severity_proposed",
        "sample_date",
    ):
        assert getattr(got, name) is None, name
    assert got.sample_received is False and got.received_at == NOW

    for amount in ("999999999999.99", "0.01", "0", "1,234.50"):
        c = uc.complaints.register_complaint(app, world.sales, draft(claimed_amount=amount))
        stored = uc.complaints.complaint(app, world.sales, c.id or 0).complaint.claimed_amount
        assert stored == Decimal(amount.replace(",", "")), amount
        assert stored is not None and stored.as_tuple().exponent == -2, amount


def test_naive_received_at_is_refused_and_nothing_is_saved(
    app: Context, world: World, draft: Callable[..., ComplaintDraft]
) -> None:
    with pytest.raises(InvalidInput):
        uc.complaints.register_complaint(app, world.sales,
                                         draft(received_at=datetime(2026, 3, 1, 8, 0)))
    with engine_of(app).connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM complaints")) == 0
        assert conn.scalar(text("SELECT count(*) FROM number_counters")) == 0


def test_cancel_keeps_the_case_with_its_reason(app: Context, world: World,
                                               draft: Callable[..., ComplaintDraft]) -> None:
    c = uc.complaints.register_complaint(app, world.sales, draft())
    uc.complaints.cancel_complaint(app, world.sales, c.id or 0, c.version,
                                   "重复登记，见 KS2603-009")
    got = uc.complaints.complaint(app, world.manager, c.id or 0).complaint
    assert got.state is State.CANCELLED and got.version == 2
    assert got.cancel_reason == "重复登记，见 KS2603-009"
    assert got.number == c.number


def test_users_round_trip(app: Context, world: World, make_app: Callable[..., Context]) -> None:
    data = UserInput("Finance.Lead", "  财务 主管 ", frozenset({Role.FINANCE, Role.MANAGEMENT}),
                     world.department.id, frozenset({Title.GENERAL_MANAGER, Title.QA_MANAGER}),
                     Lang.EN)
    made = uc.accounts.create_user(app, world.admin, data, PASSWORD)
    other = make_app()
    by_name = {u.username: u for u in uc.accounts.list_users(other, world.admin)}
    got = by_name["finance.lead"]
    assert got == made
    assert (
        got.display_name,
        got.roles,
        got.department_id,
        got.titles,
        got.language,
        got.active,
    ) == (
        "财务 主管",
        frozenset({Role.FINANCE, Role.MANAGEMENT}),
        world.department.id,
        frozenset({Title.GENERAL_MANAGER, Title.QA_MANAGER}),
        Lang.EN,
        True,
    )
    assert set(by_name) == {"admin", "sales1", "qa1", "boss", "finance.lead"}

    changed = dataclasses.replace(data, display_name="财务", roles=frozenset({Role.FINANCE}),
                                  department_id=None, titles=frozenset(),
                                  language=Lang.ZH, active=False)
    uc.accounts.update_user(app, world.admin, got.id, changed)
    again = {u.username: u for u in uc.accounts.list_users(other, world.admin)}["finance.lead"]
    assert (
        again.display_name,
        again.roles,
        again.department_id,
        again.titles,
        again.language,
        again.active,
    ) == ("财务", frozenset({Role.FINANCE}), None, frozenset(), Lang.ZH, False)
    assert uc.accounts.active_user(other, "finance.lead") is None  # deactivated

    # passwords: bcrypt hash stored, reset takes effect, older cookies are refused
    assert uc.accounts.authenticate(other, "sales1", PASSWORD) == world.sales
    uc.accounts.reset_password(app, world.admin, world.sales.id, "new-secret-99")
    assert uc.accounts.authenticate(other, "SALES1 ", "new-secret-99").id == world.sales.id
    with engine_of(app).connect() as conn:
        stored = conn.scalar(text("SELECT password_hash FROM users WHERE username = 'sales1'"))
        changed_at = conn.scalar(
            text("SELECT password_changed_at FROM users WHERE username = 'sales1'")
        )
    assert stored.startswith("$2") and "new-secret-99" not in stored
    assert changed_at is not None
    after_reset = uc.accounts.active_user(other, "sales1")
    assert after_reset is not None and after_reset.id == world.sales.id
    assert after_reset.must_change_password  # a new password of their own first


def test_reference_data_round_trip(app: Context, world: World,
                                   make_app: Callable[..., Context]) -> None:
    cust = Customer(0, "Müller GmbH 慕勒", Market.OVERSEAS, Lang.EN, "Hr. Müller", "+49 30 1234",
                    "einkauf@mueller.example", "Hauptstraße 1\n10115 Berlin")
    cust = dataclasses.replace(cust, id=uc.reference.save_reference(app, world.admin, cust))
    prod = Product(0, "P-200", "垫片 Φ5")
    prod = dataclasses.replace(prod, id=uc.reference.save_reference(app, world.admin, prod))
    defect = DefectType(0, "RUST", "生锈", "Rust")
    defect = dataclasses.replace(defect, id=uc.reference.save_reference(app, world.admin, defect))
    dep = Department(0, "PROD", "生产部", "Production")
    dep = dataclasses.replace(dep, id=uc.reference.save_reference(app, world.admin, dep))

    other = make_app()
    assert cust in uc.reference.customers(other) and world.customer in uc.reference.customers(other)
    assert uc.reference.products(other) == [world.product, prod]
    assert uc.reference.defect_types(other) == [defect, world.defect]
    assert uc.reference.departments(other) == [dep, world.department]

    # updates, including deactivation: hidden from pick lists, kept for old cases
    uc.reference.save_reference(app, world.admin,
                                dataclasses.replace(cust, name="Müller AG", active=False))
    uc.reference.save_reference(app, world.admin,
                                dataclasses.replace(prod, name="垫片 Φ6", active=False))
    assert [c.name for c in uc.reference.customers(other)] == ["华东电子有限公司"]
    assert dataclasses.replace(cust, name="Müller AG", active=False) in uc.reference.customers(
        other, include_inactive=True
    )
    assert uc.reference.products(other, include_inactive=True)[-1] == dataclasses.replace(
        prod, name="垫片 Φ6", active=False
    )


def test_settings_round_trip(app: Context, world: World, make_app: Callable[..., Context]) -> None:
    defaults = uc.context.settings(app)
    assert (defaults.timezone, defaults.attachment_max_mb) == ("Asia/Shanghai", 20)
    uc.reference.set_settings(
        app,
        world.admin,
        {
            "timezone": "Europe/Berlin",
            "attachment_max_mb": "7",
            "severity_a_claim": "20000.50",
            "severity_b_claim": Decimal("7500"),
        },
    )
    uc.reference.set_settings(app, world.admin, {"timezone": "America/New_York"})  # overwrite one
    got = uc.context.settings(make_app())
    assert got.timezone == "America/New_York" and got.tz == ZoneInfo("America/New_York")
    assert got.attachment_max_mb == 7
    assert got.severity_a_claim == Decimal("20000.50")
    assert got.severity_b_claim == Decimal("7500")
    with pytest.raises(InvalidInput):  # one bad value: nothing of the batch is stored
        uc.reference.set_settings(app, world.admin,
                                  {"attachment_max_mb": 9, "timezone": "Mars/Olympus"})
    assert uc.context.settings(make_app()) == got

    # the time zone decides the month of the case number
    late = datetime(2026, 3, 1, 3, 0, tzinfo=timezone.utc)  # still February in New York
    c = uc.complaints.register_complaint(
        app,
        world.sales,
        ComplaintDraft(customer_id=world.customer.id, kind=Kind.SUGGESTION,
                       channel=Channel.SUGGESTION_BOX, category=Category.NON_QUALITY,
                       description="建议", received_at=late),
    )
    assert c.number == "KS2602-001"
