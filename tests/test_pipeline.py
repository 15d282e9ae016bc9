import threading

import pytest

from adamatte.io import ReadAhead, WriteBehind


def test_read_ahead_keeps_order_and_reads_ahead():
    seen = []
    started = threading.Event()

    def read(f):
        seen.append(f)
        started.set()
        return f * 10

    frames = list(range(20))
    reader = ReadAhead(read, frames, depth=4)
    started.wait(5)
    assert [v for _, v in reader] == [f * 10 for f in frames]
    assert seen == frames


def test_read_ahead_raises_at_the_bad_frame_and_keeps_earlier_ones():
    def read(f):
        if f == 3:
            raise ValueError("bad frame 3")
        return f

    got = []
    with pytest.raises(ValueError, match="bad frame 3"):
        for _, value in ReadAhead(read, range(6)):
            got.append(value)
    assert got == [0, 1, 2]


def test_read_ahead_close_early_stops_the_thread():
    reader = ReadAhead(lambda f: f, range(1000), depth=2)
    next(reader)
    reader.close()
    assert not reader._thread.is_alive()


def test_write_behind_runs_in_order_and_reports_failure():
    done = []
    with WriteBehind(depth=2) as writer:
        for i in range(10):
            writer.submit(done.append, i)
    assert done == list(range(10))

    def fail(i):
        raise OSError(f"disk full at {i}")

    writer = WriteBehind()
    writer.submit(fail, 7)
    with pytest.raises(OSError, match="disk full at 7"):
        writer.close()
