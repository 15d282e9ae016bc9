"""Assemble and build the Blender extension zip with Blender's own `blender_ext.py`.

    python plugin/blender/build.py --blender-python /path/to/python-with-bpy [--output-dir dist]

The extension's modules are copied at build time, from nodes/adamatte_nodes (runner, blender_node)
and from the core (params.py, the parameter schema), so each stays a single copy shared with the
CLI and the Nuke node.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.join(HERE, "..", "..")
MODULES = (os.path.join("nodes", "adamatte_nodes", "runner.py"), os.path.join("nodes", "adamatte_nodes", "blender_node.py"),
           os.path.join("core", "adamatte", "params.py"))


def stage(folder: str) -> str:
    for name in ("__init__.py", "blender_manifest.toml"):
        shutil.copy(os.path.join(HERE, name), folder)
    for path in MODULES:
        shutil.copy(os.path.join(CHECKOUT, path), folder)
    return folder


def blender_ext_tool(blender_python: str) -> str:
    """blender_ext.py inside the bpy installation of `blender_python`."""
    scripts = subprocess.run([blender_python, "-c", "import bpy; print(bpy.utils.system_resource('SCRIPTS'))"],
                             check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    tool = os.path.join(scripts, "addons_core", "bl_pkg", "cli", "blender_ext.py")
    if not os.path.isfile(tool):
        raise SystemExit(f"no blender_ext.py in {scripts}")
    return tool


def build(blender_python: str, output_dir: str) -> str:
    os.makedirs(output_dir, exist_ok=True)
    tool = blender_ext_tool(blender_python)
    with tempfile.TemporaryDirectory() as folder:
        stage(folder)
        subprocess.run([blender_python, tool, "validate", folder], check=True)
        subprocess.run([blender_python, tool, "build", "--source-dir", folder, "--output-dir", output_dir], check=True)
    return glob.glob(os.path.join(output_dir, "adamatte-*.zip"))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blender-python", required=True, help="a Python that can import bpy (Blender's, or one with the bpy wheel)")
    parser.add_argument("--output-dir", default="dist")
    args = parser.parse_args()
    print(build(args.blender_python, args.output_dir))


if __name__ == "__main__":
    main()
