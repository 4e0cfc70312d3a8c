"""The report's layout in real headless Chromium, at 1400 and 800 px wide.

A real comparison of five scikit-learn models on a table whose ``income`` column is in dollars
(so cluster rules and slice bins meet large numbers), with latency and memory measured. With
every ``<details>`` opened (a reader may open them all), JavaScript measures that no element
is wider than its container, apart from the content of a scroll wrapper (``.wrap``), which
must itself fit; that no two texts of a plot overlap; and, with the page as it loads, that the
decision is above the fold and the long tables are folded, significant rows first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from helpers.quiet_report import decided_as_if_quiet

pytestmark = pytest.mark.slow  # a real comparison with cost probes, and a browser: ~60 s

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # as test_browser.py (ENVIRONMENT.md)
WIDTHS = (1400, 800)
FOLD_HEIGHT = 900  # the viewport's height: the decision must start above it

# Every element wider than its container (outside scroll wrappers), as "tag#id.class: why".
OVERFLOWS = """() => {
  const out = [];
  const page = document.documentElement;
  if (page.scrollWidth > window.innerWidth)
    out.push(`page: ${page.scrollWidth} > ${window.innerWidth}`);
  const body = document.body.getBoundingClientRect();
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('svg') && e.tagName.toLowerCase() !== 'svg') continue;  // drawn, not laid out
    const wrap = e.parentElement && e.parentElement.closest('.wrap');
    if (wrap) continue;  // inside an intended scroll wrapper: it scrolls, the wrapper must fit
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const name = `${e.tagName.toLowerCase()}#${e.id}.${e.getAttribute('class') || ''}`;
    if (r.right > body.right + 1 || r.left < body.left - 1)
      out.push(`${name}: [${r.left}, ${r.right}] outside the body [${body.left}, ${body.right}]`);
    const style = getComputedStyle(e);
    if (style.display !== 'inline' && !e.classList.contains('wrap') &&
        style.overflowX === 'visible' && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)
      out.push(`${name}: content ${e.scrollWidth} wider than ${e.clientWidth}`);
  }
  return out;
}"""

# Pairs of texts in one plot whose boxes overlap (more than half a pixel square).
LABEL_OVERLAPS = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const boxes = [...svg.querySelectorAll('text')]
      .map(t => [t.textContent, t.getBoundingClientRect()]).filter(([, r]) => r.width > 0);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i], [b, rb] = boxes[j];
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      const title = svg.querySelector('title').textContent;
      if (w > 0 && h > 0 && w * h > 0.5) out.push(`${title}: "${a}" / "${b}"`);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five models compared on a table with incomes in dollars, costs measured; decided again
    as if the machine had been quiet (see test_browser.hostile_report for why)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.tree import DecisionTreeClassifier

    from conftest import run_cli

    folder = tmp_path_factory.mktemp("layout")
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame(
        {
            "age": rng.uniform(18, 90, n).round(),
            "income": rng.uniform(15_000, 150_000, n).round(-2),
            "tenure": rng.uniform(0, 30, n).round(1),
        }
    )
    score = (frame["income"] - 60_000) / 30_000 + (frame["age"] - 50) / 40
    frame["label"] = np.where(score + rng.normal(0, 0.8, n) > 0, "yes", "no")
    data = folder / "incomes.csv"
    frame.to_csv(data, index=False)
    x, y = frame.drop(columns="label"), frame["label"]
    estimators = {
        "logistic-regression": LogisticRegression(max_iter=1000),
        "shallow-tree": DecisionTreeClassifier(max_depth=2, random_state=0),
        "deep-tree": DecisionTreeClassifier(max_depth=6, random_state=0),
        "forest": RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0),
        "naive-bayes": GaussianNB(),
    }
    refs = []
    for name, est in estimators.items():
        sio.dump(est.fit(x, y), folder / f"{name}.skops")
        refs.append(f"sklearn:{folder}/{name}.skops")
    proc = run_cli(
        "compare", *refs, "--data", str(data), "--label-col", "label", "--slice-by", "income",
        "--store", str(folder / "store.db"), "--out", str(folder / "out"),
        "--max-latency-ms", "10000",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads((folder / "out" / "results.json").read_text())
    return decided_as_if_quiet(results, folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make .venv/.installed-dev` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_report(browser: Any, html: str, width: int) -> Any:
    """The page at ``width`` px, no network: every request but the page's own is aborted."""
    context = browser.new_context(viewport={"width": width, "height": FOLD_HEIGHT})
    page = context.new_page()
    page.route("**/*", lambda route: route.abort())
    page.set_content(html, wait_until="load")
    return page


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_overflows_and_no_plot_labels_overlap(browser: Any, report: Path, width: int):
    page = open_report(browser, report.read_text(encoding="utf-8"), width)
    # As the page loads: the decision is above the fold, the long tables folded.
    pick = page.locator("#decision .lead").bounding_box()
    assert pick is not None and pick["y"] + pick["height"] < FOLD_HEIGHT
    ids = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
    assert ids[:4] == ["decision", "summary", "charts", "latency"]  # then the evidence
    assert ids.index("results") < ids.index("differences") < ids.index("calibration")
    folded = page.locator("details.fold:not([open]) > summary").all_inner_texts()
    assert any(t.startswith("30 differences: ") for t in folded), folded  # 10 pairs × 3 metrics
    assert any(t.startswith("30 paired tests: ") for t in folded), folded
    assert any(t.startswith("Reliability diagrams of 5 models") for t in folded), folded
    # Every <details> open: nothing wider than its container, no overlapping plot texts.
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert page.evaluate(OVERFLOWS) == []
    assert page.evaluate(LABEL_OVERLAPS) == []
    charts = 3 + 1 + 1 + 5  # three metrics, the Pareto and latency plots, five reliability
    assert page.locator("svg.chart").count() >= charts
    # At 1400 px the trade-offs fit without scrolling (at 800 px their nine columns scroll
    # inside their wrapper); their headers and the spec diff's costs are whole.
    tradeoffs = page.locator("#tradeoffs").evaluate(
        "t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]"
    )
    assert width < 1400 or tradeoffs[0] <= tradeoffs[1], tradeoffs
    headers = page.locator("#tradeoffs thead th").all_inner_texts()
    assert not any("…" in h for h in headers) and any("parameters" in h for h in headers)
    costs = page.locator("#spec-differences td.costs").first.bounding_box()
    assert costs is not None and costs["width"] >= 150
    page.context.close()


def test_plots_have_ticks_and_numbers_read_as_people_write_them(browser: Any, report: Path):
    page = open_report(browser, report.read_text(encoding="utf-8"), WIDTHS[0])
    for svg in page.locator("svg.chart").all():
        title = svg.locator("title").first.text_content()
        ticks = svg.locator("text.tick").all_inner_texts()
        if ticks:
            assert len(ticks) >= 4, (title, ticks)  # at least two on each axis
    pareto = page.locator("#pareto svg")
    assert pareto.locator("g.point").count() == 5
    assert len(pareto.locator("text.tick").all_inner_texts()) >= 4
    text = page.locator("body").inner_text()
    assert "e+0" not in text  # 56.1k, not 5.611e+04: cluster rules, slice bins, statistics
    clusters = page.locator("#error-clusters").inner_text()
    slices = page.locator("#slices").inner_text()
    assert "income" in clusters and "k" in clusters
    assert "k, " in slices and "k]" in slices  # income bins such as [15k, 41.9k]
    page.context.close()
