"""Runs inside a Python with the bpy wheel (and nothing of adamatte's): installs the built
extension, builds a compositor tree over an EXR plate, runs the AdaMatte operator, renders the
compositor to EXR, and prints a JSON summary for tests/test_blender.py to check."""

import argparse
import json
import os
import sys

import bpy

parser = argparse.ArgumentParser()
parser.add_argument("--extension", required=True)
parser.add_argument("--plate", required=True, help="first file of the plate sequence")
parser.add_argument("--frames", type=int, required=True)
parser.add_argument("--trimap", required=True)
parser.add_argument("--weights", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args(sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:])

result = bpy.ops.extensions.package_install_files(filepath=args.extension, repo="user_default", enable_on_install=True)
assert result == {"FINISHED"}, result
assert hasattr(bpy.types.Scene, "adamatte"), "the extension registered its settings"

scene = bpy.context.scene
if hasattr(scene, "compositing_node_group"):  # Blender 5.x: the compositor is a node group
    tree = bpy.data.node_groups.new("Compositor", "CompositorNodeTree")
    scene.compositing_node_group = tree
else:  # Blender 4.x
    scene.use_nodes = True
    tree = scene.node_tree
tree.nodes.clear()
plate_image = bpy.data.images.load(args.plate)
plate_image.source = "SEQUENCE"
source = tree.nodes.new("CompositorNodeImage")
source.image = plate_image
source.frame_duration = args.frames
source.frame_start = 1
source.frame_offset = 1000  # scene frame 1 shows file 1001
tree.nodes.active = source
scene.frame_start, scene.frame_end = 1, args.frames
scene.render.resolution_x, scene.render.resolution_y = plate_image.size[0], plate_image.size[1]
scene.render.resolution_percentage = 100

settings = scene.adamatte
settings.trimap_image = bpy.data.images.load(args.trimap)
settings.weights = args.weights
settings.device = "cpu"
settings.input_colorspace = "srgb_tx"
settings.refine = "none"  # random weights are unsure everywhere: refining would solve whole frames
settings.output = os.path.join(args.out, "matte.####.exr")
assert bpy.ops.adamatte.render_matte() == {"FINISHED"}
assert bpy.ops.adamatte.submit_farm() == {"FINISHED"}

matte = tree.nodes["AdaMatte matte"]
set_alpha = tree.nodes["AdaMatte set alpha"]
if hasattr(scene, "compositing_node_group"):
    tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
    composite = tree.nodes.new("NodeGroupOutput")
else:
    composite = tree.nodes.new("CompositorNodeComposite")
tree.links.new(set_alpha.outputs["Image"], composite.inputs["Image"])
camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
scene.collection.objects.link(camera)
scene.camera = camera
scene.render.engine = "BLENDER_WORKBENCH"
scene.render.image_settings.file_format = "OPEN_EXR"
scene.render.image_settings.color_mode = "RGBA"
scene.render.film_transparent = True
scene.frame_set(3)
scene.render.filepath = os.path.join(args.out, "comp_1003.exr")
bpy.ops.render.render(write_still=True)
print("SUMMARY " + json.dumps({
    "matte_frames": matte.frame_duration,
    "links": sorted(f"{l.from_node.name}:{l.from_socket.name}->{l.to_node.name}:{l.to_socket.name}" for l in tree.links),
    "comp": scene.render.filepath,
    "blender": bpy.app.version_string,
}))
