"""The typed profile values of notebook 03 (paper 001), one object per section of the notebook.

Values shared by every section sit at the top level of ``profiles/03_multimodal_short_video.yaml``; the values of
one dataset sit in its block (:data:`Paper001Settings.DATASETS`) and replace the top-level ones for that section::

    epochs: 2                   # synthetic sentiment sections: epoch cap
    patience: 3                 # early stopping on the validation MAE
    synthetic_mosi: {fraction: 0.05}
    mosi: {epochs: 2, fraction: 0.15, text_trainable_layers: 0}
    microlens: {n_users: 600, top_items: 300}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from xrec_lib.config import Settings
from xrec_lib.errors import ConfigError
from xrec_lib.models.multimodal import BASELINES, ModelSpec
from xrec_lib.models.xdeepfm import CIN_VARIANTS, RECOMMENDERS

NOTEBOOK = "03_multimodal_short_video"
#: the settings field a tuned knob (:mod:`xrec_lib.studies.paper001.tuning`) sets, by model family (other knobs:
#: the field of the knob's name)
RECOMMENDER_KNOBS = {"lr": "rec_lr", "weight_decay": "rec_weight_decay", "dropout": "rec_dropout"}
BASELINE_KNOBS = {"dropout": "baseline_dropout"}


@dataclass(frozen=True)
class Paper001Settings(Settings):
    """Profile values of notebook 03.

    Sentiment models (Tables I-IV, Fig. 8-9, Table V):
        epochs: epoch cap; patience: validation evaluations without a lower validation MAE before training stops
            (the same cap, patience and rule for the proposed model, its ablations and baselines; the parameters
            of the lowest validation MAE are kept).
        lr: Adam learning rate of the fusion network; encoder_lr: that of the fine-tuned MiniLM layers.
        weight_decay: Adam's weight decay (every sentiment model).
        baseline_dropout: dropout of the sentiment baselines' layers (None: their built-in 0.1; ``dropout`` is that
            of the fusion Transformer and its ablations, :class:`ModelSpec`).
        linear_decay: every learning rate falls linearly to 0 at the epoch cap (else constant).
        batch_size, dim, n_heads, hidden, dropout: batch size and model sizes (:class:`ModelSpec`).
        fraction: share of the dataset's split sizes (synthetic) or of every fold (real CMU-MOSI, file order).
        text_trainable_layers: MiniLM top layers fine-tuned with the model (real CMU-MOSI; 0: frozen states).
        token_length: MiniLM tokens per transcript (real CMU-MOSI).

    Short-video recommender (Fig. 2):
        rec_epochs, rec_patience: epoch cap and early-stopping patience on the validation AUC (the same for every
            recommender); rec_lr, rec_batch_size: its training (binary cross-entropy, Adam).
        rec_weight_decay: Adam's weight decay; rec_dropout: dropout of the DNN part (None: the built-in 0.1).
        emb_dim, cin_layers, cin_variant: field-embedding size and CIN layers (:mod:`xrec_lib.models.xdeepfm`).
        n_train_negatives: sampled negatives per training positive; n_eval_negatives: per evaluated user.
        n_users: MicroLens users sampled; top_items: only the most-watched videos (0: all).
    """

    DATASETS = ("synthetic_mosi", "synthetic_mosei", "ablation", "mosi", "microlens")

    epochs: int
    patience: int
    lr: float
    batch_size: int
    dim: int
    n_heads: int
    hidden: int
    dropout: float
    rec_epochs: int
    rec_patience: int
    rec_lr: float
    rec_batch_size: int
    emb_dim: int
    cin_layers: tuple[int, ...]
    cin_variant: str
    n_train_negatives: int
    n_eval_negatives: int
    encoder_lr: float = 5e-5
    linear_decay: bool = False
    fraction: float = 1.0
    text_trainable_layers: int = 0
    token_length: int = 32
    n_users: int | None = None
    top_items: int = 0
    weight_decay: float = 0.0
    baseline_dropout: float | None = None
    rec_weight_decay: float = 0.0
    rec_dropout: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cin_layers", tuple(self.cin_layers))
        if not 0 < self.fraction <= 1:
            raise ConfigError(f"fraction must lie in (0, 1], got {self.fraction}")
        if self.cin_variant not in CIN_VARIANTS:
            raise ConfigError(f"unknown cin_variant {self.cin_variant!r}; choose one of {', '.join(CIN_VARIANTS)}")
        for name in ("epochs", "patience", "batch_size", "rec_epochs", "rec_patience", "rec_batch_size",
                     "n_train_negatives", "n_eval_negatives"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.text_trainable_layers < 0 or self.top_items < 0:
            raise ConfigError("text_trainable_layers and top_items must be >= 0")
        if self.weight_decay < 0 or self.rec_weight_decay < 0:
            raise ConfigError("weight_decay and rec_weight_decay must be >= 0")
        for name in ("dropout", "baseline_dropout", "rec_dropout"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < 1:
                raise ConfigError(f"{name} must lie in [0, 1), got {value}")

    def tuned_for(self, model: str, tuned: Mapping[str, Mapping[str, Any]] | None) -> "Paper001Settings":
        """These settings with ``model``'s tuned values (``xrec_lib.tuning.load_tuned``) laid over them: a
        recommender's ``lr`` / ``weight_decay`` / ``dropout`` set ``rec_lr`` / ``rec_weight_decay`` /
        ``rec_dropout`` (:data:`RECOMMENDER_KNOBS`), a sentiment baseline's ``dropout`` sets ``baseline_dropout``,
        every other knob the field of its name. No tuned values: these settings unchanged."""
        fields = RECOMMENDER_KNOBS if model in RECOMMENDERS else BASELINE_KNOBS if model in BASELINES else {}
        values = (tuned or {}).get(model) or {}
        return self.for_model(model, {model: {fields.get(knob, knob): value for knob, value in values.items()}})

    @property
    def model_spec(self) -> ModelSpec:
        """Sizes of the sentiment models."""
        return ModelSpec(dim=self.dim, n_heads=self.n_heads, hidden=self.hidden, dropout=self.dropout,
                         text_trainable_layers=self.text_trainable_layers)
