"""Hugging Face models (``hf:DIR``), one module per concern, with no import cycle:

- :mod:`.config`: ``config.json`` read with its sizes checked (no transformers needed).
- :mod:`.base`: :class:`~.base.HFModel` and the checks every load and spec sheet shares.
- :mod:`.text`, :mod:`.speech`: task-specific models (causal LMs, encoders, taggers, speech
  recognizers), each importing only :mod:`.base`.
- :mod:`.source`: the ``hf:`` :class:`~whichmodel.sources.base.Source`; ``load`` picks the model
  class.

This package imports nothing itself, so ``whichmodel.sources.hf.config`` stays cheap.
"""
