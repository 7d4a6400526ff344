/* neai_trained.c - inference of the trained models (1-class, n-class,
 * extrapolation) from a const knowledge buffer; layout in neai_trained_types.h.
 *
 * Included by a single translation unit after neai_math.c; everything is static.
 * Every loop accumulates in index order and the build has -ffp-contract=off, so
 * the Python mirror (neai_tui/engine/trained.py), which repeats the same float32
 * operations in the same order, gives the same bits; tests/test_trained_parity.py
 * checks it. Static memory only: the caller provides `work`
 * (neai_tmodel_work_floats floats) and `out` (NEAI_TMODEL_OUT_FLOATS floats). */
#include "neai_trained_types.h"

#if defined(__GNUC__)
#define NEAI_TMAYBE_UNUSED __attribute__((unused))
#else
#define NEAI_TMAYBE_UNUSED
#endif

#ifdef NEAI_TMODEL_KIND_ONLY
#define NEAI_TK_HAS(k) (NEAI_TMODEL_KIND_ONLY == (k))
#else
#define NEAI_TK_HAS(k) 1
#endif

/* exp(x) to about 1 ulp, the same bits on every core: x = k ln2 + r with
 * |r| <= ln2/2 (ln2 split in two so k*ln2_hi is exact), a degree-7 Taylor
 * polynomial of exp(r), then the exponent bits. Results that would be below
 * 1e-35 are 0, so no denormal ever comes out (cores that flush denormals to
 * zero then agree with those that do not). */
static NEAI_TMAYBE_UNUSED float neai_expf(float x)
{
    union { float f; uint32_t u; } s;
    float t, kf, r, p;
    int32_t k;
    if (!(x >= -80.0f)) {
        return 0.0f;
    }
    if (x > 88.0f) {
        x = 88.0f;
    }
    t = x * 1.442695022e+00f;
    t = t + (t >= 0.0f ? 0.5f : -0.5f);
    k = (int32_t)t;
    kf = (float)k;
    r = (x - kf * 6.931457520e-01f) - kf * 1.428606765e-06f;
    p = 1.984127011e-04f;
    p = p * r + 1.388888923e-03f;
    p = p * r + 8.333333768e-03f;
    p = p * r + 4.166666791e-02f;
    p = p * r + 1.666666716e-01f;
    p = p * r + 5.000000000e-01f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    s.u = (uint32_t)(k + 127) << 23;
    return p * s.f;
}

/* Scratch floats neai_tmodel_predict needs. */
static NEAI_TMAYBE_UNUSED uint32_t neai_tmodel_work_floats(const neai_tmodel_cfg *c)
{
    uint32_t n = (c->scale ? c->n_in : 0u) + (c->pca ? c->n_z : 0u) + c->n_raw;
    if (c->kind == NEAI_TK_MLP) {
        n += c->size_a;
    } else if (c->kind == NEAI_TK_QUAD) {
        n += c->n_z;
    } else if (c->kind == NEAI_TK_KNN) {
        n += 2u * c->size_b;
    }
    return n;
}

/* Knowledge floats the configuration implies (layout in neai_trained_types.h). */
static uint32_t neai_tmodel_layout_floats(const neai_tmodel_cfg *c)
{
    uint32_t n = NEAI_TKNOWLEDGE_HEADER, z = c->n_z, a = c->size_a;
    if (c->scale) {
        n += 2u * c->n_in;
    }
    if (c->pca) {
        n += z * c->n_in + z;
    }
    switch (c->kind) {
    case NEAI_TK_LINEAR: return n + c->n_raw * z + c->n_raw;
    case NEAI_TK_FOREST: return n + a + 4u * c->size_b + c->size_c * c->n_raw;
    case NEAI_TK_PROTO: return n + 1u + a * z + a;
    case NEAI_TK_MLP: return n + a * z + a + c->n_raw * a + c->n_raw;
    case NEAI_TK_GAUSS: return n + a * (1u + 2u * z);
    case NEAI_TK_KERNEL: return n + 2u + a + a * z;
    case NEAI_TK_QUAD: return n + z + a * z;
    case NEAI_TK_KNN: return n + a + a * z;
    default: return 0u;
    }
}

/* FNV-1a over the bit patterns of every knowledge float but the hash slot [3],
 * folded to 24 bits (so it is exact as a float). */
static uint32_t neai_tknowledge_hash(const float *knowledge, uint32_t n)
{
    union { float f; uint32_t u; } v;
    uint32_t h = 2166136261u, i;
    for (i = 0; i < n; i++) {
        if (i != 3u) {
            v.f = knowledge[i];
            h = (h ^ v.u) * 16777619u;
        }
    }
    return (h ^ (h >> 24)) & 0xffffffu;
}

/* 0 (NEAI_TCHECK_OK) when `knowledge` is the buffer this configuration was
 * generated with: magic, format version, length, library hash (the one stored
 * and the one of the contents: a stale or corrupted buffer is refused). */
static uint8_t neai_tmodel_check(const neai_tmodel_cfg *c, const float *knowledge)
{
    if (knowledge == 0) {
        return NEAI_TCHECK_NULL;
    }
    if (!(knowledge[0] == NEAI_TKNOWLEDGE_MAGIC)) {
        return NEAI_TCHECK_MAGIC;
    }
    if (!(knowledge[1] == NEAI_TKNOWLEDGE_VERSION)) {
        return NEAI_TCHECK_VERSION;
    }
    if (!neai_is_finite(knowledge[2]) || knowledge[2] != (float)c->knowledge_floats) {
        return NEAI_TCHECK_LENGTH;
    }
    if (!neai_is_finite(knowledge[3]) || knowledge[3] != (float)c->hash ||
        neai_tknowledge_hash(knowledge, c->knowledge_floats) != c->hash) {
        return NEAI_TCHECK_HASH;
    }
    if (neai_tmodel_layout_floats(c) != c->knowledge_floats || c->n_raw == 0u || c->n_out == 0u) {
        return NEAI_TCHECK_CONFIG;
    }
    return NEAI_TCHECK_OK;
}

/* out[o] = sum_j w[o][j] x[j] + bias[o], o < n_out. */
static NEAI_TMAYBE_UNUSED void neai_tmatvec(const float *w, const float *bias, const float *x, uint32_t n_in,
                                            uint32_t n_out, float *out)
{
    uint32_t o, j;
    for (o = 0; o < n_out; o++) {
        const float *row = &w[o * n_in];
        float acc = 0.0f;
        for (j = 0; j < n_in; j++) {
            acc += row[j] * x[j];
        }
        out[o] = acc + bias[o];
    }
}

static NEAI_TMAYBE_UNUSED float neai_tdist2(const float *a, const float *b, uint32_t n)
{
    uint32_t j;
    float acc = 0.0f;
    for (j = 0; j < n; j++) {
        float d = a[j] - b[j];
        acc += d * d;
    }
    return acc;
}

#if NEAI_TK_HAS(NEAI_TK_FOREST)
/* raw[o] = sum over trees of the leaf values reached. */
static void neai_tforest(const neai_tmodel_cfg *c, const float *k, const float *z, float *raw)
{
    const float *roots = k, *nodes = &k[c->size_a], *leaves = &k[c->size_a + 4u * c->size_b];
    uint32_t t, o;
    for (o = 0; o < c->n_raw; o++) {
        raw[o] = 0.0f;
    }
    for (t = 0; t < c->size_a; t++) {
        int32_t h = (int32_t)roots[t];
        const float *leaf;
        while (h >= 0) {
            const float *nd = &nodes[4u * (uint32_t)h];
            h = (int32_t)(z[(uint32_t)nd[0]] <= nd[1] ? nd[2] : nd[3]);
        }
        leaf = &leaves[(uint32_t)(-(h + 1)) * c->n_raw];
        for (o = 0; o < c->n_raw; o++) {
            raw[o] += leaf[o];
        }
    }
}
#endif

#if NEAI_TK_HAS(NEAI_TK_PROTO)
/* raw[g] = coef * (squared distance to the nearest prototype of group g). */
static void neai_tproto(const neai_tmodel_cfg *c, const float *k, const float *z, float *raw)
{
    const float coef = k[0], *protos = &k[1], *group = &k[1u + c->size_a * c->n_z];
    uint32_t p, g;
    for (g = 0; g < c->n_raw; g++) {
        raw[g] = -1.0f; /* no prototype yet */
    }
    for (p = 0; p < c->size_a; p++) {
        float d = neai_tdist2(z, &protos[p * c->n_z], c->n_z);
        g = (uint32_t)group[p];
        if (raw[g] < 0.0f || d < raw[g]) {
            raw[g] = d;
        }
    }
    for (g = 0; g < c->n_raw; g++) {
        raw[g] = coef * raw[g];
    }
}
#endif

#if NEAI_TK_HAS(NEAI_TK_MLP)
static void neai_tmlp(const neai_tmodel_cfg *c, const float *k, const float *z, float *hidden, float *raw)
{
    const uint32_t h = c->size_a, nz = c->n_z;
    const float *w1 = k, *b1 = &k[h * nz], *w2 = &k[h * nz + h], *b2 = &k[h * nz + h + c->n_raw * h];
    uint32_t i;
    neai_tmatvec(w1, b1, z, nz, h, hidden);
    for (i = 0; i < h; i++) {
        hidden[i] = hidden[i] > 0.0f ? hidden[i] : 0.0f;
    }
    neai_tmatvec(w2, b2, hidden, h, c->n_raw, raw);
}
#endif

#if NEAI_TK_HAS(NEAI_TK_GAUSS)
/* raw[m] = log-density of component m (up to what `const` folds in). */
static void neai_tgauss(const neai_tmodel_cfg *c, const float *k, const float *z, float *raw)
{
    const uint32_t nz = c->n_z;
    uint32_t m, j;
    for (m = 0; m < c->size_a; m++) {
        const float *mean = &k[c->size_a + m * nz], *hiv = &k[c->size_a + (c->size_a + m) * nz];
        float acc = 0.0f;
        for (j = 0; j < nz; j++) {
            float d = z[j] - mean[j];
            acc += d * d * hiv[j];
        }
        raw[m] = k[m] - acc;
    }
}
#endif

#if NEAI_TK_HAS(NEAI_TK_KERNEL)
static void neai_tkernel(const neai_tmodel_cfg *c, const float *k, const float *z, float *raw)
{
    const float neg_gamma = k[0], bias = k[1], *alpha = &k[2], *sv = &k[2u + c->size_a];
    uint32_t s;
    float acc = 0.0f;
    for (s = 0; s < c->size_a; s++) {
        acc += alpha[s] * neai_expf(neg_gamma * neai_tdist2(z, &sv[s * c->n_z], c->n_z));
    }
    raw[0] = acc + bias;
}
#endif

#if NEAI_TK_HAS(NEAI_TK_QUAD)
static void neai_tquad(const neai_tmodel_cfg *c, const float *k, const float *z, float *diff, float *raw)
{
    const uint32_t nz = c->n_z;
    const float *mean = k, *m = &k[nz];
    uint32_t r, j;
    float acc = 0.0f;
    for (j = 0; j < nz; j++) {
        diff[j] = z[j] - mean[j];
    }
    for (r = 0; r < c->size_a; r++) {
        float t = 0.0f;
        for (j = 0; j < nz; j++) {
            t += m[r * nz + j] * diff[j];
        }
        acc += t * t;
    }
    raw[0] = acc;
}
#endif

#if NEAI_TK_HAS(NEAI_TK_KNN)
/* Mean target of the k nearest training points; ties go to the earlier point,
 * and the targets are summed nearest first. best = 2k floats (distances, indices). */
static void neai_tknn(const neai_tmodel_cfg *c, const float *k, const float *z, float *best, float *raw)
{
    const uint32_t kk = c->size_b;
    const float *y = k, *pts = &k[c->size_a];
    float *bd = best, *bi = &best[kk];
    uint32_t i, n = 0, r;
    float acc = 0.0f;
    for (i = 0; i < c->size_a; i++) {
        float d = neai_tdist2(z, &pts[i * c->n_z], c->n_z);
        if (n == kk && !(d < bd[kk - 1u])) {
            continue;
        }
        r = n < kk ? n++ : kk - 1u;
        while (r > 0u && d < bd[r - 1u]) {
            bd[r] = bd[r - 1u];
            bi[r] = bi[r - 1u];
            r--;
        }
        bd[r] = d;
        bi[r] = (float)i;
    }
    for (r = 0; r < n; r++) {
        acc += y[(uint32_t)bi[r]];
    }
    raw[0] = acc / (float)kk;
}
#endif

/* Model outputs of one feature vector (see NEAI_TMODEL_OUT_FLOATS). The
 * knowledge must have passed neai_tmodel_check. */
static void neai_tmodel_predict(const neai_tmodel_cfg *c, const float *knowledge, const float *features, float *work,
                                float *out)
{
    const float *k = &knowledge[NEAI_TKNOWLEDGE_HEADER];
    const float *z = features;
    float *raw, *scratch;
    uint32_t j, o, w = 0;
    if (c->scale) {
        const float *mean = k, *inv_std = &k[c->n_in];
        float *s = &work[w];
        for (j = 0; j < c->n_in; j++) {
            s[j] = (z[j] - mean[j]) * inv_std[j];
        }
        z = s;
        w += c->n_in;
        k += 2u * c->n_in;
    }
    if (c->pca) {
        float *p = &work[w];
        neai_tmatvec(k, &k[(uint32_t)c->n_z * c->n_in], z, c->n_in, c->n_z, p);
        z = p;
        w += c->n_z;
        k += (uint32_t)c->n_z * c->n_in + c->n_z;
    }
    raw = &work[w];
    scratch = &work[w + c->n_raw];
    (void)scratch;
    switch (c->kind) {
#if NEAI_TK_HAS(NEAI_TK_LINEAR)
    case NEAI_TK_LINEAR: neai_tmatvec(k, &k[(uint32_t)c->n_raw * c->n_z], z, c->n_z, c->n_raw, raw); break;
#endif
#if NEAI_TK_HAS(NEAI_TK_FOREST)
    case NEAI_TK_FOREST: neai_tforest(c, k, z, raw); break;
#endif
#if NEAI_TK_HAS(NEAI_TK_PROTO)
    case NEAI_TK_PROTO: neai_tproto(c, k, z, raw); break;
#endif
#if NEAI_TK_HAS(NEAI_TK_MLP)
    case NEAI_TK_MLP: neai_tmlp(c, k, z, scratch, raw); break;
#endif
#if NEAI_TK_HAS(NEAI_TK_GAUSS)
    case NEAI_TK_GAUSS: neai_tgauss(c, k, z, raw); break;
#endif
#if NEAI_TK_HAS(NEAI_TK_KERNEL)
    case NEAI_TK_KERNEL: neai_tkernel(c, k, z, raw); break;
#endif
#if NEAI_TK_HAS(NEAI_TK_QUAD)
    case NEAI_TK_QUAD: neai_tquad(c, k, z, scratch, raw); break;
#endif
#if NEAI_TK_HAS(NEAI_TK_KNN)
    case NEAI_TK_KNN: neai_tknn(c, k, z, scratch, raw); break;
#endif
    default:
        for (o = 0; o < c->n_raw; o++) {
            raw[o] = 0.0f;
        }
        break;
    }
    switch (c->post) {
    case NEAI_TPOST_SOFTMAX: {
        float mx, sum = 0.0f;
        if (c->n_raw == 1u) { /* binary: logits (0, raw) */
            out[0] = 0.0f;
            out[1] = raw[0];
        } else {
            for (o = 0; o < c->n_out; o++) {
                out[o] = raw[o];
            }
        }
        mx = out[0];
        for (o = 1; o < c->n_out; o++) {
            mx = out[o] > mx ? out[o] : mx;
        }
        for (o = 0; o < c->n_out; o++) {
            out[o] = neai_expf(out[o] - mx);
            sum += out[o];
        }
        for (o = 0; o < c->n_out; o++) {
            out[o] = out[o] / sum;
        }
        return; /* n-class only */
    }
    case NEAI_TPOST_MEAN:
        for (o = 0; o < c->n_raw; o++) {
            out[o] = raw[o] / (float)c->size_a;
        }
        break;
    case NEAI_TPOST_EXP: out[0] = neai_expf(raw[0]); break;
    case NEAI_TPOST_SQRT: out[0] = neai_sqrtf(raw[0]); break;
    case NEAI_TPOST_NEG_LSE: {
        float mx = raw[0], sum = 0.0f;
        for (o = 1; o < c->n_raw; o++) {
            mx = raw[o] > mx ? raw[o] : mx;
        }
        for (o = 0; o < c->n_raw; o++) {
            sum += neai_expf(raw[o] - mx);
        }
        out[0] = -(mx + neai_logf(sum));
        break;
    }
    default:
        for (o = 0; o < c->n_out; o++) {
            out[o] = raw[o];
        }
        break;
    }
    if (c->task == NEAI_TASK_ONECLASS) {
        out[1] = out[0] > knowledge[4] ? 1.0f : 0.0f;
    }
}
