"""The HTML report in real headless Chromium (Debian's, driven by playwright).

The page is served through a playwright route at a made-up origin, so every request it makes is
seen: the report itself is the only one allowed. A real comparison whose model names, class
labels and data path carry ``<script>`` and ``onerror=`` payloads must execute none of them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import skops.io as sio

from helpers.quiet_report import decided_as_if_quiet

pytestmark = pytest.mark.slow  # a real comparison with cost probes, and a browser: ~30 s

CHROMIUM = "/usr/bin/chromium"
# ENVIRONMENT.md: the flags Debian's chromium needs here.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
URL = "http://report.invalid/report.html"
# Each payload would set window.__pwned and log to the console if it ever ran.
PAYLOADS = [
    '<script>window.__pwned="script";console.error("pwned")</script>',
    '<img src=x onerror="window.__pwned=1;console.error(1)">',
    '"><svg onload="window.__pwned=2">',
]
MODEL_NAMES = [
    "<script>window.__pwned=3</script>",
    "<img src=y onerror=window.__pwned=4>",
]


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real compare run on iris with payloads as class labels, model names and file name."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    from conftest import run_cli

    folder = tmp_path_factory.mktemp("hostile")
    frame = load_iris(as_frame=True).frame
    frame["target"] = frame["target"].map(dict(enumerate(PAYLOADS)))
    data = folder / "<img src=z onerror=window.__pwned=5>.csv"
    frame.to_csv(data, index=False)
    x, y = frame.drop(columns="target"), frame["target"]
    sio.dump(LogisticRegression(max_iter=1000).fit(x, y), folder / "lr.skops")
    sio.dump(DecisionTreeClassifier(max_depth=2, random_state=0).fit(x, y), folder / "tree.skops")
    refs = [
        f"sklearn:{folder}/lr.skops?name={MODEL_NAMES[0]}",
        f"sklearn:{folder}/tree.skops?name={MODEL_NAMES[1]}",
    ]
    proc = run_cli(
        "compare", *refs, "--data", str(data), "--label-col", "target",
        "--store", str(folder / "store.db"), "--out", str(folder / "out"),
        "--max-latency-ms", "10000",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads((folder / "out" / "results.json").read_text())
    assert {m["name"] for m in results["models"]} == set(MODEL_NAMES)  # the payloads got in
    return decided_as_if_quiet(results, folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail(f"{CHROMIUM} is missing: `make .venv/.installed-dev` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser: Any, html: str) -> dict[str, Any]:
    """Load ``html`` at URL; returns the page and everything it did."""
    seen: dict[str, Any] = {"requests": [], "console": [], "errors": [], "dialogs": []}
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))

    def handle(route: Any) -> None:
        seen["requests"].append(route.request.url)
        if route.request.url == URL:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            route.abort()

    context.route("**/*", handle)
    page.goto(URL, wait_until="load")
    page.wait_for_timeout(200)  # let any onerror/onload handler fire before we look
    seen["page"] = page
    seen["pwned"] = page.evaluate("window.__pwned === undefined ? null : window.__pwned")
    return seen


def test_the_harness_would_catch_an_executed_payload(browser: Any) -> None:
    # A negative control: the same checks on a page that does run its payloads.
    seen = open_page(browser, f"<html><body>{PAYLOADS[0]}{PAYLOADS[1]}</body></html>")
    assert seen["pwned"] == 1
    assert "error: pwned" in seen["console"]
    assert any(u.endswith("/x") for u in seen["requests"])
    seen["page"].context.close()


def test_report_renders_offline_with_plots_and_executes_nothing(
    browser: Any, hostile_report: Path
) -> None:
    seen = open_page(browser, hostile_report.read_text(encoding="utf-8"))
    page = seen["page"]
    assert seen["pwned"] is None
    assert seen["requests"] == [URL]  # no other request: no image, font, script or beacon
    assert seen["console"] == [] and seen["errors"] == [] and seen["dialogs"] == []
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.querySelectorAll('[onerror],[onload]').length") == 0
    # Decision and summary come first; each section is visible and has content.
    ids = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
    assert ids[:2] == ["decision", "summary"]
    sections = ("decision", "summary", "results", "charts", "cost", "latency", "spec-diff")
    for section in (*sections, "provenance"):
        box = page.locator(f"section#{section}").bounding_box()
        assert box is not None and box["height"] > 40, section
    # The payloads are shown as text, where a reader expects them.
    decision = page.locator("#decision").inner_text()
    assert MODEL_NAMES[0] in decision and "Pick" in decision
    tables = page.locator("#details").text_content() or ""  # per-class tables, collapsed
    assert all(p in tables for p in PAYLOADS)
    assert "<img src=z onerror=window.__pwned=5>.csv" in page.locator("h1").inner_text()
    # Plots: the Pareto plot has one bubble per model, the latency plot one line per model.
    assert page.locator("#pareto svg g.point circle").count() == 2
    assert page.locator("#latency svg g.series path").count() == 2
    for svg in page.locator("svg.chart").all():
        box = svg.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 50
    # The spec diff: the payload names head its columns as text; differences come first.
    spec = page.locator("#spec-diff")
    headers = spec.locator("#spec-differences thead th").all_inner_texts()
    assert headers == ["fact", *MODEL_NAMES, "what it costs"]
    rows = [r.split("\t") for r in spec.locator("#spec-differences tbody tr").all_inner_texts()]
    assert rows[0][0] == "parameters" and "× " in rows[0][3]  # with its consequence, first
    assert ["family", "linear", "decision tree"] in [r[:3] for r in rows]
    assert "forward FLOPs" in spec.inner_text()  # unknown for both estimators, and said so
    assert "python" in page.locator("#provenance").inner_text()  # versions are listed
    assert "--max-latency-ms 10000" in page.locator("#provenance").inner_text()
    page.context.close()
