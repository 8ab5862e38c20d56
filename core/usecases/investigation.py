"""Use cases from dispatch to the approved CAPA plan: acknowledge, classify, containment, analysis,
CAPA, meetings, assessment (docs/procedure.md §5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from core import workflow
from core.errors import InvalidInput, NotAllowed
from core.model import (
    Channel,
    CapaAction,
    CapaType,
    CaseFile,
    Category,
    Complaint,
    Containment,
    ContainmentType,
    Role,
    Severity,
    SixM,
    State,
    User,
    Validity,
    Value,
)
from core.ports import UnitOfWork
from core.rules import severity as severity_rules, uploads as upload_rules
from core.rules.severity import escalate
from core.usecases import assisting, common, complaints, context, pipeline
from core.usecases.context import Context

WORK_STATES = frozenset({State.INVESTIGATING, State.ROOT_CAUSE, State.CAPA_REVIEW,
                         State.DISPOSITION, State.PENDING_APPROVAL, State.REPLYING,
                         State.IMPLEMENTING, State.VERIFYING})
ANY_CAPA = CapaAction(0, 0, CapaType.CORRECTIVE, "-", 1, date.min)
WITHDRAWN = "withdrawn"  # a CAPA action taken back, with a reason; kept, never deleted


def approve_dispatch(ctx: Context, actor: User, cid: int, version: int,
                     comment: str = "") -> Complaint:
    """Management approves dispatching a major (A) complaint (docs/procedure.md §5)."""
    return pipeline.transition(ctx, actor, cid, version, "approve_dispatch",
                               lambda u, case, me, now: {"dispatch_approved_by_id": me.id}, comment)


def dispatch(ctx: Context, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
    """发单: the handling form goes to QA."""
    return pipeline.transition(ctx, actor, cid, version, "dispatch", lambda *a: {}, comment)


def route_short(ctx: Context, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
    """Suggestions and inquiries take the short path straight to the reply."""
    return pipeline.transition(ctx, actor, cid, version, "route_short", lambda *a: {}, comment)


def return_to_sales(ctx: Context, actor: User, cid: int, version: int, missing: str) -> Complaint:
    """QA returns the handling form: what is missing (驳回/退回补充)."""
    return pipeline.transition(ctx, actor, cid, version, "return_to_sales", lambda *a: {},
                               common.text(missing, "missing_info"))


def acknowledge(ctx: Context, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
    """签收: QA accepts the handling form and starts investigating."""
    return pipeline.transition(ctx, actor, cid, version, "acknowledge", lambda *a: {}, comment)


def classify(ctx: Context, actor: User, cid: int, version: int, validity: Validity,
             category: Category | None = None, severity: Severity | None = None,
             department_id: int | None = None, reason: str = "",
             assisting_asks: Mapping[int, str] | None = None) -> Complaint:
    """QA decides validity, category, final severity (with recurrence escalation) and the
    responsible department — the lead, with any assisting departments and what each is asked
    (`assisting_asks`, issue #12); an invalid complaint goes straight to an explanation."""
    if validity == Validity.INVALID:
        why = common.text(reason, "invalid_reason")

        def invalid(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
            return {
                "validity": Validity.INVALID,
                "no_investigation_reason": why,
                "no_investigation_by_id": me.id,
            }

        return pipeline.transition(ctx, actor, cid, version, "classify_invalid", invalid, why)
    if category is None:
        raise InvalidInput("err.required", field="category")
    if severity is None:
        raise InvalidInput("err.required", field="severity")
    if department_id is None:
        raise InvalidInput("err.required", field="responsible_department")

    def valid(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
        c = case.complaint
        if department_id not in {d.id for d in uow.ref.departments()}:
            raise InvalidInput("err.unknown", field="responsible_department")
        final, note = severity, ""
        if c.product_code and c.defect_type_id is not None:
            others = uow.complaints.count_same_issue(c.product_code, c.defect_type_id, severity,
                                                     c.received_at - timedelta(days=30),
                                                     c.received_at)
            if c.effective_severity == severity:
                others -= 1  # this case is counted below, once
            final, escalated = escalate(severity, others + 1)
            if escalated:
                note = f"recurrence:{others + 1}:{severity.value}->{final.value}"
        cfg = context.settings_of(ctx, uow)
        suggested, criteria = severity_rules.suggest(
            c.safety_risk, c.channel == Channel.EXTERNAL, c.claimed_amount,
            severity_rules.SeverityThresholds(cfg.severity_a_claim, cfg.severity_b_claim))
        if severity_rules.below(final, suggested) and not reason.strip():
            # below what the criteria ask for: QA says why (the reason is the event's comment)
            raise InvalidInput("err.severity_below", suggested=getattr(suggested, "value", ""),
                               criteria=",".join(criteria))
        if final == Severity.A and not case.containment:
            if note:  # raised to A by recurrence: say so, not only that A needs containment
                n = note.split(":")[1]
                raise NotAllowed("why.containment_missing_recurrence", n=n,
                                 chosen=severity.value)
            raise NotAllowed("why.containment_missing")
        if assisting_asks is not None:
            helping.update(assisting.apply(uow, case, me, now, assisting_asks, department_id))
        return {
            "validity": Validity.VALID,
            "category": category,
            "severity": final,
            "severity_reason": note,
            "responsible_department_id": department_id,
        }

    helping: dict[str, list[Value]] = {}
    return pipeline.transition(ctx, actor, cid, version, "classify_valid", valid, reason, helping)


def add_containment(ctx: Context, actor: User, cid: int, type_: ContainmentType,
                    quantity: int | None, note: str) -> Complaint:
    """临时对策 with quantities: quarantine stock, sorting, stop shipment."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, cid, me)
        _may_work(me, case, Role.QA, Role.PRODUCTION, Role.MANAGEMENT)
        if quantity is not None and quantity < 0:
            raise InvalidInput("err.quantity", field="quantity")
        text = common.text(note, "note", required=False)
        uow.records.add(Containment(None, cid, type_, quantity, text, me.id, now))
        new = pipeline.touch(ctx, uow, case, me, now, "containment_added",
                             {"containment": [None, f"{type_.value} {quantity or ''}".strip()]},
                             text)
        uow.commit()
        return new


def save_analysis(ctx: Context, actor: User, cid: int, version: int, *, prod_line: str = "",
                  prod_shift: str = "", prod_machine: str = "", prod_operator: str = "",
                  prod_date: date | None = None, prod_lot: str = "", whys: Sequence[str] = (),
                  six_m: SixM | None = None, root_cause: str = "") -> Complaint:
    """The responsible department's production facts, 5 Why and 6M root cause."""
    now = ctx.clock()
    values: dict[str, Any] = {
        "prod_line": common.short(prod_line),
        "prod_shift": common.short(prod_shift),
        "prod_machine": common.short(prod_machine),
        "prod_operator": common.short(prod_operator),
        "prod_date": prod_date,
        "prod_lot": common.short(prod_lot),
        "root_cause_whys": "\n".join(w.strip().replace("\n", " ") for w in whys if w.strip())[
            : common.MAX_TEXT
        ],
        "root_cause_6m": six_m,
        "root_cause": common.text(root_cause, "root_cause", required=False),
    }
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, cid, me)
        c = case.complaint
        pipeline.check_version(uow, c, version)
        if c.state != State.ROOT_CAUSE:
            raise NotAllowed("why.wrong_state", state=c.state.value)
        reason = (
            workflow.why_not("submit_analysis", replace(case, capa=[ANY_CAPA]), me,
                             context.workflow_context(ctx, uow))
            if not me.has(Role.QA)
            else None
        )
        if reason:
            raise NotAllowed(reason)
        if prod_date is not None and prod_date > context.today(ctx, uow):
            raise InvalidInput("err.future_date", field="prod_date")
        changes = common.changed(c, values)
        new = pipeline.touch(ctx, uow, case, me, now, "analysis_saved", changes, values=values)
        uow.commit()
        return new


def add_capa(ctx: Context, actor: User, cid: int, type_: CapaType, description: str, owner_id: int,
             due: date) -> Complaint:
    """A corrective or preventive action, with owner and due date."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, cid, me)
        part = _may_work(me, case, Role.QA, Role.PRODUCTION, Role.MANAGEMENT, assisting_too=True)
        check_capa(ctx, uow, description, owner_id, due)
        uow.records.add(CapaAction(None, cid, type_, description.strip(), owner_id, due,
                                   department_id=part))
        changes: dict[str, list[Value]] = {"capa": [None, description.strip()[:200]]}
        if part is not None:  # an assisting department's part: the timeline names it
            changes["assisting_department"] = [None, str(part)]
        new = pipeline.touch(ctx, uow, case, me, now, "capa_added", changes)
        uow.commit()
        return new


def check_capa(ctx: Context, uow: UnitOfWork, description: str, owner_id: int | None,
               due: date | None, kept_due: date | None = None) -> None:
    """Every problem of a CAPA action at once (InvalidInput with the others); `kept_due`: an
    edited action's due date, which may stay as it was even when it has passed."""
    problems: list[InvalidInput] = []
    try:
        common.text(description, "capa_description")
    except InvalidInput as e:
        problems.append(e)
    owner = uow.users.get(owner_id) if owner_id else None
    if owner is None or not owner.active:
        problems.append(InvalidInput("err.required", field="owner"))
    if due is None:
        problems.append(InvalidInput("err.required", field="due_date"))
    elif due < context.today(ctx, uow) and due != kept_due:
        problems.append(InvalidInput("err.past_date", field="due_date"))
    if problems:
        raise InvalidInput(problems[0].key, others=problems[1:], **problems[0].params)


def complete_capa(ctx: Context, actor: User, capa_id: int, evidence: str,
                  files: Sequence[complaints.Upload] = ()) -> Complaint:
    """Mark a CAPA action done, with its evidence (owner, department, QA or management): a
    text, files (photos, a revised work instruction: kept with the case's attachments, checked
    as every upload), or both."""
    now = ctx.clock()
    stored: list[complaints.StoredUpload] = []
    if files:  # who and the limits first, then the files are stored before the change
        with ctx.uow() as uow:
            me = context.acting_user(ctx, uow, actor)
            case, action = pipeline.record_in_case(ctx, uow, CapaAction, capa_id)
            _may_complete(me, case, action)
            used = sum(a.size for a in uow.attachments.for_complaint(case.complaint.id or 0))
            cfg = context.settings_of(ctx, uow)
        stored = complaints.store_uploads(ctx, files, cfg, used)
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case, action = pipeline.record_in_case(ctx, uow, CapaAction, capa_id)
        _may_complete(me, case, action)
        text = common.text(evidence, "evidence", required=not stored)
        if stored:
            cid = case.complaint.id or 0
            used = sum(a.size for a in uow.attachments.for_complaint(cid))
            upload_rules.check_case_total(used, sum(x.size for x in stored),
                                          context.settings_of(ctx, uow).case_attachments_max_mb)
            complaints.add_stored(uow, me, cid, stored, now)
            names = "📎 " + ", ".join(x.name for x in stored)  # the files, named in the evidence
            text = f"{text}\n{names}" if text else names
        uow.records.update(replace(action, status="done", evidence=text, done_at=now))
        new = pipeline.touch(ctx, uow, case, me, now, "capa_done",
                             {"capa": [action.description[:200], "done"]}, text)
        uow.commit()
        return new


def _may_complete(me: User, case: CaseFile, action: CapaAction) -> None:
    if me.id != action.owner_id:
        part = _may_work(me, case, Role.QA, Role.PRODUCTION, Role.MANAGEMENT,
                         assisting_too=True)
        if part is not None and action.department_id != part:  # only its own part
            raise NotAllowed("why.not_your_department")
    elif not case.complaint.state.is_open:
        raise NotAllowed("why.wrong_state", state=case.complaint.state.value)
    if action.status == WITHDRAWN:
        raise NotAllowed("why.capa_not_open")


def edit_capa(ctx: Context, actor: User, capa_id: int, type_: CapaType, description: str,
              owner_id: int | None, due: date | None, reason: str) -> Complaint:
    """Change an open CAPA action (who may add it may change it: QA, management, the
    responsible department, an assisting department its own part); the reason is the event's
    comment, the old values stay in the event."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case, action = pipeline.record_in_case(ctx, uow, CapaAction, capa_id)
        _may_change_capa(me, case, action)
        problems: list[InvalidInput] = []
        for check in (lambda: check_capa(ctx, uow, description, owner_id, due, action.due_date),
                      lambda: common.text(reason, "reason")):
            try:
                check()
            except InvalidInput as e:
                problems.extend(e.all)
        if problems:
            raise InvalidInput(problems[0].key, others=problems[1:], **problems[0].params)
        assert owner_id is not None and due is not None  # checked above
        new_action = replace(action, type=type_, description=description.strip(),
                             owner_id=owner_id, due_date=due)
        changes = _capa_changes(uow, action, new_action)
        if not changes:
            raise InvalidInput("err.nothing_changed", field="capa_description")
        changes.setdefault("capa", [action.description[:200], new_action.description[:200]])
        uow.records.update(new_action)
        new = pipeline.touch(ctx, uow, case, me, now, "capa_edited", changes,
                             reason.strip())
        uow.commit()
        return new


def withdraw_capa(ctx: Context, actor: User, capa_id: int, reason: str) -> Complaint:
    """Withdraw an open CAPA action with a reason: it stays on the case, marked withdrawn,
    and no longer counts (neither as planned nor as still to be done)."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case, action = pipeline.record_in_case(ctx, uow, CapaAction, capa_id)
        _may_change_capa(me, case, action)
        why = common.text(reason, "reason")
        uow.records.update(replace(action, status=WITHDRAWN))
        new = pipeline.touch(ctx, uow, case, me, now, "capa_withdrawn",
                             {"capa": [action.description[:200], action.description[:200]]},
                             why)
        uow.commit()
        return new


def _may_change_capa(me: User, case: CaseFile, action: CapaAction) -> None:
    """Editing or withdrawing: as adding (add_capa), only an open action, an assisting
    department only its own part."""
    part = _may_work(me, case, Role.QA, Role.PRODUCTION, Role.MANAGEMENT, assisting_too=True)
    if part is not None and action.department_id != part:
        raise NotAllowed("why.not_your_department")
    if action.status != "open":
        raise NotAllowed("why.capa_not_open")


def _capa_changes(uow: UnitOfWork, old: CapaAction, new: CapaAction) -> dict[str, list[Value]]:
    """The event's changes in words: the owner by name, the type and due date as stored."""
    out: dict[str, list[Value]] = {}
    if old.description != new.description:
        out["capa"] = [old.description[:200], new.description[:200]]
    if old.type != new.type:
        out["capa_type"] = [old.type.value, new.type.value]
    if old.owner_id != new.owner_id:
        before, after = uow.users.get(old.owner_id), uow.users.get(new.owner_id)
        out["owner"] = [before.display_name if before else None,
                        after.display_name if after else None]
    if old.due_date != new.due_date:
        out["due_date"] = [old.due_date.isoformat(), new.due_date.isoformat()]
    return out


def submit_analysis(ctx: Context, actor: User, cid: int, version: int,
                    comment: str = "") -> Complaint:
    """The responsible department hands root cause and CAPA plan to QA for review."""

    def check(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
        c = case.complaint
        if not c.root_cause.strip() or c.root_cause_6m is None:
            raise InvalidInput("err.required", field="root_cause")
        if not (c.prod_lot or c.prod_date or c.prod_line):
            raise InvalidInput("err.required", field="production_facts")
        return {}

    return pipeline.transition(ctx, actor, cid, version, "submit_analysis", check, comment)


def send_back(ctx: Context, actor: User, cid: int, version: int, reason: str) -> Complaint:
    """退回重新分析: QA rejects the analysis with a reason; counted for first-time-right."""
    why = common.text(reason, "reason")
    return pipeline.transition(
        ctx, actor, cid, version, "send_back",
        lambda u, case, me, now: {"sent_back_count": case.complaint.sent_back_count + 1}, why)


def approve_capa(ctx: Context, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
    return pipeline.transition(ctx, actor, cid, version, "approve_capa", lambda *a: {}, comment)


def _may_work(me: User, case: CaseFile, *roles: Role, assisting_too: bool = False) -> int | None:
    """Work on an investigation's records: the right role, an open working state, and for
    production the responsible department — or, with `assisting_too`, a department assisting
    in the case, whose id is returned (its part of the work; None otherwise)."""
    c = case.complaint
    if c.state not in WORK_STATES:
        raise NotAllowed("why.wrong_state", state=c.state.value)
    if not me.has(*roles):
        raise NotAllowed("why.wrong_role")
    if me.has(Role.PRODUCTION) and not me.has(Role.QA, Role.MANAGEMENT):
        if c.responsible_department_id != me.department_id:
            if assisting_too and me.department_id in case.assisting:
                return me.department_id
            raise NotAllowed("why.not_your_department")
    return None
