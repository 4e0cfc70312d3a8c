"""How close do the demo's models and a tiny LLM run to this machine's limits?

Method: ``whichmodel machine`` at ``--threads`` (from the store when a reliable measurement is
there; measured again, up to three times, until reliable), then ``whichmodel bench`` of

- the demo's four PyTorch models (trained once by :func:`whichmodel.demo.prepare_demo`) at
  batch 1 and 64 on an (8, 8) digit: the figures ``whichmodel demo``'s cost table shows at b=64;
- a tiny random ``LlamaForCausalLM`` built here from a config (as the tests build theirs: 4
  layers, hidden 256, 8 heads sharing 2 K/V heads, vocabulary 4096; 19.5 MB in fp32), saved with
  a word-level tokenizer, original (fp32) and bf16, forward passes at batch 1 and 8 over 32-word
  prompts, and greedy decode of 32 new tokens after a 32-token prompt at batch 1 and 8 with the
  KV cache (3 s per timed configuration: its calls are slower);
- a small one (8 layers, hidden 512, vocabulary 8192; 122 MB in fp32, more than a last-level
  cache holds), fp32 at batch 1, so that decode reads its weights from memory.

Each model's roofline (:mod:`whichmodel.bench.roofline`) is printed as one row per variant and
batch size, then the decode points against the bandwidth bound. The 1-minute load average before
and after is printed: rerun on a quiet machine before quoting a figure. A figure, not a test.

    python benchmarks/roofline.py [--workdir .whichmodel/roofline] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from whichmodel.bench.base import GenerationConfig
from whichmodel.bench.machine import machine
from whichmodel.bench.roofline import ModelRoofline
from whichmodel.bench.run import BenchConfig, rooflines, run
from whichmodel.report.bench import roofline_notes
from whichmodel.report.roofline import pct

LLAMA = {"vocab_size": 4096, "hidden_size": 256, "intermediate_size": 688,
         "num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 2,
         "max_position_embeddings": 2048}
#: Its weights (122 MB in fp32) do not fit a last-level cache: decode reads them from memory.
SMALL_LLAMA = LLAMA | {"vocab_size": 8192, "hidden_size": 512, "intermediate_size": 1376,
                       "num_hidden_layers": 8}


def build_llama(folder: Path, config: dict[str, int]) -> str:
    """A random Llama of ``config`` and a word-level tokenizer, saved in ``folder``."""
    if not (folder / "config.json").is_file():
        import torch
        from tokenizers import Tokenizer, models, pre_tokenizers
        from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

        words = [f"w{i}" for i in range(config["vocab_size"] - 4)]
        vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", "<s>", "</s>", *words])}
        core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
        core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>",
                                            eos_token="</s>", pad_token="<pad>",
                                            unk_token="<unk>")
        torch.manual_seed(0)
        llama = LlamaConfig(**config, bos_token_id=2, eos_token_id=3, pad_token_id=0)
        LlamaForCausalLM(llama).eval().save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
    return f"hf:{folder}"


def _row(name: str, roof: ModelRoofline) -> list[str]:
    out = []
    for c in roof.calls:
        gflops = "—" if c.flops_per_s is None else f"{c.flops_per_s / 1e9:.2f}"
        gbs = "—" if c.bytes_per_s is None else f"{c.bytes_per_s / 1e9:.2f}"
        out.append(f"{name:<10} {c.variant:<9} {c.batch_size:>5} {c.dtype or '—':>5} "
                   f"{gflops:>9} {pct(c.flops_pct):>8} {gbs:>8} {pct(c.bandwidth_pct):>8} "
                   f"{c.intensity or 0:>9.3g} {c.ridge or 0:>6.3g} {c.bound or '—':>8}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=".whichmodel/roofline")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    store = str(work / "store.db")
    print(f"load average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for _ in range(3):  # a disturbed measurement is not kept: measure again
        limits = machine(threads=args.threads, store=store)
        if limits.reliable:
            break
    from whichmodel.demo import TORCH_MODELS, prepare_demo

    demo = prepare_demo(work / "demo")
    refs = [r for r in demo.refs if r.startswith("torch:")]
    vision = BenchConfig(refs=tuple(refs), batch_sizes=(1, 64), input_shape=(8, 8),
                         threads=args.threads, store=store)
    llm = BenchConfig(refs=(build_llama(work / "tiny-llama", LLAMA),), batch_sizes=(1, 8),
                      input_shape=(32,), variants=("original", "bf16"), threads=args.threads,
                      budget_s=3.0,  # its calls are slower: more time to settle
                      generation=GenerationConfig(prompt_tokens=(32,), new_tokens=(32,),
                                                  batch_sizes=(1, 8), kv_cache=(True,)),
                      store=store)
    small = BenchConfig(refs=(build_llama(work / "small-llama", SMALL_LLAMA),),
                        batch_sizes=(1,), input_shape=(32,), threads=args.threads, budget_s=3.0,
                        generation=GenerationConfig(prompt_tokens=(32,), new_tokens=(32,),
                                                    batch_sizes=(1,), kv_cache=(True,)),
                        store=store)
    named = []
    for names, config in ((TORCH_MODELS, vision), (("tiny-llama",), llm),
                          (("small-llama",), small)):
        profiles = run(config)
        named += list(zip(names, profiles, rooflines(config, profiles), strict=True))
    print(f"machine: {limits.hardware.get('cpu')}, {limits.threads} thread(s), reliable: "
          f"{limits.reliable} {'; '.join(limits.unreliable)}")
    print(f"{'model':<10} {'variant':<9} {'batch':>5} {'dtype':>5} {'GFLOP/s':>9} "
          f"{'%peak':>8} {'GB/s':>8} {'%BW':>8} {'FLOP/B':>9} {'ridge':>6} {'bound':>8}")
    for name, profile, roof in named:
        print("\n".join(_row(name, roof)))
        if not profile.reliable:
            print(f"  {name}: unreliable latency: {'; '.join(profile.unreliable)}")
    for name, _, roof in named:
        for line in roofline_notes(roof)[:-1]:  # the last is the machine's roof: said below
            print(f"  {name}: {line}")
    print(roofline_notes(named[-1][2])[-1])
    print(f"load average (1, 5, 15 min) after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
