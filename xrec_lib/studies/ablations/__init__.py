"""Notebook 05: the three papers' ablations gathered from the results bundles (:mod:`.study`) and drawn (:mod:`.figures`)."""
