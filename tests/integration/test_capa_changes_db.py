"""CAPA actions changed, withdrawn and completed with a file on the real databases (SQLite file,
PostgreSQL): the withdrawn status and the evidence survive a fresh read, the file is one of the
case's attachments (issue #13)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from core.model import CapaType, Category, Severity, SixM, Validity
from core.usecases.complaints import ComplaintDraft, Upload
from core.usecases.context import Context
from tests.integration.conftest import World
from tests.integration.test_lifecycle_db import TODAY, Crew, crew, version  # noqa: F401
from core import usecases as uc

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_capa_actions_changed_withdrawn_and_done_with_a_file_round_trip(
        app: Context, world: World, crew: Crew,  # noqa: F811 - the fixture imported above
        draft: Callable[..., ComplaintDraft], make_app: Callable[..., Context]) -> None:
    cid = uc.complaints.register_complaint(app, world.sales,
                                       draft(severity_proposed=Severity.C)).id or 0
    uc.investigation.dispatch(app, world.sales, cid, version(app, world, cid))
    uc.investigation.acknowledge(app, world.qa, cid, version(app, world, cid))
    uc.investigation.classify(app, world.qa, cid, version(app, world, cid), Validity.VALID,
                              Category.QUALITY, Severity.C, crew.press)
    uc.investigation.save_analysis(app, crew.prod, cid, version(app, world, cid), prod_lot="L1",
                                   six_m=SixM.MACHINE, root_cause="夹具磨损")
    due = TODAY + timedelta(days=7)
    for text in ("更换夹具", "培训全部班次"):
        uc.investigation.add_capa(app, crew.prod, cid, CapaType.CORRECTIVE, text, crew.prod.id,
                                  due)
    first, second = uc.complaints.case_file(app, world.qa, cid).capa
    uc.investigation.edit_capa(app, world.qa, first.id or 0, CapaType.PREVENTIVE,
                               "更换夹具并加入点检", crew.prod.id, due + timedelta(days=3),
                               "加点检")
    uc.investigation.withdraw_capa(app, crew.prod, second.id or 0, "由点检覆盖")
    uc.investigation.complete_capa(app, crew.prod, first.id or 0, "新夹具照片",
                                   [Upload("夹具.png", PNG)])

    fresh = make_app()  # another app instance: nothing read from memory
    got = uc.complaints.case_file(fresh, world.admin, cid).capa
    assert [(a.type, a.description, a.due_date, a.status, a.evidence) for a in got] == [
        (CapaType.PREVENTIVE, "更换夹具并加入点检", due + timedelta(days=3), "done",
         "新夹具照片\n📎 夹具.png"),
        (CapaType.CORRECTIVE, "培训全部班次", due, "withdrawn", "")]
    view = uc.complaints.complaint(fresh, world.admin, cid)
    assert [a.filename for a in view.attachments] == ["夹具.png"]
    assert [(e.action, e.comment) for e in view.events
            if e.action in ("capa_edited", "capa_withdrawn")] == [
        ("capa_edited", "加点检"), ("capa_withdrawn", "由点检覆盖")]
