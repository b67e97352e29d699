"""One source of setting defaults: tressless_crawler/settings.py.

docs/settings.md is generated from it, components take their defaults from it
(tressless_crawler.defaults), and no component writes a default of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tressless_crawler import defaults, settings_doc
from tressless_crawler import settings as project_settings

PACKAGE = Path(project_settings.__file__).parent
GETTERS = {"get", "getint", "getfloat", "getbool", "getlist", "getdict"}


def test_docs_settings_md_is_generated_from_settings_py() -> None:
    text = settings_doc.DOC.read_text(encoding="utf-8")
    assert settings_doc.rewrite(text, settings_doc.blocks()) == text, (
        f"docs/settings.md is not up to date with settings.py: run {settings_doc.COMMAND}"
    )


def test_every_setting_is_documented_and_every_documented_setting_is_set() -> None:
    assert settings_doc.problems() == []


def test_the_documented_defaults_are_the_module_s_without_environment() -> None:
    declared = settings_doc.declared_settings()
    assert set(declared) == set(defaults.DEFAULTS)
    for name, setting in declared.items():
        if setting.environment is None:
            assert setting.default == defaults.DEFAULTS[name], name
    assert declared["SITE_URL"].default == "https://tressless.com"
    assert declared["SITE_URL"].environment == "CRAWLER_SITE_URL"
    assert declared["HTTPCACHE_ENABLED"].default is False
    assert declared["DOWNLOAD_MAXSIZE"].default == 8 * 1024 * 1024


def test_a_stale_table_is_found_and_rewritten(tmp_path: Path) -> None:
    doc = tmp_path / "settings.md"
    text = settings_doc.DOC.read_text(encoding="utf-8")
    doc.write_text(text.replace("| `STORE_BATCH_SIZE` | `500` |", "| `STORE_BATCH_SIZE` | `5` |"))
    assert settings_doc.main(["--check", "--doc", str(doc)]) == 1
    assert settings_doc.main(["--doc", str(doc)]) == 0
    assert doc.read_text(encoding="utf-8") == text


def _setting_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isupper()


def _settings_getter(node: ast.AST) -> bool:
    """``settings.getint``, ``self.crawler.settings.get``, ..."""
    if not (isinstance(node, ast.Attribute) and node.attr in GETTERS):
        return False
    owner = node.value
    name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
    return name.endswith("settings")


def _a_default(node: ast.AST) -> bool:
    """A default written out: a literal other than None and the empty string."""
    if isinstance(node, ast.Constant):
        return node.value not in (None, "")
    return isinstance(node, (ast.List, ast.Tuple, ast.Dict, ast.BinOp, ast.UnaryOp))


def test_no_component_keeps_a_copy_of_a_default() -> None:
    """``settings.getfloat("X", 30.0)`` or ``settings.get("X") or "data/journal"``: a default
    that would drift from settings.py. Components use tressless_crawler.defaults."""
    copies = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("settings.py", "settings_doc.py") or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', '?')}"
            if (
                isinstance(node, ast.Call)
                and _settings_getter(node.func)
                and len(node.args) >= 2
                and _setting_name(node.args[0])
                and _a_default(node.args[1])
            ):
                copies.append(f"{where}: {ast.unparse(node)}")
            if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
                first, *rest = node.values
                if (
                    isinstance(first, ast.Call)
                    and _settings_getter(first.func)
                    and first.args
                    and _setting_name(first.args[0])
                    and any(_a_default(value) for value in rest)
                ):
                    copies.append(f"{where}: {ast.unparse(node)}")
    assert copies == []
