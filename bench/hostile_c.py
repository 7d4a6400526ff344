#!/usr/bin/env python3
"""The C runtime on a bad day, under AddressSanitizer and UndefinedBehaviorSanitizer.

Every component is built with gcc `-fsanitize=address,undefined
-fno-sanitize-recover=all` and driven through the project's own ctypes wrappers
(the builds the engine would load are swapped for the sanitized ones) with
random, extreme and non-finite buffers:

* anomaly-detection libraries (c_lib/neai_anomaly.c with a generated config and
  the input guard learnt from the nominal lines), one per model kind, plus a
  raw-buffer one with a shifting nearest-neighbour memory, and a Multi-sensor
  library (one sample per call): for every hostile buffer, the library learns
  100 nominal lines with that buffer in the middle, and its decisions on
  held-out lines must equal those learned without it on >= 98 % of them; the
  knowledge must stay finite; then random calls (learn or detect, buffers mixing
  nominal lines, noise of any magnitude, denormals, NaN, Inf, stuck axes);
* the models alone (c_lib/neai_search.c) on hostile feature vectors, and every
  preprocessing on hostile buffers;
* every trained model (c_lib/neai_search_trained.c), fitted by scikit-learn,
  on hostile feature vectors.

Any sanitizer report aborts the run (exit status != 0, report on stderr).

    python bench/hostile_c.py                 # 10^6 calls (~2-4 minutes)
    python bench/hostile_c.py --calls 100000 --json

tests/test_hostile.py runs it with 10^5 calls. Needs gcc with libasan/libubsan.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
AGREEMENT = 0.98
SAN_FLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g", "-O1")
C_FLAGS = ("-std=c99", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wextra", "-Werror")


def sanitizer_runtime() -> str | None:
    """Path of gcc's libasan (preloaded into the child Python), or None."""
    gcc = shutil.which("gcc")
    if gcc is None:
        return None
    out = subprocess.run([gcc, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    return out if out and os.path.isfile(out) else None


# ------------------------------------------------------------------------ builds
def sanitized_shared(sources, out_so, include_dirs=(), defines=None) -> Path:
    out_so = Path(out_so)
    out_so.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["gcc", "-shared", "-fPIC", *C_FLAGS, *SAN_FLAGS, *(f"-I{d}" for d in include_dirs),
           *(f"-D{k}" if v is None else f"-D{k}={v}" for k, v in (defines or {}).items()),
           *map(str, sources), "-o", str(out_so)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"gcc failed: {' '.join(cmd)}\n{proc.stderr}")
    return out_so


def use_sanitized_builds(folder: Path) -> None:
    """Make the engine load sanitized host builds from now on: the search and
    trained-model builds (built now, two at a time) and every library it builds."""
    from neai_tui.engine import csearch, toolchain, trained

    src = csearch.c_lib_dir()
    names = ("neai_search.c", "neai_search_trained.c")
    built = dict(zip(names, build_all([([src / n], [src], folder / f"{n[:-2]}.so") for n in names])))

    def cached_build(kind, sources, include_dirs=(), defines=None, core=None, **_):
        assert kind == "shared" and Path(sources[0]).name in built, (kind, sources)
        return built[Path(sources[0]).name]

    def compile_host_shared(sources, out_so, *, include_dirs=(), defines=None):
        return sanitized_shared(sources, out_so, include_dirs, defines)

    toolchain.cached_build = cached_build
    toolchain.compile_host_shared = compile_host_shared
    csearch.search_library.cache_clear()
    trained.host_library.cache_clear()


# ------------------------------------------------------------------ hostile data
def hostile_buffers(nominal: np.ndarray, axes: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Named buffers a bad day can bring, shaped like one line."""
    n = nominal.shape[1]
    line = nominal[0].copy()

    def with_sample(value):
        b = line.copy()
        b[int(rng.integers(n))] = value
        return b

    stuck = line.copy()
    stuck[0::axes] = stuck[0]
    return {
        "zeros": np.zeros(n), "minus zero": np.full(n, -0.0), "denormals": np.full(n, 1e-40),
        "constant 0.5": np.full(n, 0.5), "1e20": np.full(n, 1e20), "3.4e38": np.full(n, 3.4e38),
        "-3.4e38": np.full(n, -3.4e38), "one sample 1e19": with_sample(1e19), "one sample 3.4e38": with_sample(3.4e38),
        "one NaN": with_sample(np.nan), "one +Inf": with_sample(np.inf), "one -Inf": with_sample(-np.inf),
        "all NaN": np.full(n, np.nan), "noise 1e6": rng.uniform(-1e6, 1e6, n),
        "nominal x 1000": line * 1000.0, "nominal x 10": line * 10.0,
        "noise at the nominal scale": rng.normal(nominal.mean(), 3 * nominal.std(), n),
        "alternating 1e30": np.where(np.arange(n) % 2, 1e30, -1e30), "one axis stuck": stuck,
        "nominal + 1 ulp denormal": line + 1e-45,
    }


def random_buffer(nominal: np.ndarray, axes: int, rng: np.random.Generator) -> np.ndarray:
    n = nominal.shape[1]
    kind = int(rng.integers(6))
    if kind == 0:
        return nominal[int(rng.integers(len(nominal)))]
    if kind == 1:
        return rng.standard_normal(n) * 10.0 ** rng.uniform(-45, 38)
    if kind == 2:
        b = nominal[int(rng.integers(len(nominal)))].copy()
        b[rng.integers(n, size=int(rng.integers(1, 4)))] = rng.choice([np.nan, np.inf, -np.inf, 3.4e38, -1e-45])
        return b
    if kind == 3:
        return np.full(n, rng.choice([0.0, -0.0, 1e-40, 1.0, -3.4e38]))
    if kind == 4:
        return nominal[int(rng.integers(len(nominal)))] * 10.0 ** rng.uniform(-3, 6)
    b = nominal[int(rng.integers(len(nominal)))].copy()
    axis = int(rng.integers(axes))
    b[axis::axes] = b[axis]
    return b


class Counter:
    calls = 0


_U8 = ctypes.c_uint8
_F32P = ctypes.POINTER(ctypes.c_float)


def learn(lib, buf: np.ndarray) -> int:
    """lib.learn(buf), the buffer passed as an exactly sized numpy array (so the
    sanitizer sees any read past its end)."""
    b = np.ascontiguousarray(buf, dtype=np.float32)
    Counter.calls += 1
    return lib._learn(b.ctypes.data_as(_F32P))


def detect(lib, buf: np.ndarray) -> tuple[int, int]:
    b = np.ascontiguousarray(buf, dtype=np.float32)
    sim = _U8(0)
    Counter.calls += 1
    return lib._detect(b.ctypes.data_as(_F32P), ctypes.byref(sim)), sim.value


def knowledge(lib: ctypes.CDLL, suffix: str, floats: int) -> np.ndarray:
    arr = (ctypes.c_float * floats).in_dll(lib, f"neai_knowledge{suffix}")
    return np.frombuffer(arr, dtype=np.float32).copy()


# ------------------------------------------------------------ anomaly libraries
def fan_lines(seed: int):
    from neai_tui.engine.sample import NB_AXES, BUFFER_SIZE, generate_fan_signals

    sig = generate_fan_signals(seed, 150, 50)
    return sig.nominal.astype(np.float32), sig.abnormal.astype(np.float32), NB_AXES, BUFFER_SIZE


def anomaly_sources(folder: Path, name: str, pipeline: dict, nominal: np.ndarray, axes: int, buffer: int,
                    multisensor_window: int = 0):
    """Generate a library's header and config into folder/name: (source, include dirs, .so path)."""
    from neai_tui.engine import codegen, csearch
    from neai_tui.engine.csearch import c_lib_dir
    from neai_tui.engine.pipeline import guard_bounds

    gen = folder / name
    gen.mkdir(parents=True, exist_ok=True)
    if multisensor_window:
        variables = axes
        (gen / codegen.header_name(None)).write_text(
            codegen.multisensor_header(name, variables, multisensor_window, 10, 0, None))
        (gen / "neai_config.h").write_text(codegen.multisensor_config(
            name, pipeline, variables, multisensor_window, 10, None, guard=guard_bounds(nominal, variables)))
        source = c_lib_dir() / "neai_multisensor.c"
    else:
        feats = csearch.features(pipeline["pre"], nominal, axes, buffer)
        (gen / codegen.header_name(None)).write_text(codegen.anomaly_header(name, axes, buffer, 10, 0, None))
        (gen / "neai_config.h").write_text(codegen.anomaly_config(
            name, pipeline, axes, buffer, 10, None, guard=guard_bounds(nominal, axes), learn_features=feats))
        source = c_lib_dir() / "neai_anomaly.c"
    return [source], [gen, c_lib_dir()], gen / "lib.so"


def build_all(jobs: list) -> list[Path]:
    """Compile (sources, includes, out) jobs two at a time."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda j: sanitized_shared(j[0], j[2], j[1]), jobs))


def decisions(lib, learn_rows, detect_rows) -> np.ndarray:
    lib.init()
    for row in learn_rows:
        learn(lib, row)
    return np.array([detect(lib, row)[1] >= 90 for row in detect_rows])


def anomaly_pipelines() -> list[tuple[str, dict]]:
    from neai_tui.engine.tasks.anomaly import SCREEN_MODELS

    spectral = {"kind": "spectral", "bands": 4, "window": "hann", "segments": 4, "low": 0.0, "high": 0.5,
                "time_stats": False}
    pipelines = [(m["kind"], {"pre": spectral, "model": m}) for m in SCREEN_MODELS]
    pipelines.append(("knn-raw-shift", {"pre": {"kind": "raw", "decim": 8, "norm": "zscore"},
                                        "model": {"kind": "knn", "k": 8, "reg": 0.01, "shift": 2, "calib": 2.0}}))
    pipelines.append(("proto-fft", {"pre": {"kind": "fft", "bands": 8, "spacing": "log", "window": "hann",
                                            "log": True, "norm": "none"},
                                    "model": {"kind": "proto", "k": 16, "reg": 0.01, "calib": 2.0}}))
    return pipelines


def anomaly_scenarios(libs, nominal, abnormal, axes, rng: np.random.Generator, report: dict) -> None:
    """Every library learns 80 nominal lines, with each hostile buffer in the middle or not."""
    learn_rows, held = nominal[:80], np.vstack([nominal[100:], abnormal])
    for name, lib, floats in libs:
        base = decisions(lib, learn_rows, held)
        worst = 1.0
        for hostile_name, buf in hostile_buffers(nominal, axes, rng).items():
            rows = np.vstack([learn_rows[:40], buf[None, :].astype(np.float32), learn_rows[40:]])
            got = decisions(lib, rows, held)
            agree = float(np.mean(got == base))
            k = knowledge(lib.lib, "", floats)
            report["knowledge_finite"] &= bool(np.isfinite(k).all())
            if agree < AGREEMENT:
                report["failures"].append(f"{name}: after '{hostile_name}' decisions equal on {agree:.3f}")
            worst = min(worst, agree)
            detect(lib, buf)
        report["agreement_after_one_hostile_buffer"][name] = round(worst, 4)


def fuzz_libraries(libs, nominal, axes, rng, calls: int, report: dict) -> None:
    while Counter.calls < calls:
        name, lib, floats = libs[int(rng.integers(len(libs)))]
        lib.init()
        for _ in range(200):
            buf = random_buffer(nominal, axes, rng)
            if rng.random() < 0.6:
                learn(lib, buf)
            else:
                detect(lib, buf)
        k = knowledge(lib.lib, "", floats)
        if not np.isfinite(k).all():
            report["knowledge_finite"] = False
            report["failures"].append(f"{name}: knowledge not finite after random calls")


MULTISENSOR = {"pre": {"kind": "raw", "decim": 2, "norm": "none", "lookback": 4},
               "model": {"kind": "proto", "k": 16, "reg": 0.1, "calib": 2.0}}


def multisensor_data():
    from neai_tui.engine.sample_multisensor import generate_multisensor_signals

    sig = generate_multisensor_signals(seed=3, n_nominal=600, n_abnormal=120)
    return sig.nominal.astype(np.float32), sig.abnormal.astype(np.float32)


def multisensor_scenario(lib, floats, nominal, abnormal, rng: np.random.Generator, report: dict) -> None:
    """The stream learns 400 samples, with one hostile sample in the middle or not."""
    learn_rows, held = nominal[:400], np.vstack([nominal[420:], abnormal])
    base = decisions(lib, learn_rows, held)
    worst = 1.0
    for name, buf in hostile_buffers(nominal, 1, rng).items():
        got = decisions(lib, np.vstack([learn_rows[:200], buf[None, :].astype(np.float32), learn_rows[200:]]), held)
        worst = min(worst, float(np.mean(got == base)))
        report["knowledge_finite"] &= bool(np.isfinite(knowledge(lib.lib, "", floats)).all())
        if np.mean(got == base) < AGREEMENT:
            report["failures"].append(f"multisensor: after '{name}' decisions equal on {np.mean(got == base):.3f}")
    report["agreement_after_one_hostile_buffer"]["multisensor proto"] = round(worst, 4)


# -------------------------------------------------------------- models alone
def model_scenarios(rng: np.random.Generator, report: dict) -> None:
    from neai_tui.engine import csearch
    from neai_tui.engine.tasks.anomaly import SCREEN_MODELS

    dim = 12
    extremes = np.array([0.0, -0.0, 1e-45, 1e-38, 1e15, -1e15, 1.1e15, 1e30, 3.4e38, np.nan, np.inf, -np.inf])
    for model in [*SCREEN_MODELS, {"kind": "knn", "k": 8, "reg": 0.0, "shift": 3, "calib": 1.0},
                  {"kind": "hst", "trees": 4, "depth": 10, "calib": 1.0}]:
        normal = rng.standard_normal((200, dim)).astype(np.float32)
        m = csearch.ModelRun(model, dim, normal, blocks=3)
        for i in range(3000):
            x = normal[i % 200].copy()
            if rng.random() < 0.5:
                x[rng.integers(dim, size=int(rng.integers(1, dim + 1)))] = rng.choice(extremes)
            if rng.random() < 0.7:
                m.learn(x)
            else:
                m.ratio(x)
            Counter.calls += 1
        if not np.isfinite(m.state).all():
            report["knowledge_finite"] = False
            report["failures"].append(f"model {model['kind']}: knowledge not finite")


def preprocessing_scenarios(rng: np.random.Generator) -> None:
    from neai_tui.engine import csearch

    axes, buffer = 3, 64
    pres = [{"kind": "raw", "decim": 2, "norm": n} for n in ("none", "zscore", "maxabs", "center")]
    pres += [{"kind": "fft", "bands": 8, "spacing": "log", "window": "hann", "log": True, "norm": "relative",
              "segments": 2}, {"kind": "stats", "cross": True}, {"kind": "cov", "correlation": True},
             {"kind": "spectral", "bands": 4, "window": "hann", "segments": 4, "time_stats": True}]
    x = rng.standard_normal((400, axes * buffer))
    for i in range(len(x)):
        if i % 2:
            x[i, rng.integers(axes * buffer, size=3)] = rng.choice([np.nan, np.inf, 3.4e38, -3.4e38, 1e-45, 0.0])
        if i % 5 == 0:
            x[i] = rng.choice([0.0, 1e30, -1e-40])
    for pre in pres:
        csearch.features(pre, x.astype(np.float32), axes, buffer)
        Counter.calls += len(x)


def trained_scenarios(rng: np.random.Generator, report: dict) -> None:
    from neai_tui.engine import trained

    dim = 10
    x = rng.standard_normal((160, dim)).astype(np.float32) * np.geomspace(0.1, 10, dim).astype(np.float32)
    y_cls = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    y_reg = x[:, 0] * 3.0 + 1.0
    hostile = rng.standard_normal((300, dim)).astype(np.float32)
    values = np.array([np.nan, np.inf, -np.inf, 3.4e38, -3.4e38, 1e-45, 0.0, 1e30], dtype=np.float32)
    for i in range(len(hostile)):
        hostile[i, rng.integers(dim, size=int(rng.integers(1, dim + 1)))] = rng.choice(values)
    for task, families in trained.FAMILIES.items():
        y = {"n-class": y_cls, "one-class": None, "extrapolation": y_reg}[task]
        for i, (kind, fam) in enumerate(families.items()):
            # the fitted transforms in turns: standardisation, PCA
            for settings in ({"scale": "standard", "pca": 0}, {"scale": "none", "pca": 4})[i % 2 : i % 2 + 1]:
                model = {**fam.default, **settings}
                try:
                    fitted = trained.fit(task, model, x, y, seed=1)
                except ValueError:
                    continue
                trained.predict_c(fitted, hostile)
                Counter.calls += len(hostile)
    report["trained_kinds"] = sum(len(f) for f in trained.FAMILIES.values())


# ------------------------------------------------------------------- driver
def child(calls: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    report = {"calls": 0, "failures": [], "knowledge_finite": True, "agreement_after_one_hostile_buffer": {}}
    started = time.monotonic()
    report["phase_seconds"] = phases = {}

    def timed(name, fn, *args):
        t0 = time.monotonic()
        out = fn(*args)
        phases[name] = round(time.monotonic() - t0, 1)
        return out

    with tempfile.TemporaryDirectory(prefix="neai-hostile-") as tmp:
        from neai_tui.engine.emulator_runtime import AnomalyLibrary
        from neai_tui.engine.pipeline import nb_features, state_floats
        from neai_tui.engine.tasks.multisensor import strip_window

        folder = Path(tmp)
        timed("builds", use_sanitized_builds, folder)
        nominal, abnormal, axes, buffer = fan_lines(5)
        ms_nominal, ms_abnormal = multisensor_data()
        pipelines = anomaly_pipelines()
        jobs = [anomaly_sources(folder, name, p, nominal, axes, buffer) for name, p in pipelines]
        jobs.append(anomaly_sources(folder, "multisensor", MULTISENSOR, ms_nominal, ms_nominal.shape[1], 1, 4))
        built = timed("library builds", build_all, jobs)
        libs = []
        for (name, p), so in zip(pipelines, built):
            floats = state_floats(p["model"], nb_features(p["pre"], axes, buffer))
            libs.append((name, AnomalyLibrary(so, axes, buffer), floats))
        inner, window = strip_window(MULTISENSOR)
        ms_lib = AnomalyLibrary(built[len(pipelines)], ms_nominal.shape[1], 1)
        ms_floats = state_floats(inner["model"], nb_features(inner["pre"], ms_nominal.shape[1], window))
        timed("models", model_scenarios, rng, report)
        timed("preprocessings", preprocessing_scenarios, rng)
        timed("trained", trained_scenarios, rng, report)
        timed("multisensor", multisensor_scenario, ms_lib, ms_floats, ms_nominal, ms_abnormal, rng, report)
        timed("anomaly libraries", anomaly_scenarios, libs, nominal, abnormal, axes, rng, report)
        timed("random calls", fuzz_libraries, libs, nominal, axes, rng, calls, report)
    report["calls"] = Counter.calls
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def run(calls: int = 10**6, seed: int = 1) -> dict:
    """Run the harness in a child Python with the sanitizers' runtime preloaded.
    Returns its report, plus "returncode" and "sanitizer" (the report's text, if any)."""
    runtime = sanitizer_runtime()
    if runtime is None:
        raise RuntimeError("gcc with libasan is needed (apt-get install gcc)")
    env = {**os.environ, "LD_PRELOAD": runtime, "PYTHONMALLOC": "malloc",
           "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:halt_on_error=1:exitcode=3",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=4",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--calls", str(calls),
                           "--seed", str(seed)], capture_output=True, text=True, env=env, cwd=REPO)
    report = {}
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("{"):
            report = json.loads(line)
            break
    report["returncode"] = proc.returncode
    markers = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer", "SUMMARY:")
    report["sanitizer"] = "\n".join(l for l in proc.stderr.splitlines() if any(m in l for m in markers))[:4000]
    if proc.returncode and not report.get("sanitizer"):
        report["stderr"] = proc.stderr[-4000:]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10**6, help="calls into the C at least (e.g. 100000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the buffers (e.g. 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.calls, args.seed)))
        return 0
    report = run(args.calls, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"calls into the sanitized C: {report.get('calls')} in {report.get('seconds')} s, "
              f"exit status {report['returncode']}")
        print(f"sanitizer reports: {'none' if not report['sanitizer'] else report['sanitizer']}")
        print(f"knowledge always finite: {report.get('knowledge_finite')}")
        for name, agree in report.get("agreement_after_one_hostile_buffer", {}).items():
            print(f"  {name:18s} decisions equal after any one hostile learned buffer: >= {agree:.3f}")
        for failure in report.get("failures", []):
            print(f"FAIL {failure}")
        if report.get("stderr"):
            print(report["stderr"])
    ok = report["returncode"] == 0 and not report["sanitizer"] and not report.get("failures")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
