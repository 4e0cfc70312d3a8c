"""The Executor contract on the local executor, and the flow through it: the same jobs give the
same predictions however they are handed out, and a worker keeps one model at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from whichmodel.execute import LocalExecutor, Worker
from whichmodel.execute.predict import PredictJob, predict_batch
from whichmodel.refs import parse_ref
from whichmodel.sources.base import Inputs, LoadOptions, Model, ModelInfo, RawOutput
from whichmodel.tasks import get_task


class Softmax(Model):
    """A linear softmax classifier over two features; raises on a negative first feature."""

    classes = ("a", "b", "c")
    info = ModelInfo("test", "Softmax", 6, ())

    def predict(self, inputs: Inputs) -> RawOutput:
        x = inputs.data
        if (x[:, 0] < 0).any():
            raise ValueError("negative input")
        logits = x @ np.array([[1.0, -1.0, 0.5], [0.2, 0.3, -0.4]])
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return RawOutput("proba", e / e.sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class Square:
    id: int

    def run(self, worker: Worker) -> int:
        return self.id * self.id


def test_local_executor_yields_each_job_id_with_its_result_lazily():
    pulled = []

    def jobs():
        for i in range(4):
            pulled.append(i)
            yield Square(i)

    results = LocalExecutor().map(jobs())
    assert next(results) == (0, 0) and pulled == [0]  # the next job is built only when needed
    assert list(results) == [(1, 1), (2, 4), (3, 9)]


def test_a_job_that_raises_stops_the_map_after_the_results_already_yielded():
    @dataclass(frozen=True)
    class Failing:
        id: int

        def run(self, worker: Worker) -> int:
            if self.id == 2:
                raise RuntimeError("job 2")
            return self.id

    seen = []
    with pytest.raises(RuntimeError, match="job 2"):
        for job_id, _ in LocalExecutor().map(Failing(i) for i in range(4)):
            seen.append(job_id)
    assert seen == [0, 1]


def test_worker_keeps_the_last_model_and_loads_another_in_its_place():
    loads = []

    def loader(ref, options):
        loads.append(ref.name)
        return Softmax()

    worker, options = Worker(loader), LoadOptions()
    a, b = parse_ref("sklearn:a.skops"), parse_ref("sklearn:b.skops")
    first = worker.model(a, options)
    assert worker.model(a, options) is first
    worker.model(b, options)
    worker.model(a, options)
    worker.model(a, LoadOptions(allow_pickle=True))  # other permissions: loaded again
    assert loads == ["a", "b", "a", "a"]


def test_predict_job_equals_predict_batch_and_records_failures_per_example():
    task, model = get_task("classification"), Softmax()
    x = np.array([[0.5, 1.0], [-1.0, 2.0], [2.0, -0.5], [1.5, 0.0]])
    inputs = Inputs("tabular", x, ("x0", "x1"))
    ref = parse_ref("sklearn:softmax.skops")
    job = PredictJob(7, ref, LoadOptions(), task, np.arange(4), inputs)
    ((job_id, (pred, proba, errors, classes)),) = LocalExecutor(
        Worker(lambda r, o: model)
    ).map([job])
    assert job_id == 7 and classes == ("a", "b", "c")
    assert errors[1] == "ValueError: negative input" and errors.count(None) == 3
    ok = [0, 2, 3]
    direct = model.predict(inputs.take(np.array(ok))).array
    # retried one by one: equal to the batch up to BLAS rounding (row-by-row products)
    np.testing.assert_allclose(proba[ok], direct, rtol=1e-12)
    assert np.isnan(proba[1]).all()
    expected = predict_batch(model, task, inputs.take(np.array(ok)))
    assert list(pred[ok]) == list(expected[0])
