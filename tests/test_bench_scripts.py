"""The bench/ scripts keep working (a short run; the figures are the scripts' job)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_anomaly_library_script_runs():
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "anomaly_library.py"), "--time", "3", "--cores", "1", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc, "one JSON document"


def test_real_data_script_explains_missing_data(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "real_data_e2e.py"), "--data", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0 and "prepare_real_data.py" in result.stderr


@pytest.mark.slow
def test_search_vs_random_script_runs():
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "search_vs_random.py"), "--samples", "fan", "--ref-time", "2",
         "--time", "2", "--seeds", "1", "--cores", "1", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    (sample,) = doc["samples"]
    assert sample["sample"] == "fan" and set(sample["strategies"]) == {"tpe", "random"}
    assert "Traceback" not in result.stderr


def test_serial_lines_script_runs():
    result = subprocess.run([sys.executable, str(REPO / "bench" / "serial_lines.py"), "--sizes", "1", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["rows"]
    assert row["line_mb"] == 1 and row["splitter_s"] > 0 and row["old_s"] > 0
