"""The Nuke node against a fake `nuke` module (tests/fake_nuke) that follows Foundry's API."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent / "fake_nuke"))
import nuke  # noqa: E402  (the fake)

from adamatte.io import read_image, write_image  # noqa: E402
from adamatte.model import AdaMatting, load_model_config  # noqa: E402
from adamatte.model.weights import save_weights  # noqa: E402
from adamatte_nodes import nuke_node  # noqa: E402
from adamatte.params import PARAMS  # noqa: E402
from adamatte_nodes.runner import ENV_PYTHON, RenderJob  # noqa: E402

from synthetic import moving_clip, trimap_from_alpha  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    root = tmp_path_factory.mktemp("nuke shot")
    plate, truth = moving_clip(root / "plate", frames=6, size=(320, 192), step=3.0)
    write_image(str(root / "key.1001.png"), trimap_from_alpha(truth[1001]), ["Y"], pixel_type="uint8")
    torch.manual_seed(0)
    save_weights(AdaMatting(load_model_config("lite")), str(root / "w.safetensors"))
    return root, truth


@pytest.fixture
def node(shot, tmp_path, monkeypatch):
    root, _ = shot
    monkeypatch.setenv(ENV_PYTHON, sys.executable)
    nuke.messages.clear()
    nuke.main_thread_calls.clear()
    nuke.progress_tasks.clear()
    nuke.cancel_after_progress = None
    read = nuke.nodes.Read(file=str(root / "plate" / "plate.%04d.exr"), first=1001, last=1006)
    key = nuke.nodes.Read(file=str(root / "key.####.png"), first=1001, last=1001)
    group = nuke_node.create_node()
    group.setInput(0, read)
    group.setInput(1, key)
    group["output"].setValue(str(tmp_path / "out" / "matte.####.exr"))
    group["weights"].setValue(str(root / "w.safetensors"))
    group["device"].setValue("cpu")
    group["input_colorspace"].setValue("srgb_tx")
    group["refine"].setValue("none")  # random weights are unsure everywhere: refining would solve whole frames
    nuke_node.sync_internals(group)
    return group


def test_knobs_match_the_parameter_definition(node):
    for param in PARAMS:
        if param.name in nuke_node.HOST_ONLY:
            assert node.knob(param.name) is None
            continue
        knob = node[param.name]
        assert knob.label() == param.title and knob.tooltip == param.help
        if param.kind == "choice":
            assert knob.values() == list(param.choices)
    assert node["compression"].value() == "zip" and node["band"].value() == 12 and node["respect_trimap"].value() is False
    assert {"render_matte", "submit_farm", "reload"} <= set(node.knobs())


def test_render_command_from_knobs(node, shot, tmp_path):
    root, _ = shot
    node["respect_trimap"].setValue(True)
    node["write"].setValue("alpha,trimap")
    plate, output, values = nuke_node.build_request(node)
    assert plate == str(root / "plate" / "plate.####.exr"), "Nuke's %04d becomes ####"
    assert output == str(tmp_path / "out" / "matte.####.exr")
    assert values["trimap"] == [f"{root / 'key.1001.png'}@1001"] and values["frames"] == "1001-1006"
    argv = nuke_node.render_command([sys.executable, "-m", "adamatte"], plate, output, values)
    assert argv[3:6] == ["render", plate, "-o"] and argv[-2:] == ["--progress", "json"]
    assert "--respect-trimap" in argv and argv[argv.index("--write") + 1] == "alpha,trimap"
    assert argv[argv.index("--frames") + 1] == "1001-1006"


def test_internal_read_follows_the_output_and_range(node, tmp_path):
    with node:
        read, copy = nuke.toNode("MatteRead"), nuke.toNode("MatteCopy")
        assert read["file"].value() == str(tmp_path / "out" / "matte.####.exr")
        assert (read["first"].value(), read["last"].value()) == (1001, 1006)
        assert copy.input(1) is read and copy["to0"].value() == "rgba.alpha"
    node["alpha_channel"].setValue("matte.A")
    nuke_node.sync_internals(node)
    with node:
        assert nuke.toNode("MatteCopy")["to0"].value() == "matte.A"


def test_background_render_reports_progress_and_reloads(node, tmp_path):
    node["weights"].setValue("lite")  # the bundled weights: random ones matte background, and the drift guard (rightly) warns
    thread = nuke_node.render_in_background(node)
    thread.join(300)
    assert not nuke.messages, nuke.messages
    task = nuke.progress_tasks[-1]
    assert task.history and max(task.history) == 100
    assert nuke.main_thread_calls and nuke.main_thread_calls[-1][0] is nuke_node.reload
    with node:
        assert nuke.toNode("MatteRead")["reload"].executed == 1
    assert sorted(p.name for p in (tmp_path / "out").glob("*.exr")) == [f"matte.{f}.exr" for f in range(1001, 1007)]


def test_drift_warnings_reach_the_artist(node, monkeypatch):
    """The render's JSON warning events (a real child process emits them) end in one message after it."""
    events = [{"event": "start", "frames": 2}, {"event": "frame", "frame": 1001, "done": 1, "total": 2},
              {"event": "warning", "frame": 1002, "message": "frame 1002: foreground appeared where the flow says background "
               "was; consider a keyframe trimap there (--trimap PATH@1002)"}, {"event": "done", "frames": 2}]
    script = "import json\n" + "".join(f"print(json.dumps({e!r}), flush=True)\n" for e in events)
    monkeypatch.setattr(nuke_node, "start_render", lambda n, on_event=None: RenderJob([sys.executable, "-c", script]).start())
    nuke_node.render_in_background(node).join(60)
    assert nuke.messages and "1 warning" in nuke.messages[-1] and "PATH@1002" in nuke.messages[-1]


def test_cancel_stops_the_render_cleanly(node, tmp_path):
    nuke.cancel_after_progress = 1  # cancel as soon as a frame is done
    thread = nuke_node.render_in_background(node)
    thread.join(300)
    written = sorted((tmp_path / "out").glob("*.exr"))
    assert 1 <= len(written) < 6 and not nuke.messages
    for path in written:
        read_image(str(path))
    assert not [p for p in (tmp_path / "out").rglob("*") if "adamatte-tmp" in p.name]


class FakeRoto(nuke.Node):
    """A trimap drawn in Nuke: not backed by files."""

    def __init__(self, trimap):
        super().__init__("Roto", nuke.root())
        self.trimap = trimap

    def render(self, frame):
        return self.trimap[..., None]


def test_headless_render_with_a_roto_trimap(node, shot, tmp_path):
    root, truth = shot
    node.setInput(1, FakeRoto(trimap_from_alpha(truth[1001])))
    assert nuke_node.render_node(node, timeout=300) == 0
    assert len(list((tmp_path / "out").glob("matte.*.exr"))) == 6


def test_missing_output_is_a_message_not_a_crash(node):
    node["output"].setValue("")
    assert nuke_node.render_in_background(node) is None
    assert "Matte output" in nuke.messages[-1]


def test_nuke_path_bootstrap_works_from_a_checkout():
    code = (f"import runpy; runpy.run_path({str(ROOT / 'plugin' / 'nuke' / 'init.py')!r}); "
            "import adamatte.params as p; print(p.PARAMS[0].name)")
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == PARAMS[0].name


def test_submit_to_farm_writes_an_openjd_bundle(node, tmp_path):
    import json

    folder = nuke_node.submit_to_farm(node, job_folder=str(tmp_path / "job"))
    template = json.loads((Path(folder) / "template.json").read_text())
    args = template["steps"][0]["script"]["actions"]["onRun"]["args"]
    assert args[0] == "render" and args[args.index("--frames") + 1] == "{{Task.Param.Frame}}"


def test_an_engine_that_reports_one_ending_and_dies_another_says_both():
    """An error event, then a different end (a crash while stopping): the artist's message names both."""
    event = {"event": "error", "message": "interrupted", "exit_code": 130}
    crash = f"import json, os, signal\nprint(json.dumps({event!r}), flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n"
    job = RenderJob([sys.executable, "-c", crash]).start()
    assert job.wait(60) == -9
    assert job.error_message() == "interrupted (then adamatte was killed by signal 9)"
    clean = f"import json, sys\nprint(json.dumps({event!r}), flush=True)\nsys.exit(130)\n"
    job = RenderJob([sys.executable, "-c", clean]).start()
    assert job.wait(60) == 130 and job.error_message() == "interrupted"
