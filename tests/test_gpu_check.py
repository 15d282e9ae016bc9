"""The GPU check's CPU-side pieces: the packed training set, and bringing a checkpoint home."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np

from adamatte.cli import main
from adamatte.io import read_image, read_matte, write_image
from adamatte.train.checkpoint import read_checkpoint
from adamatte.train.config import load_train_config
from adamatte.train.data import pair_files

from synthetic import textured, write_merged_folder

REPO = Path(__file__).resolve().parents[1]


def pack(data: Path, config: Path, out: Path) -> None:
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "pack_training_set.py"), "--config", str(config),
                    "--data", str(data), "--out", str(out)], check=True, capture_output=True)


def test_a_packed_training_set_holds_the_same_items_and_trains(tmp_path):
    data = write_merged_folder(tmp_path / "data", 3, size=64)
    (data / "bg").mkdir()
    write_image(str(data / "bg" / "wall.png"), textured(2000, 1500, 3, (0.5, 0.4, 0.3)), ["R", "G", "B"], pixel_type="uint8")
    config = tmp_path / "tiny.toml"
    config.write_text('name = "tiny"\nmodel = "lite"\nbatch_size = 2\nmax_steps = 2\ncrop_size = 64\ncrop_min = 64\n'
                      'crop_max = 64\nthreads = 1\nbackgrounds = ["bg/*"]\n[[train]]\nimage = "*_image.png"\nalpha = "*_alpha.png"\n')
    pack(data, config, tmp_path / "pack")
    assert sorted(os.listdir(tmp_path / "pack")) == ["data.tar.xz", "tiny.json"]
    with tarfile.open(tmp_path / "pack" / "data.tar.xz") as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")

    original = load_train_config(str(config), data_root=str(data))
    packed = load_train_config(str(tmp_path / "pack" / "tiny.json"), data_root=str(tmp_path / "unpacked"))
    assert packed.name == original.name and packed.validation is None
    before, after = pair_files(original, original.train[0]), pair_files(packed, packed.train[0])
    assert [i.key for i in after] == [i.key for i in before]
    for old, new in zip(before, after):
        assert new.image.endswith(".jpg") and new.alpha.endswith(".pgm")
        assert np.array_equal(read_matte(new.alpha), read_matte(old.alpha))  # ground truth stays exact
        assert np.abs(read_image(new.image)[0] - read_image(old.image)[0]).mean() < 0.04  # blocky noise: JPEG's worst case
    background = read_image(str(tmp_path / "unpacked" / "bg" / "wall.jpg"))[0]
    assert background.shape[:2] == (1707, 1280)  # no wider than a crop could ever need

    assert main(["train", "--config", str(tmp_path / "pack" / "tiny.json"), "--data", str(tmp_path / "unpacked"),
                 "--output-dir", str(tmp_path / "runs"), "--no-progress"]) == 0
    assert read_checkpoint(str(tmp_path / "runs" / "tiny" / "checkpoint"))[1]["step"] == 2


def take(repo: Path, returned: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(repo / "benchmarks" / "gpu_check.sh"), "--take", str(returned)],
                          capture_output=True, text=True)


def test_a_returned_checkpoint_is_rejoined_verified_and_installed(tmp_path):
    assert main(["train", "--config", "smoke", "--data", str(write_merged_folder(tmp_path / "data", 2, size=64)),
                 "--output-dir", str(tmp_path / "device"), "--no-progress"]) == 0
    trained = tmp_path / "device" / "smoke"
    returned = tmp_path / "returned"
    returned.mkdir()
    blob = (trained / "checkpoint.safetensors").read_bytes()
    half = len(blob) // 2
    (returned / "checkpoint.safetensors.part-aa").write_bytes(blob[:half])
    (returned / "checkpoint.safetensors.part-ab").write_bytes(blob[half:])
    shutil.copy(trained / "checkpoint.json", returned)
    (returned / "log.csv").write_text("epoch,step\n0,2\n")

    repo = tmp_path / "repo"
    (repo / "benchmarks").mkdir(parents=True)
    (repo / "runs" / "lite-cpu").mkdir(parents=True)
    shutil.copy(REPO / "benchmarks" / "gpu_check.sh", repo / "benchmarks")
    (repo / "core").symlink_to(REPO / "core")

    torn = tmp_path / "torn"
    shutil.copytree(returned, torn)
    (torn / "checkpoint.safetensors.part-ab").write_bytes(blob[half:-10])
    refused = take(repo, torn)
    assert refused.returncode != 0 and "nothing replaced" in refused.stderr
    assert os.listdir(repo / "runs") == ["lite-cpu"] and not os.listdir(repo / "runs" / "lite-cpu")

    assert take(repo, returned).returncode == 0
    tensors, meta = read_checkpoint(str(repo / "runs" / "lite-cpu" / "checkpoint"))
    assert meta["step"] == 2 and json.loads((trained / "checkpoint.json").read_text())["sha256"] == meta["sha256"]
    assert (repo / "runs" / "lite-cpu" / "log.csv").read_text().endswith("0,2\n")
