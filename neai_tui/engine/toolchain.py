"""The bundled C compiler: zig's clang (PyPI ``ziglang``) for Cortex-M and for the host.

Everything the engine compiles goes through here, so the flags that make target and
host builds agree bit for bit live in one place:

* ``-ffp-contract=off`` on every build: no fused multiply-add on either side, so the
  host build (the emulator) and the ARM build round identically.
* ``-fshort-enums`` on the target: arm-none-eabi-gcc uses short enums, and an enum
  returned across the library boundary must have the size the firmware expects.
* ``-fno-unwind-tables -fno-asynchronous-unwind-tables -g0``: no references to the
  unwinder personality, no debug info inflating the archive.
* ``-ffunction-sections -fdata-sections``: the firmware's ``--gc-sections`` can drop
  what the application does not call.

Zig's ``-mcpu=cortex_m4`` (and m7, m33, m55) has no FPU and zig ignores ``-mfpu`` /
``-mfloat-abi``, yet with an ``eabihf`` target the object is still tagged hard-float
and links silently into a hard-float firmware, giving wrong numbers. So every core
below names its FPU feature explicitly and :func:`verify_static_lib` reads the ARM
build attributes of what we ship and refuses a mismatch.

Optimisation level (measured with ``tests/firmware/probe_lib.c``: a dot product,
running mean, radix-2 FFT; ``.text`` bytes, zig 0.17.1):

=================  ======  ======  ==========================
core               -O2     -Os     FFT function alone (-O2/-Os)
=================  ======  ======  ==========================
cortex-m4f         3062    756     1512 / 416
cortex-m0plus      3498    806     1712 / 464
cortex-m7          1970    742      584 / 404
=================  ======  ======  ==========================

-O2 code is ~4x larger (clang unrolls the butterflies and the dot product) for
about 5 % fewer instructions: 256-point FFT on the emulated M4F, -Os 40.8k
instructions / ~57.0k estimated cycles, -O2 38.7k / ~54.7k; linked image 864 vs
3172 bytes of flash (M0+: 1.20M vs 1.17M instructions, the soft-float helpers
dominate). Flash is the scarcer resource on the MCUs NanoEdge users pick, so the
default is ``-Os`` (-Oz gives the same code as -Os here); callers may pass ``opt="-O2"``.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import ToolchainError, UsageError

# --------------------------------------------------------------------------- cores


@dataclass(frozen=True)
class CoreSpec:
    """How to build for one Cortex-M core and what the result must look like.

    ``cpu_arch`` lists the acceptable ``Tag_CPU_arch`` values and ``fp_arch`` the
    expected ``Tag_FP_arch`` (None for soft-float cores) of the objects we ship.
    """

    name: str
    zig_target: str
    mcpu: str
    float_abi: str  # "hard" | "soft"
    fpu: str | None  # GCC's -mfpu name of the FPU we compile for
    unicorn_cpu: str  # name of the unicorn.arm_const CPU model that emulates it
    gcc_flags: tuple[str, ...]  # arm-none-eabi-gcc flags of a firmware linking with us
    cpu_arch: tuple[int, ...] = ()
    fp_arch: int | None = None
    # Unicorn cannot run every core's code; this names the core whose build of the
    # same sources it runs instead (identical float results, close instruction counts).
    emulation_core: str | None = None
    # A deployment's compilation options (build_variant): -ffunction-sections and
    # -fdata-sections on or off, and checked extra flags (check_extra_flags).
    sections: bool = True
    extra_cflags: tuple[str, ...] = ()

    @property
    def hard_float(self) -> bool:
        """Floats passed in FPU registers (-mfloat-abi=hard)."""
        return self.float_abi == "hard"

    @property
    def has_fpu(self) -> bool:
        """The code uses FPU instructions (hard, or softfp: the FPU with the soft calling convention)."""
        return self.fpu is not None

    @property
    def cpu_name(self) -> str:
        """The ``Tag_CPU_name`` clang writes: the -mcpu model without features."""
        return self.mcpu.split("+", 1)[0].replace("_", "-")


# Tag_CPU_arch values (ARM ABI addenda): v7-M 10, v6-M 11, v6S-M 12 (clang tags the
# M0/M0+ so), v7E-M 13, v8-M.main 17, v8.1-M.main 21.
# Tag_FP_arch: 6 = VFPv4-D16 (FPv4-SP-D16 is tagged so), 8 = FP-ARMv8-D16 (FPv5).
_SOFT = "thumb-freestanding-eabi"
_HARD = "thumb-freestanding-eabihf"


def _gcc(mcpu: str, float_abi: str, fpu: str | None = None) -> tuple[str, ...]:
    flags = (f"-mcpu={mcpu}", "-mthumb", f"-mfloat-abi={float_abi}")
    return flags + ((f"-mfpu={fpu}",) if fpu else ())


CORES: dict[str, CoreSpec] = {
    spec.name: spec
    for spec in (
        CoreSpec("cortex-m0", _SOFT, "cortex_m0", "soft", None, "UC_CPU_ARM_CORTEX_M0",
                 _gcc("cortex-m0", "soft"), (11, 12)),
        # unicorn has no M0+ model; the M0 runs the same ARMv6-M instruction set.
        CoreSpec("cortex-m0plus", _SOFT, "cortex_m0plus", "soft", None, "UC_CPU_ARM_CORTEX_M0",
                 _gcc("cortex-m0plus", "soft"), (11, 12)),
        CoreSpec("cortex-m3", _SOFT, "cortex_m3", "soft", None, "UC_CPU_ARM_CORTEX_M3",
                 _gcc("cortex-m3", "soft"), (10,)),
        CoreSpec("cortex-m4", _SOFT, "cortex_m4", "soft", None, "UC_CPU_ARM_CORTEX_M4",
                 _gcc("cortex-m4", "soft"), (13,)),
        CoreSpec("cortex-m4f", _HARD, "cortex_m4+vfp4d16sp", "hard", "fpv4-sp-d16",
                 "UC_CPU_ARM_CORTEX_M4", _gcc("cortex-m4", "hard", "fpv4-sp-d16"), (13,), 6),
        # M7 parts ship with a single- (STM32F74x) or double-precision (F76x, H7) FPv5;
        # single-precision code runs on both and the call ABI is the same.
        CoreSpec("cortex-m7", _HARD, "cortex_m7+fp_armv8d16sp", "hard", "fpv5-sp-d16",
                 "UC_CPU_ARM_CORTEX_M7", _gcc("cortex-m7", "hard", "fpv5-sp-d16"), (13,), 8),
        CoreSpec("cortex-m33", _HARD, "cortex_m33+fp_armv8d16sp", "hard", "fpv5-sp-d16",
                 "UC_CPU_ARM_CORTEX_M33", _gcc("cortex-m33", "hard", "fpv5-sp-d16"), (17,), 8),
        # M55: scalar FPv5 only. MVE (Helium) is left off: it is optional silicon and
        # our float code is not written for it. Unicorn (QEMU 5 based) has no
        # Armv8.1-M: clang's M55 code uses low-overhead loops (WLS/DLS/LE) and
        # CSEL/CSINC, which it rejects, and CSEL cannot be turned off. The emulator
        # therefore runs the cortex-m33 build of the same sources.
        CoreSpec("cortex-m55", _HARD, "cortex_m55+fp_armv8d16sp", "hard", "fpv5-sp-d16",
                 "UC_CPU_ARM_CORTEX_M33", _gcc("cortex-m55", "hard"), (21,), 8, "cortex-m33"),
    )
}


def resolve_core(name: str | CoreSpec) -> CoreSpec:
    """The build recipe of a core by its catalogue name (e.g. ``cortex-m4f``)."""
    if isinstance(name, CoreSpec):
        return name
    key = name.strip().lower().replace("_", "-")
    if key in CORES:
        return CORES[key]
    raise UsageError(
        f"unknown Cortex-M core '{name}'",
        f"Valid cores: {', '.join(CORES)}.",
    )


def emulation_spec(core: str | CoreSpec) -> CoreSpec:
    """The core whose build the emulator (unicorn) runs for ``core``: itself but for M55
    (then the stand-in core with the same compilation options)."""
    spec = resolve_core(core)
    if not spec.emulation_core:
        return spec
    return build_variant(resolve_core(spec.emulation_core), float_abi=spec.float_abi, sections=spec.sections,
                         extra_flags=spec.extra_cflags)


# --------------------------------------------------------------------------- compilation options

FLOAT_ABIS = ("hard", "softfp")
# Extra compiler flags a deployment may add: code generation only. Anything that could
# name a path (-I, -include, --sysroot, @file, -o), reach the assembler or linker (-Wa,
# -Wl, -Xlinker, -Xclang), change the ABI or the target (-mfloat-abi, -mfpu, -mcpu,
# -march, -target, -fshort-enums, -fshort-wchar, -mthumb/-marm) or the float results
# (-ffast-math, -ffp-contract, -funsafe-math-optimizations, -freciprocal-math) is refused:
# the Cortex-M build must stay bit-identical to the host build.
EXTRA_FLAG_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"-f(no-)?unroll-loops", "loop unrolling"),
    (r"-f(no-)?inline-functions", "inlining"),
    (r"-fno-inline", "no inlining"),
    (r"-f(no-)?(omit-frame-pointer|jump-tables|builtin|strict-aliasing|merge-all-constants|optimize-sibling-calls)",
     "code generation"),
    (r"-f(no-)?(slp-)?vectorize", "auto-vectorisation"),
    (r"-mno-unaligned-access|-munaligned-access", "unaligned accesses"),
    (r"-mslow-flash-data|-mlong-calls|-mno-long-calls|-mexecute-only|-mpure-code", "flash access"),
    (r"-W(no-)?[a-z][a-z0-9-]*", "warnings"),
)
_REFUSED = (
    (r"-(I|L|l|o|B|F|iquote|isystem|idirafter|include|imacros|isysroot|-sysroot|specs)", "names a path"),
    (r"@", "reads flags from a file"),
    (r"-(Wl|Wa|Wp)|-X", "passes options to the linker, assembler or preprocessor"),
    (r"-m(float-abi|fpu|cpu|arch|tune|abi|thumb|arm|big-endian|little-endian)|--?target|-march",
     "changes the target or its ABI (use the core and --float-abi)"),
    (r"-f(no-)?short-(enums|wchar)|-fpack-struct|-fsigned-char|-funsigned-char", "changes the ABI"),
    (r"-f(no-)?(fast-math|fp-contract|unsafe-math|reciprocal-math|associative-math|finite-math|denormal|rounding-math)"
     r"|-ffp-|-ffloat-", "changes float results: the library must match the host build bit for bit"),
    (r"-O", "sets the optimisation level (use --optimize)"),
    (r"-D|-U", "changes the library's configuration"),
    (r"-f(sanitize|instrument|profile|coverage|plugin|pass-plugin|stack-protector|exceptions|pic|PIC|pie|PIE)",
     "adds runtime code or changes relocation"),
)


def check_extra_flags(flags: Iterable[str] | str | None) -> tuple[str, ...]:
    """The extra compiler flags of a deployment, each checked against the allow-list
    (UsageError naming the first refused flag and why)."""
    if flags is None:
        return ()
    if isinstance(flags, str):
        import shlex

        try:
            flags = shlex.split(flags)
        except ValueError as exc:
            raise UsageError(f"cannot read the extra flags: {exc}", "Separate flags with spaces, e.g. -funroll-loops.") from None
    out = []
    for flag in flags:
        flag = str(flag)
        if flag in out:
            continue
        if any(re.fullmatch(pattern, flag) for pattern, _ in EXTRA_FLAG_PATTERNS):
            if flag.startswith(("-Wl", "-Wa", "-Wp")):  # -W...: never a pass-through
                raise UsageError(f"extra flag '{flag}' passes options to the linker or assembler", _FLAGS_HINT)
            out.append(flag)
            continue
        why = next((reason for pattern, reason in _REFUSED if re.match(pattern, flag)), None)
        raise UsageError(
            f"extra flag '{flag}' is refused: " + (why or "it is not one of the allowed code-generation flags"),
            _FLAGS_HINT,
        )
    return tuple(out)


_FLAGS_HINT = ("Allowed: -f(no-)unroll-loops, -f(no-)inline-functions, -fno-inline, -f(no-)omit-frame-pointer, "
               "-f(no-)jump-tables, -f(no-)builtin, -f(no-)strict-aliasing, -f(no-)vectorize, "
               "-m(no-)unaligned-access, -mslow-flash-data, -mlong-calls, -mexecute-only, -W… warnings. "
               "Paths, the ABI, the target, float maths and the optimisation level cannot be changed this way.")


def build_variant(core: str | CoreSpec, *, float_abi: str | None = None, sections: bool = True,
                  extra_flags: Iterable[str] | str | None = None) -> CoreSpec:
    """The core with a deployment's compilation options: the float ABI where the core has an
    FPU (hard: floats in FPU registers, the default; softfp: the FPU with the soft calling
    convention, for firmware built -mfloat-abi=softfp), -ffunction-/-fdata-sections, and
    checked extra flags."""
    from dataclasses import replace

    spec = resolve_core(core)
    extra = check_extra_flags(extra_flags)
    abi = (float_abi or "").strip().lower() or spec.float_abi
    if abi != spec.float_abi:
        if not spec.has_fpu:
            raise UsageError(f"{spec.name} has no FPU: its float ABI is soft",
                             "Leave the float ABI at its default, or choose a core with an FPU (cortex-m4f, m7, m33, m55).")
        if abi not in FLOAT_ABIS:
            raise UsageError(f"unknown float ABI '{float_abi}'",
                             "Use hard (floats in FPU registers; the default) or softfp (the FPU with the soft "
                             "calling convention).")
        cpu = spec.gcc_flags[0].split("=", 1)[1]
        names_fpu = any(f.startswith("-mfpu=") for f in spec.gcc_flags)
        spec = replace(spec, zig_target=_SOFT if abi == "softfp" else _HARD, float_abi=abi,
                       gcc_flags=_gcc(cpu, abi, spec.fpu if names_fpu else None))
    return replace(spec, sections=bool(sections), extra_cflags=extra)


def build_tag(spec: CoreSpec) -> str:
    """A short name of the options that differ from the core's defaults ("" for none), e.g.
    "_softfp_nosections_x3f2a": builds that differ get their own zip."""
    base = resolve_core(spec.name)
    tag = ""
    if spec.float_abi != base.float_abi:
        tag += f"_{spec.float_abi}"
    if not spec.sections:
        tag += "_nosections"
    if spec.extra_cflags:
        tag += "_x" + hashlib.sha256(" ".join(spec.extra_cflags).encode()).hexdigest()[:4]
    return tag


# --------------------------------------------------------------------------- flags

COMMON_FLAGS: tuple[str, ...] = (
    "-std=c99",
    "-ffp-contract=off",
    "-fno-math-errno",
    "-fno-unwind-tables",
    "-fno-asynchronous-unwind-tables",
    "-fno-stack-protector",
    "-fno-sanitize=all",
    "-fno-common",
    "-g0",
    "-ffunction-sections",
    "-fdata-sections",
    "-Wall",
    "-Wextra",
    "-Werror",
)
TARGET_FLAGS: tuple[str, ...] = ("-fshort-enums",)
SECTION_FLAGS: tuple[str, ...] = ("-ffunction-sections", "-fdata-sections")
# The host build is for this machine only but may be copied to a sibling machine
# (the emulator folder of a library zip): baseline CPU, no -march=native surprises.
HOST_FLAGS: tuple[str, ...] = ("-mcpu=baseline", "-O2")
DEFAULT_OPT = "-Os"
_OPT_LEVELS = ("-O1", "-O2", "-O3", "-Os", "-Oz")
# What a deployment offers (`neai deploy --optimize`, the TUI's Deployment step):
# the user's words for the Cortex-M build's level. The host build stays -O2; with
# -ffp-contract=off both levels give the host build's results bit for bit, and
# every deploy checks it again before writing a zip.
OPTIMIZE_LEVELS: dict[str, str] = {"size": "-Os", "speed": "-O2", "smallest": "-Oz", "fastest": "-O3",
                                   "basic": "-O1"}
DEFAULT_OPTIMIZE = "size"


def optimize_flag(optimize: str | None) -> tuple[str, str]:
    """(name, compiler flag) of a deployment's optimisation choice; None = the default."""
    name = (optimize or DEFAULT_OPTIMIZE).strip().lower()
    if name not in OPTIMIZE_LEVELS:
        raise UsageError(
            f"unknown optimisation '{optimize}'",
            "Use size (-Os; the default), speed (-O2, fewer instructions, more flash), smallest (-Oz), "
            "fastest (-O3) or basic (-O1).",
        )
    return name, OPTIMIZE_LEVELS[name]

# Undefined symbols a shipped archive may keep: the firmware's libc/libgcc (or
# zig's compiler_rt in test images) provides them. sqrtf is the soft-float cores'
# libcall for __builtin_sqrtf; IEEE 754 requires it correctly rounded, so every
# provider gives the same bits.
ALLOWED_UNDEFINED = frozenset({"memset", "memcpy", "memmove", "sqrtf"})
_ALLOWED_UNDEFINED_RE = re.compile(r"^(__aeabi_\w+|__[a-z]+(si|di|ti|sf|df)[234])$")
FORBIDDEN_UNDEFINED = frozenset({
    "malloc", "calloc", "realloc", "free", "_sbrk", "sbrk",
    "printf", "fprintf", "sprintf", "snprintf", "vprintf", "vsnprintf", "puts",
    "putchar", "fputs", "fwrite", "abort", "exit", "__assert_fail", "__assert_func",
    "__cxa_atexit", "atexit",
})
_FORBIDDEN_SECTIONS = (".init_array", ".ctors", ".preinit_array", ".fini_array", ".dtors")

ZIG_TIMEOUT_S = 600


# --------------------------------------------------------------------------- running zig


def zig_command() -> list[str]:
    return [sys.executable, "-m", "ziglang"]


@lru_cache(maxsize=1)
def zig_version() -> str:
    return run_checked([*zig_command(), "version"], "zig version").stdout.strip()


def run_checked(cmd: Sequence[str], what: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(
            list(map(str, cmd)), capture_output=True, text=True, timeout=ZIG_TIMEOUT_S, cwd=cwd
        )
    except FileNotFoundError as exc:
        raise ToolchainError(f"{what}: cannot start {cmd[0]}", "Reinstall neai-tui.") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"{what}: timed out after {ZIG_TIMEOUT_S} s") from exc
    if proc.returncode != 0:
        output = (proc.stderr or proc.stdout).strip()
        if len(output) > 6000:
            output = output[:6000] + "\n…"
        raise ToolchainError(
            f"{what} failed:\n{output}",
            "The generated C or the runtime does not build; this is a bug in neai-tui, "
            "please report it with the message above.",
        )
    return proc


def define_flags(defines: Mapping[str, str | None] | None) -> list[str]:
    flags = []
    for key, value in sorted((defines or {}).items()):
        flags.append(f"-D{key}" if value is None else f"-D{key}={value}")
    return flags


def include_flags(include_dirs: Iterable[Path | str]) -> list[str]:
    return [f"-I{Path(d)}" for d in include_dirs]


def _check_opt(opt: str) -> str:
    if opt not in _OPT_LEVELS:
        raise UsageError(f"unsupported optimisation level '{opt}'", f"Use one of {', '.join(_OPT_LEVELS)}.")
    return opt


def target_cflags(core: str | CoreSpec, opt: str = DEFAULT_OPT) -> list[str]:
    """Complete zig cc flags (without -c/-o/-I/-D) for a Cortex-M core."""
    spec = resolve_core(core)
    common = COMMON_FLAGS if spec.sections else tuple(f for f in COMMON_FLAGS if f not in SECTION_FLAGS)
    return ["-target", spec.zig_target, f"-mcpu={spec.mcpu}", *abi_cflags(spec), _check_opt(opt),
            *common, *TARGET_FLAGS, *spec.extra_cflags]


def abi_cflags(spec: CoreSpec) -> tuple[str, ...]:
    """softfp needs saying: with the soft-float (eabi) target alone, clang calls the
    __aeabi_f* helpers instead of using the FPU (zig passes this flag on to clang)."""
    return ("-mfloat-abi=softfp",) if spec.float_abi == "softfp" else ()


def host_cflags() -> list[str]:
    return [*HOST_FLAGS, *COMMON_FLAGS]


def atomic_target(out: Path) -> Path:
    """A temporary name next to ``out``; os.replace() of it onto ``out`` is atomic."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return out.with_name(f".{out.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _publish(tmp: Path, out: Path) -> Path:
    os.replace(tmp, out)
    return out


# --------------------------------------------------------------------------- builds


def compile_static_lib(
    sources: Sequence[Path | str],
    out_a: Path | str,
    core: str | CoreSpec,
    *,
    include_dirs: Iterable[Path | str] = (),
    defines: Mapping[str, str | None] | None = None,
    opt: str = DEFAULT_OPT,
    allow_undefined: Iterable[str] = (),
) -> Path:
    """Compile ``sources`` for ``core`` into the archive ``out_a`` and verify it.

    Raises ToolchainError when compiling fails or when the archive does not match
    the core (see :func:`verify_static_lib`); ``out_a`` is then left untouched.
    """
    spec = resolve_core(core)
    out_a = Path(out_a)
    sources = [Path(s) for s in sources]
    if not sources:
        raise ToolchainError("no C sources to build the library from")
    flags = [*target_cflags(spec, opt), *include_flags(include_dirs), *define_flags(defines)]
    with tempfile.TemporaryDirectory(prefix="neai-obj-") as tmp_dir:
        objects = [Path(tmp_dir) / f"{i:02d}_{src.stem}.o" for i, src in enumerate(sources)]

        def build(pair: tuple[Path, Path]) -> None:
            src, obj = pair
            run_checked([*zig_command(), "cc", *flags, "-c", src, "-o", obj],
                        f"compiling {src.name} for {spec.name}")

        with ThreadPoolExecutor(max_workers=max(1, min(len(sources), os.cpu_count() or 1))) as pool:
            list(pool.map(build, zip(sources, objects)))
        tmp_a = atomic_target(out_a)
        try:
            run_checked([*zig_command(), "ar", "rcs", tmp_a, *objects], f"archiving {out_a.name}")
            verify_static_lib(tmp_a, spec, allow_undefined=allow_undefined, label=out_a.name)
            return _publish(tmp_a, out_a)
        finally:
            tmp_a.unlink(missing_ok=True)


def compile_host_shared(
    sources: Sequence[Path | str],
    out_so: Path | str,
    *,
    include_dirs: Iterable[Path | str] = (),
    defines: Mapping[str, str | None] | None = None,
) -> Path:
    """Build the same C as a shared library for this machine (loaded with ctypes)."""
    out_so = Path(out_so)
    tmp = atomic_target(out_so)
    try:
        run_checked(
            [*zig_command(), "cc", "-shared", "-fPIC", *host_cflags(), *include_flags(include_dirs),
             *define_flags(defines), *map(str, sources), "-o", tmp],
            f"building host library {out_so.name}",
        )
        return _publish(tmp, out_so)
    finally:
        tmp.unlink(missing_ok=True)


def compile_host_executable(
    sources: Sequence[Path | str],
    out_exe: Path | str,
    *,
    include_dirs: Iterable[Path | str] = (),
    defines: Mapping[str, str | None] | None = None,
) -> Path:
    """Build a program for this machine (linked with the host libc)."""
    out_exe = Path(out_exe)
    tmp = atomic_target(out_exe)
    try:
        run_checked(
            [*zig_command(), "cc", *host_cflags(), *include_flags(include_dirs), *define_flags(defines),
             *map(str, sources), "-o", tmp],
            f"building host program {out_exe.name}",
        )
        return _publish(tmp, out_exe)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- cache

_KIND_NAMES = {
    "static": "libneai.a",
    "shared": {"win32": "neai.dll", "darwin": "libneai.dylib"}.get(sys.platform, "libneai.so"),
    "exe": "neai_emulator.exe" if sys.platform == "win32" else "neai_emulator",
}


def cache_dir() -> Path:
    """Root of the build cache: $NEAI_CACHE_DIR, else the platform's user cache dir."""
    from .paths import cache_dir as neai_cache_dir

    return neai_cache_dir()


def _headers_for(sources: Sequence[Path], include_dirs: Sequence[Path]) -> list[tuple[int, Path]]:
    """Every file a build may #include, with the search position of its directory.

    That is *.h, *.c (unity builds include .c files) and *.inc in the include dirs
    (in order) and the sources' dirs. Hashing a superset is cheap and never misses a
    dependency; a stray file only costs a rebuild. The position makes a reordering
    of include dirs, which can change which header wins, a different build.
    """
    dirs: list[Path] = []
    for d in [*include_dirs, *(s.parent for s in sources)]:
        d = d.resolve()
        if d not in dirs:
            dirs.append(d)
    found = []
    for position, d in enumerate(dirs):
        if d.is_dir():
            found += [(position, p) for p in sorted(d.iterdir()) if p.suffix in (".h", ".c", ".inc") and p.is_file()]
    return found


def build_key(
    kind: str,
    sources: Sequence[Path | str],
    include_dirs: Sequence[Path | str] = (),
    defines: Mapping[str, str | None] | None = None,
    core: str | CoreSpec | None = None,
    opt: str = DEFAULT_OPT,
    allow_undefined: Iterable[str] = (),
) -> str:
    """Content hash of everything that decides a build's output."""
    srcs = [Path(s) for s in sources]
    incs = [Path(d) for d in include_dirs]
    digest = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        digest.update(f"{label}:{len(data)}:".encode())
        digest.update(data)

    feed("kind", kind.encode())
    feed("zig", zig_version().encode())
    if kind == "static":
        spec = resolve_core(core or "")
        feed("flags", " ".join(target_cflags(spec, opt)).encode())
        feed("core", repr(spec).encode())
        feed("allow", " ".join(sorted(allow_undefined)).encode())
    else:
        feed("flags", " ".join(host_cflags()).encode())
    feed("defines", " ".join(define_flags(defines)).encode())
    for i, src in enumerate(srcs):
        feed(f"src{i}:{src.name}", src.read_bytes())
    for position, header in _headers_for(srcs, incs):
        feed(f"hdr:{position}:{header.name}", header.read_bytes())
    return digest.hexdigest()


def cached_build(
    kind: str,
    sources: Sequence[Path | str],
    include_dirs: Sequence[Path | str] = (),
    defines: Mapping[str, str | None] | None = None,
    core: str | CoreSpec | None = None,
    *,
    opt: str = DEFAULT_OPT,
    allow_undefined: Iterable[str] = (),
) -> Path:
    """Build once per distinct input and return the cached artifact.

    ``kind`` is "static" (needs ``core``), "shared" or "exe". The artifact lives in
    ``cache_dir()/build/<hash>/`` and is published with os.replace(), so concurrent
    processes may build the same thing at once: each sees a complete file.
    Treat the returned file as read-only; copy it to ship it.
    """
    if kind not in _KIND_NAMES:
        raise UsageError(f"unknown build kind '{kind}'", "Use static, shared or exe.")
    if kind == "static" and core is None:
        raise UsageError("a static library build needs a core")
    key = build_key(kind, sources, include_dirs, defines, core, opt, allow_undefined)
    out = cache_dir() / "build" / key[:32] / _KIND_NAMES[kind]
    if out.is_file():
        return out
    if kind == "static":
        return compile_static_lib(sources, out, core, include_dirs=include_dirs, defines=defines,
                                  opt=opt, allow_undefined=allow_undefined)
    if kind == "shared":
        return compile_host_shared(sources, out, include_dirs=include_dirs, defines=defines)
    return compile_host_executable(sources, out, include_dirs=include_dirs, defines=defines)


# --------------------------------------------------------------------------- verification


@dataclass
class ObjectReport:
    """What one archive member says about itself."""

    name: str
    attributes: dict[str, object]
    sections: list[str]
    defined: set[str]
    undefined: set[str]


@dataclass
class LibReport:
    core: str
    members: list[ObjectReport] = field(default_factory=list)
    undefined: list[str] = field(default_factory=list)  # left for the firmware to provide
    soft_double: list[str] = field(default_factory=list)  # __aeabi_d* helpers: double maths


def iter_ar_members(path: Path | str) -> Iterator[tuple[str, bytes]]:
    """Yield (name, data) of each object in a GNU or BSD ``ar`` archive."""
    data = Path(path).read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise ToolchainError(f"{Path(path).name} is not an ar archive")
    pos, long_names = 8, b""
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode("ascii", "replace").rstrip()
        size = int(header[48:58].decode().strip() or 0)
        body = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
        if name == "//":
            long_names = body
            continue
        if name in ("/", "/SYM64/", "__.SYMDEF", "__.SYMDEF SORTED"):
            continue
        if name.startswith("#1/"):  # BSD: the name prefixes the body
            n = int(name[3:])
            name, body = body[:n].rstrip(b"\0").decode(), body[n:]
        elif name.startswith("/") and name[1:].isdigit():
            start = int(name[1:])
            end = long_names.find(b"\n", start)
            name = long_names[start:end if end >= 0 else None].decode().rstrip("/")
        else:
            name = name.rstrip("/")
        yield name, body


def read_object(name: str, blob: bytes) -> ObjectReport:
    import io

    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(blob))
    except Exception as exc:  # pyelftools raises several types on garbage
        raise ToolchainError(f"archive member {name} is not an ELF object: {exc}") from exc
    attributes: dict[str, object] = {}
    sec = elf.get_section_by_name(".ARM.attributes")
    if sec is not None and hasattr(sec, "iter_subsections"):
        for sub in sec.iter_subsections():
            for subsub in sub.iter_subsubsections():
                for attr in subsub.iter_attributes():
                    attributes[attr.tag] = attr.value
    defined, undefined = set(), set()
    symtab = elf.get_section_by_name(".symtab")
    if symtab is not None:
        for sym in symtab.iter_symbols():
            if not sym.name or sym["st_info"]["bind"] == "STB_LOCAL":
                continue
            (undefined if sym["st_shndx"] == "SHN_UNDEF" else defined).add(sym.name)
    return ObjectReport(name, attributes, [s.name for s in elf.iter_sections()], defined, undefined)


def verify_static_lib(
    lib_a: Path | str, core: str | CoreSpec, *, allow_undefined: Iterable[str] = (), label: str | None = None
) -> LibReport:
    """Check that an archive is what a firmware for ``core`` can link and trust.

    Per object: CPU name and architecture, hard-float call ABI (Tag_ABI_VFP_args)
    with an FPU present (Tag_FP_arch) iff the core is hard-float, short enums, no
    constructor sections. Across the archive: no undefined symbol besides memory
    helpers, compiler helper calls and ``allow_undefined``; never heap or stdio.
    """
    spec = resolve_core(core)
    report = LibReport(spec.name)
    problems: list[str] = []
    for name, blob in iter_ar_members(lib_a):
        obj = read_object(name, blob)
        report.members.append(obj)
        attrs = obj.attributes
        if not attrs:
            problems.append(f"{name}: no ARM build attributes (not built for Arm?)")
            continue
        cpu_name = str(attrs.get("TAG_CPU_NAME", "")).lower()
        if cpu_name != spec.cpu_name:
            problems.append(f"{name}: built for CPU '{cpu_name}', expected '{spec.cpu_name}'")
        arch = attrs.get("TAG_CPU_ARCH")
        if spec.cpu_arch and arch not in spec.cpu_arch:
            problems.append(f"{name}: Tag_CPU_arch {arch}, expected one of {spec.cpu_arch}")
        if attrs.get("TAG_CPU_ARCH_PROFILE") != ord("M"):
            problems.append(f"{name}: not an M-profile object")
        vfp_args = attrs.get("TAG_ABI_VFP_ARGS", 0)
        fp_arch = attrs.get("TAG_FP_ARCH", 0)
        if spec.hard_float and vfp_args != 1:
            problems.append(f"{name}: soft-float calling convention, expected hard-float (VFP registers)")
        if not spec.hard_float and vfp_args not in (0, None):
            problems.append(f"{name}: hard-float calling convention, expected {spec.float_abi} on {spec.name}")
        if spec.has_fpu:
            if not fp_arch:
                problems.append(f"{name}: compiled without an FPU for {spec.name} ({spec.float_abi} float): "
                                "it would return wrong numbers in a firmware that uses the FPU")
            elif spec.fp_arch is not None and fp_arch != spec.fp_arch:
                problems.append(f"{name}: Tag_FP_arch {fp_arch}, expected {spec.fp_arch} ({spec.fpu})")
        elif fp_arch:
            problems.append(f"{name}: uses FPU instructions (Tag_FP_arch {fp_arch}) on {spec.name}, "
                            "which has no FPU")
        if attrs.get("TAG_ABI_ENUM_SIZE") not in (1, None):
            problems.append(f"{name}: enums are not short (-fshort-enums) as arm-none-eabi-gcc expects")
        bad = [s for s in obj.sections if s.startswith(_FORBIDDEN_SECTIONS)]
        if bad:
            problems.append(f"{name}: global constructors/destructors ({', '.join(bad)})")
    if not report.members:
        problems.append("the archive holds no object")
    defined = set().union(*(m.defined for m in report.members)) if report.members else set()
    undefined = set().union(*(m.undefined for m in report.members)) - defined if report.members else set()
    allowed = set(allow_undefined)
    forbidden = sorted(undefined & FORBIDDEN_UNDEFINED)
    if forbidden:
        problems.append(f"uses heap, stdio or exit: {', '.join(forbidden)}")
    unresolved = sorted(
        u for u in undefined - FORBIDDEN_UNDEFINED
        if u not in ALLOWED_UNDEFINED and u not in allowed and not _ALLOWED_UNDEFINED_RE.match(u)
    )
    if unresolved:
        problems.append(f"calls functions the library does not define: {', '.join(unresolved)}")
    soft_floats = sorted(u for u in undefined if re.fullmatch(r"__aeabi_f(add|sub|mul|div)", u))
    if spec.has_fpu and soft_floats:
        problems.append(f"calls software float helpers ({', '.join(soft_floats)}) though {spec.name} has an FPU: "
                        f"the {spec.float_abi} build did not use it")
    report.undefined = sorted(undefined)
    report.soft_double = sorted(u for u in undefined if re.match(r"__aeabi_(d\w+|[fi]2d|l2d|ul2d|ui2d)$", u))
    if problems:
        raise ToolchainError(
            f"{label or Path(lib_a).name} does not fit {spec.name}:\n  " + "\n  ".join(problems),
            "This is a bug in the build recipe or the runtime; please report it.",
        )
    return report
