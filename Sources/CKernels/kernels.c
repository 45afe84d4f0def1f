#include "convsweep_kernels.h"

#if defined(__x86_64__) && defined(__clang__) && __clang_major__ >= 18
// One clone per level: x86-64-v4 (AVX-512), x86-64-v3 (AVX2 and FMA), baseline.
#define CONVSWEEP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CONVSWEEP_CLONES
#endif

#if defined(__x86_64__) && defined(__clang__) && __clang_major__ >= 18
const char *convsweep_kernels_isa(void) {
    // The levels the clones' resolver tests, in its order.
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4";
    if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3";
    return "baseline";
}
#else
const char *convsweep_kernels_isa(void) { return "baseline"; }
#endif

// ---- The channel-blocked depthwise kernel -------------------------------------------------------

typedef float convsweep_v8 __attribute__((vector_size(32), aligned(32)));
typedef float convsweep_v8u __attribute__((vector_size(32), aligned(4)));

// Rows r[0..7] (8 floats each) into columns: r[i][j] becomes r[j][i].
static inline __attribute__((always_inline)) void convsweep_transpose8(convsweep_v8 r[8]) {
    convsweep_v8 t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        s[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        s[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        s[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        s[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = __builtin_shufflevector(s[i], s[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[i + 4] = __builtin_shufflevector(s[i], s[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

// Output rows computed before they are transposed back: enough for about 2,048 positions.
static inline long convsweep_depthwise_band(const struct convsweep_depthwise_geometry *g) {
    long rows = 2048 / (g->out_width > 0 ? g->out_width : 1);
    return rows < 1 ? 1 : (rows > g->out_height ? g->out_height : rows);
}

long convsweep_depthwise_blocked_scratch(const struct convsweep_depthwise_geometry *g) {
    return (g->packed_height * g->packed_width + g->kernel_height * g->kernel_width +
            convsweep_depthwise_band(g) * g->out_width) * 8;
}

CONVSWEEP_CLONES
void convsweep_depthwise_blocked(float *restrict output, const float *restrict input, const float *restrict weights,
                                 int channels, long multiplier, long phase, const struct convsweep_depthwise_geometry *g,
                                 float *restrict scratch) {
    const long h = g->height, w = g->width, oh = g->out_height, ow = g->out_width;
    const long kh = g->kernel_height, kw = g->kernel_width, sh = g->stride_height, sw = g->stride_width;
    const long dh = g->dilation_height, dw = g->dilation_width, hp = g->packed_height, wp = g->packed_width;
    const long taps = kh * kw, plane = h * w, outPlane = oh * ow, band = convsweep_depthwise_band(g);
    const long top = g->pad_top, left = g->pad_left;
    float *restrict packed = scratch;
    float *restrict packedWeights = packed + hp * wp * 8;
    float *restrict bandBuffer = packedWeights + taps * 8;
    const convsweep_v8 zero = {0, 0, 0, 0, 0, 0, 0, 0};
    convsweep_v8 *packedv = (convsweep_v8 *)packed;

    // The weights, [tap][channel]; zero for the lanes past `channels`.
    for (long t = 0; t < taps; t++)
        for (int c = 0; c < 8; c++) packedWeights[t * 8 + c] = c < channels ? weights[c * taps + t] : 0;

    // The input, [row][column][channel]. Lane c (output channel c of the block) reads input
    // channel (phase + c) / multiplier from `input`; a lane past `channels` reads the last lane's,
    // so that no lane reads past the block (its outputs are never stored). Padding first, then
    // the image's rows that the taps reach, eight positions of the flattened plane at a time (rows
    // of 7 or 14 columns are transposed whole too), each position stored where its row and column
    // go; columns the taps never reach are skipped.
    const float *source[8];
    for (int c = 0; c < 8; c++) source[c] = input + (phase + (c < channels ? c : channels - 1)) / multiplier * plane;
    const long columns = w < wp - left ? w : (wp - left > 0 ? wp - left : 0);  // input columns read
    const long rows = h < hp - top ? h : (hp - top > 0 ? hp - top : 0);        // input rows read
    for (long r = 0; r < hp; r++) {
        const long iy = r - top;
        if (iy < 0 || iy >= rows || columns == 0) {
            for (long q = 0; q < wp; q++) packedv[r * wp + q] = zero;
            continue;
        }
        for (long q = 0; q < left && q < wp; q++) packedv[r * wp + q] = zero;
        for (long q = left + columns; q < wp; q++) packedv[r * wp + q] = zero;
    }
    if (columns > 0) {
        const long end = rows * w;
        long p = 0, iy = 0, ix = 0;  // iy, ix: the row and column of position p
        for (; p + 8 <= end; p += 8) {
            convsweep_v8 v[8];
            for (int c = 0; c < 8; c++) v[c] = *(const convsweep_v8u *)(source[c] + p);
            convsweep_transpose8(v);
            for (int k = 0; k < 8; k++) {
                if (ix < columns) packedv[(iy + top) * wp + left + ix] = v[k];
                if (++ix == w) {
                    ix = 0;
                    iy++;
                }
            }
        }
        for (; p < end; p++) {
            if (ix < columns)
                for (int c = 0; c < 8; c++) packed[((iy + top) * wp + left + ix) * 8 + c] = source[c][p];
            if (++ix == w) {
                ix = 0;
                iy++;
            }
        }
    }

    // Bands of output rows, each row eight positions at a time (then four, then one),
    // [position][channel]; each band then transposed back into the block's planes, eight
    // positions at a time. The three position loops are the register blocking, written out on
    // purpose: one inline helper taking the count as a constant measured 2–5% slower.
    const convsweep_v8 *pw = (const convsweep_v8 *)packedWeights;
    convsweep_v8 *bandv = (convsweep_v8 *)bandBuffer;
    for (long first = 0; first < oh; first += band) {
        const long last = first + band < oh ? first + band : oh;
        for (long oy = first; oy < last; oy++) {
            convsweep_v8 *rowv = bandv + (oy - first) * ow;
            long ox = 0;
            for (; ox + 8 <= ow; ox += 8) {
                convsweep_v8 a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
                for (long i = 0; i < kh; i++) {
                    const convsweep_v8 *in = packedv + (oy * sh + i * dh) * wp + ox * sw;
                    for (long j = 0; j < kw; j++) {
                        const convsweep_v8 wv = pw[i * kw + j];
                        const convsweep_v8 *q = in + j * dw;
                        a0 += wv * q[0];
                        a1 += wv * q[sw];
                        a2 += wv * q[2 * sw];
                        a3 += wv * q[3 * sw];
                        a4 += wv * q[4 * sw];
                        a5 += wv * q[5 * sw];
                        a6 += wv * q[6 * sw];
                        a7 += wv * q[7 * sw];
                    }
                }
                rowv[ox] = a0;
                rowv[ox + 1] = a1;
                rowv[ox + 2] = a2;
                rowv[ox + 3] = a3;
                rowv[ox + 4] = a4;
                rowv[ox + 5] = a5;
                rowv[ox + 6] = a6;
                rowv[ox + 7] = a7;
            }
            for (; ox + 4 <= ow; ox += 4) {
                convsweep_v8 a0 = zero, a1 = zero, a2 = zero, a3 = zero;
                for (long i = 0; i < kh; i++) {
                    const convsweep_v8 *in = packedv + (oy * sh + i * dh) * wp + ox * sw;
                    for (long j = 0; j < kw; j++) {
                        const convsweep_v8 wv = pw[i * kw + j];
                        const convsweep_v8 *q = in + j * dw;
                        a0 += wv * q[0];
                        a1 += wv * q[sw];
                        a2 += wv * q[2 * sw];
                        a3 += wv * q[3 * sw];
                    }
                }
                rowv[ox] = a0;
                rowv[ox + 1] = a1;
                rowv[ox + 2] = a2;
                rowv[ox + 3] = a3;
            }
            for (; ox < ow; ox++) {
                convsweep_v8 a = zero;
                for (long i = 0; i < kh; i++) {
                    const convsweep_v8 *in = packedv + (oy * sh + i * dh) * wp + ox * sw;
                    for (long j = 0; j < kw; j++) a += pw[i * kw + j] * in[j * dw];
                }
                rowv[ox] = a;
            }
        }
        float *target = output + first * ow;
        const long count = (last - first) * ow;
        long x = 0;
        for (; x + 8 <= count; x += 8) {
            convsweep_v8 v[8];
            for (int k = 0; k < 8; k++) v[k] = bandv[x + k];
            convsweep_transpose8(v);
            for (int c = 0; c < channels; c++) *(convsweep_v8u *)(target + c * outPlane + x) = v[c];
        }
        for (; x < count; x++)
            for (int c = 0; c < channels; c++) target[c * outPlane + x] = bandBuffer[x * 8 + c];
    }
}
