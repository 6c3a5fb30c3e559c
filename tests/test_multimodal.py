"""Shapes and fusion dimension of paper 001's multimodal model and baselines; the model registry."""

import pytest
import torch

from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.multimodal import (ABLATIONS, BASELINES, MULTIMODAL_MODELS, PROPOSED, FusionConfig,
                                        LateFusionBaseline, ModelSpec, MultimodalFusionTransformer, SoftMapping,
                                        TensorFusionBaseline, UnfoldedFusion)

DIMS = {"text": 12, "audio": 5, "vision": 7}


def batch(n=4, length=6):
    torch.manual_seed(0)
    out = {}
    for m, d in DIMS.items():
        out[m] = torch.randn(n, length, d)
        out[m + "_mask"] = torch.ones(n, length)
    out["audio_mask"][:, 3:] = 0
    return out


def test_uff_dimension_is_product_of_extended_sizes_and_keeps_unimodal_terms():
    t, a, v = torch.randn(2, 3), torch.randn(2, 2), torch.randn(2, 4)
    fused = UnfoldedFusion()([t, a, v])
    assert fused.shape == (2, (3 + 1) * (2 + 1) * (4 + 1)) == (2, UnfoldedFusion.output_dim((3, 2, 4)))
    cube = fused.reshape(2, 4, 3, 5)
    assert torch.allclose(cube[:, :3, -1, -1], t)           # unimodal text terms
    assert torch.allclose(cube[:, :3, :2, -1], t[:, :, None] * a[:, None, :])  # bimodal text-audio terms
    assert torch.allclose(cube[:, -1, -1, -1], torch.ones(2))


def test_full_model_outputs_all_tasks_and_ablations_run():
    for use_lgt in (True, False):
        for use_sm in (True, False):
            model = MultimodalFusionTransformer(FusionConfig(DIMS, dim=8, n_heads=2, head_hidden=6,
                                                             use_lgt=use_lgt, use_soft_mapping=use_sm))
            out = model(batch())
            assert {k: v.shape for k, v in out.items() if k != "features"} == {t: (4,) for t in "MTAV"}
            assert all(f.shape == (4, 6) for f in out["features"].values())


def test_soft_mapping_ignores_padded_steps():
    torch.manual_seed(1)
    mapping = SoftMapping(4, 8, 2)
    x, mask = torch.randn(2, 5, 4), torch.tensor([[1, 1, 1, 0, 0]] * 2).float()
    changed = x.clone()
    changed[:, 3:] = 100.0
    assert torch.allclose(mapping(x, mask), mapping(changed, mask))


def test_lgt_makes_audio_branch_depend_on_text():
    model = MultimodalFusionTransformer(FusionConfig(DIMS, dim=8, n_heads=2)).eval()
    b = batch()
    other = dict(b, text=b["text"] + 1.0)
    assert not torch.allclose(model.unimodal_vectors(b)["audio"], model.unimodal_vectors(other)["audio"])
    plain = MultimodalFusionTransformer(FusionConfig(DIMS, dim=8, n_heads=2, use_lgt=False)).eval()
    assert torch.allclose(plain.unimodal_vectors(b)["audio"], plain.unimodal_vectors(other)["audio"])


def test_baselines_and_text_only():
    b = batch()
    assert TensorFusionBaseline(DIMS)(b)["M"].shape == (4,)
    late = LateFusionBaseline(DIMS)(b)
    assert torch.allclose(late["M"], (late["T"] + late["A"] + late["V"]) / 3)
    assert set(LateFusionBaseline({"text": 12})(b)) == {"T", "M"}


def test_registry_builds_every_model_of_the_comparison():
    assert MULTIMODAL_MODELS.names() == (PROPOSED, *ABLATIONS, *BASELINES)
    spec = ModelSpec(dim=8, n_heads=2, hidden=6)
    for name in MULTIMODAL_MODELS:
        assert MULTIMODAL_MODELS.build(name, DIMS, spec)(batch())["M"].shape == (4,)
    ablated = MULTIMODAL_MODELS.build("w/o LGT, w/o SM", DIMS, spec)
    assert not ablated.config.use_lgt and not ablated.config.use_soft_mapping
    assert set(MULTIMODAL_MODELS.build("Text-only", DIMS, spec)(batch())) == {"T", "M"}
    with pytest.raises(ConfigError, match="unknown multimodal model"):
        MULTIMODAL_MODELS.build("MulT", DIMS, spec)
    with pytest.raises(ConfigError, match="TFN"):
        MULTIMODAL_MODELS.build("TFN", DIMS, ModelSpec(text_trainable_layers=1))
    with pytest.raises(DataError, match="text"):
        MULTIMODAL_MODELS.build(PROPOSED, {"audio": 5}, spec)
