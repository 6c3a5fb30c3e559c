"""Experiment runners of the notebooks, one module per paper stage; each returns DataFrames and plain objects."""
