#!/usr/bin/env python3
"""Writes the small ONNX models the tests of `convsweep networks import` read (committed).

    python make_fixtures.py OUT_DIR

Needs only the onnx package (python/requirements.txt). Each model's weights are zeros: the
importer reads shapes, never values. What each holds, and what importing it must give:

- layers.onnx (opset 17, input 1x3x32x32): a Conv of stride 2 with asymmetric pads, a depthwise
  Conv with auto_pad SAME_UPPER, a grouped 1x1 Conv with auto_pad VALID, a dilated Conv, two equal
  Convs in a row (one layer, count 2), GlobalAveragePool, Flatten, a Gemm with transB, a MatMul
  with constant weights, and a MatMul between activations (not counted), Relu and Add.
- dynamic_batch.onnx (opset 13, input Nx3x16x16): a Conv, Flatten and a Gemm; needs --input-shape.
- computed_weights.onnx: a Conv whose weights are a graph input (refused, node `conv_w`).
- data_dependent.onnx: a Conv whose input is reshaped by a graph input (refused, node `conv_dd`).
- opset99.onnx: a model that asks for opset 99 (refused).
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def weights(name, *shape):
    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def save(graph, path, opset):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_fixtures")
    model.ir_version = 8
    onnx.save(model, path)


def layers(out):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, None)
    nodes = [
        # 32x32 -> pads top 1, left 0, bottom 2, right 1 -> (32+3-3)/2+1 = 17, (32+1-3)/2+1 = 16
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="/stem/Conv", strides=[2, 2], pads=[1, 0, 2, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="/stem/Relu"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="/block/dw/Conv", group=8, auto_pad="SAME_UPPER",
                         strides=[2, 2]),
        helper.make_node("Conv", ["c2", "w3"], ["c3"], name="/block/pw/Conv", group=2, auto_pad="VALID"),
        helper.make_node("Conv", ["c3", "w4"], ["c4"], name="dilated", dilations=[2, 2], pads=[2, 2, 2, 2]),
        helper.make_node("Conv", ["c4", "w5"], ["c5"], name="/layer/layer.0/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["c5", "w5"], ["c6"], name="/layer/layer.1/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c6", "c4"], ["a1"], name="add"),
        helper.make_node("GlobalAveragePool", ["a1"], ["g"], name="pool"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wfc", "bfc"], ["y"], name="/fc/Gemm", transB=1),
        helper.make_node("MatMul", ["f", "wm"], ["m"], name="/proj/MatMul"),
        helper.make_node("Transpose", ["m"], ["mt"], name="transpose", perm=[1, 0]),
        helper.make_node("MatMul", ["mt", "m"], ["z"], name="/attention/MatMul"),
    ]
    initializers = [
        weights("w1", 8, 3, 3, 3), weights("b1", 8), weights("w2", 8, 1, 3, 3), weights("w3", 16, 4, 1, 1),
        weights("w4", 16, 16, 3, 3), weights("w5", 16, 16, 3, 3), weights("wfc", 10, 16), weights("bfc", 10),
        weights("wm", 16, 4),
    ]
    save(helper.make_graph(nodes, "layers", [x], [y, z], initializers), f"{out}/layers.onnx", 17)


def dynamic_batch(out):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 16, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Flatten", ["c"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wfc"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "dynamic_batch", [x], [y], [weights("w", 4, 3, 3, 3), weights("wfc", 5, 1024)])
    save(graph, f"{out}/dynamic_batch.onnx", 13)


def computed_weights(out):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    w = helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3, 3, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_w", pads=[1, 1, 1, 1])]
    save(helper.make_graph(nodes, "computed_weights", [x, w], [y]), f"{out}/computed_weights.onnx", 17)


def data_dependent(out):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    shape = helper.make_tensor_value_info("shape", TensorProto.INT64, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
        helper.make_node("Conv", ["r", "w"], ["y"], name="conv_dd"),
    ]
    graph = helper.make_graph(nodes, "data_dependent", [x, shape], [y], [weights("w", 4, 3, 3, 3)])
    save(graph, f"{out}/data_dependent.onnx", 17)


def opset99(out):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "opset99", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 99)], producer_name="make_fixtures")
    model.ir_version = 8
    onnx.save(model, f"{out}/opset99.onnx")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(64)
    for make in (layers, dynamic_batch, computed_weights, data_dependent, opset99):
        make(sys.argv[1])
