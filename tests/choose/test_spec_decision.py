"""Spec-diff facts in compare's results, the decision and the reports, on two real tiny Llamas
that differ in K/V heads and layers (random weights, built in code)."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from typing import Any

import pytest

import whichmodel
from helpers.results import outcome
from helpers.tiny_hf import build_tiny_llama
from helpers.tiny_lm import WORDS, sentences
from whichmodel.choose.spec_clauses import count

NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*")
OPTIONS = {"task": "language-modeling", "measure_cost": False, "n_resamples": 50}


@pytest.fixture(scope="module")
def llamas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """mha: 4 layers, 4 K/V heads; gqa: 2 layers, 1 K/V head for 4 query heads (MQA)."""
    root = tmp_path_factory.mktemp("llamas")
    shared = {"num_attention_heads": 4, "hidden_size": 32}
    build_tiny_llama(root / "mha", WORDS, seed=1, num_hidden_layers=4, num_key_value_heads=4,
                     **shared)  # fmt: skip
    build_tiny_llama(root / "gqa", WORDS, seed=2, num_hidden_layers=2, num_key_value_heads=1,
                     **shared)  # fmt: skip
    data = root / "text.jsonl"
    data.write_text("\n".join(json.dumps({"text": t}) for t in sentences(24, seed=3)))
    refs = [f"hf:{root / 'mha'}", f"hf:{root / 'gqa'}"]
    comparison = whichmodel.compare(refs, data, store=str(root / "s.db"), **OPTIONS)
    results = comparison.results().to_dict()
    results["decision"] = whichmodel.choose(results).to_dict()
    return {"root": root, "refs": refs, "data": data, "results": json.loads(json.dumps(results))}


def _specs(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m["spec"] for m in results["models"]}


def _spec_sentence(decision: dict[str, Any]) -> str:
    return next(s for s in decision["sentences"] if "from the spec sheets" in s)


def test_results_keep_each_models_spec_and_validate(llamas: dict[str, Any]) -> None:
    import jsonschema

    results = llamas["results"]
    schema = json.loads(resources.files("whichmodel.report").joinpath("results.schema.json")
                        .read_text())  # fmt: skip
    jsonschema.Draft202012Validator(schema).validate(results)
    specs = _specs(results)
    assert specs["mha"]["facts"]["design.kv_heads"] == {"value": 4, "source": "config"}
    assert specs["gqa"]["facts"]["design.kv_heads"] == {"value": 1, "source": "config"}
    assert specs["gqa"]["facts"]["design.attention"]["value"] == "MQA"
    assert specs["mha"]["facts"]["design.layers"]["value"] == 4
    # The parameter count is the loaded model's own, not a guess.
    from transformers import AutoModelForCausalLM

    real = AutoModelForCausalLM.from_pretrained(llamas["root"] / "gqa", local_files_only=True)
    assert specs["gqa"]["facts"]["size.total"]["value"] == sum(p.numel() for p in real.parameters())
    broken = copy.deepcopy(results)
    broken["models"][0]["spec"]["facts"]["size.total"]["source"] = "a hunch"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)


def test_the_decision_cites_the_spec_differences_with_stored_numbers(
    llamas: dict[str, Any],
) -> None:
    results = llamas["results"]
    d = results["decision"]
    a, b = d["pick"], next(n for n in ("mha", "gqa") if n != d["pick"])
    sentence = _spec_sentence(d)
    specs = _specs(results)
    fa, fb = specs[a]["facts"], specs[b]["facts"]
    pa, pb = fa["size.total"]["value"], fb["size.total"]["value"]
    ratio = max(pa / pb, pb / pa)
    la, lb = fa["design.layers"]["value"], fb["design.layers"]["value"]
    assert f"has {la} layers vs {lb}" in sentence
    assert f"{ratio:.1f}× {'fewer' if pa < pb else 'more'} parameters" in sentence
    assert f"({count(pa)} vs {count(pb)})" in sentence
    attention = {"mha": "multi-head attention with 4", "gqa": "multi-query attention with 1"}
    assert f"uses {attention[a]} K/V head" in sentence and f"{b} uses {attention[b]}" in sentence
    # Every number in the sentences is a stored figure, and the spec figures are the facts.
    text = " ".join(d["sentences"])
    for token in ("mha", "gqa", "perplexity"):
        text = text.replace(token, " ")
    seen = {float(n.replace(",", "")) for n in NUMBER.findall(text)}
    figures = {float(n.replace(",", "")) for v in d["figures"].values() for n in NUMBER.findall(v)}
    assert seen and seen <= figures
    assert d["figures"][f"kv_heads[{a}]"] == str(fa["design.kv_heads"]["value"])
    assert d["figures"][f"{a} vs {b} parameter ratio"] == f"{ratio:.1f}"


def test_only_differences_both_sheets_know_are_cited(llamas: dict[str, Any]) -> None:
    results = copy.deepcopy(llamas["results"])
    del results["decision"]
    for spec in _specs(results).values():  # unknown for one model: not compared
        spec["facts"]["design.layers"] = {"value": None, "source": "unknown", "note": "hidden"}
        break
    sentence = _spec_sentence(whichmodel.choose(results).to_dict())
    assert "layers" not in sentence and "K/V head" in sentence
    same = copy.deepcopy(llamas["results"])  # identical sheets: nothing to cite
    same["models"][1]["spec"] = same["models"][0]["spec"]
    assert not any("spec sheets" in s for s in whichmodel.choose(same).sentences)
    older = copy.deepcopy(llamas["results"])  # results written before specs were kept
    for m in older["models"]:
        del m["spec"], m["spec_error"]
    assert not any("spec sheets" in s for s in whichmodel.choose(older).sentences)


def test_an_unchanged_rerun_reads_the_specs_from_the_store(
    llamas: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def recompute(*args: object, **kwargs: object) -> None:
        raise AssertionError("the spec sheet was computed again")

    monkeypatch.setattr("whichmodel.sources.inspect_model", recompute)
    again = whichmodel.compare(
        llamas["refs"], llamas["data"], store=str(llamas["root"] / "s.db"), **OPTIONS
    )
    assert [m.spec_error for m in again.models] == [None, None]
    assert {m.name: m.spec and m.spec.to_dict() for m in again.models} == _specs(llamas["results"])


def test_markdown_and_html_show_the_spec_diff(llamas: dict[str, Any]) -> None:
    from whichmodel.report.html import render_html
    from whichmodel.report.markdown import render_markdown

    results = llamas["results"]
    names = [m["name"] for m in results["models"]]
    md = render_markdown(outcome(results))
    assert "**Spec diff**" in md
    assert "| K/V heads | 4 | 1 |" in md and "| layers | 4 | 2 |" in md
    kv_row = next(line for line in md.splitlines() if line.startswith("| KV cache per token"))
    assert "KV cache 8.0× larger than gqa" in kv_row  # mha against the pick, gqa
    page = render_html(outcome(results))
    section = page[page.index('<section id="spec-diff">') :]
    section = section[: section.index("</section>")]
    assert [f"<th>{n}</th>" in section for n in names] == [True, True]
    # Differences first: the first row of the table is a fact that differs, with its cost.
    body = section.index("<tbody>")
    first_row = section[body : section.index("</tr>", body)]
    assert "larger than gqa" in first_row
    assert "Facts the models share" in section and "RoPE" in section
    assert "Unknown for every model:" in section and "trees" in section
