r"""Learning rate warm-up then exponential decay (chemprop's Noam-like schedule), per step.

With :math:`W` warm-up steps and :math:`S` steps in all,

.. math::
    \eta(s) = \begin{cases}
        \eta_0 + (\eta_{\max} - \eta_0)\, s / W, & s < W \\
        \eta_{\max}\, \gamma^{\,s - W}, \quad
        \gamma = (\eta_{\mathrm{final}} / \eta_{\max})^{1 / (S - W)}, & s \ge W
    \end{cases}

so the rate climbs linearly from ``init_lr`` to ``max_lr`` and decays geometrically to
``final_lr`` at the last step. chemprop's defaults are two warm-up epochs, ``init_lr=1e-4``,
``max_lr=1e-3`` and ``final_lr=1e-4``.
"""

from __future__ import annotations

from collections.abc import Callable

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def warmup_decay(
    warmup_steps: int, total_steps: int, init_lr: float, max_lr: float, final_lr: float
) -> Callable[[int], float]:
    r"""The factor :math:`\eta(s) / \eta_{\max}` for a ``LambdaLR`` on an optimiser whose
    learning rate is ``max_lr``."""
    if min(init_lr, max_lr, final_lr) <= 0:
        raise ValueError(f"learning rates must be positive, got {init_lr}, {max_lr}, {final_lr}")
    if not 0 <= warmup_steps <= total_steps or total_steps < 1:
        raise ValueError(
            f"need 0 <= warmup_steps <= total_steps, got {warmup_steps}, {total_steps}"
        )
    decay_steps = max(total_steps - warmup_steps, 1)
    gamma = (final_lr / max_lr) ** (1.0 / decay_steps)

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (init_lr + (max_lr - init_lr) * step / warmup_steps) / max_lr
        return gamma ** min(step - warmup_steps, decay_steps)

    return factor


def warmup_decay_scheduler(
    optimizer: Optimizer,
    *,
    warmup_steps: int,
    total_steps: int,
    init_lr: float,
    max_lr: float,
    final_lr: float,
) -> LambdaLR:
    """A ``LambdaLR`` stepping :func:`warmup_decay`; the optimiser's rate must be ``max_lr``."""
    for group in optimizer.param_groups:
        if group["lr"] != max_lr:
            raise ValueError(
                f"the optimiser's learning rate must be max_lr={max_lr}, got {group['lr']}"
            )
    return LambdaLR(optimizer, warmup_decay(warmup_steps, total_steps, init_lr, max_lr, final_lr))
