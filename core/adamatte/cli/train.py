"""`adamatte train`: train a model from a config, resumably."""

from __future__ import annotations

import argparse
import sys

from adamatte.errors import AdamatteError


def register(commands) -> None:
    train = commands.add_parser(
        "train", help="train a model (the paper's recipe, a CPU recipe, or your own config)",
        description="Train AdaMatting. CONFIG is a TOML file or a bundled recipe: paper (the paper's "
        "hyper-parameters), cpu (the bundled lite weights) or smoke (two steps, for tests). Checkpoints "
        "land in OUTPUT_DIR/NAME every few hundred steps; --resume continues exactly where a run stopped. "
        "For several GPUs or processes: torchrun --nproc-per-node N -m adamatte train ...",
    )
    train.add_argument("--config", required=True, help="a training config: a .toml path or paper|cpu|smoke")
    train.add_argument("--data", help="root folder the config's data patterns are relative to")
    train.add_argument("--resume", action="store_true", help="continue the run's checkpoint")
    train.add_argument("--name", help="run name (default: the config's)")
    train.add_argument("--output-dir", help="where run folders go (default: runs)")
    train.add_argument("--max-steps", type=int, help="length of the whole run in steps (sets the learning-rate schedule)")
    train.add_argument("--until", type=int, help="stop (with a checkpoint) at this step; --resume continues the same schedule")
    train.add_argument("--minutes", type=float, help="stop (with a checkpoint) after this many minutes of training, e.g. a "
                       "burst on a borrowed GPU; --resume continues the same schedule")
    train.add_argument("--threads", type=int, help="CPU threads for torch in each process")
    train.add_argument("--workers", type=int, help="data-loading worker processes")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from adamatte.train.checkpoint import checkpoint_exists
    from adamatte.train.config import load_train_config
    from adamatte.train.trainer import Trainer

    cfg = load_train_config(args.config, data_root=args.data, name=args.name, output_dir=args.output_dir,
                            max_steps=args.max_steps, threads=args.threads, workers=args.workers)
    trainer = Trainer(cfg, progress=not args.no_progress)
    try:
        if args.resume:
            if trainer.resume() and trainer.ctx.is_main:
                print(f"resuming {cfg.run_dir} at step {trainer.step} of {trainer.total_steps}", file=sys.stderr)
                if trainer.scheduled_steps not in (None, trainer.total_steps):  # --max-steps or the config changed
                    print(f"adamatte: warning: {cfg.run_dir} was scheduled for {trainer.scheduled_steps} steps and now runs a "
                          f"{trainer.total_steps}-step learning-rate schedule; to stop early on the same schedule use --until",
                          file=sys.stderr)
        elif checkpoint_exists(trainer.checkpoint_path):
            raise AdamatteError(f"{cfg.run_dir} already holds a checkpoint: pass --resume to continue it, or --name for a new run")
        parts = trainer.run(until=args.until, minutes=args.minutes)
    finally:
        trainer.close()
    if trainer.ctx.is_main:
        print(f"trained {cfg.name} to step {trainer.step}: loss {parts.get('loss', float('nan')):.4f}; "
              f"checkpoint {trainer.checkpoint_path}.safetensors")
    return 0
