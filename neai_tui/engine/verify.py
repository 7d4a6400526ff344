"""Verification: the Cortex-M build runs on an emulated core (unicorn) and must
give exactly the host build's outputs; flash, RAM and instructions are measured
from the real binary."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .emulator_runtime import AnomalyLibrary
from .errors import ToolchainError


@dataclass
class Verification:
    lines_compared: int
    identical: bool
    mismatches: int
    flash_bytes: int
    ram_bytes: int  # static RAM + peak stack, excluding the caller's input buffer
    static_ram_bytes: int
    stack_bytes: int
    instructions_per_detect: int
    cycles_per_detect: int
    instructions_per_learn: int
    core: str

    def as_dict(self) -> dict:
        return asdict(self)


def verify_anomaly(
    lib_a: Path,
    host_so: Path,
    core,  # a core name or a CoreSpec (a deployment's build variant)
    symbols: list[str],
    suffix: str,
    axes: int,
    buffer_size: int,
    learn_rows: np.ndarray,
    detect_rows: np.ndarray,
    work_dir: Path,
    *,
    opt: str = "-Os",
) -> Verification:
    """``opt``: the optimisation level ``lib_a`` was built with (the image is linked alike)."""
    from .armrun import ArmMachine, link_image, measure_elf

    from .toolchain import resolve_core

    core_label = resolve_core(core).name
    s = f"_{suffix}" if suffix else ""
    elf = link_image(lib_a, core, symbols, Path(work_dir) / "verify.elf", opt=opt)
    footprint = measure_elf(elf)
    arm = ArmMachine(elf, core)
    host = AnomalyLibrary(host_so, axes, buffer_size, suffix)
    n_values = axes * buffer_size
    buf = arm.alloc(4 * n_values)
    sim_ptr = arm.alloc(4)

    mismatches = 0
    if arm.call(f"neai_anomalydetection_init{s}") != host.init():
        mismatches += 1
    learn_instr = []
    for row in np.asarray(learn_rows, dtype=np.float32):
        arm.write_floats(buf, row)
        st_arm = arm.call(f"neai_anomalydetection_learn{s}", buf)
        learn_instr.append(arm.last_instructions)
        if st_arm != host.learn(row):
            mismatches += 1
    detect_instr, detect_cycles = [], []
    for row in np.asarray(detect_rows, dtype=np.float32):
        arm.write_floats(buf, row)
        arm.write_bytes(sim_ptr, b"\0")
        st_arm = arm.call(f"neai_anomalydetection_detect{s}", buf, sim_ptr)
        detect_instr.append(arm.last_instructions)
        detect_cycles.append(arm.last_cycles)
        st_host, sim_host = host.detect(row)
        if st_arm != st_host or arm.read_u8(sim_ptr) != sim_host:
            mismatches += 1
    static_ram = footprint.ram_bytes
    stack = int(arm.peak_stack_bytes)
    result = Verification(
        lines_compared=len(learn_rows) + len(detect_rows),
        identical=mismatches == 0,
        mismatches=mismatches,
        flash_bytes=footprint.flash_bytes,
        ram_bytes=static_ram + stack,
        static_ram_bytes=static_ram,
        stack_bytes=stack,
        instructions_per_detect=int(max(detect_instr)) if detect_instr else 0,
        cycles_per_detect=int(max(detect_cycles)) if detect_cycles else 0,
        instructions_per_learn=int(max(learn_instr)) if learn_instr else 0,
        core=core_label,
    )
    if not result.identical:
        raise ToolchainError(
            f"the {core_label} build and the host build disagree on {mismatches} of {result.lines_compared} lines",
            "This is a bug in neai-tui: please report it with the project; nothing was deployed.",
        )
    return result
