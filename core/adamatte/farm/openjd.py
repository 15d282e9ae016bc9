"""Open Job Description job bundles (what AWS Deadline Cloud submits), with task chunking."""

from __future__ import annotations

import json
import os

from adamatte.farm.job import FRAME_TOKEN, FarmJob
from adamatte.io.atomic import atomic_write


def job_template(job: FarmJob) -> dict:
    """A jobtemplate-2023-09 document: one `Matte` step over CHUNK[INT] frames."""
    step = {
        "name": "Matte",
        "parameterSpace": {
            "taskParameterDefinitions": [{
                "name": "Frame",
                "type": "CHUNK[INT]",
                "range": "{{Param.Frames}}",
                "chunks": {"defaultTaskCount": "{{Param.ChunkSize}}", "rangeConstraint": "CONTIGUOUS"},
            }],
        },
        "script": {
            "actions": {
                "onRun": {
                    "command": "{{Param.AdamatteCommand}}",
                    "args": [a.replace(FRAME_TOKEN, "{{Task.Param.Frame}}") for a in job.args],
                },
            },
        },
    }
    if job.gpu:
        step["hostRequirements"] = {"amounts": [{"name": "amount.worker.gpu", "min": 1}]}
    return {
        "specificationVersion": "jobtemplate-2023-09",
        "extensions": ["TASK_CHUNKING"],
        "name": f"adamatte {job.name}",
        "description": "Chunked adamatte matte render. Each chunk warms up from its nearest keyframe (or resumes from "
                       "the previous chunk's finished frames), so the result equals one sequential render.",
        "parameterDefinitions": [
            {"name": "Frames", "type": "STRING", "default": job.frame_range, "description": "Frames to matte"},
            {"name": "ChunkSize", "type": "INT", "default": job.chunk_size, "minValue": 1,
             "description": "Frames per task; chunks start warm when the previous chunk has finished"},
            {"name": "AdamatteCommand", "type": "STRING", "default": job.command,
             "description": "The adamatte executable on the workers (e.g. /opt/adamatte/venv/bin/adamatte)"},
        ],
        "steps": [step],
    }


def write_bundle(job: FarmJob, folder: str) -> list[str]:
    """Write template.json and parameter_values.json into `folder`; returns their paths."""
    template = os.path.join(folder, "template.json")
    values = os.path.join(folder, "parameter_values.json")
    documents = {
        template: job_template(job),
        values: {"parameterValues": [
            {"name": "Frames", "value": job.frame_range},
            {"name": "ChunkSize", "value": str(job.chunk_size)},
            {"name": "AdamatteCommand", "value": job.command},
        ]},
    }
    for path, document in documents.items():
        with atomic_write(path) as tmp, open(tmp, "w") as fh:
            json.dump(document, fh, indent=2)
    return list(documents)
