#!/usr/bin/env python3
"""Writes sweeps/networks/*.yaml from torchvision's model definitions (no weights), through the
door a user's own model takes: each network is exported to ONNX and imported by
`convsweep networks import`.

    python generate_networks.py OUT_DIR CONVSWEEP [--keep-onnx DIR] [NAME ...]

Needs torch, torchvision and onnx (scripts/zoo/requirements.txt), which the tests and the main
job do not: the network files are committed data, this script is how they were made. For each
network (torchvision's definition, weights=None, eval mode, seed 0):

1. torch's TorchScript exporter (dynamo=False: it keeps the module names in the node names)
   exports it with a 1x3x224x224 input at opset 17, into DIR when --keep-onnx is given;
2. a forward hook on every nn.Conv2d and nn.Linear records the layers in execution order, as
   PyTorch runs them (a convolution's input size, channels, kernel, stride, padding, dilation and
   groups; a linear layer's rows, the product of its input's leading dimensions, and features),
   written as a network file of its own: the cross-check;
3. `CONVSWEEP networks import` writes OUT_DIR/NAME.yaml from the ONNX file, with torchvision's
   published multiply-accumulate total (the weights' meta `_ops`, in GMACs), and `--compare`
   holds it against the hooks' file: same layers in the same order, counts and MACs, or the
   script stops (exit 1).

benchmarks/onnx-import runs it into a temporary directory and holds the result against the
committed files.
"""
import os
import subprocess
import sys
import tempfile

import torch
import torchvision
from torchvision import models

NETWORKS = [
    ("resnet18", models.resnet18, models.ResNet18_Weights.IMAGENET1K_V1),
    ("resnet50", models.resnet50, models.ResNet50_Weights.IMAGENET1K_V1),
    ("vgg16", models.vgg16, models.VGG16_Weights.IMAGENET1K_V1),
    ("mobilenet_v2", models.mobilenet_v2, models.MobileNet_V2_Weights.IMAGENET1K_V1),
    ("mobilenet_v3_large", models.mobilenet_v3_large, models.MobileNet_V3_Large_Weights.IMAGENET1K_V1),
    ("squeezenet1_1", models.squeezenet1_1, models.SqueezeNet1_1_Weights.IMAGENET1K_V1),
    ("efficientnet_b0", models.efficientnet_b0, models.EfficientNet_B0_Weights.IMAGENET1K_V1),
    ("shufflenet_v2_x1_0", models.shufflenet_v2_x1_0, models.ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1),
    ("densenet121", models.densenet121, models.DenseNet121_Weights.IMAGENET1K_V1),
    ("googlenet", models.googlenet, models.GoogLeNet_Weights.IMAGENET1K_V1),
    ("convnext_tiny", models.convnext_tiny, models.ConvNeXt_Tiny_Weights.IMAGENET1K_V1),
]


def layers_of(model):
    """Every nn.Conv2d and nn.Linear as PyTorch runs them on a 1x3x224x224 input."""
    recorded = []

    def conv_hook(module, inputs, output):
        x = inputs[0]
        pad = module.padding
        if isinstance(pad, str):
            raise SystemExit(f"padding '{pad}' in {module}: write it in numbers")
        recorded.append({
            "kind": "conv", "H": x.shape[2], "W": x.shape[3], "Cin": module.in_channels,
            "Cout": module.out_channels, "K1": module.kernel_size[0], "K2": module.kernel_size[1],
            "stride": list(module.stride), "padding": list(pad), "dilation": list(module.dilation),
            "groups": module.groups})

    def linear_hook(module, inputs, output):
        rows = 1
        for d in inputs[0].shape[:-1]:
            rows *= d
        recorded.append({"kind": "fc", "M": rows, "Cin": module.in_features, "Cout": module.out_features})

    def named(hook, name):
        def record(module, inputs, output):
            hook(module, inputs, output)
            recorded[-1]["name"] = name
        return record  # returns None: the output is left as it is

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(named(conv_hook, name))
        elif isinstance(module, torch.nn.Linear):
            module.register_forward_hook(named(linear_hook, name))
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    return recorded


def line(layer):
    if layer["kind"] == "fc":
        fields = ["layer: fc", f"batch: {layer['M']}", f"Cin: {layer['Cin']}", f"Cout: {layer['Cout']}"]
    else:
        (sh, sw), (ph, pw), (dh, dw) = layer["stride"], layer["padding"], layer["dilation"]
        fields = [f"H: {layer['H']}", f"W: {layer['W']}", f"Cin: {layer['Cin']}", f"Cout: {layer['Cout']}",
                  f"K1: {layer['K1']}", f"K2: {layer['K2']}", f"stride_h: {sh}", f"stride_w: {sw}",
                  f"pad_top: {ph}", f"pad_left: {pw}", f"pad_bottom: {ph}", f"pad_right: {pw}",
                  f"dilation_h: {dh}", f"dilation_w: {dw}", f"groups: {layer['groups']}"]
    return "  - {name: " + layer["name"] + ", " + ", ".join(fields) + "}"


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 64
    out, convsweep, rest = argv[1], argv[2], argv[3:]
    keep = None
    if rest[:1] == ["--keep-onnx"]:
        keep, rest = rest[1], rest[2:]
    wanted = set(rest)
    with tempfile.TemporaryDirectory() as work:
        for name, build, weights in NETWORKS:
            if wanted and name not in wanted:
                continue
            torch.manual_seed(0)
            model = build(weights=None).eval()
            onnx_file = os.path.join(keep or work, f"{name}.onnx")
            with torch.no_grad():
                torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), onnx_file, opset_version=17, dynamo=False,
                                  input_names=["input"], output_names=["output"])
            hooks = os.path.join(work, f"{name}-hooks.yaml")
            with open(hooks, "w") as handle:
                handle.write(f"network: {name}\nsource: forward hooks\nlayers:\n")
                handle.writelines(line(layer) + "\n" for layer in layers_of(model))
            published = weights.meta["_ops"]
            source = (f"torchvision {torchvision.__version__} models.{build.__name__}(weights=None), exported by torch "
                      f"{torch.__version__.split('+')[0]} to ONNX opset 17, input 1x3x224x224")
            subprocess.run([convsweep, "networks", "import", onnx_file, "--name", name, "--source", source,
                            "--published-gmacs", str(published), "--out", os.path.join(out, f"{name}.yaml"),
                            "--compare", hooks], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
