"""Cascade classifiers (registered as ``gcnfn``, ``bigcn``, ``upfd``), the statistics
baseline, leak-free cross-validation and early detection."""

from gnnkit.choices import CASCADE_MODELS
from gnnkit.models.cascade.bigcn import BiGCN, DirectedGCN
from gnnkit.models.cascade.gcnfn import GCNFN
from gnnkit.models.cascade.upfd import UPFDNet

__all__ = ["CASCADE_MODELS", "GCNFN", "BiGCN", "DirectedGCN", "UPFDNet"]
