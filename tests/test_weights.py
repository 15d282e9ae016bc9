import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from adamatte.cli import main
from adamatte.errors import InputError
from adamatte.io import read_image, read_info, write_image
from adamatte.model import AdaMatting, load_model_config
from adamatte.model.weights import load_weights, save_weights


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(3)
    model = AdaMatting(load_model_config("lite"))
    for module in model.modules():  # non-trivial running statistics, so they are checked too
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    path = str(tmp_path_factory.mktemp("w") / "mine.safetensors")
    save_weights(model, path, training={"data": "test fixture"}, half=False)
    return model.eval(), path


def test_safetensors_round_trip(saved):
    model, path = saved
    loaded, info = load_weights(path)
    assert info.variant == "lite" and info.meta["training"]["data"] == "test fixture"
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, rtol=0, atol=0)


def test_half_weights_load_as_float(tmp_path):
    model = AdaMatting(load_model_config("lite"))
    path = str(tmp_path / "h.safetensors")
    info = save_weights(model, path)
    loaded, _ = load_weights(path)
    assert info.meta["dtype"] == "float16"
    assert all(p.dtype == torch.float32 for p in loaded.parameters())


def test_pickle_checkpoints_are_refused(tmp_path):
    model = AdaMatting(load_model_config("lite"))
    torch.save(model.state_dict(), tmp_path / "ckpt.safetensors")  # a zip of pickles, misnamed
    with pytest.raises(InputError, match="pickle"):
        load_weights(str(tmp_path / "ckpt.safetensors"))
    (tmp_path / "raw.safetensors").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(InputError, match="pickle"):
        load_weights(str(tmp_path / "raw.safetensors"))


def test_tampered_or_mismatched_files_are_refused(saved, tmp_path):
    _, path = saved
    sidecar = path.replace(".safetensors", ".json")
    meta = json.load(open(sidecar))

    swapped = tmp_path / "swapped.safetensors"
    swapped.write_bytes(open(path, "rb").read())
    meta_other = dict(meta, model=dict(meta["model"], prop_width=8))
    json.dump(meta_other, open(tmp_path / "swapped.json", "w"))
    with pytest.raises(InputError, match="do not match the 'lite' architecture"):
        load_weights(str(swapped))

    corrupt = tmp_path / "corrupt.safetensors"
    data = bytearray(open(path, "rb").read())
    data[-10] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    json.dump(meta, open(tmp_path / "corrupt.json", "w"))
    with pytest.raises(InputError, match="does not match the hash"):
        load_weights(str(corrupt))

    lonely = tmp_path / "lonely.safetensors"
    lonely.write_bytes(open(path, "rb").read())
    with pytest.raises(InputError, match="JSON config beside them"):
        load_weights(str(lonely))

    with pytest.raises(InputError, match="no such weights file"):
        load_weights(str(tmp_path / "nope.safetensors"))


def test_weights_info_prints_parameter_counts(saved, capsys):
    _, path = saved
    assert main(["weights", "info", path]) == 0
    out = capsys.readouterr().out
    assert "lite" in out and "test fixture" in out and "encoder" in out
    assert main(["weights", "info", "paper", "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)["parameters"]
    assert 23_000_000 < counts["encoder"] < 24_000_000


def test_matte_cli_end_to_end(saved, tmp_path):
    _, weights = saved
    h, w = 251, 317
    rng = np.random.default_rng(0)
    write_image(str(tmp_path / "photo.png"), rng.random((h, w, 3), dtype=np.float32), ["R", "G", "B"], pixel_type="uint8")
    trimap = np.zeros((h, w, 1), np.float32)
    trimap[60:190, 80:240] = 128 / 255
    trimap[100:150, 120:200] = 1.0
    write_image(str(tmp_path / "trimap.png"), trimap, ["Y"], pixel_type="uint8")
    for out in ("alpha.png", "alpha.exr"):
        proc = subprocess.run(
            [sys.executable, "-m", "adamatte", "matte", str(tmp_path / "photo.png"), "--trimap", str(tmp_path / "trimap.png"),
             "-o", str(tmp_path / out), "--trimap-out", str(tmp_path / "adapted.png"), "--weights", weights, "--device", "cpu",
             "--respect-trimap"],
            capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        alpha, info = read_image(str(tmp_path / out))
        assert alpha.shape == (h, w, 1)
        assert info.pixel_type == ("uint16" if out.endswith(".png") else "half")
        assert alpha[0, 0, 0] == 0 and alpha[120, 160, 0] == 1  # respect-trimap: user's known regions
    adapted, _ = read_image(str(tmp_path / "adapted.png"))
    assert set(np.unique(np.round(adapted * 255))) <= {0, 128, 255}
    assert read_info(str(tmp_path / "alpha.exr")).attribute("adamatte:weights_hash")


def test_matte_without_bundled_weights_says_so(tmp_path, monkeypatch, capsys):
    import adamatte.model.weights as weights

    monkeypatch.setattr(weights, "bundled_names", lambda: [])  # as in a build that ships no weights
    assert main(["matte", "a.png", "--trimap", "t.png", "-o", str(tmp_path / "o.png")]) == 2
    assert "no trained weights are bundled" in capsys.readouterr().err
