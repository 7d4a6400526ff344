"""The project's frequency filter: designed by scipy, run by the C runtime in the
benchmark and in the libraries (which keep the filter their benchmark used)."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from scipy.signal import butter, sosfilt, sosfilt_zi

from neai_tui.engine.filtering import design, filter_lines

from .conftest import tone_signals, write_signals
from .test_cli import neai


@pytest.mark.parametrize("low,high", [(20.0, 400.0), (None, 300.0), (50.0, None)])
def test_the_c_filter_is_scipys_butterworth_from_the_first_samples_steady_state(low, high):
    rng = np.random.default_rng(3)
    axes, n = 3, 256
    lines = (rng.standard_normal((4, n * axes)) + np.tile([0.0, 0.0, 1.0], n)).astype(np.float32)
    d = design({"sampling_rate_hz": 1600.0, "low_hz": low, "high_hz": high})
    out = filter_lines(d, lines, axes, n)
    parts = []
    if low:
        parts.append(butter(2, low, "highpass", fs=1600.0, output="sos"))
    if high:
        parts.append(butter(2, high, "lowpass", fs=1600.0, output="sos"))
    sos = np.vstack(parts)
    cube = lines.reshape(len(lines), n, axes).astype(np.float64)
    ref = np.stack([
        np.stack([sosfilt(sos, line[:, a], zi=sosfilt_zi(sos) * line[0, a])[0] for a in range(axes)], axis=1)
        for line in cube
    ]).reshape(lines.shape)
    assert d.sections == len(parts)
    assert np.abs(out - ref).max() < 1e-4 * max(1.0, np.abs(ref).max())
    # Started from the steady state: a constant buffer (a 1 g offset) has no start-up transient.
    constant = filter_lines(d, np.full((1, n * axes), 1.0, dtype=np.float32), axes, n)
    assert np.abs(constant - (0.0 if low else 1.0)).max() < 1e-5


def test_a_sampling_rate_alone_filters_nothing():
    lines = np.ones((2, 12), dtype=np.float32)
    assert design({"sampling_rate_hz": 100.0}) is None
    assert filter_lines(design({"sampling_rate_hz": 100.0}), lines, 3, 4) is lines


@pytest.fixture(scope="module")
def drifting(tmp_path_factory):
    """Nominal 50/90 Hz tones riding on large slow offsets that differ from line
    to line; abnormal: a 200 Hz tone. Sampled at 1 kHz."""
    tmp = tmp_path_factory.mktemp("filter")
    rng = np.random.default_rng(5)

    def offsets(rows):
        return rows + np.repeat(rng.uniform(-3, 3, size=(len(rows), 1)), rows.shape[1], axis=1)

    nominal = write_signals(tmp / "n.csv", offsets(np.vstack([tone_signals(rng, 40, 50.0), tone_signals(rng, 40, 90.0)])))
    abnormal = write_signals(tmp / "a.csv", offsets(tone_signals(rng, 30, 200.0, amp=2.0)))
    return {"tmp": tmp, "nominal": nominal, "abnormal": abnormal}


def test_a_filtered_anomaly_library_end_to_end(drifting, tmp_path):
    d = tmp_path / "p"
    neai("new", d, "--type", "anomaly", "--axes", 3)
    neai("import", d, drifting["nominal"], "--role", "nominal")
    neai("import", d, drifting["abnormal"], "--role", "abnormal")
    assert "no frequency filter" in neai("filter", d).stdout
    assert "high-pass 10 Hz at 1000 Hz" in neai("filter", d, "--rate", 1000, "--low", 10).stdout
    best = json.loads(neai("bench", d, "--evals", 150, "--seed", 2, "--cores", 1, "--json").stdout)["best"]
    assert best["pipeline"].startswith("high-pass 10 Hz -> ")
    state = json.loads((d / "benchmarks" / "b1" / "bench.json").read_text())
    assert state["frequency_filter"] == {"sampling_rate_hz": 1000.0, "low_hz": 10.0, "high_hz": None}

    out = tmp_path / "lib.zip"
    neai("deploy", d, "--out", out)  # refuses to write the zip unless the ARM build == the host build
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("metadata.json"))
    assert meta["frequency_filter"] == state["frequency_filter"] and meta["measured"]["identical"]
    assert meta["measured"]["static_ram_bytes"] >= 4 * 3 * 64  # the filtered copy of the input buffer
    assert meta["estimate_error_pct"]["ram"] is not None and abs(meta["estimate_error_pct"]["ram"]) < 25

    res = json.loads(neai("emulate", out, "--learn", drifting["nominal"], "--detect", drifting["abnormal"],
                          "--json").stdout)
    assert res["learned"] == 80 and np.mean([r["similarity"] < 90 for r in res["results"]]) > 0.8

    # A benchmark stopped with one filter is not resumed with another: a new one
    # starts, saying why (issue 14: benchmarks are tied to their data and settings).
    neai("bench", d, "--new", "--time", 0.5, "--cores", 1)
    neai("filter", d, "--low", 20)
    r = neai("bench", d, "--evals", 30, "--cores", 1, "--json")
    assert json.loads(r.stdout)["benchmark"] == "b3"
    assert "benchmark b2 ran on other data (the frequency filter changed" in r.stderr


def test_a_trained_library_keeps_its_benchmarks_filter(drifting, tmp_path):
    rng = np.random.default_rng(8)
    d = tmp_path / "p"
    neai("new", d, "--type", "n-class", "--axes", 3)
    for freq in (50.0, 90.0, 200.0):
        rows = tone_signals(rng, 30, freq) + rng.uniform(-3, 3, size=(30, 1))
        neai("import", d, write_signals(tmp_path / f"c{int(freq)}.csv", rows))
    neai("filter", d, "--rate", 1000, "--low", 10, "--high", 300)
    best = json.loads(neai("bench", d, "--evals", 60, "--seed", 1, "--cores", 1, "--json").stdout)["best"]
    assert best["pipeline"].startswith("band-pass 10-300 Hz -> ")
    neai("filter", d, "--clear")  # the project's filter changes; the library keeps its own
    out = tmp_path / "lib.zip"
    neai("deploy", d, "--out", out)  # host build == ARM build == the model on filtered lines
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("metadata.json"))
    assert meta["frequency_filter"] == {"sampling_rate_hz": 1000.0, "low_hz": 10.0, "high_hz": 300.0}


def test_multisensor_projects_refuse_a_filter(tmp_path):
    d = tmp_path / "p"
    neai("new", d, "--type", "anomaly", "--variables", 3)
    r = neai("filter", d, "--rate", 1, "--low", 0.1, check=False)
    assert r.returncode == 2 and "Multi-sensor" in r.stderr
    assert "sampling rate 1 Hz, no filter" in neai("filter", d, "--rate", 1).stdout
