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


class _Reversed(LocalExecutor):
    """An executor that finishes the jobs in reverse order, as a pool or a cluster may."""

    def map(self, jobs):
        done = [(job.id, job.run(self.worker)) for job in jobs]
        yield from reversed(done)


def test_results_do_not_depend_on_the_order_jobs_finish_in(tmp_path):
    import whichmodel
    from helpers.iris import save_iris_models

    iris = save_iris_models(tmp_path)
    refs = [f"sklearn:{iris}/lr.skops", f"sklearn:{iris}/tree.skops"]
    options = {"label_col": "target", "measure_cost": False, "n_resamples": 100, "batch_size": 16}
    in_order = whichmodel.compare(refs, iris / "iris.csv", store=str(tmp_path / "a.db"), **options)
    reversed_ = whichmodel.compare(
        refs, iris / "iris.csv", store=str(tmp_path / "b.db"), executor=_Reversed(), **options
    )
    assert in_order.statistics == reversed_.statistics
    for a, b in zip(in_order.models, reversed_.models, strict=True):
        np.testing.assert_array_equal(a.predictions.rows, b.predictions.rows)
        np.testing.assert_array_equal(a.predictions.proba, b.predictions.proba)


def test_the_worker_lets_a_model_go_once_its_part_of_the_run_is_done(tmp_path):
    import whichmodel
    from helpers.iris import save_iris_models

    iris = save_iris_models(tmp_path)
    executor = LocalExecutor()
    whichmodel.compare([f"sklearn:{iris}/lr.skops"], iris / "iris.csv", label_col="target",
                       measure_cost=False, n_resamples=20, store=str(tmp_path / "s.db"),
                       executor=executor)  # fmt: skip
    assert executor.worker._loaded is None


def test_every_task_pickles_for_a_job_sent_to_another_process():
    import pickle
    import weakref
    from pathlib import Path

    from whichmodel.tasks import TASKS, get_task

    corpus = Path(__file__).parents[2] / "examples" / "retrieval" / "docs.jsonl"
    for name in (*TASKS.names(), "fake"):
        task = get_task(f"retrieval?corpus={corpus}" if name == "retrieval" else name)
        if name == "retrieval":  # after a batch: the corpus read and embedded for one model
            task.corpus()
            model = Softmax()
            task._embedded = (weakref.ref(model), np.eye(2))
        copy = pickle.loads(pickle.dumps(task))
        assert type(copy) is type(task) and copy.name == task.name
