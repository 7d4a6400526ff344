"""Compare libraries on new files (the Studio's validation step).

Each library zip runs through its own host build (emulator_session): an
anomaly-detection library is initialised, learns the learning files, then
detects every test file; a trained library runs inference on them. Per file
the report gives the headline statistics and, when the file's expected answer
is given (nominal/abnormal, a class name, inlier/outlier), the share of lines
answered right; across files, the balanced accuracy: the mean over the
expected answers (roles or classes) of the share of their lines answered right.

`validate_project_libraries` compares a project's benchmark candidates as well:
a candidate without a zip is first built into the project's deploy/ folder by
`deploy.deploy`, exactly as `neai deploy DIR --lib ID` would (the project's
target, no suffix, optimised for size, verified on the emulated core), except
that it does not become the project's selected library.
"""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .emulator_session import EmulatorSession
from .errors import Cancelled, UsageError

THRESHOLD = 90
EXPECTED = {
    "anomaly": ("nominal", "abnormal"),
    "one-class": ("normal", "outlier"),  # "inlier" is taken for "normal" too
}


@dataclass
class ValidationFile:
    path: Path
    expected: str | None = None  # nominal/abnormal, inlier/outlier, or a class name
    line_range: str = ""


@dataclass
class LibraryReport:
    zip_path: Path
    library_id: str
    type: str
    learned: int = 0
    files: list[dict] = field(default_factory=list)
    balanced_accuracy: float | None = None
    error: str = ""
    built: bool = False  # the zip was built for this comparison (validate_project_libraries)
    outputs: list[list[dict]] = field(default_factory=list)  # per test file, the library's answer per line
    meta: dict = field(default_factory=dict)  # the zip's metadata.json


def _file_stats(kind: str, results: list[dict], expected: str | None) -> dict:
    n = len(results)
    stats: dict = {"lines": n}
    correct = None
    if kind == "anomaly":
        sims = np.array([r["similarity"] for r in results], dtype=float)
        stats.update(
            mean=round(float(sims.mean()), 1) if n else None,
            min=int(sims.min()) if n else None,
            max=int(sims.max()) if n else None,
            at_least_90=round(float(np.mean(sims >= THRESHOLD)) * 100, 1) if n else None,
        )
        if expected in ("nominal", "abnormal") and n:
            ok = sims >= THRESHOLD if expected == "nominal" else sims < THRESHOLD
            correct = float(np.mean(ok))
    elif kind == "one-class":
        outliers = [bool(r.get("outlier")) for r in results]
        stats["outliers"] = round(100.0 * sum(outliers) / n, 1) if n else None
        if expected in ("inlier", "normal", "outlier") and n:
            correct = float(np.mean([o == (expected == "outlier") for o in outliers]))
    elif kind == "n-class":
        counts = Counter(str(r.get("class")) for r in results)
        stats["classes"] = dict(counts.most_common())
        if expected and n:
            correct = counts.get(expected, 0) / n
    else:
        values = np.array([r.get("value") for r in results if r.get("value") is not None], dtype=float)
        stats.update(
            mean=round(float(values.mean()), 4) if len(values) else None,
            min=round(float(values.min()), 4) if len(values) else None,
            max=round(float(values.max()), 4) if len(values) else None,
        )
    if correct is not None:
        stats["correct"] = round(correct * 100, 1)
        stats["right"] = int(round(correct * n))  # lines answered right (the balanced accuracy counts them)
    stats["expected"] = expected
    return stats


def validate(
    zips: list[Path | str],
    *,
    learn: list[ValidationFile] = (),
    tests: list[ValidationFile] = (),
    sensitivity: float | None = None,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[LibraryReport]:
    """One report per library zip, in the order given. A library that fails
    (wrong shape, other machine's build) gets its error, the others still run."""
    if not zips:
        raise UsageError("no library to validate", "Choose one or more library zips (deploy builds them).")
    if not tests:
        raise UsageError("no test file", "Give at least one file of new signals to run the libraries on.")
    say = progress or (lambda _m: None)
    reports = []
    from .errors import NeaiError

    for zip_path in zips:
        if cancel is not None and cancel.is_set():
            raise Cancelled("validation stopped", "Run it again to compare all the libraries.")
        zip_path = Path(zip_path)
        say(f"running {zip_path.name}")
        try:
            session = EmulatorSession(zip_path)
            report = LibraryReport(zip_path, session.meta.get("library_id", zip_path.stem), session.type,
                                   meta=session.meta)
            if session.library is not None:
                if sensitivity is not None:
                    session.set_sensitivity(sensitivity)
                for item in learn:
                    session.learn(item.path, item.line_range)
                report.learned = session.learned
            by_label: dict[str, list[float]] = {}  # expected answer -> [right, lines]
            for item in tests:
                detected = session.detect(item.path, item.line_range)
                stats = _file_stats(session.type, detected.results, item.expected)
                stats["file"] = str(item.path)
                report.files.append(stats)
                report.outputs.append(detected.results)
                if "correct" in stats:
                    tally = by_label.setdefault(str(item.expected), [0.0, 0.0])
                    tally[0] += stats["right"]
                    tally[1] += stats["lines"]
            if by_label:
                report.balanced_accuracy = round(float(np.mean([r / n for r, n in by_label.values()])), 4)
        except NeaiError as exc:
            report = LibraryReport(zip_path, zip_path.stem, "?", error=exc.user_text())
        reports.append(report)
    return reports


def candidate_zip(project, lib_id: str) -> Path | None:
    """A zip of library `lib_id` in the project's deploy/ folder (the newest), if any."""
    from .emulator_session import list_library_zips

    return next((Path(z["path"]) for z in list_library_zips(project) if z["library_id"] == lib_id), None)


def validate_project_libraries(
    project,
    *,
    zips: list[Path | str] = (),
    candidates: list[str] = (),
    learn: list[ValidationFile] = (),
    tests: list[ValidationFile] = (),
    sensitivity: float | None = None,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[LibraryReport]:
    """Compare library zips and benchmark candidates (library ids of `neai libs`) on new files.

    Each candidate without a zip in the project's deploy/ folder is built there
    first (see the module's docstring); one whose build fails gets its error in
    its report and the others still run. Reports: the zips in the order given,
    then the candidates in theirs. The files are checked before anything is
    built; `cancel` is honoured between builds and between libraries."""
    from .deploy import deploy
    from .errors import InputError, NeaiError

    if not zips and not candidates:
        raise UsageError("no library to validate",
                         "Choose one or more library zips or benchmark candidates (`neai libs DIR` lists them).")
    if not tests:
        raise UsageError("no test file", "Give at least one file of new signals to run the libraries on.")
    for item in [*learn, *tests]:
        if not Path(item.path).is_file():
            raise InputError(f"{item.path}: no such file", "Check the path of the learning and test files.")
    say = progress or (lambda _m: None)
    candidates = list(dict.fromkeys(candidates))
    found = {lib: candidate_zip(project, lib) for lib in candidates}
    missing = [lib for lib in candidates if found[lib] is None]
    failed: dict[str, LibraryReport] = {}
    built: set[Path] = set()
    for n, lib_id in enumerate(missing, start=1):
        if cancel is not None and cancel.is_set():
            raise Cancelled("validation stopped", "Run it again: the libraries built so far are kept in deploy/.")
        step = f"building {lib_id} ({n} of {len(missing)})"
        say(step)
        try:
            result = deploy(project, lib_id=lib_id, select=False,
                            progress=lambda text, step=step: say(f"{step}: {text}"))
        except Cancelled:
            raise
        except NeaiError as exc:
            failed[lib_id] = LibraryReport(Path(lib_id), lib_id, "?", error=exc.user_text())
            continue
        found[lib_id] = Path(result.zip_path)
        built.add(found[lib_id])
    runnable = [Path(z) for z in zips] + [found[lib] for lib in candidates if lib not in failed]
    reports = iter(validate(runnable, learn=learn, tests=tests, sensitivity=sensitivity, progress=say, cancel=cancel)
                   if runnable else [])
    out = [next(reports) for _ in zips]
    for lib_id in candidates:  # a failed build keeps its place among the candidates
        out.append(failed[lib_id] if lib_id in failed else next(reports))
    for report in out:
        report.built = report.zip_path in built
    return out
