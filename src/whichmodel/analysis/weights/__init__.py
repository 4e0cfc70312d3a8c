"""Weight diff of two checkpoints: what fine-tuning changed, tensor by tensor
(``whichmodel diff A B --weights``, :func:`whichmodel.weight_diff`).

- :mod:`~.checkpoint`: the tensors a reference names, read one at a time (safetensors, shards,
  pickles only when allowed, PEFT adapters merged by :mod:`~.adapter`);
- :mod:`~.measures`: per tensor ‖ΔW‖/‖W‖, cosine, bit-identical share, max |ΔW| and, for
  matrices, the spectrum of ΔW (stable, 90%-energy, effective and low rank);
- :mod:`~.groups`: block × module groups and their verdicts;
- :mod:`~.result`: :class:`WeightDiff`; :mod:`~.diff`: :func:`weight_diff`.
"""

from whichmodel.analysis.weights.diff import weight_diff
from whichmodel.analysis.weights.result import WeightDiff

__all__ = ["WeightDiff", "weight_diff"]
