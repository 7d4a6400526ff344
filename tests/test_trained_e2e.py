"""Trained libraries (1-class, n-class, extrapolation) from benchmark to zip, emulator
and firmware, through the `neai` command line as a user runs it (SPEC §2-4).

Per type: new -> import -> bench --evals --seed --cores 1 -> deploy (plain and
`--suffix vib`) -> emulate. Checked: the JSON shapes of SPEC §2; the zip's files and
metadata (the ARM build equalled the host build at deploy time); the zip's own runner
gives what `neai emulate` gives; the C API's error states; `--learn` is refused.
With arm-none-eabi-gcc: the zip's main.c + knowledge.h + libneai.a compile and link
as is (plain and suffixed); with QEMU too: the Hello World with its placeholders
filled in prints, on an emulated Cortex-M4F, exactly what `neai emulate` gives, and
two suffixed n-class libraries link into one firmware.

The data are the shipped samples' generator with fewer lines (sample_trained.py).
Values cross to the firmware as float32 text that reads back to the same bits on
both sides (see test_firmware_e2e.py); outputs come back as raw float32 bits.
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from neai_tui.engine import firmware
from neai_tui.engine.sample_trained import (
    BUFFER_SIZE,
    NB_AXES,
    bundled_dir,
    format_lines,
    generate_trained_datasets,
    generate_trained_samples,
)

from .test_firmware_e2e import float32_text, user_blocks, write_c_lines, write_csv

CORE = "cortex-m4f"
TYPES = ("n-class", "one-class", "extrapolation")
MODES = {"n-class": "--classify", "one-class": "--outlier", "extrapolation": "--extrapolate"}
METRICS = {
    "n-class": {"balanced_accuracy", "accuracy", "f1", "mcc", "certainty"},
    "one-class": {"recall"},
    "extrapolation": {"r2", "smape", "rmse"},
}
COUNTS = {"per_class": 20, "normal": 40, "other": 12, "speed": 48, "speed_try": 8}
EVALS = 60  # within generation 0 (screening); the same best as 100 here, and the file stays < 120 s
VALUES = NB_AXES * BUFFER_SIZE

needs_gcc = pytest.mark.skipif(not firmware.gcc_available(), reason="arm-none-eabi-gcc with newlib is needed")
needs_qemu = pytest.mark.skipif(
    not (firmware.gcc_available() and firmware.qemu_available()),
    reason="arm-none-eabi-gcc with newlib and qemu-system-arm are needed",
)


def neai(*args, env, code: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    return result


@pytest.fixture(scope="module")
def samples():
    return generate_trained_samples(seed=5, counts=COUNTS)


@pytest.fixture(scope="module", params=TYPES)
def built(request, samples, tmp_path_factory):
    """One project of the type, benchmarked and deployed (plain and suffixed) through the CLI."""
    lib_type = request.param
    tmp = tmp_path_factory.mktemp(lib_type)
    env = {**os.environ, "NEAI_WORKSPACE": str(tmp / "workspace")}
    d = tmp / "proj"
    neai("new", d, "--type", lib_type, "--axes", NB_AXES, env=env)
    if lib_type == "n-class":
        for name, rows in samples.nclass.items():
            path = tmp / f"{name}.csv"
            path.write_text(format_lines(rows))
            neai("import", d, path, env=env)  # the class is the file's stem
        try_rows = np.vstack([rows[:3] for rows in samples.nclass.values()])
    elif lib_type == "one-class":
        (tmp / "normal.csv").write_text(format_lines(samples.oneclass_normal))
        neai("import", d, tmp / "normal.csv", env=env)
        try_rows = np.vstack([samples.oneclass_normal[:6], samples.oneclass_other[:6]])
    else:
        (tmp / "speed.csv").write_text(format_lines(samples.speed, samples.speed_rpm))
        neai("import", d, tmp / "speed.csv", env=env)
        try_rows = samples.try_lines
    bench = json.loads(neai("bench", d, "--evals", EVALS, "--seed", 1, "--cores", 1, "--json", env=env).stdout)
    plain, vib = tmp / "lib.zip", tmp / "vib.zip"
    neai("deploy", d, "--out", plain, env=env)
    neai("deploy", d, "--suffix", "vib", "--out", vib, env=env)
    out = {"type": lib_type, "tmp": tmp, "env": env, "dir": d, "bench": bench, "zip": plain, "vib_zip": vib}
    for key, z in (("plain", plain), ("vib", vib)):
        with zipfile.ZipFile(z) as zf:
            out[f"{key}_names"] = set(zf.namelist())
            zf.extractall(tmp / key)
        out[key] = tmp / key
    out["meta"] = json.loads((out["plain"] / "metadata.json").read_text())
    text = float32_text(try_rows)
    out["lines_c"] = text["c"]
    out["lines_csv"] = write_csv(tmp / "try.csv", text["csv"])
    doc = json.loads(neai("emulate", plain, MODES[lib_type], out["lines_csv"], "--json", env=env).stdout)
    out["results"] = doc["results"]
    return out


# ------------------------------------------------------------------------ the CLI


def test_bench_json(built):
    best = built["bench"]["best"]
    assert set(best) >= {"id", "score", "metrics", "ram_bytes", "flash_bytes", "pipeline"}
    assert METRICS[built["type"]] <= set(best["metrics"])
    libs = json.loads(neai("libs", built["dir"], "--json", env=built["env"]).stdout)["libraries"]
    assert best["id"] in {lib["id"] for lib in libs}


def test_zip_contents_and_metadata(built):
    s = "_vib"
    assert {"libneai.a", "NanoEdgeAI.h", "knowledge.h", "metadata.json", "main.c", "emulator/emulate.py",
            "emulator/knowledge.bin", "emulator/libneai_emulator.so"} <= built["plain_names"]
    assert {f"NanoEdgeAI{s}.h", f"knowledge{s}.h"} <= built["vib_names"]
    meta = built["meta"]
    assert meta["type"] == built["type"] and meta["library_id"] == built["bench"]["best"]["id"]
    assert meta["core"] == CORE and meta["float_abi"] == "hard"
    measured = meta["measured"]
    assert measured["identical"] and measured["lines_compared"] >= 24
    assert measured["instructions_per_inference"] > 0
    # The knowledge is const data in the user's flash: counted in flash, reported apart.
    knowledge_bytes = (built["plain"] / "emulator" / "knowledge.bin").stat().st_size
    assert measured["knowledge_bytes"] == knowledge_bytes == meta["knowledge_bytes"]
    assert measured["flash_bytes"] == measured["code_flash_bytes"] + knowledge_bytes
    header = (built["plain"] / "NanoEdgeAI.h").read_text()
    assert f"#define NB_AXES {NB_AXES}" in header and f"#define BUFFER_SIZE {BUFFER_SIZE}" in header
    if built["type"] == "n-class":
        assert meta["classes"] == ["normal", "imbalance", "obstruction", "tapping"]
        assert "#define CLASS_NUMBER 4" in header
        assert re.search(r'id2class\[CLASS_NUMBER \+ 1\] = \{\s*"unknown",\s*"normal"', header)
        vib_header = (built["vib"] / f"NanoEdgeAI{s}.h").read_text()
        assert "id2class_vib[CLASS_NUMBER_vib + 1]" in vib_header
    vib_meta = json.loads((built["vib"] / "metadata.json").read_text())
    assert vib_meta["suffix"] == "vib" and vib_meta["measured"]["identical"]


def test_emulate_json_shapes(built):
    results = built["results"]
    assert len(results) == len(built["lines_c"])
    assert all("status" not in r for r in results), results
    if built["type"] == "n-class":
        classes = built["meta"]["classes"]
        for r in results:
            assert set(r) == {"class", "id", "probabilities"}
            assert 1 <= r["id"] <= len(classes) and r["class"] == classes[r["id"] - 1]
            assert len(r["probabilities"]) == len(classes) and int(np.argmax(r["probabilities"])) + 1 == r["id"]
        # 3 lines of each class, in class order: most are recognised
        ids = [r["id"] for r in results]
        assert np.mean([i == k // 3 + 1 for k, i in enumerate(ids)]) >= 0.5, ids
    elif built["type"] == "one-class":
        assert all(set(r) == {"outlier"} and isinstance(r["outlier"], bool) for r in results)
        flags = [r["outlier"] for r in results]
        # 6 normal lines, then 6 faults: a short benchmark's library still tells them apart
        assert sum(flags[:6]) <= 2 and sum(flags[6:]) > sum(flags[:6]), flags
    else:
        assert all(set(r) == {"value"} and isinstance(r["value"], float) for r in results)
        truth = generate_trained_samples(seed=5, counts=COUNTS).try_rpm
        assert np.corrcoef([r["value"] for r in results], truth)[0, 1] > 0.5


def test_zip_runner_matches_emulate(built):
    """The zip's emulator/emulate.py (standard library only) gives what `neai emulate` gives."""
    own = subprocess.run([sys.executable, built["plain"] / "emulator" / "emulate.py", built["lines_csv"]],
                         capture_output=True, text=True, check=True, env={"PATH": os.environ.get("PATH", "")})
    assert json.loads(own.stdout)["results"] == built["results"]


def test_learn_and_wrong_mode_refused(built):
    env, z, f = built["env"], built["zip"], built["lines_csv"]
    r = neai("emulate", z, "--learn", f, MODES[built["type"]], f, "--json", env=env, code=2)
    assert "does not learn" in r.stderr and r.stdout == ""
    r = neai("emulate", z, "--detect", f, env=env, code=2)
    assert MODES[built["type"]] in r.stderr


def test_c_api_states(built):
    """Host build: inference before init, foreign knowledge, NaN input (outputs untouched)."""
    meta = built["meta"]
    lib = ctypes.CDLL(str(built["plain"] / "emulator" / meta["emulator"]["shared_library"]))
    api = {"n-class": "classification", "one-class": "oneclass", "extrapolation": "extrapolation"}[built["type"]]
    init, infer = getattr(lib, f"neai_{api}_init"), getattr(lib, f"neai_{api}")
    init.restype = infer.restype = ctypes.c_int
    knowledge_data = (built["plain"] / "emulator" / "knowledge.bin").read_bytes()
    knowledge = (ctypes.c_float * (len(knowledge_data) // 4)).from_buffer_copy(knowledge_data)
    buf = (ctypes.c_float * VALUES)(*np.asarray(built["lines_c"][0], dtype=np.float32))
    outs = [(ctypes.c_float * 8)(*([7.0] * 8)), ctypes.c_uint16(77)]
    args = {"n-class": [outs[0], ctypes.byref(outs[1])], "one-class": [ctypes.byref(ctypes.c_uint8(9))],
            "extrapolation": [outs[0]]}[built["type"]]
    assert infer(buf, *args) == 123  # NEAI_INIT_FCT_NOT_CALLED
    assert init((ctypes.c_float * len(knowledge))()) == 125  # NEAI_KNOWLEDGE_BUFFER_ERROR
    assert infer(buf, *args) == 123  # a refused init leaves the library uninitialised
    assert init(knowledge) == 0 and infer(buf, *args) == 0
    buf[5] = float("nan")
    outs[0][0] = 7.0
    assert infer(buf, *args) == 128  # NEAI_UNKNOWN_ERROR
    if built["type"] != "one-class":
        assert outs[0][0] == 7.0  # left untouched


def test_soft_float_core(built):
    """The same project deployed for a Cortex-M0+ (soft float) is verified too."""
    if built["type"] != "extrapolation":
        pytest.skip("one type is enough for another core")
    out = built["tmp"] / "m0.zip"
    neai("deploy", built["dir"], "--target", "cortex-m0plus", "--out", out, env=built["env"])
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("metadata.json"))
    assert meta["core"] == "cortex-m0plus" and meta["float_abi"] == "soft" and meta["measured"]["identical"]
    assert meta["knowledge_bytes"] == built["meta"]["knowledge_bytes"]


def test_shipped_samples_match_the_generator(tmp_path):
    written = generate_trained_datasets(tmp_path)
    assert len(written) == 9
    for name, path in written.items():
        kind, file = name.split("/")
        shipped = bundled_dir(kind)
        assert shipped is not None, f"sample_data/{kind} is missing"
        assert (shipped / file).read_bytes() == path.read_bytes(), f"sample_data/{name} differs from the generator"


# ----------------------------------------------------------------------- firmware


@needs_gcc
def test_hello_world_compiles_and_links_as_is(built):
    for key, s in (("plain", ""), ("vib", "_vib")):
        folder = built[key]
        main_c = (folder / "main.c").read_text()
        assert f'#include "NanoEdgeAI{s}.h"' in main_c and f'#include "knowledge{s}.h"' in main_c
        warnings = firmware.compile_only(folder / "main.c", folder, folder / "libneai.a", CORE)
        assert warnings == "", warnings


def firmware_from_hello_world(main_c: str, lib_type: str, n_lines: int) -> str:
    """The zip's main.c with its two USER blocks filled in: copy line t of the test data,
    print the result as raw float32 bits; inference stops after n_lines."""
    blocks = user_blocks(main_c)
    assert len(blocks) == 2, "the Hello World should have two USER blocks (fill_buffer, after inference)"
    (fb_start, fb_end), (act_start, act_end) = blocks
    fill = (
        "/* USER BEGIN: copy line t of the test data */\n"
        "    static uint32_t t = 0;\n"
        "    uint32_t i;\n"
        "    for (i = 0; i < DATA_INPUT_USER * AXIS_NUMBER; i++) {\n"
        "        input_buffer[i] = lines[t][i];\n"
        "    }\n"
        "    t++;\n"
        "    /* USER END */"
    )
    if lib_type == "n-class":
        act = ('        printf("id=%u", (unsigned)id_class);\n'
               "        for (k = 0; k < CLASS_NUMBER; k++) {\n"
               '            printf(" %08lx", (unsigned long)bits(output_class_buffer[k]));\n'
               "        }\n"
               '        printf("\\n");\n')
    elif lib_type == "one-class":
        act = '        printf("outlier=%u\\n", (unsigned)is_outlier);\n'
    else:
        act = '        printf("value=%08lx\\n", (unsigned long)bits(extrapolated_value));\n'
    act = "/* USER BEGIN: print the result */\n" + act + "        /* USER END */"
    text = main_c[:fb_start] + fill + main_c[fb_end:act_start] + act + main_c[act_end:]
    helpers = ('#include <stdio.h>\n#include <string.h>\n#include "lines.h"\n'
               "uint32_t bits(float f);\n"
               "uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }\n")
    assert text.count("#include <stdint.h>\n") == 1
    text = text.replace("#include <stdint.h>\n", "#include <stdint.h>\n" + helpers)
    assert text.count("    while (1) {\n") == 1
    text = text.replace("    while (1) {\n", f"    uint32_t k, n;\n    (void)k;\n    for (n = 0; n < {n_lines}u; n++) {{\n")
    assert text.endswith("    }\n}\n")
    return text[: -len("}\n")] + '    printf("done\\n");\n    return 0;\n}\n'


def printed_results(output: str, lib_type: str, classes: list[str]) -> list[dict]:
    def f32(hex_bits: str) -> float:
        return float(np.array([int(hex_bits, 16)], dtype=np.uint32).view(np.float32)[0])

    out = []
    for line in output.splitlines():
        if lib_type == "n-class" and line.startswith("id="):
            ident, *proba = line[3:].split()
            out.append({"class": (["unknown", *classes])[int(ident)], "id": int(ident),
                        "probabilities": [f32(p) for p in proba]})
        elif lib_type == "one-class" and line.startswith("outlier="):
            out.append({"outlier": line.endswith("=1")})
        elif lib_type == "extrapolation" and line.startswith("value="):
            out.append({"value": f32(line[6:])})
    return out


@needs_qemu
@pytest.mark.firmware
def test_hello_world_firmware_on_qemu_matches_emulate(built, tmp_path):
    folder, lib_type = built["plain"], built["type"]
    lines = built["lines_c"]
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.c").write_text(firmware_from_hello_world((folder / "main.c").read_text(), lib_type, len(lines)))
    write_c_lines(src / "lines.h", lines, VALUES)
    for name in ("NanoEdgeAI.h", "knowledge.h"):
        shutil.copy(folder / name, src)
    elf = firmware.build_firmware(src / "main.c", folder / "libneai.a", src, tmp_path / "hello.elf", core=CORE,
                                  fatal_warnings=True)
    output = firmware.run_qemu(elf, timeout=60, core=CORE)
    assert output.rstrip().endswith("done"), output
    on_device = printed_results(output, lib_type, built["meta"].get("classes") or [])
    assert on_device == built["results"]


@needs_qemu
@pytest.mark.firmware
def test_two_suffixed_libraries_in_one_firmware(built, tmp_path):
    """The plain and the `_vib` library of a project link into one firmware, each with
    its own knowledge, and answer alike (they are the same library)."""
    if built["type"] != "n-class":
        pytest.skip("one type is enough for the link check")
    lines = built["lines_c"]
    src = tmp_path / "src"
    src.mkdir()
    for key, names in (("plain", ("NanoEdgeAI.h", "knowledge.h")), ("vib", ("NanoEdgeAI_vib.h", "knowledge_vib.h"))):
        for name in names:
            shutil.copy(built[key] / name, src)
    lib_plain = shutil.copy(built["plain"] / "libneai.a", src / "libneai_plain.a")
    lib_vib = shutil.copy(built["vib"] / "libneai.a", src / "libneai_vib.a")
    write_c_lines(src / "lines.h", lines, VALUES)
    (src / "main.c").write_text(f"""#include <stdint.h>
#include <stdio.h>
#include "NanoEdgeAI.h"
#include "NanoEdgeAI_vib.h"
#include "knowledge.h"
#include "knowledge_vib.h"
#include "lines.h"

static float buffer[NB_AXES * BUFFER_SIZE];
static float proba[CLASS_NUMBER], proba_vib[CLASS_NUMBER_vib];

int main(void)
{{
    uint16_t id = 0, id_vib = 0;
    uint32_t t, i;
    if (neai_classification_init(knowledge) != NEAI_OK || neai_classification_init_vib(knowledge_vib) != NEAI_OK) {{
        return 1;
    }}
    for (t = 0; t < {len(lines)}u; t++) {{
        for (i = 0; i < NB_AXES * BUFFER_SIZE; i++) {{
            buffer[i] = lines[t][i];
        }}
        if (neai_classification(buffer, proba, &id) != NEAI_OK ||
            neai_classification_vib(buffer, proba_vib, &id_vib) != NEAI_OK) {{
            return 2;
        }}
        printf("%s %s\\n", id2class[id], id2class_vib[id_vib]);
    }}
    printf("done\\n");
    return 0;
}}
""")
    elf = firmware.build_firmware(src / "main.c", lib_plain, src, tmp_path / "two.elf", core=CORE,
                                  extra_sources=[lib_vib], fatal_warnings=True)
    output = firmware.run_qemu(elf, timeout=60, core=CORE)
    assert output.rstrip().endswith("done"), output
    printed = re.findall(r"^(\w+) (\w+)$", output, re.M)
    expected = [r["class"] for r in built["results"]]
    assert [a for a, _ in printed] == expected and [b for _, b in printed] == expected
