// swift-tools-version:6.1
import PackageDescription

/// convsweep: measure what convolution layers cost on a CPU and refit alpha-FLOPs to it.
///
/// Stages run in one direction, each its own module (docs/architecture.md):
///
///     Basics → ConvKernels → Sweeps → Rows → Measurement → Runner → Analysis ─┐
///                                      └──────────→ AlphaFit ─────────────────┴→ Replication
///                                                                   → Orchestration → convsweep
///
/// Basics (clock, random generator, hashing, CSV writing) is imported by every module.
///
/// The trait `OneDNN` (on by default) builds the second backend, oneDNN's convolutions (Debian's
/// libdnnl-dev 2.6); `swift build --disable-default-traits` builds convsweep without it.
/// The reading, fitting and verifying stages are compiled optimised in debug builds too: reading
/// a package's rows, refitting it and recomputing its tables (`verify-package`, the model table's
/// folds) ran four times slower unoptimised, and the test suite, built for debug, does them
/// dozens of times; ConvKernels too, whose `KernelWork` the gemm-work model evaluates at every
/// step of every fit. Breakpoints in these modules want `swift build -c release -Xswiftc -g`.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "convsweep",
    products: [
        .executable(name: "convsweep", targets: ["convsweep"])
    ],
    traits: [
        .trait(name: "OneDNN", description: "The oneDNN backend (libdnnl-dev 2.x): dnnl-* algorithms."),
        .default(enabledTraits: ["OneDNN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.0"),
    ],
    targets: [
        // System libraries, imported through a shim header.
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CHwloc", path: "Sources/CHwloc", pkgConfig: "hwloc",
            providers: [.apt(["libhwloc-dev"])]),
        // SHA-256 (sweep hashes, checksums, the executable's digest) from OpenSSL's libcrypto.
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),

        // The inner loops of convsweep's own kernels, one clone per instruction set.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // oneDNN 2.x forward convolutions behind a small C interface (links libdnnl).
        .target(name: "CDnnl", path: "Sources/CDnnl", linkerSettings: [.linkedLibrary("dnnl")]),

        // Shared helpers, one place each: clock, random generator, hashing, CSV writing, system
        // files and memory, the build's version and commit.
        .target(name: "Basics", dependencies: ["COpenSSL"]),
        // conv2d on OpenBLAS and on oneDNN, and the accounting of a configuration.
        .target(
            name: "ConvKernels",
            dependencies: [
                "Basics", "COpenBLAS", "CKernels", .target(name: "CDnnl", condition: .when(traits: ["OneDNN"])),
            ],
            swiftSettings: [.define("ONEDNN", .when(traits: ["OneDNN"]))] + optimisedInDebug),
        // Sweep files → configurations.
        .target(
            name: "Sweeps",
            dependencies: ["Basics", "ConvKernels", .product(name: "Yams", package: "Yams")]),
        // The row model of a measured configuration, its reader and writer (measurements.csv,
        // rounds.csv, a package's data): what every later stage reads, with no hwloc below it.
        .target(
            name: "Rows",
            dependencies: ["Basics", "ConvKernels", "Sweeps", .product(name: "CSV", package: "CSV.swift")],
            swiftSettings: optimisedInDebug),
        // hwloc binding, clock, stop rule, environment.
        .target(name: "Measurement", dependencies: ["Basics", "ConvKernels", "CHwloc", "Rows"]),
        // Run directories: manifest.json, topology.xml, measurements.csv; append-only, resumable.
        .target(name: "Runner", dependencies: ["Basics", "ConvKernels", "Measurement", "Rows", "Sweeps"]),
        // The alpha-FLOPs model, bounded Levenberg–Marquardt, diagnostics.
        .target(
            name: "AlphaFit",
            dependencies: [
                "Basics", "COpenBLAS", "ConvKernels", "Rows", "Sweeps",
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: optimisedInDebug),
        // Analyses of measured runs: how FLOPs rank configurations, what a network costs.
        .target(
            name: "Analysis", dependencies: ["Basics", "ConvKernels", "Rows", "Sweeps"], swiftSettings: optimisedInDebug
        ),
        // The replication package.
        .target(
            name: "Replication",
            dependencies: [
                "Analysis", "Basics", "ConvKernels", "Measurement", "Rows", "Sweeps", "Runner", "AlphaFit",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: optimisedInDebug),
        // Orchestration: the end-to-end `replicate` (measure, package) and its Slurm submission,
        // apart from what a package is.
        .target(
            name: "Orchestration",
            dependencies: ["AlphaFit", "Basics", "Measurement", "Replication", "Runner", "Sweeps"]),
        // The thin command-line front end.
        .executableTarget(
            name: "convsweep",
            dependencies: [
                "Basics", "ConvKernels", "Measurement", "Rows", "Sweeps", "Runner", "AlphaFit", "Replication",
                "Orchestration", "Analysis", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // What the tests share: temporary directories, the repository's files, the built executable.
        .target(name: "TestSupport", dependencies: ["Basics"], path: "Tests/TestSupport"),
        .testTarget(
            name: "ConvKernelsTests",
            dependencies: [
                "Basics", "ConvKernels", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(name: "MeasurementTests", dependencies: ["Basics", "Measurement", "ConvKernels", "TestSupport"]),
        .testTarget(
            name: "SweepsTests",
            dependencies: [
                "Basics", "Sweeps", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(name: "RowsTests", dependencies: ["ConvKernels", "Rows", "Sweeps", "TestSupport"]),
        .testTarget(name: "RunnerTests", dependencies: ["Basics", "Rows", "Runner", "TestSupport"]),
        .testTarget(
            name: "AlphaFitTests",
            dependencies: [
                "AlphaFit", "Basics", "ConvKernels", "Measurement", "Rows", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(
            name: "ReplicationTests",
            dependencies: [
                "AlphaFit", "Basics", "Orchestration", "Replication", "Rows", "Runner", "Sweeps", "TestSupport",
            ]),
        .testTarget(
            name: "AnalysisTests",
            dependencies: ["Analysis", "Basics", "Measurement", "Rows", "Runner", "Sweeps", "TestSupport"]),
        .testTarget(
            name: "CommandLineTests",
            dependencies: [
                "AlphaFit", "Basics", "ConvKernels", "Measurement", "Replication", "Rows", "Runner", "TestSupport",
            ]),
    ],
    swiftLanguageModes: [.v6]
)
