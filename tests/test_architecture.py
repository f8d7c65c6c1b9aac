"""Layering rules of DESIGN.md, checked on the source: services never import telegram,
handlers never import sqlalchemy, and no module reads settings at import time."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_services_and_models_never_import_telegram():
    for folder in ("bot/services", "models"):
        for path in (ROOT / folder).rglob("*.py"):
            assert "telegram" not in _imports(path), path


def test_handlers_never_import_sqlalchemy():
    for path in (ROOT / "handlers").rglob("*.py"):
        assert "sqlalchemy" not in _imports(path), path


def test_every_module_has_a_docstring():
    for folder in ("bot", "handlers", "models"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if tree.body:
                assert ast.get_docstring(tree), f"{path} has no module docstring"


def test_no_module_level_settings_instance():
    for folder in ("bot", "handlers", "models"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                    func = node.value.func
                    name = getattr(func, "id", getattr(func, "attr", ""))
                    assert name not in {"Settings", "load_settings"}, path
