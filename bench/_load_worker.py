"""One simulated user of the load test: a separate OS process driving the app's services.

It registers complaints, moves open cases one step along the procedure (each step as the demo
user whose job it is), signs approvals, and reads the register, My Tasks and the approval
list, until its deadline. Every ACKNOWLEDGED action — the service returned — is appended to
the process's own journal (flush + fsync) with the case and the version it produced, before
the next action starts; the verifier later holds the database to that journal.

Journal lines (JSON): {"k": "ack", "op", "case", "v", "num"?, "ms"} for a committed action;
{"k": "read", "op", "ms"}; {"k": "stale", "op", "case", "ms"} for a StaleCase ("case
changed"); {"k": "refused", "op", "case", "why"} for a refusal that came because another user
changed the case between our read and our action (its version moved); {"k": "error", ...} for
anything else — a violation.
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.errors import DomainError, StaleCase
from core.usecases.approval import CostInput
from core.usecases.approval import DispositionInput
from core.model import (
    CapaType, CaseFile, Category, Channel, Complaint, ContainmentType, CostCategory,
    DispositionType, Kind, RegisterFilter, ReplyMethod, Request, Role, Satisfaction, Severity,
    SixM, State, StepStatus, User, Validity, WhereFound,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core import procedure
from core import usecases as uc

# the demo users (bench/demo.py) the workers act as
ROLES = ("sales", "qa", "prod", "finance", "qamanager", "manager", "gm", "chairman", "admin")
OPEN_STATES = tuple(s for s in State if s.is_open)
HOT = 30  # how many of the newest / oldest open cases the workers pick from: they collide
OLDEST = 2000


class Journal:
    """Append-only, one JSON object a line; acknowledged actions are fsynced."""

    def __init__(self, path: Path) -> None:
        self.f = path.open("a", encoding="utf-8")

    def write(self, durable: bool, **line: Any) -> None:
        self.f.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.f.flush()
        if durable:
            os.fsync(self.f.fileno())

    def close(self) -> None:
        self.f.close()


@dataclasses.dataclass
class Actor:
    app: Context
    users: dict[str, User]
    rng: random.Random
    journal: Journal
    customers: list[int]
    products: list[str]
    defects: list[int]
    mfg: int
    stats: Callable[[User], Any] | None = None

    # ------------------------------------------------------------ one round

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.08:
            self.register()
        elif roll < 0.72:
            self.advance()
        else:
            self.read()

    def timed(self, op: str, fn: Callable[[], Any]) -> None:
        t0 = time.perf_counter()
        fn()
        self.journal.write(False, k="read", op=op, ms=_ms(t0))

    def read(self) -> None:
        u = self.users[self.rng.choice(["sales", "qa", "prod", "manager", "gm"])]
        roll = self.rng.random()
        if roll < 0.35:
            flt = RegisterFilter(page=1, page_size=50,
                                 states=(State.INVESTIGATING,) if self.rng.random() < .3 else ())
            self.timed("read_register", lambda: uc.search.register(self.app, u, flt))
        elif roll < 0.70:
            self.timed("read_my_tasks", lambda: uc.worklists.tasks(self.app, u))
        elif roll < 0.85 or self.stats is None:
            self.timed("read_approvals",
                       lambda: uc.approve_queue.pending_approvals(self.app, self.users["gm"]))
        else:
            stats = self.stats
            self.timed("read_stats", lambda: stats(u))

    def register(self) -> None:
        who = self.users[self.rng.choice(["sales", "sales", "qa", "manager"])]
        draft = self.draft()
        t0 = time.perf_counter()
        c = uc.complaints.register_complaint(self.app, who, draft)
        self.journal.write(True, k="ack", op="registered", case=c.id, v=c.version, num=c.number,
                           ms=_ms(t0))

    def draft(self) -> ComplaintDraft:
        r = self.rng
        base = ComplaintDraft(customer_id=r.choice(self.customers), kind=Kind.COMPLAINT,
                              channel=r.choice([Channel.PHONE, Channel.EMAIL, Channel.VISIT]),
                              description=f"负载测试：客户反映外观不良 {r.randint(1, 10**6)}")
        if r.random() < 0.08:
            return dataclasses.replace(base, kind=Kind.SUGGESTION, category=Category.NON_QUALITY,
                                       severity_proposed=Severity.D)
        sev = r.choices([Severity.A, Severity.B, Severity.C], [1, 5, 14])[0]
        request = r.choice([Request.COMPENSATION, Request.REWORK, Request.REPLACEMENT])
        return dataclasses.replace(
            base,
            product_code=r.choice(self.products),
            defect_type_id=r.choice(self.defects),
            order_no=f"SO{r.randint(1000, 9999)}",
            lot=f"L{r.randint(100, 999)}",
            delivered_qty=1000,
            defective_qty=r.randint(1, 200),
            where_found=WhereFound.INCOMING,
            request=request,
            severity_proposed=sev,
            claimed_amount=Decimal(r.choice([800, 3000, 15000, 30000]))
            if request == Request.COMPENSATION
            else None,
            severity_note="客户书面确认：外观问题" if request == Request.COMPENSATION else "",
        )

    # ------------------------------------------------------------ moving a case along

    def advance(self) -> None:
        reader = self.users["qa"]
        t0 = time.perf_counter()
        open_cases = uc.search.cases_in(self.app, reader, OPEN_STATES, limit=OLDEST)
        self.journal.write(False, k="read", op="read_open_cases", ms=_ms(t0))
        if not open_cases:
            self.register()
            return
        # half the time one of the newest (shared by everyone: collisions), else one of the
        # oldest open cases (so cases also reach the end of the procedure)
        pick = self.rng.choice(open_cases[:HOT] if self.rng.random() < 0.5 else open_cases[-HOT:])
        case = uc.complaints.case_file(self.app, reader, pick.id or 0)
        move = self.next_move(case)
        if move is None:
            return
        op, fn = move
        cid, seen = case.complaint.id or 0, case.complaint.version
        t0 = time.perf_counter()
        try:
            new = fn(seen)
        except StaleCase:
            self.journal.write(False, k="stale", op=op, case=cid, ms=_ms(t0))
            return
        except DomainError as e:
            now = uc.complaints.case_file(self.app, reader, cid).complaint.version
            if now != seen:  # someone else changed the case in between: a fair refusal
                self.journal.write(False, k="refused", op=op, case=cid, why=e.key)
                return
            raise
        self.journal.write(True, k="ack", op=op, case=cid, v=new.version, ms=_ms(t0))

    def next_move(self, case: CaseFile) -> tuple[str, Callable[[int], Complaint]] | None:
        """The next step of this case (as the demo user whose job it is), or None."""
        a, u, r, c = self.app, self.users, self.rng, case.complaint
        cid = c.id or 0
        today = a.clock().date()
        if c.on_hold_since is not None:
            return "resume", lambda v: uc.closure.resume(a, u["sales"], cid, v, "客户样品已到")
        if c.state != State.REGISTERED and r.random() < 0.02:
            return "hold", lambda v: uc.closure.hold(a, u["qa"], cid, v, "等待客户寄回样品")
        if r.random() < 0.03:
            d = _draft_of(c, lot=f"{c.lot[:20]}-{r.randint(100, 999)}")
            return "edited", lambda v: uc.complaints.update_complaint(a, u["qa"], cid, v, d,
                                                                      "更正批号")
        # what the case waits for in the procedure's usual course (core/procedure.py)
        main = procedure.MAIN_LINE.get(c.state)
        if main == "dispatch":
            if c.kind != Kind.COMPLAINT:
                return "route_short", lambda v: uc.investigation.route_short(a, u["sales"], cid, v)
            if c.severity_proposed is None:  # logged in a hurry (the browser): sales adds it
                d = _draft_of(c, severity_proposed=Severity.C,
                              severity_note=c.severity_note or "客户书面确认：外观问题")
                return "edited", lambda v: uc.complaints.update_complaint(a, u["sales"], cid, v, d,
                                                                          "补充等级")
            if c.severity_proposed == Severity.A and c.dispatch_approved_by_id is None:
                return "approve_dispatch", lambda v: uc.investigation.approve_dispatch(a, u["gm"],
                                                                                       cid, v,
                                                                                       "同意")
            return "dispatch", lambda v: uc.investigation.dispatch(a, u["sales"], cid, v)
        if main == "acknowledge":
            if r.random() < 0.05:
                return "return_to_sales", lambda v: uc.investigation.return_to_sales(a, u["qa"],
                                                                                     cid, v,
                                                                                     "缺照片")
            return "acknowledge", lambda v: uc.investigation.acknowledge(a, u["qa"], cid, v)
        if main == "classify_valid":
            # containment first: the recurrence rule may raise the final severity to A,
            # which needs it (docs/procedure.md §5)
            if not case.containment:
                return "containment_added", lambda v: uc.investigation.add_containment(
                    a, u["qa"], cid, ContainmentType.QUARANTINE, 100, "隔离同批库存"
                )
            if r.random() < 0.05:
                return "classify_invalid", lambda v: uc.investigation.classify(
                    a, u["qa"], cid, v, Validity.INVALID, reason="客户使用不当"
                )
            sev = c.severity_proposed or Severity.C
            # the level logged is kept; where it is below the criteria QA says why, as a
            # person must (core/rules/severity.py suggest)
            return "classify_valid", lambda v: uc.investigation.classify(
                a, u["qa"], cid, v, Validity.VALID, c.category, sev, self.mfg,
                "按客户书面确认定级")
        if main == "submit_analysis":
            if not c.root_cause:
                return "analysis_saved", lambda v: uc.investigation.save_analysis(
                    a,
                    u["prod"],
                    cid,
                    v,
                    prod_line="3号线",
                    prod_lot="P2611",
                    prod_date=today,
                    whys=["定位偏移", "定位销磨损"],
                    six_m=SixM.MACHINE,
                    root_cause="定位销磨损",
                )
            if not case.capa:
                return "capa_added", lambda v: uc.investigation.add_capa(a, u["prod"], cid,
                                                                         CapaType.CORRECTIVE,
                                                                         "更换定位销", u["prod"].id,
                                                                         today + timedelta(days=7))
            return "submit_analysis", lambda v: uc.investigation.submit_analysis(a, u["prod"], cid,
                                                                                 v)
        if main == "approve_capa":
            if r.random() < 0.15:
                return "send_back", lambda v: uc.investigation.send_back(a, u["qa"], cid, v,
                                                                         "请补充根本原因")
            return "approve_capa", lambda v: uc.investigation.approve_capa(a, u["qa"], cid, v)
        if main == "propose":
            if not case.current(case.dispositions):
                amount = c.claimed_amount or Decimal(r.choice([0, 600, 3000, 25000]))
                items = [
                    DispositionInput(DispositionType.COMPENSATION, c.defective_qty, amount)
                    if amount
                    else DispositionInput(DispositionType.EXPLANATION, None, "0")
                ]
                costs = [CostInput(CostCategory.COMPENSATION, amount, None)] if amount else []
                return "dispositions_set", lambda v: uc.approval.set_dispositions(a, u["sales"],
                                                                                  cid, v, items,
                                                                                  costs)
            return "propose", lambda v: uc.approval.propose(a, u["sales"], cid, v, "客户同意")
        if main == "approve_step":
            pending = [x for x in case.current(case.steps) if x.status == StepStatus.PENDING]
            if not pending:
                return None
            step = min(pending, key=lambda x: x.seq)
            signer = next(x for x in u.values() if step.title in x.titles
                          and x.id != case.complaint.proposer_id)
            if r.random() < 0.08:
                return "reject_step", lambda v: uc.approval.reject_step(a, signer, cid, v,
                                                                        "金额偏高")
            return "approve_step", lambda v: uc.approval.approve_step(a, signer, cid, v, "同意")
        if main == "reply":
            return "reply", lambda v: uc.closure.reply(a, u["sales"], cid, v, today,
                                                       ReplyMethod.EMAIL,
                                                       "经调查已整改，附 8D 报告。")
        if main == "complete":
            for x in case.capa:
                if x.status != "done":
                    return "capa_done", lambda v, i=x.id: uc.investigation.complete_capa(a,
                                                                                         u["prod"],
                                                                                         i or 0,
                                                                                         "已完成")
            for d in case.current(case.dispositions):
                if not d.done:
                    who = u["finance"] if d.type == DispositionType.COMPENSATION else u["prod"]
                    return (
                        "execution_recorded",
                        lambda v, i=d.id, q=d.quantity, w=who: uc.closure.record_execution(
                            a, w, i or 0, q, "已执行"
                        ),
                    )
            return "complete", lambda v: uc.closure.complete(a, u["prod"], cid, v)
        if main == "verify":
            ok = r.random() >= 0.08
            return "verify", lambda v: uc.closure.verify(a, u["qa"], cid, v, ok,
                                                         "" if ok else "再次发生")
        if main == "follow_up":
            return "follow_up", lambda v: uc.closure.follow_up(a, u["sales"], cid, v, day=today,
                                                               contact="客户品质部", score=5,
                                                               satisfaction=Satisfaction.SATISFIED,
                                                               lessons="点检纳入易损件")
        return None


def _draft_of(c: Complaint, **changes: Any) -> ComplaintDraft:
    # the case's own facts (the draft's `custom`, the fields of a company's own, stays empty)
    values = {f.name: getattr(c, f.name) for f in dataclasses.fields(ComplaintDraft)
              if hasattr(c, f.name)}
    values.update(changes)
    return ComplaintDraft(**values)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


def stats_reader(app: Context) -> Callable[[User], Any] | None:
    """The Stats page's query, once core/stats.py exists (built by another engineer)."""
    try:
        from core.stats import StatsFilter, preset
    except ImportError:
        return None
    if not hasattr(app, "stats"):
        return None

    def read(u: User) -> Any:
        flt = StatsFilter(preset("this_month", uc.stats.stats_today(app)))  # type: ignore[attr-defined]
        return uc.stats.stats(app, u, flt)  # type: ignore[attr-defined]

    return read


MIN_WORK_S = 5.0


def run(index: int, url: str, journal: str, deadline: float, seed: int,
        with_stats: bool = True) -> None:
    """The worker process's body (multiprocessing target): act until `deadline` (epoch s)."""
    from adapters.wiring import build_app

    app = build_app(url, run_migrations=False)
    users = {name: uc.accounts.active_user(app, name) for name in ROLES}
    missing = [n for n, x in users.items() if x is None]
    if missing:
        raise SystemExit(f"demo users missing: {missing} (load the demo first)")
    j = Journal(Path(journal))
    mfg = next(d.id for d in uc.reference.departments(app) if d.code == "MFG")
    actor = Actor(app, {k: v for k, v in users.items() if v is not None}, random.Random(seed), j,
                  [x.id for x in uc.reference.customers(app)],
                  [x.code for x in uc.reference.products(app)],
                  [x.id for x in uc.reference.defect_types(app)], mfg,
                  stats_reader(app) if with_stats else None)
    assert all(x.has(Role.ADMIN) or x.roles for x in actor.users.values())
    # starting a process (imports, the app) can take the whole short run on a busy machine:
    # each worker acts for at least a few seconds once it is ready
    deadline = max(deadline, time.time() + MIN_WORK_S)
    try:
        while time.time() < deadline:
            try:
                actor.step()
            except Exception as e:  # noqa: BLE001 - every unexpected error is a finding
                j.write(True, k="error", op=type(e).__name__, err=repr(e)[:500],
                        tb=traceback.format_exc()[-3000:])
    finally:
        j.close()
