"""Training throughput (samples/s) of `lite` and `paper`: CPU in fp32 and, where the CPU computes bf16
in hardware, bf16 autocast (what `adamatte train` uses there); CUDA with fp16 AMP when present.

Times full training steps (forward, uncertainty loss, backward, Adam) on 320x320 batches
already in memory, so the number is the model's cost, not the data pipeline's. Rows of one
config alternate over --rounds, as this machine is noisy.

--checkpoint RUN/checkpoint starts `lite` from a run's trained weights instead of fresh ones
and adds a row with subnormal numbers computed as they are: a long run's weight decay leaves many
weights subnormal, which the trainer flushes to zero (torch.set_flush_denormal) because the CPU
computes them slowly.

    python benchmarks/train_speed.py [--batch 8] [--steps 3] [--rounds 2] [--threads 0] [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch

from adamatte.matting.engine import cpu_has_bf16
from adamatte.model import AdaMatting, load_model_config
from adamatte.train.checkpoint import prefixed, read_checkpoint
from adamatte.train.loss import UncertaintyLoss
from adamatte.train.trainer import subnormals_flushed


def samples_per_second(config: str, device: str, batch: int, steps: int, dtype: torch.dtype | None, *,
                       weights: dict[str, torch.Tensor] | None = None, flush: bool = True) -> float:
    """Training steps of `config` on `device`, autocast to `dtype` (None: fp32), subnormals flushed or not."""
    torch.manual_seed(0)
    model = AdaMatting(load_model_config(config))
    if weights is not None:
        model.load_state_dict(weights)
    model = model.to(device, memory_format=torch.channels_last).train()
    loss = UncertaintyLoss().to(device)
    # lr 0: Adam does all its work but the weights stay as loaded (a first update would lift subnormal ones)
    optimizer = torch.optim.Adam(list(model.parameters()) + list(loss.parameters()), 0.0)
    scaler = torch.amp.GradScaler("cuda", enabled=device == "cuda" and dtype is not None)
    image = torch.rand(batch, 3, 320, 320, device=device).contiguous(memory_format=torch.channels_last)
    trimap = torch.randint(0, 3, (batch, 1, 320, 320), device=device) / 2.0
    alpha = torch.rand(batch, 1, 320, 320, device=device)
    labels = torch.randint(0, 3, (batch, 320, 320), device=device)

    def step() -> None:
        with subnormals_flushed() if flush else contextlib.nullcontext():  # as the trainer runs a step
            with torch.autocast(device, dtype=dtype, enabled=dtype is not None):
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
    parser.add_argument("--rounds", type=int, default=2, help="alternations of each config's rows")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--checkpoint", help="a training checkpoint (RUN/checkpoint, no suffix) whose model weights `lite` starts from")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    weights = prefixed(read_checkpoint(args.checkpoint)[0], "model.") if args.checkpoint else None
    rows = {"lite": [("cpu fp32", "cpu", None, True)], "paper": [("cpu fp32", "cpu", None, True)]}
    if weights is not None:
        rows["lite"].insert(0, ("cpu fp32, subnormals kept", "cpu", None, False))
    if cpu_has_bf16():
        for config in rows:
            rows[config].append(("cpu bf16 autocast", "cpu", torch.bfloat16, True))
    if torch.cuda.is_available():
        for config in rows:
            rows[config].append(("cuda fp16 AMP", "cuda", torch.float16, True))
    print(f"training throughput, 320x320 crops, batch {args.batch}, torch threads {torch.get_num_threads()}, "
          f"lite from {args.checkpoint or 'fresh weights'}"
          + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"))
    for config, config_rows in rows.items():
        rates: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for name, device, dtype, flush in config_rows:
                rates.setdefault(name, []).append(samples_per_second(config, device, args.batch, args.steps, dtype,
                                                                     weights=weights if config == "lite" else None, flush=flush))
        base = max(rates["cpu fp32"])
        for name, values in rates.items():
            shown = " / ".join(f"{v:.2f}" for v in values)
            print(f"  {config:<6} {name:<26} {shown:>16} samples/s   {max(values) / base:5.2f}x cpu fp32")


if __name__ == "__main__":
    main()
