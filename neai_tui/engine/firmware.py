"""The real-firmware path: arm-none-eabi-gcc + newlib, run on QEMU's MPS2 boards.

This is how a user builds: their ``main.c`` (GCC) linked with our zig-built
``libneai.a``. We use it to prove the library zip works as shipped — the "Hello
World" compiles and links as is (:func:`compile_only`), and on QEMU it prints the
same numbers as the host build (:func:`build_firmware` + :func:`run_qemu`).

Both tools are optional Debian packages (gcc-arm-none-eabi, libnewlib-arm-none-eabi,
qemu-system-arm): :func:`gcc_available` / :func:`qemu_available` let callers and
tests skip cleanly without them.

The firmware: a vector table and ``Reset_Handler`` (enable the FPU, copy ``.data``
from flash, zero ``.bss``, open the semihosting handles, ``main()``, exit with its
return code through semihosting), newlib's printf writing through semihosting
(``--specs=rdimon.specs``, no UART driver). ``.neai`` is placed in RAM and left
alone: the library's init resets its knowledge, as on a device where the firmware
may restore it from flash first.

Memory map of ``mps2-an385`` / ``an386`` / ``an500`` in QEMU: ZBT SSRAM1 4 MiB at
0x00000000 (our "flash": QEMU loads the ELF's load addresses and boots from the
vector table at 0), ZBT SSRAM2/3 4 MiB at 0x20000000 (RAM).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from .errors import ToolchainError
from .toolchain import define_flags, resolve_core

GCC = "arm-none-eabi-gcc"
QEMU = "qemu-system-arm"

# Boards sharing the memory map of the linker script below, per core. The soft-float
# M4 runs on the M4F board (an FPU nobody uses changes nothing). M0/M0+ have no
# such board; cortex-m33 (an505) and -m55 (an547) boards have other memory maps.
QEMU_MACHINES = {
    "cortex-m3": "mps2-an385",
    "cortex-m4": "mps2-an386",
    "cortex-m4f": "mps2-an386",
    "cortex-m7": "mps2-an500",
}

LINKER_SCRIPT = """\
/* neai-tui test firmware for QEMU mps2-an385/an386/an500 (generated). */
ENTRY(Reset_Handler)
MEMORY
{
  FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 4M
  RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 4M
}
__stack_top__ = ORIGIN(RAM) + LENGTH(RAM);
__stack_size__ = 64K;

SECTIONS
{
  .isr_vector : { KEEP(*(.isr_vector)) } > FLASH
  .text : ALIGN(4)
  {
    *(.text .text.*)
    *(.rodata .rodata.*)
    KEEP(*(.init)) KEEP(*(.fini))
    . = ALIGN(4);
  } > FLASH
  .ARM.extab : { *(.ARM.extab* .gnu.linkonce.armextab.*) } > FLASH
  .ARM.exidx : { __exidx_start = .; *(.ARM.exidx* .gnu.linkonce.armexidx.*) __exidx_end = .; } > FLASH
  .init_array : ALIGN(4)
  {
    __preinit_array_start = .; KEEP(*(.preinit_array)) __preinit_array_end = .;
    __init_array_start = .; KEEP(*(SORT(.init_array.*))) KEEP(*(.init_array)) __init_array_end = .;
    __fini_array_start = .; KEEP(*(SORT(.fini_array.*))) KEEP(*(.fini_array)) __fini_array_end = .;
  } > FLASH
  .data : ALIGN(4)
  {
    __data_start__ = .;
    *(.data .data.*)
    . = ALIGN(4);
    __data_end__ = .;
  } > RAM AT > FLASH
  __data_load__ = LOADADDR(.data);
  .bss (NOLOAD) : ALIGN(4)
  {
    __bss_start__ = .;
    *(.bss .bss.* COMMON)
    . = ALIGN(4);
    __bss_end__ = .;
  } > RAM
  /* Learned knowledge: RAM, not zeroed by startup (the library's init resets it;
     a firmware may restore a backup there first). */
  .neai (NOLOAD) : ALIGN(8)
  {
    __neai_start__ = .;
    KEEP(*(.neai .neai.*))
    __neai_end__ = .;
  } > RAM
  . = ALIGN(8);
  end = .; _end = .; __end__ = .;
  __HeapLimit = __stack_top__ - __stack_size__;
  ASSERT(end <= __HeapLimit, "static RAM overlaps the stack")
}
"""

STARTUP_C = r"""/* neai-tui test firmware startup (generated): vectors, C runtime init, semihosting exit. */
#include <stdint.h>
#include <stdio.h>

extern uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_top__;
extern int main(void);
extern void initialise_monitor_handles(void);

void Reset_Handler(void);
void Fault_Handler(void);
void neai_semihost_exit(int code);
void neai_semihost_write0(const char *text);

__attribute__((section(".isr_vector"), used))
void (*const neai_vectors[16])(void) = {
    (void (*)(void))(&__stack_top__), Reset_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    0, 0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler,
};

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void neai_semihost_write0(const char *text)
{
    semihost(0x04, text); /* SYS_WRITE0 */
}

void neai_semihost_exit(int code)
{
    /* SYS_EXIT_EXTENDED: QEMU exits with `code`. */
    const uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
    semihost(0x20, block);
    for (;;) {
    }
}

void Fault_Handler(void)
{
    neai_semihost_write0("neai-firmware: CPU fault\n");
    neai_semihost_exit(3);
}

void Reset_Handler(void)
{
#if defined(__ARM_FP)
    /* CPACR: full access to CP10/CP11, or the first VFP instruction faults. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    for (uint32_t *src = &__data_load__, *dst = &__data_start__; dst < &__data_end__;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0u;
    }
    initialise_monitor_handles();
    int code = main();
    fflush(stdout);
    neai_semihost_exit(code);
}
"""

GCC_TIMEOUT_S = 120


@lru_cache(maxsize=1)
def gcc_available() -> bool:
    """arm-none-eabi-gcc with newlib's semihosting library is installed."""
    if shutil.which(GCC) is None:
        return False
    try:
        out = subprocess.run([GCC, "-print-file-name=librdimon.a"], capture_output=True, text=True,
                             timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return os.path.isabs(out) and os.path.isfile(out)


@lru_cache(maxsize=1)
def qemu_available() -> bool:
    return shutil.which(QEMU) is not None


def _require_gcc() -> None:
    if not gcc_available():
        raise ToolchainError(
            "arm-none-eabi-gcc (with newlib) is not installed",
            "Install it, e.g. `apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi`.",
        )


def _write_support(directory: Path) -> tuple[Path, Path]:
    ld, startup = directory / "neai_firmware.ld", directory / "neai_startup.c"
    ld.write_text(LINKER_SCRIPT)
    startup.write_text(STARTUP_C)
    return ld, startup


def _gcc_command(core: str, sources: Iterable[Path], lib_a: Path | None, include_dirs: Iterable[Path],
                 ld: Path, out_elf: Path, defines: Mapping[str, str | None] | None,
                 specs: str = "rdimon.specs") -> list[str]:
    spec = resolve_core(core)
    return [
        GCC, *spec.gcc_flags, "-std=c99", "-O2", "-Wall", "-Wextra",
        "-ffunction-sections", "-fdata-sections",
        *[f"-I{d}" for d in include_dirs], *define_flags(defines),
        "-nostartfiles", f"--specs={specs}", "-T", str(ld), "-Wl,--gc-sections",
        "-Wl,-z,noexecstack",  # Debian newlib objects lack .note.GNU-stack: ld warns otherwise
        *map(str, sources), *([str(lib_a)] if lib_a is not None else []), "-lm", "-o", str(out_elf),
    ]


def build_firmware(
    main_c: Path | str,
    lib_a: Path | str,
    include_dir: Path | str,
    out_elf: Path | str,
    core: str = "cortex-m4f",
    extra_sources: Iterable[Path | str] = (),
    defines: Mapping[str, str | None] | None = None,
    *,
    fatal_warnings: bool = False,
) -> Path:
    """Compile ``main_c`` (+ ``extra_sources``) with GCC and link it with ``lib_a``.

    Raises ToolchainError with GCC's output when it fails (or warns, with
    ``fatal_warnings``). The ELF boots on the QEMU board of ``QEMU_MACHINES[core]``.
    """
    return _link_firmware([Path(main_c), *map(Path, extra_sources)], Path(lib_a), [Path(include_dir)], out_elf,
                          core, defines, "rdimon.specs", f"building firmware from {Path(main_c).name}",
                          fatal_warnings)


def _link_firmware(sources: list[Path], lib_a: Path | None, include_dirs: list[Path], out_elf: Path | str,
                   core: str, defines: Mapping[str, str | None] | None, specs: str, what: str,
                   fatal_warnings: bool) -> Path:
    """Startup + ``sources`` (+ ``lib_a``) with GCC into ``out_elf`` (replaced only when built)."""
    _require_gcc()
    out_elf = Path(out_elf)
    out_elf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="neai-fw-") as tmp:
        ld, startup = _write_support(Path(tmp))
        tmp_elf = Path(tmp) / "firmware.elf"
        cmd = _gcc_command(core, [startup, *sources], lib_a, include_dirs, ld, tmp_elf, defines, specs=specs)
        warnings = _run_gcc(cmd, what)
        if warnings and fatal_warnings:
            raise ToolchainError(f"{what} gave warnings:\n{warnings}")
        os.replace(tmp_elf, out_elf)
    return out_elf


def compile_only(main_c: Path | str, include_dir: Path | str, lib_a: Path | str, core: str = "cortex-m4f") -> str:
    """Check that ``main_c`` compiles and links as is against ``lib_a`` for ``core``.

    Returns GCC's warnings (empty when clean); raises ToolchainError on failure.
    """
    _require_gcc()
    with tempfile.TemporaryDirectory(prefix="neai-fwcheck-") as tmp:
        ld, startup = _write_support(Path(tmp))
        cmd = _gcc_command(core, [startup, Path(main_c)], Path(lib_a), [Path(include_dir)], ld,
                           Path(tmp) / "check.elf", None)
        return _run_gcc(cmd, f"compiling {Path(main_c).name} against {Path(lib_a).name}")


def _run_gcc(cmd: list[str], what: str) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=GCC_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"{what}: timed out after {GCC_TIMEOUT_S} s") from exc
    output = (proc.stderr + proc.stdout).strip()
    if proc.returncode != 0:
        raise ToolchainError(f"{what} failed:\n{output[-6000:]}",
                             "The library and the example must build with arm-none-eabi-gcc as shipped.")
    return output


def run_qemu(elf: Path | str, timeout: float = 30, *, core: str = "cortex-m4f", check: bool = True) -> str:
    """Boot ``elf`` on the QEMU board for ``core`` and return its semihosting output.

    The firmware exits through semihosting; a non-zero exit code (or a timeout)
    raises ToolchainError with the output so far, unless ``check`` is False.
    """
    if not qemu_available():
        raise ToolchainError(f"{QEMU} is not installed", "Install it, e.g. `apt-get install qemu-system-arm`.")
    spec = resolve_core(core)
    machine = QEMU_MACHINES.get(spec.name)
    if machine is None:
        raise ToolchainError(f"no QEMU board to run a {spec.name} firmware",
                             f"Boards exist for {', '.join(QEMU_MACHINES)}.")
    cmd = [QEMU, "-M", machine, "-nographic", "-monitor", "none", "-serial", "null",
           "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        raise ToolchainError(f"the firmware did not exit within {timeout:g} s; output so far:\n{partial}") from exc
    if check and proc.returncode != 0:
        raise ToolchainError(f"the firmware exited with code {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


# --------------------------------------------------------------------------- a UART firmware

def build_uart_firmware(
    sources: Iterable[Path | str],
    out_elf: Path | str,
    core: str = "cortex-m4f",
    *,
    include_dirs: Iterable[Path | str] = (),
    defines: Mapping[str, str | None] | None = None,
    fatal_warnings: bool = True,
) -> Path:
    """A firmware that prints through a UART (newlib's _write(), which ``sources`` provide,
    with nosys stubs) instead of semihosting; it still exits through semihosting, so QEMU
    stops when main() returns. With ``fatal_warnings`` GCC's -Wall -Wextra must be silent."""
    return _link_firmware([Path(s) for s in sources], None, [Path(d) for d in include_dirs], out_elf, core, defines,
                          "nosys.specs", "building the UART firmware", fatal_warnings)


def start_qemu_uart(elf: Path | str, port: int, *, core: str = "cortex-m4f") -> subprocess.Popen:
    """Boot ``elf`` on the QEMU board for ``core`` with its UART0 on a TCP server at
    127.0.0.1:``port`` (pyserial: ``socket://127.0.0.1:PORT``). The guest starts once a
    client connects; semihosting output (and QEMU's own messages) go to the process's
    stdout/stderr pipes. The caller waits for (or kills) the process."""
    if not qemu_available():
        raise ToolchainError(f"{QEMU} is not installed", "Install it, e.g. `apt-get install qemu-system-arm`.")
    machine = QEMU_MACHINES.get(resolve_core(core).name)
    if machine is None:
        raise ToolchainError(f"no QEMU board to run a {core} firmware", f"Boards exist for {', '.join(QEMU_MACHINES)}.")
    cmd = [QEMU, "-M", machine, "-nographic", "-monitor", "none",
           "-serial", f"tcp:127.0.0.1:{int(port)},server=on,wait=on",
           # semihosting output would follow the first serial port: send it to stdout
           "-chardev", "stdio,id=semihosting", "-semihosting-config", "enable=on,target=native,chardev=semihosting",
           "-kernel", str(elf)]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
