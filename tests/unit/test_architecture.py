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
    assert (ROOT / "core" / "workflow.py").is_file()
    assert len(list((ROOT / "core" / "usecases").glob("*.py"))) >= 10


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def arrows_of(path: Path, root: Path, names: set[str]) -> set[str]:
    """The modules among `names` a file imports: `from package import submodule` points at the
    submodule (Python loads the package first whatever imports it: that is no arrow back)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            subs = {f"{node.module}.{a.name}" for a in node.names} & names
            found.update(subs or {node.module})
    return (found & names) - {module_name(path, root)}


def import_cycles(root: Path, folder: str) -> list[list[str]]:
    """The import circles among a folder's modules (`from core.usecases import pipeline` is an
    arrow to core.usecases.pipeline, not to the package), each once, shortest first."""
    paths = sorted((root / folder).rglob("*.py"))
    names = {module_name(p, root) for p in paths}
    arrows = {module_name(p, root): arrows_of(p, root, names) for p in paths}
    cycles: dict[frozenset[str], list[str]] = {}

    def walk(start: str, node: str, trail: list[str]) -> None:
        for nxt in sorted(arrows[node]):
            if nxt == start:
                cycles.setdefault(frozenset(trail), [*trail, start])
            elif nxt not in trail and nxt > start:  # each circle from its smallest module
                walk(start, nxt, [*trail, nxt])
    for name in sorted(names):
        walk(name, name, [name])
    return sorted(cycles.values(), key=len)


def test_no_import_cycle_inside_core() -> None:
    assert [" -> ".join(c) for c in import_cycles(ROOT, "core")] == []


def test_the_cycle_check_finds_every_circle(tmp_path: Path) -> None:
    (tmp_path / "core" / "usecases").mkdir(parents=True)
    (tmp_path / "core" / "usecases" / "__init__.py").write_text(
        "from core.usecases import a, b\n", encoding="utf-8")
    (tmp_path / "core" / "usecases" / "a.py").write_text(
        "from core.usecases import b\n", encoding="utf-8")
    (tmp_path / "core" / "usecases" / "b.py").write_text(
        "def f():\n    from core.usecases.a import g\n", encoding="utf-8")
    (tmp_path / "core" / "model.py").write_text("import core.usecases\n", encoding="utf-8")
    (tmp_path / "core" / "rules.py").write_text("from core import model\n", encoding="utf-8")
    assert import_cycles(tmp_path, "core") == [["core.usecases.a", "core.usecases.b",
                                                "core.usecases.a"]]
    (tmp_path / "core" / "usecases" / "b.py").write_text("from core import rules\n",
                                                         encoding="utf-8")
    assert import_cycles(tmp_path, "core") == [
        ["core.model", "core.usecases", "core.usecases.b", "core.rules", "core.model"],
        ["core.model", "core.usecases", "core.usecases.a", "core.usecases.b", "core.rules",
         "core.model"]]


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
