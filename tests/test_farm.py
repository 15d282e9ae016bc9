import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from adamatte.cli import main
from adamatte.matting.engine import MattingEngine
from adamatte.errors import GPUMemoryError
from adamatte.io import read_image, write_image
from adamatte.model import AdaMatting, AdaOutput, load_model_config
from adamatte.model.weights import save_weights

from synthetic import moving_clip, trimap_from_alpha


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    root = tmp_path_factory.mktemp("shot dir")  # a space in the path, as on real shows
    plate, truth = moving_clip(root / "plate", frames=9, size=(320, 192), step=3.0)
    write_image(str(root / "key.png"), trimap_from_alpha(truth[1001]), ["Y"], pixel_type="uint8")
    torch.manual_seed(0)
    weights = str(root / "lite-test.safetensors")
    save_weights(AdaMatting(load_model_config("lite")), weights)
    return root, weights


def render_args(root, out, weights):
    return [str(root / "plate" / "plate.####.exr"), "-o", str(out / "matte.####.exr"), "--trimap", str(root / "key.png"),
            "--weights", weights, "--device", "cpu", "--input-colorspace", "srgb_tx",
            "--refine", "none"]  # random weights are unsure everywhere: refining would solve whole frames


@pytest.mark.skipif(shutil.which("openjd") is None, reason="openjd-cli is not installed")
def test_openjd_bundle_runs_in_chunks_and_equals_a_sequential_render(shot, tmp_path):
    root, weights = shot
    assert main(["render", *render_args(root, tmp_path / "sequential", weights), "--progress", "none"]) == 0
    assert main(["farm", "export", "--format", "openjd", "-o", str(tmp_path / "job"), "--chunk-size", "3",
                 "--command", sys.executable, "--", *render_args(root, tmp_path / "farm", weights)]) == 0
    template = json.loads((tmp_path / "job" / "template.json").read_text())
    assert template["extensions"] == ["TASK_CHUNKING"]
    task = template["steps"][0]["parameterSpace"]["taskParameterDefinitions"][0]
    assert task["type"] == "CHUNK[INT]" and task["chunks"]["rangeConstraint"] == "CONTIGUOUS"
    args = template["steps"][0]["script"]["actions"]["onRun"]["args"]
    assert args[args.index("--frames") + 1] == "{{Task.Param.Frame}}" and "--resume" in args
    assert any(a.endswith("key.png@1001") for a in args), "keyframes are pinned to their frame"
    # the workers' command is `python`; make it `python -m adamatte`
    template["steps"][0]["script"]["actions"]["onRun"]["args"] = ["-m", "adamatte", *args]
    (tmp_path / "job" / "template.json").write_text(json.dumps(template))
    check = subprocess.run(["openjd", "check", str(tmp_path / "job" / "template.json")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    values = json.loads((tmp_path / "job" / "parameter_values.json").read_text())["parameterValues"]
    params = [arg for v in values for arg in ("-p", f"{v['name']}={v['value']}")]
    run = subprocess.run(["openjd", "run", str(tmp_path / "job" / "template.json"), "--step", "Matte", *params],
                         capture_output=True, text=True, timeout=600, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "Chunks run: 3" in run.stdout
    for frame in range(1001, 1010):
        a = read_image(str(tmp_path / "sequential" / f"matte.{frame}.exr"))[0]
        b = read_image(str(tmp_path / "farm" / f"matte.{frame}.exr"))[0]
        assert np.array_equal(a, b), frame


def test_opencue_job_xml(shot, tmp_path):
    pytest.importorskip("outline")
    root, weights = shot
    assert main(["farm", "export", "--format", "opencue", "-o", str(tmp_path / "cue"), "--chunk-size", "4", "--gpu",
                 "--name", "sh020", "--", *render_args(root, tmp_path / "out", weights)]) == 0
    xml = (tmp_path / "cue" / "sh020.cue.xml").read_text()
    assert "<range>1001-1009</range>" in xml and "<chunk>4</chunk>" in xml
    assert "--frames '#FRAME_START#-#FRAME_END#'" in xml and "--progress json --resume" in xml  # quoted: # starts a shell comment
    assert "'" + str(root / "plate" / "plate.####.exr") + "'" in xml, "paths with spaces are quoted"


def test_export_refuses_a_bad_render(shot, tmp_path):
    root, weights = shot
    args = render_args(root, tmp_path / "o", weights)
    args[args.index("--trimap") + 1] = str(root / "key.png") + "@1005"
    assert main(["farm", "export", "-o", str(tmp_path / "job"), "--", *args, "--frames", "1001-1009"]) == 2
    assert not (tmp_path / "job").exists()


class OutOfMemoryNet(torch.nn.Module):
    def forward(self, image, trimap) -> AdaOutput:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_gpu_out_of_memory_is_exit_code_4_with_a_hint():
    engine = MattingEngine(OutOfMemoryNet(), device="cpu")
    with pytest.raises(GPUMemoryError, match="--max-megapixels") as err:
        engine.matte(np.zeros((64, 64, 3), np.float32), np.full((64, 64), 0.5, np.float32))
    assert err.value.exit_code == 4


@pytest.mark.parametrize("make_args, code", [
    (lambda root, out, w: render_args(root, out, w), 0),
    (lambda root, out, w: render_args(root, out, w) + ["--frames", "1001-1020"], 2),
    (lambda root, out, w: [a.replace("plate.####", "gappy.####") for a in render_args(root, out, w)], 3),
])
def test_exit_codes(shot, tmp_path, make_args, code):
    root, weights = shot
    gappy = root / "plate"
    for frame in (1001, 1002, 1004):
        target = gappy / f"gappy.{frame}.exr"
        if not target.exists():
            shutil.copy(gappy / f"plate.{frame}.exr", target)
    proc = subprocess.run([sys.executable, "-m", "adamatte", "render", *make_args(root, tmp_path, weights), "--progress", "none"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == code, proc.stderr
