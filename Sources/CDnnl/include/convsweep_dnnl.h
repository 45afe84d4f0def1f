// A small C interface to oneDNN 2.x forward convolutions for convsweep (the 2.x C API: operation
// descriptors, dnnl_dilated_convolution_forward_desc_init, dnnl_inner_product_forward_desc_init,
// the primitive-descriptor iterator). Float32; any stride, padding, dilation and groups; NCHW
// input and output, OIHW (GOIHW) weights on the user side; a fully-connected layer as an inner
// product of N rows.
#ifndef CONVSWEEP_DNNL_H
#define CONVSWEEP_DNNL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What convsweep asks oneDNN for.
typedef enum {
    /// Direct convolution, every layout left to oneDNN (format_tag any): what it prefers.
    CONVSWEEP_DNNL_DIRECT = 0,
    /// Direct convolution with NCHW activations and OIHW weights kept.
    CONVSWEEP_DNNL_DIRECT_NCHW = 1,
    /// Winograd convolution, layouts left to oneDNN; refused where oneDNN has none.
    CONVSWEEP_DNNL_WINOGRAD = 2,
} convsweep_dnnl_algorithm;

/// A prepared convolution: engine, stream, primitive and its memories.
typedef struct convsweep_dnnl_conv convsweep_dnnl_conv;

/// The layer: an N×C×H×W input, OC×(C/groups)×KH×KW weights, an N×OC×OH×OW output.
typedef struct {
    long n, c, h, w, oc, kh, kw;
    long stride_h, stride_w;
    /// convsweep's convention: 1 is adjacent taps (oneDNN's dilation is one less).
    long dilation_h, dilation_w;
    long pad_top, pad_left, pad_bottom, pad_right;
    long groups;
    long oh, ow;
    /// Non-zero: an inner product of N rows × C features into N × OC (h, w, kh, kw are 1).
    int fully_connected;
} convsweep_dnnl_layer;

/// Prepares the forward-inference primitive of `layer` with `algorithm`, computing from `input`
/// (NCHW) and `weights` (OIHW, GOIHW with groups) into `output` (NCHW); the buffers are the
/// caller's and must outlive the primitive. Returns NULL and writes a message into `error` when
/// oneDNN provides no implementation.
convsweep_dnnl_conv *convsweep_dnnl_create(const convsweep_dnnl_layer *layer, convsweep_dnnl_algorithm algorithm,
                                           const float *input, const float *weights, float *output, char *error,
                                           size_t error_size);

/// Frees everything the convolution holds (not the caller's buffers).
void convsweep_dnnl_destroy(convsweep_dnnl_conv *conv);

/// Copies the caller's weights (OIHW) into the primitive's weight layout; call after the weights
/// change (once: a framework reorders its weights once, not per call). Returns 0 on success.
int convsweep_dnnl_load_weights(convsweep_dnnl_conv *conv);

/// One forward pass: input reorder (when the primitive's source layout is not NCHW), the
/// convolution, output reorder (likewise), waiting for the stream. Writes the seconds of the two
/// reorders together and of the convolution. Returns 0 on success.
int convsweep_dnnl_run(convsweep_dnnl_conv *conv, double *reorder_seconds, double *compute_seconds);

/// The same work as `repetitions` calls of convsweep_dnnl_run, timed here in C around each call
/// (reorders, primitive, waits) with nothing else: the bare call a benchmark compares convsweep's
/// own timing with. Writes each call's seconds into `seconds`. Returns 0 on success.
int convsweep_dnnl_bare_seconds(convsweep_dnnl_conv *conv, int repetitions, double *seconds);

/// The implementation oneDNN chose (dnnl_query_impl_info_str), e.g. "brg:avx512_core".
const char *convsweep_dnnl_implementation(const convsweep_dnnl_conv *conv);
/// The source, weight and destination layouts, as oneDNN-style tags ("abcd" is NCHW, "acdb"
/// NHWC, "aBcd16b" channel-blocked).
const char *convsweep_dnnl_source_layout(const convsweep_dnnl_conv *conv);
const char *convsweep_dnnl_weights_layout(const convsweep_dnnl_conv *conv);
const char *convsweep_dnnl_destination_layout(const convsweep_dnnl_conv *conv);

/// oneDNN's version, "2.6.3 (commit …)", and the instruction set it dispatches to, "avx512_core".
const char *convsweep_dnnl_version(void);
const char *convsweep_dnnl_isa(void);

/// The OpenMP team size every later primitive runs with (omp_set_num_threads): set before the
/// first primitive, so that --threads holds whatever OMP_NUM_THREADS said when the library loaded.
void convsweep_dnnl_set_threads(int threads);

/// Binds thread t of oneDNN's OpenMP team of `count` threads to PU `units[t]` (the calling thread
/// is thread 0); the number of threads that could not be bound, -1 without libgomp.
int convsweep_dnnl_pin_team(const int *units, int count);
/// omp_get_max_threads().
int convsweep_dnnl_max_threads(void);
/// A part of a parallel task: `context` as given, this thread's number and the team's size.
typedef void (*convsweep_dnnl_task)(void *context, int thread, int threads);
/// Runs `task` on each thread of an OpenMP team of `threads` (libgomp's, oneDNN's runtime: the
/// team convsweep_dnnl_pin_team bound), the calling thread as thread 0, and returns when every
/// part has. -1 when libgomp is not loaded (nothing run).
int convsweep_dnnl_parallel(convsweep_dnnl_task task, void *context, int threads);

#ifdef __cplusplus
}
#endif
#endif
