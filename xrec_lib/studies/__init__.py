"""One package per notebook study: ``data_prep`` (00), ``paper000`` (01-02), ``paper001`` (03), ``paper002`` (04),
``ablations`` (05). Each holds the study's typed settings, its experiments, its tables and verdicts
(``tables.py``) and its figures (``figures.py``, functions of DataFrames that return matplotlib figures)."""
