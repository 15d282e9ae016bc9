import ast
import importlib
import pkgutil
import subprocess
import sys
import zipfile
from pathlib import Path

import adamatte

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_installs_only_the_adamatte_package(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(tmp_path.glob("adamatte-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == {"adamatte"}
    assert "adamatte/io/source.py" in names and "adamatte/params.py" in names and "adamatte/video/render.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "adamatte = adamatte.cli:run" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_every_module_lives_where_its_import_path_says():
    """adamatte.video.render is core/adamatte/video/render.py: no package-dir mapping, no import hook."""
    assert Path(adamatte.__file__) == ROOT / "core" / "adamatte" / "__init__.py"
    for module in pkgutil.walk_packages(adamatte.__path__, "adamatte."):
        spec = importlib.util.find_spec(module.name)
        expected = ROOT / "core" / Path(*module.name.split("."))
        assert Path(spec.origin) in (expected.with_suffix(".py"), expected / "__init__.py"), module.name
    assert not any("__editable__" in name and "finder" in name for name in sys.modules), "an editable import hook is active"


def test_the_core_never_imports_host_code():
    hosts = {"nuke", "bpy", "adamatte_nodes", "nodes", "plugin"}
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in hosts, f"{path.relative_to(ROOT)} imports {name}"


def test_farm_export_needs_no_torch(tmp_path):
    """A submit machine without torch: `import torch` fails in this interpreter, and the export still works."""
    plate = tmp_path / "plate"
    plate.mkdir()
    import numpy as np

    from adamatte.io.image import write_image

    for frame in (1001, 1002, 1003):
        write_image(str(plate / f"p.{frame}.exr"), np.full((8, 8, 3), 0.5, np.float32), ["R", "G", "B"])
    write_image(str(tmp_path / "key.png"), np.full((8, 8, 1), 0.5, np.float32), ["Y"], pixel_type="uint8")
    code = ("import sys; sys.modules['torch'] = None\n"  # makes every `import torch` raise ImportError
            "from adamatte.cli import main\n"
            f"code = main(['farm', 'export', '-o', {str(tmp_path / 'job')!r}, '--chunk-size', '2', '--', "
            f"{str(plate / 'p.####.exr')!r}, '-o', {str(tmp_path / 'out' / 'm.####.exr')!r}, '--trimap', {str(tmp_path / 'key.png')!r}])\n"
            "assert 'torch' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]\n"
            "sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "job" / "template.json").is_file()
