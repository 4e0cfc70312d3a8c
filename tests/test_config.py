"""whichmodel.yaml: aliases a config may use are read; those that expand without end are not."""

from __future__ import annotations

import pytest

from whichmodel.config import MAX_CONFIG_VALUES, load_config
from whichmodel.errors import ConfigError


def test_aliases_that_share_a_value_are_read(tmp_path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "models: &models [sklearn:a.skops, sklearn:b.skops]\n"
        "data: d.csv\n"
        "slice_by: &columns [country, device]\n"
        "input_cols: *columns\n"
        "choose: {min: &floor {accuracy: 0.9}, max: *floor}\n"
    )
    config, extras = load_config(path)
    assert config.refs == ("sklearn:a.skops", "sklearn:b.skops")
    assert config.slice_by == config.input_cols == ("country", "device")
    assert extras["choose"]["min"] is extras["choose"]["max"]


def test_a_value_over_the_cap_is_refused_however_it_is_built(tmp_path) -> None:
    side = int(MAX_CONFIG_VALUES**0.5) + 2  # side * side values, from side + 1 written
    path = tmp_path / "w.yaml"
    path.write_text(
        "models: [sklearn:a.skops]\ndata: d.csv\n"
        f"task: [&row [{', '.join(['x'] * side)}], {', '.join(['*row'] * side)}]\n"
    )
    with pytest.raises(ConfigError, match="expands to more than 100,000 values"):
        load_config(path)
