"""The network alone as one file for other hosts: TorchScript (Nuke's Inference node via CatFileCreator)
and ONNX (onnxruntime), both equal to the engine's network-only output on odd sizes."""

import subprocess
import sys

import numpy as np
import pytest

from adamatte.cli import main
from adamatte.matting.engine import MattingEngine

from synthetic import matting_sample

H, W = 251, 317  # odd on purpose: the files pad to the stride and crop inside


@pytest.fixture(scope="module")
def sample():
    image, _, trimap = matting_sample(H, W, seed=5)
    # the files hold the network for the whole frame; the engine's region of interest is its own
    engine = MattingEngine.from_weights("lite", device="cpu", precision="fp32", refine="none", roi_margin=None)  # the exports are fp32
    alpha = engine.matte(image, trimap).alpha
    x = np.concatenate([image.transpose(2, 0, 1), trimap[None]], axis=0)[None].astype(np.float32)
    return x, alpha


def test_torchscript_loads_without_adamatte_and_equals_the_engine(sample, tmp_path):
    x, alpha = sample
    path = tmp_path / "adamatte_lite.pt"
    assert main(["weights", "export", "lite", "--format", "torchscript", "-o", str(path)]) == 0
    np.save(tmp_path / "x.npy", x)
    script = (f"import sys; sys.modules['adamatte'] = None\n"  # any import of adamatte would fail here
              f"import numpy as np, torch\n"
              f"m = torch.jit.load({str(path)!r})\n"
              f"with torch.inference_mode(): a = m(torch.from_numpy(np.load({str(tmp_path / 'x.npy')!r})))\n"
              f"np.save({str(tmp_path / 'a.npy')!r}, a.numpy())\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300, cwd=tmp_path)
    out = np.load(tmp_path / "a.npy")
    assert out.shape == (1, 1, H, W)
    assert np.abs(out[0, 0] - alpha).max() < 1e-4


def test_onnx_through_onnxruntime_equals_the_engine(sample, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    x, alpha = sample
    path = tmp_path / "adamatte_lite.onnx"
    assert main(["weights", "export", "lite", "--format", "onnx", "-o", str(path)]) == 0
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert inp.shape[2:] != [H, W], "height and width are dynamic"
    for size in ((H, W), (64, 96)):
        got = session.run([out.name], {inp.name: np.ascontiguousarray(x[:, :, :size[0], :size[1]])})[0]
        assert got.shape == (1, 1, *size)
    got = session.run([out.name], {inp.name: x})[0]
    assert np.abs(got[0, 0] - alpha).max() < 1e-3


def test_export_refuses_a_wrong_extension(tmp_path, capsys):
    assert main(["weights", "export", "lite", "--format", "onnx", "-o", str(tmp_path / "m.pt")]) == 2
