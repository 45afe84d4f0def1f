import Basics
import ConvKernels
import Foundation
import Rows

/// Diagnostics of one group's fit (absent from a hand-written fit.json).
public struct FitDiagnostics: Codable, Hashable, Sendable {
    /// Standard errors from the covariance s²(JᵀJ)⁻¹, s² = SSE/(n − p); nil when it is singular.
    public var standardErrors: [String: Double]?
    /// 95% intervals, parameter ± t(0.975, n − p) · standard error; nil when singular.
    public var confidence95: [String: [Double]]?
    /// Sum of squared residuals of the loss the fit minimised (ms² for absolute, unitless for relative).
    public var sse: Double
    /// Root mean squared error in ms, and R² of the times, whatever the loss.
    public var rmseMs: Double
    /// The coefficient of determination.
    public var rSquared: Double
    /// Mean absolute percentage error, in percent.
    public var mapePercent: Double
    /// Iterations of the best start, and why it stopped.
    public var iterations: Int
    /// Why the best start's solver stopped.
    public var stopReason: SolverStopReason
    /// Starts tried, and how many reached the lowest sum of squares (within a relative 1e-9).
    public var startsTried: Int
    /// Starts that reached the lowest SSE (within a relative 1e-9).
    public var startsReachingBest: Int
    /// Singular covariance, a parameter on a bound, data that cannot identify the model.
    public var warnings: [String]
}

/// The fit of one group.
public struct GroupFit: Codable, Hashable, Sendable {
    /// `K=1`, `K>1` or `K=<n>` (see `FitGrouping.groupName`).
    public var group: String
    /// Parameter name → value, e.g. `{"beta": 0.02, "gamma": 0.99, "final": 0.0375}`.
    public var parameters: [String: Double]
    /// Rows fitted.
    public var n: Int?
    /// How the fit went; nil for parameters given by hand.
    public var diagnostics: FitDiagnostics?
    /// The parameters held at a value the data cannot tell instead of fitted (beta and gamma of
    /// an alpha model over layers with S = S_K, as fully-connected layers); nil for none.
    public var fixed: [String]?
    /// For a recalibration anchored to its base fit (`calibrate fit --anchor`), the strength λ
    /// the group's parameters were pulled toward the base fit's values with (0: not at all);
    /// nil for a fit that was not anchored.
    public var anchorStrength: Double?

    /// The parameters of group `group`, fitted on `n` rows with `diagnostics`, `fixed` held.
    public init(
        group: String, parameters: [String: Double], n: Int? = nil, diagnostics: FitDiagnostics? = nil,
        fixed: [String]? = nil
    ) {
        self.group = group
        self.parameters = parameters
        self.n = n
        self.diagnostics = diagnostics
        self.fixed = fixed
    }
}

extension GroupFit {
    /// Reads a group's fit. A gemm-work fit written before the model gained parameters lacks all
    /// of those an addition brought: they read as the values that make the model what it was
    /// (``FitModel/parametersAddedLater``); a fit naming some and not the others is read as it is
    /// (and refused by ``FitReport/validate(source:)``).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        group = try container.decode(String.self, forKey: .group)
        parameters = try container.decode([String: Double].self, forKey: .parameters)
        n = try container.decodeIfPresent(Int.self, forKey: .n)
        diagnostics = try container.decodeIfPresent(FitDiagnostics.self, forKey: .diagnostics)
        fixed = try container.decodeIfPresent([String].self, forKey: .fixed)
        anchorStrength = try container.decodeIfPresent(Double.self, forKey: .anchorStrength)
        parameters = GemmWorkModel.completed(parameters).parameters
    }
}

/// Held-out errors of one model in a k-fold cross-validation.
public struct CrossValidationResult: Codable, Hashable, Sendable {
    /// The model.
    public var model: FitModel
    /// Held-out RMSE (ms) per fold, and over all held-out rows together.
    public var foldRmseMs: [Double]
    /// Held-out RMSE over all rows, milliseconds.
    public var rmseMs: Double
    /// Held-out mean absolute percentage error over all rows, in percent.
    public var mapePercent: Double
    /// Every held-out metric over all rows (nil in a fit.json written before they existed).
    public var metrics: PredictionMetrics?
    /// The same per group.
    public var groups: [GroupMetrics]?
}

/// A k-fold cross-validation of every model on the same folds.
public struct CrossValidationReport: Codable, Hashable, Sendable {
    /// The number of folds.
    public var folds: Int
    /// The seed of the folds.
    public var seed: UInt64
    /// The loss every model was fitted with (nil in a fit.json written before it was stated).
    public var loss: FitLoss?
    /// One result per model.
    public var results: [CrossValidationResult]
    /// What a perfect model would reach given the measured between-round spread; nil when the
    /// data were measured in one round.
    public var noiseFloor: NoiseFloor?
}

/// A fit: what fit.json holds (see docs/fit-format.md).
///
/// Only `model`, `grouping`, `flopsConvention` and `fits[].group`/`fits[].parameters` are needed
/// to predict, so a fit.json written by hand with published constants works with `predict`.
public struct FitReport: Codable, Hashable, Sendable {
    /// The model fitted.
    public var model: FitModel
    /// How rows were grouped.
    public var grouping: FitGrouping
    /// How FLOPs were counted (`final` depends on it).
    public var flopsConvention: FlopsConvention
    /// The options of the fit (nil when written by hand).
    public var options: FitOptions?

    /// How the fit counted the bytes a layer moves: its options' convention, or (a fit written by
    /// hand) ``BytesConvention/everyKxK``, as every fit before the convention was recorded.
    public var bytesConvention: BytesConvention { options?.bytesConvention ?? .everyKxK }

    /// The form of gemm-work the fit used: its options', or for a fit without options (written by
    /// hand) the first whose constants (``GemmWorkForm/constants``: lanes, exposure depth, level
    /// and width) every group holds — a file that lacks the later ones reads with the values
    /// that make it its form (``GroupFit``'s decoder) — or the current one.
    public var gemmWorkForm: GemmWorkForm {
        if let options { return options.gemmWorkForm }
        let names = GemmWorkModel.parameterNames
        return GemmWorkForm.allCases.first { form in
            fits.allSatisfy { fit in form.constants.allSatisfy { fit.parameters[names[$0.key]] == $0.value } }
        } ?? .current
    }
    /// The inputs, with their SHA-256 (nil when written by hand).
    public var inputs: [FitInput]?
    /// The row filters applied.
    public var excluded: [RowFilter]?
    /// One fit per group.
    public var fits: [GroupFit]
    /// Held-out errors, when asked for.
    public var crossValidation: CrossValidationReport?

    /// A report of `fits` of `model` under `grouping` and `flopsConvention`.
    public init(
        model: FitModel, grouping: FitGrouping, flopsConvention: FlopsConvention, fits: [GroupFit],
        options: FitOptions? = nil, inputs: [FitInput]? = nil, excluded: [RowFilter]? = nil,
        crossValidation: CrossValidationReport? = nil
    ) {
        self.model = model
        self.grouping = grouping
        self.flopsConvention = flopsConvention
        self.fits = fits
        self.options = options
        self.inputs = inputs
        self.excluded = excluded
        self.crossValidation = crossValidation
    }

    /// Reads a fit.json; throws a `FitInputError` naming the file for an unreadable or invalid one.
    public static func load(path: String) throws -> FitReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FitInputError(input: path, "cannot read the fit file")
        }
        let report: FitReport
        do { report = try StrictJSON.decode(FitReport.self, from: data) } catch let DecodingError.keyNotFound(
            key, context)
        {
            throw FitInputError(
                input: path, column: (context.codingPath + [key]).map(\.stringValue).joined(separator: "."),
                "missing key")
        } catch {
            throw FitInputError(input: path, "not a valid fit.json (\(DecodingProblem.describe(error)))")
        }
        try report.validate(source: path)
        return report
    }

    /// Checks that every group names every parameter of the model with a finite value.
    public func validate(source: String = "fit") throws {
        guard !fits.isEmpty else { throw FitInputError(input: source, column: "fits", "no group fits") }
        // The options a verifier refits with: their limits hold wherever they are read.
        do { try options?.validate() } catch let error as FitInputError {
            throw FitInputError(
                input: source, column: "options.\(error.column.map { "\(error.input).\($0)" } ?? error.input)",
                error.message)
        }
        var groups = Set<String>()
        let known = Set(model.parameterNames)
        let bounds = options?.effectiveBounds ?? model.defaultBounds
        for fit in fits {
            guard groups.insert(fit.group).inserted else {
                throw FitInputError(
                    input: source, column: "fits[\(fit.group)]", "the group \(fit.group) is fitted twice")
            }
            if let unknown = fit.parameters.keys.sorted().first(where: { !known.contains($0) }) {
                throw FitInputError(
                    input: source, column: "fits[\(fit.group)].parameters.\(unknown)",
                    "not a parameter of the \(model.rawValue) model (\(model.parameterNames.joined(separator: ", ")))")
            }
            for (i, name) in model.parameterNames.enumerated() {
                guard let value = fit.parameters[name], value.isFinite else {
                    throw FitInputError(
                        input: source, column: "fits[\(fit.group)].parameters.\(name)",
                        "missing or non-finite parameter of the \(model.rawValue) model")
                }
                if let problem = Self.problem(of: name, value: value, bounds: bounds[i], model: model) {
                    throw FitInputError(input: source, column: "fits[\(fit.group)].parameters.\(name)", problem)
                }
            }
            // How the fit went: counts no fit makes are refused (a verifier compares the rest with
            // its refit, but not the iterations, which another CPU's rounding changes).
            if let d = fit.diagnostics {
                for (field, value, least) in [
                    ("iterations", d.iterations, 0), ("startsTried", d.startsTried, 1),
                    ("startsReachingBest", d.startsReachingBest, 1),
                ] where value < least {
                    throw FitInputError(
                        input: source, column: "fits[\(fit.group)].diagnostics.\(field)",
                        "a count of at least \(least), got \(value)")
                }
                if d.startsReachingBest > d.startsTried {
                    throw FitInputError(
                        input: source, column: "fits[\(fit.group)].diagnostics.startsReachingBest",
                        "more starts reaching the best (\(d.startsReachingBest)) than tried (\(d.startsTried))")
                }
            }
        }
    }

    /// Why `value` cannot be the parameter `name` of `model`, or nil: a discrete parameter
    /// (gemm-work's tiles, cache levels, small-matrix limit, form constants) is a whole number
    /// within its bounds, and the cache levels are 1 or 3 (a hand-edited 5 would otherwise predict
    /// as 3); a rate model's rates and fixed cost are not negative (a negative one predicts times
    /// the model cannot make). The alpha models' shape parameters are not range-checked here: a
    /// prediction they leave undefined is refused where it is made.
    static func problem(of name: String, value: Double, bounds: ClosedRange<Double>, model: FitModel) -> String? {
        func g(_ x: Double) -> String { String(format: "%g", x) }
        if model.discreteParameterNames.contains(name) {
            guard value == value.rounded(), bounds.contains(value) else {
                return
                    "a discrete parameter: a whole number from \(g(bounds.lowerBound)) to \(g(bounds.upperBound)), got \(g(value))"
            }
            if name == GemmWorkModel.parameterNames[GemmWorkModel.cacheLevels], value != 1, value != 3 {
                return "the cache levels are 1 or 3, got \(g(value))"
            }
        } else if model.scaleIndex == nil, value < 0 {
            return "a rate of the \(model.rawValue) model cannot be negative, got \(g(value))"
        }
        return nil
    }

    /// The JSON text of the report (sorted keys, pretty printed).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The parameter vector of the group `shape` belongs to.
    public func parameters(for shape: ConvShape) throws -> [Double] {
        let name = grouping.groupName(for: shape)
        guard let fit = fits.first(where: { $0.group == name }) else {
            throw FitInputError(
                input: "fit", column: "K",
                "no fitted group \(name) (groups: \(fits.map(\.group).joined(separator: ", ")))")
        }
        return try model.parameterNames.map { name in
            guard let v = fit.parameters[name] else {
                throw FitInputError(input: "fit", column: "fits[\(fit.group)].parameters.\(name)", "missing parameter")
            }
            return v
        }
    }

    /// `shape` as this fit's model evaluates it: under its FLOPs and bytes conventions, its work
    /// under the fit's work setting (gemm-work).
    func point(_ shape: ConvShape) -> ModelPoint {
        ModelPoint(
            shape: shape, convention: flopsConvention, bytes: bytesConvention,
            setting: model == .gemmWork ? options?.workSetting : nil)
    }

    /// The predicted time in milliseconds of one layer:
    /// final · ((S_K + beta·(S − S_K)) / S)^gamma [· channel term] · FLOPs, under the fit's convention.
    public func predict(_ shape: ConvShape) throws -> Double {
        let value = model.predict(point(shape), try parameters(for: shape))
        guard value.isFinite else {
            throw FitInputError(input: "fit", "the model is undefined for \(shape) (non-positive ratio)")
        }
        return value
    }

    /// The predicted time in milliseconds of a layer given by its sizes.
    public func predict(h: Int, w: Int, cin: Int, cout: Int, k1: Int, k2: Int, batch: Int = 1) throws -> Double {
        try predict(
            ConvShape(
                batch: batch, height: h, width: w, inputChannels: cin, outputChannels: cout, kernelHeight: k1,
                kernelWidth: k2))
    }
}
