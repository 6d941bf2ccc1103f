"""The layers import one way: index <- assistant <- ui, and only the faces know the web stack."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

FACE_LIBRARIES = {"fastapi", "starlette", "gradio", "uvicorn", "argparse", "click", "typer"}
FORBIDDEN = {
    "index": {"assistant", "ui", *FACE_LIBRARIES},
    "assistant": {"ui", *FACE_LIBRARIES},
}


def imported_roots(path: Path) -> set[str]:
    """The top-level names of every module a file imports (at any depth of the file)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer):
    wrong = {
        str(path.relative_to(REPO)): sorted(imported_roots(path) & FORBIDDEN[layer])
        for path in sorted((REPO / layer).rglob("*.py"))
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from ui.server import serve\n    import gradio as gr\n")
    assert imported_roots(module) == {"ui", "gradio"}
