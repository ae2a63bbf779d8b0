"""`lionrepro data`: build or load the corpora -> per-split manifests, plus the balanced training manifest.

With `[data] corpus = "lion12"` (the tiny profile) it builds the synthetic Lion-12 corpus, or reuses it from the cache,
prints a summary shaped like Table 1, runs Algorithm 1 over the training manifest (so the balanced manifest and its
counts are there for training and for the claims), and records where everything is in `<results>/data/summary.json`.
The `pretrain` split (24,000 utterances in the tiny profile, three times Table 1's) is built only with `--pretrain`:
only `lionrepro pretrain-base` reads it, and Table 1's splits are the same with or without it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lionrepro.config import load_profile
from lionrepro.corpora import balanced_sampling
from lionrepro.corpora.data_record import summary_table, write_data_record


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Also after the stage name (`lionrepro data --profile tiny`); absent, the top-level `--profile` stands.
    parser.add_argument("--profile", default=argparse.SUPPRESS, help="tiny (default), paper, or a profile .toml")
    parser.add_argument("--scale", type=float, help="Table 1 counts x scale per split (default: the profile's)")
    parser.add_argument("--seed", type=int, help="seed of the corpus and of the balancing (default: the profile's)")
    parser.add_argument("--vocab-size", type=int, help="words per language (default: the profile's)")
    parser.add_argument("--workers", type=int, help="synthesis processes at once (default: the profile's)")
    parser.add_argument("--cache-dir", type=Path, help="cache root (default: the profile's)")
    parser.add_argument(
        "--pretrain",
        action="store_true",
        help="also build the `pretrain` split ([data] pretrain_per_language), which only `pretrain-base` reads",
    )


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    corpus = profile.get("data", {}).get("corpus")
    if corpus != "lion12":
        print(
            f"profile {profile['name']!r} asks for corpus {corpus!r}; this stage builds only the synthetic 'lion12' "
            "corpus so far (the real corpora load through lionrepro.corpora.registry)",
            file=sys.stderr,
        )
        return 2
    from lionrepro.corpora.lion12.build import Lion12Config, build  # eSpeak NG and datasets only when the stage runs

    config = Lion12Config.from_profile(
        profile,
        scale=args.scale,
        seed=args.seed,
        vocab_size=args.vocab_size,
        workers=args.workers,
        cache_dir=args.cache_dir,
        pretrain_per_language=None if args.pretrain else 0,
    )
    started = time.perf_counter()
    corpus_build = build(config)
    seconds = time.perf_counter() - started
    how = f"synthesised {corpus_build.synthesised} utterances" if corpus_build.synthesised else "reused the cache"
    print(f"Lion-12 {corpus_build.key} at {corpus_build.root}: {how} in {seconds:.1f} s")
    print(summary_table(corpus_build.summary))

    balanced = corpus_build.root / "manifests" / "train_balanced.jsonl"
    plan, counts = balanced_sampling.write_balanced_manifest(
        [corpus_build.manifests["train"]],
        balanced,
        reading=profile["balance"]["stage1_size"],
        seed=config.seed,
        profile=profile["name"],
    )
    print("\n".join(balanced_sampling.describe(plan)))
    print(f"wrote {balanced} ({plan.indices.size} rows) and {counts}")
    out = write_data_record(
        corpus_build,
        balanced,
        counts,
        profile=profile["name"],
        seed=config.seed,
        config=config.content(),
        wall_s=seconds,
    )
    print(f"wrote {out}")
    return 0
