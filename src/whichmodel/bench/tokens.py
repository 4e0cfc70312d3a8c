"""What a served model's answers cost: the tokens each response's ``usage`` reports, priced per
1M tokens.

Prices come from ``?price_in=…&price_out=…`` on the ``openai:`` reference, else from a dated
table shipped with the package (``prices.json``: a few well-known hosted models at their
published list prices, with the table's ``source`` and ``as_of`` date; no batch or cached-input
discounts). A model in neither has an unknown cost, with the reason; a model served on this
machine (loopback) may instead be costed by the hour, as a local model is
(:func:`whichmodel.choose.checks.model_cost`).

Cost per 1,000 examples = 1000 × (mean prompt tokens × price_in + mean generated tokens ×
price_out) / 1e6, the means over the examples whose responses were read back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

OVERRIDE = "?price_in/?price_out on the reference"


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens, and where the figures come from (``as_of`` None for an override)."""

    input_per_1m: float
    output_per_1m: float
    source: str
    as_of: str | None = None

    def describe(self) -> str:
        """``$2.5 in, $10 out per 1M tokens (price table as of 2025-06-01: URL)``."""
        where = self.source
        if self.as_of is not None:
            where = f"price table as of {self.as_of}: {self.source}"
        return f"${self.input_per_1m:g} in, ${self.output_per_1m:g} out per 1M tokens ({where})"


@dataclass(frozen=True)
class TokenCost:
    """A served model's tokens on the examples it answered, and their cost.

    Args:
        examples: how many examples' responses were read back for their tokens.
        requests: how many responses those are.
        prompt_tokens / completion_tokens: their tokens, summed, as the server's ``usage``
            reports them.
        unread: examples the model answered whose responses could not be read back.
        price: what a token costs, or None (``unknown`` says why).
        cost_per_1k: USD per 1,000 examples, or None.
        unknown: why the cost is unknown; None when known.
        loopback: the server is on this machine (its time may be costed by the hour instead).
        per_example: row -> (requests, prompt tokens, generated tokens) of each example read
            back; the store keeps it, results.json leaves it out (then it is empty).
    """

    examples: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    unread: int
    price: Price | None
    cost_per_1k: float | None
    unknown: str | None
    loopback: bool
    per_example: dict[int, tuple[int, int, int]] = field(default_factory=dict)

    @property
    def mean_prompt_tokens(self) -> float | None:
        return self.prompt_tokens / self.examples if self.examples else None

    @property
    def mean_completion_tokens(self) -> float | None:
        return self.completion_tokens / self.examples if self.examples else None

    def to_dict(self, *, per_example: bool = True) -> dict[str, Any]:
        """JSON; results.json leaves ``per_example`` out."""
        out: dict[str, Any] = {
            "examples": self.examples,
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "mean_prompt_tokens": self.mean_prompt_tokens,
            "mean_completion_tokens": self.mean_completion_tokens,
            "unread": self.unread,
            "price": None if self.price is None else vars(self.price),
            "cost_per_1k": self.cost_per_1k,
            "currency": "USD",
            "unknown": self.unknown,
            "loopback": self.loopback,
        }
        if per_example:
            out["per_example"] = [[row, *t] for row, t in sorted(self.per_example.items())]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenCost:
        """The inverse of :meth:`to_dict`."""
        price = data.get("price")
        return cls(
            int(data["examples"]), int(data["requests"]), int(data["prompt_tokens"]),
            int(data["completion_tokens"]), int(data["unread"]),
            None if price is None else Price(**price), data["cost_per_1k"], data["unknown"],
            bool(data["loopback"]),
            {int(r): (int(a), int(b), int(c)) for r, a, b, c in data.get("per_example") or ()},
        )  # fmt: skip


@cache
def price_table() -> dict[str, Any]:
    """The shipped price table (``prices.json``): ``as_of``, ``source``, ``models``."""
    text = resources.files("whichmodel.bench").joinpath("prices.json").read_text("utf-8")
    return dict(json.loads(text))


def price_of(model: str, price_in: float | None, price_out: float | None) -> Price | None:
    """The price of ``model``: the override when given, else its row in the price table (the
    name as given, or after a ``provider/`` prefix), else None."""
    if price_in is not None and price_out is not None:
        return Price(price_in, price_out, OVERRIDE)
    table = price_table()
    row = table["models"].get(model) or table["models"].get(model.rsplit("/", 1)[-1])
    if row is None:
        return None
    return Price(float(row["input"]), float(row["output"]), str(row["source"]), table["as_of"])


def priced(
    tokens: dict[int, tuple[int, int, int]], *, unread: int, model: str, loopback: bool,
    price_in: float | None = None, price_out: float | None = None,
) -> TokenCost:  # fmt: skip
    """The cost of ``tokens`` (row -> (requests, prompt tokens, generated tokens)) at the
    model's price (:func:`price_of`)."""
    n = len(tokens)
    requests, prompt, completion = (sum(t[i] for t in tokens.values()) for i in range(3))
    price = price_of(model, price_in, price_out)
    cost, unknown = None, None
    if price is None:
        unknown = _no_price(model, loopback)
    elif not n:
        unknown = "no response of the model could be read back for its tokens"
    else:
        cost = 1000.0 * (prompt * price.input_per_1m + completion * price.output_per_1m) / 1e6 / n
    return TokenCost(n, requests, prompt, completion, unread, price, cost, unknown, loopback,
                     dict(tokens))  # fmt: skip


def _no_price(model: str, loopback: bool) -> str:
    if loopback:
        return (
            f"{model} is served on this machine and has no price per token: give "
            "?price_in=...&price_out=... (USD per 1M tokens), or --price-per-hour to cost its "
            "time on this machine"
        )
    return (
        f"{model} is not in whichmodel's price table (as of {price_table()['as_of']}): give "
        "?price_in=...&price_out=... (USD per 1M tokens) on its reference"
    )
