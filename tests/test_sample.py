"""The bundled fan sample generator and the real-data preparation script."""
from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine import sample

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
WIDTH = sample.BUFFER_SIZE * sample.NB_AXES


def _read_lines(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="ascii")
    assert text.endswith("\n") and "\r" not in text and "\t" not in text
    return [line.split(" ") for line in text.splitlines()]


def test_generator_is_deterministic(tmp_path):
    a = sample.generate_fan_dataset(tmp_path / "a", seed=7, n_nominal=6, n_abnormal=4)
    b = sample.generate_fan_dataset(tmp_path / "b", seed=7, n_nominal=6, n_abnormal=4)
    c = sample.generate_fan_dataset(tmp_path / "c", seed=8, n_nominal=6, n_abnormal=4)
    assert set(a) == {"nominal", "abnormal"}
    for role in a:
        assert a[role].name == sample.FILES[role]
        assert a[role].read_bytes() == b[role].read_bytes()
        assert a[role].read_bytes() != c[role].read_bytes()


def test_files_have_the_studio_shape(tmp_path):
    paths = sample.generate_fan_dataset(tmp_path, seed=3, n_nominal=5, n_abnormal=6)
    for role, n in (("nominal", 5), ("abnormal", 6)):
        rows = _read_lines(paths[role])
        assert len(rows) == n
        for row in rows:
            assert len(row) == WIDTH == 768
            values = [float(v) for v in row]  # numbers only, no header
            assert all(math.isfinite(v) for v in values)
            assert all(len(v.split(".")[1]) == 4 for v in row)  # fixed %.4f


def test_signals_are_physically_plausible():
    sig = sample.generate_fan_signals(seed=11, n_nominal=30, n_abnormal=30)
    assert sig.nominal.shape == (30, WIDTH) and sig.abnormal.shape == (30, WIDTH)
    assert np.isfinite(sig.nominal).all() and np.isfinite(sig.abnormal).all()
    xyz = sig.nominal.reshape(30, sample.BUFFER_SIZE, sample.NB_AXES)
    mean = xyz.mean(axis=(0, 1))
    assert abs(mean[2] - 1.0) < 0.01  # gravity on z (interleaving kept)
    assert abs(mean[0]) < 0.05 and abs(mean[1]) < 0.05
    assert np.abs(sig.nominal).max() < 2.0  # inside a +-2 g range
    assert sorted(set(sig.abnormal_kinds)) == sorted(sample.FAULT_KINDS)
    assert {sig.abnormal_kinds.count(k) for k in sample.FAULT_KINDS} == {10}
    assert set(sig.nominal_rpm) <= set(sample.FAN_SPEEDS_RPM)


def test_fault_signatures_show_in_the_spectrum():
    sig = sample.generate_fan_signals(seed=5, n_nominal=60, n_abnormal=60)
    kinds = np.array(sig.abnormal_kinds)

    def spectrum(v):
        x = v.reshape(len(v), sample.BUFFER_SIZE, sample.NB_AXES)
        x = x - x.mean(axis=1, keepdims=True)
        return np.abs(np.fft.rfft(x, axis=1)) ** 2

    freqs = np.fft.rfftfreq(sample.BUFFER_SIZE, 1 / sample.SAMPLE_RATE_HZ)
    near_resonance = (freqs > 350) & (freqs < 450)
    nominal = spectrum(sig.nominal)[:, near_resonance].sum(axis=(1, 2))
    tapping = spectrum(sig.abnormal[kinds == "tapping"])[:, near_resonance].sum(axis=(1, 2))
    assert np.median(tapping) > 10 * np.median(nominal)


def test_cli_regenerates(tmp_path, capsys):
    assert sample.main([str(tmp_path), "--nominal", "3", "--abnormal", "2"]) == 0
    assert len(_read_lines(tmp_path / "nominal.csv")) == 3
    assert len(_read_lines(tmp_path / "abnormal.csv")) == 2
    assert "768 values" in capsys.readouterr().out


def test_shipped_files_are_regenerated_byte_for_byte(tmp_path):
    folder = sample.bundled_fan_dir()
    if folder is None:
        pytest.skip("sample_data/fan not present")
    paths = sample.generate_fan_dataset(tmp_path)
    for role, path in paths.items():
        assert path.read_bytes() == (folder / sample.FILES[role]).read_bytes(), role


def test_nominal_lines_come_speed_by_speed():
    """As a datalogger records a fan run at one setting, then the next."""
    sig = sample.generate_fan_signals()
    rpm = sig.nominal_rpm
    assert np.all(np.diff(rpm) >= 0) and len(set(rpm)) == 3


def test_shipped_files_match_the_generator():
    folder = sample.bundled_fan_dir()
    if folder is None:
        pytest.skip("sample_data/fan not present")
    sig = sample.generate_fan_signals()  # defaults = the shipped files
    for role, expected in (("nominal", sig.nominal), ("abnormal", sig.abnormal)):
        shipped = np.loadtxt(folder / sample.FILES[role], ndmin=2)
        assert shipped.shape == expected.shape
        # same numbers up to the last printed digit (libm may differ across platforms)
        assert np.allclose(shipped, expected, atol=1.5e-4, rtol=0)


# --------------------------------------------------------------- real data preparation
def _load_prepare_module():
    path = REPO / "bench" / "prepare_real_data.py"
    spec = importlib.util.spec_from_file_location("prepare_real_data", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not available")
def test_prepare_real_data(tmp_path, capsys):
    prep = _load_prepare_module()
    assert prep.main(["--data", str(SHARED_DATA), "--out", str(tmp_path)]) == 0
    assert "itsc/itsc_nominal.csv" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    files = {f["path"]: f for f in manifest["files"]}

    for entry in files.values():
        rows = _read_lines(tmp_path / entry["path"])
        assert len(rows) == entry["lines"] > 0
        assert {len(r) for r in rows} == {entry["values_per_line"]}
        assert all(math.isfinite(float(v)) for r in rows[:5] for v in r)

    # ITSC: 3 axes x 128 samples, windows within recordings, train/test by recording
    assert files["itsc/itsc_nominal.csv"]["values_per_line"] == 3 * 128
    per_rec = (1000 - 128) // 64 + 1
    assert files["itsc/itsc_nominal.csv"]["lines"] == 5 * per_rec
    assert files["itsc/train/itsc_nominal.csv"]["lines"] == 3 * per_rec
    assert files["itsc/test/itsc_nominal.csv"]["lines"] == 2 * per_rec
    assert files["itsc/itsc_abnormal.csv"]["lines"] == 12 * 5 * per_rec
    assert len([p for p in files if p.startswith("itsc/itsc_class_")]) == 13
    first = np.loadtxt(tmp_path / "itsc/itsc_nominal.csv", max_rows=1)
    raw = np.loadtxt(SHARED_DATA / "itsc/SC_HLT/SC_HLT_001.csv", delimiter=",", max_rows=128)
    assert np.allclose(first, raw.reshape(-1), rtol=1e-5, atol=1e-6)  # interleaved ia ib ic

    # SKAB: 1-axis buffers and the Multi-sensor form
    for name in ("skab/skab_nominal.csv", "skab/skab_abnormal.csv", "skab/train/skab_abnormal.csv",
                 "skab/test/skab_abnormal.csv", "skab/skab_nominal_free.csv"):
        assert files[name]["values_per_line"] == 64
    assert (files["skab/train/skab_nominal.csv"]["lines"] + files["skab/test/skab_nominal.csv"]["lines"]
            == files["skab/skab_nominal.csv"]["lines"])
    assert files["skab/skab_multisensor_nominal.csv"]["values_per_line"] == 8
    assert files["skab/skab_multisensor_abnormal.csv"]["values_per_line"] == 8
    assert (files["skab/skab_multisensor_run.csv"]["lines"]
            == files["skab/skab_multisensor_run_labels.csv"]["lines"])


def test_prepare_real_data_reports_missing_data(tmp_path, capsys):
    prep = _load_prepare_module()
    assert prep.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "not found" in capsys.readouterr().err
