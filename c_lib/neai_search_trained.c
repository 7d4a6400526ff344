/* neai_search_trained.c - host-only batch entry points over the trained models.
 *
 * It includes the very same inference source as the deployed libraries, so the
 * outputs the benchmark and the parity tests compare are the deployed C's own.
 * Never part of a Cortex-M library. */
#include "neai_trained_types.h"
#include "neai_math.c"
#include "neai_trained.c"

#define NEAI_EXPORT __attribute__((visibility("default")))

NEAI_EXPORT uint32_t neai_trained_abi(void)
{
    return (uint32_t)sizeof(neai_tmodel_cfg);
}

NEAI_EXPORT uint32_t neai_trained_check(const neai_tmodel_cfg *c, const float *knowledge)
{
    return neai_tmodel_check(c, knowledge);
}

NEAI_EXPORT uint32_t neai_trained_work_floats(const neai_tmodel_cfg *c)
{
    return neai_tmodel_work_floats(c);
}

/* Outputs of n_rows feature vectors (row-major) to out, NEAI_TMODEL_OUT_FLOATS
 * per row. Returns the check result; nothing is written unless it is 0. */
NEAI_EXPORT uint32_t neai_trained_predict(const neai_tmodel_cfg *c, const float *knowledge, const float *features,
                                          uint32_t n_rows, float *work, float *out)
{
    uint32_t i, stride = NEAI_TMODEL_OUT_FLOATS(c->task, c->n_out);
    uint8_t status = neai_tmodel_check(c, knowledge);
    if (status != NEAI_TCHECK_OK) {
        return status;
    }
    for (i = 0; i < n_rows; i++) {
        neai_tmodel_predict(c, knowledge, &features[i * c->n_in], work, &out[i * stride]);
    }
    return 0u;
}

/* The runtime's exp, for the tests of its Python mirror. */
NEAI_EXPORT void neai_trained_expf(const float *x, uint32_t n, float *out)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        out[i] = neai_expf(x[i]);
    }
}

NEAI_EXPORT void neai_trained_logf(const float *x, uint32_t n, float *out)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        out[i] = neai_logf(x[i]);
    }
}
