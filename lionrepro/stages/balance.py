"""`lionrepro balance`: Algorithm 1 over training manifests -> the balanced training manifest and its counts."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionrepro.config import load_profile
from lionrepro.corpora import balanced_sampling


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifests", nargs="+", type=Path, help="training manifests (JSONL), one or several")
    parser.add_argument("--out", type=Path, required=True, help="balanced manifest to write (JSONL)")
    parser.add_argument(
        "--reading",
        choices=balanced_sampling.CHOICES,
        help="Stage-1 size reading, or none (Stage 1 skipped: an ablation) (default: the profile's)",
    )
    parser.add_argument("--seed", type=int, help="seed (default: the profile's)")


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    plan, counts = balanced_sampling.write_balanced_manifest(
        args.manifests,
        args.out,
        reading=args.reading or profile["balance"]["stage1_size"],
        seed=profile["seed"] if args.seed is None else args.seed,
        profile=profile["name"],
    )
    print("\n".join(balanced_sampling.describe(plan)))
    print(f"wrote {args.out} ({plan.indices.size} rows) and {counts}")
    return 0
