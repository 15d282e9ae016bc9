"""What frame t tells frame t+1 besides its labels: the guide for the engine (matting.engine.Guide).

- **Temporal prior.** Frame t's alpha, carried to t+1 along the backward flow, is a soft
  constraint of the band solve, weighted by the flow's forward-backward confidence and, in the
  engine, by how well it agrees with the network's alpha for t+1 (matting.engine.AGREEMENT): the
  matte keeps still where the picture does, follows motion instead of trailing it, and does not
  hand one frame's errors on to the next.
- **Veto.** Foreground the network wants where the flow says background came from (no firm
  alpha of frame t arrives there, `SEEN_TOLERANCE` px of slack for the moving edge) must look like
  the keyframes' subject (video.memory), or it is background. Foreground in the slack around the
  carried matte must look more like the subject than like its background, so that it cannot
  creep outward frame by frame; a faint fringe there (the network's alpha under SLACK_FAINT)
  needs no vouching, so a soft edge the previous frame lost can come back, but faint alpha
  vouches for nothing on the next frame. Solid foreground where the input trimap left the band
  open must not look clearly like the keyframes' background (a ghost of where the subject was).
  What the moving subject uncovers (its colour changed along the flow) is background, whatever it
  looks like (a look-alike behind it). So is what shows the background plate's colour
  (video.plate: background the shot has already shown), unless frame t's matte firmly arrives there.
  Semi-transparent pixels the previous matte vouches for (hair, motion blur) are never vetoed, and
  nor is anything walled in by solid foreground: the veto trims the subject, it never punches holes.
  All of that is vetoed firmly but the slack rule: what it holds off is only the network's class
  overruled, and the band solve takes it, pulled toward background (matting.engine.SOFT_VETO_WEIGHT),
  so the subject's own fur that looks like its background is solved, not cut. (Held off as softly, the
  plate's pixels let a haze over the judo demo's textured poster.)
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from adamatte.matting.engine import Guide
from adamatte.matting.morphology import dilate, dilate_where, disk
from adamatte.matting.trimap import BACKGROUND, FOREGROUND
from adamatte.video.memory import KeyframeMemory, PixelFeatures
from adamatte.video.propagate import Motion, splat_labels

SEEN_TOLERANCE = 6  # px around frame t's carried matte where new foreground needs no vouching
NEW_BELOW = 0.5  # subject value (memory's alpha estimate) under which new foreground is vetoed
SLACK_BELOW = 0.1  # ... under which foreground in the slack around the carried matte is (it looks like pure background)
SLACK_FAINT = 0.25  # network alpha under which slack foreground is left alone: a faint fringe, not something creeping in
SOLID_BELOW = 0.2  # ... and under which solid foreground in the band is
ISLAND_BELOW = 0.1  # mean subject value under which a whole detached piece of foreground is
ISLAND_GRID = 4  # px: the grid of a piece's pixels that the memory is asked about
REVEAL_REACH = 24  # px from open background within which uncovered pixels count as revealed background


def carry_alpha(alpha: np.ndarray, motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """Frame t's alpha (H×W 0-1) pulled to frame t+1 along the backward flow, and where to trust it
    (H×W float32 0/1: the flow passes its forward-backward check)."""
    h, w = alpha.shape
    ys, xs = (g.astype(np.float32) for g in np.ogrid[0:h, 0:w])
    carried = cv2.remap(alpha.astype(np.float32), xs + motion.backward[..., 0], ys + motion.backward[..., 1],
                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.clip(carried, 0, 1), (~motion.unsure).astype(np.float32)


def temporal_guide(prev_alpha: np.ndarray | None, motion: Motion | None, memory: KeyframeMemory | None,
                   features: PixelFeatures, trimap: np.ndarray, *, weight: float, shows_plate: Callable[[np.ndarray], np.ndarray] | None = None
                   ) -> tuple[Guide, np.ndarray] | None:
    """The engine's guide for frame t+1, and where frame t's matte reached it (H×W bool, for the drift
    guard), from frame t's alpha (H×W, or None on a keyframe), the motion t -> t+1, the keyframe memory
    (None: no veto), frame t+1's pixel_features and input trimap (H×W {0, 0.5, 1}).
    weight: the pull to the carried alpha where the flow is sure (--temporal; 0: none).
    shows_plate: shows_plate(where) -> H×W bool, which pixels of the H×W bool `where` show the background plate in
    frame t+1 (video.plate's BackgroundPlate.shows), or None."""
    if prev_alpha is None or motion is None:
        return None
    carried, sure = carry_alpha(prev_alpha, motion)
    spread = int(np.clip(np.ceil(motion.spread), 0, 16))
    reached = (carried > 0.02) & (sure > 0)  # an occluded object emerging behind the subject carries its alpha by a flow that fails the check
    firm = (carried >= SLACK_FAINT) & (sure > 0)  # faint carried alpha vouches for nothing: haze would creep through it
    revealed = _revealed_behind(prev_alpha, carried, motion)
    seen = dilate(firm, disk(SEEN_TOLERANCE + spread)) > 0
    band = trimap == 0.5

    def veto(labels: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        soft = np.zeros(labels.shape, bool)
        if not memory:
            return soft, soft
        kept = labels != BACKGROUND
        # (candidates, threshold, strangers count, hard): the three ways background gets in
        rules = (
            (kept & ~seen, NEW_BELOW, True, True),  # where no alpha of frame t arrives: must be the subject
            (kept & seen & ~firm & (alpha >= SLACK_FAINT), SLACK_BELOW, True, False),  # the slack around the carried matte: must not creep
            ((labels == FOREGROUND) & band, SOLID_BELOW, False, True),  # solid where the input left it open: a ghost?
        )
        hard = kept & revealed & ~reached  # uncovered behind the subject: not the subject, whatever it looks like
        if shows_plate is not None:  # background the shot has shown, where frame t's matte does not firmly hold it
            hard |= shows_plate(kept & ~firm)
        for candidates, below, strangers, is_hard in rules:
            if candidates.any():
                (hard if is_hard else soft)[candidates] |= memory.subject_value(features, candidates, strangers=strangers) < below
        hard |= _strange_islands(kept & ~(soft | hard), memory, features)
        vetoed = soft | hard
        vetoed &= ~_enclosed(vetoed, (labels != FOREGROUND) | vetoed)
        return vetoed, vetoed & hard

    return Guide(veto=veto, alpha=carried if weight > 0 else None, weight=weight * sure), seen


def _revealed_behind(prev_alpha: np.ndarray, carried: np.ndarray, motion: Motion) -> np.ndarray:
    """H×W bool, in frame t+1: what the subject uncovered as it moved. The backward flow there points
    into frame t's matte (carried ≥ 0.5) but fails its check, none of frame t's matte lands
    there along the forward flow, and its colour is not what frame t showed there: it was hidden
    behind the subject, so it is not the subject, however much it looks like it. (With the same
    colour it is the subject's own edge, which the flow lost: on one frame of the distractor clip,
    112 of the 210 pixels held off without that test were the subject's.) Within REVEAL_REACH px
    of background the matte did not reach (a part of the subject uncovered by another part of it
    lies inside the subject, not at its edge)."""
    matte = np.where(prev_alpha > 0.02, FOREGROUND, BACKGROUND).astype(np.uint8)
    landed = splat_labels(matte, motion.forward)
    covered = dilate(landed == FOREGROUND, np.ones((3, 3), np.uint8)) > 0
    revealed = motion.unsure & motion.changed & (carried >= 0.5) & ~covered
    outside = (carried < 0.02) & ~motion.unsure
    return dilate_where(outside, disk(REVEAL_REACH), revealed)


def _enclosed(vetoed: np.ndarray, open_: np.ndarray) -> np.ndarray:
    """H×W bool: the `vetoed` pixels whose piece of `open_` (H×W bool: all but the solid foreground left
    standing) reaches no edge of the frame: holes the veto would punch inside the subject's solid
    foreground. The veto trims what gets in from outside; a hole inside the subject is left to the
    network. On the judo demo the veto had held a patch of the players' chests off from frame 1006 on;
    walled in by any kept pixel (the band included), not only solid foreground, a strange blob inside
    the band got through on the gt07 clip (worst leak 0.23% -> 1.82%; benchmarks/journal/model.md)."""
    count, pieces = cv2.connectedComponents(open_.astype(np.uint8), connectivity=8)
    outside = np.zeros(count, bool)
    outside[np.unique(np.concatenate([pieces[0], pieces[-1], pieces[:, 0], pieces[:, -1]]))] = True
    return vetoed & ~outside[pieces]


def _strange_islands(kept: np.ndarray, memory: KeyframeMemory, features: PixelFeatures) -> np.ndarray:
    """The connected pieces of `kept` (H×W bool) that, as a whole, look like nothing of the subject:
    something that came in with the subject's flow (it emerged from behind the subject) and then
    left it. Judged by the mean subject value of the piece's pixels on an ISLAND_GRID px grid."""
    count, pieces = cv2.connectedComponents(kept.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros(kept.shape, bool)
    probes = np.zeros(kept.shape, bool)
    probes[::ISLAND_GRID, ::ISLAND_GRID] = kept[::ISLAND_GRID, ::ISLAND_GRID]
    if not probes.any():
        return np.zeros(kept.shape, bool)
    piece = pieces[probes]
    values = memory.subject_value(features, probes)
    asked = np.bincount(piece, minlength=count)
    mean = np.bincount(piece, weights=values, minlength=count) / np.maximum(asked, 1)
    strange = (asked > 0) & (mean < ISLAND_BELOW)
    strange[0] = False
    return strange[pieces]
