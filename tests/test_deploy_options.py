"""Compilation options of a deployment: optimisation level, float ABI (hard / softfp),
-ffunction-/-fdata-sections, allow-listed extra flags; each reaches the Cortex-M build that
is verified against the host build, and metadata.json records it. Also: a library larger
than the target's RAM is refused with the figures."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from neai_tui.engine import toolchain
from neai_tui.engine.errors import UsageError

FAN = Path(__file__).resolve().parent.parent / "sample_data" / "fan"


def neai(*args, code=0):
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True, text=True,
                            timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stdout + result.stderr
    return result


def test_extra_flags_are_allow_listed():
    assert toolchain.check_extra_flags("-funroll-loops -fno-jump-tables -Wno-unused") == (
        "-funroll-loops", "-fno-jump-tables", "-Wno-unused")
    refused = {
        "-I/etc": "names a path", "-include": "names a path", "--sysroot=/x": "names a path", "@flags": "file",
        "-Wl,--defsym=x=1": "linker", "-Wa,-x": "linker", "-Xlinker": "linker",
        "-mfloat-abi=soft": "ABI", "-mcpu=cortex-m7": "ABI", "-fno-short-enums": "ABI", "-target": "ABI",
        "-ffast-math": "float results", "-ffp-contract=fast": "float results", "-O3": "--optimize",
        "-DNEAI_X=1": "configuration", "-fsanitize=address": "runtime", "rm": "not one of",
    }
    for flag, why in refused.items():
        with pytest.raises(UsageError, match=why):
            toolchain.check_extra_flags([flag])


def test_build_variants():
    soft = toolchain.build_variant("cortex-m4f", float_abi="softfp", sections=False, extra_flags=["-funroll-loops"])
    assert (soft.float_abi, soft.hard_float, soft.has_fpu, soft.zig_target) == (
        "softfp", False, True, "thumb-freestanding-eabi")
    assert "-mfloat-abi=softfp" in soft.gcc_flags and "-mfpu=fpv4-sp-d16" in soft.gcc_flags
    flags = toolchain.target_cflags(soft, "-Os")
    assert "-mfloat-abi=softfp" in flags and "-funroll-loops" in flags and "-ffunction-sections" not in flags
    assert toolchain.build_tag(soft).startswith("_softfp_nosections_x")
    assert toolchain.build_tag(toolchain.build_variant("cortex-m4f")) == ""
    assert toolchain.emulation_spec(toolchain.build_variant("cortex-m55", float_abi="softfp")).float_abi == "softfp"
    with pytest.raises(UsageError, match="no FPU"):
        toolchain.build_variant("cortex-m0plus", float_abi="softfp")
    assert toolchain.optimize_flag("fastest") == ("fastest", "-O3")


@pytest.fixture(scope="module")
def fan(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fan")
    d = tmp / "fan"
    neai("new", d, "--type", "anomaly", "--axes", 3, "--target", "NUCLEO-L432KC")
    neai("import", d, FAN / "nominal.csv", "--role", "nominal")
    neai("import", d, FAN / "abnormal.csv", "--role", "abnormal")
    neai("bench", d, "--evals", 150, "--seed", 1, "--cores", 1)
    return d


@pytest.mark.slow
def test_softfp_without_sections_with_flags_is_verified_and_recorded(fan):
    result = neai("deploy", fan, "--float-abi", "softfp", "--no-sections", "--cflags=-funroll-loops",
                  "--optimize", "speed", "--json")
    doc = json.loads(result.stdout)
    meta, path = doc["metadata"], Path(doc["zip"])
    assert path.name.endswith("_speed" + toolchain.build_tag(
        toolchain.build_variant("cortex-m4f", float_abi="softfp", sections=False, extra_flags="-funroll-loops"))
        + ".zip")
    build = meta["build"]
    assert (build["optimize_flag"], build["float_abi"], build["sections"], build["extra_flags"]) == (
        "-O2", "softfp", False, ["-funroll-loops"])
    assert "-mfloat-abi=softfp" in build["cflags"] and "-ffunction-sections" not in build["cflags"]
    assert meta["float_abi"] == "softfp" and "-mfloat-abi=softfp" in meta["flags"]
    assert meta["measured"]["identical"] and meta["measured"]["lines_compared"] > 0
    with zipfile.ZipFile(path) as zf:
        archive = path.parent / "softfp.a"
        archive.write_bytes(zf.read("libneai.a"))
    report = toolchain.verify_static_lib(archive, toolchain.build_variant("cortex-m4f", float_abi="softfp"))
    attrs = report.members[0].attributes
    assert attrs.get("TAG_ABI_VFP_ARGS", 0) == 0 and attrs.get("TAG_FP_ARCH") == 6  # the FPU, soft calls
    assert not [u for u in report.undefined if u.startswith("__aeabi_f")]  # no software floats
    info = meta["target_info"]
    assert (info["name"], info["clock_mhz"], info["ram_kb"]) == ("NUCLEO-L432KC", 80, 64)
    assert meta["timing"]["clock_mhz"] == 80
    assert meta["timing"]["ms_per_inference"] == pytest.approx(meta["measured"]["cycles_per_detect"] / 80_000, rel=1e-3)
    assert "ms per inference at 80 MHz" in neai("deploy", fan, "--out", fan.parent / "default.zip").stdout


def test_refused_flags_stop_before_building(fan):
    bad = neai("deploy", fan, "--cflags=-Wl,--wrap=malloc", code=2)
    assert "refused" in bad.stderr and "compiling" not in bad.stderr
    assert "no FPU" in neai("deploy", fan, "--target", "NUCLEO-G071RB", "--float-abi", "softfp", code=2).stderr


def test_a_library_larger_than_the_target_ram_is_refused(fan):
    """NUCLEO-L011K4 has 2 KB of RAM; the fan's biggest candidates need more. (The refusal
    is engine/limits.py's, from the deploy rework of branch i16; skipped until it is merged.)"""
    pytest.importorskip("neai_tui.engine.limits", reason="deploy's over-limit refusal (branch i16) is not merged")
    libs = json.loads(neai("libs", fan, "--json").stdout)["libraries"]
    big = max(libs, key=lambda lib: lib["ram_bytes"])
    assert big["ram_bytes"] > 2048
    refused = neai("deploy", fan, "--lib", big["id"], "--target", "NUCLEO-L011K4", code=2)
    assert "NUCLEO-L011K4's 2 KB RAM" in refused.stderr and "RAM" in refused.stderr
    assert not list((fan / "deploy").glob(f"{big['id']}_cortex-m0plus*.zip"))
