"""Low-level kernels for gnnkit's own scatters (the PyG-based layers use PyG's)."""

from gnnkit.ops.scatter import (
    available_backends,
    backend_for,
    describe_backend,
    get_backend,
    scatter,
    scatter_softmax,
    set_backend,
    torch_scatter_available,
    use_backend,
)

__all__ = [
    "available_backends",
    "backend_for",
    "describe_backend",
    "get_backend",
    "scatter",
    "scatter_softmax",
    "set_backend",
    "torch_scatter_available",
    "use_backend",
]
