import numpy as np
import pytest

from adamatte.matting.foreground import estimate_foreground

from synthetic import soft_disk, textured


def test_matches_pymatting_estimate_foreground_ml():
    pymatting = pytest.importorskip("pymatting")
    h, w = 120, 150
    alpha = soft_disk(h, w, 60, 75, 35, softness=20)
    fg, bg = textured(h, w, 1, (0.9, 0.4, 0.1)), textured(h, w, 2, (0.1, 0.2, 0.9))
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    ours, ours_bg = estimate_foreground(image, alpha)
    theirs = pymatting.estimate_foreground_ml(image.astype(np.float64), alpha.astype(np.float64))
    visible = alpha > 0.05
    assert np.abs(ours - theirs)[visible].mean() < 2e-3
    recomposed = alpha[..., None] * ours + (1 - alpha[..., None]) * ours_bg
    assert np.abs(recomposed - image).mean() < 2e-3
