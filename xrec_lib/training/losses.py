"""Losses shared by the studies.

Ranking losses of a positive score ``s+`` and a negative score ``s-`` (scores are logits or inner products):

* ``"bpr"``: ``-ln sigmoid(s+ - s-)`` (Rendle et al. 2009), the pairwise loss of eq. (4) of paper 000;
* ``"margin"``: ``max(0, m - s+ + s-)`` (triplet margin ranking loss);
* ``"bce"``: ``-ln sigmoid(s+) - ln(1 - sigmoid(s-))`` (pointwise link prediction);

each averaged over the batch. A negative score may carry extra trailing dimensions (several negatives per
positive); the positive is then broadcast against every negative.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from xrec_lib.errors import ConfigError

RANKING_LOSSES = ("bpr", "margin", "bce")


def check_ranking_loss(kind: str) -> str:
    """``kind`` if it names a ranking loss, else a :class:`ConfigError` listing them."""
    if kind not in RANKING_LOSSES:
        raise ConfigError(f"unknown loss {kind!r}; choose one of {', '.join(RANKING_LOSSES)}")
    return kind


def ranking_loss(positive: torch.Tensor, negative: torch.Tensor, kind: str = "bpr", margin: float = 1.0) -> torch.Tensor:
    """Mean ranking loss ``kind`` of positive and negative scores (module docstring)."""
    if negative.dim() > positive.dim():
        positive = positive.reshape(*positive.shape, *([1] * (negative.dim() - positive.dim())))
    if kind == "bpr":
        return -F.logsigmoid(positive - negative).mean()
    if kind == "margin":
        return torch.clamp(margin - positive + negative, min=0).mean()
    if kind == "bce":
        return -(F.logsigmoid(positive) + F.logsigmoid(-negative)).mean()
    raise ConfigError(f"unknown loss {kind!r}; choose one of {', '.join(RANKING_LOSSES)}")
