"""Synthetic matting data with exact ground truth, written as real PNG files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adamatte.io import write_image


def soft_disk(h: int, w: int, cy: float, cx: float, radius: float, softness: float = 3.0) -> np.ndarray:
    """H×W alpha: 1 inside the disk, 0 outside, a linear ramp `softness` px wide at the edge."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    return np.clip((radius + softness / 2 - dist) / softness, 0, 1).astype(np.float32)


def textured(h: int, w: int, seed: int, base: tuple[float, float, float], grey: bool = False) -> np.ndarray:
    """base colour × 0.7 + 0.3 × blocky noise (the same in every channel when `grey`, which keeps R − B constant)."""
    rng = np.random.default_rng(seed)
    noise = rng.random((h // 4 + 1, w // 4 + 1, 1 if grey else 3), dtype=np.float32)
    noise = np.kron(noise, np.ones((4, 4, 1), np.float32))[:h, :w]
    return np.clip(np.array(base, np.float32) * 0.7 + 0.3 * noise, 0, 1)


def matting_sample(h: int = 96, w: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image H×W×3, alpha H×W, trimap H×W in {0, 0.5, 1}) of a reddish disk over a bluish texture."""
    rng = np.random.default_rng(seed)
    alpha = soft_disk(h, w, h / 2 + rng.uniform(-8, 8), w / 2 + rng.uniform(-8, 8), min(h, w) / 4, softness=6)
    fg, bg = textured(h, w, seed + 1, (0.9, 0.3, 0.2)), textured(h, w, seed + 2, (0.1, 0.3, 0.8))
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    trimap = np.full((h, w), 0.5, np.float32)
    trimap[alpha == 0] = 0.0
    trimap[alpha == 1] = 1.0
    return image.astype(np.float32), alpha, trimap


def write_matting_folder(folder: Path, count: int, size: int = 96, trimap_dirs: int = 1) -> Path:
    """An alphamatting.com-style folder: input/, alpha/, trimap1/ (…) of PNGs named S000.png …"""
    for i in range(count):
        image, alpha, trimap = matting_sample(size, size, seed=i)
        name = f"S{i:03d}.png"
        write_image(str(folder / "input" / name), image, ["R", "G", "B"], pixel_type="uint8")
        write_image(str(folder / "alpha" / name), alpha, ["Y"], pixel_type="uint8")
        for t in range(1, trimap_dirs + 1):
            write_image(str(folder / f"trimap{t}" / name), trimap, ["Y"], pixel_type="uint8")
    return folder


def write_merged_folder(folder: Path, count: int, size: int = 96) -> Path:
    """adobe_crops-style *_image.png / *_alpha.png / *_trimap.png side by side."""
    for i in range(count):
        image, alpha, trimap = matting_sample(size, size, seed=100 + i)
        write_image(str(folder / f"s{i:03d}_image.png"), image, ["R", "G", "B"], pixel_type="uint8")
        write_image(str(folder / f"s{i:03d}_alpha.png"), alpha, ["Y"], pixel_type="uint8")
        write_image(str(folder / f"s{i:03d}_trimap.png"), trimap, ["Y"], pixel_type="uint8")
    return folder


def moving_clip(folder: Path, frames: int = 12, size=(128, 96), step: float = 4.0, jump_at: int | None = None,
                first: int = 1001) -> tuple[Path, dict[int, np.ndarray]]:
    """A reddish soft disk moving right over a fixed bluish texture, as an EXR sequence.

    Returns the folder and the exact ground-truth alpha per frame. The disk's radius is a fifth
    of the height. With `jump_at`, it teleports two radii down on that frame (a cut a
    propagated trimap cannot follow).
    """
    w, h = size
    fg, bg = textured(h, w, 1, (0.9, 0.3, 0.2), grey=True), textured(h, w, 2, (0.2, 0.3, 0.9), grey=True)
    truth = {}
    for i in range(frames):
        frame = first + i
        radius = h / 5
        cy = h / 2 - radius / 2 + (2 * radius if jump_at is not None and frame >= jump_at else 0)
        alpha = soft_disk(h, w, cy, 1.5 * radius + step * i, radius, softness=4)
        moved = np.roll(fg, (int(cy - (h / 2 - radius / 2)), int(round(step * i))), axis=(0, 1))  # the texture travels with the disk
        image = alpha[..., None] * moved + (1 - alpha[..., None]) * bg
        write_image(str(folder / f"plate.{frame:04d}.exr"), image, ["R", "G", "B"])
        truth[frame] = alpha
    return folder, truth


def trimap_from_alpha(alpha: np.ndarray, band: int = 3) -> np.ndarray:
    """A trimap whose unknown band covers alpha's soft edge plus `band` px."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    fg = cv2.erode((alpha >= 1).astype(np.uint8), kernel)
    bg = cv2.erode((alpha <= 0).astype(np.uint8), kernel)
    trimap = np.full(alpha.shape, 0.5, np.float32)
    trimap[fg == 1], trimap[bg == 1] = 1.0, 0.0
    return trimap


def distractor_clip(folder: Path, frames: int = 8, size=(160, 90), first: int = 1001,
                    stranger_colour=(0.9, 0.25, 0.5), speed: float = 0.03) -> tuple[Path, dict[int, np.ndarray]]:
    """An orange textured subject sways in front of the bundled judo footage while a textured
    stranger of another colour enters from the right after the first frame and slides behind it
    (`speed`: a share of the width per frame), as a PNG sequence. The footage's own players move
    behind the subject's edge as it sways.

    Returns the folder and the subject's exact alpha per frame (the stranger is not in it).
    """
    import cv2
    from importlib import resources

    from adamatte.io import read_image

    w, h = size
    judo = resources.files("adamatte") / "demo" / "judo" / "frames"
    names = sorted(n.name for n in judo.iterdir() if n.name.endswith(".jpg"))
    subject_rgb = textured(h, w, 3, (0.95, 0.55, 0.15))
    stranger_rgb = textured(h, w, 4, stranger_colour)
    truth = {}
    for i in range(frames):
        frame = first + i
        bg = cv2.resize(read_image(str(judo / names[i % len(names)]))[0][..., :3], (w, h), interpolation=cv2.INTER_AREA)
        subject = soft_disk(h, w, 0.55 * h, 0.4 * w + 6 * np.sin(2 * np.pi * i / frames), 0.3 * h, softness=3)
        stranger = soft_disk(h, w, 0.4 * h, max(0.95 - i * speed, 0.66) * w, 0.2 * h, softness=2) if i >= 1 else np.zeros((h, w), np.float32)
        behind = stranger[..., None] * stranger_rgb + (1 - stranger[..., None]) * bg
        image = subject[..., None] * subject_rgb + (1 - subject[..., None]) * behind
        write_image(str(folder / f"plate.{frame}.png"), image, ["R", "G", "B"], pixel_type="uint8")
        truth[frame] = subject
    return folder, truth
