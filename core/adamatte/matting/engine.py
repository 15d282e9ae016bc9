"""The per-frame matting engine: one image and trimap in, alpha and the adapted trimap out.

    engine = MattingEngine.from_weights("lite", device="auto")
    result = engine.matte(image, trimap)   # result.alpha, result.labels, result.probs, result.timings

Frames of any size are reflect-padded to a multiple of 32 and cropped back. Frames above the
memory budget (`max_megapixels`) are cut into overlapping tiles whose results are blended
with linear feathers. The network runs channels-last, under fp16 autocast on CUDA and bf16 on CPUs with bf16 hardware.

The network sees only the trimap's region of interest: the box around its unknown band and its
class edges, grown by `roi_margin` px and snapped to the network's 32 px grid. Known pixels
farther out keep their class, so a subject filling a third of the frame costs a third of one.

Large frames are analysed smaller (`analysis_scale`, after RVM's downsample ratio): the network
adapts the trimap and estimates alpha on a reduced copy, whose class probabilities and alpha are
upsampled, and the refinement solves its band at full resolution, where the edge detail is.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from adamatte.errors import GPUMemoryError, InputError
from adamatte.matting.morphology import dilate_disk
from adamatte.matting.refine import refine_alpha
from adamatte.matting.trimap import BACKGROUND, FOREGROUND, SOLID, UNKNOWN, band_width, labels_to_trimap, normalize_trimap, trimap_to_labels
from adamatte.model.adamatting import OUTPUT_STRIDE, AdaMatting
from adamatte.model.weights import WeightsInfo, load_weights
from adamatte.params import BY_NAME, check

# Frame size above which frames are tiled: 1080p runs whole on a CPU; 4K fits 8 GB of GPU in fp16.
DEFAULT_MEGAPIXELS = {"cpu": 2.5, "cuda": 9.0}
DEFAULT_OVERLAP = 96
# --analysis-scale 0: frames larger than this are analysed at the scale that brings them down to it.
# Full scale through 4K: every reduced scale measured worse on the validation split (benchmarks/journal/model.md).
DEFAULT_ANALYSIS_MEGAPIXELS = {"cpu": 9.0, "cuda": 9.0}
# px of context around the trimap's unknown band and class edges that the network sees (None: the whole frame);
# training crops are centred on the band with about this much around them. 64 px matched the whole frame's
# mattes on the held-out split (benchmarks/journal/performance.md).
ROI_MARGIN = 64
# the request fields that make an engine (adamatte.params names)
ENGINE_PARAMS = ("weights", "device", "precision", "respect_trimap", "drawn_band", "max_megapixels", "analysis_scale", "refine", "refine_prior")
# --refine solves where the adapted trimap is unknown or the network is less sure of its class
# than `confidence`, grown by `margin` px: (confidence, margin), chosen on training photos
# (benchmarks/refine_band.py, benchmarks/journal/model.md). Mixed in KNN's band, not closed-form's wider
# one: held-out photos' given trimaps SAD 5.32 -> 4.80 (with both of KNN's passes, refine.MIXED_PASSES).
REFINE_BAND = {"knn": (0.7, 0), "closed-form": (0.9, 1), "mixed": (0.7, 0)}
# px a drawn band kept whole (keeps_band) grows by for the solve: closed-form's windows and mixed's need a
# pixel of room past it (mixed ungrown: the 1-3 MP composites' tight Grad 4.08 -> 6.39, benchmarks/journal/model.md)
KEPT_MARGIN = {"closed-form": 1, "mixed": 1}
# On a drawn trimap (a still, a keyframe) the solve also takes the user's band within this many px of
# the region above: the network narrows tight bands past the truth, clamping real fractional alpha to 0 or 1.
# KNN, 2 px on the training photos: tight trimaps SAD 6.52 -> 5.44, given 5.98 -> 6.16. Closed-form and
# mixed, then both solving closed-form's band grown 1 px, gained little or lost with it on the held-out photos
# (benchmarks/journal/model.md); mixed over KNN's band was measured without it.
DRAWN_ROOM = {"knn": 2}
# drawn_band auto keeps a band at most this many px across (trimap.band_width) whole. Chosen on the 13 training
# photos and their 1-3 MP composites, a kept band solved as --refine auto does (AUTO_SOLVER), SAD given / tight:
# adapting every band 6.16 / 5.42 (photos) and 24.43 / 18.42 (composites); 13 px 6.16 / 4.85 and 24.43 / 13.67;
# 16 px 6.16 / 4.77 and 24.43 / 13.04; 18 px 6.23 / 4.77 and 24.43 / 12.77: the widest that costs no given trimap.
# Their tight trimaps (T_opt + 1-3 px) measure 6-21 px across, the alphamatting.com ones 14 and more.
TIGHT_BAND = 16.0
# ... on frames of up to TIGHT_BAND_PIXELS (the photos are 0.40-0.58 MP); on larger ones the limit grows with the
# frame's side, as the same edge spans more pixels: the composites' tight SAD / Grad 12.89 / 6.51 -> 12.29 / 4.08.
TIGHT_BAND_PIXELS = 0.6e6
# --refine auto's method: closed-form's local links beside KNN's colour links (mixed) follow solid edges
# that KNN alone blurs and keep the soft alpha that it under-estimates. In a kept band, SAD on tight
# trimaps, KNN / mixed: training photos 5.02 / 4.77, their 1-3 MP composites 17.68 / 12.44. In the
# network's adapted band (REFINE_BAND), the default before / after: held-out photos' given trimaps 4.96 / 4.29,
# their 1-3 MP composites 18.45 / 14.17, and on video (MAD / dtSSD) distractor 2.08 / 2.30 -> 1.51 / 1.64,
# gt07 4.79 / 4.72 -> 4.20 / 4.21 (benchmarks/journal/model.md).
AUTO_SOLVER = "mixed"
# What a shot's veto (Guide.veto) held off only by its slack rule stays in the band solve, pulled toward background
# with this prior weight, rather than clamped to 0: fur the rule held off wholesale comes back where its neighbours say
# it is fur, and a stranger is still held down. Bundled weights, MAD / dtSSD / drift / worst leak: distractor
# 1.51 / 1.64 / 1.47 / 0.27% -> 1.46 / 1.59 / 1.44 / 0.37%, gt07 4.21 / 4.25 / 0.87 / 0.23% -> 3.63 / 3.55 / 0.59 / 0.22%;
# gt07 with 0.1 3.62 / 3.51 / 0.56 / 0.26%, with 1 3.80 / 3.73 / 0.68 / 0.28% (benchmarks/journal/model.md).
SOFT_VETO_WEIGHT = 0.25
# The carried alpha pulls the band solve only where it agrees with the network's alpha for this frame:
# its weight falls off as exp(-(Δα / AGREEMENT)²). It evens out small flicker, but neither fights real
# change nor hands the previous frame's errors on (a soft edge eroded once stayed eroded: gt07 MAD
# 5.29 -> 4.84, distractor 2.48 -> 2.38; 0.05 and 0.2 measured within 0.15 of it, benchmarks/journal/model.md).
AGREEMENT = 0.1
# ... except where it carried solid (alpha >= trimap.SOLID) and the network still calls the pixel more foreground than
# not (alpha >= HOLD_ABOVE): there it pulls SOLID_PULL times as hard. A propagated band that has grown over a subject's
# inside is where the network hands back translucent guesses (0.8-0.9 on the bedroom boy's white shirt), and the solid
# area, held only 3 px in from its edge, lost those few pixels every frame. Held right up to its edge, 40x the pull, and
# let go where the network sees background there (a hand that has moved away, which a hold regardless left as a
# floating blob on the judo demo), bundled weights, MAD / dtSSD / drift / worst leak: distractor 1.46 / 1.58 / 1.45 /
# 0.37% -> 1.45 / 1.63 / 1.14 / 0.40%, gt07 3.52 / 3.50 / 0.60 / 0.15% -> 3.69 / 3.82 / 0.60 / 0.18%, the bedroom boy's
# alpha mass at frame 21 11.8k -> 16.9k (20x: drift 1.22, gt07 3.60 / 3.69; benchmarks/journal/model.md).
HOLD_ABOVE = 0.5
SOLID_PULL = 40.0


def held_solid(carried: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """H×W float32 0/1: where the carried alpha (H×W 0-1) was solid (trimap.SOLID or more) and this frame's alpha
    (H×W 0-1: the network's, after the veto) is at least HOLD_ABOVE."""
    return ((carried >= SOLID) & (alpha >= HOLD_ABOVE)).astype(np.float32)


@dataclass
class Guide:
    """What a shot knows about a frame beyond its trimap (video.temporal builds it).

    veto(labels, alpha) -> (vetoed, firm), H×W bool each: pixels of the adapted labels (H×W uint8)
    forced to background, given the network's alpha (H×W 0-1), and those of them that stay at 0
    (firm ⊆ vetoed); the band solve takes the rest, pulled toward 0 (SOFT_VETO_WEIGHT).
    alpha: H×W 0-1, the previous frame's alpha carried here; weight: H×W >= 0, how strongly the
    band solve keeps to it (0 where the flow is not to be trusted), where it agrees with the
    network's alpha (AGREEMENT) and, SOLID_PULL times as hard, where it was solid and still is to the network (held_solid).
    """

    veto: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    alpha: np.ndarray | None = None
    weight: np.ndarray | None = None


@dataclass
class MatteResult:
    alpha: np.ndarray  # H×W float32 in 0-1
    labels: np.ndarray  # H×W uint8: 0 background, 1 unknown, 2 foreground (the adapted trimap)
    probs: np.ndarray  # H×W×3 float32 class probabilities of the adapted trimap
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    vetoed: np.ndarray | None = None  # H×W bool: what the guide's veto forced to background (None: no veto)

    @property
    def trimap(self) -> np.ndarray:
        """The adapted trimap as H×W float32 0 / 0.5 / 1."""
        return labels_to_trimap(self.labels)


def pick_device(name: str = "auto") -> torch.device:
    check({"device": name}, InputError)
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but this torch sees no CUDA GPU (use --device cpu or auto)")
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AMX tiles or AVX-512 BF16); elsewhere bf16 is emulated, and slower."""
    probes = (getattr(torch.cpu, "_is_amx_tile_supported", None), getattr(torch.cpu, "_is_avx512_bf16_supported", None))
    return any(probe is not None and probe() for probe in probes)


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The network's autocast dtype (None: fp32). auto: fp16 on CUDA; on a CPU bf16 where it has bf16 hardware
    (the network ~1.5x faster at 1080p, the held-out scores equal to the second decimal: benchmarks/journal/performance.md), else fp32.
    fp16 on a CPU runs fp32."""
    check({"precision": precision}, InputError)
    if device.type == "cuda":
        return None if precision == "fp32" else torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.bfloat16 if precision == "bf16" or (precision == "auto" and cpu_has_bf16()) else None


def tile_windows(length: int, count: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Split [0, length) into `count` cores, each widened by `overlap`: (start, stop, core_start, core_stop)."""
    edges = [round(i * length / count) for i in range(count + 1)]
    return [(max(a - overlap, 0), min(b + overlap, length), a, b) for a, b in zip(edges, edges[1:])]


def feather(start: int, stop: int, length: int, overlap: int) -> np.ndarray:
    """Blend weights along one axis of a tile widened by `overlap` at its inner edges.

    The outer overlap/2 pixels, whose receptive field the tile cut off, get weight 0; then a
    linear ramp over `overlap` pixels centred on the core boundary. Neighbours' ramps sum to 1.
    """
    x = np.arange(start, stop, dtype=np.float32) + 0.5
    w = np.ones(stop - start, np.float32)
    if start > 0:
        w = np.minimum(w, (x - start - overlap / 2) / overlap)
    if stop < length:
        w = np.minimum(w, (stop - x - overlap / 2) / overlap)
    return np.clip(w, 0.0, 1.0)


def region_of_interest(trimap: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    """The box (rows, columns) around a {0, 0.5, 1} trimap's unknown pixels and class edges (H×W), grown by
    `margin` px and out to the network's OUTPUT_STRIDE grid; None when the trimap is one class throughout."""
    active = trimap == 0.5
    active[:, 1:] |= trimap[:, 1:] != trimap[:, :-1]
    active[1:, :] |= trimap[1:, :] != trimap[:-1, :]
    rows, cols = np.flatnonzero(active.any(axis=1)), np.flatnonzero(active.any(axis=0))
    if not len(rows):
        return None

    def span(first: int, last: int, length: int) -> slice:
        start = max(first - margin, 0) // OUTPUT_STRIDE * OUTPUT_STRIDE
        return slice(start, min(-(-(last + 1 + margin) // OUTPUT_STRIDE) * OUTPUT_STRIDE, length))

    return span(rows[0], rows[-1], trimap.shape[0]), span(cols[0], cols[-1], trimap.shape[1])


def shrink_trimap(trimap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An H×W {0, 0.5, 1} trimap resized to `size` (width, height): a reduced pixel is known only
    where every full-resolution pixel under it is, so a thin band never vanishes."""
    fg = cv2.resize((trimap == 1.0).astype(np.float32), size, interpolation=cv2.INTER_AREA)
    bg = cv2.resize((trimap == 0.0).astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return np.where(fg > 0.999, 1.0, np.where(bg > 0.999, 0.0, 0.5)).astype(np.float32)


def most_likely(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H×W×3 class probabilities -> (H×W uint8 class of the highest, the first on a tie, as argmax; H×W its
    probability). Channel by channel: numpy's reductions over a last axis of 3 took 0.1 s a 1080p frame, this 0.02."""
    p0, p1, p2 = probs[..., 0], probs[..., 1], probs[..., 2]
    labels = np.where((p0 >= p1) & (p0 >= p2), 0, np.where(p1 >= p2, 1, 2)).astype(np.uint8)
    return labels, np.maximum(np.maximum(p0, p1), p2)


class MattingEngine:
    """Runs an AdaMatting network on single frames, on the CPU or CUDA."""

    def __init__(
        self,
        model: AdaMatting,
        *,
        device: str = "auto",
        precision: str = "auto",
        respect_trimap: bool = False,
        drawn_band: str = "auto",
        max_megapixels: float | None = None,
        analysis_scale: float = 0.0,
        overlap: int = DEFAULT_OVERLAP,
        roi_margin: int | None = ROI_MARGIN,
        refine: str = "none",
        refine_prior: float = 0.0,
        weights_info: WeightsInfo | None = None,
    ):
        check({"refine": refine, "refine_prior": refine_prior, "analysis_scale": analysis_scale, "drawn_band": drawn_band}, InputError)
        self.analysis_scale = analysis_scale
        self.refine = refine
        self.refine_prior = refine_prior
        self.device = pick_device(device)
        self.autocast = autocast_dtype(self.device, precision)
        self.respect_trimap = respect_trimap
        self.drawn_band = drawn_band
        self.max_pixels = (max_megapixels or DEFAULT_MEGAPIXELS[self.device.type]) * 1e6
        self.overlap = overlap
        self.roi_margin = roi_margin
        self.weights_info = weights_info
        # channels-last on both devices: on this project's CPU the network ran 1.3x faster at 1080p (benchmarks/journal/performance.md)
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    @classmethod
    def from_weights(cls, weights: str | None = None, **kwargs) -> "MattingEngine":
        """An engine on the weights file or bundled name `weights` (the bundled default when None)."""
        model, info = load_weights(weights)
        return cls(model, weights_info=info, **kwargs)

    @classmethod
    def from_params(cls, values) -> "MattingEngine":
        """An engine for a render request, parsed CLI arguments, or any object with the ENGINE_PARAMS
        attributes (empty weights: the bundled default; max_megapixels 0: the device's default)."""
        v = {name: getattr(values, name, BY_NAME[name].default) for name in ENGINE_PARAMS}
        return cls.from_weights(v.pop("weights") or None, **{**v, "max_megapixels": v["max_megapixels"] or None})

    def matte(self, image: np.ndarray, trimap: np.ndarray, guide: Guide | None = None, *, drawn: bool = True) -> MatteResult:
        """Matte one frame.

        image: H×W×3 float32, working space (sRGB-encoded) in 0-1.
        trimap: H×W, 0/128/255 or 0/0.5/1 (other values snap to the nearest class).
        guide: a shot's veto and temporal prior for this frame (video.temporal), or None.
        drawn: the trimap is a user's (a still, a keyframe), not one propagated from the frame before;
        only a drawn band is kept whole (drawn_band, keeps_band).
        """
        t0 = time.perf_counter()
        if image.ndim != 3 or image.shape[2] != 3:
            raise InputError(f"the image must be H×W×3, not {image.shape}")
        user = normalize_trimap(trimap)
        if user.shape != image.shape[:2]:
            raise InputError(f"the trimap is {user.shape[1]}x{user.shape[0]} but the image is {image.shape[1]}x{image.shape[0]}")
        scale = self.scale_for(*user.shape)
        probs, refined = self._run_region(image, user, scale)
        t1 = time.perf_counter()
        kept = drawn and self.keeps_band(user)
        method = self.solver
        confidence, margin = REFINE_BAND.get(method, (0.0, 0))
        if kept:
            margin = KEPT_MARGIN.get(method, 0)
        if scale < 1.0:  # upsampled labels are off by up to a reduced pixel: the solve gets that much more room
            margin += math.ceil(1.0 / scale)
        user_band = user == 0.5
        if kept:  # a tight drawn trimap is right as drawn: its classes stand, and all of its band is solved
            labels, unsure = trimap_to_labels(user), user_band
        else:  # the network's adapted trimap, and where it is less sure of its class than `confidence`
            labels, best = most_likely(probs)
            unsure = best < confidence
            if self.respect_trimap:
                user_labels = trimap_to_labels(user)
                known = user_labels != UNKNOWN
                labels[known] = user_labels[known]
                unsure &= ~known
            if drawn and method in DRAWN_ROOM:  # the user's band around the solve's region joins it
                unsure |= dilate_disk((labels == UNKNOWN) | unsure, DRAWN_ROOM[method]) & user_band
        vetoed = held = None
        if guide is not None and guide.veto is not None:
            vetoed, firm = guide.veto(labels, refined)
            labels[vetoed] = BACKGROUND
            held = vetoed & ~firm  # held off softly: solved, pulled toward background
            unsure = (unsure & ~firm) | held
        alpha = np.where(labels == BACKGROUND, 0.0, np.where(labels == FOREGROUND, 1.0, refined)).astype(np.float32)
        t2 = time.perf_counter()
        stages: dict[str, float] = {}  # the refinement's own: band, graph, solve
        if method != "none":
            band = np.where(unsure, UNKNOWN, labels).astype(np.uint8)
            prior, weight = alpha, self.refine_prior
            if guide is not None and guide.alpha is not None:  # the network's alpha and the carried one, by weight
                agree = np.exp(-np.square((alpha - guide.alpha) / AGREEMENT))
                pull = guide.weight * (agree + SOLID_PULL * held_solid(guide.alpha, alpha))
                weight = self.refine_prior + pull
                prior = np.where(weight > 0, (self.refine_prior * alpha + pull * guide.alpha) / np.maximum(weight, 1e-12), alpha)
            if held is not None:
                weight = np.where(held, np.maximum(weight, SOFT_VETO_WEIGHT), weight)
                prior = np.where(held, 0.0, prior)
            alpha = refine_alpha(image, band, prior, method=method, margin=margin, prior_weight=weight, timings=stages,
                                 device=self.device.type)
        t3 = time.perf_counter()
        return MatteResult(alpha, labels, probs, {"network": t1 - t0, "compose": t2 - t1, "refine": t3 - t2, **stages, "total": t3 - t0},
                           vetoed)

    def keeps_band(self, trimap: np.ndarray) -> bool:
        """Whether a drawn trimap's (H×W {0, 0.5, 1}) band is kept whole: drawn_band keep, or auto on a
        tight band (TIGHT_BAND px, more on large frames) when a solve follows (the network alone has nothing
        to solve it with)."""
        if self.drawn_band == "auto":
            limit = TIGHT_BAND * max(1.0, math.sqrt(trimap.size / TIGHT_BAND_PIXELS))
            return self.refine != "none" and 0.0 < band_width(trimap) <= limit  # 0: no band to keep
        return self.drawn_band == "keep"

    @property
    def solver(self) -> str:
        """The refinement's method: --refine's, with auto the measured best (AUTO_SOLVER)."""
        return AUTO_SOLVER if self.refine == "auto" else self.refine

    def _run_region(self, image: np.ndarray, trimap: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """The network on the trimap's region of interest, at the analysis `scale` (scale_for): class
        probabilities H×W×3 and alpha H×W for the whole frame, the trimap's own classes outside the region."""
        probs = np.zeros((*trimap.shape, 3), np.float32)
        probs[..., BACKGROUND], probs[..., FOREGROUND] = trimap == 0.0, trimap == 1.0
        refined = trimap.copy()
        box = region_of_interest(trimap, self.roi_margin) if self.roi_margin is not None else (slice(None), slice(None))
        if box is None:
            return probs, refined
        image, trimap = image[box], trimap[box]
        height, width = trimap.shape
        if scale < 1.0:
            size = (max(round(width * scale), 1), max(round(height * scale), 1))
            p, a = self._run_any(cv2.resize(image, size, interpolation=cv2.INTER_AREA), shrink_trimap(trimap, size))
            p = cv2.resize(p, (width, height), interpolation=cv2.INTER_LINEAR)
            a = cv2.resize(a, (width, height), interpolation=cv2.INTER_LINEAR)
        else:
            p, a = self._run_any(image, trimap)
        probs[box], refined[box] = p, a
        return probs, refined

    def scale_for(self, height: int, width: int) -> float:
        """The scale a height×width frame is analysed at: --analysis-scale, or with 0 the one that
        brings it down to the device's DEFAULT_ANALYSIS_MEGAPIXELS (1: frames no larger)."""
        if self.analysis_scale > 0:
            return self.analysis_scale
        budget = DEFAULT_ANALYSIS_MEGAPIXELS[self.device.type] * 1e6
        return min(1.0, math.sqrt(budget / (height * width)))

    def _run_any(self, image: np.ndarray, trimap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network on a frame of any size: whole, or in tiles above the memory budget."""
        if trimap.shape[0] * trimap.shape[1] <= self.max_pixels:
            return self._run(image, trimap)
        return self._run_tiled(image, trimap)

    def _run(self, image: np.ndarray, trimap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Network on one whole (padded) region: class probabilities H×W×3 and refined alpha H×W."""
        height, width = trimap.shape
        x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
        t = torch.from_numpy(trimap)[None, None]
        pad = (0, (-width) % OUTPUT_STRIDE, 0, (-height) % OUTPUT_STRIDE)
        mode = "reflect" if pad[1] < width and pad[3] < height else "replicate"
        x, t = F.pad(x, pad, mode=mode), F.pad(t, pad, mode=mode)
        x, t = x.to(self.device, non_blocking=True), t.to(self.device, non_blocking=True)
        x = x.contiguous(memory_format=torch.channels_last)
        autocast = torch.autocast(self.device.type, dtype=self.autocast) if self.autocast else contextlib.nullcontext()
        try:
            with torch.inference_mode(), autocast:
                out = self.model(x, t)
                probs = torch.softmax(out.trimap_logits.float(), dim=1)[0, :, :height, :width]
                alpha = out.alpha_refined.float()[0, 0, :height, :width]
                probs, alpha = probs.permute(1, 2, 0).cpu().numpy(), alpha.cpu().numpy()
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            raise GPUMemoryError(
                f"out of GPU memory on a {width}x{height} region; lower --max-megapixels (now {self.max_pixels / 1e6:g}) "
                "so frames are cut into smaller tiles"
            ) from None
        return probs, alpha

    def _run_tiled(self, image: np.ndarray, trimap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        height, width = trimap.shape
        ov = self.overlap
        rows, cols = 1, 1
        while (math.ceil(height / rows) + 2 * ov) * (math.ceil(width / cols) + 2 * ov) > self.max_pixels:
            if height / rows >= width / cols:
                rows += 1
            else:
                cols += 1
            if min(height / rows, width / cols) < ov:
                raise InputError(f"--max-megapixels {self.max_pixels / 1e6:g} is too small to tile with a {ov} px overlap")
        probs = np.zeros((height, width, 3), np.float32)
        alpha = np.zeros((height, width), np.float32)
        weight = np.zeros((height, width), np.float32)
        for y0, y1, _, _ in tile_windows(height, rows, ov):
            wy = feather(y0, y1, height, ov)
            for x0, x1, _, _ in tile_windows(width, cols, ov):
                w = wy[:, None] * feather(x0, x1, width, ov)[None, :]
                p, a = self._run(image[y0:y1, x0:x1], trimap[y0:y1, x0:x1])
                probs[y0:y1, x0:x1] += p * w[:, :, None]
                alpha[y0:y1, x0:x1] += a * w
                weight[y0:y1, x0:x1] += w
        weight = np.maximum(weight, 1e-6)
        return probs / weight[:, :, None], alpha / weight
