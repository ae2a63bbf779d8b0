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
from typing import Any

from lionrepro import paper
from lionrepro.config import load_profile
from lionrepro.corpora import balanced_sampling, real_corpora
from lionrepro.corpora.data_record import paper_comparison_table, summary_table, write_data_record
from lionrepro.corpora.ingest import summarise
from lionrepro.corpora.layouts import expected_folder
from lionrepro.corpora.registry import corpus
from lionrepro.errors import UserError
from lionrepro.provenance import results_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Also after the stage name (`lionrepro data --profile tiny`); absent, the top-level `--profile` stands.
    parser.add_argument("--profile", default=argparse.SUPPRESS, help="tiny (default), paper, or a profile .toml")
    parser.add_argument("--scale", type=float, help="Table 1 counts x scale per split (default: the profile's)")
    parser.add_argument("--seed", type=int, help="seed of the corpus and of the balancing (default: the profile's)")
    parser.add_argument("--vocab-size", type=int, help="words per language (default: the profile's)")
    parser.add_argument("--workers", type=int, help="synthesis processes, or decoding threads (default: the profile's)")
    parser.add_argument("--cache-dir", type=Path, help="cache root (default: the profile's)")
    parser.add_argument(
        "--pretrain",
        action="store_true",
        help="also build the `pretrain` split ([data] pretrain_per_language), which only `pretrain-base` reads",
    )
    real = parser.add_argument_group("the real corpora (profile `paper`)")
    real.add_argument("--corpora-dir", type=Path, help="folder holding each corpus as its archive unpacks")
    real.add_argument(
        "--datasets", help="comma-separated Table 1 keys, e.g. en/LibriSpeech,zh/AISHELL-1 (default: all)"
    )
    real.add_argument("--splits", help="comma-separated splits among train,valid,test (default: all three)")


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    corpus = profile.get("data", {}).get("corpus")
    if corpus == "real":
        return _real(args, profile)
    if corpus != "lion12":
        raise UserError(f"profile {profile['name']!r} asks for corpus {corpus!r}: use 'lion12' or 'real'")
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
        "lion12",
        corpus_build.manifests,
        balanced,
        counts,
        corpus_build.summary,
        corpus_build.skipped,
        profile=profile["name"],
        seed=config.seed,
        config=config.content(),
        wall_s=seconds,
        key=corpus_build.key,
        root=str(corpus_build.root),
        synthesis=corpus_build.synthesis,
        synthesised_now=corpus_build.synthesised,
    )
    print(f"wrote {out}")
    return 0


def _real(args: argparse.Namespace, profile: dict[str, Any]) -> int:
    """The real corpora from `--corpora-dir`: manifests, Algorithm 1 on the train split, the summary beside Table 1.
    The exit status is 1 when a corpus asked for was not there (the others are read all the same)."""
    if args.corpora_dir is None:
        raise UserError("the real corpora are read from local copies: pass --corpora-dir ROOT (see REPRODUCE.md)")
    keys = args.datasets.split(",") if args.datasets else list(real_corpora.ALL)
    splits = args.splits.split(",") if args.splits else list(paper.SPLITS)
    if set(splits) - set(paper.SPLITS):
        raise UserError(f"unknown splits {sorted(set(splits) - set(paper.SPLITS))}: use {','.join(paper.SPLITS)}")
    unknown = sorted(set(keys) - set(real_corpora.ALL))
    if unknown:
        raise UserError(f"unknown datasets {unknown}: use Table 1's keys, e.g. {','.join(real_corpora.ALL[:3])}")
    folders = [expected_folder(corpus(*key.split("/")), args.corpora_dir) for key in keys]
    if not any(folder.is_dir() for folder in folders):
        raise UserError(
            f"none of the {len(keys)} corpora asked for is under {args.corpora_dir} (e.g. {folders[0]}): "
            "REPRODUCE.md (Real corpora) gives each one's folder and where to download it"
        )
    out = results_dir() / "data"
    started = time.perf_counter()
    built = real_corpora.build_real(
        args.corpora_dir,
        keys,
        splits,
        out,
        max_seconds=profile["data"]["max_seconds"],
        workers=args.workers or profile["data"].get("workers", 1),
    )
    seconds = time.perf_counter() - started
    balanced = counts = None
    if "train" in built.manifests:
        balanced = built.manifests["train"].with_name("train_balanced.jsonl")
        plan, counts = balanced_sampling.write_balanced_manifest(
            [built.manifests["train"]],
            balanced,
            reading=profile["balance"]["stage1_size"],
            seed=profile["seed"] if args.seed is None else args.seed,
            profile=profile["name"],
        )
        print("\n".join(balanced_sampling.describe(plan)))
    summary = built.summary()
    print(paper_comparison_table(summary))
    record = write_data_record(
        "real",
        built.manifests,
        balanced,
        counts,
        summary,
        summarise(built.results),
        profile=profile["name"],
        seed=profile["seed"],
        config={"corpora_dir": str(args.corpora_dir), "datasets": keys, "splits": splits, **profile["data"]},
        wall_s=seconds,
        missing=built.missing,
    )
    print(f"wrote {', '.join(str(p) for p in built.manifests.values()) or 'no manifest'} and {record}")
    if built.missing:
        print(f"not read, missing under {args.corpora_dir}: {', '.join(built.missing)}", file=sys.stderr)
        return 1
    return 0
