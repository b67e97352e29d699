"""Every stats key the crawler writes is declared in tressless_crawler/stats.py.

Components name their keys through the module's constants and families; a key given as a
string literal (or an f-string) at the place that writes it would be a key nothing declares.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tressless_crawler import stats

PACKAGE = Path(stats.__file__).parent
WRITERS = {"inc_value", "set_value", "max_value", "min_value", "_inc"}


def _literal(node: ast.AST) -> bool:
    """A key written out where it is used: "a/b", f"a/{b}", "a/" + b."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _literal(node.left) or _literal(node.right)
    if isinstance(node, ast.IfExp):
        return _literal(node.body) or _literal(node.orelse)
    return False


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def written_keys() -> list[tuple[str, int, ast.AST]]:
    """(file, line, key expression) of every stats write in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == Path(stats.__file__) or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in WRITERS and node.args:
                found.append((str(path.relative_to(PACKAGE)), node.lineno, node.args[0]))
            # Counters of stats built before they are added (``counts[key] = ...``).
            targets = (
                [node.target]
                if isinstance(node, ast.AugAssign)
                else node.targets
                if isinstance(node, ast.Assign)
                else []
            )
            for target in targets:
                if isinstance(target, ast.Subscript) and _name(target.value) in ("stats", "counts"):
                    found.append((str(path.relative_to(PACKAGE)), node.lineno, target.slice))
    return found


def test_the_package_writes_stats():
    assert len(written_keys()) > 80  # the walk finds the writes


def test_every_key_written_is_named_from_the_stats_module():
    literal = [
        f"{path}:{line}: {ast.unparse(key)}" for path, line, key in written_keys() if _literal(key)
    ]
    assert not literal, "declare these keys in tressless_crawler/stats.py:\n" + "\n".join(literal)


def test_every_declared_key_is_used():
    """A declaration nothing refers to is a key no longer written (or read)."""
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in PACKAGE.rglob("*.py")
        if path != Path(stats.__file__)
    )
    declared = [
        name
        for name, value in vars(stats).items()
        if name.isupper()
        and ((isinstance(value, str) and value in stats.KEYS) or isinstance(value, stats.Family))
    ]
    assert len(declared) == len(stats.KEYS) + len(stats.FAMILIES)
    assert [name for name in declared if name not in source] == []


@pytest.mark.parametrize(
    ("key", "declared"),
    [
        ("store/new", True),
        ("store/studies/unchanged", True),
        ("parse/dropped/parse_error", True),
        ("dedupe/dropped/duplicate_study", True),
        ("retry/backoff/count", True),
        ("fill/studies/_items", True),
        ("charset/repaired/utf-8", True),
        ("parse/dropped", False),
        ("store/studies/new/extra", False),
        ("downloader/request_count", False),
    ],
)
def test_keys_are_declared_by_constant_or_family(key: str, declared: bool) -> None:
    assert stats.is_declared(key) is declared


def test_crawl_runs_columns_come_from_declared_or_scrapy_keys():
    for column, key in stats.RUN_COLUMNS.items():
        assert stats.is_declared(key) or key in (stats.SCRAPY_RESPONSES, stats.SCRAPY_ERRORS), (
            column
        )
