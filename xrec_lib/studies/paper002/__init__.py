"""Paper 002 (GConv-Transform), notebook 04: Tables 1-3 on synthetic shopping logs, and a real-data check.

* :mod:`.settings`: the profile's typed values, the model names and the ablation variants;
* :mod:`.task`: behaviour log -> ego-subgraph examples of the next-category task (C = 50 on synthetic data;
  the binary buy task where a dataset has no category);
* :mod:`.training`: fitting a Table-1 model (the training objective, the one stopping rule, learning-rate
  selection);
* :mod:`.measures`: accuracy, AUC, HR/NDCG@10 and inference time of a fitted model;
* :mod:`.protocol`: the experiments, one row per (model, seed), with every fit of the training loop;
* :mod:`.tables`: the tables beside the paper's values, and the verdicts (one family, Holm-corrected);
* :mod:`.figures`: the figures, learning curves included.
"""

from xrec_lib.studies.paper002.settings import ABLATIONS, MODEL_NAMES, OURS, Paper002Settings

__all__ = ["ABLATIONS", "MODEL_NAMES", "OURS", "Paper002Settings"]
