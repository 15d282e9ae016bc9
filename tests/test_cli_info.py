import json
import subprocess
import sys

import numpy as np
import pytest

from adamatte.cli import main

from conftest import write_exr, write_sequence


def run_cli(*args):
    """The real console entry point in a child process: (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "adamatte", *map(str, args)], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_help_explains_commands_and_exit_codes():
    code, out, _ = run_cli("--help")
    assert code == 0 and "info" in out and "exit codes" in out
    code, out, _ = run_cli("info", "--help")
    assert code == 0 and "--missing" in out and "--input-colorspace" in out


def test_every_command_explains_itself():
    """Each command's --help prints (a stray % in a shared parameter's help once crashed render's and matte's)."""
    import argparse
    from adamatte.cli import build_parser

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, (*path, name))
        yield path, parser

    helped = {" ".join(path) for path, parser in walk(build_parser(), ()) if "usage" in parser.format_help()}
    assert {"render", "matte", "weights export", "farm export", "train"} <= helped
    code, out, err = run_cli("render", "--help")
    assert code == 0 and "--analysis-scale" in out and "17% in SAD" in out, err


def test_info_reports_range_gaps_windows_and_colour(tmp_path, capsys):
    write_sequence(tmp_path, [1001, 1002, 1004, 1005])
    write_exr(tmp_path / "shot.1003.exr", np.zeros((32, 48, 3), np.float32))  # fill, then remove one
    (tmp_path / "shot.1003.exr").unlink()
    assert main(["info", str(tmp_path / "shot.####.exr")]) == 0
    text = capsys.readouterr().out
    assert "1001-1005 (5 frames)" in text and "1003 (1 frames)" in text
    assert "48x32" in text and "(0,0) - (47,31)" in text and "half" in text and "zip" in text
    assert "Linear Rec.709 (sRGB) -> sRGB Encoded Rec.709 (sRGB)" in text

    assert main(["info", "--json", str(tmp_path / "shot.1001.exr")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["missing"] == [1003] and data["channels"] == ["R", "G", "B"] and data["frame_count"] == 5


def test_info_names_overscan_and_crop(tmp_path, capsys):
    write_exr(tmp_path / "os.1001.exr", np.zeros((40, 60, 3), np.float32), origin=(-10, -5), display=(0, 0, 40, 30))
    assert main(["info", str(tmp_path / "os.####.exr")]) == 0
    text = capsys.readouterr().out
    assert "(-10,-5) - (49,34)" in text and "[overscan" in text
    write_exr(tmp_path / "crop.1001.exr", np.zeros((10, 20, 3), np.float32), origin=(5, 8), display=(0, 0, 40, 30))
    assert main(["info", str(tmp_path / "crop.####.exr")]) == 0
    text = capsys.readouterr().out
    assert "[crop" in text and "[overscan" not in text


def test_info_describes_a_matte_and_prints_timecode(tmp_path, capsys):
    """adamatte's own alpha-only output is a matte, not a plate without colour; timecode reads as HH:MM:SS:FF."""
    write_exr(tmp_path / "matte.1001.exr", np.full((8, 12, 1), 0.5, np.float32), ("A",),
              attributes={"smpte:TimeCode": ("timecode", (0x01023004, 0))})
    write_exr(tmp_path / "matte.1002.exr", np.full((8, 12, 1), 0.5, np.float32), ("A",))
    assert main(["info", str(tmp_path / "matte.####.exr")]) == 0
    text = capsys.readouterr().out
    assert "matte sequence" in text and "(matte: A)" in text and "a matte carries no colour" in text
    assert "01:02:30:04" in text


def corrupt(tmp_path):
    write_sequence(tmp_path, [1001, 1002])
    (tmp_path / "shot.1002.exr").write_bytes(b"\x76\x2f\x31\x01garbage")
    return tmp_path / "shot.####.exr"


def resized(tmp_path):
    write_sequence(tmp_path, [1001])
    write_sequence(tmp_path, [1002], size=(20, 20))
    return tmp_path / "shot.####.exr"


def no_rgb(tmp_path):
    write_exr(tmp_path / "z.1001.exr", np.zeros((4, 4, 1), np.float32), ("Z",))
    return tmp_path / "z.####.exr"


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "nothing_here.exr", "no such file or folder"),
    (lambda p: p / "shot.####.exr", "empty sequence"),
    (corrupt, "shot.1002.exr, frame 1002: cannot open image"),
    (resized, "shot.1002.exr, frame 1002: resolution changes mid-sequence"),
    (no_rgb, "no R,G,B channels"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, make, message):
    code, out, err = run_cli("info", make(tmp_path))
    assert code == 2, err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path):
    code, _, err = run_cli("--debug", "info", tmp_path / "nothing_here.exr")
    assert code == 2 and "Traceback" in err
