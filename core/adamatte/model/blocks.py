"""Building blocks of the network: ResNet bottleneck, GCN shortcut, sub-pixel up-stage, ConvLSTM."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def conv_bn_relu(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class Bottleneck(nn.Module):
    """ResNet-50's 1x1 -> 3x3 -> 1x1 block (stride on the 3x3, as in torchvision's 'v1.5')."""

    def __init__(self, cin: int, width: int, cout: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(cin, width, 1),
            conv_bn_relu(width, width, 3, stride),
            nn.Conv2d(width, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        nn.init.zeros_(self.body[-1].weight)  # each residual branch starts as identity
        self.shortcut = (
            nn.Identity() if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.shortcut(x), inplace=True)


class GlobalConv(nn.Module):
    """Global Convolutional Network block (Peng et al., CVPR 2017): (k×1 → 1×k) + (1×k → k×1)."""

    def __init__(self, cin: int, cout: int, k: int):
        super().__init__()
        p = k // 2
        self.left = nn.Sequential(nn.Conv2d(cin, cout, (k, 1), padding=(p, 0)), nn.Conv2d(cout, cout, (1, k), padding=(0, p)))
        self.right = nn.Sequential(nn.Conv2d(cin, cout, (1, k), padding=(0, p)), nn.Conv2d(cout, cout, (k, 1), padding=(p, 0)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.left(x) + self.right(x)


class UpStage(nn.Module):
    """Doubles resolution by sub-pixel convolution, adds a GCN-filtered shortcut, refines with 3×3."""

    def __init__(self, cin: int, cout: int, skip_channels: int | None, gcn_kernel: int):
        super().__init__()
        self.expand = conv_bn_relu(cin, cout * 4)
        self.shuffle = nn.PixelShuffle(2)
        self.gcn = GlobalConv(skip_channels, cout, gcn_kernel) if skip_channels else None
        self.refine = conv_bn_relu(cout, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = self.shuffle(self.expand(x))
        if self.gcn is not None:
            x = x + self.gcn(skip)
        return self.refine(x)


class ResBlock(nn.Module):
    """Two 3×3 convolutions with an identity shortcut."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(conv_bn_relu(width, width), nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x), inplace=True)


class ConvLSTMCell(nn.Module):
    """Convolutional LSTM (Shi et al., 2015): all four gates from one 3×3 conv over [input, hidden]."""

    def __init__(self, cin: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(cin + hidden, 4 * hidden, 3, padding=1)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden, *x.shape[2:])
            state = (zeros, zeros)
        h, c = state
        i, f, o, g = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c
