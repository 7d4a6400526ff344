"""Serial capture's cost on a long line without a line break, next to the old splitter.

A board at the wrong baud rate, or one that never prints "\\n", sends one endless
line. The old capture appended each read to a buffer and split the whole buffer
again (quadratic); LineSplitter looks at each byte once. Both are fed the same
64 KiB chunks in this process; then the whole path (a socket:// source through
`neai capture`'s engine) is timed on a 16 MB line with the bound raised.

    python bench/serial_lines.py                 # 1, 4, 16 MB
    python bench/serial_lines.py --sizes 1 2 --json
"""
from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neai_tui.engine.serial_capture import LineSplitter, capture  # noqa: E402

CHUNK = 64 * 1024


def old_splitter(chunks) -> int:
    """The capture loop before issue 14: the buffer re-split on every read."""
    buffer = b""
    lines = 0
    for chunk in chunks:
        buffer += chunk.replace(b"\r", b"\n")
        *done, buffer = buffer.split(b"\n")
        lines += len(done)
    return lines


def new_splitter(chunks, limit: int) -> int:
    splitter = LineSplitter(max_line_bytes=limit)
    return sum(len(splitter.feed(chunk)) for chunk in chunks)


def measure(fn, *args) -> tuple[float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    fn(*args)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak / 2**20


def socket_capture(megabytes: int) -> float:
    server = socket.create_server(("127.0.0.1", 0))
    url = f"socket://127.0.0.1:{server.getsockname()[1]}"

    def board():
        conn, _ = server.accept()
        time.sleep(0.3)
        conn.sendall(b"1 2 3\n4 5 6\n")
        conn.sendall(b"7 " * (megabytes << 19))
        conn.sendall(b"\n8 9 10\n")
        time.sleep(0.2)
        conn.close()
        server.close()

    threading.Thread(target=board, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        capture(url, Path(tmp) / "cap.csv", idle_timeout=30, max_line_bytes=(megabytes + 1) << 20)
        return time.perf_counter() - started - 0.5  # the board's own pauses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16], metavar="MB")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for mb in args.sizes:
        chunks = [b"1 " * (CHUNK // 2)] * (mb * 16) + [b"\n"]
        new_s, new_mb = measure(new_splitter, chunks, (mb + 1) << 20)
        old_s, old_mb = measure(old_splitter, chunks)
        rows.append({"line_mb": mb, "splitter_s": round(new_s, 4), "splitter_peak_mb": round(new_mb, 1),
                     "old_s": round(old_s, 4), "old_peak_mb": round(old_mb, 1),
                     "speedup": round(old_s / max(new_s, 1e-9), 1),
                     "socket_capture_s": round(socket_capture(mb), 3)})
    if args.json:
        print(json.dumps({"chunk_bytes": CHUNK, "rows": rows}))
        return 0
    print(f"one line without a line break, fed in {CHUNK // 1024} KiB reads (same run, same chunks)")
    print(f"{'line':>6} {'LineSplitter':>14} {'old re-split':>14} {'ratio':>7} {'socket:// capture':>18}")
    for r in rows:
        print(f"{r['line_mb']:>4} MB {r['splitter_s']:>9.3f} s {r['splitter_peak_mb']:>4.0f}M "
              f"{r['old_s']:>8.3f} s {r['old_peak_mb']:>4.0f}M {r['speedup']:>6.0f}x {r['socket_capture_s']:>16.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
