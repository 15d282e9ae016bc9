"""Scoring mattes: the network (or saved predictions, or classical solvers) against ground truth."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

import numpy as np
from tqdm import tqdm

from adamatte.errors import InputError
from adamatte.io.image import read_matte
from adamatte.matting.engine import MattingEngine
from adamatte.matting.trimap import normalize_trimap
from adamatte.scoring.items import Item, read_rgb
from adamatte.scoring.metrics import all_metrics

METRICS = ("sad", "mse", "grad", "conn")

Matter = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (image H×W×3, trimap H×W 0-1) -> alpha H×W


def network_matter(engine: MattingEngine) -> Matter:
    return lambda image, trimap: engine.matte(image, trimap).alpha


def classical_matter(method: str) -> Matter:
    """pymatting's closed-form ('closed-form') or KNN ('knn') matting, the classical references."""
    try:
        import pymatting
    except ImportError:
        raise InputError("scoring classical methods needs pymatting: pip install pymatting") from None
    solvers = {"closed-form": pymatting.estimate_alpha_cf, "knn": pymatting.estimate_alpha_knn}
    if method not in solvers:
        raise InputError(f"unknown classical method {method!r}; choose from {', '.join(solvers)}")
    solve = solvers[method]
    return lambda image, trimap: np.clip(solve(image.astype(np.float64), trimap.astype(np.float64)), 0, 1).astype(np.float32)


def score_items(items: Iterable[Item], matter: Matter, *, label: str = "", progress: bool = True) -> list[dict]:
    """Run `matter` on every (item, trimap) pair and score it: one row per pair."""
    rows = []
    pairs = [(item, trimap) for item in items for trimap in item.trimaps]
    for item, trimap_path in tqdm(pairs, desc=f"scoring {label}".strip(), disable=not progress, leave=False):
        image, gt, trimap = read_rgb(item.image), read_matte(item.alpha), normalize_trimap(read_matte(trimap_path))
        t0 = time.perf_counter()
        pred = matter(image, trimap)
        seconds = time.perf_counter() - t0
        rows.append({"item": item.key, "trimap": os.path.basename(os.path.dirname(trimap_path)) or os.path.basename(trimap_path),
                     "method": label, **all_metrics(pred, gt, trimap), "seconds": seconds})
    return rows


def score_predictions(pred_dir: str, gt_dir: str, trimap_dir: str) -> list[dict]:
    """Score saved mattes: files of the same name in the three folders."""
    rows = []
    names = sorted(n for n in os.listdir(pred_dir) if not n.startswith("."))
    if not names:
        raise InputError("no predictions in this folder", path=pred_dir)
    for name in names:
        gt_path, trimap_path = os.path.join(gt_dir, name), os.path.join(trimap_dir, name)
        for p in (gt_path, trimap_path):
            if not os.path.isfile(p):
                raise InputError(f"no ground truth or trimap for prediction {name}", path=p)
        pred, gt = read_matte(os.path.join(pred_dir, name)), read_matte(gt_path)
        trimap = read_matte(trimap_path)
        if pred.shape != gt.shape:
            raise InputError(f"prediction is {pred.shape[1]}x{pred.shape[0]}, ground truth {gt.shape[1]}x{gt.shape[0]}", path=name)
        rows.append({"item": os.path.splitext(name)[0], "trimap": "", "method": "pred", **all_metrics(pred, gt, trimap)})
    return rows


def mean_row(rows: list[dict]) -> dict[str, float]:
    keys = [k for k in (*METRICS, "seconds") if rows and k in rows[0]]
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}


def format_table(rows: list[dict]) -> str:
    """Per-image rows, then the mean per method."""
    has_time = rows and "seconds" in rows[0]
    header = f"{'method':<14}{'item':<14}{'trimap':<10}{'SAD':>9}{'MSE(e3)':>9}{'Grad':>9}{'Conn':>9}" + (f"{'s':>8}" if has_time else "")
    lines = [header, "-" * len(header)]

    def fmt(method, item, trimap, r):
        line = f"{method:<14}{item:<14}{trimap:<10}{r['sad']:9.2f}{r['mse']:9.2f}{r['grad']:9.2f}{r['conn']:9.2f}"
        return line + (f"{r['seconds']:8.2f}" if has_time else "")

    for r in rows:
        lines.append(fmt(r["method"], r["item"], r["trimap"], r))
    lines.append("-" * len(header))
    for method in dict.fromkeys(r["method"] for r in rows):
        lines.append(fmt(method, "MEAN", "", mean_row([r for r in rows if r["method"] == method])))
    return "\n".join(lines)
