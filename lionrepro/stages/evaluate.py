"""`lionrepro evaluate`: decode a test manifest with a checkpoint -> hypotheses JSONL and results JSON.

Defaults come from the profile's `[evaluate]` section; the test manifest defaults to the one `lionrepro data` wrote
(`<results>/data/summary.json`), the output folder to `<results>/evaluate/<checkpoint folder name>`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tabulate import tabulate

from lionrepro.asr.evaluation import score_checkpoint
from lionrepro.config import load_profile
from lionrepro.corpora.data_record import default_manifest
from lionrepro.provenance import results_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="model folder (lionrepro.asr.model checkpoint)")
    parser.add_argument("--manifest", type=Path, help="test manifest (default: the data stage's test manifest)")
    parser.add_argument("--out", type=Path, help="output folder (default: RESULTS/evaluate/<checkpoint name>)")
    parser.add_argument("--batch-size", type=int, help="utterances per decoding batch (default: the profile's)")
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
        f"{results['decoding']['utterances_per_second']:.1f} utterances/s"
    )


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    out = args.out or results_dir() / "evaluate" / args.checkpoint.name
    results = score_checkpoint(
        args.checkpoint,
        args.manifest or default_manifest("test"),
        out,
        profile,
        seed=profile["seed"] if args.seed is None else args.seed,
        device=args.device,
        progress=not args.quiet,
        batch_size=args.batch_size,
        stage="evaluate",
    )
    _print_summary(results)
    print(f"wrote {out}")
    return 0
