"""Training throughput (samples/s) of `lite` and `paper`: CPU in fp32 and, where the CPU computes bf16
in hardware, bf16 autocast (what `adamatte train` uses there); CUDA with fp16 AMP when present.

Times full training steps (forward, uncertainty loss, backward, Adam) on 320x320 batches
already in memory, so the number is the model's cost, not the data pipeline's. Rows of one
config alternate over --rounds, as this machine is noisy.

--checkpoint RUN/checkpoint starts `lite` from a run's trained weights instead of fresh ones
and adds a row with its negligible weights kept: a long run's weight decay leaves weights near 1e-38,
whose products are subnormal numbers that a CPU computes slowly, so the trainer sets them to zero after
every step (trainer.zero_negligible_).

--pipeline DATA times the data pipeline instead: samples/s of the `cpu` recipe's MattingDataset on
the data root DATA, its images kept decoded (after one pass that decodes them) against read from
disk for every sample (decoded_cache_mb 0), the two alternating over --rounds.

    python benchmarks/train_speed.py [--batch 8] [--steps 3] [--rounds 2] [--threads 0] [--checkpoint PATH]
    python benchmarks/train_speed.py --pipeline ../shared/data [--samples 128] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from adamatte.matting.engine import cpu_has_bf16
from adamatte.model import AdaMatting, load_model_config
from adamatte.train.checkpoint import prefixed, read_checkpoint
from adamatte.train.config import load_train_config
from adamatte.train.data import MattingDataset
from adamatte.train.loss import UncertaintyLoss
from adamatte.train.trainer import zero_negligible_
from adamatte.train.transforms import paper_pipeline


def samples_per_second(config: str, device: str, batch: int, steps: int, dtype: torch.dtype | None, *,
                       weights: dict[str, torch.Tensor] | None = None, zero: bool = True) -> float:
    """Training steps of `config` on `device`, autocast to `dtype` (None: fp32), with its negligible weights zeroed
    after each step (`zero`, as the trainer does) or kept."""
    torch.manual_seed(0)
    model = AdaMatting(load_model_config(config))
    if weights is not None:
        model.load_state_dict(weights)
    model = model.to(device, memory_format=torch.channels_last).train()
    loss = UncertaintyLoss().to(device)
    # lr 0: Adam does all its work but the weights stay as loaded (a first update would lift negligible ones)
    optimizer = torch.optim.Adam(list(model.parameters()) + list(loss.parameters()), 0.0)
    scaler = torch.amp.GradScaler("cuda", enabled=device == "cuda" and dtype is not None)
    image = torch.rand(batch, 3, 320, 320, device=device).contiguous(memory_format=torch.channels_last)
    trimap = torch.randint(0, 3, (batch, 1, 320, 320), device=device) / 2.0
    alpha = torch.rand(batch, 1, 320, 320, device=device)
    labels = torch.randint(0, 3, (batch, 320, 320), device=device)

    def step() -> None:
        with torch.autocast(device, dtype=dtype, enabled=dtype is not None):
            out = model(image, trimap)
        total, _ = loss(out, alpha, labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(total).backward()
        scaler.step(optimizer)
        scaler.update()
        if zero:  # as the trainer does after every step
            zero_negligible_(model)

    step()  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


def pipeline_rates(data_root: str, samples: int, rounds: int) -> None:
    """Prints the `cpu` recipe's data pipeline in samples/s, images kept decoded against read every time."""
    datasets = {}
    for name, budget in (("kept decoded", load_train_config("cpu").decoded_cache_mb), ("read every time", 0)):
        cfg = load_train_config("cpu", data_root=os.path.abspath(data_root), decoded_cache_mb=budget)  # the run's estimated foregrounds
        datasets[name] = MattingDataset(cfg, paper_pipeline(cfg.crop_size, cfg.crop_min, cfg.crop_max, cfg.resize_range,
                                                            cfg.rotation_degrees, cfg.trimap_mix, cfg.procedural), show_progress=False)
    kept = datasets["kept decoded"]
    for index in range(len(kept)):  # the first pass decodes; a run does it once, in its first epoch
        kept[index]
    print(f"data pipeline of the cpu recipe ({len(kept)} samples an epoch, {kept.decoded.used / 2**20:.0f} MiB kept decoded), "
          f"{samples} samples a row")
    rates: dict[str, list[float]] = {}
    for round_ in range(rounds):
        for name, dataset in datasets.items():
            dataset.set_epoch(1 + round_)
            t0 = time.perf_counter()
            for index in range(samples):
                dataset[index % len(dataset)]
            rates.setdefault(name, []).append(samples / (time.perf_counter() - t0))
    base = max(rates["read every time"])
    for name, values in rates.items():
        print(f"  {name:<16} {' / '.join(f'{v:.2f}' for v in values):>16} samples/s   {max(values) / base:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of each config's rows")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--checkpoint", help="a training checkpoint (RUN/checkpoint, no suffix) whose model weights `lite` starts from")
    parser.add_argument("--pipeline", metavar="DATA", help="time the cpu recipe's data pipeline on data root DATA instead")
    parser.add_argument("--samples", type=int, default=128, help="with --pipeline: samples a row")
    args = parser.parse_args()
    if args.pipeline:
        pipeline_rates(args.pipeline, args.samples, args.rounds)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    weights = prefixed(read_checkpoint(args.checkpoint)[0], "model.") if args.checkpoint else None
    rows = {"lite": [("cpu fp32", "cpu", None, True)], "paper": [("cpu fp32", "cpu", None, True)]}
    if weights is not None:
        rows["lite"].insert(0, ("cpu fp32, negligible weights kept", "cpu", None, False))
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
            for name, device, dtype, zero in config_rows:
                rates.setdefault(name, []).append(samples_per_second(config, device, args.batch, args.steps, dtype,
                                                                     weights=weights if config == "lite" else None, zero=zero))
        base = max(rates["cpu fp32"])
        for name, values in rates.items():
            shown = " / ".join(f"{v:.2f}" for v in values)
            print(f"  {config:<6} {name:<26} {shown:>16} samples/s   {max(values) / base:5.2f}x cpu fp32")


if __name__ == "__main__":
    main()
