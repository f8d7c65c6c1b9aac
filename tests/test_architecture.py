"""Layering rules of DESIGN.md, checked on the source: services never import telegram,
handlers never import sqlalchemy, and no module reads settings at import time."""

from __future__ import annotations

import ast
import re
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


def _handler_modules() -> list[Path]:
    return [p for p in (ROOT / "handlers").glob("*.py") if p.name != "__init__.py"]


def test_no_handler_module_imports_another():
    """Features meet only through the registry (bot.features) and shared bot.* modules."""
    for path in _handler_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("handlers"), f"{path.name}: {node.module}"
                names = [alias.name for alias in node.names]
                assert node.module != "handlers" or not names, f"{path.name} imports {names}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("handlers"), f"{path.name}: {alias.name}"


def test_every_feature_module_registers_itself():
    import handlers

    listed = {f.__module__ for f in handlers.FEATURES}
    for path in _handler_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "register" in functions, f"{path.name} has no register(features)"
        assert f"handlers.{path.stem}" in listed, f"{path.name} is not in handlers.FEATURES"


BUTTON_DATA = re.compile(r"^[a-z]{1,3}:[a-z0-9{]")


def _string_starts(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield node.lineno, first.value + "{"


def test_no_button_data_is_written_outside_the_codec():
    """Callback data is built only by bot.callbacks classes (pack), never by hand."""
    offenders = []
    for folder in ("bot/services", "bot/jobs", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for line, text in _string_starts(tree):
                if BUTTON_DATA.match(text) and not text.startswith(("http:", "https:")):
                    offenders.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert not offenders, "\n".join(offenders)
