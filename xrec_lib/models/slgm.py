"""Self-supervised unimodal label generation (SLGM, paper 001 eq. 18-22).

The paper states the idea (eq. 18: the map from modal representation to label is proportional across
modalities), the positive and negative class centres of each modality (eq. 19-20) and a relative-distance score
(eq. 21-22, written as ``sum_j sqrt(F(j) C(j))``, undefined for negative features), but not the label formula.
Where it is vague this module follows the published Self-MM scheme (Yu et al., AAAI 2021; thuiar/MMSA
``trains/multiTask/SELF_MM.py``):

* features ``F`` are the post-ReLU head features ``F_s*`` of eq. 16, stored for every training sample;
* centres ``C_p^m`` / ``C_n^m`` = mean feature of the samples whose *own-modality* label is ``> 0`` / ``< 0``
  (zero labels excluded), recomputed after every batch (eq. 19-20);
* distances ``d_p = ||F - C_p||``, ``d_n = ||F - C_n||`` (L2, Self-MM's choice for eq. 21-22) give the relative
  score ``delta = (d_n - d_p) / (d_p + eps)``, for the unimodal feature (``delta_s``) and the fusion one (``delta_f``);
* new label ``y_s = 0.5 * alpha * y_m + 0.5 * (y_m + delta_s - delta_f)`` with ``alpha = delta_s / (delta_f + eps)``,
  clipped to ``[-H, H]``;
* momentum update at epoch ``n`` (1-based, from the 2nd epoch): ``y^(n) = (n-1)/(n+1) y^(n-1) + 2/(n+1) y_s``;
* unimodal loss weight ``tanh(|y_s - y_m|)`` (fusion weight 1).
"""

from __future__ import annotations

import torch

from xrec_lib.errors import ConfigError

EPS = 1e-8


class SelfSupervisedLabelGenerator:
    """Unimodal labels of ``n_samples`` training samples for the tasks ``"T"``, ``"A"``, ``"V"`` beside ``"M"``.

    Args:
        n_samples: training-set size (labels and features are indexed by sample position).
        feature_dims: task name -> dimension of its head feature, including ``"M"``.
        bound: the label range ``H`` (3.0 for MOSI/MOSEI).
    """

    def __init__(self, n_samples: int, feature_dims: dict[str, int], bound: float = 3.0):
        if "M" not in feature_dims:
            raise ConfigError("feature_dims must include the fusion task 'M'")
        self.bound = bound
        self.features = {task: torch.zeros(n_samples, dim) for task, dim in feature_dims.items()}
        self.labels = {task: torch.zeros(n_samples) for task in feature_dims}
        self.centers = {task: {"pos": torch.zeros(dim), "neg": torch.zeros(dim)} for task, dim in feature_dims.items()}

    @property
    def unimodal_tasks(self) -> list[str]:
        return [task for task in self.labels if task != "M"]

    def init_labels(self, labels: torch.Tensor) -> None:
        """Start every task's labels from the multimodal labels."""
        for task in self.labels:
            self.labels[task] = labels.detach().float().cpu().clone()

    def update_features(self, indices: torch.Tensor, features: dict[str, torch.Tensor]) -> None:
        """Store the detached head features of the samples ``indices``."""
        for task, value in features.items():
            self.features[task][indices] = value.detach().float().cpu()

    def update_centers(self) -> None:
        """Eq. 19-20: class centres from the stored features, split by each task's own current labels."""
        for task, features in self.features.items():
            positive, negative = self.labels[task] > 0, self.labels[task] < 0
            if positive.any():
                self.centers[task]["pos"] = features[positive].mean(0)
            if negative.any():
                self.centers[task]["neg"] = features[negative].mean(0)

    def relative_distance(self, task: str, features: torch.Tensor) -> torch.Tensor:
        """``(d_n - d_p) / (d_p + eps)`` of each row of ``features`` to the task's centres (eq. 21-22)."""
        d_pos = torch.linalg.vector_norm(features - self.centers[task]["pos"], dim=-1)
        d_neg = torch.linalg.vector_norm(features - self.centers[task]["neg"], dim=-1)
        return (d_neg - d_pos) / (d_pos + EPS)

    def update_labels(self, indices: torch.Tensor, features: dict[str, torch.Tensor], epoch: int) -> None:
        """Regenerate the unimodal labels of ``indices`` from their current features; ``epoch`` is 1-based."""
        features = {task: value.detach().float().cpu() for task, value in features.items()}
        delta_f = self.relative_distance("M", features["M"])
        fusion_labels = self.labels["M"][indices]
        for task in self.unimodal_tasks:
            delta_s = self.relative_distance(task, features[task])
            alpha = delta_s / (delta_f + EPS)
            generated = 0.5 * alpha * fusion_labels + 0.5 * (fusion_labels + delta_s - delta_f)
            generated = generated.clamp(-self.bound, self.bound)
            old = self.labels[task][indices]
            self.labels[task][indices] = (epoch - 1) / (epoch + 1) * old + 2 / (epoch + 1) * generated

    def loss_weights(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample loss weight of every task: 1 for ``"M"``, ``tanh(|y_s - y_m|)`` for the unimodal ones."""
        fusion_labels = self.labels["M"][indices]
        weights = {"M": torch.ones_like(fusion_labels)}
        for task in self.unimodal_tasks:
            weights[task] = torch.tanh(torch.abs(self.labels[task][indices] - fusion_labels))
        return weights

    def targets(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """Current label of every task for the samples ``indices``."""
        return {task: labels[indices] for task, labels in self.labels.items()}
