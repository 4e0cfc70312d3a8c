"""How long and how much memory does the spec sheet of a 70B-parameter config take, next to
``accelerate estimate-memory`` on the same config?

Method. Llama-2-70B's config (68,976,648,192 parameters) is written to a temporary folder with
``LlamaConfig.save_pretrained``: a folder with only ``config.json``. Each tool runs in a fresh
Python process (so imports and peak memory are its own), ``--repeats`` times, alternating order:

- whichmodel: ``whichmodel.inspect("hf:DIR")`` — builds the model on the meta device, counts
  parameters, counts FLOPs with FlopCounterMode on a meta forward of the full context (4,096
  tokens), KV cache, design fields, files.
- accelerate: ``accelerate estimate-memory`` first asks the Hub for the repository
  (``huggingface_hub.model_info``), which this machine cannot reach. So we run the same steps its
  ``create_empty_model`` + ``gather_data`` take after that call, with accelerate's own functions:
  ``AutoConfig.from_pretrained(DIR)``, ``init_empty_weights()``, ``AutoModel.from_config(config,
  dtype=float32)``, ``calculate_maximum_sizes(model)``.

Each child reports the time of its imports (torch, transformers and the Llama model code,
``import_s``), of its work after them (``work_s``) and its peak RSS
(``ru_maxrss``); the parent measures the whole process (``process_s``, imports included).
Timings on a shared machine are noisy: we print the median and min/max of the repeats.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WHICHMODEL = """
import json, resource, sys, time
start = time.perf_counter()
import torch, transformers, whichmodel.sources, whichmodel.spec
transformers.LlamaForCausalLM, transformers.LlamaModel  # import the model code (lazy)
imports = time.perf_counter() - start
start = time.perf_counter()
sheet = whichmodel.sources.inspect("hf:" + sys.argv[1])
work = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
print(json.dumps({"import_s": imports, "work_s": work, "rss_bytes": rss,
                  "params": sheet.size.total.value,
                  "flops_per_token": sheet.compute.forward_flops.value,
                  "flops_source": sheet.compute.forward_flops.source,
                  "weights_bytes_bf16": sheet.size.bytes_at.value["bf16"]}))
"""

ACCELERATE = """
import json, resource, sys, time
start = time.perf_counter()
import torch, transformers
from accelerate import init_empty_weights
from accelerate.utils import calculate_maximum_sizes
transformers.LlamaForCausalLM, transformers.LlamaModel  # import the model code (lazy)
imports = time.perf_counter() - start
start = time.perf_counter()
config = transformers.AutoConfig.from_pretrained(sys.argv[1])
with init_empty_weights():
    model = transformers.AutoModel.from_config(config, dtype=torch.float32)
total, largest = calculate_maximum_sizes(model)
work = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
print(json.dumps({"import_s": imports, "work_s": work, "rss_bytes": rss,
                  "params": sum(p.numel() for p in model.parameters()),
                  "fp32_bytes": total}))
"""


def run(code: str, folder: Path) -> dict[str, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True,
                         text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from transformers import LlamaConfig

    folder = Path(tempfile.mkdtemp()) / "llama-2-70b"
    LlamaConfig(hidden_size=8192, intermediate_size=28672, num_hidden_layers=80,
                num_attention_heads=64, num_key_value_heads=8, vocab_size=32000,
                max_position_embeddings=4096, architectures=["LlamaForCausalLM"]
                ).save_pretrained(folder)
    runs: dict[str, list[dict[str, float]]] = {"whichmodel": [], "accelerate": []}
    run(WHICHMODEL, folder)  # warm the page cache for both (same libraries)
    for i in range(args.repeats):
        order = [("whichmodel", WHICHMODEL), ("accelerate", ACCELERATE)]
        for name, code in order if i % 2 == 0 else order[::-1]:
            runs[name].append(run(code, folder))
    for name, results in runs.items():
        print(f"{name}:")
        for key in ("import_s", "work_s", "process_s", "rss_bytes"):
            values = [r[key] for r in results]
            scale, unit = (2**20, "MiB") if key == "rss_bytes" else (1, "s")
            print(f"  {key:10s} median {statistics.median(values) / scale:8.2f} {unit}   "
                  f"min {min(values) / scale:8.2f}   max {max(values) / scale:8.2f}")
        last = results[-1]
        facts = {k: v for k, v in last.items() if not k.endswith(("_s", "rss_bytes"))}
        print(f"  {facts}")


if __name__ == "__main__":
    main()
