import Basics
import ConvKernels
import Foundation

/// Where a model misses: its held-out errors grouped by what a CPU kernel cares about, so that
/// the structure behind a MAPE shows (issue 40's first step). `convsweep misses PACKAGE`.
///
/// Each row's signed error is predicted ÷ measured − 1 (held out: the prediction of a fit that
/// did not see the row). For every feature the rows are split into buckets — a size a multiple of
/// the register tile or not (4, 8, 16, 32; output channels, output positions Hₒ·Wₒ, the GEMM's
/// depth Cin/groups·K1·K2), the working set (input, weights and output bytes) against each cache
/// level's size, the arithmetic intensity's quartiles, the kernel, the algorithm, the model's
/// group, and (given the run's work setting) whether the layer's sgemm calls are small enough for
/// the small-matrix kernel of OpenBLAS's AVX-512 kernel sets (m·n·k ≤ 10⁶, ``GemmCall/isSmall(limit:)``)
/// — and each bucket gets its count, median signed error and share within ±10%. A
/// feature's **spread** is the largest difference between two of its buckets' median errors
/// (buckets of at least ``minimumBucket`` rows): the features where the model's error moves most
/// with the bucket come first (equal spreads: the larger difference of shares within ±10%).
public struct ModelMisses: Sendable {
    /// One bucket of one feature.
    public struct Bucket: Sendable, Equatable {
        /// The bucket, in words (`multiple of 8`, `≤ L2 (512 KiB)`, `3x3`).
        public var value: String
        /// Rows in it.
        public var count: Int
        /// The median of predicted ÷ measured − 1.
        public var medianError: Double
        /// The share of its rows predicted within ±10%.
        public var withinTenPercent: Double
    }

    /// One feature: its buckets and how far apart their median errors are.
    public struct Feature: Sendable, Equatable {
        /// The feature (`Cout mod 8`, `working set`).
        public var name: String
        /// Its buckets, in their natural order.
        public var buckets: [Bucket]
        /// The largest difference of two median errors among buckets of ``minimumBucket`` rows or
        /// more; 0 when fewer than two such buckets.
        public var spread: Double
        /// The same of the shares within ±10%: which of two features of equal ``spread`` sorts
        /// the model's hits from its misses better.
        public var shareSpread: Double
    }

    /// One row's description: the layer, how it ran, and the two times.
    public struct Row: Sendable {
        /// The layer.
        public var shape: ConvShape
        /// The algorithm that measured it (`im2col-gemm`, `dnnl-direct` …).
        public var algorithm: String
        /// The model's group for it (`K=1`, `K>1`, `grouped`, `FC`).
        public var group: String
        /// Its measured time, ms.
        public var measuredMs: Double
        /// The model's held-out prediction, ms.
        public var predictedMs: Double

        /// A row; see the properties.
        public init(shape: ConvShape, algorithm: String, group: String, measuredMs: Double, predictedMs: Double) {
            self.shape = shape
            self.algorithm = algorithm
            self.group = group
            self.measuredMs = measuredMs
            self.predictedMs = predictedMs
        }
    }

    /// Buckets with fewer rows do not count towards a feature's spread.
    public static let minimumBucket = 5
    /// The register tiles the divisibility features test.
    public static let tiles = [4, 8, 16, 32]

    /// The model.
    public var model: String
    /// Rows analysed.
    public var count: Int
    /// The share of all rows within ±10%.
    public var withinTenPercent: Double
    /// The features, largest spread first.
    public var features: [Feature]

    /// The misses of `model` over `rows`; `caches` are the data cache levels (name and size in
    /// bytes, smallest first) the working set is held against; `setting`, the run's (its
    /// workspace limit sets the sgemm pieces), adds the small-matrix feature.
    public init(model: String, rows: [Row], caches: [(name: String, bytes: Int)], setting: WorkSetting? = nil) {
        self.model = model
        count = rows.count
        let errors = rows.map { $0.predictedMs / $0.measuredMs - 1 }
        // Each row's bytes and intensity, once.
        let accounting = rows.map { Accounting(shape: $0.shape) }
        let workingSets = accounting.map { $0.inputBytes + $0.weightBytes + $0.outputBytes }
        let intensity = accounting.map(\.arithmeticIntensity)
        withinTenPercent = Self.share(errors)
        // Each feature: its name, its buckets' order, and the bucket of row i.
        var features: [(String, [String], (Int) -> String)] = []
        for tile in Self.tiles {
            func divisible(_ n: Int) -> String { n % tile == 0 ? "multiple of \(tile)" : "not a multiple" }
            features.append(
                (
                    "Cout mod \(tile)", ["multiple of \(tile)", "not a multiple"],
                    { divisible(rows[$0].shape.outputChannels) }
                ))
            features.append(
                (
                    "Ho·Wo mod \(tile)", ["multiple of \(tile)", "not a multiple"],
                    { divisible(rows[$0].shape.spatialSize * rows[$0].shape.batch) }
                ))
            features.append(
                ("Cin·K² mod \(tile)", ["multiple of \(tile)", "not a multiple"], { divisible(rows[$0].shape.depth) }))
        }
        let levels =
            caches.map { "≤ \($0.name) (\(Self.bytes($0.bytes)))" } + ["beyond \(caches.last?.name ?? "the caches")"]
        features.append(
            (
                "working set", levels,
                { i in caches.firstIndex { workingSets[i] <= $0.bytes }.map { levels[$0] } ?? levels.last! }
            ))
        let intensities = intensity.sorted()
        if !intensities.isEmpty {
            let cuts = [0.25, 0.5, 0.75].map { Statistics.quantile(intensities, $0) }
            let names = [
                "Q1 (≤ \(Self.number(cuts[0])))", "Q2 (≤ \(Self.number(cuts[1])))", "Q3 (≤ \(Self.number(cuts[2])))",
                "Q4",
            ]
            features.append(
                (
                    "arithmetic intensity (FLOP/byte)", names,
                    { i in names[cuts.firstIndex { intensity[i] <= $0 } ?? 3] }
                ))
        }
        let kernels = Set(rows.map { [$0.shape.kernelHeight, $0.shape.kernelWidth] }).sorted {
            $0.lexicographicallyPrecedes($1)
        }
        features.append(
            (
                "kernel", kernels.map { "\($0[0])x\($0[1])" },
                { "\(rows[$0].shape.kernelHeight)x\(rows[$0].shape.kernelWidth)" }
            ))
        features.append(("algorithm", [], { rows[$0].algorithm }))
        if let setting {
            let names = ["every call ≤ 10⁶", "some calls ≤ 10⁶", "every call > 10⁶", "no sgemm"]
            let buckets = rows.map { row -> String in
                let work = KernelWork(shape: row.shape, setting: setting)
                guard !work.calls.isEmpty else { return names[3] }
                let small = work.smallCallFlops(limit: GemmCall.openBLASSmallMatrixLimit)
                return small == 0 ? names[2] : small == work.flops ? names[0] : names[1]
            }
            features.append(("sgemm calls' m·n·k (small-matrix kernel)", names, { buckets[$0] }))
        }
        features.append(("group", [], { rows[$0].group }))
        self.features = features.map { name, order, bucket in
            var members: [String: [Double]] = [:]
            for (i, error) in errors.enumerated() { members[bucket(i), default: []].append(error) }
            let keys = order.filter { members[$0] != nil } + members.keys.filter { !order.contains($0) }.sorted()
            let buckets = keys.map { key in
                Bucket(
                    value: key, count: members[key]!.count, medianError: Statistics.median(members[key]!),
                    withinTenPercent: Self.share(members[key]!))
            }
            let counted = buckets.filter { $0.count >= Self.minimumBucket }
            func range(_ values: [Double]) -> Double { values.count >= 2 ? values.max()! - values.min()! : 0 }
            return Feature(
                name: name, buckets: buckets, spread: range(counted.map(\.medianError)),
                shareSpread: range(counted.map(\.withinTenPercent)))
        }
        .sorted {
            if $0.spread != $1.spread { return $0.spread > $1.spread }
            return $0.shareSpread != $1.shareSpread ? $0.shareSpread > $1.shareSpread : $0.name < $1.name
        }
    }

    /// The columns of ``csv``.
    public static let csvHeader = ["model", "feature", "spread", "bucket", "rows", "median_error", "within_10pct"]

    /// The table as CSV: `model,feature,spread,bucket,rows,median_error,within_10pct`.
    public var csv: String { CSVText.text(header: Self.csvHeader, rows: csvRows) }

    /// The rows of ``csv``: one per bucket of every feature, largest spread first.
    public var csvRows: [[String]] {
        features.flatMap { feature in
            feature.buckets.map { bucket in
                [
                    model, feature.name, "\(feature.spread)", bucket.value, "\(bucket.count)", "\(bucket.medianError)",
                    "\(bucket.withinTenPercent)",
                ]
            }
        }
    }

    private static func share(_ errors: [Double]) -> Double {
        errors.isEmpty ? 0 : Double(errors.filter { abs($0) <= 0.10 }.count) / Double(errors.count)
    }

    private static func bytes(_ value: Int) -> String {
        value >= 1 << 20 ? "\(value >> 20) MiB" : "\(value >> 10) KiB"
    }

    private static func number(_ value: Double) -> String { String(format: value < 10 ? "%.2g" : "%.0f", value) }
}
