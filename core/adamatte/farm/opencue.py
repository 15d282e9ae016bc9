"""OpenCue jobs through opencue-pyoutline, serialised to job XML without a Cuebot server."""

from __future__ import annotations

import os
import shlex

from adamatte.errors import InputError
from adamatte.farm.job import FRAME_TOKEN, FarmJob
from adamatte.io.atomic import atomic_write


def job_xml(job: FarmJob, *, show: str = "adamatte", shot: str = "", user: str = "") -> str:
    """The OpenCue job spec: one shell layer over the frame range, in chunks."""
    try:
        from outline import Outline
        from outline.backend.cue import serialize_simple
        from outline.cuerun import OutlineLauncher
        from outline.modules.shell import Shell
    except ImportError:
        raise InputError("OpenCue export needs opencue-pyoutline: pip install opencue-pyoutline") from None
    command = shlex.join([job.command, *(a.replace(FRAME_TOKEN, "#FRAME_START#-#FRAME_END#") for a in job.args)])
    outline = Outline(job.name, frame_range=job.frame_range, show=show, shot=shot or job.name,
                      user=user or os.environ.get("USER", "adamatte"))
    layer = Shell("matte", command=[command], range=job.frame_range, chunk=job.chunk_size)
    if job.gpu:
        layer.set_arg("gpus", 1)
    outline.add_layer(layer)
    return serialize_simple(OutlineLauncher(outline))


def write_job(job: FarmJob, folder: str) -> list[str]:
    path = os.path.join(folder, f"{job.name}.cue.xml")
    with atomic_write(path) as tmp, open(tmp, "w") as fh:
        fh.write(job_xml(job))
    return [path]
