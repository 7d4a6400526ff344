"""The Studio's tools, engine side: reshape, sampling finder, datalogger generator
(engine/tools/). The CLI is in test_tools_cli.py, the TUI in test_tui_tools.py."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine.errors import InputError, SignalFileError, UsageError
from neai_tui.engine.signals import read_signals
from neai_tui.engine.tools.datalogger import DataloggerOptions, generate_datalogger, render
from neai_tui.engine.tools.recordings import expand_inputs, inspect_recording, parse_columns, read_recording
from neai_tui.engine.tools.reshape import EDGE_SAMPLES, ReshapeOptions, cut_buffers, decimate_run, reshape
from neai_tui.engine.tools.sampling import State, find_sampling, load_states


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_logger_csv(path: Path, rows: int = 40, start: int = 0, labels=None) -> Path:
    """A ';' logger export with CRLF: header, datetime, 3 signals (x = 10 k, y = 10 k + 1, z = 10 k + 2
    for sample k: every value says where it came from), anomaly and changepoint labels."""
    lines = ["datetime;x;y;z;anomaly;changepoint"]
    for i in range(rows):
        k = start + i
        label = labels[i] if labels is not None else 0
        lines.append(f"2020-03-09 10:{i // 60:02d}:{i % 60:02d};{10 * k};{10 * k + 1};{10 * k + 2};{label};0")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


# -- recordings ------------------------------------------------------------------------------


def test_header_datetime_and_labels_are_left_out_by_default(tmp_path):
    rec = read_recording(write_logger_csv(tmp_path / "run.csv"))
    assert rec.header == ["datetime", "x", "y", "z", "anomaly", "changepoint"]
    assert rec.column_names == ["x", "y", "z"]
    assert dict(rec.dropped) == {0: "date/time", 4: "label", 5: "label"}
    assert rec.values.shape == (40, 3) and rec.values[3].tolist() == [30, 31, 32]
    assert rec.line_numbers[0] == 2  # line 1 is the header


def test_columns_by_name_index_and_range(tmp_path):
    path = write_logger_csv(tmp_path / "run.csv")
    assert parse_columns("2-4,anomaly") == [2, 3, 4, "anomaly"]
    assert read_recording(path, columns="z,X").column_names == ["z", "x"]  # case-insensitive fallback
    assert read_recording(path, columns="2-3").columns == [1, 2]
    with pytest.raises(UsageError, match="no column named 'w'") as err:
        read_recording(path, columns="w")
    assert "1 datetime, 2 x" in err.value.hint
    with pytest.raises(UsageError, match="no column 9"):
        read_recording(path, columns="9")


def test_headerless_numeric_file(tmp_path):
    path = tmp_path / "itsc_like.csv"
    path.write_text("".join(f"{i}.5,{-i},{2 * i}e-1\n" for i in range(20)))
    rec = read_recording(path)
    assert rec.header is None and rec.columns == [0, 1, 2]
    assert rec.values[2].tolist() == [2.5, -2.0, 0.4]
    with pytest.raises(UsageError, match="no header row"):
        read_recording(path, columns="x")


def test_bad_values_are_located(tmp_path):
    path = write_logger_csv(tmp_path / "run.csv")
    lines = path.read_bytes().decode().split("\r\n")
    lines[5] = lines[5].replace(";41;", ";4,1;")  # line 6, column 3 (y)
    lines[9] = lines[9].rsplit(";", 1)[0]  # line 10: one field short
    path.write_bytes("\r\n".join(lines).encode())
    with pytest.raises(SignalFileError) as err:
        read_recording(path)
    problems = {(p.code, p.line, p.column) for p in err.value.problems}
    assert ("decimal-comma", 6, 3) in problems
    assert ("inconsistent-count", 10, 6) in problems
    assert "run.csv:6:3" in err.value.message and "column 3 (y)" in err.value.message


def test_text_column_chosen_is_one_problem(tmp_path):
    with pytest.raises(SignalFileError) as err:
        read_recording(write_logger_csv(tmp_path / "run.csv"), columns="datetime,x")
    (problem,) = err.value.problems
    assert (problem.line, problem.column) == (2, 1) and "39 more line(s)" in problem.message
    assert "leave this column out" in problem.hint


def test_inspect_and_expand(tmp_path):
    write_logger_csv(tmp_path / "b.csv")
    write_logger_csv(tmp_path / "a.csv")
    (tmp_path / "notes.md").write_text("not a recording")
    assert [p.name for p in expand_inputs([tmp_path])] == ["a.csv", "b.csv"]
    assert [p.name for p in expand_inputs([str(tmp_path / "*.csv")])] == ["a.csv", "b.csv"]
    info = inspect_recording(tmp_path / "a.csv")
    assert info.sep == ";" and info.n_columns == 6 and info.numeric == [False, True, True, True, True, True]
    assert info.describe().startswith("1 datetime (text), 2 x")


# -- reshape ---------------------------------------------------------------------------------


def test_buffers_interleaved_with_hop(tmp_path):
    src = write_logger_csv(tmp_path / "run.csv", rows=20)
    before = digest(src)
    result = reshape([src], tmp_path / "out.csv", ReshapeOptions(buffer=4, hop=2))
    data = read_signals(tmp_path / "out.csv", axes=3, strict=False)
    assert result.lines == 9 and data.values.shape == (9, 12)
    # line 2 starts at sample 2: x2 y2 z2 x3 y3 z3 ...
    assert data.values[1].tolist() == [20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52]
    text = (tmp_path / "out.csv").read_text()
    assert "\r" not in text and ";" not in text and "  " not in text
    assert digest(src) == before  # the input is only read


def test_where_and_files_make_separate_runs(tmp_path):
    labels = [0] * 10 + [1] * 3 + [0] * 7  # two stretches of anomaly=0: 10 and 7 rows
    a = write_logger_csv(tmp_path / "a.csv", rows=20, labels=labels)
    b = write_logger_csv(tmp_path / "b.csv", rows=6, start=1000)
    result = reshape([a, b], tmp_path / "nominal.csv", ReshapeOptions(buffer=4, hop=1, where="anomaly=0.0"))
    lines = read_signals(tmp_path / "nominal.csv", axes=3, strict=False).values
    assert result.lines == (10 - 3) + (7 - 3) + (6 - 3)
    x = lines[:, 0::3]
    assert np.all(np.diff(x, axis=1) == 10)  # every line: consecutive samples of one run
    assert not np.isin(x, [100, 110, 120]).any()  # the anomaly rows are in no line
    assert [s.runs for s in result.inputs] == [2, 1]
    abnormal = reshape([a], tmp_path / "abnormal.csv", ReshapeOptions(buffer=2, where="anomaly=1"))
    assert abnormal.lines == 1 and abnormal.dropped == ["datetime (date/time)", "anomaly (row filter)",
                                                       "changepoint (label)"]


def test_no_overwrite_without_force_and_never_an_input(tmp_path):
    src = write_logger_csv(tmp_path / "run.csv")
    out = tmp_path / "out.csv"
    out.write_text("mine\n")
    with pytest.raises(UsageError, match="already exists"):
        reshape([src], out, ReshapeOptions(buffer=4))
    assert out.read_text() == "mine\n"
    reshape([src], out, ReshapeOptions(buffer=4), force=True)
    assert out.read_text() != "mine\n"
    with pytest.raises(UsageError, match="one of the inputs"):
        reshape([src], src, ReshapeOptions(buffer=4), force=True)


def test_option_errors(tmp_path):
    src = write_logger_csv(tmp_path / "run.csv")
    with pytest.raises(UsageError, match="buffer size is missing"):
        reshape([src], tmp_path / "o.csv", ReshapeOptions())
    with pytest.raises(UsageError, match="values per line"):
        reshape([src], tmp_path / "o.csv", ReshapeOptions(buffer=8192))
    with pytest.raises(InputError, match="the column holds 0"):
        reshape([src], tmp_path / "o.csv", ReshapeOptions(buffer=4, where="anomaly=5"))
    with pytest.raises(InputError, match="no buffer could be cut"):
        reshape([src], tmp_path / "o.csv", ReshapeOptions(buffer=64))
    with pytest.raises(UsageError, match="cannot read the row filter"):
        reshape([src], tmp_path / "o.csv", ReshapeOptions(buffer=4, where="anomaly"))
    assert not (tmp_path / "o.csv").exists()


def test_multisensor_and_target_first(tmp_path):
    src = write_logger_csv(tmp_path / "run.csv", rows=12)
    ms = reshape([src], tmp_path / "ms.csv", ReshapeOptions(layout="multisensor"))
    assert ms.lines == 12 and read_signals(tmp_path / "ms.csv", axes=3, layout="multisensor").values.shape == (12, 3)
    tf = reshape([src], tmp_path / "tf.csv", ReshapeOptions(columns="x,y", target="z", buffer=4))
    lines = read_signals(tmp_path / "tf.csv", axes=2, layout="target-first", strict=False).values
    assert lines.shape == (3, 9)
    assert lines[0, 0] == pytest.approx(np.mean([2, 12, 22, 32]))  # z's mean over the buffer
    assert lines[0, 1:3].tolist() == [0, 1]


def test_decimation_filters_before_it_drops_samples():
    rate, n = 1000.0, 4000
    t = np.arange(n) / rate
    slow, fast = np.sin(2 * np.pi * 20 * t), np.sin(2 * np.pi * 300 * t)  # 300 Hz > 125 Hz (Nyquist at 250)
    out = decimate_run(np.column_stack([slow, fast]), 4)
    assert len(out) == n // 4 - 2 * EDGE_SAMPLES
    assert np.var(out[:, 0]) == pytest.approx(0.5, rel=0.02)  # kept
    assert np.var(out[:, 1]) < 1e-3  # removed, not aliased to 50 Hz
    assert cut_buffers(out, 64, 32).shape == ((len(out) - 64) // 32 + 1, 64, 2)


# -- sampling finder ---------------------------------------------------------------------------


def tone_runs(rng, freqs, amps, n=3000, runs=2, rate=1000.0):
    t = np.arange(n) / rate
    out = []
    for _ in range(runs):
        x = sum(a * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)) for f, a in zip(freqs, amps))
        out.append((x + 0.05 * rng.standard_normal(n))[:, None])
    return out


def test_sampling_keeps_the_rate_that_tells_states_apart():
    rng = np.random.default_rng(7)
    # the states differ only by a 180 Hz component: gone below 250 Hz (Nyquist 125)
    healthy = State("healthy", tone_runs(rng, [40], [1.0]))
    faulty = State("faulty", tone_runs(rng, [40, 180], [1.0, 0.3]))
    report = find_sampling([healthy, faulty], 1000.0, max_decimation=8, max_buffer=256, seed=1)
    assert report.mode == "separability"
    by = {(c.rate_hz, c.buffer): c for c in report.candidates}
    assert by[(250.0, 64)].accuracy < 0.75 < 0.95 < by[(500.0, 64)].accuracy
    assert report.recommended.rate_hz == 500.0
    assert report.recommended.accuracy >= 0.95 and "balanced accuracy" in report.reason
    again = find_sampling([healthy, faulty], 1000.0, max_decimation=8, max_buffer=256, seed=1)
    assert [(c.rate_hz, c.buffer, c.accuracy) for c in again.candidates] == \
           [(c.rate_hz, c.buffer, c.accuracy) for c in report.candidates]


def test_sampling_one_state_energy_and_periods():
    rng = np.random.default_rng(2)
    report = find_sampling([State("run", tone_runs(rng, [100], [1.0], runs=1))], 1000.0, max_buffer=512)
    assert report.mode == "spectrum" and report.main_frequency_hz == pytest.approx(100, abs=2)
    by = {(c.rate_hz, c.buffer): c for c in report.candidates}
    assert by[(125.0, 64)].energy_kept < 0.05  # 100 Hz is above 62.5 Hz
    assert by[(250.0, 64)].energy_kept > 0.95
    # lowest rate keeping the power; smallest buffer with 8 periods of 100 Hz (80 ms -> 32 samples at 250 Hz)
    assert (report.recommended.rate_hz, report.recommended.buffer) == (250.0, 32)


def test_states_from_files_and_from_a_label_column(tmp_path):
    labels = [0] * 30 + [1] * 30 + [0] * 20
    path = write_logger_csv(tmp_path / "run.csv", rows=80, labels=labels)
    states = load_states([path], state_column="anomaly")
    assert [(s.name, s.samples, len(s.runs)) for s in states] == [("anomaly=0", 50, 2), ("anomaly=1", 30, 1)]
    named = load_states([f"good={path}", str(tmp_path)], columns="x")
    assert [s.name for s in named] == ["good", tmp_path.name] and named[0].runs[0].shape == (80, 1)
    with pytest.raises(UsageError, match="power of two"):
        find_sampling(states, 1.0, min_buffer=12)
    with pytest.raises(UsageError, match="sampling rate"):
        find_sampling(states, 0.0)


# -- datalogger ---------------------------------------------------------------------------------


HOST_STUB = r"""
#define NB_AXES @AXES@
void datalogger_tick(void);
static int sample, idle_calls;
void board_init(void) {}
void read_sensor(float out[NB_AXES]) {
    for (int a = 0; a < NB_AXES; a++) out[a] = (float)sample * 0.25f - (float)a * 1.5f;
    sample++;
}
/* The timer: one tick per idle call; once, two at a time (a missed sample). */
void board_idle(void) { if (++idle_calls == 11) datalogger_tick(); datalogger_tick(); }
"""


def _gcc() -> str:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no host C compiler")
    return gcc


def test_datalogger_c_compiles_and_prints_studio_lines(tmp_path):
    gcc = _gcc()
    result = generate_datalogger(tmp_path / "logger", DataloggerOptions(axes=3, rate_hz=1000, buffer=8, decimals=3))
    main = result.files[0]
    assert main.name == "main.c" and "#define NB_AXES        3" in main.read_text()
    stub = tmp_path / "stub.c"
    stub.write_text(HOST_STUB.replace("@AXES@", "3"))
    exe = tmp_path / "logger.bin"
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
    subprocess.run([gcc, *flags, "-DDL_EXTERNAL_BOARD_HOOKS", "-DDL_MAX_BUFFERS=3", str(main), str(stub),
                    "-o", str(exe)], check=True, capture_output=True, text=True)
    subprocess.run([gcc, *flags, "-c", str(main), "-o", str(tmp_path / "alone.o")], check=True)  # hooks as generated
    out = subprocess.run([str(exe)], check=True, capture_output=True, timeout=10).stdout.decode()
    capture = tmp_path / "capture.csv"
    capture.write_bytes(out.encode())
    lines = read_signals(capture, axes=3, strict=False).values  # the Studio's own reader
    assert lines.shape == (3, 24)
    samples = lines[:, 0::3] / 0.25  # x = sample / 4
    # the tick missed on the 11th call restarted the second buffer: each line is consecutive samples
    assert np.all(np.diff(samples, axis=1) == 1)
    assert samples[0, 0] == 0 and samples[1, 0] > 8
    assert lines[0, 1:3].tolist() == [-1.5, -3.0] and "\r\n" in out


@pytest.mark.parametrize("cpu", [["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
                                 ["-mcpu=cortex-m0plus"]])
def test_datalogger_c_builds_for_cortex_m(tmp_path, cpu):
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    main = generate_datalogger(tmp_path, DataloggerOptions(axes=6, rate_hz=3200, buffer=256)).files[0]
    subprocess.run([gcc, *cpu, "-mthumb", "-std=c99", "-Wall", "-Wextra", "-Werror", "-Os", str(main),
                    "--specs=nano.specs", "--specs=nosys.specs", "-o", str(tmp_path / "logger.elf")],
                   check=True, capture_output=True, text=True)


ARDUINO_STUB = r"""
#include <stdio.h>
#include <stdlib.h>
struct SerialPort {
    int lines = 0;
    void begin(unsigned long) {}
    explicit operator bool() const { return true; }
    void print(char c) { putchar(c); }
    void print(float v, int digits) { printf("%.*f", digits, (double)v); }
    void println() { printf("\r\n"); if (++lines == 2) exit(0); }
};
static SerialPort Serial;
static unsigned long fake_us;
unsigned long micros() { return fake_us += 125; }
"""


def test_arduino_sketch_compiles_against_a_stub(tmp_path):
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("no host C++ compiler")
    result = generate_datalogger(tmp_path / "neai_logger",
                                 DataloggerOptions(axes=2, rate_hz=2000, buffer=4, board="arduino", decimals=2))
    sketch = result.files[0]
    assert sketch.name == "neai_logger.ino"
    harness = tmp_path / "harness.cpp"
    harness.write_text(ARDUINO_STUB + f'#include "{sketch}"\n'
                       "int main() { setup(); for (;;) loop(); }\n")
    exe = tmp_path / "sketch.bin"
    subprocess.run([gxx, "-std=c++11", "-Wall", "-Wextra", "-Werror", str(harness), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, timeout=10).stdout.decode()
    assert out == "0.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00\r\n" * 2


def test_datalogger_refuses_overwrite_and_bad_options(tmp_path):
    options = DataloggerOptions(axes=3, rate_hz=100, buffer=64)
    generate_datalogger(tmp_path, options)
    (tmp_path / "main.c").write_text("/* my edits */")
    with pytest.raises(UsageError, match="already exists"):
        generate_datalogger(tmp_path, options)
    assert (tmp_path / "main.c").read_text() == "/* my edits */"
    generate_datalogger(tmp_path, options, force=True)
    assert "datalogger_tick" in (tmp_path / "main.c").read_text()
    with pytest.raises(UsageError, match="values per line"):
        render(DataloggerOptions(axes=64, rate_hz=100, buffer=512))
    with pytest.raises(UsageError, match="Arduino sketch"):
        generate_datalogger(tmp_path / "my logger", DataloggerOptions(axes=1, rate_hz=10, buffer=8, board="arduino"))


# -- the real recordings (../shared/data) ------------------------------------------------------


def test_itsc_reshape_matches_the_benchmark_preparation(shared_data, tmp_path):
    folder = shared_data / "itsc" / "SC_HLT"
    result = reshape([folder], tmp_path / "healthy.csv", ReshapeOptions(buffer=128, hop=64, rate_hz=1000))
    data = read_signals(tmp_path / "healthy.csv", axes=3)
    assert data.values.shape == (5 * 14, 384) and not data.problems and result.buffer_seconds == 0.128
    first = np.loadtxt(sorted(folder.glob("*.csv"))[0], delimiter=",")
    assert np.allclose(data.values[1], first[64:192].reshape(-1), rtol=1e-6)  # hop 64, interleaved


def test_skab_reshape_with_header_datetime_and_labels(shared_data, tmp_path):
    runs = shared_data / "skab" / "valve1"
    nominal = reshape([runs], tmp_path / "n.csv", ReshapeOptions(columns="Volume Flow RateRMS", where="anomaly=0",
                                                                buffer=64, hop=32))
    abnormal = reshape([runs], tmp_path / "a.csv", ReshapeOptions(columns="Volume Flow RateRMS", where="anomaly=1",
                                                                 buffer=64, hop=32))
    assert nominal.lines > 200 and abnormal.lines > 100
    assert read_signals(tmp_path / "a.csv", axes=1).values.shape == (abnormal.lines, 64)
    ms = reshape([runs / "1.csv"], tmp_path / "ms.csv", ReshapeOptions(layout="multisensor"))
    assert len(ms.columns) == 8 and "datetime (date/time)" in ms.dropped


def test_itsc_sampling_finder_is_fast(shared_data):
    import time

    states = load_states([shared_data / "itsc" / c for c in ("SC_HLT", "SC_A1_B0_C0", "SC_A0_B4_C0")])
    start = time.perf_counter()
    report = find_sampling(states, 1000.0, max_buffer=512)
    assert time.perf_counter() - start < 10
    assert report.main_frequency_hz == pytest.approx(60, abs=2)
    assert report.recommended is not None and report.recommended.energy_kept >= 0.95
    assert report.recommended.rate_hz >= 125  # the 60 Hz fundamental is kept


def test_import_refusals_point_to_the_reshape_tool(tmp_path):
    from neai_tui.engine.project import Project, ProjectSettings
    from neai_tui.widgets.format import tui_hint

    with pytest.raises(SignalFileError) as err:
        read_signals(write_logger_csv(tmp_path / "run.csv"), axes=3)
    assert "`neai tools reshape FILE --buffer N --out OUT`" in err.value.hint
    assert "Tools screen" in tui_hint(err.value.hint) and "neai tools" not in tui_hint(err.value.hint)
    one_per_line = tmp_path / "samples.csv"
    one_per_line.write_text("".join(f"{i} {i + 1} {i + 2}\n" for i in range(50)))
    project = Project.create(tmp_path / "p", ProjectSettings(name="p", type="anomaly", axes=3))
    with pytest.raises(InputError) as err:
        project.import_signal(one_per_line, role="nominal")
    assert "neai tools reshape FILE --buffer 256" in err.value.hint
