"""The Executor contract: where jobs run (this process, a pool, a Ray cluster), never what they do.

A job is a small picklable value (a model reference, a slice of data, options) with one method,
``run(worker)``. An executor runs jobs and yields ``(job id, result)`` as each finishes, in any
order; the driver commits each result as it arrives, so a run stopped halfway resumes after the
results it committed, whichever executor ran them. The same jobs give the same results on every
executor: a job reads nothing from where it runs but the :class:`Worker` it is handed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

from whichmodel.refs import ModelRef
from whichmodel.sources.base import LoadOptions, Model

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Worker:
    """What a worker keeps between the jobs it runs: the models it loaded, one at a time.

    Jobs of one model arrive together, so a worker holds the last model it loaded and no more:
    a comparison of six models never holds six in memory.
    """

    def __init__(self, loader: Callable[[ModelRef, LoadOptions], Model] | None = None) -> None:
        self._loader = loader
        self._loaded: tuple[ModelRef, LoadOptions, Model] | None = None

    def model(self, ref: ModelRef, options: LoadOptions) -> Model:
        """The model ``ref`` names, loaded on first use and kept for the jobs that follow."""
        if self._loaded is None or self._loaded[:2] != (ref, options):
            self._loaded = None  # let the previous model go before the next one loads
            self._loaded = (ref, options, self._load(ref, options))
        return self._loaded[2]

    def release(self) -> None:
        """Let the loaded model go (its memory, a GPU's too) before other work runs."""
        self._loaded = None

    def _load(self, ref: ModelRef, options: LoadOptions) -> Model:
        if self._loader is not None:
            return self._loader(ref, options)
        from whichmodel.sources import load  # late: sources import torch and friends lazily

        return load(ref, options)


class Job(Protocol[R_co]):
    """A unit of work: ``id`` names it to the driver; ``run`` does it on a worker."""

    @property
    def id(self) -> int: ...

    def run(self, worker: Worker) -> R_co: ...


class Executor(Protocol):
    """Runs jobs; yields ``(job.id, result)`` for each, as it finishes.

    A job that raises stops the map with that exception, after the results already yielded: the
    driver has committed those. Jobs are consumed lazily, so a driver may build each one's data
    only when it is about to run.
    """

    def map(self, jobs: Iterable[Job[R]]) -> Iterator[tuple[int, R]]: ...
