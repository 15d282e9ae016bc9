"""Bad files and bad weights, as an attacker would make them: seeded mutations of a real EXR and
crafted weights configs. Every one ends in exit 0 or in exit 2 with one line, never a traceback."""

import contextlib
import io
import json
import shutil

import numpy as np
import pytest
import torch

from adamatte.cli import main
from adamatte.model import AdaMatting, load_model_config
from adamatte.model.weights import save_weights

from conftest import write_exr


def run(*args: str) -> tuple[int, str]:
    """main() in this process (fast enough for hundreds of files): (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([*args])
    return code, err.getvalue()


def assert_clean(code: int, err: str, what: str) -> None:
    assert code in (0, 2), (what, code, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("adamatte: error: "), (what, err)


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    pixels = np.random.default_rng(0).random((24, 32, 3)).astype(np.float32)
    write_exr(folder / "plate.exr", pixels, attributes={
        "smpte:TimeCode": ("timecode", (0x01020304, 0)), "owner": "fuzz", "FramesPerSecond": ("rational", (24, 1)),
        "adamatte:custom": "x" * 40, "worldToCamera": ("matrix", tuple(float(i) for i in range(16)))})
    return folder


def mutations(data: bytes, count: int, seed: int):
    """(label, bytes): byte flips anywhere, flips in the header, truncations and header fields overwritten."""
    rng = np.random.default_rng(seed)
    header_end = data.index(b"\x00\x00", 8) + 400 if b"\x00\x00" in data[8:] else 400
    for i in range(count):
        buf = bytearray(data)
        kind = i % 4
        if kind == 0:
            for _ in range(rng.integers(1, 8)):
                buf[rng.integers(0, len(buf))] = rng.integers(0, 256)
        elif kind == 1:
            for _ in range(rng.integers(1, 4)):
                buf[rng.integers(4, min(header_end, len(buf)))] = rng.integers(0, 256)
        elif kind == 2:
            buf = buf[: rng.integers(1, len(buf))]
        else:
            at = rng.integers(8, min(header_end, len(buf) - 8))
            buf[at:at + 4] = rng.integers(0, 256, 4, dtype=np.uint8).tobytes()
        yield f"mutation {i} (kind {kind})", bytes(buf)


def test_mutated_exrs_give_info_a_one_line_error_or_a_description(plate, tmp_path):
    data = (plate / "plate.exr").read_bytes()
    for label, buf in mutations(data, 300, seed=1):
        path = tmp_path / "m.exr"
        path.write_bytes(buf)
        assert_clean(*run("info", str(path)), label)


def test_mutated_exrs_give_matte_a_one_line_error_or_a_matte(plate, tmp_path):
    torch.manual_seed(0)
    weights = str(tmp_path / "w.safetensors")
    save_weights(AdaMatting(load_model_config("lite")), weights)
    trimap = np.zeros((24, 32, 1), np.float32)
    trimap[6:18, 8:24] = 0.5
    write_exr(tmp_path / "t.exr", trimap, ("Y",))
    data = (plate / "plate.exr").read_bytes()
    for label, buf in mutations(data, 24, seed=2):
        path = tmp_path / "m.exr"
        path.write_bytes(buf)
        assert_clean(*run("matte", str(path), "--trimap", str(tmp_path / "t.exr"), "-o", str(tmp_path / "a.exr"),
                          "--weights", weights, "--refine", "none", "--device", "cpu"), label)


def crafted_configs(good: dict):
    """(label, JSON text) of weights configs an attacker might write."""
    yield "a list", json.dumps([good])
    yield "a number", "7"
    yield "no model", json.dumps({k: v for k, v in good.items() if k != "model"})
    yield "model is a string", json.dumps({**good, "model": "lite"})
    for key, value in (("blocks", [2, 2, 2, 10 ** 6]), ("block_widths", [16, 32, 64, 10 ** 7]), ("prop_steps", 10 ** 9),
                       ("gcn_kernel", 10 ** 5), ("stem_width", -3), ("expansion", 0), ("blocks", "many"),
                       ("decoder_widths", [1.5, 2, 3, 4]), ("prop_unshuffle", 10 ** 4), ("variant", ["x"]),
                       ("blocks", [2, 2, 2]), ("gcn_kernel", True)):
        yield f"model.{key} = {value!r}"[:60], json.dumps({**good, "model": {**good["model"], key: value}})
    yield "format_version a string", json.dumps({**good, "format_version": "9"})
    yield "sha256 a number", json.dumps({**good, "sha256": 5})


def test_crafted_weights_configs_are_refused_in_one_line_and_quickly(tmp_path, plate):
    torch.manual_seed(0)
    weights = tmp_path / "w.safetensors"
    save_weights(AdaMatting(load_model_config("lite")), str(weights))
    good = json.loads(weights.with_suffix(".json").read_text())
    trimap = np.full((24, 32, 1), 0.5, np.float32)
    trimap[:4] = 0.0
    trimap[10:14, 12:20] = 1.0
    write_exr(tmp_path / "t.exr", trimap, ("Y",))
    for label, text in crafted_configs(good):
        crafted = tmp_path / "c.safetensors"
        shutil.copy(weights, crafted)
        crafted.with_suffix(".json").write_text(text)
        code, err = run("weights", "info", str(crafted))
        assert code == 2, (label, err)
        assert_clean(code, err, label)
        code, err = run("matte", str(plate / "plate.exr"), "--trimap", str(tmp_path / "t.exr"), "-o", str(tmp_path / "a.exr"),
                        "--weights", str(crafted), "--refine", "none", "--device", "cpu")
        assert code == 2, (label, err)
        assert_clean(code, err, label)
