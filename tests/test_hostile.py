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
