"""The report document (report.py) as PDF, HTML or Markdown.

`blocks(doc)` lays the report out once, as a list of headings, paragraphs,
key/value lists, tables and figures; the three writers only differ in how they
put a block on the page, so the formats hold the same figures:

* PDF: matplotlib's PDF backend (PdfPages), A4 pages: text is text (TrueType
  fonts embedded, so it can be searched and copied), plots are matplotlib
  figures whose data layers are rasterised (images);
* HTML: one self-contained file, plots embedded as PNG (base64);
* Markdown: plots as PNG files in FILE_files/ next to it.

matplotlib is imported here only, when a report is written (Agg and PDF
backends, never a GUI).
"""
from __future__ import annotations

import base64
import html
import io
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import UsageError

A4 = (8.27, 11.69)
MARGIN = 0.7  # inches
FIGURE_WIDTH = A4[0] - 2 * MARGIN


@dataclass
class Figure:
    name: str
    caption: str
    draw: Callable  # draw(fig, rect) with rect = (x, y, w, h) in figure fraction
    height: float = 3.0  # inches
    data: dict = field(default_factory=dict)


def fmt(value, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v, digits) for v in value) + "]"
    return str(value)


def fmt_bytes(value) -> str:
    if value is None:
        return "–"
    return f"{value} B ({value / 1024:.1f} KB)" if value >= 1024 else f"{value} B"


METRIC_NAMES = {"balanced_accuracy": "balanced accuracy", "functional_margin": "functional margin",
                "outlier_rejection": "outlier rejection", "r2": "R²", "smape": "SMAPE (%)", "rmse": "RMSE",
                "f1": "macro F1", "mcc": "MCC"}


def metric_name(key: str) -> str:
    return METRIC_NAMES.get(key, key.replace("_", " "))


# --------------------------------------------------------------------------- layout
def blocks(doc: dict) -> list[tuple]:
    """The report as ("title"|"h2"|"p", text), ("kv", pairs), ("table", headers, rows) and ("figure", Figure)."""
    p, lib, bench, meas = doc["project"], doc["library"], doc["benchmark"], doc["measured"]
    out: list[tuple] = [("title", doc["title"]),
                        ("p", f"{p['type_title']} project '{p['name']}', generated {doc['generated']} by {doc['tool']}.")]
    if p.get("description"):
        out.append(("p", p["description"]))
    # -- project and data
    out.append(("h2", "Project and data"))
    rate = f"{fmt(p['sampling_rate_hz'])} Hz" if p.get("sampling_rate_hz") else "not given"
    out.append(("kv", [("type", p["type_title"] + (" (Multi-sensor)" if p["multisensor"] else "")),
                       ("axes", p["axes"]), ("buffer", f"{p['buffer_size']} samples per axis"
                                             + (f" ({p['buffer_ms']} ms)" if p.get("buffer_ms") else "")),
                       ("sampling rate", rate), ("values per line", p.get("values_per_line")),
                       ("target", f"{p['target']} ({p['core']})"),
                       ("limits", f"RAM {fmt(p['max_ram_kb'])} KB, flash {fmt(p['max_flash_kb'])} KB")]))
    data = doc["data"]
    out.append(("table", ["file", "id", "label", "lines", "values", "used", "sha256"],
                [[f["name"], f["id"], f["label"], f["lines"], f["values_per_line"], fmt(f["used"]), f["sha256"][:12]]
                 for f in data["files"]]))
    out.append(("figure", Figure("repartition", f"Repartition of the {data['lines']} lines the benchmark used",
                                 draw_repartition, 2.2 if len(data["repartition"]) < 6 else 3.2, data)))
    # -- benchmark
    out.append(("h2", "Benchmark"))
    out.append(("kv", [("benchmark", f"{bench['id']} ({bench['status']}), budget {bench['budget']}"),
                       ("evaluations", f"{bench['evals']} in {fmt(bench['elapsed_s'])} s, seed {bench['seed']}, "
                                       f"space of {fmt(bench['space_size'])} candidates"),
                       ("files", ("only " if bench["restricted"] else "") + ", ".join(bench["files"])),
                       ("splits", f"{fmt(bench.get('n_splits'))} ({bench['split_kind']}); the score is the worst "
                                  "split's")]))
    if bench.get("splits"):
        from .bench_history import splits_text

        out.append(("p", "Splits: " + "; ".join(splits_text(s) for s in bench["splits"][:5])))
    main = metric_name(lib["main_metric"])
    ci = lib.get("ci95")
    out.append(("h2", f"Library {lib['id']}"))
    out.append(("kv", [("pipeline", lib["pipeline"]), ("score", fmt(lib["score"])),
                       (f"{main}, worst split", fmt(lib["worst"])),
                       (f"{main}, mean of splits", fmt(lib["mean"]) + (f"  (95 % interval {fmt(ci[0])} – {fmt(ci[1])})"
                                                                        if ci else "")),
                       *((metric_name(k), fmt(v)) for k, v in lib["metrics"].items()
                         if k != lib["main_metric"] and not k.endswith("_mean")),
                       ("RAM / flash (search estimate)",
                        f"{fmt_bytes(lib['estimated_ram_bytes'])} / {fmt_bytes(lib['estimated_flash_bytes'])}")]))
    out.append(("figure", Figure("flowchart", "The library's pipeline, from the sensor buffer to its answer",
                                 draw_flowchart, 2.3, {"stages": doc["flowchart"]})))
    out.append(("p", "Pipeline: " + " → ".join(f"{s['stage']}: {s['title']}" for s in doc["flowchart"])))
    out.append(("table", ["stage", "parameters"],
                [[s["stage"], ", ".join(f"{k} {fmt(v)}" for k, v in s["params"].items()) or "–"]
                 for s in doc["flowchart"]]))
    # -- measured on the core
    out.append(("h2", "Measured on the core"))
    if "missing" in meas:
        out.append(("p", meas["missing"]))
    else:
        clock = f"{fmt(meas['clock_mhz'])} MHz" + (" (assumed for a bare core)" if meas.get("clock_assumed") else "")
        out.append(("kv", [("target", f"{meas['target']} ({meas['core']}, {meas['float_abi']} float, "
                                      f"optimised for {meas['optimize']})"),
                           ("flash", fmt_bytes(meas["flash_bytes"])),
                           ("RAM", f"{fmt_bytes(meas['ram_bytes'])} (static {fmt_bytes(meas['static_ram_bytes'])} "
                                   f"+ stack {fmt_bytes(meas['stack_bytes'])})"),
                           (f"instructions per {meas['call']}", fmt(meas["instructions"])),
                           (f"cycles per {meas['call']}", fmt(meas["cycles"])),
                           (f"time per {meas['call']}", f"{fmt(meas['us'])} µs at {clock}"),
                           ("verified", f"Cortex-M build = host build on {fmt(meas['lines_compared'])} lines"
                                        if meas.get("identical") else "not verified"),
                           ("zip", Path(meas["zip"]).name)]))
    # -- results
    for key, heading in (("results", "Results on the benchmark's held-out lines"),
                         ("experiment_results", "Results on the experiment's files")):
        res = doc.get(key)
        if res:
            out.append(("h2", heading))
            out += result_blocks(res, "benchmark" if key == "results" else "experiment")
    if doc.get("experiment"):
        out += experiment_blocks(doc["experiment"])
    if doc.get("learning_curve"):
        lc = doc["learning_curve"]
        out.append(("h2", "Learning curve"))
        out.append(("p", f"Balanced accuracy against the number of signals learned on the device (mean over the "
                         f"benchmark's splits). Learn at least {lc['min_learning_iterations']} times: from there the "
                         "balanced accuracy stays within 0.02 of what the whole learning set reaches."))
        out.append(("figure", Figure("learning", f"Learning curve; minimum {lc['min_learning_iterations']} "
                                                 "learning iterations", draw_learning, 2.6, lc)))
    out += nested_blocks(doc.get("nested_cv") or {})
    return out


def result_blocks(res: dict, prefix: str = "benchmark") -> list[tuple]:
    out: list[tuple] = [("p", f"Source: {res['source']}.")]
    kind = res["kind"]
    if kind in ("anomaly", "one-class"):
        roc = res["roc"]
        rows = [[pt["label"], fmt(pt["fpr"]), fmt(pt["tpr"])] for pt in res["operating_points"]]
        if kind == "anomaly":
            out.append(("kv", [("lines", f"{len(res['nominal'])} nominal, {len(res['abnormal'])} abnormal"),
                               ("balanced accuracy at 90 %", fmt(res["balanced_accuracy"])),
                               ("ROC AUC", fmt(roc["auc"]))]))
        else:
            out.append(("kv", [("lines", f"{len(res['normal'])} normal, {len(res['outliers'])} {res['outliers_are']}"),
                               ("recall (normal kept)", fmt(res.get("recall"))),
                               ("outlier rejection", fmt(res.get("outlier_rejection"))),
                               ("ROC AUC", fmt(roc["auc"]))]))
        out.append(("table", ["operating point", "false alarms (FPR)", "detected (TPR)"], rows))
        out.append(("figure", Figure(f"{prefix}-roc", f"ROC curve (AUC {fmt(roc['auc'])}) and the operating points",
                                     draw_roc, 3.0, res)))
    elif kind == "one-class-flags":
        out.append(("kv", [("recall (normal kept)", fmt(res.get("recall"))),
                           ("outlier rejection", fmt(res.get("outlier_rejection"))),
                           ("balanced accuracy", fmt(res.get("balanced_accuracy")))]))
    elif kind == "n-class":
        out.append(("kv", [("balanced accuracy", fmt(res["balanced_accuracy"])), ("accuracy", fmt(res["accuracy"]))]))
        out.append(("table", ["class", "lines", "precision", "recall"],
                    [[c, n, fmt(p), fmt(r)] for c, n, p, r in zip(res["classes"], res["support"], res["precision"],
                                                                   res["recall"])]))
        size = 3.2 if len(res["classes"]) <= 6 else 4.6
        out.append(("figure", Figure(f"{prefix}-confusion", "Confusion matrix (rows: true class, columns: predicted) and "
                                                  "per-class precision and recall", draw_confusion, size, res)))
    else:
        out.append(("kv", [("lines", len(res["real"])), ("R²", fmt(res.get("r2"))), ("RMSE", fmt(res.get("rmse"))),
                           ("SMAPE (%)", fmt(res.get("smape")))]))
        out.append(("figure", Figure(f"{prefix}-extrapolation", "Predicted against true values, and the residuals",
                                     draw_extrapolation, 3.0, res)))
    return out


def experiment_blocks(e: dict) -> list[tuple]:
    out: list[tuple] = [("h2", f"Experiment {e['id']}")]
    out.append(("p", f"Run {e['created']} on " + ", ".join(e["libraries"]) + (f"; note: {e['note']}" if e["note"]
                                                                              else "") + "."))
    rows = [["learn", f["name"] + (f"@{f['line_range']}" if f.get("line_range") else ""), f["lines"], "–",
             f["sha256"][:12]] for f in e["learn"]]
    rows += [["test", f["name"] + (f"@{f['line_range']}" if f.get("line_range") else "")
              + (f" (port {f['port']})" if f.get("port") else ""), f["lines"], f.get("expected") or "–",
              f["sha256"][:12]] for f in e["tests"]]
    out.append(("table", ["use", "file", "lines", "expected", "sha256"], rows))
    if e.get("error"):
        out.append(("p", f"The library failed: {e['error']}"))
        return out
    out.append(("table", ["file", "lines", "expected", "right %"],
                [[Path(f["file"]).name, f["lines"], f.get("expected") or "–", fmt(f.get("correct"))]
                 for f in e["files"]]))
    figures = [(metric_name(k), fmt(v)) for k, v in e["metrics"].items()]
    if e.get("learned"):
        figures.insert(0, ("learned", e["learned"]))
    out.append(("kv", figures))
    return out


def nested_blocks(n: dict) -> list[tuple]:
    out: list[tuple] = [("h2", "Nested cross-validation")]
    if "skipped" in n:
        out.append(("p", f"Not computed: {n['skipped']}."))
        return out
    s, metric = n["summary"], metric_name(n["metric"])
    opt = n["options"]
    own = n.get("benchmark_figure") or {}
    grouping = {"recordings": "whole recordings", "blocks": "contiguous blocks of each file"}.get(n["grouping"],
                                                                                                  n["grouping"])
    out.append(("p", f"The benchmark's search was run again inside {opt['folds']} outer folds ({grouping}), "
                     f"{opt['evals']} evaluations each, and its choice judged on the held-out fold by the same C. "
                     f"Inner figure minus held-out figure = the selection's optimism. Baseline: {n['baseline_name']}, "
                     "on the same folds."))
    out.append(("kv", [(f"benchmark's {metric} (worst split / mean)", f"{fmt(own.get('worst'))} / {fmt(own.get('mean'))}"),
                       (f"inner searches' {metric} (worst split / mean)",
                        f"{fmt(s['inner_worst'])} / {fmt(s['inner_mean'])}"),
                       (f"held-out {metric}", f"{fmt(s['outer'])}" + (f" ± {fmt(s['outer_std'])}"
                                                                       if s.get("outer_std") is not None else "")),
                       ("optimism (mean of splits − held-out)", fmt(s["optimism_mean"])),
                       ("optimism (worst split − held-out)", fmt(s["optimism_worst"])),
                       (f"baseline's held-out {metric}", fmt(s["baseline"]))]))
    rows = []
    for f in n["folds"]:
        if "error" in f:
            rows.append([f["fold"], "–", "–", "–", "–", f["error"][:60]])
            continue
        rows.append([f["fold"], f.get("held_out_lines"), f"{fmt(f['inner_worst'])} / {fmt(f['inner_mean'])}",
                     fmt(f["outer"].get(n["metric"])), fmt(f["baseline"].get(n["metric"])), f["pipeline"]])
    out.append(("table", ["fold", "held out", "inner worst / mean", "held-out", "baseline", "chosen pipeline"], rows))
    out.append(("figure", Figure("nested", f"Nested cross-validation: {metric} per outer fold", draw_nested, 2.8, n)))
    return out


# --------------------------------------------------------------------------- figures
def _axes(fig, rect, n: int = 1, gap: float = 0.1, left: float = 0.09):
    """n axes side by side inside rect, with room for their labels (`left`: share of the width)."""
    x, y, w, h = rect
    left, bottom = left * w, 0.2 * h
    width = (w - left - 0.02 * w - gap * w * (n - 1)) / n
    return [fig.add_axes((x + left + i * (width + gap * w), y + bottom, width, h - bottom - 0.1 * h))
            for i in range(n)]


def draw_repartition(fig, rect, data):
    (ax,) = _axes(fig, rect)
    labels = list(data["repartition"])
    counts = [data["repartition"][k] for k in labels]
    ax.barh(range(len(labels)), counts, color="#4c72b0", rasterized=True)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("lines", fontsize=8)
    for i, c in enumerate(counts):
        ax.text(c, i, f" {c}", va="center", fontsize=7)


def draw_flowchart(fig, rect, data):
    from matplotlib.patches import FancyBboxPatch

    x, y, w, h = rect
    ax = fig.add_axes((x, y, w, h))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    stages = data["stages"]
    n = len(stages)
    box_w, gap = 0.9 / n, 0.1 / max(1, n - 1) if n > 1 else 0
    for i, st in enumerate(stages):
        bx = i * (box_w + gap)
        ax.add_patch(FancyBboxPatch((bx, 0.08), box_w, 0.84, boxstyle="round,pad=0.005,rounding_size=0.02",
                                    fc="#eef3fa", ec="#4c72b0", lw=1))
        ax.text(bx + box_w / 2, 0.84, st["stage"], ha="center", va="top", fontsize=8, weight="bold")
        body = textwrap.fill(st["title"], 22)
        params = "\n".join(textwrap.shorten(f"{k} {fmt(v)}", 24) for k, v in list(st["params"].items())[:6])
        ax.text(bx + box_w / 2, 0.72, body, ha="center", va="top", fontsize=6.5)
        if params:
            ax.text(bx + box_w / 2, 0.38, params, ha="center", va="top", fontsize=5.8, color="#444444")
        if i < n - 1:
            ax.annotate("", xy=(bx + box_w + gap, 0.5), xytext=(bx + box_w, 0.5),
                        arrowprops={"arrowstyle": "->", "color": "#4c72b0"})


def draw_roc(fig, rect, res):
    ax, hist = _axes(fig, rect, 2, gap=0.12)
    roc = res["roc"]
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=0.8)
    ax.plot(roc["fpr"], roc["tpr"], color="#4c72b0", lw=1.5, label=f"AUC {fmt(roc['auc'])}", rasterized=True)
    for pt, marker in zip(res["operating_points"], ("o", "s")):
        if pt["fpr"] is not None and pt["tpr"] is not None:
            ax.plot([pt["fpr"]], [pt["tpr"]], marker, color="#c44e52", label=pt["label"])
    ax.set_xlabel("false alarm rate", fontsize=8)
    ax.set_ylabel("detection rate", fontsize=8)
    ax.legend(fontsize=6, loc="lower right")
    if res["kind"] == "anomaly":
        bins = list(range(0, 102, 4))
        hist.hist(res["nominal"], bins=bins, alpha=0.6, label="nominal", color="#55a868", rasterized=True)
        hist.hist(res["abnormal"], bins=bins, alpha=0.6, label="abnormal", color="#c44e52", rasterized=True)
        hist.axvline(90, color="black", ls="--", lw=0.8)
        hist.set_xlabel("similarity (%)", fontsize=8)
    else:
        hist.hist(res["normal"], bins=30, alpha=0.6, label="normal", color="#55a868", rasterized=True)
        hist.hist(res["outliers"], bins=30, alpha=0.6, label="synthetic outliers", color="#c44e52", rasterized=True)
        hist.axvline(res["threshold"], color="black", ls="--", lw=0.8)
        hist.set_xlabel("outlier score", fontsize=8)
    hist.set_ylabel("lines", fontsize=8)
    hist.legend(fontsize=6)
    for a in (ax, hist):
        a.tick_params(labelsize=7)


def draw_confusion(fig, rect, res):
    ax, bars = _axes(fig, rect, 2, gap=0.16, left=0.16)
    cm = res["confusion"]
    classes = res["classes"]
    ax.imshow(cm, cmap="Blues")
    small = len(classes) > 8
    for i, row in enumerate(cm):
        for j, v in enumerate(row):
            if v or not small:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=5 if small else 7,
                        color="white" if v > 0.6 * max(max(r) for r in cm) else "black")
    ticks = range(len(classes))
    ax.set_xticks(ticks, [c[:10] for c in classes], rotation=90, fontsize=5 if small else 7)
    ax.set_yticks(ticks, [c[:12] for c in classes], fontsize=5 if small else 7)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    import numpy as np

    idx = np.arange(len(classes))
    bars.barh(idx - 0.2, [p or 0 for p in res["precision"]], 0.4, label="precision", color="#4c72b0",
              rasterized=True)
    bars.barh(idx + 0.2, [r or 0 for r in res["recall"]], 0.4, label="recall", color="#dd8452", rasterized=True)
    bars.set_yticks(idx, [c[:12] for c in classes], fontsize=5 if small else 7)
    bars.invert_yaxis()
    bars.set_xlim(0, 1)
    bars.legend(fontsize=6, loc="lower left")
    bars.tick_params(labelsize=7)


def draw_extrapolation(fig, rect, res):
    ax, resid = _axes(fig, rect, 2, gap=0.12)
    real, pred = res["real"], res["predicted"]
    ax.scatter(real, pred, s=8, color="#4c72b0", rasterized=True)
    if real:
        lo, hi = min(min(real), min(pred)), max(max(real), max(pred))
        ax.plot([lo, hi], [lo, hi], ls="--", color="grey", lw=0.8, label="y = x")
        ax.legend(fontsize=6)
    ax.set_xlabel("true", fontsize=8)
    ax.set_ylabel("predicted", fontsize=8)
    resid.scatter(real, res["residuals"], s=8, color="#dd8452", rasterized=True)
    resid.axhline(0, color="grey", lw=0.8)
    resid.set_xlabel("true", fontsize=8)
    resid.set_ylabel("predicted − true", fontsize=8)
    for a in (ax, resid):
        a.tick_params(labelsize=7)


def draw_learning(fig, rect, lc):
    (ax,) = _axes(fig, rect)
    ax.plot(lc["counts"], lc["balanced_accuracy"], marker=".", color="#4c72b0", rasterized=True)
    if lc.get("min_learning_iterations"):
        ax.axvline(lc["min_learning_iterations"], color="#c44e52", ls="--", lw=0.8,
                   label=f"minimum {lc['min_learning_iterations']}")
        ax.legend(fontsize=7)
    if lc["counts"] and lc["counts"][-1] / max(1, lc["counts"][0]) > 20:
        ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("signals learned", fontsize=8)
    ax.set_ylabel("balanced accuracy", fontsize=8)
    ax.tick_params(labelsize=7)


def draw_nested(fig, rect, n):
    import numpy as np

    x0, y0, w, h = rect
    (ax,) = _axes(fig, (x0, y0, w * 0.78, h))
    folds = [f for f in n["folds"] if "error" not in f]
    metric = n["metric"]
    x = np.arange(1, len(folds) + 1)
    ax.bar(x, [f["outer"].get(metric) or 0 for f in folds], 0.5, color="#4c72b0", label="held-out fold",
           rasterized=True)
    ax.plot(x, [f["inner_worst"] for f in folds], "v", color="#c44e52", label="inner worst split")
    ax.plot(x, [f["inner_mean"] for f in folds], "^", color="#dd8452", label="inner mean of splits")
    ax.plot(x, [f["baseline"].get(metric) for f in folds], "x", color="black", label="baseline")
    own = n.get("benchmark_figure") or {}
    if own.get("worst") is not None:
        ax.axhline(own["worst"], color="#c44e52", ls=":", lw=0.8, label="benchmark's worst split")
    ax.set_xticks(x, [f"fold {f['fold']}" for f in folds], fontsize=7)
    low = min([v for f in folds for v in (f["outer"].get(metric), f["baseline"].get(metric), f["inner_worst"])
               if v is not None] + [1.0])
    ax.set_ylim(max(-0.05, min(0.5, low - 0.1)) if metric != "r2" else min(0.0, low - 0.1), 1.05)
    ax.set_ylabel(metric_name(metric), fontsize=8)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.tick_params(labelsize=7)


# --------------------------------------------------------------------------- writers
def _png(figure: Figure) -> bytes:
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(FIGURE_WIDTH, figure.height))
    figure.draw(fig, (0.0, 0.0, 1.0, 1.0), figure.data)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _md_table(headers, rows) -> str:
    def cell(v) -> str:
        return fmt(v).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_markdown(doc: dict, out: Path) -> Path:
    assets = out.with_name(out.stem + "_files")

    def figure(f: Figure) -> str:
        assets.mkdir(parents=True, exist_ok=True)
        (assets / f"{f.name}.png").write_bytes(_png(f))
        return f"![{f.caption}]({assets.name}/{f.name}.png)\n\n*{f.caption}*"

    parts = _render(doc, {"title": lambda t: f"# {t}", "h2": lambda t: f"## {t}", "p": lambda t: t,
                          "kv": lambda items: _md_table(["", ""], [[k, v] for k, v in items]),
                          "table": _md_table, "figure": figure})
    _write_text(out, "\n\n".join(parts) + "\n")
    return out


HTML_STYLE = """body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;font-size:90%;text-align:left}
th{background:#eef3fa}figure{margin:1em 0}figcaption{font-style:italic;font-size:90%}img{max-width:100%}"""


def write_html(doc: dict, out: Path) -> Path:
    e = html.escape

    def table(headers, rows) -> str:
        head = "".join(f"<th>{e(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{e(fmt(v))}</td>" for v in row) + "</tr>" for row in rows)
        return f"<table><tr>{head}</tr>{body}</table>"

    def figure(f: Figure) -> str:
        data = base64.b64encode(_png(f)).decode()
        return (f"<figure><img alt='{e(f.caption)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{e(f.caption)}</figcaption></figure>")

    parts = _render(doc, {
        "title": lambda t: f"<h1>{e(t)}</h1>", "h2": lambda t: f"<h2>{e(t)}</h2>", "p": lambda t: f"<p>{e(t)}</p>",
        "kv": lambda items: "<table>" + "".join(f"<tr><th>{e(fmt(k))}</th><td>{e(fmt(v))}</td></tr>"
                                                for k, v in items) + "</table>",
        "table": table, "figure": figure})
    _write_text(out, "\n".join([f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(doc['title'])}</title>"
                                f"<style>{HTML_STYLE}</style></head><body>", *parts, "</body></html>"]) + "\n")
    return out


def _render(doc: dict, put: dict[str, Callable]) -> list[str]:
    """Each block of the layout through the writer's function for its kind."""
    return [put[block[0]](*block[1:]) for block in blocks(doc)]


class _Pages:
    """A flow of text and figures onto A4 pages of a PdfPages file."""

    def __init__(self, pdf, title: str):
        self.pdf, self.title = pdf, title
        self.fig = None
        self.y = 0.0
        self.number = 0

    def _new_page(self):
        from matplotlib.figure import Figure as MplFigure

        self.finish()
        self.number += 1
        self.fig = MplFigure(figsize=A4)
        self.fig.text(MARGIN / A4[0], 0.4 / A4[1], f"{self.title} — page {self.number}", fontsize=7, color="grey")
        self.y = A4[1] - MARGIN

    def finish(self):
        if self.fig is not None:
            self.pdf.savefig(self.fig, dpi=150)
            self.fig = None

    def room(self, inches: float):
        if self.fig is None or self.y - inches < MARGIN:
            self._new_page()

    def text(self, text: str, size: float, weight: str = "normal", family: str = "DejaVu Sans",
             gap_after: float = 0.06):
        line_h = size * 1.35 / 72
        for line in text.split("\n"):
            self.room(line_h)
            self.fig.text(MARGIN / A4[0], (self.y - line_h) / A4[1], line, fontsize=size, weight=weight,
                          family=family, va="bottom")
            self.y -= line_h
        self.y -= gap_after

    def figure(self, figure: Figure):
        caption_h = 0.25
        self.room(figure.height + caption_h)
        top = self.y
        rect = (MARGIN / A4[0], (top - figure.height) / A4[1], FIGURE_WIDTH / A4[0], figure.height / A4[1])
        figure.draw(self.fig, rect, figure.data)
        self.y = top - figure.height
        self.text(figure.caption, 7.5, gap_after=0.12)


def _table_text(headers, rows, width: int) -> str:
    cells = [[fmt(h) for h in headers]] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    while sum(widths) + 2 * (len(widths) - 1) > width and max(widths) > 8:
        widths[widths.index(max(widths))] -= 1
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join((c if len(c) <= w else c[: w - 1] + "…").ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_pdf(doc: dict, out: Path) -> Path:
    import matplotlib

    from matplotlib.backends.backend_pdf import PdfPages

    partial = out.with_name(f".{out.name}.partial")
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}):
        with PdfPages(partial, metadata={"Title": doc["title"], "Creator": doc["tool"]}) as pdf:
            pages = _Pages(pdf, doc["title"])
            for block in blocks(doc):
                kind = block[0]
                if kind == "title":
                    pages.text(block[1], 15, "bold", gap_after=0.1)
                elif kind == "h2":
                    pages.room(0.9)  # a heading does not end a page
                    pages.text(block[1], 12, "bold", gap_after=0.05)
                elif kind == "p":
                    pages.text(textwrap.fill(block[1], 105), 8.5)
                elif kind == "kv":
                    width = max(len(str(k)) for k, _ in block[1])
                    text = "\n".join(f"{str(k).ljust(width)}  {textwrap.shorten(fmt(v), 110 - width)}"
                                     for k, v in block[1])
                    pages.text(text, 7.5, family="DejaVu Sans Mono")
                elif kind == "table":
                    pages.text(_table_text(block[1], block[2], 112), 7, family="DejaVu Sans Mono")
                else:
                    pages.figure(block[1])
            pages.finish()
    partial.replace(out)
    return out


def _write_text(out: Path, text: str) -> None:
    from .storage import atomic_write_bytes

    atomic_write_bytes(out, text.encode("utf-8"))


def write(doc: dict, out: Path) -> Path:
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        return write_pdf(doc, out)
    if suffix in (".html", ".htm"):
        return write_html(doc, out)
    if suffix == ".md":
        return write_markdown(doc, out)
    raise UsageError(f"{out}: unknown report format '{suffix}'", "End the file name with .pdf, .html or .md.")
