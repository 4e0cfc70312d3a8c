"""Fixtures of the bad-input suite: models and data to point the bad options at."""

from __future__ import annotations

import pytest

from helpers.iris import save_iris_models


@pytest.fixture(scope="session")
def iris(tmp_path_factory):
    """iris.csv with lr, tree and dummy skops classifiers (see helpers.iris)."""
    return save_iris_models(tmp_path_factory.mktemp("iris"))
