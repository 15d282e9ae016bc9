"""The Blender extension in real Blender (the bpy wheel, 4.5 LTS), in an environment of its own.

bpy 4.5's wheel needs numpy<2 and OpenImageIO 3.2 needs numpy>=2, so bpy lives in its own
virtual environment (made once, cached in ~/.cache/adamatte) and calls the engine in this one,
out of process, as a user's Blender does.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from adamatte.io import read_image, write_image
from adamatte.model import AdaMatting, load_model_config
from adamatte.model.weights import save_weights
from adamatte_nodes.runner import ENV_PYTHON

from synthetic import moving_clip, trimap_from_alpha

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("ADAMATTE_BPY_CACHE", Path.home() / ".cache" / "adamatte"))

pytestmark = pytest.mark.blender


def bpy_python(version: str) -> str:
    """A Python with only the bpy wheel of `version`, made once and cached."""
    env = CACHE / f"bpy-{version}"
    python = env / "bin" / "python"
    if not python.exists() or subprocess.run([str(python), "-c", "import bpy"], capture_output=True).returncode:
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"bpy=={version}.*"], check=True, timeout=1800)
    return str(python)


@pytest.mark.parametrize("version", ["4.5", "5.0"])
def test_extension_in_blender_mattes_a_compositor_sequence(tmp_path, version):
    python = bpy_python(version)
    build = subprocess.run([sys.executable, str(ROOT / "plugin" / "blender" / "build.py"), "--blender-python", python,
                            "--output-dir", str(tmp_path / "dist")], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    extension = build.stdout.strip().splitlines()[-1]

    plate, truth = moving_clip(tmp_path / "plate dir", frames=5, size=(320, 192), step=3.0)
    write_image(str(tmp_path / "trimap.png"), trimap_from_alpha(truth[1001]), ["Y"], pixel_type="uint8")
    torch.manual_seed(0)
    save_weights(AdaMatting(load_model_config("lite")), str(tmp_path / "w.safetensors"))

    env = dict(os.environ, **{ENV_PYTHON: sys.executable, "OMP_NUM_THREADS": "1"})
    env.pop("PYTHONPATH", None)
    run = subprocess.run([python, str(ROOT / "tests" / "blender_scenario.py"), "--", "--extension", extension,
                          "--plate", str(plate / "plate.1001.exr"), "--frames", "5", "--trimap", str(tmp_path / "trimap.png"),
                          "--weights", str(tmp_path / "w.safetensors"), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=900, env=env)
    summary_line = [line for line in run.stdout.splitlines() if line.startswith("SUMMARY ")]
    assert run.returncode == 0 and summary_line, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads(summary_line[0][len("SUMMARY "):])
    assert summary["blender"].startswith(version) and summary["matte_frames"] == 5
    # random weights matte the plate's background in: the keyframe memory holds it off, and the drift
    # warning reaches the artist as the operator's report (Blender prints reports in background mode)
    assert "Warning: AdaMatte: frame 100" in run.stdout + run.stderr, run.stdout[-3000:]
    assert "AdaMatte matte:Alpha->AdaMatte set alpha:Alpha" in summary["links"]
    assert sorted(p.name for p in (tmp_path / "out").glob("matte.*.exr")) == [f"matte.{f}.exr" for f in range(1001, 1006)]
    template = json.loads((tmp_path / "out" / "farm_job" / "template.json").read_text())
    assert template["steps"][0]["name"] == "Matte", "Submit to Farm wrote the OpenJD bundle"

    matte = read_image(str(tmp_path / "out" / "matte.1003.exr"))[0][..., 0]
    comp, info = read_image(summary["comp"])
    alpha = comp[..., info.channels.index("A")]
    assert alpha.shape == matte.shape
    assert np.abs(alpha - matte).mean() < 0.01, "the compositor's alpha is adamatte's matte for that frame"
