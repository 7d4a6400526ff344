/* cost_ops.c - micro-benchmark of single float operations on a Cortex-M core,
 * for engine/cost.py's generic operation terms (bench/measure_costs.py --ops).
 * Each function runs one operation n times over arrays, so that
 *   (instructions(op, n) - instructions(copy, n)) / n
 * is the cost of the operation with its second operand loaded. */
#include <stdint.h>

#pragma clang diagnostic ignored "-Wunused-function" /* the runtime files' other helpers */
#include "neai_math.c"
#include "neai_trained_types.h"
#include "neai_trained.c"

#define LOOP(body) uint32_t i; for (i = 0; i < n; i++) { body; }

void op_copy(const float *a, const float *b, float *o, uint32_t n) { (void)b; LOOP(o[i] = a[i]) }
void op_fadd(const float *a, const float *b, float *o, uint32_t n) { LOOP(o[i] = a[i] + b[i]) }
void op_fmul(const float *a, const float *b, float *o, uint32_t n) { LOOP(o[i] = a[i] * b[i]) }
void op_fdiv(const float *a, const float *b, float *o, uint32_t n) { LOOP(o[i] = a[i] / b[i]) }
void op_sqrt(const float *a, const float *b, float *o, uint32_t n) { (void)b; LOOP(o[i] = neai_sqrtf(a[i])) }
void op_log(const float *a, const float *b, float *o, uint32_t n) { (void)b; LOOP(o[i] = neai_logf(a[i])) }
void op_exp(const float *a, const float *b, float *o, uint32_t n) { (void)b; LOOP(o[i] = neai_expf(a[i])) }
void op_f2i(const float *a, const float *b, float *o, uint32_t n)
{
    int32_t *io = (int32_t *)(void *)o;
    (void)b;
    LOOP(io[i] = (int32_t)(a[i] * 1000.0f))
}
void op_i2f(const float *a, const float *b, float *o, uint32_t n)
{
    const int32_t *ia = (const int32_t *)(const void *)a;
    (void)b;
    LOOP(o[i] = (float)ia[i])
}
void op_iop(const float *a, const float *b, float *o, uint32_t n)
{
    const uint32_t *ua = (const uint32_t *)(const void *)a, *ub = (const uint32_t *)(const void *)b;
    uint32_t *uo = (uint32_t *)(void *)o;
    LOOP(uo[i] = ua[i] ^ (ub[i] >> 3))
}
