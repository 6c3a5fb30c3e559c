"""Synthetic, paper-shaped multimodal sentiment data (MOSI/MOSEI sizes and MMSA feature dimensions).

Every sample ``i`` draws one latent sentiment component per modality, ``u_t, u_a, u_v ~ N(0, 1)``, and a latent
score

    z = sqrt(s_t) u_t + sqrt(s_a) u_a + sqrt(s_v) u_v + sqrt(s_ta) u_t u_a + sqrt(1 - sum s) e,   e ~ N(0, 1)

(variance 1). ``s_m`` (``signal_share``) is the share of the variance carried by modality ``m`` and ``s_ta`` a
text-audio interaction that only a model combining the two can use. The label is ``z`` mapped through its rank
within the split onto CMU-MOSI's own label distribution: ``y_i = F^-1((rank_i - 1/2) / n)`` with ``F`` the
empirical distribution of MOSI's 1,281 training labels (:data:`MOSI_TRAIN_LABEL_COUNTS`, the annotator means on their own grid, e.g. 0.2,
0.25, 1/3), so the 7-class shares and the neutral share match MOSI's label file while the order of the samples is
that of ``z``. (``label_counts=None``: the earlier ``clip(scale * z, -3, 3)`` rounded to 0.2.)

**Calibration** (on a baseline, never on the proposed model): the signal ``amplitude`` is set so that the
text-only baseline, trained by the package's loop with its tuned settings at the paper profile's scale, reaches the MAE it
has on real CMU-MOSI transcripts (``benchmarks/calibrate_synthetic_001.py``, log in
``benchmarks/results/calibrate_synthetic_001.md``). Modality ``m``'s sequence has a random valid length;
at each valid step the feature vector is ``amplitude * u_m * w_m + N(0, I)`` for a fixed random unit direction
``w_m``; padded steps are 0. The result is an MMSA-style dict ``{"train"|"valid"|"test": {...}}`` with keys ``text``,
``audio``, ``vision`` (N, L, d), ``text_lengths``, ``audio_lengths``, ``vision_lengths``, ``regression_labels``
and ``id``. All of it is synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from xrec_lib.errors import ConfigError, DataError

MODALITIES = ("text", "audio", "vision")


@dataclass(frozen=True)
class MultimodalShape:
    """Split sizes, feature sizes and sequence length of a synthetic dataset."""

    name: str
    sizes: tuple[int, int, int]
    dims: dict[str, int]
    seq_len: int = 50

    def scaled(self, fraction: float) -> "MultimodalShape":
        """The same shape with every split size multiplied by ``fraction`` (at least 8 samples each)."""
        if not 0 < fraction <= 1:
            raise ConfigError(f"size fraction must lie in (0, 1], got {fraction}")
        sizes = tuple(max(8, round(n * fraction)) for n in self.sizes)
        return MultimodalShape(self.name, sizes, self.dims, self.seq_len)


MOSI_SHAPE = MultimodalShape("MOSI", (1284, 229, 686), {"text": 384, "audio": 5, "vision": 20})
MOSEI_SHAPE = MultimodalShape("MOSEI", (16326, 1871, 4659), {"text": 384, "audio": 74, "vision": 35})


#: Counts of each label value among CMU-MOSI's training labels (``label.csv``, ``mode == "train"``, 1,281 clips).
MOSI_TRAIN_LABEL_COUNTS: dict[float, int] = {
    -3: 3, -2.8: 9, -2.6: 12, -2.5: 1, -2.4: 12, -2.25: 1, -2.2: 29, -2: 52, -1.8: 39, -1.75: 3, -1.6: 56,
    -1.5: 5, -1.4: 38, -1.25: 6, -1.2: 36, -1: 62, -0.8: 48, -0.75: 6, -0.6667: 2, -0.6: 29, -0.5: 14, -0.4: 44,
    -0.3333: 2, -0.25: 5, -0.2: 37, 0: 53, 0.2: 37, 0.25: 8, 0.3333: 1, 0.4: 37, 0.5: 9, 0.6: 40, 0.6667: 1,
    0.75: 2, 0.8: 40, 1: 38, 1.2: 41, 1.25: 1, 1.3333: 1, 1.4: 63, 1.5: 2, 1.6: 62, 1.75: 3, 1.8: 66, 2: 77,
    2.2: 67, 2.4: 35, 2.6: 26, 2.8: 16, 3: 4,
}


@dataclass(frozen=True)
class SignalSpec:
    """How the sentiment signal is spread over the modalities (shares of the label variance), how loud it is in the
    features, and the label distribution (module docstring)."""

    signal_share: dict[str, float] = field(default_factory=lambda: {"text": 0.45, "audio": 0.15, "vision": 0.15})
    interaction_share: float = 0.1
    amplitude: float = 1.025  # calibrated: text-only test MAE 0.967 (mean of 5 seeds) against 0.961 on real MOSI
    scale: float = 1.4
    label_counts: dict[float, int] | None = field(default_factory=lambda: dict(MOSI_TRAIN_LABEL_COUNTS))

    def labels(self, z: np.ndarray) -> np.ndarray:
        """The labels of latent scores ``z`` (module docstring)."""
        if self.label_counts is None:
            return np.round(np.clip(self.scale * z, -3, 3) * 5) / 5
        values = np.array(sorted(self.label_counts), dtype=np.float64)
        cumulative = np.cumsum([self.label_counts[v] for v in sorted(self.label_counts)], dtype=np.float64)
        quantiles = (stats.rankdata(z, method="ordinal") - 0.5) / len(z)
        position = np.searchsorted(cumulative / cumulative[-1], quantiles, side="left")
        return values[np.minimum(position, len(values) - 1)]

    def noise_share(self) -> float:
        rest = 1.0 - sum(self.signal_share.values()) - self.interaction_share
        if rest < 0:
            raise DataError(f"signal shares sum to more than 1: {self.signal_share}, interaction {self.interaction_share}")
        return rest


def synthetic_multimodal(shape: MultimodalShape = MOSI_SHAPE, spec: SignalSpec = SignalSpec(),
                         seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Generate the three splits described in the module docstring (float32 features)."""
    rng = np.random.default_rng(seed)
    directions = {m: _unit(rng.standard_normal(shape.dims[m])) for m in MODALITIES}
    noise_share = spec.noise_share()
    data = {}
    for split, n in zip(("train", "valid", "test"), shape.sizes):
        latent = {m: rng.standard_normal(n) for m in MODALITIES}
        z = sum(np.sqrt(spec.signal_share.get(m, 0.0)) * latent[m] for m in MODALITIES)
        z = z + np.sqrt(spec.interaction_share) * latent["text"] * latent["audio"]
        z = z + np.sqrt(noise_share) * rng.standard_normal(n)
        labels = spec.labels(z)
        part = {"regression_labels": labels.astype(np.float32),
                "id": np.array([f"synthetic-{shape.name}-{split}-{i}" for i in range(n)])}
        for m in MODALITIES:
            lengths = rng.integers(shape.seq_len // 4, shape.seq_len + 1, size=n)
            part[m], part[f"{m}_lengths"] = _sequences(rng, latent[m], directions[m], lengths, shape.seq_len,
                                                       spec.amplitude), lengths
        data[split] = part
    return data


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def _sequences(rng: np.random.Generator, latent: np.ndarray, direction: np.ndarray, lengths: np.ndarray,
               seq_len: int, amplitude: float) -> np.ndarray:
    """(N, seq_len, d): ``amplitude * latent_i * direction + noise`` on the first ``lengths[i]`` steps, 0 after."""
    n, dim = len(latent), len(direction)
    features = rng.standard_normal((n, seq_len, dim), dtype=np.float32)
    features += (amplitude * latent)[:, None, None].astype(np.float32) * direction[None, None, :].astype(np.float32)
    features *= (np.arange(seq_len)[None, :] < lengths[:, None])[:, :, None]
    return features
