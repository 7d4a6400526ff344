"""`neai tools …` run as a user would: exit codes, one JSON document, messages with
file:line:column, nothing of the user's modified, no output replaced without --force."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np

from .test_tools import write_logger_csv


def neai(*args, code=0):
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", "tools", *map(str, args)],
                            capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stdout + result.stderr
    return result


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reshape_json_and_refusals(tmp_path):
    src = write_logger_csv(tmp_path / "run.csv", rows=64, labels=[0] * 40 + [1] * 24)
    before = digest(src)
    out = tmp_path / "nominal.csv"
    doc = json.loads(neai("reshape", src, "--where", "anomaly=0", "--buffer", 8, "--hop", 4, "--rate", 100,
                          "--out", out, "--json").stdout)
    assert doc["lines"] == 9 and doc["values_per_line"] == 24 and doc["columns"] == ["x", "y", "z"]
    assert doc["buffer_seconds"] == 0.08 and doc["inputs"][0]["runs"] == 1
    assert any(w["code"] == "few-lines" for w in doc["warnings"])
    written = out.read_bytes()

    again = neai("reshape", src, "--buffer", 8, "--out", out, code=2)
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert out.read_bytes() == written
    neai("reshape", src, "--buffer", 8, "--out", out, "--force")
    assert out.read_bytes() != written
    assert "one of the inputs" in neai("reshape", src, "--buffer", 8, "--out", src, "--force", code=2).stderr
    assert digest(src) == before


def test_reshape_bad_inputs_exit_2_with_a_location(tmp_path):
    src = write_logger_csv(tmp_path / "run.csv")
    lines = src.read_bytes().decode().split("\r\n")
    lines[7] = lines[7].replace(";61;", ";NaN;")
    src.write_bytes("\r\n".join(lines).encode())
    before = digest(src)
    bad = neai("reshape", src, "--buffer", 4, "--out", tmp_path / "o.csv", code=2)
    assert f"{src}:8:3:" in bad.stderr and "Fix:" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 2  # one paragraph: the problem, then its fix
    missing = neai("reshape", src, "--columns", "pressure", "--buffer", 4, "--out", tmp_path / "o.csv", code=2)
    assert "no column named 'pressure'" in missing.stderr and "2 x" in missing.stderr
    assert "buffer size is missing" in neai("reshape", src, "--out", tmp_path / "o.csv", code=2).stderr
    assert "invalid int value" in neai("reshape", src, "--buffer", "big", "--out", tmp_path / "o.csv", code=2).stderr
    assert "file not found" in neai("reshape", tmp_path / "nope.csv", "--buffer", 4, "--out", tmp_path / "o.csv",
                                    code=2).stderr
    assert not (tmp_path / "o.csv").exists() and digest(src) == before


def test_sampling_json(tmp_path):
    rng = np.random.default_rng(5)
    t = np.arange(2048) / 1000.0
    for name, extra in (("idle", 0.0), ("running", 0.5)):
        x = np.sin(2 * np.pi * 30 * t) + extra * np.sin(2 * np.pi * 90 * t) + 0.05 * rng.standard_normal(len(t))
        (tmp_path / f"{name}.csv").write_text("".join(f"{v:.5f}\n" for v in x))
    doc = json.loads(neai("sampling", tmp_path / "idle.csv", f"run={tmp_path / 'running.csv'}", "--rate", 1000,
                          "--max-buffer", 128, "--max-decimation", 4, "--json").stdout)
    assert doc["mode"] == "separability" and [s["name"] for s in doc["states"]] == ["idle", "run"]
    assert doc["recommended"]["accuracy"] > 0.9 and doc["recommended"]["rate_hz"] >= 250
    text = neai("sampling", tmp_path / "idle.csv", "--rate", 1000, "--max-buffer", 128).stdout
    assert "recommended:" in text and "no separability" in text
    assert "positive" in neai("sampling", tmp_path / "idle.csv", "--rate", -1, code=2).stderr


def test_datalogger_and_usage(tmp_path):
    doc = json.loads(neai("datalogger", tmp_path / "fw", "--axes", 3, "--rate", 1000, "--buffer", 256,
                          "--json").stdout)
    assert doc["files"] == [str(tmp_path / "fw" / "main.c")] and doc["board"] == "generic"
    refused = neai("datalogger", tmp_path / "fw", "--axes", 3, "--rate", 1000, "--buffer", 256, code=2)
    assert "already exists" in refused.stderr
    sketch = neai("datalogger", tmp_path / "neai_logger", "--board", "arduino", "--axes", 1, "--rate", 50,
                  "--buffer", 64).stdout
    assert "neai_logger.ino" in sketch and (tmp_path / "neai_logger" / "neai_logger.ino").is_file()
    assert "choose a tool" in neai(code=2).stderr
    help_text = neai("--help").stdout
    assert all(word in help_text for word in ("reshape", "sampling", "datalogger", "--force"))
