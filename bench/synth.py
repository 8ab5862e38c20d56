"""Synthetic data at scale for the benchmarks (issue #6): `python manage.py synth --cases N`.

Fills an empty, migrated database with N complaints over the six years ending today, in Chinese,
with the demo's people and reference data (bench/demo.py, loaded through the services).

The cases themselves are written as ROWS, directly, with SQLAlchemy Core `insert()` executemany
in batches — not through the services: 100,000 cases through `register_complaint` and the
lifecycle actions would take hours. So everything the app derives when a user acts is filled
here by the app's own rules, and pages behave as with real data:
- numbers KS+YYMM-NNN by the local month of receipt, and `number_counters` = the last serial of
  each month, so the app's next registration gets a fresh number;
- events with the action names the services write (the timeline, holds, first dispatch);
- `due_at` / `due_step` of open cases from `core.sla.due_times` on the case and its events;
- `closed_at`, and `close_wd` by `core.usecases.pipeline.close_days` on the working calendar;
- `step_times` for every timed step a case has finished (as `core.usecases.pipeline.derive` records
them);
- approval steps by the default rules (`core.rules.approvals.DEFAULT_RULES`); version = events.
Attachments are rows pointing at three tiny shared blobs stored once.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
import multiprocessing
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, text

from bench import demo
from core import procedure, sla
from core.usecases import pipeline
from core.model import CaseFile, Complaint, Containment, ContainmentType, Event, Kind, Severity
from core.model import Channel, State, Title, stored
from core.rules import approvals
from core.rules.calendar import WorkCalendar
from core.rules.numbering import format_number, period_of
from core.usecases.context import Context
from db import bulk, rollups
from db import search
from db.tables import (
    ApprovalStepRow,
    AttachmentRow,
    CapaActionRow,
    ComplaintRow,
    ContainmentRow,
    CostLineRow,
    DispositionRow,
    EventRow,
    MeetingRow,
    NumberCounterRow,
    StatsFactRow,
    StepTimeRow,
)
from db.uow import SqlUowFactory
from core import usecases as uc

YEARS = 6
BATCH_CASES = 2000  # cases per executemany round (≈ 35,000 rows of all kinds)
CENT = Decimal("0.01")
CHUNK_CASES = 10_000  # cases per chunk: one transaction, one random stream (synth's workers)
BIG_CASE_EVENTS = 200  # one case with a long history (the Complaint page benchmark)

# tiny valid files, stored once and shared by every attachment row
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2279b5c0000000049454e44ae426082"
)
JPG = bytes.fromhex(  # an 8×8 JPEG (the Approve page shows photos)
    "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a1816"
    "16183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c6567"
    "63ffdb0043011112121815182f1a1a2f63423842636363636363636363636363636363636363636363636363"
    "6363636363636363636363636363636363636363636363636363ffc000110800080008030122000211010311"
    "01ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303"
    "020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f024"
    "33627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a63646566"
    "6768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7"
    "b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffc400"
    "1f0100030101010101010101010000000000000102030405060708090a0bffc400b511000201020404030407"
    "05040400010277000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a"
    "162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a63646566676869"
    "6a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9"
    "bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda000c030100"
    "02110311003f00a545145721f427ffd9"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

OPEN_ORDER = list(procedure.MAIN_LINE)  # the open states in the procedure's usual order
# which open state a case is in, by its age: young cases early in the procedure
OPEN_WEIGHTS = {
    5: [3, 5, 6, 3, 1.5, 0.8, 0.3, 0.3, 0.1, 0, 0],
    20: [0.4, 2.5, 4, 3, 2.5, 1.5, 0.6, 0.8, 2, 2, 0.5],
    10**6: [0.2, 2.5, 3.5, 3, 2, 1.2, 0.3, 0.8, 2.5, 3, 0.8],
}
# chance that a complaint of this age (days) is still open; the rest are closed
OPEN_CHANCE = ((5, 0.97), (20, 0.85), (60, 0.6), (180, 0.2), (10**6, 0.025))
# the share of all cases open, as `synth --open-share` defaults to: a big plant's open work
# (1,000,000 cases: ~2,000 open, a few hundred waiting for one QA engineer). OPEN_CHANCE as it
# stands (open_share None, "legacy") leaves ~5 % open: 30,000 for QA at a million cases
OPEN_SHARE = 0.002
STAGE = {s: i for i, s in enumerate(OPEN_ORDER + [State.CLOSED])}
# hours (lo, hi) between the steps, clock time; scaled down for young cases
GAPS = {
    "dispatch": (0.05, 2.5),
    "acknowledge": (0.2, 8),
    "containment": (0.5, 6),
    "classify": (2, 30),
    "submit": (8, 60),
    "send_back": (2, 20),
    "approve_capa": (2, 24),
    "propose": (2, 30),
    "approve": (1, 20),
    "reply": (3, 40),
    "complete": (24, 160),
    "verify": (24, 200),
    "follow_up": (4, 72),
    "short": (0.5, 4),
    "answer": (1, 40),
}
NOMINAL = sum(hi for _, hi in GAPS.values()) + 3 * GAPS["approve"][1]

CANCEL_REASONS = [
    "客户撤回投诉，确认为其仓库搬运损坏。",
    "重复登记，与前一单为同一问题。",
    "客户电话确认为误会，无需处理。",
]
INVALID_REASONS = [
    "经现场确认为客户储存不当（受潮）所致，非我司质量问题。",
    "客户使用方法错误，已现场演示正确操作。",
    "来料检验标准与合同约定不一致，属误会。",
]
CAPA_TEXTS = [
    ("corrective", "更换定位销并对在库品全检"),
    ("preventive", "点检表增加定位销磨损检查项，每班点检"),
    ("corrective", "对同批次在途货物安排返工挑选"),
    ("preventive", "修订作业指导书并对全员培训"),
    ("corrective", "供应商来料加严检验三个批次"),
    ("preventive", "增加出货前全检工序与首件确认"),
]
OPERATORS = ["张伟", "李娜", "王磊", "刘芳", "陈静", "杨洋", "赵军", "黄敏", "周婷", "吴强"]
WHYS = [
    "为什么出现不良？作业中夹具定位偏移",
    "为什么偏移？定位销磨损",
    "为什么磨损未发现？点检表未包含该项",
    "为什么点检表未包含？新设备导入时未更新点检表",
    "为什么未更新？设备导入流程缺少点检表评审",
]
SUPPLIERS = ["东莞市鑫达五金制品厂", "昆山华科电子材料有限公司", "温州联创塑胶有限公司"]
REPLY_TEXT = (
    "经调查，不良原因为{cause}我司已采取纠正预防措施，在库品已全检。随函附 8D 报告，敬请查收。"
)
HOLD_REASONS = ["等待客户寄回不良样品", "等待客户提供不良照片与批号", "等待退货到厂后分析"]
EXTRA_WORDS = ["紧急", "批量", "返厂", "复检", "现场", "出口", "新品", "老客户", "二次发生", "8D"]


def _j(d: dict[str, Any]) -> str:
    return json.dumps(d, ensure_ascii=False)


@dataclass
class _Refs:
    users: dict[str, int]
    customers: list[tuple[int, str, str]]  # id, name, market
    products: list[tuple[str, str]]
    defects: list[tuple[int, str, str, str]]  # id, code, zh, en
    departments: dict[str, int]
    blobs: dict[str, tuple[str, int]]  # kind -> (sha, size)


@dataclass
class _Rows:
    """One batch of rows per table, written with executemany."""

    complaints: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    capa: list[dict[str, Any]] = field(default_factory=list)
    containments: list[dict[str, Any]] = field(default_factory=list)
    dispositions: list[dict[str, Any]] = field(default_factory=list)
    costs: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    step_times: list[dict[str, Any]] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)  # the Stats rollups' per case

    TABLES = (
        ("complaints", ComplaintRow),
        ("events", EventRow),
        ("capa", CapaActionRow),
        ("containments", ContainmentRow),
        ("dispositions", DispositionRow),
        ("costs", CostLineRow),
        ("steps", ApprovalStepRow),
        ("attachments", AttachmentRow),
        ("step_times", StepTimeRow),
        ("meetings", MeetingRow),
        ("facts", StatsFactRow),
    )

    def flush(self, conn: Any, counts: dict[str, int]) -> None:
        for name, row in self.TABLES:
            items: list[dict[str, Any]] = getattr(self, name)
            if items:
                bulk.insert_rows(conn, row.__table__, items)  # type: ignore[arg-type]
                if name == "complaints":  # the register search's rows (db/search.py)
                    search.index_rows(conn, items)
                counts[name] = counts.get(name, 0) + len(items)
                items.clear()


_COMPLAINT_DEFAULTS: dict[str, Any] = {
    "category": "quality",
    "customer_ref": "",
    "product_code": "",
    "product_name": "",
    "order_no": "",
    "lot": "",
    "delivered_qty": None,
    "delivery_date": None,
    "defective_qty": None,
    "defect_type_id": None,
    "where_found": None,
    "request": None,
    "claimed_amount": None,
    "severity_proposed": None,
    "sample_received": False,
    "sample_date": None,
    "cancel_reason": "",
    "severity": None,
    "severity_reason": "",
    "validity": None,
    "responsible_department_id": None,
    "dispatch_approved_by_id": None,
    "customer_ack_at": None,
    "customer_ack_method": "",
    "on_hold_since": None,
    "hold_reason": "",
    "sent_back_count": 0,
    "reopen_count": 0,
    "no_investigation_reason": "",
    "no_investigation_by_id": None,
    "prod_line": "",
    "prod_shift": "",
    "prod_machine": "",
    "prod_operator": "",
    "prod_date": None,
    "prod_lot": "",
    "root_cause_whys": "",
    "root_cause_6m": None,
    "root_cause": "",
    "customer_position": "",
    "proposer_id": None,
    "approval_round": 0,
    "reply_date": None,
    "reply_method": None,
    "reply_text": "",
    "verify_after": None,
    "verified_effective": None,
    "satisfaction_score": None,
    "satisfaction": None,
    "followup_date": None,
    "followup_contact": "",
    "followup_notes": "",
    "lessons_learned": "",
    "standard_doc": "",
    "merged_into_id": None,
    "closed_at": None,
    "due_at": None,
    "due_step": "",
    "close_wd": None,
    "imported": False,
}


class _Case:
    """One case's story: its row, events and records, told step by step in time order."""

    def __init__(self, g: _Generator, cid: int, number: str, received: datetime,
                 scale: float) -> None:
        self.g, self.cid, self.scale = g, cid, scale
        self.row: dict[str, Any] = {
            **_COMPLAINT_DEFAULTS,
            "id": cid,
            "number": number,
            "received_at": received,
        }
        self.t = received
        self.limit = g.now - timedelta(minutes=5)
        self.events: list[Event] = []
        self.containment = False
        self.first_dispatch: datetime | None = None
        self.marks = (0, 0, 0)  # where this case's costs, steps and step times begin
        self.capa: list[dict[str, Any]] = []
        self.dispositions: list[dict[str, Any]] = []

    def tick(self, gap: str) -> datetime:
        lo, hi = GAPS[gap]
        self.t = min(self.t + timedelta(hours=self.g.rng.uniform(lo, hi) * self.scale), self.limit)
        return self.t

    def event(self, user: int, action: str, changes: dict[str, Any] | None = None,
              comment: str = "", at: datetime | None = None) -> None:
        self.events.append(
            Event(None, self.cid, at or self.t, user, action, changes or {}, comment)
        )

    def move(self, gap: str, user: str, action: str, to: State | None, comment: str = "",
             **changes: Any) -> datetime:
        """One transition: the time passes, the state changes, one event is written."""
        at = self.tick(gap)
        ch: dict[str, Any] = {k: [None, stored(v)] for k, v in changes.items()}
        if to is not None and to.value != self.row["state"]:
            ch["state"] = [self.row["state"], to.value]
            self.row["state"] = to.value
        self.event(self.g.refs.users[user], action, ch, comment)
        return at

    def step_time(self, step: str, started: datetime, done: datetime) -> None:
        """A timed step finished (core.usecases.pipeline.derive): due by the limits, on time or
        late."""
        due = self.g.due(step, started, self.severity())
        self.g.rows.step_times.append(
            {
                "complaint_id": self.cid,
                "step": step,
                "started_at": started,
                "due_at": due,
                "done_at": done,
                "on_time": due is None or done <= due,
            }
        )

    def severity(self) -> Severity | None:
        s = self.row["severity"] or self.row["severity_proposed"]
        return Severity(s) if s else None


class _Generator:
    def __init__(self, app: Context, refs: _Refs, cal: WorkCalendar, rng: random.Random,
                 now: datetime) -> None:
        self.app, self.refs, self.cal, self.rng, self.now = app, refs, cal, rng, now
        self.tz = uc.context.settings(app).tz
        self.limits = sla.limits_in_force([], now)
        self.rows = _Rows()
        self.states: dict[str, int] = {}
        self.events = 0
        self.open_factor = 1.0  # OPEN_CHANCE scaled to the open share asked for
        self.sums: rollups.Parts = {}  # every case's Stats parts, summed (the rollups)

    # ------------------------------------------------------------ derived values (app rules)

    def due(self, step: str, started: datetime, sev: Severity | None) -> datetime | None:
        limit = sla.limit_for(self.limits, step, sev)
        if limit is None:
            return None
        return sla.after(started, *limit, self.cal)

    def _domain(self, row: dict[str, Any]) -> Complaint:
        """The few fields the time-limit and closing rules look at."""
        return Complaint(
            id=row["id"],
            number=row["number"],
            received_at=row["received_at"],
            channel=Channel(row["channel"]),
            received_by_id=row["received_by_id"],
            kind=Kind(row["kind"]),
            customer_id=row["customer_id"],
            description="",
            state=State(row["state"]),
            severity=Severity(row["severity"]) if row["severity"] else None,
            severity_proposed=(
                Severity(row["severity_proposed"]) if row["severity_proposed"] else None
            ),
            closed_at=row["closed_at"],
            on_hold_since=row["on_hold_since"],
            sample_received=bool(row["sample_received"]),
            imported=bool(row["imported"]),
            created_at=row.get("created_at"),
        )

    # ------------------------------------------------------------ one case

    def case(self, cid: int, number: str, received: datetime, big: bool = False) -> None:
        rng, u = self.rng, self.refs.users
        age_days = (self.now - received).total_seconds() / 86400
        scale = min(1.0, age_days * 24 * 0.8 / NOMINAL)
        k = _Case(self, cid, number, received, scale)
        k.marks = (len(self.rows.costs), len(self.rows.steps), len(self.rows.step_times))
        row = k.row
        self._draft(k)
        while big and row["kind"] != "complaint":  # the long history is a complaint's
            self._draft(k)
        created = received + timedelta(minutes=rng.randint(2, 40) * min(1.0, scale * 4 + 0.05))
        created = min(created, k.limit)
        k.t = created
        logger = rng.choice(["sales", "sales", "qa", "manager"])
        row.update(received_by_id=u[logger], created_at=created)
        k.event(
            u[logger],
            "registered",
            {
                "customer_id": [None, row["customer_id"]],
                "kind": [None, row["kind"]],
                "channel": [None, row["channel"]],
                "description": [None, row["description"]],
            },
        )
        self._attachments(k, created)
        kind = Kind(row["kind"])
        roll = rng.random()
        if big:
            target = State.IMPLEMENTING
        elif kind == Kind.COMPLAINT and roll < 0.05:
            target = State.CANCELLED
        else:
            target = self._target(age_days, kind)
        if target == State.CANCELLED:
            self._cancelled(k)
        elif kind != Kind.COMPLAINT:
            self._short(k, target)
        else:
            self._complaint(k, target)
        if big:
            self._long_history(k)
        self._finish(k)

    def _target(self, age_days: float, kind: Kind) -> State:
        rng = self.rng
        if kind != Kind.COMPLAINT:
            if age_days < 3 and rng.random() < min(1.0, 0.8 * self.open_factor):
                return rng.choice([State.REGISTERED, State.REPLYING, State.REPLYING])
            return State.CLOSED
        chance = min(1.0, self.open_factor * open_chance(age_days))
        if rng.random() >= chance:
            return State.CLOSED
        weights = next(w for limit, w in OPEN_WEIGHTS.items() if age_days < limit)
        return rng.choices(OPEN_ORDER, weights)[0]

    def _draft(self, k: _Case) -> None:
        """What was logged: like bench.demo's drafts, with more variety in the words."""
        rng, refs, row = self.rng, self.refs, k.row
        at = row["received_at"]
        cust_id, _name, market = rng.choice(refs.customers)
        roll = rng.random()
        row.update(
            customer_id=cust_id,
            kind="complaint",
            state="registered",
            channel=rng.choice(
                [
                    "phone",
                    "phone",
                    "email",
                    "inspection",
                    "visit",
                    "fax",
                    "email",
                    "letter",
                    "walk_in",
                    "external",
                ]
            ),
        )
        if roll < 0.07:
            row.update(kind="suggestion", category="non_quality", severity_proposed="D",
                       channel=rng.choice(["suggestion_box", "email"]),
                       description=rng.choice(demo.SUGGESTIONS))
            return
        if roll < 0.12:
            row.update(kind="inquiry", category="non_quality", request="explanation",
                       description=rng.choice(demo.INQUIRIES))
            return
        if roll < 0.20:
            row.update(category="non_quality", severity_proposed="C", request="explanation",
                       order_no=f"SO{at:%y%m}{rng.randint(100, 9999)}",
                       description=rng.choice(demo.NON_QUALITY))
            return
        code, pname = rng.choice(refs.products)
        d_id, d_code, d_zh, d_en = rng.choice(refs.defects)
        delivered = rng.choice([200, 500, 1000, 2000, 5000, 12000])
        bad = max(1, int(delivered * rng.choice([0.002, 0.01, 0.03, 0.08, 0.2])))
        story, where = rng.choice(demo.STORIES)
        request = rng.choice(["compensation", "rework", "replacement", "return", "explanation"])
        amount = (
            Decimal(rng.choice([800, 1500, 3200, 6000, 8000, 12500, 26000]))
            if request == "compensation"
            else None
        )
        sev = (
            "A"
            if d_code == "ELEC" or (amount or 0) >= 10000
            else "B"
            if (amount or 0) >= 5000 or bad > 100
            else "C"
        )
        if market == "overseas" and rng.random() < 0.5:
            desc = (
                f"Customer reports {d_en.lower()} on {code} ({bad} of {delivered} pcs). "
                f"Photos attached; they request {request}."
            )
        else:
            desc = story.format(p=f"{code} {pname}", d=d_zh, n=delivered, k=bad)
            if rng.random() < 0.4:
                desc += f"（{rng.choice(EXTRA_WORDS)}）"
        sample = rng.random() < 0.5
        row.update(description=desc, product_code=code, product_name=pname,
                   order_no=f"SO{at:%y%m}{rng.randint(100, 9999)}",
                   lot=f"L{at:%y%m%d}-{rng.randint(1, 9):02d}", delivered_qty=delivered,
                   delivery_date=(at - timedelta(days=rng.randint(3, 40))).date(),
                   defective_qty=bad, defect_type_id=d_id, where_found=where.value, request=request,
                   claimed_amount=amount, severity_proposed=sev,
                   customer_ref=f"QN-{rng.randint(10000, 99999)}" if rng.random() < 0.4 else "",
                   sample_received=sample, sample_date=at.date() if sample else None)

    def _attachments(self, k: _Case, at: datetime) -> None:
        """About two per case: photos, sometimes a PDF (rows only; shared tiny blobs)."""
        rng = self.rng
        n = rng.choice([0, 1, 2, 2, 3, 4]) if k.row["kind"] == "complaint" else rng.choice([0, 1])
        for i in range(n):
            kind = "pdf" if i == 3 or (i and rng.random() < 0.2) else rng.choice(["png", "jpg"])
            sha, size = self.refs.blobs[kind]
            ctype = {"png": "image/png", "jpg": "image/jpeg", "pdf": "application/pdf"}[kind]
            name = f"不良照片{i + 1}.{kind}" if kind != "pdf" else "客户检验报告.pdf"
            self.rows.attachments.append(
                {
                    "complaint_id": k.cid,
                    "sha256": sha,
                    "filename": name,
                    "content_type": ctype,
                    "size": size,
                    "uploaded_by_id": k.row["received_by_id"],
                    "uploaded_at": at,
                }
            )

    def _cancelled(self, k: _Case) -> None:
        """Cancelled by sales before the investigation started (some after dispatch)."""
        if k.row["severity_proposed"] and self.rng.random() < 0.5:
            self._dispatch(k)
        reason = self.rng.choice(CANCEL_REASONS)
        k.move("dispatch", "sales", "cancel", State.CANCELLED, reason)
        k.row["cancel_reason"] = reason

    def _short(self, k: _Case, target: State) -> None:
        """Suggestions and inquiries: registered -> replying -> closed."""
        if target == State.REGISTERED:
            return
        k.move("short", "sales", "route_short", State.REPLYING)
        if target == State.REPLYING:
            return
        at = k.tick("answer")
        k.row.update(reply_date=at.astimezone(self.tz).date(), reply_method="email",
                     reply_text="感谢您的宝贵意见，我司已评估并将在下一批次采纳。", closed_at=at,
                     state=State.CLOSED.value)
        k.event(self.refs.users["sales"], "reply",
                {"state": ["replying", "closed"], "reply_method": [None, "email"]})
        step = "answer_inquiry" if k.row["kind"] == "inquiry" else "answer_suggestion"
        k.step_time(step, k.row["received_at"], at)

    def _dispatch(self, k: _Case) -> None:
        u = self.refs.users
        if k.row["severity_proposed"] == "A":
            k.move("dispatch", "gm", "approve_dispatch", None, "重大客诉，同意发单",
                   dispatch_approved_by_id=u["gm"])
            k.row["dispatch_approved_by_id"] = u["gm"]
        at = k.move("dispatch", "sales", "dispatch", State.DISPATCHED)
        k.first_dispatch = k.first_dispatch or at
        k.step_time("dispatch", k.row["received_at"], at)

    def _complaint(self, k: _Case, target: State) -> None:
        """Walk the procedure up to `target` (docs/procedure.md §5), each step by the right
        person."""
        rng, u, row, stage = self.rng, self.refs.users, k.row, STAGE[target]
        if stage < STAGE[State.DISPATCHED]:
            return
        self._dispatch(k)
        if stage < STAGE[State.INVESTIGATING]:
            return
        ack = k.move("acknowledge", "qa", "acknowledge", State.INVESTIGATING)
        if row["severity_proposed"] in ("A", "B") or rng.random() < 0.3:
            at = k.tick("containment")
            qty = rng.choice([200, 500, 1200])
            self.rows.containments.append(
                {
                    "complaint_id": k.cid,
                    "type": rng.choice(list(ContainmentType)).value,
                    "quantity": qty,
                    "note": "仓库同批次库存全部隔离待检",
                    "by_id": u["qa"],
                    "at": at,
                }
            )
            k.event(u["qa"], "containment_added", {"containment": [None, f"quarantine {qty}"]},
                    "仓库同批次库存全部隔离待检")
            if not k.containment and row["severity_proposed"] == "A" and k.first_dispatch:
                k.step_time("containment", k.first_dispatch, at)
            k.containment = True
        if stage < STAGE[State.ROOT_CAUSE]:
            return
        invalid = rng.random() < 0.06
        if invalid:
            why = rng.choice(INVALID_REASONS)
            at = k.move("classify", "qa", "classify_invalid", State.DISPOSITION, why,
                        validity="invalid")
            row.update(validity="invalid", no_investigation_reason=why,
                       no_investigation_by_id=u["qa"])
            k.step_time("investigation", ack, at)
            self._dispose(k, target, invalid=True)
            return
        dept = rng.choice(["MFG"] * 8 + ["ENG", "MAT"])
        sev = row["severity_proposed"] or "C"
        if sev == "A" and not k.containment:
            sev = "B"
            row["severity_proposed"] = "B"
        cat = row["category"]
        at = k.move("classify", "qa", "classify_valid", State.ROOT_CAUSE, validity="valid",
                    severity=sev, responsible_department_id=self.refs.departments[dept])
        row.update(validity="valid", category=cat, severity=sev,
                   responsible_department_id=self.refs.departments[dept])
        k.step_time("investigation", ack, at)
        if stage < STAGE[State.CAPA_REVIEW]:
            if rng.random() < 0.5:
                self._analysis(k, submit=False)
            return
        self._analysis(k, submit=True)
        if rng.random() < 0.2:
            why = "原因分析未到根本原因，请补充为什么点检未覆盖。"
            k.move("send_back", "qa", "send_back", State.ROOT_CAUSE, why)
            row["sent_back_count"] = 1
            k.move("submit", "prod", "submit_analysis", State.CAPA_REVIEW, "已补充第 4、5 个为什么")
        if stage < STAGE[State.DISPOSITION]:
            return
        k.move("approve_capa", "qa", "approve_capa", State.DISPOSITION)
        self._dispose(k, target, invalid=False)

    def _analysis(self, k: _Case, submit: bool) -> None:
        rng, u, row = self.rng, self.refs.users, k.row
        at = k.tick("submit")
        six = rng.choice(list(demo.ROOT_CAUSES))
        row.update(prod_line=f"{rng.randint(1, 8)}号线", prod_shift=rng.choice(["白班", "夜班"]),
                   prod_machine=f"M-{rng.randint(10, 60)}", prod_operator=rng.choice(OPERATORS),
                   prod_date=(at - timedelta(days=rng.randint(10, 40))).date(),
                   prod_lot=f"P{at:%y%m}{rng.randint(10, 99)}",
                   root_cause_whys="\n".join(WHYS[: rng.randint(3, 5)]), root_cause_6m=six.value,
                   root_cause=demo.ROOT_CAUSES[six])
        k.event(u["prod"], "analysis_saved",
                {"root_cause_6m": [None, six.value], "root_cause": [None, row["root_cause"]]})
        for typ, desc in rng.sample(CAPA_TEXTS, rng.choice([2, 3, 3, 4])):
            owner = rng.choice([u["prod"], u["prod"], u["qa"]])
            k.capa.append(
                {
                    "complaint_id": k.cid,
                    "type": typ,
                    "description": desc,
                    "owner_id": owner,
                    "due_date": at.date() + timedelta(days=rng.choice([7, 14, 21, 30])),
                    "status": "open",
                    "evidence": "",
                    "done_at": None,
                }
            )
            k.event(u["prod"], "capa_added", {"capa": [None, desc]}, at=at)
        if submit:
            k.move("submit", "prod", "submit_analysis", State.CAPA_REVIEW)

    def _dispose(self, k: _Case, target: State, invalid: bool) -> None:
        rng, u, row, stage = self.rng, self.refs.users, k.row, STAGE[target]
        if stage < STAGE[State.PENDING_APPROVAL]:
            return
        if invalid:
            items = [("explanation", None, Decimal(0))]
        else:
            amount = row["claimed_amount"] or Decimal(rng.choice([0, 800, 1500, 6000, 8000, 26000]))
            qty = row["defective_qty"]
            items = (
                [("compensation", qty, amount)]
                if amount
                else [
                    (
                        rng.choice(["rework", "replacement", "return"]),
                        qty,
                        Decimal(rng.choice([300, 600, 1200, 2500])),
                    )
                ]
            )
            if rng.random() < 0.15:
                items.append(("explanation", None, Decimal(0)))
        k.tick("propose")
        dept = row["responsible_department_id"]
        for typ, qty, amount in items:
            k.dispositions.append(
                {
                    "complaint_id": k.cid,
                    "round": 0,
                    "type": typ,
                    "quantity": qty,
                    "amount": amount,
                    "note": "",
                    "done": False,
                    "done_qty": None,
                    "done_note": "",
                    "done_by_id": None,
                    "done_at": None,
                }
            )
            if amount:
                material = row["root_cause_6m"] == "material"
                self.rows.costs.append(
                    {
                        "complaint_id": k.cid,
                        "round": 0,
                        "category": "compensation" if typ == "compensation" else "rework_labour",
                        "amount": amount,
                        "department_id": dept,
                        "supplier": rng.choice(SUPPLIERS) if material else "",
                        "charge_back": (amount / 2).quantize(Decimal("0.01"))
                        if material
                        else Decimal(0),
                    }
                )
                if rng.random() < 0.4:
                    self.rows.costs.append(
                        {
                            "complaint_id": k.cid,
                            "round": 0,
                            "category": "freight",
                            "amount": Decimal(rng.choice([80, 150, 320])),
                            "department_id": dept,
                            "supplier": "",
                            "charge_back": Decimal(0),
                        }
                    )
        total = sum((a for _, _, a in items), Decimal(0))
        k.event(u["sales"], "dispositions_set", {"total": [None, str(total)]})
        position = "客户同意该方案"
        k.move("propose", "sales", "propose", State.PENDING_APPROVAL, position)
        row.update(customer_position=position, proposer_id=u["sales"])
        sev = k.severity()
        found = approvals.RuleSet(0, approvals.DEFAULT_RULES).rule_for(approvals.Proposal(
            total, frozenset(t for t, _, _ in items), sev.value if sev else None))
        titles = tuple(s.title for s in found[1].steps) if found else (Title.QA_MANAGER.value,)
        by_title: dict[str, str] = {
            Title.QA_MANAGER: "qamanager",
            Title.SALES_MANAGER: "manager",
            Title.GENERAL_MANAGER: "gm",
            Title.CHAIRMAN: "chairman",
        }
        signed = len(titles)
        if stage == STAGE[State.PENDING_APPROVAL]:
            signed = rng.randint(0, len(titles) - 1)
        for seq, title in enumerate(titles, 1):
            done = seq <= signed
            at = k.tick("approve") if done else None
            who = u[by_title[title]]
            self.rows.steps.append(
                {
                    "complaint_id": k.cid,
                    "round": 0,
                    "seq": seq,
                    "title": title,
                    "status": "approved" if done else "pending",
                    "decided_by_id": who if done else None,
                    "on_behalf_of_id": None,
                    "decided_at": at,
                    "comment": "同意" if done else "",
                }
            )
            if done:
                last = seq == len(titles)
                k.event(who, "approve_step",
                        {"state": ["pending_approval", "replying"]} if last else {}, "同意")
                if last:
                    row["state"] = State.REPLYING.value
        if stage < STAGE[State.IMPLEMENTING]:
            return
        cause = row["root_cause"] or row["no_investigation_reason"]
        at = k.tick("reply")
        method = rng.choice(["report_8d", "letter", "email"])
        to = State.FOLLOW_UP if invalid else State.IMPLEMENTING
        row.update(reply_date=at.astimezone(self.tz).date(), reply_method=method,
                   reply_text=REPLY_TEXT.format(cause=cause))
        k.event(u["sales"], "reply",
                {"state": ["replying", to.value], "reply_method": [None, method]})
        row["state"] = to.value
        if k.first_dispatch:
            k.step_time("reply", k.first_dispatch, at)
        if not invalid:
            if stage < STAGE[State.VERIFYING]:
                self._execute(k, partly=True)
                return
            self._execute(k, partly=False)
            k.move("complete", "prod", "complete", State.VERIFYING)
            if stage < STAGE[State.FOLLOW_UP]:
                return
            k.move("verify", "qa", "verify", State.FOLLOW_UP, "后续 3 批交货未再发生",
                   verified_effective=True)
            row["verified_effective"] = True
        if stage < STAGE[State.CLOSED]:
            return
        at = k.tick("follow_up")
        score = rng.choice([3, 4, 4, 5, 5, 5, 2, 4])
        sat = "satisfied" if score >= 4 else "partly" if score == 3 else "not_satisfied"
        if sat == "not_satisfied":
            sat, score = "partly", 3  # "not satisfied" would reopen the analysis
        row.update(followup_date=at.astimezone(self.tz).date(), followup_contact="客户品质部",
                   satisfaction_score=score, satisfaction=sat, closed_at=at,
                   followup_notes="客户确认改善有效",
                   lessons_learned="夹具易损件纳入点检与预防性更换" if rng.random() < 0.5 else "",
                   standard_doc="WI-QC-021" if rng.random() < 0.3 else "", state=State.CLOSED.value)
        k.event(u["sales"], "follow_up",
                {"state": ["follow_up", "closed"], "satisfaction_score": [None, str(score)]})

    def _execute(self, k: _Case, partly: bool) -> None:
        """CAPA actions done with evidence; dispositions carried out (paid, reworked...)."""
        rng, u = self.rng, self.refs.users
        for a in k.capa:
            if partly and rng.random() < 0.6:
                continue
            at = k.tick("approve")
            a.update(status="done", evidence="已完成，附点检记录与全检报告", done_at=at)
            k.event(a["owner_id"], "capa_done", {"capa": [a["description"], "done"]},
                    "已完成，附点检记录与全检报告")
        for d in k.dispositions:
            if d["type"] == "explanation":
                d.update(done=True, done_at=k.t)
                continue
            if partly and rng.random() < 0.5:
                continue
            who = u["finance"] if d["type"] == "compensation" else u["prod"]
            at = k.tick("approve")
            d.update(done=True, done_qty=d["quantity"], done_note="已执行", done_by_id=who,
                     done_at=at)
            k.event(who, "execution_recorded", {d["type"]: [None, str(d["amount"])]}, "已执行")

    def _long_history(self, k: _Case) -> None:
        """The Complaint page's worst case: a case with BIG_CASE_EVENTS events (edits, meetings)."""
        rng, u = self.rng, self.refs.users
        start, end = k.row["received_at"], k.t
        extra = BIG_CASE_EVENTS - len(k.events)
        for i in range(max(0, extra)):
            at = start + (end - start) * rng.random()
            if i % 5 == 0:
                self.rows.meetings.append(
                    {
                        "complaint_id": k.cid,
                        "date": at.astimezone(self.tz).date(),
                        "attendee_ids": json.dumps([u["sales"], u["qa"], u["prod"], u["gm"]]),
                        "decisions": f"第 {i // 5 + 1} 次专题会议：跟进客户现场挑选与返工进度。",
                        "by_id": u["qa"],
                        "at": at,
                    }
                )
                k.event(u["qa"], "meeting_recorded", {"meeting": [None, at.date().isoformat()]},
                        "跟进客户现场挑选与返工进度", at=at)
            else:
                k.event(u["sales"], "edited", {"lot": [f"L-{i}", f"L-{i + 1}"]}, "客户补充批号信息",
                        at=at)
        k.events.sort(key=lambda e: e.at)

    def _hold(self, k: _Case) -> None:
        """Some open cases wait for the customer: the clock pauses (docs/procedure.md §5)."""
        if k.row["state"] == "registered" or self.rng.random() >= 0.08:
            return
        # recently: the wait began within the last few weeks, whenever the step began
        k.t = at = max(k.t, self.now - timedelta(days=self.rng.uniform(0.2, 25)))
        why = self.rng.choice(HOLD_REASONS)
        k.row.update(on_hold_since=at, hold_reason=why)
        k.event(self.refs.users["qa"], "hold", {"on_hold_since": [None, at.isoformat()]}, why)

    def _finish(self, k: _Case) -> None:
        """Derived columns as the app keeps them; the rows into the batch."""
        row = k.row
        state = State(row["state"])
        if state.is_open:
            self._hold(k)
            case = CaseFile(
                self._domain(row),
                containment=[Containment(None, k.cid, ContainmentType.QUARANTINE, None, "", 0, k.t)]
                if k.containment
                else [],
            )
            first = sla.earliest(sla.due_times(case, k.events, self.cal, [], self.now))
            row.update(due_at=first.due if first else None, due_step=first.step if first else "")
        elif state == State.CLOSED:
            row["close_wd"] = pipeline.close_days(self.cal, self._domain(row)) or Decimal(0)
        last = k.events[-1]
        row.update(version=len(k.events), updated_at=max(e.at for e in k.events),
                   updated_by_id=last.user_id)
        self.states[row["state"]] = self.states.get(row["state"], 0) + 1
        self.rows.complaints.append(row)
        self.rows.capa.extend(k.capa)
        self.rows.dispositions.extend(k.dispositions)
        self.rows.events.extend(
            {
                "complaint_id": e.complaint_id,
                "at": e.at,
                "user_id": e.user_id,
                "action": e.action,
                "changes": _j(e.changes),
                "comment": e.comment,
            }
            for e in k.events
        )
        self.events += len(k.events)
        self._facts(k)

    def _facts(self, k: _Case) -> None:
        """The case's Stats parts from the rows just made (db/rollups.py `parts`, as the
        rebuild would read them back): its fact row, and its share of the rollups."""
        costs, steps, times = k.marks
        f = rollups.CaseFacts(SimpleNamespace(**k.row))
        f.approvals = [e.at for e in k.events if e.action == "approve_capa"]
        f.costs = [(c["amount"].quantize(CENT), c["charge_back"].quantize(CENT), c["round"],
                    c["department_id"]) for c in self.rows.costs[costs:]]  # as numeric(…, 2)
        for step in self.rows.steps[steps:]:
            f.step_status(step["round"], step["status"])
        f.steps = [(t["step"], bool(t["on_time"]), t["done_at"])
                   for t in self.rows.step_times[times:]]
        p = rollups.parts(f, self.tz)
        self.rows.facts.append({"complaint_id": k.cid, "parts": rollups.encode(p)})
        rollups.add_parts(self.sums, p)


def _times(rng: random.Random, n: int, now: datetime, tz: Any,
           years: float = YEARS) -> list[datetime]:
    """n receipt times over `years` years ending now, growing ~60% over the span, in office
    hours (a few in the evening)."""
    span = years * 365.25
    out: list[datetime] = []
    while len(out) < n:
        x = rng.random()
        if rng.random() * 1.6 > 1 + 0.6 * x:
            continue
        day = (now - timedelta(days=span * (1 - x))).astimezone(tz).date()
        minute = (
            rng.randint(8 * 60 + 30, 17 * 60 + 29)
            if rng.random() < 0.95
            else rng.randint(18 * 60, 21 * 60)
        )
        at = datetime(day.year, day.month, day.day, minute // 60, minute % 60, rng.randint(0, 59),
                      tzinfo=tz).astimezone(timezone.utc)
        if at < now - timedelta(minutes=30):
            out.append(at)
    return sorted(out)


def _refs(app: Context, engine: Engine) -> _Refs:
    users = {u.username: u.id for u in uc.accounts.list_active_users(app)}
    refs = _Refs(
        users=users,
        customers=[(c.id, c.name, c.market.value) for c in uc.reference.customers(app)],
        products=[(p.code, p.name) for p in uc.reference.products(app)],
        defects=[(d.id, d.code, d.name_zh, d.name_en) for d in uc.reference.defect_types(app)],
        departments={d.code: d.id for d in uc.reference.departments(app, True)},
        blobs={
            "png": (app.blobs.put(PNG), len(PNG)),
            "jpg": (app.blobs.put(JPG), len(JPG)),
            "pdf": (app.blobs.put(PDF), len(PDF)),
        },
    )
    missing = {name for name, *_ in demo.USERS} - set(users)
    if missing:
        raise SystemExit(f"synth: demo users missing: {', '.join(sorted(missing))}")
    return refs


def open_chance(age_days: float) -> float:
    """OPEN_CHANCE: the chance that a complaint this many days old is still open."""
    return next(p for limit, p in OPEN_CHANCE if age_days < limit)


def open_factor(times: list[datetime], now: datetime, open_share: float | None) -> float:
    """How much OPEN_CHANCE is scaled so that about `open_share` of the cases received at
    `times` are open (the young ones most likely, as before); None: 1, OPEN_CHANCE as is."""
    if open_share is None or not times:
        return 1.0
    legacy = sum(open_chance((now - t).total_seconds() / 86400) for t in times) / len(times)
    return open_share / legacy if legacy else 0.0


@dataclass
class _Job:
    """What every chunk of the cases is made from (inherited by forked workers)."""

    gen: _Generator
    engine: Engine
    seed: int
    times: list[datetime]
    chunks: list[tuple[int, int, dict[str, int]]]  # start, end, each month's last serial before
    big: int
    progress: Callable[[int], object] | None = None


@dataclass
class _Made:
    """One chunk's share of synth's counts."""

    states: dict[str, int]
    events: int
    counts: dict[str, int]
    sums: rollups.Parts


_JOB: _Job | None = None  # set before the workers fork


def _fresh(gen: _Generator, rng: random.Random) -> _Generator:
    """A generator for one chunk: the same rules and references, its own random stream, rows
    and counts."""
    out = _Generator.__new__(_Generator)
    out.__dict__.update(gen.__dict__)
    out.rng, out.rows, out.states, out.events, out.sums = rng, _Rows(), {}, 0, {}
    return out


def _chunk(index: int) -> _Made:
    """Make and write chunk `index` of the cases in one transaction. The first chunk goes on
    with the seed's stream (after the receipt times), every later one has its own seeded
    stream: the data are the same however many processes make the chunks."""
    job = _JOB
    assert job is not None
    rng = job.gen.rng if index == 0 else random.Random(f"{job.seed}/{index}")
    gen = _fresh(job.gen, rng)
    start, end, last = job.chunks[index]
    counters = dict(last)
    counts: dict[str, int] = {}
    with job.engine.begin() as conn:
        for a in range(start, end, BATCH_CASES):
            b = min(end, a + BATCH_CASES)
            for i in range(a, b):
                period = period_of(job.times[i], gen.tz)
                counters[period] = counters.get(period, 0) + 1
                gen.case(i + 1, format_number(period, counters[period]), job.times[i],
                         big=(i == job.big))
            gen.rows.flush(conn, counts)
            if job.progress:
                job.progress(b - a)
    return _Made(gen.states, gen.events, counts, gen.sums)


def _forked() -> None:
    """A worker's start: its own connections, never the parent's (SQLAlchemy's advice for
    fork)."""
    assert _JOB is not None
    _JOB.engine.dispose(close=False)


def synth(app: Context, cases: int, seed: int = 1, progress: Callable[[int], object] | None = None,
          years: float = YEARS, open_share: float | None = None, workers: int = 1,
          chunk: int = CHUNK_CASES) -> dict[str, Any]:
    """Fill an empty migrated database with `cases` synthetic complaints received over the
    `years` ending today; returns counts. `open_share`: about that share of them open (e.g.
    OPEN_SHARE, a big plant's); None leaves OPEN_CHANCE as it is (~5 % open over six years,
    every state reached with a few hundred cases over three months). `workers` processes
    make the chunks of `chunk` cases side by side on PostgreSQL (SQLite has one writer: one
    process there); the data depend on the seed and the chunk size only."""
    global _JOB
    if not isinstance(app.uow, SqlUowFactory):
        raise TypeError("synth writes to a SQL database")
    engine = app.uow.engine
    with engine.connect() as conn:
        if conn.scalar(select(func.count()).select_from(ComplaintRow)):
            raise SystemExit("synth: the database already has complaints; use an empty one")
    real_clock = app.clock
    at: list[datetime] = []
    steered = replace(app, clock=lambda: at[-1] if at else real_clock())
    demo.load(steered, at.append, cases=0)  # departments, users, customers, products, defects
    refs = _refs(app, engine)
    now = real_clock()
    rng = random.Random(seed)
    gen = _Generator(app, refs, uc.context.calendar(app), rng, now)
    tz = gen.tz
    times = _times(rng, cases, now, tz, years)
    gen.open_factor = open_factor(times, now, open_share)
    # the long-history case: an open case from about two months ago
    big = max(
        0,
        min(cases - 1,
            next((i for i, t in enumerate(times) if t > now - timedelta(days=60)), cases - 1)),
    )
    # numbers KS+YYMM-NNN by the local month, in order of receipt: each chunk starts from
    # the serials before it
    chunks: list[tuple[int, int, dict[str, int]]] = []
    counters: dict[str, int] = {}
    for start in range(0, cases, chunk):
        end = min(cases, start + chunk)
        chunks.append((start, end, dict(counters)))
        for i in range(start, end):
            period = period_of(times[i], tz)
            counters[period] = counters.get(period, 0) + 1
    pg = engine.dialect.name == "postgresql"
    workers = max(1, min(workers if pg else 1, len(chunks)))
    _JOB = _Job(gen, engine, seed, times, chunks, big, progress if workers == 1 else None)
    made: list[_Made] = []
    if pg:  # the trigram index is made once, after the rows (also when synth fails)
        with engine.begin() as conn:
            conn.execute(text(f"DROP INDEX IF EXISTS {search.TRGM_INDEX}"))
    try:
        if workers == 1:
            made = [_chunk(i) for i in range(len(chunks))]
        else:
            engine.dispose()  # no pooled connection crosses the fork
            with multiprocessing.get_context("fork").Pool(workers, _forked) as pool:
                for i, one in enumerate(pool.imap(_chunk, range(len(chunks)))):
                    made.append(one)
                    if progress:
                        progress(chunks[i][1] - chunks[i][0])
    finally:
        _JOB = None
        if pg:
            with engine.begin() as conn:
                search.upgrade(conn)  # over all the rows at once
    counts: dict[str, int] = {}
    states: dict[str, int] = {}
    sums: rollups.Parts = {}
    for one in made:
        for name, n in one.counts.items():
            counts[name] = counts.get(name, 0) + n
        for state, n in one.states.items():
            states[state] = states.get(state, 0) + n
        rollups.add_parts(sums, one.sums)
    counts.pop("facts", None)
    with engine.begin() as conn:
        conn.execute(
            insert(NumberCounterRow.__table__),  # type: ignore[arg-type]
            [{"period": p, "last_serial": n} for p, n in counters.items()],
        )
        if engine.dialect.name == "postgresql":  # ids were given explicitly
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('complaints', 'id'), "
                    "(SELECT max(id) FROM complaints))"
                )
            )
        # the Stats rollups: the chunks wrote each case's facts and summed their parts
        # (db/rollups.py `parts`, what `rollups.rebuild` would read back)
        conn.execute(delete(rollups.R))
        rollups.write_sums(conn, sums, rollups.configured_zone(conn))
        rollups.rebuild_recurrences(conn)
        if not pg:
            conn.exec_driver_sql("ANALYZE")  # fresh statistics for the query planner
    if pg:
        # VACUUM (ANALYZE), outside a transaction: the statistics, and the visibility map
        # that lets the indexes answer alone (index-only scans: a search's count at a
        # million cases read 10,000 table rows without it) — what autovacuum would do some
        # time after a bulk load. This schema's tables only (a bare VACUUM also takes the
        # system catalogs, and two syntheses at once — tests in their own schemas —
        # deadlocked on them)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            names = list(conn.scalars(text("SELECT tablename FROM pg_tables "
                                           "WHERE schemaname = current_schema()")))
            for name in names:
                conn.exec_driver_sql(
                    f"VACUUM (ANALYZE) {conn.dialect.identifier_preparer.quote(name)}")
    if engine.dialect.name == "sqlite":  # fold the write-ahead log into the file
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return {
        "cases": cases,
        "states": dict(sorted(states.items())),
        "events": sum(one.events for one in made),
        "big_case": big + 1,
        **counts,
    }


def database_size(engine: Engine) -> int:
    """Bytes the database takes: the SQLite file (+ WAL), or PostgreSQL's tables and indexes
    of the current schema."""
    if engine.dialect.name == "sqlite":
        from pathlib import Path

        db = Path(engine.url.database or "")
        return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
    with engine.connect() as conn:
        return int(
            conn.scalar(
                text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                )
            )
            or 0
        )
