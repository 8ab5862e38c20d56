"""One approval card, narrow enough for a 390 px phone screen without sideways scrolling."""
from __future__ import annotations

from decimal import Decimal

import streamlit as st

from core.usecases.approve_queue import ApprovalCard
from core.model import User
from ui.case import picture
from core.rules.approvals import Titles
from ui.context import attempt, flash, kesu, lang, local, md, moved_sentence, tr
from core import usecases as uc


PHOTOS = 3  # pictures on a card, as thumbnails


def thumbnails(user: User, cards: list[ApprovalCard]) -> dict[int, bytes | None]:
    """The thumbnails of these cards' pictures, read at once (not one read per picture)."""
    ids = [p.id for x in cards for p in x.photos[:PHOTOS] if p.id is not None]
    return uc.complaints.attachment_thumbnails(kesu(), user, ids) if ids else {}


def card(user: User, x: ApprovalCard, book: Titles | None = None,
         thumbs: dict[int, bytes | None] | None = None) -> None:
    c = x.complaint
    book = book or uc.authority.titles(kesu())
    sev = c.effective_severity.value if c.effective_severity else "—"
    with st.container(border=True):
        st.subheader(f"{c.number} · {sev}")
        st.markdown(f"**{md(x.customer)}**")
        st.markdown(f"### {tr('appr.total', amount=f'{x.total:,.2f}')}")
        facts = []
        if c.claimed_amount is not None:
            facts.append(tr("appr.claimed", amount=f"{c.claimed_amount:,.2f}"))
        if x.costs:
            cost = sum((line.amount for line in x.costs), Decimal("0"))
            back = sum((line.charge_back for line in x.costs), Decimal("0"))
            facts.append(tr("appr.internal_cost", amount=f"{cost:,.2f}")
                         + (" · " + tr("appr.charged_back", amount=f"{back:,.2f}")
                            if back else ""))
        if facts:
            st.caption(" · ".join(facts))
        for d in x.dispositions:
            qty = f" × {d.quantity}" if d.quantity else ""
            st.text(f"{tr('disposition_type.' + d.type.value)}{qty}: {d.amount:,.2f}")
            if d.note:
                st.caption(md(d.note))
        st.caption(tr("appr.proposer", name=md(x.proposer)))
        if x.root_cause:
            st.caption(tr("appr.root_cause", text=md(x.root_cause)))
        if c.customer_position:
            st.caption(f"{tr('field.customer_position')}: {md(c.customer_position)}")
        st.caption(tr("appr.step", seq=x.step.seq, n=max(s.seq for s in x.steps),
                      title=book.name(x.step.title, lang())))
        if x.step.moved_titles:  # the rule named a title only the proposer (or nobody) holds
            st.info(moved_sentence(book, x.step.title, x.step.moved_titles, x.step.moved_why))
        for step, signer, boss in x.decided:  # earlier signers' decisions and comments
            said = tr(f"appr.decided.{step.status.value}", title=book.name(step.title, lang()),
                      name=md(signer) + (" " + tr("appr.for", name=md(boss)) if boss else ""),
                      at=local(step.decided_at))
            st.caption(said + (f" — {md(step.comment)}" if step.comment else ""))
        if x.on_behalf_of:
            st.warning(tr("appr.on_behalf", name=md(x.on_behalf_of)))
        if x.photos:
            cols = st.columns(min(PHOTOS, len(x.photos)))
            for i, p in enumerate(x.photos[:PHOTOS]):
                if not picture(cols[i], user, p, thumbs=thumbs):  # the thumbnail only
                    cols[i].caption(p.filename)
        comment = st.text_input(tr("appr.comment"), key=f"ac_{c.id}_{x.step.id}", max_chars=500)
        if st.button(tr("appr.approve"), key=f"ok_{c.id}_{x.step.id}", type="primary",
                     width="stretch"):
            if attempt(uc.approval.approve_step, kesu(), user, c.id, c.version, comment):
                flash("success", tr("appr.approved", number=c.number))
                st.rerun()
        reason = st.text_area(tr("appr.reject_reason"), key=f"rr_{c.id}_{x.step.id}",
                              max_chars=2000, height=80)
        if st.button(tr("appr.reject"), key=f"no_{c.id}_{x.step.id}", width="stretch"):
            if attempt(uc.approval.reject_step, kesu(), user, c.id, c.version, reason):
                flash("success", tr("appr.rejected", number=c.number))
                st.rerun()
        st.page_link("pages/complaint.py", label=tr("log.open_case"),
                     query_params={"id": str(c.id)})
