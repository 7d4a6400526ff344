"""The Multi-sensor sample project: a pumping station logged once every 2 minutes.

Generates `sample_data/multisensor/nominal.csv` and `abnormal.csv` (SPEC §1,
Multi-sensor layout: one line = one instant, 6 variables, time order matters).
Synthetic but built from the physics of a centrifugal pump on a variable-speed
drive, so the variables move together the way real ones do:

* Columns: discharge pressure (bar), delivered flow (m³/h), motor current (A),
  motor bearing temperature (°C), vibration RMS (mm/s), electrical power (kW).
* Speed follows the demand: set points 70 / 80 / 90 / 100 % held 30 min to 3 h,
  chosen by time of day (nights low, days high), with ±0.4 % drive jitter.
* Hydraulics: pump curve H = s²·H0 − c·Q² meets the system curve H = Hs + k·Q²
  (static head + friction); k wanders ±2.5 % (downstream valves). Shaft power =
  hydraulic power / efficiency (best near the design flow), electrical power =
  shaft / motor efficiency + fixed losses; current from power at 400 V, power
  factor 0.78..0.86.
* Temperature: ambient (22 °C ± 3 °C daily cycle + slow weather drift) plus a
  rise proportional to power, through a first-order lag of ~40 minutes, so after
  a speed change temperature and power disagree for a while (nominal!).
* Vibration RMS: grows with speed squared, more near low flow (recirculation),
  5 % multiplicative noise.
* Sensor noise and resolution as written (`%.3f` / `%.2f`).

Abnormal file: eight fault episodes of 100 samples, concatenated in the order
leak, blockage, bearing, hunting, leak, blockage, bearing, hunting; each is
recorded while the pump keeps following the demand (every fault is seen at
several speeds) with its own severity:

* leak between the pump and the flow meter: the pump delivers more (system
  resistance x0.65-0.75), the meter sees 20-30 % less than the pump moves,
  pressure drops; power is too high for the flow that is measured;
* blockage (clogging strainer / half-closed valve): system resistance x1.8-2.6,
  flow drops, pressure rises, power drops, vibration x1.3-1.7 and noisier
  (recirculation, onset of cavitation);
* bearing heating (failing lubrication): temperature 7-14 °C above what the load
  explains, vibration x1.4-2.0 with bursts, friction adds 3-5 % power/current;
* hunting (an unstable pressure loop): speed swings ±10-15 % around its set
  point with a period of 5-9 samples (10-18 min). Every single sample lies on
  the nominal pump curve: only a window of samples shows the fault.

None of the faults takes a single variable out of its nominal range at every
instant: leak, blockage and bearing heating are combinations of values that
nominal operation never produces, hunting a sequence of them. That is what a
Multi-sensor library has to learn, and why its window is part of the search.

Regenerate (byte for byte for a given seed and counts)::

    python -m neai_tui.engine.sample_multisensor sample_data/multisensor
"""
from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VARIABLES = ("pressure_bar", "flow_m3h", "current_a", "temperature_c", "vibration_mms", "power_kw")
FORMATS = ("{:.3f}", "{:.2f}", "{:.2f}", "{:.2f}", "{:.3f}", "{:.3f}")
DECIMALS = (3, 2, 2, 2, 3, 3)
SAMPLE_PERIOD_MIN = 2.0
SAMPLES_PER_DAY = int(24 * 60 / SAMPLE_PERIOD_MIN)  # 720
DEFAULT_SEED = 2026
DEFAULT_N_NOMINAL = 3000  # ~4.2 days
DEFAULT_N_ABNORMAL = 800
FAULT_KINDS = ("leak", "blockage", "bearing", "hunting")
EPISODES = ("leak", "blockage", "bearing", "hunting", "leak", "blockage", "bearing", "hunting")
FILES = {"nominal": "nominal.csv", "abnormal": "abnormal.csv"}

SET_POINTS = (0.70, 0.80, 0.90, 1.00)
H0_BAR = 6.0  # shut-off head at full speed
HS_BAR = 1.5  # static head
C_PUMP = 0.0008  # bar / (m3/h)^2
K_SYSTEM = 0.0012  # bar / (m3/h)^2
Q_DESIGN = 45.0  # m3/h, best efficiency at full speed
TEMP_TAU = 20.0  # samples (40 min)
TEMP_RISE_PER_KW = 3.4  # degC per kW of electrical power, at equilibrium


@dataclass
class MultiSensorSignals:
    nominal: np.ndarray  # samples x 6, rounded to the file resolution
    abnormal: np.ndarray
    abnormal_kinds: tuple[str, ...]  # fault of each abnormal sample
    nominal_speed: np.ndarray  # speed ratio of each nominal sample


def _speed_profile(rng: np.random.Generator, n: int, start: int) -> np.ndarray:
    """Demand-driven speed ratio: set points held 15..90 samples, by time of day."""
    out = np.empty(n)
    i = 0
    while i < n:
        hour = ((start + i) % SAMPLES_PER_DAY) * SAMPLE_PERIOD_MIN / 60.0
        day = 7.0 <= hour < 22.0
        weights = (0.05, 0.15, 0.40, 0.40) if day else (0.45, 0.35, 0.15, 0.05)
        s = SET_POINTS[int(rng.choice(len(SET_POINTS), p=weights))]
        hold = int(rng.integers(15, 91))
        out[i : i + hold] = s
        i += hold
    # the drive ramps within a sample or two: smooth the steps a little
    smooth = out.copy()
    for j in range(1, n):
        smooth[j] = smooth[j - 1] + 0.6 * (out[j] - smooth[j - 1])
    return smooth * (1.0 + 0.004 * rng.standard_normal(n))


def _slow_noise(rng: np.random.Generator, n: int, scale: float, corr: float = 0.995) -> np.ndarray:
    """A bounded random walk (AR(1) with a long memory)."""
    x = np.empty(n)
    v = 0.0
    innov = rng.standard_normal(n) * scale * np.sqrt(1.0 - corr**2)
    for j in range(n):
        v = corr * v + innov[j]
        x[j] = v
    return x


def _simulate(
    rng: np.random.Generator, n: int, start: int, fault: str | None, severity: float
) -> tuple[np.ndarray, np.ndarray]:
    """(n samples x 6, speed ratio) from time index `start` (sets the time of
    day); `severity` in [0, 1]."""
    s = _speed_profile(rng, n, start)
    if fault == "hunting":
        period = 5.0 + 4.0 * rng.random()
        phase = rng.uniform(0.0, 2.0 * np.pi)
        s = s * (1.0 + (0.10 + 0.05 * severity) * np.sin(2.0 * np.pi * np.arange(n) / period + phase))
    t = start + np.arange(n)
    k = K_SYSTEM * (1.0 + _slow_noise(rng, n, 0.025))
    leak_share = np.zeros(n)
    vib_factor = np.ones(n)
    vib_noise = 0.05
    extra_heat = np.zeros(n)
    friction = np.zeros(n)
    if fault == "leak":
        k = k * (0.75 - 0.10 * severity)
        leak_share = (0.20 + 0.10 * severity) * (1.0 + 0.05 * rng.standard_normal(n))
    elif fault == "blockage":
        k = k * (1.8 + 0.8 * severity)
        vib_factor = vib_factor * (1.3 + 0.4 * severity)
        vib_noise = 0.12
    elif fault == "bearing":
        onset = np.minimum(1.0, np.arange(n) / 10.0)
        extra_heat = (7.0 + 7.0 * severity) * onset * (1.0 + 0.08 * _slow_noise(rng, n, 1.0, 0.98))
        vib_factor = vib_factor * (1.4 + 0.6 * severity) * (1.0 + 0.25 * (rng.random(n) < 0.08))
        friction = 0.03 + 0.02 * severity
    # operating point of the pump on the system curve
    head_avail = np.maximum(s**2 * H0_BAR - HS_BAR, 0.05)
    q_pump = np.sqrt(head_avail / (C_PUMP + k))
    pressure = HS_BAR + k * q_pump**2
    flow_meter = q_pump * (1.0 - leak_share)
    # power chain
    hydraulic_kw = pressure * q_pump / 36.0
    q_rel = q_pump / (Q_DESIGN * s)
    efficiency = np.clip(0.74 - 0.55 * (q_rel - 1.0) ** 2, 0.30, 0.74)
    shaft_kw = hydraulic_kw / efficiency * (1.0 + friction)
    power = shaft_kw / 0.93 + 0.25
    power_factor = 0.78 + 0.08 * np.clip(power / 9.0, 0.0, 1.0)
    current = power * 1000.0 / (np.sqrt(3.0) * 400.0 * power_factor)
    # temperature: ambient + lagged load-driven rise (+ fault heat)
    ambient = 22.0 + 3.0 * np.sin(2.0 * np.pi * (t / SAMPLES_PER_DAY - 0.35)) + _slow_noise(rng, n, 0.6, 0.999)
    target = ambient + TEMP_RISE_PER_KW * power + extra_heat
    temp = np.empty(n)
    temp[0] = target[0]
    for j in range(1, n):
        temp[j] = temp[j - 1] + (target[j] - temp[j - 1]) / TEMP_TAU
    # vibration: speed squared, recirculation at low relative flow
    recirculation = 0.9 * np.clip(0.85 - q_rel, 0.0, None)
    vibration = (0.7 + 1.5 * s**2 + recirculation) * vib_factor * (1.0 + vib_noise * rng.standard_normal(n))
    values = np.column_stack([
        pressure * (1.0 + 0.004 * rng.standard_normal(n)),
        flow_meter * (1.0 + 0.008 * rng.standard_normal(n)),
        current * (1.0 + 0.006 * rng.standard_normal(n)),
        temp + 0.08 * rng.standard_normal(n),
        np.maximum(vibration, 0.05),
        power * (1.0 + 0.005 * rng.standard_normal(n)),
    ])
    return values, s


def _round(values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    for j, d in enumerate(DECIMALS):
        out[:, j] = np.round(values[:, j], d)
    return out + 0.0  # -0.0 -> 0.0


def generate_multisensor_signals(
    seed: int = DEFAULT_SEED, n_nominal: int = DEFAULT_N_NOMINAL, n_abnormal: int = DEFAULT_N_ABNORMAL
) -> MultiSensorSignals:
    """The signals in memory (values rounded to the file resolution)."""
    if n_nominal < 1 or n_abnormal < 1:
        raise ValueError("sample counts must be >= 1")
    rng = np.random.default_rng(seed)
    nominal, speed = _simulate(rng, n_nominal, 0, None, 0.0)
    parts, kinds = [], []
    bounds = np.linspace(0, n_abnormal, len(EPISODES) + 1).round().astype(int)
    for e, kind in enumerate(EPISODES):
        length = int(bounds[e + 1] - bounds[e])
        if length <= 0:
            continue
        start = int(rng.integers(0, SAMPLES_PER_DAY))
        parts.append(_simulate(rng, length, start, kind, float(rng.random()))[0])
        kinds += [kind] * length
    return MultiSensorSignals(_round(nominal), _round(np.vstack(parts)), tuple(kinds), speed)


def format_lines(values: np.ndarray) -> str:
    out = io.StringIO()
    for row in values.tolist():
        out.write(" ".join(f.format(v) for f, v in zip(FORMATS, row)))
        out.write("\n")
    return out.getvalue()


def generate_multisensor_dataset(
    out_dir: str | Path, seed: int = DEFAULT_SEED, n_nominal: int = DEFAULT_N_NOMINAL,
    n_abnormal: int = DEFAULT_N_ABNORMAL,
) -> dict[str, Path]:
    """Write nominal.csv and abnormal.csv into out_dir; the bytes depend only on the arguments."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sig = generate_multisensor_signals(seed, n_nominal, n_abnormal)
    paths: dict[str, Path] = {}
    for role, values in (("nominal", sig.nominal), ("abnormal", sig.abnormal)):
        path = out / FILES[role]
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="ascii", newline="\n") as fh:
            fh.write(format_lines(values))
        tmp.replace(path)
        paths[role] = path
    return paths


def bundled_multisensor_dir() -> Path | None:
    here = Path(__file__).resolve()
    for cand in (here.parents[1] / "sample_data" / "multisensor", here.parents[2] / "sample_data" / "multisensor"):
        if all((cand / name).is_file() for name in FILES.values()):
            return cand
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m neai_tui.engine.sample_multisensor",
        description="Generate the Multi-sensor sample signals (pumping station: nominal.csv, abnormal.csv).",
    )
    parser.add_argument("out_dir", type=Path, help="output folder, e.g. sample_data/multisensor")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--nominal", type=int, default=DEFAULT_N_NOMINAL, help="nominal samples")
    parser.add_argument("--abnormal", type=int, default=DEFAULT_N_ABNORMAL, help="abnormal samples")
    args = parser.parse_args(argv)
    if args.nominal < 1 or args.abnormal < 1:
        parser.error("--nominal and --abnormal must be at least 1")
    paths = generate_multisensor_dataset(args.out_dir, args.seed, args.nominal, args.abnormal)
    counts = {"nominal": args.nominal, "abnormal": args.abnormal}
    for role, path in paths.items():
        print(f"{path}: {counts[role]} samples x {len(VARIABLES)} variables, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
