"""Paper 001's multimodal sentiment model: linguistic-guided Transformer (LGT), soft mapping, unfolded fusion
(UFF) and multi-task heads, plus two classic fusion baselines (late fusion, tensor fusion).

A batch is a dict of tensors: for each modality ``m`` in ``("text", "audio", "vision")`` present,
``batch[m]`` (B, L_m, d_m) and ``batch[m + "_mask"]`` (B, L_m), 1 at valid steps. Models return a dict of
predictions ``{"M": (B,), "T": (B,), "A": (B,), "V": (B,)}`` (unimodal ones only for the modalities present) and,
for :class:`MultimodalFusionTransformer`, ``"features"``: the post-ReLU head features ``F_s*`` (eq. 16) per task,
which the self-supervised label generator (:mod:`xrec_lib.models.slgm`) reads.

:data:`MULTIMODAL_MODELS` builds the models of the paper's comparison by their table names
(``MULTIMODAL_MODELS.build(name, input_dims, spec)``): :data:`PROPOSED`, the :data:`ABLATIONS` of Fig. 8 and the
:data:`BASELINES`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.registry import Registry
from xrec_lib.text import MiniLMTopLayers, masked_mean

MODALITIES = ("text", "audio", "vision")
TASK_OF = {"text": "T", "audio": "A", "vision": "V"}
PROPOSED = "Proposed (LGT + SM + UFF + SLGM)"
ABLATIONS = {"LGT + SM": (True, True), "w/o LGT": (False, True), "w/o SM": (True, False),
             "w/o LGT, w/o SM": (False, False)}  # name -> (use_lgt, use_soft_mapping); the first is the full model
BASELINES = ("Text-only", "Late fusion", "TFN")


class LinguisticGuidedTransformer(nn.Module):
    """One LGT layer (eq. 1-7) for one modality stream.

    ``text_guided=True`` (audio, vision): ``F = MHA(Q_l, K_m, V_m)`` (eq. 6-7), queries from the text stream, keys and
    values from modality ``m``; the output lives on the text positions. ``text_guided=False`` (the text stream,
    and every stream in the "without LGT" ablation): self-attention ``MHA(Q_m, K_m, V_m)`` (eq. 1-3). Each sublayer
    is wrapped as ``LayerNorm(x + Sublayer(x))`` (eq. 5), ``x`` being the query stream (the convention of
    cross-modal Transformers), followed by ``FFN(H) = ReLU(H W1 + b1) W2 + b2`` (eq. 4).
    """

    def __init__(self, dim: int, n_heads: int, dropout: float, text_guided: bool):
        super().__init__()
        self.text_guided = text_guided
        self.attention = nn.MultiheadAttention(dim, n_heads, dropout=dropout, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim))
        self.norm_attention, self.norm_ffn = nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, stream: torch.Tensor, mask: torch.Tensor, text: torch.Tensor | None = None,
                text_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the new stream (B, L_q, dim) and its mask (B, L_q) (L_q: text length when text-guided)."""
        query, query_mask = (text, text_mask) if self.text_guided else (stream, mask)
        attended, _ = self.attention(query, stream, stream, key_padding_mask=mask == 0, need_weights=False)
        hidden = self.norm_attention(query + attended)
        return self.norm_ffn(hidden + self.ffn(hidden)), query_mask


class SoftMapping(nn.Module):
    """Soft mapping (eq. 8-12): ``M`` (B, L, d) -> one vector ``s`` (B, d).

    ``NewMatrix = W_m M`` lifts each step to ``high_dim`` (eq. 8); each of ``n_maps`` learned vectors ``v_i^p``
    gives soft attention ``p_i = softmax_j(v_i^T NewMatrix_j)`` over the valid steps (eq. 9) and
    ``m_i = sum_j p_ij M_j`` (eq. 10); the stacked ``m_i`` are projected back to ``d`` (eq. 11) and added to the
    masked mean of ``M`` under a LayerNorm (the residual of eq. 12, taken on the pooled matrix).
    """

    def __init__(self, dim: int, high_dim: int, n_maps: int):
        super().__init__()
        self.lift = nn.Linear(dim, high_dim)
        self.map_vectors = nn.Linear(high_dim, n_maps, bias=False)
        self.stack = nn.Linear(n_maps * dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, matrix: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = self.map_vectors(self.lift(matrix)).masked_fill(mask.unsqueeze(-1) == 0, float("-inf"))
        weights = torch.softmax(logits, dim=1)  # (B, L, n_maps)
        mapped = torch.einsum("blk,bld->bkd", weights, matrix).flatten(1)
        return self.norm(masked_mean(matrix, mask) + self.stack(mapped))


class UnfoldedFusion(nn.Module):
    """Unfolded fusion function (eq. 14-15): ``F_m = [t; 1] ⊗ [a; 1] ⊗ [v; 1]`` flattened.

    Appending 1 to every unimodal vector keeps the unimodal, bimodal and trimodal products in one tensor of
    ``prod_m (d_m + 1)`` entries (the tensor fusion of Zadeh et al., 2017). Works for any number of modalities.
    """

    @staticmethod
    def output_dim(dims: tuple[int, ...]) -> int:
        out = 1
        for dim in dims:
            out *= dim + 1
        return out

    def forward(self, vectors: list[torch.Tensor]) -> torch.Tensor:
        fused = None
        for vector in vectors:
            extended = torch.cat([vector, vector.new_ones(vector.shape[0], 1)], dim=1)
            fused = extended if fused is None else torch.einsum("bi,bj->bij", fused, extended).flatten(1)
        return fused


class TaskHead(nn.Module):
    """One task of the hard-parameter-sharing multi-task network: ``F* = ReLU(F W1 + b1)`` (eq. 16),
    ``y = F* W2 + b2`` (eq. 17). Returns ``(y (B,), F* (B, hidden))``."""

    def __init__(self, in_dim: int, hidden: int, dropout: float):
        super().__init__()
        self.hidden = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, 1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.hidden(features)
        return self.out(hidden).squeeze(-1), hidden


@dataclass(frozen=True)
class FusionConfig:
    """Sizes and switches of :class:`MultimodalFusionTransformer` (``input_dims``: modality -> feature size).

    ``use_lgt=False`` replaces the text-guided attention by per-modality self-attention, ``use_soft_mapping=False``
    replaces soft mapping by the masked mean (the two ablations of the paper's Fig. 8).
    """

    input_dims: dict[str, int]
    dim: int = 32
    n_heads: int = 4
    n_layers: int = 1
    high_dim: int = 64
    n_maps: int = 4
    uff_dims: dict[str, int] | None = None
    head_hidden: int = 32
    dropout: float = 0.1
    use_lgt: bool = True
    use_soft_mapping: bool = True

    def fusion_dims(self) -> dict[str, int]:
        defaults = {"text": 16, "audio": 8, "vision": 8}
        return {m: (self.uff_dims or defaults)[m] for m in self.modalities}

    @property
    def modalities(self) -> tuple[str, ...]:
        unknown = set(self.input_dims) - set(MODALITIES)
        if unknown or "text" not in self.input_dims:
            raise DataError(f"input_dims needs 'text' and only {MODALITIES}; got {sorted(self.input_dims)}")
        return tuple(m for m in MODALITIES if m in self.input_dims)


def encoded_text(text_layers: nn.Module | None, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """``batch["text"]`` passed through the trainable text-encoder layers ``text_layers(states, mask)`` if any."""
    return batch["text"] if text_layers is None else text_layers(batch["text"], batch["text_mask"])


class MultimodalFusionTransformer(nn.Module):
    """The full model: per-modality projection -> LGT -> soft mapping -> fusion -> multi-task heads.

    Fusion representation: ``[LayerNorm(s_l + s_a + s_v) ; UFF(P_l s_l, P_a s_a, P_v s_v)]`` — the summed soft-mapping
    vectors of eq. 13 next to the unfolded fusion of small projections of them (eq. 14-15). Heads (eq. 16-17):
    ``M`` on the fusion representation, ``T``/``A``/``V`` on the unimodal vectors ``s_m`` (training-time tasks
    supervised by SLGM labels; the prediction is ``M``). ``text_layers`` (optional): trainable text-encoder layers
    applied to ``batch["text"]`` first (e.g. MiniLM's top layers, :class:`xrec_lib.text.MiniLMTopLayers`).
    """

    def __init__(self, config: FusionConfig, text_layers: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.text_layers = text_layers
        modalities, dim = config.modalities, config.dim
        self.project = nn.ModuleDict({m: nn.Linear(config.input_dims[m], dim) for m in modalities})
        self.layers = nn.ModuleDict({
            m: nn.ModuleList(LinguisticGuidedTransformer(dim, config.n_heads, config.dropout,
                                                         text_guided=config.use_lgt and m != "text" and i == 0)
                             for i in range(config.n_layers))
            for m in modalities
        })
        self.soft_mapping = nn.ModuleDict({m: SoftMapping(dim, config.high_dim, config.n_maps) for m in modalities}
                                          if config.use_soft_mapping else {})
        fusion_dims = config.fusion_dims()
        self.fusion_projection = nn.ModuleDict({m: nn.Linear(dim, fusion_dims[m]) for m in modalities})
        self.fusion_norm = nn.LayerNorm(dim)
        self.uff = UnfoldedFusion()
        fused_dim = dim + UnfoldedFusion.output_dim(tuple(fusion_dims.values()))
        self.heads = nn.ModuleDict({"M": TaskHead(fused_dim, config.head_hidden, config.dropout)}
                                   | {TASK_OF[m]: TaskHead(dim, config.head_hidden, config.dropout) for m in modalities})

    def unimodal_vectors(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``s_m`` (B, dim) of every modality after LGT and soft mapping (or masked mean)."""
        text, text_mask = encoded_text(self.text_layers, batch), batch["text_mask"]
        text = self.project["text"](text)
        vectors = {}
        for m in self.config.modalities:
            stream, mask = (text, text_mask) if m == "text" else (self.project[m](batch[m]), batch[m + "_mask"])
            for layer in self.layers[m]:
                stream, mask = layer(stream, mask, text, text_mask)
            vectors[m] = self.soft_mapping[m](stream, mask) if self.config.use_soft_mapping else masked_mean(stream, mask)
        return vectors

    def forward(self, batch: dict[str, torch.Tensor]) -> dict:
        vectors = self.unimodal_vectors(batch)
        summed = self.fusion_norm(torch.stack(list(vectors.values())).sum(0))
        unfolded = self.uff([self.fusion_projection[m](v) for m, v in vectors.items()])
        outputs, features = {}, {}
        outputs["M"], features["M"] = self.heads["M"](torch.cat([summed, unfolded], dim=1))
        for m, vector in vectors.items():
            outputs[TASK_OF[m]], features[TASK_OF[m]] = self.heads[TASK_OF[m]](vector)
        return outputs | {"features": features}


class LateFusionBaseline(nn.Module):
    """Decision-level fusion: a 2-layer MLP per modality on its masked-mean features; ``M`` = mean of the
    unimodal predictions. With only ``"text"`` in ``input_dims`` it is the text-only baseline; ``text_layers`` as
    in :class:`MultimodalFusionTransformer`."""

    def __init__(self, input_dims: dict[str, int], hidden: int = 64, dropout: float = 0.1,
                 text_layers: nn.Module | None = None):
        super().__init__()
        self.text_layers = text_layers
        self.modalities = tuple(m for m in MODALITIES if m in input_dims)
        self.mlps = nn.ModuleDict({
            m: nn.Sequential(nn.Linear(input_dims[m], hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1))
            for m in self.modalities
        })

    def forward(self, batch: dict[str, torch.Tensor]) -> dict:
        features = {m: encoded_text(self.text_layers, batch) if m == "text" else batch[m] for m in self.modalities}
        predictions = {TASK_OF[m]: self.mlps[m](masked_mean(features[m], batch[m + "_mask"])).squeeze(-1)
                       for m in self.modalities}
        return predictions | {"M": torch.stack(list(predictions.values())).mean(0)}


class TensorFusionBaseline(nn.Module):
    """Tensor Fusion Network (Zadeh et al., 2017): per-modality subnet on masked-mean features, the 3-fold outer
    product of ``[z_m; 1]`` (:class:`UnfoldedFusion`), then an MLP to ``M``."""

    def __init__(self, input_dims: dict[str, int], sub_dims: dict[str, int] | None = None, hidden: int = 64,
                 dropout: float = 0.1):
        super().__init__()
        self.modalities = tuple(m for m in MODALITIES if m in input_dims)
        sub_dims = sub_dims or {"text": 16, "audio": 8, "vision": 8}
        self.subnets = nn.ModuleDict({m: nn.Sequential(nn.Linear(input_dims[m], sub_dims[m]), nn.ReLU())
                                      for m in self.modalities})
        self.uff = UnfoldedFusion()
        fused_dim = UnfoldedFusion.output_dim(tuple(sub_dims[m] for m in self.modalities))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(fused_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, batch: dict[str, torch.Tensor]) -> dict:
        vectors = [self.subnets[m](masked_mean(batch[m], batch[m + "_mask"])) for m in self.modalities]
        return {"M": self.head(self.uff(vectors)).squeeze(-1)}


@dataclass(frozen=True)
class ModelSpec:
    """Hyper-parameters of the comparison's models: sizes, dropout (of :class:`MultimodalFusionTransformer`; the
    baselines keep their own default) and ``text_trainable_layers = k``: with ``k > 0`` MiniLM's top ``k`` layers,
    trainable (:class:`xrec_lib.text.MiniLMTopLayers`), run in front of the text branch (real text only)."""

    dim: int = 32
    n_heads: int = 4
    hidden: int = 32
    dropout: float = 0.1
    text_trainable_layers: int = 0

    def text_layers(self) -> nn.Module | None:
        return MiniLMTopLayers(self.text_trainable_layers) if self.text_trainable_layers else None


MULTIMODAL_MODELS = Registry("multimodal model")


def _fusion_transformer(use_lgt: bool, use_soft_mapping: bool):
    def build(input_dims: dict[str, int], spec: ModelSpec) -> MultimodalFusionTransformer:
        config = FusionConfig(input_dims, dim=spec.dim, n_heads=spec.n_heads, head_hidden=spec.hidden,
                              dropout=spec.dropout, use_lgt=use_lgt, use_soft_mapping=use_soft_mapping)
        return MultimodalFusionTransformer(config, spec.text_layers())
    return build


MULTIMODAL_MODELS.register(PROPOSED, _fusion_transformer(True, True))
for _name, (_lgt, _soft_mapping) in ABLATIONS.items():
    MULTIMODAL_MODELS.register(_name, _fusion_transformer(_lgt, _soft_mapping))


@MULTIMODAL_MODELS.register("Text-only")
def _text_only(input_dims: dict[str, int], spec: ModelSpec) -> LateFusionBaseline:
    return LateFusionBaseline({"text": input_dims["text"]}, hidden=spec.hidden, text_layers=spec.text_layers())


@MULTIMODAL_MODELS.register("Late fusion")
def _late_fusion(input_dims: dict[str, int], spec: ModelSpec) -> LateFusionBaseline:
    return LateFusionBaseline(input_dims, hidden=spec.hidden, text_layers=spec.text_layers())


@MULTIMODAL_MODELS.register("TFN")
def _tensor_fusion(input_dims: dict[str, int], spec: ModelSpec) -> TensorFusionBaseline:
    if spec.text_trainable_layers:
        raise ConfigError("TFN has no trainable text layers: use text_trainable_layers=0")
    return TensorFusionBaseline(input_dims, hidden=spec.hidden)
