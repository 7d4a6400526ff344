"""The target catalogue (engine/targets.py, data/targets.json from scripts/gen_targets.py):
boards and MCUs with memory figures and their source, search, favourites in the user
config, limits that default to a share of the target, the CLI as a user runs it."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from neai_tui.engine import targets
from neai_tui.engine.errors import UsageError


def neai(*args, code=0, env=None):
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)], capture_output=True, text=True,
                            timeout=120, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stdout + result.stderr
    return result


def test_targets_json_lists_150_and_more_with_memory_and_source():
    doc = json.loads(neai("targets", "--json").stdout)
    items = [t for t in doc["targets"] if t["kind"] in ("board", "mcu")]
    with_memory = [t for t in items if t["ram_kb"] and t["source"] and t["core"] in targets.CORE_NAMES]
    assert len(with_memory) >= 150
    boards = [t for t in with_memory if t["kind"] == "board"]
    assert len(boards) >= 150 and sum(t["kind"] == "mcu" for t in with_memory) >= 550  # the Studio: 140+, 550+
    assert {"modm-devices", "pyocd", "datasheet"} <= set(doc["sources"])
    assert all(doc["sources"][s]["licence"] for s in doc["sources"])


@pytest.mark.parametrize("name, mcu, core, flash, ram, mhz", [
    # figures from the vendors' datasheets
    ("NUCLEO-L432KC", "STM32L432KC", "cortex-m4f", 256, 64, 80),
    ("NUCLEO-F401RE", "STM32F401RE", "cortex-m4f", 512, 96, 84),
    ("NUCLEO-G071RB", "STM32G071RB", "cortex-m0plus", 128, 36, 64),
    ("NUCLEO-H743ZI2", "STM32H743ZI", "cortex-m7", 2048, 1056, 240),  # 1 MB SRAM + 64 KB ITCM... incl. TCM
    ("B-U585I-IOT02A", "STM32U585AI", "cortex-m33", 2048, 784, 160),
    ("NUCLEO-F103RB", "STM32F103RB", "cortex-m3", 128, 20, 72),
    ("Raspberry Pi Pico", "RP2040", "cortex-m0plus", 2048, 264, 133),
    ("Arduino Nano 33 BLE", "nRF52840", "cortex-m4f", 1024, 256, 64),
    ("Arduino Zero", "ATSAMD21G18A", "cortex-m0plus", 256, 32, 48),
    ("Adafruit Feather M4 Express", "ATSAMD51J19A", "cortex-m4f", 512, 192, 120),
    ("PJRC Teensy 4.0", "MIMXRT1062DVL6A", "cortex-m7", 1984, 1024, 600),
    ("FRDM-K64F", "MK64FN1M0VLL12", "cortex-m4f", 1024, 256, 120),
])
def test_memory_figures_match_the_datasheets(name, mcu, core, flash, ram, mhz):
    t = targets.resolve_target(name)
    assert (t.kind, t.mcu, t.core, t.flash_kb, t.ram_kb, t.clock_mhz) == ("board", mcu, core, flash, ram, mhz)
    assert t.source


def test_the_families_asked_for_are_there():
    names = {t.name for t in targets.catalogue()}
    for family in ("STM32C0", "STM32F0", "STM32F1", "STM32F2", "STM32F3", "STM32F4", "STM32F7", "STM32G0",
                   "STM32G4", "STM32H5", "STM32H7", "STM32L0", "STM32L1", "STM32L4", "STM32L5", "STM32U5",
                   "STM32WB", "STM32WL"):
        assert any(n.startswith(family) for n in names), family
    for part in ("RP2040", "RP2350", "nRF52832", "nRF52840", "ATSAMD21G18A", "ATSAMD51J19A", "MIMXRT1062DVL6A"):
        assert part in names
    assert {"PJRC Teensy 4.0", "PJRC Teensy 4.1", "MIMXRT1060-EVK", "Nordic nRF52840 DK"} <= names
    assert targets.resolve_target("STM32WL55JC").core == "cortex-m4"  # an M4 without FPU: soft float
    assert targets.resolve_target("MIMXRT1060-EVK").flash_kb is None  # external flash: not invented


def test_search_words_kinds_and_favourites_first():
    found = targets.search_targets("nucleo l4", kind="board")
    assert found and all(t.kind == "board" and "L4" in t.name for t in found)
    teensy = targets.search_targets("teensy", favourites=["PJRC Teensy 4.1"])
    assert teensy[0].name == "PJRC Teensy 4.1"
    assert [t.kind for t in targets.search_targets("cortex-m0plus", kind="core")] == ["core"]
    with pytest.raises(UsageError, match="kind"):
        targets.search_targets("x", kind="chip")


def test_default_limits_and_time_at_the_clock():
    assert targets.default_limits("NUCLEO-L432KC") == (32.0, 128.0)
    assert targets.default_limits("cortex-m4f") == (None, None)
    assert targets.default_limits("MIMXRT1060-EVK") == (512.0, None)
    # The time at the clock (metadata.json "timing") uses the catalogue's clock, a typical one for a bare core.
    assert targets.clock_mhz(targets.resolve_target("NUCLEO-L432KC")) == 80
    assert targets.clock_mhz(targets.resolve_target("cortex-m4f")) > 0


def test_cli_favourites_persist_in_the_user_config(tmp_path, monkeypatch):
    import os

    env = {**os.environ, "NEAI_CONFIG_DIR": str(tmp_path / "config")}
    assert "favourites: NUCLEO-L432KC" in neai("targets", "--favourite", "nucleo-l432kc", env=env).stdout
    neai("targets", "--favourite", "Raspberry Pi Pico", env=env)
    config = json.loads((tmp_path / "config" / "config.json").read_text())
    assert config["favourite_targets"] == ["NUCLEO-L432KC", "Raspberry Pi Pico"]
    listing = neai("targets", "--search", "nucleo-l4", env=env).stdout.splitlines()
    assert listing[1].startswith("* NUCLEO-L432KC")
    doc = json.loads(neai("targets", "--favourites", "--json", env=env).stdout)
    assert [t["name"] for t in doc["targets"]] == ["NUCLEO-L432KC", "Raspberry Pi Pico"]
    neai("targets", "--unfavourite", "NUCLEO-L432KC", env=env)
    assert json.loads(neai("targets", "--favourites", "--json", env=env).stdout)["favourites"] == ["Raspberry Pi Pico"]
    bad = neai("targets", "--favourite", "nucleo-l4", code=2, env=env)
    assert "unknown target" in bad.stderr and "NUCLEO-L432KC" in bad.stderr


def test_new_project_limits_default_to_half_the_target(tmp_path):
    neai("new", tmp_path / "a", "--type", "anomaly", "--axes", 3, "--target", "NUCLEO-L432KC")
    settings = json.loads((tmp_path / "a" / "project.json").read_text())["settings"]
    assert (settings["max_ram_kb"], settings["max_flash_kb"]) == (32.0, 128.0)
    neai("new", tmp_path / "b", "--type", "anomaly", "--axes", 3, "--target", "NUCLEO-L432KC", "--max-ram", 8)
    settings = json.loads((tmp_path / "b" / "project.json").read_text())["settings"]
    assert (settings["max_ram_kb"], settings["max_flash_kb"]) == (8.0, 128.0)
    neai("new", tmp_path / "c", "--type", "anomaly", "--axes", 3)  # a bare core: no memory, no limit
    settings = json.loads((tmp_path / "c" / "project.json").read_text())["settings"]
    assert (settings["max_ram_kb"], settings["max_flash_kb"]) == (None, None)


def test_the_generator_reproduces_the_shipped_data(tmp_path, monkeypatch):
    """Where modm-devices and pyOCD are installed (development), the script writes the same file."""
    pytest.importorskip("modm_devices", reason="modm-devices (a development-time source) is not installed")
    pytest.importorskip("pyocd", reason="pyOCD (a development-time source) is not installed")
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        import gen_targets
    finally:
        sys.path.pop(0)
    monkeypatch.setattr(gen_targets, "OUT", tmp_path / "targets.json")
    gen_targets.main()
    assert (tmp_path / "targets.json").read_text() == targets.DATA_FILE.read_text()
