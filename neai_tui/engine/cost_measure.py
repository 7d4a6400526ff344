"""Measure what engine/cost.py estimates: instructions per inference of real
libraries, built for a Cortex-M core and run under unicorn.

Used by bench/measure_costs.py (which fits cost.COEFFS to these measurements)
and tests/test_cost.py (which checks the estimate against them). The libraries
are generated and compiled exactly as `neai deploy` does (codegen, toolchain,
-Os), and linked with armrun's image like deploy's verification.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Measured:
    instructions: int  # per inference, the largest over the lines run
    cycles: int  # armrun's estimate for the same call
    mean_instructions: float


def _run(lib_a: Path, core: str, symbols: list[str], work: Path, learn_fn: str | None, infer_fn: str,
         values: int, learn_rows, detect_rows, out_bytes: int = 4) -> Measured:
    from .armrun import ArmMachine, link_image

    elf = link_image(lib_a, core, symbols, work / "cost.elf")
    arm = ArmMachine(elf, core)
    buf = arm.alloc(4 * values)
    out = arm.alloc(max(8, out_bytes))
    init = symbols[0]
    arm.call(init, count=False)
    if learn_fn:
        for row in np.asarray(learn_rows, dtype=np.float32):
            arm.write_floats(buf, row)
            arm.call(learn_fn, buf, count=False)
    instr, cyc = [], []
    for row in np.asarray(detect_rows, dtype=np.float32):
        arm.write_floats(buf, row)
        arm.call(infer_fn, buf, out)
        instr.append(arm.last_instructions)
        cyc.append(arm.last_cycles)
    return Measured(int(max(instr)), int(max(cyc)), float(np.mean(instr)))


def measure_anomaly(pipeline: dict, axes: int, buffer_size: int, core: str, learn_rows, detect_rows,
                    frequency_filter: dict | None = None, opt: str = "-Os") -> Measured:
    """Instructions per detect() of the anomaly library of `pipeline` on `core`,
    after learning `learn_rows` (the model's slots fill up as on a device)."""
    from . import codegen
    from .csearch import c_lib_dir
    from .pipeline import nb_features, state_floats
    from .toolchain import compile_static_lib

    dim = nb_features(pipeline["pre"], axes, buffer_size)
    with tempfile.TemporaryDirectory(prefix="neai-cost-") as tmp_name:
        tmp = Path(tmp_name)
        gen = tmp / "gen"
        gen.mkdir()
        header = codegen.header_name(None)
        (gen / header).write_text(codegen.anomaly_header("cost", axes, buffer_size, 2,
                                                         4 * state_floats(pipeline["model"], dim), None))
        (gen / "neai_config.h").write_text(codegen.anomaly_config("cost", pipeline, axes, buffer_size, 2, None,
                                                                  frequency_filter))
        lib_a = compile_static_lib([c_lib_dir() / "neai_anomaly.c"], tmp / "libneai.a", core,
                                   include_dirs=[gen, c_lib_dir()], opt=opt)
        return _run(lib_a, core, codegen.api_symbols(None), tmp, "neai_anomalydetection_learn",
                    "neai_anomalydetection_detect", axes * buffer_size, learn_rows, detect_rows)


def measure_multisensor(pipeline: dict, variables: int, core: str, learn_samples, detect_samples) -> Measured:
    """Instructions per detect() (one sample, the window full) of a Multi-sensor library."""
    from . import codegen
    from .deploy_multisensor import generate_sources
    from .toolchain import compile_static_lib

    with tempfile.TemporaryDirectory(prefix="neai-cost-") as tmp_name:
        tmp = Path(tmp_name)
        gen = tmp / "gen"
        gen.mkdir()
        sources, includes = generate_sources(gen, "cost", pipeline, variables, 2, None)
        lib_a = compile_static_lib(sources, tmp / "libneai.a", core, include_dirs=includes)
        return _run(lib_a, core, codegen.api_symbols(None), tmp, "neai_anomalydetection_learn",
                    "neai_anomalydetection_detect", variables, learn_samples, detect_samples)


def measure_trained(fitted, pre: dict, axes: int, buffer_size: int, core: str, rows,
                    frequency_filter: dict | None = None) -> Measured:
    """Instructions per inference of a trained library (the fitted model of `pre`)."""
    from . import codegen, codegen_trained, trained
    from .csearch import c_lib_dir
    from .toolchain import compile_static_lib

    lib_type = fitted.task
    with tempfile.TemporaryDirectory(prefix="neai-cost-") as tmp_name:
        tmp = Path(tmp_name)
        gen = tmp / "gen"
        gen.mkdir()
        knowledge = np.ascontiguousarray(fitted.knowledge(), dtype=np.float32)
        (gen / "neai_config.h").write_text(trained.config_header(fitted, pre, axes, buffer_size, "cost", None,
                                                                 frequency_filter))
        classes = [f"c{i}" for i in range(fitted.n_classes or 0)] if lib_type == "n-class" else []
        (gen / codegen.header_name(None)).write_text(codegen_trained.public_header(
            lib_type, "cost", axes, buffer_size, None, classes=classes, knowledge_floats=len(knowledge)))
        (gen / codegen_trained.knowledge_header_name(None)).write_text(trained.knowledge_header(fitted, "cost", None))
        lib_a = compile_static_lib([c_lib_dir() / codegen_trained.source_file(lib_type)], tmp / "libneai.a", core,
                                   include_dirs=[gen, c_lib_dir()])
        symbols = codegen_trained.api_symbols(lib_type, None)
        from .armrun import ArmMachine, link_image

        arm = ArmMachine(link_image(lib_a, core, symbols, tmp / "cost.elf"), core)
        kptr = arm.alloc(4 * len(knowledge))
        arm.write_floats(kptr, knowledge)
        if arm.call(symbols[0], kptr, count=False) != 0:
            raise RuntimeError("the trained library refused its knowledge")
        buf = arm.alloc(4 * axes * buffer_size)
        out = arm.alloc(4 * max(2, fitted.n_out + 1))
        idp = arm.alloc(4)
        instr, cyc = [], []
        for row in np.asarray(rows, dtype=np.float32):
            arm.write_floats(buf, row)
            if lib_type == "n-class":
                arm.call(symbols[1], buf, out, idp)
            else:
                arm.call(symbols[1], buf, out)
            instr.append(arm.last_instructions)
            cyc.append(arm.last_cycles)
        return Measured(int(max(instr)), int(max(cyc)), float(np.mean(instr)))
