"""`adamatte render`: a plate and keyframe trimaps in, a temporally stable matte sequence out.

    request = RenderRequest(input="plate.####.exr", output="matte.####.exr", trimap=["key.png"])
    render(request)

Frame t+1's input trimap is frame t's *adapted* trimap carried along optical flow; a user
trimap on a keyframe replaces it and resets drift. Reading ahead and writing behind overlap
the network. Every finished frame leaves its adapted trimap in a sidecar, so --resume and
chunked farm renders (which warm up from the nearest keyframe) reproduce one sequential run
exactly.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from adamatte.drift import DriftGuard
from adamatte.engine import MatteResult, MattingEngine
from adamatte.errors import AdamatteError, InputError, MissingFramesError
from adamatte.foreground import estimate_foreground
from adamatte.io.image import read_info, read_matte, write_image
from adamatte.io.pipeline import ReadAhead, WriteBehind
from adamatte.io.sequence import format_frame_range, parse_frame_range
from adamatte.io.sink import FrameSink
from adamatte.io.source import Frame, FrameSource
from adamatte.keyframes import Keyframes
from adamatte.nodes.params import BY_NAME
from adamatte.progress import Progress
from adamatte.propagate import measure_motion, propagate_trimap

OUTPUTS = ("alpha", "trimap", "fg", "rgba")


class RenderCancelled(AdamatteError):
    exit_code = 130


def _default(name: str):
    """A field whose default is the shared parameter definition's (adamatte.nodes.params)."""
    value = BY_NAME[name].default
    return field(default_factory=lambda: list(value)) if isinstance(value, (list, tuple)) else field(default=value)


@dataclass
class RenderRequest:
    """Everything a render needs; the fields and defaults are adamatte.nodes.params' (hosts fill it from knobs)."""

    input: str
    output: str
    trimap: list[str] = _default("trimap")
    band: int = _default("band")
    propagation: str = _default("propagation")
    frames: str = _default("frames")
    weights: str = _default("weights")
    device: str = _default("device")
    precision: str = _default("precision")
    respect_trimap: bool = _default("respect_trimap")
    refine: str = _default("refine")
    refine_prior: float = _default("refine_prior")
    max_megapixels: float = _default("max_megapixels")
    input_colorspace: str = _default("input_colorspace")
    layer: str = _default("layer")
    missing: str = _default("missing")
    start_frame: int = _default("start_frame")
    write: str = _default("write")
    alpha_channel: str = _default("alpha_channel")
    layout: str = _default("layout")
    compression: str = _default("compression")
    resume: bool = _default("resume")
    on_error: str = _default("on_error")
    progress: str = _default("progress")


@dataclass
class RenderSummary:
    written: list[int]
    skipped: list[int]
    warnings: list[str]
    seconds: float
    model_seconds: float


def output_variant(spec: str, suffix: str) -> str:
    """matte.####.exr -> matte_trimap.####.exr: where the extra outputs go."""
    directory, name = os.path.split(spec)
    stem, ext = os.path.splitext(name)
    head, sep, token = stem.rpartition(".")
    if sep and ("#" in token or "%" in token or "@" in token or token.isdigit()):
        return os.path.join(directory, f"{head}_{suffix}.{token}{ext}")
    return os.path.join(directory, f"{stem}_{suffix}{ext}")


def sidecar_path(output: FrameSink, frame: int) -> str:
    """Where the adapted trimap of a finished frame is kept for --resume and chunked renders."""
    directory, name = os.path.split(output.path(frame))
    stem = os.path.splitext(name)[0]
    if output.pattern is None:  # one file for all frames (a .mov, a still): number the sidecars
        stem = f"{stem}.{frame}"
    return os.path.join(directory, ".adamatte", stem + ".labels.png")


def read_labels(path: str) -> np.ndarray:
    """A sidecar (0/128/255) back to the adapted trimap's uint8 labels {0, 1, 2}."""
    return np.rint(read_matte(path) * 2).astype(np.uint8)


def _frame_rate(info) -> float:
    """The plate's framesPerSecond (a rational), else 24."""
    value = info.attribute("framesPerSecond")
    if isinstance(value, (tuple, list)) and len(value) == 2 and value[1]:
        return value[0] / value[1]
    try:
        return float(value)
    except (TypeError, ValueError):
        return 24.0


def _parse_outputs(text: str) -> list[str]:
    outputs = [o.strip() for o in text.split(",") if o.strip()]
    unknown = sorted(set(outputs) - set(OUTPUTS))
    if unknown:
        raise InputError(f"--write takes {', '.join(OUTPUTS)}; not {', '.join(unknown)}")
    return ["alpha"] + [o for o in OUTPUTS[1:] if o in outputs]


class Renderer:
    """One render: validated up front, then run frame by frame."""

    def __init__(self, request: RenderRequest, *, engine: MattingEngine | None = None):
        self.request = r = request
        self.source = FrameSource(r.input, missing=r.missing, layer=r.layer or None, colorspace=r.input_colorspace or None,
                                  start_frame=r.start_frame)
        self.write_frames = parse_frame_range(r.frames) if r.frames else list(self.source.frames)
        outside = sorted(set(self.write_frames) - set(self.source.frames))
        if outside:
            raise InputError(f"frames {format_frame_range(outside)} are outside the input ({format_frame_range(self.source.frames)})",
                             path=self.source.display_name)
        self.keyframes = Keyframes(r.trimap, self.write_frames[0], band=r.band)
        if not self.keyframes.frames:
            raise InputError("a render needs a trimap on at least one keyframe (--trimap PATH or PATH@FRAME)")
        start = self.keyframes.at_or_before(self.write_frames[0])
        if start is None:
            raise InputError(f"no keyframe trimap at or before frame {self.write_frames[0]} (keyframes: "
                             f"{format_frame_range(self.keyframes.frames)})", frame=self.write_frames[0])
        self.chain = [f for f in self.source.frames if start <= f <= self.write_frames[-1]]
        missing = sorted(set(self.chain) & set(self.source.missing))
        if missing and r.missing == "error":
            raise MissingFramesError(f"missing frames {format_frame_range(missing)} (use --missing hold|black to render anyway)",
                                     path=self.source.display_name)
        if r.on_error not in ("stop", "skip"):
            raise InputError(f"--on-error must be stop or skip, not {r.on_error!r}")
        if r.propagation not in ("flow", "dilate"):
            raise InputError(f"--propagation must be flow or dilate, not {r.propagation!r}")
        self.source.check_headers(self.chain, skip_unreadable=True)
        self.outputs = _parse_outputs(r.write)
        self.engine = engine or MattingEngine.from_weights(
            r.weights or None, device=r.device, precision=r.precision, respect_trimap=r.respect_trimap,
            max_megapixels=r.max_megapixels or None, refine=r.refine, refine_prior=r.refine_prior,
        )
        info = self.engine.weights_info
        metadata = {"adamatte:weights": os.path.basename(info.path) if info else "in-memory",
                    "adamatte:weights_hash": info.sha256 if info else ""}
        forbidden = self.source.input_paths() | {os.path.realpath(p) for p in self.keyframes.paths.values()}
        common = dict(compression=r.compression, metadata=metadata, forbidden_paths=forbidden, fps=_frame_rate(self.source.info))
        self.sinks = {"alpha": FrameSink(r.output, self.write_frames, alpha_channel=r.alpha_channel, layout=r.layout, **common)}
        extra_layouts = {"trimap": dict(alpha_channel="Y"), "fg": dict(layout="rgba"), "rgba": dict(layout="rgba-premult")}
        for name in self.outputs[1:]:
            self.sinks[name] = FrameSink(output_variant(r.output, name), self.write_frames, **extra_layouts[name], **common)

    def is_finished(self, frame: int) -> bool:
        """A frame counts as done when every output and its sidecar exist with a readable header."""
        paths = [sink.path(frame) for sink in self.sinks.values()] + [sidecar_path(self.sinks["alpha"], frame)]
        try:
            return all(os.path.isfile(p) and read_info(p) for p in paths)
        except InputError:
            return False

    def _write(self, frame: int, result: MatteResult, plate: Frame, trimap_source: str) -> None:
        meta = {"adamatte:trimap_source": trimap_source}
        for name, sink in self.sinks.items():
            values, source = (result.trimap if name == "trimap" else result.alpha), plate
            if name == "fg":  # the clean foreground takes the plate's place beside the alpha
                scale = max(float(plate.plate.max()), 1.0)  # the estimator works in 0-1; linear plates may exceed it
                fg, _ = estimate_foreground(np.clip(plate.plate, 0, None) / scale, result.alpha)
                source = dataclasses.replace(plate, plate=fg * scale)
            sink.write(frame, values, source, meta)
        # the sidecar last: its presence marks the frame complete
        write_image(sidecar_path(self.sinks["alpha"], frame), result.trimap, ["Y"], pixel_type="uint8")

    def _write_and_report(self, frame: int, result: MatteResult, plate: Frame, origin: str, progress: Progress,
                          started: float, total: int) -> None:
        self._write(frame, result, plate, origin)
        progress.frame(frame, time.perf_counter() - started, total)  # reported once it is on disk

    def _resume_point(self) -> tuple[list[int], np.ndarray | None, int | None]:
        """(frames still to run, labels of the last finished frame, that frame) for --resume.

        Besides this range's own finished frames, the frame just before the range counts, so a
        farm chunk whose predecessor has finished skips the warm-up from the keyframe.
        """
        done = None
        before = [f for f in self.chain if f < self.write_frames[0]]
        if before and self.is_finished(before[-1]):  # an earlier chunk finished the frame before ours: start warm
            done = before[-1]
        for frame in self.write_frames:
            if not self.is_finished(frame):
                break
            done = frame
        if done is None:
            return self.chain, None, None
        labels = read_labels(sidecar_path(self.sinks["alpha"], done))
        return [f for f in self.chain if f > done], labels, done

    def run(self, progress: Progress | None = None, cancel: threading.Event | None = None) -> RenderSummary:
        r = self.request
        progress = progress or Progress(r.progress)
        chain, prev_labels, prev_frame = self._resume_point() if r.resume else (self.chain, None, None)
        prev_image = self.source.read(prev_frame).rgb if prev_frame is not None else None
        write_set = set(self.write_frames)
        to_write = [f for f in chain if f in write_set]
        progress.start(len(to_write), first=self.write_frames[0], last=self.write_frames[-1], output=self.sinks["alpha"].spec,
                       resumed_after=prev_frame, warmup=len(chain) - len(to_write))
        guard, written, skipped, warnings = DriftGuard(), [], [], []
        started, model_seconds, source_key = time.perf_counter(), 0.0, None

        flow = r.propagation == "flow"
        last_read = {"image": prev_image}

        def read(frame: int) -> tuple[Frame, tuple | None] | AdamatteError:
            """Runs ahead on the reader thread: the plate, and its motion from the last good frame."""
            try:
                plate = self.source.read(frame)
            except AdamatteError as exc:  # decided below, at this frame's turn
                return exc
            motion = None
            if flow and frame not in self.keyframes and last_read["image"] is not None:
                motion = measure_motion(last_read["image"], plate.rgb)
            last_read["image"] = plate.rgb
            return plate, motion

        writer = WriteBehind()
        reader = ReadAhead(read, chain)
        try:
            for frame, item in reader:
                if cancel is not None and cancel.is_set():
                    raise RenderCancelled("render cancelled", frame=frame)
                if isinstance(item, AdamatteError):
                    if r.on_error == "stop" or frame in self.keyframes:
                        raise item
                    skipped.append(frame)
                    progress.warning(frame, f"skipped unreadable frame {frame}: {item}")
                    continue
                plate, motion = item
                t0 = time.perf_counter()
                is_key = frame in self.keyframes
                if is_key:
                    trimap, source_key = self.keyframes.load(frame, plate.rgb.shape[:2]), frame
                    origin = f"keyframe {frame}"
                else:
                    trimap = propagate_trimap(prev_labels, motion)
                    origin = f"propagated from keyframe {source_key}" if source_key is not None else f"propagated (resumed after {prev_frame})"
                result = self.engine.matte(plate.rgb, trimap)
                model_seconds += result.timings["total"]
                warning = guard.observe(frame, result.labels, is_key)
                if warning is not None:
                    warnings.append(str(warning))
                    progress.warning(frame, str(warning))
                if frame in write_set:
                    writer.submit(self._write_and_report, frame, result, plate, origin, progress, t0, len(to_write))
                    written.append(frame)
                prev_labels = result.labels
        except KeyboardInterrupt:
            if threading.current_thread() is threading.main_thread():  # a second Ctrl-C must not cut the clean-up short
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            raise
        finally:
            reader.close()
            writer.close()  # frames already handed over are finished, whole, before we leave
            for sink in self.sinks.values():
                sink.close()
            self.source.close()
        seconds = time.perf_counter() - started
        progress.finish(written=len(written), skipped=skipped, warnings=len(warnings))
        return RenderSummary(written, skipped, warnings, seconds, model_seconds)


def render(request: RenderRequest, *, engine: MattingEngine | None = None, progress: Progress | None = None,
           cancel: threading.Event | None = None) -> RenderSummary:
    """Validate `request`, then render it; raises AdamatteError (with an exit code) on bad input."""
    return Renderer(request, engine=engine).run(progress, cancel)
