/// k-fold cross-validation of models on the same folds.
extension AlphaFitter {
    /// Splits the rows into `folds` folds, stratified by group (rows of each group are shuffled
    /// with `seed` and dealt round-robin, so every training set has every group), fits each of
    /// `models` on k − 1 folds with these options and predicts the held-out fold.
    ///
    /// - Throws: `FitInputError` when a group has fewer rows than folds (a training set would
    ///   lose it), or anything a fit throws.
    public func crossValidate(
        _ dataset: FitDataset, folds: Int, models: [FitModel] = FitModel.allCases,
        seed: UInt64? = nil
    ) throws -> CrossValidationReport {
        let inputName = dataset.inputs.map(\.path).joined(separator: ", ")
        guard folds >= 2 else { throw FitInputError(input: "cross-validate", "needs at least 2 folds, got \(folds)") }
        let seed = seed ?? options.seed
        var generator = SeededGenerator(seed: seed)
        var fold = [Int](repeating: 0, count: dataset.rows.count)
        var byGroup: [String: [Int]] = [:]
        var groupOrder: [String] = []
        for (i, row) in dataset.rows.enumerated() {
            let name = options.grouping.groupName(taps: row.shape.kernelSize)
            if byGroup[name] == nil { groupOrder.append(name) }
            byGroup[name, default: []].append(i)
        }
        for name in groupOrder {
            let members = byGroup[name]!.shuffled(using: &generator)
            guard members.count >= folds else {
                throw FitInputError(
                    input: inputName, column: "K1,K2",
                    "group \(name) has \(members.count) rows, fewer than \(folds) folds")
            }
            for (j, i) in members.enumerated() { fold[i] = j % folds }
        }
        var results: [CrossValidationResult] = []
        for model in models {
            var options = self.options
            options.model = model
            if model != self.options.model {
                options.start = nil
                options.bounds = nil
            }
            let fitter = AlphaFitter(options: options)
            var foldRmse: [Double] = []
            var totalSquares = 0.0
            var totalAPE = 0.0
            for k in 0..<folds {
                let training = dataset.rows.indices.filter { fold[$0] != k }.map { dataset.rows[$0] }
                let heldOut = dataset.rows.indices.filter { fold[$0] == k }.map { dataset.rows[$0] }
                let report = FitReport(
                    model: model, grouping: options.grouping, flopsConvention: options.flopsConvention,
                    fits: try fitter.fitGroups(training, inputName: inputName))
                var squares = 0.0
                for row in heldOut {
                    let e = try report.predict(row.shape) - row.timeMs
                    squares += e * e
                    totalAPE += abs(e) / row.timeMs
                }
                totalSquares += squares
                foldRmse.append((squares / Double(heldOut.count)).squareRoot())
            }
            let n = Double(dataset.rows.count)
            results.append(
                CrossValidationResult(
                    model: model, foldRmseMs: foldRmse, rmseMs: (totalSquares / n).squareRoot(),
                    mapePercent: 100 * totalAPE / n))
        }
        return CrossValidationReport(folds: folds, seed: seed, results: results)
    }
}
