"""How commands name a project: by its name in the workspace or by a path to its folder.

One rule for every command (SPEC §2, "PROJECT is a project's name in the workspace
or a path to its folder"):

- text that looks like a path (holds a `/`, starts with `.` or `~`, or is absolute)
  is the folder it names, relative to the current folder;
- a bare word is a project of the workspace, matched by its folder name or its
  name (case-insensitive); a folder of that name in the current folder is used
  when the workspace has no such project; both at once is ambiguous (`./NAME`
  names the folder).

`neai new` follows the same rule: a bare word creates the project in the
workspace, a path creates it where given.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError
from .project import PROJECT_FILE, Project, Workspace


def looks_like_path(text: str) -> bool:
    """True when `text` names a folder rather than a workspace project."""
    text = str(text)
    return (
        os.sep in text
        or "/" in text
        or (os.altsep is not None and os.altsep in text)
        or text.startswith((".", "~"))
        or Path(text).is_absolute()
    )


def _workspace_matches(workspace: Workspace, name: str) -> list[Path]:
    wanted = name.strip().casefold()
    matches = []
    for folder in workspace.project_dirs():
        if folder.name.casefold() == wanted:
            matches.append(folder)
            continue
        try:
            if Project.open(folder).settings.name.strip().casefold() == wanted:
                matches.append(folder)
        except Exception:  # noqa: BLE001 - a damaged project is not a match (it is listed by the TUI)
            continue
    return matches


def project_dir(spec: str | Path, workspace: Workspace | None = None) -> Path:
    """The folder of the project `spec` names (see the module's rule); a UsageError
    naming what was looked for when there is none, or more than one."""
    text = str(spec).strip()
    if not text:
        raise UsageError("no project given", "Give a project's name in the workspace or the path to its folder.")
    if looks_like_path(text):
        return Path(text).expanduser()
    workspace = workspace or Workspace()
    matches = _workspace_matches(workspace, text)
    local = Path(text)
    local_is_project = (local / PROJECT_FILE).is_file()
    if len(matches) > 1:
        names = ", ".join(m.name for m in matches)
        raise UsageError(f"several projects of the workspace are called '{text}': {names}",
                         "Give the folder instead, e.g. " + str(matches[0]) + ".")
    if matches and local_is_project and local.resolve() != matches[0].resolve():
        raise UsageError(
            f"'{text}' is both a project of the workspace ({matches[0]}) and a project folder here",
            f"Write ./{text} for the folder here, or the workspace project's full path.",
        )
    if matches:
        return matches[0]
    if local_is_project:
        return local
    known = [p.name for p in workspace.project_dirs()]
    hint = (f"The workspace {workspace.root} holds: {', '.join(known[:12])}." if known
            else f"The workspace {workspace.root} holds no project yet.")
    raise UsageError(f"no project '{text}' in the workspace, nor a project folder of that name here",
                     hint + " Give a path (./DIR) for a project elsewhere; `neai new NAME` creates one.")


def open_project(spec: str | Path, workspace: Workspace | None = None) -> Project:
    """The project `spec` names, opened."""
    return Project.open(project_dir(spec, workspace))


def new_project_dir(spec: str | Path, workspace: Workspace | None = None) -> Path:
    """Where `neai new SPEC` creates the project: the path given, or for a bare
    name a folder of that name in the workspace (created if needed)."""
    text = str(spec).strip()
    if not text:
        raise UsageError("no project name given", "e.g. `neai new fan --type anomaly --axes 3`.")
    if looks_like_path(text):
        return Path(text).expanduser()
    workspace = workspace or Workspace()
    existing = _workspace_matches(workspace, text)
    if existing:
        raise UsageError(f"the workspace already has a project called '{text}' ({existing[0]})",
                         "Choose another name, or give a path (./DIR) to create it elsewhere.")
    workspace.ensure()
    return workspace.root / workspace.folder_name(text)
