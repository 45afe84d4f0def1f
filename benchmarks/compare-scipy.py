"""Fit alpha-FLOPs to the original study's data with SciPy's curve_fit, as the replication did.

Trust-region reflective ('trf', the method curve_fit uses with bounds), start
p0 = (beta 0.01, gamma 0.8, final 0.3), bounds [0, 2] for all three, absolute residuals,
one fit for K = 1 and one for K > 1, leaving out the plot increasing_batch (a dense layer).

Prints one line per group: n, SciPy's parameters and sum of squares. FLOPs follow the
convention given as second argument (asperti: K*C*S/1e6, standard: 2*K*C*S*batch).
"""
import csv
import json
import sys

import numpy as np
from scipy.optimize import curve_fit


def model(x, beta, gamma, final):
    s, sk, flops = x
    return final * ((sk + beta * (s - sk)) / s) ** gamma * flops


def main():
    path, convention = sys.argv[1], sys.argv[2]
    groups = {"K=1": [], "K>1": []}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["plot"] == "increasing_batch":
                continue
            h, w, cin, cout, k1, k2 = (int(row[c]) for c in ("H", "W", "Cin", "Cout", "K1", "K2"))
            k, s, c = k1 * k2, h * w, cin * cout
            flops = k * c * s / 1e6 if convention == "asperti" else 2.0 * k * c * s
            groups["K=1" if k == 1 else "K>1"].append((s, np.log(k) + 1, flops, float(row["time_ms"])))
    out = {}
    for name, rows in groups.items():
        a = np.array(rows, dtype=float)
        x, y = a[:, :3].T, a[:, 3]
        p, _ = curve_fit(model, x, y, p0=(0.01, 0.8, 0.3), bounds=([0, 0, 0], [2, 2, 2]), method="trf")
        sse = float(np.sum((model(x, *p) - y) ** 2))
        out[name] = {"n": len(rows), "beta": p[0], "gamma": p[1], "final": p[2], "sse": sse}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
