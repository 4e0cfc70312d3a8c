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
from whichmodel.errors import ConfigError

_RENAMES = {"models": "refs", "bootstrap": "n_resamples"}
_EXTRA_KEYS = {"out", "choose"}


def load_config(path: str | Path) -> tuple[CompareConfig, dict[str, Any]]:
    """Read a whichmodel.yaml. Returns the config and the keys that are not comparison options
    (``out``, ``choose``). Paths in the file are relative to the current directory, as on the
    command line."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"No config file at {p}.")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p} is not valid YAML: {str(exc).splitlines()[0]}") from exc
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
    for key in ("refs", "data"):
        if key not in values:
            raise ConfigError(f"{p} has no '{'models' if key == 'refs' else key}'.")
    if not isinstance(values["refs"], list) or not values["refs"]:
        raise ConfigError(f"'models' in {p} must be a list of model references.")
    values["refs"] = tuple(_model_ref(m, p) for m in values["refs"])
    if isinstance(values.get("input_cols"), list):
        values["input_cols"] = tuple(values["input_cols"])
    if isinstance(values.get("slice_by"), str):
        values["slice_by"] = (values["slice_by"],)
    elif isinstance(values.get("slice_by"), list):
        values["slice_by"] = tuple(values["slice_by"])
    extras = {k: raw[k] for k in _EXTRA_KEYS if k in raw}
    return CompareConfig(**values), extras


def _model_ref(entry: Any, path: Path) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and "ref" in entry:
        ref = str(entry["ref"])
        if entry.get("name"):
            ref += ("&" if "?" in ref else "?") + f"name={entry['name']}"
        return ref
    raise ConfigError(f"Each entry under 'models' in {path} must be a reference or {{ref, name}}.")
