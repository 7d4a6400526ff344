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


@pytest.mark.slow
def test_field_trained_runs_a_sample_case(tmp_path):
    """bench/field_trained.py's run() (which bench/field.py calls): the CLI flow on a
    held-out block of the 1-class sample, with the baselines beside it."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import field_trained
    finally:
        sys.path.remove(str(REPO / "bench"))
    rows = field_trained.run(None, time_s=3, cores=1, only=["sample-oneclass"], work=tmp_path, log=lambda m: None)
    assert [r["measure"] for r in rows] == ["normal lines kept", "outliers flagged"]
    for row in rows:
        assert 0.0 <= row["library"] <= 1.0 and row["estimate"] is not None
        assert set(row["baselines"]) == {"IsolationForest (raw)", "LocalOutlierFactor (raw)"}
    assert "normal lines kept" in field_trained.format_rows(rows)


def test_nclass_speed_script_explains_missing_data(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "nclass_speed.py"), "--data", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0 and "prepare_real_data.py" in result.stderr
