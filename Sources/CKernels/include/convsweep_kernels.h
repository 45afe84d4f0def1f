// Inner loops of convsweep's own kernels, in C so that the compiler can build one clone per
// instruction set (x86-64-v4 with AVX-512, x86-64-v3 with AVX2 and FMA, baseline) and the loader
// pick the CPU's at run time (`target_clones`): Swift compiles for baseline x86-64 (SSE2) only.
#ifndef CONVSWEEP_KERNELS_H
#define CONVSWEEP_KERNELS_H

/// The geometry of a depthwise layer for the channel-blocked kernel. The packed input is the
/// padded input rows and columns the taps reach: packed row r is input row r - pad_top, packed
/// column q input column q - pad_left (zeros outside the image).
struct convsweep_depthwise_geometry {
    long height, width, out_height, out_width;
    long kernel_height, kernel_width, stride_height, stride_width, dilation_height, dilation_width;
    long pad_top, pad_left;
    /// (out_height - 1) * stride_height + (kernel_height - 1) * dilation_height + 1, and alike.
    long packed_height, packed_width;
};

/// Channels per block of the channel-blocked depthwise kernel.
#define CONVSWEEP_DEPTHWISE_BLOCK 8

/// Floats of scratch convsweep_depthwise_blocked needs: the packed input
/// [packed_height][packed_width][8], the packed weights [taps][8], a band of output rows (about
/// 2,048 positions) [position][8].
long convsweep_depthwise_blocked_scratch(const struct convsweep_depthwise_geometry *g);

/// One block of up to 8 output channels of a depthwise convolution, channel-blocked as the
/// frameworks compute it: the block's input planes packed once into [row][column][8 channels]
/// (8x8 transposes, zeros for the padding), every output position then 8 channels wide, eight
/// positions at a time, tap by tap; each band of output rows transposed back into the block's NCHW
/// planes. `output` points at the block's first output channel plane (planes out_height*out_width
/// apart), `weights` at its taps ([channel][taps]); output channel c of the block reads input
/// channel (phase + c) / multiplier counted from `input` (planes height*width apart): for a
/// multiplier m and a block starting at output channel o, `input` is input channel o / m and
/// `phase` o mod m. `channels` is 1...8 (the lanes beyond it are computed with zero weights and
/// not stored). `scratch` is convsweep_depthwise_blocked_scratch floats, 32-byte aligned.
void convsweep_depthwise_blocked(float *output, const float *input, const float *weights, int channels,
                                 long multiplier, long phase, const struct convsweep_depthwise_geometry *g,
                                 float *scratch);

/// The instruction set whose clone of the depthwise kernels runs on this CPU: "x86-64-v4"
/// (AVX-512), "x86-64-v3" (AVX2 and FMA) or "baseline".
const char *convsweep_kernels_isa(void);

#endif
