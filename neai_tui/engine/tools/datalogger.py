"""Datalogger generator: firmware that records signals in the Studio's format.

The generated program samples ``NB_AXES`` axes at ``SAMPLE_RATE_HZ`` into a
buffer of ``BUFFER_SIZE`` samples and prints each full buffer as one line over
the serial port: values separated by single spaces, interleaved ``x0 y0 z0 x1 …``
(SPEC §1), so a capture (the TUI's Signals step, key c, or any terminal logging
to a file) imports as it is.

Two flavours, both complete except for the board-specific parts:

* ``generic``: a C99 ``main.c`` for any Cortex-M project. The user fills in
  ``board_init()`` (clocks, UART behind printf, sensor, a timer interrupt calling
  ``datalogger_tick()``), ``read_sensor()`` and optionally ``board_idle()``.
  Values are printed without float printf (newlib-nano prints nothing for ``%f``
  unless linked with ``-u _printf_float``). A sample missed (the sensor or the
  printing too slow) restarts the buffer: a line only ever holds consecutive
  samples. ``-DDL_EXTERNAL_BOARD_HOOKS`` leaves the hooks to another file and
  ``-DDL_MAX_BUFFERS=N`` stops after N lines (both used by the tests).
* ``arduino``: a sketch ``<folder>/<folder>.ino`` (the Arduino IDE wants a sketch
  in a folder of its own name), paced by ``micros()``, printing with
  ``Serial.print(value, decimals)``.

Files are generated from the templates below, marked as generated, and never
written over an existing file without ``force``.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..signals import MAX_VALUES_PER_LINE
from ..storage import atomic_write_bytes

__all__ = ["BOARDS", "DataloggerOptions", "DataloggerResult", "generate_datalogger", "render", "describe"]

BOARDS = ("generic", "arduino")
BOARD_TITLES = {"generic": "generic Cortex-M C (main.c)", "arduino": "Arduino sketch (.ino)"}
MAX_DECIMALS = 9
DEFAULT_BAUD = 115200
_SKETCH_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")


@dataclass
class DataloggerOptions:
    axes: int
    rate_hz: float
    buffer: int
    board: str = "generic"
    baud: int = DEFAULT_BAUD
    decimals: int = 6


@dataclass
class DataloggerResult:
    folder: Path
    board: str
    files: list[Path]
    axes: int
    rate_hz: float
    buffer: int
    baud: int
    decimals: int
    sample_seconds: float  # time to fill one buffer
    print_seconds: float  # time to send one line at the baud rate (worst case)
    notes: list[str] = field(default_factory=list)

    @property
    def duty(self) -> float:
        """Share of the time spent sampling (the rest, printing, records nothing)."""
        return self.sample_seconds / (self.sample_seconds + self.print_seconds)

    def to_json(self) -> dict:
        doc = asdict(self)
        doc["folder"] = str(self.folder)
        doc["files"] = [str(p) for p in self.files]
        doc["duty"] = self.duty
        return doc


def _validate(options: DataloggerOptions) -> None:
    if options.board not in BOARDS:
        raise UsageError(f"unknown board kind {options.board!r}", f"Use one of: {', '.join(BOARDS)}.")
    for name, value, low in (("number of axes", options.axes, 1), ("buffer size", options.buffer, 1),
                             ("baud rate", options.baud, 300)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise UsageError(f"the {name} must be a whole number of {low} or more, not {value!r}",
                             "e.g. --axes 3 --buffer 256 --baud 115200.")
    if options.axes * options.buffer > MAX_VALUES_PER_LINE:
        raise UsageError(
            f"{options.axes} axes × {options.buffer} samples = {options.axes * options.buffer} values per line; "
            f"the Studio's limit is {MAX_VALUES_PER_LINE}",
            "Use a smaller buffer or fewer axes.",
        )
    if not isinstance(options.rate_hz, (int, float)) or not 0 < options.rate_hz <= 1_000_000:
        raise UsageError(f"the sampling rate must be between 0 and 1 MHz, not {options.rate_hz!r}",
                         "Give --rate in Hz, e.g. --rate 1000.")
    if isinstance(options.decimals, bool) or not isinstance(options.decimals, int) or \
            not 0 <= options.decimals <= MAX_DECIMALS:
        raise UsageError(f"the decimals must be 0 to {MAX_DECIMALS}, not {options.decimals!r}",
                         "Digits printed after the decimal point, e.g. --decimals 6.")


def _rate_literal(rate: float) -> str:
    return f"{int(rate)}" if float(rate).is_integer() else repr(float(rate))


def _char_estimate(options: DataloggerOptions) -> int:
    # sign, ~4 integer digits, point, decimals, separator: a generous line length
    per_value = 1 + 4 + (1 + options.decimals if options.decimals else 0) + 1
    return options.axes * options.buffer * per_value + 2


def render(options: DataloggerOptions, *, sketch_name: str = "datalogger", version: str = "") -> str:
    """The source text of the datalogger (main.c, or the .ino sketch)."""
    _validate(options)
    template = C_TEMPLATE if options.board == "generic" else ARDUINO_TEMPLATE
    rate = float(options.rate_hz)
    period_us = 1e6 / rate
    fields = {
        "VERSION": version or _version(),
        "NB_AXES": str(options.axes),
        "BUFFER_SIZE": str(options.buffer),
        "RATE": _rate_literal(rate),
        "RATE_C": _rate_literal(rate) + ("u" if rate.is_integer() else "f"),
        "BAUD": str(options.baud),
        "DECIMALS": str(options.decimals),
        "PERIOD_US": f"{max(1, round(period_us))}",
        "SKETCH": sketch_name,
        "BUFFER_MS": f"{options.buffer / rate * 1000:.4g}",
    }
    text = template
    for key, value in fields.items():
        text = text.replace(f"@{key}@", value)
    return text


def _version() -> str:
    from ... import __version__

    return __version__


def generate_datalogger(folder: Path | str, options: DataloggerOptions, *, force: bool = False) -> DataloggerResult:
    """Write the datalogger's source into `folder` (created if needed)."""
    _validate(options)
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder", "Give the folder to write the datalogger into.")
    if options.board == "arduino":
        name = folder.resolve().name
        if not _SKETCH_NAME.fullmatch(name):
            raise UsageError(
                f"'{name}' cannot name an Arduino sketch",
                "The Arduino IDE wants the sketch in a folder of its own name: use letters, digits and _ "
                "(e.g. neai_logger).",
            )
        target = folder / f"{name}.ino"
        text = render(options, sketch_name=name)
    else:
        target = folder / "main.c"
        text = render(options)
    if target.exists() and not force:
        raise UsageError(f"{target} already exists", "Choose another folder, or add --force to replace it.")
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, text.encode("utf-8"))
    sample_s = options.buffer / float(options.rate_hz)
    print_s = _char_estimate(options) * 10 / options.baud  # 8N1: 10 bits per character
    notes = []
    if print_s > sample_s:
        notes.append(
            f"printing a line takes up to {print_s * 1000:.4g} ms at {options.baud} baud, longer than filling a "
            f"buffer ({sample_s * 1000:.4g} ms): lines are complete but not back to back. A faster baud rate "
            "or fewer decimals records more of the time."
        )
    if options.board == "arduino" and options.rate_hz > 10_000:
        notes.append("above ~10 kHz, micros() pacing on most Arduino boards is too coarse: use a timer interrupt")
    if options.buffer & (options.buffer - 1):
        notes.append("the buffer size is not a power of two: FFT-based preprocessing needs one")
    return DataloggerResult(folder, options.board, [target], options.axes, float(options.rate_hz), options.buffer,
                            options.baud, options.decimals, sample_s, print_s, notes)


def describe(result: DataloggerResult) -> list[str]:
    out = [f"wrote {', '.join(str(p) for p in result.files)} ({BOARD_TITLES[result.board]})",
           f"  {result.axes} axis/axes at {result.rate_hz:g} Hz, {result.buffer} samples per line "
           f"({result.sample_seconds * 1000:.4g} ms), {result.baud} baud, {result.decimals} decimals"]
    if result.board == "generic":
        out.append("  fill in board_init() (clocks, UART for printf, sensor, a timer at the rate calling "
                   "datalogger_tick()) and read_sensor(); the rest is complete")
    else:
        out.append("  fill in readSensor() (and the sensor set-up in setup()); open the folder in the Arduino IDE")
    out.append("  capture: the TUI's Signals step, key c (serial port), or any terminal logging to a file, then "
               "`neai import`")
    out.extend(f"  note: {n}" for n in result.notes)
    return out


C_TEMPLATE = r"""/* Datalogger for a NanoEdge AI (neai-tui) project: generated by neai-tui @VERSION@
 * (`neai tools datalogger`). Edit the three board hooks; the rest is complete.
 *
 * Samples NB_AXES axes at SAMPLE_RATE_HZ into buffers of BUFFER_SIZE samples
 * (@BUFFER_MS@ ms) and prints each full buffer as one line: values separated by one
 * space, interleaved x0 y0 z0 x1 y1 z1 ... - the Studio's signal-file format.
 *
 * Fill in:
 *   board_init()   clocks, the UART that printf writes to (@BAUD@ baud, 8N1), the
 *                  sensor, and a timer interrupt at SAMPLE_RATE_HZ whose handler
 *                  calls datalogger_tick().
 *   read_sensor()  one sample of every axis, in the order of the project's axes.
 *   board_idle()   optional: sleep until the next interrupt (__WFI()).
 *
 * printf must reach the UART: with newlib, implement _write() (STM32CubeIDE:
 * __io_putchar()). Values are printed with integer arithmetic, so newlib-nano
 * needs no -u _printf_float. A missed sample (read_sensor() or printing too
 * slow) restarts the buffer: a line always holds consecutive samples.
 * Capture the lines with the neai TUI (Signals step, key c) or any serial
 * terminal logging to a file, then `neai import`.
 */
#include <stdint.h>
#include <stdio.h>

#define NB_AXES        @NB_AXES@
#define BUFFER_SIZE    @BUFFER_SIZE@
#define SAMPLE_RATE_HZ @RATE_C@
#define DL_DECIMALS    @DECIMALS@     /* digits after the decimal point (0..9) */

#ifndef DL_MAX_BUFFERS
#define DL_MAX_BUFFERS 0     /* 0: log forever; N: return from main after N lines */
#endif

#if DL_DECIMALS < 0 || DL_DECIMALS > 9
#error "DL_DECIMALS must be 0..9"
#endif

/* Values beyond this print as inf / -inf (the import then reports them). */
#define DL_MAX_PRINTABLE 2.0e9f

void board_init(void);
void read_sensor(float out[NB_AXES]);
void board_idle(void);
void datalogger_tick(void);

#ifndef DL_EXTERNAL_BOARD_HOOKS
/* ---- board hooks: fill these in -------------------------------------------- */

void board_init(void)
{
    /* TODO: clocks, UART (printf), sensor, and a timer at SAMPLE_RATE_HZ whose
     * interrupt handler calls datalogger_tick(). */
}

void read_sensor(float out[NB_AXES])
{
    /* TODO: one sample of each axis, e.g. out[0] = accel_x; out[1] = accel_y; ... */
    int axis;
    for (axis = 0; axis < NB_AXES; axis++) {
        out[axis] = 0.0f;
    }
}

void board_idle(void)
{
    /* Optional: __WFI(); sleeps until the next interrupt. */
}
#endif /* DL_EXTERNAL_BOARD_HOOKS */

/* ---- datalogger ---------------------------------------------------------------- */

static float dl_buffer[NB_AXES * BUFFER_SIZE];
/* Written by the timer interrupt only; read by the main loop (one 32-bit word:
 * atomic on Cortex-M, so no critical section is needed). */
static volatile uint32_t dl_tick_count;

void datalogger_tick(void)
{
    dl_tick_count++;
}

static unsigned long dl_pow10(int exponent)
{
    unsigned long value = 1u;
    while (exponent-- > 0) {
        value *= 10u;
    }
    return value;
}

/* One value as [-]digits.decimals, without float printf. */
static void dl_print_value(float value)
{
    const unsigned long scale = dl_pow10(DL_DECIMALS);
    float magnitude = value < 0.0f ? -value : value;
    unsigned long whole;
    unsigned long fraction;

    if (value != value) {
        fputs("nan", stdout);
        return;
    }
    if (magnitude > DL_MAX_PRINTABLE) {
        fputs(value < 0.0f ? "-inf" : "inf", stdout);
        return;
    }
    whole = (unsigned long)magnitude;
    fraction = (unsigned long)((magnitude - (float)whole) * (float)scale + 0.5f);
    if (fraction >= scale) {
        whole++;
        fraction -= scale;
    }
    if (value < 0.0f && (whole != 0u || fraction != 0u)) {
        putchar('-');
    }
#if DL_DECIMALS > 0
    printf("%lu.%0*lu", whole, DL_DECIMALS, fraction);
#else
    printf("%lu", whole);
#endif
}

static void dl_print_buffer(const float buffer[NB_AXES * BUFFER_SIZE])
{
    int i;
    for (i = 0; i < NB_AXES * BUFFER_SIZE; i++) {
        if (i != 0) {
            putchar(' ');
        }
        dl_print_value(buffer[i]);
    }
    printf("\r\n");
    fflush(stdout);
}

int main(void)
{
    uint32_t seen;
    uint32_t filled = 0u;
#if DL_MAX_BUFFERS > 0
    uint32_t printed = 0u;
#endif

    board_init();
    seen = dl_tick_count;
    for (;;) {
        uint32_t now = dl_tick_count;
        uint32_t pending = now - seen; /* wraps correctly */

        if (pending == 0u) {
            board_idle();
            continue;
        }
        seen = now;
        if (pending > 1u) {
            filled = 0u; /* a sample was missed: this buffer starts again */
        }
        read_sensor(&dl_buffer[filled * NB_AXES]);
        filled++;
        if (filled == BUFFER_SIZE) {
            dl_print_buffer(dl_buffer);
            filled = 0u;
            seen = dl_tick_count; /* ticks during printing belong to no buffer */
#if DL_MAX_BUFFERS > 0
            if (++printed >= DL_MAX_BUFFERS) {
                return 0;
            }
#endif
        }
    }
}
"""

ARDUINO_TEMPLATE = r"""// Datalogger for a NanoEdge AI (neai-tui) project: generated by neai-tui @VERSION@
// (`neai tools datalogger --board arduino`). Fill in readSensor(); the rest is complete.
//
// Samples NB_AXES axes at SAMPLE_RATE_HZ into buffers of BUFFER_SIZE samples
// (@BUFFER_MS@ ms) and prints each full buffer as one line on Serial (@BAUD@ baud):
// values separated by one space, interleaved x0 y0 z0 x1 y1 z1 ... - the Studio's
// signal-file format. A missed sample (readSensor() too slow) restarts the buffer:
// a line always holds consecutive samples. Capture the lines with the neai TUI
// (Signals step, key c) or the Serial Monitor's output saved to a file, then
// `neai import`.

#define NB_AXES        @NB_AXES@
#define BUFFER_SIZE    @BUFFER_SIZE@
#define SAMPLE_RATE_HZ @RATE@
#define SERIAL_BAUD    @BAUD@
#define DL_DECIMALS    @DECIMALS@

const unsigned long SAMPLE_PERIOD_US = @PERIOD_US@UL;  // 1e6 / SAMPLE_RATE_HZ, rounded

static float dlBuffer[NB_AXES * BUFFER_SIZE];
static unsigned int dlFilled = 0;
static unsigned long dlNextUs = 0;

// ---- fill this in ------------------------------------------------------------
void readSensor(float out[NB_AXES]) {
  // TODO: one sample of each axis, e.g. out[0] = analogRead(A0); out[1] = ...
  for (int axis = 0; axis < NB_AXES; axis++) {
    out[axis] = 0.0f;
  }
}

// ---- datalogger ----------------------------------------------------------------
static void printBuffer() {
  for (unsigned int i = 0; i < NB_AXES * BUFFER_SIZE; i++) {
    if (i != 0) {
      Serial.print(' ');
    }
    Serial.print(dlBuffer[i], DL_DECIMALS);
  }
  Serial.println();
}

void setup() {
  Serial.begin(SERIAL_BAUD);
  while (!Serial) {
    // boards with native USB: wait for the port to open
  }
  // TODO: sensor set-up
  dlNextUs = micros();
}

void loop() {
  unsigned long now = micros();
  if ((long)(now - dlNextUs) < 0) {
    return;  // not time for the next sample yet
  }
  if (now - dlNextUs >= SAMPLE_PERIOD_US) {
    dlFilled = 0;  // late by a whole period: a sample was missed, start again
    dlNextUs = now;
  }
  dlNextUs += SAMPLE_PERIOD_US;
  readSensor(&dlBuffer[dlFilled * NB_AXES]);
  dlFilled++;
  if (dlFilled == BUFFER_SIZE) {
    printBuffer();
    dlFilled = 0;
    dlNextUs = micros();  // time spent printing belongs to no buffer
  }
}
"""
