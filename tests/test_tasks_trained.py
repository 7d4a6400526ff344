"""Benchmarks of the trained project types (n-class, 1-class, extrapolation) on
synthetic tones, and the import refusals that say what each type expects."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine import csearch
from neai_tui.engine.errors import InputError
from neai_tui.engine.project import Project, ProjectSettings
from neai_tui.engine.search import run_benchmark

from .conftest import tone_signals, write_signals

BUFFER = 64
RATE = 1000.0
EVALS = 60  # per benchmark: generation 0 screens stats, raw and the first FFT preprocessings


def trained():
    from neai_tui.engine import trained as module

    return module


def new_project(tmp_path: Path, kind: str, axes: int = 1, name: str = "p") -> Project:
    return Project.create(tmp_path / name, ProjectSettings(name=name, type=kind, axes=axes))


def tones(rng, n, freq, amp=1.0, axes=1):
    return tone_signals(rng, n, freq, amp=amp, axes=axes, buffer=BUFFER, rate=RATE)


def bench(project: Project, evals: int = EVALS, cores: int = 1):
    result = run_benchmark(project, max_evals=evals, seed=1, cores=cores)
    assert result.best is not None
    return result.best


# ------------------------------------------------------------------- benchmarks
def test_nclass_benchmark_separates_three_tones(tmp_path):
    rng = np.random.default_rng(5)
    p = new_project(tmp_path, "n-class", axes=2)
    for name, freq in (("slow", 40.0), ("mid", 110.0), ("fast", 230.0)):
        p.import_signal(write_signals(tmp_path / f"{name}.csv", tones(rng, 30, freq, axes=2)))
    best = bench(p)
    m = best["metrics"]
    assert {"balanced_accuracy", "accuracy", "f1", "mcc", "certainty", "balanced_accuracy_ci95"} <= set(m)
    assert m["balanced_accuracy"] >= 0.9, best
    assert 0 < m["certainty"] <= 1 and -1 <= m["mcc"] <= 1
    # Ids follow the import order; the confusion matrix sums every split's test lines.
    assert best["class_names"] == ["slow", "mid", "fast"]
    confusion = np.array(best["confusion"])
    assert confusion.shape == (3, 3) and confusion.sum() == 5 * 3 * 9


def test_extrapolation_benchmark_predicts_a_smooth_target(tmp_path):
    rng = np.random.default_rng(6)
    amp = rng.uniform(0.5, 2.0, 90)
    freq = rng.uniform(40.0, 160.0, 90)
    rows = np.vstack([tones(rng, 1, f, amp=a)[0] for a, f in zip(amp, freq)])
    target = 2.0 * amp + freq / 50.0
    p = new_project(tmp_path, "extrapolation")
    p.import_signal(write_signals(tmp_path / "speed.csv", np.column_stack([target, rows])))
    best = bench(p)
    m = best["metrics"]
    assert {"r2", "smape", "rmse", "r2_ci95"} <= set(m)
    assert m["r2"] >= 0.9, best
    assert m["smape"] < 20 and m["rmse"] < 0.5


def test_oneclass_benchmark_accepts_normals_and_flags_another_tone(tmp_path):
    rng = np.random.default_rng(7)
    normal = tones(rng, 120, 50.0, amp=1.0)
    other = tones(rng, 40, 130.0, amp=1.0)
    p = new_project(tmp_path, "one-class")
    p.import_signal(write_signals(tmp_path / "normal.csv", normal))
    best = bench(p, evals=150)  # cheap fits: room for generations after the screening
    m = best["metrics"]
    assert {"recall", "recall_ci95", "outlier_rejection"} <= set(m)
    assert m["recall"] >= 0.85, best
    # The best pipeline, fitted on every normal line, flags most lines of another class.
    pre, model = best["pipeline"]["pre"], best["pipeline"]["model"]
    normal_read = p.load_values(p.signals[0])
    fitted = trained().fit("one-class", model, csearch.features(pre, normal_read, 1, BUFFER), None, 1)
    flagged = np.asarray(fitted.predict(csearch.features(pre, other, 1, BUFFER))["outlier"], dtype=bool)
    assert flagged.mean() >= 0.8, (flagged.mean(), best)


def test_same_seed_same_best_on_one_and_two_cores(tmp_path):
    rng = np.random.default_rng(8)
    files = [write_signals(tmp_path / f"{name}.csv", tones(rng, 16, freq)) for name, freq in (("a", 60.0), ("b", 75.0))]
    results = []
    for cores in (1, 2):
        p = new_project(tmp_path, "n-class", name=f"c{cores}")
        for f in files:
            p.import_signal(f)
        best = bench(p, evals=30, cores=cores)
        results.append((best["pipeline"], best["score"], best["metrics"]))
    assert results[0] == results[1]


def test_the_space_and_neighbours_come_from_the_catalogue():
    from neai_tui.engine.tasks import task_for
    from neai_tui.engine.tasks.trained_common import SLOW_TO_SCREEN, model_space, neighbour, screening_models

    for kind in ("n-class", "one-class", "extrapolation"):
        assert task_for(kind).name == kind
        families = trained().FAMILIES[kind]
        space = model_space(kind)
        keys = {str(sorted(m.items())) for m in space}
        assert len(keys) == len(space)
        expected = sum(int(np.prod([len(v) for v in f.grid.values()])) for f in families.values())
        assert len(space) == expected
        # The first generation screens the fast families; the slow ones stay in the space.
        assert [m["kind"] for m in screening_models(kind)] == [k for k in families if k not in SLOW_TO_SCREEN]
        assert {m["kind"] for m in space} == set(families)
        rng = np.random.default_rng(0)
        for model in space[:: max(1, len(space) // 20)]:
            moved = neighbour(kind, model, rng)
            diff = [k for k in model if moved[k] != model[k]]
            assert moved["kind"] == model["kind"] and len(diff) <= 1


def test_a_pca_as_wide_as_the_features_is_invalid(tmp_path):
    from neai_tui.engine.tasks.nclass import NClassTask

    rng = np.random.default_rng(9)
    p = new_project(tmp_path, "n-class")
    p.import_signal(write_signals(tmp_path / "a.csv", tones(rng, 10, 50.0)))
    p.import_signal(write_signals(tmp_path / "b.csv", tones(rng, 10, 150.0)))
    task = NClassTask()
    data = task.load(p)
    evaluator = task.evaluator(data, 1, None, None)
    model = next(m for m in task.model_space(data) if m.get("pca"))
    pre = {"kind": "fft", "bands": 4, "spacing": "linear", "window": "none", "log": False, "norm": "none"}
    if model["pca"] >= 4:
        assert evaluator.evaluate({"pre": pre, "model": model})["status"] == "invalid"
    wide = dict(model, pca=10_000)
    assert evaluator.evaluate({"pre": {"kind": "stats"}, "model": wide})["status"] == "invalid"
    # A tiny RAM limit rejects any fitted model as too big.
    small = task.evaluator(data, 1, 16, None)
    assert small.evaluate({"pre": {"kind": "stats"}, "model": task.screening_models(data)[0]})["status"] == "too-big"


def test_metrics_agree_with_scikit_learn():
    from sklearn import metrics as skm

    from neai_tui.engine.tasks.extrapolation import regression_metrics
    from neai_tui.engine.tasks.nclass import classification_metrics, confusion

    rng = np.random.default_rng(16)
    y = rng.integers(0, 4, 200)
    pred = np.where(rng.random(200) < 0.7, y, rng.integers(0, 4, 200))
    proba = rng.dirichlet(np.ones(4), 200)
    m = classification_metrics(confusion(y, pred, 4), proba, y)
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["mcc"] == pytest.approx(skm.matthews_corrcoef(y, pred))
    assert m["certainty"] == pytest.approx(proba[np.arange(200), y].mean())
    target = rng.uniform(1, 5, 100)
    guess = target + rng.normal(0, 0.3, 100)
    r = regression_metrics(target, guess)
    assert r["r2"] == pytest.approx(skm.r2_score(target, guess))
    assert r["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(target, guess)))
    assert r["smape"] == pytest.approx(100 * np.mean(2 * np.abs(target - guess) / (np.abs(target) + np.abs(guess))))


# ------------------------------------------------------------------- refusals
def neai(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True, text=True)


def test_nclass_with_one_class_is_not_ready(tmp_path):
    rng = np.random.default_rng(10)
    p = new_project(tmp_path, "n-class")
    p.import_signal(write_signals(tmp_path / "only.csv", tones(rng, 10, 50.0)))
    problems = [x for x in p.check() if x.severity == "error"]
    assert problems and "at least two classes" in problems[0].message and "'only'" in problems[0].message
    with pytest.raises(InputError, match="at least two classes"):
        run_benchmark(p, max_evals=5, seed=1)


def test_nclass_classes_of_other_lengths_are_refused(tmp_path):
    rng = np.random.default_rng(11)
    p = new_project(tmp_path, "n-class", axes=2)
    p.import_signal(write_signals(tmp_path / "a.csv", tones(rng, 10, 50.0, axes=2)))
    other = write_signals(tmp_path / "b.csv", tone_signals(rng, 10, 90.0, axes=2, buffer=32))
    with pytest.raises(InputError) as err:
        p.import_signal(other)
    assert "class 'a'" in err.value.message and "2 axes × 32 samples" in err.value.message
    assert "same buffer size and axes" in err.value.hint


def test_extrapolation_without_target_is_refused(tmp_path):
    rng = np.random.default_rng(12)
    p = new_project(tmp_path, "extrapolation", axes=2)
    missing = write_signals(tmp_path / "no_target.csv", tones(rng, 20, 50.0, axes=2))
    with pytest.raises(InputError) as err:
        p.import_signal(missing)
    assert "no target" in err.value.message and "starts with the target" in err.value.message
    # One axis: a power-of-two line length is only suspicious; the import warns.
    p1 = new_project(tmp_path, "extrapolation", name="one")
    rows = tones(rng, 20, 50.0)
    entry = p1.import_signal(write_signals(tmp_path / "pow2.csv", rows))
    assert any("is the target missing" in w for w in entry.warnings)


def test_extrapolation_target_that_is_not_a_number(tmp_path):
    rng = np.random.default_rng(13)
    p = new_project(tmp_path, "extrapolation")
    rows = tones(rng, 20, 50.0)
    lines = [f"{1.0 + i * 0.1:.2f} " + " ".join(f"{v:.4f}" for v in r) for i, r in enumerate(rows)]
    lines[4] = "fast " + lines[4].split(" ", 1)[1]
    path = tmp_path / "bad_target.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="target"):
        p.import_signal(path)
    same = tmp_path / "same_target.csv"
    write_signals(same, np.column_stack([np.full(20, 3.0), rows]))
    with pytest.raises(InputError, match="target .* on every line"):
        p.import_signal(same)


def test_one_sample_per_line_is_refused_for_buffer_projects(tmp_path):
    rng = np.random.default_rng(14)
    stream = rng.standard_normal((200, 3))
    path = write_signals(tmp_path / "stream.csv", stream)
    for kind in ("n-class", "one-class"):
        p = new_project(tmp_path, kind, axes=3, name=kind)
        with pytest.raises(InputError) as err:
            p.import_signal(path)
        assert "time-ordered" in err.value.message and "--variables" in err.value.hint
    p = new_project(tmp_path, "extrapolation", axes=3, name="x")
    with pytest.raises(InputError, match="one sample per axis"):
        p.import_signal(write_signals(tmp_path / "xs.csv", np.column_stack([rng.uniform(0, 1, 200), stream])))


def test_cli_refusals_exit_2_with_the_reason(tmp_path):
    rng = np.random.default_rng(15)
    d = tmp_path / "x"
    assert neai("new", d, "--type", "extrapolation", "--axes", 3).returncode == 0
    missing = write_signals(tmp_path / "no_target.csv", tones(rng, 20, 50.0, axes=3))
    result = neai("import", d, missing)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no target" in result.stderr and "starts with the target" in result.stderr
    stream = write_signals(tmp_path / "stream.csv", rng.standard_normal((100, 4)))
    d2 = tmp_path / "n"
    assert neai("new", d2, "--type", "n-class", "--axes", 4).returncode == 0
    result = neai("import", d2, stream, "--class", "idle")
    assert result.returncode == 2 and "time-ordered" in result.stderr and "--variables" in result.stderr
    good = write_signals(tmp_path / "run.csv", tones(rng, 10, 50.0, axes=4))
    assert neai("import", d2, good).returncode == 0
    result = neai("bench", d2, "--evals", 5, "--seed", 1)
    assert result.returncode == 2 and "at least two classes" in result.stderr
    shorter = write_signals(tmp_path / "stop.csv", tone_signals(rng, 10, 90.0, axes=4, buffer=32))
    result = neai("import", d2, shorter)
    assert result.returncode == 2 and "class 'run'" in result.stderr and "same buffer size and axes" in result.stderr
    d3 = tmp_path / "t"
    assert neai("new", d3, "--type", "extrapolation", "--axes", 1).returncode == 0
    bad = tmp_path / "bad_target.csv"
    bad.write_text("".join(f"{t} 0.1 0.2 0.3 0.4\n" for t in ("1.5", "2.5", "n/a", "3.5")))
    result = neai("import", d3, bad)
    assert result.returncode == 2 and f"{bad}:3:1" in result.stderr and "target" in result.stderr


# ------------------------------------------------------------------- issue 13: speed and 1-class
def test_split_cache_gives_what_a_fresh_evaluator_gives(tmp_path):
    """Per-split results are shared between candidates fitted the same way (and
    between a pruned and a full evaluation): the outcome is the one a fresh
    evaluator computes, whatever came before and whatever the threshold."""
    from neai_tui.engine.tasks.nclass import NClassTask

    rng = np.random.default_rng(12)
    p = new_project(tmp_path, "n-class")
    for name, freq in (("a", 60.0), ("b", 90.0), ("c", 140.0)):
        p.import_signal(write_signals(tmp_path / f"{name}.csv", tones(rng, 20, freq)))
    task = NClassTask()
    data = task.load(p)
    used = task.evaluator(data, 3, None, None)
    tree = {"kind": "et", "n_estimators": 5, "max_depth": 3, "pca": 0}
    pre = {"kind": "stats"}
    pruned = used.evaluate({"pre": pre, "model": {**tree, "scale": "standard"}}, prune_below=1000.0)
    assert pruned["status"] == "rejected"
    for prune in (None, 1000.0, 0.0):
        for scale in ("none", "standard"):
            pipeline = {"pre": pre, "model": {**tree, "scale": scale}}
            fresh = task.evaluator(data, 3, None, None).evaluate(pipeline, prune)
            assert used.evaluate(pipeline, prune) == fresh
    # A tree ensemble without PCA is fitted unscaled: both settings give one library.
    x = csearch.features(pre, data.lines, 1, BUFFER)
    a = trained().fit("n-class", {**tree, "scale": "standard"}, x, data.y, 1).knowledge()
    b = trained().fit("n-class", {**tree, "scale": "none"}, x, data.y, 1).knowledge()
    np.testing.assert_array_equal(a, b)
    # With a PCA the scaling matters, and is kept.
    c = trained().fit("n-class", {**tree, "pca": 4, "scale": "standard"}, x, data.y, 1).knowledge()
    d = trained().fit("n-class", {**tree, "pca": 4, "scale": "none"}, x, data.y, 1).knowledge()
    assert len(c) != len(d)


def test_shared_transforms_give_the_same_library():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(80, 12)).astype(np.float32) * np.geomspace(0.1, 50, 12).astype(np.float32)
    y = rng.integers(0, 3, 80)
    shared: dict = {}
    for model in ({"kind": "logreg", "pca": 4}, {"kind": "gnb", "pca": 4}, {"kind": "nn", "pca": 0},
                  {"kind": "logreg", "pca": 4, "C": 10.0}):
        alone = trained().fit("n-class", model, x, y, 2).knowledge()
        np.testing.assert_array_equal(trained().fit("n-class", model, x, y, 2, shared).knowledge(), alone)
    assert ("standard", 4) in shared and ("standard", 0) in shared


def test_nearest_neighbour_one_class_threshold_holds_out_blocks():
    """A fitted line's distance to itself is 0: the 1-class nearest-neighbour
    threshold comes from distances to other blocks of the fit, so new lines of
    the same kind are kept and a shifted tone is flagged."""
    rng = np.random.default_rng(14)
    normal = tones(rng, 90, 50.0)
    fresh = tones(rng, 60, 50.0)
    shifted = tones(rng, 60, 65.0)
    pre = {"kind": "fft", "bands": 16, "spacing": "linear", "window": "hann", "log": True, "norm": "none"}
    f = trained().fit("one-class", {"kind": "nn", "quantile": 0.95},
                      csearch.features(pre, normal, 1, BUFFER), None, 1)
    kept = 1.0 - f.predict(csearch.features(pre, fresh, 1, BUFFER))["outlier"].mean()
    flagged = f.predict(csearch.features(pre, shifted, 1, BUFFER))["outlier"].mean()
    assert kept >= 0.85 and flagged >= 0.9, (kept, flagged)


def test_synthetic_outlier_families():
    from neai_tui.engine.tasks.oneclass import GROSS_KINDS, SUBTLE_KINDS, synthetic_families

    rng = np.random.default_rng(15)
    lines = tones(rng, 30, 50.0, axes=3).astype(np.float32)
    families = synthetic_families(lines, 3, BUFFER, seed=4)
    assert [k for k, _ in families] == list(GROSS_KINDS + SUBTLE_KINDS)
    again = synthetic_families(lines, 3, BUFFER, seed=4)
    for (kind, made), (_, same) in zip(families, again):
        assert made.shape == (30, 3 * BUFFER) and made.dtype == np.float32
        np.testing.assert_array_equal(made, same)
    subtle = dict(families)
    # The subtle ones keep the signal's scale: each axis's spread within 30 % of a normal line's.
    spread = lines.reshape(30, BUFFER, 3).std(axis=1).mean()
    for kind in SUBTLE_KINDS:
        made = subtle[kind].reshape(30, BUFFER, 3).std(axis=1).mean()
        assert 0.7 * spread < made < 1.3 * spread, kind
