"""The bundled compiler: every core builds, the archive is checked, builds are cached."""
from __future__ import annotations

import ctypes
import dataclasses
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine import targets, toolchain
from neai_tui.engine.errors import ToolchainError, UsageError

FIRMWARE = Path(__file__).parent / "firmware"
PROBE = FIRMWARE / "probe_lib.c"


@pytest.fixture(scope="module", autouse=True)
def build_cache(tmp_path_factory):
    """All builds of the test run share one cache outside the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEAI_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "neai-cache"))
        yield


def f32_bits(x) -> int:
    return int(np.float32(x).view(np.uint32))


# --------------------------------------------------------------------------- cores


def test_core_table_matches_the_target_catalogue():
    assert tuple(toolchain.CORES) == targets.CORE_NAMES
    for spec in toolchain.CORES.values():
        assert f"-mfloat-abi={spec.float_abi}" in spec.gcc_flags
        assert spec.hard_float == (spec.fpu is not None) == spec.zig_target.endswith("eabihf")
        assert spec.hard_float == ("+" in spec.mcpu)  # zig has no FPU without a feature


def test_resolve_core_accepts_spellings_and_lists_valid_names():
    assert toolchain.resolve_core("Cortex_M4F").name == "cortex-m4f"
    with pytest.raises(UsageError) as err:
        toolchain.resolve_core("cortex-m99")
    assert "cortex-m0plus" in err.value.hint


def test_deployment_optimisation_names_map_to_compiler_levels():
    assert toolchain.optimize_flag(None) == ("size", toolchain.DEFAULT_OPT) == ("size", "-Os")
    assert toolchain.optimize_flag(" Speed ") == ("speed", "-O2")
    with pytest.raises(UsageError, match="unknown optimisation 'fast'") as err:
        toolchain.optimize_flag("fast")
    assert "size" in err.value.hint and "speed" in err.value.hint


def test_m55_is_emulated_through_its_m33_build():
    assert toolchain.emulation_spec("cortex-m55").name == "cortex-m33"
    assert toolchain.emulation_spec("cortex-m4f").name == "cortex-m4f"


@pytest.mark.parametrize("core", list(toolchain.CORES))
def test_every_core_builds_a_verified_archive(core, tmp_path):
    spec = toolchain.resolve_core(core)
    lib = toolchain.compile_static_lib([PROBE], tmp_path / "libprobe.a", core)
    report = toolchain.verify_static_lib(lib, core)
    (member,) = report.members
    attrs = member.attributes
    assert attrs["TAG_CPU_NAME"] == spec.cpu_name
    assert attrs["TAG_CPU_ARCH"] in spec.cpu_arch
    assert attrs["TAG_ABI_ENUM_SIZE"] == 1  # short enums, like arm-none-eabi-gcc
    assert ".neai" in member.sections and not any(s.startswith(".debug") for s in member.sections)
    if spec.hard_float:
        assert attrs["TAG_ABI_VFP_ARGS"] == 1
        assert attrs["TAG_FP_ARCH"] == spec.fp_arch
        assert not [u for u in report.undefined if u.startswith("__aeabi_f")]  # FPU does float maths
    else:
        assert attrs.get("TAG_ABI_VFP_ARGS", 0) == 0 and attrs.get("TAG_FP_ARCH", 0) == 0
        assert "__aeabi_fmul" in report.undefined and "sqrtf" in report.undefined
    assert report.soft_double == []  # the probe is float-only


# --------------------------------------------------------------------------- verification


def test_m4_without_fpu_tagged_hard_float_is_refused(tmp_path):
    # The trap: zig's plain cortex_m4 with an eabihf target compiles soft-float code
    # but tags it hard-float; a hard-float firmware links it and gets wrong numbers.
    trap = dataclasses.replace(toolchain.CORES["cortex-m4f"], name="m4-trap", mcpu="cortex_m4")
    out = tmp_path / "libtrap.a"
    with pytest.raises(ToolchainError, match="without an FPU"):
        toolchain.compile_static_lib([PROBE], out, trap)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_fpu_archive_is_refused_for_a_soft_float_core(tmp_path):
    lib = toolchain.compile_static_lib([PROBE], tmp_path / "m4f.a", "cortex-m4f")
    with pytest.raises(ToolchainError, match="no FPU|calling convention"):
        toolchain.verify_static_lib(lib, "cortex-m4")


def _source(tmp_path: Path, text: str, name: str = "x.c") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_heap_stdio_and_unknown_calls_are_refused(tmp_path):
    heap = _source(tmp_path, "void *malloc(unsigned n);\nint printf(const char *f, ...);\n"
                             "void *get(void) { printf(\"x\"); return malloc(4); }\n")
    with pytest.raises(ToolchainError, match="heap, stdio.*malloc, printf"):
        toolchain.compile_static_lib([heap], tmp_path / "a.a", "cortex-m4f")
    libm = _source(tmp_path, "float expf(float);\nfloat e(float x) { return expf(x); }\n", "e.c")
    with pytest.raises(ToolchainError, match="does not define: expf"):
        toolchain.compile_static_lib([libm], tmp_path / "b.a", "cortex-m4f")
    toolchain.compile_static_lib([libm], tmp_path / "b.a", "cortex-m4f", allow_undefined=["expf"])


def test_constructors_are_refused(tmp_path):
    # volatile, or clang evaluates the constructor at compile time into .data
    ctor = _source(tmp_path, "volatile int v;\n__attribute__((constructor)) static void init(void) { v = 1; }\n")
    with pytest.raises(ToolchainError, match="constructors"):
        toolchain.compile_static_lib([ctor], tmp_path / "c.a", "cortex-m0plus")


def test_warnings_fail_the_build_with_the_compiler_message(tmp_path):
    bad = _source(tmp_path, "int f(int a) { int unused; return a; }\n")
    with pytest.raises(ToolchainError) as err:
        toolchain.compile_static_lib([bad], tmp_path / "d.a", "cortex-m4f")
    assert "unused" in err.value.message and err.value.hint


def test_archive_members_are_listed_with_their_symbols(tmp_path):
    a = _source(tmp_path, "int fa(int x);\nint fb(int x) { return fa(x) + 1; }\n", "b.c")
    b = _source(tmp_path, "int fa(int x) { return 2 * x; }\n", "a_file_with_a_rather_long_name.c")
    lib = toolchain.compile_static_lib([a, b], tmp_path / "two.a", "cortex-m3", defines={"UNUSED": "1"})
    names = [name for name, _ in toolchain.iter_ar_members(lib)]
    assert names == ["00_b.o", "01_a_file_with_a_rather_long_name.o"]
    report = toolchain.verify_static_lib(lib, "cortex-m3")
    assert report.undefined == []  # fa is defined by the other member


# --------------------------------------------------------------------------- cache


def test_cached_build_reuses_and_invalidates(tmp_path):
    src = _source(tmp_path, '#include "k.h"\nfloat k(float x) { return x * K; }\n', "k.c")
    header = _source(tmp_path, "#define K 2.0f\n", "k.h")
    first = toolchain.cached_build("static", [src], [], None, "cortex-m4f")
    stamp = first.stat().st_mtime_ns
    assert toolchain.cached_build("static", [src], [], None, "cortex-m4f") == first
    assert first.stat().st_mtime_ns == stamp
    assert str(first).startswith(os.environ["NEAI_CACHE_DIR"])
    other_core = toolchain.cached_build("static", [src], [], None, "cortex-m0plus")
    other_define = toolchain.cached_build("static", [src], [], {"X": "1"}, "cortex-m4f")
    header.write_text("#define K 3.0f\n")
    other_header = toolchain.cached_build("static", [src], [], None, "cortex-m4f")
    assert len({first, other_core, other_define, other_header}) == 4
    with pytest.raises(UsageError):
        toolchain.cached_build("static", [src], [], None, None)


def test_concurrent_cached_builds_publish_one_complete_file(tmp_path):
    src = _source(tmp_path, "unsigned twice(unsigned x) { return 2u * x; }\n")
    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(pool.map(lambda _: toolchain.cached_build("static", [src], [], None, "cortex-m7"), range(4)))
    assert len(set(paths)) == 1
    toolchain.verify_static_lib(paths[0], "cortex-m7")
    assert [p.name for p in paths[0].parent.iterdir()] == ["libneai.a"]  # no temporaries left


# --------------------------------------------------------------------------- host builds


def test_host_shared_library_computes_like_numpy_float32(tmp_path):
    so = toolchain.cached_build("shared", [PROBE], [FIRMWARE])
    lib = ctypes.CDLL(str(so))
    lib.probe_mix.restype = ctypes.c_float
    lib.probe_mix.argtypes = [ctypes.c_float, ctypes.c_int32, ctypes.c_float]
    lib.probe_classify.restype = ctypes.c_int
    lib.probe_classify.argtypes = [ctypes.c_float, ctypes.c_float]
    x, k, y = np.float32(1.1), -7, np.float32(0.3)
    expected = x * np.float32(k) - y / np.float32(3.0)
    assert f32_bits(lib.probe_mix(x, k, y)) == f32_bits(expected)
    assert lib.probe_classify(2.0, 1.0) == 7 and lib.probe_classify(float("nan"), 1.0) == 0


def test_host_executable_runs(tmp_path):
    main = _source(tmp_path, '#include <stdio.h>\n#include "probe_lib.h"\n'
                             'int main(void) { printf("%d\\n", (int)probe_classify(0.5f, 1.0f)); return 0; }\n',
                   "main.c")
    exe = toolchain.compile_host_executable([main, PROBE], tmp_path / "probe", include_dirs=[FIRMWARE])
    assert subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout == "3\n"
