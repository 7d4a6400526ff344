"""Validation experiments (`neai validate`, `neai experiments`): for every project
type, two libraries run on held-out lines give, for each, the figures computed
from `neai emulate`'s outputs on the same files; experiments are kept with their
data hashes, listed, filtered and compared.

On the samples always; on held-out ITSC recordings where ../shared/data exists."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neai_tui.cli import main
from neai_tui.engine.project import Project, ProjectSettings
from neai_tui.engine.search import list_libraries, run_benchmark

from .conftest import REPO, SHARED_DATA

SAMPLES = REPO / "sample_data"
pytestmark = pytest.mark.slow


def run(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def run_json(capsys, *args) -> dict:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def write_lines(path: Path, rows) -> Path:
    path.write_text("".join(" ".join(f"{v:.6g}" for v in row) + "\n" for row in rows))
    return path


def two_libraries(project: Project) -> list[str]:
    """The best and the next library of a different preprocessing (two real alternatives)."""
    libs = list_libraries(project)
    first = libs[0]
    other = next((lib for lib in libs[1:] if lib["pipeline"].split(" -> ")[0] != first["pipeline"].split(" -> ")[0]),
                 libs[1])
    return [first["id"], other["id"]]


def zips_of(project: Project, ids: list[str]) -> dict[str, Path]:
    from neai_tui.engine.validation import candidate_zip

    return {lib: candidate_zip(project, lib) for lib in ids}


def emulate(capsys, zip_path: Path, mode: str, file: Path, learn: Path | None = None) -> list[dict]:
    args = ["emulate", zip_path, f"--{mode}", file]
    if learn is not None:
        args += ["--learn", learn]
    return run_json(capsys, *args)["results"]


def result_of(doc: dict, lib: str) -> dict:
    return next(r for r in doc["results"] if r["library"] == lib)


# ------------------------------------------------------------------------ the four types, on the samples
@pytest.fixture(scope="module")
def anomaly_case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fan")
    nominal = np.loadtxt(SAMPLES / "fan" / "nominal.csv")
    abnormal = np.loadtxt(SAMPLES / "fan" / "abnormal.csv")
    project = Project.create(tmp / "fan", ProjectSettings(name="fan", type="anomaly", axes=3))
    project.import_signal(write_lines(tmp / "nominal.csv", nominal[:200]), role="nominal")
    project.import_signal(write_lines(tmp / "abnormal.csv", abnormal[::2]), role="abnormal")
    run_benchmark(project, max_evals=120, seed=1)
    files = {"learn": write_lines(tmp / "learn.csv", nominal[200:260]),
             "nominal": write_lines(tmp / "new_nominal.csv", nominal[260:]),
             "abnormal": write_lines(tmp / "new_abnormal.csv", abnormal[1::2])}
    return project, two_libraries(project), files


def test_anomaly_validate_equals_emulate(anomaly_case, capsys):
    project, libs, files = anomaly_case
    doc = run_json(capsys, "validate", project.path, "--lib", *libs, "--learn", files["learn"],
                   "--test", f"{files['nominal']}:nominal", f"{files['abnormal']}:abnormal")
    assert [lib["id"] for lib in doc["libraries"]] == libs and all(lib["built"] for lib in doc["libraries"])
    assert [t["sha256"] for t in doc["tests"]] == [hashlib.sha256(files[k].read_bytes()).hexdigest()
                                                  for k in ("nominal", "abnormal")]
    from sklearn.metrics import roc_auc_score

    for lib, zip_path in zips_of(project, libs).items():
        nominal = [r["similarity"] for r in emulate(capsys, zip_path, "detect", files["nominal"], files["learn"])]
        abnormal = [r["similarity"] for r in emulate(capsys, zip_path, "detect", files["abnormal"], files["learn"])]
        accepted = np.mean(np.array(nominal) >= 90)
        detected = np.mean(np.array(abnormal) < 90)
        result = result_of(doc, lib)
        assert result["learned"] == 60
        assert [f["correct"] for f in result["files"]] == [round(100 * accepted, 1), round(100 * detected, 1)]
        assert [f["lines"] for f in result["files"]] == [40, 75]
        m = result["metrics"]
        assert m["balanced_accuracy"] == round((accepted + detected) / 2, 4)
        assert m["nominal_accepted"] == round(accepted, 4) and m["abnormal_detected"] == round(detected, 4)
        y = [0] * len(nominal) + [1] * len(abnormal)
        assert m["auc"] == round(roc_auc_score(y, [100 - s for s in nominal + abnormal]), 4)
    # kept in the project, with the outputs, listed and filtered
    stored = run_json(capsys, "experiments", project.path, "--show", doc["id"])
    assert stored["results"] == doc["results"]
    outputs = json.loads((project.path / "experiments" / doc["id"] / "outputs.json").read_text())
    assert [r["similarity"] for r in outputs[libs[0]][0]] == [
        r["similarity"] for r in emulate(capsys, zips_of(project, libs)[libs[0]], "detect", files["nominal"],
                                         files["learn"])]


def test_experiment_history_filter_and_side_by_side(anomaly_case, capsys):
    project, libs, files = anomaly_case
    first = run_json(capsys, "validate", project.path, "--lib", libs[0], "--learn", files["learn"],
                     "--test", f"{files['abnormal']}:abnormal", "--note", "faults only")
    second = run_json(capsys, "validate", project.path, "--lib", libs[0], "--learn", files["learn"],
                      "--test", f"{files['nominal']}:nominal", f"{files['abnormal']}:abnormal", "--sensitivity", 1.5)
    listed = run_json(capsys, "experiments", project.path)["experiments"]
    assert [e["id"] for e in listed][-2:] == [first["id"], second["id"]]
    only = run_json(capsys, "experiments", project.path, "--filter", "faults")["experiments"]
    assert [e["id"] for e in only] == [first["id"]]
    both = run_json(capsys, "experiments", project.path, "--filter", libs[0], "new_nominal")["experiments"]
    assert second["id"] in [e["id"] for e in both] and first["id"] not in [e["id"] for e in both]
    cmp = run_json(capsys, "experiments", project.path, "--compare", first["id"], second["id"])
    rows = {(r["library"], r["figure"]): r for r in cmp["figures"]}
    ba = rows[(libs[0], "balanced_accuracy")]
    assert ba["a"] == result_of(first, libs[0])["metrics"]["balanced_accuracy"]
    assert ba["b"] == result_of(second, libs[0])["metrics"]["balanced_accuracy"]
    same = {row["file"]: row["same_content"] for row in cmp["data"]}
    assert same == {files["abnormal"].name: True, files["nominal"].name: False}
    code, out, _ = run(capsys, "experiments", project.path, "--compare", first["id"], second["id"])
    assert code == 0 and "balanced_accuracy" in out and "same content" in out


def test_validate_bad_input_says_what_to_do(anomaly_case, capsys, tmp_path):
    project, libs, files = anomaly_case
    cases = [
        (["--lib", "b9-c1", "--test", f"{files['nominal']}:nominal"], "no library 'b9-c1'"),
        (["--lib", libs[0], "--test", f"{files['nominal']}:sideways"], "not an expected answer"),
        (["--lib", libs[0], "--test", f"{tmp_path / 'none.csv'}:nominal"], "no such test file"),
        (["--lib", libs[0]], "no test data"),
    ]
    before = sorted(p.name for p in (project.path / "experiments").iterdir())
    for args, needle in cases:
        code, _, err = run(capsys, "validate", project.path, *args)
        assert code == 2 and needle in err, err
    assert sorted(p.name for p in (project.path / "experiments").iterdir()) == before  # nothing stored


@pytest.fixture(scope="module")
def nclass_case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nclass")
    project = Project.create(tmp / "p", ProjectSettings(name="fan classes", type="n-class", axes=3))
    held = {}
    for name in ("normal", "imbalance", "obstruction", "tapping"):
        values = np.loadtxt(SAMPLES / "nclass" / f"{name}.csv")
        project.import_signal(write_lines(tmp / f"{name}.csv", values[:28]), class_name=name)
        held[name] = write_lines(tmp / f"new_{name}.csv", values[28:])
    run_benchmark(project, max_evals=40, seed=2)
    return project, two_libraries(project), held


def test_nclass_validate_equals_emulate(nclass_case, capsys):
    project, libs, held = nclass_case
    doc = run_json(capsys, "validate", project.path, "--lib", *libs,
                   "--test", *(f"{path}:{name.upper()}" for name, path in held.items()))  # class names in any case
    classes = list(held)
    for lib, zip_path in zips_of(project, libs).items():
        cm = np.zeros((4, 4), dtype=int)
        for i, (name, path) in enumerate(held.items()):
            for r in emulate(capsys, zip_path, "classify", path):
                cm[i, classes.index(r["class"])] += 1
        m = result_of(doc, lib)["metrics"]
        assert m["confusion"] == cm.tolist() and m["classes"] == classes
        recall = np.diag(cm) / cm.sum(axis=1)
        assert m["balanced_accuracy"] == round(float(recall.mean()), 4)
        assert m["recall_per_class"] == [round(float(v), 4) for v in recall]
        assert [f["correct"] for f in result_of(doc, lib)["files"]] == [round(100 * v, 1) for v in recall]


def test_oneclass_and_extrapolation_validate_equal_emulate(tmp_path, capsys):
    normal = np.loadtxt(SAMPLES / "oneclass" / "normal.csv")
    oc = Project.create(tmp_path / "oc", ProjectSettings(name="oc", type="one-class", axes=3))
    oc.import_signal(write_lines(tmp_path / "normal.csv", normal[:80]))
    run_benchmark(oc, max_evals=24, seed=1)
    new_normal = write_lines(tmp_path / "new_normal.csv", normal[80:])
    other = SAMPLES / "oneclass" / "other.csv"
    libs = two_libraries(oc)
    doc = run_json(capsys, "validate", oc.path, "--lib", *libs, "--test", f"{new_normal}:normal", f"{other}:outlier")
    for lib, zip_path in zips_of(oc, libs).items():
        kept = np.mean([not r["outlier"] for r in emulate(capsys, zip_path, "outlier", new_normal)])
        flagged = np.mean([r["outlier"] for r in emulate(capsys, zip_path, "outlier", other)])
        m = result_of(doc, lib)["metrics"]
        assert m["recall"] == round(kept, 4) and m["outlier_rejection"] == round(flagged, 4)
        assert m["balanced_accuracy"] == round((kept + flagged) / 2, 4)

    speed = np.loadtxt(SAMPLES / "extrapolation" / "speed.csv")
    ex = Project.create(tmp_path / "ex", ProjectSettings(name="ex", type="extrapolation", axes=3))
    ex.import_signal(write_lines(tmp_path / "speed.csv", speed[:110]))
    run_benchmark(ex, max_evals=24, seed=1)
    with_targets = write_lines(tmp_path / "new_speed.csv", speed[110:])
    without = write_lines(tmp_path / "new_speed_inputs.csv", speed[110:, 1:])
    libs = two_libraries(ex)
    doc = run_json(capsys, "validate", ex.path, "--lib", *libs, "--test", with_targets)
    from neai_tui.engine.tasks.extrapolation import regression_metrics

    for lib, zip_path in zips_of(ex, libs).items():
        values = [r["value"] for r in emulate(capsys, zip_path, "extrapolate", without)]
        expected = regression_metrics(speed[110:, 0], np.array(values))
        m = result_of(doc, lib)["metrics"]
        assert m == {k: round(v, 6) for k, v in expected.items()}


# ------------------------------------------------------------------------ held-out ITSC recordings
@pytest.fixture(scope="module")
def itsc(tmp_path_factory):
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    out = tmp_path_factory.mktemp("real")
    subprocess.run([sys.executable, str(REPO / "bench" / "prepare_real_data.py"), "--data", str(SHARED_DATA),
                    "--out", str(out), "--only", "itsc"], check=True, capture_output=True)
    return out / "itsc"


def test_itsc_held_out_recordings_validate_equals_emulate(itsc, tmp_path, capsys):
    """Anomaly detection trained on recordings 1-3 of every class, validated on recordings 4-5."""
    d = tmp_path / "motor"
    project = Project.create(d, ProjectSettings(name="motor", type="anomaly", axes=3))
    project.import_signal(itsc / "train" / "itsc_nominal.csv", role="nominal")
    project.import_signal(itsc / "train" / "itsc_abnormal.csv", role="abnormal")
    run_benchmark(project, max_evals=200, seed=1)
    libs = two_libraries(project)
    learn, nominal, abnormal = (itsc / "train" / "itsc_nominal.csv", itsc / "test" / "itsc_nominal.csv",
                                itsc / "test" / "itsc_abnormal.csv")
    doc = run_json(capsys, "validate", d, "--lib", *libs, "--learn", learn, "--test", f"{nominal}:nominal",
                   f"{abnormal}:abnormal")
    for lib, zip_path in zips_of(project, libs).items():
        sims = [[r["similarity"] for r in emulate(capsys, zip_path, "detect", f, learn)] for f in (nominal, abnormal)]
        accepted, detected = np.mean(np.array(sims[0]) >= 90), np.mean(np.array(sims[1]) < 90)
        result = result_of(doc, lib)
        assert [f["correct"] for f in result["files"]] == [round(100 * accepted, 1), round(100 * detected, 1)]
        assert result["metrics"]["balanced_accuracy"] == round((accepted + detected) / 2, 4)


def test_itsc_held_out_recordings_nclass(itsc, tmp_path, capsys):
    """Three classes (healthy, phase A and phase B at 40 %) fitted on recordings 1-3, validated on 4-5."""
    names = ("SC_HLT", "SC_A4_B0_C0", "SC_A0_B4_C0")
    project = Project.create(tmp_path / "classes", ProjectSettings(name="classes", type="n-class", axes=3))
    for name in names:
        project.import_signal(itsc / "train" / f"itsc_class_{name}.csv", class_name=name)
    run_benchmark(project, max_evals=30, seed=1)
    libs = two_libraries(project)
    tests = [itsc / "test" / f"itsc_class_{name}.csv" for name in names]
    doc = run_json(capsys, "validate", project.path, "--lib", *libs,
                   "--test", *(f"{t}:{name}" for t, name in zip(tests, names)))
    for lib, zip_path in zips_of(project, libs).items():
        right = [np.mean([r["class"] == name for r in emulate(capsys, zip_path, "classify", t)])
                 for t, name in zip(tests, names)]
        assert result_of(doc, lib)["metrics"]["balanced_accuracy"] == round(float(np.mean(right)), 4)


def test_test_lines_from_a_live_serial_port(anomaly_case, capsys):
    """A board prints held-out lines on a serial port (a pty here); `--test-port`
    captures them into the project, then the libraries run on them as on a file."""
    import os
    import threading
    import time
    import tty

    project, libs, files = anomaly_case
    main_fd, secondary = os.openpty()
    tty.setraw(secondary)
    port = os.ttyname(secondary)
    lines = files["abnormal"].read_text().splitlines()[:30]

    def board():
        time.sleep(0.3)
        os.write(main_fd, b"0.12 0.3\r\n")  # the port opened mid-line: the cut line is dropped
        for line in lines:
            os.write(main_fd, (line + "\r\n").encode())

    threading.Thread(target=board, daemon=True).start()
    try:
        doc = run_json(capsys, "validate", project.path, "--lib", libs[0], "--learn", files["learn"],
                       "--test-port", f"{port}:abnormal", "--port-lines", 30)
    finally:
        os.close(main_fd)
        os.close(secondary)
    test = doc["tests"][0]
    assert test["source"] == "serial" and test["port"] == port and test["lines"] == 30
    captured = Path(test["path"])
    assert captured.parent == project.path / "captures"
    assert hashlib.sha256(captured.read_bytes()).hexdigest() == test["sha256"]
    sims = [r["similarity"] for r in emulate(capsys, zips_of(project, libs[:1])[libs[0]], "detect", captured,
                                             files["learn"])]
    assert result_of(doc, libs[0])["files"][0]["correct"] == round(100 * np.mean(np.array(sims) < 90), 1)
