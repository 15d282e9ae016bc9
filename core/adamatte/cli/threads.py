"""How the matting commands' OpenMP threads wait: asleep, so that a busy machine does not stall them."""

from __future__ import annotations

import os


def wait_passively() -> None:
    """Make torch's OpenMP threads sleep instead of spin while they wait (OMP_WAIT_POLICY=PASSIVE), unless
    the environment already says otherwise. Call it before torch is imported: the runtime reads it once.

    The band solve takes thousands of small parallel steps a frame (~15 an iteration, 150-220 iterations).
    Beside other work (a second render on a farm node, a training run, the host application) each step
    waited a scheduler slice for threads that spun on a core someone else needed: a 1080p render beside a
    busy process took 16.1 s a frame, 5.5 s with sleeping threads (benchmarks/render_speed.py --busy 1); on
    an idle machine sleeping threads cost 0-14%.
    `adamatte train` keeps the default, which trains 15-20% faster on a machine of its own."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
