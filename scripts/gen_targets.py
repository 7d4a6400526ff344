"""Generate neai_tui/engine/data/targets.json, the target catalogue (development time only).

Sources, each recorded per entry (``source``) and in the file's header:

* **modm-devices** (PyPI ``modm-devices``, MPL-2.0; curated from the vendors' own device
  data: ST's CubeMX database, Microchip's ATDF, Nordic's and Raspberry Pi's SVD/datasheets):
  every STM32, nRF5x, SAM D/E/G/L/S/V and RP2xxx device with its core, FPU, flash and RAM
  regions; for STM32 also the flash wait-state table, whose largest HCLK is the maximum clock.
* **pyOCD** (PyPI ``pyocd``, Apache-2.0): the debug-probe board list (board name -> target
  part) and the built-in targets' memory maps (flash and RAM regions) for parts modm-devices
  does not cover (NXP Kinetis/LPC, Maxim, Nuvoton, Cypress PSoC 6).
* **Datasheet table** (below, ``FAMILIES`` / ``EXTRA_MCUS`` / ``EXTRA_BOARDS``): the core, FPU
  and maximum clock of the pyOCD parts (pyOCD finds the core at run time, so its target
  files do not name it), the i.MX RT crossover MCUs (flash is external, on the board), the
  RP2350's 520 KB SRAM, and popular boards that are not debug-probe boards (Arduino,
  Adafruit, Seeed, SparkFun, Raspberry Pi, PJRC Teensy, Nordic DKs, ST sensor kits), each
  from its vendor's product page or datasheet.

Only parts whose core neai-tui builds for are kept (Cortex-M0/M0+/M3/M4/M4F/M7/M33 with
FPU/M55). Sizes are KiB (1024 bytes); RAM is the sum of the part's SRAM regions (TCM, CCM
and SRAM banks; not the backup SRAM, not TrustZone aliases).

Run (network-free, from the package index):

    python -m venv /tmp/gen && /tmp/gen/bin/pip install modm-devices==0.13.1 pyocd==0.46.0
    /tmp/gen/bin/python scripts/gen_targets.py            # writes the JSON, prints a summary
"""
from __future__ import annotations

import ast
import importlib.metadata as md
import itertools
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "neai_tui" / "engine" / "data" / "targets.json"

MODM = "modm-devices"
PYOCD = "pyocd"
TABLE = "datasheet"

# --------------------------------------------------------------------------- datasheet tables

# pyOCD target name (regex) -> vendor, core, FPU, max clock MHz, MCU name, datasheet
FAMILIES = [
    (r"k20d50m$", "NXP", "cortex-m4", None, 50, "MK20DX128VLH5", "K20P64M50SF0 datasheet"),
    (r"k22f$", "NXP", "cortex-m4f", "fpv4-sp-d16", 120, "MK22FN512VLH12", "K22P64M120SF5V2 datasheet"),
    (r"k28f15$", "NXP", "cortex-m4f", "fpv4-sp-d16", 150, "MK28FN2M0VMI15", "K28P210M150SF5 datasheet"),
    (r"k64f$", "NXP", "cortex-m4f", "fpv4-sp-d16", 120, "MK64FN1M0VLL12", "K64P144M120SF5 datasheet"),
    (r"k66f18$", "NXP", "cortex-m4f", "fpv4-sp-d16", 180, "MK66FN2M0VMD18", "K66P144M180SF5V2 datasheet"),
    (r"k82f25615$", "NXP", "cortex-m4f", "fpv4-sp-d16", 150, "MK82FN256VLL15", "K82P121M150SF5 datasheet"),
    (r"ke15z7$", "NXP", "cortex-m0plus", None, 72, "MKE15Z256VLL7", "KE1xZP100M72SF0 datasheet"),
    (r"ke17z7$", "NXP", "cortex-m0plus", None, 72, "MKE17Z256VLL7", "KE1xZP100M72SF0 datasheet"),
    (r"ke18f16$", "NXP", "cortex-m4f", "fpv4-sp-d16", 168, "MKE18F512VLL16", "KE1xFP100M168SF0 datasheet"),
    (r"kl02z$", "NXP", "cortex-m0plus", None, 48, "MKL02Z32VFM4", "KL02P32M48SF0 datasheet"),
    (r"kl05z$", "NXP", "cortex-m0plus", None, 48, "MKL05Z32VLF4", "KL05P48M48SF1 datasheet"),
    (r"kl25z$", "NXP", "cortex-m0plus", None, 48, "MKL25Z128VLK4", "KL25P80M48SF0 datasheet"),
    (r"kl26z$", "NXP", "cortex-m0plus", None, 48, "MKL26Z256VLL4", "KL26P121M48SF4 datasheet"),
    (r"kl27z4$", "NXP", "cortex-m0plus", None, 48, "MKL27Z256VLH4", "KL27P64M48SF6 datasheet"),
    (r"kl28z$", "NXP", "cortex-m0plus", None, 72, "MKL28Z512VLL7", "KL28P121M72SF1 datasheet"),
    (r"kl43z4$", "NXP", "cortex-m0plus", None, 48, "MKL43Z256VLH4", "KL43P64M48SF6 datasheet"),
    (r"kl46z$", "NXP", "cortex-m0plus", None, 48, "MKL46Z256VLL4", "KL46P121M48SF4 datasheet"),
    (r"kl82z7$", "NXP", "cortex-m0plus", None, 72, "MKL82Z128VLK7", "KL82P121M72SF0 datasheet"),
    (r"kv10z7$", "NXP", "cortex-m0plus", None, 75, "MKV10Z128VLH7", "KV10P64M75 datasheet"),
    (r"kv11z7$", "NXP", "cortex-m0plus", None, 75, "MKV11Z128VLH7", "KV11P64M75 datasheet"),
    (r"kw24d5$", "NXP", "cortex-m4", None, 50, "MKW24D512VHA5", "MKW2xD datasheet"),
    (r"kw36z4$", "NXP", "cortex-m0plus", None, 48, "MKW36Z512VHT4", "MKW36Z datasheet"),
    (r"kw41z4$", "NXP", "cortex-m0plus", None, 48, "MKW41Z512VHT4", "MKW41Z datasheet"),
    (r"k32l2b3$", "NXP", "cortex-m0plus", None, 48, "K32L2B31VLH0A", "K32L2B datasheet"),
    (r"lpc11u24$", "NXP", "cortex-m0", None, 50, "LPC11U24FBD64", "LPC11U2x datasheet"),
    (r"lpc1768$", "NXP", "cortex-m3", None, 100, "LPC1768FBD100", "LPC176x/5x datasheet"),
    (r"lpc4088$", "NXP", "cortex-m4f", "fpv4-sp-d16", 120, "LPC4088FBD208", "LPC408x/7x datasheet"),
    (r"lpc4330$", "NXP", "cortex-m4f", "fpv4-sp-d16", 204, "LPC4330FBD144", "LPC4350/30/20/10 datasheet"),
    (r"lpc54114$", "NXP", "cortex-m4f", "fpv4-sp-d16", 100, "LPC54114J256BD64", "LPC5411x datasheet"),
    (r"lpc54608$", "NXP", "cortex-m4f", "fpv4-sp-d16", 180, "LPC54608J512ET180", "LPC546xx datasheet"),
    (r"lpc5526$", "NXP", "cortex-m33", "fpv5-sp-d16", 150, "LPC5526JBD100", "LPC55S2x/LPC552x datasheet"),
    (r"lpc55s16$", "NXP", "cortex-m33", "fpv5-sp-d16", 150, "LPC55S16JBD100", "LPC55S1x/LPC551x datasheet"),
    (r"lpc55s28$", "NXP", "cortex-m33", "fpv5-sp-d16", 150, "LPC55S28JBD100", "LPC55S2x/LPC552x datasheet"),
    (r"lpc55s36$", "NXP", "cortex-m33", "fpv5-sp-d16", 150, "LPC55S36JBD100", "LPC553x/LPC55S3x datasheet"),
    (r"lpc55s69$", "NXP", "cortex-m33", "fpv5-sp-d16", 150, "LPC55S69JBD100", "LPC55S6x datasheet"),
    (r"lpc824$", "NXP", "cortex-m0plus", None, 30, "LPC824M201JHI33", "LPC82x datasheet"),
    (r"lpc845$", "NXP", "cortex-m0plus", None, 30, "LPC845M301JBD48", "LPC84x datasheet"),
    (r"max32600$", "Analog Devices", "cortex-m3", None, 24, "MAX32600", "MAX32600 datasheet"),
    (r"max32620$", "Analog Devices", "cortex-m4f", "fpv4-sp-d16", 96, "MAX32620", "MAX32620 datasheet"),
    (r"max32625$", "Analog Devices", "cortex-m4f", "fpv4-sp-d16", 96, "MAX32625", "MAX32625 datasheet"),
    (r"max32630$", "Analog Devices", "cortex-m4f", "fpv4-sp-d16", 96, "MAX32630", "MAX32630 datasheet"),
    (r"max32660$", "Analog Devices", "cortex-m4f", "fpv4-sp-d16", 96, "MAX32660", "MAX32660 datasheet"),
    (r"max32666$", "Analog Devices", "cortex-m4f", "fpv4-sp-d16", 96, "MAX32666", "MAX32666 datasheet"),
    (r"max32670$", "Analog Devices", "cortex-m4f", "fpv4-sp-d16", 100, "MAX32670", "MAX32670 datasheet"),
    (r"m467hjhae$", "Nuvoton", "cortex-m4f", "fpv4-sp-d16", 200, "M467HJHAE", "M460 series datasheet"),
    (r"m487jidae$", "Nuvoton", "cortex-m4f", "fpv4-sp-d16", 192, "M487JIDAE", "M480 series datasheet"),
    (r"cy8c6xx7$", "Infineon", "cortex-m4f", "fpv4-sp-d16", 150, "CY8C6247BZI-D54", "PSoC 62 datasheet"),
    (r"cy8c6xxa$", "Infineon", "cortex-m4f", "fpv4-sp-d16", 150, "CY8C624ABZI-S2D44", "PSoC 62 datasheet"),
    (r"cy8c6xx5$", "Infineon", "cortex-m4f", "fpv4-sp-d16", 150, "CY8C6245LQI-S3D72", "PSoC 62 datasheet"),
]

# MCUs neither source gives whole: name, vendor, core, FPU, flash KiB (0: external, on the board), RAM KiB, MHz
EXTRA_MCUS = [
    ("MIMXRT1011DAE5A", "NXP", "cortex-m7", "fpv5-d16", 0, 128, 500, "i.MX RT1010 datasheet"),
    ("MIMXRT1015DAF5A", "NXP", "cortex-m7", "fpv5-d16", 0, 128, 500, "i.MX RT1015 datasheet"),
    ("MIMXRT1021DAG5A", "NXP", "cortex-m7", "fpv5-d16", 0, 256, 500, "i.MX RT1020 datasheet"),
    ("MIMXRT1024DAG5A", "NXP", "cortex-m7", "fpv5-d16", 4096, 256, 500, "i.MX RT1024 datasheet"),
    ("MIMXRT1042XJM5B", "NXP", "cortex-m7", "fpv5-d16", 0, 512, 528, "i.MX RT1040 datasheet"),
    ("MIMXRT1052DVL6B", "NXP", "cortex-m7", "fpv5-d16", 0, 512, 600, "i.MX RT1050 datasheet"),
    ("MIMXRT1062DVL6A", "NXP", "cortex-m7", "fpv5-d16", 0, 1024, 600, "i.MX RT1060 datasheet"),
    ("MIMXRT1064DVL6A", "NXP", "cortex-m7", "fpv5-d16", 4096, 1024, 600, "i.MX RT1064 datasheet"),
    ("MIMXRT1176DVMAA", "NXP", "cortex-m7", "fpv5-d16", 0, 2048, 1000, "i.MX RT1170 datasheet"),
    ("RP2350", "Raspberry Pi", "cortex-m33", "fpv5-sp-d16", 0, 520, 150, "RP2350 datasheet"),
    ("AE722F80F55D5", "Alif", "cortex-m55", "fpv5-d16", 5632, 13824, 400, "Alif Ensemble E7 datasheet"),
    ("MK20DX256VLH7", "NXP", "cortex-m4", None, 256, 64, 72, "K20P64M72SF1 datasheet"),
    ("STM32N657X0", "STMicroelectronics", "cortex-m55", "fpv5-d16", 0, 4608, 800, "STM32N657 datasheet"),
]
EXTRA_MCU_NAMES = {m[0] for m in EXTRA_MCUS}

# pyOCD targets whose MCU is in EXTRA_MCUS (boards keep their own flash, from pyOCD's memory map)
PYOCD_TO_EXTRA = {
    "mimxrt1010": "MIMXRT1011DAE5A", "mimxrt1015": "MIMXRT1015DAF5A", "mimxrt1020": "MIMXRT1021DAG5A",
    "mimxrt1024": "MIMXRT1024DAG5A", "mimxrt1050_hyperflash": "MIMXRT1052DVL6B", "mimxrt1050": "MIMXRT1052DVL6B",
    "mimxrt1060": "MIMXRT1062DVL6A", "mimxrt1064": "MIMXRT1064DVL6A", "mimxrt1170_cm7": "MIMXRT1176DVMAA",
    "mimxrt1042xjm5b": "MIMXRT1042XJM5B", "mk20dx256vlh7": "MK20DX256VLH7", "rp2040": "RP2040",
    "nrf51": "nRF51822", "nrf52": "nRF52832", "nrf52832": "nRF52832", "nrf52833": "nRF52833",
    "nrf52840": "nRF52840", "lpc11xx_32": None,
}

# Boards that are not debug-probe boards: name, vendor, MCU, flash KiB (None: the MCU's), source
EXTRA_BOARDS = [
    ("B-U585I-IOT02A", "STMicroelectronics", "STM32U585AI", None, "st.com B-U585I-IOT02A"),
    ("B-L475E-IOT01A", "STMicroelectronics", "STM32L475VG", None, "st.com B-L475E-IOT01A"),
    ("B-L4S5I-IOT01A", "STMicroelectronics", "STM32L4S5VI", None, "st.com B-L4S5I-IOT01A"),
    ("STEVAL-STWINKT1B", "STMicroelectronics", "STM32L4R9ZI", None, "st.com STEVAL-STWINKT1B"),
    ("STEVAL-STWINBX1", "STMicroelectronics", "STM32U585AI", None, "st.com STEVAL-STWINBX1"),
    ("STEVAL-MKSBOX1V1 (SensorTile.box)", "STMicroelectronics", "STM32L4R9ZI", None, "st.com STEVAL-MKSBOX1V1"),
    ("STEVAL-MKBOXPRO (SensorTile.box PRO)", "STMicroelectronics", "STM32U585AI", None, "st.com STEVAL-MKBOXPRO"),
    ("NUCLEO-U575ZI-Q", "STMicroelectronics", "STM32U575ZI", None, "st.com NUCLEO-U575ZI-Q"),
    ("NUCLEO-U5A5ZJ-Q", "STMicroelectronics", "STM32U5A5ZJ", None, "st.com NUCLEO-U5A5ZJ-Q"),
    ("NUCLEO-C031C6", "STMicroelectronics", "STM32C031C6", None, "st.com NUCLEO-C031C6"),
    ("NUCLEO-C071RB", "STMicroelectronics", "STM32C071RB", None, "st.com NUCLEO-C071RB"),
    ("NUCLEO-G491RE", "STMicroelectronics", "STM32G491RE", None, "st.com NUCLEO-G491RE"),
    ("NUCLEO-G0B1RE", "STMicroelectronics", "STM32G0B1RE", None, "st.com NUCLEO-G0B1RE"),
    ("NUCLEO-H563ZI", "STMicroelectronics", "STM32H563ZI", None, "st.com NUCLEO-H563ZI"),
    ("NUCLEO-H7A3ZI-Q", "STMicroelectronics", "STM32H7A3ZI", None, "st.com NUCLEO-H7A3ZI-Q"),
    ("NUCLEO-H723ZG", "STMicroelectronics", "STM32H723ZG", None, "st.com NUCLEO-H723ZG"),
    ("NUCLEO-WL55JC", "STMicroelectronics", "STM32WL55JC", None, "st.com NUCLEO-WL55JC"),
    ("NUCLEO-L4R5ZI", "STMicroelectronics", "STM32L4R5ZI", None, "st.com NUCLEO-L4R5ZI"),
    ("NUCLEO-F411RE", "STMicroelectronics", "STM32F411RE", None, "st.com NUCLEO-F411RE"),
    ("NUCLEO-L4A6ZG", "STMicroelectronics", "STM32L4A6ZG", None, "st.com NUCLEO-L4A6ZG"),
    ("STM32F746G-DISCO", "STMicroelectronics", "STM32F746NG", None, "st.com 32F746GDISCOVERY"),
    ("STM32F4DISCOVERY", "STMicroelectronics", "STM32F407VG", None, "st.com STM32F4DISCOVERY"),
    ("STM32N6570-DK", "STMicroelectronics", "STM32N657X0", 131072, "st.com STM32N6570-DK (128 MB octo-SPI flash)"),
    ("Arduino Nano 33 BLE", "Arduino", "nRF52840", None, "docs.arduino.cc ABX00030"),
    ("Arduino Nano 33 BLE Sense", "Arduino", "nRF52840", None, "docs.arduino.cc ABX00031"),
    ("Arduino Nano 33 IoT", "Arduino", "ATSAMD21G18A", None, "docs.arduino.cc ABX00027"),
    ("Arduino Nano RP2040 Connect", "Arduino", "RP2040", 16384, "docs.arduino.cc ABX00053 (16 MB flash)"),
    ("Arduino Zero", "Arduino", "ATSAMD21G18A", None, "docs.arduino.cc ABX00003"),
    ("Arduino MKR WiFi 1010", "Arduino", "ATSAMD21G18A", None, "docs.arduino.cc ABX00023"),
    ("Arduino MKR Zero", "Arduino", "ATSAMD21G18A", None, "docs.arduino.cc ABX00012"),
    ("Arduino Nicla Sense ME", "Arduino", "nRF52832", None, "docs.arduino.cc ABX00050"),
    ("Arduino Portenta H7", "Arduino", "STM32H747XI", None, "docs.arduino.cc ABX00042"),
    ("Arduino Giga R1 WiFi", "Arduino", "STM32H747XI", None, "docs.arduino.cc ABX00063"),
    ("Raspberry Pi Pico", "Raspberry Pi", "RP2040", 2048, "raspberrypi.com Pico datasheet (2 MB flash)"),
    ("Raspberry Pi Pico W", "Raspberry Pi", "RP2040", 2048, "raspberrypi.com Pico W datasheet (2 MB flash)"),
    ("Raspberry Pi Pico 2", "Raspberry Pi", "RP2350", 4096, "raspberrypi.com Pico 2 datasheet (4 MB flash)"),
    ("Adafruit Feather M0", "Adafruit", "ATSAMD21G18A", None, "adafruit.com product 2772"),
    ("Adafruit Feather M4 Express", "Adafruit", "ATSAMD51J19A", None, "adafruit.com product 3857"),
    ("Adafruit Metro M4 Express", "Adafruit", "ATSAMD51J19A", None, "adafruit.com product 3382"),
    ("Adafruit ItsyBitsy M4 Express", "Adafruit", "ATSAMD51G19A", None, "adafruit.com product 3800"),
    ("Adafruit Grand Central M4", "Adafruit", "ATSAMD51P20A", None, "adafruit.com product 4064"),
    ("Adafruit Feather nRF52840 Express", "Adafruit", "nRF52840", None, "adafruit.com product 4062"),
    ("Adafruit CLUE", "Adafruit", "nRF52840", None, "adafruit.com product 4500"),
    ("Adafruit Circuit Playground Bluefruit", "Adafruit", "nRF52840", None, "adafruit.com product 4333"),
    ("Adafruit Feather RP2040", "Adafruit", "RP2040", 8192, "adafruit.com product 4884 (8 MB flash)"),
    ("Adafruit Feather STM32F405 Express", "Adafruit", "STM32F405RG", None, "adafruit.com product 4382"),
    ("Seeed XIAO SAMD21", "Seeed Studio", "ATSAMD21G18A", None, "wiki.seeedstudio.com XIAO SAMD21"),
    ("Seeed XIAO nRF52840 Sense", "Seeed Studio", "nRF52840", None, "wiki.seeedstudio.com XIAO nRF52840"),
    ("Seeed XIAO RP2040", "Seeed Studio", "RP2040", 2048, "wiki.seeedstudio.com XIAO RP2040 (2 MB flash)"),
    ("Seeed Wio Terminal", "Seeed Studio", "ATSAMD51P19A", None, "wiki.seeedstudio.com Wio Terminal"),
    ("SparkFun Thing Plus SAMD51", "SparkFun", "ATSAMD51J20A", None, "sparkfun.com DEV-14713"),
    ("SparkFun RedBoard Turbo", "SparkFun", "ATSAMD21G18A", None, "sparkfun.com DEV-14812"),
    ("Nordic nRF52840 DK", "Nordic Semiconductor", "nRF52840", None, "nordicsemi.com nRF52840 DK"),
    ("Nordic nRF52833 DK", "Nordic Semiconductor", "nRF52833", None, "nordicsemi.com nRF52833 DK"),
    ("Nordic nRF52 DK", "Nordic Semiconductor", "nRF52832", None, "nordicsemi.com nRF52 DK"),
    ("Nordic nRF5340 DK", "Nordic Semiconductor", "nRF5340", None, "nordicsemi.com nRF5340 DK"),
    ("Nordic Thingy:52", "Nordic Semiconductor", "nRF52832", None, "nordicsemi.com Nordic Thingy:52"),
    ("BBC micro:bit v2", "Micro:bit Educational Foundation", "nRF52833", None, "tech.microbit.org hardware v2"),
    ("PJRC Teensy 4.0", "PJRC", "MIMXRT1062DVL6A", 1984, "pjrc.com Teensy 4.0 (2 MB flash, 1984 KB for code)"),
    ("PJRC Teensy 4.1", "PJRC", "MIMXRT1062DVL6A", 7936, "pjrc.com Teensy 4.1 (8 MB flash, 7936 KB for code)"),
    ("PJRC Teensy 3.2", "PJRC", "MK20DX256VLH7", None, "pjrc.com Teensy 3.2"),
    ("Alif Ensemble E7 DevKit", "Alif", "AE722F80F55D5", None, "alifsemi.com Ensemble E7 DevKit"),
]

# modm-devices: the maximum clock of the non-STM32 families (STM32s carry theirs)
MODM_CLOCKS = [
    (r"nrf51", 16), (r"nrf5340", 128), (r"nrf52", 64),
    (r"samd(09|10|11|20|21)|samda1", 48), (r"saml21", 48), (r"saml22", 32), (r"sam[de]5", 120),
    (r"sam[esv]7", 300), (r"samg5[13]", 48), (r"samg54", 96), (r"samg55", 120),
    (r"rp2040", 133), (r"rp2350", 150),
]
MODM_VENDORS = {"stm32": "STMicroelectronics", "nrf": "Nordic Semiconductor", "sam": "Microchip",
                "rp": "Raspberry Pi"}


# --------------------------------------------------------------------------- modm-devices


def core_name(kind: str | None, fpu: str | None) -> str | None:
    """modm-devices' core type and FPU -> neai-tui's core names (None: not built for)."""
    if kind in ("cortex-m0", "cortex-m0plus", "cortex-m3", "cortex-m7", "cortex-m55"):
        return kind
    if kind == "cortex-m4":
        return "cortex-m4f" if fpu else "cortex-m4"
    if kind == "cortex-m33":
        return "cortex-m33" if fpu else None  # no soft-float M33 build yet
    return None


def _matches(element: ET.Element, fields: dict[str, str]) -> bool:
    for key, value in element.attrib.items():
        if key.startswith("device-") and fields.get(key[7:], "") not in value.split("|"):
            return False
    return True


def _schema_regex(device: ET.Element, schema: str) -> re.Pattern:
    def field(match: re.Match) -> str:
        name = match.group(1)
        options = sorted(device.attrib.get(name, "").split("|"), key=len, reverse=True)
        return f"(?P<{name}>{'|'.join(map(re.escape, options))})"

    return re.compile(re.sub(r"\{(\w+)\}", field, schema.replace("-", r"\-")) + "$")


RAM_SKIP = re.compile(r"^(backup|bkpsram.*|eeprom|code|itcm_flash|flash.*)$")


CORE_RANK = {"cortex-m7": 6, "cortex-m55": 5, "cortex-m33": 4, "cortex-m4": 3, "cortex-m3": 2, "cortex-m0plus": 1,
             "cortex-m0": 0}
SCHEMA_FIELD = re.compile(r"\{(\w+)\}")


def _attr(driver: ET.Element, view: dict[str, str], name: str) -> str | None:
    """A core driver's type or fpu: its attribute, or (dual-core parts) its matching attribute-NAME child."""
    if driver.get(name):
        return driver.get(name)
    child = next((a for a in driver.findall(f"attribute-{name}") if _matches(a, view)), None)
    return child.get("value") if child is not None else None


def _device_names(device: ET.Element, schema: str) -> list[str]:
    """The valid devices of a file: its list, else every combination of its fields but the invalid ones."""
    valid = [v.text.strip() for v in device.findall("valid-device")]
    if valid:
        return valid
    invalid = {v.text.strip() for v in device.findall("invalid-device")}
    fields = SCHEMA_FIELD.findall(schema)
    options = [device.attrib.get(f, "").split("|") for f in fields]
    names = []
    for combo in itertools.product(*options):
        values = dict(zip(fields, combo))
        name = SCHEMA_FIELD.sub(lambda m: values[m.group(1)], schema)
        if name not in invalid:
            names.append(name)
    return names


def modm_devices() -> list[dict]:
    import modm_devices as pkg

    root = Path(pkg.__file__).parent / "resources" / "devices"
    version = md.version("modm-devices")
    out: dict[str, dict] = {}
    for path in sorted(root.glob("*/*.xml")):
        if path.parent.name == "avr":
            continue
        device = ET.parse(path).getroot().find("device")
        schema = device.findtext("naming-schema")
        pattern = _schema_regex(device, schema)
        core_el = [d for d in device.findall("driver") if d.get("name") == "core"]
        flash_driver = next((d for d in device.findall("driver") if d.get("name") == "flash"), None)
        for full in _device_names(device, schema):
            m = pattern.match(full)
            if not m:
                continue
            fields = {k: v or "" for k, v in m.groupdict().items()}
            platform = fields["platform"]
            name = mcu_name(platform, fields)
            if name is None:
                continue
            # dual-core parts (H7x5/x7, WL55, nRF5340): the strongest core (with an FPU first) runs the
            # library; STM32 cores share their memories (every core's view counts), nRF5340's do not
            views = [dict(fields, core=c) for c in device.get("core", "").split("|")] if device.get("core") else [fields]
            cores = [(c, v) for v in views for c in core_el if _matches(c, v)]
            if not cores:
                continue
            main, main_view = max(cores, key=lambda cv: (bool(_attr(*cv, "fpu")), CORE_RANK.get(_attr(*cv, "type"), -1)))
            main_type, main_fpu = _attr(main, main_view, "type"), _attr(main, main_view, "fpu")
            core = core_name(main_type, main_fpu)
            if core is None:
                continue
            counted = cores if platform == "stm32" else [(main, main_view)]
            flash = ram = 0
            seen = set()
            for c, view in counted:
                for mem in c.findall("memory"):
                    if not _matches(mem, view):
                        continue
                    mname = mem.get("name", "")
                    key = (mname, mem.get("start"))
                    if key in seen or mname.endswith("_s") or (platform == "sam" and mname == "lpram"
                                                               and fields.get("series", "")[1:] == "51"):
                        continue
                    seen.add(key)
                    size = int(mem.get("size", "0"), 0)
                    if mname.startswith("flash") and "x" in mem.get("access", ""):
                        flash += size
                    elif "w" in mem.get("access", "") and not RAM_SKIP.match(mname):
                        ram += size
            clock = None
            if flash_driver is not None:
                clocks = [int(ws.get("hclk-max")) for lat in flash_driver.findall("latency")
                          for ws in lat.findall("wait-state") if _matches(ws, main_view) and ws.get("hclk-max")]
                clock = max(clocks) // 1_000_000 if clocks else None
            if clock is None:
                key = name.lower().removeprefix("at")
                clock = next((mhz for rx, mhz in MODM_CLOCKS if re.match(rx, key)), None)
            entry = {"name": name, "vendor": MODM_VENDORS.get(platform, platform), "core": core,
                     "fpu": main_fpu, "flash_kb": flash // 1024 or None, "ram_kb": ram // 1024,
                     "clock_mhz": clock, "source": f"{MODM} {version}"}
            previous = out.get(name)
            if previous is None or ((previous["flash_kb"] or 0), previous["ram_kb"]) < ((entry["flash_kb"] or 0),
                                                                                       entry["ram_kb"]):
                out[name] = entry
    return list(out.values())


def mcu_name(platform: str, f: dict[str, str]) -> str | None:
    """The part number a catalogue shows: without package, temperature range or grade."""
    if platform == "stm32":
        return f"STM32{f['family']}{f['name']}{f['pin']}{f['size']}".upper()
    if platform == "nrf":
        return f"nRF{f['family']}{f['series']}"
    if platform == "sam":
        return f"AT{'SAM'}{f['series']}{f['pin']}{f['flash']}{f['variant']}".upper()
    if platform == "rp":
        return f"RP{f['cores']}{f['type']}{f['ram']}{f['flash']}"
    return None


# --------------------------------------------------------------------------- pyOCD


def pyocd_boards() -> list[tuple[str, str]]:
    """(board name, pyOCD target name) of pyOCD's debug-probe board list."""
    import pyocd.board.board_ids as ids

    tree = ast.parse(Path(ids.__file__).read_text())
    boards = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "BOARD_ID_TO_INFO":
            for value in node.value.values:
                args = [a.value if isinstance(a, ast.Constant) else None for a in value.args]
                if args and args[1]:
                    boards.append((args[0], args[1]))
    return boards


def pyocd_memory(target: str) -> tuple[int, int] | None:
    """(flash KiB, RAM KiB) of a pyOCD built-in target's memory map."""
    from pyocd.core.memory_map import MemoryType
    from pyocd.target import TARGET

    cls = TARGET.get(target)
    regions = getattr(cls, "MEMORY_MAP", None) if cls is not None else None
    if regions is None:
        return None

    def total(kind) -> int:  # secure/non-secure aliases of one region count once
        return sum(r.length for r in regions if r.type == kind and r._attributes.get("alias") is None)

    return total(MemoryType.FLASH) // 1024, total(MemoryType.RAM) // 1024


def pyocd_mcus() -> dict[str, dict]:
    """pyOCD target name -> MCU entry, for the families of the datasheet table."""
    from pyocd.target import TARGET

    version = md.version("pyocd")
    out = {}
    for target in sorted(TARGET):
        family = next((f for f in FAMILIES if re.match(f[0], target)), None)
        memory = pyocd_memory(target)
        if family is None or memory is None:
            continue
        _, vendor, core, fpu, clock, name, sheet = family
        out[target] = {"name": name, "vendor": vendor, "core": core, "fpu": fpu, "flash_kb": memory[0],
                       "ram_kb": memory[1], "clock_mhz": clock,
                       "source": f"{PYOCD} {version} memory map; {TABLE}: {sheet}"}
    return out


# --------------------------------------------------------------------------- assembling


def main() -> int:
    mcus = {m["name"]: m for m in modm_devices()}
    by_pyocd = pyocd_mcus()
    for entry in by_pyocd.values():
        mcus.setdefault(entry["name"], entry)
    for name, vendor, core, fpu, flash, ram, clock, sheet in EXTRA_MCUS:
        mcus[name] = {"name": name, "vendor": vendor, "core": core, "fpu": fpu, "flash_kb": flash or None, "ram_kb": ram,
                      "clock_mhz": clock, "source": f"{TABLE}: {sheet}"}

    def find_mcu(target: str) -> dict | None:
        t = target.lower()
        if t in PYOCD_TO_EXTRA:
            return mcus.get(PYOCD_TO_EXTRA[t]) if PYOCD_TO_EXTRA[t] else None
        if t in by_pyocd:
            return by_pyocd[t]
        if t.startswith("stm32"):
            part = t[:11].upper()  # stm32 + family (1-2) + name (2) + pin + size; package etc. dropped
            for length in (11, 12):
                hit = mcus.get(t[:length].upper())
                if hit:
                    return hit
            # "stm32f429xi": pin unknown -> the largest part of that line and size
            m = re.match(r"(stm32\w\d\w?\d\d)x(\w)", t)
            if m:
                cands = [v for k, v in mcus.items() if re.fullmatch(rf"{m.group(1).upper()}.{m.group(2).upper()}", k)]
                if cands:
                    return max(cands, key=lambda v: (v["flash_kb"], v["ram_kb"]))
            return mcus.get(part)
        return None

    version = md.version("pyocd")
    boards: dict[str, dict] = {}
    skipped = []
    for name, target in pyocd_boards():
        # an ST board names its part (NUCLEO-F429ZI) more precisely than pyOCD's target (stm32f429xi)
        named = re.search(r"(?:NUCLEO|DISCO)-([CFGHLUW][0-9A-Z]{5})", name)
        mcu = mcus.get(f"STM32{named.group(1)}") if named else None
        mcu = mcu or find_mcu(target)
        if mcu is None:
            skipped.append((name, target))
            continue
        flash = mcu["flash_kb"]
        if not flash:  # external flash: the board's, from pyOCD's memory map when it has one
            memory = pyocd_memory(target)
            flash = memory[0] if memory and memory[0] else None
        boards.setdefault(name, {**mcu, "name": name, "mcu": mcu["name"], "flash_kb": flash,
                                 "source": f"{PYOCD} {version} board list; MCU: {mcu['source']}"})
    for name, vendor, mcu_name_, flash, source in EXTRA_BOARDS:
        mcu = mcus.get(mcu_name_)
        if mcu is None:
            raise SystemExit(f"board {name}: MCU {mcu_name_} is not in the catalogue")
        boards[name] = {**mcu, "name": name, "vendor": vendor, "mcu": mcu["name"],
                        "flash_kb": flash if flash is not None else mcu["flash_kb"],
                        "source": f"{TABLE}: {source}; MCU: {mcu['source']}"}
    for b in boards.values():
        b["board_vendor"] = b.pop("vendor")

    doc = {
        "about": "The neai-tui target catalogue, generated by scripts/gen_targets.py: do not edit by hand.",
        "sources": {
            MODM: {"version": md.version("modm-devices"), "licence": "MPL-2.0",
                   "url": "https://github.com/modm-io/modm-devices",
                   "what": "STM32, nRF5x, SAM, RP2xxx devices: core, FPU, memory regions, STM32 maximum clock"},
            PYOCD: {"version": version, "licence": "Apache-2.0", "url": "https://github.com/pyocd/pyOCD",
                    "what": "debug-probe boards and their target parts; memory maps of its built-in targets"},
            TABLE: {"licence": "facts (core, FPU, clock, memory) from the vendors' datasheets and product pages",
                    "what": "core/FPU/clock of pyOCD parts, i.MX RT, RP2350, Alif, and boards without a probe ID"},
        },
        "units": {"flash_kb": "KiB", "ram_kb": "KiB", "clock_mhz": "MHz (maximum core clock)"},
        "boards": sorted(boards.values(), key=lambda b: b["name"].lower()),
        "mcus": sorted(mcus.values(), key=lambda m: m["name"].lower()),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=0, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}: {len(doc['boards'])} boards, {len(doc['mcus'])} MCUs")
    print(f"pyOCD boards left out (MCU without core data here): {len(skipped)}")
    for name, target in skipped:
        print(f"  {name} ({target})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
