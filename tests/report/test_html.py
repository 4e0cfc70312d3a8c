"""The HTML report: self-contained, well-formed, escaped, and robust to missing pieces."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

import pytest

from helpers.results import outcome
from whichmodel.report.html import render_html

SECTIONS = [  # the decision (absent here: no constraints), the plots, then the evidence
    "summary",
    "charts",
    "latency",
    "results",
    "differences",
    "cost",
    "details",
    "provenance",
]
LATENCY_PLOT = 1  # the sample's models have latency at two batch sizes: one more SVG
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def _cost(p50_s: float, params: int) -> dict[str, Any]:
    lat = {
        b: {"p50_s": p50_s, "p90_s": p50_s * 1.1, "p99_s": p50_s * 1.5, "mean_s": p50_s, "n": 100}
        for b in ("1", "64")
    }
    return {
        "framework": "sklearn",
        "architecture": "LogisticRegression",
        "parameters": params,
        "size_on_disk_bytes": 30260,
        "load_time_s": 1.77,
        "first_call_s": 0.0107,
        "latency": lat,
        "peak_rss_bytes": 409731072,
        "model_memory_bytes": 225935360,
        "threads": 1,
        "error": None,
        "throughput": {"1": 1 / p50_s, "64": 64 / p50_s},
    }


def _model(name: str, cost: dict[str, Any] | None) -> dict[str, Any]:
    per_class = [
        {"class": str(c), "precision": 0.95, "recall": 0.9, "f1": 0.92, "support": 54}
        for c in range(3)
    ]
    return {
        "name": name,
        "ref": f"sklearn:{name}.skops",
        "fingerprint": "821c63d9",
        "n_predicted": 540,
        "n_failed": 0,
        "failures": [],
        "reused_batches": 0,
        "computed_batches": 9,
        "cost": cost,
        "cost_error": None,
        "tables": {"per_class": per_class},
    }


def _metric(model: str, name: str, value: float, higher: bool = True) -> dict[str, Any]:
    return {
        "model": model,
        "name": name,
        "value": value,
        "ci_low": value - 0.02,
        "ci_high": value + 0.015,
        "higher_is_better": higher,
    }


def sample() -> dict[str, Any]:
    """The shape of a real two-model ``results.json`` (see ``report/json.py``), made smaller."""
    metrics = [
        _metric(m, n, v + d, n != "log_loss")
        for m, d in (("lr", 0.0), ("gb", 0.005))
        for n, v in (("accuracy", 0.961), ("macro_f1", 0.961), ("log_loss", 0.127))
    ]
    return {
        "schema": 1,
        "run_id": "7d98760c",
        "task": "classification",
        "config": {
            "refs": ["sklearn:lr.skops", "sklearn:gb.skops"],
            "data": "test.csv",
            "task": "classification",
            "input_cols": None,
            "label_col": "label",
            "batch_size": 64,
            "seed": 0,
            "n_resamples": 1000,
            "confidence": 0.95,
            "measure_cost": True,
        },
        "data": {
            "path": "test.csv",
            "fingerprint": "88e93680",
            "n_examples": 540,
            "n_scored": 540,
            "input_kind": "tabular",
        },
        "models": [_model("lr", _cost(0.0009, 650)), _model("gb", _cost(0.0028, 17984))],
        "metrics": metrics,
        "differences": [
            {
                "name": n,
                "model_a": "lr",
                "model_b": "gb",
                "diff": -0.005,
                "ci_low": -0.024,
                "ci_high": 0.013,
                "higher_is_better": n != "log_loss",
                "excludes_zero": False,
            }
            for n in ("accuracy", "macro_f1", "log_loss")
        ],
        "tests": [
            {
                "model_a": "lr",
                "model_b": "gb",
                "test": "mcnemar_exact",
                "statistic": 11.0,
                "p_value": 0.69,
                "a_only": 11,
                "b_only": 14,
                "n": 540,
            }
        ],
        "bootstrap": {
            "n_resamples": 1000,
            "confidence": 0.95,
            "seed": 0,
            "method": "percentile, paired resamples",
        },
        "provenance": {
            "versions": {"python": "3.11.7", "scikit-learn": "1.9.1"},
            "hardware": {
                "cpu": "AMD EPYC",
                "cpus": 2,
                "machine": "x86_64",
                "os": "Linux",
                "memory_bytes": 25276514304,
            },
            "threads": 1,
            "command": "whichmodel compare a b --data test.csv",
        },
    }


class _Page(HTMLParser):
    """Collects start tags with their attributes and checks that tags nest and close."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    return parser


def test_sample_has_sections_in_order_and_one_chart_per_metric() -> None:
    page = render_html(outcome(sample()))
    parsed = parse(page)
    ids = [a["id"] for t, a in parsed.tags if t == "section"]
    assert ids == SECTIONS
    assert [t for t, _ in parsed.tags].count("svg") == 3 + LATENCY_PLOT
    assert page.count("<details") == 2
    assert "<title>whichmodel: classification on test.csv</title>" in page
    assert "0.9660 [0.9460, 0.9810] ★" in page  # the winner's accuracy, as the terminal prints it
    assert "mcnemar_exact p = 0.69" in page  # a significance sentence from summarize()


def test_page_is_self_contained() -> None:
    page = render_html(outcome(sample()))
    for tag, attrs in parse(page).tags:
        assert tag not in {"script", "link", "iframe", "img", "object"}
        for key in ("src", "href", "xlink:href", "action"):
            assert not (attrs.get(key) or "").lower().startswith(("http:", "https:", "//"))
    assert "url(" not in page and "@import" not in page


def _hostile() -> dict[str, Any]:
    results = sample()
    old = results["models"][0]["name"]
    results["models"][0]["name"] = SCRIPT
    for block in results["metrics"] + results["differences"] + results["tests"]:
        for key in ("model", "model_a", "model_b"):
            if block.get(key) == old:
                block[key] = SCRIPT
    results["models"][1]["tables"]["per_class"][0]["class"] = IMG
    results["models"][1]["tables"]["per_class"][1]["class"] = '" onerror="x'
    results["models"][1]["cost"] = None
    results["models"][1]["cost_error"] = IMG
    results["models"][1]["n_failed"] = 1
    results["models"][1]["failures"] = [{"row": 3, "error": SCRIPT}]
    results["data"]["path"] = IMG
    results["provenance"]["command"] = f"whichmodel compare '{SCRIPT}'"
    return results


def test_hostile_strings_are_inert_text() -> None:
    page = render_html(outcome(_hostile()))
    parsed = parse(page)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    for tag, attrs in parsed.tags:
        assert tag not in {"script", "img"}
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    charts = page[page.index('<section id="charts">') : page.index('<section id="differences">')]
    assert "&lt;script&gt;" in charts  # the SVG labels are escaped too


def test_model_without_cost_shows_the_error() -> None:
    results = sample()
    results["models"][1]["cost"] = None
    results["models"][1]["cost_error"] = "timed out after 60 s"
    page = render_html(outcome(results))
    parse(page)
    assert "No cost figures: timed out after 60 s" in page
    assert "gb: no cost figures (timed out after 60 s)." in page  # the note from summarize()


def test_single_model() -> None:
    results = sample()
    results["models"] = results["models"][:1]
    results["metrics"] = [m for m in results["metrics"] if m["model"] == "lr"]
    results["differences"], results["tests"] = [], []
    page = render_html(outcome(results))
    parsed = parse(page)
    assert [t for t, _ in parsed.tags].count("svg") == 3 + LATENCY_PLOT
    assert "★" not in page
    assert "a single model, so nothing is compared" in page


@pytest.mark.parametrize("change", ["missing_metric", "nan", "no_tables", "no_metrics"])
def test_missing_pieces_render(change: str) -> None:
    results = copy.deepcopy(sample())
    if change == "missing_metric":
        results["metrics"] = [
            m for m in results["metrics"] if not (m["model"] == "gb" and m["name"] == "log_loss")
        ]
    elif change == "nan":
        results["metrics"][2].update(value=float("nan"), ci_low=float("nan"))
    elif change == "no_tables":
        for model in results["models"]:
            model["tables"] = {}
    else:
        results["metrics"], results["differences"], results["tests"] = [], [], []
    page = render_html(outcome(results))
    parsed = parse(page)
    assert "None" not in page.replace("input_cols", "")
    charts = 0 if change == "no_metrics" else 3
    assert [t for t, _ in parsed.tags].count("svg") == charts + LATENCY_PLOT
