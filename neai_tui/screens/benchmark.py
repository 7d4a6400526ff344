"""Step 3: the benchmark — new/resume dialog, live results, performance evolution, log,
pause/resume/stop, the candidate libraries and the learning curve."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, RichLog, Select, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from ..engine.errors import NeaiError, UsageError
from ..engine.project import Project
from ..messages import (
    BenchmarkFinished,
    BenchmarkHistoryLoaded,
    BenchmarkProgressed,
    LibraryResultsComputed,
)
from ..widgets.keybar import KeyBar
from ..widgets.log import WrappingLog
from ..widgets.table import Table
from ..widgets.format import (
    SHORT_METRIC_NAMES,
    field,
    format_bytes,
    format_duration,
    format_number,
    format_rate,
    grid,
    optional_int,
    short_metrics,
)
from ..widgets.forms import field_row
from ..widgets.plot import BRAILLE, PlotSpec, PlotView, Rule, Series, history_spec
from ..widgets.result_plots import results_spec
from .base import StepPane
from .dialogs import Dialog

VIEWS = ("results-tab", "evolution-tab", "learning-tab", "log-tab", "libraries-tab")
# The pipeline is in the detail line under the table (whole, never cut at 80 columns).
LIBRARY_COLUMNS = ("Sel.", "Library", "Score", "RAM", "Flash", "Bench.", "Metrics")
LOG_EVERY_S = 5.0


@dataclass
class BenchmarkRequest:
    """What the new-benchmark dialog asks `run_benchmark` to do."""

    new: bool = True
    time_limit: float | None = 60.0
    max_evals: int | None = None
    cores: int = 1
    seed: int | None = None
    scheduler: str | None = None  # a Dask scheduler address (neai bench --scheduler)
    keep_selection: bool | None = None  # with a chosen library: keep it chosen? (asked in the dialog)

    def describe(self) -> str:
        limit = (f"{format_number(self.time_limit)} s" if self.time_limit is not None
                 else f"{self.max_evals} evaluations" if self.max_evals is not None else "until convergence")
        seed = f", seed {self.seed}" if self.seed is not None else ""
        where = f"Dask {self.scheduler}" if self.scheduler else f"{self.cores} core(s)"
        return f"{'new benchmark' if self.new else 'resuming'}, {limit}, {where}{seed}"


_TRACKER_LOCK = threading.Lock()


def start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with a real stderr.

    Textual replaces sys.stderr with a capture whose fileno() is -1, and the
    tracker hands sys.stderr's descriptor to its process: the benchmark's worker
    pool (spawn) then fails with "bad value(s) in fds_to_keep". Started once
    here with the process's real stderr, the tracker is reused by every pool.
    """
    import sys
    from multiprocessing import resource_tracker

    with _TRACKER_LOCK:
        captured = sys.stderr
        try:
            sys.stderr = sys.__stderr__ if sys.__stderr__ is not None else open(os.devnull, "w")
            resource_tracker.ensure_running()
        finally:
            sys.stderr = captured


def describe_improvement(improved: dict | None, best: dict) -> str:
    """'score 85.1→86.7, BA 0.95→0.97, RAM 1.7→1.5 KB' from a progress report's `improved`."""
    if not improved:
        return f"score {format_number(best.get('score'))}"
    parts = []
    for name, (before, after) in improved.items():
        if name in ("ram_bytes", "flash_bytes"):
            label = "RAM" if name == "ram_bytes" else "flash"
            parts.append(f"{label} {format_bytes(before)}→{format_bytes(after)}")
        else:
            label = SHORT_METRIC_NAMES.get(name, name)
            parts.append(f"{label} {format_number(before)}→{format_number(after)}")
    return ", ".join(parts)


def unfinished_benchmark(project: Project) -> dict | None:
    from ..engine.search import latest_unfinished, list_benchmarks

    bench_id = latest_unfinished(project)
    return next((b for b in list_benchmarks(project) if b["id"] == bench_id), None) if bench_id else None


def default_library_id(libraries: list[dict]) -> str | None:
    """The library the emulator and deployment use: the chosen one, else the best of
    the latest benchmark (as engine.search.find_library picks it)."""
    chosen = next((lib["id"] for lib in libraries if lib.get("selected")), None)
    if chosen or not libraries:
        return chosen
    latest = libraries[-1].get("benchmark")
    of_latest = [lib for lib in libraries if lib.get("benchmark") == latest]
    return max(of_latest, key=lambda lib: lib.get("score") or 0).get("id") if of_latest else None


def fill_library_table(table: DataTable, libraries: list[dict]) -> None:
    """The candidate list; the chosen library is marked ✓ and gets the cursor, and
    while none is chosen, the one used by default is marked (✓)."""
    current = None
    if table.row_count:
        try:
            current = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001
            current = None
    table.clear()
    target_row = 0
    used = default_library_id(libraries)
    for index, lib in enumerate(libraries):
        if lib.get("id") == used:
            target_row = index
        mark = (Text("✓", style="bold green") if lib.get("selected")
                else Text("(✓)", style="green") if lib.get("id") == used else "")
        ident = Text(f"{'◆' if lib.get('pareto') else ' '} {lib.get('id', '?')}")
        if lib.get("other_data"):  # benchmarked on other data or settings than the project's now
            ident.append(" !", style="bold yellow")
        table.add_row(
            mark,
            ident,
            format_number(lib.get("score")),
            format_bytes(lib.get("ram_bytes")),
            format_bytes(lib.get("flash_bytes")),
            str(lib.get("benchmark", "")),
            short_metrics(lib.get("metrics")),
            key=str(lib.get("id", index)),
        )
    ids = [str(lib.get("id")) for lib in libraries]
    if current in ids:
        target_row = ids.index(current)
    if libraries:
        table.move_cursor(row=target_row)


def show_library_detail(table: DataTable, detail: Static, libraries: list[dict]) -> None:
    """The detail line under a library table, for its highlighted row."""
    lib_id = table_cursor_key(table)
    detail.update(library_detail(next((lib for lib in libraries if str(lib.get("id")) == lib_id), None), libraries))


def library_detail(lib: dict | None, libraries: list[dict]) -> Text:
    """What the table cuts at 80 columns: the highlighted library's pipeline and metrics,
    and whether it is the one used."""
    if lib is None:
        return Text("No library yet: run a benchmark (b in step 3).", style="italic")
    used = default_library_id(libraries)
    out = Text()
    out.append(str(lib.get("id")), style="bold")
    if lib.get("selected"):
        out.append(" ✓ chosen", style="green")
    elif lib.get("id") == used:
        out.append(" (✓) used while none is chosen", style="green")
    out.append(f"  {short_metrics(lib.get('metrics'))}\n")
    out.append(str(lib.get("pipeline", "")), style="dim")
    if lib.get("other_data"):
        out.append(f"\n! computed on other data ({lib.get('other_data_reason')}): its scores may not hold; "
                   "b runs a benchmark on the current data", style="yellow")
    return out


def table_cursor_key(table: DataTable) -> str | None:
    if not table.row_count:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except Exception:  # noqa: BLE001 - no row under the cursor
        return None


def learning_spec(best: dict | None) -> PlotSpec:
    if not best or "counts" not in best:
        return PlotSpec(empty_text="The learning curve (balanced accuracy against the number of learned signals) "
                                   "is computed for each new best anomaly-detection library.")
    minimum = best.get("min_learning_iterations")
    counts = best["counts"]
    return PlotSpec(
        [Series(counts, best["balanced_accuracy"], "balanced accuracy", marker=BRAILLE, style="cyan", lines=True)],
        rules=[Rule(minimum, f"recommended minimum ({minimum})", vertical=True)] if minimum else [],
        y_limits=(0, 1),
        x_log=counts[0] > 0 and counts[-1] / max(counts[0], 1) > 20,
        title=f"{best.get('id', '')}: learning curve, learn at least {minimum} times",
        x_label="signals learned",
    )


class BenchmarkPane(StepPane):
    STEP = "benchmark"
    TITLE = "Benchmark"
    HELP = (
        "Search the preprocessing × model space for the library that holds up best in its worst case. "
        "b opens the new-benchmark dialog (new or resume, time or evaluation limit, cores, seed); p pauses "
        "(r resumes the same benchmark), s stops. v cycles the views. Results: the best (or chosen) library "
        "run by its own C on the project's held-out lines: anomaly detection, the similarity per signal with "
        "the 90 % line; n-class, the probability of each line's true class (red x: another class won); "
        "1-class, the held-out lines and synthetic outliers on the 2 main directions of the features, with "
        "the library's boundary; extrapolation, predicted against real values with the y = x line. "
        "Evolution: the best score over time. Learning (anomaly detection): balanced accuracy against the "
        "number of learned signals, with the recommended minimum. Log. Libraries: the candidates (◆ = on "
        "the Pareto front of score, RAM and flash; ! = computed on other data or settings than the project's "
        "now); enter or c chooses the highlighted one for the emulator "
        "and deployment (✓; (✓) marks the one used while none is chosen). "
        "A benchmark keeps running when you go back home."
    )
    KEYS = [
        Binding("b", "new_benchmark", "Benchmark…"),
        Binding("p", "pause", "Pause"),
        Binding("r", "resume", "Resume"),
        Binding("s", "stop", "Stop"),
        Binding("v", "next_view", "View"),
        Binding("c", "choose_library", "Choose lib"),
    ]

    def __init__(self, project: Project, **kwargs) -> None:
        super().__init__(project, **kwargs)
        self.cancel: threading.Event | None = None
        self.paused = False
        self.stop_requested = False  # p or s: the run did not end on its own limit
        self.worker_count = 1  # of the latest progress report
        self.last_rate = 0.0
        self.request: BenchmarkRequest | None = None  # the run going on (a resumed run: what is left of it)
        self.budget: BenchmarkRequest | None = None  # what the user chose in the dialog, kept across pause/resume
        self.points: list[tuple[float, float]] = []
        self.best: dict | None = None
        self.results: dict | None = None
        self.results_error = ""
        self.results_pending: str | None = None
        self.results_running = False
        self.libraries: list[dict] = []
        self.run_started_at: float | None = None  # the benchmark's elapsed_s when this run started
        self.last_elapsed = 0.0
        self.last_log = 0.0
        self.last_point = 0.0
        self.log_entries: list[str] = []

    @property
    def running(self) -> bool:
        return self.cancel is not None

    def compose(self) -> ComposeResult:
        yield self.title_label()
        yield Static(id="bench-status")
        yield Static(id="bench-stats")
        with TabbedContent(id="bench-views"):
            with TabPane("Results", id="results-tab"):
                yield PlotView(id="results-plot")
            with TabPane("Evolution", id="evolution-tab"):
                yield PlotView(history_spec([]), id="evolution-plot")
            with TabPane("Learning", id="learning-tab"):
                yield PlotView(id="learning-plot")
            with TabPane("Log", id="log-tab"):
                yield WrappingLog(id="bench-log", max_lines=1000, wrap=True, min_width=20)
            with TabPane("Libraries", id="libraries-tab"):
                table = Table(id="bench-libraries", cursor_type="row", zebra_stripes=True)
                table.add_columns(*LIBRARY_COLUMNS)
                yield table
                yield Static(id="bench-library-detail", classes="library-detail")

    def on_mount(self) -> None:
        self.show_status("Idle. b starts a benchmark (new or resumed).")
        self.show_best(None)
        self.show_results()
        if not self.has_learning_curve:
            # Trained libraries learn nothing on the device: no learning curve.
            self.query_one("#bench-views", TabbedContent).hide_tab("learning-tab")
        self.load_history()

    @property
    def has_learning_curve(self) -> bool:
        return self.project.settings.type == "anomaly"

    @property
    def views(self) -> tuple[str, ...]:
        return VIEWS if self.has_learning_curve else tuple(v for v in VIEWS if v != "learning-tab")

    def on_unmount(self) -> None:
        # A benchmark thread must not outlive its pane (nor keep the app from exiting).
        if self.cancel is not None:
            self.cancel.set()

    # -- display ---------------------------------------------------------------------------
    def show_status(self, text: str, style: str = "") -> None:
        self.set_status("bench-status", text, style)

    def log_line(self, text: str, style: str = "") -> None:
        stamp = format_duration(self.last_elapsed) if self.running or self.last_elapsed else "--:--"
        self.log_entries.append(f"{stamp} {text}")
        line = Text(f"{stamp} ", style="dim")
        line.append(text, style=style)
        self.query_one("#bench-log", RichLog).write(line)

    def show_progress(self, report: Any) -> None:
        best = field(report, "best") or {}
        self.worker_count = field(report, "workers", 1) or 1
        self.last_rate = field(report, "evals_per_s") or 0.0
        rows = [self._evaluations_row(field(report, "evals_done", 0), field(report, "evals_per_s") or 0.0,
                                      field(report, "elapsed_s"))]
        rows += self._best_rows(best, field(report, "best_score"))
        self.query_one("#bench-stats", Static).update(grid(rows))

    def _evaluations_row(self, evals: int, rate: float, elapsed) -> tuple[str, str]:
        workers = self.worker_count
        per_worker = f", {format_rate(rate / workers)}/s each" if workers > 1 else ""
        return ("Evaluations", f"{evals}  ({format_rate(rate)}/s, {workers} worker{'s' if workers != 1 else ''}"
                               f"{per_worker})  elapsed {format_duration(elapsed)}")

    def _best_rows(self, best: dict, score=None) -> list[tuple[str, Text]]:
        """One line each, cut with … at 80 columns: the plot below needs the rows
        (the Libraries view's detail line has the whole pipeline and every metric)."""
        if not best:
            return [("Best", Text("no library yet"))]
        return [
            ("Best", Text(f"{format_number(score if score is not None else best.get('score'))}  {best.get('id', '')}  "
                          f"{short_metrics(best.get('metrics'))}", no_wrap=True, overflow="ellipsis")),
            ("RAM / flash", Text(f"{format_bytes(best.get('ram_bytes'))} / {format_bytes(best.get('flash_bytes'))}  "
                                 f"{best.get('pipeline_text') or best.get('pipeline') or ''}", no_wrap=True,
                                 overflow="ellipsis")),
        ]

    def show_best(self, best: dict | None) -> None:
        self.best = best
        if not self.running:
            self.query_one("#bench-stats", Static).update(grid(self._best_rows(best or {})))
        self.query_one("#learning-plot", PlotView).set_spec(learning_spec(best))

    def show_results(self) -> None:
        self.query_one("#results-plot", PlotView).set_spec(results_spec(self.results, self.results_error))

    def show_libraries(self, libraries: list[dict]) -> None:
        self.libraries = libraries
        fill_library_table(self.query_one("#bench-libraries", DataTable), libraries)
        self.show_benchmark_status()
        self._library_highlighted()

    @on(DataTable.RowHighlighted, "#bench-libraries")
    def _library_highlighted(self) -> None:
        show_library_detail(self.query_one("#bench-libraries", DataTable), self.query_one("#bench-library-detail", Static),
                            self.libraries)

    # -- keys ------------------------------------------------------------------------------
    def check_key(self, action: str) -> bool | None:
        if action in ("new_benchmark", "resume"):
            return None if self.running else True
        if action in ("pause", "stop"):
            return True if self.running else None
        if action == "choose_library":
            return True if self.libraries else None
        return True

    def action_next_view(self) -> None:
        tabs = self.query_one("#bench-views", TabbedContent)
        views = self.views
        current = tabs.active if tabs.active in views else views[0]
        tabs.active = views[(views.index(current) + 1) % len(views)]

    @on(TabbedContent.TabActivated, "#bench-views")
    def _view_shown(self, event: TabbedContent.TabActivated) -> None:
        # The candidate list takes the arrow keys as soon as it is shown.
        if event.pane.id == "libraries-tab":
            self.query_one("#bench-libraries", DataTable).focus()

    def action_new_benchmark(self) -> None:
        if self.running:
            return

        def chosen(request: BenchmarkRequest | None) -> None:
            if request is not None:
                self.start(request)

        chosen_lib = next((lib["id"] for lib in self.libraries if lib.get("selected")), None)
        self.app.push_screen(NewBenchmarkScreen(self.project, self.budget, chosen_lib), chosen)

    def action_pause(self) -> None:
        if self.cancel is not None:
            self.paused = True
            self.stop_requested = True
            self.cancel.set()
            self.show_status("Pausing after the current evaluations…", "yellow")

    def action_stop(self) -> None:
        if self.cancel is not None:
            self.paused = False
            self.stop_requested = True
            self.cancel.set()
            self.show_status("Stopping after the current evaluations…", "yellow")

    def action_resume(self) -> None:
        if self.running:
            return
        request = self.request or BenchmarkRequest(new=False, time_limit=None, cores=os.cpu_count() or 1)
        request = replace(request, new=False, seed=None)
        if request.time_limit is not None and self.paused and self.run_started_at is not None:
            # A paused run goes on for what is left of the budget the user chose.
            used = self.last_elapsed - self.run_started_at
            request = replace(request, time_limit=max(1.0, request.time_limit - used))
        elif self.budget is not None:
            request = replace(request, time_limit=self.budget.time_limit)
        self.start(request, resumed_after_pause=self.paused)

    # -- running ---------------------------------------------------------------------------
    def start(self, request: BenchmarkRequest, resumed_after_pause: bool = False) -> None:
        self.request = request
        if not resumed_after_pause:
            self.budget = request
        self.cancel = threading.Event()
        self.paused = False
        self.stop_requested = False
        self.last_rate = 0.0
        # Where the benchmark's clock stood when this run started (a resumed benchmark
        # goes on from its saved elapsed time): what a pause leaves of the time limit.
        self.run_started_at = 0.0 if request.new else self.last_elapsed
        if request.new:
            self.points = []
            self.results = None
            self.results_error = ""
            self.show_results()
            self.show_best(None)
        self.query_one("#evolution-plot", PlotView).set_spec(history_spec(self.points))
        self.show_status(f"Running ({request.describe()}). p pauses, s stops.", "bold")
        self.log_line(f"start: {request.describe()}", "bold")
        self.refresh_keys()
        self.run(request, self.cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="benchmark", description="benchmark")
    def run(self, request: BenchmarkRequest, cancel: threading.Event) -> None:
        from ..engine.search import run_benchmark

        if request.cores > 1:
            start_resource_tracker()
        options = {"scheduler": request.scheduler} if request.scheduler else {}
        if request.new and request.keep_selection:
            options["keep_selection"] = True
        result = run_benchmark(
            self.project, time_limit=request.time_limit, max_evals=request.max_evals, cores=request.cores,
            seed=request.seed, new=request.new, cancel=cancel,
            progress=lambda report: self.post_message(BenchmarkProgressed(report)), **options,
        )
        self.post_message(BenchmarkFinished(result))

    def on_benchmark_progressed(self, message: BenchmarkProgressed) -> None:
        report = message.progress
        elapsed = float(field(report, "elapsed_s") or 0.0)
        self.last_elapsed = elapsed
        if self.run_started_at is None or self.run_started_at > elapsed:
            self.run_started_at = elapsed
        self.show_progress(report)
        score = field(report, "best_score")
        now = time.monotonic()
        if score is not None and (field(report, "new_best") or now - self.last_point >= 1.0 or not self.points):
            self.last_point = now
            self.points.append((elapsed, float(score)))
            self.query_one("#evolution-plot", PlotView).set_spec(history_spec(self.points))
        text = field(report, "message") or ""
        best = field(report, "best")
        if field(report, "new_best") and best:
            self.log_line(f"new best {best.get('id')}: {describe_improvement(field(report, 'improved'), best)}; "
                          f"{best.get('pipeline_text', '')}", "green")
            self.show_best(best)
            self.compute_results(best.get("id"))
        elif text and not text.startswith("generation"):
            self.log_line(text)
        if now - self.last_log >= LOG_EVERY_S:
            self.last_log = now
            self.log_line(f"{field(report, 'evals_done', 0)} evaluations, "
                          f"{format_rate(field(report, 'evals_per_s'))}/s on {field(report, 'workers', 1)} "
                          f"worker(s)", "dim")
        if self.cancel is not None and not self.cancel.is_set():
            self.show_status(f"Running ({self.request.describe() if self.request else ''}). p pauses, s stops.",
                             "bold")

    def on_benchmark_finished(self, message: BenchmarkFinished) -> None:
        result = message.result
        best = field(result, "best") or {}
        status = field(result, "status", "")
        bench = field(result, "benchmark", "") or ""
        evals = field(result, "evals_done")
        if field(result, "elapsed_s") is not None:
            self.last_elapsed = float(field(result, "elapsed_s"))
        if self.paused:
            summary = f"Paused: benchmark {bench}. r resumes it."
        elif status == "stopped" and self.stop_requested:
            summary = f"Stopped: benchmark {bench}. r resumes it, b starts another."
        elif status == "stopped":  # its time or evaluation limit
            budget = self.budget or self.request  # a paused run's budget is the one chosen, not what was left
            limit = (f"{format_number(budget.time_limit)} s" if budget and budget.time_limit
                     else f"{budget.max_evals} evaluations" if budget and budget.max_evals
                     else "limit")
            summary = f"Done: benchmark {bench} ran its {limit}. r runs it longer, b starts another."
        else:
            summary = f"Finished: benchmark {bench} converged."
        if best:
            summary += f" Best library {field(best, 'id', '?')} scores {format_number(field(best, 'score'))}."
            # The final figures: a run cut short in its first generation may report its
            # best only here (no progress report announced it).
            self.best = best
            elapsed = float(field(result, "elapsed_s") or 0.0)
            # The rate last reported, else (no report counted any) the run's average.
            rate = self.last_rate or ((evals or 0) / elapsed if elapsed > 0 else 0.0)
            self.query_one("#bench-stats", Static).update(grid([
                self._evaluations_row(evals or 0, rate, elapsed), *self._best_rows(best),
            ]))
            self.query_one("#learning-plot", PlotView).set_spec(learning_spec(best))
            if (self.results or {}).get("library") != best.get("id"):
                self.compute_results(best.get("id"))
        self.show_status(summary, "green" if not self.paused else "yellow")
        self.log_line(summary + (f" ({evals} evaluations)" if evals is not None else ""), "bold")
        self.notify(summary, title="Benchmark")

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if worker.group == "benchmark":
            if state != WorkerState.SUCCESS:
                self.show_status("Stopped. r resumes the benchmark, b starts another.", "yellow")
            self.cancel = None
            self.refresh_keys()
            screen = self.screen
            if hasattr(screen, "load_libraries"):
                screen.load_libraries()
        elif worker.group == "bench-results":
            self.results_running = False
            if self.results_pending is not None:
                pending, self.results_pending = self.results_pending, None
                self.compute_results(pending)

    # -- stored state and library results ---------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="bench-history", description="reading the benchmarks")
    def load_history(self) -> None:
        from ..engine.search import Benchmark, find_library, list_benchmarks, selected_library_id

        benches = list_benchmarks(self.project)
        if not benches:
            self.post_message(BenchmarkHistoryLoaded(None))
            return
        info = benches[-1]
        bench = Benchmark.load(self.project, info["id"])
        points = [(float(h["t"]), float(h["score"])) for h in bench.history()]
        if points and info.get("elapsed_s", 0) > points[-1][0]:
            points.append((float(info["elapsed_s"]), points[-1][1]))
        best = bench.best()
        selected = selected_library_id(self.project)
        if selected:
            try:
                chosen = find_library(self.project, selected)
                if chosen.get("benchmark") == info["id"] and "counts" in chosen:
                    best = chosen
            except NeaiError:
                pass
        self.post_message(BenchmarkHistoryLoaded(info, points, best))

    def on_benchmark_history_loaded(self, message: BenchmarkHistoryLoaded) -> None:
        if self.running:
            return
        info = message.benchmark
        if info is None:
            self.show_status("No benchmark yet. b starts one.")
            return
        self.points = message.points
        self.last_elapsed = float(info.get("elapsed_s") or 0.0)
        self.query_one("#evolution-plot", PlotView).set_spec(history_spec(self.points))
        self.show_best(message.best)
        self.shown_benchmark = info
        self.show_benchmark_status()
        chosen = next((lib["id"] for lib in self.libraries if lib.get("selected")), None)
        lib_id = chosen or (message.best or {}).get("id")
        if lib_id:
            self.compute_results(lib_id)

    def show_benchmark_status(self) -> None:
        """The latest benchmark's state, and whether it ran on the project's data as it is now."""
        info = getattr(self, "shown_benchmark", None)
        if info is None or self.running:
            return
        status = info.get("status", "")
        hint = "r resumes it, b starts another." if status in ("running", "stopped", "interrupted") else "b starts another."
        stale = next((lib.get("other_data_reason") for lib in self.libraries
                      if lib.get("benchmark") == info["id"] and lib.get("other_data")), None)
        if stale:
            hint = f"It ran on other data ({stale}): b or r starts a benchmark on the current data."
        self.show_status(f"Benchmark {info['id']}: {status}, {info.get('evals_done', 0)} evaluations "
                         f"in {format_duration(info.get('elapsed_s'))}. {hint}", "yellow" if stale else "")

    def compute_results(self, lib_id: str | None) -> None:
        if not lib_id:
            return
        if self.results is None:  # nothing drawn yet: say what is coming
            self.query_one("#results-plot", PlotView).set_spec(PlotSpec(
                empty_text=f"Running {lib_id}'s C on the project's held-out lines…"))
        if self.results_running:
            self.results_pending = lib_id  # one at a time; the newest request wins
            return
        self.results_running = True
        self.library_results(lib_id)

    @work(thread=True, exclusive=False, exit_on_error=False, group="bench-results", description="computing the results")
    def library_results(self, lib_id: str) -> None:
        from ..engine.bench_results import library_results

        try:
            self.post_message(LibraryResultsComputed(library_results(self.project, lib_id)))
        except NeaiError as exc:
            self.post_message(LibraryResultsComputed(None, exc.message))

    def on_library_results_computed(self, message: LibraryResultsComputed) -> None:
        self.results = message.results
        self.results_error = message.error
        self.show_results()

    # -- choosing a library --------------------------------------------------------------------
    @on(DataTable.RowSelected, "#bench-libraries")
    def action_choose_library(self) -> None:
        lib_id = table_cursor_key(self.query_one("#bench-libraries", DataTable))
        if lib_id is None:
            self.notify("No library yet: run a benchmark first (b).", severity="warning")
            return
        self.choose(lib_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="select", description="choosing the library")
    def choose(self, lib_id: str) -> None:
        from ..engine.search import select_library

        select_library(self.project, lib_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Textual also runs StepPane's handler (each class's handler in the MRO): no super().
        if event.worker.group == "select" and event.state == WorkerState.SUCCESS:
            lib_id = table_cursor_key(self.query_one("#bench-libraries", DataTable))
            self.notify(f"{lib_id} is the chosen library (emulator, validation, deployment).", title="Library")
            screen = self.screen
            if hasattr(screen, "load_libraries"):
                screen.load_libraries()
            if lib_id:
                self.compute_results(lib_id)


class NewBenchmarkScreen(Dialog):
    """Start a new benchmark or resume the interrupted one; dismisses with a BenchmarkRequest."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="new_bench.cancel"),
        Binding("ctrl+s", "start", "Start", id="new_bench.start"),
    ]

    def __init__(self, project: Project, previous: BenchmarkRequest | None = None,
                 chosen_library: str | None = None) -> None:
        super().__init__()
        self.project = project
        self.previous = previous
        self.chosen_library = chosen_library
        self.unfinished = unfinished_benchmark(project)

    def compose(self) -> ComposeResult:
        previous = self.previous or BenchmarkRequest(cores=max(1, os.cpu_count() or 1))
        starts = [("New benchmark", "new")]
        if self.unfinished:
            u = self.unfinished
            starts.insert(0, (f"Resume {u['id']} ({u.get('status')}, {u.get('evals_done', 0)} evals)", "resume"))
        limit_kind = "time" if previous.time_limit is not None else "evals" if previous.max_evals is not None else "converge"
        limit_value = (format_number(previous.time_limit) if previous.time_limit is not None
                       else str(previous.max_evals) if previous.max_evals is not None else "")
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label("Benchmark", id="dialog-title")
            yield field_row("Start", Select(starts, value=starts[0][1], allow_blank=False, id="bench-start",
                                            compact=True))
            yield field_row("Stop after", Select(
                [("a time limit (seconds)", "time"), ("a number of evaluations", "evals"), ("convergence", "converge")],
                value=limit_kind, allow_blank=False, id="bench-limit", compact=True))
            yield field_row("Limit", Input(limit_value, type="number", id="bench-limit-value", compact=True,
                                           placeholder="seconds or evaluations"))
            yield field_row("Cores", Input(str(previous.cores), type="integer", id="bench-cores", compact=True))
            yield field_row("Seed", Input("" if previous.seed is None else str(previous.seed), type="integer",
                                          id="bench-seed", placeholder="blank = random (new benchmarks)", compact=True))
            yield field_row("Dask", Input(previous.scheduler or "", id="bench-scheduler", compact=True,
                                          placeholder="optional scheduler address (tcp://host:8786)"))
            if self.chosen_library:
                # A new benchmark must not drop the user's choice without asking.
                yield field_row("Chosen lib", Select(
                    [(f"keep {self.chosen_library} chosen", "keep"), ("let the new best replace it", "replace")],
                    value="replace" if previous.keep_selection is False else "keep", allow_blank=False,
                    id="bench-keep", compact=True), id="bench-keep-row")
            yield Static(self._data_note(), classes="dialog-note")
            with Horizontal(classes="buttons"):
                yield Button("Start (ctrl+s)", id="start", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyBar()

    def _data_note(self) -> str:
        s = self.project.settings
        if s.type == "anomaly":
            couples = self.project.couples()
            which = f"signal couple{'s' if len(couples) != 1 else ''} {', '.join(map(str, couples))}" if couples else "no couple yet"
            files = "every file of " + which + " (each couple is judged on its own; the worst counts)"
        elif s.type == "n-class":
            files = "every class: " + ", ".join(str(e.class_name) for e in self.project.signals)
        else:
            files = "the project's signal file"
        return f"Uses {files}. With a seed and an evaluation limit, the result does not depend on the cores."

    def on_mount(self) -> None:
        self.query_one("#bench-start", Select).focus()

    @on(Select.Changed, "#bench-limit")
    def _limit_changed(self, event: Select.Changed) -> None:
        value = self.query_one("#bench-limit-value", Input)
        value.disabled = event.value == "converge"
        if event.value == "time" and not value.value:
            value.value = "60"

    def request(self) -> BenchmarkRequest:
        new = self.query_one("#bench-start", Select).value == "new"
        kind = self.query_one("#bench-limit", Select).value
        text = self.query_one("#bench-limit-value", Input).value.strip()
        time_limit = max_evals = None
        if kind == "time":
            try:
                time_limit = float(text)
            except ValueError:
                raise UsageError(f"the time limit must be a number of seconds, not '{text}'", "e.g. 60") from None
            if time_limit <= 0:
                raise UsageError("the time limit must be positive", "e.g. 60 seconds.")
        elif kind == "evals":
            max_evals = optional_int(text, "the number of evaluations")
            if not max_evals or max_evals < 1:
                raise UsageError("the number of evaluations must be 1 or more", "e.g. 2000.")
        cores = optional_int(self.query_one("#bench-cores", Input).value, "the number of cores") or 1
        if cores < 1:
            raise UsageError(f"cores must be 1 or more, not {cores}", f"This machine has {os.cpu_count()}.")
        seed = optional_int(self.query_one("#bench-seed", Input).value, "the seed")
        scheduler = self.query_one("#bench-scheduler", Input).value.strip() or None
        keep = self.query_one("#bench-keep", Select).value == "keep" if self.chosen_library else None
        return BenchmarkRequest(new, time_limit, max_evals, cores, seed if new else None, scheduler, keep)

    @on(Button.Pressed, "#start")
    @on(Input.Submitted)
    def action_start(self) -> None:
        try:
            request = self.request()
        except NeaiError as exc:
            self.show_error("Cannot start the benchmark", exc)
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
