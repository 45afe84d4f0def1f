#!/usr/bin/env python3
"""Layer benchmark driver for benchmarks/kernels --layers.

The distinct convolution and fully-connected layers of ResNet-50 and MobileNetV2 at 224x224,
batch 1 (torchvision's definitions: ResNet-50 v1.5 with the stride on the 3x3, MobileNetV2 1.0),
timed on one pinned core with one thread: every algorithm convsweep offers for the layer
(`convsweep measure --json`, NCHW in and out, any layout reorder inside the time) and ONNX
Runtime's CPU Conv or Gemm (one intra-op thread, NCHW in and out, graph optimisations on, so
MLAS's own NCHWc reorders are inside its time too). Rounds alternate the two; per layer the
median over rounds of each round's median is kept. The ratio is convsweep's fastest algorithm
(as a user would pick it) over ONNX Runtime, with geometric means per network and layer kind.
"""
import json
import math
import os
import statistics
import subprocess
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from kernels_ort import arguments


def conv(net, h, cin, cout, k, stride=1, pad=None, groups=1):
    pad = k // 2 if pad is None else pad
    return {"net": net, "kind": "conv", "H": h, "W": h, "Cin": cin, "Cout": cout, "K": k,
            "stride": stride, "pad": pad, "groups": groups}


def fc(net, rows, inputs, outputs):
    return {"net": net, "kind": "fc", "M": rows, "Cin": inputs, "Cout": outputs}


def resnet50():
    """ResNet-50's distinct convolutions (53 in all, 23 distinct) and its classifier."""
    layers = [conv("ResNet-50", 224, 3, 64, 7, 2, 3)]
    size, cin = 56, 64
    for width, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        out = width * 4
        # First block: 1x1 reduce at the input size, 3x3 with the stride, 1x1 expand, downsample.
        layers.append(conv("ResNet-50", size, cin, width, 1))
        layers.append(conv("ResNet-50", size, width, width, 3, stride, 1))
        after = size // stride
        layers.append(conv("ResNet-50", after, width, out, 1))
        # The downsample (in the first stage the expand layer's shape: dropped as a repeat).
        layers.append(conv("ResNet-50", size, cin, out, 1, stride, 0))
        # Other blocks: 1x1 reduce, 3x3, 1x1 expand at the new size.
        layers.append(conv("ResNet-50", after, out, width, 1))
        layers.append(conv("ResNet-50", after, width, width, 3, 1, 1))
        size, cin = after, out
    layers.append(fc("ResNet-50", 1, 2048, 1000))
    unique = []
    for layer in layers:
        if layer not in unique:
            unique.append(layer)
    return unique


def mobilenet_v2_depthwise():
    """MobileNetV2's distinct depthwise 3x3 layers (17 in all, 10 distinct) and its classifier."""
    layers = []
    for channels, size, stride in [(32, 112, 1), (96, 112, 2), (144, 56, 1), (144, 56, 2), (192, 28, 1),
                                   (192, 28, 2), (384, 14, 1), (576, 14, 1), (576, 14, 2), (960, 7, 1)]:
        layers.append(conv("MobileNetV2", size, channels, channels, 3, stride, 1, channels))
    layers.append(fc("MobileNetV2", 1, 1280, 1000))
    return layers


def label(layer):
    if layer["kind"] == "fc":
        return f"FC {layer['Cin']}->{layer['Cout']} M={layer['M']}"
    text = f"{layer['K']}x{layer['K']} {layer['Cin']}->{layer['Cout']} @{layer['H']}"
    if layer["stride"] != 1:
        text += f" s{layer['stride']}"
    if layer["groups"] != 1:
        text += " dw" if layer["groups"] == layer["Cin"] else f" g{layer['groups']}"
    return text


def output_size(layer):
    return (layer["H"] + 2 * layer["pad"] - layer["K"]) // layer["stride"] + 1


def candidates(layer, onednn):
    """The algorithms convsweep offers for the layer."""
    if layer["kind"] == "fc":
        return ["fc-gemm"] + (["dnnl-direct", "dnnl-direct-nchw"] if onednn else [])
    names = ["im2col-gemm"]
    if layer["K"] == 1 and layer["stride"] == 1 and layer["pad"] == 0:
        names.append("gemm-1x1")
    if layer["groups"] > 1 and layer["groups"] == layer["Cin"]:
        names.append("depthwise-direct")
    if onednn:
        names += ["dnnl-direct", "dnnl-direct-nchw"]
        if layer["K"] == 3 and layer["stride"] == 1 and layer["groups"] == 1:
            names.append("dnnl-winograd")
    return names


def measure_arguments(layer):
    if layer["kind"] == "fc":
        return ["--fc", "--batch", str(layer["M"]), "--cin", str(layer["Cin"]), "--cout", str(layer["Cout"])]
    return ["--h", str(layer["H"]), "--w", str(layer["W"]), "--cin", str(layer["Cin"]), "--cout",
            str(layer["Cout"]), "-k", str(layer["K"]), "--stride", str(layer["stride"]), "--padding",
            str(layer["pad"]), "--groups", str(layer["groups"])]


def convsweep_ms(binary, core, layer, algorithm, reps):
    result = subprocess.run(
        [binary, "measure", "--json", "--runs", str(reps), "--cpuset", str(core), "--wait", "--algorithm", algorithm]
        + measure_arguments(layer), capture_output=True, text=True)
    if result.returncode != 0:
        return None, result.stderr.strip().splitlines()[0] if result.stderr else "failed"
    row = json.loads(result.stdout)
    return row["median_ms"], row.get("implementation")


def ort_session(layer, rng):
    """A one-node ONNX model of the layer and an input; checks one output element."""
    if layer["kind"] == "fc":
        weights = rng.uniform(-1, 1, size=(layer["Cout"], layer["Cin"])).astype(np.float32)
        node = helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)
        x_shape, y_shape = [layer["M"], layer["Cin"]], [layer["M"], layer["Cout"]]
    else:
        k, g = layer["K"], layer["groups"]
        weights = rng.uniform(-1, 1, size=(layer["Cout"], layer["Cin"] // g, k, k)).astype(np.float32)
        p, s = layer["pad"], layer["stride"]
        node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[k, k], pads=[p, p, p, p],
                                strides=[s, s], dilations=[1, 1], group=g)
        o = output_size(layer)
        x_shape, y_shape = [1, layer["Cin"], layer["H"], layer["W"]], [1, layer["Cout"], o, o]
    graph = helper.make_graph(
        [node], "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)], [numpy_helper.from_array(weights, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    x = rng.uniform(-1, 1, size=x_shape).astype(np.float32)
    y = session.run(None, {"x": x})[0]
    if list(y.shape) != y_shape:
        raise SystemExit(f"ONNX Runtime gives {y.shape} for {label(layer)}, expected {y_shape}")
    # The last output element, computed directly.
    if layer["kind"] == "fc":
        expected = float(np.dot(x[-1].astype(np.float64), weights[-1]))
    else:
        o, s, p, k = output_size(layer), layer["stride"], layer["pad"], layer["K"]
        cin_g = layer["Cin"] // layer["groups"]
        first = (layer["Cout"] - 1) // (layer["Cout"] // layer["groups"]) * cin_g
        expected = 0.0
        for i in range(k):
            for j in range(k):
                iy, ix = (o - 1) * s + i - p, (o - 1) * s + j - p
                if 0 <= iy < layer["H"] and 0 <= ix < layer["W"]:
                    expected += float(np.dot(x[0, first:first + cin_g, iy, ix].astype(np.float64),
                                             weights[-1, :, i, j]))
    got = float(y.reshape(-1)[-1])
    if abs(got - expected) > 1e-3 * max(1.0, abs(expected)):
        raise SystemExit(f"ONNX Runtime's {label(layer)} differs from the layer convsweep measures")
    return session, x


def ort_ms(session, x, reps):
    session.run(None, {"x": x})
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        session.run(None, {"x": x})
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main():
    args = arguments(__doc__, layers=True)
    os.sched_setaffinity(0, {args.core})
    layers = ([] if args.only == "depthwise" else resnet50()) + ([] if args.only == "resnet50" else
                                                                 mobilenet_v2_depthwise())
    rng = np.random.default_rng(1)
    sessions = [ort_session(layer, rng) for layer in layers]
    ours = [{} for _ in layers]      # algorithm -> [round medians]
    theirs = [[] for _ in layers]
    implementations = [{} for _ in layers]
    for _ in range(args.rounds):
        for index, layer in enumerate(layers):
            for algorithm in candidates(layer, args.onednn):
                ms, implementation = convsweep_ms(args.convsweep, args.core, layer, algorithm, args.reps)
                if ms is not None:
                    ours[index].setdefault(algorithm, []).append(ms)
                    if implementation:
                        implementations[index][algorithm] = implementation
            theirs[index].append(ort_ms(*sessions[index], args.reps))

    load = os.getloadavg()
    core = subprocess.run([args.convsweep, "measure", "--json", "--runs", "1", "--h", "1", "--w", "1", "--cin", "1",
                           "--cout", "1", "-k", "1", "--cpuset", str(args.core), "--wait"],
                          capture_output=True, text=True).stdout
    blas = json.loads(core)["openblas_core"] if core else "?"
    print(f"convsweep layer benchmark: ResNet-50 and MobileNetV2 at 224x224, batch 1, one thread pinned to core "
          f"{args.core}, {args.rounds} rounds x {args.reps} reps, median of round medians")
    print(f"OpenBLAS kernels {blas}; ONNX Runtime {ort.__version__} (MLAS); load average {load[0]:.2f} {load[1]:.2f}")
    print()
    print("| network | layer | convsweep best ms | algorithm | ORT ms | ratio | every algorithm (ms) |")
    print("|---|---|---:|---|---:|---:|---|")
    groups = {}
    for index, layer in enumerate(layers):
        medians = {a: statistics.median(v) for a, v in ours[index].items()}
        best = min(medians, key=medians.get)
        peer = statistics.median(theirs[index])
        ratio = medians[best] / peer
        kind = "fc" if layer["kind"] == "fc" else ("depthwise" if layer["groups"] > 1 else "dense")
        groups.setdefault((layer["net"], kind), []).append(ratio)
        shown = best + (f" ({implementations[index][best]})" if best in implementations[index] else "")
        every = ", ".join(f"{a} {m:.3f}" for a, m in sorted(medians.items(), key=lambda item: item[1]))
        print(f"| {layer['net']} | {label(layer)} | {medians[best]:.3f} | {shown} | {peer:.3f} | {ratio:.3f} "
              f"| {every} |")
    print()
    bars = {("ResNet-50", "dense"): "(bar <= 1.00)", ("MobileNetV2", "depthwise"): "(bar <= 1.25)"}
    for (net, kind), ratios in groups.items():
        print(f"geomean convsweep best / ORT, {net} {kind} ({len(ratios)} layers): {geomean(ratios):.3f}  "
              f"{bars.get((net, kind), '(reported)')}")
    # convsweep's own depthwise kernel alone (the default for these layers), without oneDNN's.
    own = [statistics.median(ours[i]["depthwise-direct"]) / statistics.median(theirs[i])
           for i, layer in enumerate(layers) if "depthwise-direct" in ours[i]]
    if own:
        print(f"geomean depthwise-direct / ORT, MobileNetV2 depthwise ({len(own)} layers): {geomean(own):.3f}  "
              f"(issue 39: <= 1.25 on Zen 4 and Intel)")


if __name__ == "__main__":
    main()
