"""The two-stage recommender of paper 000 on one's own ids: save it, load it, ask it for a user's top-k.

:class:`OwnDataRecommender` wraps :class:`xrec_lib.serving.TwoStageRecommender` (offline embeddings, retrieval of
``C`` target products by inner product, reranking by the trained interaction head) with the id maps of a
:func:`xrec_lib.data.tables.to_crossdomain` dataset, so that requests and answers use the ids of the user's file:

* :meth:`OwnDataRecommender.recommend` takes a user id as written in the file (string or integer) and returns the
  item ids of the target side, as written in the file, with their scores (head logits), best first; the user's
  training items are never recommended;
* **cold start**: a user id the training file does not hold gets the target side's most popular items (number of
  training users per item; ties: lower item id first), scored by that count and flagged ``cold_start=True``.

:meth:`OwnDataRecommender.save` writes the serving files of :meth:`TwoStageRecommender.save` plus ``ids.json``
(the raw ids and where they came from) into a folder; :meth:`OwnDataRecommender.load` reads them back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from xrec_lib.data.crossdomain import TARGET, CrossDomainDataset
from xrec_lib.models.interaction import InteractionHead
from xrec_lib.serving import DEFAULT_CANDIDATES, ServingInputError, TwoStageRecommender

IDS = "ids.json"


@dataclass(frozen=True)
class OwnRecommendation:
    """The answer to one request, in the file's ids.

    Attributes:
        user_id: the requested user, as given.
        items: item ids of the target side, best first (at most ``k``).
        scores: the head's logits of ``items`` (two-stage), or their training popularity (cold start).
        cold_start: True when ``user_id`` is not in the training file and the popularity fallback answered.
    """

    user_id: object
    items: np.ndarray
    scores: np.ndarray
    cold_start: bool

    def frame(self) -> pd.DataFrame:
        """One row per recommended item: ``rank``, ``item``, ``score``, ``cold_start``."""
        return pd.DataFrame({"rank": np.arange(1, len(self.items) + 1), "item": self.items, "score": self.scores,
                             "cold_start": self.cold_start})


class OwnDataRecommender:
    """A :class:`~xrec_lib.serving.TwoStageRecommender` over the target side, addressed by the file's ids
    (module docstring). ``user_ids[u]`` is the raw id of serving user ``u``, ``item_ids[j]`` that of serving item
    ``j``; ``info`` is free-form provenance written with the recommender (data, model, settings)."""

    def __init__(self, serving: TwoStageRecommender, user_ids: np.ndarray, item_ids: np.ndarray,
                 info: dict | None = None):
        if len(user_ids) != serving.n_users or len(item_ids) != serving.n_items:
            raise ServingInputError(f"{len(user_ids)} user ids / {len(item_ids)} item ids for a recommender of "
                                    f"{serving.n_users} users and {serving.n_items} items")
        self.serving, self.user_ids, self.item_ids = serving, np.asarray(user_ids), np.asarray(item_ids)
        self.info = dict(info or {})
        self._user_index = {str(raw): index for index, raw in enumerate(self.user_ids)}

    @classmethod
    def from_training(cls, dataset: CrossDomainDataset, user_emb: torch.Tensor, item_emb: torch.Tensor,
                      head: InteractionHead, n_candidates: int = DEFAULT_CANDIDATES,
                      info: dict | None = None) -> "OwnDataRecommender":
        """From a :func:`~xrec_lib.data.tables.to_crossdomain` dataset, the encoder's vectors of its users and of
        every product (``item_emb``: ``(n_products, d)``) and a head trained on the target products: serves the
        target listings, excludes each user's training items, cold start by target training popularity."""
        if "user_ids" not in dataset.meta or "item_ids" not in dataset.meta:
            raise ServingInputError(f"{dataset.name} has no raw ids in meta; build it with "
                                    "xrec_lib.data.tables.to_crossdomain")
        items = np.flatnonzero(dataset.product_domain == TARGET)
        seen = dataset.interaction_matrix("train")[:, items]
        serving = TwoStageRecommender(user_emb, item_emb[torch.from_numpy(items).to(item_emb.device)], head,
                                      n_candidates, seen=seen)
        raw_items = dataset.meta["item_ids"][dataset.meta["product_item"][items]]
        return cls(serving, dataset.meta["user_ids"], raw_items, {"data": dataset.name, **(info or {})})

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def knows(self, user_id: object) -> bool:
        """Whether ``user_id`` (a raw id) has an embedding (else it gets the cold-start fallback)."""
        return str(user_id) in self._user_index

    def recommend(self, user_id: object, k: int = 10) -> OwnRecommendation:
        """Top-``k`` target items for the raw ``user_id`` (module docstring); an unknown id gets the popularity
        fallback, flagged ``cold_start=True``."""
        if user_id is None or (isinstance(user_id, str) and not user_id.strip()):
            raise ServingInputError(f"user_id must be a user id of the file, got {user_id!r}")
        index = self._user_index.get(str(user_id), self.n_users)  # ids >= n_users: cold start
        answer = self.serving.recommend(index, k)
        return OwnRecommendation(user_id, self.item_ids[answer.items], answer.scores, answer.cold_start)

    def save(self, directory: str | Path) -> Path:
        """The serving files (:meth:`TwoStageRecommender.save`) and ``ids.json`` into ``directory``."""
        directory = self.serving.save(directory)
        ids = {"user_ids": [str(u) for u in self.user_ids], "item_ids": [str(i) for i in self.item_ids],
               "user_ids_int": self.user_ids.dtype.kind == "i", "item_ids_int": self.item_ids.dtype.kind == "i",
               "info": self.info}
        (directory / IDS).write_text(json.dumps(ids, indent=1, default=str) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path, device: str = "cpu") -> "OwnDataRecommender":
        """A recommender written by :meth:`save`."""
        directory = Path(directory)
        if not (directory / IDS).is_file():
            raise FileNotFoundError(f"{directory} holds no {IDS}; save an OwnDataRecommender there first")
        ids = json.loads((directory / IDS).read_text())

        def restore(values: list[str], as_int: bool) -> np.ndarray:
            return np.array(values, dtype=np.int64) if as_int else np.array(values, dtype=str)

        return cls(TwoStageRecommender.load(directory, device), restore(ids["user_ids"], ids["user_ids_int"]),
                   restore(ids["item_ids"], ids["item_ids_int"]), ids.get("info"))
