"""`lionrepro balance`: Algorithm 1 over training manifests -> the balanced training manifest and its counts."""

from __future__ import annotations

import argparse
from pathlib import Path

from lionrepro.config import load_profile
from lionrepro.corpora import balanced_sampling as balance
from lionrepro.corpora.manifest import read_manifest, write_manifest
from lionrepro.provenance import provenance, write_json_atomic


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifests", nargs="+", type=Path, help="training manifests (JSONL), one or several")
    parser.add_argument("--out", type=Path, required=True, help="balanced manifest to write (JSONL)")
    parser.add_argument("--reading", choices=balance.READINGS, help="Stage-1 size reading (default: the profile's)")
    parser.add_argument("--seed", type=int, help="seed (default: the profile's)")


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    reading = args.reading or profile["balance"]["stage1_size"]
    seed = profile["seed"] if args.seed is None else args.seed
    rows = [row for path in args.manifests for row in read_manifest(path)]
    plan = balance.balance([r["language"] for r in rows], [r["dataset"] for r in rows], seed=seed, reading=reading)
    write_manifest(args.out, (rows[i] for i in plan.indices))
    counts_path = args.out.with_suffix(".counts.json")
    write_json_atomic(
        counts_path,
        {
            "provenance": provenance(profile=profile["name"], seed=seed, inputs=[str(p) for p in args.manifests]),
            **plan.counts(),
        },
    )
    for lang in plan.languages:
        print(f"{lang.language}: {lang.after_stage1} after Stage 1, x{lang.replication} -> {lang.final}")
    print(f"wrote {args.out} ({plan.indices.size} rows) and {counts_path}")
    return 0
