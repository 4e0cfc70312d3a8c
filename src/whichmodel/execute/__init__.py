"""Where predict jobs run: :class:`Executor` (base.py) and the local executor."""

from whichmodel.execute.base import Executor, Job, Worker
from whichmodel.execute.local import LocalExecutor

__all__ = ["Executor", "Job", "LocalExecutor", "Worker"]
