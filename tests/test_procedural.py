"""Procedural transparency: its layers' alpha is exact ground truth for the composite they make."""

import numpy as np
import pytest

from adamatte.train.procedural import KINDS, LAYERS, ProceduralTransparency, blur_by, blur_kernel, over, strands
from adamatte.train.transforms import paper_pipeline


def subject(h=96, w=96):
    """A solid orange disc on the left with a soft edge: fg H×W×3, alpha H×W."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    alpha = np.clip((30 - np.hypot(xs - 30, ys - 48)) / 3, 0, 1).astype(np.float32)
    fg = np.zeros((h, w, 3), np.float32)
    fg[...] = (0.9, 0.5, 0.1)
    fg[..., 1] += 0.2 * xs / w  # some texture, so colours differ along the edge
    return fg, alpha


def composite(fg, alpha, bg):
    return fg * alpha[..., None] + bg * (1 - alpha[..., None])


def test_a_layer_over_the_subject_composites_as_the_layer_over_the_plate():
    fg, alpha = subject()
    rng = np.random.default_rng(0)
    bg = rng.uniform(0, 1, fg.shape).astype(np.float32)
    colour = np.array([0.2, 0.3, 0.9], np.float32)
    cover = rng.uniform(0, 1, alpha.shape).astype(np.float32)
    new_fg, new_alpha = over(fg, alpha, colour, cover)
    direct = colour * cover[..., None] + composite(fg, alpha, bg) * (1 - cover[..., None])
    np.testing.assert_allclose(composite(new_fg, new_alpha, bg), direct, atol=1e-5)


def test_blur_is_the_blurred_composite_over_a_flat_background():
    """Blurring the layer (premultiplied) and compositing over a flat background is the same as
    blurring the composite: the ground truth the network learns from is what the plate shows."""
    import cv2

    fg, alpha = subject()
    bg = np.full(fg.shape, 0.3, np.float32)
    for seed in range(6):  # motion blur and defocus both
        kernel = blur_kernel(np.random.default_rng(seed))
        new_fg, new_alpha = blur_by(fg, alpha, kernel)
        expected = cv2.filter2D(composite(fg, alpha, bg), -1, kernel, borderType=cv2.BORDER_REFLECT)
        np.testing.assert_allclose(composite(new_fg, new_alpha, bg), expected, atol=1e-4)
        soft = ((new_alpha > 0.01) & (new_alpha < 0.99)).sum()
        assert soft > ((alpha > 0.01) & (alpha < 0.99)).sum(), "blur widens the soft edge"


def test_strands_add_fractional_hair_outside_the_subject_and_never_take_alpha_away():
    fg, alpha = subject()
    new_fg, new_alpha = strands(fg.copy(), alpha.copy(), np.random.default_rng(1))
    assert (new_alpha >= alpha - 1e-6).all()
    outside = alpha == 0
    hair = new_alpha[outside]
    assert (hair > 0.02).sum() > 50, "strands reach out of the subject"
    assert ((hair > 0.02) & (hair < 0.9)).sum() > (hair >= 0.9).sum(), "antialiased: mostly fractional coverage"
    again = strands(fg.copy(), alpha.copy(), np.random.default_rng(1))[1]
    np.testing.assert_array_equal(new_alpha, again)


@pytest.mark.parametrize("kind", KINDS)
def test_every_layer_keeps_the_sample_valid(kind):
    fg, alpha = subject()
    new_fg, new_alpha = LAYERS[kind](fg.copy(), alpha.copy(), np.random.default_rng(2))
    assert new_fg.shape == fg.shape and new_alpha.shape == alpha.shape
    assert new_fg.dtype == np.float32 and new_alpha.dtype == np.float32
    assert 0 <= new_alpha.min() and new_alpha.max() <= 1 and 0 <= new_fg.min() and new_fg.max() <= 1
    assert np.abs(new_alpha - alpha).max() > 0.05


def test_the_transform_is_off_by_default_and_draws_nothing_then():
    assert not any(isinstance(t, ProceduralTransparency) for t in paper_pipeline())
    assert any(isinstance(t, ProceduralTransparency) for t in paper_pipeline(procedural=0.3))
    fg, alpha = subject()
    rng = np.random.default_rng(5)
    sample = ProceduralTransparency(0.0)({"fg": fg, "alpha": alpha}, rng)
    assert sample["alpha"] is alpha and rng.random() == np.random.default_rng(5).random()
    changed = ProceduralTransparency(1.0)({"fg": fg.copy(), "alpha": alpha.copy()}, np.random.default_rng(5))
    assert np.abs(changed["alpha"] - alpha).max() > 0.05
