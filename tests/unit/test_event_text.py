"""core/event_text.py: an event's stored values as a person reads them (issue #13)."""
from __future__ import annotations

import enum
import typing
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from core.event_text import (
    COMPLAINT_TYPES, DEPARTMENTS, ENUM_PREFIX, USERS, EventText, Names, merged_numbers,
)
from core.i18n import t
from core.model import Complaint, Event

SHANGHAI = ZoneInfo("Asia/Shanghai")
NAMES = Names(users={2: "王经理", 8: "李质量"}, departments={3: ("生产部", "Production"),
                                                           4: ("工程部", "Engineering")},
              customers={1: "苏州恒信精密机械有限公司"},
              defect_types={10: ("尺寸超差", "Dimension")},
              numbers={7: "KS-2026-0007"})


def words(lang: str) -> EventText:
    return EventText(lang, SHANGHAI, NAMES)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ids_read_as_names(lang: str) -> None:
    w = words(lang)
    assert w.value("customer_id", 1) == "苏州恒信精密机械有限公司"
    assert w.value("defect_type_id", 10) == ("尺寸超差" if lang == "zh" else "Dimension")
    assert w.value("responsible_department_id", 3) == ("生产部" if lang == "zh" else "Production")
    assert w.value("assisting_departments", "3,4") == (
        "生产部、工程部" if lang == "zh" else "Production, Engineering")
    assert w.value("proposer_id", 2) == "王经理"
    assert w.value("dispatch_approved_by_id", 8) == "李质量"
    assert w.value("merged_into_id", 7) == "KS-2026-0007"
    assert w.value("meeting_department", "3") == ("生产部" if lang == "zh" else "Production")


def test_codes_read_as_labels_in_the_readers_language() -> None:
    zh, en = words("zh"), words("en")
    assert zh.value("satisfaction", "satisfied") == t("satisfaction.satisfied", "zh")
    assert en.value("satisfaction", "satisfied") == t("satisfaction.satisfied", "en")
    assert zh.value("reply_method", "letter") == t("reply_method.letter", "zh")
    assert zh.value("root_cause_6m", "man") == t("six_m.man", "zh")
    assert zh.value("validity", "valid") == t("validity.valid", "zh")
    assert zh.value("state", "root_cause") == t("state.root_cause", "zh")
    assert zh.value("category", "non_quality") == t("category.non_quality", "zh")
    assert zh.value("step", "reply") == t("sla.reply", "zh")
    assert zh.value("chain_step", "goods_received") == t("chain_step.goods_received", "zh")
    assert zh.value("containment", "quarantine 1200") == (
        f"{t('containment_type.quarantine', 'zh')} 1200")
    assert zh.value("capa", "done") == t("capa.done", "zh")
    assert en.value("capa_type", "preventive") == t("capa_type.preventive", "en")
    assert en.value("payment", "600.00 cash") == f"CNY 600.00 · {t('payment_method.cash', 'en')}"


def test_yes_no_money_and_times() -> None:
    zh, en = words("zh"), words("en")
    assert zh.value("verified_effective", True) == "是"
    assert en.value("sample_received", False) == "No"
    assert zh.value("claimed_amount", "26000.00") == "26,000.00"  # 索赔金额（元）
    assert en.value("total", "26000.00") == "CNY 26,000.00"
    # a call at 07:50 the next day in Shanghai, stored in UTC
    assert zh.value("received_at", "2026-12-06T23:50+00:00") == "2026-12-07 07:50"
    assert zh.value("customer_ack_at", "2026-12-06T23:50+00:00") == "2026-12-07 07:50"
    assert zh.value("due", "2026-12-06T23:50:00+00:00") == "2026-12-07 07:50"
    assert zh.value("closed_at", "2026-06-29T11:51+00:00") == "2026-06-29 19:51"
    assert zh.value("delivery_date", "2026-05-22") == "2026-05-22"
    assert zh.value("delivered_qty", 12000) == "12000"
    assert zh.value("customer_ref", "") == t("common.none", "zh")


def test_record_summaries_read_as_words_old_and_new_shapes() -> None:
    zh, en = words("zh"), words("en")
    rework, comp = t("disposition_type.rework", "zh"), t("disposition_type.compensation", "zh")
    assert zh.value("dispositions", "rework 40 600.00") == f"{rework} 40 · 600.00 元"
    assert zh.value("dispositions", "compensation 400 26000.00; rework  600.00") == (
        f"{comp} 400 · 26,000.00 元; {rework} 600.00 元")
    assert en.value("rework", "360 600.00") == "360 · CNY 600.00"
    assert en.value("compensation", "800.00") == "CNY 800.00"
    assert zh.value("payment", "600.00 bank_transfer V-12") == (
        f"600.00 元 · {t('payment_method.bank_transfer', 'zh')} · V-12")
    assert zh.value("severity_reason", "recurrence:3:B->A") == t(
        "severity.recurrence", "zh", n="3", old="B", new="A")


def test_a_merge_names_the_case_merged_into() -> None:
    merge = Event(1, 5, datetime(2026, 12, 7, tzinfo=timezone.utc), 8, "merge", {
        "merged_into_id": [None, 3], "cancel_reason": ["", "duplicate:KS2612-003"]})
    w = EventText("en", SHANGHAI, Names(numbers=merged_numbers([merge])))
    assert w.value("merged_into_id", 3) == "KS2612-003"
    assert w.value("cancel_reason", "duplicate:KS2612-003") == t(
        "reason.duplicate", "en", number="KS2612-003")


def test_a_change_line_names_the_field() -> None:
    assert words("zh").line("customer_id", None, 1) == t(
        "case.changed_from_to", "zh", field="客户", old=t("common.none", "zh"),
        new="苏州恒信精密机械有限公司")
    assert words("en").line("received_by_id", None, 2) == t(
        "case.changed_from_to", "en", field=t("field.received_by", "en"),
        old=t("common.none", "en"), new="王经理")


def test_every_field_of_a_complaint_reads_as_words() -> None:
    """A field added to Complaint later is caught here: an enum without its labels, an id
    without its names, a key without a label."""
    for name, kind in COMPLAINT_TYPES.items():
        assert not words("zh").label(name).startswith("field.") or name in (
            "id", "version", "created_at", "updated_at", "updated_by_id", "due_at", "close_wd",
            "imported", "due_step"), name
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            assert kind in ENUM_PREFIX, name
            for member in kind:
                for lang in ("zh", "en"):
                    assert words(lang).value(name, member.value) != member.value or \
                        member.value.isupper(), (name, member.value)
        if name.endswith("_id") and name != "id":
            assert name in USERS | DEPARTMENTS | {"customer_id", "defect_type_id",
                                                  "merged_into_id"}, name
    assert typing.get_type_hints(Complaint)["customer_id"] is int
