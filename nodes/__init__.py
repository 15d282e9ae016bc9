"""Host-neutral node description shared by the CLI, the Nuke node and the Blender node."""
