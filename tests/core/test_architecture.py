"""core/ must never import Qt: the CLI and the packaged build rely on it."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "lwface_desktop" / "core"
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6")


def test_core_sources_do_not_import_qt():
    offenders = []
    for source in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{source.name}: {n}" for n in names if n.split(".")[0] in QT]
    assert offenders == []


def test_importing_core_and_running_the_cli_loads_no_qt():
    modules = [f"lwface_desktop.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__"]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules) + "import lwface_desktop.cli\n"
            f"print([m for m in sys.modules if m.split('.')[0] in {QT!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
