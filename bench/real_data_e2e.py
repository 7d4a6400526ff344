"""End-to-end check on real recordings the project never trained on.

For each dataset prepared by bench/prepare_real_data.py, run the user's flow
through the `neai` command exactly as documented:

    new -> import (train files) -> check -> bench --time T -> deploy -> emulate

then learn the train nominal lines in the emulator (the host build of the
deployed C) and detect the held-out test lines; print the balanced accuracy at
the 90 % similarity threshold.

    python bench/prepare_real_data.py --out /tmp/real
    python bench/real_data_e2e.py --data /tmp/real --time 120
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATASETS = {
    "itsc": {"axes": 3, "desc": "induction motor phase currents, 3 axes x 128, healthy vs 12 short-circuit faults"},
    "skab": {"axes": 1, "desc": "water pump flow rate, 1 axis x 64, valve anomalies (subtle)"},
}


def neai(*args: str) -> str:
    cmd = [sys.executable, "-m", "neai_tui.cli", *args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"`neai {' '.join(args)}` failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def _found_after(project: Path) -> float | None:
    history = (project / "benchmarks" / "b1" / "history.jsonl").read_text().splitlines()
    return json.loads(history[-1])["t"] if history else None


def run(name: str, data: Path, seconds: float, cores: int, work: Path) -> dict:
    spec = DATASETS[name]
    train, test = data / name / "train", data / name / "test"
    project = work / name
    neai("new", str(project), "--type", "anomaly", "--axes", str(spec["axes"]), "--name", f"real-{name}")
    neai("import", str(project), str(train / f"{name}_nominal.csv"), "--role", "nominal")
    neai("import", str(project), str(train / f"{name}_abnormal.csv"), "--role", "abnormal")
    neai("check", str(project))
    started = time.monotonic()
    bench = json.loads(neai("bench", str(project), "--time", str(seconds), "--cores", str(cores), "--seed", "1", "--json"))
    bench_s = time.monotonic() - started
    zip_path = work / f"{name}.zip"
    meta = json.loads(neai("deploy", str(project), "--out", str(zip_path), "--json"))["metadata"]
    nominal = json.loads(neai("emulate", str(zip_path), "--learn", str(train / f"{name}_nominal.csv"),
                              "--detect", str(test / f"{name}_nominal.csv"), "--json"))
    abnormal = json.loads(neai("emulate", str(zip_path), "--learn", str(train / f"{name}_nominal.csv"),
                               "--detect", str(test / f"{name}_abnormal.csv"), "--json"))
    sim_nom = [r["similarity"] for r in nominal["results"]]
    sim_abn = [r["similarity"] for r in abnormal["results"]]
    tpr = sum(s >= 90 for s in sim_nom) / len(sim_nom)
    tnr = sum(s < 90 for s in sim_abn) / len(sim_abn)
    return {
        "dataset": name,
        "description": spec["desc"],
        "bench_seconds": round(bench_s, 1),
        "best": bench["best"],
        "found_after_s": _found_after(project),
        "measured": {k: meta["measured"][k] for k in ("flash_bytes", "ram_bytes", "instructions_per_detect", "identical")},
        "learned": nominal.get("learned"),
        "test_nominal": len(sim_nom),
        "test_abnormal": len(sim_abn),
        "nominal_recognised": round(tpr, 4),
        "abnormal_flagged": round(tnr, 4),
        "balanced_accuracy_test": round((tpr + tnr) / 2, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench/real_data"), help="output of prepare_real_data.py")
    parser.add_argument("--time", type=float, default=120)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--only", choices=sorted(DATASETS))
    args = parser.parse_args()
    if not (args.data / "itsc").is_dir():
        raise SystemExit(f"{args.data}: run `python bench/prepare_real_data.py --out {args.data}` first")
    work = Path(tempfile.mkdtemp(prefix="neai-real-"))
    try:
        for name in [args.only] if args.only else list(DATASETS):
            r = run(name, args.data, args.time, args.cores, work)
            print(json.dumps(r, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
