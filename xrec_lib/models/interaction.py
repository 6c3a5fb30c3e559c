"""Interaction heads of paper 000: bilinear attention (BLA) and the layers it is compared with.

A head maps a user vector ``u`` and a product vector ``p`` (both ``R^d``, e.g. the offline Siamese GCN
embeddings of paper 000, Eq. 5) to a logit ``s(u, p)``; the predicted purchase probability is
``y_hat = sigmoid(s(u, p))`` (Eq. 11). Heads are trained with binary cross-entropy on observed pairs and sampled
negatives (:func:`head_loss`). The paper prints only the descriptions of its Eq. 6-11; the formulas below are
the standard reading of those descriptions. Every head is registered in :data:`HEADS` under its name below (BLA,
BL, CNIM, Gated; ``"self-attention"``, ``"MLP"``, ``"dot"`` for the last three): ``HEADS.build(name, dim, hidden)``.

**BLA** (:class:`BilinearAttentionHead`, paper Fig. 4):

* Eq. 6, attention weights of one branch (user and product have their own parameters):
  ``a = softmax(W2 tanh(W1 x + b1) + b2)`` with ``W1 in R^{h x d}``, ``W2 in R^{d x h}``; the softmax runs over
  the ``d`` embedding dimensions, so ``sum_j a_j = 1`` and ``a_j > 0``.
* Eq. 7, re-weighting: ``x' = d * (a ⊙ x)``. The factor ``d`` makes uniform attention (``a_j = 1/d``) the
  identity, so BLA with constant attention is exactly BL and "BLA without attention" is a clean ablation.
* Initialisation (not stated in the paper): the last attention layer (``W2``, ``b2``) starts at zero, so every
  ``a_j = 1/d`` at the start and an untrained BLA computes the same function as BL; built under the same torch
  seed, BLA and BL also start with identical projection and MLP weights (BL's layers are created first in both),
  so the two heads differ only by what the attention learns.
* Eq. 8-9, bilinear projections: ``u~ = W_u u' + b_u`` and ``p~ = W_p p' + b_p`` with ``W_u, W_p in R^{h x d}``.
* Eq. 10, interaction vector: ``z = u~ ⊙ p~`` (the "dimension-wise combination" of the paper's Discussion; each
  ``z_k = u'^T (w_u,k w_p,k^T) p'`` is a rank-one bilinear form, i.e. a low-rank ``torch.nn.Bilinear``).
* Eq. 11, prediction: ``s = MLP(z)``, ``y_hat = sigmoid(s)``; the MLP is ``Linear(h, h) -> ReLU -> Linear(h, 1)``.

Comparison heads (same MLP of Eq. 11 on their own interaction vector ``z``):

* **BL** (:class:`BilinearHead`): Eq. 8-11 on the raw vectors (``x' = x``).
* **CNIM** (:class:`CrossNetworkHead`): the paper names but does not define it; here it is the cross network of
  DCN (Wang et al., 2017) over ``x_0 = [u; p]``: ``x_{l+1} = x_0 (w_l^T x_l) + b_l + x_l`` for ``L = 3`` layers,
  ``z = x_L``.
* **Gated** (:class:`GatedFusionHead`): ``g = sigmoid(W_g [u; p] + b_g)`` (``W_g in R^{d x 2d}``),
  ``z = g ⊙ u + (1 - g) ⊙ p``.
* **Self-attention concatenation** (:class:`SelfAttentionConcatHead`, paper 000's Method 3): ``[u, p]`` as a
  two-token sequence through one single-head self-attention layer (``torch.nn.MultiheadAttention``), the two
  outputs concatenated: ``z = [u*; p*]``.
* **MLP** (:class:`ConcatMLPHead`, Method 4): ``z = [u; p]``.
* **Dot product** (:class:`DotProductHead`, the ablation baseline): ``s = u^T p`` with no parameters.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.registry import Registry

#: Interaction heads by name: ``HEADS.build(name, dim, hidden)``.
HEADS = Registry("interaction head")


def _registered(name: str):
    """Class decorator: register the head class in :data:`HEADS` under ``name`` (the ``name`` of its spec)."""
    def add(cls: type[InteractionHead]) -> type[InteractionHead]:
        cls.registered_name = name
        return HEADS.register(name, cls)
    return add


def prediction_mlp(in_dim: int, hidden: int) -> nn.Sequential:
    """Eq. 11's MLP: ``Linear(in_dim, hidden) -> ReLU -> Linear(hidden, 1)``; the sigmoid is applied outside."""
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))


class InteractionHead(nn.Module):
    """Base class: ``forward(user, product)`` takes two ``(B, d)`` tensors and returns ``(B,)`` logits."""

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__()
        if dim < 1 or hidden < 1:
            raise ConfigError(f"embedding dimension and hidden width must be >= 1, got dim={dim}, hidden={hidden}")
        self.dim, self.hidden = dim, hidden

    @property
    def spec(self) -> dict:
        """``{"name", "dim", "hidden"}``: what ``HEADS.build(**spec)`` needs to rebuild this head (before loading
        weights)."""
        name = type(self).__dict__.get("registered_name")
        if name is None:
            raise ConfigError(f"{type(self).__name__} is not registered in HEADS")
        return {"name": name, "dim": self.dim, "hidden": self.hidden}

    def interaction(self, user: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        """The interaction vector ``z`` fed to the prediction MLP."""
        raise NotImplementedError

    def forward(self, user: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        _check_pair(user, product, self.dim)
        return self.mlp(self.interaction(user, product)).squeeze(-1)

    def predict_proba(self, user: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        """``y_hat = sigmoid(s(u, p))`` (Eq. 11)."""
        return torch.sigmoid(self(user, product))


class DimensionAttention(nn.Module):
    """One attention branch of BLA (Eq. 6-7): ``a = softmax(W2 tanh(W1 x + b1) + b2)`` over dimensions,
    ``x' = d (a ⊙ x)``; ``W2, b2`` start at zero (uniform attention, module docstring)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, dim))
        nn.init.zeros_(self.score[2].weight)
        nn.init.zeros_(self.score[2].bias)

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. 6: ``(B, d)`` attention weights, positive and summing to 1 over the last dimension."""
        return torch.softmax(self.score(x), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.shape[-1] * self.weights(x) * x


@_registered("BL")
class BilinearHead(InteractionHead):
    """BL: ``z = (W_u u + b_u) ⊙ (W_p p + b_p)`` (Eq. 8-10 without attention), ``s = MLP(z)``."""

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__(dim, hidden)
        self.user_projection = nn.Linear(dim, hidden)
        self.product_projection = nn.Linear(dim, hidden)
        self.mlp = prediction_mlp(hidden, hidden)

    def interaction(self, user: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        return self.user_projection(user) * self.product_projection(product)


@_registered("BLA")
class BilinearAttentionHead(BilinearHead):
    """BLA (Eq. 6-11): per-entity dimension attention, then the bilinear interaction of :class:`BilinearHead`."""

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__(dim, hidden)
        self.user_attention = DimensionAttention(dim, hidden)
        self.product_attention = DimensionAttention(dim, hidden)

    def interaction(self, user: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        return super().interaction(self.user_attention(user), self.product_attention(product))

    def attention_weights(self, user: torch.Tensor, product: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 6 weights ``(a_u, a_p)``, each ``(B, d)`` and summing to 1 over dimensions."""
        return self.user_attention.weights(user), self.product_attention.weights(product)


@_registered("CNIM")
class CrossNetworkHead(InteractionHead):
    """CNIM as a DCN cross network over ``x_0 = [u; p]``: ``x_{l+1} = x_0 (w_l^T x_l) + b_l + x_l``."""

    n_layers = 3

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__(dim, hidden)
        self.cross_weights = nn.ParameterList(nn.Parameter(torch.randn(2 * dim) / (2 * dim) ** 0.5)
                                              for _ in range(self.n_layers))
        self.cross_biases = nn.ParameterList(nn.Parameter(torch.zeros(2 * dim)) for _ in range(self.n_layers))
        self.mlp = prediction_mlp(2 * dim, hidden)

    def interaction(self, user: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        x0 = torch.cat([user, product], dim=-1)
        x = x0
        for weight, bias in zip(self.cross_weights, self.cross_biases):
            x = x0 * (x @ weight).unsqueeze(-1) + bias + x
        return x


@_registered("Gated")
class GatedFusionHead(InteractionHead):
    """Gated: ``g = sigmoid(W_g [u; p] + b_g)``, ``z = g ⊙ u + (1 - g) ⊙ p``, ``s = MLP(z)``."""

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__(dim, hidden)
        self.gate = nn.Linear(2 * dim, dim)
        self.mlp = prediction_mlp(dim, hidden)

    def interaction(self, user: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.gate(torch.cat([user, product], dim=-1)))
        return gate * user + (1.0 - gate) * product


@_registered("self-attention")
class SelfAttentionConcatHead(InteractionHead):
    """Self-attention concatenation: ``[u*, p*] = MHA([u, p])`` over the two-token sequence, ``z = [u*; p*]``."""

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__(dim, hidden)
        self.attention = nn.MultiheadAttention(dim, num_heads=1, batch_first=True)
        self.mlp = prediction_mlp(2 * dim, hidden)

    def interaction(self, user: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        tokens = torch.stack([user, product], dim=1)
        attended, _ = self.attention(tokens, tokens, tokens, need_weights=False)
        return attended.flatten(1)


@_registered("MLP")
class ConcatMLPHead(InteractionHead):
    """MLP on the concatenation: ``z = [u; p]``, ``s = MLP(z)``."""

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__(dim, hidden)
        self.mlp = prediction_mlp(2 * dim, hidden)

    def interaction(self, user: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        return torch.cat([user, product], dim=-1)


@_registered("dot")
class DotProductHead(InteractionHead):
    """Parameter-free inner product ``s = u^T p`` (the matching score of the encoders, paper Eq. 2).

    ``hidden`` is accepted for a uniform constructor and unused.
    """

    def forward(self, user: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        _check_pair(user, product, self.dim)
        return (user * product).sum(-1)


def head_loss(head: InteractionHead, user: torch.Tensor, positive: torch.Tensor,
              negative: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of Eq. 11: label 1 for ``(user, positive)`` rows, 0 for ``(user, negative)`` rows.

    ``user`` and ``positive`` are ``(B, d)``; ``negative`` is ``(B, n, d)`` (``n`` negatives per positive).
    Mean over all ``B (1 + n)`` pairs.
    """
    n_negatives = negative.shape[1]
    users = torch.cat([user, user.repeat_interleave(n_negatives, dim=0)])
    products = torch.cat([positive, negative.flatten(0, 1)])
    labels = torch.cat([torch.ones(len(user)), torch.zeros(len(user) * n_negatives)]).to(users.device)
    return F.binary_cross_entropy_with_logits(head(users, products), labels)


def _check_pair(user: torch.Tensor, product: torch.Tensor, dim: int) -> None:
    if user.shape != product.shape or user.dim() != 2 or user.shape[1] != dim:
        raise DataError(f"interaction heads take two (B, {dim}) tensors, got {tuple(user.shape)} and "
                          f"{tuple(product.shape)}")
