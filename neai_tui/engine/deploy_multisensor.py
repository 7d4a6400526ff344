"""`neai deploy` for Multi-sensor anomaly detection (called by deploy.deploy).

Same zip as an anomaly-detection library (SPEC §3), built from
c_lib/neai_multisensor.c: data_input is one sample of n variables
(NB_AXES = n, BUFFER_SIZE = 1) and the library keeps the last NEAI_WINDOW
samples itself. metadata.json says `"layout": "multisensor"`, so `neai emulate`
reads one sample per line and feeds the lines in file order, keeping the
library's state from line to line: exactly the device's stream.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import codegen, csearch
from .cost import instructions, multisensor_terms
from .csearch import c_lib_dir
from .deploy import DeployResult, build_and_verify, default_zip_path, library_metadata, write_zip
from .errors import UsageError
from .pipeline import nb_features, state_floats
from .project import Project
from .scratch import scratch_dir
from .search import Benchmark, find_library
from .targets import resolve_target
from .tasks.multisensor import (
    LOOKBACK, MultiSensorEvaluator, describe, load_multisensor_data, strip_window, window_buffers,
)

VERIFY_LEARN_WINDOWS = 48  # windows learned during the ARM == host check
VERIFY_DETECT_WINDOWS = 12  # nominal and abnormal windows detected each


def verification_samples(nominal: np.ndarray, abnormal: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Time-ordered samples for the ARM == host check: enough learning samples to
    fill the window and learn VERIFY_LEARN_WINDOWS windows, then later nominal
    samples and abnormal ones (each enough for full windows). At least 2·W + 30."""
    n_learn = min(len(nominal) - 1, window - 1 + VERIFY_LEARN_WINDOWS)
    learn = nominal[:n_learn]
    later = nominal[n_learn : n_learn + VERIFY_DETECT_WINDOWS]
    detect = np.vstack([later, abnormal[: window - 1 + VERIFY_DETECT_WINDOWS]])
    return learn, detect


def generate_sources(
    gen: Path, lib_name: str, pipeline: dict, variables: int, min_learn: int, suffix: str | None, data=None
) -> tuple[list[Path], list[Path]]:
    """Write the public header and neai_config.h of a library into `gen`;
    returns (C sources, include folders) to build it with. `data` (the
    project's MultiSensorData) gives the input guard and the nominal windows'
    features (half-space trees draw their tests from them)."""
    inner, window = strip_window(pipeline)
    dim = nb_features(inner["pre"], variables, window)
    knowledge_bytes = 4 * state_floats(inner["model"], dim)
    header = codegen.header_name(suffix)
    (gen / header).write_text(
        codegen.multisensor_header(lib_name, variables, window, min_learn, knowledge_bytes, suffix)
    )
    learn_features = None
    if data is not None and inner["model"]["kind"] == "hst":
        learn_features = np.vstack([
            csearch.features(inner["pre"], window_buffers(nom.values, nom.window_starts(window), window), variables,
                             window) for _, nom, _ in data.couples])
    (gen / "neai_config.h").write_text(
        codegen.multisensor_config(lib_name, pipeline, variables, window, min_learn, suffix,
                                   guard=data.guard if data is not None else None, learn_features=learn_features)
    )
    return [c_lib_dir() / "neai_multisensor.c"], [gen, c_lib_dir()]


def deploy_multisensor(project: Project, *, lib_id, target, suffix, out, say, optimize="size", opt="-Os",
                       build: dict | None = None) -> DeployResult:
    from .toolchain import build_tag, build_variant, resolve_core

    record = find_library(project, lib_id)
    tgt = resolve_target(target or project.settings.target)
    core = build_variant(resolve_core(tgt.core), **(build or {}))
    from .bench_history import benchmark_project

    data = load_multisensor_data(benchmark_project(project, record["benchmark"]))  # the files its benchmark used
    variables = data.axes
    pipeline = record["pipeline"]
    if LOOKBACK not in pipeline["pre"]:
        raise UsageError(
            f"library {record['id']} was not benchmarked as a Multi-sensor library",
            "Run `neai bench DIR --new` on this Multi-sensor project and deploy its result.",
        )
    inner, window = strip_window(pipeline)
    bench = Benchmark.load(project, record["benchmark"])
    if "min_learning_iterations" not in record:
        evaluator = MultiSensorEvaluator(data, bench.state["seed"], None, None)
        record = {**record, **evaluator.learning_curve(pipeline)}
    min_learn = int(record["min_learning_iterations"])
    dim = nb_features(inner["pre"], variables, window)
    knowledge_bytes = 4 * state_floats(inner["model"], dim)
    lib_name = record["id"]

    out_path = Path(out).expanduser() if out else default_zip_path(project, lib_name, core.name, suffix, optimize,
                                                                    build_tag(core))
    if out_path.suffix.lower() != ".zip":
        raise UsageError(f"--out {out_path}: the library is a zip file", "Give a path ending in .zip.")

    with scratch_dir("neai-deploy-") as tmp_name:
        tmp = Path(tmp_name)
        gen = tmp / "gen"
        gen.mkdir()
        header = codegen.header_name(suffix)
        sources, includes = generate_sources(gen, lib_name, pipeline, variables, min_learn, suffix, data)
        _, nominal, abnormal = data.couples[0]
        learn_rows, detect_rows = verification_samples(nominal.values, abnormal.values, window)
        so_name = "libneai_emulator.so"
        # One call = one sample: the check runs the API on n values per call.
        lib_a, host_so, check = build_and_verify(
            sources, includes, core, suffix, variables, 1, learn_rows, detect_rows, tmp, so_name, say, opt=opt
        )
        metadata = library_metadata(
            project, record, "anomaly", tgt, core, suffix, header, describe(pipeline), check.as_dict(), min_learn,
            knowledge_bytes,
            {"axes": variables, "buffer_size": 1, "values_per_line": variables, "layout": "multisensor",
             "window": window},
            so_name, optimize=optimize,
            estimated_instructions=instructions(multisensor_terms(pipeline, variables), core.name),
        )
        metadata["multisensor"] = True
        metadata["window_bytes"] = 4 * window * variables
        files = {
            "libneai.a": lib_a.read_bytes(),
            header: (gen / header).read_bytes(),
            "metadata.json": (json.dumps(metadata, indent=2) + "\n").encode(),
            "main.c": codegen.multisensor_hello_world(suffix).encode(),
            f"emulator/{so_name}": host_so.read_bytes(),
            "emulator/emulate.py": (Path(__file__).parent / "emulator_runtime.py").read_bytes(),
        }
        write_zip(out_path, files)
    return DeployResult(out_path, metadata)
