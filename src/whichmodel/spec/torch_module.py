"""Spec sheets of plain PyTorch modules: a walk over the module tree (sizes, layer inventory,
family) and, given one example's shape, FLOPs counted with FlopCounterMode."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whichmodel.errors import ConfigError
from whichmodel.spec.base import Compute, Fact, Identity, SpecSheet, unknown
from whichmodel.spec.compute import example_compute, memory
from whichmodel.spec.hf import inventory, module_size

if TYPE_CHECKING:
    from whichmodel.spec.options import InspectOptions

# Layer class names -> family, most specific first.
_FAMILY_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Mamba", "SSM", "S4"), "state-space"),
    (("MessagePassing", "GCNConv", "GATConv", "GraphConv", "SAGEConv"), "graph (message passing)"),
    (("UNet2DModel", "UNet2DConditionModel", "DiT"), "diffusion U-Net/DiT"),
    (("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "Attention"),
     "transformer"),
    (("LSTM", "GRU", "RNN"), "RNN/LSTM/GRU"),
    (("Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d"), "CNN"),
    (("Linear",), "MLP"),
)


def module_family(layers: dict[str, int]) -> Fact[str]:
    """The family of a module tree from its layer types (attention + conv: hybrid)."""
    found = [family for names, family in _FAMILY_RULES
             if any(any(n in k for n in names) for k in layers)]
    if "transformer" in found and "CNN" in found:
        return Fact("hybrid (CNN + transformer)", "graph")
    if found:
        return Fact(found[0], "graph", "from the layer types")
    return unknown("no recognised layer types")


def inspect_module(module: Any, opts: InspectOptions, *, name: str, ref: str) -> SpecSheet:
    """The sheet of a ``torch.nn.Module``; FLOPs need ``opts.input_shape`` (one example)."""
    import torch

    layers = inventory(module)
    dtypes = {str(p.dtype).replace("torch.", "") for p in module.parameters()}
    from whichmodel.spec.options import canonical_dtype

    stored = canonical_dtype(next(iter(dtypes))) if len(dtypes) == 1 else None
    size = module_size(module, None, stored_dtype=stored, dtype_source="graph")
    compute: Compute | None = None
    if opts.input_shape:
        shape = tuple(opts.input_shape)
        device = next((p.device for p in module.parameters()), torch.device("cpu"))
        try:
            x = torch.zeros((1, *shape), device=device)
        except (RuntimeError, MemoryError) as exc:  # within the size check, but not free here
            raise ConfigError(
                f"--input-shape {','.join(map(str, shape))}: one example does not fit in memory "
                f"on {device} ({' '.join(str(exc).split())[:160]}); give a smaller shape."
            ) from exc
        compute = _forward_compute(module, x, shape, size)
    else:
        compute = Compute(unknown("pass --input-shape (one example, e.g. 1,8,8) to count FLOPs"),
                          "example", None, None, unknown(""), None)
    dtype = canonical_dtype(opts.dtype) or stored or "fp32"
    family = module_family(layers)
    return SpecSheet(
        identity=Identity(name, ref, Fact("torch", "graph"),
                          Fact(type(module).__name__, "graph"), family, Fact(layers, "graph")),
        size=size,
        compute=compute,
        memory=memory(size, None, str(family.value), context=None, dtype=dtype, batch=opts.batch),
    )


def _forward_compute(module: Any, x: Any, shape: tuple[int, ...], size: Any) -> Compute:
    class _Call:
        """Wraps the module so example_compute can pass inputs by keyword."""

        def __call__(self, x: Any) -> Any:
            return module(x)

    return example_compute(_Call(), {"x": x}, shape, size)
