"""The shared render parameters (adamatte.params) as argparse options, for every command that takes them."""

from __future__ import annotations

import argparse

from adamatte.params import PARAMS


def add_params(parser: argparse.ArgumentParser, groups: tuple[str, ...]) -> None:
    """Add the shared render parameters of `groups` as options; their values are checked by params.check."""
    for group in groups:
        section = parser.add_argument_group(f"{group} options")
        for p in (p for p in PARAMS if p.group == group):
            text = p.help + (f" (default: {p.default})" if p.default not in ("", None, ()) else "")
            kwargs: dict = {"help": text.replace("%", "%%"), "default": p.default}  # argparse formats help with %
            if p.kind == "bool":
                section.add_argument(p.flag, action=argparse.BooleanOptionalAction, **kwargs)
                continue
            if p.kind == "paths":
                kwargs["default"] = []
                section.add_argument(p.flag, dest=p.name, action="append", metavar="PATH", **kwargs)
                continue
            if p.kind == "choice":
                kwargs["choices"] = p.choices
            elif p.kind == "int":
                kwargs["type"] = int
            elif p.kind == "float":
                kwargs["type"] = float
            section.add_argument(p.flag, dest=p.name, metavar=p.name.upper() if p.kind != "choice" else None, **kwargs)
