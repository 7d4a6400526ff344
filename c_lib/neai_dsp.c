/* neai_dsp.c - preprocessing: from an interleaved multi-axis buffer
 * (x0 y0 z0 x1 y1 z1 ...) to a feature vector. Static memory only: the caller
 * provides `work` (NEAI_PRE_WORK_FLOATS(buffer_size) floats). Components:
 * RAW (normalised, decimated buffer), FFT (band powers of the Welch-averaged
 * spectrum in a pass band), STATS (time statistics), SPECTRAL (statistics of
 * that spectrum, optionally followed by the STATS block). */
#include "neai_types.h"

#if !defined(NEAI_CFG_FILTER_SECTIONS) || NEAI_CFG_FILTER_SECTIONS > 0 /* a library without a filter leaves it out */
/* The frequency filter: each axis of `in` through the biquad cascade into `out`
 * (both interleaved, nb_axes * buffer_size floats; they may be the same buffer).
 * Transposed direct form II; each axis starts from the steady state of its
 * first sample, as if the signal had held that value forever. */
static void neai_filter_apply(const neai_filter_cfg *f, const float *in, float *out)
{
    uint16_t axis, s;
    uint32_t i;
    for (axis = 0; axis < f->nb_axes; axis++) {
        float first = in[axis]; /* read before an in-place first section overwrites it */
        for (s = 0; s < f->sections; s++) {
            const float *c = &f->coeffs[5u * s];
            const float *src = s ? out : in; /* section s filters what section s-1 wrote */
            float z1 = f->zi[2u * s] * first;
            float z2 = f->zi[2u * s + 1u] * first;
            for (i = axis; i < (uint32_t)f->buffer_size * f->nb_axes; i += f->nb_axes) {
                float x = src[i];
                float y = c[0] * x + z1;
                z1 = c[1] * x - c[3] * y + z2;
                z2 = c[2] * x - c[4] * y;
                out[i] = y;
            }
        }
    }
}
#endif

/* In-place radix-2 complex FFT of m points (re/im interleaved in `buf`).
 * `twiddle` is the table of an FFT of `stride * m` points:
 * twiddle[2k] = cos(2 pi k / (stride m)), twiddle[2k+1] = -sin(...). */
static void neai_cfft(float *buf, uint16_t m, const float *twiddle, uint16_t stride, const uint16_t *bitrev)
{
    uint16_t i, len, half, start, k, step;
    for (i = 0; i < m; i++) {
        uint16_t j = bitrev[i];
        if (j > i) {
            float tr = buf[2u * i], ti = buf[2u * i + 1u];
            buf[2u * i] = buf[2u * j];
            buf[2u * i + 1u] = buf[2u * j + 1u];
            buf[2u * j] = tr;
            buf[2u * j + 1u] = ti;
        }
    }
    for (len = 2; len <= m; len = (uint16_t)(len << 1)) {
        half = (uint16_t)(len >> 1);
        step = (uint16_t)((m / len) * stride);
        for (start = 0; start < m; start = (uint16_t)(start + len)) {
            for (k = 0; k < half; k++) {
                float wr = twiddle[2u * k * step], wi = twiddle[2u * k * step + 1u];
                float *a = &buf[2u * (start + k)];
                float *b = &buf[2u * (start + k + half)];
                float br = b[0] * wr - b[1] * wi;
                float bi = b[0] * wi + b[1] * wr;
                b[0] = a[0] - br;
                b[1] = a[1] - bi;
                a[0] = a[0] + br;
                a[1] = a[1] + bi;
            }
        }
    }
}

/* Power spectrum of n real samples held in buf[0..n), in place, through one
 * complex FFT of n/2 points (the even/odd split). Afterwards the power of bin
 * k is buf[2k] for 1 <= k < n/2, and the power of bin n/2 is buf[1].
 * bitrev is the permutation of n/2 points; twiddle the table of n points. */
static void neai_rfft_power(float *buf, uint16_t n, const float *twiddle, const uint16_t *bitrev)
{
    uint16_t h = (uint16_t)(n >> 1), k;
    float z0r, z0i;
    neai_cfft(buf, h, twiddle, 2u, bitrev);
    for (k = 1; k <= (uint16_t)(h >> 1); k++) {
        uint16_t c = (uint16_t)(h - k);
        float ar = buf[2u * k], ai = buf[2u * k + 1u];
        float br = buf[2u * c], bi = buf[2u * c + 1u];
        /* X[k] = E + W^k O with E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2j */
        float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
        float or_ = 0.5f * (ai + bi), oi = -0.5f * (ar - br);
        float wr = twiddle[2u * k], wi = twiddle[2u * k + 1u];
        float xr = er + (or_ * wr - oi * wi);
        float xi = ei + (or_ * wi + oi * wr);
        float pk = xr * xr + xi * xi;
        /* X[h-k] = conj(E) + W^(h-k) conj(O) = conj(E - W^k O), as W^(h-k) = -conj(W^k) */
        float yr = er - (or_ * wr - oi * wi);
        float yi = ei - (or_ * wi + oi * wr);
        buf[2u * k] = pk;
        buf[2u * c] = yr * yr + yi * yi;
    }
    z0r = buf[0];
    z0i = buf[1];
    buf[0] = (z0r + z0i) * (z0r + z0i); /* bin 0 (DC) */
    buf[1] = (z0r - z0i) * (z0r - z0i); /* bin n/2 (Nyquist) */
}

static void neai_axis_mean_std(const float *in, const neai_pre_cfg *c, uint16_t axis, float *mean, float *std)
{
    uint16_t i;
    float s = 0.0f, v = 0.0f, d;
    for (i = 0; i < c->buffer_size; i++) {
        s += in[(uint32_t)i * c->nb_axes + axis];
    }
    s = s / (float)c->buffer_size;
    for (i = 0; i < c->buffer_size; i++) {
        d = in[(uint32_t)i * c->nb_axes + axis] - s;
        v += d * d;
    }
    *mean = s;
    *std = neai_sqrtf(v / (float)c->buffer_size);
}

static void neai_pre_raw(const neai_pre_cfg *c, const float *in, float *out)
{
    uint16_t axis, i;
    uint32_t o = 0;
    for (axis = 0; axis < c->nb_axes; axis++) {
        float mean = 0.0f, std = 0.0f, offset = 0.0f, scale = 1.0f;
        if (c->norm == NEAI_NORM_ZSCORE || c->norm == NEAI_NORM_CENTER) {
            neai_axis_mean_std(in, c, axis, &mean, &std);
            offset = mean;
            if (c->norm == NEAI_NORM_ZSCORE) {
                scale = std > 1e-12f ? 1.0f / std : 0.0f;
            }
        } else if (c->norm == NEAI_NORM_MAXABS) {
            float m = 0.0f;
            for (i = 0; i < c->buffer_size; i++) {
                float a = in[(uint32_t)i * c->nb_axes + axis];
                a = a < 0.0f ? -a : a;
                m = a > m ? a : m;
            }
            scale = m > 1e-12f ? 1.0f / m : 0.0f;
        }
        for (i = 0; i < c->buffer_size; i = (uint16_t)(i + c->decim)) {
            out[o++] = (in[(uint32_t)i * c->nb_axes + axis] - offset) * scale;
        }
    }
}

/* ---- the fixed-point spectrum (c->fixed) ----------------------------------
 * The same power spectrum as neai_axis_power's float one, for cores without an
 * FPU, where every float operation is a library call (~100 instructions on a
 * Cortex-M0+): the samples become integers, the FFT runs in integers, and only
 * the pass band's bins come back as floats. Integers give the same bits on
 * every core. The int32 values live in the float work buffer, reached through
 * memcpy (no aliasing; compilers turn it into plain loads and stores).
 *
 * Scale: the axis's largest |x| has biased exponent emax; a sample with
 * exponent e and 24-bit mantissa m becomes q = +-(m >> (emax - e)) (|q| <
 * 2^24); the middle of the axis's range is removed and the result shifted
 * right by sr bits, the fewest that leave the range below 2^14 (so a small
 * vibration on a large offset keeps its 13 bits): x = q * 2^G, G = 150 - emax - sr. After the
 * segment's own mean is removed and the Q15 window applied, |x| <= 2^14, so
 * each complex input (two samples) has magnitude < 2^15. Every radix-2 stage halves
 * its outputs, which keeps every value's magnitude below 2^15 and every Q14
 * twiddle product below 2^30. The power of a bin, from the real FFT's split
 * halved once more, is below 2^31, and equals the float spectrum's power times
 * 2^(2G - 2 - 2 log2(seg_len/2)); segments are summed after a right shift of
 * ceil(log2(segments)) bits. Right shifts of negative values are arithmetic
 * (implementation-defined in C99; what every compiler we build with does). */
static int32_t neai_wget(const float *w, uint32_t i)
{
    int32_t v;
    __builtin_memcpy(&v, &w[i], sizeof v);
    return v;
}

static void neai_wset(float *w, uint32_t i, int32_t v)
{
    __builtin_memcpy(&w[i], &v, sizeof v);
}

static uint32_t neai_fbits(float x)
{
    uint32_t u;
    __builtin_memcpy(&u, &x, sizeof u);
    return u;
}

/* Integer complex FFT of m points (re/im interleaved int32 in w), each stage
 * halving its outputs; itwiddle is the Q14 table of `stride * m` points. */
static void neai_cfft_fixed(float *w, uint16_t m, const int16_t *itwiddle, uint16_t stride, const uint16_t *bitrev)
{
    uint16_t i, len, half, start, k, step;
    for (i = 0; i < m; i++) {
        uint16_t j = bitrev[i];
        if (j > i) {
            int32_t tr = neai_wget(w, 2u * i), ti = neai_wget(w, 2u * i + 1u);
            neai_wset(w, 2u * i, neai_wget(w, 2u * j));
            neai_wset(w, 2u * i + 1u, neai_wget(w, 2u * j + 1u));
            neai_wset(w, 2u * j, tr);
            neai_wset(w, 2u * j + 1u, ti);
        }
    }
    for (len = 2; len <= m; len = (uint16_t)(len << 1)) {
        half = (uint16_t)(len >> 1);
        step = (uint16_t)((m / len) * stride);
        for (start = 0; start < m; start = (uint16_t)(start + len)) {
            for (k = 0; k < half; k++) {
                int32_t wr = itwiddle[2u * k * step], wi = itwiddle[2u * k * step + 1u];
                uint32_t a = 2u * (start + k), b = 2u * (start + k + half);
                int32_t ar = neai_wget(w, a), ai = neai_wget(w, a + 1u);
                int32_t xr = neai_wget(w, b), xi = neai_wget(w, b + 1u);
                int32_t br = (xr * wr - xi * wi) >> 14;
                int32_t bi = (xr * wi + xi * wr) >> 14;
                neai_wset(w, a, (ar + br) >> 1);
                neai_wset(w, a + 1u, (ai + bi) >> 1);
                neai_wset(w, b, (ar - br) >> 1);
                neai_wset(w, b + 1u, (ai - bi) >> 1);
            }
        }
    }
}

/* Integer power spectrum of the n = seg_len samples in w (as neai_rfft_power
 * lays it out: bin k at [2k], bin n/2 at [1]), each power shifted right by `sh`
 * and added to acc (acc == w: stored). */
static void neai_rfft_power_fixed(float *w, float *acc, uint16_t n, const int16_t *itwiddle, const uint16_t *bitrev,
                                  uint16_t sh, uint8_t add)
{
    uint16_t h = (uint16_t)(n >> 1), k;
    int32_t z0r, z0i, d, e;
    neai_cfft_fixed(w, h, itwiddle, 2u, bitrev);
    for (k = 1; k <= (uint16_t)(h >> 1); k++) {
        uint16_t c = (uint16_t)(h - k);
        int32_t ar = neai_wget(w, 2u * k), ai = neai_wget(w, 2u * k + 1u);
        int32_t br = neai_wget(w, 2u * c), bi = neai_wget(w, 2u * c + 1u);
        int32_t er = (ar + br) >> 1, ei = (ai - bi) >> 1;
        int32_t or_ = (ai + bi) >> 1, oi = -((ar - br) >> 1);
        int32_t wr = itwiddle[2u * k], wi = itwiddle[2u * k + 1u];
        int32_t tr = (or_ * wr - oi * wi) >> 14, ti = (or_ * wi + oi * wr) >> 14;
        int32_t xr = (er + tr) >> 1, xi = (ei + ti) >> 1;
        int32_t yr = (er - tr) >> 1, yi = (ei - ti) >> 1;
        uint32_t pk = (uint32_t)(xr * xr + xi * xi) >> sh, pc = (uint32_t)(yr * yr + yi * yi) >> sh;
        neai_wset(acc, 2u * k, (int32_t)(add ? (uint32_t)neai_wget(acc, 2u * k) + pk : pk));
        neai_wset(acc, 2u * c, (int32_t)(add ? (uint32_t)neai_wget(acc, 2u * c) + pc : pc));
    }
    z0r = neai_wget(w, 0u);
    z0i = neai_wget(w, 1u);
    d = (z0r + z0i) >> 1; /* bin 0 (DC) */
    e = (z0r - z0i) >> 1; /* bin n/2 (Nyquist) */
    neai_wset(acc, 0u, (int32_t)(add ? (uint32_t)neai_wget(acc, 0u) + ((uint32_t)(d * d) >> sh)
                                     : (uint32_t)(d * d) >> sh));
    neai_wset(acc, 1u, (int32_t)(add ? (uint32_t)neai_wget(acc, 1u) + ((uint32_t)(e * e) >> sh)
                                     : (uint32_t)(e * e) >> sh));
}

/* 2^p as a float, 0 below the normal range (the float spectrum would be as good
 * as 0 there), +inf above it (the float spectrum overflows too). */
static float neai_pow2f(int32_t p)
{
    uint32_t u;
    float f;
    if (p < -126) {
        return 0.0f;
    }
    u = p > 127 ? 0x7f800000u : (uint32_t)(p + 127) << 23;
    __builtin_memcpy(&f, &u, sizeof f);
    return f;
}

/* x as an integer of the axis's scale: +-(24-bit mantissa >> (emax - e)), so
 * |q| < 2^24 and q = x * 2^(150 - emax), truncated (0 for denormals). */
static int32_t neai_fixed_sample(float x, uint32_t emax)
{
    uint32_t u = neai_fbits(x), e = (u >> 23) & 0xffu, d = emax - e;
    int32_t q = (e == 0u || d > 24u) ? 0 : (int32_t)(((u & 0x7fffffu) | 0x800000u) >> d);
    return (u >> 31) ? -q : q;
}

/* Orders float bit patterns as unsigned integers order the floats they hold. */
static uint32_t neai_fkey(uint32_t u)
{
    return u ^ ((uint32_t)((int32_t)u >> 31) | 0x80000000u);
}

static const float *neai_axis_power_fixed(const neai_pre_cfg *c, const float *in, uint16_t axis, float *work)
{
    uint16_t s, i, n = c->seg_len, h = (uint16_t)(n >> 1), sh = 0, log_h = 0, sr = 0;
    uint16_t first = c->band_edges[0], end = c->band_edges[c->bands ? c->bands : 1u];
    float *acc = c->nb_segments > 1u ? &work[n] : work;
    uint32_t lo = 0xffffffffu, hi = 0, emax, range, k;
    int32_t qlo, qhi, mid;
    float scale;
    for (i = 0; i < c->buffer_size; i++) { /* the axis's smallest and largest sample */
        uint32_t key = neai_fkey(neai_fbits(in[(uint32_t)i * c->nb_axes + axis]));
        lo = key < lo ? key : lo;
        hi = key > hi ? key : hi;
    }
    lo ^= (lo & 0x80000000u) ? 0x80000000u : 0xffffffffu; /* back to bit patterns */
    hi ^= (hi & 0x80000000u) ? 0x80000000u : 0xffffffffu;
    emax = ((lo & 0x7fffffffu) > (hi & 0x7fffffffu) ? lo & 0x7fffffffu : hi & 0x7fffffffu) >> 23;
    { /* the bit patterns back to floats, then to integers of the axis's scale */
        float flo, fhi;
        __builtin_memcpy(&flo, &lo, sizeof flo);
        __builtin_memcpy(&fhi, &hi, sizeof fhi);
        qlo = neai_fixed_sample(flo, emax);
        qhi = neai_fixed_sample(fhi, emax);
    }
    mid = qlo + (qhi - qlo) / 2;
    range = (uint32_t)(qhi - qlo);
    while ((range >> sr) >= (1u << 14)) { /* then |q - mid| >> sr < 2^13 */
        sr++;
    }
    while ((1u << sh) < c->nb_segments) {
        sh++;
    }
    while ((1u << log_h) < h) {
        log_h++;
    }
    for (s = 0; s < c->nb_segments; s++) {
        const float *seg = &in[(uint32_t)s * c->seg_hop * c->nb_axes];
        int32_t sum = 0, smean;
        for (i = 0; i < n; i++) {
            int32_t x = (neai_fixed_sample(seg[(uint32_t)i * c->nb_axes + axis], emax) - mid) >> sr;
            neai_wset(work, i, x);
            sum += x;
        }
        smean = sum / (int32_t)n;
        for (i = 0; i < n; i++) {
            int32_t x = neai_wget(work, i) - smean;
            neai_wset(work, i, c->iwindow ? (x * c->iwindow[i]) >> 15 : x);
        }
        neai_rfft_power_fixed(work, acc, n, c->itwiddle, c->bitrev, sh, (uint8_t)(s > 0u));
    }
    /* back to the float spectrum's units: 2^(2 + 2 log2(h) - 2G + sh), G = 150 - emax - sr */
    scale = range ? neai_pow2f((int32_t)(2u + 2u * log_h + sh) - 2 * (150 - (int32_t)emax - (int32_t)sr)) : 0.0f;
    for (k = first; k < end; k++) {
        uint32_t slot = k == h ? 1u : 2u * k;
        acc[slot] = (float)(uint32_t)neai_wget(acc, slot) * scale;
    }
    return acc;
}

/* Power spectrum of one axis, summed over the segments (Welch's method without
 * the final division by nb_segments, which callers fold into their own
 * scaling). Returns `spec`, laid out as neai_rfft_power leaves it: the power of
 * bin k is spec[2k] for k < seg_len/2 and spec[1] for k = seg_len/2 (see
 * neai_bin_power). One segment is transformed in place in work[0..seg_len);
 * several are transformed there one by one and summed into
 * work[seg_len..2 seg_len). */
static const float *neai_axis_power(const neai_pre_cfg *c, const float *in, uint16_t axis, float *work)
{
    uint16_t s, i, n = c->seg_len;
    float *acc = c->nb_segments > 1u ? &work[n] : work;
    if (c->fixed) {
        return neai_axis_power_fixed(c, in, axis, work);
    }
    for (s = 0; s < c->nb_segments; s++) {
        const float *seg = &in[(uint32_t)s * c->seg_hop * c->nb_axes];
        float mean = 0.0f;
        for (i = 0; i < n; i++) {
            mean += seg[(uint32_t)i * c->nb_axes + axis];
        }
        mean = mean / (float)n;
        for (i = 0; i < n; i++) {
            float x = seg[(uint32_t)i * c->nb_axes + axis] - mean;
            work[i] = c->window ? x * c->window[i] : x;
        }
        neai_rfft_power(work, n, c->twiddle, c->bitrev);
        if (c->nb_segments > 1u) {
            acc[1] = s ? acc[1] + work[1] : work[1];
            for (i = 0; i < (uint16_t)(n >> 1); i++) {
                acc[2u * i] = s ? acc[2u * i] + work[2u * i] : work[2u * i];
            }
        }
    }
    return acc;
}

static float neai_bin_power(const float *spec, uint16_t k, uint16_t half)
{
    return k == half ? spec[1] : spec[2u * k];
}

static void neai_pre_fft(const neai_pre_cfg *c, const float *in, float *work, float *out)
{
    uint16_t axis, i, b;
    uint16_t half = (uint16_t)(c->seg_len >> 1);
    for (axis = 0; axis < c->nb_axes; axis++) {
        float total = 0.0f;
        float *o = &out[(uint32_t)axis * c->bands];
        const float *spec = neai_axis_power(c, in, axis, work);
        for (b = 0; b < c->bands; b++) {
            float p = 0.0f;
            for (i = c->band_edges[b]; i < c->band_edges[b + 1u]; i++) {
                p += neai_bin_power(spec, i, half);
            }
            /* mean power per bin and per segment (one segment: the plain spectrum) */
            p = p / (float)((uint32_t)(c->band_edges[b + 1u] - c->band_edges[b]) * c->nb_segments);
            o[b] = p;
            total += p;
        }
        for (b = 0; b < c->bands; b++) {
            float p = o[b];
            if (c->norm == NEAI_NORM_RELATIVE) {
                p = total > 1e-30f ? p / total : 0.0f;
            }
            o[b] = c->log_scale ? neai_logf(p + 1e-12f) : p;
        }
    }
}

/* Spectral statistics of the pass band [first, end) of each axis's averaged
 * power spectrum P(k), at frequencies f(k) = k / (seg_len/2) (fractions of
 * Nyquist), with E = sum of P over the band, q(k) = P(k) / E, and
 * L(k) = log(P(k) + 1e-12):
 *   0 log energy      log(E / bins + 1e-12), the mean power per bin
 *   1 centroid        c = sum f q
 *   2 spread          sqrt(sum f^2 q - c^2)
 *   3 log flatness    mean of L - log energy, <= 0 (0 = white)
 *   4 roll-off        lowest f with 85 % of E at or below it
 *   5 peak frequency  f of the strongest bin (the lowest one on ties)
 *   6 entropy         (log E - sum q L) / log(bins), i.e. -sum q log q normalised to 0..1
 *   7..               share of E in each of the `bands` bands
 * An axis without energy in the band gives its log energy and flatness, zeros
 * else. One pass over the bins, plus the bins up to the roll-off; one log per
 * bin, which costs about as much as the rest of the pass. */
static void neai_pre_spectral(const neai_pre_cfg *c, const float *in, float *work, float *out)
{
    uint16_t axis, k, b;
    uint16_t half = (uint16_t)(c->seg_len >> 1);
    uint16_t first = c->band_edges[0], end = c->band_edges[c->bands ? c->bands : 1u];
    uint16_t per_axis = (uint16_t)(NEAI_SPECTRAL_PER_AXIS + c->bands);
    float bins = (float)(end - first);
    float scale = 1.0f / (float)c->nb_segments;
    float to_f = 1.0f / (float)half; /* exact: half is a power of two */
    for (axis = 0; axis < c->nb_axes; axis++) {
        float *o = &out[(uint32_t)axis * per_axis];
        float *ratio = &o[NEAI_SPECTRAL_PER_AXIS];
        const float *spec = neai_axis_power(c, in, axis, work);
        float total = 0.0f, moment = 0.0f, moment2 = 0.0f, logs = 0.0f, plogp = 0.0f, peak = -1.0f, peak_f = 0.0f;
        float cumul = 0.0f, target, inv, spread;
        for (b = 0; b < c->bands; b++) {
            ratio[b] = 0.0f;
        }
        b = 0;
        for (k = first; k < end; k++) {
            float p = neai_bin_power(spec, k, half) * scale;
            float f = (float)k * to_f;
            float l = neai_logf(p + 1e-12f);
            float fp = f * p;
            total += p;
            moment += fp;
            moment2 += f * fp;
            logs += l;
            plogp += p * l;
            if (p > peak) {
                peak = p;
                peak_f = f;
            }
            if (c->bands) {
                if (k >= c->band_edges[b + 1u]) {
                    b++;
                }
                ratio[b] += p;
            }
        }
        o[0] = neai_logf(total / bins + 1e-12f);
        o[3] = logs / bins - o[0];
        if (!(total > 1e-30f)) {
            o[1] = o[2] = o[4] = o[5] = o[6] = 0.0f;
            for (b = 0; b < c->bands; b++) {
                ratio[b] = 0.0f;
            }
            continue;
        }
        inv = 1.0f / total;
        o[1] = moment * inv;
        spread = moment2 * inv - o[1] * o[1];
        o[2] = neai_sqrtf(spread); /* 0 when rounding makes it negative */
        target = 0.85f * total;
        o[4] = (float)(end - 1u) * to_f;
        for (k = first; k < end; k++) {
            cumul += neai_bin_power(spec, k, half) * scale;
            if (cumul >= target) {
                o[4] = (float)k * to_f;
                break;
            }
        }
        o[5] = peak_f;
        o[6] = (uint32_t)(end - first) > 1u ? (neai_logf(total) - plogp * inv) / neai_logf(bins) : 0.0f;
        for (b = 0; b < c->bands; b++) {
            ratio[b] = ratio[b] * inv;
        }
    }
}

static void neai_pre_stats(const neai_pre_cfg *c, const float *in, float *out)
{
    uint16_t axis, i;
    for (axis = 0; axis < c->nb_axes; axis++) {
        float mean, std, mn, mx, m3 = 0.0f, m4 = 0.0f, rms2 = 0.0f, peak, crossings = 0.0f;
        float prev = 0.0f;
        float *o = &out[(uint32_t)axis * NEAI_STATS_PER_AXIS];
        neai_axis_mean_std(in, c, axis, &mean, &std);
        mn = mx = in[axis];
        for (i = 0; i < c->buffer_size; i++) {
            float x = in[(uint32_t)i * c->nb_axes + axis];
            float d = x - mean, d2 = d * d;
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
            m3 += d2 * d;
            m4 += d2 * d2;
            rms2 += x * x;
            if (i > 0 && ((prev < 0.0f && d >= 0.0f) || (prev >= 0.0f && d < 0.0f))) {
                crossings += 1.0f;
            }
            prev = d;
        }
        m3 = m3 / (float)c->buffer_size;
        m4 = m4 / (float)c->buffer_size;
        rms2 = neai_sqrtf(rms2 / (float)c->buffer_size);
        peak = (mx > -mn) ? mx : -mn;
        o[0] = mean;
        o[1] = std;
        o[2] = mn;
        o[3] = mx;
        o[4] = rms2;
        o[5] = mx - mn;
        o[6] = std > 1e-12f ? m3 / (std * std * std) : 0.0f;
        o[7] = std > 1e-12f ? m4 / (std * std * std * std) : 0.0f;
        o[8] = rms2 > 1e-12f ? peak / rms2 : 0.0f;
        o[9] = crossings / (float)c->buffer_size;
    }
}

/* How the axes move together, which per-axis features cannot tell (e.g. the
 * phase relationship of a 3-phase motor's currents): for every pair of axes
 * a <= b (a major; a == b only with `diagonal`), their covariance, or with
 * `correlate` their Pearson correlation (0 when an axis is constant) and the
 * standard deviation on the diagonal. */
static void neai_pre_pairs(const neai_pre_cfg *c, const float *in, float *out, uint8_t diagonal, uint8_t correlate)
{
    uint16_t a, b, i;
    uint32_t k = 0;
    for (a = 0; a < c->nb_axes; a++) {
        float mean_a, std_a;
        neai_axis_mean_std(in, c, a, &mean_a, &std_a);
        if (diagonal) {
            out[k++] = correlate ? std_a : std_a * std_a;
        }
        for (b = (uint16_t)(a + 1u); b < c->nb_axes; b++) {
            float mean_b, std_b, cov = 0.0f;
            neai_axis_mean_std(in, c, b, &mean_b, &std_b);
            for (i = 0; i < c->buffer_size; i++) {
                const float *s = &in[(uint32_t)i * c->nb_axes];
                cov += (s[a] - mean_a) * (s[b] - mean_b);
            }
            cov = cov / (float)c->buffer_size;
            if (correlate) {
                cov = (std_a > 1e-12f && std_b > 1e-12f) ? cov / (std_a * std_b) : 0.0f;
            }
            out[k++] = cov;
        }
    }
}

/* Feature vector of one input buffer; returns 0, or 1 if the features are not
 * all finite (NaN/Inf in the input). */
static uint8_t neai_pre_features(const neai_pre_cfg *c, const float *in, float *work, float *out)
{
    uint32_t i, n = (uint32_t)c->nb_axes * c->buffer_size;
    /* Check the input itself: some normalisations would turn NaN into 0. */
    for (i = 0; i < n; i++) {
        if (!neai_is_finite(in[i])) {
            return 1u;
        }
    }
    if (c->kind == NEAI_PRE_FFT) {
        neai_pre_fft(c, in, work, out);
    } else if (c->kind == NEAI_PRE_SPECTRAL) {
        neai_pre_spectral(c, in, work, out);
        if (c->time_stats) {
            neai_pre_stats(c, in, &out[(uint32_t)c->nb_axes * (NEAI_SPECTRAL_PER_AXIS + c->bands)]);
        }
    } else if (c->kind == NEAI_PRE_STATS) {
        neai_pre_stats(c, in, out);
        if (c->cross) {
            neai_pre_pairs(c, in, &out[(uint32_t)c->nb_axes * NEAI_STATS_PER_AXIS], 0u, 1u);
        }
    } else if (c->kind == NEAI_PRE_COV) {
        neai_pre_pairs(c, in, out, 1u, (uint8_t)(c->cross != 0u));
    } else {
        neai_pre_raw(c, in, out);
    }
    for (i = 0; i < c->nb_features; i++) {
        if (!neai_is_finite(out[i])) {
            return 1u;
        }
    }
    return 0u;
}

/* 0 when learn() may take the buffer `in` (nb_axes x buffer_size, interleaved):
 * every sample finite and inside its axis's [lo, hi], and with
 * `needs_variance`, no axis holding one value only. */
#if defined(__GNUC__)
__attribute__((unused))
#endif
static uint8_t neai_guard_refuses(const neai_guard_cfg *g, const float *in)
{
    uint32_t axis, i, n = (uint32_t)g->nb_axes * g->buffer_size;
    for (i = 0; i < n; i++) {
        float x = in[i];
        if (!neai_is_finite(x)) {
            return 1u;
        }
        if (g->lo && !(x >= g->lo[i % g->nb_axes] && x <= g->hi[i % g->nb_axes])) {
            return 1u;
        }
    }
    if (g->needs_variance) {
        for (axis = 0; axis < g->nb_axes; axis++) {
            uint8_t varies = 0u;
            for (i = axis + g->nb_axes; i < n; i += g->nb_axes) {
                if (in[i] != in[axis]) {
                    varies = 1u;
                    break;
                }
            }
            if (!varies) {
                return 1u;
            }
        }
    }
    return 0u;
}
