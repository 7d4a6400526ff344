"""The datalogger, proven end to end: the generated Cortex-M firmware (`neai tools
datalogger`), with a deterministic synthetic sensor behind read_sensor(), built with
arm-none-eabi-gcc (-Wall -Wextra, no warning), run on QEMU mps2-an386 with its UART on a
TCP socket, captured through pyserial's socket:// by the serial capture
(engine/live_port.py, the emulator's live-port path): the captured lines hold exactly what
the firmware printed (each byte is also sent over semihosting) and pass `neai import`.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine import firmware
from neai_tui.engine.live_port import read_live_lines
from neai_tui.engine.signals import read_signals
from neai_tui.engine.tools.datalogger import DataloggerOptions, generate_datalogger

pytestmark = [
    pytest.mark.firmware,
    pytest.mark.skipif(not (firmware.gcc_available() and firmware.qemu_available()),
                       reason="arm-none-eabi-gcc with newlib and qemu-system-arm are needed "
                              "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)"),
]

BOARD = Path(__file__).resolve().parent / "firmware" / "datalogger_board.c"
AXES, BUFFER, LINES, DECIMALS = 3, 32, 12, 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expected_samples(n_samples: int) -> np.ndarray:
    """datalogger_board.c's sensor: axis a of sample n is ((37 n + 101 a) % 2001 - 1000) / 250."""
    n = np.arange(n_samples)[:, None]
    a = np.arange(AXES)[None, :]
    return ((n * 37 + a * 101) % 2001 - 1000) / 250.0


def test_generated_firmware_on_qemu_is_captured_and_imported(tmp_path):
    logger = generate_datalogger(tmp_path / "logger", DataloggerOptions(axes=AXES, rate_hz=1000, buffer=BUFFER,
                                                                        decimals=DECIMALS))
    elf = firmware.build_uart_firmware(  # fatal_warnings: -Wall -Wextra must be silent on the generated code
        [logger.files[0], BOARD], tmp_path / "logger.elf", "cortex-m4f",
        defines={"DL_EXTERNAL_BOARD_HOOKS": None, "DL_MAX_BUFFERS": str(LINES), "NB_AXES": str(AXES)})
    port = free_port()
    qemu = firmware.start_qemu_uart(elf, port, core="cortex-m4f")
    try:
        captured = tmp_path / "captured.csv"
        live = read_live_lines(f"socket://127.0.0.1:{port}", LINES, values_per_line=AXES * BUFFER, timeout_s=20,
                               connect_timeout_s=20, keep=captured)
        printed, errors = qemu.communicate(timeout=60)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
    assert qemu.returncode == 0, errors.decode(errors="replace")
    text = printed.decode("ascii")
    printed_lines = [line for line in text.split("\r\n") if line]
    assert len(printed_lines) == LINES and text.endswith("\r\n")

    # the capture holds every line the firmware printed, value for value, none dropped
    assert (live.lines, live.dropped, live.reason) == (LINES, 0, "max-lines")
    firmware_values = np.array([[float(v) for v in line.split(" ")] for line in printed_lines])
    np.testing.assert_array_equal(live.values, firmware_values)
    np.testing.assert_array_equal(read_signals(captured, axes=AXES).values, firmware_values)
    # ... and they are the sensor's samples, consecutive, interleaved x0 y0 z0 x1 ...
    truth = expected_samples(LINES * BUFFER).reshape(LINES, AXES * BUFFER)
    np.testing.assert_allclose(firmware_values, truth, atol=0.5 * 10 ** -DECIMALS)

    project = tmp_path / "project"
    for args in (("new", project, "--type", "anomaly", "--axes", AXES),
                 ("import", project, captured, "--role", "nominal")):
        result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert f"{LINES} lines x {AXES * BUFFER} values" in result.stdout


def test_a_refused_connection_is_reported(tmp_path):
    from neai_tui.engine.errors import UsageError

    with pytest.raises(UsageError, match="cannot open"):
        read_live_lines(f"socket://127.0.0.1:{free_port()}", 2, timeout_s=1)
