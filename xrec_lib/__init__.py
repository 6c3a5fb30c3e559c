"""xrec: a reproducible study of three recommendation papers (000 Siamese GCN + BLA, 001 multimodal fusion +
BERT/xDeepFM, 002 GConv-Transform) on paper-shaped synthetic data and real public data."""

__version__ = "0.1.0"
