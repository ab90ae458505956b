#!/usr/bin/env python3
"""ResNet training throughput in PyTorch, measured as
benchmarks/resnet_throughput.cpp measures it in Striate, with the same JSON
fields, one line per configuration:

    python3 benchmarks/resnet_torch.py --model resnet50 --batch 64,256 --steps 10 --warmup 3 [--channels-last] [--tf32]
    python3 benchmarks/resnet_torch.py --device cpu --model resnet18 --batch 2 --steps 1 --image-size 64

The models are defined here (torchvision may be missing) exactly as
striate::models builds them: torchvision's ResNet v1.5 (a Bottleneck strides
on its 3x3 conv), convs kaiming_normal_(fan_out, relu), batch norm ones and
zeros, fc with PyTorch's default initialisation. Each step: zero_grad (to
none), forward, cross entropy, backward, SGD with momentum 0.9, on one batch
of random inputs and labels made on the device before timing. f32 throughout:
TF32 is disabled for matmul and cuDNN (allow_tf32 = False, or fp32_precision
= "ieee" on PyTorch 2.9 and later), so both frameworks compute true f32, unless
--tf32 allows it on both sides (resnet_throughput --tf32 likewise);
torch.backends.cudnn.benchmark is on. --channels-last puts the model and the
input in torch.channels_last. Eager mode, PyTorch's default optimizer
implementation (foreach on CUDA).
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


def conv3x3(inp, out, stride=1):
    return nn.Conv2d(inp, out, 3, stride=stride, padding=1, bias=False)


def conv1x1(inp, out, stride=1):
    return nn.Conv2d(inp, out, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0], 1)
        self.layer2 = self._make_layer(block, 128, layers[1], 2)
        self.layer3 = self._make_layer(block, 256, layers[2], 2)
        self.layer4 = self._make_layer(block, 512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        stage = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        stage += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*stage)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


MODELS = {
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet34": (BasicBlock, [3, 4, 6, 3]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
    "resnet101": (Bottleneck, [3, 4, 23, 3]),
    "resnet152": (Bottleneck, [3, 8, 36, 3]),
}


def name_list(text):
    names = [n for n in text.split(",") if n]
    for n in names:
        if n not in MODELS:
            raise argparse.ArgumentTypeError(f"expected {', '.join(MODELS)}, got '{n}'")
    if not names:
        raise argparse.ArgumentTypeError("expected at least one name")
    return names


def int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got '{text}'")
        return value
    return parse


def int_list(text):
    values = [int_at_least(1)(t) for t in text.split(",") if t]
    if not values:
        raise argparse.ArgumentTypeError("expected at least one size")
    return values


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got '{text}'")
    return value


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_allocs(device):
    """cudaMalloc calls so far: num_device_alloc where PyTorch counts them
    (2.1 and later), else the segments allocated, one cudaMalloc each."""
    stats = torch.cuda.memory_stats(device)
    return stats.get("num_device_alloc", stats.get("segment.all.allocated", 0))


def set_tf32(allowed):
    """TF32 allowed, or true f32, for matmul and cuDNN. PyTorch 2.9 and later
    have per-backend fp32_precision settings and deprecate allow_tf32 (mixing
    the two raises), so the new ones are set, all alike, where they exist.
    Returns a function telling whether TF32 is allowed anywhere."""
    b = torch.backends
    precision = "tf32" if allowed else "ieee"
    settings = [(b, "fp32_precision"), (b.cuda.matmul, "fp32_precision"), (b.cudnn, "fp32_precision")]
    settings += [(getattr(b.cudnn, part), "fp32_precision") for part in ("conv", "rnn") if hasattr(b.cudnn, part)]
    if all(hasattr(obj, name) for obj, name in settings):
        try:
            for obj, name in settings:
                setattr(obj, name, precision)
            return lambda: any(getattr(obj, name) != "ieee" for obj, name in settings)
        except (RuntimeError, ValueError, AttributeError) as e:
            print(f"resnet_torch.py: fp32_precision not settable ({e}); using allow_tf32", file=sys.stderr)
    b.cuda.matmul.allow_tf32 = allowed
    b.cudnn.allow_tf32 = allowed
    return lambda: bool(b.cuda.matmul.allow_tf32 or b.cudnn.allow_tf32)


def measure(args, device, model_name, batch, tf32_allowed):
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    block, layers = MODELS[model_name]
    model = ResNet(block, layers, args.classes)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(device=device, memory_format=fmt)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    images = torch.randn(batch, 3, args.image_size, args.image_size, generator=gen)
    images = images.to(device).contiguous(memory_format=fmt)
    labels = torch.randint(0, args.classes, (batch,), generator=gen).to(device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss

    gpu = device.type == "cuda"
    allocs_at_start = device_allocs(device) if gpu else 0
    for _ in range(args.warmup):
        step()
    synchronize(device)
    if gpu:
        torch.cuda.reset_peak_memory_stats(device)
        allocs_before = device_allocs(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    synchronize(device)
    seconds = time.perf_counter() - start
    final_loss = loss.item()

    fmt_name = "channels_last" if args.channels_last else "contiguous"
    r = {
        "framework": "pytorch", "model": model_name, "batch": batch, "image_size": args.image_size,
        "classes": args.classes, "device": str(device), "dtype": "float32",
        "tf32": tf32_allowed(),
        "memory_format": fmt_name, "model_memory_format": fmt_name,
        "backends": {"torch": torch.__version__, "cudnn": torch.backends.cudnn.version() if gpu else None,
                     "cudnn_benchmark": bool(torch.backends.cudnn.benchmark), "cuda": torch.version.cuda},
        "optimizer": f"SGD(lr={args.lr:g}, momentum=0.9)",
        "parameters": sum(p.numel() for p in model.parameters()),
        "warmup": args.warmup, "steps": args.steps, "seconds": seconds,
        "ms_per_step": 1e3 * seconds / args.steps, "images_per_s": batch * args.steps / seconds,
        "final_loss": final_loss if math.isfinite(final_loss) else None,
        "peak_allocated_bytes": None, "peak_reserved_bytes": None, "device_allocs_warmup": None,
        "device_allocs_timed": None, "device_allocs_per_step": None,
    }
    if gpu:
        timed = device_allocs(device) - allocs_before
        r.update(peak_allocated_bytes=torch.cuda.max_memory_allocated(device),
                 peak_reserved_bytes=torch.cuda.max_memory_reserved(device),
                 device_allocs_warmup=allocs_before - allocs_at_start, device_allocs_timed=timed,
                 device_allocs_per_step=timed / args.steps)
    return r


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=name_list, default=["resnet50"], help="comma-separated names")
    parser.add_argument("--batch", type=int_list, default=[64], help="comma-separated batch sizes")
    parser.add_argument("--steps", type=int_at_least(1), default=10)
    parser.add_argument("--warmup", type=int_at_least(0), default=3)
    parser.add_argument("--image-size", type=int_at_least(32), default=224)
    parser.add_argument("--classes", type=int_at_least(1), default=1000)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 for matmul and cuDNN (default: true f32)")
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    parser.add_argument("--lr", type=positive_float, default=0.01)
    parser.add_argument("--seed", type=int_at_least(0), default=0)
    parser.add_argument("--threads", type=int_at_least(1), default=None, help="CPU threads (default: PyTorch's)")
    args = parser.parse_args()
    try:
        device = torch.device(args.device)
    except RuntimeError as e:
        parser.error(f"--device: {e}")
    if device.type not in ("cpu", "cuda"):
        parser.error(f"--device: expected cpu, cuda or cuda:N, got '{args.device}'")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit(f"resnet_torch.py: --device {args.device}: PyTorch sees no CUDA GPU")
        if device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        if device.index >= torch.cuda.device_count():
            sys.exit(f"resnet_torch.py: --device {args.device}: this machine has {torch.cuda.device_count()} GPU(s)")
    if args.threads:
        torch.set_num_threads(args.threads)
    # True f32 on both sides unless --tf32: Striate's kernels, and its
    # cuDNN/cuBLAS paths, use no TF32 unless allowed.
    tf32_allowed = set_tf32(args.tf32)
    torch.backends.cudnn.benchmark = True
    print(f"resnet_torch.py: f32, TF32 {'ALLOWED' if tf32_allowed() else 'disabled'} (matmul and cuDNN), "
          "cudnn.benchmark on", file=sys.stderr)

    status = 0
    for model_name in args.model:
        for batch in args.batch:
            try:
                print(json.dumps(measure(args, device, model_name, batch, tf32_allowed)), flush=True)
            except Exception as e:  # out of memory, say: report it and go on
                print(json.dumps({"framework": "pytorch", "model": model_name, "batch": batch,
                                  "error": f"{type(e).__name__}: {e}"}), flush=True)
                print(f"resnet_torch.py: {model_name} batch {batch}: {e}", file=sys.stderr)
                status = 1
            if device.type == "cuda":
                torch.cuda.empty_cache()  # each configuration's peak reserved is its own
    sys.exit(status)


if __name__ == "__main__":
    main()
