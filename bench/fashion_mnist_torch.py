#!/usr/bin/python3
"""PyTorch twin of the Fashion-MNIST demo: the same ResNet v2 (written out below; torchvision has
no pre-activation ResNet), the same recipe read from the same INI file, the same JPEG folders.

    /usr/bin/python3 bench/fashion_mnist_torch.py configs/fashion-mnist-resnet18v2.ini [--epochs N]

Mirrors resnet-train: data_bn on the input (BatchNorm without affine), small stem (3x3 conv) or the
ImageNet stem, pre-activation basic blocks with a 1x1 projection from the block's activation,
final BN + ReLU, global average pool, linear classifier. Kaiming-normal (fan_out) conv init, BN
momentum 0.1 (= our 0.9 convention), eps 1e-5. SGD with momentum / Nesterov, weight decay with the
norm/bias exemptions as torchvision's reference script, label smoothing, the lr schedule per
iteration, drop_last training batches, centre evaluation. Prints one line per epoch and a summary.
Uses Debian's python3-torch 1.13 and torchvision (CPU)."""
import argparse
import configparser
import fractions
import math
import os
import time

import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T


def conv(cin, cout, k, stride):
    return nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)


class BlockV2(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = conv(cin, cout, 3, stride)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = conv(cout, cout, 3, 1)
        self.down = conv(cin, cout, 1, stride) if (cin != cout or stride != 1) else None

    def forward(self, x):
        a = torch.relu(self.bn1(x))
        sc = self.down(a) if self.down is not None else x
        r = self.conv2(torch.relu(self.bn2(self.conv1(a))))
        return r + sc


class ResNetV2(nn.Module):
    def __init__(self, blocks, width, classes, small_stem):
        super().__init__()
        self.data_bn = nn.BatchNorm2d(3, affine=False)
        if small_stem:
            self.stem = conv(3, width, 3, 1)
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                                      nn.MaxPool2d(3, 2, 1))
        layers, cin = [], width
        for s, n in enumerate(blocks):
            cout = width << s
            for k in range(n):
                layers.append(BlockV2(cin, cout, 2 if (k == 0 and s > 0) else 1))
                cin = cout
        self.stages = nn.Sequential(*layers)
        self.final_bn = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.stages(self.stem(self.data_bn(x)))
        x = torch.relu(self.final_bn(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def lr_at(s, base, step, spe, epochs):
    """rn_sched_lr (optim/schedule.c) for the schedules the demo may use."""
    typ = s.get("type", "step")
    t = step / spe if s.get("resolution", "step") == "step" else step // spe
    if typ == "onecycle":
        pct, div, fdiv = float(s.get("pct_start", 0.3)), float(s.get("div_factor", 25)), float(s.get("final_div_factor", 1e4))
        total, lo = spe * epochs, base / div
        end, up, last = lo / fdiv, pct * spe * epochs - 1, spe * epochs - 1
        cosan = lambda a, b, p: b + (a - b) / 2 * (1 + math.cos(math.pi * p))
        st = step if s.get("resolution", "step") == "step" else step // spe * spe
        if st <= up:
            return cosan(lo, base, st / up if up > 0 else 1)
        return end if st >= last else cosan(base, end, (st - up) / (last - up))
    W, mn = float(s.get("warmup_epochs", 0)), float(s.get("min_lr", 0))
    u = min(max((t - W) / (epochs - W), 0), 1) if epochs > W else 1
    if typ == "cosine":
        lr = mn + (base - mn) * (1 + math.cos(math.pi * u)) / 2
    elif typ == "linear":
        lr = mn + (base - mn) * (1 - u)
    elif typ == "constant":
        lr = base
    else:
        raise SystemExit(f"schedule type {typ} is not mirrored here")
    if t < W:
        f = float(s.get("warmup_factor", 0.01))
        lr *= f + (1 - f) * t / W
    return lr


def main():
    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("--epochs", type=int, default=0, help="train fewer epochs than the config (schedule unchanged)")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    a = p.parse_args()
    ini = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    ini.read(a.config)
    m, d, aug, tr, op, sc = (ini[k] if k in ini else {} for k in ("model", "data", "augment", "train", "optim", "schedule"))
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(int(tr.get("seed", 1)))
    path = lambda k: d[k] if os.path.isabs(d[k]) else os.path.join(os.getcwd(), d[k])
    size, bs = int(d.get("size", 224)), int(d.get("batch_size", 256))
    mean = [float(v) for v in d.get("mean", "0.485, 0.456, 0.406").split(",")]
    std = [float(v) for v in d.get("std", "0.229, 0.224, 0.225").split(",")]
    pad = int(aug.get("pad_crop", 0))
    flip = aug.get("flip", "yes") in ("yes", "true", "1", "on")
    num = lambda v: float(fractions.Fraction(v.strip()))
    scale = [num(v) for v in aug.get("scale", "0.08, 1").split(",")]
    ratio = [num(v) for v in aug.get("ratio", "3/4, 4/3").split(",")]
    crop = T.RandomCrop(size, padding=pad) if pad else T.RandomResizedCrop(size, scale=scale, ratio=ratio)
    train_tf = [crop] + \
               ([T.RandomHorizontalFlip()] if flip else []) + [T.ToTensor(), T.Normalize(mean, std)]
    val_tf = [T.Resize(int(d.get("resize", size))), T.CenterCrop(size), T.ToTensor(), T.Normalize(mean, std)]
    train_ds = torchvision.datasets.ImageFolder(path("train_dir"), T.Compose(train_tf))
    val_ds = torchvision.datasets.ImageFolder(path("val_dir"), T.Compose(val_tf))
    kw = dict(num_workers=a.workers, persistent_workers=a.workers > 0)
    train_dl = torch.utils.data.DataLoader(train_ds, bs, shuffle=True, drop_last=True, **kw)
    val_dl = torch.utils.data.DataLoader(val_ds, int(tr.get("eval_batch_size", 0)) or bs, **kw)

    depth = int(m.get("depth", 18))
    blocks = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3]}[depth] if "blocks" not in m else [int(v) for v in m["blocks"].split(",")]
    net = ResNetV2(blocks, int(m.get("width", 64)), int(m.get("num_classes", 1000)), m.get("stem", "imagenet") == "small")
    net = net.to(memory_format=torch.channels_last)
    wd = float(op.get("weight_decay", 1e-4))
    nwd, bwd = float(op.get("norm_weight_decay", wd)), float(op.get("bias_weight_decay", wd))
    groups = {"w": [], "n": [], "b": []}
    for mod in net.modules():
        for name, prm in mod.named_parameters(recurse=False):
            groups["n" if isinstance(mod, nn.BatchNorm2d) else "b" if name == "bias" else "w"].append(prm)
    base = float(op.get("lr", 0.1))
    if int(op.get("lr_base_batch", 0)):
        base *= bs / int(op["lr_base_batch"])
    opt = torch.optim.SGD([{"params": groups["w"], "weight_decay": wd}, {"params": groups["n"], "weight_decay": nwd},
                           {"params": groups["b"], "weight_decay": bwd}], lr=base,
                          momentum=float(op.get("momentum", 0.9)), nesterov=op.get("nesterov", "no") in ("yes", "true", "1", "on"))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=float(tr.get("label_smoothing", 0)))
    epochs = int(tr.get("epochs", 90))
    run_epochs = a.epochs or epochs
    spe = len(train_dl)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(train_ds)} train / {len(val_ds)} val; "
          f"ResNet v2 {blocks} width {m.get('width')} stem {m.get('stem')} at {size}px; batch {bs}, {spe} steps/epoch, "
          f"lr {base:g}, {run_epochs} of {epochs} epochs", flush=True)
    step, t_all, best = 0, time.perf_counter(), 0.0
    for ep in range(run_epochs):
        net.train()
        t0, lsum, hits, n = time.perf_counter(), 0.0, 0, 0
        for x, y in train_dl:
            for g in opt.param_groups:
                g["lr"] = lr_at(sc, base, step, spe, epochs)
            x = x.to(memory_format=torch.channels_last)
            out = net(x)
            loss = loss_fn(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            lsum += loss.item() * len(y)
            hits += (out.argmax(1) == y).sum().item()
            n += len(y)
        t_train = time.perf_counter() - t0
        net.eval()
        vl, v1, vn = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_dl:
                out = net(x.to(memory_format=torch.channels_last))
                vl += loss_fn(out, y).item() * len(y)
                v1 += (out.argmax(1) == y).sum().item()
                vn += len(y)
        best = max(best, 100 * v1 / vn)
        print(f"epoch {ep + 1}/{run_epochs}  train loss {lsum / n:.4f} top-1 {100 * hits / n:.2f}%  val loss {vl / vn:.4f} "
              f"top-1 {100 * v1 / vn:.2f}%  {n / t_train:.0f} img/s  {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"pytorch: best val top-1 {best:.2f}% in {time.perf_counter() - t_all:.0f} s ({run_epochs} epochs)", flush=True)


if __name__ == "__main__":
    main()
