# adamatte for Nuke: add this folder to NUKE_PATH. Makes `adamatte.nodes` importable in Nuke's
# Python, from an installed adamatte or straight from a checkout of the repository.
import importlib.util
import os
import sys


def _register(name, folder):
    spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


try:
    import adamatte.nodes.nuke_node  # noqa: F401  (an installed adamatte)
except ImportError:
    _checkout = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    _register("adamatte", os.path.join(_checkout, "core"))  # only the version: no torch in Nuke
    _register("adamatte.nodes", os.path.join(_checkout, "nodes"))
