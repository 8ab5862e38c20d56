"""Approval authority (核决权限) as data: titles with ranks, rules from a proposal's
conditions to ordered steps, rounds that cannot get stuck, who may sign
(docs/procedure.md §6, docs/decisions/0013-titles-and-approval-rules.md)."""
from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.model import DispositionType, Kind, Lang, Market, Severity, Title, User

# ---------------------------------------------------------------- titles


@dataclass(frozen=True)
class TitleDef:
    """A position that signs approvals (品管经理, 总经理 …), defined on Admin. `rank` orders
    authority (higher signs more); `substitute` is the title that signs a step of this one
    when nobody else can (else the next higher rank). `code` is the stable key steps store."""

    code: str
    name_zh: str
    name_en: str
    rank: int
    substitute: str = ""
    active: bool = True

    def name(self, lang: Lang | str) -> str:
        return self.name_en if str(lang) == "en" and self.name_en else self.name_zh


# the titles every installation starts with (migration 0017); the demo's profile adds the
# seed's others (部门主任, 营销副总, 管理者代表)
DEFAULT_TITLES: tuple[TitleDef, ...] = (
    TitleDef(Title.QA_MANAGER.value, "品管经理", "QA manager", 30),
    TitleDef(Title.SALES_MANAGER.value, "营销经理", "Sales manager", 30),
    TitleDef(Title.GENERAL_MANAGER.value, "总经理", "General manager", 50),
    TitleDef(Title.CHAIRMAN.value, "董事长", "Chairman", 60),
)

MAX_CODE = 30


class Titles:
    """The defined titles by code: ranks and names (unknown codes rank lowest and are shown
    as their code, so an old step never breaks a page)."""

    def __init__(self, defs: Iterable[TitleDef]) -> None:
        self.defs = tuple(sorted(defs, key=lambda d: (d.rank, d.code)))
        self.by_code = {d.code: d for d in self.defs}

    def rank(self, code: str) -> int:
        d = self.by_code.get(code)
        return d.rank if d else -1

    def name(self, code: str, lang: Lang | str) -> str:
        d = self.by_code.get(code)
        return d.name(lang) if d else code

    def top_rank(self, user: User) -> int:
        return max((self.rank(t) for t in user.titles), default=-1)

    def active_codes(self) -> list[str]:
        return [d.code for d in self.defs if d.active]


def titles_to_json(defs: Iterable[TitleDef]) -> list[dict[str, Any]]:
    return [{"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "rank": d.rank,
             "substitute": d.substitute, "active": d.active} for d in defs]


def titles_from_json(data: Any) -> tuple[TitleDef, ...]:
    if not data:
        return DEFAULT_TITLES
    return tuple(TitleDef(str(x["code"]), str(x.get("name_zh", "")), str(x.get("name_en", "")),
                          int(x.get("rank", 0)), str(x.get("substitute") or ""),
                          bool(x.get("active", True))) for x in data)


def titles_problem(defs: list[TitleDef], in_use: Collection[str] = ()
                   ) -> tuple[str, dict[str, Any]] | None:
    """Why a list of titles cannot be saved (an error key and its parameters), or None.
    A code is short, unique and made of letters, digits and `_`; a name in Chinese is
    required; the rank is 0–1000; a substitute is another defined title. A title held by
    someone or named by a rule (`in_use`) may be deactivated but not dropped."""
    codes = [d.code for d in defs]
    for d in defs:
        if not d.code or len(d.code) > MAX_CODE or not all(
                ch.isascii() and (ch.isalnum() or ch == "_") for ch in d.code):
            return "err.title_code", {"code": d.code}
        if not d.name_zh.strip():
            return "err.title_name", {"code": d.code}
        if not 0 <= d.rank <= 1000:
            return "err.title_rank", {"code": d.code}
        if d.substitute and (d.substitute == d.code or d.substitute not in codes):
            return "err.title_substitute", {"code": d.code}
    dup = next((c for c in codes if codes.count(c) > 1), None)
    if dup is not None:
        return "err.title_duplicate", {"code": dup}
    gone = sorted(set(in_use) - set(codes))
    if gone:
        return "err.title_in_use", {"code": gone[0]}
    return None


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class RuleStep:
    """One signature of a rule: a title; `or_higher` lets anyone of a higher rank sign it;
    `parallel` signs it at the same time as the step before (both must sign)."""

    title: str
    or_higher: bool = False
    parallel: bool = False


@dataclass(frozen=True)
class Proposal:
    """What the rules look at: the dispositions' total and types, severity, kind, market."""

    total: Decimal
    dispositions: frozenset[str] = frozenset()
    severity: str | None = None
    kind: str = Kind.COMPLAINT.value
    market: str | None = None


@dataclass(frozen=True)
class Rule:
    """Proposals with any of `dispositions` (empty: any), a total above `over` (None: from 0)
    and up to `up_to` inclusive (None: no limit), of one of `severities`, `kinds`, `markets`
    (empty: any) need `steps`, in order."""

    name: str
    steps: tuple[RuleStep, ...]
    dispositions: frozenset[str] = frozenset()
    over: Decimal | None = None
    up_to: Decimal | None = None
    severities: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    markets: frozenset[str] = frozenset()

    def matches(self, p: Proposal) -> bool:
        return ((not self.dispositions or bool(self.dispositions & p.dispositions))
                and (self.over is None or p.total > self.over)
                and (self.up_to is None or p.total <= self.up_to)
                and (not self.severities or (p.severity or "") in self.severities)
                and (not self.kinds or p.kind in self.kinds)
                and (not self.markets or (p.market or "") in self.markets))

    def conditions(self) -> tuple[frozenset[str], ...]:
        return (self.dispositions, self.severities, self.kinds, self.markets)


@dataclass(frozen=True)
class RuleSet:
    """One version of the rules; a round keeps the steps of the version it started under."""

    version: int
    rules: tuple[Rule, ...]
    created_at: datetime | None = None
    created_by_id: int | None = None

    def rule_for(self, p: Proposal) -> tuple[int, Rule] | None:
        """The first rule (1-based position, rule) whose conditions hold: rules are read top
        down, so an admin puts the special cases (severity A, a market) above the general."""
        return next(((i, r) for i, r in enumerate(self.rules, 1) if r.matches(p)), None)


@dataclass(frozen=True)
class RuleSetRecord:
    """A stored version of the rules (table approval_rule_sets, migration 0017)."""

    id: int | None
    rules: str  # JSON (rules_to_json)
    created_at: datetime | None = None
    created_by_id: int | None = None


def _s(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def rules_to_json(rules: Iterable[Rule]) -> list[dict[str, Any]]:
    return [{"name": r.name, "dispositions": sorted(r.dispositions), "over": _s(r.over),
             "up_to": _s(r.up_to), "severities": sorted(r.severities), "kinds": sorted(r.kinds),
             "markets": sorted(r.markets),
             "steps": [{"title": s.title, "or_higher": s.or_higher, "parallel": s.parallel}
                       for s in r.steps]} for r in rules]


def _amount(v: Any) -> Decimal | None:
    if v in (None, ""):
        return None
    try:
        d = Decimal(str(v).replace(",", "").strip())
    except InvalidOperation as e:
        raise ValueError("amount") from e
    if not d.is_finite():
        raise ValueError("amount")
    return d


def rules_from_json(data: Any) -> tuple[Rule, ...]:
    if not isinstance(data, list):
        raise ValueError("rules")
    return tuple(Rule(str(x.get("name", "")),
                      tuple(RuleStep(str(s.get("title", "")), bool(s.get("or_higher")),
                                     bool(s.get("parallel"))) for s in x.get("steps", [])),
                      frozenset(x.get("dispositions") or ()), _amount(x.get("over")),
                      _amount(x.get("up_to")), frozenset(x.get("severities") or ()),
                      frozenset(x.get("kinds") or ()), frozenset(x.get("markets") or ()))
                 for x in data)


def rule_set_of(rec: RuleSetRecord | None) -> RuleSet:
    if rec is None:
        return RuleSet(0, DEFAULT_RULES)
    return RuleSet(rec.id or 0, rules_from_json(json.loads(rec.rules)), rec.created_at,
                   rec.created_by_id)


_CHOICES: dict[str, frozenset[str]] = {
    "dispositions": frozenset(t.value for t in DispositionType),
    "severities": frozenset(s.value for s in Severity),
    "kinds": frozenset(k.value for k in Kind),
    "markets": frozenset(m.value for m in Market),
}


@dataclass(frozen=True)
class RuleProblem:
    """Why rules cannot be saved: an error key, the rule's 1-based position, parameters."""

    key: str
    rule: int
    params: dict[str, Any] = field(default_factory=dict)


def rules_problems(rules: tuple[Rule, ...], titles: Titles) -> list[RuleProblem]:
    """Everything wrong with a list of rules, in the order of the rules (empty: it can be
    saved). A rule has a name, at least one step, known active titles, no title twice, a
    first step that is not parallel, a band with `over` < `up_to` and no negative amounts,
    known condition values; two rules with the same conditions must not have overlapping
    amount bands (the lower one could never apply)."""
    out: list[RuleProblem] = []
    if not rules:
        return [RuleProblem("err.rules_empty", 0)]
    active = set(titles.active_codes())
    for i, r in enumerate(rules, 1):
        if not r.name.strip():
            out.append(RuleProblem("err.rule_name", i))
        if not r.steps:
            out.append(RuleProblem("err.rule_no_steps", i))
        for s in r.steps:
            if not s.title:
                out.append(RuleProblem("err.rule_step_title", i))
            elif s.title not in active:
                out.append(RuleProblem("err.rule_unknown_title", i, {"code": s.title}))
        codes = [s.title for s in r.steps if s.title]
        dup = next((c for c in codes if codes.count(c) > 1), None)
        if dup:
            out.append(RuleProblem("err.rule_title_twice", i, {"code": dup}))
        if r.steps and r.steps[0].parallel:
            out.append(RuleProblem("err.rule_first_parallel", i))
        if any(v is not None and v < 0 for v in (r.over, r.up_to)):
            out.append(RuleProblem("err.rule_negative", i))
        elif r.over is not None and r.up_to is not None and r.up_to <= r.over:
            out.append(RuleProblem("err.rule_band", i))
        for name, allowed in _CHOICES.items():
            if not getattr(r, name) <= allowed:
                out.append(RuleProblem("err.rule_condition", i))
                break
    for i, a in enumerate(rules, 1):
        for j, b in enumerate(rules[i:], i + 1):
            if a.conditions() == b.conditions() and _overlap(a, b):
                out.append(RuleProblem("err.rule_overlap", j, {"other": i}))
    return out


def _overlap(a: Rule, b: Rule) -> bool:
    lo = max(-Decimal(1) if a.over is None else a.over, -Decimal(1) if b.over is None else b.over)
    his = [x for x in (a.up_to, b.up_to) if x is not None]
    return not his or lo < min(his)


def gaps(rules: tuple[Rule, ...]) -> list[tuple[str, Decimal, Decimal | None]]:
    """Disposition types and totals no rule covers, whatever the severity, kind and market
    (warnings for the editor: such a proposal cannot be submitted): (type, from, to)."""
    out: list[tuple[str, Decimal, Decimal | None]] = []
    general = [r for r in rules if not (r.severities or r.kinds or r.markets)]
    for t in sorted(_CHOICES["dispositions"]):
        bands = sorted(((r.over, r.up_to) for r in general
                        if not r.dispositions or t in r.dispositions),
                       key=lambda b: -1 if b[0] is None else b[0])
        at: Decimal | None = None  # covered up to and including `at` (None: nothing yet)
        open_end = False
        for lo, hi in bands:
            if open_end:
                break
            if lo is not None and (at is None or lo > at):
                out.append((t, Decimal(0) if at is None else at, lo))
            if hi is None:
                open_end = True
            elif at is None or hi > at:
                at = hi
        if not open_end:
            out.append((t, Decimal(0) if at is None else at, None))
    return out


def _st(*titles: str) -> tuple[RuleStep, ...]:
    return tuple(RuleStep(t) for t in titles)


QA, SM, GM, CH = (Title.QA_MANAGER.value, Title.SALES_MANAGER.value,
                  Title.GENERAL_MANAGER.value, Title.CHAIRMAN.value)
_A = frozenset({Severity.A.value})
# the seed's 核决权限 (4.3): severity A always needs the general manager; then by total
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("A 级 · 无金额", _st(QA, GM), over=None, up_to=Decimal(0), severities=_A),
    Rule("A 级 · 2 千元以内", _st(SM, GM), over=Decimal(0), up_to=Decimal(2000), severities=_A),
    Rule("A 级 · 2 万元以内", _st(SM, GM), over=Decimal(2000), up_to=Decimal(20000), severities=_A),
    Rule("A 级 · 2 万元以上", _st(SM, GM, CH), over=Decimal(20000), severities=_A),
    Rule("无金额", _st(QA), up_to=Decimal(0)),
    Rule("2 千元以内", _st(SM), over=Decimal(0), up_to=Decimal(2000)),
    Rule("2 万元以内", _st(SM, GM), over=Decimal(2000), up_to=Decimal(20000)),
    Rule("2 万元以上", _st(SM, GM, CH), over=Decimal(20000)),
)


def rules_from_matrix(matrix: Any) -> tuple[Rule, ...]:
    """The rules meaning what a matrix of the first versions (rows "up to X → titles",
    severity A adding the general manager) meant — what migration 0017 wrote (frozen there)."""
    rows = sorted(((None if r.get("up_to") in (None, "") else Decimal(str(r["up_to"])),
                    [str(s) for s in r.get("steps", [])]) for r in matrix),
                  key=lambda r: (r[0] is None, r[0] or Decimal(0)))
    order = [QA, SM, GM, CH]
    plain: list[Rule] = []
    severe: list[Rule] = []
    lo: Decimal | None = None
    for up, steps in rows:
        name = ("≤" + str(up)) if up is not None else (">" + str(lo) if lo is not None else "*")
        plain.append(Rule(name, _st(*steps), over=lo, up_to=up))
        a = sorted(set(steps) | {GM}, key=lambda t: order.index(t) if t in order else 9)
        severe.append(Rule("A · " + name, _st(*a), over=lo, up_to=up, severities=_A))
        lo = up
    return tuple(severe + plain)


# ---------------------------------------------------------------- planning a round


@dataclass(frozen=True)
class PlannedStep:
    """A step of a new round: the title that signs it, its stage (steps of one stage sign in
    parallel), whether a higher title may sign, and — when the rule named titles nobody but
    the proposer (or nobody active, or only someone who signed already) holds — which
    titles it stands for and why (`MOVED_WHY`), for the approver's card."""

    title: str
    stage: int = 1
    or_higher: bool = False
    moved_from: tuple[str, ...] = ()
    why: str = ""


MOVED_WHY = ("proposer", "no_holder", "signed")


def eligible(user: User, title: str, or_higher: bool, titles: Titles) -> bool:
    """Holds the title, or (a step open to higher titles) one of a higher rank."""
    return user.active and (title in user.titles or (
        or_higher and titles.top_rank(user) > titles.rank(title) >= 0))


def plan_steps(steps: tuple[RuleStep, ...], excluded: Collection[int], users: list[User],
               titles: Titles, proposer_id: int | None = None) -> tuple[PlannedStep, ...]:
    """The steps of a round so that it can always finish (issue #12 item 3).

    A step nobody may sign — its holders are only the proposer, people who already signed
    this round (`excluded`), or nobody active — goes to the title's substitute if someone can
    sign that, else to the next higher title someone can sign, else to the nearest lower one.
    A step moved onto a title already in the round is signed with it, once: nobody signs
    twice. A round never has more steps than there are people left to sign them (one person
    may hold two of its titles): a step that would be one too many goes onto a title already
    in the round (why "signed" if someone holds its own title). Who signs which step is
    settled as the round goes: after every signature a step nobody left may sign moves on
    (core/usecases/approval.py _replan_after). With nobody at all left to sign, the step
    stays (and says why)."""
    out_ids = set(excluded)
    people = [u for u in users if u.id not in out_ids]
    # everyone left who may sign something: how many steps the round can have at most
    signers = sum(1 for u in people if u.active and titles.top_rank(u) >= 0)

    def signable(code: str, or_higher: bool = False) -> bool:
        return any(eligible(u, code, or_higher, titles) for u in people)

    def fits(code: str, or_higher: bool = False) -> bool:
        """Someone may sign it, and a step of it is not one more than there are signers."""
        return signable(code, or_higher) and (
            any(p.title == code for p in planned) or len(planned) < signers)

    planned: list[PlannedStep] = []
    stage = 0
    for s in steps:
        stage = stage if (s.parallel and planned) else stage + 1
        target, why, or_higher = s.title, "", s.or_higher
        if not fits(s.title, s.or_higher):
            holders = [u for u in users if u.active and s.title in u.titles]
            why = ("signed" if signable(s.title, s.or_higher)
                   else "proposer" if any(u.id == proposer_id for u in holders)
                   else "signed" if holders else "no_holder")
            sub = titles.by_code.get(s.title)
            rank = titles.rank(s.title)
            above = [d.code for d in titles.defs if d.rank > rank and fits(d.code)]
            below = [d.code for d in reversed(titles.defs)
                     if d.rank <= rank and d.code != s.title and fits(d.code)]
            if sub and sub.substitute and fits(sub.substitute):
                target = sub.substitute
            else:
                target = above[0] if above else (below[0] if below else s.title)
            or_higher = False
        moved = (s.title,) if target != s.title else ()
        old = next((i for i, p in enumerate(planned) if p.title == target), None)
        if old is None:
            planned.append(PlannedStep(target, stage, or_higher, moved, why))
        else:
            p = planned[old]
            planned[old] = replace(p, moved_from=p.moved_from + moved, why=p.why or why)
            if not s.parallel:
                stage -= 1  # nothing new at this stage
    # stages numbered 1, 2, … with no holes, in the order of the rule
    renum = {st: i for i, st in enumerate(sorted({p.stage for p in planned}), 1)}
    return tuple(replace(p, stage=renum[p.stage]) for p in planned)


# ---------------------------------------------------------------- delegations and signing


@dataclass(frozen=True)
class Delegation:
    """`deputy_id` signs for `manager_id` from `start` to `end` inclusive, until revoked."""

    id: int | None
    manager_id: int
    deputy_id: int
    start: date
    end: date
    created_at: datetime | None = None
    created_by_id: int | None = None
    revoked_at: datetime | None = None
    revoked_by_id: int | None = None

    def active_on(self, day: date) -> bool:
        return self.revoked_at is None and self.start <= day <= self.end

    def over(self, today: date) -> bool:
        """Revoked or past: shown as history, no longer changeable."""
        return self.revoked_at is not None or self.end < today


# A deputy is named for a holiday or a business trip, not for years (setting
# `delegation_max_days`; issue #11: an 80-year delegation was accepted).
MAX_DELEGATION_DAYS = 90


def delegation_problem(start: date, end: date, today: date, max_days: int) -> str | None:
    """Why a new delegation's dates are refused (an error key), or None.

    It starts today or later (a past start would sign for days already decided), ends on or
    after its start, and lasts at most `max_days` days, both ends counted."""
    if start < today:
        return "err.delegation_past"
    if end < start:
        return "err.date_order"
    if (end - start).days + 1 > max_days:
        return "err.delegation_too_long"
    return None


def signed_in_round(steps: list[Any]) -> set[int]:
    """Everyone who has already signed a step of a round: the signer and, for a deputy's
    signature, the manager signed for. Each of them signs no other step of that round."""
    people: set[int] = set()
    for s in steps:
        if s.decided_by_id is not None and s.status.value == "approved":
            people.add(s.decided_by_id)
            if s.on_behalf_of_id is not None:
                people.add(s.on_behalf_of_id)
    return people


def can_sign(user: User, step: str, proposer_id: int | None, today: date,
             users: list[User], delegations: list[Delegation],
             signed: Collection[int] = (), titles: Titles | None = None,
             or_higher: bool = False) -> tuple[bool, int | None]:
    """(may sign, on behalf of whom). The holder of the step's title signs (or of a higher
    one, for a step open to higher titles); a deputy signs for such a holder. The proposer
    never approves their own disposition, and nobody signs two steps of one round
    (`signed`: who signed this round already), neither as themselves nor as a deputy, nor
    for a manager who already signed."""
    book = titles or Titles(DEFAULT_TITLES)
    if proposer_id is not None and user.id == proposer_id:
        return False, None
    if user.id in signed:
        return False, None
    if eligible(user, step, or_higher, book):
        return True, None
    for d in delegations:
        if d.deputy_id == user.id and d.active_on(today):
            boss = next((h for h in users if h.id == d.manager_id), None)
            if (boss is not None and eligible(boss, step, or_higher, book)
                    and boss.id != proposer_id and boss.id not in signed):
                return True, boss.id
    return False, None
