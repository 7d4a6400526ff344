/* neai_models.c - anomaly-detection models that learn one example at a time on
 * the device, in a fixed-size state (the library's knowledge, kept in .neai).
 *
 * Order does not matter. Each model's knowledge is a set of order-independent
 * summaries of what it learned, and the reference distance (the distance a
 * normal example is expected to have) is derived from that knowledge when
 * detect() runs, never from the distances examples had before they were
 * learned (which made the first examples of every new regime loosen the
 * threshold for all the others):
 *
 *   clusters (GAUSS, PROTO, COV): up to k slots, each the count w, mean
 *     and scatter m2 (sum of squared deviations) of the examples it holds. A
 *     new example takes a free slot; when none is left, the cheapest pair among
 *     the slots and the new example is merged, at Ward's cost
 *     wa wb / (wa + wb) |pa - pb|^2 (scaled by the feature variances), and the
 *     merge is exact: m2 = m2a + m2b + wa wb / w (pa - pb)^2. The union of the
 *     slots is therefore always exactly the mean and scatter of every learned
 *     example, whatever the order; which examples share a slot depends a little
 *     on the order, the decisions hardly (tests/test_order.py).
 *   HST: counts of the leaves of fixed random trees: sums, exactly order-free.
 *   KNN: the k learned examples whose contents hash lowest: exactly order-free.
 *
 * Robust to one absurd example: a lone example far from the others stays in
 * its own slot (merging it would cost the most), and slots holding less than
 * 1/64 of the examples ("tiny", once 64 were learned) are left out of the
 * variances and of the Gaussian fits, so one bad buffer cannot loosen the
 * threshold; learn() takes only finite features of magnitude <= 1e15, so the
 * knowledge stays finite; counts stop at 2^23, after which every count and sum
 * is halved before an example is learned (means and variances unchanged).
 *
 * Each model gives a distance d and a reference distance ref; the ratio is
 * d / (calib * ref) and similarity is 100 / (1 + ratio^2 / 9): exactly 90 at
 * calib times the reference distance. */
#include "neai_types.h"

#if defined(__GNUC__)
#define NEAI_MAYBE_UNUSED __attribute__((unused))
#else
#define NEAI_MAYBE_UNUSED
#endif

#define NEAI_MAX_SLOTS 64u
#define NEAI_COV_MAX_DIM 64u
#define NEAI_HST_MAX_DEPTH 10u

/* ---- shared: slots of clusters ------------------------------------------- */
#define NEAI_N(s) ((s)[0])
#define NEAI_USED(s) ((s)[1])

static uint32_t neai_slot_floats(const neai_model_cfg *c)
{
    if (c->kind == NEAI_MODEL_COV) {
        return 1u + (uint32_t)c->dim + NEAI_COV_TRI(c->dim);
    }
    return NEAI_CLUSTER_FLOATS(c->dim);
}

static uint16_t neai_slots(const neai_model_cfg *c)
{
    if (c->kind == NEAI_MODEL_GAUSS) {
        return (uint16_t)NEAI_GAUSS_CLUSTERS;
    }
    if (c->kind == NEAI_MODEL_COV) {
        return (uint16_t)NEAI_COV_CLUSTERS;
    }
    return c->k < NEAI_MAX_SLOTS ? c->k : (uint16_t)NEAI_MAX_SLOTS;
}

static float *neai_slot(const neai_model_cfg *c, float *s, uint32_t i)
{
    return &s[NEAI_CSET_HEADER + i * neai_slot_floats(c)];
}

static const float *neai_cslot(const neai_model_cfg *c, const float *s, uint32_t i)
{
    return &s[NEAI_CSET_HEADER + i * neai_slot_floats(c)];
}

/* Index of m2[a][b] (a <= b) in a packed upper triangle of a dim x dim matrix. */
static uint32_t neai_tri(uint16_t dim, uint32_t a, uint32_t b)
{
    return a * (uint32_t)dim - a * (a - 1u) / 2u + (b - a);
}

/* Diagonal scatter of slot p (m2 of each feature). */
static float neai_slot_m2(const neai_model_cfg *c, const float *p, uint32_t j)
{
    if (c->kind == NEAI_MODEL_COV) {
        return p[1u + c->dim + neai_tri(c->dim, j, j)];
    }
    return p[1u + c->dim + j];
}

/* A slot is tiny once 64 examples were learned and it holds fewer than 1/64 of them. */
static int neai_tiny(float w, float n)
{
    return n >= 64.0f && w * 64.0f < n;
}

/* Mean (mean[dim]) and variance (var[dim]) of the union of the slots that are
 * not tiny: exactly those of the examples they hold. Returns their count. */
static float neai_union(const neai_model_cfg *c, const float *s, float *mean, float *var)
{
    uint32_t i, j, used = (uint32_t)NEAI_USED(s);
    float n = NEAI_N(s), total = 0.0f;
    for (j = 0; j < c->dim; j++) {
        mean[j] = 0.0f;
        var[j] = 0.0f;
    }
    for (i = 0; i < used; i++) {
        const float *p = neai_cslot(c, s, i);
        if (!neai_tiny(p[0], n)) {
            total += p[0];
            for (j = 0; j < c->dim; j++) {
                mean[j] += p[0] * p[1u + j];
            }
        }
    }
    if (total <= 0.0f) {
        return 0.0f;
    }
    for (j = 0; j < c->dim; j++) {
        mean[j] = mean[j] / total;
    }
    for (i = 0; i < used; i++) {
        const float *p = neai_cslot(c, s, i);
        if (!neai_tiny(p[0], n)) {
            for (j = 0; j < c->dim; j++) {
                float d = p[1u + j] - mean[j];
                var[j] += neai_slot_m2(c, p, j) + p[0] * d * d;
            }
        }
    }
    for (j = 0; j < c->dim; j++) {
        var[j] = var[j] / total;
    }
    return total;
}

/* The variance floor: reg times the mean variance, plus a relative epsilon so
 * constant features never divide by zero. */
static float neai_floor(const neai_model_cfg *c, const float *var)
{
    uint32_t j;
    float m = 0.0f;
    for (j = 0; j < c->dim; j++) {
        m += var[j];
    }
    m = m / (float)c->dim;
    return (c->reg + 1e-6f) * m + 1e-30f;
}

/* Turn var[] into 1 / (var + floor) in place. */
static void neai_inverse_scale(const neai_model_cfg *c, float *var)
{
    uint32_t j;
    float floor = neai_floor(c, var);
    for (j = 0; j < c->dim; j++) {
        var[j] = 1.0f / (var[j] + floor);
    }
}

static float neai_dist2(uint16_t dim, const float *a, const float *b, const float *inv)
{
    uint32_t j;
    float acc = 0.0f;
    for (j = 0; j < dim; j++) {
        float d = a[j] - b[j];
        acc += d * d * inv[j];
    }
    return acc;
}

/* Merge slot b into slot a (exactly), or the example x when b is 0. */
static void neai_merge(const neai_model_cfg *c, float *a, const float *b, const float *x)
{
    uint32_t i, j, dim = c->dim;
    float wa = a[0], wb = b ? b[0] : 1.0f, w = wa + wb, f = wa * wb / w;
    const float *pb = b ? &b[1] : x;
    float *pa = &a[1];
    if (c->kind == NEAI_MODEL_COV) {
        float *ma = &a[1u + dim];
        const float *mb = b ? &b[1u + dim] : 0;
        for (i = 0; i < dim; i++) {
            for (j = i; j < dim; j++) {
                uint32_t t = neai_tri((uint16_t)dim, i, j);
                ma[t] += (mb ? mb[t] : 0.0f) + f * (pb[i] - pa[i]) * (pb[j] - pa[j]);
            }
        }
    } else {
        for (j = 0; j < dim; j++) {
            float d = pb[j] - pa[j];
            pa[dim + j] += (b ? b[1u + dim + j] : 0.0f) + f * d * d;
        }
    }
    for (j = 0; j < dim; j++) {
        pa[j] += (pb[j] - pa[j]) * (wb / w);
    }
    a[0] = w;
}

static void neai_slot_set(const neai_model_cfg *c, float *p, const float *x)
{
    uint32_t j, n = neai_slot_floats(c);
    p[0] = 1.0f;
    for (j = 0; j < c->dim; j++) {
        p[1u + j] = x[j];
    }
    for (j = 1u + c->dim; j < n; j++) {
        p[j] = 0.0f;
    }
}

/* Past NEAI_COUNT_CAP examples: halve every count and scatter (the means and
 * variances stay), so counts keep moving and nothing overflows. */
static void neai_halve(const neai_model_cfg *c, float *s)
{
    uint32_t i, j, used = (uint32_t)NEAI_USED(s), n = neai_slot_floats(c);
    NEAI_N(s) *= 0.5f;
    for (i = 0; i < used; i++) {
        float *p = neai_slot(c, s, i);
        p[0] *= 0.5f;
        for (j = 1u + c->dim; j < n; j++) {
            p[j] *= 0.5f;
        }
    }
}

/* Learn x into the slots; `work` holds 2 * dim floats. */
static void neai_slots_learn(const neai_model_cfg *c, float *s, const float *x, float *work)
{
    uint32_t i, j, used = (uint32_t)NEAI_USED(s), k = neai_slots(c);
    float best = 3.0e38f, *inv = &work[c->dim];
    uint32_t a = 0, b = 0; /* b == used: the new example */
    if (NEAI_N(s) >= NEAI_COUNT_CAP) {
        neai_halve(c, s);
    }
    NEAI_N(s) += 1.0f;
    if (used < k) {
        neai_slot_set(c, neai_slot(c, s, used), x);
        NEAI_USED(s) = (float)(used + 1u);
        return;
    }
    /* Ward's cost in the features scaled by the variances of all the examples */
    (void)neai_union(c, s, work, inv);
    neai_inverse_scale(c, inv);
    for (i = 0; i < used; i++) {
        const float *p = neai_slot(c, s, i);
        float cost = p[0] / (p[0] + 1.0f) * neai_dist2(c->dim, &p[1], x, inv);
        if (cost < best) {
            best = cost;
            a = i;
            b = used;
        }
    }
    for (i = 0; i < used; i++) {
        const float *p = neai_slot(c, s, i);
        for (j = i + 1u; j < used; j++) {
            const float *q = neai_slot(c, s, j);
            float cost = p[0] * q[0] / (p[0] + q[0]) * neai_dist2(c->dim, &p[1], &q[1], inv);
            if (cost < best) {
                best = cost;
                a = i;
                b = j;
            }
        }
    }
    if (b == used) {
        neai_merge(c, neai_slot(c, s, a), 0, x);
    } else {
        neai_merge(c, neai_slot(c, s, a), neai_slot(c, s, b), 0);
        neai_slot_set(c, neai_slot(c, s, b), x);
    }
}

/* ---- GAUSS: one diagonal Gaussian, the union of 4 clusters --------------- */
/* d^2 = mean over features of (x - mean)^2 / (var + floor); the reference is
 * its exact in-sample mean, mean over features of var / (var + floor).
 * Prepared: work = [mean[dim], 1 / (var + floor)[dim], ref^2]. */
static void neai_gauss_prepare(const neai_model_cfg *c, const float *s, float *work)
{
    float *mean = work, *var = &work[c->dim], floor, ref2 = 0.0f;
    uint32_t j;
    if (neai_union(c, s, mean, var) <= 0.0f) {
        work[2u * c->dim] = 0.0f;
        return;
    }
    floor = neai_floor(c, var);
    for (j = 0; j < c->dim; j++) {
        float v = var[j] + floor;
        ref2 += var[j] / v;
        var[j] = 1.0f / v;
    }
    work[2u * c->dim] = ref2 > 1e-12f ? ref2 : 1e-12f;
}

static float neai_gauss_apply(const neai_model_cfg *c, const float *x, const float *work)
{
    float ref2 = work[2u * c->dim];
    if (ref2 <= 0.0f) {
        return 0.0f;
    }
    return neai_sqrtf(neai_dist2(c->dim, x, work, &work[c->dim]) / ref2) / c->calib;
}

/* ---- PROTO: the slots as prototypes --------------------------------------- */
/* Scale: the pooled within-slot variance, with the variance of everything as
 * a quarter of a degree of freedom (so a memory of single examples still has a
 * scale): (sum of the slots' m2 + var / 4) / (sum of (w - 1) + 1 / 4), over
 * the slots that are not tiny. */
static void neai_pooled_inverse(const neai_model_cfg *c, const float *s, float *work)
{
    float *mean = work, *inv = &work[c->dim], dof = 0.25f, n = NEAI_N(s);
    uint32_t i, j, used = (uint32_t)NEAI_USED(s);
    (void)neai_union(c, s, mean, inv); /* inv holds the variance of the union */
    for (j = 0; j < c->dim; j++) {
        inv[j] = 0.25f * inv[j];
    }
    for (i = 0; i < used; i++) {
        const float *p = neai_cslot(c, s, i);
        if (!neai_tiny(p[0], n)) {
            dof += p[0] - 1.0f;
            for (j = 0; j < c->dim; j++) {
                inv[j] += p[1u + c->dim + j];
            }
        }
    }
    for (j = 0; j < c->dim; j++) {
        inv[j] = inv[j] / dof;
    }
    neai_inverse_scale(c, inv);
}

/* Squared distance per feature from x to slot mean p, tolerating a shift of
 * up to c->depth positions inside each of c->blocks blocks (KNN; the others: none). */
static float neai_shift_dist2(const neai_model_cfg *c, const float *x, const float *p, const float *inv)
{
    uint32_t blocks = c->blocks ? c->blocks : 1u, len = c->dim / blocks, b, t;
    int32_t sh, max_shift = c->kind == NEAI_MODEL_KNN ? (int32_t)c->depth : 0;
    float best = 3.0e38f;
    if (max_shift >= (int32_t)len) {
        max_shift = (int32_t)len - 1;
    }
    if (max_shift <= 0) {
        return neai_dist2(c->dim, x, p, inv) / (float)c->dim;
    }
    for (sh = -max_shift; sh <= max_shift; sh++) {
        float acc = 0.0f;
        uint32_t count = 0;
        for (b = 0; b < blocks; b++) {
            const uint32_t o = b * len;
            for (t = 0; t < len; t++) {
                int32_t u = (int32_t)t + sh;
                if (u >= 0 && u < (int32_t)len) {
                    float d = x[o + t] - p[o + (uint32_t)u];
                    acc += d * d * inv[o + (uint32_t)u];
                    count++;
                }
            }
        }
        acc = acc / (float)count;
        if (acc < best) {
            best = acc;
        }
    }
    return best;
}

/* PROTO: the distance is a weighted power mean of the distances to every
 * prototype, (sum of w_i/n d_i^-4)^(-1/4): the nearest prototypes count most,
 * but a region held by one slot in one learning order and by two in another
 * gives nearly the same distance (the plain nearest distance does not), and a
 * slot of one absurd example weighs 1/n. Distances are in units of the pooled
 * within-slot standard deviation, so the reference is 1.
 * Prepared: work = [mean (scratch)[dim], pooled inverse scale[dim], used > 0]. */
static void neai_proto_prepare(const neai_model_cfg *c, const float *s, float *work)
{
    neai_pooled_inverse(c, s, work);
    work[2u * c->dim] = NEAI_USED(s) > 0.0f ? 1.0f : 0.0f;
}

static float neai_proto_apply(const neai_model_cfg *c, const float *s, const float *x, const float *work)
{
    uint32_t i, used = (uint32_t)NEAI_USED(s);
    const float *inv = &work[c->dim];
    float acc = 0.0f, total = 0.0f;
    if (work[2u * c->dim] <= 0.0f) {
        return 0.0f;
    }
    for (i = 0; i < used; i++) {
        const float *p = neai_cslot(c, s, i);
        float q = 1.0f / (neai_dist2(c->dim, x, &p[1], inv) / (float)c->dim + 1e-6f);
        acc += p[0] * q * q;
        total += p[0];
    }
    return neai_sqrtf(neai_sqrtf(total / acc)) / c->calib;
}

/* ---- KNN: nearest neighbour among an order-free sample ------------------- */
/* The memory keeps, of every example learned, the k whose content hashes
 * lowest (a "bottom-k" sample): the same k examples whatever the order they
 * came in, each kept with probability k/n, so one absurd buffer is almost never
 * kept (and would be one of k). They are kept sorted by hash, so the knowledge
 * is the same bits in any order. The distance of x is its distance to the
 * nearest kept example (optionally the best over shifts of up to `depth`
 * positions within each of `blocks` blocks: a shape may come a little early or
 * late), in units of the median over the kept examples of their distance to
 * their own nearest other kept example (stored with each, recomputed when the
 * sample changes). Features are scaled by the kept examples' variances.
 * Knowledge: [n, used, then per slot: key, radius^2, x[dim]]. */
#define NEAI_KNN_FLOATS(dim) (2u + (uint32_t)(dim))

static float *neai_knn_item(const neai_model_cfg *c, float *s, uint32_t i)
{
    return &s[NEAI_CSET_HEADER + i * NEAI_KNN_FLOATS(c->dim)];
}

/* FNV-1a of the feature bits, as a float holding its top 24 bits (exact). */
static float neai_knn_key(const neai_model_cfg *c, const float *x)
{
    uint32_t j, b, h = 2166136261u;
    for (j = 0; j < c->dim; j++) {
        union { float f; uint32_t u; } v;
        v.f = x[j];
        for (b = 0; b < 32u; b += 8u) {
            h ^= (v.u >> b) & 0xffu;
            h *= 16777619u;
        }
    }
    return (float)(h >> 8);
}

/* Per-feature inverse scale of the kept examples into inv (mean: scratch). */
static void neai_knn_scale(const neai_model_cfg *c, const float *s, float *mean, float *inv)
{
    uint32_t i, j, used = (uint32_t)NEAI_USED(s);
    for (j = 0; j < c->dim; j++) {
        mean[j] = 0.0f;
        inv[j] = 0.0f;
    }
    for (i = 0; i < used; i++) {
        const float *x = &neai_knn_item(c, (float *)s, i)[2];
        for (j = 0; j < c->dim; j++) {
            mean[j] += x[j];
        }
    }
    for (j = 0; j < c->dim; j++) {
        mean[j] = mean[j] / (float)(used ? used : 1u);
    }
    for (i = 0; i < used; i++) {
        const float *x = &neai_knn_item(c, (float *)s, i)[2];
        for (j = 0; j < c->dim; j++) {
            float d = x[j] - mean[j];
            inv[j] += d * d;
        }
    }
    for (j = 0; j < c->dim; j++) {
        inv[j] = inv[j] / (float)(used ? used : 1u);
    }
    neai_inverse_scale(c, inv);
}

static void neai_knn_learn(const neai_model_cfg *c, float *s, const float *x, float *work)
{
    uint32_t i, j, used = (uint32_t)NEAI_USED(s), k = neai_slots(c), stride = NEAI_KNN_FLOATS(c->dim);
    float key = neai_knn_key(c, x);
    float *item;
    if (NEAI_N(s) >= NEAI_COUNT_CAP) {
        NEAI_N(s) *= 0.5f;
    }
    NEAI_N(s) += 1.0f;
    if (used == k) {
        if (!(key < neai_knn_item(c, s, used - 1u)[0])) {
            return; /* not among the k lowest hashes: the sample is unchanged */
        }
        used--; /* the highest hash leaves */
    }
    /* insert, keeping the slots sorted by key (ties: the earlier one first) */
    for (i = used; i > 0u && neai_knn_item(c, s, i - 1u)[0] > key; i--) {
        float *dst = neai_knn_item(c, s, i), *src = neai_knn_item(c, s, i - 1u);
        for (j = 0; j < stride; j++) {
            dst[j] = src[j];
        }
    }
    item = neai_knn_item(c, s, i);
    item[0] = key;
    for (j = 0; j < c->dim; j++) {
        item[2u + j] = x[j];
    }
    NEAI_USED(s) = (float)(used + 1u);
    /* the sample changed: every kept example's distance to its nearest other one */
    used = used + 1u;
    neai_knn_scale(c, s, work, &work[c->dim]);
    for (i = 0; i < used; i++) {
        float nn = 3.0e38f;
        for (j = 0; j < used; j++) {
            if (j != i) {
                float d = neai_shift_dist2(c, &neai_knn_item(c, s, i)[2], &neai_knn_item(c, s, j)[2], &work[c->dim]);
                nn = d < nn ? d : nn;
            }
        }
        neai_knn_item(c, s, i)[1] = nn < 3.0e38f ? nn : 0.0f;
    }
}

/* Prepared: work = [mean (scratch)[dim], inverse scale[dim], median radius^2]. */
static void neai_knn_prepare(const neai_model_cfg *c, const float *s, float *work)
{
    uint32_t i, j, used = (uint32_t)NEAI_USED(s);
    float best = 3.0e38f;
    neai_knn_scale(c, s, work, &work[c->dim]);
    /* the median radius: the smallest r with at least half the radii <= r */
    for (i = 0; i < used; i++) {
        float r = neai_knn_item(c, (float *)s, i)[1];
        uint32_t below = 0;
        for (j = 0; j < used; j++) {
            below += neai_knn_item(c, (float *)s, j)[1] <= r ? 1u : 0u;
        }
        if (2u * below >= used && r < best) {
            best = r;
        }
    }
    work[2u * c->dim] = used < 2u ? 0.0f : (best > 1e-30f ? best : 1e-30f);
}

static float neai_knn_apply(const neai_model_cfg *c, const float *s, const float *x, const float *work)
{
    uint32_t i, used = (uint32_t)NEAI_USED(s);
    float best = 3.0e38f, ref2 = work[2u * c->dim];
    if (ref2 <= 0.0f) {
        return 0.0f;
    }
    for (i = 0; i < used; i++) {
        float d = neai_shift_dist2(c, x, &neai_knn_item(c, (float *)s, i)[2], &work[c->dim]);
        best = d < best ? d : best;
    }
    return neai_sqrtf(best / ref2) / c->calib;
}

/* ---- COV: full covariance of the union of 3 clusters --------------------- */
/* Sigma = (1 - a) C + a tr(C)/dim I (shrinkage a = max(reg, dim / (n + dim))) plus a tiny ridge;
 * d^2 = (x - mean)' Sigma^-1 (x - mean) / dim (Hotelling's T2 per feature);
 * the reference is its exact in-sample mean tr(Sigma^-1 C) / dim. The
 * Cholesky factor is recomputed at every detect (dim^3 / 6 operations). */
/* Prepared: work = [mean[dim], C (packed)[tri], L (packed)[tri], y[dim], ref^2]. */
static void neai_cov_prepare(const neai_model_cfg *c, const float *s, float *work)
{
    const uint32_t dim = c->dim, tri = NEAI_COV_TRI(c->dim);
    float *mean = work, *m = &work[dim], *l = &work[dim + tri], *y = &work[dim + 2u * tri];
    float total = 0.0f, n = NEAI_N(s), trace = 0.0f, alpha, ridge, tr_inv = 0.0f, ref2;
    uint32_t i, j, q, used = (uint32_t)NEAI_USED(s);
    work[2u * dim + 2u * tri] = 0.0f;
    if (dim > NEAI_COV_MAX_DIM) {
        return;
    }
    for (j = 0; j < dim; j++) {
        mean[j] = 0.0f;
    }
    for (j = 0; j < tri; j++) {
        m[j] = 0.0f;
    }
    for (i = 0; i < used; i++) {
        const float *p = neai_cslot(c, s, i);
        if (!neai_tiny(p[0], n)) {
            total += p[0];
            for (j = 0; j < dim; j++) {
                mean[j] += p[0] * p[1u + j];
            }
        }
    }
    if (total <= 0.0f) {
        return;
    }
    for (j = 0; j < dim; j++) {
        mean[j] = mean[j] / total;
    }
    for (i = 0; i < used; i++) {
        const float *p = neai_cslot(c, s, i);
        if (!neai_tiny(p[0], n)) {
            for (j = 0; j < dim; j++) {
                for (q = j; q < dim; q++) {
                    uint32_t t = neai_tri((uint16_t)dim, j, q);
                    m[t] += p[1u + dim + t] + p[0] * (p[1u + j] - mean[j]) * (p[1u + q] - mean[q]);
                }
            }
        }
    }
    for (j = 0; j < tri; j++) {
        m[j] = m[j] / total; /* C */
    }
    for (j = 0; j < dim; j++) {
        trace += m[neai_tri((uint16_t)dim, j, j)];
    }
    trace = trace / (float)dim;
    /* at least dim / (n + dim): few examples give a noisy covariance, so more
     * shrinkage; it vanishes as the device learns more (n is order-free) */
    alpha = (float)dim / (total + (float)dim);
    alpha = c->reg > alpha ? c->reg : alpha;
    alpha = alpha > 1.0f ? 1.0f : alpha;
    ridge = alpha * trace + 1e-6f * trace + 1e-30f;
    /* Cholesky of Sigma into l (packed upper: l[tri(j, i)] = L[i][j], i >= j) */
    for (i = 0; i < dim; i++) {
        for (j = 0; j <= i; j++) {
            float acc = (1.0f - alpha) * m[neai_tri((uint16_t)dim, j, i)] + (i == j ? ridge : 0.0f);
            for (q = 0; q < j; q++) {
                acc -= l[neai_tri((uint16_t)dim, q, i)] * l[neai_tri((uint16_t)dim, q, j)];
            }
            if (i == j) {
                l[neai_tri((uint16_t)dim, j, i)] = neai_sqrtf(acc > ridge * 1e-3f ? acc : ridge * 1e-3f);
            } else {
                l[neai_tri((uint16_t)dim, j, i)] = acc / l[neai_tri((uint16_t)dim, j, j)];
            }
        }
    }
    /* tr(Sigma^-1) = |L^-1|_F^2, column by column of L^-1 (forward substitution) */
    for (j = 0; j < dim; j++) {
        for (i = j; i < dim; i++) {
            float acc = i == j ? 1.0f : 0.0f;
            for (q = j; q < i; q++) {
                acc -= l[neai_tri((uint16_t)dim, q, i)] * y[q];
            }
            y[i] = acc / l[neai_tri((uint16_t)dim, i, i)];
            tr_inv += y[i] * y[i];
        }
    }
    /* Sigma^-1 C = (I - ridge Sigma^-1) / (1 - alpha) */
    ref2 = alpha < 1.0f ? ((float)dim - ridge * tr_inv) / (1.0f - alpha) : trace * tr_inv;
    work[2u * dim + 2u * tri] = ref2 > 1e-6f ? ref2 : 1e-6f;
}

static float neai_cov_apply(const neai_model_cfg *c, const float *x, float *work)
{
    const uint32_t dim = c->dim, tri = NEAI_COV_TRI(c->dim);
    const float *mean = work, *l = &work[dim + tri];
    float *y = &work[dim + 2u * tri], ref2 = work[2u * dim + 2u * tri], d2 = 0.0f;
    uint32_t i, q;
    if (ref2 <= 0.0f) {
        return 0.0f;
    }
    /* d2: solve L y = x - mean */
    for (i = 0; i < dim; i++) {
        float acc = x[i] - mean[i];
        for (q = 0; q < i; q++) {
            acc -= l[neai_tri((uint16_t)dim, q, i)] * y[q];
        }
        y[i] = acc / l[neai_tri((uint16_t)dim, i, i)];
        d2 += y[i] * y[i];
    }
    return neai_sqrtf(d2 / ref2) / c->calib;
}

/* ---- HST: half-space trees ------------------------------------------------ */
/* k trees of the given depth, each internal node a fixed test x[split_dim] <
 * split_at (drawn at build time from the project's feature ranges, as in Tan,
 * Ting and Liu's streaming half-space trees); the knowledge is every leaf's
 * count. The density of x in a tree is count(node) * 2^depth(node) / n at the
 * deepest node on its path that holds an example; the distance is
 * 1 + (mean log density of the learned examples, leave-one-out) - (mean log
 * density of x), i.e. 1 plus how many e-folds sparser than usual x lies. */
static uint32_t neai_hst_depth(const neai_model_cfg *c)
{
    return c->depth < NEAI_HST_MAX_DEPTH ? c->depth : NEAI_HST_MAX_DEPTH;
}

static uint32_t neai_hst_leaves(const neai_model_cfg *c)
{
    return 1u << neai_hst_depth(c);
}

static float *neai_hst_counts(const neai_model_cfg *c, float *s, uint32_t tree)
{
    return &s[1u + tree * neai_hst_leaves(c)];
}

static uint32_t neai_hst_leaf(const neai_model_cfg *c, uint32_t tree, const float *x)
{
    uint32_t leaves = neai_hst_leaves(c), node = 0, base = tree * (leaves - 1u);
    while (node < leaves - 1u) {
        node = 2u * node + (x[c->split_dim[base + node]] < c->split_at[base + node] ? 1u : 2u);
    }
    return node - (leaves - 1u);
}

static void neai_hst_learn(const neai_model_cfg *c, float *s, const float *x)
{
    uint32_t t, i, leaves = neai_hst_leaves(c);
    if (s[0] >= NEAI_COUNT_CAP) {
        s[0] *= 0.5f;
        for (i = 0; i < (uint32_t)c->k * leaves; i++) {
            s[1u + i] *= 0.5f;
        }
    }
    s[0] += 1.0f;
    for (t = 0; t < c->k; t++) {
        neai_hst_counts(c, s, t)[neai_hst_leaf(c, t, x)] += 1.0f;
    }
}

/* log density of leaf `leaf` of one tree; `sums` holds the subtree counts of
 * every node (heap order); `self` = 1 leaves one example out (in-sample). */
static float neai_hst_logdensity(const neai_model_cfg *c, const float *sums, uint32_t leaf, float n, float self)
{
    uint32_t leaves = neai_hst_leaves(c), node = leaf + leaves - 1u, depth = neai_hst_depth(c);
    while (node > 0u && sums[node] - self < 1.0f) {
        node = (node - 1u) / 2u;
        depth--;
    }
    return neai_logf(sums[node] - self) + (float)depth * 0.693147181f - neai_logf(n - self);
}

static void neai_hst_sums(const neai_model_cfg *c, const float *counts, float *sums)
{
    uint32_t leaves = neai_hst_leaves(c), i;
    for (i = 0; i < leaves; i++) {
        sums[leaves - 1u + i] = counts[i];
    }
    for (i = leaves - 1u; i-- > 0u;) {
        sums[i] = sums[2u * i + 1u] + sums[2u * i + 2u];
    }
}

/* Prepared: work = [subtree sums (scratch)[2 leaves], mean in-sample log density]. */
static void neai_hst_prepare(const neai_model_cfg *c, const float *s, float *work)
{
    uint32_t t, l, leaves = neai_hst_leaves(c);
    float n = s[0], ref = 0.0f;
    if (n < 2.0f) {
        work[2u * leaves] = 0.0f;
        return;
    }
    for (t = 0; t < c->k; t++) {
        const float *counts = &s[1u + t * leaves];
        float in = 0.0f;
        neai_hst_sums(c, counts, work);
        for (l = 0; l < leaves; l++) {
            if (counts[l] > 0.0f) {
                in += counts[l] * neai_hst_logdensity(c, work, l, n, 1.0f);
            }
        }
        ref += in / n;
    }
    work[2u * leaves] = ref / (float)c->k;
}

static float neai_hst_apply(const neai_model_cfg *c, const float *s, const float *x, float *work)
{
    uint32_t t, leaves = neai_hst_leaves(c);
    float n = s[0], score = 0.0f, d;
    if (n < 2.0f) {
        return 0.0f;
    }
    for (t = 0; t < c->k; t++) {
        neai_hst_sums(c, &s[1u + t * leaves], work);
        score += neai_hst_logdensity(c, work, neai_hst_leaf(c, t, x), n, 0.0f);
    }
    d = 1.0f + work[2u * leaves] - score / (float)c->k;
    return (d > 0.0f ? d : 0.0f) / c->calib;
}

/* ---- dispatch ------------------------------------------------------------ */
static uint32_t neai_model_state_floats(const neai_model_cfg *c)
{
    if (c->kind == NEAI_MODEL_HST) {
        return 1u + (uint32_t)c->k * neai_hst_leaves(c);
    }
    if (c->kind == NEAI_MODEL_KNN) {
        return NEAI_CSET_HEADER + (uint32_t)neai_slots(c) * NEAI_KNN_FLOATS(c->dim);
    }
    return NEAI_CSET_HEADER + (uint32_t)neai_slots(c) * neai_slot_floats(c);
}

/* Scratch floats neai_model_learn / neai_model_prepare need (the prepared
 * quantities included). */
static NEAI_MAYBE_UNUSED uint32_t neai_model_work_floats(const neai_model_cfg *c)
{
    if (c->kind == NEAI_MODEL_HST) {
        return 2u * neai_hst_leaves(c) + 1u;
    }
    if (c->kind == NEAI_MODEL_COV) {
        return 2u * (uint32_t)c->dim + 2u * NEAI_COV_TRI(c->dim) + 1u;
    }
    return 2u * (uint32_t)c->dim + 1u;
}

static void neai_model_reset(const neai_model_cfg *c, float *s)
{
    uint32_t i, n = neai_model_state_floats(c);
    for (i = 0; i < n; i++) {
        s[i] = 0.0f;
    }
}

/* 0 when x can be learned: every feature finite and of magnitude <= NEAI_FEATURE_LIMIT. */
static uint8_t neai_features_refused(const neai_model_cfg *c, const float *x)
{
    uint32_t j;
    for (j = 0; j < c->dim; j++) {
        if (!(x[j] <= NEAI_FEATURE_LIMIT && x[j] >= -NEAI_FEATURE_LIMIT)) {
            return 1u;
        }
    }
    return 0u;
}

/* Learn x; returns 1 (and learns nothing) when its features are refused. */
static uint8_t neai_model_learn(const neai_model_cfg *c, float *s, const float *x, float *work)
{
    if (neai_features_refused(c, x)) {
        return 1u;
    }
    if (c->kind == NEAI_MODEL_HST) {
        neai_hst_learn(c, s, x);
    } else if (c->kind == NEAI_MODEL_KNN) {
        neai_knn_learn(c, s, x, work);
    } else {
        neai_slots_learn(c, s, x, work);
    }
    return 0u;
}

static float neai_model_learned(const float *s)
{
    return s[0];
}

/* What detect() derives from the knowledge (in `work`): recomputed at every
 * detect() of a library, so knowledge restored from a backup just works; the
 * benchmark's batch calls prepare once per batch (same operations, same bits). */
static void neai_model_prepare(const neai_model_cfg *c, const float *s, float *work)
{
    if (c->kind == NEAI_MODEL_HST) {
        neai_hst_prepare(c, s, work);
    } else if (c->kind == NEAI_MODEL_COV) {
        neai_cov_prepare(c, s, work);
    } else if (c->kind == NEAI_MODEL_GAUSS) {
        neai_gauss_prepare(c, s, work);
    } else if (c->kind == NEAI_MODEL_KNN) {
        neai_knn_prepare(c, s, work);
    } else {
        neai_proto_prepare(c, s, work);
    }
}

/* Distance of x divided by the decision distance (1.0 = similarity 90), once prepared. */
static float neai_model_apply(const neai_model_cfg *c, const float *s, const float *x, float *work)
{
    if (c->kind == NEAI_MODEL_HST) {
        return neai_hst_apply(c, s, x, work);
    }
    if (c->kind == NEAI_MODEL_COV) {
        return neai_cov_apply(c, x, work);
    }
    if (c->kind == NEAI_MODEL_GAUSS) {
        return neai_gauss_apply(c, x, work);
    }
    if (c->kind == NEAI_MODEL_KNN) {
        return neai_knn_apply(c, s, x, work);
    }
    return neai_proto_apply(c, s, x, work);
}

static NEAI_MAYBE_UNUSED float neai_model_ratio(const neai_model_cfg *c, const float *s, const float *x, float *work)
{
    neai_model_prepare(c, s, work);
    return neai_model_apply(c, s, x, work);
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
