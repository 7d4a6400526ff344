"""Projects and the workspace that holds them.

A project is a folder:

    project.json        settings and the list of imported signal files
    signals/            copies of the imported files (the originals are never touched)
    benchmarks/<id>/    one folder per benchmark run (see search.py)
    deploy/             libraries built by `neai deploy`

Every write is atomic (storage.py), so a crash never leaves a project unreadable.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import math
import os
import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .errors import InputError, Problem, UsageError
from .lock import LOCK_FILE, WriterLock, project_writer
from .storage import atomic_write_bytes, atomic_write_json, read_json
from .targets import DEFAULT_TARGET, resolve_target

PROJECT_FILE = "project.json"
FORMAT_VERSION = 1
PROJECT_TYPES = ("anomaly", "one-class", "n-class", "extrapolation")
TYPE_TITLES = {
    "anomaly": "Anomaly detection",
    "one-class": "1-class classification",
    "n-class": "n-class classification",
    "extrapolation": "Extrapolation",
}
ROLES = ("nominal", "abnormal")


def default_workspace_dir() -> Path:
    """The workspace folder: $NEAI_WORKSPACE, else the one saved in the user's
    config (user_config.py), else the user's data directory."""
    env = os.environ.get("NEAI_WORKSPACE")
    if env:
        return Path(env).expanduser()
    from .user_config import configured_workspace

    saved = configured_workspace()
    if saved is not None:
        return saved
    import platformdirs

    return Path(platformdirs.user_data_dir("neai-tui")) / "projects"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


SIGNAL_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with control characters (newlines included) shown as escapes, so a
    file name cannot break a line of the project file, a message or a report."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def stored_name(name: str) -> str:
    """The name part of an imported copy (after ``s<N>_``): letters, digits, '_',
    '-' and '.', at most 40 characters, and one of the signal extensions
    (``x.csv;rm -rf ~`` -> ``x.csv``, ``rec.CSV`` -> ``rec.csv``, ``data`` -> ``data.csv``)."""
    path = Path(name)
    suffix = path.suffix.lower()
    stem = path.stem if suffix else name
    if suffix not in SIGNAL_SUFFIXES:
        for candidate in SIGNAL_SUFFIXES:  # "x.csv;rm -rf ~": the real extension is inside
            if candidate in name.lower():
                stem = name[: name.lower().index(candidate)]
                suffix = candidate
                break
        else:
            suffix = ".csv"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._")[:40] or "signals"
    return stem + suffix


def _stamp(file: Path) -> tuple | None:
    try:
        st = file.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _load_project_file(file: Path) -> tuple["ProjectSettings", list["SignalEntry"], str]:
    """Settings, signals and creation time of a project.json, validated (schema.py)."""
    from .schema import InvalidProjectData, check_project

    try:
        data = read_json(file)
    except (ValueError, OSError) as exc:
        raise InputError(
            f"{file}: the project file is damaged ({exc})",
            "Restore it from a backup, or recreate the project and import the signals again.",
        ) from None
    check_project(data, str(file))
    try:
        settings = ProjectSettings(**data["settings"])
        signals = [SignalEntry(**s) for s in data.get("signals", [])]
        settings.validate(check_target=False)
    except (TypeError, KeyError) as exc:
        raise InvalidProjectData(
            f"{file}: the project file is damaged ({exc})",
            "Restore it from a backup, or recreate the project and import the signals again.",
        ) from None
    except UsageError as exc:
        raise InvalidProjectData(f"{file}: settings: {exc.message}", exc.hint) from None
    return settings, signals, data.get("created", "")


@dataclass
class ProjectSettings:
    name: str
    type: str = "anomaly"
    axes: int = 1  # sensor axes, or variables for Multi-sensor
    multisensor: bool = False
    description: str = ""
    max_ram_kb: float | None = None  # None = no limit
    max_flash_kb: float | None = None
    target: str = DEFAULT_TARGET
    # {"sampling_rate_hz", "low_hz", "high_hz"} (None = not set). With a cut-off, the
    # benchmark and the libraries filter every buffer with it (see filtering.py).
    frequency_filter: dict | None = None
    # Longest inference (learn/detect, or the trained types' inference) in ms at the
    # target's clock (targets.clock_mhz), as estimated by cost.py; None = no limit.
    # Candidates over it are excluded from the benchmark like those over RAM/flash.
    max_time_ms: float | None = None

    def validate(self, *, check_target: bool = True) -> None:
        """Raise UsageError for settings that cannot work. ``check_target=False`` (on
        load) lets a project whose target left the catalogue open, to choose another."""
        if self.type not in PROJECT_TYPES:
            raise UsageError(
                f"unknown project type '{self.type}'", f"Choose one of: {', '.join(PROJECT_TYPES)}."
            )
        if not isinstance(self.axes, int) or not 1 <= self.axes <= 64:
            raise UsageError(f"the number of axes must be 1..64, not {self.axes}", "Give --axes N (or --variables N).")
        if self.multisensor and self.type != "anomaly":
            raise UsageError(
                "Multi-sensor (--variables) is for anomaly detection only",
                "Use --axes N for this project type, or --type anomaly.",
            )
        for label, value in (("max RAM", self.max_ram_kb), ("max flash", self.max_flash_kb)):
            if value is not None and value <= 0:
                raise UsageError(f"{label} must be a positive number of KB, not {value}", "Omit it for no limit.")
        validate_max_time(self.max_time_ms)
        if check_target:
            resolve_target(self.target)
        if not isinstance(self.name, str) or not self.name.strip():
            raise UsageError("the project name is empty", "Give --name NAME.")
        if len(self.name) > 200 or _CONTROL.search(self.name):
            raise UsageError(
                f"the project name '{printable(self.name[:60])}' holds control characters or is over 200 characters",
                "Give a name on one line, e.g. --name \"fan test bench\".",
            )
        if not isinstance(self.description, str) or len(self.description) > 4096 or _CONTROL.search(
            self.description.replace("\n", "").replace("\t", "")
        ):
            raise UsageError("the description holds control characters or is over 4096 characters",
                             "Write plain text (lines and tabs are fine).")
        if self.frequency_filter is not None:
            validate_frequency_filter(self.frequency_filter)
            cut = self.frequency_filter.get("low_hz") or self.frequency_filter.get("high_hz")
            if self.multisensor and cut:
                raise UsageError(
                    "the frequency filter works on signal buffers; a Multi-sensor project's lines are single samples",
                    "Leave the cut-offs blank (a sampling rate alone only labels the spectrum in Hz).",
                )

    @property
    def layout(self) -> str:
        if self.multisensor:
            return "multisensor"
        return "target-first" if self.type == "extrapolation" else "buffers"

    @property
    def core(self) -> str:
        return resolve_target(self.target).core


def validate_max_time(value) -> None:
    """A maximum inference time is a positive, finite number of milliseconds (or None)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise UsageError(
            f"the maximum inference time must be a positive number of milliseconds, not {value!r}",
            "Give e.g. --max-time 5 (5 ms per inference at the target's clock), or omit it for no limit.",
        )


def validate_frequency_filter(settings: dict) -> None:
    """Sampling rate > 0; cut-offs >= 0, below Nyquist, low < high (each optional)."""
    rate = settings.get("sampling_rate_hz")
    low = settings.get("low_hz")
    high = settings.get("high_hz")
    for label, value in (("sampling rate", rate), ("low cut-off", low), ("high cut-off", high)):
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value != value):
            raise UsageError(f"the {label} must be a number, not {value!r}", "Leave it blank for none.")
    if rate is not None and rate <= 0:
        raise UsageError(f"the sampling rate must be positive, not {rate} Hz", "Give the sensor's output data rate in Hz.")
    if (low is not None or high is not None) and rate is None:
        raise UsageError("cut-off frequencies need the sampling rate", "Give the sampling rate in Hz first.")
    for label, value in (("low cut-off", low), ("high cut-off", high)):
        if value is not None and not 0 <= value <= rate / 2:
            raise UsageError(
                f"the {label} must be between 0 and half the sampling rate ({rate / 2:g} Hz), not {value:g} Hz",
                "Frequencies above half the sampling rate are not in the signal.",
            )
    if low is not None and high is not None and low >= high:
        raise UsageError(f"the low cut-off ({low:g} Hz) must be below the high cut-off ({high:g} Hz)", "Swap them.")


@dataclass
class SignalEntry:
    id: str
    file: str  # path relative to the project folder
    original: str
    role: str | None = None  # anomaly: nominal / abnormal
    couple: int = 1  # anomaly: signal couple
    class_name: str | None = None  # n-class
    sep: str = " "
    lines: int = 0
    values_per_line: int = 0
    sha256: str = ""
    imported_at: str = ""
    warnings: list[str] = field(default_factory=list)

    def label(self) -> str:
        if self.role:
            return f"{self.role} (couple {self.couple})"
        if self.class_name:
            return f"class {self.class_name}"
        return "signals"


class Project:
    """One project folder. Create with `Project.create`, load with `Project.open`."""

    def __init__(self, path: Path, settings: ProjectSettings, signals: list[SignalEntry], created: str):
        self.path = Path(path)
        self.settings = settings
        self.signals = signals
        self.created = created
        self._stamp: tuple | None = None  # project.json as last read or written (reload)

    # -- persistence -----------------------------------------------------------------
    @classmethod
    def create(cls, path: Path | str, settings: ProjectSettings) -> "Project":
        path = Path(path).expanduser()
        settings.validate()
        if (path / PROJECT_FILE).exists():
            raise UsageError(f"{path} already holds a project", "Choose another folder, or open it with `neai tui DIR`.")
        if path.exists() and any(path.iterdir()):
            raise UsageError(
                f"{path} exists and is not empty",
                "Give a new or empty folder, so no file of yours is mixed with the project.",
            )
        path.mkdir(parents=True, exist_ok=True)
        project = cls(path, settings, [], _now())
        project.save()
        (path / LOCK_FILE).touch()  # there from the start: a writer never adds a file
        return project

    @classmethod
    def open(cls, path: Path | str) -> "Project":
        path = Path(path).expanduser()
        file = path / PROJECT_FILE
        if not file.exists():
            raise UsageError(
                f"{path} is not a neai project (no {PROJECT_FILE})",
                "Create one with `neai new DIR --type anomaly --axes N`.",
            )
        stamp = _stamp(file)
        settings, signals, created = _load_project_file(file)
        project = cls(path, settings, signals, created)
        project._stamp = stamp
        return project

    def reload(self) -> bool:
        """Read project.json again if another process changed it since this object
        read or wrote it (a TUI screen kept open while the CLI imports); True if so."""
        file = self.path / PROJECT_FILE
        stamp = _stamp(file)
        if stamp is None or stamp == self._stamp:
            return False
        self.settings, self.signals, self.created = _load_project_file(file)
        self._stamp = stamp
        return True

    @contextmanager
    def writer(self, action: str) -> Iterator[WriterLock]:
        """Hold the project's writer lock (lock.py) while changing it:
        ``with project.writer("set"): ...``. Re-entrant in one thread; a second
        writer gets ProjectBusy (exit 2) naming the holder. On first entry the
        project is read again from disk, so changes made by another process
        meanwhile are not overwritten with this object's older view."""
        with project_writer(self.path, action) as held:
            if not held.nested:
                self._stamp = None  # read it again, whatever the file's time stamps say
                self.reload()
            yield held

    def save(self) -> None:
        atomic_write_json(
            self.path / PROJECT_FILE,
            {
                "format": FORMAT_VERSION,
                "created": self.created,
                "settings": asdict(self.settings),
                "signals": [asdict(s) for s in self.signals],
            },
        )
        self._stamp = _stamp(self.path / PROJECT_FILE)

    # -- derived facts -------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def values_per_line(self) -> int | None:
        counts = {s.values_per_line for s in self.signals}
        return counts.pop() if len(counts) == 1 else None

    @property
    def buffer_size(self) -> int | None:
        """Samples per axis in one line (Multi-sensor: 1)."""
        vpl = self.values_per_line
        if vpl is None:
            return None
        if self.settings.multisensor:
            return 1
        if self.settings.type == "extrapolation":
            vpl -= 1
        return vpl // self.settings.axes

    def signal_path(self, entry: SignalEntry) -> Path:
        """Where an imported copy is: always a plain file of the project's signals/
        folder (schema.py checks the entry on load; this checks again at use, so an
        entry made in memory cannot name a file elsewhere either)."""
        from .schema import SIGNAL_FILE, InvalidProjectData

        folder = self.path / "signals"
        path = self.path / entry.file
        if not SIGNAL_FILE.fullmatch(entry.file) or path.parent != folder or path.is_symlink() or (
            folder.is_symlink()
        ):
            raise InvalidProjectData(
                f"{self.path / PROJECT_FILE}: signal {entry.id}: file '{printable(entry.file)}' is not a plain "
                "file of the project's signals/ folder",
                "Remove this signal and import the file again.",
            )
        return path

    def signals_with(self, role: str | None = None, couple: int | None = None) -> list[SignalEntry]:
        return [
            s
            for s in self.signals
            if (role is None or s.role == role) and (couple is None or s.couple == couple)
        ]

    def couples(self) -> list[int]:
        return sorted({s.couple for s in self.signals if s.role})

    # -- signals -------------------------------------------------------------------
    def import_signal(
        self,
        source: Path | str,
        *,
        role: str | None = None,
        class_name: str | None = None,
        couple: int = 1,
        sep: str = "auto",
    ) -> SignalEntry:
        """Check a signal file and copy it into the project; the original stays untouched.

        The file is read once (a regular file only, size checked first: userfiles.py);
        the bytes checked are the bytes stored, under the project's writer lock."""
        with self.writer("import a signal file"):
            return self._import_signal(source, role=role, class_name=class_name, couple=couple, sep=sep)

    def _import_signal(self, source, *, role, class_name, couple, sep) -> SignalEntry:
        from .signals import MAX_FILE_BYTES, read_signals
        from .userfiles import read_user_file

        source = Path(source).expanduser()
        kind = self.settings.type
        if kind == "anomaly":
            if role is None:
                raise UsageError(
                    f"importing {source.name}: anomaly detection needs --role nominal or --role abnormal",
                    "Nominal signals teach what is normal; abnormal ones only help choose the library.",
                )
            if role not in ROLES:
                raise UsageError(f"unknown role '{role}'", "Use --role nominal or --role abnormal.")
            if couple < 1:
                raise UsageError(f"couple must be 1 or more, not {couple}", "Use --couple K with K >= 1.")
        elif role is not None:
            raise UsageError(f"--role is for anomaly detection projects, this one is {TYPE_TITLES[kind]}", "Drop --role.")
        if kind == "n-class":
            class_name = class_name or source.stem
            if not re.fullmatch(r"[A-Za-z0-9_.\- ]{1,64}", class_name):
                raise UsageError(
                    f"class name '{class_name}' is not usable in C code",
                    "Use letters, digits, '_', '-', '.' or spaces (at most 64), e.g. --class bearing_fault.",
                )
        elif class_name is not None:
            raise UsageError("--class is for n-class classification projects", "Drop --class.")
        if kind in ("one-class", "extrapolation") and self.signals:
            raise UsageError(
                f"{TYPE_TITLES[kind]} takes one signal file and this project has {self.signals[0].file}",
                "Merge your files into one, or remove the imported one first.",
            )

        axes = self.settings.axes
        content = read_user_file(source, MAX_FILE_BYTES)
        try:
            data = read_signals(source, axes=axes, sep=sep, layout=self.settings.layout, content=content)
        except InputError as exc:
            # Lines that are whole buffers without the target: say so, not just "not a multiple".
            if kind == "extrapolation" and any(p.code == "not-multiple-of-axes" for p in getattr(exc, "problems", [])):
                try:
                    n = read_signals(source, axes=axes, sep=sep, layout="buffers", content=content).values_per_line
                except InputError:
                    raise exc from None
                raise InputError(
                    f"{source}: lines hold {n} values, {axes} axes × {n // axes} samples, and no target: "
                    "an extrapolation line starts with the target value, then the buffer",
                    f"Put the target first on each line: target x0 y0 … ({1 + n} values per line).",
                ) from None
            raise
        n_lines, n_values = data.values.shape
        target_values = 1 if kind == "extrapolation" else 0
        if self.settings.layout != "multisensor" and n_values - target_values == axes:
            raise InputError(
                f"{source}: each line holds one sample per axis ({axes} value(s)"
                + (" after the target" if target_values else "")
                + "): that is time-ordered data, but this "
                f"{TYPE_TITLES[kind]} project takes one independent buffer of samples per line",
                "Cut the recording into buffers of consecutive samples (e.g. 256 per axis) and write each "
                "as one line, x0 y0 z0 x1 y1 z1 … (`neai tools reshape FILE --buffer 256 --out OUT` does "
                "it); to monitor the sample stream itself, create a "
                "Multi-sensor anomaly detection project: `neai new DIR --type anomaly --variables N`.",
            )
        if kind == "extrapolation" and n_lines > 1 and float(data.values[:, 0].min()) == float(data.values[:, 0].max()):
            raise InputError(
                f"{source}: the target (column 1) is {data.values[0, 0]:g} on every line: nothing to extrapolate",
                "Each line starts with the target value measured with its buffer; record signals over the "
                "range of targets the library must predict.",
            )
        existing = self.values_per_line
        if existing is not None and n_values != existing:
            if kind == "n-class":
                other = self.signals[0]
                per = f"{axes} axis" if axes == 1 else f"{axes} axes"
                raise InputError(
                    f"{source}: lines hold {n_values} values ({per} × {n_values // axes} samples) but "
                    f"class '{other.class_name}' lines hold {existing} ({per} × {existing // axes} samples)",
                    "Every class must have the same buffer size and axes: record or cut this class's "
                    f"signals to {existing // axes} samples per axis.",
                )
            raise InputError(
                f"{source}: lines hold {n_values} values but the project's other signals hold {existing}",
                "Every signal file of a project must have the same buffer size and number of axes.",
            )
        if kind == "n-class" and any(s.class_name == class_name for s in self.signals):
            raise UsageError(f"class '{class_name}' is already imported", "Give another --class NAME.")

        digest = hashlib.sha256(content).hexdigest()
        index = len(self.signals) + 1
        while any(s.id == f"s{index}" for s in self.signals):
            index += 1
        dest_rel = f"signals/s{index}_{stored_name(source.name)}"
        dest = self.path / dest_rel
        atomic_write_bytes(dest, content)
        del content
        entry = SignalEntry(
            id=f"s{index}",
            file=dest_rel,
            original=printable(str(source.resolve()))[:4096],
            role=role,
            couple=couple,
            class_name=class_name,
            sep=data.sep,
            lines=n_lines,
            values_per_line=n_values,
            sha256=digest,
            imported_at=_now(),
            warnings=[printable(p.text()) for p in data.problems if p.severity != "error"],
        )
        if kind == "extrapolation" and axes == 1 and n_values >= 8 and not n_values & (n_values - 1):
            # With one axis a missing target cannot be proven; a power-of-two line length suggests it.
            entry.warnings.append(printable(
                f"{source}: warning: lines hold {n_values} values, a power of two: is the target missing? "
                f"Fix: each line must be the target value, then the buffer (here {n_values - 1} samples)."
            ))
        self.signals.append(entry)
        self.save()
        return entry

    def update_settings(self, **changes) -> ProjectSettings:
        """Change settings and save; type, axes and Multi-sensor are fixed once signals exist."""
        with self.writer("change the settings"):
            return self._update_settings(**changes)

    def _update_settings(self, **changes) -> ProjectSettings:
        from dataclasses import replace

        unknown = set(changes) - set(ProjectSettings.__dataclass_fields__)
        if unknown:
            raise UsageError(f"unknown setting(s): {', '.join(sorted(unknown))}", "")
        if self.signals:
            for key in ("type", "axes", "multisensor"):
                if key in changes and changes[key] != getattr(self.settings, key):
                    raise UsageError(
                        f"the {key} of a project cannot change once signals are imported",
                        "Create a new project for another type or sensor shape.",
                    )
        updated = replace(self.settings, **changes)
        updated.validate()
        self.settings = updated
        self.save()
        return updated

    def remove_signal(self, signal_id: str) -> None:
        """Forget an imported signal and delete its copy (only ever a file of signals/)."""
        with self.writer("remove a signal"):
            entry = next((s for s in self.signals if s.id == signal_id), None)
            if entry is None:
                raise UsageError(f"no signal '{signal_id}' in this project", "See `neai check DIR` for the list.")
            path = self.signal_path(entry)
            self.signals.remove(entry)
            self.save()
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    def load_values(self, entry: SignalEntry):
        """The numeric content of an imported signal (float64 array, lines × values)."""
        from .signals import read_signals

        return read_signals(
            self.signal_path(entry), axes=self.settings.axes, sep=entry.sep, layout=self.settings.layout
        ).values

    def check(self, optional: bool = False, limits: bool = False) -> list[Problem]:
        """All findings on the project's signals: blocking checks, then the optional ones;
        with `limits`, the RAM/flash check too (it loads the data, as a benchmark does)."""
        from .signals import check_signals, optional_checks, read_signals

        problems: list[Problem] = []
        for entry in self.signals:
            path = self.signal_path(entry)
            found = check_signals(path, axes=self.settings.axes, sep=entry.sep, layout=self.settings.layout)
            problems += found
            if optional and not any(p.severity == "error" for p in found):
                data = read_signals(
                    path, axes=self.settings.axes, sep=entry.sep, layout=self.settings.layout, strict=False
                )
                problems += optional_checks(
                    data.values, self.settings.axes, path, layout=self.settings.layout, line_numbers=data.line_numbers
                )
        problems += self.readiness_problems()
        if limits and not any(p.severity == "error" for p in problems):
            problems += self.limit_problems()
        return problems

    def limit_problems(self) -> list[Problem]:
        """The RAM/flash check: blocking when no candidate of the search space fits
        the project's limits (limits.py); nothing without limits."""
        from .limits import limit_problems

        return limit_problems(self)

    def readiness_problems(self) -> list[Problem]:
        """What keeps the benchmark from starting (missing roles, classes...)."""
        kind = self.settings.type
        where = str(self.path / PROJECT_FILE)
        out: list[Problem] = []

        def need(message: str, hint: str) -> None:
            out.append(Problem("error", "project-incomplete", where, 0, 0, message, hint))

        if not self.signals:
            need("no signal file is imported yet", "Import one with `neai import DIR FILE`.")
        elif kind == "anomaly":
            for couple in self.couples():
                roles = {s.role for s in self.signals_with(couple=couple)}
                for role in ROLES:
                    if role not in roles:
                        need(
                            f"signal couple {couple} has no {role} file",
                            f"Import one with `neai import DIR FILE --role {role} --couple {couple}`.",
                        )
        elif kind == "n-class" and len(self.signals) < 2:
            need(
                f"n-class classification needs at least two classes; only '{self.signals[0].class_name}' is imported",
                "Import one file per class with `neai import DIR FILE --class NAME`; to tell one normal "
                "class from everything else, create a 1-class project instead.",
            )
        return out


def project_lock(project: Project, action: str = "change the project"):
    """The project's writer lock as a context manager (same as ``project.writer(action)``)."""
    return project.writer(action)


@dataclass
class ProjectSummary:
    path: Path
    name: str
    type: str
    axes: int
    multisensor: bool
    target: str
    signals: int
    benchmarks: int
    error: str = ""


class Workspace:
    """A folder of projects (one sub-folder each)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root).expanduser() if root else default_workspace_dir()

    def ensure(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root

    def project_dirs(self) -> Iterable[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if (p / PROJECT_FILE).is_file())

    def list_projects(self) -> list[ProjectSummary]:
        out = []
        for folder in self.project_dirs():
            try:
                p = Project.open(folder)
            except Exception as exc:  # a damaged project is listed, not fatal
                msg = exc.message if hasattr(exc, "message") else str(exc)
                out.append(ProjectSummary(folder, folder.name, "?", 0, False, "", 0, 0, error=msg))
                continue
            bench_dir = folder / "benchmarks"
            n_bench = sum(1 for b in bench_dir.iterdir() if b.is_dir()) if bench_dir.is_dir() else 0
            s = p.settings
            out.append(
                ProjectSummary(folder, s.name, s.type, s.axes, s.multisensor, s.target, len(p.signals), n_bench)
            )
        return out

    @staticmethod
    def folder_name(name: str) -> str:
        """The folder a project called `name` gets: letters, digits, '_' and '-'."""
        return re.sub(r"[^A-Za-z0-9_-]+", "-", name.strip()).strip("-").lower() or "project"

    def new_project_dir(self, name: str) -> Path:
        slug = self.folder_name(name)
        candidate = self.root / slug
        n = 2
        while candidate.exists():
            candidate = self.root / f"{slug}-{n}"
            n += 1
        return candidate

    def create_project(self, settings: ProjectSettings) -> Project:
        self.ensure()
        return Project.create(self.new_project_dir(settings.name), settings)
