"""Shapes and fusion dimension of paper 001's multimodal model and baselines."""

import torch

from xrec_lib.models.multimodal import (FusionConfig, LateFusionBaseline, MultimodalFusionTransformer, SoftMapping,
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
