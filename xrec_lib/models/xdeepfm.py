"""The BERT + xDeepFM short-video ranking model of paper 001 (Fig. 2) and its CTR baselines.

Input: ``fields`` (B, F) label-encoded categorical ids (one vocabulary per field, offsets added inside) and an
optional ``text`` (B, D_text) sentence vector of the item title (MiniLM here, BERT in the paper). The text vector
is projected to one more embedding field, so every interaction part sees it.

Score (Lian et al., KDD 2018): ``logit = linear(x) + CIN(E) + DNN(E)`` where ``E`` (B, F', k) stacks the field
embeddings.

The Compressed Interaction Network (CIN) comes in two variants across libraries, both supported:

* ``"deepctr"`` (DeepCTR-Torch ``CIN``): ReLU after each layer's 1x1 convolution, and ``split_half``: every layer
  but the last keeps half of its feature maps for the next layer and sends the other half to the output;
* ``"fuxictr"`` (FuxiCTR ``CompressedInteractionNet``): no activation, no split; every layer's maps go both on and
  to the output.

Layer ``k``: ``Z = X^{k-1} ⊗ X^0`` over fields (B, H_{k-1}·m, k_emb) via einsum, ``X^k = Conv1d_1x1(Z)``; the
output is the sum over the embedding dimension of the retained maps, concatenated, then a linear layer to a logit.

:data:`RECOMMENDERS` builds the short-video recommenders of Fig. 2 by name
(``RECOMMENDERS.build(name, vocab_sizes, text_dim, dim=..., cin_layers=..., cin_variant=...)``): BERT + xDeepFM
(xDeepFM with the title vector) and, without it, xDeepFM, DeepFM and a DNN.
"""

from __future__ import annotations

import torch
from torch import nn

from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.registry import Registry

CIN_VARIANTS = ("deepctr", "fuxictr")


class CompressedInteractionNetwork(nn.Module):
    """Explicit high-order vector-wise interactions (CIN). ``output_dim`` is the size of the pooled vector."""

    def __init__(self, n_fields: int, layer_sizes: tuple[int, ...], variant: str = "deepctr"):
        super().__init__()
        if variant not in CIN_VARIANTS:
            raise ConfigError(f"unknown CIN variant {variant!r}; use one of {CIN_VARIANTS}")
        split = variant == "deepctr"
        if split and any(size % 2 for size in layer_sizes[:-1]):
            raise ConfigError(f"the deepctr CIN splits maps in half: layer sizes {layer_sizes} must be even but the last")
        self.variant = variant
        self.activation = nn.ReLU() if variant == "deepctr" else nn.Identity()
        self.convs = nn.ModuleList()
        self.next_sizes, self.output_sizes = [], []
        previous = n_fields
        for i, size in enumerate(layer_sizes):
            self.convs.append(nn.Conv1d(previous * n_fields, size, kernel_size=1))
            last = i == len(layer_sizes) - 1
            next_size = size // 2 if split and not last else size
            self.next_sizes.append(next_size)
            self.output_sizes.append(size - next_size if split and not last else size)
            previous = next_size
        self.output_dim = sum(self.output_sizes)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(B, m, k) field embeddings -> (B, output_dim) sum-pooled feature maps."""
        batch, n_fields, dim = embeddings.shape
        hidden, pooled = embeddings, []
        for conv, next_size, out_size in zip(self.convs, self.next_sizes, self.output_sizes):
            interactions = torch.einsum("bhd,bmd->bhmd", hidden, embeddings).reshape(batch, -1, dim)
            maps = self.activation(conv(interactions))
            if self.variant == "deepctr" and out_size != maps.shape[1]:
                hidden, direct = torch.split(maps, [next_size, out_size], dim=1)
            else:
                hidden, direct = maps, maps
            pooled.append(direct.sum(dim=2))
        return torch.cat(pooled, dim=1)


class FieldEmbedding(nn.Module):
    """One embedding table over all fields (per-field offsets) plus a linear (first-order) weight per id; an
    optional text vector becomes one more field through a linear projection."""

    def __init__(self, vocab_sizes: list[int], dim: int, text_dim: int | None):
        super().__init__()
        self.register_buffer("offsets", torch.tensor([0, *torch.tensor(vocab_sizes).cumsum(0)[:-1].tolist()]))
        total = int(sum(vocab_sizes))
        self.embedding = nn.Embedding(total, dim)
        self.linear = nn.Embedding(total, 1)
        self.text_projection = nn.Linear(text_dim, dim) if text_dim else None
        self.text_linear = nn.Linear(text_dim, 1, bias=False) if text_dim else None
        nn.init.normal_(self.embedding.weight, std=0.01)
        nn.init.zeros_(self.linear.weight)

    @property
    def n_fields(self) -> int:
        return len(self.offsets) + (self.text_projection is not None)

    def forward(self, fields: torch.Tensor, text: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the stacked embeddings (B, n_fields, dim) and the first-order logit (B,)."""
        ids = fields + self.offsets
        embeddings, linear = self.embedding(ids), self.linear(ids).sum(dim=(1, 2))
        if self.text_projection is not None:
            if text is None:
                raise DataError("this model was built with a text vector: pass text=(B, text_dim)")
            embeddings = torch.cat([embeddings, self.text_projection(text).unsqueeze(1)], dim=1)
            linear = linear + self.text_linear(text).squeeze(-1)
        return embeddings, linear


def mlp(in_dim: int, hidden: tuple[int, ...], dropout: float) -> nn.Sequential:
    """ReLU MLP ending in one logit."""
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(in_dim, size), nn.ReLU(), nn.Dropout(dropout)]
        in_dim = size
    return nn.Sequential(*layers, nn.Linear(in_dim, 1))


class CTRModel(nn.Module):
    """Linear + optional CIN / FM / DNN parts on shared field embeddings; returns logits (B,).

    ``parts`` picks the model: ``("linear", "cin", "dnn")`` xDeepFM, ``("linear", "fm", "dnn")`` DeepFM,
    ``("dnn",)`` DNN only. ``text_dim`` adds the title sentence vector as a field (the paper's "BERT" input).
    FM: ``0.5 * sum_k ((sum_i e_ik)^2 - sum_i e_ik^2)`` (second-order pairwise interactions).
    """

    def __init__(self, vocab_sizes: list[int], parts: tuple[str, ...] = ("linear", "cin", "dnn"), dim: int = 16,
                 text_dim: int | None = None, cin_layers: tuple[int, ...] = (64, 32), cin_variant: str = "deepctr",
                 dnn_hidden: tuple[int, ...] = (128, 64), dropout: float = 0.1):
        super().__init__()
        unknown = set(parts) - {"linear", "cin", "fm", "dnn"}
        if unknown or not parts:
            raise ConfigError(f"unknown model parts {sorted(unknown)}; use linear, cin, fm, dnn")
        self.parts = parts
        self.fields = FieldEmbedding(vocab_sizes, dim, text_dim)
        n_fields = self.fields.n_fields
        self.cin = CompressedInteractionNetwork(n_fields, cin_layers, cin_variant) if "cin" in parts else None
        self.cin_out = nn.Linear(self.cin.output_dim, 1) if self.cin else None
        self.dnn = mlp(n_fields * dim, dnn_hidden, dropout) if "dnn" in parts else None
        self.bias = nn.Parameter(torch.zeros(1))

    @property
    def uses_text(self) -> bool:
        """Whether the model reads the item's text vector."""
        return self.fields.text_projection is not None

    def forward(self, fields: torch.Tensor, text: torch.Tensor | None = None) -> torch.Tensor:
        embeddings, linear = self.fields(fields, text)
        logit = self.bias.expand(fields.shape[0])
        if "linear" in self.parts:
            logit = logit + linear
        if self.cin is not None:
            logit = logit + self.cin_out(self.cin(embeddings)).squeeze(-1)
        if "fm" in self.parts:
            logit = logit + 0.5 * (embeddings.sum(1).pow(2) - embeddings.pow(2).sum(1)).sum(1)
        if self.dnn is not None:
            logit = logit + self.dnn(embeddings.flatten(1)).squeeze(-1)
        return logit


RECOMMENDERS = Registry("recommender")


def _ctr_model(parts: tuple[str, ...], use_text: bool):
    def build(vocab_sizes: list[int], text_dim: int | None, dim: int = 16, cin_layers: tuple[int, ...] = (64, 32),
              cin_variant: str = "deepctr") -> CTRModel:
        return CTRModel(vocab_sizes, parts, dim=dim, text_dim=text_dim if use_text else None,
                        cin_layers=tuple(cin_layers), cin_variant=cin_variant)
    return build


RECOMMENDERS.register("BERT + xDeepFM", _ctr_model(("linear", "cin", "dnn"), use_text=True))
RECOMMENDERS.register("xDeepFM (no text)", _ctr_model(("linear", "cin", "dnn"), use_text=False))
RECOMMENDERS.register("DeepFM", _ctr_model(("linear", "fm", "dnn"), use_text=False))
RECOMMENDERS.register("DNN only", _ctr_model(("dnn",), use_text=False))
