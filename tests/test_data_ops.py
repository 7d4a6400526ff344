"""Data manipulation on signal files (`neai data …`, engine/tools/data_ops.py), on the samples.

One test per action: line counts, the values themselves, and the input left byte for
byte as it was. Then the CLI as a user runs it: chaining, --import, refusals, exit codes.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neai_tui.engine.errors import InputError, UsageError
from neai_tui.engine.signals import read_signals
from neai_tui.engine.tools import data_ops

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
FAN = SAMPLES / "fan" / "nominal.csv"  # 300 lines, 3 axes x 256 samples
FAN_ABNORMAL = SAMPLES / "fan" / "abnormal.csv"  # 150 lines
MULTI = SAMPLES / "multisensor" / "nominal.csv"  # one sample per line
SPEED = SAMPLES / "extrapolation" / "speed.csv"  # target first


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def values(path: Path, axes: int = 1, layout: str = "buffers") -> np.ndarray:
    return read_signals(path, axes=axes, layout=layout).values


@pytest.fixture(scope="module")
def fan() -> np.ndarray:
    return values(FAN, 3)


def untouched(*paths: Path):
    before = {p: digest(p) for p in paths}

    def check() -> None:
        assert {p: digest(p) for p in paths} == before

    return check


def test_extract_ranges_every_and_random(tmp_path, fan):
    check = untouched(FAN)
    r = data_ops.extract(FAN, tmp_path / "a.csv", lines="1-10,291-", axes=3)
    assert r.lines == 20 and r.input_lines == 300
    np.testing.assert_array_equal(values(r.out, 3), np.vstack([fan[:10], fan[290:]]))

    r = data_ops.extract(FAN, tmp_path / "b.csv", every=7, start=3, axes=3)
    np.testing.assert_array_equal(values(r.out, 3), fan[2::7])
    assert r.lines == len(range(2, 300, 7))

    r1 = data_ops.extract(FAN, tmp_path / "c.csv", random=40, seed=5, axes=3)
    r2 = data_ops.extract(FAN, tmp_path / "d.csv", random=40, seed=5, axes=3)
    assert r1.out.read_bytes() == r2.out.read_bytes()  # the seed decides
    kept = r1.details["kept_lines"]
    assert kept == sorted(kept) and len(set(kept)) == 40  # file order, no repeats
    np.testing.assert_array_equal(values(r1.out, 3), fan[np.array(kept) - 1])
    assert data_ops.extract(FAN, tmp_path / "e.csv", random=40, seed=6, axes=3).details["kept_lines"] != kept

    # the selections combine: range, then every k-th, then random
    r = data_ops.extract(FAN, tmp_path / "f.csv", lines="101-200", every=2, random=10, seed=1, axes=3)
    assert r.lines == 10 and all(101 <= k <= 200 and k % 2 == 1 for k in r.details["kept_lines"])
    check()


def test_shuffle_is_a_seeded_permutation(tmp_path, fan):
    check = untouched(FAN)
    r = data_ops.shuffle(FAN, tmp_path / "s.csv", seed=11, axes=3)
    out = values(r.out, 3)
    assert r.lines == 300
    order = np.array(r.details["order"]) - 1
    np.testing.assert_array_equal(out, fan[order])
    assert sorted(order.tolist()) == list(range(300)) and order.tolist() != list(range(300))
    assert data_ops.shuffle(FAN, tmp_path / "t.csv", seed=11, axes=3).out.read_bytes() == r.out.read_bytes()
    with pytest.raises(UsageError, match="consecutive samples"):
        data_ops.shuffle(MULTI, tmp_path / "m.csv", axes=6, layout="multisensor")
    check()


def test_recut_is_axis_aware_with_and_without_overlap(tmp_path, fan):
    check = untouched(FAN)
    r = data_ops.recut(FAN, tmp_path / "r64.csv", buffer=64, axes=3)
    cut = values(r.out, 3)
    assert cut.shape == (1200, 192) and r.buffer == 64
    # line 2 of the output is samples 64..127 of every axis of input line 1, still interleaved x y z
    samples = fan[0].reshape(256, 3)
    np.testing.assert_array_equal(cut[1].reshape(64, 3), samples[64:128])
    np.testing.assert_array_equal(cut[4].reshape(64, 3), fan[1].reshape(256, 3)[:64])

    r = data_ops.recut(FAN, tmp_path / "r64h32.csv", buffer=64, hop=32, axes=3)
    assert r.lines == 300 * 7 and r.details["overlap"] == 32  # (256 - 64) / 32 + 1 per line
    np.testing.assert_array_equal(values(r.out, 3)[1].reshape(64, 3), samples[32:96])

    # back again: with --continuous the 1200 short lines are one recording, 4 make one 256-sample line
    back = data_ops.recut(tmp_path / "r64.csv", tmp_path / "back.csv", buffer=256, continuous=True, axes=3)
    np.testing.assert_array_equal(values(back.out, 3), fan)
    # overlapping lines are put back together before cutting (hop found from the values)
    again = data_ops.recut(tmp_path / "r64h32.csv", tmp_path / "again.csv", buffer=256, continuous=True, axes=3)
    assert again.details["line_hop"] == 32 and again.details["runs"] == 300
    np.testing.assert_array_equal(values(again.out, 3), fan)

    with pytest.raises(UsageError, match="does not fit in a line of 256"):
        data_ops.recut(FAN, tmp_path / "x.csv", buffer=512, axes=3)
    check()


def test_recut_one_axis_4096_to_4_x_1024(tmp_path):
    rng = np.random.default_rng(0)
    src = tmp_path / "long.csv"
    long = np.round(rng.normal(size=(5, 4096)), 4)
    src.write_text("\n".join(" ".join(f"{v:.4f}" for v in row) for row in long) + "\n")
    r = data_ops.recut(src, tmp_path / "short.csv", buffer=1024)
    np.testing.assert_array_equal(values(r.out), long.reshape(20, 1024))
    r = data_ops.recut(src, tmp_path / "half.csv", buffer=1024, hop=512)
    assert r.lines == 5 * 7


def test_recut_multisensor_and_target_first(tmp_path):
    multi = values(MULTI, 6, "multisensor")
    r = data_ops.recut(MULTI, tmp_path / "m.csv", buffer=32, axes=6, layout="multisensor")
    assert r.layout == "buffers" and r.lines == len(multi) // 32
    np.testing.assert_array_equal(values(r.out, 6), multi[: r.lines * 32].reshape(r.lines, 192))

    speed = values(SPEED, 1, "target-first")
    r = data_ops.recut(SPEED, tmp_path / "t.csv", buffer=(speed.shape[1] - 1) // 2, layout="target-first")
    out = values(r.out, 1, "target-first")
    assert r.lines == 2 * len(speed)
    np.testing.assert_array_equal(out[::2, 0], speed[:, 0])  # each piece keeps its line's target
    np.testing.assert_array_equal(out[1::2, 1:], speed[:, 1 + (speed.shape[1] - 1) // 2:])
    assert any(w.code == "target-copied" for w in r.warnings)
    with pytest.raises(UsageError, match="own target"):
        data_ops.recut(SPEED, tmp_path / "u.csv", buffer=8, continuous=True, layout="target-first")


def test_remove_columns_and_axes(tmp_path, fan):
    check = untouched(FAN)
    r = data_ops.remove_columns(FAN, tmp_path / "xy.csv", remove_axes="3", axes=3)
    assert r.axes == 2 and r.values_per_line == 512
    xy = values(r.out, 2)
    np.testing.assert_array_equal(xy.reshape(300, 256, 2), fan.reshape(300, 256, 3)[:, :, :2])

    r = data_ops.remove_columns(FAN, tmp_path / "tail.csv", columns="1-3,760-768", axes=3)
    np.testing.assert_array_equal(values(r.out, 3), fan[:, 3:759])
    with pytest.raises(UsageError, match="not a multiple of the 3 axes"):
        data_ops.remove_columns(FAN, tmp_path / "bad.csv", columns="1", axes=3)
    with pytest.raises(UsageError, match="every axis"):
        data_ops.remove_columns(FAN, tmp_path / "none.csv", remove_axes="1-3", axes=3)
    with pytest.raises(UsageError, match="target"):
        data_ops.remove_columns(SPEED, tmp_path / "t.csv", columns="1", layout="target-first")
    check()


def test_concat_keeps_order_and_refuses_other_shapes(tmp_path, fan):
    check = untouched(FAN, FAN_ABNORMAL)
    r = data_ops.concat([FAN, FAN_ABNORMAL], tmp_path / "all.csv", axes=3)
    assert r.lines == 450 and r.details["lines_per_input"] == [300, 150]
    np.testing.assert_array_equal(values(r.out, 3), np.vstack([fan, values(FAN_ABNORMAL, 3)]))
    short = data_ops.recut(FAN, tmp_path / "short.csv", buffer=64, axes=3).out
    with pytest.raises(InputError, match="lines hold 192 values"):
        data_ops.concat([FAN, short], tmp_path / "mixed.csv", axes=3)
    check()


def test_preview_reads_without_writing(tmp_path, fan):
    check = untouched(FAN)
    p = data_ops.preview(FAN, axes=3, lines=2)
    assert (p.lines, p.values_per_line, p.buffer, p.hop) == (300, 768, 256, None)
    assert p.axis_stats[2]["mean"] == pytest.approx(fan.reshape(-1, 3)[:, 2].mean())
    assert p.first_lines == fan[:2].tolist()
    text = "\n".join(data_ops.describe_preview(p))
    assert "3 axes × 256 samples" in text and "line 2:" in text
    overlapping = data_ops.recut(FAN, tmp_path / "o.csv", buffer=64, hop=16, axes=3).out
    assert data_ops.preview(overlapping, axes=3).hop == 16
    check()


def test_outputs_are_new_files_only(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("keep me\n")
    with pytest.raises(UsageError, match="already exists"):
        data_ops.shuffle(FAN, out, axes=3)
    assert out.read_text() == "keep me\n"
    data_ops.shuffle(FAN, out, axes=3, force=True)
    assert out.read_text() != "keep me\n"
    copy = tmp_path / "copy.csv"
    copy.write_bytes(FAN.read_bytes())
    with pytest.raises(UsageError, match="one of the inputs"):
        data_ops.extract(copy, copy, every=2, axes=3, force=True)
    assert copy.read_bytes() == FAN.read_bytes()


def test_bad_input_names_file_line_and_column(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("1 2 3 4\n5 6 x 8\n")
    with pytest.raises(InputError) as info:
        data_ops.recut(src, tmp_path / "o.csv", buffer=2)
    assert f"{src}:2:3" in info.value.message
    assert not (tmp_path / "o.csv").exists()


def neai(*args, code=0):
    result = subprocess.run([sys.executable, "-m", "neai_tui.cli", *map(str, args)],
                            capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stdout + result.stderr
    return result


def test_cli_chain_recut_extract_import(tmp_path):
    check = untouched(FAN)
    project = tmp_path / "fan64"
    neai("new", project, "--type", "anomaly", "--axes", 3)
    cut = tmp_path / "cut.csv"
    doc = json.loads(neai("data", "recut", FAN, "--axes", 3, "--buffer", 64, "--out", cut, "--json").stdout)
    assert doc["lines"] == 1200 and doc["buffer"] == 64
    half = tmp_path / "half.csv"
    out = neai("data", "extract", cut, "--axes", 3, "--every", 2, "--out", half, "--import", project,
               "--role", "nominal").stdout
    assert "600 lines × 192 values" in out and "imported into" in out
    listing = json.loads(neai("check", project, "--json", code=2).stdout)  # no abnormal signals yet
    assert listing["signals"][0]["lines"] == 600 and listing["signals"][0]["values_per_line"] == 192
    # a missing role is refused before anything is written
    assert "--role" in neai("data", "shuffle", cut, "--axes", 3, "--out", tmp_path / "s.csv", "--import", project,
                            code=2).stderr
    assert not (tmp_path / "s.csv").exists()
    assert "already exists" in neai("data", "shuffle", cut, "--out", half, code=2).stderr
    assert "choose an action" in neai("data", code=2).stderr
    preview = neai("data", "preview", half, "--axes", 3).stdout
    assert "600 lines × 192 values (3 axes × 64 samples)" in preview
    check()
