"""The host nodes: thin front-ends in Nuke (nuke_node) and Blender (blender_node) that run
adamatte out of process (runner). They depend on the core's parameter schema (adamatte.params)
and nothing else of it; the core never imports them. Not pip-installed: Nuke loads them from
plugin/nuke (NUKE_PATH), Blender from the extension that plugin/blender/build.py assembles."""
