/* neai_math.c - the few elementary functions the runtime needs, written out so
 * the host and Cortex-M builds agree to the bit (platform libms do not).
 * Included by a single translation unit; everything here is static. */
#include <stdint.h>

static float neai_sqrtf(float x)
{
    /* IEEE 754 square root is correctly rounded everywhere: VSQRT on FPU cores,
     * SQRTSS on x86-64, compiler-rt/newlib sqrtf on soft-float cores. */
    return x > 0.0f ? __builtin_sqrtf(x) : 0.0f;
}

static float neai_logf(float x)
{
    /* log(x) = e*ln2 + log(m), m in [sqrt(1/2), sqrt(2)), via the atanh series
     * log(m) = 2 (s + s^3/3 + s^5/5 + s^7/7 + s^9/9), s = (m-1)/(m+1).
     * Absolute error < 2e-7 on normal positive inputs; x <= 0 gives -87.3. */
    union { float f; uint32_t u; } v;
    int32_t e;
    float m, s, s2, p;
    if (!(x > 1.17549435e-38f)) {
        return -87.336544f;
    }
    v.f = x;
    e = (int32_t)((v.u >> 23) & 0xffu) - 127;
    v.u = (v.u & 0x007fffffu) | 0x3f800000u; /* m in [1, 2) */
    m = v.f;
    if (m > 1.41421356f) {
        m = m * 0.5f;
        e += 1;
    }
    s = (m - 1.0f) / (m + 1.0f);
    s2 = s * s;
    p = 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    p = p * s2 + 1.0f;
    return (float)e * 0.693147181f + 2.0f * s * p;
}

static int neai_is_finite(float x)
{
    union { float f; uint32_t u; } v;
    v.f = x;
    return (v.u & 0x7f800000u) != 0x7f800000u;
}
