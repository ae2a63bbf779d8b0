"""`lionrepro train`: fine-tune a base checkpoint on a manifest -> final model, training curve and `train.json`.

Settings come from the profile's `[train]` section, a few of them overridable here. The record states what the
"no language tags" claim inspects: the decoded supervised text of every distinct training row, summarised by its
`language X` prefix. Run the same command under `torchrun --nproc_per_node=N` for DDP; rank 0 writes the files.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from lionrepro.asr.finetune_format import training_targets
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.training_loop import NonFiniteLossError, TrainConfig, TrainResult, train
from lionrepro.config import load_profile
from lionrepro.corpora.manifest import read_manifest
from lionrepro.languages import names_a_language
from lionrepro.provenance import provenance, read_json, results_dir, write_json_atomic

RECORD = "train.json"
_EXAMPLES = 3


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The options `train` and `pretrain-base` share: where to write, and overrides of the profile's settings."""
    parser.add_argument("--out", type=Path, help="output folder (resumes from its last checkpoint if it has one)")
    parser.add_argument("--steps", type=int, help="optimizer steps (default: the profile's)")
    parser.add_argument("--max-minutes", type=float, help="wall-clock budget, 0 for none (default: the profile's)")
    parser.add_argument("--lr", type=float, help="peak learning rate (default: the profile's)")
    parser.add_argument("--batch-size", type=int, help="rows per micro-batch over all processes")
    parser.add_argument("--seed", type=int, help="seed (default: the profile's)")
    parser.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", type=Path, required=True, help="base checkpoint folder (lionrepro.asr.model layout)")
    parser.add_argument("--manifest", type=Path, help="training manifest (default: the data stage's balanced one)")
    parser.add_argument(
        "--tags",
        action=argparse.BooleanOptionalAction,
        help="targets `language {Name}<asr_text>...` (ablation) instead of `language None<asr_text>...` "
        "(the paper's recipe; default: the profile's)",
    )
    add_training_arguments(parser)


def data_summary() -> dict[str, Any]:
    """What `lionrepro data` wrote: the paths of the split manifests and of the balanced training manifest."""
    path = results_dir() / "data" / "summary.json"
    if not path.exists():
        raise SystemExit(f"{path} not found: run `lionrepro data` or pass --manifest")
    return read_json(path)


def training_config(section: dict[str, Any], args: argparse.Namespace, profile: dict, **fixed: Any) -> TrainConfig:
    """The profile section's settings under the command line's, with the profile's seed unless a section sets one."""
    overrides = {
        "steps": args.steps,
        "max_minutes": args.max_minutes,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "device": args.device,
        "seed": args.seed,
        "progress": False if args.quiet else None,
        **fixed,
    }
    return TrainConfig.from_section({"seed": profile["seed"], **section}, **overrides)


def target_check(rows: list[dict], processor: Any, *, tags: bool) -> dict[str, Any]:
    """The decoded supervised text of each distinct row, summarised: its prefixes, and how many name a language.

    A target depends only on the row's language and text, so one row per (language, text) covers every target.
    """
    distinct = list({(row["language"], row["text"]): row for row in rows}.values())
    targets = training_targets(distinct, processor, tags=tags)
    prefixes = Counter(target.split("<asr_text>", 1)[0] for target in targets)
    naming = sum(count for prefix, count in prefixes.items() if names_a_language(prefix))
    return {
        "tags": tags,
        "rows": len(distinct),
        "prefixes": dict(prefixes.most_common()),
        "naming_a_language": naming,
        "examples": targets[:_EXAMPLES],
    }


def write_record(
    out: Path, result: TrainResult, config: TrainConfig, profile: dict, rows: list[dict], **fields: Any
) -> Path:
    """`train.json`: provenance, settings, how the run ended, and what it trained on."""
    path = out / RECORD
    write_json_atomic(
        path,
        {
            "provenance": provenance(
                profile=profile["name"], seed=config.seed, config=dataclasses.asdict(config), **fields
            ),
            "result": dataclasses.asdict(result),
            "rows_per_language": dict(sorted(Counter(row["language"] for row in rows).items())),
        },
    )
    return path


def run_training(
    config: TrainConfig, model: Any, processor: Any, rows: list[dict], out: Path, profile: dict, **fields: Any
) -> int:
    """Train, then (rank 0) write the record with the target check; a NaN/inf loss is reported, exit status 1."""
    try:
        result = train(config, model, processor, rows, out)
    except NonFiniteLossError as error:
        print(error, file=sys.stderr)
        return 1
    if result.rank != 0:
        return 0
    targets = target_check(rows, processor, tags=config.tags)
    record = write_record(out, result, config, profile, rows, training_targets=targets, **fields)
    loss = "none this session" if result.loss is None else f"{result.loss:.3f}"
    print(
        f"{result.steps} steps ({result.stopped_by}) in {result.wall_s:.0f} s, {result.steps_per_second:.2f} steps/s "
        f"this session, {result.audio_seconds / max(result.wall_s, 1e-9):.0f} audio s/s, last loss {loss}; "
        f"targets' prefixes {targets['prefixes']}"
    )
    print(f"wrote {result.model_dir}, {result.curve} and {record}")
    return 0


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    config = training_config(profile.get("train", {}), args, profile, tags=args.tags)
    manifest = args.manifest or Path(data_summary()["balanced_manifest"])
    out = args.out or results_dir() / "train" / f"{manifest.stem}-{'tags' if config.tags else 'no-tags'}"
    model, processor = load_checkpoint(args.base)
    rows = read_manifest(manifest)
    return run_training(
        config, model, processor, rows, out, profile, stage="train", base=str(args.base), manifest=str(manifest)
    )
