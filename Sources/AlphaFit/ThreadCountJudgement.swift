import Basics
import Foundation

/// The serial-share model (fitted across thread counts) against each count's own fit of its base
/// model, judged held out (`threads/across-counts.json` of a package of several counts):
///
/// - on configurations: k folds of configurations, every count of a configuration in the same
///   fold (a held-out configuration is unseen at every count); at each count, each count's own fit
///   on the training rows of that count against the serial-share model on the training rows of
///   every count;
/// - on a count left out (three counts or more): the serial-share model fitted on the other
///   counts' rows predicts every row of the count left out, which no count's own fit can.
public struct ThreadCountJudgement: Codable, Equatable, Sendable {
    /// The held-out errors at one thread count.
    public struct AtCount: Codable, Equatable, Sendable {
        /// The count p.
        public var threads: Int
        /// The count's own fit of the base model.
        public var perCount: PredictionMetrics
        /// The serial-share model fitted across counts.
        public var acrossCounts: PredictionMetrics
        /// Which predicts more rows within ±10%: `across counts`, `per count` or `alike`.
        public var better: String
        /// What a perfect model would reach at this count given its rows' between-round spread
        /// (nil for rows measured in one round).
        public var noiseFloor: NoiseFloor?
    }

    /// The serial-share model's errors on a count it was not fitted on.
    public struct LeftOut: Codable, Equatable, Sendable {
        /// The count left out.
        public var threads: Int
        /// The counts it was fitted on.
        public var fittedOn: [Int]
        /// Its errors on every row of the count left out.
        public var acrossCounts: PredictionMetrics
    }

    /// The base model.
    public var model: FitModel
    /// The folds of configurations.
    public var folds: Int
    /// The seed of their deal.
    public var seed: UInt64
    /// The configurations judged (each at every count it was measured at).
    public var configurations: Int
    /// Per count, ascending.
    public var heldOut: [AtCount]
    /// Per count left out (none with fewer than three counts).
    public var countLeftOut: [LeftOut]
    /// The serial-share model fitted on every row.
    public var fit: SerialShareFit
    /// The row filters that left rows out of the sample (nil for none).
    public var excluded: [RowFilter]?

    /// `better` for `perCount` against `acrossCounts`.
    public static func better(perCount: PredictionMetrics, acrossCounts: PredictionMetrics) -> String {
        if acrossCounts.within10Percent > perCount.within10Percent { return "across counts" }
        if acrossCounts.within10Percent < perCount.within10Percent { return "per count" }
        return "alike"
    }
}

extension SerialShareFitter {
    /// Judges the serial-share model of `options.model` against each count's own fit on `dataset`
    /// (rows of several thread counts), on `folds` folds of configurations dealt with `seed`.
    ///
    /// - Throws: `FitInputError` for rows of one count, no one-thread rows, too few
    ///   configurations for the folds, or anything a fit throws.
    public func judge(_ dataset: FitDataset, folds: Int, seed: UInt64) throws -> ThreadCountJudgement {
        let inputName = dataset.inputs.map(\.path).joined(separator: ", ")
        let rows = dataset.rows
        let threads = rows.map(SerialShareFitter.threads(of:))
        let counts = Set(threads).sorted()
        guard counts.count > 1 else {
            throw FitInputError(
                input: inputName, column: "threads",
                "rows at one thread count (\(counts.first ?? 1)): nothing to fit across counts")
        }
        // Folds of configurations: each configuration's first row stands for it in the stratified
        // deal of the one-count cross-validation.
        var configurationOf: [String: Int] = [:]
        var representatives: [FitRow] = []
        let configuration = rows.map { row -> Int in
            let key = SerialShareFitter.configuration(of: row)
            if let index = configurationOf[key] { return index }
            configurationOf[key] = representatives.count
            representatives.append(row)
            return representatives.count - 1
        }
        let dealt = try AlphaFitter(options: options).foldAssignment(
            FitDataset(inputs: dataset.inputs, rows: representatives, carriedColumns: dataset.carriedColumns),
            folds: folds, seed: seed)
        let fold = configuration.map { dealt[$0] }

        var perCount = [Double](repeating: .nan, count: rows.count)
        var acrossCounts = [Double](repeating: .nan, count: rows.count)
        for k in 0..<folds {
            let training = rows.indices.filter { fold[$0] != k }
            let heldOut = rows.indices.filter { fold[$0] == k }
            let across = try fit(training.map { rows[$0] }, inputName: inputName)
            for i in heldOut { acrossCounts[i] = try across.predict(rows[i].shape, threads: threads[i]) }
            for p in counts {
                let own = try AlphaFitter(options: options).fitGroups(
                    training.filter { threads[$0] == p }.map { rows[$0] }, inputName: inputName)
                let report = FitReport(
                    model: options.model, grouping: options.grouping, flopsConvention: options.flopsConvention,
                    fits: own, options: options)
                for i in heldOut where threads[i] == p { perCount[i] = try report.predict(rows[i].shape) }
            }
        }
        let heldOut = counts.map { p -> ThreadCountJudgement.AtCount in
            let at = rows.indices.filter { threads[$0] == p }
            let measured = at.map { rows[$0].timeMs }
            let own = PredictionMetrics(measured: measured, predicted: at.map { perCount[$0] })
            let across = PredictionMetrics(measured: measured, predicted: at.map { acrossCounts[$0] })
            return ThreadCountJudgement.AtCount(
                threads: p, perCount: own, acrossCounts: across,
                better: ThreadCountJudgement.better(perCount: own, acrossCounts: across),
                noiseFloor: NoiseFloor(rows: at.map { rows[$0] }))
        }
        var leftOut: [ThreadCountJudgement.LeftOut] = []
        if counts.count >= 3 {
            for p in counts where p != 1 {
                let others = rows.indices.filter { threads[$0] != p }
                let at = rows.indices.filter { threads[$0] == p }
                let across = try fit(others.map { rows[$0] }, inputName: inputName)
                let predicted = try at.map { try across.predict(rows[$0].shape, threads: p) }
                leftOut.append(
                    ThreadCountJudgement.LeftOut(
                        threads: p, fittedOn: counts.filter { $0 != p },
                        acrossCounts: PredictionMetrics(measured: at.map { rows[$0].timeMs }, predicted: predicted)))
            }
        }
        return ThreadCountJudgement(
            model: options.model, folds: folds, seed: seed, configurations: representatives.count,
            heldOut: heldOut, countLeftOut: leftOut, fit: try fit(rows, inputName: inputName))
    }
}
