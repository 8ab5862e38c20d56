"""Arrows point inward: pages -> core <- db, adapters (docs/architecture.md, "Layers"); demo and
benchmark data (bench/) stay outside the core."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE_FORBIDDEN = ("streamlit", "sqlalchemy", "alembic", "db", "adapters", "pages", "ui", "app",
                  "bench")
DB_FORBIDDEN = ("streamlit", "adapters", "pages", "ui", "app", "bench")
PAGES_FORBIDDEN = ("sqlalchemy", "db", "adapters")
# The one arrow from db/ outward: a backup copies (and a restore writes back) the attachment
# files the file store keeps, through that store.
DB_EXCEPTIONS = frozenset({"db/backup.py imports adapters.blobs",
                           "db/backup.py imports adapters.blobs.FileBlobStore"})


def imported_modules(path: Path, root: Path) -> set[str]:
    """Every module a file imports, by full dotted name (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):  # walk, not body: imports inside functions count too
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            if module:
                found.add(module)
            found.update(f"{module}.{alias.name}".lstrip(".") for alias in node.names)
    return found


def violations(root: Path, folder: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((root / folder).rglob("*.py")):
        for module in sorted(imported_modules(path, root)):
            if module.split(".")[0] in forbidden:
                bad.append(f"{path.relative_to(root)} imports {module}")
    return bad


def test_core_has_modules_to_check() -> None:
    assert (ROOT / "core" / "services.py").is_file()
    assert len(list((ROOT / "core").rglob("*.py"))) >= 5


def test_core_imports_neither_streamlit_nor_sqlalchemy_nor_outer_layers() -> None:
    assert violations(ROOT, "core", CORE_FORBIDDEN) == []


def test_db_imports_neither_streamlit_nor_adapters_nor_outer_layers() -> None:
    found = violations(ROOT, "db", DB_FORBIDDEN)
    assert [v for v in found if v not in DB_EXCEPTIONS] == []
    assert DB_EXCEPTIONS <= set(found)  # an exception no longer needed is taken off the list


def test_pages_import_neither_sqlalchemy_nor_db_nor_adapters() -> None:
    # pages/ may not exist yet; rglob of a missing folder finds nothing, which is fine.
    assert violations(ROOT, "pages", PAGES_FORBIDDEN) == []


def test_the_check_catches_forbidden_imports_in_every_form(tmp_path: Path) -> None:
    (tmp_path / "core" / "rules").mkdir(parents=True)
    (tmp_path / "pages").mkdir()
    (tmp_path / "db").mkdir()
    (tmp_path / "core" / "ok.py").write_text(
        "from core.model import User\nfrom . import errors\n", encoding="utf-8")
    (tmp_path / "core" / "bad.py").write_text(
        "import streamlit as st\n"
        "def f():\n    from sqlalchemy.orm import Session\n", encoding="utf-8")
    (tmp_path / "core" / "rules" / "sneaky.py").write_text(
        "from ... import db\n", encoding="utf-8")
    (tmp_path / "core" / "seeded.py").write_text(
        "from bench import demo\nfrom adapters.wiring import build_app\n", encoding="utf-8")
    (tmp_path / "db" / "uow.py").write_text(
        "from sqlalchemy import select\nfrom db.tables import Base\n"
        "def f():\n    import streamlit\n    from adapters import security\n", encoding="utf-8")
    (tmp_path / "pages" / "1_Log.py").write_text(
        "import streamlit as st\nfrom db.uow import SqlUowFactory\n"
        "from adapters.security import cookie_key\n", encoding="utf-8")
    assert violations(tmp_path, "core", CORE_FORBIDDEN) == [
        "core/bad.py imports sqlalchemy.orm",
        "core/bad.py imports sqlalchemy.orm.Session",
        "core/bad.py imports streamlit",
        "core/rules/sneaky.py imports db",
        "core/seeded.py imports adapters.wiring",
        "core/seeded.py imports adapters.wiring.build_app",
        "core/seeded.py imports bench",
        "core/seeded.py imports bench.demo",
    ]
    assert violations(tmp_path, "db", DB_FORBIDDEN) == [
        "db/uow.py imports adapters", "db/uow.py imports adapters.security",
        "db/uow.py imports streamlit"]
    assert violations(tmp_path, "pages", PAGES_FORBIDDEN) == [
        "pages/1_Log.py imports adapters.security",
        "pages/1_Log.py imports adapters.security.cookie_key",
        "pages/1_Log.py imports db.uow", "pages/1_Log.py imports db.uow.SqlUowFactory"]
