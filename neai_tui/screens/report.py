"""The report screen: a library's report (engine/report.py) in the terminal, with
ASCII plots, and its export to PDF, HTML or Markdown (`neai report`'s writers).

Opened from the Benchmark step (t on a library) and the Validation step (t: the
last experiment, or from the experiments list). The document is built in a
worker (building the library's zip first when it has none, to measure it on
the core); the nested cross-validation is shown when it was computed before
(`neai report` keeps it) and n computes it here.
"""
from __future__ import annotations

import threading
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Header, Input, Label, Static
from textual.worker import Worker, WorkerState

from ..engine.errors import Cancelled
from ..engine.project import Project
from ..messages import ReportBuilt, ReportProgressed, ReportWritten
from ..widgets.forms import field_row
from ..widgets.keybar import KeyBar
from ..widgets.plot import PlotSpec, PlotView
from ..widgets.report_view import (
    bars_text,
    flowchart_text,
    heading,
    learning_spec,
    nested_spec,
    pairs,
    result_renderables,
    summary_group,
)
from ..widgets.suggest import PathSuggester
from .base import FINISHED, NeaiScreen
from .dialogs import Dialog


def default_report_path(project: Project, doc: dict | None, lib_id: str | None) -> Path:
    name = (doc or {}).get("library", {}).get("id") or lib_id or "library"
    experiment = ((doc or {}).get("experiment") or {}).get("id")
    return project.path / "reports" / f"{name}{'_' + experiment if experiment else ''}_report.pdf"


class ReportScreen(NeaiScreen):
    HELP = (
        "A library's report: the project and its data, the benchmark's figures (worst split, mean, 95 % "
        "interval), the pipeline as a flowchart, the figures measured on the core, the results of the library's "
        "type (ROC and AUC, confusion matrix, predicted against true, learning curve) and the nested "
        "cross-validation of the benchmark's choice (n computes it: the search runs again inside each outer "
        "fold, a few minutes; s stops it). ↑/↓ and page keys scroll. x exports it to a .pdf, .html or .md file."
    )
    BINDINGS = [
        Binding("escape", "close", "Back", id="report.close"),
        Binding("x", "export", "Export…", id="report.export"),
        Binding("n", "nested", "Nested CV", id="report.nested"),
        Binding("s", "stop", "Stop", id="report.stop"),
    ]
    DEFAULT_CSS = """
    #report-status { height: auto; padding: 0 1; }
    #report-body { height: 1fr; padding: 0 1; }
    #report-body > Static { height: auto; }
    #report-body > .report-heading { margin-top: 1; }
    """
    PLOT_HEIGHT = 14  # rows (set on each plot: the app's stylesheet makes plots 1fr, which is 6 in a scroll)

    def __init__(self, project: Project, lib_id: str | None = None, experiment_id: str | None = None) -> None:
        super().__init__()
        self.project = project
        self.lib_id = lib_id
        self.experiment_id = experiment_id
        self.doc: dict | None = None
        self.busy = ""  # what a worker is doing ("building", "nested", "writing"), "" when idle
        self.cancel: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="report-status")
        yield VerticalScroll(id="report-body", can_focus=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = f"Report: {self.project.settings.name}"
        self.sub_title = " · ".join(x for x in (self.lib_id, self.experiment_id) if x)
        self.query_one("#report-body").focus()
        self.status("Building the report (the library's zip is built first if it has none)…", "bold")
        self.busy = "building"
        self.build()

    def status(self, text: str, style: str = "") -> None:
        self.query_one("#report-status", Static).update(Text(text, style=style))

    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("export", "nested"):
            return None if self.busy or self.doc is None else True
        if action == "stop":
            return True if self.busy == "nested" else None
        return True

    # -- workers -------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="report", description="building the report")
    def build(self) -> None:
        from ..engine.nested_cv import NestedOptions, cached
        from ..engine.report import build_report

        doc = build_report(self.project, lib_id=self.lib_id, experiment_id=self.experiment_id, nested=None,
                           progress=lambda text: self.post_message(ReportProgressed(text)))
        from ..engine.bench_history import benchmark_project

        kept = cached(benchmark_project(self.project, doc["library"]["benchmark"]), NestedOptions())
        if kept is not None:
            doc["nested_cv"] = {**kept, "benchmark_figure": {"worst": doc["library"]["worst"],
                                                             "mean": doc["library"]["mean"]}}
        self.post_message(ReportBuilt(doc))

    @work(thread=True, exclusive=True, exit_on_error=False, group="report-nested", description="nested CV")
    def compute_nested(self, cancel: threading.Event) -> None:
        from ..engine.bench_history import benchmark_project
        from ..engine.nested_cv import NestedOptions, nested_cv

        assert self.doc is not None
        used = benchmark_project(self.project, self.doc["library"]["benchmark"])
        nested = nested_cv(used, NestedOptions(), cancel=cancel,
                           progress=lambda text: self.post_message(ReportProgressed(text)))
        self.post_message(ReportBuilt({"nested_cv": nested}, nested_only=True))

    @work(thread=True, exclusive=True, exit_on_error=False, group="report-write", description="writing the report")
    def write(self, path: Path) -> None:
        from ..engine.report import write_report

        self.post_message(ReportWritten(write_report(self.doc, path)))

    def on_report_progressed(self, message: ReportProgressed) -> None:
        if self.busy:
            self.status(message.text[:1].upper() + message.text[1:] + "…", "bold")

    def on_report_built(self, message: ReportBuilt) -> None:
        if message.nested_only:
            assert self.doc is not None
            self.doc["nested_cv"] = {**message.doc["nested_cv"], "benchmark_figure": {
                "worst": self.doc["library"]["worst"], "mean": self.doc["library"]["mean"]}}
        else:
            self.doc = message.doc
        self.show()
        nested = (self.doc or {}).get("nested_cv") or {}
        self.status("x exports the report; " + ("n computes the nested cross-validation (minutes)."
                                                if "skipped" in nested else "the nested cross-validation is in."))

    def on_report_written(self, message: ReportWritten) -> None:
        self.status(f"Written: {message.path}", "green")
        self.notify(str(message.path), title="Report written")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        if event.state in FINISHED and event.worker.group.startswith("report"):
            self.busy = ""
            self.cancel = None
            self.refresh_bindings()
            if isinstance(event.worker.error, Cancelled):
                self.status("Stopped. n starts the nested cross-validation again.", "yellow")
            elif event.state != WorkerState.SUCCESS and self.doc is None:
                self.status("The report could not be built; see the message. escape goes back.", "red")

    # -- drawing --------------------------------------------------------------------------
    def show(self) -> None:
        doc = self.doc
        body = self.query_one("#report-body", VerticalScroll)
        body.remove_children()
        width = max(40, (self.size.width or 80) - 4)
        widgets = [Static(summary_group(doc))]

        def section(title: str) -> None:
            widgets.append(Static(heading(f" {title} "), classes="report-heading"))

        section("Pipeline")
        widgets.append(Static(flowchart_text(doc["flowchart"], width)))
        section("Project and data")
        p, data, bench = doc["project"], doc["data"], doc["benchmark"]
        widgets.append(Static(pairs([
            ("sensor", f"{p['axes']} axes × {p['buffer_size']} samples, "
                       + (f"{p['sampling_rate_hz']:g} Hz ({p['buffer_ms']} ms)" if p.get("sampling_rate_hz")
                          else "rate not given")),
            ("files", ", ".join(f"{f['name']} ({f['label']}, {f['lines']})" + ("" if f["used"] else " unused")
                                for f in data["files"])),
            ("benchmark", f"{bench['id']}: {bench['status']}, budget {bench['budget']}, {bench['evals']} evaluations "
                          f"in {bench['elapsed_s']:.0f} s, {bench.get('n_splits')} {bench['split_kind']} splits")])))
        widgets.append(Static(bars_text(data["repartition"], width)))
        for key, title in (("results", "Results: the benchmark's held-out lines"),
                           ("experiment_results", "Results: the experiment's files")):
            if doc.get(key):
                section(title)
                for item in result_renderables(doc[key]):
                    widgets.append(self.plot(item) if isinstance(item, PlotSpec) else Static(item))
        if doc.get("experiment"):
            e = doc["experiment"]
            section(f"Experiment {e['id']}")
            widgets.append(Static(pairs([("tests", ", ".join(f"{t['name']} ({t.get('expected') or '–'}, {t['lines']})"
                                                             for t in e["tests"])),
                                         *((k.replace("_", " "), v) for k, v in e["metrics"].items())])))
        if doc.get("learning_curve"):
            section("Learning curve")
            widgets.append(self.plot(learning_spec(doc["learning_curve"])))
        section("Nested cross-validation")
        nested = doc.get("nested_cv") or {}
        if "skipped" in nested:
            widgets.append(Static(Text("Not computed yet: n runs the search again inside 5 outer folds and judges "
                                       "each choice on its held-out fold (`neai report` does it too).", style="dim")))
        else:
            s = nested["summary"]
            widgets.append(Static(pairs([
                ("held-out", f"{s['outer']} ± {s['outer_std']}" if s.get("outer_std") is not None else s["outer"]),
                ("inner (worst/mean)", f"{s['inner_worst']} / {s['inner_mean']}"),
                ("optimism", f"{s['optimism_mean']} (mean of splits), {s['optimism_worst']} (worst split)"),
                ("baseline", f"{s['baseline']}  ({nested['baseline_name']})")])))
            widgets.append(self.plot(nested_spec(nested)))
        body.mount_all(widgets)
        body.scroll_home(animate=False)

    def plot(self, spec: PlotSpec) -> PlotView:
        view = PlotView(spec)
        view.styles.height = self.PLOT_HEIGHT
        return view

    # -- keys --------------------------------------------------------------------------------
    def action_close(self) -> None:
        if self.cancel is not None:
            self.cancel.set()
        self.dismiss()

    def action_stop(self) -> None:
        if self.cancel is not None:
            self.cancel.set()
            self.status("Stopping after the current fold's search…", "yellow")

    def action_nested(self) -> None:
        if self.doc is None or self.busy:
            return
        self.busy = "nested"
        self.cancel = threading.Event()
        self.refresh_bindings()
        self.status("Nested cross-validation: the search runs again inside each outer fold… (s stops)", "bold")
        self.compute_nested(self.cancel)

    def action_export(self) -> None:
        if self.doc is None or self.busy:
            return

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.busy = "writing"
                self.refresh_bindings()
                self.status(f"Writing {path}…", "bold")
                self.write(path)

        self.app.push_screen(ExportScreen(default_report_path(self.project, self.doc, self.lib_id)), chosen)


class ExportScreen(Dialog):
    """Where to write the report; the format follows the extension."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export.cancel")]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label("Export the report", id="dialog-title")
            yield field_row("File", Input(str(self.path), id="export-path", suggester=PathSuggester(), compact=True))
            yield Static(".pdf (pages of text and plots), .html (one file) or .md (plots in FILE_files/). An "
                         "existing file is replaced.", classes="dialog-note")
            with Horizontal(classes="buttons"):
                yield Button("Write (enter)", id="write", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#write")
    def action_write(self) -> None:
        from ..engine.errors import UsageError

        text = self.query_one("#export-path", Input).value.strip()
        path = Path(text).expanduser()
        if path.suffix.lower() not in (".pdf", ".html", ".htm", ".md"):
            self.show_error("Cannot export", UsageError(f"{text or '(empty)'}: the format follows the extension",
                                                        "End the file name with .pdf, .html or .md."))
            return
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
