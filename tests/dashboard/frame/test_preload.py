"""Libraries looked up in sys.modules are whole before any page code runs (dashboard/frame/preload.py)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_frame_imports_the_preload_at_module_level():
    tree = ast.parse((ROOT / "dashboard" / "app.py").read_text(encoding="utf-8"))
    top_level = [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
    assert "dashboard.frame.preload" in top_level


def test_after_the_preload_pandas_and_pyarrow_are_complete_for_whoever_peeks():
    # A fresh interpreter, as a fresh server: nothing else has imported them.
    check = (
        "import sys, dashboard.frame.preload\n"
        "from narwhals.dependencies import get_pandas, get_pyarrow\n"
        "assert get_pandas().Series and get_pyarrow().Table\n"
        "print('whole')\n"
    )
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "whole", done.stderr[-2000:]
