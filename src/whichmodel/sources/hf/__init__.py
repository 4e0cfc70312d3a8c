"""Hugging Face models (``hf:DIR``), one module per concern, with no import cycle:

- :mod:`.config`: ``config.json`` read with its sizes checked, and the checks every load and
  spec sheet shares (no transformers needed; left of spec, which reads configs through it).
- :mod:`.base`: :class:`~.base.HFModel`, the model every task-specific one extends.
- :mod:`.text`, :mod:`.speech`: task-specific models (causal LMs, encoders, taggers, speech
  recognizers), each importing only :mod:`.base`.
- :mod:`.source`: the ``hf:`` :class:`~whichmodel.sources.contract.Source`; ``load`` picks the model
  class.

This package imports nothing itself, so ``whichmodel.sources.hf.config`` stays cheap.
"""
