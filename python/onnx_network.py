#!/usr/bin/env python3
"""The convolution and fully-connected layers of an ONNX model, for `convsweep networks import`.

    onnx_network.py MODEL.onnx [N,C,H,W]

Reads MODEL.onnx with the `onnx` package (never its external data: only shapes are read), sets the
first graph input to N,C,H,W when given (needed when the model's input has a dynamic dimension),
runs ONNX's own shape inference (strict, with data propagation), and prints one JSON object on
standard output:

    {"sha256": HEX, "opset": 17, "ir_version": 8, "producer": "pytorch 2.9.1",
     "inputs": [{"name": "x", "shape": [1, 3, 224, 224]}],
     "layers": [{"name": "conv1", "kind": "conv", "batch": 1, "H": 224, "W": 224, "Cin": 3,
                 "Cout": 64, "K1": 7, "K2": 7, "stride": [2, 2], "pads": [3, 3, 3, 3],
                 "dilation": [1, 1], "groups": 1},
                {"name": "fc", "kind": "fc", "rows": 1, "Cin": 512, "Cout": 1000}, ...],
     "uncounted": {"Relu": 17, "MatMul (between activations)": 2, ...}}

`layers` is every 2-D Conv and every Gemm or MatMul with a constant weight operand, in the graph's
order (ONNX stores nodes topologically sorted); `pads` is [top, left, bottom, right] with
`auto_pad` resolved; a fully-connected layer's `rows` is the product of its activation's leading
dimensions. `uncounted` counts every other operator by type, nodes that compute only constants
(folded weights) and `Constant` nodes aside.

A model it cannot read prints {"error": TEXT, "node": NAME or null} and exits 65: not an ONNX
model, a truncated file, an opset outside what the installed onnx knows, a dynamic input
dimension without N,C,H,W, a Conv or Gemm whose shapes depend on the data, a Conv whose weights
are computed. Exit status 3 when the onnx package cannot be imported.
"""
import hashlib
import json
import math
import sys

DATA_ERROR = 65


class ModelError(Exception):
    def __init__(self, message, node=None):
        super().__init__(message)
        self.node = node


def fail(message, node=None):
    raise ModelError(message, node)


def printable(text, limit=200):
    """A name from the file as it may be printed: no control characters, at most `limit` long."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= limit else clean[:limit] + "…"


def node_name(node, index):
    return printable(node.name or (node.output[0] if node.output else f"node {index}"))


def layer_name(node, index):
    """The module path of a PyTorch export (`/layer1/layer1.0/conv1/Conv` -> `layer1.0.conv1`),
    else the node's name."""
    name = node_name(node, index)
    if not name.startswith("/"):
        return name
    # Each scope is a module's name, written after its parent's as `parent.child` when the
    # parent is a container: `/layer2/layer2.0/downsample/downsample.0/Conv` is
    # layer2 . 0 . downsample . 0. The last part is the operator.
    parts = [p for p in name.split("/") if p][:-1]
    path, parent = [], None
    for part in parts:
        path.append(part[len(parent) + 1:] if parent and part.startswith(parent + ".") else part)
        parent = part
    return printable(".".join(path)) or name


def load(path):
    try:
        import onnx
        from onnx import shape_inference
    except ImportError as error:
        print(f"onnx_network.py: the onnx package is not installed in {sys.executable} ({error})", file=sys.stderr)
        sys.exit(3)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        fail(f"cannot read the file ({error.strerror})")
    digest = hashlib.sha256(data).hexdigest()
    if not data:
        fail("the file is empty, not an ONNX model")
    try:
        model = onnx.ModelProto()
        model.ParseFromString(data)
    except Exception as error:  # protobuf's DecodeError, and anything a hostile file provokes
        fail(f"not an ONNX model, or a truncated one: it does not parse as an ONNX ModelProto ({error})")
    if model.ir_version <= 0 or not model.HasField("graph") or not model.opset_import:
        fail("not an ONNX model: it has no IR version, graph or opset (a truncated file or another format)")
    return onnx, shape_inference, model, digest


def main(argv):
    if len(argv) not in (2, 3):
        print("usage: onnx_network.py MODEL.onnx [N,C,H,W]", file=sys.stderr)
        return 64
    try:
        result = read(argv[1], argv[2] if len(argv) == 3 else None)
    except ModelError as error:
        print(json.dumps({"error": str(error), "node": error.node}))
        return DATA_ERROR
    except RecursionError:
        print(json.dumps({"error": "the model nests too deeply to read", "node": None}))
        return DATA_ERROR
    print(json.dumps(result))
    return 0


def read(path, input_shape):
    onnx, shape_inference, model, digest = load(path)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        fail("the model imports no opset of the default ONNX domain")
    if opset < 7 or opset > newest:
        fail(f"opset {opset} is not supported: the onnx package {onnx.__version__} reads opsets 7 to {newest}")
    if model.ir_version > onnx.IR_VERSION:
        fail(f"IR version {model.ir_version} is newer than the onnx package {onnx.__version__} reads ({onnx.IR_VERSION})")
    graph = model.graph
    initializers = {t.name: list(t.dims) for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if not inputs:
        fail("the graph has no input")
    if input_shape is not None:
        set_shape(inputs[0], input_shape)
    described = []
    for value in inputs:
        if not value.type.HasField("tensor_type"):
            fail(f"graph input '{printable(value.name)}' is not a tensor")
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                for d in value.type.tensor_type.shape.dim]
        if not value.type.tensor_type.HasField("shape") or None in dims:
            shown = "x".join("?" if d is None else str(d) for d in dims) or "unknown"
            hint = "give --input-shape N,C,H,W" if value is inputs[0] else "only the first input takes --input-shape"
            fail(f"graph input '{printable(value.name)}' has a dynamic shape ({shown}): {hint}")
        described.append({"name": printable(value.name), "shape": dims})
    inferred = fold_shape_arithmetic(onnx, shape_inference, model)
    shapes = shapes_of(inferred.graph, initializers)
    layers, uncounted = walk(inferred.graph, shapes, initializers)
    return {
        "sha256": digest, "opset": opset, "ir_version": model.ir_version,
        "producer": printable(" ".join(p for p in (model.producer_name, model.producer_version) if p), 80),
        "inputs": described, "layers": layers, "uncounted": uncounted,
    }


def infer(shape_inference, model):
    try:
        return shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except Exception as error:  # onnx.shape_inference.InferenceError and checker errors
        fail(f"ONNX shape inference failed: {printable(first_line(error), 400)}")


SMALL = 65536  # elements: shape arithmetic is folded, weights are not computed


def fold_shape_arithmetic(onnx, shape_inference, model):
    """Shape inference, with the shape arithmetic of exporters folded: a `Shape` of a tensor whose
    shape is known is a constant, and so is every small computation on constants (`Gather`,
    `Add`, `Div`, `Concat` of shapes feeding a `Slice` or a `Reshape`), evaluated by onnx's
    reference evaluator and put in the graph as an initializer; inference is run again until
    nothing more folds. What depends on the data (`NonZero`, a graph input's values) never folds."""
    import numpy
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator
    inferred = infer(shape_inference, model)
    for _ in range(64):
        graph = inferred.graph
        values = {t.name: numpy_helper.to_array(t) for t in graph.initializer
                  if size_of(t.dims) <= SMALL and not t.data_location}
        shapes = shapes_of(graph, {})
        outputs = {o.name for o in graph.output}
        folded = {}
        for index, node in enumerate(graph.node):
            if node.op_type == "Constant" and not node.domain:
                try:
                    values[node.output[0]] = ReferenceEvaluator(node).run(None, {})[0]
                except Exception:  # a Constant the evaluator cannot read stays unknown
                    pass
                continue
            value = None
            if any(o in outputs for o in node.output):
                continue  # what the model returns stays a node
            if node.op_type == "Shape" and not node.domain:
                shape = shapes.get(node.input[0])
                if shape is not None and None not in shape:
                    a = {x.name: x.i for x in node.attribute}
                    value = [numpy.array(shape[a.get("start", 0):a.get("end", len(shape))], dtype=numpy.int64)]
            elif (node.input and all(i in values for i in node.input if i)
                  and not node.domain and not node.op_type.startswith("Random")
                  and sum(values[i].size for i in node.input if i) <= SMALL
                  and all(shapes.get(o) is not None and None not in shapes[o] and size_of(shapes[o]) <= SMALL
                          for o in node.output)):  # never evaluated into an unbounded output
                try:
                    value = ReferenceEvaluator(node).run(None, {i: values[i] for i in node.input if i})
                except Exception:
                    value = None
            if value is not None and all(getattr(v, "size", SMALL + 1) <= SMALL for v in value):
                for name, v in zip(node.output, value):
                    values[name] = v
                folded[index] = [numpy_helper.from_array(v, name) for name, v in zip(node.output, value)]
        if not folded:
            return inferred
        kept = [n for i, n in enumerate(graph.node) if i not in folded]
        added = [t for i in sorted(folded) for t in folded[i]]
        del graph.node[:]
        graph.node.extend(kept)
        graph.initializer.extend(added)
        del graph.value_info[:]
        inferred = infer(shape_inference, inferred)
    return inferred


def size_of(dims):
    return math.prod(dims) if dims else 1


def first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def set_shape(value, text):
    try:
        dims = [int(part) for part in text.split(",")]
    except ValueError:
        fail(f"--input-shape '{text}' is not N,C,H,W in positive integers")
    if any(d <= 0 for d in dims):
        fail(f"--input-shape '{text}' is not N,C,H,W in positive integers")
    shape = value.type.tensor_type.shape
    if len(shape.dim) != len(dims):
        fail(f"--input-shape '{text}' has {len(dims)} dimensions; graph input '{printable(value.name)}' has {len(shape.dim)}")
    for dim, size in zip(shape.dim, dims):
        dim.Clear()
        dim.dim_value = size


def shapes_of(graph, initializers):
    shapes = dict(initializers)
    for value in list(graph.input) + list(graph.value_info) + list(graph.output):
        if value.type.HasField("tensor_type") and value.type.tensor_type.HasField("shape"):
            shapes[value.name] = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                                  for d in value.type.tensor_type.shape.dim]
    return shapes


def attributes(node):
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def known(shapes, name, node, index, what, rank=None):
    shape = shapes.get(name)
    if shape is None or None in shape:
        shown = "unknown" if shape is None else "x".join("?" if d is None else str(d) for d in shape)
        fail(f"{printable(node.op_type)} node '{node_name(node, index)}': the shape of its {what} '{printable(name)}' depends on the data "
             f"({shown}); convsweep needs every layer's shape before it runs", node_name(node, index))
    if rank is not None and len(shape) != rank:
        fail(f"{node.op_type} node '{node_name(node, index)}': its {what} '{printable(name)}' has rank {len(shape)}, not {rank}",
             node_name(node, index))
    return shape


def walk(graph, shapes, initializers):
    constant = set(initializers)
    layers, uncounted = [], {}

    def count(kind):
        uncounted[kind] = uncounted.get(kind, 0) + 1

    for index, node in enumerate(graph.node):
        domain = node.domain if node.domain not in ("", "ai.onnx") else ""
        if node.op_type == "Constant" and not domain:
            constant.update(node.output)
            continue
        if node.input and all(not i or i in constant for i in node.input) and not node.op_type.startswith("Random"):
            constant.update(node.output)  # folded at load time by any runtime: weights, not work
            continue
        for attribute in node.attribute:
            if attribute.g.node or any(g.node for g in attribute.graphs):
                subgraphs = [attribute.g] + list(attribute.graphs)
                hidden = sum(1 for g in subgraphs for n in g.node if n.op_type in ("Conv", "Gemm", "MatMul"))
                if hidden:
                    count(f"Conv/Gemm/MatMul inside {node.op_type} (not read)")
        kind = printable(f"{domain}.{node.op_type}" if domain else node.op_type, 80)
        if kind == "Conv":
            layer = conv(node, index, shapes, constant)
        elif kind == "Gemm":
            layer = gemm(node, index, shapes, constant)
        elif kind == "MatMul":
            layer = matmul(node, index, shapes, constant)
        else:
            layer = None
            count(kind)
        if isinstance(layer, str):
            count(layer)
        elif layer is not None:
            layers.append(layer)
    return layers, uncounted


def conv(node, index, shapes, constant):
    name = node_name(node, index)
    x = known(shapes, node.input[0], node, index, "input")
    if len(x) != 4:
        return f"Conv ({len(x) - 2}-D)"
    if len(node.input) < 2 or node.input[1] not in constant:
        fail(f"Conv node '{name}': its weights '{printable(node.input[1]) if len(node.input) > 1 else ''}' are not constant "
             "(computed by the graph): convsweep measures a convolution by its weights' shape", name)
    w = known(shapes, node.input[1], node, index, "weights", rank=4)
    a = attributes(node)
    groups = int(a.get("group", 1))
    strides = [int(v) for v in a.get("strides", [1, 1])]
    dilations = [int(v) for v in a.get("dilations", [1, 1])]
    kernel = [int(v) for v in a.get("kernel_shape", w[2:])]
    if kernel != w[2:]:
        fail(f"Conv node '{name}': kernel_shape {kernel} differs from its weights' {w[2:]}", name)
    if len(strides) != 2 or len(dilations) != 2 or min(strides + dilations) < 1:
        fail(f"Conv node '{name}': strides {strides} or dilations {dilations} are not two positive numbers", name)
    auto_pad = a.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad in ("", "NOTSET"):
        pads = [int(v) for v in a.get("pads", [0, 0, 0, 0])]
        if len(pads) != 4 or min(pads) < 0:
            fail(f"Conv node '{name}': pads {pads} are not four numbers of at least 0", name)
        top, left, bottom, right = pads[0], pads[1], pads[2], pads[3]
    elif auto_pad == "VALID":
        top = left = bottom = right = 0
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        (top, bottom), (left, right) = [
            same_pads(x[2 + axis], strides[axis], dilations[axis], kernel[axis], auto_pad) for axis in (0, 1)]
    else:
        fail(f"Conv node '{name}': auto_pad '{auto_pad}' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", name)
    if groups < 1 or x[1] % groups or w[0] % groups or w[1] * groups != x[1]:
        fail(f"Conv node '{name}': {x[1]} input channels, weights {w} and group {groups} do not agree", name)
    # The layer as read must give the output ONNX's inference gave: a check of the geometry read.
    size = [(x[2 + a] + p - dilations[a] * (kernel[a] - 1) - 1) // strides[a] + 1
            for a, p in ((0, top + bottom), (1, left + right))]
    out = shapes.get(node.output[0])
    if min(size) < 1 or (out is not None and len(out) == 4 and None not in out[2:] and out[2:] != size):
        fail(f"Conv node '{name}': the layer as read gives a {size[0]}x{size[1]} output, ONNX infers {out}", name)
    return {
        "name": layer_name(node, index), "kind": "conv", "batch": x[0], "H": x[2], "W": x[3], "Cin": x[1],
        "Cout": w[0], "K1": kernel[0], "K2": kernel[1], "stride": strides, "pads": [top, left, bottom, right],
        "dilation": dilations, "groups": groups,
    }


def same_pads(size, stride, dilation, kernel, mode):
    out = math.ceil(size / stride)
    total = max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size)
    small, large = total // 2, total - total // 2
    return (small, large) if mode == "SAME_UPPER" else (large, small)


def gemm(node, index, shapes, constant):
    a = attributes(node)
    left = known(shapes, node.input[0], node, index, "input A", rank=2)
    right = known(shapes, node.input[1], node, index, "input B", rank=2)
    m, k = (left[1], left[0]) if a.get("transA", 0) else (left[0], left[1])
    n = right[0] if a.get("transB", 0) else right[1]
    if node.input[1] in constant:
        return {"name": layer_name(node, index), "kind": "fc", "rows": m, "Cin": k, "Cout": n}
    if node.input[0] in constant:  # weights on the left: Y^T = B^T A^T, rows are B's columns
        return {"name": layer_name(node, index), "kind": "fc", "rows": n, "Cin": k, "Cout": m}
    return "Gemm (between activations)"


def matmul(node, index, shapes, constant):
    left = known(shapes, node.input[0], node, index, "input A")
    right = known(shapes, node.input[1], node, index, "input B")
    if node.input[1] in constant and len(right) == 2:
        rows = math.prod(left[:-1]) if len(left) > 1 else 1
        return {"name": layer_name(node, index), "kind": "fc", "rows": rows, "Cin": right[0], "Cout": right[1]}
    if node.input[0] in constant and len(left) == 2:
        rows = math.prod(right[:-2]) * right[-1] if len(right) > 1 else 1
        return {"name": layer_name(node, index), "kind": "fc", "rows": rows, "Cin": left[1], "Cout": left[0]}
    if node.input[0] in constant or node.input[1] in constant:
        return "MatMul (batched constant weights)"
    return "MatMul (between activations)"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
