"""``whichmodel.yaml``: a comparison in one file.

models:
  - sklearn:models/lr.skops
  - {ref: "torch:zoo:cnn?weights=cnn.safetensors", name: cnn}
data: test.parquet
task: classification
label_col: label
batch_size: 64
slice_by: [language]
out: report/
choose:            # optional: constraints and objective (see whichmodel.choose.constraints)
  max_latency_ms: 5
  min: {accuracy: 0.9}
  prefer: latency
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any

from whichmodel.comparison import CompareConfig
from whichmodel.errors import ConfigError, brief

_RENAMES = {"models": "refs", "bootstrap": "n_resamples"}
_EXTRA_KEYS = {"out", "choose"}
# A whichmodel.yaml names a few models, columns and limits: a few hundred values, a few kB.
# These caps are far above that, and far below what hangs or fills memory.
MAX_CONFIG_BYTES = 2**20
MAX_CONFIG_VALUES = 100_000  # values once every YAML alias is expanded


def load_config(path: str | Path) -> tuple[CompareConfig, dict[str, Any]]:
    """Read a whichmodel.yaml. Returns the config and the keys that are not comparison options
    (``out``, ``choose``). Paths in the file are relative to the current directory, as on the
    command line."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"No config file at {p}.")
    if p.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{p} is {p.stat().st_size / 2**20:.1f} MiB; a whichmodel.yaml is at most 1 MiB. "
            "Is it the right file?"
        )
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    except RecursionError:
        raise ConfigError(f"{p} is nested too deeply to be a whichmodel.yaml.") from None
    _check_expanded_size(raw, p)
    if not isinstance(raw, dict):
        raise ConfigError(f"{p} must be a mapping with at least 'models' and 'data'.")
    fields = {f.name for f in dataclasses.fields(CompareConfig)}
    known = fields | set(_RENAMES) | _EXTRA_KEYS
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"Unknown key '{key}' in {p}.{hint}")
    values = {_RENAMES.get(str(k), str(k)): v for k, v in raw.items() if k not in _EXTRA_KEYS}
    _lm_eval_data(values)
    for key in ("refs", "data"):
        if key not in values:
            raise ConfigError(f"{p} has no '{'models' if key == 'refs' else key}'.")
    if not isinstance(values["refs"], list) or not values["refs"]:
        raise ConfigError(f"'models' in {p} must be a list of model references.")
    values["refs"] = tuple(_model_ref(m, p) for m in values["refs"])
    for key in ("input_cols", "input_shape"):
        if isinstance(values.get(key), list):
            values[key] = tuple(values[key])
    if isinstance(values.get("slice_by"), str):
        values["slice_by"] = (values["slice_by"],)
    elif isinstance(values.get("slice_by"), list):
        values["slice_by"] = tuple(values["slice_by"])
    extras = {k: raw[k] for k in _EXTRA_KEYS if k in raw}
    return CompareConfig(**values), extras


def _lm_eval_data(values: dict[str, Any]) -> None:
    """Without 'data', an lm-eval task YAML (``task: lm-eval:TASK.yaml``) is the data: its
    data_files are the examples."""
    if "data" not in values and isinstance(values.get("task"), str):
        from whichmodel.tasks.lm_eval_yaml import spec_path

        if spec_path(values["task"]) is not None:
            values["data"] = spec_path(values["task"])


def _check_expanded_size(value: Any, path: Path) -> None:
    """Refuse a value that holds itself (``&a [*a]``) or that expands, alias by alias, to more
    than :data:`MAX_CONFIG_VALUES` values: a "billion laughs" file loads in microseconds, since
    PyYAML shares each aliased value, but anything that walks or prints it never ends. Counts
    each shared value once per use without walking it again, so the check itself is fast."""
    sizes: dict[int, int] = {}  # id -> values in that list or mapping, aliases expanded
    open_ids: set[int] = set()  # lists and mappings being counted: the path from the top
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, counted = stack.pop()
        if not isinstance(node, list | dict):
            continue
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        if counted:
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in children)
            open_ids.discard(id(node))
            if sizes[id(node)] > MAX_CONFIG_VALUES:
                raise ConfigError(
                    f"{path} expands to more than {MAX_CONFIG_VALUES:,} values through YAML "
                    "aliases (&name / *name), which a whichmodel.yaml never needs: refused."
                )
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_ids:
            raise ConfigError(f"{path} has a value that contains itself (a recursive YAML alias).")
        open_ids.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children)


def _model_ref(entry: Any, path: Path) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and "ref" in entry:
        ref, name = entry["ref"], entry.get("name")
        if not isinstance(ref, str) or not isinstance(name, str | int | float | None):
            raise ConfigError(
                f"A model's 'ref' and 'name' in {path} must be text. Got {brief(ref)} and "
                f"{brief(name)}."
            )
        if name:
            ref += ("&" if "?" in ref else "?") + f"name={name}"
        return ref
    raise ConfigError(f"Each entry under 'models' in {path} must be a reference or {{ref, name}}.")
