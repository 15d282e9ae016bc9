"""Training throughput (samples/s) of `lite` and `paper`: CPU, and CUDA with AMP when present.

Times full training steps (forward, uncertainty loss, backward, Adam) on 320x320 batches
already in memory, so the number is the model's cost, not the data pipeline's.

    python benchmarks/train_speed.py [--batch 8] [--steps 3] [--threads 0]
"""

from __future__ import annotations

import argparse
import time

import torch

from adamatte.model import AdaMatting, load_model_config
from adamatte.train.loss import UncertaintyLoss


def samples_per_second(config: str, device: str, batch: int, steps: int, amp: bool) -> float:
    torch.manual_seed(0)
    model = AdaMatting(load_model_config(config)).to(device).train()
    loss = UncertaintyLoss().to(device)
    optimizer = torch.optim.Adam(list(model.parameters()) + list(loss.parameters()), 1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    image = torch.rand(batch, 3, 320, 320, device=device)
    trimap = torch.full((batch, 1, 320, 320), 0.5, device=device)
    alpha = torch.rand(batch, 1, 320, 320, device=device)
    labels = torch.randint(0, 3, (batch, 320, 320), device=device)

    def step() -> None:
        with torch.autocast("cuda", enabled=amp):
            out = model(image, trimap)
        total, _ = loss(out, alpha, labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(total).backward()
        scaler.step(optimizer)
        scaler.update()

    step()  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    runs = [("lite", "cpu", False), ("paper", "cpu", False)]
    if torch.cuda.is_available():
        runs += [("lite", "cuda", True), ("paper", "cuda", True)]
    print(f"training throughput, 320x320 crops, batch {args.batch}, torch threads {torch.get_num_threads()}"
          + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"))
    rates = {}
    for config, device, amp in runs:
        rates[(config, device)] = samples_per_second(config, device, args.batch, args.steps, amp)
        print(f"  {config:<6} {device:<5}{' AMP' if amp else '    '} {rates[(config, device)]:8.2f} samples/s")
    print(f"  ratio lite/paper on the CPU: {rates[('lite', 'cpu')] / rates[('paper', 'cpu')]:.1f}x")


if __name__ == "__main__":
    main()
