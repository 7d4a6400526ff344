/* neai_classification.c - the n-class classification library (NanoEdge AI
 * compatible API).
 *
 * Built as ONE translation unit together with the generated neai_config.h of a
 * library (like neai_anomaly.c): every component is static, so only the API
 * below (suffixed when the library has a suffix) is exported and several
 * libraries link into one firmware. The model was trained on the host; its
 * knowledge is a const float array (knowledge.h) that stays in the caller's
 * flash: init checks it against this library and keeps the pointer. Static
 * memory only: feature and scratch buffers in .bss, nothing on the heap.
 *
 * Errors leave the outputs untouched:
 *   NEAI_KNOWLEDGE_BUFFER_ERROR  init: knowledge of another library (or NULL);
 *                                the library is then uninitialised
 *   NEAI_INIT_FCT_NOT_CALLED     inference before a successful init
 *   NEAI_UNKNOWN_ERROR           NaN/Inf in the input (or a NULL pointer)
 */
#include "neai_config.h" /* generated: sizes, pipeline, tables, NEAI_HEADER */
#include NEAI_HEADER

#include "neai_math.c"
#include "neai_dsp.c"
#include "neai_input.h"
#include "neai_trained.c"

#define NEAI_CAT_(a, b) a##b
#define NEAI_CAT(a, b) NEAI_CAT_(a, b)
#define NEAI_FN(name) NEAI_CAT(name, NEAI_SUFFIX)

#if NEAI_FN(CLASS_NUMBER) != NEAI_CFG_CLASS_NUMBER || NEAI_CFG_CLASS_NUMBER < 2 || \
    NEAI_CFG_TOUT_FLOATS != NEAI_CFG_CLASS_NUMBER
#error "CLASS_NUMBER of the public header and the library configuration differ"
#endif

static const neai_pre_cfg neai_pre = NEAI_PRE_INIT;
static const neai_tmodel_cfg neai_tmodel = NEAI_TMODEL_INIT;
static float neai_work[NEAI_CFG_WORK_FLOATS];
static float neai_features[NEAI_CFG_NB_FEATURES];
static float neai_twork[NEAI_CFG_TWORK_FLOATS + 1u]; /* + 1: never a zero-length array */
static float neai_proba[NEAI_CFG_CLASS_NUMBER];
static const float *neai_kb; /* the checked knowledge; 0 until init succeeds */

enum neai_state NEAI_FN(neai_classification_init)(const float knowledge_buffer[])
{
    neai_kb = 0;
    if (knowledge_buffer == 0 || neai_tmodel_check(&neai_tmodel, knowledge_buffer) != 0) {
        return NEAI_KNOWLEDGE_BUFFER_ERROR;
    }
    neai_kb = knowledge_buffer;
    return NEAI_OK;
}

enum neai_state NEAI_FN(neai_classification)(float data_input[], float output_buffer[], uint16_t *id_class)
{
    uint16_t k, best = 0u;
    if (neai_kb == 0) {
        return NEAI_INIT_FCT_NOT_CALLED;
    }
    if (data_input == 0 || output_buffer == 0 || id_class == 0 ||
        neai_pre_features(&neai_pre, neai_input(data_input), neai_work, neai_features) != 0u) {
        return NEAI_UNKNOWN_ERROR;
    }
    neai_tmodel_predict(&neai_tmodel, neai_kb, neai_features, neai_twork, neai_proba);
    for (k = 0u; k < NEAI_CFG_CLASS_NUMBER; k++) {
        if (!neai_is_finite(neai_proba[k])) {
            return NEAI_UNKNOWN_ERROR;
        }
        if (neai_proba[k] > neai_proba[best]) { /* ties: the lowest id wins */
            best = k;
        }
    }
    for (k = 0u; k < NEAI_CFG_CLASS_NUMBER; k++) {
        output_buffer[k] = neai_proba[k];
    }
    *id_class = (uint16_t)(best + 1u); /* ids are 1..CLASS_NUMBER; 0 is "unknown" */
    return NEAI_OK;
}
