"""`lionrepro train`: fine-tune a base checkpoint on a manifest -> final model, training curve and `train.json`.

Settings come from the profile's `[train]` section, a few of them overridable here; `batch_size` is per process (per
device). The base is a folder in either Qwen3-ASR layout or a hub id from the local Hugging Face cache; its own
tokenizer and processor come with it (the tiny profile's base carries the BPE that `pretrain-base` trained, a released
Qwen3-ASR carries Qwen's). The record (see lionrepro/asr/finetuning.py) states what the "no language tags" claim
inspects. Run the same command under `torchrun --nproc_per_node=N` for DDP; rank 0 writes the files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lionrepro.asr.finetuning import run_training
from lionrepro.asr.model import load_checkpoint
from lionrepro.config import load_profile
from lionrepro.corpora.data_record import data_summary
from lionrepro.corpora.manifest import read_manifest
from lionrepro.provenance import results_dir
from lionrepro.stages import preflight
from lionrepro.stages.options import add_training_arguments, training_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base",
        help="base checkpoint: a folder (either Qwen3-ASR layout) or a hub id from the local Hugging Face cache "
        "(default: the profile's [pretrain] base, else model/ under its [pretrain] out)",
    )
    parser.add_argument("--manifest", type=Path, help="training manifest (default: the data stage's balanced one)")
    parser.add_argument(
        "--tags",
        action=argparse.BooleanOptionalAction,
        help="targets `language {Name}<asr_text>...` (ablation) instead of `language None<asr_text>...` "
        "(the paper's recipe; default: the profile's)",
    )
    add_training_arguments(parser)


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    config = training_config(profile.get("train", {}), args, profile, tags=args.tags)
    splits = () if args.manifest else ("balanced",)
    base = preflight.check(
        args.profile, profile, base=args.base, splits=splits, device=args.device, manifest=args.manifest
    )
    manifest = args.manifest or Path(data_summary()["balanced_manifest"])
    out = args.out or results_dir() / "train" / f"{manifest.stem}-{'tags' if config.tags else 'no-tags'}"
    model, processor = load_checkpoint(base.folder)
    rows = read_manifest(manifest)
    return run_training(
        config, model, processor, rows, out, profile, stage="train", base=base.name, base_source=base.record(),
        manifest=str(manifest),
    )  # fmt: skip
