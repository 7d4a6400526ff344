/* neai_multisensor.c - Multi-sensor anomaly detection (NanoEdge AI compatible API).
 *
 * Same API as neai_anomaly.c, but data_input holds ONE instantaneous sample of
 * NEAI_CFG_NB_AXES variables (the header's NB_AXES, BUFFER_SIZE = 1). The
 * library keeps the last NEAI_CFG_WINDOW samples itself and runs the usual
 * preprocessing + model on that window, laid out exactly like a generic
 * buffer of NEAI_CFG_WINDOW samples (x0 y0 z0 x1 y1 z1 ..., oldest first), so
 * every component of neai_dsp.c / neai_models.c works unchanged and the
 * benchmark's features of a window are the features computed here.
 *
 * Built as ONE translation unit with the generated neai_config.h, like
 * neai_anomaly.c: only the API (suffixed when the library has a suffix) is
 * exported. Static memory only.
 *
 * Decisions (also stated in the generated header):
 * - The window is a sliding buffer kept in time order in .bss: each accepted
 *   sample moves the older ones down one slot and is appended. That costs
 *   (WINDOW-1) * NB_AXES float moves per call, the same order as reading the
 *   window for the features, and it needs no second buffer to linearise a ring:
 *   RAM for the history is exactly 4 * WINDOW * NB_AXES bytes.
 * - The history is NOT knowledge: it lives in .bss, not in .neai, and init()
 *   empties it. After a reset (with knowledge restored from flash), the first
 *   WINDOW-1 calls refill it; a history saved before the reset would be stale.
 * - Until the window is full (the first WINDOW-1 calls after init), learn()
 *   stores the sample, learns nothing and returns NEAI_NOT_ENOUGH_CALL_TO_LEARNING;
 *   detect() stores the sample and returns NEAI_NOT_ENOUGH_CALL_TO_LEARNING with
 *   similarity 0, as detect() does before anything was learned. Those calls
 *   count towards NEAI_MIN_LEARN (a number of learn() calls, i.e. samples).
 * - learn() and detect() feed the same history: it is one stream of samples,
 *   whichever function receives them.
 * - learn() refuses a sample holding NaN or Inf, or a value outside the range
 *   the project's signals allow (NEAI_BUFFER_REFUSED), and does NOT store it,
 *   so one bad reading does not spoil the next WINDOW decisions; detect()
 *   answers NEAI_UNKNOWN_ERROR for NaN/Inf and does not store it either.
 * - No stride: every call once the window is full gives a decision on the
 *   newest window. Skipping calls would make detect() answer with stale
 *   similarities; to spend less CPU, call less often (the window then spans a
 *   longer time, which is a different library: benchmark it that way).
 */
#include "neai_config.h" /* generated: sizes, pipeline, tables, window, NEAI_HEADER */
#include NEAI_HEADER

#include "neai_math.c"
#include "neai_dsp.c"
#include "neai_models.c"

#define NEAI_CAT_(a, b) a##b
#define NEAI_CAT(a, b) NEAI_CAT_(a, b)
#define NEAI_FN(name) NEAI_CAT(name, NEAI_SUFFIX)

#define NEAI_HISTORY_FLOATS ((uint32_t)NEAI_CFG_WINDOW * NEAI_CFG_NB_AXES)

/* Learned knowledge: back it up (NEAI_KNOWLEDGE_BYTES from this address) and
 * restore it after NanoEdgeAI_initialize() to keep what was learned. */
float NEAI_FN(neai_knowledge)[NEAI_CFG_STATE_FLOATS] __attribute__((section(".neai"), aligned(4)));

static const neai_pre_cfg neai_pre = NEAI_PRE_INIT;
static const neai_model_cfg neai_model = NEAI_MODEL_INIT;
static const neai_guard_cfg neai_guard = NEAI_GUARD_INIT; /* one sample: buffer_size 1 */
static float neai_model_work[NEAI_CFG_MODEL_WORK_FLOATS];
static float neai_history[NEAI_HISTORY_FLOATS]; /* oldest sample first, interleaved */
static uint32_t neai_history_count;             /* samples held, 0..NEAI_CFG_WINDOW */
static float neai_work[NEAI_CFG_WORK_FLOATS];
static float neai_features[NEAI_CFG_NB_FEATURES];
static float neai_sensitivity_value;
static uint8_t neai_initialised; /* .bss: 0 until init, whatever .neai holds */

/* Append one sample to the history; returns 0 if the window is full, 1 if it
 * is still filling, 2 if the sample is not finite (and was not stored). */
static uint8_t neai_push(const float *sample)
{
    uint32_t i;
    for (i = 0; i < NEAI_CFG_NB_AXES; i++) {
        if (!neai_is_finite(sample[i])) {
            return 2u;
        }
    }
    if (neai_history_count < NEAI_CFG_WINDOW) {
        for (i = 0; i < NEAI_CFG_NB_AXES; i++) {
            neai_history[neai_history_count * NEAI_CFG_NB_AXES + i] = sample[i];
        }
        neai_history_count++;
    } else {
        for (i = 0; i + NEAI_CFG_NB_AXES < NEAI_HISTORY_FLOATS; i++) {
            neai_history[i] = neai_history[i + NEAI_CFG_NB_AXES];
        }
        for (i = 0; i < NEAI_CFG_NB_AXES; i++) {
            neai_history[NEAI_HISTORY_FLOATS - NEAI_CFG_NB_AXES + i] = sample[i];
        }
    }
    return neai_history_count < NEAI_CFG_WINDOW ? 1u : 0u;
}

enum neai_state NEAI_FN(neai_anomalydetection_init)(void)
{
    neai_model_reset(&neai_model, NEAI_FN(neai_knowledge));
    neai_history_count = 0u;
    neai_sensitivity_value = 1.0f;
    neai_initialised = 1u;
    return NEAI_OK;
}

enum neai_state NEAI_FN(neai_anomalydetection_learn)(float data_input[])
{
    uint8_t filled;
    if (!neai_initialised) {
        return NEAI_INIT_FCT_NOT_CALLED;
    }
    /* A sample that cannot come from the sensors (NaN/Inf, outside the range
     * the project's signals allow) is refused and not stored. */
    if (neai_guard_refuses(&neai_guard, data_input) != 0u) {
        return NEAI_BUFFER_REFUSED;
    }
    filled = neai_push(data_input);
    if (filled == 2u) {
        return NEAI_BUFFER_REFUSED; /* NaN/Inf sample: not stored, nothing learned */
    }
    if (filled == 1u) {
        return NEAI_NOT_ENOUGH_CALL_TO_LEARNING; /* window still filling */
    }
    if (neai_pre_features(&neai_pre, neai_history, neai_work, neai_features) != 0u ||
        neai_model_learn(&neai_model, NEAI_FN(neai_knowledge), neai_features, neai_model_work) != 0u) {
        return NEAI_BUFFER_REFUSED; /* features overflowed: nothing learned */
    }
    /* NEAI_CFG_MIN_LEARN counts learn() calls, the WINDOW-1 filling ones included. */
    return neai_model_learned(NEAI_FN(neai_knowledge)) + (float)(NEAI_CFG_WINDOW - 1u) < (float)NEAI_CFG_MIN_LEARN
               ? NEAI_NOT_ENOUGH_CALL_TO_LEARNING
               : NEAI_MINIMAL_RECOMMENDED_LEARNING_DONE;
}

enum neai_state NEAI_FN(neai_anomalydetection_detect)(float data_input[], uint8_t *similarity)
{
    uint8_t filled;
    *similarity = 0u;
    if (!neai_initialised) {
        return NEAI_INIT_FCT_NOT_CALLED;
    }
    filled = neai_push(data_input);
    if (filled == 2u) {
        return NEAI_UNKNOWN_ERROR;
    }
    if (filled == 1u || neai_model_learned(NEAI_FN(neai_knowledge)) < 1.0f) {
        return NEAI_NOT_ENOUGH_CALL_TO_LEARNING;
    }
    if (neai_pre_features(&neai_pre, neai_history, neai_work, neai_features) != 0u) {
        return NEAI_UNKNOWN_ERROR;
    }
    *similarity = neai_similarity(
        neai_model_ratio(&neai_model, NEAI_FN(neai_knowledge), neai_features, neai_model_work), neai_sensitivity_value);
    return NEAI_OK;
}

void NEAI_FN(neai_anomalydetection_set_sensitivity)(float sensitivity)
{
    if (sensitivity >= 0.0f && neai_is_finite(sensitivity)) {
        neai_sensitivity_value = sensitivity;
    }
}

float NEAI_FN(neai_anomalydetection_get_sensitivity)(void)
{
    return neai_sensitivity_value;
}

/* ---- the first NanoEdge API generation, same behaviour ------------------- */
uint8_t NEAI_FN(NanoEdgeAI_initialize)(void)
{
    return NEAI_FN(neai_anomalydetection_init)() == NEAI_OK ? 0u : 1u;
}

/* 1 = the sample was taken (learned, or stored while the window fills). */
uint8_t NEAI_FN(NanoEdgeAI_learn)(float data_input[])
{
    enum neai_state st = NEAI_FN(neai_anomalydetection_learn)(data_input);
    return (st == NEAI_NOT_ENOUGH_CALL_TO_LEARNING || st == NEAI_MINIMAL_RECOMMENDED_LEARNING_DONE) ? 1u : 0u;
}

uint8_t NEAI_FN(NanoEdgeAI_detect)(float data_input[])
{
    uint8_t similarity = 0u;
    (void)NEAI_FN(neai_anomalydetection_detect)(data_input, &similarity);
    return similarity;
}

void NEAI_FN(NanoEdgeAI_set_sensitivity)(float sensitivity)
{
    NEAI_FN(neai_anomalydetection_set_sensitivity)(sensitivity);
}

float NEAI_FN(NanoEdgeAI_get_sensitivity)(void)
{
    return neai_sensitivity_value;
}

uint8_t NEAI_FN(NanoEdgeAI_get_status)(void)
{
    return neai_initialised ? 0u : 1u;
}
