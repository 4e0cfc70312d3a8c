"""The ``openai:`` source against a real OpenAI-compatible server on loopback
(``transformers serve`` and a tiny Llama, :mod:`helpers.openai_server`): greedy generation
through ``compare`` equals the same folder read as ``hf:``; a server that ignores ``echo`` is
refused for multiple choice in one line; a proxy that fails half of the requests costs no
example and makes no successful request go twice; the API key is written nowhere, and printed
by neither compare nor bench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import whichmodel
from helpers.flaky_proxy import flaky_proxy
from helpers.openai_server import Served, free_port
from helpers.tiny_lm import sentences
from whichmodel.errors import ModelLoadError
from whichmodel.sources import load
from whichmodel.sources.base import LoadOptions
from whichmodel.sources.capabilities import GenerationSettings

USES_TORCH = True
OPTIONS = {"measure_cost": False, "n_resamples": 50}
PROMPTS = sentences(7, seed=7, min_words=2, max_words=5)
TASK = "generation?max_new_tokens=5"
FAKE_KEY = "sk-whichmodel-test-7f3a9c1e5b"


def _data(path: Path, prompts: list[str]) -> Path:
    rows = [{"prompt": p, "label": "the cat sat"} for p in prompts]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def _greedy(served: Served, prompts: list[str]) -> list[str]:
    model = load(f"hf:{served.folder}")
    return model.generate_until(prompts, GenerationSettings(max_new_tokens=5))  # type: ignore[attr-defined, no-any-return]


def test_greedy_generation_through_compare_equals_the_hf_folder(openai_server, tmp_path):
    served = openai_server
    data = _data(tmp_path / "gen.jsonl", PROMPTS)
    result = whichmodel.compare(
        [served.ref(name="served"), f"hf:{served.folder}"], data, task=TASK,
        store=str(tmp_path / "s.db"), batch_size=4, **OPTIONS,
    )  # fmt: skip
    endpoint, local = result.models
    assert endpoint.predictions.pred.tolist() == local.predictions.pred.tolist()
    assert sum(len(t.split()) for t in endpoint.predictions.pred) > 10  # real text
    assert endpoint.predictions.failed_rows == ()
    facts = endpoint.spec.facts  # what the server said, recorded with the results
    # the id the server reports for it (transformers 5.18 adds the revision: PATH@main)
    assert facts["identity.architecture"].value.startswith(served.model)
    if served.listed:
        assert '"id": "' + served.model in facts["identity.architecture"].note
    assert "capabilities probed: generate" in facts["identity.framework"].note
    assert "ignores 'echo'" in facts["identity.framework"].note

    chat = load(served.ref(api="chat"))  # the chat API generates too (its template, no BOS)
    texts = chat.generate_until(PROMPTS[:3], GenerationSettings(max_new_tokens=4))  # type: ignore[attr-defined]
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts) and any(texts)


def test_a_server_that_ignores_echo_is_refused_for_multiple_choice_in_one_line(
    openai_server, tmp_path, cli
):
    rows = [{"context": "the cat", "choices": ["sat", "ran"], "label": 0}] * 2
    data = tmp_path / "mc.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    model = load(openai_server.ref())
    assert model.capabilities == {"predict", "generate"}  # no loglikelihood, no embed
    proc = cli("compare", openai_server.ref(), "--data", str(data), "--task", "multiple-choice",
               "--no-cost", "--store", str(tmp_path / "s.db"))  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if not x.startswith("[whichmodel]")]
    assert "The 'multiple-choice' task needs a model that can score text" in line
    assert "ignores 'echo'" in line and "vLLM" in line and "llama-cpp-python" in line


def test_an_unknown_model_or_an_unreachable_server_is_one_line(openai_server):
    with pytest.raises(ModelLoadError) as unknown:
        load(f"openai:{openai_server.url}?model=gpt-nothing")
    message = str(unknown.value)
    assert "\n" not in message and "gpt-nothing" in message
    if openai_server.listed:  # whichmodel's check of the list, else the server's refusal
        assert "serves no model 'gpt-nothing'" in message
        assert f"it serves: {openai_server.model}" in message
    else:
        assert "The completions API of gpt-nothing fails" in message
    with pytest.raises(ModelLoadError) as unreachable:
        load(f"openai:http://127.0.0.1:{free_port()}/v1?model=m&retries=0")
    assert "\n" not in str(unreachable.value) and "Cannot reach" in str(unreachable.value)
    assert unreachable.value.exit_code == 2


@pytest.mark.slow
def test_a_flaky_server_loses_no_example_and_gets_no_finished_request_twice(
    openai_server, tmp_path
):
    served = openai_server
    prompts = [*PROMPTS[:3], "the poison dog", *PROMPTS[3:]]  # the proxy fails 'poison' always
    data = _data(tmp_path / "gen.jsonl", prompts)
    store = tmp_path / "s.db"
    with flaky_proxy(served.url, poison="poison") as (url, proxy):
        ref = served.ref(url, retries="2", concurrency="3", name="flaky")
        run = whichmodel.compare([ref], data, task=TASK, store=str(store), batch_size=4, **OPTIONS)
        (model,) = run.models
        assert [row for row, _ in model.predictions.failed_rows] == [3]  # recorded, run went on
        assert "answered 500" in model.predictions.failed_rows[0][1]
        assert model.predictions.pred.tolist() == _greedy(served, PROMPTS)
        assert proxy.failed >= len(prompts)  # half of the requests failed: one per request

        def sent() -> dict[bytes, int]:  # answers the server gave per example request
            return {k[2]: n for k, n in proxy.forwarded.items()
                    if any(p.encode() in k[2] for p in PROMPTS)}  # fmt: skip

        assert len(sent()) == len(PROMPTS) and set(sent().values()) == {1}
        # Another batch size: new predictions, the same requests; all answered from the store.
        whichmodel.compare([ref], data, task=TASK, store=str(store), batch_size=3, **OPTIONS)
        assert set(sent().values()) == {1}

        # Sampled answers are cached only when the reference sets a seed.
        sampled = GenerationSettings(max_new_tokens=3, do_sample=True, temperature=1.0)
        options = LoadOptions(store=str(store))
        for seed, expected in ((None, 2), ("5", 1)):
            extra = {} if seed is None else {"seed": seed}
            lm = load(served.ref(url, **extra), options)
            for _ in range(2):
                lm.generate_until(["a bird flew"], sampled)  # type: ignore[attr-defined]
            counts = [n for k, n in proxy.forwarded.items() if b"a bird flew" in k[2]
                      and (seed is None) == (b'"seed"' not in k[2])]  # fmt: skip
            assert counts == [expected]


@pytest.mark.slow
def test_the_api_key_is_written_nowhere(openai_server, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("WHICHMODEL_TEST_KEY", FAKE_KEY)
    data = _data(tmp_path / "gen.jsonl", PROMPTS[:4])
    store, out = tmp_path / "store" / "s.db", tmp_path / "out"
    with flaky_proxy(openai_server.url, poison="poison") as (url, proxy):  # it retries: errors too
        ref = openai_server.ref(url, key_env="WHICHMODEL_TEST_KEY", retries="2")
        ok = cli("compare", ref, "--data", str(data), "--task", TASK, "--no-cost",
                 "--store", str(store), "--out", str(out))  # fmt: skip
        assert ok.returncode == 0, ok.stderr
        load = cli("bench", ref, "--concurrency", "1,2", "--requests", "3", "--new-tokens", "3")
        assert load.returncode == 0 and "TTFT ms" in load.stdout, load.stderr
        assert f"Bearer {FAKE_KEY}" in proxy.authorizations  # it was sent, so it could leak
    bad = cli("compare", openai_server.ref(model="nothing-here", key_env="WHICHMODEL_TEST_KEY"),
              "--data", str(data), "--task", TASK, "--no-cost", "--store", str(store))
    refused = "serves no model" if openai_server.listed else "API of nothing-here fails"
    assert bad.returncode == 2 and refused in bad.stderr
    files = [p for p in (*store.parent.rglob("*"), *out.rglob("*")) if p.is_file()]
    assert {"results.json", "report.html", "s.db"} <= {p.name for p in files}
    for text in (ok.stdout, ok.stderr, bad.stdout, bad.stderr, load.stdout, load.stderr,
                 *(p.read_bytes().decode("latin-1") for p in files)):  # fmt: skip
        assert FAKE_KEY not in text
