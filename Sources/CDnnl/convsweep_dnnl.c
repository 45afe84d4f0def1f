#define _GNU_SOURCE
#include <sched.h>
#include "convsweep_dnnl.h"

#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// The OpenMP runtime oneDNN was built with (libgomp) is loaded with it; its entry points are
// looked up at run time, so that neither omp.h nor a libgomp.so to link against is needed.
static void *openmp(const char *name) {
    dnnl_version();  // the library, and its OpenMP runtime, are loaded
    return dlsym(RTLD_DEFAULT, name);
}

struct convsweep_dnnl_conv {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_t conv;
    dnnl_primitive_t source_reorder;       // user NCHW -> primitive source, or NULL
    dnnl_primitive_t weights_reorder;      // user OIHW -> primitive weights, or NULL
    dnnl_primitive_t destination_reorder;  // primitive destination -> user NCHW, or NULL
    dnnl_memory_t user_source, user_weights, user_destination;
    dnnl_memory_t source, weights, destination, scratchpad;
    char implementation[128];
    char source_layout[64], weights_layout[64], destination_layout[64];
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// A oneDNN-style tag of a blocked layout: dimensions outermost first by stride ("acdb" is NHWC),
// upper case where the dimension is also blocked, then the inner blocks ("aBcd16b").
static void layout_tag(const dnnl_memory_desc_t *md, char *out, size_t size) {
    if (md->format_kind != dnnl_blocked) {
        snprintf(out, size, "%s", md->format_kind == dnnl_format_kind_wino ? "winograd" : "opaque");
        return;
    }
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    int order[DNNL_MAX_NDIMS];
    int nd = md->ndims;
    for (int i = 0; i < nd; i++) order[i] = i;
    for (int i = 0; i < nd; i++)  // stable sort by stride, descending
        for (int j = i + 1; j < nd; j++)
            if (b->strides[order[j]] > b->strides[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    size_t used = 0;
    for (int i = 0; i < nd && used + 1 < size; i++) {
        int blocked = 0;
        for (int k = 0; k < b->inner_nblks; k++) blocked |= b->inner_idxs[k] == order[i];
        out[used++] = (char)((blocked ? 'A' : 'a') + order[i]);
    }
    for (int k = 0; k < b->inner_nblks && used + 1 < size; k++)
        used += (size_t)snprintf(out + used, size - used, "%lld%c", (long long)b->inner_blks[k],
                                 (char)('a' + b->inner_idxs[k]));
    out[used < size ? used : size - 1] = 0;
}

static void fail(char *error, size_t size, const char *what, dnnl_status_t status) {
    if (error && size) snprintf(error, size, "%s (oneDNN status %d)", what, (int)status);
}

void convsweep_dnnl_destroy(convsweep_dnnl_conv *c) {
    if (!c) return;
    dnnl_primitive_t primitives[] = {c->conv, c->source_reorder, c->weights_reorder, c->destination_reorder};
    for (size_t i = 0; i < sizeof primitives / sizeof *primitives; i++)
        if (primitives[i]) dnnl_primitive_destroy(primitives[i]);
    dnnl_memory_t memories[] = {c->user_source, c->user_weights, c->user_destination, c->source,
                                c->weights, c->destination, c->scratchpad};
    for (size_t i = 0; i < sizeof memories / sizeof *memories; i++)
        if (memories[i] && (i < 3 || (memories[i] != c->user_source && memories[i] != c->user_weights &&
                                      memories[i] != c->user_destination)))
            dnnl_memory_destroy(memories[i]);
    if (c->stream) dnnl_stream_destroy(c->stream);
    if (c->engine) dnnl_engine_destroy(c->engine);
    free(c);
}

// A reorder from `from` to `to` on the engine, or NULL when the layouts are the same.
static dnnl_status_t make_reorder(convsweep_dnnl_conv *c, dnnl_memory_t from, dnnl_memory_t to,
                                  dnnl_primitive_t *out) {
    const dnnl_memory_desc_t *a, *b;
    dnnl_memory_get_memory_desc(from, &a);
    dnnl_memory_get_memory_desc(to, &b);
    *out = NULL;
    if (dnnl_memory_desc_equal(a, b)) return dnnl_success;
    dnnl_primitive_desc_t pd;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, a, c->engine, b, c->engine, NULL);
    if (s != dnnl_success) return s;
    s = dnnl_primitive_create(out, pd);
    dnnl_primitive_desc_destroy(pd);
    return s;
}

// The primitive's memory for `md`: the user's memory when the layouts agree, else a new buffer.
static dnnl_status_t memory_for(convsweep_dnnl_conv *c, const dnnl_memory_desc_t *md, dnnl_memory_t user,
                                dnnl_memory_t *out) {
    const dnnl_memory_desc_t *user_md;
    dnnl_memory_get_memory_desc(user, &user_md);
    if (dnnl_memory_desc_equal(md, user_md)) {
        *out = user;
        return dnnl_success;
    }
    return dnnl_memory_create(out, md, c->engine, DNNL_MEMORY_ALLOCATE);
}

convsweep_dnnl_conv *convsweep_dnnl_create(const convsweep_dnnl_layer *l, convsweep_dnnl_algorithm algorithm,
                                           const float *input, const float *weights, float *output, char *error,
                                           size_t error_size) {
    convsweep_dnnl_conv *c = calloc(1, sizeof *c);
    if (!c) {
        fail(error, error_size, "out of memory", dnnl_out_of_memory);
        return NULL;
    }
    dnnl_status_t s = dnnl_engine_create(&c->engine, dnnl_cpu, 0);
    if (s == dnnl_success) s = dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags);
    if (s != dnnl_success) {
        fail(error, error_size, "cannot create oneDNN's CPU engine", s);
        convsweep_dnnl_destroy(c);
        return NULL;
    }
    int plain = algorithm == CONVSWEEP_DNNL_DIRECT_NCHW;
    dnnl_memory_desc_t user_src, user_wei, user_dst, src_md, wei_md, dst_md;
    dnnl_convolution_desc_t conv_desc;
    dnnl_inner_product_desc_t ip_desc;
    const_dnnl_op_desc_t desc;
    if (l->fully_connected) {
        dnnl_dims_t src_dims = {l->n, l->c}, wei_dims = {l->oc, l->c}, dst_dims = {l->n, l->oc};
        dnnl_memory_desc_init_by_tag(&user_src, 2, src_dims, dnnl_f32, dnnl_nc);
        dnnl_memory_desc_init_by_tag(&user_wei, 2, wei_dims, dnnl_f32, dnnl_oi);
        dnnl_memory_desc_init_by_tag(&user_dst, 2, dst_dims, dnnl_f32, dnnl_nc);
        dnnl_memory_desc_init_by_tag(&src_md, 2, src_dims, dnnl_f32, plain ? dnnl_nc : dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&wei_md, 2, wei_dims, dnnl_f32, plain ? dnnl_oi : dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&dst_md, 2, dst_dims, dnnl_f32, dnnl_nc);
        s = dnnl_inner_product_forward_desc_init(&ip_desc, dnnl_forward_inference, &src_md, &wei_md, NULL, &dst_md);
        desc = &ip_desc;
    } else {
        dnnl_dims_t src_dims = {l->n, l->c, l->h, l->w}, dst_dims = {l->n, l->oc, l->oh, l->ow};
        dnnl_dims_t wei_dims = {l->oc, l->c, l->kh, l->kw};
        dnnl_dims_t group_dims = {l->groups, l->oc / l->groups, l->c / l->groups, l->kh, l->kw};
        int grouped = l->groups > 1;
        dnnl_memory_desc_init_by_tag(&user_src, 4, src_dims, dnnl_f32, dnnl_nchw);
        dnnl_memory_desc_init_by_tag(&user_dst, 4, dst_dims, dnnl_f32, dnnl_nchw);
        dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, plain ? dnnl_nchw : dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, plain ? dnnl_nchw : dnnl_format_tag_any);
        if (grouped) {
            dnnl_memory_desc_init_by_tag(&user_wei, 5, group_dims, dnnl_f32, dnnl_goihw);
            dnnl_memory_desc_init_by_tag(&wei_md, 5, group_dims, dnnl_f32, plain ? dnnl_goihw : dnnl_format_tag_any);
        } else {
            dnnl_memory_desc_init_by_tag(&user_wei, 4, wei_dims, dnnl_f32, dnnl_oihw);
            dnnl_memory_desc_init_by_tag(&wei_md, 4, wei_dims, dnnl_f32, plain ? dnnl_oihw : dnnl_format_tag_any);
        }
        dnnl_dims_t strides = {l->stride_h, l->stride_w}, dilates = {l->dilation_h - 1, l->dilation_w - 1};
        dnnl_dims_t padding_l = {l->pad_top, l->pad_left}, padding_r = {l->pad_bottom, l->pad_right};
        dnnl_alg_kind_t kind =
            algorithm == CONVSWEEP_DNNL_WINOGRAD ? dnnl_convolution_winograd : dnnl_convolution_direct;
        s = dnnl_dilated_convolution_forward_desc_init(&conv_desc, dnnl_forward_inference, kind, &src_md, &wei_md,
                                                       NULL, &dst_md, strides, dilates, padding_l, padding_r);
        desc = &conv_desc;
    }
    if (s != dnnl_success) {
        fail(error, error_size,
             l->fully_connected ? "oneDNN refuses the inner-product descriptor"
                                : "oneDNN refuses the convolution descriptor",
             s);
        convsweep_dnnl_destroy(c);
        return NULL;
    }
    // The first implementation of the iterator is oneDNN's own preference; a scratchpad the
    // user owns keeps every call's allocation out of the timing.
    dnnl_primitive_attr_t attr;
    dnnl_primitive_attr_create(&attr);
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_primitive_desc_iterator_t it;
    s = dnnl_primitive_desc_iterator_create(&it, desc, attr, c->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) {
        fail(error, error_size,
             algorithm == CONVSWEEP_DNNL_WINOGRAD
                 ? "oneDNN provides no Winograd implementation for this shape on this CPU"
                 : "oneDNN provides no implementation of this convolution",
             s);
        convsweep_dnnl_destroy(c);
        return NULL;
    }
    dnnl_primitive_desc_t pd = dnnl_primitive_desc_iterator_fetch(it);
    dnnl_primitive_desc_iterator_destroy(it);
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(c->implementation, sizeof c->implementation, "%s", impl ? impl : "unknown");
    const dnnl_memory_desc_t *p_src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *p_wei = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *p_dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *p_pad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    layout_tag(p_src, c->source_layout, sizeof c->source_layout);
    layout_tag(p_wei, c->weights_layout, sizeof c->weights_layout);
    layout_tag(p_dst, c->destination_layout, sizeof c->destination_layout);

    s = dnnl_memory_create(&c->user_source, &user_src, c->engine, (void *)input);
    if (s == dnnl_success) s = dnnl_memory_create(&c->user_weights, &user_wei, c->engine, (void *)weights);
    if (s == dnnl_success) s = dnnl_memory_create(&c->user_destination, &user_dst, c->engine, output);
    if (s == dnnl_success) s = memory_for(c, p_src, c->user_source, &c->source);
    if (s == dnnl_success) s = memory_for(c, p_wei, c->user_weights, &c->weights);
    if (s == dnnl_success) s = memory_for(c, p_dst, c->user_destination, &c->destination);
    if (s == dnnl_success && p_pad && dnnl_memory_desc_get_size(p_pad) > 0)
        s = dnnl_memory_create(&c->scratchpad, p_pad, c->engine, DNNL_MEMORY_ALLOCATE);
    if (s == dnnl_success) s = dnnl_primitive_create(&c->conv, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s == dnnl_success) s = make_reorder(c, c->user_source, c->source, &c->source_reorder);
    if (s == dnnl_success) s = make_reorder(c, c->user_weights, c->weights, &c->weights_reorder);
    if (s == dnnl_success) s = make_reorder(c, c->destination, c->user_destination, &c->destination_reorder);
    if (s != dnnl_success) {
        fail(error, error_size, "cannot create the oneDNN primitives or memories", s);
        convsweep_dnnl_destroy(c);
        return NULL;
    }
    return c;
}

static dnnl_status_t reorder(convsweep_dnnl_conv *c, dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to) {
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    return dnnl_primitive_execute(r, c->stream, 2, args);
}

// The convolution primitive on the prepared memories (not waited for).
static dnnl_status_t convolve(convsweep_dnnl_conv *c) {
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, c->source}, {DNNL_ARG_WEIGHTS, c->weights},
                               {DNNL_ARG_DST, c->destination}, {DNNL_ARG_SCRATCHPAD, c->scratchpad}};
    return dnnl_primitive_execute(c->conv, c->stream, c->scratchpad ? 4 : 3, args);
}

int convsweep_dnnl_load_weights(convsweep_dnnl_conv *c) {
    if (!c->weights_reorder) return 0;
    dnnl_status_t s = reorder(c, c->weights_reorder, c->user_weights, c->weights);
    if (s == dnnl_success) s = dnnl_stream_wait(c->stream);
    return s == dnnl_success ? 0 : (int)s;
}

int convsweep_dnnl_run(convsweep_dnnl_conv *c, double *reorder_seconds, double *compute_seconds) {
    double t0 = now();
    dnnl_status_t s = dnnl_success;
    if (c->source_reorder) s = reorder(c, c->source_reorder, c->user_source, c->source);
    if (s == dnnl_success && c->source_reorder) s = dnnl_stream_wait(c->stream);
    double t1 = now();
    if (s == dnnl_success) s = convolve(c);
    if (s == dnnl_success) s = dnnl_stream_wait(c->stream);
    double t2 = now();
    if (s == dnnl_success && c->destination_reorder)
        s = reorder(c, c->destination_reorder, c->destination, c->user_destination);
    if (s == dnnl_success && c->destination_reorder) s = dnnl_stream_wait(c->stream);
    double t3 = now();
    if (reorder_seconds)
        *reorder_seconds = (c->source_reorder ? t1 - t0 : 0) + (c->destination_reorder ? t3 - t2 : 0);
    if (compute_seconds) *compute_seconds = t2 - t1;
    return s == dnnl_success ? 0 : (int)s;
}

int convsweep_dnnl_bare_seconds(convsweep_dnnl_conv *c, int repetitions, double *seconds) {
    for (int r = 0; r < repetitions; r++) {
        double t0 = now();
        dnnl_status_t s = dnnl_success;
        if (c->source_reorder) s = reorder(c, c->source_reorder, c->user_source, c->source);
        if (s == dnnl_success) s = convolve(c);
        if (s == dnnl_success && c->destination_reorder)
            s = reorder(c, c->destination_reorder, c->destination, c->user_destination);
        if (s == dnnl_success) s = dnnl_stream_wait(c->stream);
        seconds[r] = now() - t0;
        if (s != dnnl_success) return (int)s;
    }
    return 0;
}

const char *convsweep_dnnl_implementation(const convsweep_dnnl_conv *c) { return c->implementation; }
const char *convsweep_dnnl_source_layout(const convsweep_dnnl_conv *c) { return c->source_layout; }
const char *convsweep_dnnl_weights_layout(const convsweep_dnnl_conv *c) { return c->weights_layout; }
const char *convsweep_dnnl_destination_layout(const convsweep_dnnl_conv *c) { return c->destination_layout; }

const char *convsweep_dnnl_version(void) {
    static char text[96];
    const dnnl_version_t *v = dnnl_version();
    snprintf(text, sizeof text, "%d.%d.%d (commit %s)", v->major, v->minor, v->patch, v->hash);
    return text;
}

const char *convsweep_dnnl_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "unknown";
    }
}

static const int *pin_units;
static int pin_count;
static int pin_failures;

/// Run by each thread of an OpenMP team: binds itself to the PU of its thread number.
static void pin_this_thread(void *unused) {
    (void)unused;
    int (*number)(void) = (int (*)(void))openmp("omp_get_thread_num");
    int thread = number ? number() : 0;
    if (thread >= pin_count) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pin_units[thread], &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) __atomic_add_fetch(&pin_failures, 1, __ATOMIC_SEQ_CST);
}

int convsweep_dnnl_pin_team(const int *units, int count) {
    // GOMP_parallel is what `#pragma omp parallel` compiles to with libgomp, oneDNN's runtime: a
    // team of `count` threads, each binding itself; libgomp keeps the team for later regions.
    void (*parallel)(void (*)(void *), void *, unsigned, unsigned) =
        (void (*)(void (*)(void *), void *, unsigned, unsigned))openmp("GOMP_parallel");
    if (!parallel) return -1;
    pin_units = units;
    pin_count = count;
    pin_failures = 0;
    parallel(pin_this_thread, NULL, (unsigned)count, 0);
    return pin_failures;
}

struct parallel_call {
    convsweep_dnnl_task task;
    void *context;
};

static int (*thread_number)(void);
static int (*team_size)(void);
static void (*gomp_parallel)(void (*)(void *), void *, unsigned, unsigned);

static void run_part(void *data) {
    struct parallel_call *call = data;
    call->task(call->context, thread_number(), team_size());
}

int convsweep_dnnl_parallel(convsweep_dnnl_task task, void *context, int threads) {
    if (!gomp_parallel) {
        thread_number = (int (*)(void))openmp("omp_get_thread_num");
        team_size = (int (*)(void))openmp("omp_get_num_threads");
        gomp_parallel = (void (*)(void (*)(void *), void *, unsigned, unsigned))openmp("GOMP_parallel");
    }
    if (!gomp_parallel || !thread_number || !team_size) return -1;
    struct parallel_call call = {task, context};
    gomp_parallel(run_part, &call, (unsigned)threads, 0);
    return 0;
}

void convsweep_dnnl_set_threads(int threads) {
    void (*set)(int) = (void (*)(int))openmp("omp_set_num_threads");
    if (set) set(threads);
}

int convsweep_dnnl_max_threads(void) {
    int (*get)(void) = (int (*)(void))openmp("omp_get_max_threads");
    return get ? get() : 1;
}
