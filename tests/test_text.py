"""MiniLM files and the content-hash cache of sentence vectors."""

import hashlib

import numpy as np
import pytest

from xrec_lib.errors import DataError
from xrec_lib.text import MINILM_SHA256, encode_texts, minilm_path


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
    encode_texts(["a", "b c"], tmp_path, fake)  # same characters, different texts: a miss
    assert len(calls) == 2


def test_bad_text_input(tmp_path):
    with pytest.raises(DataError, match="strings"):
        encode_texts(["ok", None], tmp_path, lambda t: np.zeros((len(t), 2)))


def test_real_minilm_similarity(tmp_path):
    vectors = encode_texts(["wireless headphones", "Wireless Bluetooth Headphones", "Yoga Mat"], tmp_path)
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > 0.6 > vectors[0] @ vectors[2]
