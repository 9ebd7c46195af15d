r"""Inference precision of a trained D-MPNN: ``fp32`` (as trained) or ``int8`` (CPU only).

``int8`` replaces the D-MPNN's ``W_h`` and ``W_o`` and every ``Linear`` of its FFN head by
dynamically quantized layers (PyTorch's x86/fbgemm kernels). Each weight matrix is stored once
as int8 with one scale per output row, :math:`\mathbf{W} \approx \mathrm{diag}(\mathbf{s}_W)
\mathbf{W}_q`; at every call the input batch ``[rows, in]`` gets its own scale and zero point
from its minimum and maximum, :math:`\mathbf{x} \approx s_x (\mathbf{x}_q - z_x)`, and the
product is accumulated in int32 and scaled back to float:

.. math::
    \mathbf{W}\mathbf{x} + \mathbf{b} \approx s_x\, \mathrm{diag}(\mathbf{s}_W)\,
    \mathbf{W}_q (\mathbf{x}_q - z_x) + \mathbf{b}

One 300 × 300 layer's output moves by about 1 % (relative error); the bond update ``W_h``,
three quarters of the forward pass's arithmetic, runs about 4.7× faster on one thread.
``W_i`` stays fp32: its forward reads its weight split into atom and bond parts, and it is
about 3 % of the arithmetic.

Why this path (a 300 × 300 ``Linear`` on a 2,200-row batch, one thread, torch 2.13 CPU on an
AVX2 machine shared with other jobs; each figure against fp32 in the same run):
``torch.ao.quantization.quantize_dynamic`` 1.3–2.0 ms against fp32's 7–12 ms (4.7–6×, no
compiler); torchao 0.18's ``Int8DynamicActivationInt8WeightConfig`` 7.3 ms eagerly against
7.8 ms (no gain) and 1.84 ms under ``torch.compile``, but only after a 26 s compile in every
process and 4 s more for each new batch shape (a screen's batches differ in bond count, and
every ``--predictors`` process compiles on its own), with torchao as a new dependency; int8
products written here with ``torch._int_mm`` take 1.1 ms for the product alone but 3–9 ms
with the activation quantization as eager element-wise operations. Only the first is fast
without a compiler. Its Python API is deprecated in favour of torchao, yet torchao needs
``torch.compile`` for speed on a CPU, and the kernels it calls (``quantized::linear_dynamic``,
fbgemm) are part of torch itself. So gnnkit uses it, confined to :func:`quantize_int8`, with
its two deprecation warnings silenced around that one call; should a torch release drop the
API, ``int8`` fails with an error saying so and ``fp32`` is untouched.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from gnnkit.choices import PRECISIONS
from gnnkit.models.dmpnn import DMPNN
from gnnkit.train.ensemble import Ensemble


def check_precision(precision: str, device: str | torch.device) -> None:
    """Raise a one-line ``ValueError`` unless ``precision`` is one of :data:`PRECISIONS` and
    runs on ``device`` (``int8`` runs on the CPU only)."""
    if precision not in PRECISIONS:
        raise ValueError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "int8" and torch.device(device).type != "cpu":
        raise ValueError(
            f"--precision int8 runs on the CPU only, not on {device}: use --device cpu, or "
            "--precision fp32 on a GPU"
        )


def int8_layers(model: nn.Module) -> set[str]:
    """Names of the layers of a :class:`~gnnkit.models.dmpnn.DMPNN` that ``int8`` quantizes:
    ``W_h`` and ``W_o`` of every encoder (``encoder.W_h``, or ``encoder.k.W_h`` with one
    encoder per molecule of an input) and the head's ``Linear`` layers."""
    if not isinstance(model, DMPNN):
        raise ValueError(
            f"--precision int8 supports D-MPNN models only, not {type(model).__name__}"
        )
    head = {f"head.{k}" for k, layer in enumerate(model.head) if isinstance(layer, nn.Linear)}
    encoders = [name for name, module in model.named_modules() if module in model.encoders()]
    return {f"{name}.{layer}" for name in encoders for layer in ("W_h", "W_o")} | head


def quantize_int8(model: nn.Module) -> nn.Module:
    """Swap the :func:`int8_layers` of ``model`` (in eval mode, on the CPU) for dynamically
    quantized int8 layers, in place; returns ``model``."""
    quantization = getattr(torch.ao, "quantization", None)
    if not hasattr(quantization, "quantize_dynamic"):
        raise RuntimeError(
            f"--precision int8 needs torch.ao.quantization.quantize_dynamic, which torch "
            f"{torch.__version__} no longer has; use --precision fp32"
        )
    layers = dict.fromkeys(int8_layers(model), quantization.per_channel_dynamic_qconfig)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "torch.ao.quantization is deprecated", DeprecationWarning)
        warnings.filterwarnings(
            "ignore", "torch.quantize_per_tensor, torch.quantize_per_channel", UserWarning
        )
        return quantization.quantize_dynamic(model.cpu().eval(), layers, inplace=True)


def set_precision(
    ensemble: Ensemble, precision: str, device: str | torch.device = "cpu"
) -> Ensemble:
    """Every member of ``ensemble`` at ``precision`` for prediction on ``device`` (checked by
    :func:`check_precision`): unchanged for ``fp32``, quantized by :func:`quantize_int8` for
    ``int8``. Returns ``ensemble``."""
    check_precision(precision, device)
    if precision == "int8":
        for member in ensemble.members:
            quantize_int8(member.to("cpu").model)
    return ensemble
