"""The documents a factory prints for one complaint (docs/procedure.md §9–10): the handling form
(客户投诉处理单), the 8D report and the reply letter in the customer's language.

This module decides their CONTENT as a small document model (title, header fields, sections
of label/value rows, tables and paragraphs), already translated and formatted: times in the
configured zone, money with 2 decimals, "—" for an empty value and "无"/"None" for an empty
list. ui/pdf.py and ui/xlsx.py only lay it out as PDF or XLSX. Values are plain text:
whatever a user typed stays text (no markup) in every renderer.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any, Union

from core import event_text, procedure
from core.i18n import reason_text, t
from core.rules import custom_fields as custom_rules
from core.rules.approvals import Titles, TitleDef
from core.model import (
    ApprovalStep, CapaAction, CapaType, CaseFile, Customer, CustomField, DefectType, Department,
    Disposition,
    ChainStep, DispositionType, Event, Lang, Meeting, Payment, Product, Role, StepStatus, User,
    Validity,
)


DASH = "—"
FORM, REPORT_8D, LETTER = "form", "8d", "letter"
KINDS = (FORM, REPORT_8D, LETTER)
SIGN_OFFS = procedure.SIGN_OFFS  # the handling form's 签核 table
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


# ---------------------------------------------------------------- the document model


@dataclass(frozen=True)
class Fields:
    """Label/value rows (a form's boxes)."""

    rows: tuple[tuple[str, str], ...]
    caption: str = ""


@dataclass(frozen=True)
class Table:
    """A table with a heading row; `widths` are relative column widths."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...]
    caption: str = ""


@dataclass(frozen=True)
class Paragraph:
    """A block of running text, optionally under a small label."""

    text: str
    label: str = ""


Block = Union[Fields, Table, Paragraph]


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    kind: str  # form | 8d | letter
    lang: str  # the language of every label in it
    title: str
    number: str  # the case number, in the header of every page
    header: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    page_label: str  # with {n} and {m}: "第 {n} 页 / 共 {m} 页"
    generated: str  # "生成时间：2026-03-15 12:00"
    filename: str  # without extension: KS2603-001-8D
    company: str = ""


@dataclass(frozen=True)
class CaseDocuments:
    """The three documents of one case (content only; ui/pdf.py and ui/xlsx.py render them).

    `letter` is the letter as last edited in its language when it was (`letter_edited`), else
    as kesu writes it; `letter_generated` is kesu's text of its body either way."""

    form: Document
    report: Document
    letter: Document
    letter_lang: str
    company: str
    letter_edited: bool = False
    letter_generated: str = ""
    version: int = 0  # the case's version the documents were read at (for saving the letter)
    customer_summary: str = ""


@dataclass(frozen=True)
class CaseRecords:
    """Everything the documents are filled from, read in one unit of work."""

    file: CaseFile
    events: tuple[Event, ...]
    meetings: tuple[Meeting, ...]
    customer: Customer | None
    defect_type: DefectType | None
    users: dict[int, User]
    departments: dict[int, Department]
    tz: tzinfo
    now: datetime
    company: str = ""
    payments: tuple[Payment, ...] = ()  # compensation instalments (issue #12)
    # the fields of the factory's own the case shows, with their kept values (issue #12)
    custom: tuple[tuple[CustomField, str], ...] = ()
    chain_steps: tuple[ChainStep, ...] = ()  # rework / replacement / return steps (issue #12)
    titles: tuple[TitleDef, ...] = ()  # the titles' names, for the approval steps
    product: Product | None = None  # the case's product, for its English name (issue #13)
    company_en: str = ""  # the company's English name, signing English letters






def build_all(rec: CaseRecords, lang: str, letter_lang: str | None = None,
              company: str | None = None) -> CaseDocuments:
    lang = _lang(lang)
    customer_lang = rec.customer.language.value if rec.customer else Lang.ZH.value
    llang = _lang(letter_lang or customer_lang)
    default = rec.company_en if llang == Lang.EN.value and rec.company_en else rec.company
    name = (company if company is not None else default).strip()[:200]
    letter = reply_letter(rec, llang, name)
    generated = letter_body(letter)
    c = rec.file.complaint
    edited = bool(c.letter_text.strip()) and c.letter_lang == llang
    if edited:
        letter = with_body(letter, c.letter_text)
    return CaseDocuments(handling_form(rec, lang), report_8d(rec, lang), letter, llang, name,
                         edited, generated, c.version, c.customer_summary)


def _lang(value: str) -> str:
    return Lang.EN.value if value == Lang.EN.value else Lang.ZH.value


# ---------------------------------------------------------------- formatting


class _Fmt:
    """Translated, formatted values for one document language."""

    def __init__(self, rec: CaseRecords, lang: str) -> None:
        self.rec, self.lang = rec, lang

    def tr(self, key: str, **params: Any) -> str:
        return t(key, self.lang, **params)

    def enum(self, prefix: str, value: Any) -> str:
        if value is None:
            return DASH
        return self.tr(f"{prefix}.{getattr(value, 'value', value)}")

    def title(self, code: str) -> str:
        """A title's name in the document's language (its code if it was removed)."""
        return Titles(self.rec.titles).name(code, self.lang)

    def when(self, at: datetime | None) -> str:
        return at.astimezone(self.rec.tz).strftime("%Y-%m-%d %H:%M") if at else DASH

    def day(self, d: date | None) -> str:
        return d.isoformat() if d else DASH

    def long_day(self, d: date) -> str:
        """A date as a letter writes it."""
        if self.lang == Lang.EN.value:
            return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"
        return f"{d.year}年{d.month}月{d.day}日"

    @staticmethod
    def money(amount: Decimal | None) -> str:
        return f"{amount:,.2f}" if amount is not None else DASH

    @staticmethod
    def value(v: Any) -> str:
        if v is None or v == "":
            return DASH
        return str(v)

    def name(self, user_id: int | None) -> str:
        user = self.rec.users.get(user_id or 0)
        return user.display_name if user else DASH

    def dept(self, dept_id: int | None) -> str:
        d = self.rec.departments.get(dept_id or 0)
        if d is None:
            return DASH
        return d.name_en if self.lang == Lang.EN.value else d.name_zh

    def yes_no(self, v: bool | None) -> str:
        return DASH if v is None else self.tr("common.yes" if v else "common.no")

    def none(self) -> Paragraph:
        return Paragraph(self.tr("doc.none"))

    def signed(self, e: Event | None) -> str:
        """"name, time" of the event that did something, or a dash."""
        if e is None:
            return DASH
        return self.tr("doc.done_by", who=self.name(e.user_id), at=self.when(e.at))

    def table(self, columns: Sequence[str], widths: Sequence[int],
              rows: Iterable[Sequence[str]], caption: str = "") -> Block:
        """A table, or "无"/"None" when it has no rows (an empty section never vanishes).
        Columns named "sign" stay blank: a box to sign on paper."""
        body = tuple(tuple(v if c == "sign" else self.value(v)
                           for c, v in zip(columns, r, strict=True)) for r in rows)
        label = self.tr(caption) if caption else ""
        if not body:
            return Paragraph(self.tr("doc.none"), label)
        return Table(tuple(self.tr(f"doc.col.{c}") for c in columns), body, tuple(widths),
                     label)

    def fields(self, *rows: tuple[str, Any], caption: str = "") -> Fields:
        return Fields(tuple((self.tr(k), self.value(v)) for k, v in rows),
                      self.tr(caption) if caption else "")

    def text(self, label_key: str, text: str) -> Paragraph:
        return Paragraph(text.strip() or self.tr("doc.none"), self.tr(label_key))


def _last(events: Sequence[Event], *actions: str) -> Event | None:
    return next((e for e in reversed(events) if e.action in actions), None)


def _last_to(events: Sequence[Event], action: str, state: str) -> Event | None:
    """The last `action` event that moved the case into `state`."""
    return next((e for e in reversed(events) if e.action == action
                 and (e.changes.get("state") or [None, None])[1] == state), None)


def _rounds(items: Sequence[Any]) -> list[Any]:
    """Dispositions / costs / steps of every real approval round (a replaced draft is kept
    under a negative round and is not part of any document)."""
    return sorted((x for x in items if x.round >= 0), key=lambda x: (x.round, x.id or 0))


def _latest(items: Sequence[Any]) -> list[Any]:
    real = _rounds(items)
    last = max((x.round for x in real), default=None)
    return [x for x in real if x.round == last]


def _header(f: _Fmt, rec: CaseRecords) -> tuple[tuple[str, str], ...]:
    c = rec.file.complaint
    return ((f.tr("field.customer"), rec.customer.name if rec.customer else DASH),
            (f.tr("field.received_at"), f.when(c.received_at)),
            (f.tr("field.state"), f.enum("state", c.state)),
            (f.tr("field.severity"), f.enum("severity", c.effective_severity)))


def _document(f: _Fmt, rec: CaseRecords, kind: str, title: str, suffix: str,
              sections: Sequence[Section], header: tuple[tuple[str, str], ...] | None = None,
              company: str = "") -> Document:
    c = rec.file.complaint
    return Document(kind, f.lang, title, c.number, header if header is not None
                    else _header(f, rec), tuple(sections), f.tr("doc.page", n="{n}", m="{m}"),
                    f.tr("doc.generated", at=f.when(rec.now)), f"{c.number}-{suffix}", company)


# ---------------------------------------------------------------- shared sections


def _defect(f: _Fmt, rec: CaseRecords) -> str:
    d = rec.defect_type
    if d is None:
        return DASH
    return d.name_en if f.lang == Lang.EN.value else d.name_zh


def _containment(f: _Fmt, rec: CaseRecords) -> Block:
    return f.table(("type", "quantity", "note", "by", "at"), (3, 2, 6, 3, 3), (
        (f.enum("containment_type", x.type), f.value(x.quantity), x.note, f.name(x.by_id),
         f.when(x.at)) for x in rec.file.containment))


def _whys(f: _Fmt, rec: CaseRecords) -> Block:
    whys = [w for w in rec.file.complaint.root_cause_whys.splitlines() if w.strip()]
    return f.table(("no", "why"), (2, 15),
                   ((f.tr("doc.why_n", n=i), w) for i, w in enumerate(whys, 1)))


def _capa_rows(f: _Fmt, actions: Iterable[CapaAction]) -> list[tuple[str, ...]]:
    return [(f.enum("capa_type", a.type), a.description, f.name(a.owner_id), f.day(a.due_date),
             f.tr("capa." + a.status), a.evidence,
             f.when(a.done_at)) for a in actions]


def _capa(f: _Fmt, actions: Iterable[CapaAction]) -> Block:
    return f.table(("type", "action", "owner", "due", "status", "evidence", "done_at"),
                   (2, 6, 3, 3, 2, 5, 3), _capa_rows(f, actions))


def _round_col(items: Sequence[Any]) -> bool:
    return len({x.round for x in items}) > 1


def _dispositions(f: _Fmt, rec: CaseRecords) -> list[Block]:
    items: list[Disposition] = _rounds(rec.file.dispositions)
    rounds = _round_col(items)

    def done(d: Disposition) -> str:
        if not d.done:
            return DASH
        parts = [str(d.done_qty) if d.done_qty is not None else "", d.done_note,
                 f.name(d.done_by_id) if d.done_by_id else "", f.when(d.done_at)]
        return " · ".join(p for p in parts if p) or f.tr("common.yes")

    cols = (("round",) if rounds else ()) + ("type", "quantity", "amount", "note", "executed")
    widths = ((2,) if rounds else ()) + (3, 2, 3, 5, 6)
    rows = [((str(d.round + 1),) if rounds else ()) + (
        f.enum("disposition_type", d.type), f.value(d.quantity), f.money(d.amount), d.note,
        done(d)) for d in items]
    blocks: list[Block] = [f.table(cols, widths, rows)]
    if items:
        total = sum((d.amount for d in _latest(items)), Decimal("0"))
        blocks.append(Fields(((f.tr("doc.total"), f.money(total)),)))
    if rec.payments:  # the compensation's instalments, as finance recorded them
        blocks.append(f.table(
            ("paid_on", "amount", "method", "voucher", "by"), (3, 3, 4, 4, 4),
            [(f.day(p.paid_on), f.money(p.amount), f.enum("payment_method", p.method),
              p.voucher, f.name(p.by_id)) for p in rec.payments], caption="doc.payments"))
    if rec.chain_steps:  # every step of the execution chains, in the order recorded
        kinds = {d.id: d.type for d in rec.file.dispositions}
        blocks.append(f.table(
            ("type", "step", "details", "by", "at"), (3, 3, 8, 3, 3),
            [(f.enum("disposition_type", kinds.get(s.disposition_id)),
              f.tr("chain_step." + s.step), _chain_details(f, s), f.name(s.by_id), f.when(s.at))
             for s in rec.chain_steps], caption="doc.chain_steps"))
    return blocks


def _chain_details(f: _Fmt, s: ChainStep) -> str:
    """A recorded step's values in words: "收货数量 100；收货日期 2026-12-07"."""
    parts = []
    for name, v in s.data.items():
        if v is None or v == "":
            continue
        shown = f.yes_no(v) if isinstance(v, bool) else str(v)
        parts.append(f"{f.tr('field.' + name)} {shown}")
    return ("；" if f.lang == Lang.ZH.value else "; ").join(parts)


def _costs(f: _Fmt, rec: CaseRecords) -> list[Block]:
    lines = _rounds(rec.file.costs)
    rounds = _round_col(lines)
    cols = (("round",) if rounds else ()) + (
        "category", "amount", "charged_to", "supplier", "charge_back")
    widths = ((2,) if rounds else ()) + (4, 3, 4, 4, 3)
    rows = [((str(x.round + 1),) if rounds else ()) + (
        f.enum("cost_category", x.category), f.money(x.amount), f.dept(x.department_id),
        x.supplier, f.money(x.charge_back)) for x in lines]
    blocks: list[Block] = [f.table(cols, widths, rows)]
    if lines:
        latest = _latest(lines)
        blocks.append(Fields(((f.tr("doc.total"), f.money(sum(
            (x.amount for x in latest), Decimal("0")))),)))
    return blocks


def _signer(f: _Fmt, s: ApprovalStep) -> str:
    if s.decided_by_id is None:
        return DASH
    if s.on_behalf_of_id:
        return f.tr("doc.on_behalf", name=f.name(s.decided_by_id), boss=f.name(s.on_behalf_of_id))
    return f.name(s.decided_by_id)


def _approvals(f: _Fmt, rec: CaseRecords, caption: str = "") -> Block:
    steps = [s for s in _rounds(rec.file.steps) if s.status != StepStatus.VOID]
    rounds = _round_col(steps)
    cols = (("round",) if rounds else ()) + ("step", "decision", "signer", "at", "comment")
    widths = ((2,) if rounds else ()) + (4, 3, 4, 3, 6)
    return f.table(cols, widths, (((str(s.round + 1),) if rounds else ()) + (
        f.title(s.title), f.enum("step_status", s.status), _signer(f, s),
        f.when(s.decided_at), s.comment) for s in steps), caption)


def _meetings(f: _Fmt, rec: CaseRecords, caption: str = "") -> Block:
    """Each meeting: its attendees with an account, then those typed (name and company)."""
    sep = "、" if f.lang == "zh" else ", "

    def people(m: Meeting) -> str:
        return sep.join([f.name(i) for i in m.attendee_ids] + [
            f.tr("meeting.guest_line", name=g.name, org=g.org) if g.org else g.name
            for g in m.guests])

    return f.table(("date", "attendees", "decisions"), (3, 5, 10), caption=caption, rows=(
        (f.day(m.date), people(m), m.decisions)
        for m in sorted(rec.meetings, key=lambda m: (m.date, m.id or 0))))


def _event_rows(f: _Fmt, events: Iterable[Event]) -> list[tuple[str, ...]]:
    return [(f.when(e.at), f.tr("action." + e.action), f.name(e.user_id), e.comment)
            for e in events]


# ---------------------------------------------------------------- the handling form


def handling_form(rec: CaseRecords, lang: str) -> Document:
    """客户投诉处理单: every fact of the case, its records and every sign-off."""
    f = _Fmt(rec, lang)
    c, ev = rec.file.complaint, rec.events
    cust = rec.customer
    ack = _last(ev, "acknowledge")
    classified = _last(ev, "classify_valid", "classify_invalid")
    verified = _last(ev, "verify")
    sections = [
        Section(f.tr("doc.s.receipt"), (f.fields(
            ("field.received_at", f.when(c.received_at)),
            ("field.received_by", f.name(c.received_by_id)),
            ("field.channel", f.enum("channel", c.channel)),
            ("field.kind", f.enum("kind", c.kind)),
            ("field.category", f.enum("category", c.category)),
            ("field.state", f.enum("state", c.state)),
            ("doc.f.ack_customer", " · ".join(x for x in (
                f.when(c.customer_ack_at) if c.customer_ack_at else "",
                c.customer_ack_method) if x)),
            ("field.cancel_reason",
             reason_text(c.cancel_reason, f.lang, c.merged_into_id is not None)),
        ),)),
        Section(f.tr("doc.s.customer"), (f.fields(
            ("field.customer", cust.name if cust else None),
            ("doc.f.market", f.enum("market", cust.market) if cust else None),
            ("field.contact", cust.contact if cust else None),
            ("doc.f.phone", cust.phone if cust else None),
            ("field.email", cust.email if cust else None),
            ("field.address", cust.address if cust else None),
            ("field.customer_ref", c.customer_ref),
        ),)),
        Section(f.tr("doc.s.product"), (f.fields(
            ("field.product_code", c.product_code), ("field.product_name", c.product_name),
            ("field.order_no", c.order_no), ("field.lot", c.lot),
            ("field.delivered_qty", c.delivered_qty),
            ("field.delivery_date", f.day(c.delivery_date)),
            ("field.defective_qty", c.defective_qty), ("field.defect_type", _defect(f, rec)),
            ("field.where_found", f.enum("where_found", c.where_found)),
            ("field.sample_received", f.yes_no(c.sample_received)),
            ("field.sample_date", f.day(c.sample_date)),
        ),)),
        Section(f.tr("doc.s.problem"), (
            f.text("field.description", c.description),
            f.fields(("field.request", f.enum("request", c.request)),
                     ("field.claimed_amount", f.money(c.claimed_amount)),
                     ("field.severity_proposed", f.enum("severity", c.severity_proposed)),
                     ("field.safety_risk", f.yes_no(c.safety_risk))),
            *((f.text("field.severity_note", c.severity_note),) if c.severity_note else ()))),
        *((Section(f.tr("doc.s.custom"), (_custom(f, rec),)),) if rec.custom else ()),
        Section(f.tr("doc.s.qa"), (f.fields(
            ("doc.f.acknowledged", f.signed(ack)),
            ("doc.f.classified", f.signed(classified)),
            ("field.validity", f.enum("validity", c.validity)),
            ("field.severity", f.enum("severity", c.severity)),
            ("field.severity_reason", event_text.severity_reason(c.severity_reason, f.lang)),
            ("field.responsible_department", f.dept(c.responsible_department_id)),
            ("field.no_investigation_reason", reason_text(c.no_investigation_reason, f.lang,
                                                          c.merged_into_id is not None)),
            ("doc.f.merged_into", c.cancel_reason.split(":", 1)[1]
             if c.merged_into_id and ":" in c.cancel_reason else None),
        ),)),
        Section(f.tr("doc.s.containment"), (_containment(f, rec),)),
        Section(f.tr("doc.s.analysis"), (
            _production(f, rec),
            _whys(f, rec),
            f.text("field.root_cause", c.root_cause),
            f.fields(("doc.f.analysed", f.signed(_last(ev, "submit_analysis"))),
                     ("field.sent_back_count", c.sent_back_count)))),
        Section(f.tr("doc.s.capa"), (
            _capa(f, rec.file.capa),
            f.fields(("doc.f.capa_approved", f.signed(_last(ev, "approve_capa")))))),
        Section(f.tr("doc.s.dispositions"), (
            *_dispositions(f, rec),
            f.text("field.customer_position", c.customer_position),
            f.fields(("doc.f.proposed", f.signed(_last(ev, "propose")))))),
        Section(f.tr("doc.s.costs"), tuple(_costs(f, rec))),
        Section(f.tr("doc.s.approvals"), (_approvals(f, rec),)),
        Section(f.tr("doc.s.reply"), (
            f.fields(("field.reply_date", f.day(c.reply_date)),
                     ("field.reply_method", f.enum("reply_method", c.reply_method)),
                     ("doc.f.replied", f.signed(_last(ev, "reply")))),
            f.text("field.reply_text", c.reply_text))),
        Section(f.tr("doc.s.verification"), _verification(f, rec, verified)),
        Section(f.tr("doc.s.closure"), (
            f.fields(("field.followup_date", f.day(c.followup_date)),
                     ("field.followup_contact", c.followup_contact),
                     ("field.satisfaction", f.enum("satisfaction", c.satisfaction)),
                     ("field.satisfaction_score", c.satisfaction_score),
                     ("field.closed_at", f.when(c.closed_at)),
                     ("field.standard_doc", c.standard_doc)),
            f.text("field.followup_notes", c.followup_notes),
            f.text("field.lessons_learned", c.lessons_learned))),
        Section(f.tr("doc.s.meetings"), (_meetings(f, rec),)),
        Section(f.tr("doc.s.signoffs"), (f.table(
            ("at", "what", "signer", "comment"), (3, 4, 3, 8),
            _event_rows(f, (e for e in ev if e.action in SIGN_OFFS))),)),
        Section(f.tr("doc.s.history"), (f.table(
            ("at", "what", "by", "comment"), (3, 4, 3, 8), _event_rows(f, ev)),)),
    ]
    return _document(f, rec, FORM, f.tr("doc.form"), "form", sections)


def _custom(f: _Fmt, rec: CaseRecords) -> Fields:
    """The fields of the factory's own, named and valued in the document's language."""
    return Fields(tuple((custom_rules.label(x, f.lang),
                         f.value(custom_rules.shown(x, value, f.lang))) for x, value in rec.custom))


def _production(f: _Fmt, rec: CaseRecords) -> Fields:
    c = rec.file.complaint
    return f.fields(("field.responsible_department", f.dept(c.responsible_department_id)),
                    ("field.prod_line", c.prod_line), ("field.prod_shift", c.prod_shift),
                    ("field.prod_machine", c.prod_machine),
                    ("field.prod_operator", c.prod_operator),
                    ("field.prod_date", f.day(c.prod_date)), ("field.prod_lot", c.prod_lot),
                    ("field.root_cause_6m", f.enum("six_m", c.root_cause_6m)))


def _verification(f: _Fmt, rec: CaseRecords, verified: Event | None, caption: str = ""
                  ) -> tuple[Block, ...]:
    c = rec.file.complaint
    verdict = None if c.verified_effective is None else f.tr(
        "verdict.effective" if c.verified_effective else "verdict.not_effective")
    return (f.fields(("field.verified_effective", verdict),
                     ("doc.f.verified", f.signed(verified) if c.verified_effective is not None
                      else DASH),
                     ("field.verify_after", f.day(c.verify_after)), caption=caption),
            f.text("doc.f.verify_note", verified.comment if verified else ""))


# ---------------------------------------------------------------- the 8D report


def _team(f: _Fmt, rec: CaseRecords) -> Block:
    """D1: everyone who worked on the case, with what they did (from the events), the CAPA
    owners and the meeting attendees."""
    did: dict[int, list[str]] = {}

    def add(uid: int, what: str) -> None:
        items = did.setdefault(uid, [])
        if what not in items:
            items.append(what)

    for e in rec.events:
        if e.action in SIGN_OFFS or e.action in ("containment_added", "analysis_saved",
                                                 "capa_added", "capa_done", "dispositions_set",
                                                 "execution_recorded", "payment_recorded",
                                                 "chain_step_recorded",
                                                 "meeting_recorded"):
            add(e.user_id, f.tr("action." + e.action))
    for a in rec.file.capa:
        add(a.owner_id, f.tr("doc.capa_owner"))
    for m in rec.meetings:
        for uid in m.attendee_ids:
            add(uid, f.tr("doc.attendee"))
    sep = "、" if f.lang == Lang.ZH.value else ", "

    def roles(uid: int) -> str:
        user = rec.users.get(uid)
        return sep.join(f.enum("role", r) for r in Role if user and r in user.roles)

    # people without an account who attended (工程部, 物资中心), once each
    guests = dict.fromkeys((g.name, g.org) for m in rec.meetings for g in m.guests)
    return f.table(("name", "department", "roles", "did"), (3, 3, 3, 9), [
        (f.name(uid), f.dept(rec.users[uid].department_id) if uid in rec.users else DASH,
         roles(uid), sep.join(items)) for uid, items in did.items()] + [
        (name, org or DASH, DASH, f.tr("doc.attendee")) for name, org in guests])


def report_8d(rec: CaseRecords, lang: str) -> Document:
    """8D report: D1 team … D8 closure, from the case, its records and its sign-offs."""
    f = _Fmt(rec, lang)
    c, ev = rec.file.complaint, rec.events
    cust = rec.customer
    corrective = [a for a in rec.file.capa if a.type == CapaType.CORRECTIVE]
    preventive = [a for a in rec.file.capa if a.type == CapaType.PREVENTIVE]
    verified = _last(ev, "verify")
    executed = [d for d in _rounds(rec.file.dispositions) if d.done]
    steps = [s for s in _rounds(rec.file.steps) if s.status == StepStatus.APPROVED]
    invalid = c.validity == Validity.INVALID
    sections = [
        Section(f.tr("doc.d1"), (_team(f, rec), _meetings(f, rec, "doc.s.meetings"))),
        Section(f.tr("doc.d2"), (
            f.fields(("field.customer", cust.name if cust else None),
                     ("field.customer_ref", c.customer_ref),
                     ("field.product_code", c.product_code),
                     ("field.product_name", c.product_name), ("field.order_no", c.order_no),
                     ("field.lot", c.lot), ("field.delivered_qty", c.delivered_qty),
                     ("field.defective_qty", c.defective_qty),
                     ("field.defect_type", _defect(f, rec)),
                     ("field.where_found", f.enum("where_found", c.where_found)),
                     ("field.received_at", f.when(c.received_at)),
                     ("field.channel", f.enum("channel", c.channel)),
                     ("field.validity", f.enum("validity", c.validity)),
                     ("field.severity", f.enum("severity", c.effective_severity)),
                     ("field.request", f.enum("request", c.request)),
                     ("field.claimed_amount", f.money(c.claimed_amount))),
            f.text("field.description", c.description))),
        Section(f.tr("doc.d3"), (_containment(f, rec),)),
        Section(f.tr("doc.d4"), (
            _production(f, rec), _whys(f, rec),
            f.text("field.root_cause", c.root_cause) if not invalid
            else f.text("field.no_investigation_reason", c.no_investigation_reason),
            f.fields(("doc.f.analysed", f.signed(_last(ev, "submit_analysis"))),
                     ("field.sent_back_count", c.sent_back_count)))),
        Section(f.tr("doc.d5"), (
            f.table(("action", "owner", "due"), (10, 4, 3), (
                (a.description, f.name(a.owner_id), f.day(a.due_date)) for a in corrective)),
            f.fields(("doc.f.capa_approved", f.signed(_last(ev, "approve_capa")))))),
        Section(f.tr("doc.d6"), (
            f.table(("action", "owner", "status", "evidence", "done_at"), (6, 3, 2, 5, 3), (
                (a.description, f.name(a.owner_id),
                 f.tr("capa." + a.status), a.evidence,
                 f.when(a.done_at)) for a in rec.file.capa), "doc.d6.actions"),
            f.table(("type", "quantity", "amount", "note", "by", "done_at"), (3, 2, 3, 5, 3, 3), (
                    (f.enum("disposition_type", d.type), f.value(d.done_qty), f.money(d.amount),
                     d.done_note, f.name(d.done_by_id), f.when(d.done_at)) for d in executed),
                    "doc.d6.execution"),
            *_verification(f, rec, verified, "doc.d6.verification"))),
        Section(f.tr("doc.d7"), (
            f.table(("action", "owner", "due", "status"), (9, 4, 3, 2), (
                (a.description, f.name(a.owner_id), f.day(a.due_date),
                 f.tr("capa." + a.status)) for a in preventive)),
            f.text("field.lessons_learned", c.lessons_learned),
            f.fields(("field.standard_doc", c.standard_doc)))),
        Section(f.tr("doc.d8"), (
            f.fields(("field.state", f.enum("state", c.state)),
                     ("field.closed_at", f.when(c.closed_at)),
                     ("field.followup_date", f.day(c.followup_date)),
                     ("field.followup_contact", c.followup_contact),
                     ("field.satisfaction", f.enum("satisfaction", c.satisfaction)),
                     ("field.satisfaction_score", c.satisfaction_score)),
            _approvals(f, rec, "doc.s.approvals"),
            f.table(("what", "signer", "at", "sign"), (5, 4, 4, 4), _sign_rows(f, ev, steps),
                    "doc.s.signoffs"),
            Paragraph(f.tr("doc.recognition")))),
    ]
    header = ((f.tr("field.customer"), cust.name if cust else DASH),
              (f.tr("field.product_code"), f.value(c.product_code)),
              (f.tr("field.responsible_department"), f.dept(c.responsible_department_id)),
              (f.tr("field.severity"), f.enum("severity", c.effective_severity)))
    return _document(f, rec, REPORT_8D, f.tr("doc.8d"), "8D", sections, header)


def _sign_rows(f: _Fmt, ev: Sequence[Event], steps: Sequence[ApprovalStep]
               ) -> list[tuple[str, ...]]:
    """D8 sign-off block: who prepared, reviewed, approved, verified and closed, and when;
    the signature box is left for the paper copy."""
    def row(key: str, e: Event | None) -> tuple[str, ...]:
        return (f.tr(key), f.name(e.user_id) if e else DASH, f.when(e.at) if e else DASH, "")

    last_step = steps[-1] if steps else None
    return [
        row("doc.sign.prepared", _last(ev, "submit_analysis")),
        row("doc.sign.reviewed", _last(ev, "approve_capa")),
        (f.tr("doc.sign.approved"), _signer(f, last_step) if last_step else DASH,
         f.when(last_step.decided_at) if last_step else DASH, ""),
        row("doc.sign.verified", _last_to(ev, "verify", "follow_up")),
        row("doc.sign.closed", _last_to(ev, "follow_up", "closed")),
    ]


# ---------------------------------------------------------------- the reply letter


def reply_letter(rec: CaseRecords, lang: str, company: str = "") -> Document:
    """回复函 in the customer's language: the complaint, our findings, the corrective actions,
    the dispositions agreed, and a polite closing."""
    f = _Fmt(rec, lang)
    c, cust = rec.file.complaint, rec.customer
    en = lang == Lang.EN.value
    today = rec.now.astimezone(rec.tz).date()
    named = _product_name(rec, en)
    code = (f"({c.product_code})" if named else c.product_code) if c.product_code else ""
    product = " ".join(x for x in (named, code) if x) or f.tr("doc.l.product_fallback")
    refs = [f.tr("doc.l.order", order=c.order_no) if c.order_no else "",
            f.tr("doc.l.lot", lot=c.lot) if c.lot else ""]
    extra = ("，" if lang == Lang.ZH.value else ", ").join(r for r in refs if r)
    if extra:
        product = f"{product}（{extra}）" if lang == Lang.ZH.value else f"{product}, {extra}"
    received = c.received_at.astimezone(rec.tz).date()
    dear = (f.tr("doc.l.dear", name=cust.contact) if cust and cust.contact
            else f.tr("doc.l.dear_anon"))
    # what QA wrote for the customer; the internal root cause never goes out unreviewed
    if c.customer_summary.strip():
        findings = c.customer_summary.strip()
    elif c.validity == Validity.INVALID and en and _cjk(c.no_investigation_reason):
        findings = f.tr("doc.l.invalid_short")  # QA's reason is in Chinese: not quoted
    elif c.validity == Validity.INVALID:
        findings = f.tr("doc.l.invalid", reason=c.no_investigation_reason)
    else:
        findings = f.tr("doc.l.pending")
    reported = c.description
    if en and _cjk(reported):  # typed in Chinese: the defect and quantity in English instead
        defect = _defect(f, rec) if rec.defect_type else ""
        if defect and c.defective_qty:
            reported = f.tr("doc.l.reported_defect", defect=defect, qty=c.defective_qty)
        else:
            reported = f"{defect}." if defect else f.tr("doc.l.reported_as_sent")
    actions = [f.tr("doc.l.action_item", n=i, text=a.description, due=f.long_day(a.due_date),
                    done=f.tr("doc.l.action_done") if a.status == "done" else "")
               for i, a in enumerate((x for x in rec.file.capa if x.status != "withdrawn"), 1)]
    sep = "，" if lang == Lang.ZH.value else ", "

    def disposition(i: int, d: Disposition) -> str:
        parts = [f.tr("doc.l.disposition_item", n=i, type=f.enum("disposition_type", d.type))]
        if d.quantity is not None:
            parts.append(f.tr("doc.l.qty", qty=d.quantity))
        if d.type != DispositionType.EXPLANATION or d.amount:
            parts.append(f.tr("doc.l.amount", amount=f.money(d.amount)))
        line = sep.join(parts)
        return f"{line}{sep}{d.note}" if d.note else line

    agreed = [disposition(i, d) for i, d in enumerate(_latest(rec.file.dispositions), 1)]
    signer = _last(rec.events, "reply", "propose")
    signature = "\n".join(x for x in (
        company, _signer_name(rec, signer.user_id if signer else c.received_by_id, en),
        f.long_day(today)) if x)
    sections = (
        Section("", (Paragraph(dear), Paragraph(f.tr("doc.l.intro", date=f.long_day(received),
                                                     product=product)),
                     Paragraph(reported, f.tr("doc.l.reported")))),
        Section(f.tr("doc.l.findings"), (Paragraph(findings),)),
        Section(f.tr("doc.l.actions"), (Paragraph("\n".join(actions) or f.tr("doc.l.none_yet")),)),
        Section(f.tr("doc.l.dispositions"), (Paragraph("\n".join(agreed)
                                                       or f.tr("doc.l.none_yet")),)),
        Section("", (Paragraph(f.tr("doc.l.closing")), Paragraph(f.tr("doc.l.regards")),
                     Paragraph(signature))),
    )
    header = ((f.tr("doc.l.to"), cust.name if cust else DASH),
              (f.tr("doc.l.attn"), f.value(cust.contact if cust else None)),
              (f.tr("doc.l.address"), f.value(cust.address if cust else None)),
              (f.tr("doc.l.your_ref"), f.value(c.customer_ref)),
              (f.tr("doc.l.our_ref"), c.number),
              (f.tr("doc.l.date"), f.long_day(today)))
    return _document(f, rec, LETTER, f.tr("doc.l.subject", number=c.number), f"letter-{lang}",
                     sections, header, company)


_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f]")


def _cjk(text: str) -> bool:
    """Whether the text has Chinese characters or full-width punctuation."""
    return bool(_CJK.search(text))


def _product_name(rec: CaseRecords, en: bool) -> str:
    """The product as the letter names it: in English its English name (Admin → Products),
    else the name on the case when it is not Chinese, else none (the code stands alone)."""
    name = rec.file.complaint.product_name
    if not en:
        return name
    if rec.product is not None and rec.product.name_en.strip():
        return rec.product.name_en.strip()
    return "" if _cjk(name) else name


def _signer_name(rec: CaseRecords, user_id: int | None, en: bool) -> str:
    """Who signs: in English their English name (Admin → Users), else their name when it is
    not Chinese, else their user name (pinyin, as factories give them)."""
    user = rec.users.get(user_id or 0)
    if user is None:
        return DASH
    if not en:
        return user.display_name
    if user.display_name_en.strip():
        return user.display_name_en.strip()
    return user.username if _cjk(user.display_name) else user.display_name


def letter_body(doc: Document) -> str:
    """The letter's text below its header and subject: what a user edits before the PDF."""
    out: list[str] = []  # one paragraph each, a section's title above its first
    for s in doc.sections:
        title = [s.title] if s.title else []
        for b in s.blocks:
            if isinstance(b, Paragraph):
                out.append("\n".join(title + ([b.label] if b.label else []) + [b.text]))
                title = []
    return "\n\n".join(x.strip("\n") for x in out if x.strip()) + "\n"


def with_body(doc: Document, text: str) -> Document:
    """The letter with its body replaced by `text` as edited (a blank line between
    paragraphs); the header, subject and file name stay."""
    paragraphs = tuple(Paragraph(p.strip("\n")) for p in re.split(r"\n\s*\n", text.strip())
                       if p.strip())
    return replace(doc, sections=(Section("", paragraphs),))


def plain_text(doc: Document) -> str:
    """The document as plain text (the reply letter shown for copying)."""
    out: list[str] = []
    if doc.company:
        out += [doc.company, ""]
    out += [f"{k}: {v}" if doc.lang == Lang.EN.value else f"{k}：{v}" for k, v in doc.header]
    out += ["", doc.title, ""]
    for s in doc.sections:
        if s.title:
            out.append(s.title)
        for b in s.blocks:
            if isinstance(b, Paragraph):
                if b.label:
                    out.append(b.label)
                out.append(b.text)
            elif isinstance(b, Fields):
                out += [f"{k}: {v}" for k, v in b.rows]
            else:
                out.append(" | ".join(b.columns))
                out += [" | ".join(r) for r in b.rows]
        out.append("")
    return "\n".join(out).strip() + "\n"
