"""The same seed gives the same best library on 1 core, 2 cores and a Dask cluster."""
from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import tone_signals, write_signals
from .test_cli import neai

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def test_same_best_on_cores_and_dask(tmp_path, cluster):
    rng = np.random.default_rng(21)
    nominal = write_signals(tmp_path / "n.csv", np.vstack([tone_signals(rng, 40, 50.0), tone_signals(rng, 40, 90.0)]))
    abnormal = write_signals(tmp_path / "a.csv", tone_signals(rng, 30, 200.0, amp=2.0))
    d = tmp_path / "p"
    neai("new", d, "--type", "anomaly", "--axes", 3)
    neai("import", d, nominal, "--role", "nominal")
    neai("import", d, abnormal, "--role", "abnormal")
    runs = [
        # 1100 evaluations: past the screens, into the search stage and its TPE proposals
        json.loads(neai("bench", d, "--new", "--evals", 1100, "--seed", 4, *extra, "--json").stdout)["best"]
        for extra in (("--cores", 1), ("--cores", 2), ("--scheduler", cluster.scheduler_address))
    ]
    assert runs[0]["pipeline"] == runs[1]["pipeline"] == runs[2]["pipeline"]
    assert runs[0]["score"] == runs[1]["score"] == runs[2]["score"]


def test_unreachable_scheduler_is_a_usage_error(tmp_path, small_anomaly_files):
    nominal, abnormal = small_anomaly_files
    d = tmp_path / "p"
    neai("new", d, "--type", "anomaly", "--axes", 3)
    neai("import", d, nominal, "--role", "nominal")
    neai("import", d, abnormal, "--role", "abnormal")
    result = neai("bench", d, "--evals", 10, "--scheduler", "tcp://127.0.0.1:9", check=False)
    assert result.returncode == 2 and "Dask scheduler" in result.stderr
