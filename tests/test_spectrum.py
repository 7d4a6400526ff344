"""Welch spectra, pass bands and spectral statistics (c_lib/neai_dsp.c) against
numpy, pipelines stored by earlier versions against their earlier features, and
the search spaces built on them: size, no duplicates, consistent keys.

The C is the truth the search ranks by; numpy is only the reference here.
tests/test_parity.py checks the same components across the three builds."""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from neai_tui.engine import csearch, trained
from neai_tui.engine.armrun import ArmMachine, link_image
from neai_tui.engine.optimiser import SpaceCodec
from neai_tui.engine.pipeline import (
    SPECTRAL_PER_AXIS, STATS_PER_AXIS, band_edges, nb_features, pass_band, pre_signature, segmentation,
)
from neai_tui.engine.tasks import anomaly, multisensor, task_for
from neai_tui.engine.toolchain import compile_static_lib

from .conftest import tone_signals
from .test_multisensor import test_c_streaming_equals_search_features as streaming_equals_search
from .test_trained_parity import PROBE

MIN_CANDIDATES = 100_000


def integer_lines(n_lines: int, axes: int, buffer: int) -> np.ndarray:
    """Deterministic float32 lines built without a random generator or libm, so
    the golden hashes below do not depend on numpy's version or the platform."""
    i = np.arange(n_lines * axes * buffer, dtype=np.int64)
    x = (((i * 2654435761) % 2001) - 1000).astype(np.float32) / np.float32(250.0)
    x = x.reshape(n_lines, axes * buffer)
    x[:, 0::axes] += np.float32(2.0) * (np.arange(buffer, dtype=np.float32) % 16 < 8)  # a square wave on axis 0
    return x


# sha256 (first 16 hex digits) of the features of integer_lines(6, 3, 128), from
# the C runtime before Welch segments, pass bands and spectral statistics existed.
EARLIER = [
    ({"kind": "fft", "bands": 8, "spacing": "log", "window": "hann", "log": True, "norm": "none"}, "51e673b3f6846203"),
    ({"kind": "fft", "bands": 16, "spacing": "linear", "window": "none", "log": False, "norm": "relative"},
     "8357ef692ee1c949"),
    ({"kind": "fft", "bands": 64, "spacing": "linear", "window": "hann", "log": True, "norm": "relative"},
     "2173b87f76de6c7c"),
    ({"kind": "raw", "decim": 4, "norm": "zscore"}, "c6a371ed41a2f0b4"),
    ({"kind": "stats"}, "57575f1276d05daa"),
]


@pytest.mark.parametrize("pre,digest", EARLIER, ids=lambda v: v["kind"] if isinstance(v, dict) else "")
def test_pipelines_of_earlier_versions_give_the_same_features(pre, digest):
    x = integer_lines(6, 3, 128)
    got = csearch.features(pre, x, 3, 128)
    assert hashlib.sha256(got.tobytes()).hexdigest()[:16] == digest
    if pre["kind"] == "fft":  # the new keys' defaults are the earlier behaviour
        explicit = csearch.features({**pre, "segments": 1, "low": 0.0, "high": 1.0}, x, 3, 128)
        assert np.array_equal(explicit.view(np.uint32), got.view(np.uint32))


# ------------------------------------------------------------------ numpy references
def welch_power(sig: np.ndarray, pre: dict, buffer: int) -> np.ndarray:
    """Power spectrum averaged over Welch segments (each mean-removed, windowed)."""
    seg_len, hop, count = segmentation(pre, buffer)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(seg_len) / seg_len) if pre.get("window") == "hann" else 1.0
    acc = np.zeros(seg_len // 2 + 1)
    for s in range(count):
        seg = sig[s * hop : s * hop + seg_len].astype(np.float64)
        acc += np.abs(np.fft.rfft((seg - seg.mean()) * window)) ** 2
    return acc / count


def spectral_reference(sig: np.ndarray, pre: dict, buffer: int) -> np.ndarray:
    power = welch_power(sig, pre, buffer)
    half = segmentation(pre, buffer)[0] // 2
    first, end = pass_band(pre, 2 * half)
    p, f = power[first:end], np.arange(first, end) / half
    energy = p.sum()
    q = p / energy
    centroid = (f * q).sum()
    log_energy = np.log(p.mean() + 1e-12)
    out = [log_energy, centroid, np.sqrt(((f - centroid) ** 2 * q).sum()),
           np.log(p + 1e-12).mean() - log_energy, f[np.argmax(np.cumsum(q) >= 0.85)], f[np.argmax(p)],
           -(q * np.log(np.where(q > 0, q, 1.0))).sum() / np.log(len(p))]
    if pre.get("bands"):
        edges = band_edges(pre, buffer)
        out += [power[edges[b] : edges[b + 1]].sum() / energy for b in range(len(edges) - 1)]
    return np.array(out)


def tone_lines(axes: int, buffer: int) -> np.ndarray:
    rng = np.random.default_rng(4)
    t = np.arange(buffer)
    x = rng.standard_normal((4, buffer, axes))
    x[:, :, 0] += 3.0 * np.sin(2 * np.pi * 0.1 * t)  # a tone at 20 % of Nyquist on axis 0
    x[:, :, -1] += 2.0 * np.sin(2 * np.pi * 0.4 * t)  # and at 80 % on the last one
    return x.reshape(4, buffer * axes)


FFT_CASES = [
    {"kind": "fft", "bands": 8, "spacing": "log", "window": "hann", "log": False, "norm": "none", "segments": 4,
     "low": 0.0, "high": 1.0},
    {"kind": "fft", "bands": 8, "spacing": "linear", "window": "none", "log": False, "norm": "none", "segments": 2,
     "low": 0.5, "high": 1.0},
    {"kind": "fft", "bands": 4, "spacing": "log", "window": "hann", "log": False, "norm": "none", "segments": 1,
     "low": 0.0, "high": 0.5},
]


@pytest.mark.parametrize("pre", FFT_CASES, ids=lambda p: f"S{p['segments']}-{p['low']}-{p['high']}")
def test_welch_and_pass_band_fft_match_numpy(pre):
    axes, buffer = 2, 128
    x = tone_lines(axes, buffer)
    got = csearch.features(pre, x, axes, buffer)
    edges = band_edges(pre, buffer)
    bands = len(edges) - 1
    assert got.shape == (len(x), nb_features(pre, axes, buffer)) == (len(x), axes * bands)
    for row in range(len(x)):
        for axis in range(axes):
            power = welch_power(x[row].reshape(buffer, axes)[:, axis], pre, buffer)
            ref = [power[edges[b] : edges[b + 1]].mean() for b in range(bands)]
            np.testing.assert_allclose(got[row, axis * bands : (axis + 1) * bands], ref, rtol=1e-4, atol=1e-4)


SPECTRAL_CASES = [
    {"kind": "spectral", "bands": 4, "window": "hann", "segments": 2, "low": 0.0, "high": 1.0, "time_stats": True},
    {"kind": "spectral", "bands": 0, "window": "none", "segments": 1, "low": 0.5, "high": 1.0, "time_stats": False},
    {"kind": "spectral", "bands": 8, "window": "hann", "segments": 4, "low": 0.0, "high": 0.5, "time_stats": False},
]


@pytest.mark.parametrize("pre", SPECTRAL_CASES, ids=lambda p: f"{p['bands']}bands-S{p['segments']}-{p['low']}")
def test_spectral_statistics_match_numpy(pre):
    axes, buffer = 2, 128
    x = tone_lines(axes, buffer)
    got = csearch.features(pre, x, axes, buffer)
    per_axis = SPECTRAL_PER_AXIS + pre["bands"]
    assert got.shape[1] == nb_features(pre, axes, buffer) == axes * (per_axis + STATS_PER_AXIS * pre["time_stats"])
    for row in range(len(x)):
        for axis in range(axes):
            ref = spectral_reference(x[row].reshape(buffer, axes)[:, axis], pre, buffer)
            np.testing.assert_allclose(got[row, axis * per_axis : (axis + 1) * per_axis], ref, rtol=2e-4, atol=2e-5)
    if pre["time_stats"]:  # the statistics block follows, exactly the "stats" features
        assert np.array_equal(got[:, axes * per_axis :], csearch.features({"kind": "stats"}, x, axes, buffer))
    # the tones: centroid and peak of axis 0 low, of the last axis high (when in the pass band)
    if pre["low"] == 0.0 and pre["high"] == 1.0:
        assert got[0, 5] == pytest.approx(0.2, abs=0.07) and got[0, per_axis + 5] == pytest.approx(0.8, abs=0.07)


def test_spectral_statistics_of_a_silent_axis_are_finite():
    pre = SPECTRAL_CASES[0]
    x = tone_lines(2, 128)
    x[:, 1::2] = 5.0  # axis 1 constant: no energy once the mean is removed
    got = csearch.features(pre, x, 2, 128)
    assert np.isfinite(got).all()
    per_axis = SPECTRAL_PER_AXIS + pre["bands"]
    silent = got[:, per_axis : 2 * per_axis]
    assert (silent[:, [1, 2, 4, 5, 6]] == 0).all() and (silent[:, SPECTRAL_PER_AXIS:] == 0).all()


# ------------------------------------------------------------------------ the spaces
def anomaly_like_size(task: str, axes: int, buffer: int) -> int:
    t = task_for(task)
    data = SimpleNamespace(axes=axes, buffer_size=buffer)
    return len(t.preprocessing_space(data)) * len(t.model_space(data))


@pytest.mark.parametrize("buffer", [64, 128, 256, 1024])
@pytest.mark.parametrize("task", ["anomaly", "n-class", "one-class", "extrapolation"])
def test_every_type_has_at_least_100k_candidates(task, buffer):
    assert anomaly_like_size(task, 3, buffer) >= MIN_CANDIDATES


@pytest.mark.parametrize("windows", [
    multisensor.WINDOWS,  # long recordings: every window
    (1, 4, 8, 16, 32),  # shorter ones
])
def test_multisensor_has_at_least_100k_candidates(windows):
    # (the models no longer have a warm-up: they calibrate from their knowledge, not from a history)
    pres = multisensor.preprocessing_space(windows)
    assert len(pres) * len(multisensor.model_space()) >= MIN_CANDIDATES


@pytest.mark.parametrize("axes,buffer", [(3, 16), (1, 64), (3, 256)])
def test_anomaly_space_is_distinct_valid_and_codec_ready(axes, buffer):
    space = anomaly.preprocessing_space(axes, buffer)
    signatures = {pre_signature(pre, axes, buffer) for pre in space}
    assert len(signatures) == len(space)  # no two give the same C configuration
    kinds = {pre["kind"] for pre in space}
    assert {"raw", "stats", "fft", "spectral"} <= kinds
    assert ("cov" in kinds) == (axes > 1)
    codec = SpaceCodec(space, anomaly.model_space())
    for pre in space:  # TPE can encode every one (keys a pre leaves out encode as None)
        pipeline = {"pre": pre, "model": anomaly.model_space()[0]}
        params, dists = codec.distributions(pipeline)
        assert codec.contains(pipeline) and set(params) == set(dists), pre
    x = integer_lines(2, axes, buffer)
    for pre in space:  # the C accepts every one, with the feature count Python sizes buffers by
        feats = csearch.features(pre, x, axes, buffer)
        assert feats.shape == (2, nb_features(pre, axes, buffer)) and np.isfinite(feats).all(), pre


def test_multisensor_space_is_distinct_per_window():
    space = multisensor.preprocessing_space(multisensor.WINDOWS)
    by_window: dict[int, set] = {}
    for pre in space:
        inner = {k: v for k, v in pre.items() if k != multisensor.LOOKBACK}
        w = pre[multisensor.LOOKBACK]
        signature = pre_signature(inner, 4, w)
        assert signature not in by_window.setdefault(w, set()), pre
        by_window[w].add(signature)
    spectral = [p for p in space if p["kind"] == "spectral"]
    assert spectral and min(p[multisensor.LOOKBACK] for p in spectral) == 8
    assert {p["segments"] for p in space if p["kind"] == "fft"} == {1, 2, 4}


def test_bench_prints_the_space_size(small_anomaly_files, tmp_path):
    nominal, abnormal = small_anomaly_files

    def neai(*args):
        return subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True,
                              text=True, check=True)

    d = tmp_path / "proj"
    neai("new", d, "--type", "anomaly", "--axes", 3)
    neai("import", d, nominal, "--role", "nominal")
    neai("import", d, abnormal, "--role", "abnormal")
    result = neai("bench", d, "--evals", 2, "--cores", 1, "--seed", 1)
    size = int(re.search(r"(\d+) candidates in the space", result.stderr).group(1))
    assert size == anomaly_like_size("anomaly", 3, 64) >= MIN_CANDIDATES


# ------------------------------------------------------------- Multi-sensor library
STREAMING = [
    {"pre": {"kind": "spectral", "bands": 4, "window": "hann", "segments": 2, "low": 0.0, "high": 0.5,
             "time_stats": True, multisensor.LOOKBACK: 32},
     "model": {"kind": "gauss", "reg": 0.01, "calib": 2.0, "warmup": 5}},
    {"pre": {"kind": "fft", "bands": 4, "spacing": "linear", "window": "hann", "log": True, "norm": "none",
             "segments": 4, "low": 0.5, "high": 1.0, multisensor.LOOKBACK: 32},
     "model": {"kind": "proto", "k": 4, "reg": 0.01, "calib": 2.0, "warmup": 5}},
]


@pytest.mark.parametrize("pipeline", STREAMING, ids=lambda p: p["pre"]["kind"])
def test_multisensor_library_streams_the_search_features(tmp_path, pipeline):
    """The Multi-sensor library's window, through the new components, gives the
    search's similarities (its own test module covers the older ones)."""
    streaming_equals_search(tmp_path, pipeline)


# ------------------------------------------------------------------ trained library
def test_trained_library_on_spectral_statistics_matches_the_search(tmp_path):
    """A trained library's generated configuration carries the new fields and
    tables: its Cortex-M4F build predicts what the search's fitted model does."""
    axes, buffer = 3, 64
    pre = {"kind": "spectral", "bands": 4, "window": "hann", "segments": 2, "low": 0.0, "high": 0.5,
           "time_stats": True}
    rng = np.random.default_rng(8)
    rows = np.vstack([tone_signals(rng, 20, f, buffer=buffer) for f in (50.0, 90.0, 140.0)])
    fitted = trained.fit("n-class", {"kind": "logreg", "C": 10.0}, csearch.features(pre, rows, axes, buffer),
                         np.repeat(np.arange(3), 20), seed=3)
    (tmp_path / "cfg_spec.h").write_text(trained.config_header(fitted, pre, axes, buffer, "lib-spec", "spec"))
    (tmp_path / "knowledge_spec.h").write_text(trained.knowledge_header(fitted, "lib-spec", "spec"))
    (tmp_path / "probe_spec.c").write_text(PROBE.format(name="spec"))
    lib_a = compile_static_lib([tmp_path / "probe_spec.c"], tmp_path / "libprobe.a", "cortex-m4f",
                               include_dirs=[tmp_path, csearch.c_lib_dir()])
    arm = ArmMachine(link_image(lib_a, "cortex-m4f", ["probe_spec"], tmp_path / "probe.elf"), "cortex-m4f")
    test = rows[::7]
    host = trained.predict_c(fitted, csearch.features(pre, test, axes, buffer))["proba"]
    buf, out = arm.alloc(4 * axes * buffer), arm.alloc(4 * fitted.out_floats())
    for i, row in enumerate(np.asarray(test, dtype=np.float32)):
        arm.write_floats(buf, row)
        assert arm.call("probe_spec", buf, out, count=False) == 0
        assert np.array_equal(arm.read_floats(out, fitted.out_floats()).view(np.uint32), host[i].view(np.uint32))
