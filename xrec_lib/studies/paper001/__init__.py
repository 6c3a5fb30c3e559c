"""Notebook 03, paper 001: the multimodal fusion Transformer with SLGM labels (:mod:`.multimodal`), the BERT +
xDeepFM short-video recommender (:mod:`.recommender`), the paper's tables and verdicts (:mod:`.tables`), figures
(:mod:`.figures`), the typed profile values (:mod:`.settings`) and the notebook's sections (:mod:`.study`)."""
