from fractions import Fraction

import av
import numpy as np
import pytest

from adamatte.errors import InputError
from adamatte.io import FrameSink, FrameSource
from adamatte.io.video import ProResWriter


def encode_clip(path, frames=12, size=(64, 48)):
    """An H.264-free test clip (MPEG-4 part 2) whose frame i is grey level 20 * i."""
    w, h = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"qscale": "1"}
        for i in range(frames):
            rgb = np.full((h, w, 3), 20 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_video_decodes_to_numbered_frames(tmp_path):
    clip = tmp_path / "clip.mp4"
    encode_clip(clip)
    src = FrameSource(str(clip), start_frame=1001)
    assert src.frames == list(range(1001, 1013)) and src.colorspace == "srgb_tx"
    for frame in (1001, 1005, 1012, 1003):  # a backwards jump re-opens the clip
        got = src.read(frame).plate.mean()
        assert got == pytest.approx(20 * (frame - 1001) / 255, abs=0.02), frame
    with pytest.raises(InputError, match="outside the clip"):
        src.read(1013)
    src.close()


def test_not_a_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mov"
    bad.write_bytes(b"not a movie" * 100)
    with pytest.raises(InputError, match="cannot open video") as err:
        FrameSource(str(bad))
    assert "bad.mov" in str(err.value)


def test_prores_4444_keeps_alpha(tmp_path):
    out = tmp_path / "m.mov"
    writer = ProResWriter(str(out), 64, 48, Fraction(24))
    for a in (0.0, 0.25, 1.0):
        rgba = np.zeros((48, 64, 4), np.float32)
        rgba[..., 0] = 0.5
        rgba[..., 3] = a
        writer.write(rgba)
    assert not out.exists()  # appears only when complete
    writer.close()
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "prores" and "yuva444" in stream.codec_context.pix_fmt
        alphas = [f.to_ndarray(format="rgba64le")[..., 3].mean() / 65535 for f in container.decode(stream)]
    assert alphas == pytest.approx([0.0, 0.25, 1.0], abs=0.01)


def test_mov_sink_writes_one_movie(tmp_path):
    clip = tmp_path / "clip.mp4"
    encode_clip(clip, frames=3)
    src = FrameSource(str(clip))
    sink = FrameSink(str(tmp_path / "out.mov"), src.frames)
    for f in src.frames:
        sink.write(f, np.full((48, 64), 0.5, np.float32), src.read(f))
    sink.close()
    with av.open(str(tmp_path / "out.mov")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 3


def test_mov_is_written_at_display_size_with_the_plates_timecode(tmp_path):
    from conftest import write_exr

    for frame in (1001, 1002):
        write_exr(tmp_path / f"crop.{frame}.exr", np.full((20, 30, 3), 0.5, np.float32), origin=(5, 4), display=(0, 0, 64, 48),
                  attributes={"smpte:TimeCode": ("timecode", (0x01000010, 0))})  # 01:00:00:10
    src = FrameSource(str(tmp_path / "crop.####.exr"))
    sink = FrameSink(str(tmp_path / "out.mov"), src.frames)
    for f in src.frames:
        sink.write(f, np.ones((20, 30), np.float32), src.read(f))
    sink.close()
    with av.open(str(tmp_path / "out.mov")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (64, 48)
        timecodes = [s.metadata.get("timecode") for s in container.streams] + [container.metadata.get("timecode")]
        assert "01:00:00:10" in timecodes, timecodes
        first = next(container.decode(stream)).to_ndarray(format="rgba64le")[..., 3] / 65535
    assert first[4:24, 5:35].min() > 0.99 and first[30:, 40:].max() < 0.01, "the matte sits at its data window, inside the format"
