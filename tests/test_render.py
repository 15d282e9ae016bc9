import io
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from adamatte.matting.engine import MattingEngine
from adamatte.errors import InputError
from adamatte.io import read_image, read_matte, write_image
from adamatte.model import AdaMatting, load_model_config
from adamatte.model.weights import save_weights
from adamatte.video.progress import Progress
from adamatte.video import state
from adamatte.video.render import RenderRequest, render

from standin import ColourKeyNet
from synthetic import moving_clip, trimap_from_alpha


def standin_engine():
    return MattingEngine(ColourKeyNet(), device="cpu")


def write_trimap(path, alpha):
    write_image(str(path), trimap_from_alpha(alpha), ["Y"], pixel_type="uint8")
    return str(path)


def request(plate, out, *trimaps, **kw):
    return RenderRequest(input=str(plate / "plate.####.exr"), output=str(out / "matte.####.exr"), trimap=list(trimaps),
                         input_colorspace="srgb_tx", progress="none", **kw)


def mad(out, truth, frame):
    return float(np.abs(read_matte(str(out / f"matte.{frame}.exr")) - truth[frame]).mean())


@pytest.fixture
def clip(tmp_path):
    folder, truth = moving_clip(tmp_path / "plate", frames=12, size=(320, 192), step=4.0)
    return folder, truth, write_trimap(tmp_path / "key.png", truth[1001])


def test_propagation_follows_the_motion(tmp_path):
    plate, truth = moving_clip(tmp_path / "plate", frames=12, size=(320, 192), step=8.0)
    key = write_trimap(tmp_path / "key.png", truth[1001])
    summary = render(request(plate, tmp_path / "flow", key), engine=standin_engine())
    assert summary.written == list(range(1001, 1013)) and not summary.warnings
    # 8 px a frame, 88 px in all: far beyond the unknown band it started with, and faster than a fixed dilation grows
    assert max(mad(tmp_path / "flow", truth, f) for f in truth) < 2e-3
    render(request(plate, tmp_path / "dilate", key, propagation="dilate"), engine=standin_engine())
    assert mad(tmp_path / "dilate", truth, 1012) > 10 * mad(tmp_path / "flow", truth, 1012)


def test_keyframe_overrides_propagation(clip, tmp_path):
    plate, truth, key = clip
    nothing = np.zeros_like(truth[1001])  # a keyframe saying "all background" at 1006
    write_image(str(tmp_path / "empty.png"), nothing, ["Y"], pixel_type="uint8")
    summary = render(request(plate, tmp_path / "out", key, f"{tmp_path / 'empty.png'}@1006"), engine=standin_engine())
    assert read_matte(str(tmp_path / "out" / "matte.1005.exr")).max() == 1.0
    for frame in range(1006, 1013):
        assert read_matte(str(tmp_path / "out" / f"matte.{frame}.exr")).max() == 0.0, frame
    assert summary.written == list(range(1001, 1013))
    source = read_image(str(tmp_path / "out" / "matte.1008.exr"))[1].attribute("adamatte:trimap_source")
    assert source == "propagated from keyframe 1006"


def test_drift_warning_names_the_frame_in_the_json_stream(tmp_path):
    plate, truth = moving_clip(tmp_path / "plate", frames=8, size=(320, 192), step=2.0, jump_at=1005)
    key = write_trimap(tmp_path / "key.png", truth[1001])
    stream = io.StringIO()
    summary = render(request(plate, tmp_path / "out", key), engine=standin_engine(), progress=Progress("json", stream))
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    warnings = [e for e in events if e["event"] == "warning"]
    assert warnings and warnings[0]["frame"] == 1005 and "keyframe" in warnings[0]["message"]
    assert summary.warnings and summary.warnings[0].startswith("frame 1005")
    assert [e["event"] for e in events][0] == "start" and events[-1]["event"] == "done"
    assert [e["frame"] for e in events if e["event"] == "frame"] == list(range(1001, 1009))


def test_chunks_equal_one_sequential_render(clip, tmp_path):
    plate, truth, key = clip
    second_key = write_trimap(tmp_path / "key2.png", truth[1007])
    keys = (f"{key}@1001", f"{second_key}@1007")  # a bare PATH means the first frame of each chunk's own range
    render(request(plate, tmp_path / "seq", *keys, write="alpha,trimap"), engine=standin_engine())
    for chunk in ("1001-1004", "1005-1008", "1009-1012"):  # the middle chunk warms up from 1001, the last from 1007
        render(request(plate, tmp_path / "chunks", *keys, frames=chunk, write="alpha,trimap"), engine=standin_engine())
    for frame in range(1001, 1013):
        for name in ("matte", "matte_trimap"):
            a = read_image(str(tmp_path / "seq" / f"{name}.{frame}.exr"))[0]
            b = read_image(str(tmp_path / "chunks" / f"{name}.{frame}.exr"))[0]
            assert np.array_equal(a, b), (name, frame)


def test_outputs_keep_frames_and_write_every_kind(clip, tmp_path):
    plate, truth, key = clip
    render(request(plate, tmp_path / "out", key, frames="1001-1003", write="trimap,fg,rgba"), engine=standin_engine())
    names = sorted(os.listdir(tmp_path / "out"))
    for kind in ("matte", "matte_trimap", "matte_fg", "matte_rgba"):
        assert [n for n in names if n.startswith(kind + ".")] == [f"{kind}.{f}.exr" for f in (1001, 1002, 1003)]
    fg, info = read_image(str(tmp_path / "out" / "matte_fg.1002.exr"))
    assert info.channels == ("R", "G", "B", "A")
    inside = truth[1002] > 0.9
    assert fg[inside, 0].mean() > fg[inside, 2].mean() + 0.3, "the clean foreground is the reddish disk"
    rgba, _ = read_image(str(tmp_path / "out" / "matte_rgba.1002.exr"))
    plate_px = read_image(str(plate / "plate.1002.exr"))[0]
    np.testing.assert_allclose(rgba[..., :3], plate_px * rgba[..., 3:], atol=2e-3)


def test_corrupt_frame_stops_with_its_name_and_keeps_earlier_frames(clip, tmp_path):
    plate, truth, key = clip
    bad = plate / "plate.1005.exr"
    bad.write_bytes(bad.read_bytes()[:200])
    with pytest.raises(InputError) as err:
        render(request(plate, tmp_path / "stop", key), engine=standin_engine())
    assert err.value.frame == 1005 and "plate.1005.exr" in str(err.value)
    assert sorted(os.listdir(tmp_path / "stop")) == [".adamatte"] + [f"matte.{f}.exr" for f in range(1001, 1005)]
    summary = render(request(plate, tmp_path / "skip", key, on_error="skip"), engine=standin_engine())
    assert summary.skipped == [1005] and 1005 not in summary.written and len(summary.written) == 11
    assert mad(tmp_path / "skip", truth, 1012) < 2e-3


def test_needs_a_keyframe_at_or_before_the_range(clip, tmp_path):
    plate, truth, key = clip
    with pytest.raises(InputError, match="no keyframe trimap at or before frame 1001"):
        render(request(plate, tmp_path / "o", f"{key}@1005"), engine=standin_engine())
    with pytest.raises(InputError, match="needs a trimap"):
        render(request(plate, tmp_path / "o"), engine=standin_engine())


def test_mask_becomes_a_trimap(clip, tmp_path):
    plate, truth, _ = clip
    write_image(str(tmp_path / "mask.png"), (truth[1001] > 0.5).astype(np.float32), ["Y"], pixel_type="uint8")
    render(request(plate, tmp_path / "out", str(tmp_path / "mask.png"), band=6, frames="1001-1002"), engine=standin_engine())
    assert mad(tmp_path / "out", truth, 1001) < 2e-3


@pytest.fixture(scope="module")
def lite_weights(tmp_path_factory):
    torch.manual_seed(0)
    path = str(tmp_path_factory.mktemp("weights") / "lite-test.safetensors")
    save_weights(AdaMatting(load_model_config("lite")), path)
    return path


def cli_render(plate, out, key, weights, *extra):
    return [sys.executable, "-m", "adamatte", "render", str(plate / "plate.####.exr"), "-o", str(out / "matte.####.exr"),
            "--trimap", key, "--weights", weights, "--device", "cpu", "--input-colorspace", "srgb_tx",
            "--refine", "none", *extra]  # random weights are unsure everywhere: refining would solve whole frames


def test_resume_after_a_killed_render_matches_a_clean_one(tmp_path, lite_weights):
    plate, truth = moving_clip(tmp_path / "plate", frames=30, size=(320, 192), step=2.0)
    key = write_trimap(tmp_path / "key.png", truth[1001])
    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run(cli_render(plate, tmp_path / "clean", key, lite_weights, "--progress", "none"), check=True, env=env, timeout=600)

    proc = subprocess.Popen(cli_render(plate, tmp_path / "killed", key, lite_weights, "--progress", "json"),
                            stdout=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:
        if json.loads(line).get("done") == 5:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    finished = sorted(n for n in os.listdir(tmp_path / "killed") if n.endswith(".exr"))
    assert 5 <= len(finished) < 30
    proc = subprocess.run(cli_render(plate, tmp_path / "killed", key, lite_weights, "--progress", "json", "--resume"),
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    start = json.loads(proc.stdout.splitlines()[0])
    assert start["resumed_after"] is not None and start["resumed_after"] >= 1005
    for frame in range(1001, 1031):
        a = read_image(str(tmp_path / "clean" / f"matte.{frame}.exr"))[0]
        b = read_image(str(tmp_path / "killed" / f"matte.{frame}.exr"))[0]
        assert np.array_equal(a, b), frame


def test_cli_errors_are_one_line_with_exit_codes(clip, tmp_path, lite_weights):
    plate, truth, key = clip
    (plate / "plate.1004.exr").unlink()
    proc = subprocess.run(cli_render(plate, tmp_path / "o", key, lite_weights, "--progress", "json"), capture_output=True, text=True)
    assert proc.returncode == 3 and "missing frames 1004" in proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["exit_code"] == 3
    proc = subprocess.run(cli_render(plate, tmp_path / "o", key, lite_weights, "--missing", "hold", "--frames", "1001-1002",
                                     "--progress", "none"), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_ctrl_c_stops_cleanly(tmp_path, lite_weights):
    from adamatte.io.atomic import TEMP_MARKER

    plate, truth = moving_clip(tmp_path / "plate", frames=30, size=(320, 192), step=2.0)
    key = write_trimap(tmp_path / "key.png", truth[1001])
    proc = subprocess.Popen(cli_render(plate, tmp_path / "out", key, lite_weights, "--progress", "json"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    for line in proc.stdout:
        if json.loads(line).get("done") == 3:
            break
    proc.send_signal(signal.SIGINT)
    remaining, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert json.loads(remaining.splitlines()[-1]) == {"event": "error", "message": "interrupted", "exit_code": 130}
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert not [p for p in files if TEMP_MARKER in p.name]
    for p in files:
        read_image(str(p))  # everything left behind is whole


def test_ctrl_c_waits_until_a_threaded_native_call_returns():
    """scipy's k-d tree queries join their own worker threads; cut short, they segfault the process."""
    from adamatte.interrupt import uninterrupted

    finished = []
    with pytest.raises(KeyboardInterrupt):
        with uninterrupted():
            signal.raise_signal(signal.SIGINT)
            finished.append("query")
    assert finished == ["query"] and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a render's clean-up ignores a second Ctrl-C: still ignored
    try:
        with uninterrupted():
            signal.raise_signal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("output, message", [
    ("matte.exr", "add a frame token"),
    ("/proc/adamatte/matte.####.exr", "cannot create output folder"),
    ("matte.####.jpg", "lossy 8-bit matte"),
])
def test_cli_refuses_bad_outputs(clip, tmp_path, lite_weights, output, message):
    plate, truth, key = clip
    args = cli_render(plate, tmp_path, key, lite_weights)
    args[args.index("-o") + 1] = output if output.startswith("/") else str(tmp_path / output)
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_a_closed_progress_pipe_ends_the_render_quietly(clip, tmp_path, lite_weights):
    """`adamatte render --progress json | head -1`: no BrokenPipeError traceback, and what was written is whole."""
    plate, truth, key = clip
    proc = subprocess.Popen(cli_render(plate, tmp_path / "o", key, lite_weights, "--progress", "json"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.readline()  # the start event, then the reader goes away
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=300) == 141 and "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    for p in (tmp_path / "o").glob("*.exr"):
        read_image(str(p))


@pytest.mark.parametrize("fill, fatal", [(0.5, True), (1.0, True), (0.0, True), ("no foreground", False), ("mostly unknown", False)])
def test_degenerate_trimaps_are_refused_or_warned_about(clip, tmp_path, lite_weights, fill, fatal):
    plate, truth, _ = clip
    trimap = np.full(truth[1001].shape, 0.5, np.float32)
    if fill == "no foreground":
        trimap[:, :100] = 0.0
    elif fill == "mostly unknown":
        trimap[:10] = 0.0
        trimap[90:100, 150:160] = 1.0
    else:
        trimap[:] = fill
    key = tmp_path / "key.png"
    write_image(str(key), trimap, ["Y"], pixel_type="uint8")
    args = cli_render(plate, tmp_path / "o", str(key), lite_weights, "--frames", "1001-1002", "--progress", "json")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if fatal:
        assert proc.returncode == 2 and "key.png, frame 1001: the trimap is all" in proc.stderr and "--allow-degenerate" in proc.stderr
        assert not list((tmp_path / "o").glob("matte.*.exr"))
        proc = subprocess.run(args + ["--allow-degenerate"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    warnings = [json.loads(line) for line in proc.stdout.splitlines() if '"warning"' in line]
    assert any(w["frame"] == 1001 and "key.png" in w["message"] for w in warnings), proc.stdout


def test_matte_refuses_a_trimap_of_one_class(tmp_path, lite_weights):
    image = tmp_path / "still.png"
    write_image(str(image), np.full((32, 48, 3), 0.5, np.float32), ["R", "G", "B"], pixel_type="uint8")
    write_image(str(tmp_path / "t.png"), np.ones((32, 48), np.float32), ["Y"], pixel_type="uint8")
    base = [sys.executable, "-m", "adamatte", "matte", str(image), "--trimap", str(tmp_path / "t.png"), "-o", str(tmp_path / "a.png"),
            "--weights", lite_weights, "--refine", "none"]
    proc = subprocess.run(base, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "all foreground" in proc.stderr and not (tmp_path / "a.png").exists()
    proc = subprocess.run(base + ["--allow-degenerate"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and (tmp_path / "a.png").exists(), proc.stderr


def test_the_matting_commands_let_their_threads_sleep_unless_the_environment_says_otherwise(tmp_path, lite_weights, monkeypatch):
    """A spinning OpenMP thread stalls a render on a busy machine (cli.threads); a policy the user set still wins."""
    from adamatte.cli import main

    image = tmp_path / "still.png"
    write_image(str(image), np.random.default_rng(0).random((32, 48, 3)).astype(np.float32), ["R", "G", "B"], pixel_type="uint8")
    trimap = np.zeros((32, 48), np.float32)
    trimap[8:24, 12:36], trimap[12:20, 18:30] = 0.5, 1.0
    write_image(str(tmp_path / "t.png"), trimap, ["Y"], pixel_type="uint8")
    command = ["matte", str(image), "--trimap", str(tmp_path / "t.png"), "-o", str(tmp_path / "a.png"), "--weights", lite_weights]
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert main(command) == 0 and os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert main(command) == 0 and os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_resume_renders_again_what_other_settings_made(clip, tmp_path):
    """--resume reuses only frames whose fingerprint (weights, pixel settings, keyframe files) matches, and says why."""
    plate, truth, key = clip
    out = tmp_path / "out"
    assert render(request(plate, out, key), engine=standin_engine()).written == list(range(1001, 1013))
    again = render(request(plate, out, key, resume=True), engine=standin_engine())
    assert again.written == [] and not again.warnings
    changed = render(request(plate, out, key, resume=True, refine="none"), engine=standin_engine())
    assert changed.written == list(range(1001, 1013))
    assert len(changed.warnings) == 1 and "12 finished frames" in changed.warnings[0] and "refine" in changed.warnings[0]
    # a keyframe redrawn at 1007 leaves the frames before it alone
    second = write_trimap(tmp_path / "key2.png", truth[1007])
    redrawn = render(request(plate, out, key, f"{second}@1007", resume=True, refine="none"), engine=standin_engine())
    assert redrawn.written == list(range(1007, 1013)) and "keyframes" in redrawn.warnings[0]


def test_resume_renders_again_what_an_older_method_made(clip, tmp_path, monkeypatch):
    """Frames made by an adamatte whose method gave other pixels for the same settings are not reused."""
    plate, truth, key = clip
    out = tmp_path / "out"
    render(request(plate, out, key, frames="1001-1004"), engine=standin_engine())
    monkeypatch.setattr(state, "METHOD", state.METHOD + 1)
    again = render(request(plate, out, key, frames="1001-1004", resume=True), engine=standin_engine())
    assert again.written == list(range(1001, 1005))
    assert len(again.warnings) == 1 and "4 finished frames" in again.warnings[0] and "an older adamatte's method" in again.warnings[0]


def test_a_second_render_into_the_same_frames_is_refused(clip, tmp_path, lite_weights):
    plate, truth, key = clip
    first = subprocess.Popen(cli_render(plate, tmp_path / "o", key, lite_weights, "--progress", "json"),
                             stdout=subprocess.PIPE, text=True)
    for line in first.stdout:
        if json.loads(line).get("event") == "frame":
            break
    first.send_signal(signal.SIGSTOP)  # paused mid-render, so it cannot finish while the second one starts up
    try:
        second = subprocess.run(cli_render(plate, tmp_path / "o", key, lite_weights, "--refine", "knn", "--progress", "none"),
                                capture_output=True, text=True, timeout=300)
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 2 and "another render" in second.stderr and "is writing this frame" in second.stderr
    first.stdout.read()
    assert first.wait(timeout=300) == 0
    assert not list((tmp_path / "o" / ".adamatte").glob("*.lock")), "a finished render leaves no locks"


def test_a_lock_left_by_a_killed_render_does_not_block_a_retry(clip, tmp_path):
    plate, truth, key = clip
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "out" / ".adamatte"
    folder.mkdir(parents=True)
    (folder / "matte.1003.lock").write_text(json.dumps({"owner": "gone", "host": os.uname().nodename, "pid": dead.pid}))
    (folder / "gone.alive").write_text("{}")
    summary = render(request(plate, tmp_path / "out", key), engine=standin_engine())
    assert summary.written == list(range(1001, 1013))


@pytest.mark.parametrize("origin", [(10, 6), (-8, -4)])  # a crop, and overscan
def test_a_trimap_may_be_the_display_window_or_the_data_window(tmp_path, origin):
    from conftest import write_exr
    from synthetic import matting_sample

    image, alpha, trimap = matting_sample(64, 96, seed=3)  # the display window's picture: 96x64
    x, y = origin
    w, h = (64, 40) if x > 0 else (112, 72)
    plate = tmp_path / "plate"
    plate.mkdir()
    data = np.pad(image, ((max(-y, 0),) * 2, (max(-x, 0),) * 2, (0, 0)), mode="edge")[max(y, 0):max(y, 0) + h, max(x, 0):max(x, 0) + w]
    for frame in (1001, 1002):
        write_exr(plate / f"plate.{frame}.exr", data, origin=origin, display=(0, 0, 96, 64))
    display_key = tmp_path / "display.png"
    write_image(str(display_key), trimap, ["Y"], pixel_type="uint8")
    padded = np.pad(trimap, ((max(-y, 0),) * 2, (max(-x, 0),) * 2), mode="edge")
    data_key = tmp_path / "data.png"
    write_image(str(data_key), padded[max(y, 0):max(y, 0) + h, max(x, 0):max(x, 0) + w], ["Y"], pixel_type="uint8")
    render(request(plate, tmp_path / "a", str(display_key)), engine=standin_engine())
    render(request(plate, tmp_path / "b", str(data_key)), engine=standin_engine())
    for frame in (1001, 1002):
        assert np.array_equal(read_image(str(tmp_path / "a" / f"matte.{frame}.exr"))[0], read_image(str(tmp_path / "b" / f"matte.{frame}.exr"))[0])
    write_image(str(tmp_path / "wrong.png"), trimap[:50, :50], ["Y"], pixel_type="uint8")
    with pytest.raises(InputError, match=r"50x50 but the plate is .*\(data window\) or 96x64 \(display window\)"):
        render(request(plate, tmp_path / "c", str(tmp_path / "wrong.png")), engine=standin_engine())


def test_cli_resume_with_changed_settings_renders_again_and_says_why(clip, tmp_path, lite_weights):
    """The issue's case: a finished render, re-run with --resume and another --band, wrote 0 frames, silently."""
    plate, truth, key = clip
    args = cli_render(plate, tmp_path / "o", key, lite_weights, "--frames", "1001-1003", "--progress", "json")
    subprocess.run(args, check=True, capture_output=True, timeout=300)
    proc = subprocess.run(args + ["--resume", "--band", "30"], capture_output=True, text=True, timeout=300)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and events[-1]["written"] == 3, proc.stdout
    assert any(e["event"] == "warning" and "3 finished frames" in e["message"] and "band" in e["message"] for e in events)
    proc = subprocess.run(args + ["--resume", "--band", "30"], capture_output=True, text=True, timeout=300)
    assert json.loads(proc.stdout.splitlines()[-1])["written"] == 0
