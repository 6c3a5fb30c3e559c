"""Interaction heads of paper 000 (xrec_lib.models.interaction): shapes, gradients, attention, tiny overfit."""

import pytest
import torch
from sklearn.metrics import roc_auc_score

from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.interaction import HEADS, BilinearAttentionHead, BilinearHead, head_loss
from xrec_lib.training import LoopConfig, Objective, fit

TRAINABLE = [name for name in HEADS if name != "dot"]


class FixedBatch(Objective):
    """One batch per epoch through the training loop; ``loss(head, *batch)`` is minimised."""

    def __init__(self, head, batch, loss):
        self.module, self.batch, self.loss_of = head, batch, loss

    def batches(self, epoch):
        yield self.batch

    def loss(self, batch):
        return self.loss_of(self.module, *batch)


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)
    torch.manual_seed(0)


@pytest.mark.parametrize("name", list(HEADS))
def test_head_returns_one_logit_per_pair(name):
    head = HEADS.build(name, dim=8, hidden=16)
    out = head(torch.randn(5, 8), torch.randn(5, 8))
    assert out.shape == (5,)
    assert torch.isfinite(out).all()
    assert ((head.predict_proba(torch.randn(5, 8), torch.randn(5, 8)) > 0) &
            (head.predict_proba(torch.randn(5, 8), torch.randn(5, 8)) < 1)).all()


@pytest.mark.parametrize("name", TRAINABLE)
def test_gradients_reach_every_parameter(name):
    """After one Adam step (BLA's zero-initialised last attention layer blocks the first layer's gradient at the
    very start), every parameter gets a gradient."""
    head = HEADS.build(name, dim=8, hidden=16)
    batch = torch.randn(6, 8), torch.randn(6, 8), torch.randn(6, 3, 8)
    fit(FixedBatch(head, batch, head_loss), LoopConfig(max_epochs=1, lr=1e-2))
    head.zero_grad()
    head_loss(head, *batch).backward()
    missing = [n for n, p in head.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert not missing, f"no gradient reaches {missing}"


def test_attention_weights_are_positive_and_sum_to_one_over_dimensions():
    head = BilinearAttentionHead(dim=8, hidden=16)
    weights_u, weights_p = head.attention_weights(torch.randn(4, 8) * 3, torch.randn(4, 8) * 3)
    for weights in (weights_u, weights_p):
        assert weights.shape == (4, 8)
        assert (weights > 0).all()
        torch.testing.assert_close(weights.sum(dim=1), torch.ones(4))


def test_untrained_bla_has_uniform_attention_and_equals_bl_built_under_the_same_seed():
    """W2 = 0, b2 = 0 at the start: a = 1/d, x' = d (a ⊙ x) = x, and BL's layers are initialised first in both."""
    torch.manual_seed(7)
    bla = BilinearAttentionHead(dim=8, hidden=16)
    torch.manual_seed(7)
    bl = BilinearHead(dim=8, hidden=16)
    u, p = torch.randn(5, 8) * 3, torch.randn(5, 8) * 3
    for weights in bla.attention_weights(u, p):
        torch.testing.assert_close(weights, torch.full((5, 8), 1 / 8))
    torch.testing.assert_close(bla(u, p), bl(u, p))


def test_bla_attention_scales_by_dimension():
    """Eq. 7: x' = d (a ⊙ x) for trained (non-uniform) attention."""
    bla = BilinearAttentionHead(dim=8, hidden=16)
    torch.nn.init.normal_(bla.user_attention.score[2].weight)
    x = torch.randn(4, 8)
    weights = bla.user_attention.weights(x)
    assert not torch.allclose(weights, torch.full_like(weights, 1 / 8))
    torch.testing.assert_close(bla.user_attention(x), 8 * weights * x)


def toy_separable_pairs(n_pairs: int = 256, dim: int = 8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pairs labelled by the sign of their inner product (separable by the bilinear form u^T p)."""
    generator = torch.Generator().manual_seed(1)
    users, products = torch.randn(n_pairs, dim, generator=generator), torch.randn(n_pairs, dim, generator=generator)
    return users, products, ((users * products).sum(1) > 0).float()


@pytest.mark.parametrize("name", TRAINABLE)
def test_head_overfits_a_toy_separable_set(name):
    users, products, labels = toy_separable_pairs()
    head = HEADS.build(name, dim=8, hidden=32)

    def bce(model, users, products, labels):
        return torch.nn.functional.binary_cross_entropy_with_logits(model(users, products), labels)

    fit(FixedBatch(head, (users, products, labels), bce), LoopConfig(max_epochs=300, lr=1e-2))
    with torch.no_grad():
        assert roc_auc_score(labels.numpy(), head(users, products).numpy()) > 0.95


def test_spec_rebuilds_the_same_architecture():
    head = HEADS.build("BLA", dim=8, hidden=12)
    assert head.spec == {"name": "BLA", "dim": 8, "hidden": 12}
    rebuilt = HEADS.build(**head.spec)
    rebuilt.load_state_dict(head.state_dict())


def test_bad_head_name_and_shapes_raise_clear_errors():
    with pytest.raises(ConfigError, match="unknown interaction head"):
        HEADS.build("BLAH", dim=8)
    with pytest.raises(DataError, match=r"\(B, 8\)"):
        HEADS.build("BLA", dim=8)(torch.randn(3, 8), torch.randn(3, 7))
