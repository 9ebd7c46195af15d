"""gnnkit: graph learning on the geometric deep learning blueprint.

``f = A ∘ σ ∘ B ∘ P ∘ … ∘ σ ∘ B`` — equivariant layers (:mod:`gnnkit.nn.conv`), pointwise
nonlinearities, coarsening (:mod:`gnnkit.nn.pool`) and invariant readouts
(:mod:`gnnkit.nn.readout`), composed by :class:`gnnkit.nn.Blueprint` and certified by
:mod:`gnnkit.symmetry`.
"""

__version__ = "0.1.0"
