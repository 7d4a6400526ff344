"""What a project's stored files may hold: projects are data, never paths.

A project folder can come from anywhere (a colleague's archive, a hand edit), so
everything read back from it is validated before use, against the schemas
below (pydantic, strict: no type coercion, no NaN/Inf, no unknown keys where the
shape is ours):

* ids and names match a pattern (``s3``, ``b2``, ``b2-c41``; names without
  control characters),
* a signal file is a plain file name inside the project's ``signals/`` folder,
* numbers are in range,
* a pipeline is a small tree of plain values whose strings are words
  (``[A-Za-z0-9_.+-]``): nothing in it can become C code or a path.

A failure is an ``InvalidProjectData`` (exit 2) naming the file and the field
(``signals[0].file``) with the value found. Code generation then only ever
receives validated identifiers (``codegen.check_library_id``) and escaped strings.

New settings keys added by later versions pass through here as plain values
(strings, numbers, booleans, flat lists) and are checked by ``ProjectSettings``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Annotated, Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError

SIGNAL_ID = r"^s[1-9][0-9]{0,5}$"
BENCH_ID = r"^b[1-9][0-9]{0,5}$"
LIBRARY_ID = r"^b[1-9][0-9]{0,5}-c(0|[1-9][0-9]{0,8})$"
SIGNAL_FILE = re.compile(r"signals/[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
CLASS_NAME = r"^[A-Za-z0-9_.\- ]{1,64}$"
WORD = re.compile(r"[A-Za-z0-9_.+\-]{0,64}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

MAX_TEXT = 4096
MAX_VALUES_PER_LINE = 16383


class InvalidProjectData(InputError):
    """A stored project file holds something it must not (a path, an id, a value)."""


def _plain_text(limit: int, *, lines: bool = False):
    pattern = _CONTROL if lines else _CONTROL_LINE

    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters long, the limit is {limit}")
        if pattern.search(value):
            raise ValueError("holds control characters")
        return value
    return check


Name = Annotated[str, Field(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=10**9)]
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e300, le=1e300)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


class _Open(BaseModel):
    """Known keys checked; unknown ones (later versions) must be plain values."""

    model_config = ConfigDict(strict=True, extra="allow", allow_inf_nan=False)

    @model_validator(mode="after")
    def _extra_values(self):
        for key, value in (self.__pydantic_extra__ or {}).items():
            _plain_value(value, key)
        return self


@dataclass(frozen=True)
class _TreeRules:
    """What a tree of JSON values may hold: how big, which numbers and strings."""

    number_limit: float
    max_list: int
    max_dict: int
    text: Callable[[str], object]  # raises ValueError for a string not allowed
    key: Callable[[str], object]
    what: str


def _check_tree(value: Any, where: str, rules: _TreeRules, depth: int = 0) -> None:
    """None, booleans, finite numbers within the limit, allowed strings, and lists or
    dicts of them, four levels deep at most."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or abs(value) > rules.number_limit:
            raise ValueError(f"{where}: {value!r} is not a number in range")
        return
    if isinstance(value, str):
        try:
            rules.text(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {_shown(value)} {exc}") from None
        return
    if depth < 4 and isinstance(value, list) and len(value) <= rules.max_list:
        for i, item in enumerate(value):
            _check_tree(item, f"{where}[{i}]", rules, depth + 1)
        return
    if depth < 4 and isinstance(value, dict) and len(value) <= rules.max_dict:
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: key {key!r} is not text")
            try:
                rules.key(key)
            except ValueError as exc:
                raise ValueError(f"{where}: key {_shown(key)} {exc}") from None
            _check_tree(item, f"{where}.{key}", rules, depth + 1)
        return
    raise ValueError(f"{where}: {type(value).__name__} value not allowed {rules.what}")


def _word(value: str) -> None:
    if not WORD.fullmatch(value):
        raise ValueError("is not a plain word (letters, digits, '_', '.', '+', '-')")


def _key_word(value: str) -> None:
    if not value:
        raise ValueError("is empty")
    _word(value)


# Plain values: any text without control characters (later versions' settings, metrics).
PLAIN = _TreeRules(1e300, 10_000, 1000, _plain_text(MAX_TEXT, lines=True), _plain_text(200), "here")
# A pipeline: words and moderate numbers only, nothing that could become C code or a path.
PIPELINE = _TreeRules(1e12, 256, 64, _word, _key_word, "in a pipeline")


def _plain_value(value: Any, where: str) -> None:
    _check_tree(value, where, PLAIN)


class FrequencyFilter(_Strict):
    sampling_rate_hz: Annotated[float, Field(gt=0, le=1e9)] | None = None
    low_hz: Annotated[float, Field(ge=0, le=1e9)] | None = None
    high_hz: Annotated[float, Field(ge=0, le=1e9)] | None = None


class Settings(_Open):
    name: Name
    type: Literal["anomaly", "one-class", "n-class", "extrapolation"] = "anomaly"
    axes: Annotated[int, Field(ge=1, le=64)] = 1
    multisensor: bool = False
    description: str = ""
    max_ram_kb: Annotated[float, Field(gt=0, le=1e7)] | None = None
    max_flash_kb: Annotated[float, Field(gt=0, le=1e7)] | None = None
    target: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.+\- ]{1,64}$")] = "cortex-m4f"
    frequency_filter: FrequencyFilter | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _plain_text(200)(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return _plain_text(MAX_TEXT, lines=True)(value)


class Signal(_Strict):
    id: Annotated[str, Field(pattern=SIGNAL_ID)]
    file: str
    original: str = ""
    role: Literal["nominal", "abnormal"] | None = None
    couple: Annotated[int, Field(ge=1, le=1000)] = 1
    class_name: Annotated[str, Field(pattern=CLASS_NAME)] | None = None
    sep: Literal[" ", "\t", ",", ";"] = " "
    lines: Count = 0
    values_per_line: Annotated[int, Field(ge=0, le=MAX_VALUES_PER_LINE)] = 0
    sha256: Annotated[str, Field(pattern=r"^([0-9a-f]{64})?$")] = ""
    imported_at: Annotated[str, Field(max_length=64)] = ""
    warnings: Annotated[list[str], Field(max_length=1000)] = []

    @field_validator("file")
    @classmethod
    def _inside_signals(cls, value: str) -> str:
        if not SIGNAL_FILE.fullmatch(value) or ".." in PurePosixPath(value).parts:
            raise ValueError(
                "must be a plain file name inside the project's signals/ folder (signals/NAME, "
                "letters, digits, '_', '-', '.'), not a path elsewhere"
            )
        return value

    @field_validator("original")
    @classmethod
    def _original(cls, value: str) -> str:
        return _plain_text(MAX_TEXT)(value)

    @field_validator("warnings")
    @classmethod
    def _warnings(cls, value: list[str]) -> list[str]:
        check = _plain_text(MAX_TEXT, lines=True)
        for item in value:
            check(item)
        return value


class ProjectFile(_Strict):
    format: Literal[1] = 1
    created: Annotated[str, Field(max_length=64)] = ""
    settings: Settings
    signals: Annotated[list[Signal], Field(max_length=10_000)] = []

    @field_validator("signals")
    @classmethod
    def _unique(cls, value: list[Signal]) -> list[Signal]:
        for attr in ("id", "file"):
            seen: set[str] = set()
            for s in value:
                if getattr(s, attr) in seen:
                    raise ValueError(f"two signals have the {attr} '{getattr(s, attr)}'")
                seen.add(getattr(s, attr))
        return value


class Pipeline(_Open):
    pre: dict
    model: dict

    @field_validator("pre", "model")
    @classmethod
    def _tree(cls, value: dict, info) -> dict:
        _check_tree(value, info.field_name, PIPELINE)
        if not isinstance(value.get("kind"), str) or not value.get("kind"):
            raise ValueError("needs a 'kind'")
        return value


class Library(_Open):
    """A candidate library: a line of results.jsonl, or best.json."""

    id: Annotated[str, Field(pattern=LIBRARY_ID)]
    index: Count
    benchmark: Annotated[str, Field(pattern=BENCH_ID)]
    pipeline: Pipeline
    pipeline_text: Annotated[str, Field(max_length=MAX_TEXT)] = ""
    score: Finite
    metrics: dict = {}
    ram_bytes: Count
    flash_bytes: Count
    frequency_filter: FrequencyFilter | None = None
    min_learning_iterations: Count | None = None

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: dict) -> dict:
        _plain_value(value, "metrics")
        return value

    @field_validator("pipeline_text")
    @classmethod
    def _text(cls, value: str) -> str:
        return _plain_text(MAX_TEXT)(value)

    @model_validator(mode="after")
    def _own_benchmark(self):
        if self.id != f"{self.benchmark}-c{self.index}":
            raise ValueError(f"id '{self.id}' is not candidate {self.index} of benchmark '{self.benchmark}'")
        return self


class BenchState(_Open):
    id: Annotated[str, Field(pattern=BENCH_ID)]
    created: Annotated[str, Field(max_length=64)] = ""
    status: Annotated[str, Field(pattern=r"^[a-z-]{1,20}$")] = "running"
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    cores: Annotated[int, Field(ge=1, le=100_000)] = 1
    generation: Count = 0
    evals_done: Count = 0
    elapsed_s: Annotated[float, Field(ge=0, le=1e9)] = 0.0
    best_id: Annotated[str, Field(pattern=LIBRARY_ID)] | None = None
    space_size: Count | None = None
    data: dict = {}
    strategy: Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")] = "tpe"
    frequency_filter: FrequencyFilter | None = None
    task: Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")] | None = None
    next_index: Count = 0
    partial: Annotated[list[Count], Field(max_length=100_000)] = []
    partial_evals: Count = 0
    last_improvement_evals: Count = 0
    fingerprint: dict | None = None

    @field_validator("data", "fingerprint")
    @classmethod
    def _plain(cls, value, info):
        if value is not None:
            _plain_value(value, info.field_name)
        return value


class Selected(_Open):
    library: Annotated[str, Field(pattern=LIBRARY_ID)] | None = None


_PATTERN_WORDS = {
    SIGNAL_ID: "signal id (s1, s2, …)",
    BENCH_ID: "benchmark id (b1, b2, …)",
    LIBRARY_ID: "library id (b<benchmark>-c<candidate>, e.g. b1-c13)",
    CLASS_NAME: "class name (letters, digits, '_', '-', '.' and spaces, at most 64)",
}


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def validate(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    """``model`` validated from ``data``, or InvalidProjectData naming ``where`` and the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_path(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "string_pattern_mismatch":
            message = f"is not a {_PATTERN_WORDS.get(first['ctx']['pattern'], 'value allowed here')}"
        value = f" (found {_shown(first['input'])})" if "input" in first and not isinstance(
            first["input"], (dict, list)) else ""
        more = f"; {exc.error_count() - 1} more problem(s)" if exc.error_count() > 1 else ""
        raise InvalidProjectData(
            f"{where}: field {field}: {message}{value}{more}",
            "This project data was edited by hand or comes from an archive that is not safe to use: "
            "fix the field, or recreate the project and import its signals again.",
        ) from None


def check_project(data: Any, where: str) -> ProjectFile:
    return validate(ProjectFile, data, where)


def check_library(data: Any, where: str) -> dict:
    validate(Library, data, where)
    return data


def check_bench_state(data: Any, where: str, bench_id: str | None = None) -> dict:
    validate(BenchState, data, where)
    if bench_id is not None and data.get("id") != bench_id:
        raise InvalidProjectData(
            f"{where}: field id: '{data.get('id')}' does not match its folder '{bench_id}'",
            "Benchmarks live in benchmarks/<id>/: restore the file or remove the folder.",
        )
    return data


def check_selected(data: Any, where: str) -> dict:
    validate(Selected, data, where)
    return data
