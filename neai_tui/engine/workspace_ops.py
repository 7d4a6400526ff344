"""Workspace operations on whole projects: duplicate, delete, export, import.

A project is a folder (project.py). These operations never touch anything
outside the workspace folder, never leave a half-copied project behind (work
happens in a hidden partial folder that is renamed into place at the end), and
an archive is one zip holding the project folder, checked member by member
before anything is extracted.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from .errors import InputError, UsageError
from .lock import LOCK_FILE, project_writer
from .project import PROJECT_FILE, Project, ProjectSettings, ProjectSummary, Workspace, printable
from .schema import InvalidProjectData
from .userfiles import open_user_file

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
        shutil.copytree(folder, partial, symlinks=True, ignore=shutil.ignore_patterns(LOCK_FILE))
        (partial / LOCK_FILE).touch()
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
    with project_writer(folder, "delete the project"):  # never under a running benchmark
        os.replace(folder, trash)
    (trash / PROJECT_FILE).unlink(missing_ok=True)
    shutil.rmtree(trash, ignore_errors=True)


def default_archive_path(project_dir: Path | str, folder: Path | str | None = None) -> Path:
    project_dir = Path(project_dir)
    return Path(folder or Path.home()).expanduser() / f"{project_dir.name}{ARCHIVE_SUFFIX}"


def export_project(project_dir: Path | str, out: Path | str) -> Path:
    """Write the project folder as one zip archive (atomically); returns its path.

    Only what a project is made of goes in: its files, no links, no hidden files
    (the writer lock), no interrupted writes. The project is validated first
    (schema.py), so an archive made here imports again."""
    folder = Path(project_dir).expanduser()
    project = Project.open(folder)  # refuse anything that is not a readable, valid project
    from .search import list_libraries

    list_libraries(project)  # benchmarks and library records validated too
    out_path = Path(out).expanduser()
    if out_path.suffix.lower() != ARCHIVE_SUFFIX:
        raise UsageError(f"{out_path}: a project archive is a .zip file", "Give a path ending in .zip.")
    if _inside(out_path, folder):
        raise UsageError(
            f"{out_path} is inside the project it would hold", "Write the archive outside the project folder."
        )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(f".{out_path.name}.partial")
    top = folder.name if _SAFE_PART.fullmatch(folder.name) else "project"
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(folder)
                if path.is_symlink() or not path.is_file():
                    continue
                if any(part.endswith((".tmp", ".partial")) or part.startswith(".") for part in rel.parts):
                    continue  # an interrupted write of the project itself, or the writer lock
                zf.write(path, f"{top}/{rel.as_posix()}")
        os.replace(partial, out_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out_path


# A member's path parts: what a project folder holds (no control characters, no
# leading dot or dash, nothing a shell or a C file could read as syntax).
_SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+@=-]{0,127}")
MAX_MEMBERS = 200_000


def _refuse(archive: Path, message: str) -> InputError:
    return InvalidProjectData(
        f"{archive}: {message}",
        "Nothing was imported. Use an archive exported by neai (home screen e, or `neai archive export`) "
        "from a project you trust.",
    )


def _archive_root(zf: zipfile.ZipFile, archive: Path) -> str:
    """The folder inside the zip that holds project.json ('' for the zip's top)."""
    names = zf.namelist()
    total = 0
    if len(names) > MAX_MEMBERS:
        raise _refuse(archive, f"the archive holds {len(names)} members; a project holds far fewer")
    if len(set(names)) != len(names):
        raise _refuse(archive, "the archive holds two members with the same name")
    for info in zf.infolist():
        member = PurePosixPath(info.filename)
        if member.is_absolute() or ".." in member.parts or "\\" in info.filename or ":" in info.filename:
            raise InputError(f"{archive}: member '{printable(info.filename)}' would land outside the project",
                             "Use an archive made by neai.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(f"{archive}: member '{printable(info.filename)}' is a symbolic link",
                             "Use an archive made by neai.")
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


def _read_json_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Path):
    try:
        return json.loads(zf.read(info).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse(archive, f"{info.filename}: not valid JSON ({exc})") from None


def _check_archive(zf: zipfile.ZipFile, archive: Path, prefix: str) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Every member to extract (info, path inside the project), after validating the
    project's data in memory: nothing is written before this passes."""
    from .schema import BENCH_ID, check_bench_state, check_library, check_project, check_selected

    members: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    by_path: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if info.is_dir() or not info.filename.startswith(prefix):
            continue
        rel = PurePosixPath(info.filename[len(prefix):])
        if any(part.startswith(".") for part in rel.parts):
            continue  # hidden files (a lock, an editor's swap file) are not project data
        bad = next((part for part in rel.parts if not _SAFE_PART.fullmatch(part)), None)
        if bad is not None:
            raise _refuse(archive, f"member '{printable(info.filename)}': the name '{printable(bad)}' is not a name a "
                                   "project file has (letters, digits, '_', '-', '.')")
        if rel.parts[0] == "benchmarks" and (len(rel.parts) < 3 or not re.fullmatch(BENCH_ID, rel.parts[1])):
            raise _refuse(archive, f"member '{printable(info.filename)}' is not in a benchmark folder (benchmarks/b<N>/)")
        members.append((info, rel))
        by_path[rel.as_posix()] = info

    where = f"{archive}: {prefix}{PROJECT_FILE}"
    project = check_project(_read_json_member(zf, by_path[PROJECT_FILE], archive), where)
    for i, signal in enumerate(project.signals):
        if signal.file not in by_path:
            raise _refuse(archive, f"{PROJECT_FILE}: field signals[{i}].file: '{signal.file}' is not in the archive")
    for rel_text, info in by_path.items():
        rel = PurePosixPath(rel_text)
        where = f"{archive}: {info.filename}"
        if rel_text == "selected.json":
            check_selected(_read_json_member(zf, info, archive), where)
        elif rel.parts[0] == "benchmarks" and len(rel.parts) == 3:
            bench_id, name = rel.parts[1], rel.parts[2]
            if name == "bench.json":
                check_bench_state(_read_json_member(zf, info, archive), where, bench_id)
            elif name == "best.json":
                record = check_library(_read_json_member(zf, info, archive), where)
                if record["benchmark"] != bench_id:
                    raise _refuse(archive, f"{info.filename}: field benchmark: '{record['benchmark']}' is not "
                                           f"its folder's benchmark '{bench_id}'")
            elif name == "results.jsonl":
                for number, line in enumerate(zf.read(info).decode("utf-8", errors="replace").splitlines(), 1):
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue  # a torn last line, as the reader skips it
                    check_library(record, f"{where}: record {number}")
                    if record["benchmark"] != bench_id:
                        raise _refuse(archive, f"{info.filename}: record {number}: field benchmark: "
                                               f"'{record['benchmark']}' is not its folder's benchmark '{bench_id}'")
    return members


def import_project_archive(workspace: Workspace, archive: Path | str, name: str | None = None) -> Project:
    """Unpack a project archive into a new folder of the workspace; returns the project.

    The archive is validated whole before anything is written: member names and
    paths, then the project's data (project.json, benchmark states, library
    records, selected.json) against schema.py, in memory. A refusal
    (InvalidProjectData, exit 2) names the member and the field; the workspace is
    then exactly as before."""
    archive = Path(archive).expanduser()
    if not archive.exists() and not archive.is_symlink():
        raise UsageError(f"{archive}: no such archive", "Give the path of a project .zip.")
    if name is not None:
        ProjectSettings(name=name.strip()).validate()
    handle = open_user_file(archive, MAX_ARCHIVE_BYTES, what="project archive")
    with handle:
        try:
            zf = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"{archive}: not a zip archive ({exc})", "Use an archive made by neai.") from None
        with zf:
            try:
                root = _archive_root(zf, archive)
                members = _check_archive(zf, archive, f"{root}/" if root else "")
            except zipfile.BadZipFile as exc:
                raise InputError(f"{archive}: a damaged zip archive ({exc})", "Use an archive made by neai.") from None
            partial = _partial_dir(workspace, "import")
            try:
                for info, rel in members:
                    dest = partial.joinpath(*rel.parts)
                    if not _inside(dest, partial):
                        raise InputError(f"{archive}: member '{printable(info.filename)}' escapes the project", "")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(dest, "xb") as out:
                        shutil.copyfileobj(src, out)
                (partial / LOCK_FILE).touch()
                project = Project.open(partial)  # validated again, from the files written
                from .search import list_libraries

                list_libraries(project)
                if name:
                    project.settings.name = name.strip()
                    project.save()
                dest = workspace.new_project_dir(project.settings.name or (root or archive.stem))
                os.replace(partial, dest)
            except zipfile.BadZipFile as exc:
                shutil.rmtree(partial, ignore_errors=True)
                raise InputError(f"{archive}: a damaged zip archive ({exc})", "Use an archive made by neai.") from None
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
