"""Notebook 04's computed text: the worked example through GConv-Transform and the Tables 1-3 interpretations,
on constructed inputs."""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from xrec_lib.errors import DataError
from xrec_lib.models.gconv_transform import PAD_BEHAVIOUR, GConvTransform, NodeInput
from xrec_lib.studies.paper002 import narrative
from xrec_lib.studies.paper002.settings import MODEL_NAMES, OURS
from xrec_lib.studies.paper002.task import ExampleSet

# ------------------------------------------------------------------------------------------- worked example


@pytest.fixture(scope="module")
def examples() -> ExampleSet:
    """Three subgraphs (S = 6): 3, 5 and 5 history nodes; labels 0, 1, 1."""
    pad = 20
    items = torch.tensor([[3, 1, 2, 4, pad, pad], [5, 6, 7, 8, 9, 1], [2, 3, 4, 5, 6, 7]])
    behaviours = torch.tensor([[0, 1, 4, 2, PAD_BEHAVIOUR, PAD_BEHAVIOUR], [0, 1, 1, 3, 4, 2], [0, 4, 4, 1, 1, 1]])
    return ExampleSet(items, behaviours, torch.tensor([4, 6, 6]), torch.tensor([0.0, 1.0, 1.0]))


@pytest.fixture(scope="module")
def model() -> GConvTransform:
    torch.manual_seed(0)
    features = torch.randn(20, 3)
    return GConvTransform(NodeInput(features, id_dim=4), hidden=8, n_layers=2, heads=2, cheb_k=3, dropout=0.5)


def test_choose_example_takes_the_first_largest_subgraph_of_the_class(examples):
    assert narrative.choose_example(examples, label=1) == 1
    assert narrative.choose_example(examples, label=0) == 0
    assert narrative.choose_example(examples, label=None) == 1
    with pytest.raises(DataError):
        narrative.choose_example(ExampleSet(examples.items[:1], examples.behaviours[:1], examples.lengths[:1],
                                            examples.labels[:1]), label=1)


def test_trace_reproduces_the_forward_pass_and_lists_every_stage(model, examples):
    model.train()
    for index in range(len(examples)):
        example = narrative.trace_example(model, examples, index)
        assert example.matches_forward, (example.logits, example.forward_logits)
        expected = np.exp(example.logits) / np.exp(example.logits).sum()
        assert example.probabilities == pytest.approx(expected, abs=1e-6)
        assert example.label == int(examples.labels[index]) and example.n_classes == 2
    assert model.training  # the trace restores the mode it found
    example = narrative.trace_example(model, examples, 0)
    shapes = example.stages["shape"].tolist()
    n_nodes = int(examples.lengths[0])
    assert shapes[0] == f"1 × {n_nodes} × {model.node_input.out_dim}"
    assert shapes[2] == f"1 × {n_nodes} × 8"  # after the encoder ChebConv: width d
    assert sum("block" in s for s in example.stages["stage"]) == 4  # N = 2 blocks, attention + graph each
    assert shapes[-3:] == [f"1 × {n_nodes} × 2", "1 × 2", "1 × 2"]  # C = 2 class logits, then their softmax


def test_trace_graph_and_attention(model, examples):
    example = narrative.trace_example(model, examples, 1)
    n_history = int(examples.lengths[1]) - 1
    assert list(example.nodes["behaviour"]) == ["(candidate)", "view", "view", "favourite", "buy", "cart"]
    assert (example.edges["kind"] == "star").sum() == n_history
    assert (example.edges["kind"] == "chain").sum() == n_history - 1
    assert set(zip(example.edges["u"], example.edges["v"])) >= {(0, 1), (0, 5), (1, 2), (4, 5)}
    heads = [c for c in example.attention.columns if c.startswith("head")]
    assert len(heads) == 2
    assert example.attention[heads].sum().to_numpy() == pytest.approx(np.ones(2), abs=1e-5)
    assert example.attention["mean"].sum() == pytest.approx(1.0, abs=1e-5)
    text = narrative.worked_example_markdown(example, "toy")
    top = int(example.attention.set_index("node")["mean"].drop(index=0).idxmax())
    assert f"node {top}" in text and "**Label:** class 1" in text
    assert f"{example.probabilities[example.predicted]:.3f}" in text and "C = 2" in text
    assert "5 history nodes" in text and "5 star edges" in text and "4 chain edges" in text
    assert "star 0–1, 0–2, 0–3, 0–4, 0–5; chain 1–2, 2–3, 3–4, 4–5." in text
    assert "Warning" not in text


def test_trace_of_the_query_node_with_categories():
    torch.manual_seed(0)
    pad = 20
    model = GConvTransform(NodeInput(torch.randn(pad, 3), id_dim=4), hidden=8, n_layers=1, heads=2, n_classes=5)
    examples = ExampleSet(torch.tensor([[pad, 1, 2, 3]]), torch.tensor([[0, 1, 4, 1]]), torch.tensor([4]),
                          torch.tensor([3]))
    categories = np.arange(pad) % 5
    example = narrative.trace_example(model, examples, 0, categories, ("a", "b", "c", "d", "e"))
    assert example.nodes.loc[0, "role"].startswith("query") and pd.isna(example.nodes.loc[0, "product"])
    assert example.nodes["category"].tolist()[1:] == [1, 2, 3] and example.probabilities.shape == (5,)
    text = narrative.worked_example_markdown(example)
    assert "the query node of the purchase to predict" in text and "**Label:** d (class 3)" in text
    assert "1 of 3 history nodes are in the label's category" in text and "C = 5" in text


def test_trace_of_a_model_without_attention_has_no_weights(examples):
    torch.manual_seed(0)
    plain = GConvTransform(NodeInput(torch.randn(20, 3), id_dim=0), hidden=8, n_layers=1, heads=2,
                           use_attention=False, use_cheb=False)
    example = narrative.trace_example(plain, examples, 2)
    assert example.attention.empty and example.matches_forward
    assert "Attention" not in narrative.worked_example_markdown(example)
    with pytest.raises(DataError):
        narrative.trace_example(plain, examples, 3)


def test_trained_model_picks_the_selected_fit_of_the_seed():
    def run(model, seed, selected, module):
        return SimpleNamespace(labels={"model": model, "seed": seed, "selected": selected},
                               fit=SimpleNamespace(module=module))
    runs = SimpleNamespace(fits=[run(OURS, 0, False, "grid"), run("DNN", 0, True, "dnn"), run(OURS, 0, True, "kept"),
                                 run(OURS, 1, True, "seed 1")])
    assert narrative.trained_model(runs, 0) == "kept"
    assert narrative.trained_model(runs, 1) == "seed 1"
    with pytest.raises(DataError):
        narrative.trained_model(runs, 2)


# ------------------------------------------------------------------------------------------- interpretations


def _table1(accuracy: dict, seeds=(0, 1, 2)) -> pd.DataFrame:
    """Per-seed Table-1 rows: the given mean accuracy with a small seed wiggle; times and sizes by position."""
    rows = []
    for i, model in enumerate(MODEL_NAMES):
        for seed in seeds:
            rows.append({"model": model, "seed": seed, "accuracy": accuracy[model] + 0.002 * seed * (i % 3),
                         "inference_ms": 1.0 + i, "params": 1000 * (len(MODEL_NAMES) - i)})
    return pd.DataFrame(rows)


PAPER_LIKE = {"SVM": 0.146, "DNN": 0.443, "CNN": 0.462, "DenseNet": 0.789, "DenseCNN": 0.812, "Graph": 0.642,
              "Attention": 0.523, OURS: 0.831}


def test_paired_gap_and_reading():
    rows = _table1(PAPER_LIKE)
    gap = narrative.paired_gap(rows, "model", OURS, "SVM")
    assert gap["n"] == 3 and gap["mean"] == pytest.approx(0.831 - 0.146 + 0.002)  # seed wiggle of model 7 vs 0
    assert gap["low"] <= gap["mean"] <= gap["high"] and narrative.reading(gap) == "interval above 0"
    assert narrative.reading({"n": 3, "mean": -0.1, "low": -0.2, "high": -0.05}) == "interval below 0"
    assert narrative.reading({"n": 3, "mean": 0.0, "low": -0.2, "high": 0.1}) == "interval covers 0"
    single = narrative.paired_gap(_table1(PAPER_LIKE, seeds=(0,)), "model", OURS, "SVM")
    assert math.isnan(single["low"]) and narrative.reading(single) == "one seed: no interval"


def test_table1_orderings_match_the_paper_when_the_numbers_do():
    orders = narrative.table1_orderings(_table1(PAPER_LIKE))
    accuracy = orders.loc["accuracy (best first)"]
    assert accuracy["ours"] == accuracy["paper"]
    assert accuracy["paper"][:3] == [OURS, "DenseCNN", "DenseNet"]
    assert orders.loc["inference time (fastest first)", "paper"][0] == "SVM"
    assert orders.loc["parameters (fewest first)", "ours"][0] == OURS  # constructed: the last model is smallest


def test_table1_interpretation_reports_ranks_gaps_and_size():
    reversed_ = {m: 1.0 - v for m, v in PAPER_LIKE.items()}
    text = narrative.table1_interpretation(_table1(reversed_), n_layers=3, hidden=16)
    assert f"{OURS} ranks 8 of 8 here, 1 of 8 in the paper" in text
    assert "Kendall's τ of the two orderings = -1.00" in text
    assert "vs DNN: -38.8 points [-38.8, -38.8] (interval below 0); paper +38.8; opposite sign to the paper" in text
    assert "ours SVM, DNN, CNN, Attention, Graph, DenseNet, DenseCNN, GConv-Transform" in text
    assert "N = 22" in text and "23.4 M parameters" in text
    assert "N = 3, width d = 16" in text and "0.001 M parameters (1,000)" in text
    agreeing = narrative.table1_interpretation(_table1(PAPER_LIKE), n_layers=2)
    assert f"{OURS} ranks 1 of 8 here, 1 of 8 in the paper" in agreeing
    assert "opposite sign" not in agreeing


def test_size_sentence_needs_our_rows():
    with pytest.raises(DataError):
        narrative.size_sentence(pd.DataFrame({"model": ["SVM"], "params": [1]}), 2)


def _ablation(drops: dict, seeds=(0, 1, 2)) -> pd.DataFrame:
    return pd.DataFrame([{"model": variant, "seed": seed, "accuracy": 0.8 - drop + 0.001 * seed * k}
                         for k, (variant, drop) in enumerate(drops.items(), start=1) for seed in seeds])


def test_table2_interpretation_names_the_largest_drop_and_compares_with_the_paper():
    table1 = _table1({m: 0.8 for m in MODEL_NAMES})
    text = narrative.table2_interpretation(_ablation({"without Chebyshev convolution": 0.2,
                                                      "without graph convolution": 0.05,
                                                      "without attention": 0.1}), table1)
    assert "The largest drop here comes without Chebyshev convolution" in text
    assert "the same part" in text and "paper +38.5" in text and "paper +8.8" in text
    assert "here removing attention costs more than removing the graph convolution" in text
    other = narrative.table2_interpretation(_ablation({"without Chebyshev convolution": 0.01,
                                                       "without graph convolution": 0.1,
                                                       "without attention": 0.02}), table1)
    assert "The largest drop here comes without graph convolution" in other and "a different part" in other
    assert "costs less" in other
    assert "the paper prints no value" in other  # no printed "without attention" row


def test_trend():
    assert narrative.trend([0.5, 0.6, 0.7]) == "rises"
    assert narrative.trend([0.7, 0.6]) == "falls"
    assert narrative.trend([0.5, 0.7, 0.6]) == "mixed"
    assert narrative.trend([0.5]) == "single"


def test_table3_interpretation_compares_the_trend_with_the_paper():
    def depth(values: dict, seeds=(0, 1)):
        return pd.DataFrame([{"n_layers": n, "seed": s, "accuracy": a + 0.001 * s} for n, a in values.items()
                             for s in seeds])
    rising = narrative.table3_interpretation(depth({2: 0.6, 4: 0.65, 8: 0.7}))
    assert "it rises at every step" in rising and "the same trend as the paper" in rising
    assert "N = 12: 0.746" in rising and "do not overlap" in rising
    assert "N = 2 → 4: +5.0 points" in rising
    falling = narrative.table3_interpretation(depth({1: 0.7, 2: 0.6}, seeds=(0,)))
    assert "it falls at every step" in falling and "not the paper's trend" in falling
    assert "one seed: no interval" in falling
    overlapping = narrative.table3_interpretation(depth({12: 0.7, 16: 0.69}))
    assert "N = 12, 16 appear in both" in overlapping


def test_run_scale_markdown_states_the_task_and_its_chance():
    settings = SimpleNamespace(scale=0.002, history_len=12, n_layers=2, hidden=64, heads=4, cheb_k=3, max_epochs=2,
                               patience=1, depth=SimpleNamespace(values=(1, 2)))
    statistics = pd.DataFrame({"task": ["next category, C = 50"], "classes": [50], "chance": [0.02],
                               "majority class share (test)": [0.05], "users": [500], "products": [300],
                               "train examples": [2000], "validation examples": [400], "test examples": [250]},
                              index=pd.Index([0], name="seed"))
    text = narrative.run_scale_markdown(settings, statistics)
    assert "next category, C = 50" in text and "chance 1/C = 2.0%" in text and "holds 5.0%" in text


def test_run_scale_markdown_reads_the_settings_and_statistics():
    settings = SimpleNamespace(scale=0.002, history_len=12, n_layers=2, hidden=64, heads=4, cheb_k=3, max_epochs=2,
                               patience=1, depth=SimpleNamespace(values=(1, 2)))
    statistics = pd.DataFrame({"users": [500], "products": [300], "train examples": [2000],
                               "validation examples": [400], "test examples": [250]}, index=pd.Index([0], name="seed"))
    text = narrative.run_scale_markdown(settings, statistics)
    assert "0.20% of the paper's 18,000,000 behaviours (36,000 per seed)" in text
    assert "2,000 / 400 / 250" in text and "N = 2, d = 64" in text and "N = 1, 2" in text
