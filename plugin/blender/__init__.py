# The AdaMatte Blender extension. build.py assembles it: this file, the manifest, and
# nodes/adamatte_nodes' runner.py and blender_node.py, and the core's params.py (one copy of each).
from .blender_node import register, unregister  # noqa: F401
