/* Probe library for the toolchain and emulator tests: float maths, loops, an
 * enum return, an FFT and a knowledge array in the .neai section — the shapes
 * the generated NanoEdge libraries use, in a few hundred bytes.
 */
#ifndef PROBE_LIB_H
#define PROBE_LIB_H

#include <stdint.h>

#define PROBE_KNOWLEDGE_LEN 64u

typedef enum { PROBE_OK = 0, PROBE_LOW = 3, PROBE_HIGH = 7 } probe_state_t;

float probe_dot(const float a[], const float b[], uint32_t n);
float probe_norm(const float a[], uint32_t n);
float probe_mix(float x, int32_t k, float y);
probe_state_t probe_classify(float x, float threshold);
/* More arguments than registers: e goes on the stack (and u, v too on soft-float). */
float probe_weighted(int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, float u, float v);
uint32_t probe_count(uint32_t n);
/* In-place radix-2 FFT of 2^log2n complex points, log2n in 1..10; returns the
 * sum of magnitudes squared of the result (a single number to compare). */
float probe_fft(float re[], float im[], uint32_t log2n);
/* Knowledge in .neai: reset, learn a running mean, score a distance to it. */
void probe_reset(void);
uint32_t probe_learn(const float x[]);
float probe_score(const float x[]);

#endif
