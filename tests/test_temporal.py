"""The rules that keep background out of a propagated matte: no promotion along the flow, decay of
changed foreground, the keyframe memory's veto, the temporal prior, and a drift guard that fires."""

import cv2
import numpy as np

from adamatte.matting.engine import MattingEngine
from adamatte.matting.trimap import BACKGROUND, FOREGROUND, UNKNOWN, trimap_to_labels
from adamatte.video.drift import DriftGuard
from adamatte.video.memory import KeyframeMemory, PixelFeatures, pixel_features, subject_centre
from adamatte.video.keyframes import Keyframes
from adamatte.video.propagate import Motion, input_trimap, propagate_trimap
from adamatte.video.temporal import carry_alpha, temporal_guide

from standin import ColourKeyNet

H, W = 64, 96


def still_motion(forward_dx: float = 0.0, changed: np.ndarray | None = None) -> Motion:
    """A synthetic flow: forward shifts by forward_dx px, the backward flow says nothing moved, and the
    forward-backward check passes everywhere (so the backward flow is to be believed)."""
    forward = np.zeros((H, W, 2), np.float32)
    forward[..., 0] = forward_dx
    zero = np.zeros((H, W, 2), np.float32)
    none = np.zeros((H, W), bool)
    return Motion(forward, zero, none, none, abs(forward_dx), none if changed is None else changed)


def square_labels(x0: int = 30, x1: int = 60) -> np.ndarray:
    labels = np.full((H, W), BACKGROUND, np.uint8)
    labels[16:48, x0:x1] = FOREGROUND
    return labels


def test_background_is_never_promoted_to_known_foreground_along_the_flow():
    labels = square_labels()
    # the forward flow splats the square 6 px right, but the (consistent) backward flow says the
    # pixels it lands on came from background: they may be unknown, never known foreground
    out = trimap_to_labels(propagate_trimap(labels, still_motion(6.0)))
    came_from_background = labels == BACKGROUND
    assert not (out[came_from_background] == FOREGROUND).any()
    assert (out[24:40, 42:50] == FOREGROUND).all(), "the square's settled core stays known"


def test_changed_foreground_near_the_edge_decays_unless_it_looks_like_the_subject():
    labels = square_labels()
    changed = np.zeros((H, W), bool)
    changed[16:48, 30:40] = True  # uncovered: the picture changed there along the flow
    # 0.3: not clearly the subject (decays where it changed), not clearly its background (kept where it did not)
    out = trimap_to_labels(propagate_trimap(labels, still_motion(0.0, changed), subject=lambda m: np.full(m.sum(), 0.3)))
    assert (out[24:40, 36:40] == UNKNOWN).all()
    kept = trimap_to_labels(propagate_trimap(labels, still_motion(0.0, changed), subject=lambda m: np.ones(m.sum())))
    assert (kept[24:40, 36:40] == FOREGROUND).all()
    assert (out[24:40, 47:52] == FOREGROUND).all(), "unchanged foreground is not touched"


def test_an_unknown_pocket_deep_inside_the_subject_does_not_grow():
    """Decay and the band's widening act only near the background: around a pocket of unknown deep
    inside the subject they would eat it from within, frame after frame."""
    size = 200
    labels = np.full((size, size), BACKGROUND, np.uint8)
    labels[10:190, 10:190] = FOREGROUND
    labels[95:105, 95:105] = UNKNOWN
    everything = np.ones((size, size), bool)
    still = np.zeros((size, size, 2), np.float32)
    motion = Motion(still, still, ~everything, everything, 0.0, everything)  # every pixel changed, every flow unsure from t
    for _ in range(3):  # nothing looks like the subject: what may decay, decays
        labels = trimap_to_labels(propagate_trimap(labels, motion, subject=lambda m: np.zeros(m.sum())))
    assert (labels[95:105, 95:105] == UNKNOWN).all() and (labels == UNKNOWN)[60:140, 60:140].sum() == 100
    assert (labels[12:30, 12:188] == UNKNOWN).all(), "near the background, the same foreground decays"


def two_colour_frame(subject=(0.9, 0.3, 0.1), background=(0.1, 0.2, 0.8)) -> tuple[np.ndarray, np.ndarray]:
    image = np.empty((H, W, 3), np.float32)
    image[:] = background
    image[16:48, 20:50] = subject
    trimap = np.zeros((H, W), np.float32)
    trimap[16:48, 20:50] = 1.0
    trimap[14:50, 18:52][trimap[14:50, 18:52] == 0] = 0.5
    trimap[18:46, 22:48] = 1.0
    return image, trimap


def subject_alpha() -> np.ndarray:
    alpha = np.zeros((H, W), np.float32)
    alpha[16:48, 20:50] = 1.0
    return alpha


def remember(image: np.ndarray, trimap: np.ndarray) -> KeyframeMemory:
    memory = KeyframeMemory()
    memory.add(1001, image, trimap, subject_alpha())
    return memory


def features(image: np.ndarray) -> PixelFeatures:
    return pixel_features(image, subject_centre(subject_alpha()))


def solid(labels: np.ndarray) -> np.ndarray:
    """The network's alpha for labels that it is sure of: 1 on foreground, else 0."""
    return (labels == FOREGROUND).astype(np.float32)


def test_the_band_reaches_further_into_background_only_with_a_memory_and_a_solve():
    """The extra reach lets in background that only the memory's veto keeps out of the matte, and faint fur
    that only the solve recovers: without either, the band grows by the margin alone."""
    image, trimap = two_colour_frame()
    memory, labels, no_keyframes = remember(image, trimap), trimap_to_labels(trimap), Keyframes([], 1001)

    def band(memory: KeyframeMemory | None, solved: bool) -> int:
        return int((input_trimap(1002, image, no_keyframes, labels, still_motion(), memory, features(image), solved=solved) == 0.5).sum())

    assert band(memory, True) > band(memory, False)
    assert band(None, True) == band(None, False)


def test_a_faint_fringe_in_the_slack_is_kept_but_solid_background_creeping_in_is_not():
    image, trimap = two_colour_frame()
    memory = remember(image, trimap)
    guide, _ = temporal_guide(subject_alpha(), still_motion(), memory, features(image), trimap, weight=0.05)
    labels = trimap_to_labels(trimap)
    labels[16:48, 50:54] = UNKNOWN  # just outside the carried matte, over plain background
    alpha = solid(labels)
    alpha[16:48, 50:54] = 0.1  # a faint fringe the previous frame lost (hair over the background)
    assert not guide.veto(labels, alpha)[0][18:46, 50:54].any(), "a faint fringe needs no vouching"
    alpha[16:48, 50:54] = 0.8  # the background itself, taken for solid foreground
    vetoed, firm = guide.veto(labels, alpha)
    assert vetoed[18:46, 50:54].all(), "solid alpha that looks like pure background is held off"
    assert not firm.any(), "... but the solve may weigh it: fur over the background can look like it"


def test_memory_tells_the_subject_from_its_background_and_from_a_stranger():
    image, trimap = two_colour_frame()
    memory = remember(image, trimap)
    probe = image.copy()
    probe[20:30, 70:80] = (0.2, 0.8, 0.2)  # a green stranger, far from anything the keyframe knew
    p = lambda mask: memory.subject_value(features(probe), mask).mean()  # noqa: E731
    inside, behind, stranger = (np.zeros((H, W), bool) for _ in range(3))
    inside[25:35, 28:40], behind[50:60, 60:70], stranger[22:28, 72:78] = True, True, True
    assert p(inside) > 0.9 and p(behind) < 0.1 and p(stranger) < 0.5


def test_memory_reads_a_frame_once_and_answers_later_questions_about_it_the_same():
    image, trimap = two_colour_frame()
    probe = image.copy()
    probe[20:30, 70:80] = (0.2, 0.8, 0.2)
    frame = features(probe)
    ring, edge = np.zeros((H, W), bool), np.zeros((H, W), bool)
    ring[10:54, 14:56] = True
    ring[20:44, 24:46] = False
    edge[14:50, 40:82] = True  # overlaps the ring and reaches the stranger
    reused = remember(image, trimap)
    reused.subject_value(frame, ring)
    for strangers in (True, False):
        fresh = remember(image, trimap).subject_value(frame, edge, strangers=strangers)
        assert np.array_equal(reused.subject_value(frame, edge, strangers=strangers), fresh)
    other = features(np.roll(image, 20, axis=1))  # another frame, the subject moved: nothing of the last one is reused
    assert np.array_equal(reused.subject_value(other, edge), remember(image, trimap).subject_value(other, edge))


def test_memory_veto_holds_off_new_foreground_that_is_not_the_subject():
    image, trimap = two_colour_frame()
    memory = remember(image, trimap)
    frame = image.copy()
    frame[20:30, 70:85] = (0.2, 0.8, 0.2)  # appears where background was
    frame[40:50, 60:66] = (0.9, 0.3, 0.1)  # the subject's colour, newly there (an arm)
    prev_alpha = (trimap == 1.0).astype(np.float32)
    guide, seen = temporal_guide(prev_alpha, still_motion(), memory, features(frame), trimap, weight=0.05)
    labels = trimap_to_labels(trimap)
    labels[20:30, 70:85] = FOREGROUND
    labels[40:50, 60:66] = FOREGROUND
    vetoed, firm = guide.veto(labels, solid(labels))
    assert firm[22:28, 72:83].all(), "a stranger appearing is held off, for good"
    assert not vetoed[42:48, 61:65].any(), "new foreground that looks like the subject is kept"
    assert not vetoed[18:46, 22:48].any(), "the subject itself is never vetoed"
    assert not seen[22:28, 72:83].any() and seen[25:35, 28:40].all()
    warning = DriftGuard().observe(1002, np.where(vetoed, BACKGROUND, labels), False, seen=seen, vetoed=vetoed)
    assert warning is not None and warning.frame == 1002 and "held off" in warning.reason and "@1002" in str(warning)


def _ghost_veto(patch: tuple[slice, slice]) -> np.ndarray:
    """The veto on a frame where `patch` shows the keyframe's background colour but the network calls it solid
    foreground inside a band the input trimap left open (a ghost?); the subject has not moved."""
    image, trimap = two_colour_frame()
    memory = remember(image, trimap)
    frame, band = image.copy(), trimap.copy()
    frame[patch] = (0.1, 0.2, 0.8)
    band[patch] = 0.5
    guide, _ = temporal_guide(subject_alpha(), still_motion(), memory, features(frame), band, weight=0.05)
    labels = trimap_to_labels(trimap)
    labels[patch] = FOREGROUND
    vetoed, firm = guide.veto(labels, solid(labels))
    np.testing.assert_array_equal(firm, vetoed)  # a ghost is held off for good
    return vetoed


def test_the_veto_trims_a_ghost_at_the_subjects_edge_but_never_punches_a_hole_inside_it():
    edge = (slice(26, 36), slice(42, 50))  # reaches the background beside the subject
    assert _ghost_veto(edge)[27:35, 43:49].all(), "solid foreground that looks like the background is held off"
    inside = (slice(26, 36), slice(28, 36))  # walled in by the subject's solid foreground
    assert not _ghost_veto(inside).any(), "a hole inside the subject is the network's to make"


def test_temporal_prior_pulls_the_band_where_the_carried_alpha_agrees_with_the_network():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (H, W, 3)).astype(np.float32)
    key = np.full((H, W), 0.75, np.float32)  # ColourKeyNet's alpha in the band, from R − B = 0.98·key − 0.49
    key[:, 48:] = 0.3
    image[..., 2] = np.clip(image[..., 0] - (0.98 * key - 0.49), 0, 1)
    image[..., 0] = image[..., 2] + (0.98 * key - 0.49)
    trimap = np.zeros((H, W), np.float32)
    trimap[16:48, 10:40] = 0.5  # here the previous frame agrees with the network (0.8 against 0.75) ...
    trimap[16:48, 56:86] = 0.5  # ... here it does not (0.9 against 0.3): the subject changed, or the previous frame was wrong
    carried_from = np.zeros((H, W), np.float32)
    carried_from[16:48, 10:40], carried_from[16:48, 56:86] = 0.8, 0.9
    carried, sure = carry_alpha(carried_from, still_motion())
    np.testing.assert_allclose(carried, carried_from, atol=1e-6)
    assert sure.min() == 1.0
    engine = MattingEngine(ColourKeyNet(), device="cpu", refine="knn")
    free = engine.matte(image, trimap)
    guide, _ = temporal_guide(carried_from, still_motion(), None, features(image), trimap, weight=1.0)
    held = engine.matte(image, trimap, guide)
    agrees, differs = (slice(16, 48), slice(10, 40)), (slice(16, 48), slice(56, 86))
    assert np.abs(held.alpha[agrees] - 0.8).mean() < 0.5 * np.abs(free.alpha[agrees] - 0.8).mean()
    assert np.abs(held.alpha[differs] - free.alpha[differs]).mean() < 0.02 * np.abs(free.alpha[differs] - 0.9).mean()


def test_foreground_that_emerges_from_behind_the_subject_or_breaks_away_from_it_is_vetoed():
    image, trimap = two_colour_frame()
    memory = remember(image, trimap)
    frame = image.copy()
    frame[20:30, 50:58] = (0.2, 0.8, 0.2)  # a stranger emerging at the subject's side ...
    frame[50:60, 70:80] = (0.2, 0.8, 0.2)  # ... and one that broke away, carried along with the flow
    prev_alpha = subject_alpha()
    prev_alpha[20:30, 50:58] = 1.0  # the flow from behind the subject brings the subject's alpha here, but fails its check
    prev_alpha[50:60, 70:80] = 1.0  # the flow follows this one and passes: frame t's matte had it already
    unsure = np.zeros((H, W), bool)
    unsure[20:30, 50:58] = True
    none = np.zeros((H, W), bool)
    zero = np.zeros((H, W, 2), np.float32)
    motion = Motion(zero, zero, unsure, none, 0.0, none)
    guide, seen = temporal_guide(prev_alpha, motion, memory, features(frame), trimap, weight=0.05)
    labels = trimap_to_labels(trimap)
    labels[20:30, 50:58] = FOREGROUND
    labels[50:60, 70:80] = FOREGROUND
    vetoed, firm = guide.veto(labels, solid(labels))
    assert vetoed[21:29, 51:57].all(), "alpha carried by a flow that fails its check vouches for nothing"
    assert firm[50:60, 70:80].all(), "a piece that looks like nothing of the subject is held off whole"
    assert not vetoed[18:46, 22:48].any()


def test_a_lasting_drift_warns_once_on_its_first_frame_and_again_after_it_cleared():
    labels = square_labels()
    vetoed = np.zeros((H, W), bool)
    vetoed[0:10, 0:10] = True  # 1.6% of the frame held off as background
    clear = np.zeros((H, W), bool)
    guard = DriftGuard()
    raised = [guard.observe(f, labels, f == 1001, vetoed=v) for f, v in
              zip(range(1001, 1008), (clear, vetoed, vetoed, vetoed, clear, vetoed, vetoed))]
    assert [w.frame for w in raised if w is not None] == [1002, 1006]


def test_a_matte_that_fades_warns_when_it_falls_under_the_share_and_again_only_after_it_came_back():
    labels = square_labels()

    def matte(rows: int) -> np.ndarray:  # a subject 30 px wide whose solid part is `rows` tall, translucent below
        alpha = np.zeros((H, W), np.float32)
        alpha[10:50, 20:50] = 0.5
        alpha[10:10 + rows, 20:50] = 1.0
        return alpha

    guard = DriftGuard()
    heights = (40, 36, 28, 22, 20, 30, 20, 20)  # solid share of the keyframe's: 1, 0.9, 0.7, 0.55, 0.5, 0.75, 0.5, 0.5
    raised = [guard.observe(f, labels, f == 1001, alpha=matte(rows)) for f, rows in zip(range(1001, 1009), heights)]
    assert [w.frame for w in raised if w is not None] == [1004, 1007]
    assert "fell to 55% of frame 1001's" in str(raised[3])
    assert guard.observe(1009, labels, True, alpha=matte(20)) is None, "a keyframe is the new reference"
    assert guard.observe(1010, labels, False, alpha=matte(20)) is None


def test_a_piece_that_breaks_away_from_the_subject_warns_and_a_piece_that_was_always_apart_does_not():
    labels = square_labels()
    keyframe = np.zeros((H, W), np.float32)
    keyframe[10:50, 20:50] = 1.0  # the subject, reaching up to row 10 ...
    keyframe[2:6, 70:76] = 1.0  # ... and a piece apart from it from the start (a held prop)
    broken = keyframe.copy()
    broken[16:19, 20:50] = 0.0  # its top (rows 10-16: 180 px) now detached, lying where the subject was
    noise = keyframe.copy()
    noise[16:19, 20:50] = 0.0
    noise[10:16, 20:50] = 0.0
    noise[12:13, 30:32] = 1.0  # a speck, far under a share of the subject ...
    noise[47:50, 20:50] = 1.0  # ... and a sliver along the subject's foot, cut off by a seam
    noise[45:47, 20:50] = 0.0
    guard = DriftGuard()
    assert guard.observe(1001, labels, True, alpha=keyframe) is None
    assert guard.observe(1002, labels, False, alpha=keyframe) is None, "the piece apart from the start is not news"
    warning = guard.observe(1003, labels, False, alpha=broken)
    assert warning is not None and "broke away" in str(warning) and "x 20-50, y 10-16" in str(warning)
    guard = DriftGuard()
    guard.observe(1001, labels, True, alpha=keyframe)
    assert guard.observe(1002, labels, False, alpha=noise) is None


def _uncovering(frame: np.ndarray, changed: np.ndarray, memory: KeyframeMemory) -> tuple[np.ndarray, np.ndarray]:
    """The veto (vetoed, firm) on frame t+1 = `frame`, where frame t's subject (x 20-50) moved 6 px right. The background
    is still, so the backward flow in the strip it left (x 20-26) is zero and lands in frame t's matte,
    and the forward-backward check fails there. changed: where frame t+1's colour differs along the flow."""
    _, trimap = two_colour_frame()
    forward = np.zeros((H, W, 2), np.float32)
    forward[16:48, 20:50, 0] = 6.0
    backward = np.zeros((H, W, 2), np.float32)
    backward[16:48, 26:56, 0] = -6.0
    unsure = np.zeros((H, W), bool)
    unsure[16:48, 20:26] = True
    guide, _ = temporal_guide(subject_alpha(), Motion(forward, backward, unsure, np.zeros((H, W), bool), 6.0, changed), memory,
                              features(frame), trimap, weight=0.05)
    labels = np.full((H, W), BACKGROUND, np.uint8)
    labels[16:48, 20:56] = FOREGROUND
    return guide.veto(labels, solid(labels))


def test_a_look_alike_uncovered_behind_the_moving_subject_is_vetoed_though_the_memory_takes_it_for_the_subject():
    image, trimap = two_colour_frame()
    memory = remember(image, trimap)
    frame = image.copy()
    frame[16:48, 26:56] = (0.9, 0.3, 0.1)  # the subject where it moved to
    frame[16:48, 20:26] = (0.75, 0.22, 0.05)  # what was behind it: a darker shade of the subject, not what frame t showed here
    strip = np.zeros((H, W), bool)  # where the subject was: the colour changed there along the flow
    strip[16:48, 20:26] = True
    assert memory.subject_value(features(frame), strip).min() > 0.5, "the memory alone would keep it"
    vetoed, firm = _uncovering(frame, strip, memory)
    assert firm[18:46, 20:24].all(), "what the subject uncovered is not the subject"
    assert not vetoed[16:48, 28:56].any(), "the subject where it moved to is kept"


def test_the_subject_where_the_flow_lost_its_edge_is_not_taken_for_uncovered_background():
    image, trimap = two_colour_frame()
    memory = remember(image, trimap)
    frame = image.copy()
    frame[16:48, 20:56] = (0.9, 0.3, 0.1)  # the subject grew rightward; its left edge stayed, though its flow failed the check
    vetoed, _ = _uncovering(frame, np.zeros((H, W), bool), memory)
    assert not vetoed[16:48, 20:56].any(), "the same colour as frame t showed there: the subject's own edge"


def test_the_labels_handed_on_take_back_what_the_solve_made_solid_and_nothing_it_left_soft():
    from adamatte.matting.trimap import SOLID
    from adamatte.video.propagate import carried_labels

    labels = square_labels()
    labels[16:48, 26:34] = UNKNOWN  # the network left the left edge open
    alpha = np.where(labels == FOREGROUND, 1.0, 0.0).astype(np.float32)
    alpha[16:48, 30:34] = 1.0  # the solve found the square's own edge solid ...
    alpha[16:48, 28:30] = 0.5  # ... with a soft fringe
    out = carried_labels(labels, alpha)
    assert (out[16:48, 30:34] == FOREGROUND).all() and (out[16:48, 28:30] == UNKNOWN).all()
    assert (out[16:48, 26:28] == BACKGROUND).all(), "band the solve cleared is background"
    assert (out[labels != UNKNOWN] == labels[labels != UNKNOWN]).all(), "known labels are handed on as they are"
    alpha[16:48, 30:34] = SOLID - 0.01
    assert (carried_labels(labels, alpha)[16:48, 30:34] == UNKNOWN).all()


def test_pixel_features_made_per_pixel_are_the_whole_frames_rows():
    rng = np.random.default_rng(1)
    image = rng.random((30, 44, 3)).astype(np.float32)
    centre = (17.3, 9.6)
    made = pixel_features(image, centre)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab)
    scale = 0.15 * 1000.0 / 44
    ys, xs = np.mgrid[0:30, 0:44].astype(np.float32)
    whole = np.dstack([lab, cv2.blur(lab, (9, 9)), (xs - centre[0]) * scale, (ys - centre[1]) * scale])
    mask = rng.random((30, 44)) < 0.4
    assert made.of(mask).dtype == np.float32 and np.array_equal(made.of(mask), whole[mask])
    assert np.array_equal(made.at(np.array([0, 29]), np.array([43, 0])), whole[[0, 29], [43, 0]])


def test_two_subjects_that_meet_and_part_are_not_news_but_a_piece_breaking_off_one_of_them_is():
    labels = square_labels()
    apart = np.zeros((H, W), np.float32)
    apart[20:50, 10:30] = 1.0  # two children, matted together from the keyframe
    apart[25:50, 45:62] = 1.0
    met = apart.copy()
    met[30:40, 30:45] = 1.0  # they touch: one piece
    speck = met.copy()
    speck[5:11, 70:78] = 1.0  # a small piece elsewhere while they touch
    broken = apart.copy()
    broken[31:34, 45:62] = 0.0  # the top of the second (rows 25-31, 102 px) detached, where it was
    guard = DriftGuard()
    assert guard.observe(1001, labels, True, alpha=apart) is None
    assert guard.observe(1002, labels, False, alpha=met) is None
    assert guard.observe(1003, labels, False, alpha=apart) is None, "they parted again: both are the subject"
    assert guard.observe(1004, labels, False, alpha=apart) is None
    warning = guard.observe(1005, labels, False, alpha=broken)
    assert warning is not None and "broke away" in str(warning) and "x 45-62, y 25-31" in str(warning)
    guard = DriftGuard()
    guard.observe(1001, labels, True, alpha=apart)
    guard.observe(1002, labels, False, alpha=speck)  # the speck lies on no subject: not news yet, and not a part
    speck_on_subject = met.copy()
    speck_on_subject[25:28, 10:30] = 0.0  # the first child's top (rows 20-25, under a tenth of them) cut off while they touch
    warning = guard.observe(1003, labels, False, alpha=speck_on_subject)
    assert warning is not None and "x 10-30, y 20-25" in str(warning), "a small piece does not take the second part's place"
