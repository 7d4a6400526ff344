/* neai_models.c - anomaly-detection models that learn one example at a time on
 * the device, in a fixed-size state (the library's knowledge, kept in .neai).
 *
 * Both models turn a feature vector into a distance d >= 0 and keep a running
 * estimate of the distances of the examples they learned (measured before each
 * example is learned, so it is an honest estimate of unseen normal data). The
 * reference distance is mean + calib * std of those; similarity is
 * 100 / (1 + r^2 / 9) with r = d * sensitivity / reference, so an example at the
 * reference distance scores exactly 90. */
#include "neai_types.h"

#define NEAI_PROTO_MAX_K 64u

/* Running mean/variance (Welford) of the learned distances: [n, mean, m2]. */
static void neai_cal_update(float *cal, float d)
{
    float delta;
    cal[0] += 1.0f;
    delta = d - cal[1];
    cal[1] += delta / cal[0];
    cal[2] += delta * (d - cal[1]);
}

static float neai_cal_reference(const neai_model_cfg *c, const float *cal)
{
    float ref;
    if (cal[0] < 1.0f) {
        return 1.0f;
    }
    ref = cal[1] + c->calib * neai_sqrtf(cal[2] / cal[0]);
    return ref > 1e-12f ? ref : 1e-12f;
}

/* Variance floor shared by both models: reg * mean variance, plus a relative
 * epsilon so constant features never divide by zero. */
static float neai_var_floor(const neai_model_cfg *c, const float *m2, float n)
{
    uint16_t j;
    float s = 0.0f;
    for (j = 0; j < c->dim; j++) {
        s += m2[j];
    }
    s = n > 0.0f ? s / (n * (float)c->dim) : 0.0f;
    return (c->reg + 1e-6f) * s + 1e-30f;
}

static void neai_welford(float *n, float *mean, float *m2, const float *x, uint16_t dim)
{
    uint16_t j;
    *n += 1.0f;
    for (j = 0; j < dim; j++) {
        float delta = x[j] - mean[j];
        mean[j] += delta / *n;
        m2[j] += delta * (x[j] - mean[j]);
    }
}

/* ---- diagonal Gaussian: state = [n, mean[dim], m2[dim], cal[3]] ---------- */
static float neai_gauss_distance(const neai_model_cfg *c, const float *s, const float *x)
{
    const float n = s[0];
    const float *mean = &s[1], *m2 = &s[1u + c->dim];
    float floor, acc = 0.0f;
    uint16_t j;
    if (n < 1.0f) {
        return 0.0f;
    }
    floor = neai_var_floor(c, m2, n);
    for (j = 0; j < c->dim; j++) {
        float d = x[j] - mean[j];
        acc += d * d / (m2[j] / n + floor);
    }
    return neai_sqrtf(acc / (float)c->dim);
}

static void neai_gauss_learn(const neai_model_cfg *c, float *s, const float *x)
{
    if (s[0] >= (float)c->warmup && s[0] >= 2.0f) {
        neai_cal_update(&s[1u + 2u * c->dim], neai_gauss_distance(c, s, x));
    }
    neai_welford(&s[0], &s[1], &s[1u + c->dim], x, c->dim);
}

/* ---- prototypes: state = [n, used, gmean[dim], gm2[dim], protos[k][dim],
 *      counts[k], cal[3]] ---------------------------------------------------- */
#define NEAI_P_GMEAN(c, s) (&(s)[2])
#define NEAI_P_GM2(c, s) (&(s)[2u + (c)->dim])
#define NEAI_P_PROTO(c, s, i) (&(s)[2u + 2u * (uint32_t)(c)->dim + (uint32_t)(i) * (c)->dim])
#define NEAI_P_COUNTS(c, s) (&(s)[2u + 2u * (uint32_t)(c)->dim + (uint32_t)(c)->k * (c)->dim])
#define NEAI_P_CAL(c, s) (&(s)[2u + 2u * (uint32_t)(c)->dim + (uint32_t)(c)->k * ((c)->dim + 1u)])

/* Scaled squared distance between two vectors of the feature space. */
static float neai_proto_dist2(const neai_model_cfg *c, const float *s, const float *a, const float *b, float floor)
{
    const float *gm2 = NEAI_P_GM2(c, s);
    float n = s[0] > 0.0f ? s[0] : 1.0f, acc = 0.0f;
    uint16_t j;
    for (j = 0; j < c->dim; j++) {
        float d = a[j] - b[j];
        acc += d * d / (gm2[j] / n + floor);
    }
    return acc / (float)c->dim;
}

static float neai_proto_nearest(const neai_model_cfg *c, const float *s, const float *x, uint16_t *best)
{
    uint16_t i, used = (uint16_t)s[1];
    float floor = neai_var_floor(c, NEAI_P_GM2(c, s), s[0] > 0.0f ? s[0] : 1.0f);
    float dmin = 3.0e38f;
    *best = 0;
    for (i = 0; i < used; i++) {
        float d = neai_proto_dist2(c, s, x, NEAI_P_PROTO(c, s, i), floor);
        if (d < dmin) {
            dmin = d;
            *best = i;
        }
    }
    return used ? neai_sqrtf(dmin) : 0.0f;
}

static float neai_proto_distance(const neai_model_cfg *c, const float *s, const float *x)
{
    uint16_t best;
    return neai_proto_nearest(c, s, x, &best);
}

static void neai_proto_learn(const neai_model_cfg *c, float *s, const float *x)
{
    float *counts = NEAI_P_COUNTS(c, s), *cal = NEAI_P_CAL(c, s);
    uint16_t used = (uint16_t)s[1], best = 0, i, j;
    float dmin = 0.0f;
    if (used > 0u) {
        dmin = neai_proto_nearest(c, s, x, &best);
        if (s[0] >= (float)c->warmup && s[0] >= 2.0f) {
            neai_cal_update(cal, dmin);
        }
    }
    neai_welford(&s[0], NEAI_P_GMEAN(c, s), NEAI_P_GM2(c, s), x, c->dim);
    if (used < c->k) {
        float *p = NEAI_P_PROTO(c, s, used);
        for (j = 0; j < c->dim; j++) {
            p[j] = x[j];
        }
        counts[used] = 1.0f;
        s[1] = (float)(used + 1u);
        return;
    }
    if (cal[0] >= 2.0f && dmin > neai_cal_reference(c, cal)) {
        /* A new mode: merge the two closest prototypes to free a slot for it. */
        float floor = neai_var_floor(c, NEAI_P_GM2(c, s), s[0]);
        float best_d = 3.0e38f;
        uint16_t a = 0, b = 1;
        for (i = 0; i < used; i++) {
            for (j = (uint16_t)(i + 1u); j < used; j++) {
                float d = neai_proto_dist2(c, s, NEAI_P_PROTO(c, s, i), NEAI_P_PROTO(c, s, j), floor);
                if (d < best_d) {
                    best_d = d;
                    a = i;
                    b = j;
                }
            }
        }
        {
            float *pa = NEAI_P_PROTO(c, s, a), *pb = NEAI_P_PROTO(c, s, b);
            float wa = counts[a], wb = counts[b], w = wa + wb;
            for (j = 0; j < c->dim; j++) {
                pa[j] = (pa[j] * wa + pb[j] * wb) / w;
                pb[j] = x[j];
            }
            counts[a] = w;
            counts[b] = 1.0f;
        }
        return;
    }
    {
        float *p = NEAI_P_PROTO(c, s, best);
        counts[best] += 1.0f;
        for (j = 0; j < c->dim; j++) {
            p[j] += (x[j] - p[j]) / counts[best];
        }
    }
}

/* ---- dispatch ------------------------------------------------------------ */
static uint32_t neai_model_state_floats(const neai_model_cfg *c)
{
    return c->kind == NEAI_MODEL_PROTO ? NEAI_PROTO_STATE_FLOATS(c->dim, c->k) : NEAI_GAUSS_STATE_FLOATS(c->dim);
}

static void neai_model_reset(const neai_model_cfg *c, float *s)
{
    uint32_t i, n = neai_model_state_floats(c);
    for (i = 0; i < n; i++) {
        s[i] = 0.0f;
    }
}

static void neai_model_learn(const neai_model_cfg *c, float *s, const float *x)
{
    if (c->kind == NEAI_MODEL_PROTO) {
        neai_proto_learn(c, s, x);
    } else {
        neai_gauss_learn(c, s, x);
    }
}

static float neai_model_learned(const float *s)
{
    return s[0];
}

/* Distance of x divided by the reference distance (1.0 = similarity 90). */
static float neai_model_ratio(const neai_model_cfg *c, const float *s, const float *x)
{
    if (c->kind == NEAI_MODEL_PROTO) {
        return neai_proto_distance(c, s, x) / neai_cal_reference(c, NEAI_P_CAL(c, s));
    }
    return neai_gauss_distance(c, s, x) / neai_cal_reference(c, &s[1u + 2u * c->dim]);
}

static uint8_t neai_similarity(float ratio, float sensitivity)
{
    float r = ratio * sensitivity, sim;
    if (!neai_is_finite(r) || r < 0.0f) {
        return 0u;
    }
    if (r > 1.0e6f) {
        return 0u;
    }
    sim = 100.0f / (1.0f + r * r / 9.0f);
    sim = sim + 0.5f;
    return sim >= 100.0f ? 100u : (uint8_t)sim;
}
