"""``bench``: latency, throughput and memory of models and their variants, cached in the store.

The flow, for each model::

    inputs (the user's data, or synthesized from --input-shape) -> cache lookup
        -> measure_cost: one probe subprocess per variant (+ quality deltas with data)
        -> store
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from whichmodel.bench.base import CostProfile, GenerationConfig
from whichmodel.bench.cost import QualityData, measure_cost
from whichmodel.bench.device import check_device
from whichmodel.bench.variants import check_names
from whichmodel.errors import ConfigError, DataError
from whichmodel.provenance import hardware, result_library_versions
from whichmodel.refs import ModelRef, parse_ref
from whichmodel.sources import code_files, reference_files
from whichmodel.sources.base import Inputs, LoadOptions
from whichmodel.store import Store, key_of

if TYPE_CHECKING:
    from whichmodel.bench.roofline import ModelRoofline
    from whichmodel.spec.compact import CompactSpec

BENCH_FORMAT = 1  # bump when what a cached profile means changes for the same inputs
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BenchConfig:
    """Everything that defines a benchmark. Stores values; nothing is read until :func:`run`.

    Args:
        refs: model references.
        batch_sizes: batch sizes to time (examples per call).
        variants: variant names (:mod:`whichmodel.bench.variants`); the first is the reference
            for quality deltas.
        threads: intra-op threads for every runtime, the same for every model and variant
            (default 1: the figure least disturbed by the rest of the machine).
        data: a data file whose examples are timed (real lengths) and, when it has labels,
            scored for each variant's quality change.
        task: the compare task whose metrics score the quality change (``classification``,
            ``regression``, ``ranking?query=...`` per query...), or ``lm`` (text only: a
            language model's next-token agreement and negative log-likelihood).
        input_shape: without data, the shape of one synthesized example ((1, 28, 28); for text
            models the number of words).
        quality_examples: at most this many examples are scored for quality deltas.
        generation: the LLM generation grid (causal language models only).
        budget_s: seconds per timed configuration; target_rel: the CI half-width to stop at.
        device: where the models run: ``cpu``, or ``cuda`` / ``cuda:N`` (PyTorch modules and
            transformers classifiers; :mod:`whichmodel.bench.device`).
    """

    refs: tuple[str, ...]
    batch_sizes: tuple[int, ...] = (1, 8, 32)
    variants: tuple[str, ...] = ("original",)
    threads: int = 1
    data: str | None = None
    task: str = "classification"
    input_cols: tuple[str, ...] | None = None
    label_col: str = "label"
    input_shape: tuple[int, ...] | None = None
    quality_examples: int = 512
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    budget_s: float = 1.0
    target_rel: float = 0.02
    store: str = ".whichmodel/store.db"
    allow_pickle: bool = False
    trust_remote_code: bool = False
    device: str = "cpu"

    def validate(self) -> BenchConfig:
        """Raise ConfigError for values no benchmark can use; returns self."""
        if not self.refs:
            raise ConfigError("No models to benchmark; name at least one model reference.")
        check_names(list(self.variants))
        if not self.variants:
            raise ConfigError("No variants to measure; name at least one, e.g. --variant fp32.")
        for name, values in (
            ("batch size", self.batch_sizes),
            ("input shape", self.input_shape or (1,)),
        ):
            if not values or any(v < 1 for v in values):
                raise ConfigError(f"Every {name} must be at least 1. Got {list(values)} instead.")
        if self.threads < 1:
            raise ConfigError(f"Threads must be at least 1. Got {self.threads} instead.")
        if self.budget_s <= 0 or not 0 < self.target_rel < 1:
            raise ConfigError("The time budget must be positive and the CI target in (0, 1).")
        if self.data and self.input_shape:
            raise ConfigError("Give --data or --input-shape, not both: the data sets the shape.")
        check_device(self.device)
        return self


def bench(ref: str, **options: Any) -> CostProfile:
    """Benchmark one model. Keyword options are the fields of :class:`BenchConfig` (not refs).

    Example::

        profile = whichmodel.bench("torch:zoo.py:cnn?weights=cnn.safetensors",
                                   input_shape=(1, 8, 8), variants=("fp32", "int8", "onnx"))
        profile.latency[8].p50_s, profile.variant_named("int8").latency[8].p50_s
    """
    for key in ("batch_sizes", "variants", "input_shape", "input_cols"):
        if options.get(key) is not None:
            options[key] = tuple(options[key])
    try:
        config = BenchConfig(refs=(ref,), **options)
    except TypeError as exc:
        raise ConfigError(f"bench() got an unknown option: {exc}") from exc
    return run(config)[0]


def run(config: BenchConfig, *, progress: Progress | None = None) -> list[CostProfile]:
    """Benchmark every model of ``config`` (see the module docstring)."""
    config.validate()
    refs = [parse_ref(r) for r in config.refs]
    files = [reference_files(ref) for ref in refs]  # fail on a missing file before any work
    sample, quality, data_key = _read_data(config)
    store = Store.open(config.store)
    threads = config.threads
    out = []
    for ref, model_files in zip(refs, files, strict=True):
        fingerprint = model_fingerprint(ref, model_files, store)
        key = key_of(
            "bench",
            BENCH_FORMAT,
            fingerprint,
            asdict(config) | {"refs": None, "store": None},
            threads,
            hardware(),
            data_key,
        )
        cached = store.get_cached("bench", key)
        if cached is not None:
            out.append(CostProfile.from_dict(cached))
            continue
        profile = measure_cost(
            ref,
            sample,
            batch_sizes=config.batch_sizes,
            options=LoadOptions(config.allow_pickle, config.trust_remote_code),
            budget_s=config.budget_s,
            target_rel=config.target_rel,
            variants=config.variants,
            threads=threads,
            input_shape=config.input_shape,
            generation=config.generation,
            quality=quality,
            activations=True,
            device=config.device,
            progress=_variant_progress(f"bench {ref.name}", config.variants, progress),
        )
        store.put_cached("bench", key, profile.to_dict())
        out.append(profile)
    return out


def _variant_progress(
    label: str, variants: Sequence[str], progress: Progress | None
) -> Callable[[str], None] | None:
    if progress is None:
        return None
    report = progress

    def started(variant: str) -> None:
        report(label, list(variants).index(variant), len(variants))

    return started


def model_fingerprint(ref: ModelRef, files: Sequence[str], store: Store) -> str:
    """Content fingerprint of a model: its files' and code's digests, its parameters, and the
    versions of the libraries that run it (as ``compare`` keys predictions)."""
    return key_of(
        ref.kind,
        ref.target,
        sorted(p for p in ref.params if p[0] != "name"),
        store.file_digests([*files, *code_files(ref)]),
        result_library_versions(),
    )


def _read_data(config: BenchConfig) -> tuple[Inputs | None, QualityData | None, Any]:
    """(examples to time, quality data or None, what identifies them for the cache)."""
    if config.data is None:
        return None, None, config.input_shape
    from whichmodel.data.tables import read_table
    from whichmodel.store import file_sha256

    digest = file_sha256(config.data)
    n = config.quality_examples
    if config.task == "lm":
        frame = read_table(config.data)
        texts = [c for c in (config.input_cols or frame.columns) if frame[c].dtype == object]
        if not texts:
            raise DataError(f"{config.data} has no text column for a language model to read.")
        data = frame[str(texts[0])].astype(str).to_numpy(dtype=object)
        inputs = Inputs("text", data, (str(texts[0]),))
        return inputs, QualityData(inputs.take(slice(0, n))), digest
    from whichmodel.tasks import get_task

    task = get_task(config.task)
    # Read as compare reads it (the task's own format, word lists, audio, the unit column).
    dataset, y_all = task.read(
        config.data, input_cols=config.input_cols, label_col=config.label_col
    )
    inputs = dataset.inputs
    units = dataset.units
    if units is None:
        return inputs, QualityData(inputs.take(slice(0, n)), y_all[:n], task), digest
    # A ranking's quality is per query, as compare's: score whole queries, the first ones in
    # the file up to n rows (at least one), never part of one.
    names, first_row, sizes = np.unique(units, return_index=True, return_counts=True)
    order = np.argsort(first_row)  # queries in file order
    kept = names[order][: max(1, int(np.searchsorted(np.cumsum(sizes[order]), n, side="right")))]
    rows = np.flatnonzero(np.isin(units, kept))
    quality = QualityData(dataset.inputs.take(rows), y_all[rows], task, units[rows])
    return dataset.inputs, quality, digest


def rooflines(
    config: BenchConfig, profiles: Sequence[CostProfile], *, progress: Progress | None = None
) -> list[ModelRoofline]:
    """Each profile of :func:`run` (``config``'s models, in order) against this machine's roof
    (:mod:`whichmodel.bench.roofline`): FLOPs from each model's spec sheet at the timed example
    shape (a text model's at its timed sequence length); the machine measured once at
    ``config.threads``, or read from the store."""
    from whichmodel.bench.roofline import rooflines_for

    shape = example_shape(config)
    specs = [_compact_spec(parse_ref(r), config, shape, p)
             for r, p in zip(config.refs, profiles, strict=True)]
    return rooflines_for(list(zip(profiles, [s for s, _ in specs], strict=True)),
                         threads=config.threads, store=config.store, progress=progress,
                         spec_errors=[e for _, e in specs], device=config.device)


def example_shape(config: BenchConfig) -> tuple[int, ...] | None:
    """One timed example's shape: the data's first row (None for text and audio, whose FLOPs
    are counted per token), else ``config.input_shape``."""
    if config.data is None:
        return config.input_shape
    inputs = _read_data(config)[0]
    if inputs is None or inputs.kind in ("text", "audio"):
        return None
    return tuple(inputs.take(slice(0, 1)).data.shape[1:])


def _compact_spec(
    ref: ModelRef, config: BenchConfig, shape: tuple[int, ...] | None, profile: CostProfile
) -> tuple[CompactSpec | None, str | None]:
    """(the model's compact spec sheet, counted at ``shape`` (per-token FLOPs at the timed
    sequence length), or None; why there is none)."""
    from whichmodel.sources import inspect
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.compact import compact

    tokens = max(profile.tokens.items(), default=None)  # (batch size, tokens in it)
    context = max(1, tokens[1] // tokens[0]) if tokens else None
    options = InspectOptions(input_shape=shape, context=context,
                             load=LoadOptions(config.allow_pickle, config.trust_remote_code))
    try:
        return compact(inspect(ref, options)), None
    except Exception as exc:  # a sheet is a bonus: the benchmark stands without it
        return None, f"{type(exc).__name__}: {exc}"[:300]
