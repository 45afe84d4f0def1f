#!/usr/bin/env python3
"""The non-parametric ceiling of convsweep's model table: gradient-boosted trees, cross-validated.

    ceiling.py IN.csv OUT.csv

IN.csv (written by convsweep): one row per measured configuration with the columns fold, H, W,
Cin, Cout, K1, K2, batch, flops, bytes, measured_ms. For every fold f, a
HistGradientBoostingRegressor (scikit-learn; seeded, so a rerun with the same scikit-learn gives
the same trees) is trained on the rows of the other folds to predict log(measured_ms) from
log H, log W, log Cin, log Cout, K1·K2, log batch, log FLOPs and log bytes — and, when IN.csv has
the layer columns (stride_h, stride_w, dilation_h, dilation_w, groups, layer), the strides, the
dilations, log groups and whether the layer is fully connected — and predicts the rows of fold f.
Rows of fold -1 are never trained on: one model trained on every other row predicts them (the
layers of a network, predicted from the sample); with a single other fold, that fold's rows get
no prediction (nan). OUT.csv gets one column, predicted_ms, in the order of IN.csv, and its first
line is a comment naming the model and the scikit-learn version.

Exit status 3 (and one line on stderr) when scikit-learn cannot be imported, 2 for bad input.
"""
import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convsweep_rows  # noqa: E402  (the one reader of runs, packages and their CSVs)


def main(argv):
    if len(argv) != 3:
        print("usage: ceiling.py IN.csv OUT.csv", file=sys.stderr)
        return 2
    try:
        import numpy as np
        import sklearn
        from sklearn.ensemble import HistGradientBoostingRegressor
    except ImportError as error:
        print(f"ceiling.py: scikit-learn is not installed in {sys.executable} ({error})", file=sys.stderr)
        return 3
    rows = convsweep_rows.table(argv[1])
    if not rows:
        print(f"ceiling.py: {argv[1]}: no rows", file=sys.stderr)
        return 2
    try:
        layer = "groups" in rows[0]
        features = np.array([
            [
                math.log(float(r["H"])), math.log(float(r["W"])), math.log(float(r["Cin"])),
                math.log(float(r["Cout"])), float(r["K1"]) * float(r["K2"]), math.log(float(r["batch"])),
                math.log(float(r["flops"])), math.log(float(r["bytes"])),
            ] + ([
                float(r["stride_h"]), float(r["stride_w"]), float(r["dilation_h"]), float(r["dilation_w"]),
                math.log(float(r["groups"])), 1.0 if r["layer"] == "fc" else 0.0,
            ] if layer else [])
            for r in rows
        ])
        target = np.log(np.array([float(r["measured_ms"]) for r in rows]))
        folds = np.array([int(r["fold"]) for r in rows])
    except (KeyError, ValueError) as error:
        print(f"ceiling.py: {argv[1]}: bad row ({error})", file=sys.stderr)
        return 2
    predicted = np.full(len(rows), np.nan)
    trained = sorted(f for f in set(folds.tolist()) if f >= 0)
    for fold in (trained if len(trained) > 1 else []) + ([-1] if (folds < 0).any() else []):
        train = (folds != fold) & (folds >= 0)
        test = folds == fold if fold >= 0 else folds < 0
        model = HistGradientBoostingRegressor(
            max_iter=400, learning_rate=0.08, max_leaf_nodes=31, min_samples_leaf=10, l2_regularization=1e-3,
            early_stopping=False, random_state=0)
        model.fit(features[train], target[train])
        predicted[test] = np.exp(model.predict(features[test]))
    with open(argv[2], "w", newline="") as handle:
        handle.write(f"# gradient-boosted trees (HistGradientBoostingRegressor, 400 iterations) scikit-learn {sklearn.__version__}\n")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["predicted_ms"])
        for value in predicted:
            writer.writerow([repr(float(value))])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
