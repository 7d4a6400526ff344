"""Engine modules the TUI needs (and the CLI can call): workspace operations,
serial capture, previews, settings edits, emulator sessions, validation, and
the benchmark's per-library results."""
from __future__ import annotations

import os
import threading
import time
import tty
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine.errors import InputError, NeaiError, UsageError
from neai_tui.engine.project import Project, ProjectSettings, Workspace, default_workspace_dir
from tests.conftest import tone_signals, write_signals

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    return ws


def anomaly_project(ws: Workspace, name: str = "Fan", lines: int = 40) -> Project:
    rng = np.random.default_rng(5)
    project = ws.create_project(ProjectSettings(name=name, type="anomaly", axes=3))
    folder = ws.root.parent / f"{name}-data"
    folder.mkdir(exist_ok=True)
    nominal = write_signals(folder / "nominal.csv", tone_signals(rng, lines, 50.0))
    abnormal = write_signals(folder / "abnormal.csv", tone_signals(rng, lines // 2, 120.0))
    project.import_signal(nominal, role="nominal")
    project.import_signal(abnormal, role="abnormal")
    return project


# -- workspace operations ------------------------------------------------------------------
def test_duplicate_copies_everything_under_a_new_name(workspace):
    from neai_tui.engine.workspace_ops import duplicate_project

    original = anomaly_project(workspace)
    copy = duplicate_project(workspace, original.path, "Fan B")
    assert copy.path.parent == workspace.root and copy.path != original.path
    assert copy.settings.name == "Fan B" and len(copy.signals) == 2
    assert (copy.path / copy.signals[0].file).read_bytes() == (original.path / original.signals[0].file).read_bytes()
    assert Project.open(original.path).settings.name == "Fan"
    assert not [p for p in workspace.root.iterdir() if p.name.startswith(".")]  # no partial folder left


def test_delete_stays_inside_the_workspace(workspace, tmp_path):
    from neai_tui.engine.workspace_ops import delete_project

    project = anomaly_project(workspace)
    outside = Project.create(tmp_path / "elsewhere", ProjectSettings(name="Keep", type="anomaly", axes=1))
    with pytest.raises(UsageError, match="not a project folder of the workspace"):
        delete_project(workspace, outside.path)
    with pytest.raises(UsageError):
        delete_project(workspace, workspace.root)
    (workspace.root / "notes").mkdir()
    with pytest.raises(UsageError, match="not a neai project"):
        delete_project(workspace, workspace.root / "notes")
    link = workspace.root / "link"
    link.symlink_to(outside.path)
    with pytest.raises(UsageError):
        delete_project(workspace, link)
    delete_project(workspace, project.path)
    assert not project.path.exists() and outside.path.is_dir() and (workspace.root / "notes").is_dir()
    assert [p.name for p in workspace.root.iterdir() if p.name.startswith(".")] == []


def test_export_then_import_round_trip(workspace, tmp_path):
    from neai_tui.engine.workspace_ops import export_project, import_project_archive

    project = anomaly_project(workspace)
    archive = export_project(project.path, tmp_path / "out" / "fan.zip")
    with zipfile.ZipFile(archive) as zf:
        assert f"{project.path.name}/project.json" in zf.namelist()
    with pytest.raises(UsageError, match="inside the project"):
        export_project(project.path, project.path / "self.zip")
    imported = import_project_archive(workspace, archive)
    assert imported.path != project.path and imported.settings.name == "Fan"
    assert [s.lines for s in imported.signals] == [s.lines for s in project.signals]
    assert not [p for p in imported.check() if p.severity == "error"]


def test_import_refuses_unsafe_or_foreign_archives(workspace, tmp_path):
    from neai_tui.engine.workspace_ops import import_project_archive

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("p/project.json", "{}")
        zf.writestr("../escape.txt", "x")
    with pytest.raises(InputError, match="outside the project"):
        import_project_archive(workspace, evil)
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match="not a project archive"):
        import_project_archive(workspace, foreign)
    not_zip = tmp_path / "plain.zip"
    not_zip.write_text("plain")
    with pytest.raises(InputError, match="not a zip"):
        import_project_archive(workspace, not_zip)
    assert not (tmp_path.parent / "escape.txt").exists()
    assert list(workspace.root.iterdir()) == []


def test_filter_projects_matches_every_word(workspace):
    from neai_tui.engine.workspace_ops import filter_projects

    workspace.create_project(ProjectSettings(name="Motor bearings", type="anomaly", axes=3))
    workspace.create_project(ProjectSettings(name="Pump", type="n-class", axes=1, target="NUCLEO-F401RE"))
    summaries = workspace.list_projects()
    assert [s.name for s in filter_projects(summaries, "")] == ["Motor bearings", "Pump"]
    assert [s.name for s in filter_projects(summaries, "MOTOR anomaly")] == ["Motor bearings"]
    assert [s.name for s in filter_projects(summaries, "f401")] == ["Pump"]
    assert filter_projects(summaries, "motor n-class") == []


def test_workspace_folder_from_config_unless_env(tmp_path, monkeypatch):
    from neai_tui.engine.user_config import save_workspace

    monkeypatch.setenv("NEAI_CONFIG_DIR", str(tmp_path / "config"))
    saved = save_workspace(tmp_path / "projects")
    assert saved.is_dir()
    monkeypatch.delenv("NEAI_WORKSPACE")
    assert default_workspace_dir() == saved
    monkeypatch.setenv("NEAI_WORKSPACE", str(tmp_path / "env"))
    assert default_workspace_dir() == tmp_path / "env"
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        save_workspace(tmp_path / "file")


# -- settings ----------------------------------------------------------------------------------
def test_update_settings_validates_and_locks_the_sensor(workspace):
    project = anomaly_project(workspace)
    project.update_settings(name="Fan 2", max_ram_kb=4.0, target="NUCLEO-L476RG")
    reopened = Project.open(project.path)
    assert (reopened.settings.name, reopened.settings.max_ram_kb, reopened.settings.target) == ("Fan 2", 4.0, "NUCLEO-L476RG")
    with pytest.raises(UsageError, match="cannot change once signals are imported"):
        project.update_settings(axes=2)
    with pytest.raises(UsageError, match="unknown target"):
        project.update_settings(target="no-such-board")
    assert Project.open(project.path).settings.target == "NUCLEO-L476RG"  # a refused change is not saved
    project.update_settings(frequency_filter={"sampling_rate_hz": 1000.0, "low_hz": 10.0, "high_hz": 200.0})
    assert Project.open(project.path).settings.frequency_filter["high_hz"] == 200.0
    for bad, message in [
        ({"sampling_rate_hz": 1000.0, "low_hz": 300.0, "high_hz": 200.0}, "below the high cut-off"),
        ({"sampling_rate_hz": 1000.0, "high_hz": 600.0}, "half the sampling rate"),
        ({"low_hz": 5.0}, "need the sampling rate"),
        ({"sampling_rate_hz": -1.0}, "must be positive"),
    ]:
        with pytest.raises(UsageError, match=message):
            project.update_settings(frequency_filter=bad)


# -- previews ----------------------------------------------------------------------------------
def test_preview_and_spectrum_of_a_file(workspace):
    from neai_tui.engine.preview import signal_preview, spectrum

    project = anomaly_project(workspace)
    preview = signal_preview(project, "s1")
    assert preview.x_label == "sample" and len(preview.x) == 64 and [a.name for a in preview.axes] == ["x", "y", "z"]
    axis = preview.axes[0]
    assert all(lo <= m <= hi for lo, m, hi in zip(axis.minimum, axis.mean, axis.maximum))
    assert max(axis.std) > 0.3  # random phases: about 0.7 for a unit tone
    bins = spectrum(project, "s1")
    assert bins.x_label == "bin" and bins.sampling_rate_hz is None
    project.update_settings(frequency_filter={"sampling_rate_hz": 1000.0})
    hz = spectrum(project, "s1")
    peak = hz.frequencies[int(np.argmax(hz.magnitudes[0]))]
    assert hz.x_label == "Hz" and abs(peak - 50.0) <= 1000.0 / 64  # the 50 Hz tone, within one bin
    with pytest.raises(UsageError):
        signal_preview(project, "s9")


def test_multisensor_preview_runs_along_the_lines(workspace, tmp_path):
    from neai_tui.engine.preview import signal_preview

    project = workspace.create_project(ProjectSettings(name="Line", type="anomaly", axes=2, multisensor=True))
    rows = np.column_stack([np.arange(600.0), np.ones(600)])
    project.import_signal(write_signals(tmp_path / "ms.csv", rows), role="nominal")
    preview = signal_preview(project, "s1", max_points=100)
    assert preview.x_label == "line" and len(preview.x) == 100
    assert preview.axes[0].minimum[0] == 0.0 and preview.axes[0].maximum[-1] == 599.0
    assert [a.name for a in preview.axes] == ["variable 1", "variable 2"]


# -- serial capture -----------------------------------------------------------------------------
def pty_port():
    main, secondary = os.openpty()
    tty.setraw(secondary)
    return main, secondary, os.ttyname(secondary)


def test_serial_capture_keeps_whole_lines_and_counts_the_rest(tmp_path):
    from neai_tui.engine.serial_capture import capture

    main, secondary, name = pty_port()
    seen = []

    def board():
        time.sleep(0.2)
        os.write(main, b"5 6\n")  # the port opened mid-line: a cut first line
        for i in range(6):
            os.write(main, f"{i} {i + 1} {i + 2}\r\n".encode())
        os.write(main, b"hello world\n1 2\n")
        os.write(main, b"7,8,9\n10;11;12\n13 14 15\n")

    threading.Thread(target=board, daemon=True).start()
    try:
        result = capture(name, tmp_path / "cap.csv", max_lines=8, idle_timeout=5, progress=seen.append)
    finally:
        os.close(main)
        os.close(secondary)
    assert (result.lines, result.dropped, result.values_per_line, result.reason) == (8, 3, 3, "max-lines")
    lines = (tmp_path / "cap.csv").read_text().splitlines()
    assert lines[0] == "0 1 2" and lines[-1] == "10 11 12" and len(lines) == 8
    assert seen and seen[-1].lines == 8


def test_serial_capture_stops_on_request_and_imports(workspace):
    from neai_tui.engine.serial_capture import capture_and_import

    project = workspace.create_project(ProjectSettings(name="Serial", type="anomaly", axes=1))
    main, secondary, name = pty_port()
    cancel = threading.Event()
    counts = []

    def board():
        time.sleep(0.2)
        for i in range(30):
            os.write(main, (" ".join(str(i + k) for k in range(8)) + "\n").encode())
        time.sleep(0.3)
        cancel.set()

    threading.Thread(target=board, daemon=True).start()
    try:
        result, entry = capture_and_import(project, name, role="nominal", cancel=cancel,
                                           progress=lambda p: counts.append(p.lines))
    finally:
        os.close(main)
        os.close(secondary)
    assert result.reason == "stopped" and result.lines == 30
    assert entry.lines == 30 and entry.values_per_line == 8 and entry.role == "nominal"
    assert Path(entry.original) == result.path.resolve() and result.path.parent.name == "captures"


def test_serial_capture_reports_silence_and_bad_ports(tmp_path):
    from neai_tui.engine.serial_capture import capture

    main, secondary, name = pty_port()
    try:
        with pytest.raises(InputError, match="nothing came from"):
            capture(name, tmp_path / "none.csv", idle_timeout=0.3)
    finally:
        os.close(main)
        os.close(secondary)
    assert not (tmp_path / "none.csv").exists()
    with pytest.raises(UsageError, match="cannot open serial port"):
        capture(str(tmp_path / "no-such-port"), tmp_path / "x.csv", idle_timeout=0.3)


# -- a real benchmark and library, shared by the tests below ------------------------------------
@pytest.fixture(scope="module")
def benchmarked(tmp_path_factory):
    from neai_tui.engine.deploy import deploy
    from neai_tui.engine.search import run_benchmark

    ws = Workspace(tmp_path_factory.mktemp("bench") / "ws")
    ws.ensure()
    project = anomaly_project(ws, lines=60)
    result = run_benchmark(project, max_evals=48, cores=1, seed=3)
    built = deploy(project)
    return project, result, built.zip_path


def test_library_results_on_the_held_out_split(benchmarked):
    from neai_tui.engine.bench_results import learning_curve, library_results

    project, result, _ = benchmarked
    results = library_results(project)
    assert results["type"] == "anomaly" and results["library"] == result.best["id"]
    couple = results["couples"][0]
    assert couple["learned"] == 36 and len(couple["nominal"]) == 24 and len(couple["abnormal"]) == 30
    assert all(0 <= s <= 100 for s in couple["nominal"] + couple["abnormal"])
    assert results["balanced_accuracy"] == pytest.approx(
        np.mean([np.mean(np.array(couple["nominal"]) >= 90), np.mean(np.array(couple["abnormal"]) < 90)]), abs=1e-4)
    curve = learning_curve(project)
    assert curve["min_learning_iterations"] == result.best["min_learning_iterations"]
    assert len(curve["counts"]) == len(curve["balanced_accuracy"])


def test_emulator_session_learns_detects_and_rescales_through_the_c(benchmarked):
    from neai_tui.engine.emulator import emulate
    from neai_tui.engine.emulator_session import EmulatorSession, list_library_zips, parse_range

    project, _, zip_path = benchmarked
    assert [z["path"] for z in list_library_zips(project)] == [zip_path]
    nominal, abnormal = (project.signal_path(s) for s in project.signals)
    session = EmulatorSession(zip_path)
    assert session.learned == 0
    learned = session.learn(nominal, "1-30")
    assert (learned["lines"], learned["learned"]) == (30, 30)
    assert session.learn(nominal, "31-40")["learned"] == 40
    report = session.detect(abnormal, "")
    assert [r["line"] for r in report.results] == list(range(1, 31))
    # The same as `neai emulate` with the same learning lines.
    cli = emulate(zip_path, learn=[nominal], detect=abnormal)
    session.init()
    session.learn(nominal, "")
    assert [r["similarity"] for r in session.detect(abnormal).results] == [r["similarity"] for r in cli["results"]]
    before = [r["similarity"] for r in session.detect(nominal, "41-60").results]
    after = session.set_sensitivity(4.0)
    assert [r["line"] for r in after.results] == list(range(41, 61))
    assert sum(r["similarity"] for r in after.results) <= sum(before)
    cli_sens = emulate(zip_path, learn=[nominal], detect=nominal, sensitivity=4.0)
    assert [r["similarity"] for r in after.results] == [r["similarity"] for r in cli_sens["results"]][40:60]
    # Sessions do not share state (one private copy of the host build each).
    other = EmulatorSession(zip_path)
    assert other.learned == 0 and session.learned == 60
    assert parse_range("", 10) == (1, 10) and parse_range("3-5", 10) == (3, 5)
    assert parse_range("7-", 10) == (7, 10) and parse_range("-4", 10) == (1, 4) and parse_range("2", 10) == (2, 2)
    for bad in ("5-2", "x", "11"):
        with pytest.raises(NeaiError):
            parse_range(bad, 10)


def test_validation_compares_libraries(benchmarked, tmp_path):
    from neai_tui.engine.validation import ValidationFile, validate

    project, _, zip_path = benchmarked
    nominal, abnormal = (project.signal_path(s) for s in project.signals)
    reports = validate(
        [zip_path, tmp_path / "missing.zip"],
        learn=[ValidationFile(nominal, line_range="1-40")],
        tests=[ValidationFile(nominal, "nominal", "41-"), ValidationFile(abnormal, "abnormal")],
    )
    good, missing = reports
    assert good.learned == 40 and [f["lines"] for f in good.files] == [20, 30]
    shares = [f["correct"] / 100 for f in good.files]
    assert good.balanced_accuracy == pytest.approx(np.mean(shares), abs=1e-3)
    assert good.files[0]["at_least_90"] == good.files[0]["correct"]
    assert "no such library zip" in missing.error
    with pytest.raises(UsageError):
        validate([], tests=[ValidationFile(nominal)])


def test_validation_builds_the_candidates_without_a_zip_first(benchmarked, monkeypatch, tmp_path):
    """Candidates are built by deploy (not selected by it), once; a failed build is
    that candidate's error; nothing is built for a missing file or after a stop.
    The build is faked (the best's zip under another id); the comparison is real."""
    import json

    from neai_tui.engine import deploy as deploy_module
    from neai_tui.engine.deploy import DeployResult
    from neai_tui.engine.errors import Cancelled, ToolchainError
    from neai_tui.engine.search import list_libraries, selected_library_id
    from neai_tui.engine.validation import ValidationFile, validate_project_libraries

    project, result, zip_path = benchmarked
    best = result.best["id"]
    fresh, broken = [lib["id"] for lib in list_libraries(project) if lib["id"] != best][:2]
    builds = []

    def fake_deploy(project_, *, lib_id=None, select=True, progress=None, **options):
        builds.append((lib_id, select))
        progress("compiling")
        if lib_id == broken:
            raise ToolchainError("the cortex-m4f build and the host build disagree on 1 of 72 lines")
        out = project_.path / "deploy" / f"{lib_id}_cortex-m4f.zip"
        with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(out, "w") as dst:
            meta = {**json.loads(src.read("metadata.json")), "library_id": lib_id}
            for name in src.namelist():
                dst.writestr(name, json.dumps(meta) if name == "metadata.json" else src.read(name))
        return DeployResult(out, meta)

    monkeypatch.setattr(deploy_module, "deploy", fake_deploy)
    nominal, abnormal = (project.signal_path(s) for s in project.signals)
    learn, tests = [ValidationFile(nominal, line_range="1-40")], [ValidationFile(abnormal, "abnormal")]
    selected = selected_library_id(project)
    said: list[str] = []
    try:
        reports = validate_project_libraries(project, zips=[zip_path], candidates=[fresh, best, broken],
                                             learn=learn, tests=tests, progress=said.append)
        assert [r.library_id for r in reports] == [best, fresh, best, broken]
        assert builds == [(fresh, False), (broken, False)]  # the best has a zip: not built again
        given, built, reused, failed = reports
        assert built.built and not reused.built and not given.built
        assert built.zip_path == project.path / "deploy" / f"{fresh}_cortex-m4f.zip"
        assert built.files == given.files and built.learned == 40
        assert "disagree" in failed.error and not failed.files
        assert f"building {fresh} (1 of 2): compiling" in said
        assert selected_library_id(project) == selected
        again = validate_project_libraries(project, candidates=[fresh], learn=learn, tests=tests)
        assert not again[0].built and again[0].files == given.files
        stop = threading.Event()
        stop.set()
        with pytest.raises(Cancelled):
            validate_project_libraries(project, candidates=[broken], tests=tests, cancel=stop)
        with pytest.raises(InputError, match="no such file"):
            validate_project_libraries(project, candidates=[broken], tests=[ValidationFile(tmp_path / "none.csv")])
        with pytest.raises(UsageError):
            validate_project_libraries(project, tests=tests)
        assert len(builds) == 2
    finally:
        (project.path / "deploy" / f"{fresh}_cortex-m4f.zip").unlink(missing_ok=True)


# -- results of the other project types (the benchmark's results plot) ----------------------------
SAMPLES = REPO / "sample_data"


def trained_project(ws: Workspace, kind: str) -> Project:
    """A project of the bundled sample fan, benchmarked briefly (seeded)."""
    from neai_tui.engine.search import run_benchmark

    project = ws.create_project(ProjectSettings(name=kind, type=kind, axes=3))
    if kind == "n-class":
        for name in ("normal", "imbalance", "tapping"):
            project.import_signal(SAMPLES / "nclass" / f"{name}.csv")
    elif kind == "one-class":
        project.import_signal(SAMPLES / "oneclass" / "normal.csv")
    else:
        project.import_signal(SAMPLES / "extrapolation" / "speed.csv")
    run_benchmark(project, max_evals=12, cores=1, seed=5)
    return project


@pytest.fixture
def c_inferences(monkeypatch):
    """Counts the rows each call of the C inference (trained.predict_c) ran."""
    from neai_tui.engine import trained

    rows: list[int] = []
    real = trained.predict_c

    def counting(fitted, features):
        rows.append(len(features))
        return real(fitted, features)

    monkeypatch.setattr(trained, "predict_c", counting)
    return rows


def test_nclass_results_are_the_c_probabilities_of_held_out_lines(workspace, c_inferences):
    from neai_tui.engine.bench_results import library_results
    from neai_tui.engine.tasks.nclass import classification_metrics, confusion

    project = trained_project(workspace, "n-class")
    results = library_results(project)
    assert results["type"] == "n-class" and results["classes"] == ["normal", "imbalance", "tapping"]
    n = results["tested"]
    assert c_inferences == [n] and len(results["true"]) == len(results["probabilities"]) == n
    assert results["fitted"] + n == 108 and sorted(set(results["true"])) == [0, 1, 2]  # stratified: every class
    proba = np.array(results["probabilities"])
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-3)
    assert results["predicted"] == np.argmax(proba, axis=1).tolist()
    true = np.array(results["true"])
    metrics = classification_metrics(confusion(true, np.array(results["predicted"]), 3), proba, true)
    assert results["balanced_accuracy"] == pytest.approx(metrics["balanced_accuracy"], abs=1e-4)


def test_extrapolation_results_pair_predictions_with_real_values(workspace, c_inferences):
    from neai_tui.engine.bench_results import library_results
    from neai_tui.engine.tasks.extrapolation import regression_metrics

    project = trained_project(workspace, "extrapolation")
    results = library_results(project)
    assert results["type"] == "extrapolation" and c_inferences == [results["tested"]]
    speeds = np.loadtxt(SAMPLES / "extrapolation" / "speed.csv")[:, 0]
    assert results["real"] == pytest.approx(speeds[np.array(results["lines"]) - 1].tolist())
    assert results["r2"] == pytest.approx(regression_metrics(results["real"], results["predicted"])["r2"], abs=1e-4)
    assert results["r2"] > 0.5  # the sample fan's speed is easy to hear


def test_oneclass_results_project_lines_and_the_c_boundary(workspace, c_inferences):
    from neai_tui.engine.bench_results import GRID_COLUMNS, GRID_ROWS, library_results

    project = trained_project(workspace, "one-class")
    results = library_results(project)
    normal, synthetic, grid = results["normal"], results["synthetic"], results["grid"]
    assert results["type"] == "one-class" and len(normal["x"]) == len(normal["outlier"]) == results["tested"]
    # Held-out lines, the synthetic outliers shown, all of them (rejection), then the grid: all by the C.
    assert c_inferences == [results["tested"], len(synthetic["x"]), c_inferences[2], GRID_ROWS * GRID_COLUMNS]
    assert results["recall"] == pytest.approx(1 - np.mean(normal["outlier"]), abs=1e-4)
    assert [s > results["threshold"] for s in normal["score"]] == normal["outlier"]
    from neai_tui.engine.tasks.oneclass import SYNTHETIC_KINDS

    assert set(synthetic["kind"]) == set(SYNTHETIC_KINDS)  # the gross and the subtle families (issue 13)
    flags = np.array(grid["outlier"])
    assert flags.shape == (GRID_ROWS, GRID_COLUMNS) and flags.any() and not flags.all()  # a boundary crosses it
    assert len(grid["xs"]) == GRID_COLUMNS and grid["xs"][0] < min(normal["x"]) <= max(normal["x"]) < grid["xs"][-1]


def test_multisensor_results_are_per_held_out_window(workspace):
    from neai_tui.engine.bench_results import library_results
    from neai_tui.engine.search import run_benchmark

    project = workspace.create_project(ProjectSettings(name="Pump", type="anomaly", axes=6, multisensor=True))
    project.import_signal(SAMPLES / "multisensor" / "nominal.csv", role="nominal")
    project.import_signal(SAMPLES / "multisensor" / "abnormal.csv", role="abnormal")
    run_benchmark(project, max_evals=16, cores=1, seed=2)
    results = library_results(project)
    couple = results["couples"][0]
    assert results["type"] == "anomaly" and results["unit"] == "window"
    assert len(couple["nominal_lines"]) == len(couple["nominal"]) > 0
    assert len(couple["abnormal_lines"]) == len(couple["abnormal"]) > 0
    assert max(couple["nominal_lines"]) <= 3000 and max(couple["abnormal_lines"]) <= 800
    assert couple["learned"] > 0 and all(0 <= s <= 100 for s in couple["nominal"] + couple["abnormal"])


def test_extrapolation_emulator_takes_training_files_and_keeps_real_values(workspace):
    """The emulator runs an extrapolation library on a file with the real value first
    (a training file) and pairs each prediction with it."""
    from neai_tui.engine.deploy import deploy
    from neai_tui.engine.emulator_session import EmulatorSession

    project = trained_project(workspace, "extrapolation")
    session = EmulatorSession(deploy(project).zip_path)
    report = session.detect(SAMPLES / "extrapolation" / "speed.csv", "1-20")
    speeds = np.loadtxt(SAMPLES / "extrapolation" / "speed.csv")[:20, 0]
    assert [r["real"] for r in report.results] == pytest.approx(speeds.tolist())
    assert report.summary["rmse"] == pytest.approx(
        np.sqrt(np.mean((speeds - [r["value"] for r in report.results]) ** 2)), rel=1e-4)
    plain = session.detect(SAMPLES / "extrapolation" / "speed_try.csv")  # no real values: predictions only
    assert "real" not in plain.results[0] and "rmse" not in plain.summary
    with pytest.raises(InputError):
        session.detect(SAMPLES / "fan" / "nominal.csv")  # 3 x 256 samples: neither layout fits
