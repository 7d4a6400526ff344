import json

import pytest

from neai_tui.engine.errors import InputError, UsageError
from neai_tui.engine.project import Project, ProjectSettings, Workspace
from neai_tui.engine.storage import append_jsonl, read_jsonl
from neai_tui.engine.targets import resolve_target


def test_create_open_roundtrip(tmp_path):
    p = Project.create(tmp_path / "p", ProjectSettings(name="P", axes=3, max_ram_kb=8, target="NUCLEO-L432KC"))
    again = Project.open(tmp_path / "p")
    assert again.settings == p.settings
    assert again.settings.core == "cortex-m4f"


def test_create_refuses_non_empty_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not empty"):
        Project.create(tmp_path, ProjectSettings(name="P"))
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_settings_validation(tmp_path):
    with pytest.raises(UsageError, match="Multi-sensor"):
        Project.create(tmp_path / "a", ProjectSettings(name="x", type="n-class", multisensor=True))
    with pytest.raises(UsageError, match="unknown target"):
        Project.create(tmp_path / "b", ProjectSettings(name="x", target="cortex-m99"))
    with pytest.raises(UsageError, match="axes"):
        Project.create(tmp_path / "c", ProjectSettings(name="x", axes=0))


def test_import_copies_and_leaves_original(tmp_path, small_anomaly_files):
    nominal, abnormal = small_anomaly_files
    before = nominal.read_bytes()
    p = Project.create(tmp_path / "p", ProjectSettings(name="P", axes=3))
    entry = p.import_signal(nominal, role="nominal")
    p.import_signal(abnormal, role="abnormal")
    assert nominal.read_bytes() == before
    assert (p.path / entry.file).read_bytes() == before
    assert p.buffer_size == 64
    assert not [x for x in p.check() if x.severity == "error"]
    reopened = Project.open(p.path)
    assert [s.id for s in reopened.signals] == ["s1", "s2"]


def test_import_needs_role_and_same_shape(tmp_path, small_anomaly_files):
    nominal, _ = small_anomaly_files
    p = Project.create(tmp_path / "p", ProjectSettings(name="P", axes=3))
    with pytest.raises(UsageError, match="--role"):
        p.import_signal(nominal)
    p.import_signal(nominal, role="nominal")
    other = tmp_path / "short.csv"
    other.write_text("\n".join(" ".join(["1.0"] * 96) for _ in range(30)))
    with pytest.raises(InputError, match="other signals hold 192"):
        p.import_signal(other, role="abnormal")


def test_readiness_needs_both_roles(tmp_path, small_anomaly_files):
    nominal, _ = small_anomaly_files
    p = Project.create(tmp_path / "p", ProjectSettings(name="P", axes=3))
    p.import_signal(nominal, role="nominal")
    problems = p.check()
    assert any("no abnormal file" in x.message for x in problems)


def test_damaged_project_file_is_reported(tmp_path):
    p = Project.create(tmp_path / "p", ProjectSettings(name="P"))
    (p.path / "project.json").write_text("{ not json")
    with pytest.raises(InputError, match="damaged"):
        Project.open(p.path)
    summaries = Workspace(tmp_path).list_projects()
    assert summaries[0].error


def test_workspace_lists_projects(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.create_project(ProjectSettings(name="Fan monitor", axes=3))
    ws.create_project(ProjectSettings(name="Fan monitor", axes=1))
    names = sorted(s.path.name for s in ws.list_projects())
    assert names == ["fan-monitor", "fan-monitor-2"]


def test_jsonl_drops_torn_tail(tmp_path):
    log = tmp_path / "log.jsonl"
    append_jsonl(log, {"a": 1})
    with open(log, "a") as fh:
        fh.write('{"a": 2')  # a crash mid-write
    assert list(read_jsonl(log)) == [{"a": 1}]


def test_targets_resolve_boards_mcus_and_cores():
    assert resolve_target("nucleo-g071rb").core == "cortex-m0plus"
    assert resolve_target("STM32H743ZI").core == "cortex-m7"
    assert resolve_target("cortex-m0plus").kind == "core"
    with pytest.raises(UsageError, match="unknown target") as info:
        resolve_target("NUCLEO-L432")
    assert "NUCLEO-L432KC" in info.value.hint


def test_pareto_front_keeps_smaller_libraries():
    from neai_tui.engine.search import pareto_front

    def rec(i, score, ram, flash):
        return {"id": f"c{i}", "index": i, "score": score, "ram_bytes": ram, "flash_bytes": flash}

    results = [rec(0, 90, 4000, 6000), rec(1, 88, 1000, 3000), rec(2, 87, 2000, 4000), rec(3, 85, 1000, 2500),
               rec(4, 90, 5000, 6000)]
    front = pareto_front(results)
    assert [r["id"] for r in front] == ["c0", "c1", "c3"]  # c2 and c4 are beaten on every count


def test_what_improved_names_the_changes():
    from neai_tui.engine.search import what_improved

    before = {"score": 80.0, "ram_bytes": 2000, "flash_bytes": 4000, "metrics": {"balanced_accuracy": 0.9, "ci": [0, 1]}}
    after = {"score": 85.0, "ram_bytes": 2000, "flash_bytes": 3500, "metrics": {"balanced_accuracy": 0.95, "ci": [0, 1]}}
    assert what_improved(before, after) == {
        "score": [80.0, 85.0], "flash_bytes": [4000, 3500], "balanced_accuracy": [0.9, 0.95]}
    assert what_improved(None, after)["score"] == [None, 85.0]
