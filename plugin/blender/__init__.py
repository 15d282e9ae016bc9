# The AdaMatte Blender extension. build.py assembles it: this file, the manifest, and
# adamatte.nodes' params.py, runner.py and blender_node.py (one copy of each, shared with the CLI).
from .blender_node import register, unregister  # noqa: F401
