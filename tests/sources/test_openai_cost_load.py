"""Cost per query and latency under load of an ``openai:`` model, against a real server on
loopback (``transformers serve`` and a tiny Llama, :mod:`helpers.openai_server`): the tokens each
example is costed by are the server's tokenizer counts; the price table and ``?price_in/?price_out``
give the cost per 1k examples; a local ``hf:`` model and the served one share one cost column;
``bench openai:...`` reports TTFT and inter-token latency for every request it sent, counted at
a proxy, and the requests that failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import whichmodel
from helpers.flaky_proxy import flaky_proxy
from helpers.openai_server import Served
from helpers.tiny_lm import sentences
from whichmodel.bench.load import LoadConfig, sweep
from whichmodel.bench.tokens import price_table, priced
from whichmodel.choose.checks import NO_HOURLY_PRICE
from whichmodel.report.schema import results_error

USES_TORCH = True
PROMPTS = sentences(6, seed=11, min_words=2, max_words=6)
TASK = "generation?max_new_tokens=5"
OPTIONS = {"measure_cost": False, "n_resamples": 50, "batch_size": 4}


def _data(path: Path) -> Path:
    rows = [{"prompt": p, "label": "the cat sat"} for p in PROMPTS]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def _prompt_tokens(served: Served) -> list[int]:
    """Each prompt's tokens as the server's own tokenizer counts them (BOS included)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(served.folder)
    return [len(tokenizer(p).input_ids) for p in PROMPTS]


def test_tokens_are_the_servers_counts_and_prices_give_the_cost_per_1k(openai_server, tmp_path):
    served = openai_server
    data, store = _data(tmp_path / "gen.jsonl"), str(tmp_path / "s.db")
    priced_ref = served.ref(name="priced", price_in="0.15", price_out="0.6")
    run = whichmodel.compare([priced_ref, served.ref(name="unpriced")], data, task=TASK,
                             store=store, **OPTIONS)  # fmt: skip
    with_price, without = (m.token_cost for m in run.models)
    assert with_price is not None and without is not None
    expected_in = _prompt_tokens(served)
    assert [with_price.per_example[r][1] for r in range(len(PROMPTS))] == expected_in
    # greedy, the tiny Llama emits no end-of-text within 5 tokens on these prompts
    assert [with_price.per_example[r][2] for r in range(len(PROMPTS))] == [5] * len(PROMPTS)
    assert with_price.requests == with_price.examples == len(PROMPTS) and with_price.unread == 0
    n = len(PROMPTS)
    cost = 1000 * (sum(expected_in) / n * 0.15 + 5 * 0.6) / 1e6  # USD per 1k examples
    assert with_price.cost_per_1k == pytest.approx(cost, rel=1e-12)
    assert with_price.price is not None and with_price.price.as_of is None  # the override
    # no price: unknown, with what to do; a loopback server may be costed by the hour instead
    assert without.cost_per_1k is None and without.loopback
    assert "no price per token" in str(without.unknown) and "--price-per-hour" in str(
        without.unknown)

    # The price table: the same tokens at a listed model's published prices, dated.
    row = price_table()["models"]["gpt-4o-mini"]
    table = priced(with_price.per_example, unread=0, model="openai/gpt-4o-mini", loopback=False)
    assert table.price is not None and table.price.as_of == price_table()["as_of"]
    assert table.cost_per_1k == pytest.approx(
        1000 * (sum(expected_in) / n * row["input"] + 5 * row["output"]) / 1e6, rel=1e-12)
    hosted = priced(with_price.per_example, unread=0, model="gpt-nothing", loopback=False)
    assert hosted.cost_per_1k is None and "not in whichmodel's price table" in str(hosted.unknown)

    # results.json: the totals and the price's provenance, valid against the shipped schema
    saved = json.loads(json.dumps(run.results().to_dict()))
    assert results_error(saved) is None
    tokens = saved["models"][0]["tokens"]
    assert tokens["prompt_tokens"] == sum(expected_in) and tokens["completion_tokens"] == 5 * n
    assert tokens["price"]["source"].startswith("?price_in") and "per_example" not in tokens


def test_a_local_and_a_served_model_share_one_cost_column(openai_server, tmp_path):
    served = openai_server
    data = _data(tmp_path / "gen.jsonl")
    refs = [served.ref(name="served", price_in="2", price_out="8"), f"hf:{served.folder}"]
    run = whichmodel.compare(refs, data, task=TASK, store=str(tmp_path / "s.db"),
                             max_cost_per_1k=1.0, **OPTIONS)  # no --price-per-hour needed
    decision = run.decision
    assert decision is not None
    assert [c.key for c in decision.tradeoffs.columns].count("cost") == 1
    cells = {m: row["cost"] for m, row in decision.tradeoffs.rows.items()}
    token_cost = run.models[0].token_cost
    assert token_cost is not None
    assert cells["served"].value == token_cost.cost_per_1k and cells["served"].source == "computed"
    assert "per 1M tokens" in cells["served"].note
    assert cells["lm"].value is None and cells["lm"].note == NO_HOURLY_PRICE
    checks = {c.model: c for c in decision.checks if c.kind == "cost"}
    assert checks["served"].status == "meets" and checks["lm"].status == "unknown"
    assert decision.pick == "served"


def test_the_load_sweep_times_every_request_it_sent(openai_server):
    config = LoadConfig(concurrency=(1, 3), requests=6, max_tokens=6,
                        prompts=("the cat sat on", "the poison dog"))  # fmt: skip
    with flaky_proxy(openai_server.url, poison="poison") as (url, proxy):
        profile = sweep(openai_server.ref(url, retries="1"), config)
    ok_at_proxy = sum(n for (method, _, _), n in proxy.forwarded.items() if method == "POST")
    levels = profile.levels
    assert [level.sent for level in levels] == [6, 6] and all(
        level.stopped == "requests" for level in levels)
    # every other request names the poison: the proxy fails it on each attempt
    assert [level.failed for level in levels] == [3, 3]
    assert all(level.error_rate == 0.5 for level in levels)
    assert "answered 500" in levels[0].errors[0]
    assert ok_at_proxy == sum(level.sent - level.failed for level in levels) == 6
    for level in levels:
        assert level.ttft_s is not None and len(level.ttft_s.samples) == level.sent - level.failed
        assert level.itl_s is not None and len(level.itl_s.samples) == level.sent - level.failed
        assert level.tokens_per_s is not None and level.output_tokens == 6 * 3
        assert 0 < level.ttft_s.p50 <= level.ttft_s.p90 <= level.ttft_s.p99
        assert level.requests_per_s > 0 and level.output_tokens_per_s > 0

    bounded = sweep(openai_server.ref(), LoadConfig(concurrency=(2,), requests=50,
                                                    deadline_s=0.05, prompts=("a dog",)))
    (level,) = bounded.levels
    assert level.stopped == "deadline" and 1 <= level.sent < 50


def test_bench_on_the_command_line_prints_both_tables(openai_server, cli):
    ran = cli("bench", openai_server.ref(), "--concurrency", "1,2", "--requests", "4",
              "--new-tokens", "4")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "per request, p50 / p90 / p99" in ran.stdout and "TTFT ms" in ran.stdout
    assert "error rate" in ran.stdout and "output tokens/s" in ran.stdout
    as_json = cli("bench", openai_server.ref(), "--concurrency", "2", "--requests", "3", "--json")
    (profile,) = json.loads(as_json.stdout)
    (level,) = profile["levels"]
    assert level["sent"] == 3 and level["ttft_s"]["n"] == 3 and level["failed"] == 0
