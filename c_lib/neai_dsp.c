/* neai_dsp.c - preprocessing: from an interleaved multi-axis buffer
 * (x0 y0 z0 x1 y1 z1 ...) to a feature vector. Static memory only: the caller
 * provides `work` (NEAI_PRE_WORK_FLOATS(buffer_size) floats). */
#include "neai_types.h"

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

static void neai_pre_fft(const neai_pre_cfg *c, const float *in, float *work, float *out)
{
    uint16_t axis, i, b;
    uint16_t n = c->buffer_size;
    for (axis = 0; axis < c->nb_axes; axis++) {
        float mean = 0.0f, total = 0.0f;
        float *o = &out[(uint32_t)axis * c->bands];
        for (i = 0; i < n; i++) {
            mean += in[(uint32_t)i * c->nb_axes + axis];
        }
        mean = mean / (float)n;
        for (i = 0; i < n; i++) {
            float x = in[(uint32_t)i * c->nb_axes + axis] - mean;
            work[i] = c->window ? x * c->window[i] : x;
        }
        neai_rfft_power(work, n, c->twiddle, c->bitrev);
        for (b = 0; b < c->bands; b++) {
            float p = 0.0f;
            for (i = c->band_edges[b]; i < c->band_edges[b + 1u]; i++) {
                p += (i == (uint16_t)(n >> 1)) ? work[1] : work[2u * i];
            }
            p = p / (float)(c->band_edges[b + 1u] - c->band_edges[b]);
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
    } else if (c->kind == NEAI_PRE_STATS) {
        neai_pre_stats(c, in, out);
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
