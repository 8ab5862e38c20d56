"""Demo data: a small factory's people, customers, products and ~150 complaints in Chinese.

Loaded through the same services a user calls, so every case has its events. Pure: takes a
Context whose clock it steers, so the timeline carries the dates of the story.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from core.usecases import presets
from core.usecases.approval import CostInput
from core.usecases.approval import DispositionInput
from core.model import (
    CapaType, CaseFile, Category, Channel, Complaint, ContainmentType, CostCategory, Customer, CustomField, DefectType, FieldType, DispositionType, Kind, Lang, Market, Product, ReplyMethod, Request, Satisfaction, Severity, SixM, State, StepStatus, User, Validity, WhereFound,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from core import usecases as uc

PASSWORD = "kesu-demo"

# The company's procedure comes from a preset (core/data/presets/<profile>.json: departments,
# titles, approval rules, execution chains, fields of its own, and the demo's people); the
# demo adds customers, products, defect types and complaints walked through the procedure.
PROFILE = presets.DEFAULT
# the default profile's people: (username, name, roles, department code, titles held)
USERS = [(u.username, u.name, set(u.roles), u.department, tuple(sorted(u.titles)))
         for u in presets.read(PROFILE).users]

CUSTOMERS = [
    ("华东电器有限公司", Market.DOMESTIC, Lang.ZH, "李经理", "021-5566 7788"),
    ("深圳市宏达电子科技有限公司", Market.DOMESTIC, Lang.ZH, "张工", "0755-8899 0011"),
    ("苏州恒信精密机械有限公司", Market.DOMESTIC, Lang.ZH, "钱主管", "0512-6677 1234"),
    ("宁波海天家居用品有限公司", Market.DOMESTIC, Lang.ZH, "何小姐", "0574-8765 4321"),
    ("成都蜀光照明有限公司", Market.DOMESTIC, Lang.ZH, "杨总", "028-8123 4567"),
    ("青岛北洋汽车配件有限公司", Market.DOMESTIC, Lang.ZH, "于经理", "0532-8501 2233"),
    ("Nordlicht Haustechnik GmbH", Market.OVERSEAS, Lang.EN, "Mr. Klaus Berger", "+49 40 1234567"),
    ("Pacific Home Supply Inc.", Market.OVERSEAS, Lang.EN, "Ms. Linda Moore", "+1 503 555 0142"),
    ("Saigon Electric Co., Ltd.", Market.OVERSEAS, Lang.EN, "Mr. Nguyen Van An", "+84 28 3822 1100"),
    ("Tokyo Precision Trading K.K.", Market.OVERSEAS, Lang.EN, "Mr. Sato", "+81 3 5555 0101"),
]

PRODUCTS = [
    ("HD-2040", "不锈钢电热水壶 1.7L"), ("HD-3100", "智能电饭煲 4L"),
    ("LX-220", "LED 面板灯 600×600"), ("LX-305", "LED 筒灯 12W"),
    ("PC-118", "PCB 控制板 V3"), ("PC-126", "电源适配器 12V/2A"),
    ("MJ-501", "注塑外壳（黑）"), ("MJ-502", "注塑外壳（白）"),
    ("GJ-880", "精密轴承座"), ("GJ-905", "铝合金散热器"),
]
# the English names English reply letters use (Admin → Products, issue #13)
PRODUCTS_EN = {
    "HD-2040": "Stainless steel electric kettle 1.7 L", "HD-3100": "Smart rice cooker 4 L",
    "LX-220": "LED panel light 600×600", "LX-305": "LED downlight 12 W",
    "PC-118": "PCB control board V3", "PC-126": "Power adapter 12 V / 2 A",
    "MJ-501": "Injection-moulded housing (black)", "MJ-502": "Injection-moulded housing (white)",
    "GJ-880": "Precision bearing housing", "GJ-905": "Aluminium heat sink",
}

DEFECTS = [
    ("SCRATCH", "外观划伤", "Scratch / cosmetic damage"), ("CRACK", "开裂", "Crack"),
    ("DIM", "尺寸超差", "Out of dimension"), ("FUNC", "功能失效", "Functional failure"),
    ("SOLDER", "焊接不良", "Poor soldering"), ("LEAK", "漏水", "Leakage"),
    ("LABEL", "标签/包装错误", "Wrong label or packaging"), ("MIXED", "混料", "Mixed parts"),
    ("SHORT", "少数/短装", "Short shipment"), ("ELEC", "电气安全不合格", "Electrical safety failure"),
]

STORIES = [
    ("客户来电反映{p}在来料检验时发现{d}，抽检 {n} 件中 {k} 件不良，要求我司尽快给出处理方案。", WhereFound.INCOMING),
    ("客户生产线上装配时发现{p}{d}，已影响其生产进度，要求派人到现场确认并挑选。", WhereFound.PRODUCTION),
    ("终端用户投诉{p}使用约两周后出现{d}，客户要求提供 8D 报告。", WhereFound.END_USER),
    ("客户验货时发现本批{p}存在{d}，已拒收整批货物，要求返工后重新验货。", WhereFound.INCOMING),
    ("客户邮件反馈：{p}{d}，附照片 3 张，要求赔偿返工费用并补发不良品。", WhereFound.PRODUCTION),
]
NON_QUALITY = [
    "客户反映本月第二批货物比约定交期晚了 5 天，影响其上线计划。",
    "随货单据（装箱单、出货检验报告）缺失，客户无法办理入库。",
    "业务员报价与合同单价不一致，客户要求更正发票。",
]
SUGGESTIONS = [
    "客户建议将包装纸箱改为五层瓦楞纸，以减少运输破损。",
    "客户建议在产品标签上增加生产批号的二维码，便于追溯。",
]
INQUIRIES = [
    "客户咨询该型号产品是否符合最新 RoHS 要求，需要提供检测报告。",
    "Customer asks whether the product can be supplied with a UK plug version.",
]


def _days_back(rng: random.Random, now: datetime, span: int = 182) -> Iterator[datetime]:
    """Office-hour moments on whole days before `now`'s date, at least one day back.

    Whole days, not `now - random days`: the story (how far each case goes) must not depend on
    the hour the demo is loaded at, or a test of a state the demo "always has" passes at noon
    and fails after midnight.
    """
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    while True:
        d = today - timedelta(days=1 + int(rng.random() * span))
        # office hours in China (UTC+8): 08:30–17:30 local = 00:30–09:30 UTC
        yield d.replace(hour=rng.randint(1, 9), minute=rng.randint(0, 59))


def load(app: Context, set_clock: Callable[[datetime], None], cases: int = 150,
         seed: int = 7, progress: Callable[[int], object] | None = None,
         profile: str = PROFILE, now: datetime | None = None) -> dict[str, int]:
    """Load the demo of a profile (a preset) into an empty or already-demo'd database;
    returns counts. `now` (UTC, default the real time) is the story's present."""
    rng = random.Random(seed)
    real_now = now or datetime.now(timezone.utc)
    set_clock(real_now - timedelta(days=200))
    admin = _admin(app)
    preset = presets.read(profile)
    if not {d.code for d in preset.titles} <= {d.code for d in uc.authority.titles(app).defs}:
        uc.presets.apply(app, admin, preset)  # once: a second load keeps what an admin changed
    depts = {d.code: d.id for d in uc.reference.departments(app, True)}
    existing = {u.username for u in uc.accounts.list_users(app, admin)}
    users: dict[str, User] = {}
    for p in preset.users:
        if p.username not in existing:
            uc.accounts.create_user(app, admin, UserInput(
                p.username, p.name, p.roles, depts.get(p.department) if p.department else None,
                p.titles, display_name_en=p.name_en), PASSWORD)
    for u in uc.accounts.list_users(app, admin):
        users[u.username] = u
    have = {c.name for c in uc.reference.customers(app, True)}
    for name, market, lang, contact, phone in CUSTOMERS:
        if name not in have:
            uc.reference.save_reference(app, admin, Customer(0, name, market, lang, contact, phone))
    have = {p.code for p in uc.reference.products(app, True)}
    for code, name in PRODUCTS:
        if code not in have:
            uc.reference.save_reference(app, admin, Product(0, code, name, True,
                                                            PRODUCTS_EN.get(code, "")))
    have = {d.code for d in uc.reference.defect_types(app, True)}
    for code, zh, en in DEFECTS:
        if code not in have:
            uc.reference.save_reference(app, admin, DefectType(0, code, zh, en))
    customers, products = uc.reference.customers(app), uc.reference.products(app)
    own = uc.custom_fields.field_definitions(app)  # the profile's fields of its own
    defects = uc.reference.defect_types(app)
    loggers = [users["sales"], users["sales"], users["qa"], users["manager"]]
    times = sorted(t for t, _ in zip(_days_back(rng, real_now), range(cases), strict=False))
    made = cancelled = 0
    states: dict[str, int] = {}
    for i, at in enumerate(times):
        set_clock(at + timedelta(minutes=rng.randint(2, 40)))
        draft = _draft(rng, at, customers, products, defects)
        draft = replace(draft, custom=_custom(rng, own, draft.kind, at))
        who = rng.choice(loggers)
        c = uc.complaints.register_complaint(app, who, draft)
        made += 1
        age_days = (real_now.date() - at.date()).days  # whole days: see _days_back
        if rng.random() >= 0.06:
            reached = _advance(app, users, c.id or 0, _depth(rng, age_days), rng, at, real_now,
                               set_clock, users["prod"].department_id or 0)
            states[reached] = states.get(reached, 0) + 1
        else:
            set_clock(at + timedelta(hours=rng.randint(1, 30)))
            uc.complaints.cancel_complaint(app, users["sales"], c.id or 0, c.version,
                                           rng.choice(["客户撤回投诉，确认为其仓库搬运损坏。",
                                                       "重复登记，与前一单为同一问题。",
                                                       "客户电话确认为误会，无需处理。"]))
            cancelled += 1
        if progress:
            progress(i + 1)
    set_clock(real_now)
    # what the jobs would have sent while the story ran, dated then: the first start does not
    # send every overdue case's notice at once (issue #13)
    uc.channels.escalate_overdue(app, backdate=True)
    read_old_notices(app, list(users.values()), real_now - timedelta(days=READ_AFTER_DAYS),
                     real_now - timedelta(days=OVERDUE_READ_AFTER_DAYS))
    return {"complaints": made, "cancelled": cancelled, "users": len(users), **states}


READ_AFTER_DAYS = 30  # the demo's people have read their notices up to a month ago
OVERDUE_READ_AFTER_DAYS = 7  # … and the overdue reminders up to a week ago


def read_old_notices(app: Context, users: list[User], before: datetime,
                     overdue_before: datetime | None = None) -> None:
    """An inbox like one in use: what came before `before` (an overdue reminder: before
    `overdue_before`) has been read, the last days' notices are new (issue #13: 180 unread
    notices after the demo, and people stop reading)."""
    for u in users:
        old = [n.id for n in uc.notices.inbox(app, u, limit=1_000_000) if n.created_at < before
               or (overdue_before is not None and n.kind == "overdue"
                   and n.created_at < overdue_before)]
        if old:
            uc.notices.mark_read(app, u, old)


def _admin(app: Context) -> User:
    """The admin account to load with: the existing first admin, or a new `admin`."""
    if uc.accounts.needs_first_admin(app):
        return uc.accounts.create_first_admin(app, "admin", "系统管理员", PASSWORD)
    user = uc.accounts.active_user(app, "admin")
    if user is None or not user.is_admin:
        raise SystemExit("demo: needs an active user named 'admin' with the admin role")
    return user


def _custom(rng: random.Random, fields: list[CustomField], kind: Kind | None,
            at: datetime) -> tuple[tuple[str, str], ...]:
    """A value for each field of the company's own, by its type (whatever the profile)."""
    out: list[tuple[str, str]] = []
    for f in fields:
        if f.kind is not None and f.kind != kind:
            continue
        if f.type == FieldType.CHOICE and f.options:
            value = rng.choice(f.options).key
        elif f.type == FieldType.NUMBER:
            value = str(rng.choice([120, 800, 1500, 4200, 9600]))
        elif f.type == FieldType.DATE:
            value = (at - timedelta(days=rng.randint(3, 40))).date().isoformat()
        elif f.type == FieldType.YES_NO:
            value = "true" if rng.random() < 0.1 else "false"
        else:
            value = f"{f.key[:2].upper()}-{at:%y%m}-{rng.randint(100, 999)}"
        out.append((f.key, value))
    return tuple(out)


def _draft(rng: random.Random, at: datetime, customers: list[Customer],
           products: list[Product], defects: list[DefectType]) -> ComplaintDraft:
    cust = rng.choice(customers)
    roll = rng.random()
    base = ComplaintDraft(customer_id=cust.id, kind=Kind.COMPLAINT,
                          channel=rng.choice([Channel.PHONE, Channel.PHONE, Channel.EMAIL,
                                              Channel.INSPECTION, Channel.VISIT, Channel.FAX]),
                          description="", received_at=at)
    if roll < 0.08:
        return replace(base, kind=Kind.SUGGESTION, category=Category.NON_QUALITY,
                       channel=Channel.SUGGESTION_BOX if rng.random() < .5 else Channel.EMAIL,
                       description=rng.choice(SUGGESTIONS), severity_proposed=Severity.D)
    if roll < 0.13:
        return replace(base, kind=Kind.INQUIRY, category=Category.NON_QUALITY,
                       description=rng.choice(INQUIRIES), request=Request.EXPLANATION)
    if roll < 0.22:
        return replace(base, category=Category.NON_QUALITY, description=rng.choice(NON_QUALITY),
                       order_no=f"SO{at:%y%m}{rng.randint(100, 999)}",
                       severity_proposed=Severity.C, request=Request.EXPLANATION)
    prod = rng.choice(products)
    defect = rng.choice(defects)
    delivered = rng.choice([200, 500, 1000, 2000, 5000, 12000])
    bad = max(1, int(delivered * rng.choice([0.002, 0.01, 0.03, 0.08, 0.2])))
    story, where = rng.choice(STORIES)
    sample = rng.random() < .5
    request = rng.choice([Request.COMPENSATION, Request.REWORK, Request.REPLACEMENT,
                          Request.RETURN, Request.EXPLANATION])
    amount = (Decimal(rng.choice([800, 1500, 3200, 6000, 8000, 12500, 26000]))
              if request == Request.COMPENSATION else None)
    severity = (Severity.A if defect.code == "ELEC" or (amount or 0) >= 10000
                else Severity.B if (amount or 0) >= 5000 or bad > 100 else Severity.C)
    if cust.market == Market.OVERSEAS and rng.random() < 0.5:
        text = (f"Customer reports {defect.name_en.lower()} on {prod.code} ({bad} of {delivered} "
                f"pcs). Photos attached; they request {request.value}.")
    else:
        text = story.format(p=f"{prod.code} {prod.name}", d=defect.name_zh, n=delivered, k=bad)
    return replace(base, description=text, product_code=prod.code, product_name=prod.name,
                   order_no=f"SO{at:%y%m}{rng.randint(100, 999)}",
                   lot=f"L{at:%y%m%d}-{rng.randint(1, 9):02d}", delivered_qty=delivered,
                   delivery_date=(at - timedelta(days=rng.randint(3, 40))).date(),
                   defective_qty=bad, defect_type_id=defect.id, where_found=where,
                   request=request, claimed_amount=amount, severity_proposed=severity,
                   customer_ref=f"QN-{rng.randint(10000, 99999)}" if rng.random() < .4 else "",
                   sample_received=sample, sample_date=at.date() if sample else None)


STEPS = 14  # how far _advance can take a complaint


def _depth(rng: random.Random, age_days: float) -> int:
    """Older cases are further along; a few of every age stay early, so every state shows."""
    if age_days > 45:
        return STEPS if rng.random() < 0.92 else rng.choice([11, 12, 13])
    if age_days > 12:
        return rng.randint(7, STEPS)
    return rng.randint(0, 10)


@dataclass
class _Walk:
    """One demo case on its way through the procedure: who acts, and the demo clock."""

    app: Context
    users: dict[str, User]
    cid: int
    rng: random.Random
    at: datetime
    real_now: datetime
    set_clock: Callable[[datetime], None]

    def tick(self, hours: float) -> None:
        self.at = min(self.at + timedelta(hours=hours), self.real_now - timedelta(minutes=5))
        self.set_clock(self.at)

    def case(self) -> CaseFile:
        return uc.complaints.case_file(self.app, self.users["admin"], self.cid)

    def v(self) -> int:
        return self.case().complaint.version

    def state(self) -> str:
        return self.case().complaint.state.value


def _advance(app: Context, users: dict[str, User], cid: int, depth: int, rng: random.Random,
             start: datetime, real_now: datetime, set_clock: Callable[[datetime], None],
             mfg: int) -> str:
    """Walk one case through the procedure, each step by the right demo user, up to `depth`."""
    w = _Walk(app, users, cid, rng, start, real_now, set_clock)
    c = w.case().complaint
    if depth <= 0:
        return c.state.value
    w.tick(rng.uniform(0.3, 3))
    if c.kind != Kind.COMPLAINT:
        return _short_path(w, depth)
    for stretch in (_to_investigation, _to_analysis, _to_disposition, _to_closure):
        stopped = stretch(w, c, depth, mfg)
        if stopped is not None:
            return stopped
    return w.state()


def _short_path(w: _Walk, depth: int) -> str:
    """A suggestion or an inquiry: routed straight to the reply."""
    sales = w.users["sales"]
    uc.investigation.route_short(w.app, sales, w.cid, w.v())
    if depth > 3:
        w.tick(w.rng.uniform(4, 60))
        uc.closure.reply(w.app, sales, w.cid, w.v(), w.at.date(), ReplyMethod.EMAIL,
                         "感谢您的宝贵意见，我司已评估并将在下一批次采纳。")
    return w.state()


def _to_investigation(w: _Walk, c: Complaint, depth: int, mfg: int) -> str | None:
    """Dispatch (approved first for an A), acknowledge, containment, classification."""
    app, cid, rng, qa = w.app, w.cid, w.rng, w.users["qa"]
    if c.severity_proposed == Severity.A:
        uc.investigation.approve_dispatch(app, w.users["gm"], cid, w.v(), "重大客诉，同意发单")
    uc.investigation.dispatch(app, w.users["sales"], cid, w.v())
    if depth <= 1:
        return "dispatched"
    w.tick(rng.uniform(0.5, 6))
    uc.investigation.acknowledge(app, qa, cid, w.v())
    if depth <= 2:
        return "investigating"
    w.tick(rng.uniform(2, 24))
    if c.severity_proposed in (Severity.A, Severity.B) or rng.random() < .3:
        uc.investigation.add_containment(app, qa, cid, ContainmentType.QUARANTINE,
                                         rng.choice([200, 500, 1200]), "仓库同批次库存全部隔离待检")
    if rng.random() < .08:
        uc.investigation.classify(app, qa, cid, w.v(), Validity.INVALID,
                                  reason="经现场确认为客户储存不当（受潮）所致，非我司质量问题。")
        if depth > 6:
            _dispose(app, w.users, cid, w.v, w.tick,
                     [DispositionInput(DispositionType.EXPLANATION, None, "0")], rng)
        return w.state()
    sev = c.severity_proposed or Severity.C
    uc.investigation.classify(app, qa, cid, w.v(), Validity.VALID, c.category, sev, mfg)
    return "root_cause" if depth <= 3 else None


def _to_analysis(w: _Walk, c: Complaint, depth: int, mfg: int) -> str | None:
    """Production's facts, 5 Why and CAPA plan; QA sends it back once in a while, then approves."""
    app, cid, rng, qa, prod = w.app, w.cid, w.rng, w.users["qa"], w.users["prod"]
    w.tick(rng.uniform(8, 48))
    six = rng.choice(list(SixM))
    uc.investigation.save_analysis(
        app, prod, cid, w.v(), prod_line=f"{rng.randint(1, 6)}号线",
        prod_shift=rng.choice(["白班", "夜班"]), prod_machine=f"M-{rng.randint(10, 40)}",
        prod_operator=rng.choice(["张伟", "李娜", "王磊", "刘芳"]),
        prod_date=(w.at - timedelta(days=rng.randint(10, 40))).date(),
        prod_lot=f"P{w.at:%y%m}{rng.randint(10, 99)}",
        whys=["为什么出现不良？作业中夹具定位偏移", "为什么偏移？定位销磨损",
              "为什么磨损未发现？点检表未包含该项"],
        six_m=six, root_cause=ROOT_CAUSES[six])
    uc.investigation.add_capa(app, prod, cid, CapaType.CORRECTIVE, "更换定位销并对在库品全检",
                              prod.id, w.at.date() + timedelta(days=7))
    uc.investigation.add_capa(app, prod, cid, CapaType.PREVENTIVE,
                              "点检表增加定位销磨损检查项，每班点检", prod.id,
                              w.at.date() + timedelta(days=14))
    uc.investigation.submit_analysis(app, prod, cid, w.v())
    if depth <= 4:
        return "capa_review"
    w.tick(rng.uniform(2, 24))
    if rng.random() < .25:
        uc.investigation.send_back(app, qa, cid, w.v(),
                                   "原因分析未到根本原因，请补充为什么点检未覆盖。")
        if depth <= 5:
            return "root_cause"
        w.tick(rng.uniform(4, 24))
        uc.investigation.submit_analysis(app, prod, cid, w.v(), "已补充第 4、5 个为什么")
        w.tick(rng.uniform(2, 12))
    uc.investigation.approve_capa(app, qa, cid, w.v())
    # QA's summary for the customer, in the customer's language: the reply letter quotes it
    # (issue #13: without it a closed case's letter said the investigation was still going on)
    zh, en = CUSTOMER_SUMMARIES[six]
    english = next((x.language == Lang.EN for x in uc.reference.customers(app, True)
                    if x.id == c.customer_id), False)
    uc.documents.set_customer_summary(app, qa, cid, w.v(), en if english else zh)
    return "disposition" if depth <= 6 else None


def _to_disposition(w: _Walk, c: Complaint, depth: int, mfg: int) -> str | None:
    """Compensation (or rework when nothing was claimed), approved by the matrix, replied."""
    rng = w.rng
    amount = c.claimed_amount or Decimal(rng.choice([0, 800, 1500, 6000, 8000, 26000]))
    items = ([DispositionInput(DispositionType.COMPENSATION, c.defective_qty, amount)]
             if amount else [DispositionInput(DispositionType.REWORK, c.defective_qty, "600")])
    if not _dispose(w.app, w.users, w.cid, w.v, w.tick, items, rng, depth):
        return w.state()
    if depth <= 9:
        return "replying"
    w.tick(rng.uniform(4, 48))
    uc.closure.reply(w.app, w.users["sales"], w.cid, w.v(), w.at.date(),
                     rng.choice([ReplyMethod.REPORT_8D, ReplyMethod.LETTER]),
                     "经调查，不良原因为夹具定位销磨损。我司已更换定位销并加强点检，在库品已全检。"
                     "随函附 8D 报告，敬请查收。")
    return "implementing" if depth <= 10 else None


def _to_closure(w: _Walk, c: Complaint, depth: int, mfg: int) -> str | None:
    """Execution, verification, the follow-up visit; now and then the issue comes back."""
    app, cid, rng, users = w.app, w.cid, w.rng, w.users
    prod, qa, sales = users["prod"], users["qa"], users["sales"]
    w.tick(rng.uniform(24, 120))
    for a in w.case().capa:
        uc.investigation.complete_capa(app, prod, a.id or 0, "已完成，附点检记录与全检报告")
    for d in w.case().current(w.case().dispositions):
        who = users["finance"] if d.type == DispositionType.COMPENSATION else prod
        uc.closure.record_execution(app, who, d.id or 0, d.quantity, "已执行")
    uc.closure.complete(app, prod, cid, w.v())
    if depth <= 11:
        return "verifying"
    w.tick(rng.uniform(24, 200))
    uc.closure.verify(app, qa, cid, w.v(), True, "后续 3 批交货未再发生")
    if depth <= 12:
        return "follow_up"
    w.tick(rng.uniform(4, 72))
    score = rng.choice([3, 4, 4, 5, 5, 5, 2])
    sat = (Satisfaction.SATISFIED if score >= 4 else Satisfaction.PARTLY if score == 3
           else Satisfaction.NOT_SATISFIED)
    uc.closure.follow_up(app, sales, cid, w.v(), day=w.at.date(), contact="客户品质部",
                         score=score, satisfaction=sat,
                         notes="客户确认改善有效" if score >= 3 else "客户仍有顾虑",
                         lessons="夹具易损件纳入点检与预防性更换" if score >= 3 else "",
                         standard_doc="WI-QC-021" if rng.random() < .3 else "")
    if w.case().complaint.state == State.CLOSED and rng.random() < .05:
        w.tick(rng.uniform(24, 200))
        uc.closure.reopen(app, qa, cid, w.v(), "同一问题在客户端再次发生")
    return None


ROOT_CAUSES = {
    SixM.MAN: "新员工未按作业指导书操作，培训不到位。",
    SixM.MACHINE: "夹具定位销磨损导致定位偏移，设备点检未覆盖该项。",
    SixM.MATERIAL: "供应商来料批次尺寸偏差，来料检验抽样不足。",
    SixM.METHOD: "作业指导书未规定包装方式，运输中相互摩擦。",
    SixM.ENVIRONMENT: "车间湿度超标，未启用除湿设备。",
    SixM.MEASUREMENT: "检具未按期校准，测量误差导致漏检。",
}

# what QA tells the customer of each root cause (the internal wording never goes out)
CUSTOMER_SUMMARIES = {
    SixM.MAN: ("经调查，不良原因为作业人员未按作业指导书操作。我司已对相关人员重新培训并考核，"
               "并加强首件检验。",
               "Our investigation found that the operator did not follow the work instruction. "
               "The operators have been retrained and assessed, and first-article inspection "
               "has been tightened."),
    SixM.MACHINE: ("经调查，不良原因为工装夹具定位销磨损导致定位偏移。我司已更换定位销并纳入"
                   "设备日常点检，在库品已全数检验。",
                   "Our investigation found that a worn locating pin on the fixture shifted the "
                   "part. The pin has been replaced and added to the daily equipment check, and "
                   "all stock has been fully inspected."),
    SixM.MATERIAL: ("经调查，不良原因为供应商来料批次尺寸偏差。我司已要求供应商整改，"
                    "并加严来料检验。",
                    "Our investigation traced the defect to a supplier's batch of material out "
                    "of tolerance. The supplier has been asked to correct it, and our incoming "
                    "inspection has been tightened."),
    SixM.METHOD: ("经调查，不良原因为包装方式不当，运输中产品相互摩擦。我司已修订包装作业"
                  "指导书，增加隔板。",
                  "Our investigation found that the packing let the parts rub against each other "
                  "in transit. The packing instruction has been revised to add dividers."),
    SixM.ENVIRONMENT: ("经调查，不良原因为车间湿度超标。我司已启用除湿设备，并每日记录温湿度。",
                       "Our investigation found that the workshop's humidity was above its "
                       "limit. Dehumidifiers are now in use, and temperature and humidity are "
                       "recorded daily."),
    SixM.MEASUREMENT: ("经调查，不良原因为检具未按期校准导致漏检。我司已完成检具校准，"
                       "并建立校准到期提醒。",
                       "Our investigation found that a gauge past its calibration date let "
                       "defective parts through. The gauge has been recalibrated, and "
                       "calibration reminders are now in place."),
}


def _dispose(app: Context, users: dict[str, User], cid: int, v: Callable[[], int],
             tick: Callable[[float], None], items: list[DispositionInput],
             rng: random.Random, depth: int = STEPS) -> bool:
    """Sales proposes; the matrix's approvers sign. False when it stops on the way."""
    sales = users["sales"]
    tick(rng.uniform(2, 24))
    costs = [CostInput(CostCategory.COMPENSATION if i.type == DispositionType.COMPENSATION
                       else CostCategory.REWORK_LABOUR, i.amount, None)
             for i in items if i.amount not in (None, "0", Decimal(0))]
    uc.approval.set_dispositions(app, sales, cid, v(), items, costs)
    uc.approval.propose(app, sales, cid, v(), "客户同意该方案")
    if depth <= 7:
        return False
    while True:
        case = uc.complaints.case_file(app, users["admin"], cid)
        pending = [s for s in case.current(case.steps) if s.status == StepStatus.PENDING]
        if not pending:
            return True
        step = min(pending, key=lambda s: s.seq)
        if depth <= 8 and step.seq > 1:
            return False  # a multi-step approval waiting half-way
        tick(rng.uniform(1, 20))
        signer = next(u for u in users.values() if step.title in u.titles
                      and u.id != case.complaint.proposer_id)
        uc.approval.approve_step(app, signer, cid, v(), "同意")
