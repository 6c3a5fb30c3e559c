"""The typed settings of paper 000's two notebooks: :class:`RepresentationSettings` (notebook 01, the encoders)
and :class:`InteractionSettings` (notebook 02, the interaction heads and the business scenarios), each built from
its profile by :meth:`xrec_lib.config.Settings.from_config`."""

from __future__ import annotations

from dataclasses import dataclass

from xrec_lib.config import Settings
from xrec_lib.training.encoders import EncoderTrainConfig


@dataclass(frozen=True)
class RepresentationSettings(Settings):
    """Hyper-parameters shared by all encoders of one comparison (profile ``01_siamese_gcn.yaml``).

    The ``amazon:`` and ``xmarket:`` blocks of the profile replace some of them for the Amazon pairs
    (``amazon_pairs``) and the XMarket pairs (``xmarket_pairs``) (``RepresentationSettings.from_config(cfg,
    "amazon")``): the budget (``epochs``, ``max_batches``), the number of
    seeds and the alignment weight. The alignment weight is set per dataset: the InfoNCE term is scale-free while
    the ranking loss starts near ``ln 2`` with near-zero gradients, so a weight that helps on the synthetic data can
    dominate the first steps on Amazon Elec->Phone (documented in the profile).

    Attributes:
        synthetic_scale: paper-preset counts times this (:func:`scaled_synthetic_config`).
        n_seeds: the run's seeds used at most (None: all of them).
        dim, n_layers, lightgcn_layers, rgcn_bases, alignment_weight, temperature: the encoders' sizes
            (:class:`xrec_lib.models.encoders.EncoderSizes`).
        epochs, batch_size, lr, l2, patience, max_batches: the training budget, the same for every encoder
            (:class:`xrec_lib.training.encoders.EncoderTrainConfig`; ``epochs`` is the cap).
        val_fraction: share of the training interactions held out for early stopping.
        loss: the ranking loss of every encoder (``"bpr"``: eq. (4) of the paper).
        fanouts: None: every step propagates the whole graph; a list (one entry per layer): neighbour-sampled
            steps (:mod:`xrec_lib.models.sampling`; not for RGCN).
        device: ``"cpu"`` or ``"cuda"``.
    """

    DATASETS = ("amazon", "xmarket")
    IGNORED = ("xmarket_pairs", "amazon_pairs")

    synthetic_scale: float = 1.0
    n_seeds: int | None = None
    dim: int = 64
    n_layers: int = 2
    lightgcn_layers: int = 3
    epochs: int = 30
    batch_size: int = 8192
    lr: float = 5e-3
    l2: float = 1e-4
    patience: int = 3
    val_fraction: float = 0.1
    max_batches: int | None = None
    loss: str = "bpr"
    alignment_weight: float = 0.1
    temperature: float = 0.2
    rgcn_bases: int = 4
    fanouts: list | None = None
    device: str = "cpu"

    def train_config(self, seed: int) -> EncoderTrainConfig:
        return EncoderTrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, loss=self.loss,
                                  l2=self.l2, patience=self.patience, max_batches=self.max_batches, seed=seed,
                                  fanouts=None if self.fanouts is None else tuple(self.fanouts),
                                  device=self.device)


@dataclass(frozen=True)
class InteractionSettings(Settings):
    """The notebook parameters of ``profiles/02_bilinear_attention.yaml`` (same names); the profile's ``amazon:``
    and ``xmarket:`` blocks replace some of them for the real-data studies
    (``InteractionSettings.from_config(cfg, "amazon")``; the pairs are the top-level ``amazon_pairs`` and
    ``xmarket_pairs``).

    Attributes:
        synthetic_scale: paper-preset counts times this.
        dim, n_layers, encoder_epochs, encoder_batch_size, encoder_lr, encoder_max_batches: the encoders and
            their training budget (:meth:`encoder_settings`).
        head_epochs, head_batch_size, head_lr, head_weight_decay, hidden, n_negatives: the heads and their
            training (``head_epochs`` is the cap; ``head_weight_decay``: Adam's weight decay). ``make tune`` sets
            ``head_lr`` and ``head_weight_decay`` per head
            (:func:`~xrec_lib.studies.paper000.head_tuning.tuned_settings`).
        patience: validation evaluations without improvement before any model of the notebook (encoder, head,
            end-to-end) stops; val_fraction: share of the training pairs held out for it.
        alignment_weight: the Siamese GCN's alignment-loss weight (as in notebook 01, per data set).
        n_candidates: ``C``, products retrieved by inner product and reranked by a head.
        ks: cut-offs of every ranking metric.
        eval_every, curve_users: epochs between the points of Fig. 9's curves, and the users they are measured on.
        high_value_share, cold_start_max: the business-scenario slices
            (:class:`~xrec_lib.studies.paper000.tasks.Slices`).
        end_to_end: add Table 2's jointly trained row.
        n_seeds: the run's seeds used at most (None: all of them).
        max_users: interactions of at most this many seeded random users (None: all;
            :func:`~xrec_lib.studies.paper000.tasks.subsample_users`).
        device: ``"cpu"`` or ``"cuda"``.
    """

    DATASETS = ("amazon", "xmarket")
    IGNORED = ("xmarket_pairs", "amazon_pairs")

    synthetic_scale: float = 0.03
    dim: int = 32
    n_layers: int = 2
    encoder_epochs: int = 5
    encoder_batch_size: int = 4096
    encoder_lr: float = 0.01
    encoder_max_batches: int | None = None
    head_epochs: int = 5
    head_batch_size: int = 1024
    head_lr: float = 0.003
    head_weight_decay: float = 0.0
    hidden: int = 64
    n_negatives: int = 4
    patience: int = 3
    val_fraction: float = 0.1
    alignment_weight: float = 0.1
    n_candidates: int = 200
    ks: tuple[int, ...] = (5, 10, 15, 20, 30)
    eval_every: int = 1
    curve_users: int = 2000
    high_value_share: float = 0.2
    cold_start_max: int = 4
    end_to_end: bool = True
    n_seeds: int | None = None
    max_users: int | None = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        object.__setattr__(self, "ks", tuple(self.ks))

    def encoder_settings(self) -> RepresentationSettings:
        """The notebook-01 settings every encoder is trained with: ``dim``, ``n_layers``, the encoder budget (at
        most ``encoder_epochs`` epochs of ``encoder_max_batches`` batches), ``patience``, ``val_fraction`` and
        ``alignment_weight``, notebook 01's defaults otherwise."""
        return RepresentationSettings(dim=self.dim, n_layers=self.n_layers, epochs=self.encoder_epochs,
                                      batch_size=self.encoder_batch_size, lr=self.encoder_lr,
                                      max_batches=self.encoder_max_batches, patience=self.patience,
                                      val_fraction=self.val_fraction, alignment_weight=self.alignment_weight,
                                      device=self.device)
