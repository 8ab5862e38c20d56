"""Use cases of a case's documents (docs/procedure.md §10); the documents are built in
core/documents.py."""

from __future__ import annotations

from core.documents import CaseDocuments, CaseRecords, build_all
from collections.abc import Callable
from datetime import datetime
from typing import Any

from core.errors import InvalidInput, NotAllowed, NotFound
from core.model import (
    CaseFile,
    Complaint,
    CustomField,
    Lang,
    Role,
    State,
    Value,
    Kind,
    ChainStep,
    Meeting,
    Payment,
    User,
)
from core.ports import UnitOfWork
from core.rules import custom_fields as custom_rules
from core.usecases import authority, common, context, custom_fields, pipeline
from core.usecases.context import Context


def case_records(ctx: Context, actor: User, complaint_id: int) -> CaseRecords:
    """The case with its records, events, meetings and names — for whoever may open the
    case on the Complaint page (an active user; a deactivated one gets NotAllowed)."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, complaint_id, me)
        c = case.complaint
        customer = next(
            (x for x in uow.ref.customers(include_inactive=True) if x.id == c.customer_id), None
        )
        defect = next(
            (x for x in uow.ref.defect_types(include_inactive=True) if x.id == c.defect_type_id),
            None,
        )
        company = uow.settings.get("company_name")
        product = next((x for x in uow.ref.products(include_inactive=True)
                        if c.product_code and x.code == c.product_code), None)
        return CaseRecords(case, tuple(uow.events.for_complaint(complaint_id)),
                           tuple(uow.records.where(Meeting, complaint_id=complaint_id)), customer,
                           defect, {u.id: u for u in uow.users.list()},
                           {d.id: d for d in uow.ref.departments(include_inactive=True)},
                           context.settings_of(ctx, uow).tz, ctx.clock(),
                           str(company or "").strip(),
                           tuple(uow.records.where(Payment, complaint_id=complaint_id)),
                           chain_steps=tuple(uow.records.where(ChainStep,
                                                               complaint_id=complaint_id)),
                           custom=_custom(uow, complaint_id, c.kind),
                           titles=authority.titles_of(uow).defs, product=product,
                           company_en=str(uow.settings.get("company_name_en") or "").strip())


def _custom(uow: UnitOfWork, complaint_id: int, kind: Kind) -> tuple[tuple[CustomField, str],
                                                                     ...]:
    kept = custom_fields.values_of(uow, complaint_id)
    return tuple((f, kept.get(f.id or 0, ""))
                 for f in custom_rules.for_kind(custom_fields.definitions(uow), kind))


def case_documents(ctx: Context, actor: User, complaint_id: int, lang: str,
                   letter_lang: str | None = None, company: str | None = None) -> CaseDocuments:
    """The handling form and 8D report in `lang`; the reply letter in `letter_lang`
    (default: the customer's language), signed with `company` (default: the setting)."""
    if complaint_id <= 0:
        raise NotFound()
    rec = case_records(ctx, actor, complaint_id)
    return build_all(rec, lang, letter_lang, company)


def save_letter(ctx: Context, actor: User, complaint_id: int, version: int, lang: str,
                text: str) -> Complaint:
    """Keep the reply letter as edited before its PDF (issue #13): in `lang`, for whoever may
    reply or write it (sales, QA, management), while the case is not cancelled. An empty
    text goes back to the letter kesu writes. The event keeps the text saved."""
    if lang not in (Lang.ZH.value, Lang.EN.value):
        raise InvalidInput("err.invalid_input")
    body = common.text(text, "letter_text", required=False)

    def keep(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> tuple[
            dict[str, Any], dict[str, list[Value]]]:
        c = case.complaint
        if not me.has(Role.SALES, Role.QA, Role.MANAGEMENT):
            raise NotAllowed("why.wrong_role")
        if c.state == State.CANCELLED:
            raise NotAllowed("why.wrong_state", state=c.state.value)
        return ({"letter_text": body, "letter_lang": lang if body else ""},
                {"letter_lang": [c.letter_lang or None, lang if body else None]})

    return _record(ctx, actor, complaint_id, version, "letter_edited", keep, body)


def set_customer_summary(ctx: Context, actor: User, complaint_id: int, version: int,
                         text: str) -> Complaint:
    """What the reply letter tells the customer of the cause (issue #13): QA (or management)
    writes it from the root cause; the letter never copies the internal root cause."""
    summary = common.text(text, "customer_summary", required=False)

    def write(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> tuple[
            dict[str, Any], dict[str, list[Value]]]:
        c = case.complaint
        if not me.has(Role.QA, Role.MANAGEMENT):
            raise NotAllowed("why.wrong_role")
        if c.state == State.CANCELLED:
            raise NotAllowed("why.wrong_state", state=c.state.value)
        return ({"customer_summary": summary},
                {"customer_summary": [c.customer_summary or None, summary or None]})

    return _record(ctx, actor, complaint_id, version, "customer_summary_set", write)


def _record(ctx: Context, actor: User, complaint_id: int, version: int, action: str,
            change: Callable[[UnitOfWork, CaseFile, User, datetime],
                             tuple[dict[str, Any], dict[str, list[Value]]]],
            comment: str = "") -> Complaint:
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, complaint_id, me)
        pipeline.check_version(uow, case.complaint, version)
        values, changes = change(uow, case, me, now)
        new = pipeline.touch(ctx, uow, case, me, now, action, changes, comment, values=values)
        uow.commit()
        return new
