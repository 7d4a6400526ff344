"""Code generation for the trained libraries (1-class, n-class, extrapolation).

A trained library is fitted on the host; its knowledge is a const float array
(``knowledge.h``, written by :func:`trained.knowledge_header`) that the user's
firmware keeps in flash and hands to ``*_init``. This module writes what the
user compiles against: the public header (API of the type, NEAI_ID, NB_AXES,
BUFFER_SIZE, CLASS_NUMBER and ``id2class`` for n-class) and a "Hello World"
``main.c`` in the shape of NanoEdge AI Studio's documentation.

With a suffix, every exported function, variable, macro and header name gets
``_<suffix>`` (SPEC §4), so several libraries link into one firmware.

``id2class`` is, as in NanoEdge's header, a ``static const`` array in the public
header: no symbol in the library, one copy only in the files that use it, and
nothing to clash when two libraries link together.
"""
from __future__ import annotations

from .. import __version__
from .codegen import GENERATED, c_string, check_library_id, check_suffix, header_name

# project type -> the API's name for it
API_NAMES = {"one-class": "oneclass", "n-class": "classification", "extrapolation": "extrapolation"}
TITLES = {
    "one-class": "1-class classification",
    "n-class": "n-class classification",
    "extrapolation": "extrapolation",
}
SOURCES = {"one-class": "neai_oneclass.c", "n-class": "neai_classification.c", "extrapolation": "neai_extrapolation.c"}

_STATE_ENUM = """#ifndef NEAI_STATE_DEFINED
#define NEAI_STATE_DEFINED
enum neai_state {
    NEAI_OK = 0,
    NEAI_INIT_FCT_NOT_CALLED = 123,
    NEAI_BOARD_ERROR,
    NEAI_KNOWLEDGE_BUFFER_ERROR,
    NEAI_NOT_ENOUGH_CALL_TO_LEARNING,
    NEAI_MINIMAL_RECOMMENDED_LEARNING_DONE,
    NEAI_UNKNOWN_ERROR,
    NEAI_BUFFER_REFUSED /* anomaly libraries' learn(): buffer refused (one enum for every library) */
};
#endif"""


def _check_type(lib_type: str) -> str:
    if lib_type not in API_NAMES:
        raise ValueError(f"not a trained library type: {lib_type!r}")
    return API_NAMES[lib_type]


def knowledge_header_name(suffix: str | None) -> str:
    return f"knowledge{check_suffix(suffix)}.h"


def knowledge_symbol(suffix: str | None) -> str:
    return f"knowledge{check_suffix(suffix)}"


def source_file(lib_type: str) -> str:
    _check_type(lib_type)
    return SOURCES[lib_type]


def api_symbols(lib_type: str, suffix: str | None) -> list[str]:
    """Exported functions of a trained library (init first)."""
    api = _check_type(lib_type)
    s = check_suffix(suffix)
    return [f"neai_{api}_init{s}", f"neai_{api}{s}"]


def _c_string(text: str) -> str:
    return c_string(text)


def _prototypes(lib_type: str, s: str) -> str:
    if lib_type == "one-class":
        return (
            f"enum neai_state neai_oneclass_init{s}(const float knowledge_buffer[]);\n"
            f"enum neai_state neai_oneclass{s}(float data_input[], uint8_t *is_outlier); /* 1 = outlier */"
        )
    if lib_type == "n-class":
        return (
            f"enum neai_state neai_classification_init{s}(const float knowledge_buffer[]);\n"
            f"/* output_buffer[CLASS_NUMBER{s}] gets the probability of each class; *id_class the\n"
            f" * most probable one, 1..CLASS_NUMBER{s} (id2class{s}[*id_class] is its name). */\n"
            f"enum neai_state neai_classification{s}(float data_input[], float output_buffer[], uint16_t *id_class);"
        )
    return (
        f"enum neai_state neai_extrapolation_init{s}(const float knowledge_buffer[]);\n"
        f"enum neai_state neai_extrapolation{s}(float data_input[], float *extrapolated_value);"
    )


def public_header(
    lib_type: str,
    lib_id: str,
    axes: int,
    buffer_size: int,
    suffix: str | None,
    *,
    classes: list[str] | None = None,
    knowledge_floats: int = 0,
) -> str:
    """NanoEdgeAI.h (NanoEdgeAI_<suffix>.h) of a trained library."""
    api = _check_type(lib_type)
    s = check_suffix(suffix)
    guard = f"NANOEDGEAI{s.upper()}_H"
    check_library_id(lib_id)
    if lib_type == "n-class":
        if not classes or len(classes) < 2:
            raise ValueError("an n-class library needs at least two class names")
    defines = [
        f"#define NEAI_ID{s} {c_string(lib_id)}",
        f"#define NB_AXES{s} {axes}",
        f"#define BUFFER_SIZE{s} {buffer_size}",
        f"#define AXIS_NUMBER{s} NB_AXES{s}         /* NanoEdge's name */",
        f"#define DATA_INPUT_USER{s} BUFFER_SIZE{s} /* NanoEdge's name */",
    ]
    if lib_type == "n-class":
        defines.append(f"#define CLASS_NUMBER{s} {len(classes)}")
    if knowledge_floats:
        defines.append(f"#define NEAI_KNOWLEDGE_FLOATS{s} {knowledge_floats} /* length of {knowledge_symbol(suffix)}[] */")
    usage = {
        "one-class": "says whether a buffer is an outlier (1) or like the\n * normal signals it was trained on (0)",
        "n-class": f"says which of CLASS_NUMBER{s} classes a buffer belongs to,\n * with the probability of each",
        "extrapolation": "estimates the value it was trained to predict from a\n * buffer",
    }[lib_type]
    id2class = ""
    if lib_type == "n-class":
        names = ",\n    ".join(_c_string(n) for n in ["unknown", *classes])
        id2class = (
            f"\n/* Class names by id: index 0 is \"unknown\", ids 1..CLASS_NUMBER{s} are the classes the\n"
            f" * library was trained on, in this order. static: no symbol, no clash between libraries. */\n"
            f"static const char *const id2class{s}[CLASS_NUMBER{s} + 1] = {{\n    {names}\n}};\n"
        )
    return f"""/* {header_name(suffix)} - NanoEdge AI compatible {TITLES[lib_type]} library.
 * {GENERATED.format(version=__version__, lib_id=lib_id)}
 *
 * The library was trained on the host: it does not learn on the device. It
 * {usage}.
 * Call neai_{api}_init{s}({knowledge_symbol(suffix)}) once with the knowledge of
 * {knowledge_header_name(suffix)} (const: it stays in flash; the library keeps a
 * pointer to it), then neai_{api}{s}() on each new buffer. A buffer holds
 * BUFFER_SIZE{s} samples of NB_AXES{s} axes, interleaved (x0 y0 z0 x1 y1 z1 ...).
 *
 * Return values: NEAI_OK; NEAI_KNOWLEDGE_BUFFER_ERROR from init when the knowledge
 * is not this library's; NEAI_INIT_FCT_NOT_CALLED before a successful init;
 * NEAI_UNKNOWN_ERROR for a buffer holding NaN or Inf. On an error the outputs
 * are left untouched. No heap, no stdio, no global constructors.
 */
#ifndef {guard}
#define {guard}

#include <stdint.h>

{chr(10).join(defines)}

{_STATE_ENUM}

#ifdef __cplusplus
extern "C" {{
#endif

{_prototypes(lib_type, s)}

#ifdef __cplusplus
}}
#endif
{id2class}
#endif /* {guard} */
"""


_FILL = """static void fill_buffer(float input_buffer[])
{{
    /* USER BEGIN: read DATA_INPUT_USER{s} samples of AXIS_NUMBER{s} axes from your
     * sensor, interleaved x0 y0 z0 x1 y1 z1 ... (this placeholder writes a ramp). */
    static uint32_t t = 0;
    uint32_t i;
    for (i = 0; i < DATA_INPUT_USER{s} * AXIS_NUMBER{s}; i++) {{
        input_buffer[i] = (float)((t + i) % 97u) * 0.01f;
    }}
    t++;
    /* USER END */
}}
"""


def hello_world(lib_type: str, suffix: str | None) -> str:
    """main.c: the documentation's Hello World for this library; compiles as is.

    Two ``USER BEGIN`` / ``USER END`` blocks: the acquisition in fill_buffer()
    and what to do with each result.
    """
    api = _check_type(lib_type)
    s = check_suffix(suffix)
    if lib_type == "one-class":
        decl = "    uint8_t is_outlier = 0;\n"
        call = f"        neai_oneclass{s}(input_user_buffer, &is_outlier);\n"
        act = (
            "        /* USER BEGIN: act on is_outlier (1 = not like the training signals) */\n"
            "        if (is_outlier) {\n"
            "            /* outlier */\n"
            "        }\n"
            "        /* USER END */\n"
        )
        buffers = ""
    elif lib_type == "n-class":
        decl = "    uint16_t id_class = 0;\n"
        call = f"        neai_classification{s}(input_user_buffer, output_class_buffer, &id_class);\n"
        act = (
            f"        /* USER BEGIN: act on id_class (1..CLASS_NUMBER{s}; its name is id2class{s}[id_class]\n"
            f"         * and output_class_buffer[id_class - 1] its probability) */\n"
            f"        (void)id2class{s}[id_class];\n"
            "        /* USER END */\n"
        )
        buffers = f"float output_class_buffer[CLASS_NUMBER{s}];                     /* class probabilities */\n"
    else:
        decl = "    float extrapolated_value = 0.0f;\n"
        call = f"        neai_extrapolation{s}(input_user_buffer, &extrapolated_value);\n"
        act = (
            "        /* USER BEGIN: act on extrapolated_value */\n"
            "        (void)extrapolated_value;\n"
            "        /* USER END */\n"
        )
        buffers = ""
    return f"""/* main.c - "Hello World" for this NanoEdge AI compatible {TITLES[lib_type]} library, in
 * the shape of NanoEdge AI Studio's documentation. It compiles as it is:
 *     arm-none-eabi-gcc <your -mcpu/-mfloat-abi> main.c libneai.a -lm ...
 * Replace fill_buffer() with your sensor acquisition. */
#include <stdint.h>
#include "{header_name(suffix)}"
#include "{knowledge_header_name(suffix)}"

float input_user_buffer[DATA_INPUT_USER{s} * AXIS_NUMBER{s}]; /* buffer of input values */
{buffers}
{_FILL.format(s=s)}
int main(void)
{{
    enum neai_state error_code;
{decl}
    /* Initialization */
    error_code = neai_{api}_init{s}({knowledge_symbol(suffix)});
    if (error_code != NEAI_OK) {{
        /* The knowledge does not belong to this library, or the board is not supported. */
        return 1;
    }}

    /* Inference */
    while (1) {{
        fill_buffer(input_user_buffer);
{call}{act}    }}
}}
"""
