"""The bundled sample project: a 3-speed fan watched by a 3-axis accelerometer.

`neai demo` opens a project built on the files this module generates
(`sample_data/fan/nominal.csv` and `abnormal.csv`). The signals are synthetic but
physics-inspired, so the whole workflow (import, checks, benchmark, emulator) behaves
as it would on a real bench:

* Sensor: 3-axis accelerometer on the motor housing, values in g, sampled at
  1600 Hz, quantised to 0.1 mg (`%.4f`). One line = one buffer of 256 samples per
  axis, interleaved `x0 y0 z0 x1 y1 z1 ...` -> 768 values per line (SPEC section 1).
* Machine: a fan with a vertical shaft along z (so gravity adds +1 g on z), 5 blades,
  three speeds 1000 / 1500 / 2100 rpm (16.7 / 25 / 35 Hz rotation, 83 / 125 / 175 Hz
  blade pass). Forces grow with the square of the speed.
* Nominal vibration: residual imbalance at 1x rotation (a rotating force: quadrature
  on the radial axes x and y, weak axial coupling), 2x rotation (misalignment, mostly
  axial), blade-pass frequency and two harmonics (aerodynamic, mostly axial), 100 Hz
  motor hum (twice the 50 Hz mains, independent of speed), low-pass broadband
  turbulence, a housing resonance near 400 Hz lightly excited by the flow, accelerometer
  white noise, a small random mounting tilt. Per-line jitter on speed (+-1.5 %),
  amplitudes and phases; about 15 % of the lines are captured while the fan changes
  speed (the rotation frequency ramps inside the buffer). The nominal lines are
  written speed by speed (1000, then 1500, then 2100 rpm), as a datalogger records
  a fan that runs at one setting, then the next: a library must give the same
  decisions when it learns them in that order as in any other.
* Abnormal lines, a balanced mix of three faults:
  - imbalance (e.g. dust build-up or a chipped blade): 1x amplitude x3..7 on the
    radial axes;
  - obstruction (blocked inlet/outlet): speed drops 3-8 %, blade-pass tones and their
    harmonics grow (wake interaction), broadband turbulence x3-5, a rotating-stall
    component below the rotation frequency;
  - tapping (something knocking the housing): 1-3 impacts at random instants, each a
    decaying oscillation of the ~400 Hz structural mode (0.15-0.5 g).

Because the nominal vibration level already changes by a factor ~4.4 between the
lowest and the highest speed, plain statistics (mean, standard deviation) separate the
faults poorly, while band energies of a spectrum separate them well: a sensible
benchmark result is part of the demo.

Regenerate the shipped files (deterministic, byte for byte, for a given seed)::

    python -m neai_tui.engine.sample sample_data/fan
"""
from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE_HZ = 1600.0
BUFFER_SIZE = 256
NB_AXES = 3
FAN_SPEEDS_RPM = (1000.0, 1500.0, 2100.0)
N_BLADES = 5
RESONANCE_HZ = 400.0
MAINS_HZ = 50.0
DEFAULT_SEED = 2026
DEFAULT_N_NOMINAL = 300
DEFAULT_N_ABNORMAL = 150
FAULT_KINDS = ("imbalance", "obstruction", "tapping")
TRANSIENT_FRACTION = 0.15
VALUE_FORMAT = "{:.4f}"  # g, 0.1 mg steps: the resolution of a 16-bit +-2 g sensor
FILES = {"nominal": "nominal.csv", "abnormal": "abnormal.csv"}

_REF_RPM = 1500.0
_PAD = 128  # filter warm-up samples, dropped


@dataclass(frozen=True)
class FanSignals:
    """Generated signals, before formatting.

    `nominal` and `abnormal` have shape (lines, BUFFER_SIZE * NB_AXES), interleaved.
    `abnormal_kinds[i]` names the fault of abnormal line i; `*_rpm[i]` is the speed
    setting (before jitter) the line was captured at.
    """

    nominal: np.ndarray
    abnormal: np.ndarray
    abnormal_kinds: tuple[str, ...]
    nominal_rpm: np.ndarray
    abnormal_rpm: np.ndarray
    nominal_transient: np.ndarray


# --------------------------------------------------------------------------- physics
def _lowpass_coeffs(cutoff_hz: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy.signal import butter

    b, a = butter(2, cutoff_hz / (SAMPLE_RATE_HZ / 2.0))
    return b, a


def _resonator_coeffs(freq_hz: float, zeta: float) -> tuple[np.ndarray, np.ndarray]:
    """A 2nd-order resonator (one structural mode), unit-power white-noise gain."""
    w = 2.0 * np.pi * freq_hz / SAMPLE_RATE_HZ
    r = np.exp(-zeta * 2.0 * np.pi * freq_hz / SAMPLE_RATE_HZ)
    a = np.array([1.0, -2.0 * r * np.cos(w), r * r])
    b = np.array([1.0, 0.0, -1.0])
    # normalise so that unit white noise in gives unit-variance output
    from scipy.signal import lfilter

    impulse = np.zeros(4096)
    impulse[0] = 1.0
    h = lfilter(b, a, impulse)
    return b / np.sqrt(np.sum(h * h)), a


class _Fan:
    """Draws one buffer (BUFFER_SIZE x NB_AXES) of housing acceleration."""

    def __init__(self) -> None:
        self.t = np.arange(BUFFER_SIZE) / SAMPLE_RATE_HZ
        self.lp_b, self.lp_a = _lowpass_coeffs(250.0)
        self.res_b, self.res_a = _resonator_coeffs(RESONANCE_HZ, 0.04)

    def _filtered_noise(self, rng: np.random.Generator, b, a) -> np.ndarray:
        from scipy.signal import lfilter

        white = rng.standard_normal((BUFFER_SIZE + _PAD, NB_AXES))
        return lfilter(b, a, white, axis=0)[_PAD:]

    def buffer(self, rng: np.random.Generator, kind: str) -> tuple[np.ndarray, float, bool]:
        t = self.t
        n = BUFFER_SIZE
        speed_idx = int(rng.integers(len(FAN_SPEEDS_RPM)))
        rpm_set = FAN_SPEEDS_RPM[speed_idx]
        rpm0 = rpm_set * (1.0 + 0.015 * rng.standard_normal())

        # ---- speed profile inside the buffer (steady, or ramping between speeds)
        transient = bool(rng.random() < TRANSIENT_FRACTION)
        if transient:
            step = int(rng.choice((-1, 1)))
            target_idx = speed_idx + step
            if not 0 <= target_idx < len(FAN_SPEEDS_RPM):
                target_idx = speed_idx - step
            gap = FAN_SPEEDS_RPM[target_idx] - rpm_set
            start = rng.uniform(0.0, 0.8)  # where the ramp starts (fraction of gap)
            span = rng.uniform(0.15, 0.5)  # how much of the gap the buffer sees
            rpm_t = rpm0 + gap * (start + span * t / t[-1])
        else:
            drift = 0.004 * rng.standard_normal()  # slow speed wander
            rpm_t = rpm0 * (1.0 + drift * t / t[-1])

        fault_speed_drop = 0.0
        if kind == "obstruction":
            fault_speed_drop = rng.uniform(0.03, 0.08)
            rpm_t = rpm_t * (1.0 - fault_speed_drop)

        f_rot = rpm_t / 60.0
        phase = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.cumsum(f_rot) / SAMPLE_RATE_HZ
        s = (np.mean(rpm_t) / _REF_RPM) ** 2  # force ~ speed squared

        def jitter(scale: float = 0.12) -> float:
            return float(np.exp(scale * rng.standard_normal()))

        x = np.zeros((n, NB_AXES))

        # ---- 1x rotation: residual imbalance, a rotating force on the radial plane
        a1 = 0.030 * s * jitter(0.15)
        a1_axial = 0.15
        if kind == "imbalance":
            a1 *= rng.uniform(3.0, 7.0)
            a1_axial = 0.15 * rng.uniform(0.8, 1.5)
        aniso = rng.uniform(0.8, 1.2)  # support stiffness differs along x and y
        d = 0.2 * rng.standard_normal()
        x[:, 0] += a1 * np.cos(phase)
        x[:, 1] += a1 * aniso * np.sin(phase + d)
        x[:, 2] += a1 * a1_axial * np.cos(phase + rng.uniform(0, 2 * np.pi))

        # ---- 2x rotation: misalignment, mostly axial
        a2 = 0.008 * s * jitter()
        for ax, c in enumerate((0.5, 0.5, 1.0)):
            x[:, ax] += a2 * c * np.cos(2 * phase + rng.uniform(0, 2 * np.pi))

        # ---- blade pass and harmonics: aerodynamic pulsation, mostly axial
        bpf_amp = np.array([0.040, 0.015, 0.006]) * s
        if kind == "obstruction":
            bpf_amp = bpf_amp * np.array(
                [rng.uniform(1.4, 2.2), rng.uniform(2.5, 5.0), rng.uniform(3.0, 6.0)]
            )
        for k, amp in enumerate(bpf_amp, start=1):
            amp *= jitter()
            for ax, c in enumerate((0.35, 0.30, 1.0)):
                x[:, ax] += amp * c * np.cos(k * N_BLADES * phase + rng.uniform(0, 2 * np.pi))

        # ---- motor hum at twice the mains frequency (and a weaker 4x), speed independent
        for f, amp in ((2 * MAINS_HZ, 0.004), (4 * MAINS_HZ, 0.0015)):
            amp *= jitter()
            for ax in range(NB_AXES):
                x[:, ax] += amp * np.cos(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))

        # ---- broadband turbulence (low-pass) and the housing mode it excites
        turb = 0.006 * s * jitter()
        if kind == "obstruction":
            turb *= rng.uniform(3.0, 5.0)
            # rotating stall: a cell travelling at ~40 % of the rotor speed
            stall = 0.030 * s * rng.uniform(0.5, 1.0)
            ratio = rng.uniform(0.35, 0.45)
            sp = ratio * phase + rng.uniform(0, 2 * np.pi)
            x[:, 0] += stall * np.cos(sp)
            x[:, 1] += stall * np.sin(sp)
        x += turb * self._filtered_noise(rng, self.lp_b, self.lp_a)
        x += 0.002 * s * jitter() * self._filtered_noise(rng, self.res_b, self.res_a)

        # ---- tapping: impacts ringing the ~400 Hz housing mode
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

        # ---- sensor: white noise (~90 ug/sqrt(Hz)), gravity on z with a mounting tilt
        x += 0.0025 * rng.standard_normal((n, NB_AXES))
        tilt = np.deg2rad(1.5) * rng.standard_normal(2)
        x[:, 0] += np.sin(tilt[0])
        x[:, 1] += np.sin(tilt[1])
        x[:, 2] += np.cos(tilt[0]) * np.cos(tilt[1]) * (1.0 + 0.002 * rng.standard_normal())
        return x, rpm_set, transient


# ------------------------------------------------------------------------ generation
def generate_fan_signals(
    seed: int = DEFAULT_SEED,
    n_nominal: int = DEFAULT_N_NOMINAL,
    n_abnormal: int = DEFAULT_N_ABNORMAL,
) -> FanSignals:
    """Generate the fan signals in memory (values rounded to the file resolution)."""
    if n_nominal < 0 or n_abnormal < 0:
        raise ValueError("line counts must be >= 0")
    rng = np.random.default_rng(seed)
    fan = _Fan()
    width = BUFFER_SIZE * NB_AXES

    nominal = np.empty((n_nominal, width))
    nominal_rpm = np.empty(n_nominal)
    nominal_transient = np.zeros(n_nominal, dtype=bool)
    for i in range(n_nominal):
        buf, rpm, tr = fan.buffer(rng, "nominal")
        nominal[i] = buf.reshape(-1)  # (samples, axes) -> x0 y0 z0 x1 y1 z1 ...
        nominal_rpm[i] = rpm
        nominal_transient[i] = tr

    kinds = [FAULT_KINDS[i % len(FAULT_KINDS)] for i in range(n_abnormal)]
    kinds = [kinds[j] for j in rng.permutation(n_abnormal)]
    abnormal = np.empty((n_abnormal, width))
    abnormal_rpm = np.empty(n_abnormal)
    for i, kind in enumerate(kinds):
        buf, rpm, _ = fan.buffer(rng, kind)
        abnormal[i] = buf.reshape(-1)
        abnormal_rpm[i] = rpm

    # Speed by speed, as a datalogger records a fan that runs at one setting for a
    # while, then the next (the lines of each setting in the order they were drawn;
    # those caught while the speed changes stay with the setting they started at).
    order = np.argsort(nominal_rpm, kind="stable")
    nominal, nominal_rpm, nominal_transient = nominal[order], nominal_rpm[order], nominal_transient[order]

    # round to the file resolution (+0.0 turns -0.0 into 0.0)
    nominal = np.round(nominal, 4) + 0.0
    abnormal = np.round(abnormal, 4) + 0.0
    return FanSignals(nominal, abnormal, tuple(kinds), nominal_rpm, abnormal_rpm, nominal_transient)


def format_lines(values: np.ndarray) -> str:
    """One line per row, space separated, fixed `%.4f`, '\\n' line ends."""
    out = io.StringIO()
    fmt = VALUE_FORMAT.format
    for row in values:
        out.write(" ".join(map(fmt, row.tolist())))
        out.write("\n")
    return out.getvalue()


def generate_fan_dataset(
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    n_nominal: int = DEFAULT_N_NOMINAL,
    n_abnormal: int = DEFAULT_N_ABNORMAL,
) -> dict[str, Path]:
    """Write `nominal.csv` and `abnormal.csv` into `out_dir` (created if needed).

    Returns {"nominal": path, "abnormal": path}. The bytes depend only on the
    arguments (same seed and counts -> identical files).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sig = generate_fan_signals(seed, n_nominal, n_abnormal)
    paths: dict[str, Path] = {}
    for role, values in (("nominal", sig.nominal), ("abnormal", sig.abnormal)):
        path = out / FILES[role]
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="ascii", newline="\n") as fh:
            fh.write(format_lines(values))
        tmp.replace(path)
        paths[role] = path
    return paths


def bundled_fan_dir() -> Path | None:
    """The shipped `sample_data/fan` folder, if it can be found (source tree or package)."""
    here = Path(__file__).resolve()
    candidates = (
        here.parents[1] / "sample_data" / "fan",  # installed as package data
        here.parents[2] / "sample_data" / "fan",  # source checkout
    )
    for cand in candidates:
        if all((cand / name).is_file() for name in FILES.values()):
            return cand
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m neai_tui.engine.sample",
        description="Generate the bundled fan sample signals (nominal.csv, abnormal.csv).",
    )
    parser.add_argument("out_dir", type=Path, help="output folder, e.g. sample_data/fan")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--nominal", type=int, default=DEFAULT_N_NOMINAL, help="nominal lines")
    parser.add_argument("--abnormal", type=int, default=DEFAULT_N_ABNORMAL, help="abnormal lines")
    args = parser.parse_args(argv)
    if args.nominal < 1 or args.abnormal < 1:
        parser.error("--nominal and --abnormal must be at least 1")
    paths = generate_fan_dataset(args.out_dir, args.seed, args.nominal, args.abnormal)
    counts = {"nominal": args.nominal, "abnormal": args.abnormal}
    for role, path in paths.items():
        print(
            f"{path}: {counts[role]} lines x {BUFFER_SIZE * NB_AXES} values "
            f"({NB_AXES} axes x {BUFFER_SIZE} samples), {path.stat().st_size} bytes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
