#!/usr/bin/env python3
"""A framework's end-to-end time of an ONNX model, for `convsweep networks reference`.

    ort_reference.py MODEL.onnx N,C,H,W ROUNDS PU

Times MODEL.onnx in ONNX Runtime as a deployment on one core would run it: the CPU execution
provider, one intra-op and one inter-op thread, sequential execution, every graph optimisation
(ORT's default), pinned to PU (os.sched_setaffinity before the session exists, so the session's
thread is the calling one, on PU). The input is seeded random data of shape N,C,H,W (the first
graph input; float32).

Warm-up: 3 runs. Then ROUNDS rounds; a round runs the model at least 5 times and for at least
0.2 s, and its time is the median of its runs. Prints one JSON object:

    {"framework": "onnxruntime", "version": "1.32.0", "pu": 1, "threads": 1,
     "round_medians_ms": [...], "runs_per_round": [...], "optimization": "ORT_ENABLE_ALL"}

A model ONNX Runtime cannot load or run prints {"error": TEXT} and exits 65; exit status 3 when
onnxruntime cannot be imported.
"""
import json
import os
import statistics
import sys
import time


def main(argv):
    if len(argv) != 5:
        print("usage: ort_reference.py MODEL.onnx N,C,H,W ROUNDS PU", file=sys.stderr)
        return 64
    path, shape, rounds, pu = argv[1], [int(v) for v in argv[2].split(",")], int(argv[3]), int(argv[4])
    os.sched_setaffinity(0, {pu})
    try:
        import numpy
        import onnxruntime as ort
    except ImportError as error:
        print(json.dumps({"error": f"onnxruntime is not installed in {sys.executable} ({error})"}))
        return 3
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        data = numpy.random.default_rng(0).standard_normal(shape, dtype=numpy.float32)
        feed = {name: data}
        for _ in range(3):
            session.run(None, feed)
        medians, counts = [], []
        for _ in range(rounds):
            times, start = [], time.perf_counter()
            while len(times) < 5 or time.perf_counter() - start < 0.2:
                t0 = time.perf_counter_ns()
                session.run(None, feed)
                times.append((time.perf_counter_ns() - t0) / 1e6)
            medians.append(statistics.median(times))
            counts.append(len(times))
    except Exception as error:  # onnxruntime's own errors: a model it cannot load or run
        text = str(error).strip().splitlines()
        print(json.dumps({"error": f"ONNX Runtime cannot run the model: {text[0] if text else type(error).__name__}"}))
        return 65
    print(json.dumps({
        "framework": "onnxruntime", "version": ort.__version__, "pu": pu, "threads": 1,
        "round_medians_ms": medians, "runs_per_round": counts, "optimization": "ORT_ENABLE_ALL",
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
