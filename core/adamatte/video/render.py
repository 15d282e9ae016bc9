"""`adamatte render`: the loop that turns a render plan into a matte sequence.

    request = RenderRequest(input="plate.####.exr", output="matte.####.exr", trimap=["key.png"])
    render(request)

The request is checked and planned in video.plan; here each frame is read (ahead), given its
input trimap (video.propagate.input_trimap), matted, watched for drift and written (behind).
Frame t+1's input trimap is frame t's *adapted* trimap, with what its matte made solid
(video.propagate.carried_labels), carried along optical flow; a user trimap on a keyframe replaces it
and resets drift. Every finished frame leaves those labels in a sidecar (video.state), so --resume
and chunked farm renders (which warm up from the nearest keyframe) reproduce one sequential run exactly.
"""

from __future__ import annotations

import dataclasses
import functools
import signal
import threading
import time
from dataclasses import dataclass

import numpy as np

from adamatte.errors import AdamatteError, RenderCancelled
from adamatte.io.pipeline import ReadAhead, WriteBehind
from adamatte.io.source import Frame
from adamatte.matting.engine import MatteResult, MattingEngine
from adamatte.matting.foreground import estimate_foreground
from adamatte.matting.trimap import FOREGROUND, refuse_degenerate
from adamatte.model.weights import weights_metadata
from adamatte.video.drift import DriftGuard
from adamatte.video.memory import keyframe_memory, pixel_features, subject_centre
from adamatte.video.plan import RenderPlan, RenderRequest
from adamatte.video.plate import BackgroundPlate
from adamatte.video.progress import Progress
from adamatte.video.propagate import carried_labels, input_trimap, measure_motion
from adamatte.video.lock import FrameLocks
from adamatte.video.state import Fingerprints, carried_alpha, resume_point, write_state
from adamatte.video.temporal import temporal_guide


@dataclass
class RenderSummary:
    written: list[int]
    skipped: list[int]
    warnings: list[str]
    seconds: float  # the whole render
    model_seconds: float  # in the engine: the network and the refinement


class Renderer:
    """One render: validated up front, then run frame by frame."""

    def __init__(self, request: RenderRequest, *, engine: MattingEngine | None = None):
        self.request = request
        self.plan = RenderPlan.from_request(request)
        self.source, self.write_frames, self.keyframes, self.chain = (self.plan.source, self.plan.write_frames,
                                                                      self.plan.keyframes, self.plan.chain)
        self.engine = engine or MattingEngine.from_params(request)
        metadata = weights_metadata(self.engine.weights_info)
        self.sinks = self.plan.sinks(metadata)
        self.fingerprints = Fingerprints(request, metadata.get("adamatte:weights_hash", ""), self.keyframes.paths)

    def _clean_foreground(self, result: MatteResult, plate: Frame) -> Frame | None:
        """The plate with its colours replaced by the clean foreground, when --write asks for fg."""
        if "fg" not in self.sinks:
            return None
        scale = max(float(plate.plate.max()), 1.0)  # the estimator works in 0-1; linear plates may exceed it
        fg, _ = estimate_foreground(np.clip(plate.plate, 0, None) / scale, result.alpha)
        return dataclasses.replace(plate, plate=fg * scale)

    def _write(self, frame: int, result: MatteResult, labels: np.ndarray, plate: Frame, fg: Frame | None, origin: str,
               background: np.ndarray | None, progress: Progress, started: float, total: int) -> None:
        """On the writer thread: files only, no compute."""
        meta = {"adamatte:trimap_source": origin}
        for name, sink in self.sinks.items():
            values = result.trimap if name == "trimap" else result.alpha
            sink.write(frame, values, fg if name == "fg" else plate, meta)
        write_state(self.sinks, frame, labels, result.alpha, self.fingerprints, background)  # last: the sidecars mark it complete
        progress.frame(frame, time.perf_counter() - started, total)  # reported once it is on disk

    def _check_keyframe(self, frame: int, trimap: np.ndarray, progress: Progress, warnings: list[str]) -> None:
        """A degenerate user trimap stops the render (wholly one class) or warns, naming its file and frame. An
        all-background keyframe after the first only warns: it says the subject is gone."""
        path = self.keyframes.paths[frame]
        subject_left = frame != self.keyframes.frames[0] and not (trimap != 0.0).any()  # an empty later keyframe is a real request
        reason = refuse_degenerate(trimap, allow=self.request.allow_degenerate or subject_left, path=path, frame=frame)
        if reason is None:
            return
        if subject_left:
            reason += " (the subject has left the shot?)"
        message = f"{path}, frame {frame}: {reason}"
        warnings.append(message)
        progress.warning(frame, message)

    def run(self, progress: Progress | None = None, cancel: threading.Event | None = None) -> RenderSummary:
        r = self.request
        progress = progress or Progress(r.progress)
        chain, prev_labels, prev_alpha, background, prev_frame, stale = (
            resume_point(self.sinks, self.chain, self.write_frames, self.fingerprints) if r.resume
            else (self.chain, None, None, BackgroundPlate(), None, {}))
        write_set = set(self.write_frames)
        to_write = [f for f in chain if f in write_set]
        locks = FrameLocks(self.sinks["alpha"], to_write)
        locks.acquire()  # a second render into these frames is refused before any work
        reader, writer = None, None
        try:
            # every keyframe before the first frame to run, as a sequential render would remember them
            memory = None
            if r.keyframe_memory and chain:
                memory = keyframe_memory(self.keyframes, lambda f: self.source.read(f).rgb, chain[0],
                                         lambda _, image, trimap: carried_alpha(self.engine.matte(image, trimap).alpha))
            prev_image = self.source.read(prev_frame).rgb if prev_frame is not None else None
            progress.start(len(to_write), first=self.write_frames[0], last=self.write_frames[-1], output=self.sinks["alpha"].spec,
                           resumed_after=prev_frame, warmup=len(chain) - len(to_write))
            guard, written, skipped, warnings = DriftGuard(), [], [], []
            if stale:
                changed = sorted({name for names in stale.values() for name in names})
                message = (f"--resume: {len(stale)} finished frames were made with other settings ({', '.join(changed)}); "
                           "rendering them again")
                warnings.append(message)
                progress.warning(None, message)
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
                features = None
                if memory is not None and not is_key:  # positions relative to where the subject has moved
                    features = pixel_features(plate.rgb, subject_centre(prev_alpha, motion.forward if motion else None))
                trimap = input_trimap(frame, plate.rgb, self.keyframes, prev_labels, motion, memory, features, solved=r.solved)
                guided, seen = None, None
                if is_key:
                    self._check_keyframe(frame, trimap, progress, warnings)
                    source_key, origin = frame, f"keyframe {frame}"
                else:
                    origin = f"propagated from keyframe {source_key}" if source_key is not None else f"propagated (resumed after {prev_frame})"
                    shows = None
                    if memory is not None:
                        background.follow(motion)
                        if background:  # asked by the veto about the pixels it may clear; the frame's Lab is in its features
                            shows = functools.partial(background.shows, features.lab)
                    guided = temporal_guide(prev_alpha, motion, memory, features, trimap, weight=r.temporal, shows_plate=shows)
                    if guided is not None:
                        guided, seen = guided
                result = self.engine.matte(plate.rgb, trimap, guided, drawn=is_key)
                model_seconds += result.timings["total"]
                if is_key and memory is not None:
                    memory.add(frame, plate.rgb, trimap, carried_alpha(result.alpha))
                held_off = None  # what the network called foreground that the veto held off (band pixels it cleared are no news)
                if result.vetoed is not None:  # the network's class looked up only where the veto acted
                    held_off = np.zeros_like(result.vetoed)
                    held_off[result.vetoed] = result.probs[result.vetoed].argmax(axis=1) == FOREGROUND
                warning = guard.observe(frame, result.labels, is_key, seen=seen, vetoed=held_off, alpha=result.alpha)
                if warning is not None:
                    warnings.append(str(warning))
                    progress.warning(frame, str(warning))
                prev_alpha = carried_alpha(result.alpha)
                prev_labels = carried_labels(result.labels, prev_alpha)
                if memory is not None:  # a keyframe starts a fresh plate: a chunk warming up from it has the same one
                    background = BackgroundPlate() if is_key else background
                    background.observe(plate.rgb, prev_alpha)
                if frame in write_set:
                    writer.submit(self._write, frame, result, prev_labels, plate, self._clean_foreground(result, plate), origin,
                                  background.to_image() if background else None, progress, t0, len(to_write))
                    written.append(frame)
        except KeyboardInterrupt:
            if threading.current_thread() is threading.main_thread():  # a second Ctrl-C must not cut the clean-up short
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            raise
        finally:
            if reader is not None:
                reader.close()
            if writer is not None:
                writer.close()  # frames already handed over are finished, whole, before we leave
            for sink in self.sinks.values():
                sink.close()
            self.source.close()
            locks.release()
        seconds = time.perf_counter() - started
        progress.finish(written=len(written), skipped=skipped, warnings=len(warnings))
        return RenderSummary(written, skipped, warnings, seconds, model_seconds)


def render(request: RenderRequest, *, engine: MattingEngine | None = None, progress: Progress | None = None,
           cancel: threading.Event | None = None) -> RenderSummary:
    """Validate `request`, then render it; raises AdamatteError (with an exit code) on bad input."""
    return Renderer(request, engine=engine).run(progress, cancel)
