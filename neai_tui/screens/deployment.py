"""Step 6: deployment — library, target, suffix and output; the zip, its measured
flash/RAM/cycles, and the Hello World that compiles against it."""
from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Select, Static, TabbedContent, TabPane, TextArea
from textual.worker import Worker, WorkerState

from ..engine.errors import NeaiError
from ..engine.project import Project
from ..messages import DeployProgressed, LibraryDeployed
from ..widgets.table import Table
from ..widgets.paths import shown_path
from ..widgets.format import format_bytes, format_number, grid, short_metrics
from ..widgets.forms import TargetPicker, TickBox, field_row
from ..widgets.suggest import PathSuggester
from .base import StepPane
from .benchmark import LIBRARY_COLUMNS, fill_library_table, show_library_detail, table_cursor_key

VIEWS = ("build-tab", "result-tab", "hello-tab")
OPTIMIZE_CHOICES = (
    ("size (-Os): the smallest flash", "size"),
    ("speed (-O2): fewer instructions, more flash", "speed"),
    ("smallest (-Oz)", "smallest"),
    ("fastest (-O3)", "fastest"),
    ("basic (-O1)", "basic"),
)
FLOAT_ABI_CHOICES = (("hard: floats in FPU registers", "hard"), ("softfp: FPU, soft calls", "softfp"))


def optimize_text(name: str | None) -> str:
    """"size (-Os)" for a deployment's optimisation choice."""
    from ..engine.toolchain import OPTIMIZE_LEVELS

    return f"{name} ({OPTIMIZE_LEVELS[name]})" if name in OPTIMIZE_LEVELS else "–"


def init_function(project_type: str, suffix: str) -> str:
    """The library's first call, as its header names it."""
    from ..engine.codegen_trained import API_NAMES

    return f"neai_{API_NAMES.get(project_type, 'anomalydetection')}_init{suffix}()"


def compile_options(target: str, suffix: str, project_type: str = "anomaly", optimize: str = "size",
                    float_abi: str | None = None, sections: bool = True, extra_flags: str = "") -> Text:
    """What the build will use: core, float ABI, optimisation, the flags a firmware must link with, names."""
    from ..engine.codegen import check_suffix, header_name
    from ..engine.targets import resolve_target
    from ..engine.toolchain import build_variant, resolve_core

    try:
        t = resolve_target(target)
        base = resolve_core(t.core)
        core = build_variant(base, float_abi=float_abi if base.has_fpu else None, sections=sections,
                             extra_flags=extra_flags)
        s = check_suffix(suffix or None)
    except NeaiError as exc:
        return Text(exc.message, style="red")
    out = Text()
    out.append("Core ", style="bold")
    out.append(f"{core.name}, {core.float_abi} float{' (' + core.fpu + ')' if core.fpu else ''}, "
               f"optimised for {optimize_text(optimize)}"
               + ("" if sections else ", no per-function sections")
               + (f", {' '.join(core.extra_cflags)}" if core.extra_cflags else "") + "\n")
    if t.kind != "core":
        out.append("Target ", style="bold")
        out.append(f"{t.name}: {t.memory_text()}\n")
    out.append("Link with ", style="bold")
    out.append(" ".join(core.gcc_flags) + "\n")
    out.append("Names ", style="bold")
    out.append(f"{header_name(suffix or None)}, {init_function(project_type, s)} …" if s else
               f"{header_name(None)}; a suffix renames every symbol so several libraries link together")
    return out


def timing_rows(timing: dict | None) -> list[tuple[str, str]]:
    """The time one inference takes at the target's clock, and the search's estimate."""
    if not timing:
        return []
    text = f"{timing['ms_per_inference']:.2f} ms at {format_number(timing['clock_mhz'])} MHz"
    if "estimated_instructions" in timing:  # the search's estimate of the instructions, against the measure
        text += f"  (estimate {timing.get('estimate_error_pct', 0):+.1f} %)"
    return [("Time", text)]


class DeploymentPane(StepPane):
    STEP = "deployment"
    TITLE = "Deployment"
    HELP = (
        "Build the library zip: choose the library in the table (the chosen one is marked ✓), the target "
        "(type to search the catalogue), an optional suffix (several libraries in one firmware), what the "
        "compiler optimises for (size: -Os, the smallest flash; speed: -O2, fewer instructions for more flash; "
        "smallest -Oz, fastest -O3, basic -O1; enter opens the choice), the float ABI on cores with an FPU (hard, "
        "or softfp for a firmware built -mfloat-abi=softfp), per-function sections (on: the firmware's "
        "--gc-sections drops what it does not call), allow-listed extra flags, and the output path (blank = the project's deploy/ folder). d builds it for the target's core, checks the Cortex-M "
        "build against the host build on an emulated core, and measures flash, RAM and cycles. The Hello "
        "World tab shows a main.c that compiles as it is; y copies it (terminal clipboard)."
    )
    KEYS = [
        Binding("d", "deploy", "Deploy"),
        Binding("v", "next_view", "View"),
        Binding("y", "copy_hello", "Copy main.c"),
    ]

    def __init__(self, project: Project, **kwargs) -> None:
        super().__init__(project, **kwargs)
        self.running = False
        self.hello = ""
        self.libraries: list[dict] = []

    def compose(self) -> ComposeResult:
        yield self.title_label()
        yield Static(id="deploy-status")
        with TabbedContent(id="deploy-views"):
            with TabPane("Build", id="build-tab"):
                with VerticalScroll():
                    table = Table(id="deploy-libraries", cursor_type="row", zebra_stripes=True)
                    table.add_columns(*LIBRARY_COLUMNS)
                    yield table
                    yield Static(id="deploy-library-detail", classes="library-detail")
                    yield TargetPicker(self.project.settings.target, input_id="deploy-target",
                                       id="deploy-target-picker")
                    yield field_row("Suffix", Input(id="deploy-suffix", placeholder="optional, e.g. vibration",
                                                    compact=True))
                    yield field_row("Optimise for", Select(OPTIMIZE_CHOICES, value="size", allow_blank=False,
                                                           id="deploy-optimize", compact=True))
                    yield field_row("Float ABI", Select(FLOAT_ABI_CHOICES, value="hard", allow_blank=False,
                                                        id="deploy-float-abi", compact=True),
                                    TickBox("Sections", value=True, id="deploy-sections", compact=True))
                    yield field_row("Extra flags", Input(id="deploy-cflags", compact=True,
                                                         placeholder="optional, e.g. -funroll-loops (allow-listed)"))
                    yield field_row("Output zip", Input(id="deploy-out", placeholder="blank = the project's deploy/",
                                                        suggester=PathSuggester(), compact=True))
                    yield Static(id="deploy-options", classes="pane-text")
            with TabPane("Result", id="result-tab"):
                with VerticalScroll():
                    yield Static("No library built in this session yet: d builds one.", id="deploy-result")
            with TabPane("Hello World", id="hello-tab"):
                yield TextArea("", id="hello-world", read_only=True, show_line_numbers=False, soft_wrap=False,
                               compact=True)

    def on_mount(self) -> None:
        self.set_status("deploy-status", "d builds the highlighted library for the target below.")
        self.show_options()

    def show_libraries(self, libraries: list[dict]) -> None:
        self.libraries = libraries
        fill_library_table(self.query_one("#deploy-libraries", DataTable), libraries)
        self._library_highlighted()
        if not libraries:
            self.set_status("deploy-status", "No library yet: run a benchmark (step 3) first.", "yellow")

    @on(DataTable.RowHighlighted, "#deploy-libraries")
    def _library_highlighted(self) -> None:
        show_library_detail(self.query_one("#deploy-libraries", DataTable),
                            self.query_one("#deploy-library-detail", Static), self.libraries)

    def show_project(self) -> None:
        self.show_options()

    @property
    def optimize(self) -> str:
        value = self.query_one("#deploy-optimize", Select).value
        return value if isinstance(value, str) else "size"

    def build_options(self) -> dict:
        """The compilation options that differ from the defaults (deploy's keywords)."""
        from ..engine.targets import resolve_target
        from ..engine.toolchain import resolve_core

        options: dict = {}
        abi = self.query_one("#deploy-float-abi", Select).value
        try:
            has_fpu = resolve_core(resolve_target(self.query_one(TargetPicker).value
                                                  or self.project.settings.target).core).has_fpu
        except NeaiError:
            has_fpu = True
        if isinstance(abi, str) and abi != "hard" and has_fpu:
            options["float_abi"] = abi
        if not self.query_one("#deploy-sections", TickBox).value:
            options["sections"] = False
        flags = self.query_one("#deploy-cflags", Input).value.strip()
        if flags:
            options["extra_flags"] = flags
        return options

    @on(Input.Changed, "#deploy-target, #deploy-suffix, #deploy-cflags")
    @on(Select.Changed, "#deploy-optimize, #deploy-float-abi")
    @on(TickBox.Changed, "#deploy-sections")
    def show_options(self) -> None:
        target = self.query_one(TargetPicker).value or self.project.settings.target
        suffix = self.query_one("#deploy-suffix", Input).value.strip()
        options = self.build_options()
        self.query_one("#deploy-options", Static).update(
            compile_options(target, suffix, self.project.settings.type, self.optimize, options.get("float_abi"),
                            options.get("sections", True), options.get("extra_flags", "")))

    def check_key(self, action: str) -> bool | None:
        if action == "deploy":
            return None if self.running else True
        if action == "copy_hello":
            return True if self.hello else None
        return True

    def action_next_view(self) -> None:
        tabs = self.query_one("#deploy-views", TabbedContent)
        current = tabs.active if tabs.active in VIEWS else VIEWS[0]
        tabs.active = VIEWS[(VIEWS.index(current) + 1) % len(VIEWS)]

    def action_deploy(self) -> None:
        lib_id = table_cursor_key(self.query_one("#deploy-libraries", DataTable))
        target = self.query_one(TargetPicker).value or None
        suffix = self.query_one("#deploy-suffix", Input).value.strip() or None
        out = self.query_one("#deploy-out", Input).value.strip() or None
        optimize = self.optimize
        self.running = True
        self.refresh_keys()
        self.set_status("deploy-status", f"Building {'library ' + lib_id if lib_id else 'the selected library'}…",
                        "bold")
        self.deploy(lib_id, target, suffix, out, optimize, self.build_options())

    @work(thread=True, exclusive=True, exit_on_error=False, group="deploy", description="deployment")
    def deploy(self, lib_id: str | None, target: str | None, suffix: str | None, out: str | None,
               optimize: str = "size", build: dict | None = None) -> None:
        from ..engine.deploy import deploy
        from ..engine.emulator_session import library_file_text

        result = deploy(self.project, lib_id=lib_id, target=target, suffix=suffix, out=out, optimize=optimize,
                        progress=lambda text: self.post_message(DeployProgressed(str(text))), **(build or {}))
        path = Path(result.zip_path)
        try:
            hello = library_file_text(path, "main.c")
        except NeaiError:
            hello = ""
        self.post_message(LibraryDeployed(path, result.metadata or {}, hello))

    def on_deploy_progressed(self, message: DeployProgressed) -> None:
        self.set_status("deploy-status", f"{message.text}…", "bold")

    def on_library_deployed(self, message: LibraryDeployed) -> None:
        self.set_status("deploy-status", f"Done: {shown_path(self.project, message.path)}. d builds it again.",
                        "green")
        self.show_result(message.path, message.metadata)
        self.hello = message.hello_world
        self.query_one("#hello-world", TextArea).load_text(self.hello or "(this zip has no main.c)")
        self.query_one("#deploy-views", TabbedContent).active = "result-tab"
        self.notify(str(message.path), title="Library written")
        screen = self.screen
        if hasattr(screen, "load_libraries"):
            screen.load_libraries()  # deploying a chosen library selects it
        if hasattr(screen, "zips_changed"):
            screen.zips_changed()
        self.refresh_keys()

    def show_result(self, path, metadata: dict) -> None:
        try:
            size = format_bytes(os.path.getsize(path))
        except OSError:
            size = "–"
        rows = [("Library zip", shown_path(self.project, path)), ("Zip size", size)]
        if metadata:
            measured = metadata.get("measured") or {}
            target = metadata.get("target", "")
            core = metadata.get("core", "")
            anomaly = metadata.get("type") == "anomaly"
            call = "detect" if anomaly else "inference"
            cycles = measured.get(f"cycles_per_{call}", measured.get("cycles_per_detect"))
            instructions = measured.get(f"instructions_per_{call}", measured.get("instructions_per_detect"))
            rows += [
                ("Library", f"{metadata.get('library_id', '–')} ({metadata.get('type', '')})"),
                ("Target", f"{target} ({core}, {metadata.get('float_abi', '')} float)" if core and core != target
                 else target or "–"),
                ("Optimised for", optimize_text(metadata.get("optimize"))
                 + _build_text(metadata.get("build") or {})),
                ("Flash", format_bytes(measured.get("flash_bytes", metadata.get("flash_bytes")))
                 + ("  measured" if measured else "")
                 + (f" (knowledge {format_bytes(measured['knowledge_bytes'])})" if measured.get("knowledge_bytes")
                    else "")),
                ("RAM", format_bytes(measured.get("ram_bytes", metadata.get("ram_bytes")))
                 + (f"  (static {measured.get('static_ram_bytes')} B + stack {measured.get('stack_bytes')} B)"
                    if "static_ram_bytes" in measured else "")),
                (f"Per {call}", (f"{cycles} cycles, " if cycles is not None else "")
                 + f"{instructions if instructions is not None else '–'} instructions" if measured else "–"),
                *timing_rows(metadata.get("timing")),
                *share_rows(metadata.get("target_info") or {}),
                ("Verified", f"Cortex-M build = host build on {measured.get('lines_compared')} lines"
                 if measured.get("identical") else "–"),
                ("Score", format_number(metadata.get("score"))),
                ("Metrics", short_metrics(metadata.get("metrics"))),
            ]
            if anomaly:
                rows.append(("Learn at least", f"{metadata.get('min_learning_iterations', '–')} times"))
            if metadata.get("classes"):
                rows.append(("Classes", ", ".join(f"{i} {name}" for i, name in enumerate(metadata["classes"], 1))))
            rows += [
                ("Pipeline", str(metadata.get("pipeline", "–"))),
                ("Link with", " ".join(metadata.get("flags") or [])),
            ]
        self.query_one("#deploy-result", Static).update(grid(rows))

    def action_copy_hello(self) -> None:
        if self.hello:
            self.app.copy_to_clipboard(self.hello)
            self.notify("main.c copied (OSC 52: your terminal must allow clipboard access).", title="Hello World")

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if worker.group == "deploy":
            self.running = False
            self.refresh_keys()
            if state != WorkerState.SUCCESS:
                self.set_status("deploy-status", "Deployment failed; see the message. d tries again.", "red")


def _build_text(build: dict) -> str:
    """The compilation options besides the level, as the Result tab shows them."""
    parts = []
    if build.get("float_abi") == "softfp":
        parts.append("softfp")
    if build.get("sections") is False:
        parts.append("no per-function sections")
    if build.get("extra_flags"):
        parts.append(" ".join(build["extra_flags"]))
    return f", {', '.join(parts)}" if parts else ""


def share_rows(info: dict) -> list[tuple[str, str]]:
    """The library's share of the target's memory (none for a bare core; the time per
    call is the Time row)."""
    shares = [f"{100 * info[k + '_share']:.1f} % of {k.replace('ram', 'RAM')}" for k in ("flash", "ram")
              if info.get(k + "_share") is not None]
    return [("Target share", f"{info.get('name', '')}: {', '.join(shares)}")] if shares else []
