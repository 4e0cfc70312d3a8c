"""Fixtures shared across the suite: small real datasets and models trained here, in code."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# The tiny real models of the source tests and the conformance suite, for every folder.
from helpers.model_fixtures import (  # noqa: F401
    digits,
    helpers_dir,
    hist_gb,
    image_inputs,
    lgbm,
    logreg,
    mlp_exported,
    mlp_torchscript,
    mlp_weights,
    ridge,
    tabular_inputs,
    text_inputs,
    tiny_bert,
    tiny_mlp,
    xgb,
)
from helpers.openai_server import openai_server  # noqa: F401  (started only when a test asks)

HELPERS = Path(__file__).parent / "helpers"


@dataclass(frozen=True)
class Tabular:
    """A dataset written to disk, with its features and labels in memory for checking."""

    path: Path
    frame: pd.DataFrame
    features: pd.DataFrame
    labels: np.ndarray


@pytest.fixture(scope="session")
def breast_cancer_csv(tmp_path_factory: pytest.TempPathFactory) -> Tabular:
    """scikit-learn's breast cancer data as a CSV with its real column names (they have spaces),
    the label in a column named 'diagnosis' with string values."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns={"target": "diagnosis"})
    frame["diagnosis"] = np.where(frame["diagnosis"] == 1, "benign", "malignant")
    path = tmp_path_factory.mktemp("data") / "breast_cancer.csv"
    frame.to_csv(path, index=False)
    reread = pd.read_csv(path)  # what a user's CSV round trip gives
    features = reread.drop(columns="diagnosis")
    return Tabular(path, reread, features, reread["diagnosis"].to_numpy())


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m whichmodel ARGS`` in a real subprocess."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "whichmodel", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.fixture
def cli():
    """The CLI as a user runs it: ``cli("compare", ...)`` -> CompletedProcess."""
    return run_cli
