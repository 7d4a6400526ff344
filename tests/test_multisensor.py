"""Multi-sensor anomaly detection end to end: one sample of n variables per call,
the library keeps its window itself, time-ordered splits, CLI flow, C == search,
Cortex-M == host, n not a power of two, the sample project, and real SKAB data."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine import csearch, sample_multisensor
from neai_tui.engine.deploy_multisensor import generate_sources
from neai_tui.engine.emulator_runtime import AnomalyLibrary
from neai_tui.engine.tasks import task_for
from neai_tui.engine.tasks.multisensor import (
    LOOKBACK, MultiSensorTask, describe, make_series, make_time_splits, preprocessing_space,
    split_windows, window_buffers,
)
from neai_tui.engine.toolchain import compile_host_shared

from .conftest import write_signals

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "multisensor"
NOT_ENOUGH, DONE, UNKNOWN, REFUSED = 126, 127, 128, 129


def neai(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True, text=True)
    assert "Traceback" not in result.stderr, result.stderr
    if check:
        assert result.returncode == 0, result.stderr
    return result


def balanced_accuracy(sims_nominal, sims_abnormal) -> float:
    return (np.mean(np.asarray(sims_nominal) >= 90) + np.mean(np.asarray(sims_abnormal) < 90)) / 2


def series(rng, n: int, variables: int, abnormal: bool = False) -> np.ndarray:
    """Slow correlated process variables: a shared load cycle, per-variable gains, noise."""
    t = np.arange(n)
    load = 1.0 + 0.3 * np.sin(2 * np.pi * t / 97.0) + 0.1 * np.sin(2 * np.pi * t / 23.0)
    gains = np.linspace(1.0, 3.0, variables)
    x = load[:, None] * gains[None, :] + 0.03 * rng.standard_normal((n, variables))
    if abnormal:  # the last variable stops following the load
        x[:, -1] = gains[-1] * (1.0 + 0.3 * rng.random(n))
    return x


# ------------------------------------------------------------------ the task
def test_task_for_multisensor():
    task = task_for("anomaly", multisensor=True)
    assert isinstance(task, MultiSensorTask) and task.name == "multisensor"


def test_window_buffers_are_interleaved_oldest_first():
    values = np.arange(20, dtype=float).reshape(10, 2)  # sample i = (2i, 2i+1)
    bufs = window_buffers(values, np.array([0, 3, 7]), 3)
    assert bufs.tolist()[1] == [6, 7, 8, 9, 10, 11]  # x3 y3 x4 y4 x5 y5
    assert bufs.shape == (3, 6) and bufs.dtype == np.float32


def test_windows_never_straddle_two_recordings():
    s = make_series([np.zeros((10, 2)), np.zeros((6, 2))])
    assert s.window_starts(4).tolist() == [0, 1, 2, 3, 4, 5, 6, 10, 11, 12]
    assert s.window_starts(8).tolist() == [0, 1, 2]


@pytest.mark.parametrize("n_samples", [60, 500, 3000, 20000])
def test_splits_never_leak(n_samples):
    gap = 64 if n_samples >= 640 else 4
    splits = make_time_splits(n_samples, gap)
    assert len(splits) == 5
    starts = np.arange(n_samples)
    for window in (1, 4, gap):
        for split in splits:
            learn, test = split_windows(split, starts[: n_samples - window + 1], window)
            assert len(learn) and len(test)
            assert np.all(np.diff(learn) == 1)  # time order, no shuffling
            last_learned_sample = learn.max() + window - 1
            first_tested_sample = test.min()
            assert last_learned_sample < first_tested_sample - window
            assert test.max() + window <= n_samples
    assert [s.learn_end for s in splits] == sorted(s.learn_end for s in splits)


def test_benchmark_folds_of_a_project_never_leak(tmp_path):
    """The evaluator's real folds, on a couple with two nominal recordings."""
    from neai_tui.engine.project import Project, ProjectSettings
    from neai_tui.engine.tasks.multisensor import MultiSensorEvaluator, load_multisensor_data

    rng = np.random.default_rng(4)
    project = Project.create(tmp_path / "p", ProjectSettings(name="p", axes=3, multisensor=True))
    for name, n, role in (("a", 400, "nominal"), ("b", 250, "nominal"), ("c", 120, "abnormal")):
        project.import_signal(write_signals(tmp_path / f"{name}.csv", series(rng, n, 3, role == "abnormal")), role=role)
    data = load_multisensor_data(project)
    assert data.windows == (1, 4, 8, 16, 32, 64) and data.gap == 64
    evaluator = MultiSensorEvaluator(data, 0, None, None)
    for w in data.windows:
        pipeline = {"pre": {"kind": "raw", "decim": 1, "norm": "none", LOOKBACK: w}, "model": PIPELINES[0]["model"]}
        starts = data.couples[0][1].window_starts(w)
        assert not np.any((starts < 400) & (starts + w > 400))  # no window across the two recordings
        folds = list(evaluator.folds(pipeline))
        assert len({(fold, couple) for fold, couple, *_ in folds}) == 5
        # every fold learns in time order and in the other orders a device may see (recordings
        # and regimes in another order, each forward in time)
        assert {"time", "runs"} <= {order for _, _, order, *_ in folds}
        for _, _, order, both, learn, detect, n_nom in folds:
            learned, tested = starts[learn], starts[detect[:n_nom]]
            # forward in time within each recording (runs: 2) or regime (3): at most one step back between two
            backwards = int(np.sum(np.diff(learned) < 0))
            assert backwards <= {"time": 0, "runs": 1}.get(order, 2), (order, backwards)
            assert learned.max() + w - 1 < tested.min() - w
            assert len(both) - len(starts) == len(detect) - n_nom  # every abnormal window detected


def test_space_covers_every_window_and_fft_only_on_powers_of_two():
    space = preprocessing_space((1, 4, 8, 16))
    assert {p[LOOKBACK] for p in space} == {1, 4, 8, 16}
    assert all(p[LOOKBACK] in (8, 16) for p in space if p["kind"] == "fft")
    assert space[0] == {"kind": "raw", "decim": 1, "norm": "none", LOOKBACK: 1}
    # the look-back length does not collide with the FFT taper ("window")
    fft = next(p for p in space if p["kind"] == "fft")
    text = describe({"pre": fft, "model": {"kind": "gauss", "reg": 0.01, "calib": 2.0, "warmup": 20}})
    assert text.startswith("window of 8 samples: FFT") and "Hann" in text


# --------------------------------------------------- C streaming == search
PIPELINES = [
    {"pre": {"kind": "raw", "decim": 1, "norm": "none", LOOKBACK: 1},
     "model": {"kind": "gauss", "reg": 0.01, "calib": 2.0, "warmup": 5}},
    {"pre": {"kind": "stats", LOOKBACK: 8}, "model": {"kind": "proto", "k": 4, "reg": 0.01, "calib": 2.0, "warmup": 5}},
    {"pre": {"kind": "fft", "bands": 4, "spacing": "linear", "window": "hann", "log": True, "norm": "none",
             LOOKBACK: 16}, "model": {"kind": "gauss", "reg": 0.01, "calib": 2.0, "warmup": 5}},
    {"pre": {"kind": "raw", "decim": 2, "norm": "zscore", LOOKBACK: 5},  # not a power of two
     "model": {"kind": "proto", "k": 8, "reg": 0.1, "calib": 1.5, "warmup": 20}},
]


def host_library(tmp_path: Path, pipeline: dict, variables: int, min_learn: int = 40) -> AnomalyLibrary:
    gen = tmp_path / "gen"
    gen.mkdir()
    sources, includes = generate_sources(gen, "test-lib", pipeline, variables, min_learn, None)
    so = compile_host_shared(sources, tmp_path / "lib.so", include_dirs=includes)
    return AnomalyLibrary(so, variables, 1)


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda p: f"{p['pre']['kind']}-w{p['pre'][LOOKBACK]}")
def test_c_streaming_equals_search_features(tmp_path, pipeline):
    variables, n_learn, n_detect = 5, 150, 60
    rng = np.random.default_rng(5)
    x = np.vstack([series(rng, n_learn + n_detect // 2, variables), series(rng, n_detect // 2, variables, True)])
    w = pipeline["pre"][LOOKBACK]
    lib = host_library(tmp_path, pipeline, variables)
    assert lib.init() == 0
    states = [lib.learn(row) for row in x[:n_learn]]
    assert states[: w - 1] == [NOT_ENOUGH] * (w - 1)  # the window fills, nothing learned
    learned_windows = n_learn - w + 1
    # NEAI_MIN_LEARN (40) counts learn() calls, the filling ones included
    assert states[w - 1 :] == [NOT_ENOUGH] * (40 - w) + [DONE] * (n_learn - 39)
    assert lib.learned == n_learn
    detected = [lib.detect(row) for row in x[n_learn:]]
    assert {st for st, _ in detected} == {0}

    # The search's view: every window of the stream, learn the first ones in order.
    inner = {k: v for k, v in pipeline["pre"].items() if k != LOOKBACK}
    starts = np.arange(len(x) - w + 1)
    feats = csearch.features(inner, window_buffers(x, starts, w), variables, w)
    _, sims = csearch.run(pipeline["model"], feats, np.arange(learned_windows), starts[learned_windows:])
    assert [s for _, s in detected] == sims.tolist()
    assert len(set(sims.tolist())) > 3  # a meaningful comparison, not all 100


def test_return_codes_before_the_window_is_full_and_bad_samples(tmp_path):
    pipeline = PIPELINES[1]  # window of 8
    lib = host_library(tmp_path, pipeline, 5)
    rng = np.random.default_rng(2)
    x = series(rng, 60, 5)
    lib.init()
    # detect before anything is learned: the window fills, then nothing learned yet
    assert [lib.detect(row) for row in x[:9]] == [(NOT_ENOUGH, 0)] * 9
    lib.init()  # empties the window again
    assert [lib.learn(row) for row in x[:7]] == [NOT_ENOUGH] * 7
    for row in x[7:40]:
        lib.learn(row)
    reference = [lib.detect(row) for row in x[40:60]]
    # The same stream with a NaN sample in the middle: refused, not stored, so
    # every later decision is unchanged.
    lib.init()
    for row in x[:40]:
        lib.learn(row)
    bad = x[45].copy()
    bad[2] = np.nan
    out = [lib.detect(row) for row in x[40:45]]
    assert lib.detect(bad) == (UNKNOWN, 0)
    assert lib.learn(bad) == REFUSED
    out += [lib.detect(row) for row in x[45:60]]
    assert out == reference


# ----------------------------------------------------------- the sample project
def test_sample_files_regenerate_byte_for_byte(tmp_path):
    paths = sample_multisensor.generate_multisensor_dataset(tmp_path)
    for role, path in paths.items():
        assert path.read_bytes() == (SAMPLE / path.name).read_bytes(), role
    sig = sample_multisensor.generate_multisensor_signals()
    assert sig.nominal.shape == (3000, 6) and sig.abnormal.shape == (800, 6)
    assert set(sig.abnormal_kinds) == set(sample_multisensor.FAULT_KINDS)


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory):
    """The sample project through the CLI: new -> import -> check -> bench -> deploy."""
    tmp = tmp_path_factory.mktemp("multisensor")
    d = tmp / "pump"
    neai("new", d, "--type", "anomaly", "--variables", 6, "--name", "pump station")
    neai("import", d, SAMPLE / "nominal.csv", "--role", "nominal")
    neai("import", d, SAMPLE / "abnormal.csv", "--role", "abnormal")
    check = json.loads(neai("check", d, "--json").stdout)
    assert check["ok"]
    bench = json.loads(neai("bench", d, "--evals", 150, "--seed", 1, "--cores", 1, "--json").stdout)
    zip_path = tmp / "pump.zip"
    neai("deploy", d, "--out", zip_path)
    return {"dir": d, "tmp": tmp, "bench": bench, "zip": zip_path}


def test_bench_finds_a_windowed_library(sample_project):
    best = sample_project["bench"]["best"]
    assert best["metrics"]["balanced_accuracy"] >= 0.85
    assert best["pipeline"].startswith("window of ")
    window = int(best["pipeline"].split()[2])
    # counted in samples: at least the window plus the warm-up
    assert best["min_learning_iterations"] >= window + 2


def test_deploy_metadata_and_header(sample_project):
    with zipfile.ZipFile(sample_project["zip"]) as zf:
        meta = json.loads(zf.read("metadata.json"))
        header = zf.read("NanoEdgeAI.h").decode()
        main_c = zf.read("main.c").decode()
    window = meta["data"]["window"]
    assert meta["type"] == "anomaly" and meta["multisensor"] is True
    assert meta["data"] == {"axes": 6, "buffer_size": 1, "values_per_line": 6, "layout": "multisensor",
                            "window": window}
    assert meta["measured"]["identical"] and meta["core"] == "cortex-m4f"
    assert meta["pipeline"].startswith(f"window of {window} sample")
    assert "#define NB_AXES 6" in header and "#define BUFFER_SIZE 1" in header
    assert f"#define NEAI_WINDOW {window}" in header
    assert f"#define NEAI_MIN_LEARN {meta['min_learning_iterations']}" in header
    assert "neai_anomalydetection_detect" in main_c and "NanoEdgeAI_detect" in header
    # the window is RAM of the library, measured
    assert meta["ram_bytes"] >= 4 * window * 6 + meta["knowledge_bytes"]


def test_hello_world_links_against_the_library(sample_project, tmp_path):
    from neai_tui.engine.armrun import link_image

    with zipfile.ZipFile(sample_project["zip"]) as zf:
        zf.extractall(tmp_path)
    elf = link_image(tmp_path / "libneai.a", "cortex-m4f", ["main"], tmp_path / "hello.elf",
                     extra_sources=[tmp_path / "main.c"], include_dirs=[tmp_path])
    assert elf.is_file()


def test_emulate_learns_the_past_and_detects_later_and_abnormal(sample_project, tmp_path):
    nominal = np.loadtxt(SAMPLE / "nominal.csv")
    abnormal = np.loadtxt(SAMPLE / "abnormal.csv")
    learn = write_signals(tmp_path / "learn.csv", nominal[:1800])
    detect = write_signals(tmp_path / "detect.csv", np.vstack([nominal[1900:], abnormal]))
    res = json.loads(neai("emulate", sample_project["zip"], "--learn", learn, "--detect", detect, "--json").stdout)
    with zipfile.ZipFile(sample_project["zip"]) as zf:
        window = json.loads(zf.read("metadata.json"))["data"]["window"]
    assert res["learned"] == 1800
    sims = [r["similarity"] for r in res["results"]]
    assert len(sims) == 1900 and all("status" not in r for r in res["results"])  # the window was already full
    # windows that straddle the jump from the learning file, or nominal -> abnormal, are left out
    n_nom = len(nominal) - 1900
    ba = balanced_accuracy(sims[window - 1 : n_nom], sims[n_nom + window - 1 :])
    assert ba >= 0.9, ba
    # the zip's own runner gives the same answer
    with zipfile.ZipFile(sample_project["zip"]) as zf:
        zf.extractall(tmp_path / "unzipped")
    own = subprocess.run([sys.executable, tmp_path / "unzipped" / "emulator" / "emulate.py", "--learn", learn,
                          "--detect", detect], capture_output=True, text=True, check=True)
    assert [r["similarity"] for r in json.loads(own.stdout)["results"]] == sims


def test_emulate_without_learning_is_refused_and_too_little_reports_the_state(sample_project, tmp_path):
    # Issue 16: detecting with an untrained library is a usage error (it gave 0 on every line, exit 0).
    detect = write_signals(tmp_path / "d.csv", np.loadtxt(SAMPLE / "nominal.csv")[:80])
    refused = neai("emulate", sample_project["zip"], "--detect", detect, check=False)
    assert refused.returncode == 2 and "learns on the device" in refused.stderr and "--learn" in refused.stderr
    # Learning too little still runs, and every line says why its similarity is 0.
    one = write_signals(tmp_path / "one.csv", np.loadtxt(SAMPLE / "nominal.csv")[:1])
    res = json.loads(neai("emulate", sample_project["zip"], "--learn", one, "--detect", detect,
                          "--json").stdout)["results"]
    assert all(r == {"similarity": 0, "status": "NEAI_NOT_ENOUGH_CALL_TO_LEARNING"} for r in res)


def test_deploy_cortex_m0plus_with_suffix(sample_project, tmp_path):
    out = tmp_path / "m0.zip"
    neai("deploy", sample_project["dir"], "--target", "cortex-m0plus", "--suffix", "pump", "--out", out)
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("metadata.json"))
        header = zf.read("NanoEdgeAI_pump.h").decode()
    assert meta["measured"]["identical"] and meta["float_abi"] == "soft" and meta["suffix"] == "pump"
    assert "#define NEAI_WINDOW_pump" in header and "neai_anomalydetection_detect_pump" in header
    detect = write_signals(tmp_path / "d.csv", np.loadtxt(SAMPLE / "nominal.csv")[:300])
    res = json.loads(neai("emulate", out, "--learn", detect, "--detect", detect, "--json").stdout)
    assert res["learned"] == 300 and len(res["results"]) == 300


# ------------------------------------------------------------ n = 5 variables
def test_five_variables_end_to_end(tmp_path):
    rng = np.random.default_rng(8)
    nominal = write_signals(tmp_path / "nominal.csv", series(rng, 900, 5))
    abnormal = write_signals(tmp_path / "abnormal.csv", series(rng, 200, 5, abnormal=True))
    later = series(rng, 1100, 5)[900:]  # the same process, later
    d = tmp_path / "five"
    neai("new", d, "--type", "anomaly", "--variables", 5)
    neai("import", d, nominal, "--role", "nominal")
    neai("import", d, abnormal, "--role", "abnormal")
    best = json.loads(neai("bench", d, "--evals", 40, "--seed", 2, "--cores", 1, "--json").stdout)["best"]
    assert best["metrics"]["balanced_accuracy"] >= 0.8
    out = tmp_path / "five.zip"
    neai("deploy", d, "--out", out)
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("metadata.json"))
        assert "#define NB_AXES 5" in zf.read("NanoEdgeAI.h").decode()
    assert meta["measured"]["identical"] and meta["data"]["values_per_line"] == 5
    detect = write_signals(tmp_path / "detect.csv", np.vstack([later, series(rng, 100, 5, abnormal=True)]))
    res = json.loads(neai("emulate", out, "--learn", nominal, "--detect", detect, "--json").stdout)
    sims = [r["similarity"] for r in res["results"]]
    w = meta["data"]["window"]
    assert balanced_accuracy(sims[w - 1 : 200], sims[200 + w - 1 :]) >= 0.8


def test_too_short_nominal_series_is_a_clear_error(tmp_path):
    rng = np.random.default_rng(1)
    d = tmp_path / "short"
    neai("new", d, "--type", "anomaly", "--variables", 3)
    neai("import", d, write_signals(tmp_path / "n.csv", series(rng, 40, 3)), "--role", "nominal")
    neai("import", d, write_signals(tmp_path / "a.csv", series(rng, 20, 3, True)), "--role", "abnormal")
    r = neai("bench", d, "--evals", 5, check=False)
    assert r.returncode == 2 and "nominal samples" in r.stderr


# --------------------------------------------------------------- real data
def test_skab_multisensor_bench(shared_data, tmp_path):
    subprocess.run([sys.executable, str(REPO / "bench" / "prepare_real_data.py"), "--data", str(shared_data),
                    "--out", str(tmp_path / "real"), "--only", "skab"], check=True, capture_output=True)
    skab = tmp_path / "real" / "skab"
    d = tmp_path / "skab"
    neai("new", d, "--type", "anomaly", "--variables", 8)
    # the same run's anomaly-free start as nominal (anomaly-free.csv is another operating point)
    neai("import", d, skab / "skab_multisensor_run_nominal.csv", "--role", "nominal")
    neai("import", d, skab / "skab_multisensor_abnormal.csv", "--role", "abnormal")
    best = json.loads(neai("bench", d, "--evals", 300, "--seed", 1, "--cores", 1, "--json").stdout)["best"]
    assert best["pipeline"].startswith("window of ")
    # measured: worst fold 0.81, mean 0.86 (1000 evaluations: 0.88 / 0.89)
    assert best["metrics"]["balanced_accuracy_mean"] >= 0.75, best
