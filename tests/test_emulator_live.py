"""The emulator learns and detects lines from a live serial port (any pyserial URL): a
board stands behind a local TCP socket (socket://), as a datalogger behind ser2net or
QEMU's UART would. Engine session and the Emulator step (key p), on a real library zip."""
from __future__ import annotations

import socket
import threading
import time
import numpy as np
import pytest
from textual.widgets import Input, Select

from neai_tui.app import NeaiApp
from neai_tui.engine.emulator_session import EmulatorSession, list_library_zips
from neai_tui.engine.errors import InputError
from neai_tui.engine.live_port import read_live_lines
from neai_tui.engine.signals import read_signals
from neai_tui.screens.emulator import LivePortScreen

from .test_tui import open_first_project, screen_text, settle
from .test_tui_engine import anomaly_project

SIZE = (80, 24)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """A small anomaly project (3 axes x 64 samples) with a short benchmark and its library zip."""
    from neai_tui.engine.deploy import deploy
    from neai_tui.engine.project import Workspace
    from neai_tui.engine.search import run_benchmark

    ws = Workspace(tmp_path_factory.mktemp("live") / "ws")
    ws.ensure()
    project = anomaly_project(ws, lines=60)
    run_benchmark(project, max_evals=48, cores=1, seed=3)
    deploy(project)
    nominal, abnormal = (read_signals(project.signal_path(s), axes=3).values for s in project.signals)
    return ws.root, project, nominal, abnormal


class Board:
    """A TCP server sending signal lines to the first client, as a board on a serial port would:
    it starts mid-line (a cut first line), then sends whole lines."""

    def __init__(self, rows: np.ndarray, junk: bytes = b"0.123 4.5\r\n") -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.url = f"socket://127.0.0.1:{self.server.getsockname()[1]}"
        payload = junk + b"".join((" ".join(f"{v:.4f}" for v in row) + "\r\n").encode() for row in rows)
        self.thread = threading.Thread(target=self.serve, args=(payload,), daemon=True)
        self.thread.start()

    def serve(self, payload: bytes) -> None:
        conn, _ = self.server.accept()
        time.sleep(0.2)  # pyserial's socket:// empties its input right after connecting
        with conn:
            for start in range(0, len(payload), 997):  # in pieces, not aligned to lines
                conn.sendall(payload[start:start + 997])
            try:
                conn.recv(1)  # until the client has read what it wanted and closes
            except OSError:
                pass
        self.server.close()


def test_live_lines_feed_the_session_like_a_file(deployed, tmp_path):
    _, project, nominal, abnormal = deployed
    zip_path = list_library_zips(project)[0]["path"]
    live_session, file_session = EmulatorSession(zip_path), EmulatorSession(zip_path)
    nominal_file, abnormal_file = (project.signal_path(s) for s in project.signals)

    board = Board(nominal[:40])
    live = read_live_lines(board.url, 40, values_per_line=192, timeout_s=10)
    assert (live.lines, live.reason) == (40, "max-lines") and live.dropped == 1  # the cut first line
    np.testing.assert_allclose(live.values, nominal[:40], atol=5e-5)  # the board prints 4 decimals
    assert live_session.learn(live_session.live_rows(live.values, board.url))["learned"] == 40
    sent = tmp_path / "sent.csv"  # what the board sent, as a file
    sent.write_text("".join(" ".join(f"{v:.4f}" for v in row) + "\n" for row in nominal[:40]))
    file_session.learn(sent, "")

    board = Board(abnormal[:20])
    live = read_live_lines(board.url, 20, values_per_line=192, timeout_s=10)
    got = live_session.detect(live_session.live_rows(live.values, board.url))
    sent.write_text("".join(" ".join(f"{v:.4f}" for v in row) + "\n" for row in abnormal[:20]))
    want = file_session.detect(sent, "")
    assert [r["similarity"] for r in got.results] == [r["similarity"] for r in want.results]
    with pytest.raises(InputError, match="the library takes 192"):
        live_session.live_rows(np.zeros((3, 10)), "socket://x")


async def test_emulator_step_learns_then_detects_from_a_port(deployed):
    root, _, nominal, abnormal = deployed
    app = NeaiApp(workspace=root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_first_project(pilot)
        await pilot.press("4")
        await settle(pilot)
        pane = screen.pane("emulator")
        assert pane.session is not None
        board = Board(nominal[:40])
        await pilot.press("p")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, LivePortScreen)
        dialog.query_one("#live-url", Input).value = board.url
        dialog.query_one("#live-lines", Input).value = "40"
        dialog.query_one("#live-action", Select).value = "learn"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pane.session.learned == 40 and "Learned 40" in screen_text(app)
        board = Board(abnormal[:15])
        await pilot.press("p")
        await settle(pilot)
        dialog = app.screen
        assert dialog.query_one("#live-url", Input).value.startswith("socket://")  # remembered
        dialog.query_one("#live-url", Input).value = board.url
        dialog.query_one("#live-lines", Input).value = "15"
        dialog.query_one("#live-action", Select).value = "detect"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert len(pane.report.results) == 15 and "learned 40" in screen_text(app)
