"""Figures of the notebooks, one module per area; every function returns a matplotlib ``Figure``."""
