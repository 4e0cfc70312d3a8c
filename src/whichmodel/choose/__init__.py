"""Choose a model: constraints, Pareto front, trade-offs matrix, and the decision in words.

Everything here is a pure function of a ``results.json`` dictionary (schema 1): nothing is
measured again. ``choose`` is the API face; ``decide`` does the work.
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
    from whichmodel.comparison import Comparison


def choose(
    results: Comparison | dict[str, Any] | str | Path,
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
    """Decide which model to ship from a comparison, its results dictionary or a results.json.

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


def as_results(results: Any) -> dict[str, Any]:
    """A results dictionary from a Comparison, a dictionary or a results.json path."""
    if isinstance(results, dict):
        return results
    if isinstance(results, str | Path):
        return read_results(Path(results))
    from whichmodel.report.json import comparison_to_dict

    return comparison_to_dict(results)


def load_results(source: str | None, *, store: str | Path) -> dict[str, Any]:
    """A results dictionary from a results.json path, or a run id in ``store`` (None: the
    latest compare run). Raises ConfigError when there is no such file or run."""
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
    from whichmodel.report.schema import check_results

    check_results(latest["results"], f"Run {latest['run_id']} in {store}")
    return {**latest["results"], "run_id": latest["run_id"]}


def read_results(path: Path) -> dict[str, Any]:
    """Read a results.json; ConfigError if it is missing or not one (see
    :mod:`whichmodel.report.schema`)."""
    from whichmodel.report.json import SCHEMA_VERSION
    from whichmodel.report.schema import check_results

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
    check_results(data, str(path))
    return data


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
