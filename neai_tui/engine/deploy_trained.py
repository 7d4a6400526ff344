"""`neai deploy` for the trained library types: 1-class, n-class, extrapolation.

Called by deploy.deploy for projects of those types. Steps:

1. the chosen library's record (search.find_library) gives its pipeline; the
   model is fitted again on ALL the project's lines (the benchmark fitted it on
   splits), with the benchmark's seed, through the model catalogue
   (trained.fit) on the C front end's features (csearch.features);
2. code generation: neai_config.h (private: trained.config_header), the public
   header and main.c (codegen_trained), knowledge.h (trained.knowledge_header);
3. builds: libneai.a for the target core and the host .so for the emulator,
   from the type's translation unit (c_lib/neai_<type>.c);
4. verification, before anything is written: on an emulated Cortex-M
   (unicorn), with the knowledge copied into memory the way a firmware holds it,
   the ARM build must give the host build's outputs bit for bit (states, ids,
   flags, values, probabilities) on >= 24 project lines plus a few altered
   ones, and the host build must give exactly trained.predict_c's outputs on
   the same lines; a mismatch raises ToolchainError and nothing is deployed;
5. measures: flash (the linked image + the knowledge, which is const and lives
   in the user's flash), static RAM + peak stack, instructions per inference;
6. the zip (deploy.write_zip), with the host build, the knowledge as
   emulator/knowledge.bin and the runner emulator/emulate.py.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import codegen, codegen_trained
from .cost import instructions, trained_terms
from .csearch import c_lib_dir
from .emulator_trained import KNOWLEDGE_FILE, STATE_NAMES, TrainedLibrary
from .errors import InputError, ToolchainError, UsageError
from .project import Project
from .scratch import scratch_dir
from .search import Benchmark, find_library
from .targets import resolve_target

VERIFY_LINES = 32  # project lines compared, spread over the classes
MIN_VERIFY_LINES = 24  # topped up with noisy copies on smaller projects
SO_NAME = "libneai_emulator.so"
NEAI_OK, NEAI_INIT_FCT_NOT_CALLED, NEAI_KNOWLEDGE_BUFFER_ERROR, NEAI_UNKNOWN_ERROR = 0, 123, 125, 128


def _trained():
    from . import trained

    return trained


def _load_data(project: Project, record: dict):
    from .tasks.trained_common import load_trained_data

    # The lines through the frequency filter the library's benchmark used (and the
    # library applies), whatever the project's filter is now.
    return load_trained_data(project, project.settings.type, record.get("frequency_filter"))


def fit_library(project: Project, record: dict, seed: int):
    """(data, features of every line, fitted model) of a library record, fitted on all lines."""
    from .csearch import features

    data = _load_data(project, record)
    pre, model = record["pipeline"]["pre"], record["pipeline"]["model"]
    feats = features(pre, data.lines, data.axes, data.buffer_size)
    if not np.isfinite(feats).all():
        bad = int(np.flatnonzero(~np.isfinite(feats).all(axis=1))[0])
        raise InputError(
            f"line {bad + 1} of the project gives non-finite features with this library's preprocessing",
            "Check the project's signals (`neai check DIR --optional`) or choose another library.",
        )
    fitted = _trained().fit(data.task, model, feats, data.y, int(seed))
    return data, feats, fitted


def verification_rows(data, seed: int) -> np.ndarray:
    """Project lines to compare on (spread over classes for n-class; noisy copies top
    up a project of fewer than MIN_VERIFY_LINES lines), then altered
    copies that reach the other branches: louder/quieter (outliers, extreme
    values), a constant line, and a NaN line (NEAI_UNKNOWN_ERROR on both sides)."""
    rng = np.random.default_rng([seed, 99])
    n = len(data.lines)
    if data.task == "n-class":
        per = max(1, -(-VERIFY_LINES // len(data.class_names)))
        picks = [rng.permutation(np.flatnonzero(data.y == c))[:per] for c in range(len(data.class_names))]
        idx = np.concatenate(picks)
    else:
        idx = rng.permutation(n)[:VERIFY_LINES]
    base = data.lines[np.sort(idx)].astype(np.float32)
    if len(base) < MIN_VERIFY_LINES:  # a tiny project: add noisy copies of its lines
        extra = base[rng.integers(len(base), size=MIN_VERIFY_LINES - len(base))]
        spread = base.std(axis=0, keepdims=True) + 1e-6
        base = np.vstack([base, extra + 0.05 * spread * rng.standard_normal(extra.shape)]).astype(np.float32)
    some = base[rng.permutation(len(base))[:4]]
    mean = some.mean(axis=1, keepdims=True)
    altered = [mean + 4.0 * (some - mean), mean + 0.25 * (some - mean), np.full((1, base.shape[1]), 0.5)]
    nan_line = base[:1].copy()
    nan_line[0, nan_line.shape[1] // 2] = np.nan
    return np.vstack([base, *altered, nan_line]).astype(np.float32)


def _outputs_arm(arm, lib_type, fn, buf, out_ptr, id_ptr, n_classes):
    """(state, output bytes) of one inference on the emulated core; outputs pre-filled
    with a sentinel so "left untouched" is compared too."""
    if lib_type == "n-class":
        arm.write_bytes(out_ptr, b"\xa5" * (4 * n_classes))
        arm.write_bytes(id_ptr, b"\xa5\xa5")
        st = arm.call(fn, buf, out_ptr, id_ptr)
        return st, arm.read_bytes(out_ptr, 4 * n_classes) + arm.read_bytes(id_ptr, 2)
    size = 1 if lib_type == "one-class" else 4
    arm.write_bytes(out_ptr, b"\xa5" * size)
    st = arm.call(fn, buf, out_ptr)
    return st, arm.read_bytes(out_ptr, size)


def _outputs_host(host: TrainedLibrary, row) -> tuple[int, bytes]:
    """The same with the host build, through ctypes with the same sentinels."""
    import ctypes

    host._load(row)
    if host.type == "n-class":
        proba = (ctypes.c_float * host.class_number).from_buffer_copy(b"\xa5" * (4 * host.class_number))
        ident = ctypes.c_uint16(0xA5A5)
        st = host._infer(host._buffer, proba, ctypes.byref(ident))
        return st, bytes(proba) + bytes(ident)
    if host.type == "one-class":
        flag = ctypes.c_uint8(0xA5)
        st = host._infer(host._buffer, ctypes.byref(flag))
        return st, bytes(flag)
    value = ctypes.c_float.from_buffer_copy(b"\xa5" * 4)
    st = host._infer(host._buffer, ctypes.byref(value))
    return st, bytes(value)


def _expected_bytes(lib_type: str, pred: dict, i: int) -> bytes:
    """What the library must write for line i, from trained.predict_c's outputs."""
    if lib_type == "n-class":
        proba = np.asarray(pred["proba"][i], dtype="<f4")
        ident = int(np.argmax(proba)) + 1  # first maximum, as the C
        return proba.tobytes() + int(ident).to_bytes(2, "little")
    if lib_type == "one-class":
        return bytes([1 if bool(np.asarray(pred["outlier"])[i]) else 0])
    return np.asarray([np.asarray(pred["value"])[i]], dtype="<f4").tobytes()


def verify_trained(emu_lib, host_so, core, lib_type, symbols, suffix, axes, buffer_size, n_classes,
                   knowledge, rows, expected, work_dir, *, opt: str = "-Os") -> dict:
    """ARM build == host build == predict_c on `rows`; footprint and instruction counts.

    ``expected[i]`` is the output bytes predict_c implies for row i (None for
    rows that must give NEAI_UNKNOWN_ERROR); ``opt`` the level ``emu_lib`` was built with."""
    from .armrun import ArmMachine, link_image, measure_elf

    from .toolchain import resolve_core

    core_label = resolve_core(core).name
    elf = link_image(emu_lib, core, symbols, Path(work_dir) / "verify.elf", opt=opt)
    footprint = measure_elf(elf)
    arm = ArmMachine(elf, core)
    host = TrainedLibrary(host_so, lib_type, axes, buffer_size, suffix, n_classes)
    init_fn, infer_fn = symbols
    buf = arm.alloc(4 * axes * buffer_size)
    out_ptr = arm.alloc(4 * max(1, n_classes))
    id_ptr = arm.alloc(4)
    problems: list[str] = []

    # Inference before init, then init with knowledge that is not this library's.
    arm.write_floats(buf, rows[0])
    before = (_outputs_arm(arm, lib_type, infer_fn, buf, out_ptr, id_ptr, n_classes), _outputs_host(host, rows[0]))
    if not before[0][0] == before[1][0] == NEAI_INIT_FCT_NOT_CALLED:
        problems.append(f"inference before init: ARM {before[0][0]}, host {before[1][0]}")
    wrong = np.zeros(len(knowledge), dtype=np.float32)
    st_arm, st_host = arm.call(init_fn, arm.alloc_floats(wrong)), host.init(wrong)
    if not st_arm == st_host == NEAI_KNOWLEDGE_BUFFER_ERROR:
        problems.append(f"init with zeroed knowledge: ARM {st_arm}, host {st_host}")
    kb_addr = arm.alloc_floats(knowledge)
    st_arm, st_host = arm.call(init_fn, kb_addr), host.init(knowledge)
    init_instructions = arm.last_instructions
    if not st_arm == st_host == NEAI_OK:
        problems.append(f"init with the library's knowledge: ARM {STATE_NAMES.get(st_arm, st_arm)}, "
                        f"host {STATE_NAMES.get(st_host, st_host)}")

    mismatches, instr, cycles = 0, [], []
    for i, row in enumerate(rows):
        arm.write_floats(buf, row)
        st_arm, out_arm = _outputs_arm(arm, lib_type, infer_fn, buf, out_ptr, id_ptr, n_classes)
        st_host, out_host = _outputs_host(host, row)
        want_state = NEAI_OK if expected[i] is not None else NEAI_UNKNOWN_ERROR
        if (st_arm, out_arm) != (st_host, out_host):
            mismatches += 1
            if len(problems) < 5:
                problems.append(f"line {i + 1}: ARM {st_arm} {out_arm.hex()} != host {st_host} {out_host.hex()}")
        elif st_host != want_state or (expected[i] is not None and out_host != expected[i]):
            mismatches += 1
            if len(problems) < 5:
                problems.append(f"line {i + 1}: host {st_host} {out_host.hex()} != predict_c "
                                f"{want_state} {(expected[i] or b'').hex()}")
        if st_arm == NEAI_OK:
            instr.append(arm.last_instructions)
            cycles.append(arm.last_cycles)
    knowledge_bytes = 4 * len(knowledge)
    static_ram = footprint.ram_bytes
    stack = int(arm.peak_stack_bytes)
    result = {
        "lines_compared": len(rows),
        "identical": mismatches == 0 and not problems,
        "mismatches": mismatches,
        "flash_bytes": footprint.flash_bytes + knowledge_bytes,
        "code_flash_bytes": footprint.flash_bytes,
        "knowledge_bytes": knowledge_bytes,
        "ram_bytes": static_ram + stack,
        "static_ram_bytes": static_ram,
        "stack_bytes": stack,
        "instructions_per_inference": int(max(instr)) if instr else 0,
        "cycles_per_inference": int(max(cycles)) if cycles else 0,
        "instructions_per_init": int(init_instructions),
        # the anomaly libraries' names, so tools reading either kind find them
        "instructions_per_detect": int(max(instr)) if instr else 0,
        "cycles_per_detect": int(max(cycles)) if cycles else 0,
        "instructions_per_learn": 0,
        "core": core_label,
    }
    if not result["identical"]:
        raise ToolchainError(
            f"the {core_label} build, the host build and the model disagree on {max(mismatches, 1)} of {len(rows)} lines:\n  "
            + "\n  ".join(problems),
            "This is a bug in neai-tui: please report it with the project; nothing was deployed.",
        )
    return result


def parse_knowledge_header(text: str) -> np.ndarray:
    """The floats of a generated knowledge.h (its one array initialiser)."""
    start = re.search(r"\[\d+\]\s*=\s*\{", text)
    if start is None:
        raise ValueError("no array initialiser in the knowledge header")
    body = text[start.end() : text.index("}", start.end())]
    body = re.sub(r"/\*.*?\*/", " ", body, flags=re.S)
    items = [v.strip().rstrip("fF") for v in body.split(",") if v.strip()]
    return np.array([float(v) for v in items], dtype=np.float64).astype(np.float32)


@dataclass
class BuiltLibrary:
    lib_a: Path  # for the target core
    host_so: Path
    gen: Path  # generated headers
    knowledge_text: str
    check: dict  # verify_trained's figures, for the target core


def build_and_verify(fitted, pre: dict, data, lib_name: str, suffix: str | None, core_name: str, seed: int,
                     tmp: Path, say=None, *, opt: str = "-Os") -> BuiltLibrary:
    """Generate, compile (target core at optimisation ``opt`` + host) and verify a
    fitted trained model in `tmp`.

    Raises ToolchainError when the builds or the model disagree. Used by `neai deploy`
    and by bench/trained_libraries.py (for baselines built the very same way)."""
    from .csearch import features
    from .filtering import filter_lines
    from .toolchain import compile_host_shared, compile_static_lib, emulation_spec, resolve_core

    say = say or (lambda _msg: None)
    trained = _trained()
    core = resolve_core(core_name)
    lib_type = data.task
    axes, buffer_size = data.axes, data.buffer_size
    classes = list(data.class_names) if lib_type == "n-class" else []
    knowledge = np.ascontiguousarray(fitted.knowledge(), dtype=np.float32)
    header = codegen.header_name(suffix)
    kheader = codegen_trained.knowledge_header_name(suffix)
    symbols = codegen_trained.api_symbols(lib_type, suffix)
    gen = tmp / "gen"
    gen.mkdir(parents=True, exist_ok=True)
    frequency_filter = data.filter.settings if data.filter is not None else None
    (gen / "neai_config.h").write_text(trained.config_header(fitted, pre, axes, buffer_size, lib_name, suffix,
                                                             frequency_filter))
    (gen / header).write_text(codegen_trained.public_header(
        lib_type, lib_name, axes, buffer_size, suffix, classes=classes, knowledge_floats=len(knowledge)))
    ktext = trained.knowledge_header(fitted, lib_name, suffix)
    (gen / kheader).write_text(ktext)
    if not np.array_equal(parse_knowledge_header(ktext).view(np.uint32), knowledge.view(np.uint32)):
        raise ToolchainError(f"{kheader} does not hold the fitted knowledge",
                             "This is a bug in neai-tui: please report it; nothing was deployed.")
    sources = [c_lib_dir() / codegen_trained.source_file(lib_type)]
    includes = [gen, c_lib_dir()]
    say(f"compiling for {core.name} ({opt}) with the bundled compiler")
    lib_a = compile_static_lib(sources, tmp / "libneai.a", core, include_dirs=includes, opt=opt)
    say("compiling the host build for the emulator")
    host_so = compile_host_shared(sources, tmp / "emulator" / SO_NAME, include_dirs=includes)

    say(f"verifying the {core.name} build against the host build and the model on an emulated core")
    rows = verification_rows(data, seed)
    # The library filters what it is given: the model's answer is on the filtered rows.
    feats = features(pre, filter_lines(data.filter, rows, axes, buffer_size), axes, buffer_size)
    # The C front end leaves the features of a non-finite input unwritten: test both.
    finite = np.isfinite(rows).all(axis=1) & np.isfinite(feats).all(axis=1)
    pred = trained.predict_c(fitted, feats[finite])
    expected: list[bytes | None] = []
    j = 0
    for ok in finite:
        expected.append(_expected_bytes(lib_type, pred, j) if ok else None)
        j += int(ok)
    # Cores unicorn cannot run (M55) are verified through the same sources built for
    # a stand-in core; flash and static RAM are measured from the real build.
    emu_core = emulation_spec(core)
    emu_lib = lib_a
    if emu_core.name != core.name:
        emu_lib = compile_static_lib(sources, tmp / "emu" / "libneai.a", emu_core, include_dirs=includes,
                                     opt=opt)
    check = verify_trained(emu_lib, host_so, emu_core, lib_type, symbols, codegen.check_suffix(suffix)[1:],
                           axes, buffer_size, len(classes), knowledge, rows, expected, tmp, opt=opt)
    if emu_core.name != core.name:
        from .armrun import link_image, measure_elf

        real = measure_elf(link_image(lib_a, core, symbols, tmp / "real.elf", opt=opt))
        check["code_flash_bytes"] = real.flash_bytes
        check["flash_bytes"] = real.flash_bytes + check["knowledge_bytes"]
        check["static_ram_bytes"] = real.ram_bytes
        check["ram_bytes"] = real.ram_bytes + check["stack_bytes"]
        check["core"] = f"{core.name} (instructions measured on {emu_core.name})"
    return BuiltLibrary(lib_a, host_so, gen, ktext, check)


def deploy_trained(project: Project, *, lib_id=None, target=None, suffix=None, out=None, say=None,
                   optimize="size", opt="-Os", build: dict | None = None):
    from .deploy import DeployResult, default_zip_path, library_metadata, write_zip
    from .toolchain import build_tag, build_variant, resolve_core

    say = say or (lambda _msg: None)
    lib_type = project.settings.type
    if lib_type not in codegen_trained.API_NAMES:
        raise UsageError(f"{lib_type} projects are not trained libraries", "Use `neai deploy` on the project.")
    record = find_library(project, lib_id)
    tgt = resolve_target(target or project.settings.target)
    core = build_variant(resolve_core(tgt.core), **(build or {}))
    bench = Benchmark.load(project, record["benchmark"])
    seed = int(bench.state["seed"])
    lib_name = record["id"]
    pipeline = record["pipeline"]
    codegen.check_suffix(suffix)  # refuse a bad suffix before any work

    out_path = Path(out).expanduser() if out else default_zip_path(project, lib_name, core.name, suffix, optimize,
                                                                    build_tag(core))
    if out_path.suffix.lower() != ".zip":
        raise UsageError(f"--out {out_path}: the library is a zip file", "Give a path ending in .zip.")

    say(f"fitting {lib_name} on all the project's lines")
    data, _, fitted = fit_library(project, record, seed)
    axes, buffer_size = data.axes, data.buffer_size
    classes = list(data.class_names) if lib_type == "n-class" else []
    header = codegen.header_name(suffix)
    kheader = codegen_trained.knowledge_header_name(suffix)

    with scratch_dir("neai-deploy-") as tmp_name:
        tmp = Path(tmp_name)
        built = build_and_verify(fitted, pipeline["pre"], data, lib_name, suffix, core, seed, tmp, say, opt=opt)
        check, gen, ktext = built.check, built.gen, built.knowledge_text
        lib_a, host_so = built.lib_a, built.host_so
        metadata = library_metadata(
            project, record, lib_type, tgt, core, suffix, header, record.get("pipeline_text") or _describe(pipeline),
            check, None,  # trained on the host: nothing to learn on the device
            check["knowledge_bytes"],
            {"axes": axes, "buffer_size": buffer_size, "values_per_line": axes * buffer_size,
             "training_layout": "target-first" if lib_type == "extrapolation" else "buffers"},
            SO_NAME, optimize=optimize,
            estimated_instructions=instructions(
                trained_terms(fitted, pipeline["pre"], axes, buffer_size,
                              data.filter.sections if data.filter is not None else 0), core.name),
        )
        metadata["knowledge_header"] = kheader
        metadata["fitted_on"] = {"lines": int(len(data.lines)), "seed": seed}
        metadata["emulator"]["knowledge"] = KNOWLEDGE_FILE
        if lib_type == "n-class":
            metadata["classes"] = classes
        files = {
            "libneai.a": lib_a.read_bytes(),
            header: (gen / header).read_bytes(),
            kheader: ktext.encode(),
            "metadata.json": (json.dumps(metadata, indent=2) + "\n").encode(),
            "main.c": codegen_trained.hello_world(lib_type, suffix).encode(),
            f"emulator/{SO_NAME}": host_so.read_bytes(),
            f"emulator/{KNOWLEDGE_FILE}": np.asarray(fitted.knowledge(), dtype="<f4").tobytes(),
            "emulator/emulate.py": (Path(__file__).parent / "emulator_trained.py").read_bytes(),
        }
        write_zip(out_path, files)
    return DeployResult(out_path, metadata)


def _describe(pipeline: dict) -> str:
    try:
        from .pipeline import describe

        return describe(pipeline)
    except (KeyError, ValueError):
        return json.dumps(pipeline, sort_keys=True)
