"""Paper 000, notebooks 01 and 02: the computed sentences and worked examples that explain the results.

Every text here is built from the numbers of a run (never written by hand), so that the notebooks' interpretation
cells change with the data, the profile and the seeds.

**Verdict summaries** (both notebooks): :func:`family_summary` groups a verdict table
(:func:`xrec_lib.compare.verdict_table` + ``item``) into claim families (a paper item such as ``fig6``, or a group of
items) and gives per family the number of claims per outcome and the claim with the largest gap between the two
methods (mean paired difference, its 95% bootstrap interval, the paper's own gap); :func:`family_markdown` writes it
as sentences, :func:`claims_markdown` lists a few claims one by one (the alignment ablation, Table 2).

**Where the models sit between chance and perfect** (both notebooks): :func:`levels_table` places each model's value
between a random ranking (*chance*, lift 0) and a perfect one (*ideal*, lift 1) of the same task, with
``lift = (value - chance) / (ideal - chance)`` (:func:`xrec_lib.studies.paper000.verdicts.lift`);
:func:`representation_levels` reads notebook 01's run, :func:`study_levels` notebook 02's study, and
:func:`levels_markdown` says it in words.

**Worked example, notebook 01**: :func:`pick_user` chooses a typical user, :func:`neighbourhood` counts what the
user reaches in one and two hops on the heterogeneous training graph (a 2-layer GCN's receptive field), split by
domain, :func:`example_embeddings` retrains the run's first-seed models (same seed, settings and tuned values, so
the same vectors), :func:`top_k_lists` gives each model's top-K target products with the user's test items marked.

**Worked example, notebook 02**: :func:`example_head` retrains the first seed's Siamese GCN and BLA head as the
study does; :func:`attention_table` / :func:`attention_summary` show BLA's Eq. 6-7 weights on one user-product pair
and what they change in the logit against uniform attention (= BL with the same weights); :func:`two_stage_table`
follows one user through the two-stage path (``C`` candidates by inner product, reranked by the head).
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from xrec_lib.compare import OUTCOMES
from xrec_lib.data.crossdomain import SOURCE, TARGET, CrossDomainDataset
from xrec_lib.studies.paper000.interaction import GENERATOR_GROUP, GENERATOR_ROWS
from xrec_lib.errors import DataError
from xrec_lib.models.interaction import BilinearAttentionHead, BilinearHead
from xrec_lib.serving import retrieve_and_rerank
from xrec_lib.studies.paper000.verdicts import lift

DOMAINS = {SOURCE: "source (B2B)", TARGET: "target (B2C)"}
CHANCE_ROW, IDEAL_ROW = "random ranking (chance)", "perfect ranking (ideal)"


# --------------------------------------------------------------------------------------------- verdicts
def _points(value: float) -> str:
    """A difference of two rates in percentage points, signed."""
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:+.1f}"


def family_summary(verdicts: pd.DataFrame, families: Mapping[str, Iterable[str]] | None = None) -> pd.DataFrame:
    """One row per claim family: claims per outcome and the largest gap.

    ``verdicts``: a verdict table indexed by claim with ``verdict``, ``mean_diff``, ``ci_low``, ``ci_high``,
    ``paper_gap`` and ``item`` columns. ``families``: family name -> the items it gathers (None: one family per
    item, in order of appearance). The largest gap is the claim with the largest ``|mean_diff|`` among the claims
    that are not *not comparable* (missing when every claim of the family is); the ``paper_pair_`` columns give
    the same among the claims whose two values the paper prints (missing when it prints none).
    """
    if families is None:
        families = {item: [item] for item in dict.fromkeys(verdicts["item"])}
    rows = []
    for family, items in families.items():
        part = verdicts[verdicts["item"].isin(list(items))]
        if part.empty:
            continue
        row = {"family": family, "claims": len(part),
               **{outcome: int((part["verdict"] == outcome).sum()) for outcome in OUTCOMES}}
        tested = part[(part["verdict"] != "not comparable") & part["mean_diff"].notna()]
        row.update(_largest(tested, ""))
        row.update(_largest(tested[tested["paper_gap"].notna()], "paper_pair_"))
        rows.append(row)
    return pd.DataFrame(rows).set_index("family")


def _largest(tested: pd.DataFrame, prefix: str) -> dict:
    """The claim of ``tested`` with the largest ``|mean_diff|`` as ``{prefix}largest_gap_claim``, ``{prefix}mean_diff``,
    ... (missing values when ``tested`` is empty)."""
    keys = ("largest_gap_claim", "mean_diff", "ci_low", "ci_high", "paper_gap", "largest_gap_verdict")
    if tested.empty:
        return {f"{prefix}{key}": (None if key in (keys[0], keys[-1]) else math.nan) for key in keys}
    claim = tested["mean_diff"].abs().idxmax()
    best = tested.loc[claim]
    values = (claim, best["mean_diff"], best["ci_low"], best["ci_high"], best["paper_gap"], best["verdict"])
    return {f"{prefix}{key}": value for key, value in zip(keys, values)}


def _gap_sentence(claim: str, diff: float, low: float, high: float, paper: float, verdict: str) -> str:
    paper_text = (f"the paper's gap is {_points(paper)} points" if math.isfinite(paper)
                  else "the paper gives no value for this pair")
    return (f"{claim}: {_points(diff)} points (95% CI [{_points(low)}, {_points(high)}]); {paper_text}; "
            f"verdict: {verdict}")


def family_markdown(summary: pd.DataFrame, title: str = "") -> str:
    """:func:`family_summary` as Markdown: per family the outcome counts and the largest gap against the paper's."""
    lines = [f"**{title}**", ""] if title else []
    for family, row in summary.iterrows():
        counts = ", ".join(f"{row[o]} {o}" for o in OUTCOMES if row[o])
        line = f"- **{family}** ({row['claims']} claims): {counts}."
        if isinstance(row["largest_gap_claim"], str):
            line += " Largest gap: " + _gap_sentence(row["largest_gap_claim"], row["mean_diff"], row["ci_low"],
                                                     row["ci_high"], row["paper_gap"], row["largest_gap_verdict"]) + "."
        else:
            line += " No claim of this family could be tested on these runs."
        pair = row.get("paper_pair_largest_gap_claim")
        if isinstance(pair, str) and pair != row["largest_gap_claim"]:
            line += " Largest gap where the paper prints both values: " + _gap_sentence(
                pair, row["paper_pair_mean_diff"], row["paper_pair_ci_low"], row["paper_pair_ci_high"],
                row["paper_pair_paper_gap"], row["paper_pair_largest_gap_verdict"]) + "."
        lines.append(line)
    total = summary[list(OUTCOMES)].sum()
    lines += ["", f"Over these families: {int(summary['claims'].sum())} claims, "
              + ", ".join(f"{int(total[o])} {o}" for o in OUTCOMES) + "."]
    return "\n".join(lines)


def claims_markdown(verdicts: pd.DataFrame, contains: str | None = None, title: str = "",
                    prefixes: Iterable[str] | None = None) -> str:
    """The claims of ``verdicts`` whose text contains ``contains`` (None: any) and starts with one of ``prefixes``
    (None: any), one line each: the mean paired difference in points with its 95% interval, the paper's gap, the
    verdict (and the reason when not comparable)."""
    part = verdicts if contains is None else verdicts[verdicts.index.str.contains(contains, regex=False)]
    if prefixes is not None:
        part = part[part.index.str.startswith(tuple(prefixes))]
    if part.empty:
        return f"**{title}** no claim matches." if title else "No claim matches."
    lines = [f"**{title}**", ""] if title else []
    for claim, row in part.iterrows():
        line = "- " + _gap_sentence(claim, row["mean_diff"], row["ci_low"], row["ci_high"], row["paper_gap"],
                                    row["verdict"])
        if row["verdict"] == "not comparable" and isinstance(row.get("reason"), str):
            line += f" ({row['reason']})"
        lines.append(line + ".")
    counts = part["verdict"].value_counts()
    lines += ["", "In all: " + ", ".join(f"{int(counts.get(o, 0))} {o}" for o in OUTCOMES) + "."]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ chance and ideal levels
def levels_table(values: Mapping[str, float], chance: float, ideal: float) -> pd.DataFrame:
    """Each model's ``value`` and ``lift`` (0 = a random ranking, 1 = a perfect one), best first, with the two
    reference rows (:data:`CHANCE_ROW`, :data:`IDEAL_ROW`) in place."""
    rows = [{"model": name, "value": float(v), "lift": float(lift(float(v), chance, ideal))}
            for name, v in values.items()]
    rows += [{"model": CHANCE_ROW, "value": float(chance), "lift": 0.0},
             {"model": IDEAL_ROW, "value": float(ideal), "lift": 1.0}]
    return pd.DataFrame(rows).sort_values("value", ascending=False, kind="stable").set_index("model")


def representation_levels(run, metric: str = "ndcg", k: int = 20) -> pd.DataFrame:
    """:func:`levels_table` of notebook 01's run (:class:`~xrec_lib.studies.paper000.representation.RepresentationRun`):
    each model's mean ``metric@k`` over seeds against the mean chance and ideal levels."""
    per_seed = pd.concat([run.metrics, run.generator], ignore_index=True)
    at_k = per_seed[per_seed["k"] == k]
    values = at_k.groupby("model", sort=False)[metric].mean()
    ref = run.references[(run.references["k"] == k) & (run.references["metric"] == metric)]
    if ref.empty:
        raise DataError(f"the run holds no reference level of {metric}@{k}")
    return levels_table(values.to_dict(), float(ref["chance"].mean()), float(ref["ideal"].mean()))


def study_levels(study, group: str, metric: str = "ndcg", k: int = 20, scenario: str = "standard",
                 slice: str = "all") -> pd.DataFrame:
    """:func:`levels_table` of notebook 02's study (:class:`~xrec_lib.studies.paper000.interaction.StudyResult`):
    the methods of ``group`` (``"heads"``, ``"methods"``, ``"ablation"``) on ``metric@k`` of ``slice`` in
    ``scenario``, means over seeds; on synthetic data with the generator's oracle and popularity rows."""
    m = study.metrics
    rows = m[m["group"].isin([group, GENERATOR_GROUP]) & (m["scenario"] == scenario) & (m["slice"] == slice) & (m["k"] == k)
             & (m["metric"] == metric)]
    r = study.references
    ref = r[(r["scenario"] == scenario) & (r["slice"] == slice) & (r["k"] == k) & (r["metric"] == metric)]
    if rows.empty or ref.empty:
        raise DataError(f"no {metric}@{k} of group {group!r}, slice {slice!r}, scenario {scenario!r} in the study")
    values = rows.groupby("model", sort=False)["value"].mean()
    return levels_table(values.to_dict(), float(ref["chance"].mean()), float(ref["ideal"].mean()))


def levels_markdown(table: pd.DataFrame, what: str) -> str:
    """:func:`levels_table` in words: the two reference levels, the best and the worst model with their lifts,
    and the generator's oracle (the ceiling of synthetic data) where the table has it."""
    models = table.drop(index=[CHANCE_ROW, IDEAL_ROW, *GENERATOR_ROWS], errors="ignore")
    chance, ideal = table.loc[CHANCE_ROW, "value"], table.loc[IDEAL_ROW, "value"]
    best, worst = models["value"].idxmax(), models["value"].idxmin()
    text = (f"On {what}, a random ranking scores {chance:.4f} and a perfect one {ideal:.4f}. "
            f"Best: {best} at {models.loc[best, 'value']:.4f}, {models.loc[best, 'lift']:.0%} of the way from "
            f"chance to perfect; worst: {worst} at {models.loc[worst, 'value']:.4f} "
            f"({models.loc[worst, 'lift']:.0%}).")
    near = models[models["lift"].abs() <= 0.04].index.tolist()
    if near:
        text += f" At chance (within 4% in lift): {', '.join(near)}."
    if "Oracle" in table.index:
        oracle = table.loc["Oracle", "value"]
        text += (f" The generator's oracle (its true preferences: the best any model can do on this data) scores "
                 f"{oracle:.4f} ({table.loc['Oracle', 'lift']:.0%}), so {best} reaches "
                 f"{models.loc[best, 'value'] / oracle:.0%} of the attainable level.")
    return text


# ------------------------------------------------------------------------- worked example, notebook 01
def pick_user(dataset: CrossDomainDataset) -> int:
    """A typical user: among the users with training interactions in both domains and at least one target-domain
    test interaction, the one whose number of training interactions is closest to their median (lowest id on
    ties)."""
    n = dataset.n_users
    source = np.bincount(dataset.train.user[dataset.train.domain == SOURCE], minlength=n)
    target = np.bincount(dataset.train.user[dataset.train.domain == TARGET], minlength=n)
    tested = np.bincount(dataset.test.user[dataset.test.domain == TARGET], minlength=n)
    eligible = np.flatnonzero((source > 0) & (target > 0) & (tested > 0))
    if len(eligible) == 0:
        raise DataError(f"{dataset.name}: no user has training interactions in both domains and a target test item")
    total = (source + target)[eligible]
    return int(eligible[np.argmin(np.abs(total - np.median(total)))])


def neighbourhood(dataset: CrossDomainDataset, user: int) -> pd.DataFrame:
    """What ``user`` reaches on the heterogeneous training graph, by the domain of the product it goes through.

    Hop 1: the products the user interacted with in training. Hop 2 (through those products): their suppliers,
    the sellers that sell them and the other users who interacted with them; also the markets of the hop-1
    products. A 2-layer GCN's user vector is computed from exactly these nodes. Columns: the two domains and
    ``both`` (distinct over both: a supplier or seller reached through products of both domains counts once).
    """
    mine = dataset.train.user == user
    products = {d: np.unique(dataset.train.product[mine & (dataset.train.domain == d)]) for d in DOMAINS}
    products[None] = np.union1d(products[SOURCE], products[TARGET])
    sellers, sold = dataset.seller_product
    rows: dict[str, dict] = {}
    for d, label in list(DOMAINS.items()) + [(None, "both")]:
        p = products[d]
        suppliers = dataset.supplier_of_product[p]
        others = np.unique(dataset.train.user[np.isin(dataset.train.product, p)])
        rows[label] = {
            "products (hop 1)": len(p),
            "suppliers (hop 2)": len(np.unique(suppliers[suppliers >= 0])),
            "sellers (hop 2)": len(np.unique(sellers[np.isin(sold, p)])),
            "other users (hop 2)": int((others != user).sum()),
            "markets of those products": len(np.unique(dataset.product_market[p])),
        }
    table = pd.DataFrame(rows)
    table.index.name = f"user {user} (market {int(dataset.user_market[user])})"
    return table


def example_embeddings(dataset: CrossDomainDataset, settings, seed: int, models: Iterable[str],
                       tuned: Mapping | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{model: (user_emb, item_emb)}`` of ``models`` retrained on ``dataset`` as notebook 01 trains them
    (:func:`~xrec_lib.studies.paper000.representation.train_with_holdout` with the same seed, settings and tuned
    values: the same vectors for a fixed thread count)."""
    from xrec_lib.studies.paper000.representation import train_with_holdout
    from xrec_lib.studies.paper000.representation_tuning import tuned_settings
    from xrec_lib.training.encoders import embeddings

    out = {}
    for name in models:
        model, _ = train_with_holdout(name, dataset, tuned_settings(name, settings, dict(tuned or {})), seed)
        user_emb, item_emb = embeddings(model)
        out[name] = (user_emb.detach().cpu().numpy(), item_emb.detach().cpu().numpy())
    return out


def top_k_lists(vectors: Mapping[str, tuple[np.ndarray, np.ndarray]], dataset: CrossDomainDataset, user: int,
                k: int = 5) -> pd.DataFrame:
    """Each model's top-``k`` target-domain products for ``user`` by inner product (training items excluded):
    one row per (model, rank) with the product id, its score and ``in_test`` (the product is one of the user's
    target-domain test interactions)."""
    items = np.flatnonzero(dataset.product_domain == TARGET)
    seen = set(dataset.train.product[dataset.train.user == user].tolist())
    tested = set(dataset.test.product[(dataset.test.user == user) & (dataset.test.domain == TARGET)].tolist())
    allowed = np.array([i not in seen for i in items])
    rows = []
    for name, (user_emb, item_emb) in vectors.items():
        scores = item_emb[items] @ user_emb[user]
        scores = np.where(allowed, scores, -np.inf)
        order = np.argsort(-scores, kind="stable")[:k]
        rows += [{"model": name, "rank": r + 1, "product": int(items[i]), "score": float(scores[i]),
                  "in_test": int(items[i]) in tested} for r, i in enumerate(order)]
    return pd.DataFrame(rows)


def top_k_wide(lists: pd.DataFrame) -> pd.DataFrame:
    """:func:`top_k_lists` as rank x model, each cell ``"product id"`` with ``" ✓"`` when it is a test item."""
    cells = lists.assign(cell=lambda t: t["product"].astype(str) + np.where(t["in_test"], " ✓", ""))
    return cells.pivot(index="rank", columns="model", values="cell")[list(dict.fromkeys(lists["model"]))]


def top_k_markdown(lists: pd.DataFrame, dataset: CrossDomainDataset, user: int) -> str:
    """How many of each model's top-K products are the user's test items, best first."""
    tested = int(((dataset.test.user == user) & (dataset.test.domain == TARGET)).sum())
    k = int(lists["rank"].max())
    hits = lists.groupby("model", sort=False)["in_test"].sum().sort_values(ascending=False, kind="stable")
    parts = ", ".join(f"{name} {int(h)}" for name, h in hits.items())
    n_target = int((dataset.product_domain == TARGET).sum())
    chance = k * tested / max(n_target, 1)
    return (f"User {user} has {tested} target-domain test products among {n_target:,}. Test products in each "
            f"model's top {k} (✓ in the table): {parts}. A random top {k} would hold about {chance:.2f}.")


# ------------------------------------------------------------------------- worked example, notebook 02
def example_head(settings, seed: int, scenario: str = "standard", tuned: Mapping | None = None,
                 encoder_tuned: Mapping | None = None):
    """``(task, user_emb, item_emb, head)``: the first seed's synthetic task of ``scenario``, its Siamese GCN
    vectors (target products only) and the BLA head trained on them, exactly as
    :func:`xrec_lib.studies.paper000.interaction.run_seed` trains them (same seed, settings, validation slice and
    tuned values)."""
    from xrec_lib.studies.paper000.head_training import fit_head
    from xrec_lib.studies.paper000.interaction import SCENARIOS, SeedRun
    from xrec_lib.studies.paper000.tasks import TargetTask, synthetic_dataset

    task = TargetTask.from_dataset(synthetic_dataset(settings.synthetic_scale, SCENARIOS[scenario], seed))
    run = SeedRun("synthetic", settings, seed, tuned, encoder_tuned)
    user_emb, item_emb = run.embeddings(scenario, task, "Siamese GCN")
    head, _ = fit_head("BLA", user_emb, item_emb, run.fitting(scenario, task).train, run.head_settings("BLA"), seed,
                       None, run.validation(scenario, task, "BLA"))
    return task, user_emb, item_emb, head.eval()


def attention_table(head: BilinearAttentionHead, user: torch.Tensor, product: torch.Tensor) -> pd.DataFrame:
    """Per embedding dimension ``j``: the user's value ``u_j``, its Eq. 6 weight ``a_u,j`` and Eq. 7 re-weighted
    value ``d a_u,j u_j``, the same for the product; sorted by the larger of the two weights."""
    with torch.no_grad():
        a_u, a_p = (w[0].cpu().numpy() for w in head.attention_weights(user[None], product[None]))
    u, p, d = user.detach().cpu().numpy(), product.detach().cpu().numpy(), len(a_u)
    table = pd.DataFrame({"user u_j": u, "user weight a_u,j": a_u, "user d·a·u_j": d * a_u * u,
                          "product p_j": p, "product weight a_p,j": a_p, "product d·a·p_j": d * a_p * p})
    table.index.name = "dimension j"
    order = np.argsort(-np.maximum(a_u, a_p), kind="stable")
    return table.iloc[order]


def _effective(weights: np.ndarray) -> float:
    """``exp(entropy)``: how many dimensions the weights are spread over (``d`` for uniform weights)."""
    w = weights[weights > 0]
    return float(np.exp(-(w * np.log(w)).sum()))


def attention_summary(head: BilinearAttentionHead, user: torch.Tensor, product: torch.Tensor,
                      top: int = 3) -> dict:
    """What BLA's attention does on one pair: the uniform weight ``1/d``, the largest weight and the share of
    the ``top`` largest weights per side, the effective number of dimensions, and the logit (and probability) of
    the pair with the learned attention and with uniform attention (the same weights without Eq. 6-7, i.e. BL)."""
    with torch.no_grad():
        a_u, a_p = (w[0].cpu().numpy() for w in head.attention_weights(user[None], product[None]))
        logit = float(head(user[None], product[None])[0])
        uniform = float(head.mlp(BilinearHead.interaction(head, user[None], product[None])).squeeze(-1)[0])
    d = len(a_u)
    summary = {"d": d, "uniform_weight": 1.0 / d, "logit": logit, "logit_uniform": uniform,
               "probability": 1 / (1 + math.exp(-logit)), "probability_uniform": 1 / (1 + math.exp(-uniform))}
    for side, a in (("user", a_u), ("product", a_p)):
        summary.update({f"{side}_max_weight": float(a.max()), f"{side}_top_dims": np.argsort(-a)[:top].tolist(),
                        f"{side}_top_share": float(np.sort(a)[::-1][:top].sum()),
                        f"{side}_effective_dims": _effective(a)})
    summary["top"] = top
    return summary


def attention_markdown(summary: dict, user: int, product: int) -> str:
    """:func:`attention_summary` in words."""
    d, top = summary["d"], summary["top"]
    sides = []
    for side in ("user", "product"):
        sides.append(f"the {side} branch puts {summary[f'{side}_top_share']:.1%} of its weight on dimensions "
                     f"{summary[f'{side}_top_dims']} (uniform: {top / d:.1%}), largest weight "
                     f"{summary[f'{side}_max_weight']:.4f} against 1/d = {summary['uniform_weight']:.4f}, spread over "
                     f"{summary[f'{side}_effective_dims']:.1f} of {d} dimensions (exp of the entropy)")
    return (f"For user {user} and product {product}: " + "; ".join(sides) + ". "
            f"With this attention the head scores the pair {summary['logit']:+.3f} (probability "
            f"{summary['probability']:.3f}); with uniform attention (the same projections and MLP, i.e. BL) "
            f"{summary['logit_uniform']:+.3f} ({summary['probability_uniform']:.3f}).")


def two_stage_table(head, user_emb: torch.Tensor, item_emb: torch.Tensor, user: int, n_candidates: int,
                    exclude: sp.csr_matrix, test: sp.csr_matrix, items: np.ndarray | None = None) -> pd.DataFrame:
    """One user through the two-stage path (:func:`xrec_lib.serving.retrieve_and_rerank`): the ``C`` candidates
    by inner product (training items ``exclude`` left out), each with its inner product and retrieval rank, the
    head's logit and its rank after reranking, and ``in_test`` (a test item of the user). ``items`` maps the
    task's item index to the dataset's product id (None: the index itself). Sorted by the reranked position."""
    users = torch.tensor([user])
    candidates, logits = retrieve_and_rerank(head, user_emb, item_emb, users, n_candidates, exclude)
    candidates, logits = candidates[0].cpu().numpy(), logits[0].cpu().numpy()
    with torch.no_grad():
        inner = (item_emb[torch.from_numpy(candidates).to(item_emb.device)] @ user_emb[user]).cpu().numpy()
    keep = np.isfinite(logits)
    candidates, logits, inner = candidates[keep], logits[keep], inner[keep]
    tested = set(sp.csr_matrix(test)[user].indices.tolist())
    table = pd.DataFrame({"item": candidates, "inner product": inner,
                          "retrieval rank": np.arange(1, len(candidates) + 1), "head logit": logits,
                          "in_test": [int(c) in tested for c in candidates]})
    table["reranked rank"] = table["head logit"].rank(ascending=False, method="first").astype(int)
    table.insert(0, "product", table["item"] if items is None else np.asarray(items)[table["item"]])
    return table.sort_values("reranked rank").set_index("reranked rank")


def two_stage_markdown(table: pd.DataFrame, n_test: int, k: int = 5) -> str:
    """:func:`two_stage_table` in words: test items among the candidates, in the inner product's and the head's
    top ``k``, and how far the head moves products."""
    c = len(table)
    in_candidates = int(table["in_test"].sum())
    by_inner = int(table.loc[table["retrieval rank"] <= k, "in_test"].sum())
    by_head = int(table.head(k)["in_test"].sum())
    moved = int((table.head(k)["retrieval rank"] > k).sum())
    shift = (table["retrieval rank"] - table.index.to_numpy()).abs().mean()
    return (f"The user has {n_test} target test products; {in_candidates} of them are among the {c} candidates the "
            f"inner product retrieves (what the head can reach at all). The inner product's top {k} holds {by_inner} "
            f"of them, the head's top {k} after reranking {by_head}; {moved} of the head's top {k} came from below "
            f"retrieval rank {k}, and the head moves a candidate by {shift:.1f} places on average.")


def example_product(table: pd.DataFrame) -> int:
    """The task's item index of the pair to show BLA's attention on: the user's best-reranked test item among the
    candidates, else the head's first choice."""
    hits = table[table["in_test"]]
    return int((hits if len(hits) else table)["item"].iloc[0])


# ------------------------------------------------------------------------------------------- run scale
_SCALE_ROWS = {"users": "users", "products": "products", "suppliers": "suppliers", "sellers": "sellers",
               "train interactions": "training interactions"}


def scale_markdown(params: Mapping, keys: Iterable[str], seeds: Iterable[int], data: str,
                   statistics: pd.DataFrame | None = None) -> str:
    """The scale this run actually trained: the seeds, the values of ``keys`` in ``params`` (the profile after
    overrides; a missing key is reported as such) and, from ``statistics`` (:meth:`CrossDomainDataset.statistics`),
    the node and interaction counts of ``data``."""
    values = ", ".join(f"`{key}` = {params[key]!r}" if key in params else f"`{key}` not set" for key in keys)
    text = f"This run: seeds {list(seeds)}; {values}."
    if statistics is not None:
        counts = ", ".join(f"{int(statistics.loc[row, 'value']):,} {label}" for row, label in _SCALE_ROWS.items()
                           if row in statistics.index)
        text += f" {data}: {counts}."
    return text


def pairs_markdown(kind: str, named: Iterable[str], ran: Iterable[str]) -> str:
    """One sentence on the real-data pairs of a section: which the profile names and which ran (``ran``: the data
    names of the studies that ran; none with the pairs named means the data root was absent)."""
    named, ran = list(named), list(ran)
    if not named:
        return f"**{kind}: this profile names no pair**, so nothing ran in this section."
    if not ran:
        return f"**{kind}: {', '.join(named)} named, not run**: the real data is absent (no data root)."
    return f"**{kind}: {len(ran)} pair(s) ran**: {', '.join(ran)}."
