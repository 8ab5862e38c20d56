"""What a walk through the demo found (issue #13): the demo's people have English names to
sign English letters with, its answered cases have QA's summary for the customer (so a closed
case's letter does not say the investigation is still going on), and its inbox is one in use —
the first start of the app does not send every overdue case's notice at once."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from adapters.wiring import build_app
from bench import demo
from core import usecases as uc
from core.documents import letter_body
from core.i18n import t
from core.model import Kind, Lang, RegisterFilter, State, Validity
from core.usecases.context import Context
from db.uow import SqlUowFactory

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=timezone.utc)
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KESU_DATA_DIR", str(folder))
        mp.setenv("KESU_BCRYPT_ROUNDS", "4")
        made = build_app(f"sqlite:///{folder / 'kesu.db'}")
        at: list[datetime] = []
        made.clock = lambda: at[-1] if at else NOW
        demo.load(made, at.append, cases=40, now=NOW)
        made.clock = lambda: NOW
        yield made
        assert isinstance(made.uow, SqlUowFactory)
        made.uow.engine.dispose()


def test_the_demos_people_have_english_names(app: Context) -> None:
    people = {u.username: u for u in uc.accounts.list_active_users(app)}
    assert people["sales"].display_name_en == "Wang Li"
    assert people["gm"].display_name_en == "Wu Jianguo"
    for p in uc.presets.read(demo.PROFILE).users:
        if p.username != "admin":  # the first administrator is made before the preset's
            assert people[p.username].display_name_en == p.name_en != ""
            assert not CJK.search(p.name_en)


def test_an_answered_case_tells_the_customer_what_was_found(app: Context) -> None:
    admin = uc.accounts.active_user(app, "admin")
    assert admin is not None
    rows, _ = uc.search.register(app, admin, RegisterFilter(page_size=100))
    pending = {lang: t("doc.l.pending", lang) for lang in ("zh", "en")}
    answered = 0
    for r in rows:
        c = uc.complaints.case_file(app, admin, r.id).complaint
        if (c.kind != Kind.COMPLAINT or c.validity != Validity.VALID
                or c.state not in (State.REPLYING, State.CLOSED)):
            continue
        answered += 1
        docs = uc.documents.case_documents(app, admin, r.id, "en")
        body = letter_body(docs.letter)
        assert c.customer_summary and c.customer_summary in body
        assert pending[docs.letter_lang] not in body
        if docs.letter_lang == Lang.EN.value:  # written in the customer's language
            assert not CJK.search(c.customer_summary)
    assert answered >= 5


def test_the_first_start_sends_no_pile_of_overdue_notices(app: Context) -> None:
    assert uc.channels.escalate_overdue(app) == 0  # the demo's story already sent them
    week_ago = NOW - timedelta(days=demo.OVERDUE_READ_AFTER_DAYS)
    overdue = [n for u in uc.accounts.list_active_users(app)
               for n in uc.notices.inbox(app, u, limit=10_000) if n.kind == "overdue"]
    assert overdue  # the old overdue cases did escalate, while the story ran
    assert all(n.created_at <= NOW for n in overdue)
    assert all(n.read_at is not None for n in overdue if n.created_at < week_ago)
