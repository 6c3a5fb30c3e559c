"""MiniLM files, the per-text vector cache and the fine-tunable top layers."""

import hashlib

import numpy as np
import pytest
import torch

from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.multimodal import MULTIMODAL_MODELS, ModelSpec
from xrec_lib.studies.paper001.multimodal import SentimentObjective
from xrec_lib.text import MINILM_DIM, MINILM_SHA256, MiniLMTopLayers, encode_texts, minilm_path


def test_minilm_weights_hash():
    digest = hashlib.sha256((minilm_path() / "model.safetensors").read_bytes()).hexdigest()
    assert digest.startswith("53aa5117") and digest == MINILM_SHA256


def test_cache_hit_skips_the_encoder(tmp_path):
    calls = []

    def fake(texts):
        calls.append(list(texts))
        return np.arange(len(texts) * 3, dtype=np.float32).reshape(len(texts), 3)

    first = encode_texts(["a b", "c"], tmp_path, fake)
    second = encode_texts(["a b", "c"], tmp_path, fake)
    assert len(calls) == 1 and np.array_equal(first, second)
    third = encode_texts(["c", "a", "b c", "a"], tmp_path, fake)  # same characters, different texts: a miss
    assert calls[1] == ["a", "b c"]  # only the missing distinct texts, each once
    assert np.array_equal(third[0], first[1]) and np.array_equal(third[1], third[3])
    assert not np.array_equal(third[1], third[2])
    encode_texts(["a b"], tmp_path, fake, model_tag="another encoder")  # a separate store per encoder
    assert len(calls) == 3


def test_bad_text_input(tmp_path):
    with pytest.raises(DataError, match="strings"):
        encode_texts(["ok", None], tmp_path, lambda t: np.zeros((len(t), 2)))


def test_real_minilm_similarity(tmp_path):
    vectors = encode_texts(["wireless headphones", "Wireless Bluetooth Headphones", "Yoga Mat"], tmp_path)
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > 0.6 > vectors[0] @ vectors[2]


def test_top_layers_continue_the_cached_lower_layers(tmp_path):
    texts = ["a fine and moving film", "bad"]
    lower = encode_texts(texts, tmp_path, token_length=8, layer=4)
    last = encode_texts(texts, tmp_path, token_length=8)
    top = MiniLMTopLayers(2).eval()
    mask = torch.as_tensor(lower[..., -1])
    with torch.no_grad():
        continued = top(torch.as_tensor(lower[..., :-1]), mask)
    valid = mask.bool()
    assert torch.allclose(continued[valid], torch.as_tensor(last[..., :-1])[valid], atol=1e-4)
    assert not torch.allclose(torch.as_tensor(lower[..., :-1])[valid], continued[valid], atol=1e-2)
    with pytest.raises(ConfigError, match="n_layers"):
        MiniLMTopLayers(7)


def test_fine_tuned_layers_get_their_own_learning_rate():
    model = MULTIMODAL_MODELS.build("Text-only", {"text": MINILM_DIM}, ModelSpec(hidden=4, text_trainable_layers=1))
    data = {"train": {"regression_labels": np.zeros(4, np.float32)}}
    groups = SentimentObjective(model, data, batch_size=2, use_slgm=False, seed=0, encoder_lr=5e-5).param_groups(1e-3)
    encoder_ids = {id(p) for p in model.text_layers.parameters()}
    assert [g["lr"] for g in groups] == [1e-3, 5e-5]
    assert {id(p) for p in groups[1]["params"]} == encoder_ids
    assert not encoder_ids & {id(p) for p in groups[0]["params"]}
