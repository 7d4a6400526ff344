"""Trained models (1-class, n-class, extrapolation): the Python mirror the search
uses, the C inference the device runs and the scikit-learn estimator agree.

The mirror repeats the C's float32 operations in the C's order, so it is held to
bit equality with the host build; the Cortex-M builds are held to bit equality
with the host build under unicorn; scikit-learn's own float64 predictions are
held to the mirror within float32 rounding (labels equal away from ties)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from neai_tui.engine import csearch, trained
from neai_tui.engine.armrun import ArmMachine, link_image
from neai_tui.engine.csearch import c_lib_dir
from neai_tui.engine.toolchain import compile_static_lib
from neai_tui.engine.trained import FAMILIES, TASK_TYPES

from .conftest import tone_signals

D = 16
SETTINGS = [{"scale": "standard", "pca": 0}, {"scale": "none", "pca": 8}]
CASES = [(task, kind, s) for task in TASK_TYPES for kind in FAMILIES[task] for s in range(len(SETTINGS))]


def _ids(case):
    task, kind, s = case
    return f"{task}-{kind}-{'std' if s == 0 else 'raw-pca8'}"


@pytest.fixture(scope="module")
def data():
    """Seeded synthetic features with unequal scales and offsets (so scaling matters)."""
    rng = np.random.default_rng(11)
    scales = np.geomspace(0.2, 30.0, D)
    offset = rng.normal(0, 20, D)

    def classes(n):
        centres = np.random.default_rng(3).normal(0, 1.2, (3, D))
        y = rng.integers(0, 3, n)
        return ((centres[y] + rng.normal(0, 1, (n, D))) * scales + offset).astype(np.float32), y

    x_cls, y_cls = classes(240)
    x_cls_test, _ = classes(160)
    normals = ((rng.normal(0, 1, (240, D))) * scales + offset).astype(np.float32)
    mixed = (rng.normal(0, 1, (160, D)) * np.where(rng.random(160) < 0.3, 2.5, 1.0)[:, None] * scales + offset)
    w = rng.normal(size=D) / scales

    def target(x):
        return 50.0 + 10.0 * np.tanh(x[:, 0] / scales[0]) + x @ w

    return {
        "n-class": (x_cls, y_cls, x_cls_test),
        "one-class": (normals, None, mixed.astype(np.float32)),
        "extrapolation": (x_cls, target(x_cls), x_cls_test),
    }


_FITTED: dict = {}


def fitted_case(data, case) -> tuple[trained.Fitted, np.ndarray]:
    if case not in _FITTED:
        task, kind, s = case
        x, y, x_test = data[task]
        model = {**FAMILIES[task][kind].default, **SETTINGS[s]}
        _FITTED[case] = (trained.fit(task, model, x, y, seed=7), x_test)
    return _FITTED[case]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_mirror_equals_c(data, case):
    f, x_test = fitted_case(data, case)
    mirror, c = f.predict(x_test), trained.predict_c(f, x_test)
    assert mirror.keys() == c.keys()
    for key in mirror:
        assert mirror[key].shape == c[key].shape
        # The mirror repeats the C's float32 operations in order: the same bits.
        np.testing.assert_array_equal(mirror[key], c[key], err_msg=key)
    if f.task == "n-class":
        np.testing.assert_allclose(c["proba"].sum(axis=1), 1.0, atol=1e-5)
        assert c["proba"].shape == (len(x_test), 3)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_mirror_is_honest(data, case):
    """The mirror is the estimator: scikit-learn's float64 predictions on the same
    transformed features agree within float32 rounding."""
    f, x_test = fitted_case(data, case)
    got, ref = f.predict(x_test), f.reference(x_test)
    if f.task == "n-class":
        np.testing.assert_allclose(got["proba"], ref["proba"], atol=1e-4)
        top2 = np.sort(ref["proba"], axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > 1e-4  # ties may break either way
        assert clear.mean() > 0.9
        np.testing.assert_array_equal(got["label"][clear], ref["label"][clear])
    elif f.task == "one-class":
        scale = np.abs(ref["score"]).max()
        np.testing.assert_allclose(got["score"], ref["score"], atol=2e-4 * scale, rtol=0)
        clear = np.abs(ref["score"] - float(f.threshold)) > 1e-3 * scale
        np.testing.assert_array_equal(got["outlier"][clear], ref["outlier"][clear])
        assert 0 < got["outlier"].mean() < 1
    else:
        np.testing.assert_allclose(got["value"], ref["value"], atol=2e-4 * np.abs(ref["value"]).max(), rtol=0)


@pytest.mark.parametrize("kind", list(FAMILIES["one-class"]))
def test_one_class_threshold_keeps_the_quantile_inside(data, kind):
    x, _, _ = data["one-class"]
    for q in (0.9, 0.99):
        f = trained.fit("one-class", {**FAMILIES["one-class"][kind].default, "quantile": q}, x, None, seed=2)
        inside = (~f.predict(x)["outlier"]).mean()
        if f.calibration is not None:
            # Calibrated on out-of-block scores (nearest neighbour: a fitted line's own
            # distance is 0): the quantile holds there, and every fitted line is inside.
            assert inside == 1.0
            inside = (f.calibration <= float(f.threshold)).mean()
        assert q <= inside <= q + 2.0 / len(x)


def test_fit_is_deterministic(data):
    x, y, _ = data["n-class"]
    for kind in ("rf", "mlp", "proto"):
        model = {"kind": kind, "pca": 4}
        a = trained.fit("n-class", model, x, y, seed=5).knowledge()
        b = trained.fit("n-class", model, x, y, seed=5).knowledge()
        np.testing.assert_array_equal(a, b)


def test_tree_thresholds_decide_like_scikit_learn():
    """A split between two adjacent float32 values has a float64 threshold (their
    midpoint) that rounds to nearest-even onto the upper value; exported as-is, the
    C's `x <= t` would send that value left. The export rounds down instead."""
    lo = np.float32(2.0**20 + 0.125)  # odd last mantissa bit; ulp 0.125 > sklearn's 1e-7 "constant"
    hi = np.nextafter(lo, np.float32(np.inf))
    x = np.array([[lo]] * 20 + [[hi]] * 20, dtype=np.float32)
    y = np.array([0] * 20 + [1] * 20)
    f = trained.fit("n-class", {"kind": "rf", "scale": "none", "n_estimators": 5, "max_depth": 3}, x, y, seed=0)
    thresholds = [t.tree_.threshold[0] for t in f.estimator.estimators_]
    assert any(float(np.float32(t)) > t for t in thresholds)  # the trap is really there
    np.testing.assert_array_equal(trained.predict_c(f, x)["label"], y)
    np.testing.assert_array_equal(f.estimator.predict(x), y)


def test_exp_and_log_mirror_the_c():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-95, 95, 50_000), rng.uniform(-1, 1, 20_000),
                        [-80.0, -80.0001, 88.0, 89.0, 0.0, -0.0, np.inf, -np.inf, np.nan]]).astype(np.float32)
    e = trained.expf(x)
    assert np.array_equal(e.view(np.uint32), trained.c_math("expf", x).view(np.uint32))
    ok = (x >= -80) & (x <= 88)
    ref = np.exp(x[ok].astype(np.float64)).astype(np.float32)
    assert np.abs(e[ok].view(np.int32).astype(np.int64) - ref.view(np.int32)).max() <= 1  # 1 ulp
    assert np.all((e == 0) | (e >= 1e-35))  # never a denormal
    with np.errstate(over="ignore"):
        p = np.concatenate([np.exp(rng.uniform(-80, 80, 50_000)), rng.uniform(0, 3, 20_000), [0, -1, np.inf]])
    p = p.astype(np.float32)
    assert np.array_equal(trained.logf(p).view(np.uint32), trained.c_math("logf", p).view(np.uint32))


def test_knowledge_check_rejects_a_foreign_buffer(data):
    f, _ = fitted_case(data, ("n-class", "logreg", 0))
    g, _ = fitted_case(data, ("n-class", "logreg", 1))
    k = f.knowledge()
    assert k[0] == 20037.0 and k[1] == 1.0 and k[2] == len(k) and 0 <= k[3] < 2**24
    assert trained.check_c(f) == 0
    assert trained.CHECK_RESULTS[trained.check_c(f, g.knowledge())] in ("length", "hash")
    other = k.copy()
    other[3] = (k[3] + 1) % 2**24
    assert trained.CHECK_RESULTS[trained.check_c(f, other)] == "hash"
    shorter = k.copy()
    shorter[2] = len(k) - 1  # a buffer of another length than the config's
    assert trained.CHECK_RESULTS[trained.check_c(f, shorter)] == "length"
    assert trained.CHECK_RESULTS[trained.check_c(f, knowledge_floats=len(k) + 1)] == "length"
    corrupted = k.copy()
    corrupted[len(k) // 2] += 1.0  # a stale or damaged buffer with the right header
    assert trained.CHECK_RESULTS[trained.check_c(f, corrupted)] == "hash"
    bad = k.copy()
    bad[0] = 1.0
    assert trained.CHECK_RESULTS[trained.check_c(f, bad)] == "magic"
    bad = k.copy()
    bad[1] = 2.0
    assert trained.CHECK_RESULTS[trained.check_c(f, bad)] == "version"
    # A config whose sizes disagree with the buffer's layout is refused as well.
    assert trained.CHECK_RESULTS[trained.check_c(f, n_z=f.n_z + 1)] == "config"


def test_catalogue_and_model_space():
    for task, fams in FAMILIES.items():
        for kind, fam in fams.items():
            assert fam.task == task and fam.kind == kind and fam.default["kind"] == kind
            assert fam.grid["scale"] == ("standard", "none") and fam.grid["pca"] == (0, 4, 8, 16)
            assert ("quantile" in fam.grid) == (task == "one-class")
            assert all(fam.default[name] in values for name, values in fam.grid.items())
    space = trained.model_space("one-class", 6)
    assert space and all(m["pca"] in (0, 4) for m in space)
    assert len(trained.model_space("n-class", 20, kinds=["gnb"])) == 3 * 2 * 4
    with pytest.raises(ValueError):
        trained.fit("n-class", {"kind": "logreg", "pca": 16}, np.zeros((30, 8), np.float32), np.arange(30) % 2, 0)
    with pytest.raises(ValueError):
        trained.fit("n-class", {"kind": "logreg"}, np.zeros((30, 8), np.float32), np.arange(30) % 3 * 2, 0)


def test_headers_and_memory(data):
    f, _ = fitted_case(data, ("n-class", "rf", 0))
    pre = {"kind": "stats"}  # 16 features would not fit: 2 axes x 10 statistics = 20
    with pytest.raises(ValueError):
        trained.config_header(f, pre, 2, 64, "lib1", None)
    k = f.knowledge()
    text = trained.knowledge_header(f, "lib1", "vib")
    body = re.search(r"static const float knowledge_vib\[(\d+)\] = \{(.*?)\};", text, re.S)
    assert body and int(body.group(1)) == len(k)
    literals = np.array([float(v.strip().rstrip("f")) for v in body.group(2).replace("\n", " ").split(",")], dtype=np.float32)
    assert np.array_equal(literals.view(np.uint32), k.view(np.uint32))
    assert "Generated by neai-tui" in text
    assert f.knowledge_floats() == len(k)
    ram, flash = trained.estimate_memory(f, pre, 2, 64)
    assert flash > 4 * len(k) and 0 < ram < 4096


# --------------------------------------------------------------------------- Cortex-M


AXES, BUFFER = 3, 64
FFT = {"kind": "fft", "bands": 8, "spacing": "log", "window": "hann", "log": True, "norm": "none"}
ARM_MODELS = {  # every C inference algorithm once: name -> (task, model, preprocessing)
    "mlp": ("n-class", {"kind": "mlp", "hidden": 8, "pca": 8}, {"kind": "stats"}),
    "lin": ("n-class", {"kind": "logreg", "C": 10.0}, FFT),
    "pro": ("n-class", {"kind": "proto", "k": 2, "pca": 4}, {"kind": "stats", "cross": True}),
    "ifo": ("one-class", {"kind": "iforest", "n_estimators": 10, "max_samples": 32}, FFT),
    "gmm": ("one-class", {"kind": "gmm", "n_components": 2, "scale": "none", "pca": 4}, {"kind": "stats"}),
    "mah": ("one-class", {"kind": "mahalanobis", "estimator": "ledoitwolf"}, {"kind": "stats"}),
    "cov": ("n-class", {"kind": "et", "n_estimators": 5, "max_depth": 4}, {"kind": "cov", "correlation": True}),
    "svr": ("extrapolation", {"kind": "svr", "C": 10.0}, {"kind": "stats"}),
    "knn": ("extrapolation", {"kind": "knn", "k": 3, "pca": 4}, {"kind": "stats"}),
}

PROBE = """\
/* Test harness: one trained library's config, knowledge and inference. */
#include "cfg_{name}.h"
#include "neai_math.c"
#include "neai_dsp.c"
#include "neai_trained.c"
#include "knowledge_{name}.h"

static const neai_pre_cfg pre = NEAI_PRE_INIT;
static const neai_tmodel_cfg tmodel = NEAI_TMODEL_INIT;
static float work[NEAI_CFG_WORK_FLOATS];
static float features[NEAI_CFG_NB_FEATURES];
static float twork[NEAI_CFG_TWORK_FLOATS];

uint32_t probe_{name}(const float *in, float *out);
uint32_t probe_{name}(const float *in, float *out)
{{
    uint8_t status = neai_tmodel_check(&tmodel, knowledge_{name});
    if (status != 0u || tmodel.knowledge_floats != NEAI_CFG_KNOWLEDGE_FLOATS || tmodel.hash != NEAI_CFG_KNOWLEDGE_HASH) {{
        return 100u + status;
    }}
    if (neai_pre_features(&pre, in, work, features) != 0u) {{
        return 200u;
    }}
    neai_tmodel_predict(&tmodel, knowledge_{name}, features, twork, out);
    return 0u;
}}
"""


@pytest.fixture(scope="module")
def arm_libraries(tmp_path_factory):
    """The ARM_MODELS fitted on tone lines, their generated headers and probe sources."""
    rng = np.random.default_rng(21)
    lines = {f: tone_signals(rng, 40, f, buffer=BUFFER) for f in (50.0, 90.0, 140.0)}
    amps = rng.uniform(0.5, 2.0, 60)
    amp_lines = np.vstack([tone_signals(rng, 1, 70.0, amp=a, buffer=BUFFER) for a in amps])
    gen = tmp_path_factory.mktemp("trained_arm")
    out = {}
    for name, (task, model, pre) in ARM_MODELS.items():
        if task == "n-class":
            rows = np.vstack(list(lines.values()))
            y = np.repeat(np.arange(3), 40)
            test = np.vstack([r[:4] for r in lines.values()])
        elif task == "one-class":
            rows, y = lines[50.0], None
            test = np.vstack([lines[50.0][:6], lines[140.0][:6]])
        else:
            rows, y, test = amp_lines, amps, amp_lines[:10]
        f = trained.fit(task, model, csearch.features(pre, rows, AXES, BUFFER), y, seed=3)
        (gen / f"cfg_{name}.h").write_text(trained.config_header(f, pre, AXES, BUFFER, f"lib-{name}", name))
        (gen / f"knowledge_{name}.h").write_text(trained.knowledge_header(f, f"lib-{name}", name))
        (gen / f"probe_{name}.c").write_text(PROBE.format(name=name))
        out[name] = (f, pre, test)
    return gen, out


@pytest.mark.parametrize("core", ["cortex-m4f", "cortex-m0plus"])
def test_cortex_m_build_equals_host(tmp_path, arm_libraries, core):
    """The generated headers + c_lib compile warning-free (-Wall -Wextra -Werror) for
    the target, and the Cortex-M build gives the host build's bits under unicorn."""
    gen, models = arm_libraries
    sources = [gen / f"probe_{name}.c" for name in models]
    lib_a = compile_static_lib(sources, tmp_path / "libprobe.a", core, include_dirs=[gen, c_lib_dir()])
    elf = link_image(lib_a, core, [f"probe_{name}" for name in models], tmp_path / "probe.elf")
    arm = ArmMachine(elf, core)
    for name, (f, pre, test) in models.items():
        host = trained.predict_c(f, csearch.features(pre, test, AXES, BUFFER))
        n_out = f.out_floats()
        buf, out = arm.alloc(4 * AXES * BUFFER), arm.alloc(4 * n_out)
        for i, row in enumerate(np.asarray(test, dtype=np.float32)):
            arm.write_floats(buf, row)
            assert arm.call(f"probe_{name}", buf, out, count=False) == 0, name
            got = arm.read_floats(out, n_out)
            if f.task == "n-class":
                assert np.array_equal(got.view(np.uint32), host["proba"][i].view(np.uint32)), name
            elif f.task == "one-class":
                assert got[0].view(np.uint32) == host["score"][i].view(np.uint32), name
                assert (got[1] == 1.0) == host["outlier"][i], name
            else:
                assert got[0].view(np.uint32) == host["value"][i].view(np.uint32), name
        arm.reset_scratch()
    assert {f.algo for f, _, _ in models.values()} == set(trained.ALGOS)
    f, pre, test = models["ifo"]
    assert f.predict(csearch.features(pre, test, AXES, BUFFER))["outlier"][6:].all()  # tones never seen
