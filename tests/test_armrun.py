"""The ARM build on an emulated Cortex-M (unicorn) and on QEMU agrees with the host build."""
from __future__ import annotations

import ctypes
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine import armrun, firmware, toolchain
from neai_tui.engine.armrun import ArmMachine
from neai_tui.engine.errors import ToolchainError

FIRMWARE = Path(__file__).parent / "firmware"
PROBE = FIRMWARE / "probe_lib.c"
API = ["probe_dot", "probe_norm", "probe_mix", "probe_weighted", "probe_classify", "probe_count",
       "probe_fft", "probe_reset", "probe_learn", "probe_score"]
CORES = ["cortex-m4f", "cortex-m0plus"]


@pytest.fixture(scope="module", autouse=True)
def build_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEAI_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "neai-cache"))
        yield


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    out = tmp_path_factory.mktemp("images")
    return {core: armrun.link_image(lib_for(core), core, API, out / f"{core}.elf") for core in CORES}


def lib_for(core: str) -> Path:
    return toolchain.cached_build("static", [PROBE], [FIRMWARE], None, core)


@pytest.fixture(scope="module")
def host():
    lib = ctypes.CDLL(str(toolchain.cached_build("shared", [PROBE], [FIRMWARE])))
    f32, i32, u32, fptr = ctypes.c_float, ctypes.c_int32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_float)
    signatures = {
        "probe_norm": (f32, [fptr, u32]),
        "probe_mix": (f32, [f32, i32, f32]),
        "probe_weighted": (f32, [i32, i32, i32, i32, i32, f32, f32]),
        "probe_fft": (f32, [fptr, fptr, u32]),
        "probe_reset": (None, []),
        "probe_learn": (u32, [fptr]),
        "probe_score": (f32, [fptr]),
        "probe_count": (u32, [u32]),
    }
    for name, (restype, argtypes) in signatures.items():
        getattr(lib, name).restype = restype
        getattr(lib, name).argtypes = argtypes
    return lib


def ptr(array: np.ndarray):
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


def bits(x) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def lcg_inputs(n: int, state: int) -> tuple[np.ndarray, int]:
    """The inputs probe_main.c generates: integer LCG scaled by 2^-12, exact in float32."""
    values = np.empty(n, np.float32)
    for i in range(n):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        values[i] = np.float32((state >> 16) - 32768) * np.float32(1.0 / 4096.0)
    return values, state


# --------------------------------------------------------------------------- unicorn


@pytest.mark.parametrize("core", CORES)
def test_float_results_are_bit_identical_to_the_host_build(core, images, host):
    m = ArmMachine(images[core], core)
    rng = np.random.default_rng(7)
    re0 = rng.standard_normal(256).astype(np.float32)
    im0 = rng.standard_normal(256).astype(np.float32)

    re_addr, im_addr = m.alloc_floats(re0), m.alloc_floats(im0)
    arm_energy = m.call("probe_fft", re_addr, im_addr, 8, float_ret=True)
    host_re, host_im = re0.copy(), im0.copy()
    host_energy = host.probe_fft(ptr(host_re), ptr(host_im), 8)
    assert bits(arm_energy) == bits(host_energy)
    assert m.read_floats(re_addr, 256).view(np.uint32).tolist() == host_re.view(np.uint32).tolist()
    assert m.read_floats(im_addr, 256).view(np.uint32).tolist() == host_im.view(np.uint32).tolist()

    norm = m.call("probe_norm", re_addr, 256, float_ret=True)
    assert bits(norm) == bits(host.probe_norm(ptr(host_re), 256))
    assert bits(m.call("probe_mix", 1.1, -7, 0.3, float_ret=True)) == bits(host.probe_mix(1.1, -7, 0.3))
    # five integer arguments: the fifth (and on soft-float the floats too) on the stack
    args = (1, -2, 3, -4, 5, 0.7, 2.5)
    assert bits(m.call("probe_weighted", *args, float_ret=True)) == bits(host.probe_weighted(*args))
    assert m.call("probe_classify", 2.0, 1.0) == 7 and m.call("probe_classify", float("nan"), 1.0) == 0

    m.call("probe_reset")
    host.probe_reset()
    for round_ in range(1, 4):
        x = rng.standard_normal(64).astype(np.float32)
        assert m.call("probe_learn", m.alloc_floats(x)) == round_ == host.probe_learn(ptr(x))
    q = rng.standard_normal(64).astype(np.float32)
    assert bits(m.call("probe_score", m.alloc_floats(q), float_ret=True)) == bits(host.probe_score(ptr(q)))


@pytest.mark.parametrize("core", CORES)
def test_instructions_and_cycles_are_counted(core, images):
    m = ArmMachine(images[core], core)
    counts = []
    for n in (100, 200, 300):
        expected = sum(i * pow(31, n - 1 - i, 1 << 32) for i in range(n)) % (1 << 32)
        assert m.call("probe_count", n) == expected
        counts.append((m.last_instructions, m.last_cycles))
    (i1, c1), (i2, c2), (i3, c3) = counts
    assert i2 - i1 == i3 - i2 > 100  # a loop costs the same per iteration
    assert c2 - c1 == c3 - c2 > i2 - i1  # taken back-branches cost extra cycles
    assert i1 <= c1
    m.call("probe_count", 300, count=False)
    assert m.last_instructions == 0 and m.call("probe_count", 300) == m.call("probe_count", 300, count=False)


@pytest.mark.parametrize("core", CORES)
def test_counting_after_uncounted_calls_counts_everything(core, images):
    # unicorn binds block hooks at translation: code first run uncounted must be
    # translated again, or a later counted call misses it.
    fresh = ArmMachine(images[core], core)
    fresh.call("probe_count", 200)
    expected = fresh.last_instructions
    m = ArmMachine(images[core], core)
    m.call("probe_count", 200, count=False)
    m.call("probe_count", 200)
    assert m.last_instructions == expected > 100


def test_block_counting_equals_per_instruction_hook(images):
    import unicorn

    m = ArmMachine(images["cortex-m0plus"], "cortex-m0plus")
    executed = [0]
    m.uc.hook_add(unicorn.UC_HOOK_CODE, lambda *_: executed.__setitem__(0, executed[0] + 1))
    x = m.alloc_floats(np.linspace(-1, 1, 64))
    m.call("probe_fft", x, m.alloc_floats(np.zeros(64)), 6)
    assert m.last_instructions == executed[0] > 1000


def test_cycle_model_classifies_thumb_instructions():
    def code(*halfwords):
        return b"".join(struct.pack("<H", h) for h in halfwords)

    assert armrun.decode_block(code(0xEE20, 0x0A01)) == (1, 1, True)  # vmul.f32
    assert armrun.decode_block(code(0xEE80, 0x0A20)) == (1, 14, True)  # vdiv.f32
    assert armrun.decode_block(code(0xEEB1, 0x0AC0)) == (1, 14, True)  # vsqrt.f32
    assert armrun.decode_block(code(0xECB0, 0x0A04)) == (1, 5, True)  # vldmia r0!, {s0-s3}
    assert armrun.decode_block(code(0xB530)) == (1, 4, False)  # push {r4, r5, lr}
    assert armrun.decode_block(code(0x6808, 0xF8D1, 0x0400)) == (2, 4, False)  # ldr; ldr.w
    assert armrun.decode_block(code(0xFB91, 0xF0F2, 0x1888)) == (2, 8, False)  # sdiv; adds


def test_stack_use_is_measured(images):
    m = ArmMachine(images["cortex-m0plus"], "cortex-m0plus")
    m.call("probe_count", 10)
    leaf = m.last_stack_bytes
    x = m.alloc_floats(np.ones(64))
    m.call("probe_fft", x, m.alloc_floats(np.zeros(64)), 6)
    assert 0 <= leaf < m.last_stack_bytes == m.peak_stack_bytes < 512
    m.call("probe_count", 10)
    assert m.last_stack_bytes == leaf and m.peak_stack_bytes > leaf


def test_knowledge_persists_until_reset(images):
    m = ArmMachine(images["cortex-m4f"], "cortex-m4f")
    knowledge = m.symbol("knowledge")
    assert armrun.RAM_BASE <= knowledge < armrun.RAM_TOP and m.symbol_size("knowledge") == 256
    m.call("probe_learn", m.alloc_floats(np.full(64, 2.0)))
    assert m.read_floats(knowledge, 64).tolist() == [2.0] * 64
    m.reset()
    assert m.read_floats(knowledge, 64).tolist() == [0.0] * 64


def test_emulator_errors_are_reported(images):
    m = ArmMachine(images["cortex-m4f"], "cortex-m4f")
    with pytest.raises(ToolchainError, match=r"probe_dot\(\) crashed .*\(in probe_dot\+0x"):
        m.call("probe_dot", 0x7000_0000, 0x7000_0000, 4)
    with pytest.raises(ToolchainError, match="no symbol"):
        m.call("missing_function")
    with pytest.raises(ToolchainError, match="has no FPU"):
        ArmMachine(images["cortex-m4f"], "cortex-m4")  # FPU code on the soft-float core
    with pytest.raises(ToolchainError, match="not a hard-float"):
        ArmMachine(images["cortex-m0plus"], "cortex-m4f")
    with pytest.raises(ToolchainError, match="Armv8.1-M") as err:
        ArmMachine(images["cortex-m4f"], "cortex-m55")
    assert "cortex-m33" in err.value.hint


# --------------------------------------------------------------------------- footprint


def test_footprint_of_the_library(tmp_path):
    fp = armrun.measure_library(lib_for("cortex-m4f"), "cortex-m4f", API)
    assert 400 < fp.flash_bytes < 2000
    assert fp.flash_bytes == sum(size for name, size in fp.sections.items() if name not in (".bss", ".neai"))
    assert fp.knowledge_bytes == fp.sections[".neai"] == 256
    assert fp.ram_bytes == 256 + 4  # knowledge + the learn counter
    assert fp.runtime_helper_bytes == 0  # the FPU does the float maths
    assert next(iter(fp.symbols)) == "probe_fft"  # largest first

    soft = armrun.measure_library(lib_for("cortex-m0plus"), "cortex-m0plus", API)
    assert soft.runtime_helper_bytes > 1000  # compiler_rt's soft-float routines
    assert soft.flash_bytes > fp.flash_bytes + soft.runtime_helper_bytes // 2

    only_dot = armrun.measure_library(lib_for("cortex-m4f"), "cortex-m4f", ["probe_dot"])
    assert only_dot.flash_bytes < 100 and only_dot.ram_bytes == 256  # gc-sections; .neai is kept

    harness = tmp_path / "harness.c"
    harness.write_text("float input_buffer[256];\n")
    with_buffer = armrun.measure_library(lib_for("cortex-m4f"), "cortex-m4f", [*API, "input_buffer"],
                                         ["input_buffer"], extra_sources=[harness])
    assert with_buffer.excluded_bytes == 1024 and with_buffer.ram_bytes == fp.ram_bytes
    with pytest.raises(ToolchainError, match="does not define no_such_api"):
        armrun.measure_library(lib_for("cortex-m4f"), "cortex-m4f", ["no_such_api"])


# --------------------------------------------------------------------------- QEMU firmware


def host_reference(host) -> dict[str, int]:
    """What probe_main.c prints, computed by the host build."""
    re_, state = lcg_inputs(256, 12345)
    im_ = np.zeros(256, np.float32)
    out = {"fft": bits(host.probe_fft(ptr(re_), ptr(im_), 8))}
    out["norm"] = bits(host.probe_norm(ptr(re_), 256))
    out["mix"] = bits(host.probe_mix(2.5, -3, 1.0))
    host.probe_reset()
    for _ in range(3):
        x, state = lcg_inputs(64, state)
        host.probe_learn(ptr(x))
    out["score"] = bits(host.probe_score(ptr(x)))
    return out


needs_firmware_tools = pytest.mark.skipif(
    not (firmware.gcc_available() and firmware.qemu_available()),
    reason="arm-none-eabi-gcc with newlib and qemu-system-arm are needed",
)


@pytest.mark.firmware
@needs_firmware_tools
def test_gcc_firmware_on_qemu_prints_the_host_results(tmp_path, host):
    elf = firmware.build_firmware(FIRMWARE / "probe_main.c", lib_for("cortex-m4f"), FIRMWARE,
                                  tmp_path / "fw.elf", core="cortex-m4f", fatal_warnings=True)
    output = firmware.run_qemu(elf, timeout=30)
    printed = {name: int(value, 16) for name, value in re.findall(r"^(\w+)=([0-9a-f]{8}) ", output, re.M)}
    assert printed == host_reference(host)
    assert "classify=7" in output and output.rstrip().endswith("done")


@pytest.mark.firmware
@needs_firmware_tools
def test_firmware_exit_code_and_compile_check(tmp_path):
    main = tmp_path / "main.c"
    main.write_text('#include <stdio.h>\n#include "probe_lib.h"\n'
                    'int main(void) { printf("%d\\n", (int)probe_classify(0.5f, 1.0f)); return 5; }\n')
    elf = firmware.build_firmware(main, lib_for("cortex-m4f"), FIRMWARE, tmp_path / "fw.elf")
    assert firmware.run_qemu(elf, check=False) == "3\n"
    with pytest.raises(ToolchainError, match="exited with code 5"):
        firmware.run_qemu(elf)
    assert firmware.compile_only(main, FIRMWARE, lib_for("cortex-m0plus"), "cortex-m0plus") == ""
    # a library for the wrong float ABI does not link
    with pytest.raises(ToolchainError, match="VFP register arguments"):
        firmware.compile_only(main, FIRMWARE, lib_for("cortex-m0plus"), "cortex-m4f")
