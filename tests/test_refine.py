import numpy as np
import pytest

from adamatte.engine import MattingEngine
from adamatte.refine import refine_closed_form
from adamatte.trimap import trimap_to_labels

from standin import ColourKeyNet
from synthetic import matting_sample


def test_matches_pymatting_closed_form():
    pymatting = pytest.importorskip("pymatting")
    image, alpha, _ = matting_sample(80, 96, seed=3)
    trimap = np.full(alpha.shape, 0.5)
    trimap[alpha == 0], trimap[alpha == 1] = 0.0, 1.0
    trimap[:4], trimap[-4:], trimap[:, :4], trimap[:, -4:] = 0.0, 0.0, 0.0, 0.0
    theirs = pymatting.estimate_alpha_cf(image.astype(np.float64), trimap)
    ours = refine_closed_form(image, trimap_to_labels(trimap.astype(np.float32)), margin=0)
    unknown = trimap == 0.5
    assert np.abs(ours - np.clip(theirs, 0, 1))[unknown].mean() < 1e-3
    assert (ours[trimap == 0] == 0).all() and (ours[trimap == 1] == 1).all()


def test_prior_pulls_toward_the_network():
    image, alpha, trimap = matting_sample(64, 64, seed=1)
    labels = trimap_to_labels(trimap)
    prior = np.where(labels == 1, 0.5, alpha).astype(np.float32)
    free = refine_closed_form(image, labels, prior, prior_weight=0.0, margin=0)
    held = refine_closed_form(image, labels, prior, prior_weight=100.0, margin=0)
    band = labels == 1
    assert np.abs(held - 0.5)[band].mean() < np.abs(free - 0.5)[band].mean()


def test_engine_refines_inside_the_adapted_band():
    image, alpha, trimap = matting_sample(96, 96, seed=2)
    plain = MattingEngine(ColourKeyNet(), device="cpu").matte(image, trimap)
    refined = MattingEngine(ColourKeyNet(), device="cpu", refine="closed-form").matte(image, trimap)
    import cv2

    far = cv2.erode((plain.labels != 1).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)  # beyond the 2 px margin
    np.testing.assert_array_equal(refined.alpha[far], plain.alpha[far])
    assert "refine" in refined.timings
    assert np.abs(refined.alpha - alpha).mean() < 0.02
