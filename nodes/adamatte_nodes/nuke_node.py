"""The AdaMatte node for Nuke: a Group whose knobs come from adamatte.params.

Inputs: Source (the plate) and Trimap (a keyframe trimap or roto). Inside, a Read node loads
the rendered matte EXRs and a Copy node puts them into the chosen channel of the plate, so
the node outputs the plate with its new matte. Buttons: Render matte (in the background,
with a ProgressTask and cancel), Submit to farm, Reload.

Headless (`nuke -t`): `render_node(node)` renders and waits.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time

import nuke

from adamatte.params import PARAMS, Param
from adamatte_nodes.runner import RenderJob, RunnerError, farm_export_command, find_python, render_command

NODE_CLASS = "AdaMatte"
HOST_ONLY = {"progress", "frames", "trimap"}  # set by the node itself (from the graph), not by knobs
_KNOB_FOR_KIND = {"str": "String_Knob", "path": "File_Knob", "int": "Int_Knob", "float": "Double_Knob",
                  "bool": "Boolean_Knob", "choice": "Enumeration_Knob", "multi": "String_Knob"}


def _knob(param: Param):
    cls = getattr(nuke, _KNOB_FOR_KIND[param.kind])
    knob = cls(param.name, param.title, list(param.choices)) if param.kind == "choice" else cls(param.name, param.title)
    knob.setValue(param.default)
    knob.setTooltip(param.help)
    return knob


def create_node():
    """Build an AdaMatte group in the current graph (the toolbar's adamatte > AdaMatte)."""
    group = nuke.createNode("Group", inpanel=False)
    group.setName(NODE_CLASS)
    group.addKnob(nuke.Tab_Knob("adamatte", "AdaMatte"))
    group.addKnob(nuke.File_Knob("output", "Matte output"))
    group["output"].setTooltip("Where the matte EXRs go, e.g. /shots/sh020/matte/sh020_matte.####.exr")
    group.addKnob(nuke.String_Knob("python", "adamatte Python"))
    group["python"].setTooltip("A Python with adamatte installed (default: $ADAMATTE_PYTHON)")
    group.addKnob(nuke.String_Knob("keyframes", "Trimap keyframes"))
    group["keyframes"].setTooltip("Frames at which the Trimap input is a keyframe, e.g. 1001,1050 (default: the first frame)")
    for param in PARAMS:
        if param.name not in HOST_ONLY:
            group.addKnob(_knob(param))
    group.addKnob(nuke.PyScript_Knob("render_matte", "Render matte", "adamatte_nodes.nuke_node.render_in_background(nuke.thisNode())"))
    group.addKnob(nuke.PyScript_Knob("submit_farm", "Submit to farm", "adamatte_nodes.nuke_node.submit_to_farm(nuke.thisNode())"))
    group.addKnob(nuke.PyScript_Knob("reload", "Reload", "adamatte_nodes.nuke_node.reload(nuke.thisNode())"))
    group.begin()
    source = nuke.createNode("Input", inpanel=False)
    source.setName("Source")
    trimap = nuke.createNode("Input", inpanel=False)
    trimap.setName("Trimap")
    read = nuke.createNode("Read", inpanel=False)
    read.setName("MatteRead")
    read["on_error"].setValue("black")
    copy = nuke.createNode("Copy", inpanel=False)
    copy.setName("MatteCopy")
    copy.setInput(0, source)
    copy.setInput(1, read)
    output = nuke.createNode("Output", inpanel=False)
    output.setInput(0, copy)
    group.end()
    sync_internals(group)
    return group


def knob_values(node) -> dict:
    """The shared parameters' values on `node`."""
    return {p.name: node[p.name].value() for p in PARAMS if p.name not in HOST_ONLY}


def frame_range(node) -> tuple[int, int]:
    """The Source input's frame range (the script's when nothing is connected)."""
    source = node.input(0)
    if source is not None:
        return int(source.firstFrame()), int(source.lastFrame())
    root = nuke.root()
    return int(root["first_frame"].value()), int(root["last_frame"].value())


def _nuke_pattern(path: str) -> str:
    """%04d -> ####, which both Nuke and adamatte read."""
    return re.sub(r"%0?(\d*)d", lambda m: "#" * max(int(m.group(1) or 1), 1), path)


def _file_of(node) -> str | None:
    """The file pattern behind an input, when it is a Read node."""
    if node is not None and node.Class() == "Read":
        return _nuke_pattern(node["file"].value())
    return None


def _write_to_temp(node, first: int, last: int, name: str, ext: str = "exr") -> str:
    """Render an input that is not backed by files (a Roto, a comp) to temporary files with a Write node."""
    folder = tempfile.mkdtemp(prefix="adamatte-")
    pattern = os.path.join(folder, f"{name}.####.{ext}").replace("\\", "/")
    write = nuke.nodes.Write(file=pattern, file_type=ext)
    write.setInput(0, node)
    try:
        nuke.execute(write, first, last)
    finally:
        nuke.delete(write)
    return pattern


def _keyframes(node, first: int) -> list[int]:
    text = node["keyframes"].value().strip()
    return sorted({int(f) for f in re.split(r"[,\s]+", text) if f}) if text else [first]


def build_request(node) -> tuple[str, str, dict]:
    """(plate pattern, output pattern, parameter values) for the render the node describes."""
    output = node["output"].value()
    if not output:
        raise RunnerError("set the Matte output knob, e.g. /shots/sh020/matte/sh020_matte.####.exr")
    first, last = frame_range(node)
    plate = _file_of(node.input(0))
    if plate is None:
        if node.input(0) is None:
            raise RunnerError("connect the plate to the Source input")
        plate = _write_to_temp(node.input(0), first, last, "plate")
    trimap_node = node.input(1)
    if trimap_node is None:
        raise RunnerError("connect a keyframe trimap or roto to the Trimap input")
    keyframes = _keyframes(node, first)
    trimap_files = _file_of(trimap_node)
    trimaps = []
    for frame in keyframes:
        if trimap_files is None:
            pattern = _write_to_temp(trimap_node, frame, frame, f"trimap{frame}")
        else:
            pattern = trimap_files
        path = pattern if "#" not in pattern else pattern.replace("#" * pattern.count("#"), f"{frame:0{pattern.count('#')}d}")
        trimaps.append(f"{path}@{frame}")
    values = knob_values(node)
    values["trimap"] = trimaps
    values["frames"] = f"{first}-{last}"
    return plate, _nuke_pattern(output), values


def sync_internals(node) -> None:
    """Point the internal Read at the output pattern and frame range, and Copy at the chosen channel."""
    first, last = frame_range(node)
    with node:
        read = nuke.toNode("MatteRead")
        read["file"].setValue(_nuke_pattern(node["output"].value()))
        for knob, value in (("first", first), ("last", last), ("origfirst", first), ("origlast", last)):
            read[knob].setValue(value)
        copy = nuke.toNode("MatteCopy")
        channel = node["alpha_channel"].value() or "A"
        copy["from0"].setValue("rgba.alpha" if channel == "A" else channel)
        copy["to0"].setValue("rgba.alpha" if channel == "A" else channel)


def reload(node) -> None:
    sync_internals(node)
    with node:
        nuke.toNode("MatteRead")["reload"].execute()


def start_render(node, on_event=lambda event: None) -> RenderJob:
    plate, output, values = build_request(node)
    argv = render_command(find_python(node["python"].value()), plate, output, values)
    return RenderJob(argv, on_event=on_event).start()


def render_in_background(node) -> threading.Thread:
    """The Render matte button: a worker thread drives a ProgressTask; Cancel stops the render cleanly."""
    try:
        job = start_render(node)
    except RunnerError as exc:
        nuke.message(f"AdaMatte: {exc}")
        return None

    def watch() -> None:
        task = nuke.ProgressTask(f"AdaMatte: {node.name()}")
        while job.running:
            done, total = job.progress()
            task.setProgress(int(100 * done / total) if total else 0)
            warned = len(job.warnings())
            task.setMessage(f"frame {done} of {total}" + (f", {warned} drift warnings" if warned else ""))
            if task.isCancelled():
                job.cancel()
            time.sleep(0.2)
        del task
        if job.returncode == 0:
            nuke.executeInMainThread(reload, args=(node,))
            if job.warnings():  # drift: the artist should look at those frames, maybe add a keyframe
                nuke.executeInMainThread(nuke.message, args=(f"AdaMatte: {job.warning_summary()}",))
        elif job.returncode != 130:
            nuke.executeInMainThread(nuke.message, args=(f"AdaMatte failed: {job.error_message()}",))

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def render_node(node, timeout: float | None = None) -> int:
    """Headless rendering (nuke -t): render `node` and wait; returns the exit code."""
    job = start_render(node, on_event=lambda e: print(e, flush=True) if e.get("event") in ("warning", "error") else None)
    code = job.wait(timeout)
    if code == 0:
        reload(node)
    return code


def submit_to_farm(node, job_folder: str = "", farm_format: str = "openjd") -> str:
    """The Submit to farm button: export the node's render as a farm job (adamatte farm export)."""
    plate, output, values = build_request(node)
    folder = job_folder or os.path.join(os.path.dirname(output), "farm_job")
    argv = farm_export_command(find_python(node["python"].value()), folder, render_command([], plate, output, values), farm_format)
    job = RenderJob(argv).start()
    if job.wait() != 0:
        raise RunnerError(f"farm export failed: {job.error_message()}")
    return folder
