#!/usr/bin/env python3
"""Draw the figure of a `convsweep compare` from its compare.csv alone.

Usage: plot_compare.py OUT_DIR

Reads   OUT_DIR/compare.csv
Writes  OUT_DIR/ratio-vs-flops.png and .svg: each configuration's ratio B/A (log) against its
        FLOPs (log), with its 95% interval; slower in red, faster in blue, no significant change in
        grey.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convsweep_rows  # noqa: E402  (the one reader of runs, packages and their CSVs)

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams["svg.hashsalt"] = "convsweep"
COLOURS = {"slower": "C3", "faster": "C0", "no significant change": "0.55"}


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 64
    out = argv[1]
    try:
        rows = convsweep_rows.table(os.path.join(out, "compare.csv"))
    except OSError as error:
        print(f"plot_compare: cannot read {out}/compare.csv: {error}", file=sys.stderr)
        return 65
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    for verdict, colour in COLOURS.items():
        members = [r for r in rows if r["verdict"] == verdict]
        if not members:
            continue
        xs = [float(r["flops"]) for r in members]
        ys = [float(r["ratio"]) for r in members]
        low = [max(0.0, y - float(r["ratio_low"])) for y, r in zip(ys, members)]
        high = [max(0.0, float(r["ratio_high"]) - y) for y, r in zip(ys, members)]
        ax.errorbar(xs, ys, yerr=[low, high], fmt="o", markersize=3, color=colour, ecolor=colour,
                    elinewidth=0.7, alpha=0.8, label=f"{verdict} ({len(members)})")
    ax.axhline(1.0, color="k", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("FLOPs of the configuration")
    ax.set_ylabel("time B / time A (95% interval)")
    ax.set_title("Per-configuration ratio of two runs")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "ratio-vs-flops.png"), dpi=120, metadata={"Software": None})
    fig.savefig(os.path.join(out, "ratio-vs-flops.svg"), metadata={"Date": None, "Creator": None})
    print(f"plot_compare: {out}/ratio-vs-flops.png: {len(rows)} configurations")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
