"""Do the models reproduce the jumps of the fine sweeps? (benchmarks/model-jumps, issue 40)

    python/model_jumps.py --out FIGURE.png MODEL=predictions.csv ...

Each predictions.csv is what `convsweep predict --fit FIT RUN --out FILE` writes (columns series,
Cout, flops, measured_ms, predicted_ms). Per series and model it prints:

- MAPE: the mean absolute relative error of the predictions as they are;
- scaled MAPE: the same after one common scale (the least-squares factor of the relative errors):
  a fit made on another machine runs at another speed, the question here is the series' shape;
- jumps r: the Pearson correlation between the measured and the predicted time per FLOP, each
  divided by its own running median over 33 neighbouring Cout (what is left: the steps and bands the
  running median smooths away), where the window is whole and Cout ≥ 32 (past the steep start).
  1: the model has every step where the measurement has it; 0: none.
- band: how much faster (negative) per FLOP a Cout that is a multiple of 4 runs than the others,
  there, measured and predicted.

The figure overlays, per series, the measured and each model's predicted time per GFLOP against
Cout from 32.
"""

import argparse
import math
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convsweep_rows  # noqa: E402  (the one reader of runs, packages and their CSVs)

WINDOW = 33


def read(path):
    rows = convsweep_rows.table(path)
    missing = {"series", "Cout", "flops", "measured_ms", "predicted_ms"} - set(rows[0] if rows else {})
    if missing:
        sys.exit(f"{path}: no column {', '.join(sorted(missing))}")
    series = defaultdict(list)
    for row in rows:
        series[row["series"]].append(
            (int(row["Cout"]), float(row["flops"]), float(row["measured_ms"]), float(row["predicted_ms"])))
    return {name: sorted(points) for name, points in series.items()}


def running_median(values, window=WINDOW):
    half = window // 2
    out = []
    for i in range(len(values)):
        part = sorted(values[max(0, i - half): i + half + 1])
        out.append(part[len(part) // 2])
    return out


def pearson(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    sa = math.sqrt(sum((x - ma) ** 2 for x in a))
    sb = math.sqrt(sum((y - mb) ** 2 for y in b))
    if sa == 0 or sb == 0:
        return float("nan")
    return sum((x - ma) * (y - mb) for x, y in zip(a, b)) / (sa * sb)


def judge(points):
    measured = [p[2] for p in points]
    predicted = [p[3] for p in points]
    mape = 100 * sum(abs(p / m - 1) for m, p in zip(measured, predicted)) / len(points)
    ratios = [p / m for m, p in zip(measured, predicted)]
    scale = sum(ratios) / sum(r * r for r in ratios)
    scaled = 100 * sum(abs(scale * r - 1) for r in ratios) / len(points)
    # Only where the window is whole (an edge's window is one-sided) and the series is past its
    # steep start (Cout ≥ 32, where the running median follows the trend): what is left there is
    # the steps and bands.
    half = WINDOW // 2
    keep = [i for i in range(half, len(points) - half) if points[i][0] >= 32]
    # Time per FLOP: its trend is nearly flat past the start, so a running median follows it
    # (a staircase of times, which a padded model predicts, is its own running median).
    per_m = [m / p[1] for m, p in zip(measured, points)]
    per_p = [q / p[1] for q, p in zip(predicted, points)]
    detrended_m = [m / s for m, s in zip(per_m, running_median(per_m))]
    detrended_p = [q / s for q, s in zip(per_p, running_median(per_p))]
    r = pearson([detrended_m[i] for i in keep], [detrended_p[i] for i in keep]) if len(keep) > 2 else float("nan")
    # The bands: how much faster per FLOP a Cout that is a multiple of 4 runs than its neighbours.
    def band(detrended):
        multiple = [detrended[i] for i in keep if points[i][0] % 4 == 0]
        other = [detrended[i] for i in keep if points[i][0] % 4 != 0]
        if not multiple or not other:
            return float("nan")
        return 100 * (sum(multiple) / len(multiple) / (sum(other) / len(other)) - 1)
    return mape, scaled, r, band(detrended_m), band(detrended_p)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the figure (PNG) to write")
    parser.add_argument("models", nargs="+", metavar="MODEL=predictions.csv")
    args = parser.parse_args()
    models = {}
    for spec in args.models:
        name, sep, path = spec.partition("=")
        if not sep:
            sys.exit(f"expected MODEL=predictions.csv, got '{spec}'")
        models[name] = read(path)
    names = list(models)
    series = sorted(models[names[0]])
    print(f"{'series':14s} {'model':13s} {'rows':>5s} {'MAPE':>7s} {'scaled MAPE':>12s} {'jumps r':>8s}"
          f" {'band measured':>14s} {'band predicted':>15s}")
    for s in series:
        for name in names:
            points = models[name].get(s)
            if not points:
                continue
            mape, scaled, r, measured_band, predicted_band = judge(points)
            print(f"{s:14s} {name:13s} {len(points):5d} {mape:6.1f}% {scaled:11.1f}% {r:8.3f}"
                  f" {measured_band:+13.1f}% {predicted_band:+14.1f}%")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(series), 1, figsize=(11, 4.2 * len(series)), squeeze=False)
    for axis, s in zip(axes[:, 0], series):
        base = models[names[0]][s]
        axis.plot([p[0] for p in base], [p[2] / p[1] * 1e9 for p in base], color="black", lw=1.2,
                  label="measured")
        for name, colour in zip(names, ["tab:blue", "tab:orange", "tab:green", "tab:red"]):
            points = models[name][s]
            axis.plot([p[0] for p in points], [p[3] / p[1] * 1e9 for p in points], color=colour, lw=0.9,
                      alpha=0.85, label=name)
        axis.set_title(s)
        axis.set_xlabel("Cout")
        axis.set_ylabel("ms per GFLOP")
        steady = [p[2] / p[1] * 1e9 for p in base if p[0] >= 32]
        axis.set_xlim(32, base[-1][0])
        axis.set_ylim(0.8 * min(steady), 1.25 * sorted(steady)[len(steady) * 19 // 20])
        axis.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
