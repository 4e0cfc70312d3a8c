"""``--task lm-eval:TASK.yaml``: the examples whichmodel builds from an lm-eval task YAML are the
requests lm-evaluation-harness itself logged for every document (context, choices, target), and
the results equal the plain task's on the equivalent JSONL. Unsafe or unsupported YAMLs are
refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import whichmodel
from helpers.bad_input import refuse
from helpers.lm_eval_ref import LmEvalRun, run_lm_eval, task_yaml
from helpers.tiny_lm import WORDS, TinyLM, build, sentences
from whichmodel.errors import DataError, TaskError
from whichmodel.tasks import get_task

USES_TORCH = True
OPTIONS = {"measure_cost": False, "n_resamples": 100, "batch_size": 8}
N_DOCS = 24


def _docs() -> list[dict[str, object]]:
    rng = np.random.default_rng(3)
    docs = []
    for i, question in enumerate(sentences(N_DOCS, seed=11)):
        opts = sentences(int(rng.integers(2, 5)), seed=200 + i, min_words=1, max_words=3)
        answer = int(rng.integers(0, len(opts)))
        docs.append({
            "q": question, "opts": opts, "answer": answer, "answer_text": opts[answer],
            "yn": int(rng.integers(0, 2)), "word": str(rng.choice(WORDS)),
        })
    return docs


YAMLS = {
    # a template context with a description, choices from a field, an integer target field
    "mc_index": ("multiple_choice", ["acc", "acc_norm"], {
        "description": "Answer. ", "doc_to_text": "Q: {{q}}\nA:", "doc_to_choice": "opts",
        "doc_to_target": "answer",
    }),
    # choices rendered by a template into a list literal, the target the right choice's text,
    # another delimiter
    "mc_text": ("multiple_choice", ["acc"], {
        "doc_to_text": "{{q | upper | lower}} ->", "doc_to_choice": "{{opts}}",
        "doc_to_target": "{{answer_text}}", "target_delimiter": "\n",
    }),
    # a literal list of choices, a target template that renders a digit
    "mc_literal": ("multiple_choice", ["acc"], {
        "doc_to_text": "q", "doc_to_choice": ["cat", "dog"], "doc_to_target": "{{yn}}",
    }),
    "rolling": ("loglikelihood_rolling", ["word_perplexity"], {
        "doc_to_text": "", "doc_to_target": "{{q}} and {{word}}",
    }),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[LmEvalRun, Path, TinyLM]:
    """lm-eval run once over the four YAMLs; (its run, the tasks folder, the model)."""
    root = tmp_path_factory.mktemp("lmyaml")
    data = root / "docs.jsonl"
    data.write_text("\n".join(json.dumps(d) for d in _docs()) + "\n", encoding="utf-8")
    lm = build(root / "lm-a", seed=0)
    tasks = {
        name: _yaml(name, data, output_type, metrics, fields)
        for name, (output_type, metrics, fields) in YAMLS.items()
    }
    run = run_lm_eval(lm.folder, tasks, root / "lm-eval")
    return run, root / "lm-eval" / "tasks", lm


def _yaml(name: str, data: Path, output_type: str, metrics: list[str], fields: dict) -> str:
    text = task_yaml(name, data, output_type, metrics)
    return text + "".join(f"{k}: {json.dumps(v)}\n" for k, v in fields.items())


def test_multiple_choice_examples_are_lm_evals_requests(reference) -> None:
    run, tasks, _ = reference
    for name in ("mc_index", "mc_text", "mc_literal"):
        dataset, labels = get_task(f"lm-eval:{tasks / f'{name}.yaml'}").read(
            str(tasks / f"{name}.yaml")
        )
        rows = run.sample_rows(name)
        assert len(rows) == len(dataset) == N_DOCS
        delimiter = YAMLS[name][2].get("target_delimiter", " ")
        for row, (context, choices), label in zip(rows, dataset.inputs.data, labels, strict=True):
            logged = [row["arguments"][f"gen_args_{i}"] for i in range(len(row["arguments"]))]
            assert [a["arg_0"] for a in logged] == [context] * len(choices)
            assert [a["arg_1"] for a in logged] == [delimiter + c for c in choices]
            target = row["target"]  # logged as str(doc_to_target): an index or a choice's text
            assert label == (int(target) if target.isdigit() else list(choices).index(target))


def test_rolling_texts_are_lm_evals(reference) -> None:
    run, tasks, _ = reference
    dataset, _ = get_task(f"lm-eval:{tasks / 'rolling.yaml'}").read(str(tasks / "rolling.yaml"))
    logged = [row["arguments"]["gen_args_0"]["arg_0"] for row in run.sample_rows("rolling")]
    assert list(dataset.inputs.data) == logged
    assert get_task(f"lm-eval:{tasks / 'rolling.yaml'}").requires == "loglikelihood"


def test_results_equal_the_plain_task_on_the_same_examples(reference, tmp_path) -> None:
    run, tasks, lm = reference
    other = build(tmp_path / "lm-b", seed=2)
    yaml = tasks / "mc_index.yaml"
    dataset, labels = get_task(f"lm-eval:{yaml}").read(str(yaml))
    plain = tmp_path / "plain.jsonl"
    plain.write_text("\n".join(
        json.dumps({"context": c, "choices": list(ch), "label": int(y)})
        for (c, ch), y in zip(dataset.inputs.data, labels, strict=True)
    ), encoding="utf-8")
    models = {"a": lm.ref, "b": other.ref}
    store = str(tmp_path / "s.db")
    from_yaml = whichmodel.compare(models, task=f"lm-eval:{yaml}", store=store, **OPTIONS)
    direct = whichmodel.compare(models, plain, task="multiple-choice", store=store, **OPTIONS)
    assert from_yaml.task == f"lm-eval:{yaml}"
    assert from_yaml.statistics.metrics == direct.statistics.metrics
    assert from_yaml.statistics.tests == direct.statistics.tests
    assert {m.name for m in from_yaml.statistics.metrics} == {
        "accuracy", "accuracy_norm", "accuracy_bytes"
    }
    # lm-eval's conventions are the default, so model a's figures are lm-eval's own on this YAML
    scored = {m.name: m.value for m in from_yaml.statistics.metrics if m.model == "a"}
    assert scored["accuracy"] == pytest.approx(run.results["mc_index"]["acc"], abs=1e-9)
    assert scored["accuracy_norm"] == pytest.approx(run.results["mc_index"]["acc_norm"], abs=1e-9)


def _write(folder: Path, text: str, name: str = "task.yaml") -> Path:
    (folder / "d.jsonl").write_text('{"q": "the cat", "a": 0}\n', encoding="utf-8")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (
    "dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: d.jsonl\ntest_split: test\n"
    "output_type: multiple_choice\ndoc_to_text: q\ndoc_to_choice: ['x', 'y']\n"
    "doc_to_target: a\n"
)


def test_relative_data_files_and_include_are_read_from_the_yaml_folder(tmp_path) -> None:
    _write(tmp_path, GOOD, "base.yaml")
    path = _write(tmp_path, "include: base.yaml\ntarget_delimiter: ':'\n")
    task = get_task(f"lm-eval:{path}")
    dataset, labels = task.read(str(path))
    assert dataset.path == str(tmp_path / "d.jsonl") and list(labels) == [0]
    assert task.delimiter == ":"  # type: ignore[attr-defined]
    with pytest.raises(DataError, match="leave out the data"):
        task.read(str(tmp_path / "d.jsonl"))


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("process_docs: !function utils.process\n", "the tag !function"),
        ("doc_to_text: !function utils.text\n", "the tag !function"),
        ("x: !!python/object/apply:os.system ['true']\n", "tag:yaml.org,2002:python"),
        ("process_docs: 1\n", "'process_docs' (Python code"),
        ("num_fewshot: 5\n", "few-shot prompts"),
        ("filter_list: []\n", "answer filters"),
        ("dataset_path: allenai/ai2_arc\n", "dataset_path 'allenai/ai2_arc'"),
        ("output_type: loglikelihood\n", "output_type 'loglikelihood'"),
        ("surprise: 1\n", "the key 'surprise'"),
        ("a: &x [1]\nb: *x\n", "YAML aliases"),
    ],
)
def test_unsupported_yamls_are_refused(tmp_path, extra, says) -> None:
    path = _write(tmp_path, GOOD + extra)
    with pytest.raises(TaskError, match=None) as info:
        get_task(f"lm-eval:{path}")
    assert says in str(info.value) and "\n" not in str(info.value)


def test_template_errors_name_the_template(tmp_path) -> None:
    path = _write(tmp_path, GOOD.replace("doc_to_text: q", "doc_to_text: '{{missing}}'"))
    with pytest.raises(DataError, match=r"'\{\{missing\}\}'.*undefined"):
        get_task(f"lm-eval:{path}").read(str(path))


def test_templates_run_in_a_sandbox(tmp_path) -> None:
    path = _write(tmp_path, GOOD.replace(
        "doc_to_text: q", "doc_to_text: '{{ q.__class__.__mro__[1].__subclasses__() }}'"
    ))
    with pytest.raises(DataError, match="unsafe"):
        get_task(f"lm-eval:{path}").read(str(path))


def test_cli_refuses_a_function_tag_in_one_line(tmp_path) -> None:
    path = _write(tmp_path, GOOD + "process_docs: !function utils.process\n")
    refuse(tmp_path, "compare", "hf:./nowhere", "--task", f"lm-eval:{path}",
           says="uses the tag !function")
