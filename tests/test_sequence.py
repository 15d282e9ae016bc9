import os

import pytest

from adamatte.errors import InputError, MissingFramesError
from adamatte.io import FrameSource, format_frame_range, parse_frame_range, parse_pattern, resolve_pattern
from adamatte.io.sequence import find_frames

from conftest import write_sequence


@pytest.mark.parametrize("text, frames", [
    ("1001-1005", [1001, 1002, 1003, 1004, 1005]),
    ("1001-1009x4", [1001, 1005, 1009]),
    ("1001,1003, 1010-1011", [1001, 1003, 1010, 1011]),
    ("7", [7]),
    ("-3--1", [-3, -2, -1]),
])
def test_parse_frame_range(text, frames):
    assert parse_frame_range(text) == frames


@pytest.mark.parametrize("text", ["", "10-1", "1001-1100x0", "a-b", "1001..1010"])
def test_parse_frame_range_rejects(text):
    with pytest.raises(InputError, match="bad frame range"):
        parse_frame_range(text)


def test_format_frame_range():
    assert format_frame_range([1001, 1002, 1003, 1005, 1007, 1008]) == "1001-1003,1005,1007-1008"


@pytest.mark.parametrize("token, padding", [("####", 4), ("%04d", 4), ("@@@@", 4), ("%d", 0), ("#", 0)])
def test_parse_pattern_tokens(token, padding):
    p = parse_pattern(f"/plates/shot.{token}.exr")
    assert (p.directory, p.head, p.tail, p.padding) == ("/plates", "shot.", ".exr", padding)
    assert p.path(1001) == "/plates/shot.1001.exr"


def test_every_spelling_finds_the_same_frames(plate):
    expected = list(range(1001, 1011))
    for spec in ["shot.####.exr", "shot.%04d.exr", "shot.@@@@.exr", "shot.1005.exr", ""]:
        pattern = resolve_pattern(str(plate / spec) if spec else str(plate))
        assert find_frames(pattern) == expected, spec
        assert pattern.padding == 4


def test_padding_trap_frames_1001_to_1010_stay_padded(tmp_path):
    # pyseq calls 1001-1010 unpadded unless strict; a short-padded sibling must not join
    write_sequence(tmp_path, range(1001, 1011))
    write_sequence(tmp_path, [7], pad=2)
    pattern = resolve_pattern(str(tmp_path / "shot.####.exr"))
    assert find_frames(pattern) == list(range(1001, 1011))
    two_digit = resolve_pattern(str(tmp_path / "shot.##.exr"))
    assert find_frames(two_digit)[0] == 7 and two_digit.path(7).endswith("shot.07.exr")


def test_lone_member_is_a_one_frame_sequence(tmp_path):
    write_sequence(tmp_path, [1001])
    assert find_frames(resolve_pattern(str(tmp_path / "shot.1001.exr"))) == [1001]


def test_folder_with_two_sequences_asks_for_one(tmp_path):
    write_sequence(tmp_path, [1, 2], name="a")
    write_sequence(tmp_path, [1, 2], name="b")
    with pytest.raises(InputError, match="several sequences"):
        resolve_pattern(str(tmp_path))


def test_missing_frames_are_reported_and_handled(tmp_path):
    write_sequence(tmp_path, [1001, 1002, 1005])
    spec = str(tmp_path / "shot.####.exr")
    src = FrameSource(spec)
    assert src.frames == [1001, 1002, 1003, 1004, 1005]
    assert src.missing == [1003, 1004]
    with pytest.raises(MissingFramesError, match="1003-1004") as err:
        src.read(1003)
    assert err.value.exit_code == 3

    held = FrameSource(spec, missing="hold").read(1004)
    assert held.source_frame == 1002 and held.plate[0, 0, 0] == pytest.approx(0.02, abs=1e-3)
    black = FrameSource(spec, missing="black").read(1003)
    assert black.source_frame is None and not black.plate.any()


def test_frames_option_restricts_the_range(plate):
    src = FrameSource(str(plate / "shot.####.exr"), frames="1002-1008x3")
    assert src.frames == [1002, 1005, 1008] and not src.missing
    assert src.read(1005).plate[0, 0, 0] == pytest.approx(0.05, abs=1e-3)


def test_nonexistent_and_empty(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        resolve_pattern(str(tmp_path / "nope.exr"))
    with pytest.raises(InputError, match="folder does not exist"):
        resolve_pattern(str(tmp_path / "nope" / "shot.####.exr"))
    with pytest.raises(InputError, match="empty sequence"):
        FrameSource(str(tmp_path / "shot.####.exr"))
    os.makedirs(tmp_path / "empty")
    with pytest.raises(InputError, match="no image sequence"):
        FrameSource(str(tmp_path / "empty"))
