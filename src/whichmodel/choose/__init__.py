"""Choose a model: constraints, Pareto front, trade-offs matrix, and the decision in words.

Everything here is a pure function of a comparison's :class:`~whichmodel.results.Results` (read
from a results.json, schema 1, or made by ``compare``): nothing is measured again. ``choose`` is
the API face; ``decide`` does the work.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whichmodel.choose.constraints import Constraints, Objective, parse_pairs, preferred
from whichmodel.choose.decide import decide
from whichmodel.choose.decision import Decision
from whichmodel.errors import ConfigError, brief

if TYPE_CHECKING:
    from whichmodel.comparison import Comparison, Outcome
    from whichmodel.results import Results


def choose(
    results: Comparison | Results | dict[str, Any] | str | Path,
    *,
    max_latency_ms: float | None = None,
    max_memory_mb: float | None = None,
    min_metrics: dict[str, float] | None = None,
    max_metrics: dict[str, float] | None = None,
    max_cost_per_1k: float | None = None,
    price_per_hour: float | None = None,
    prefer: str = "quality",
    weights: dict[str, float] | None = None,
    metric: str | None = None,
    latency_batch_size: int = 1,
    latency_percentile: str = "p50",
) -> Decision:
    """Decide which model to ship from a comparison, its results, a results.json or its data.

    Example::

        d = whichmodel.choose("out/results.json", max_latency_ms=5, min_metrics={"accuracy": 0.9})
        print(d.pick, *d.sentences, sep="\\n")

    Raises:
        ConfigError: an invalid limit or objective, or a file that is not a results.json.
    """
    constraints = Constraints(
        max_latency_ms,
        max_memory_mb,
        tuple((min_metrics or {}).items()),
        tuple((max_metrics or {}).items()),
        max_cost_per_1k,
        price_per_hour,
        latency_batch_size,
        latency_percentile,
    )
    objective = Objective(
        preferred(prefer), tuple((preferred(k), v) for k, v in (weights or {}).items()), metric
    )
    return decide(as_results(results), constraints, objective)


def as_results(results: Any) -> Results:
    """The results of a Comparison, of a results.json path, or of its parsed data (checked
    against the schema: ConfigError when it is not one)."""
    from whichmodel.comparison import Comparison
    from whichmodel.results import Results

    if isinstance(results, Results):
        return results
    if isinstance(results, Comparison):
        return results.results()
    if isinstance(results, dict):  # as JSON has it (tuples as lists) before the schema reads it
        return _outcome(json.loads(json.dumps(results)), "The results").results
    if isinstance(results, str | Path):
        return read_results(Path(results)).results
    raise ConfigError(f"Cannot choose from {brief(results)}: give a comparison or a results.json.")


def load_results(source: str | None, *, store: str | Path) -> Outcome:
    """What a results.json path, or a run id in ``store`` (None: the latest compare run), holds.
    Raises ConfigError when there is no such file or run."""
    if source is not None and (source.endswith(".json") or Path(source).is_file()):
        return read_results(Path(source))
    from whichmodel.store import Store

    if not Path(store).is_file():
        raise ConfigError(f"No run store at {store}; run compare first or name a results.json.")
    runs = [r for r in Store.open(store).runs() if r["kind"] == "compare"]
    if source is not None:
        runs = [r for r in runs if r["run_id"] == source or r["run_id"].startswith(source)]
    if not runs:
        what = f"run '{source}'" if source else "compare run"
        raise ConfigError(f"No {what} in {store}; run compare first or name a results.json.")
    if len(runs) > 1 and source is not None:
        raise ConfigError(f"'{source}' matches {len(runs)} runs in {store}; give more of the id.")
    latest = runs[-1]
    data = {**latest["results"], "run_id": latest["run_id"]}
    return _outcome(data, f"Run {latest['run_id']} in {store}")


def read_results(path: Path) -> Outcome:
    """Read a results.json; ConfigError if it is missing or not one (see
    :mod:`whichmodel.report.schema`)."""
    from whichmodel.results import SCHEMA_VERSION

    if not path.is_file():
        raise ConfigError(f"No results file at {path}; write one with compare --out DIR.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not JSON: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply to be a results.json.") from None
    if not isinstance(data, dict) or "models" not in data or "metrics" not in data:
        raise ConfigError(f"{path} is not a whichmodel results.json (no 'models' and 'metrics').")
    if data.get("schema") != SCHEMA_VERSION:
        raise ConfigError(
            f"{path} has results schema {brief(data.get('schema'))}; this whichmodel reads schema "
            f"{SCHEMA_VERSION}. Re-run compare to write it again."
        )
    return _outcome(data, str(path))


def _outcome(data: dict[str, Any], where: str) -> Outcome:
    """``data`` checked against the results schema, then read."""
    from whichmodel.comparison import Outcome
    from whichmodel.report.schema import check_results

    check_results(data, where)
    return Outcome.from_dict(data)


class _CallableModule(types.ModuleType):
    """``whichmodel.choose`` is both this package and the API function: once the package is
    imported, Python sets ``whichmodel.choose`` to the module, so the module calls through."""

    def __call__(self, *args: Any, **kwargs: Any) -> Decision:
        return choose(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "Constraints",
    "Decision",
    "Objective",
    "as_results",
    "choose",
    "decide",
    "load_results",
    "parse_pairs",
    "preferred",
    "read_results",
]
