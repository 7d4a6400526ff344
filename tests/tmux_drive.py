"""Drive the real TUI in a real terminal (tmux, 80x24) and check what is on screen.

Pilot runs the app headless; this catches what only a terminal shows: start-up on a
real TTY, key decoding, the exit back to the shell, and any traceback printed on quit.

    python tests/tmux_drive.py          # prints each captured screen
    pytest tests/test_tui.py -k tmux    # same checks, skipped when tmux is missing
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 80, 24
EXIT_MARK = "NEAI-TUI-EXITED"


class TmuxSession:
    def __init__(self, command: str, env: dict[str, str], width: int = WIDTH, height: int = HEIGHT) -> None:
        self.name = f"neai-tui-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # After the app exits the shell prints its exit status and waits, so the pane
        # (and any traceback in it) can still be captured.
        script = f"cd {shlex.quote(str(REPO))} && env {exports} {command}; echo {EXIT_MARK}=$?; sleep 30"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), "sh", "-c", script],
            check=True,
        )

    def capture(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], check=True, capture_output=True, text=True
        ).stdout

    def send(self, *keys: str) -> None:
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.15)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"'{text}' did not appear within {timeout}s; screen was:\n{screen}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def make_workspace(root: Path) -> Path:
    sys.path.insert(0, str(REPO))
    from neai_tui.engine.project import Project, ProjectSettings

    Project.create(root / "motor", ProjectSettings(name="Motor bearings", type="anomaly", axes=3))
    Project.create(root / "pump", ProjectSettings(name="Pump states", type="n-class", axes=1, target="NUCLEO-F401RE"))
    return root


def drive(verbose: bool = False) -> None:
    """Start the app at 80x24, walk home → project → steps → home → help, quit with q."""
    with tempfile.TemporaryDirectory(prefix="neai-tmux-") as tmp:
        workspace = make_workspace(Path(tmp) / "workspace")
        code = f"from neai_tui.app import run_app; raise SystemExit(run_app(workspace={str(workspace)!r}))"
        env = {"NEAI_WORKSPACE": str(workspace), "TERM": os.environ.get("TERM_FOR_TMUX", "xterm-256color")}
        session = TmuxSession(f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}", env)

        def show(label: str, screen: str) -> None:
            if verbose:
                print(f"--- {label} ---\n{screen}")

        try:
            screen = session.wait_for("Motor bearings")
            show("home", screen)
            assert "Pump states" in screen and "Projects" in screen
            assert "New project" in screen  # footer

            session.send("Enter")
            screen = session.wait_for("1 Settings")
            show("project", screen)
            assert "Anomaly detection" in screen

            session.send("2")
            screen = session.wait_for("Checks")
            show("signals", screen)
            assert "Import" in screen  # the step's key in the footer

            session.send("3")
            screen = session.wait_for("Libraries")
            show("benchmark", screen)

            session.send("4")
            screen = session.wait_for("neai emulate")
            show("emulator", screen)

            session.send("Escape")
            screen = session.wait_for("Pump states")
            session.send("?")
            screen = session.wait_for("Help:")
            show("help", screen)
            assert "New project" in screen
            session.send("Escape")
            time.sleep(0.3)

            session.send("q")
            screen = session.wait_for(EXIT_MARK)
            show("after quit", screen)
            assert f"{EXIT_MARK}=0" in screen, screen
            assert "Traceback" not in screen, screen
        finally:
            session.close()


def test_tmux_drive() -> None:
    import pytest

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    drive()


if __name__ == "__main__":
    if shutil.which("tmux") is None:
        sys.exit("tmux is not installed")
    drive(verbose=True)
    print("tmux drive: OK")
