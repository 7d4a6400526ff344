"""The project's steps, driven headless with Pilot: settings, signals, benchmark,
emulator, validation, deployment; and the home screen staying interactive while a
real benchmark runs."""
from __future__ import annotations

import asyncio
import os
import re
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select

from neai_tui.app import NeaiApp
from neai_tui.engine.errors import NeaiError
from neai_tui.engine.project import Project, ProjectSettings, Workspace
from neai_tui.messages import BenchmarkProgressed
from neai_tui.screens.benchmark import NewBenchmarkScreen
from neai_tui.screens.dialogs import ConfirmScreen, ErrorScreen
from neai_tui.screens.home import HomeScreen
from neai_tui.screens.signals import FrequencyFilterScreen, SerialCaptureScreen
from tests.test_tui import SIZE, make_workspace, open_first_project, screen_text, settle, visible_text, write_csv

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "fan"


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEAI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def workspace(tmp_path) -> Path:
    return make_workspace(tmp_path / "workspace")


@pytest.fixture
def imported(workspace, tmp_path) -> Path:
    """The workspace, its Motor project holding a nominal and an abnormal file (3 axes x 16)."""
    project = Project.open(workspace / "motor")
    project.import_signal(write_csv(tmp_path / "nominal.csv", lines=40, seed=1), role="nominal")
    project.import_signal(write_csv(tmp_path / "abnormal.csv", lines=20, seed=2), role="abnormal")
    return workspace


@pytest.fixture(scope="module")
def fan_workspace(tmp_path_factory) -> Path:
    """The sample fan project with a short real benchmark and a deployed library zip."""
    from neai_tui.engine.deploy import deploy
    from neai_tui.engine.search import run_benchmark

    root = tmp_path_factory.mktemp("fan") / "workspace"
    project = Workspace(root).create_project(ProjectSettings(name="Fan", type="anomaly", axes=3))
    project.import_signal(SAMPLE / "nominal.csv", role="nominal")
    project.import_signal(SAMPLE / "abnormal.csv", role="abnormal")
    run_benchmark(project, max_evals=64, cores=1, seed=1)
    deploy(project)
    Workspace(root).create_project(ProjectSettings(name="Spare", type="anomaly", axes=1))  # listed after Fan
    return root


# -- settings ------------------------------------------------------------------------------------
async def test_settings_are_edited_and_saved(imported):
    app = NeaiApp(workspace=imported)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        assert screen.query_one("#settings-type").disabled and screen.query_one("#settings-axes").disabled
        screen.query_one("#settings-name", Input).value = "Motor B"
        screen.query_one("#settings-ram", Input).value = "6"
        screen.query_one("#settings-target", Input).value = "nucleo-f40"
        await pilot.pause()
        assert screen.query_one("#settings-target-matches").option_count == 1  # F401RE
        screen.query_one("#settings-target", Input).focus()
        await pilot.press("down", "enter", "ctrl+s")
        await settle(pilot)
        assert screen.title == "Motor B"
        assert "STM32F401RE" in screen_text(app)
        screen.query_one("#settings-flash", Input).value = "lots"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen) and "max flash must be a number" in app.screen.message
    saved = Project.open(imported / "motor").settings
    assert (saved.name, saved.max_ram_kb, saved.target, saved.max_flash_kb) == ("Motor B", 6.0, "NUCLEO-F401RE", None)


# -- signals -------------------------------------------------------------------------------------
async def test_signals_checks_preview_spectrum_and_filter(imported):
    app = NeaiApp(workspace=imported)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("2")
        await settle(pilot)
        pane = screen.pane("signals")
        table = pane.query_one("#signals-table", DataTable)
        assert [str(table.get_row_at(i)[1]) for i in range(2)] == ["! 1 warn", "! 1 warn"]
        assert "s1 s1_nominal.csv: 40 lines × 48 values" in screen_text(app)  # the highlighted file's checks
        await pilot.press("o")
        await settle(pilot)
        assert pane.optional and "optional checks" not in screen_text(app).split("All files")[-1]
        await pilot.press("v")
        await settle(pilot)
        text = visible_text(app)
        assert "s1 x: 40 lines" in text and "mean" in text and "min–max" in text and "std" in text
        await pilot.press("a")
        await settle(pilot)
        assert "s1 y: 40 lines" in visible_text(app)
        await pilot.press("v")
        await settle(pilot)
        assert "spectrum" in visible_text(app) and "bin" in visible_text(app)
        await pilot.press("F")
        assert isinstance(app.screen, FrequencyFilterScreen)
        app.screen.query_one("#rate", Input).value = "1000"
        app.screen.query_one("#high", Input).value = "800"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ErrorScreen) and "half the sampling rate" in app.screen.message
        await pilot.press("escape")
        app.screen.query_one("#high", Input).value = "400"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "1000 Hz sampling" in visible_text(app) and "Hz" in visible_text(app)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert table.row_count == 1
    project = Project.open(imported / "motor")
    assert project.settings.frequency_filter == {"sampling_rate_hz": 1000.0, "low_hz": None, "high_hz": 400.0}
    assert [s.id for s in project.signals] == ["s2"]


async def test_serial_capture_dialog_records_and_imports(workspace):
    main, secondary = os.openpty()
    tty.setraw(secondary)
    port = os.ttyname(secondary)

    def board():
        for i in range(200):
            try:
                os.write(main, (" ".join(f"{(i + k) % 7}.5" for k in range(48)) + "\n").encode())
            except OSError:  # the test is over
                return
            time.sleep(0.005)

    app = NeaiApp(workspace=workspace)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await open_first_project(pilot)
            await pilot.press("2", "c")
            dialog = app.screen
            assert isinstance(dialog, SerialCaptureScreen)
            dialog.query_one("#port", Input).value = port
            dialog.query_one("#max-lines", Input).value = "25"
            threading.Thread(target=board, daemon=True).start()
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is screen
            table = screen.pane("signals").query_one("#signals-table", DataTable)
            assert table.row_count == 1 and table.get_row_at(0)[2] == "25"  # lines
    finally:
        os.close(main)
        os.close(secondary)
    entry = Project.open(workspace / "motor").signals[0]
    assert entry.lines == 25 and entry.role == "nominal" and "captures" in entry.original


# -- benchmark (the engine's long work replaced by fakes) ----------------------------------------------
@dataclass
class FakeProgress:
    evals_done: int
    evals_per_s: float
    elapsed_s: float
    best_score: float | None
    best: dict | None
    new_best: bool
    message: str = ""
    workers: int = 1


@dataclass
class FakeResult:
    benchmark: str
    best: dict | None
    evals_done: int = 0
    elapsed_s: float = 0.0
    status: str = "done"


BEST = {
    "id": "b1-c7",
    "benchmark": "b1",
    "score": 91.5,
    "metrics": {"balanced_accuracy": 0.95, "functional_margin": 0.4},
    "ram_bytes": 1536,
    "flash_bytes": 4096,
    "pipeline_text": "FFT 8 bands -> gauss",
    "counts": [1, 2, 4, 8, 16, 32],
    "balanced_accuracy": [0.5, 0.6, 0.8, 0.9, 0.95, 0.95],
    "min_learning_iterations": 16,
}
LIBS = [
    {**BEST, "pipeline": BEST["pipeline_text"], "selected": False},
    {**BEST, "id": "b1-c3", "score": 88.0, "pipeline": "stats -> gauss", "selected": False},
]
RESULTS = {"type": "anomaly", "library": "b1-c7", "threshold": 90, "balanced_accuracy": 0.95,
           "couples": [{"couple": 1, "learned": 24, "nominal": [95, 97, 92, 99], "abnormal": [10, 40, 93],
                        "nominal_lines": [1, 2, 3, 4], "abnormal_lines": [1, 2, 3]}]}


@pytest.fixture
def fake_engine(monkeypatch):
    from neai_tui.engine import bench_results, search

    calls: list[dict] = []
    state = {"libs": [dict(lib) for lib in LIBS]}

    def fake_select(project, lib_id):
        for lib in state["libs"]:
            lib["selected"] = lib["id"] == lib_id

    monkeypatch.setattr(search, "list_libraries", lambda project: [dict(lib) for lib in state["libs"]])
    monkeypatch.setattr(search, "select_library", fake_select)
    monkeypatch.setattr(bench_results, "library_results", lambda project, lib_id=None: dict(RESULTS, library=lib_id))
    return calls


def progress_run(calls):
    def fake_run(project, *, progress=None, cancel=None, **options):
        calls.append(options)
        progress(FakeProgress(0, 0.0, 0.0, None, None, False, "benchmark b1: 1000 candidates", 2))
        for i in range(1, 6):
            best = {**BEST, "score": 85.0 + i}
            progress(FakeProgress(i * 100, 50.0, float(i), best["score"], best, i in (1, 3, 5), f"generation {i}", 2))
        return FakeResult("b1", {**BEST, "score": 90.0}, 500, 5.0)

    return fake_run


async def start_benchmark(pilot, *, evals: str | None = None) -> None:
    await pilot.press("3", "b")
    dialog = pilot.app.screen
    assert isinstance(dialog, NewBenchmarkScreen)
    if evals is not None:
        dialog.query_one("#bench-limit", Select).value = "evals"
        dialog.query_one("#bench-limit-value", Input).value = evals
    dialog.query_one("#bench-cores", Input).value = "2"
    dialog.query_one("#bench-seed", Input).value = "7"
    await pilot.press("ctrl+s")


async def test_benchmark_runs_with_plots_log_and_library_choice(imported, fake_engine, monkeypatch):
    from neai_tui.engine import search

    monkeypatch.setattr(search, "run_benchmark", progress_run(fake_engine))
    app = NeaiApp(workspace=imported)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await start_benchmark(pilot, evals="500")
        await settle(pilot)
        pane = screen.pane("benchmark")
        assert fake_engine == [{"time_limit": None, "max_evals": 500, "cores": 2, "seed": 7, "new": True}]
        text = screen_text(app)
        assert "Finished: benchmark b1" in text and "500  (50/s, 2 workers, 25/s each)" in text
        assert "BA 0.95  margin 0.4" in text and "1.5 KB / 4.0 KB" in text
        assert "similarity per held-out signal" in visible_text(app) and "90 %" in visible_text(app)
        assert len(pane.points) >= 3
        log = "\n".join(pane.log_entries)
        assert "start: new benchmark, 500 evaluations, 2 core(s), seed 7" in log
        assert log.count("new best") == 3 and "Finished" in log
        await pilot.press("v")
        assert "seconds" in visible_text(app) and "best score" in visible_text(app)
        await pilot.press("v")
        assert "learn at least 16 times" in visible_text(app)
        await pilot.press("v", "v")
        table = pane.query_one("#bench-libraries", DataTable)
        assert table.row_count == 2
        await pilot.press("down", "c")
        await settle(pilot)
        assert str(table.get_row_at(1)[0]) == "✓" and str(table.get_row_at(0)[0]) == ""
        assert pane.results["library"] == "b1-c3"


async def test_a_best_found_only_when_the_run_ends_is_shown_and_plotted(imported, fake_engine, monkeypatch):
    """A time limit that ends the first generation: its best comes back with the
    result, no progress report announced it. The figures and the plot follow it."""
    from neai_tui.engine import search

    def short_run(project, *, progress=None, cancel=None, **options):
        progress(FakeProgress(0, 0.0, 0.0, None, None, False, "benchmark b1: 1000 candidates", 1))
        return FakeResult("b1", BEST, 12, 3.0, status="stopped")

    monkeypatch.setattr(search, "run_benchmark", short_run)
    app = NeaiApp(workspace=imported)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await start_benchmark(pilot)
        await settle(pilot)
        text = screen_text(app)
        assert "ran its 60 s" in text and "no library yet" not in text
        assert "91.5  b1-c7" in text and "12  (4/s, 1 worker)  elapsed 00:03" in text
        assert screen.pane("benchmark").results["library"] == "b1-c7"
        assert "similarity per held-out signal" in visible_text(app)


async def test_pause_resume_and_stop(imported, fake_engine, monkeypatch):
    from neai_tui.engine import search

    started: list[threading.Event] = []

    def waiting_run(project, *, progress=None, cancel=None, **options):
        fake_engine.append(options)
        started.append(cancel)
        progress(FakeProgress(10, 5.0, 2.0 + 10 * (len(started) - 1), 80.0, BEST, True))
        assert cancel.wait(10), "the UI never asked to stop"
        return FakeResult("b1", BEST, status="stopped")

    monkeypatch.setattr(search, "run_benchmark", waiting_run)
    app = NeaiApp(workspace=imported)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)

        async def wait_started(n: int) -> None:
            deadline = time.monotonic() + 5
            while len(started) < n and time.monotonic() < deadline:
                await pilot.pause(0.05)
            await pilot.pause(0.1)

        await start_benchmark(pilot)
        await wait_started(1)
        pane = screen.pane("benchmark")
        assert pane.running and screen.check_action("pane", ("benchmark", "new_benchmark")) is None
        await pilot.press("p")
        await settle(pilot)
        assert started[0].is_set() and not pane.running
        assert "Paused: benchmark b1. r resumes it." in screen_text(app)
        await pilot.press("r")
        await wait_started(2)
        assert fake_engine[1]["new"] is False and fake_engine[1]["time_limit"] == 60.0  # none of it was used
        await pilot.press("s")
        await settle(pilot)
        assert started[1].is_set() and not pane.running
        assert "Stopped: benchmark b1" in screen_text(app)


async def test_worker_failure_shows_an_error_modal(workspace, fake_engine, monkeypatch):
    from neai_tui.engine import search

    def failing_run(project, **options):
        raise RuntimeError("boom")

    monkeypatch.setattr(search, "run_benchmark", failing_run)
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await start_benchmark(pilot)
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen.error_title == "Unexpected error"
        assert "RuntimeError: boom" in app.screen.message and "Traceback" not in app.screen.message
        await pilot.press("enter")
        assert app.screen is screen and not screen.pane("benchmark").running
        assert "Stopped. r resumes" in screen_text(app)


def test_failures_are_described_without_traceback():
    from neai_tui.app import describe_failure
    from neai_tui.engine.errors import Cancelled

    assert describe_failure(NeaiError("not enough nominal lines", "Import more signals.")) == (
        "Cannot do that", "not enough nominal lines\nImport more signals.")
    title, text = describe_failure(OSError(13, "Permission denied", "/data/x.csv"))
    assert (title, text) == ("File system error", "Permission denied: /data/x.csv")
    assert describe_failure(Cancelled("stopped"))[1] == "stopped"


def test_progress_messages_do_not_flood():
    plain = BenchmarkProgressed(FakeProgress(1, 1.0, 1.0, 50.0, None, False))
    best = BenchmarkProgressed(FakeProgress(2, 1.0, 2.0, 60.0, None, True))
    assert plain.can_replace(BenchmarkProgressed(FakeProgress(3, 1.0, 3.0, 60.0, None, False)))
    assert not best.can_replace(plain)  # a new best is never dropped from the queue


# -- deployment (fake build) -------------------------------------------------------------------------
async def test_deploy_shows_zip_measured_figures_and_hello_world(workspace, fake_engine, monkeypatch, tmp_path):
    import zipfile

    from neai_tui.engine import deploy as deploy_module

    zip_path = tmp_path / "b1-c7_cortex-m4f.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("main.c", "/* main.c - Hello World */\nint main(void) { return 0; }\n")
    calls = []

    @dataclass
    class FakeDeploy:
        zip_path: Path
        metadata: dict

    def fake_deploy(project, *, lib_id=None, target=None, suffix=None, out=None, optimize=None, progress=None):
        calls.append((lib_id, target, suffix, out, optimize))
        progress("compiling")
        return FakeDeploy(zip_path, {
            "library_id": "b1-c7", "type": "anomaly", "target": "NUCLEO-L476RG", "core": "cortex-m4f",
            "float_abi": "hard", "score": 91.5, "pipeline": "FFT 8 bands -> gauss", "min_learning_iterations": 16,
            "flags": ["-mcpu=cortex-m4", "-mthumb"],
            "measured": {"flash_bytes": 3000, "ram_bytes": 1200, "static_ram_bytes": 1100, "stack_bytes": 100,
                         "instructions_per_detect": 50000, "cycles_per_detect": 70000, "identical": True,
                         "lines_compared": 24},
        })

    monkeypatch.setattr(deploy_module, "deploy", fake_deploy)
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("6")
        await settle(pilot)
        pane = screen.pane("deployment")
        assert "cortex-m4f, hard float" in screen_text(app)  # the compile options of the project's target
        pane.query_one("#deploy-target", Input).value = "NUCLEO-L476RG"
        pane.query_one("#deploy-suffix", Input).value = "fan"
        await pilot.pause()
        assert "NanoEdgeAI_fan.h" in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        assert calls == [("b1-c7", "NUCLEO-L476RG", "fan", None, "size")]
        text = screen_text(app)
        assert str(zip_path) in text and "2.9 KB  measured" in text and "70000 cycles, 50000 instructions" in text
        assert "static 1100 B + stack 100 B" in text and "host build on 24 lines" in text
        await pilot.press("v")
        assert "Hello World" in visible_text(app) and "int main(void)" in visible_text(app)
        await pilot.press("y")
        assert "Copy main.c" in visible_text(app)


async def test_deploy_optimisation_is_chosen_from_the_keyboard(workspace, fake_engine, monkeypatch, tmp_path):
    from neai_tui.engine import deploy as deploy_module

    calls = []

    @dataclass
    class FakeDeploy:
        zip_path: Path
        metadata: dict

    def fake_deploy(project, *, optimize=None, progress=None, **options):
        calls.append(optimize)
        return FakeDeploy(tmp_path / "b1-c7_cortex-m4f.zip", {
            "library_id": "b1-c7", "type": "anomaly", "target": "cortex-m4f", "core": "cortex-m4f",
            "optimize": optimize, "optimize_flag": "-O2",
            "measured": {"flash_bytes": 7572, "ram_bytes": 1300, "instructions_per_detect": 53980,
                         "cycles_per_detect": 80602, "identical": True, "lines_compared": 72},
        })

    monkeypatch.setattr(deploy_module, "deploy", fake_deploy)
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("6", "enter")
        await settle(pilot)
        pane = screen.pane("deployment")
        choice = pane.query_one("#deploy-optimize", Select)
        assert choice.value == "size" and "optimised for size (-Os)" in screen_text(app)
        for _ in range(8):  # tab through the form to it
            if app.focused is choice:
                break
            await pilot.press("tab")
        assert app.focused is choice
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        assert choice.value == "speed" and "optimised for speed (-O2)" in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        assert calls == ["speed"]
        text = screen_text(app)
        assert re.search(r"Optimised for +speed \(-O2\)", text) and "7.4 KB  measured" in text
        assert "80602 cycles, 53980 instructions" in text


# -- emulator and validation, on a real library zip ------------------------------------------------------
async def test_emulator_learns_detects_and_follows_the_sensitivity(fan_workspace):
    app = NeaiApp(workspace=fan_workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("4")
        await settle(pilot)
        pane = screen.pane("emulator")
        assert pane.session is not None and pane.session.type == "anomaly"
        assert "Initialised: learned 0." in screen_text(app)
        pane.query_one("#emu-learn-range", Input).value = "1-200"
        await pilot.press("l")
        await settle(pilot)
        assert "Learned 200" in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        first = [r["similarity"] for r in pane.report.results]
        assert len(first) == 150 and "learned 200" in screen_text(app) and "% ≥ 90" in screen_text(app)
        assert "sensitivity 1, learned 200" in visible_text(app)
        await pilot.press("plus", "plus", "plus")
        await settle(pilot)
        assert pane.query_one("#emu-sensitivity", Input).value == "1.3"
        assert pane.session.sensitivity == pytest.approx(1.3)
        again = [r["similarity"] for r in pane.report.results]
        assert again != first and sum(again) <= sum(first)  # detected again through the C
        await pilot.press("v")
        assert pane.query_one("#emu-results", DataTable).row_count == 150
        await pilot.press("n")
        await settle(pilot)
        assert pane.session.learned == 0


async def test_validation_compares_libraries_on_new_files(fan_workspace):
    app = NeaiApp(workspace=fan_workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("5")
        await settle(pilot)
        pane = screen.pane("validation")
        pane.query_one("#val-learn-range", Input).value = "1-200"
        pane.query_one("#val-test-0", Input).value = str(SAMPLE / "nominal.csv")
        pane.query_one("#val-test-1", Input).value = str(SAMPLE / "abnormal.csv")
        await pilot.press("r")
        await settle(pilot)
        table = pane.query_one("#val-results", DataTable)
        assert table.row_count == 2
        assert [table.get_row_at(i)[1:4] for i in range(2)] == [["nominal.csv", "nominal", "300"],
                                                                 ["abnormal.csv", "abnormal", "150"]]
        assert "BA 0." in screen_text(app) and "learned 200" in screen_text(app)


async def test_validation_builds_a_chosen_candidate_then_compares_it(fan_workspace, tmp_path, monkeypatch):
    """A benchmark candidate without a zip is listed next to the zip; ticked, it is built
    for real into deploy/ (without becoming the selected library), then compared."""
    import shutil

    from neai_tui.engine import deploy as deploy_module
    from neai_tui.engine.search import selected_library_id

    go = threading.Event()  # the build waits until the test has seen the running state
    real_deploy = deploy_module.deploy

    def held_deploy(*args, **kwargs):
        assert go.wait(10)
        return real_deploy(*args, **kwargs)

    monkeypatch.setattr(deploy_module, "deploy", held_deploy)
    root = tmp_path / "workspace"
    shutil.copytree(fan_workspace, root)  # this test adds a zip: leave the shared one as it is
    project = Project.open(root / "fan")
    app = NeaiApp(workspace=root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("5")
        await settle(pilot)
        pane = screen.pane("validation")
        libs = pane.query_one("#val-libs")
        assert libs.option_count == 1 + len(pane.unbuilt) and len(pane.unbuilt) >= 2
        candidate = pane.unbuilt[0]["id"]
        assert "built when run" in str(libs.get_option_at_index(1).prompt)
        pane.query_one("#val-learn-range", Input).value = "1-200"
        pane.query_one("#val-test-0", Input).value = str(SAMPLE / "nominal.csv")
        pane.query_one("#val-test-1", Input).value = str(SAMPLE / "abnormal.csv")
        libs.focus()
        await pilot.press("down", "space")  # the zip stays ticked, the best candidate without a zip too
        assert libs.selected == [str(pane.zips[0]["path"]), f"lib:{candidate}"]
        await pilot.press("r")
        assert pane.running and screen.check_action("pane", ("validation", "stop")) is True
        go.set()
        await settle(pilot)
        await settle(pilot)  # the list reloads the zips
        table = pane.query_one("#val-results", DataTable)
        assert table.row_count == 4 and {str(table.get_row_at(i)[0]) for i in (2, 3)} == {candidate}
        built = project.path / "deploy" / f"{candidate}_cortex-m4f.zip"
        assert built.is_file() and f"built {built.name}" in screen_text(app)
        assert selected_library_id(project) is None  # building for a comparison chooses nothing
        assert str(built) in libs.selected and candidate not in {lib["id"] for lib in pane.unbuilt}
        assert screen.check_action("pane", ("validation", "stop")) is None  # greyed out when idle


# -- responsiveness -------------------------------------------------------------------------------
async def test_home_stays_interactive_while_a_real_benchmark_runs(fan_workspace):
    """A benchmark started in a project keeps running from the home screen, and each
    key press there is answered within 100 ms."""

    async def until(condition, timeout: float = 5.0) -> None:
        # pilot.press/pause wait for the process to go idle, which it never does while
        # the benchmark computes: post keys as the terminal would and poll the effect.
        deadline = time.perf_counter() + timeout
        while not condition() and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)
        assert condition()

    app = NeaiApp(workspace=fan_workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("3", "b")
        dialog = app.screen
        dialog.query_one("#bench-start", Select).value = "new"
        dialog.query_one("#bench-limit-value", Input).value = "60"
        dialog.query_one("#bench-cores", Input).value = "1"
        pane = screen.pane("benchmark")
        app.simulate_key("ctrl+s")
        await until(lambda: pane.running and pane.last_elapsed > 0)
        app.simulate_key("escape")
        await until(lambda: isinstance(app.screen, HomeScreen))
        home = app.screen
        table = home.query_one("#projects", DataTable)
        await until(lambda: table.row_count == 2 and "running" in str(table.get_row_at(0)[5]))  # refreshed
        slowest = 0.0
        for key in ["down", "up"] * 25:
            expected = 1 if key == "down" else 0
            before = time.perf_counter()
            app.simulate_key(key)
            await until(lambda: table.cursor_row == expected, 2.0)
            slowest = max(slowest, time.perf_counter() - before)
            assert pane.running, "the benchmark must still be running during the measurement"
            await asyncio.sleep(0.03)
        assert slowest < 0.1, f"a key press took {slowest * 1000:.0f} ms while the benchmark ran"
        screen.stop_work()
        await settle(pilot)
        assert not pane.running and len(pane.points) >= 1
