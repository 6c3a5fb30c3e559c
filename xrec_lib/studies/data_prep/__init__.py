"""Notebook 00: every dataset of a profile, built and described (:mod:`.study`), and its figures (:mod:`.figures`)."""
