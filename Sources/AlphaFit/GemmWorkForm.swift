import ConvKernels

/// Which form of the gemm-work model a fit uses: the constants of how it counts OpenBLAS's work,
/// recorded in the fit's options (and, as held parameters, in every group's fit), so a fit or a
/// package written by an earlier convsweep is refitted and predicts as it was.
public enum GemmWorkForm: Int, Codable, CaseIterable, Sendable {
    /// 0.14.0–0.15.0: the small-matrix kernel's FLOPs as the calls have them, no dot-path bytes,
    /// no exposed output. What options without a form read as.
    case smallFlops = 1
    /// 0.16.0: the small-matrix kernel's FLOPs over its 16-lane vectors, padding included, and the
    /// bytes its dot path re-reads (``ConvKernels/SmallKernelWork``); the output bytes of shallow
    /// calls (k below 128) as exposed traffic
    /// (``ConvKernels/KernelWork/exposedOutputBytes(depth:limit:fromLevel:)``).
    case vectors = 2
    /// 0.17.0: and the weights the packed path copies into its buffer from memory at a rate of
    /// their own (``ConvKernels/KernelWork/packedWeightBytesFromMemory(limit:)``); the exposed
    /// output only of calls whose output lies beyond the level-2 cache.
    case packedWeights = 3
    /// 0.18.0: and the activation operand of narrow packed calls as exposed traffic, at the
    /// exposed output's rate (``ConvKernels/KernelWork/exposedActivationBytes(width:limit:)``).
    case exposedActivations = 4

    /// The form new fits use.
    public static let current = GemmWorkForm.exposedActivations

    /// The small-matrix kernel's vector width in floats (1: its FLOPs as they are).
    public var lanes: Int { self == .smallFlops ? 1 : ConvKernels.SmallKernelWork.lanes }

    /// The depth k at which a call's output traffic is hidden behind its FMAs (0: never exposed).
    /// 128, from the Zen 4 measurement ``ConvKernels/KernelWork/exposedOutputBytes(depth:limit:fromLevel:)``
    /// cites (half the shallow calls' cost left at k = 64, none by 200), not from a fit's scores.
    public var exposureDepth: Int { self == .smallFlops ? 0 : 128 }

    /// The cache level from which a call's output counts as exposed (0: every call's; 1: only
    /// outputs beyond the level-2 cache, which holds the others' traffic: measured on Zen 4, a
    /// quarter or less of the cost; ``ConvKernels/KernelWork/exposedOutputBytes(depth:limit:fromLevel:)``).
    public var exposureLevel: Int { rawValue >= GemmWorkForm.packedWeights.rawValue ? 1 : 0 }

    /// The width n (output channels) at which a packed call's copy of its activation operand
    /// is hidden behind its FMAs (0: never exposed). 256, from the Zen 4 measurement
    /// ``ConvKernels/KernelWork/exposedActivationBytes(width:limit:)`` cites (a quarter of the
    /// narrow calls' cost left at n = 300, none at 550), not from a fit's scores.
    public var activationExposureWidth: Int { self == .exposedActivations ? 256 : 0 }
}

extension GemmWorkForm {
    /// The form's constants by their index in the gemm-work parameter vector
    /// (``GemmWorkModel/formConstants``): what a fit of this form holds them at.
    var constants: [Int: Double] {
        [
            GemmWorkModel.smallKernelLanes: Double(lanes), GemmWorkModel.outputExposureDepth: Double(exposureDepth),
            GemmWorkModel.outputExposureLevel: Double(exposureLevel),
            GemmWorkModel.activationExposureWidth: Double(activationExposureWidth),
        ]
    }
}
