"""Paper 000 (Siamese GCN + bilinear attention), notebooks 01 and 02.

* Notebook 01, entity representation (Fig. 6-8): :mod:`.representation` (settings, encoder training and
  target-domain evaluation, the embedding cache, the notebook's steps) and :mod:`.representation_tables` (tables,
  the alignment ablation, verdicts).
* Notebook 02, interaction layer (Fig. 9-14, Table 2): :mod:`.tasks` (the target-domain task, ranking methods,
  slices, ROC pairs, reference levels), :mod:`.head_training` (the heads' training objectives), :mod:`.interaction`
  (settings and the per-seed experiments) and :mod:`.interaction_tables` (tables, verdicts, figures per paper item).
* :mod:`.verdicts`: what both notebooks' verdicts share (chance and perfect reference levels, the at-chance rule,
  collapsed seeds); :mod:`.figures`: the figures of both notebooks, functions of DataFrames.
"""
