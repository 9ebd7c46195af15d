"""Name a cascade data set in one string, as the command line does.

==========================  ==========================================================
spec                        data
==========================  ==========================================================
``twitter:DIR``             a Twitter15/16 folder (:func:`~.twitter.load_twitter`)
``upfd:DIR``                a UPFD raw folder (:func:`~.upfd.load_upfd`)
``upfd:politifact``         the public UPFD set, downloaded once into
``upfd:gossipcop``          ``$GNNKIT_CACHE/upfd`` (default ``~/.cache/gnnkit/upfd``)
``synthetic``               the calibrated generator (:func:`~.synthetic.generate`)
==========================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gnnkit.data.cache import cache_root
from gnnkit.data.cascades.dataset import CascadeSet
from gnnkit.data.cascades.synthetic import generate
from gnnkit.data.cascades.twitter import load_twitter
from gnnkit.data.cascades.upfd import UPFD_FILE_IDS, download_upfd, load_upfd

KINDS: tuple[str, ...] = ("twitter", "upfd", "synthetic")


@dataclass(frozen=True, slots=True)
class DataOptions:
    """Settings that only some sources read.

    Attributes:
        upfd_feature: UPFD node features to append (``None``: structure alone).
        synthetic_n: cascades to generate.
        synthetic_scale: ``size_scale`` of the generator.
        seed: the generator's seed.
        require_labels: Twitter15/16: read only the labelled cascades (training); ``False``
            reads every tree, with ``label.txt`` optional (prediction).
    """

    upfd_feature: str | None = None
    synthetic_n: int = 400
    synthetic_scale: float = 1.0
    seed: int = 0
    require_labels: bool = True


def upfd_cache() -> Path:
    """Where public UPFD sets are downloaded: ``cache_root()/upfd``."""
    return cache_root() / "upfd"


def load_cascades(spec: str, options: DataOptions | None = None) -> CascadeSet:
    """The data set that ``spec`` names (see the module table)."""
    options = options or DataOptions()
    kind, _, location = spec.partition(":")
    if kind not in KINDS or (kind != "synthetic") != bool(location):
        raise ValueError(
            f"unknown data {spec!r}; expected twitter:DIR, upfd:DIR, "
            f"upfd:{'|'.join(UPFD_FILE_IDS)} or synthetic"
        )
    if kind == "synthetic":
        return generate(options.synthetic_n, seed=options.seed, size_scale=options.synthetic_scale)
    if kind == "twitter":
        return load_twitter(location, require_labels=options.require_labels)
    if location in UPFD_FILE_IDS and not Path(location).exists():
        return load_upfd(download_upfd(location, upfd_cache()), options.upfd_feature)
    return load_upfd(location, options.upfd_feature)
