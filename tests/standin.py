"""A small deterministic stand-in for the network, behind the engine's interface.

It keys moving_clip's reddish foreground from its bluish background by colour, exactly, and,
like AdaMatting, only decides inside the input trimap's unknown band: where the trimap says
background or foreground it agrees. A trimap that misses the object therefore loses it,
which is what the propagation and drift tests need to see.
"""

import torch
from torch import nn

from adamatte.model import AdaOutput


class ColourKeyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))  # so .to(device) and .eval() behave

    def forward(self, image: torch.Tensor, trimap: torch.Tensor) -> AdaOutput:
        # in moving_clip, R − B is 0.49 on the foreground and −0.49 on the background, whatever the texture
        key = ((image[:, :1] - image[:, 2:3] + 0.49) / 0.98).clamp(0, 1)
        key = torch.where(key > 0.995, 1.0, torch.where(key < 0.005, 0.0, key))  # half-float plates are not exact
        unknown = (trimap - 0.5).abs() < 0.25
        alpha = torch.where(unknown, key, trimap)
        labels = torch.where(alpha <= 0.0, 0, torch.where(alpha >= 1.0, 2, 1))
        logits = torch.nn.functional.one_hot(labels[:, 0].long(), 3).permute(0, 3, 1, 2).float() * 10.0
        return AdaOutput(logits, alpha, alpha)
