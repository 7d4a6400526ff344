"""The `neai` command line contract (SPEC §2), run as a user would."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from .conftest import tone_signals, write_signals


def neai(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True, text=True)
    assert "Traceback" not in result.stderr, result.stderr
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(11)
    nominal = write_signals(tmp / "nominal.csv", np.vstack([tone_signals(rng, 40, 50.0), tone_signals(rng, 40, 90.0)]))
    abnormal = write_signals(tmp / "abnormal.csv", tone_signals(rng, 30, 200.0, amp=2.0))
    held_out = write_signals(tmp / "new.csv", np.vstack([tone_signals(rng, 10, 50.0), tone_signals(rng, 10, 200.0, amp=2.0)]))
    hashes = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (nominal, abnormal)}
    d = tmp / "proj"
    neai("new", d, "--type", "anomaly", "--axes", 3, "--max-ram", 8, "--max-flash", 16, "--target", "NUCLEO-L432KC")
    neai("import", d, nominal, "--role", "nominal")
    neai("import", d, abnormal, "--role", "abnormal")
    for p, h in hashes.items():
        assert hashlib.sha256(p.read_bytes()).hexdigest() == h
    return {"dir": d, "nominal": nominal, "abnormal": abnormal, "new": held_out, "tmp": tmp}


def test_check_json(project):
    doc = json.loads(neai("check", project["dir"], "--json").stdout)
    assert doc["ok"] and len(doc["signals"]) == 2


def test_bench_libs_deploy_emulate(project):
    d = project["dir"]
    doc = json.loads(neai("bench", d, "--evals", 300, "--seed", 3, "--cores", 1, "--json").stdout)
    best = doc["best"]
    assert set(best) >= {"id", "score", "metrics", "ram_bytes", "flash_bytes", "pipeline", "min_learning_iterations"}
    assert best["metrics"]["balanced_accuracy"] >= 0.95
    libs = json.loads(neai("libs", d, "--json").stdout)["libraries"]
    assert libs[0]["id"] == best["id"]
    out = project["tmp"] / "lib.zip"
    neai("deploy", d, "--out", out)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        meta = json.loads(zf.read("metadata.json"))
    assert {"libneai.a", "NanoEdgeAI.h", "metadata.json", "main.c", "emulator/emulate.py"} <= names
    assert meta["measured"]["identical"] and meta["core"] == "cortex-m4f" and meta["float_abi"] == "hard"
    # The search's size estimate next to the measured one, as a signed error.
    for kind in ("ram", "flash"):
        est, real = meta["estimated"][f"{kind}_bytes"], meta["measured"][f"{kind}_bytes"]
        assert meta["estimate_error_pct"][kind] == round(100.0 * (est - real) / real, 1)
    res = json.loads(neai("emulate", out, "--learn", project["nominal"], "--detect", project["new"], "--json").stdout)
    assert res["learned"] == 80
    sims = [r["similarity"] for r in res["results"]]
    assert np.mean([s >= 90 for s in sims[:10]]) >= 0.8 and all(s < 90 for s in sims[10:])
    # The zip's own runner gives the same answer without neai installed.
    with zipfile.ZipFile(out) as zf:
        zf.extractall(project["tmp"] / "unzipped")
    own = subprocess.run(
        [sys.executable, project["tmp"] / "unzipped" / "emulator" / "emulate.py", "--learn", project["nominal"],
         "--detect", project["new"]], capture_output=True, text=True, check=True)
    assert [r["similarity"] for r in json.loads(own.stdout)["results"]] == sims


def test_same_seed_same_best_on_any_core_count(project, tmp_path):
    a = json.loads(neai("bench", project["dir"], "--new", "--evals", 250, "--seed", 9, "--cores", 1, "--json").stdout)
    b = json.loads(neai("bench", project["dir"], "--new", "--evals", 250, "--seed", 9, "--cores", 2, "--json").stdout)
    assert a["best"]["pipeline"] == b["best"]["pipeline"]
    assert a["best"]["score"] == b["best"]["score"]


def test_deploy_with_suffix_and_m0plus(project):
    out = project["tmp"] / "vib.zip"
    neai("deploy", project["dir"], "--suffix", "vibration", "--target", "cortex-m0plus", "--out", out)
    with zipfile.ZipFile(out) as zf:
        header = zf.read("NanoEdgeAI_vibration.h").decode()
        meta = json.loads(zf.read("metadata.json"))
    assert "neai_anomalydetection_detect_vibration" in header and "NB_AXES_vibration" in header
    assert meta["float_abi"] == "soft" and meta["measured"]["identical"]


def test_deploy_optimised_for_speed_is_verified_and_recorded(project):
    """--optimize speed builds -O2 objects; the ARM build is still checked against the
    host build, and metadata.json says which build its measured figures are of."""
    out = project["tmp"] / "speed.zip"
    result = neai("deploy", project["dir"], "--optimize", "speed", "--out", out, "--json")
    meta = json.loads(result.stdout)["metadata"]
    assert (meta["optimize"], meta["optimize_flag"]) == ("speed", "-O2")
    assert meta["measured"]["identical"] and meta["measured"]["lines_compared"] > 0
    assert "compiling for cortex-m4f (-O2)" in result.stderr
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("metadata.json"))["optimize"] == "speed"
    # Without --out, each build gets its own zip: a speed build does not replace the size one.
    from types import SimpleNamespace

    from neai_tui.engine.deploy import default_zip_path

    where = SimpleNamespace(path=project["dir"])
    assert default_zip_path(where, "b1-c7", "cortex-m4f", None).name == "b1-c7_cortex-m4f.zip"
    assert default_zip_path(where, "b1-c7", "cortex-m4f", "fan", "speed").name == "b1-c7_cortex-m4f_fan_speed.zip"
    size = project["tmp"] / "lib.zip"  # test_bench_libs_deploy_emulate's, built with the default
    if size.is_file():
        with zipfile.ZipFile(size) as zf, zipfile.ZipFile(out) as fast:
            assert json.loads(zf.read("metadata.json"))["optimize"] == "size"
            assert zf.read("libneai.a") != fast.read("libneai.a")


@pytest.mark.parametrize(
    "args, needle",
    [
        (("new", "{tmp}/x", "--type", "anomaly"), "--axes"),
        (("new", "{tmp}/y", "--type", "n-class", "--variables", "4"), "Multi-sensor"),
        (("import", "{tmp}/nope", "{tmp}/nominal.csv", "--role", "nominal"), "not a neai project"),
        (("import", "{dir}", "{tmp}/missing.csv", "--role", "nominal"), "missing.csv"),
        (("bench", "{dir}", "--cores", "0"), "--cores"),
        (("deploy", "{dir}", "--target", "esp32"), "unknown target"),
        (("deploy", "{dir}", "--suffix", "9bad"), "suffix"),
        (("deploy", "{dir}", "--optimize", "fast"), "invalid choice: 'fast'"),
        (("emulate", "{tmp}/none.zip", "--detect", "{tmp}/new.csv"), "no such library zip"),
    ],
)
def test_bad_usage_exits_2_with_message(project, args, needle):
    fmt = {"tmp": project["tmp"], "dir": project["dir"]}
    result = neai(*[a.format(**fmt) for a in args], check=False)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr


def test_emulate_wrong_shape_names_file_and_line(project, tmp_path):
    bad = write_signals(tmp_path / "short.csv", np.ones((5, 30)))
    zips = list(project["tmp"].glob("*.zip"))
    if not zips:
        pytest.skip("needs the deploy test's zip")
    result = neai("emulate", zips[0], "--detect", bad, check=False)
    assert result.returncode == 2 and "short.csv:1" in result.stderr
