"""Models of the study. Entity encoders (paper 000, Fig. 6-8) share one interface:

* built from a :class:`~xrec_lib.models.encoders.GraphData` (``GraphData.from_dataset(dataset)`` for a
  :class:`~xrec_lib.data.crossdomain.CrossDomainDataset`, ``GraphData.from_interactions(csr)`` for a plain
  user x item matrix) plus hyper-parameters (``dim``, ``n_layers``);
* ``encoder()`` (``forward`` with no argument) propagates the whole graph once and returns
  ``(user_emb, item_emb)`` of shapes ``n_users x dim`` and ``n_items x dim``; scores are inner products;
* ``encoder.set_graph(graph)`` swaps in another graph over the same nodes (e.g. the full training graph after
  early stopping on a held-out slice);
* ``encoder.ego_embeddings(users, items)`` gives the layer-0 ID embeddings (L2 penalty), and
  ``encoder.auxiliary_loss(user_emb, item_emb, users)`` a model-specific extra loss (zero except for the
  Siamese GCN's cross-domain alignment).

:func:`xrec_lib.training.encoders.train_encoder` trains any of them; :func:`xrec_lib.training.encoders.embeddings`
returns the trained vectors.
"""

from xrec_lib.models.encoders import (ENCODERS, GCN, RGCN, GraphData, GraphEncoder, GraphSAGE, LightGCN,
                                     MatrixFactorization)
from xrec_lib.models.interaction import HEADS
from xrec_lib.models.siamese_gcn import CrossDomainViews, GCNBranch, SiameseGCN

__all__ = ["ENCODERS", "HEADS", "GCN", "RGCN", "CrossDomainViews", "GCNBranch", "GraphData", "GraphEncoder", "GraphSAGE", "LightGCN",
           "MatrixFactorization", "SiameseGCN"]
