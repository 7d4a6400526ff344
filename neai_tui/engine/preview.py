"""What the signal previews draw: per axis, the mean, min–max band and standard
deviation along the buffer over all lines of a file, and the mean magnitude
spectrum (FFT) of the lines.

For a Multi-sensor file a line is one sample of n variables, so the "buffer" is
the file itself: each variable is drawn along the lines, in buckets when there
are more lines than points to draw.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import UsageError
from .project import Project, SignalEntry

MAX_POINTS = 256  # more than any terminal plot can show


@dataclass
class AxisCurve:
    name: str
    mean: list[float]
    minimum: list[float]
    maximum: list[float]
    std: list[float]


@dataclass
class SignalPreview:
    signal_id: str
    file: str
    lines: int
    x: list[float]  # sample index in the buffer (or line number for Multi-sensor)
    x_label: str
    axes: list[AxisCurve] = field(default_factory=list)


@dataclass
class Spectrum:
    signal_id: str
    frequencies: list[float]
    x_label: str  # "Hz" when the sampling rate is known, else "bin"
    magnitudes: list[list[float]]  # per axis: mean magnitude over lines
    axis_names: list[str]
    sampling_rate_hz: float | None = None


def _entry(project: Project, signal_id: str) -> SignalEntry:
    entry = next((s for s in project.signals if s.id == signal_id), None)
    if entry is None:
        raise UsageError(f"no signal '{signal_id}' in this project", "Choose a file of the signals list.")
    return entry


def axis_names(project: Project) -> list[str]:
    n = project.settings.axes
    if project.settings.multisensor:
        return [f"variable {i + 1}" for i in range(n)]
    if n <= 3:
        return ["x", "y", "z"][:n] if n > 1 else ["signal"]
    return [f"axis {i + 1}" for i in range(n)]


def _cube(project: Project, entry: SignalEntry) -> np.ndarray:
    """lines x samples x axes (the buffer part of each line)."""
    values = project.load_values(entry)
    if project.settings.layout == "target-first":
        values = values[:, 1:]
    axes = project.settings.axes
    if project.settings.multisensor:
        return values.reshape(1, values.shape[0], axes)
    n_lines, width = values.shape
    return values.reshape(n_lines, width // axes, axes)


def _buckets(n: int, max_points: int) -> list[slice]:
    if n <= max_points:
        return [slice(i, i + 1) for i in range(n)]
    edges = np.linspace(0, n, max_points + 1).astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def signal_preview(project: Project, signal_id: str, max_points: int = MAX_POINTS) -> SignalPreview:
    entry = _entry(project, signal_id)
    cube = _cube(project, entry)
    names = axis_names(project)
    curves = []
    if project.settings.multisensor:
        series = cube[0]  # lines x variables
        slices = _buckets(series.shape[0], max_points)
        x = [float(s.start + 1) for s in slices]
        for a in range(series.shape[1]):
            parts = [series[s, a] for s in slices]
            curves.append(AxisCurve(
                names[a],
                [float(p.mean()) for p in parts], [float(p.min()) for p in parts],
                [float(p.max()) for p in parts], [float(p.std()) for p in parts],
            ))
        return SignalPreview(entry.id, entry.file, entry.lines, x, "line", curves)
    slices = _buckets(cube.shape[1], max_points)
    x = [float(s.start) for s in slices]
    for a in range(cube.shape[2]):
        data = cube[:, :, a]  # lines x samples
        parts = [data[:, s] for s in slices]
        curves.append(AxisCurve(
            names[a],
            [float(p.mean()) for p in parts], [float(p.min()) for p in parts],
            [float(p.max()) for p in parts], [float(p.std()) for p in parts],
        ))
    return SignalPreview(entry.id, entry.file, entry.lines, x, "sample", curves)


def spectrum(project: Project, signal_id: str, max_points: int = MAX_POINTS) -> Spectrum:
    """Mean FFT magnitude of each axis over the lines (each line's mean removed)."""
    entry = _entry(project, signal_id)
    cube = _cube(project, entry)
    settings = project.settings.frequency_filter or {}
    rate = settings.get("sampling_rate_hz")
    n = cube.shape[1]
    if n < 4:
        raise UsageError(
            f"{entry.file}: {n} sample(s) per buffer is too few for a spectrum", "Use buffers of 8 samples or more."
        )
    centred = cube - cube.mean(axis=1, keepdims=True)
    window = np.hanning(n)[None, :, None]
    mags = np.abs(np.fft.rfft(centred * window, axis=1)) * (2.0 / max(window.sum(), 1e-12))
    mean_mag = mags.mean(axis=0)  # bins x axes
    freqs = np.fft.rfftfreq(n, d=1.0 / rate) if rate else np.arange(mean_mag.shape[0], dtype=float)
    slices = _buckets(len(freqs), max_points)
    f = [float(freqs[s].mean()) for s in slices]
    magnitudes = [[float(mean_mag[s, a].max()) for s in slices] for a in range(mean_mag.shape[1])]
    return Spectrum(entry.id, f, "Hz" if rate else "bin", magnitudes, axis_names(project), rate)
