"""Notebook 03's worked examples and the sentences that interpret its results, computed from a run's numbers.

Worked examples:

* :func:`clip_example`: one test clip through the trained proposed model (human label, fusion prediction ``M`` and
  the unimodal heads ``T``/``A``/``V``) beside the training clip of the nearest human label and the SLGM labels
  generated for it; :func:`clip_text` says it in words.
* :func:`short_video_catalogue` rebuilds the Fig. 2 data with every catalogue item's title and each user's
  chronological sequence; :func:`user_example` ranks the whole catalogue for one user with a trained recommender
  (:func:`user_text` in words).

Interpretations (Markdown strings): :func:`comparison_text` (Tables I-IV: the proposed model against each of our
baselines beside the paper's gaps over its own baselines), :func:`ablation_text` (Fig. 8/9) and
:func:`recommender_text` (Fig. 2, our addition); :func:`sentiment_scale` and :func:`recommender_scale` state the
scale a section ran at.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from scipy.special import expit

from xrec_lib.compare import decide
from xrec_lib.config import RunConfig
from xrec_lib.data.microlens import MicroLens, load_microlens_50k
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.multimodal import PROPOSED, TASK_OF
from xrec_lib.papers import as_frame
from xrec_lib.studies.paper001 import recommender as rec
from xrec_lib.studies.paper001.multimodal import modalities_of, to_batch
from xrec_lib.studies.paper001.settings import Paper001Settings
from xrec_lib.studies.paper001.tables import CHANCE_TOLERANCE, RECOMMENDER
from xrec_lib.text import encode_texts

METRIC_NAMES = {"mae": "MAE", "acc2_non0": "Acc-2", "acc2": "Acc-2", "f1": "F1", "per-user AUC": "per-user AUC"}
LOWER_IS_BETTER = {"mae"}
PERCENT_POINTS = {"acc2_non0", "acc2", "f1", "per-user AUC"}
CLAIM_PATTERN = re.compile(r"beats (?P<other>.+) on (?P<metric>.+)$")


# ------------------------------------------------------------------------------------------ worked example 1
def _module_device(module: torch.nn.Module) -> str:
    return str(next(module.parameters()).device)


def clip_outputs(module: torch.nn.Module, split: dict, rows: Sequence[int]) -> dict[str, np.ndarray]:
    """The model's task outputs (``M`` and the unimodal ``T``/``A``/``V`` present) for the samples ``rows`` of
    ``split`` (evaluation mode, no gradients)."""
    module.eval()
    with torch.no_grad():
        outputs = module(to_batch(split, np.asarray(rows), _module_device(module)))
    return {task: value.cpu().numpy() for task, value in outputs.items() if task != "features"}


def clip_example(runs, index: int | None = None, model: str = PROPOSED) -> pd.DataFrame:
    """Worked example on the first seed of ``model`` in ``runs`` (a :class:`~.study.MultimodalRuns`; its ``data``
    is that seed's draw): one test clip (``index``; None: the clip with the strongest human label, the first on a
    tie) with its human label, the fusion prediction ``M`` and the unimodal heads' outputs, and the training clip
    whose human label is nearest to it with its prediction and the SLGM labels generated for it (the unimodal
    labels exist for training clips only; the heads carry what they learned from them to test clips).

    Columns: ``human label``, ``prediction (M)``, one per modality present (``text``, ``audio``, ``vision``) and
    ``text/audio/vision are``; index: ``test clip <id>``, ``training clip <id>``."""
    seed = min(s for name, s in runs.runs if name == model)
    run = runs.runs[(model, seed)]
    if run.slgm is None:
        raise DataError(f"{model} trained without SLGM: there are no generated unimodal labels")
    test, train = runs.data["test"], runs.data["train"]
    labels = np.asarray(test["regression_labels"], dtype=float)
    if index is None:
        index = int(np.argmax(np.abs(labels)))
    if not 0 <= index < len(labels):
        raise ConfigError(f"clip index {index} is outside the test split (0..{len(labels) - 1})")
    nearest = int(np.argmin(np.abs(np.asarray(train["regression_labels"], dtype=float) - labels[index])))
    modalities = modalities_of(test)
    test_out = clip_outputs(run.fit.module, test, [index])
    train_out = clip_outputs(run.fit.module, train, [nearest])
    rows = {f"test clip {test['id'][index]}": {
                "human label": labels[index], "prediction (M)": float(test_out["M"][0]),
                **{m: float(test_out[TASK_OF[m]][0]) for m in modalities},
                "text/audio/vision are": "the unimodal heads' predictions"},
            f"training clip {train['id'][nearest]}": {
                "human label": float(train["regression_labels"][nearest]), "prediction (M)": float(train_out["M"][0]),
                **{m: float(run.slgm.labels[TASK_OF[m]][nearest]) for m in modalities},
                "text/audio/vision are": "the SLGM labels generated for it"}}
    return pd.DataFrame.from_dict(rows, orient="index")


def _polarity(value: float) -> str:
    return "positive" if value > 0 else "negative" if value < 0 else "neutral"


def clip_text(example: pd.DataFrame) -> str:
    """The :func:`clip_example` table in words: the prediction's error and polarity against the human label, the
    unimodal heads' readings, and which SLGM label moved farthest from the training clip's human label."""
    (test_name, test), (train_name, train) = example.iterrows()
    modalities = [m for m in ("text", "audio", "vision") if m in example.columns]
    error = test["prediction (M)"] - test["human label"]
    same = _polarity(test["prediction (M)"]) == _polarity(test["human label"])
    heads = ", ".join(f"{m} {test[m]:+.2f}" for m in modalities)
    lines = [f"**{test_name}**: humans labelled it {test['human label']:+.2f} ({_polarity(test['human label'])}); "
             f"the proposed model predicts {test['prediction (M)']:+.2f} (error {error:+.2f}, "
             f"{'the same polarity' if same else 'the opposite polarity'}). Its unimodal heads read {heads}."]
    moves = {m: train[m] - train["human label"] for m in modalities}
    farthest = max(moves, key=lambda m: abs(moves[m]))
    lines.append(f"**{train_name}** (nearest human label, {train['human label']:+.2f}): SLGM generated "
                 + ", ".join(f"{m} {train[m]:+.2f}" for m in modalities)
                 + f"; the {farthest} label moved farthest from the human label ({moves[farthest]:+.2f})."
                 + (" With text only there is one unimodal label: SLGM's cross-modal contrast needs audio and "
                    "vision." if modalities == ["text"] else ""))
    return "\n\n".join(lines)


# ------------------------------------------------------------------------------------------ worked example 2
@dataclass(frozen=True)
class Catalogue:
    """The Fig. 2 data (:class:`~.recommender.ShortVideoData`, identical to the run's) with a title per catalogue
    column and each user's items in watch order as catalogue columns (-1: an item outside the catalogue);
    ``ordered`` is False when the data has no watch order (the synthetic set: columns in index order)."""

    data: rec.ShortVideoData
    titles: np.ndarray
    sequences: list[np.ndarray]
    ordered: bool


def microlens_catalogue(lens: MicroLens, n_users: int, seed: int, top_items: int = 0,
                        encode: Callable[[list[str]], np.ndarray] | None = None) -> Catalogue:
    """The users and catalogue :func:`~.recommender.microlens_data` draws from ``lens`` (same sampling, same
    split), with the titles kept; ``encode`` (default :func:`xrec_lib.text.encode_texts`, cached) gives the title
    vectors."""
    pairs, chosen = rec.sample_microlens_users(lens, n_users, seed, top_items)
    user_codes, _ = pd.factorize(pairs["user"])
    item_codes, item_ids = pd.factorize(pairs["item"])
    train, valid, test = rec.leave_last_out(user_codes, item_codes, len(chosen), len(item_ids))
    train, (valid, test), catalogue_ids = rec.warm_split(train, (valid, test), np.asarray(item_ids))
    column = pd.Series(np.arange(len(catalogue_ids)), index=catalogue_ids)
    titles = lens.titles.set_index("item")["title"].reindex(catalogue_ids).fillna("").to_numpy(dtype=object)
    columns = column.reindex(np.asarray(item_ids)[item_codes]).fillna(-1).to_numpy(dtype=np.int64)
    sequences = np.split(columns, np.flatnonzero(np.diff(user_codes)) + 1)
    vectors = (encode or encode_texts)(titles.tolist())
    return Catalogue(rec.ShortVideoData("MicroLens-50k", train, valid, test, vectors, synthetic=False), titles,
                     sequences, ordered=True)


def synthetic_catalogue(seed: int) -> Catalogue:
    """The synthetic short-video set of Fig. 2 (no titles, no watch order): items named ``synthetic video <j>``,
    each user's training, validation and test items in column order."""
    data = rec.synthetic_short_video(seed=seed)
    every = (data.train + data.valid + data.test).tocsr()
    titles = np.array([f"synthetic video {j}" for j in range(data.train.shape[1])], dtype=object)
    return Catalogue(data, titles, [every.indices[every.indptr[u]:every.indptr[u + 1]] for u in range(every.shape[0])],
                     ordered=False)


def short_video_catalogue(cfg: RunConfig, data_dir: Path | None = None) -> Catalogue:
    """The catalogue of the run's Fig. 2 data (:func:`~.study.recommender_data`): MicroLens-50K with the profile's
    ``microlens`` block, or the synthetic set without a data root."""
    data_dir = data_dir or cfg.data_dir
    if data_dir is None:
        return synthetic_catalogue(cfg.seed)
    settings = Paper001Settings.from_config(cfg, dataset="microlens")
    return microlens_catalogue(load_microlens_50k(data_dir), settings.n_users, cfg.seed, settings.top_items)


@dataclass(frozen=True)
class UserExample:
    """One user's history and top-``k`` list (:func:`user_example`)."""

    user: int
    history: pd.DataFrame
    top: pd.DataFrame
    test_title: str
    test_rank: int
    test_score: float
    n_ranked: int
    ordered: bool


def default_user(catalogue: Catalogue, min_history: int = 3) -> int:
    """An evaluated user (test item in the catalogue) with the median number of training items among those with at
    least ``min_history`` of them (all evaluated users when none has; ties: the lower user index)."""
    data = catalogue.data
    counts = np.diff(data.train.indptr)
    evaluated = np.flatnonzero((np.diff(data.test.indptr) > 0) & (counts > 0))
    if len(evaluated) == 0:
        raise DataError("no user has a test item in the catalogue")
    if (counts[evaluated] >= min_history).any():
        evaluated = evaluated[counts[evaluated] >= min_history]
    order = evaluated[np.lexsort((evaluated, counts[evaluated]))]
    return int(order[(len(order) - 1) // 2])


def user_example(model: torch.nn.Module, catalogue: Catalogue, user: int | None = None, k: int = 5,
                 n_history: int = 5) -> UserExample:
    """Rank every catalogue item the user did not watch in training with ``model`` (a trained
    :class:`~xrec_lib.models.xdeepfm.CTRModel`; score: click probability, the sigmoid of its logit): the user's
    last ``n_history`` training items (``watched``: 1 = the earliest shown; watch order when known), the top ``k``
    with their scores and whether each is the held-out validation or test item, and the test item's rank among all
    ranked items (1 = first; ties counted against it). ``user`` None: :func:`default_user`."""
    data = catalogue.data
    user = default_user(catalogue) if user is None else user
    if not 0 <= user < data.train.shape[0]:
        raise ConfigError(f"user {user} is outside 0..{data.train.shape[0] - 1}")
    test_items = data.test.indices[data.test.indptr[user]:data.test.indptr[user + 1]]
    if len(test_items) == 0:
        raise DataError(f"user {user}'s test item is not in the catalogue: pick an evaluated user")
    watched = set(data.train.indices[data.train.indptr[user]:data.train.indptr[user + 1]].tolist())
    history = [c for c in catalogue.sequences[user] if c in watched][-n_history:]
    device = _module_device(model)
    model.eval()
    items = torch.arange(data.train.shape[1])[None, :]
    with torch.no_grad():
        logits = rec.candidate_scorer(model, data, device)(torch.tensor([user]), items)[0].cpu().numpy()
    scores = expit(logits.astype(np.float64))
    ranked = np.array(sorted(set(range(len(scores))) - watched))
    order = ranked[np.argsort(-scores[ranked], kind="stable")][:k]
    valid_items = set(data.valid.indices[data.valid.indptr[user]:data.valid.indptr[user + 1]].tolist())
    test_item = int(test_items[0])
    held_out = {test_item: "test item"} | {v: "validation item" for v in valid_items}
    top = pd.DataFrame({"rank": np.arange(1, len(order) + 1), "title": catalogue.titles[order],
                        "score": scores[order], "held out": [held_out.get(int(i), "") for i in order]})
    rank = int((scores[ranked] >= scores[test_item]).sum())
    hist = pd.DataFrame({"watched": np.arange(1, len(history) + 1), "title": catalogue.titles[history]}
                        ).set_index("watched")
    return UserExample(user, hist, top.set_index("rank"), str(catalogue.titles[test_item]), rank,
                       float(scores[test_item]), len(ranked), catalogue.ordered)


def user_text(example: UserExample, model_name: str = RECOMMENDER) -> str:
    """The :func:`user_example` in words: where the held-out test item landed among the ranked items and the
    score gap between it and the first recommendation."""
    first = example.top.iloc[0]
    where = "first" if example.test_rank == 1 else f"at rank {example.test_rank}"
    inside = example.test_rank <= len(example.top)
    n = len(example.history)
    shown = (f"the last {n} training title{'s' if n != 1 else ''} in watch order (earliest first)" if example.ordered
             else f"{n} training item{'s' if n != 1 else ''} (this data has no watch order)")
    return (f"User {example.user}: above, {shown}. {model_name} ranks "
            f"{example.n_ranked} unwatched catalogue items; the held-out test video \"{example.test_title}\" scores "
            f"{example.test_score:.3f} and lands {where} of {example.n_ranked} ("
            f"{'inside' if inside else 'outside'} the top {len(example.top)}; the first recommendation scores "
            f"{first['score']:.3f}). The table's HR@10 uses 99 sampled negatives, not the whole catalogue.")


# ------------------------------------------------------------------------------------------ interpretations
def claim_gaps(claims: Sequence[dict]) -> pd.DataFrame:
    """One row per claim "``full`` beats ``other`` on ``metric``" with its advantage (``mean_diff``, oriented so
    that positive favours the claim: lower MAE, higher accuracy or AUC), 95% bootstrap interval, pairs and the
    verdict of :func:`xrec_lib.compare.decide` over ``claims`` alone (Holm over them)."""
    rows = []
    for record in decide(claims):
        match = CLAIM_PATTERN.search(record["claim"])
        if match is None:
            raise DataError(f"claim {record['claim']!r} does not read 'A beats B on metric'")
        rows.append({"other": match["other"], "metric": match["metric"], "advantage": record["mean_diff"],
                     "ci_low": record["ci_low"], "ci_high": record["ci_high"], "n_pairs": record["n_pairs"],
                     "verdict": record["verdict"], "reason": record.get("reason"),
                     "family_size": record["family_size"]})
    return pd.DataFrame(rows, columns=["other", "metric", "advantage", "ci_low", "ci_high", "n_pairs", "verdict",
                                       "reason", "family_size"])


def paper_gaps(source: str) -> pd.DataFrame:
    """The paper's ``source`` table (Table I-IV) as the proposed model's advantage over each of its baselines:
    MAE (baseline minus proposed) and Acc-2 (proposed minus baseline; F1 where the table has no Acc-2)."""
    paper = as_frame(paper="001", source=source).pivot_table(index="model", columns="metric", values="paper",
                                                              sort=False)
    accuracy = "acc2" if "acc2" in paper.columns else "f1"
    proposed = paper.loc["Proposed"]
    rows = []
    for model in paper.index.drop("Proposed"):
        rows.append({"other": model, "metric": "mae", "advantage": paper.loc[model, "mae"] - proposed["mae"]})
        rows.append({"other": model, "metric": accuracy, "advantage": proposed[accuracy] - paper.loc[model, accuracy]})
    return pd.DataFrame(rows)


def _amount(metric: str, value: float) -> str:
    """``value`` of ``metric``'s advantage in words: "0.041 lower", "2.1 points higher"."""
    size = f"{abs(value) * 100:.1f} points" if metric in PERCENT_POINTS else f"{abs(value):.3f}"
    better = value >= 0
    direction = ("lower" if better else "higher") if metric in LOWER_IS_BETTER else ("higher" if better else "lower")
    return f"{size} {direction}"


def _interval(row: pd.Series) -> str:
    if math.isnan(row["ci_low"]):
        return "no interval with one pair" if row["n_pairs"] < 2 else "no interval"
    scale = 100 if row["metric"] in PERCENT_POINTS else 1
    return f"95% CI of the advantage [{row['ci_low'] * scale:+.3g}, {row['ci_high'] * scale:+.3g}]"


def _verdict_counts(gaps: pd.DataFrame) -> str:
    counts = gaps["verdict"].value_counts()
    parts = [f"{counts.get(v, 0)} {v}" for v in ("replicated", "contradicted", "inconclusive", "not comparable")]
    reasons = sorted({r for r in gaps["reason"].dropna()})
    return ", ".join(parts) + (f" (not comparable: {'; '.join(reasons)})" if reasons else "")


def _gap_lines(gaps: pd.DataFrame, full: str) -> list[str]:
    lines = []
    for other, rows in gaps.groupby("other", sort=False):
        parts = [f"{METRIC_NAMES.get(r.metric, r.metric)} {_amount(r.metric, r.advantage)} "
                 f"({_interval(pd.Series(r._asdict()))}; {r.verdict})" for r in rows.itertuples()]
        lines.append(f"- {full} vs **{other}**: " + "; ".join(parts))
    return lines


def comparison_text(claims: Sequence[dict], data_label: str, source: str, also: str | None = None,
                    full: str = "the proposed model") -> str:
    """Markdown reading of one Tables I-IV section: the proposed model's advantage over each of our baselines
    (``claims``: the section's :func:`~.tables.sentiment_claims`) with intervals and verdicts (Holm over this
    section's claims only), beside the range of the paper's advantages over its own baselines in ``source``;
    ``also`` (e.g. "Table I"): another table of the same dataset, naming the baselines it prints ahead of the
    proposed model on MAE."""
    gaps = claim_gaps(claims)
    if gaps.empty:
        return f"No claim was tested on {data_label}."
    n_pairs = int(gaps["n_pairs"].max())
    lines = [f"**{source} layout, {data_label}** — advantage of {full} (mean over {n_pairs} "
             f"{'seed' if n_pairs == 1 else 'seeds'}; MAE: lower is better, Acc-2: higher is better):", ""]
    lines += _gap_lines(gaps, full)
    paper = paper_gaps(source)
    for metric, rows in paper.groupby("metric", sort=False):
        best, worst = rows.loc[rows["advantage"].idxmin()], rows.loc[rows["advantage"].idxmax()]
        lines.append(f"- The paper ({source}): {METRIC_NAMES[metric]} {_amount(metric, best['advantage'])} than its "
                     f"strongest baseline {best['other']} up to {_amount(metric, worst['advantage'])} than "
                     f"{worst['other']} ({len(rows)} baselines, none of them ours: compare sizes, not rows).")
    if also is not None:
        other = paper_gaps(also)
        behind = other[(other["metric"] == "mae") & (other["advantage"] < 0)]
        if len(behind):
            lines.append(f"- The same paper's {also} prints its model behind " + ", ".join(
                f"{r.other} (MAE {abs(r.advantage):.2f} higher)" for r in behind.itertuples())
                + f", which contradicts {source}'s ranking on the same dataset.")
    lines += ["", f"Verdicts here (Holm over this section's {int(gaps['family_size'].iloc[0])} testable claims): "
              + _verdict_counts(gaps) + ". The verdict table at the end corrects over the paper's whole family, "
              "so a claim replicated here can end inconclusive there."]
    if n_pairs < 2:
        lines.append("With one seed there is no interval and no test: run `n_seeds` ≥ 2 (the paper profile runs 5).")
    return "\n".join(lines)


def ablation_text(claims: Sequence[dict], per_seed: pd.DataFrame, history: pd.DataFrame,
                  full: str = "LGT + SM") -> str:
    """Markdown reading of Fig. 8/9: the variants ordered by mean test MAE, the full model's advantage over each
    ablated variant (intervals, verdicts with Holm over these claims), and per variant the median epoch of the
    lowest validation MAE against the epochs run (Fig. 9's curves)."""
    means = per_seed.groupby("model", sort=False)[["mae", "acc2_non0"]].mean().sort_values("mae")
    order = ", ".join(f"{m} ({row.mae:.3f})" for m, row in means.iterrows())
    gaps = claim_gaps(claims)
    mae = gaps[gaps["metric"] == "mae"]
    ahead = int((mae["advantage"] > 0).sum())
    lines = [f"**Fig. 8** — mean test MAE, best first: {order}. The paper prints no numbers for Fig. 8; it claims "
             f"that removing LGT or soft mapping lowers performance. Here {full} has the lower MAE against {ahead} "
             f"of {len(mae)} ablated variants:", ""]
    lines += _gap_lines(gaps, full)
    best = history.loc[history.groupby(["model", "seed"])["valid_mae"].idxmin()]
    runs = history.groupby(["model", "seed"])["epoch"].max()
    epochs = best.set_index(["model", "seed"])["epoch"].groupby("model", sort=False).median()
    capped = {m: bool((best.set_index(["model", "seed"])["epoch"].xs(m) == runs.xs(m)).all()) for m in epochs.index}
    lines += ["", "**Fig. 9** — epoch of the lowest validation MAE (median over seeds) / epochs run: "
              + ", ".join(f"{m} {epochs[m]:g}/{runs.xs(m).max()}" + (" (still falling at the last epoch)"
                                                                        if capped[m] else "")
                          for m in epochs.index) + ".",
              "", f"Verdicts here (Holm over these {int(gaps['family_size'].iloc[0])} testable claims): "
              + _verdict_counts(gaps) + "."]
    return "\n".join(lines)


def _chance_sentence(auc: pd.Series) -> str:
    """Which models' mean AUC lies below chance (0.5) by more than the tables' tolerance."""
    below = [m for m, value in auc.items() if value < 0.5 - CHANCE_TOLERANCE]
    if not below:
        return ""
    return (f" {len(below)} of {len(auc)} models score below chance (AUC 0.5): {', '.join(below)} — they rank the "
            f"held-out video below most of the sampled unwatched ones.")


def recommender_text(per_seed: pd.DataFrame, claims: Sequence[dict], data_label: str) -> str:
    """Markdown reading of the Fig. 2 comparison (our addition): models by mean AUC with HR@10, the recommenders
    that do not beat the popularity floor, the advantage of :data:`~.tables.RECOMMENDER` over each other model on
    per-user AUC (intervals; verdicts with Holm over these claims, the same family as the final table)."""
    means = per_seed.groupby("model", sort=False)[["auc", "hr@10"]].mean().sort_values("auc", ascending=False)
    floor = means.loc[rec.POPULARITY, "auc"] if rec.POPULARITY in means.index else math.nan
    below = [m for m in means.index if m != rec.POPULARITY and means.loc[m, "auc"] <= floor]
    gaps = claim_gaps(claims)
    lines = [f"*Our addition — the paper reports no numbers for this recommender.* On {data_label}, mean AUC "
             f"(HR@10), best first: " + ", ".join(f"{m} {r.auc:.3f} ({r['hr@10']:.3f})" for m, r in means.iterrows())
             + ".",
             f"{len(below)} of {len(means) - (rec.POPULARITY in means.index)} trained recommenders do not beat the "
             f"popularity floor on AUC" + (f" ({', '.join(below)})." if below else ".")
             + _chance_sentence(means["auc"]), ""]
    lines += _gap_lines(gaps, RECOMMENDER)
    text_gap = gaps[gaps["other"] == "xDeepFM (no text)"]
    if len(text_gap):
        value = text_gap["advantage"].iloc[0]
        lines += ["", f"The title vector (MiniLM (a BERT-family encoder)) is the only difference from xDeepFM (no "
                      f"text): it moves the per-user AUC by {value * 100:+.1f} points."]
    if len(gaps):
        lines += ["", f"Verdicts (Holm over these {int(gaps['family_size'].iloc[0])} testable claims, the same "
                      f"family as the final table): " + _verdict_counts(gaps) + "."]
    return "\n".join(lines)


def sentiment_scale(cfg: RunConfig, runs) -> str:
    """One line on the scale a sentiment section ran at: its data, split sizes, modalities (feature sizes), seeds,
    epoch cap and patience (from ``runs`` and the section's settings)."""
    settings = Paper001Settings.from_config(cfg, dataset=runs.section or None)
    sizes = " / ".join(f"{len(runs.data[s]['regression_labels']):,}" for s in ("train", "valid", "test"))
    modalities = ", ".join(f"{m} ({runs.data['train'][m].shape[-1]})" for m in modalities_of(runs.data["train"]))
    seeds = sorted(set(runs.per_seed["seed"]))
    return (f"Scale run: {runs.label}; {sizes} train / valid / test clips; modalities (feature size): {modalities}; "
            f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({', '.join(map(str, seeds))}); epoch cap "
            f"{settings.epochs}, patience {settings.patience}; model width {settings.dim}, {settings.n_heads} heads.")


def recommender_scale(cfg: RunConfig, recs) -> str:
    """One line on the scale of the Fig. 2 comparison: data, users, catalogue items, evaluated users, seeds, epoch
    cap and patience, negatives."""
    settings = Paper001Settings.from_config(cfg, dataset=None if recs.synthetic else "microlens")
    evaluated = int(recs.per_seed["n_users"].max())
    seeds = sorted(set(recs.per_seed["seed"]))
    return (f"Scale run: {recs.label} ({'synthetic' if recs.synthetic else 'real'}); {recs.n_users:,} users, "
            f"{recs.n_items:,} catalogue items, {evaluated:,} users evaluated; {len(seeds)} "
            f"seed{'s' if len(seeds) > 1 else ''}; epoch cap {settings.rec_epochs}, patience {settings.rec_patience}; "
            f"{settings.n_train_negatives} negatives per training positive, {settings.n_eval_negatives} per "
            f"evaluated user.")
