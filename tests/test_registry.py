"""Registry[T]: lazy entries, duplicate and unknown names; the three registries built on it."""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

import whichmodel.registry
from whichmodel.bench.variants import VARIANTS, get_variant
from whichmodel.errors import ConfigError, ModelReferenceError, TaskError
from whichmodel.refs import KINDS, SOURCES
from whichmodel.registry import Registry
from whichmodel.tasks import TASKS, Task, get_task


def test_the_docstring_example_runs():
    result = doctest.testmod(whichmodel.registry)
    assert result.attempted >= 5 and result.failed == 0


def test_an_entry_is_imported_on_first_get_only(tmp_path, monkeypatch):
    (tmp_path / "wm_registry_probe.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry: Registry[int] = Registry("probe", error=ConfigError)
    registry.register("answer", "wm_registry_probe:VALUE")
    assert "wm_registry_probe" not in sys.modules
    assert registry.names() == ("answer",)
    assert registry.get("answer") == 42
    assert "wm_registry_probe" in sys.modules
    monkeypatch.delitem(sys.modules, "wm_registry_probe")


def test_a_duplicate_name_or_a_malformed_target_raises():
    registry: Registry[object] = Registry("thing", error=ConfigError)
    registry.register("a", "math:pi")
    with pytest.raises(ValueError, match="'a' is registered twice"):
        registry.register("a", "math:e")
    for target in ("math", "math:", ":pi"):
        with pytest.raises(ValueError, match=r"must be 'pkg\.module:attribute'"):
            registry.register("b", target)
    assert registry.names() == ("a",)


def test_an_unknown_name_raises_the_registrys_error_with_matches_and_the_list():
    registry: Registry[object] = Registry("thing", error=TaskError)
    for name in ("alpha", "alphabet", "beta"):
        registry.register(name, "math:pi")
    with pytest.raises(TaskError) as info:
        registry.get("alpah")
    assert str(info.value) == (
        "Unknown thing 'alpah'. Did you mean 'alpha' or 'alphabet'? "
        "Known things: alpha, alphabet, beta."
    )
    with pytest.raises(TaskError, match=r"^Unknown thing 'zzz'\. Known things: alpha, "):
        registry.get("zzz")  # nothing close: no suggestion


def test_hidden_entries_are_found_but_never_offered():
    registry: Registry[float] = Registry("thing", error=ConfigError)
    registry.register("pi", "math:pi")
    registry.register("fake", "math:e", hidden=True)
    assert registry.names() == ("pi",) and "fake" in registry
    assert registry.get("fake") == pytest.approx(2.718, abs=1e-3)
    with pytest.raises(ConfigError) as info:
        registry.get("fak")
    assert "fake" not in str(info.value) and "Known things: pi." in str(info.value)


def test_kinds_are_the_listed_sources_and_every_source_has_the_contract():
    assert KINDS == SOURCES.names() == ("sklearn", "torch", "hf", "onnx", "gguf", "openai")
    for kind in (*KINDS, "fake"):
        source = SOURCES.get(kind)
        assert all(callable(getattr(source, m, None)) for m in ("files", "load", "inspect"))


def test_every_task_and_variant_is_registered_and_builds():
    for name in (*TASKS.names(), "fake"):
        task_class = TASKS.get(name)
        assert issubclass(task_class, Task) and getattr(task_class, "name", name) == name
    assert get_task("fake").name == "fake"
    for name in (*VARIANTS.names(), "fake"):
        assert get_variant(name).name == name


def test_unknown_task_and_variant_keep_their_error_class_and_text():
    expected = (
        r"^Unknown task 'clasification'\. Did you mean 'classification' or "
        r"'token-classification'\? Known tasks: classification, regression, .*, ranking\.$"
    )
    with pytest.raises(TaskError, match=expected):
        get_task("clasification")
    with pytest.raises(ConfigError, match=r"Unknown variant 'in8'\. Did you mean 'int8'"):
        get_variant("in8")
    with pytest.raises(ModelReferenceError, match="Unknown model kind 'vllm'"):
        SOURCES.get("vllm")


def test_reading_references_imports_no_source_and_no_numpy():
    code = (
        "import sys; from whichmodel.refs import parse_ref, KINDS; parse_ref('hf:x'); "
        "print(*sorted(m for m in sys.modules if m == 'numpy' or m.startswith('whichmodel.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["whichmodel.errors", "whichmodel.refs", "whichmodel.registry"]
