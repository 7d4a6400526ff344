"""Drive the real TUI in a real terminal (tmux, 80x24) through a user's whole job, and
check what is on screen at each step.

From an empty workspace, with the keyboard only: create a project, import the sample
fan's nominal and abnormal signals, see the checks pass, run a short benchmark, build
the library and run it in the emulator (learn, detect), deploy it, go home and quit;
then the same for an n-class project (a trained type: its own results plot).
Pilot runs the app headless; this catches what only a terminal shows: start-up on a
real TTY, key decoding, the layout at 80x24, the exit back to the shell, and any
traceback printed on quit.

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
SAMPLE = REPO / "sample_data" / "fan"
WIDTH, HEIGHT = 80, 24
EXIT_MARK = "NEAI-TUI-EXITED"
BENCHMARK_SECONDS = 3


class TmuxSession:
    def __init__(self, command: str, env: dict[str, str], width: int = WIDTH, height: int = HEIGHT) -> None:
        self.name = f"neai-tui-{uuid.uuid4().hex[:8]}"
        self.server = ["-L", self.name]  # a tmux server of its own: nothing shared with the user's sessions
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # After the app exits the shell prints its exit status and waits, so the pane
        # (and any traceback in it) can still be captured.
        script = f"cd {shlex.quote(str(REPO))} && env {exports} {command}; echo {EXIT_MARK}=$?; sleep 30"
        subprocess.run(
            ["tmux", *self.server, "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), "sh", "-c", script],
            check=True,
        )

    def capture(self) -> str:
        return subprocess.run(
            ["tmux", *self.server, "capture-pane", "-p", "-t", self.name], check=True, capture_output=True, text=True
        ).stdout

    def keys(self, *keys: str) -> None:
        """tmux key names: Enter, Escape, Tab, Down, C-s, C-u, or single characters. All in
        one burst, without pauses (issue 16: no key may be lost or land in the wrong field,
        however fast it comes): the app must queue them until the focused widget is ready."""
        subprocess.run(["tmux", *self.server, "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", *self.server, "send-keys", "-t", self.name, "-l", text], check=True)

    def wait_for(self, *texts: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if all(text in screen for text in texts):
                return screen
            if "Traceback" in screen:
                break
            time.sleep(0.1)
        missing = [t for t in texts if t not in screen]
        raise AssertionError(f"{missing} did not appear within {timeout}s; screen was:\n{screen}")

    def wait_gone(self, text: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        screen = self.capture()
        while text in screen and time.monotonic() < deadline:
            time.sleep(0.1)
            screen = self.capture()
        assert text not in screen, f"{text!r} still on screen after {timeout}s:\n{screen}"
        return screen

    def close(self) -> None:
        subprocess.run(["tmux", *self.server, "kill-server"], capture_output=True)


def start_app(tmp: str) -> TmuxSession:
    """The app in tmux on an empty workspace in `tmp`."""
    code = "from neai_tui.app import run_app; raise SystemExit(run_app())"
    env = {
        "NEAI_WORKSPACE": str(Path(tmp) / "workspace"),
        "NEAI_CONFIG_DIR": str(Path(tmp) / "config"),
        "TERM": os.environ.get("TERM_FOR_TMUX", "xterm-256color"),
    }
    if os.environ.get("NEAI_CACHE_DIR"):
        env["NEAI_CACHE_DIR"] = os.environ["NEAI_CACHE_DIR"]
    return TmuxSession(f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}", env)


def shower(verbose: bool):
    def show(label: str, screen: str) -> None:
        if verbose:
            print(f"--- {label} ---\n{screen}")

    return show


def quit_app(session: TmuxSession, show) -> None:
    session.keys("q")
    screen = session.wait_for(EXIT_MARK)
    show("after quit", screen)
    assert f"{EXIT_MARK}=0" in screen, screen
    assert "Traceback" not in screen, screen


def drive(verbose: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="neai-tmux-") as tmp:
        workspace = Path(tmp) / "workspace"
        session = start_app(tmp)
        show = shower(verbose)

        try:
            screen = session.wait_for("Projects", "n creates one", "Duplicate")  # the list, its footer
            show("empty workspace", screen)

            # Create the project: name, (type stays anomaly), 3 axes, create.
            session.keys("n")
            session.wait_for("New project", "[ ] Multi-sensor")  # a tick box that reads without colours
            session.type("Fan")
            session.keys("Tab", "Tab", "C-u")
            session.type("3")
            session.keys("C-s")
            screen = session.wait_for("1 Settings", "Fan", "Anomaly detection")
            show("project created", screen)

            # Import the nominal, then the abnormal signals.
            session.keys("2", "i")
            session.wait_for("Import signals")
            session.type(str(SAMPLE / "nominal.csv"))
            session.keys("Enter")
            session.wait_for("s1_nominal.csv")
            session.keys("i")
            session.wait_for("Import signals")
            session.type(str(SAMPLE / "abnormal.csv"))
            session.wait_for("Role abnormal")  # guessed from the file's name
            session.keys("C-s")
            screen = session.wait_for("s2_abnormal.csv", "the benchmark can start")
            show("signals imported and checked", screen)
            assert "abnormal (couple 1)" in screen and "0 error(s)" in screen

            # A short benchmark.
            session.keys("3", "b")
            session.wait_for("Stop after")
            session.keys("Tab", "Tab", "C-u")
            session.type(str(BENCHMARK_SECONDS))
            session.keys("Tab", "C-u")
            session.type("1")  # one core: no worker processes to start for a few seconds
            session.keys("C-s")
            screen = session.wait_for("Running", timeout=10)
            show("benchmark running", screen)
            screen = session.wait_for(f"ran its {BENCHMARK_SECONDS} s", "1 worker", "similarity per held-out", "90 %",
                                      timeout=BENCHMARK_SECONDS + 30)
            show("benchmark done", screen)
            assert "Best" in screen and "BA" in screen

            # Build the library and run it in the emulator.
            session.keys("4", "B")
            screen = session.wait_for("Initialised: learned 0", timeout=60)
            session.keys("l")
            session.wait_for("Learned 300", timeout=20)
            session.keys("d")
            screen = session.wait_for("% ≥ 90", "learned 300", timeout=20)
            show("emulator", screen)
            assert "anomaly" in screen

            # Deploy: zip, measured figures.
            session.keys("6", "d")
            screen = session.wait_for("Done:", "measured", timeout=90)
            show("deployed", screen)
            assert "cycles" in screen and ".zip" in screen

            # Home, help, quit.
            session.keys("Escape")
            screen = session.wait_for("Projects", "Fan")
            session.keys("?")
            screen = session.wait_for("Help:")
            show("help", screen)
            session.keys("Escape")
            # The one pause a terminal needs: ESC followed at once by a letter is how
            # terminals send alt+letter, so a lone escape must stand apart from the next key.
            time.sleep(0.2)
            quit_app(session, show)
        finally:
            session.close()
        zips = list((workspace / "fan" / "deploy").glob("*.zip"))
        assert zips, "no library zip was written"


def drive_nclass(verbose: bool = False) -> None:
    """A trained type: n-class from the form (type chosen with the keys), two classes
    imported with path completion, a short benchmark and its results plot, the
    emulator, deployment."""
    with tempfile.TemporaryDirectory(prefix="neai-tmux-") as tmp:
        session = start_app(tmp)
        show = shower(verbose)
        try:
            session.wait_for("Projects", "n creates one")
            session.keys("n")
            session.wait_for("New project")
            session.type("States")
            session.keys("Tab", "Enter", "Down", "Down", "Enter")  # type: n-class, third in the list
            session.wait_for("Type n-class classification", "Description")  # the list closed
            session.wait_gone("Multi-sensor")  # a kind of anomaly detection: not offered here
            session.keys("Tab", "C-u")
            session.type("3")
            session.keys("C-s")
            session.wait_for("States", "n-class classification", "1 Settings")
            for name in ("normal", "tapping"):
                session.keys("2", "i")
                session.wait_for("Import signals (n-class")
                session.type(str(SAMPLE.parent / "nclass" / name[:3]))
                session.wait_for(f"{name}.csv")  # completion offered
                session.keys("Right", "Enter")
                session.wait_for(f"class {name}")
            screen = session.wait_for("the benchmark can start")
            show("classes imported", screen)

            session.keys("3", "b")
            session.wait_for("Stop after")
            session.keys("Tab", "Tab", "C-u")
            session.type(str(BENCHMARK_SECONDS))
            session.wait_for(f"Limit {BENCHMARK_SECONDS} ")
            session.keys("Tab", "C-u")
            session.type("1")
            session.wait_for("Cores 1 ")
            session.keys("C-s")
            # The results plot shows the best library while the run is still finishing (it
            # holds the project's writer lock until then): wait for the run's own end.
            screen = session.wait_for(f"ran its {BENCHMARK_SECONDS} s", "probability of the true class",
                                      "• normal  + tapping", timeout=BENCHMARK_SECONDS + 40)
            show("n-class results", screen)
            assert "Learning" not in screen

            session.keys("4", "B")
            session.wait_for("Run file", "Ready.", timeout=90)
            session.keys("d")
            screen = session.wait_for("class per line and its probability", "lines run", timeout=20)
            show("n-class emulator", screen)

            session.keys("6", "d")
            screen = session.wait_for("Done:", "Per inference", "Classes", timeout=90)
            show("n-class deployed", screen)
            session.keys("Escape")
            session.wait_for("Projects", "States")
            quit_app(session, show)
        finally:
            session.close()


def test_tmux_drive() -> None:
    import pytest

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    drive()


def test_tmux_drive_nclass() -> None:
    import pytest

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    drive_nclass()


if __name__ == "__main__":
    if shutil.which("tmux") is None:
        sys.exit("tmux is not installed")
    drive(verbose=True)
    drive_nclass(verbose=True)
    print("tmux drive: OK")
