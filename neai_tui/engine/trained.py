"""The trained models: 1-class, n-class classification and extrapolation.

These libraries are trained here and only infer on the device. Each model is a
pair, like every component of the catalogue:

* Python side: :func:`fit` trains a scikit-learn estimator on the features of a
  preprocessing (computed by the C, :func:`csearch.features`), after a fitted
  transform (standardisation, then optional PCA). It exports every learned number
  as float32 into one flat knowledge buffer. :meth:`Fitted.predict` is the
  benchmark's fast mirror of the C inference: numpy float32 operations in the
  C's order (no BLAS, no pairwise sums), plus numpy versions of the runtime's own
  exp and log, so it gives the C's bits. :meth:`Fitted.reference` is the
  estimator's own (float64) prediction, to show the mirror is honest.
* C side: ``c_lib/neai_trained.c`` infers from ``const float knowledge[]``;
  :func:`predict_c` runs it through the host build. tests/test_trained_parity.py
  checks mirror == C and mirror ~ scikit-learn for every kind.

A trained pipeline is ``{"pre": <preprocessing>, "model": {"kind": K, "scale":
"standard"|"none", "pca": 0|n, ...hyperparameters}}``; the model dict goes to
:func:`fit` with the task. Knowledge layout and the C config are documented in
``c_lib/neai_trained_types.h``.
"""
from __future__ import annotations

import ctypes
import functools
import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np

from .. import __version__

F32 = np.float32
TASK_TYPES = ("n-class", "one-class", "extrapolation")
TASK_IDS = {"n-class": 1, "one-class": 2, "extrapolation": 3}

# C inference algorithms (NEAI_TK_*) and output steps (NEAI_TPOST_*).
ALGOS = {"linear": 1, "forest": 2, "proto": 3, "mlp": 4, "gauss": 5, "kernel": 6, "quad": 7, "knn": 8}
POSTS = {"none": 0, "softmax": 1, "mean": 2, "exp": 3, "sqrt": 4, "neg_lse": 5}

KNOWLEDGE_MAGIC = 20037.0
KNOWLEDGE_VERSION = 1.0
KNOWLEDGE_HEADER = 5  # magic, version, length, hash, threshold
CHECK_RESULTS = {0: "ok", 1: "null", 2: "magic", 3: "version", 4: "length", 5: "hash", 6: "config"}
MAX_EXACT_INT = 1 << 24


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class ModelFamily:
    """One kind of model of one task: its hyperparameter grid and default."""

    kind: str
    task: str
    title: str
    grid: dict  # name -> tuple of values; includes scale, pca (and quantile for one-class)
    default: dict  # a complete model dict, "kind" included


COMMON_GRID = {"scale": ("standard", "none"), "pca": (0, 4, 8, 16)}
QUANTILES = (0.9, 0.95, 0.98, 0.99)
_FOREST_GRID = {"n_estimators": (5, 10, 20, 30), "max_depth": (3, 5, 8, 10)}
_MLP_GRID = {"hidden": (4, 8, 16, 32), "alpha": (1e-4, 1e-2)}


def _family(task: str, kind: str, title: str, grid: dict, default: dict) -> ModelFamily:
    full = dict(grid)
    full.update(COMMON_GRID)
    base = {"kind": kind, **default, "scale": "standard", "pca": 0}
    if task == "one-class":
        full["quantile"] = QUANTILES
        base["quantile"] = 0.95
    return ModelFamily(kind, task, title, full, base)


FAMILIES: dict[str, dict[str, ModelFamily]] = {
    "n-class": {
        f.kind: f
        for f in (
            _family("n-class", "logreg", "Logistic regression", {"C": (0.01, 0.1, 1.0, 10.0, 100.0)}, {"C": 1.0}),
            _family("n-class", "linsvm", "Linear SVM", {"C": (0.01, 0.1, 1.0, 10.0)}, {"C": 1.0}),
            _family("n-class", "rf", "Random forest", _FOREST_GRID, {"n_estimators": 10, "max_depth": 5}),
            _family("n-class", "et", "Extra trees", _FOREST_GRID, {"n_estimators": 10, "max_depth": 5}),
            _family("n-class", "proto", "Class prototypes (k-means)", {"k": (1, 2, 4, 8)}, {"k": 2}),
            _family("n-class", "mlp", "Neural network (1 hidden layer)", _MLP_GRID, {"hidden": 16, "alpha": 1e-4}),
            _family("n-class", "gnb", "Gaussian naive Bayes", {"var_smoothing": (1e-9, 1e-6, 1e-3)},
                    {"var_smoothing": 1e-9}),
        )
    },
    "one-class": {
        f.kind: f
        for f in (
            # gamma is a multiple of scikit-learn's "scale": 1 / (features * variance).
            _family("one-class", "ocsvm", "One-class SVM (RBF)", {"nu": (0.05, 0.1, 0.2), "gamma": (0.25, 1.0, 4.0)},
                    {"nu": 0.1, "gamma": 1.0}),
            _family("one-class", "mahalanobis", "Mahalanobis distance", {"estimator": ("empirical", "ledoitwolf")},
                    {"estimator": "ledoitwolf"}),
            _family("one-class", "proto", "Prototypes (k-means)", {"k": (1, 2, 4, 8)}, {"k": 2}),
            _family("one-class", "gmm", "Gaussian mixture (diagonal)", {"n_components": (1, 2, 3, 4)},
                    {"n_components": 2}),
            _family("one-class", "iforest", "Isolation forest",
                    {"n_estimators": (10, 25, 50), "max_samples": (32, 64, 128)},
                    {"n_estimators": 25, "max_samples": 64}),
        )
    },
    "extrapolation": {
        f.kind: f
        for f in (
            _family("extrapolation", "ridge", "Ridge regression", {"alpha": (0.01, 0.1, 1.0, 10.0, 100.0)},
                    {"alpha": 1.0}),
            _family("extrapolation", "svr", "Support vector regression (RBF)",
                    {"C": (0.1, 1.0, 10.0), "gamma": (0.25, 1.0, 4.0), "epsilon": (0.01, 0.1)},
                    {"C": 1.0, "gamma": 1.0, "epsilon": 0.1}),
            _family("extrapolation", "rf", "Random forest", _FOREST_GRID, {"n_estimators": 10, "max_depth": 5}),
            _family("extrapolation", "et", "Extra trees", _FOREST_GRID, {"n_estimators": 10, "max_depth": 5}),
            _family("extrapolation", "mlp", "Neural network (1 hidden layer)", _MLP_GRID,
                    {"hidden": 16, "alpha": 1e-4}),
            _family("extrapolation", "knn", "k nearest neighbours", {"k": (1, 3, 5, 8)}, {"k": 3}),
        )
    },
}


def family(task: str, kind: str) -> ModelFamily:
    _check_task(task)
    try:
        return FAMILIES[task][kind]
    except KeyError:
        raise ValueError(f"unknown {task} model kind {kind!r} (known: {', '.join(FAMILIES[task])})") from None


def complete(task: str, model: dict) -> dict:
    """The model dict with every hyperparameter (defaults filled in)."""
    fam = family(task, model["kind"])
    unknown = set(model) - set(fam.default)
    if unknown:
        raise ValueError(f"{task} {fam.kind}: unknown hyperparameters {sorted(unknown)}")
    return {**fam.default, **model}


def is_valid(model: dict, n_features: int) -> bool:
    """Whether a (complete) model can be fitted on n_features features."""
    return model.get("pca", 0) == 0 or model["pca"] < n_features


def model_space(task: str, n_features: int, kinds=None) -> list[dict]:
    """Every grid point of the task's families (or of `kinds`) valid for n_features."""
    out = []
    for kind, fam in FAMILIES[_check_task(task)].items():
        if kinds is not None and kind not in kinds:
            continue
        names = list(fam.grid)
        for values in itertools.product(*(fam.grid[n] for n in names)):
            model = {"kind": kind, **dict(zip(names, values))}
            if is_valid(model, n_features):
                out.append(model)
    return out


def _check_task(task: str) -> str:
    if task not in TASK_IDS:
        raise ValueError(f"unknown task {task!r} (known: {', '.join(TASK_TYPES)})")
    return task


# --------------------------------------------------------------------------- float32 mirror of the C


def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=F32)


# neai_expf's constants (c_lib/neai_trained.c), as the C literals round them.
_EXP_C = [F32(v) for v in ("1.984127011e-04", "1.388888923e-03", "8.333333768e-03", "4.166666791e-02",
                          "1.666666716e-01", "5.000000000e-01", "1.0", "1.0")]


def expf(x) -> np.ndarray:
    """neai_expf, bit for bit: range reduction by ln2 and a degree-7 polynomial."""
    x = np.array(x, dtype=F32, ndmin=1)
    zero = ~(x >= F32(-80.0))
    x = np.clip(np.where(zero, F32(0.0), x), F32(-80.0), F32(88.0))
    t = x * F32("1.442695022e+00")
    t = t + np.where(t >= F32(0.0), F32(0.5), F32(-0.5))
    k = t.astype(np.int32)
    kf = k.astype(F32)
    r = (x - kf * F32("6.931457520e-01")) - kf * F32("1.428606765e-06")
    p = np.full_like(r, _EXP_C[0])
    for c in _EXP_C[1:]:
        p = p * r + c
    scale = ((k + 127).astype(np.uint32) << np.uint32(23)).view(F32)
    return np.where(zero, F32(0.0), p * scale)


_LOG_C = [F32(1.0) / F32(d) for d in (9.0, 7.0, 5.0, 3.0)]


def logf(x) -> np.ndarray:
    """neai_logf of c_lib/neai_math.c, bit for bit."""
    x = np.array(x, dtype=F32, ndmin=1)
    small = ~(x > F32("1.17549435e-38"))
    u = np.where(small, F32(1.0), x).view(np.uint32)
    e = ((u >> np.uint32(23)) & np.uint32(0xFF)).astype(np.int32) - 127
    m = ((u & np.uint32(0x007FFFFF)) | np.uint32(0x3F800000)).view(F32)
    big = m > F32("1.41421356")
    m = np.where(big, m * F32(0.5), m)
    e = e + big.astype(np.int32)
    s = (m - F32(1.0)) / (m + F32(1.0))
    s2 = s * s
    p = np.full_like(s, _LOG_C[0])
    for c in _LOG_C[1:]:
        p = p * s2 + c
    p = p * s2 + F32(1.0)
    out = e.astype(F32) * F32("0.693147181") + F32(2.0) * s * p
    return np.where(small, F32("-87.336544"), out)


def _matvec(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """(n, o): sum_j w[o, j] x[:, j] accumulated in j order from 0, then + bias (as the C)."""
    acc = np.zeros((x.shape[0], w.shape[0]), dtype=F32)
    for j in range(w.shape[1]):
        acc += x[:, j, None] * w[None, :, j]
    return acc + bias if bias is not None else acc


def _dist2(x: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """(n, p): squared distances accumulated in feature order (neai_tdist2)."""
    acc = np.zeros((x.shape[0], pts.shape[0]), dtype=F32)
    for j in range(pts.shape[1]):
        d = x[:, j, None] - pts[None, :, j]
        acc += d * d
    return acc


def _row_chunks(n: int, cols: int, budget: int = 1 << 22):
    step = max(1, budget // max(1, cols))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _f32_floor(t: float) -> np.float32:
    """The largest float32 <= t: float32 x <= it exactly when x <= t (sklearn's float64 threshold)."""
    f = F32(t)
    if float(f) > t:
        f = np.nextafter(f, F32(-np.inf))
    return f


# --------------------------------------------------------------------------- fitted model


class Fitted:
    """A fitted model: transform + algorithm + output step, all float32.

    ``predict`` is the C's mirror, ``reference`` the scikit-learn estimator's own
    prediction (float64) on the same transformed features, ``knowledge`` the
    buffer of knowledge.h, ``config_fields`` the C config struct.
    """

    def __init__(self, task: str, model: dict, n_features: int, n_classes: int | None):
        self.task = task
        self.model = model
        self.n_features = n_features
        self.n_classes = n_classes
        self.algo = ""
        self.post = "none"
        self.n_z = n_features
        self.n_raw = 1
        self.sizes = (0, 0, 0)
        self.threshold = F32(0.0)
        self.mean: np.ndarray | None = None  # scale
        self.inv_std: np.ndarray | None = None
        self.proj: np.ndarray | None = None  # pca
        self.offset: np.ndarray | None = None
        self.parts: dict[str, np.ndarray] = {}  # algorithm payload, in layout order
        self.estimator = None
        self.target = (0.0, 1.0)  # extrapolation: mean, std of the targets the estimator saw
        self.temperature = 1.0  # n-class proto
        self._knowledge: np.ndarray | None = None

    @property
    def n_out(self) -> int:
        return self.n_classes if self.task == "n-class" else 1

    # ---- mirror ------------------------------------------------------------
    def transform(self, x) -> np.ndarray:
        z = _f32(x)
        if z.ndim != 2 or z.shape[1] != self.n_features:
            raise ValueError(f"expected features of shape (n, {self.n_features}), got {z.shape}")
        if self.mean is not None:
            z = (z - self.mean) * self.inv_std
        if self.proj is not None:
            z = _matvec(z, self.proj, self.offset)
        return z

    def _raw(self, z: np.ndarray) -> np.ndarray:
        p, n = self.parts, z.shape[0]
        if self.algo == "linear":
            return _matvec(z, p["w"], p["bias"])
        if self.algo == "forest":
            raw = np.zeros((n, self.n_raw), dtype=F32)
            rows = np.arange(n)
            for root in p["roots"]:
                h = np.full(n, int(root), dtype=np.int64)
                active = h >= 0
                while active.any():
                    idx = rows[active]
                    nd = p["nodes"][h[active]]
                    go_left = z[idx, nd[:, 0].astype(np.int64)] <= nd[:, 1]
                    h[active] = np.where(go_left, nd[:, 2], nd[:, 3]).astype(np.int64)
                    active = h >= 0
                raw += p["leaves"][-(h + 1)]
            return raw
        if self.algo == "proto":
            raw = np.empty((n, self.n_raw), dtype=F32)
            for sl in _row_chunks(n, len(p["protos"])):
                d = _dist2(z[sl], p["protos"])
                for g in range(self.n_raw):
                    raw[sl, g] = d[:, p["group"] == g].min(axis=1)
            return p["coef"][0] * raw
        if self.algo == "mlp":
            hidden = _matvec(z, p["w1"], p["b1"])
            hidden = np.where(hidden > F32(0.0), hidden, F32(0.0))
            return _matvec(hidden, p["w2"], p["b2"])
        if self.algo == "gauss":
            raw = np.empty((n, self.n_raw), dtype=F32)
            for m in range(self.n_raw):
                acc = np.zeros(n, dtype=F32)
                for j in range(self.n_z):
                    d = z[:, j] - p["mean"][m, j]
                    acc += d * d * p["hiv"][m, j]
                raw[:, m] = p["const"][m] - acc
            return raw
        if self.algo == "kernel":
            acc = np.zeros(n, dtype=F32)
            ng = p["head"][0]
            for sl in _row_chunks(n, len(p["sv"])):
                e = expf(ng * _dist2(z[sl], p["sv"]))
                a = np.zeros(e.shape[0], dtype=F32)
                for s in range(e.shape[1]):
                    a += p["alpha"][s] * e[:, s]
                acc[sl] = a
            return (acc + p["head"][1])[:, None]
        if self.algo == "quad":
            t = _matvec(z - p["mean"], p["m"], None)
            acc = np.zeros(n, dtype=F32)
            for r in range(t.shape[1]):
                acc += t[:, r] * t[:, r]
            return acc[:, None]
        if self.algo == "knn":
            k = self.sizes[1]
            out = np.empty(n, dtype=F32)
            for sl in _row_chunks(n, len(p["points"])):
                order = np.argsort(_dist2(z[sl], p["points"]), axis=1, kind="stable")[:, :k]
                acc = np.zeros(order.shape[0], dtype=F32)
                for r in range(k):
                    acc += p["y"][order[:, r]]
                out[sl] = acc / F32(k)
            return out[:, None]
        raise AssertionError(self.algo)

    def _outputs(self, z: np.ndarray) -> np.ndarray:
        """(n, n_out) float32 outputs of the C, before the one-class flag."""
        raw = self._raw(z)
        if self.post == "softmax":
            logits = np.hstack([np.zeros_like(raw), raw]) if raw.shape[1] == 1 else raw
            mx = logits[:, 0].copy()
            for o in range(1, logits.shape[1]):
                mx = np.where(logits[:, o] > mx, logits[:, o], mx)
            e = np.empty_like(logits)
            total = np.zeros(len(logits), dtype=F32)
            for o in range(logits.shape[1]):
                e[:, o] = expf(logits[:, o] - mx)
                total += e[:, o]
            return e / total[:, None]
        if self.post == "mean":
            return raw / F32(self.sizes[0])
        if self.post == "exp":
            return expf(raw[:, 0])[:, None]
        if self.post == "sqrt":
            return np.where(raw > F32(0.0), np.sqrt(np.maximum(raw, F32(0.0))), F32(0.0))
        if self.post == "neg_lse":
            mx = raw[:, 0].copy()
            for o in range(1, raw.shape[1]):
                mx = np.where(raw[:, o] > mx, raw[:, o], mx)
            total = np.zeros(len(raw), dtype=F32)
            for o in range(raw.shape[1]):
                total += expf(raw[:, o] - mx)
            return (-(mx + logf(total)))[:, None]
        return raw

    def predict(self, x) -> dict:
        """The C's outputs: n-class {"proba", "label"}, one-class {"score", "outlier"},
        extrapolation {"value"}."""
        out = self._outputs(self.transform(x))
        return self._as_dict(out)

    def _as_dict(self, out: np.ndarray) -> dict:
        if self.task == "n-class":
            return {"proba": out.astype(F32), "label": np.argmax(out, axis=1)}
        if self.task == "one-class":
            score = out[:, 0].astype(F32)
            return {"score": score, "outlier": score > self.threshold}
        return {"value": out[:, 0].astype(F32)}

    # ---- scikit-learn's own prediction --------------------------------------
    def reference(self, x) -> dict:
        """The estimator's own float64 prediction on the mirror-transformed features
        (what `predict` mirrors; labels/outliers use the same threshold rule)."""
        z = self.transform(x)
        z64 = z.astype(np.float64)
        est, kind = self.estimator, self.model["kind"]
        if self.task == "n-class":
            if kind == "linsvm":
                d = est.decision_function(z64)
                logits = np.column_stack([np.zeros_like(d), d]) if d.ndim == 1 else d
                proba = _softmax64(logits)
            elif kind == "proto":
                centres, groups = est
                d2 = ((z64[:, None, :] - centres[None]) ** 2).sum(axis=2)
                best = np.column_stack([d2[:, groups == g].min(axis=1) for g in range(self.n_classes)])
                proba = _softmax64(-best / self.temperature)
            elif kind in ("rf", "et"):
                proba = est.predict_proba(z)
            else:
                proba = est.predict_proba(z64)
            return {"proba": proba, "label": np.argmax(proba, axis=1)}
        if self.task == "one-class":
            if kind == "ocsvm":
                score = -est.decision_function(z64)
            elif kind == "mahalanobis":
                score = est.mahalanobis(z64)
            elif kind == "proto":
                score = est.transform(z64).min(axis=1)
            elif kind == "gmm":
                score = -est.score_samples(z64)
            else:
                score = -est.score_samples(z)
            return {"score": score, "outlier": score > float(self.threshold)}
        mean, std = self.target
        value = est.predict(z if kind in ("rf", "et") else z64)
        return {"value": value * std + mean}

    # ---- export --------------------------------------------------------------
    def config_fields(self) -> dict:
        """Values of the C neai_tmodel_cfg, in field order."""
        k = self.knowledge()
        return self._fields(len(k), int(k[3]))

    def _fields(self, length: int, lib_hash: int) -> dict:
        return {
            "task": TASK_IDS[self.task],
            "kind": ALGOS[self.algo],
            "post": POSTS[self.post],
            "n_in": self.n_features,
            "n_z": self.n_z,
            "n_out": self.n_out,
            "n_raw": self.n_raw,
            "scale": int(self.mean is not None),
            "pca": int(self.proj is not None),
            "reserved": 0,
            "size_a": self.sizes[0],
            "size_b": self.sizes[1],
            "size_c": self.sizes[2],
            "knowledge_floats": length,
            "hash": lib_hash,
        }

    def knowledge(self) -> np.ndarray:
        """The flat float32 knowledge buffer (header + payload)."""
        if self._knowledge is None:
            chunks = []
            if self.mean is not None:
                chunks += [self.mean, self.inv_std]
            if self.proj is not None:
                chunks += [self.proj, self.offset]
            chunks += list(self.parts.values())
            payload = np.concatenate([_f32(c).ravel() for c in chunks]) if chunks else np.zeros(0, F32)
            n = KNOWLEDGE_HEADER + payload.size
            if n >= MAX_EXACT_INT:
                raise ValueError("knowledge too large to index with float32")
            if not np.all(np.isfinite(payload)):
                raise ValueError(f"{self.task} {self.model['kind']}: non-finite learned values")
            header = np.array([KNOWLEDGE_MAGIC, KNOWLEDGE_VERSION, n, 0.0, self.threshold], dtype=F32)
            k = np.concatenate([header, payload])
            k[3] = knowledge_hash(k)
            self._knowledge = k
        return self._knowledge

    def knowledge_floats(self) -> int:
        """Length of the knowledge buffer (without building it)."""
        n = KNOWLEDGE_HEADER + sum(p.size for p in self.parts.values())
        if self.mean is not None:
            n += 2 * self.n_features
        if self.proj is not None:
            n += self.proj.size + self.offset.size
        return n

    def work_floats(self) -> int:
        """Scratch floats of neai_tmodel_predict (neai_tmodel_work_floats)."""
        n = (self.n_features if self.mean is not None else 0) + (self.n_z if self.proj is not None else 0) + self.n_raw
        if self.algo == "mlp":
            n += self.sizes[0]
        elif self.algo == "quad":
            n += self.n_z
        elif self.algo == "knn":
            n += 2 * self.sizes[1]
        return n

    def out_floats(self) -> int:
        return {"n-class": self.n_out, "one-class": 2, "extrapolation": 1}[self.task]

    def __repr__(self) -> str:
        return (f"Fitted({self.task}, {self.model}, features={self.n_features}, algo={self.algo}, "
                f"knowledge={len(self.knowledge())} floats)")


def knowledge_hash(knowledge: np.ndarray) -> int:
    """neai_tknowledge_hash: FNV-1a over the float32 bit patterns of every slot but [3],
    folded to 24 bits."""
    h = 2166136261
    words = _f32(knowledge).view(np.uint32).tolist()
    for i, w in enumerate(words):
        if i != 3:
            h = ((h ^ w) * 16777619) & 0xFFFFFFFF
    return (h ^ (h >> 24)) & 0xFFFFFF


def _softmax64(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- fitting


def fit(task: str, model: dict, X: np.ndarray, y: np.ndarray | None, seed: int) -> Fitted:
    """Fit `model` for `task` on features X (n, d) and targets y (class ids 0..C-1 for
    n-class, None for one-class, floats for extrapolation); randomness from `seed`."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    _check_task(task)
    model = complete(task, model)
    x = _f32(X)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"features must be (n >= 2, d >= 1), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("features must be finite")
    n, d = x.shape
    n_classes = None
    if task == "n-class":
        y = np.asarray(y).astype(np.int64)
        n_classes = int(y.max()) + 1
        counts = np.bincount(y, minlength=n_classes)
        if y.min() < 0 or n_classes < 2 or np.any(counts == 0):
            raise ValueError(f"n-class needs every class id 0..{n_classes - 1} in the training rows (counts {counts})")
    elif task == "extrapolation":
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (n,) or not np.all(np.isfinite(y)):
            raise ValueError("extrapolation targets must be n finite values")
    pca = int(model["pca"])
    if pca and not 0 < pca < min(d, n):
        raise ValueError(f"pca={pca} needs fewer components than features ({d}) and rows ({n})")
    if model["scale"] not in ("standard", "none"):
        raise ValueError(f"scale must be 'standard' or 'none', not {model['scale']!r}")

    f = Fitted(task, model, d, n_classes)
    with threadpool_limits(1), warnings.catch_warnings():
        # An unconverged fit is still a candidate: the benchmark judges its outputs.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if model["scale"] == "standard":
            x64 = x.astype(np.float64)
            std = x64.std(axis=0)
            std[std < 10 * np.finfo(np.float64).eps] = 1.0  # as StandardScaler: constant features kept
            f.mean, f.inv_std = _f32(x64.mean(axis=0)), _f32(1.0 / std)
        if pca:
            from sklearn.decomposition import PCA

            s = f.transform(x).astype(np.float64)
            p = PCA(n_components=pca, svd_solver="full").fit(s)
            f.proj = _f32(p.components_)
            f.offset = _f32(-(p.components_ @ p.mean_))
            f.n_z = pca
        z = f.transform(x)
        _FITTERS[(task, model["kind"])](f, z, y, seed)
        if task == "one-class":
            scores = np.sort(f._outputs(z)[:, 0])
            f.threshold = F32(scores[max(0, math.ceil(model["quantile"] * n) - 1)])
    for name, part in f.parts.items():
        if not np.all(np.isfinite(part)):
            raise ValueError(f"{task} {model['kind']}: the fit gave non-finite values ({name})")
    return f


def _scale_gamma(z64: np.ndarray, multiple: float) -> float:
    var = float(z64.var())
    return float(multiple) / (z64.shape[1] * (var if var > 0 else 1.0))


def _fit_linear(f: Fitted, coef: np.ndarray, intercept: np.ndarray, post: str) -> None:
    w = np.atleast_2d(coef)
    f.algo, f.post, f.n_raw = "linear", post, w.shape[0]
    f.parts = {"w": _f32(w), "bias": _f32(np.atleast_1d(intercept))}


def _fit_logreg(f, z, y, seed):
    from sklearn.linear_model import LogisticRegression

    f.estimator = LogisticRegression(C=f.model["C"], max_iter=2000, random_state=seed).fit(z.astype(np.float64), y)
    _fit_linear(f, f.estimator.coef_, f.estimator.intercept_, "softmax")


def _fit_linsvm(f, z, y, seed):
    from sklearn.svm import LinearSVC

    # The primal solver: liblinear's dual one, chosen by "auto" when the fit has
    # fewer lines than features, can run its 10 000 iterations for minutes on
    # wide raw buffers (ITSC, 380 lines x 384 values: 50 s per split vs 0.3 s).
    f.estimator = LinearSVC(C=f.model["C"], dual=False, max_iter=10000, random_state=seed).fit(z.astype(np.float64), y)
    _fit_linear(f, f.estimator.coef_, f.estimator.intercept_, "softmax")


def _fit_ridge(f, z, y, seed):
    from sklearn.linear_model import Ridge

    f.estimator = Ridge(alpha=f.model["alpha"]).fit(z.astype(np.float64), y)
    _fit_linear(f, f.estimator.coef_, f.estimator.intercept_, "none")


def _export_forest(f: Fitted, trees, feature_maps, leaf_values, post: str) -> None:
    """Trees -> roots, internal nodes (feature, threshold, left, right), leaf rows.

    leaf_values(tree_index, sklearn tree, node ids) gives the (leaves, n_raw) rows."""
    roots, nodes, leaves = [], [], []
    n_nodes = n_leaves = 0
    for ti, (tree, fmap) in enumerate(zip(trees, feature_maps)):
        t = tree.tree_
        left, right = t.children_left, t.children_right
        is_leaf = left == -1
        internal_ids = np.flatnonzero(~is_leaf)
        leaf_ids = np.flatnonzero(is_leaf)
        handle = np.empty(t.node_count, dtype=np.int64)
        handle[internal_ids] = n_nodes + np.arange(len(internal_ids))
        handle[leaf_ids] = -(n_leaves + np.arange(len(leaf_ids)) + 1)
        for i in internal_ids:
            nodes.append((fmap[t.feature[i]], _f32_floor(float(t.threshold[i])), handle[left[i]], handle[right[i]]))
        leaves.append(np.asarray(leaf_values(ti, tree, leaf_ids), dtype=np.float64).reshape(len(leaf_ids), -1))
        roots.append(handle[0])
        n_nodes += len(internal_ids)
        n_leaves += len(leaf_ids)
    if n_nodes + n_leaves >= MAX_EXACT_INT:
        raise ValueError("forest too large")
    leaf_rows = np.vstack(leaves)
    f.algo, f.post, f.n_raw = "forest", post, leaf_rows.shape[1]
    f.sizes = (len(roots), n_nodes, n_leaves)
    f.parts = {
        "roots": _f32(roots),
        "nodes": _f32(np.array(nodes, dtype=np.float64).reshape(-1, 4)),
        "leaves": _f32(leaf_rows),
    }


def _forest_estimator(f, cls_name: str, seed: int):
    import sklearn.ensemble as ens

    return getattr(ens, cls_name)(
        n_estimators=f.model["n_estimators"], max_depth=f.model["max_depth"], random_state=seed, n_jobs=1
    )


def _fit_forest_classifier(f, z, y, seed):
    name = "RandomForestClassifier" if f.model["kind"] == "rf" else "ExtraTreesClassifier"
    est = f.estimator = _forest_estimator(f, name, seed).fit(z, y)

    def proba(_ti, tree, ids):
        v = tree.tree_.value[ids, 0, :]
        return v / v.sum(axis=1, keepdims=True)

    ident = np.arange(f.n_z)
    _export_forest(f, est.estimators_, [ident] * len(est.estimators_), proba, "mean")


def _fit_forest_regressor(f, z, y, seed):
    name = "RandomForestRegressor" if f.model["kind"] == "rf" else "ExtraTreesRegressor"
    est = f.estimator = _forest_estimator(f, name, seed).fit(z, y)
    ident = np.arange(f.n_z)
    _export_forest(f, est.estimators_, [ident] * len(est.estimators_),
                   lambda _ti, tree, ids: tree.tree_.value[ids, 0, 0], "mean")


def _avg_path_length(n: np.ndarray) -> np.ndarray:
    """Average path length of an unsuccessful BST search (scikit-learn's iforest c(n))."""
    n = np.asarray(n, dtype=np.float64)
    out = np.where(n == 2, 1.0, 0.0)
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def _fit_iforest(f, z, y, seed):
    from sklearn.ensemble import IsolationForest

    n = len(z)
    est = f.estimator = IsolationForest(
        n_estimators=f.model["n_estimators"], max_samples=min(int(f.model["max_samples"]), n), random_state=seed
    ).fit(z)
    denominator = len(est.estimators_) * float(_avg_path_length([est._max_samples])[0])
    # score = 2^(-sum(depth + c(leaf samples) - 1) / (trees c(max_samples))) = exp(sum of leaf terms)
    factor = -math.log(2.0) / (denominator if denominator > 0 else 1.0)
    maps = [feats if est._max_features != f.n_z else np.arange(f.n_z) for feats in est.estimators_features_]

    def leaf_terms(_ti, tree, ids):
        t = tree.tree_
        depth = np.zeros(t.node_count)
        for i in range(t.node_count):  # preorder: parents come first
            for child in (t.children_left[i], t.children_right[i]):
                if child != -1:
                    depth[child] = depth[i] + 1.0
        return (depth[ids] + 1.0 + _avg_path_length(t.n_node_samples[ids]) - 1.0) * factor

    _export_forest(f, est.estimators_, maps, leaf_terms, "exp")


def _fit_proto_classifier(f, z, y, seed):
    from sklearn.cluster import KMeans

    z64 = z.astype(np.float64)
    centres, groups = [], []
    for c in range(f.n_classes):
        zc = z64[y == c]
        k = min(int(f.model["k"]), len(np.unique(zc, axis=0)))
        km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(zc)
        centres.append(km.cluster_centers_)
        groups += [c] * k
    centres, groups = np.vstack(centres), np.array(groups)
    d2 = ((z64[:, None, :] - centres[None]) ** 2).sum(axis=2)
    own = np.array([d2[i, groups == y[i]].min() for i in range(len(y))])
    temperature = float(np.median(own))
    if not temperature > 1e-12:
        temperature = max(1e-12, float(z64.var(axis=0).sum()) * 1e-3)
    f.temperature = temperature
    f.estimator = (_f32(centres).astype(np.float64), groups)
    f.algo, f.post, f.n_raw = "proto", "softmax", f.n_classes
    f.sizes = (len(centres), 0, 0)
    f.parts = {"coef": _f32([-1.0 / temperature]), "protos": _f32(centres), "group": _f32(groups)}


def _fit_proto_oneclass(f, z, y, seed):
    from sklearn.cluster import KMeans

    z64 = z.astype(np.float64)
    k = min(int(f.model["k"]), len(np.unique(z64, axis=0)))
    est = f.estimator = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(z64)
    f.algo, f.post, f.n_raw = "proto", "sqrt", 1
    f.sizes = (k, 0, 0)
    f.parts = {"coef": _f32([1.0]), "protos": _f32(est.cluster_centers_), "group": np.zeros(k, dtype=F32)}


def _fit_mlp(f, z, y, seed):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    z64 = z.astype(np.float64)
    args = dict(hidden_layer_sizes=(int(f.model["hidden"]),), alpha=f.model["alpha"], max_iter=500,
                random_state=seed)
    if f.task == "n-class":
        est = f.estimator = MLPClassifier(**args).fit(z64, y)
        w2, b2, post = est.coefs_[1].T, est.intercepts_[1], "softmax"
    else:
        mean, std = _target_stats(y)
        f.target = (mean, std)
        est = f.estimator = MLPRegressor(**args).fit(z64, (y - mean) / std)
        w2, b2, post = est.coefs_[1].T * std, est.intercepts_[1] * std + mean, "none"
    f.algo, f.post, f.n_raw = "mlp", post, w2.shape[0]
    f.sizes = (int(f.model["hidden"]), 0, 0)
    f.parts = {"w1": _f32(est.coefs_[0].T), "b1": _f32(est.intercepts_[0]), "w2": _f32(w2), "b2": _f32(b2)}


def _target_stats(y: np.ndarray) -> tuple[float, float]:
    std = float(y.std())
    return float(y.mean()), (std if std > 1e-12 else 1.0)


def _export_gauss(f: Fitted, log_weight: np.ndarray, means: np.ndarray, var: np.ndarray, post: str) -> None:
    const = log_weight - 0.5 * np.log(2.0 * np.pi * var).sum(axis=1)
    f.algo, f.post, f.n_raw = "gauss", post, len(means)
    f.sizes = (len(means), 0, 0)
    # Layout: per component (const, mean[n_z], half_inv_var[n_z]); kept split for the mirror.
    f.parts = {"const": _f32(const), "mean": _f32(means), "hiv": _f32(0.5 / var)}


def _fit_gnb(f, z, y, seed):
    from sklearn.naive_bayes import GaussianNB

    est = f.estimator = GaussianNB(var_smoothing=f.model["var_smoothing"]).fit(z.astype(np.float64), y)
    _export_gauss(f, np.log(est.class_prior_), est.theta_, est.var_, "softmax")


def _fit_gmm(f, z, y, seed):
    from sklearn.mixture import GaussianMixture

    k = min(int(f.model["n_components"]), len(z))
    est = f.estimator = GaussianMixture(n_components=k, covariance_type="diag", random_state=seed).fit(
        z.astype(np.float64))
    _export_gauss(f, np.log(est.weights_), est.means_, est.covariances_, "neg_lse")


def _export_kernel(f: Fitted, neg_gamma: float, bias: float, alpha: np.ndarray, sv: np.ndarray) -> None:
    f.algo, f.post, f.n_raw = "kernel", "none", 1
    f.sizes = (len(sv), 0, 0)
    f.parts = {"head": _f32([neg_gamma, bias]), "alpha": _f32(alpha), "sv": _f32(sv)}


def _fit_ocsvm(f, z, y, seed):
    from sklearn.svm import OneClassSVM

    z64 = z.astype(np.float64)
    gamma = _scale_gamma(z64, f.model["gamma"])
    est = f.estimator = OneClassSVM(kernel="rbf", nu=f.model["nu"], gamma=gamma).fit(z64)
    # score = -decision = rho - sum alpha K
    _export_kernel(f, -gamma, -float(est.intercept_[0]), -est.dual_coef_[0], est.support_vectors_)


def _fit_svr(f, z, y, seed):
    from sklearn.svm import SVR

    z64 = z.astype(np.float64)
    mean, std = _target_stats(y)
    f.target = (mean, std)
    gamma = _scale_gamma(z64, f.model["gamma"])
    est = f.estimator = SVR(kernel="rbf", C=f.model["C"], gamma=gamma, epsilon=f.model["epsilon"]).fit(
        z64, (y - mean) / std)
    _export_kernel(f, -gamma, float(est.intercept_[0]) * std + mean, est.dual_coef_[0] * std, est.support_vectors_)


def _fit_mahalanobis(f, z, y, seed):
    from sklearn.covariance import EmpiricalCovariance, LedoitWolf

    cls = EmpiricalCovariance if f.model["estimator"] == "empirical" else LedoitWolf
    est = f.estimator = cls().fit(z.astype(np.float64))
    lam, vec = np.linalg.eigh(est.precision_)
    keep = lam > max(float(lam.max()), 0.0) * 1e-12
    m = (np.sqrt(lam[keep])[:, None] * vec[:, keep].T) if keep.any() else np.zeros((1, f.n_z))
    f.algo, f.post, f.n_raw = "quad", "none", 1
    f.sizes = (len(m), 0, 0)
    f.parts = {"mean": _f32(est.location_), "m": _f32(m)}


def _fit_knn(f, z, y, seed):
    from sklearn.neighbors import KNeighborsRegressor

    k = min(int(f.model["k"]), len(z))
    f.estimator = KNeighborsRegressor(n_neighbors=k, algorithm="kd_tree").fit(z.astype(np.float64), y)
    f.algo, f.post, f.n_raw = "knn", "none", 1
    f.sizes = (len(z), k, 0)
    f.parts = {"y": _f32(y), "points": _f32(z)}


_FITTERS = {
    ("n-class", "logreg"): _fit_logreg,
    ("n-class", "linsvm"): _fit_linsvm,
    ("n-class", "rf"): _fit_forest_classifier,
    ("n-class", "et"): _fit_forest_classifier,
    ("n-class", "proto"): _fit_proto_classifier,
    ("n-class", "mlp"): _fit_mlp,
    ("n-class", "gnb"): _fit_gnb,
    ("one-class", "ocsvm"): _fit_ocsvm,
    ("one-class", "mahalanobis"): _fit_mahalanobis,
    ("one-class", "proto"): _fit_proto_oneclass,
    ("one-class", "gmm"): _fit_gmm,
    ("one-class", "iforest"): _fit_iforest,
    ("extrapolation", "ridge"): _fit_ridge,
    ("extrapolation", "svr"): _fit_svr,
    ("extrapolation", "rf"): _fit_forest_regressor,
    ("extrapolation", "et"): _fit_forest_regressor,
    ("extrapolation", "mlp"): _fit_mlp,
    ("extrapolation", "knn"): _fit_knn,
}
assert set(_FITTERS) == {(t, k) for t, fams in FAMILIES.items() for k in fams}


# --------------------------------------------------------------------------- C side (host build)


class TModelCfg(ctypes.Structure):
    """Mirror of neai_tmodel_cfg (c_lib/neai_trained_types.h); checked by neai_trained_abi()."""

    _fields_ = [
        *((name, ctypes.c_uint16) for name in
          ("task", "kind", "post", "n_in", "n_z", "n_out", "n_raw", "scale", "pca", "reserved")),
        *((name, ctypes.c_uint32) for name in ("size_a", "size_b", "size_c", "knowledge_floats", "hash")),
    ]


_F32P = ctypes.POINTER(ctypes.c_float)


@functools.lru_cache(maxsize=1)
def host_library() -> ctypes.CDLL:
    """The host build of c_lib/neai_search_trained.c (cached)."""
    from .csearch import c_lib_dir
    from .errors import ToolchainError
    from .toolchain import cached_build

    so = cached_build("shared", [c_lib_dir() / "neai_search_trained.c"], [c_lib_dir()], {})
    lib = ctypes.CDLL(str(so))
    lib.neai_trained_abi.restype = ctypes.c_uint32
    if lib.neai_trained_abi() != ctypes.sizeof(TModelCfg):
        raise ToolchainError(
            "the C trained-model config struct and its Python mirror differ",
            "c_lib/neai_trained_types.h and neai_tui/engine/trained.py must be changed together.",
        )
    cfgp = ctypes.POINTER(TModelCfg)
    lib.neai_trained_check.argtypes = [cfgp, _F32P]
    lib.neai_trained_check.restype = ctypes.c_uint32
    lib.neai_trained_work_floats.argtypes = [cfgp]
    lib.neai_trained_work_floats.restype = ctypes.c_uint32
    lib.neai_trained_predict.argtypes = [cfgp, _F32P, _F32P, ctypes.c_uint32, _F32P, _F32P]
    lib.neai_trained_predict.restype = ctypes.c_uint32
    for name in ("neai_trained_expf", "neai_trained_logf"):
        getattr(lib, name).argtypes = [_F32P, ctypes.c_uint32, _F32P]
        getattr(lib, name).restype = None
    return lib


def make_cfg(fitted: Fitted, **overrides) -> TModelCfg:
    return TModelCfg(**{**fitted.config_fields(), **overrides})


def check_c(fitted: Fitted, knowledge: np.ndarray | None = None, **cfg_overrides) -> int:
    """neai_tmodel_check of the C (0 = ok; see CHECK_RESULTS) on `knowledge` (default: the fitted one)."""
    lib = host_library()
    k = _f32(fitted.knowledge() if knowledge is None else knowledge)
    cfg = make_cfg(fitted, **cfg_overrides)
    return int(lib.neai_trained_check(ctypes.byref(cfg), k.ctypes.data_as(_F32P)))


def predict_c(fitted: Fitted, features: np.ndarray) -> dict:
    """The same dict as Fitted.predict, computed by the C (host build)."""
    from .errors import ToolchainError

    lib = host_library()
    x = _f32(features)
    if x.ndim != 2 or x.shape[1] != fitted.n_features:
        raise ValueError(f"expected features of shape (n, {fitted.n_features}), got {x.shape}")
    cfg = make_cfg(fitted)
    k = fitted.knowledge()
    work_n = lib.neai_trained_work_floats(ctypes.byref(cfg))
    if work_n != fitted.work_floats():
        raise ToolchainError(f"scratch size differs: C {work_n}, Python {fitted.work_floats()} floats")
    work = np.zeros(max(1, work_n), dtype=F32)
    out = np.zeros((len(x), fitted.out_floats()), dtype=F32)
    status = lib.neai_trained_predict(ctypes.byref(cfg), k.ctypes.data_as(_F32P), x.ctypes.data_as(_F32P), len(x),
                                      work.ctypes.data_as(_F32P), out.ctypes.data_as(_F32P))
    if status:
        raise ToolchainError(f"the C rejects the knowledge buffer ({CHECK_RESULTS.get(status, status)})")
    if fitted.task == "one-class":
        return {"score": out[:, 0].copy(), "outlier": out[:, 1] != 0.0}
    return fitted._as_dict(out)


def c_math(name: str, x) -> np.ndarray:
    """The runtime's own expf/logf on x (host build), for tests of their mirrors."""
    lib = host_library()
    a = _f32(np.atleast_1d(x))
    out = np.empty_like(a)
    getattr(lib, f"neai_trained_{name}")(a.ctypes.data_as(_F32P), a.size, out.ctypes.data_as(_F32P))
    return out


# --------------------------------------------------------------------------- code generation


def _suffix(suffix):
    from .codegen import check_suffix

    return check_suffix(suffix)


def config_header(fitted: Fitted, pre: dict, axes: int, buffer_size: int, lib_id: str, suffix: str | None,
                  frequency_filter: dict | None = None) -> str:
    """The private neai_config.h of a deployable trained library."""
    from .codegen import GENERATED, c_uint, check_library_id, filter_config, header_name, pre_config
    from .pipeline import nb_features, work_floats

    check_library_id(lib_id)
    dim = nb_features(pre, axes, buffer_size)
    if dim != fitted.n_features:
        raise ValueError(f"the preprocessing gives {dim} features, the model was fitted on {fitted.n_features}")
    cf = fitted.config_fields()
    parts = [
        f"/* neai_config.h - private configuration of library {lib_id}.\n"
        f" * {GENERATED.format(version=__version__, lib_id=lib_id)} */\n",
        "#ifndef NEAI_CONFIG_H\n#define NEAI_CONFIG_H\n",
        '#include "neai_types.h"',
        '#include "neai_trained_types.h"\n',
        f"#define NEAI_SUFFIX {_suffix(suffix)}",
        f'#define NEAI_HEADER "{header_name(suffix)}"',
        f"#define NEAI_CFG_TASK {cf['task']}u /* {fitted.task} */",
        f"#define NEAI_CFG_NB_FEATURES {dim}u",
        f"#define NEAI_CFG_WORK_FLOATS {work_floats(pre, buffer_size)}u\n",
    ]
    parts += [*pre_config(pre, axes, buffer_size), *filter_config(frequency_filter, axes, buffer_size), ""]
    parts.append(f"/* {fitted.task} {fitted.model['kind']}: {_model_text(fitted.model)} */")
    parts.append(f"#define NEAI_TMODEL_KIND_ONLY {cf['kind']}u /* compile only this inference algorithm */")
    parts.append("#define NEAI_TMODEL_INIT { " + ", ".join(c_uint(v) for v in cf.values()) + " }")
    parts.append(f"#define NEAI_CFG_TWORK_FLOATS {max(1, fitted.work_floats())}u")
    parts.append(f"#define NEAI_CFG_TOUT_FLOATS {fitted.out_floats()}u")
    if fitted.task == "n-class":
        parts.append(f"#define NEAI_CFG_CLASS_NUMBER {fitted.n_classes}u")
    parts.append(f"#define NEAI_CFG_KNOWLEDGE_FLOATS {cf['knowledge_floats']}u")
    parts.append(f"#define NEAI_CFG_KNOWLEDGE_HASH {cf['hash']}u\n")
    parts.append("#endif /* NEAI_CONFIG_H */\n")
    return "\n".join(parts)


def _model_text(model: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in model.items() if k != "kind")


def knowledge_header(fitted: Fitted, lib_id: str, suffix: str | None) -> str:
    """knowledge.h: the const knowledge buffer to pass to the library's init."""
    from .codegen import GENERATED, _c_array, check_library_id

    check_library_id(lib_id)
    s = _suffix(suffix)
    k = fitted.knowledge()
    guard = f"NEAI_KNOWLEDGE{s.upper()}_H"
    body = _c_array("float", f"knowledge{s}", k)
    return (
        f"/* knowledge.h - knowledge of library {lib_id}: {fitted.task}, {fitted.model['kind']} "
        f"({len(k)} floats, hash {int(k[3])}).\n"
        f" * {GENERATED.format(version=__version__, lib_id=lib_id)}\n"
        f" * Pass it to the library's init function. */\n"
        f"#ifndef {guard}\n#define {guard}\n\n{body}\n#endif /* {guard} */\n"
    )


# Cortex-M4F -Os code bytes of the trained inference, fitted to linked images of
# generated libraries (zig 0.17; the const config lets the compiler drop every
# branch the model does not take, so a library is far smaller than the whole of
# neai_trained.c): "common" = check, hash, layout, transform, exp/log; then what
# each algorithm and its output step add; "api" is an allowance for the library's
# init/infer wrappers. Measured e.g. stats + MLP (PCA 8, softmax) 1.70 KB, stats +
# GMM 1.37 KB, stats + SVR 1.05 KB, FFT + isolation forest 1.53 KB (+ tables), all
# without the knowledge. Soft-float cores (M0+) add ~2.5 KB of float helpers.
CODE_BYTES = {"api": 300, "common": 500, "linear": 100, "forest": 150, "proto": 200, "mlp": 300, "gauss": 200,
              "kernel": 150, "quad": 150, "knn": 300}
STACK_BYTES = 160


def estimate_memory(fitted: Fitted, pre: dict, axes: int, buffer_size: int) -> tuple[int, int]:
    """(RAM bytes excluding the caller's input buffer, flash bytes including the knowledge)."""
    from .pipeline import nb_features, pre_code_bytes, pre_const_bytes, work_floats

    dim = nb_features(pre, axes, buffer_size)
    ram = 4 * (work_floats(pre, buffer_size) + dim + max(1, fitted.work_floats()) + fitted.out_floats()) + 8
    ram += STACK_BYTES
    const = pre_const_bytes(pre, buffer_size)
    code = CODE_BYTES["api"] + pre_code_bytes(pre) + CODE_BYTES["common"] + CODE_BYTES[fitted.algo]
    flash = code + const + 4 * fitted.knowledge_floats() + ctypes.sizeof(TModelCfg) + 64
    return ram, flash
