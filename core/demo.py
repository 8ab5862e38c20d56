"""Demo data: a small factory's people, customers, products and ~150 complaints in Chinese.

Loaded through the same services a user calls, so every case has its events. Pure: takes a
Kesu whose clock it steers, so the timeline carries the dates of the story.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from core.model import (
    Category, Channel, Customer, DefectType, Department, Kind, Lang, Market, Product, Request,
    Role, Severity, Title, User, WhereFound,
)
from core.services import ComplaintDraft, Kesu, UserInput

PASSWORD = "kesu-demo"

DEPARTMENTS = [
    ("SALES", "营销部", "Sales"), ("QA", "品质保障部", "Quality assurance"),
    ("MFG", "制造部", "Manufacturing"), ("ENG", "工程部", "Engineering"),
    ("MAT", "物资中心", "Materials"), ("WH", "仓库", "Warehouse"), ("FIN", "财务部", "Finance"),
    ("GM", "总经理办公室", "General manager's office"),
]

# username, name, roles, department, approval level, title
USERS = [
    ("sales", "王丽（营销）", {Role.SALES}, "SALES", 0, Title.NONE),
    ("qa", "陈强（品管QE）", {Role.QA}, "QA", 0, Title.NONE),
    ("prod", "刘洋（制造部）", {Role.PRODUCTION}, "MFG", 0, Title.NONE),
    ("finance", "赵敏（财务）", {Role.FINANCE}, "FIN", 0, Title.NONE),
    ("qamanager", "孙涛（品管经理）", {Role.QA}, "QA", 1, Title.QA_MANAGER),
    ("manager", "周杰（营销经理）", {Role.MANAGEMENT}, "SALES", 1, Title.SALES_MANAGER),
    ("gm", "吴建国（总经理）", {Role.MANAGEMENT}, "GM", 2, Title.GENERAL_MANAGER),
    ("chairman", "郑卫东（董事长）", {Role.MANAGEMENT}, "GM", 3, Title.CHAIRMAN),
    ("admin", "系统管理员", {Role.ADMIN}, None, 0, Title.NONE),
]

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
    while True:
        d = now - timedelta(days=rng.random() * span)
        # office hours in China (UTC+8): 08:30–17:30 local = 00:30–09:30 UTC
        yield d.replace(hour=rng.randint(1, 9), minute=rng.randint(0, 59), second=0,
                        microsecond=0)


def load(app: Kesu, set_clock: Callable[[datetime], None], cases: int = 150,
         seed: int = 7, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Load the demo into an empty or already-demo'd database; returns counts."""
    rng = random.Random(seed)
    real_now = datetime.now(timezone.utc)
    set_clock(real_now - timedelta(days=200))
    admin = _admin(app)
    depts = {d.code: d.id for d in app.departments(True)}
    for code, zh, en in DEPARTMENTS:
        if code not in depts:
            depts[code] = app.save_reference(admin, Department(0, code, zh, en))
    existing = {u.username for u in app.list_users(admin)}
    users: dict[str, User] = {}
    for name, display, roles, dept, level, title in USERS:
        if name not in existing:
            app.create_user(admin, UserInput(name, display, frozenset(roles),
                                             depts.get(dept) if dept else None, level, title),
                            PASSWORD)
    for u in app.list_users(admin):
        users[u.username] = u
    have = {c.name for c in app.customers(True)}
    for name, market, lang, contact, phone in CUSTOMERS:
        if name not in have:
            app.save_reference(admin, Customer(0, name, market, lang, contact, phone))
    have = {p.code for p in app.products(True)}
    for code, name in PRODUCTS:
        if code not in have:
            app.save_reference(admin, Product(0, code, name))
    have = {d.code for d in app.defect_types(True)}
    for code, zh, en in DEFECTS:
        if code not in have:
            app.save_reference(admin, DefectType(0, code, zh, en))
    customers, products = app.customers(), app.products()
    defects = app.defect_types()
    loggers = [users["sales"], users["sales"], users["qa"], users["manager"]]
    times = sorted(t for t, _ in zip(_days_back(rng, real_now), range(cases)))
    made = cancelled = 0
    for i, at in enumerate(times):
        set_clock(at + timedelta(minutes=rng.randint(2, 40)))
        draft = _draft(rng, at, customers, products, defects)
        who = rng.choice(loggers)
        c = app.register_complaint(who, draft)
        made += 1
        if rng.random() < 0.06:
            set_clock(at + timedelta(hours=rng.randint(1, 30)))
            app.cancel_complaint(users["sales"], c.id or 0, c.version,
                                 rng.choice(["客户撤回投诉，确认为其仓库搬运损坏。",
                                             "重复登记，与前一单为同一问题。",
                                             "客户电话确认为误会，无需处理。"]))
            cancelled += 1
        if progress:
            progress(i + 1)
    set_clock(real_now)
    return {"complaints": made, "cancelled": cancelled, "users": len(users)}


def _admin(app: Kesu) -> User:
    """The admin account to load with: the existing first admin, or a new `admin`."""
    if app.needs_first_admin():
        return app.create_first_admin("admin", "系统管理员", PASSWORD)
    user = app.session_user("admin")
    if user is None or not user.is_admin:
        raise SystemExit("demo: needs an active user named 'admin' with the admin role")
    return user


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
