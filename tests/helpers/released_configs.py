"""Configs of released models, written with transformers' own config classes, and the parameter
counts their publishers state (model cards, papers), for the spec-sheet tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Released:
    """A released model: its config class and arguments, and its published parameter count."""

    name: str
    config_class: str
    kwargs: dict[str, Any]
    architecture: str
    params: int  # the released count (source in ``cite``)
    cite: str
    design: dict[str, Any] = field(default_factory=dict)  # expected design fields (paper)

    def write(self, root: Path) -> Path:
        """Save config.json into ``root/name`` and return the folder."""
        import transformers

        config = getattr(transformers, self.config_class)(**self.kwargs)
        config.architectures = [self.architecture]
        folder = root / self.name
        config.save_pretrained(folder)
        if "tie_word_embeddings" in self.kwargs:  # as the released config.json says it
            path = folder / "config.json"
            raw = json.loads(path.read_text())
            raw["tie_word_embeddings"] = self.kwargs["tie_word_embeddings"]
            path.write_text(json.dumps(raw))
        return folder


LLAMA2_7B = dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                 num_attention_heads=32, num_key_value_heads=32, vocab_size=32000,
                 max_position_embeddings=4096, rms_norm_eps=1e-5)
LLAMA2_70B = dict(hidden_size=8192, intermediate_size=28672, num_hidden_layers=80,
                  num_attention_heads=64, num_key_value_heads=8, vocab_size=32000,
                  max_position_embeddings=4096, rms_norm_eps=1e-5)
LLAMA3_8B = dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                 num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
                 max_position_embeddings=8192, rope_theta=500000.0)
MISTRAL_7B = dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                  num_attention_heads=32, num_key_value_heads=8, vocab_size=32000,
                  max_position_embeddings=32768, sliding_window=4096)

RELEASED: tuple[Released, ...] = (
    Released("gpt2", "GPT2Config", {}, "GPT2LMHeadModel", 124_439_808,
             "openai-community/gpt2 (124M; tied LM head)",
             {"norm": "LayerNorm", "norm_placement": "pre", "position": "learned absolute",
              "activation": "GELU (tanh)", "gating": "none", "attention": "MHA",
              "tied_embeddings": True, "context_length": 1024}),
    Released("bert-base-uncased", "BertConfig", {}, "BertModel", 109_482_240,
             "google-bert/bert-base-uncased (110M; Devlin et al. 2019)",
             {"norm": "LayerNorm", "norm_placement": "post", "position": "learned absolute",
              "activation": "GELU", "attention": "MHA", "layers": 12, "heads": 12}),
    Released("roberta-base", "RobertaConfig",
             dict(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1),
             "RobertaModel", 124_645_632, "FacebookAI/roberta-base (125M)",
             # position ids start at padding_idx + 1 = 2: 514 - 2 usable positions
             {"norm_placement": "post", "position": "learned absolute", "context_length": 512}),
    Released("t5-base", "T5Config", dict(d_model=768, d_ff=3072, num_layers=12, num_heads=12),
             "T5ForConditionalGeneration", 222_903_552, "google-t5/t5-base (220M; Raffel 2020)",
             {"norm": "RMSNorm", "position": "relative bias", "activation": "ReLU",
              "gating": "none", "layers": 24}),
    Released("t5-v1_1-base", "T5Config",
             dict(d_model=768, d_ff=2048, num_layers=12, num_heads=12, d_kv=64,
                  feed_forward_proj="gated-gelu", tie_word_embeddings=False, vocab_size=32128),
             "T5ForConditionalGeneration", 247_577_856, "google/t5-v1_1-base (248M)",
             {"gating": "GeGLU", "activation": "GELU (tanh)", "tied_embeddings": False,
              "position": "relative bias"}),
    Released("opt-350m", "OPTConfig",
             dict(hidden_size=1024, ffn_dim=4096, num_hidden_layers=24, num_attention_heads=16,
                  word_embed_proj_dim=512, do_layer_norm_before=False, vocab_size=50272,
                  max_position_embeddings=2048),
             "OPTForCausalLM", 331_196_416, "facebook/opt-350m (331M; Zhang et al. 2022)",
             {"norm_placement": "post", "activation": "ReLU", "position": "learned absolute"}),
    Released("pythia-160m", "GPTNeoXConfig",
             dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                  num_attention_heads=12, vocab_size=50304, rotary_pct=0.25,
                  max_position_embeddings=2048, tie_word_embeddings=False),
             "GPTNeoXForCausalLM", 162_322_944, "EleutherAI/pythia-160m (Biderman et al. 2023)",
             {"norm_placement": "parallel", "position": "RoPE", "rotary_fraction": 0.25,
              "activation": "GELU"}),
    Released("llama-2-7b", "LlamaConfig", LLAMA2_7B, "LlamaForCausalLM", 6_738_415_616,
             "meta-llama/Llama-2-7b-hf (6.74B; Touvron et al. 2023)",
             {"norm": "RMSNorm", "norm_placement": "pre", "position": "RoPE",
              "rope_theta": 10000.0, "gating": "SwiGLU", "attention": "MHA", "kv_heads": 32}),
    Released("llama-2-70b", "LlamaConfig", LLAMA2_70B, "LlamaForCausalLM", 68_976_648_192,
             "meta-llama/Llama-2-70b-hf (69.0B)", {"attention": "GQA", "kv_heads": 8}),
    Released("llama-3-8b", "LlamaConfig", LLAMA3_8B, "LlamaForCausalLM", 8_030_261_248,
             "meta-llama/Meta-Llama-3-8B (8.03B)",
             {"attention": "GQA", "kv_heads": 8, "rope_theta": 500000.0, "vocab_size": 128256}),
    Released("mistral-7b", "MistralConfig", MISTRAL_7B, "MistralForCausalLM", 7_241_732_096,
             "mistralai/Mistral-7B-v0.1 (7.24B; Jiang et al. 2023)",
             {"attention": "GQA", "kv_heads": 8, "sliding_window": 4096, "sliding_layers": 32}),
    Released("mixtral-8x7b", "MixtralConfig",
             dict(MISTRAL_7B, sliding_window=None, num_local_experts=8, num_experts_per_tok=2,
                  rope_theta=1e6),
             "MixtralForCausalLM", 46_702_792_704, "mistralai/Mixtral-8x7B-v0.1 (46.7B, 12.9B "
             "active; Jiang et al. 2024)", {"gating": "SwiGLU", "sliding_window": None}),
    Released("falcon-7b", "FalconConfig",
             dict(hidden_size=4544, num_hidden_layers=32, num_attention_heads=71,
                  vocab_size=65024, multi_query=True, parallel_attn=True, bias=False,
                  new_decoder_architecture=False, alibi=False),
             "FalconForCausalLM", 6_921_720_704, "tiiuae/falcon-7b (7B)",
             {"attention": "MQA", "kv_heads": 1, "norm_placement": "parallel",
              "position": "RoPE", "activation": "GELU"}),
    Released("phi-2", "PhiConfig",
             dict(hidden_size=2560, intermediate_size=10240, num_hidden_layers=32,
                  num_attention_heads=32, vocab_size=51200, partial_rotary_factor=0.4,
                  max_position_embeddings=2048, hidden_act="gelu_new"),
             "PhiForCausalLM", 2_779_683_840, "microsoft/phi-2 (2.7B)",
             {"norm_placement": "parallel", "rotary_fraction": 0.4, "activation": "GELU (tanh)",
              "gating": "none"}),
    Released("gemma-7b", "GemmaConfig",
             dict(hidden_size=3072, intermediate_size=24576, num_hidden_layers=28,
                  num_attention_heads=16, num_key_value_heads=16, head_dim=256,
                  vocab_size=256000, max_position_embeddings=8192,
                  hidden_activation="gelu_pytorch_tanh"),
             "GemmaForCausalLM", 8_537_680_896, "google/gemma-7b (8.54B; Gemma Team 2024)",
             {"head_dim": 256, "gating": "GeGLU", "norm": "RMSNorm", "tied_embeddings": True}),
    Released("qwen2-7b", "Qwen2Config",
             dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                  num_attention_heads=28, num_key_value_heads=4, vocab_size=152064,
                  max_position_embeddings=131072, rope_theta=1e6, sliding_window=131072,
                  use_sliding_window=False, tie_word_embeddings=False),
             "Qwen2ForCausalLM", 7_615_616_512, "Qwen/Qwen2-7B (7.62B)",
             {"attention": "GQA", "kv_heads": 4, "sliding_window": None}),
    Released("vit-base-patch16-224", "ViTConfig", {}, "ViTModel", 86_389_248,
             "google/vit-base-patch16-224-in21k (86M; Dosovitskiy et al. 2021)",
             {"norm_placement": "pre", "position": "learned absolute"}),
    Released("whisper-tiny", "WhisperConfig",
             dict(d_model=384, encoder_layers=4, decoder_layers=4, encoder_attention_heads=6,
                  decoder_attention_heads=6, encoder_ffn_dim=1536, decoder_ffn_dim=1536,
                  vocab_size=51865, num_mel_bins=80),
             "WhisperForConditionalGeneration", 37_760_640, "openai/whisper-tiny (39M)",
             {"position": "sinusoidal + learned absolute"}),
    Released("clip-vit-base-patch32", "CLIPConfig", {}, "CLIPModel", 151_277_313,
             "openai/clip-vit-base-patch32 (151M; Radford et al. 2021)",
             {"layers": 24}),  # both towers: 12 text + 12 vision
    Released("mamba-130m", "MambaConfig",
             dict(hidden_size=768, num_hidden_layers=24, vocab_size=50280, state_size=16),
             "MambaForCausalLM", 129_135_360, "state-spaces/mamba-130m-hf (130M)", {}),
)


#: Configs whose per-layer facts the tests check by hand against transformers' modeling code
#: (written as the released config.json files say; parameter counts are not asserted).
JAMBA_V01 = dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                 num_attention_heads=32, num_key_value_heads=8, vocab_size=65536,
                 attn_layer_period=8, attn_layer_offset=4, expert_layer_period=2,
                 expert_layer_offset=1, num_experts=16, num_experts_per_tok=2, mamba_d_state=16,
                 mamba_d_conv=4, mamba_expand=2)
QWEN3_NEXT_80B = dict(hidden_size=2048, num_hidden_layers=48, num_attention_heads=16,
                      num_key_value_heads=2, head_dim=256, full_attention_interval=4,
                      linear_num_key_heads=16, linear_num_value_heads=32,
                      linear_key_head_dim=128, linear_value_head_dim=128, linear_conv_kernel_dim=4,
                      num_experts=512, num_experts_per_tok=10, moe_intermediate_size=512,
                      shared_expert_intermediate_size=512, vocab_size=151936)
OLMO2_7B = dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                num_attention_heads=32, num_key_value_heads=32, vocab_size=100352,
                max_position_embeddings=4096)
PHI3_MINI_128K = dict(hidden_size=3072, intermediate_size=8192, num_hidden_layers=32,
                      num_attention_heads=32, vocab_size=32064, max_position_embeddings=131072,
                      original_max_position_embeddings=4096,
                      rope_scaling={"type": "longrope", "long_factor": [1.0] * 48,
                                    "short_factor": [1.0] * 48})
