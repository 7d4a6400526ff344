"""The bundled sample project, set up in the workspace on first use."""
from __future__ import annotations

from pathlib import Path

from .project import Project, ProjectSettings, Workspace

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data" / "fan"
DEMO_NAME = "fan-demo"


def sample_files() -> dict[str, Path]:
    files = {"nominal": SAMPLE_DIR / "nominal.csv", "abnormal": SAMPLE_DIR / "abnormal.csv"}
    if not all(p.is_file() for p in files.values()):
        from .sample import generate_fan_dataset  # regenerate if the install lacks the files

        return generate_fan_dataset(SAMPLE_DIR)
    return files


def ensure_demo_project(workspace: Path | str | None = None) -> Project:
    """Open the demo project, creating it (with its signals imported) if needed."""
    ws = Workspace(workspace)
    folder = ws.root / DEMO_NAME
    if (folder / "project.json").is_file():
        project = Project.open(folder)
        if project.signals:
            return project
    else:
        ws.ensure()
        project = Project.create(
            folder,
            ProjectSettings(
                name="Fan demo",
                type="anomaly",
                axes=3,
                description="3-speed fan on a 3-axis accelerometer: nominal speeds and transients; "
                "abnormal imbalance, obstruction and tapping (generated, see sample_data/README.md).",
                max_ram_kb=8,
                max_flash_kb=16,
                target="NUCLEO-L432KC",
            ),
        )
    files = sample_files()
    for role in ("nominal", "abnormal"):
        project.import_signal(files[role], role=role)
    return project
