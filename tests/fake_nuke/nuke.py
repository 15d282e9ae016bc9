"""A minimal stand-in for Foundry's `nuke` module, for tests: only the documented API the
AdaMatte node uses (createNode, nodes.X, knobs, Group begin/end and `with`, toNode, execute,
ProgressTask, root, executeInMainThread, message, delete, menu, thisNode).

Rendering is faked only where Nuke would render: `execute` on a Write node asks its input for
pixels through `render(frame)`, which the tests' fake nodes provide, and writes them with
OpenImageIO.
"""

from __future__ import annotations

import re

import numpy as np

# what the tests inspect
messages: list[str] = []
main_thread_calls: list[tuple] = []
progress_tasks: list["ProgressTask"] = []
menus: dict[str, "Menu"] = {}
cancel_after_progress: int | None = None  # a ProgressTask reports cancelled once progress reaches this


class Knob:
    def __init__(self, name: str, label: str = "", *args):
        self._name, self._label, self._value, self.tooltip = name, label or name, None, ""

    def name(self) -> str:
        return self._name

    def label(self) -> str:
        return self._label

    def value(self):
        return self._value

    def setValue(self, value) -> bool:
        self._value = value
        return True

    def setTooltip(self, text: str) -> None:
        self.tooltip = text


class String_Knob(Knob):
    def value(self):
        return "" if self._value is None else str(self._value)


class File_Knob(String_Knob):
    pass


class Tab_Knob(Knob):
    pass


class Int_Knob(Knob):
    def setValue(self, value) -> bool:
        self._value = int(value)
        return True


class Double_Knob(Knob):
    def setValue(self, value) -> bool:
        self._value = float(value)
        return True


class Boolean_Knob(Knob):
    def setValue(self, value) -> bool:
        self._value = bool(value)
        return True


class Enumeration_Knob(Knob):
    def __init__(self, name: str, label: str, values: list[str]):
        super().__init__(name, label)
        self._values = list(values)
        self._value = self._values[0] if self._values else None

    def values(self) -> list[str]:
        return list(self._values)

    def setValue(self, value) -> bool:
        if value not in self._values:
            raise ValueError(f"{value!r} is not one of {self._values}")
        self._value = value
        return True


class PyScript_Knob(Knob):
    def __init__(self, name: str, label: str = "", command: str = ""):
        super().__init__(name, label)
        self.command = command
        self.executed = 0

    def execute(self) -> None:
        self.executed += 1


_DEFAULT_KNOBS = {
    "Read": [File_Knob("file"), Int_Knob("first"), Int_Knob("last"), Int_Knob("origfirst"), Int_Knob("origlast"),
             Enumeration_Knob("on_error", "missing frames", ["error", "black", "checkerboard", "nearest frame"]),
             PyScript_Knob("reload", "reload")],
    "Write": [File_Knob("file"), String_Knob("file_type")],
    "Copy": [String_Knob("from0"), String_Knob("to0")],
}


class Node:
    def __init__(self, node_class: str, parent: "Node | None"):
        self._class, self._name, self._parent = node_class, node_class, parent
        self._knobs: dict[str, Knob] = {}
        self._inputs: dict[int, Node] = {}
        self._children: list[Node] = []
        for knob in _DEFAULT_KNOBS.get(node_class, []):
            fresh = type(knob)(knob.name(), knob.label(), *([knob.values()] if isinstance(knob, Enumeration_Knob) else []))
            self._knobs[knob.name()] = fresh
        self.frames = (1, 1)

    def Class(self) -> str:
        return self._class

    def name(self) -> str:
        return self._name

    def setName(self, name: str) -> None:
        self._name = name

    def addKnob(self, knob: Knob) -> None:
        self._knobs[knob.name()] = knob

    def knob(self, name: str) -> Knob | None:
        return self._knobs.get(name)

    def knobs(self) -> dict[str, Knob]:
        return dict(self._knobs)

    def __getitem__(self, name: str) -> Knob:
        return self._knobs[name]

    def input(self, i: int) -> "Node | None":
        return self._inputs.get(i)

    def setInput(self, i: int, node: "Node | None") -> bool:
        self._inputs[i] = node
        return True

    def firstFrame(self) -> int:
        if self._class == "Read":
            return int(self["first"].value())
        return self.frames[0]

    def lastFrame(self) -> int:
        if self._class == "Read":
            return int(self["last"].value())
        return self.frames[1]

    # Group
    def begin(self) -> "Node":
        _context.append(self)
        return self

    def end(self) -> None:
        _context.pop()

    def __enter__(self) -> "Node":
        return self.begin()

    def __exit__(self, *exc) -> None:
        self.end()

    def nodes(self) -> list["Node"]:
        return list(self._children)


class _Root(Node):
    def __init__(self):
        super().__init__("Root", None)
        for name, value in (("first_frame", 1), ("last_frame", 100)):
            knob = Int_Knob(name)
            knob.setValue(value)
            self.addKnob(knob)


_root = _Root()
_context: list[Node] = [_root]


def root() -> Node:
    return _root


def createNode(node_class: str, knobs: str = "", inpanel: bool = True) -> Node:
    parent = _context[-1]
    node = Node(node_class, parent)
    parent._children.append(node)
    return node


class _Nodes:
    def __getattr__(self, node_class: str):
        def make(**knobs):
            node = createNode(node_class, inpanel=False)
            for name, value in knobs.items():
                if node.knob(name) is None:
                    node.addKnob(String_Knob(name))
                node[name].setValue(value)
            return node
        return make


nodes = _Nodes()


def toNode(name: str) -> Node | None:
    return next((n for n in _context[-1]._children if n.name() == name), None)


def delete(node: Node) -> None:
    if node._parent is not None and node in node._parent._children:
        node._parent._children.remove(node)


def execute(node: Node, first: int, last: int, incr: int = 1) -> None:
    """Render a Write node: its input must offer render(frame) -> H×W×C pixels (test nodes do)."""
    import OpenImageIO as oiio

    pattern = node["file"].value()
    source = node.input(0)
    for frame in range(first, last + 1, incr):
        path = re.sub(r"#+", lambda m: f"{frame:0{len(m.group(0))}d}", pattern)
        pixels = np.ascontiguousarray(source.render(frame), np.float32)
        spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], pixels.shape[2], "half")
        out = oiio.ImageOutput.create(path)
        out.open(path, spec)
        out.write_image(pixels)
        out.close()


class ProgressTask:
    def __init__(self, message: str):
        self.message, self.progress, self.history = message, 0, []
        progress_tasks.append(self)

    def setProgress(self, value: int) -> None:
        self.progress = value
        self.history.append(value)

    def setMessage(self, message: str) -> None:
        self.message = message

    def isCancelled(self) -> bool:
        return cancel_after_progress is not None and self.progress >= cancel_after_progress


def executeInMainThread(call, args=(), kwargs=None):
    main_thread_calls.append((call, args))
    return call(*args, **(kwargs or {}))


def message(text: str) -> None:
    messages.append(text)


class Menu:
    def __init__(self, name: str):
        self.name, self.items, self.submenus = name, [], {}

    def addMenu(self, name: str, icon: str = "") -> "Menu":
        return self.submenus.setdefault(name, Menu(name))

    def addCommand(self, name: str, command, shortcut: str = "", icon: str = "") -> None:
        self.items.append((name, command))


def menu(name: str) -> Menu:
    return menus.setdefault(name, Menu(name))


_this: list[Node] = []


def thisNode() -> Node:
    return _this[-1]
