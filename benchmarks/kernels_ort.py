#!/usr/bin/env python3
"""Kernel benchmark driver for benchmarks/kernels.

Alternates rounds of `convsweep bench-kernels --json` (convsweep's conv2d and one plain
cblas_sgemm on an already lowered input, interleaved inside the process) with rounds of
ONNX Runtime's CPU Conv (one intra-op thread) on the same shapes, everything pinned to one
core. Per shape it keeps the median over rounds of each round's median, and prints the
medians, the ratios, GFLOP/s, the fraction of the machine's large-sgemm rate and the
geometric means.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def conv_model(h, w, cin, cout, k, rng):
    """A one-node ONNX Conv with convsweep's padding: (K-1)/2 before, K/2 after."""
    weights = rng.uniform(-1, 1, size=(cout, cin, k, k)).astype(np.float32)
    begin, end = (k - 1) // 2, k // 2
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], kernel_shape=[k, k], pads=[begin, begin, end, end],
        strides=[1, 1], dilations=[1, 1], group=1)
    graph = helper.make_graph(
        [node], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, h, w])],
        [numpy_helper.from_array(weights, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString(), weights


def reference_corner(x, weights, k):
    """Output (0, 0, 0, 0) computed directly, to check ONNX Runtime uses our padding."""
    begin = (k - 1) // 2
    total = 0.0
    for i in range(k):
        for j in range(k):
            iy, ix = i - begin, j - begin
            if 0 <= iy < x.shape[2] and 0 <= ix < x.shape[3]:
                total += float(np.dot(x[0, :, iy, ix].astype(np.float64), weights[0, :, i, j]))
    return total


def ort_medians(shapes, reps):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    rng = np.random.default_rng(1)
    result = {}
    for s in shapes:
        h, w, cin, cout, k = s["H"], s["W"], s["Cin"], s["Cout"], s["K"]
        model, weights = conv_model(h, w, cin, cout, k, rng)
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        x = rng.uniform(-1, 1, size=(1, cin, h, w)).astype(np.float32)
        y = session.run(None, {"x": x})[0]
        expected = reference_corner(x, weights, k)
        if abs(y[0, 0, 0, 0] - expected) > 1e-3 * max(1.0, abs(expected)):
            raise SystemExit(f"ONNX Runtime padding differs from convsweep's on {s['label']}")
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            session.run(None, {"x": x})
            times.append(time.perf_counter() - start)
        result[s["label"]] = statistics.median(times) * 1e3
    return result


def arguments(doc, layers=False):
    """The options both kernel benchmarks take (layers_ort.py imports this; `layers` adds its own)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if layers:
        parser.add_argument("--only", choices=["resnet50", "depthwise"],
                            help="time only ResNet-50's layers or only MobileNetV2's depthwise layers")
    parser.add_argument("--convsweep", required=True, help="path of the release convsweep binary")
    parser.add_argument("--core", type=int, default=1, help="the core to pin to")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=11)
    parser.add_argument("--onednn", action="store_true", help="also time convsweep's oneDNN algorithms")
    return parser.parse_args()


def main():
    args = arguments(__doc__)
    os.sched_setaffinity(0, {args.core})

    swift_rounds, ort_rounds, rates = [], [], []
    shapes, header = None, None
    for _ in range(args.rounds):
        output = subprocess.run(
            ["taskset", "-c", str(args.core), args.convsweep, "bench-kernels", "--json",
             "--reps", str(args.reps)] + (["--onednn"] if args.onednn else []),
            check=True, capture_output=True, text=True).stdout
        lines = [json.loads(line) for line in output.splitlines() if line.strip()]
        header, rows = lines[0], lines[1:]
        rates.append(header["large_sgemm_gflops"])
        shapes = rows
        swift_rounds.append({r["label"]: r for r in rows})
        ort_rounds.append(ort_medians(rows, args.reps))

    rate = statistics.median(rates)
    load = os.getloadavg()
    print(f"convsweep kernel benchmark: one thread pinned to core {args.core}, "
          f"{args.rounds} rounds x {args.reps} interleaved reps, median of round medians")
    print(f"OpenBLAS: {header['openblas']} ({header['core']}); ONNX Runtime {ort.__version__}; "
          f"large sgemm {header['large_n']}^3: {rate:.1f} GFLOP/s; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print()
    print("| shape | H | W | Cin | Cout | K | convsweep ms | lowering % | sgemm ms | ORT ms "
          "| conv/sgemm | conv/ORT | GFLOP/s | of large sgemm |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios_sgemm, ratios_ort, ratios_ort_k1 = [], [], []
    for s in shapes:
        label = s["label"]
        conv = statistics.median(r[label]["conv_ms"] for r in swift_rounds)
        plain = statistics.median(r[label]["sgemm_ms"] for r in swift_rounds)
        lowering = statistics.median(r[label]["lowering_ms"] for r in swift_rounds)
        onnx_ms = statistics.median(r[label] for r in ort_rounds)
        gflops = s["flops"] / conv / 1e6
        if s["K"] > 1:
            ratios_sgemm.append(conv / plain)
        ratios_ort.append(conv / onnx_ms)
        print(f"| {label} | {s['H']} | {s['W']} | {s['Cin']} | {s['Cout']} | {s['K']} | {conv:.3f} "
              f"| {100 * lowering / conv:.1f} | {plain:.3f} | {onnx_ms:.3f} | {conv / plain:.3f} "
              f"| {conv / onnx_ms:.3f} | {gflops:.1f} | {gflops / rate:.2f} |")

    def geomean(values):
        return math.exp(sum(math.log(v) for v in values) / len(values))

    print()
    print(f"geomean convsweep/sgemm, K > 1 ({len(ratios_sgemm)} shapes): {geomean(ratios_sgemm):.3f}  (bar <= 1.08)")
    print(f"geomean convsweep/ORT, all ({len(ratios_ort)} shapes): {geomean(ratios_ort):.3f}  (bar <= 1.30)")
    if args.onednn:
        onednn_table(shapes, swift_rounds, ort_rounds, geomean)


def onednn_table(shapes, swift_rounds, ort_rounds, geomean):
    """The backends side by side: per shape the median over rounds of each algorithm's round
    median, as a ratio to ONNX Runtime; the primitive alone and the whole call (reorders of the
    activations from and to NCHW included), and convsweep's timing against a bare C call."""
    algorithms = [b["algorithm"] for b in shapes[0].get("backends", [])]
    def median_of(label, algorithm, key):
        values = [next(b for b in r[label]["backends"] if b["algorithm"] == algorithm).get(key) for r in swift_rounds]
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None
    print()
    print("| shape | K | ORT ms | im2col+OpenBLAS / ORT | " + " | ".join(f"{a} / ORT" for a in algorithms)
          + " | dnnl-direct with reorders / ORT | fastest oneDNN / ORT | implementations |")
    print("|---|---:|---:|---:|" + "---:|" * len(algorithms) + "---:|---:|---|")
    fastest, direct, direct_whole, overheads, k_big = [], [], [], [], []
    for s in shapes:
        label = s["label"]
        onnx_ms = statistics.median(r[label] for r in ort_rounds)
        conv = statistics.median(r[label]["conv_ms"] for r in swift_rounds)
        cells, times, impls = [], [], []
        whole_cell = "–"
        for a in algorithms:
            primitive = median_of(label, a, "primitive_ms")
            whole = median_of(label, a, "ms")
            bare = median_of(label, a, "bare_ms")
            if primitive is None:
                cells.append("refused")
                continue
            cells.append(f"{primitive / onnx_ms:.3f}")
            times.append(primitive)
            impl = next(b for b in swift_rounds[0][label]["backends"] if b["algorithm"] == a).get("implementation")
            impls.append(f"{a}: {impl}")
            if bare:
                overheads.append(whole / bare)
            if a == "dnnl-direct":
                direct.append(primitive / onnx_ms)
                direct_whole.append(whole / onnx_ms)
                whole_cell = f"{whole / onnx_ms:.3f}"
        best = min(times) / onnx_ms
        fastest.append(best)
        if s["K"] > 1:
            k_big.append(best)
        print(f"| {label} | {s['K']} | {onnx_ms:.3f} | {conv / onnx_ms:.3f} | " + " | ".join(cells)
              + f" | {whole_cell} | {best:.3f} | {'; '.join(impls)} |")
    print()
    print(f"geomean fastest oneDNN algorithm (primitive) / ORT, all {len(fastest)} shapes: {geomean(fastest):.3f}  (bar <= 0.90); K > 1: {geomean(k_big):.3f}")
    print(f"geomean dnnl-direct, layouts oneDNN prefers (primitive) / ORT: {geomean(direct):.3f}  (bar <= 1.00); "
          f"with the per-call NCHW reorders: {geomean(direct_whole):.3f}")
    print(f"convsweep's oneDNN timing / a bare C call of the same work: geomean {geomean(overheads):.4f}, "
          f"largest {max(overheads):.4f} over {len(overheads)} (algorithm, shape) pairs  (bar <= 1.03)")


if __name__ == "__main__":
    main()
