#!/usr/bin/python3
"""PyTorch peer of resnet-bench: torchvision's ResNet, same batch, same step (forward, cross-entropy,
backward, SGD momentum 0.9 / lr 0.01 / wd 1e-4) or inference, channels-last, random data.
Prints one line in resnet-bench's format. Uses Debian's python3-torch (same oneDNN underneath):
1.13 on Debian 12, 2.6 on Debian 13 (bench/in-root.sh). --autocast bf16 runs forward and loss under
torch.autocast (weights, gradients and the SGD update stay f32)."""
import argparse
import contextlib
import resource
import time

import torch
import torchvision


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--mode", choices=["train", "infer"], default="train")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--autocast", choices=["none", "bf16"], default="none")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, a.arch)().to(memory_format=torch.channels_last)
    x = torch.randn(a.batch, 3, a.size, a.size).to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (a.batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    train = a.mode == "train"
    model.train(train)
    loss = torch.tensor(0.0)

    def cast():
        if a.autocast == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    for it in range(a.warmup + a.iters):
        if it == a.warmup:
            t0 = time.perf_counter()
        if train:
            opt.zero_grad(set_to_none=True)
            with cast():
                loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        else:
            with torch.no_grad(), cast():
                model(x)
    sec = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"mode={a.mode} batch={a.batch} iters={a.iters} img_per_s={a.batch * a.iters / sec:.3f} "
          f"sec_per_iter={sec / a.iters:.3f} peak_rss_mb={rss:.0f} loss={loss.item():.4f} "
          f"torch={torch.__version__} threads={torch.get_num_threads()} autocast={a.autocast}")


if __name__ == "__main__":
    main()
