"""Paper 001, multimodal sentiment part: Tables I-IV, the ablation (Fig. 8), per-epoch curves (Fig. 9) and the
SLGM labels (Table V), on synthetic MOSI/MOSEI-shaped data and on real CMU-MOSI transcripts (text modality only:
the MOSI audio/visual features are not available offline).

Training follows Self-MM: Adam, L1 loss summed over the tasks (SLGM-weighted unimodal tasks), model selection on
the validation MAE; the test metrics reported are those of the best validation epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from xrec_lib.compare import judge, seed_summary
from xrec_lib.config import seed_everything
from xrec_lib.data.mosi import load_mosi_labels
from xrec_lib.metrics_regression import REGRESSION_METRIC_NAMES, regression_metrics
from xrec_lib.models.multimodal import (FusionConfig, LateFusionBaseline, MultimodalFusionTransformer,
                                        TensorFusionBaseline)
from xrec_lib.models.slgm import SelfSupervisedLabelGenerator
from xrec_lib.papers import as_frame
from xrec_lib.text import MINILM_DIM, MiniLMTopLayers, encode_texts

Split = dict[str, np.ndarray]
PROPOSED = "Proposed (LGT + SM + UFF + SLGM)"
ABLATIONS = {"LGT + SM": (True, True), "w/o LGT": (False, True), "w/o SM": (True, False), "w/o LGT, w/o SM": (False, False)}
BASELINES = ("Text-only", "Late fusion", "TFN")
PAPER_TABLE_MODELS = ("MFN", "RAVEN", "MCTN", "MulT", "MISA", "Self-MM", "Proposed")
MMSA_MODELS = ("TFN", "MFN", "MulT", "MISA", "Self-MM")
MINILM_LAYERS = 6
PAPER_ITEMS = {"table1": "Table I", "table2": "Table II", "table3": "Table III", "table4": "Table IV",
               "fig8": "Fig. 8"}


@dataclass
class TrainResult:
    """One training run: per-epoch history, best-epoch test metrics and predictions, the label generator."""

    history: pd.DataFrame
    test_metrics: dict[str, float]
    test_predictions: np.ndarray
    slgm: SelfSupervisedLabelGenerator | None


def modalities_of(split: Split) -> tuple[str, ...]:
    return tuple(m for m in ("text", "audio", "vision") if m in split)


def to_batch(split: Split, rows: np.ndarray, device: str) -> dict[str, torch.Tensor]:
    """Tensors of the samples ``rows``: each modality, cut to the longest sequence among ``rows`` (every model
    masks the padded steps, so the cut changes no output and saves the padded steps' cost), plus a mask built from
    its ``<m>_lengths``."""
    batch = {}
    for m in modalities_of(split):
        lengths = torch.as_tensor(split[f"{m}_lengths"][rows], device=device)
        width = max(int(lengths.max()), 1)
        features = torch.as_tensor(split[m][rows][:, :width], dtype=torch.float32, device=device)
        batch[m] = features
        batch[m + "_mask"] = (torch.arange(features.shape[1], device=device)[None, :] < lengths[:, None]).float()
    return batch


def mosi_text_splits(data_dir: Path, token_length: int = 32, cache: str | Path | None = None,
                     trainable_layers: int = 0, fraction: float = 1.0) -> dict[str, Split]:
    """Real CMU-MOSI (label.csv folds) with frozen MiniLM token states as the text sequence (N, L, 384): the last
    hidden states, or with ``trainable_layers=k`` those after layer ``6 - k`` (the input of the ``k`` fine-tuned
    top layers, :class:`xrec_lib.text.MiniLMTopLayers`). ``fraction < 1`` keeps the first share of every fold
    (file order), for quick runs."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    labels = load_mosi_labels(data_dir)
    fold_size = labels.groupby("mode")["mode"].transform("size").to_numpy()
    labels = labels[labels.groupby("mode").cumcount().to_numpy() < np.maximum(8, np.round(fold_size * fraction))]
    layer = MINILM_LAYERS - trainable_layers if trainable_layers else None
    states = encode_texts(labels["text"].tolist(), cache, token_length=token_length, layer=layer)
    splits = {}
    for split in ("train", "valid", "test"):
        rows = np.flatnonzero(labels["mode"].to_numpy() == split)
        part = labels.iloc[rows]
        splits[split] = {"text": states[rows, :, :MINILM_DIM],
                         "text_lengths": states[rows, :, MINILM_DIM].sum(1).astype(np.int64),
                         "regression_labels": part["label"].to_numpy(np.float32),
                         "id": (part["video_id"] + "_" + part["clip_id"].astype(str)).to_numpy()}
    return splits


def build_model(name: str, input_dims: dict[str, int], params: dict) -> nn.Module:
    """A model of the comparison by its table name (:data:`PROPOSED`, an ablation name, or a baseline).

    ``params["text_trainable_layers"] = k > 0`` (real text only) puts MiniLM's top ``k`` layers, trainable, in front
    of the text branch of the proposed model and the text-only baseline."""
    k = params.get("text_trainable_layers", 0)
    text_layers = MiniLMTopLayers(k) if k else None
    if name == "Text-only":
        return LateFusionBaseline({"text": input_dims["text"]}, hidden=params["hidden"], text_layers=text_layers)
    if name == "Late fusion":
        return LateFusionBaseline(input_dims, hidden=params["hidden"])
    if name == "TFN":
        return TensorFusionBaseline(input_dims, hidden=params["hidden"])
    use_lgt, use_sm = ABLATIONS.get(name, (True, True))
    if name not in ABLATIONS and name != PROPOSED:
        raise ValueError(f"unknown model {name!r}; use {PROPOSED!r}, {list(ABLATIONS)} or {list(BASELINES)}")
    return MultimodalFusionTransformer(FusionConfig(input_dims, dim=params["dim"], n_heads=params["n_heads"],
                                                    head_hidden=params["hidden"], dropout=params["dropout"],
                                                    use_lgt=use_lgt, use_soft_mapping=use_sm), text_layers)


def predict(model: nn.Module, split: Split, batch_size: int, device: str) -> np.ndarray:
    """Fusion predictions ``M`` of a whole split (evaluation mode, no gradients)."""
    model.eval()
    rows = np.arange(len(split["regression_labels"]))
    with torch.no_grad():
        parts = [model(to_batch(split, rows[i : i + batch_size], device))["M"].cpu().numpy()
                 for i in range(0, len(rows), batch_size)]
    return np.concatenate(parts)


def parameter_groups(model: nn.Module, lr: float, encoder_lr: float) -> list[dict]:
    """Adam groups: the fine-tuned text-encoder layers (``model.text_layers``) at ``encoder_lr``, the rest at ``lr``
    (Self-MM trains BERT with a smaller learning rate than the fusion network)."""
    encoder = getattr(model, "text_layers", None)
    encoder_ids = {id(p) for p in encoder.parameters()} if encoder is not None else set()
    groups = [{"params": [p for p in model.parameters() if id(p) not in encoder_ids], "lr": lr}]
    return groups + ([{"params": list(encoder.parameters()), "lr": encoder_lr}] if encoder_ids else [])


def learning_rate_schedule(optimizer: torch.optim.Optimizer, total_steps: int,
                           linear_decay: bool) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step schedule: every group's rate falls linearly to 0 at ``total_steps`` (``linear_decay``), or stays."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - step / total_steps if linear_decay else 1.0)


def train(model: nn.Module, data: dict[str, Split], epochs: int, lr: float, batch_size: int, use_slgm: bool,
          seed: int, device: str = "cpu", encoder_lr: float = 5e-5, linear_decay: bool = False) -> TrainResult:
    """Train on ``data["train"]``; keep the epoch with the lowest validation MAE (Self-MM's loop, SLGM optional).

    ``linear_decay``: every learning rate falls linearly to 0 over the run (the schedule BERT fine-tuning uses)."""
    seed_everything(seed)
    model.to(device)
    train_split = data["train"]
    labels = torch.as_tensor(train_split["regression_labels"], dtype=torch.float32)
    slgm = None
    if use_slgm:
        dims = {task: head.out.in_features for task, head in model.heads.items()}
        slgm = SelfSupervisedLabelGenerator(len(labels), dims)
        slgm.init_labels(labels)
    optimizer = torch.optim.Adam(parameter_groups(model, lr, encoder_lr))
    schedule = learning_rate_schedule(optimizer, epochs * -(-len(labels) // batch_size), linear_decay)
    generator = torch.Generator().manual_seed(seed)
    history, best = [], None
    for epoch in range(1, epochs + 1):
        model.train()
        losses, fusion_losses = [], []
        for rows in torch.randperm(len(labels), generator=generator).split(batch_size):
            outputs = model(to_batch(train_split, rows.numpy(), device))
            loss, fusion_loss = _loss(outputs, labels[rows], rows, slgm, device)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            fusion_losses.append(fusion_loss.item())
            if slgm is not None:
                if epoch > 1:
                    slgm.update_labels(rows, outputs["features"], epoch)
                slgm.update_features(rows, outputs["features"])
                slgm.update_centers()
        valid = regression_metrics(predict(model, data["valid"], 256, device), data["valid"]["regression_labels"])
        test_predictions = predict(model, data["test"], 256, device)
        test = regression_metrics(test_predictions, data["test"]["regression_labels"])
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)),
                        "train_loss_fusion": float(np.mean(fusion_losses)), "valid_mae": valid["mae"],
                        **{f"test_{name}": value for name, value in test.items()}})
        if best is None or valid["mae"] < best[0]:
            best = (valid["mae"], test, test_predictions)
    return TrainResult(pd.DataFrame(history), best[1], best[2], slgm)


def _loss(outputs: dict, labels: torch.Tensor, rows: torch.Tensor, slgm: SelfSupervisedLabelGenerator | None,
          device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(total loss, fusion loss): L1 on ``M``; with SLGM, plus the ``tanh(|y_s - y_m|)``-weighted L1 of every
    unimodal task (Self-MM's weighted loss).

    The unimodal labels start equal to the multimodal ones, so their weights are 0 in the first epoch and the
    unimodal terms switch on as SLGM moves the labels from the second epoch: the total loss rises at epochs 2-3
    by design while the fusion loss keeps falling (``train_loss_fusion`` in the history shows it).
    """
    fusion_loss = torch.mean(torch.abs(outputs["M"] - labels.to(device)))
    if slgm is None:
        return fusion_loss, fusion_loss
    targets, weights = slgm.targets(rows), slgm.loss_weights(rows)
    unimodal = sum(torch.mean(weights[task].to(device) * torch.abs(outputs[task] - targets[task].to(device)))
                   for task in slgm.unimodal_tasks)
    return fusion_loss + unimodal, fusion_loss


def run_models(data: dict[str, Split], dataset: str, models: tuple[str, ...], params: dict, seeds: tuple[int, ...],
               device: str = "cpu") -> tuple[pd.DataFrame, pd.DataFrame, dict[tuple[str, int], TrainResult]]:
    """Train every model for every seed. Returns per-seed test metrics, per-epoch histories and the runs.

    SLGM is on for :data:`PROPOSED` and the ablation variants (they share the multi-task heads) and off for the
    baselines.
    """
    input_dims = {m: data["train"][m].shape[-1] for m in modalities_of(data["train"])}
    rows, histories, runs = [], [], {}
    for name in models:
        for seed in seeds:
            seed_everything(seed)
            model = build_model(name, input_dims, params)
            run = train(model, data, params["epochs"], params["lr"], params["batch_size"],
                        use_slgm=name not in BASELINES, seed=seed, device=device,
                        encoder_lr=params.get("encoder_lr", 5e-5), linear_decay=params.get("linear_decay", False))
            runs[(name, seed)] = run
            rows.append({"dataset": dataset, "model": name, "seed": seed, **run.test_metrics})
            histories.append(run.history.assign(dataset=dataset, model=name, seed=seed))
    return pd.DataFrame(rows), pd.concat(histories, ignore_index=True), runs


def comparison_table(per_seed: pd.DataFrame, source: str, dataset: str, mmsa_dataset: str | None) -> pd.DataFrame:
    """A table in the layout of the paper's ``source`` (Table I-IV): the paper's rows (``paper`` column), MMSA's
    published re-runs (``mmsa`` column) and our rows (``mean`` and ``std`` over seeds, ``data`` says which data).

    The paper's Acc-2/F1 are set beside our non-zero Acc-2/F1 (the variant MOSI papers usually print; the paper
    does not say which it used).
    """
    metric_map = {"mae": "mae", "corr": "corr", "acc7": "acc7", "acc2": "acc2_non0", "f1": "f1_non0"}
    paper = as_frame(paper="001", source=source)
    paper_metrics = list(dict.fromkeys(paper["metric"]))
    rows = [{"model": r.model, "metric": r.metric, "paper": r.paper, "data": "paper (" + r.dataset + ")"}
            for r in paper.itertuples()]
    if mmsa_dataset:
        mmsa = as_frame(paper="mmsa", dataset=mmsa_dataset)
        for r in mmsa[mmsa["model"].isin(MMSA_MODELS)].itertuples():
            ours_metric = [m for m, v in metric_map.items() if v == r.metric]
            if ours_metric and ours_metric[0] in paper_metrics:
                rows.append({"model": f"{r.model} (MMSA re-run)", "metric": ours_metric[0], "mmsa": r.paper,
                             "data": f"MMSA ({mmsa_dataset}, {r.alignment})"})
    summary = seed_summary(per_seed.drop(columns=["dataset"]), by="model")
    for model in summary.index:
        for metric in paper_metrics:
            rows.append({"model": f"{model} (ours)", "metric": metric, "data": dataset,
                         "mean": summary.loc[model, (metric_map[metric], "mean")],
                         "std": summary.loc[model, (metric_map[metric], "std")]})
    long = pd.DataFrame(rows)
    values = [column for column in ("paper", "mmsa", "mean", "std") if column in long]
    table = long.pivot_table(index=["model", "data"], columns="metric", values=values, sort=False)
    return table.swaplevel(axis=1).reindex(columns=paper_metrics, level=0).dropna(axis=1, how="all")


def slgm_label_table(run: TrainResult, train_split: Split, n_samples: int = 5) -> pd.DataFrame:
    """Table V: the multimodal label and the SLGM T/A/V labels of ``n_samples`` training samples (spread over the
    label range), next to the paper's five samples (``paper`` rows)."""
    if run.slgm is None:
        raise ValueError("this run trained without SLGM: there are no generated labels")
    order = np.argsort(train_split["regression_labels"], kind="stable")
    picks = order[np.linspace(0, len(order) - 1, n_samples).round().astype(int)]
    ours = pd.DataFrame({"sample": [str(train_split["id"][i]) for i in picks],
                         "M": train_split["regression_labels"][picks]}
                        | {f"SLGM-{task}": run.slgm.labels[task][picks].numpy() for task in run.slgm.unimodal_tasks})
    paper = as_frame(paper="001", source="Table V").pivot_table(index="sample", columns="metric", values="paper")
    paper = paper.rename(columns={"multimodal_label": "M", "unimodal_label_text": "SLGM-T",
                                  "unimodal_label_audio": "SLGM-A", "unimodal_label_vision": "SLGM-V"})
    paper.index = [f"paper sample {i}" for i in paper.index]
    table = pd.concat({"paper (CMU-MOSI)": paper, "ours": ours.set_index("sample")}, names=["source", "sample"])
    return table[["M", "SLGM-T", "SLGM-A", "SLGM-V"]]


def verdicts(per_seed: pd.DataFrame, dataset: str, item: str) -> list[dict]:
    """Per-seed paired verdicts of the paper's claims on ``dataset`` for the paper item ``item`` (``"table3"``,
    ``"fig8"``, ...): the full model (:data:`PROPOSED`, or ``"LGT + SM"`` in the ablation) beats every other model
    present, on MAE (lower is better, compared negated) and non-zero Acc-2."""
    def values(model: str, metric: str) -> np.ndarray:
        frame = per_seed[per_seed["model"] == model].sort_values("seed")
        return frame[metric].to_numpy() * (-1 if metric == "mae" else 1)

    present = set(per_seed["model"])
    full = PROPOSED if PROPOSED in present else "LGT + SM"
    if full not in present:
        return []
    return [dict(judge(f"{PAPER_ITEMS[item]} ({dataset}): {full} beats {other} on {metric}", values(full, metric),
                       values(other, metric), unit="seed"), item=item)
            for other in per_seed["model"].drop_duplicates() if other != full for metric in ("mae", "acc2_non0")]


def summary_metrics(per_seed: pd.DataFrame) -> dict:
    """``{dataset: {model: {metric: mean}}}`` for the results bundle."""
    means = per_seed.groupby(["dataset", "model"])[list(REGRESSION_METRIC_NAMES)].mean()
    return {dataset: means.loc[dataset].to_dict(orient="index") for dataset in means.index.levels[0]}
