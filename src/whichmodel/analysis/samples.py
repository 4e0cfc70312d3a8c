"""whichmodel's paired statistics on two lm-evaluation-harness ``--log_samples`` files of one task
(``whichmodel compare-samples A.jsonl B.jsonl``, :func:`whichmodel.compare_samples`).

lm-eval logs each document's metric values but compares models with an unpaired z-test. Here
the two files are matched by ``doc_id`` (and filter), their ``doc_hash`` and ``prompt_hash``
checked equal, and each metric both files log gets, with the machinery ``compare`` uses
(:func:`whichmodel.analysis.stats.compute_statistics` over a
:class:`~whichmodel.tasks.logged.LoggedMetricTask`):

- each model's value with a percentile bootstrap interval, and the paired bootstrap interval of
  the difference (the same resamples for both models);
- the paired test: exact McNemar for 0/1 values (``acc``, ``acc_norm``, ``exact_match``), the
  Wilcoxon signed-rank test for continuous ones (per-document NLL per word or byte for
  ``word_perplexity``, ``byte_perplexity``, ``bits_per_byte``);
- Holm's adjustment across the metrics (one family: the pair's tests);
- the documents on which the models disagree (first binary metric), with their prompts.

Metrics logged as corpus-level pairs (``f1``, ``mcc``: [gold, prediction]) have no per-document
value and are listed as skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whichmodel.analysis.paired import holm
from whichmodel.analysis.stats import Difference, MetricResult, PairedTest, compute_statistics
from whichmodel.data.lm_eval_samples import LoggedSample, LoggedSamples, read_samples
from whichmodel.errors import DataError
from whichmodel.tasks.logged import LoggedMetricTask, predictions

_PAIRS = {"word_perplexity", "byte_perplexity", "bits_per_byte"}  # [loglikelihood, count]
MAX_SHOWN = 10  # disagreements listed


@dataclass(frozen=True)
class SampleMetric:
    """One metric of the pair: each model's value and interval, the difference's paired
    interval, the paired test, and its Holm-adjusted p-value across the metrics."""

    name: str
    kind: str
    a: MetricResult
    b: MetricResult
    difference: Difference
    test: PairedTest
    p_holm: float


@dataclass(frozen=True)
class SampleDisagreement:
    """A document one model got right and the other wrong (on ``metric``)."""

    doc_id: int
    prompt: str
    target: str
    a_right: bool


@dataclass(frozen=True)
class SamplesComparison:
    """Two models' logged samples of one task, compared (see the module docstring)."""

    task: str | None
    files: tuple[str, str]
    models: tuple[str, str]
    n_documents: int
    metrics: tuple[SampleMetric, ...]
    disagreement_metric: str | None
    n_disagreements: int
    disagreements: tuple[SampleDisagreement, ...]
    skipped: tuple[str, ...]
    n_resamples: int
    confidence: float
    seed: int


def compare_samples(
    a: str | Path,
    b: str | Path,
    *,
    names: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> SamplesComparison:
    """Compare two ``--log_samples`` files of the same task (see the module docstring).

    Args:
        a, b: the files (``samples_TASK_DATE.jsonl``).
        names: the two models' names; default the model names lm-eval gave the files' folders,
            else the file names.
        metrics: the metrics to compare (default every per-document metric both files log);
            a metric with a filter other than ``none`` is named ``metric,filter``.

    Raises:
        DataError: a file is missing or not lm-eval samples; the files are of different tasks
            or documents; a named metric is not logged.
    """
    sa, sb = read_samples(a), read_samples(b)
    if sa.task and sb.task and sa.task != sb.task:
        raise DataError(f"{sa.path.name} is of the task '{sa.task}' and {sb.path.name} of "
                        f"'{sb.task}'; compare two runs of the same task.")
    rows_a, rows_b = _by_key(sa), _by_key(sb)
    keys = _matched(rows_a, rows_b, sa, sb)
    values = _values(keys, rows_a, rows_b, metrics)
    model_names = _names(sa, sb, names)
    results = [
        _metric(name, kind, va, vb, model_names, n_resamples, confidence, seed)
        for name, (kind, va, vb) in values.items()
        if kind != "pairs"
    ]
    if not results:
        raise DataError(f"{sa.path.name} and {sb.path.name} log no per-document metric both "
                        f"share (logged: {', '.join(values) or 'none'}).")
    adjusted = holm([m.test.p_value for m in results])
    results = [_with_holm(m, float(p)) for m, p in zip(results, adjusted, strict=True)]
    binary = next((m.name for m in results if m.kind == "binary"), None)
    shown = _disagreements(keys, rows_a, values[binary][1:], binary) if binary else []
    return SamplesComparison(
        sa.task or sb.task, (str(sa.path), str(sb.path)), model_names, len(keys), tuple(results),
        binary, len(shown), tuple(shown[:MAX_SHOWN]),
        tuple(n for n, v in values.items() if v[0] == "pairs"), n_resamples, confidence, seed,
    )


Key = tuple[int, str]  # (doc_id, filter)


def _by_key(samples: LoggedSamples) -> dict[Key, LoggedSample]:
    rows: dict[Key, LoggedSample] = {}
    for s in samples.samples:
        if (s.doc_id, s.filter) in rows:
            raise DataError(f"{samples.path.name} logs document {s.doc_id} (filter {s.filter}) "
                            "twice; give one run's samples file.")
        rows[(s.doc_id, s.filter)] = s
    return rows


def _matched(
    rows_a: dict[Key, LoggedSample], rows_b: dict[Key, LoggedSample],
    sa: LoggedSamples, sb: LoggedSamples,
) -> list[Key]:
    """The (doc_id, filter) keys of both files, checked to be the same documents and prompts."""
    if set(rows_a) != set(rows_b):
        only = sorted(set(rows_a) ^ set(rows_b))[0]
        raise DataError(f"{sa.path.name} and {sb.path.name} log different documents (document "
                        f"{only[0]} is in one only); compare two runs of the same task and limit.")
    keys = sorted(rows_a)
    for key in keys:
        x, y = rows_a[key], rows_b[key]
        for what in ("doc_hash", "prompt_hash"):
            if getattr(x, what) and getattr(y, what) and getattr(x, what) != getattr(y, what):
                raise DataError(f"Document {key[0]} differs between {sa.path.name} and "
                                f"{sb.path.name} (its {what}); compare two runs of the same task "
                                "with the same prompts.")
    return keys


Values = dict[str, tuple[str, np.ndarray, np.ndarray]]  # metric -> (kind, A (n, 2), B (n, 2))


def _values(
    keys: list[Key], rows_a: dict[Key, LoggedSample], rows_b: dict[Key, LoggedSample],
    wanted: Sequence[str] | None,
) -> Values:
    """Each metric both files log for every document: its kind and (n, 2) (value, count)."""
    filters = sorted({k[1] for k in keys})
    out: Values = {}
    for f in filters:
        keyed = [k for k in keys if k[1] == f]
        names = [n for n in rows_a[keyed[0]].values if all(n in rows_b[k].values for k in keyed)]
        for name in names:
            label = name if f == "none" else f"{name},{f}"
            if wanted is None or label in wanted:
                out[label] = _kind_and_values(name, keyed, rows_a, rows_b)
    missing = [m for m in wanted or () if m not in out]
    if missing:
        raise DataError(f"Both files must log the metric '{missing[0]}'; they share "
                        f"{', '.join(out) or 'none'}.")
    return out


def _kind_and_values(
    name: str, keys: list[Key], rows_a: dict[Key, LoggedSample], rows_b: dict[Key, LoggedSample]
) -> tuple[str, np.ndarray, np.ndarray]:
    raw = [[r[k].values[name] for k in keys] for r in (rows_a, rows_b)]
    numbers = all(isinstance(v, int | float) for side in raw for v in side)
    if numbers:
        arrays = [np.stack([np.asarray(s, float), np.ones(len(s))], axis=1) for s in raw]
        if name == "perplexity":
            kind = "perplexity"
        else:
            binary = all(v in (0, 1) for side in raw for v in side)
            kind = "binary" if binary else "mean"
        return kind, arrays[0], arrays[1]
    pairs = all(isinstance(v, list) and len(v) == 2 for side in raw for v in side)
    if name in _PAIRS and pairs:
        return name, *(np.asarray(s, dtype=float) for s in raw)  # type: ignore[return-value]
    return "pairs", np.empty((0, 2)), np.empty((0, 2))


def _names(sa: LoggedSamples, sb: LoggedSamples, names: Sequence[str] | None) -> tuple[str, str]:
    if names is not None:
        if len(names) != 2 or names[0] == names[1]:
            raise DataError(f"Give two different names for the two files. Got {list(names)}.")
        return str(names[0]), str(names[1])
    for a, b in ((sa.model, sb.model), (sa.path.stem, sb.path.stem)):
        if a and b and a != b:
            return a, b
    return "A", "B"


def _metric(
    name: str, kind: str, va: np.ndarray, vb: np.ndarray, models: tuple[str, str],
    n_resamples: int, confidence: float, seed: int,
) -> SampleMetric:
    task = LoggedMetricTask(name, kind)
    preds = {models[0]: predictions(va[:, 0], va[:, 1]), models[1]: predictions(vb[:, 0], vb[:, 1])}
    stats = compute_statistics(task, np.zeros(len(va)), preds, n_resamples=n_resamples,
                               confidence=confidence, seed=seed)
    ma, mb = stats.metrics
    (difference,), (test,) = stats.differences, stats.tests
    return SampleMetric(name, kind, ma, mb, difference, test, test.p_value)


def _with_holm(metric: SampleMetric, p_holm: float) -> SampleMetric:
    from dataclasses import replace

    return replace(metric, p_holm=p_holm)


def _disagreements(
    keys: list[Key], rows: dict[Key, LoggedSample], pair: tuple[np.ndarray, np.ndarray],
    metric: str,
) -> list[SampleDisagreement]:
    va, vb = pair
    _, _, filt = metric.partition(",")
    keyed = [k for k in keys if k[1] == (filt or "none")]
    return [
        SampleDisagreement(k[0], rows[k].prompt, rows[k].target, bool(a > 0.5))
        for k, a, b in zip(keyed, va[:, 0], vb[:, 0], strict=True)
        if (a > 0.5) != (b > 0.5)
    ]
