import Basics

#if ONEDNN
    import CDnnl
#endif

/// Facts about, and settings of, the oneDNN library of the second backend (the `dnnl-*`
/// algorithms). convsweep is built with it by default (the package trait `OneDNN`); built
/// without it, ``isAvailable`` is false and those algorithms are refused with the reason.
public enum OneDNN {
    /// Whether this build has the oneDNN backend.
    public static var isAvailable: Bool {
        #if ONEDNN
            return true
        #else
            return false
        #endif
    }

    /// The library's version, e.g. `2.6.3 (commit N/A)`; nil without the backend.
    public static var version: String? {
        #if ONEDNN
            return String(cString: convsweep_dnnl_version())
        #else
            return nil
        #endif
    }

    /// The instruction set oneDNN dispatches to on this CPU, e.g. `avx2` or `avx512_core`.
    public static var isa: String? {
        #if ONEDNN
            return String(cString: convsweep_dnnl_isa())
        #else
            return nil
        #endif
    }

    /// Sets the OpenMP team every later oneDNN primitive runs with (`omp_set_num_threads`):
    /// oneDNN's OpenMP runtime sized its team from `OMP_NUM_THREADS` and the process's CPUs when
    /// it loaded, before any pinning, so `--threads` must be applied explicitly. No effect
    /// without the backend.
    public static func setThreadCount(_ count: Int) {
        #if ONEDNN
            convsweep_dnnl_set_threads(Int32(count))
        #endif
    }

    /// The OpenMP team size later primitives get (`omp_get_max_threads`); nil without the backend.
    public static var threadCount: Int? {
        #if ONEDNN
            return Int(convsweep_dnnl_max_threads())
        #else
            return nil
        #endif
    }
}

/// What a oneDNN convolution chose: its implementation and memory layouts.
public struct DnnlChoice: Hashable, Codable, Sendable {
    /// `dnnl_query_impl_info_str`, e.g. `jit:avx2`, `brg:avx512_core`, `x64:gemm:jit`.
    public var implementation: String
    /// The layouts of source, weights and destination as oneDNN-style tags: `abcd` is NCHW
    /// (OIHW for weights), `acdb` NHWC, `aBcd8b` channels blocked by 8.
    public var sourceLayout: String
    /// The weights' layout.
    public var weightsLayout: String
    /// The destination's layout.
    public var destinationLayout: String

    /// The layouts in one field: `src <tag> weights <tag> dst <tag>`.
    public var layouts: String { "src \(sourceLayout) weights \(weightsLayout) dst \(destinationLayout)" }
}

/// One prepared oneDNN forward convolution on a ``Conv2D``'s buffers (NCHW input and output,
/// OIHW weights, GOIHW with groups): the primitive in the layouts its algorithm asks for, with the
/// reorders from and to the plain layouts when those differ. A fully-connected layer is oneDNN's
/// inner product (`dnnl-direct`: layouts left to oneDNN; `dnnl-direct-nchw`: row-major kept).
final class DnnlConvolution {
    #if ONEDNN
        private let handle: OpaquePointer
    #endif
    /// What oneDNN chose.
    let choice: DnnlChoice

    /// Prepares `shape` with `algorithm` (a `dnnl-*` one) on the given buffers.
    init(
        shape: ConvShape, algorithm: ConvAlgorithm, input: UnsafeMutablePointer<Float>,
        weights: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
    ) throws(Conv2DError) {
        #if ONEDNN
            let kind: convsweep_dnnl_algorithm
            switch algorithm {
            case .dnnlDirect: kind = CONVSWEEP_DNNL_DIRECT
            case .dnnlDirectNCHW: kind = CONVSWEEP_DNNL_DIRECT_NCHW
            case .dnnlWinograd: kind = CONVSWEEP_DNNL_WINOGRAD
            default: throw .unsupported(algorithm: algorithm, shape: shape)
            }
            var layer = convsweep_dnnl_layer(
                n: shape.batch, c: shape.inputChannels, h: shape.height, w: shape.width, oc: shape.outputChannels,
                kh: shape.kernelHeight, kw: shape.kernelWidth, stride_h: shape.strideHeight,
                stride_w: shape.strideWidth, dilation_h: shape.dilationHeight, dilation_w: shape.dilationWidth,
                pad_top: shape.padTop, pad_left: shape.padLeft, pad_bottom: shape.padBottom,
                pad_right: shape.padRight, groups: shape.groups, oh: shape.outputHeight, ow: shape.outputWidth,
                fully_connected: shape.kind == .fullyConnected ? 1 : 0)
            var message = [CChar](repeating: 0, count: 256)
            let created = message.withUnsafeMutableBufferPointer { buffer in
                convsweep_dnnl_create(&layer, kind, input, weights, output, buffer.baseAddress, buffer.count)
            }
            guard let created else {
                throw .notProvided(
                    algorithm: algorithm, shape: shape,
                    reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            handle = created
            choice = DnnlChoice(
                implementation: String(cString: convsweep_dnnl_implementation(created)),
                sourceLayout: String(cString: convsweep_dnnl_source_layout(created)),
                weightsLayout: String(cString: convsweep_dnnl_weights_layout(created)),
                destinationLayout: String(cString: convsweep_dnnl_destination_layout(created)))
        #else
            throw .backendMissing(algorithm: algorithm)
        #endif
    }

    deinit {
        #if ONEDNN
            convsweep_dnnl_destroy(handle)
        #endif
    }

    /// Copies the weights into the primitive's layout (after they change).
    func loadWeights() {
        #if ONEDNN
            let status = convsweep_dnnl_load_weights(handle)
            precondition(status == 0, "oneDNN's weight reorder failed (status \(status))")
        #endif
    }

    /// `repetitions` forward passes timed in C around each bare call (no phase timing).
    func bareSeconds(repetitions: Int) -> [Double] {
        #if ONEDNN
            var seconds = [Double](repeating: 0, count: repetitions)
            let status = convsweep_dnnl_bare_seconds(handle, Int32(repetitions), &seconds)
            precondition(status == 0, "oneDNN's convolution failed (status \(status))")
            return seconds
        #else
            return []
        #endif
    }

    /// One forward pass: the layout reorders as the lowering phase, the primitive as the compute phase.
    func run() -> PhaseTimes {
        #if ONEDNN
            var reorder = 0.0
            var compute = 0.0
            let status = convsweep_dnnl_run(handle, &reorder, &compute)
            precondition(status == 0, "oneDNN's convolution failed (status \(status))")
            return PhaseTimes(lowering: reorder, gemm: compute, tiles: 1)
        #else
            return PhaseTimes()
        #endif
    }
}
