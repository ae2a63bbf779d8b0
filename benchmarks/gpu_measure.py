"""Every GPU measurement in one process, results written as they come: decode speed lever by lever under Table 3's
protocol against each model's weight-bandwidth floor (issue 12), training cost (Qwen3-ASR 0.6B and 1.7B, fp32
weights + bf16 autocast, AdamW), then, when asked (`--skip` alone), issue 3's speed (4 architectures, `generate`, 32
tokens each).

Run by benchmarks/gpu.sh on a lent GPU with nothing to download. `--smoke` runs the very same code on the CPU
at one layer per stack (fp32, or bf16 with autocast, slow on a CPU) so that the script is known to work first time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from tabulate import tabulate

from lionrepro.speed.decode_levers import LEVERS, DecodeSettings, run_decode
from lionrepro.speed.decode_table import decode_table
from lionrepro.speed.latency import SpeedSettings, run_speed, speed_table
from lionrepro.speed.measurement_run import run_measurement
from lionrepro.speed.training_cost import CostSettings, cost_table, run_cost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the results files")
    parser.add_argument("--smoke", action="store_true", help="CPU, one layer per stack: checks the script runs")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--train-batch-size", type=int, default=32, help="the upstream recipe's per-device batch")
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--decode-clips", type=int, default=10, help="batch-1 clips per model and lever")
    parser.add_argument("--decode-batch-size", type=int, default=DecodeSettings.batch_size)
    parser.add_argument(
        "--decode-batches", type=int, default=DecodeSettings.batches, help="0: batch 1 only, no RTFx (compiles less)"
    )
    parser.add_argument("--decode-models", nargs="*", default=list(DecodeSettings.models))
    parser.add_argument("--decode-levers", nargs="*", default=list(DecodeSettings.levers), choices=LEVERS)
    parser.add_argument(
        "--decode-deadline-s",
        type=float,
        default=240.0,
        help="no model or lever of the decode phase starts later (recorded as not run), leaving the 5 minutes' rest "
        "to the cost phase (~20 s on an H200); every lever's results are saved as it ends",
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=["speed"],
        choices=["decode", "speed", "cost"],
        help="phases left out; by default issue 3's speed phase (generate, 32 tokens), which the decode phase's "
        "`generate` lever supersedes under Table 3's protocol: `--skip` alone runs every phase",
    )
    parser.add_argument(
        "--smoke-dtype", default="float32", choices=["float32", "bfloat16"], help="bf16 is very slow on a CPU"
    )
    args = parser.parse_args(argv)

    if args.smoke:
        device, layers, dtype = "cpu", (1, 1), args.smoke_dtype
        args.new_tokens, args.clips, args.warmup, args.batch_size, args.batches = 3, 2, 1, 2, 1
        args.train_batch_size, args.train_steps = 2, 1
        args.decode_clips, args.decode_batch_size, args.decode_batches = 2, 2, min(args.decode_batches, 1)
    else:
        if not torch.cuda.is_available():
            print("no CUDA device: use --smoke for the CPU check", file=sys.stderr)
            return 2
        device, layers, dtype = "cuda", None, "bfloat16"
        torch.backends.cuda.matmul.allow_tf32 = True
    args.out.mkdir(parents=True, exist_ok=True)
    tag = "smoke" if args.smoke else "cuda"
    began = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - began:7.1f}s] {message}", flush=True)

    tables = []
    if "decode" not in args.skip:
        settings = DecodeSettings(
            device=device,
            dtype=dtype,
            models=tuple(args.decode_models),
            levers=tuple(args.decode_levers),
            clips=args.decode_clips,
            batch_size=args.decode_batch_size,
            batches=args.decode_batches,
            layers=layers,
            max_tokens=4 if args.smoke else None,
            deadline_s=args.decode_deadline_s,
        )
        path = args.out / f"decode_{tag}.json"
        phase = time.perf_counter()
        decode = run_measurement("decode", settings, run_decode, path, log=log)
        log(f"decode phase done in {time.perf_counter() - phase:.1f}s -> {path}")
        tables.append(tabulate(*reversed(decode_table(decode)), tablefmt="github"))
    if "cost" not in args.skip:
        settings = CostSettings(
            device=device,
            batch_size=args.train_batch_size,
            steps=args.train_steps,
            warmup=2 if not args.smoke else 1,
            full_depth=True,
            layers=layers,
            autocast_bf16=dtype == "bfloat16",
        )
        path = args.out / f"cost_{tag}.json"
        phase = time.perf_counter()
        cost = run_measurement("cost", settings, run_cost, path, log=log)
        log(f"cost phase done in {time.perf_counter() - phase:.1f}s -> {path}")
        tables.append(tabulate(*reversed(cost_table(cost)), tablefmt="github"))
    if "speed" not in args.skip:
        settings = SpeedSettings(
            device=device,
            dtype=dtype,
            new_tokens=args.new_tokens,
            warmup=args.warmup,
            clips=args.clips,
            batch_size=args.batch_size,
            batches=args.batches,
            full_depth=True,
            layers=layers,
        )
        path = args.out / f"speed_{tag}.json"
        phase = time.perf_counter()
        speed = run_measurement("speed", settings, run_speed, path, log=log)
        log(f"speed phase done in {time.perf_counter() - phase:.1f}s -> {path}")
        tables.append(tabulate(*reversed(speed_table(speed)), tablefmt="github"))
    summary = "\n\n".join(tables)
    (args.out / f"summary_{tag}.md").write_text(summary + "\n", encoding="utf-8")
    print(summary, flush=True)
    log("all done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
