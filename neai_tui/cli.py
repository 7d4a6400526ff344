"""The `neai` command line (SPEC §2). Every command exits 0 on success, 2 on bad
usage or input (one paragraph on stderr), 1 on an internal error (the traceback
goes to a log file, never to the terminal)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path

from . import __version__
from .engine.errors import Cancelled, NeaiError, UsageError

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with a hint, like every usage error
        self.print_usage(sys.stderr)
        sys.stderr.write(f"neai: error: {message}\nRun `{self.prog} --help` for the options.\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="neai", description="Terminal NanoEdge AI Studio: from sensor signals to Cortex-M libraries.")
    p.add_argument("--version", action="version", version=f"neai-tui {__version__}")
    p.add_argument("--workspace", type=Path, help="workspace folder (default: $NEAI_WORKSPACE or the user data dir)")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    sub.add_parser("demo", help="open the TUI on the bundled sample project")
    t = sub.add_parser("tui", help="open the TUI (on one project if DIR is given)")
    t.add_argument("dir", nargs="?", type=Path)

    n = sub.add_parser("new", help="create a project")
    n.add_argument("dir", type=Path)
    n.add_argument("--type", required=True, choices=["anomaly", "one-class", "n-class", "extrapolation"])
    g = n.add_mutually_exclusive_group(required=True)
    g.add_argument("--axes", type=int, help="generic sensor with N axes")
    g.add_argument("--variables", type=int, help="Multi-sensor with N variables (anomaly only)")
    n.add_argument("--name")
    n.add_argument("--description", default="")
    n.add_argument("--max-ram", type=float, metavar="KB")
    n.add_argument("--max-flash", type=float, metavar="KB")
    n.add_argument("--target", default="cortex-m4f")

    i = sub.add_parser("import", help="import a signal file into a project")
    i.add_argument("dir", type=Path)
    i.add_argument("file", type=Path)
    i.add_argument("--role", choices=["nominal", "abnormal"])
    i.add_argument("--class", dest="class_name")
    i.add_argument("--couple", type=int, default=1)
    i.add_argument("--sep", default="auto", choices=["auto", "space", "tab", "comma", "semicolon"])

    c = sub.add_parser("check", help="run the checks on a project's signals")
    c.add_argument("dir", type=Path)
    c.add_argument("--optional", action="store_true", help="also run the optional checks")
    c.add_argument("--json", action="store_true")

    b = sub.add_parser("bench", help="search for the best library (resumes an interrupted one)")
    b.add_argument("dir", type=Path)
    lim = b.add_mutually_exclusive_group()
    lim.add_argument("--time", type=float, metavar="SECONDS")
    lim.add_argument("--evals", type=int, metavar="N")
    b.add_argument("--cores", type=int, default=max(1, (os.cpu_count() or 1)))
    b.add_argument("--scheduler", metavar="ADDRESS")
    b.add_argument("--seed", type=int)
    b.add_argument("--new", action="store_true", help="start another benchmark instead of resuming")
    b.add_argument("--json", action="store_true")

    lb = sub.add_parser("libs", help="list the candidate libraries")
    lb.add_argument("dir", type=Path)
    lb.add_argument("--json", action="store_true")

    d = sub.add_parser("deploy", help="build, verify and zip a library")
    d.add_argument("dir", type=Path)
    d.add_argument("--lib", dest="lib_id")
    d.add_argument("--target")
    d.add_argument("--suffix")
    d.add_argument("--out", type=Path)
    d.add_argument("--json", action="store_true")

    e = sub.add_parser("emulate", help="run a library zip's host build on signal files")
    e.add_argument("zip", type=Path)
    e.add_argument("--learn", action="append", default=[], type=Path, metavar="FILE")
    m = e.add_mutually_exclusive_group(required=True)
    m.add_argument("--detect", type=Path, metavar="FILE")
    m.add_argument("--outlier", type=Path, metavar="FILE")
    m.add_argument("--classify", type=Path, metavar="FILE")
    m.add_argument("--extrapolate", type=Path, metavar="FILE")
    e.add_argument("--sensitivity", type=float)
    e.add_argument("--json", action="store_true")

    tg = sub.add_parser("targets", help="list the target catalogue")
    tg.add_argument("--json", action="store_true")
    return p


# --------------------------------------------------------------------- commands
def _open(dir_: Path):
    from .engine.project import Project

    return Project.open(dir_)


def cmd_new(args) -> int:
    from .engine.project import Project, ProjectSettings

    axes = args.axes if args.axes is not None else args.variables
    settings = ProjectSettings(
        name=args.name or args.dir.name,
        type=args.type,
        axes=axes,
        multisensor=args.variables is not None,
        description=args.description,
        max_ram_kb=args.max_ram,
        max_flash_kb=args.max_flash,
        target=args.target,
    )
    project = Project.create(args.dir, settings)
    print(f"created {settings.type} project '{settings.name}' in {project.path}")
    return EXIT_OK


def cmd_import(args) -> int:
    project = _open(args.dir)
    entry = project.import_signal(
        args.file, role=args.role, class_name=args.class_name, couple=args.couple, sep=args.sep
    )
    print(f"imported {args.file} as {entry.id} ({entry.label()}): {entry.lines} lines x {entry.values_per_line} values")
    for warning in entry.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_check(args) -> int:
    project = _open(args.dir)
    problems = project.check(optional=args.optional)
    errors = [p for p in problems if p.severity == "error"]
    if args.json:
        print(json.dumps({
            "ok": not errors,
            "signals": [
                {"id": s.id, "file": s.file, "label": s.label(), "lines": s.lines, "values_per_line": s.values_per_line}
                for s in project.signals
            ],
            "problems": [p.__dict__ for p in problems],
        }))
    else:
        for s in project.signals:
            print(f"{s.id}  {s.file}  {s.label()}  {s.lines} lines x {s.values_per_line} values")
        for p in problems:
            print(p.text())
        print("checks passed" if not errors else f"{len(errors)} blocking problem(s)")
    return EXIT_OK if not errors else EXIT_USAGE


def _fmt_metrics(metrics: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in metrics.items() if not isinstance(v, list))


def cmd_bench(args) -> int:
    from .engine.search import run_benchmark

    if args.evals is not None and args.evals < 1:
        raise UsageError("--evals must be 1 or more", "")
    if args.time is not None and args.time <= 0:
        raise UsageError("--time must be a positive number of seconds", "")
    project = _open(args.dir)

    last = [0.0]

    def progress(ev) -> None:
        now = time.monotonic()
        if not ev.new_best and ev.message.startswith("generation") and now - last[0] < 2.0:
            return
        last[0] = now
        best = f"best {ev.best_score:.2f}" if ev.best_score is not None else "no library yet"
        print(
            f"[{ev.elapsed_s:7.1f}s] {ev.evals_done:6d} evals ({ev.evals_per_s:6.1f}/s, {ev.workers} worker(s)), "
            f"{best}  {ev.message}",
            file=sys.stderr,
            flush=True,
        )

    cancel = threading.Event()
    try:
        result = run_benchmark(
            project, time_limit=args.time, max_evals=args.evals, cores=args.cores, seed=args.seed,
            new=args.new, progress=progress, cancel=cancel, scheduler=args.scheduler,
        )
    except KeyboardInterrupt:
        cancel.set()
        print("interrupted: the best library so far is kept; `neai bench DIR` resumes", file=sys.stderr)
        return 130
    best = result.best
    if args.json:
        doc = {"benchmark": result.benchmark, "status": result.status, "evals": result.evals_done,
               "elapsed_s": result.elapsed_s, "best": None}
        if best:
            doc["best"] = {
                "id": best["id"], "score": best["score"], "metrics": best["metrics"],
                "ram_bytes": best["ram_bytes"], "flash_bytes": best["flash_bytes"],
                "pipeline": best["pipeline_text"], "min_learning_iterations": best.get("min_learning_iterations"),
            }
        print(json.dumps(doc))
    elif best:
        print(f"benchmark {result.benchmark} ({result.status}, {result.evals_done} evaluations, {result.elapsed_s:.0f} s)")
        print(f"best library {best['id']}: score {best['score']:.2f}")
        print(f"  {best['pipeline_text']}")
        print(f"  {_fmt_metrics(best['metrics'])}")
        print(f"  RAM ~{best['ram_bytes']} B, flash ~{best['flash_bytes']} B (estimates; `neai deploy` measures)")
        if best.get("min_learning_iterations") is not None:  # anomaly detection learns on the device
            print(f"  learn at least {best['min_learning_iterations']} times on the device")
        print(f"next: neai deploy {args.dir}")
    else:
        print(f"benchmark {result.benchmark}: no library found within the limits", file=sys.stderr)
    return EXIT_OK


def cmd_libs(args) -> int:
    from .engine.search import list_libraries

    libs = list_libraries(_open(args.dir))
    if args.json:
        print(json.dumps({"libraries": libs}))
        return EXIT_OK
    if not libs:
        print("no library yet: run `neai bench DIR`")
    else:
        print("* selected for deployment, p on the Pareto front (score / RAM / flash)")
    for lib in libs:
        mark = ("*" if lib["selected"] else " ") + ("p" if lib.get("pareto") else " ")
        print(
            f"{mark} {lib['id']:<12} score {lib['score']:6.2f}  RAM {lib['ram_bytes']:6d} B  flash {lib['flash_bytes']:6d} B  "
            f"{_fmt_metrics(lib['metrics'])}\n    {lib['pipeline']}"
        )
    return EXIT_OK


def cmd_deploy(args) -> int:
    from .engine.deploy import deploy

    project = _open(args.dir)
    result = deploy(
        project, lib_id=args.lib_id, target=args.target, suffix=args.suffix, out=args.out,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    meta = result.metadata
    if args.json:
        print(json.dumps({"zip": str(result.zip_path), "metadata": meta}))
        return EXIT_OK
    m = meta["measured"]
    print(f"{result.zip_path}")
    print(f"  library {meta['library_id']} for {meta['target']} ({meta['core']}, {meta['float_abi']} float)")
    print(f"  {meta['pipeline']}")
    print(f"  flash {m['flash_bytes']} B, RAM {m['ram_bytes']} B (static {m['static_ram_bytes']} + stack {m['stack_bytes']}),"
          f" {m['instructions_per_detect']} instructions per {'detect()' if meta['type'] == 'anomaly' else 'inference'}")
    print(f"  Cortex-M build = host build on {m['lines_compared']} lines (emulated core)")
    return EXIT_OK


def _result_text(r: dict) -> str:
    """One inference result as a line of text (the --json keys are SPEC §2's)."""
    if "similarity" in r:
        text = f"similarity {r['similarity']}"
    elif "outlier" in r:
        text = "outlier" if r["outlier"] else "normal"
    elif "class" in r:
        probs = " ".join(f"{p:.3f}" for p in r.get("probabilities", []))
        text = f"class {r['class']} (id {r['id']})  probabilities {probs}"
    else:
        text = f"value {r.get('value')}"
    return text + (f"\t{r['status']}" if "status" in r else "")


def cmd_emulate(args) -> int:
    from .engine.emulator import emulate

    mode, file = next((m, getattr(args, m)) for m in ("detect", "outlier", "classify", "extrapolate") if getattr(args, m))
    doc = emulate(args.zip, learn=args.learn, detect=file, mode=mode, sensitivity=args.sensitivity)
    if args.json:
        print(json.dumps(doc))
    else:
        if "learned" in doc:
            print(f"learned {doc['learned']} lines")
        for i, r in enumerate(doc["results"], start=1):
            print(f"{i}\t{_result_text(r)}")
    return EXIT_OK


def cmd_targets(args) -> int:
    from .engine.targets import catalogue

    items = catalogue()
    if args.json:
        print(json.dumps({"targets": [t.__dict__ for t in items]}))
    else:
        for t in items:
            size = f"{t.flash_kb} KB flash, {t.ram_kb} KB RAM" if t.kind != "core" else ""
            print(f"{t.name:<28} {t.kind:<5} {t.core:<14} {t.mcu if t.kind == 'board' else '':<14} {size}")
    return EXIT_OK


def cmd_tui(args, project_dir: Path | None) -> int:
    from .app import run_app

    return run_app(workspace=args.workspace, project=project_dir) or EXIT_OK


def cmd_demo(args) -> int:
    from .engine.demo import ensure_demo_project

    project = ensure_demo_project(args.workspace)
    return cmd_tui(args, project.path)


COMMANDS = {
    "new": cmd_new, "import": cmd_import, "check": cmd_check, "bench": cmd_bench, "libs": cmd_libs,
    "deploy": cmd_deploy, "emulate": cmd_emulate, "targets": cmd_targets, "demo": cmd_demo,
}


def _log_internal_error() -> Path | None:
    try:
        from .engine.paths import cache_dir

        log = cache_dir() / "last-error.log"
        log.write_text(traceback.format_exc())
        return log
    except Exception:  # noqa: BLE001 - reporting must not fail
        return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.workspace:
        os.environ["NEAI_WORKSPACE"] = str(args.workspace)
    try:
        if args.command is None:
            return cmd_tui(args, None)
        if args.command == "tui":
            return cmd_tui(args, args.dir)
        return COMMANDS[args.command](args)
    except Cancelled as exc:
        print(f"neai: {exc.user_text()}", file=sys.stderr)
        return 130
    except NeaiError as exc:
        print(f"neai: {exc.user_text()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("neai: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        log = _log_internal_error()
        where = f" Details: {log}." if log else ""
        print(f"neai: internal error: {type(exc).__name__}: {exc}.{where} Please report it.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
