#include "convsweep_kernels.h"

#if defined(__x86_64__) && defined(__clang__) && __clang_major__ >= 14
#define CONVSWEEP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CONVSWEEP_CLONES
#endif

CONVSWEEP_CLONES
void convsweep_depthwise_taps(float *restrict acc, const float *restrict planes, const long *restrict starts,
                              const float *restrict weights, int taps, long count) {
    if (taps == 9) {
        // 3x3: all nine taps in one pass, the accumulator written once.
        const float *p0 = planes + starts[0], *p1 = planes + starts[1], *p2 = planes + starts[2];
        const float *p3 = planes + starts[3], *p4 = planes + starts[4], *p5 = planes + starts[5];
        const float *p6 = planes + starts[6], *p7 = planes + starts[7], *p8 = planes + starts[8];
        const float w0 = weights[0], w1 = weights[1], w2 = weights[2], w3 = weights[3], w4 = weights[4];
        const float w5 = weights[5], w6 = weights[6], w7 = weights[7], w8 = weights[8];
        for (long k = 0; k < count; k++)
            acc[k] = (w0 * p0[k] + w1 * p1[k] + w2 * p2[k]) + (w3 * p3[k] + w4 * p4[k] + w5 * p5[k]) +
                     (w6 * p6[k] + w7 * p7[k] + w8 * p8[k]);
        return;
    }
    for (long k = 0; k < count; k++) acc[k] = 0;
    int t = 0;
    for (; t + 2 < taps; t += 3) {
        const float *p0 = planes + starts[t], *p1 = planes + starts[t + 1], *p2 = planes + starts[t + 2];
        const float w0 = weights[t], w1 = weights[t + 1], w2 = weights[t + 2];
        for (long k = 0; k < count; k++) acc[k] += w0 * p0[k] + w1 * p1[k] + w2 * p2[k];
    }
    for (; t < taps; t++) {
        const float *p0 = planes + starts[t];
        const float w0 = weights[t];
        for (long k = 0; k < count; k++) acc[k] += w0 * p0[k];
    }
}

#if defined(__x86_64__) && defined(__clang__) && __clang_major__ >= 14
const char *convsweep_kernels_isa(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "avx512f";
    if (__builtin_cpu_supports("avx2")) return "avx2";
    return "default";
}
#else
const char *convsweep_kernels_isa(void) { return "default"; }
#endif
