"""Shared fixtures: an isolated workspace and cache per test session, small
signal files, and the real data folder when it exists (skip otherwise)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
# ../shared/data next to the repository, or where NEAI_SHARED_DATA says (a worktree elsewhere)
SHARED_DATA = Path(os.environ.get("NEAI_SHARED_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEAI_WORKSPACE", str(tmp_path_factory.mktemp("workspace")))


@pytest.fixture(scope="session", autouse=True)
def _shared_cache(tmp_path_factory):
    # Builds are cached across tests of one run (and kept out of the user's cache).
    if "NEAI_CACHE_DIR" not in os.environ:
        os.environ["NEAI_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


def write_signals(path: Path, rows: np.ndarray, sep: str = " ") -> Path:
    path.write_text("\n".join(sep.join(f"{v:.5f}" for v in row) for row in rows) + "\n")
    return path


def tone_signals(rng, n: int, freq: float, amp: float = 1.0, axes: int = 3, buffer: int = 64, rate: float = 1000.0):
    t = np.arange(buffer) / rate
    out = np.empty((n, axes * buffer))
    for i in range(n):
        x = np.stack(
            [amp * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6.3)) + 0.05 * rng.standard_normal(buffer) for _ in range(axes)],
            axis=1,
        )
        out[i] = x.reshape(-1)
    return out


@pytest.fixture
def small_anomaly_files(tmp_path):
    """Nominal: 50 Hz tones; abnormal: 120 Hz tones. 3 axes x 64 samples."""
    rng = np.random.default_rng(3)
    nominal = write_signals(tmp_path / "nominal.csv", tone_signals(rng, 60, 50.0))
    abnormal = write_signals(tmp_path / "abnormal.csv", tone_signals(rng, 30, 120.0))
    return nominal, abnormal


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA
