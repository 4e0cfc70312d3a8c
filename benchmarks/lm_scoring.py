"""How fast does whichmodel score text with a causal LM, against a bare batched loop and lm-eval?

Method. A GPT-2-shaped model (``--layers`` layers, width ``--width``, 256 positions, random
weights) with a byte-level BPE tokenizer of ~2,000 tokens trained here, is saved to a folder.
Two tasks over it, on JSONL files written here:

- multiple choice: ``--questions`` questions of 20-60 words, four choices of 1-5 words each;
- perplexity: ``--texts`` texts of 20-400 words, the longer ones past the 256 positions, so
  they are scored in lm-eval's rolling windows.

Three whole processes per task, each with one thread (``OMP_NUM_THREADS=1``), the same batch
size (``--batch-size`` sequences per forward pass), run ``--repeats`` times in alternating
order; we report each one's median wall time and its ratio to the bare loop's:

- ``bare``: a script written here: transformers loads the folder, the requests are tokenized as
  lm-eval does, sorted by length, right-padded into batches, one forward and a float32
  log-softmax per batch (no caching, no statistics, nothing stored); it prints the metric;
- ``whichmodel``: ``whichmodel compare hf:DIR --task ... --batch-size B --no-cost`` against a
  fresh store (predictions, 1,000 bootstrap resamples, results written);
- ``lm-eval``: ``python -m lm_eval run --model hf ... --batch_size B`` on the same files (its
  task YAMLs written here).

Each process also runs on the files' first two rows: its start-up and fixed costs (imports,
loading, for whichmodel its analysis and results). ``rest s`` is the median minus that: what
scoring the other rows costs, and its ratio to the bare loop's. Each process's metric is
printed too: the three must agree (to 1e-4) or the timing means nothing. The machine is
shared: the 1-minute load average is printed before and after.

    python benchmarks/lm_scoring.py            # --repeats 3 --batch-size 8
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = r'''
import json, sys, re, math
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

task, folder, data, batch_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tok = AutoTokenizer.from_pretrained(folder)
model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
L = model.config.n_positions
prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
rows = [json.loads(line) for line in open(data, encoding="utf-8")]
spans = []  # (tokens, k scored at the end, row)
for i, row in enumerate(rows):
    if task == "mc":
        ctx = tok(row["context"]).input_ids
        for choice in row["choices"]:
            whole = tok(row["context"] + " " + choice).input_ids
            spans.append((whole[-(L + 1):], len(whole) - len(ctx), i))
    else:  # lm-eval's disjoint windows: prefix, then up to L new tokens per window
        t = tok(row["text"]).input_ids
        first = min(L, len(t))
        spans.append(([prefix] + t[:first], first, i))
        done = first
        while done < len(t):
            k = min(len(t) - done, L)
            spans.append((t[done + k - L - 1 : done + k], k, i))
            done += k
order = sorted(range(len(spans)), key=lambda j: -len(spans[j][0]))
logprob = [0.0] * len(spans)
with torch.inference_mode():
    for s in range(0, len(order), batch_size):
        chunk = order[s : s + batch_size]
        width = len(spans[chunk[0]][0]) - 1
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, j in enumerate(chunk):
            ids[r, : len(spans[j][0]) - 1] = torch.tensor(spans[j][0][:-1])
        logp = torch.log_softmax(model(input_ids=ids).logits, dim=-1)
        for r, j in enumerate(chunk):
            seq, k, _ = spans[j]
            n = len(seq) - 1
            logprob[j] = logp[r, n - k : n].gather(1, torch.tensor(seq[-k:])[:, None]).sum().item()
if task == "mc":
    start, right = 0, 0
    for i, row in enumerate(rows):
        n = len(row["choices"])
        scores = logprob[start : start + n]
        right += scores.index(max(scores)) == row["label"]
        start += n
    print(json.dumps({"accuracy": right / len(rows)}))
else:
    total = [0.0] * len(rows)
    for (seq, k, i), lp in zip(spans, logprob):
        total[i] += lp
    words = sum(len(re.split(r"\s+", r["text"])) for r in rows)
    print(json.dumps({"word_perplexity": math.exp(-sum(total) / words)}))
'''

WORDS = (
    "the", "a", "cat", "dog", "bird", "sat", "ran", "flew", "on", "under", "over", "mat", "log",
    "tree", "far", "away", "and", "then", "slept", "café", "naïve", "über", "straße", "crème",
    "brûlée", "façade", "coffee", "tea", "water", "river", "mountain", "north", "south",
    "quickly", "slowly", "house", "garden", "window", "door", "light", "dark", "morning",
    "evening", "city", "road", "train", "station", "music", "story", "book", "paper", "letter",
    "friend", "family", "child", "mother", "father", "teacher", "market", "bread", "cheese",
)


def build(folder: Path, *, layers: int, width: int) -> None:
    """Save the GPT-2-shaped model and its BPE tokenizer into ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2000, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    core.train_from_iterator(sentences(2000, 0, 5, 30), trainer=trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    config = GPT2Config(
        vocab_size=len(tok), n_positions=256, n_embd=width, n_layer=layers, n_head=width // 64,
        bos_token_id=eot, eos_token_id=eot,
    )  # fmt: skip
    torch.manual_seed(0)
    GPT2LMHeadModel(config).eval().save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)


def sentences(n: int, seed: int, low: int, high: int) -> list[str]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(low, high + 1)))) for _ in range(n)]


def write_data(root: Path, questions: int, texts: int) -> tuple[Path, Path]:
    import numpy as np

    rng = np.random.default_rng(1)
    mc, lm = root / "mc.jsonl", root / "texts.jsonl"
    rows = [
        {"context": c, "choices": sentences(4, 100 + i, 1, 5), "label": int(rng.integers(0, 4))}
        for i, c in enumerate(sentences(questions, 2, 20, 60))
    ]
    mc.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    lines = [json.dumps({"text": t}, ensure_ascii=False) for t in sentences(texts, 3, 20, 400)]
    lm.write_text("\n".join(lines), encoding="utf-8")
    return mc, lm


def lm_eval_tasks(root: Path, mc: Path, lm: Path) -> Path:
    folder = root / "lm-eval-tasks"
    folder.mkdir(exist_ok=True)
    common = (
        "dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {path}\n"
        "test_split: test\n"
    )
    (folder / "bench_mc.yaml").write_text(
        "task: bench_mc\n" + common.format(path=json.dumps(str(mc)))
        + "output_type: multiple_choice\ndoc_to_text: '{{context}}'\n"
        "doc_to_choice: '{{choices}}'\ndoc_to_target: '{{label}}'\n"
        "metric_list:\n  - metric: acc\n",
        encoding="utf-8",
    )  # fmt: skip
    (folder / "bench_ppl.yaml").write_text(
        "task: bench_ppl\n" + common.format(path=json.dumps(str(lm)))
        + "output_type: loglikelihood_rolling\ndoc_to_text: ''\ndoc_to_target: '{{text}}'\n"
        "metric_list:\n  - metric: word_perplexity\n",
        encoding="utf-8",
    )  # fmt: skip
    return folder


def commands(task: str, root: Path, model: Path, data: Path, batch: int, run: int) -> dict:
    """The three processes' command lines for ``task`` (``mc`` or ``ppl``), and how each one's
    metric is read from its output."""
    wm_task = "multiple-choice" if task == "mc" else "language-modeling"
    store = root / f"store-{task}-{run}.db"
    out = root / f"lm-eval-out-{task}-{run}"
    return {
        "bare": [sys.executable, str(root / "bare.py"), task, str(model), str(data), str(batch)],
        "whichmodel": [
            sys.executable, "-m", "whichmodel", "compare", f"hf:{model}", "--data", str(data),
            "--task", wm_task, "--batch-size", str(batch), "--no-cost", "--store", str(store),
            "--json", *(["--input-cols", "text"] if task == "ppl" else []),
        ],
        "lm-eval": [
            sys.executable, "-m", "lm_eval", "run", "--model", "hf", "--model_args",
            f"pretrained={model},dtype=float32", "--tasks", f"bench_{task}", "--include_path",
            str(root / "lm-eval-tasks"), "--device", "cpu", "--batch_size", str(batch),
            "--output_path", str(out),
        ],
    }  # fmt: skip


def metric(name: str, task: str, stdout: str, root: Path, run: int) -> float:
    key = "accuracy" if task == "mc" else "word_perplexity"
    if name == "bare":
        return float(json.loads(stdout.strip().splitlines()[-1])[key])
    if name == "whichmodel":
        results = json.loads(stdout)
        return float(next(m["value"] for m in results["metrics"] if m["name"] == key))
    [file] = (root / f"lm-eval-out-{task}-{run}").glob("*/results_*.json")
    theirs = "acc,none" if task == "mc" else "word_perplexity,none"
    return float(json.loads(file.read_text())["results"][f"bench_{task}"][theirs])


def timed(command: list[str], env: dict[str, str], name: str) -> tuple[float, str]:
    """(wall seconds, stdout) of one whole process."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def report(
    task: str,
    values: dict[str, float],
    times: dict[str, list[float]],
    startup: dict[str, list[float]],
) -> None:
    """Medians, ratios to the bare loop, and the same with each process's start-up (its run on
    two rows) taken off: what scoring the rest costs."""
    median = {name: statistics.median(runs) for name, runs in times.items()}
    fixed = {name: statistics.median(runs) for name, runs in startup.items()}
    scoring = {name: median[name] - fixed[name] for name in median}
    print(f"\n{task}: " + ", ".join(f"{k} {v:.6g}" for k, v in values.items()))
    print(f"  {'process':<12}{'median s':>10}{'÷ bare':>8}{'2 rows s':>10}{'rest s':>8}"
          f"{'÷ bare':>8}   runs (s)")
    for name, runs in times.items():
        listed = " ".join(f"{t:.2f}" for t in runs)
        print(f"  {name:<12}{median[name]:>10.2f}{median[name] / median['bare']:>8.2f}"
              f"{fixed[name]:>10.2f}{scoring[name]:>8.2f}{scoring[name] / scoring['bare']:>8.2f}"
              f"   {listed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--questions", type=int, default=800)
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="lm-scoring-"))
    root.mkdir(parents=True, exist_ok=True)
    model = root / "gpt2-bench"
    if not (model / "config.json").is_file():
        build(model, layers=args.layers, width=args.width)
    mc, lm = write_data(root, args.questions, args.texts)
    lm_eval_tasks(root, mc, lm)
    (root / "bare.py").write_text(BARE, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_DATASETS_CACHE": str(root / "datasets-cache")}  # fmt: skip
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs; batch "
          f"{args.batch_size}, {args.layers} layers x {args.width}, {args.repeats} repeats")
    for task, data in (("mc", mc), ("ppl", lm)):
        small = data.with_name(f"{data.stem}-2.jsonl")  # start-up and fixed costs
        small.write_text("\n".join(data.read_text(encoding="utf-8").splitlines()[:2]), "utf-8")
        times: dict[str, list[float]] = {"bare": [], "whichmodel": [], "lm-eval": []}
        startup: dict[str, list[float]] = {name: [] for name in times}
        values: dict[str, float] = {}
        for run in range(args.repeats):
            names = list(times) if run % 2 == 0 else list(reversed(times))  # alternate
            for name in names:
                for rows, into in ((data, times), (small, startup)):
                    command = commands(task, root, model, rows, args.batch_size, run)[name]
                    seconds, stdout = timed(command, env, name)
                    into[name].append(seconds)
                    if rows == data:
                        values[name] = metric(name, task, stdout, root, run)
                    shutil.rmtree(root / f"lm-eval-out-{task}-{run}", ignore_errors=True)
                    (root / f"store-{task}-{run}.db").unlink(missing_ok=True)
        report(task, values, times, startup)
    print(f"\nload after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
