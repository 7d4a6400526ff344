"""`neai deploy`: build, verify and package a library (SPEC §3).

The zip holds libneai.a for the target core, the public header, metadata.json
with the measured flash/RAM/instructions, the host build with a runner
(emulator/), and a Hello World main.c. The ARM build is checked against the
host build under an emulated Cortex-M before anything is written.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import __version__
from . import codegen, csearch
from .csearch import c_lib_dir
from .emulator import host_platform
from .errors import UsageError
from .pipeline import describe, nb_features, state_floats
from .project import Project
from .search import Benchmark, find_library, select_library
from .tasks.anomaly import AnomalyEvaluator, load_anomaly_data
from .targets import resolve_target
from .toolchain import DEFAULT_OPT, DEFAULT_OPTIMIZE, OPTIMIZE_LEVELS, optimize_flag

VERIFY_LEARN = 48
VERIFY_DETECT = 24


@dataclass
class DeployResult:
    zip_path: Path
    metadata: dict


def deploy(
    project: Project,
    *,
    lib_id: str | None = None,
    target: str | None = None,
    suffix: str | None = None,
    out: Path | str | None = None,
    optimize: str | None = None,
    select: bool = True,
    progress: Callable[[str], None] | None = None,
) -> DeployResult:
    """Build, verify and zip a library of the project (SPEC §3).

    ``optimize`` is "size" (-Os, the default) or "speed" (-O2) for the Cortex-M
    build: the archive, the image verified on the emulated core and the figures
    measured on it all use it. ``select=False`` leaves the project's selected
    library as it is (validation builds candidates without choosing them)."""
    say = progress or (lambda _msg: None)
    codegen.check_suffix(suffix)
    optimize, opt = optimize_flag(optimize)
    options = dict(lib_id=lib_id, target=target, suffix=suffix, out=out, say=say, optimize=optimize, opt=opt)
    if project.settings.multisensor:
        from .deploy_multisensor import deploy_multisensor

        result = deploy_multisensor(project, **options)
    elif project.settings.type != "anomaly":
        from .deploy_trained import deploy_trained

        result = deploy_trained(project, **options)
    else:
        result = _deploy_anomaly(project, **options)
    if lib_id and select:
        select_library(project, result.metadata["library_id"])
    say(f"wrote {result.zip_path}")
    return result


def _deploy_anomaly(project: Project, *, lib_id, target, suffix, out, say, optimize, opt) -> DeployResult:
    from .toolchain import resolve_core

    record = find_library(project, lib_id)
    tgt = resolve_target(target or project.settings.target)
    core = resolve_core(tgt.core)
    data = load_anomaly_data(project)
    axes, buffer_size = data.axes, data.buffer_size
    pipeline = record["pipeline"]
    bench = Benchmark.load(project, record["benchmark"])
    if "min_learning_iterations" not in record:
        evaluator = AnomalyEvaluator(data, bench.state["seed"], None, None)
        record = {**record, **evaluator.learning_curve(pipeline)}
    min_learn = int(record["min_learning_iterations"])
    dim = nb_features(pipeline["pre"], axes, buffer_size)
    knowledge_bytes = 4 * state_floats(pipeline["model"], dim)
    lib_name = record["id"]

    out_path = Path(out).expanduser() if out else default_zip_path(project, lib_name, core.name, suffix, optimize)
    if out_path.suffix.lower() != ".zip":
        raise UsageError(f"--out {out_path}: the library is a zip file", "Give a path ending in .zip.")

    with tempfile.TemporaryDirectory(prefix="neai-deploy-") as tmp_name:
        tmp = Path(tmp_name)
        gen = tmp / "gen"
        gen.mkdir()
        header = codegen.header_name(suffix)
        (gen / header).write_text(codegen.anomaly_header(lib_name, axes, buffer_size, min_learn, knowledge_bytes, suffix))
        (gen / "neai_config.h").write_text(codegen.anomaly_config(
            lib_name, pipeline, axes, buffer_size, min_learn, suffix, record.get("frequency_filter"), guard=data.guard,
            learn_features=nominal_features(pipeline, data)))
        sources = [c_lib_dir() / "neai_anomaly.c"]
        includes = [gen, c_lib_dir()]
        _, nominal, abnormal = data.couples[0]
        rng = np.random.default_rng([bench.state["seed"], 99])
        order = rng.permutation(len(nominal))
        learn_rows = nominal[order[: min(VERIFY_LEARN, max(1, len(nominal) - 1))]]
        detect_rows = np.vstack([nominal[order[-VERIFY_DETECT // 2 :]], abnormal[: VERIFY_DETECT // 2]])
        so_name = "libneai_emulator.so"
        lib_a, host_so, check = build_and_verify(
            sources, includes, core, suffix, axes, buffer_size, learn_rows, detect_rows, tmp, so_name, say, opt=opt
        )
        metadata = library_metadata(
            project, record, "anomaly", tgt, core, suffix, header, describe(pipeline), check.as_dict(), min_learn,
            knowledge_bytes, {"axes": axes, "buffer_size": buffer_size, "values_per_line": axes * buffer_size},
            so_name, optimize=optimize,
        )
        files = {
            "libneai.a": lib_a.read_bytes(),
            header: (gen / header).read_bytes(),
            "metadata.json": (json.dumps(metadata, indent=2) + "\n").encode(),
            "main.c": codegen.hello_world(suffix, axes, buffer_size).encode(),
            f"emulator/{so_name}": host_so.read_bytes(),
            "emulator/emulate.py": (Path(__file__).parent / "emulator_runtime.py").read_bytes(),
        }
        write_zip(out_path, files)
    return DeployResult(out_path, metadata)


def nominal_features(pipeline: dict, data) -> np.ndarray | None:
    """The features of every nominal line, for models whose tables are drawn
    from the nominal range (half-space trees); None for the others."""
    if pipeline["model"]["kind"] != "hst":
        return None
    return np.vstack([csearch.features(pipeline["pre"], nom, data.axes, data.buffer_size)
                      for _, nom, _ in data.couples])


def library_metadata(
    project: Project, record: dict, lib_type: str, target, core, suffix: str | None, header: str,
    pipeline_text: str, measured: dict, min_learn: int | None, knowledge_bytes: int, data: dict, so_name: str,
    *, optimize: str = DEFAULT_OPTIMIZE,
) -> dict:
    """metadata.json keys every library type shares (SPEC §3); callers add their own."""
    return {
        "library_id": record["id"],
        "type": lib_type,
        "project": project.settings.name,
        "benchmark": record["benchmark"],
        "target": target.name,
        "core": core.name,
        "float_abi": core.float_abi,
        "fpu": core.fpu,
        "flags": list(core_flags(core)),
        # The Cortex-M build's optimisation ("size" -Os or "speed" -O2); the
        # measured figures below are those of that build.
        "optimize": optimize,
        "optimize_flag": OPTIMIZE_LEVELS[optimize],
        "suffix": codegen.check_suffix(suffix)[1:],
        "header": header,
        "pipeline": pipeline_text,
        "pipeline_config": record["pipeline"],
        "frequency_filter": record.get("frequency_filter"),  # applied by the library to every input buffer
        "metrics": record["metrics"],
        "score": record["score"],
        "min_learning_iterations": min_learn,
        "estimated": {"ram_bytes": record["ram_bytes"], "flash_bytes": record["flash_bytes"]},
        # How far the search's estimate (which ranked and size-limited the candidates)
        # was from the built ELF: (estimate - measured) / measured, positive = pessimistic.
        "estimate_error_pct": {
            kind: None if not measured.get(f"{kind}_bytes") else
            round(100.0 * (record[f"{kind}_bytes"] - measured[f"{kind}_bytes"]) / measured[f"{kind}_bytes"], 1)
            for kind in ("ram", "flash")
        },
        "measured": measured,
        "flash_bytes": measured["flash_bytes"],
        "ram_bytes": measured["ram_bytes"],
        "knowledge_bytes": knowledge_bytes,
        "data": data,
        "emulator": {"platform": host_platform(), "shared_library": so_name, "runner": "emulate.py"},
        "tool": {"name": "neai-tui", "version": __version__, "python": platform.python_version()},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def build_and_verify(sources, includes, core, suffix, axes, buffer_size, learn_rows, detect_rows, tmp: Path,
                     so_name: str, say, *, opt: str = DEFAULT_OPT) -> tuple[Path, Path, "object"]:
    """Build libneai.a for the core (optimisation ``opt``) and the host build, then
    run the Cortex-M build on an emulated core against the host build (learn/detect
    API; one call takes axes * buffer_size values). Returns (archive, host
    library, Verification).

    Cores the emulator cannot run (M55: clang emits instructions unicorn lacks)
    are verified through the same sources built for a stand-in core; their flash
    and static RAM are still measured on the real image."""
    from .armrun import link_image, measure_elf
    from .toolchain import compile_host_shared, compile_static_lib, emulation_spec
    from .verify import verify_anomaly

    say(f"compiling for {core.name} ({opt}) with the bundled compiler")
    lib_a = compile_static_lib(sources, tmp / "libneai.a", core.name, include_dirs=includes, opt=opt)
    say("compiling the host build for the emulator")
    host_so = compile_host_shared(sources, tmp / "emulator" / so_name, include_dirs=includes)
    say(f"verifying the {core.name} build against the host build on an emulated core")
    emu_core = emulation_spec(core)
    emu_lib = lib_a
    if emu_core.name != core.name:
        emu_lib = compile_static_lib(sources, tmp / "emu" / "libneai.a", emu_core.name, include_dirs=includes,
                                     opt=opt)
    symbols = codegen.api_symbols(suffix)
    check = verify_anomaly(emu_lib, host_so, emu_core.name, symbols, codegen.check_suffix(suffix)[1:],
                           axes, buffer_size, learn_rows, detect_rows, tmp, opt=opt)
    if emu_core.name != core.name:
        real = measure_elf(link_image(lib_a, core.name, symbols, tmp / "real.elf", opt=opt))
        check.flash_bytes = real.flash_bytes
        check.static_ram_bytes = real.ram_bytes
        check.ram_bytes = real.ram_bytes + check.stack_bytes
        check.core = f"{core.name} (instructions measured on {emu_core.name})"
    return lib_a, host_so, check


def write_zip(out_path: Path, files: dict[str, bytes]) -> None:
    """Write the library zip atomically: an interrupted deploy leaves no half zip."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(f".{out_path.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    os.replace(partial, out_path)


def default_zip_path(project: Project, lib_name: str, core_name: str, suffix: str | None,
                     optimize: str = DEFAULT_OPTIMIZE) -> Path:
    """deploy/<library>_<core>[_<suffix>][_speed].zip: builds that differ get their own zip."""
    level = "" if optimize == DEFAULT_OPTIMIZE else f"_{optimize}"
    return project.path / "deploy" / f"{lib_name}_{core_name}{codegen.check_suffix(suffix)}{level}.zip"


def core_flags(core) -> tuple[str, ...]:
    return tuple(getattr(core, "gcc_flags", ()))
