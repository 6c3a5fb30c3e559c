"""The equal-budget tuner: same trials and kinds of knobs for every model, written and read back."""

import pandas as pd
import pytest

from xrec_lib.errors import ConfigError
from xrec_lib.tuning import Knob, check_equal_budget, load_tuned, search_space, tune, write_tuned


def test_every_model_gets_the_same_budget_and_its_best_values(tmp_path):
    spaces = {"A": search_space(Knob("n_layers", 1, 4, integer=True)), "B": search_space(dropout=True)}
    seen = []

    def objective(model, values):
        seen.append(model)
        return -abs(values["lr"] - 1e-3)   # best near lr = 1e-3

    best, trials = tune(spaces, objective, n_trials=12, seed=0)
    assert seen.count("A") == seen.count("B") == 12
    assert trials.groupby("model").size().to_dict() == {"A": 12, "B": 12}
    assert abs(best["A"]["lr"] - 1e-3) < abs(trials.loc[trials["model"] == "A", "lr"] - 1e-3).median()
    assert set(best["B"]) == {"lr", "weight_decay", "dropout"}
    write_tuned("nb", best, trials, {"n_trials": 12}, folder=tmp_path)
    assert load_tuned("nb", folder=tmp_path)["A"]["n_layers"] == best["A"]["n_layers"]
    assert load_tuned("other", folder=tmp_path) == {}


def test_unequal_budgets_and_spaces_are_refused():
    with pytest.raises(ConfigError, match="at most one knob"):
        check_equal_budget({"A": search_space(Knob("x", 0, 1)) + (Knob("y", 0, 1),)})
    with pytest.raises(ConfigError, match="starts with"):
        check_equal_budget({"A": (Knob("x", 0, 1),)})
    trials = pd.DataFrame({"model": ["A", "A", "B"], "number": [0, 1, 0]})
    with pytest.raises(ConfigError, match="unequal tuning budgets"):
        check_equal_budget({"A": search_space(), "B": search_space()}, trials)
