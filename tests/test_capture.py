"""Issue 14 item 6: serial capture keeps what it got (socket:// and loop:// sources)."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pytest

from neai_tui.engine.errors import UsageError
from neai_tui.engine.project import ProjectSettings
from neai_tui.engine.serial_capture import (
    LineSplitter,
    LineTooLong,
    SerialLines,
    SourceClosed,
    capture,
    capture_and_import,
    parse_line,
)


def board_on_socket(payload: list[bytes], *, pause: float = 0.3, close: bool = True):
    """A TCP 'board': accepts one connection, waits for the reader to be ready (pyserial's
    socket:// drops bytes that arrive while it opens), sends the payload, then hangs up."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def run():
        conn, _ = server.accept()
        time.sleep(pause)
        try:
            for piece in payload:
                conn.sendall(piece)
                time.sleep(0.01)
            time.sleep(0.2)
        except OSError:  # the reader hung up first (max lines, a line too long)
            pass
        if close:
            conn.close()
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return f"socket://127.0.0.1:{port}"


def lines(n: int, width: int = 4, start: int = 0) -> list[bytes]:
    return [(" ".join(str(i + k) for k in range(width)) + "\n").encode() for i in range(start, start + n)]


def test_a_source_that_drops_mid_line_keeps_the_complete_lines(tmp_path):
    url = board_on_socket([b"8 9\n", *lines(25), b"99 98 9"])  # a cut first line, 25 lines, half a line
    out = tmp_path / "cap.csv"
    result = capture(url, out, idle_timeout=10)
    assert result.reason == "closed" and not result.complete
    assert result.lines == 25 and result.values_per_line == 4 and result.dropped == 1
    assert "closed" in result.message and "incomplete last line (7 bytes) was dropped" in result.message
    assert str(out) in result.message
    assert out.read_text().splitlines() == [line.decode().strip() for line in lines(25)]


def test_a_disconnect_keeps_and_imports_what_came(workspace_project):
    project = workspace_project
    url = board_on_socket([*lines(30, width=8)])
    result, entry = capture_and_import(project, url, role="nominal", idle_timeout=10)
    assert result.reason == "closed" and result.lines == 30
    assert entry.lines == 30 and result.path.parent.name == "captures" and result.path.is_file()


def test_the_command_line_says_the_source_closed(tmp_path):
    url = board_on_socket([*lines(12), b"1 2"])
    out = tmp_path / "cap.csv"
    r = subprocess.run([sys.executable, "-m", "neai_tui.cli", "capture", "--port", url, "--out", str(out), "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    assert doc["lines"] == 12 and doc["reason"] == "closed" and not doc["complete"]
    assert "closed" in r.stderr and "kept in" in r.stderr
    assert len(out.read_text().splitlines()) == 12


def test_lines_are_in_the_file_as_they_arrive(tmp_path):
    """Each complete line is flushed on arrival: a reader of the file sees it before the end."""
    server = socket.create_server(("127.0.0.1", 0))
    url = f"socket://127.0.0.1:{server.getsockname()[1]}"
    out = tmp_path / "live.csv"
    seen = []

    def run():
        conn, _ = server.accept()
        time.sleep(0.3)
        for line in lines(5):
            conn.sendall(line)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 5):
            time.sleep(0.02)
        seen.append(len(out.read_text().splitlines()))
        conn.close()
        server.close()

    threading.Thread(target=run, daemon=True).start()
    result = capture(url, out, idle_timeout=20)
    assert seen == [5] and result.lines == 5  # all 5 were on disk while the port was still open


def test_max_lines_and_a_line_too_long(tmp_path):
    url = board_on_socket([*lines(10)], close=False)
    result = capture(url, tmp_path / "a.csv", max_lines=6, idle_timeout=10)
    assert (result.reason, result.lines, result.complete) == ("max-lines", 6, True)

    url = board_on_socket([*lines(4), b"1 " * 40_000, b"\n", *lines(3)])
    result = capture(url, tmp_path / "b.csv", idle_timeout=10, max_line_bytes=50_000)
    assert result.reason == "line-too-long" and result.lines == 4 and "without a line break" in result.message
    with pytest.raises(UsageError, match="exists"):
        capture(url, tmp_path / "b.csv", idle_timeout=1)


def test_the_line_splitter_is_linear_and_bounded():
    splitter = LineSplitter(max_line_bytes=64 << 20)
    chunk = b"1 " * 32768
    for _ in range(256):  # a 16 MB line arriving 64 KB at a time
        assert splitter.feed(chunk) == []
    assert splitter.pending == 16 << 20
    done = splitter.feed(b"\n2 3\r\n\r\n4")
    assert [len(x) for x in done] == [16 << 20, 3] and splitter.pending == 1
    small = LineSplitter(max_line_bytes=10)
    assert small.feed(b"1 2\n3 4\n" + b"5" * 20 + b"\n6\n") == [b"1 2", b"3 4"]
    assert isinstance(small.failed, LineTooLong) and small.feed(b"7\n") == []


def test_received_lines_are_read_as_the_studio_reads_numbers():
    assert parse_line(b" 1, 2;3\t-4.5e1 ") == [1.0, 2.0, 3.0, -45.0]
    for bad in (b"1 nan", b"1 inf", b"1e400 2", b"1e39", "١ ٢".encode(), b"1_0 2", b"0x10", b"", b"a b"):
        assert parse_line(bad) is None, bad
    assert parse_line(b"1 " * 20000) is None  # more values than a line may hold


def test_serial_lines_api_on_loop():
    cancel = threading.Event()
    with SerialLines("loop://", cancel=cancel, idle_timeout=2) as source:
        source._ser.write(b"1 2 3\n4 5")
        got = []
        for raw in source:
            got.append(parse_line(raw))
            cancel.set()
    assert got == [[1.0, 2.0, 3.0]] and source.end_reason == "stopped" and source.splitter.pending == 3


def test_a_port_that_fails_raises_source_closed():
    class Pulled:
        in_waiting = 0

        def read(self, n):
            raise OSError("device reports readiness to read but returned no data")

        def close(self):
            pass

    source = SerialLines("/dev/ttyACM9")
    source._ser = Pulled()
    with pytest.raises(SourceClosed, match="closed or failed"):
        list(source)


@pytest.fixture
def workspace_project(tmp_path):
    from neai_tui.engine.project import Workspace

    return Workspace(tmp_path / "ws").create_project(ProjectSettings(name="Serial", type="anomaly", axes=1))
