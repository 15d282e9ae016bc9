"""The training loop: Adam + poly decay, uncertainty-weighted loss, DDP, AMP, resumable.

    adamatte train --config cpu [--data ../shared/data] [--resume]
    torchrun --nproc-per-node 8 -m adamatte train --config paper --resume

Every sample is a pure function of (seed, epoch, index), and the step counter fixes where
an epoch's shuffled order resumes, so a run stopped at step k and resumed ends exactly
where an uninterrupted run does. Only rank 0 writes checkpoints, logs and weights.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from adamatte.errors import InputError
from adamatte.matting.engine import MattingEngine, autocast_dtype
from adamatte.model import AdaMatting, load_model_config
from adamatte.scoring.evaluate import mean_row, network_matter, score_items
from adamatte.train.checkpoint import checkpoint_exists, restore_checkpoint, save_checkpoint
from adamatte.train.config import TrainConfig
from adamatte.train.data import MattingDataset, validation_items
from adamatte.train.loss import UncertaintyLoss
from adamatte.train.transforms import paper_pipeline

CSV_FIELDS = ("epoch", "step", "loss", "loss_t", "loss_a", "sigma_t", "sigma_a", "lr", "samples_per_s",
              "val_sad", "val_mse", "val_grad", "val_conn", "elapsed_s")


@dataclass
class Distributed:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


def setup_distributed() -> Distributed:
    """Join the process group torchrun describes (NCCL on GPUs, gloo on the CPU), if any."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
    return Distributed(dist.get_rank(), dist.get_world_size(), local)


NEGLIGIBLE = 1e-30  # |value| under which a weight changes no float32 result of a network on 0-1 inputs


def zero_negligible_(module: torch.nn.Module) -> None:
    """Sets the parameters and buffers of `module` smaller than NEGLIGIBLE in magnitude to 0, in place.

    Weight decay drives the weights of dead channels toward 0, and there they add nothing to any result; but their
    products with activations are subnormal numbers (under ~1.2e-38), which a CPU computes many times slower. At
    step 67,500 the `cpu` run had 288,014 of its 1.7M weights under 1e-20 (283,522 of them between 1.2e-38 and 1e-35),
    and its fp32 step on this project's CPU took 2.8x as long as with them zeroed (docs/training.md). Computing
    with torch.set_flush_denormal on, as the trainer did before, measured no faster."""
    with torch.no_grad():
        for tensor in itertools.chain(module.parameters(), module.buffers()):
            if tensor.is_floating_point():
                tensor.masked_fill_(tensor.abs() < NEGLIGIBLE, 0.0)


def poly_lr(base: float, step: int, total: int, power: float) -> float:
    return base * (1 - min(step, total) / max(total, 1)) ** power


def epoch_batches(n: int, batch: int, seed: int, epoch: int, ctx: Distributed) -> list[list[int]]:
    """This rank's index batches for `epoch`: a seeded shuffle, sharded like a DistributedSampler."""
    order = np.random.default_rng([seed, epoch, 7]).permutation(n)
    per_rank = (n // ctx.world) // batch * batch
    mine = order[ctx.rank:: ctx.world][:per_rank]
    return [mine[i: i + batch].tolist() for i in range(0, per_rank, batch)]


class Trainer:
    def __init__(self, cfg: TrainConfig, *, progress: bool = True):
        self.cfg = cfg
        self.ctx = setup_distributed()
        self.progress = progress and self.ctx.is_main
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        cuda = torch.cuda.is_available()
        self.device = torch.device(f"cuda:{self.ctx.local_rank}" if cuda else "cpu")
        torch.manual_seed(cfg.seed)
        # channels-last, as the engine runs it: oneDNN's NHWC kernels are faster on the CPU too (benchmarks/journal/performance.md)
        self.model = AdaMatting(load_model_config(cfg.model)).to(self.device, memory_format=torch.channels_last)
        self.loss = UncertaintyLoss(cfg.sigma_init).to(self.device)
        # the exported weights: an exponential moving average of the trained ones (use_buffers: BN statistics too)
        self.ema = (torch.optim.swa_utils.AveragedModel(self.model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema_decay),
                                                        use_buffers=True) if cfg.ema_decay > 0 else None)
        self.net = DistributedDataParallel(self.model, device_ids=[self.ctx.local_rank] if cuda else None) if self.ctx.world > 1 else self.model
        self.optimizer = torch.optim.Adam([
            {"params": self.model.parameters(), "lr": cfg.lr, "weight_decay": cfg.weight_decay, "base_lr": cfg.lr},
            {"params": self.loss.parameters(), "lr": cfg.sigma_lr, "weight_decay": 0.0, "base_lr": cfg.sigma_lr},
        ])
        # mixed precision as the engine chooses it: fp16 with loss scaling on CUDA; bf16 (no scaling needed) on CPUs
        # with bf16 hardware, where it trained the `cpu` recipe's network 4x faster than fp32 (docs/training.md)
        self.autocast = autocast_dtype(self.device, "auto" if cfg.amp else "fp32")
        self.scaler = torch.amp.GradScaler("cuda", enabled=cuda and cfg.amp)
        self.dataset = MattingDataset(cfg, paper_pipeline(cfg.crop_size, cfg.crop_min, cfg.crop_max, cfg.resize_range, cfg.rotation_degrees, cfg.trimap_mix,
                                                         cfg.procedural),
                                      show_progress=self.progress)
        self.steps_per_epoch = len(epoch_batches(len(self.dataset), cfg.batch_size, cfg.seed, 0, self.ctx))
        if self.steps_per_epoch == 0:
            raise InputError(f"{len(self.dataset)} samples are fewer than one batch of {cfg.batch_size} per process")
        self.total_steps = cfg.max_steps or cfg.epochs * self.steps_per_epoch
        self.scheduled_steps: int | None = None  # the schedule the resumed checkpoint was trained on
        self.step = 0
        self.checkpoint_path = os.path.join(cfg.run_dir, "checkpoint")
        self.validation = validation_items(cfg)

    def resume(self) -> bool:
        """Continue from the run folder's checkpoint, if there is one."""
        if not checkpoint_exists(self.checkpoint_path):
            return False
        meta = restore_checkpoint(self.checkpoint_path, model=self.model, loss=self.loss, optimizer=self.optimizer, scaler=self.scaler, ema=self.ema)
        self.step = meta["step"]
        self.scheduled_steps = meta["extra"].get("total_steps")
        return True

    def save(self) -> None:
        if self.ctx.is_main:
            save_checkpoint(self.checkpoint_path, model=self.model, loss=self.loss, optimizer=self.optimizer, scaler=self.scaler,
                            step=self.step, config=self.cfg.to_dict(), extra={"total_steps": self.total_steps}, ema=self.ema)
        self.ctx.barrier()

    def _train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        batch["image"] = batch["image"].contiguous(memory_format=torch.channels_last)
        for group in self.optimizer.param_groups:
            group["lr"] = poly_lr(group["base_lr"], self.step, self.total_steps, self.cfg.poly_power)
        with torch.autocast(self.device.type, dtype=self.autocast, enabled=self.autocast is not None):
            out = self.net(batch["image"], batch["trimap"])
        total, parts = self.loss(out, batch["alpha"], batch["labels"])
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        zero_negligible_(self.model)
        if self.ema is not None:
            self.ema.update_parameters(self.model)
            zero_negligible_(self.ema)
        return parts

    def validate(self) -> dict[str, float]:
        if not self.validation:
            return {}
        model = self.ema.module if self.ema is not None else self.model
        engine = MattingEngine(model, device=self.device.type, max_megapixels=4.0)
        rows = score_items(self.validation, network_matter(engine), label="validation", progress=self.progress)
        self.model.train()
        return {f"val_{k}": v for k, v in mean_row(rows).items() if k != "seconds"}

    def _log_epoch(self, row: dict) -> None:
        path = os.path.join(self.cfg.run_dir, "log.csv")
        new = not os.path.isfile(path)
        with open(path, "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)

    def run(self, until: int | None = None, minutes: float | None = None) -> dict[str, float]:
        """Train to `total_steps`, or stop early at step `until` or after `minutes` of training, with a
        checkpoint (the schedule is unchanged, so a later --resume carries on); returns the last step's losses."""
        cfg = self.cfg
        stop = min(until or self.total_steps, self.total_steps)
        deadline = time.perf_counter() + 60 * minutes if minutes else None
        os.makedirs(cfg.run_dir, exist_ok=True)
        self.model.train()
        bar = tqdm(total=self.total_steps, initial=self.step, desc=f"train {cfg.name}", disable=not self.progress, unit="step")
        started, parts = time.perf_counter(), {}
        while self.step < stop:
            epoch, first = divmod(self.step, self.steps_per_epoch)
            self.dataset.set_epoch(epoch)
            batches = epoch_batches(len(self.dataset), cfg.batch_size, cfg.seed, epoch, self.ctx)[first:]
            loader = torch.utils.data.DataLoader(self.dataset, batch_sampler=batches, num_workers=cfg.workers,
                                                 pin_memory=self.device.type == "cuda")
            sums, count, epoch_start = {}, 0, time.perf_counter()
            for batch in loader:
                parts = self._train_step(batch)
                self.step += 1
                count += 1
                for k, v in parts.items():
                    sums[k] = sums.get(k, 0.0) + v
                sigma_t, sigma_a = self.loss.sigmas
                rate = count * cfg.batch_size * self.ctx.world / (time.perf_counter() - epoch_start)
                bar.set_postfix(loss=f"{parts['loss']:.3f}", s1=f"{sigma_t:.3f}", s2=f"{sigma_a:.3f}", samples_s=f"{rate:.1f}")
                bar.update(1)
                if not math.isfinite(parts["loss"]):
                    raise RuntimeError(f"the loss became {parts['loss']} at step {self.step}")
                if deadline is not None and self.step % 10 == 0 and self._out_of_time(deadline):
                    stop = self.step
                if self.step % cfg.checkpoint_every == 0 or self.step == stop:
                    self.save()
                if self.step >= stop:
                    break
            if self.step % self.steps_per_epoch == 0 and self.ctx.is_main:
                row = {"epoch": epoch + 1, "step": self.step, **{k: v / max(count, 1) for k, v in sums.items()},
                       "sigma_t": self.loss.sigmas[0], "sigma_a": self.loss.sigmas[1],
                       "lr": self.optimizer.param_groups[0]["lr"], "samples_per_s": rate,
                       "elapsed_s": time.perf_counter() - started}
                if (epoch + 1) % cfg.validate_every_epochs == 0:
                    row |= self.validate()
                self._log_epoch(row)
        bar.close()
        return parts

    def _out_of_time(self, deadline: float) -> bool:
        """Past `deadline`, as every process agrees (they must stop at the same step)."""
        flag = torch.tensor(float(time.perf_counter() >= deadline), device=self.device)
        if self.ctx.world > 1:
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    def close(self) -> None:
        if self.ctx.world > 1:
            dist.destroy_process_group()
