"""Use cases of a complaint's record: register, edit, attachments, register search, the action
panel."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core import settings as settings_mod
from core import workflow
from core.errors import InvalidInput, NotAllowed, NotFound
from core.model import (
    Attachment,
    CaseFile,
    Complaint,
    Customer,
    DefectType,
    DispositionType,
    Event,
    Role,
    State,
    User,
    stored,
)
from core.ports import (
    UnitOfWork,
)
from core.rules import complaint_fields, numbering, uploads as upload_rules
from core.rules.severity import SeverityThresholds
from core.rules.complaint_fields import ComplaintDraft as ComplaintDraft  # the form's type
from core.rules.severity import Candidate, duplicate_reason
from core.usecases import approval, closure, common, context, custom_fields, pipeline
from core.usecases.context import Context

CASE_ROLES = (Role.SALES, Role.QA, Role.PRODUCTION, Role.FINANCE, Role.MANAGEMENT)


EDIT_ROLES = (Role.SALES, Role.QA, Role.MANAGEMENT)


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Duplicate:
    id: int
    number: str
    reason: str  # "same_order" | "same_issue"


@dataclass(frozen=True)
class ComplaintView:
    complaint: Complaint
    events: list[Event]
    attachments: list[Attachment]
    customer: Customer | None
    defect_type: DefectType | None
    received_by: str
    can_edit: bool
    can_cancel: bool


@dataclass(frozen=True)
class ActionOption:
    """One action on the Complaint page's panel: allowed now, or why not."""

    action: str
    allowed: bool
    reason: str | None


def find_duplicates(ctx: Context, actor: User, draft: ComplaintDraft,
                    exclude_id: int | None = None) -> list[Duplicate]:
    """Likely duplicates of a draft, for the warning before saving (docs/procedure.md §4)."""
    if draft.customer_id is None:
        return []
    received = draft.received_at or ctx.clock()
    with ctx.uow() as uow:
        context.acting_user(ctx, uow, actor)
        cands: list[Candidate] = uow.complaints.duplicate_candidates(
            draft.customer_id,
            draft.order_no.strip(),
            draft.product_code.strip(),
            draft.defect_type_id,
            received - timedelta(days=30),
        )
    out = []
    for c in cands:
        if c.id == exclude_id:
            continue
        why = duplicate_reason(draft.customer_id, draft.order_no, draft.product_code,
                               draft.defect_type_id, received, c)
        if why:
            out.append(Duplicate(c.id, c.number, why))
    return out


def register_complaint(ctx: Context, actor: User, draft: ComplaintDraft,
                       uploads: Sequence[Upload] = ()) -> Complaint:
    """Log a complaint (anyone logged in — 首问负责); returns it with its new number."""
    now = ctx.clock()
    files: list[_Stored] = []
    if uploads:  # who and what first, then the files, outside the write transaction
        with ctx.uow() as uow:
            me = context.acting_user(ctx, uow, actor)
            context.require_role(me, *CASE_ROLES)
            cfg = context.settings_of(ctx, uow)
            _validated(ctx, uow, draft, now)
        files = _stored_uploads(ctx, uploads, cfg, 0)
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        context.require_role(me, *CASE_ROLES)
        cfg = context.settings_of(ctx, uow)
        values, custom = _validated(ctx, uow, draft, now)
        period = numbering.period_of(values["received_at"], cfg.tz)
        number = numbering.format_number(period, uow.complaints.next_serial(period))
        c = Complaint(id=None, number=number, received_by_id=me.id, created_at=now, updated_at=now,
                      updated_by_id=me.id, **values)
        c.due_at, c.due_step = pipeline.due(ctx, uow, CaseFile(c), [], now)
        c.id = uow.complaints.add(c)
        uow.events.add(
            Event(
                None,
                c.id,
                now,
                me.id,
                "registered",
                {
                    **{
                        k: [None, stored(v)]
                        for k, v in values.items()
                        if v is not None and v != "" and v is not False
                    },
                    **custom_fields.write(uow, c.id, custom),
                },
            )
        )
        _add_attachments(uow, me, c.id, files, now)
        uow.commit()
        return c


def update_complaint(ctx: Context, actor: User, complaint_id: int, expected_version: int,
                     draft: ComplaintDraft, comment: str = "") -> Complaint:
    """Edit the logged facts; one event lists every changed field, old and new."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, complaint_id, me)
        c = case.complaint
        if not _may_edit(me, c):
            raise NotAllowed("err.cannot_edit", state=c.state.value)
        pipeline.check_version(uow, case.complaint, expected_version)
        values, custom = _validated(ctx, uow, draft, now, keep_received=c.received_at,
                                    state=c.state, edit=True)
        changes = {**common.changed(c, values), **custom_fields.write(uow, c.id or 0, custom)}
        if not changes:
            raise InvalidInput("err.nothing_changed")
        # through _touch: a changed fact can open or move a time limit (returned goods)
        new = pipeline.touch(ctx, uow, case, me, now, "edited", changes,
                             comment.strip()[: common.MAX_TEXT], values=values)
        uow.commit()
        return new


def cancel_complaint(ctx: Context, actor: User, complaint_id: int, expected_version: int,
                     reason: str) -> Complaint:
    """撤销: sales before investigation starts, management any time; the case stays visible."""
    return closure.cancel(ctx, actor, complaint_id, expected_version, reason)


def add_attachments(ctx: Context, actor: User, complaint_id: int, uploads: Sequence[Upload]) -> int:
    """Attach files to a case: each checked (type by extension AND content, size, a picture's
    pixels), pictures kept upright with a thumbnail, the case's total within its limit."""
    now = ctx.clock()

    def allowed(uow: UnitOfWork) -> tuple[User, int]:
        me = context.acting_user(ctx, uow, actor)
        c = get(ctx, uow, complaint_id)
        context.check_visible(ctx, uow, me, c)
        if not _may_edit(me, c):
            raise NotAllowed("err.cannot_edit", state=c.state.value)
        if not uploads:
            raise InvalidInput("err.required", field="attachments")
        return me, sum(a.size for a in uow.attachments.for_complaint(complaint_id))

    with ctx.uow() as uow:  # who, which case, the limits: before any file is decoded
        _, used = allowed(uow)
        cfg = context.settings_of(ctx, uow)
    files = _stored_uploads(ctx, uploads, cfg, used)
    with ctx.uow(write=True) as uow:
        me, used = allowed(uow)
        cfg = context.settings_of(ctx, uow)
        upload_rules.check_case_total(used, sum(x.size for x in files),
                                      cfg.case_attachments_max_mb)
        _add_attachments(uow, me, complaint_id, files, now)
        uow.commit()
        return len(files)


def complaint(ctx: Context, actor: User, complaint_id: int) -> ComplaintView:
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        c = get(ctx, uow, complaint_id)
        context.check_visible(ctx, uow, me, c)
        names = {u.id: u.display_name for u in uow.users.list()}
        events = [
            dataclasses.replace(e, user_name=names.get(e.user_id, "?"))
            for e in uow.events.for_complaint(complaint_id)
        ]
        customers = {x.id: x for x in uow.ref.customers(include_inactive=True)}
        defects = {x.id: x for x in uow.ref.defect_types(include_inactive=True)}
        return ComplaintView(c, events, uow.attachments.for_complaint(complaint_id),
                             customers.get(c.customer_id),
                             defects.get(c.defect_type_id) if c.defect_type_id else None,
                             names.get(c.received_by_id, "?"), _may_edit(me, c), _may_cancel(me, c))


def _visible_attachment(ctx: Context, uow: UnitOfWork, actor: User,
                        attachment_id: int) -> Attachment:
    """An attachment of a case the actor may see (record-level visibility), or NotFound."""
    me = context.acting_user(ctx, uow, actor)
    att = uow.attachments.get(attachment_id)
    if att is None:
        raise NotFound()
    context.check_visible(ctx, uow, me, get(ctx, uow, att.complaint_id))
    return att


def attachment(ctx: Context, actor: User, attachment_id: int) -> tuple[Attachment, bytes]:
    """The file as uploaded (a picture: upright) — for a download, never to show inline."""
    with ctx.uow() as uow:
        att = _visible_attachment(ctx, uow, actor, attachment_id)
    return att, ctx.blobs.get(att.sha256)


def attachment_thumbnail(ctx: Context, actor: User, attachment_id: int) -> bytes | None:
    """What a page shows of a picture: its thumbnail (made now for one stored before
    thumbnails), or None — not a picture, not readable, above the pixel limit."""
    with ctx.uow() as uow:
        att = _visible_attachment(ctx, uow, actor, attachment_id)
        cfg = context.settings_of(ctx, uow)
    if not att.content_type.startswith("image/") or not isinstance(ctx.blobs,
                                                                   upload_rules.ImageStore):
        return None
    return ctx.blobs.thumbnail(att.sha256, cfg.image_max_pixels)


def attachment_thumbnails(ctx: Context, actor: User, attachment_ids: Sequence[int]
                          ) -> dict[int, bytes | None]:
    """attachment_thumbnail of several attachments at once (a page of cards): one unit of
    work, each case's visibility checked once. NotFound as there for one that is gone or of
    a case the actor may not see."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        atts = {a.id: a for a in uow.attachments.many(attachment_ids)}
        if any(i not in atts for i in attachment_ids):
            raise NotFound()
        if context.scope(ctx, uow, me) is not None:
            for cid in sorted({a.complaint_id for a in atts.values()}):
                context.check_visible(ctx, uow, me, get(ctx, uow, cid))
        cfg = context.settings_of(ctx, uow)
    if not isinstance(ctx.blobs, upload_rules.ImageStore):
        return dict.fromkeys(attachment_ids)
    return {i: ctx.blobs.thumbnail(atts[i].sha256, cfg.image_max_pixels)
            if atts[i].content_type.startswith("image/") else None for i in attachment_ids}


def _may_edit(me: User, c: Complaint) -> bool:
    return c.state.is_open and (me.has(*EDIT_ROLES) or me.id == c.received_by_id)


def _may_cancel(me: User, c: Complaint) -> bool:
    """Sales before `investigating`, management any time (docs/procedure.md §5)."""
    if not c.state.is_open:
        return False
    if me.has(Role.MANAGEMENT):
        return True
    return me.has(Role.SALES) and c.state in (State.REGISTERED, State.DISPATCHED)


def get(ctx: Context, uow: UnitOfWork, complaint_id: int) -> Complaint:
    c = uow.complaints.get(complaint_id)
    if c is None:
        raise NotFound()
    return c


def _validated(ctx: Context, uow: UnitOfWork, d: ComplaintDraft, now: datetime,
               keep_received: datetime | None = None, state: State = State.REGISTERED,
               edit: bool = False) -> tuple[dict[str, Any], dict[int, str]]:
    """The typed values to store and the custom fields' values (field id -> kept text), or
    InvalidInput naming every field at fault (the one check of
    core/rules/complaint_fields.py, which the import uses too, and of the fields of the
    factory's own: their types, and those required in `state`; an edit checks the ones its
    form shows)."""
    cfg = context.settings_of(ctx, uow)
    values, problems = complaint_fields.check(
        d, now, {c.id for c in uow.ref.customers(include_inactive=True)},
        {x.id for x in uow.ref.defect_types(include_inactive=True)}, keep_received=keep_received,
        thresholds=SeverityThresholds(cfg.severity_a_claim, cfg.severity_b_claim))
    custom, custom_errors = custom_fields.checked(uow, dict(d.custom), d.kind, state,
                                                  only_given=edit)
    errors = [InvalidInput(f"err.{p.key}", field=p.field, **p.params) for p in problems]
    errors += custom_errors
    if errors:
        first, *rest = errors
        raise InvalidInput(first.key, others=rest, **first.params)
    return values, custom


@dataclass(frozen=True)
class _Stored:
    """A checked upload, its bytes already in the blob store."""

    name: str
    content_type: str
    sha256: str
    size: int


def _stored_uploads(ctx: Context, uploads: Sequence[Upload], cfg: settings_mod.Settings,
                    used: int) -> list[_Stored]:
    """Check every upload, then store them: InvalidInput (nothing stored) when one is refused.
    A picture is measured from its header before it is decoded (the pixel limit), then stored
    upright with its thumbnail; one that cannot be read only downloads."""
    checked = [_check_upload(ctx, u, cfg) for u in uploads]
    upload_rules.check_case_total(used, sum(len(d) for _, _, d in checked),
                                  cfg.case_attachments_max_mb)
    store = ctx.blobs if isinstance(ctx.blobs, upload_rules.ImageStore) else None
    pictures: dict[int, bool] = {}
    for i, (name, ctype, data) in enumerate(checked):
        if store is None or not ctype.startswith("image/"):
            continue
        try:
            width, height = store.image_size(data)
        except upload_rules.ImageBomb as e:
            raise InvalidInput("err.image_bomb", name=name, max=cfg.image_max_megapixels) from e
        except upload_rules.UnreadableImage:
            continue  # kept as a file that only downloads: never decoded, never shown
        upload_rules.check_pixels(name, width, height, cfg.image_max_megapixels)
        pictures[i] = True
    out = []
    for i, (name, ctype, data) in enumerate(checked):
        if store is not None and pictures.get(i):
            try:
                sha, size = store.put_image(data)
            except upload_rules.ImageBomb as e:
                raise InvalidInput("err.image_bomb", name=name,
                                   max=cfg.image_max_megapixels) from e
            except upload_rules.UnreadableImage:
                sha, size = ctx.blobs.put(data), len(data)
        else:
            sha, size = ctx.blobs.put(data), len(data)
        out.append(_Stored(name, ctype, sha, size))
    return out


def _check_upload(ctx: Context, u: Upload, cfg: settings_mod.Settings) -> tuple[str, str, bytes]:
    """(safe filename, content type, bytes) or InvalidInput: type by extension AND content."""
    name = common.safe_filename(u.filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in settings_mod.ALLOWED_UPLOADS:
        raise InvalidInput("err.file_type", name=name,
                           allowed=", ".join(sorted(settings_mod.ALLOWED_UPLOADS)))
    if len(u.data) > cfg.attachment_max_bytes:
        raise InvalidInput("err.file_size", name=name, mb=cfg.attachment_max_mb)
    if not u.data:
        raise InvalidInput("err.file_empty", name=name)
    ctype, magics = settings_mod.ALLOWED_UPLOADS[ext]
    if not any(u.data.startswith(m) for m in magics):
        raise InvalidInput("err.file_mislabelled", name=name)
    return name, ctype, u.data


# for the other use cases that take files (a CAPA action's evidence)
StoredUpload = _Stored


def store_uploads(ctx: Context, uploads: Sequence[Upload], cfg: settings_mod.Settings,
                  used: int) -> list[_Stored]:
    """Check and store files as add_attachments does (nothing stored when one is refused)."""
    return _stored_uploads(ctx, uploads, cfg, used)


def add_stored(uow: UnitOfWork, me: User, complaint_id: int, files: list[_Stored],
               now: datetime) -> None:
    """The stored files as the case's attachments, each with its event."""
    _add_attachments(uow, me, complaint_id, files, now)


def _add_attachments(uow: UnitOfWork, me: User, complaint_id: int, files: list[_Stored],
                     now: datetime) -> None:
    for x in files:
        uow.attachments.add(Attachment(None, complaint_id, x.sha256, x.name, x.content_type,
                                       x.size, me.id, now))
        uow.events.add(Event(None, complaint_id, now, me.id, "attachment_added",
                             {"attachment": [None, x.name]}))


def case_file(ctx: Context, actor: User, complaint_id: int) -> CaseFile:
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        return context.load_case(ctx, uow, complaint_id, me)


def actions(ctx: Context, actor: User, complaint_id: int) -> list[ActionOption]:
    """What this user may do on this case now, and why not the rest (the action panel)."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, complaint_id, me)
        wctx = context.workflow_context(ctx, uow)
        out = [ActionOption(a, why is None, why) for a, why in workflow.available(case, me, wctx)]
        if any(o.action in ("approve_step", "reject_step") and o.allowed for o in out):
            may = approval.my_step(ctx, uow, me, case)[0] is not None
            out = [
                o
                if o.action not in ("approve_step", "reject_step") or may
                else ActionOption(o.action, False, "why.not_your_step")
                for o in out
            ]
        pay = _payment_option(case, me)
        return out if pay is None else [*out, pay]


def _payment_option(case: CaseFile, me: User) -> ActionOption | None:
    """Recording a payment, when a compensation agreed waits for it (issue #12): not a
    transition of the workflow, but finance's part of completing the case."""
    c = case.complaint
    if c.state != State.IMPLEMENTING or c.on_hold_since or not any(
            d.type == DispositionType.COMPENSATION and not d.done
            for d in case.current(case.dispositions)):
        return None
    why = closure.execution_problem(case, me, DispositionType.COMPENSATION)
    return ActionOption("record_payment", why is None, why)
