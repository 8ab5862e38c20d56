"""Logging a complaint: validation, stored values, event, attachments (docs/procedure.md §3, §5,
§11)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.model import Category, Kind, Request, State, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.complaints import Upload
from core.usecases.common import safe_filename
from tests.unit.conftest import NOW, with_
from tests.unit.fakes import FakeBlobs, FakeClock, FakeDatabase
from core import usecases as uc

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"\x00" * 32


def field_of(err: pytest.ExceptionInfo[InvalidInput]) -> object:
    return err.value.params.get("field")


# ---------------------------------------------------------------- the happy path


def test_registered_complaint_gets_a_number_state_and_version_one(kesu: Context, sales: User,
                                                                  draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft)
    assert (c.number, c.state, c.version, c.received_by_id) == (
        "KS2611-001",
        State.REGISTERED,
        1,
        sales.id,
    )


def test_registered_complaint_is_stored_with_its_facts(kesu: Context, sales: User,
                                                       draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft)
    stored = uc.complaints.complaint(kesu, sales, c.id or 0).complaint
    assert (
        stored.customer_id,
        stored.product_code,
        stored.order_no,
        stored.delivered_qty,
        stored.defective_qty,
        stored.defect_type_id,
    ) == (draft.customer_id, "P-100", "SO-1", 500, 12, draft.defect_type_id)
    assert stored.received_at == NOW  # defaults to the clock


def test_received_at_is_stored_in_utc(kesu: Context, sales: User, draft: ComplaintDraft) -> None:
    local = datetime(2026, 11, 10, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    c = uc.complaints.register_complaint(kesu, sales, with_(draft, received_at=local))
    assert c.received_at.utcoffset() == timedelta(0)
    assert c.received_at == datetime(2026, 11, 10, 1, 30, tzinfo=timezone.utc)


def test_text_fields_are_trimmed(kesu: Context, sales: User, draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales,
                                         with_(draft, description="  broken  ", order_no=" SO-9 "))
    assert (c.description, c.order_no) == ("broken", "SO-9")


def test_registration_writes_one_event_with_the_new_values(kesu: Context, sales: User,
                                                           draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft)
    (event,) = uc.complaints.complaint(kesu, sales, c.id or 0).events
    assert (event.action, event.user_id, event.at) == ("registered", sales.id, NOW)
    assert event.changes["product_code"] == [None, "P-100"]
    assert event.changes["claimed_amount"] == [None, "300.00"]
    assert event.user_name == "Sally"


def test_registration_event_records_zero_quantities_and_amounts(kesu: Context, sales: User,
                                                                draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales,
                                         with_(draft, defective_qty=0, claimed_amount="0"))
    (event,) = uc.complaints.complaint(kesu, sales, c.id or 0).events
    assert event.changes["defective_qty"] == [None, 0]
    assert event.changes["claimed_amount"] == [None, "0.00"]


def test_claimed_amount_is_stored_as_a_two_place_decimal(kesu: Context, sales: User,
                                                         draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales, with_(draft, claimed_amount="1,234.5"))
    assert isinstance(c.claimed_amount, Decimal)
    assert c.claimed_amount == Decimal("1234.50")
    assert str(c.claimed_amount) == "1234.50"


def test_blank_claimed_amount_is_stored_as_none(kesu: Context, sales: User,
                                                draft: ComplaintDraft) -> None:
    assert (
        uc.complaints.register_complaint(kesu, sales,
                                         with_(draft, claimed_amount="  ")).claimed_amount
        is None
    )


def test_sample_date_is_dropped_when_no_sample_was_received(kesu: Context, sales: User,
                                                            draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(
        kesu, sales, with_(draft, sample_received=False, sample_date=date(2026, 11, 9))
    )
    assert c.sample_date is None


# ---------------------------------------------------------------- required fields


@pytest.mark.parametrize(
    "change, field",
    [
        ({"customer_id": None}, "customer"),
        ({"customer_id": 999}, "customer"),
        ({"kind": None}, "kind"),
        ({"channel": None}, "channel"),
        ({"description": "   "}, "description"),
        ({"product_code": ""}, "product_code"),
        ({"defect_type_id": None}, "defect_type"),
        ({"defect_type_id": 999}, "defect_type"),
    ],
)
def test_quality_complaint_missing_a_required_field_is_refused(kesu: Context, sales: User,
                                                               draft: ComplaintDraft,
                                                               db: FakeDatabase,
                                                               change: dict[str, object],
                                                               field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, with_(draft, **change))
    assert field_of(err) == field
    assert db.data.complaints == {}


def test_suggestion_needs_neither_product_code_nor_defect_type(kesu: Context, sales: User,
                                                               draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(
        kesu, sales, with_(draft, kind=Kind.SUGGESTION, product_code="", defect_type_id=None)
    )
    assert c.kind == Kind.SUGGESTION and c.product_code == ""


def test_non_quality_complaint_needs_neither_product_code_nor_defect_type(
    kesu: Context, sales: User, draft: ComplaintDraft
) -> None:
    c = uc.complaints.register_complaint(
        kesu,
        sales,
        with_(draft, category=Category.NON_QUALITY, product_code="", defect_type_id=None,
              description="Delivery was two days late"),
    )
    assert c.category == Category.NON_QUALITY


# ---------------------------------------------------------------- bad values


def test_received_in_the_future_is_refused(kesu: Context, sales: User,
                                           draft: ComplaintDraft) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales,
                                         with_(draft, received_at=NOW + timedelta(hours=1)))
    assert (err.value.key, field_of(err)) == ("err.future_date", "received_at")


def test_received_a_minute_ahead_is_tolerated_as_clock_skew(kesu: Context, sales: User,
                                                            draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales,
                                         with_(draft, received_at=NOW + timedelta(minutes=1)))
    assert c.received_at == NOW + timedelta(minutes=1)


def test_received_at_without_a_timezone_is_refused(kesu: Context, sales: User,
                                                   draft: ComplaintDraft) -> None:
    with pytest.raises(InvalidInput):
        uc.complaints.register_complaint(kesu, sales,
                                         with_(draft, received_at=datetime(2026, 11, 9, 8, 0)))


@pytest.mark.parametrize("field", ["delivery_date", "sample_date"])
def test_delivery_or_sample_date_after_receipt_is_refused(kesu: Context, sales: User,
                                                          draft: ComplaintDraft,
                                                          field: str) -> None:
    change = {field: date(2026, 11, 20), "sample_received": True}
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, with_(draft, **change))
    assert (err.value.key, field_of(err)) == ("err.future_date", field)


def test_defective_quantity_above_delivered_is_refused(kesu: Context, sales: User,
                                                       draft: ComplaintDraft) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales,
                                         with_(draft, delivered_qty=10, defective_qty=11))
    assert err.value.key == "err.defective_gt_delivered"


def test_defective_quantity_equal_to_delivered_is_accepted(kesu: Context, sales: User,
                                                           draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales,
                                         with_(draft, delivered_qty=10, defective_qty=10))
    assert c.defective_qty == 10


@pytest.mark.parametrize("field", ["delivered_qty", "defective_qty"])
def test_negative_quantity_is_refused(kesu: Context, sales: User, draft: ComplaintDraft,
                                      field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, with_(draft, **{field: -1}))
    assert field_of(err) == field


@pytest.mark.parametrize(
    "amount", ["-1", "-0.01", "12.345", "abc", "1e3x", "NaN", "Infinity", "1e12", Decimal("0.001")]
)
def test_bad_claimed_amount_is_refused(kesu: Context, sales: User, draft: ComplaintDraft,
                                       amount: object) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, with_(draft, claimed_amount=amount))
    assert (err.value.key, field_of(err)) == ("err.amount", "claimed_amount")


@pytest.mark.parametrize(
    "field, limit",
    [
        ("description", 5000),
        ("product_code", 100),
        ("order_no", 100),
        ("lot", 100),
        ("customer_ref", 100),
        ("product_name", 200),
    ],
)
def test_too_long_text_is_refused(kesu: Context, sales: User, draft: ComplaintDraft, field: str,
                                  limit: int) -> None:
    uc.complaints.register_complaint(
        kesu, sales, with_(draft, **{field: "x" * limit})
    )  # the limit itself is fine
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, with_(draft, **{field: "x" * (limit + 1)}))
    assert (err.value.key, field_of(err)) == ("err.too_long", field)


def test_customer_request_is_kept(kesu: Context, sales: User, draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales, with_(draft, request=Request.REPLACEMENT))
    assert uc.complaints.complaint(kesu, sales, c.id or 0).complaint.request == Request.REPLACEMENT


# ---------------------------------------------------------------- attachments


def test_allowed_attachments_are_stored_with_their_type(kesu: Context, sales: User,
                                                        draft: ComplaintDraft,
                                                        blobs: FakeBlobs) -> None:
    c = uc.complaints.register_complaint(
        kesu,
        sales,
        draft,
        [Upload("photo.PNG", PNG), Upload("a.jpg", JPG), Upload("report.pdf", PDF)],
    )
    view = uc.complaints.complaint(kesu, sales, c.id or 0)
    assert [(a.filename, a.content_type, a.size) for a in view.attachments] == [
        ("photo.PNG", "image/png", len(PNG)),
        ("a.jpg", "image/jpeg", len(JPG)),
        ("report.pdf", "application/pdf", len(PDF)),
    ]
    assert [e.action for e in view.events].count("attachment_added") == 3
    att, data = uc.complaints.attachment(kesu, sales, view.attachments[0].id or 0)
    assert data == PNG and att.sha256 in blobs.files


@pytest.mark.parametrize(
    "name", ["virus.exe", "script.html", "noextension", "photo.png.exe", "archive.zip"]
)
def test_disallowed_file_type_is_refused(kesu: Context, sales: User, draft: ComplaintDraft,
                                         name: str) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, draft, [Upload(name, PNG)])
    assert err.value.key == "err.file_type"


def test_png_whose_bytes_are_a_pdf_is_refused_as_mislabelled(kesu: Context, sales: User,
                                                             draft: ComplaintDraft) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, draft, [Upload("photo.png", PDF)])
    assert err.value.key == "err.file_mislabelled"


def test_empty_file_is_refused(kesu: Context, sales: User, draft: ComplaintDraft) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, draft, [Upload("photo.png", b"")])
    assert err.value.key == "err.file_empty"


def test_file_over_the_size_setting_is_refused_and_at_the_limit_accepted(
    kesu: Context, admin: User, sales: User, draft: ComplaintDraft
) -> None:
    uc.reference.set_settings(kesu, admin, {"attachment_max_mb": 1})
    limit = 1024 * 1024
    at_limit = PNG + b"\x00" * (limit - len(PNG))
    c = uc.complaints.register_complaint(kesu, sales, draft, [Upload("ok.png", at_limit)])
    assert uc.complaints.complaint(kesu, sales, c.id or 0).attachments[0].size == limit
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, with_(draft, order_no="SO-2"),
                                         [Upload("big.png", at_limit + b"\x00")])
    assert (err.value.key, err.value.params["mb"]) == ("err.file_size", 1)


def test_path_traversal_in_a_filename_is_reduced_to_its_last_part(kesu: Context, sales: User,
                                                                  draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(
        kesu,
        sales,
        draft,
        [Upload("../../etc/passwd.png", PNG), Upload("C:\\Users\\x\\evil.pdf", PDF)],
    )
    names = [a.filename for a in uc.complaints.complaint(kesu, sales, c.id or 0).attachments]
    assert names == ["passwd.png", "evil.pdf"]


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("a\x00b\n.png", "ab.png"),
        ("", "file"),
        ("..", "file"),
        ("   ", "file"),
        ("x" * 200 + ".png", "x" * 120),
        ("检验报告.pdf", "检验报告.pdf"),
    ],
)
def test_safe_filename(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe


def test_a_bad_upload_saves_no_complaint_and_no_events(kesu: Context, sales: User,
                                                       draft: ComplaintDraft,
                                                       db: FakeDatabase) -> None:
    with pytest.raises(InvalidInput):
        uc.complaints.register_complaint(
            kesu, sales, draft, [Upload("good.png", PNG), Upload("bad.png", b"not an image")]
        )
    assert db.data.complaints == {}
    assert db.data.events == []
    assert db.data.attachments == {}


def test_attachments_can_be_added_later(kesu: Context, qa: User, sales: User,
                                        draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft)
    assert uc.complaints.add_attachments(kesu, qa, c.id or 0, [Upload("more.jpg", JPG)]) == 1
    assert [a.uploaded_by_id for a in uc.complaints.complaint(kesu, qa, c.id or 0).attachments] == [
        qa.id
    ]


def test_adding_no_attachments_is_refused(kesu: Context, sales: User,
                                          draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft)
    with pytest.raises(InvalidInput):
        uc.complaints.add_attachments(kesu, sales, c.id or 0, [])


def test_same_file_twice_is_stored_once_but_listed_twice(kesu: Context, sales: User,
                                                         draft: ComplaintDraft,
                                                         blobs: FakeBlobs) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft,
                                         [Upload("a.png", PNG), Upload("b.png", PNG)])
    assert len(uc.complaints.complaint(kesu, sales, c.id or 0).attachments) == 2
    assert len(blobs.files) == 1


def test_registering_at_a_later_time_uses_the_clock(kesu: Context, sales: User,
                                                    draft: ComplaintDraft,
                                                    clock: FakeClock) -> None:
    clock.advance(days=3)
    c = uc.complaints.register_complaint(kesu, sales, draft)
    assert c.received_at == c.created_at == NOW + timedelta(days=3)
