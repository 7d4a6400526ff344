"""`neai report`: the PDF opens back (pypdf) with its pages, text and images; the
HTML and Markdown versions hold the same figures; the nested cross-validation is
computed once and kept."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from neai_tui.cli import main
from neai_tui.engine.project import Project, ProjectSettings
from neai_tui.engine.search import run_benchmark

from .conftest import REPO, tone_signals, write_signals

pytestmark = pytest.mark.slow


def run_cli(capsys, *args) -> str:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, err
    return out


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def anomaly_report(tmp_path_factory):
    """A benchmarked anomaly project with an experiment, and its report in the three formats."""
    import contextlib
    import io

    tmp = tmp_path_factory.mktemp("report")
    rng = np.random.default_rng(5)
    nominal = write_signals(tmp / "nominal.csv", np.vstack([tone_signals(rng, 40, 50.0), tone_signals(rng, 40, 70.0)]))
    abnormal = write_signals(tmp / "abnormal.csv", tone_signals(rng, 40, 160.0, amp=1.5))
    new_nominal = write_signals(tmp / "new_nominal.csv", tone_signals(rng, 20, 50.0))
    new_abnormal = write_signals(tmp / "new_abnormal.csv", tone_signals(rng, 20, 160.0, amp=1.5))
    project = Project.create(tmp / "fan", ProjectSettings(name="Fan report", type="anomaly", axes=3,
                                                          target="NUCLEO-L432KC", frequency_filter={
                                                              "sampling_rate_hz": 1000.0}))
    project.import_signal(nominal, role="nominal")
    project.import_signal(abnormal, role="abnormal")
    best = run_benchmark(project, max_evals=100, seed=4).best
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["validate", str(project.path), "--lib", best["id"], "--learn", str(nominal),
                     "--test", f"{new_nominal}:nominal", f"{new_abnormal}:abnormal", "--json"]) == 0
    experiment = json.loads(out.getvalue())["id"]
    paths = {}
    figures = None
    for ext in ("pdf", "html", "md"):
        paths[ext] = tmp / f"report.{ext}"
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert main(["report", str(project.path), "--experiment", experiment, "--out", str(paths[ext]),
                         "--nested-folds", "3", "--nested-evals", "60", "--json"]) == 0
        figures = json.loads(out.getvalue())["figures"]
    return project, best, experiment, paths, figures


def key_figures(doc: dict) -> list[str]:
    """Figures every format must hold, as the report writes them."""
    from neai_tui.engine.report_render import fmt

    m, n = doc["measured"], doc["nested_cv"]["summary"]
    return [str(m["flash_bytes"]), str(m["ram_bytes"]), fmt(m["instructions"]), fmt(m["cycles"]), fmt(m["us"]),
            fmt(doc["library"]["score"]), fmt(doc["library"]["worst"]), fmt(doc["results"]["roc"]["auc"]),
            fmt(doc["experiment"]["metrics"]["balanced_accuracy"]), fmt(n["outer"]), fmt(n["optimism_mean"]),
            fmt(n["baseline"]), doc["measured"]["core"]]


def test_pdf_opens_back_with_pages_text_and_images(anomaly_report):
    from pypdf import PdfReader

    project, best, experiment, paths, doc = anomaly_report
    reader = PdfReader(paths["pdf"])
    assert len(reader.pages) >= 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    for heading in ("Project and data", "Benchmark", f"Library {best['id']}", "Measured on the core",
                    "Results on the benchmark's held-out lines", f"Experiment {experiment}", "Learning curve",
                    "Nested cross-validation"):
        assert heading in text, heading
    pre, model = best["pipeline_text"].split(" -> ", 1)
    assert squeeze(pre) in squeeze(text) and squeeze(model) in squeeze(text)  # the flowchart's stages
    for stage in ("Input", "Preprocessing", "Model", "Output"):
        assert stage in text
    assert "80 MHz" in text  # the L432KC's clock gives the time per call
    for figure in key_figures(doc):
        assert figure in text, figure
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 5  # repartition, ROC, learning curve, nested CV plots (rasterised data layers)
    assert reader.metadata.title == doc["title"]


def test_html_and_markdown_hold_the_same_figures(anomaly_report):
    _, _, _, paths, doc = anomaly_report
    html = paths["html"].read_text()
    md = paths["md"].read_text()
    for figure in key_figures(doc):
        assert figure in html and figure in md, figure
    figures = len(re.findall(r"!\[", md))
    assert html.count("data:image/png;base64,") == figures >= 5
    assets = paths["md"].with_name("report_files")
    assert len(list(assets.glob("*.png"))) == figures
    for name in re.findall(r"\]\((report_files/[^)]+)\)", md):
        assert (paths["md"].parent / name).is_file()


def test_nested_cross_validation_is_kept_and_reused(anomaly_report, capsys):
    project, _, _, _, doc = anomaly_report
    nested = doc["nested_cv"]
    assert nested["metric"] == "balanced_accuracy" and len(nested["folds"]) == 3
    for fold in nested["folds"]:
        assert fold["held_out_lines"] > 0 and fold["inner_lines"] + fold["held_out_lines"] == 120
        assert 0 <= fold["outer"]["balanced_accuracy"] <= 1 and fold["pipeline"]
    s = nested["summary"]
    assert s["optimism_mean"] == pytest.approx(s["inner_mean"] - s["outer"], abs=2e-4)
    kept = list((project.path / "nested_cv").glob("*.json"))
    assert len(kept) == 1  # three reports, one computation
    again = json.loads(run_cli(capsys, "report", project.path, "--out", project.path.parent / "again.md",
                               "--nested-folds", "3", "--nested-evals", "60", "--json"))["figures"]["nested_cv"]
    assert again["folds"] == nested["folds"]


def test_report_of_an_nclass_library_has_its_confusion_matrix(tmp_path, capsys):
    from pypdf import PdfReader

    project = Project.create(tmp_path / "p", ProjectSettings(name="classes", type="n-class", axes=3))
    for name in ("normal", "imbalance", "tapping"):
        project.import_signal(REPO / "sample_data" / "nclass" / f"{name}.csv", class_name=name)
    run_benchmark(project, max_evals=20, seed=1)
    out = tmp_path / "classes.pdf"
    doc = json.loads(run_cli(capsys, "report", project.path, "--out", out, "--no-nested", "--json"))["figures"]
    res = doc["results"]
    assert res["kind"] == "n-class" and res["classes"] == ["normal", "imbalance", "tapping"]
    assert np.array(res["confusion"]).sum() == sum(res["support"])
    text = "\n".join(p.extract_text() for p in PdfReader(out).pages)
    assert "precision" in text and "Confusion matrix" in text and "imbalance" in text
    assert "Not computed" in text  # --no-nested says so


def test_report_refuses_what_it_cannot_do(anomaly_report, capsys, tmp_path):
    project, _, _, paths, _ = anomaly_report
    for args, needle in ((["--out", tmp_path / "r.docx"], "extension"),
                         (["--out", paths["pdf"]], "exists"),
                         (["--out", tmp_path / "r.pdf", "--experiment", "e99"], "no experiment 'e99'"),
                         (["--out", tmp_path / "r.pdf", "--lib", "b7-c1"], "no library 'b7-c1'")):
        capsys.readouterr()
        assert main(["report", str(project.path), *map(str, args), "--no-nested"]) == 2
        assert needle in capsys.readouterr().err
