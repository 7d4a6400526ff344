"""Run and measure the Cortex-M build without hardware: zig's linker + unicorn.

Three jobs:

* :func:`link_image` links an archive (plus optional harness sources) into a bare
  ELF image laid out like a small MCU: flash at 0x0 (1 MiB), RAM at 0x20000000
  (256 KiB), the ``.neai`` knowledge section in RAM.
* :func:`measure_elf` / :func:`measure_library` give the static footprint of that
  image — what the library adds to a firmware.
* :class:`ArmMachine` loads the image into unicorn and calls its functions with the
  AAPCS calling convention, counting instructions, estimating cycles and measuring
  the stack the call used.

What the footprint counts (nothing is dropped silently):

``flash_bytes``
    every allocated section that has contents in the image: code (``.text``), constants
    (``.rodata``), unwind index/tables clang emits even for C (``.ARM.exidx``/
    ``.ARM.extab``, at most 8 bytes per function) and the initial values of ``.data``. The
    image has no vector table and no startup code: those belong to the firmware.
    Soft-float and division helpers come from zig's compiler_rt here and from libgcc in
    a GCC firmware; ``runtime_helper_bytes`` says how much of the flash they are.
``ram_bytes``
    every allocated section placed in RAM (``.data``, ``.bss``, ``.neai``) minus the
    objects named in ``exclude_symbols`` (buffers the caller owns, e.g. a harness's
    input array). The stack is not static: :attr:`ArmMachine.peak_stack_bytes`
    measures it at run time.
"""
from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ToolchainError
from .scratch import scratch_dir
from .toolchain import (
    COMMON_FLAGS,
    TARGET_FLAGS,
    CoreSpec,
    abi_cflags,
    atomic_target,
    define_flags,
    include_flags,
    iter_ar_members,
    read_object,
    resolve_core,
    run_checked,
    zig_command,
)

FLASH_BASE = 0x0000_0000
FLASH_SIZE = 1 << 20
RAM_BASE = 0x2000_0000
RAM_SIZE = 256 << 10
RAM_TOP = RAM_BASE + RAM_SIZE
# Arguments live outside the MCU's RAM so they never count as the library's memory.
SCRATCH_BASE = 0x6000_0000
# Functions return here (LR = STOP | 1); the last word of flash, never code.
STOP_ADDR = FLASH_BASE + FLASH_SIZE - 4
_STACK_PAINT = 0xA5

LINKER_SCRIPT = f"""\
/* neai-tui test image: flash + RAM like a small Cortex-M, no vector table. */
MEMORY
{{
  FLASH (rx)  : ORIGIN = {FLASH_BASE:#010x}, LENGTH = {FLASH_SIZE // 1024}K
  RAM   (rwx) : ORIGIN = {RAM_BASE:#010x}, LENGTH = {RAM_SIZE // 1024}K
}}
SECTIONS
{{
  .text : {{ *(.text .text.*) }} > FLASH
  .rodata : ALIGN(4) {{ *(.rodata .rodata.*) }} > FLASH
  .ARM.extab : {{ *(.ARM.extab .ARM.extab.*) }} > FLASH
  .ARM.exidx : {{ *(.ARM.exidx .ARM.exidx.*) }} > FLASH
  .data : ALIGN(4) {{ *(.data .data.*) }} > RAM AT > FLASH
  .bss (NOLOAD) : ALIGN(4) {{ *(.bss .bss.* COMMON) }} > RAM
  .neai (NOLOAD) : ALIGN(8) {{ __neai_start = .; KEEP(*(.neai .neai.*)) __neai_end = .; }} > RAM
}}
"""


# --------------------------------------------------------------------------- linking


# zig links -Os/-O2 builds with "strip all" (as for -g0 and --strip-debug), which
# would drop the symbol table we read addresses from; -g keeps it. Harness sources
# then carry debug info, which only costs file size (non-allocated sections).
_LINK_FLAGS = tuple(f for f in COMMON_FLAGS if f != "-g0") + ("-g",)


def link_image(
    lib_a: Path | str,
    core: str | CoreSpec,
    entry_symbols: Sequence[str],
    out_elf: Path | str,
    *,
    extra_sources: Iterable[Path | str] = (),
    include_dirs: Iterable[Path | str] = (),
    defines: dict[str, str | None] | None = None,
    opt: str = "-Os",
) -> Path:
    """Link ``lib_a`` into a bare image that keeps ``entry_symbols`` (and what they use).

    ``extra_sources`` (C, compiled with the library's flags) can add a harness, e.g.
    an input buffer. Not linked with -nostdlib: zig's compiler_rt supplies the
    soft-float and division helpers the archive leaves undefined.
    """
    spec = resolve_core(core)
    if not entry_symbols:
        raise ToolchainError("link_image needs at least one entry symbol")
    out_elf = Path(out_elf)
    tmp_elf = atomic_target(out_elf)  # same directory: os.replace() cannot cross filesystems
    try:
        with scratch_dir("neai-link-") as tmp:
            script = Path(tmp) / "image.ld"
            script.write_text(LINKER_SCRIPT)
            keep = [f"-Wl,-u,{sym}" for sym in entry_symbols]
            run_checked(
                [*zig_command(), "cc", "-target", spec.zig_target, f"-mcpu={spec.mcpu}", *abi_cflags(spec), opt,
                 *_LINK_FLAGS, *TARGET_FLAGS, *include_flags(include_dirs), *define_flags(defines),
                 "-T", script, "-Wl,--gc-sections", f"-Wl,--entry={entry_symbols[0]}", *keep,
                 *map(str, extra_sources), str(lib_a), "-o", tmp_elf],
                f"linking a {spec.name} image of {Path(lib_a).name}",
            )
        missing = [s for s in entry_symbols if s not in _elf_symbols(tmp_elf)]
        if missing:
            raise ToolchainError(f"{Path(lib_a).name} does not define {', '.join(missing)}",
                                 "The library's API is incomplete; this is a bug in neai-tui.")
        os.replace(tmp_elf, out_elf)
    finally:
        tmp_elf.unlink(missing_ok=True)
    return out_elf


def _elf_symbols(elf: Path) -> dict[str, tuple[int, int, str]]:
    """name -> (value, size, type) of the defined global/local symbols."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as fh:
        symtab = ELFFile(fh).get_section_by_name(".symtab")
        out = {}
        if symtab is not None:
            for sym in symtab.iter_symbols():
                if sym.name and sym["st_shndx"] != "SHN_UNDEF":
                    out[sym.name] = (sym["st_value"], sym["st_size"], sym["st_info"]["type"])
        return out


# --------------------------------------------------------------------------- footprint


@dataclass
class Footprint:
    flash_bytes: int
    ram_bytes: int  # static RAM: .data + .bss + .neai, minus excluded objects
    sections: dict[str, int]  # every allocated section -> bytes
    symbols: dict[str, int]  # largest functions/objects -> bytes, largest first
    knowledge_bytes: int = 0  # the .neai section (part of ram_bytes)
    runtime_helper_bytes: int = 0  # compiler helpers in flash (known by measure_library)
    excluded_bytes: int = 0  # RAM of exclude_symbols, not in ram_bytes


def _in_ram(addr: int) -> bool:
    return RAM_BASE <= addr < RAM_TOP


def measure_elf(elf: Path | str, *, exclude_symbols: Iterable[str] = (), top: int = 40) -> Footprint:
    """Static flash/RAM of a linked image; see the module docstring for what counts."""
    from elftools.elf.elffile import ELFFile

    sections: dict[str, int] = {}
    flash = ram = knowledge = 0
    with open(elf, "rb") as fh:
        elf_file = ELFFile(fh)
        for sec in elf_file.iter_sections():
            if not sec["sh_flags"] & 0x2 or sec["sh_size"] == 0:  # SHF_ALLOC
                continue
            size = sec["sh_size"]
            sections[sec.name] = size
            if sec["sh_type"] != "SHT_NOBITS":
                flash += size
            if _in_ram(sec["sh_addr"]):
                ram += size
            if sec.name == ".neai":
                knowledge = size
    symbols = _elf_symbols(Path(elf))
    excluded = 0
    for name in exclude_symbols:
        if name not in symbols:
            raise ToolchainError(f"cannot exclude '{name}': no such symbol in {Path(elf).name}")
        value, size, _ = symbols[name]
        if _in_ram(value):
            excluded += size
    sized = sorted(((n, s) for n, (_, s, t) in symbols.items() if t in ("STT_FUNC", "STT_OBJECT") and s),
                   key=lambda item: (-item[1], item[0]))
    return Footprint(
        flash_bytes=flash,
        ram_bytes=ram - excluded,
        sections=sections,
        symbols=dict(sized[:top]),
        knowledge_bytes=knowledge,
        excluded_bytes=excluded,
    )


def measure_library(
    lib_a: Path | str,
    core: str | CoreSpec,
    api_symbols: Sequence[str],
    exclude_symbols: Iterable[str] = (),
    *,
    extra_sources: Iterable[Path | str] = (),
) -> Footprint:
    """Footprint of what ``api_symbols`` pull out of ``lib_a`` for ``core``."""
    with scratch_dir("neai-measure-") as tmp:
        elf = link_image(lib_a, core, api_symbols, Path(tmp) / "image.elf", extra_sources=extra_sources)
        footprint = measure_elf(elf, exclude_symbols=exclude_symbols)
        ours = set()
        for name, blob in iter_ar_members(lib_a):
            ours |= read_object(name, blob).defined
        footprint.runtime_helper_bytes = sum(
            size for name, (value, size, kind) in _elf_symbols(elf).items()
            if kind == "STT_FUNC" and name not in ours and not _in_ram(value)
        )
        return footprint


# --------------------------------------------------------------------------- cycle estimate
#
# A deliberately simple model, close to a Cortex-M4's timing: 1 cycle per
# instruction, except loads/stores 2, LDM/STM/PUSH/POP/VLDM/VSTM 1 + registers,
# SDIV/UDIV 7 (2..12), VDIV/VSQRT 14, VMLA/VFMA 3, and every taken branch (a block
# that does not continue at the next address) + BRANCH_PENALTY pipeline refill.
# It ignores wait states, caches and dual issue (M7): a ballpark, not a cycle count.

BRANCH_PENALTY = {"cortex-m0": 2, "cortex-m0plus": 1, "cortex-m7": 1}


def _popcount(x: int) -> int:
    return bin(x).count("1")


def _classify16(hw: int) -> int:
    if (hw & 0xF800) == 0x4800 or (hw & 0xF000) in (0x5000, 0x8000, 0x9000) or (hw & 0xE000) == 0x6000:
        return 2  # LDR/STR family
    if (hw & 0xFE00) in (0xB400, 0xBC00):  # PUSH/POP (bit 8 = LR/PC)
        return 1 + _popcount(hw & 0x1FF)
    if (hw & 0xF000) == 0xC000:  # LDM/STM
        return 1 + _popcount(hw & 0xFF)
    return 1


def _classify32(hw1: int, hw2: int) -> tuple[int, bool]:
    """(cycles, is_floating_point) of a 32-bit Thumb-2 instruction."""
    if (hw1 & 0xFE40) == 0xE800:  # LDM/STM
        return 1 + _popcount(hw2 & 0xDFFF), False
    if (hw1 & 0xFE40) == 0xE840:  # LDRD/STRD, LDREX/STREX, TBB/TBH
        return 3, False
    if (hw1 & 0xEC00) == 0xEC00 and ((hw2 >> 9) & 0x7) == 0x5:  # coprocessor 10/11: FPU
        top = hw1 >> 8
        if top in (0xEC, 0xED):  # extension register load/store, 64-bit moves
            if (hw1 & 0xFFE0) == 0xEC40:
                return 2, True
            if (hw1 & 0x0120) == 0x0100:  # P=1, W=0: VLDR/VSTR
                return 2, True
            words = hw2 & 0xFF
            return 1 + words, True
        if top == 0xEE and not hw2 & 0x10:  # VFP data processing
            op = ((hw1 >> 5) & 0x4) | ((hw1 >> 4) & 0x3)
            if op == 4:  # VDIV
                return 14, True
            if op == 7 and (hw1 & 0xF) == 1 and ((hw2 >> 6) & 0x3) == 3:  # VSQRT
                return 14, True
            if op in (0, 1, 5, 6):  # VMLA/VMLS/VNMLA/VFMA/VFNMA
                return 3, True
            return 1, True
        return 1, True  # VMOV/VMRS between core and FPU registers
    if (hw1 & 0xFE00) == 0xF800:  # load/store single
        return 2, False
    if (hw1 & 0xFFF0) in (0xFB90, 0xFBB0):  # SDIV/UDIV
        return 7, False
    return 1, False


def decode_block(code: bytes) -> tuple[int, int, bool]:
    """(instructions, estimated cycles before branch penalties, uses the FPU) of Thumb code."""
    n = cycles = 0
    fpu = False
    i, end = 0, len(code) - 1
    while i < end:
        hw1 = code[i] | (code[i + 1] << 8)
        if (hw1 >> 11) in (0b11101, 0b11110, 0b11111) and i + 3 < len(code):
            hw2 = code[i + 2] | (code[i + 3] << 8)
            c, is_fp = _classify32(hw1, hw2)
            fpu |= is_fp
            i += 4
        else:
            c = _classify16(hw1)
            i += 2
        n += 1
        cycles += c
    return n, cycles, fpu


# --------------------------------------------------------------------------- machine


@dataclass
class CallStats:
    instructions: int = 0
    cycles: int = 0
    stack_bytes: int = 0


@dataclass
class _Counter:
    penalty: int
    soft_core: bool
    blocks: dict = field(default_factory=dict)
    instructions: int = 0
    cycles: int = 0
    expect: int = -1
    fpu_at: int = -1


class ArmMachine:
    """A Cortex-M running one linked image; state (RAM, knowledge) persists across calls.

    Memory: the image's flash and RAM at their link addresses, the stack at the top of
    RAM, and a scratch region at SCRATCH_BASE for arguments (see :meth:`alloc`).
    """

    def __init__(self, elf: Path | str, core: str | CoreSpec, *, scratch_bytes: int = 4 << 20,
                 timeout_s: float = 120.0) -> None:
        from unicorn import UC_ARCH_ARM, UC_HOOK_BLOCK, UC_MODE_MCLASS, UC_MODE_THUMB, Uc, arm_const

        self.spec = resolve_core(core)
        self.elf = Path(elf)
        if self.spec.emulation_core and self.spec.emulation_core != self.spec.name:
            raise ToolchainError(
                f"unicorn cannot run {self.spec.name} code (Armv8.1-M instructions)",
                f"Build the same sources for {self.spec.emulation_core} (toolchain.emulation_spec) to emulate it.",
            )
        self.timeout_s = timeout_s
        self.scratch_bytes = scratch_bytes
        self._arm = arm_const
        self._hook_block = UC_HOOK_BLOCK
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        self.uc.ctl_set_cpu_model(getattr(arm_const, self.spec.unicorn_cpu))
        self.uc.mem_map(FLASH_BASE, FLASH_SIZE)
        self.uc.mem_map(RAM_BASE, RAM_SIZE)
        self.uc.mem_map(SCRATCH_BASE, scratch_bytes)
        self._segments, self._symbols, attrs, self._static_end = self._read_image()
        self._check_attributes(attrs)
        self._counter = _Counter(BRANCH_PENALTY.get(self.spec.name, 2), not self.spec.has_fpu)
        self.last_instructions = 0
        self.last_cycles = 0
        self.last_stack_bytes = 0
        self.peak_stack_bytes = 0
        self._uncounted_code = False  # translated blocks exist that carry no counting hook
        self.reset()

    # -- image
    def _read_image(self):
        from elftools.elf.elffile import ELFFile

        segments, attrs, static_end = [], {}, RAM_BASE
        with open(self.elf, "rb") as fh:
            elf = ELFFile(fh)
            for sec in elf.iter_sections():
                if not sec["sh_flags"] & 0x2 or sec["sh_size"] == 0:
                    continue
                addr, size = sec["sh_addr"], sec["sh_size"]
                in_flash = FLASH_BASE <= addr and addr + size <= STOP_ADDR
                if not (in_flash or (_in_ram(addr) and addr + size <= RAM_TOP)):
                    raise ToolchainError(f"{self.elf.name}: section {sec.name} at {addr:#x} is outside flash/RAM")
                if _in_ram(addr):
                    static_end = max(static_end, addr + size)
                if sec["sh_type"] != "SHT_NOBITS":
                    segments.append((addr, sec.data()))
            sec = elf.get_section_by_name(".ARM.attributes")
            if sec is not None and hasattr(sec, "iter_subsections"):
                for sub in sec.iter_subsections():
                    for subsub in sub.iter_subsubsections():
                        for attr in subsub.iter_attributes():
                            attrs[attr.tag] = attr.value
        symbols = {name: (value, size) for name, (value, size, _) in _elf_symbols(self.elf).items()}
        return segments, symbols, attrs, (static_end + 7) & ~7

    def _check_attributes(self, attrs: dict) -> None:
        # unicorn's M0 and M4 models run VFP instructions regardless of the core, so
        # the emulator cannot be trusted to trap a float-ABI mismatch: check the tags.
        fp_arch, vfp_args = attrs.get("TAG_FP_ARCH", 0), attrs.get("TAG_ABI_VFP_ARGS", 0)
        if self.spec.hard_float and (vfp_args != 1 or not fp_arch):
            raise ToolchainError(f"{self.elf.name} is not a hard-float FPU build, but {self.spec.name} expects one")
        if self.spec.float_abi == "softfp" and (vfp_args == 1 or not fp_arch):
            raise ToolchainError(f"{self.elf.name} is not a softfp build (the FPU, floats passed in core registers)")
        if not self.spec.has_fpu and (fp_arch or vfp_args == 1):
            raise ToolchainError(f"{self.elf.name} uses the FPU or its calling convention; "
                                 f"{self.spec.name} has no FPU")

    def reset(self) -> None:
        """Power-on state: image reloaded, RAM zeroed (as the firmware's startup does for
        .bss; .neai is zeroed here too, the library's init must not rely on it), scratch
        freed, stack repainted."""
        self.uc.mem_write(RAM_BASE, bytes(RAM_SIZE))
        for addr, data in self._segments:
            self.uc.mem_write(addr, data)
        self.reset_scratch()
        self._paint_stack(self._static_end)

    def _paint_stack(self, low: int) -> None:
        if low < RAM_TOP:
            self.uc.mem_write(low, bytes([_STACK_PAINT]) * (RAM_TOP - low))

    # -- symbols and memory
    def symbol(self, name: str) -> int:
        """Address of a symbol (functions without the Thumb bit)."""
        try:
            return self._symbols[name][0] & ~1
        except KeyError:
            raise ToolchainError(f"{self.elf.name} has no symbol '{name}'") from None

    def symbol_size(self, name: str) -> int:
        self.symbol(name)
        return self._symbols[name][1]

    def reset_scratch(self) -> None:
        self._scratch_next = SCRATCH_BASE

    def alloc(self, nbytes: int, align: int = 8) -> int:
        addr = (self._scratch_next + align - 1) & ~(align - 1)
        if addr + nbytes > SCRATCH_BASE + self.scratch_bytes:
            raise ToolchainError(f"emulator scratch memory exhausted ({self.scratch_bytes} bytes)",
                                 "Call reset_scratch() between runs or give a larger scratch_bytes.")
        self._scratch_next = addr + nbytes
        return addr

    def alloc_floats(self, values) -> int:
        data = np.ascontiguousarray(values, dtype="<f4")
        addr = self.alloc(max(4, data.nbytes))
        self.write_floats(addr, data)
        return addr

    def write_bytes(self, addr: int, data: bytes) -> None:
        self.uc.mem_write(addr, bytes(data))

    def read_bytes(self, addr: int, n: int) -> bytes:
        return bytes(self.uc.mem_read(addr, n))

    def write_floats(self, addr: int, values) -> None:
        self.uc.mem_write(addr, np.ascontiguousarray(values, dtype="<f4").tobytes())

    def read_floats(self, addr: int, n: int) -> np.ndarray:
        return np.frombuffer(bytes(self.uc.mem_read(addr, 4 * n)), dtype="<f4").copy()

    def write_u32(self, addr: int, value: int) -> None:
        self.uc.mem_write(addr, struct.pack("<I", value & 0xFFFFFFFF))

    def read_u8(self, addr: int) -> int:
        return self.uc.mem_read(addr, 1)[0]

    def read_u16(self, addr: int) -> int:
        return struct.unpack("<H", self.uc.mem_read(addr, 2))[0]

    def read_u32(self, addr: int) -> int:
        return struct.unpack("<I", self.uc.mem_read(addr, 4))[0]

    # -- calls
    def call(self, name: str, *args, float_ret: bool = False, signed: bool = False, count: bool = True):
        """Call ``name(*args)`` per AAPCS and return r0 (or the float result).

        Python ints/bools (and numpy integers) are 32-bit integer or pointer arguments;
        Python floats (and numpy floats) are C ``float``: in s0-s15 on hard-float
        cores, as IEEE bits in r0-r3 on soft-float ones; the rest go on the stack.
        ``count=False`` skips instruction counting (much faster for bulk runs); the
        stack is measured either way.
        """
        arm, uc = self._arm, self.uc
        entry = self.symbol(name)
        core_regs, fp_regs, stacked = self._marshal(args)
        sp = RAM_TOP - ((4 * len(stacked) + 7) & ~7)
        for i, word in enumerate(stacked):
            self.write_u32(sp + 4 * i, word)
        for i, value in enumerate(core_regs):
            uc.reg_write(arm.UC_ARM_REG_R0 + i, value)
        for i, value in enumerate(fp_regs):
            uc.reg_write(arm.UC_ARM_REG_S0 + i, value)
        uc.reg_write(arm.UC_ARM_REG_SP, sp)
        uc.reg_write(arm.UC_ARM_REG_LR, STOP_ADDR | 1)

        counter = self._counter
        counter.instructions = counter.cycles = 0
        counter.expect = counter.fpu_at = -1
        if count and self._uncounted_code:
            # unicorn binds block hooks when it translates code: blocks translated by an
            # uncounted call would run uncounted. Drop them so they are translated again.
            uc.ctl_flush_tb()
            self._uncounted_code = False
        self._uncounted_code |= not count
        hook = uc.hook_add(self._hook_block, self._on_block) if count else None
        try:
            uc.emu_start(entry | 1, STOP_ADDR, timeout=int(self.timeout_s * 1e6))
        except Exception as exc:  # UcError: unmapped access, invalid instruction...
            pc = uc.reg_read(arm.UC_ARM_REG_PC)
            raise ToolchainError(f"{name}() crashed in the emulator at {pc:#x} ({self._where(pc)}): {exc}",
                                 "A pointer argument may be wrong or a buffer too small.") from exc
        finally:
            if hook is not None:
                uc.hook_del(hook)
        pc = uc.reg_read(arm.UC_ARM_REG_PC)
        if counter.fpu_at >= 0:
            raise ToolchainError(f"{name}() executed an FPU instruction at {counter.fpu_at:#x} "
                                 f"({self._where(counter.fpu_at)}) on {self.spec.name}, which has no FPU")
        if pc != STOP_ADDR:
            raise ToolchainError(f"{name}() did not return within {self.timeout_s:g} s "
                                 f"(stopped at {pc:#x}, {self._where(pc)})")
        self._measure_stack(sp, name)
        self.last_instructions = counter.instructions
        self.last_cycles = counter.cycles
        if float_ret:
            reg = arm.UC_ARM_REG_S0 if self.spec.hard_float else arm.UC_ARM_REG_R0
            return struct.unpack("<f", struct.pack("<I", uc.reg_read(reg) & 0xFFFFFFFF))[0]
        r0 = uc.reg_read(arm.UC_ARM_REG_R0) & 0xFFFFFFFF
        return r0 - (1 << 32) if signed and r0 & 0x80000000 else r0

    def stats(self) -> CallStats:
        return CallStats(self.last_instructions, self.last_cycles, self.last_stack_bytes)

    def _marshal(self, args) -> tuple[list[int], list[int], list[int]]:
        core_regs: list[int] = []
        fp_regs: list[int] = []
        stacked: list[int] = []
        fp_spilled = False
        for arg in args:
            if isinstance(arg, (float, np.floating)):
                bits = struct.unpack("<I", struct.pack("<f", float(arg)))[0]
                if self.spec.hard_float:
                    if len(fp_regs) < 16 and not fp_spilled:
                        fp_regs.append(bits)
                    else:
                        fp_spilled = True
                        stacked.append(bits)
                    continue
                value = bits
            elif isinstance(arg, (bool, int, np.integer)):
                value = int(arg) & 0xFFFFFFFF
            else:
                raise TypeError(f"cannot pass {type(arg).__name__} to an emulated C function")
            if len(core_regs) < 4:
                core_regs.append(value)
            else:
                stacked.append(value)
        return core_regs, fp_regs, stacked

    def _on_block(self, uc, address: int, size: int, _user) -> None:
        counter = self._counter
        key = (address, size)
        info = counter.blocks.get(key)
        if info is None:
            info = decode_block(bytes(uc.mem_read(address, size)))
            counter.blocks[key] = info
        n, cycles, fpu = info
        if counter.expect >= 0 and address != counter.expect:
            cycles += counter.penalty
        counter.instructions += n
        counter.cycles += cycles
        counter.expect = address + size
        if fpu and counter.soft_core:
            counter.fpu_at = address
            uc.emu_stop()

    def _measure_stack(self, sp_at_call: int, name: str) -> None:
        # The stack is painted; the deepest byte no longer holding the paint is the
        # high-water mark of this call.
        low = self._static_end
        used = np.frombuffer(bytes(self.uc.mem_read(low, sp_at_call - low)), dtype=np.uint8)
        touched = np.flatnonzero(used != _STACK_PAINT)
        deepest = low + int(touched[0]) if touched.size else sp_at_call
        if touched.size and deepest == self._static_end:
            raise ToolchainError(f"{name}() overflowed the {RAM_TOP - self._static_end}-byte stack "
                                 "into static RAM")
        self.last_stack_bytes = sp_at_call - deepest
        self.peak_stack_bytes = max(self.peak_stack_bytes, self.last_stack_bytes)
        # Only what this call dirtied needs repainting (plus any stacked arguments).
        self._paint_stack(min(deepest, sp_at_call) & ~3)

    def _where(self, pc: int) -> str:
        best = None
        for sym, (value, size) in self._symbols.items():
            start = value & ~1
            if start <= pc < start + max(size, 1) and (best is None or start > best[1]):
                best = (sym, start)
        return f"in {best[0]}+{pc - best[1]:#x}" if best else "outside any function"
