"""Signal-file reader and the Studio's checks (neai_tui/engine/signals.py)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine.errors import Problem, SignalFileError, UsageError
from neai_tui.engine.signals import (
    SEPARATORS,
    SignalData,
    check_signals,
    detect_separator,
    optional_checks,
    read_signals,
)

from .conftest import SHARED_DATA as DATA  # found relative to the checkout: ../shared/data


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _numbers(rows: int, cols: int, sep: str = " ", seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(rows, cols))
    return "\n".join(sep.join(f"{v:.6f}" for v in row) for row in values) + "\n"


def _write(tmp_path: Path, content: str | bytes, name: str = "signals.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


# -- blocking problems: right code, line, column; the file is never modified ---------------

GOOD = "1 2 3 4\n" * 30  # 30 lines of 4 values
GOOD_COMMA = "1,2,3,4\n" * 30

MALFORMED = [
    # id, content, read_signals kwargs, code, line, column
    ("text-value", "1 2 3 4\n5 6 abc 8\n" + GOOD, {}, "not-a-number", 2, 3),
    ("two-decimal-points", GOOD + "1 2 1.2.3 4\n", {}, "not-a-number", 31, 3),
    ("quoted-value", GOOD_COMMA + '1,"2",3,4\n', {}, "not-a-number", 31, 2),
    ("timestamp-column", "2020-02-08 13:30:47;1;2\n2020-02-08 13:30:48;1;2\n" * 12, {}, "not-a-number", 1, 1),
    ("header-row", "x,y,z,w\n" + GOOD_COMMA, {}, "header-row", 1, 1),
    ("header-row-some-numbers", "1,2,temp,rpm\n" + GOOD_COMMA, {}, "header-row", 1, 3),
    ("text-on-first-line", "1,2,temp,4\n" + GOOD_COMMA, {}, "not-a-number", 1, 3),
    ("mixed-separators", GOOD_COMMA + "1;2;3;4\n" + GOOD_COMMA, {}, "mixed-separators", 31, 1),
    ("tab-among-spaces", GOOD + "1 2\t3 4\n", {}, "mixed-separators", 31, 2),
    ("given-separator-wrong", GOOD, {"sep": "comma"}, "mixed-separators", 1, 1),
    ("decimal-comma-semicolon", "1,5;2,5;3,5;4,5\n" * 30, {}, "decimal-comma", 1, 1),
    ("decimal-comma-space", "1,5 2,5 3,5 4,5\n" * 30, {}, "decimal-comma", 1, 1),
    ("inconsistent-count", GOOD + "1 2 3\n" + GOOD, {}, "inconsistent-count", 31, 4),
    ("extra-value", GOOD[:8 * 5] + "1 2 3 4 5\n" + GOOD, {}, "inconsistent-count", 6, 5),
    ("not-multiple-of-axes", "1 2 3 4 5\n" * 40, {"axes": 2}, "not-multiple-of-axes", 1, 0),
    ("too-many-values", ("1 " * 16384).strip() + "\n", {}, "too-many-values", 1, 0),
    ("nan", GOOD + "1 NaN 3 4\n", {}, "not-finite", 31, 2),
    ("inf", GOOD_COMMA + "1,2,3,-inf\n", {}, "not-finite", 31, 4),
    ("empty-field", GOOD_COMMA + "1,,3,4\n", {}, "empty-field", 31, 2),
    ("leading-separator", GOOD_COMMA + ",1,2,3\n", {}, "empty-field", 31, 1),
    ("leading-tab", "1\t2\t3\t4\n" * 30 + "\t1\t2\t3\n", {}, "empty-field", 31, 1),
    ("double-trailing-separator", GOOD_COMMA + "1,2,3,4,,\n", {}, "empty-field", 31, 5),
    ("empty-file", b"", {}, "empty-file", 0, 0),
    ("blank-lines-only", "\n  \n\r\n\t\n", {}, "empty-file", 0, 0),
    ("binary", b"\x00\x01\x02\x03" * 100, {}, "binary-file", 1, 0),
    ("xlsx", b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), {}, "binary-file", 1, 0),
    ("latin-1", (GOOD + "1 2 3 4\n5 6 7\xe9 8\n").encode("latin-1"), {}, "not-utf8", 32, 3),
    ("utf-16", (GOOD + "1 2 3 4\n").encode("utf-16"), {}, "not-utf8", 0, 0),
    ("file-too-large", GOOD, {"max_bytes": 100}, "file-too-large", 0, 0),
    ("too-many-lines", GOOD, {"max_lines": 25}, "too-many-lines", 26, 0),
    ("line-too-long", GOOD + "1 2 3 4 " * 20 + "\n", {"max_line_chars": 100}, "line-too-long", 31, 0),
    ("lone-carriage-return", GOOD + "1 2 3 4\r5 6 7 8\n", {}, "bad-line-ending", 31, 4),
    ("multisensor-wrong-count", "1,2,3\n" * 30, {"axes": 4, "layout": "multisensor"}, "wrong-variable-count", 1, 0),
    ("target-only", "1\n" * 30, {"layout": "target-first"}, "missing-buffer", 1, 0),
    ("target-not-a-number", "1 2 3 4 5\n" * 30 + "high 2 3 4 5\n", {"layout": "target-first"}, "not-a-number", 31, 1),
    ("target-first-axes", "7 1 2 3\n" * 40, {"axes": 2, "layout": "target-first"}, "not-multiple-of-axes", 1, 0),
]


@pytest.mark.parametrize(
    "content,kwargs,code,line,column",
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_file_blocks_with_location(tmp_path, content, kwargs, code, line, column):
    path = _write(tmp_path, content)
    before = _digest(path)
    with pytest.raises(SignalFileError) as caught:
        read_signals(path, **kwargs)
    errors = [p for p in caught.value.problems if p.severity == "error"]
    assert errors[0].code == code, [p.text() for p in errors]
    assert (errors[0].line, errors[0].column) == (line, column)
    assert errors[0].file == str(path)
    assert errors[0].message and errors[0].hint
    assert _digest(path) == before
    # check_signals reports the same thing without raising
    assert check_signals(path, **kwargs)[0].code == code
    assert _digest(path) == before


def test_malformed_kinds_are_many_and_distinct():
    assert len({case[3] for case in MALFORMED}) >= 18


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(SignalFileError) as caught:
        read_signals(path)
    assert caught.value.problems[0].code == "file-not-found"
    assert not path.exists()


def test_directory(tmp_path):
    with pytest.raises(SignalFileError) as caught:
        read_signals(tmp_path)
    assert caught.value.problems[0].code == "not-a-file"
    assert "folder" in caught.value.message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unreadable_file(tmp_path):
    path = _write(tmp_path, GOOD)
    path.chmod(0)
    try:
        problems = check_signals(path)
    finally:
        path.chmod(0o644)
    assert _codes(problems) == ["unreadable"]


def test_error_text_has_location_and_fix(tmp_path):
    path = _write(tmp_path, "1 2 3 4\n5 6 abc 8\n" + GOOD)
    with pytest.raises(SignalFileError) as caught:
        read_signals(path)
    err = caught.value
    assert err.message.startswith(f"{path}:2:3: value 'abc' is not a number")
    assert err.hint.startswith("Fix: ")
    assert err.exit_code == 2


def test_header_message_says_remove_it(tmp_path):
    path = _write(tmp_path, "time,x\n" + "1,2\n" * 30)
    problem = check_signals(path)[0]
    assert problem.code == "header-row"
    assert "header row: remove it" in problem.hint


def test_decimal_comma_explains_the_dot(tmp_path):
    path = _write(tmp_path, "1,5;2,5\n" * 30)
    problem = check_signals(path)[0]
    assert "'.'" in problem.hint and "1.5" in problem.hint


def test_inconsistent_count_uses_majority(tmp_path):
    # the odd line is the first one: it is reported, not the 30 others
    path = _write(tmp_path, "1 2 3\n" + GOOD)
    errors = [p for p in check_signals(path) if p.severity == "error"]
    assert len(errors) == 1
    assert errors[0].line == 1
    assert "3 values, expected 4" in errors[0].message


def test_problems_are_capped_and_counted(tmp_path):
    path = _write(tmp_path, "1 x 3 4\n" * 200)
    problems = check_signals(path)
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 50
    assert problems[-1].code == "more-problems"
    assert "150 more" in problems[-1].message


def test_every_bad_line_is_reported_once(tmp_path):
    lines = GOOD.splitlines()
    lines[3] = "1 nan nan 4"
    lines[10] = "1 2 3"
    lines[20] = "1;2;3;4"
    path = _write(tmp_path, "\n".join(lines) + "\n")
    errors = [p for p in check_signals(path) if p.severity == "error"]
    assert [(p.code, p.line) for p in errors] == [
        ("not-finite", 4),
        ("inconsistent-count", 11),
        ("mixed-separators", 21),
    ]
    assert "1 more bad value" in errors[0].message


def test_error_after_first_chunk_has_the_right_line(tmp_path):
    body = _numbers(6000, 8)
    lines = body.splitlines()
    lines[5000] = lines[5000].replace(" ", " oops ", 1)
    path = _write(tmp_path, "\n\n" + "\n".join(lines) + "\n")  # two leading blank lines
    errors = [p for p in check_signals(path) if p.severity == "error"]
    assert [(p.code, p.line, p.column) for p in errors] == [("not-a-number", 5003, 2)]


def test_non_strict_keeps_sound_lines(tmp_path):
    path = _write(tmp_path, "1 2 3 4\n1 x 3 4\n" + GOOD + "1 2\n")
    data = read_signals(path, strict=False)
    assert data.values.shape == (31, 4)
    assert 2 not in data.line_numbers and 33 not in data.line_numbers
    assert {"not-a-number", "inconsistent-count"} <= set(_codes(data.errors))


# -- accepted variants ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SEPARATORS))
def test_all_four_separators(tmp_path, name):
    char = SEPARATORS[name]
    text = _numbers(40, 64, sep=char)
    path = _write(tmp_path, text)
    expected = np.loadtxt(text.splitlines(), delimiter=None if char == " " else char)
    for sep in ("auto", name, char):
        data = read_signals(path, sep=sep)
        assert data.sep == char
        np.testing.assert_array_equal(data.values, expected)
        assert data.problems == []
    assert detect_separator(path) == char


def test_crlf_bom_whitespace_and_blank_edges(tmp_path):
    lines = ["  1.5 -2 3e2 .5  ", "\t4 5 6 7\t", "-1 -2 -3 -4"] * 10
    content = "\ufeff\r\n\n" + "\r\n".join(lines) + "\r\n\r\n  \n"
    path = _write(tmp_path, content)
    before = _digest(path)
    data = read_signals(path)
    assert data.values.shape == (30, 4)
    assert data.values[0].tolist() == [1.5, -2.0, 300.0, 0.5]
    assert data.line_numbers[:3].tolist() == [3, 4, 5]
    assert data.problems == []
    assert _digest(path) == before


def test_mixed_line_endings_are_fine(tmp_path):
    path = _write(tmp_path, "1,2\r\n3,4\n" * 15)
    assert read_signals(path).values.shape == (30, 2)


def test_spaces_around_values(tmp_path):
    path = _write(tmp_path, "1, 2, 3, 4\n" * 10 + "1 ,2 ,3 ,4\n" * 10 + "1 ; 2\n" * 0)
    data = read_signals(path)
    assert data.sep == ","
    assert data.values.shape == (20, 4)


def test_trailing_separator_is_a_warning(tmp_path):
    path = _write(tmp_path, "1,2,3,4,\n" * 30)
    data = read_signals(path)
    assert data.values.shape == (30, 4)
    assert _codes(data.problems) == ["trailing-separator"]
    assert data.problems[0].line == 1


def test_trailing_tab_is_a_warning(tmp_path):
    path = _write(tmp_path, "1\t2\t3\t4\t\n" * 30)
    data = read_signals(path)
    assert data.sep == "\t" and data.values.shape == (30, 4)
    assert _codes(data.problems) == ["trailing-separator"]


def test_runs_of_spaces_are_a_warning(tmp_path):
    path = _write(tmp_path, "   1.000   -2.500    3.250    4.000\n" * 30)
    data = read_signals(path)
    assert data.values[0].tolist() == [1.0, -2.5, 3.25, 4.0]
    assert _codes(data.problems) == ["separator-runs"]


def test_blank_lines_between_data_are_a_warning(tmp_path):
    path = _write(tmp_path, GOOD + "\n\n" + GOOD)
    data = read_signals(path)
    assert data.values.shape == (60, 4)
    assert _codes(data.problems) == ["blank-lines"]
    assert data.problems[0].line == 31
    assert data.line_numbers[30] == 33


def test_single_column_file(tmp_path):
    path = _write(tmp_path, "\n".join(str(i) for i in range(40)) + "\n")
    data = read_signals(path, layout="multisensor")
    assert data.values.shape == (40, 1)


# -- warnings --------------------------------------------------------------------------


def test_few_lines_warning(tmp_path):
    path = _write(tmp_path, _numbers(10, 3 * 64))
    data = read_signals(path, axes=3)
    assert _codes(data.problems) == ["few-lines"]
    assert "60" in data.problems[0].message  # 20 lines per axis
    assert data.problems[0].severity == "warning"


def test_enough_lines_no_warning(tmp_path):
    path = _write(tmp_path, _numbers(60, 3 * 64))
    assert read_signals(path, axes=3).problems == []


def test_not_power_of_two_warning(tmp_path):
    path = _write(tmp_path, _numbers(40, 2 * 100))
    data = read_signals(path, axes=2)
    assert _codes(data.problems) == ["not-power-of-two"]
    assert "100" in data.problems[0].message and "64" in data.problems[0].hint
    assert data.buffer_size == 100


# -- layouts ---------------------------------------------------------------------------


def test_multisensor_layout(tmp_path):
    path = _write(tmp_path, _numbers(100, 5, sep=";"))
    data = read_signals(path, axes=5, layout="multisensor")
    assert data.values.shape == (100, 5)
    assert data.problems == []  # 5 is not a power of two, and that is fine here
    assert data.buffer_size is None
    few = _write(tmp_path, _numbers(50, 5, sep=";"), "few.csv")
    problems = read_signals(few, axes=5, layout="multisensor").problems
    assert _codes(problems) == ["few-lines"] and "samples" in problems[0].message


def test_target_first_layout(tmp_path):
    rng = np.random.default_rng(1)
    rows = [[float(i)] + rng.normal(size=2 * 32).round(4).tolist() for i in range(50)]
    path = _write(tmp_path, "\n".join(",".join(repr(v) for v in row) for row in rows) + "\n")
    data = read_signals(path, axes=2, layout="target-first")
    assert data.values.shape == (50, 65)
    np.testing.assert_array_equal(data.targets, np.arange(50.0))
    assert data.buffers.shape == (50, 64)
    assert data.buffer_size == 32
    assert data.problems == []


def test_large_file_parses_correctly(tmp_path):
    rng = np.random.default_rng(7)
    values = rng.normal(size=(2000, 768)).round(5)
    text = "\n".join(",".join(f"{v:.5f}" for v in row) for row in values) + "\n"
    path = _write(tmp_path, text)
    data = read_signals(path, axes=3)
    np.testing.assert_array_equal(data.values, values)
    assert data.line_numbers[0] == 1 and data.line_numbers[-1] == 2000
    assert data.problems == []


# -- arguments and detection -------------------------------------------------------------


def test_bad_arguments_are_usage_errors(tmp_path):
    path = _write(tmp_path, GOOD)
    with pytest.raises(UsageError):
        read_signals(path, sep="pipe")
    with pytest.raises(UsageError):
        read_signals(path, layout="columns")
    with pytest.raises(UsageError):
        check_signals(path, axes=0)


@pytest.mark.parametrize(
    "content,expected",
    [
        ("1;2;3\n4;5;6\n", ";"),
        ("1,5;2,5\n", ";"),
        ("1,5 2,5\n3,5 4,5\n", " "),
        ("1, 2, 3\n", ","),
        ("a b c\n1,2,3\n4,5,6\n", ","),
        ("1\t2\n", "\t"),
        ("1\n2\n", " "),
        ("1,2\n3,4\n5;6\n", ","),
    ],
)
def test_detect_separator(tmp_path, content, expected):
    assert detect_separator(_write(tmp_path, content)) == expected


def test_signal_data_api(tmp_path):
    data = read_signals(_write(tmp_path, GOOD))
    assert isinstance(data, SignalData)
    assert data.values.dtype == np.float64
    assert isinstance(data.path, Path)
    assert data.n_lines == 30 and data.values_per_line == 4


# -- real data sets (skipped when absent) ---------------------------------------------------


@pytest.mark.skipif(not (DATA / "skab").is_dir(), reason="shared data sets absent")
def test_skab_file_reports_header_and_timestamps():
    path = DATA / "skab/anomaly-free/anomaly-free.csv"
    before = _digest(path)
    with pytest.raises(SignalFileError) as caught:
        read_signals(path, axes=8, layout="multisensor")
    first, second = caught.value.problems[:2]
    assert (first.code, first.line, first.column) == ("header-row", 1, 1)
    assert (second.code, second.line, second.column) == ("not-a-number", 2, 1)
    assert "timestamp" in second.hint
    assert _digest(path) == before


@pytest.mark.skipif(not (DATA / "itsc").is_dir(), reason="shared data sets absent")
def test_itsc_file_reads_as_multisensor():
    data = read_signals(DATA / "itsc/SC_HLT/SC_HLT_001.csv", axes=3, layout="multisensor")
    assert data.sep == ","
    assert data.values.shape == (1000, 3)
    assert np.isfinite(data.values).all()
    assert data.problems == []


# -- optional checks --------------------------------------------------------------------------


def _clean(rows=200, size=256, axes=1, seed=3):
    rng = np.random.default_rng(seed)
    t = np.arange(size)
    out = np.empty((rows, size, axes))
    for a in range(axes):
        phase = rng.uniform(0, 2 * np.pi, size=(rows, 1))
        out[:, :, a] = np.sin(2 * np.pi * 8 * t / size + phase) + 0.3 * rng.normal(size=(rows, size))
    return out.reshape(rows, size * axes)


def _optional_codes(values, axes=1, **kwargs):
    return _codes(optional_checks(values, axes, "x.csv", **kwargs))


def test_optional_checks_quiet_on_clean_data():
    assert _optional_codes(_clean(axes=3), axes=3) == []


def test_optional_constant_lines_and_axis():
    values = _clean(axes=2)
    values[5] = 1.0
    problems = optional_checks(values, 2, "x.csv", line_numbers=np.arange(10, 210))
    assert problems[0].code == "constant-lines" and problems[0].line == 15
    dead = _clean(axes=3)
    dead[:, 1::3] = 0.25
    assert "constant-axis" in _optional_codes(dead, axes=3)


def test_optional_duplicate_lines():
    values = _clean()
    values[50] = values[10]
    values[60] = values[10]
    problem = next(p for p in optional_checks(values, 1, "x.csv") if p.code == "duplicate-lines")
    assert "2 line(s)" in problem.message and problem.line == 51


def test_optional_clipping():
    values = np.clip(_clean() * 2, -1.5, 1.5)
    found = [p for p in optional_checks(values, 1, "x.csv") if p.code == "clipping"]
    assert found and "maximum" in found[0].message
    # a quantised but unclipped sine is not clipping
    assert "clipping" not in _optional_codes(np.round(np.sin(np.linspace(0, 400, 200 * 256)) * 100).reshape(200, 256))


def test_optional_dc_offset():
    assert _optional_codes(_clean() + 500.0) == ["dc-offset"]


def test_optional_low_variance_between_lines():
    rng = np.random.default_rng(0)
    base = np.sin(np.linspace(0, 20, 256))
    values = base + 1e-4 * rng.normal(size=(100, 256))
    assert "low-variance" in _optional_codes(values)


def test_optional_outlier_lines():
    values = _clean()
    values[77] *= 20
    problem = next(p for p in optional_checks(values, 1, "x.csv") if p.code == "outlier-lines")
    assert problem.line == 78 and problem.severity == "warning"


def test_optional_mixed_sampling_rates():
    rng = np.random.default_rng(5)
    t = np.arange(256)
    slow = np.sin(2 * np.pi * 8 * t / 256 + rng.uniform(0, 6, (100, 1)))
    fast = np.sin(2 * np.pi * 16 * t / 256 + rng.uniform(0, 6, (100, 1)))
    values = np.vstack([slow, fast]) + 0.05 * rng.normal(size=(200, 256))
    found = [p for p in optional_checks(values, 1, "x.csv") if p.code == "mixed-sampling-rates"]
    assert found and found[0].severity == "info" and "×2.0" in found[0].message


def test_optional_multisensor():
    rng = np.random.default_rng(2)
    values = rng.normal(size=(500, 4))
    assert _optional_codes(values, axes=4) == []
    values[:, 2] = 3.0
    assert _optional_codes(values, axes=4) == ["constant-axis"]
    stuck = np.repeat(rng.normal(size=(100, 4)), 5, axis=0)
    assert _optional_codes(stuck, axes=4, layout="multisensor") == ["repeated-samples"]


def test_optional_target_first_ignores_target():
    values = _clean()
    targets = np.linspace(0, 1000, len(values))[:, None]
    assert _optional_codes(np.hstack([targets, values]), layout="target-first") == []


@pytest.mark.parametrize(
    "bad,words",
    [
        ("1.2.3", "decimal point"),
        ("08.02.2020", "timestamp"),
        ("13:30:47", "timestamp"),
        ("abc", "numbers only"),
    ],
)
def test_not_a_number_hints_name_the_cause(tmp_path, bad, words):
    path = _write(tmp_path, GOOD + f"1 {bad} 3 4\n")
    problem = check_signals(path)[0]
    assert (problem.code, problem.line, problem.column) == ("not-a-number", 31, 2)
    assert words in problem.hint


def test_non_utf8_header_is_reported_as_header(tmp_path):
    path = _write(tmp_path, "temp \xb0C;speed\n".encode("latin-1") + b"1;2\n" * 30)
    errors = [p for p in check_signals(path) if p.severity == "error"]
    assert [(p.code, p.line) for p in errors] == [("header-row", 1)]


def test_optional_checks_on_empty_values():
    assert optional_checks(np.empty((0, 0)), 1, "x.csv") == []


def test_exponent_notation_first_line_is_data(tmp_path):
    # np.savetxt's default format: the 'e' of an exponent is not a header word.
    path = tmp_path / "savetxt.csv"
    np.savetxt(path, np.arange(64 * 3, dtype=float).reshape(64, 3) + 0.5)
    data = read_signals(path, axes=1)
    assert data.values.shape == (64, 3)


def test_every_line_bad_is_headlined_by_the_real_cause(tmp_path):
    # A timestamp column on every line: the date is the problem, not the count.
    path = tmp_path / "stamped.csv"
    path.write_text("\n".join(f"2020-02-08 13:30:{i:02d},{','.join(['1.0'] * 12)}" for i in range(30)) + "\n")
    with pytest.raises(SignalFileError) as info:
        read_signals(path, axes=3)
    assert info.value.problems[0].line == 1 and info.value.problems[0].column == 1
    assert "date" in info.value.problems[0].message or "time" in info.value.problems[0].message
