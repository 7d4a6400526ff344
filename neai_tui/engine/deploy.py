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
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import __version__
from . import codegen, csearch
from .cost import anomaly_terms
from .cost import instructions as cost_estimate
from .cost import milliseconds as cost_milliseconds
from .csearch import c_lib_dir
from .emulator import host_platform
from .errors import UsageError
from .limits import LimitError, over_limits
from .pipeline import describe, nb_features, state_floats
from .project import Project
from .scratch import scratch_dir
from .search import Benchmark, find_library, library_data_changes, select_library
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
    float_abi: str | None = None,
    sections: bool = True,
    extra_flags: str | list[str] | None = None,
    select: bool = True,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
) -> DeployResult:
    """Build, verify and zip a library of the project (SPEC §3).

    ``optimize`` is "size" (-Os, the default) or "speed" (-O2) for the Cortex-M
    build: the archive, the image verified on the emulated core and the figures
    measured on it all use it. ``float_abi`` (hard, the default on cores with an FPU,
    or softfp), ``sections`` (-ffunction-sections -fdata-sections, on by default) and
    ``extra_flags`` (checked against an allow-list) are the other compilation options;
    every one reaches the Cortex-M build that is verified and measured, and metadata.json
    records them. ``select=False`` leaves the project's selected library as it is
    (validation builds candidates without choosing them).

    A library over the project's max RAM/flash or the target's RAM/flash is
    refused (LimitError, exit 2, with the figures) unless ``force``: first on the
    benchmark's estimate, before building, then on the figures measured on the
    build, before the zip takes its place (an existing zip is left as it was)."""
    from .toolchain import build_variant, resolve_core

    say = progress or (lambda _msg: None)
    codegen.check_suffix(suffix)
    optimize, opt = optimize_flag(optimize)
    build = {"float_abi": float_abi, "sections": sections, "extra_flags": extra_flags}
    core = build_variant(resolve_core(resolve_target(target or project.settings.target).core), **build)  # refuse early
    with project.writer("deploy a library"):
        final_path = _refuse_over_limits(project, lib_id, target, suffix, out, optimize, core, force)
        stale = library_data_changes(project, find_library(project, lib_id))
        if stale:
            say(f"warning: this library was benchmarked on other data ({'; '.join(stale)}); its scores may not "
                "hold: run `neai bench` to rank libraries on the current data")
        staged = final_path.with_name(f".{final_path.stem}.staged.zip")
        options = dict(lib_id=lib_id, target=target, suffix=suffix, out=staged, say=say, optimize=optimize, opt=opt,
                       build=build)
        try:
            if project.settings.multisensor:
                from .deploy_multisensor import deploy_multisensor

                result = deploy_multisensor(project, **options)
            elif project.settings.type != "anomaly":
                from .deploy_trained import deploy_trained

                result = deploy_trained(project, **options)
            else:
                result = _deploy_anomaly(project, **options)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        measured = result.metadata.get("measured") or {}
        over = over_limits(measured.get("ram_bytes"), measured.get("flash_bytes"), project.settings, target)
        if over and not force:
            staged.unlink(missing_ok=True)
            raise LimitError(
                f"library {result.metadata['library_id']} does not fit, as built for {result.metadata['target']}: "
                + "; ".join(over) + " (measured on the build)",
                LIMIT_HINT,
            )
        os.replace(staged, final_path)
        result.zip_path = final_path
        if over:
            say("over the limits (--force): " + "; ".join(over))
        if stale:
            result.metadata["benchmarked_on_other_data"] = stale
        if lib_id and select:
            select_library(project, result.metadata["library_id"])
    say(f"wrote {result.zip_path}")
    return result


LIMIT_HINT = ("Choose a smaller library (`neai libs DIR` lists RAM and flash), raise the limits "
              "(`neai set DIR --max-ram KB --max-flash KB`), pick a bigger target, or build it anyway with "
              "`neai deploy DIR --force`.")


def _refuse_over_limits(project: Project, lib_id, target, suffix, out, optimize, core, force) -> Path:
    """Where the zip goes; a LimitError when the library's estimated RAM/flash is
    over the project's or the target's limits (unless forced)."""
    from .toolchain import build_tag

    record = find_library(project, lib_id)
    tgt = resolve_target(target or project.settings.target)
    over = over_limits(record.get("ram_bytes"), record.get("flash_bytes"), project.settings, tgt.name)
    if over and not force:
        raise LimitError(f"library {record['id']} does not fit: " + "; ".join(over) + " (the benchmark's estimate)",
                         LIMIT_HINT)
    out_path = (Path(out).expanduser() if out
                else default_zip_path(project, record["id"], core.name, suffix, optimize, build_tag(core)))
    if out_path.suffix.lower() != ".zip":
        raise UsageError(f"--out {out_path}: the library is a zip file", "Give a path ending in .zip.")
    return out_path


def _deploy_anomaly(project: Project, *, lib_id, target, suffix, out, say, optimize, opt, build) -> DeployResult:
    from .toolchain import build_tag, build_variant, resolve_core

    record = find_library(project, lib_id)
    tgt = resolve_target(target or project.settings.target)
    core = build_variant(resolve_core(tgt.core), **build)
    from .bench_history import benchmark_project

    data = load_anomaly_data(benchmark_project(project, record["benchmark"]))  # the files its benchmark used
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

    out_path = Path(out).expanduser() if out else default_zip_path(project, lib_name, core.name, suffix, optimize,
                                                                    build_tag(core))
    if out_path.suffix.lower() != ".zip":
        raise UsageError(f"--out {out_path}: the library is a zip file", "Give a path ending in .zip.")

    with scratch_dir("neai-deploy-") as tmp_name:
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
        sections = data.filter.sections if data.filter is not None else 0
        metadata = library_metadata(
            project, record, "anomaly", tgt, core, suffix, header, describe(pipeline), check.as_dict(), min_learn,
            knowledge_bytes, {"axes": axes, "buffer_size": buffer_size, "values_per_line": axes * buffer_size},
            so_name, optimize=optimize,
            estimated_instructions=cost_estimate(anomaly_terms(pipeline, axes, buffer_size, sections), core.name),
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
    *, optimize: str = DEFAULT_OPTIMIZE, estimated_instructions: int | None = None,
) -> dict:
    """metadata.json keys every library type shares (SPEC §3); callers add their own.
    `estimated_instructions`: the cost model's estimate per inference on this core
    (engine/cost.py), shown next to the measured figure."""
    estimated = {"ram_bytes": record["ram_bytes"], "flash_bytes": record["flash_bytes"]}
    timing = inference_timing(measured, target, core, estimated_instructions)
    if estimated_instructions is not None:
        estimated["instructions"] = estimated_instructions
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
        # The Cortex-M build's optimisation ("size" -Os, "speed" -O2…); the
        # measured figures below are those of that build.
        "optimize": optimize,
        "optimize_flag": OPTIMIZE_LEVELS[optimize],
        "build": build_options(core, optimize),
        "target_info": target_info(target, measured),
        "suffix": codegen.check_suffix(suffix)[1:],
        "header": header,
        "pipeline": pipeline_text,
        "pipeline_config": record["pipeline"],
        "frequency_filter": record.get("frequency_filter"),  # applied by the library to every input buffer
        "metrics": record["metrics"],
        "score": record["score"],
        "min_learning_iterations": min_learn,
        "estimated": estimated,
        # How far the search's estimate (which ranked and size-limited the candidates)
        # was from the built ELF: (estimate - measured) / measured, positive = pessimistic.
        "estimate_error_pct": {
            kind: None if not measured.get(f"{kind}_bytes") else
            round(100.0 * (record[f"{kind}_bytes"] - measured[f"{kind}_bytes"]) / measured[f"{kind}_bytes"], 1)
            for kind in ("ram", "flash")
        } | ({"instructions": timing["estimate_error_pct"]} if "estimate_error_pct" in timing else {}),
        "measured": measured,
        # One inference on the target at its clock: measured instructions and the
        # cycles of armrun's timing model (no wait states), then milliseconds.
        "timing": timing,
        "flash_bytes": measured["flash_bytes"],
        "ram_bytes": measured["ram_bytes"],
        "knowledge_bytes": knowledge_bytes,
        "data": data,
        "emulator": {"platform": host_platform(), "shared_library": so_name, "runner": "emulate.py"},
        "tool": {"name": "neai-tui", "version": __version__, "python": platform.python_version()},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def inference_timing(measured: dict, target, core, estimated_instructions: int | None = None) -> dict:
    """metadata.json's "timing": instructions and cycles per inference measured on the
    emulated core, and the time they take at the target's clock."""
    from .targets import clock_mhz

    instructions = measured.get("instructions_per_detect") or measured.get("instructions_per_inference") or 0
    cycles = measured.get("cycles_per_detect") or measured.get("cycles_per_inference") or 0
    clock = clock_mhz(target)
    out = {"clock_mhz": clock, "instructions_per_inference": int(instructions), "cycles_per_inference": int(cycles),
           "ms_per_inference": round(cycles / (clock * 1000.0), 4)}
    if estimated_instructions is not None:
        out["estimated_instructions"] = int(estimated_instructions)
        out["estimated_ms"] = round(cost_milliseconds(estimated_instructions, core.name, clock), 4)
        if instructions:
            out["estimate_error_pct"] = round(100.0 * (estimated_instructions - instructions) / instructions, 1)
    return out


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
    lib_a = compile_static_lib(sources, tmp / "libneai.a", core, include_dirs=includes, opt=opt)
    say("compiling the host build for the emulator")
    host_so = compile_host_shared(sources, tmp / "emulator" / so_name, include_dirs=includes)
    say(f"verifying the {core.name} build against the host build on an emulated core")
    emu_core = emulation_spec(core)
    emu_lib = lib_a
    if emu_core.name != core.name:
        emu_lib = compile_static_lib(sources, tmp / "emu" / "libneai.a", emu_core, include_dirs=includes,
                                     opt=opt)
    symbols = codegen.api_symbols(suffix)
    check = verify_anomaly(emu_lib, host_so, emu_core, symbols, codegen.check_suffix(suffix)[1:],
                           axes, buffer_size, learn_rows, detect_rows, tmp, opt=opt)
    if emu_core.name != core.name:
        real = measure_elf(link_image(lib_a, core, symbols, tmp / "real.elf", opt=opt))
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
                     optimize: str = DEFAULT_OPTIMIZE, variant: str = "") -> Path:
    """deploy/<library>_<core>[_<suffix>][_speed][_softfp…].zip: builds that differ get their own zip
    (``variant``: toolchain.build_tag of the build's other options)."""
    level = "" if optimize == DEFAULT_OPTIMIZE else f"_{optimize}"
    codegen.check_library_id(lib_name)  # never a path: the zip stays in deploy/
    return project.path / "deploy" / f"{lib_name}_{core_name}{codegen.check_suffix(suffix)}{level}{variant}.zip"


def core_flags(core) -> tuple[str, ...]:
    return tuple(getattr(core, "gcc_flags", ()))


def build_options(core, optimize: str) -> dict:
    """metadata.json's record of the compilation options the Cortex-M build used."""
    from .toolchain import target_cflags

    return {
        "optimize": optimize,
        "optimize_flag": OPTIMIZE_LEVELS[optimize],
        "float_abi": core.float_abi,
        "sections": core.sections,
        "extra_flags": list(core.extra_cflags),
        "cflags": target_cflags(core, OPTIMIZE_LEVELS[optimize]),
        "firmware_flags": list(core_flags(core)),
        "verified": "the Cortex-M build was checked against the host build on an emulated core before this zip "
                    "was written",
    }


def target_info(target, measured: dict) -> dict:
    """The target's memory and clock, and the library's share of its memory (the time
    per inference at that clock is metadata.json's "timing")."""
    return {
        "name": target.name, "kind": target.kind, "mcu": target.mcu, "flash_kb": target.flash_kb,
        "ram_kb": target.ram_kb, "clock_mhz": target.clock_mhz, "source": target.source,
        "flash_share": round(measured["flash_bytes"] / (target.flash_kb * 1024), 4) if target.flash_kb else None,
        "ram_share": round(measured["ram_bytes"] / (target.ram_kb * 1024), 4) if target.ram_kb else None,
    }
