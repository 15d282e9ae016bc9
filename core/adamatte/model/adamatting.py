"""AdaMatting (Cai et al., "Disentangled Image Matting", ICCV 2019).

One shared ResNet-50 encoder over RGB + trimap feeds two decoders: the T-decoder adapts the
trimap (3 classes: background, unknown, foreground) and the A-decoder estimates alpha. A
recurrent propagation unit then refines alpha from the image, the adapted trimap and its
own previous estimate. See docs/architecture.md for the choices the paper leaves open.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from adamatte.matting.trimap import BACKGROUND, FOREGROUND
from adamatte.model.blocks import Bottleneck, ConvLSTMCell, ResBlock, UpStage, conv_bn_relu
from adamatte.model.config import ModelConfig

OUTPUT_STRIDE = 32
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class AdaOutput:
    trimap_logits: torch.Tensor  # B×3×H×W, classes BACKGROUND, UNKNOWN, FOREGROUND
    alpha_coarse: torch.Tensor  # B×1×H×W, the A-decoder's estimate
    alpha_refined: torch.Tensor  # B×1×H×W, after the propagation unit

    @property
    def alpha(self) -> torch.Tensor:
        """B×1×H×W final alpha: refined, with the adapted trimap's known regions set to 0/1.

        Computed on demand: the engine composes on the CPU after blending tiles, and a
        full-resolution argmax costs a tenth of the lite network's time.
        """
        return compose_alpha(self.trimap_logits, self.alpha_refined)


class Encoder(nn.Module):
    """ResNet-50 layout with a 4-channel stem; returns shallow (1/2), middle (1/4), deep (1/8), bottom (1/32)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.stem = conv_bn_relu(4, cfg.stem_width, kernel=7, stride=2)
        self.pool = nn.MaxPool2d(3, 2, 1)
        stages, cin = [], cfg.stem_width
        for i, (width, count) in enumerate(zip(cfg.block_widths, cfg.blocks)):
            cout = width * cfg.expansion
            blocks = [Bottleneck(cin if j == 0 else cout, width, cout, stride=2 if (i > 0 and j == 0) else 1) for j in range(count)]
            stages.append(nn.Sequential(*blocks))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.channels = {"shallow": cfg.stem_width, "middle": cfg.block_widths[0] * cfg.expansion,
                         "deep": cfg.block_widths[1] * cfg.expansion, "bottom": cin}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        shallow = self.stem(x)
        middle = self.layer1(self.pool(shallow))
        deep = self.layer2(middle)
        bottom = self.layer4(self.layer3(deep))
        return {"shallow": shallow, "middle": middle, "deep": deep, "bottom": bottom}


class Decoder(nn.Module):
    """A 1×1 bridge, four ×2 sub-pixel stages from 1/32 to 1/2 with GCN shortcuts where named,
    and a sub-pixel output layer (3×3 conv + PixelShuffle) to full resolution."""

    SCALES = ("1/16", "1/8", "1/4", "1/2")

    def __init__(self, cfg: ModelConfig, cin: int, shortcuts: dict[str, tuple[str, int]], out_channels: int):
        super().__init__()
        self.shortcuts = {scale: name for scale, (name, _) in shortcuts.items()}
        width = cfg.decoder_widths[0]
        self.bridge = conv_bn_relu(cin, width, kernel=1)
        stages = []
        for scale, cout in zip(self.SCALES, cfg.decoder_widths):
            stages.append(UpStage(width, cout, shortcuts.get(scale, (None, None))[1], cfg.gcn_kernel))
            width = cout
        self.stages = nn.ModuleList(stages)
        self.head = nn.Sequential(nn.Conv2d(width, out_channels * 4, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        x = self.bridge(features["bottom"])
        for scale, stage in zip(self.SCALES, self.stages):
            name = self.shortcuts.get(scale)
            x = stage(x, features[name] if name else None)
        return self.head(x)


class PropagationUnit(nn.Module):
    """2 ResBlocks + a ConvLSTM cell, recurring `steps` times with shared weights.

    Each step sees the image, the adapted trimap's probabilities and the previous alpha, and
    corrects alpha in logit space, so an untrained head (zero-initialised) leaves it unchanged.
    With `unshuffle` s > 1 it works on s×s pixel blocks as channels, at 1/s resolution.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        s = self.unshuffle = cfg.prop_unshuffle
        self.steps = cfg.prop_steps
        self.entry = conv_bn_relu(7 * s * s, cfg.prop_width, kernel=1)  # spatial work is the ResBlocks' and the LSTM's
        self.resblocks = nn.Sequential(ResBlock(cfg.prop_width), ResBlock(cfg.prop_width))
        self.lstm = ConvLSTMCell(cfg.prop_width, cfg.prop_hidden)
        self.head = nn.Conv2d(cfg.prop_hidden, s * s, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, image: torch.Tensor, trimap_probs: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        s, state = self.unshuffle, None
        blocks = (lambda x: F.pixel_unshuffle(x, s)) if s > 1 else (lambda x: x)  # noqa: E731
        conv, after = self.entry[0], self.entry[1:]
        # The entry is a 1×1 conv over [image, trimap, alpha]: the image's and the trimap's share of it
        # is the same at every step, so it is computed once (at 1080p this saved ~0.1 s a frame).
        fixed = image.shape[1] + trimap_probs.shape[1]
        static = F.conv2d(blocks(torch.cat([image, trimap_probs], dim=1)), conv.weight[:, :fixed * s * s])
        for _ in range(self.steps):
            x = after(static + F.conv2d(blocks(alpha), conv.weight[:, fixed * s * s:]))
            state = self.lstm(self.resblocks(x), state)
            delta = self.head(state[0])
            if s > 1:
                delta = F.pixel_shuffle(delta, s)
            # in fp32: under fp16/bf16 autocast 1 - 1e-4 rounds to 1, the logit is infinite and its gradient NaN
            alpha = torch.sigmoid(torch.logit(alpha.float(), eps=1e-4) + delta.float())
        return alpha


class AdaMatting(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        ch = self.encoder.channels
        bottom = ch["bottom"]
        self.t_decoder = Decoder(cfg, bottom, {"1/8": ("deep", ch["deep"]), "1/4": ("middle", ch["middle"])}, 3)
        self.a_decoder = Decoder(cfg, bottom, {"1/4": ("middle", ch["middle"]), "1/2": ("shallow", ch["shallow"])}, 1)
        self.propagation = PropagationUnit(cfg)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, image: torch.Tensor, trimap: torch.Tensor) -> AdaOutput:
        """image: B×3×H×W in 0-1 (sRGB); trimap: B×1×H×W with 0 / 0.5 / 1. H and W multiples of 32."""
        image = (image - self.mean) / self.std
        features = self.encoder(torch.cat([image, trimap * 2 - 1], dim=1))
        trimap_logits = self.t_decoder(features)
        alpha_coarse = torch.sigmoid(self.a_decoder(features))
        probs = torch.softmax(trimap_logits.float(), dim=1).to(image.dtype)
        alpha_refined = self.propagation(image, probs, alpha_coarse)
        return AdaOutput(trimap_logits, alpha_coarse, alpha_refined)


def compose_alpha(trimap_logits: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """0 where the adapted trimap says background, 1 where foreground, `alpha` in between."""
    labels = trimap_logits.argmax(dim=1, keepdim=True)
    return torch.where(labels == BACKGROUND, torch.zeros_like(alpha), torch.where(labels == FOREGROUND, torch.ones_like(alpha), alpha))


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
