"""Learning curves drawn from the recorded training runs, and the bundle adding them to every notebook."""

import json

import matplotlib
import pandas as pd

from xrec_lib.config import load_config
from xrec_lib.results import LEARNING_CURVES, ResultsBundle
from xrec_lib.training.curves import curves_frame, learning_curves_figure
from xrec_lib.training.loop import FitResult

matplotlib.use("Agg")


def _fit(values, best_epoch, monitor="ndcg"):
    history = pd.DataFrame({"epoch": range(1, len(values) + 1), "loss": [0.5] * len(values),
                            f"val_{monitor}": values})
    return FitResult(None, history, best_epoch, max(values), "patience", True, monitor)


def test_frame_keeps_the_monitored_metric_per_run_and_marks_the_restored_epoch():
    records = [{"data": "synthetic", "model": m, "seed": s, **_fit([0.1, 0.3, 0.2], 2).summary(),
                "history": _fit([0.1, 0.3, 0.2], 2).history.to_dict(orient="records")}
               for m in ("GCN", "MF") for s in (0, 1)]
    records.append({"data": "real", "model": "GCN", "seed": 0, **_fit([0.4, float("nan")], 1, "mae").summary(),
                    "history": _fit([0.4, float("nan")], 1, "mae").history.to_dict(orient="records")})
    frame = curves_frame(records)
    assert len(frame) == 4 * 3 + 1                       # the NaN evaluation is dropped
    assert set(frame["panel"]) == {"synthetic", "real"}
    assert frame.loc[frame["best"], "epoch"].tolist() == [2, 2, 2, 2, 1]
    assert frame.loc[frame["panel"] == "real", "monitor"].tolist() == ["mae"]
    figure = learning_curves_figure(frame)
    assert len([ax for ax in figure.axes if ax.get_visible()]) == 2
    assert learning_curves_figure(curves_frame([])) is None


def test_bundle_writes_learning_curves_when_it_recorded_training(tmp_path):
    config = load_config("00_data_prep", "smoke", reports_dir=tmp_path)
    bundle = ResultsBundle(config)
    bundle.add_training(_fit([0.1, 0.2, 0.25], 3), data="synthetic", model="GCN", seed=0)
    target = bundle.write()
    assert (target / "figures" / f"{LEARNING_CURVES}.png").is_file()
    results = json.loads((target / "results.json").read_text())
    assert results["training"][0]["monitor"] == "ndcg"
    assert LEARNING_CURVES in results["figures"]
    quiet = ResultsBundle(load_config("00_data_prep", "smoke", reports_dir=tmp_path / "other"))
    assert not (quiet.write() / "figures").exists()
