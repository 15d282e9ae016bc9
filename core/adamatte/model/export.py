"""The network alone as one portable file: TorchScript (for Nuke's Inference node, via CatFileCreator)
or ONNX (onnxruntime, TensorRT).

Both take one tensor and give one, as those hosts want:

    input   1×4×H×W float32: R, G, B in the working space (sRGB-encoded, 0-1) and the trimap (0 / 0.5 / 1)
    output  1×1×H×W float32: alpha, 0 where the adapted trimap says background, 1 where foreground

Any H×W from 32 up: the file pads to the network's stride (reflecting, as the engine does) and crops
back inside. This is `adamatte matte --refine none`: per frame, with no propagation, keyframe
memory or refinement.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from adamatte.io.atomic import atomic_write
from adamatte.model.adamatting import AdaMatting, compose_alpha

STRIDE = 32


class _Network(nn.Module):
    """AdaMatting on a padded 1×4×H×W tensor -> composed alpha (traced: no control flow)."""

    def __init__(self, model: AdaMatting):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x[:, :3], x[:, 3:4])
        return compose_alpha(out.trimap_logits, out.alpha_refined)


class PortableMatting(nn.Module):
    """1×4×H×W (RGB + trimap) -> 1×1×H×W alpha, padded to the stride and cropped inside."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network
        self.stride = STRIDE  # an attribute, so that TorchScript sees an int

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2], x.shape[3]
        pad_h, pad_w = (self.stride - h % self.stride) % self.stride, (self.stride - w % self.stride) % self.stride
        if pad_h < h and pad_w < w:
            x = F.pad(x, [0, pad_w, 0, pad_h], mode="reflect")
        else:
            x = F.pad(x, [0, pad_w, 0, pad_h], mode="replicate")
        return self.network(x)[:, :, :h, :w]


def _example() -> torch.Tensor:
    x = torch.rand(1, 4, 64, 96)
    x[:, 3] = torch.randint(0, 3, (1, 64, 96)).float() / 2
    return x


def export_torchscript(model: AdaMatting, path: str) -> None:
    """Write `model` as a TorchScript file that `torch.jit.load` runs without adamatte installed."""
    model = model.float().eval()
    with torch.no_grad():
        network = torch.jit.trace(_Network(model), _example(), check_trace=False)  # shape-generic: convolutions only
    scripted = torch.jit.script(PortableMatting(network))  # scripted: the padding follows each input's size
    with atomic_write(path) as tmp:
        scripted.save(tmp)


def export_onnx(model: AdaMatting, path: str) -> None:
    """Write `model` as ONNX (opset of torch's dynamo exporter) with dynamic height and width.
    Needs the `onnx` and `onnxscript` packages (pip install adamatte[export])."""
    from torch.export import Dim

    portable = PortableMatting(_Network(model.float().eval())).eval()
    shapes = {"x": {2: Dim("height", min=STRIDE, max=16384), 3: Dim("width", min=STRIDE, max=16384)}}
    with atomic_write(path) as tmp, torch.no_grad():
        torch.onnx.export(portable, (_example(),), tmp, dynamo=True, dynamic_shapes=shapes, verbose=False,
                          input_names=["rgb_trimap"], output_names=["alpha"], external_data=False)
