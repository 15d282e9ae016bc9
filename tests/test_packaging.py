import subprocess
import sys
import zipfile
from pathlib import Path

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
    assert "adamatte/io/source.py" in names and "adamatte/nodes/params.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "adamatte = adamatte.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
