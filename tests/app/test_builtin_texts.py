"""Chinese everywhere (issue #13): Streamlit's own texts in the reader's language where
Streamlit lets them be set (ui/builtin_texts.py), the Admin tab that stays after a save,
"mark all read" on the Inbox and the notice preferences on My account."""
from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core import notify
from core.usecases.context import Context
from tests.app.helpers import block, en, no_exception, open_page, values, widget, zh
from core import usecases as uc

LANGS = [("zh", zh), ("en", en)]


def _admin(app: Context) -> Any:
    user = uc.accounts.active_user(app, "admin")
    assert user is not None
    return user


def _html(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html")]


@pytest.mark.parametrize(("lang", "tr"), LANGS)
def test_selectboxes_and_multiselects_prompt_in_the_readers_language(
        ref_db: Context, lang: str, tr: Any) -> None:
    at = open_page("pages/log.py", "sales", lang)
    customer = widget(at, "selectbox", tr("field.customer") + " *")
    assert customer.proto.placeholder == tr("widget.choose")
    states = widget(at, "multiselect", tr("log.filter_state"))
    assert states.proto.placeholder != ""  # its own ("all"), kept
    # "Select all" cannot be translated: offered in English only
    assert (states.proto.select_all == 0) == (lang == "zh")

    admin = open_page("pages/admin.py", "admin", lang)
    roles = widget(block(admin, "expander", tr("admin.new_user")), "multiselect",
                   tr("field.roles") + " *")
    assert roles.proto.placeholder == tr("widget.choose_many")
    assert (roles.proto.select_all == 0) == (lang == "zh")


@pytest.mark.parametrize(("lang", "tr"), LANGS)
def test_the_uploader_shows_the_limit_of_the_setting(ref_db: Context, lang: str,
                                                     tr: Any) -> None:
    uc.reference.set_settings(ref_db, _admin(ref_db), {"attachment_max_mb": 7})
    at = open_page("pages/log.py", "sales", lang)
    assert [u.proto.max_upload_size_mb for u in at.get("file_uploader")] == [7]
    if lang == "zh":  # Streamlit's "Upload" / "7MB per file" covered by ours
        [css] = _html(at)
        assert f'content: "{zh("widget.upload")}"' in css
        assert f'content: "{zh("widget.upload_limit", mb=7)}"' in css
        assert "单个文件不超过 7 MB" in css
    else:  # Streamlit's own English texts are right as they are
        assert _html(at) == []


def test_the_import_uploader_shows_the_same_limit(ref_db: Context) -> None:
    uc.reference.set_settings(ref_db, _admin(ref_db), {"attachment_max_mb": 12})
    page = open_page("pages/import_register.py", "admin")
    assert [u.proto.max_upload_size_mb for u in page.get("file_uploader")] == [12]
    assert any("单个文件不超过 12 MB" in h for h in _html(page))


@pytest.mark.parametrize(("lang", "tr"), LANGS)
def test_admin_stays_on_its_tab_after_a_save(ref_db: Context, lang: str, tr: Any) -> None:
    at = open_page("pages/admin.py", "admin", lang)
    at.session_state["admin_tab"] = tr("admin.settings")  # the admin clicked the tab
    at.run()
    tab = block(at, "tabs", tr("admin.settings"))
    widget(tab, "text_input", tr("field.company_name")).input("苏州精工")
    [save] = [b for b in tab.button if b.key == f"FormSubmitter:settings-{tr('common.save')}"]
    save.click().run()
    no_exception(at)
    assert values(at, "success") == [tr("admin.settings_saved")]
    assert uc.context.settings(ref_db).company_name == "苏州精工"
    assert at.session_state["admin_tab"] == tr("admin.settings")
    assert _tab_shown(at) == 5  # the sixth tab, Settings, not Users (issue #13)


def _tab_shown(at: AppTest) -> int:
    """The index of the tab the browser is told to show (Admin has one st.tabs)."""
    found: list[int] = []

    def walk(node: Any) -> None:
        for child in getattr(node, "children", {}).values():
            p = getattr(child, "proto", None)
            if p is not None and p.DESCRIPTOR.name == "Block" \
                    and p.WhichOneof("type") == "tab_container":
                found.append(p.tab_container.default_tab_index)
            walk(child)
    walk(at._tree)
    [index] = found
    return index


def test_mark_all_read_empties_the_unread_count(ref_db: Context) -> None:
    sales = uc.accounts.active_user(ref_db, "sales")
    assert sales is not None
    with ref_db.uow(write=True) as uow:
        for _ in range(3):
            uow.notifications.add(sales.id, None, "approved", {"number": "KS-1", "by": "x"},
                                  ref_db.clock())
        uow.commit()
    assert uc.notices.unread_count(ref_db, sales) >= 3
    at = open_page("pages/inbox.py", "sales")
    widget(at, "button", zh("inbox.mark_all")).click().run()
    no_exception(at)
    assert uc.notices.unread_count(ref_db, sales) == 0
    assert not [b for b in at.button if b.label == zh("inbox.mark_all")]  # nothing left to mark
    assert not any(zh("inbox.new") in m for m in values(at, "markdown"))


@pytest.mark.parametrize(("lang", "tr"), LANGS)
def test_my_notice_preferences_are_saved_and_shown_again(ref_db: Context, lang: str,
                                                         tr: Any) -> None:
    at = open_page("pages/account.py", "qa", lang)
    assert tr("account.notices") in values(at, "subheader")
    assert [t for t in values(at, "text") if t == tr("notice_kind.dispatched")]
    at.checkbox(key="np_inbox_approved").uncheck()
    at.checkbox(key="np_email_dispatched").uncheck()
    at.radio(key="np_digest").set_value("digest")
    [save] = [b for b in at.button if b.key == "np_save"]
    save.click().run()
    no_exception(at)
    assert values(at, "success") == [tr("account.notices_saved")]
    qa = uc.accounts.active_user(ref_db, "qa")
    assert qa is not None
    assert uc.notices.notice_preferences(ref_db, qa) == notify.Preferences(
        frozenset({("inbox", "approved"), ("email", "dispatched")}), digest=True)
    again = open_page("pages/account.py", "qa", lang)  # a new visit shows the choice
    assert again.checkbox(key="np_inbox_approved").value is False
    assert again.checkbox(key="np_inbox_dispatched").value is True
    assert again.radio(key="np_digest").value == "digest"
