"""Run jobs one after another in this process: the default executor, and the reference the
others must agree with."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from whichmodel.execute.base import Job, Worker

R = TypeVar("R")


class LocalExecutor:
    """Runs each job here, in order, on one :class:`Worker`.

    Args:
        worker: the worker whose models the jobs share; pass one to share its loaded model with
            other work in this process (a spec sheet of the same model, say).
    """

    def __init__(self, worker: Worker | None = None) -> None:
        self.worker = worker or Worker()

    def map(self, jobs: Iterable[Job[R]]) -> Iterator[tuple[int, R]]:
        for job in jobs:
            yield job.id, job.run(self.worker)
