"""Issue 16: a CLI that knows the workspace (projects by name or path, `neai new`
in the workspace, `neai set`, `neai remove`), limits that speak (check, bench and
deploy exit 2 naming the limit), help for every option, output that fits."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neai_tui.cli import bench_progress_line, build_parser, emulate_summary
from neai_tui.engine.addressing import project_dir
from neai_tui.engine.errors import UsageError
from neai_tui.engine.project import Project, ProjectSettings, Workspace
from neai_tui.engine.search import BenchProgress

from .conftest import tone_signals, write_signals


def neai(*args, code=0, cwd=None):
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True, text=True,
                            cwd=cwd)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    return result


def subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def walk(parser: argparse.ArgumentParser, prefix: str = "neai"):
    yield prefix, parser
    for name, child in subparsers(parser):
        yield from walk(child, f"{prefix} {name}")


def test_every_command_and_option_has_a_description_and_an_example():
    missing = []
    for prog, parser in walk(build_parser()):
        if not parser.description:
            missing.append(f"{prog}: no description")
        has_children = any(True for _ in subparsers(parser))
        text = (parser.epilog or "") + (parser.description or "")
        if prog != "neai" and not has_children and "example" not in text:
            missing.append(f"{prog}: no example")
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not (action.help or "").strip():
                missing.append(f"{prog} {'/'.join(action.option_strings) or action.dest}: no help")
    assert not missing, "\n".join(missing)
    # and each renders (argparse formats help lazily: a bad %-sign only shows here)
    for prog, parser in walk(build_parser()):
        assert parser.format_help()


def test_new_creates_in_the_workspace_and_projects_are_named_anywhere(tmp_path, monkeypatch):
    ws = Path(os.environ["NEAI_WORKSPACE"])
    neai("new", "Pump Station", "--type", "anomaly", "--axes", 3, cwd=tmp_path)
    assert (ws / "pump-station" / "project.json").is_file() and not any(tmp_path.iterdir())
    assert json.loads(neai("set", "pump station", "--json", cwd=tmp_path).stdout)["settings"]["name"] == "Pump Station"
    assert "already has a project" in neai("new", "Pump Station", "--type", "anomaly", "--axes", 3, code=2).stderr
    neai("new", "./here", "--type", "n-class", "--axes", 1, cwd=tmp_path)  # a path: where given
    assert (tmp_path / "here" / "project.json").is_file()
    assert "n-class" in neai("set", "./here", cwd=tmp_path).stdout
    assert "here" in neai("set", "here", cwd=tmp_path).stdout  # a folder here, not in the workspace
    missing = neai("check", "nope", code=2, cwd=tmp_path).stderr
    assert "no project 'nope'" in missing and "pump-station" in missing
    # The same name in the workspace and here: ambiguous, ./NAME picks the folder.
    Project.create(ws / "here", ProjectSettings(name="other", type="anomaly", axes=2))
    assert "both a project of the workspace" in neai("set", "here", code=2, cwd=tmp_path).stderr
    monkeypatch.chdir(tmp_path)
    assert project_dir("./here") == Path("./here")
    with pytest.raises(UsageError):
        project_dir("")


def test_set_and_remove(tmp_path, small_anomaly_files):
    nominal, abnormal = small_anomaly_files
    neai("new", "fan", "--type", "anomaly", "--axes", 3)
    neai("import", "fan", nominal, "--role", "nominal")
    neai("import", "fan", abnormal, "--role", "abnormal")
    out = neai("set", "fan", "--name", "Fan 2", "--max-ram", 4, "--max-flash", 12, "--target", "NUCLEO-G071RB",
               "--rate", 1000, "--description", "left bearing").stdout
    assert "max RAM      4.00 KB" in out and "1000 Hz" in out and "NUCLEO-G071RB" in out
    settings = json.loads(neai("set", "Fan 2", "--max-ram", "none", "--json").stdout)["settings"]
    assert settings["max_ram_kb"] is None and settings["max_flash_kb"] == 12
    assert settings["frequency_filter"] == {"sampling_rate_hz": 1000.0} and settings["description"] == "left bearing"
    assert "not a number of KB" in neai("set", "fan", "--max-ram", "lots", code=2).stderr
    assert "unknown target" in neai("set", "fan", "--target", "nowhere", code=2).stderr
    removed = neai("remove", "fan", "s2_abnormal.csv").stdout
    assert "removed s2" in removed and str(abnormal) in removed and abnormal.is_file()
    assert "no signal 's9'" in neai("remove", "fan", "s9", code=2).stderr
    assert [s["id"] for s in json.loads(neai("check", "fan", "--json", code=2).stdout)["signals"]] == ["s1"]


@pytest.fixture
def limited(tmp_path):
    rng = np.random.default_rng(5)
    nominal = write_signals(tmp_path / "nominal.csv", tone_signals(rng, 40, 50.0))
    abnormal = write_signals(tmp_path / "abnormal.csv", tone_signals(rng, 20, 150.0, amp=2.0))
    neai("new", "tight", "--type", "anomaly", "--axes", 3, "--max-ram", 0.1)
    neai("import", "tight", nominal, "--role", "nominal")
    neai("import", "tight", abnormal, "--role", "abnormal")
    return "tight"


def test_limits_that_no_candidate_meets_exit_2_naming_them(limited):
    check = neai("check", limited, code=2)
    assert "fits max RAM 0.10 KB: the smallest candidate needs" in check.stdout and "neai set tight --max-ram" in check.stdout
    bench = neai("bench", limited, "--evals", 50, "--cores", 1, code=2)
    assert "max RAM 0.10 KB" in bench.stderr and "benchmarks" not in os.listdir(project_dir(limited))


def test_a_benchmark_that_finds_nothing_says_how_many_each_limit_excluded(limited):
    # Only the tiniest candidates fit: the first probes are all too big. (0.45 KB: the
    # order-robust Gaussian keeps 4 slots, so the smallest candidate needs 0.35 KB.)
    neai("set", limited, "--max-ram", 0.45)
    bench = neai("bench", limited, "--evals", 16, "--cores", 1, "--seed", 1, code=2)
    assert "found no library (16 evaluations): 16 candidate(s) were over the limits (16 over max RAM 0.45 KB" in (
        " ".join(bench.stderr.split()))
    assert "candidates fit" in bench.stderr and "Run it longer" in bench.stderr
    doc = json.loads(neai("bench", limited, "--evals", 16, "--cores", 1, "--seed", 1, "--new", "--json",
                          code=2).stdout)
    assert doc["best"] is None and doc["excluded"]["ram"] == 16


def test_deploy_refuses_a_library_over_the_limits_unless_forced(limited, tmp_path):
    from neai_tui.engine.search import select_library

    neai("set", limited, "--max-ram", "none")
    result = json.loads(neai("bench", limited, "--evals", 120, "--cores", 1, "--seed", 2, "--json").stdout)
    ram, lib = result["best"]["ram_bytes"], result["best"]["id"]
    select_library(Project.open(project_dir(limited)), lib)
    assert not neai("set", limited, "--max-ram", round(ram / 1024 * 2, 2)).stderr  # it still fits: no warning
    lowered = neai("set", limited, "--max-ram", round(ram / 1024 / 2, 2)).stderr
    assert f"the chosen library {lib} no longer fits: RAM {ram / 1024:.2f} KB > the project's max RAM" in lowered
    refused = neai("deploy", limited, "--out", tmp_path / "lib.zip", code=2)
    assert f"RAM {ram / 1024:.2f} KB > the project's max RAM" in refused.stderr and "--force" in refused.stderr
    assert not (tmp_path / "lib.zip").exists()
    neai("set", limited, "--max-ram", "none", "--max-flash", 0.5)
    assert "flash" in neai("deploy", limited, code=2).stderr and not list(tmp_path.glob("*.zip"))
    forced = neai("deploy", limited, "--force", "--quiet", "--out", tmp_path / "lib.zip")
    assert "built over the limits (--force): flash" in forced.stderr and (tmp_path / "lib.zip").is_file()
    assert not [p for p in (tmp_path).iterdir() if p.name.startswith(".")]  # no staged zip left


def test_over_limits_counts_the_targets_memory_too():
    from neai_tui.engine.limits import over_limits

    settings = ProjectSettings(name="x", target="NUCLEO-L053R8", max_ram_kb=16)
    assert over_limits(9 * 1024, 1000, settings) == ["RAM 9.00 KB > NUCLEO-L053R8's 8 KB RAM"]
    assert over_limits(17 * 1024, 70 * 1024, settings) == [
        "RAM 17.0 KB > the project's max RAM 16.0 KB", "RAM 17.0 KB > NUCLEO-L053R8's 8 KB RAM",
        "flash 70.0 KB > NUCLEO-L053R8's 64 KB flash"]
    assert over_limits(17 * 1024, 70 * 1024, ProjectSettings(name="x", target="cortex-m0")) == []


def test_progress_fits_80_columns_and_quiet_silences_it(limited):
    long = BenchProgress(evals_done=123456, evals_per_s=9876.5, elapsed_s=12345.6, best_score=88.123, best=None,
                         new_best=True, message="generation 12 (search): 64 evaluated; new best 88.12: " + "x" * 200,
                         workers=16)
    lines = bench_progress_line(long).splitlines()
    assert len(lines) > 1 and all(len(line) <= 80 for line in lines)
    assert "".join(line.strip() for line in lines).endswith("x" * 200)  # wrapped, nothing cut
    neai("set", limited, "--max-ram", "none")
    noisy = neai("bench", limited, "--evals", 60, "--cores", 1)
    assert noisy.stderr and all(len(line) <= 80 for line in noisy.stderr.splitlines())
    assert neai("bench", limited, "--evals", 90, "--cores", 1, "--quiet").stderr == ""


def test_emulate_summary_line():
    assert emulate_summary({"learned": 3, "results": [{"similarity": 100}, {"similarity": 20}]}) == (
        "summary: learned 3, 2 lines, mean similarity 60.0, 1 ≥ 90 (normal), 1 < 90 (anomaly)")
    assert emulate_summary({"results": [{"class": "a", "id": 1}, {"class": "b", "id": 2}, {"class": "a", "id": 1}]}) \
        == "summary: 3 lines: a 2, b 1"
    assert emulate_summary({"results": [{"outlier": True}, {"outlier": False}]}) == "summary: 2 lines, 1 outlier(s), 1 normal"
    assert emulate_summary({"results": [{"value": 1.0}, {"value": 3.0}]}).startswith("summary: 2 lines, values 1 to 3")


def test_reshape_buffer_must_be_a_power_of_two(tmp_path):
    src = tmp_path / "rec.csv"
    src.write_text("".join(f"{i}\n" for i in range(300)))
    bad = neai("tools", "reshape", src, "--buffer", 100, "--out", tmp_path / "o.csv", code=2)
    assert "100 is not a power of two" in bad.stderr and "try 64 or 128" in bad.stderr


def test_workspace_option_is_the_workspace_of_every_command(tmp_path):
    other = tmp_path / "elsewhere"
    neai("--workspace", other, "new", "fan", "--type", "anomaly", "--axes", 1)
    assert (other / "fan" / "project.json").is_file()
    assert "fan" in neai("--workspace", other, "set", "fan").stdout
    assert Workspace(other).project_dirs()
