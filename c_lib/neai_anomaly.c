/* neai_anomaly.c - the anomaly-detection library (NanoEdge AI compatible API).
 *
 * Built as ONE translation unit together with the generated neai_config.h of
 * a library: every component is static, so only the API below (suffixed when
 * the library has a suffix) is exported, and several libraries link into one
 * firmware. Static memory only: the knowledge lives in the .neai section, the
 * scratch buffers in .bss. */
#include "neai_config.h" /* generated: sizes, pipeline, tables, NEAI_HEADER */
#include NEAI_HEADER

#include "neai_math.c"
#include "neai_dsp.c"
#include "neai_input.h"
#include "neai_models.c"

#define NEAI_CAT_(a, b) a##b
#define NEAI_CAT(a, b) NEAI_CAT_(a, b)
#define NEAI_FN(name) NEAI_CAT(name, NEAI_SUFFIX)

/* Learned knowledge: back it up (NEAI_KNOWLEDGE_BYTES from this address) and
 * restore it after NanoEdgeAI_initialize() to keep what was learned. */
float NEAI_FN(neai_knowledge)[NEAI_CFG_STATE_FLOATS] __attribute__((section(".neai"), aligned(4)));

static const neai_pre_cfg neai_pre = NEAI_PRE_INIT;
static const neai_model_cfg neai_model = NEAI_MODEL_INIT;
static const neai_guard_cfg neai_guard = NEAI_GUARD_INIT;
static float neai_work[NEAI_CFG_WORK_FLOATS];
static float neai_model_work[NEAI_CFG_MODEL_WORK_FLOATS];
static float neai_features[NEAI_CFG_NB_FEATURES];
static float neai_sensitivity_value;
static uint8_t neai_initialised; /* .bss: 0 until init, whatever .neai holds */

enum neai_state NEAI_FN(neai_anomalydetection_init)(void)
{
    neai_model_reset(&neai_model, NEAI_FN(neai_knowledge));
    neai_sensitivity_value = 1.0f;
    neai_initialised = 1u;
    return NEAI_OK;
}

enum neai_state NEAI_FN(neai_anomalydetection_learn)(float data_input[])
{
    if (!neai_initialised) {
        return NEAI_INIT_FCT_NOT_CALLED;
    }
    /* A buffer that cannot come from the sensor (NaN/Inf, outside the range the
     * project's signals allow, a stuck axis where the features need variance)
     * or whose features cannot be learned is refused: the knowledge is untouched. */
    if (neai_guard_refuses(&neai_guard, data_input) != 0u ||
        neai_pre_features(&neai_pre, neai_input(data_input), neai_work, neai_features) != 0u ||
        neai_model_learn(&neai_model, NEAI_FN(neai_knowledge), neai_features, neai_model_work) != 0u) {
        return NEAI_BUFFER_REFUSED;
    }
    return neai_model_learned(NEAI_FN(neai_knowledge)) < (float)NEAI_CFG_MIN_LEARN ? NEAI_NOT_ENOUGH_CALL_TO_LEARNING
                                                                             : NEAI_MINIMAL_RECOMMENDED_LEARNING_DONE;
}

enum neai_state NEAI_FN(neai_anomalydetection_detect)(float data_input[], uint8_t *similarity)
{
    *similarity = 0u;
    if (!neai_initialised) {
        return NEAI_INIT_FCT_NOT_CALLED;
    }
    if (neai_model_learned(NEAI_FN(neai_knowledge)) < 1.0f) {
        return NEAI_NOT_ENOUGH_CALL_TO_LEARNING;
    }
    if (neai_pre_features(&neai_pre, neai_input(data_input), neai_work, neai_features) != 0u) {
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
