"""SLGM centre and label updates on a hand-made case (Self-MM scheme)."""

import math

import pytest
import torch

from xrec_lib.errors import ConfigError
from xrec_lib.models.slgm import SelfSupervisedLabelGenerator


def generator():
    slgm = SelfSupervisedLabelGenerator(4, {"M": 1, "T": 1})
    slgm.init_labels(torch.tensor([2.0, 1.0, -1.0, -2.0]))
    slgm.update_features(torch.arange(4), {"M": torch.tensor([[2.0], [2.0], [0.0], [0.0]]),
                                           "T": torch.tensor([[1.0], [3.0], [0.0], [-2.0]])})
    slgm.update_centers()
    return slgm


def test_centres_are_class_means_of_own_labels():
    slgm = generator()
    assert slgm.centers["T"]["pos"].item() == 2.0 and slgm.centers["T"]["neg"].item() == -1.0
    assert slgm.centers["M"]["pos"].item() == 2.0 and slgm.centers["M"]["neg"].item() == 0.0


def test_label_update_by_hand():
    slgm = generator()
    # sample 0: fusion feature 2 -> d_p=0, d_n=2, delta_f = 2/1e-8 is huge; use sample 2 instead (feature 0)
    # sample 2: fusion d_p=2, d_n=0 -> delta_f=-1; text feature 0: d_p=2, d_n=1 -> delta_s=-0.5
    slgm.update_labels(torch.tensor([2]), {"M": torch.tensor([[0.0]]), "T": torch.tensor([[0.0]])}, epoch=2)
    alpha = -0.5 / -1.0
    new = 0.5 * alpha * -1.0 + 0.5 * (-1.0 + -0.5 - -1.0)
    expected = 1 / 3 * -1.0 + 2 / 3 * new
    assert math.isclose(slgm.labels["T"][2].item(), expected, rel_tol=1e-6)
    assert slgm.labels["M"][2].item() == -1.0  # the multimodal label never changes
    assert math.isclose(slgm.loss_weights(torch.tensor([2]))["T"].item(), math.tanh(abs(expected + 1.0)), rel_tol=1e-6)


def test_labels_are_clipped_to_bound():
    slgm = generator()
    slgm.update_labels(torch.tensor([0]), {"M": torch.tensor([[0.0]]), "T": torch.tensor([[2.0]])}, epoch=1)
    assert -3.0 <= slgm.labels["T"][0].item() <= 3.0


def test_feature_dims_need_the_fusion_task():
    with pytest.raises(ConfigError, match="'M'"):
        SelfSupervisedLabelGenerator(4, {"T": 1})
