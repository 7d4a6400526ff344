"""Workspace operations on whole projects: duplicate, delete, export, import.

A project is a folder (project.py). These operations never touch anything
outside the workspace folder, never leave a half-copied project behind (work
happens in a hidden partial folder that is renamed into place at the end), and
an archive is one zip holding the project folder, checked member by member
before anything is extracted.
"""
from __future__ import annotations

import os
import shutil
import stat
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from .errors import InputError, UsageError
from .project import PROJECT_FILE, Project, ProjectSummary, Workspace

ARCHIVE_SUFFIX = ".zip"
MAX_ARCHIVE_BYTES = 4 * 1024**3  # uncompressed: a guard against zip bombs


def _inside(child: Path, root: Path) -> bool:
    try:
        child.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def workspace_project(workspace: Workspace, path: Path | str) -> Path:
    """`path` as a project folder directly in the workspace, or a UsageError."""
    folder = Path(path).expanduser()
    root = workspace.root.resolve()
    if folder.is_symlink() or folder.resolve().parent != root or folder.resolve() == root:
        raise UsageError(
            f"{folder} is not a project folder of the workspace {workspace.root}",
            "Only projects listed in the workspace can be duplicated or deleted here.",
        )
    if not (folder / PROJECT_FILE).is_file():
        raise UsageError(f"{folder} is not a neai project (no {PROJECT_FILE})", "Choose a project of the list.")
    return folder


def _partial_dir(workspace: Workspace, label: str) -> Path:
    return workspace.ensure() / f".{label}-{uuid.uuid4().hex[:8]}.partial"


def duplicate_project(workspace: Workspace, source: Path | str, name: str | None = None) -> Project:
    """Copy a project (signals, benchmarks, libraries) under a new name in the same workspace."""
    folder = workspace_project(workspace, source)
    original = Project.open(folder)
    new_name = (name or f"{original.settings.name} copy").strip()
    if not new_name:
        raise UsageError("the new project's name is empty", "Give a name for the copy.")
    partial = _partial_dir(workspace, "copy")
    try:
        shutil.copytree(folder, partial, symlinks=True)
        copy = Project.open(partial)
        copy.settings.name = new_name
        copy.save()
        dest = workspace.new_project_dir(new_name)
        os.replace(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Project.open(dest)


def delete_project(workspace: Workspace, path: Path | str) -> None:
    """Delete a project folder of the workspace (and nothing else).

    The folder is first renamed to a hidden name and loses its project file, so
    an interrupted delete never leaves a half-deleted project in the list.
    """
    folder = workspace_project(workspace, path)
    trash = _partial_dir(workspace, f"deleting-{folder.name}")
    os.replace(folder, trash)
    (trash / PROJECT_FILE).unlink(missing_ok=True)
    shutil.rmtree(trash, ignore_errors=True)


def default_archive_path(project_dir: Path | str, folder: Path | str | None = None) -> Path:
    project_dir = Path(project_dir)
    return Path(folder or Path.home()).expanduser() / f"{project_dir.name}{ARCHIVE_SUFFIX}"


def export_project(project_dir: Path | str, out: Path | str) -> Path:
    """Write the project folder as one zip archive (atomically); returns its path."""
    folder = Path(project_dir).expanduser()
    Project.open(folder)  # refuse anything that is not a readable project
    out_path = Path(out).expanduser()
    if out_path.suffix.lower() != ARCHIVE_SUFFIX:
        raise UsageError(f"{out_path}: a project archive is a .zip file", "Give a path ending in .zip.")
    if _inside(out_path, folder):
        raise UsageError(
            f"{out_path} is inside the project it would hold", "Write the archive outside the project folder."
        )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(f".{out_path.name}.partial")
    top = folder.name
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(folder)
                if path.is_symlink() or not path.is_file():
                    continue
                if any(part.endswith((".tmp", ".partial")) for part in rel.parts):
                    continue  # an interrupted write of the project itself
                zf.write(path, f"{top}/{rel.as_posix()}")
        os.replace(partial, out_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out_path


def _archive_root(zf: zipfile.ZipFile, archive: Path) -> str:
    """The folder inside the zip that holds project.json ('' for the zip's top)."""
    names = zf.namelist()
    total = 0
    for info in zf.infolist():
        member = PurePosixPath(info.filename)
        if member.is_absolute() or ".." in member.parts or "\\" in info.filename or ":" in info.filename:
            raise InputError(f"{archive}: member '{info.filename}' would land outside the project", "Use an archive made by neai.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(f"{archive}: member '{info.filename}' is a symbolic link", "Use an archive made by neai.")
        total += info.file_size
    if total > MAX_ARCHIVE_BYTES:
        raise InputError(f"{archive}: the archive would unpack to {total / 1024**3:.1f} GB", "Use an archive made by neai.")
    roots = sorted({str(PurePosixPath(n).parent) for n in names if PurePosixPath(n).name == PROJECT_FILE})
    roots = [r for r in roots if r.count("/") == 0]  # the zip's top or one folder down
    if len(roots) != 1:
        raise InputError(
            f"{archive}: not a project archive ({'no' if not roots else 'more than one'} {PROJECT_FILE} at its top)",
            "Export the project from the home screen (e) to get an archive that imports.",
        )
    return "" if roots[0] == "." else roots[0]


def import_project_archive(workspace: Workspace, archive: Path | str, name: str | None = None) -> Project:
    """Unpack a project archive into a new folder of the workspace; returns the project."""
    archive = Path(archive).expanduser()
    if not archive.is_file():
        raise UsageError(f"{archive}: no such archive", "Give the path of a project .zip.")
    partial = _partial_dir(workspace, "import")
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                root = _archive_root(zf, archive)
                prefix = f"{root}/" if root else ""
                for info in zf.infolist():
                    if info.is_dir() or not info.filename.startswith(prefix):
                        continue
                    rel = PurePosixPath(info.filename[len(prefix):])
                    dest = partial.joinpath(*rel.parts)
                    if not _inside(dest, partial):
                        raise InputError(f"{archive}: member '{info.filename}' escapes the project", "")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(dest, "wb") as out:
                        shutil.copyfileobj(src, out)
        except zipfile.BadZipFile as exc:
            raise InputError(f"{archive}: not a zip archive ({exc})", "Use an archive made by neai.") from None
        project = Project.open(partial)
        if name:
            project.settings.name = name.strip()
            project.save()
        dest = workspace.new_project_dir(project.settings.name or (root or archive.stem))
        os.replace(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Project.open(dest)


def filter_projects(summaries: list[ProjectSummary], text: str) -> list[ProjectSummary]:
    """The projects whose name, folder, type or target contains every word of `text` (any case)."""
    words = text.lower().split()
    if not words:
        return list(summaries)

    def haystack(s: ProjectSummary) -> str:
        return " ".join((s.name, s.path.name, s.type, s.target, "multi-sensor" if s.multisensor else "")).lower()

    return [s for s in summaries if all(w in haystack(s) for w in words)]
