"""A comparison against a stored baseline (``whichmodel gate --baseline-run``): one model of a
stored run is compared with a candidate on the same data without being evaluated again.

The baseline's predictions are read from the store under the key its run stored them under
(:meth:`whichmodel.api._Run.model`: its fingerprint, recorded in the run's results, with the
data's fingerprint, the task and the run's batch size); its model file is never opened. Its
spec sheet and cost are the run's. Only the candidate is evaluated, and the statistics, paired
analysis and decision are those of :func:`whichmodel.api.run` over the two.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from whichmodel.api import _Run, concluded
from whichmodel.api_cost import with_rooflines
from whichmodel.comparison import CompareConfig, Comparison, ModelResult
from whichmodel.errors import ConfigError
from whichmodel.store import CorruptPredictionsError

if TYPE_CHECKING:
    from whichmodel.choose.constraints import Constraints, Objective
    from whichmodel.execute.driver import Progress
    from whichmodel.results import ModelSummary, Results


def baseline_model(results: Results, name: str | None) -> ModelSummary:
    """The model of a stored run named ``name``, or its only model when ``name`` is None.

    Raises:
        ConfigError: no such model, or several and none named (the message lists them).
    """
    names = [m.name for m in results.models]
    if name is None and len(names) == 1:
        return results.models[0]
    if name is None:
        raise ConfigError(
            f"Run {results.run_id} has {len(names)} models ({', '.join(names)}); name the "
            f"baseline as --baseline-run {results.run_id}:MODEL."
        )
    for model in results.models:
        if model.name == name:
            return model
    raise ConfigError(
        f"Run {results.run_id} has no model {name!r}; it has {', '.join(names)}."
    )


def run_against(
    config: CompareConfig,
    stored: Results,
    baseline: ModelSummary,
    *,
    progress: Progress | None = None,
    constraints: Constraints | None = None,
    objective: Objective | None = None,
) -> Comparison:
    """Compare ``baseline`` (a model of the stored run ``stored``) with the one model of
    ``config.refs`` on ``config.data``, evaluating only the latter; the baseline comes first.

    Raises:
        ConfigError: the run was on other data or another task than ``config``'s, or the
            baseline's predictions are not (or not wholly) in the store.
    """
    from whichmodel.api_options import check_metrics
    from whichmodel.refs import ModelRef
    from whichmodel.tasks import get_task

    check_metrics(get_task(config.validate().task), constraints, objective)  # before any work
    if constraints is not None:
        constraints.check_cost_basis((baseline.ref, *config.refs))
    run_ = _Run.start(config, None, progress)
    _check_same_data(run_, stored)
    first = _stored_result(run_, stored, baseline)
    ((ref, files),) = run_.refs
    if ref.name == first.name:  # as compare names a second model of the same name
        unnamed = tuple(p for p in ref.params if p[0] != "name")
        ref = ModelRef(ref.kind, ref.target, (*unnamed, ("name", f"{ref.name}-2")), ref.raw)
    (second,) = with_rooflines(run_, [run_.model(ref, files)])
    recorded = replace(config, refs=(baseline.ref, *config.refs))
    return concluded(
        run_, [first, second], constraints, objective, config=recorded, stored=(first.name,)
    )


def _check_same_data(run_: _Run, stored: Results) -> None:
    """ConfigError unless the run was on this data, read with these columns, for this task."""
    if stored.data.fingerprint == run_.data_fp and stored.task == run_.task.name:
        return
    differs = "task" if stored.data.fingerprint == run_.data_fp else "data fingerprint"
    raise ConfigError(
        f"Run {stored.run_id} was on other data: its {differs} differs from that of "
        f"{run_.config.data} read as {run_.task.name} with label column "
        f"{run_.dataset.label_col!r}. Gate on the data and task the run used, or run compare "
        "on the baseline with this data first."
    )


def _stored_result(run_: _Run, stored: Results, model: ModelSummary) -> ModelResult:
    """The baseline's part, from the store and the run's results: its predictions under the
    key the run stored them under, its cost only when this run measures costs too."""
    from whichmodel.execute.driver import to_predictions

    key = run_.predictions_key(model.fingerprint, stored.config.batch_size)
    try:
        rows = run_.store.read_predictions(key)
        whole = np.array_equal(rows.rows, np.arange(len(run_.dataset)))
        why = "" if whole else f"{len(rows.rows)} of {len(run_.dataset)} examples are"
    except CorruptPredictionsError as exc:
        whole, why = False, f"they are unreadable ({exc}); none are"
    if not whole:
        raise ConfigError(
            f"The predictions of {model.name} (run {stored.run_id}) are not in the store "
            f"{run_.config.store}: {why} stored. Run compare on the baseline again, with this "
            "--data and --store."
        )
    measured = run_.config.measure_cost  # with --no-cost neither model has a cost
    return ModelResult(
        model.name, model.ref, model.fingerprint, key, to_predictions(rows, run_.task),
        model.cost if measured else None, model.reused_batches + model.computed_batches, 0,
        cost_error=model.cost_error if measured else None, spec=model.spec,
        spec_error=model.spec_error, n_not_most_probable=model.n_not_most_probable,
        roofline=model.roofline if measured else None, token_cost=model.token_cost,
    )  # fmt: skip
