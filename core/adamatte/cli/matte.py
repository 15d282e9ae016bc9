"""`adamatte matte`: one image and its trimap to an alpha file."""

from __future__ import annotations

import argparse

from adamatte.cli.options import add_params
from adamatte.cli.threads import wait_passively


def register(commands) -> None:
    matte = commands.add_parser(
        "matte", help="matte one image with its trimap",
        description="Matte one image. The network adapts the trimap (correcting a wrong one) unless "
        "--respect-trimap is given. OUTPUT is a .png (16-bit) or .exr (half) alpha.",
    )
    matte.add_argument("image", metavar="IMAGE", help="the image (EXR, PNG, TIFF, JPEG, DPX)")
    matte.add_argument("--trimap", required=True, help="trimap image: black background, grey (128) unknown, white foreground")
    matte.add_argument("-o", "--output", required=True, help="alpha output, .png or .exr")
    matte.add_argument("--trimap-out", metavar="PATH", help="also write the adapted trimap (0/128/255) here")
    add_params(matte, ("engine",))
    matte.add_argument("--input-colorspace", default="", help="OCIO colour space of the image (default by file type)")
    matte.add_argument("--layer", default="", help="EXR layer holding R,G,B")
    matte.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    wait_passively()
    from adamatte.matting.engine import MattingEngine
    from adamatte.matting.still import matte_file

    engine = MattingEngine.from_params(args)
    result = matte_file(
        engine, args.image, args.trimap, args.output, trimap_out=args.trimap_out,
        colorspace=args.input_colorspace or None, layer=args.layer or None, allow_degenerate=args.allow_degenerate,
    )
    t = result.timings
    print(f"wrote {args.output} ({result.alpha.shape[1]}x{result.alpha.shape[0]}, {t['total']:.2f} s on {engine.device.type})")
    return 0
