"""The library zip as a user gets it, built into real firmware (SPEC §3, §4).

Acceptance: the zip's libneai.a links into an arm-none-eabi-gcc firmware built from
the documentation's Hello World (the zip's main.c), runs on an emulated Cortex-M4F
(QEMU mps2-an386) and prints the same similarities as `neai emulate` for the same
lines. Everything goes through the `neai` command line; the firmware side uses the
GCC + newlib + QEMU path of ``neai_tui.engine.firmware``.

Inputs are float32 values, written exactly on both sides so both see bit-identical
buffers: ``%.9e`` literals in the C data header, and the shortest positional decimal
that rounds back to the same float32 in the CSV files given to `neai emulate` (both
texts are checked to read back to the same float32). The CSV avoids exponents:
the signal reader currently takes a first line of ``1.5e-01``-style values for a
header row (see test_cli_malformed.py::test_exponent_notation_is_data).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine import firmware

from .conftest import tone_signals, write_signals

pytestmark = pytest.mark.firmware

needs_gcc = pytest.mark.skipif(not firmware.gcc_available(), reason="arm-none-eabi-gcc with newlib is needed")
needs_qemu = pytest.mark.skipif(
    not (firmware.gcc_available() and firmware.qemu_available()),
    reason="arm-none-eabi-gcc with newlib and qemu-system-arm are needed",
)

CORE = "cortex-m4f"  # deploy's default target; runs on mps2-an386
AXES, BUFFER = 3, 64
MIN_LEARN_LINES = 24  # learn on at least this many lines (and at least NEAI_MIN_LEARN)


def neai(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    return result


def float32_text(values: np.ndarray) -> dict[str, list[list[str]]]:
    """Each value as C text (``%.9e``) and CSV text (positional), both reading back to the same float32."""
    c_rows, csv_rows = [], []
    for row in np.asarray(values, dtype=np.float32):
        c_text = [f"{float(v):.9e}" for v in row]
        csv_text = [np.format_float_positional(v, unique=True, trim="0") for v in row]
        for texts in (c_text, csv_text):
            assert np.array_equal(np.array(texts, dtype=np.float64).astype(np.float32), row)
        c_rows.append(c_text)
        csv_rows.append(csv_text)
    return {"c": c_rows, "csv": csv_rows}


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("".join(" ".join(r) + "\n" for r in rows))
    return path


def write_c_lines(path: Path, rows: list[list[str]], values_per_line: int) -> Path:
    body = ",\n".join("    {" + ", ".join(v + "f" for v in r) + "}" for r in rows)
    path.write_text(
        "/* test data: one signal line per row (generated) */\n"
        "#ifndef TEST_LINES_H\n#define TEST_LINES_H\n"
        f"#define NB_LINES {len(rows)}\n"
        f"static const float lines[NB_LINES][{values_per_line}] = {{\n{body}\n}};\n"
        "#endif\n"
    )
    return path


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the Hello World changed shape: {old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def user_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each `/* USER BEGIN ... /* USER END */` block, markers included."""
    return [(m.start(), m.end()) for m in re.finditer(r"/\* USER BEGIN.*?/\* USER END \*/", text, re.S)]


def firmware_from_hello_world(main_c: str, suffix: str, learn: int, detect: int) -> str:
    """The zip's main.c with only its placeholders filled in, in the documentation's shape:
    fill_buffer() copies line t of the data header, the detection USER block prints the
    similarity (semihosting printf), and detection stops after `detect` lines."""
    blocks = user_blocks(main_c)
    assert len(blocks) == 2, "the Hello World should have two USER blocks (fill_buffer, after detect)"
    (fb_start, fb_end), (act_start, act_end) = blocks
    assert main_c.rfind("static void fill_buffer", 0, fb_start) >= 0 and "_detect" in main_c[fb_end:act_start]
    n = f"DATA_INPUT_USER{suffix} * AXIS_NUMBER{suffix}"
    fill = (
        "/* USER BEGIN: copy line t of the test data */\n"
        "    static uint32_t t = 0;\n"
        "    uint32_t i;\n"
        f"    for (i = 0; i < {n}; i++) {{\n"
        "        input_buffer[i] = lines[t][i];\n"
        "    }\n"
        "    t++;\n"
        "    /* USER END */"
    )
    act = (
        "/* USER BEGIN: print the similarity */\n"
        '        printf("similarity=%u\\n", (unsigned)similarity);\n'
        "        /* USER END */"
    )
    text = main_c[:fb_start] + fill + main_c[fb_end:act_start] + act + main_c[act_end:]
    text = replace_once(text, "#include <stdint.h>\n", '#include <stdint.h>\n#include <stdio.h>\n#include "lines.h"\n')
    text = replace_once(text, f"#define LEARNING_ITERATIONS NEAI_MIN_LEARN{suffix}\n",
                        f"#define LEARNING_ITERATIONS {learn}\n#define DETECTION_ITERATIONS {detect}\n")
    text = replace_once(text, "    while (1) {\n",
                        "    for (iteration = 0; iteration < DETECTION_ITERATIONS; iteration++) {\n")
    assert text.endswith("    }\n}\n")
    text = text[: -len("}\n")] + '    printf("done\\n");\n    return 0;\n}\n'
    return text


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """An anomaly project made, benchmarked and deployed through the CLI (plain and suffixed zips)."""
    tmp = tmp_path_factory.mktemp("fw-e2e")
    env = {**os.environ, "NEAI_WORKSPACE": str(tmp / "workspace")}
    rng = np.random.default_rng(21)
    nominal = write_signals(tmp / "nominal.csv", tone_signals(rng, 60, 50.0, axes=AXES, buffer=BUFFER))
    abnormal = write_signals(tmp / "abnormal.csv", tone_signals(rng, 30, 120.0, axes=AXES, buffer=BUFFER))
    d = tmp / "proj"
    neai("new", d, "--type", "anomaly", "--axes", AXES, env=env)
    neai("import", d, nominal, "--role", "nominal", env=env)
    neai("import", d, abnormal, "--role", "abnormal", env=env)
    best = json.loads(neai("bench", d, "--evals", 200, "--seed", 1, "--cores", 1, "--json", env=env).stdout)["best"]
    assert best is not None
    plain, vib = tmp / "lib.zip", tmp / "vib.zip"
    neai("deploy", d, "--out", plain, env=env)
    neai("deploy", d, "--suffix", "vibration", "--out", vib, env=env)
    out = {"tmp": tmp, "env": env, "best": best, "zip": plain, "vib_zip": vib}
    for key, z in (("plain", plain), ("vib", vib)):
        folder = tmp / key
        with zipfile.ZipFile(z) as zf:
            zf.extractall(folder)
        out[key] = folder
    meta = json.loads((out["plain"] / "metadata.json").read_text())
    assert meta["core"] == CORE and meta["float_abi"] == "hard"
    header = (out["plain"] / "NanoEdgeAI.h").read_text()
    out["min_learn"] = int(re.search(r"#define NEAI_MIN_LEARN (\d+)", header).group(1))
    assert out["min_learn"] == best["min_learning_iterations"]
    return out


@pytest.fixture(scope="module")
def lines(deployed):
    """L learning lines then M detection lines (nominal, near-nominal, abnormal), as float32 text,
    plus the same lines as the CSV files `neai emulate` reads."""
    tmp = deployed["tmp"]
    rng = np.random.default_rng(77)
    learn_n = max(deployed["min_learn"], MIN_LEARN_LINES)
    learn = tone_signals(rng, learn_n, 50.0, axes=AXES, buffer=BUFFER)
    detect = np.vstack([
        tone_signals(rng, 4, 50.0, axes=AXES, buffer=BUFFER),  # like the learned lines
        tone_signals(rng, 2, 50.0, amp=1.6, axes=AXES, buffer=BUFFER),  # louder
        tone_signals(rng, 2, 58.0, axes=AXES, buffer=BUFFER),  # slightly off
        tone_signals(rng, 2, 75.0, axes=AXES, buffer=BUFFER),
        tone_signals(rng, 2, 120.0, axes=AXES, buffer=BUFFER),  # the abnormal tone
        tone_signals(rng, 2, 300.0, amp=2.0, axes=AXES, buffer=BUFFER),
    ])
    learn_text, detect_text = float32_text(learn), float32_text(detect)
    return {
        "learn": learn_text["c"], "detect": detect_text["c"], "learn_csv_rows": learn_text["csv"],
        "learn_csv": write_csv(tmp / "learn.csv", learn_text["csv"]),
        "detect_csv": write_csv(tmp / "detect.csv", detect_text["csv"]),
    }


def emulate(zip_path: Path, lines: dict, env: dict) -> list[int]:
    doc = json.loads(neai("emulate", zip_path, "--learn", lines["learn_csv"], "--detect", lines["detect_csv"],
                          "--json", env=env).stdout)
    assert doc["learned"] == len(lines["learn"])
    assert all("status" not in r for r in doc["results"]), doc  # every detect() returned NEAI_OK
    return [r["similarity"] for r in doc["results"]]


def symbol_addresses(elf: Path) -> dict[str, int]:
    nm = shutil.which("arm-none-eabi-nm")
    if nm is None:
        return {}
    out = subprocess.run([nm, str(elf)], capture_output=True, text=True, check=True).stdout
    return {m.group(2): int(m.group(1), 16) for m in re.finditer(r"^([0-9a-f]+) \w (\S+)$", out, re.M)}


# --------------------------------------------------------------------------------- tests


@needs_gcc
def test_hello_world_compiles_and_links_as_is(deployed):
    """(a) main.c of the zip, untouched, against the zip's libneai.a: Cortex-M4F hard float, no warning."""
    for key, header in (("plain", "NanoEdgeAI.h"), ("vib", "NanoEdgeAI_vibration.h")):
        folder = deployed[key]
        assert f'#include "{header}"' in (folder / "main.c").read_text()
        warnings = firmware.compile_only(folder / "main.c", folder, folder / "libneai.a", CORE)
        assert warnings == "", warnings


@needs_qemu
def test_hello_world_firmware_on_qemu_matches_emulate(deployed, lines, tmp_path):
    """(b) The Hello World with its placeholders filled in, built with GCC against the zip's
    libneai.a, prints on QEMU's Cortex-M4F the similarities `neai emulate` gives, in order."""
    folder = deployed["plain"]
    n_learn, n_detect = len(lines["learn"]), len(lines["detect"])
    assert n_learn >= deployed["min_learn"]
    src = tmp_path / "src"
    src.mkdir()
    main_c = src / "main.c"
    main_c.write_text(firmware_from_hello_world((folder / "main.c").read_text(), "", n_learn, n_detect))
    write_c_lines(src / "lines.h", lines["learn"] + lines["detect"], AXES * BUFFER)
    shutil.copy(folder / "NanoEdgeAI.h", src)
    elf = firmware.build_firmware(main_c, folder / "libneai.a", src, tmp_path / "hello.elf", core=CORE,
                                  fatal_warnings=True)

    # The learned knowledge sits in the .neai section the linker script reserves.
    syms = symbol_addresses(elf)
    if syms:
        assert syms["__neai_start__"] <= syms["neai_knowledge"] < syms["__neai_end__"]

    output = firmware.run_qemu(elf, timeout=30, core=CORE)
    assert output.rstrip().endswith("done"), output
    on_device = [int(v) for v in re.findall(r"^similarity=(\d+)$", output, re.M)]
    expected = emulate(deployed["zip"], lines, deployed["env"])
    assert len(on_device) == n_detect
    assert on_device == expected
    # The lines cover normal and abnormal cases: the comparison is not of constants.
    assert max(expected) >= 90 and min(expected) < 90 and len(set(expected)) >= 3, expected


@needs_qemu
def test_two_libraries_link_into_one_firmware(deployed, lines, tmp_path):
    """(c) The plain and the `--suffix vibration` libraries link into one firmware (no clash)
    and each keeps its own knowledge: both print what `neai emulate` gives for their zip."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(deployed["plain"] / "NanoEdgeAI.h", src)
    shutil.copy(deployed["vib"] / "NanoEdgeAI_vibration.h", src)
    lib_plain = shutil.copy(deployed["plain"] / "libneai.a", src / "libneai_plain.a")
    lib_vib = shutil.copy(deployed["vib"] / "libneai.a", src / "libneai_vibration.a")
    write_c_lines(src / "lines.h", lines["learn"] + lines["detect"], AXES * BUFFER)
    n_learn, n_detect = len(lines["learn"]), len(lines["detect"])
    main_c = src / "main.c"
    # The vibration library learns in reverse order and between the plain library's calls,
    # so shared state (a symbol both define) would show up as different numbers.
    main_c.write_text(f"""#include <stdint.h>
#include <stdio.h>
#include "NanoEdgeAI.h"
#include "NanoEdgeAI_vibration.h"
#include "lines.h"

#if NB_AXES != NB_AXES_vibration || BUFFER_SIZE != BUFFER_SIZE_vibration
#error "both libraries come from the same project"
#endif

static float buffer[NB_AXES * BUFFER_SIZE];
static float buffer_vibration[NB_AXES_vibration * BUFFER_SIZE_vibration];

static void copy_line(float out[], uint32_t t, uint32_t n)
{{
    uint32_t i;
    for (i = 0; i < n; i++) {{
        out[i] = lines[t][i];
    }}
}}

int main(void)
{{
    uint8_t similarity = 0, similarity_vibration = 0;
    uint32_t t;
    if (neai_anomalydetection_init() != NEAI_OK || neai_anomalydetection_init_vibration() != NEAI_OK) {{
        return 1;
    }}
    for (t = 0; t < {n_learn}u; t++) {{
        copy_line(buffer, t, NB_AXES * BUFFER_SIZE);
        neai_anomalydetection_learn(buffer);
        copy_line(buffer_vibration, {n_learn}u - 1u - t, NB_AXES_vibration * BUFFER_SIZE_vibration);
        neai_anomalydetection_learn_vibration(buffer_vibration);
    }}
    for (t = {n_learn}u; t < {n_learn + n_detect}u; t++) {{
        copy_line(buffer, t, NB_AXES * BUFFER_SIZE);
        copy_line(buffer_vibration, t, NB_AXES_vibration * BUFFER_SIZE_vibration);
        if (neai_anomalydetection_detect(buffer, &similarity) != NEAI_OK ||
            neai_anomalydetection_detect_vibration(buffer_vibration, &similarity_vibration) != NEAI_OK) {{
            return 2;
        }}
        printf("plain=%u vibration=%u\\n", (unsigned)similarity, (unsigned)similarity_vibration);
    }}
    printf("done\\n");
    return 0;
}}
""")
    # Both archives on one link line: the second one goes in as an extra input.
    elf = firmware.build_firmware(main_c, lib_plain, src, tmp_path / "two.elf", core=CORE,
                                  extra_sources=[lib_vib], fatal_warnings=True)
    syms = symbol_addresses(elf)
    if syms:
        for name in ("neai_anomalydetection_detect", "neai_anomalydetection_detect_vibration",
                     "neai_knowledge", "neai_knowledge_vibration"):
            assert name in syms
        assert syms["neai_knowledge"] != syms["neai_knowledge_vibration"]

    output = firmware.run_qemu(elf, timeout=30, core=CORE)
    assert output.rstrip().endswith("done"), output
    printed = [(int(a), int(b)) for a, b in re.findall(r"^plain=(\d+) vibration=(\d+)$", output, re.M)]
    assert len(printed) == n_detect
    expected_plain = emulate(deployed["zip"], lines, deployed["env"])
    expected_vib = emulate(deployed["vib_zip"], {**lines, "learn_csv": write_csv(
        tmp_path / "learn_reversed.csv", lines["learn_csv_rows"][::-1])}, deployed["env"])
    assert [p for p, _ in printed] == expected_plain
    assert [v for _, v in printed] == expected_vib
