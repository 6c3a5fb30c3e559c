import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from xrec_lib.config import load_config
from xrec_lib.studies.data_prep import figures as data_plots
from xrec_lib.studies.data_prep import study as data_prep


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    import os

    os.environ["XREC_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    cfg = load_config("00_data_prep", "smoke", reports_dir=tmp_path_factory.mktemp("reports"))
    return data_prep.synthetic_crossdomain(data_prep.DataPrepSettings.from_config(cfg), cfg.seed)


def test_one_synthetic_dataset_per_scenario(synthetic):
    assert list(synthetic) == ["sparse", "sufficient"]
    assert all(ds.synthetic for ds in synthetic.values())


def test_statistics_sit_beside_the_paper_counts(synthetic):
    table = data_prep.crossdomain_statistics(synthetic)
    assert table.loc["users", "paper 000 (Alibaba/AliExpress)"] == 52516
    assert table.loc["train interactions", "paper 000 (Alibaba/AliExpress)"] == 747186
    assert all("(synthetic)" in column for column in table.columns[:-1])
    sparse, sufficient = table.columns[:2]
    assert table.loc["train interactions, target (B2C)", sparse] < table.loc["train interactions, target (B2C)", sufficient]


def test_domain_overlap_shares_sum_to_one(synthetic):
    overlap = data_prep.domain_overlap(synthetic)
    np.testing.assert_allclose(overlap.sum(axis=1), 1.0)
    assert (overlap.values >= 0).all()


def test_missing_real_data_is_listed_not_faked(tmp_path):
    matrices, table, missing = data_prep.real_datasets(tmp_path)
    assert matrices == {} and table.empty
    assert "gowalla" in missing and "ml-100k" in missing


def test_figures_have_the_papers_panels(synthetic):
    matrices = data_prep.train_matrices(synthetic)
    long_tail = data_plots.popularity_long_tail(matrices)
    assert [ax.get_title()[:3] for ax in long_tail.axes] == ["(a)", "(b)"]
    assert len(long_tail.axes[0].get_lines()) == len(matrices)
    degrees = data_plots.degree_distribution(matrices)
    assert degrees.axes[0].get_xscale() == "log"
    overlap = data_plots.domain_overlap(data_prep.domain_overlap(synthetic))
    assert len(overlap.axes[0].patches) == 3 * len(synthetic)
