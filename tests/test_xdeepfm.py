"""CIN output sizes for both variants, the CTR model parts and the recommender registry."""

import pytest
import torch

from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.xdeepfm import RECOMMENDERS, CompressedInteractionNetwork, CTRModel


@pytest.mark.parametrize("variant, expected", [("deepctr", 8 // 2 + 6 // 2 + 4), ("fuxictr", 8 + 6 + 4)])
def test_cin_output_sizes(variant, expected):
    cin = CompressedInteractionNetwork(n_fields=5, layer_sizes=(8, 6, 4), variant=variant)
    out = cin(torch.randn(3, 5, 7))
    assert cin.output_dim == expected and out.shape == (3, expected)


def test_fuxictr_cin_is_linear_in_conv_output_and_deepctr_is_non_negative():
    torch.manual_seed(0)
    assert (CompressedInteractionNetwork(4, (6, 4), "deepctr")(torch.randn(8, 4, 3)) >= 0).all()
    assert (CompressedInteractionNetwork(4, (6, 4), "fuxictr")(torch.randn(8, 4, 3)) < 0).any()


def test_bad_cin_inputs():
    with pytest.raises(ConfigError, match="variant"):
        CompressedInteractionNetwork(3, (4,), "other")
    with pytest.raises(ConfigError, match="even"):
        CompressedInteractionNetwork(3, (5, 4), "deepctr")


@pytest.mark.parametrize("parts", [("linear", "cin", "dnn"), ("linear", "fm", "dnn"), ("dnn",)])
def test_ctr_model_logits(parts):
    model = CTRModel([10, 20], parts, dim=4, text_dim=6, cin_layers=(4, 2))
    logits = model(torch.tensor([[1, 2], [9, 19]]), torch.randn(2, 6))
    assert logits.shape == (2,) and torch.isfinite(logits).all()
    with pytest.raises(DataError, match="text"):
        model(torch.tensor([[1, 2]]))


def test_fm_term_by_hand():
    model = CTRModel([2, 2], ("fm",), dim=2)
    with torch.no_grad():
        model.fields.embedding.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0], [2.0, 3.0], [0.0, 0.0]]))
    assert torch.allclose(model(torch.tensor([[0, 0]])), torch.tensor([2.0]))  # <e0, e2> = 1*2 + 0*3


def test_recommender_registry():
    assert RECOMMENDERS.names() == ("BERT + xDeepFM", "xDeepFM (no text)", "DeepFM", "DNN only")
    built = {name: RECOMMENDERS.build(name, [10, 20], 6, dim=4, cin_layers=(4, 2)) for name in RECOMMENDERS}
    assert [name for name, model in built.items() if model.uses_text] == ["BERT + xDeepFM"]
    assert built["DeepFM"].parts == ("linear", "fm", "dnn") and built["DNN only"].cin is None
    with pytest.raises(ConfigError, match="unknown recommender"):
        RECOMMENDERS.build("FM", [10, 20], 6)
