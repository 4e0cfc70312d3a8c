import pytest

from whichmodel.errors import ModelReferenceError
from whichmodel.refs import KINDS, parse_ref


@pytest.mark.parametrize(
    ("text", "kind", "target"),
    [
        ("models/lr.skops", "sklearn", "models/lr.skops"),
        ("models/LR.SKOPS", "sklearn", "models/LR.SKOPS"),
        ("models/old.joblib", "sklearn", "models/old.joblib"),
        ("exported/mlp.pt2", "torch", "exported/mlp.pt2"),
        ("scripted/mlp.pt", "torch", "scripted/mlp.pt"),
        ("sklearn:models/lr.skops", "sklearn", "models/lr.skops"),
        ("torch:my.zoo:cnn?weights=cnn.safetensors", "torch", "my.zoo:cnn"),
        ("  hf:some/folder  ", "hf", "some/folder"),
    ],
)
def test_kind_and_target(text, kind, target):
    ref = parse_ref(text)
    assert (ref.kind, ref.target) == (kind, target)
    assert str(ref) == text.strip()


def test_folder_with_config_json_is_inferred_as_hf(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    ref = parse_ref(str(tmp_path))
    assert (ref.kind, ref.target) == ("hf", str(tmp_path))
    assert ref.name == tmp_path.name


def test_folder_without_config_json_is_not_inferred(tmp_path):
    with pytest.raises(ModelReferenceError, match="Cannot tell what kind"):
        parse_ref(str(tmp_path))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("models/lr.skops", "lr"),
        ("models/lr.skops?name=baseline", "baseline"),
        ("hf:models/tiny-bert/", "tiny-bert"),
        ("hf:models/tiny-bert?name=bert%20small", "bert small"),
        ("torch:my.zoo:cnn", "cnn"),
        ("torch:my.zoo:cnn?weights=ckpt/epoch3.safetensors", "epoch3"),
        ("torch:my.zoo:cnn?weights=ckpt/epoch3.safetensors&name=cnn-e3", "cnn-e3"),
    ],
)
def test_display_name(text, name):
    assert parse_ref(text).name == name


def test_query_parameters_keep_order_and_blank_values():
    ref = parse_ref("torch:my.zoo:cnn?weights=w.safetensors&width=32&classes=a,b&flag=")
    assert ref.params == (
        ("weights", "w.safetensors"),
        ("width", "32"),
        ("classes", "a,b"),
        ("flag", ""),
    )
    assert ref.param("width") == "32"
    assert ref.param("depth", "default") == "default"


@pytest.mark.parametrize("text", ["nonsense:thing", "model.bin", "tf:saved_model"])
def test_unknown_prefix_lists_the_kinds(text):
    with pytest.raises(ModelReferenceError) as info:
        parse_ref(text)
    message = str(info.value)
    assert repr(text) in message
    for kind in KINDS:
        assert f"{kind}:" in message


@pytest.mark.parametrize(
    ("text", "match"), [("", "Empty"), ("   ", "Empty"), ("hf:", "nothing after 'hf:'")]
)
def test_empty_references(text, match):
    with pytest.raises(ModelReferenceError, match=match):
        parse_ref(text)


def test_a_mistyped_kind_suggests_the_close_one():
    with pytest.raises(ModelReferenceError, match="Did you mean 'sklearn:'"):
        parse_ref("sklaern:models/lr.skops")
