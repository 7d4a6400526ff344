"""Sample data for the trained library types: n-class, 1-class and extrapolation.

The same machine as the anomaly-detection sample (`sample.py`): a 5-blade fan
with a vertical shaft, watched by a 3-axis accelerometer on the motor housing,
but sampled slower and in shorter buffers so three datasets stay small:

* Sensor: 1000 Hz, 128 samples per axis (128 ms), 3 axes interleaved
  ``x0 y0 z0 x1 y1 z1 ...`` -> 384 values per line, accelerations in g written
  with ``%.4f`` (0.1 mg steps).
* Nominal vibration at a speed of ``rpm``: residual imbalance at 1x rotation
  (a force rotating in the radial x/y plane), 2x rotation (misalignment, mostly
  axial), blade pass (5x) and its 2nd harmonic (mostly axial), motor hum at
  100 Hz, low-pass broadband turbulence, a housing mode near 300 Hz lightly
  excited by the flow, sensor noise, gravity on z with a small mounting tilt.
  Forces grow with the square of the speed; every line draws its own jitter,
  amplitudes and phases.
* Faults: ``imbalance`` (1x on the radial axes x3..7), ``obstruction`` (speed
  -3..8 %, blade-pass tones x1.5..5, turbulence x3..5, a rotating-stall
  component at ~40 % of the rotation), ``tapping`` (1..3 impacts ringing the
  housing mode, 0.15..0.5 g).

Datasets (SPEC §1 formats):

``nclass/``         one file per class: normal.csv, imbalance.csv,
                    obstruction.csv, tapping.csv (the three speed settings
                    1000 / 1500 / 2100 rpm mixed in every class).
``oneclass/``       normal.csv (normal operation at the three speeds) to train
                    on, and other.csv (the three faults, in turn) to try the
                    library on with ``neai emulate --outlier``.
``extrapolation/``  speed.csv: the fan speed in rpm (target, first value of a
                    line), then the buffer; speeds uniform in 900..2400 rpm.
                    speed_try.csv: lines without the target for
                    ``neai emulate --extrapolate``, with their true speeds in
                    speed_try_rpm.txt (one per line).

Regenerate the shipped files (deterministic, byte for byte, for a given seed)::

    python -m neai_tui.engine.sample_trained sample_data
"""
from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE_HZ = 1000.0
BUFFER_SIZE = 128
NB_AXES = 3
N_BLADES = 5
RESONANCE_HZ = 300.0
HUM_HZ = 100.0
SPEEDS_RPM = (1000.0, 1500.0, 2100.0)
EXTRAPOLATION_RPM = (900.0, 2400.0)
CLASSES = ("normal", "imbalance", "obstruction", "tapping")
FAULTS = CLASSES[1:]
DEFAULT_SEED = 2027
DEFAULT_COUNTS = {"per_class": 36, "normal": 100, "other": 36, "speed": 140, "speed_try": 16}
VALUE_FORMAT = "{:.4f}"
RPM_FORMAT = "{:.1f}"

_REF_RPM = 1500.0
_PAD = 96  # filter warm-up samples, dropped


def _lowpass(cutoff_hz: float):
    from scipy.signal import butter

    return butter(2, cutoff_hz / (SAMPLE_RATE_HZ / 2.0))


def _resonator(freq_hz: float, zeta: float):
    """A 2nd-order resonator (one structural mode) with unit-power white-noise gain."""
    from scipy.signal import lfilter

    w = 2.0 * np.pi * freq_hz / SAMPLE_RATE_HZ
    r = np.exp(-zeta * 2.0 * np.pi * freq_hz / SAMPLE_RATE_HZ)
    a = np.array([1.0, -2.0 * r * np.cos(w), r * r])
    b = np.array([1.0, 0.0, -1.0])
    impulse = np.zeros(4096)
    impulse[0] = 1.0
    h = lfilter(b, a, impulse)
    return b / np.sqrt(np.sum(h * h)), a


class Fan:
    """Draws one buffer (BUFFER_SIZE x NB_AXES, in g) of housing acceleration."""

    def __init__(self) -> None:
        self.t = np.arange(BUFFER_SIZE) / SAMPLE_RATE_HZ
        self.lp = _lowpass(200.0)
        self.res = _resonator(RESONANCE_HZ, 0.04)

    def _noise(self, rng: np.random.Generator, filt) -> np.ndarray:
        from scipy.signal import lfilter

        white = rng.standard_normal((BUFFER_SIZE + _PAD, NB_AXES))
        return lfilter(filt[0], filt[1], white, axis=0)[_PAD:]

    def buffer(self, rng: np.random.Generator, rpm: float, kind: str = "normal") -> np.ndarray:
        if kind not in CLASSES:
            raise ValueError(f"unknown kind {kind!r}")
        t, n = self.t, BUFFER_SIZE
        rpm_t = rpm * (1.0 + 0.004 * rng.standard_normal() * t / t[-1])  # slow wander
        if kind == "obstruction":
            rpm_t = rpm_t * (1.0 - rng.uniform(0.03, 0.08))
        f_rot = rpm_t / 60.0
        phase = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.cumsum(f_rot) / SAMPLE_RATE_HZ
        s = (float(np.mean(rpm_t)) / _REF_RPM) ** 2  # force ~ speed squared

        def jitter(scale: float = 0.12) -> float:
            return float(np.exp(scale * rng.standard_normal()))

        x = np.zeros((n, NB_AXES))
        # 1x rotation: residual imbalance, a force rotating in the radial plane
        a1 = 0.030 * s * jitter(0.15)
        if kind == "imbalance":
            a1 *= rng.uniform(3.0, 7.0)
        aniso = rng.uniform(0.8, 1.2)
        d = 0.2 * rng.standard_normal()
        x[:, 0] += a1 * np.cos(phase)
        x[:, 1] += a1 * aniso * np.sin(phase + d)
        x[:, 2] += 0.15 * a1 * np.cos(phase + rng.uniform(0, 2 * np.pi))
        # 2x rotation: misalignment, mostly axial
        a2 = 0.008 * s * jitter()
        for ax, c in enumerate((0.5, 0.5, 1.0)):
            x[:, ax] += a2 * c * np.cos(2 * phase + rng.uniform(0, 2 * np.pi))
        # blade pass and its 2nd harmonic, mostly axial
        bpf = np.array([0.040, 0.015]) * s
        if kind == "obstruction":
            bpf = bpf * np.array([rng.uniform(1.5, 2.2), rng.uniform(2.5, 5.0)])
        for k, amp in enumerate(bpf, start=1):
            amp *= jitter()
            for ax, c in enumerate((0.35, 0.30, 1.0)):
                x[:, ax] += amp * c * np.cos(k * N_BLADES * phase + rng.uniform(0, 2 * np.pi))
        # motor hum, speed independent
        hum = 0.004 * jitter()
        for ax in range(NB_AXES):
            x[:, ax] += hum * np.cos(2 * np.pi * HUM_HZ * t + rng.uniform(0, 2 * np.pi))
        # turbulence and the housing mode it excites
        turb = 0.006 * s * jitter()
        if kind == "obstruction":
            turb *= rng.uniform(3.0, 5.0)
            stall = 0.030 * s * rng.uniform(0.5, 1.0)
            sp = rng.uniform(0.35, 0.45) * phase + rng.uniform(0, 2 * np.pi)
            x[:, 0] += stall * np.cos(sp)
            x[:, 1] += stall * np.sin(sp)
        x += turb * self._noise(rng, self.lp)
        x += 0.002 * s * jitter() * self._noise(rng, self.res)
        # tapping: impacts ringing the housing mode
        if kind == "tapping":
            for _ in range(int(rng.integers(1, 4))):
                t0 = rng.uniform(0.0, 0.85 * t[-1])
                amp = rng.uniform(0.15, 0.5)
                f_res = RESONANCE_HZ * (1.0 + 0.02 * rng.standard_normal())
                zeta = rng.uniform(0.03, 0.06)
                direction = rng.standard_normal(NB_AXES)
                direction /= np.linalg.norm(direction)
                tau = t - t0
                on = tau >= 0
                wd = 2 * np.pi * f_res * np.sqrt(1 - zeta * zeta)
                ring = np.zeros(n)
                ring[on] = np.exp(-zeta * 2 * np.pi * f_res * tau[on]) * np.sin(wd * tau[on])
                x += amp * ring[:, None] * direction[None, :]
        # sensor noise, gravity on z with a mounting tilt
        x += 0.0025 * rng.standard_normal((n, NB_AXES))
        tilt = np.deg2rad(1.5) * rng.standard_normal(2)
        x[:, 0] += np.sin(tilt[0])
        x[:, 1] += np.sin(tilt[1])
        x[:, 2] += np.cos(tilt[0]) * np.cos(tilt[1])
        return x


def _round(values: np.ndarray) -> np.ndarray:
    return np.round(values, 4) + 0.0  # the file resolution; +0.0 turns -0.0 into 0.0


@dataclass(frozen=True)
class TrainedSamples:
    """Every dataset in memory (values already rounded to the file resolution)."""

    nclass: dict[str, np.ndarray]  # class -> (lines, 384)
    oneclass_normal: np.ndarray
    oneclass_other: np.ndarray
    other_kinds: tuple[str, ...]
    speed_rpm: np.ndarray  # (lines,), rounded to 0.1 rpm
    speed: np.ndarray  # (lines, 384)
    try_rpm: np.ndarray
    try_lines: np.ndarray


def _lines(fan: Fan, rng, kinds, rpms) -> np.ndarray:
    out = np.empty((len(kinds), BUFFER_SIZE * NB_AXES))
    for i, (kind, rpm) in enumerate(zip(kinds, rpms)):
        out[i] = fan.buffer(rng, rpm, kind).reshape(-1)  # (samples, axes) -> x0 y0 z0 x1 ...
    return _round(out)


def _speed_settings(rng, n: int) -> np.ndarray:
    """Each line at one of the three settings (balanced, shuffled), +-1.5 % jitter."""
    settings = np.array([SPEEDS_RPM[i % len(SPEEDS_RPM)] for i in range(n)])
    return rng.permutation(settings) * (1.0 + 0.015 * rng.standard_normal(n))


def generate_trained_samples(seed: int = DEFAULT_SEED, counts: dict[str, int] | None = None) -> TrainedSamples:
    """All three datasets; each draws from its own stream of the seed."""
    c = {**DEFAULT_COUNTS, **(counts or {})}
    if any(v < 1 for v in c.values()):
        raise ValueError("line counts must be >= 1")
    fan = Fan()
    rng = np.random.default_rng([seed, 1])
    nclass = {}
    for kind in CLASSES:
        nclass[kind] = _lines(fan, rng, [kind] * c["per_class"], _speed_settings(rng, c["per_class"]))

    rng = np.random.default_rng([seed, 2])
    normal = _lines(fan, rng, ["normal"] * c["normal"], _speed_settings(rng, c["normal"]))
    other_kinds = tuple(FAULTS[i % len(FAULTS)] for i in range(c["other"]))
    other = _lines(fan, rng, other_kinds, _speed_settings(rng, c["other"]))

    rng = np.random.default_rng([seed, 3])
    lo, hi = EXTRAPOLATION_RPM
    rpm = np.round(rng.uniform(lo, hi, c["speed"]), 1)
    speed = _lines(fan, rng, ["normal"] * c["speed"], rpm)
    try_rpm = np.round(rng.uniform(lo, hi, c["speed_try"]), 1)
    try_lines = _lines(fan, rng, ["normal"] * c["speed_try"], try_rpm)
    return TrainedSamples(nclass, normal, other, other_kinds, rpm, speed, try_rpm, try_lines)


def format_lines(values: np.ndarray, targets: np.ndarray | None = None) -> str:
    """One line per row, space separated, `%.4f` (targets `%.1f` first), '\\n' ends."""
    out = io.StringIO()
    fmt = VALUE_FORMAT.format
    for i, row in enumerate(values):
        if targets is not None:
            out.write(RPM_FORMAT.format(targets[i]) + " ")
        out.write(" ".join(map(fmt, row.tolist())))
        out.write("\n")
    return out.getvalue()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="ascii", newline="\n") as fh:
        fh.write(text)
    tmp.replace(path)
    return path


def generate_trained_datasets(
    out_dir: str | Path, seed: int = DEFAULT_SEED, counts: dict[str, int] | None = None
) -> dict[str, Path]:
    """Write nclass/, oneclass/ and extrapolation/ into `out_dir`; {"nclass/normal.csv": path, ...}."""
    out = Path(out_dir)
    sig = generate_trained_samples(seed, counts)
    files = {f"nclass/{kind}.csv": format_lines(v) for kind, v in sig.nclass.items()}
    files["oneclass/normal.csv"] = format_lines(sig.oneclass_normal)
    files["oneclass/other.csv"] = format_lines(sig.oneclass_other)
    files["extrapolation/speed.csv"] = format_lines(sig.speed, sig.speed_rpm)
    files["extrapolation/speed_try.csv"] = format_lines(sig.try_lines)
    files["extrapolation/speed_try_rpm.txt"] = "".join(RPM_FORMAT.format(v) + "\n" for v in sig.try_rpm)
    return {name: _write(out / name, text) for name, text in files.items()}


def bundled_dir(kind: str) -> Path | None:
    """The shipped `sample_data/<kind>` folder (nclass, oneclass, extrapolation), if present."""
    here = Path(__file__).resolve()
    for cand in (here.parents[1] / "sample_data" / kind, here.parents[2] / "sample_data" / kind):
        if cand.is_dir():
            return cand
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m neai_tui.engine.sample_trained",
        description="Generate the n-class, 1-class and extrapolation sample signals.",
    )
    parser.add_argument("out_dir", type=Path, help="output folder, e.g. sample_data")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    for key, default in DEFAULT_COUNTS.items():
        parser.add_argument(f"--{key.replace('_', '-')}", type=int, default=default, dest=key,
                            help=f"lines (default {default})")
    args = parser.parse_args(argv)
    counts = {k: getattr(args, k) for k in DEFAULT_COUNTS}
    if any(v < 1 for v in counts.values()):
        parser.error("line counts must be at least 1")
    for name, path in generate_trained_datasets(args.out_dir, args.seed, counts).items():
        n = sum(1 for _ in open(path, encoding="ascii"))
        print(f"{path}: {n} lines, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
