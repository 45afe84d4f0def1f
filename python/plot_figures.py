#!/usr/bin/env python3
"""Draw the figures of a convsweep replication package from the package's CSV files alone.

Usage: plot_figures.py PACKAGE_DIR

Reads   PACKAGE_DIR/data/exp-*.csv         measured configurations of experiments A-G
        PACKAGE_DIR/data/regression.csv    measured regression sample
        PACKAGE_DIR/data/layers.csv        measured layer sample (stride, depthwise, FC), if any
        PACKAGE_DIR/fit/predictions.csv    alpha-FLOPs predictions, joined on config_id
        PACKAGE_DIR/fit/model-predictions.csv  each model's predictions, if any: gemm-work's are
                                           drawn dotted in the experiment figures
        PACKAGE_DIR/networks/networks.csv  measured and predicted network times, if any
        PACKAGE_DIR/networks/kinds.csv     network time and MACs by kind of layer, if any
Writes  PACKAGE_DIR/figures/<name>.png and .svg, one per experiment plus
        regression-measured-vs-predicted and, when the run measured its roofs (manifest.json),
        roofline, and, when the package has its model table (fit/cv-predictions.csv),
        model-errors (held-out error against FLOPs per model), with a networks section the three
        network figures (networks-by-kind, networks-predicted, networks-macs), and
        PACKAGE_DIR/figures/index.json that names,
        for every figure, the CSV files it was drawn from (with their SHA-256) and how many
        measured and predicted points it plots.

Only rows whose status is "ok" are plotted. The figures follow the replication's Figures 1-7:
one line per series (solid, measured), the prediction of the same series dashed in the same
colour; for experiments A-C the points of equal FLOPs are marked. Where the data has the
between-round range of a row (round_min_ms, round_max_ms: runs measured in rounds), each measured
point carries it as an error bar, so that a spike can be told from noise; a row whose rounds
never had a clean window (window = disturbed) or never settled (unsettled) is drawn hollow.
"""
import hashlib
import json
import math
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Same CSVs, same bytes: fixed SVG element ids.
plt.rcParams["svg.hashsalt"] = "convsweep"

# What each experiment varies along its x axis, and how the replication titles it.
EXPERIMENTS = {
    "A": ("flops", "FLOPs (equal along each vertical line)", "increasing channels, different spatial sizes", "Figure 1", "Figure 3b"),
    "B": ("K1", "kernel size K (H = W = round(300/K))", "increasing kernel, decreasing spatial size", "Figure 2", "Figure 4a"),
    "C": ("K1", "kernel size K (Cin = Cout = round(R/K))", "increasing kernel, decreasing channels", "Figure 3", "Figure 4b"),
    "D": ("W", "input width W", "increasing input width", "Figure 4", "Figure 5a"),
    "E": ("Cout", "output channels Cout", "increasing output channels", "Figure 5", "Figure 5b"),
    "F": ("Cout", "output channels Cout (K = 1)", "increasing output channels, 1x1 kernel", "Figure 6", "Figure 6a"),
    "G": ("Cin", "input channels Cin", "increasing input channels", "Figure 7", "Figure 6b"),
}
TIME_COLUMN = "median_ms"
PREDICTED_COLUMN = "predicted_ms"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def natural_key(text):
    """Sort key that orders "Cin=50" before "Cin=100"."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convsweep_rows  # noqa: E402  (the one reader of runs, packages and their CSVs)


def read_csv(path):
    """A package's CSV file, through the one reader."""
    return convsweep_rows.table(path)


def round_range(row):
    """The row's between-round range (fastest, slowest round median), or None."""
    low, high = row.get("round_min_ms", ""), row.get("round_max_ms", "")
    if not low or not high:
        return None
    return float(low), float(high)


def source(package, relative, rows_used):
    path = os.path.join(package, relative)
    return {"path": relative, "sha256": sha256(path), "rows_used": rows_used}


def log_axes(ax, xlabel, ylabel, title, legend=False):
    """Log-log axes with their labels, title and grid (and the legend, when asked for)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if legend:
        ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3, which="both")


def save(fig, package, name):
    out = os.path.join(package, "figures")
    os.makedirs(out, exist_ok=True)
    # Fixed metadata so that the same CSVs give the same files.
    fig.savefig(os.path.join(out, name + ".png"), dpi=120, metadata={"Software": None})
    fig.savefig(os.path.join(out, name + ".svg"), metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return [f"figures/{name}.png", f"figures/{name}.svg"]


def plot_experiment(package, letter, csv_name, predictions, overlay=None):
    """One experiment's figure: measured times per series with their round ranges, alpha-FLOPs'
    prediction dashed, and where the package has fit/model-predictions.csv the model of the
    overlay (name, predictions by config_id) dotted: the model that draws the steps."""
    axis, xlabel, what, replication_fig, original_fig = EXPERIMENTS[letter]
    rows = list(convsweep_rows.measured(os.path.join(package, "data", csv_name)).values())
    series = sorted({r["series"] for r in rows}, key=natural_key)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    measured_points = predicted_points = ranges_drawn = overlay_points = 0
    for i, label in enumerate(series):
        colour = colours[i % len(colours)]
        line = sorted((r for r in rows if r["series"] == label), key=lambda r: float(r[axis]))
        xs = [float(r[axis]) for r in line]
        ys = [float(r[TIME_COLUMN]) for r in line]
        ax.plot(xs, ys, "-", marker="o", markersize=3, color=colour, linewidth=1.2, label=f"{label}")
        spread = [(x, y, round_range(r)) for x, y, r in zip(xs, ys, line)]
        spread = [(x, y, rng) for x, y, rng in spread if rng]
        if spread:
            ax.errorbar([p[0] for p in spread], [p[1] for p in spread],
                        yerr=[[max(0.0, p[1] - p[2][0]) for p in spread], [max(0.0, p[2][1] - p[1]) for p in spread]],
                        fmt="none", ecolor=colour, elinewidth=0.8, capsize=1.5, alpha=0.8)
            ranges_drawn += len(spread)
        unclean = [(x, y) for x, y, r in zip(xs, ys, line) if r.get("window") in ("disturbed", "unsettled")]
        if unclean:
            ax.plot([p[0] for p in unclean], [p[1] for p in unclean], "o", markersize=6, markerfacecolor="white",
                    markeredgecolor=colour, linestyle="none")
        measured_points += len(xs)
        pairs = [(float(r[axis]), predictions[r["config_id"]]) for r in line if r["config_id"] in predictions]
        if pairs:
            ax.plot([p[0] for p in pairs], [p[1] for p in pairs], "--", color=colour, linewidth=1.2)
            predicted_points += len(pairs)
        if overlay:
            extra = [(float(r[axis]), overlay[1][r["config_id"]]) for r in line if r["config_id"] in overlay[1]]
            if extra:
                ax.plot([p[0] for p in extra], [p[1] for p in extra], ":", color=colour, linewidth=1.4)
                overlay_points += len(extra)
        if letter in ("B", "C") and line:
            flops = float(line[0]["flops"])
            ax.annotate(f"{flops / 1e9:.3g} GFLOP", (xs[-1], ys[-1]), textcoords="offset points",
                        xytext=(4, 0), fontsize=7, color=colour, va="center")
    if letter == "A":
        for x in sorted({float(r["flops"]) for r in rows}):
            ax.axvline(x, color="0.85", linewidth=0.8, linestyle=":", zorder=0)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
    if letter in ("B", "C"):
        ax.text(0.01, 0.99, "every point of a line has the same FLOPs", transform=ax.transAxes,
                fontsize=8, va="top", color="0.3")
    ax.plot([], [], "--", color="0.4", label="alpha-FLOPs prediction")
    if overlay_points:
        ax.plot([], [], ":", color="0.4", label=f"{overlay[0]} prediction")
    if ranges_drawn:
        ax.errorbar([], [], yerr=[], fmt="none", ecolor="0.4", label="between-round range")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("time per forward pass (ms)")
    ax.set_title(f"Experiment {letter}: {what}")
    ax.legend(fontsize=7, loc="best")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    files = save(fig, package, f"exp-{letter.lower()}")
    return {
        "experiment": letter,
        "files": files,
        "x_axis": axis,
        "series": series,
        "measured_points": measured_points,
        "predicted_points": predicted_points,
        "round_ranges": ranges_drawn,
        "replication_figure": replication_fig,
        "original_figure": original_fig,
        "sources": [source(package, f"data/{csv_name}", len(rows)),
                    source(package, "fit/predictions.csv", predicted_points)]
        + ([source(package, "fit/model-predictions.csv", overlay_points)] if overlay_points else []),
    }


def scatter_by_kernel(ax, rows, point):
    """Scatter point(row) of the K = 1 and the K > 1 rows (positive coordinates only), each group in
    its colour; returns the points drawn per group. Thousands of points get smaller markers and are
    drawn as an image inside the SVG, so that the file stays small (axes and legend stay vectors)."""
    drawn = []
    for name, keep, colour in (("K = 1", lambda r: r["K1"] == "1" and r["K2"] == "1", "C0"),
                               ("K > 1", lambda r: not (r["K1"] == "1" and r["K2"] == "1"), "C1")):
        pts = [p for p in (point(r) for r in rows if keep(r)) if p[0] > 0 and p[1] > 0]
        if not pts:
            continue
        many = len(pts) > 1000
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=3 if many else 8, alpha=0.4 if many else 0.6,
                   color=colour, label=f"{name} ({len(pts)})", rasterized=many)
        drawn.append(pts)
    return drawn


def plot_regression(package, predictions):
    rows = list(convsweep_rows.measured(os.path.join(package, "data", "regression.csv")).values())
    fig, ax = plt.subplots(figsize=(5.5, 5.2))
    used = 0
    lo, hi = math.inf, 0.0
    for pts in scatter_by_kernel(ax, rows, lambda r: (float(r[TIME_COLUMN]), predictions.get(r["config_id"], 0.0))):
        used += len(pts)
        lo = min(lo, *(min(p) for p in pts))
        hi = max(hi, *(max(p) for p in pts))
    if used:
        ax.plot([lo, hi], [lo, hi], "k--", linewidth=0.8, label="predicted = measured")
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("measured time (ms)")
    ax.set_ylabel("alpha-FLOPs prediction (ms)")
    ax.set_title("Regression sample: measured vs predicted")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3, which="both")
    fig.tight_layout()
    files = save(fig, package, "regression-measured-vs-predicted")
    return {
        "experiment": "regression",
        "files": files,
        "x_axis": TIME_COLUMN,
        "series": ["K = 1", "K > 1"],
        "measured_points": used,
        "predicted_points": used,
        "replication_figure": "none (the replication shows no such plot)",
        "original_figure": "none",
        "sources": [source(package, "data/regression.csv", len(rows)),
                    source(package, "fit/predictions.csv", used)],
    }


def layer_kind(row):
    """The stratum of a layer of data/layers.csv: fully connected, depthwise (or grouped), dense
    with a stride, dense 1x1, dense KxK."""
    if row.get("layer") == "fc":
        return "fully connected"
    if int(row.get("groups") or 1) > 1:
        return "depthwise / grouped"
    if int(row.get("stride_h") or 1) > 1 or int(row.get("stride_w") or 1) > 1:
        return "dense, stride > 1"
    return "dense 1x1" if int(row["K1"]) * int(row["K2"]) == 1 else "dense KxK"


def plot_layers(package):
    """The layer sample: measured time against FLOPs, one colour per kind of layer (log-log): the
    question alpha-FLOPs exists for, on the layers real networks use."""
    rows = list(convsweep_rows.measured(os.path.join(package, "data", "layers.csv")).values())
    kinds = ["dense 1x1", "dense KxK", "dense, stride > 1", "depthwise / grouped", "fully connected"]
    fig, ax = plt.subplots(figsize=(6.2, 4.6))
    for kind, colour in zip(kinds, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]):
        pts = [(float(r["flops"]), float(r[TIME_COLUMN])) for r in rows if layer_kind(r) == kind]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=14, alpha=0.75, color=colour,
                       label=f"{kind} ({len(pts)})")
    log_axes(ax, "FLOPs", "measured time (ms)", "Layer sample: equal FLOPs, unequal time", legend=True)
    fig.tight_layout()
    files = save(fig, package, "layers-time-vs-flops")
    return {
        "experiment": "layers",
        "files": files,
        "x_axis": "flops",
        "series": [k for k in kinds if any(layer_kind(r) == k for r in rows)],
        "measured_points": len(rows),
        "predicted_points": 0,
        "replication_figure": "none (the replication measures no such layers)",
        "original_figure": "none",
        "sources": [source(package, "data/layers.csv", len(rows))],
    }


NETWORK_KINDS = ["KxK", "1x1", "stride 2", "depthwise", "fully connected"]
KIND_COLOURS = ["tab:orange", "tab:blue", "tab:green", "tab:red", "tab:purple"]


def plot_networks(package):
    """The networks section: time by kind of layer per network (stacked bars, with each kind's
    share of MACs marked), each model's predicted network time against the measured one, and
    MACs against measured time with the networks named."""
    networks = read_csv(os.path.join(package, "networks", "networks.csv"))
    kinds = read_csv(os.path.join(package, "networks", "kinds.csv"))
    names = [r["network"] for r in sorted(networks, key=lambda r: float(r["measured_ms"]))]
    entries = []

    fig, ax = plt.subplots(figsize=(8.4, 4.6))
    total = {r["network"]: float(r["measured_ms"]) for r in networks}
    bottom = [0.0] * len(names)
    for kind, colour in zip(NETWORK_KINDS, KIND_COLOURS):
        share = [100 * sum(float(k["time_share"]) for k in kinds if k["network"] == n and k["kind"] == kind)
                 for n in names]
        if any(share):
            ax.bar(names, share, bottom=bottom, color=colour, label=kind)
            bottom = [b + m for b, m in zip(bottom, share)]
    for i, n in enumerate(names):
        ax.annotate(f"{total[n]:.3g} ms" if total[n] < 1000 else f"{total[n]:.0f} ms", (i, 100), ha="center", va="bottom", fontsize=7,
                    xytext=(0, 2), textcoords="offset points")
    ax.set_ylim(0, 110)
    ax.set_ylabel("share of measured time (%), conv + FC layers")
    ax.set_title("Network time by kind of layer (networks by measured time)")
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    entries.append({
        "experiment": "networks", "files": save(fig, package, "networks-by-kind"), "x_axis": "network",
        "series": [k for k in NETWORK_KINDS if any(r["kind"] == k for r in kinds)],
        "measured_points": len(kinds), "predicted_points": 0,
        "replication_figure": "none (neither study timed a network)", "original_figure": "none",
        "sources": [source(package, "networks/kinds.csv", len(kinds))],
    })

    models = [c[:-3] for c in networks[0].keys() if c.endswith("_ms") and not c.startswith("measured")]
    fig, ax = plt.subplots(figsize=(6.2, 5.2))
    measured = [float(r["measured_ms"]) for r in networks]
    predicted_points = 0
    for model, marker in zip(models, "osD^v*"):
        pts = [(float(r["measured_ms"]), float(r[model + "_ms"])) for r in networks if r[model + "_ms"]]
        predicted_points += len(pts)
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, s=26, alpha=0.8, label=model)
    low, high = min(measured) / 1.5, max(measured) * 1.5
    ax.plot([low, high], [low, high], color="black", linewidth=0.8)
    ax.fill_between([low, high], [0.9 * low, 0.9 * high], [1.1 * low, 1.1 * high], color="grey", alpha=0.2,
                    label="±10%")
    log_axes(ax, "measured network time (ms)", "predicted network time (ms)",
             "Networks: each model's prediction against the measured time", legend=True)
    fig.tight_layout()
    entries.append({
        "experiment": "networks", "files": save(fig, package, "networks-predicted"), "x_axis": "measured_ms",
        "series": models, "measured_points": len(networks), "predicted_points": predicted_points,
        "replication_figure": "none", "original_figure": "none",
        "sources": [source(package, "networks/networks.csv", len(networks))],
    })

    fig, ax = plt.subplots(figsize=(6.2, 4.8))
    ax.scatter([float(r["gmacs"]) for r in networks], measured, color="tab:blue")
    # Labels alternate above-left and below-right along MACs, so that neighbours do not overlap.
    for i, r in enumerate(sorted(networks, key=lambda r: float(r["gmacs"]))):
        ax.annotate(r["network"], (float(r["gmacs"]), float(r["measured_ms"])), fontsize=7,
                    xytext=(-4, 5) if i % 2 else (5, -10), textcoords="offset points",
                    ha="right" if i % 2 else "left")
    log_axes(ax, "GMACs", "measured time (ms), conv + FC layers", "Networks: MACs against measured time")
    fig.tight_layout()
    entries.append({
        "experiment": "networks", "files": save(fig, package, "networks-macs"), "x_axis": "gmacs",
        "series": ["networks"], "measured_points": len(networks), "predicted_points": 0,
        "replication_figure": "none", "original_figure": "none",
        "sources": [source(package, "networks/networks.csv", len(networks))],
    })
    return entries


def plot_roofline(package):
    """The regression sample under the roofs of the run's first session (manifest.json), when the
    run measured them: GFLOP/s against arithmetic intensity, log-log."""
    try:
        manifest = json.load(open(os.path.join(package, "manifest.json")))
    except (OSError, ValueError):
        return None
    roofs = next((s["roofs"] for s in manifest.get("sessions", []) if s.get("roofs")), None)
    rows = [r for r in read_csv(os.path.join(package, "data", "regression.csv"))
            if r["status"] == "ok" and r.get("arithmetic_intensity") and r.get("gflops")]
    if not roofs or not rows:
        return None
    compute, bandwidth = roofs["computeGflops"], roofs["bandwidthGBps"]
    fig, ax = plt.subplots(figsize=(6.2, 4.8))
    scatter_by_kernel(ax, rows, lambda r: (float(r["arithmetic_intensity"]), float(r["gflops"])))
    lo = min(float(r["arithmetic_intensity"]) for r in rows) / 2
    hi = max(float(r["arithmetic_intensity"]) for r in rows) * 2
    ridge = compute / bandwidth
    xs = [lo, min(max(ridge, lo), hi), hi]
    ax.plot(xs, [min(compute, x * bandwidth) for x in xs], "k-", linewidth=1.2,
            label=f"roofs: {compute:.0f} GFLOP/s, {bandwidth:.1f} GB/s")
    log_axes(ax, "arithmetic intensity (FLOPs per byte of input, weights and output)", "attained GFLOP/s",
             "Regression sample under the roofline of one core", legend=True)
    fig.tight_layout()
    files = save(fig, package, "roofline")
    return {
        "experiment": "roofline",
        "files": files,
        "x_axis": "arithmetic_intensity",
        "series": ["K = 1", "K > 1"],
        "measured_points": len(rows),
        "predicted_points": 0,
        "round_ranges": 0,
        "replication_figure": "none (the replication shows no roofline)",
        "original_figure": "none",
        "sources": [source(package, "data/regression.csv", len(rows)), source(package, "manifest.json", 1)],
    }


def plot_model_errors(package):
    """Held-out relative error against FLOPs, one panel per model of the model table
    (fit/cv-predictions.csv: a column <model>_ms per model), with the ±10% band."""
    path = os.path.join(package, "fit", "cv-predictions.csv")
    if not os.path.exists(path):
        return None
    rows = read_csv(path)
    models = [c[:-3] for c in (rows[0].keys() if rows else []) if c.endswith("_ms") and c != "measured_ms"]
    if not models:
        return None
    fig, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models), 3.6), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        for group, colour in (("K=1", "tab:orange"), ("K>1", "tab:blue")):
            pts = [(float(r["flops"]), 100 * (float(r[model + "_ms"]) / float(r["measured_ms"]) - 1))
                   for r in rows if r["group"] == group]
            if pts:
                ax.scatter([p[0] for p in pts], [max(-100, min(200, p[1])) for p in pts], s=3, alpha=0.4,
                           color=colour, label=group.replace("K=1", "K = 1").replace("K>1", "K > 1"),
                           rasterized=len(pts) > 1000)
        ax.axhspan(-10, 10, color="0.85", zorder=0, label="±10%")
        ax.axhline(0, color="k", linewidth=0.6)
        ax.set_xscale("log")
        ax.set_title(model, fontsize=10)
        ax.set_xlabel("FLOPs")
        ax.grid(True, alpha=0.3, which="both")
    axes[0][0].set_ylabel("held-out error (%), clipped to [-100, 200]")
    axes[0][0].legend(fontsize=7, markerscale=3)
    fig.suptitle("Held-out error of each model against FLOPs (same folds)", fontsize=10)
    fig.tight_layout()
    files = save(fig, package, "model-errors")
    return {
        "experiment": "regression",
        "files": files,
        "x_axis": "flops",
        "series": models,
        "measured_points": len(rows),
        "predicted_points": len(rows) * len(models),
        "round_ranges": 0,
        "replication_figure": "none (the replication judges no model on held-out data)",
        "original_figure": "none",
        "sources": [source(package, "fit/cv-predictions.csv", len(rows))],
    }


def plot_threads(package):
    """How the configurations scale with threads (a package of several thread counts): the median
    speedup T(1)/T(p) of each series against p beside the ideal, and each configuration's parallel
    efficiency at the largest count against its output's H*W, one colour per kernel size."""
    series_path = os.path.join("threads", "series.csv")
    points_path = os.path.join("threads", "speedup.csv")
    series = read_csv(os.path.join(package, series_path))
    points = read_csv(os.path.join(package, points_path))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6))
    counts = sorted({int(r["threads"]) for r in series})
    names = sorted({(r["experiment"], r["series"]) for r in series}, key=lambda k: natural_key(" ".join(k)))
    for experiment, name in names:
        rows = sorted((int(r["threads"]), float(r["median_speedup"])) for r in series
                      if (r["experiment"], r["series"]) == (experiment, name))
        left.plot([1] + [p for p, _ in rows], [1] + [v for _, v in rows], marker="o", ms=3, lw=1,
                  label=f"{experiment} {name}")
    most = max(counts)
    left.plot([1, most], [1, most], color="black", ls="--", lw=1, label="ideal")
    left.set_xlabel("threads p")
    left.set_ylabel("median speedup T(1)/T(p)")
    left.set_title("Speedup per series")
    left.grid(True, alpha=0.3)
    if len(names) <= 12:
        left.legend(fontsize=7)
    at_most = [r for r in points if int(r["threads"]) == most]
    kernels = sorted({int(r["K1"]) * int(r["K2"]) for r in at_most})
    for taps in kernels:
        pts = [(int(r["H"]) * int(r["W"]), float(r["efficiency"])) for r in at_most
               if int(r["K1"]) * int(r["K2"]) == taps]
        right.scatter([x for x, _ in pts], [y for _, y in pts], s=12, alpha=0.7, label=f"K1*K2={taps}")
    right.set_xscale("log")
    right.set_xlabel("input H*W")
    right.set_ylabel(f"parallel efficiency at {most} threads")
    right.set_title("Efficiency against the spatial size")
    right.axhline(1, color="black", ls="--", lw=1)
    right.grid(True, alpha=0.3, which="both")
    if len(kernels) <= 12:
        right.legend(fontsize=7)
    fig.tight_layout()
    files = save(fig, package, "threads-speedup")
    return {
        "experiment": "threads",
        "files": files,
        "x_axis": "threads",
        "series": [f"{e} {n}" for e, n in names],
        "measured_points": len(points),
        "predicted_points": 0,
        "replication_figure": "none (the replication measures one GPU, not thread counts)",
        "original_figure": "none",
        "sources": [source(package, series_path, len(series)), source(package, points_path, len(points))],
    }


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 64
    package = argv[1]
    predictions_path = os.path.join(package, "fit", "predictions.csv")
    try:
        predictions = {r["config_id"]: float(r[PREDICTED_COLUMN]) for r in read_csv(predictions_path)}
    except (OSError, KeyError) as error:
        print(f"plot_figures: cannot read {predictions_path}: {error}", file=sys.stderr)
        return 65
    overlay = None
    models_path = os.path.join(package, "fit", "model-predictions.csv")
    if os.path.exists(models_path):
        rows = read_csv(models_path)
        if rows and "gemm-work_ms" in rows[0]:
            overlay = ("gemm-work", {r["config_id"]: float(r["gemm-work_ms"]) for r in rows if r["gemm-work_ms"]})
    index = []
    data_dir = os.path.join(package, "data")
    for letter in EXPERIMENTS:
        name = f"exp-{letter.lower()}.csv"
        if os.path.exists(os.path.join(data_dir, name)):
            index.append(plot_experiment(package, letter, name, predictions, overlay))
    if os.path.exists(os.path.join(data_dir, "regression.csv")):
        index.append(plot_regression(package, predictions))
        roofline = plot_roofline(package)
        if roofline:
            index.append(roofline)
        errors = plot_model_errors(package)
        if errors:
            index.append(errors)
    if os.path.exists(os.path.join(data_dir, "layers.csv")):
        index.append(plot_layers(package))
    if os.path.exists(os.path.join(package, "networks", "networks.csv")):
        index += plot_networks(package)
    if os.path.exists(os.path.join(package, "threads", "speedup.csv")):
        index.append(plot_threads(package))
    with open(os.path.join(package, "figures", "index.json"), "w") as f:
        json.dump(index, f, indent=2, sort_keys=True)
        f.write("\n")
    for entry in index:
        print(f"plot_figures: {entry['files'][0]}: {entry['measured_points']} measured, "
              f"{entry['predicted_points']} predicted points from {entry['sources'][0]['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
