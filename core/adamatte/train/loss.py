"""AdaMatting's multi-task loss (paper Eq. 3-4) with learned uncertainty weights.

    L = L_T / (2 σ1²) + L_α / σ2 + log(2 σ1 σ2)

L_T is cross-entropy of the adapted trimap against T_opt; L_α is the L1 alpha error over the
unknown region of the *adapted* trimap. σ1 and σ2 start at 4 and are learned in log space.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from adamatte.matting.trimap import UNKNOWN
from adamatte.model.adamatting import AdaOutput


class UncertaintyLoss(nn.Module):
    def __init__(self, sigma_init: float = 4.0):
        super().__init__()
        self.log_sigma_t = nn.Parameter(torch.tensor(math.log(sigma_init)))
        self.log_sigma_a = nn.Parameter(torch.tensor(math.log(sigma_init)))

    @property
    def sigmas(self) -> tuple[float, float]:
        return math.exp(self.log_sigma_t.item()), math.exp(self.log_sigma_a.item())

    def forward(self, out: AdaOutput, alpha: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """out: the network's output; alpha: B×1×H×W ground truth; labels: B×H×W T_opt classes."""
        loss_t = F.cross_entropy(out.trimap_logits.float(), labels)
        unknown = (out.trimap_logits.argmax(dim=1, keepdim=True) == UNKNOWN).float()
        loss_a = ((out.alpha_refined.float() - alpha).abs() * unknown).sum() / unknown.sum().clamp_min(1.0)
        s1, s2 = self.log_sigma_t, self.log_sigma_a
        total = loss_t * 0.5 * torch.exp(-2 * s1) + loss_a * torch.exp(-s2) + math.log(2.0) + s1 + s2
        return total, {"loss": total.item(), "loss_t": loss_t.item(), "loss_a": loss_a.item()}
