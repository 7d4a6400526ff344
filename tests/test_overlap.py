"""Windows cut with overlap are found, and then splits hold out contiguous blocks."""
from __future__ import annotations

import numpy as np
import pytest

from neai_tui.engine.overlap import line_hop, segments, shared_neighbours
from neai_tui.engine.project import Project, ProjectSettings
from neai_tui.engine.tasks.trained_common import (
    N_SPLITS, TrainedData, block_split, load_trained_data, make_splits, run_split,
)

from .conftest import write_signals


def cut(signal: np.ndarray, size: int, hop: int) -> np.ndarray:
    """(samples, axes) -> lines of `size` samples every `hop`, axes interleaved."""
    starts = range(0, len(signal) - size + 1, hop)
    return np.stack([signal[s:s + size].reshape(-1) for s in starts])


def recording(rng, samples: int, axes: int, freq: float = 0.07) -> np.ndarray:
    t = np.arange(samples)[:, None]
    return np.round(np.sin(freq * t + rng.uniform(0, 6, axes)) + 0.1 * rng.standard_normal((samples, axes)), 5)


@pytest.mark.parametrize("axes,size,hop", [(1, 64, 32), (3, 128, 64), (2, 64, 48), (1, 32, 8)])
def test_the_hop_of_overlapping_windows_is_found(axes, size, hop):
    lines = cut(recording(np.random.default_rng(axes), 40 * size, axes), size, hop)
    assert line_hop(lines, axes) == hop
    assert shared_neighbours(hop, size) == -(-size // hop) - 1


def test_independent_or_touching_windows_do_not_overlap():
    rng = np.random.default_rng(1)
    signal = recording(rng, 64 * 30, 3)
    assert line_hop(cut(signal, 64, 64), 3) is None  # back to back: no shared sample
    assert line_hop(rng.standard_normal((30, 3 * 64)), 3) is None
    assert line_hop(np.zeros((30, 64)), 1) is None  # constant lines say nothing
    assert shared_neighbours(None, 64) == 0


def test_windows_of_several_recordings_still_count_as_overlapping():
    """A file concatenating recordings overlaps everywhere but at the seams."""
    rng = np.random.default_rng(2)
    lines = np.vstack([cut(recording(rng, 1000, 3, f), 128, 64) for f in (0.05, 0.06, 0.07)])
    assert line_hop(lines, 3) == 64


@pytest.mark.parametrize("n,gap", [(42, 1), (14, 1), (100, 3), (5, 1), (3, 1)])
def test_a_block_split_keeps_the_gap_and_covers_the_file(n, gap):
    rng = np.random.default_rng(n)
    members = np.arange(1000, 1000 + n)
    tested = set()
    for k in range(N_SPLITS):
        fit, test = block_split(members, k, rng, gap)
        assert len(fit) and len(test) and not set(fit) & set(test)
        tested |= set(test)
        positions = np.sort(test - 1000)
        # One contiguous block, possibly wrapping past the end of the file.
        steps = np.diff(positions)
        assert (steps == 1).sum() >= len(positions) - 2
        if n - len(test) > 2 * gap:  # room for the gap: no fitted line shares samples with a tested one
            distance = np.abs((fit - 1000)[:, None] - positions[None, :]).min(axis=1)
            assert distance.min() > gap
    if n >= 10:
        assert len(tested) >= n // 2  # the block moves through the file


def make_data(task: str, lines: np.ndarray, y, gap: int) -> TrainedData:
    return TrainedData(task, 1, lines.shape[1], lines.astype(np.float32), y, ["a", "b"] if task == "n-class" else [],
                       sources=None, gap=gap)


def test_blocked_n_class_splits_test_every_class_in_a_block():
    y = np.repeat([0, 1], 30)
    data = make_data("n-class", np.random.default_rng(0).standard_normal((60, 16)), y, gap=1)
    splits = make_splits(data, seed=3)
    assert len(splits) == N_SPLITS
    for s in splits:
        for c in (0, 1):
            assert (y[s.test] == c).any() and (y[s.fit] == c).any()
    assert make_splits(data, seed=3)[2].test.tolist() == splits[2].test.tolist()  # seeded


def test_a_project_of_overlapping_windows_is_split_in_blocks(tmp_path):
    rng = np.random.default_rng(4)
    p = Project.create(tmp_path / "p", ProjectSettings(name="p", type="n-class", axes=1))
    for name, f in (("slow", 0.05), ("fast", 0.2)):
        p.import_signal(write_signals(tmp_path / f"{name}.csv", cut(recording(rng, 64 * 25, 1, f), 64, 32)))
    data = load_trained_data(p, "n-class")
    assert data.gap == 1 and data.blocked
    q = Project.create(tmp_path / "q", ProjectSettings(name="q", type="n-class", axes=1))
    for name, f in (("slow", 0.05), ("fast", 0.2)):
        q.import_signal(write_signals(tmp_path / f"q{name}.csv", cut(recording(rng, 64 * 25, 1, f), 64, 64)))
    assert not load_trained_data(q, "n-class").blocked


def test_the_runs_of_a_file_concatenating_recordings_are_found():
    rng = np.random.default_rng(6)
    parts = [cut(recording(rng, 1000, 3, f), 128, 64) for f in (0.05, 0.06, 0.07)]
    lines = np.vstack(parts)
    runs = segments(lines, 3, line_hop(lines, 3))
    assert runs.tolist() == sum(([i] * len(p) for i, p in enumerate(parts)), [])
    assert segments(lines, 3, None).tolist() == [0] * len(lines)


def test_a_run_split_holds_out_whole_runs_and_leaves_one_to_fit():
    runs = np.repeat([7, 8, 9], 14)
    members = np.arange(100, 142)
    held = set()
    for k in range(N_SPLITS):
        fit, test = run_split(members, runs, k, order=[8, 7, 9])
        test_runs, fit_runs = set(runs[test - 100]), set(runs[fit - 100])
        assert test_runs and fit_runs and not test_runs & fit_runs
        assert len(test) == 14 * len(test_runs) and len(fit) + len(test) == 42
        held |= test_runs
    assert held == {7, 8, 9}


def test_an_n_class_project_of_recordings_is_judged_on_unseen_recordings(tmp_path):
    rng = np.random.default_rng(8)
    p = Project.create(tmp_path / "p", ProjectSettings(name="p", type="n-class", axes=2))
    for name, f in (("slow", 0.05), ("fast", 0.2)):
        lines = np.vstack([cut(recording(rng, 64 * 8, 2, f), 64, 32) for _ in range(3)])
        p.import_signal(write_signals(tmp_path / f"{name}.csv", lines))
    data = load_trained_data(p, "n-class")
    assert data.blocked and len(np.unique(data.runs)) == 6
    for s in make_splits(data, seed=1):
        assert not set(data.runs[s.test]) & set(data.runs[s.fit])
        for c in (0, 1):
            assert (data.y[s.test] == c).any() and (data.y[s.fit] == c).any()


def test_runs_of_a_sorted_file_are_held_out_in_a_shuffled_order():
    """Extrapolation lines sorted by target: the held-out runs are not one range of it."""
    lines = np.zeros((40, 8), np.float32)
    data = TrainedData("extrapolation", 1, 8, lines, np.repeat(np.arange(10.0), 4), sources=None, gap=1,
                       runs=np.repeat(np.arange(10), 4))
    spans = [np.ptp(data.runs[s.test]) for s in make_splits(data, seed=2)]
    assert max(spans) > 3  # not three neighbouring runs every time
