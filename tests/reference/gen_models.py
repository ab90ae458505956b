"""Writes torchvision's state_dict layout (key, shape, in order) and parameter
counts for the model-zoo tests: tests/reference/data/models/<model>.txt.

Run by hand with Debian's python3-torch and python3-torchvision:
    /usr/bin/python3 tests/reference/gen_models.py
Each file's first line is `params <total parameter count>`; every other line
is `<state_dict key> <dim0>x<dim1>...` (`scalar` for 0-dim tensors), in
state_dict order.
"""
import os

import torchvision.models as tvm

MODELS = ["alexnet", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "resnet18", "resnet34", "resnet50"]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "models")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in MODELS:
        net = getattr(tvm, name)()
        lines = [f"params {sum(p.numel() for p in net.parameters())}"]
        for key, t in net.state_dict().items():
            shape = "x".join(str(s) for s in t.shape) if t.dim() else "scalar"
            lines.append(f"{key} {shape}")
        with open(os.path.join(OUT, f"{name}.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print(name, lines[0], len(lines) - 1, "keys")


if __name__ == "__main__":
    main()
