"""The spec sheet of a Hugging Face folder: config on meta + files in the folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from whichmodel.refs import ModelRef
from whichmodel.spec import hf, llm, tokenizer
from whichmodel.spec import layers as per_layer
from whichmodel.spec.base import Compute, SpecSheet, unknown
from whichmodel.spec.compute import example_compute, llm_compute, memory, training_flops

if TYPE_CHECKING:
    from whichmodel.spec.options import InspectOptions

#: Per-token FLOPs of a state-space or recurrent model do not depend on the context; its meta
#: forward loops over positions in Python, so it is counted on this many tokens (a hybrid's too:
#: its attention layers are then moved to the context by formula, where layer_types lists them).
_SSM_FLOP_TOKENS = 16
#: Families whose layers hold a recurrent state (see :mod:`whichmodel.spec.hf_family`).
_RECURRENT = ("state-space", "recurrent", "hybrid")


def inspect_hf(ref: ModelRef, opts: InspectOptions) -> SpecSheet:
    """Build the folder's model on meta and read every section the folder has files for."""
    from whichmodel.spec import adapters, files
    from whichmodel.spec.options import canonical_dtype

    folder = Path(ref.target)
    adapter = adapters.read_adapter(folder)
    if adapter is not None and not (folder / "config.json").is_file():
        return adapters.adapter_only_sheet(ref, adapter)
    built = hf.build(folder, trust_remote_code=opts.load.trust_remote_code)
    storage = files.storage(folder, built.raw)
    stored = canonical_dtype(
        built.raw.get("torch_dtype") or built.raw.get("dtype")
    ) or files.majority_dtype(storage)
    size = hf.released_head(built, hf.module_size(built.model, built.config, stored_dtype=stored))
    ident = hf.identity(built, ref.name, str(ref))
    family = str(ident.family.value)
    design = (llm.design(built.config, built.model)
              if "transformer" in family or family.startswith("hybrid") else None)
    dtype = canonical_dtype(opts.dtype) or stored or "fp32"
    context = opts.context or _default_context(design)
    compute = _compute(built, size, design, family, context, opts)
    state = (per_layer.recurrent_state(built.model, dtype=dtype, batch=opts.batch)
             if family.startswith(_RECURRENT) else None)
    return SpecSheet(
        identity=ident,
        size=size,
        compute=compute,
        memory=memory(size, design, family, context=context, dtype=dtype, batch=opts.batch,
                      state=state),
        design=design,
        tokenizer=tokenizer.read(folder, text=opts.text),
        storage=storage,
        adapter=adapter,
        recipe=files.recipe(folder),
        generation=files.generation(folder),
        notes=_notes(design, opts, folder),
    )


def _notes(design: Any, opts: InspectOptions, folder: Path) -> tuple[str, ...]:
    notes = []
    limit = design.context_length.value if design is not None else None
    if opts.context and limit and opts.context > limit:
        notes.append(f"--context {opts.context} is beyond the model's context length {limit}: "
                     "FLOPs and KV cache are extrapolated")
    if opts.text is not None and tokenizer.read(folder) is None:
        notes.append(f"--text was not measured: {folder} has no tokenizer files")
    return tuple(notes)


def _default_context(design: Any) -> int | None:
    if design is None or design.context_length.value is None:
        return None
    return int(design.context_length.value)


def _compute(built: hf.Built, size: Any, design: Any, family: str, context: int | None,
             opts: InspectOptions) -> Compute:
    """Forward FLOPs; when even the inputs cannot be made (a vision config without an image
    size, say), FLOPs are unknown with the reason and the rest of the sheet still comes out."""
    try:
        return _count(built, size, design, family, context, opts)
    except Exception as exc:  # a sheet never dies whole
        per_token = built.architecture.endswith(("ForCausalLM", "LMHeadModel")) or (
            family.startswith(_RECURRENT))
        why = " ".join(f"FLOPs not counted: {type(exc).__name__}: {exc}".split())[:300]
        return Compute(unknown(why), "token" if per_token else "example", context, None,
                       training_flops(size, opts.training_tokens), opts.training_tokens)


def _count(built: hf.Built, size: Any, design: Any, family: str, context: int | None,
           opts: InspectOptions) -> Compute:
    recurrent = family.startswith(_RECURRENT)
    if (built.architecture.endswith(("ForCausalLM", "LMHeadModel")) and design is not None
            and not recurrent):
        return llm_compute(built.model, size, design, context=context or 2048,
                           matmul_params=hf.matmul_params(built.model, size),
                           training_tokens=opts.training_tokens)
    if recurrent:
        design = design or llm.design(built.config, built.model)
        # A hybrid whose attention layers the config lists: counted on a few tokens, its
        # attention layers moved to the context; otherwise the count holds at any context.
        moved = family.startswith("hybrid") and design.layer_pattern.value is not None and (
            design.attention_layers.value is not None)
        return llm_compute(built.model, size, design,
                           context=(context or 2048) if moved else _SSM_FLOP_TOKENS,
                           matmul_params=hf.matmul_params(built.model, size),
                           training_tokens=opts.training_tokens, count_tokens=_SSM_FLOP_TOKENS)
    inputs, shape = example_inputs(built, context)
    return example_compute(built.model, inputs, shape, size, training_tokens=opts.training_tokens)


#: A vision config that names no image size (a CNN takes any): the ImageNet crop.
_DEFAULT_IMAGE = 224
#: A speech model's default input when its config names no length: 1 s of 16 kHz audio, or
#: 3,000 log-mel frames (30 s at Whisper's 10 ms hop).
_DEFAULT_SAMPLES, _DEFAULT_FRAMES = 16_000, 3_000


def example_inputs(built: hf.Built, context: int | None) -> tuple[dict[str, Any], tuple[int, ...]]:
    """A batch of one meta input for each input the model's forward takes, sized by its config:
    tokens, pixels (``image_size``, a list of sizes, else 224; ``num_channels``, else 3), audio
    features (``2 × max_source_positions`` log-mel frames, else 3,000) or a waveform, plus
    decoder tokens for encoder-decoders and text for dual encoders.

    Raises:
        KeyError: the forward takes none of the inputs built here (the FLOPs say so).
    """
    import torch

    cfg, model = built.config, built.model
    tokens = min(context or 512, 512)
    ids = torch.zeros((1, tokens), dtype=torch.long, device="meta")
    main = getattr(model, "main_input_name", "input_ids")
    inputs: dict[str, Any] = {}
    if main == "pixel_values" or getattr(cfg, "vision_config", None) is not None:
        inputs["pixel_values"] = _pixels(getattr(cfg, "vision_config", None) or cfg)
    if main in ("input_features", "input_values"):
        inputs[main] = _audio(cfg, main)
    if main == "input_ids" or getattr(cfg, "text_config", None) is not None:
        text_ctx = getattr(llm.text_config(cfg), "max_position_embeddings", tokens) or tokens
        n = min(tokens, int(text_ctx))
        inputs["input_ids"] = ids[:, :n]
        inputs["attention_mask"] = torch.ones_like(ids[:, :n])
    if getattr(cfg, "is_encoder_decoder", False):
        inputs["decoder_input_ids"] = ids[:, : min(tokens, 448)]
    if not inputs:
        raise KeyError(f"no example input built for the model's main input {main!r}")
    shape = tuple(int(s) for v in inputs.values() if v.dtype != torch.long for s in v.shape[1:])
    return inputs, shape or (int(inputs["input_ids"].shape[1]),)


def _pixels(vision: Any) -> Any:
    """(1, channels, height, width) on meta; Swin's ``image_size`` may be a [h, w] list."""
    import torch

    size = getattr(vision, "image_size", None) or _DEFAULT_IMAGE
    height, width = (size[0], size[-1]) if isinstance(size, list | tuple) else (size, size)
    channels = getattr(vision, "num_channels", None) or 3
    return torch.zeros((1, int(channels), int(height), int(width)), device="meta")


def _audio(cfg: Any, main: str) -> Any:
    """Log-mel frames (1, mel bins, frames) for ``input_features``; for ``input_values`` a
    spectrogram (1, max_length, mel bins) where the config sizes one (AST), else a waveform."""
    import torch

    mels = getattr(cfg, "num_mel_bins", None) or getattr(cfg, "feature_size", None)
    if main == "input_features":
        positions = getattr(cfg, "max_source_positions", None)
        frames = 2 * int(positions) if positions else _DEFAULT_FRAMES  # Whisper: 2 per position
        return torch.zeros((1, int(mels or 80), frames), device="meta")
    length = getattr(cfg, "max_length", None)
    if mels and length and getattr(cfg, "num_mel_bins", None):
        return torch.zeros((1, int(length), int(mels)), device="meta")
    return torch.zeros((1, _DEFAULT_SAMPLES), device="meta")
