"""The engine never imports UI code (the import-linter contract says the same)."""
import subprocess
import sys


def test_engine_imports_no_ui():
    code = (
        "import sys, importlib, pkgutil, neai_tui.engine as e\n"
        "for m in pkgutil.iter_modules(e.__path__):\n"
        "    importlib.import_module('neai_tui.engine.' + m.name)\n"
        "bad = [m for m in ('textual', 'plotext', 'neai_tui.app', 'neai_tui.screens') if m in sys.modules]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_linter_contract():
    import shutil

    lint = shutil.which("lint-imports", path=str(__import__("pathlib").Path(sys.executable).parent))
    if lint is None:
        import pytest

        pytest.skip("import-linter is not installed")
    result = subprocess.run([lint], capture_output=True, text=True, cwd=__import__("pathlib").Path(__file__).parents[1])
    assert result.returncode == 0, result.stdout + result.stderr
