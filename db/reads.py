"""The read models: the queries behind the register, the worklists, the change feed and the
statistics, apart from the repositories that write (docs/architecture.md §4, decision 0009).

Each is plain SQL over the tables the unit of work writes, read in the same transaction, and
tested on both databases by tests/integration/test_reads.py (and test_stats_db.py); unit tests
do not imitate them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    String,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy import table as sa_table
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import SQLCoreOperations

from core.model import (
    CapaType, Category, Complaint, DispositionType, Kind, RegisterFilter, RegisterLine,
    RegisterPage, RegisterRow, Satisfaction, Scope, Severity, SixM, State, StepStatus,
)
from db import search
from db.rows import CLOSED, SEVERITY, as_utc, complaints_of
from db.stats import SqlStats, facet_condition, narrow
from db.tables import (
    ApprovalStepRow, AssistRow, CapaActionRow, ComplaintBigramRow, ComplaintRow, CustomerRow,
    CustomFieldRow,
    CustomValueRow, DefectTypeRow, DepartmentRow, DispositionRow, EventRow, PaymentRow, UserRow,
)

_SUMMARY = 200  # characters of a description, root cause or action in the exported register


def scope_condition(scope: Scope) -> Any:
    """The cases a user may see under record-level visibility (core/rules/visibility.py)."""
    seen: list[Any] = [ComplaintRow.received_by_id == scope.user_id]
    depts = sorted(scope.departments)
    if scope.by_customer and depts:
        seen.append(ComplaintRow.customer_id.in_(
            select(CustomerRow.id).where(CustomerRow.department_id.in_(depts))))
    if scope.by_responsible and depts:
        seen.append(ComplaintRow.responsible_department_id.in_(depts))
        # or a department assisting in the case now (issue #12)
        seen.append(ComplaintRow.id.in_(
            select(AssistRow.complaint_id).where(AssistRow.department_id.in_(depts),
                                                 AssistRow.ended_at.is_(None))))
    return or_(*seen)


class SqlRegister:
    """The register (登记表): the Log page's list, its filters, sorting, paging and export."""

    def __init__(self, s: Session) -> None:
        self.s = s
        # the ids an index found for the search text, when the text is the only condition
        # (set by _where): counted without reading a case
        self._ids: Any = None

    def search(self, flt: RegisterFilter) -> tuple[list[RegisterRow], int]:
        found = self.page(flt)
        return found.rows, found.total

    def page(self, flt: RegisterFilter) -> RegisterPage:
        """One page and the count (capped at flt.count_limit + 1). A key-like text is first
        matched as a key's prefix; when that finds nothing, as free text (db/search.py)."""
        q = flt.text.strip()
        if q and search.looks_like_key(q):
            where = self._where(flt, "key")
            total, capped = self._count(where, flt.count_limit)
            if total:
                return RegisterPage(self._rows(flt, where), total, capped, exact=True)
        where = self._where(flt)
        ids = self._ids
        total, capped = self._count(where, flt.count_limit, ids)
        if ids is not None and self.s.get_bind().dialect.name == "sqlite":
            # SQLite sorts every match it looked up by id; when the matches are many, the
            # first page is found sooner along the date index, testing each case against the
            # list (the unary + keeps the id out of the look-ups). Reading in date order
            # until a page is full costs page_size * cases / matches rows, looking up costs
            # the matches: the first is less when matches² > page_size * cases
            cases = int(self.s.scalar(select(func.max(ComplaintRow.id))) or 0)
            if total * total > flt.page_size * cases:
                where = self._where(flt, "dense")
        return RegisterPage(self._rows(flt, where) if total else [], total, capped)

    def _count(self, where: Any, cap: int | None, ids: Any = None) -> tuple[int, bool]:
        if ids is not None:  # the text alone: the index's ids, no case read
            some = ids.limit(cap + 1) if cap is not None else ids
            n = int(self.s.scalar(select(func.count()).select_from(some.subquery())) or 0)
            return n, cap is not None and n > cap
        if cap is None:
            every = self.s.scalar(select(func.count()).select_from(ComplaintRow).where(where))
            return int(every or 0), False
        some = select(ComplaintRow.id).where(where).limit(cap + 1).subquery()
        n = int(self.s.scalar(select(func.count()).select_from(some)) or 0)
        return n, n > cap

    def _rows(self, flt: RegisterFilter, where: Any) -> list[RegisterRow]:
        q = (
            select(ComplaintRow.id, ComplaintRow.number, ComplaintRow.received_at, CustomerRow.name,
                   ComplaintRow.kind, ComplaintRow.state, SEVERITY, ComplaintRow.product_code,
                   ComplaintRow.order_no, DefectTypeRow.name_zh, DefectTypeRow.name_en,
                   func.substr(ComplaintRow.description, 1, 120), ComplaintRow.due_at)
            .join(CustomerRow, CustomerRow.id == ComplaintRow.customer_id)
            .outerjoin(DefectTypeRow, DefectTypeRow.id == ComplaintRow.defect_type_id)
            .where(where)
            .order_by(*self._order(flt))
            .limit(flt.page_size)
        )
        keyset = flt.after is not None and flt.sort in ("received_at", "")
        if keyset and flt.after is not None:
            at, last = flt.after
            col = ComplaintRow.received_at
            if flt.descending:
                q = q.where(col <= at, or_(col < at, ComplaintRow.id < last))
            else:
                q = q.where(col >= at, or_(col > at, ComplaintRow.id > last))
        else:
            q = q.offset((flt.page - 1) * flt.page_size)
        rows = [
            RegisterRow(r[0], r[1], r[2], r[3], Kind(r[4]), State(r[5]),
                        Severity(r[6]) if r[6] else None, r[7], r[8],
                        f"{r[9]}|{r[10]}" if r[9] else "", r[11],
                        as_utc(r[12]) if r[12] and r[5] not in CLOSED else None)
            for r in self.s.execute(q)
        ]
        return self._with_custom(rows)

    def ids(self, flt: RegisterFilter, limit: int) -> list[int]:
        """The matching cases' ids in the register's order, `limit` at most (the export reads
        the rows behind them in batches: issue #13, 100,000 rows)."""
        where = self._where(flt)
        if search.looks_like_key(flt.text.strip()):  # as the page showed it: the key's prefix
            keyed = self._where(flt, "key")
            if self.s.scalar(select(ComplaintRow.id).where(keyed).limit(1)) is not None:
                where = keyed
        q = select(ComplaintRow.id).where(where).order_by(*self._order(flt))
        if flt.sort == "customer":
            q = q.join(CustomerRow, CustomerRow.id == ComplaintRow.customer_id)
        return list(self.s.scalars(q.limit(limit)))

    def lines(self, ids: Sequence[int]) -> list[RegisterLine]:
        """The exported register's rows of these cases, in the order given: a few queries for
        the whole batch (CAPA, dispositions, payments, approvals, custom values by case)."""
        if not ids:
            return []
        resp = aliased(DepartmentRow)
        q = (
            select(ComplaintRow.id, ComplaintRow.number, ComplaintRow.received_at,
                   CustomerRow.name, ComplaintRow.kind, ComplaintRow.category,
                   ComplaintRow.state, SEVERITY, ComplaintRow.product_code,
                   ComplaintRow.product_name, ComplaintRow.order_no, ComplaintRow.lot,
                   DefectTypeRow.name_zh, DefectTypeRow.name_en,
                   func.substr(ComplaintRow.description, 1, _SUMMARY), resp.name_zh,
                   resp.name_en, func.substr(ComplaintRow.root_cause, 1, _SUMMARY),
                   ComplaintRow.root_cause_6m, ComplaintRow.reply_date, ComplaintRow.closed_at,
                   ComplaintRow.close_wd, ComplaintRow.satisfaction,
                   ComplaintRow.satisfaction_score, ComplaintRow.approval_round)
            .join(CustomerRow, CustomerRow.id == ComplaintRow.customer_id)
            .outerjoin(DefectTypeRow, DefectTypeRow.id == ComplaintRow.defect_type_id)
            .outerjoin(resp, resp.id == ComplaintRow.responsible_department_id)
            .where(ComplaintRow.id.in_(list(ids)))
        )
        found = {r[0]: r for r in self.s.execute(q)}
        wanted = list(found)
        current = (ComplaintRow.id == DispositionRow.complaint_id) & (
            ComplaintRow.approval_round == DispositionRow.round)
        capa: dict[int, list[tuple[CapaType, str, str, str]]] = {}
        for cid, typ, text, owner, status in self.s.execute(
                select(CapaActionRow.complaint_id, CapaActionRow.type,
                       func.substr(CapaActionRow.description, 1, _SUMMARY), UserRow.display_name,
                       CapaActionRow.status)
                .join(UserRow, UserRow.id == CapaActionRow.owner_id)
                .where(CapaActionRow.complaint_id.in_(wanted)).order_by(CapaActionRow.id)):
            capa.setdefault(cid, []).append((CapaType(typ), text, owner, status))
        disp: dict[int, list[tuple[DispositionType, int | None, Decimal]]] = {}
        for cid, typ, qty, amount in self.s.execute(
                select(DispositionRow.complaint_id, DispositionRow.type, DispositionRow.quantity,
                       DispositionRow.amount).join(ComplaintRow, current)
                .where(DispositionRow.complaint_id.in_(wanted)).order_by(DispositionRow.id)):
            disp.setdefault(cid, []).append((DispositionType(typ), qty, Decimal(amount)))
        paid = {cid: Decimal(total) for cid, total in self.s.execute(
            select(PaymentRow.complaint_id, func.sum(PaymentRow.amount))
            .where(PaymentRow.complaint_id.in_(wanted)).group_by(PaymentRow.complaint_id))}
        signer = aliased(UserRow)
        signed: dict[int, list[tuple[str, str, datetime | None]]] = {}
        for cid, title, name, at in self.s.execute(
                select(ApprovalStepRow.complaint_id, ApprovalStepRow.title, signer.display_name,
                       ApprovalStepRow.decided_at)
                .join(ComplaintRow, (ComplaintRow.id == ApprovalStepRow.complaint_id)
                      & (ComplaintRow.approval_round == ApprovalStepRow.round))
                .join(signer, signer.id == ApprovalStepRow.decided_by_id)
                .where(ApprovalStepRow.complaint_id.in_(wanted),
                       ApprovalStepRow.status == StepStatus.APPROVED.value)
                .order_by(ApprovalStepRow.complaint_id, ApprovalStepRow.seq, ApprovalStepRow.id)):
            signed.setdefault(cid, []).append((title, name, as_utc(at) if at else None))
        custom = self._custom_values(wanted)
        out = []
        for i in ids:
            r = found.get(i)
            if r is None:
                continue
            ds = tuple(disp.get(i, ()))
            out.append(RegisterLine(
                r[0], r[1], as_utc(r[2]), r[3], Kind(r[4]), Category(r[5]), State(r[6]),
                Severity(r[7]) if r[7] else None, r[8], r[9], r[10], r[11],
                f"{r[12]}|{r[13]}" if r[12] else "", r[14] or "",
                f"{r[15]}|{r[16]}" if r[15] else "", r[17] or "",
                SixM(r[18]) if r[18] else None, tuple(capa.get(i, ())), ds,
                sum((d[2] for d in ds if d[0] == DispositionType.COMPENSATION), Decimal("0")),
                paid.get(i, Decimal("0")), tuple(signed.get(i, ())), r[19],
                as_utc(r[20]) if r[20] else None,
                Decimal(r[21]) if r[21] is not None else None,
                Satisfaction(r[22]) if r[22] else None, r[23], custom.get(i, {})))
        return out

    def _order(self, flt: RegisterFilter) -> list[Any]:
        sort_cols: dict[str, SQLCoreOperations[Any]] = {
            "received_at": ComplaintRow.received_at,
            "number": ComplaintRow.number,
            "customer": CustomerRow.name,
            "state": ComplaintRow.state,
            "severity": SEVERITY,
        }
        col = sort_cols.get(flt.sort, ComplaintRow.received_at)
        return [
            col.desc() if flt.descending else col.asc(),
            ComplaintRow.id.desc() if flt.descending else ComplaintRow.id.asc(),
        ]

    def _where(self, flt: RegisterFilter, path: str = "") -> Any:
        conds: list[Any] = []
        text = flt.text.strip()
        self._ids = None
        if text:
            conds.append(self._text(text, path))
        if flt.states:
            conds.append(ComplaintRow.state.in_([s.value for s in flt.states]))
        if flt.severities:
            conds.append(SEVERITY.in_([s.value for s in flt.severities]))
        if flt.kinds:
            conds.append(ComplaintRow.kind.in_([k.value for k in flt.kinds]))
        if flt.overdue_only:
            conds.append(
                and_(ComplaintRow.due_at < (flt.now or datetime.now(timezone.utc)),
                     ComplaintRow.on_hold_since.is_(None),
                     ComplaintRow.state.notin_([State.CLOSED.value, State.CANCELLED.value]))
            )
        if flt.since is not None:
            conds.append(ComplaintRow.received_at >= flt.since)
        if flt.until is not None:
            conds.append(ComplaintRow.received_at < flt.until)
        if flt.exclude_cancelled:
            conds.append(ComplaintRow.state != State.CANCELLED.value)
        conds += narrow(flt)
        if flt.facet is not None:
            conds.append(facet_condition(*flt.facet))
        if flt.scope is not None:
            conds.append(scope_condition(flt.scope))
        conds += self._custom(flt.custom)
        if len(conds) > 1:
            self._ids = None
        return and_(True, *conds)

    def _text(self, text: str, path: str) -> Any:
        """The cases the search text finds: `path` "key" is the prefix of a key column;
        otherwise the text in any of the searchable columns or the customer's name, through
        the trigram or bigram index when one answers (db/search.py)."""
        sqlite_db = self.s.get_bind().dialect.name == "sqlite"
        if path == "key":
            lo, hi = search.key_range(text)

            def upper(col: Any) -> Any:
                return func.upper(col) if sqlite_db else func.upper(col).collate("C")

            return or_(*(and_(upper(getattr(ComplaintRow, c)) >= lo,
                              upper(getattr(ComplaintRow, c)) < hi)
                         for c in search.KEY_COLUMNS))
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # SQLite's LIKE already ignores ASCII case (and its lower() knows no other): a
        # plain LIKE there; on PostgreSQL ILIKE only for text with letters that have a
        # case — 划伤 matches the same either way, and LIKE is 4× faster. The customer's
        # name is matched in the small customers table, so counting needs no join
        # (issue #6: 100,000 cases)
        plain = sqlite_db or text.lower() == text.upper()

        def match(col: Any) -> Any:
            return col.like(like, escape="\\") if plain else col.ilike(like, escape="\\")

        named = ComplaintRow.customer_id.in_(select(CustomerRow.id).where(match(CustomerRow.name)))
        how = search.path_of(text, search.has_trigram(self.s))
        if how in ("bigram", "trigram") and not sqlite_db:
            # PostgreSQL ORs two bitmap index scans: the named customers' ids as a list (a
            # sub-select here would make it test every case), and the GIN index's own
            # expression or the bigrams' ids as an array
            customers = list(self.s.scalars(select(CustomerRow.id).where(match(CustomerRow.name))))
            if how == "trigram":
                found: Any = match(literal_column(search.DOC_SQL, String))
            elif not customers:
                # no customer named so: a semi-join the planner sizes from the bigram's
                # statistics — for a common word (划伤: 64,000 of a million) it walks the
                # cases newest first and probes the index for each, for a rare one it reads
                # the bigram's ids (an array hid the size: 1.5 s at a million, now ~60 ms)
                return ComplaintRow.id.in_(select(ComplaintBigramRow.complaint_id).where(
                    ComplaintBigramRow.bigram == text))
            else:
                found = sql_text(f"complaints.id = ANY(ARRAY(SELECT complaint_id FROM "
                                 f"{search.BIGRAMS} WHERE bigram = :bigram))").bindparams(
                    bigram=text)
            return or_(ComplaintRow.customer_id.in_(customers), found)
        if how in ("bigram", "trigram"):
            # the ids found in the index and those of the named customers, as one list: the
            # count is that many look-ups by id, not a scan of the cases
            if how == "bigram":
                found = select(ComplaintBigramRow.complaint_id).where(
                    ComplaintBigramRow.bigram == text)
            else:  # FTS5: the phrase as trigrams; its own case folding is Unicode's, so a
                # text with a non-ASCII letter that has a case is checked by SQLite's LIKE
                # (ASCII only) on the stored text too — reading it costs as much again
                fts = sa_table(search.FTS_TABLE, column("rowid"), column("doc"))
                found = select(fts.c.rowid).where(
                    literal_column(search.FTS_TABLE).op("MATCH")(search.fts_phrase(text)))
                if any(ord(c) > 127 and c.lower() != c.upper() for c in text):
                    found = found.where(match(fts.c.doc))
            ids = union(select(ComplaintRow.id).where(named), found)
            self._ids = ids
            key = ComplaintRow.id + 0 if path == "dense" else ComplaintRow.id
            return key.in_(ids.subquery().select())
        return or_(named, *(match(getattr(ComplaintRow, c)) for c in search.TEXT_COLUMNS))

    def _custom(self, wanted: Sequence[tuple[int, str]]) -> list[Any]:
        """A case whose custom field holds the value: a text field's contains it (any case),
        the others' equals it (kept as text typed by the field)."""
        types = {int(i): str(t) for i, t in self.s.execute(
            select(CustomFieldRow.id, CustomFieldRow.type).where(
                CustomFieldRow.id.in_([f for f, _ in wanted])))} if wanted else {}
        conds = []
        for field_id, value in wanted:
            if types.get(field_id) == "text":
                like = "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace(
                    "_", "\\_") + "%"
                match: Any = func.lower(CustomValueRow.value).like(func.lower(like), escape="\\")
            else:
                match = CustomValueRow.value == value
            conds.append(ComplaintRow.id.in_(select(CustomValueRow.complaint_id).where(
                CustomValueRow.field_id == field_id, match)))
        return conds

    def _with_custom(self, rows: list[RegisterRow]) -> list[RegisterRow]:
        """The rows with their custom fields' values (the register's columns and export)."""
        found = self._custom_values([r.id for r in rows])
        return [replace(r, custom=found[r.id]) if r.id in found else r for r in rows]

    def _custom_values(self, ids: Sequence[int]) -> dict[int, dict[int, str]]:
        found: dict[int, dict[int, str]] = {}
        for i in range(0, len(ids), 1000):
            q = select(CustomValueRow.complaint_id, CustomValueRow.field_id,
                       CustomValueRow.value).where(CustomValueRow.complaint_id.in_(ids[i:i + 1000]))
            for cid, fid, value in self.s.execute(q):
                found.setdefault(cid, {})[fid] = value
        return found



class SqlCases:
    """Whole cases by state: the worklists (My Tasks, Approve), the Investigate picker and the
    jobs that revisit every open case."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def in_states(self, states: Sequence[State], limit: int = 5000,
                  ids: Collection[int] | None = None) -> list[Complaint]:
        # plain rows, not ORM objects: thousands of open cases for My Tasks (issue #6)
        # SQLite's planner (no histograms) guesses 1/13 of the cases per state and would scan
        # all 100,000 in date order rather than sort; but the open states are a few percent:
        # a unary + keeps it off the date index, so it takes the state index
        sqlite_db = self.s.get_bind().dialect.name == "sqlite"
        newest = (
            sql_text("+complaints.received_at DESC")
            if sqlite_db
            else ComplaintRow.received_at.desc()
        )
        q = (
            select(ComplaintRow.__table__)  # every column (one to coerce, not ~70)
            .where(ComplaintRow.state.in_([s.value for s in states]))
            .order_by(newest)
            .limit(limit)
        )
        if ids is not None:
            q = q.where(ComplaintRow.id.in_(sorted(ids)))
        result = self.s.execute(q)
        return complaints_of(list(result.keys()), result)

    def _waiting_where(self, state: State, kinds: Collection[Kind] | None,
                       department_id: int | None, not_on_hold: bool,
                       scope: Scope | None) -> list[Any]:
        conds: list[Any] = [ComplaintRow.state == state.value]
        if kinds is not None:
            conds.append(ComplaintRow.kind.in_(sorted(k.value for k in kinds)))
        if department_id is not None:
            conds.append(ComplaintRow.responsible_department_id == department_id)
        if not_on_hold:
            conds.append(ComplaintRow.on_hold_since.is_(None))
        if scope is not None:
            conds.append(scope_condition(scope))
        return conds

    def waiting(self, state: State, order: str, offset: int, limit: int, *,
                kinds: Collection[Kind] | None = None, department_id: int | None = None,
                not_on_hold: bool = False, scope: Scope | None = None) -> list[Complaint]:
        """One batch of the cases in `state` that may wait for a user, in a worklist's order
        (My Tasks reads only the first few: decision 0014): "due" — those with a due time, by
        due time, then received, then id; "received" — all, by received time, then id;
        "undated" — those without a due time, last changed first, then id descending. Each is
        read along an index that starts with the state (migration 0023), so the database
        stops after `offset + limit` rows instead of sorting every waiting case."""
        conds = self._waiting_where(state, kinds, department_id, not_on_hold, scope)
        c = ComplaintRow
        if order == "due":
            conds.append(c.due_at.is_not(None))
            keys: list[Any] = [c.due_at, c.received_at, c.id]
        elif order == "received":
            keys = [c.received_at, c.id]
        elif order == "undated":
            conds.append(c.due_at.is_(None))
            keys = [c.updated_at.desc(), c.id.desc()]
        else:
            raise ValueError(order)
        q = (select(ComplaintRow.__table__).where(*conds).order_by(*keys)
             .limit(limit).offset(offset))
        result = self.s.execute(q)
        return complaints_of(list(result.keys()), result)

    def count_waiting(self, asks: Sequence[tuple[State, Collection[Kind] | None, int | None,
                                                  bool]],
                      cap: int, *, scope: Scope | None = None) -> list[dict[Kind, int]]:
        """For each (state, kinds, department_id, not_on_hold) asked: how many cases may wait
        for a user there, by kind, counting no further than `cap` cases in all (a count of at
        least `cap` means "cap or more") — one statement (UNION ALL) instead of one a state,
        each part along the state's index."""
        parts = []
        for i, (state, kinds, department_id, not_on_hold) in enumerate(asks):
            conds = self._waiting_where(state, kinds, department_id, not_on_hold, scope)
            sub = select(ComplaintRow.kind).where(*conds).limit(cap).subquery()
            parts.append(select(literal_column(str(i)).label("ask"), sub.c.kind, func.count())
                         .group_by(sub.c.kind))
        out: list[dict[Kind, int]] = [{} for _ in asks]
        if parts:
            for i, k, n in self.s.execute(union_all(*parts)):
                out[int(i)][Kind(k)] = int(n)
        return out



class SqlChanges:
    """Which cases changed since an event: how My Tasks stays current without a rebuild."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def since(self, event_id: int, limit: int) -> tuple[int, set[int]]:
        newest = int(self.s.scalar(select(func.max(EventRow.id))) or 0)
        if event_id < 0 or newest <= event_id:
            return newest, set()
        q = (
            select(EventRow.complaint_id)
            .where(EventRow.id > event_id, EventRow.id <= newest)
            .distinct()
            .limit(limit + 1)
        )
        return newest, set(self.s.scalars(q))



class SqlReads:
    """The read models of one unit of work."""

    def __init__(self, s: Session) -> None:
        self.register = SqlRegister(s)
        self.cases = SqlCases(s)
        self.changes = SqlChanges(s)
        self.stats = SqlStats(s)
