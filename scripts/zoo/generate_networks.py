#!/usr/bin/env python3
"""Writes sweeps/networks/*.yaml from torchvision's model definitions (no weights).

    python generate_networks.py OUT_DIR

Needs torch and torchvision (scripts/zoo/requirements.txt), which the tests and the main job do
not: the network files are committed data, this script is how they were made. Each network is
built as torchvision defines it (weights=None, eval mode), a 1x3x224x224 input is run through it,
and a forward hook on every nn.Conv2d and nn.Linear records the layer in execution order: a
convolution's input size, channels, kernel, stride, padding, dilation and groups; a linear
layer's rows (the product of its input's leading dimensions: 1 for a classifier, H*W for a layer
applied at every position) and features. Consecutive identical layers are written once with their
count. The published multiply-accumulate total is torchvision's (the weights' meta `_ops`, in
GMACs), with the torchvision version that gave it.
"""
import sys

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
            "groups": module.groups, "Ho": output.shape[2], "Wo": output.shape[3]})

    def linear_hook(module, inputs, output):
        x = inputs[0]
        rows = 1
        for d in x.shape[:-1]:
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
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    return recorded


def macs(layer):
    if layer["kind"] == "fc":
        return layer["M"] * layer["Cin"] * layer["Cout"]
    return layer["Ho"] * layer["Wo"] * layer["Cout"] * (layer["Cin"] // layer["groups"]) * layer["K1"] * layer["K2"]


def shape_key(layer):
    return tuple((k, str(v)) for k, v in sorted(layer.items()) if k != "name")


def line(layer, count):
    if layer["kind"] == "fc":
        fields = [f"layer: fc", f"batch: {layer['M']}", f"Cin: {layer['Cin']}", f"Cout: {layer['Cout']}"]
    else:
        fields = [f"H: {layer['H']}", f"W: {layer['W']}", f"Cin: {layer['Cin']}", f"Cout: {layer['Cout']}"]
        k1, k2 = layer["K1"], layer["K2"]
        fields += [f"K: {k1}"] if k1 == k2 else [f"K1: {k1}", f"K2: {k2}"]
        sh, sw = layer["stride"]
        if (sh, sw) != (1, 1):
            fields += [f"stride: {sh}"] if sh == sw else [f"stride_h: {sh}", f"stride_w: {sw}"]
        ph, pw = layer["padding"]
        fields += [f"padding: {ph}"] if ph == pw else [f"pad_top: {ph}", f"pad_left: {pw}", f"pad_bottom: {ph}",
                                                          f"pad_right: {pw}"]
        dh, dw = layer["dilation"]
        if (dh, dw) != (1, 1):
            fields += [f"dilation: {dh}"] if dh == dw else [f"dilation_h: {dh}", f"dilation_w: {dw}"]
        if layer["groups"] != 1:
            fields.append(f"groups: {layer['groups']}")
    if count > 1:
        fields.append(f"count: {count}")
    return "  - {name: " + layer["name"] + ", " + ", ".join(fields) + "}"


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 64
    for name, build, weights in NETWORKS:
        layers = layers_of(build(weights=None))
        total = sum(macs(l) for l in layers)
        published = weights.meta["_ops"]
        groups = []
        for layer in layers:
            if groups and shape_key(groups[-1][0]) == shape_key(layer):
                groups[-1][1] += 1
            else:
                groups.append([layer, 1])
        convs = sum(1 for l in layers if l["kind"] == "conv")
        fcs = len(layers) - convs
        with open(f"{argv[1]}/{name}.yaml", "w") as out:
            out.write(f"# {name} at 224x224, batch 1: every nn.Conv2d and nn.Linear in execution order ({convs}\n"
                      f"# convolutions, {fcs} fully connected), consecutive repeats written once with their count.\n"
                      f"# Generated by scripts/zoo/generate_networks.py from torchvision {torchvision.__version__}'s\n"
                      f"# definition (weights=None); do not edit by hand.\n")
            out.write(f"network: {name}\n")
            out.write(f"source: torchvision {torchvision.__version__} models.{build.__name__}(weights=None), "
                      f"input 1x3x224x224\n")
            out.write(f"published_gmacs: {published}  # torchvision's {weights} meta _ops\n")
            out.write(f"layers:\n")
            for layer, count in groups:
                out.write(line(layer, count) + "\n")
        print(f"{name}: {convs} conv + {fcs} fc, {total / 1e9:.4f} GMACs (published {published})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
