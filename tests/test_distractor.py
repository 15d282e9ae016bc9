"""End to end with the bundled weights: a subject sways in front of real footage (the bundled judo
frames, players moving behind it) while a stranger slides in behind it. The keyframe memory keeps
the background out of the matte, and resume and chunked renders stay bit-identical with it."""

import shutil

import numpy as np
import pytest

from adamatte.io import read_image, read_matte, write_image
from adamatte.matting.engine import MattingEngine
from adamatte.scoring.metrics import leak_percent
from adamatte.video.render import RenderRequest, render

from synthetic import distractor_clip, trimap_from_alpha

LEAK_BOUND = 0.5  # % of the subject's alpha mass farther than 8 px from it: propagation alone exceeds it


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("distractor")
    plate, truth = distractor_clip(folder / "plate", frames=12, size=(160, 90))
    keys = []
    for frame in (1001, 1007):
        write_image(str(folder / f"key{frame}.png"), trimap_from_alpha(truth[frame]), ["Y"], pixel_type="uint8")
        keys.append(f"{folder / f'key{frame}.png'}@{frame}")
    engine = MattingEngine.from_params(RenderRequest(input="", output=""))  # the bundled weights, shared by every render
    return folder, plate, truth, keys, engine


def run(shot, out, keys, **settings):
    folder, plate, truth, _, engine = shot
    request = RenderRequest(input=str(plate / "plate.####.png"), output=str(folder / out / "matte.####.exr"), trimap=keys,
                            progress="none", write="alpha,trimap", **settings)
    return render(request, engine=engine)


def leaks(shot, out):
    folder, _, truth, _, _ = shot
    return [leak_percent(read_matte(str(folder / out / f"matte.{f}.exr")), truth[f], reach=8) for f in sorted(truth)]


def test_the_keyframe_memory_keeps_the_background_out(shot):
    keys = shot[3][:1]  # the first frame's trimap only
    run(shot, "memory", keys, keyframe_memory=True)
    run(shot, "propagation-only", keys, keyframe_memory=False)
    assert max(leaks(shot, "propagation-only")) > LEAK_BOUND, "the clip must be one that propagation alone gets wrong"
    assert max(leaks(shot, "memory")) < LEAK_BOUND


def same_frames(shot, a, b, frames):
    folder = shot[0]
    for frame in frames:
        for name in ("matte", "matte_trimap"):
            x = read_image(str(folder / a / f"{name}.{frame}.exr"))[0]
            y = read_image(str(folder / b / f"{name}.{frame}.exr"))[0]
            assert np.array_equal(x, y), (name, frame)


def test_chunks_and_resume_are_bit_identical_with_the_memory(shot):
    folder, _, _, keys, _ = shot
    run(shot, "sequential", keys, keyframe_memory=True)
    # the last chunk warms up from keyframe 1007 and must remember keyframe 1001, matted again
    for chunk in ("1001-1004", "1005-1008", "1009-1012"):
        run(shot, "chunks", keys, keyframe_memory=True, frames=chunk)
    same_frames(shot, "sequential", "chunks", range(1001, 1013))
    # a render killed after frame 1009: its last frames (and their sidecars) never reached the disk
    shutil.copytree(folder / "sequential", folder / "resumed")
    for path in (folder / "resumed").iterdir():
        if any(f".{frame}." in path.name for frame in (1010, 1011, 1012)):
            path.unlink()
    summary = run(shot, "resumed", keys, keyframe_memory=True, resume=True)
    assert summary.written == [1010, 1011, 1012]
    same_frames(shot, "sequential", "resumed", range(1001, 1013))
