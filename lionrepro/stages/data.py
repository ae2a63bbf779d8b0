"""`lionrepro data`: build or load the corpora -> per-split manifests, plus the balanced training manifest.

With `[data] corpus = "lion12"` (the tiny profile) it builds the synthetic Lion-12 corpus, or reuses it from the cache,
prints a summary shaped like Table 1, runs Algorithm 1 over the training manifest through the `balance` stage (so the
balanced manifest and its counts are there for training and for the claims), and records where everything is in
`<results>/data/summary.json`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from tabulate import tabulate

from lionrepro import paper
from lionrepro.config import load_profile
from lionrepro.languages import language
from lionrepro.provenance import provenance, results_dir, write_json_atomic
from lionrepro.stages import balance as balance_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Also after the stage name (`lionrepro data --profile tiny`); absent, the top-level `--profile` stands.
    parser.add_argument("--profile", default=argparse.SUPPRESS, help="tiny (default), paper, or a profile .toml")
    parser.add_argument("--scale", type=float, help="Table 1 counts x scale per split (default: the profile's)")
    parser.add_argument("--seed", type=int, help="seed of the corpus and of the balancing (default: the profile's)")
    parser.add_argument("--vocab-size", type=int, help="words per language (default: the profile's)")
    parser.add_argument("--workers", type=int, help="synthesis processes at once (default: the profile's)")
    parser.add_argument("--cache-dir", type=Path, help="cache root (default: the profile's)")


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
    )
    started = time.perf_counter()
    corpus_build = build(config)
    seconds = time.perf_counter() - started
    how = f"synthesised {corpus_build.synthesised} utterances" if corpus_build.synthesised else "reused the cache"
    print(f"Lion-12 {corpus_build.key} at {corpus_build.root}: {how} in {seconds:.1f} s")
    print(summary_table(corpus_build.summary))

    balanced = corpus_build.root / "manifests" / "train_balanced.jsonl"
    train = corpus_build.manifests["train"]
    balance_stage.run(
        argparse.Namespace(profile=args.profile, manifests=[train], out=balanced, reading=None, seed=config.seed)
    )
    record: dict[str, Any] = {
        "provenance": provenance(profile=profile["name"], seed=config.seed, config=config.content(), wall_s=seconds),
        "corpus": "lion12",
        "key": corpus_build.key,
        "root": str(corpus_build.root),
        "manifests": {split: str(path) for split, path in corpus_build.manifests.items()},
        "balanced_manifest": str(balanced),
        "balanced_counts": str(balanced.with_suffix(".counts.json")),
        "summary": corpus_build.summary,
        "skipped": corpus_build.skipped,
        "synthesis": corpus_build.synthesis,
        "synthesised_now": corpus_build.synthesised,
    }
    out = results_dir() / "data" / "summary.json"
    write_json_atomic(out, record)
    print(f"wrote {out}")
    return 0


def summary_table(summary: list[dict[str, Any]]) -> str:
    """Samples and hours per dataset and split, with a total row, as Table 1 prints them."""
    header = ["Language", "Dataset"] + [f"{split} {unit}" for split in paper.SPLITS for unit in ("S", "H")]
    rows = [
        [language(entry["language"]).name, entry["dataset"]]
        + [value for split in paper.SPLITS for value in (entry["samples"][split], f"{entry['hours'][split]:.3f}")]
        for entry in summary
    ]
    totals = [
        value
        for split in paper.SPLITS
        for value in (
            sum(e["samples"][split] for e in summary),
            f"{sum(e['hours'][split] for e in summary):.3f}",
        )
    ]
    return tabulate([*rows, ["Total", "", *totals]], headers=header, disable_numparse=True, stralign="right")
