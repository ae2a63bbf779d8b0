"""`lionrepro evaluate --model ID_OR_DIR`: decode a test manifest with a model of any family the backends read ->
hypotheses JSONL and results JSON. Resumable, and sharded across processes under `torchrun`.

Defaults come from the profile's `[evaluate]` section; the test manifest defaults to the one `lionrepro data` wrote
(`<results>/data/summary.json`), the output folder to `<results>/evaluate/<model folder or hub name>`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tabulate import tabulate

from lionrepro.asr.backends.base import DECODERS
from lionrepro.asr.evaluation import score_checkpoint
from lionrepro.config import load_profile
from lionrepro.corpora.data_record import default_manifest
from lionrepro.provenance import results_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--model", help="a model folder or a hub id (from the local Hugging Face cache, offline)")
    model.add_argument("--checkpoint", help="a model folder (the same as --model)")
    parser.add_argument("--datasets", nargs="+", help="only these test sets (FLEURS, or ta/FLEURS); default: all")
    parser.add_argument("--limit", type=int, help="at most N utterances per test set")
    parser.add_argument("--manifest", type=Path, help="test manifest (default: the data stage's test manifest)")
    parser.add_argument("--out", type=Path, help="output folder (default: RESULTS/evaluate/<checkpoint name>)")
    parser.add_argument("--batch-size", type=int, help="utterances per decoding batch (default: the profile's)")
    parser.add_argument(
        "--decoder",
        choices=DECODERS,
        help="generate: transformers' loop; static: a static cache, CUDA graphs on a GPU, rows leaving the batch as "
        "they end (Qwen3-ASR and MERaLiON-2 checkpoints; default: the profile's)",
    )
    parser.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--seed", type=int, help="seed recorded with the results (default: the profile's)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _print_summary(results: dict) -> None:
    rows = [
        [key, entry["metric"], entry["utterances"], entry["error_rate"]] for key, entry in results["datasets"].items()
    ]
    print(tabulate(rows, ["dataset", "metric", "utterances", "error %"], tablefmt="github", floatfmt=".2f"))
    lid = results["implicit_lid"]["per_language"]
    rows = [[code, entry["average"], entry["pooled"], 100 * lid[code]] for code, entry in results["languages"].items()]
    print(
        tabulate(
            rows, ["language", "mean of sets %", "pooled %", "in spoken language %"], tablefmt="github", floatfmt=".2f"
        )
    )
    average = results["average_12"]
    print(
        f"12-benchmark average: {'n/a' if average is None else f'{average:.2f}'}; "
        f"in spoken language overall: {100 * results['implicit_lid']['overall']:.1f}%; "
        f"{results['decoding']['utterances_per_second'] or 0:.1f} utterances/s"
    )


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    model = args.model or args.checkpoint
    out = args.out or results_dir() / "evaluate" / Path(model).name
    results = score_checkpoint(
        model,
        args.manifest or default_manifest("test"),
        out,
        profile,
        seed=profile["seed"] if args.seed is None else args.seed,
        device=args.device,
        progress=not args.quiet,
        batch_size=args.batch_size,
        datasets=args.datasets,
        limit=args.limit,
        decoder=args.decoder,
        stage="evaluate",
    )
    if int(os.environ.get("RANK", "0")) == 0:
        _print_summary(results)
        print(f"wrote {out}")
    return 0
