// swift-tools-version:6.0
import PackageDescription

/// convsweep: measure what convolution layers cost on a CPU and refit alpha-FLOPs to it.
///
/// Stages run in one direction, each its own module:
/// ConvKernels → Measurement → Sweeps → Runner (run directories) → AlphaFit → Replication.
let package = Package(
    name: "convsweep",
    products: [
        .executable(name: "convsweep", targets: ["convsweep"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
    ],
    targets: [
        // System libraries, imported through a shim header.
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CHwloc", path: "Sources/CHwloc", pkgConfig: "hwloc",
            providers: [.apt(["libhwloc-dev"])]),

        // conv2d on OpenBLAS, and the accounting of a configuration.
        .target(name: "ConvKernels", dependencies: ["COpenBLAS"]),
        // hwloc binding, clock, stop rule, statistics, environment.
        .target(name: "Measurement", dependencies: ["ConvKernels", "CHwloc"]),
        // Sweep files → configurations.
        .target(
            name: "Sweeps",
            dependencies: ["ConvKernels", .product(name: "Yams", package: "Yams")]),
        // Run directories: manifest.json, topology.xml, measurements.csv; append-only, resumable.
        .target(
            name: "Runner",
            dependencies: [
                "ConvKernels", "Measurement", "Sweeps",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The alpha-FLOPs model, bounded Levenberg–Marquardt, diagnostics.
        .target(
            name: "AlphaFit",
            dependencies: [
                "COpenBLAS", "ConvKernels",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The replication package.
        .target(
            name: "Replication",
            dependencies: [
                "ConvKernels", "Measurement", "Sweeps", "Runner", "AlphaFit",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The thin command-line front end.
        .executableTarget(
            name: "convsweep",
            dependencies: [
                "ConvKernels", "Measurement", "Sweeps", "Runner", "AlphaFit", "Replication",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(
            name: "ConvKernelsTests",
            dependencies: [
                "ConvKernels", .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(name: "MeasurementTests", dependencies: ["Measurement", "ConvKernels"]),
        .testTarget(
            name: "SweepsTests",
            dependencies: [
                "Sweeps", .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(name: "RunnerTests", dependencies: ["Runner"]),
        .testTarget(
            name: "AlphaFitTests",
            dependencies: [
                "AlphaFit", .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(name: "ReplicationTests", dependencies: ["Replication", "Runner", "Sweeps"]),
    ],
    swiftLanguageModes: [.v5]
)
