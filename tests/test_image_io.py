import signal
import subprocess
import sys
import time

import numpy as np
import OpenImageIO as oiio
import pytest

from adamatte.errors import InputError
from adamatte.io import FrameSink, FrameSource, read_image, read_info, write_image
from adamatte.io.atomic import TEMP_MARKER

from conftest import write_exr, write_sequence

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("pixel_type, tolerance", [("half", 1e-3), ("float", 0.0)])
def test_exr_round_trip(tmp_path, pixel_type, tolerance):
    px = RNG.random((20, 30, 4), dtype=np.float32) * 4 - 1
    path = str(tmp_path / "a.exr")
    write_image(path, px, ["R", "G", "B", "A"], pixel_type=pixel_type)
    back, info = read_image(path)
    assert info.pixel_type == pixel_type and back.dtype == np.float32
    np.testing.assert_allclose(back, px, rtol=tolerance, atol=tolerance)


def test_single_channel_write_is_3d_safe(tmp_path):
    alpha = RNG.random((17, 23), dtype=np.float32)
    write_image(str(tmp_path / "m.exr"), alpha, ["A"])
    back, info = read_image(str(tmp_path / "m.exr"))
    assert info.channels == ("A",) and back.shape == (17, 23, 1)
    np.testing.assert_allclose(back[..., 0], alpha, atol=1e-3)


@pytest.mark.parametrize("ext, type_name, levels", [(".png", "uint8", 255), (".tif", "uint16", 65535), (".jpg", "uint8", 255), (".dpx", "uint16", 1023)])
def test_reads_integer_formats_scaled_to_unit_range(tmp_path, ext, type_name, levels):
    path = str(tmp_path / f"p{ext}")
    px = np.zeros((16, 16, 3), np.float32)
    px[..., 0] = 1.0
    px[..., 1] = 0.5
    spec = oiio.ImageSpec(16, 16, 3, type_name)
    if ext == ".dpx":
        spec.attribute("oiio:BitsPerSample", 10)
    out = oiio.ImageOutput.create(path)
    assert out.open(path, spec)
    out.write_image(px)
    out.close()
    src = FrameSource(path)
    frame = src.read(src.frames[0])
    assert frame.plate.shape == (16, 16, 3)
    assert frame.plate[..., 0].min() == pytest.approx(1.0, abs=2e-3)
    assert frame.plate[..., 1].mean() == pytest.approx(0.5, abs=8 / levels + 0.01)


def test_channels_picked_by_name_and_layer(tmp_path):
    # B, G, R and a layer, deliberately out of RGB order on disk
    px = np.zeros((8, 8, 6), np.float32)
    px[..., 0], px[..., 1], px[..., 2] = 0.3, 0.2, 0.1  # B G R
    px[..., 3], px[..., 4], px[..., 5] = 0.9, 0.8, 0.7  # beauty.B G R
    path = tmp_path / "layers.exr"
    write_exr(path, px, ("B", "G", "R", "beauty.B", "beauty.G", "beauty.R"), pixel_type="float")
    default = FrameSource(str(path)).read(1).plate
    assert default[0, 0].tolist() == pytest.approx([0.1, 0.2, 0.3])
    beauty = FrameSource(str(path), layer="beauty").read(1).plate
    assert beauty[0, 0].tolist() == pytest.approx([0.7, 0.8, 0.9])
    with pytest.raises(InputError, match="layer 'diffuse' has no R,G,B"):
        FrameSource(str(path), layer="diffuse")


def test_no_rgb_channels_is_a_clear_error(tmp_path):
    write_exr(tmp_path / "depth.1001.exr", np.zeros((4, 4, 1), np.float32), ("Z",))
    with pytest.raises(InputError, match=r"no R,G,B channels \(channels: Z\)"):
        FrameSource(str(tmp_path / "depth.####.exr"))


def test_overscan_and_metadata_pass_through(tmp_path):
    attributes = {
        "framesPerSecond": ("rational", (24000, 1001)),
        "smpte:TimeCode": ("timecode", (0x01020304, 0)),
        "owner": "studio",
        "shot:name": "sq010_sh020",
    }
    px = RNG.random((40, 60, 3), dtype=np.float32)
    write_exr(tmp_path / "in.1001.exr", px, origin=(-10, -5), display=(0, 0, 40, 30), attributes=attributes)
    src = FrameSource(str(tmp_path / "in.####.exr"))
    frame = src.read(1001)
    sink = FrameSink(str(tmp_path / "out" / "matte.####.exr"), src.frames, metadata={"adamatte:weights_hash": "abc123", "adamatte:trimap_source": "keyframe 1001"})
    sink.write(1001, np.full((40, 60), 0.5, np.float32), frame)
    info = read_info(str(tmp_path / "out" / "matte.1001.exr"))
    assert info.data_window == (-10, -5, 49, 34)
    assert info.display_window == (0, 0, 39, 29)
    assert info.channels == ("A",) and info.pixel_type == "half" and info.compression == "zip"
    assert tuple(info.attribute("framesPerSecond")) == (24000, 1001)
    assert tuple(info.attribute("smpte:TimeCode"))[0] == 0x01020304
    assert info.attribute("shot:name") == "sq010_sh020"
    assert info.attribute("Copyright") == "studio"  # OIIO's name for EXR 'owner'
    assert info.attribute("adamatte:weights_hash") == "abc123"
    assert info.attribute("adamatte:trimap_source") == "keyframe 1001"
    assert info.attribute("adamatte:version")


@pytest.mark.parametrize("layout, channels", [("alpha", ("matte.A",)), ("rgba", ("R", "G", "B", "matte.A")), ("rgba-premult", ("R", "G", "B", "matte.A"))])
def test_output_layouts(plate, tmp_path, layout, channels):
    src = FrameSource(str(plate / "shot.####.exr"))
    frame = src.read(1003)
    sink = FrameSink(str(tmp_path / "o.####.exr"), src.frames, alpha_channel="matte.A", layout=layout, compression="piz")
    alpha = np.full(frame.plate.shape[:2], 0.5, np.float32)
    sink.write(1003, alpha, frame)
    px, info = read_image(str(tmp_path / "o.1003.exr"))
    assert info.channels == channels and info.compression == "piz"
    if layout != "alpha":
        scale = 0.5 if layout == "rgba-premult" else 1.0
        np.testing.assert_allclose(px[..., :3], frame.plate * scale, atol=1e-3)


def test_png_output_is_16_bit(plate, tmp_path):
    src = FrameSource(str(plate / "shot.####.exr"))
    alpha = np.linspace(0, 1, 48 * 32, dtype=np.float32).reshape(32, 48)
    FrameSink(str(tmp_path / "a.####.png"), src.frames).write(1001, alpha, src.read(1001))
    px, info = read_image(str(tmp_path / "a.1001.png"))
    assert info.pixel_type == "uint16"
    np.testing.assert_allclose(px[..., 0], alpha, atol=1 / 65535 + 1e-6)


@pytest.mark.parametrize("keep", [0.1, 0.9])  # header lost, or only pixel chunks lost
def test_truncated_exr_names_file_and_frame(plate, keep):
    path = plate / "shot.1004.exr"
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    src = FrameSource(str(plate / "shot.####.exr"))
    with pytest.raises(InputError) as err:
        src.read(1004)
    assert err.value.frame == 1004 and "shot.1004.exr" in str(err.value) and "corrupt" in str(err.value)


def test_resolution_change_mid_sequence(tmp_path):
    write_sequence(tmp_path, [1001, 1002])
    write_sequence(tmp_path, [1003], size=(64, 32))
    src = FrameSource(str(tmp_path / "shot.####.exr"))
    with pytest.raises(InputError, match="resolution changes mid-sequence") as err:
        src.check_headers()
    assert err.value.frame == 1003


def test_sink_refusals(plate, tmp_path):
    src = FrameSource(str(plate / "shot.####.exr"))
    with pytest.raises(InputError, match="refusing to overwrite the input"):
        FrameSink(str(plate / "shot.####.exr"), src.frames, forbidden_paths=src.input_paths())
    with pytest.raises(InputError, match="add a frame token"):
        FrameSink(str(tmp_path / "matte.exr"), src.frames)
    FrameSink(str(tmp_path / "still.exr"), [1001])  # one frame, one file: fine
    with pytest.raises(InputError, match="cannot create output folder"):  # unwritable even for root
        FrameSink("/proc/adamatte-test/m.####.exr", src.frames)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot create output folder"):
        FrameSink(str(blocker / "sub" / "m.####.exr"), src.frames)


WRITER = """
import sys, numpy as np
from adamatte.io import write_image
px = np.random.default_rng(0).random((3000, 3000, 4), dtype=np.float32)
print("start", flush=True)
while True:
    write_image(sys.argv[1], px, ["R", "G", "B", "A"], pixel_type="float", compression="zip")
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_writer_leaves_no_partial_file(tmp_path, sig):
    final = tmp_path / "big.exr"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(final)], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"start"
    deadline = time.monotonic() + 60
    while not any(TEMP_MARKER in p.name for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline, "writer never started a temp file"
        time.sleep(0.005)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    if final.exists():  # it may have finished one whole file before the kill: that one must be complete
        px, _ = read_image(str(final))
        assert px.shape == (3000, 3000, 4)
    if sig == signal.SIGINT:  # a clean interrupt also removes its temp file
        assert not any(TEMP_MARKER in p.name for p in tmp_path.iterdir())
