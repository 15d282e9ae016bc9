"""`adamatte eval-video`: per-frame and per-clip temporal scores of a matte sequence."""

from __future__ import annotations

import numpy as np

from adamatte.errors import InputError
from adamatte.io.image import read_matte
from adamatte.io.sequence import find_frames, format_frame_range, resolve_pattern
from adamatte.scoring.metrics import dtssd_e2, leak_percent, mad_e3, messddt_e3, mse_e3

VIDEO_METRICS = ("mad", "mse", "dtssd", "messddt", "leak")


def score_sequence(pred: dict[int, np.ndarray], gt: dict[int, np.ndarray]) -> list[dict]:
    """One row per frame (temporal metrics from the second frame on); frames are the shared keys."""
    rows, previous = [], None
    for frame in sorted(set(pred) & set(gt)):
        p, g = pred[frame], gt[frame]
        row = {"frame": frame, "mad": mad_e3(p, g), "mse": mse_e3(p, g), "leak": leak_percent(p, g)}
        if previous is not None:
            pp, gp = previous
            row |= {"dtssd": dtssd_e2(p, pp, g, gp), "messddt": messddt_e3(p, pp, g, gp)}
        rows.append(row)
        previous = (p, g)
    return rows


def clip_means(rows: list[dict]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in rows if k in r])) for k in VIDEO_METRICS if any(k in r for r in rows)}


def load_sequence(spec: str) -> dict[int, np.ndarray]:
    pattern = resolve_pattern(spec)
    frames = find_frames(pattern)
    if not frames:
        raise InputError("empty sequence", path=spec)
    return {f: read_matte(pattern.path(f)) for f in frames}


def evaluate_video(pred_spec: str, gt_spec: str) -> tuple[list[dict], dict[str, float]]:
    pred, gt = load_sequence(pred_spec), load_sequence(gt_spec)
    shared = sorted(set(pred) & set(gt))
    if not shared:
        raise InputError(f"no frame numbers in common (pred {format_frame_range(sorted(pred))}, gt {format_frame_range(sorted(gt))})")
    for frame in shared:
        if pred[frame].shape != gt[frame].shape:
            raise InputError("prediction and ground truth differ in size", path=pred_spec, frame=frame)
    rows = score_sequence(pred, gt)
    return rows, clip_means(rows)


def format_video_table(rows: list[dict], means: dict[str, float]) -> str:
    lines = [f"{'frame':>8}{'MAD e3':>10}{'MSE e3':>10}{'dtSSD e2':>10}{'MESSDdt e3':>12}{'leak %':>9}"]
    for r in rows:
        lines.append(f"{r['frame']:>8}{r['mad']:10.3f}{r['mse']:10.3f}"
                     + (f"{r['dtssd']:10.3f}{r['messddt']:12.3f}" if "dtssd" in r else f"{'-':>10}{'-':>12}") + f"{r['leak']:9.2f}")
    lines.append(f"{'clip':>8}{means['mad']:10.3f}{means['mse']:10.3f}{means.get('dtssd', float('nan')):10.3f}"
                 f"{means.get('messddt', float('nan')):12.3f}{means['leak']:9.2f}")
    return "\n".join(lines)
