"""End to end with the real network and the bundled weights: `adamatte demo`."""

import json
import subprocess
import sys

import pytest

from adamatte.io import read_image, read_info
from adamatte.model.weights import DEFAULT_WEIGHTS, bundled_names, read_weights_info, resolve_weights


@pytest.mark.skipif(DEFAULT_WEIGHTS not in bundled_names(), reason="no trained weights are bundled")
def test_demo_renders_the_bundled_clip_with_the_bundled_weights(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "adamatte", "demo", "-o", str(tmp_path / "demo"), "--progress", "json",
                           "--device", "cpu"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[-1]["event"] == "done" and events[-1]["written"] == 16
    mattes = sorted((tmp_path / "demo" / "matte").glob("judo_matte.*.exr"))
    assert [p.name for p in mattes] == [f"judo_matte.{f}.exr" for f in range(1001, 1017)]
    alpha, info = read_image(str(mattes[0]))
    assert 0.02 < alpha.mean() < 0.6, "the first frame's matte holds the judoka, not nothing or everything"
    bundled = read_weights_info(resolve_weights(None))
    assert info.attribute("adamatte:weights_hash") == bundled.sha256
    assert read_info(str(tmp_path / "demo" / "contact_sheet.png")).width == 5 * 320
    again = subprocess.run([sys.executable, "-m", "adamatte", "demo", "-o", str(tmp_path / "demo"), "--progress", "none",
                            "--device", "cpu"], capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and "was already rendered" in again.stderr, again.stderr[-3000:]


@pytest.mark.skipif(DEFAULT_WEIGHTS not in bundled_names(), reason="no trained weights are bundled")
def test_tiled_and_untiled_agree_with_the_bundled_weights():
    import os

    import numpy as np

    from adamatte.demo import BAND, clip_dir
    from adamatte.matting.engine import MattingEngine
    from adamatte.io import read_matte
    from adamatte.video.keyframes import as_trimap

    image = read_image(os.path.join(clip_dir(), "frames", "00000.jpg"))[0][..., :3]
    trimap = as_trimap(read_matte(os.path.join(clip_dir(), "mask.png")), BAND)
    whole = MattingEngine.from_weights(device="cpu", max_megapixels=1.0).matte(image, trimap)
    tiled = MattingEngine.from_weights(device="cpu", max_megapixels=0.15).matte(image, trimap)  # 854x480 in 6+ tiles
    assert np.abs(whole.alpha - tiled.alpha).mean() < 0.01
    assert (whole.labels == tiled.labels).mean() > 0.98
