// Inner loops of convsweep's own kernels, in C so that the compiler can build one clone per
// instruction set (AVX-512, AVX2, baseline) and the loader pick the CPU's at run time
// (`target_clones`): Swift compiles for baseline x86-64 (SSE2) only.
#ifndef CONVSWEEP_KERNELS_H
#define CONVSWEEP_KERNELS_H

/// The depthwise kernel's taps over one output plane computed `count` positions wide:
/// acc[k] = Σₜ weights[t] · planes[starts[t] + k] for k < count (acc overwritten).
void convsweep_depthwise_taps(float *acc, const float *planes, const long *starts, const float *weights, int taps,
                              long count);

/// The instruction set the clone of convsweep_depthwise_taps that runs here was built for
/// ("avx512f", "avx2" or "default").
const char *convsweep_kernels_isa(void);

#endif
