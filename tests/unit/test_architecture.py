"""docs/architecture.md draws the package's layout; the drawing and the tree must agree.

The layout block is the first fenced block under "## Layout": one entry per line, two spaces of
indent per level, a folder ending in "/", a module in ".py", then its purpose. Every module of
the package (``__init__.py`` files and Alembic's revision files aside) is drawn, and every drawn
module and folder exists.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "tressless_crawler"
DOC = ROOT / "docs" / "architecture.md"
ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[\w.]+/|[\w.]+\.py)(?:\s|$)")


def drawn_layout() -> tuple[set[str], set[str]]:
    """(modules, folders) the layout block draws, as paths from the project's root."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1]
    block = section.split("```", 2)[1]
    modules: set[str] = set()
    folders: set[str] = set()
    stack: list[str] = []
    for line in block.splitlines()[1:]:
        match = ENTRY.match(line)
        if not match:
            continue
        depth = len(match["indent"]) // 2
        del stack[depth:]
        name = match["name"]
        path = "/".join([*stack, name.rstrip("/")])
        if name.endswith("/"):
            folders.add(path)
            stack.append(name.rstrip("/"))
        else:
            names = line.split()
            if all(word.endswith(".py") for word in names):  # a row of modules, no purposes
                modules.update("/".join([*stack, word]) for word in names)
            else:
                modules.add(path)
    return modules, folders


def package_modules() -> set[str]:
    found = set()
    for path in (ROOT / PACKAGE).rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if path.name == "__init__.py" or "/migrations/versions/" in relative:
            continue
        found.add(relative)
    return found


def test_the_layout_draws_every_module_of_the_package() -> None:
    modules, _ = drawn_layout()
    missing = sorted(package_modules() - modules)
    assert not missing, f"docs/architecture.md's layout lacks: {missing}"


def test_every_drawn_module_and_folder_exists() -> None:
    modules, folders = drawn_layout()
    assert f"{PACKAGE}" in folders
    absent = sorted(path for path in modules if not (ROOT / path).is_file())
    absent += sorted(path + "/" for path in folders if not (ROOT / path).is_dir())
    assert not absent, f"docs/architecture.md draws what the tree lacks: {absent}"
