"""Importing an existing Excel register (客户投诉登记表, docs/procedure.md §10): column mapping,
the check of every row, and the import itself — nothing until the user confirms, all or nothing
by default.

The file is read in the UI layer (ui/importer.py, openpyxl in read-only mode) into a `Table` of
plain cell values; everything after that is here: guessing the mapping from the header row,
parsing the usual Excel forms of dates, quantities, amounts and severities, and a row-by-row
report of what is wrong (row numbers as Excel shows them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from core.errors import InvalidInput
from core.i18n import t
from core.model import (
    Category,
    Channel,
    Complaint,
    CustomField,
    FieldType,
    Kind,
    Severity,
    State,
    Value,
    stored,
)
from core.rules import complaint_fields, numbering
from core.rules import custom_fields as custom_rules
from core.rules.complaint_fields import MAX_SHORT, MAX_TEXT, ComplaintDraft


# Limits of what a file may hold (the reader stops at the first thing beyond them).
MAX_ROWS = 20_000
MAX_CELL = 10_000
MAX_COLUMNS = 200
MAX_NUMBER = 20  # the number column's width
# letters (Chinese too), digits, space and - / . _ ( ): a number is shown in titles and lists,
# and Markdown or HTML punctuation in it ([, !, *, <, #, `) has no business there
_NUMBER_CHARS = re.compile(r"[\w\-/.() ]+")
MAPPING_KEY = "import_mapping"  # setting: normalised header -> field, learnt from past imports
MAX_REMEMBERED = 500

# What reading one file may cost, whatever it holds (issue #11: a 0.18 MB xlsx with 20 million
# empty rows before its header once cost a minute of CPU and 1.8 GB). ReadBudget enforces them.
MAX_BLANK_BEFORE_HEADER = 50  # blank rows before the first filled row (title or header)
MAX_READ_CELLS = 2_000_000  # cells read, a blank row counting as one
MAX_XML_ELEMENTS = 10_000_000  # tags in a worksheet's XML (a cell is about four)
MAX_ROW_CELLS = 16_384  # cells in one row's XML (Excel's own column limit)
MAX_READ_SECONDS = 30.0
# The header row is looked for among this many non-blank rows at the top of the sheet: a
# register often has a title line (merged cells) and a department line above its header.
HEADER_LOOKAHEAD = 20


class ReadBudget:
    """Counts what the reader of an import file spends and refuses, with a translated message,
    at the first thing beyond a budget: blank rows before the first filled row, cells, XML
    elements, cells of one row, time (`clock`: seconds, monotonic)."""

    def __init__(self, clock: Callable[[], float], *,
                 blank_before_header: int = MAX_BLANK_BEFORE_HEADER,
                 cells: int = MAX_READ_CELLS, elements: int = MAX_XML_ELEMENTS,
                 row_cells: int = MAX_ROW_CELLS, seconds: float = MAX_READ_SECONDS) -> None:
        self.clock, self.started = clock, clock()
        self.max_blank, self.max_cells, self.max_elements = blank_before_header, cells, elements
        self.max_row_cells, self.seconds = row_cells, seconds
        self.blank = self.cells = self.elements = 0

    def row(self, width: int, blank: bool, header_found: bool) -> None:
        """One row as the reader yields it (`width`: cells, padding included; `header_found`:
        a filled row came before, a title line or the header)."""
        self.cells += max(1, width)
        if blank and not header_found:
            self.blank += 1
            if self.blank > self.max_blank:
                raise InvalidInput("imp.err.blank_before_header", n=self.max_blank)
        if self.cells > self.max_cells:
            raise InvalidInput("imp.err.too_many_cells", n=f"{self.max_cells:,}")
        self.check_time()

    def xml(self, elements: int, row_cells: int) -> None:
        """A chunk of a worksheet's XML: its tags, and the most cells one row has had so far."""
        self.elements += elements
        if self.elements > self.max_elements or row_cells > self.max_row_cells:
            raise InvalidInput("imp.err.too_many_cells", n=f"{self.max_cells:,}")
        self.check_time()

    def check_time(self) -> None:
        if self.clock() - self.started > self.seconds:
            raise InvalidInput("imp.err.too_slow", s=f"{self.seconds:.0f}")

Cell = str | int | float | Decimal | bool | date | datetime | time | None

# The fields a column can be mapped to, in the order the template and the mapping show them.
TARGETS: tuple[str, ...] = (
    "number",
    "received_at",
    "customer",
    "kind",
    "channel",
    "category",
    "customer_ref",
    "product_code",
    "product_name",
    "order_no",
    "lot",
    "delivered_qty",
    "delivery_date",
    "defective_qty",
    "defect_type",
    "description",
    "claimed_amount",
    "severity",
    "state",
    "closed_at",
    "responsible_department",
    "root_cause",
    "reply_text",
)
REQUIRED: tuple[str, ...] = ("received_at", "customer", "description")

# Header synonyms (compared after `_norm_header`): Chinese registers and English ones.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": (
        "投诉编号",
        "编号",
        "客诉编号",
        "投诉单号",
        "客诉单号",
        "no",
        "number",
        "complaintno",
        "complaintnumber",
        "caseno",
        "ref",
    ),
    "received_at": (
        "日期",
        "投诉日期",
        "登记日期",
        "受理日期",
        "接收日期",
        "反馈日期",
        "客诉日期",
        "received",
        "date",
        "receiveddate",
        "datereceived",
        "receivedat",
    ),
    "customer": ("客户", "客户名称", "客户名", "customer", "customername", "client"),
    "kind": ("类别", "投诉类别", "kind"),
    "channel": ("受理渠道", "渠道", "投诉方式", "反馈方式", "channel"),
    "category": ("性质", "异常性质", "category"),
    "customer_ref": ("客户单号", "客户编号", "客户参考号", "customerref", "customerreference"),
    "product_code": (
        "产品",
        "料号",
        "型号",
        "产品编号",
        "产品型号",
        "产品代码",
        "品号",
        "product",
        "productcode",
        "partno",
        "partnumber",
        "model",
        "item",
    ),
    "product_name": ("品名", "产品名称", "名称", "productname", "description of goods"),
    "order_no": ("订单号", "订单编号", "订单", "order", "orderno", "ordernumber", "po", "pono"),
    "lot": ("批号", "批次", "生产批号", "lot", "lotno", "batch", "batchno"),
    "delivered_qty": (
        "交货数量",
        "数量",
        "出货数量",
        "交付数量",
        "送货数量",
        "qty",
        "quantity",
        "deliveredqty",
        "deliveredquantity",
    ),
    "delivery_date": ("交货日期", "交运日期", "出货日期", "送货日期", "deliverydate", "shipdate"),
    "defective_qty": (
        "不良数量",
        "不良数",
        "不良品数量",
        "不合格数量",
        "defectiveqty",
        "defectivequantity",
        "ngqty",
        "rejectqty",
    ),
    "defect_type": (
        "不良类型",
        "不良现象",
        "缺陷类型",
        "问题类型",
        "不良项目",
        "defect",
        "defecttype",
        "failuremode",
    ),
    "description": (
        "问题描述",
        "投诉内容",
        "客诉内容",
        "描述",
        "内容",
        "问题",
        "异常描述",
        "description",
        "problem",
        "issue",
        "complaint",
        "details",
    ),
    "claimed_amount": (
        "金额",
        "索赔金额",
        "赔偿金额",
        "索赔",
        "claimed",
        "amount",
        "claim",
        "claimedamount",
        "claimamount",
    ),
    "severity": ("严重度", "等级", "严重程度", "级别", "严重等级", "severity", "grade", "level"),
    "state": ("状态", "处理状态", "结案状态", "status", "state"),
    "closed_at": (
        "结案日期",
        "结案时间",
        "关闭日期",
        "完成日期",
        "closed",
        "closeddate",
        "closedate",
        "dateclosed",
        "closedat",
    ),
    "responsible_department": (
        "责任部门",
        "责任单位",
        "责任方",
        "department",
        "responsibledepartment",
        "responsible",
        "dept",
    ),
    "root_cause": ("原因分析", "原因", "根本原因", "不良原因", "rootcause", "cause"),
    "reply_text": (
        "处理结果",
        "纠正措施",
        "处理措施",
        "改善对策",
        "对策",
        "处理方案",
        "action",
        "actions",
        "correctiveaction",
        "result",
        "resolution",
    ),
}

SEVERITY_WORDS: dict[str, Severity] = {
    "严重": Severity.A,
    "重大": Severity.A,
    "致命": Severity.A,
    "critical": Severity.A,
    "severe": Severity.A,
    "serious": Severity.A,
    "一般": Severity.B,
    "主要": Severity.B,
    "中等": Severity.B,
    "moderate": Severity.B,
    "major": Severity.B,
    "轻微": Severity.C,
    "次要": Severity.C,
    "minor": Severity.C,
    "low": Severity.C,
    "建议": Severity.D,
    "suggestion": Severity.D,
}
CLOSED_WORDS = frozenset(
    {
        "已结案",
        "结案",
        "已关闭",
        "关闭",
        "已完成",
        "完成",
        "closed",
        "close",
        "done",
        "finished",
        "completed",
        "complete",
        "ok",
    }
)
OPEN_WORDS = frozenset(
    {
        "未结案",
        "处理中",
        "进行中",
        "待处理",
        "跟进中",
        "已登记",
        "未完成",
        "open",
        "pending",
        "inprogress",
        "ongoing",
        "registered",
        "new",
    }
)
_EXTRA_WORDS: dict[type, dict[str, Any]] = {
    Kind: {
        "客诉": Kind.COMPLAINT,
        "抱怨": Kind.COMPLAINT,
        "询问": Kind.INQUIRY,
        "enquiry": Kind.INQUIRY,
        "question": Kind.INQUIRY,
    },
    Channel: {
        "tel": Channel.PHONE,
        "telephone": Channel.PHONE,
        "mail": Channel.EMAIL,
        "e-mail": Channel.EMAIL,
        "电邮": Channel.EMAIL,
        "邮件": Channel.EMAIL,
        "信函": Channel.LETTER,
        "来访": Channel.VISIT,
        "验货": Channel.INSPECTION,
        "walk-in": Channel.WALK_IN,
        "外部": Channel.EXTERNAL,
    },
    Category: {
        "质量": Category.QUALITY,
        "品质": Category.QUALITY,
        "非质量": Category.NON_QUALITY,
        "non-quality": Category.NON_QUALITY,
        "nonquality": Category.NON_QUALITY,
    },
}
_BRACKETS = re.compile(r"[（(\[【<].*?[)）\]】>]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATE_FORMS = (
    re.compile(
        r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})"
        r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$"
    ),
    re.compile(
        r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"
        r"(?:\s*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?$"
    ),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_QTY = re.compile(r"^(\d[\d,]*)(?:\.0+)?\s*(?:pcs|pc|件|个|只|套|片|台|支|卷|箱|ea)?$", re.I)
_MONEY_NOISE = re.compile(r"(?i)[,\s¥￥元]|rmb|cny")
_EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")  # an Excel serial date kept as text: 45678
# the label of a totals row (合计、小计、总计, "3月合计", "Total:")
_TOTALS = re.compile(r"(合计|小计|总计|^(grand|sub)?totals?$|^sum$)")


# ---------------------------------------------------------------- the data


@dataclass(frozen=True)
class Table:
    """The first sheet of a register: its header row and its data rows, each with the row
    number Excel shows (blank rows left out)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Cell, ...]], ...]
    filename: str = ""
    header_row: int = 1  # the header's row number (title lines above it are not read)
    totals: tuple[int, ...] = ()  # totals rows (合计 …) left out

    def cell(self, cells: tuple[Cell, ...], col: int) -> Cell:
        return cells[col] if col < len(cells) else None


@dataclass(frozen=True)
class Options:
    create_customers: bool = False  # unknown customers are added to the customer list
    create_defect_types: bool = False  # unknown defect types are added to the list
    clean_only: bool = False  # import the rows without errors and leave out the others


@dataclass(frozen=True)
class Problem:
    """One line of the report: `key` is `imp.<level>.<what>` with `params`."""

    row: int  # as Excel numbers it; 0 for the file as a whole
    column: str  # the header in the file ("" when not about one column)
    level: str  # "error" (the row is not imported) | "warning" | "note"
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    value: str = ""

    def text(self, lang: str) -> str:
        return t(self.key, lang, **self.params)


@dataclass
class RowPlan:
    """A checked row: the typed values for the complaint and what to look up or create."""

    row: int
    values: dict[str, Any]
    number: str  # "" → a new number in the period received
    customer: str  # the customer's name (an existing one's, or one to create)
    customer_id: int | None
    defect_type: str  # the defect type as written ("" when none)
    defect_type_id: int | None
    department: str  # the responsible department as written
    closed: bool
    ok: bool = True
    custom: dict[int, str] = field(default_factory=dict)  # custom field id -> kept value


@dataclass
class Report:
    rows: list[RowPlan]
    problems: list[Problem]
    new_customers: list[str]
    new_defect_types: list[str]
    left_out: int = 0  # rows with nothing typed in the mapped columns (a 序号 only, formulas)

    @property
    def clean(self) -> list[RowPlan]:
        return [r for r in self.rows if r.ok]

    @property
    def error_rows(self) -> int:
        return sum(1 for r in self.rows if not r.ok)

    @property
    def has_errors(self) -> bool:
        return self.error_rows > 0

    def count(self, level: str) -> int:
        return sum(1 for p in self.problems if p.level == level)


@dataclass(frozen=True)
class Known:
    """What kesu holds already, by normalised name (see `norm`)."""

    customers: dict[str, tuple[int, str]]  # name -> (id, name as stored)
    defect_types: dict[str, int]  # code / name_zh / name_en -> id
    departments: dict[str, int]  # code / name_zh / name_en -> id
    products: dict[str, tuple[str, str]]  # code or name -> (code, name)
    numbers_taken: frozenset[str]
    tz: ZoneInfo
    today: date
    custom: tuple[CustomField, ...] = ()  # the active custom fields: targets "cf:<key>"


@dataclass(frozen=True)
class ImportResult:
    imported: int
    skipped: int  # rows with errors left out ("only the clean rows")
    closed: int
    new_customers: int
    new_defect_types: int
    numbers: tuple[str, ...]


# ---------------------------------------------------------------- names and headers


def norm(text: str) -> str:
    """Names compared the way a person would: full-width folded, case and spaces ignored."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _norm_header(text: str) -> str:
    s = _BRACKETS.sub("", unicodedata.normalize("NFKC", text or ""))
    return re.sub(r"[\s.:：_\-*#/\\]+", "", s).casefold()


_EXACT = {_norm_header(s): target for target, words in SYNONYMS.items() for s in words}


def custom_targets(fields: Sequence[CustomField]) -> dict[str, CustomField]:
    """The import's targets of the custom fields: "cf:<key>" -> the field."""
    return {custom_rules.event_key(f): f for f in fields if f.active}


def guess_mapping(headers: Sequence[str], remembered: dict[str, str] | None = None,
                  custom: Sequence[CustomField] = ()) -> dict[int, str]:
    """Column index -> field, from the header row; each field at most once (the first column
    that fits wins). What the user chose before for a header comes first, then the synonyms
    (and a custom field's key or label), then the longest synonym a header contains
    ("投诉日期(年/月/日)" -> received)."""
    out: dict[int, str] = {}
    used: set[str] = set()
    remembered = remembered or {}
    extra = custom_targets(custom)
    named = {_norm_header(x): target for target, f in extra.items()
             for x in (f.key, f.label_zh, f.label_en)}
    keys = [_norm_header(h) for h in headers]
    for rule in ("remembered", "exact", "contains"):
        for i, key in enumerate(keys):
            if i in out or not key:
                continue
            target = _guess_one(key, rule, remembered, extra)
            if rule == "exact" and target is None:
                target = named.get(key)
            if target and target not in used:
                out[i] = target
                used.add(target)
    return out


def _guess_one(key: str, rule: str, remembered: dict[str, str],
               extra: Collection[str] = ()) -> str | None:
    if rule == "remembered":
        found = remembered.get(key)
        return found if found in TARGETS or found in extra else None
    if rule == "exact":
        return _EXACT.get(key)
    hits = [
        (len(word), target) for word, target in _EXACT.items() if len(word) >= 2 and word in key
    ]
    return max(hits)[1] if hits else None


def remember(old: dict[str, str], headers: Sequence[str],
             mapping: dict[int, str]) -> dict[str, str]:
    """The learnt mapping after an import with `mapping`: these headers now mean these fields."""
    new = dict(old)
    for i, h in enumerate(headers):
        key = _norm_header(h)
        if not key:
            continue
        if i in mapping:
            new[key] = mapping[i]
        elif key in new:
            new[key] = ""  # the user ignores this column now
    return dict(list(new.items())[-MAX_REMEMBERED:])


def check_mapping(headers: Sequence[str], mapping: dict[int, str],
                  custom: Sequence[CustomField] = ()) -> None:
    """Every field at most once, known fields (a custom one too), the required ones present."""
    seen: dict[str, int] = {}
    extra = custom_targets(custom)
    for col, target in sorted(mapping.items()):
        if (target not in TARGETS and target not in extra) or not 0 <= col < len(headers):
            raise InvalidInput("imp.err.mapping")
        if target in seen:
            raise InvalidInput("imp.err.mapped_twice", field=target, a=headers[seen[target]],
                               b=headers[col])
        seen[target] = col
    missing = [f for f in REQUIRED if f not in seen]
    if missing:
        raise InvalidInput("imp.err.required_column", field=",".join(missing))


# ---------------------------------------------------------------- the shape of a sheet


def is_formula(value: Cell) -> bool:
    """A cell holding a formula ("=SUM(K4:K20)"): the reader keeps formulas as their text and
    kesu never calculates them."""
    return isinstance(value, str) and len(value.strip()) > 1 and value.lstrip().startswith("=")


def _is_number(value: Cell) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, Decimal)):
        return True
    for parse in (parse_amount, parse_qty):  # 1,200.50 ¥300 or 12 件
        try:
            parse(value)
        except ValueError:
            continue
        return True
    return False


def row_kind(cells: Sequence[Cell]) -> str:
    """"blank": nothing typed in (empty, or formulas only, as registers prepare rows ahead);
    "totals": a 合计 / 小计 / 总计 row with only numbers or formulas besides; "data" else."""
    filled = [v for v in cells if v is not None and not (isinstance(v, str) and not v.strip())]
    if all(is_formula(v) for v in filled):
        return "blank"
    labels = [v for v in filled if isinstance(v, str) and not is_formula(v)
              and _TOTALS.search(_norm_header(v))]
    if labels and all(v in labels or is_formula(v) or _is_number(v)
                      or (isinstance(v, str) and not any(c.isalnum() for c in v))
                      for v in filled):
        return "totals"
    return "data"


def header_score(cells: Sequence[Cell]) -> int:
    """How much a row looks like a register's header: each text cell that names a field counts
    2 when it is a known header, 1 when it contains one (each field once)."""
    found: dict[str, int] = {}
    for v in cells:
        if not isinstance(v, str) or is_formula(v):
            continue
        key = _norm_header(v)
        if not key:
            continue
        exact = _EXACT.get(key)
        target, points = (exact, 2) if exact else (_guess_one(key, "contains", {}), 1)
        if target is not None:
            found[target] = max(found.get(target, 0), points)
    return sum(found.values())


def find_header(rows: Sequence[Sequence[Cell]]) -> int:
    """The index of the header among the first non-blank rows of a sheet: the row naming the
    most fields (the first of equals), so that a title line ("2026年客户投诉登记表", merged
    across the columns) and a department line above the header are passed over. A row must
    name two fields (one of them by a known header); when none does, the first row is."""
    scores = [header_score(cells) for cells in rows[:HEADER_LOOKAHEAD]]
    best = max(scores, default=0)
    return scores.index(best) if best >= 3 else 0


# ---------------------------------------------------------------- cell values


def text_of(value: Cell) -> str:
    """A cell as the text a person sees (whole floats without `.0`)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.isoformat(sep=" ", timespec="minutes")
            if value.time() != time(0)
            else value.date().isoformat()
        )
    return str(value).strip()


def parse_date(value: Cell) -> date | datetime:
    """A date as registers hold it: a real date cell, an Excel serial number (45678, also as
    text), 2024-03-05, 2024/3/5, 2024.3.5, 20240305, 2024年3月5日 (each optionally with a time;
    full-width digits too). ValueError else."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.time() != time(0) else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError("not a date")
    if isinstance(value, int) and 19000101 <= value <= 29991231:  # 20240305 typed as a number
        return parse_date(str(value))
    if isinstance(value, (int, float, Decimal)):
        serial = float(value)
        if not 1 <= serial < 2958466:  # 1900-01-01 .. 9999-12-31
            raise ValueError("not a date")
        day = _EXCEL_EPOCH + timedelta(days=int(serial))
        frac = serial - int(serial)
        if frac:
            return datetime.combine(day, time(0)) + timedelta(seconds=round(frac * 86400))
        return day
    if isinstance(value, time):
        raise ValueError("a time, not a date")
    s = unicodedata.normalize("NFKC", str(value)).strip()
    for form in _DATE_FORMS:
        m = form.match(s)
        if m:
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            day = date(y, mo, d)  # ValueError for 2024-02-30
            groups = m.groups()
            if len(groups) > 3 and groups[3] is not None:
                sec = int(groups[5]) if len(groups) > 5 and groups[5] else 0
                return datetime.combine(day, time(int(groups[3]), int(groups[4]), sec))
            return day
    if _SERIAL.match(s):  # a serial date in a cell formatted as text
        return parse_date(Decimal(s))
    raise ValueError("not a date")


def parse_qty(value: Cell) -> int:
    """A non-negative whole number: 12, 12.0, "1,200", "12 pcs"; ValueError else."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not a quantity")
    if isinstance(value, int):
        n = value
    elif isinstance(value, (float, Decimal)):
        if not Decimal(str(value)) == Decimal(str(value)).to_integral_value():
            raise ValueError("not whole")
        n = int(value)
    else:
        m = _QTY.match(unicodedata.normalize("NFKC", str(value)).strip())
        if not m:
            raise ValueError("not a quantity")
        n = int(m.group(1).replace(",", ""))
    if not 0 <= n <= 10**9:
        raise ValueError("out of range")
    return n


def parse_amount(value: Cell) -> Decimal:
    """Money as Decimal with at most 2 decimals: 1200, 1,200.50, ¥300, 300元; ValueError else.
    A float cell is read through its shortest text (1234.56, never 1234.5599999…)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not an amount")
    text = _MONEY_NOISE.sub("", unicodedata.normalize("NFKC", str(value)))
    try:
        amount = Decimal(text)
    except InvalidOperation as e:
        raise ValueError("not an amount") from e
    if (
        not amount.is_finite()
        or amount < 0
        or amount >= Decimal("1e12")
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise ValueError("not an amount")
    return amount.quantize(Decimal("0.01"))


def parse_severity(value: Cell) -> Severity:
    """A–D (also "A级", "A 严重"), or the words: 严重 / 一般 / 轻微 / 建议 (and English)."""
    s = norm(text_of(value)).replace("级", "").replace(" ", "")
    if len(s) >= 1 and s[0].upper() in "ABCD" and (len(s) == 1 or not s[1].isascii()):
        return Severity(s[0].upper())
    if s in SEVERITY_WORDS:
        return SEVERITY_WORDS[s]
    raise ValueError("not a severity")


def parse_status(value: Cell) -> bool | None:
    """True: closed (已结案 …); False: still open (处理中 …); None: a word we do not know."""
    s = norm(text_of(value)).replace(" ", "")
    if s in CLOSED_WORDS or s == norm(t("state.closed", "zh")):
        return True
    if s in OPEN_WORDS or s in {norm(t("state." + st.value, "zh")) for st in State if st.is_open}:
        return False
    return None


def parse_choice(value: Cell, kind: type[Kind] | type[Channel] | type[Category]) -> Any:
    """An enum member from its code, its Chinese or English label, or a common synonym."""
    s = norm(text_of(value))
    prefix = {Kind: "kind", Channel: "channel", Category: "category"}[kind]
    for member in kind:
        words = {
            member.value,
            norm(t(f"{prefix}.{member.value}", "zh")),
            norm(t(f"{prefix}.{member.value}", "en")),
        }
        if s in words:
            return member
    extra = {norm(k): v for k, v in _EXTRA_WORDS[kind].items()}
    if s in extra:
        return extra[s]
    raise ValueError("unknown")


def clean_text(value: Cell) -> str:
    return _CONTROL.sub("", text_of(value)).strip()


def normal_number(value: Cell) -> str:
    """The case number as given (full-width letters and digits folded); one in kesu's own form
    (any case) is written KS… ."""
    s = unicodedata.normalize("NFKC", clean_text(value))
    return s.upper() if numbering.parse_number(s) else s


# ---------------------------------------------------------------- the check


def validate(table: Table, mapping: dict[int, str], known: Known, options: Options) -> Report:
    """Check every row of the table (docs/procedure.md §10). Pure: what exists comes in `known`.
    A row with nothing typed in the mapped columns (empty, or formulas only) is left out; a
    totals row the reader left out is a note; a formula in a mapped column is an error of its
    row, the formula shown."""
    check_mapping(table.headers, mapping, known.custom)
    col = {target: i for i, target in mapping.items()}
    rows: list[RowPlan] = []
    problems: list[Problem] = []
    first_row: dict[str, int] = {}  # number -> the row it first appeared in
    new_customers: dict[str, str] = {}
    new_defects: dict[str, str] = {}
    left_out = 0
    for excel_row in table.totals:
        problems.append(Problem(excel_row, "", "note", "imp.note.totals_skipped"))
    for excel_row, cells in table.rows:
        if not any(_typed(table.cell(cells, i)) for i in mapping):
            left_out += 1  # nothing typed in the columns imported: a blank row of the register
            continue
        plan, found = _check_row(table, col, excel_row, cells, known, options)
        if plan.number:
            if plan.number in known.numbers_taken:
                found.append(
                    _err(excel_row, table, col, "number", "imp.err.number_taken", plan.number,
                         number=plan.number)
                )
            elif plan.number in first_row:
                found.append(
                    _err(excel_row, table, col, "number", "imp.err.number_twice", plan.number,
                         number=plan.number, first=first_row[plan.number])
                )
            else:
                first_row[plan.number] = excel_row
        plan.ok = not any(p.level == "error" for p in found)
        if plan.ok:
            if plan.customer_id is None:
                new_customers.setdefault(norm(plan.customer), plan.customer)
            if plan.defect_type and plan.defect_type_id is None and options.create_defect_types:
                new_defects.setdefault(norm(plan.defect_type), plan.defect_type)
        rows.append(plan)
        problems.extend(found)
    if not rows:
        problems.append(Problem(0, "", "error", "imp.err.no_rows"))
    problems.sort(key=lambda p: p.row)  # the totals rows' notes among the others
    return Report(rows, problems, list(new_customers.values()), list(new_defects.values()),
                  left_out)


def _typed(value: Cell) -> bool:
    return bool(clean_text(value)) and not is_formula(value)


def _err(row: int, table: Table, col: dict[str, int], target: str, key: str, value: str = "",
         level: str = "error", **params: Any) -> Problem:
    header = table.headers[col[target]] if target in col else ""
    return Problem(row, header, level, key, params, value[:200])


class _Row:
    """One row being read: its cells by target field, and the problems found so far."""

    def __init__(self, table: Table, col: dict[str, int], row: int, cells: tuple[Cell, ...],
                 known: Known) -> None:
        self.table, self.col, self.row, self.cells, self.known = table, col, row, cells, known
        self.found: list[Problem] = []
        # a formula is never calculated: its cell is reported, and read as empty
        self.formulas: set[str] = set()
        for target, i in col.items():
            v = table.cell(cells, i)
            if is_formula(v):
                self.formulas.add(target)
                self.found.append(_err(row, table, col, target, "imp.err.formula", str(v),
                                       formula=str(v).strip()[:200]))

    def get(self, target: str) -> Cell:
        if target not in self.col or target in self.formulas:
            return None
        v = self.table.cell(self.cells, self.col[target])
        return None if isinstance(v, str) and not v.strip() else v

    def problem(self, target: str, key: str, level: str = "error", **params: Any) -> None:
        self.found.append(_err(self.row, self.table, self.col, target, key,
                               text_of(self.get(target)), level, **params))

    def require(self, target: str) -> None:
        """"Required, but empty" — unless the cell holds a formula (reported as one)."""
        if not clean_text(self.get(target)) and target not in self.formulas:
            self.problem(target, "imp.err.required")

    def text(self, target: str, limit: int) -> str:
        s = clean_text(self.get(target))
        if len(s) > limit:
            self.problem(target, "imp.err.too_long", n=limit)
            return ""
        return s

    def required_text(self, target: str, limit: int) -> str:
        s = self.text(target, limit)
        if not clean_text(self.get(target)):
            self.require(target)
        return s

    def when(self, target: str) -> datetime | None:
        v = self.get(target)
        if v is None:
            return None
        try:
            parsed = parse_date(v)
        except ValueError:
            self.problem(target, "imp.err.date")
            return None
        tz = self.known.tz
        at = (parsed.replace(tzinfo=tz) if isinstance(parsed, datetime)
              else datetime.combine(parsed, time(0), tz))
        if at.date() > self.known.today:
            self.problem(target, "imp.err.future")
            return None
        if at.year < 1990:
            self.problem(target, "imp.err.date")
            return None
        return at.astimezone(timezone.utc)

    def parsed(self, target: str, parse: Callable[[Cell], Any], key: str,
               default: Any = None) -> Any:
        """The cell read by `parse`; `default` when empty, or refused with `key`."""
        v = self.get(target)
        if v is None:
            return default
        try:
            return parse(v)
        except ValueError:
            self.problem(target, key)
            return default


def _check_row(table: Table, col: dict[str, int], row: int, cells: tuple[Cell, ...], known: Known,
               options: Options) -> tuple[RowPlan, list[Problem]]:
    r = _Row(table, col, row, cells, known)
    values = _facts(r)
    customer, customer_id = _customer(r, options)
    defect, defect_id = _defect(r, options)
    department = r.text("responsible_department", MAX_SHORT * 2)
    values["responsible_department_id"] = (known.departments.get(norm(department))
                                           if department else None)
    if department and values["responsible_department_id"] is None:
        r.problem("responsible_department", "imp.warn.department_kept", "warning",
                  name=department)
    closed = _closure(r, values)
    number = _number(r)
    plan = RowPlan(row, values, number, customer, customer_id, defect, defect_id, department,
                   closed, custom=_custom(r))
    return plan, r.found


def _custom(r: _Row) -> dict[int, str]:
    """The custom fields' cells, each read as its field's type (a date as registers hold it);
    a value that is not one is an error of the row. An old row may leave any field empty."""
    out: dict[int, str] = {}
    for target, f in custom_targets(r.known.custom).items():
        cell = r.get(target)
        if target not in r.col or cell is None:
            continue
        if f.type == FieldType.DATE:
            try:
                cell = parse_date(cell)
            except ValueError:
                pass  # the field's own reading says what is wrong
        try:
            out[f.id or 0] = custom_rules.parse(f, cell)
        except ValueError as e:
            if str(e).startswith("custom_"):
                r.problem(target, f"imp.err.{e}")
            else:
                r.problem(target, "imp.err.too_long", n=custom_rules.MAX_VALUE)
    return out


def _facts(r: _Row) -> dict[str, Any]:
    """The case's own facts (received, kind, texts, product, quantities, amount, severity),
    read from the cells and checked by the one check a registered case gets
    (core/rules/complaint_fields.py), as history: an old row may lack its product."""
    received = r.when("received_at")
    r.require("received_at")
    texts = {name: clean_text(r.get(name))
             for name in ("customer_ref", "product_code", "product_name", "order_no", "lot",
                          "description")}
    products = r.known.products
    product = (products.get(norm(texts["product_code"])) if texts["product_code"]
               else products.get(norm(texts["product_name"])) if texts["product_name"]
               else None)
    if product is not None:  # a product kesu knows: its code and name as kesu has them
        texts["product_code"] = texts["product_code"] or product[0]
        texts["product_name"] = texts["product_name"] or product[1]
    delivered = r.when("delivery_date")
    draft = ComplaintDraft(
        customer_id=None,
        kind=r.parsed("kind", lambda v: parse_choice(v, Kind), "imp.err.choice", Kind.COMPLAINT),
        channel=r.parsed("channel", lambda v: parse_choice(v, Channel), "imp.err.choice",
                         Channel.PHONE),
        category=r.parsed("category", lambda v: parse_choice(v, Category), "imp.err.choice",
                          Category.QUALITY),
        received_at=received,
        delivered_qty=r.parsed("delivered_qty", parse_qty, "imp.err.quantity"),
        defective_qty=r.parsed("defective_qty", parse_qty, "imp.err.quantity"),
        delivery_date=delivered.astimezone(r.known.tz).date() if delivered else None,
        claimed_amount=r.parsed("claimed_amount", parse_amount, "imp.err.amount"),
        severity_proposed=r.parsed("severity", parse_severity, "imp.err.severity"),
        customer_ref=texts["customer_ref"], product_code=texts["product_code"],
        product_name=texts["product_name"], order_no=texts["order_no"], lot=texts["lot"],
        description=texts["description"])
    # the end of the local day: a row's date is checked by the day (`_Row.when`)
    end_of_today = datetime.combine(r.known.today, time.max, r.known.tz)
    values, problems = complaint_fields.check(draft, end_of_today, customers=None,
                                              defect_types=(), new_case=False)
    for p in problems:
        if p.field in r.formulas:
            continue  # reported as the formula it holds
        r.problem(p.field, _IMPORT_KEYS.get(p.key, f"imp.err.{p.key}"), **p.params)
    values["received_at"] = received
    for name in ("root_cause", "reply_text"):  # kept with a closed case
        values[name] = r.text(name, MAX_TEXT)
    for name in ("customer_id", "defect_type_id", "where_found", "request", "sample_received",
                 "sample_date"):  # the customer and defect are resolved by name, below
        del values[name]
    return values


# the shared check's neutral keys that the import report words differently
_IMPORT_KEYS = {"future_date": "imp.err.future"}


def _customer(r: _Row, options: Options) -> tuple[str, int | None]:
    """A known customer by name; an unknown one is created (when chosen) or refused."""
    customer = r.text("customer", MAX_SHORT * 2)
    if not customer:
        if not clean_text(r.get("customer")):
            r.require("customer")
        return customer, None
    if norm(customer) in r.known.customers:
        known_id, known_name = r.known.customers[norm(customer)]
        return known_name, known_id
    if options.create_customers:
        r.problem("customer", "imp.note.customer_created", "note", name=customer)
    else:
        r.problem("customer", "imp.err.unknown_customer", name=customer)
    return customer, None


def _defect(r: _Row, options: Options) -> tuple[str, int | None]:
    """A known defect type by name; an unknown one is created (when chosen) or kept as text."""
    defect = r.text("defect_type", MAX_SHORT * 2)
    defect_id = r.known.defect_types.get(norm(defect)) if defect else None
    if defect and defect_id is None:
        if options.create_defect_types:
            r.problem("defect_type", "imp.note.defect_created", "note", name=defect)
        else:
            r.problem("defect_type", "imp.warn.defect_kept", "warning", name=defect)
    return defect, defect_id


def _closure(r: _Row, values: dict[str, Any]) -> bool:
    """Whether the row is a closed case (a close date, or a closed status with one)."""
    status = r.get("state")
    said_closed = parse_status(status) if status is not None else None
    if status is not None and said_closed is None:
        r.problem("state", "imp.warn.status_unknown", "warning")
    closed_at = r.when("closed_at")
    closed = closed_at is not None or said_closed is True
    if closed_at is not None and said_closed is False:
        r.problem("state", "imp.warn.open_with_closed_date", "warning")
    if said_closed and r.get("closed_at") is None and "closed_at" not in r.formulas:
        r.problem("state", "imp.err.closed_without_date")
    received = values["received_at"]
    if closed_at is not None and received is not None and closed_at < received:
        r.problem("closed_at", "imp.err.closed_before_received")
    values["closed_at"] = closed_at if closed else None
    return closed


def _number(r: _Row) -> str:
    """The old register's case number, when it is one kesu can keep."""
    number = normal_number(r.get("number"))
    if len(number) > MAX_NUMBER:
        r.problem("number", "imp.err.number_long", n=MAX_NUMBER)
        return ""
    if number and not _NUMBER_CHARS.fullmatch(number):
        r.problem("number", "imp.err.number_chars")
        return ""
    return number


# ---------------------------------------------------------------- the report as a table


REPORT_COLUMNS = (
    "imp.col.row",
    "imp.col.column",
    "imp.col.level",
    "imp.col.problem",
    "imp.col.value",
)


def report_rows(report: Report, lang: str) -> list[tuple[int | str, str, str, str, str]]:
    """The report as the user reads it (and downloads it): row, column, level, problem, value."""
    return [
        (p.row or "", p.column, t("imp.level." + p.level, lang), p.text(lang), p.value)
        for p in sorted(report.problems, key=lambda p: (p.row, p.column))
    ]


# ---------------------------------------------------------------- the use case


def _code(name: str, taken: dict[str, int]) -> str:
    """A code for a new defect type: its name (cut), made unique."""
    base = name.strip()[:20] or "IMP"
    code, n = base, 2
    while norm(code) in taken:
        code, n = f"{base[:16]}-{n}", n + 1
    return code


def _event_changes(filename: str, plan: RowPlan, c: Complaint) -> dict[str, list[Value]]:
    """The "imported" event: the file and row it came from, and every value it brought."""
    out: dict[str, list[Value]] = {
        "import_file": [None, filename or "?"],
        "import_row": [None, plan.row],
        "number": [None, c.number],
        "customer": [None, plan.customer],
    }
    if plan.defect_type:
        out["defect_type"] = [None, plan.defect_type]
    if plan.department:
        out["responsible_department"] = [None, plan.department]
    for k, v in plan.values.items():
        if v is None or v == "" or k == "responsible_department_id":
            continue
        out[k] = [None, stored(v)]
    out["state"] = [None, c.state.value]
    return out

