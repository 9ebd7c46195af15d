r"""A seeded branching process with timed re-posts, calibrated per class to real cascades.

A cascade of class :math:`c` grows generation by generation:

- the source gets :math:`K_0 = \max(1, \mathrm{round}(\lambda e^{Z}))` direct re-posts,
  :math:`Z \sim \mathcal N(\mu^{\mathrm{root}}_c, \sigma^{\mathrm{root}}_c)` (:math:`\lambda`:
  ``size_scale``), at delays :math:`\tau = \max(e^{U} - 1, 0)` minutes,
  :math:`U \sim \mathcal N(A, \omega^{\mathrm{delay}}_c)` around the cascade's own time scale
  :math:`A \sim \mathcal N(\mu^{\mathrm{delay}}_c, \beta^{\mathrm{delay}}_c)`;
- a re-post is re-posted itself with probability :math:`q_c`, and then
  :math:`K = \max(1, \mathrm{round}(e^{W}))` times,
  :math:`W \sim \mathcal N(\mu^{\mathrm{repost}}_c, \sigma^{\mathrm{repost}}_c)` (a hurdle
  log-normal: most re-posts have no children, a few have very many), each
  :math:`\max(e^{V} - 1, 0)` minutes after it,
  :math:`V \sim \mathcal N(G, \omega^{\mathrm{gap}}_c)`,
  :math:`G \sim \mathcal N(\mu^{\mathrm{gap}}_c, \beta^{\mathrm{gap}}_c)` once per cascade;
- growth stops when a generation is empty; the cascade keeps its first ``max_nodes`` nodes in
  time (a rooted subtree, since delays grow from parent to child).

:func:`calibrate` fits each class's parameters on a timed data set: the mean and standard
deviation of :math:`\log K_0` and of :math:`\log K` over re-posts with children;
:math:`q_c` as the share of re-posts with children; and for :math:`\log(1 + \tau)` over the
source's re-posts (and :math:`\log(1 + \text{gap})` over deeper ones) the mean :math:`\mu` and
standard deviation :math:`\beta` of the per-cascade means, and the mean :math:`\omega` of the
per-cascade standard deviations. Per-cascade time scales matter: with one class-wide spread,
the earliest of hundreds of re-posts come unrealistically fast.
:data:`TWITTER15` holds the fit on the full Twitter15 set (``datasets/cascades.md`` compares
the statistics it generates with the measured ones).

**Content** (:class:`ContentParams`, drawn with its own random stream, so the trees are the
same with or without it). Every post's author is, with probability ``partisan_share``, one of
the ``partisans`` users of the cascade's class, else one of ``users`` shared users drawn with
popularity :math:`\propto 1/(r + 10)` for rank :math:`r`. The cascades of a class are dealt
at random to :math:`\max(1, \mathrm{round}(n_c / \text{claim\_size}))` claims; a claim's
template holds ``words`` words, each one of the class's ``class_words`` words with probability
``class_word_share``, else one of ``vocabulary`` shared words; each source post is its claim's
template with every word replaced by a shared one with probability ``paraphrase``. So text and
users both carry class signal, near-duplicate posts form claims, and a claim-disjoint split
sees only the class words generalise. These knobs are illustrative, not fitted to Twitter15.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np

from gnnkit.data.cascades.cascade import Cascade
from gnnkit.data.cascades.dataset import CascadeSet
from gnnkit.data.cascades.twitter import TWITTER_CLASSES


@dataclass(frozen=True, slots=True)
class BranchingParams:
    """One class's parameters (see the module docstring; delays in minutes)."""

    root_log_mean: float
    root_log_sd: float
    repost_share: float
    repost_log_mean: float
    repost_log_sd: float
    delay_log_mean: float
    delay_between_sd: float
    delay_within_sd: float
    gap_log_mean: float
    gap_between_sd: float
    gap_within_sd: float


#: :func:`calibrate` on the full Twitter15 set (1,490 cascades).
TWITTER15: dict[str, BranchingParams] = {
    "non-rumor": BranchingParams(
        root_log_mean=6.0076,
        root_log_sd=0.6299,
        repost_share=0.0792,
        repost_log_mean=0.3396,
        repost_log_sd=0.7064,
        delay_log_mean=3.9663,
        delay_between_sd=0.8692,
        delay_within_sd=1.9117,
        gap_log_mean=3.5475,
        gap_between_sd=0.7841,
        gap_within_sd=2.0003,
    ),
    "false": BranchingParams(
        root_log_mean=5.2354,
        root_log_sd=0.7550,
        repost_share=0.1161,
        repost_log_mean=0.3034,
        repost_log_sd=0.6195,
        delay_log_mean=4.3271,
        delay_between_sd=1.5908,
        delay_within_sd=1.7520,
        gap_log_mean=3.2910,
        gap_between_sd=0.9570,
        gap_within_sd=1.9437,
    ),
    "true": BranchingParams(
        root_log_mean=5.2071,
        root_log_sd=0.7503,
        repost_share=0.1113,
        repost_log_mean=0.3045,
        repost_log_sd=0.6243,
        delay_log_mean=3.6674,
        delay_between_sd=1.2449,
        delay_within_sd=1.6755,
        gap_log_mean=3.0137,
        gap_between_sd=0.9326,
        gap_within_sd=1.7555,
    ),
    "unverified": BranchingParams(
        root_log_mean=4.9961,
        root_log_sd=0.7101,
        repost_share=0.1196,
        repost_log_mean=0.3790,
        repost_log_sd=0.6974,
        delay_log_mean=4.1529,
        delay_between_sd=1.4290,
        delay_within_sd=1.7051,
        gap_log_mean=3.3290,
        gap_between_sd=1.0361,
        gap_within_sd=1.8996,
    ),
}


def calibrate(data: CascadeSet) -> dict[str, BranchingParams]:
    """Fit :class:`BranchingParams` per class by moments (see the module docstring)."""
    if not data.timed:
        raise ValueError("calibration needs re-post delays")
    fitted = {}
    for name in data.classes:
        members = [c for c in data.cascades if c.label == name and c.num_nodes > 1]
        if not members:
            continue
        root_degree, offspring, root_delay, gap = [], [], [], []
        for cascade in members:
            parent, delay = cascade.parent, cascade.delay
            children = np.bincount(parent[1:], minlength=cascade.num_nodes)
            from_root = parent[1:] == 0
            root_degree.append(children[0])
            offspring.append(children[1:])
            root_delay.append(np.log1p(delay[1:][from_root]))
            gap.append(np.log1p(delay[1:] - delay[parent[1:]])[~from_root])
        counts = np.concatenate(offspring)
        fitted[name] = BranchingParams(
            *_moments(np.log(np.asarray(root_degree, dtype=np.float64))),
            float((counts > 0).mean()),
            *_moments(np.log(counts[counts > 0])),
            *_grouped_moments(root_delay),
            *_grouped_moments(gap),
        )
    return fitted


def _moments(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation (0, 0 for no values)."""
    return (float(values.mean()), float(values.std())) if values.size else (0.0, 0.0)


def _grouped_moments(groups: list[np.ndarray]) -> tuple[float, float, float]:
    """Mean and standard deviation of the groups' means, and mean of their standard deviations
    (groups of one value have none)."""
    means = np.array([g.mean() for g in groups if g.size])
    spreads = np.array([g.std() for g in groups if g.size > 1])
    return (
        *_moments(means),
        float(spreads.mean()) if spreads.size else 0.0,
    )


def sample_cascade(
    params: BranchingParams,
    rng: np.random.Generator,
    source_id: str,
    label: str | None = None,
    *,
    size_scale: float = 1.0,
    max_nodes: int = 3000,
) -> Cascade:
    """Draw one cascade from the branching process of ``params``."""
    root_degree = max(
        1, round(size_scale * np.exp(rng.normal(params.root_log_mean, params.root_log_sd)))
    )
    parents = [np.zeros(root_degree, dtype=np.int64)]
    time_scale = rng.normal(params.delay_log_mean, params.delay_between_sd)
    gap_scale = rng.normal(params.gap_log_mean, params.gap_between_sd)
    delays = [_delays(rng, time_scale, params.delay_within_sd, root_degree)]
    first, total = 1, 1 + root_degree
    # generations are drawn until one is empty (or, as a guard, until far more than
    # ``max_nodes`` nodes exist)
    while delays[-1].size and total < 4 * max_nodes:
        frontier = delays[-1].size
        sizes = np.exp(rng.normal(params.repost_log_mean, params.repost_log_sd, frontier))
        counts = np.where(
            rng.random(frontier) < params.repost_share, np.maximum(1, np.rint(sizes)), 0
        ).astype(np.int64)
        born = int(counts.sum())
        parents.append(np.repeat(np.arange(first, first + frontier), counts))
        gaps = _delays(rng, gap_scale, params.gap_within_sd, born)
        delays.append(np.repeat(delays[-1], counts) + gaps)
        first, total = first + frontier, total + born
    parent = np.concatenate([np.array([-1]), *parents])
    delay = np.concatenate([np.zeros(1), *delays])
    cascade = Cascade.from_tree(source_id, parent, delay, label)
    if cascade.num_nodes <= max_nodes:
        return cascade
    return replace(cascade, parent=cascade.parent[:max_nodes], delay=cascade.delay[:max_nodes])


def _delays(rng: np.random.Generator, log_mean: float, log_sd: float, size: int) -> np.ndarray:
    """``max(e^U - 1, 0)`` minutes, ``U ~ N(log_mean, log_sd)``."""
    return np.maximum(np.expm1(rng.normal(log_mean, log_sd, size)), 0.0)


@dataclass(frozen=True, slots=True)
class ContentParams:
    """Who posts and what the source says (see the module docstring)."""

    users: int = 5000
    partisans: int = 100
    partisan_share: float = 0.15
    vocabulary: int = 500
    class_words: int = 30
    class_word_share: float = 0.15
    words: int = 12
    claim_size: float = 3.0
    paraphrase: float = 0.25


def draw_content(data: CascadeSet, params: ContentParams, rng: np.random.Generator) -> None:
    """Give every cascade of ``data`` its posts' user ids and a source text, in place (see the
    module docstring)."""
    popularity = 1.0 / (np.arange(params.users) + 10.0)
    popularity /= popularity.sum()
    shared_words = np.array([f"w{j}" for j in range(params.vocabulary)])
    for c, name in enumerate(data.classes):
        members = [cascade for cascade in data.cascades if cascade.label == name]
        if not members:
            continue
        first_partisan = params.users + c * params.partisans
        class_words = np.array([f"c{c}w{j}" for j in range(params.class_words)])
        claims = max(1, round(len(members) / params.claim_size))
        own = rng.random((claims, params.words)) < params.class_word_share
        templates = np.where(
            own,
            rng.choice(class_words, (claims, params.words)),
            rng.choice(shared_words, (claims, params.words)),
        )
        for cascade in members:
            n = cascade.num_nodes
            partisan = rng.random(n) < params.partisan_share
            ids = np.where(
                partisan,
                first_partisan + rng.integers(0, params.partisans, n),
                rng.choice(params.users, n, p=popularity),
            )
            cascade.users = np.array([str(i) for i in ids], dtype=object)
            words = templates[rng.integers(claims)].copy()
            replaced = rng.random(params.words) < params.paraphrase
            words[replaced] = rng.choice(shared_words, int(replaced.sum()))
            cascade.text = " ".join(words)


def generate(
    n: int,
    *,
    seed: int = 0,
    params: Mapping[str, BranchingParams] | None = None,
    size_scale: float = 1.0,
    max_nodes: int = 3000,
    content: ContentParams | None = ContentParams(),
) -> CascadeSet:
    """``n`` cascades, classes taking turns (balanced), from the calibrated branching process.

    Args:
        n: cascades to draw.
        seed: seeds everything; the same arguments give the same cascades.
        params: class name → parameters (default :data:`TWITTER15`).
        size_scale: multiplies the number of the source's direct re-posts (e.g. ``0.1`` for
            small, fast test data).
        max_nodes: the most nodes a cascade keeps (its first in time).
        content: how users and source texts are drawn (``None``: the cascades carry
            neither).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if size_scale <= 0 or max_nodes < 1:
        raise ValueError("size_scale must be positive and max_nodes at least 1")
    params = dict(params if params is not None else TWITTER15)
    classes = tuple(name for name in TWITTER_CLASSES if name in params) + tuple(
        name for name in params if name not in TWITTER_CLASSES
    )
    rng = np.random.default_rng(seed)
    cascades = [
        sample_cascade(
            params[classes[i % len(classes)]],
            rng,
            f"syn{i:06d}",
            classes[i % len(classes)],
            size_scale=size_scale,
            max_nodes=max_nodes,
        )
        for i in range(n)
    ]
    data = CascadeSet(cascades, classes)
    if content is not None:
        draw_content(data, content, np.random.default_rng([seed, 1]))
    return data


def params_table(params: Mapping[str, BranchingParams]) -> dict[str, dict[str, float]]:
    """Parameters as plain data (for JSON and the dataset card)."""
    return {name: asdict(p) for name, p in params.items()}
