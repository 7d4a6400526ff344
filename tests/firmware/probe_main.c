/* Firmware for the QEMU test: runs the probe library on inputs every side can
 * reproduce exactly (integer LCG scaled by a power of two) and prints the results
 * as IEEE bits, one "name=XXXXXXXX" line each, through semihosting printf. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "probe_lib.h"

#define N_FFT 256u

static float re[N_FFT], im[N_FFT], x[PROBE_KNOWLEDGE_LEN];

static uint32_t lcg_state = 12345u;

static float next_input(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (float)((int32_t)(lcg_state >> 16) - 32768) * (1.0f / 4096.0f);
}

static void print_bits(const char *name, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    printf("%s=%08lx (%.9g)\n", name, (unsigned long)bits, (double)value);
}

int main(void)
{
    for (uint32_t i = 0; i < N_FFT; i++) {
        re[i] = next_input();
        im[i] = 0.0f;
    }
    print_bits("fft", probe_fft(re, im, 8u));
    print_bits("norm", probe_norm(re, N_FFT));
    print_bits("mix", probe_mix(2.5f, -3, 1.0f));
    probe_reset();
    for (uint32_t round = 0; round < 3u; round++) {
        for (uint32_t i = 0; i < PROBE_KNOWLEDGE_LEN; i++) {
            x[i] = next_input();
        }
        probe_learn(x);
    }
    print_bits("score", probe_score(x));
    printf("classify=%d\n", (int)probe_classify(2.0f, 1.0f));
    printf("done\n");
    return 0;
}
