"""The background plate (video.plate): what the shot's background looked like where a matte cleared it,
carried with the camera, and the veto of background the shot has already shown."""

import functools

import numpy as np

from adamatte.matting.trimap import BACKGROUND, FOREGROUND, UNKNOWN
from adamatte.video.memory import lab_colour
from adamatte.video.plate import CLEAR_BELOW, BackgroundPlate
from adamatte.video.propagate import Motion

from test_temporal import H, W, features, remember, still_motion, two_colour_frame
from adamatte.video.temporal import temporal_guide


def wall(seed: int = 0) -> np.ndarray:
    """A textured H×W×3 background (a painting on a wall), 0-1."""
    return np.random.default_rng(seed).uniform(0.1, 0.9, (H, W, 3)).astype(np.float32)


def test_the_plate_records_what_a_matte_cleared_and_keeps_what_the_subject_hides():
    background = wall()
    alpha = np.zeros((H, W), np.float32)
    alpha[:, :40] = 1.0  # the subject hides the left
    alpha[:, 40:44] = CLEAR_BELOW + 0.1  # a soft edge: not clear
    plate = BackgroundPlate()
    plate.observe(background, alpha)
    assert plate.seen[:, 44:].all() and not plate.seen[:, :44].any()
    shows = plate.shows(lab_colour(background))
    assert shows[1:-1, 46:-1].all(), "the same background shows the plate"
    assert not shows[:, :44].any(), "where nothing was cleared there is no plate"
    subject = background.copy()
    subject[:, 60:70] = (0.9, 0.3, 0.1)  # the subject moved over part of what was seen
    assert not plate.shows(lab_colour(subject))[:, 61:69].any()
    edge = background.copy()
    edge[:, 60:70] = 0.8 * background[:, 60:70] + 0.2 * np.array((0.9, 0.3, 0.1), np.float32)
    assert not plate.shows(lab_colour(edge))[:, 61:69].all(), "a 20% soft edge over the seen background is no longer the plate"
    rng = np.random.default_rng(0)
    middle = np.zeros((H, W), bool)
    middle[5:20, 58:72] = True  # across the subject's edge, the box's own edges inside the frame
    for where in (rng.random((H, W)) < 0.05, middle, np.pad(np.ones((10, 12), bool), ((0, H - 10), (W - 12, 0))), np.zeros((H, W), bool)):
        for image in (subject, edge):  # asked about some pixels: the whole frame's answer there, and False elsewhere
            assert np.array_equal(plate.shows(lab_colour(image), where), plate.shows(lab_colour(image)) & where)


def test_the_plate_follows_the_camera_not_the_subject():
    rng = np.random.default_rng(1)
    scene = rng.uniform(0.1, 0.9, (H, W + 8, 3)).astype(np.float32)
    first, second = scene[:, :W], scene[:, 3:W + 3]  # the camera pans 3 px right: the background moves 3 px left
    plate = BackgroundPlate()
    plate.observe(first, np.zeros((H, W), np.float32))
    backward = np.zeros((H, W, 2), np.float32)
    backward[..., 0] = 3.0  # frame t+1's pixel x was at x + 3 in frame t
    backward[20:40, 20:40, 0] = -5.0  # a subject moving the other way does not drag the plate
    none = np.zeros((H, W), bool)
    plate.follow(Motion(-backward, backward, none, none, 5.0, none))
    shows = plate.shows(lab_colour(second))
    assert shows[2:-2, 2:W - 5].mean() > 0.95, "after the pan the plate lines up with the new frame"
    restored = BackgroundPlate.from_image(plate.to_image().astype(np.float32) / 255.0)
    assert (restored.colour == plate.colour).all() and (restored.seen == plate.seen).all(), "the sidecar holds it exactly"


def test_background_the_shot_has_shown_is_vetoed_unless_the_previous_matte_firmly_holds_it():
    image, trimap = two_colour_frame()
    image[:, 50:90] = wall()[:, 50:90]  # a painting beside the subject
    memory = remember(image, trimap)
    plate = BackgroundPlate()
    subject = (trimap == 1.0).astype(np.float32)
    plate.observe(image, subject)
    prev_alpha = subject.copy()
    prev_alpha[16:48, 50:56] = 0.1  # frame t's faint fringe over the painting ...
    prev_alpha[30:40, 50:56] = 1.0  # ... and a part of the subject that firmly reached over it
    labels = np.full((H, W), BACKGROUND, np.uint8)
    labels[16:48, 20:50] = FOREGROUND
    labels[16:48, 50:56] = UNKNOWN  # the band over the painting, where the network is faintly unsure
    alpha = np.where(labels == FOREGROUND, 1.0, np.where(labels == UNKNOWN, 0.1, 0.0)).astype(np.float32)
    guide, _ = temporal_guide(prev_alpha, still_motion(), memory, features(image), trimap, weight=0.05,
                              shows_plate=functools.partial(plate.shows, lab_colour(image)))
    vetoed, firm = guide.veto(labels, alpha)
    assert firm[17:28, 51:55].all(), "the painting the shot has shown is background"
    assert not vetoed[31:39, 51:55].any(), "where frame t's matte firmly arrives it outweighs the plate"
    assert not vetoed[16:48, 20:50].any(), "the subject is kept"
    without, _ = temporal_guide(prev_alpha, still_motion(), memory, features(image), trimap, weight=0.05)
    assert not without.veto(labels, alpha)[0][17:28, 51:55].any(), "a faint fringe needs no vouching from the memory alone"
