"""The orders a library learns its lines in, as devices do.

A library that learns on the device sees the nominal lines in whatever order
they come: the order of the file (often regime after regime, as a datalogger
records them), the reverse, one operating regime after another, or mixed. The
benchmark makes every split learn in each of these orders and keeps the worst,
so a library whose decisions depend on the order is ranked by what it does in
its worst case, and the learning curve (hence the recommended minimum number
of learn() calls) comes from the same orders.

Orders of a split's learning lines (indices, each a permutation of them):

    file          the file's own order (files in import order)
    reversed      the file's order backwards
    runs          the continuous runs (recordings: files, or stretches where
                  overlapping windows break) last run first, each in its order
    regimes       grouped by regime: the lines clustered (k-means on a cheap,
                  fixed description of every line, the same for every
                  candidate), clusters one after another along their first
                  principal axis, each in file order
    regimes-back  the same clusters in the opposite order
    shuffled      a seeded random order

Orders that repeat another (e.g. `runs` of a single run) are left out.
Multi-sensor libraries learn a stream of samples, always forward in time: their
windows are learned in the orders that keep time order within each recording
and each regime (file, runs, regimes, regimes-back), never reversed or shuffled.
"""
from __future__ import annotations

import numpy as np

ORDER_NAMES = ("file", "reversed", "runs", "regimes", "regimes-back", "shuffled")
REGIMES = 3  # clusters for the regime-grouped orders
MIN_LINES_FOR_REGIMES = 12


def regime_labels(description: np.ndarray, seed: int, k: int = REGIMES) -> np.ndarray:
    """Per line, its regime: k-means (k clusters, seeded) on the standardised
    description, clusters numbered along the first principal axis of their
    centres (0 = lowest). All zeros when there are too few lines."""
    x = np.asarray(description, dtype=np.float64)
    n = len(x)
    if n < MIN_LINES_FOR_REGIMES or x.ndim != 2 or x.shape[1] == 0:
        return np.zeros(n, dtype=np.int64)
    x = np.nan_to_num(x)
    std = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    centres, labels = kmeans(x, min(k, n), np.random.default_rng([int(seed), 23]))
    if len(centres) > 1:
        _, _, vt = np.linalg.svd(centres - centres.mean(axis=0), full_matrices=False)
        axis = vt[0] * (1.0 if vt[0][np.argmax(np.abs(vt[0]))] > 0 else -1.0)  # a fixed sign
        rank = np.argsort(np.argsort(centres @ axis, kind="stable"), kind="stable")
    else:
        rank = np.zeros(1, dtype=np.int64)
    return rank[labels].astype(np.int64)


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, restarts: int = 4, steps: int = 50):
    """(centres, labels): Lloyd's k-means from k-means++ seeds, the best of a
    few seeded restarts (lowest within-cluster sum of squares)."""
    best = None
    for _ in range(restarts):
        centres = [x[int(rng.integers(len(x)))]]
        for _ in range(1, k):
            d2 = np.min([((x - c) ** 2).sum(axis=1) for c in centres], axis=0)
            total = d2.sum()
            centres.append(x[int(rng.choice(len(x), p=d2 / total))] if total > 0 else x[int(rng.integers(len(x)))])
        c = np.array(centres)
        labels = np.zeros(len(x), dtype=np.int64)
        for _ in range(steps):
            d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
            new = np.argmin(d2, axis=1)
            if _ and np.array_equal(new, labels):
                break
            labels = new
            c = np.array([x[labels == j].mean(axis=0) if (labels == j).any() else c[j] for j in range(k)])
        inertia = float(((x - c[labels]) ** 2).sum())
        if best is None or inertia < best[0]:
            best = (inertia, c, labels)
    return best[1], best[2]


def learning_orders(learn: np.ndarray, runs: np.ndarray | None, regimes: np.ndarray | None,
                    rng: np.random.Generator, stream: bool = False) -> list[tuple[str, np.ndarray]]:
    """(name, order) of every distinct order of the learning lines `learn`
    (indices in file order); `runs`, `regimes`: per line of the whole file.
    `stream`: the lines are windows of one stream of samples (Multi-sensor),
    which a device always learns forward in time: only the orders that keep
    time order inside each recording and regime (no reversed, no shuffled)."""
    learn = np.sort(np.asarray(learn, dtype=np.int64))
    out: list[tuple[str, np.ndarray]] = [("file", learn)] + ([] if stream else [("reversed", learn[::-1])])
    if runs is not None and len(np.unique(runs[learn])) > 1:
        r = runs[learn]
        out.append(("runs", np.concatenate([learn[r == v] for v in np.unique(r)[::-1]])))
    if regimes is not None and len(np.unique(regimes[learn])) > 1:
        g = regimes[learn]
        up = np.concatenate([learn[g == v] for v in np.unique(g)])
        down = np.concatenate([learn[g == v] for v in np.unique(g)[::-1]])
        out += [("regimes", up), ("regimes-back", down)]
    if not stream:
        out.append(("shuffled", rng.permutation(learn)))
    distinct: list[tuple[str, np.ndarray]] = []
    for name, order in out:
        if not any(np.array_equal(order, o) for _, o in distinct):
            distinct.append((name, order))
    return distinct


def worst_curve(curves_by_order: list[list[float]]) -> list[float]:
    """The worst order's balanced accuracy at each count (pointwise minimum)."""
    return np.min(np.array(curves_by_order), axis=0).tolist()
