"""Security, by reading the code and the files it writes (no server, no database).

Attack → test (the whole list is in tests/unit/test_security_services.py's docstring):
- User text rendered as HTML: no `unsafe_allow_html=True`, `st.html`, `components.html` or
  `st.components` anywhere in app.py, pages/ or ui/ → test_no_raw_html_*; the check itself is
  checked → test_the_html_scan_finds_every_form.
- Spreadsheet formula injection (`=HYPERLINK(...)`, `+cmd`, `-1+1`, `@SUM`, tab, CR) in the
  XLSX and CSV register exports (ui/exports.py) → test_xlsx_export_*, test_csv_export_*.
- Secrets committed: private keys, passwords / tokens / keys assigned in code or config, a
  hard-coded cookie key, bcrypt hashes, JWTs, a tracked secrets.toml or cookie_key file →
  test_no_secret_in_tracked_files (+ its self-test).
- The worker's jobs (escalate_overdue, fill_close_days) and the first-admin screen's service
  reached from a page other than the ones meant to → test_worker_jobs_are_not_called_from_pages.
"""
from __future__ import annotations

import ast
import csv
import io
import re
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ui.exports import safe_cell, to_csv, to_xlsx

ROOT = Path(__file__).resolve().parents[2]
UI_CODE = ["app.py", "pages", "ui"]


def _python_files(*where: str, root: Path = ROOT) -> list[Path]:
    out: list[Path] = []
    for w in where:
        p = root / w
        out += [p] if p.is_file() else sorted(p.rglob("*.py"))
    return out


# ---------------------------------------------------------------- HTML rendering of user text


def raw_html_uses(files: list[Path], root: Path) -> list[str]:
    """Every place that could put text into the page as HTML."""
    found = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(root)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "unsafe_allow_html" and not (
                            isinstance(kw.value, ast.Constant) and kw.value.value is False):
                        found.append(f"{where}:{node.lineno} unsafe_allow_html")
                f = node.func
                if isinstance(f, ast.Attribute) and f.attr == "html":
                    found.append(f"{where}:{node.lineno} .html()")
            if isinstance(node, ast.Attribute) and node.attr == "components":
                found.append(f"{where}:{node.lineno} st.components")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                if any("components" in n for n in names):
                    found.append(f"{where}:{node.lineno} imports components")
    return found


# the one st.html: sends the browser to sign-out when its login is over; a constant script
# (ui/auth.py leave_for_signin), no user text in it
REDIRECT = "ui/auth.py"
# and the one style sheet: the file uploader's button and limit line in the reader's language
# (ui/builtin_texts.py uploader_css) — catalog texts and the upload limit, no user text
STYLE = "ui/builtin_texts.py"


def test_no_raw_html_in_app_pages_or_ui() -> None:
    files = _python_files(*UI_CODE)
    assert len(files) > 10  # the scan sees the code
    found = raw_html_uses(files, ROOT)
    redirect = [f for f in found if f.startswith(REDIRECT + ":")]
    assert len(redirect) == 1 and redirect[0].endswith(".html()")
    style = [f for f in found if f.startswith(STYLE + ":")]
    assert len(style) == 1 and style[0].endswith(".html()")
    assert [f for f in found if f not in redirect + style] == []


def test_the_one_style_sheet_holds_catalog_texts_and_a_number_only() -> None:
    import ast

    from ui.builtin_texts import uploader_css

    tree = ast.parse((ROOT / STYLE).read_text(encoding="utf-8"))
    (fn,) = [n for n in ast.walk(tree)
             if isinstance(n, ast.FunctionDef) and n.name == "file_uploader"]
    names = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    # the widget's own arguments, the reader's language, the catalog, the upload limit
    assert names <= {"self", "args", "kwargs", "Any", "lang", "mb", "st", "uploader_css", "tr",
                     "fn", "functools"}, names
    css = uploader_css('"}</style><script>x()</script>', "a\\b")
    assert "</style>" not in css[:-len("</style>")] and "<script>" not in css


def test_the_one_script_is_a_constant_redirect_to_sign_out() -> None:
    import ast

    from adapters.web import SIGNOUT

    tree = ast.parse((ROOT / REDIRECT).read_text(encoding="utf-8"))
    (fn,) = [n for n in ast.walk(tree)
             if isinstance(n, ast.FunctionDef) and n.name == "leave_for_signin"]
    names = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    # nothing from a user, a page or the database: the page's language is "zh" or "en"
    assert names <= {"st", "SIGNOUT", "lang", "target"}
    assert SIGNOUT == "/signout"


def test_the_html_scan_finds_every_form(tmp_path: Path) -> None:
    (tmp_path / "ui").mkdir()
    (tmp_path / "ui" / "bad.py").write_text(
        "import streamlit as st\n"
        "import streamlit.components.v1 as components\n"
        "st.markdown(x, unsafe_allow_html=True)\n"
        "st.markdown(x, unsafe_allow_html=flag)\n"
        "st.html(x)\n"
        "st.components.v1.html(x)\n"
        "st.markdown(x, unsafe_allow_html=False)\n", encoding="utf-8")
    found = raw_html_uses(_python_files("ui", root=tmp_path), tmp_path)
    assert [f.split(" ", 1)[0] for f in found] == [
        "ui/bad.py:2", "ui/bad.py:3", "ui/bad.py:4", "ui/bad.py:5", "ui/bad.py:6",
        "ui/bad.py:6"]


# ---------------------------------------------------------------- spreadsheet formula injection


PAYLOADS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1", "=1+1", '=cmd|"/c calc"!A1', "-2-3", "+86 21 1234"]
HARMLESS = ["客户 A", "SO-1", "a=b", "1-2", "", "x@y.cn"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _rows() -> tuple[list[str], list[list[object]]]:
    headers = ["number", "customer", "description", "amount"]
    rows: list[list[object]] = [[f"KS-{i}", p, p, -12.5] for i, p in enumerate(PAYLOADS)]
    rows += [[f"OK-{i}", h, h, 3] for i, h in enumerate(HARMLESS)]
    return headers, rows


def test_xlsx_export_has_no_formula_cell_and_keeps_the_text() -> None:
    headers, rows = _rows()
    wb = load_workbook(io.BytesIO(to_xlsx(headers, rows)))
    ws = wb.active
    assert ws is not None
    cells = list(ws.iter_rows(min_row=2))
    assert len(cells) == len(rows)
    for row, sent in zip(cells, rows, strict=True):
        for cell, value in zip(row, sent, strict=True):
            assert cell.data_type != "f", cell.value  # openpyxl would store "=..." as formula
            if isinstance(value, str):
                assert not str(cell.value or "").startswith(FORMULA_START), cell.value
                # the text is all there (XML turns a lone CR into LF)
                assert str(cell.value or "").lstrip("'") == value.replace("\r", "\n")
            else:
                assert cell.value == value  # numbers stay numbers (a negative amount too)


def test_csv_export_has_no_field_starting_a_formula() -> None:
    headers, rows = _rows()
    data = to_csv(headers, rows)
    assert data.startswith(b"\xef\xbb\xbf")
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert read[0] == headers and len(read) == len(rows) + 1
    for got, sent in zip(read[1:], rows, strict=True):
        for field, value in zip(got, sent, strict=True):
            if isinstance(value, str):
                assert not field.startswith(FORMULA_START), field
                assert field.lstrip("'") == value
            else:
                assert float(field) == value  # a number stays a number


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_is_exported_unchanged(text: str) -> None:
    assert safe_cell(text) == text


# writers of spreadsheets with constant content only (no user text)
CONSTANT_SHEETS = {"ui/importer.py": "the import template: headers and translated examples"}


def test_every_spreadsheet_writer_uses_safe_cell() -> None:
    """The register export (ui/register_export.py) uses ui.exports; any other file that writes
    a workbook or a CSV (documents, Stats summary) passes user values through
    ui.exports.safe_cell."""
    writers = []
    for p in _python_files(*UI_CODE):
        text = p.read_text(encoding="utf-8")
        if p.name != "exports.py" and re.search(
                r"\.to_excel\(|\.to_csv\(|csv\.writer\(|\bWorkbook\(", text):
            writers.append((str(p.relative_to(ROOT)), "safe_cell" in text))
    assert writers  # documents and Stats write workbooks: the scan sees them
    unsafe = [name for name, safe in writers if not safe and name not in CONSTANT_SHEETS]
    assert unsafe == []
    assert "from ui.exports import" in (ROOT / "ui" / "register_export.py").read_text(
        encoding="utf-8")


# ---------------------------------------------------------------- secrets in the repository


SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "aws key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "github token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    "slack token": re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"),
    "bcrypt hash": re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}"),
    "jwt": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "webhook with key": re.compile(
        r"https://(?:qyapi\.weixin\.qq\.com|oapi\.dingtalk\.com|open\.feishu\.cn)/[^\s\"']*"
        r"(?:key|access_token|hook)[=/][A-Za-z0-9-]{16,}"),
    "assigned secret": re.compile(
        r"(?i)\b(?:cookie_key|secret(?:_key)?|api_key|token|passw(?:or)?d|smtp_password)\b"
        r"\s*[:=]\s*[\"']([^\"'\s]{8,})[\"']"),
}
# Known values that look like secrets and are not: test fixtures and the documented demo
# password (printed by `manage.py demo`, for demo data only).
ALLOWED_VALUES = {"kesu-demo", "correct horse"}
ALLOWED_FILE_PARTS = ("tests/",)  # test code may use made-up passwords
FORBIDDEN_FILES = (".streamlit/secrets.toml", "cookie_key", "secret_key", ".env", "id_rsa", ".pem")


def secrets_in(files: dict[str, str]) -> list[str]:
    found = []
    for name, text in files.items():
        if name.endswith(FORBIDDEN_FILES) or "/cookie_key" in name or "/secret_key" in name:
            found.append(f"{name}: a secrets file is tracked")
        for what, pattern in SECRET_PATTERNS.items():
            for m in pattern.finditer(text):
                value = m.group(m.lastindex or 0)
                if what == "assigned secret" and (
                        value in ALLOWED_VALUES or name.startswith(ALLOWED_FILE_PARTS)
                        or value.startswith(("{", "$", "<", "os.", "st.")) or " " in value):
                    continue
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{name}:{line}: {what}")
    return found


def _tracked() -> dict[str, str]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    out = {}
    for name in filter(None, names):
        p = ROOT / name
        if not p.is_file() or p.stat().st_size > 2_000_000:
            continue
        data = p.read_bytes()
        if b"\0" in data[:8000]:
            continue  # binary (a PNG)
        out[name] = data.decode("utf-8", errors="replace")
    return out


def test_no_secret_in_tracked_files() -> None:
    files = _tracked()
    assert "app.py" in files and len(files) > 50  # the scan sees the repository
    assert secrets_in(files) == []


def test_the_secret_scan_finds_each_kind() -> None:
    fake = {
        "ui/a.py": 'COOKIE_KEY = "x"\ncookie_key = "0123456789abcdef0123"\n',
        "key.txt": "-----BEGIN OPENSSH PRIVATE " + "KEY-----\n",  # split: not one here
        "cfg.toml": 'smtp_password = "hunter2hunter2"\n',
        "db/x.py": "h = '$2b$12$" + "a" * 53 + "'\n",
        "docs/t.md": "eyJhbGciOiJIUzI1NiJ9" + ".eyJ1c2VyIjoiYWRtaW4ifQ.abcdefghijklmnop\n",
        ".streamlit/secrets.toml": "",
        "core/ok.py": 'password = "kesu-demo"\nsecret = os.environ["X"]\n',
        "tests/unit/t.py": 'password = "made-up-password"\n',
    }
    found = {f.split(":")[0] for f in secrets_in(fake)}
    assert found == {"ui/a.py", "key.txt", "cfg.toml", "db/x.py", "docs/t.md",
                     ".streamlit/secrets.toml"}


def test_a_session_token_is_fresh_randomness_never_a_constant() -> None:
    """The login cookie carries a token made at each sign-in from the operating system's
    randomness (core/usecases/sessions.py log_in); nothing in the code signs or derives it."""
    source = (ROOT / "core" / "usecases" / "sessions.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    (log_in,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
                 and n.name == "log_in"]
    calls = [n for n in ast.walk(log_in) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and n.func.attr == "token_urlsafe"]
    assert len(calls) == 1 and isinstance(calls[0].args[0], ast.Constant)
    size = calls[0].args[0].value
    assert isinstance(size, int) and size >= 32  # bytes of randomness


# ---------------------------------------------------------------- worker-only services


def _called(files: list[Path], names: set[str]) -> list[str]:
    out = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in names:
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}")
    return out


def test_worker_jobs_are_not_called_from_pages() -> None:
    """The services without an acting user that write (test_security_services.PERMISSIONS)
    are for the worker, the start-up and the set-up screen, never for a page a user drives."""
    assert _called(_python_files(*UI_CODE), {"escalate_overdue", "fill_close_days",
                                             "remind_scheduled_checks", "send_digests"}) == []
    setup = _called(_python_files(*UI_CODE), {"create_first_admin"})
    assert [s.split(":")[0] for s in setup] == ["ui/auth.py"]
    assert "needs_first_admin" in (ROOT / "app.py").read_text(encoding="utf-8")


# ---------------------------------------------------------------- Markdown in user text


@pytest.mark.parametrize("text", [
    "![px](http://127.0.0.1:9/beacon.png)", "[clickme](javascript:alert(1))", "# big",
    "**bold** _it_ ~~s~~ `code`", "$x^2$", ":red[colour] :material/home: :smile:",
    "<b>&amp;</b>", "a\\b", "1. list", "- item", "| a | b |", "=HYPERLINK()"])
def test_md_escapes_every_markdown_character(text: str) -> None:
    """ui.context.md: user text written through st.markdown / captions / alerts reads as
    typed (the browser test checks the result on the pages)."""
    from ui.context import md
    escaped = md(text)
    unescaped = re.sub(r"\\(.)", r"\1", escaped)
    assert unescaped == text  # nothing lost
    # every Markdown-active ASCII character is preceded by a backslash
    assert not re.search(r"(?<!\\)[`*_\[\]()#!|~$:<>&]", escaped.replace("\\\\", ""))
