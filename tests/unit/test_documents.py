"""The CONTENT of the case documents (core/documents.py) on the in-memory fakes: the handling
form, the 8D report and the reply letter — their fields, sections, languages, empty sections,
times in the configured zone, money, who signed what, and who may read them."""
from __future__ import annotations

import dataclasses
import pytest

from core.documents import (
    DASH, CaseDocuments, Document, Fields, Paragraph, Section, Table, plain_text,
)
from core.errors import InvalidInput, NotAllowed, NotFound
from core.i18n import t
from core.model import (CapaType, ContainmentType, Lang, PaymentMethod, Severity, State,
                        Validity)
from core.usecases.accounts import UserInput
from tests.unit import test_lifecycle as lc
from tests.unit.test_lifecycle import DUE, TODAY, Case, World, drive, log
from core import usecases as uc

w = lc.w  # the lifecycle tests' World: users, departments, a valid draft

# ---------------------------------------------------------------- reading a document


def section(doc: Document, title_key: str) -> Section:
    title = t(title_key, doc.lang)
    found = [s for s in doc.sections if s.title == title]
    assert len(found) == 1, [s.title for s in doc.sections]
    return found[0]


def fields(sec: Section) -> dict[str, str]:
    out: dict[str, str] = {}
    for b in sec.blocks:
        if isinstance(b, Fields):
            out.update(dict(b.rows))
    return out


def tables(sec: Section) -> list[Table]:
    return [b for b in sec.blocks if isinstance(b, Table)]


def texts(sec: Section) -> list[str]:
    return [b.text for b in sec.blocks if isinstance(b, Paragraph)]


def column(table: Table, key: str, lang: str = "zh") -> list[str]:
    i = table.columns.index(t(f"doc.col.{key}", lang))
    return [r[i] for r in table.rows]


def docs(w: World, case: Case, lang: str = "zh", **kw: object) -> CaseDocuments:
    return uc.documents.case_documents(w.kesu, w.sales, case.id, lang, **kw)  # type: ignore[arg-type]


@pytest.fixture
def closed(w: World) -> Case:
    """A quality complaint taken along the whole procedure (8,000 CNY compensation signed by
    the sales manager and the general manager), with a meeting and a preventive action."""
    case = drive(w, State.ROOT_CAUSE)
    case.once(
        lambda: uc.investigation.add_containment(w.kesu, w.qa, case.id, ContainmentType.SORTING,
                                                 120, "库存全检")
    )
    lc.analyse(w, case)
    case.once(
        lambda: uc.investigation.add_capa(w.kesu, w.prod, case.id, CapaType.PREVENTIVE,
                                          "夹具纳入预防保养计划", w.qa.id, DUE)
    )
    case.once(
        lambda: uc.meetings.add_meeting(w.kesu, w.sales, case.id, TODAY, [w.qa.id, w.prod.id],
                                        "决定更换夹具")
    )
    w.clock.advance(hours=2)
    case.do("submit_analysis", w.prod)
    for step in (
        lc._approve_capa,
        lc._propose,
        lc.sign_all,
        lc._reply,
        lc._complete,
        lc._verify,
        lc._follow_up,
    ):
        step(w, case)
    assert case.c.state == State.CLOSED
    return case


# ---------------------------------------------------------------- the handling form


def test_handling_form_holds_the_facts_records_and_sign_offs_in_chinese(w: World,
                                                                        closed: Case) -> None:
    form = docs(w, closed).form
    c = closed.c
    assert (form.title, form.number, form.lang) == ("客户投诉处理单", c.number, "zh")
    assert form.filename == f"{c.number}-form"
    assert form.page_label == "第 {n} 页 / 共 {m} 页"
    assert dict(form.header)["客户"] == "Acme Electronics"
    assert [s.title for s in form.sections] == [
        "受理信息",
        "客户信息",
        "产品信息",
        "投诉内容",
        "品管判定",
        "临时对策",
        "原因分析",
        "纠正预防措施",
        "处理方案",
        "费用（质量成本）",
        "核决",
        "回复客户",
        "效果确认",
        "回访与结案",
        "会议记录",
        "签核记录",
        "处理过程记录",
    ]
    product = fields(section(form, "doc.s.product"))
    assert (product["料号"], product["订单编号"], product["不良数量"], product["不良类型"]) == (
        "P-100",
        "SO-1",
        "12",
        "划伤",
    )
    problem = section(form, "doc.s.problem")
    assert texts(problem) == ["Scratches on the housing of 12 pcs"]
    assert fields(problem)["索赔金额（元）"] == "300.00"
    qa = fields(section(form, "doc.s.qa"))
    assert qa["签收"] == "Quinn，2026-11-10 10:00"  # 02:00 UTC shown in Asia/Shanghai
    assert (qa["有效性"], qa["责任部门"]) == (t("validity.valid", "zh"), "制造部")
    analysis = section(form, "doc.s.analysis")
    assert "Worn fixture scratches the housing" in texts(analysis)
    assert column(tables(analysis)[0], "why") == ["fixture worn", "no PM plan"]
    (containment,) = tables(section(form, "doc.s.containment"))
    assert column(containment, "type") == [t("containment_type.sorting", "zh")]
    assert column(containment, "quantity") == ["120"]
    (capa,) = tables(section(form, "doc.s.capa"))
    assert column(capa, "action") == ["Replace fixture", "夹具纳入预防保养计划"]
    assert column(capa, "evidence") == ["new fixture photo", "new fixture photo"]
    dispositions = section(form, "doc.s.dispositions")
    assert column(tables(dispositions)[0], "amount") == ["8,000.00"]
    assert fields(dispositions)["合计"] == "8,000.00"
    assert "客户接受赔款" in texts(dispositions)
    (steps,) = tables(section(form, "doc.s.approvals"))
    assert column(steps, "signer") == ["Sam", "Gina"]
    assert column(steps, "decision") == ["已核准", "已核准"]
    assert column(steps, "comment") == ["同意", "同意"]
    closure = section(form, "doc.s.closure")
    assert fields(closure)["客户满意度"] == t("satisfaction.satisfied", "zh")
    assert "PM for fixtures" in texts(closure)
    (meetings,) = tables(section(form, "doc.s.meetings"))
    assert column(meetings, "attendees") == ["Quinn、Peng"]
    (signoffs,) = tables(section(form, "doc.s.signoffs"))
    assert column(signoffs, "what")[:3] == ["登记", "发单给品管", "签收"]
    assert column(signoffs, "signer")[:3] == ["Sally", "Sally", "Quinn"]
    assert "新增对策" not in column(signoffs, "what")  # a record, not a sign-off
    (history,) = tables(section(form, "doc.s.history"))
    assert len(history.rows) == len(closed.events)
    assert "新增对策" in column(history, "what")


def test_handling_form_in_english_translates_labels_not_what_users_typed(w: World,
                                                                         closed: Case) -> None:
    form = docs(w, closed, "en").form
    assert (form.title, form.lang, form.page_label) == (
        "Complaint handling form",
        "en",
        "Page {n} of {m}",
    )
    assert form.sections[0].title == "Receipt"
    qa = fields(section(form, "doc.s.qa"))
    assert qa["Acknowledged"] == "Quinn, 2026-11-10 10:00"
    assert qa["Responsible department"] == "Manufacturing"
    assert fields(section(form, "doc.s.product"))["Defect type"] == "Scratch"
    (meetings,) = tables(section(form, "doc.s.meetings"))
    assert column(meetings, "decisions", "en") == ["决定更换夹具"]  # typed text stays as typed
    assert column(meetings, "attendees", "en") == ["Quinn, Peng"]


def test_times_follow_the_configured_zone(w: World, closed: Case) -> None:
    w.setting("timezone", "Europe/Berlin")
    qa = fields(section(docs(w, closed).form, "doc.s.qa"))
    assert qa["签收"] == "Quinn，2026-11-10 03:00"


def test_a_just_logged_case_keeps_every_section_and_says_none(w: World) -> None:
    case = log(w)
    documents = docs(w, case)
    form = documents.form
    assert len(form.sections) == 17  # nothing vanishes
    for key in ("doc.s.containment", "doc.s.capa", "doc.s.approvals", "doc.s.meetings"):
        assert section(form, key).blocks[0] == Paragraph("无"), key
    assert fields(section(form, "doc.s.qa"))["签收"] == DASH
    assert fields(section(form, "doc.s.reply"))["回复日期"] == DASH
    assert texts(section(form, "doc.s.analysis"))[-1] == "无"  # root cause not yet known
    report = documents.report
    assert len(report.sections) == 8
    assert section(report, "doc.d3").blocks == (Paragraph("无"),)
    english = docs(w, case, "en")
    assert section(english.form, "doc.s.capa").blocks[0] == Paragraph("None")
    assert section(english.report, "doc.d5").blocks[0] == Paragraph("None")


def test_whatever_a_user_typed_stays_plain_text(w: World) -> None:
    typed = "**bold** <b>x</b> {nb} =1+1 [link](http://x)"
    case = log(w, description=typed)
    form = docs(w, case).form
    assert texts(section(form, "doc.s.problem")) == [typed]
    assert typed in plain_text(docs(w, case).letter)


def test_a_merged_duplicate_names_the_case_it_went_into_in_words(w: World) -> None:
    survivor = drive(w, State.INVESTIGATING)
    dup = log(w, lot="L2")
    dup.do("merge", w.sales, survivor.c.number, "同一批货")
    number = survivor.c.number
    form = docs(w, dup).form
    assert fields(section(form, "doc.s.receipt"))["撤销原因"] == f"与 {number} 重复，已合并到该客诉"
    assert fields(section(form, "doc.s.qa"))["合并至"] == number
    english = fields(section(docs(w, dup, "en").form, "doc.s.receipt"))
    assert english["Reason for cancelling"] == f"A duplicate of {number}, merged into it"
    assert not any("duplicate:" in v for v in fields(section(form, "doc.s.qa")).values())


def test_a_typed_reason_that_looks_like_a_merge_is_shown_as_typed(w: World) -> None:
    case = log(w)
    case.do("cancel", w.sales, "duplicate: 客户重复来电")
    form = docs(w, case).form
    assert fields(section(form, "doc.s.receipt"))["撤销原因"] == "duplicate: 客户重复来电"


# ---------------------------------------------------------------- the 8D report


def test_8d_report_has_d1_to_d8_filled_from_the_case(w: World, closed: Case) -> None:
    report = docs(w, closed).report
    assert report.filename == f"{closed.c.number}-8D"
    assert [s.title[:2] for s in report.sections] == [f"D{i}" for i in range(1, 9)]
    (team, meetings) = section(report, "doc.d1").blocks
    assert isinstance(team, Table) and isinstance(meetings, Table)
    members = dict(zip(column(team, "name"), column(team, "did"), strict=True))
    assert set(members) >= {"Sally", "Quinn", "Peng", "Fay", "Sam", "Gina"}
    assert "原因分析" in members["Peng"] and "对策负责人" in members["Peng"]
    assert "参会" in members["Quinn"]
    assert meetings.caption == "会议记录"
    d2 = section(report, "doc.d2")
    assert fields(d2)["客户"] == "Acme Electronics"
    assert texts(d2) == ["Scratches on the housing of 12 pcs"]
    (d3,) = tables(section(report, "doc.d3"))
    assert column(d3, "note") == ["库存全检"]
    d4 = section(report, "doc.d4")
    assert fields(d4)["原因类别（人机料法环测）"] == "机"
    assert column(tables(d4)[0], "no") == ["Why 1", "Why 2"]
    assert "Worn fixture scratches the housing" in texts(d4)
    (d5,) = tables(section(report, "doc.d5"))
    assert column(d5, "action") == ["Replace fixture"]  # corrective only
    assert fields(section(report, "doc.d5"))["对策批准"].startswith("Quinn，")
    d6 = tables(section(report, "doc.d6"))
    assert [x.caption for x in d6] == ["措施实施", "处理方案执行"]
    assert column(d6[1], "by") == ["Fay"]
    assert fields(section(report, "doc.d6"))["对策有效"] == "有效"
    d7 = section(report, "doc.d7")
    assert column(tables(d7)[0], "action") == ["夹具纳入预防保养计划"]
    assert "PM for fixtures" in texts(d7)
    d8 = section(report, "doc.d8")
    approvals, signoff = tables(d8)
    assert column(approvals, "signer") == ["Sam", "Gina"]
    assert column(signoff, "signer") == ["Peng", "Quinn", "Gina", "Quinn", "Sally"]
    assert column(signoff, "sign") == [""] * 5  # a box to sign on paper
    assert fields(d8)["客户满意度"] == "满意"
    assert texts(d8) == [t("doc.recognition", "zh")]


def test_8d_of_an_invalid_complaint_gives_the_reason_instead_of_a_root_cause(w: World) -> None:
    case = drive(w, State.INVESTIGATING)
    case.do("classify", w.qa, Validity.INVALID, reason="客户使用不当")
    d4 = section(docs(w, case).report, "doc.d4")
    assert "客户使用不当" in texts(d4)


# ---------------------------------------------------------------- the reply letter


def _customer_language(w: World, lang: Lang, contact: str = "") -> None:
    customer = uc.reference.customers(w.kesu, True)[0]
    uc.reference.save_reference(w.kesu, w.admin,
                                dataclasses.replace(customer, language=lang, contact=contact))


def test_the_letter_is_in_the_customers_language_with_findings_actions_and_dispositions(
    w: World, closed: Case
) -> None:
    _customer_language(w, Lang.EN, "Ms. Moore")
    w.setting("company_name", "华东精密制造有限公司")
    closed.once(lambda: uc.documents.set_customer_summary(
        w.kesu, w.qa, closed.id, closed.c.version, "A worn fixture scratched the housing."))
    documents = docs(w, closed)  # the user reads Chinese; the customer gets English
    letter = documents.letter
    assert (documents.letter_lang, letter.lang) == ("en", "en")
    assert documents.form.lang == "zh"
    assert letter.title == f"Re: your complaint (our reference {closed.c.number})"
    assert letter.company == documents.company == "华东精密制造有限公司"
    assert letter.filename == f"{closed.c.number}-letter-en"
    text = plain_text(letter)
    for expected in (
        "Dear Ms. Moore,",
        "10 November 2026",
        "Housing (P-100)",
        "order SO-1",
        "Scratches on the housing of 12 pcs",
        "Our findings\nA worn fixture scratched the housing.",  # QA's summary for the customer
        "1. Replace fixture (due 24 November 2026, done)",
        "Compensation, amount CNY 8,000.00",
        "Yours sincerely,",
        "Our reference: " + closed.c.number,
        "华东精密制造有限公司",
    ):
        assert expected in text, expected
    assert "根本原因" not in text
    assert closed.c.root_cause not in text  # the internal root cause does not go out


def test_the_user_may_switch_the_letter_language_and_company(w: World, closed: Case) -> None:
    _customer_language(w, Lang.EN)
    documents = docs(w, closed, letter_lang="zh", company="Acme 自己的公司")
    text = plain_text(documents.letter)
    assert documents.letter_lang == "zh"
    assert "尊敬的客户：" in text and t("doc.l.pending", "zh") in text
    assert closed.c.root_cause not in text  # no summary written: never the root cause
    assert "1. 赔款，金额 8,000.00 元" in text
    assert "此致" in text and "Acme 自己的公司" in text
    assert "2026年11月10日" in text
    assert "就Housing (P-100)（订单 SO-1，批号 L1）向我司反馈问题" in text


def test_a_letter_before_the_analysis_says_the_investigation_goes_on(w: World) -> None:
    case = log(w)
    letter = docs(w, case).letter
    assert letter.lang == "zh"  # the customer's language (the default)
    findings = section(letter, "doc.l.findings")
    assert texts(findings) == [t("doc.l.pending", "zh")]
    assert texts(section(letter, "doc.l.dispositions")) == ["暂无。"]
    assert letter.company == ""


def test_a_letter_for_an_invalid_complaint_explains_why(w: World) -> None:
    case = drive(w, State.INVESTIGATING)
    case.do("classify", w.qa, Validity.INVALID, reason="客户使用不当")
    findings = section(docs(w, case).letter, "doc.l.findings")
    assert texts(findings) == ["经调查，该问题并非由我司产品质量引起：客户使用不当"]


def test_two_rounds_of_approval_are_both_on_the_form(w: World) -> None:
    case = drive(w, State.PENDING_APPROVAL)
    case.do("reject_step", w.sm, "金额过高")
    form = docs(w, case).form
    (steps,) = tables(section(form, "doc.s.approvals"))
    assert column(steps, "decision") == ["已驳回"]  # the second round has no step yet
    assert column(steps, "comment") == ["金额过高"]
    (dispositions, *_) = tables(section(form, "doc.s.dispositions"))
    assert column(dispositions, "round") == ["1", "2"]


def test_compensation_instalments_are_on_the_form(w: World) -> None:
    case = drive(w, State.IMPLEMENTING)
    [comp] = [d for d in case.file.current(case.file.dispositions)
              if d.type.value == "compensation"]
    case.once(lambda: uc.closure.record_payment(w.kesu, w.finance, comp.id or 0, TODAY, "3000",
                                                PaymentMethod.BANK_TRANSFER, "HK-2026-001"))
    section_ = section(docs(w, case).form, "doc.s.dispositions")
    payments = [x for x in tables(section_) if x.caption == t("doc.payments", "zh")]
    assert len(payments) == 1
    assert column(payments[0], "voucher") == ["HK-2026-001"]
    assert column(payments[0], "method") == ["银行转账"]
    assert column(payments[0], "amount") == ["3,000.00"]


# ---------------------------------------------------------------- who may read them


def test_anyone_who_may_open_the_case_gets_its_documents(w: World, closed: Case) -> None:
    for user in (w.sales, w.qa, w.prod, w.other_prod, w.finance, w.boss):
        assert (
            uc.documents.case_documents(w.kesu, user, closed.id, "zh").form.number
            == closed.c.number
        )


def test_a_deactivated_user_or_an_unknown_case_gets_nothing(w: World, closed: Case) -> None:
    uc.accounts.update_user(w.kesu, w.admin, w.sales.id,
                            UserInput("sally", "Sally", frozenset(w.sales.roles), active=False))
    with pytest.raises(NotAllowed):
        uc.documents.case_documents(w.kesu, w.sales, closed.id, "zh")
    with pytest.raises(NotFound):
        uc.documents.case_documents(w.kesu, w.qa, 9999, "zh")
    with pytest.raises(NotFound):
        uc.documents.case_documents(w.kesu, w.qa, 0, "zh")


def test_severity_escalated_by_recurrence_is_explained(w: World) -> None:
    for _ in range(2):
        drive(w, State.ROOT_CAUSE)
    case = drive(w, State.ROOT_CAUSE)
    assert case.c.severity == Severity.B
    qa = fields(section(docs(w, case).form, "doc.s.qa"))
    assert qa["等级"] == t("severity.B", "zh")
    assert "3" in qa["等级说明"]


def test_names_of_people_no_longer_active_still_show(w: World, closed: Case) -> None:
    uc.accounts.update_user(
        w.kesu,
        w.admin,
        w.prod.id,
        UserInput("peng", "Peng", frozenset(w.prod.roles), department_id=w.press, active=False),
    )
    d8 = section(docs(w, closed).report, "doc.d8")
    assert column(tables(d8)[1], "signer")[0] == "Peng"


def test_admin_sets_the_company_name_that_signs_the_letter(w: World, closed: Case) -> None:
    uc.reference.set_settings(w.kesu, w.admin, {"company_name": "  华东精密   制造有限公司 "})
    assert uc.context.settings(w.kesu).company_name == "华东精密 制造有限公司"
    assert docs(w, closed).letter.company == "华东精密 制造有限公司"
    with pytest.raises(InvalidInput):
        uc.reference.set_settings(w.kesu, w.admin, {"company_name": "厂" * 201})
    assert uc.context.settings(w.kesu).company_name == "华东精密 制造有限公司"


def test_attendees_without_an_account_are_on_the_form_and_the_8d_team(w: World) -> None:
    """Typed meeting guests (工程部 people without an account) are named with their company."""
    case = drive(w, State.ROOT_CAUSE)
    case.once(lambda: uc.meetings.add_meeting(
        w.kesu, w.qa, case.id, TODAY, [w.qa.id], "工程部改夹具",
        guests=[("王工", "工程部"), ("李四", "")]))
    zh_docs, en_docs = docs(w, case), docs(w, case, "en")
    (meetings,) = tables(section(zh_docs.form, "doc.s.meetings"))
    assert column(meetings, "attendees") == ["Quinn、王工（工程部）、李四"]
    (meetings,) = tables(section(en_docs.form, "doc.s.meetings"))
    assert column(meetings, "attendees", "en") == ["Quinn, 王工 (工程部), 李四"]
    team = section(zh_docs.report, "doc.d1").blocks[0]
    assert isinstance(team, Table)
    rows = list(zip(column(team, "name"), column(team, "department"), column(team, "did"),
                    strict=True))
    assert ("王工", "工程部", "参会") in rows and ("李四", "—", "参会") in rows
