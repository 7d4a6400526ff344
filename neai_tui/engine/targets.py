"""The target catalogue: boards and MCUs, each resolved to a Cortex-M core.

`--target` accepts a board name, an MCU name (case-insensitive, `-`/`_` ignored)
or a bare core. Flash/RAM are the device's totals, shown to the user to judge
whether a library fits next to their application.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import UsageError

CORE_NAMES = (
    "cortex-m0",
    "cortex-m0plus",
    "cortex-m3",
    "cortex-m4",
    "cortex-m4f",
    "cortex-m7",
    "cortex-m33",
    "cortex-m55",
)


@dataclass(frozen=True)
class Target:
    name: str  # board or MCU name as the vendor spells it
    mcu: str
    core: str  # one of CORE_NAMES
    flash_kb: int
    ram_kb: int
    kind: str  # "board" | "mcu" | "core"


_BOARDS = [
    # name, MCU, core, flash KB, RAM KB
    ("NUCLEO-L432KC", "STM32L432KC", "cortex-m4f", 256, 64),
    ("NUCLEO-F401RE", "STM32F401RE", "cortex-m4f", 512, 96),
    ("NUCLEO-F411RE", "STM32F411RE", "cortex-m4f", 512, 128),
    ("NUCLEO-L476RG", "STM32L476RG", "cortex-m4f", 1024, 128),
    ("NUCLEO-G474RE", "STM32G474RE", "cortex-m4f", 512, 128),
    ("NUCLEO-WB55RG", "STM32WB55RG", "cortex-m4f", 1024, 256),
    ("B-L475E-IOT01A", "STM32L475VG", "cortex-m4f", 1024, 128),
    ("B-U585I-IOT02A", "STM32U585AI", "cortex-m33", 2048, 786),
    ("STEVAL-STWINKT1B", "STM32L4R9ZI", "cortex-m4f", 2048, 640),
    ("STEVAL-STWINBX1", "STM32U585AI", "cortex-m33", 2048, 786),
    ("NUCLEO-U575ZI-Q", "STM32U575ZI", "cortex-m33", 2048, 786),
    ("NUCLEO-H743ZI2", "STM32H743ZI", "cortex-m7", 2048, 1024),
    ("NUCLEO-F746ZG", "STM32F746ZG", "cortex-m7", 1024, 320),
    ("NUCLEO-F103RB", "STM32F103RB", "cortex-m3", 128, 20),
    ("NUCLEO-L152RE", "STM32L152RE", "cortex-m3", 512, 80),
    ("NUCLEO-G071RB", "STM32G071RB", "cortex-m0plus", 128, 36),
    ("NUCLEO-L053R8", "STM32L053R8", "cortex-m0plus", 64, 8),
    ("NUCLEO-C031C6", "STM32C031C6", "cortex-m0plus", 32, 12),
    ("NUCLEO-F070RB", "STM32F070RB", "cortex-m0", 128, 16),
    ("NUCLEO-F030R8", "STM32F030R8", "cortex-m0", 64, 8),
    ("Arduino Nano 33 BLE", "nRF52840", "cortex-m4f", 1024, 256),
    ("Raspberry Pi Pico", "RP2040", "cortex-m0plus", 2048, 264),
    ("Arduino Nano RP2040 Connect", "RP2040", "cortex-m0plus", 16384, 264),
    ("Alif Ensemble E7 DevKit", "AE722F80F55D5", "cortex-m55", 5632, 13824),
]

DEFAULT_TARGET = "cortex-m4f"


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def catalogue() -> list[Target]:
    targets = [Target(n, m, c, f, r, "board") for n, m, c, f, r in _BOARDS]
    seen = set()
    for _, mcu, core, flash, ram in _BOARDS:
        if mcu not in seen:
            seen.add(mcu)
            targets.append(Target(mcu, mcu, core, flash, ram, "mcu"))
    targets += [Target(c, "", c, 0, 0, "core") for c in CORE_NAMES]
    return targets


def resolve_target(name: str) -> Target:
    """Find a target by board, MCU or core name; raise a UsageError with suggestions."""
    wanted = _key(name)
    for target in catalogue():
        if _key(target.name) == wanted:
            return target
    close = [t.name for t in catalogue() if wanted and (wanted in _key(t.name) or _key(t.name) in wanted)]
    hint = (
        f"Did you mean: {', '.join(close[:5])}? " if close else ""
    ) + "Run `neai targets` for the catalogue, or give a bare core such as cortex-m4f."
    raise UsageError(f"unknown target '{name}'", hint)


def search_targets(text: str) -> list[Target]:
    """Type-to-search: every target whose name, MCU or core contains the text."""
    wanted = _key(text)
    return [t for t in catalogue() if wanted in _key(t.name) or wanted in _key(t.mcu) or wanted in _key(t.core)]


# The highest core clock of each MCU (datasheets), for inference times in ms
# (cost.py: instructions -> cycles -> ms). A bare core uses a typical clock.
CLOCK_MHZ = {
    "STM32L432KC": 80, "STM32F401RE": 84, "STM32F411RE": 100, "STM32L476RG": 80, "STM32G474RE": 170,
    "STM32WB55RG": 64, "STM32L475VG": 80, "STM32U585AI": 160, "STM32L4R9ZI": 120, "STM32U575ZI": 160,
    "STM32H743ZI": 480, "STM32F746ZG": 216, "STM32F103RB": 72, "STM32L152RE": 32, "STM32G071RB": 64,
    "STM32L053R8": 32, "STM32C031C6": 48, "STM32F070RB": 48, "STM32F030R8": 48, "nRF52840": 64,
    "RP2040": 133, "AE722F80F55D5": 400,
}


def clock_mhz(target: Target) -> float:
    """The target's core clock in MHz: its MCU's, else a typical one for the core."""
    from .cost import DEFAULT_CLOCK_MHZ

    return float(CLOCK_MHZ.get(target.mcu) or DEFAULT_CLOCK_MHZ.get(target.core, 80.0))
