"""How long does the spec sheet of a multi-GB GGUF file take, next to the ``gguf`` package's own
``GGUFReader`` on the same file?

Method. A file shaped like Llama-3-8B in Q4_K (32 blocks, 4096 wide, 8 K/V heads, 8,030,261,248
parameters, a 128,256-token vocabulary with its types and 280,000 merges) is written with
``gguf.GGUFWriter``: the header and tensor table in full, the 4.2 GiB of tensor data as a sparse
hole (nothing reads it). Each reader runs ``--repeats`` times in this process, after one warm-up
run (imports); we print the median and min/max. Timings on a shared machine are noisy.

    python benchmarks/gguf_sheet.py --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

LAYERS, WIDTH, FFN, KV, VOCAB = 32, 4096, 14336, 1024, 128_256


def write_llama3_shaped(path: Path) -> int:
    """Write the file; returns its size in bytes (tensor data left as a hole)."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(LAYERS)
    writer.add_context_length(8192)
    writer.add_embedding_length(WIDTH)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(32)
    writer.add_head_count_kv(8)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(500000.0)
    writer.add_rope_dimension_count(128)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list([f"tok{i}" for i in range(VOCAB)])
    writer.add_token_types([1] * VOCAB)
    writer.add_token_merges([f"a{i} b{i}" for i in range(280_000)])
    shapes = {"token_embd.weight": (VOCAB, WIDTH), "output_norm.weight": (WIDTH,),
              "output.weight": (VOCAB, WIDTH)}
    for i in range(LAYERS):
        for name, shape in (("attn_q", (WIDTH, WIDTH)), ("attn_k", (KV, WIDTH)),
                            ("attn_v", (KV, WIDTH)), ("attn_output", (WIDTH, WIDTH)),
                            ("ffn_gate", (FFN, WIDTH)), ("ffn_up", (FFN, WIDTH)),
                            ("ffn_down", (WIDTH, FFN)), ("attn_norm", (WIDTH,)),
                            ("ffn_norm", (WIDTH,))):
            shapes[f"blk.{i}.{name}.weight"] = shape
    for name, shape in shapes.items():
        kind = gguf.GGMLQuantizationType.Q4_K if len(shape) > 1 else (
            gguf.GGMLQuantizationType.F32)
        block, size = gguf.GGML_QUANT_SIZES[kind]
        writer.add_tensor_info(name, shape, np.dtype(np.float32),
                               int(np.prod(shape)) // block * size, raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    out = writer.fout[0]
    start = out.tell() + -out.tell() % 32
    out.truncate(start + sum(t.nbytes + -t.nbytes % 32 for t in writer.tensors[0].values()))
    writer.close()
    return path.stat().st_size


def timed(work: Callable[[], object], repeats: int) -> list[float]:
    work()  # warm-up: imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import gguf

    import whichmodel

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "llama3-8b-q4_k.gguf"
        size = write_llama3_shaped(path)
        sheet = whichmodel.inspect(f"gguf:{path}")
        print(f"{path.name}: {size / 2**30:.1f} GiB, {sheet.size.total.value:,} parameters, "
              f"{sheet.storage.bits_per_weight.value:.2f} bits per weight")
        for name, work in (("whichmodel.inspect", lambda: whichmodel.inspect(f"gguf:{path}")),
                           ("gguf.GGUFReader", lambda: gguf.GGUFReader(path))):
            times = timed(work, args.repeats)
            print(f"  {name:<20} median {statistics.median(times):.3f} s "
                  f"(min {min(times):.3f}, max {max(times):.3f}, {args.repeats} runs)")


if __name__ == "__main__":
    main()
