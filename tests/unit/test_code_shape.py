"""The shape of the code outside the tests: no function or method is longer than seventy lines.

A function is measured from its `def` line (decorators left out) to the last line of its body;
nested functions and methods, sync and async, count on their own.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[2]
# Every package the project ships, read from pyproject.toml so a new package cannot be missed.
PACKAGES = tuple(
    pattern.rstrip("*")
    for pattern in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
)
LINES_MAX = 70

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, Function]]:
    """Every function in the tree with its dotted name (`Class.method`, `outer.inner`)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from _functions(node, prefix + node.name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")
        else:
            yield from _functions(node, prefix)


def _source_files() -> list[Path]:
    missing = [name for name in PACKAGES if not (ROOT / name).is_dir()]
    assert not missing, f"no such package under {ROOT}: {missing}"
    return sorted(path for name in PACKAGES for path in (ROOT / name).rglob("*.py"))


def _too_long(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for name, function in _functions(tree):
        lines = (function.end_lineno or function.lineno) - function.lineno + 1
        if lines > LINES_MAX:
            yield f"{path.relative_to(ROOT)}:{function.lineno} {name} ({lines} lines)"


def test_no_function_outside_the_tests_is_longer_than_seventy_lines() -> None:
    too_long = [found for path in _source_files() for found in _too_long(path)]
    assert not too_long, f"functions over {LINES_MAX} lines:\n" + "\n".join(too_long)
