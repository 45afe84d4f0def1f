import Basics
import ConvKernels
import Foundation
import Rows
import Sweeps

/// How each configuration's time scales with threads: for every configuration measured at one
/// thread and at p > 1 (rows of a run of several counts, ``SweepConfiguration/measured(threads:)``),
/// the speedup T(1)/T(p) with an interval from the rows' 95% intervals of the median, and the
/// parallel efficiency speedup/p; per series and count the median speedup; and how speedup goes
/// with where a layer's FLOPs sit (H·W, channels, K), as Spearman's ρ.
public struct ThreadScaling: Sendable {
    /// One configuration at one count p > 1 against its one-thread row.
    public struct Point: Sendable, Equatable {
        /// The configuration's id without the count (``SweepConfiguration/splitThreads(_:)``).
        public var id: String
        /// Its experiment.
        public var experiment: String
        /// Its series, without the count.
        public var series: String
        /// The layer.
        public var shape: ConvShape
        /// The algorithm that computed it.
        public var algorithm: ConvAlgorithm
        /// The thread count p.
        public var threads: Int
        /// The median at one thread, ms.
        public var oneThreadMs: Double
        /// The median at p threads, ms.
        public var manyThreadsMs: Double
        /// T(1)/T(p).
        public var speedup: Double { oneThreadMs / manyThreadsMs }
        /// The speedup's interval: the slowest T(1) of its interval over the fastest T(p) of its, and
        /// the other way round (nil when a row has no interval).
        public var speedupLow: Double?
        /// See ``speedupLow``.
        public var speedupHigh: Double?
        /// speedup / p.
        public var efficiency: Double { speedup / Double(threads) }
    }

    /// Per experiment, series and count: how many configurations, and their speedups' median,
    /// smallest and largest.
    public struct SeriesSummary: Sendable, Equatable {
        /// The experiment.
        public var experiment: String
        /// The series, without the count.
        public var series: String
        /// The thread count p.
        public var threads: Int
        /// Configurations of the series at p with a one-thread row.
        public var configurations: Int
        /// The median of their speedups.
        public var medianSpeedup: Double
        /// The smallest speedup.
        public var minSpeedup: Double
        /// The largest speedup.
        public var maxSpeedup: Double
        /// The median of speedup / p.
        public var medianEfficiency: Double
    }

    /// Spearman's ρ of the speedup at one count against a dimension of the layers (the papers'
    /// question: does work in H·W scale better than work in channels or K?).
    public struct Dependence: Sendable, Equatable {
        /// The thread count.
        public var threads: Int
        /// The dimension: `H·W` (output), `Cin·Cout`, `K1·K2`, `FLOPs`.
        public var dimension: String
        /// Configurations the ρ is of.
        public var configurations: Int
        /// Spearman's ρ (NaN when a side is constant).
        public var rho: Double
    }

    /// Every configuration with a one-thread row and a row at a larger count, by id then count
    /// (so the tables are the same text whatever order the rows were read in).
    public let points: [Point]
    /// Rows at p > 1 without a one-thread row of the same configuration (or not measured).
    public let unpaired: Int

    /// The scaling of `rows`: rows of one configuration are those whose ids agree once the count is
    /// taken off; rows not measured (status not ok, no median) are left out.
    public init(rows: [MeasurementRow]) {
        var byID: [String: [Int: MeasurementRow]] = [:]
        for row in rows where row.status.isOK && row.medianMs != nil {
            byID[SweepConfiguration.splitThreads(row.configID).base, default: [:]][row.threads] = row
        }
        // By id, whatever order the rows come in (a run's measuring order, a package's files).
        let order = byID.keys.sorted()
        var points: [Point] = []
        var unpaired = 0
        for id in order {
            let counts = byID[id]!
            guard let one = counts[1], let t1 = one.medianMs else {
                unpaired += counts.keys.filter { $0 > 1 }.count
                continue
            }
            for (p, row) in counts.sorted(by: { $0.key < $1.key }) where p > 1 {
                let tp = row.medianMs!
                var point = Point(
                    id: id, experiment: one.experiment, series: ThreadScaling.seriesWithoutCount(one.series),
                    shape: one.shape, algorithm: one.algorithm, threads: p, oneThreadMs: t1, manyThreadsMs: tp)
                if let l1 = one.ci95LowMs, let h1 = one.ci95HighMs, let lp = row.ci95LowMs, let hp = row.ci95HighMs,
                    lp > 0, hp > 0
                {
                    point.speedupLow = l1 / hp
                    point.speedupHigh = h1 / lp
                }
                points.append(point)
            }
        }
        self.points = points
        self.unpaired = unpaired
    }

    /// `series` without the ` [p threads]` a run of several counts appended.
    static func seriesWithoutCount(_ series: String) -> String {
        guard series.hasSuffix("]"), let open = series.range(of: " [", options: .backwards),
            series[open.upperBound...].hasSuffix(" thread]") || series[open.upperBound...].hasSuffix(" threads]")
        else { return series }
        return String(series[..<open.lowerBound])
    }

    /// The thread counts above one, ascending.
    public var counts: [Int] { Array(Set(points.map(\.threads))).sorted() }

    /// Per experiment, series and count, in the order of the points.
    public var seriesSummaries: [SeriesSummary] {
        var keys: [String] = []
        var groups: [String: [Point]] = [:]
        for point in points {
            let key = "\(point.experiment)\u{0}\(point.series)\u{0}\(point.threads)"
            if groups[key] == nil { keys.append(key) }
            groups[key, default: []].append(point)
        }
        return keys.map { key in
            let group = groups[key]!
            let speedups = group.map(\.speedup)
            return SeriesSummary(
                experiment: group[0].experiment, series: group[0].series, threads: group[0].threads,
                configurations: group.count, medianSpeedup: Statistics.median(speedups),
                minSpeedup: speedups.min()!, maxSpeedup: speedups.max()!,
                medianEfficiency: Statistics.median(group.map(\.efficiency)))
        }
    }

    /// Per count, Spearman's ρ of the speedup against the output's H·W, Cin·Cout, K1·K2 and the
    /// FLOPs, over the configurations measured with `algorithm` (nil: all).
    public func dependence(algorithm: ConvAlgorithm? = nil) -> [Dependence] {
        counts.flatMap { p -> [Dependence] in
            let group = points.filter { $0.threads == p && (algorithm == nil || $0.algorithm == algorithm) }
            let speedups = group.map(\.speedup)
            let dimensions: [(String, (ConvShape) -> Double)] = [
                ("H·W", { Double($0.outputHeight * $0.outputWidth) }),
                ("Cin·Cout", { Double($0.inputChannels * $0.outputChannels) }),
                ("K1·K2", { Double($0.kernelHeight * $0.kernelWidth) }),
                ("FLOPs", { Accounting(shape: $0).flops }),
            ]
            return dimensions.map { name, value in
                Dependence(
                    threads: p, dimension: name, configurations: group.count,
                    rho: RankStatistics.spearman(group.map { value($0.shape) }, speedups))
            }
        }
    }

    /// The header of ``csv``.
    public static let columns = [
        "config_id", "experiment", "series", "algorithm", "H", "W", "Cin", "Cout", "K1", "K2", "groups", "flops",
        "threads", "t1_ms", "tp_ms", "speedup", "speedup_low", "speedup_high", "efficiency",
    ]

    /// Every point as a CSV line under ``columns`` (numbers with 6 significant digits).
    public var csv: String {
        var text = CSVText.line(Self.columns)
        for p in points {
            text += CSVText.line([
                p.id, p.experiment, p.series, p.algorithm.rawValue, "\(p.shape.height)", "\(p.shape.width)",
                "\(p.shape.inputChannels)", "\(p.shape.outputChannels)", "\(p.shape.kernelHeight)",
                "\(p.shape.kernelWidth)", "\(p.shape.groups)",
                String(format: "%.0f", Accounting(shape: p.shape).flops), "\(p.threads)", Self.number(p.oneThreadMs),
                Self.number(p.manyThreadsMs), Self.number(p.speedup), p.speedupLow.map(Self.number) ?? "",
                p.speedupHigh.map(Self.number) ?? "", Self.number(p.efficiency),
            ])
        }
        return text
    }

    /// The header of ``seriesCSV``.
    public static let seriesColumns = [
        "experiment", "series", "threads", "configurations", "median_speedup", "min_speedup", "max_speedup",
        "median_efficiency",
    ]

    /// The series summaries as CSV under ``seriesColumns``.
    public var seriesCSV: String {
        var text = CSVText.line(Self.seriesColumns)
        for s in seriesSummaries {
            text += CSVText.line([
                s.experiment, s.series, "\(s.threads)", "\(s.configurations)", Self.number(s.medianSpeedup),
                Self.number(s.minSpeedup), Self.number(s.maxSpeedup), Self.number(s.medianEfficiency),
            ])
        }
        return text
    }

    /// The header of ``dependenceCSV``.
    public static let dependenceColumns = ["threads", "dimension", "configurations", "spearman_rho"]

    /// ``dependence(algorithm:)`` of every algorithm, as CSV under ``dependenceColumns``.
    public var dependenceCSV: String {
        var text = CSVText.line(Self.dependenceColumns)
        for d in dependence() {
            text += CSVText.line([
                "\(d.threads)", d.dimension, "\(d.configurations)", d.rho.isNaN ? "" : Self.number(d.rho),
            ])
        }
        return text
    }

    /// The files of a package's scaling section (`threads/`) and their texts, for rows of several
    /// thread counts; empty when no configuration was measured at one thread and at more.
    public var packageFiles: [(name: String, text: String)] {
        points.isEmpty ? [] : [("speedup.csv", csv), ("series.csv", seriesCSV), ("dependence.csv", dependenceCSV)]
    }

    static func number(_ value: Double) -> String { String(format: "%.6g", value) }
}
