"""A local lm-evaluation-harness task YAML, read safely, and its examples built as lm-eval builds
them (``lm_eval/api/task.py``, ``ConfigurableTask``; checked equal to lm-eval's logged requests in
tests).

What is read: ``dataset_path: json`` with ``dataset_kwargs.data_files`` (a path, a list, or a
mapping of split -> path(s); relative paths are read from the YAML's folder), the split
``test_split`` (else ``validation_split``), ``doc_to_text``, ``doc_to_choice``,
``doc_to_target``, ``description``, ``target_delimiter`` (default ``" "``), ``output_type``,
``generation_kwargs``, and ``include:`` of another local YAML (its keys, overridden by this
file's). Each ``doc_to_*`` is a field name, a Jinja2 template (rendered in a sandbox: a template
reads the document, nothing else), or a literal (``doc_to_choice: ["yes", "no"]``), exactly as
lm-eval reads them. ``metric_list``, ``task``, ``tag`` and other descriptive keys are read and
not used: the metrics are whichmodel's for the mapped task.

Refused, in one line that says what to do: Python code (a ``!function`` tag, ``process_docs``,
``process_results``, ``class``), any dataset but local JSON files, few-shot prompts
(``num_fewshot`` > 0), ``gen_prefix``, ``filter_list``, ``repeats`` > 1, multiple-input and
multiple-target documents. No lm-eval package is needed.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whichmodel.errors import DataError, TaskError

PREFIX = "lm-eval:"
MAX_YAML_BYTES = 1 << 20  # a task YAML is a few hundred bytes; this is not one
_MAX_INCLUDES = 8

#: lm-eval's output types -> the whichmodel task that scores them the same way.
OUTPUT_TYPES = {
    "multiple_choice": "multiple-choice",
    "loglikelihood_rolling": "language-modeling",
    "generate_until": "generation",
}
#: Keys that describe the task and change nothing in how its examples are built here.
_INERT = frozenset({
    "task", "task_alias", "tag", "group", "metadata", "metric_list", "dataset_name",
    "training_split", "fewshot_split", "fewshot_config", "fewshot_delimiter",
    "should_decontaminate", "doc_to_decontamination_query", "unsafe_code", "version",
})
_USED = frozenset({
    "include", "dataset_path", "dataset_kwargs", "test_split", "validation_split",
    "output_type", "doc_to_text", "doc_to_choice", "doc_to_target", "description",
    "target_delimiter", "generation_kwargs", "num_fewshot", "repeats",
})
#: Keys whichmodel cannot honour, with what to do instead.
_REFUSED = {
    "process_docs": "Python code that rewrites the documents",
    "process_results": "Python code that scores the results",
    "class": "a Python task class",
    "custom_dataset": "a Python dataset",
    "gen_prefix": "an answer prefix (gen_prefix)",
    "filter_list": "answer filters (filter_list)",
    "use_prompt": "a promptsource prompt (use_prompt)",
    "doc_to_image": "image inputs",
    "doc_to_audio": "audio inputs",
}
DEFAULT_MAX_GEN_TOKS = 256  # lm_eval/defaults.py


@dataclass(frozen=True)
class LmEvalYaml:
    """A task YAML as read (``include``s merged) and checked.

    Args:
        path: the YAML file.
        output_type: lm-eval's ``output_type``, one of :data:`OUTPUT_TYPES`.
        split: the split evaluated (``test_split``, else ``validation_split``).
        data_files: that split's JSON / JSON Lines files, resolved.
        config: every key of the YAML (merged), for the ``doc_to_*`` fields.
    """

    path: Path
    output_type: str
    split: str
    data_files: tuple[Path, ...]
    config: Mapping[str, Any] = field(repr=False)

    @property
    def target_delimiter(self) -> str:
        return str(self.config.get("target_delimiter", " "))


def spec_path(task: str | None) -> str | None:
    """The YAML path of a ``lm-eval:PATH`` task spec, None for any other task."""
    if isinstance(task, str) and task.startswith(PREFIX):
        return task[len(PREFIX) :]
    return None


def default_data(task: str | None, data: str | None) -> str | None:
    """The data a comparison reads: ``data`` when given, else an lm-eval task's YAML (its
    ``data_files`` are the examples), else None."""
    return data if data is not None else spec_path(task)


def read_task_yaml(path: str | Path) -> LmEvalYaml:
    """Read and check the lm-eval task YAML at ``path`` (see the module docstring).

    Raises:
        TaskError: a missing or unreadable file, or a feature whichmodel refuses or lacks.
    """
    p = Path(path)
    config = _merged(p, depth=0)
    for key, why in _REFUSED.items():
        if key in config:
            raise TaskError(_unsupported(p, f"'{key}' ({why})"))
    unknown = sorted(set(config) - _INERT - _USED)
    if unknown:
        raise TaskError(f"{p} has the key '{unknown[0]}', which whichmodel does not read from an "
                        "lm-eval task YAML; remove it or run the task with lm-eval itself.")
    _check_plain(config, p)
    output_type = config.get("output_type", "generate_until")
    if output_type not in OUTPUT_TYPES:
        raise TaskError(_unsupported(p, f"output_type '{output_type}' (whichmodel reads "
                                        f"{', '.join(OUTPUT_TYPES)})"))
    if int(config.get("num_fewshot") or 0) > 0:
        raise TaskError(_unsupported(p, "few-shot prompts (num_fewshot > 0)"))
    if int(config.get("repeats") or 1) != 1:
        raise TaskError(_unsupported(p, "repeats > 1"))
    split, files = _data_files(config, p)
    return LmEvalYaml(p, str(output_type), split, files, config)


def _unsupported(path: Path, what: str) -> str:
    return (f"{path} uses {what}, which whichmodel does not run; use a task YAML without it, "
            "or run that task with lm-eval itself.")


def _merged(path: Path, *, depth: int) -> dict[str, Any]:
    """The YAML's mapping, with an ``include:``d YAML's keys under it (lm-eval's order)."""
    if depth > _MAX_INCLUDES:
        raise TaskError(f"{path}: more than {_MAX_INCLUDES} nested includes (a cycle?).")
    config = _load(path)
    include = config.pop("include", None)
    if include is None:
        return config
    if not isinstance(include, str):
        raise TaskError(f"'include' in {path} must be the path of one YAML file.")
    base = _merged(path.parent / include, depth=depth + 1)
    return {**base, **config}


def _load(path: Path) -> dict[str, Any]:
    """``yaml.safe_load`` of ``path`` that refuses tags (``!function``) and aliases."""
    import yaml

    if not path.is_file():
        raise TaskError(f"No lm-eval task YAML at {path}.")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise TaskError(f"{path} is over 1 MiB; is it an lm-eval task YAML?")

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):  # shared values: never needed, may explode
                raise TaskError(_unsupported(path, "YAML aliases (*name)"))
            return super().compose_node(parent, index)

    def tagged(loader: Any, suffix: str, node: Any) -> Any:
        raise TaskError(_unsupported(path, f"the tag {node.tag} (Python code or objects)"))

    Loader.add_multi_constructor("!", tagged)
    # The standard tags keep safe_load's constructors (an exact match wins); any other,
    # tag:yaml.org,2002:python/object among them, is refused here.
    Loader.add_multi_constructor("tag:", tagged)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)  # a SafeLoader: no objects
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TaskError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise TaskError(f"{path} is not an lm-eval task YAML (a mapping of keys).")
    return raw


def _check_plain(config: Mapping[str, Any], path: Path) -> None:
    if config.get("dataset_path") != "json":
        where = config.get("dataset_path")
        raise TaskError(_unsupported(path, f"dataset_path {where!r} (whichmodel reads local "
                                           "files: dataset_path: json with "
                                           "dataset_kwargs.data_files)"))
    for key in ("doc_to_text", "doc_to_target", "doc_to_choice", "description"):
        value = config.get(key)
        if key == "doc_to_choice" and isinstance(value, list | dict):
            continue
        if value is not None and not isinstance(value, str | int):
            raise TaskError(f"'{key}' in {path} must be a field name or a template. "
                            f"Got {type(value).__name__} instead.")


def _data_files(config: Mapping[str, Any], path: Path) -> tuple[str, tuple[Path, ...]]:
    """(the split evaluated, its files) from ``dataset_kwargs.data_files``."""
    kwargs = config.get("dataset_kwargs") or {}
    if not isinstance(kwargs, dict) or set(kwargs) - {"data_files"} or "data_files" not in kwargs:
        raise TaskError(f"{path} must give its data as dataset_kwargs: {{data_files: ...}} and "
                        "nothing else under dataset_kwargs.")
    files = kwargs["data_files"]
    by_split = files if isinstance(files, dict) else {"train": files}  # datasets' default split
    split = config.get("test_split") or config.get("validation_split")
    if split is None or split not in by_split:
        raise TaskError(f"{path} evaluates the split {split!r}, but its data_files name the "
                        f"splits {', '.join(map(str, by_split))}; set test_split to one of them.")
    chosen = by_split[split]
    names = [chosen] if isinstance(chosen, str) else chosen
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise TaskError(f"The data_files of split '{split}' in {path} must be file paths.")
    resolved = tuple(path.parent / n for n in names)
    for f in resolved:
        if not f.is_file():
            raise DataError(f"{path} names the data file {f}, which does not exist.")
    return str(split), resolved


def read_docs(task: LmEvalYaml) -> list[dict[str, Any]]:
    """The split's documents, in file order: each JSON Lines row (or each element of a JSON
    array), as ``datasets``' json builder gives them to lm-eval (every column in every row)."""
    docs: list[dict[str, Any]] = []
    for f in task.data_files:
        text = f.read_text(encoding="utf-8")
        try:
            stripped = text.lstrip()
            rows = json.loads(text) if stripped.startswith("[") else [
                json.loads(line) for line in text.splitlines() if line.strip()
            ]
        except json.JSONDecodeError as exc:
            raise DataError(f"{f} is not JSON Lines: {exc}.") from exc
        if not all(isinstance(r, dict) for r in rows):
            raise DataError(f"{f} must hold one JSON object per document.")
        docs.extend(rows)
    if not docs:
        raise DataError(f"The data files of {task.path} hold no documents.")
    columns = list(dict.fromkeys(k for d in docs for k in d))
    return [{c: d.get(c) for c in columns} for d in docs]


class DocFields:
    """``doc_to_text``, ``doc_to_choice`` and ``doc_to_target`` of one task, as lm-eval's
    ``ConfigurableTask`` applies them to a document."""

    def __init__(self, task: LmEvalYaml, features: list[str]) -> None:
        self.task, self.config, self.features = task, task.config, set(features)
        self._render = _renderer(task.path)

    def text(self, doc: dict[str, Any]) -> str:
        spec = self.config.get("doc_to_text")
        if spec is None:
            raise TaskError(f"{self.task.path} has no doc_to_text.")
        value = spec if isinstance(spec, int) else (
            doc[spec] if spec in self.features else self._render(spec, doc)
        )
        has_choices = self.config.get("doc_to_choice") is not None
        if not isinstance(value, str) or (value.isdigit() and has_choices):
            raise TaskError(_unsupported(self.task.path, "multiple-input documents (doc_to_text "
                                                        "gives a choice index, as in Winogrande)"))
        return self.description(doc) + value

    def description(self, doc: dict[str, Any]) -> str:
        spec = self.config.get("description") or ""
        return str(doc[spec]) if spec in doc else self._render(spec, doc) if spec else ""

    def choices(self, doc: dict[str, Any]) -> list[str]:
        spec = self.config.get("doc_to_choice")
        if isinstance(spec, dict):
            return [str(v) for v in spec.values()]
        if isinstance(spec, list):
            return [str(v) for v in spec]
        if spec is None:
            raise TaskError(f"{self.task.path} has no doc_to_choice.")
        value = doc[spec] if spec in self.features else _literal(self._render(spec, doc))
        if not isinstance(value, list | tuple):
            raise DataError(f"doc_to_choice of {self.task.path} gave {value!r}, not a list.")
        return [str(v) for v in value]

    def target(self, doc: dict[str, Any]) -> Any:
        spec = self.config.get("doc_to_target")
        if spec is None:
            raise TaskError(f"{self.task.path} has no doc_to_target.")
        if isinstance(spec, int):
            return spec
        if spec in self.features:
            return doc[spec]
        value = self._render(spec, doc)
        if value.isdigit() and self.config.get("doc_to_choice") is not None:
            return int(value)
        if len(value) >= 2 and value[0] == "[" and value[-1] == "]":
            try:
                return ast.literal_eval(value)
            except (SyntaxError, ValueError):
                return value
        return value


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (SyntaxError, ValueError) as exc:
        raise DataError(f"doc_to_choice rendered {text[:80]!r}, which is not a list.") from exc


def _renderer(path: Path) -> Callable[[str, dict[str, Any]], str]:
    """Render a template as lm-eval's ``utils.apply_template`` does (StrictUndefined, trailing
    newline kept, the ``regex_replace`` filter), in Jinja2's immutable sandbox: a template in a
    YAML someone sent can read the document and nothing else."""
    from jinja2 import StrictUndefined, TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["regex_replace"] = _regex_replace
    cache: dict[str, Any] = {}

    def render(template: str, doc: dict[str, Any]) -> str:
        try:
            if template not in cache:
                cache[template] = env.from_string(template)
            return str(cache[template].render(**doc))
        except TemplateError as exc:
            raise DataError(f"The template {template[:60]!r} of {path} failed on a document: "
                            f"{exc}.") from exc

    return render


def _regex_replace(string: str, pattern: str, repl: str, count: int = 0) -> str:
    return re.sub(pattern, repl, string, count=count)
