"""The target core's cost: the instruction estimate every candidate is ranked by
(engine/cost.py) against real Cortex-M builds under unicorn, and how it enters the
search: the score's resource term, the maximum inference time, the fixed-point
spectra offered to cores without an FPU, `neai libs` and deploy's metadata."""
from __future__ import annotations

import json

import numpy as np
import pytest

from neai_tui.engine import cost, csearch, trained
from neai_tui.engine.cost_measure import measure_anomaly, measure_multisensor, measure_trained
from neai_tui.engine.errors import UsageError
from neai_tui.engine.project import Project, ProjectSettings
from neai_tui.engine.scoring import Limits, resource_term
from neai_tui.engine.tasks import anomaly, multisensor

from .conftest import tone_signals, write_signals
from .test_cli import neai

SHAPES = ((3, 256), (1, 128), (2, 64), (3, 64))


def spaces():
    for axes, buffer in SHAPES:
        for pre in cost.core_space(anomaly.preprocessing_space(axes, buffer), "cortex-m0plus"):
            yield pre, axes, buffer


def test_every_component_of_every_space_has_a_cost_on_every_core_class():
    models = [{"kind": "gauss"}, {"kind": "proto", "k": 8}]
    for pre, axes, buffer in spaces():
        for model in models:
            terms = cost.anomaly_terms({"pre": pre, "model": model}, axes, buffer, filter_sections=2)
            for core in cost.CALIBRATION_CORE.values():
                assert cost.instructions(terms, core) > 0
    for pre in multisensor.preprocessing_space((1, 8, 32)):
        for core in cost.CALIBRATION_CORE.values():
            assert cost.instructions(cost.multisensor_terms({"pre": pre, "model": models[1]}, 3), core) > 0


def fitted_models(axes=3, buffer=64):
    """One fitted model of every trained family (small synthetic data), with its features' preprocessing."""
    rng = np.random.default_rng(2)
    lines = np.vstack([tone_signals(rng, 20, f, buffer=buffer) for f in (40.0, 90.0, 150.0)]).astype(np.float32)
    y = np.repeat(np.arange(3), 20)
    pre = {"kind": "stats"}
    feats = csearch.features(pre, lines, axes, buffer)
    for task in trained.TASK_TYPES:
        for fam in trained.FAMILIES[task].values():
            target = y if task == "n-class" else None if task == "one-class" else feats[:, 0] * 3 + 1
            model = {**fam.default, "pca": 4}
            yield task, fam.kind, trained.fit(task, model, feats, target, 0), pre, lines


def test_every_trained_family_has_a_cost_on_every_core_class():
    for task, kind, fitted, pre, _ in fitted_models():
        terms = cost.trained_terms(fitted, pre, 3, 64)
        for core in cost.CALIBRATION_CORE.values():
            assert cost.instructions(terms, core) > 0, (task, kind)


def test_a_component_without_a_cost_entry_is_an_error_not_a_free_lunch():
    with pytest.raises(ValueError, match="cost.PRE_TERMS"):
        cost.anomaly_terms({"pre": {"kind": "unheard-of"}, "model": {"kind": "gauss"}}, 3, 64)
    with pytest.raises(KeyError):
        cost.instructions(cost.Terms({"a-loop-nobody-measured": 10}), "cortex-m4f")


def test_soft_float_cores_cost_more_and_their_fixed_point_spectra_cost_less():
    pipeline = {"pre": {"kind": "fft", "bands": 4, "spacing": "linear", "window": "hann", "log": True,
                        "norm": "relative", "segments": 4, "low": 0.0, "high": 0.5},
                "model": {"kind": "proto", "k": 8}}
    fixed = {**pipeline, "pre": {**pipeline["pre"], "fixed": True}}
    est = {core: cost.instructions(cost.anomaly_terms(p, 3, 256), core)
           for core in ("cortex-m4f", "cortex-m0plus") for p in [pipeline]}
    assert est["cortex-m0plus"] > 10 * est["cortex-m4f"]
    assert cost.instructions(cost.anomaly_terms(fixed, 3, 256), "cortex-m0plus") < est["cortex-m0plus"] / 4


def test_cores_without_an_fpu_get_fixed_point_twins_of_every_spectrum():
    space = anomaly.preprocessing_space(3, 64)
    assert cost.core_space(space, "cortex-m4f") is space
    soft = cost.core_space(space, "cortex-m0plus")
    spectra = [p for p in space if p["kind"] in ("fft", "spectral")]
    assert len(soft) == len(space) + len(spectra)
    assert [p for p in soft if p.get("fixed")] == [{**p, "fixed": True} for p in spectra]
    assert all("fixed" not in p for p in soft if p["kind"] not in ("fft", "spectral"))
    # twins are one setting apart (the search's local moves), distinct C configurations
    keys = {json.dumps(p, sort_keys=True) for p in soft}
    assert len(keys) == len(soft)


def test_time_weighs_in_the_resource_term_like_ram_and_flash():
    assert resource_term(4096, 8192, 8192, 16384) == pytest.approx(0.5)
    assert resource_term(4096, 8192, 8192, 16384, 50_000, 100_000) == pytest.approx(0.5)
    assert resource_term(4096, 8192, 8192, 16384, 0, 100_000) == pytest.approx(2 / 3)
    assert resource_term(4096, 8192, 8192, 16384, 10**7, 100_000) == pytest.approx(1 / 3)
    limits = Limits(8192, 16384, "cortex-m0plus", 64.0, max_time_ms=2.0)
    cheap, dear = limits.resource(1000, 4000, 50_000), limits.resource(1000, 4000, 60_000)
    assert cheap > dear
    assert limits.max_instructions == int(2.0 * 64e3 / cost.CPI["soft-v6m"])


def test_a_candidate_over_the_maximum_time_is_excluded_like_one_too_big():
    limits = Limits(8192, 16384, "cortex-m0plus", 64.0, max_time_ms=1.0)
    assert limits.over(1000, 4000, limits.max_instructions) is None
    over = limits.over(1000, 4000, limits.max_instructions + 1)
    assert over["status"] == "too-big" and over["limit"] == "time"
    assert limits.over(9000, 4000, 10)["limit"] == "ram"
    assert Limits(None, None, "cortex-m0plus", 64.0).over(10**6, 10**6, 10**9) is None


def test_max_time_is_a_validated_project_setting(tmp_path):
    s = ProjectSettings(name="p", axes=3, target="NUCLEO-G071RB", max_time_ms=2.5)
    project = Project.create(tmp_path / "p", s)
    assert Project.open(tmp_path / "p").settings.max_time_ms == 2.5
    limits = Limits.of(project.settings)
    assert (limits.core, limits.clock_mhz, limits.max_time_ms) == ("cortex-m0plus", 64.0, 2.5)
    for bad in (0, -1.0, float("nan"), float("inf"), "5", True):
        with pytest.raises(UsageError, match="maximum inference time"):
            project.update_settings(max_time_ms=bad)
    project.update_settings(max_time_ms=None)
    assert Limits.of(project.settings).max_instructions is None


def test_neai_new_takes_a_maximum_time(tmp_path):
    help_text = neai("new", "--help").stdout
    assert "--max-time" in help_text and "e.g. --max-time" in " ".join(help_text.split())
    neai("new", tmp_path / "a", "--type", "anomaly", "--axes", 3, "--target", "NUCLEO-G071RB", "--max-time", 4)
    assert json.loads((tmp_path / "a" / "project.json").read_text())["settings"]["max_time_ms"] == 4
    bad = neai("new", tmp_path / "b", "--type", "anomaly", "--axes", 3, "--max-time", 0, check=False)
    assert bad.returncode == 2 and "maximum inference time" in bad.stderr


# ---------------------------------------------------------------- against real builds
# Pipelines on buffer shapes the calibration (bench/measure_costs.py) never measured.
CHECK_PIPELINES = [
    ({"kind": "fft", "bands": 8, "spacing": "log", "window": "hann", "log": True, "norm": "none"}, {"kind": "gauss"}),
    ({"kind": "fft", "bands": 4, "spacing": "linear", "window": "hann", "log": True, "norm": "relative",
      "segments": 4, "low": 0.0, "high": 0.5, "fixed": True}, {"kind": "proto", "k": 8}),
    ({"kind": "spectral", "bands": 4, "window": "none", "segments": 2, "low": 0.0, "high": 1.0, "time_stats": True,
      "fixed": True}, {"kind": "proto", "k": 4}),
    ({"kind": "stats", "cross": True}, {"kind": "proto", "k": 16}),
    ({"kind": "raw", "decim": 4, "norm": "zscore"}, {"kind": "gauss"}),
]
MODEL_DEFAULTS = {"reg": 0.01, "calib": 3.0, "warmup": 2}


def _check(estimate: int, measured: int, what: str) -> None:
    error = (estimate - measured) / measured
    assert abs(error) <= cost.ERROR_BOUND, f"{what}: estimated {estimate}, measured {measured} ({error:+.1%})"


@pytest.mark.slow
@pytest.mark.parametrize("core", ["cortex-m4f", "cortex-m3", "cortex-m0plus"])
def test_estimates_stay_within_the_bound_of_unicorn_measurements(core):
    rng = np.random.default_rng(9)
    axes, buffer = 2, 128
    lines = np.vstack([tone_signals(rng, 12, f, axes=axes, buffer=buffer) for f in (40.0, 70.0)]).astype(np.float32)
    for pre, model in CHECK_PIPELINES:
        pipeline = {"pre": pre, "model": {**model, **MODEL_DEFAULTS}}
        measured = measure_anomaly(pipeline, axes, buffer, core, lines[:20], lines[20:22]).instructions
        _check(cost.instructions(cost.anomaly_terms(pipeline, axes, buffer), core), measured, f"{core} {pre['kind']}")
    # Multi-sensor: one sample per call, the window of 16 samples of 3 variables
    ms = {"pre": {"kind": "fft", "bands": 4, "spacing": "linear", "window": "hann", "log": True, "norm": "none",
                  "lookback": 16, "fixed": cost.soft_float(core)}, "model": {"kind": "gauss", **MODEL_DEFAULTS}}
    samples = (np.sin(np.arange(60)[:, None] * np.array([0.3, 0.11, 0.05])) + 0.1 * rng.normal(size=(60, 3)))
    measured = measure_multisensor(ms, 3, core, samples[:56], samples[56:]).instructions
    _check(cost.instructions(cost.multisensor_terms(ms, 3), core), measured, f"{core} multisensor")
    # trained: a linear model after PCA, and a forest
    for task, kind, fitted, pre, tr_lines in fitted_models():
        if kind in ("logreg", "rf"):
            measured = measure_trained(fitted, pre, 3, 64, core, tr_lines[:3]).instructions
            _check(cost.instructions(cost.trained_terms(fitted, pre, 3, 64), core), measured, f"{core} {task} {kind}")


@pytest.mark.slow
def test_a_soft_float_project_ranks_by_its_core_and_deploys_the_time(tmp_path):
    rng = np.random.default_rng(4)
    nominal = write_signals(tmp_path / "n.csv", np.vstack([tone_signals(rng, 30, 50.0), tone_signals(rng, 30, 90.0)]))
    abnormal = write_signals(tmp_path / "a.csv", tone_signals(rng, 20, 200.0, amp=2.0))
    d = tmp_path / "m0"
    neai("new", d, "--type", "anomaly", "--axes", 3, "--target", "NUCLEO-G071RB", "--max-time", 8)
    neai("import", d, nominal, "--role", "nominal")
    neai("import", d, abnormal, "--role", "abnormal")
    neai("bench", d, "--evals", 300, "--seed", 2, "--cores", 1)
    bench = next((d / "benchmarks").iterdir())
    results = [json.loads(line) for line in (bench / "results.jsonl").read_text().splitlines()]
    limit = Limits.of(Project.open(d).settings).max_instructions
    assert results and all(0 < r["instructions"] <= limit for r in results)
    assert any(r["pipeline"]["pre"].get("fixed") for r in results)  # the cheap spectra were tried
    state = json.loads((bench / "bench.json").read_text())
    assert state["core"] == "cortex-m0plus" and state["max_time_ms"] == 8
    libs = json.loads(neai("libs", d, "--json").stdout)["libraries"]
    assert all(lib["core"] == "cortex-m0plus" and lib["time_ms"] <= 8 for lib in libs)
    assert "k instr" in neai("libs", d).stdout
    deployed = json.loads(neai("deploy", d, "--json").stdout)["metadata"]
    timing = deployed["timing"]
    assert timing["clock_mhz"] == 64.0
    assert timing["ms_per_inference"] == pytest.approx(timing["cycles_per_inference"] / 64e3, abs=1e-4)
    _check(deployed["estimated"]["instructions"], deployed["measured"]["instructions_per_detect"], "deployed")
    assert "ms per inference at 64 MHz" in neai("deploy", d).stdout


async def test_the_settings_step_edits_and_explains_the_maximum_time(tmp_path, monkeypatch):
    from textual.widgets import Input

    from neai_tui.app import NeaiApp
    from neai_tui.screens.dialogs import ErrorScreen
    from tests.test_tui import SIZE, make_workspace, open_first_project, screen_text, settle

    monkeypatch.setenv("NEAI_CONFIG_DIR", str(tmp_path / "config"))
    workspace = make_workspace(tmp_path / "workspace")
    app = NeaiApp(workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        screen.query_one("#settings-time", Input).value = "2.5"
        screen.query_one("#settings-target", Input).value = "NUCLEO-G071RB"
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = " ".join(screen_text(app).split())
        assert "cortex-m0plus at 64 MHz, soft float; max 2.5 ms" in text
        screen.query_one("#settings-time", Input).value = "0"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen) and "maximum inference time" in app.screen.message
    saved = Project.open(workspace / "motor").settings
    assert (saved.max_time_ms, saved.target) == (2.5, "NUCLEO-G071RB")


@pytest.mark.slow
@pytest.mark.parametrize("core", ["cortex-m7", "cortex-m33", "cortex-m4", "cortex-m0"])
def test_the_other_cores_of_a_class_share_its_coefficients(core):
    """Coefficients are measured on one core per class (cost.CALIBRATION_CORE); the
    class's other cores run the same instructions within the bound (M7: +1..9 %)."""
    rng = np.random.default_rng(9)
    axes, buffer = 2, 128
    lines = np.vstack([tone_signals(rng, 12, f, axes=axes, buffer=buffer) for f in (40.0, 70.0)]).astype(np.float32)
    for pre, model in CHECK_PIPELINES[:2]:
        pipeline = {"pre": pre, "model": {**model, **MODEL_DEFAULTS}}
        measured = measure_anomaly(pipeline, axes, buffer, core, lines[:20], lines[20:22]).instructions
        _check(cost.instructions(cost.anomaly_terms(pipeline, axes, buffer), core), measured, f"{core} {pre['kind']}")
