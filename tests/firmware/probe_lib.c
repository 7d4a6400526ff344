#include "probe_lib.h"

static float knowledge[PROBE_KNOWLEDGE_LEN] __attribute__((section(".neai")));
static uint32_t learned;

/* cos(pi / 2^k), sin(pi / 2^k) for k = 0..10: the FFT's twiddle steps, so no libm. */
static const float k_cos_step[11] = {
    -1.0f, 0.0f, 0.70710678f, 0.92387953f, 0.98078528f, 0.99518473f,
    0.99879546f, 0.99969882f, 0.99992470f, 0.99998118f, 0.99999529f};
static const float k_sin_step[11] = {
    0.0f, 1.0f, 0.70710678f, 0.38268343f, 0.19509032f, 0.09801714f,
    0.04906767f, 0.02454123f, 0.01227154f, 0.00613588f, 0.00306796f};

float probe_dot(const float a[], const float b[], uint32_t n)
{
    float acc = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        acc += a[i] * b[i];
    }
    return acc;
}

float probe_norm(const float a[], uint32_t n)
{
    return __builtin_sqrtf(probe_dot(a, a, n));
}

float probe_mix(float x, int32_t k, float y)
{
    return x * (float)k - y / 3.0f;
}

probe_state_t probe_classify(float x, float threshold)
{
    if (x != x) {
        return PROBE_OK;
    }
    return x > threshold ? PROBE_HIGH : PROBE_LOW;
}

float probe_weighted(int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, float u, float v)
{
    return (float)(a + 2 * b + 3 * c + 4 * d + 5 * e) * u - v;
}

uint32_t probe_count(uint32_t n)
{
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) {
        acc = acc * 31u + i;
    }
    return acc;
}

float probe_fft(float re[], float im[], uint32_t log2n)
{
    if (log2n < 1u || log2n > 10u) {
        return -1.0f;
    }
    const uint32_t n = 1u << log2n;
    for (uint32_t i = 1, j = 0; i < n; i++) {
        uint32_t bit = n >> 1;
        for (; j & bit; bit >>= 1) {
            j ^= bit;
        }
        j ^= bit;
        if (i < j) {
            float t = re[i]; re[i] = re[j]; re[j] = t;
            t = im[i]; im[i] = im[j]; im[j] = t;
        }
    }
    for (uint32_t s = 1; s <= log2n; s++) {
        const uint32_t half = 1u << (s - 1);
        const float wr_step = k_cos_step[s - 1];
        const float wi_step = -k_sin_step[s - 1];
        float wr = 1.0f, wi = 0.0f;
        for (uint32_t m = 0; m < half; m++) {
            for (uint32_t k = m; k < n; k += 2u * half) {
                const uint32_t p = k + half;
                const float tr = wr * re[p] - wi * im[p];
                const float ti = wr * im[p] + wi * re[p];
                re[p] = re[k] - tr;
                im[p] = im[k] - ti;
                re[k] += tr;
                im[k] += ti;
            }
            const float t = wr * wr_step - wi * wi_step;
            wi = wr * wi_step + wi * wr_step;
            wr = t;
        }
    }
    float energy = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        energy += re[i] * re[i] + im[i] * im[i];
    }
    return energy;
}

void probe_reset(void)
{
    for (uint32_t i = 0; i < PROBE_KNOWLEDGE_LEN; i++) {
        knowledge[i] = 0.0f;
    }
    learned = 0;
}

uint32_t probe_learn(const float x[])
{
    learned++;
    const float w = 1.0f / (float)learned;
    for (uint32_t i = 0; i < PROBE_KNOWLEDGE_LEN; i++) {
        knowledge[i] += (x[i] - knowledge[i]) * w;
    }
    return learned;
}

float probe_score(const float x[])
{
    float d = 0.0f;
    for (uint32_t i = 0; i < PROBE_KNOWLEDGE_LEN; i++) {
        const float e = x[i] - knowledge[i];
        d += e * e;
    }
    return __builtin_sqrtf(d);
}
