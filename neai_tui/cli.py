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


PROJECT_HELP = "a project's name in the workspace, or a path to its folder (./fan, ~/projects/fan)"


def _command(sub, name: str, help: str, *examples: str, description: str = "") -> argparse.ArgumentParser:
    """A subcommand whose --help says what it does and ends with examples."""
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
    return sub.add_parser(name, help=help, description=description or help[:1].upper() + help[1:] + ".",
                          epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)


def _project_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="PROJECT", help=PROJECT_HELP)


def _positive_or_none(what: str):
    """An argparse type: a positive number (`what` names it), or none/off to remove the setting (neai set)."""

    def parse(text: str) -> float | None:
        if text.strip().lower() in ("none", "off", "no"):
            return None
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {what} (or none to remove it)") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text}: give a positive number, {what}, or none to remove it")
        return value

    return parse


_kb_or_none = _positive_or_none("a number of KB")
_hz_or_none = _positive_or_none("a rate in Hz")
_ms_or_none = _positive_or_none("a time in ms")


def _power_of_two(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: '{text}' (give a whole number of samples)") from None
    if value < 2 or value & (value - 1):
        lower = 1 << max(1, value.bit_length() - 1) if value > 1 else 2
        raise argparse.ArgumentTypeError(
            f"{value} is not a power of two (the Studio's buffers are): try {lower} or {lower * 2}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="neai", description="Terminal NanoEdge AI Studio: from sensor signals to Cortex-M libraries.",
                epilog="PROJECT is a project's name in the workspace or a path to its folder.\n"
                       "Run `neai COMMAND --help` for a command's options and examples.\n\n"
                       "example:\n  neai new fan --type anomaly --axes 3 && neai import fan nominal.csv --role nominal",
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"neai-tui {__version__}", help="print the version and exit")
    p.add_argument("--workspace", type=Path, metavar="DIR",
                   help="workspace folder (default: $NEAI_WORKSPACE, the folder set in the TUI, or the user data "
                        "dir), e.g. --workspace ~/neai-projects")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    _command(sub, "demo", "open the TUI on the bundled sample project", "neai demo")
    t = _command(sub, "tui", "open the TUI (on one project if PROJECT is given)", "neai tui", "neai tui fan")
    t.add_argument("dir", nargs="?", metavar="PROJECT", help=PROJECT_HELP + "; none: the home screen")

    n = _command(sub, "new", "create a project",
                 "neai new fan --type anomaly --axes 3 --max-ram 8 --max-flash 16 --target NUCLEO-L432KC",
                 "neai new ./here/pump --type anomaly --variables 5     # a folder of your choice",
                 description="Create a project. A bare NAME creates it in the workspace (neai --workspace, "
                             "$NEAI_WORKSPACE); a path (./DIR, ~/DIR, /DIR) creates it there.")
    n.add_argument("dir", metavar="NAME|DIR", help="the project's name (in the workspace) or a folder path (./fan)")
    n.add_argument("--type", required=True, choices=["anomaly", "one-class", "n-class", "extrapolation"],
                   help="what the library does: anomaly detection (learns on the device), 1-class or n-class "
                        "classification, extrapolation (regression); e.g. --type n-class")
    g = n.add_mutually_exclusive_group(required=True)
    g.add_argument("--axes", type=int, metavar="N", help="generic sensor with N axes, e.g. --axes 3")
    g.add_argument("--variables", type=int, metavar="N",
                   help="Multi-sensor with N variables, one sample per line (anomaly only), e.g. --variables 5")
    n.add_argument("--name", metavar="TEXT", help="display name (default: NAME or the folder's name), "
                                                  "e.g. --name 'pump station'")
    n.add_argument("--description", default="", metavar="TEXT", help="free text, e.g. --description 'bearing 2'")
    n.add_argument("--max-ram", type=float, metavar="KB",
                   help="RAM limit for the library in KB (default: half the target's RAM; none for a bare core), "
                        "e.g. --max-ram 8")
    n.add_argument("--max-flash", type=float, metavar="KB",
                   help="flash limit for the library in KB (default: half the target's flash), e.g. --max-flash 16")
    n.add_argument("--max-time", type=float, metavar="MS",
                   help="longest inference (one detect()/learn() or classification) in milliseconds at the "
                        "target's clock: slower candidates are excluded from the benchmark, like those over "
                        "--max-ram/--max-flash, e.g. --max-time 5")
    n.add_argument("--target", default="cortex-m4f", metavar="NAME",
                   help="board, MCU or core (`neai targets` lists them; default cortex-m4f), "
                        "e.g. --target NUCLEO-L432KC")

    i = _command(sub, "import", "import a signal file into a project",
                 "neai import fan nominal.csv --role nominal",
                 "neai import fan abnormal.csv --role abnormal --couple 2",
                 "neai import motor SC_A1.csv --class short_A1")
    _project_arg(i)
    i.add_argument("file", type=Path, metavar="FILE", help="the signal file (.csv/.txt, one buffer per line); "
                                                           "a copy is kept in the project")
    i.add_argument("--role", choices=["nominal", "abnormal"],
                   help="anomaly detection: normal behaviour or faults, e.g. --role nominal")
    i.add_argument("--class", dest="class_name", metavar="NAME",
                   help="n-class: the class of every line (default: the file's name), e.g. --class tapping")
    i.add_argument("--couple", type=int, default=1, metavar="K",
                   help="anomaly detection: the signal couple (a setting's nominal + abnormal files; default 1), "
                        "e.g. --couple 2")
    i.add_argument("--sep", default="auto", choices=["auto", "space", "tab", "comma", "semicolon"],
                   help="column separator (default: detected), e.g. --sep semicolon")

    r = _command(sub, "remove", "remove a signal file from a project",
                 "neai remove fan s2", "neai remove fan s2_abnormal.csv",
                 description="Remove a signal file from a project: its copy in the project is deleted; your "
                             "original file is not touched. `neai check PROJECT` lists the ids.")
    _project_arg(r)
    r.add_argument("signal", metavar="SIGNAL_ID", help="the signal's id (s1, s2, ...) or its file name in the "
                                                       "project (s2_abnormal.csv)")
    r.add_argument("--json", action="store_true", help="print the removed signal as JSON")

    st = _command(sub, "set", "change a project's settings",
                  "neai set fan --max-ram 4 --max-flash 12",
                  "neai set fan --target NUCLEO-G071RB --rate 1600",
                  "neai set fan --max-ram none          # no RAM limit",
                  description="Change a project's name, description, RAM/flash/time limits, target or sampling rate; "
                              "without options, print them. Lowering a limit warns when the chosen library no "
                              "longer fits (`neai deploy` then refuses it unless --force).")
    _project_arg(st)
    st.add_argument("--name", default=argparse.SUPPRESS, metavar="TEXT", help="display name, e.g. --name 'fan, bench 2'")
    st.add_argument("--description", default=argparse.SUPPRESS, metavar="TEXT", help="free text, e.g. --description 'mounted on the left'")
    st.add_argument("--max-ram", type=_kb_or_none, default=argparse.SUPPRESS, metavar="KB", help="RAM limit in KB, or none, e.g. --max-ram 4")
    st.add_argument("--max-flash", type=_kb_or_none, default=argparse.SUPPRESS, metavar="KB",
                    help="flash limit in KB, or none, e.g. --max-flash 12")
    st.add_argument("--max-time", type=_ms_or_none, default=argparse.SUPPRESS, metavar="MS",
                    help="longest inference in ms at the target's clock, or none, e.g. --max-time 5")
    st.add_argument("--target", default=argparse.SUPPRESS, metavar="NAME", help="board, MCU or core (`neai targets`), e.g. --target cortex-m0plus")
    st.add_argument("--rate", type=_hz_or_none, default=argparse.SUPPRESS, metavar="HZ",
                    help="the sensor's sampling rate (spectra in Hz, the frequency filter, reports), or none, "
                         "e.g. --rate 1000")
    st.add_argument("--json", action="store_true", help="print the settings as JSON")

    c = _command(sub, "check", "run the checks on a project's signals and limits",
                 "neai check fan", "neai check fan --optional --json",
                 description="Run the blocking checks (file format, shapes, roles or classes, and whether any "
                             "candidate can fit the RAM/flash limits); exit 2 when one fails.")
    _project_arg(c)
    c.add_argument("--optional", action="store_true",
                   help="also run the optional checks (duplicates, constant axes, clipping...)")
    c.add_argument("--json", action="store_true", help="print the signals and findings as JSON")

    b = _command(sub, "bench", "search for the best library (resumes an interrupted one)",
                 "neai bench fan --time 60 --cores 2", "neai bench fan --new --evals 2000 --seed 7 --json")
    _project_arg(b)
    lim = b.add_mutually_exclusive_group()
    lim.add_argument("--time", type=float, metavar="SECONDS",
                     help="stop after this long (counted per run), e.g. --time 60")
    lim.add_argument("--evals", type=int, metavar="N",
                     help="stop after N evaluations in all (counted across resumes), e.g. --evals 2000")
    b.add_argument("--cores", type=int, default=max(1, (os.cpu_count() or 1)), metavar="N",
                   help="worker processes (default: every core), e.g. --cores 2")
    b.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing Dask cluster, e.g. --scheduler tcp://10.0.0.5:8786")
    b.add_argument("--seed", type=int, metavar="S",
                   help="random seed of a new benchmark (with --evals: the same best on any core count), "
                        "e.g. --seed 7")
    b.add_argument("--new", action="store_true", help="start another benchmark instead of resuming")
    b.add_argument("--files", nargs="+", action="extend", metavar="FILE",
                   help="use only these signal files: ids, file names, class names or couple:K, e.g. "
                        "--files s1 s3, --files nominal_b.csv abnormal.csv or --files couple:2 (default: every file; "
                        "a resumed benchmark keeps its own)")
    b.add_argument("--keep-selection", action="store_true",
                   help="with --new: keep the chosen library chosen (default: the new best replaces it)")
    b.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    b.add_argument("--json", action="store_true", help="print the result as one JSON document")

    lb = _command(sub, "libs", "list the candidate libraries", "neai libs fan", "neai libs fan --json")
    _project_arg(lb)
    lb.add_argument("--json", action="store_true", help="print the libraries as JSON")

    d = _command(sub, "deploy", "build, verify and zip a library",
                 "neai deploy fan --out fan.zip",
                 "neai deploy fan --lib b1-c42 --target NUCLEO-G071RB --suffix vibration",
                 description="Build the library for the target's core, check the Cortex-M build against the host "
                             "build on an emulated core, measure flash/RAM/instructions, and write the zip. A "
                             "library over the project's or the target's RAM/flash is refused (exit 2) unless "
                             "--force.")
    _project_arg(d)
    d.add_argument("--lib", dest="lib_id", metavar="ID",
                   help="the library to build (default: the chosen one, else the latest benchmark's best; "
                        "`neai libs` lists them), e.g. --lib b1-c42")
    d.add_argument("--target", metavar="NAME",
                   help="board, MCU or core to build for (default: the project's), e.g. --target cortex-m0plus")
    d.add_argument("--suffix", metavar="NAME",
                   help="append _NAME to every exported name, to link several libraries, e.g. --suffix vibration")
    d.add_argument("--out", type=Path, metavar="FILE.zip",
                   help="where to write the zip (default: PROJECT/deploy/LIB_CORE.zip), e.g. --out fan.zip")
    d.add_argument("--optimize", choices=["size", "speed", "smallest", "fastest", "basic"],
                   help="the Cortex-M build's optimisation: size (-Os, the default), speed (-O2: fewer instructions "
                        "per call, more flash), smallest (-Oz), fastest (-O3) or basic (-O1); verified and measured "
                        "whichever, e.g. --optimize speed")
    d.add_argument("--float-abi", choices=["hard", "softfp"],
                   help="cores with an FPU: hard (floats in FPU registers; the default) or softfp (the FPU with the "
                        "soft calling convention, for a firmware built -mfloat-abi=softfp), e.g. --float-abi softfp")
    d.add_argument("--no-sections", dest="sections", action="store_false",
                   help="build without -ffunction-sections -fdata-sections (by default each function and object "
                        "has its own section, so the firmware's --gc-sections drops what it does not call)")
    d.add_argument("--cflags", metavar="FLAGS",
                   help="extra code-generation flags, checked against an allow-list (no paths, ABI, target, float "
                        "maths or optimisation level; write it with =), e.g. --cflags='-funroll-loops -fno-jump-tables'")
    d.add_argument("--force", action="store_true",
                   help="build even when the library is over the project's or the target's RAM/flash")
    d.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    d.add_argument("--json", action="store_true", help="print the zip's path and metadata as JSON")

    e = _command(sub, "emulate", "run a library zip's host build on signal files",
                 "neai emulate fan.zip --learn nominal.csv --detect new.csv",
                 "neai emulate motor.zip --classify new.csv --json",
                 description="Run the zip's host build (the same C as the Cortex-M library) on signal files and "
                             "print one result per line, then a summary line. Anomaly detection learns first "
                             "(--learn, required with --detect).")
    e.add_argument("zip", type=Path, metavar="LIBRARY.zip", help="a zip made by `neai deploy`")
    e.add_argument("--learn", action="append", default=[], type=Path, metavar="FILE",
                   help="anomaly detection: learn these lines first (repeatable), e.g. --learn nominal.csv")
    m = e.add_mutually_exclusive_group(required=True)
    m.add_argument("--detect", type=Path, metavar="FILE", help="anomaly detection: similarity 0-100 per line")
    m.add_argument("--outlier", type=Path, metavar="FILE", help="1-class: outlier or not per line")
    m.add_argument("--classify", type=Path, metavar="FILE", help="n-class: the class and probabilities per line")
    m.add_argument("--extrapolate", type=Path, metavar="FILE", help="extrapolation: the value per line")
    e.add_argument("--sensitivity", type=float, metavar="X",
                   help="anomaly detection: the similarity's sensitivity (default 1), e.g. --sensitivity 1.2")
    e.add_argument("--json", action="store_true", help="print the results as one JSON document")

    fl = sub.add_parser("filter", help="set or clear a project's frequency filter (the Signals step's F)",
                        description="Benchmarks started after this filter every signal buffer with it, and their "
                                    "libraries filter their input the same way (2nd-order Butterworth per cut-off). "
                                    "Without options, prints the current settings.",
                        epilog="examples:\n  neai filter fan --rate 1000 --low 5 --high 200\n  neai filter fan --clear",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    _project_arg(fl)
    fl.add_argument("--rate", type=float, metavar="HZ", help="the sensor's sampling rate, e.g. --rate 1000")
    fl.add_argument("--low", type=float, metavar="HZ", help="high-pass cut-off (blank: none), e.g. --low 5")
    fl.add_argument("--high", type=float, metavar="HZ", help="low-pass cut-off (blank: none), e.g. --high 200")
    fl.add_argument("--clear", action="store_true", help="remove the filter and the sampling rate")
    fl.add_argument("--json", action="store_true", help="print the settings as JSON")

    tg = _command(sub, "targets", "list the target catalogue: boards, MCUs and cores",
                  "neai targets --search 'nucleo l4'", "neai targets --kind board --json",
                  description="Boards and MCUs with their core, FPU, flash, RAM and maximum clock, from "
                              "modm-devices, pyOCD and a datasheet table (each entry names its source). "
                              "Favourites (kept in your user config) come first and are marked *.")
    tg.add_argument("--search", metavar="TEXT",
                    help="only targets whose name, MCU, core or vendor holds every word, e.g. --search 'nucleo l4'")
    tg.add_argument("--kind", choices=["board", "mcu", "core"], help="only boards, MCUs or cores, e.g. --kind board")
    tg.add_argument("--favourites", action="store_true", help="only your favourites, e.g. --favourites --json")
    fav = tg.add_mutually_exclusive_group()
    fav.add_argument("--favourite", metavar="NAME", help="add a board or MCU to your favourites, e.g. "
                                                         "--favourite NUCLEO-L432KC")
    fav.add_argument("--unfavourite", metavar="NAME", help="remove one from your favourites, e.g. "
                                                           "--unfavourite NUCLEO-L432KC")
    tg.add_argument("--json", action="store_true", help="print one JSON document with the sources, e.g. for scripts")

    _add_tools(sub)
    _add_data(sub)
    _add_archive(sub)
    _add_capture(sub)
    _add_validation_commands(sub)
    return p


def _add_capture(sub) -> None:
    c = sub.add_parser(
        "capture", help="record signal lines from a serial port (or a socket:// URL) into a file or a project",
        description="Records one signal example per line from a board. Every complete line is written to the file "
                    "as it arrives; if the port closes or fails mid-capture the lines received are kept, the "
                    "command says so and exits 2. Lines that are not numbers, or whose value count differs, are "
                    "dropped and counted. Ctrl-C stops and keeps (and imports) what came in.",
        epilog="examples:\n"
               "  neai capture --port /dev/ttyACM0 --baud 115200 --lines 500 --out nominal.csv\n"
               "  neai capture --port socket://192.0.2.7:7000 --lines 200 --import fan --role abnormal\n"
               "  neai capture --port COM3 --import pump --class cavitation --idle 5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("--port", required=True, metavar="URL",
                   help="a serial device or pyserial URL (e.g. /dev/ttyACM0, COM3, socket://HOST:PORT, loop://)")
    c.add_argument("--baud", type=int, default=115200, metavar="N", help="baud rate (default 115200), e.g. --baud 921600")
    c.add_argument("--lines", type=int, metavar="N", help="stop after N signal lines (default: until stopped), e.g. --lines 500")
    c.add_argument("--idle", type=float, metavar="SECONDS",
                   help="stop after this long without data (default: wait), e.g. --idle 5")
    where = c.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, metavar="FILE", help="write the lines to FILE, e.g. --out nominal.csv")
    where.add_argument("--import", dest="import_project", metavar="PROJECT",
                       help="capture into the project's captures/ folder and import the file, e.g. --import fan")
    c.add_argument("--role", choices=["nominal", "abnormal"], help="with --import, anomaly detection: e.g. --role nominal")
    c.add_argument("--class", dest="class_name", help="with --import, n-class: the class name, e.g. --class imbalance")
    c.add_argument("--couple", type=int, default=1, help="with --import, the signal couple (default 1), e.g. --couple 2")
    c.add_argument("--max-line-bytes", type=int, default=512 * 1024, metavar="N",
                   help="longest line accepted, in bytes (default 524288); a longer one ends the capture, "
                        "e.g. --max-line-bytes 1048576")
    c.add_argument("--force", action="store_true", help="replace --out FILE if it exists (e.g. --force)")
    c.add_argument("--json", action="store_true", help="print one JSON document with the result (e.g. --json)")


def _add_archive(sub) -> None:
    a = sub.add_parser(
        "archive", help="export a project as one .zip, or import such a .zip as a new project",
        description="Share a whole project (signals, benchmarks, libraries) as one .zip. Import validates the "
                    "archive entirely (member names, project.json, benchmark and library records) before writing "
                    "anything, and refuses with exit 2 naming the member and field.",
        epilog="examples:\n  neai archive export fan --out ~/fan.zip\n  neai archive import ~/fan.zip --name fan-copy",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    asub = a.add_subparsers(dest="archive_action", parser_class=_Parser)
    ex = asub.add_parser("export", help="write a project as one .zip (e.g. neai archive export fan --out fan.zip)",
                         description="Write a project (signals, benchmarks, libraries) as one .zip, validated first; "
                                     "hidden files such as the writer lock are left out.",
                         epilog="examples:\n  neai archive export fan --out ~/fan.zip",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    ex.add_argument("project", metavar="PROJECT", help="a project's folder, or its name in the workspace (e.g. fan)")
    ex.add_argument("--out", type=Path, required=True, metavar="FILE.zip",
                    help="the archive to write, outside the project (e.g. --out ~/fan.zip)")
    ex.add_argument("--json", action="store_true", help='print {"archive": PATH} (e.g. --json)')
    im = asub.add_parser("import", help="add a project from a .zip to the workspace (e.g. neai archive import fan.zip)",
                         description="Add the project of an archive to the workspace as a new folder. Every member "
                                     "name and every project record is validated before anything is written; a "
                                     "refusal (exit 2) names the member and the field.",
                         epilog="examples:\n  neai archive import ~/fan.zip\n  neai archive import ~/fan.zip --name fan-copy",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    im.add_argument("archive", type=Path, metavar="FILE.zip", help="an archive made by export (e.g. ~/fan.zip)")
    im.add_argument("--name", help="the imported project's name (default: the archived one), e.g. --name fan-copy")
    im.add_argument("--json", action="store_true", help='print {"project": NAME, "path": DIR} (e.g. --json)')


TOOLS_DESCRIPTION = """\
The Studio's tools, for the data before a project exists.

  reshape     cut continuous recordings (one sample per line, with or without a header,
              timestamp and label columns) into a project signal file: choose columns,
              decimate, cut buffers with a hop, keep rows by a label value
  sampling    recommend a sampling rate and buffer size from recordings of each state
  datalogger  generate firmware (generic Cortex-M C or Arduino) that prints buffers
              in the Studio's format over a serial port

Outputs are never written over an existing file without --force; inputs are only read.

examples:
  neai tools reshape itsc/SC_HLT --buffer 128 --hop 64 --out healthy.csv
  neai tools reshape skab/valve1 --columns "Volume Flow RateRMS" --where anomaly=1 \\
      --buffer 64 --out abnormal.csv
  neai tools sampling itsc/SC_HLT itsc/SC_A1_B0_C0 --rate 1000
  neai tools datalogger logger/ --axes 3 --rate 1000 --buffer 256 --board arduino
"""

SEP_CHOICES = ["auto", "space", "tab", "comma", "semicolon"]


def _add_recording_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--columns", metavar="LIST",
                   help="signal columns: header names or 1-based numbers, ranges allowed (e.g. 2-4,Current); "
                        "default: every numeric column except timestamps and label columns (anomaly, changepoint, "
                        "label, class, target)")
    p.add_argument("--sep", default="auto", choices=SEP_CHOICES, help="column separator (default: detected)")
    p.add_argument("--header", default="auto", choices=["auto", "yes", "no"],
                   help="is the first line a header row? (default: detected)")


def _add_tools(sub) -> None:
    tl = sub.add_parser("tools", help="data manipulation, sampling finder, datalogger generator",
                        description=TOOLS_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    tsub = tl.add_subparsers(dest="tool", parser_class=_Parser, metavar="TOOL")

    r = tsub.add_parser(
        "reshape", help="cut continuous recordings into a project signal file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  neai tools reshape itsc/SC_HLT --buffer 128 --hop 64 --rate 1000 --out healthy.csv\n"
               "  neai tools reshape skab/valve1 --columns 'Volume Flow RateRMS' --where anomaly=1 --buffer 64 "
               "--out abnormal.csv",
        description="Cut continuous recordings (one sample per line) into a Studio-format signal file: one "
                    "buffer per line, axes interleaved x0 y0 z0 x1 y1 z1 ..., single spaces, no header. Each "
                    "input file is a separate recording: no buffer spans two files (nor two stretches of rows "
                    "kept by --where).")
    r.add_argument("inputs", nargs="+", metavar="RECORDING",
                   help="recording files, folders (their .csv/.txt/.tsv/.dat files) or patterns")
    r.add_argument("--out", "-o", required=True, type=Path, metavar="FILE", help="the signal file to write")
    _add_recording_options(r)
    r.add_argument("--buffer", type=_power_of_two, metavar="N",
                   help="samples per axis in one line (a power of two), e.g. --buffer 256")
    r.add_argument("--hop", type=int, metavar="N",
                   help="samples between the starts of two buffers (default: the buffer size, no overlap; "
                        "half of it: 50%% overlap)")
    r.add_argument("--decimate", type=int, default=1, metavar="Q",
                   help="keep one sample in Q after an anti-alias low-pass filter (default 1)")
    r.add_argument("--where", metavar="COLUMN=VALUE",
                   help="keep only the rows whose label column holds VALUE (e.g. anomaly=0)")
    r.add_argument("--target", metavar="COLUMN",
                   help="extrapolation: start each line with the mean of this column over the buffer")
    r.add_argument("--multisensor", action="store_true",
                   help="write one sample per line (Multi-sensor projects) instead of buffers")
    r.add_argument("--rate", type=float, metavar="HZ", help="the recordings' sampling rate (for the report)")
    r.add_argument("--force", action="store_true", help="replace FILE if it exists")
    r.add_argument("--json", action="store_true", help="print the report as JSON")

    s = tsub.add_parser(
        "sampling", help="recommend a sampling rate and buffer size",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  neai tools sampling itsc/SC_HLT itsc/SC_A1_B0_C0 --rate 1000",
        description="Measure, for each sampling rate (the base rate divided by 1, 2, 4, ...) and buffer size "
                    "(powers of two), how much of the signal's power survives the anti-alias filter and, with "
                    "several states, how well a simple classifier tells the states apart (cross-validated on "
                    "held-out stretches of time); print the ranked candidates and one recommendation.")
    s.add_argument("inputs", nargs="+", metavar="STATE",
                   help="one per machine state: a recording, a folder of recordings, or NAME=PATH; with "
                        "--state-column, recordings whose rows hold every state")
    s.add_argument("--rate", type=float, required=True, metavar="HZ", help="the recordings' sampling rate")
    _add_recording_options(s)
    s.add_argument("--state-column", metavar="COLUMN",
                   help="the states are the values of this label column (e.g. anomaly)")
    s.add_argument("--max-decimation", type=int, default=32, metavar="D", help="largest rate divisor (default 32)")
    s.add_argument("--min-buffer", type=int, default=16, metavar="N", help="smallest buffer size (default 16)")
    s.add_argument("--max-buffer", type=int, default=2048, metavar="N", help="largest buffer size (default 2048)")
    s.add_argument("--tolerance", type=float, default=0.02,
                   help="accuracy within this of the best counts as as good (default 0.02)")
    s.add_argument("--min-energy", type=float, default=0.95,
                   help="share of the signal power a rate must keep (default 0.95)")
    s.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the cross-validation's draws (default 0), e.g. --seed 3")
    s.add_argument("--all", action="store_true", help="list every candidate, not the first 12")
    s.add_argument("--json", action="store_true", help="print the report as JSON")

    d = tsub.add_parser(
        "datalogger", help="generate firmware that logs buffers over a serial port",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  neai tools datalogger logger/ --axes 3 --rate 1000 --buffer 256 --board arduino",
        description="Generate a datalogger: firmware that samples N axes at a rate into buffers and prints "
                    "each buffer as one line in the Studio's format over a serial port. generic: a C99 main.c "
                    "for any Cortex-M project (fill in the board hooks); arduino: FOLDER/FOLDER.ino.")
    d.add_argument("folder", type=Path, metavar="FOLDER", help="where to write the source (created if needed)")
    d.add_argument("--board", default="generic", choices=["generic", "arduino"],
                   help="generic: a C99 main.c for any Cortex-M; arduino: a sketch (default generic)")
    d.add_argument("--axes", type=int, required=True, metavar="N", help="sensor axes per sample, e.g. --axes 3")
    d.add_argument("--rate", type=float, required=True, metavar="HZ", help="sampling rate, e.g. --rate 1000")
    d.add_argument("--buffer", type=int, required=True, metavar="N", help="samples per axis in one line")
    d.add_argument("--baud", type=int, default=115200, metavar="N", help="serial baud rate (default 115200)")
    d.add_argument("--decimals", type=int, default=6, help="digits after the decimal point (default 6)")
    d.add_argument("--force", action="store_true", help="replace the file if it exists")
    d.add_argument("--json", action="store_true", help="print what was written as JSON")


DATA_DESCRIPTION = """\
Data manipulation on signal files (one buffer per line, as a project imports them).
Each action reads its input with the same checks as `neai import` and writes a NEW
file: never the input, never an existing file without --force. Chain actions by
giving one's --out as the next one's input; --import DIR adds the result to a project.

  extract         keep lines: ranges, every k-th, N random ones (seeded)
  shuffle         the same lines in a seeded random order
  recut           change the buffer size (values per line), axis-aware, with or without overlap
  remove-columns  drop value columns (ranges) or whole axes
  concat          join files with the same values per line
  preview         what a file holds: shape, per-axis statistics, first lines

examples:
  neai data recut fan.csv --axes 3 --buffer 64 --out fan64.csv          # 3 x 256 -> 4 lines of 3 x 64
  neai data recut long.csv --buffer 1024 --hop 512 --out cut.csv        # 1 x 4096 -> 7 x 1024, 50 % overlap
  neai data extract fan64.csv --every 2 --out half.csv --import fan --role nominal
  neai data extract all.csv --random 200 --seed 7 --out some.csv
  neai data remove-columns fan.csv --axes 3 --remove-axes 3 --out xy.csv
  neai data concat day1.csv day2.csv --out both.csv
  neai data preview fan.csv --axes 3
"""


def _add_data(sub) -> None:
    dp = sub.add_parser("data", help="extract, shuffle, re-cut, remove columns, concatenate, preview signal files",
                        description=DATA_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    dsub = dp.add_subparsers(dest="action", parser_class=_Parser, metavar="ACTION")

    def action(name: str, help_text: str, description: str, *examples: str, many: bool = False,
               writes: bool = True):
        a = _command(dsub, name, help_text, *examples, description=description)
        a.add_argument("inputs", nargs="+" if many else 1, type=Path, metavar="FILE",
                       help="signal files, in order (e.g. day1.csv day2.csv)" if many else
                       "the signal file to read (e.g. sample_data/fan/nominal.csv); it is never modified")
        if writes:
            a.add_argument("--out", "-o", required=True, type=Path, metavar="FILE",
                           help="the new file to write (e.g. --out cut.csv)")
            a.add_argument("--force", action="store_true",
                           help="replace --out if it exists (never an input), e.g. when re-running a script")
        a.add_argument("--axes", type=int, default=1, metavar="N",
                       help="axes per sample in the file (default 1; e.g. --axes 3 for x y z interleaved)")
        a.add_argument("--layout", default="buffers", choices=["buffers", "target-first", "multisensor"],
                       help="buffers: one buffer per line (default); target-first: extrapolation lines (the "
                            "target, then the buffer); multisensor: one sample per line (e.g. --layout multisensor)")
        a.add_argument("--sep", default="auto", choices=SEP_CHOICES,
                       help="the input's separator (default: detected; e.g. --sep comma)")
        if writes:
            a.add_argument("--import", dest="import_dir", metavar="PROJECT",
                           help="import the result into this project (a workspace name or a folder), "
                                "e.g. --import fan")
            a.add_argument("--role", choices=["nominal", "abnormal"],
                           help="with --import into an anomaly project: the signals' role (e.g. --role nominal)")
            a.add_argument("--class", dest="class_name", metavar="NAME",
                           help="with --import into an n-class project: the class (default: the file's name)")
        a.add_argument("--json", action="store_true", help="print one JSON document (e.g. for scripts)")
        return a

    e = action("extract", "keep some lines: ranges, every k-th, N random ones",
               "Keep the lines given by --lines, then every k-th of those, then N random ones of those (the "
               "selections combine in that order; the kept lines stay in file order).",
               "neai data extract nominal.csv --lines 1-100 --out first100.csv",
               "neai data extract nominal.csv --every 4 --random 50 --seed 7 --out subset.csv")
    e.add_argument("--lines", metavar="RANGES", help="1-based line numbers and ranges, e.g. --lines 1-100,250-")
    e.add_argument("--every", type=int, metavar="K", help="keep one line in K, e.g. --every 4")
    e.add_argument("--start", type=int, default=1, metavar="I",
                   help="with --every: the first line kept (default 1), e.g. --start 2")
    e.add_argument("--random", type=int, metavar="N", help="keep N random lines, e.g. --random 200 --seed 7")
    e.add_argument("--seed", type=int, default=0, help="seed of --random (default 0; the same seed, the same lines)")

    s = action("shuffle", "the same lines in a seeded random order",
               "Write the lines in a random order drawn from --seed (the same seed gives the same order).",
               "neai data shuffle nominal.csv --seed 42 --out shuffled.csv")
    s.add_argument("--seed", type=int, default=0, help="the random seed (default 0), e.g. --seed 42")

    r = action("recut", "change the buffer size (values per line), axis-aware",
               "Cut every line's samples again into buffers of --buffer samples per axis (axes stay interleaved), "
               "starting every --hop samples: 1 x 4096 gives 4 x 1024, or 7 x 1024 with --hop 512. Without "
               "--continuous no buffer spans two lines; with it the lines are taken as one recording (lines that "
               "overlap are put back together first), so longer buffers can be made too. A Multi-sensor file "
               "(one sample per line) is always one recording.",
               "neai data recut long.csv --axes 3 --buffer 1024 --out cut.csv",
               "neai data recut long.csv --buffer 1024 --hop 512 --out overlapped.csv")
    r.add_argument("--buffer", type=int, required=True, metavar="N",
                   help="samples per axis in a new line, e.g. --buffer 1024")
    r.add_argument("--hop", type=int, metavar="H",
                   help="samples between the starts of two buffers (default: the buffer, no overlap; e.g. --hop 512 "
                        "for 50%% overlap)")
    r.add_argument("--continuous", action="store_true",
                   help="the lines follow each other in time: buffers may span lines (e.g. 4 x 1024 -> 1 x 4096)")

    c = action("remove-columns", "drop value columns (ranges) or whole axes",
               "Drop value columns by their 1-based position on the line (an extrapolation line's target is "
               "column 1), or whole axes of every sample.",
               "neai data remove-columns nominal.csv --columns 1-3 --out trimmed.csv",
               "neai data remove-columns xyz.csv --axes 3 --remove-axes 3 --out xy.csv")
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--columns", metavar="RANGES", help="1-based columns to drop, e.g. --columns 1-3,10")
    g.add_argument("--remove-axes", metavar="AXES", help="1-based axes to drop, e.g. --axes 3 --remove-axes 3")

    action("concat", "join files with the same values per line",
           "Write the files' lines one after the other, in the order given.",
           "neai data concat day1.csv day2.csv --out both.csv", many=True)

    pv = action("preview", "what a signal file holds", "Print the file's shape, per-axis statistics and first "
                "lines (read with the import checks; nothing is written).",
                "neai data preview sample_data/fan/nominal.csv --axes 3", writes=False)
    pv.add_argument("--lines", type=int, default=5, metavar="N", help="lines to show (default 5), e.g. --lines 10")


# --------------------------------------------------------------------- commands
def _open(spec):
    """The project PROJECT names: a workspace project's name or a folder path
    (engine/addressing.py; every command that takes PROJECT uses this)."""
    from .engine.addressing import open_project

    return open_project(spec)


def cmd_new(args) -> int:
    from .engine.addressing import looks_like_path, new_project_dir
    from .engine.project import Project, ProjectSettings

    from .engine.targets import default_limits, resolve_target

    folder = new_project_dir(args.dir)
    axes = args.axes if args.axes is not None else args.variables
    ram, flash = default_limits(resolve_target(args.target))
    defaulted = [what for what, given, value in (("RAM", args.max_ram, ram), ("flash", args.max_flash, flash))
                 if given is None and value]
    settings = ProjectSettings(
        name=args.name or (folder.name if looks_like_path(args.dir) else str(args.dir).strip()),
        type=args.type,
        axes=axes,
        multisensor=args.variables is not None,
        description=args.description,
        max_ram_kb=args.max_ram if args.max_ram is not None else ram,
        max_flash_kb=args.max_flash if args.max_flash is not None else flash,
        target=args.target,
        max_time_ms=args.max_time,
    )
    project = Project.create(folder, settings)
    print(f"created {settings.type} project '{settings.name}' in {project.path}")
    if defaulted:
        print(f"limits: RAM {settings.max_ram_kb:g} KB, flash {settings.max_flash_kb:g} KB" if len(defaulted) == 2 else
              f"limit: {defaulted[0]} {settings.max_ram_kb if defaulted[0] == 'RAM' else settings.max_flash_kb:g} KB",
              f"(half of {resolve_target(args.target).name}'s {' and '.join(defaulted)}; --max-ram/--max-flash set "
              "them)")
    return EXIT_OK


def _settings_doc(project) -> dict:
    from dataclasses import asdict

    return {"project": str(project.path), "settings": asdict(project.settings)}


def _print_settings(project) -> None:
    from .engine.limits import kb

    s = project.settings
    rate = (s.frequency_filter or {}).get("sampling_rate_hz")
    print(f"{s.name}  ({s.type}{', Multi-sensor' if s.multisensor else ''}, "
          f"{s.axes} {'variables' if s.multisensor else 'axes'})  {project.path}")
    if s.description:
        print(f"  description  {s.description}")
    print(f"  max RAM      {kb(s.max_ram_kb * 1024) if s.max_ram_kb else 'no limit'}")
    print(f"  max flash    {kb(s.max_flash_kb * 1024) if s.max_flash_kb else 'no limit'}")
    print(f"  max time     {f'{s.max_time_ms:g} ms per inference' if s.max_time_ms else 'no limit'}")
    print(f"  target       {s.target}")
    print(f"  rate         {f'{rate:g} Hz' if rate else 'not set'}")


def cmd_set(args) -> int:
    """neai set PROJECT [--name] [--description] [--max-ram] [--max-flash] [--max-time] [--target] [--rate]."""
    from .engine.limits import libraries_over_limits

    project = _open(args.dir)
    # The options default to SUPPRESS: only those typed are in `args`.
    given = {name: getattr(args, name)
             for name in ("name", "description", "max_ram", "max_flash", "max_time", "target", "rate")
             if hasattr(args, name)}
    changes: dict = {}
    for name in ("name", "description", "target"):
        if name in given:
            changes[name] = given[name]
    if "max_ram" in given:
        changes["max_ram_kb"] = given["max_ram"]
    if "max_flash" in given:
        changes["max_flash_kb"] = given["max_flash"]
    if "max_time" in given:
        changes["max_time_ms"] = given["max_time"]
    if "rate" in given:
        current = dict(project.settings.frequency_filter or {})
        if given["rate"] is None and (current.get("low_hz") is not None or current.get("high_hz") is not None):
            raise UsageError("the frequency filter's cut-offs need the sampling rate",
                             "Clear the filter first (`neai filter PROJECT --clear`), or give a rate.")
        current["sampling_rate_hz"] = given["rate"]
        changes["frequency_filter"] = current if given["rate"] is not None else None
    with _project_lock(project):
        if changes:
            project.update_settings(**changes)
    if args.json:
        print(json.dumps(_settings_doc(project)))
    else:
        if changes:
            print(f"changed {', '.join(sorted(given))} of '{project.settings.name}'")
        _print_settings(project)
    if "max_ram_kb" in changes or "max_flash_kb" in changes or "target" in changes:
        for lib, reasons in libraries_over_limits(project):
            print(f"warning: the chosen library {lib['id']} no longer fits: {'; '.join(reasons)}. "
                  "`neai deploy` refuses it unless --force; `neai libs` lists the others, `neai bench --new` "
                  "searches under the new limits.", file=sys.stderr)
    return EXIT_OK


def _project_lock(project):
    """The project's write lock when the engine has one (issue 14), else nothing."""
    import contextlib

    try:
        from .engine.project import project_lock  # type: ignore[attr-defined]
    except ImportError:
        return contextlib.nullcontext()
    return project_lock(project)


def cmd_remove(args) -> int:
    project = _open(args.dir)
    wanted = args.signal.strip()
    entry = next((s for s in project.signals
                  if wanted in (s.id, Path(s.file).name, s.file)), None)
    if entry is None:
        ids = ", ".join(f"{s.id} ({Path(s.file).name})" for s in project.signals) or "none"
        raise UsageError(f"no signal '{wanted}' in project '{project.settings.name}'",
                         f"Its signals: {ids}. Give an id such as s1.")
    with _project_lock(project):
        project.remove_signal(entry.id)
    if args.json:
        print(json.dumps({"removed": {"id": entry.id, "file": entry.file, "label": entry.label()}}))
    else:
        print(f"removed {entry.id} ({Path(entry.file).name}, {entry.label()}) from '{project.settings.name}'; "
              f"your original {entry.original} is untouched")
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
    problems = project.check(optional=args.optional, limits=True)
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
    width = _progress_width()

    def progress(ev) -> None:
        now = time.monotonic()
        if not ev.new_best and ev.message.startswith("generation") and now - last[0] < 2.0:
            return
        last[0] = now
        print(bench_progress_line(ev, width), file=sys.stderr, flush=True)

    from .engine.search import selected_library_id

    chosen = selected_library_id(project) if args.new else None
    cancel = threading.Event()
    try:
        result = run_benchmark(
            project, time_limit=args.time, max_evals=args.evals, cores=args.cores, seed=args.seed,
            new=args.new, progress=None if args.quiet else progress, cancel=cancel, scheduler=args.scheduler,
            keep_selection=args.keep_selection, files=args.files,
        )
    except KeyboardInterrupt:
        cancel.set()
        print("interrupted: the best library so far is kept; `neai bench DIR` resumes", file=sys.stderr)
        return 130
    best = result.best
    if chosen and not args.keep_selection and not args.quiet:
        print(f"note: {chosen} is no longer the chosen library: the new benchmark's best is deployed by default "
              "(--keep-selection keeps it)", file=sys.stderr)
    from .engine.search import describe_excluded

    used = _benchmark_files(project, result.benchmark)

    excluded = describe_excluded(result.excluded, project.settings)
    if args.json:
        doc = {"benchmark": result.benchmark, "status": result.status, "evals": result.evals_done,
               "elapsed_s": result.elapsed_s, "best": None, "excluded": result.excluded,
               **used}
        if result.note:
            doc["note"] = result.note
        if best:
            doc["best"] = {
                "id": best["id"], "score": best["score"], "metrics": best["metrics"],
                "ram_bytes": best["ram_bytes"], "flash_bytes": best["flash_bytes"],
                "instructions": best.get("instructions"),
                "pipeline": best["pipeline_text"], "min_learning_iterations": best.get("min_learning_iterations"),
            }
        print(json.dumps(doc))
        if not best:
            print(f"neai: benchmark {result.benchmark} found no library" + (f": {excluded}" if excluded else ""),
                  file=sys.stderr)
            return EXIT_USAGE
    elif best:
        print(f"benchmark {result.benchmark} ({result.status}, {result.evals_done} evaluations, {result.elapsed_s:.0f} s)")
        if used.get("restricted"):
            print(f"  files: {', '.join(used['files'])}")
        print(f"best library {best['id']}: score {best['score']:.2f}")
        print(f"  {best['pipeline_text']}")
        print(f"  {_fmt_metrics(best['metrics'])}")
        cost = f", ~{best['instructions']} instructions per inference" if "instructions" in best else ""
        print(f"  RAM ~{best['ram_bytes']} B, flash ~{best['flash_bytes']} B{cost} (estimates; `neai deploy` measures)")
        if best.get("min_learning_iterations") is not None:  # anomaly detection learns on the device
            print(f"  learn at least {best['min_learning_iterations']} times on the device")
        if excluded:
            print(f"  {excluded}")
        print(f"next: neai deploy {args.dir}")
    else:
        reason = excluded or "every candidate evaluated so far was invalid on this data"
        print(f"neai: benchmark {result.benchmark} found no library ({result.evals_done} evaluations): {reason}.",
              file=sys.stderr)
        if result.excluded:
            longer = ("Run it longer (`neai bench PROJECT` resumes it) to reach the candidates that fit, or raise "
                      if (result.excluded.get("space_fit") or {}).get("fit") else "Raise ")
            print(f"{longer}the limits (`neai set PROJECT --max-ram KB --max-flash KB`), then "
                  "`neai bench PROJECT --new`.", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _progress_width() -> int:
    """Progress lines fit the terminal (80 columns when it is not one)."""
    import shutil

    return max(40, min(shutil.get_terminal_size((80, 24)).columns, 200)) if sys.stderr.isatty() else 80


def bench_progress_line(ev, width: int = 80) -> str:
    """A progress line of at most `width` columns: time, evaluations, rate, best, then the message
    (on indented continuation lines when it is longer)."""
    best = f"best {ev.best_score:.2f}" if ev.best_score is not None else "no library yet"
    head = f"[{ev.elapsed_s:6.0f}s] {ev.evals_done:6d} evals {ev.evals_per_s:6.0f}/s x{ev.workers} {best}"
    if not ev.message:
        return head
    import textwrap

    # Wrapped, never cut: a long message (a new best's pipeline) goes on indented lines.
    one_line = f"{head}  {ev.message}"
    if len(one_line) <= width:
        return one_line
    return "\n".join([head, *textwrap.wrap(ev.message, width=width, initial_indent="  ", subsequent_indent="    ",
                                            break_on_hyphens=False)])


def _fmt_cost(lib: dict) -> str:
    """The search's estimate of a library's instructions (and time) per inference, or nothing."""
    if "instructions" not in lib:
        return ""
    time = f" {lib['time_ms']:.2f} ms" if lib.get("time_ms") is not None else ""
    return f"~{lib['instructions'] / 1000:.0f}k instr{time} ({lib['core']})  "


def cmd_libs(args) -> int:
    from .engine.search import list_libraries

    libs = list_libraries(_open(args.dir))
    if args.json:
        print(json.dumps({"libraries": libs}))
        return EXIT_OK
    if not libs:
        print("no library yet: run `neai bench DIR`")
    else:
        print("* selected for deployment, p on the Pareto front (score / RAM / flash / instructions), ! computed on other data")
    stale_noted: set[str] = set()
    for lib in libs:
        if lib.get("other_data") and lib["benchmark"] not in stale_noted:
            stale_noted.add(lib["benchmark"])
            print(f"! benchmark {lib['benchmark']} ran on other data ({lib['other_data_reason']}): its scores "
                  "(marked !) do not describe the project now; `neai bench DIR` ranks on the current data")
        mark = ("*" if lib["selected"] else " ") + ("p" if lib.get("pareto") else " ") + ("!" if lib.get("other_data") else " ")
        print(
            f"{mark} {lib['id']:<12} score {lib['score']:6.2f}  RAM {lib['ram_bytes']:6d} B  flash {lib['flash_bytes']:6d} B  "
            f"{_fmt_cost(lib)}{_fmt_metrics(lib['metrics'])}\n    {lib['pipeline']}"
        )
    return EXIT_OK


def cmd_deploy(args) -> int:
    from .engine.deploy import deploy

    project = _open(args.dir)
    width = _progress_width()
    result = deploy(
        project, lib_id=args.lib_id, target=args.target, suffix=args.suffix, out=args.out, optimize=args.optimize,
        float_abi=args.float_abi, sections=args.sections, extra_flags=args.cflags,
        progress=None if args.quiet else (lambda msg: print(_fit(str(msg), width), file=sys.stderr, flush=True)),
        force=args.force,
    )
    meta = result.metadata
    if args.force:
        from .engine.limits import over_limits

        measured = meta.get("measured") or {}
        over = over_limits(measured.get("ram_bytes"), measured.get("flash_bytes"), project.settings, args.target)
        if over:
            print(f"warning: built over the limits (--force): {'; '.join(over)}", file=sys.stderr)
    if args.json:
        print(json.dumps({"zip": str(result.zip_path), "metadata": meta}))
        return EXIT_OK
    m = meta["measured"]
    print(f"{result.zip_path}")
    print(f"  library {meta['library_id']} for {meta['target']} ({meta['core']}, {meta['float_abi']} float,"
          f" optimised for {meta['optimize']}: {meta['optimize_flag']})")
    print(f"  {meta['pipeline']}")
    print(f"  flash {m['flash_bytes']} B, RAM {m['ram_bytes']} B (static {m['static_ram_bytes']} + stack {m['stack_bytes']}),"
          f" {m['instructions_per_detect']} instructions per {'detect()' if meta['type'] == 'anomaly' else 'inference'}")
    timing = meta.get("timing")
    if timing:
        estimate = (f" (estimated {timing['estimated_instructions']} instructions, {timing['estimated_ms']:.2f} ms)"
                    if "estimated_instructions" in timing else "")
        print(f"  {timing['ms_per_inference']:.2f} ms per inference at {timing['clock_mhz']:g} MHz "
              f"({timing['cycles_per_inference']} cycles){estimate}")
    print(f"  Cortex-M build = host build on {m['lines_compared']} lines (emulated core)")
    build = meta.get("build") or {}
    extra = " ".join(build.get("extra_flags") or [])
    print(f"  built with {' '.join(meta.get('flags') or [])} {meta['optimize_flag']}"
          + ("" if build.get("sections", True) else " without -ffunction-sections -fdata-sections")
          + (f" {extra}" if extra else ""))
    info = meta.get("target_info") or {}
    if info.get("ram_kb") or info.get("flash_kb"):
        shares = [f"{100 * info[k + '_share']:.1f} % of its {info[k + '_kb']} KB {k}"
                  for k in ("flash", "ram") if info.get(k + "_share") is not None]
        print(f"  {info['name']}: " + ", ".join(shares).replace("ram", "RAM"))
    return EXIT_OK


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


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
        print(emulate_summary(doc))
    return EXIT_OK


def emulate_summary(doc: dict) -> str:
    """The last line of `neai emulate`: what the lines came to, by library type."""
    results = doc.get("results", [])
    n = len(results)
    learned = f"learned {doc['learned']}, " if "learned" in doc else ""
    if not results:
        return f"summary: {learned}no line run"
    if "similarity" in results[0]:
        sims = [r["similarity"] for r in results]
        normal = sum(s >= 90 for s in sims)
        return (f"summary: {learned}{n} lines, mean similarity {sum(sims) / n:.1f}, {normal} ≥ 90 (normal), "
                f"{n - normal} < 90 (anomaly)")
    if "outlier" in results[0]:
        out = sum(bool(r["outlier"]) for r in results)
        return f"summary: {n} lines, {out} outlier(s), {n - out} normal"
    if "class" in results[0]:
        counts: dict[str, int] = {}
        for r in results:
            counts[str(r["class"])] = counts.get(str(r["class"]), 0) + 1
        return f"summary: {n} lines: " + ", ".join(f"{name} {count}" for name, count in counts.items())
    values = [r["value"] for r in results if r.get("value") is not None]
    if not values:
        return f"summary: {n} lines, no value"
    return (f"summary: {n} lines, values {min(values):.4g} to {max(values):.4g}, mean {sum(values) / len(values):.4g}")


def cmd_targets(args) -> int:
    from .engine.targets import search_targets, sources
    from .engine.user_config import favourite_targets, set_favourite_target

    if args.favourite or args.unfavourite:
        favourites = set_favourite_target(args.favourite or args.unfavourite, favourite=bool(args.favourite))
        if not args.json:
            print(f"favourites: {', '.join(favourites) if favourites else 'none'}")
            return EXIT_OK
    favourites = favourite_targets()
    items = search_targets(args.search or "", kind=args.kind, favourites=favourites)
    liked = set(favourites)
    if args.favourites:
        items = [t for t in items if t.name in liked]
    if args.json:
        print(json.dumps({"targets": [{**t.to_json(), "favourite": t.name in liked} for t in items],
                          "sources": sources(), "favourites": favourites}))
        return EXIT_OK
    if not items:
        print("no target matches" + (f" '{args.search}'" if args.search else ""), file=sys.stderr)
        return EXIT_OK
    titles = {"board": "Boards", "mcu": "MCUs", "core": "Cores"}
    for kind in ("board", "mcu", "core"):
        group = [t for t in items if t.kind == kind]
        if not group:
            continue
        print(f"{titles[kind]} ({len(group)})")
        for t in group:
            mark = "*" if t.name in liked else " "
            flash = f"{t.flash_kb:>6} KB" if t.flash_kb else ("  ext. " if kind != "core" else "")
            ram = f"{t.ram_kb:>6} KB RAM" if t.ram_kb else ""
            clock = f"{t.clock_mhz:>5} MHz" if t.clock_mhz else ""
            mcu = t.mcu if kind == "board" else t.vendor
            print(f"{mark} {t.name:<34} {mcu:<18.18} {t.core:<14} {flash:>9} {ram:>13} {clock}".rstrip())
    print("* favourite (`neai targets --favourite NAME`); sizes in KiB; clock: the maximum")
    return EXIT_OK


def _print_warnings(problems) -> None:
    for p in problems:
        print(f"warning: {p.text()}", file=sys.stderr)


def cmd_tools(args) -> int:
    if args.tool == "reshape":
        from .engine.tools.reshape import ReshapeOptions, describe, reshape

        options = ReshapeOptions(
            columns=args.columns, sep=args.sep, header=args.header, buffer=args.buffer, hop=args.hop,
            decimate=args.decimate, where=args.where, target=args.target,
            layout="multisensor" if args.multisensor else "buffers", rate_hz=args.rate,
        )
        result = reshape(args.inputs, args.out, options, force=args.force)
        if args.json:
            print(json.dumps(result.to_json()))
        else:
            print("\n".join(describe(result)))
        _print_warnings(result.warnings)
        return EXIT_OK
    if args.tool == "sampling":
        from .engine.tools.sampling import describe, find_sampling, load_states

        states = load_states(args.inputs, columns=args.columns, sep=args.sep, header=args.header,
                             state_column=args.state_column)
        report = find_sampling(
            states, args.rate, max_decimation=args.max_decimation, min_buffer=args.min_buffer,
            max_buffer=args.max_buffer, tolerance=args.tolerance, min_energy=args.min_energy, seed=args.seed,
        )
        if args.json:
            print(json.dumps(report.to_json()))
        else:
            print("\n".join(describe(report, limit=None if args.all else 12)))
        return EXIT_OK
    if args.tool == "datalogger":
        from .engine.tools.datalogger import DataloggerOptions, describe, generate_datalogger

        options = DataloggerOptions(axes=args.axes, rate_hz=args.rate, buffer=args.buffer, board=args.board,
                                    baud=args.baud, decimals=args.decimals)
        result = generate_datalogger(args.folder, options, force=args.force)
        if args.json:
            print(json.dumps(result.to_json()))
        else:
            print("\n".join(describe(result)))
        return EXIT_OK
    raise UsageError("choose a tool: reshape, sampling or datalogger",
                     "Run `neai tools --help` for what each does, `neai tools TOOL --help` for its options.")


def cmd_data(args) -> int:
    from .engine.tools import data_ops

    if not getattr(args, "action", None):
        raise UsageError("choose an action: " + ", ".join(data_ops.ACTIONS),
                         "Run `neai data --help` for what each does, `neai data ACTION --help` for its options.")
    options = {k: getattr(args, k, None) for k in (
        "axes", "sep", "layout", "every", "start", "random", "seed", "buffer", "hop", "continuous", "columns",
        "remove_axes")}
    if args.action == "extract":
        options["lines"] = args.lines
    elif args.action == "preview":
        options["lines"] = args.lines
    if args.action != "extract":
        options.pop("start", None)
    project = None
    if getattr(args, "import_dir", None) is not None:  # before writing anything: a wrong project stops here
        project = _open(args.import_dir)
        if project.settings.type == "anomaly" and args.role is None:
            raise UsageError("importing into an anomaly detection project needs --role nominal or --role abnormal",
                             "Add --role.")
    elif getattr(args, "role", None) or getattr(args, "class_name", None):
        raise UsageError("--role and --class go with --import PROJECT", "Add --import DIR, or drop them.")
    result = data_ops.run_action(args.action, args.inputs, getattr(args, "out", None), options,
                                 force=getattr(args, "force", False))
    if args.action == "preview":
        print(json.dumps(result.to_json()) if args.json else "\n".join(data_ops.describe_preview(result)))
        _print_warnings(result.warnings)
        return EXIT_OK
    entry = None
    if project is not None:
        entry = project.import_signal(result.out, role=args.role, class_name=args.class_name, sep="space")
    if args.json:
        doc = result.to_json()
        doc["imported"] = {"project": str(args.import_dir), "id": entry.id, "file": entry.file} if entry else None
        print(json.dumps(doc))
    else:
        print("\n".join(data_ops.describe(result)))
        if entry is not None:
            print(f"imported into {args.import_dir} as {entry.id} ({entry.label()})")
    _print_warnings(result.warnings)
    return EXIT_OK


def cmd_tui(args, project_dir: Path | None) -> int:
    from .app import run_app

    return run_app(workspace=args.workspace, project=project_dir) or EXIT_OK


def cmd_filter(args) -> int:
    from .engine.filtering import design

    project = _open(args.dir)
    if args.clear and any(v is not None for v in (args.rate, args.low, args.high)):
        raise UsageError("--clear takes no --rate, --low or --high", "Give either --clear or the settings.")
    if args.clear:
        project.update_settings(frequency_filter=None)
    elif any(v is not None for v in (args.rate, args.low, args.high)):
        current = dict(project.settings.frequency_filter or {})
        for key, value in (("sampling_rate_hz", args.rate), ("low_hz", args.low), ("high_hz", args.high)):
            if value is not None:
                current[key] = value
        project.update_settings(frequency_filter=current)
    settings = project.settings.frequency_filter
    d = design(settings)
    if args.json:
        print(json.dumps({"frequency_filter": settings, "filters": d is not None,
                          "description": d.describe() if d else None}))
    elif d is not None:
        print(f"{project.settings.name}: {d.describe()} at {settings['sampling_rate_hz']:g} Hz "
              f"(2nd-order Butterworth per cut-off); benchmarks started from now on use it")
    elif settings and settings.get("sampling_rate_hz"):
        print(f"{project.settings.name}: sampling rate {settings['sampling_rate_hz']:g} Hz, no filter")
    else:
        print(f"{project.settings.name}: no frequency filter")
    return EXIT_OK


def cmd_archive(args) -> int:
    from .engine.addressing import project_dir
    from .engine.project import Workspace
    from .engine.workspace_ops import export_project, import_project_archive

    if args.archive_action == "export":
        written = export_project(project_dir(args.project), args.out)
        print(json.dumps({"archive": str(written)}) if args.json else f"wrote {written}")
        return EXIT_OK
    if args.archive_action == "import":
        project = import_project_archive(Workspace(), args.archive, name=args.name)
        if args.json:
            print(json.dumps({"project": project.settings.name, "path": str(project.path)}))
        else:
            print(f"imported '{project.settings.name}' into {project.path}")
        return EXIT_OK
    raise UsageError("choose export or import", "Run `neai archive --help` for examples.")


def cmd_capture(args) -> int:
    from .engine.serial_capture import capture, capture_and_import

    if args.lines is not None and args.lines < 1:
        raise UsageError("--lines must be 1 or more", "Leave it out to capture until you stop it.")
    if args.max_line_bytes < 16:
        raise UsageError("--max-line-bytes must be 16 or more", "The default (524288) holds any Studio line.")
    if args.out is not None and (args.role or args.class_name or args.couple != 1):
        raise UsageError("--role, --class and --couple go with --import PROJECT", "Drop them, or use --import.")
    last = [0.0]

    def progress(p) -> None:
        now = time.monotonic()
        if now - last[0] >= 2.0 and not args.json:
            last[0] = now
            dropped = f", {p.dropped} dropped" if p.dropped else ""
            print(f"[{p.elapsed_s:6.1f}s] {p.lines} line(s){dropped}", file=sys.stderr, flush=True)

    options = dict(baud=args.baud, max_lines=args.lines, idle_timeout=args.idle, max_line_bytes=args.max_line_bytes,
                   progress=progress)
    entry = None
    if args.import_project:
        project = _open(args.import_project)
        result, entry = capture_and_import(project, args.port, role=args.role, class_name=args.class_name,
                                           couple=args.couple, **options)
    else:
        result = capture(args.port, args.out, force=args.force, **options)
    if args.json:
        print(json.dumps({"file": str(result.path), "lines": result.lines, "dropped": result.dropped,
                          "values_per_line": result.values_per_line, "reason": result.reason,
                          "complete": result.complete, "message": result.message or None,
                          "signal": entry.id if entry else None}))
    else:
        print(f"{result.lines} line(s) of {result.values_per_line} values in {result.path}"
              + (f" ({result.dropped} dropped)" if result.dropped else "")
              + (f"; imported as {entry.id} ({entry.label()})" if entry else ""))
    if not result.complete:
        print(f"neai: {result.message}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_demo(args) -> int:
    from .engine.demo import ensure_demo_project

    project = ensure_demo_project(args.workspace)
    return cmd_tui(args, project.path)


# ------------------------------------------------ validation, experiments, history, report
VALIDATE_DESCRIPTION = """\
Run libraries on new signal files (or lines read live from a serial port) and keep the
run as an experiment of the project (`neai experiments PROJECT` lists them). Each library
runs through its host build, the same C as the deployed library; a benchmark candidate
without a zip is built first, as `neai deploy PROJECT --lib ID` would.

Expected answers, after the last colon of each --test:
  anomaly        FILE:nominal or FILE:abnormal (the libraries learn the --learn files first)
  1-class        FILE:normal or FILE:outlier
  n-class        FILE:CLASS (a class name of the project)
  extrapolation  FILE alone: each line starts with the true target value, then the buffer

examples:
  neai validate fan --lib b1-c42 b2-c7 --learn new_nominal.csv --test held_out.csv:nominal faults.csv:abnormal
  neai validate fan --lib deploy/b1-c42_cortex-m4f.zip --learn nominal.csv@1-200 --test nominal.csv@201-:nominal
  neai validate motor --lib b1-c3 --test test/healthy.csv:SC_HLT test/phase_a.csv:SC_A1_B0_C0 --json
  neai validate fan --lib b1-c42 --learn nominal.csv --test-port /dev/ttyACM0:abnormal --port-lines 200
"""

REPORT_DESCRIPTION = """\
Write a library's report: the project and its data, the benchmark's figures (worst split,
mean, 95 % interval), the pipeline's flowchart, the figures measured on the target core,
the results of the library's type (ROC and AUC, confusion matrix, predicted vs true,
learning curve) on the benchmark's held-out lines or on an experiment's files, and a
nested cross-validation of the benchmark's choice (how optimistic its figure is).

The format follows the extension: .pdf (pages of text and plots, matplotlib), .html (one
self-contained file, plots embedded) or .md (plots as PNG files in FILE_files/).

examples:
  neai report fan --out fan.pdf
  neai report fan --lib b2-c7 --experiment e3 --out e3.html
  neai report fan --out fan.md --nested-evals 1000 --nested-folds 5 --cores 2
  neai report fan --out quick.pdf --no-nested
"""


def _add_validation_commands(sub) -> None:
    v = sub.add_parser("validate", help="run libraries on new files and keep the run as an experiment",
                       description=VALIDATE_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    _project_arg(v)
    v.add_argument("--lib", nargs="+", action="extend", required=True, metavar="ID_OR_ZIP",
                   help="libraries to compare: ids of `neai libs` or library zips, e.g. --lib b1-c42 b2-c7")
    v.add_argument("--learn", nargs="+", action="extend", default=[], metavar="FILE[@LINES]",
                   help="anomaly detection: files learned first, in order, e.g. --learn new_nominal.csv "
                        "or --learn nominal.csv@1-200")
    v.add_argument("--test", nargs="+", action="extend", default=[], metavar="FILE[@LINES]:LABEL",
                   help="test files with their expected answer, e.g. --test held_out.csv:nominal faults.csv:abnormal")
    v.add_argument("--test-port", action="append", default=[], metavar="PORT:LABEL",
                   help="test lines read live from a serial port, e.g. --test-port /dev/ttyACM0:abnormal "
                        "(pyserial URLs too: socket://host:7777:nominal)")
    v.add_argument("--port-lines", type=int, default=100, metavar="N",
                   help="lines read from each --test-port (default 100), e.g. --port-lines 500")
    v.add_argument("--baud", type=int, default=115200, help="the ports' baud rate (default 115200), e.g. --baud 921600")
    v.add_argument("--sensitivity", type=float,
                   help="anomaly detection: the libraries' sensitivity (default 1), e.g. --sensitivity 1.2")
    v.add_argument("--note", default="", help='a note kept with the experiment, e.g. --note "after the bearing change"')
    v.add_argument("--json", action="store_true", help="print the experiment as one JSON document")

    x = _command(sub, "experiments", "list, show or compare the project's validation experiments",
                 "neai experiments fan", "neai experiments fan --filter b2-c7 abnormal", "neai experiments fan --show e3",
                 "neai experiments fan --compare e2 e3 --json",
                 description="The validation experiments of a project (oldest first), each with its id, date, "
                             "libraries, files and headline figure.")
    _project_arg(x)
    x.add_argument("--filter", nargs="+", default=[], metavar="WORD",
                   help="only experiments whose id, date, note, libraries or files hold every word, e.g. --filter b2-c7")
    x.add_argument("--show", metavar="ID", help="one experiment's data and results, e.g. --show e3")
    x.add_argument("--compare", nargs=2, metavar=("A", "B"), help="two experiments side by side, e.g. --compare e2 e3")
    x.add_argument("--json", action="store_true", help="print one JSON document")

    h = _command(sub, "benchmarks", "list the project's benchmarks (status, budget, best) or print one's log",
                 "neai benchmarks fan", "neai benchmarks fan --log b2", "neai benchmarks fan --json",
                 description="Every benchmark of a project with its status, budget and how much of it was done, "
                             "evaluations, best library, duration and the files it used.")
    _project_arg(h)
    h.add_argument("--log", metavar="ID", help="print benchmark ID's log and splits, e.g. --log b2")
    h.add_argument("--json", action="store_true", help="print one JSON document")

    r = sub.add_parser("report", help="write a library's report (.pdf, .html or .md)",
                       description=REPORT_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    _project_arg(r)
    r.add_argument("--lib", dest="lib_id", metavar="ID",
                   help="the library (default: the selected one, else the latest best), e.g. --lib b2-c7")
    r.add_argument("--experiment", metavar="ID", help="show this experiment's results too, e.g. --experiment e3")
    r.add_argument("--out", required=True, type=Path, metavar="FILE",
                   help="the report file: .pdf, .html or .md, e.g. --out fan_report.pdf")
    r.add_argument("--nested-folds", type=int, default=5, metavar="K",
                   help="outer folds of the nested cross-validation (default 5), e.g. --nested-folds 3")
    r.add_argument("--nested-evals", type=int, metavar="N",
                   help="evaluations of the search inside each outer fold (default: 600 for anomaly detection, "
                        "150 for the trained types), e.g. --nested-evals 2000")
    r.add_argument("--no-nested", action="store_true", help="leave the nested cross-validation out (it re-runs the "
                                                            "search once per outer fold)")
    r.add_argument("--cores", type=int, default=1, help="cores for the nested searches (default 1), e.g. --cores 2")
    r.add_argument("--seed", type=int, default=0, help="seed of the nested searches (default 0), e.g. --seed 7")
    r.add_argument("--no-build", action="store_true",
                   help="do not build the library to measure it on the core when it has no zip yet")
    r.add_argument("--force", action="store_true", help="replace FILE if it exists")
    r.add_argument("--json", action="store_true", help="print the report's figures as one JSON document")


def _benchmark_files(project, bench_id: str) -> dict:
    """{"files": names, "restricted": bool, "splits": [...]} of a benchmark, for `bench`'s output."""
    from .engine.search import Benchmark

    state = Benchmark.load(project, bench_id).state
    return {"files": [f["name"] for f in state.get("files", [])], "restricted": bool(state.get("files_restricted")),
            "splits": state.get("splits")}


def _file_spec(text: str):
    """FILE[@LINES] of --learn."""
    from .engine.validation import ValidationFile

    path, line_range = text, ""
    if not Path(text).expanduser().exists() and "@" in text:
        path, line_range = text.rsplit("@", 1)
    return ValidationFile(Path(path).expanduser(), None, line_range)


def _figure(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def print_experiment(doc: dict) -> None:
    print(f"experiment {doc['id']} ({doc['created']}, {doc['type']}){': ' + doc['note'] if doc.get('note') else ''}")
    for f in doc.get("learn", []):
        print(f"  learn  {f['name']}{'@' + f['line_range'] if f.get('line_range') else ''}  {f['lines']} lines  "
              f"sha256 {f['sha256'][:12]}")
    for f in doc.get("tests", []):
        where = f" (port {f['port']})" if f.get("port") else ""
        print(f"  test   {f['name']}{'@' + f['line_range'] if f.get('line_range') else ''}{where}  {f['lines']} lines  "
              f"expected {f.get('expected') or '–'}  "
              f"sha256 {f['sha256'][:12]}")
    for lib, result in zip(doc.get("libraries", []), doc.get("results", [])):
        built = " (built for this run)" if lib.get("built") else ""
        print(f"library {result['library']}{built}: {lib.get('pipeline') or ''}")
        if result.get("error"):
            print(f"  failed: {result['error']}")
            continue
        for f in result["files"]:
            extra = {k: v for k, v in f.items() if k not in ("file", "lines", "expected", "correct")}
            print(f"  {Path(f['file']).name:<28} {f['lines']:6d} lines  expected {f.get('expected') or '–':<10} "
                  f"right {_figure(f.get('correct'))} %  {_figure(extra)}")
        metrics = {k: v for k, v in (result.get("metrics") or {}).items() if not isinstance(v, (list, dict))}
        if result.get("learned"):
            metrics = {"learned": result["learned"], **metrics}
        print("  " + ", ".join(f"{k} {_figure(v)}" for k, v in metrics.items()))


def cmd_validate(args) -> int:
    from .engine.experiments import parse_port_spec, parse_test_spec, run_experiment

    project = _open(args.dir)
    kind = project.settings.type
    tests = [parse_test_spec(t, kind) for t in args.test]
    ports = [parse_port_spec(p, kind, args.port_lines, args.baud) for p in args.test_port]
    if args.port_lines < 1:
        raise UsageError("--port-lines must be 1 or more", "e.g. --port-lines 100.")
    learn = [_file_spec(t) for t in args.learn]
    cancel = threading.Event()
    try:
        doc = run_experiment(project, libraries=args.lib, learn=learn, tests=tests, ports=ports,
                             sensitivity=args.sensitivity, note=args.note, cancel=cancel,
                             progress=lambda m: print(m, file=sys.stderr, flush=True))
    except KeyboardInterrupt:
        cancel.set()
        print("interrupted: nothing was stored", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(doc))
    else:
        print_experiment(doc)
        print(f"stored as experiment {doc['id']}: `neai experiments {args.dir} --show {doc['id']}`")
    failed = [r for r in doc["results"] if r.get("error")]
    return EXIT_OK if len(failed) < len(doc["results"]) else EXIT_USAGE


def cmd_experiments(args) -> int:
    from .engine.experiments import compare_experiments, list_experiments, load_experiment

    project = _open(args.dir)
    if args.show:
        doc = load_experiment(project, args.show)
        print(json.dumps(doc)) if args.json else print_experiment(doc)
        return EXIT_OK
    if args.compare:
        doc = compare_experiments(project, *args.compare)
        if args.json:
            print(json.dumps(doc))
            return EXIT_OK
        a, b = doc["a"], doc["b"]
        # The first column fits its longest label (file names and "library figure" are never cut).
        labels = [row["file"] for row in doc["data"]] + [f"{r['library']} {r['figure']}" for r in doc["figures"]]
        w = max([24] + [len(label) for label in labels])
        print(f"{'':{w}} {a['id']:>12} {b['id']:>12}")
        print(f"{'date':{w}} {a['created'][:16]:>12} {b['created'][:16]:>12}")
        for row in doc["data"]:
            same = "same content" if row["same_content"] else "differs" if row["a"] and row["b"] else ""
            cells = [f"{row[k]['lines']} lines" if row[k] else "–" for k in ("a", "b")]
            print(f"{row['file']:{w}} {cells[0]:>12} {cells[1]:>12}  {same}")
        for row in doc["figures"]:
            diff = f"{row['difference']:+.4g}" if row["difference"] is not None else ""
            print(f"{row['library'] + ' ' + row['figure']:{w}} {_figure(row['a']):>12} {_figure(row['b']):>12}  {diff}")
        return EXIT_OK
    items = list_experiments(project, " ".join(args.filter))
    if args.json:
        print(json.dumps({"experiments": items}))
        return EXIT_OK
    if not items:
        print("no experiment" + (" matches the filter" if args.filter else " yet: run `neai validate`"))
    for e in items:
        figures = ", ".join(f"{lib} {_figure(v)}" for lib, v in e["figures"].items())
        print(f"{e['id']:<5} {e['created'][:16]}  {', '.join(e['files'])} ({e['lines']} lines)  "
              f"{e['headline']}: {figures}{'  # ' + e['note'] if e['note'] else ''}")
    return EXIT_OK


def cmd_benchmarks(args) -> int:
    from .engine.bench_history import benchmark_history, read_log, splits_text
    from .engine.search import Benchmark

    project = _open(args.dir)
    if args.log:
        bench = Benchmark.load(project, args.log)
        log = read_log(bench.dir)
        if args.json:
            print(json.dumps({"benchmark": args.log, "log": log, "splits": bench.state.get("splits"),
                              "files": bench.state.get("files")}))
            return EXIT_OK
        for entry in log:
            print(f"[{entry['t']:8.1f}s] {entry['text']}")
        for split in bench.state.get("splits") or []:
            print(f"split {splits_text(split)}")
        return EXIT_OK
    items = benchmark_history(project)
    if args.json:
        print(json.dumps({"benchmarks": items}))
        return EXIT_OK
    if not items:
        print("no benchmark yet: run `neai bench PROJECT`")
    for b in items:
        done = f"{b['percent_done']:.0f} %" if b["percent_done"] is not None else "–"
        best = b["best"] or {}
        figure = f"{best['id']} score {best['score']:.2f}" if best.get("id") else "no library"
        print(f"{b['id']:<4} {b['created'][:16]}  {b['status']:<8} budget {b['budget_text']:<12} {done:>6}  "
              f"{b['evals']:7d} evals  {b['elapsed_s']:7.0f} s  {figure}")
        print(f"     files: {'only ' if b['restricted'] else ''}{', '.join(b['files'])}")
    return EXIT_OK


def cmd_report(args) -> int:
    from .engine.report import NestedOptions, build_report, write_report

    out = args.out.expanduser()
    if out.suffix.lower() not in (".pdf", ".md", ".html", ".htm"):
        raise UsageError(f"--out {out}: the format follows the extension", "End the file name with .pdf, .html or .md.")
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists", "Give another --out FILE, or --force to replace it.")
    if args.nested_folds < 2:
        raise UsageError("--nested-folds must be 2 or more", "e.g. --nested-folds 5.")
    project = _open(args.dir)
    nested = None if args.no_nested else NestedOptions(folds=args.nested_folds, evals=args.nested_evals,
                                                       cores=args.cores, seed=args.seed)
    cancel = threading.Event()
    try:
        doc = build_report(project, lib_id=args.lib_id, experiment_id=args.experiment, nested=nested,
                           build=not args.no_build, cancel=cancel,
                           progress=lambda m: print(m, file=sys.stderr, flush=True))
        written = write_report(doc, out)
    except KeyboardInterrupt:
        cancel.set()
        print("interrupted: no report written", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps({"report": str(written), "figures": doc}, default=str))
    else:
        print(f"{written}")
    return EXIT_OK


COMMANDS = {
    "new": cmd_new, "import": cmd_import, "check": cmd_check, "bench": cmd_bench, "libs": cmd_libs,
    "deploy": cmd_deploy, "emulate": cmd_emulate, "targets": cmd_targets, "demo": cmd_demo,
    "tools": cmd_tools, "filter": cmd_filter, "data": cmd_data, "set": cmd_set, "remove": cmd_remove,
    "archive": cmd_archive, "capture": cmd_capture,
}
COMMANDS.update(validate=cmd_validate, experiments=cmd_experiments, benchmarks=cmd_benchmarks, report=cmd_report)


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
            from .engine.addressing import project_dir

            return cmd_tui(args, project_dir(args.dir) if args.dir else None)
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
