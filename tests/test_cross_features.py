"""Statistics with axis correlations: the C against numpy, and in the trained space."""
from __future__ import annotations

import numpy as np

from neai_tui.engine import csearch
from neai_tui.engine.pipeline import STATS_PER_AXIS, cross_pairs, describe, nb_features


def reference_correlations(lines: np.ndarray, axes: int, buffer: int) -> np.ndarray:
    x = lines.reshape(len(lines), buffer, axes).astype(np.float64)
    out = []
    for a in range(axes):
        for b in range(a + 1, axes):
            xa, xb = x[:, :, a], x[:, :, b]
            sa, sb = xa.std(axis=1), xb.std(axis=1)
            cov = ((xa - xa.mean(axis=1, keepdims=True)) * (xb - xb.mean(axis=1, keepdims=True))).mean(axis=1)
            out.append(np.where((sa > 1e-12) & (sb > 1e-12), cov / np.maximum(sa * sb, 1e-30), 0.0))
    return np.stack(out, axis=1)


def test_correlations_follow_the_statistics_and_match_numpy():
    rng = np.random.default_rng(3)
    axes, buffer = 4, 64
    t = np.arange(buffer)
    lines = []
    for _ in range(20):
        base = np.sin(0.3 * t + rng.uniform(0, 6))
        cols = [base, -base + 0.1 * rng.standard_normal(buffer), rng.standard_normal(buffer), np.full(buffer, 2.0)]
        lines.append(np.stack(cols, axis=1).reshape(-1))
    lines = np.asarray(lines, dtype=np.float32)
    plain = csearch.features({"kind": "stats"}, lines, axes, buffer)
    got = csearch.features({"kind": "stats", "cross": True}, lines, axes, buffer)
    assert got.shape == (20, nb_features({"kind": "stats", "cross": True}, axes, buffer))
    assert got.shape[1] == axes * STATS_PER_AXIS + cross_pairs(axes) == 46
    assert np.array_equal(got[:, : axes * STATS_PER_AXIS], plain)  # the statistics are unchanged
    corr = got[:, axes * STATS_PER_AXIS:]
    np.testing.assert_allclose(corr, reference_correlations(lines, axes, buffer), atol=2e-5)
    assert (corr[:, 0] < -0.95).all()  # axis 1 mirrors axis 0
    assert (corr[:, [2, 4, 5]] == 0).all()  # pairs with the constant axis 3


def test_one_axis_has_no_pair_and_the_description_says_so():
    x = np.random.default_rng(0).standard_normal((5, 32)).astype(np.float32)
    assert np.array_equal(csearch.features({"kind": "stats", "cross": True}, x, 1, 32),
                          csearch.features({"kind": "stats"}, x, 1, 32))
    text = describe({"pre": {"kind": "stats", "cross": True}, "model": {"kind": "gnb"}})
    assert "axis correlations" in text


def test_the_covariance_matrix_of_the_axes_matches_numpy():
    rng = np.random.default_rng(9)
    axes, buffer = 3, 64
    lines = (rng.standard_normal((12, buffer, axes)) @ rng.standard_normal((axes, axes))).reshape(12, -1)
    lines = lines.astype(np.float32)
    x = lines.reshape(12, buffer, axes).astype(np.float64)
    iu = np.triu_indices(axes)
    cov = np.einsum("nti,ntj->nij", x - x.mean(1, keepdims=True), x - x.mean(1, keepdims=True)) / buffer
    got = csearch.features({"kind": "cov"}, lines, axes, buffer)
    assert got.shape == (12, nb_features({"kind": "cov"}, axes, buffer)) == (12, 6)
    np.testing.assert_allclose(got, cov[:, iu[0], iu[1]], rtol=2e-4, atol=1e-5)
    std = np.sqrt(np.einsum("nii->ni", cov))
    corr = cov / (std[:, :, None] * std[:, None, :])
    corr[:, np.arange(axes), np.arange(axes)] = std
    got = csearch.features({"kind": "cov", "correlation": True}, lines, axes, buffer)
    np.testing.assert_allclose(got, corr[:, iu[0], iu[1]], rtol=2e-4, atol=1e-5)
    assert "covariance" in describe({"pre": {"kind": "cov"}, "model": {"kind": "gnb"}})


def test_trained_spaces_offer_correlations_when_there_are_several_axes():
    from neai_tui.engine.tasks.trained_common import TrainedData, TrainedTask

    task = TrainedTask()
    for axes, expected in ((3, True), (1, False)):
        data = TrainedData("n-class", axes, 64, np.zeros((4, axes * 64), np.float32), np.zeros(4, np.int64))
        space = task.preprocessing_space(data)
        for pre in ({"kind": "stats", "cross": True}, {"kind": "cov", "correlation": False}):
            assert (pre in space) is expected


def test_the_optimiser_codec_handles_options_some_preprocessings_leave_out():
    """{"kind": "stats"} next to {"kind": "stats", "cross": True}: TPE must encode
    both and propose only pipelines of the space."""
    import optuna

    from neai_tui.engine.optimiser import SpaceCodec

    pres = [{"kind": "stats"}, {"kind": "stats", "cross": True}, {"kind": "cov", "correlation": False}]
    models = [{"kind": "gnb", "var_smoothing": 1e-9}]
    codec = SpaceCodec(pres, models)
    for pre in pres:
        params, dists = codec.distributions({"pre": pre, "model": models[0]})
        assert set(params) == set(dists)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = set()
    for _ in range(40):
        pipeline = codec.suggest(study.ask())
        if pipeline is not None:
            assert codec.contains(pipeline)
            seen.add(str(pipeline["pre"]))
    assert seen == {str(p) for p in pres}
