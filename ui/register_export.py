"""The exported register (客户投诉登记表, issue #13): the column chooser and the Excel / CSV
files — every column of the old Excel register, values in words in the reader's language,
dates as Excel dates, amounts as numbers. The rows are read in batches and written as they
come (XlsxWriter's constant-memory mode writes each row to a temporary file), so 100,000
cases never sit in memory at once; a progress bar counts them."""
from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal
from typing import Any

import streamlit as st
import xlsxwriter

from core import usecases as uc
from core.i18n import t
from core.model import CustomField, DispositionType, RegisterFilter, RegisterLine, User
from core.rules import register_columns as rc
from core.rules.register_columns import Cell
from core.usecases.search import RegisterExport
from ui import custom_fields
from ui.context import attempt, kesu, lang, settings_tz, tr, trn
from ui.exports import safe_cell

_HEADER_KEYS = {
    "description": "export.col.description",
    "capa": "export.col.capa",
    "disposition_total": "export.col.disposition_total",
    "compensation": "export.col.compensation",
    "approvals": "export.col.approvals",
    "closed_at": "export.col.closed_at",
    "close_wd": "export.col.close_wd",
}
_WIDTHS = {Cell.TEXT: 14.0, Cell.LONG: 40.0, Cell.TIME: 17.0, Cell.DATE: 12.0,
           Cell.MONEY: 14.0, Cell.DAYS: 10.0, Cell.COUNT: 9.0}
_WIDE = {"number": 16.0, "customer": 22.0, "product_name": 22.0, "responsible_department": 16.0,
         "defect_type": 16.0}
_FORMATS = {Cell.TIME: "yyyy-mm-dd hh:mm", Cell.DATE: "yyyy-mm-dd", Cell.MONEY: "#,##0.00",
            Cell.DAYS: "0.0", Cell.COUNT: "0"}


def _fields() -> list[CustomField]:
    return uc.custom_fields.field_definitions(kesu())


def header(key: str, fields: dict[str, CustomField]) -> str:
    if key in fields:
        return custom_fields.name(fields[key])
    return tr(_HEADER_KEYS.get(key, "field." + key))


def chooser(active: list[CustomField] | None = None) -> list[str]:
    """The columns the user picks for the export (the default set the first time; kept for
    the session), in the register's order. `active`: the active custom fields if read
    already."""
    fields = {rc.custom_key(f.id or 0): f for f in (_fields() if active is None else active)}
    options = list(rc.KEYS) + list(fields)
    if "reg_cols" not in st.session_state:
        st.session_state["reg_cols"] = rc.default_columns(f.id or 0 for f in fields.values())
    else:  # a removed custom field leaves the choice
        st.session_state["reg_cols"] = [k for k in st.session_state["reg_cols"] if k in options]

    def reset(to: list[str]) -> None:
        st.session_state["reg_cols"] = to

    with st.expander(tr("export.columns")):
        picked: list[str] = st.multiselect(
            tr("export.columns"), options, key="reg_cols", help=tr("export.columns_help"),
            format_func=lambda k: header(k, fields), label_visibility="collapsed",
            placeholder=tr("export.pick_columns"))
        a, b, _ = st.columns([2, 2, 5])  # side by side, as the buttons below
        a.button(tr("export.default_columns"), key="reg_cols_default", on_click=reset,
                 args=(rc.default_columns(f.id or 0 for f in fields.values()),))
        b.button(tr("export.all_columns"), key="reg_cols_all", on_click=reset, args=(options,))
    return rc.chosen(picked, (f.id or 0 for f in fields.values()))


# ---------------------------------------------------------------- values in words


class _Words:
    """One line's cells for the chosen columns, in the reader's language."""

    def __init__(self, export: RegisterExport, columns: Sequence[str],
                 fields: Sequence[CustomField], tz: tzinfo) -> None:
        self.export, self.columns, self.tz = export, list(columns), tz
        self.lang = lang()
        self.i = 1 if self.lang == "en" else 0
        self.fields = {rc.custom_key(f.id or 0): f for f in fields}
        self.sep = "；" if self.lang != "en" else "; "
        self.labels: dict[str, str] = {}

    def tr(self, key: str, **params: Any) -> str:
        """A text in the export's language (read once: st.session_state is slow per cell)."""
        if params:
            return t(key, self.lang, **params)
        if key not in self.labels:
            self.labels[key] = t(key, self.lang)
        return self.labels[key]

    def pair(self, value: str) -> str:
        parts = value.split("|")
        return parts[min(self.i, len(parts) - 1)] if value else ""

    def local_time(self, at: datetime | None) -> datetime | None:
        """Excel has no time zones: the local wall time, without a zone."""
        if at is None:
            return None
        return at.astimezone(self.tz).replace(tzinfo=None)

    def when(self, at: datetime | None) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if at else ""

    def money(self, amount: Decimal) -> str:
        return f"{amount:,.2f}"

    def disposition(self, typ: DispositionType, qty: int | None, amount: Decimal) -> str:
        name = self.tr(f"disposition_type.{typ.value}")
        if qty is None:
            return self.tr("export.disp_amount", type=name, amount=self.money(amount))
        return self.tr("export.disp_line", type=name, qty=qty, amount=self.money(amount))

    def value(self, r: RegisterLine, key: str) -> Any:
        if key in self.fields:
            f = self.fields[key]
            return custom_fields.text_of(f, r.custom.get(f.id or 0, ""))
        match key:
            case "number" | "customer" | "product_code" | "product_name" | "order_no" | "lot":
                return str(getattr(r, key))
            case "received_at":
                return self.local_time(r.received_at)
            case "kind" | "state":
                return self.tr(f"{key}.{getattr(r, key).value}")
            case "category":
                return self.tr(f"category.{r.category.value}")
            case "severity":
                return r.severity.value if r.severity else ""
            case "defect_type" | "responsible_department":
                return self.pair(getattr(r, key))
            case "description" | "root_cause":
                return str(getattr(r, key))
            case "root_cause_6m":
                return self.tr(f"six_m.{r.root_cause_6m.value}") if r.root_cause_6m else ""
            case "capa":
                return self.sep.join(
                    self.tr("export.capa_line", type=self.tr(f"capa_type.{typ.value}"),
                            text=text, owner=owner, status=self.tr(f"export.capa_{status}"))
                    for typ, text, owner, status in r.capa if status in ("open", "done"))
            case "dispositions":
                return self.sep.join(self.disposition(typ, qty, amount)
                                     for typ, qty, amount in r.dispositions)
            case "disposition_total":
                return r.disposition_total if r.dispositions else None
            case "compensation":
                return r.compensation if r.compensation else None
            case "paid_total":
                return r.paid if r.paid else None
            case "approvals":
                return self.sep.join(
                    self.tr("export.signed", title=self.export.titles.name(title, self.lang),
                            name=name, at=self.when(at))
                    for title, name, at in r.approvals)
            case "reply_date":
                return r.reply_date
            case "closed_at":
                return r.closed_at.astimezone(self.tz).date() if r.closed_at else None
            case "close_wd":
                return r.close_wd
            case "satisfaction":
                return self.tr(f"satisfaction.{r.satisfaction.value}") if r.satisfaction else ""
            case "satisfaction_score":
                return r.satisfaction_score
        raise KeyError(key)

    def row(self, r: RegisterLine) -> list[Any]:
        return [self.value(r, k) for k in self.columns]


def _kind(key: str) -> Cell:
    return rc.KINDS.get(key, Cell.TEXT)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def filter_words(flt: RegisterFilter) -> str:
    """The register's filter as a person reads it (the title row of the file)."""
    sep = "、" if lang() != "en" else ", "
    parts = []
    if flt.text.strip():
        parts.append(f"“{flt.text.strip()}”")
    for key, values, prefix in (("log.filter_state", flt.states, "state"),
                                ("log.filter_kind", flt.kinds, "kind")):
        if values:
            parts.append(tr(key) + "：" + sep.join(tr(f"{prefix}.{v.value}") for v in values))
    if flt.severities:
        parts.append(tr("log.filter_severity") + "：" + sep.join(s.value for s in flt.severities))
    if flt.date_from or flt.date_to:
        parts.append(f"{tr('field.received_at')}：{flt.date_from or ''} – {flt.date_to or ''}")
    if flt.overdue_only:
        parts.append(tr("log.filter_overdue"))
    if flt.custom:
        by_id = {f.id or 0: f for f in _fields()}
        for fid, value in flt.custom:
            f = by_id.get(fid)
            if f is not None:
                parts.append(f"{custom_fields.name(f)}：{custom_fields.text_of(f, value)}")
    return tr("export.filter", filter=("；" if lang() != "en" else "; ").join(parts)
              or tr("export.all_cases"))


# ---------------------------------------------------------------- the files


Progress = Callable[[int, int], None]


def write_xlsx(export: RegisterExport, columns: Sequence[str], fields: Sequence[CustomField],
               tz: tzinfo, filter_text: str, progress: Progress | None = None) -> bytes:
    """The register as an .xlsx: a title row, the filter and export time, the frozen header,
    then one row per case; widths by the kind of column; dates, times, amounts and days
    with number formats. XlsxWriter's constant-memory mode writes each row to a temporary
    file as it comes, its text inline: the memory stays flat however many rows (openpyxl kept
    every distinct text in a shared-strings table, +86 MB at 100,000 rows, and took twice as
    long per cell; README Performance)."""
    words = _Words(export, columns, fields, tz)
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False, "strings_to_numbers": False})
    try:
        ws = wb.add_worksheet(tr("export.sheet")[:31])
        heads = [header(k, words.fields) for k in columns]
        kinds = [_kind(k) for k in columns]
        for i, (key, head, kind) in enumerate(zip(columns, heads, kinds, strict=True)):
            ws.set_column(i, i, max(_WIDE.get(key, _WIDTHS[kind]),
                                    min(_display_width(head) + 2, 40)))
        ws.freeze_panes(3, 1)  # the title, the filter line and the header; the number column
        last = max(len(columns), 1) - 1
        now = datetime.now(timezone.utc)
        note = safe_cell(filter_text + ("　" if words.lang != "en" else "  ·  ")
                         + trn("export.exported", export.total, at=words.when(now)))
        title_fmt = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
        note_fmt = wb.add_format({"font_size": 9, "font_color": "#555555"})
        for row, text, fmt in ((0, tr("log.register"), title_fmt), (1, note, note_fmt)):
            if last > 0:
                ws.merge_range(row, 0, row, last, text, fmt)
            else:
                ws.write_string(row, 0, text, fmt)
        head_fmt = wb.add_format({"bold": True, "bg_color": "#DDE5F0", "pattern": 1,
                                  "text_wrap": True, "valign": "vcenter"})
        for i, head in enumerate(heads):
            ws.write_string(2, i, head, head_fmt)
        formats = [wb.add_format({"num_format": _FORMATS[k]}) if k in _FORMATS else None
                   for k in kinds]
        row, done = 3, 0
        for batch in export.batches:
            for line in batch:
                for i, (value, fmt) in enumerate(zip(words.row(line), formats, strict=True)):
                    if value is None or value == "":
                        continue
                    if isinstance(value, str):
                        ws.write_string(row, i, safe_cell(value))
                    elif isinstance(value, (datetime, date)):
                        ws.write_datetime(row, i, value, fmt)
                    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                        ws.write_number(row, i, float(value), fmt)
                    else:
                        ws.write_string(row, i, safe_cell(str(value)))
                row += 1
            done += len(batch)
            if progress is not None:
                progress(done, export.total)
    finally:
        wb.close()
    return out.getvalue()


def write_csv(export: RegisterExport, columns: Sequence[str], fields: Sequence[CustomField],
              tz: tzinfo, progress: Progress | None = None) -> bytes:
    words = _Words(export, columns, fields, tz)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([header(k, words.fields) for k in columns])
    done = 0
    for batch in export.batches:
        for line in batch:
            w.writerow([_csv_value(v) for v in words.row(line)])
        done += len(batch)
        if progress is not None:
            progress(done, export.total)
    return buf.getvalue().encode("utf-8-sig")  # BOM: Excel opens Chinese CSV correctly


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.isoformat()
    return safe_cell(v)


def export_panel(user: User, flt: RegisterFilter, total: int, cols: Iterable[str],
                 where: Any) -> None:
    """The buttons that make the file (with a progress bar) and then offer it. The file is
    kept for the session until the filter or the columns change."""
    columns = list(cols)
    key = (flt, tuple(columns), lang())
    made = st.session_state.get("reg_export")
    if made is not None and made[0] != key:
        st.session_state.pop("reg_export", None)
        made = None
    a, b, _ = where.columns([2, 2, 5])
    if not columns:
        where.caption(tr("export.pick_columns"))
        return
    if total > uc.search.EXPORT_LIMIT:
        where.caption(tr("export.limited", n=f"{uc.search.EXPORT_LIMIT:,}", total=f"{total:,}"))
    kind = None
    if a.button(tr("export.make"), key="reg_make_xlsx"):
        kind = "xlsx"
    if b.button(tr("export.make_csv"), key="reg_make_csv"):
        kind = "csv"
    if kind is not None:
        bar = where.progress(0.0, text=tr("export.progress", done=0, total=f"{total:,}"))

        def progress(done: int, of: int) -> None:
            bar.progress(done / of if of else 1.0,
                         text=tr("export.progress", done=f"{done:,}", total=f"{of:,}"))

        export = attempt(uc.search.register_export, kesu(), user, flt)
        if export is None:
            return
        fields, tz = _fields(), settings_tz()
        data = (attempt(write_xlsx, export, columns, fields, tz, filter_words(flt), progress)
                if kind == "xlsx" else attempt(write_csv, export, columns, fields, tz, progress))
        bar.empty()
        if data is None:
            return
        made = (key, kind, data, export.total, export.more)
        st.session_state["reg_export"] = made
    if made is not None:
        _, kind, data, n, more = made
        where.caption(trn("export.ready", n))
        if more and total <= uc.search.EXPORT_LIMIT:  # the register's count stopped early
            where.warning(tr("export.limited_more", n=f"{n:,}"))
        if kind == "xlsx":
            where.download_button(
                tr("log.export_xlsx"), data, file_name="kesu-register.xlsx",
                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                key="reg_xlsx", on_click="ignore", type="primary")
        else:
            where.download_button(tr("log.export_csv"), data, file_name="kesu-register.csv",
                                  mime="text/csv", key="reg_csv", on_click="ignore",
                                  type="primary")
