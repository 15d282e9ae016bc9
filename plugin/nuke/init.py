# adamatte for Nuke: add this folder to NUKE_PATH. Puts the checkout's host nodes (nodes/) and
# core (for its parameter schema; pure Python, no torch in Nuke) on Nuke's Python path.
import os
import sys

_checkout = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for _folder in (os.path.join(_checkout, "nodes"), os.path.join(_checkout, "core")):
    if _folder not in sys.path:
        sys.path.insert(0, _folder)  # the nodes and the schema they were written against, from one checkout
