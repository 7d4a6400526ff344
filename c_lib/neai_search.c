/* neai_search.c - host-only batch entry points used by the benchmark.
 *
 * It includes the very same component sources as the deployed library, so
 * the figures the search ranks by are the deployed C's own outputs (checked by
 * tests/test_parity.py). Never part of a Cortex-M library. */
#include "neai_types.h"
#include "neai_math.c"
#include "neai_dsp.c"
#include "neai_models.c"

#define NEAI_EXPORT __attribute__((visibility("default")))

NEAI_EXPORT uint32_t neai_search_abi(void)
{
    return (uint32_t)(sizeof(neai_pre_cfg) * 1000000u + sizeof(neai_model_cfg) * 1000u + sizeof(neai_guard_cfg));
}

/* Features of n_lines input lines (row-major), written row-major to out.
 * Returns the number of lines whose features are not finite. */
NEAI_EXPORT uint32_t neai_search_features(const neai_pre_cfg *c, const float *in, uint32_t n_lines, float *out,
                                          float *work)
{
    uint32_t i, bad = 0;
    uint32_t stride = (uint32_t)c->nb_axes * c->buffer_size;
    for (i = 0; i < n_lines; i++) {
        bad += neai_pre_features(c, &in[i * stride], work, &out[i * c->nb_features]);
    }
    return bad;
}

/* The frequency filter on n_lines buffers (row-major; in and out may be the same). */
NEAI_EXPORT void neai_search_filter(const neai_filter_cfg *f, const float *in, uint32_t n_lines, float *out)
{
    uint32_t i, stride = (uint32_t)f->nb_axes * f->buffer_size;
    for (i = 0; i < n_lines; i++) {
        neai_filter_apply(f, &in[i * stride], &out[i * stride]);
    }
}

NEAI_EXPORT uint32_t neai_search_state_floats(const neai_model_cfg *c)
{
    return neai_model_state_floats(c);
}

NEAI_EXPORT uint32_t neai_search_work_floats(const neai_model_cfg *c)
{
    return neai_model_work_floats(c);
}

/* 1 when learn() would refuse the buffer (the library's input guard). */
NEAI_EXPORT uint32_t neai_search_guard(const neai_guard_cfg *g, const float *in)
{
    return neai_guard_refuses(g, in);
}

/* Learn one feature vector into `state`: 0 = learned, 1 = refused. */
NEAI_EXPORT uint32_t neai_search_learn_one(const neai_model_cfg *c, float *state, const float *x, float *work)
{
    return neai_model_learn(c, state, x, work);
}

/* Distance ratio of one feature vector. */
NEAI_EXPORT float neai_search_ratio_one(const neai_model_cfg *c, const float *state, const float *x, float *work)
{
    return neai_model_ratio(c, state, x, work);
}

/* Reset, learn the rows learn_idx of feats, then write the distance ratio and
 * the similarity (at `sensitivity`) of the rows detect_idx. */
NEAI_EXPORT void neai_search_run(const neai_model_cfg *c, float *state, float *work, const float *feats,
                                 const int32_t *learn_idx, uint32_t n_learn, const int32_t *detect_idx,
                                 uint32_t n_detect, float sensitivity, float *ratio_out, uint8_t *sim_out)
{
    uint32_t i;
    neai_model_reset(c, state);
    for (i = 0; i < n_learn; i++) {
        (void)neai_model_learn(c, state, &feats[(uint32_t)learn_idx[i] * c->dim], work);
    }
    neai_model_prepare(c, state, work);
    for (i = 0; i < n_detect; i++) {
        float r = neai_model_apply(c, state, &feats[(uint32_t)detect_idx[i] * c->dim], work);
        ratio_out[i] = r;
        sim_out[i] = neai_similarity(r, sensitivity);
    }
}

/* Learning curve: learn rows one by one and, at each checkpoint count, write
 * the similarities of the detect rows (n_checkpoints x n_detect). */
NEAI_EXPORT void neai_search_curve(const neai_model_cfg *c, float *state, float *work, const float *feats,
                                   const int32_t *learn_idx, uint32_t n_learn, const int32_t *detect_idx,
                                   uint32_t n_detect, const uint32_t *checkpoints, uint32_t n_checkpoints,
                                   uint8_t *sim_out)
{
    uint32_t i, cp = 0, d;
    neai_model_reset(c, state);
    for (i = 0; i < n_learn && cp < n_checkpoints; i++) {
        (void)neai_model_learn(c, state, &feats[(uint32_t)learn_idx[i] * c->dim], work);
        while (cp < n_checkpoints && checkpoints[cp] == i + 1u) {
            neai_model_prepare(c, state, work);
            for (d = 0; d < n_detect; d++) {
                sim_out[cp * n_detect + d] =
                    neai_similarity(neai_model_apply(c, state, &feats[(uint32_t)detect_idx[d] * c->dim], work), 1.0f);
            }
            cp++;
        }
    }
}

NEAI_EXPORT float neai_search_learned(const float *state)
{
    return neai_model_learned(state);
}
