"""Issue 14: hostile archives, names and files; a second writer; changed data.

Each test reproduces an attack or accident found by probing and checks that
nothing gets in and nothing is lost."""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine.errors import InputError, NeaiError
from neai_tui.engine.lock import ProjectBusy, holder, project_writer
from neai_tui.engine.project import Project, ProjectSettings, Workspace
from neai_tui.engine.schema import InvalidProjectData

from .conftest import tone_signals, write_signals
from .test_cli import neai


@pytest.fixture(scope="module")
def benched(tmp_path_factory):
    """A small anomaly project with one finished benchmark (its folder is copied by tests)."""
    from neai_tui.engine.search import run_benchmark

    tmp = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(14)
    nominal = write_signals(tmp / "nominal.csv", tone_signals(rng, 30, 50.0, axes=1, buffer=32))
    abnormal = write_signals(tmp / "abnormal.csv", tone_signals(rng, 20, 200.0, axes=1, buffer=32))
    project = Project.create(tmp / "fan", ProjectSettings(name="fan", type="anomaly", axes=1))
    project.import_signal(nominal, role="nominal")
    project.import_signal(abnormal, role="abnormal")
    run_benchmark(project, max_evals=16, cores=1, seed=3)
    return {"dir": project.path, "tmp": tmp, "extra": abnormal}


def _copy(benched, tmp_path, name="p") -> Path:
    dest = tmp_path / name
    shutil.copytree(benched["dir"], dest)
    return dest


def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _zip_of(folder: Path, out: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, f"fan/{path.relative_to(folder).as_posix()}")
        for name, content in (extra or {}).items():
            zf.writestr(name, content)
    return out


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# -- 1. projects are data, never paths ------------------------------------------------------
def _attacks(outside: Path):
    """(member, change, field named in the refusal) of each attack found by probing."""
    def absolute_signal(d):
        d["signals"][0]["file"] = str(outside)

    def escaping_signal(d):
        d["signals"][0]["file"] = "signals/../../" + outside.name

    def library_path(d):
        d["id"] = "../../../../" + outside.parent.name + "/deployed"

    def library_define(d):
        d["id"] = 'b1-c1"\n#define NEAI_OK 1\n"'

    def pipeline_code(d):
        d["pipeline"]["pre"]["decim"] = "1u; } evil(); {"

    return [
        ("project.json", absolute_signal, "signals[0].file"),
        ("project.json", escaping_signal, "signals[0].file"),
        ("benchmarks/b1/best.json", library_path, "field id"),
        ("benchmarks/b1/best.json", library_define, "field id"),
        ("benchmarks/b1/best.json", pipeline_code, "pipeline"),
    ]


def test_a_hostile_project_folder_is_refused_naming_the_field(benched, tmp_path):
    """The attacks on a project folder itself: check printed an outside file's first line,
    remove deleted it, deploy wrote outside, a library id injected a #define."""
    outside = tmp_path / "outside" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text("SECRET first line\n")
    for member, change, field in _attacks(outside):
        d = _copy(benched, tmp_path, f"p{abs(hash((member, field, change.__name__)))}")
        _edit_json(d / member, change)
        with pytest.raises(InvalidProjectData) as caught:
            project = Project.open(d)
            from neai_tui.engine.search import list_libraries

            list_libraries(project)  # benchmark records are validated where they are read
        assert caught.value.exit_code == 2
        assert member.split("/")[-1] in caught.value.message and field in caught.value.message
        assert "SECRET" not in caught.value.user_text()
    # From the command line: exit 2, the field named, the outside file neither shown nor touched.
    d = _copy(benched, tmp_path, "cli")
    _edit_json(d / "project.json", _attacks(outside)[0][1])
    for command in (("check", d), ("deploy", d, "--out", tmp_path / "x.zip")):
        r = neai(*command, check=False)
        assert r.returncode == 2 and "signals[0].file" in r.stderr and "SECRET" not in r.stdout + r.stderr
    assert outside.read_text() == "SECRET first line\n"
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "deployed").exists()


def test_signal_paths_are_checked_again_where_they_are_used(benched, tmp_path):
    """An entry changed in memory (not loaded from disk) cannot name a file elsewhere either."""
    outside = tmp_path / "keep.txt"
    outside.write_text("mine\n")
    project = Project.open(_copy(benched, tmp_path))
    project.signals[0].file = str(outside)
    with pytest.raises(InvalidProjectData):
        project.signal_path(project.signals[0])
    project.remove_signal(project.signals[0].id)  # works on the entry as saved, not the one changed in memory
    assert outside.read_text() == "mine\n" and not (project.path / "signals" / "s1_nominal.csv").exists()


def test_a_hostile_archive_is_refused_before_anything_is_written(benched, tmp_path):
    workspace = Workspace(tmp_path / "ws")
    workspace.ensure()
    # The outside "file" is a FIFO: had the import opened it, it would hang here.
    outside = tmp_path / "outside.csv"
    os.mkfifo(outside)
    for member, change, field in _attacks(outside):
        d = _copy(benched, tmp_path, f"a{abs(hash((member, change.__name__)))}")
        _edit_json(d / member, change)
        archive = _zip_of(d, tmp_path / f"{d.name}.zip")
        with pytest.raises(InvalidProjectData) as caught:
            from neai_tui.engine.workspace_ops import import_project_archive

            import_project_archive(workspace, archive)
        assert caught.value.exit_code == 2 and field in caught.value.message and member in caught.value.message
        assert _tree(workspace.root) == [], "nothing may be written for a refused archive"
    # Members that are not names a project has, and a library record in results.jsonl.
    d = _copy(benched, tmp_path, "names")
    for extra, words in (({"fan/signals/x;rm -rf ~.csv": b"1 2\n"}, "is not a name"),
                         ({"fan/benchmarks/stray.json": b"{}"}, "not in a benchmark folder")):
        archive = _zip_of(d, tmp_path / "names.zip", extra)
        with pytest.raises(InvalidProjectData, match=words):
            import_project_archive(workspace, archive)
    results = d / "benchmarks" / "b1" / "results.jsonl"
    lines = results.read_text().splitlines()
    record = json.loads(lines[0])
    record["id"] = "b1-c0\n#define X"
    results.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    archive = _zip_of(d, tmp_path / "results.zip")
    with pytest.raises(InvalidProjectData, match="results.jsonl: record 1: field id"):
        import_project_archive(workspace, archive)
    assert _tree(workspace.root) == []
    # The command line says the same, with exit 2.
    r = neai("--workspace", workspace.root, "archive", "import", archive, check=False)
    assert r.returncode == 2 and "field id" in r.stderr and _tree(workspace.root) == []


def test_archive_export_and_import_round_trip_on_the_command_line(benched, tmp_path):
    ws = tmp_path / "ws"
    out = tmp_path / "fan.zip"
    r = neai("--workspace", ws, "archive", "export", benched["dir"], "--out", out, "--json")
    assert json.loads(r.stdout)["archive"] == str(out)
    with zipfile.ZipFile(out) as zf:
        assert not any(Path(n).name.startswith(".") for n in zf.namelist())  # no lock file
    doc = json.loads(neai("--workspace", ws, "archive", "import", out, "--name", "fan copy", "--json").stdout)
    assert doc["project"] == "fan copy" and Path(doc["path"]).parent == ws
    libs = json.loads(neai("libs", doc["path"], "--json").stdout)["libraries"]
    assert libs and not any(lib["other_data"] for lib in libs)


def test_generated_c_gets_validated_ids_and_escaped_strings():
    from neai_tui.engine import codegen
    from neai_tui.engine.codegen_trained import public_header

    assert codegen.c_string('a"b\\c?\n#define X é') == '"a\\"b\\\\c\\?\\012#define X \\303\\251"'
    for bad in ('b1-c1"\n#define NEAI_OK 1', "../../x", "b1-c1 ", "", None):
        with pytest.raises(InputError):
            codegen.check_library_id(bad)
        with pytest.raises(InputError):
            codegen.anomaly_header(bad, 1, 32, 10, 64, None)
        with pytest.raises(InputError):
            public_header("n-class", bad, 1, 32, None, classes=["a", "b"])
    for bad in ("1u; evil()", 1.5, True, -1, 2**32):
        with pytest.raises(InputError):
            codegen.c_uint(bad)
    header = public_header("n-class", "b2-c7", 1, 32, None, classes=['say "hi"', "new\nline"])
    assert '"say \\"hi\\""' in header and '"new\\012line"' in header and "\n#define NEAI_ID \"b2-c7\"" in header


def test_imported_copies_get_a_plain_name(tmp_path):
    rng = np.random.default_rng(1)
    hostile = write_signals(tmp_path / "x.csv;rm -rf ~", tone_signals(rng, 20, 50.0, axes=1, buffer=16))
    project = Project.create(tmp_path / "p", ProjectSettings(name="p", type="anomaly", axes=1))
    entry = project.import_signal(hostile, role="nominal")
    assert entry.file == "signals/s1_x.csv" and (project.path / entry.file).is_file()
    odd = write_signals(tmp_path / "rec\nord.CSV", tone_signals(rng, 20, 50.0, axes=1, buffer=16))
    entry = project.import_signal(odd, role="abnormal")
    assert entry.file == "signals/s2_rec_ord.csv" and "\n" not in entry.original
    Project.open(project.path)  # what was saved loads again


# -- 3. one writer per project; benchmarks tied to their data ----------------------------------
HOLD = """
import sys, time
folder = sys.argv[2]
sys.argv = ["neai", "bench", sys.argv[1], "--time", "600"]
from neai_tui.engine.lock import project_writer
with project_writer(folder, "run a benchmark"):
    print("holding", flush=True)
    time.sleep(600)
"""


def test_a_second_writer_is_refused_with_who_holds_the_lock(benched, tmp_path):
    d = _copy(benched, tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", HOLD, "fan", str(d)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "holding"
        project = Project.open(d)
        with pytest.raises(ProjectBusy) as caught:
            project.import_signal(benched["extra"], role="abnormal")
        text = caught.value.user_text()
        assert caught.value.exit_code == 2
        assert f"pid {proc.pid}" in text and "`neai bench fan --time 600`" in text and "since 20" in text
        assert holder(d)["pid"] == proc.pid
        for args in (("bench", d, "--evals", 8), ("import", d, benched["extra"], "--role", "abnormal"),
                     ("deploy", d, "--out", tmp_path / "x.zip")):
            r = neai(*args, check=False)
            assert r.returncode == 2 and f"pid {proc.pid}" in r.stderr, r.stderr
        assert neai("libs", d).returncode == 0  # readers never wait
        assert len(Project.open(d).signals) == 2
    finally:
        proc.send_signal(signal.SIGKILL)  # killed while holding the lock
        proc.wait()
    # The lock of a killed process is taken over, and the next writer works.
    assert holder(d) is None
    with project_writer(d, "import a signal file") as held:
        assert held.previous and held.previous["pid"] == proc.pid
    Project.open(d).import_signal(benched["extra"], role="abnormal")
    assert len(Project.open(d).signals) == 3


def test_two_threads_of_one_process_do_not_write_at_once(benched, tmp_path):
    d = _copy(benched, tmp_path)
    inside, release = threading.Event(), threading.Event()

    def bench_like():
        with project_writer(d, "run a benchmark"):
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=bench_like)
    worker.start()
    try:
        assert inside.wait(10)
        with pytest.raises(ProjectBusy, match="this session"):
            Project.open(d).update_settings(description="changed meanwhile")
    finally:
        release.set()
        worker.join()
    with project_writer(d, "outer"):  # re-entrant within one thread
        Project.open(d).update_settings(description="now")
    assert Project.open(d).settings.description == "now"


def test_a_writer_works_on_the_project_as_it_is_on_disk(benched, tmp_path):
    """A TUI holding an older view does not overwrite an import made meanwhile by the CLI."""
    d = _copy(benched, tmp_path)
    stale = Project.open(d)
    Project.open(d).import_signal(benched["extra"], role="abnormal")
    stale.update_settings(description="from the TUI")
    again = Project.open(d)
    assert len(again.signals) == 3 and again.settings.description == "from the TUI"


def test_resuming_on_changed_data_starts_a_new_benchmark(benched, tmp_path):
    from neai_tui.engine.search import list_libraries, run_benchmark

    d = _copy(benched, tmp_path)
    project = Project.open(d)
    cancel = threading.Event()
    first = run_benchmark(project, max_evals=400, cores=1, seed=5, new=True, cancel=cancel,
                          progress=lambda ev: cancel.set() if ev.evals_done else None)
    assert first.benchmark == "b2" and first.status == "stopped"
    cancel.clear()
    same = run_benchmark(project, max_evals=400, cores=1, cancel=cancel,
                         progress=lambda ev: cancel.set() if ev.evals_done > first.evals_done else None)
    assert same.benchmark == "b2" and same.status == "stopped" and not same.note  # same data: resumed
    project.import_signal(benched["extra"], role="abnormal")  # the data change
    messages = []
    changed = run_benchmark(project, max_evals=8, cores=1, progress=lambda ev: messages.append(ev.message))
    assert changed.benchmark == "b3" and "benchmark b2 ran on other data (signal(s) s3 imported)" in changed.note
    assert changed.note in messages
    libs = list_libraries(project)
    assert {lib["benchmark"] for lib in libs if lib["other_data"]} == {"b1", "b2"}
    assert all(not lib["other_data"] for lib in libs if lib["benchmark"] == "b3")
    assert "s3 imported" in next(lib for lib in libs if lib["benchmark"] == "b2")["other_data_reason"]
    out = neai("libs", d).stdout
    assert "! benchmark b2 ran on other data" in out


# -- 5. only regular files --------------------------------------------------------------------
@pytest.fixture
def special_files(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    return {"a FIFO": fifo, "a link to /dev/zero": zero, "/dev/urandom": Path("/dev/urandom")}


def test_fifos_and_devices_are_refused_at_once(special_files, tmp_path):
    from neai_tui.engine.emulator import open_library_zip, read_inference_file
    from neai_tui.engine.signals import read_signals
    from neai_tui.engine.tools.recordings import inspect_recording, read_recording
    from neai_tui.engine.workspace_ops import import_project_archive

    project = Project.create(tmp_path / "p", ProjectSettings(name="p", type="anomaly", axes=1))
    readers = {
        "import": lambda p: project.import_signal(p, role="nominal"),
        "read_signals": lambda p: read_signals(p),
        "tools reshape": lambda p: read_recording(p),
        "recording form": lambda p: inspect_recording(p),
        "emulate (lines)": lambda p: read_inference_file(p, 1, 16),
        "emulate (zip)": lambda p: open_library_zip(p),
        "archive import": lambda p: import_project_archive(Workspace(tmp_path / "ws"), p),
    }
    for kind, path in special_files.items():
        for what, read in readers.items():
            started = time.monotonic()
            with pytest.raises(NeaiError) as caught:
                read(path)
            assert time.monotonic() - started < 1.0, f"{what} on {kind}"
            assert caught.value.exit_code == 2 and "not a regular file" in caught.value.message, (what, kind)
    assert project.signals == [] and _tree(tmp_path / "ws") == []


def test_special_files_on_the_command_line(special_files, tmp_path):
    neai("new", tmp_path / "p", "--type", "anomaly", "--axes", 1)
    fifo, zero = special_files["a FIFO"], special_files["a link to /dev/zero"]
    for args in (("import", tmp_path / "p", fifo, "--role", "nominal"),
                 ("tools", "reshape", zero, "--buffer", 16, "--out", tmp_path / "o.csv"),
                 ("emulate", fifo, "--detect", zero)):
        started = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 2 and "not a regular file" in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert time.monotonic() - started < 15  # interpreter start included; the refusal itself is immediate


# -- 7. temporary build folders -----------------------------------------------------------------
KILLED_BUILD = """
import os, sys
from neai_tui.engine.scratch import scratch_dir
with scratch_dir("neai-deploy-") as tmp:
    open(os.path.join(tmp, "libneai.a"), "wb").write(b"x" * 1000)
    print(tmp, flush=True)
    os.kill(os.getpid(), 9)
"""


def test_a_killed_build_leaves_no_folder_for_good(tmp_path):
    from neai_tui.engine.scratch import scratch_dir, scratch_root

    env = dict(os.environ, NEAI_CACHE_DIR=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-c", KILLED_BUILD], capture_output=True, text=True, env=env)
    left = Path(r.stdout.strip())
    assert r.returncode == -9 and left.is_dir() and left.parent == tmp_path / "cache" / "scratch"
    os.environ["NEAI_CACHE_DIR"], before = str(tmp_path / "cache"), os.environ["NEAI_CACHE_DIR"]
    try:
        with scratch_dir("neai-deploy-") as mine:
            assert not left.exists() and Path(mine).is_dir()  # reclaimed by the next build
            assert scratch_root() == left.parent
        assert not Path(mine).exists()
    finally:
        os.environ["NEAI_CACHE_DIR"] = before


def test_archive_members_are_read_in_memory_only_once_checked(benched, tmp_path):
    """A zip bomb-like total or a link member is refused before extraction."""
    d = _copy(benched, tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(d.rglob("*")):
            if path.is_file():
                zf.write(path, f"fan/{path.relative_to(d).as_posix()}")
        info = zipfile.ZipInfo("fan/signals/link.csv")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    archive = tmp_path / "link.zip"
    archive.write_bytes(buf.getvalue())
    from neai_tui.engine.workspace_ops import import_project_archive

    with pytest.raises(InputError, match="symbolic link"):
        import_project_archive(Workspace(tmp_path / "ws"), archive)
    assert _tree(tmp_path / "ws") == []
