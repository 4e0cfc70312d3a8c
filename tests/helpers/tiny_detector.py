"""The detection tests' models and data: the example grid detector
(``examples/detection/grid_detector.py``, loaded from its file) and a tiny DETR built offline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

EXAMPLE = Path(__file__).parents[2] / "examples" / "detection" / "grid_detector.py"
_spec = importlib.util.spec_from_file_location("whichmodel_example_grid_detector", EXAMPLE)
assert _spec is not None and _spec.loader is not None
_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_example)

CLASSES = _example.CLASSES
build = _example.build
synthetic_images = _example.synthetic_images
write_dataset = _example.write_dataset


def save_tiny_detr(folder: Path, seed: int = 0) -> Path:
    """A DETR with a tiny ResNet backbone, random weights, built offline from its config, saved
    with its image processor (the folder ``hf:`` reads)."""
    from transformers import DetrConfig, DetrForObjectDetection, DetrImageProcessor, ResNetConfig

    backbone = ResNetConfig(
        num_channels=3,
        embedding_size=8,
        hidden_sizes=[8, 16],
        depths=[1, 1],
        out_features=["stage2"],
    )
    config = DetrConfig(
        use_timm_backbone=False,
        backbone_config=backbone,
        use_pretrained_backbone=False,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=16,
        decoder_ffn_dim=16,
        num_queries=10,
        id2label=dict(enumerate(CLASSES)),
        label2id={c: i for i, c in enumerate(CLASSES)},
    )
    torch.manual_seed(seed)
    DetrForObjectDetection(config).eval().save_pretrained(folder)
    DetrImageProcessor(size={"shortest_edge": 32, "longest_edge": 64}).save_pretrained(folder)
    return folder
