"""The AdaMatte operator and panel for Blender's compositor (Blender 4.2+; 4.x and 5.x trees).

The operator takes the active Image node (an image sequence or a movie) and a keyframe trimap
image, runs `adamatte render` out of process (Blender's Python has no torch), shows progress
in the status bar (Esc cancels), then adds an Image node with the matte EXR sequence and a
Set Alpha node wired to the source. The mattes are written by adamatte with OpenImageIO, never
with Image.save(), which would apply Blender's view transform and alpha rules.
"""

from __future__ import annotations

import os
import re

import bpy

try:
    from adamatte.params import PARAMS, Param
except ImportError:  # inside the Blender extension, which carries params.py beside this module (plugin/blender/build.py)
    from .params import PARAMS, Param  # type: ignore[no-redef]
from .runner import RenderJob, RunnerError, farm_export_command, find_python, render_command

HOST_ONLY = {"progress", "frames", "trimap"}


def _property(param: Param):
    common = {"name": param.title, "description": param.help}
    if param.kind == "bool":
        return bpy.props.BoolProperty(default=param.default, **common)
    if param.kind == "int":
        return bpy.props.IntProperty(default=param.default, min=int(param.minimum), max=int(param.maximum), **common)
    if param.kind == "float":
        return bpy.props.FloatProperty(default=param.default, min=param.minimum, max=param.maximum, **common)
    if param.kind == "choice":
        return bpy.props.EnumProperty(items=[(c, c, "") for c in param.choices], default=param.default, **common)
    subtype = "FILE_PATH" if param.kind == "path" else "NONE"
    return bpy.props.StringProperty(default=param.default, subtype=subtype, **common)


def _settings_annotations() -> dict:
    annotations = {p.name: _property(p) for p in PARAMS if p.name not in HOST_ONLY}
    annotations["output"] = bpy.props.StringProperty(name="Matte output", subtype="FILE_PATH", default="//adamatte/matte.####.exr",
                                                     description="Where the matte EXRs go (#### is the frame number)")
    annotations["trimap_image"] = bpy.props.PointerProperty(name="Keyframe trimap", type=bpy.types.Image,
                                                            description="Trimap (or mask) for the keyframe")
    annotations["keyframe"] = bpy.props.IntProperty(name="Keyframe", default=0,
                                                    description="Plate frame number the trimap belongs to (0: the first frame)")
    return annotations


AdamatteSettings = type("AdamatteSettings", (bpy.types.PropertyGroup,), {"__annotations__": _settings_annotations()})


class AdamattePreferences(bpy.types.AddonPreferences):
    bl_idname = __package__
    python: bpy.props.StringProperty(name="adamatte Python", subtype="FILE_PATH",
                                     description="A Python where adamatte is installed (default: $ADAMATTE_PYTHON)")

    def draw(self, context):
        self.layout.prop(self, "python")


def compositor_tree(scene):
    """The scene's compositor node tree: `node_tree` in Blender 4.x, `compositing_node_group` in 5.x."""
    if hasattr(scene, "compositing_node_group"):
        if scene.compositing_node_group is None:
            scene.compositing_node_group = bpy.data.node_groups.new("Compositor", "CompositorNodeTree")
        return scene.compositing_node_group
    scene.use_nodes = True
    return scene.node_tree


def _frame_of(path: str) -> int:
    match = re.search(r"(\d+)(\D*)$", os.path.splitext(os.path.basename(path))[0] + "x")
    if not match:
        raise RunnerError(f"cannot tell the frame number of {path}")
    return int(match.group(1))


def _preferences_python(context) -> str:
    addon = context.preferences.addons.get(__package__)
    return addon.preferences.python if addon else ""


def build_job(context) -> tuple[list[str], dict]:
    """The render argv for the active Image node, and what finishing needs to know."""
    scene = context.scene
    settings = scene.adamatte
    tree = compositor_tree(scene)
    source = tree.nodes.active
    if source is None or source.bl_idname != "CompositorNodeImage" or source.image is None:
        raise RunnerError("make the plate's Image node (a sequence or movie) the active node")
    if source.image.source not in {"SEQUENCE", "MOVIE"}:
        raise RunnerError("the active Image node must hold an image sequence or a movie")
    if settings.trimap_image is None:
        raise RunnerError("choose a keyframe trimap image")
    plate = bpy.path.abspath(source.image.filepath)
    first = _frame_of(plate) if source.image.source == "SEQUENCE" else int(settings.start_frame)
    keyframe = settings.keyframe or first
    trimap = f"{bpy.path.abspath(settings.trimap_image.filepath)}@{keyframe}"
    output = bpy.path.abspath(settings.output)
    values = {p.name: getattr(settings, p.name) for p in PARAMS if p.name not in HOST_ONLY}
    values["trimap"] = [trimap]
    argv = render_command(find_python(_preferences_python(context)), plate, output, values)
    return argv, {"source": source.name, "output": output, "first": first}


def add_matte_nodes(scene, info: dict, frames: int):
    """An Image node with the matte sequence, and a Set Alpha node wired to the source."""
    tree = compositor_tree(scene)
    source = tree.nodes[info["source"]]
    first_file = re.sub(r"#+", lambda m: f"{info['first']:0{len(m.group(0))}d}", info["output"])
    matte_image = bpy.data.images.load(first_file, check_existing=False)
    matte_image.source = "SEQUENCE"
    matte_image.colorspace_settings.name = "Non-Color"
    matte = tree.nodes.new("CompositorNodeImage")
    matte.name = matte.label = "AdaMatte matte"
    matte.image = matte_image
    matte.frame_duration = frames
    matte.frame_start = source.frame_start
    matte.frame_offset = source.frame_offset
    matte.location = (source.location.x, source.location.y - 320)
    set_alpha = tree.nodes.new("CompositorNodeSetAlpha")
    set_alpha.name = set_alpha.label = "AdaMatte set alpha"
    if hasattr(set_alpha, "mode"):
        set_alpha.mode = "REPLACE_ALPHA"
    set_alpha.location = (source.location.x + 300, source.location.y - 160)
    tree.links.new(source.outputs["Image"], set_alpha.inputs["Image"])
    tree.links.new(matte.outputs["Alpha"], set_alpha.inputs["Alpha"])
    return matte, set_alpha


class ADAMATTE_OT_render_matte(bpy.types.Operator):
    """Matte the active Image node's sequence with adamatte, out of process"""

    bl_idname = "adamatte.render_matte"
    bl_label = "Render Matte"

    def _start(self, context) -> None:
        argv, self._info = build_job(context)
        self._job = RenderJob(argv).start()

    def _finish(self, context) -> set[str]:
        code = self._job.returncode
        context.workspace.status_text_set(None) if context.workspace else None
        if code == 0:
            done, total = self._job.progress()
            add_matte_nodes(context.scene, self._info, total)
            self.report({"INFO"}, f"AdaMatte: {total} frames matted")
            for message in self._job.warnings()[:5]:  # drift: frames to look at, maybe to give a keyframe
                self.report({"WARNING"}, f"AdaMatte: {message}")
            return {"FINISHED"}
        if code == 130:
            self.report({"WARNING"}, "AdaMatte: cancelled")
        else:
            self.report({"ERROR"}, f"AdaMatte failed: {self._job.error_message()}")
        return {"CANCELLED"}

    def execute(self, context):  # scripts and background mode: block until done
        try:
            self._start(context)
        except RunnerError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self._job.wait()
        return self._finish(context)

    def invoke(self, context, event):
        try:
            self._start(context)
        except RunnerError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self._timer = context.window_manager.event_timer_add(0.25, window=context.window)
        context.window_manager.progress_begin(0, 100)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC":
            self._job.cancel()
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        done, total = self._job.progress()
        context.window_manager.progress_update(int(100 * done / total) if total else 0)
        if context.workspace:
            context.workspace.status_text_set(f"AdaMatte: frame {done} of {total} (Esc to cancel)")
        if self._job.running:
            return {"RUNNING_MODAL"}
        context.window_manager.event_timer_remove(self._timer)
        context.window_manager.progress_end()
        return self._finish(context)


class ADAMATTE_OT_submit_farm(bpy.types.Operator):
    """Write an Open Job Description bundle (Deadline Cloud) for this render, next to the matte output"""

    bl_idname = "adamatte.submit_farm"
    bl_label = "Submit to Farm"

    def execute(self, context):
        try:
            argv, info = build_job(context)
            folder = os.path.join(os.path.dirname(info["output"]), "farm_job")
            python, render_argv = argv[: argv.index("render")], argv[argv.index("render"):]
            job = RenderJob(farm_export_command(python, folder, render_argv)).start()
        except RunnerError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        if job.wait() != 0:
            self.report({"ERROR"}, f"AdaMatte farm export failed: {job.error_message()}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"AdaMatte: farm job written to {folder}")
        return {"FINISHED"}


class ADAMATTE_PT_panel(bpy.types.Panel):
    bl_label = "AdaMatte"
    bl_space_type = "NODE_EDITOR"
    bl_region_type = "UI"
    bl_category = "AdaMatte"

    @classmethod
    def poll(cls, context):
        return context.space_data is not None and context.space_data.tree_type == "CompositorNodeTree"

    def draw(self, context):
        settings = context.scene.adamatte
        layout = self.layout
        for name in ("output", "trimap_image", "keyframe"):
            layout.prop(settings, name)
        for param in PARAMS:
            if param.name not in HOST_ONLY:
                layout.prop(settings, param.name)
        layout.operator(ADAMATTE_OT_render_matte.bl_idname, icon="NODE_COMPOSITING")
        layout.operator(ADAMATTE_OT_submit_farm.bl_idname, icon="NETWORK_DRIVE")


CLASSES = (AdamatteSettings, AdamattePreferences, ADAMATTE_OT_render_matte, ADAMATTE_OT_submit_farm, ADAMATTE_PT_panel)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.adamatte = bpy.props.PointerProperty(type=AdamatteSettings)


def unregister() -> None:
    del bpy.types.Scene.adamatte
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
