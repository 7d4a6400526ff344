"""A bad day on the device: the C runtime under AddressSanitizer and
UndefinedBehaviorSanitizer, driven with random, extreme and non-finite buffers
(bench/hostile_c.py; 10^5 calls here, 10^6 with the script's default)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _harness():
    spec = importlib.util.spec_from_file_location("hostile_c", REPO / "bench" / "hostile_c.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_runtime_survives_hostile_buffers_under_sanitizers():
    harness = _harness()
    if harness.sanitizer_runtime() is None:
        pytest.skip("gcc with libasan is not installed")
    report = harness.run(calls=100_000, seed=1)
    assert report["returncode"] == 0 and not report["sanitizer"], report.get("sanitizer") or report.get("stderr")
    assert report["calls"] >= 100_000
    assert report["knowledge_finite"]
    # every anomaly model kind, a Multi-sensor library, every trained model kind
    assert {"gauss", "proto", "cov", "hst", "knn", "multisensor proto"} <= set(report["agreement_after_one_hostile_buffer"])
    assert report["trained_kinds"] >= 18
    assert not report["failures"], report["failures"]  # decisions equal on >= 98 % after any one hostile buffer


def test_one_bad_buffer_does_not_switch_detection_off(tmp_path):
    """Issue 14's day: after 100 nominal lines, one constant buffer or one sample of
    1e19 learned used to turn 137/150 detections into 0/150 on the fan sample."""
    import numpy as np

    from neai_tui.engine import codegen, csearch, sample
    from neai_tui.engine.csearch import c_lib_dir
    from neai_tui.engine.emulator_runtime import AnomalyLibrary
    from neai_tui.engine.pipeline import guard_bounds
    from neai_tui.engine.toolchain import compile_host_shared

    folder = sample.bundled_fan_dir()
    if folder is None:
        pytest.skip("sample_data/fan not present")
    nominal = np.loadtxt(folder / "nominal.csv")
    abnormal = np.loadtxt(folder / "abnormal.csv")
    rng = np.random.default_rng(3)
    learn = nominal[np.sort(rng.permutation(len(nominal))[:100])]
    pipeline = {"pre": {"kind": "spectral", "bands": 4, "window": "hann", "segments": 4, "low": 0.0, "high": 0.5,
                        "time_stats": False}, "model": {"kind": "proto", "k": 8, "reg": 0.1, "calib": 2.0}}
    gen = tmp_path / "gen"
    gen.mkdir()
    (gen / codegen.header_name(None)).write_text(codegen.anomaly_header("t", 3, 256, 10, 0, None))
    (gen / "neai_config.h").write_text(codegen.anomaly_config(
        "t", pipeline, 3, 256, 10, None, guard=guard_bounds(nominal, 3),
        learn_features=csearch.features(pipeline["pre"], nominal, 3, 256)))
    lib = AnomalyLibrary(compile_host_shared([c_lib_dir() / "neai_anomaly.c"], tmp_path / "l.so",
                                             include_dirs=[gen, c_lib_dir()]), 3, 256)

    def flagged(extra=None):
        lib.init()
        for row in learn:
            lib.learn(row)
        if extra is not None:
            assert lib.learn(extra) == 129  # NEAI_BUFFER_REFUSED: nothing learned
        return sum(lib.detect(row)[1] < 90 for row in abnormal)

    clean = flagged()
    assert clean >= 135
    one_huge = learn[0].copy()
    one_huge[100] = 1e19
    for bad in (np.full(768, 0.5), one_huge, np.full(768, 3.4e38), np.zeros(768), np.full(768, 1e-40)):
        assert flagged(bad) == clean
