"""Use cases of a case's documents (docs/procedure.md §10); the documents are built in
core/documents.py."""

from __future__ import annotations

from core.documents import CaseDocuments, CaseRecords, build_all
from core.errors import NotFound
from core.model import (
    CustomField,
    Kind,
    ChainStep,
    Meeting,
    Payment,
    User,
)
from core.ports import UnitOfWork
from core.rules import custom_fields as custom_rules
from core.usecases import approval, context, custom_fields
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
                           titles=approval.titles_of(uow).defs)


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
